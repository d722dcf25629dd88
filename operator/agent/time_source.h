// The clocks, injected where a decision reads them (the agent loop's schedule, Event rate
// limits, the summariser's Lease times), so that tests can drive time instead of sleeping.
// RealTime() is the default everywhere; tests/support/fake_time.h holds a settable one.
#pragma once

#include <chrono>

namespace lvsrs {

class TimeSource {
 public:
  virtual ~TimeSource() = default;
  // Monotonic: deadlines, intervals, backoff.
  virtual std::chrono::steady_clock::time_point Steady() const = 0;
  // Wall clock: timestamps other programs read (status times, Lease renewals, liveness).
  virtual std::chrono::system_clock::time_point Wall() const = 0;
};

class RealTimeSource final : public TimeSource {
 public:
  std::chrono::steady_clock::time_point Steady() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point Wall() const override { return std::chrono::system_clock::now(); }
};

// The process's real clocks (stateless, so one shared instance is safe from any thread).
inline TimeSource& RealTime() {
  static RealTimeSource real;
  return real;
}

}  // namespace lvsrs
