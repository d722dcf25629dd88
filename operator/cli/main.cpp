// lvs-rs-operator: keeps an LVS-DR real server's VIPs, host routes and ARP sysctls true.
#include <malloc.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "agent/agent_loop.h"
#include "cli/commands.h"

namespace {

constexpr const char* kUsage = R"(lvs-rs-operator: LVS-DR real-server node operator

Usage:
  lvs-rs-operator run [--file PATH] [flags]   reconcile VIPs, host routes and ARP sysctls continuously
  lvs-rs-operator check [--file PATH | --vip ADDR ...] [--output text|json]
                                             audit this node without changing anything
  lvs-rs-operator cleanup [--state-dir DIR]  remove everything the operator owns, restore sysctls
  lvs-rs-operator drain [--undo] [--state-dir DIR]
                                             drain every VIP of this node, then withdraw them (--undo: serve again)
  lvs-rs-operator version

Run a subcommand with --help for its flags.
Exit codes: 0 ok/conformant, 1 not conformant or failure, 2 usage or input error.
)";

}  // namespace

int main(int argc, char** argv) {
  // glibc gives each thread that allocates its own arena (up to 8 per core), and the HTTP and
  // kube threads would each keep one warm for the life of the agent. Two arenas bound that
  // memory while the loop and the kube threads' JSON parsing still do not take turns on one
  // lock, as they would with a single arena. Before any thread exists.
  mallopt(M_ARENA_MAX, 2);
  // Before any thread exists, so that every thread inherits the mask and only the loop's
  // signalfd sees SIGINT/SIGTERM.
  lvsrs::BlockStopSignals();
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? lvsrs::kExitUsage : lvsrs::kExitOk;
  }
  const std::string cmd = argv[1];
  try {
    if (cmd == "run") return lvsrs::RunCommand(argc, argv);
    if (cmd == "check") return lvsrs::CheckCommand(argc, argv);
    if (cmd == "cleanup") return lvsrs::CleanupCommand(argc, argv);
    if (cmd == "drain") return lvsrs::DrainCommand(argc, argv);
    if (cmd == "version" || cmd == "--version") {
      std::printf("lvs-rs-operator %s\n", LVSRS_VERSION);
      return lvsrs::kExitOk;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lvs-rs-operator %s: %s\n", cmd.c_str(), e.what());
    return lvsrs::kExitNotConformant;
  }
  std::fprintf(stderr, "lvs-rs-operator: unknown command \"%s\"\n\n%s", cmd.c_str(), kUsage);
  return lvsrs::kExitUsage;
}
