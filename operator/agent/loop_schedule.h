// The agent loop's timetable as pure decisions (AgentLoop::Run does the I/O they ask for): on each
// turn, whether to run a full pass, poll only the ARP sysctls, or do nothing, and then how long to
// wait for an event before the next turn. A full pass is due when something asked for one (a
// netlink notification, Wake(), SIGHUP, a changed source, the first turn), when the full resync
// period ran out, or when an item's retry came due; otherwise the ARP sysctls are polled once a
// resync period, since they send no notifications (reconcile/sysctl_watch.h).
#pragma once

#include <chrono>
#include <optional>

namespace lvsrs {

struct LoopTimers {
  std::chrono::steady_clock::time_point next_poll;  // the next ARP sysctl poll
  std::chrono::steady_clock::time_point next_full;  // the next full resync
  // The earliest item in backoff (Reconciler::NextRetry), if any.
  std::optional<std::chrono::steady_clock::time_point> next_retry;
};

enum class LoopAction {
  FullPass,     // reconcile everything (once the source has synced)
  PollSysctls,  // re-read the ARP sysctls the last pass depended on; a full pass if one moved
  Nothing,
};
const char* ToString(LoopAction action);

// pass_requested: something asked for a full pass since the last one ran.
LoopAction DecideTurn(std::chrono::steady_clock::time_point now, const LoopTimers& timers, bool pass_requested);

// How long to wait for an event (signal, Wake(), netlink) before the next turn: until the earliest
// timer, but never more than max_sleep: a second when something must be polled (a file source,
// the drain request file without inotify), else the resync period, which also bounds how stale
// the liveness stamp gets (/healthz allows 3 periods). Every idle wake costs CPU on every node,
// so a Kubernetes agent turns only for the ARP sysctl poll. While a pass waits for the source to
// sync only an event or a one-second tick can help, so timers do not shorten the wait then.
std::chrono::milliseconds TimeToSleep(std::chrono::steady_clock::time_point now, const LoopTimers& timers,
                                      bool waiting_for_sync,
                                      std::chrono::milliseconds max_sleep = std::chrono::milliseconds(1000));

}  // namespace lvsrs
