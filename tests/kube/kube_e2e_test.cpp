// Kubernetes mode end to end: real kube-apiserver + etcd in a control-plane namespace, kubectl
// applying crd/, manifests/rbac.yaml and VirtualIPs as a user would, and lvs-rs-operator agents
// in namespaces that play the nodes, authenticated with the ServiceAccount's token and bound by
// the product's RBAC. Assertions are on what a user sees: kernel state in the node namespaces
// (`ip`), and `kubectl get vip` / `kubectl get lvsrs`.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "support/files.h"
#include "support/held_connection.h"
#include "support/kube_cluster.h"

namespace lvsrs::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kPrefix = "lvsrs-k";
constexpr const char* kRealServerLabel = "lvsdr.io/real-server";

std::string VipYaml(const std::string& name, const std::vector<std::string>& addresses, int arp_ignore = 1,
                    const std::string& selector_label = kRealServerLabel) {
  std::string y =
      "apiVersion: lvsdr.io/v1alpha1\nkind: VirtualIP\nmetadata:\n  name: " + name + "\nspec:\n  addresses:\n";
  for (const auto& a : addresses) y += "    - \"" + a + "\"\n";
  y += "  nodeSelector:\n    matchLabels:\n      " + selector_label + ": \"true\"\n";
  y += "  arp:\n    ignore: " + std::to_string(arp_ignore) + "\n    announce: 2\n";
  return y;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : " ") + i;
  return out;
}

// One agent in one node namespace, with its own state directory and log.
struct Node {
  std::string name;
  std::string ip;  // on the cluster's bridge: the source address of its API requests
  std::unique_ptr<TestNetns> ns;
  std::string state_dir, log;
  std::unique_ptr<Process> agent;
};

class KubeE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    if (!KubeCluster::Available(&why)) return;
    try {
      // The audit log tells which requests reached the API server (RealServers, Leases: small).
      std::ofstream(AuditPolicy())
          << "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
             "rules:\n- level: Metadata\n  resources:\n  - group: lvsdr.io\n"
             "    resources: [realservers, realservers/status]\n- level: Metadata\n  resources:\n"
             "  - group: coordination.k8s.io\n    resources: [leases]\n- level: None\n";
      cluster_ = new KubeCluster(kPrefix, {"--audit-policy-file=" + AuditPolicy(), "--audit-log-path=" + AuditLog()});
      cluster_->InstallProduct();
    } catch (const std::exception& e) {
      setup_error_ = new std::string(e.what());  // reported as a failure by every test, not a skip
    }
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
    std::remove(AuditPolicy().c_str());
    std::remove(AuditLog().c_str());
    delete setup_error_;
    setup_error_ = nullptr;
  }

  void SetUp() override {
    std::string why;
    if (!KubeCluster::Available(&why)) GTEST_SKIP() << why;
    ASSERT_EQ(setup_error_, nullptr) << *setup_error_;
    ASSERT_NE(cluster_, nullptr);
  }

  void TearDown() override {
    if (!cluster_) return;
    for (auto& n : nodes_) {
      n.agent.reset();
      if (HasFailure())
        std::fprintf(stderr, "---- agent log of %s ----\n%s\n", n.name.c_str(), ReadFile(n.log).c_str());
    }
    cluster_->Kubectl("delete vip --all --wait=false");
    cluster_->Kubectl("delete lvsrs --all --wait=false");
    for (auto& n : nodes_) {
      cluster_->Kubectl("delete node " + n.name + " --wait=false");
      lvsrs::testing::Run("rm -rf " + Quote(n.state_dir) + " " + Quote(n.log));
    }
    nodes_.clear();
  }

  Node& AddNode(const std::string& name, bool labelled) {
    Node n;
    n.name = name + "-" + std::to_string(getpid());
    n.ns = std::make_unique<TestNetns>(kPrefix);
    n.state_dir = cluster_->dir() + "/state-" + n.name;
    n.log = cluster_->dir() + "/agent-" + n.name + ".log";
    std::map<std::string, std::string> labels;
    if (labelled) labels[kRealServerLabel] = "true";
    n.ip = "198.51.100." + std::to_string(10 + next_index_);  // KubeCluster::AddNode's address
    cluster_->AddNode(*n.ns, next_index_++, n.name, labels);
    nodes_.push_back(std::move(n));
    return nodes_.back();
  }

  void StartAgent(Node& n, const std::vector<std::string>& extra = {}) {
    n.agent = std::make_unique<Process>(cluster_->OperatorArgv(*n.ns, n.name, n.state_dir, extra), n.log);
  }

  // Every agent's RealServer exists (the agent synced and reported once).
  void WaitReported(const Node& n) {
    ASSERT_TRUE(EventuallySlow([&] { return !cluster_->GetJson("lvsrs " + n.name).is_null(); }, 60s))
        << ReadFile(n.log);
  }

  static bool HasVip(const Node& n, const std::string& cidr) { return Has(n.ns->Addresses("lo"), cidr); }

  json RealServerStatus(const Node& n) {
    const json rs = cluster_->GetJson("lvsrs " + n.name);
    return rs.is_object() ? rs.value("status", json::object()) : json::object();
  }

  // n's RealServer has an entry for VirtualIP `name` in `state` whose message contains `why`.
  bool ListsVirtualIp(const Node& n, const std::string& name, const std::string& state, const std::string& why) {
    for (const auto& v : RealServerStatus(n).value("virtualIPs", json::array()))
      if (v.value("name", "") == name && v.value("state", "") == state &&
          v.value("message", "").find(why) != std::string::npos)
        return true;
    return false;
  }

  static std::string ConditionStatus(const json& status, const std::string& type) {
    for (const auto& c : status.value("conditions", json::array()))
      if (c.value("type", "") == type) return c.value("status", "");
    return "";
  }

  static std::string AuditPolicy() { return "/tmp/lvsrs-e2e-audit-policy-" + std::to_string(getpid()) + ".yaml"; }
  static std::string AuditLog() { return "/tmp/lvsrs-e2e-audit-" + std::to_string(getpid()) + ".log"; }

  // Write requests (create, update, patch) for node's RealServer or its status that reached the
  // API server, from its audit log.
  static int RealServerWrites(const Node& n) {
    std::ifstream in(AuditLog());
    int writes = 0;
    for (std::string line; std::getline(in, line);) {
      const json e = json::parse(line, nullptr, false);
      if (!e.is_object() || e.value("stage", "") != "ResponseComplete") continue;
      const json ref = e.value("objectRef", json::object());
      const std::string verb = e.value("verb", "");
      if (ref.value("resource", "") == "realservers" && ref.value("name", "") == n.name &&
          (verb == "create" || verb == "update" || verb == "patch"))
        ++writes;
    }
    return writes;
  }

  // Requests for Leases from n's address with one of `verbs` that the API server answered with
  // `code`, from its audit log.
  static int LeaseRequests(const Node& n, const std::set<std::string>& verbs, int code = 200) {
    std::ifstream in(AuditLog());
    int count = 0;
    for (std::string line; std::getline(in, line);) {
      const json e = json::parse(line, nullptr, false);
      if (!e.is_object() || e.value("stage", "") != "ResponseComplete") continue;
      const json ips = e.value("sourceIPs", json::array());
      if (e.value("objectRef", json::object()).value("resource", "") == "leases" && verbs.count(e.value("verb", "")) &&
          !ips.empty() && ips[0] == n.ip && e.value("responseStatus", json::object()).value("code", 0) == code)
        ++count;
    }
    return count;
  }

  static KubeCluster* cluster_;
  static std::string* setup_error_;
  std::deque<Node> nodes_;  // deque: references returned by AddNode stay valid
  static int next_index_;
};

