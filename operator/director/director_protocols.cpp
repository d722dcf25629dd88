#include "director/director_protocols.h"

#include "metrics/http_exchange.h"

namespace lvsrs {
namespace {

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

}  // namespace

std::optional<std::string> HttpExchange(std::string_view received, bool ended, const IpAddress& local,
                                        const AnswerLookup& answer) {
  return ServeHttp(received, ended, [&](std::string_view target) -> HttpAnswer {
    if (target == "/") {
      const DirectorAnswer a = answer(local);
      return {a.http_status, a.http_body};
    }
    constexpr std::string_view kVips = "/vips/";
    if (target.substr(0, kVips.size()) != kVips) return {404, "not found: GET /vips/<address> or /\n"};
    const auto text = PercentDecode(target.substr(kVips.size()));
    const auto ip = text ? IpAddress::Parse(*text) : std::nullopt;
    if (!ip) return {404, "down: not an IP address\n"};
    const DirectorAnswer a = answer(*ip);
    return {a.http_status, a.http_body};
  });
}

std::optional<std::string> AgentCheckExchange(std::string_view received, bool ended, const IpAddress& local,
                                              const std::function<bool(const IpAddress&)>& is_vip,
                                              const AnswerLookup& answer) {
  if (is_vip(local)) return answer(local).agent_line;
  const auto eol = received.find('\n');
  if (eol == std::string_view::npos && !ended) return std::nullopt;
  const std::string_view line = TrimLine(received.substr(0, eol));
  if (line.empty()) return std::string("down #no VIP named: send one line with the VIP's address\n");
  // The first word: room for more words later without breaking this one.
  const std::string_view word = line.substr(0, line.find_first_of(" \t"));
  const auto ip = IpAddress::Parse(word);
  if (!ip) return std::string("down #not an IP address\n");
  return answer(*ip).agent_line;
}

}  // namespace lvsrs
