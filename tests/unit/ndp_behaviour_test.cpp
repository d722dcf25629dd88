// The NDP model as data tables: the cells of tests/kernel/ndp_behaviour_wire_test.cpp, built as
// ObservedState values (the lab's namespace as RtnlKernel reads it), with the verdicts the wire
// showed (docs/ndp-behaviour.md), and the rest of the model's rules that the lab has no cell for.
#include "reconcile/ndp_behaviour.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::Ip;

// The lab's real server: lo (1), eth0 (2, 2001:db8::11/64); VIPs 2001:db8::101 and ::106 on lo,
// ::103, ::104 (deprecated: the kernel keeps it in the same list) and 2001:db8:1::5 on eth0, and
// 2001:db8:: on lo; proxy entries for ::105 and ::106 on eth0. Forwarding and proxy_ndp as given;
// eth0's subnet-router anycast address joined while eth0 forwards, as the kernel does.
ObservedState Lab(int fwd_all, int fwd_eth0, int proxy_all, int proxy_eth0) {
  ObservedState o;
  o.links.push_back(Link{1, "lo", true, true, true, "", 0});
  o.links.push_back(Link{2, "eth0", true, false, false, "veth", 0});
  auto add = [&](const char* ip, std::uint8_t prefix, int ifindex) {
    o.addresses.push_back(KernelAddress{Ip(ip), prefix, ifindex, "", 0, kScopeUniverse, false});
  };
  add("::1", 128, 1);
  add("2001:db8::101", 128, 1);
  add("2001:db8::106", 128, 1);
  add("2001:db8::", 128, 1);
  add("2001:db8::11", 64, 2);
  add("2001:db8::103", 128, 2);
  add("2001:db8::104", 128, 2);
  add("2001:db8:1::5", 128, 2);
  add("fe80::1", 64, 2);
  o.proxy_ndp_entries = {{Ip("2001:db8::105"), 2}, {Ip("2001:db8::106"), 2}};
  o.anycast = {{Ip("fe80::"), 2}};
  if (fwd_eth0) o.anycast.push_back({Ip("2001:db8::"), 2});
  o.ndp_sysctls[{"all", NdpKey::Forwarding}] = fwd_all;
  o.ndp_sysctls[{"all", NdpKey::ProxyNdp}] = proxy_all;
  for (const char* dev : {"lo", "eth0"}) {
    o.ndp_sysctls[{dev, NdpKey::Forwarding}] = std::string(dev) == "eth0" ? fwd_eth0 : fwd_all;
    o.ndp_sysctls[{dev, NdpKey::ProxyNdp}] = std::string(dev) == "eth0" ? proxy_eth0 : 0;
  }
  return o;
}

// The wire's verdicts: per VIP, answered ('A') or not ('-') in each of the 16 settings, in the wire
// test's order: forwarding (all, eth0) in {(0,0), (1,1), (1,0), (0,1)}, each with proxy_ndp
// (all, eth0) in {(0,0), (1,0), (0,1), (1,1)}.
struct AnswerRow {
  const char* ip;
  const char* cells;
};
const AnswerRow kAnswers[] = {
    {"2001:db8::101" /* lo */, "---- ---- ---- ----"},
    {"2001:db8::103" /* eth0 */, "AAAA AAAA AAAA AAAA"},
    {"2001:db8::104" /* eth0, deprecated */, "AAAA AAAA AAAA AAAA"},
    {"2001:db8:1::5" /* eth0, other prefix */, "AAAA AAAA AAAA AAAA"},
    {"2001:db8::105" /* proxy entry on eth0 */, "---- -AAA ---- -AAA"},
    {"2001:db8::106" /* lo + proxy entry on eth0 */, "---- -AAA ---- -AAA"},
    {"2001:db8::" /* lo, eth0 prefix anycast */, "---- AAAA ---- AAAA"},
};

TEST(NdpBehaviourModel, AnswersEveryForwardingAndProxyNdpCombinationAsTheWireDid) {
  const std::pair<int, int> forwarding[] = {{0, 0}, {1, 1}, {1, 0}, {0, 1}};
  const std::pair<int, int> proxy[] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
  for (const auto& row : kAnswers) {
    for (int f = 0; f < 4; ++f) {
      for (int p = 0; p < 4; ++p) {
        const ObservedState o = Lab(forwarding[f].first, forwarding[f].second, proxy[p].first, proxy[p].second);
        const NdpBehaviour model(o);
        const bool answered = model.Answers(Ip(row.ip), *o.LinkByName("eth0")).has_value();
        EXPECT_EQ(answered, row.cells[f * 5 + p] == 'A')
            << row.ip << " with forwarding all=" << forwarding[f].first << " eth0=" << forwarding[f].second
            << ", proxy_ndp all=" << proxy[p].first << " eth0=" << proxy[p].second;
      }
    }
  }
}