KubeCluster* KubeE2E::cluster_ = nullptr;
std::string* KubeE2E::setup_error_ = nullptr;
int KubeE2E::next_index_ = 1;

// Two labelled nodes and one unlabelled: the VIP converges on exactly the two; kubectl shows it;
// adding an address and changing arp converge; unlabelling removes it there only; delete cleans up.
TEST_F(KubeE2E, VirtualIpLifecycleOnLabelledNodes) {
  Node& a = AddNode("rs-a", true);
  Node& b = AddNode("rs-b", true);
  Node& c = AddNode("plain", false);
  for (Node* n : {&a, &b, &c}) StartAgent(*n);

  const std::string example = ReadFile(SourceDir() + "/manifests/examples/web-vip.yaml");
  const auto applied = cluster_->Apply(example);
  ASSERT_EQ(applied.exit_code, 0) << applied.output;

  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.10/32") && HasVip(b, "192.0.2.10/32"); }, 60s))
      << ReadFile(a.log) << ReadFile(b.log);
  EXPECT_TRUE(HasVip(a, "2001:db8::10/128"));
  const auto routes = a.ns->Routes(4);
  EXPECT_TRUE(std::any_of(routes.begin(), routes.end(), [](const std::string& r) {
    return r.starts_with("192.0.2.10 dev lo");
  })) << "host route missing";
  EXPECT_EQ(a.ns->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  EXPECT_EQ(a.ns->Sysctl("net.ipv4.conf.all.arp_announce"), 2);
  WaitReported(c);
  EXPECT_FALSE(HasVip(c, "192.0.2.10/32")) << "the unlabelled node must not carry the VIP";
  EXPECT_EQ(c.ns->Sysctl("net.ipv4.conf.all.arp_ignore"), 0) << "the unlabelled node's sysctls are untouched";

  // kubectl get vip / lvsrs show it, as a user reads it.
  const auto vips = cluster_->Kubectl("get vip");
  EXPECT_NE(vips.output.find("web"), std::string::npos) << vips.output;
  EXPECT_NE(vips.output.find("192.0.2.10"), std::string::npos) << vips.output;
  ASSERT_TRUE(EventuallySlow([&] { return ConditionStatus(RealServerStatus(a), "Ready") == "True"; }, 30s))
      << RealServerStatus(a).dump(2);
  const auto rs = cluster_->Kubectl("get lvsrs");
  EXPECT_NE(rs.output.find(a.name), std::string::npos) << rs.output;
  EXPECT_NE(rs.output.find("2/2"), std::string::npos) << rs.output;
  const json st = RealServerStatus(a);
  EXPECT_EQ(ConditionStatus(st, "ARPConformant"), "True");
  EXPECT_EQ(ConditionStatus(st, "VIPsConfigured"), "True");
  // One entry for the VirtualIP, its addresses counted; nothing listed that is as wanted.
  ASSERT_TRUE(st.contains("virtualIPs"));
  ASSERT_EQ(st["virtualIPs"].size(), 1u) << st.dump(2);
  EXPECT_EQ(st["virtualIPs"][0].value("name", ""), "web");
  EXPECT_EQ(st["virtualIPs"][0].value("state", ""), "Ready");
  EXPECT_EQ(st["virtualIPs"][0].value("addresses", ""), "2/2");
  EXPECT_TRUE(st.value("addresses", json::array()).empty()) << st.dump(2);
  EXPECT_TRUE(st.value("interfaces", json::array()).empty()) << st.dump(2);

  // Aggregate readiness on the VirtualIP, from the Lease-elected summariser.
  EXPECT_TRUE(
      EventuallySlow([&] { return cluster_->Kubectl("get vip web -o jsonpath={.status.ready}").output == "2/2"; }, 60s))
      << cluster_->Kubectl("get vip web -o yaml").output;

  // Add an address and change arp_ignore.
  ASSERT_EQ(cluster_->Apply(VipYaml("web", {"192.0.2.10", "2001:db8::10", "192.0.2.11"}, 2)).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.11/32") && HasVip(b, "192.0.2.11/32"); }, 30s));
  ASSERT_TRUE(EventuallySlow([&] { return a.ns->Sysctl("net.ipv4.conf.all.arp_ignore") == 2; }, 30s));
  EXPECT_FALSE(HasVip(c, "192.0.2.11/32"));

  // Unlabel b: the VIP leaves b only.
  ASSERT_EQ(cluster_->Kubectl("label node " + b.name + " " + kRealServerLabel + "-").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return !HasVip(b, "192.0.2.10/32") && !HasVip(b, "192.0.2.11/32"); }, 30s));
  EXPECT_TRUE(HasVip(a, "192.0.2.10/32"));
  EXPECT_TRUE(HasVip(a, "192.0.2.11/32"));

  // Delete the VirtualIP: everything it configured goes, the original sysctls come back.
  ASSERT_EQ(cluster_->Kubectl("delete vip web").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return !HasVip(a, "192.0.2.10/32") && !HasVip(a, "2001:db8::10/128"); }, 30s));
  EXPECT_FALSE(HasVip(a, "192.0.2.11/32"));
  EXPECT_TRUE(Has(a.ns->Addresses("lo"), "127.0.0.1/8")) << "foreign addresses stay";
  EXPECT_TRUE(EventuallySlow([&] { return a.ns->Sysctl("net.ipv4.conf.all.arp_ignore") == 0; }, 30s));
}

