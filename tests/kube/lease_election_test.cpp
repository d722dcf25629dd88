// LeaseElection against the in-memory API server (tests/support/fake_api_client.h), with the Lease's
// times judged by a fake clock: who holds the Lease after each step, and how often a follower
// asks. kube_e2e_tests see the elected summariser write VirtualIP status on a real cluster.
#include "kube/lease_election.h"

#include <gtest/gtest.h>

#include <memory>
#include <optional>

#include "kube/kube_source.h"
#include "kube/vip_summariser.h"
#include "model/rfc3339.h"
#include "support/fake_api_client.h"
#include "support/fake_time.h"

namespace lvsrs::kube {
namespace {

using std::chrono::seconds;
using testing::ApiFault;
using testing::FakeApiServer;
using testing::FakeTime;

const std::string kNamespace = "lvs-rs-operator";
const std::string kLease = "lvs-rs-operator-summariser";
const std::string kLeasePath = "/apis/coordination.k8s.io/v1/namespaces/" + kNamespace + "/leases/" + kLease;

struct LeaseElectionTest : ::testing::Test {
  FakeApiServer server;
  FakeTime time;
  LeaseElection::Options options;  // 60 s lease, 10 s period
  std::unique_ptr<ApiClient> client = server.NewClient();
  LeaseElection rs1{*client, "rs1", options, time};
  seconds wait{0};

