#include "kernel/address_request.h"

#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <sys/socket.h>

#include "kernel/kernel_api.h"
#include "reconcile/address_ownership.h"

namespace lvsrs {

NlMsgPtr AddressRequest(int type, int flags, const AddressChange& c, bool add) {
  NlMsgPtr m = NewRequest(type, flags);
  ifaddrmsg ifa{};
  ifa.ifa_family = static_cast<unsigned char>(c.ip.is_v4() ? AF_INET : AF_INET6);
  ifa.ifa_prefixlen = c.ip.host_prefix();
  ifa.ifa_index = static_cast<unsigned>(c.ifindex);
  // IPv4: host scope (kVipScope says why). IPv6 derives scope from the address; the field is ignored.
  ifa.ifa_scope = c.ip.is_v4() ? kVipScope : static_cast<std::uint8_t>(RT_SCOPE_UNIVERSE);
  const std::uint32_t addr_flags = VipAddressFlags(c.ip);
  // The low 8 bits travel in the header too, for kernels older than IFA_FLAGS (3.14).
  ifa.ifa_flags = static_cast<std::uint8_t>(addr_flags & 0xff);
  AppendHeader(m.get(), ifa);
  PutAddress(m.get(), IFA_LOCAL, c.ip);
  PutAddress(m.get(), IFA_ADDRESS, c.ip);
  if (add) {
    if (nla_put_u32(m.get(), IFA_FLAGS, addr_flags) < 0) throw KernelError("netlink: message too large");
    if (c.ip.is_v4()) {
      const std::string label = OwnerLabel(c.interface);
      if (!label.empty() && nla_put_string(m.get(), IFA_LABEL, label.c_str()) < 0)
        throw KernelError("netlink: message too large");
    }
    if (AddedDeprecated(c.ip)) {
      // Preferred lifetime 0: the kernel flags it "deprecated" at once and keeps it for the valid
      // lifetime, forever (INFINITY_LIFE_TIME).
      ifa_cacheinfo ci{};
      ci.ifa_prefered = 0;
      ci.ifa_valid = 0xFFFFFFFFU;
      if (nla_put(m.get(), IFA_CACHEINFO, sizeof ci, &ci) < 0) throw KernelError("netlink: message too large");
    }
    if (nla_put_u8(m.get(), IFA_PROTO, kOwnerProtocol) < 0) throw KernelError("netlink: message too large");
  }
  return m;
}

}  // namespace lvsrs
