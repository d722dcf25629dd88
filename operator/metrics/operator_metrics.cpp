#include "metrics/operator_metrics.h"

#include <prometheus/text_serializer.h>

#include <sstream>

namespace lvsrs {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

// Reconcile passes take well under a millisecond for a few VIPs and up to seconds for
// thousands (one netlink dump each of links, addresses and routes, plus the writes).
const prometheus::Histogram::BucketBoundaries kDurationBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                  0.1,    0.25,  0.5,    1,     2.5,  5,     10};

template <typename K>
std::map<std::vector<std::string>, double> Keyed(const std::map<K, double>& in) {
  std::map<std::vector<std::string>, double> out;
  for (const auto& [k, v] : in) {
    if constexpr (std::is_same_v<K, std::string>)
      out[{k}] = v;
    else
      out[{k.first, k.second}] = v;
  }
  return out;
}

}  // namespace

void OperatorMetrics::GaugeSeries::Sync(const std::map<std::vector<std::string>, double>& want) {
  for (auto it = live_.begin(); it != live_.end();) {
    if (want.count(it->first)) {
      ++it;
      continue;
    }
    family_.Remove(it->second);
    it = live_.erase(it);
  }
  for (const auto& [values, v] : want) {
    auto& g = live_[values];
    if (!g) {
      prometheus::Labels labels;
      for (std::size_t i = 0; i < label_names_.size() && i < values.size(); ++i) labels[label_names_[i]] = values[i];
      g = &family_.Add(labels);
    }
    g->Set(v);
  }
}

OperatorMetrics::OperatorMetrics(const std::string& version)
    : registry_(std::make_shared<prometheus::Registry>()),
      node_conformant_(&BuildGauge()
                            .Name("lvs_rs_node_conformant")
                            .Help("1 when every VIP wanted on this node is configured (address and host route) "
                                  "and every ARP sysctl and effective ARP value is as wanted, else 0.")
                            .Register(*registry_)
                            .Add({})),
      vip_conformant_(BuildGauge()
                          .Name("lvs_rs_vip_conformant")
                          .Help("1 when the VIP address of the VirtualIP is on its interface with its host route, "
                                "else 0 (pending, failed or blocked).")
                          .Register(*registry_),
                      {"virtualip", "address"}),
      virtualip_refused_(BuildGauge()
                             .Name("lvs_rs_virtualip_refused")
                             .Help("1 for each VirtualIP that selects this node but is refused (the reason is in "
                                   "the logs, Events and status); absent otherwise.")
                             .Register(*registry_),
                         {"virtualip"}),
      virtualip_edit_refused_(BuildGauge()
                                  .Name("lvs_rs_virtualip_edit_refused")
                                  .Help("1 for each VirtualIP whose latest edit is refused while its last accepted "
                                        "spec stays in force (the reason is in the logs, Events and status); absent "
                                        "otherwise.")
                                  .Register(*registry_),
                              {"virtualip"}),
      arp_effective_(BuildGauge()
                         .Name("lvs_rs_arp_effective")
                         .Help("Effective ARP sysctl of an ARP-capable interface: max(conf/all, conf/<interface>), "
                               "the value the kernel uses.")
                         .Register(*registry_),
                     {"interface", "key"}),
      arp_conformant_(BuildGauge()
                          .Name("lvs_rs_arp_conformant")
                          .Help("1 when no VIP wanted on this node can be learnt through ARP on the interface "
                                "(answered or announced, as the kernel decides it), else 0.")
                          .Register(*registry_),
                      {"interface"}),
      contested_(BuildGauge()
                     .Name("lvs_rs_contested_items")
                     .Help("Items another tool keeps undoing right after each repair (item = ip:<VIP>, "
                           "route:<VIP> or sysctl:<key>): the repairs of the item in the last 30 s. Repaired with "
                           "backoff while it lasts; absent when nothing is contested.")
                     .Register(*registry_),
                 {"item"}),
      arp_exposed_(BuildGauge()
                       .Name("lvs_rs_arp_exposed")
                       .Help("1 for each VIP wanted on this node that a neighbour can learn on the interface: "
                             "through ARP (IPv4), how = answered (the node replies to a request for it) or announced "
                             "(its own ARP requests carry it as sender); through neighbour discovery (IPv6), how = "
                             "ndp_answered (the node advertises it in reply to a solicitation) or ndp_announced (its "
                             "own solicitations carry it as source). Absent when none is: the conformant state.")
                       .Register(*registry_),
                   {"address", "interface", "how"}),
      vip_connections_(BuildGauge()
                           .Name("lvs_rs_vip_connections")
                           .Help("ESTABLISHED TCP connections whose local address is the VIP, counted (through "
                                 "NETLINK_SOCK_DIAG, about once a second) while the VIP drains: it is withdrawn at "
                                 "0 or at its VirtualIP's drainTimeout. Absent for VIPs that do not drain.")
                           .Register(*registry_),
                       {"address"}),
      vips_draining_(&BuildGauge()
                          .Name("lvs_rs_vips_draining")
                          .Help("VIPs no longer wanted on this node that stay while connections to them remain.")
                          .Register(*registry_)
                          .Add({})),
      kernel_writes_(&BuildCounter()
                          .Name("lvs_rs_kernel_writes_total")
                          .Help("Changes (address, route, sysctl) the kernel accepted.")
                          .Register(*registry_)
                          .Add({})),
      duration_(&BuildHistogram()
                     .Name("lvs_rs_reconcile_duration_seconds")
                     .Help("Duration of one reconcile pass: observe, diff, apply, observe again.")
                     .Register(*registry_)
                     .Add({}, kDurationBuckets)),
      last_reconcile_(
          &BuildGauge()
               .Name("lvs_rs_last_reconcile_timestamp_seconds")
               .Help("Unix time at which the kernel state was last confirmed: the end of the last reconcile "
                     "pass that could read it, or a later ARP sysctl poll that found it unchanged.")
               .Register(*registry_)
               .Add({})) {
  auto& repairs = BuildCounter()
                      .Name("lvs_rs_drift_repairs_total")
                      .Help(
                          "Drift undone: an address, host route or ARP sysctl that had been in place was found "
                          "changed or gone and was put back.")
                      .Register(*registry_);
  for (const char* kind : kRepairKinds) repairs_[kind] = &repairs.Add({{"kind", kind}});
  auto& errors = BuildCounter()
                     .Name("lvs_rs_reconcile_errors_total")
                     .Help(
                         "Reconcile failures: kernel_read (a whole pass could not read the kernel state), "
                         "address or sysctl (one item could not be written; retried with backoff).")
                     .Register(*registry_);
  for (const char* reason : kErrorReasons) errors_[reason] = &errors.Add({{"reason", reason}});
  BuildGauge()
      .Name("lvs_rs_build_info")
      .Help("Always 1; the version label says which lvs-rs-operator is running.")
      .Register(*registry_)
      .Add({{"version", version}})
      .Set(1);
}

