// The standard process_* metrics (as the Go and Python clients export them, so existing
// dashboards work), read from /proc/self on every scrape. prometheus-cpp has no collector for
// them. Parsing is pure so it can be tested on fixed /proc texts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace lvsrs {

struct ProcessStats {
  double cpu_seconds = 0;         // utime + stime
  double start_time_seconds = 0;  // unix time
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
};

// proc_pid_stat: the text of /proc/self/stat; proc_stat: /proc/stat (for btime). clock_ticks is
// sysconf(_SC_CLK_TCK), page_size sysconf(_SC_PAGESIZE). nullopt when a text is malformed.
std::optional<ProcessStats> ParseProcessStats(std::string_view proc_pid_stat, std::string_view proc_stat,
                                              long clock_ticks, long page_size);
// The soft "Max open files" limit from /proc/self/limits; nullopt when absent or "unlimited".
std::optional<double> ParseMaxOpenFiles(std::string_view proc_limits);

// A prometheus-cpp Collectable for process_cpu_seconds_total, process_start_time_seconds,
// process_resident_memory_bytes, process_virtual_memory_bytes, process_open_fds and
// process_max_fds. A file that cannot be read leaves its metrics out of that scrape.
class ProcessCollector : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace lvsrs
