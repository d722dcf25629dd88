// What `run` needs from this folder, in two steps so that the registry exists before the loop
// and the listeners stop before the loop is destroyed:
//
//   MonitoringOptions mo;                        // from --metrics-bind-address and
//   MonitoringOptionsFromFlags(...);             //      --health-probe-bind-address
//   Monitoring monitoring(mo);                   // registry; monitoring.metrics() for ObserveKube
//   AgentLoop loop(...);
//   const auto serving = monitoring.Serve(loop); // observer + /metrics + /healthz, /readyz
//   return loop.Run();
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_loop.h"
#include "metrics/bind_address.h"
#include "metrics/operator_metrics.h"

namespace lvsrs {

// Outside the 9090-10xxx range of Prometheus' "Default port allocations" list (exhausted up to
// 9999 and continuing above 10000), and away from the kubelet and kube-proxy (10248-10259).
inline constexpr const char* kDefaultMetricsBindAddress = ":8470";
inline constexpr const char* kDefaultHealthProbeBindAddress = ":8471";

struct MonitoringOptions {
  BindAddress metrics;
  BindAddress health;
  // /healthz fails when the loop has not turned for this long.
  std::chrono::milliseconds live_within{30000};
  static MonitoringOptions Disabled();
};

// Flag values (nullopt: the default) -> options. False with error set on a bad value, and when
// both listeners would share one port.
bool MonitoringOptionsFromFlags(const std::optional<std::string>& metrics_bind,
                                const std::optional<std::string>& health_bind, std::chrono::milliseconds resync_period,
                                MonitoringOptions& out, std::string& error);

class Monitoring {
 public:
  explicit Monitoring(MonitoringOptions options);
  OperatorMetrics& metrics() { return metrics_; }

  // Stops the listeners when destroyed.
  class Serving {
   public:
    virtual ~Serving() = default;
  };
  // Observes every pass of loop and starts the listeners that are not disabled. Throws
  // std::runtime_error naming the flag and address when one cannot listen.
  std::unique_ptr<Serving> Serve(AgentLoop& loop);

 private:
  MonitoringOptions options_;
  OperatorMetrics metrics_;
};

}  // namespace lvsrs
