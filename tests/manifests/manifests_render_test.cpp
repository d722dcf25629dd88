// Renders manifests/ with the real `kubectl kustomize` and checks the objects a user gets: the
// namespace, CRDs, RBAC and a DaemonSet that runs the operator the way docs/deploy.md says.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "support/netns.h"

namespace lvsrs::testing {
namespace {

constexpr const char* kNamespace = "lvs-rs-operator";
constexpr const char* kStateDir = "/var/lib/lvs-rs-operator";

class RenderedManifests : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    render_ = new CommandResult(lvsrs::testing::Run("kubectl kustomize " + Quote(SourceDir() + "/manifests")));
    if (render_->exit_code == 0) docs_ = new std::vector<YAML::Node>(YAML::LoadAll(render_->output));
  }
  static void TearDownTestSuite() {
    delete render_;
    delete docs_;
  }
  void SetUp() override {
    ASSERT_EQ(render_->exit_code, 0) << "kubectl kustomize manifests/ failed:\n" << render_->output;
  }

  static YAML::Node Find(const std::string& kind, const std::string& name) {
    for (const auto& d : *docs_)
      if (d["kind"].as<std::string>() == kind && d["metadata"]["name"].as<std::string>() == name) return d;
    return YAML::Node();  // Null, not a map: callers check IsMap()
  }
  static YAML::Node DaemonSet() { return Find("DaemonSet", "lvs-rs-operator"); }
  static YAML::Node Container() { return DaemonSet()["spec"]["template"]["spec"]["containers"][0]; }
  static std::vector<std::string> Args() { return Container()["args"].as<std::vector<std::string>>(); }
  // The value of --name=value (or --name value) in the container's args, "" when absent.
  static std::string Arg(const std::string& name) {
    const auto args = Args();
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i].rfind("--" + name + "=", 0) == 0) return args[i].substr(name.size() + 3);
      if (args[i] == "--" + name && i + 1 < args.size()) return args[i + 1];
    }
    return "";
  }
  static int ContainerPort(const std::string& port_name) {
    for (const auto& p : Container()["ports"])
      if (p["name"].as<std::string>() == port_name) return p["containerPort"].as<int>();
    return -1;
  }
  static int PortOf(const std::string& bind_address) {
    const auto colon = bind_address.rfind(':');
    return colon == std::string::npos ? -1 : std::stoi(bind_address.substr(colon + 1));
  }
  static std::string HostOf(const std::string& bind_address) {
    const auto colon = bind_address.rfind(':');
    return colon == std::string::npos ? "" : bind_address.substr(0, colon);
  }

  static CommandResult* render_;
  static std::vector<YAML::Node>* docs_;
};
CommandResult* RenderedManifests::render_ = nullptr;
std::vector<YAML::Node>* RenderedManifests::docs_ = nullptr;

TEST_F(RenderedManifests, EveryObjectIsComplete) {
  ASSERT_FALSE(docs_->empty());
  for (const auto& d : *docs_) {
    EXPECT_TRUE(d["apiVersion"].IsScalar()) << YAML::Dump(d);
    EXPECT_TRUE(d["kind"].IsScalar()) << YAML::Dump(d);
    EXPECT_TRUE(d["metadata"]["name"].IsScalar()) << YAML::Dump(d);
  }
}

TEST_F(RenderedManifests, ContainsTheInstall) {
  std::set<std::tuple<std::string, std::string, std::string>> got;  // kind, namespace, name
  for (const auto& d : *docs_)
    got.emplace(d["kind"].as<std::string>(), d["metadata"]["namespace"].as<std::string>(""),
                d["metadata"]["name"].as<std::string>());
  const std::tuple<std::string, std::string, std::string> want[] = {
      {"Namespace", "", kNamespace},
      {"CustomResourceDefinition", "", "virtualips.lvsdr.io"},
      {"CustomResourceDefinition", "", "realservers.lvsdr.io"},
      {"ServiceAccount", kNamespace, "lvs-rs-operator"},
      {"ClusterRole", "", "lvs-rs-operator"},
      {"ClusterRoleBinding", "", "lvs-rs-operator"},
      {"DaemonSet", kNamespace, "lvs-rs-operator"},
  };
  for (const auto& w : want)
    EXPECT_TRUE(got.count(w)) << std::get<0>(w) << " " << std::get<1>(w) << "/" << std::get<2>(w) << " missing";
}

