// NodeReporter against the in-memory API server (tests/support/fake_api_client.h) with a fake
// clock, one reporting round at a time: what lands on the RealServer and in Events, how many
// writes that costs, and what happens when the API server refuses a write. kube_e2e_tests run the
// reporter in the binary against a real kube-apiserver.
#include "kube/node_reporter.h"

#include <gtest/gtest.h>

#include "support/fake_api_client.h"
#include "support/fake_time.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;
using std::chrono::seconds;
using testing::ApiFault;
using testing::FakeApiServer;
using testing::FakeTime;

const std::string kRealServer = "/apis/lvsdr.io/v1alpha1/realservers/rs1";
const std::string kEvents = "/api/v1/namespaces/default/events";

ReconcileOutcome Healthy() {
  ReconcileOutcome o;
  o.status.vips.push_back(VipAddressStatus{"web", "192.0.2.10", "lo", VipState::Configured, "configured"});
  o.status.interfaces.push_back(InterfaceArpStatus{"eth0", 1, 2, true, ""});
  return o;
}

ReconcileOutcome ArpExposed() {
  ReconcileOutcome o = Healthy();
  o.status.arp_conformant = false;
  o.status.interfaces[0] = InterfaceArpStatus{"eth0", 0, 2, false, "arp_ignore 0, want 1"};
  return o;
}

ReconcileOutcome VipMissing() {
  ReconcileOutcome o = Healthy();
  o.status.vips_configured = false;
  o.status.vips[0].state = VipState::Failed;
  o.status.vips[0].message = "add 192.0.2.10: Operation not permitted";
  return o;
}

std::string Condition(const json& realserver, const std::string& type) {
  for (const auto& c : realserver["status"]["conditions"])
    if (c["type"] == type) return c["status"].get<std::string>();
  return "";
}

struct NodeReporterTest : ::testing::Test {
  FakeApiServer server;
  FakeTime time;
  KubeSource source{server.Clients(), "rs1", {}};  // not started: only asked for the Node's uid
  NodeReporter reporter{server.Clients(), "rs1", source, time};

  // One loop pass handing its outcome over, and the worker's round after it.
  void Pass(const ReconcileOutcome& o) {
    reporter.Observe(o);
    reporter.ReportPending();
  }
  // One ARP poll that found nothing changed, and the worker's round after it.
  void UnchangedPoll() {
    reporter.Refresh();
    reporter.ReportPending();
  }
  json RealServer() const { return server.Object(kRealServer).value_or(json()); }
  int StatusWrites() const { return server.Count("PATCH", kRealServer + "/status"); }
  std::vector<json> Events(const std::string& reason) const {
    std::vector<json> out;
    for (const auto& e : server.Objects(kEvents))
      if (e["reason"] == reason) out.push_back(e);
    return out;
  }
};

TEST_F(NodeReporterTest, FirstPassCreatesTheRealServerWithItsStatus) {
  Pass(Healthy());
  const json rs = RealServer();
  ASSERT_TRUE(rs.is_object()) << "no RealServer created";
  EXPECT_EQ(rs["metadata"]["labels"]["app.kubernetes.io/managed-by"], "lvs-rs-operator");
  EXPECT_EQ(Condition(rs, "Ready"), "True") << rs.dump(2);
  EXPECT_EQ(rs["status"]["vips"], "1/1");
}

TEST_F(NodeReporterTest, ASteadyNodeWritesNothing) {
  Pass(Healthy());
  ASSERT_EQ(StatusWrites(), 1);
  const std::string version = RealServer()["metadata"]["resourceVersion"];
  for (int i = 0; i < 10; ++i) {
    time.Advance(seconds(30));  // the sync time inside the status must not count as a change
    Pass(Healthy());
    UnchangedPoll();
  }
  EXPECT_EQ(StatusWrites(), 1);
  EXPECT_EQ(RealServer()["metadata"]["resourceVersion"], version) << "the RealServer was written again";
  EXPECT_EQ(server.Count("", ""), 3) << "a steady node costs no request at all (GET, POST, PATCH at the start)";
}

TEST_F(NodeReporterTest, AChangeIsOnePatchWithTheNewStatus) {
  Pass(Healthy());
  time.Advance(seconds(5));
  Pass(ArpExposed());
  EXPECT_EQ(StatusWrites(), 2);
  EXPECT_EQ(Condition(RealServer(), "ARPConformant"), "False");
  EXPECT_EQ(Condition(RealServer(), "Ready"), "False");
  Pass(ArpExposed());
  EXPECT_EQ(StatusWrites(), 2) << "the new state, once written, is steady again";
}

