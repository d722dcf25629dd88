// `lvs-rs-operator drain [--undo]`: asks the agent on this node to drain every VIP (file mode and
// Kubernetes mode alike), the way an SRE takes a real server out before a kernel upgrade. The
// request is a file in the state directory: it needs no running agent to be given, survives a
// restart of the agent, and the agent notices it within a second (agent/drain_record.h).
#include <chrono>
#include <cstdio>

#include "agent/drain_record.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "model/rfc3339.h"

namespace lvsrs {

int DrainCommand(int argc, char** argv) {
  Flags flags({
      {"state-dir", true, "the agent's state directory", "/var/lib/lvs-rs-operator"},
      {"undo", false, "cancel the drain: VIPs still on the node serve again, withdrawn ones come back", ""},
      {"help", false, "show this help", ""},
  });
  std::string err;
  if (!flags.Parse(argc, argv, 2, err) || !flags.positional().empty()) {
    std::fprintf(stderr, "drain: %s\n\nFlags:\n%s", err.empty() ? "unexpected argument" : err.c_str(),
                 flags.Help().c_str());
    return kExitUsage;
  }
  if (flags.Has("help")) {
    std::printf(
        "Usage: lvs-rs-operator drain [--undo] [flags]\n\nAsks the agent on this node to drain every VIP: each is "
        "reported Draining, kept while established TCP connections to it remain, and withdrawn when the last one "
        "closes or its VirtualIP's drainTimeout runs out. `check` shows the progress.\n\nFlags:\n%s",
        flags.Help().c_str());
    return kExitOk;
  }
  const DrainFile file(flags.Get("state-dir").value_or("/var/lib/lvs-rs-operator"));
  try {
    if (flags.Has("undo")) {
      file.Undo();
      std::printf("drain undone (%s removed): the agent serves this node's VIPs again\n", file.request_path().c_str());
    } else {
      file.Request("drain requested at " + FormatRfc3339(std::chrono::system_clock::now()) +
                   " by lvs-rs-operator drain; `lvs-rs-operator drain --undo` cancels it\n");
      std::printf("drain requested (%s): the agent drains this node's VIPs, then withdraws them\n",
                  file.request_path().c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "drain: %s\n", e.what());
    return kExitNotConformant;
  }
  return kExitOk;
}

}  // namespace lvsrs
