// The Reconciler against the in-memory kernel and state file (tests/support/fake_kernel.h), with
// time passed in: failure paths and backoff schedules exactly, without root. tests/faults runs the
// same behaviour through the binary against the real kernel.
#include "agent/reconciler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

#include "observed_builder.h"
#include "support/fake_kernel.h"

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::BasicNode;
using testing::FakeAddressRecordStore;
using testing::FakeKernel;
using testing::FakeRecordStore;
using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};
const SysctlKey kAllIgnore{"all", ArpKey::Ignore};
const ItemKey kAddr10 = ItemKey::OfAddress(Ip("192.0.2.10"));
const ItemKey kRoute10 = ItemKey::OfRoute(Ip("192.0.2.10"));

bool HasAddress(const ObservedState& o, const char* ip) {
  return std::any_of(o.addresses.begin(), o.addresses.end(), [&](const KernelAddress& a) { return a.ip == Ip(ip); });
}

bool HasRoute(const ObservedState& o, const char* ip) {
  return std::any_of(o.routes.begin(), o.routes.end(), [&](const KernelRoute& r) { return r.dst == Ip(ip); });
}

void DeleteAddress(ObservedState& o, const char* ip) {
  std::erase_if(o.addresses, [&](const KernelAddress& a) { return a.ip == Ip(ip); });
}

long Count(const std::vector<std::string>& journal, const std::string& line) {
  return std::count(journal.begin(), journal.end(), line);
}

struct Fixture : ::testing::Test {
  FakeKernel kernel{BasicNode()};
  FakeRecordStore store;
  FakeAddressRecordStore addresses;
  Reconciler reconciler{kernel, store, addresses};
  std::vector<std::string> journal;
  const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);
  const std::vector<VirtualIp> web = {MakeVip("web", {"192.0.2.10"})};

  Fixture() {
    kernel.set_journal(&journal);
    store.journal = &journal;
    addresses.journal = &journal;
  }
  ReconcileOutcome Pass(Clock::time_point now) { return reconciler.Reconcile(web, kNode, now); }
};

using ReconcilerTest = Fixture;

TEST_F(ReconcilerTest, ConvergesAndASecondPassWritesNothing) {
  const auto first = Pass(t0);
  EXPECT_TRUE(first.error.empty()) << first.error;
  EXPECT_TRUE(first.applied.ok());
  EXPECT_TRUE(first.status.conformant());
  EXPECT_TRUE(first.repairs.empty()) << "putting a VIP in place the first time is no repair";
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10"));
  EXPECT_TRUE(HasRoute(kernel.state(), "192.0.2.10"));
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 1);
  const auto second = Pass(t0 + seconds(1));
  EXPECT_FALSE(second.plan.HasWrites()) << second.plan.ToText();
  EXPECT_EQ(kernel.apply_calls(), 1);
  EXPECT_FALSE(reconciler.NextRetry().has_value()) << "nothing in backoff, nothing to wake for";
}

TEST_F(ReconcilerTest, RecordsTheOriginalBeforeTheFirstSysctlWrite) {
  kernel.state().sysctls[kAllIgnore] = 2;  // an admin's value, to be restored later
  Pass(t0);
  const auto save = std::find(journal.begin(), journal.end(), "save");
  const auto first_set =
      std::find_if(journal.begin(), journal.end(), [](const std::string& l) { return l.rfind("set sysctl:", 0) == 0; });
  ASSERT_NE(save, journal.end());
  ASSERT_NE(first_set, journal.end());
  EXPECT_LT(save, first_set) << "the original must be on disk before the value is overwritten";
  EXPECT_EQ(store.saved.at(kAllIgnore), (RecordedSysctl{2, 1})) << "the original, and the value written over it";
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 1);

  // Nobody wants a VIP any more: the original comes back and the record goes.
  const auto gone = reconciler.Reconcile({}, kNode, t0 + seconds(1));
  EXPECT_TRUE(gone.applied.ok());
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 2);
  EXPECT_FALSE(store.saved.count(kAllIgnore));
  EXPECT_FALSE(HasAddress(kernel.state(), "192.0.2.10"));
}

