#include "kernel/netlink_events.h"

#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <sys/socket.h>

#include <cerrno>

#include "kernel/kernel_api.h"

namespace lvsrs {

void NetlinkEvents::SockDeleter::operator()(nl_sock* s) const { nl_socket_free(s); }

NetlinkEvents::NetlinkEvents() : sock_(nl_socket_alloc()) {
  if (!sock_) throw KernelError("netlink events: cannot allocate a socket");
  nl_socket_disable_seq_check(sock_.get());
  if (int err = nl_connect(sock_.get(), NETLINK_ROUTE); err < 0)
    throw KernelError(std::string("netlink events: cannot connect: ") + nl_geterror(err));
  // IPV6_NETCONF: a change of IPv6 forwarding or proxy_ndp, which the NDP model reads (a new
  // anycast address comes as an anycast route in the local table). IPv6 proxy entries send no
  // notification at all (Linux 6.18): the full resync finds them.
  if (int err = nl_socket_add_memberships(sock_.get(), RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
                                          RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_IPV6_NETCONF, 0);
      err < 0)
    throw KernelError(std::string("netlink events: cannot subscribe: ") + nl_geterror(err));
  nl_socket_set_nonblocking(sock_.get());
}

int NetlinkEvents::fd() const { return nl_socket_get_fd(sock_.get()); }

NetlinkEvents::Drained NetlinkEvents::Drain() {
  Drained d;
  for (;;) {
    const ssize_t n = recv(fd(), buf_.get(), kReceiveBytes, MSG_DONTWAIT);
    if (n > 0) {
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.get()); nlmsg_ok(h, len); h = nlmsg_next(h, &len)) ++d.events;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ENOBUFS) {
      d.overflow = true;  // notifications were lost: the caller resyncs everything
      continue;
    }
    return d;  // EAGAIN (drained), or a socket error that the next resync will surface
  }
}

}  // namespace lvsrs
