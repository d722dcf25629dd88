// Bad input gets a clear error naming document and field, exit code 2, and changes nothing.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class Input : public KernelTest {};

TEST_F(Input, BadFilesAreRefusedWholeAndChangeNothing) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"apiVersion: [\n", "line "},
      {VipDoc("web", "\"192.0.2.10\"") + "---\n" + VipDoc("api", "\"192.0.2.300\""),
       "document 2 (VirtualIP \"api\"): spec.addresses[0]: \"192.0.2.300\" is not an IPv4 or IPv6 address"},
      {VipDoc("web", "\"192.0.2.10\"", "  hostRoute: maybe\n"), "spec.hostRoute: must be true or false"},
      {VipDoc("web", "\"192.0.2.10\"", "  arp: {ignore: 5}\n"), "spec.arp.ignore: 5 is not one of 0, 1, 2, 3, 8"},
      {VipDoc("web", "\"192.0.2.10\"", "  intreface: eth0\n"), "spec.intreface: unknown field"},
      {VipDoc("web", "192.0.2.10/32"), "spec.addresses[0]"},
  };
  const auto before = AllAddresses();
  for (const auto& [text, message] : cases) {
    const auto file = WriteFile("bad.yaml", text);
    for (const std::string& cmd : {Run("run --once --file " + file), Run("run --file " + file),
                                   std::string("check --node-name rs1 --file ") + file}) {
      const auto r = ns_->Operator(cmd);
      EXPECT_EQ(r.exit_code, 2) << cmd << "\n" << r.output;
      EXPECT_NE(r.output.find(message), std::string::npos) << r.output;
      EXPECT_NE(r.output.find(file), std::string::npos) << "the error names the file: " << r.output;
    }
  }
  EXPECT_EQ(AllAddresses(), before);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  EXPECT_FALSE(std::filesystem::exists(StateDir()));
}

TEST_F(Input, UsageErrorsExitTwo) {
  EXPECT_EQ(ns_->Operator("run --file /nonexistent/vips.yaml --node-name rs1").exit_code, 2);
  EXPECT_EQ(ns_->Operator("run --no-such-flag").exit_code, 2);
  EXPECT_EQ(ns_->Operator("run --file x --resync-period soon").exit_code, 2);
  EXPECT_EQ(ns_->Operator("frobnicate").exit_code, 2);
  EXPECT_EQ(ns_->Operator("check --output yaml --vip 192.0.2.1").exit_code, 2);
}

}  // namespace
}  // namespace lvsrs::testing
