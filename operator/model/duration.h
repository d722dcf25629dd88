// Go-style durations as used by Kubernetes flags: "2s", "500ms", "1m30s".
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace lvsrs {

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text);

}  // namespace lvsrs
