// `lvs-rs-operator run` in three steps: the flags become RunOptions (nothing started yet), the
// options become a desired-state source (the file, or the API server), and the source, the
// kernel, the loop, monitoring and the kube reporter are wired together and run.
#include <malloc.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "agent/agent_loop.h"
#include "agent/drain_record.h"
#include "agent/file_source.h"
#include "agent/last_good_specs.h"
#include "agent/log.h"
#include "agent/reconciler.h"
#include "agent/state_dir_lock.h"
#include "agent/vip_health_board.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/node_identity.h"
#include "director/director_listeners.h"
#include "kernel/rtnl_kernel.h"
#include "kube/kube_mode.h"
#include "metrics/monitoring.h"
#include "model/duration.h"

namespace lvsrs {

namespace {

std::vector<FlagSpec> RunFlags() {
  return {
      {"file", true, "VirtualIP documents (YAML, multi-document); re-read when it changes", ""},
      {"kubeconfig", true, "Kubernetes mode (no --file): kubeconfig to use", "$KUBECONFIG, else in-cluster"},
      {"watch-timeout", true, "Kubernetes mode: server-side timeout of each watch (jittered +0-50%)", "5m"},
      {"node-name", true, "this node's name", "$NODE_NAME or the host name"},
      {"node-labels", true, "this node's labels in file mode, k=v,k2=v2", ""},
      {"resync-period", true,
       "ARP sysctl poll interval (they have no netlink notification); a full pass runs when one changed", "2s"},
      {"full-resync-period", true, "full pass even without any notification, as a safety net", "5m"},
      {"state-dir", true,
       "where original sysctl values, drains (and, on kernels before 5.18, added addresses) are recorded",
       "/var/lib/lvs-rs-operator"},
      {"once", false, "converge, verify and exit (0 conformant, 1 not)", ""},
      {"dry-run", false, "print the plan and change nothing", ""},
      {"log-level", true, "debug, info, warning or error", "info"},
      {"metrics-bind-address", true, "Prometheus /metrics listener, [HOST]:PORT or 0 to disable",
       kDefaultMetricsBindAddress},
      {"health-probe-bind-address", true, "/healthz and /readyz listener, [HOST]:PORT or 0 to disable",
       kDefaultHealthProbeBindAddress},
      {"director-health-bind-address", true,
       "per-VIP health for directors over HTTP (GET /vips/ADDRESS, GET /), [HOST]:PORT or \"\" to disable",
       kDefaultDirectorHealthBindAddress},
      {"agent-check-bind-address", true, "per-VIP health for HAProxy agent-check, [HOST]:PORT or \"\" to disable",
       kDefaultAgentCheckBindAddress},
      {"help", false, "show this help", ""},
  };
}

// What the flags ask for, checked; nothing is started or read yet.
struct RunOptions {
  AgentLoop::Options loop;
  NodeInfo node;
  MonitoringOptions monitoring;
  DirectorOptions director;
  std::optional<std::string> file;  // file mode; Kubernetes mode without it
  std::string kubeconfig;           // empty: $KUBECONFIG, else in-cluster
  std::chrono::milliseconds watch_timeout{std::chrono::minutes(5)};
  std::string state_dir = "/var/lib/lvs-rs-operator";
  bool dry_run = false;
};

// A command-line problem: the message is printed after "run: " and the exit code is kExitUsage.
struct UsageError {
  std::string message;
};

std::optional<LogLevel> ParseLogLevel(const std::string& text) {
  if (text == "debug") return LogLevel::Debug;
  if (text == "info") return LogLevel::Info;
  if (text == "warning") return LogLevel::Warning;
  if (text == "error") return LogLevel::Error;
  return std::nullopt;
}

// The duration flag `name`, when given, into out; a UsageError naming an example when it is not
// a duration of at least `min`.
std::optional<UsageError> DurationFlag(const Flags& flags, const std::string& name, std::chrono::milliseconds min,
                                       const char* min_text, const char* example, std::chrono::milliseconds& out) {
  const auto text = flags.Get(name);
  if (!text) return std::nullopt;
  const auto parsed = ParseDuration(*text);
  if (!parsed || *parsed < min)
    return UsageError{"--" + name + " must be a duration from " + min_text + " to 1000h, like " + example};
  out = *parsed;
  return std::nullopt;
}

std::optional<UsageError> OptionsFromFlags(const Flags& flags, RunOptions& o) {
  using std::chrono::milliseconds;
  if (auto lvl = flags.Get("log-level")) {
    const auto level = ParseLogLevel(*lvl);
    if (!level) return UsageError{"--log-level must be debug, info, warning or error"};
    SetLogLevel(*level);
  }
  if (auto e = DurationFlag(flags, "resync-period", milliseconds(100), "100ms", "2s", o.loop.resync_period)) return e;
  if (auto e = DurationFlag(flags, "full-resync-period", milliseconds(100), "100ms", "5m", o.loop.full_resync_period))
    return e;
  if (auto e = DurationFlag(flags, "watch-timeout", milliseconds(1000), "1s", "5m", o.watch_timeout)) return e;
  o.loop.once = flags.Has("once");
  o.dry_run = flags.Has("dry-run");
  std::string err;
  if (!NodeFromFlags(flags, o.node, err)) return UsageError{err};
  if (!MonitoringOptionsFromFlags(flags.Get("metrics-bind-address"), flags.Get("health-probe-bind-address"),
                                  o.loop.resync_period, o.monitoring, err))
    return UsageError{err};
  if (!DirectorOptionsFromFlags(
          flags.Get("director-health-bind-address"), flags.Get("agent-check-bind-address"),
          {{"--metrics-bind-address", o.monitoring.metrics}, {"--health-probe-bind-address", o.monitoring.health}},
          o.monitoring.live_within, o.director, err))
    return UsageError{err};
  if (o.loop.once) {  // nothing to scrape, probe or check
    o.monitoring = MonitoringOptions::Disabled();
    o.director = DirectorOptions::Disabled();
  }
  o.file = flags.Get("file");
  if (o.file && flags.Has("kubeconfig")) return UsageError{"--file and --kubeconfig exclude each other"};
  o.kubeconfig = flags.Get("kubeconfig").value_or("");
  o.state_dir = flags.Get("state-dir").value_or(o.state_dir);
  return std::nullopt;
}

// Where the VirtualIPs come from: the file, or the API server. Exactly one is set.
struct Sources {
  std::unique_ptr<FileSource> file;
  std::unique_ptr<kube::KubernetesMode> kube;

