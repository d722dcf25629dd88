// ReconcileOutcome -> metric values: what dashboards and alerts will see for a pass.
#include "metrics/outcome_metrics.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

VipAddressStatus Vip(const char* vip, const char* addr, VipState state) {
  return VipAddressStatus{vip, addr, "lo", state, ""};
}

ReconcileOutcome ConvergedOutcome() {
  ReconcileOutcome o;
  o.status.vips = {Vip("web", "192.0.2.10", VipState::Configured), Vip("web", "2001:db8::10", VipState::Adopted),
                   Vip("db", "198.51.100.7", VipState::Configured)};
  o.status.interfaces = {InterfaceArpStatus{"eth0", 1, 2, true, ""}, InterfaceArpStatus{"eth1", 1, 2, true, ""}};
  o.duration = std::chrono::milliseconds(3);
  return o;
}

TEST(OutcomeMetrics, ConformantNodeReportsEveryVipAndInterface) {
  const OutcomeMetrics m = MetricsOfOutcome(ConvergedOutcome());
  EXPECT_TRUE(m.has_status);
  EXPECT_TRUE(m.node_conformant);
  using K = std::pair<std::string, std::string>;
  EXPECT_EQ(
      m.vip_conformant,
      (std::map<K, double>{{{"web", "192.0.2.10"}, 1}, {{"web", "2001:db8::10"}, 1}, {{"db", "198.51.100.7"}, 1}}));
  EXPECT_EQ(m.arp_effective, (std::map<K, double>{{{"eth0", "arp_ignore"}, 1},
                                                  {{"eth0", "arp_announce"}, 2},
                                                  {{"eth1", "arp_ignore"}, 1},
                                                  {{"eth1", "arp_announce"}, 2}}));
  EXPECT_EQ(m.arp_conformant, (std::map<std::string, double>{{"eth0", 1}, {"eth1", 1}}));
  EXPECT_TRUE(m.repairs.empty());
  EXPECT_TRUE(m.errors.empty());
  EXPECT_DOUBLE_EQ(m.duration_seconds, 0.003);
}

TEST(OutcomeMetrics, PendingOrFailedVipIsNotConformantAndNeitherIsTheNode) {
  ReconcileOutcome o = ConvergedOutcome();
  o.status.vips[0].state = VipState::Pending;
  o.status.vips[2].state = VipState::Failed;
  o.status.vips_configured = false;
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_FALSE(m.node_conformant);
  EXPECT_EQ(m.vip_conformant.at({"web", "192.0.2.10"}), 0);
  EXPECT_EQ(m.vip_conformant.at({"web", "2001:db8::10"}), 1);
  EXPECT_EQ(m.vip_conformant.at({"db", "198.51.100.7"}), 0);
}

TEST(OutcomeMetrics, SourceRefusalsOfThePassSplitIntoRefusedAndEditRefused) {
  ReconcileOutcome o = ConvergedOutcome();
  o.source_refused = {{"never-ran", {"invalid VirtualIP: spec.addresses[0]: not canonical", false}},
                      {"edited", {"edit refused, still serving the last accepted spec", true}}};
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_EQ(m.refused_virtualips, std::set<std::string>{"never-ran"});
  EXPECT_EQ(m.edit_refused_virtualips, std::set<std::string>{"edited"});
}

TEST(OutcomeMetrics, AnEditRefusedOnThisNodeCountsAsEditRefusedAndItsKeptVipsStayConformant) {
  ReconcileOutcome o = ConvergedOutcome();
  o.status.vips.push_back(VipAddressStatus{"web", "", "", VipState::EditRefused, "edit refused on this node"});
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_EQ(m.edit_refused_virtualips, std::set<std::string>{"web"});
  EXPECT_TRUE(m.refused_virtualips.empty());
  EXPECT_EQ(m.vip_conformant.size(), 3u) << "no series without an address";
  EXPECT_EQ(m.vip_conformant.at({"web", "192.0.2.10"}), 1);
}

TEST(OutcomeMetrics, ContestedItemsWithTheirRepairCounts) {
  ReconcileOutcome o = ConvergedOutcome();
  o.contested = {{ItemKey::OfAddress(Ip("192.0.2.10")), 5},
                 {ItemKey::OfRoute(Ip("192.0.2.10")), 4},
                 {ItemKey::OfSysctl(SysctlKey{"all", ArpKey::Ignore}), 3}};
  const OutcomeMetrics m = MetricsOfOutcome(o);
  // The label texts dashboards and alerts match on.
  EXPECT_EQ(m.contested,
            (std::map<std::string, double>{
                {"ip:192.0.2.10", 5}, {"route:192.0.2.10", 4}, {"sysctl:net.ipv4.conf.all.arp_ignore", 3}}));
}

