#include <chrono>
#include <cstdio>
#include <optional>

#include "agent/reconciler.h"
#include "agent/state_dir_lock.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "kernel/rtnl_kernel.h"

namespace lvsrs {

int CleanupCommand(int argc, char** argv) {
  Flags flags({
      {"state-dir", true, "where original sysctl values (and, on kernels before 5.18, added addresses) are recorded",
       "/var/lib/lvs-rs-operator"},
      {"dry-run", false, "print what would be removed and restored", ""},
      {"help", false, "show this help", ""},
  });
  std::string err;
  if (!flags.Parse(argc, argv, 2, err) || !flags.positional().empty()) {
    std::fprintf(stderr, "cleanup: %s\n\nFlags:\n%s", err.empty() ? "unexpected argument" : err.c_str(),
                 flags.Help().c_str());
    return kExitUsage;
  }
  if (flags.Has("help")) {
    std::printf(
        "Usage: lvs-rs-operator cleanup [flags]\n\nRemoves every address and route carrying the "
        "operator's mark and restores recorded sysctls.\n\nFlags:\n%s",
        flags.Help().c_str());
    return kExitOk;
  }
  const std::string state_dir = flags.Get("state-dir").value_or("/var/lib/lvs-rs-operator");
  // A running agent would put back whatever cleanup removes, and the two would drop each other's
  // sysctl records: refuse at once, naming the holder, rather than wait for an agent that may
  // never stop. --dry-run only reads.
  std::optional<StateDirLock> lock;
  try {
    if (!flags.Has("dry-run")) lock.emplace(state_dir, "cleanup", std::chrono::milliseconds(0));
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "cleanup: %s; stop the agent on this node first (it would put back what cleanup removes)\n",
                 e.what());
    return kExitNotConformant;
  }
  RtnlKernel kernel;
  SysctlRecordFile store(state_dir);
  AddressRecordFile addresses(state_dir);
  Reconciler reconciler(kernel, store, addresses, flags.Has("dry-run"));
  reconciler.LoadRecords();
  // Cleanup is a reconcile towards "no VirtualIP": the same diff removes only what carries our
  // mark and restores only what we recorded.
  const ReconcileOutcome o = reconciler.Reconcile({}, NodeInfo{});
  if (!o.error.empty()) {
    std::fprintf(stderr, "cleanup: %s\n", o.error.c_str());
    return kExitNotConformant;
  }
  const std::string text = o.plan.ToText();
  std::fputs(text.empty() ? "nothing owned by lvs-rs-operator here\n" : text.c_str(), stdout);
  if (!o.applied.ok()) {
    for (const auto& [item, m] : o.applied.errors) std::fprintf(stderr, "failed: %s\n", m.c_str());
    return kExitNotConformant;
  }
  return kExitOk;
}

}  // namespace lvsrs
