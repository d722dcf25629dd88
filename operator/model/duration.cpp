#include "model/duration.h"

#include <cctype>

namespace lvsrs {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const long long max_ms = kMaxDuration.count();
  long long total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    long long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > max_ms) return std::nullopt;  // larger than any unit allows; also keeps n * 10 in range
      ++i;
    }
    if (i == start) return std::nullopt;
    std::size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(u, i - u);
    long long unit_ms = 0;
    if (unit == "ms")
      unit_ms = 1;
    else if (unit == "s")
      unit_ms = 1000;
    else if (unit == "m")
      unit_ms = 60'000;
    else if (unit == "h")
      unit_ms = 3'600'000;
    else
      return std::nullopt;
    // n <= max_ms and total_ms <= max_ms: each check below keeps the sum in range.
    if (n > (max_ms - total_ms) / unit_ms) return std::nullopt;
    total_ms += n * unit_ms;
  }
  return std::chrono::milliseconds(total_ms);
}

}  // namespace lvsrs
