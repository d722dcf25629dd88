// Wake-ups from the kernel: a netlink socket subscribed to link, address and route changes, and
// to changes of the IPv6 settings the NDP model reads (forwarding, proxy_ndp).
// Events only wake the reconciler, which re-reads everything (level-triggered), so a lost or
// coalesced event costs nothing as long as we notice it: ENOBUFS (our buffer overflowed during
// a burst) is reported as an overflow, which triggers a full resync like any event.
// ARP sysctls have no netlink notification at all; they are polled every resync period.
#pragma once

#include <cstddef>
#include <memory>

struct nl_sock;

namespace lvsrs {

class NetlinkEvents {
 public:
  NetlinkEvents();  // throws KernelError
  int fd() const;
  struct Drained {
    int events = 0;
    bool overflow = false;
  };
  // Reads everything pending without blocking.
  Drained Drain();

 private:
  struct SockDeleter {
    void operator()(nl_sock* s) const;
  };
  std::unique_ptr<nl_sock, SockDeleter> sock_;
  // Not zero-filled, so that only the pages recv() writes become resident (NetlinkSocket's note).
  static constexpr std::size_t kReceiveBytes = std::size_t{64} * 1024;
  std::unique_ptr<char[]> buf_ = std::make_unique_for_overwrite<char[]>(kReceiveBytes);
};

}  // namespace lvsrs
