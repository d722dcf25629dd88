#include "model/ip_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace lvsrs {

IpAddress IpAddress::V4(std::uint32_t host_order) {
  IpAddress a;
  a.family_ = Family::V4;
  const std::uint32_t n = htonl(host_order);
  std::memcpy(a.bytes_.data(), &n, 4);
  return a;
}

IpAddress IpAddress::FromBytes(Family family, const void* bytes) {
  IpAddress a;
  a.family_ = family;
  std::memcpy(a.bytes_.data(), bytes, family == Family::V4 ? 4 : 16);
  return a;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton wants a NUL-terminated string; a bounded copy also rejects embedded NULs.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  if (s.find('\0') != std::string::npos) return std::nullopt;
  IpAddress a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = Family::V4;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes_.data()) == 1) {
    a.family_ = Family::V6;
    return a;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buf, sizeof buf);
  return buf;
}

bool IpAddress::IsUnspecified() const {
  for (std::size_t i = 0; i < size(); ++i)
    if (bytes_[i] != 0) return false;
  return true;
}

bool IpAddress::IsLoopback() const {
  if (is_v4()) return bytes_[0] == 127;
  static const IpAddress kLoopback6 = *Parse("::1");
  return *this == kLoopback6;
}

bool IpAddress::IsMulticast() const { return is_v4() ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff; }

bool IpAddress::IsLinkLocal() const {
  return is_v4() ? (bytes_[0] == 169 && bytes_[1] == 254) : (bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80);
}

bool IpAddress::IsLimitedBroadcast() const {
  return is_v4() && bytes_[0] == 255 && bytes_[1] == 255 && bytes_[2] == 255 && bytes_[3] == 255;
}

bool IpAddress::InPrefix(const IpAddress& network, std::uint8_t prefix) const {
  if (family_ != network.family_ || prefix > host_prefix()) return false;
  std::size_t full = prefix / 8;
  if (std::memcmp(bytes_.data(), network.bytes_.data(), full) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes_[full] & mask) == (network.bytes_[full] & mask);
}

}  // namespace lvsrs
