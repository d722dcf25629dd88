#include "reconcile/desired_state.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::BasicNode;
using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {{"lvsdr.io/real-server", "true"}}};

TEST(DesiredState, SelectorDecidesWhichNodesGetAVip) {
  auto web = MakeVip("web", {"192.0.2.10"});
  web.node_selector.match_labels["lvsdr.io/real-server"] = "true";
  auto other = MakeVip("other", {"192.0.2.20"});
  other.node_selector.match_labels["role"] = "director";
  const auto d = BuildDesiredState({web, other}, kNode, BasicNode());
  ASSERT_EQ(d.addresses.size(), 1u);
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.10")));
  EXPECT_EQ(d.selected, std::vector<std::string>{"web"});
  EXPECT_TRUE(d.arp.has_value());
}

TEST(DesiredState, NothingSelectedMeansNoArpRequirement) {
  auto v = MakeVip("web", {"192.0.2.10"});
  v.node_selector.match_labels["role"] = "director";
  const auto d = BuildDesiredState({v}, kNode, BasicNode());
  EXPECT_TRUE(d.addresses.empty());
  EXPECT_FALSE(d.arp.has_value());
}

TEST(DesiredState, RefusesWhatWouldBreakTheNodeButKeepsTheOthers) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"0.0.0.0", "unspecified"},
      {"127.0.0.2", "loopback"},
      {"::1", "loopback"},
      {"224.0.0.5", "multicast"},
      {"255.255.255.255", "broadcast"},
      {"169.254.0.9", "link-local"},
      {"fe80::9", "link-local"},
      {"198.51.100.7", "already an address of this node on eth0"},
      {"198.51.100.255", "broadcast address of eth0's subnet"},
  };
  for (const auto& [addr, why] : cases) {
    const auto d =
        BuildDesiredState({MakeVip("bad", {"192.0.2.9", addr}), MakeVip("good", {"192.0.2.10"})}, kNode, BasicNode());
    ASSERT_TRUE(d.refused.count("bad")) << addr;
    EXPECT_NE(d.refused.at("bad").find(why), std::string::npos) << d.refused.at("bad");
    // The refused VirtualIP contributes nothing, not even its valid address; the good one converges.
    EXPECT_FALSE(d.addresses.count(Ip("192.0.2.9"))) << addr;
    EXPECT_TRUE(d.addresses.count(Ip("192.0.2.10"))) << addr;
  }
}

TEST(DesiredState, OurOwnAddressOnAnotherInterfaceIsNotTheNodesIp) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 2, "eth0:lvsrs", kOwnerProtocol, kScopeUniverse, false});
  const auto d = BuildDesiredState({MakeVip("web", {"192.0.2.10"})}, kNode, o);
  EXPECT_TRUE(d.refused.empty());
  EXPECT_EQ(d.addresses.at(Ip("192.0.2.10")).interface, "lo");
}

