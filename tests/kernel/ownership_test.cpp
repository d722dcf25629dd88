// Never delete or change what the operator did not create; adopt identical state.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class Ownership : public KernelTest {};

TEST_F(Ownership, ForeignAddressesRoutesAndSettingsSurviveEverything) {
  ASSERT_EQ(ns_->Exec("ip addr add 203.0.113.5/32 dev lo label lo:admin && "
                      "ip -6 addr add 2001:db8::5/128 dev lo && "
                      "ip route add 203.0.113.0/24 via 198.51.100.1 proto static && "
                      "ip route add 192.0.2.99/32 dev lo")
                .exit_code,
            0);
  ns_->SetSysctl("net.ipv4.conf.eth0.arp_ignore", 2);
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  // eth0's own arp_ignore=2 makes its effective value 2, not 1: stricter, the VIP stays
  // unanswered, so conformant (and the operator leaves the admin's value alone).
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  WriteFile("vips.yaml", "");
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);

  for (const char* a : {"127.0.0.1/8", "::1/128", "203.0.113.5/32", "2001:db8::5/128"})
    EXPECT_TRUE(HasAddress("lo", a)) << a;
  EXPECT_TRUE(HasAddress("eth0", "198.51.100.7/24"));
  EXPECT_FALSE(Route("203.0.113.0/24").is_null());
  EXPECT_FALSE(Route("192.0.2.99").is_null());
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.eth0.arp_ignore"), 2);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
}

TEST_F(Ownership, AdminsManualSetupIsAdoptedNotDuplicatedNorRemoved) {
  // The traditional rc.local lines.
  ASSERT_EQ(ns_->Exec("ip addr add 192.0.2.10/32 dev lo label lo:1 && ip route add 192.0.2.10/32 dev lo").exit_code, 0);
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_EQ(CountAddress("192.0.2.10"), 1);
  EXPECT_EQ(ns_->Routes(4).size(), 2u);  // eth0 subnet + the admin's host route, no second one
  ASSERT_EQ(ns_->Operator("cleanup --state-dir " + StateDir()).exit_code, 0);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(Route("192.0.2.10").is_null());
}

TEST_F(Ownership, TheNodesOwnAddressIsRefusedAndTheOtherVipsStillConverge) {
  const auto file =
      WriteFile("vips.yaml", VipDoc("oops", "\"198.51.100.7\"") + "---\n" + VipDoc("web", "\"192.0.2.10\""));
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("VirtualIP oops refused: 198.51.100.7 is already an address of this node on eth0"),
            std::string::npos)
      << r.output;
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(HasAddress("lo", "198.51.100.7/32"));
  EXPECT_TRUE(HasAddress("eth0", "198.51.100.7/24"));
  const auto check = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_NE(check.output.find("refused"), std::string::npos) << check.output;
}

TEST_F(Ownership, NodeSelectorDecidesWithFileModeLabels) {
  const auto file = WriteFile(
      "vips.yaml",
      VipDoc("web", "\"192.0.2.10\"", "  nodeSelector:\n    matchLabels: {lvsdr.io/real-server: \"true\"}\n"));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_FALSE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
  ASSERT_EQ(ns_->Operator(Run("run --once --node-labels lvsdr.io/real-server=true --file " + file)).exit_code, 0);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
}

}  // namespace
}  // namespace lvsrs::testing