  DesiredSource& desired() const { return file ? static_cast<DesiredSource&>(*file) : kube->source(); }
};

// Reads the file, or the kubeconfig (nothing is started yet). nullopt when `out` is ready; otherwise the exit
// code, after the reason was printed.
std::optional<int> MakeSources(const RunOptions& o, Sources& out) {
  if (o.file) {
    try {
      out.file = std::make_unique<FileSource>(*o.file, o.node);
    } catch (const FileError& e) {
      std::fprintf(stderr, "run: invalid input, nothing changed:\n%s\n", e.what());
      return kExitUsage;
    }
    return std::nullopt;
  }
  try {
    out.kube = std::make_unique<kube::KubernetesMode>(
        o.kubeconfig, o.node.name,
        static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(o.watch_timeout).count()));
  } catch (const kube::ConfigError& e) {
    std::fprintf(stderr, "run: Kubernetes mode (no --file): %s\n", e.what());
    return kExitUsage;
  }
  return std::nullopt;
}

// --once and --dry-run take a single look: never at an unsynced (empty) view. nullopt when the
// first lists are in (or there is nothing to wait for); otherwise the exit code.
std::optional<int> WaitForFirstList(const RunOptions& o, Sources& sources) {
  if (!sources.kube || !(o.loop.once || o.dry_run)) return std::nullopt;
  if (sources.kube->WaitForSync(std::chrono::seconds(60))) return std::nullopt;
  std::fprintf(stderr, "run: no complete list of VirtualIPs and Node %s from %s within 60s; nothing changed\n",
               o.node.name.c_str(), sources.kube->origin().c_str());
  return kExitNotConformant;
}

// How long `run` waits for another holder of the state dir (see StateDirLock): longer than a
// pod's default termination grace period, so a replaced agent that is still stopping is waited for.
constexpr std::chrono::milliseconds kRunLockWait{35000};

// What the previous agent saved. A file that cannot be read costs only the restart guarantee:
// logged, and the agent starts without it (the next change replaces it).
LastGoodSpecs LoadLastGood(const LastGoodFile& file) {
  std::vector<std::string> skipped;
  try {
    LastGoodSpecs specs = file.Load(&skipped);
    for (const auto& s : skipped) LogWarning(file.path() + ": left out " + s);
    return specs;
  } catch (const std::exception& e) {
    LogError(std::string(e.what()) +
             "; starting without the specs accepted before (an edit refused now withdraws its VirtualIP)");
    return {};
  }
}

// How this kernel lets the operator recognise its addresses after a restart: probed at start, so
// that the log says it before the first add.
void LogOwnershipMark(RtnlKernel& kernel, const AddressRecordFile& addresses) {
  const AddressProtocolProbe& probe = kernel.AddressProtocol();
  if (probe.kept)
    LogInfo("addresses are marked with IFA_PROTO " + std::to_string(kOwnerProtocol) + ": the kernel " + probe.detail);
  else
    LogWarning("this kernel does not keep IFA_PROTO (Linux before 5.18), or it could not be probed: " + probe.detail +
               "; each address is recorded in " + addresses.path() +
               " before it is added, and recognised by that record and its flags");
}

// --dry-run: one pass that changes nothing, its plan on stdout.
int PrintPlan(Reconciler& reconciler, DesiredSource& source) {
  const auto snap = source.Get();
  const ReconcileOutcome o = reconciler.Reconcile(snap.vips, snap.node);
  if (!o.error.empty()) {
    std::fprintf(stderr, "run: %s\n", o.error.c_str());
    return kExitNotConformant;
  }
  for (const auto& [name, r] : snap.refused)
    std::printf("%s VirtualIP %s: %s\n", r.serving_last_good ? "keep" : "refuse", name.c_str(), r.message.c_str());
  for (const auto& [name, why] : o.desired.refused) std::printf("refuse VirtualIP %s: %s\n", name.c_str(), why.c_str());
  for (const auto& [name, why] : o.desired.kept) std::printf("keep VirtualIP %s: %s\n", name.c_str(), why.c_str());
  const std::string text = o.plan.ToText();
  std::fputs(text.empty() ? "nothing to do\n" : text.c_str(), stdout);
  return kExitOk;
}

// glibc keeps what a pass freed (the YAML documents, dumps of every address and route, the plan)
// in its heaps instead of returning it, so the agent's RSS would stay at the size of its largest
// pass. Give it back once things are quiet again: at the first unchanged ARP poll after a pass,
// so at most once per --resync-period, and never while nothing happens.
void TrimHeapWhenQuiet(AgentLoop& loop) {
  auto due = std::make_shared<bool>(false);
  loop.AddObserver([due](const ReconcileOutcome&) { *due = true; });
  loop.AddUnchangedObserver([due] {
    if (*due) malloc_trim(0);
    *due = false;
  });
}

// The loop with everything that watches it: metrics and probes, the kube reporter, heap trimming.
int RunLoop(const RunOptions& o, Sources& sources, Reconciler& reconciler, LastGoodRecorder& last_good) {
  Monitoring monitoring(o.monitoring);
  LogInfo("lvs-rs-operator " LVSRS_VERSION " on node " + o.node.name + ", VirtualIPs from " +
          (o.file ? *o.file : "the API server (" + sources.kube->origin() + ")"));
  AgentLoop loop(reconciler, sources.desired(), o.loop);
  loop.AddObserver([&last_good](const ReconcileOutcome& outcome) { last_good.Observe(outcome); });
  if (sources.kube) {
    kube::KubernetesMode& kube = *sources.kube;
    kube.Attach(loop);
    // After every pass and every unchanged ARP poll, so at least once per resync period.
    const auto mirror = [&kube, &monitoring] {
      const auto st = kube.stats();
      monitoring.metrics().ObserveKube(st.synced, st.watch_restarts);
    };
    loop.AddObserver([mirror](const ReconcileOutcome&) { mirror(); });
    loop.AddUnchangedObserver(mirror);
  }
  TrimHeapWhenQuiet(loop);
  const auto serving = monitoring.Serve(loop);
  // What directors are told, after every pass. A pass that could not read the kernel takes every
  // VIP down rather than leave the last answers standing.
  VipHealthBoard board;
  loop.AddObserver([&board](const ReconcileOutcome& outcome) {
    if (outcome.error.empty()) {
      board.Publish(outcome.vip_health);
    } else {
      const auto last = board.Current();
      board.Publish(Unjudged(last ? *last : VipHealthBoard::Table{}, outcome.error));
    }
  });
  const DirectorListeners director(o.director, board, loop.health());
  const int rc = loop.Run();
  if (sources.kube) sources.kube->Stop();  // before the loop it wakes goes away
  return rc;
}

}  // namespace

