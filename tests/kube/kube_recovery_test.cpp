// Kubernetes mode when the control plane itself changes under a running agent, against the real
// kube-apiserver 1.20 + etcd (tests/support/kube_cluster.sh), each test on a cluster of its own:
//  - restarted with a wiped etcd: nothing is withdrawn while the API server is down, while it
//    returns with empty storage (the agent's token names a ServiceAccount that is gone: 401), nor
//    while RBAC is back but the CRDs are not (the VirtualIP list fails with 404); only a list that
//    succeeds with zero VirtualIPs makes the agent clean up, and only what it owns;
//  - the service-account token rotated (a new TokenRequest token in the tokenFile, the old one
//    revoked by deleting the Secret it was bound to): the agent keeps working without a restart;
//  - another tool flipping arp_ignore back: a Contested condition on the RealServer and a
//    DriftContested Event naming the sysctl.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/files.h"
#include "support/kube_cluster.h"

namespace lvsrs::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "lvsrs-q";
constexpr const char* kRealServerLabel = "lvsdr.io/real-server";

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string VipYaml(const std::string& name, const std::vector<std::string>& addresses) {
  std::string y =
      "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: " + name + "\nspec:\n  addresses:\n";
  for (const auto& a : addresses) y += "    - \"" + a + "\"\n";
  y += std::string("  nodeSelector:\n    matchLabels:\n      ") + kRealServerLabel + ": \"true\"\n";
  return y;
}

int OwnedRoutes(const TestNetns& ns) {
  int n = 0;
  for (const auto& r : ns.Routes(4))
    if (r.find(" proto 245") != std::string::npos) ++n;
  return n;
}

std::string ConditionOf(const json& rs, const std::string& type, const std::string& field = "status") {
  if (!rs.is_object()) return "";
  for (const auto& c : rs.value("status", json::object()).value("conditions", json::array()))
    if (c.value("type", "") == type) return c.value(field, "");
  return "";
}

#define REQUIRE_CLUSTER()                                   \
  do {                                                      \
    std::string why;                                        \
    if (!KubeCluster::Available(&why)) GTEST_SKIP() << why; \
  } while (0)

// Drops the API server's traffic with one node (198.51.100.(10+index)) in the control-plane
// namespace, silently: no reset, no ICMP, as a load balancer that failed over leaves an idle
// connection. Removed by the destructor, also when an assertion fails.
class SilentPath {
 public:
  SilentPath(const KubeCluster& cluster, const std::string& node_ip) : netns_(cluster.netns()) {
    const std::string nft = "ip netns exec " + netns_ + " nft ";
    const auto r = lvsrs::testing::Run(
        nft + "add table inet lvsrs_silent && " + nft +
        "'add chain inet lvsrs_silent in { type filter hook input priority 0; policy accept; }' && " + nft +
        "'add chain inet lvsrs_silent out { type filter hook output priority 0; policy accept; }' && " + nft +
        "add rule inet lvsrs_silent in ip saddr " + node_ip + " tcp dport 6443 drop && " + nft +
        "add rule inet lvsrs_silent out ip daddr " + node_ip + " tcp sport 6443 drop");
    if (r.exit_code != 0) throw std::runtime_error("nft: " + r.output);
  }
  ~SilentPath() { Restore(); }
  void Restore() {
    if (!netns_.empty()) lvsrs::testing::Run("ip netns exec " + netns_ + " nft delete table inet lvsrs_silent");
    netns_.clear();
  }

 private:
  std::string netns_;
};

