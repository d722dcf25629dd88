#include "reconcile/plan.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::BasicNode;
using testing::Ip;
using testing::MakeVip;
using testing::SimulateApply;

const NodeInfo kNode{"rs1", {}};

Plan PlanFor(const std::vector<VirtualIp>& vips, const ObservedState& o, const SysctlRecord& rec = {}) {
  return ComputePlan(BuildDesiredState(vips, kNode, o), o, rec);
}

TEST(Plan, EmptyNodeGetsAddressesRoutesAndTheManualSysctls) {
  const auto p = PlanFor({MakeVip("web", {"192.0.2.10", "2001:db8::10"})}, BasicNode());
  ASSERT_EQ(p.add_addresses.size(), 2u);
  EXPECT_EQ(p.add_addresses[0].interface, "lo");
  EXPECT_EQ(p.add_addresses[0].ifindex, 1);
  EXPECT_EQ(p.add_routes.size(), 2u);
  // all, default, lo x arp_ignore, arp_announce: exactly /etc/sysctl.conf of the manual procedure.
  ASSERT_EQ(p.set_sysctls.size(), 6u);
  for (const auto& s : p.set_sysctls) {
    EXPECT_EQ(s.ifindex, 0) << s.Describe();  // procfs
    EXPECT_EQ(s.record_original, 0) << s.Describe();
  }
  EXPECT_TRUE(p.remove_addresses.empty());
  EXPECT_TRUE(p.remove_routes.empty());
}

TEST(Plan, SecondDiffAfterExecutionIsEmpty) {
  auto o = BasicNode();
  SysctlRecord rec;
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10", "2001:db8::10"}), MakeVip("api", {"192.0.2.11"})};
  SimulateApply(o, PlanFor(vips, o, rec), &rec);
  const auto again = PlanFor(vips, o, rec);
  EXPECT_FALSE(again.HasWrites()) << again.ToText();
  EXPECT_EQ(rec.size(), 6u);
}

TEST(Plan, AdoptsIdenticalForeignStateAndNeverRemovesIt) {
  auto o = BasicNode();
  // An admin's manual `ip addr add 192.0.2.10/32 dev lo label lo:1` + `route add -host`.
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:1", 0, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 1, kMainTable, 4});
  auto p = PlanFor({MakeVip("web", {"192.0.2.10"})}, o);
  EXPECT_TRUE(p.add_addresses.empty());
  EXPECT_TRUE(p.add_routes.empty());
  p = PlanFor({}, o);  // nobody wants it any more: still not ours to remove
  EXPECT_TRUE(p.remove_addresses.empty());
  EXPECT_TRUE(p.remove_routes.empty());
}

TEST(Plan, RemovesOnlyWhatCarriesTheMark) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:lvsrs", kOwnerProtocol, kScopeUniverse, false});
  o.addresses.push_back(KernelAddress{Ip("2001:db8::10"), 128, 1, "", kOwnerProtocol, kScopeUniverse, false});
  o.addresses.push_back(KernelAddress{Ip("203.0.113.5"), 32, 1, "lo:admin", 0, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 1, kMainTable, kOwnerProtocol});
  o.routes.push_back(KernelRoute{Ip("203.0.113.5"), 32, 1, kMainTable, 4});
  const auto p = PlanFor({}, o);
  ASSERT_EQ(p.remove_addresses.size(), 2u);
  EXPECT_EQ(p.remove_addresses[0].ip, Ip("192.0.2.10"));
  EXPECT_EQ(p.remove_addresses[1].ip, Ip("2001:db8::10"));
  ASSERT_EQ(p.remove_routes.size(), 1u);
  EXPECT_EQ(p.remove_routes[0].dst, Ip("192.0.2.10"));
}

TEST(Plan, HostRouteFalseRemovesOurRouteButKeepsTheAddress) {
  auto o = BasicNode();
  o.addresses.push_back(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo:lvsrs", kOwnerProtocol, kScopeUniverse, false});
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 1, kMainTable, kOwnerProtocol});
  auto v = MakeVip("web", {"192.0.2.10"});
  v.host_route = false;
  const auto p = PlanFor({v}, o);
  EXPECT_TRUE(p.remove_addresses.empty());
  ASSERT_EQ(p.remove_routes.size(), 1u);
}

