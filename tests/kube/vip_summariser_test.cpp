// The VipSummariser and the informer projection it keeps RealServers with, against the in-memory
// API server (tests/support/fake_api_client.h): the READY column of `kubectl get vip` stays right
// while RealServers are added, changed, deleted and re-listed after a lost watch, in both status
// forms agents write (one entry per VirtualIP, and per address as agents before the bounded
// status wrote it), and the informer keeps only the projection, never the objects. The summariser
// runs on its own thread with a 1 s period, as in the agent; each step waits (bounded) for the
// VirtualIP's status to show it.
#include <gtest/gtest.h>

#include "kube/informer.h"
#include "kube/kube_source.h"
#include "kube/object_decode.h"
#include "kube/vip_summariser.h"
#include "support/fake_api_client.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::ApiFault;
using testing::FakeApiServer;

const std::string kVips = "/apis/lvsdr.io/v1alpha1/virtualips";
const std::string kRealServers = "/apis/lvsdr.io/v1alpha1/realservers";
const std::string kNodes = "/api/v1/nodes";

// A RealServer as agents write it now: one entry per VirtualIP (name -> state).
json RealServer(const std::string& node, const std::map<std::string, std::string>& states,
                const std::string& synced = "2026-01-01T00:00:00Z") {
  json vips = json::array();
  for (const auto& [name, state] : states) {
    json e{{"name", name}, {"state", state}, {"addresses", state == "Ready" ? "1/1" : "0/1"}};
    if (state != "Ready") e["message"] = "192.0.2.10: File exists";
    vips.push_back(std::move(e));
  }
  return json{{"apiVersion", "lvsdr.io/v1alpha1"},
              {"kind", "RealServer"},
              {"metadata", {{"name", node}}},
              {"status", {{"virtualIPs", vips}, {"lastSyncTime", synced}}}};
}

// As agents before the bounded status wrote it: one entry per address, and every interface.
json OlderRealServer(const std::string& node, const std::string& vip, const std::vector<std::string>& states) {
  json entries = json::array();
  for (std::size_t i = 0; i < states.size(); ++i)
    entries.push_back({{"name", vip}, {"address", "192.0.2." + std::to_string(10 + i)}, {"state", states[i]}});
  const json interfaces = json::array({{{"name", "eth0"}, {"arpIgnore", 1}, {"conformant", true}}});
  json obj{{"apiVersion", "lvsdr.io/v1alpha1"}, {"kind", "RealServer"}, {"metadata", {{"name", node}}}};
  obj["status"] = {{"virtualIPs", entries}, {"interfaces", interfaces}};
  return obj;
}

