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
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 2, "eth0:lvsrs", kOwnerProtocol});
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

}  // namespace
}  // namespace lvsrs