TEST(Plan, ForeignRouteInTheWayIsReportedNotReplaced) {
  auto o = BasicNode();
  o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 2, kMainTable, 4});  // admin's, via eth0
  const auto p = PlanFor({MakeVip("web", {"192.0.2.10"})}, o);
  EXPECT_TRUE(p.add_routes.empty());
  ASSERT_TRUE(p.blocked.count(Ip("192.0.2.10")));
  EXPECT_NE(p.blocked.at(Ip("192.0.2.10")).find("not ours"), std::string::npos);
  EXPECT_TRUE(p.remove_routes.empty());
}

TEST(Plan, MissingInterfaceBlocksOnlyThatVip) {
  auto v = MakeVip("web", {"192.0.2.10"});
  v.interface = "lvs0";
  const auto p = PlanFor({v, MakeVip("api", {"192.0.2.11"})}, BasicNode());
  EXPECT_TRUE(p.blocked.count(Ip("192.0.2.10")));
  ASSERT_EQ(p.add_addresses.size(), 1u);
  EXPECT_EQ(p.add_addresses[0].ip, Ip("192.0.2.11"));
}

TEST(Plan, PerInterfaceTouchesArpCapableDevicesOnlyThroughNetlink) {
  auto o = BasicNode();
  o.links.push_back(Link{3, "eth1", true, false, false, "", 0});
  for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce}) o.sysctls[SysctlKey{"eth1", k}] = 0;
  auto v = MakeVip("web", {"192.0.2.10"});
  v.arp.scope = ArpScope::PerInterface;
  const auto p = PlanFor({v}, o);
  ASSERT_EQ(p.set_sysctls.size(), 4u);
  for (const auto& s : p.set_sysctls) {
    EXPECT_TRUE(s.key.conf == "eth0" || s.key.conf == "eth1") << s.Describe();
    EXPECT_NE(s.ifindex, 0);
  }
}

TEST(Plan, RestoresRecordedOriginalsWhenNoVipRemains) {
  auto o = BasicNode();
  o.sysctls[SysctlKey{"all", ArpKey::Announce}] = 1;  // what the admin had before
  SysctlRecord rec;
  SimulateApply(o, PlanFor({MakeVip("web", {"192.0.2.10"})}, o, rec), &rec);
  EXPECT_EQ(rec.at(SysctlKey{"all", ArpKey::Announce}), 1);
  EXPECT_EQ(o.sysctls.at(SysctlKey{"all", ArpKey::Announce}), 2);
  const auto p = PlanFor({}, o, rec);
  EXPECT_EQ(p.restore_sysctls.size(), 6u);
  SimulateApply(o, p, &rec);
  EXPECT_EQ(o.sysctls.at(SysctlKey{"all", ArpKey::Announce}), 1);
  EXPECT_EQ(o.sysctls.at(SysctlKey{"all", ArpKey::Ignore}), 0);
  EXPECT_TRUE(rec.empty());
  EXPECT_FALSE(PlanFor({}, o, rec).HasWrites());
}

TEST(Plan, DriftOnARecordedKeyKeepsTheFirstOriginal) {
  auto o = BasicNode();
  SysctlRecord rec;
  SimulateApply(o, PlanFor({MakeVip("web", {"192.0.2.10"})}, o, rec), &rec);
  o.sysctls[SysctlKey{"all", ArpKey::Ignore}] = 0;  // someone resets it
  const auto p = PlanFor({MakeVip("web", {"192.0.2.10"})}, o, rec);
  ASSERT_EQ(p.set_sysctls.size(), 1u);
  EXPECT_FALSE(p.set_sysctls[0].record_original.has_value());
}

TEST(Plan, KeysThatNoLongerExistAreDroppedNotRestored) {
  auto o = BasicNode();
  SysctlRecord rec{{SysctlKey{"eth9", ArpKey::Ignore}, 0}};
  const auto p = PlanFor({}, o, rec);
  EXPECT_TRUE(p.restore_sysctls.empty());
  ASSERT_EQ(p.drop_records.size(), 1u);
}

}  // namespace
}  // namespace lvsrs
