#include "model/rfc3339.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

using namespace std::chrono;

// 2026-11-25T21:00:07Z
const system_clock::time_point kWhole{seconds(1795640407)};

TEST(Rfc3339, FormatsUtcWithTheFractionEachReaderExpects) {
  const auto t = kWhole + microseconds(123456);
  EXPECT_EQ(FormatRfc3339(t), "2026-11-25T21:00:07Z");  // metav1.Time
  EXPECT_EQ(FormatRfc3339(t, Rfc3339Fraction::Millis), "2026-11-25T21:00:07.123Z");
  EXPECT_EQ(FormatRfc3339(t, Rfc3339Fraction::Micros), "2026-11-25T21:00:07.123456Z");  // metav1.MicroTime
}

TEST(Rfc3339, KeepsLeadingZerosOfTheFraction) {
  EXPECT_EQ(FormatRfc3339(kWhole + microseconds(5), Rfc3339Fraction::Micros), "2026-11-25T21:00:07.000005Z");
  EXPECT_EQ(FormatRfc3339(kWhole + milliseconds(7), Rfc3339Fraction::Millis), "2026-11-25T21:00:07.007Z");
}

TEST(Rfc3339, ParsesWhatTheApiServerWritesBackToTheSameSecond) {
  const auto t = kWhole + microseconds(999999);
  EXPECT_EQ(ParseRfc3339Seconds(FormatRfc3339(t, Rfc3339Fraction::Micros)), system_clock::to_time_t(kWhole));
  EXPECT_EQ(ParseRfc3339Seconds("2026-11-25T21:00:07Z"), system_clock::to_time_t(kWhole));
}

TEST(Rfc3339, RejectsWhatIsNoTime) {
  for (const char* bad : {"", "2026-11-25", "yesterday at noon", "2026-13-45T99:99:99Z"})
    EXPECT_FALSE(ParseRfc3339Seconds(bad)) << bad;
}

}  // namespace
}  // namespace lvsrs
