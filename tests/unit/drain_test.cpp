// The drain decision (reconcile/drain.h) as tables: which leaving VIPs stay, until when, and why
// each ends; then the plan keeping a draining VIP, and the Reconciler carrying a drain through
// passes and a restart against the fake kernel.
#include "reconcile/drain.h"

#include <gtest/gtest.h>

#include <optional>

#include "agent/reconciler.h"
#include "observed_builder.h"
#include "support/fake_kernel.h"
#include "support/fake_time.h"

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BasicNode;
using testing::Converged;
using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};
constexpr std::int64_t kNow = 1'800'000'000'000;

VirtualIp Web(milliseconds timeout = seconds(30)) {
  VirtualIp v = MakeVip("web", {"192.0.2.10"});
  v.drain_timeout = timeout;
  return v;
}

Drain PreviousDrain(std::int64_t started, std::int64_t deadline) {
  Drain d;
  d.address = Ip("192.0.2.10");
  d.virtual_ip = "web";
  d.interface = "lo";
  d.reason = "VirtualIP web was deleted or no longer selects this node";
  d.started_unix_ms = started;
  d.deadline_unix_ms = deadline;
  return d;
}

// What happened to 192.0.2.10 in one decision.
std::string Outcome(const DrainDecision& d) {
  const IpAddress ip = Ip("192.0.2.10");
  for (const auto& s : d.started)
    if (s.address == ip) return "started until +" + std::to_string(s.deadline_unix_ms - kNow);
  if (auto it = d.draining.find(ip); it != d.draining.end())
    return "draining until +" + std::to_string(it->second.deadline_unix_ms - kNow);
  for (const auto& w : d.withdrawn)
    if (w.drain.address == ip) return "withdrawn: " + w.reason;
  for (const auto& u : d.undone)
    if (u.address == ip) return "serving again";
  return "untouched";
}

struct Row {
  const char* what;
  bool wanted;                                // the VirtualIP still asks for it this pass
  std::optional<std::int64_t> prev_deadline;  // a drain of an earlier pass, until kNow + this
  std::optional<std::size_t> connections;     // nullopt: the count failed
  milliseconds timeout;                       // the VirtualIP's drainTimeout
  bool address_on_node;
  const char* expected;
};

TEST(DrainDecision, Table) {
  const Row rows[] = {
      {"deleted with connections: drains for its drainTimeout",
       false,
       {},
       2,
       seconds(30),
       true,
       "started until +30000"},
      {"deleted without connections: withdrawn at once",
       false,
       {},
       0,
       seconds(30),
       true,
       "withdrawn: no connections left"},
      {"drainTimeout 0: withdrawn at once, connections or not",
       false,
       {},
       5,
       seconds(0),
       true,
       "withdrawn: drainTimeout is 0s"},
      {"count failed: drains, never idle", false, {}, std::nullopt, seconds(30), true, "started until +30000"},
      {"draining, connections left, before the deadline: same deadline", false, 12000, 3, seconds(30), true,
       "draining until +12000"},
      {"draining, the last connection closed", false, 12000, 0, seconds(30), true, "withdrawn: no connections left"},
      {"draining, the deadline passed", false, 0, 3, seconds(30), true, "withdrawn: timeout with 3 connections"},
      {"draining, one connection at the deadline", false, -1, 1, seconds(30), true,
       "withdrawn: timeout with 1 connection"},
      {"draining, count failed, deadline passed", false, -5, std::nullopt, seconds(30), true,
       "withdrawn: timeout with 0 connections"},
      {"draining, a new drainTimeout does not move the deadline", false, 12000, 3, seconds(3600), true,
       "draining until +12000"},
      {"draining, wanted again: undone", true, 12000, 3, seconds(30), true, "serving again"},
      {"draining, removed by hand", false, 12000, 3, seconds(30), false,
       "withdrawn: the address is no longer on the node"},
      {"wanted: nothing drains", true, {}, 3, seconds(30), true, "untouched"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.what);
    const std::vector<VirtualIp> all = {Web(r.timeout)};
    ObservedState observed = Converged(all, kNode);
    if (!r.address_on_node) std::erase_if(observed.addresses, [](const KernelAddress& a) { return a.owned(); });
    const DesiredState desired = BuildDesiredState(r.wanted ? all : std::vector<VirtualIp>{}, kNode, observed);
    Drains previous;
    if (r.prev_deadline) previous[Ip("192.0.2.10")] = PreviousDrain(kNow - 5000, kNow + *r.prev_deadline);
    std::map<IpAddress, std::size_t> connections;
    if (r.connections) connections[Ip("192.0.2.10")] = *r.connections;
    const std::map<std::string, VirtualIp> known = {{"name:web", Web(r.timeout)}};
    const DrainDecision d = DecideDrains(DrainInputs{previous, desired, observed, known, "", connections, kNow});
    EXPECT_EQ(Outcome(d), r.expected);
  }
}

