#include "support/netns.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <stdexcept>
#include <thread>

namespace lvsrs::testing {

CommandResult Run(const std::string& command) {
  CommandResult r;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string OperatorBinary() { return LVSRS_BINARY; }
std::string SourceDir() { return LVSRS_SOURCE_DIR; }

TestNetns::TestNetns(const std::string& prefix) {
  static std::atomic<int> counter{0};
  name_ = prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
  Run("ip netns del " + name_);  // a leftover of a crashed run with the same pid
  const auto r = Run("ip netns add " + name_ + " && ip -n " + name_ + " link set lo up");
  if (r.exit_code != 0) throw std::runtime_error("cannot create netns " + name_ + ": " + r.output);
}

TestNetns::~TestNetns() { Run("ip netns del " + name_); }

CommandResult TestNetns::Exec(const std::string& command) const {
  return Run("ip netns exec " + name_ + " sh -c " + Quote(command));
}

CommandResult TestNetns::Operator(const std::string& args) const {
  return Run("ip netns exec " + name_ + " " + OperatorBinary() + " " + args);
}

nlohmann::json TestNetns::IpJson(const std::string& args) const {
  const auto r = Run("ip -n " + name_ + " -j " + args);
  if (r.exit_code != 0) throw std::runtime_error("ip " + args + ": " + r.output);
  if (r.output.find_first_not_of(" \n") == std::string::npos) return nlohmann::json::array();
  return nlohmann::json::parse(r.output);
}

int TestNetns::Sysctl(const std::string& dotted_key) const {
  std::string path = dotted_key;
  for (auto& c : path) c = c == '.' ? '/' : c;
  const auto r = Exec("cat /proc/sys/" + path);
  if (r.exit_code != 0) throw std::runtime_error("read " + dotted_key + ": " + r.output);
  return std::stoi(r.output);
}

void TestNetns::SetSysctl(const std::string& dotted_key, int value) const {
  std::string path = dotted_key;
  for (auto& c : path) c = c == '.' ? '/' : c;
  const auto r = Exec("echo " + std::to_string(value) + " > /proc/sys/" + path);
  if (r.exit_code != 0) throw std::runtime_error("write " + dotted_key + ": " + r.output);
}

std::vector<std::string> TestNetns::Addresses(const std::string& dev) const {
  std::vector<std::string> out;
  for (const auto& link : IpJson("addr show dev " + dev))
    for (const auto& a : link.value("addr_info", nlohmann::json::array()))
      out.push_back(a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>()));
  return out;
}

std::vector<std::string> TestNetns::Routes(int family) const {
  std::vector<std::string> out;
  const auto r = Run("ip -n " + name_ + " -" + std::to_string(family) + " route show table main");
  std::size_t start = 0;
  while (start < r.output.size()) {
    auto end = r.output.find('\n', start);
    if (end == std::string::npos) end = r.output.size();
    std::string line = r.output.substr(start, end - start);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    if (!line.empty()) out.push_back(line);
    start = end + 1;
  }
  return out;
}

Process::Process(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The test binary may block signals; the child must get SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    if (!log_path.empty()) {
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
}

void Process::Signal(int sig) const {
  if (pid_ > 0 && !exited_) kill(pid_, sig);
}

int Process::Wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

Process::~Process() {
  if (pid_ <= 0 || exited_) return;
  Signal(SIGTERM);
  if (Wait(std::chrono::seconds(5)) == -1) {
    kill(pid_, SIGKILL);
    Wait(std::chrono::seconds(5));
  }
}

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}

bool Within(std::chrono::milliseconds timeout, const std::function<bool()>& cond) {
  return Eventually(
      [&] {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return false;
      },
      timeout);
}

}  // namespace lvsrs::testing