void OperatorMetrics::Observe(const ReconcileOutcome& outcome) {
  Apply(MetricsOfOutcome(outcome), std::chrono::system_clock::now());
}

void OperatorMetrics::Apply(const OutcomeMetrics& m, std::chrono::system_clock::time_point now) {
  duration_->Observe(m.duration_seconds);
  kernel_writes_->Increment(m.kernel_writes);
  for (const auto& [kind, n] : m.repairs)
    if (auto it = repairs_.find(kind); it != repairs_.end()) it->second->Increment(n);
  for (const auto& [reason, n] : m.errors)
    if (auto it = errors_.find(reason); it != errors_.end()) it->second->Increment(n);
  node_conformant_->Set(m.has_status && m.node_conformant ? 1 : 0);
  if (!m.has_status) return;

  last_reconcile_->Set(std::chrono::duration<double>(now.time_since_epoch()).count());
  vip_conformant_.Sync(Keyed(m.vip_conformant));
  std::map<std::vector<std::string>, double> refused;
  for (const auto& name : m.refused_virtualips) refused[{name}] = 1;
  virtualip_refused_.Sync(refused);
  std::map<std::vector<std::string>, double> edit_refused;
  for (const auto& name : m.edit_refused_virtualips) edit_refused[{name}] = 1;
  virtualip_edit_refused_.Sync(edit_refused);
  arp_effective_.Sync(Keyed(m.arp_effective));
  arp_conformant_.Sync(Keyed(m.arp_conformant));
  contested_.Sync(Keyed(m.contested));
  arp_exposed_.Sync(m.arp_exposed);
  vip_connections_.Sync(Keyed(m.vip_connections));
  vips_draining_->Set(m.vips_draining);
}

void OperatorMetrics::Unchanged(std::chrono::system_clock::time_point now) {
  last_reconcile_->Set(std::chrono::duration<double>(now.time_since_epoch()).count());
}

void OperatorMetrics::ObserveKube(bool synced, std::uint64_t watch_restarts) {
  if (!kube_synced_) {
    kube_synced_ = &BuildGauge()
                        .Name("lvs_rs_kube_synced")
                        .Help(
                            "1 while the watches of VirtualIPs and this Node have a complete, current list; "
                            "0 while a list is pending (nothing is changed before the first one).")
                        .Register(*registry_)
                        .Add({});
    kube_watch_restarts_ = &BuildCounter()
                                .Name("lvs_rs_kube_watch_restarts_total")
                                .Help("Kubernetes watch streams that ended and were started again.")
                                .Register(*registry_)
                                .Add({});
  }
  kube_synced_->Set(synced ? 1 : 0);
  if (watch_restarts > kube_watch_restarts_seen_)
    kube_watch_restarts_->Increment(static_cast<double>(watch_restarts - kube_watch_restarts_seen_));
  kube_watch_restarts_seen_ = watch_restarts;
}

std::string OperatorMetrics::Text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace lvsrs
