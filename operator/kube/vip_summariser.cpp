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
    realservers_ = std::make_unique<Informer>(clients_, o, [] {});
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
