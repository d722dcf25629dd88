#include "agent/retry_backoff.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RetryBackoff, DoublesFromTheFirstDelayUpToTheCap) {
  RetryBackoff b(RetryBackoff::Policy{milliseconds(200), seconds(30)});
  const auto t0 = RetryBackoff::Clock::time_point{} + seconds(100);
  EXPECT_TRUE(b.Due(t0)) << "nothing failed yet";
  std::vector<RetryBackoff::Clock::duration> delays;
  auto now = t0;
  for (int i = 0; i < 10; ++i) {
    b.Failed(now);
    delays.push_back(b.next() - now);
    EXPECT_FALSE(b.Due(b.next() - milliseconds(1)));
    EXPECT_TRUE(b.Due(b.next()));
    now = b.next();
  }
  const std::vector<RetryBackoff::Clock::duration> want = {
      milliseconds(200),  milliseconds(400),   milliseconds(800),   milliseconds(1600), milliseconds(3200),
      milliseconds(6400), milliseconds(12800), milliseconds(25600), seconds(30),        seconds(30)};
  EXPECT_EQ(delays, want);
  EXPECT_EQ(b.failures(), 10);
  b.Reset();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_TRUE(b.Due(t0));
}

TEST(RetryBackoff, PolicyDelayIsThePureSchedule) {
  const RetryBackoff::Policy p{milliseconds(50), seconds(1)};
  EXPECT_EQ(p.Delay(0), milliseconds(50));
  EXPECT_EQ(p.Delay(4), milliseconds(800));
  EXPECT_EQ(p.Delay(5), seconds(1));
  EXPECT_EQ(p.Delay(1000), seconds(1)) << "no overflow far beyond the cap";
}

TEST(RetryBackoff, JitterStaysWithinHalfAndOneAndAHalfAndIsReproducible) {
  const RetryBackoff::Policy p{milliseconds(100), milliseconds(1000), true};
  RetryBackoff a(p, 7), b(p, 7);
  for (int i = 0; i < 20; ++i) {
    const auto d = a.NextDelay();
    EXPECT_EQ(d, b.NextDelay()) << "same seed, same schedule";
    const auto base = p.Delay(i);
    EXPECT_GE(d, base / 2);
    EXPECT_LT(d, base * 3 / 2);
  }
}

}  // namespace
}  // namespace lvsrs
