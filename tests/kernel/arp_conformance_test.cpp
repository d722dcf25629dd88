// What "conformant" promises, checked where a neighbour sees it: the real binary converges a
// namespace, then a neighbour namespace asks for each VIP with the real `arping` across a veth.
// Every claim of `check` and `run --once` about ARP is held against that reply (or silence),
// including the negative controls where the node does answer.
#include "kernel_fixture.h"

namespace lvsrs::testing {
namespace {

class ArpConformance : public KernelTest {
 protected:
  void SetUp() override {
    KernelTest::SetUp();
    nb_ = std::make_unique<TestNetns>("lvsrs-nb");
    ASSERT_EQ(ns_->Exec("ip link set peer0 netns " + nb_->name()).exit_code, 0);
    ASSERT_EQ(nb_->Exec("ip link set peer0 up && ip addr add 198.51.100.8/24 dev peer0").exit_code, 0);
  }
  void TearDown() override {
    nb_.reset();
    KernelTest::TearDown();
  }

  // Whether the real server replies to the neighbour's ARP request for ip (two tries, 2 s).
  bool AnsweredOnWire(const std::string& ip) {
    return nb_->Exec("arping -q -f -c 2 -w 2 -I peer0 " + ip).exit_code == 0;
  }
  nlohmann::json CheckJson(const std::string& file) {
    const auto r = ns_->Operator("check --output json --file " + file + " --node-name rs1");
    return nlohmann::json::parse(r.output.substr(r.output.find('{')));
  }
  // The ARP line of `check --output json` for ip.
  nlohmann::json ArpLine(const nlohmann::json& check, const std::string& ip) {
    for (const auto& c : check["checks"])
      if (c["step"] == "ARP for " + ip) return c;
    return nullptr;
  }

  std::unique_ptr<TestNetns> nb_;
};

const std::string kWeb = VipDoc("web", "\"192.0.2.10\"");
const std::string kOther = VipDoc("other", "\"192.0.2.20\"", "  arp: {ignore: 3}\n");

// Two teams' VirtualIPs on one node; `other` asks arp_ignore=3, and the node runs kube-proxy,
// which sets route_localnet=1. max() used to write 3, and the node then answered ARP for web's
// VIP while `check` said conformant.
TEST_F(ArpConformance, ASettingThatWouldExposeAnotherTeamsVipIsRefusedAndTheVipStaysSilent) {
  ns_->SetSysctl("net.ipv4.conf.all.route_localnet", 1);
  const auto file = WriteFile("vips.yaml", kWeb + "---\n" + kOther);
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;  // a refused VirtualIP: not conformant

  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(HasAddress("lo", "192.0.2.20/32"));
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_FALSE(AnsweredOnWire("192.0.2.10"));

  const auto check = CheckJson(file);
  EXPECT_FALSE(check["conformant"].get<bool>());
  // The reason names the setting and what it would expose where (a VIP of its own, or web's when
  // web decides first).
  std::string reason;
  for (const auto& c : check["checks"])
    if (c["step"] == "VirtualIP other") reason = c["actual"].get<std::string>();
  EXPECT_NE(reason.find("ignore: 3"), std::string::npos) << check.dump(2);
  EXPECT_NE(reason.find("answered on eth0"), std::string::npos) << reason;
  const auto line = ArpLine(check, "192.0.2.10");
  ASSERT_FALSE(line.is_null());
  EXPECT_TRUE(line["ok"].get<bool>()) << line.dump();

  // Negative control: what max() wrote. The neighbour now gets a reply, and check says so.
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 3);
  EXPECT_TRUE(AnsweredOnWire("192.0.2.10"));
  const auto exposed = ArpLine(CheckJson(file), "192.0.2.10");
  EXPECT_FALSE(exposed["ok"].get<bool>());
  EXPECT_EQ(exposed["actual"], "answered on eth0") << exposed.dump();
}

// Without route_localnet, 3 answers none of the operator's host-scope VIPs: both apply, the values
// written are the ones that answer least (1), and nothing is answered.
TEST_F(ArpConformance, CompatibleSettingsOfTwoTeamsBothApplyAndNothingIsAnswered) {
  const auto file = WriteFile("vips.yaml", kWeb + "---\n" + kOther);
  const auto r = ns_->Operator(Run("run --once --file " + file));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ns_->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_FALSE(AnsweredOnWire("192.0.2.10"));
  EXPECT_FALSE(AnsweredOnWire("192.0.2.20"));
  // Even with 3 written by hand the host-scope VIPs stay silent, as check says.
  ns_->SetSysctl("net.ipv4.conf.all.arp_ignore", 3);
  EXPECT_FALSE(AnsweredOnWire("192.0.2.20"));
  EXPECT_TRUE(ArpLine(CheckJson(file), "192.0.2.20")["ok"].get<bool>());
}

// An admin's stricter conf/eth0/arp_ignore=2 is no false alarm; an admin's 5 (answers every
// local address, whatever conf/all says) is reported, as the neighbour sees it.
TEST_F(ArpConformance, CheckAgreesWithTheWireAboutAnAdminsPerInterfaceValue) {
  const auto file = WriteFile("vips.yaml", kWeb);
  ASSERT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 0);

  ns_->SetSysctl("net.ipv4.conf.eth0.arp_ignore", 2);
  EXPECT_FALSE(AnsweredOnWire("192.0.2.10"));
  auto r = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(r.exit_code, 0) << r.output;

  ns_->SetSysctl("net.ipv4.conf.eth0.arp_ignore", 5);
  EXPECT_TRUE(AnsweredOnWire("192.0.2.10"));
  r = ns_->Operator("check --file " + file + " --node-name rs1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("answered on eth0"), std::string::npos) << r.output;
  // The operator does not lower a per-interface value it did not write in Global scope, so
  // `run --once` reports it too rather than claiming success.
  EXPECT_EQ(ns_->Operator(Run("run --once --file " + file)).exit_code, 1);
}

// A VIP on the NIC itself is answered there under arp_ignore 1: refused, never configured.
TEST_F(ArpConformance, AVipOnTheNicIsRefusedAndNeverAnswered) {
  const auto file = WriteFile("vips.yaml", VipDoc("onnic", "\"192.0.2.30\"", "  interface: eth0\n") + "---\n" + kWeb);
  const auto r = ns_->Operator(Run("run --once --file " + file));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_FALSE(HasAddress("eth0", "192.0.2.30/32"));
  EXPECT_TRUE(HasAddress("lo", "192.0.2.10/32"));
  EXPECT_FALSE(AnsweredOnWire("192.0.2.30"));
  EXPECT_FALSE(AnsweredOnWire("192.0.2.10"));
}

}  // namespace
}  // namespace lvsrs::testing