int CountOf(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// Issue 13, item 6: a watch whose connection goes silent (packets dropped, no reset) is noticed
// by TCP keepalive well before the watch would expire (10 min here), the agent resumes watching
// once the path is back, and nothing is withdrawn in between.
TEST(KubeRecovery, SilentlyDeadWatchIsNoticedWithinNinetySeconds) {
  REQUIRE_CLUSTER();
  KubeCluster cluster(kPrefix);
  cluster.InstallProduct();
  TestNetns ns(kPrefix);
  const std::string node = "silent-" + std::to_string(getpid());
  cluster.AddNode(ns, 1, node, {{kRealServerLabel, "true"}});
  const std::string log = cluster.dir() + "/agent.log";
  Process agent(cluster.OperatorArgv(ns, node, cluster.dir() + "/state", {"--watch-timeout", "10m"}), log);
  ASSERT_EQ(cluster.Apply(VipYaml("steady", {"192.0.2.63", "2001:db8::63"})).exit_code, 0);
  auto steady = [&] {
    const auto a = ns.Addresses("lo");
    return Has(a, "192.0.2.63/32") && Has(a, "2001:db8::63/128");
  };
  ASSERT_TRUE(EventuallySlow(steady, 60s)) << ReadFile(log);
  // The VirtualIP arrived; its watch is open and idle from here on.
  const std::string broken = "watch /apis/lvsdr.io/v1alpha1/virtualips: watch ";
  const int before = CountOf(ReadFile(log), broken);

  SilentPath silent(cluster, "198.51.100.11");
  const bool noticed = EventuallySlow([&] { return CountOf(ReadFile(log), broken) > before; }, 90s, 1s);
  EXPECT_TRUE(noticed) << ReadFile(log);
  EXPECT_TRUE(steady()) << "nothing is withdrawn while the API server is unreachable";
  silent.Restore();

  // A VirtualIP created after the path is back converges: the agent watches again.
  ASSERT_EQ(cluster.Apply(VipYaml("after", {"192.0.2.64"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return Has(ns.Addresses("lo"), "192.0.2.64/32"); }, 180s, 1s)) << ReadFile(log);
  EXPECT_TRUE(steady());
}

TEST(KubeRecovery, WipedEtcdWithdrawsOnlyAfterASuccessfulEmptyList) {
  REQUIRE_CLUSTER();
  KubeCluster cluster(kPrefix);
  cluster.InstallProduct();
  TestNetns ns(kPrefix);
  const std::string node = "wiped-" + std::to_string(getpid());
  cluster.AddNode(ns, 1, node, {{kRealServerLabel, "true"}});
  // Foreign state the agent must never touch, before and after the wipe.
  ASSERT_EQ(ns.Exec("ip addr add 203.0.113.77/32 dev lo && ip route add 203.0.113.78 dev lo").exit_code, 0);
  const std::string log = cluster.dir() + "/agent.log";
  Process agent(cluster.OperatorArgv(ns, node, cluster.dir() + "/state", {"--watch-timeout", "2s"}), log);
  ASSERT_EQ(cluster.Apply(VipYaml("wiped", {"192.0.2.60", "2001:db8::60"})).exit_code, 0);
  auto configured = [&] {
    const auto a = ns.Addresses("lo");
    return Has(a, "192.0.2.60/32") && Has(a, "2001:db8::60/128") && OwnedRoutes(ns) == 1 &&
           ns.Sysctl("net.ipv4.conf.all.arp_ignore") == 1 && ns.Sysctl("net.ipv4.conf.all.arp_announce") == 2;
  };
  ASSERT_TRUE(EventuallySlow(configured, 60s)) << ReadFile(log);
  const std::string monitor_log = cluster.dir() + "/monitor.log";
  Process monitor({"ip", "-n", ns.name(), "monitor", "address", "route"}, monitor_log);
  // Holds `configured` for a few seconds, then until the agent's log (since `from`) says `what`.
  auto hold_until_logged = [&](std::size_t from, const std::string& what, const std::string& phase) {
    const bool said = EventuallySlow(
        [&] {
          EXPECT_TRUE(configured()) << "withdrawn " << phase;
          return ReadFile(log).find(what, from) != std::string::npos;
        },
        90s);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(configured()) << "withdrawn " << phase << "\n" << ReadFile(log).substr(from);
      std::this_thread::sleep_for(300ms);
    }
    ASSERT_TRUE(said) << phase << ": the log never said \"" << what << "\"\n" << ReadFile(log).substr(from);
  };

  // 1. The API server goes away and etcd loses everything.
  std::size_t mark = ReadFile(log).size();
  cluster.StopApiserver();
  cluster.WipeEtcd();
  hold_until_logged(mark, "keeping the last known state", "while the API server is down");

  // 2. It returns with empty storage: no ServiceAccount, so the agent's token is refused.
  mark = ReadFile(log).size();
  cluster.StartApiserver();
  hold_until_logged(mark, "HTTP 401", "while the API server has empty storage");

  // 3. RBAC and a new token (written over the agent's tokenFile), but no CRDs yet: the agent is
  //    let in, its Node object is gone and the VirtualIP list fails with 404.
  mark = ReadFile(log).size();
  cluster.InstallRbacAndToken();
  hold_until_logged(mark, "list /apis/lvsdr.io/v1alpha1/virtualips: HTTP 404", "before the CRDs are back");
  EXPECT_TRUE(cluster.GetJson("node " + node).is_null()) << "the Node object should be gone with etcd";
  monitor.Signal(SIGTERM);
  monitor.Wait(5s);
  EXPECT_EQ(ReadFile(monitor_log).find("Deleted"), std::string::npos)
      << "something was deleted before a successful list:\n"
      << ReadFile(monitor_log);

  // 4. The CRDs are back and a list succeeds with zero VirtualIPs: now the agent cleans up what
  //    it owns (addresses, routes, sysctls restored) and nothing else.
  cluster.InstallCrds();
  EXPECT_TRUE(EventuallySlow(
      [&] {
        const auto a = ns.Addresses("lo");
        return !Has(a, "192.0.2.60/32") && !Has(a, "2001:db8::60/128") && OwnedRoutes(ns) == 0 &&
               ns.Sysctl("net.ipv4.conf.all.arp_ignore") == 0;
      },
      90s))
      << ReadFile(log).substr(mark);
  EXPECT_EQ(ns.Sysctl("net.ipv4.conf.all.arp_announce"), 0);
  EXPECT_TRUE(Has(ns.Addresses("lo"), "203.0.113.77/32")) << "a foreign address was removed";
  EXPECT_TRUE(Has(ns.Addresses("lo"), "127.0.0.1/8"));
  const auto routes = ns.Routes(4);
  EXPECT_TRUE(std::any_of(routes.begin(), routes.end(), [](const std::string& r) {
    return r.starts_with("203.0.113.78 dev lo");
  })) << "a foreign route was removed";
  EXPECT_EQ(agent.Wait(0ms), -1) << "the agent exited";
}

TEST(KubeRecovery, RotatedTokenFileIsUsedWithoutRestart) {
  REQUIRE_CLUSTER();
  KubeCluster cluster(kPrefix);
  cluster.InstallProduct();
  // Tokens bound to Secrets: deleting the Secret revokes the token, as deleting a pod revokes
  // its projected token.
  auto bound_token = [&](const std::string& secret) {
    const auto s = cluster.Kubectl("-n lvs-rs-operator create secret generic " + secret);
    EXPECT_EQ(s.exit_code, 0) << s.output;
    const auto t = cluster.Kubectl(
        "-n lvs-rs-operator create token lvs-rs-operator --duration=1h "
        "--bound-object-kind=Secret --bound-object-name=" +
        secret);
    EXPECT_EQ(t.exit_code, 0) << t.output;
    return Trim(t.output);
  };
  const std::string token_file = cluster.dir() + "/operator.token";
  const std::string old_token = bound_token("token-a");
  ASSERT_FALSE(old_token.empty());
  ReplaceFile(token_file, old_token + "\n");

  TestNetns ns(kPrefix);
  const std::string node = "rotate-" + std::to_string(getpid());
  cluster.AddNode(ns, 1, node, {{kRealServerLabel, "true"}});
  const std::string log = cluster.dir() + "/agent.log";
  Process agent(cluster.OperatorArgv(ns, node, cluster.dir() + "/state", {"--watch-timeout", "2s"}), log);
  ASSERT_EQ(cluster.Apply(VipYaml("before", {"192.0.2.70"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return Has(ns.Addresses("lo"), "192.0.2.70/32"); }, 60s)) << ReadFile(log);

  // Rotate: the new token in the file, then the old one revoked.
  const std::string new_token = bound_token("token-b");
  ASSERT_FALSE(new_token.empty());
  ReplaceFile(token_file, new_token + "\n");
  ASSERT_EQ(cluster.Kubectl("-n lvs-rs-operator delete secret token-a").exit_code, 0);
  const std::size_t mark = ReadFile(log).size();
  // The old token is really dead (the API server caches successful authentications briefly).
  auto status_with = [&](const std::string& token) {
    return Trim(ns.Exec("curl -s -o /dev/null -w '%{http_code}' --cacert " + Quote(cluster.dir() + "/ca.crt") + " -H " +
                        Quote("Authorization: Bearer " + token) +
                        " https://198.51.100.1:6443/apis/lvsdr.io/v1alpha1/virtualips")
                    .output);
  };
  ASSERT_TRUE(EventuallySlow([&] { return status_with(old_token) == "401"; }, 60s)) << status_with(old_token);
  EXPECT_EQ(status_with(new_token), "200");
  // Several watch periods later (every watch and status write since uses the file's token) a new
  // VirtualIP converges: the agent was not restarted and was never locked out.
  std::this_thread::sleep_for(8s);
  ASSERT_EQ(cluster.Apply(VipYaml("after", {"192.0.2.71"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return Has(ns.Addresses("lo"), "192.0.2.71/32"); }, 60s))
      << ReadFile(log).substr(mark);
  EXPECT_TRUE(Has(ns.Addresses("lo"), "192.0.2.70/32"));
  EXPECT_EQ(agent.Wait(0ms), -1) << "the agent exited";
  const std::string after = ReadFile(log).substr(mark);
  EXPECT_EQ(after.find("401"), std::string::npos) << "authentication failures after the rotation:\n" << after;
  // The real server's watch events (VirtualIPs, the Node, bookmarks) all pass the decoder's checks.
  const std::string all = ReadFile(log);
  EXPECT_EQ(all.find("malformed watch event"), std::string::npos) << all;
  EXPECT_EQ(all.find("re-listing after a backoff"), std::string::npos) << all;
  // Its reports went through with the new token too.
  EXPECT_TRUE(EventuallySlow(
      [&] {
        for (const auto& v :
             cluster.GetJson("lvsrs " + node).value("status", json::object()).value("virtualIPs", json::array()))
          if (v.value("name", "") == "after" && v.value("state", "") == "Ready") return true;
        return false;
      },
      60s))
      << cluster.Kubectl("get lvsrs " + node + " -o yaml").output;
}

TEST(KubeRecovery, FightOverArpIgnoreIsAConditionAndAnEvent) {
  REQUIRE_CLUSTER();
  KubeCluster cluster(kPrefix);
  cluster.InstallProduct();
  TestNetns ns(kPrefix);
  const std::string node = "fight-" + std::to_string(getpid());
  cluster.AddNode(ns, 1, node, {{kRealServerLabel, "true"}});
  const std::string log = cluster.dir() + "/agent.log";
  Process agent(cluster.OperatorArgv(ns, node, cluster.dir() + "/state"), log);
  ASSERT_EQ(cluster.Apply(VipYaml("fight", {"192.0.2.90"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return ns.Sysctl("net.ipv4.conf.all.arp_ignore") == 1; }, 60s)) << ReadFile(log);
  ASSERT_TRUE(EventuallySlow([&] { return ConditionOf(cluster.GetJson("lvsrs " + node), "Ready") == "True"; }, 60s));
  EXPECT_EQ(ConditionOf(cluster.GetJson("lvsrs " + node), "Contested"), "False");

  {
    // Another tool sets arp_ignore back to 0 over and over.
    Process flipper({"ip", "netns", "exec", ns.name(), "sh", "-c",
                     "while :; do echo 0 > /proc/sys/net/ipv4/conf/all/arp_ignore; sleep 0.2; done"});
    EXPECT_TRUE(
        EventuallySlow([&] { return ConditionOf(cluster.GetJson("lvsrs " + node), "Contested") == "True"; }, 60s))
        << ReadFile(log);
    const json rs = cluster.GetJson("lvsrs " + node);
    EXPECT_EQ(ConditionOf(rs, "Contested", "reason"), "DriftContested");
    EXPECT_NE(ConditionOf(rs, "Contested", "message").find("sysctl:net.ipv4.conf.all.arp_ignore"), std::string::npos)
        << rs.dump(2);
    json event;
    EXPECT_TRUE(EventuallySlow(
        [&] {
          for (const auto& e : cluster.GetJson("events -n default --field-selector reason=DriftContested")
                                   .value("items", json::array()))
            if (e["involvedObject"].value("name", "") == node) event = e;
          return event.is_object();
        },
        60s))
        << cluster.Kubectl("get events -n default").output;
    if (event.is_object()) {
      EXPECT_EQ(event.value("type", ""), "Warning");
      EXPECT_NE(event.value("message", "").find("sysctl:net.ipv4.conf.all.arp_ignore"), std::string::npos)
          << event.dump(2);
      EXPECT_EQ(event["involvedObject"].value("kind", ""), "RealServer");
    }
  }
  // The other tool stopped: the operator wins, and once the window has passed the condition clears.
  EXPECT_TRUE(EventuallySlow([&] { return ns.Sysctl("net.ipv4.conf.all.arp_ignore") == 1; }, 30s));
  EXPECT_TRUE(
      EventuallySlow([&] { return ConditionOf(cluster.GetJson("lvsrs " + node), "Contested") == "False"; }, 90s))
      << cluster.Kubectl("get lvsrs " + node + " -o yaml").output;
}

}  // namespace
}  // namespace lvsrs::testing
