#include "metrics/process_stats.h"

#include <dirent.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <memory>
#include <sstream>

namespace lvsrs {
namespace {

std::vector<std::string_view> SplitWords(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n')) ++i;
    std::size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

std::optional<double> Number(std::string_view s) {
  unsigned long long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return static_cast<double>(v);
}

std::optional<std::string> ReadFile(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<double> CountOpenFds() {
  struct DirCloser {
    void operator()(DIR* d) const { closedir(d); }
  };
  std::unique_ptr<DIR, DirCloser> dir(opendir("/proc/self/fd"));
  if (!dir) return std::nullopt;
  double n = 0;
  while (const dirent* e = readdir(dir.get()))
    if (e->d_name[0] != '.') ++n;
  return n - 1;  // the descriptor of the directory being read
}

prometheus::MetricFamily One(const std::string& name, const std::string& help, prometheus::MetricType type,
                             double value) {
  prometheus::MetricFamily f{name, help, type, {}};
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter)
    m.counter.value = value;
  else
    m.gauge.value = value;
  f.metric.push_back(m);
  return f;
}

}  // namespace

std::optional<ProcessStats> ParseProcessStats(std::string_view pid_stat, std::string_view proc_stat, long clock_ticks,
                                              long page_size) {
  // "pid (comm) state ppid ...": comm may itself contain spaces and parentheses, so fields are
  // counted from the last ')'. Field numbers below are those of proc(5), starting at 1 for pid.
  const auto close = pid_stat.rfind(')');
  if (close == std::string_view::npos || clock_ticks <= 0 || page_size <= 0) return std::nullopt;
  const auto f = SplitWords(pid_stat.substr(close + 1));  // f[0] is field 3 (state)
  auto field = [&](std::size_t n) { return n - 3 < f.size() ? Number(f[n - 3]) : std::nullopt; };
  const auto utime = field(14), stime = field(15), starttime = field(22), vsize = field(23), rss = field(24);
  if (!utime || !stime || !starttime || !vsize || !rss) return std::nullopt;

  std::optional<double> btime;
  for (std::size_t pos = 0; pos < proc_stat.size();) {
    auto eol = proc_stat.find('\n', pos);
    if (eol == std::string_view::npos) eol = proc_stat.size();
    const auto words = SplitWords(proc_stat.substr(pos, eol - pos));
    if (words.size() == 2 && words[0] == "btime") btime = Number(words[1]);
    pos = eol + 1;
  }
  if (!btime) return std::nullopt;

  ProcessStats s;
  s.cpu_seconds = (*utime + *stime) / static_cast<double>(clock_ticks);
  s.start_time_seconds = *btime + *starttime / static_cast<double>(clock_ticks);
  s.virtual_memory_bytes = *vsize;
  s.resident_memory_bytes = *rss * static_cast<double>(page_size);
  return s;
}

std::optional<double> ParseMaxOpenFiles(std::string_view limits) {
  constexpr std::string_view kKey = "Max open files";
  const auto at = limits.find(kKey);
  if (at == std::string_view::npos) return std::nullopt;
  auto eol = limits.find('\n', at);
  if (eol == std::string_view::npos) eol = limits.size();
  const auto words = SplitWords(limits.substr(at + kKey.size(), eol - at - kKey.size()));
  if (words.empty()) return std::nullopt;  // soft limit comes first, then hard, then "files"
  return Number(words[0]);
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const auto pid_stat = ReadFile("/proc/self/stat");
  const auto proc_stat = ReadFile("/proc/stat");
  if (pid_stat && proc_stat) {
    if (auto s = ParseProcessStats(*pid_stat, *proc_stat, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE))) {
      out.push_back(One("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                        MetricType::Counter, s->cpu_seconds));
      out.push_back(One("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                        MetricType::Gauge, s->start_time_seconds));
      out.push_back(One("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                        s->resident_memory_bytes));
      out.push_back(One("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                        s->virtual_memory_bytes));
    }
  }
  if (auto fds = CountOpenFds())
    out.push_back(One("process_open_fds", "Number of open file descriptors.", MetricType::Gauge, *fds));
  if (auto limits = ReadFile("/proc/self/limits"))
    if (auto max = ParseMaxOpenFiles(*limits))
      out.push_back(One("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, *max));
  return out;
}

}  // namespace lvsrs
