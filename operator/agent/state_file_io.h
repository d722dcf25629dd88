// Reading and replacing the agent's files in --state-dir, with the guarantees every one of them
// needs: a read is bounded (a file that is not ours must not eat the agent's memory), and a
// replacement is atomic and durable (a crash leaves the old file or the new one, never half of
// either), also with two processes writing at once (`cleanup` while `run` starts).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace lvsrs {

// The content of the regular file `path`, or nullopt when it does not exist. Throws
// std::runtime_error naming `what` and the path when it cannot be read, is not a regular file,
// or is larger than max_bytes.
std::optional<std::string> ReadStateFile(const std::string& what, const std::string& path, off_t max_bytes);

// Replaces `path` (in directory `dir`, created when missing) with text: written to a temporary
// file with a unique name next to it, fsynced, renamed over `path`, and the directory fsynced,
// so that the rename itself survives a crash. Throws std::runtime_error naming `what` and the
// path; the old file is then unchanged and no temporary file is left behind.
void ReplaceStateFile(const std::string& what, const std::string& dir, const std::string& path,
                      const std::string& text);

}  // namespace lvsrs
