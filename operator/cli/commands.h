// Subcommands of lvs-rs-operator. Each returns the process exit code:
// 0 success/conformant, 1 not conformant or runtime failure, 2 usage or input error.
#pragma once

namespace lvsrs {

int RunCommand(int argc, char** argv);
int CheckCommand(int argc, char** argv);
int CleanupCommand(int argc, char** argv);
int DrainCommand(int argc, char** argv);

inline constexpr int kExitOk = 0;
inline constexpr int kExitNotConformant = 1;
inline constexpr int kExitUsage = 2;

}  // namespace lvsrs