TEST_F(NodeReporterTest, AFailedWriteIsRetriedAndNotLost) {
  Pass(Healthy());
  for (const ApiFault& fault : {ApiFault{503, "etcdserver: request timed out"}, ApiFault{0, "connection refused"}}) {
    SCOPED_TRACE(fault.message);
    server.Fail("PATCH", kRealServer, fault);
    Pass(ArpExposed());
    EXPECT_EQ(Condition(RealServer(), "Ready"), "True") << "the write was refused";
    // An unchanged ARP poll hands the status over again while it is unwritten, once the backoff
    // (2 s, then 4 s, jittered by up to 1.5x) has passed.
    const int attempts = StatusWrites();
    UnchangedPoll();
    EXPECT_EQ(StatusWrites(), attempts) << "retried at once, without backoff";
    time.Advance(seconds(3));
    UnchangedPoll();
    EXPECT_EQ(StatusWrites(), attempts + 1);
    server.ClearFaults();
    time.Advance(seconds(6));
    UnchangedPoll();
    EXPECT_EQ(Condition(RealServer(), "Ready"), "False") << "the change was lost";
    const int written = StatusWrites();
    UnchangedPoll();
    EXPECT_EQ(StatusWrites(), written) << "nothing is retried once the write went through";
    Pass(Healthy());  // back to the start for the next fault
  }
}

// A fleet whose API server is down (or shedding load with 429) must not retry every ARP poll:
// over 10 minutes of polls every 2 s (300) a node tries a few dozen times at most (30 s cap), and once the
// server is back the status is written within the backoff's cap.
TEST_F(NodeReporterTest, RetriesOfAFailedWriteBackOff) {
  Pass(Healthy());
  server.Fail("PATCH", kRealServer, ApiFault{429, "too many requests"});
  Pass(ArpExposed());
  for (int i = 0; i < 300; ++i) {
    time.Advance(seconds(2));
    UnchangedPoll();
  }
  const int attempts = StatusWrites() - 1;
  EXPECT_LE(attempts, 45) << "retried about every poll";
  EXPECT_GE(attempts, 10) << "stopped retrying";
  server.ClearFaults();
  for (int i = 0; i < 45 && Condition(RealServer(), "Ready") != "False"; ++i) {
    time.Advance(seconds(2));
    UnchangedPoll();
  }
  EXPECT_EQ(Condition(RealServer(), "Ready"), "False") << "not written within 90 s of the server's return";
}

TEST_F(NodeReporterTest, WhileTheServerIsAwayTheLatestStatusWins) {
  Pass(Healthy());
  server.Fail("", "/apis/", ApiFault{0, "no route to host"});
  Pass(ArpExposed());
  Pass(VipMissing());  // the exposure is gone again before the server is back, another problem came
  server.ClearFaults();
  time.Advance(seconds(6));  // the retry backoff after two failures
  UnchangedPoll();
  EXPECT_EQ(Condition(RealServer(), "ARPConformant"), "True") << "an outdated status was written last";
  EXPECT_EQ(Condition(RealServer(), "VIPsConfigured"), "False");
}

TEST_F(NodeReporterTest, ARealServerDeletedUnderTheAgentIsCreatedAgain) {
  Pass(Healthy());
  server.Delete(kRealServer);
  Pass(ArpExposed());  // the status write finds it gone (404)
  UnchangedPoll();
  const json rs = RealServer();
  ASSERT_TRUE(rs.is_object()) << "the RealServer was not created again";
  EXPECT_EQ(Condition(rs, "ARPConformant"), "False") << rs.dump(2);
}

TEST_F(NodeReporterTest, ARefusalIsAnnouncedOnceWhenItAppears) {
  ReconcileOutcome refused = Healthy();
  refused.source_refused["bad"] = SourceRefusal{"spec.addresses[0]: 169.254.0.5 is a link-local address", false};
  Pass(refused);
  ASSERT_EQ(Events("Refused").size(), 1u);
  const json e = Events("Refused")[0];
  EXPECT_EQ(e["involvedObject"]["kind"], "VirtualIP");
  EXPECT_EQ(e["involvedObject"]["name"], "bad");
  EXPECT_NE(e["message"].get<std::string>().find("link-local"), std::string::npos) << e["message"];
  for (int i = 0; i < 5; ++i) {
    time.Advance(seconds(120));  // well past the rate limit: not repeated because it did not change
    Pass(refused);
  }
  EXPECT_EQ(Events("Refused").size(), 1u) << "a standing refusal was announced again";
  Pass(Healthy());  // fixed
  Pass(refused);    // and broken again: a new transition
  EXPECT_EQ(Events("Refused").size(), 2u);
}

TEST_F(NodeReporterTest, RepeatedRepairsAreOneEventPerMinuteThatCountsTheOthers) {
  ReconcileOutcome repaired = Healthy();
  repaired.repairs["address"] = 1;
  Pass(repaired);
  for (int i = 0; i < 3; ++i) {
    time.Advance(seconds(10));
    Pass(repaired);
  }
  ASSERT_EQ(Events("DriftRepaired").size(), 1u);
  time.Advance(seconds(60));
  Pass(repaired);
  const auto events = Events("DriftRepaired");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_NE(events[1]["message"].get<std::string>().find("3 similar event(s) suppressed"), std::string::npos)
      << events[1]["message"];
}

TEST_F(NodeReporterTest, ARefusedEventDoesNotHoldUpTheStatus) {
  server.Fail("POST", kEvents, ApiFault{403, "events is forbidden"});
  ReconcileOutcome failed = ArpExposed();
  failed.repairs["sysctl"] = 1;
  Pass(failed);
  EXPECT_EQ(Condition(RealServer(), "ARPConformant"), "False");
  EXPECT_TRUE(Events("DriftRepaired").empty());
}

}  // namespace
}  // namespace lvsrs::kube
