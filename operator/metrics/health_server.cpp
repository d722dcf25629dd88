#include "metrics/health_server.h"

#include <stdexcept>

#include "metrics/http_exchange.h"

namespace lvsrs {
namespace {

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HttpAnswer Answer(const ProbeResult& r) { return {r.ok ? 200 : 503, r.body + "\n"}; }

}  // namespace

ProbeResult Liveness(std::int64_t now, std::int64_t last_loop, std::int64_t started,
                     std::chrono::milliseconds max_age) {
  const std::int64_t since = last_loop > 0 ? last_loop : started;
  const std::int64_t age = now - since;
  if (age <= max_age.count()) return {true, "ok"};
  return {false, std::string(last_loop > 0 ? "reconcile loop last turned " : "reconcile loop has not started in ") +
                     std::to_string(age / 1000) + "s ago, limit " + std::to_string(max_age.count() / 1000) + "s"};
}

ProbeResult Readiness(bool ready) {
  if (ready) return {true, "ok"};
  return {false, "not ready: VirtualIPs not synced or first reconcile pass not done"};
}

HealthServer::HealthServer(const BindAddress& bind, const AgentHealth& health, std::chrono::milliseconds max_age)
    : health_(health), max_age_(max_age), started_unix_ms_(NowUnixMs()) {
  // The kubelet sends one short GET and waits up to its probe's timeoutSeconds (1 s by default).
  ListenerLimits limits;
  limits.max_connections = 64;
  limits.max_per_peer = 16;
  server_ = std::make_unique<BoundedTcpServer>("health probes", bind, limits, [this](const Exchange& e) {
    return ServeHttp(e.received, e.ended, [this](std::string_view path) -> HttpAnswer {
      if (path == "/healthz")
        return Answer(Liveness(NowUnixMs(), health_.last_loop_unix_ms.load(), started_unix_ms_, max_age_));
      if (path == "/readyz") return Answer(Readiness(health_.ready.load()));
      return {404, "not found: GET /healthz or /readyz\n"};
    });
  });
}

HealthServer::~HealthServer() = default;

std::vector<int> HealthServer::ports() const { return {server_->port()}; }

}  // namespace lvsrs
