// The single-threaded event loop around the Reconciler. A full pass runs on netlink
// notifications (addresses, routes, links; an overflow too), on Wake() from other threads (a
// new VirtualIP), on SIGHUP, on a retry coming due, and every full resync period as a safety
// net. Every resync period in between it polls only the ARP sysctls (they have no
// notifications; see reconcile/sysctl_watch.h) and runs a full pass only if one moved: an idle
// node then costs a few procfs reads per period instead of four netlink dumps and a diff, both
// as large as its VIPs. Stops on SIGINT/SIGTERM without touching the kernel: a restart must not
// blip traffic.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <vector>

#include "agent/desired_source.h"
#include "agent/reconciler.h"
#include "agent/time_source.h"

namespace lvsrs {

struct AgentHealth {
  std::atomic<std::int64_t> last_loop_unix_ms{0};  // liveness: the loop turned recently
  std::atomic<bool> ready{false};                  // synced and a first pass done
  std::atomic<bool> conformant{false};
};

class AgentLoop {
 public:
  struct Options {
    std::chrono::milliseconds resync_period{2000};         // ARP sysctl poll
    std::chrono::milliseconds full_resync_period{300000};  // full pass even without a wake-up
    bool once = false;                                     // converge, verify, exit: 0 when conformant, 1 when not
  };
  // time: the clock the schedule and the liveness stamp read (tests pass a fake one).
  AgentLoop(Reconciler& reconciler, DesiredSource& source, Options options, TimeSource& time = RealTime());
  ~AgentLoop();
  AgentLoop(const AgentLoop&) = delete;
  AgentLoop& operator=(const AgentLoop&) = delete;

  // Called after every full pass.
  void AddObserver(std::function<void(const ReconcileOutcome&)> observer);
  // Called after every ARP sysctl poll that found the kernel as the last full pass left it, so
  // that "last confirmed" timestamps and retries of reports keep their resync-period cadence.
  void AddUnchangedObserver(std::function<void()> observer);
  void Wake();  // thread-safe
  // Blocks SIGINT/SIGTERM must already be blocked in every thread (BlockStopSignals()).
  int Run();
  AgentHealth& health() { return health_; }

 private:
  ReconcileOutcome Pass();

  Reconciler& reconciler_;
  DesiredSource& source_;
  Options options_;
  TimeSource& time_;
  int wake_fd_ = -1;
  std::vector<std::function<void(const ReconcileOutcome&)>> observers_;
  std::vector<std::function<void()>> unchanged_observers_;
  AgentHealth health_;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread (and threads it creates later), so
// that the loop receives them through a signalfd. Call first thing in main.
void BlockStopSignals();

}  // namespace lvsrs