int RunCommand(int argc, char** argv) {
  Flags flags(RunFlags());
  std::string err;
  if (!flags.Parse(argc, argv, 2, err) || !flags.positional().empty()) {
    if (err.empty()) err = "unexpected argument " + flags.positional().front();
    std::fprintf(stderr, "run: %s\n\nFlags:\n%s", err.c_str(), flags.Help().c_str());
    return kExitUsage;
  }
  if (flags.Has("help")) {
    std::printf("Usage: lvs-rs-operator run [flags]\n\nFlags:\n%s", flags.Help().c_str());
    return kExitOk;
  }
  RunOptions options;
  if (const auto usage = OptionsFromFlags(flags, options)) {
    std::fprintf(stderr, "run: %s\n", usage->message.c_str());
    return kExitUsage;
  }

  // The input first: a bad file or kubeconfig changes nothing, not even the state dir.
  Sources sources;
  if (const auto rc = MakeSources(options, sources)) return *rc;

  // Before anything in the state dir is read. A predecessor on this node (the pod being replaced)
  // may still be stopping: wait for it a while rather than fail at once.
  std::optional<StateDirLock> lock;
  if (!options.dry_run)  // reads only
    lock.emplace(options.state_dir, "run", kRunLockWait, [&options](const std::string& holder) {
      LogWarning("state dir " + options.state_dir + " is locked by " + holder + "; waiting up to " +
                 std::to_string(kRunLockWait.count() / 1000) + " s for it to end");
    });
  const LastGoodFile last_good_file(options.state_dir);
  LastGoodSpecs last_good = LoadLastGood(last_good_file);
  if (sources.kube) sources.kube->RestoreLastGood(last_good.validated);  // before it starts listing
  if (const auto rc = WaitForFirstList(options, sources)) return *rc;

  RtnlKernel kernel;
  SysctlRecordFile store(options.state_dir);
  AddressRecordFile addresses(options.state_dir);
  Reconciler reconciler(kernel, store, addresses, options.dry_run);
  reconciler.LoadRecords();
  reconciler.SetAcceptedSpecs(last_good.applied);
  DrainFile drains(options.state_dir);
  reconciler.EnableDrain(drains);
  if (options.dry_run) return PrintPlan(reconciler, sources.desired());
  LogOwnershipMark(kernel, addresses);
  LastGoodRecorder recorder(last_good_file, std::move(last_good));
  return RunLoop(options, sources, reconciler, recorder);
}

}  // namespace lvsrs
