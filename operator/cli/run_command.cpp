#include <malloc.h>

#include <cstdio>
#include <memory>

#include "agent/agent_loop.h"
#include "agent/file_source.h"
#include "agent/log.h"
#include "agent/reconciler.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/node_identity.h"
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
      {"state-dir", true, "where original sysctl values are recorded", "/var/lib/lvs-rs-operator"},
      {"once", false, "converge, verify and exit (0 conformant, 1 not)", ""},
      {"dry-run", false, "print the plan and change nothing", ""},
      {"log-level", true, "debug, info, warning or error", "info"},
      {"metrics-bind-address", true, "Prometheus /metrics listener, [HOST]:PORT or 0 to disable",
       kDefaultMetricsBindAddress},
      {"health-probe-bind-address", true, "/healthz and /readyz listener, [HOST]:PORT or 0 to disable",
       kDefaultHealthProbeBindAddress},
      {"help", false, "show this help", ""},
  };
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
  if (auto lvl = flags.Get("log-level")) {
    if (*lvl == "debug")
      SetLogLevel(LogLevel::Debug);
    else if (*lvl == "info")
      SetLogLevel(LogLevel::Info);
    else if (*lvl == "warning")
      SetLogLevel(LogLevel::Warning);
    else if (*lvl == "error")
      SetLogLevel(LogLevel::Error);
    else {
      std::fprintf(stderr, "run: --log-level must be debug, info, warning or error\n");
      return kExitUsage;
    }
  }
  AgentLoop::Options opts;
  if (auto d = flags.Get("resync-period")) {
    auto parsed = ParseDuration(*d);
    if (!parsed || parsed->count() < 100) {
      std::fprintf(stderr, "run: --resync-period must be a duration from 100ms to 1000h, like 2s\n");
      return kExitUsage;
    }
    opts.resync_period = *parsed;
  }
  if (auto d = flags.Get("full-resync-period")) {
    auto parsed = ParseDuration(*d);
    if (!parsed || parsed->count() < 100) {
      std::fprintf(stderr, "run: --full-resync-period must be a duration from 100ms to 1000h, like 5m\n");
      return kExitUsage;
    }
    opts.full_resync_period = *parsed;
  }
  opts.once = flags.Has("once");
  NodeInfo node;
  if (!NodeFromFlags(flags, node, err)) {
    std::fprintf(stderr, "run: %s\n", err.c_str());
    return kExitUsage;
  }
  MonitoringOptions monitoring_opts;
  if (!MonitoringOptionsFromFlags(flags.Get("metrics-bind-address"), flags.Get("health-probe-bind-address"),
                                  opts.resync_period, monitoring_opts, err)) {
    std::fprintf(stderr, "run: %s\n", err.c_str());
    return kExitUsage;
  }
  // One-shot runs have nothing to scrape or probe.
  Monitoring monitoring(opts.once ? MonitoringOptions::Disabled() : monitoring_opts);
  const auto file = flags.Get("file");
  if (file && flags.Has("kubeconfig")) {
    std::fprintf(stderr, "run: --file and --kubeconfig exclude each other\n");
    return kExitUsage;
  }

  std::unique_ptr<FileSource> file_source;
  std::unique_ptr<kube::KubernetesMode> kube_mode;  // Kubernetes mode: run without --file
  if (file) {
    try {
      file_source = std::make_unique<FileSource>(*file, node);
    } catch (const FileError& e) {
      std::fprintf(stderr, "run: invalid input, nothing changed:\n%s\n", e.what());
      return kExitUsage;
    }
  } else {
    const auto watch_timeout = ParseDuration(flags.Get("watch-timeout").value_or("5m"));
    if (!watch_timeout || watch_timeout->count() < 1000) {
      std::fprintf(stderr, "run: --watch-timeout must be a duration from 1s to 1000h, like 5m\n");
      return kExitUsage;
    }
    try {
      kube_mode = std::make_unique<kube::KubernetesMode>(
          flags.Get("kubeconfig").value_or(""), node.name,
          static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(*watch_timeout).count()));
    } catch (const kube::ConfigError& e) {
      std::fprintf(stderr, "run: Kubernetes mode (no --file): %s\n", e.what());
      return kExitUsage;
    }
    // --once and --dry-run take a single look: never at an unsynced (empty) view.
    if ((opts.once || flags.Has("dry-run")) && !kube_mode->WaitForSync(std::chrono::seconds(60))) {
      std::fprintf(stderr, "run: no complete list of VirtualIPs and Node %s from %s within 60s; nothing changed\n",
                   node.name.c_str(), kube_mode->origin().c_str());
      return kExitNotConformant;
    }
  }
  DesiredSource* source = file_source ? static_cast<DesiredSource*>(file_source.get()) : &kube_mode->source();

  RtnlKernel kernel;
  SysctlRecordFile store(flags.Get("state-dir").value_or("/var/lib/lvs-rs-operator"));
  Reconciler reconciler(kernel, store, flags.Has("dry-run"));
  reconciler.LoadRecords();

  if (flags.Has("dry-run")) {
    const auto snap = source->Get();
    const ReconcileOutcome o = reconciler.Reconcile(snap.vips, snap.node);
    if (!o.error.empty()) {
      std::fprintf(stderr, "run: %s\n", o.error.c_str());
      return kExitNotConformant;
    }
    for (const auto& [name, r] : snap.refused)
      std::printf("%s VirtualIP %s: %s\n", r.serving_last_good ? "keep" : "refuse", name.c_str(), r.message.c_str());
    for (const auto& [name, why] : o.desired.refused)
      std::printf("refuse VirtualIP %s: %s\n", name.c_str(), why.c_str());
    const std::string text = o.plan.ToText();
    std::fputs(text.empty() ? "nothing to do\n" : text.c_str(), stdout);
    return kExitOk;
  }

  LogInfo("lvs-rs-operator " LVSRS_VERSION " on node " + node.name + ", VirtualIPs from " +
          (file ? *file : "the API server (" + kube_mode->origin() + ")"));
  AgentLoop loop(reconciler, *source, opts);
  bool trim_due = false;
  if (kube_mode) {
    kube_mode->Attach(loop);
    // The kube code keeps its own counters; mirror them into lvs_rs_kube_* after every pass
    // and every unchanged ARP poll (so at least once per resync period), so it needs no
    // dependency on prometheus-cpp.
    auto mirror = [&kube_mode, &monitoring, seen = std::make_shared<std::uint64_t>(0)] {
      const auto st = kube_mode->stats();
      monitoring.kube().SetSynced(st.synced);
      for (; *seen < st.watch_restarts; ++*seen) monitoring.kube().WatchRestarted();
    };
    loop.AddObserver([mirror](const ReconcileOutcome&) { mirror(); });
    loop.AddUnchangedObserver(mirror);
  }
  // glibc keeps what a pass freed (the YAML documents, dumps of every address and route, the
  // plan) in its heaps instead of returning it: after converging 1,000 VIPs, 9 of 21 MiB RSS
  // were free heap. Give it back once things are quiet again: at the first unchanged ARP poll
  // after a pass, so at most once per --resync-period, and never while nothing happens.
  loop.AddObserver([&trim_due](const ReconcileOutcome&) { trim_due = true; });
  loop.AddUnchangedObserver([&trim_due] {
    if (trim_due) malloc_trim(0);
    trim_due = false;
  });
  const auto serving = monitoring.Serve(loop);
  const int rc = loop.Run();
  if (kube_mode) kube_mode->Stop();  // before the loop it wakes goes away
  return rc;
}

}  // namespace lvsrs
