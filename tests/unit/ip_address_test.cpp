#include "model/ip_address.h"

#include <gtest/gtest.h>

namespace lvsrs {
namespace {

TEST(IpAddress, ParsesAndFormatsBothFamilies) {
  auto v4 = IpAddress::Parse("192.0.2.10");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "192.0.2.10");
  EXPECT_EQ(v4->host_prefix(), 32);
  auto v6 = IpAddress::Parse("2001:db8::10");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->ToString(), "2001:db8::10");
  EXPECT_EQ(v6->host_prefix(), 128);
}

TEST(IpAddress, RejectsPrefixesZonesAndGarbage) {
  for (const char* bad :
       {"", "192.0.2.10/32", "fe80::1%eth0", "192.0.2", "256.0.0.1", "host", " 192.0.2.1", "192.0.2.1 ", "2001:db8::g"})
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  EXPECT_FALSE(IpAddress::Parse(std::string("192.0.2.1\0x", 11)));
}

TEST(IpAddress, ClassifiesReservedRanges) {
  EXPECT_TRUE(IpAddress::Parse("0.0.0.0")->IsUnspecified());
  EXPECT_TRUE(IpAddress::Parse("::")->IsUnspecified());
  EXPECT_TRUE(IpAddress::Parse("127.1.2.3")->IsLoopback());
  EXPECT_TRUE(IpAddress::Parse("::1")->IsLoopback());
  EXPECT_TRUE(IpAddress::Parse("224.0.0.1")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("ff02::1")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("169.254.1.1")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("255.255.255.255")->IsLimitedBroadcast());
  const auto vip = *IpAddress::Parse("192.0.2.10");
  EXPECT_FALSE(vip.IsUnspecified() || vip.IsLoopback() || vip.IsMulticast() || vip.IsLinkLocal() ||
               vip.IsLimitedBroadcast());
}

TEST(IpAddress, PrefixMembership) {
  const auto a = *IpAddress::Parse("198.51.100.77");
  EXPECT_TRUE(a.InPrefix(*IpAddress::Parse("198.51.100.0"), 24));
  EXPECT_TRUE(a.InPrefix(*IpAddress::Parse("198.51.100.64"), 26));
  EXPECT_FALSE(a.InPrefix(*IpAddress::Parse("198.51.100.0"), 26));
  EXPECT_FALSE(a.InPrefix(*IpAddress::Parse("2001:db8::"), 32));
}

}  // namespace
}  // namespace lvsrs
