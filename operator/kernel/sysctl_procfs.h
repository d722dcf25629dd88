// /proc/sys/net/ipv4/conf/<conf>/<key> for the network namespace of the calling thread.
// procfs is the only way to write conf/all and conf/default (RTM_SETNETCONF does not exist);
// per-interface values go through netlink instead (kernel/rtnl_kernel.cpp).
#pragma once

#include <optional>
#include <string>

#include "reconcile/observed_state.h"

namespace lvsrs {

class SysctlProcfs {
 public:
  explicit SysctlProcfs(std::string root = "/proc/sys/net/ipv4/conf") : root_(std::move(root)) {}
  std::optional<int> Read(const SysctlKey& key) const;
  // Returns "" on success, else the reason ("open ...: Read-only file system").
  std::string Write(const SysctlKey& key, int value) const;

 private:
  std::string Path(const SysctlKey& key) const;
  std::string root_;
};

}  // namespace lvsrs
