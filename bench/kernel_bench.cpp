// Kernel figures of the reconcile pass, measured against the real kernel. Run it inside a fresh
// network namespace that bench/run.sh created (it refuses to run in the host's):
//
//   lvsrs-bench-kernel passes --present 10000 --trials 20 --state-dir DIR
//       converges N VIPs in-process (Reconciler + RtnlKernel, what `run` does), then times
//       (a) adding 1 VIP with N present: whole pass, netlink requests, writes; and the
//           RtnlKernel::Apply of that 1-VIP plan alone;
//       (b) a full resync with nothing to do: whole pass, requests, writes (must be 0), and the
//           share of Observe (netlink dumps) in it.
//   lvsrs-bench-kernel drift --kind address|route --vips N --trials 200
//       with the operator running (`run`) in the same namespace, deletes one VIP's address or
//       host route through its own netlink socket, as a careless admin or another agent would,
//       and times how long until the kernel announces it back (RTM_NEWADDR / RTM_NEWROUTE on a
//       subscribed netlink socket: no polling).
//   lvsrs-bench-kernel arp --trials 5
//       with the operator running, resets net.ipv4.conf.all.arp_ignore to 0 and times how long
//       until it reads 1 again (the kernel sends no notification for it; polled every 1 ms).
//   lvsrs-bench-kernel apply --watch NS[,NS...] [--exec-netns NS] --first 20000 --trials 50 -- CMD...
//       Kubernetes figures: subscribes to RTNLGRP_IPV4_IFADDR in every --watch namespace (the
//       nodes; read-only, so it runs from the host's namespace), then per trial t starts CMD with
//       every "{}" replaced by t (kubectl apply or curl POST of a VirtualIP carrying VipAddress(
//       first + t)), inside --exec-netns when given, and times from just before the fork until each
//       node announces that address (RTM_NEWADDR, no polling), and until CMD exits.
//
// Every mode prints one JSON object with the raw samples (microseconds); run.sh makes the table.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/reconciler.h"
#include "agent/sysctl_record.h"
#include "kernel/rtnl_kernel.h"
#include "reconcile/plan.h"
#include "workload.h"

