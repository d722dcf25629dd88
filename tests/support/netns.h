// Test support: network namespaces and processes owned by a test, removed on every path out
// (destructors run on assertion failures too). Tests change kernel state only inside these.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lvsrs::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command on the host (as the test process), capturing its output.
CommandResult Run(const std::string& command);
std::string Quote(const std::string& s);
std::string OperatorBinary();
std::string SourceDir();

class TestNetns {
 public:
  // A fresh namespace named "<prefix>-<pid>-<n>", with lo up as on every real node.
  explicit TestNetns(const std::string& prefix = "lvsrs-t");
  ~TestNetns();
  TestNetns(const TestNetns&) = delete;
  TestNetns& operator=(const TestNetns&) = delete;

  const std::string& name() const { return name_; }
  // Runs `sh -c command` inside the namespace.
  CommandResult Exec(const std::string& command) const;
  // Runs the operator binary inside the namespace with the given arguments.
  CommandResult Operator(const std::string& args) const;
  // `ip -n NAME -j <args>` parsed.
  nlohmann::json IpJson(const std::string& args) const;
  int Sysctl(const std::string& dotted_key) const;  // "net.ipv4.conf.all.arp_ignore"
  void SetSysctl(const std::string& dotted_key, int value) const;
  // "192.0.2.10/32" strings of every address on dev.
  std::vector<std::string> Addresses(const std::string& dev) const;
  // `ip route show table main` lines, normalised (one string each).
  std::vector<std::string> Routes(int family) const;

 private:
  std::string name_;
};

// A background process (the operator in `run` mode) stopped with SIGTERM, then SIGKILL, on exit.
class Process {
 public:
  explicit Process(const std::vector<std::string>& argv, const std::string& log_path = "");
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for exit; returns the exit code, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Polls cond every 10 ms until it is true or timeout passes; returns whether it became true.
bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = std::chrono::seconds(10));
// The same every 200 ms, for conditions that spawn processes (`ip netns exec`, curl) per check.
bool Within(std::chrono::milliseconds timeout, const std::function<bool()>& cond);

}  // namespace lvsrs::testing
