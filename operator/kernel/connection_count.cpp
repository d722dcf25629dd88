#include "kernel/connection_count.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "kernel/kernel_api.h"
#include "kernel/unique_fd.h"

namespace lvsrs {
namespace {

constexpr int kTcpEstablished = 1;  // TCP_ESTABLISHED of include/net/tcp_states.h

std::string ErrnoText(const std::string& what, int err) {
  return "counting connections (NETLINK_SOCK_DIAG): " + what + ": " + std::strerror(err);
}

// The local address of one socket, IPv4-mapped IPv6 as IPv4 (a dual-stack listener's accept).
IpAddress LocalAddress(const inet_diag_msg& m) {
  if (m.idiag_family == AF_INET) return IpAddress::FromBytes(Family::V4, m.id.idiag_src);
  const auto* b = reinterpret_cast<const std::uint8_t*>(m.id.idiag_src);
  static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMapped, sizeof kMapped) == 0) return IpAddress::FromBytes(Family::V4, b + 12);
  return IpAddress::FromBytes(Family::V6, b);
}

// One dump of the ESTABLISHED TCP sockets of `family`; counts those whose local address is in out.
void CountFamily(int family, std::map<IpAddress, std::size_t>& out) {
  UniqueFd fd{socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)};
  if (fd.fd < 0) throw KernelError(ErrnoText("socket", errno));
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } request{};
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.nlh.nlmsg_seq = 1;
  request.req.sdiag_family = static_cast<std::uint8_t>(family);
  request.req.sdiag_protocol = IPPROTO_TCP;
  request.req.idiag_states = 1U << kTcpEstablished;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(fd.fd, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0)
    throw KernelError(ErrnoText("send the dump request", errno));

  // Room for many replies per datagram; the kernel fills each one up to the buffer it is given.
  std::vector<nlmsghdr> storage(std::size_t{64} * 1024 / sizeof(nlmsghdr));  // nlmsghdr-aligned bytes
  char* const buf = reinterpret_cast<char*>(storage.data());
  const std::size_t size = storage.size() * sizeof(nlmsghdr);
  for (;;) {
    const ssize_t n = recv(fd.fd, buf, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw KernelError(ErrnoText("read the dump", errno));
    }
    if (n == 0) throw KernelError("counting connections (NETLINK_SOCK_DIAG): the dump ended early");
    auto len = static_cast<unsigned>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        throw KernelError(ErrnoText(
            std::string("the kernel refused the ") + (family == AF_INET ? "IPv4" : "IPv6") + " dump", -e->error));
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY || h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
      const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      if (m->idiag_state != kTcpEstablished) continue;
      auto it = out.find(LocalAddress(*m));
      if (it != out.end()) ++it->second;
    }
  }
}

}  // namespace

std::map<IpAddress, std::size_t> CountEstablishedConnections(const std::vector<IpAddress>& addresses) {
  std::map<IpAddress, std::size_t> out;
  bool v4 = false;
  bool v6 = false;
  for (const auto& ip : addresses) {
    out[ip] = 0;
    (ip.is_v4() ? v4 : v6) = true;
  }
  // IPv4 connections on dual-stack IPv6 sockets are in the IPv6 dump, so it runs for IPv4 too.
  if (v4 || v6) CountFamily(AF_INET6, out);
  if (v4) CountFamily(AF_INET, out);
  return out;
}

}  // namespace lvsrs
