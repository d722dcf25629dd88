// Aggregate readiness on VirtualIP (status.ready "2/3" for `kubectl get vip`) without O(N^2)
// fan-out: every agent writing into VirtualIP would send each write to every agent watching
// VirtualIPs. Instead one agent, elected through a coordination.k8s.io Lease, watches the
// RealServers and patches a VirtualIP's status only when its summary changed, at most once per
// period (lease_election.h).
#pragma once

#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/time_source.h"
#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/kube_source.h"
#include "kube/lease_election.h"
#include "kube/worker_thread.h"

namespace lvsrs::kube {

// The status each VirtualIP (name -> metadata.generation) should have, from all RealServers
// (name -> object), in one pass over the RealServers. Pure.
// selectedNodes: RealServers with an entry for the VirtualIP; readyNodes: those whose every entry
// for it is Ready (or, written by older agents, Configured or Adopted).
std::map<std::string, nlohmann::json> SummariseVirtualIps(const std::map<std::string, std::int64_t>& generations,
                                                          const std::map<std::string, nlohmann::json>& realservers);

class VipSummariser {
 public:
  // period: the holder renews and summarises at most this often.
  using Options = LeaseElection::Options;
  // time: the wall clock Lease times are written and judged by.
  VipSummariser(ApiClientFactory clients, std::string identity, KubeSource& source, Options options,
                TimeSource& time = RealTime());
  ~VipSummariser();
  VipSummariser(const VipSummariser&) = delete;
  VipSummariser& operator=(const VipSummariser&) = delete;
  void Start();
  void Stop();

 private:
  void Run();
  void Summarise();

  ApiClientFactory clients_;
  KubeSource& source_;
  Options options_;
  std::unique_ptr<ApiClient> client_;
  // The Lease, watched: followers judge it from this copy and send no request while the holder
  // renews (at 5,000 nodes even one GET per node per minute is most of the fleet's traffic).
  Informer lease_watch_;
  LeaseElection election_;  // on client_, reads lease_watch_
  std::unique_ptr<Informer> realservers_;
  WorkerThread worker_;
  bool leading_ = false;  // summariser thread only
};

}  // namespace lvsrs::kube
