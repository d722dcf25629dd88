// KubeSource (its two informers and the snapshot it builds) against the in-memory API server
// (tests/support/fake_api_client.h): what the agent is told to serve while the API server
// refuses lists, loses watches or answers with an empty list. The informers run on their own
// threads as in the agent, so each step waits (bounded) until the snapshot shows its effect;
// retries back off by milliseconds here. kube_recovery_tests and kube_malformed_api_tests run
// the same code in the binary against a real and a misbehaving API server.
#include "kube/kube_source.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "support/fake_api_client.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using testing::ApiFault;
using testing::FakeApiServer;

const std::string kVips = "/apis/lvsdr.io/v1alpha1/virtualips";
const std::string kNodes = "/api/v1/nodes";

json VirtualIpObject(const std::string& name, const std::string& address) {
  return json{
      {"metadata", {{"name", name}, {"creationTimestamp", "2026-01-01T00:00:00Z"}}},
      {"spec", {{"addresses", {address}}, {"nodeSelector", {{"matchLabels", {{"lvsdr.io/real-server", "true"}}}}}}}};
}

std::vector<std::string> Served(const DesiredSource::Snapshot& s) {
  std::vector<std::string> out;
  for (const auto& v : s.vips)
    for (const auto& ip : v.addresses) out.push_back(v.name + "=" + ip.ToString());
  std::sort(out.begin(), out.end());
  return out;
}

using Served_t = std::vector<std::string>;

struct KubeSourceTest : ::testing::Test {
  FakeApiServer server;
  std::unique_ptr<KubeSource> source;

  KubeSourceTest() {
    server.Create(kNodes, json{{"metadata", {{"name", "rs1"}, {"labels", {{"lvsdr.io/real-server", "true"}}}}}});
    server.Create(kVips, VirtualIpObject("web", "192.0.2.10"));
  }
  ~KubeSourceTest() override {
    if (source) source->Stop();  // before the server goes
  }
  // saved: what a previous agent saved (KubeSource::RestoreLastGood), handed over as run does.
  void Start(const std::map<std::string, VirtualIp>& saved = {}) {
    KubeSource::Options options;
    options.backoff_base = milliseconds(5);
    options.backoff_cap = milliseconds(20);
    source = std::make_unique<KubeSource>(server.Clients(), "rs1", options);
    if (!saved.empty()) source->RestoreLastGood(saved);
    source->Start();
  }
  // Waits until the snapshot satisfies pred; the snapshot then (or the last one seen).
  DesiredSource::Snapshot WaitFor(const std::function<bool(const DesiredSource::Snapshot&)>& pred) {
    DesiredSource::Snapshot s;
    server.WaitFor([&] { return pred(s = source->Get()); });
    return s;
  }
  DesiredSource::Snapshot Synced() {
    return WaitFor([](const DesiredSource::Snapshot& snap) { return snap.synced; });
  }
  // The informers' lists of VirtualIPs that the server refused so far.
  int FailedLists() const {
    int n = 0;
    for (const auto& r : server.Requests())
      if (r.method == "GET" && r.path.rfind(kVips + "?", 0) == 0 && r.status != 200) ++n;
    return n;
  }
  // Lets watches of VirtualIPs fail, ends the open ones: what the informer knows from here on
  // comes from lists only.
  void LoseTheWatch() {
    server.Fail("WATCH", kVips, ApiFault{500, "injected"});
    server.EndWatches(WatchEnd::Failed);
  }
};

TEST_F(KubeSourceTest, NothingIsSyncedUntilBothListsSucceeded) {
  server.Fail("GET", kNodes, ApiFault{503, "etcd unavailable"});
  Start();
  ASSERT_TRUE(server.WaitFor([&] { return server.Count("GET", kNodes) >= 3; }));
  EXPECT_FALSE(source->Get().synced) << "synced without the Node's labels";
  server.ClearFaults();
  const auto s = Synced();
  ASSERT_TRUE(s.synced);
  EXPECT_EQ(Served(s), Served_t{"web=192.0.2.10"});
}

