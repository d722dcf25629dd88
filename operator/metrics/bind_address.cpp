#include "metrics/bind_address.h"

#include <charconv>

#include "model/ip_address.h"

namespace lvsrs {

std::optional<BindAddress> ParseBindAddress(const std::string& text, std::string& error) {
  BindAddress b;
  if (text == "0") {
    b.disabled = true;
    return b;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    error = "\"" + text + "\" is not [HOST]:PORT (like :8470 or 127.0.0.1:8470) or 0 to disable";
    return std::nullopt;
  }
  std::string host = text.substr(0, colon);
  const std::string port = text.substr(colon + 1);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  if (!host.empty()) {
    const auto ip = IpAddress::Parse(host);
    if (!ip || ip->is_v4() == bracketed) {
      error = "\"" + text + "\": the host must be an IPv4 address or an IPv6 address in brackets";
      return std::nullopt;
    }
    b.host = ip->ToString();
  } else if (bracketed) {
    error = "\"" + text + "\": empty brackets";
    return std::nullopt;
  }
  int p = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || p < 1 || p > 65535) {
    error = "\"" + text + "\": port must be a number from 1 to 65535";
    return std::nullopt;
  }
  b.port = p;
  return b;
}

std::string BindAddress::ToString() const {
  if (disabled) return "0";
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

}  // namespace lvsrs
