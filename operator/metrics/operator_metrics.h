// Every lvs_rs_* series in one prometheus-cpp registry, updated from the loop thread through
// Observe() (an AgentLoop observer) and ObserveKube(). Scrapes run on
// the metrics listener's thread (monitoring.cpp); prometheus-cpp guards each family with its own short lock and values
// are atomics, so a scrape never waits for a reconcile pass and a pass never waits for a slow
// scraper's socket.
//
// Series of a VIP, VirtualIP or interface that is gone are removed, so label cardinality is
// bounded by what the node has now. Counters exist at 0 from the start so that rate() and
// increase() see the first repair or error.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "agent/reconciler.h"
#include "metrics/outcome_metrics.h"

namespace lvsrs {

class OperatorMetrics {
 public:
  explicit OperatorMetrics(const std::string& version);
  ~OperatorMetrics() = default;
  OperatorMetrics(const OperatorMetrics&) = delete;
  OperatorMetrics& operator=(const OperatorMetrics&) = delete;

  // Loop thread only.
  void Observe(const ReconcileOutcome& outcome);
  void Apply(const OutcomeMetrics& m, std::chrono::system_clock::time_point now);
  // An ARP sysctl poll found the kernel as the last pass left it (AgentLoop's unchanged
  // observer): the state that pass judged is confirmed now, so the timestamp moves on.
  void Unchanged(std::chrono::system_clock::time_point now);

  // Kubernetes mode, loop thread: whether every watch has a complete, current list, and how many
  // times a watch stream ended and was started again so far (a running total; the counter
  // follows it). The two series exist only from the first call, so a `run --file` agent exports
  // no kube series and cannot fire the "not synced" alert.
  void ObserveKube(bool synced, std::uint64_t watch_restarts);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }
  // The registry in the text exposition format (what /metrics serves, without process_*).
  std::string Text() const;

 private:
  // The gauges of one family that the last pass reported; the rest are removed.
  class GaugeSeries {
   public:
    GaugeSeries(prometheus::Family<prometheus::Gauge>& family, std::vector<std::string> label_names)
        : family_(family), label_names_(std::move(label_names)) {}
    void Sync(const std::map<std::vector<std::string>, double>& want);

   private:
    prometheus::Family<prometheus::Gauge>& family_;
    std::vector<std::string> label_names_;
    std::map<std::vector<std::string>, prometheus::Gauge*> live_;
  };

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge* node_conformant_;
  GaugeSeries vip_conformant_;
  GaugeSeries virtualip_refused_;
  GaugeSeries virtualip_edit_refused_;
  GaugeSeries arp_effective_;
  GaugeSeries arp_conformant_;
  GaugeSeries contested_;
  GaugeSeries arp_exposed_;
  GaugeSeries vip_connections_;
  prometheus::Gauge* vips_draining_;
  std::map<std::string, prometheus::Counter*> repairs_;
  std::map<std::string, prometheus::Counter*> errors_;
  prometheus::Counter* kernel_writes_;
  prometheus::Histogram* duration_;
  prometheus::Gauge* last_reconcile_;

  prometheus::Gauge* kube_synced_ = nullptr;
  prometheus::Counter* kube_watch_restarts_ = nullptr;
  std::uint64_t kube_watch_restarts_seen_ = 0;
};

}  // namespace lvsrs
