#include "kernel/netlink_socket.h"

#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "kernel/kernel_api.h"

namespace lvsrs {
namespace {

// Requests in flight before we drain acks. Each ack is its own skb charged against our receive
// buffer; past it the kernel drops acks with ENOBUFS.
constexpr std::size_t kWindow = 512;
constexpr std::size_t kSendChunk = std::size_t{64} * 1024;
constexpr int kRcvBuf = 8 * 1024 * 1024;

std::string ErrnoText(int err) { return std::strerror(err); }

void SetSockOpt(int fd, int level, int opt, int value) {
  (void)setsockopt(fd, level, opt, &value, sizeof value);  // best effort: older kernels lack some
}

AckResult ParseAck(nlmsghdr* h) {
  const auto* e = static_cast<const nlmsgerr*>(nlmsg_data(h));
  AckResult r;
  r.error = -e->error;
  if (r.error == 0) return r;
  r.message = ErrnoText(r.error);
  if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
    // Extended ack TLVs follow the error header (and the echoed request unless capped).
    std::size_t off = NLMSG_HDRLEN + sizeof(nlmsgerr);
    if (!(h->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - NLMSG_HDRLEN;
    if (off < h->nlmsg_len) {
      nlattr* tb[NLMSGERR_ATTR_MAX + 1] = {};
      auto* attrs = reinterpret_cast<nlattr*>(reinterpret_cast<char*>(h) + off);
      if (nla_parse(tb, NLMSGERR_ATTR_MAX, attrs, static_cast<int>(h->nlmsg_len - off), nullptr) == 0 &&
          tb[NLMSGERR_ATTR_MSG])
        r.message += " (" + std::string(nla_get_string(tb[NLMSGERR_ATTR_MSG])) + ")";
    }
  }
  return r;
}

}  // namespace

NlMsgPtr NewRequest(int type, int flags) {
  NlMsgPtr msg(nlmsg_alloc_simple(type, flags | NLM_F_REQUEST));
  if (!msg) throw KernelError("netlink: cannot allocate a message");
  return msg;
}

void AppendHeaderBytes(nl_msg* m, const void* hdr, std::size_t size) {
  if (nlmsg_append(m, const_cast<void*>(hdr), size, NLMSG_ALIGNTO) < 0) throw KernelError("netlink: message too large");
}

void PutAddress(nl_msg* m, int type, const IpAddress& ip) {
  if (nla_put(m, type, static_cast<int>(ip.size()), ip.bytes()) < 0) throw KernelError("netlink: message too large");
}

NetlinkSocket::NetlinkSocket() : sock_(nl_socket_alloc()) {
  if (!sock_) throw KernelError("netlink: cannot allocate a socket");
  nl_socket_disable_seq_check(sock_.get());
  nl_socket_disable_auto_ack(sock_.get());
  if (int err = nl_connect(sock_.get(), NETLINK_ROUTE); err < 0)
    throw KernelError(std::string("netlink: cannot connect NETLINK_ROUTE: ") + nl_geterror(err));
  const int fd = nl_socket_get_fd(sock_.get());
  // Bigger buffers keep a pipeline of acks and large dumps from overflowing. FORCE needs
  // CAP_NET_ADMIN, which the operator has; the plain option is the fallback.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &kRcvBuf, sizeof kRcvBuf) != 0)
    SetSockOpt(fd, SOL_SOCKET, SO_RCVBUF, kRcvBuf);
  SetSockOpt(fd, SOL_NETLINK, NETLINK_EXT_ACK, 1);         // error strings from the kernel
  SetSockOpt(fd, SOL_NETLINK, NETLINK_CAP_ACK, 1);         // acks without a copy of our request
  SetSockOpt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, 1);  // lets route dumps filter by table
}

long NetlinkSocket::Receive() {
  const int fd = nl_socket_get_fd(sock_.get());
  for (;;) {
    const ssize_t n = recv(fd, buf_.get(), kReceiveBytes, 0);
    if (n >= 0) return n;
    if (errno == EINTR) continue;
    return -errno;
  }
}

std::vector<AckResult> NetlinkSocket::Transact(std::vector<NlMsgPtr>& requests) {
  std::vector<AckResult> results(requests.size());
  std::size_t next = 0;
  while (next < requests.size()) {
    const std::size_t end = std::min(requests.size(), next + kWindow);
    std::unordered_map<unsigned, std::size_t> pending;  // seq -> request index
    std::vector<char> out;
    std::vector<std::size_t> in_chunk;
    auto flush = [&] {
      if (out.empty()) return;
      if (nl_sendto(sock_.get(), out.data(), out.size()) < 0) {
        // Nothing of this chunk reached the kernel: fail its requests, keep going with the rest.
        const int err = errno ? errno : EIO;
        for (std::size_t idx : in_chunk) {
          results[idx] = AckResult{err, "sendmsg: " + ErrnoText(err)};
          pending.erase(nlmsg_hdr(requests[idx].get())->nlmsg_seq);
        }
      }
      out.clear();
      in_chunk.clear();
    };
    for (std::size_t i = next; i < end; ++i) {
      nlmsghdr* h = nlmsg_hdr(requests[i].get());
      h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
      h->nlmsg_seq = seq_++;
      h->nlmsg_pid = 0;
      if (out.size() + NLMSG_ALIGN(h->nlmsg_len) > kSendChunk) flush();
      const char* p = reinterpret_cast<const char*>(h);
      out.insert(out.end(), p, p + NLMSG_ALIGN(h->nlmsg_len));
      pending[h->nlmsg_seq] = i;
      in_chunk.push_back(i);
      ++requests_sent_;
    }
    flush();
    while (!pending.empty()) {
      const long n = Receive();
      if (n < 0) {
        // ENOBUFS: acks were dropped and we cannot tell which requests succeeded. Report them
        // failed; the next level-triggered reconcile re-reads the truth and retries.
        for (auto& [seq, idx] : pending)
          results[idx] = AckResult{static_cast<int>(-n), "reading acks: " + ErrnoText(static_cast<int>(-n))};
        break;
      }
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.get()); nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        auto it = pending.find(h->nlmsg_seq);
        if (it == pending.end()) continue;
        results[it->second] = ParseAck(h);
        pending.erase(it);
      }
    }
    next = end;
  }
  return results;
}

