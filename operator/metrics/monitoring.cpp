#include "metrics/monitoring.h"

#include <civetweb.h>
#include <prometheus/exposer.h>

#include <algorithm>
#include <stdexcept>

#include "agent/log.h"
#include "metrics/health_server.h"
#include "metrics/process_stats.h"

namespace lvsrs {
namespace {

class Endpoints : public Monitoring::Serving {
 public:
  std::shared_ptr<ProcessCollector> process = std::make_shared<ProcessCollector>();
  std::unique_ptr<prometheus::Exposer> exposer;
  std::unique_ptr<HealthServer> health;
};

std::unique_ptr<prometheus::Exposer> StartExposer(const BindAddress& bind) {
  std::string why = "nothing to listen on";
  for (const auto& ports : bind.CivetListeningPorts()) {
    try {
      return std::make_unique<prometheus::Exposer>(ports, 2);
    } catch (const std::exception& e) {
      why = e.what();
    }
  }
  throw std::runtime_error("cannot serve metrics on --metrics-bind-address " + bind.ToString() + ": " + why);
}

}  // namespace

bool HttpServerSupportsIpv6() { return mg_check_feature(8) != 0; }  // 8: USE_IPV6

MonitoringOptions MonitoringOptions::Disabled() {
  MonitoringOptions o;
  o.metrics.disabled = true;
  o.health.disabled = true;
  return o;
}

bool MonitoringOptionsFromFlags(const std::optional<std::string>& metrics_bind,
                                const std::optional<std::string>& health_bind, std::chrono::milliseconds resync_period,
                                MonitoringOptions& out, std::string& error) {
  std::string why;
  auto m = ParseBindAddress(metrics_bind.value_or(kDefaultMetricsBindAddress), why);
  if (!m) {
    error = "--metrics-bind-address " + why;
    return false;
  }
  auto h = ParseBindAddress(health_bind.value_or(kDefaultHealthProbeBindAddress), why);
  if (!h) {
    error = "--health-probe-bind-address " + why;
    return false;
  }
  // Debian's civetweb (under prometheus-cpp's exposer too) is built without IPv6: say so now
  // rather than fail to bind later. ":PORT" still works, on IPv4.
  if (!HttpServerSupportsIpv6()) {
    for (const auto* b : {&*m, &*h}) {
      if (b->host.find(':') != std::string::npos) {
        error = std::string(b == &*m ? "--metrics-bind-address" : "--health-probe-bind-address") + " " + b->ToString() +
                ": this build's HTTP server (civetweb) has no IPv6 support; use an IPv4 address";
        return false;
      }
    }
  }
  // Two listeners on one port: the second would fail to bind (or, with "every address" and one
  // address mixed, steal some connections), so say so before starting anything.
  if (!m->disabled && !h->disabled && m->port == h->port &&
      (m->host == h->host || m->host.empty() || h->host.empty())) {
    error = "--metrics-bind-address and --health-probe-bind-address must use different ports";
    return false;
  }
  out.metrics = *m;
  out.health = *h;
  out.live_within = std::max<std::chrono::milliseconds>(std::chrono::seconds(30), 3 * resync_period);
  return true;
}

Monitoring::Monitoring(MonitoringOptions options) : options_(std::move(options)), metrics_(LVSRS_VERSION) {}

std::unique_ptr<Monitoring::Serving> Monitoring::Serve(AgentLoop& loop) {
  loop.AddObserver([m = &metrics_](const ReconcileOutcome& o) { m->Observe(o); });
  loop.AddUnchangedObserver([m = &metrics_] { m->Unchanged(std::chrono::system_clock::now()); });
  auto e = std::make_unique<Endpoints>();
  if (!options_.metrics.disabled) {
    e->exposer = StartExposer(options_.metrics);
    e->exposer->RegisterCollectable(metrics_.registry());
    e->exposer->RegisterCollectable(e->process);
    LogInfo("serving metrics on " + options_.metrics.ToString() + "/metrics");
  }
  if (!options_.health.disabled) {
    try {
      e->health = std::make_unique<HealthServer>(options_.health, loop.health(), options_.live_within);
    } catch (const std::exception& ex) {
      throw std::runtime_error(std::string("--health-probe-bind-address: ") + ex.what());
    }
    LogInfo("serving /healthz and /readyz on " + options_.health.ToString());
  }
  return e;
}

}  // namespace lvsrs
