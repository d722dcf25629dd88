// The single-threaded event loop around the Reconciler. Wakes on netlink notifications
// (addresses, routes, links), on Wake() from other threads (a new VirtualIP), on a retry
// coming due, and every resync period (ARP sysctls have no notifications); stops on
// SIGINT/SIGTERM without touching the kernel: a restart must not blip traffic.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "agent/desired_source.h"
#include "agent/reconciler.h"

namespace lvsrs {

struct AgentHealth {
  std::atomic<std::int64_t> last_loop_unix_ms{0};  // liveness: the loop turned recently
  std::atomic<bool> ready{false};                  // synced and a first pass done
  std::atomic<bool> conformant{false};
};

class AgentLoop {
 public:
  struct Options {
    std::chrono::milliseconds resync_period{2000};
    bool once = false;  // converge, verify, exit: 0 when conformant, 1 when not
  };
  AgentLoop(Reconciler& reconciler, DesiredSource& source, Options options);
  ~AgentLoop();
  AgentLoop(const AgentLoop&) = delete;
  AgentLoop& operator=(const AgentLoop&) = delete;

  void AddObserver(std::function<void(const ReconcileOutcome&)> observer);
  void Wake();  // thread-safe
  // Blocks SIGINT/SIGTERM must already be blocked in every thread (BlockStopSignals()).
  int Run();
  AgentHealth& health() { return health_; }

 private:
  ReconcileOutcome Pass();

  Reconciler& reconciler_;
  DesiredSource& source_;
  Options options_;
  int wake_fd_ = -1;
  std::vector<std::function<void(const ReconcileOutcome&)>> observers_;
  AgentHealth health_;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and threads it creates later), so
// that the loop receives them through a signalfd. Call first thing in main.
void BlockStopSignals();

}  // namespace lvsrs
