#include "model/duration.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

using std::chrono::milliseconds;

TEST(Duration, GoStyleUnits) {
  EXPECT_EQ(ParseDuration("2s"), milliseconds(2000));
  EXPECT_EQ(ParseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(ParseDuration("1m30s"), milliseconds(90000));
  EXPECT_EQ(ParseDuration("1h"), milliseconds(3600000));
}

TEST(Duration, RejectsMalformed) {
  for (const char* bad : {"", "2", "s", "2x", "-1s", "1.5s", "2s ", "99999999999s"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
}

TEST(Duration, LongerThanTheMaximumIsRefusedNotWrapped) {
  EXPECT_EQ(ParseDuration("1000h"), kMaxDuration);
  EXPECT_EQ(ParseDuration("999h60m"), kMaxDuration);
  // Each of these overflowed a 64-bit millisecond or nanosecond count somewhere before.
  for (const char* bad : {"1000h1ms", "1000000h", "1000000000h", "3600000001ms", "999999999h999999999h",
                          "9223372036854775807ms", "100000000000000000000s"})
    EXPECT_FALSE(ParseDuration(bad)) << bad;
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "999h";
  EXPECT_FALSE(ParseDuration(many));
}

}  // namespace
}  // namespace lvsrs
