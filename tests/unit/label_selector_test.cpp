#include "model/label_selector.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lvsrs {
namespace {

LabelSelector Parse(const char* text, std::vector<std::string>* errs = nullptr) {
  std::vector<std::string> e;
  auto s = ParseLabelSelector(nlohmann::json::parse(text), "spec.nodeSelector", e);
  if (errs)
    *errs = e;
  else
    EXPECT_TRUE(e.empty()) << e.front();
  return s;
}

TEST(LabelSelector, EmptySelectsEveryNode) {
  EXPECT_TRUE(Parse("{}").Matches({}));
  EXPECT_TRUE(Parse("{}").Matches({{"a", "b"}}));
}

TEST(LabelSelector, MatchLabelsAndExpressionsAreAnded) {
  auto s = Parse(R"({"matchLabels": {"lvsdr.io/real-server": "true"},
                     "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]},
                                          {"key": "drain", "operator": "DoesNotExist"}]})");
  EXPECT_TRUE(s.Matches({{"lvsdr.io/real-server", "true"}, {"zone", "a"}}));
  EXPECT_FALSE(s.Matches({{"lvsdr.io/real-server", "true"}, {"zone", "c"}}));
  EXPECT_FALSE(s.Matches({{"lvsdr.io/real-server", "true"}, {"zone", "a"}, {"drain", ""}}));
  EXPECT_FALSE(s.Matches({{"zone", "a"}}));
}

TEST(LabelSelector, NotInIsSatisfiedByAMissingKeyAsInKubernetes) {
  auto s = Parse(R"({"matchExpressions": [{"key": "role", "operator": "NotIn", "values": ["director"]}]})");
  EXPECT_TRUE(s.Matches({}));
  EXPECT_TRUE(s.Matches({{"role", "rs"}}));
  EXPECT_FALSE(s.Matches({{"role", "director"}}));
}

TEST(LabelSelector, RejectsMalformedSelectorsWithPaths) {
  std::vector<std::string> e;
  Parse(R"({"matchExpressions": [{"key": "a", "operator": "Near"}], "matchFields": {}})", &e);
  ASSERT_EQ(e.size(), 2u);
  EXPECT_NE(e[0].find("spec.nodeSelector.matchExpressions[0].operator"), std::string::npos);
  EXPECT_NE(e[1].find("spec.nodeSelector.matchFields: unknown field"), std::string::npos);
  Parse(R"({"matchExpressions": [{"key": "a", "operator": "In"}]})", &e);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("must be non-empty"), std::string::npos);
  Parse(R"({"matchLabels": {"bad key!": "x"}})", &e);
  ASSERT_EQ(e.size(), 1u);
}

TEST(LabelSelector, ParsesCommandLineLabels) {
  std::map<std::string, std::string> out;
  std::string err;
  ASSERT_TRUE(ParseLabelList("lvsdr.io/real-server=true,zone=a", out, err)) << err;
  EXPECT_EQ(out.at("lvsdr.io/real-server"), "true");
  EXPECT_EQ(out.at("zone"), "a");
  EXPECT_FALSE(ParseLabelList("=x", out, err));
  EXPECT_FALSE(ParseLabelList("a=b c", out, err));
}

}  // namespace
}  // namespace lvsrs
