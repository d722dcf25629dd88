// TCP keepalive on every connection to the API server, so that a watch whose connection went
// silently dead is noticed. An idle watch carries no bytes for minutes (kube-apiserver 1.20 sends
// a bookmark only shortly before the watch's timeoutSeconds), and a load balancer that fails over
// without a reset, or a path that starts dropping packets, leaves the socket waiting forever: the
// agent would miss every change until the client timeout (timeoutSeconds * 1.5 + 30 s). With
// probes after 30 s of silence, every 10 s, and TCP_USER_TIMEOUT at 60 s (which also bounds
// unacknowledged data, where keepalive does not apply), the kernel fails the socket within
// about 60-70 s; the read ends with an error and the informer resumes or re-lists as after any
// broken stream.
#pragma once

#include <functional>
#include <string>

namespace lvsrs::kube {

struct KeepaliveTimes {
  int idle_seconds = 30;        // TCP_KEEPIDLE: silence before the first probe
  int interval_seconds = 10;    // TCP_KEEPINTVL
  int probes = 3;               // TCP_KEEPCNT
  int user_timeout_ms = 60000;  // TCP_USER_TIMEOUT: the whole silence a connection may survive
};

// A callback for cpprestsdk's http_client_config::set_nativehandle_options (Boost.Asio client:
// its argument is a boost::asio::ssl::stream<tcp::socket&>* for https, a tcp::socket* for http).
// cpprestsdk calls it before each request, before a new connection is connected, so a socket
// that is not open yet is opened here, in the address family the server's host resolves to first,
// as cpprestsdk's resolver would (asio then connects the open socket). Errors are thrown: the
// request then fails with them, as any other failure to connect.
std::function<void(void*)> KeepaliveSocketOptions(const std::string& server_url, KeepaliveTimes times = {});

}  // namespace lvsrs::kube
