// The HTTP that our listeners speak, as a pure function of the bytes received so far: one request
// per connection (GET or HEAD), one answer, then the server closes ("Connection: close"). That is
// all that Prometheus, the kubelet's probes and the directors' health checks need, and it lets a
// BoundedTcpServer (one poll thread, no thread per connection) serve /metrics, /healthz, /readyz
// and the director endpoints alike.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lvsrs {

struct HttpAnswer {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// The path of a GET or HEAD (without "?query") -> the answer; HEAD gets its head only.
using HttpRoute = std::function<HttpAnswer(std::string_view path)>;

// nullopt while the request head is incomplete and more may come (or nothing came at all before
// the connection ended). Otherwise the whole response: route's for GET/HEAD, 405 for any other
// method, 400 for a request line that is not "METHOD TARGET VERSION", 431 for an oversized one.
std::optional<std::string> ServeHttp(std::string_view received, bool ended, const HttpRoute& route);

// A line received without the blanks around it and its "\r" (HTTP and agent-check lines alike).
std::string_view TrimLine(std::string_view s);

// A complete response with Content-Length and "Connection: close"; without the body for HEAD.
std::string HttpResponse(const HttpAnswer& answer, bool head);

}  // namespace lvsrs
