// The long-running loop: drift is repaired, file edits converge, exit leaves traffic alone.
#include <signal.h>

#include <thread>

#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class Drift : public KernelTest {
 protected:
  std::unique_ptr<Process> Start(const std::string& file, const std::string& resync = "200ms",
                                 const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{
        "ip",          "netns",    "exec",        ns_->name(), OperatorBinary(),  "run", "--file", file,
        "--state-dir", StateDir(), "--node-name", "rs1",       "--resync-period", resync};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(args, (dir_ / "operator.log").string());
  }
  std::string Log() {
    std::ifstream log(dir_ / "operator.log");
    return std::string((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  }
  // IPv6 duplicate address detection ends with an address notification of its own, which would
  // run a full pass; tests that must tell a poll from a pass wait for it first.
  bool NoTentativeAddresses() { return ns_->Exec("test -z \"$(ip -6 addr show tentative)\"").exit_code == 0; }
  bool Conformant(const std::string& file) {
    return ns_->Operator("check --file " + file + " --node-name rs1").exit_code == 0;
  }
};

TEST_F(Drift, DeletedAddressRouteAndResetSysctlAreRepaired) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));

  ASSERT_EQ(ns_->Exec("ip addr del 192.0.2.10/32 dev lo").exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return HasAddress("lo", "192.0.2.10/32"); }));
  ASSERT_EQ(ns_->Exec("ip -6 addr del 2001:db8::10/128 dev lo").exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return HasAddress("lo", "2001:db8::10/128"); }));
  ASSERT_EQ(ns_->Exec("ip route del 192.0.2.10/32 dev lo").exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return !Route("192.0.2.10").is_null(); }));
  // No netlink event exists for sysctls: the resync period brings it back.
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 0);
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.all.arp_ignore") == 1; }));
  EXPECT_TRUE(Eventually([&] { return Conformant(file); }));
  EXPECT_EQ(CountAddress("192.0.2.10"), 1);

  op.reset();
  std::ifstream log(dir_ / "operator.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("repaired 1 address"), std::string::npos) << text;
  EXPECT_NE(text.find("repaired 1 route"), std::string::npos) << text;
  EXPECT_NE(text.find("repaired 1 sysctl"), std::string::npos) << text;
}

// Between full passes only the ARP sysctls are polled (every --resync-period); addresses and
// routes must then come back through netlink notifications alone. The safety-net full pass is
// an hour away here, so neither repair can be its doing.
TEST_F(Drift, SysctlPollAndNotificationsRepairWithoutPeriodicFullPasses) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"2001:db8::10\""));
  ASSERT_TRUE(Eventually([&] { return NoTentativeAddresses(); }));
  auto op = Start(file, "200ms", {"--full-resync-period", "1h"});
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));

  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 0);
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.all.arp_ignore") == 1; }));
  ns_->SetSysctl("net.ipv4.conf.lo.arp_announce", 0);
  ns_->SetSysctl("net.ipv4.conf.default.arp_ignore", 0);
  EXPECT_TRUE(Eventually([&] {
    return ns_->Sysctl("net.ipv4.conf.lo.arp_announce") == 2 && ns_->Sysctl("net.ipv4.conf.default.arp_ignore") == 1;
  }));
  ASSERT_EQ(ns_->Exec("ip addr del 192.0.2.10/32 dev lo").exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return HasAddress("lo", "192.0.2.10/32"); }));
  ASSERT_EQ(ns_->Exec("ip route del 192.0.2.10/32 dev lo").exit_code, 0);
  EXPECT_TRUE(Eventually([&] { return !Route("192.0.2.10").is_null(); }));
  // And the sysctls again, after the passes those events ran.
  ns_->SetSysctl("net.ipv4.conf.all.arp_announce", 1);
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.all.arp_announce") == 2; }));
  EXPECT_TRUE(Eventually([&] { return Conformant(file); }));

  op.reset();
  const std::string text = Log();
  EXPECT_NE(text.find("repaired 1 address"), std::string::npos) << text;
  EXPECT_NE(text.find("repaired 1 route"), std::string::npos) << text;
  EXPECT_NE(text.find("repaired 1 sysctl"), std::string::npos) << text;
}

TEST_F(Drift, PerInterfaceSysctlsArePolledThroughTheLinkDump) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  arp: {scope: PerInterface}\n"));
  ASSERT_TRUE(Eventually([&] { return NoTentativeAddresses(); }));
  auto op = Start(file, "200ms", {"--full-resync-period", "1h"});
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  ns_->SetSysctl("net.ipv4.conf.eth0.arp_ignore", 0);
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.eth0.arp_ignore") == 1; }));
  op.reset();
  EXPECT_NE(Log().find("repaired 1 sysctl"), std::string::npos) << Log();
}

TEST_F(Drift, FileEditsConvergeAndTheLastVipRestoresSysctls) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"") + "---\n" + VipDoc("api", "\"192.0.2.11\""));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  EXPECT_TRUE(Eventually([&] { return !HasAddress("lo", "192.0.2.11/32") && Route("192.0.2.11").is_null(); }));
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  WriteFile("vips.yaml", "# no VirtualIPs left\n");
  EXPECT_TRUE(Eventually([&] { return !HasAddress("lo", "192.0.2.10/32"); }));
  EXPECT_TRUE(Eventually([&] { return ns_->Sysctl("net.ipv4.conf.all.arp_ignore") == 0; }));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.lo.arp_announce"), 0);
}

TEST_F(Drift, ABadEditKeepsTheLastGoodStateInForce) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"not-an-ip\""));
  // Give the loop several resync periods to (wrongly) act on it.
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\", \"192.0.2.12\""));
  EXPECT_TRUE(Eventually([&] { return HasAddress("lo", "192.0.2.12/32"); }));
  op.reset();
  std::ifstream log(dir_ / "operator.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("spec.addresses[1]: \"not-an-ip\" is not an IPv4 or IPv6 address"), std::string::npos) << text;
  EXPECT_NE(text.find("keeping the last good VirtualIPs"), std::string::npos);
}

TEST_F(Drift, StoppingTheAgentWithdrawsNothing) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\""));
  auto op = Start(file);
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  op->Signal(SIGTERM);
  EXPECT_EQ(op->Wait(std::chrono::seconds(5)), 0);
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(Route("192.0.2.10").is_null());
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  // SIGKILL mid-flight and a restart: the new process adopts its own state without duplicates.
  auto again = Start(file);
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  again->Signal(SIGKILL);
  again->Wait(std::chrono::seconds(5));
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);
  EXPECT_EQ(CountAddress("192.0.2.10"), 1);
}

TEST_F(Drift, InterfacesAddedLaterGetPerInterfaceSettings) {
  const auto file = WriteFile("vips.yaml", VipDoc("web", "\"192.0.2.10\"", "  arp: {scope: PerInterface}\n"));
  auto op = Start(file, "30s");  // the link event, not the timer, must do it
  ASSERT_TRUE(Eventually([&] { return Conformant(file); }));
  ASSERT_EQ(ns_->Exec("ip link add eth1 type veth peer name peer1").exit_code, 0);
  EXPECT_TRUE(Eventually([&] {
    return ns_->Sysctl("net.ipv4.conf.eth1.arp_ignore") == 1 && ns_->Sysctl("net.ipv4.conf.peer1.arp_announce") == 2;
  }));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 0);
}

}  // namespace
}  // namespace lvsrs::testing