namespace lvsrs::bench {
namespace {

using json = nlohmann::json;
using Micros = std::chrono::duration<double, std::micro>;

double Since(Clock::time_point t0) { return Micros(Clock::now() - t0).count(); }

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

// Safety: this program writes addresses, routes and sysctls, so it runs only inside the named
// namespace run.sh created: the process's own netns must be /run/netns/<name>.
void RequireNetns(const std::string& name) {
  struct stat self {
  }, named{};
  if (name.empty() || name.find('/') != std::string::npos) Fail("--netns NAME is required");
  if (stat("/proc/self/ns/net", &self) != 0) Fail("cannot stat /proc/self/ns/net");
  if (stat(("/run/netns/" + name).c_str(), &named) != 0) Fail("no network namespace " + name);
  if (self.st_ino != named.st_ino || self.st_dev != named.st_dev)
    Fail("refusing to run outside network namespace " + name + "; use `ip netns exec " + name + "`");
}

std::size_t Arg(int argc, char** argv, const std::string& name, std::size_t def) {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return std::stoul(argv[i + 1]);
  return def;
}
std::string ArgS(int argc, char** argv, const std::string& name, const std::string& def) {
  for (int i = 2; i + 1 < argc; ++i)
    if (argv[i] == "--" + name) return argv[i + 1];
  return def;
}

// ---- (a) and (b): whole passes of the Reconciler, in-process -------------------------------

json Passes(std::size_t present, std::size_t trials, const std::string& state_dir) {
  RtnlKernel kernel;
  SysctlRecordFile store(state_dir);
  AddressRecordFile addresses(state_dir);
  Reconciler reconciler(kernel, store, addresses);
  const NodeInfo node{"bench-node", {}};
  auto vips = MakeVirtualIps(present);

  auto t0 = Clock::now();
  ReconcileOutcome first = reconciler.Reconcile(vips, node);
  const double converge_us = Since(t0);
  if (!first.error.empty() || !first.status.conformant()) Fail("initial converge failed: " + first.error);

  json add = json::array(), resync = json::array(), apply = json::array(), observe = json::array();
  std::size_t add_requests = 0, add_writes = 0, resync_requests = 0, resync_writes = 0;
  std::size_t apply_requests = 0;
  for (std::size_t t = 0; t < trials; ++t) {
    // Full resync, nothing to do.
    std::size_t r0 = kernel.RequestCount();
    t0 = Clock::now();
    ReconcileOutcome o = reconciler.Reconcile(vips, node);
    resync.push_back(Since(t0));
    resync_requests = kernel.RequestCount() - r0;
    resync_writes = o.plan.WriteCount() + o.applied.writes_ok;
    if (!o.error.empty() || resync_writes != 0) Fail("resync wrote to the kernel or failed: " + o.error);

    // The dumps alone: where a resync spends its time.
    t0 = Clock::now();
    ObservedState observed = kernel.Observe();
    observe.push_back(Since(t0));

    // One more VirtualIP, everything else unchanged.
    vips.push_back(MakeVirtualIps(1, present + 2 * t).front());
    r0 = kernel.RequestCount();
    t0 = Clock::now();
    o = reconciler.Reconcile(vips, node);
    add.push_back(Since(t0));
    add_requests = kernel.RequestCount() - r0;
    add_writes = o.applied.writes_ok;
    if (!o.error.empty() || !o.status.conformant()) Fail("adding one VIP failed: " + o.error);

    // The kernel part of that alone: one pipelined batch of the address and its route.
    Plan plan;
    const IpAddress ip = VipAddress(present + 2 * t + 1);
    const Link* lo = observed.LinkByName("lo");
    plan.add_addresses.push_back(AddressChange{ip, lo->index, "lo"});
    plan.add_routes.push_back(RouteChange{ip, lo->index, "lo"});
    r0 = kernel.RequestCount();
    t0 = Clock::now();
    ApplyResult ar = kernel.Apply(plan);
    apply.push_back(Since(t0));
    apply_requests = kernel.RequestCount() - r0;
    if (!ar.ok() || ar.writes_ok != 2) Fail("Apply of one VIP failed");
    vips.push_back(MakeVirtualIps(1, present + 2 * t + 1).front());  // now wanted, already there
  }
  return json{{"mode", "passes"},
              {"present", present},
              {"converge_us", converge_us},
              {"converge_requests", first.plan.WriteCount()},
              {"resync_us", resync},
              {"resync_requests", resync_requests},
              {"resync_writes", resync_writes},
              {"observe_us", observe},
              {"add_one_us", add},
              {"add_one_requests", add_requests},
              {"add_one_writes", add_writes},
              {"apply_one_us", apply},
              {"apply_one_requests", apply_requests}};
}

// ---- drift: a raw NETLINK_ROUTE socket of our own ------------------------------------------

class RawRtnl {
 public:
  explicit RawRtnl(unsigned groups) {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) Fail(std::string("netlink socket: ") + std::strerror(errno));
    sockaddr_nl sa{};
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = groups;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) Fail(std::string("bind: ") + std::strerror(errno));
    int big = 4 << 20;
    setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  ~RawRtnl() { close(fd_); }
  RawRtnl(const RawRtnl&) = delete;
  RawRtnl& operator=(const RawRtnl&) = delete;

  // Sends one request with NLM_F_ACK and returns the errno of its ack (0 on success).
  int Request(const std::vector<char>& msg) {
    if (send(fd_, msg.data(), msg.size(), 0) < 0) Fail(std::string("send: ") + std::strerror(errno));
    char buf[8192];
    for (;;) {
      ssize_t got = recv(fd_, buf, sizeof buf, 0);
      if (got < 0) Fail(std::string("recv: ") + std::strerror(errno));
      int n = static_cast<int>(got);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
        if (h->nlmsg_type == NLMSG_ERROR) return -static_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
    }
  }

  // Drops whatever notifications are queued.
  void Drain() {
    char buf[65536];
    while (recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
    }
  }

