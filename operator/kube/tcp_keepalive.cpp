#include "kube/tcp_keepalive.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <stdexcept>

#include <cpprest/uri.h>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

namespace lvsrs::kube {
namespace {

using boost::asio::ip::tcp;

// The family cpprestsdk's resolver will connect with first: getaddrinfo's first answer (asio's
// resolver asks with AI_ADDRCONFIG too). IP literals need no lookup.
tcp FamilyOf(const std::string& host, const std::string& port) {
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* res = nullptr;
  const int rc = getaddrinfo(h.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) throw std::runtime_error("resolve " + h + ": " + gai_strerror(rc));
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> owned(res, freeaddrinfo);
  return res->ai_family == AF_INET6 ? tcp::v6() : tcp::v4();
}

void SetInt(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) != 0)
    throw std::runtime_error(std::string("setsockopt ") + what + ": " + std::strerror(errno));
}

}  // namespace

std::function<void(void*)> KeepaliveSocketOptions(const std::string& server_url, KeepaliveTimes times) {
  const web::uri uri(utility::conversions::to_string_t(server_url));
  const bool tls = uri.scheme() == "https";
  const std::string host = utility::conversions::to_utf8string(uri.host());
  const std::string port = std::to_string(uri.port() > 0 ? uri.port() : (tls ? 443 : 80));
  return [tls, host, port, times](void* handle) {
    tcp::socket& socket = tls ? static_cast<boost::asio::ssl::stream<tcp::socket&>*>(handle)->next_layer()
                              : *static_cast<tcp::socket*>(handle);
    if (!socket.is_open()) socket.open(FamilyOf(host, port));  // a pooled connection is open already
    const int fd = socket.native_handle();
    SetInt(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    SetInt(fd, IPPROTO_TCP, TCP_KEEPIDLE, times.idle_seconds, "TCP_KEEPIDLE");
    SetInt(fd, IPPROTO_TCP, TCP_KEEPINTVL, times.interval_seconds, "TCP_KEEPINTVL");
    SetInt(fd, IPPROTO_TCP, TCP_KEEPCNT, times.probes, "TCP_KEEPCNT");
    SetInt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, times.user_timeout_ms, "TCP_USER_TIMEOUT");
  };
}

}  // namespace lvsrs::kube