TEST(OutcomeMetrics, OneAddressWantedByTwoVirtualIpsHasASeriesForEach) {
  ReconcileOutcome o;
  o.status.vips = {Vip("a", "192.0.2.10", VipState::Configured), Vip("b", "192.0.2.10", VipState::Configured)};
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_EQ(m.vip_conformant.size(), 2u);
  EXPECT_EQ(m.vip_conformant.at({"b", "192.0.2.10"}), 1);
}

TEST(OutcomeMetrics, RefusedVirtualIpGetsItsOwnSeriesNotAnAddressless) {
  ReconcileOutcome o = ConvergedOutcome();
  o.status.vips.push_back(VipAddressStatus{"bad", "", "", VipState::Refused, "reserved address"});
  o.status.vips_configured = false;
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_EQ(m.refused_virtualips, std::set<std::string>{"bad"});
  for (const auto& [key, v] : m.vip_conformant) EXPECT_NE(key.first, "bad");
  EXPECT_FALSE(m.node_conformant);
}

TEST(OutcomeMetrics, WrongEffectiveArpShowsTheValueTheKernelUses) {
  ReconcileOutcome o = ConvergedOutcome();
  o.status.interfaces[1] = InterfaceArpStatus{"eth1", 0, 2, false, "effective arp_ignore 0, want 1"};
  o.status.arp_conformant = false;
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_FALSE(m.node_conformant);
  EXPECT_EQ(m.arp_effective.at({"eth1", "arp_ignore"}), 0);
  EXPECT_EQ(m.arp_conformant.at("eth1"), 0);
  EXPECT_EQ(m.arp_conformant.at("eth0"), 1);
}

TEST(OutcomeMetrics, ArpAndNdpExposuresShareOneSeriesSplitByHow) {
  ReconcileOutcome o = ConvergedOutcome();
  o.status.exposures = {ArpExposure{Ip("192.0.2.10"), "eth0", ArpExposure::How::Announced, "arp_announce 0"},
                        ArpExposure{Ip("2001:db8::10"), "eth1", ArpExposure::How::NdpAnswered, "on eth1"}};
  o.status.arp_conformant = false;
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_FALSE(m.node_conformant);
  using K = std::vector<std::string>;
  EXPECT_EQ(m.arp_exposed, (std::map<K, double>{{{"192.0.2.10", "eth0", "announced"}, 1},
                                                {{"2001:db8::10", "eth1", "ndp_answered"}, 1}}));
}

TEST(OutcomeMetrics, UnreadableSysctlIsLeftOutRatherThanReportedAsMinusOne) {
  ReconcileOutcome o;
  o.status.interfaces = {InterfaceArpStatus{"eth0", -1, 2, false, ""}};
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_FALSE(m.arp_effective.count({"eth0", "arp_ignore"}));
  EXPECT_EQ(m.arp_effective.at({"eth0", "arp_announce"}), 2);
}

TEST(OutcomeMetrics, RepairsAndPerItemErrorsBecomeCounterIncrements) {
  ReconcileOutcome o = ConvergedOutcome();
  o.repairs = {{"sysctl", 3}, {"route", 1}, {"bogus", 7}};
  o.applied.writes_ok = 4;
  o.applied.errors[ItemKey::OfAddress(Ip("192.0.2.10"))] = "EPERM";
  o.applied.errors[ItemKey::OfAddress(Ip("192.0.2.11"))] = "EPERM";
  o.applied.errors[ItemKey::OfRoute(Ip("192.0.2.11"))] = "EPERM";  // its own item, counted as an address error
  o.applied.errors[ItemKey::OfSysctl(SysctlKey{"all", ArpKey::Ignore})] = "EACCES";
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_EQ(m.repairs, (std::map<std::string, double>{{"sysctl", 3}, {"route", 1}}));
  EXPECT_EQ(m.errors, (std::map<std::string, double>{{"address", 3}, {"sysctl", 1}}));
  EXPECT_EQ(m.kernel_writes, 4);
}

TEST(OutcomeMetrics, UnreadableKernelCountsAnErrorAndClaimsNothingAboutVips) {
  ReconcileOutcome o;  // what Reconcile returns when Observe() throws: empty status
  o.error = "netlink dump of addresses: Operation not permitted";
  const OutcomeMetrics m = MetricsOfOutcome(o);
  EXPECT_FALSE(m.has_status);
  EXPECT_FALSE(m.node_conformant);  // an empty NodeStatus would say conformant
  EXPECT_EQ(m.errors, (std::map<std::string, double>{{"kernel_read", 1}}));
  EXPECT_TRUE(m.vip_conformant.empty());
}

}  // namespace
}  // namespace lvsrs