TEST_F(ReconcilerTest, AFailedSaveBlocksTheSysctlWritesButNotTheAddresses) {
  kernel.state().sysctls[kAllIgnore] = 2;
  store.fail_saves = true;
  const auto o = Pass(t0);
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 2) << "never overwrite a value whose original is not recorded";
  EXPECT_EQ(Count(journal, "set sysctl:net.ipv4.conf.all.arp_ignore"), 0);
  ASSERT_TRUE(o.applied.Failed(ItemKey::OfSysctl(kAllIgnore)));
  EXPECT_NE(o.applied.errors.at(ItemKey::OfSysctl(kAllIgnore)).find("cannot record the original value"),
            std::string::npos);
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10")) << "the VIP itself needs no record";
  EXPECT_FALSE(o.status.arp_conformant);

  // The disk is back: the sysctls follow once their backoff (first retry after 200 ms) is over.
  store.fail_saves = false;
  Pass(t0 + milliseconds(199));
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 2) << "still in backoff";
  ASSERT_EQ(reconciler.NextRetry(), t0 + milliseconds(200));
  const auto retried = Pass(t0 + milliseconds(200));
  EXPECT_TRUE(retried.applied.ok());
  EXPECT_EQ(store.saved.at(kAllIgnore), (RecordedSysctl{2, 1})) << "the original, and the value written over it";
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 1);
  EXPECT_TRUE(retried.status.conformant());
}

TEST_F(ReconcilerTest, OneFailingItemDoesNotBlockTheOthers) {
  kernel.FailItem(kAddr10, EPERM);
  kernel.FailItem(kRoute10, EACCES);
  const auto o = reconciler.Reconcile({MakeVip("web", {"192.0.2.10", "192.0.2.11"})}, kNode, t0);
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.11"));
  EXPECT_TRUE(HasRoute(kernel.state(), "192.0.2.11"));
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 1);
  // The address and the route of one VIP fail as two items, and both are reported.
  ASSERT_EQ(o.applied.errors.size(), 2u);
  EXPECT_NE(o.applied.errors.at(kAddr10).find("Operation not permitted"), std::string::npos);
  EXPECT_NE(o.applied.errors.at(kRoute10).find("Permission denied"), std::string::npos);
  const auto failed = std::find_if(o.status.vips.begin(), o.status.vips.end(),
                                   [](const VipAddressStatus& s) { return s.address == "192.0.2.10"; });
  ASSERT_NE(failed, o.status.vips.end());
  EXPECT_EQ(failed->state, VipState::Failed);
  EXPECT_NE(failed->message.find("Operation not permitted"), std::string::npos) << failed->message;
  EXPECT_NE(failed->message.find("Permission denied"), std::string::npos) << failed->message;
}

TEST_F(ReconcilerTest, AFailingWriteIsRetriedOnTheBackoffScheduleThenForgotten) {
  kernel.FailItem(kAddr10, EPERM);
  std::vector<Clock::duration> delays;
  auto now = t0;
  for (int i = 0; i < 10; ++i) {
    const long before = Count(journal, "add ip:192.0.2.10");
    Pass(now);
    EXPECT_EQ(Count(journal, "add ip:192.0.2.10"), before + 1) << "attempted when due, at pass " << i;
    const auto next = reconciler.NextRetry();
    ASSERT_TRUE(next.has_value());
    delays.push_back(*next - now);
    // A pass just before the retry is due (another item woke the loop) leaves it alone.
    Pass(*next - milliseconds(1));
    EXPECT_EQ(Count(journal, "add ip:192.0.2.10"), before + 1) << "held back at pass " << i;
    now = *next;
  }
  const std::vector<Clock::duration> want = {
      milliseconds(200),  milliseconds(400),   milliseconds(800),   milliseconds(1600), milliseconds(3200),
      milliseconds(6400), milliseconds(12800), milliseconds(25600), seconds(30),        seconds(30)};
  EXPECT_EQ(delays, want);
  EXPECT_TRUE(HasRoute(kernel.state(), "192.0.2.10")) << "the route is its own item and was not held back";

  kernel.ClearFailure(kAddr10);
  const auto o = Pass(now);
  EXPECT_TRUE(o.applied.ok());
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10"));
  EXPECT_FALSE(reconciler.NextRetry().has_value()) << "a settled retry must not keep waking the loop";
}

