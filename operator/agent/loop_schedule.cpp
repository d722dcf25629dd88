#include "agent/loop_schedule.h"

#include <algorithm>

namespace lvsrs {

const char* ToString(LoopAction action) {
  switch (action) {
    case LoopAction::FullPass: return "full pass";
    case LoopAction::PollSysctls: return "poll sysctls";
    case LoopAction::Nothing: return "nothing";
  }
  return "?";
}

LoopAction DecideTurn(std::chrono::steady_clock::time_point now, const LoopTimers& timers, bool pass_requested) {
  if (pass_requested || now >= timers.next_full || (timers.next_retry && *timers.next_retry <= now))
    return LoopAction::FullPass;
  // The poll only reads (before the first pass it finds nothing to compare with and asks for
  // one), so it does not need to know whether the source has synced.
  if (now >= timers.next_poll) return LoopAction::PollSysctls;
  return LoopAction::Nothing;
}

std::chrono::milliseconds TimeToSleep(std::chrono::steady_clock::time_point now, const LoopTimers& timers,
                                      bool waiting_for_sync, std::chrono::milliseconds max_sleep) {
  constexpr std::chrono::milliseconds kSyncTick{1000};
  if (waiting_for_sync) return std::min(kSyncTick, max_sleep);
  auto deadline = std::min(timers.next_poll, timers.next_full);
  if (timers.next_retry) deadline = std::min(deadline, *timers.next_retry);
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  return std::clamp(wait, std::chrono::milliseconds(0), max_sleep);
}

}  // namespace lvsrs
