// Test support: small file and list helpers the test suites share.
#pragma once

#include <string>
#include <vector>

namespace lvsrs::testing {

// The whole file, byte for byte; empty when it cannot be read (a log not written yet).
std::string ReadFile(const std::string& path);
// Replaces the file in one step (write beside it, rename), as editors, ConfigMap updates and the
// kubelet's projected tokens do, so that a running agent never reads half a file.
void ReplaceFile(const std::string& path, const std::string& text);
bool Has(const std::vector<std::string>& items, const std::string& item);

// A directory of its own under /tmp ("/tmp/<prefix>-XXXXXX"), removed with everything in it.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace lvsrs::testing
