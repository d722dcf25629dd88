// Aggregate readiness on VirtualIP (status.ready "2/3" for `kubectl get vip`) without O(N^2)
// fan-out: every agent writing into VirtualIP would send each write to every agent watching
// VirtualIPs. Instead one agent, elected through a coordination.k8s.io Lease, watches the
// RealServers and patches a VirtualIP's status only when its summary changed, at most once per
// period. The others only renew-check the Lease.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/kube_source.h"

namespace lvsrs::kube {

// The status each VirtualIP (name -> metadata.generation) should have, from all RealServers
// (name -> object), in one pass over the RealServers. Pure.
// selectedNodes: RealServers with an entry for the VirtualIP; readyNodes: those whose every entry
// for it is Configured or Adopted.
std::map<std::string, nlohmann::json> SummariseVirtualIps(const std::map<std::string, std::int64_t>& generations,
                                                          const std::map<std::string, nlohmann::json>& realservers);

class VipSummariser {
 public:
  struct Options {
    std::string lease_namespace = "lvs-rs-operator";
    std::string lease_name = "lvs-rs-operator-summariser";
    std::chrono::seconds lease_duration{30};
    std::chrono::seconds period{10};  // renew and summarise at most this often
  };
  VipSummariser(const KubeConfig& config, std::string identity, KubeSource& source, Options options);
  ~VipSummariser();
  void Start();
  void Stop();
  bool leading() const { return leading_; }

 private:
  void Run();
  bool TryLead();  // acquire or renew the Lease; true when we hold it
  void Summarise();

  KubeConfig config_;
  std::string identity_;
  KubeSource& source_;
  Options options_;
  ApiClient client_;
  std::unique_ptr<Informer> realservers_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::atomic<bool> leading_{false};
};

}  // namespace lvsrs::kube