// Drain, then withdraw, in Kubernetes mode: a VIP with a live connection stays after its
// VirtualIP is deleted (no finalizer: the delete returns at once), the RealServer shows Draining
// with the connection, and the VIP goes when the connection closes. The exclude label drains
// every VIP of the node; removing it serves again with nothing removed.
TEST_F(KubeE2E, DeletingAVirtualIpAndTheExcludeLabelDrainThenWithdraw) {
  Node& a = AddNode("rs-drain", true);
  StartAgent(a);
  const std::string web = VipYaml("web", {"192.0.2.10"}) + "  drainTimeout: 1h\n";
  ASSERT_EQ(cluster_->Apply(web).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.10/32"); }, 60s)) << ReadFile(a.log);
  const auto draining = [&](std::int64_t connections) {
    for (const auto& v : RealServerStatus(a).value("virtualIPs", json::array()))
      if (v.value("name", "") == "web" && v.value("state", "") == "Draining" &&
          v.value("connections", std::int64_t{-1}) == connections && !v.value("drainDeadline", "").empty())
        return true;
    return false;
  };
  const std::filesystem::path dir = a.state_dir + "-conn";

  {
    HeldConnection conn(*a.ns, dir / "1", "192.0.2.10", a.ip);
    ASSERT_TRUE(conn.connected()) << conn.Log();
    ASSERT_EQ(cluster_->Kubectl("delete vip web").exit_code, 0);
    ASSERT_TRUE(EventuallySlow([&] { return draining(1); }, 30s)) << RealServerStatus(a).dump(2);
    EXPECT_TRUE(HasVip(a, "192.0.2.10/32"));
    EXPECT_TRUE(conn.RoundTrip()) << conn.Log();
    conn.Close();
    EXPECT_TRUE(EventuallySlow([&] { return !HasVip(a, "192.0.2.10/32"); }, 30s));
    EXPECT_TRUE(EventuallySlow([&] { return RealServerStatus(a).value("virtualIPs", json::array()).empty(); }, 30s))
        << RealServerStatus(a).dump(2);
  }

  ASSERT_EQ(cluster_->Apply(web).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.10/32"); }, 60s)) << ReadFile(a.log);
  HeldConnection conn(*a.ns, dir / "2", "192.0.2.10", a.ip);
  ASSERT_TRUE(conn.connected()) << conn.Log();
  const std::string exclude = "node.kubernetes.io/exclude-from-external-load-balancers";
  ASSERT_EQ(cluster_->Kubectl("label node " + a.name + " " + exclude + "=true").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return draining(1); }, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(HasVip(a, "192.0.2.10/32"));
  ASSERT_EQ(cluster_->Kubectl("label node " + a.name + " " + exclude + "-").exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return ListsVirtualIp(a, "web", "Ready", ""); }, 30s))
      << RealServerStatus(a).dump(2);
  EXPECT_TRUE(conn.RoundTrip()) << conn.Log();
  ASSERT_EQ(cluster_->Kubectl("label node " + a.name + " " + exclude + "=").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return draining(1); }, 30s)) << RealServerStatus(a).dump(2);
  conn.Close();
  EXPECT_TRUE(EventuallySlow([&] { return !HasVip(a, "192.0.2.10/32"); }, 30s));
  const auto events = cluster_->Kubectl("get events -n default --field-selector involvedObject.name=" + a.name);
  EXPECT_NE(events.output.find("DrainStarted"), std::string::npos) << events.output;
  EXPECT_NE(events.output.find("DrainFinished"), std::string::npos) << events.output;
  lvsrs::testing::Run("rm -rf " + Quote(dir.string()));
}

