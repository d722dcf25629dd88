#include "metrics/http_exchange.h"

namespace lvsrs {
namespace {

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    default: return "Service Unavailable";
  }
}

}  // namespace

std::string_view TrimLine(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string HttpResponse(const HttpAnswer& answer, bool head) {
  std::string r = "HTTP/1.1 " + std::to_string(answer.status) + " " + Reason(answer.status) +
                  "\r\nContent-Type: " + answer.content_type +
                  "\r\nContent-Length: " + std::to_string(answer.body.size()) +
                  "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head) r += answer.body;
  return r;
}

std::optional<std::string> ServeHttp(std::string_view received, bool ended, const HttpRoute& route) {
  const bool head_complete =
      received.find("\r\n\r\n") != std::string_view::npos || received.find("\n\n") != std::string_view::npos;
  const auto eol = received.find('\n');
  if (!head_complete && !ended) return std::nullopt;
  if (eol == std::string_view::npos) {
    if (received.empty()) return std::nullopt;  // connected and went away, or said nothing in time
    return HttpResponse({received.size() > 2048 ? 431 : 400, "bad request\n"}, false);
  }
  // "GET /metrics HTTP/1.1"
  const std::string_view line = TrimLine(received.substr(0, eol));
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return HttpResponse({400, "bad request\n"}, false);
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return HttpResponse({405, "only GET and HEAD\n"}, false);
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  return HttpResponse(route(target), head);
}

}  // namespace lvsrs