json VirtualIpObject(const std::string& name, const std::string& address) {
  return json{{"metadata", {{"name", name}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
              {"spec", {{"addresses", {address}}, {"nodeSelector", {{"matchLabels", {{"role", "web"}}}}}}}};
}

TEST(RealServerReadiness, KeepsPerVirtualIpReadyOrTheFirstProblemFromBothForms) {
  const auto now = ReadinessOf(RealServer("a", {{"web", "Ready"}, {"db", "NotReady"}}));
  ASSERT_EQ(now.vips.size(), 2u);
  EXPECT_EQ(now.vips[0].name, "db");
  EXPECT_FALSE(now.vips[0].ready);
  EXPECT_EQ(now.vips[0].problem, "NotReady: 192.0.2.10: File exists");
  EXPECT_EQ(now.vips[1], (RealServerReadiness::Vip{"web", true, ""}));

  const auto older = ReadinessOf(OlderRealServer("b", "web", {"Configured", "Adopted", "Failed", "Pending"}));
  ASSERT_EQ(older.vips.size(), 1u) << "one per VirtualIP, not per address";
  EXPECT_FALSE(older.vips[0].ready);
  EXPECT_EQ(older.vips[0].problem, "Failed") << "the first problem";
  EXPECT_TRUE(ReadinessOf(OlderRealServer("c", "web", {"Configured", "Adopted"})).vips[0].ready);

  // Whatever someone wrote there: an entry without a string state is not ready, a huge message is cut.
  json odd = RealServer("d", {{"web", "NotReady"}});
  odd["status"]["virtualIPs"][0]["state"] = 7;
  odd["status"]["virtualIPs"].push_back(
      {{"name", "db"}, {"state", "NotReady"}, {"message", std::string(1 << 20, 'x')}});
  const auto r = ReadinessOf(odd);
  ASSERT_EQ(r.vips.size(), 2u);
  EXPECT_FALSE(r.vips[1].ready);
  EXPECT_LE(r.vips[0].problem.size(), 1000u);
}

// The projection is all the informer keeps, and a change outside it (an agent's lastSyncTime, an
// interface) is no change to the informer's user.
TEST(InformerProjection, KeepsOnlyTheProjectionAndIgnoresChangesOutsideIt) {
  FakeApiServer server;
  server.Replace(kRealServers + "/a", RealServer("a", {{"web", "Ready"}}));
  server.Replace(kRealServers + "/b", RealServer("b", {{"web", "NotReady"}}));
  InformerOptions o;
  o.collection_path = kRealServers;
  o.api_version = "lvsdr.io/v1alpha1";
  o.kind = "RealServer";
  o.backoff_base = milliseconds(5);
  o.backoff_cap = milliseconds(20);
  o.project = ProjectTo<RealServerReadiness>(ReadinessOf);
  Informer informer(server.Clients(), o, [] {});
  informer.Start();
  auto kept = [&] {
    std::map<std::string, bool> out;
    informer.ForEachProjected<RealServerReadiness>(
        [&out](const std::string& node, const RealServerReadiness& r) { out[node] = r.vips.at(0).ready; });
    return out;
  };
  ASSERT_TRUE(server.WaitFor([&] { return informer.synced(); }));
  EXPECT_EQ(kept(), (std::map<std::string, bool>{{"a", true}, {"b", false}}));
  EXPECT_TRUE(informer.Objects().empty()) << "whole objects kept under a projection";

  server.Replace(kRealServers + "/b", RealServer("b", {{"web", "Ready"}}));
  ASSERT_TRUE(server.WaitFor([&] { return kept()["b"]; }));
  const std::uint64_t version = informer.version();
  const std::uint64_t delivered = server.events_delivered();
  server.Replace(kRealServers + "/a", RealServer("a", {{"web", "Ready"}}, "2026-01-01T00:10:00Z"));
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_EQ(informer.version(), version) << "a change outside the projection woke the informer's user";
  informer.Stop();
}

struct VipSummariserTest : ::testing::Test {
  FakeApiServer server;
  std::unique_ptr<KubeSource> source;
  std::unique_ptr<VipSummariser> summariser;

  VipSummariserTest() {
    server.Create(kNodes, json{{"metadata", {{"name", "rs1"}, {"labels", {{"role", "web"}}}}}});
    server.Create(kVips, VirtualIpObject("web", "192.0.2.10"));
    server.Create(kVips, VirtualIpObject("db", "192.0.2.20"));
  }
  ~VipSummariserTest() override {  // before the server goes
    if (summariser) summariser->Stop();
    if (source) source->Stop();
  }
  void Start() {
    KubeSource::Options options;
    options.backoff_base = milliseconds(5);
    options.backoff_cap = milliseconds(20);
    source = std::make_unique<KubeSource>(server.Clients(), "rs1", options);
    source->Start();
    VipSummariser::Options so;
    so.period = std::chrono::seconds(1);
    summariser = std::make_unique<VipSummariser>(server.Clients(), "rs1", *source, so);
    summariser->Start();
  }
  std::string Ready(const std::string& vip) const {
    const auto obj = server.Object(kVips + "/" + vip);
    return obj ? StringField(ObjectField(*obj, "status"), "ready") : "";
  }
  // Waits (bounded) for the READY column of vip to read want; what it read last.
  std::string WaitReady(const std::string& vip, const std::string& want) {
    std::string got;
    server.WaitFor([&] { return (got = Ready(vip)) == want; }, std::chrono::seconds(20));
    return got;
  }
};

TEST_F(VipSummariserTest, ReadyStaysRightAcrossAddsUpdatesDeletesAndARelist) {
  server.Replace(kRealServers + "/a", RealServer("a", {{"web", "Ready"}, {"db", "Ready"}}));
  server.Replace(kRealServers + "/b", RealServer("b", {{"web", "Ready"}}));
  server.Replace(kRealServers + "/c", OlderRealServer("c", "web", {"Configured", "Adopted"}));
  Start();
  EXPECT_EQ(WaitReady("web", "3/3"), "3/3");
  EXPECT_EQ(WaitReady("db", "1/1"), "1/1");

  // Updates, in either form.
  server.Replace(kRealServers + "/b", RealServer("b", {{"web", "NotReady"}}));
  EXPECT_EQ(WaitReady("web", "2/3"), "2/3");
  const json status = ObjectField(*server.Object(kVips + "/web"), "status");
  EXPECT_EQ(StringField(status, "message"), "node b: NotReady: 192.0.2.10: File exists");
  server.Replace(kRealServers + "/c", OlderRealServer("c", "web", {"Configured", "Failed"}));
  EXPECT_EQ(WaitReady("web", "1/3"), "1/3");
  // An added node, then a node gone (its RealServer deleted with it).
  server.Replace(kRealServers + "/d", RealServer("d", {{"web", "Ready"}, {"db", "NotReady"}}));
  EXPECT_EQ(WaitReady("db", "1/2"), "1/2");
  EXPECT_EQ(WaitReady("web", "2/4"), "2/4");
  server.Delete(kRealServers + "/a");
  EXPECT_EQ(WaitReady("db", "0/1"), "0/1");
  EXPECT_EQ(WaitReady("web", "1/3"), "1/3");

  // The watch is lost; while it is down nodes change, come and go, and etcd is compacted, so the
  // informer can only learn of it by a new list (410 Gone on the resumed watch).
  const int lists = server.Count("GET", kRealServers);
  server.Fail("WATCH", kRealServers, ApiFault{0, "connection reset by peer"});
  server.EndWatches(WatchEnd::Failed);
  server.Replace(kRealServers + "/b", RealServer("b", {{"web", "Ready"}}));
  server.Delete(kRealServers + "/c");
  server.Replace(kRealServers + "/e", OlderRealServer("e", "db", {"Configured"}));
  server.Compact();
  server.ClearFaults();
  EXPECT_EQ(WaitReady("web", "2/2"), "2/2");
  EXPECT_EQ(WaitReady("db", "1/2"), "1/2");
  EXPECT_GT(server.Count("GET", kRealServers), lists) << "learnt without a list: the test did not test a relist";
}

}  // namespace
}  // namespace lvsrs::kube