  // Waits until a notification of `type` carrying `attr` == ip arrives; false on timeout.
  bool WaitFor(int type, int attr, const IpAddress& ip, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::vector<char> buf(1 << 16);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      const ssize_t got = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      // ENOBUFS (overflow) and EAGAIN: keep waiting, the re-add is still ahead of us.
      if (got < 0) continue;
      if (Announces(buf.data(), static_cast<int>(got), type, attr, ip)) return true;
    }
  }

  // Reads what is queued without blocking; true when it announces ip (see Announces).
  bool ReadAnnounces(int type, int attr, const IpAddress& ip) {
    std::vector<char> buf(1 << 16);
    bool seen = false;
    for (;;) {
      const ssize_t got = recv(fd_, buf.data(), buf.size(), MSG_DONTWAIT);
      if (got < 0) {
        if (errno == ENOBUFS) continue;  // overflow: what we wait for may still come
        return seen;
      }
      seen = Announces(buf.data(), static_cast<int>(got), type, attr, ip) || seen;
    }
  }

  // A netlink datagram holds a message of `type` whose attribute `attr` is ip.
  static bool Announces(char* buf, int n, int type, int attr, const IpAddress& ip) {
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != type) continue;
      const std::size_t hdr = type == RTM_NEWADDR ? sizeof(ifaddrmsg) : sizeof(rtmsg);
      auto* rta = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(NLMSG_DATA(h)) + NLMSG_ALIGN(hdr));
      int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(hdr));
      for (; RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
        if (rta->rta_type == attr && RTA_PAYLOAD(rta) == ip.size() &&
            std::memcmp(RTA_DATA(rta), ip.bytes(), ip.size()) == 0)
          return true;
      }
    }
    return false;
  }

  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

void PutAttr(std::vector<char>& m, unsigned short type, const void* data, std::size_t len) {
  rtattr a{};
  a.rta_type = type;
  a.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  const std::size_t at = m.size();
  m.resize(at + RTA_SPACE(len), 0);
  std::memcpy(m.data() + at, &a, sizeof a);
  std::memcpy(m.data() + at + RTA_LENGTH(0), data, len);
  reinterpret_cast<nlmsghdr*>(m.data())->nlmsg_len = static_cast<unsigned>(m.size());
}

template <typename Hdr>
std::vector<char> Message(unsigned short type, const Hdr& hdr) {
  std::vector<char> m(NLMSG_SPACE(sizeof(Hdr)), 0);
  auto* h = reinterpret_cast<nlmsghdr*>(m.data());
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  h->nlmsg_len = static_cast<unsigned>(m.size());
  std::memcpy(NLMSG_DATA(h), &hdr, sizeof hdr);
  return m;
}

// What `ip addr del VIP/32 dev lo` sends.
std::vector<char> DelAddress(const IpAddress& ip, int ifindex) {
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 32;
  ifa.ifa_index = static_cast<unsigned>(ifindex);
  auto m = Message(RTM_DELADDR, ifa);
  PutAttr(m, IFA_LOCAL, ip.bytes(), 4);
  return m;
}

// What `ip route del VIP/32` sends (any protocol: a foreign hand does not care whose it is).
std::vector<char> DelRoute(const IpAddress& ip) {
  rtmsg rtm{};
  rtm.rtm_family = AF_INET;
  rtm.rtm_dst_len = 32;
  rtm.rtm_table = RT_TABLE_MAIN;
  rtm.rtm_scope = RT_SCOPE_NOWHERE;
  auto m = Message(RTM_DELROUTE, rtm);
  PutAttr(m, RTA_DST, ip.bytes(), 4);
  return m;
}

