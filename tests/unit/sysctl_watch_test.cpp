#include "reconcile/sysctl_watch.h"

#include <gtest/gtest.h>

#include "observed_builder.h"
#include "reconcile/plan.h"

namespace lvsrs {
namespace {

using testing::BasicNode;
using testing::MakeVip;
using testing::SimulateApply;

const NodeInfo kNode{"rs1", {}};

std::vector<std::string> Keys(const SysctlValues& v) {
  std::vector<std::string> out;
  for (const auto& [k, _] : v) out.push_back(k.ToString());
  return out;
}

std::vector<std::string> Keys(const std::vector<SysctlKey>& v) {
  std::vector<std::string> out;
  for (const auto& k : v) out.push_back(k.ToString());
  return out;
}

// Converges BasicNode for vips and returns the state the pass leaves, as the reconciler does.
struct Converged {
  ObservedState observed = BasicNode();
  DesiredState desired;
  SysctlValues watched;
};
Converged Converge(const std::vector<VirtualIp>& vips) {
  Converged c;
  SysctlRecord rec;
  c.desired = BuildDesiredState(vips, kNode, c.observed);
  SimulateApply(c.observed, ComputePlan(c.desired, c.observed, rec), &rec);
  c.watched = SysctlsToWatch(c.desired, c.observed);
  return c;
}

TEST(SysctlWatch, GlobalScopeWatchesWhatItWritesAndWhatTheVerdictsDependOn) {
  const auto c = Converge({MakeVip("web", {"192.0.2.10"})});
  // all/default/lo as written; eth0's own values because an admin's conf/eth0/arp_ignore=3 wins
  // over conf/all (max) and changes what is answered, with no notification.
  EXPECT_EQ(Keys(c.watched),
            (std::vector<std::string>{"net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                                      "net.ipv4.conf.default.arp_ignore", "net.ipv4.conf.default.arp_announce",
                                      "net.ipv4.conf.eth0.arp_ignore", "net.ipv4.conf.eth0.arp_announce",
                                      "net.ipv4.conf.lo.arp_ignore", "net.ipv4.conf.lo.arp_announce"}));
  EXPECT_EQ(c.watched.at(SysctlKey{"all", ArpKey::Ignore}), 1);
  EXPECT_EQ(c.watched.at(SysctlKey{"lo", ArpKey::Announce}), 2);
}

TEST(SysctlWatch, PerInterfaceScopeWatchesEachArpCapableInterfaceAndConfAll) {
  auto vip = MakeVip("web", {"192.0.2.10"});
  vip.arp.scope = ArpScope::PerInterface;
  const auto c = Converge({vip});
  // conf/all decides the effective value too (max(all, dev)); lo answers no ARP, default is not written.
  EXPECT_EQ(Keys(c.watched),
            (std::vector<std::string>{"net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce",
                                      "net.ipv4.conf.eth0.arp_ignore", "net.ipv4.conf.eth0.arp_announce"}));
  EXPECT_EQ(c.watched.at(SysctlKey{"eth0", ArpKey::Ignore}), 1);
  EXPECT_EQ(c.watched.at(SysctlKey{"all", ArpKey::Ignore}), 0);
}

TEST(SysctlWatch, NothingSelectedWatchesConfAllOnly) {
  const auto c = Converge({});
  EXPECT_EQ(Keys(c.watched),
            (std::vector<std::string>{"net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_announce"}));
}

TEST(SysctlWatch, NoChangeMeansNoFullPass) {
  const auto c = Converge({MakeVip("web", {"192.0.2.10"})});
  EXPECT_TRUE(ChangedSysctls(c.watched, c.watched).empty());
  // Values nobody watches may differ or come and go.
  auto now = c.watched;
  now[SysctlKey{"eth9", ArpKey::Ignore}] = 3;
  EXPECT_TRUE(ChangedSysctls(c.watched, now).empty());
  now[SysctlKey{"eth0", ArpKey::Ignore}] = 3;  // this one the verdicts depend on
  EXPECT_EQ(ChangedSysctls(c.watched, now), std::vector<SysctlKey>{(SysctlKey{"eth0", ArpKey::Ignore})});
}

TEST(SysctlWatch, AResetIsFoundAndTheFullPassRepairsIt) {
  auto c = Converge({MakeVip("web", {"192.0.2.10"})});
  c.observed.sysctls[SysctlKey{"all", ArpKey::Ignore}] = 0;  // `sysctl -w net.ipv4.conf.all.arp_ignore=0`
  const SysctlValues now = SysctlsToWatch(c.desired, c.observed);
  EXPECT_EQ(Keys(ChangedSysctls(c.watched, now)), (std::vector<std::string>{"net.ipv4.conf.all.arp_ignore"}));
  // What the full pass then does:
  const Plan p = ComputePlan(c.desired, c.observed, {});
  ASSERT_EQ(p.set_sysctls.size(), 1u);
  EXPECT_EQ(p.set_sysctls[0].Describe(), "net.ipv4.conf.all.arp_ignore=1");
}

TEST(SysctlWatch, AKeyThatCannotBeReadAnyMoreCountsAsChanged) {
  auto vip = MakeVip("web", {"192.0.2.10"});
  vip.arp.scope = ArpScope::PerInterface;
  const auto c = Converge({vip});
  SysctlValues now = c.watched;
  now.erase(SysctlKey{"eth0", ArpKey::Announce});  // eth0 renamed or gone between two polls
  EXPECT_EQ(Keys(ChangedSysctls(c.watched, now)), (std::vector<std::string>{"net.ipv4.conf.eth0.arp_announce"}));
}

TEST(SysctlWatch, AValueTheLastPassLeftWrongIsNotReportedAgainUntilItMoves) {
  // The write of conf/all.arp_ignore failed (read-only /proc/sys): the pass left 0, and its retry
  // is the reconciler's business; polling must not turn that into a full pass every tick.
  auto c = Converge({MakeVip("web", {"192.0.2.10"})});
  c.observed.sysctls[SysctlKey{"all", ArpKey::Ignore}] = 0;
  const SysctlValues left = SysctlsToWatch(c.desired, c.observed);
  EXPECT_TRUE(ChangedSysctls(left, left).empty());
  SysctlValues now = left;
  now[SysctlKey{"all", ArpKey::Ignore}] = 1;  // someone fixed it by hand: a pass re-judges the status
  EXPECT_EQ(ChangedSysctls(left, now).size(), 1u);
}

}  // namespace
}  // namespace lvsrs
