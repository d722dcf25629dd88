// Minimal structured logging to stderr: "2026-11-25T21:00:00.123Z level message".
// One line per event so that `kubectl logs` and journald keep it readable.
#pragma once

#include <string>

namespace lvsrs {

enum class LogLevel { Debug, Info, Warning, Error };
void SetLogLevel(LogLevel level);
void Log(LogLevel level, const std::string& message);
inline void LogInfo(const std::string& m) { Log(LogLevel::Info, m); }
inline void LogWarning(const std::string& m) { Log(LogLevel::Warning, m); }
inline void LogError(const std::string& m) { Log(LogLevel::Error, m); }

}  // namespace lvsrs
