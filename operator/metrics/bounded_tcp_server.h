// A TCP listener for short request/answer exchanges (/metrics, the kubelet's probes, the
// director-facing health endpoints) that nobody on the network can starve: one thread polls every
// connection, the number of connections is bounded overall and per peer address, and each
// connection has a deadline from accept to the last byte of its answer. When a bound is reached
// the oldest connection (of that peer, else of all) is closed to make room, so a fresh check is
// answered even while someone holds hundreds of idle connections open: a thread-per-connection
// server (civetweb, which served /metrics and the probes before) queues it behind them instead.
// Idle, the thread sleeps in poll() without a timeout: no periodic wakeups.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "metrics/bind_address.h"
#include "model/ip_address.h"

namespace lvsrs {

struct ListenerLimits {
  std::size_t max_connections = 256;
  std::size_t max_per_peer = 32;
  std::chrono::milliseconds deadline{2000};  // accept to answer written
  std::size_t max_request_bytes = 4096;
};

// One connection as the responder sees it.
struct Exchange {
  IpAddress local;  // the address the client connected to: a VIP when it came the DR path
  IpAddress peer;
  std::string_view received;  // everything read so far
  // Nothing more will come: the peer closed its side, sent more than max_request_bytes, or the
  // deadline passed. An answer returned now is still written (if the socket takes it at once).
  bool ended = false;
};
// Called on accept (nothing received), after each read, and once with `ended`; the first answer
// it returns is written and the connection closed. nullopt with `ended`: closed without an answer.
using Responder = std::function<std::optional<std::string>(const Exchange&)>;

class BoundedTcpServer {
 public:
  // Listens and starts the thread. Throws std::runtime_error naming `what` and the address when
  // it cannot listen.
  BoundedTcpServer(std::string what, const BindAddress& bind, ListenerLimits limits, Responder responder);
  ~BoundedTcpServer();  // stops the thread, closes every connection
  BoundedTcpServer(const BoundedTcpServer&) = delete;
  BoundedTcpServer& operator=(const BoundedTcpServer&) = delete;
  int port() const { return port_; }

 private:
  void Run();

  std::string what_;
  ListenerLimits limits_;
  Responder responder_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace lvsrs
