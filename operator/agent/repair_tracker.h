// Drift that comes back right after every repair: a loop deleting a VIP as fast as it can (a
// drift storm), or another tool fighting the operator (a config manager setting arp_ignore back).
// Repairing each time at full speed burns CPU on a tug of war nobody sees. An item repaired
// `threshold` times within `window` is "contested": the Reconciler logs it once, reports it in
// ReconcileOutcome::contested (for metrics, Events and status) and repairs it with exponential
// backoff (RetryBackoff's schedule: first_delay, doubling per repair beyond the threshold, capped at
// max_delay) until it stays put for a window. Pure bookkeeping: the caller passes the clock.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/retry_backoff.h"
#include "reconcile/item_key.h"

namespace lvsrs {

class RepairTracker {
 public:
  using Clock = std::chrono::steady_clock;
  struct Options {
    int threshold = 3;
    Clock::duration window = std::chrono::seconds(30);
    RetryBackoff::Policy backoff{std::chrono::milliseconds(50), std::chrono::seconds(1)};
  };
  RepairTracker() : RepairTracker(Options{}) {}
  explicit RepairTracker(Options options) : options_(options) {}

  // Whether a repair of item may run now. When not, remembers when it may (NextDue).
  bool Due(const ItemKey& item, Clock::time_point now);
  // Records a repair. Returns true when this repair made the item contested.
  bool Repaired(const ItemKey& item, Clock::time_point now);
  // Forgets repairs older than the window; returns items that stopped being contested.
  std::vector<ItemKey> Expire(Clock::time_point now);
  // Contested items -> repairs within the window.
  std::map<ItemKey, int> Contested() const;
  // The earliest time a repair held back by Due() may run; cleared by StartPass().
  std::optional<Clock::time_point> NextDue() const { return next_due_; }
  void StartPass() { next_due_.reset(); }
  // When Expire() will next forget a repair (and may end a contest): the loop runs a pass
  // then, since passes no longer come every resync period by themselves.
  std::optional<Clock::time_point> NextExpiry() const;

 private:
  struct Item {
    std::deque<Clock::time_point> repairs;  // within the window
    Clock::time_point next_allowed{};
    bool contested = false;
  };
  Options options_;
  std::map<ItemKey, Item> items_;
  std::optional<Clock::time_point> next_due_;
};

}  // namespace lvsrs