TEST_F(RenderedManifests, FlowSchemaMatchesTheAgentsServiceAccountBeforeTheBuiltIns) {
  const auto flow = lvsrs::testing::Run("kubectl kustomize " + Quote(SourceDir() + "/manifests/flowcontrol"));
  ASSERT_EQ(flow.exit_code, 0) << flow.output;
  YAML::Node fs, level;
  for (const auto& d : YAML::LoadAll(flow.output)) {
    if (d["kind"].as<std::string>() == "FlowSchema") fs = d;
    if (d["kind"].as<std::string>() == "PriorityLevelConfiguration") level = d;
  }
  ASSERT_TRUE(fs.IsMap()) << "FlowSchema missing";
  ASSERT_TRUE(level.IsMap()) << "PriorityLevelConfiguration missing";
  EXPECT_EQ(level["metadata"]["name"].as<std::string>(),
            fs["spec"]["priorityLevelConfiguration"]["name"].as<std::string>());
  // The built-in "service-accounts" FlowSchema has precedence 9000: ours must be matched first.
  EXPECT_LT(fs["spec"]["matchingPrecedence"].as<int>(), 9000);
  EXPECT_EQ(fs["spec"]["priorityLevelConfiguration"]["name"].as<std::string>(), "lvs-rs-operator");
  const auto subject = fs["spec"]["rules"][0]["subjects"][0]["serviceAccount"];
  const auto sa = Find("ServiceAccount", "lvs-rs-operator");
  ASSERT_TRUE(sa.IsMap());
  EXPECT_EQ(subject["name"].as<std::string>(), sa["metadata"]["name"].as<std::string>());
  EXPECT_EQ(subject["namespace"].as<std::string>(), sa["metadata"]["namespace"].as<std::string>());
}

TEST_F(RenderedManifests, EventsRoleStaysInDefault) {
  // Events about cluster-scoped objects are only accepted in "default": a namespace transformer
  // in kustomization.yaml would silently move this Role and break Event creation.
  const auto role = Find("Role", "lvs-rs-operator-events");
  ASSERT_TRUE(role.IsMap()) << "events Role missing";
  EXPECT_EQ(role["metadata"]["namespace"].as<std::string>(), "default");
  const auto binding = Find("RoleBinding", "lvs-rs-operator-events");
  ASSERT_TRUE(binding.IsMap());
  EXPECT_EQ(binding["metadata"]["namespace"].as<std::string>(), "default");
}

TEST_F(RenderedManifests, RbacBindsTheDaemonSetsServiceAccount) {
  const auto pod = DaemonSet()["spec"]["template"]["spec"];
  const auto sa = pod["serviceAccountName"].as<std::string>();
  const auto binding = Find("ClusterRoleBinding", "lvs-rs-operator");
  ASSERT_TRUE(binding.IsMap());
  bool bound = false;
  for (const auto& s : binding["subjects"])
    bound |= s["kind"].as<std::string>() == "ServiceAccount" && s["name"].as<std::string>() == sa &&
             s["namespace"].as<std::string>() == kNamespace;
  EXPECT_TRUE(bound) << "ClusterRoleBinding does not bind ServiceAccount " << sa;
}

TEST_F(RenderedManifests, DaemonSetRunsOnEveryNodeInTheHostNetwork) {
  const auto ds = DaemonSet();
  ASSERT_TRUE(ds.IsMap()) << "DaemonSet lvs-rs-operator missing";
  const auto pod = ds["spec"]["template"]["spec"];
  EXPECT_TRUE(pod["hostNetwork"].as<bool>(false));
  EXPECT_EQ(pod["dnsPolicy"].as<std::string>(""), "ClusterFirstWithHostNet");
  EXPECT_EQ(pod["priorityClassName"].as<std::string>(""), "system-node-critical");
  bool tolerates_all = false;
  for (const auto& t : pod["tolerations"])
    tolerates_all |= t["operator"].as<std::string>("") == "Exists" && !t["key"] && !t["effect"];
  EXPECT_TRUE(tolerates_all) << "needs a toleration {operator: Exists} for every taint";
  EXPECT_EQ(ds["spec"]["updateStrategy"]["type"].as<std::string>(""), "RollingUpdate");
  EXPECT_TRUE(ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"]);
  const auto labels = ds["spec"]["template"]["metadata"]["labels"];
  for (const auto& kv : ds["spec"]["selector"]["matchLabels"]) {
    const auto key = kv.first.as<std::string>();
    EXPECT_EQ(labels[key].as<std::string>(""), kv.second.as<std::string>())
        << "selector label " << key << " not on the pod";
  }
}

TEST_F(RenderedManifests, ContainerIsPrivilegedWithReadOnlyRootAndHostStateDir) {
  const auto c = Container();
  ASSERT_TRUE(c.IsMap()) << "DaemonSet has no container";
  EXPECT_EQ(Args().at(0), "run");
  EXPECT_TRUE(c["securityContext"]["privileged"].as<bool>(false));
  EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>(false));
  EXPECT_EQ(Arg("state-dir"), kStateDir);
  std::string volume;
  for (const auto& m : c["volumeMounts"])
    if (m["mountPath"].as<std::string>() == kStateDir) volume = m["name"].as<std::string>();
  ASSERT_FALSE(volume.empty()) << "nothing mounted at --state-dir " << kStateDir;
  bool host_path = false;
  for (const auto& v : DaemonSet()["spec"]["template"]["spec"]["volumes"])
    if (v["name"].as<std::string>() == volume) host_path = v["hostPath"]["path"].as<std::string>("") == kStateDir;
  EXPECT_TRUE(host_path) << "the state dir must be a hostPath so recorded sysctls survive the pod";
  for (const char* kind : {"requests", "limits"})
    for (const char* res : {"cpu", "memory"}) EXPECT_TRUE(c["resources"][kind][res]) << kind << "." << res;
}

