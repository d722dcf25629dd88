#include "model/rfc3339.h"

#include <cstdio>

namespace lvsrs {

std::string FormatRfc3339(std::chrono::system_clock::time_point t, Rfc3339Fraction fraction) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const std::time_t whole = std::chrono::system_clock::to_time_t(seconds);
  std::tm tm{};
  gmtime_r(&whole, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  const auto below = t - seconds;  // never negative: floor, not truncation
  if (fraction == Rfc3339Fraction::Millis)
    n += std::snprintf(buf + n, sizeof buf - n, ".%03lld",
                       static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(below).count()));
  else if (fraction == Rfc3339Fraction::Micros)
    n += std::snprintf(buf + n, sizeof buf - n, ".%06lld",
                       static_cast<long long>(std::chrono::duration_cast<std::chrono::microseconds>(below).count()));
  return std::string(buf, n) + "Z";
}

std::optional<std::time_t> ParseRfc3339Seconds(const std::string& text) {
  std::tm tm{};
  if (text.size() < 19 || !strptime(text.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return std::nullopt;
  return timegm(&tm);
}

}  // namespace lvsrs
