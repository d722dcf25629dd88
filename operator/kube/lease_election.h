// Leader election on a coordination.k8s.io Lease, as client-go's leaderelection does it: the
// holder renews renewTime every period; anyone may take the Lease once renewTime +
// leaseDurationSeconds has passed by its own clock. Taking and renewing are a PUT that carries the
// resourceVersion read, so of two agents that both saw it expired only one wins (the other gets
// 409 Conflict and stays a follower). A follower checks the Lease only when it could have
// expired (FollowerWait): at rest it costs one GET per lease duration, not one per period, because
// with every node of a large fleet a follower, their checks would otherwise be most of the API
// server's requests. Given a watch of the Lease (WatchedLease), a follower asks nothing at all
// while the watch shows the holder renewing: it judges expiry from the watched Lease by its own
// clock, and GETs only to confirm an expiry before it takes over.
#pragma once

#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

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

// What a watch of the Lease (an Informer with fieldSelector metadata.name) last saw.
struct WatchedLease {
  bool synced = false;                  // the watch's first list completed
  std::optional<nlohmann::json> lease;  // nullopt: there is no such Lease
};
using LeaseWatch = std::function<WatchedLease()>;

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
  // watch: optional; while it shows a live holder, a follower sends no request.
  LeaseElection(ApiClient& client, std::string identity, Options options, TimeSource& time = RealTime(),
                LeaseWatch watch = nullptr);

  // Acquires or renews the Lease; true when we hold it. *wait is when to call again: one period
  // for the holder and after errors or a lost race, and for a follower that watches the Lease
  // (a look at the watched copy costs nothing); FollowerWait for a follower that must GET.
  bool TryLead(std::chrono::seconds* wait);

  const Options& options() const { return options_; }

 private:
  // One GET of the Lease, then create, renew or take it over (PUT with its resourceVersion).
  bool Decide(std::chrono::seconds* wait);
  // Whether the watched Lease shows a holder other than us whose lease runs by our clock.
  bool WatchShowsLiveHolder() const;

  ApiClient& client_;
  std::string identity_;
  Options options_;
  TimeSource& time_;
  LeaseWatch watch_;
  bool leading_ = false;
  // A follower's next GET, when the last one showed a live holder: a watch that lags (or is
  // down while the API server restarts) must not turn every follower into a GET per period.
  std::chrono::steady_clock::time_point next_get_{};
};

}  // namespace lvsrs::kube