json Drift(const std::string& kind, std::size_t vips, std::size_t trials) {
  const bool address = kind == "address";
  if (!address && kind != "route") Fail("--kind must be address or route");
  RawRtnl deleter(0);
  RawRtnl watcher(address ? RTMGRP_IPV4_IFADDR : RTMGRP_IPV4_ROUTE);
  const int lo = static_cast<int>(if_nametoindex("lo"));
  json samples = json::array();
  std::size_t timeouts = 0;
  for (std::size_t t = 0; t < trials; ++t) {
    const IpAddress ip = VipAddress((t * 7919) % vips);  // spread over the table
    // Let the operator finish the pass our previous trial caused (its own notifications wake
    // it once more), so each trial measures one deletion.
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    watcher.Drain();
    const auto t0 = Clock::now();
    const int err = deleter.Request(address ? DelAddress(ip, lo) : DelRoute(ip));
    if (err != 0) Fail("delete " + ip.ToString() + ": " + std::strerror(err));
    if (watcher.WaitFor(address ? RTM_NEWADDR : RTM_NEWROUTE,
                        address ? static_cast<int>(IFA_LOCAL) : static_cast<int>(RTA_DST), ip, std::chrono::seconds(5)))
      samples.push_back(Since(t0));
    else
      ++timeouts;
  }
  return json{{"mode", "drift"}, {"kind", kind}, {"vips", vips}, {"repair_us", samples}, {"timeouts", timeouts}};
}

// ---- apply: kubectl / curl -> address announced in each node namespace ----------------------

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

void EnterNetns(const std::string& name) {
  Fd ns(open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC));
  if (ns.get() < 0) Fail("no network namespace " + name);
  if (setns(ns.get(), CLONE_NEWNET) != 0) Fail("setns " + name + ": " + std::strerror(errno));
}

// A netlink socket lives in the namespace it was created in, whatever the process does later:
// create it there and come back.
std::unique_ptr<RawRtnl> SubscribeIn(const std::string& name, unsigned groups) {
  Fd home(open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  if (home.get() < 0) Fail("cannot open /proc/self/ns/net");
  EnterNetns(name);
  auto sock = std::make_unique<RawRtnl>(groups);
  if (setns(home.get(), CLONE_NEWNET) != 0) Fail(std::string("setns back: ") + std::strerror(errno));
  return sock;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string part; std::getline(in, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

// Starts argv (with "{}" replaced by tag) in netns (if not empty), stdout to /dev/null; returns
// the pid. The child's stderr stays ours, so a failing kubectl explains itself.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& tag, const std::string& netns) {
  std::vector<std::string> args;
  for (std::string a : argv) {
    for (std::size_t p; (p = a.find("{}")) != std::string::npos;) a.replace(p, 2, tag);
    args.push_back(a);
  }
  const pid_t pid = fork();
  if (pid < 0) Fail(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    if (!netns.empty()) {
      const int ns = open(("/run/netns/" + netns).c_str(), O_RDONLY);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
    }
    const int null = open("/dev/null", O_WRONLY);
    if (null >= 0) dup2(null, 1);
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execvp(cargv[0], cargv.data());
    _exit(127);
  }
  return pid;
}

json Apply(const std::vector<std::string>& watch, const std::string& exec_netns, std::size_t first, std::size_t trials,
           const std::vector<std::string>& command) {
  if (watch.empty() || command.empty()) Fail("apply needs --watch NS[,NS...] and -- CMD...");
  std::vector<std::unique_ptr<RawRtnl>> nodes;
  for (const auto& ns : watch) nodes.push_back(SubscribeIn(ns, RTMGRP_IPV4_IFADDR));
  json out = json::array();
  for (std::size_t t = 0; t < trials; ++t) {
    const IpAddress ip = VipAddress(first + t);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the previous trial's status writes settle
    for (auto& n : nodes) n->Drain();
    // Wall clock too, to line the trial up with the API server's audit log timestamps.
    const auto t0_unix =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch());
    const auto t0 = Clock::now();
    const pid_t child = Spawn(command, std::to_string(first + t), exec_netns);
    Fd pidfd(static_cast<int>(syscall(SYS_pidfd_open, child, 0)));
    if (pidfd.get() < 0) Fail(std::string("pidfd_open: ") + std::strerror(errno));
    std::vector<std::optional<double>> seen(nodes.size());
    std::optional<double> exited;
    std::size_t left = nodes.size();
    const auto deadline = t0 + std::chrono::seconds(30);
    while ((left > 0 || !exited) && Clock::now() < deadline) {
      std::vector<pollfd> fds;
      for (auto& n : nodes) fds.push_back(pollfd{n->fd(), POLLIN, 0});
      fds.push_back(pollfd{pidfd.get(), static_cast<short>(exited ? 0 : POLLIN), 0});
      if (poll(fds.data(), fds.size(), 100) <= 0) continue;
      const double now = Since(t0);
      for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (!(fds[i].revents & POLLIN)) continue;
        if (nodes[i]->ReadAnnounces(RTM_NEWADDR, IFA_LOCAL, ip) && !seen[i]) {
          seen[i] = now;
          --left;
        }
      }
      if (!exited && (fds.back().revents & POLLIN)) {
        exited = now;
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
          Fail("trial " + std::to_string(t) + ": " + command[0] + " failed (status " + std::to_string(status) + ")");
      }
    }
    if (!exited) {
      kill(child, SIGKILL);
      waitpid(child, nullptr, 0);
      Fail("trial " + std::to_string(t) + ": " + command[0] + " did not exit within 30 s");
    }
    json per_node = json::array();
    for (const auto& s : seen) per_node.push_back(s ? json(*s) : json(nullptr));
    out.push_back(json{{"ip", ip.ToString()},
                       {"tag", first + t},
                       {"t0_unix_us", t0_unix.count()},
                       {"command_exit_us", *exited},
                       {"address_us", per_node}});
  }
  return json{{"mode", "apply"}, {"nodes", watch.size()}, {"trials", out}};
}

