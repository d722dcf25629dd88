// Pure parts of Kubernetes mode: RealServer status conventions, the VirtualIP summary, backoff,
// event rate limiting and kubeconfig parsing. No API server needed.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/kube_config.h"
#include "kube/node_reporter.h"
#include "kube/object_decode.h"
#include "kube/realserver_status.h"
#include "kube/token_source.h"
#include "kube/vip_summariser.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

NodeStatus Healthy() {
  NodeStatus s;
  s.vips.push_back(VipAddressStatus{"web", "192.0.2.10", "lo", VipState::Configured, "configured"});
  s.interfaces.push_back(InterfaceArpStatus{"eth0", 1, 2, true, ""});
  return s;
}

// The summary of whole RealServers, as the summariser makes it from what its informer keeps.
std::map<std::string, json> SummariseVirtualIps(const std::map<std::string, std::int64_t>& generations,
                                                const std::map<std::string, json>& realservers) {
  VipReadinessTally tally;
  for (const auto& [node, rs] : realservers) tally.Add(node, ReadinessOf(rs));
  return tally.Statuses(generations);
}

std::string Condition(const json& status, const std::string& type, const std::string& field) {
  for (const auto& c : status["conditions"])
    if (c["type"] == type) return c[field].get<std::string>();
  return "";
}

TEST(RealServerStatus, SteadyStateProducesNoChange) {
  const json first = BuildRealServerStatus(Healthy(), {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(first, "Ready", "status"), "True");
  EXPECT_EQ(first["vips"], "1/1");
  const json again = BuildRealServerStatus(Healthy(), {}, first, "2026-01-01T00:05:00Z");
  EXPECT_EQ(again, first) << "an unchanged node must produce an identical status (no write)";
}

TEST(RealServerStatus, TransitionTimeMovesOnlyOnStatusChange) {
  const json ok = BuildRealServerStatus(Healthy(), {}, json::object(), "2026-01-01T00:00:00Z");
  NodeStatus broken = Healthy();
  broken.arp_conformant = false;
  broken.interfaces[0] = InterfaceArpStatus{"eth0", 0, 2, false, "arp_ignore 0, want 1"};
  const json bad = BuildRealServerStatus(broken, {}, ok, "2026-01-01T00:01:00Z");
  EXPECT_EQ(Condition(bad, "ARPConformant", "status"), "False");
  EXPECT_EQ(Condition(bad, "ARPConformant", "lastTransitionTime"), "2026-01-01T00:01:00Z");
  EXPECT_EQ(Condition(bad, "Ready", "status"), "False");
  EXPECT_EQ(Condition(bad, "VIPsConfigured", "lastTransitionTime"), "2026-01-01T00:00:00Z")
      << "VIPsConfigured did not change status, its transition time must not move";
  EXPECT_EQ(bad["lastSyncTime"], "2026-01-01T00:01:00Z");
}

TEST(RealServerStatus, AVipChosenAsSourceIsItsOwnConditionAndNotReady) {
  const json ok = BuildRealServerStatus(Healthy(), {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(ok, "VIPsNotSource", "status"), "True");
  NodeStatus bad = Healthy();
  bad.vips_not_source = false;
  bad.problems.push_back({Problem::Kind::VipIsSource, "2001:db8::10",
                          "2001:db8::10 is the source address the kernel picks for this node's own traffic"});
  const json st = BuildRealServerStatus(bad, {}, ok, "2026-01-01T00:01:00Z");
  EXPECT_EQ(Condition(st, "VIPsNotSource", "status"), "False");
  EXPECT_EQ(Condition(st, "VIPsNotSource", "reason"), "VIPIsSource");
  EXPECT_NE(Condition(st, "VIPsNotSource", "message").find("2001:db8::10 is the source"), std::string::npos);
  EXPECT_EQ(Condition(st, "Ready", "status"), "False");
  EXPECT_EQ(Condition(st, "Ready", "reason"), "VIPIsSource");
  EXPECT_EQ(Condition(st, "ARPConformant", "status"), "True");
}

TEST(RealServerStatus, ContestedConditionNamesTheItemsNotTheCounts) {
  const json calm = BuildRealServerStatus(Healthy(), {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(calm, "Contested", "status"), "False");
  EXPECT_EQ(Condition(calm, "Contested", "reason"), "NoContest");
  const json fight =
      BuildRealServerStatus(Healthy(), {}, calm, "2026-01-01T00:01:00Z", {{"sysctl:net.ipv4.conf.all.arp_ignore", 3}});
  EXPECT_EQ(Condition(fight, "Contested", "status"), "True");
  EXPECT_EQ(Condition(fight, "Contested", "reason"), "DriftContested");
  EXPECT_NE(Condition(fight, "Contested", "message").find("sysctl:net.ipv4.conf.all.arp_ignore"), std::string::npos);
  EXPECT_EQ(Condition(fight, "Contested", "lastTransitionTime"), "2026-01-01T00:01:00Z");
  EXPECT_EQ(Condition(fight, "Ready", "status"), "True") << "a fight the operator still wins is not unreadiness";
  // More repairs of the same item: no new status to write.
  const json later =
      BuildRealServerStatus(Healthy(), {}, fight, "2026-01-01T00:02:00Z", {{"sysctl:net.ipv4.conf.all.arp_ignore", 9}});
  EXPECT_EQ(later, fight);
}

TEST(RealServerStatus, InvalidVirtualIpIsRefusedWithMessage) {
  const json s =
      BuildRealServerStatus(Healthy(), {{"bad", {"invalid VirtualIP: spec.addresses[0]: not canonical", false}}},
                            json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "status"), "False");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "reason"), "VirtualIPRefused");
  bool found = false;
  for (const auto& v : s["virtualIPs"])
    if (v["name"] == "bad" && v["state"] == "Refused") found = true;
  EXPECT_TRUE(found) << s.dump(2);
  EXPECT_EQ(s["vips"], "1/1") << "the good VIP is still counted as configured";
}