TEST_F(ReconcilerTest, DriftRepairsAreCountedPerKind) {
  Pass(t0);
  DeleteAddress(kernel.state(), "192.0.2.10");
  auto o = Pass(t0 + seconds(60));
  EXPECT_EQ(o.repairs, (std::map<std::string, int>{{"address", 1}}));
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10"));

  std::erase_if(kernel.state().routes, [](const KernelRoute& r) { return r.dst == Ip("192.0.2.10"); });
  o = Pass(t0 + seconds(120));
  EXPECT_EQ(o.repairs, (std::map<std::string, int>{{"route", 1}}));

  kernel.state().sysctls[kAllIgnore] = 0;
  o = Pass(t0 + seconds(180));
  EXPECT_EQ(o.repairs, (std::map<std::string, int>{{"sysctl", 1}}));
  EXPECT_EQ(kernel.state().sysctls.at(kAllIgnore), 1);
  EXPECT_TRUE(o.contested.empty()) << "one repair a minute is drift, not a fight";
}

TEST_F(ReconcilerTest, AFailedObserveFailsThePassAndTouchesNothing) {
  kernel.FailObserve("netlink dump of addresses: Operation not permitted");
  const auto o = Pass(t0);
  EXPECT_EQ(o.error, "netlink dump of addresses: Operation not permitted");
  EXPECT_EQ(kernel.apply_calls(), 0);
  EXPECT_NE(reconciler.SysctlsChangedSinceLastPass(), "") << "nothing to compare with: ask for a full pass";
  kernel.FailObserve(std::nullopt);
  EXPECT_TRUE(Pass(t0 + seconds(1)).status.conformant());
  EXPECT_EQ(reconciler.SysctlsChangedSinceLastPass(), "");
}

// A loop deletes the VIP whenever it is present, checked every 10 ms for 20 s; the agent runs a
// pass after every deletion (the netlink notification) and whenever NextRetry() comes due. The
// repairs must go on all through the storm, but at the RepairTracker's pace (three quick ones,
// then after waits of 50, 100, 200, 400, 800 ms and then 1 s each), not once per deletion.
TEST_F(ReconcilerTest, DriftStormIsRepairedThroughoutWithBackoff) {
  Pass(t0);
  std::vector<Clock::time_point> added;  // when the VIP's address was put back
  ReconcileOutcome last;
  const auto storm_end = t0 + seconds(20);
  for (auto now = t0 + milliseconds(10); now <= storm_end; now += milliseconds(10)) {
    bool wake = false;
    if (HasAddress(kernel.state(), "192.0.2.10")) {
      DeleteAddress(kernel.state(), "192.0.2.10");
      wake = true;
    }
    if (auto retry = reconciler.NextRetry(); retry && *retry <= now) wake = true;
    if (!wake) continue;
    last = Pass(now);
    if (HasAddress(kernel.state(), "192.0.2.10")) added.push_back(now);
  }
  ASSERT_EQ(last.contested.count(kAddr10), 1u) << "the fight is reported";
  EXPECT_EQ(kAddr10.ToString(), "ip:192.0.2.10");
  // Throughout: no gap between two repairs longer than the longest backoff (1 s) plus a tick.
  ASSERT_FALSE(added.empty());
  for (std::size_t i = 1; i < added.size(); ++i)
    EXPECT_LE(added[i] - added[i - 1], milliseconds(1010)) << "gap before repair " << i;
  EXPECT_GE(added.back(), storm_end - seconds(1));
  // Exactly at the schedule's pace (2,000 deletions, 49 re-adds): three quick repairs, then
  // each wait of the schedule ends in two re-adds 10 ms apart. The first one after a wait is not
  // counted as a repair, because the held-back pass saw the address missing and no longer counts
  // it as established; the second, right after the next deletion, is, and starts the next wait.
  std::vector<Clock::time_point> want = {t0 + milliseconds(10), t0 + milliseconds(20), t0 + milliseconds(30)};
  auto t = want.back();
  for (int wait_ms : {50, 100, 200, 400, 800, 1000}) {
    do {
      t += milliseconds(wait_ms);
      if (t > storm_end) break;
      want.push_back(t);
      t += milliseconds(10);
      if (t <= storm_end) want.push_back(t);
    } while (wait_ms == 1000);
  }
  EXPECT_EQ(added, want);
}