TEST(DesiredState, SeveralVirtualIpsUnionAndTakeTheStrictestArp) {
  auto a = MakeVip("a", {"192.0.2.10", "192.0.2.11"});
  a.arp = ArpSpec{1, 1, ArpScope::PerInterface};
  auto b = MakeVip("b", {"192.0.2.11", "2001:db8::10"});
  b.arp = ArpSpec{2, 2, ArpScope::PerInterface};
  b.host_route = false;
  auto d = BuildDesiredState({b, a}, kNode, BasicNode());
  EXPECT_EQ(d.addresses.size(), 3u);
  EXPECT_EQ(d.addresses.at(Ip("192.0.2.11")).owners, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(d.addresses.at(Ip("192.0.2.11")).host_route);  // one VirtualIP asks for it
  EXPECT_FALSE(d.addresses.at(Ip("2001:db8::10")).host_route);
  EXPECT_EQ(d.arp->ignore, 2);
  EXPECT_EQ(d.arp->announce, 2);
  EXPECT_EQ(d.arp->scope, ArpScope::PerInterface);
  auto c = MakeVip("c", {"192.0.2.12"});  // default scope Global wins over PerInterface
  d = BuildDesiredState({a, b, c}, kNode, BasicNode());
  EXPECT_EQ(d.arp->scope, ArpScope::Global);
}

TEST(DesiredState, ConflictingInterfacesRefuseTheLaterNameOnEveryNode) {
  auto a = MakeVip("alpha", {"192.0.2.10"});
  auto b = MakeVip("beta", {"192.0.2.10"});
  b.interface = "lo2";
  for (const auto& order : {std::vector<VirtualIp>{a, b}, std::vector<VirtualIp>{b, a}}) {
    const auto d = BuildDesiredState(order, kNode, BasicNode());
    ASSERT_TRUE(d.refused.count("beta"));
    EXPECT_NE(d.refused.at("beta").find("conflicts with VirtualIP alpha"), std::string::npos);
    EXPECT_EQ(d.addresses.at(Ip("192.0.2.10")).interface, "lo");
  }
}

// The case: two teams' VirtualIPs select one node; one asks arp_ignore=3. Under 3 the
// kernel answers for any address of scope link or wider on any interface. The operator's VIPs
// have host scope, so 3 alone answers none of them...
TEST(DesiredState, ArpSettingsAreCombinedByWhatTheyProtectNotByMax) {
  auto web = MakeVip("web", {"192.0.2.10"});
  auto other = MakeVip("other", {"192.0.2.20"});
  other.arp.ignore = 3;
  const auto d = BuildDesiredState({web, other}, kNode, BasicNode());
  EXPECT_TRUE(d.refused.empty()) << d.refused.begin()->second;
  EXPECT_EQ(d.arp->ignore, 1);  // 1 answers less than 3 (max() would have written 3)
  EXPECT_EQ(d.arp->announce, 2);
}

// ...but with kube-proxy's route_localnet=1 host scope counts as link scope, and 3 would answer
// ARP for every VIP on lo: the VirtualIP asking for it is refused, naming the VIP it would expose,
// whichever order the VirtualIPs come in; web's VIPs stay.
TEST(DesiredState, SettingsThatWouldExposeAVipRefuseTheirVirtualIpOnly) {
  auto web = MakeVip("web", {"192.0.2.10"});
  auto other = MakeVip("other", {"192.0.2.20"});
  other.arp.ignore = 3;
  auto o = BasicNode();
  o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = 1;
  for (const auto& order : {std::vector<VirtualIp>{web, other}, std::vector<VirtualIp>{other, web}}) {
    const auto d = BuildDesiredState(order, kNode, o);
    ASSERT_TRUE(d.refused.count("other"));
    EXPECT_FALSE(d.refused.count("web"));
    EXPECT_NE(d.refused.at("other").find("answered on eth0"), std::string::npos) << d.refused.at("other");
    EXPECT_NE(d.refused.at("other").find("ignore: 3"), std::string::npos) << d.refused.at("other");
    EXPECT_TRUE(d.addresses.count(Ip("192.0.2.10")));
    EXPECT_FALSE(d.addresses.count(Ip("192.0.2.20")));
    EXPECT_EQ(d.arp->ignore, 1);
  }
}

// A VIP an admin added by hand (scope global) is answered under arp_ignore=3 even without
// route_localnet. Whichever VirtualIP decides second is refused: here `other` decides first, so
// web, whose VIP other's values would expose, is refused, and other's VIPs keep working.
TEST(DesiredState, TheValuesOfTheVirtualIpThatDecidesFirstProtectItsPlace) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:1", 0, kScopeUniverse, false});
  auto web = MakeVip("web", {"192.0.2.10"});
  auto other = MakeVip("other", {"192.0.2.20"});
  other.arp.ignore = 3;
  const auto d = BuildDesiredState({web, other}, kNode, o);
  ASSERT_TRUE(d.refused.count("web"));
  EXPECT_NE(d.refused.at("web").find("VirtualIP other's arp {ignore: 3"), std::string::npos) << d.refused.at("web");
  EXPECT_NE(d.refused.at("web").find("its VIP 192.0.2.10"), std::string::npos) << d.refused.at("web");
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.20")));
}

TEST(DesiredState, AnnouncingTheVipIsRefusedToo) {
  auto web = MakeVip("web", {"192.0.2.10"});
  auto loud = MakeVip("loud", {"192.0.2.30"});
  loud.arp.announce = 0;  // the real server's replies, sent from the VIP, would carry it in ARP
  const auto d = BuildDesiredState({web, loud}, kNode, BasicNode());
  ASSERT_TRUE(d.refused.count("loud"));
  EXPECT_NE(d.refused.at("loud").find("announced on eth0"), std::string::npos) << d.refused.at("loud");
  EXPECT_EQ(d.arp->announce, 2);
}

