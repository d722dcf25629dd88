// A TimeSource that moves only when the test says so.
#pragma once

#include <chrono>

#include "agent/time_source.h"

namespace lvsrs::testing {

class FakeTime : public TimeSource {
 public:
  // Starts at an arbitrary, fixed point (not the epoch: "zero" would look like "never" to code
  // that uses a default time_point for that).
  FakeTime()
      : steady_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1000)),
        wall_(std::chrono::system_clock::time_point{} + std::chrono::seconds(1'800'000'000)) {}
  std::chrono::steady_clock::time_point Steady() const override { return steady_; }
  std::chrono::system_clock::time_point Wall() const override { return wall_; }
  void Advance(std::chrono::steady_clock::duration d) {
    steady_ += d;
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

 private:
  std::chrono::steady_clock::time_point steady_;
  std::chrono::system_clock::time_point wall_;
};

}  // namespace lvsrs::testing
