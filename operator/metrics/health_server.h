// /healthz and /readyz for the kubelet (liveness and readiness probes), on their own listener
// so that a slow or failing metrics scrape can never fail a probe. Handlers only read the loop's
// atomics (AgentHealth): they cannot block the reconcile loop, and a stuck loop shows as a
// failing /healthz rather than a hung one.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_loop.h"
#include "metrics/bind_address.h"
#include "metrics/bounded_tcp_server.h"

namespace lvsrs {

struct ProbeResult {
  bool ok = false;   // 200 when true, 503 when not
  std::string body;  // one line, for whoever reads `kubectl describe pod`
};

// Alive while the loop turned within max_age. The loop turns at least once a resync period even
// when idle (max_age is at least 3 of them), so only a pass stuck in the kernel (or a deadlock)
// makes it stale. Before the loop's
// first turn, the server's own start time stands in for it.
ProbeResult Liveness(std::int64_t now_unix_ms, std::int64_t last_loop_unix_ms, std::int64_t started_unix_ms,
                     std::chrono::milliseconds max_age);
// Ready once the desired state has synced and a first reconcile pass is done.
ProbeResult Readiness(bool ready);

// A BoundedTcpServer of its own (one thread, sleeping in poll() while idle), separate from the
// /metrics one: a probe never waits behind a scrape's serialisation or a slow scraper's socket.
class HealthServer {
 public:
  // Throws std::runtime_error naming the address when it cannot listen.
  HealthServer(const BindAddress& bind, const AgentHealth& health, std::chrono::milliseconds max_age);
  ~HealthServer();
  HealthServer(const HealthServer&) = delete;
  HealthServer& operator=(const HealthServer&) = delete;
  std::vector<int> ports() const;  // the bound ports (tests)

 private:
  const AgentHealth& health_;
  std::chrono::milliseconds max_age_;
  std::int64_t started_unix_ms_;
  std::unique_ptr<BoundedTcpServer> server_;
};

}  // namespace lvsrs
