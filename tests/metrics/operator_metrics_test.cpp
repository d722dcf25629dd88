// The registry as a scrape sees it: series that exist from the start, series that follow the
// node's VIPs and interfaces (and disappear with them), counters that only go up.
#include "metrics/operator_metrics.h"

#include <gtest/gtest.h>

#include "exposition.h"

namespace lvsrs {
namespace {

using testing::Samples;
using testing::SamplesOf;
using Clock = std::chrono::system_clock;

OutcomeMetrics Converged() {
  OutcomeMetrics m;
  m.has_status = true;
  m.node_conformant = true;
  m.vip_conformant = {{{"web", "192.0.2.10"}, 1}, {{"db", "198.51.100.7"}, 1}};
  m.arp_effective = {{{"eth0", "arp_ignore"}, 1}, {{"eth0", "arp_announce"}, 2}};
  m.arp_conformant = {{"eth0", 1}};
  m.duration_seconds = 0.002;
  return m;
}

TEST(OperatorMetrics, CountersAndBuildInfoExistBeforeTheFirstPass) {
  OperatorMetrics metrics("1.2.3");
  const auto s = Samples(metrics.Text());
  for (const char* kind : {"address", "route", "sysctl"})
    EXPECT_EQ(s.at(std::string("lvs_rs_drift_repairs_total{kind=\"") + kind + "\"}"), 0) << kind;
  for (const char* reason : {"kernel_read", "address", "sysctl"})
    EXPECT_EQ(s.at(std::string("lvs_rs_reconcile_errors_total{reason=\"") + reason + "\"}"), 0) << reason;
  EXPECT_EQ(s.at("lvs_rs_build_info{version=\"1.2.3\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_node_conformant"), 0);  // nothing judged yet
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_count"), 0);
  EXPECT_EQ(s.at("lvs_rs_last_reconcile_timestamp_seconds"), 0);
}

// Between full passes the loop polls only the ARP sysctls; a poll that finds the kernel as the
// last pass left it confirms that pass's state, so the staleness alert (time() - timestamp >
// 300) stays quiet with --full-resync-period 5m, and nothing else moves.
TEST(OperatorMetrics, AnUnchangedPollMovesOnlyTheTimestamp) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::time_point(std::chrono::seconds(1700000000)));
  metrics.Unchanged(Clock::time_point(std::chrono::seconds(1700000002)));
  const auto s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_last_reconcile_timestamp_seconds"), 1700000002);
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_count"), 1);  // passes are what it counts
  EXPECT_EQ(s.at("lvs_rs_node_conformant"), 1);
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"192.0.2.10\",virtualip=\"web\"}"), 1);
}

TEST(OperatorMetrics, FileModeHasNoKubeSeries) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::now());
  EXPECT_EQ(metrics.Text().find("lvs_rs_kube_"), std::string::npos);
}

TEST(OperatorMetrics, PassSetsPerVipAndPerInterfaceSeries) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::time_point(std::chrono::seconds(1700000000)));
  const auto s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_node_conformant"), 1);
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"192.0.2.10\",virtualip=\"web\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"198.51.100.7\",virtualip=\"db\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_arp_effective{interface=\"eth0\",key=\"arp_ignore\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_arp_effective{interface=\"eth0\",key=\"arp_announce\"}"), 2);
  EXPECT_EQ(s.at("lvs_rs_arp_conformant{interface=\"eth0\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_last_reconcile_timestamp_seconds"), 1700000000);
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_count"), 1);
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_bucket{le=\"0.0025\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_bucket{le=\"0.001\"}"), 0);
}

TEST(OperatorMetrics, SeriesOfADeletedVipOrInterfaceDisappear) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::now());
  OutcomeMetrics next = Converged();
  next.vip_conformant.erase({"db", "198.51.100.7"});
  next.arp_effective.clear();
  next.arp_conformant.clear();
  metrics.Apply(next, Clock::now());
  const std::string text = metrics.Text();
  EXPECT_EQ(SamplesOf(text, "lvs_rs_vip_conformant{"),
            (std::map<std::string, double>{{"lvs_rs_vip_conformant{address=\"192.0.2.10\",virtualip=\"web\"}", 1}}));
  EXPECT_TRUE(SamplesOf(text, "lvs_rs_arp_effective{").empty());
  EXPECT_TRUE(SamplesOf(text, "lvs_rs_arp_conformant{").empty());

  // And come back when the VIP does.
  metrics.Apply(Converged(), Clock::now());
  EXPECT_EQ(SamplesOf(metrics.Text(), "lvs_rs_vip_conformant{").size(), 2u);
}