// ---- arp: conf/all reset, polled -----------------------------------------------------------

int ReadSysctl(const char* path) {
  std::ifstream in(path);
  int v = -1;
  in >> v;
  return v;
}

json Arp(std::size_t trials) {
  const char* path = "/proc/sys/net/ipv4/conf/all/arp_ignore";
  json samples = json::array();
  std::size_t timeouts = 0;
  for (std::size_t t = 0; t < trials; ++t) {
    // Start at varying points of the resync cycle.
    std::this_thread::sleep_for(std::chrono::milliseconds(50 + 137 * t % 500));
    if (ReadSysctl(path) != 1) Fail("arp_ignore is not 1 before the trial: is the operator running?");
    {
      std::ofstream out(path);
      out << 0 << "\n";
      if (!out) Fail("cannot write " + std::string(path));
    }
    const auto t0 = Clock::now();
    bool back = false;
    while (Clock::now() - t0 < std::chrono::seconds(30)) {
      if (ReadSysctl(path) == 1) {
        back = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (back)
      samples.push_back(Since(t0));
    else
      ++timeouts;
  }
  return json{{"mode", "arp"}, {"repair_us", samples}, {"timeouts", timeouts}};
}

}  // namespace
}  // namespace lvsrs::bench

int main(int argc, char** argv) {
  using namespace lvsrs::bench;
  try {
    if (argc < 2)
      Fail("usage: lvsrs-bench-kernel passes|drift|arp|apply [--flags] (see the comment in kernel_bench.cpp)");
    const std::string mode = argv[1];
    json out;
    if (mode == "apply") {  // only listens to the kernel, so it may run from the host's namespace
      std::vector<std::string> command;
      for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]) == "--") command.assign(argv + i + 1, argv + argc);
      out = Apply(Split(ArgS(argc, argv, "watch", ""), ','), ArgS(argc, argv, "exec-netns", ""),
                  Arg(argc, argv, "first", 20000), Arg(argc, argv, "trials", 50), command);
      std::printf("%s\n", out.dump().c_str());
      return 0;
    }
    RequireNetns(ArgS(argc, argv, "netns", ""));
    if (mode == "passes")
      out = Passes(Arg(argc, argv, "present", 10000), Arg(argc, argv, "trials", 20),
                   ArgS(argc, argv, "state-dir", "/tmp/lvsrs-bench-state"));
    else if (mode == "drift")
      out = Drift(ArgS(argc, argv, "kind", "address"), Arg(argc, argv, "vips", 1000), Arg(argc, argv, "trials", 200));
    else if (mode == "arp")
      out = Arp(Arg(argc, argv, "trials", 5));
    else
      Fail("unknown mode " + mode);
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lvsrs-bench-kernel: %s\n", e.what());
    return 1;
  }
}