TEST(DesiredState, AVipOnAnInterfaceThatAnswersArpIsRefused) {
  auto onlink = MakeVip("onlink", {"198.51.100.50"});
  onlink.interface = "eth0";
  const auto d = BuildDesiredState({onlink, MakeVip("web", {"192.0.2.10"})}, kNode, BasicNode());
  ASSERT_TRUE(d.refused.count("onlink"));
  EXPECT_NE(d.refused.at("onlink").find("on eth0 would be answered on eth0"), std::string::npos)
      << d.refused.at("onlink");
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.10")));
}

// IPv6 has no setting that keeps an interface from answering for its own addresses: an IPv6 VIP
// on the NIC is refused whatever the VirtualIP's arp settings; on lo it is applied.
TEST(DesiredState, AnIpv6VipOnAnInterfaceWithNeighboursIsRefused) {
  auto onlink = MakeVip("onlink6", {"2001:db8::50"});
  onlink.interface = "eth0";
  onlink.arp.ignore = 8;
  const auto d = BuildDesiredState({onlink, MakeVip("web6", {"2001:db8::10"})}, kNode, BasicNode());
  ASSERT_TRUE(d.refused.count("onlink6"));
  EXPECT_NE(d.refused.at("onlink6").find("2001:db8::50 on eth0 would be answered (NDP) on eth0"), std::string::npos)
      << d.refused.at("onlink6");
  EXPECT_FALSE(d.addresses.count(Ip("2001:db8::50")));
  EXPECT_TRUE(d.addresses.count(Ip("2001:db8::10")));
}

// Put on the NIC by hand before: not the VirtualIP's doing, so applied (adopted); the status
// reports the exposure.
TEST(DesiredState, AnIpv6VipAlreadyOnTheNicIsNotRefusedForIt) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("2001:db8::50"), 128, 2, "", 0, kScopeUniverse, false});
  auto onlink = MakeVip("onlink6", {"2001:db8::50"});
  onlink.interface = "eth0";
  const auto d = BuildDesiredState({onlink}, kNode, o);
  EXPECT_TRUE(d.refused.empty()) << d.refused.begin()->second;
  EXPECT_TRUE(d.addresses.count(Ip("2001:db8::50")));
}

TEST(DesiredState, SettingsThatSilenceTheNodesOwnAddressAreRefused) {
  auto mute = MakeVip("mute", {"192.0.2.40"});
  mute.arp.ignore = 8;  // in Global scope: conf/all=8, nothing on eth0 is answered any more
  const auto d = BuildDesiredState({mute}, kNode, BasicNode());
  ASSERT_TRUE(d.refused.count("mute"));
  EXPECT_NE(d.refused.at("mute").find("198.51.100.7/24 on eth0"), std::string::npos) << d.refused.at("mute");
  EXPECT_FALSE(d.arp.has_value());
}

// An admin's conf/eth0/arp_ignore=5 answers for every local address whatever conf/all says: no
// VirtualIP's settings cause that, so none is refused for it (the status reports the exposure).
TEST(DesiredState, ExposureNoVirtualIpCausesRefusesNothing) {
  auto o = BasicNode();
  o.sysctls[SysctlKey{"eth0", ArpKey::Ignore}] = 5;
  const auto d = BuildDesiredState({MakeVip("web", {"192.0.2.10"})}, kNode, o);
  EXPECT_TRUE(d.refused.empty());
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.10")));
}

TEST(DesiredState, CombineArpOrdersArpIgnoreByWhatItAnswers) {
  const auto combined = [](int a, int b) {
    return CombineArp(ArpSpec{a, 2, ArpScope::Global}, ArpSpec{b, 2, ArpScope::Global}).ignore;
  };
  EXPECT_EQ(combined(1, 3), 1);
  EXPECT_EQ(combined(3, 1), 1);
  EXPECT_EQ(combined(1, 2), 2);
  EXPECT_EQ(combined(2, 8), 8);
  EXPECT_EQ(combined(0, 3), 3);
  EXPECT_EQ(CombineArp(ArpSpec{1, 0, ArpScope::PerInterface}, ArpSpec{1, 1, ArpScope::Global}).announce, 1);
}