TEST(NdpBehaviourModel, AnnouncesOnlyFromTheInterfaceTheVipSitsOn) {
  const ObservedState o = Lab(0, 0, 0, 0);
  const NdpBehaviour model(o);
  const Link& eth0 = *o.LinkByName("eth0");
  for (const char* on_eth0 : {"2001:db8::103", "2001:db8::104", "2001:db8:1::5"})
    EXPECT_TRUE(model.Announces(Ip(on_eth0), eth0)) << on_eth0;
  for (const char* on_lo : {"2001:db8::101", "2001:db8::106"}) EXPECT_FALSE(model.Announces(Ip(on_lo), eth0)) << on_lo;
}

TEST(NdpBehaviourModel, ExposuresNameEachWayAndLeaveIpv4ToArp) {
  const ObservedState o = Lab(0, 1, 1, 0);
  const NdpBehaviour model(o);
  EXPECT_TRUE(model.Exposures(Ip("2001:db8::101")).empty());  // on lo only: the safe place
  const auto onnic = model.Exposures(Ip("2001:db8::103"));
  ASSERT_EQ(onnic.size(), 2u);
  EXPECT_EQ(onnic[0].how, ArpExposure::How::NdpAnswered);
  EXPECT_EQ(onnic[1].how, ArpExposure::How::NdpAnnounced);
  EXPECT_EQ(onnic[0].interface, "eth0");
  EXPECT_NE(onnic[0].Describe().find("2001:db8::103 answered (NDP) on eth0"), std::string::npos) << onnic[0].Describe();
  const auto proxied = model.Exposures(Ip("2001:db8::106"));
  ASSERT_EQ(proxied.size(), 1u);
  EXPECT_NE(proxied[0].reason.find("proxy entry"), std::string::npos) << proxied[0].reason;
  EXPECT_NE(proxied[0].reason.find("forwarding 1 (conf/eth0)"), std::string::npos) << proxied[0].reason;
  EXPECT_TRUE(model.Exposures(Ip("192.0.2.10")).empty());
}

TEST(NdpBehaviourModel, AProxyEntryWithUnreadableSettingsCountsAsAnswered) {
  ObservedState o = Lab(0, 1, 0, 0);
  o.ndp_sysctls.erase({"all", NdpKey::ProxyNdp});
  const NdpBehaviour model(o);
  const auto why = model.Answers(Ip("2001:db8::105"), *o.LinkByName("eth0"));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("unreadable"), std::string::npos) << *why;
}

TEST(NdpBehaviourModel, AVrfSlaveAnswersForItsMastersAddresses) {
  ObservedState o;
  o.links.push_back(Link{1, "lo", true, true, true, "", 0});
  o.links.push_back(Link{2, "eth0", true, false, false, "", 3});
  o.links.push_back(Link{3, "blue", true, false, true, "vrf", 0});
  o.addresses.push_back(KernelAddress{Ip("2001:db8::7"), 128, 3, "", 0, kScopeUniverse, false});
  const NdpBehaviour model(o);
  const auto why = model.Answers(Ip("2001:db8::7"), *o.LinkByName("eth0"));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("VRF blue"), std::string::npos) << *why;
  EXPECT_FALSE(model.Announces(Ip("2001:db8::7"), *o.LinkByName("eth0")));
}

TEST(NdpBehaviourModel, BridgePortsDoNotAnswerTheirBridgeDoes) {
  ObservedState o;
  o.links.push_back(Link{1, "lo", true, true, true, "", 0});
  o.links.push_back(Link{2, "eth0", true, false, false, "", 3});
  o.links.push_back(Link{3, "br0", true, false, false, "bridge", 0});
  o.addresses.push_back(KernelAddress{Ip("2001:db8::7"), 128, 3, "", 0, kScopeUniverse, false});
  const NdpBehaviour model(o);
  const auto exposures = model.Exposures(Ip("2001:db8::7"));
  ASSERT_FALSE(exposures.empty());
  for (const auto& e : exposures) EXPECT_EQ(e.interface, "br0");
}

TEST(NdpBehaviourModel, APlacedVipIsJudgedWhereItWouldSit) {
  const ObservedState o = Lab(0, 0, 0, 0);
  NdpBehaviour model(o);
  const Link& eth0 = *o.LinkByName("eth0");
  EXPECT_FALSE(model.Answers(Ip("2001:db8::200"), eth0));
  model.AssumePlaced(Ip("2001:db8::200"), eth0.index);
  EXPECT_TRUE(model.Answers(Ip("2001:db8::200"), eth0));
  model.ForgetPlaced(Ip("2001:db8::200"));
  EXPECT_FALSE(model.Answers(Ip("2001:db8::200"), eth0));
  model.AssumePlaced(Ip("2001:db8::200"), 1);  // lo
  EXPECT_TRUE(model.Exposures(Ip("2001:db8::200")).empty());
}

}  // namespace
}  // namespace lvsrs
