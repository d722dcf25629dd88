// A NETLINK_ROUTE socket (libnl) that pipelines requests: many messages per sendmsg, acks
// matched back by sequence number. One round trip per request is what makes `ip` slow at
// thousands of VIPs; the kernel processes every message of a batch even when one fails.
#pragma once

#include <netlink/msg.h>
#include <netlink/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "model/ip_address.h"

namespace lvsrs {

struct NlSockDeleter {
  void operator()(nl_sock* s) const { nl_socket_free(s); }
};
using NlSockPtr = std::unique_ptr<nl_sock, NlSockDeleter>;

struct NlMsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgDeleter>;

// Allocates a request message; throws KernelError on allocation failure.
NlMsgPtr NewRequest(int type, int flags);
// The fixed header of a request (ifaddrmsg, rtmsg, ...); throws KernelError when it does not fit.
void AppendHeaderBytes(nl_msg* m, const void* hdr, std::size_t size);
template <typename T>
void AppendHeader(nl_msg* m, const T& hdr) {
  AppendHeaderBytes(m, &hdr, sizeof hdr);
}
// An address attribute (IFA_LOCAL, RTA_DST, ...); throws KernelError when it does not fit.
void PutAddress(nl_msg* m, int type, const IpAddress& ip);

struct AckResult {
  int error = 0;        // positive errno, 0 on success
  std::string message;  // strerror plus the kernel's extended ack, when error != 0
};

class NetlinkSocket {
 public:
  NetlinkSocket();  // connects; throws KernelError with the reason
  ~NetlinkSocket() = default;
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  NetlinkSocket(NetlinkSocket&&) = default;
  NetlinkSocket& operator=(NetlinkSocket&&) = default;

  // Sends every request with NLM_F_ACK and returns one AckResult per request, in order.
  std::vector<AckResult> Transact(std::vector<NlMsgPtr>& requests);
  // One dump request; on_msg sees each reply. Retries when the kernel flags the dump as
  // interrupted (NLM_F_DUMP_INTR: the table changed under it). Throws KernelError.
  // on_restart is called before such a retry so the caller can discard what it collected.
  void Dump(NlMsgPtr request, const std::function<void(nlmsghdr*)>& on_msg, const std::function<void()>& on_restart);
  // One request answered by one message (RTM_GETROUTE for an address: `ip route get`); on_reply
  // sees it. Returns 0, or the errno the kernel answered with (ENETUNREACH: no route). Throws
  // KernelError when the socket fails.
  int Request(NlMsgPtr request, const std::function<void(nlmsghdr*)>& on_reply);

  std::size_t requests_sent() const { return requests_sent_; }

 private:
  // Receives one datagram; returns its size, or -errno.
  long Receive();

  NlSockPtr sock_;
  // Not zero-filled: a std::vector<char> wrote all 256 KiB, so every page stayed resident for the
  // life of the agent, where recv() writes one datagram at a time (a dump's are at most ~32 KiB).
  static constexpr std::size_t kReceiveBytes = std::size_t{256} * 1024;
  std::unique_ptr<char[]> buf_ = std::make_unique_for_overwrite<char[]>(kReceiveBytes);
  unsigned seq_ = 1;
  std::size_t requests_sent_ = 0;
};

}  // namespace lvsrs
