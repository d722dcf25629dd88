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

RealServerReadiness ReadinessOf(const json& realserver) {
  constexpr std::size_t kMaxProblem = 1000;  // the summary's message is cut there anyway
  std::map<std::string, RealServerReadiness::Vip> by_name;
  for (auto& v : DecodeRealServerVips(realserver)) {
    auto [it, added] = by_name.try_emplace(v.name);
    RealServerReadiness::Vip& vip = it->second;
    if (added) vip.name = std::move(v.name);
    if (v.state == "Ready" || v.state == "Configured" || v.state == "Adopted" || !vip.ready) continue;
    vip.ready = false;
    vip.problem = (v.state + (v.message ? ": " + *v.message : "")).substr(0, kMaxProblem);
  }
  RealServerReadiness out;
  out.vips.reserve(by_name.size());
  for (auto& [_, vip] : by_name) out.vips.push_back(std::move(vip));
  return out;
}

void VipReadinessTally::Add(const std::string& node, const RealServerReadiness& readiness) {
  for (const auto& vip : readiness.vips) {
    Count& c = counts_[vip.name];
    ++c.selected;
    if (vip.ready)
      ++c.ready;
    else if (c.message.empty())
      c.message = "node " + node + ": " + vip.problem;
  }
}

std::map<std::string, json> VipReadinessTally::Statuses(const std::map<std::string, std::int64_t>& generations) const {
  static const Count kNoNode;
  std::map<std::string, json> out;
  for (const auto& [name, generation] : generations) {
    const auto it = counts_.find(name);
    const Count& c = it != counts_.end() ? it->second : kNoNode;
    json s{{"observedGeneration", generation},
           {"selectedNodes", c.selected},
           {"readyNodes", c.ready},
           {"ready", std::to_string(c.ready) + "/" + std::to_string(c.selected)}};
    if (!c.message.empty()) s["message"] = c.message.substr(0, 1000);
    out[name] = std::move(s);
  }
  return out;
}

namespace {

InformerOptions LeaseWatchOptions(const LeaseElection::Options& o) {
  InformerOptions w;
  w.collection_path = "/apis/coordination.k8s.io/v1/namespaces/" + o.lease_namespace + "/leases";
  w.api_version = "coordination.k8s.io/v1";
  w.kind = "Lease";
  w.field_selector = "metadata.name=" + o.lease_name;
  return w;
}

}  // namespace

VipSummariser::VipSummariser(ApiClientFactory clients, std::string identity, KubeSource& source, Options options,
                             TimeSource& time)
    : clients_(std::move(clients)),
      source_(source),
      options_(std::move(options)),
      client_(clients_({})),
      lease_watch_(clients_, LeaseWatchOptions(options_), [] {}),
      election_(*client_, std::move(identity), options_, time, [this] {
        WatchedLease w;
        w.synced = lease_watch_.synced();
        if (!w.synced) return w;
        auto objects = lease_watch_.Objects();
        const auto it = objects.find(options_.lease_name);
        if (it != objects.end()) w.lease = std::move(it->second);
        return w;
      }) {}

VipSummariser::~VipSummariser() { Stop(); }

void VipSummariser::Start() {
  lease_watch_.Start();
  worker_.Start([this] { Run(); }, [this] { client_->Cancel(); });
}

void VipSummariser::Stop() {
  worker_.Stop();
  lease_watch_.Stop();
  if (realservers_) realservers_->Stop();
}

void VipSummariser::Summarise() {
  if (!realservers_) {
    InformerOptions o;
    o.collection_path = std::string("/apis/") + kApiVersion + "/realservers";
    o.api_version = kApiVersion;
    o.kind = "RealServer";
    // Only what the summary reads is kept of each RealServer; and a page of 100 bounded
    // statuses (at most some 4 KiB each) is what the list holds whole at a time.
    o.project = ProjectTo<RealServerReadiness>(ReadinessOf);
    o.page_size = 100;
    realservers_ = std::make_unique<Informer>(clients_, o, [] {});
    realservers_->Start();
  }
  if (!realservers_->synced() || !source_.stats().synced) return;
  const auto vips = source_.VirtualIpObjects();
  std::map<std::string, std::int64_t> generations;
  for (const auto& [name, vip] : vips) {
    generations[name] = GenerationOf(vip);
  }
  VipReadinessTally tally;
  realservers_->ForEachProjected<RealServerReadiness>(
      [&tally](const std::string& node, const RealServerReadiness& readiness) { tally.Add(node, readiness); });
  for (const auto& [name, want] : tally.Statuses(generations)) {
    if (vips.at(name).value("status", json::object()) == want) continue;  // steady state: no write
    const ApiResponse r = client_->MergePatch(std::string("/apis/") + kApiVersion + "/virtualips/" + name + "/status",
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
      const bool lead = election_.TryLead(&wait);
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
    if (!worker_.SleepFor(wait)) return;
  }
}

}  // namespace lvsrs::kube