TEST(RealServerStatus, RefusedEditKeepsItsAddressesAndSaysWhy) {
  const json s = BuildRealServerStatus(
      Healthy(), {{"web", {"edit refused, still serving generation 1: invalid VirtualIP: spec.addresses[0]", true}}},
      json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "status"), "False");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "reason"), "EditRefused");
  EXPECT_NE(Condition(s, "VIPsConfigured", "message").find("still serving generation 1"), std::string::npos);
  bool refused_entry = false;
  for (const auto& v : s["virtualIPs"])
    if (v["name"] == "web" && v["state"] == "EditRefused" && !v.contains("address")) refused_entry = true;
  EXPECT_TRUE(refused_entry) << s.dump(2);
  EXPECT_EQ(s["vips"], "1/1") << "the last accepted addresses are still configured and counted";
}

TEST(RealServerStatus, AnEditRefusedOnThisNodeLooksLikeAnyRefusedEdit) {
  NodeStatus st = Healthy();
  st.vips.push_back(VipAddressStatus{"web", "", "", VipState::EditRefused,
                                     "edit refused on this node, still serving the spec accepted before (generation "
                                     "1): 192.0.2.10 conflicts with VirtualIP old, which puts it on lo"});
  const json s = BuildRealServerStatus(st, {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "status"), "False");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "reason"), "EditRefused");
  EXPECT_NE(Condition(s, "VIPsConfigured", "message").find("VirtualIP web edit refused on this node"),
            std::string::npos)
      << s.dump(2);
  ASSERT_EQ(s["virtualIPs"].size(), 1u) << s.dump(2);
  const json& web = s["virtualIPs"][0];
  EXPECT_EQ(web["state"], "EditRefused") << s.dump(2);
  EXPECT_EQ(web["addresses"], "1/1") << "the kept addresses are still configured and counted";
  EXPECT_NE(web["message"].get<std::string>().find("conflicts with VirtualIP old"), std::string::npos) << s.dump(2);
  EXPECT_EQ(s["vips"], "1/1");
}

