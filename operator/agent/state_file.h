// The files of the state directory (--state-dir): read bounded, replaced durably. Both the sysctl
// originals (sysctl_record.h) and the address record (address_record.h) are written before the
// kernel change they make undoable, so a crash right after the change must find them on disk.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lvsrs {

// The whole file, or nullopt when it does not exist. Throws std::runtime_error naming the file
// when it cannot be read, is not a regular file, or is larger than this version ever writes.
std::optional<std::string> ReadStateFile(const std::string& path);

// Replaces path (a file directly in dir, which is created if missing) with text: written to a
// temporary file with a unique name (a concurrent `cleanup` and `run` never write the same one),
// fsynced, renamed over the old one, and the directory fsynced, so a crash leaves the old file or
// the new one. Throws std::runtime_error naming the file on failure.
void ReplaceStateFile(const std::string& dir, const std::string& path, const std::string& text);

// ReadStateFile parsed as a JSON object with a "version" this build reads (1 to max_version); a
// file without "version" has missing_version (0: an error). nullopt when the file does not exist.
// Throws std::runtime_error naming the file: when it is not JSON (`holds` says what it holds, so
// the admin knows what is lost by removing it), not an object, or of a newer version.
std::optional<nlohmann::json> ReadVersionedStateFile(const std::string& path, int max_version, const std::string& holds,
                                                     int missing_version = 0);

}  // namespace lvsrs