TEST_F(KubeSourceTest, RefusedVirtualIpsTravelWithTheSnapshot) {
  server.Create(kVips, VirtualIpObject("bad", "169.254.0.5"));
  Start();
  const auto s = WaitFor([](const DesiredSource::Snapshot& snap) { return snap.synced && snap.refused.count("bad"); });
  EXPECT_EQ(Served(s), Served_t{"web=192.0.2.10"}) << "one refused VirtualIP stopped the others";
  ASSERT_TRUE(s.refused.count("bad"));
  EXPECT_FALSE(s.refused.at("bad").serving_last_good);
  EXPECT_NE(s.refused.at("bad").message.find("link-local"), std::string::npos) << s.refused.at("bad").message;

  // A refused edit of a VirtualIP that was accepted: refused, and its last accepted spec served.
  server.Replace(kVips + "/web", VirtualIpObject("web", "2001:DB8::11"));
  const auto edited = WaitFor([](const DesiredSource::Snapshot& snap) { return snap.refused.count("web") > 0; });
  ASSERT_TRUE(edited.refused.count("web"));
  EXPECT_TRUE(edited.refused.at("web").serving_last_good);
  EXPECT_EQ(Served(edited), Served_t{"web=192.0.2.10"});
  EXPECT_TRUE(edited.refused.count("bad")) << "the refusals of one snapshot are all of them";
}

// What a previous agent saved (RestoreLastGood) stands in for the edits this agent never saw: a
// refused edit keeps serving the saved spec. Nothing is forgotten before a complete list; the
// first one drops the specs of objects that are gone.
TEST_F(KubeSourceTest, SavedSpecsServeARefusedEditAndThoseOfGoneObjectsAreDroppedAfterAList) {
  json web = VirtualIpObject("web", "2001:DB8::11");  // invalid: not canonical
  web["metadata"]["uid"] = "uid-web";
  server.Delete(kVips + "/web");  // created again with the uid the saved spec names
  server.Create(kVips, web);
  auto saved = [](const std::string& name, const char* address) {
    VirtualIp v;
    v.name = name;
    v.uid = "uid-" + name;
    v.creation_timestamp = "2026-01-01T00:00:00Z";
    v.addresses = {*IpAddress::Parse(address)};
    v.node_selector.match_labels["lvsdr.io/real-server"] = "true";
    return v;
  };
  const std::map<std::string, VirtualIp> specs = {{"uid-web", saved("web", "192.0.2.10")},
                                                  {"uid-gone", saved("gone", "192.0.2.30")}};
  server.Fail("GET", kVips, ApiFault{503, "etcd unavailable"});
  Start(specs);
  ASSERT_TRUE(server.WaitFor([&] { return FailedLists() >= 2; }));
  const auto unlisted = source->Get();
  EXPECT_FALSE(unlisted.synced);
  ASSERT_TRUE(unlisted.validated);
  EXPECT_EQ(*unlisted.validated, specs) << "forgotten before a complete list";

  server.ClearFaults();
  const auto s = WaitFor([](const DesiredSource::Snapshot& snap) { return snap.synced && snap.refused.count("web"); });
  EXPECT_EQ(Served(s), Served_t{"web=192.0.2.10"});
  EXPECT_TRUE(s.refused.at("web").serving_last_good);
  ASSERT_TRUE(s.validated);
  EXPECT_EQ(s.validated->size(), 1u);
  EXPECT_TRUE(s.validated->count("uid-web")) << "the saved spec of an existing object was dropped";
}

struct FailedList : KubeSourceTest, ::testing::WithParamInterface<ApiFault> {};

TEST_P(FailedList, KeepsTheLastDesiredState) {
  Start();
  ASSERT_EQ(Served(Synced()), Served_t{"web=192.0.2.10"});
  server.Fail("GET", kVips, GetParam());
  LoseTheWatch();
  server.Delete(kVips + "/web");  // unseen: the watch is gone and every list fails
  ASSERT_TRUE(server.WaitFor([&] { return FailedLists() >= 3; }));
  const auto s = source->Get();
  EXPECT_TRUE(s.synced);
  EXPECT_EQ(Served(s), Served_t{"web=192.0.2.10"}) << "VIPs withdrawn because the API server failed";
}

INSTANTIATE_TEST_SUITE_P(Faults, FailedList,
                         ::testing::Values(ApiFault{500, "etcdserver: leader changed"},
                                           ApiFault{0, "connection reset by peer"}),
                         [](const ::testing::TestParamInfo<ApiFault>& fault) {
                           return fault.param.status ? "Http" + std::to_string(fault.param.status) : "NoResponse";
                         });

TEST_F(KubeSourceTest, ASuccessfulEmptyListWithdraws) {
  server.Create(kVips, VirtualIpObject("api", "192.0.2.20"));
  Start();
  ASSERT_EQ(Served(Synced()), (Served_t{"api=192.0.2.20", "web=192.0.2.10"}));
  LoseTheWatch();
  server.Delete(kVips + "/web");
  server.Delete(kVips + "/api");
  const auto s = WaitFor([](const DesiredSource::Snapshot& snap) { return snap.vips.empty(); });
  EXPECT_TRUE(s.vips.empty()) << "still serving after the API server listed no VirtualIPs";
  EXPECT_TRUE(s.synced);
}

