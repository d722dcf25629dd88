#include "support/kube_cluster.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace lvsrs::testing {
namespace {

std::string ScriptPath() { return SourceDir() + "/tests/support/kube_cluster.sh"; }

CommandResult Must(const CommandResult& r, const std::string& what) {
  if (r.exit_code != 0) throw std::runtime_error(what + " failed: " + r.output);
  return r;
}

}  // namespace

std::string KubeCluster::ApiserverBinary() {
  if (const char* p = std::getenv("KUBE_APISERVER"); p && *p) return p;
  const char* cache = std::getenv("LVSRS_CACHE");
  return std::string(cache && *cache ? cache : "/var/cache/lvs-rs-operator") + "/kube-apiserver";
}

bool KubeCluster::Available(std::string* why) {
  if (access(ApiserverBinary().c_str(), X_OK) != 0) {
    *why = "kube-apiserver not found at " + ApiserverBinary() +
           " (built by scripts/setup.d/50-kube-apiserver.sh; sudo ./scripts/test.sh runs it)";
    return false;
  }
  if (Run("command -v etcd && command -v kubectl && command -v openssl").exit_code != 0) {
    *why = "etcd, kubectl or openssl missing (scripts/deps/kube.txt)";
    return false;
  }
  return true;
}

KubeCluster::KubeCluster(const std::string& netns_prefix, const std::vector<std::string>& extra) {
  static std::atomic<int> counter{0};
  const int n = counter++;
  netns_ = netns_prefix + "-" + std::to_string(getpid()) + "-cp" + std::to_string(n);
  char tmpl[] = "/tmp/lvsrs-kube-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  std::string args = "up " + Quote(dir_) + " " + Quote(netns_);
  for (const auto& f : extra) args += " " + Quote(f);
  const auto r = Run(Script(args));
  if (r.exit_code != 0) {
    Run(Script("down " + Quote(dir_)));
    throw std::runtime_error("cannot start the control plane: " + r.output);
  }
}

KubeCluster::~KubeCluster() {
  Run(Script("down " + Quote(dir_)));
  if (!std::getenv("LVSRS_KEEP_KUBE_DIR")) Run("rm -rf " + Quote(dir_));
}

std::string KubeCluster::Script(const std::string& args) const { return "bash " + Quote(ScriptPath()) + " " + args; }

CommandResult KubeCluster::Kubectl(const std::string& args) const {
  return Run(Script("kubectl " + Quote(dir_) + " " + args));
}

CommandResult KubeCluster::Apply(const std::string& yaml) const {
  const std::string file = dir_ + "/apply-" + std::to_string(std::rand()) + ".yaml";
  std::ofstream(file) << yaml << "\n";
  return Kubectl("apply -f " + Quote(file));
}

nlohmann::json KubeCluster::GetJson(const std::string& args) const {
  const auto r = Run("{ " + Script("kubectl " + Quote(dir_) + " get " + args + " -o json") + " 2>/dev/null; }");
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.output, nullptr, false);
}

CommandResult KubeCluster::Etcdctl(const std::string& args) const {
  return Run(Script("etcdctl " + Quote(dir_) + " " + args));
}

void KubeCluster::InstallProduct() const {
  InstallCrds();
  InstallRbacAndToken();
}

void KubeCluster::InstallCrds() const {
  Must(Kubectl("apply -k " + Quote(SourceDir() + "/crd/")), "kubectl apply -k crd/");
  Must(Kubectl("wait --for condition=established --timeout=60s crd/virtualips.lvsdr.io crd/realservers.lvsdr.io"),
       "wait for CRDs");
}

void KubeCluster::InstallRbacAndToken() const {
  // The namespace normally comes with manifests/ (the DaemonSet's); create it if it is not there.
  Kubectl("create namespace lvs-rs-operator");
  Must(Kubectl("apply -f " + Quote(SourceDir() + "/manifests/rbac.yaml")), "kubectl apply manifests/rbac.yaml");
  Must(Run(Script("operator-kubeconfig " + Quote(dir_))), "operator kubeconfig");
}

void KubeCluster::AddNode(const TestNetns& node, int index, const std::string& name,
                          const std::map<std::string, std::string>& labels) const {
  Must(Run(Script("attach " + Quote(dir_) + " " + Quote(node.name()) + " " + std::to_string(index))), "attach node");
  nlohmann::json obj{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
  if (!labels.empty()) obj["metadata"]["labels"] = labels;
  Must(Apply(obj.dump()), "create Node " + name);
}

std::vector<std::string> KubeCluster::OperatorArgv(const TestNetns& node, const std::string& node_name,
                                                   const std::string& state_dir,
                                                   const std::vector<std::string>& extra) const {
  std::vector<std::string> argv{"ip",
                                "netns",
                                "exec",
                                node.name(),
                                OperatorBinary(),
                                "run",
                                "--kubeconfig",
                                operator_kubeconfig(),
                                "--node-name",
                                node_name,
                                "--state-dir",
                                state_dir,
                                "--resync-period",
                                "1s"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

void KubeCluster::StopApiserver() const { Must(Run(Script("stop-apiserver " + Quote(dir_))), "stop apiserver"); }
void KubeCluster::StartApiserver() const { Must(Run(Script("start-apiserver " + Quote(dir_))), "start apiserver"); }
void KubeCluster::WipeEtcd() const { Must(Run(Script("wipe-etcd " + Quote(dir_))), "wipe etcd"); }

bool EventuallySlow(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds every) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(every);
  }
  return cond();
}

}  // namespace lvsrs::testing
