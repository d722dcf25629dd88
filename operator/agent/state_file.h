// The files of the state directory (--state-dir): read bounded, replaced atomically. Both the sysctl
// originals (sysctl_record.h) and the address record (address_record.h) are written before the
// kernel change they make undoable, so a crash of the agent right after the change finds them.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lvsrs {

// The whole file, or nullopt when it does not exist. Throws std::runtime_error naming the file
// when it cannot be read, is not a regular file, or is larger than this version ever writes.
std::optional<std::string> ReadStateFile(const std::string& path);

// How long a replaced state file must last through a crash of the whole node (power loss, kernel
// panic: the page cache is lost). A crash of the process alone loses nothing that was written.
enum class Persist {
  // The file is fsynced before the rename and the directory after it: once ReplaceStateFile
  // returns, the new file survives a reboot. For what must outlive the kernel's state: the drain
  // request and the specs accepted before (last_good_specs.h).
  kAcrossReboot,
  // The file is fsynced before the rename, so it is never torn, but the directory is not: a node
  // crash may bring back the previous complete file (or none). For records of kernel state that
  // the same crash reverts (sysctl originals, addresses the operator added): after the reboot the
  // sysctls hold their boot values and the addresses are gone, so an older record costs nothing
  // (a missing original is read afresh, from the boot value, before the next write) and one fsync
  // fewer is about 1 ms of every change on ext4 (BENCHMARKS.md, "Start-up").
  kUntilReboot,
};

// Replaces path (a file directly in dir, which is created if missing) with text: written to a
// temporary file with a unique name (a concurrent `cleanup` and `run` never write the same one),
// fsynced, renamed over the old one, and (kAcrossReboot) the directory fsynced, so a crash leaves
// the old file or the new one, never a torn one. Writes nothing when the file already holds
// text. Throws std::runtime_error naming the file on failure.
void ReplaceStateFile(const std::string& dir, const std::string& path, const std::string& text,
                      Persist persist = Persist::kAcrossReboot);

// ReadStateFile parsed as a JSON object with a "version" this build reads (1 to max_version); a
// file without "version" has missing_version (0: an error). nullopt when the file does not exist.
// Throws std::runtime_error naming the file: when it is not JSON (`holds` says what it holds, so
// the admin knows what is lost by removing it), not an object, or of a newer version.
std::optional<nlohmann::json> ReadVersionedStateFile(const std::string& path, int max_version, const std::string& holds,
                                                     int missing_version = 0);

}  // namespace lvsrs
