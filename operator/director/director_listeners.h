// The director-facing listeners of `run`: HTTP per-VIP health (keepalived HTTP_GET, ldirectord)
// and HAProxy agent-check, both answering from the VipHealthBoard the loop publishes to. Each is a
// BoundedTcpServer: one thread, bounded connections and deadlines, so that nothing on the network
// can starve them or the kubelet's probes (which have their own listener, on loopback).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_loop.h"
#include "agent/vip_health_board.h"
#include "metrics/bind_address.h"
#include "metrics/bounded_tcp_server.h"

namespace lvsrs {

inline constexpr const char* kDefaultDirectorHealthBindAddress = ":8472";
inline constexpr const char* kDefaultAgentCheckBindAddress = ":8473";

struct DirectorOptions {
  BindAddress http;
  BindAddress agent_check;
  // Every answer is "down" when the loop has not turned for this long (its table may be stale).
  std::chrono::milliseconds live_within{30000};
  static DirectorOptions Disabled();
};

// Flag values (nullopt: the default) -> options; false with error set on a bad value or a port
// that another listener (taken: "--flag" -> its address) already uses.
bool DirectorOptionsFromFlags(const std::optional<std::string>& http_bind,
                              const std::optional<std::string>& agent_check_bind,
                              const std::vector<std::pair<std::string, BindAddress>>& taken,
                              std::chrono::milliseconds live_within, DirectorOptions& out, std::string& error);

class DirectorListeners {
 public:
  // Starts the listeners that are not disabled. Throws std::runtime_error naming the flag and
  // address when one cannot listen.
  DirectorListeners(const DirectorOptions& options, const VipHealthBoard& board, const AgentHealth& health);
  ~DirectorListeners();
  DirectorListeners(const DirectorListeners&) = delete;
  DirectorListeners& operator=(const DirectorListeners&) = delete;
  int http_port() const { return http_ ? http_->port() : 0; }
  int agent_check_port() const { return agent_ ? agent_->port() : 0; }

 private:
  DirectorAnswer Answer(const IpAddress& address) const;

  const VipHealthBoard& board_;
  const AgentHealth& health_;
  std::chrono::milliseconds live_within_;
  std::int64_t started_unix_ms_;
  std::unique_ptr<BoundedTcpServer> http_;
  std::unique_ptr<BoundedTcpServer> agent_;
};

}  // namespace lvsrs
