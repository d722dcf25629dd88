// process_* metrics from /proc texts, and from this very process.
#include "metrics/process_stats.h"

#include <unistd.h>

#include <ctime>

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

// A real /proc/<pid>/stat line, with a comm that contains spaces and parentheses.
constexpr const char* kStat =
    "4242 (lvs (rs) op) S 1 4242 4242 0 -1 4194560 1510 0 0 0 250 50 0 0 20 0 3 0 12345 "
    "123456789 2048 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
constexpr const char* kProcStat = "cpu  1 2 3 4\nintr 5\nctxt 6\nbtime 1700000000\nprocesses 7\n";

TEST(ProcessStats, ParsesCpuMemoryAndStartTime) {
  const auto s = ParseProcessStats(kStat, kProcStat, 100, 4096);
  ASSERT_TRUE(s);
  EXPECT_DOUBLE_EQ(s->cpu_seconds, 3.0);                         // (250 + 50) / 100
  EXPECT_DOUBLE_EQ(s->start_time_seconds, 1700000000 + 123.45);  // btime + 12345 / 100
  EXPECT_DOUBLE_EQ(s->virtual_memory_bytes, 123456789);
  EXPECT_DOUBLE_EQ(s->resident_memory_bytes, 2048.0 * 4096);
}

TEST(ProcessStats, RejectsTruncatedOrMissingInput) {
  EXPECT_FALSE(ParseProcessStats("4242 (x) S 1 2 3", kProcStat, 100, 4096));
  EXPECT_FALSE(ParseProcessStats(kStat, "cpu 1 2 3\n", 100, 4096));
  EXPECT_FALSE(ParseProcessStats("garbage", kProcStat, 100, 4096));
}

TEST(ProcessStats, MaxOpenFilesIsTheSoftLimit) {
  const char* limits =
      "Limit                     Soft Limit           Hard Limit           Units     \n"
      "Max cpu time              unlimited            unlimited            seconds   \n"
      "Max open files            1024                 524288               files     \n";
  EXPECT_EQ(ParseMaxOpenFiles(limits), 1024);
  EXPECT_FALSE(ParseMaxOpenFiles("Max open files            unlimited            unlimited            files\n"));
  EXPECT_FALSE(ParseMaxOpenFiles("nothing here"));
}

TEST(ProcessCollector, ReportsThisProcess) {
  std::map<std::string, double> got;
  for (const auto& f : ProcessCollector().Collect()) {
    ASSERT_EQ(f.metric.size(), 1u) << f.name;
    got[f.name] = f.type == prometheus::MetricType::Counter ? f.metric[0].counter.value : f.metric[0].gauge.value;
  }
  for (const char* name : {"process_cpu_seconds_total", "process_start_time_seconds", "process_resident_memory_bytes",
                           "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"})
    EXPECT_TRUE(got.count(name)) << name;
  EXPECT_GT(got["process_resident_memory_bytes"], 0);
  EXPECT_GE(got["process_open_fds"], 3);  // stdin, stdout, stderr at least
  EXPECT_LE(got["process_start_time_seconds"], static_cast<double>(std::time(nullptr)) + 1);
  EXPECT_GT(got["process_start_time_seconds"], static_cast<double>(std::time(nullptr)) - 86400);
}

}  // namespace
}  // namespace lvsrs
