#include "kube/vip_summariser.h"

#include <algorithm>
#include <ctime>
#include <functional>

#include "agent/log.h"
#include "kube/object_decode.h"
#include "model/rfc3339.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

}  // namespace

std::map<std::string, json> SummariseVirtualIps(const std::map<std::string, std::int64_t>& generations,
                                                const std::map<std::string, json>& realservers) {
  struct Tally {
    int selected = 0, ready = 0;
    std::string message;
  };
  std::map<std::string, Tally> tally;
  for (const auto& [node, rs] : realservers) {
    std::map<std::string, std::string> problems;  // VirtualIP -> first problem on this node
    std::map<std::string, bool> listed;
    // Anyone with write access to RealServers can put anything there: mistyped fields read as absent.
    for (const auto& v : DecodeRealServerVips(rs)) {
      listed[v.name] = true;
      // "Ready": one entry per VirtualIP; "Configured"/"Adopted": per address, as agents before
      // the bounded status wrote it (a rolling update has both for a while).
      if (v.state != "Ready" && v.state != "Configured" && v.state != "Adopted" && !problems.count(v.name))
        problems[v.name] = v.state + (v.message ? ": " + *v.message : "");
    }
    for (const auto& [name, _] : listed) {
      Tally& t = tally[name];
      ++t.selected;
      auto p = problems.find(name);
      if (p == problems.end())
        ++t.ready;
      else if (t.message.empty())
        t.message = "node " + node + ": " + p->second;
    }
  }
  std::map<std::string, json> out;
  for (const auto& [name, generation] : generations) {
    const Tally t = tally.count(name) ? tally[name] : Tally{};
    json s{{"observedGeneration", generation},
           {"selectedNodes", t.selected},
           {"readyNodes", t.ready},
           {"ready", std::to_string(t.ready) + "/" + std::to_string(t.selected)}};
    if (!t.message.empty()) s["message"] = t.message.substr(0, 1000);
    out[name] = std::move(s);
  }
  return out;
}

std::chrono::seconds FollowerWait(std::time_t renewed, std::chrono::seconds duration, std::time_t now,
                                  std::chrono::seconds period, std::chrono::seconds jitter) {
  const std::chrono::seconds until_expiry(renewed + duration.count() - now);
  return std::clamp(until_expiry, period, std::max(period, duration)) + jitter;
}

VipSummariser::VipSummariser(const KubeConfig& config, std::string identity, KubeSource& source, Options options,
                             TimeSource& time)
    : config_(config),
      identity_(std::move(identity)),
      source_(source),
      options_(std::move(options)),
      time_(time),
      client_(config) {}

VipSummariser::~VipSummariser() { Stop(); }

void VipSummariser::Start() {
  thread_ = std::thread([this] { Run(); });
}

void VipSummariser::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  client_.Cancel();
  if (thread_.joinable()) thread_.join();
  if (realservers_) realservers_->Stop();
}

bool VipSummariser::TryLead(std::chrono::seconds* wait) {
  *wait = options_.period;  // errors and contention: try again soon
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

void VipSummariser::Summarise() {
  if (!realservers_) {
    InformerOptions o;
    o.collection_path = std::string("/apis/") + kApiVersion + "/realservers";
    o.api_version = kApiVersion;
    o.kind = "RealServer";
    realservers_ = std::make_unique<Informer>(config_, o, [] {});
    realservers_->Start();
  }
  if (!realservers_->synced() || !source_.stats().synced) return;
  const auto vips = source_.VirtualIpObjects();
  std::map<std::string, std::int64_t> generations;
  for (const auto& [name, vip] : vips) {
    generations[name] = GenerationOf(vip);
  }
  for (const auto& [name, want] : SummariseVirtualIps(generations, realservers_->Objects())) {
    if (vips.at(name).value("status", json::object()) == want) continue;  // steady state: no write
    const ApiResponse r = client_.MergePatch(std::string("/apis/") + kApiVersion + "/virtualips/" + name + "/status",
                                             json{{"status", want}});
    if (!r.ok() && r.status != 404) LogWarning("update VirtualIP " + name + " status: " + r.error);
  }
}

void VipSummariser::Run() {
  for (;;) {
    std::chrono::seconds wait = options_.period;  // the holder's renew period, or a follower's wait
    // Last line of defence on this thread (an exception would end in std::terminate): Leases,
    // RealServers and VirtualIPs are read through object_decode.h, which does not throw.
    try {
      const bool lead = TryLead(&wait);
      if (lead != leading_)
        LogInfo(lead ? "leading the VirtualIP status summary" : "no longer leading the VirtualIP summary");
      leading_ = lead;
      if (lead) {
        Summarise();
      } else if (realservers_) {
        realservers_->Stop();
        realservers_.reset();
      }
    } catch (const std::exception& e) {
      LogError(std::string("VirtualIP status summary: ") + e.what() + "; trying again in one period");
      wait = options_.period;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (cv_.wait_for(lock, wait, [this] { return stopping_; })) return;
  }
}

}  // namespace lvsrs::kube