// The memory of what this node accepted lives in the Reconciler: an edit it refuses leaves the
// kernel as it was, a pass that fails to read the kernel forgets nothing, and a restarted agent
// that is handed the saved specs (SetAcceptedSpecs) keeps serving them.
TEST_F(ReconcilerTest, AnEditThisNodeRefusesLeavesTheKernelAsItWasAlsoAfterARestart) {
  VirtualIp v = MakeVip("web", {"192.0.2.10"});
  v.uid = "uid-web";
  VirtualIp edit = MakeVip("web", {"198.51.100.7"});  // the node's own address
  edit.uid = "uid-web";
  ASSERT_TRUE(reconciler.Reconcile({v}, kNode, t0).status.conformant());

  kernel.FailObserve("netlink: dump interrupted");
  EXPECT_FALSE(reconciler.Reconcile({edit}, kNode, t0 + seconds(1)).error.empty());
  kernel.FailObserve(std::nullopt);
  const auto o = reconciler.Reconcile({edit}, kNode, t0 + seconds(2));
  EXPECT_FALSE(o.plan.HasWrites()) << o.plan.ToText();
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10"));
  ASSERT_TRUE(o.desired.kept.count("web"));
  EXPECT_EQ(reconciler.accepted_specs().at("uid-web"), v);

  Reconciler restarted{kernel, store, addresses};
  restarted.SetAcceptedSpecs(reconciler.accepted_specs());
  const auto after = restarted.Reconcile({edit}, kNode, t0 + seconds(3));
  EXPECT_FALSE(after.plan.HasWrites()) << after.plan.ToText();
  EXPECT_TRUE(after.desired.kept.count("web"));
  EXPECT_TRUE(HasAddress(kernel.state(), "192.0.2.10"));

  // Without the memory (a restart that saved nothing), the edit is refused as new: withdrawn.
  Reconciler amnesic{kernel, store, addresses};
  amnesic.Reconcile({edit}, kNode, t0 + seconds(4));
  EXPECT_FALSE(HasAddress(kernel.state(), "192.0.2.10"));
}

// A kernel before 5.18: it accepts IFA_PROTO and drops it (FakeKernel's keeps_address_protocol).
struct OldKernel : ::testing::Test {
  FakeKernel kernel{BasicNode(), false};
  FakeRecordStore store;
  FakeAddressRecordStore addresses;
  std::vector<std::string> journal;
  const Clock::time_point t0 = Clock::time_point{} + std::chrono::hours(1000);
  const std::vector<VirtualIp> web = {MakeVip("web", {"192.0.2.10", "2001:db8::10"})};

  OldKernel() {
    kernel.set_journal(&journal);
    addresses.journal = &journal;
  }
  // A fresh agent on the same kernel and state directory: what a restart sees.
  ReconcileOutcome Restarted(const std::vector<VirtualIp>& vips, Clock::time_point now) {
    Reconciler r{kernel, store, addresses};
    r.LoadRecords();
    return r.Reconcile(vips, kNode, now);
  }
};

TEST_F(OldKernel, EachAddressIsRecordedBeforeItIsAdded) {
  const auto o = Restarted(web, t0);
  ASSERT_TRUE(o.applied.ok());
  const auto record = std::find(journal.begin(), journal.end(), "record addresses");
  const auto add = std::find(journal.begin(), journal.end(), "add ip:2001:db8::10");
  ASSERT_NE(record, journal.end());
  ASSERT_NE(add, journal.end());
  EXPECT_LT(record, add) << "the record must be on disk before the kernel holds an address without a mark";
  EXPECT_EQ(addresses.saved, (AddressRecord{{Ip("192.0.2.10"), 1, "lo"}, {Ip("2001:db8::10"), 1, "lo"}}));
  for (const auto& a : kernel.state().addresses)
    if (a.ip == Ip("2001:db8::10")) {
      EXPECT_EQ(a.proto, 0) << "the fake kernel dropped the mark, as old kernels do";
    }
  EXPECT_TRUE(o.status.conformant());
  for (const auto& v : o.status.vips) EXPECT_EQ(v.state, VipState::Configured) << v.address << ": " << v.message;
}

