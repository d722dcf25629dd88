// RFC 3339 timestamps in UTC, as the log lines and the Kubernetes API (metav1.Time, MicroTime)
// write them: "2026-11-25T21:00:00Z", "...:00.123Z", "...:00.123456Z".
#pragma once

#include <chrono>
#include <ctime>
#include <optional>
#include <string>

namespace lvsrs {

// Digits after the seconds: metav1.Time has none, log lines milliseconds, metav1.MicroTime six.
enum class Rfc3339Fraction { None, Millis, Micros };

std::string FormatRfc3339(std::chrono::system_clock::time_point t, Rfc3339Fraction fraction = Rfc3339Fraction::None);

// Whole seconds since the epoch of an RFC 3339 time as the API server writes it (UTC, "Z");
// fractions are ignored. nullopt when it does not start with YYYY-MM-DDTHH:MM:SS.
std::optional<std::time_t> ParseRfc3339Seconds(const std::string& text);

}  // namespace lvsrs