TEST(RealServerStatus, AnInterfaceNameThatIsNotUtf8StillMakesASendableStatus) {
  // The kernel allows any bytes in a name; `ip link add $'\xff\xfe' ...` is a real interface.
  NodeStatus st = Healthy();
  st.vips[0].interface = "\xff\xfe";
  st.interfaces.push_back(InterfaceArpStatus{"\xff\xfe", 0, 0, false, "net.ipv4.conf.\xff\xfe.arp_ignore is 0"});
  st.arp_conformant = false;
  const json s = BuildRealServerStatus(st, {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_THROW((void)s.dump(), json::type_error) << "nlohmann's default would lose the whole status PATCH";
  std::string body;
  ASSERT_NO_THROW(body = EncodeJsonBody(json{{"status", s}}));
  const json back = json::parse(body);
  EXPECT_EQ(back["status"]["interfaces"][0]["name"], "\ufffd\ufffd") << body;
  EXPECT_EQ(Condition(back["status"], "ARPConformant", "status"), "False") << body;
}

// A conformant node with 1,000 VIPs in 10 VirtualIPs and 200 pods' veths: what every watcher of
// RealServers receives on each change must not grow with addresses or interfaces.
NodeStatus Large(std::size_t veths) {
  NodeStatus s;
  for (int v = 0; v < 10; ++v)
    for (int a = 0; a < 100; ++a)
      s.vips.push_back(VipAddressStatus{"team-" + std::to_string(v),
                                        "198.18." + std::to_string(v) + "." + std::to_string(a + 1), "lo",
                                        VipState::Configured, "configured"});
  s.interfaces.push_back(InterfaceArpStatus{"eth0", 1, 2, true, ""});
  for (std::size_t i = 0; i < veths; ++i)
    s.interfaces.push_back(InterfaceArpStatus{"veth" + std::to_string(i), 1, 2, true, ""});
  return s;
}

TEST(RealServerStatus, SizeGrowsWithVirtualIpsNotWithAddresses) {
  const json s = BuildRealServerStatus(Large(200), {}, json::object(), "2026-01-01T00:00:00Z");
  const std::string body = EncodeJsonBody(json{{"status", s}});
  EXPECT_LE(body.size(), 4096u) << body;
  EXPECT_EQ(s["vips"], "1000/1000");
  ASSERT_EQ(s["virtualIPs"].size(), 10u);
  EXPECT_EQ(s["virtualIPs"][0]["addresses"], "100/100");
  EXPECT_EQ(s["virtualIPs"][0]["state"], "Ready");
  EXPECT_TRUE(s["addresses"].empty());
  EXPECT_TRUE(s["interfaces"].empty());
}

TEST(RealServerStatus, PodVethsComingAndGoingOnAConformantNodeWriteNothing) {
  const json before = BuildRealServerStatus(Large(20), {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(BuildRealServerStatus(Large(120), {}, before, "2026-01-01T00:01:00Z"), before);
  EXPECT_EQ(BuildRealServerStatus(Large(0), {}, before, "2026-01-01T00:02:00Z"), before);
}

TEST(RealServerStatus, ProblemsAreListedUpToABoundAndTheRestCounted) {
  NodeStatus st = Large(0);
  for (std::size_t i = 0; i < 30; ++i) {
    st.vips[i].state = VipState::Failed;
    st.vips[i].message = "File exists";
  }
  st.vips[999].state = VipState::Pending;
  st.vips[999].message = "not applied yet";
  for (int i = 0; i < 25; ++i)
    st.interfaces.push_back(InterfaceArpStatus{"eth" + std::to_string(i + 1), 0, 0, false, "198.18.0.1 answered"});
  st.arp_conformant = false;
  const json s = BuildRealServerStatus(st, {}, json::object(), "2026-01-01T00:00:00Z");
  EXPECT_EQ(s["vips"], "969/1000");
  EXPECT_EQ(s["addresses"].size(), 20u);
  EXPECT_EQ(s["addressesNotListed"], 11) << "30 failed + 1 pending, 20 listed";
  EXPECT_EQ(s["addresses"][0]["state"], "Failed");
  EXPECT_EQ(s["addresses"][0]["address"], "198.18.0.1");
  EXPECT_EQ(s["interfaces"].size(), 20u);
  EXPECT_EQ(s["interfacesNotListed"], 5);
  EXPECT_EQ(s["virtualIPs"][0]["state"], "NotReady");
  EXPECT_EQ(s["virtualIPs"][0]["addresses"], "70/100");
  EXPECT_NE(s["virtualIPs"][0].value("message", "").find("198.18.0.1: File exists"), std::string::npos);
  EXPECT_EQ(s["virtualIPs"][9]["addresses"], "99/100");
  EXPECT_EQ(Condition(s, "VIPsConfigured", "reason"), "ApplyFailed");
  EXPECT_LE(EncodeJsonBody(json{{"status", s}}).size(), 16384u);
}

TEST(VipSummary, ReadsOneEntryPerVirtualIpAndTheOlderPerAddressForm) {
  auto entry = [](const std::string& state) {
    return json{{"status", {{"virtualIPs", json::array({{{"name", "web"}, {"state", state}, {"addresses", "2/2"}}})}}}};
  };
  const auto out = SummariseVirtualIps(
      {{"web", 1}},
      {{"a", entry("Ready")},
       {"b", entry("NotReady")},
       {"c", json{{"status",
                   {{"virtualIPs",
                     json::array({{{"name", "web"}, {"address", "192.0.2.10"}, {"state", "Configured"}}})}}}}}});
  EXPECT_EQ(out.at("web")["ready"], "2/3") << out.at("web").dump();
  EXPECT_NE(out.at("web")["message"].get<std::string>().find("node b"), std::string::npos);
}

TEST(VipSummary, CountsSelectedAndReadyNodes) {
  auto rs = [](const std::string& state) {
    return json{
        {"status", {{"virtualIPs", json::array({{{"name", "web"}, {"address", "192.0.2.10"}, {"state", state}}})}}}};
  };
  const auto out = SummariseVirtualIps({{"web", 3}, {"other", 1}},
                                       {{"a", rs("Configured")}, {"b", rs("Pending")}, {"c", json::object()}});
  EXPECT_EQ(out.at("web")["ready"], "1/2");
  EXPECT_EQ(out.at("web")["observedGeneration"], 3);
  EXPECT_NE(out.at("web")["message"].get<std::string>().find("node b"), std::string::npos);
  EXPECT_EQ(out.at("other")["ready"], "0/0");
}

// A follower checks the Lease about once per lease duration while the holder renews, and soon
// after the holder stops renewing; never more often than the holder renews.
TEST(VipSummary, FollowerChecksTheLeaseWhenItCouldHaveExpired) {
  using std::chrono::seconds;
  const std::time_t now = 1'000'000;
  // Just renewed: wait the whole duration (6 checks in 6 minutes instead of 36).
  EXPECT_EQ(FollowerWait(now, seconds(60), now, seconds(10), seconds(0)), seconds(60));
  // Renewed 45 s ago: check again when it would expire.
  EXPECT_EQ(FollowerWait(now - 45, seconds(60), now, seconds(10), seconds(0)), seconds(15));
  // About to expire, or a clock ahead of ours: not more often than the holder renews.
  EXPECT_EQ(FollowerWait(now - 59, seconds(60), now, seconds(10), seconds(0)), seconds(10));
  EXPECT_EQ(FollowerWait(now - 600, seconds(60), now, seconds(10), seconds(0)), seconds(10));
  // A renewTime far in the future (a skewed holder clock) cannot park the follower for longer
  // than a lease duration.
  EXPECT_EQ(FollowerWait(now + 3600, seconds(60), now, seconds(10), seconds(0)), seconds(60));
  // The per-node jitter is added on top.
  EXPECT_EQ(FollowerWait(now, seconds(60), now, seconds(10), seconds(7)), seconds(67));
}

// The informers' reconnect backoff: the shared RetryBackoff with jitter.
TEST(Backoff, GrowsJitteredAndCapped) {
  using std::chrono::milliseconds;
  RetryBackoff b(RetryBackoff::Policy{milliseconds(100), milliseconds(1000), true}, 42);
  RetryBackoff::Clock::duration last{0};
  for (int i = 0; i < 10; ++i) last = b.NextDelay();
  EXPECT_GE(last, milliseconds(500));
  EXPECT_LT(last, milliseconds(1500));
  b.Reset();
  const auto first = b.NextDelay();
  EXPECT_GE(first, milliseconds(50));
  EXPECT_LT(first, milliseconds(150));
  RetryBackoff other(RetryBackoff::Policy{milliseconds(100), milliseconds(1000), true}, 43);
  EXPECT_NE(other.NextDelay(),
            RetryBackoff(RetryBackoff::Policy{milliseconds(100), milliseconds(1000), true}, 42).NextDelay())
      << "agents with different seeds do not reconnect in step";
}

TEST(EventRateLimiter, OnePerKeyPerIntervalAndCountsSuppressed) {
  EventRateLimiter l(std::chrono::seconds(60));
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(l.Allow("rs/a/DriftRepaired", t0));
  EXPECT_FALSE(l.Allow("rs/a/DriftRepaired", t0 + std::chrono::seconds(1)));
  EXPECT_FALSE(l.Allow("rs/a/DriftRepaired", t0 + std::chrono::seconds(2)));
  EXPECT_TRUE(l.Allow("rs/b/DriftRepaired", t0 + std::chrono::seconds(2)));
  const auto later = l.Allow("rs/a/DriftRepaired", t0 + std::chrono::seconds(61));
  ASSERT_TRUE(later);
  EXPECT_EQ(*later, 2);
}

TEST(Kubeconfig, TokenFileIsReReadWhenRotated) {
  char dir[] = "/tmp/lvsrs-kubecfg-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/ca.crt") << "-----BEGIN CERTIFICATE-----\n";
  std::ofstream(d + "/token") << "first\n";
  std::ofstream(d + "/config") << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                  "    server: https://198.51.100.1:6443\n    certificate-authority: ca.crt\n"
                                  "users:\n- name: u\n  user:\n    tokenFile: token\ncontexts:\n- name: x\n"
                                  "  context: {cluster: c, user: u}\ncurrent-context: x\n";
  const KubeConfig c = LoadKubeconfig(d + "/config");
  EXPECT_EQ(c.server, "https://198.51.100.1:6443");
  EXPECT_EQ(c.token_file, d + "/token");
  TokenSource tokens(c);
  EXPECT_EQ(tokens.Current(), "first");
  std::ofstream(d + "/token.new") << "second-and-longer\n";
  ASSERT_EQ(rename((d + "/token.new").c_str(), (d + "/token").c_str()), 0);
  EXPECT_EQ(tokens.Current(), "second-and-longer");
  std::system(("rm -rf " + d).c_str());
}

// A rewrite that stat() cannot see (same size, modification time put back) is still picked up
// once the server rejects the old token: HttpApiClient calls Invalidate() on every 401.
TEST(Kubeconfig, TokenFileIsReadAgainAfterARejection) {
  char dir[] = "/tmp/lvsrs-token-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/token") << "token-one\n";
  struct stat before {};
  ASSERT_EQ(stat((d + "/token").c_str(), &before), 0);
  KubeConfig c;
  c.token_file = d + "/token";
  TokenSource tokens(c);
  EXPECT_EQ(tokens.Current(), "token-one");
  std::ofstream(d + "/token", std::ios::trunc) << "token-two\n";
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, (d + "/token").c_str(), times, 0), 0);
  EXPECT_EQ(tokens.Current(), "token-one") << "same size and time: the cached token is kept";
  tokens.Invalidate();
  EXPECT_EQ(tokens.Current(), "token-two");
  std::system(("rm -rf " + d).c_str());
}