TEST(DesiredState, TheOlderVirtualIpKeepsAContestedAddressWhateverTheNames) {
  auto established = MakeVip("zz-established", {"192.0.2.10"});
  established.creation_timestamp = "2026-01-01T00:00:00Z";
  auto newcomer = MakeVip("aa-newcomer", {"192.0.2.10"});
  newcomer.creation_timestamp = "2026-02-01T00:00:00Z";
  newcomer.interface = "lo2";
  const auto d = BuildDesiredState({newcomer, established}, kNode, BasicNode());
  ASSERT_TRUE(d.refused.count("aa-newcomer"));
  EXPECT_NE(d.refused.at("aa-newcomer").find("conflicts with VirtualIP zz-established"), std::string::npos);
  EXPECT_EQ(d.addresses.at(Ip("192.0.2.10")).interface, "lo");
}

// Issue 13: an edit this node refuses (a conflict with an older VirtualIP, the node's own
// address, ARP settings) keeps the spec it accepted before in force, reported in `kept`.
class RefusedEdit : public ::testing::Test {
 protected:
  RefusedEdit() {
    old_.creation_timestamp = "2026-01-01T00:00:00Z";
    old_.uid = "uid-old";
    edited_.creation_timestamp = "2026-02-01T00:00:00Z";
    edited_.uid = "uid-edited";
    edited_.generation = 1;
  }
  // A pass after one that accepted old_ and edited_ (generation 1), with `edit` as edited's spec.
  DesiredState AfterEdit(const VirtualIp& edit, const ObservedState& o = BasicNode()) {
    const auto first = BuildDesiredState({old_, edited_}, kNode, o);
    EXPECT_TRUE(first.refused.empty());
    EXPECT_EQ(first.accepted.size(), 2u);
    return BuildDesiredState({old_, edit}, kNode, o, first.accepted);
  }
  VirtualIp Edit(std::vector<const char*> addrs) const {
    VirtualIp v = MakeVip("edited", std::move(addrs));
    v.uid = edited_.uid;
    v.creation_timestamp = edited_.creation_timestamp;
    v.generation = 2;
    return v;
  }
  // The spec accepted before is in force: its VIP, its owner, nothing of the edit.
  void ExpectKept(const DesiredState& d, const std::string& why, const char* absent) {
    ASSERT_TRUE(d.kept.count("edited")) << (d.refused.count("edited") ? d.refused.at("edited") : "");
    EXPECT_NE(d.kept.at("edited").find("still serving the spec accepted before (generation 1)"), std::string::npos)
        << d.kept.at("edited");
    EXPECT_NE(d.kept.at("edited").find(why), std::string::npos) << d.kept.at("edited");
    EXPECT_FALSE(d.refused.count("edited"));
    ASSERT_TRUE(d.addresses.count(Ip("192.0.2.20")));
    EXPECT_EQ(d.addresses.at(Ip("192.0.2.20")).owners, std::vector<std::string>{"edited"});
    EXPECT_FALSE(d.addresses.count(Ip(absent)));
    EXPECT_EQ(d.accepted.at("uid-edited"), edited_) << "the memory stays at the spec in force";
    EXPECT_EQ(d.addresses.at(Ip("192.0.2.10")).interface, "lo") << "the older VirtualIP is untouched";
  }

  VirtualIp old_ = MakeVip("old", {"192.0.2.10"});
  VirtualIp edited_ = MakeVip("edited", {"192.0.2.20"});
};

TEST_F(RefusedEdit, AConflictWithAnOlderVirtualIpKeepsTheSpecAcceptedBefore) {
  auto edit = Edit({"192.0.2.10", "192.0.2.21"});
  edit.interface = "lo2";
  ExpectKept(AfterEdit(edit), "192.0.2.10 conflicts with VirtualIP old, which puts it on lo", "192.0.2.21");
}

TEST_F(RefusedEdit, TheNodesOwnAddressKeepsTheSpecAcceptedBefore) {
  ExpectKept(AfterEdit(Edit({"192.0.2.20", "198.51.100.7"})), "198.51.100.7 is already an address of this node on eth0",
             "198.51.100.7");
}

TEST_F(RefusedEdit, ArpSettingsThatCannotHoldKeepTheSpecAndTheValuesAcceptedBefore) {
  auto o = BasicNode();
  o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = 1;  // kube-proxy's: 3 would answer every VIP on lo
  auto edit = Edit({"192.0.2.21"});
  edit.arp.ignore = 3;
  const auto d = AfterEdit(edit, o);
  ExpectKept(d, "ignore: 3", "192.0.2.21");
  EXPECT_EQ(d.arp->ignore, 1);
}

