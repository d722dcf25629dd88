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

}  // namespace
}  // namespace lvsrs
