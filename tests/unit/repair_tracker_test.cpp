#include "agent/repair_tracker.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const ItemKey kA = ItemKey::OfAddress(*IpAddress::Parse("192.0.2.10"));
const ItemKey kB = ItemKey::OfAddress(*IpAddress::Parse("192.0.2.11"));
const ItemKey kSysctl = ItemKey::OfSysctl(SysctlKey{"all", ArpKey::Ignore});

TEST(RepairTracker, ThirdRepairWithinTheWindowMakesAnItemContested) {
  RepairTracker t;
  const auto t0 = RepairTracker::Clock::time_point{} + seconds(100);
  EXPECT_FALSE(t.Repaired(kA, t0));
  EXPECT_FALSE(t.Repaired(kA, t0 + seconds(1)));
  EXPECT_TRUE(t.Contested().empty());
  EXPECT_TRUE(t.Repaired(kA, t0 + seconds(2)));
  EXPECT_EQ(t.Contested(), (std::map<ItemKey, int>{{kA, 3}}));
  EXPECT_FALSE(t.Repaired(kA, t0 + seconds(3))) << "reported once, not on every repair";
}

TEST(RepairTracker, RepairsFarApartAreNotAFight) {
  RepairTracker t;
  const auto t0 = RepairTracker::Clock::time_point{} + seconds(100);
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(t.Repaired(kSysctl, t0 + seconds(31 * i)));
  EXPECT_TRUE(t.Contested().empty());
  EXPECT_TRUE(t.Due(kSysctl, t0 + seconds(31 * 9)));
}

TEST(RepairTracker, BackoffDoublesUpToOneSecondAndOthersAreUnaffected) {
  RepairTracker t;
  auto now = RepairTracker::Clock::time_point{} + seconds(100);
  for (int i = 0; i < 3; ++i) t.Repaired(kA, now);
  EXPECT_FALSE(t.Due(kA, now + milliseconds(49)));
  EXPECT_EQ(t.NextDue(), now + milliseconds(50));
  EXPECT_TRUE(t.Due(kA, now + milliseconds(50)));
  EXPECT_TRUE(t.Due(kB, now)) << "backoff is per item";
  for (int i = 0; i < 10; ++i) t.Repaired(kA, now);
  EXPECT_FALSE(t.Due(kA, now + milliseconds(999)));
  EXPECT_TRUE(t.Due(kA, now + seconds(1)));
  t.StartPass();
  EXPECT_FALSE(t.NextDue().has_value());
}

TEST(RepairTracker, QuietForAWindowEndsTheFight) {
  RepairTracker t;
  const auto t0 = RepairTracker::Clock::time_point{} + seconds(100);
  for (int i = 0; i < 3; ++i) t.Repaired(kA, t0);
  EXPECT_TRUE(t.Expire(t0 + seconds(10)).empty());
  EXPECT_EQ(t.Expire(t0 + seconds(31)), (std::vector<ItemKey>{kA}));
  EXPECT_TRUE(t.Contested().empty());
  EXPECT_TRUE(t.Due(kA, t0 + seconds(31)));
}

// Passes no longer come every resync period by themselves, so the loop wakes when a repair
// leaves the window: at that pass Expire() ends the contest.
TEST(RepairTracker, NextExpiryIsWhenTheOldestRepairLeavesTheWindow) {
  RepairTracker t;
  EXPECT_FALSE(t.NextExpiry().has_value()) << "nothing tracked, nothing to wake for";
  const auto t0 = RepairTracker::Clock::time_point{} + seconds(100);
  for (int i = 0; i < 3; ++i) t.Repaired(kA, t0 + seconds(i));
  t.Repaired(kB, t0 + seconds(5));
  ASSERT_TRUE(t.NextExpiry().has_value());
  const auto first = *t.NextExpiry();
  EXPECT_GT(first, t0 + seconds(30));
  EXPECT_TRUE(t.Expire(first - milliseconds(1)).empty());
  EXPECT_EQ(t.Contested().count(kA), 1u);
  t.Expire(first);
  EXPECT_GT(*t.NextExpiry(), first) << "the next repair in line";
  const auto calmed = t.Expire(t0 + seconds(40));
  EXPECT_EQ(calmed, (std::vector<ItemKey>{kA}));
  t.Expire(t0 + seconds(40));
  EXPECT_FALSE(t.NextExpiry().has_value());
}

}  // namespace
}  // namespace lvsrs
