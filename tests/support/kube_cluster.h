// Test support: a real Kubernetes control plane (etcd + kube-apiserver 1.20) for end-to-end tests,
// a thin RAII owner around tests/support/kube_cluster.sh (which shell scripts and benches can use
// directly, see its header). The control plane lives in its own network namespace; node namespaces
// (TestNetns) attach to its bridge and reach the API server at https://198.51.100.1:6443.
// Everything, processes and namespaces, is removed by the destructor, also on assertion failures.
//
//   if (!KubeCluster::Available(&why)) GTEST_SKIP() << why;
//   KubeCluster cluster;                       // up, ready
//   cluster.InstallProduct();                  // kubectl apply crd/ + manifests/rbac.yaml, SA token
//   TestNetns node("lvsrs-x");
//   cluster.AddNode(node, 1, "node-1", {{"lvsdr.io/real-server", "true"}});
//   Process op(cluster.OperatorArgv(node, "node-1", state_dir), log);
//   cluster.Kubectl("get vip");
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/netns.h"

namespace lvsrs::testing {

class KubeCluster {
 public:
  // The kube-apiserver binary ($KUBE_APISERVER or $LVSRS_CACHE/kube-apiserver) and etcd exist.
  static bool Available(std::string* why);
  static std::string ApiserverBinary();

  // netns_prefix: the control plane is "<prefix>-<pid>-cp<n>". extra: kube-apiserver flags.
  explicit KubeCluster(const std::string& netns_prefix = "lvsrs-k", const std::vector<std::string>& extra = {});
  ~KubeCluster();
  KubeCluster(const KubeCluster&) = delete;
  KubeCluster& operator=(const KubeCluster&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& netns() const { return netns_; }
  std::string operator_kubeconfig() const { return dir_ + "/operator.kubeconfig"; }

  // kubectl as cluster admin, run inside the control-plane namespace.
  CommandResult Kubectl(const std::string& args) const;
  // `kubectl apply -f -` with yaml on stdin.
  CommandResult Apply(const std::string& yaml) const;
  // `kubectl get <args> -o json`, parsed; null when kubectl fails.
  nlohmann::json GetJson(const std::string& args) const;
  CommandResult Etcdctl(const std::string& args) const;

  // Applies crd/ and manifests/rbac.yaml from the source tree (and the lvs-rs-operator namespace
  // when manifests/ does not carry one), waits for the CRDs to be established, and writes the
  // operator kubeconfig with a TokenRequest token of the lvs-rs-operator ServiceAccount.
  void InstallProduct() const;
  // Attaches node to the bridge as 198.51.100.(10+index) and creates Node `name` with labels.
  void AddNode(const TestNetns& node, int index, const std::string& name,
               const std::map<std::string, std::string>& labels) const;
  // argv for `lvs-rs-operator run` in Kubernetes mode inside node.
  std::vector<std::string> OperatorArgv(const TestNetns& node, const std::string& node_name,
                                        const std::string& state_dir, const std::vector<std::string>& extra = {}) const;

  void StopApiserver() const;   // an outage: SIGTERM kube-apiserver, wait for it to exit
  void StartApiserver() const;  // same flags, same etcd; returns when ready
  // With the API server stopped: etcd restarted with its data deleted, so that the next
  // StartApiserver() comes up with empty storage (no CRDs, RBAC, ServiceAccounts, Nodes).
  void WipeEtcd() const;
  // After a wipe: crd/ and manifests/rbac.yaml again, and a fresh operator token written over
  // operator.token (the old one names a ServiceAccount that no longer exists). Each may be skipped
  // to show the states in between.
  void InstallRbacAndToken() const;
  void InstallCrds() const;

 private:
  std::string Script(const std::string& args) const;
  std::string dir_;
  std::string netns_;
};

// Polls cond every `every` until true or timeout (for conditions that run kubectl or ip).
bool EventuallySlow(const std::function<bool()>& cond, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds every = std::chrono::milliseconds(250));

}  // namespace lvsrs::testing
