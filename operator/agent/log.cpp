#include "agent/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>

#include "model/rfc3339.h"

namespace lvsrs {
namespace {
std::atomic<LogLevel> g_level{LogLevel::Info};
const char* Name(LogLevel l) {
  switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
  }
  return "info";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = level; }

void Log(LogLevel level, const std::string& message) {
  if (level < g_level.load()) return;
  const std::string ts = FormatRfc3339(std::chrono::system_clock::now(), Rfc3339Fraction::Millis);
  // One fprintf per line: stdio locks the stream, so lines from threads do not interleave.
  std::fprintf(stderr, "%s %s %s\n", ts.c_str(), Name(level), message.c_str());
}

}  // namespace lvsrs
