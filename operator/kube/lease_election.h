// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
// holder renews renewTime every period; anyone may take the Lease once renewTime +
// leaseDurationSeconds has passed by its own clock. Taking and renewing are a PUT that carries the
// resourceVersion read, so of two agents that both saw it expired only one wins (the other gets
// 409 Conflict and stays a follower). A follower checks the Lease only when it could have
// expired (FollowerWait): at rest it costs one GET per lease duration, not one per period, because
// with every node of a large fleet a follower, their checks would otherwise be most of the API
// server's requests.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "agent/time_source.h"
#include "kube/api_client.h"

namespace lvsrs::kube {

// How long a follower waits before it checks the Lease again: until the holder's lease would run
// out (renewed + duration, by our clock), at least `period` and at most `duration`, plus `jitter`
// (per node, so that a fleet does not check in step). The holder renews every period, so a live
// holder is always seen renewed; a dead one is replaced at most duration + jitter after it
// expired. Pure.
std::chrono::seconds FollowerWait(std::time_t renewed, std::chrono::seconds duration, std::time_t now,
                                  std::chrono::seconds period, std::chrono::seconds jitter);

class LeaseElection {
 public:
  struct Options {
    std::string lease_namespace = "lvs-rs-operator";
    std::string lease_name = "lvs-rs-operator-summariser";
    std::chrono::seconds lease_duration{60};  // how long a dead holder can block the leader's work
    std::chrono::seconds period{10};          // the holder renews at most this often
  };
  // client: used from the caller's thread only. time: the wall clock Lease times are written and
  // judged by.
  LeaseElection(ApiClient& client, std::string identity, Options options, TimeSource& time = RealTime());

  // Acquires or renews the Lease; true when we hold it. *wait is when to call again: one period
  // for the holder and after errors or a lost race, FollowerWait for a follower.
  bool TryLead(std::chrono::seconds* wait);

  const Options& options() const { return options_; }

 private:
  ApiClient& client_;
  std::string identity_;
  Options options_;
  TimeSource& time_;
};

}  // namespace lvsrs::kube
