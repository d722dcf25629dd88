#include "metrics/bounded_tcp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <vector>

#include "agent/log.h"
#include "kernel/unique_fd.h"

namespace lvsrs {
namespace {

using SteadyClock = std::chrono::steady_clock;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; the VIP table holds a.b.c.d.
IpAddress FromSockaddr(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    return IpAddress::FromBytes(Family::V4, &in.sin_addr);
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
  if (IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr)) return IpAddress::FromBytes(Family::V4, &in6.sin6_addr.s6_addr[12]);
  return IpAddress::FromBytes(Family::V6, &in6.sin6_addr);
}

// Binds and listens on one address; "" is every address: IPv6 dual-stack where the node has IPv6,
// else IPv4. Returns the socket, or -1 with `why` set.
UniqueFd Listen(const BindAddress& bind, std::string& why) {
  struct Try {
    int family;
    std::string host;
  };
  std::vector<Try> tries;
  if (bind.host.empty())
    tries = {{AF_INET6, "::"}, {AF_INET, "0.0.0.0"}};
  else
    tries = {{bind.host.find(':') != std::string::npos ? AF_INET6 : AF_INET, bind.host}};
  for (const Try& t : tries) {
    UniqueFd fd{socket(t.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    if (fd.fd < 0) {
      why = Errno("socket");
      continue;
    }
    const int one = 1;
    const int zero = 0;
    setsockopt(fd.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (t.family == AF_INET6) {
      setsockopt(fd.fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(static_cast<std::uint16_t>(bind.port));
      inet_pton(AF_INET6, t.host.c_str(), &in6.sin6_addr);
      len = sizeof in6;
    } else {
      auto& in = reinterpret_cast<sockaddr_in&>(ss);
      in.sin_family = AF_INET;
      in.sin_port = htons(static_cast<std::uint16_t>(bind.port));
      inet_pton(AF_INET, t.host.c_str(), &in.sin_addr);
      len = sizeof in;
    }
    if (::bind(fd.fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0) {
      why = Errno("bind");
      continue;
    }
    if (listen(fd.fd, 128) != 0) {
      why = Errno("listen");
      continue;
    }
    return fd;
  }
  return UniqueFd{-1};
}

struct Connection {
  explicit Connection(UniqueFd f) : fd(std::move(f)) {}
  UniqueFd fd;
  std::uint64_t seq = 0;  // accept order: the smallest is the oldest
  IpAddress local;
  IpAddress peer;
  SteadyClock::time_point deadline;
  std::string received;
  std::optional<std::string> answer;
  std::size_t written = 0;
  // The answer is out and our side shut: what the client still sends is read and dropped until it
  // closes (or the deadline), since closing with unread data would reset the connection and could
  // take the answer with it (HAProxy's agent-send arriving after an answer given at connect).
  bool closing = false;
  bool done = false;  // to be closed
};

// Writes what the socket takes now; done when all of it went out.
void WriteSome(Connection& c) {
  while (c.answer && c.written < c.answer->size()) {
    const ssize_t n =
        send(c.fd.fd, c.answer->data() + c.written, c.answer->size() - c.written, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
      c.done = true;
      return;
    }
    c.written += static_cast<std::size_t>(n);
  }
  // Our side closes first, after the whole answer: the client reads it, then the end.
  shutdown(c.fd.fd, SHUT_WR);
  c.closing = true;
}

}  // namespace

BoundedTcpServer::BoundedTcpServer(std::string what, const BindAddress& bind, ListenerLimits limits,
                                   Responder responder)
    : what_(std::move(what)), limits_(limits), responder_(std::move(responder)) {
  std::string why;
  UniqueFd listener = Listen(bind, why);
  if (listener.fd < 0) throw std::runtime_error("cannot serve " + what_ + " on " + bind.ToString() + ": " + why);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(listener.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    port_ = ntohs(ss.ss_family == AF_INET ? reinterpret_cast<sockaddr_in&>(ss).sin_port
                                          : reinterpret_cast<sockaddr_in6&>(ss).sin6_port);
  UniqueFd stop{eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)};
  if (stop.fd < 0) throw std::runtime_error("cannot serve " + what_ + ": " + Errno("eventfd"));
  listen_fd_ = listener.fd;
  stop_fd_ = stop.fd;
  listener.fd = -1;
  stop.fd = -1;
  thread_ = std::thread([this] { Run(); });
}

BoundedTcpServer::~BoundedTcpServer() {
  const std::uint64_t one = 1;
  (void)!write(stop_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(stop_fd_);
}

void BoundedTcpServer::Run() {
  std::vector<std::unique_ptr<Connection>> conns;
  std::uint64_t next_seq = 0;
  bool warned_fds = false;
  // Out of descriptors with no connection of ours to close: the listener rests a moment, since
  // it stays readable and polling it would spin.
  SteadyClock::time_point accept_after{};

  const auto respond = [this](Connection& c, bool ended) {
    if (c.answer) return;
    try {
      c.answer = responder_(Exchange{c.local, c.peer, c.received, ended});
    } catch (const std::exception& e) {
      LogError(what_ + ": " + e.what());
      c.done = true;
      return;
    }
    if (c.answer)
      WriteSome(c);
    else if (ended)
      c.done = true;
  };
  // Makes room for one more connection from `peer`: the oldest of that peer at its bound, else
  // the oldest of all at the overall bound.
  const auto make_room = [this, &conns](const IpAddress& peer) {
    std::size_t of_peer = 0;
    Connection* oldest_of_peer = nullptr;
    Connection* oldest = nullptr;
    for (auto& c : conns) {
      if (c->done) continue;
      if (!oldest || c->seq < oldest->seq) oldest = c.get();
      if (c->peer == peer) {
        ++of_peer;
        if (!oldest_of_peer || c->seq < oldest_of_peer->seq) oldest_of_peer = c.get();
      }
    }
    std::size_t live = 0;
    for (auto& c : conns) live += c->done ? 0 : 1;
    if (of_peer >= limits_.max_per_peer && oldest_of_peer)
      oldest_of_peer->done = true;
    else if (live >= limits_.max_connections && oldest)
      oldest->done = true;
  };

  std::vector<pollfd> fds;
  for (;;) {
    // Close what is finished; its slot is free again.
    conns.erase(std::remove_if(conns.begin(), conns.end(), [](const auto& c) { return c->done; }), conns.end());

    const auto now = SteadyClock::now();
    int timeout_ms = -1;
    for (auto& c : conns) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(c->deadline - now).count();
      const int ms = static_cast<int>(std::max<std::int64_t>(0, left) + 1);
      timeout_ms = timeout_ms < 0 ? ms : std::min(timeout_ms, ms);
    }
    fds.clear();
    fds.push_back({stop_fd_, POLLIN, 0});
    const bool resting = now < accept_after;
    if (resting) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(accept_after - now).count() + 1;
      timeout_ms = timeout_ms < 0 ? static_cast<int>(left) : std::min(timeout_ms, static_cast<int>(left));
    }
    fds.push_back({resting ? -1 : listen_fd_, POLLIN, 0});
    for (auto& c : conns) fds.push_back({c->fd.fd, static_cast<short>(c->answer && !c->closing ? POLLOUT : POLLIN), 0});
    const int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) {
      LogError(what_ + ": " + Errno("poll"));
      return;
    }
    if (fds[0].revents & POLLIN) return;

    for (std::size_t i = 0; n > 0 && i < conns.size(); ++i) {
      Connection& c = *conns[i];
      const short ev = fds[i + 2].revents;
      if (!ev || c.done) continue;
      if (c.closing) {
        char sink[512];
        const ssize_t got = recv(c.fd.fd, sink, sizeof sink, MSG_DONTWAIT);
        if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) c.done = true;
        continue;
      }
      if (c.answer) {
        if (ev & (POLLOUT | POLLERR | POLLHUP)) WriteSome(c);
        continue;
      }
      char buf[1024];
      const std::size_t room = limits_.max_request_bytes + 1 - c.received.size();
      const ssize_t got = recv(c.fd.fd, buf, std::min(room, sizeof buf), MSG_DONTWAIT);
      if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
      if (got < 0) {
        c.done = true;
        continue;
      }
      c.received.append(buf, static_cast<std::size_t>(got));
      respond(c, got == 0 || c.received.size() > limits_.max_request_bytes);
    }

    if (n > 0 && (fds[1].revents & POLLIN)) {
      // What is waiting, up to a batch: the queue drains between turns, and a flood of connects
      // still leaves turns for the connections already accepted.
      for (int batch = 0; batch < 64; ++batch) {
        sockaddr_storage peer{};
        socklen_t plen = sizeof peer;
        UniqueFd fd{accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC)};
        if (fd.fd < 0) {
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            if (!warned_fds) LogWarning(what_ + ": " + Errno("accept") + "; closing the oldest connections");
            warned_fds = true;
            Connection* oldest = nullptr;
            for (auto& c : conns)
              if (!c->done && (!oldest || c->seq < oldest->seq)) oldest = c.get();
            if (oldest)
              oldest->done = true;  // its descriptor is free next turn
            else
              accept_after = SteadyClock::now() + std::chrono::milliseconds(200);
          }
          break;
        }
        sockaddr_storage local{};
        socklen_t llen = sizeof local;
        if (getsockname(fd.fd, reinterpret_cast<sockaddr*>(&local), &llen) != 0) continue;
        auto c = std::make_unique<Connection>(std::move(fd));
        c->seq = next_seq++;
        c->local = FromSockaddr(local);
        c->peer = FromSockaddr(peer);
        c->deadline = SteadyClock::now() + limits_.deadline;
        make_room(c->peer);
        respond(*c, false);
        conns.push_back(std::move(c));
      }
    }

    const auto after = SteadyClock::now();
    for (auto& c : conns) {
      if (c->done || after < c->deadline) continue;
      if (!c->answer) respond(*c, true);
      c->done = true;  // whatever the socket did not take by now is not sent
    }
  }
}

}  // namespace lvsrs