TEST_F(RefusedEdit, AGoodEditAfterwardsApplies) {
  auto bad = Edit({"198.51.100.7"});
  const auto refused = AfterEdit(bad);
  ASSERT_TRUE(refused.kept.count("edited"));
  auto good = Edit({"192.0.2.22"});
  good.generation = 3;
  const auto d = BuildDesiredState({old_, good}, kNode, BasicNode(), refused.accepted);
  EXPECT_TRUE(d.kept.empty());
  EXPECT_TRUE(d.refused.empty());
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.22")));
  EXPECT_FALSE(d.addresses.count(Ip("192.0.2.20")));
  EXPECT_EQ(d.accepted.at("uid-edited"), good);
}

TEST_F(RefusedEdit, ADeleteStillDeletes) {
  const auto refused = AfterEdit(Edit({"198.51.100.7"}));
  const auto d = BuildDesiredState({old_}, kNode, BasicNode(), refused.accepted);
  EXPECT_FALSE(d.addresses.count(Ip("192.0.2.20")));
  EXPECT_FALSE(d.accepted.count("uid-edited")) << "a deleted VirtualIP is forgotten";
  EXPECT_TRUE(d.kept.empty());
}

TEST_F(RefusedEdit, ABrandNewOrReCreatedVirtualIpIsSimplyRefused) {
  auto fresh = MakeVip("fresh", {"198.51.100.7"});
  fresh.uid = "uid-fresh";
  auto recreated = Edit({"198.51.100.7"});
  recreated.uid = "uid-recreated";  // deleted and created again under the same name
  const auto first = BuildDesiredState({old_, edited_}, kNode, BasicNode());
  const auto d = BuildDesiredState({old_, recreated, fresh}, kNode, BasicNode(), first.accepted);
  EXPECT_TRUE(d.kept.empty());
  EXPECT_TRUE(d.refused.count("fresh"));
  EXPECT_TRUE(d.refused.count("edited"));
  EXPECT_FALSE(d.addresses.count(Ip("192.0.2.20")));
}

TEST_F(RefusedEdit, AnEditThatLeavesThisNodeIsNoRefusal) {
  const auto refused = AfterEdit(Edit({"198.51.100.7"}));
  auto away = Edit({"198.51.100.7"});
  away.node_selector.match_labels["role"] = "director";
  const auto d = BuildDesiredState({old_, away}, kNode, BasicNode(), refused.accepted);
  EXPECT_TRUE(d.kept.empty());
  EXPECT_TRUE(d.refused.empty());
  EXPECT_FALSE(d.addresses.count(Ip("192.0.2.20")));
  EXPECT_FALSE(d.accepted.count("uid-edited"));
}

TEST_F(RefusedEdit, ASpecAcceptedBeforeThatNoLongerHoldsIsNotKept) {
  auto o = BasicNode();
  const auto first = BuildDesiredState({old_, edited_}, kNode, o);
  // Meanwhile the kept spec's address became the node's own (an admin put it on eth0).
  o.addresses.push_back(KernelAddress{Ip("192.0.2.20"), 32, 2, "eth0", 0, kScopeUniverse, false});
  const auto d = BuildDesiredState({old_, Edit({"198.51.100.7"})}, kNode, o, first.accepted);
  ASSERT_TRUE(d.refused.count("edited"));
  EXPECT_NE(d.refused.at("edited").find("198.51.100.7"), std::string::npos);
  EXPECT_NE(d.refused.at("edited").find("accepted before on this node is refused too: 192.0.2.20"), std::string::npos)
      << d.refused.at("edited");
  EXPECT_FALSE(d.accepted.count("uid-edited"));
}

TEST_F(RefusedEdit, InFileModeTheNameIsTheObject) {
  VirtualIp before = MakeVip("web", {"192.0.2.20"});
  VirtualIp after = MakeVip("web", {"198.51.100.7"});
  const auto first = BuildDesiredState({before}, kNode, BasicNode());
  ASSERT_TRUE(first.accepted.count("name:web"));
  const auto d = BuildDesiredState({after}, kNode, BasicNode(), first.accepted);
  ASSERT_TRUE(d.kept.count("web"));
  EXPECT_NE(d.kept.at("web").find("still serving the spec accepted before: 198.51.100.7"), std::string::npos)
      << d.kept.at("web");
  EXPECT_TRUE(d.addresses.count(Ip("192.0.2.20")));
}

}  // namespace
}  // namespace lvsrs
