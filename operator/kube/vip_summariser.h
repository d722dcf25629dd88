// Aggregate readiness on VirtualIP (status.ready "2/3" for `kubectl get vip`) without O(N^2)
// fan-out: every agent writing into VirtualIP would send each write to every agent watching
// VirtualIPs. Instead one agent, elected through a coordination.k8s.io Lease, watches the
// RealServers and patches a VirtualIP's status only when its summary changed, at most once per
// period. The others only check the Lease when it could have expired (FollowerWait): at rest a
// follower costs one GET per lease duration, not one per period, because with every node of a
// large fleet a follower, their checks would otherwise be most of the API server's requests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "agent/time_source.h"
#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/kube_source.h"

namespace lvsrs::kube {

// The status each VirtualIP (name -> metadata.generation) should have, from all RealServers
// (name -> object), in one pass over the RealServers. Pure.
// selectedNodes: RealServers with an entry for the VirtualIP; readyNodes: those whose every entry
// for it is Ready (or, written by older agents, Configured or Adopted).
std::map<std::string, nlohmann::json> SummariseVirtualIps(const std::map<std::string, std::int64_t>& generations,
                                                          const std::map<std::string, nlohmann::json>& realservers);

// How long a follower waits before it checks the Lease again: until the holder's lease would run
// out (renewed + duration, by our clock), at least `period` and at most `duration`, plus `jitter`
// (per node, so that a fleet does not check in step). The holder renews every period, so a live
// holder is always seen renewed; a dead one is replaced at most duration + jitter after it
// expired. Pure.
std::chrono::seconds FollowerWait(std::time_t renewed, std::chrono::seconds duration, std::time_t now,
                                  std::chrono::seconds period, std::chrono::seconds jitter);

class VipSummariser {
 public:
  struct Options {
    std::string lease_namespace = "lvs-rs-operator";
    std::string lease_name = "lvs-rs-operator-summariser";
    std::chrono::seconds lease_duration{60};  // how long a dead holder can block the summary
    std::chrono::seconds period{10};          // the holder renews and summarises at most this often
  };
  // time: the wall clock Lease times are written and judged by.
  VipSummariser(const KubeConfig& config, std::string identity, KubeSource& source, Options options,
                TimeSource& time = RealTime());
  ~VipSummariser();
  VipSummariser(const VipSummariser&) = delete;
  VipSummariser& operator=(const VipSummariser&) = delete;
  void Start();
  void Stop();

 private:
  void Run();
  // Acquires or renews the Lease; true when we hold it. Otherwise *wait is when to try again.
  bool TryLead(std::chrono::seconds* wait);
  void Summarise();

  KubeConfig config_;
  std::string identity_;
  KubeSource& source_;
  Options options_;
  TimeSource& time_;
  ApiClient client_;
  std::unique_ptr<Informer> realservers_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool leading_ = false;  // summariser thread only
};

}  // namespace lvsrs::kube
