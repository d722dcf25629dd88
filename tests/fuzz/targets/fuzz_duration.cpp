// libFuzzer target: Go-style durations (--resync-period and friends) -> ParseDuration.
// A parsed duration is never negative (an overflow would make a timer fire in a tight loop) and
// never above kMaxDuration (so `now + d` cannot overflow either); UBSan catches any overflow.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/duration.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto d = lvsrs::ParseDuration(std::string_view(reinterpret_cast<const char*>(data), size));
  if (d && (d->count() < 0 || *d > lvsrs::kMaxDuration)) __builtin_trap();
  return 0;
}
