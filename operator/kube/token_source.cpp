#include "kube/token_source.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace lvsrs::kube {
namespace {

std::string ReadFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + what + " " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

TokenSource::TokenSource(const KubeConfig& config) : static_token_(config.token), file_(config.token_file) {}

std::string TokenSource::Current() {
  if (file_.empty()) return static_token_;
  std::lock_guard<std::mutex> lock(mutex_);
  struct stat st {};
  if (stat(file_.c_str(), &st) != 0) {
    if (!cached_.empty()) return cached_;  // mid-rotation: keep the token we had
    throw ConfigError("cannot read token file " + file_);
  }
  const long long mtime = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
  if (mtime != seen_mtime_ns_ || st.st_size != seen_size_ || cached_.empty()) {
    const std::string token = Trim(ReadFile(file_, "token file"));
    if (!token.empty()) {
      cached_ = token;
      seen_mtime_ns_ = mtime;
      seen_size_ = st.st_size;
    }
  }
  return cached_;
}

void TokenSource::Invalidate() {
  std::lock_guard<std::mutex> lock(mutex_);
  seen_mtime_ns_ = -1;
  seen_size_ = -1;
}

}  // namespace lvsrs::kube
