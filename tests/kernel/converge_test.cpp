// run --file / check / cleanup converge and restore a namespace exactly.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class Converge : public KernelTest {};

const std::string kTwoVips = VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\"") + "---\n" +
                             VipDoc("api", "\"192.0.2.11\"", "  arp: {ignore: 1, announce: 2}\n");

TEST_F(Converge, TwoVirtualIpsConvergeAnEmptyNamespaceAndCheckPasses) {
  const auto file = WriteFile("vips.yaml", kTwoVips);
  const auto before = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(before.exit_code, 1) << before.output;
  EXPECT_NE(before.output.find("NOT conformant"), std::string::npos);

  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // The manual procedure's result, as `ip` shows it.
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_TRUE(HasAddress("lo", "192.0.2.11/32"));
  EXPECT_TRUE(HasAddress("lo", "2001:db8::10/128"));
  for (const auto& link : ns_->IpJson("addr show dev lo"))
    for (const auto& a : link["addr_info"])
      if (a["local"] == "192.0.2.10") {
        EXPECT_EQ(a.value("label", ""), "lo:lvsrs");
      }
  for (const char* dst : {"192.0.2.10", "192.0.2.11"}) {
    const auto route = Route(dst);
    ASSERT_FALSE(route.is_null()) << dst;
    EXPECT_EQ(route["dev"], "lo");
    EXPECT_EQ(route["protocol"].dump(), "\"245\"") << route.dump();
  }
  EXPECT_FALSE(Route("2001:db8::10", 6).is_null());
  for (const char* conf : {"all", "default", "lo"}) {
    EXPECT_EQ(ns_->Sysctl(std::string("net.ipv4.conf.") + conf + ".arp_ignore"), 1) << conf;
    EXPECT_EQ(ns_->Sysctl(std::string("net.ipv4.conf.") + conf + ".arp_announce"), 2) << conf;
  }
  const auto after = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(after.exit_code, 0) << after.output;
  EXPECT_NE(after.output.find("conformant"), std::string::npos);
}

TEST_F(Converge, SecondRunChangesNothingAndDuplicatesNothing) {
  const auto file = WriteFile("vips.yaml", kTwoVips);
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  const auto dry = ns_->Operator(Run("run --dry-run --file " + file));
  EXPECT_EQ(dry.exit_code, 0);
  EXPECT_NE(dry.output.find("nothing to do"), std::string::npos) << dry.output;
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_EQ(CountAddress("192.0.2.10"), 1);
  EXPECT_EQ(ns_->Routes(4).size(), 3u);  // eth0's subnet + two host routes
}

TEST_F(Converge, DryRunPrintsThePlanAndChangesNothing) {
  const auto file = WriteFile("vips.yaml", kTwoVips);
  const auto r = ns_->Operator(Run("run --dry-run --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("add address 192.0.2.10/32 on lo"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("set net.ipv4.conf.all.arp_ignore=1"), std::string::npos);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
}

TEST_F(Converge, CleanupReturnsTheNamespaceToExactlyItsEarlierState) {
  // An admin's earlier, non-default value must come back, not the kernel default.
  ns_->SetSysctl("net.ipv4.conf.all.arp_announce", 1);
  const auto addrs_before = AllAddresses();
  const auto routes4 = ns_->Routes(4), routes6 = ns_->Routes(6);
  const auto file = WriteFile("vips.yaml", kTwoVips);
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  ASSERT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 2);

  const auto r = ns_->Operator("cleanup --state-dir " + StateDir());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(AllAddresses(), addrs_before);
  EXPECT_EQ(ns_->Routes(4), routes4);
  EXPECT_EQ(ns_->Routes(6), routes6);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 1);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.default.arp_ignore"), 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.lo.arp_announce"), 0);
  const auto again = ns_->Operator("cleanup --state-dir " + StateDir());
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.output.find("nothing owned"), std::string::npos) << again.output;
}

TEST_F(Converge, PerInterfaceScopeLeavesAllAndDefaultAlone) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  arp: {scope: PerInterface}\n"));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.default.arp_ignore"), 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_announce"), 0);
  for (const char* dev : {"eth0", "peer0"}) {
    EXPECT_EQ(ns_->Sysctl(std::string("net.ipv4.conf.") + dev + ".arp_ignore"), 1) << dev;
    EXPECT_EQ(ns_->Sysctl(std::string("net.ipv4.conf.") + dev + ".arp_announce"), 2) << dev;
  }
  EXPECT_EQ(ns_->Operator("check --file " + file + " --node-name rs1").exit_code, 0);
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.eth0.arp_ignore"), 0);
}

TEST_F(Converge, CheckWithVipFlagsAndJsonOutput) {
  auto r = ns_->Operator("check --vip 192.0.2.10 --output json --node-name rs1");
  EXPECT_EQ(r.exit_code, 1);
  const auto j = nlohmann::json::parse(r.output);
  EXPECT_FALSE(j["conformant"].get<bool>());
  bool saw_address = false;
  for (const auto& c : j["checks"])
    if (c["step"] == "address 192.0.2.10/32 on lo") saw_address = c["actual"] == "absent" && !c["ok"].get<bool>();
  EXPECT_TRUE(saw_address) << r.output;
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  r = ns_->Operator("check --vip 192.0.2.10 --node-name rs1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ns_->Operator("check --vip 192.0.2.999 --node-name rs1").exit_code, 2);
  EXPECT_EQ(ns_->Operator("check --node-name rs1").exit_code, 2);
}

}  // namespace
}  // namespace lvsrs::testing