TEST(OperatorMetrics, RefusedVirtualIpSeriesFollowsTheRefusal) {
  OperatorMetrics metrics("1.2.3");
  OutcomeMetrics m = Converged();
  m.refused_virtualips = {"bad"};
  m.node_conformant = false;
  metrics.Apply(m, Clock::now());
  EXPECT_EQ(Samples(metrics.Text()).at("lvs_rs_virtualip_refused{virtualip=\"bad\"}"), 1);
  metrics.Apply(Converged(), Clock::now());
  EXPECT_TRUE(SamplesOf(metrics.Text(), "lvs_rs_virtualip_refused{").empty());
}

TEST(OperatorMetrics, EditRefusedSeriesFollowsTheRefusedEdit) {
  OperatorMetrics metrics("1.2.3");
  OutcomeMetrics m = Converged();
  m.edit_refused_virtualips = {"edited"};
  metrics.Apply(m, Clock::now());
  EXPECT_EQ(Samples(metrics.Text()).at("lvs_rs_virtualip_edit_refused{virtualip=\"edited\"}"), 1);
  EXPECT_TRUE(SamplesOf(metrics.Text(), "lvs_rs_virtualip_refused{").empty());
  metrics.Apply(Converged(), Clock::now());
  EXPECT_TRUE(SamplesOf(metrics.Text(), "lvs_rs_virtualip_edit_refused{").empty());
}

TEST(OperatorMetrics, ContestedItemSeriesLastsAsLongAsTheFight) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::now());
  EXPECT_TRUE(SamplesOf(metrics.Text(), "lvs_rs_contested_items{").empty()) << "absent while nothing is contested";
  OutcomeMetrics m = Converged();
  m.contested = {{"sysctl:net.ipv4.conf.all.arp_ignore", 4}};
  metrics.Apply(m, Clock::now());
  EXPECT_EQ(Samples(metrics.Text()).at("lvs_rs_contested_items{item=\"sysctl:net.ipv4.conf.all.arp_ignore\"}"), 4);
  metrics.Apply(Converged(), Clock::now());
  EXPECT_TRUE(SamplesOf(metrics.Text(), "lvs_rs_contested_items{").empty());
}

TEST(OperatorMetrics, CountersAccumulateOverPasses) {
  OperatorMetrics metrics("1.2.3");
  OutcomeMetrics m = Converged();
  m.repairs = {{"sysctl", 2}};
  m.errors = {{"address", 1}};
  m.kernel_writes = 3;
  metrics.Apply(m, Clock::now());
  m.repairs = {{"sysctl", 1}, {"address", 1}};
  metrics.Apply(m, Clock::now());
  const auto s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_drift_repairs_total{kind=\"sysctl\"}"), 3);
  EXPECT_EQ(s.at("lvs_rs_drift_repairs_total{kind=\"address\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_drift_repairs_total{kind=\"route\"}"), 0);
  EXPECT_EQ(s.at("lvs_rs_reconcile_errors_total{reason=\"address\"}"), 2);
  EXPECT_EQ(s.at("lvs_rs_kernel_writes_total"), 6);
  EXPECT_EQ(s.at("lvs_rs_reconcile_duration_seconds_count"), 2);
}

TEST(OperatorMetrics, FailedPassKeepsLastKnownVipsButNodeIsNotConformant) {
  OperatorMetrics metrics("1.2.3");
  metrics.Apply(Converged(), Clock::time_point(std::chrono::seconds(1700000000)));
  OutcomeMetrics failed;
  failed.errors = {{"kernel_read", 1}};
  metrics.Apply(failed, Clock::time_point(std::chrono::seconds(1700000100)));
  const auto s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_node_conformant"), 0);
  EXPECT_EQ(s.at("lvs_rs_reconcile_errors_total{reason=\"kernel_read\"}"), 1);
  EXPECT_EQ(SamplesOf(metrics.Text(), "lvs_rs_vip_conformant{").size(), 2u);
  // The timestamp says when the kernel was last read, so a stalled agent shows.
  EXPECT_EQ(s.at("lvs_rs_last_reconcile_timestamp_seconds"), 1700000000);
}

TEST(OperatorMetrics, KubeSeriesExistOnlyInKubernetesModeAndFollowTheWatches) {
  OperatorMetrics metrics("1.2.3");
  EXPECT_FALSE(Samples(metrics.Text()).count("lvs_rs_kube_synced")) << "file mode exports no kube series";
  metrics.ObserveKube(false, 0);
  auto s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_kube_synced"), 0);
  EXPECT_EQ(s.at("lvs_rs_kube_watch_restarts_total"), 0);
  metrics.ObserveKube(true, 2);
  s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_kube_synced"), 1);
  EXPECT_EQ(s.at("lvs_rs_kube_watch_restarts_total"), 2);
  metrics.ObserveKube(false, 5);  // the running total, not a delta
  s = Samples(metrics.Text());
  EXPECT_EQ(s.at("lvs_rs_kube_synced"), 0);
  EXPECT_EQ(s.at("lvs_rs_kube_watch_restarts_total"), 5);
}

}  // namespace
}  // namespace lvsrs