TEST(DrainDecision, ReasonsAndDefaults) {
  const std::vector<VirtualIp> all = {Web()};
  const ObservedState observed = Converged(all, kNode);
  const std::map<IpAddress, std::size_t> busy = {{Ip("192.0.2.10"), 1}};
  struct Case {
    const char* what;
    std::vector<VirtualIp> vips;
    std::map<std::string, VirtualIp> known;
    std::string node_drain;
    std::string reason;
    std::int64_t timeout_ms;
  };
  VirtualIp edited = Web();
  edited.addresses = {Ip("192.0.2.11")};
  const Case cases[] = {
      {"deleted",
       {},
       {{"name:web", Web(seconds(90))}},
       "",
       "VirtualIP web was deleted or no longer selects this node",
       90000},
      {"edited to leave it out", {edited}, {{"name:web", Web()}}, "", "VirtualIP web no longer lists it", 30000},
      {"no spec known (a restart without saved specs): the default",
       {},
       {},
       "",
       "no VirtualIP on this node asks for it any more",
       30000},
      {"node drain: the reason is the node's",
       {},
       {{"name:web", Web()}},
       "the Node has the label lvsdr.io/drain=true",
       "the Node has the label lvsdr.io/drain=true",
       30000},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    const DesiredState desired = BuildDesiredState(c.vips, kNode, observed);
    const DrainDecision d = DecideDrains(DrainInputs{{}, desired, observed, c.known, c.node_drain, busy, kNow});
    ASSERT_EQ(d.started.size(), 1u);
    EXPECT_EQ(d.started[0].reason, c.reason);
    EXPECT_EQ(d.started[0].deadline_unix_ms - kNow, c.timeout_ms);
    EXPECT_EQ(d.started[0].interface, "lo");
    EXPECT_TRUE(d.started[0].host_route);
    EXPECT_EQ(d.started[0].connections, 1u);
  }
}

TEST(DrainDecision, NodeDrainRequests) {
  struct Case {
    std::map<std::string, std::string> labels;
    bool by_file;
    bool drains;
  };
  const Case cases[] = {
      {{}, false, false},
      {{{"node.kubernetes.io/exclude-from-external-load-balancers", ""}}, false, true},
      {{{"node.kubernetes.io/exclude-from-external-load-balancers", "true"}}, false, true},
      {{{"lvsdr.io/drain", "true"}}, false, true},
      {{{"lvsdr.io/drain", ""}}, false, true},
      {{{"lvsdr.io/drain", "false"}}, false, false},
      {{}, true, true},
      // Cordon is spec.unschedulable and a taint, no label: it cannot drain. Nor can other labels.
      {{{"node.kubernetes.io/unschedulable", "true"}, {"kubernetes.io/hostname", "rs1"}}, false, false},
  };
  for (const Case& c : cases) {
    std::string labels;
    for (const auto& [k, v] : c.labels) labels += k + "=" + v + " ";
    EXPECT_EQ(!NodeDrainReason(c.labels, c.by_file).empty(), c.drains) << labels << " file=" << c.by_file;
  }
}

TEST(DrainPlan, ADrainingVipKeepsAddressRouteAndSysctls) {
  const std::vector<VirtualIp> all = {Web()};
  ObservedState observed = BasicNode();
  SysctlRecord record;
  testing::SimulateApply(observed, ComputePlan(BuildDesiredState(all, kNode, observed), observed, {}), &record);

  DesiredState desired = BuildDesiredState({}, kNode, observed);
  const Plan withdraw = ComputePlan(desired, observed, record);
  EXPECT_EQ(withdraw.remove_addresses.size(), 1u) << withdraw.ToText();
  EXPECT_EQ(withdraw.remove_routes.size(), 1u);
  EXPECT_FALSE(withdraw.restore_sysctls.empty());

  KeepDraining(desired, {{Ip("192.0.2.10"), PreviousDrain(kNow, kNow + 30000)}});
  const Plan keep = ComputePlan(desired, observed, record);
  EXPECT_FALSE(keep.HasWrites()) << keep.ToText();
  EXPECT_TRUE(keep.drop_records.empty());

  // Removed by someone else while draining: not put back.
  std::erase_if(observed.addresses, [](const KernelAddress& a) { return a.owned(); });
  EXPECT_TRUE(ComputePlan(desired, observed, record).add_addresses.empty());
}

// The Reconciler with drain enabled, against the fake kernel and a fake draining.json.
struct ReconcilerDrain : ::testing::Test {
  testing::FakeKernel kernel{BasicNode()};
  testing::FakeRecordStore store;
  testing::FakeAddressRecordStore addresses;
  testing::FakeDrainStore drains;
  testing::FakeTime time;
  std::vector<std::string> journal;
  std::unique_ptr<Reconciler> reconciler;

