// An IPv4 or IPv6 address as a value: parsed from text, compared, classified.
// Our own type so that libnl and socket structs never leak past the kernel adapter.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lvsrs {

enum class Family : std::uint8_t { V4 = 4, V6 = 6 };

class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress V4(std::uint32_t host_order);
  static IpAddress FromBytes(Family family, const void* bytes);

  // Accepts only literals (no prefix, no zone). Returns nullopt on anything else.
  static std::optional<IpAddress> Parse(std::string_view text);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::V4; }
  const std::uint8_t* bytes() const { return bytes_.data(); }
  std::size_t size() const { return is_v4() ? 4 : 16; }
  // The /32 or /128 a VIP is configured with.
  std::uint8_t host_prefix() const { return is_v4() ? 32 : 128; }
  std::string ToString() const;

  bool IsUnspecified() const;
  bool IsLoopback() const;
  bool IsMulticast() const;
  bool IsLinkLocal() const;
  bool IsLimitedBroadcast() const;
  // True if this address lies inside other/prefix (same family).
  bool InPrefix(const IpAddress& network, std::uint8_t prefix) const;

  // clang-tidy 14 reads the 0 of the synthesised `(a <=> b) < 0` as a null pointer.
  auto operator<=>(const IpAddress&) const = default;  // NOLINT(modernize-use-nullptr)

 private:
  Family family_ = Family::V4;
  std::array<std::uint8_t, 16> bytes_{};
};

}  // namespace lvsrs