  std::string Holder() const {
    const auto lease = server.Lease(kNamespace, kLease);
    return lease ? lease->holder : "";
  }
  // Another agent holding the Lease, renewed `ago` before now.
  void HeldBy(const std::string& holder, seconds ago) {
    server.PutLease(kNamespace, kLease, {holder, time.Wall() - ago, options.lease_duration});
  }
};

TEST_F(LeaseElectionTest, AcquiresAFreeLease) {
  EXPECT_TRUE(rs1.TryLead(&wait));
  const auto lease = server.Lease(kNamespace, kLease);
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->holder, "rs1");
  EXPECT_EQ(lease->renew_time, FormatRfc3339(time.Wall(), Rfc3339Fraction::Micros));
  EXPECT_EQ(lease->duration_seconds, 60);
  EXPECT_EQ(wait, options.period) << "the holder renews every period";
}

TEST_F(LeaseElectionTest, RenewsItsOwnLease) {
  ASSERT_TRUE(rs1.TryLead(&wait));
  for (int i = 0; i < 3; ++i) {
    time.Advance(wait);
    EXPECT_TRUE(rs1.TryLead(&wait));
    EXPECT_EQ(Holder(), "rs1");
    EXPECT_EQ(server.Lease(kNamespace, kLease)->renew_time, FormatRfc3339(time.Wall(), Rfc3339Fraction::Micros));
  }
}

TEST_F(LeaseElectionTest, DoesNotTakeALeaseHeldByAnotherUntilItExpired) {
  HeldBy("rs2", seconds(0));
  EXPECT_FALSE(rs1.TryLead(&wait));
  time.Advance(seconds(60));  // renewTime + leaseDurationSeconds: not yet past it
  EXPECT_FALSE(rs1.TryLead(&wait));
  EXPECT_EQ(Holder(), "rs2");
  time.Advance(seconds(1));
  EXPECT_TRUE(rs1.TryLead(&wait));
  EXPECT_EQ(Holder(), "rs1");
}

TEST_F(LeaseElectionTest, AConflictOnTheTakeoverMeansSomeoneElseWon) {
  HeldBy("rs2", seconds(120));  // expired: rs1 and rs3 both see it so
  // rs3 takes it between rs1's read and rs1's write.
  server.BeforeRequest("PUT", kLeasePath, [&] { HeldBy("rs3", seconds(0)); });
  EXPECT_FALSE(rs1.TryLead(&wait));
  EXPECT_EQ(server.Requests().back().status, 409);
  EXPECT_EQ(Holder(), "rs3") << "the loser overwrote the winner";
  EXPECT_EQ(wait, options.period) << "after a lost race: look again soon";
  time.Advance(wait);
  EXPECT_FALSE(rs1.TryLead(&wait)) << "rs3 holds a fresh Lease";
  EXPECT_EQ(Holder(), "rs3");
}

TEST_F(LeaseElectionTest, AConflictOnTheFirstCreateMeansSomeoneElseWon) {
  server.BeforeRequest("POST", "/apis/coordination.k8s.io/v1/namespaces/" + kNamespace + "/leases",
                       [&] { HeldBy("rs2", seconds(0)); });
  EXPECT_FALSE(rs1.TryLead(&wait));
  EXPECT_EQ(server.Requests().back().status, 409);
  EXPECT_EQ(Holder(), "rs2");
}

TEST_F(LeaseElectionTest, AnUnreachableServerLeadsNobodyAndIsAskedAgainInAPeriod) {
  ASSERT_TRUE(rs1.TryLead(&wait));
  const auto before = server.Lease(kNamespace, kLease);
  for (const ApiFault& fault : {ApiFault{503, "etcd down"}, ApiFault{0, "connection refused"}}) {
    server.Fail("", kLeasePath, fault);
    time.Advance(wait);
    EXPECT_FALSE(rs1.TryLead(&wait)) << fault.message;
    EXPECT_EQ(wait, options.period);
    server.ClearFaults();
  }
  EXPECT_EQ(server.Lease(kNamespace, kLease)->resource_version, before->resource_version);
}

// A follower asks only as often as the holder's Lease could run out (not every period, as the
// holder renews), and takes over a dead holder's Lease soon after it expired.
TEST_F(LeaseElectionTest, FollowersAskOncePerLeaseDurationAndReplaceADeadHolder) {
  using Time = std::chrono::steady_clock::time_point;
  const Time start = time.Steady();
  const Time holder_dies = start + std::chrono::minutes(10);
  HeldBy("rs2", seconds(0));
  Time last_renewal = start, next_renewal = start + options.period, next_check = start;
  std::optional<Time> taken;
  int gets_while_alive = -1;
  while (!taken) {
    ASSERT_LT(time.Steady() - start, std::chrono::minutes(20)) << "never taken over";
    const bool renewing = next_renewal < holder_dies;
    time.Advance((renewing ? std::min(next_renewal, next_check) : next_check) - time.Steady());
    if (renewing && time.Steady() == next_renewal) {  // rs2 renews every period while it lives
      HeldBy("rs2", seconds(0));
      last_renewal = next_renewal;
      next_renewal += options.period;
    }
    if (time.Steady() != next_check) continue;
    if (time.Steady() >= holder_dies && gets_while_alive < 0) gets_while_alive = server.Count("GET", kLeasePath);
    if (rs1.TryLead(&wait)) {
      taken = time.Steady();
      EXPECT_GT(*taken, last_renewal + options.lease_duration) << "rs1 took a live holder's Lease";
    }
    next_check += wait;
  }
  // A live holder's Lease has at least duration - period left when a follower looks.
  const auto least_wait = options.lease_duration - options.period;
  EXPECT_LE(gets_while_alive, std::chrono::minutes(10) / least_wait + 1) << "the follower asked every period";
  EXPECT_GE(gets_while_alive, 5) << "the follower stopped looking";
  // Its last renewal, a lease duration, then a period and a follower's jitter (< a period) at most
  // twice: the README's "another takes over within ~70 s".
  EXPECT_LE(*taken - last_renewal, options.lease_duration + 3 * options.period);
  EXPECT_EQ(Holder(), "rs1");
}

// A follower that watches the Lease asks the server nothing while the watched copy shows the
// holder renewing; when the holder dies it confirms the expiry with one GET and takes over within
// a period of the expiry.
TEST_F(LeaseElectionTest, AFollowerWatchingTheLeaseAsksNothingWhileTheHolderRenews) {
  WatchedLease watched{true, std::nullopt};
  LeaseElection rs3(*client, "rs3", options, time, [&] { return watched; });
  const auto start = time.Steady();
  const auto holder_dies = start + std::chrono::minutes(10);
  std::optional<std::chrono::steady_clock::time_point> taken;
  auto last_renewal = start;
  auto next_renewal = start, next_check = start;
  int requests_while_alive = -1;
  while (!taken) {
    ASSERT_LT(time.Steady() - start, std::chrono::minutes(20)) << "never taken over";
    const bool renewing = next_renewal < holder_dies;
    time.Advance((renewing ? std::min(next_renewal, next_check) : next_check) - time.Steady());
    if (renewing && time.Steady() == next_renewal) {  // rs2 renews; the watch delivers it
      HeldBy("rs2", seconds(0));
      watched.lease = server.Object(kLeasePath);
      last_renewal = next_renewal;
      next_renewal += options.period;
    }
    if (time.Steady() != next_check) continue;
    if (time.Steady() >= holder_dies && requests_while_alive < 0)
      requests_while_alive = static_cast<int>(server.Requests().size());
    if (rs3.TryLead(&wait)) taken = time.Steady();
    next_check += wait;
  }
  EXPECT_EQ(requests_while_alive, 0) << "a follower asked while the watch showed a live holder";
  EXPECT_GT(*taken, last_renewal + options.lease_duration) << "took a live holder's Lease";
  EXPECT_LE(*taken - last_renewal, options.lease_duration + 2 * options.period);
  EXPECT_EQ(server.Count("GET", kLeasePath), 1) << "one GET to confirm the expiry";
  EXPECT_EQ(Holder(), "rs3");
}

// A watch that is not synced (the API server restarting) or lags behind the Lease: the follower
// falls back to GETs, but no more often than the holder could have expired.
TEST_F(LeaseElectionTest, AFollowerWhoseWatchLagsGetsNoMoreOftenThanWithoutAWatch) {
  HeldBy("rs2", seconds(300));
  WatchedLease watched{true, server.Object(kLeasePath)};  // a copy that shows it expired
  LeaseElection rs3(*client, "rs3", options, time, [&] { return watched; });
  HeldBy("rs2", seconds(0));      // renewed, but the watch never delivered it
  for (int i = 0; i < 60; ++i) {  // 10 minutes in periods, the holder renewing
    EXPECT_FALSE(rs3.TryLead(&wait));
    HeldBy("rs2", seconds(0));
    time.Advance(options.period);
  }
  const int gets = server.Count("GET", kLeasePath);
  EXPECT_GE(gets, 5);
  EXPECT_LE(gets, 11) << "a lagging watch made the follower GET every period";
  watched.synced = false;
  for (int i = 0; i < 60; ++i) {
    EXPECT_FALSE(rs3.TryLead(&wait));
    HeldBy("rs2", seconds(0));
    time.Advance(options.period);
  }
  EXPECT_LE(server.Count("GET", kLeasePath) - gets, 11) << "an unsynced watch made the follower GET every period";
  EXPECT_EQ(server.Count("PUT", kLeasePath), 0);
  EXPECT_EQ(Holder(), "rs2");
}

// The summariser of a follower node watches the Lease: one list and one watch of it by name,
// and while the holder renews (seen through the watch) not a single GET.
TEST(VipSummariserLease, AFollowerWatchesTheLeaseAndDoesNotGetIt) {
  FakeApiServer server;
  const LeaseElection::Options options;
  const std::string leases = "/apis/coordination.k8s.io/v1/namespaces/" + kNamespace + "/leases";
  server.PutLease(kNamespace, kLease, {"rs2", std::chrono::system_clock::now(), options.lease_duration});
  KubeSource source(server.Clients(), "rs1", KubeSource::Options{});
  VipSummariser summariser(server.Clients(), "rs1", source, options);
  summariser.Start();
  ASSERT_TRUE(server.WaitFor([&] { return server.open_watches() > 0; }));
  const int gets = server.Count("GET", kLeasePath);
  EXPECT_LE(gets, 1) << "at most the first look, before the watch synced";
  int lists = 0;
  for (const auto& r : server.Requests()) {
    if (r.method == "GET" && r.path.starts_with(leases + "?") && r.path.find("watch=") == std::string::npos) {
      ++lists;
      EXPECT_NE(r.path.find("fieldSelector=metadata.name%3D" + kLease), std::string::npos) << r.path;
    }
  }
  EXPECT_EQ(lists, 1) << "one list of the Lease, by name";
  summariser.Stop();
}

}  // namespace
}  // namespace lvsrs::kube
