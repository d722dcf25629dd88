// The agent loop's timetable (agent/loop_schedule.h) as tables, and an idle hour simulated with
// it: what the loop does at each turn and how long it sleeps. tests/kernel runs the loop itself
// against the real kernel.
#include "agent/loop_schedule.h"

#include <gtest/gtest.h>

#include <map>

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Time = std::chrono::steady_clock::time_point;

const Time t0 = Time{} + std::chrono::hours(1000);

struct Turn {
  const char* what;
  Time now;
  LoopTimers timers;
  bool pass_requested;
  LoopAction want;
};

TEST(LoopSchedule, WhatATurnDoes) {
  const LoopTimers idle{t0 + seconds(2), t0 + seconds(300), std::nullopt};
  const std::vector<Turn> table = {
      {"nothing due", t0, idle, false, LoopAction::Nothing},
      {"a wake-up", t0, idle, true, LoopAction::FullPass},
      {"the sysctl poll is due", t0 + seconds(2), idle, false, LoopAction::PollSysctls},
      {"the full resync is due", t0 + seconds(300), idle, false, LoopAction::FullPass},
      {"full resync and poll both due: the pass covers the poll",
       t0 + seconds(300),
       {t0 + seconds(300), t0 + seconds(300), std::nullopt},
       false,
       LoopAction::FullPass},
      {"a retry came due",
       t0 + seconds(1),
       {t0 + seconds(2), t0 + seconds(300), t0 + milliseconds(500)},
       false,
       LoopAction::FullPass},
      {"a retry not yet due",
       t0,
       {t0 + seconds(2), t0 + seconds(300), t0 + milliseconds(500)},
       false,
       LoopAction::Nothing},
      {"a retry due exactly now", t0, {t0 + seconds(2), t0 + seconds(300), t0}, false, LoopAction::FullPass},
      {"a retry due and the poll too: the pass covers the poll",
       t0 + seconds(2),
       {t0 + seconds(2), t0 + seconds(300), t0 + seconds(1)},
       false,
       LoopAction::FullPass},
      {"a wake-up while the poll is due", t0 + seconds(5), idle, true, LoopAction::FullPass},
  };
  for (const auto& t : table)
    EXPECT_EQ(ToString(DecideTurn(t.now, t.timers, t.pass_requested)), std::string(ToString(t.want))) << t.what;
}

struct Sleep {
  const char* what;
  Time now;
  LoopTimers timers;
  bool waiting_for_sync;
  milliseconds want;
};

TEST(LoopSchedule, HowLongItSleeps) {
  const std::vector<Sleep> table = {
      {"until the poll, at most a second",
       t0,
       {t0 + seconds(2), t0 + seconds(300), std::nullopt},
       false,
       milliseconds(1000)},
      {"until the poll when it is closer",
       t0,
       {t0 + milliseconds(300), t0 + seconds(300), std::nullopt},
       false,
       milliseconds(300)},
      {"until the full resync when it comes first",
       t0,
       {t0 + seconds(2), t0 + milliseconds(40), std::nullopt},
       false,
       milliseconds(40)},
      {"until a retry before both",
       t0,
       {t0 + seconds(2), t0 + seconds(300), t0 + milliseconds(250)},
       false,
       milliseconds(250)},
      {"a retry after the poll does not lengthen it",
       t0,
       {t0 + milliseconds(100), t0 + seconds(300), t0 + milliseconds(700)},
       false,
       milliseconds(100)},
      {"a timer already past: no sleep",
       t0 + seconds(3),
       {t0 + seconds(2), t0 + seconds(300), std::nullopt},
       false,
       milliseconds(0)},
      {"waiting for the source to sync: a second, whatever is due",
       t0,
       {t0 + milliseconds(10), t0 + seconds(300), t0 + milliseconds(5)},
       true,
       milliseconds(1000)},
  };
  for (const auto& s : table) EXPECT_EQ(TimeToSleep(s.now, s.timers, s.waiting_for_sync), s.want) << s.what;
}

// An idle node for an hour, turn by turn, as AgentLoop::Run drives the schedule when the sysctls
// never move (resync period 2 s, full resync period 5 min), sleeping at most max_sleep: how many
// turns of each kind. A turn that would not sleep (a busy loop) fails the test.
std::map<LoopAction, int> IdleHour(milliseconds max_sleep) {
  const milliseconds resync(2000), full_resync(300000);
  Time now = t0;
  LoopTimers timers{now, now, std::nullopt};
  bool pass_requested = true;
  std::map<LoopAction, int> count;
  while (now < t0 + std::chrono::hours(1)) {
    const LoopAction action = DecideTurn(now, timers, pass_requested);
    ++count[action];
    if (action == LoopAction::PollSysctls) timers.next_poll = now + resync;
    if (action == LoopAction::FullPass) {
      pass_requested = false;
      timers.next_poll = now + resync;
      timers.next_full = now + full_resync;
    }
    const milliseconds sleep = TimeToSleep(now, timers, false, max_sleep);
    if (sleep <= milliseconds(0)) {
      ADD_FAILURE() << "a busy loop at turn " << count[action];
      break;
    }
    now += sleep;
  }
  return count;
}

// A full pass at the start and then once per full resync period, a sysctl poll every resync
// period in between, and never a sleep past the next thing due.
TEST(LoopSchedule, AnIdleHourIsAPollEveryPeriodAndAPassEveryFullPeriod) {
  auto count = IdleHour(milliseconds(1000));
  EXPECT_EQ(count[LoopAction::FullPass], 12);
  // 149 polls between two passes (the 150th coincides with the pass), twelve times.
  EXPECT_EQ(count[LoopAction::PollSysctls], 12 * 149);
  // The rest are the once-a-second liveness turns.
  EXPECT_EQ(count[LoopAction::Nothing], 12 * 150);
}

// A Kubernetes agent (nothing to poll, drain requests through inotify) sleeps up to the resync
// period: the same polls and passes as above, without the once-a-second turns in between.
TEST(LoopSchedule, WithNothingToPollAnIdleHourHasNoTurnButPollsAndPasses) {
  const milliseconds resync(2000);
  auto count = IdleHour(resync);
  EXPECT_EQ(count[LoopAction::FullPass], 12);
  EXPECT_EQ(count[LoopAction::PollSysctls], 12 * 149);
  EXPECT_EQ(count[LoopAction::Nothing], 0);
  // Waiting for the first sync still looks every second.
  EXPECT_EQ(TimeToSleep(t0, LoopTimers{t0, t0, std::nullopt}, true, resync), milliseconds(1000));
}

// A retry that comes due wakes the loop for a pass on time, not at the next poll.
TEST(LoopSchedule, ARetryIsRunWhenItComesDue) {
  Time now = t0;
  LoopTimers timers{now + seconds(2), now + seconds(300), now + milliseconds(1300)};
  now += TimeToSleep(now, timers, false);
  EXPECT_EQ(DecideTurn(now, timers, false), LoopAction::Nothing) << "one-second liveness turn";
  now += TimeToSleep(now, timers, false);
  EXPECT_EQ(now, t0 + milliseconds(1300));
  EXPECT_EQ(DecideTurn(now, timers, false), LoopAction::FullPass);
}

}  // namespace
}  // namespace lvsrs
