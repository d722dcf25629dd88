#include "kube/lease_election.h"

#include <algorithm>
#include <functional>

#include "kube/object_decode.h"
#include "model/rfc3339.h"

namespace lvsrs::kube {

using nlohmann::json;

std::chrono::seconds FollowerWait(std::time_t renewed, std::chrono::seconds duration, std::time_t now,
                                  std::chrono::seconds period, std::chrono::seconds jitter) {
  const std::chrono::seconds until_expiry(renewed + duration.count() - now);
  return std::clamp(until_expiry, period, std::max(period, duration)) + jitter;
}

LeaseElection::LeaseElection(ApiClient& client, std::string identity, Options options, TimeSource& time,
                             LeaseWatch watch)
    : client_(client),
      identity_(std::move(identity)),
      options_(std::move(options)),
      time_(time),
      watch_(std::move(watch)) {}

bool LeaseElection::WatchShowsLiveHolder() const {
  if (!watch_) return false;
  const WatchedLease watched = watch_();
  if (!watched.synced || !watched.lease) return false;
  const LeaseFacts facts = DecodeLease(*watched.lease);
  if (facts.holder.empty() || facts.holder == identity_) return false;  // free, or ours to renew
  const std::int64_t duration =
      std::min(facts.duration_seconds.value_or(options_.lease_duration.count()), options_.lease_duration.count());
  return std::chrono::system_clock::to_time_t(time_.Wall()) <= facts.renewed + duration;
}

bool LeaseElection::TryLead(std::chrono::seconds* wait) {
  *wait = options_.period;  // errors and contention: try again soon
  if (!leading_) {
    // A follower: the watched copy is free to read, so it looks every period and hands over
    // within a period of the expiry; it asks the server only when the copy shows the Lease free
    // or expired (to confirm, and to take over with the current resourceVersion), and then not
    // before the last GET said the holder could have expired.
    if (WatchShowsLiveHolder()) return false;
    const auto now = time_.Steady();
    if (now < next_get_) {
      *wait = std::max(options_.period, std::chrono::ceil<std::chrono::seconds>(next_get_ - now));
      return false;
    }
  }
  leading_ = Decide(wait);
  return leading_;
}

bool LeaseElection::Decide(std::chrono::seconds* wait) {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + options_.lease_namespace + "/leases";
  const ApiResponse got = client_.Get(path + "/" + options_.lease_name);
  const auto wall = time_.Wall();  // read once: the Lease's times and its expiry agree
  const std::string now = FormatRfc3339(wall, Rfc3339Fraction::Micros);  // metav1.MicroTime
  if (got.status == 404) {
    json lease{{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", options_.lease_name}, {"namespace", options_.lease_namespace}}},
               {"spec",
                {{"holderIdentity", identity_},
                 {"leaseDurationSeconds", options_.lease_duration.count()},
                 {"acquireTime", now},
                 {"renewTime", now}}}};
    return client_.Post(path, lease).ok();  // 409: someone else was faster
  }
  if (!got.ok() || !got.body.is_object()) return false;
  json lease = got.body;
  // Whatever another holder (or anyone with access to the Lease) wrote, of whatever type.
  const LeaseFacts facts = DecodeLease(lease);
  json& spec = lease["spec"];
  if (!spec.is_object()) spec = json::object();
  const std::string holder = facts.holder;
  const std::time_t renewed = facts.renewed;
  const std::int64_t duration = facts.duration_seconds.value_or(options_.lease_duration.count());
  const std::time_t now_s = std::chrono::system_clock::to_time_t(wall);
  const bool expired = now_s > renewed + duration;
  if (holder != identity_ && !expired) {
    // Spread the fleet's checks over one period, the same offset for a node every time.
    const auto jitter =
        std::chrono::seconds(std::hash<std::string>{}(identity_) %
                             static_cast<std::size_t>(std::max<std::int64_t>(1, options_.period.count())));
    // Never longer than our own lease duration, whatever a holder wrote into the Lease.
    const auto d = std::min(std::chrono::seconds(duration), options_.lease_duration);
    *wait = FollowerWait(renewed, d, now_s, options_.period, jitter);
    if (watch_) {
      // Watching: look at the copy again every period (free), GET again only after this wait.
      next_get_ = time_.Steady() + *wait;
      *wait = options_.period;
    }
    return false;
  }
  if (holder != identity_) spec["acquireTime"] = now;
  spec["holderIdentity"] = identity_;
  spec["leaseDurationSeconds"] = options_.lease_duration.count();
  spec["renewTime"] = now;
  // A PUT carries metadata.resourceVersion: if another agent renewed or took the Lease in
  // between, the server answers 409 and we stay a follower.
  return client_.Put(path + "/" + options_.lease_name, lease).ok();
}

}  // namespace lvsrs::kube
