// LD_PRELOAD library: this kernel as one before Linux 5.18 in the one way the operator's ownership
// depends on. Old kernels parse RTM_NEWADDR up to their IFA_MAX and ignore attributes past it, so
// an address is stored without IFA_PROTO and every later dump shows none. This library removes
// IFA_PROTO from each RTM_NEWADDR the process sends on a NETLINK_ROUTE socket (libnl's nl_sendto
// calls sendto()), so the kernel never sees it: the operator's probe finds the mark dropped and its
// adds are stored unmarked, exactly as on such a kernel. Everything else passes unchanged.
#include <dlfcn.h>
#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <algorithm>
#include <vector>

namespace {

using SendTo = ssize_t (*)(int, const void*, size_t, int, const sockaddr*, socklen_t);

bool IsNetlinkRoute(int fd) {
  sockaddr_storage sa{};
  socklen_t salen = sizeof sa;
  int proto = -1;
  socklen_t plen = sizeof proto;
  return getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &salen) == 0 && sa.ss_family == AF_NETLINK &&
         getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto, &plen) == 0 && proto == NETLINK_ROUTE;
}

// The messages of buf, each RTM_NEWADDR without its IFA_PROTO attribute.
std::vector<char> WithoutAddressProtocol(const char* buf, size_t len) {
  std::vector<char> out;
  size_t off = 0;
  while (off + NLMSG_HDRLEN <= len) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(buf + off);
    if (h->nlmsg_len < NLMSG_HDRLEN || off + h->nlmsg_len > len) break;
    const size_t start = out.size();
    const char* msg = buf + off;
    if (h->nlmsg_type == RTM_NEWADDR && h->nlmsg_len >= NLMSG_SPACE(sizeof(ifaddrmsg))) {
      size_t at = NLMSG_SPACE(sizeof(ifaddrmsg));
      out.insert(out.end(), msg, msg + at);
      while (at + sizeof(nlattr) <= h->nlmsg_len) {
        const auto* a = reinterpret_cast<const nlattr*>(msg + at);
        if (a->nla_len < sizeof(nlattr) || at + a->nla_len > h->nlmsg_len) break;
        const size_t span = std::min<size_t>(NLA_ALIGN(a->nla_len), h->nlmsg_len - at);
        if ((a->nla_type & NLA_TYPE_MASK) != IFA_PROTO) out.insert(out.end(), msg + at, msg + at + span);
        at += span;
      }
      reinterpret_cast<nlmsghdr*>(out.data() + start)->nlmsg_len = static_cast<__u32>(out.size() - start);
    } else {
      out.insert(out.end(), msg, msg + h->nlmsg_len);
    }
    out.resize(start + NLMSG_ALIGN(out.size() - start));
    off += NLMSG_ALIGN(h->nlmsg_len);
  }
  if (off < len) out.insert(out.end(), buf + off, buf + len);
  return out;
}

}  // namespace

extern "C" ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to, socklen_t tolen) {
  static const auto real = reinterpret_cast<SendTo>(dlsym(RTLD_NEXT, "sendto"));
  if (!IsNetlinkRoute(fd)) return real(fd, buf, len, flags, to, tolen);
  const std::vector<char> out = WithoutAddressProtocol(static_cast<const char*>(buf), len);
  const ssize_t n = real(fd, out.data(), out.size(), flags, to, tolen);
  return n < 0 ? n : static_cast<ssize_t>(len);
}