void NetlinkSocket::Dump(NlMsgPtr request, const std::function<void(nlmsghdr*)>& on_msg,
                         const std::function<void()>& on_restart) {
  nlmsghdr* req = nlmsg_hdr(request.get());
  req->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
  for (int attempt = 0; attempt < 5; ++attempt) {
    req->nlmsg_seq = seq_++;
    if (nl_sendto(sock_.get(), req, req->nlmsg_len) < 0)
      throw KernelError("netlink dump: sendmsg: " + ErrnoText(errno));
    ++requests_sent_;
    bool done = false, interrupted = false;
    while (!done) {
      const long n = Receive();
      if (n < 0) throw KernelError("netlink dump: recv: " + ErrnoText(static_cast<int>(-n)));
      int len = static_cast<int>(n);
      for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.get()); nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
        if (h->nlmsg_seq != req->nlmsg_seq) continue;  // a late ack from an earlier exchange
        if (h->nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (h->nlmsg_type == NLMSG_DONE) {
          done = true;
          break;
        }
        if (h->nlmsg_type == NLMSG_ERROR) {
          const auto* e = static_cast<const nlmsgerr*>(nlmsg_data(h));
          throw KernelError("netlink dump: " + ErrnoText(-e->error));
        }
        if (!interrupted) on_msg(h);
      }
    }
    if (!interrupted) return;
    on_restart();  // the table changed during the dump: what we saw may be torn, read it again
  }
  throw KernelError("netlink dump: interrupted five times in a row (state changing too fast)");
}

int NetlinkSocket::Request(NlMsgPtr request, const std::function<void(nlmsghdr*)>& on_reply) {
  nlmsghdr* req = nlmsg_hdr(request.get());
  req->nlmsg_flags |= NLM_F_REQUEST;  // no NLM_F_ACK: the answer is the reply, or an error
  req->nlmsg_seq = seq_++;
  if (nl_sendto(sock_.get(), req, req->nlmsg_len) < 0)
    throw KernelError("netlink request: sendmsg: " + ErrnoText(errno));
  ++requests_sent_;
  for (;;) {
    const long n = Receive();
    if (n < 0) throw KernelError("netlink request: recv: " + ErrnoText(static_cast<int>(-n)));
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.get()); nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
      if (h->nlmsg_seq != req->nlmsg_seq) continue;  // a late ack from an earlier exchange
      if (h->nlmsg_type == NLMSG_ERROR) return -static_cast<const nlmsgerr*>(nlmsg_data(h))->error;
      on_reply(h);
      return 0;
    }
  }
}

}  // namespace lvsrs