  ReconcilerDrain() {
    kernel.set_journal(&journal);
    drains.journal = &journal;
    Restart();
  }
  void Restart() {
    reconciler = std::make_unique<Reconciler>(kernel, store, addresses);
    reconciler->EnableDrain(drains, time);
  }
  ReconcileOutcome Pass(const std::vector<VirtualIp>& vips, const NodeInfo& node = kNode) {
    return reconciler->Reconcile(vips, node, time.Steady());
  }
  bool Has(const char* ip) {
    const auto& a = kernel.state().addresses;
    return std::any_of(a.begin(), a.end(), [&](const KernelAddress& k) { return k.ip == Ip(ip); });
  }
  std::int64_t WallMs() { return std::chrono::duration_cast<milliseconds>(time.Wall().time_since_epoch()).count(); }
};

TEST_F(ReconcilerDrain, DeletedVirtualIpDrainsUntilItsConnectionsClose) {
  Pass({Web()});
  ASSERT_TRUE(Has("192.0.2.10"));
  kernel.SetConnections(Ip("192.0.2.10"), 2);
  const auto o = Pass({});
  ASSERT_EQ(o.drain.started.size(), 1u);
  EXPECT_TRUE(Has("192.0.2.10"));
  EXPECT_EQ(kernel.state().sysctls.at(SysctlKey{"all", ArpKey::Ignore}), 1);
  EXPECT_EQ(drains.saved.at(Ip("192.0.2.10")).deadline_unix_ms, WallMs() + 30000);
  // Saved before the status reports it: the journal has the save, the status the state.
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "save drains"), 1);
  const auto it = std::find_if(o.status.vips.begin(), o.status.vips.end(),
                               [](const VipAddressStatus& v) { return v.state == VipState::Draining; });
  ASSERT_NE(it, o.status.vips.end());
  EXPECT_EQ(it->virtual_ip, "web");
  EXPECT_EQ(it->connections, 2u);
  EXPECT_TRUE(reconciler->NextRetry().has_value()) << "counted again while draining";

  time.Advance(seconds(5));
  kernel.SetConnections(Ip("192.0.2.10"), 0);
  const auto done = Pass({});
  ASSERT_EQ(done.drain.withdrawn.size(), 1u);
  EXPECT_EQ(done.drain.withdrawn[0].reason, "no connections left");
  EXPECT_FALSE(Has("192.0.2.10"));
  EXPECT_TRUE(drains.saved.empty());
  EXPECT_EQ(kernel.state().sysctls.at(SysctlKey{"all", ArpKey::Ignore}), 0) << "restored once nothing drains";
}

TEST_F(ReconcilerDrain, ARestartContinuesWithTheSameDeadline) {
  Pass({Web()});
  kernel.SetConnections(Ip("192.0.2.10"), 1);
  Pass({});
  const std::int64_t deadline = drains.saved.at(Ip("192.0.2.10")).deadline_unix_ms;
  time.Advance(seconds(20));
  Restart();
  // The new process knows no spec of the deleted VirtualIP; the drain goes on from the file.
  Pass({});
  EXPECT_TRUE(Has("192.0.2.10"));
  EXPECT_EQ(reconciler->drains().at(Ip("192.0.2.10")).deadline_unix_ms, deadline);
  time.Advance(seconds(10));
  const auto o = Pass({});
  ASSERT_EQ(o.drain.withdrawn.size(), 1u);
  EXPECT_EQ(o.drain.withdrawn[0].reason, "timeout with 1 connection");
  EXPECT_FALSE(Has("192.0.2.10"));
}

TEST_F(ReconcilerDrain, NodeDrainAndUndoRemoveNothing) {
  Pass({Web()});
  kernel.SetConnections(Ip("192.0.2.10"), 1);
  drains.requested = true;
  EXPECT_TRUE(reconciler->DrainRequestChanged());
  const auto o = Pass({Web()});
  ASSERT_EQ(o.drain.started.size(), 1u);
  EXPECT_EQ(o.drain.started[0].reason, "drain requested on this node (lvs-rs-operator drain)");
  EXPECT_FALSE(reconciler->DrainRequestChanged());
  drains.requested = false;
  journal.clear();
  const auto back = Pass({Web()});
  EXPECT_EQ(back.drain.undone.size(), 1u);
  EXPECT_TRUE(Has("192.0.2.10"));
  EXPECT_EQ(std::count(journal.begin(), journal.end(), "save drains"), 1);
  EXPECT_EQ(journal.size(), 1u) << "no kernel write: the VIP never left";
}

TEST_F(ReconcilerDrain, TheExcludeLabelDrainsAndAFailedCountWaitsForTheDeadline) {
  Pass({Web()});
  kernel.FailCount("counting connections (NETLINK_SOCK_DIAG): socket: Permission denied");
  const NodeInfo excluded{"rs1", {{"node.kubernetes.io/exclude-from-external-load-balancers", "true"}}};
  Pass({Web()}, excluded);
  EXPECT_TRUE(Has("192.0.2.10"));
  time.Advance(seconds(31));
  Pass({Web()}, excluded);
  EXPECT_FALSE(Has("192.0.2.10"));
}

TEST_F(ReconcilerDrain, NothingIsCountedWhileNothingLeaves) {
  Pass({Web()});
  Pass({Web()});
  EXPECT_EQ(kernel.count_calls(), 0);
}

}  // namespace
}  // namespace lvsrs
