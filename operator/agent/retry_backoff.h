// Exponential backoff, the one retry policy of the operator: a failed kernel write retried by the
// Reconciler, a contested repair held back by the RepairTracker, an informer reconnecting to the
// API server. The delay before attempt n (0-based) is first_delay * 2^n, at most max_delay; with
// jitter it is multiplied by a factor in [0.5, 1.5), so that thousands of agents that lost the
// same API server do not come back in lockstep. Pure: the caller passes the time, and the jitter
// comes from a seeded generator, so tests see exact schedules.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace lvsrs {

class RetryBackoff {
 public:
  using Clock = std::chrono::steady_clock;
  struct Policy {
    Clock::duration first_delay;
    Clock::duration max_delay;
    bool jitter = false;
    // The un-jittered delay before attempt n: first_delay * 2^n, capped.
    Clock::duration Delay(int attempt) const {
      Clock::duration d = first_delay;
      for (int i = 0; i < attempt && d < max_delay; ++i) d *= 2;
      return std::min(d, max_delay);
    }
  };

  explicit RetryBackoff(Policy policy, std::uint64_t seed = 0) : policy_(policy), rng_(seed) {}

  // Counts a failure and returns how long to wait before the next attempt.
  Clock::duration NextDelay() {
    Clock::duration d = policy_.Delay(failures_++);
    if (policy_.jitter) {
      // [0.5, 1.5) from the top 53 bits of the generator.
      const double factor = 0.5 + static_cast<double>(NextRandom() >> 11) / static_cast<double>(1ULL << 53);
      d = std::chrono::duration_cast<Clock::duration>(
          std::chrono::duration<double, Clock::period>(static_cast<double>(d.count()) * factor));
    }
    return d;
  }
  // Counts a failure at `now`: the next attempt is due after NextDelay().
  void Failed(Clock::time_point now) { next_ = now + NextDelay(); }
  // Whether the next attempt may run at `now` (always, before any failure).
  bool Due(Clock::time_point now) const { return next_ <= now; }
  Clock::time_point next() const { return next_; }
  int failures() const { return failures_; }
  void Reset() {
    failures_ = 0;
    next_ = {};
  }

 private:
  // splitmix64: eight bytes of state, good enough to spread reconnects.
  std::uint64_t NextRandom() {
    std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  Policy policy_;
  int failures_ = 0;
  Clock::time_point next_{};
  std::uint64_t rng_;
};

}  // namespace lvsrs