TEST_F(OldKernel, RecognisedAfterARestartAndRemovedWithTheirRecord) {
  Restarted(web, t0);
  const auto again = Restarted(web, t0 + seconds(1));
  EXPECT_FALSE(again.plan.HasWrites()) << again.plan.ToText();
  for (const auto& v : again.status.vips) EXPECT_EQ(v.state, VipState::Configured) << v.address;

  const auto gone = Restarted({}, t0 + seconds(2));
  EXPECT_TRUE(gone.applied.ok());
  EXPECT_FALSE(HasAddress(kernel.state(), "2001:db8::10"));
  EXPECT_FALSE(HasAddress(kernel.state(), "192.0.2.10"));
  EXPECT_TRUE(addresses.saved.empty()) << "a record never outlives its address";
}

TEST_F(OldKernel, AnIdenticalLookingAddressWithoutARecordIsNeverRemoved) {
  // Every property the operator would give it, but no record: someone else's.
  kernel.state().addresses.push_back(KernelAddress{Ip("2001:db8::10"), 128, 1, "", 0, kScopeUniverse, false,
                                                   kAddrFlagNoDad | kAddrFlagNoPrefixRoute | kAddrFlagDeprecated});
  const auto adopted = Restarted(web, t0);
  for (const auto& v : adopted.status.vips)
    if (v.address == "2001:db8::10") {
      EXPECT_EQ(v.state, VipState::Adopted);
    }
  EXPECT_EQ(addresses.saved, (AddressRecord{{Ip("192.0.2.10"), 1, "lo"}})) << "only what the operator added";
  Restarted({}, t0 + seconds(1));
  EXPECT_TRUE(HasAddress(kernel.state(), "2001:db8::10"));
  EXPECT_FALSE(HasAddress(kernel.state(), "192.0.2.10"));
}

TEST_F(OldKernel, AnAddressWhosePropertiesSomeoneChangedIsTheirs) {
  Restarted(web, t0);
  for (auto& a : kernel.state().addresses)
    if (a.ip == Ip("2001:db8::10")) a.flags &= ~kAddrFlagNoDad;  // as `ip addr change` without nodad
  const auto o = Restarted({}, t0 + seconds(1));
  EXPECT_TRUE(HasAddress(kernel.state(), "2001:db8::10"));
  EXPECT_EQ(addresses.saved, AddressRecord{}) << "the entry no longer backs an address of ours";
  for (const auto& r : o.plan.remove_addresses) EXPECT_FALSE(r.ip == Ip("2001:db8::10"));
}

TEST_F(OldKernel, NoAddressIsAddedWhileItsRecordCannotBeSaved) {
  addresses.fail_saves = true;
  const auto o = Restarted(web, t0);
  EXPECT_FALSE(HasAddress(kernel.state(), "2001:db8::10"));
  ASSERT_TRUE(o.applied.Failed(ItemKey::OfAddress(Ip("2001:db8::10"))));
  EXPECT_NE(o.applied.errors.at(ItemKey::OfAddress(Ip("2001:db8::10"))).find("cannot record it before adding it"),
            std::string::npos);
  EXPECT_FALSE(o.status.vips_configured);
  addresses.fail_saves = false;
  EXPECT_TRUE(Restarted(web, t0 + seconds(1)).status.conformant());
  EXPECT_TRUE(HasAddress(kernel.state(), "2001:db8::10"));
}

TEST_F(ReconcilerTest, AKernelThatKeepsTheMarkNeedsNoRecord) {
  const auto o = reconciler.Reconcile({MakeVip("web", {"192.0.2.10", "2001:db8::10"})}, kNode, t0);
  ASSERT_TRUE(o.applied.ok());
  EXPECT_EQ(addresses.saves, 0);
  EXPECT_TRUE(HasAddress(kernel.state(), "2001:db8::10"));
}

}  // namespace
}  // namespace lvsrs
