// Established TCP connections per local address, counted the way `ss -tn state established src
// ADDR` does but without a process: one NETLINK_SOCK_DIAG dump (inet_diag) per address family.
// A VIP that drains is withdrawn once this is 0 (reconcile/drain.h).
#pragma once

#include <cstddef>
#include <map>
#include <vector>

#include "model/ip_address.h"

namespace lvsrs {

// Per address of `addresses` (each present, 0 when none), the ESTABLISHED TCP sockets of this
// network namespace whose local address it is: the server side of connections to a VIP, and any
// connection the node opened from it. An IPv4 connection accepted on a dual-stack IPv6 socket
// (local ::ffff:a.b.c.d) counts for the IPv4 address. Only the families of `addresses` are
// dumped. Throws KernelError naming the step and the errno.
std::map<IpAddress, std::size_t> CountEstablishedConnections(const std::vector<IpAddress>& addresses);

}  // namespace lvsrs
