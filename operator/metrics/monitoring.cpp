#include "metrics/monitoring.h"

#include <prometheus/text_serializer.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "agent/log.h"
#include "metrics/bounded_tcp_server.h"
#include "metrics/health_server.h"
#include "metrics/http_exchange.h"
#include "metrics/process_stats.h"

namespace lvsrs {
namespace {

// /metrics and the probes are two BoundedTcpServers, each with its own thread, rather than one
// poll loop for both: the text of a scrape is built on the serving thread (registry Collect and
// serialisation, ~1 ms of CPU for 1,000 VIPs, more on a loaded node), and a probe must never wait
// behind it. Idle, both threads sleep in poll() with no timeout, where civetweb's two contexts
// (prometheus-cpp's Exposer and the health server) each woke a master thread every second and
// kept six threads.
class Endpoints : public Monitoring::Serving {
 public:
  std::shared_ptr<ProcessCollector> process = std::make_shared<ProcessCollector>();
  std::unique_ptr<BoundedTcpServer> metrics;
  std::unique_ptr<HealthServer> health;
};

// The exposition format, uncompressed (prometheus-cpp's Exposer gzipped it when asked; a page of
// 1,000 VIPs is ~70 KB, scraped every 15-60 s, not worth a library).
HttpAnswer MetricsPage(const prometheus::Registry& registry, const ProcessCollector& process) {
  auto families = registry.Collect();
  for (auto& f : process.Collect()) families.push_back(std::move(f));
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return {200, out.str(), "text/plain; version=0.0.4; charset=utf-8"};
}

}  // namespace

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
    // Prometheus keeps one connection per target; a few more for people with curl. A scrape's
    // deadline is Prometheus' default scrape_timeout.
    ListenerLimits limits;
    limits.max_connections = 16;
    limits.max_per_peer = 4;
    limits.deadline = std::chrono::seconds(10);
    try {
      e->metrics = std::make_unique<BoundedTcpServer>(
          "metrics", options_.metrics, limits,
          [registry = metrics_.registry(), process = e->process](const Exchange& ex) {
            return ServeHttp(ex.received, ex.ended, [&](std::string_view path) -> HttpAnswer {
              if (path == "/metrics") return MetricsPage(*registry, *process);
              return {404, "not found: GET /metrics\n"};
            });
          });
    } catch (const std::exception& ex) {
      throw std::runtime_error(std::string("--metrics-bind-address: ") + ex.what());
    }
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
