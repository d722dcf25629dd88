#include "model/duration.h"

#include <cctype>

namespace lvsrs {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  long long total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t start = i;
    long long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      n = n * 10 + (text[i] - '0');
      if (n > 1'000'000'000LL) return std::nullopt;
      ++i;
    }
    if (i == start) return std::nullopt;
    std::size_t u = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    const std::string_view unit = text.substr(u, i - u);
    if (unit == "ms")
      total_ms += n;
    else if (unit == "s")
      total_ms += n * 1000;
    else if (unit == "m")
      total_ms += n * 60'000;
    else if (unit == "h")
      total_ms += n * 3'600'000;
    else
      return std::nullopt;
  }
  return std::chrono::milliseconds(total_ms);
}

}  // namespace lvsrs