// The API server stopped for a while: nothing is withdrawn, drift is still repaired, and the agent
// resumes when it returns. 60 s: long enough for every watch and list of the
// agent to fail and back off repeatedly (LVSRS_KUBE_OUTAGE_SECONDS overrides it).
TEST_F(KubeE2E, ApiServerOutageWithdrawsNothing) {
  Node& a = AddNode("outage", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("svc", {"192.0.2.20"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.20/32"); }, 60s)) << ReadFile(a.log);

  const char* env = std::getenv("LVSRS_KUBE_OUTAGE_SECONDS");
  const int outage = env && *env ? std::atoi(env) : 60;
  cluster_->StopApiserver();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(outage);
  bool drift_done = false;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(HasVip(a, "192.0.2.20/32")) << "VIP withdrawn during the outage\n" << ReadFile(a.log);
    if (!drift_done && std::chrono::steady_clock::now() > until - std::chrono::seconds(outage / 2)) {
      // Drift during the outage is still repaired from the last known desired state.
      ASSERT_EQ(a.ns->Exec("ip addr del 192.0.2.20/32 dev lo").exit_code, 0);
      drift_done = true;
      ASSERT_TRUE(Eventually([&] { return HasVip(a, "192.0.2.20/32"); }, 10s))
          << "drift not repaired while the API server is down\n"
          << ReadFile(a.log);
    }
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(HasVip(a, "192.0.2.20/32"));
  EXPECT_EQ(a.ns->Sysctl("net.ipv4.conf.all.arp_ignore"), 1);
  cluster_->StartApiserver();

  // Resumed: a change made after the outage reaches the node.
  ASSERT_EQ(cluster_->Apply(VipYaml("svc", {"192.0.2.20", "192.0.2.21"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.21/32"); }, 60s)) << ReadFile(a.log);
  EXPECT_TRUE(HasVip(a, "192.0.2.20/32"));
}

// SIGKILL and restart: the new agent adopts what is there; no address or route is ever deleted.
TEST_F(KubeE2E, SigkillAndRestartAdoptWithoutBlip) {
  Node& a = AddNode("restart", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("kill", {"192.0.2.30", "2001:db8::30"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.30/32") && HasVip(a, "2001:db8::30/128"); }, 60s));
  ASSERT_TRUE(EventuallySlow([&] { return ConditionStatus(RealServerStatus(a), "Ready") == "True"; }, 30s));

  const std::string monitor_log = cluster_->dir() + "/monitor-" + a.name + ".log";
  Process monitor({"ip", "-n", a.ns->name(), "monitor", "address", "route"}, monitor_log);
  std::this_thread::sleep_for(300ms);
  a.agent->Signal(SIGKILL);
  a.agent->Wait(5s);
  StartAgent(a);  // same state dir, same node
  // The restarted agent has synced and reported (its log says so) and the node stayed Ready.
  ASSERT_TRUE(
      EventuallySlow([&] { return ReadFile(a.log).find("VirtualIPs from the API server") != std::string::npos; }, 10s));
  std::this_thread::sleep_for(5s);
  EXPECT_TRUE(HasVip(a, "192.0.2.30/32"));
  EXPECT_TRUE(HasVip(a, "2001:db8::30/128"));
  monitor.Signal(SIGTERM);
  monitor.Wait(5s);
  const std::string events = ReadFile(monitor_log);
  EXPECT_EQ(events.find("Deleted"), std::string::npos) << "a blip: something was deleted\n" << events;
  EXPECT_EQ(ConditionStatus(RealServerStatus(a), "Ready"), "True");
}

// Invalid VirtualIPs: what the schema can say is rejected by the API server; what it cannot (a
// non-canonical address) is refused by the operator with a clear per-VIP status; the others work.
TEST_F(KubeE2E, InvalidVirtualIpRejectedOrRefusedOthersKeepWorking) {
  Node& a = AddNode("invalid", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("good", {"192.0.2.40"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.40/32"); }, 60s)) << ReadFile(a.log);

  // Rejected by the server: a bad enum value and a non-address.
  const auto bad_enum = cluster_->Apply(VipYaml("bad-enum", {"192.0.2.41"}, 5));
  EXPECT_NE(bad_enum.exit_code, 0);
  EXPECT_NE(bad_enum.output.find("spec.arp.ignore"), std::string::npos) << bad_enum.output;
  const auto bad_ip = cluster_->Apply(VipYaml("bad-ip", {"192.0.2.300"}));
  EXPECT_NE(bad_ip.exit_code, 0);
  EXPECT_NE(bad_ip.output.find("spec.addresses"), std::string::npos) << bad_ip.output;

  // Accepted by the schema (format ipv6 allows upper case) but refused by the operator.
  ASSERT_EQ(cluster_->Apply(VipYaml("shouty", {"2001:DB8::42"})).exit_code, 0);
  json refused;
  ASSERT_TRUE(EventuallySlow(
      [&] {
        for (const auto& v : RealServerStatus(a).value("virtualIPs", json::array()))
          if (v.value("name", "") == "shouty" && v.value("state", "") == "Refused") refused = v;
        return refused.is_object();
      },
      30s))
      << RealServerStatus(a).dump(2);
  EXPECT_NE(refused.value("message", "").find("not canonical"), std::string::npos) << refused.dump();
  EXPECT_FALSE(HasVip(a, "2001:db8::42/128"));
  // The good VIP keeps working, also after a change.
  ASSERT_EQ(cluster_->Apply(VipYaml("good", {"192.0.2.40", "192.0.2.43"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.43/32"); }, 30s));
  EXPECT_TRUE(HasVip(a, "192.0.2.40/32"));
  // A Warning event names the refusal.
  EXPECT_TRUE(EventuallySlow(
      [&] {
        const auto ev = cluster_->Kubectl("get events -n default --field-selector reason=Refused");
        return ev.output.find("shouty") != std::string::npos || ev.output.find("not canonical") != std::string::npos;
      },
      30s))
      << cluster_->Kubectl("get events -n default").output;
}

// Issue 13: an edit that the schema accepts but the operator refuses must not withdraw what is
// live. The last accepted spec of the object stays in force, the RealServer and an Event say the
// edit is refused and why; a good edit afterwards applies and a delete still deletes.
TEST_F(KubeE2E, RefusedEditKeepsTheLastAcceptedSpecServing) {
  Node& a = AddNode("edit", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.50", "2001:db8::50"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.50/32") && HasVip(a, "2001:db8::50/128"); }, 60s))
      << ReadFile(a.log);
  auto edit_refused = [&](const std::string& why) { return ListsVirtualIp(a, "edited", "EditRefused", why); };
  auto still_serving = [&] {
    return HasVip(a, "192.0.2.50/32") && HasVip(a, "2001:db8::50/128") && !HasVip(a, "2001:db8::51/128") &&
           !HasVip(a, "169.254.0.5/32");
  };

  // Upper-case IPv6: format ipv6 accepts it, the operator wants the canonical spelling.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.50", "2001:DB8::51"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return edit_refused("not canonical"); }, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo"));
  EXPECT_EQ(ConditionStatus(RealServerStatus(a), "VIPsConfigured"), "False");
  EXPECT_TRUE(EventuallySlow(
      [&] {
        const auto ev = cluster_->Kubectl("get events -n default --field-selector reason=EditRefused");
        return ev.output.find("edited") != std::string::npos;
      },
      30s))
      << cluster_->Kubectl("get events -n default").output;

  // A reserved (link-local) address: refused whatever the node, the last accepted spec stays.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"169.254.0.5"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return edit_refused("link-local"); }, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo"));

  // A good edit applies: the new address comes, the old ones go, the refusal is gone.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.52"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow(
      [&] { return HasVip(a, "192.0.2.52/32") && !HasVip(a, "192.0.2.50/32") && !HasVip(a, "2001:db8::50/128"); }, 30s))
      << Join(a.ns->Addresses("lo"));
  EXPECT_TRUE(EventuallySlow([&] { return !edit_refused(""); }, 30s)) << RealServerStatus(a).dump(2);

  // A bad edit, then a delete: the delete still deletes.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"2001:DB8::52"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return edit_refused("not canonical"); }, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(HasVip(a, "192.0.2.52/32"));
  ASSERT_EQ(cluster_->Kubectl("delete vip edited").exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return !HasVip(a, "192.0.2.52/32") && !edit_refused(""); }, 30s))
      << Join(a.ns->Addresses("lo")) << RealServerStatus(a).dump(2);
}

// Issue 13: the same address wanted on two interfaces. The older VirtualIP keeps it, although the
// newer one's name sorts first, also for an agent that starts afresh and sees both in one list.
TEST_F(KubeE2E, TheOlderVirtualIpKeepsAnAddressANewerOneWantsElsewhere) {
  Node& a = AddNode("age", true);
  ASSERT_EQ(
      a.ns->Exec("ip link add lvd0 type veth peer name lvd1 && ip link set lvd0 up && ip link set lvd1 up").exit_code,
      0);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("zz-established", {"192.0.2.55"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.55/32"); }, 60s)) << ReadFile(a.log);
  // creationTimestamp has second precision: make sure the newcomer is created a second later.
  std::this_thread::sleep_for(1100ms);
  ASSERT_EQ(cluster_->Apply(VipYaml("aa-newcomer", {"192.0.2.55"}) + "  interface: lvd0\n").exit_code, 0);
  auto newcomer_refused = [&] {
    return ListsVirtualIp(a, "aa-newcomer", "Refused", "conflicts with VirtualIP zz-established");
  };
  ASSERT_TRUE(EventuallySlow(newcomer_refused, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(HasVip(a, "192.0.2.55/32"));
  EXPECT_FALSE(Has(a.ns->Addresses("lvd0"), "192.0.2.55/32"));

  // A fresh agent lists both at once: age, not arrival order, decides.
  a.agent.reset();
  ASSERT_EQ(cluster_->Kubectl("delete lvsrs " + a.name).exit_code, 0);
  StartAgent(a);
  ASSERT_TRUE(EventuallySlow(newcomer_refused, 60s)) << RealServerStatus(a).dump(2) << ReadFile(a.log);
  EXPECT_TRUE(HasVip(a, "192.0.2.55/32"));
  EXPECT_FALSE(Has(a.ns->Addresses("lvd0"), "192.0.2.55/32"));
}

// Issue 13: edits that only a node can judge (the same address as an older VirtualIP on another
// interface, an address that is the node's own) must not withdraw what the node serves either,
// nor may a restart of the agent while such an edit (or an invalid one) is refused: the node keeps
// the spec it applied before, and says so in the RealServer, an Event and a metric. `ip monitor`
// watches the node from the first refused edit to the last: no address may be deleted.
TEST_F(KubeE2E, AnEditTheNodeRefusesKeepsItsLiveVipAlsoAcrossRestarts) {
  Node& a = AddNode("nodeedit", true);
  // lvd0 carries an address of the node's own, 203.0.113.7.
  ASSERT_EQ(a.ns->Exec("ip link add lvd0 type veth peer name lvd1 && ip link set lvd0 up && ip link set lvd1 up && "
                       "ip addr add 203.0.113.7/24 dev lvd0")
                .exit_code,
            0);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("older", {"192.0.2.60"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.60/32"); }, 60s)) << ReadFile(a.log);
  std::this_thread::sleep_for(1100ms);  // creationTimestamp has second precision: "edited" is younger
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.61"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.61/32"); }, 30s)) << ReadFile(a.log);

  auto edit_refused = [&](const std::string& why) { return ListsVirtualIp(a, "edited", "EditRefused", why); };
  auto still_serving = [&] {
    return HasVip(a, "192.0.2.60/32") && HasVip(a, "192.0.2.61/32") && !HasVip(a, "192.0.2.62/32") &&
           !HasVip(a, "203.0.113.7/32") && !Has(a.ns->Addresses("lvd0"), "192.0.2.60/32");
  };
  auto metric = [&] {
    return a.ns->Exec("curl -s --max-time 5 http://127.0.0.1:8470/metrics")
               .output.find("lvs_rs_virtualip_edit_refused{virtualip=\"edited\"} 1") != std::string::npos;
  };
  // SIGKILL, as a crash or an OOM kill would, then a fresh agent on the same state dir; it is at
  // its first pass when it logs the refused edit (`ip monitor` sees what that pass does).
  auto restart = [&](const std::string& logged) {
    a.agent->Signal(SIGKILL);
    a.agent->Wait(5s);
    std::filesystem::remove(a.log);  // the old agent's lines must not count for the new one
    StartAgent(a);
    ASSERT_TRUE(EventuallySlow([&] { return ReadFile(a.log).find(logged) != std::string::npos; }, 60s))
        << ReadFile(a.log);
  };

  const std::string monitor_log = cluster_->dir() + "/monitor-" + a.name + ".log";
  auto monitor =
      std::make_unique<Process>(std::vector<std::string>{"ip", "-n", a.ns->name(), "monitor", "address"}, monitor_log);
  std::this_thread::sleep_for(300ms);

  // The same address as the older VirtualIP, on another interface: the older one keeps it.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.60", "192.0.2.62"}) + "  interface: lvd0\n").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return edit_refused("192.0.2.60 conflicts with VirtualIP older"); }, 30s))
      << RealServerStatus(a).dump(2);
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo"));
  EXPECT_EQ(ConditionStatus(RealServerStatus(a), "VIPsConfigured"), "False");
  EXPECT_TRUE(EventuallySlow(
      [&] {
        const auto ev = cluster_->Kubectl("get events -n default --field-selector reason=EditRefused -o json");
        return ev.output.find("edited") != std::string::npos &&
               ev.output.find("conflicts with VirtualIP older") != std::string::npos;
      },
      30s))
      << cluster_->Kubectl("get events -n default").output;
  EXPECT_TRUE(EventuallySlow(metric, 30s)) << a.ns->Exec("curl -s --max-time 5 http://127.0.0.1:8470/metrics").output;
  restart("VirtualIP edited: edit refused on this node");
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo")) << ReadFile(a.log);
  EXPECT_TRUE(EventuallySlow([&] { return edit_refused("192.0.2.60 conflicts with VirtualIP older"); }, 30s))
      << RealServerStatus(a).dump(2);

  // An address that is the node's own.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.61", "203.0.113.7"})).exit_code, 0);
  ASSERT_TRUE(
      EventuallySlow([&] { return edit_refused("203.0.113.7 is already an address of this node on lvd0"); }, 30s))
      << RealServerStatus(a).dump(2);
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo"));

  // Invalid for every node (upper-case IPv6), across a restart too.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"2001:DB8::64"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return edit_refused("not canonical"); }, 30s)) << RealServerStatus(a).dump(2);
  restart("VirtualIP edited: edit refused, still serving the last accepted spec");
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo")) << ReadFile(a.log);
  EXPECT_TRUE(EventuallySlow([&] { return edit_refused("not canonical"); }, 30s)) << RealServerStatus(a).dump(2);

  monitor->Signal(SIGTERM);
  monitor->Wait(5s);
  monitor.reset();
  const std::string events = ReadFile(monitor_log);
  EXPECT_EQ(events.find("Deleted"), std::string::npos) << "a refused edit withdrew something\n" << events;
  EXPECT_TRUE(still_serving()) << Join(a.ns->Addresses("lo"));

  // A good edit applies, and the refusal is gone.
  ASSERT_EQ(cluster_->Apply(VipYaml("edited", {"192.0.2.63"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.63/32") && !HasVip(a, "192.0.2.61/32"); }, 30s))
      << Join(a.ns->Addresses("lo"));
  EXPECT_TRUE(EventuallySlow([&] { return !edit_refused(""); }, 30s)) << RealServerStatus(a).dump(2);
  EXPECT_TRUE(HasVip(a, "192.0.2.60/32"));

  // A delete still deletes, and the saved specs forget the VirtualIP.
  ASSERT_EQ(cluster_->Kubectl("delete vip edited").exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return !HasVip(a, "192.0.2.63/32"); }, 30s)) << Join(a.ns->Addresses("lo"));
  EXPECT_TRUE(EventuallySlow(
      [&] { return ReadFile(a.state_dir + "/last-good-virtualips.json").find("\"edited\"") == std::string::npos; },
      30s))
      << ReadFile(a.state_dir + "/last-good-virtualips.json");
  EXPECT_TRUE(HasVip(a, "192.0.2.60/32"));
}

// A watch that expires with 410 Gone re-lists without touching the kernel. The control plane runs
// without the watch cache, so a compacted etcd revision makes the resumed watch fail with 410
// deterministically (with the cache, 410 depends on the cache window).
// Pods come and go on a conformant node all the time; each brings a host-side veth, an interface
// that answers ARP. None of it may cost an API write: at thousands of nodes, pod churn would
// otherwise be most of the RealServer traffic. Counted from the API server's audit log.
TEST_F(KubeE2E, PodVethChurnOnAConformantNodeWritesNothing) {
  Node& a = AddNode("churn", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("churn", {"192.0.2.80", "192.0.2.81"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return ConditionStatus(RealServerStatus(a), "Ready") == "True"; }, 60s))
      << RealServerStatus(a).dump(2) << ReadFile(a.log);
  // Settled: the count stays put for a while before the churn starts.
  int before = -1;
  ASSERT_TRUE(EventuallySlow(
      [&] {
        const int now = RealServerWrites(a);
        std::this_thread::sleep_for(3s);
        before = RealServerWrites(a);
        return before > 0 && before == now;
      },
      60s));

  TestNetns pods(kPrefix);
  const std::string batch = cluster_->dir() + "/veths-" + a.name;
  {
    std::ofstream add(batch + ".add"), del(batch + ".del");
    for (int i = 0; i < 100; ++i) {
      add << "link add vethc" << i << " type veth peer name eth" << i << " netns " << pods.name() << "\n";
      add << "link set vethc" << i << " up\n";
      del << "link del vethc" << i << "\n";
    }
  }
  const std::size_t links = a.ns->IpJson("link show type veth").size();  // its uplink to the cluster
  ASSERT_EQ(a.ns->Exec("ip -batch " + Quote(batch + ".add")).exit_code, 0);
  ASSERT_EQ(a.ns->IpJson("link show type veth").size(), links + 100);
  std::this_thread::sleep_for(5s);  // the agent has long seen every link (it reacts in milliseconds)
  ASSERT_EQ(a.ns->Exec("ip -batch " + Quote(batch + ".del")).exit_code, 0);
  std::this_thread::sleep_for(5s);
  EXPECT_EQ(RealServerWrites(a), before) << RealServerStatus(a).dump(2);
  EXPECT_EQ(ConditionStatus(RealServerStatus(a), "Ready"), "True");
  EXPECT_TRUE(RealServerStatus(a).value("interfaces", json::array()).empty());

  // The count does move when the status does: the same log sees a change as a write.
  ASSERT_EQ(cluster_->Apply(VipYaml("churn", {"192.0.2.80", "192.0.2.81", "192.0.2.82"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return RealServerWrites(a) > before; }, 30s));
}

// manifests/flowcontrol/ puts the agents in a priority level of their own: proven by the API
// server's own APF metrics counting the agent's requests under the product's FlowSchema.
TEST_F(KubeE2E, AgentRequestsAreClassifiedByTheProductsFlowSchema) {
  const auto applied = cluster_->Kubectl("apply -f " + Quote(SourceDir() + "/manifests/flowcontrol/flowcontrol.yaml"));
  ASSERT_EQ(applied.exit_code, 0) << applied.output;
  auto dispatched = [&] {
    // apiserver_flowcontrol_dispatched_requests_total{flow_schema="lvs-rs-operator",priority_level=...} N
    const auto m = cluster_->Kubectl("get --raw /metrics");
    double total = 0;
    std::istringstream in(m.output);
    for (std::string line; std::getline(in, line);)
      if (line.starts_with("apiserver_flowcontrol_dispatched_requests_total{") &&
          line.find("flow_schema=\"lvs-rs-operator\"") != std::string::npos &&
          line.find("priority_level=\"lvs-rs-operator\"") != std::string::npos)
        total += std::stod(line.substr(line.rfind(' ') + 1));
    return total;
  };
  const double before = dispatched();
  Node& a = AddNode("apf", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("apf", {"192.0.2.90"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.90/32"); }, 60s)) << ReadFile(a.log);
  WaitReported(a);
  EXPECT_TRUE(EventuallySlow([&] { return dispatched() > before; }, 30s))
      << "no request of the agent under the FlowSchema; "
      << cluster_->Kubectl("get flowschema lvs-rs-operator -o yaml").output;
  cluster_->Kubectl("delete -f " + Quote(SourceDir() + "/manifests/flowcontrol/flowcontrol.yaml"));
}

// At rest a follower sends nothing about the summariser's Lease: it watches the Lease and judges
// the holder's renewals from the watched copy. Without the watch it would GET the Lease about once
// a lease duration (60 s); the window is longer than that. Counted from the API server's audit log
// by the follower's source address; the holder's renewals in the same log show it sees Leases.
// (With the watch broken, the listed copy would show the Lease expired within the window and the
// follower would GET it.)
TEST_F(KubeE2E, AFollowerSendsNoLeaseRequestWhileTheHolderRenews) {
  Node& lead = AddNode("lease-a", true);
  StartAgent(lead);
  const std::string lease = "lease lvs-rs-operator-summariser -n lvs-rs-operator";
  auto holder = [&] {
    const json l = cluster_->GetJson(lease);
    return l.is_object() ? l.value("spec", json::object()).value("holderIdentity", "") : "";
  };
  ASSERT_TRUE(EventuallySlow([&] { return holder() == lead.name; }, 90s))
      << cluster_->GetJson(lease).dump(2) << ReadFile(lead.log);
  Node& follow = AddNode("lease-b", true);
  StartAgent(follow);
  WaitReported(follow);
  // Its list of the Lease (by name) was served; a watch that RBAC refused would leave the listed
  // copy to go stale, and the follower would GET within the window below.
  ASSERT_TRUE(EventuallySlow([&] { return LeaseRequests(follow, {"list"}) > 0; }, 30s))
      << "the follower's list of the Lease was not served (RBAC?); refused: "
      << LeaseRequests(follow, {"list", "watch"}, 403) << "\n"
      << ReadFile(follow.log);
  const int follower_before = LeaseRequests(follow, {"get", "create", "update"});
  const int renewals_before = LeaseRequests(lead, {"update"});
  std::this_thread::sleep_for(75s);
  EXPECT_EQ(LeaseRequests(follow, {"get", "create", "update"}), follower_before);
  EXPECT_GE(LeaseRequests(lead, {"update"}) - renewals_before, 5) << "the holder's renewals are not in the log";
  EXPECT_EQ(holder(), lead.name);
}

// `check` with no --file or --vip judges the node against what the API server asks of it (the
// VirtualIPs and the Node's labels), as `kubectl exec ... lvs-rs-operator check` does in a pod:
// conformant while the agent keeps the VIP; not conformant, naming the VIP, once it is gone.
TEST_F(KubeE2E, CheckReadsTheVirtualIpsFromTheApiServer) {
  Node& a = AddNode("check", true);
  StartAgent(a);
  ASSERT_EQ(cluster_->Apply(VipYaml("checked", {"192.0.2.95"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return HasVip(a, "192.0.2.95/32"); }, 60s)) << ReadFile(a.log);
  const std::string check = OperatorBinary() + " check --kubeconfig " + Quote(cluster_->operator_kubeconfig()) +
                            " --node-name " + a.name + " --state-dir " + Quote(a.state_dir);
  const auto good = a.ns->Exec(check);
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("192.0.2.95"), std::string::npos) << good.output;
  a.agent.reset();  // SIGTERM: the VIP stays
  ASSERT_EQ(a.ns->Exec("ip addr del 192.0.2.95/32 dev lo").exit_code, 0);
  const auto bad = a.ns->Exec(check);
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("192.0.2.95"), std::string::npos) << bad.output;
  // An unlabelled node is not selected: nothing is expected of it.
  cluster_->Kubectl("label node " + a.name + " " + kRealServerLabel + "-");
  const auto unselected = a.ns->Exec(check);
  EXPECT_EQ(unselected.exit_code, 0) << unselected.output;
}

TEST(KubeWatchExpiry, GoneRelistsWithoutKernelChange) {
  std::string why;
  if (!KubeCluster::Available(&why)) GTEST_SKIP() << why;
  KubeCluster cluster(kPrefix, {"--watch-cache=false"});
  cluster.InstallProduct();
  TestNetns ns(kPrefix);
  const std::string node = "gone-" + std::to_string(getpid());
  cluster.AddNode(ns, 1, node, {{kRealServerLabel, "true"}});
  const std::string log = cluster.dir() + "/agent.log";
  Process agent(cluster.OperatorArgv(ns, node, cluster.dir() + "/state", {"--watch-timeout", "2s"}), log);
  ASSERT_EQ(cluster.Apply(VipYaml("gone", {"192.0.2.50"})).exit_code, 0);
  ASSERT_TRUE(EventuallySlow([&] { return Has(ns.Addresses("lo"), "192.0.2.50/32"); }, 60s)) << ReadFile(log);
  std::this_thread::sleep_for(1s);
  const std::string before = ReadFile(log);
  const auto addresses = ns.Addresses("lo");
  const std::string monitor_log = cluster.dir() + "/monitor.log";
  Process monitor({"ip", "-n", ns.name(), "monitor", "address", "route"}, monitor_log);

  // Move etcd on (an object the agent does not watch) and compact: the agent's resourceVersion is
  // now history, and its next watch (every ~2-3 s) gets 410 Gone.
  ASSERT_EQ(cluster.Kubectl("create configmap bump-1 -n default").exit_code, 0);
  ASSERT_EQ(cluster.Kubectl("create configmap bump-2 -n default").exit_code, 0);
  const auto status = cluster.Etcdctl("endpoint status -w json");
  ASSERT_EQ(status.exit_code, 0) << status.output;
  const json st = json::parse(status.output, nullptr, false);
  ASSERT_TRUE(st.is_array() && !st.empty()) << status.output;
  const auto revision = st[0]["Status"]["header"]["revision"].get<std::int64_t>();
  ASSERT_EQ(cluster.Etcdctl("compact " + std::to_string(revision)).exit_code, 0);

  ASSERT_TRUE(EventuallySlow([&] { return ReadFile(log).find("re-listing") != std::string::npos; }, 30s))
      << ReadFile(log);
  std::this_thread::sleep_for(3s);  // the re-list and the passes it triggers
  monitor.Signal(SIGTERM);
  monitor.Wait(5s);
  EXPECT_EQ(ns.Addresses("lo"), addresses);
  const std::string after = ReadFile(log).substr(before.size());
  EXPECT_EQ(after.find("reconciled:"), std::string::npos) << "the re-list changed the kernel:\n" << after;
  EXPECT_EQ(ReadFile(monitor_log), "") << "kernel changed during the re-list";
  // And the agent still follows changes after the re-list.
  ASSERT_EQ(cluster.Apply(VipYaml("gone", {"192.0.2.50", "192.0.2.51"})).exit_code, 0);
  EXPECT_TRUE(EventuallySlow([&] { return Has(ns.Addresses("lo"), "192.0.2.51/32"); }, 30s)) << ReadFile(log);
}

}  // namespace
}  // namespace lvsrs::testing
