// VirtualIPs from a local multi-document YAML file, re-read when it changes (inode, size or
// mtime). A bad edit is logged and ignored: the last good content stays in force (fail static).
#pragma once

#include <sys/stat.h>

#include <stdexcept>
#include <string>

#include "agent/desired_source.h"

namespace lvsrs {

struct FileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads and validates a whole file; throws FileError listing every problem.
std::vector<VirtualIp> LoadVirtualIpFile(const std::string& path);

class FileSource : public DesiredSource {
 public:
  // Throws FileError when the file cannot be read or is invalid at start-up.
  FileSource(std::string path, NodeInfo node);
  Snapshot Get() override;
  bool Poll() override;
  bool NeedsPolling() const override { return true; }

 private:
  std::string path_;
  NodeInfo node_;
  std::vector<VirtualIp> vips_;
  struct stat seen_ {};
  std::string last_error_;  // so that a file that stays missing is logged once, not every poll
};

}  // namespace lvsrs