TEST(Kubeconfig, InsecureSkipVerifyIsRefused) {
  char dir[] = "/tmp/lvsrs-kubecfg-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/config") << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                  "    server: https://198.51.100.1:6443\n    insecure-skip-tls-verify: true\n"
                                  "users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n"
                                  "  context: {cluster: c, user: u}\ncurrent-context: x\n";
  EXPECT_THROW(LoadKubeconfig(d + "/config"), ConfigError);
  std::system(("rm -rf " + d).c_str());
}

TEST(Kubeconfig, WithoutTheClustersCaItIsRefusedNotTrustedToTheSystemStore) {
  char dir[] = "/tmp/lvsrs-kubecfg-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/config") << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                  "    server: https://198.51.100.1:6443\n"
                                  "users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n"
                                  "  context: {cluster: c, user: u}\ncurrent-context: x\n";
  try {
    LoadKubeconfig(d + "/config");
    ADD_FAILURE() << "a kubeconfig without a CA was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("no certificate-authority"), std::string::npos) << e.what();
  }
  std::system(("rm -rf " + d).c_str());
}

TEST(Kubeconfig, AFieldOfTheWrongTypeIsAConfigErrorNotACrash) {
  char dir[] = "/tmp/lvsrs-kubecfg-XXXXXX";
  ASSERT_TRUE(mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/config") << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n"
                                  "    server: [1, 2]\n"
                                  "users:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n"
                                  "  context: {cluster: c, user: u}\ncurrent-context: x\n";
  EXPECT_THROW(LoadKubeconfig(d + "/config"), ConfigError);
  std::system(("rm -rf " + d).c_str());
}

TEST(ObjectDecode, FieldsOfTheWrongTypeReadAsAbsent) {
  const json node = json::parse(R"({"metadata": {"name": "n", "uid": 5, "labels": {"a": "1", "b": 2, "c": null}}})");
  const NodeFacts n = DecodeNode(node);
  EXPECT_EQ(n.uid, "");
  EXPECT_EQ(n.labels, (std::map<std::string, std::string>{{"a", "1"}}));
  EXPECT_TRUE(DecodeNode(json::parse(R"({"metadata": "x"})")).labels.empty());
  EXPECT_TRUE(DecodeNode(json::array()).uid.empty());

  EXPECT_EQ(GenerationOf(json::parse(R"({"metadata": {"generation": "7"}})")), 0);
  EXPECT_EQ(GenerationOf(json::parse(R"({"metadata": {"generation": 18446744073709551615}})")), 0);
  EXPECT_EQ(GenerationOf(json::parse(R"({"metadata": {"generation": 7}})")), 7);

  const LeaseFacts l = DecodeLease(json::parse(
      R"({"spec": {"holderIdentity": 1, "renewTime": ["x"], "leaseDurationSeconds": 9223372036854775807}})"));
  EXPECT_EQ(l.holder, "");
  EXPECT_EQ(l.renewed, 0);
  EXPECT_EQ(l.duration_seconds, 86400) << "clamped: renewed + duration must not overflow";
  EXPECT_FALSE(DecodeLease(json::parse(R"({"spec": {"leaseDurationSeconds": "60"}})")).duration_seconds);

  const auto vips = DecodeRealServerVips(json::parse(
      R"({"status": {"virtualIPs": [{"name": 1, "state": "Failed", "message": {}}, 5, {"name": "web", "state": "Configured"}]}})"));
  ASSERT_EQ(vips.size(), 2u);
  EXPECT_EQ(vips[0].name, "");
  EXPECT_EQ(vips[0].message, "");
  EXPECT_EQ(vips[1].name, "web");
  EXPECT_TRUE(DecodeRealServerVips(json::parse(R"({"status": {"virtualIPs": {"a": 1}}})")).empty());
}

TEST(ObjectDecode, ARealServerOrPreviousStatusOfTheWrongShapeIsSummarisedWithoutThrowing) {
  const json odd = json::parse(R"({"status": {"virtualIPs": [{"name": "web", "state": 3, "message": 4}],
                                              "conditions": [{"type": 1, "status": [], "lastTransitionTime": 5}, 7],
                                              "lastSyncTime": {}}})");
  std::map<std::string, json> summary;
  ASSERT_NO_THROW(summary = SummariseVirtualIps({{"web", 1}}, {{"node-a", odd}}));
  EXPECT_EQ(summary.at("web")["ready"], "0/1");
  json built;
  ASSERT_NO_THROW(built = BuildRealServerStatus(Healthy(), {}, odd["status"], "2026-01-01T00:00:00Z"));
  EXPECT_EQ(Condition(built, "Ready", "lastTransitionTime"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(built["lastSyncTime"], "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace lvsrs::kube