TEST_F(KubeSourceTest, ADeletionMissedOverACompactionIsFoundByTheRelist) {
  Start();
  ASSERT_EQ(Served(Synced()), Served_t{"web=192.0.2.10"});
  // The connection breaks; while it is down the VirtualIP is deleted and etcd compacted, so the
  // watch resumes from a version the server no longer has (410 Gone).
  server.Fail("WATCH", kVips, ApiFault{0, "connection reset by peer"});
  server.EndWatches(WatchEnd::Failed);
  server.Delete(kVips + "/web");
  server.Compact();
  server.ClearFaults();
  const auto s = WaitFor([](const DesiredSource::Snapshot& snap) { return snap.vips.empty(); });
  EXPECT_TRUE(s.vips.empty());
}

TEST_F(KubeSourceTest, AVanishedNodeKeepsItsLastLabels) {
  Start();
  ASSERT_EQ(Served(Synced()), Served_t{"web=192.0.2.10"});
  ASSERT_TRUE(server.WaitFor([&] { return server.open_watches() == 2; }));
  const auto delivered = server.events_delivered();
  server.Delete(kNodes + "/rs1");  // an etcd restored from an old backup, a node deleted and re-registering
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_EQ(Served(source->Get()), Served_t{"web=192.0.2.10"}) << "the node lost its VIPs with its Node object";
}

// The summariser writes a VirtualIP's status after every change; each write reached every agent
// watching VirtualIPs, and woke each into a full pass (a 200-node fleet: 200 passes per write).
TEST_F(KubeSourceTest, AStatusWrittenBySomeoneElseAsksForNoPassButASpecChangeDoes) {
  Start();
  ASSERT_EQ(Served(Synced()), Served_t{"web=192.0.2.10"});
  ASSERT_TRUE(server.WaitFor([&] { return server.open_watches() == 2; }));
  source->Poll();  // the lists' changes, taken
  json vip = VirtualIpObject("web", "192.0.2.10");
  vip["status"] = json{{"ready", "1/1"}, {"observedGeneration", 1}};
  auto delivered = server.events_delivered();
  server.Replace(kVips + "/web", vip);
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_FALSE(source->Poll()) << "a status-only change asked the agent for a pass";
  EXPECT_EQ(source->VirtualIpObjects().at("web").value("status", json::object()), vip["status"])
      << "the summariser no longer sees the status it wrote";

  vip["spec"]["addresses"] = json::array({"192.0.2.11"});
  delivered = server.events_delivered();
  server.Replace(kVips + "/web", vip);
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_TRUE(source->Poll()) << "a spec change asked for no pass";
  EXPECT_EQ(Served(source->Get()), Served_t{"web=192.0.2.11"});
}

// The kubelet rewrites its Node's status every few minutes on every node: that is no reason for a
// pass, while a label (which decides the VirtualIPs that apply) is.
TEST_F(KubeSourceTest, ANodeStatusUpdateAsksForNoPassButALabelChangeDoes) {
  Start();
  ASSERT_EQ(Served(Synced()), Served_t{"web=192.0.2.10"});
  ASSERT_TRUE(server.WaitFor([&] { return server.open_watches() == 2; }));
  source->Poll();  // the lists' changes, taken
  json node{{"metadata", {{"name", "rs1"}, {"labels", {{"lvsdr.io/real-server", "true"}}}}},
            {"status", {{"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
  node["metadata"]["annotations"] = {{"node.alpha.kubernetes.io/ttl", "0"}};
  auto delivered = server.events_delivered();
  server.Replace(kNodes + "/rs1", node);
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_FALSE(source->Poll()) << "a Node status or annotation update asked the agent for a pass";
  EXPECT_EQ(source->Get().node.labels.count("lvsdr.io/real-server"), 1U);

  node["metadata"]["labels"] = json::object();  // the label that selects "web" removed
  delivered = server.events_delivered();
  server.Replace(kNodes + "/rs1", node);
  ASSERT_TRUE(server.WaitFor([&] { return server.events_delivered() > delivered; }));
  EXPECT_TRUE(source->Poll()) << "a label change asked for no pass";
  EXPECT_TRUE(source->Get().node.labels.empty()) << "the pass would not see the label removed";
}

}  // namespace
}  // namespace lvsrs::kube
