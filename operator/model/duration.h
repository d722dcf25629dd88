// Go-style durations as used by Kubernetes flags: "2s", "500ms", "1m30s".
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace lvsrs {

// The longest duration any flag accepts (about 41 days). Kept far below what a
// steady_clock::time_point (nanoseconds in 64 bits) can hold, so `now + d` and small multiples
// of it cannot overflow; anything longer is refused, never wrapped.
inline constexpr std::chrono::milliseconds kMaxDuration = std::chrono::hours(1000);

// nullopt when malformed or longer than kMaxDuration.
std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace lvsrs
