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
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/time_source.h"
#include "kube/api_client.h"
#include "kube/informer.h"
#include "kube/kube_source.h"
#include "kube/lease_election.h"
#include "kube/worker_thread.h"

namespace lvsrs::kube {

// What the summariser keeps of one RealServer (its informer's projection, Informer::ForEachProjected):
// per VirtualIP the node lists, ready or not, and the first problem. Some 100 bytes a node instead
// of the whole object, so that 5,000 RealServers fit in the agent's memory limit.
struct RealServerReadiness {
  struct Vip {
    std::string name;
    bool ready = true;
    std::string problem;  // when not ready: "<state>: <message>", at most 1000 bytes
    bool operator==(const Vip&) const = default;
  };
  std::vector<Vip> vips;  // one per VirtualIP, by name
  bool operator==(const RealServerReadiness&) const = default;
};

// Pure; reads both status forms: one entry per VirtualIP ("Ready"), and, as agents before the
// bounded status wrote it, one per address ("Configured" or "Adopted"); a rolling update has both
// for a while. A VirtualIP is ready on the node when its every entry is. Anyone with write access
// to RealServers can put anything there: mistyped fields read as absent (not ready).
RealServerReadiness ReadinessOf(const nlohmann::json& realserver);

// Pure: the VirtualIPs' status from every node's readiness, one Add per node, in node-name order
// (the message names the first node that is not ready).
class VipReadinessTally {
 public:
  void Add(const std::string& node, const RealServerReadiness& readiness);
  // The status each VirtualIP (name -> metadata.generation) should have. selectedNodes: nodes with
  // an entry for it; readyNodes: those where it is ready.
  std::map<std::string, nlohmann::json> Statuses(const std::map<std::string, std::int64_t>& generations) const;

 private:
  struct Count {
    int selected = 0, ready = 0;
    std::string message;
  };
  std::map<std::string, Count> counts_;
};

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
