// Bugs fuzz_yaml_documents found in the VirtualIP file parser, each pinned by its input
// (tests/fuzz/regressions/fuzz_yaml_documents): the parse must end, with a clear error or a
// value, instead of hanging, exhausting memory, overflowing the stack or throwing past the
// caller (which stopped `run --file` on a bad edit instead of keeping the last good state).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "model/virtual_ip_parse.h"
#include "support/netns.h"

namespace {

std::string Regression(const std::string& name) {
  std::ifstream in(lvsrs::testing::SourceDir() + "/tests/fuzz/regressions/fuzz_yaml_documents/" + name);
  EXPECT_TRUE(in) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Errors(const lvsrs::ParsedDocuments& d) {
  std::string all;
  for (const auto& e : d.errors) all += e + "\n";
  return all;
}

TEST(YamlFuzzRegression, StrayCommaAfterFlowMapIsAnErrorNotAnEndlessLoop) {
  for (const char* f : {"yaml_cpp_loop_stray_comma.yaml", "yaml_cpp_loop_flow_map.yaml"}) {
    const auto d = lvsrs::ParseVirtualIpDocuments(Regression(f), "f.yaml");
    ASSERT_EQ(d.errors.size(), 1u) << f;
    EXPECT_NE(d.errors[0].find("f.yaml: line 1"), std::string::npos) << d.errors[0];
    EXPECT_NE(d.errors[0].find("made no progress"), std::string::npos) << d.errors[0];
  }
}

TEST(YamlFuzzRegression, BillionLaughsIsRefused) {
  const auto d = lvsrs::ParseVirtualIpDocuments(Regression("billion_laughs.yaml"), "f.yaml");
  ASSERT_EQ(d.errors.size(), 1u);
  EXPECT_NE(d.errors[0].find("aliases expand to more values"), std::string::npos) << d.errors[0];
}

TEST(YamlFuzzRegression, OutOfRangeNumbersAreFieldErrors) {
  const auto d = lvsrs::ParseVirtualIpDocuments(Regression("stod_out_of_range.yaml"), "f.yaml");
  EXPECT_TRUE(d.vips.empty());
  EXPECT_NE(Errors(d).find("spec.arp.ignore: must be an integer, got string"), std::string::npos) << Errors(d);
}

TEST(YamlFuzzRegression, LongDigitStringIsAFieldErrorNotAStackOverflow) {
  const auto d = lvsrs::ParseVirtualIpDocuments(Regression("long_integer_regex_stack.yaml"), "f.yaml");
  EXPECT_NE(Errors(d).find("spec.arp.ignore: must be an integer, got string"), std::string::npos) << Errors(d);
}

TEST(YamlFuzzRegression, AliasesWithinBudgetStillWork) {
  const auto d = lvsrs::ParseVirtualIpDocuments(
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: lvsdr.io/v1alpha1, kind: VirtualIP, metadata: {name: a},\n"
      "   spec: {addresses: [192.0.2.1], arp: &arp {ignore: 2, announce: 2}}}\n"
      "- {apiVersion: lvsdr.io/v1alpha1, kind: VirtualIP, metadata: {name: b},\n"
      "   spec: {addresses: [192.0.2.3], arp: *arp}}\n",
      "f.yaml");
  EXPECT_EQ(Errors(d), "");
  ASSERT_EQ(d.vips.size(), 2u);
  EXPECT_EQ(d.vips[1].arp.ignore, 2);
}

}  // namespace
