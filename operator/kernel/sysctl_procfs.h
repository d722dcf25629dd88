// /proc/sys/net/ipv4/conf/<conf>/<key> for the network namespace of the calling thread.
// procfs is the only way to write conf/all and conf/default (RTM_SETNETCONF does not exist);
// per-interface values go through netlink instead (kernel/rtnl_kernel.cpp). The IPv6 settings the
// NDP model reads (net/ipv6/conf/all) are read the same way.
#pragma once

#include <optional>
#include <string>

#include "reconcile/observed_state.h"

namespace lvsrs {

class SysctlProcfs {
 public:
  explicit SysctlProcfs(std::string root = "/proc/sys/net/ipv4/conf", std::string ipv6_root = "/proc/sys/net/ipv6/conf")
      : root_(std::move(root)), ipv6_root_(std::move(ipv6_root)) {}
  std::optional<int> Read(const SysctlKey& key) const;
  // nullopt also when the kernel runs without IPv6 (no /proc/sys/net/ipv6).
  std::optional<int> Read(const NdpSysctlKey& key) const;
  // Returns "" on success, else the reason ("open ...: Read-only file system").
  std::string Write(const SysctlKey& key, int value) const;

 private:
  std::string Path(const SysctlKey& key) const;
  std::string root_;
  std::string ipv6_root_;
};

}  // namespace lvsrs
