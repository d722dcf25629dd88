// The real KernelApi: rtnetlink through libnl for links, addresses, routes and per-interface
// ARP settings; /proc/sys for conf/all and conf/default. Acts on the network namespace the
// process runs in (the host's, under hostNetwork).
#pragma once

#include <memory>
#include <optional>

#include "kernel/address_protocol_probe.h"
#include "kernel/kernel_api.h"
#include "kernel/sysctl_procfs.h"

namespace lvsrs {

class NetlinkSocket;  // libnl stays inside kernel/

class RtnlKernel : public KernelApi {
 public:
  explicit RtnlKernel(SysctlProcfs procfs = SysctlProcfs());
  ~RtnlKernel() override;
  RtnlKernel(const RtnlKernel&) = delete;
  RtnlKernel& operator=(const RtnlKernel&) = delete;
  ObservedState Observe() override;
  // conf/all, default and lo through /proc/sys (6 small reads in Global scope, no netlink);
  // any other interface's keys through one link dump, which carries every interface's values.
  SysctlValues ObserveSysctls(const std::vector<SysctlKey>& keys) override;
  ApplyResult Apply(const Plan& plan) override;
  std::map<IpAddress, std::size_t> CountEstablished(const std::vector<IpAddress>& addresses) override;
  std::size_t RequestCount() const override;
  bool KeepsAddressProtocol() override { return AddressProtocol().kept; }
  // The IFA_PROTO probe (ProbeAddressProtocol), run once, on the first call.
  const AddressProtocolProbe& AddressProtocol();

 private:
  std::unique_ptr<NetlinkSocket> sock_;
  SysctlProcfs procfs_;
  std::optional<AddressProtocolProbe> address_protocol_;
};

}  // namespace lvsrs
