// The bearer token of a KubeConfig, as sent on each request. Apart from kube_config.cpp (which
// parses YAML) so that the HTTP client plugin (http_plugin.h) can carry its own copy: it holds no
// global state.
#pragma once

#include <mutex>
#include <string>

#include "kube/kube_config.h"

namespace lvsrs::kube {

// The bearer token to send now: the static token, or the token file re-read whenever its
// modification time or size changed (kubelet rotates projected tokens by replacing the file).
// Thread-safe.
class TokenSource {
 public:
  explicit TokenSource(const KubeConfig& config);
  std::string Current();
  // The server rejected the token (401): read the file again on the next Current(), even if its
  // modification time and size look the same (a rewrite within the same clock tick).
  void Invalidate();

 private:
  std::string static_token_;
  std::string file_;
  std::string cached_;
  long long seen_mtime_ns_ = -1;
  long long seen_size_ = -1;
  std::mutex mutex_;
};

}  // namespace lvsrs::kube