TEST_F(RenderedManifests, NodeNameComesFromTheDownwardApi) {
  bool found = false;
  for (const auto& e : Container()["env"])
    if (e["name"].as<std::string>() == "NODE_NAME")
      found = e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>("") == "spec.nodeName";
  EXPECT_TRUE(found);
}

TEST_F(RenderedManifests, ProbesAndScrapeAnnotationsMatchTheListeners) {
  const auto c = Container();
  const int health = PortOf(Arg("health-probe-bind-address"));
  const int metrics = PortOf(Arg("metrics-bind-address"));
  EXPECT_GT(health, 0);
  EXPECT_GT(metrics, 0);
  EXPECT_EQ(ContainerPort("health"), health);
  EXPECT_EQ(ContainerPort("metrics"), metrics);
  // hostNetwork: the probes are on loopback, where no pod and nothing on the network can reach
  // (and starve) them; the kubelet must then probe 127.0.0.1, not the node IP.
  EXPECT_EQ(HostOf(Arg("health-probe-bind-address")), "127.0.0.1");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["host"].as<std::string>(""), "127.0.0.1");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["host"].as<std::string>(""), "127.0.0.1");
  // The director-facing listeners are declared, on ports of their own.
  const int director = PortOf(Arg("director-health-bind-address"));
  const int agent = PortOf(Arg("agent-check-bind-address"));
  EXPECT_EQ(ContainerPort("director-http"), director);
  EXPECT_EQ(ContainerPort("agent-check"), agent);
  EXPECT_EQ((std::set<int>{health, metrics, director, agent}.size()), 4u);
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(""), "/healthz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"].as<std::string>(""), "health");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(""), "/readyz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<std::string>(""), "health");
  const auto ann = DaemonSet()["spec"]["template"]["metadata"]["annotations"];
  EXPECT_EQ(ann["prometheus.io/scrape"].as<std::string>(""), "true");
  EXPECT_EQ(ann["prometheus.io/port"].as<std::string>(""), std::to_string(metrics));
  EXPECT_EQ(ann["prometheus.io/path"].as<std::string>(""), "/metrics");
}

TEST_F(RenderedManifests, EveryFlagIsOneTheBinaryKnows) {
  // A flag the binary does not know is a usage error (exit 2): the pod would crash-loop.
  const auto help = lvsrs::testing::Run(OperatorBinary() + " run --help");
  ASSERT_EQ(help.exit_code, 0) << help.output;
  for (const auto& a : Args()) {
    if (a.rfind("--", 0) != 0) continue;
    const auto name = a.substr(0, a.find('='));
    EXPECT_NE(help.output.find("  " + name + " "), std::string::npos)
        << "DaemonSet passes " << name << " but `lvs-rs-operator run --help` does not list it";
  }
}

TEST_F(RenderedManifests, ImageTagIsTheProjectVersion) {
  const auto image = Container()["image"].as<std::string>("");
  EXPECT_EQ(image.substr(image.rfind(':') + 1), LVSRS_PROJECT_VERSION) << image;
}

TEST(NetAdminOnlyOverlay, DropsPrivilegedKeepsOnlyNetAdmin) {
  // docs/deploy.md's alternative: PerInterface VirtualIPs only, no privileged container.
  const auto r = lvsrs::testing::Run("kubectl kustomize " + Quote(SourceDir() + "/overlays/net-admin-only"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  YAML::Node sc;
  for (const auto& d : YAML::LoadAll(r.output))
    if (d["kind"].as<std::string>() == "DaemonSet")
      sc = d["spec"]["template"]["spec"]["containers"][0]["securityContext"];
  ASSERT_TRUE(sc.IsMap()) << "no DaemonSet in the overlay";
  EXPECT_FALSE(sc["privileged"].as<bool>(true));
  EXPECT_TRUE(sc["readOnlyRootFilesystem"].as<bool>(false));
  EXPECT_EQ(sc["capabilities"]["add"].as<std::vector<std::string>>(), std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(sc["capabilities"]["drop"].as<std::vector<std::string>>(), std::vector<std::string>{"ALL"});
}

}  // namespace
}  // namespace lvsrs::testing
