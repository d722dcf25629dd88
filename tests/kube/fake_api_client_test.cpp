// The in-memory API server holds the semantics the unit tests of the kube units rely on
// (tests/support/fake_api_client.h): if it drifted from kube-apiserver's, those tests would pass
// against something the agent never meets.
#include "support/fake_api_client.h"

#include <gtest/gtest.h>

#include <thread>

namespace lvsrs::testing {
namespace {

using kube::WatchEnd;
using nlohmann::json;

const std::string kRealServers = "/apis/lvsdr.io/v1alpha1/realservers";

struct FakeApiServerTest : ::testing::Test {
  FakeApiServer server;
  std::unique_ptr<kube::ApiClient> client = server.NewClient();
  json Created(const std::string& name) {
    const auto r = client->Post(kRealServers, json{{"apiVersion", "lvsdr.io/v1alpha1"},
                                                   {"kind", "RealServer"},
                                                   {"metadata", {{"name", name}}},
                                                   {"status", {{"vips", "9/9"}}}});
    EXPECT_EQ(r.status, 201) << r.error;
    return r.body;
  }
};

TEST_F(FakeApiServerTest, AStaleResourceVersionIsAConflictAndAMissingObjectNotFound) {
  json rs = Created("rs1");
  EXPECT_FALSE(rs.contains("status")) << "status is the subresource's: not set by a create";
  json newer = rs;
  newer["metadata"]["labels"] = {{"a", "b"}};
  const auto put = client->Put(kRealServers + "/rs1", newer);
  ASSERT_EQ(put.status, 200) << put.error;
  EXPECT_NE(put.body["metadata"]["resourceVersion"], rs["metadata"]["resourceVersion"]);
  EXPECT_EQ(client->Put(kRealServers + "/rs1", rs).status, 409) << "a PUT of the version it replaced";
  EXPECT_EQ(client->MergePatch(kRealServers + "/rs1", {{"metadata", {{"resourceVersion", "1"}}}}).status, 409);
  EXPECT_EQ(client->Get(kRealServers + "/rs2").status, 404);
  EXPECT_EQ(client->MergePatch(kRealServers + "/rs2/status", {{"status", json::object()}}).status, 404);
  EXPECT_EQ(client->Post(kRealServers, {{"metadata", {{"name", "rs1"}}}}).status, 409) << "created twice";
}

TEST_F(FakeApiServerTest, AWriteThatChangesNothingIsNoNewVersion) {
  Created("rs1");
  const auto first = client->MergePatch(kRealServers + "/rs1/status", {{"status", {{"vips", "1/1"}}}});
  ASSERT_TRUE(first.ok()) << first.error;
  EXPECT_EQ(first.body["status"]["vips"], "1/1");
  const auto version = server.resource_version();
  EXPECT_TRUE(client->MergePatch(kRealServers + "/rs1/status", {{"status", {{"vips", "1/1"}}}}).ok());
  EXPECT_EQ(server.resource_version(), version);
  // Through the object, status does not change; through the subresource, nothing else does.
  EXPECT_TRUE(client->MergePatch(kRealServers + "/rs1", {{"status", {{"vips", "0/1"}}}}).ok());
  EXPECT_TRUE(client->MergePatch(kRealServers + "/rs1/status", {{"spec", {{"x", 1}}}}).ok());
  const json rs = *server.Object(kRealServers + "/rs1");
  EXPECT_EQ(rs["status"]["vips"], "1/1");
  EXPECT_FALSE(rs.contains("spec"));
  EXPECT_EQ(server.resource_version(), version);
}

TEST_F(FakeApiServerTest, FaultsAnswerBeforeAnyEffect) {
  server.Fail("POST", kRealServers, ApiFault{0, "connection refused"}, 1);
  const auto lost = client->Post(kRealServers, {{"metadata", {{"name", "rs1"}}}});
  EXPECT_EQ(lost.status, 0);
  EXPECT_NE(lost.error.find("connection refused"), std::string::npos) << lost.error;
  EXPECT_FALSE(server.Object(kRealServers + "/rs1"));
  server.Fail("", "/apis/", ApiFault{503, "etcd down"});
  EXPECT_EQ(client->Post(kRealServers, {{"metadata", {{"name", "rs1"}}}}).status, 503);
  server.ClearFaults();
  EXPECT_EQ(client->Post(kRealServers, {{"metadata", {{"name", "rs1"}}}}).status, 201);
}

TEST_F(FakeApiServerTest, ListsPageAndWatchesResumeUntilCompacted) {
  for (const char* name : {"a", "b", "c"}) Created(name);
  const auto page = client->Get(kRealServers + "?limit=2");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page.body["kind"], "RealServerList");
  ASSERT_EQ(page.body["items"].size(), 2u);
  const std::string version = page.body["metadata"]["resourceVersion"];
  const auto rest = client->Get(
      kRealServers + "?limit=2&continue=" + kube::UrlEncode(page.body["metadata"]["continue"].get<std::string>()));
  ASSERT_EQ(rest.body["items"].size(), 1u);
  EXPECT_EQ(rest.body["items"][0]["metadata"]["name"], "c");

  server.Delete(kRealServers + "/b");
  std::thread ender([&] {
    server.WaitFor([&] { return server.open_watches() == 1; });
    server.EndWatches(WatchEnd::Expired);
  });
  std::vector<std::string> seen;
  const auto w = client->Watch(
      kRealServers + "?watch=1&resourceVersion=" + version, {"lvsdr.io/v1alpha1", "RealServer"}, [&](const json& e) {
        seen.push_back(e["type"].get<std::string>() + " " + e["object"]["metadata"]["name"].get<std::string>());
      });
  ender.join();
  EXPECT_EQ(seen, std::vector<std::string>{"DELETED b"});
  EXPECT_EQ(w.end, WatchEnd::Expired);
  server.Compact();
  const auto gone = client->Watch(kRealServers + "?watch=1&resourceVersion=" + version,
                                  {"lvsdr.io/v1alpha1", "RealServer"}, [](const json&) {});
  EXPECT_EQ(gone.end, WatchEnd::Gone);
}

}  // namespace
}  // namespace lvsrs::testing
