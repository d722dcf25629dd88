// Test support: one real TCP connection to a VIP inside a test's network namespace, held open
// until the test closes it: a listener on VIP:port and a client from the node's own address, in
// one python3 process, so that exactly one ESTABLISHED socket has the VIP as its local address
// (the server side). Drain tests keep a VIP busy with it and check that it still carries data.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "support/netns.h"

namespace lvsrs::testing {

class HeldConnection {
 public:
  // Connects source -> vip:port in ns; dir is a fresh directory for its control files (removed by
  // the caller). Check connected() before relying on it.
  HeldConnection(const TestNetns& ns, const std::filesystem::path& dir, const std::string& vip,
                 const std::string& source, int port = 8080);
  ~HeldConnection();  // ends the process (closing the connection if it is still open)
  HeldConnection(const HeldConnection&) = delete;
  HeldConnection& operator=(const HeldConnection&) = delete;

  bool connected() const { return connected_; }
  // One round trip over the connection (client -> server -> client): true when it worked, false
  // when it failed or got no answer within 3 s.
  bool RoundTrip();
  // Closes both ends (FIN, not reset): no ESTABLISHED socket is left.
  void Close();
  // The process's output and why the last round trip failed, for failure messages.
  std::string Log() const;

 private:
  std::filesystem::path dir_;
  std::unique_ptr<Process> process_;
  bool connected_ = false;
  int round_trips_ = 0;
};

}  // namespace lvsrs::testing
