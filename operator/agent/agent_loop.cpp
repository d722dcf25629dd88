#include "agent/agent_loop.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "agent/log.h"
#include "agent/loop_schedule.h"
#include "kernel/netlink_events.h"
#include "kernel/unique_fd.h"

namespace lvsrs {
namespace {

std::int64_t UnixMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

constexpr std::chrono::milliseconds kPollEvery{1000};

// Watches dir's entries so that the drain request file appearing or going away (written by
// `lvs-rs-operator drain` with a rename, removed by `drain --undo`) wakes the loop at once,
// instead of the loop waking every second to stat it. -1 when dir is empty or inotify is not
// available (no instances left, a filesystem without it): the caller polls then.
UniqueFd WatchDirectory(const std::string& dir) {
  if (dir.empty()) return UniqueFd{-1};
  UniqueFd fd{inotify_init1(IN_NONBLOCK | IN_CLOEXEC)};
  if (fd.fd < 0) return fd;
  if (inotify_add_watch(fd.fd, dir.c_str(), IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR) < 0) {
    LogWarning("cannot watch " + dir + " for drain requests (" + std::strerror(errno) + "); looking every second");
    return UniqueFd{-1};
  }
  return fd;
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string Summarize(const ReconcileOutcome& o) {
  std::string s = "reconciled: " + std::to_string(o.plan.WriteCount()) + " change(s), " +
                  std::to_string(o.applied.writes_ok) + " ok";
  const std::size_t failed = o.applied.errors.size();
  if (failed) s += ", " + std::to_string(failed) + " failed";
  for (const auto& [kind, n] : o.repairs) s += ", repaired " + std::to_string(n) + " " + kind;
  // Named on every summary while it lasts, so a fight shows in the logs, not only once.
  for (const auto& [item, n] : o.contested)
    s += ", contested " + item.ToString() + " (" + std::to_string(n) + " repairs in 30 s)";
  s += o.status.conformant() ? "; node conformant" : "; node NOT conformant";
  return s;
}

}  // namespace

void BlockStopSignals() {
  sigset_t set = StopSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

AgentLoop::AgentLoop(Reconciler& reconciler, DesiredSource& source, Options options, TimeSource& time)
    : reconciler_(reconciler),
      source_(source),
      options_(options),
      time_(time),
      wake_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (wake_fd_ < 0) throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
}

AgentLoop::~AgentLoop() {
  if (wake_fd_ >= 0) close(wake_fd_);
}

void AgentLoop::AddObserver(std::function<void(const ReconcileOutcome&)> observer) {
  observers_.push_back(std::move(observer));
}

void AgentLoop::AddUnchangedObserver(std::function<void()> observer) {
  unchanged_observers_.push_back(std::move(observer));
}

void AgentLoop::Wake() {
  const std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
}

ReconcileOutcome AgentLoop::Pass() {
  const auto snap = source_.Get();
  ReconcileOutcome o = reconciler_.Reconcile(snap.vips, snap.node, time_.Steady());
  o.source_refused = snap.refused;
  o.source_validated = snap.validated;
  // Draining VIPs answer "drain": directors send them no new connections while theirs finish.
  if (o.error.empty()) o.vip_health = JudgeVipHealth(o.status, snap.vips, ToDrainViews(reconciler_.drains()));
  if (!o.error.empty())
    LogError("reconcile: " + o.error);
  else if (o.plan.HasWrites() || !o.repairs.empty())
    LogInfo(Summarize(o));
  for (const auto& p : o.status.problems)
    if (o.plan.HasWrites()) LogWarning(p.text);
  health_.conformant = o.error.empty() && o.status.conformant();
  health_.ready = true;
  for (auto& f : observers_) f(o);
  return o;
}

int AgentLoop::Run() {
  sigset_t stop = StopSignals();
  UniqueFd sig{signalfd(-1, &stop, SFD_CLOEXEC | SFD_NONBLOCK)};
  if (sig.fd < 0) throw std::runtime_error(std::string("signalfd: ") + std::strerror(errno));
  std::unique_ptr<NetlinkEvents> events;
  if (!options_.once) events = std::make_unique<NetlinkEvents>();

  if (options_.once) {
    // Converge, then verify with a fresh pass: the exit code reflects the kernel, not the plan.
    ReconcileOutcome o;
    for (int i = 0; i < 3; ++i) {
      source_.Poll();
      o = Pass();
      if (!o.error.empty()) return 1;
      if (!o.plan.HasWrites()) break;
    }
    for (const auto& p : o.status.problems) LogWarning(p.text);
    return o.status.conformant() ? 0 : 1;
  }

  const UniqueFd drain_watch = WatchDirectory(reconciler_.DrainRequestDir());
  // A file source, or a drain request file without inotify, is seen only by looking.
  const bool must_poll = source_.NeedsPolling() || (reconciler_.drain_enabled() && drain_watch.fd < 0);
  const std::chrono::milliseconds max_sleep = must_poll ? kPollEvery : std::max(kPollEvery, options_.resync_period);

  bool last_conformant = true;
  bool pass_requested = true;  // first pass right away
  LoopTimers timers{time_.Steady(), time_.Steady(), std::nullopt};
  for (;;) {
    health_.last_loop_unix_ms = UnixMs(time_.Wall());
    if (source_.Poll()) pass_requested = true;
    if (reconciler_.DrainRequestChanged()) pass_requested = true;
    auto now = time_.Steady();
    timers.next_retry = reconciler_.NextRetry();
    LoopAction action = DecideTurn(now, timers, pass_requested);
    if (action == LoopAction::PollSysctls) {
      timers.next_poll = now + options_.resync_period;
      const std::string why = reconciler_.SysctlsChangedSinceLastPass();
      if (why.empty()) {
        for (auto& f : unchanged_observers_) f();
      } else {
        Log(LogLevel::Debug, "ARP sysctl poll: " + why + "; running a full pass");
        action = LoopAction::FullPass;
      }
    }

    bool waiting_for_sync = false;
    if (action == LoopAction::FullPass) {
      pass_requested = true;  // until a pass has run
      // Asked only when a pass is due: Get() copies every VirtualIP, and most turns are idle.
      if (!source_.Get().synced) {
        waiting_for_sync = true;
      } else {
        pass_requested = false;
        const ReconcileOutcome o = Pass();
        if (o.status.conformant() != last_conformant && !o.status.conformant())
          for (const auto& p : o.status.problems) LogWarning(p.text);
        last_conformant = o.status.conformant();
        now = time_.Steady();
        timers.next_poll = now + options_.resync_period;
        timers.next_full = now + options_.full_resync_period;
      }
    }

    timers.next_retry = reconciler_.NextRetry();
    const int timeout_ms = static_cast<int>(TimeToSleep(time_.Steady(), timers, waiting_for_sync, max_sleep).count());

    pollfd fds[4] = {{sig.fd, POLLIN, 0},
                     {wake_fd_, POLLIN, 0},
                     {events ? events->fd() : -1, POLLIN, 0},
                     {drain_watch.fd, POLLIN, 0}};
    const int n = poll(fds, 4, timeout_ms);
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + std::strerror(errno));
    if (n <= 0) continue;
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo si{};
      if (read(sig.fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
          pass_requested = true;  // re-read and resync now
        } else {
          LogInfo(std::string("received ") + strsignal(static_cast<int>(si.ssi_signo)) +
                  "; exiting and leaving VIPs and sysctls in place");
          return 0;
        }
      }
    }
    if (fds[1].revents & POLLIN) {
      std::uint64_t v;
      (void)!read(wake_fd_, &v, sizeof v);
      pass_requested = true;
    }
    if (fds[3].revents & POLLIN) {
      // Only a wake-up: the next turn asks DrainRequestChanged() (any entry of the state dir
      // changing costs one cheap turn; the agent writes its own state files only after passes).
      alignas(inotify_event) char buf[4096];
      while (read(drain_watch.fd, buf, sizeof buf) > 0) {
      }
    }
    if (events && (fds[2].revents & POLLIN)) {
      const auto d = events->Drain();
      if (d.overflow) LogWarning("netlink notifications overflowed; resyncing everything");
      if (d.events > 0 || d.overflow) pass_requested = true;
    }
  }
}

}  // namespace lvsrs
