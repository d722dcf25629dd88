// How the Kubernetes side of the operator (watches of VirtualIPs and this Node) reports its
// state to metrics, without depending on prometheus-cpp: the kube code holds a KubeMetrics&
// and calls it from any thread. OperatorMetrics (operator_metrics.h) implements it;
// NullKubeMetrics is for callers that serve no metrics (run --once, tests).
//
//   lvs_rs_kube_synced                 1 while every watch has a complete, current list
//   lvs_rs_kube_watch_restarts_total   watches re-established (expiry, 410 Gone, errors)
//
// Both series exist only once Kubernetes mode asked for them (OperatorMetrics::Kube()), so a
// `run --file` agent exports no kube series and cannot fire the "not synced" alert.
#pragma once

namespace lvsrs {

class KubeMetrics {
 public:
  virtual ~KubeMetrics() = default;
  // true after the initial list of every watched resource, false whenever a watch is broken
  // and its list must be redone. Thread-safe.
  virtual void SetSynced(bool synced) = 0;
  // A watch stream ended and was started again (timeout, 410 Gone, connection error). Thread-safe.
  virtual void WatchRestarted() = 0;
};

class NullKubeMetrics final : public KubeMetrics {
 public:
  void SetSynced(bool) override {}
  void WatchRestarted() override {}
};

}  // namespace lvsrs
