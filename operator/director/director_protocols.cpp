#include "director/director_protocols.h"

namespace lvsrs {
namespace {

std::string HttpResponse(int status, const std::string& body, bool head) {
  const char* text = status == 200   ? "OK"
                     : status == 400 ? "Bad Request"
                     : status == 404 ? "Not Found"
                     : status == 405 ? "Method Not Allowed"
                     : status == 431 ? "Request Header Fields Too Large"
                                     : "Service Unavailable";
  std::string r = "HTTP/1.1 " + std::to_string(status) + " " + text +
                  "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  if (!head) r += body;
  return r;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%3A" -> ":" (an IPv6 address in a URL path written by a cautious client); nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = HexDigit(s[i + 1]);
    const int lo = HexDigit(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> HttpExchange(std::string_view received, bool ended, const IpAddress& local,
                                        const AnswerLookup& answer) {
  const bool head_complete =
      received.find("\r\n\r\n") != std::string_view::npos || received.find("\n\n") != std::string_view::npos;
  const auto eol = received.find('\n');
  if (!head_complete && !ended) return std::nullopt;
  if (eol == std::string_view::npos) {
    if (received.empty()) return std::nullopt;  // connected and went away, or said nothing in time
    return HttpResponse(received.size() > 2048 ? 431 : 400, "bad request\n", false);
  }
  // "GET /vips/198.51.100.10 HTTP/1.1"
  const std::string_view line = Trim(received.substr(0, eol));
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return HttpResponse(400, "bad request\n", false);
  const std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const bool head = method == "HEAD";
  if (method != "GET" && !head) return HttpResponse(405, "only GET and HEAD\n", false);
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  if (target == "/") {
    const DirectorAnswer a = answer(local);
    return HttpResponse(a.http_status, a.http_body, head);
  }
  constexpr std::string_view kVips = "/vips/";
  if (target.substr(0, kVips.size()) != kVips) return HttpResponse(404, "not found: GET /vips/<address> or /\n", head);
  const auto text = PercentDecode(target.substr(kVips.size()));
  const auto ip = text ? IpAddress::Parse(*text) : std::nullopt;
  if (!ip) return HttpResponse(404, "down: not an IP address\n", head);
  const DirectorAnswer a = answer(*ip);
  return HttpResponse(a.http_status, a.http_body, head);
}

std::optional<std::string> AgentCheckExchange(std::string_view received, bool ended, const IpAddress& local,
                                              const std::function<bool(const IpAddress&)>& is_vip,
                                              const AnswerLookup& answer) {
  if (is_vip(local)) return answer(local).agent_line;
  const auto eol = received.find('\n');
  if (eol == std::string_view::npos && !ended) return std::nullopt;
  const std::string_view line = Trim(received.substr(0, eol));
  if (line.empty()) return std::string("down #no VIP named: send one line with the VIP's address\n");
  // The first word: room for more words later without breaking this one.
  const std::string_view word = line.substr(0, line.find_first_of(" \t"));
  const auto ip = IpAddress::Parse(word);
  if (!ip) return std::string("down #not an IP address\n");
  return answer(*ip).agent_line;
}

}  // namespace lvsrs
