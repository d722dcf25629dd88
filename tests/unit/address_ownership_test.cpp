// Ownership of addresses on kernels that drop IFA_PROTO: a record AND the operator's properties.
#include "reconcile/address_ownership.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::Ip;

// As the operator adds them (kernel/address_request.cpp), without IFA_PROTO.
KernelAddress Ours(const char* ip, int ifindex = 1) {
  const IpAddress a = Ip(ip);
  return KernelAddress{a,       a.host_prefix(),
                       ifindex, "",
                       0,       a.is_v4() ? kVipScope : kScopeUniverse,
                       false,   VipAddressFlags(a) | (AddedDeprecated(a) ? kAddrFlagDeprecated : 0)};
}

TEST(AddressOwnership, WhatTheOperatorGivesItsAddresses) {
  EXPECT_EQ(VipAddressFlags(Ip("2001:db8::10")), kAddrFlagNoDad | kAddrFlagNoPrefixRoute);
  EXPECT_EQ(VipAddressFlags(Ip("192.0.2.10")), kAddrFlagNoPrefixRoute);
  EXPECT_TRUE(AddedDeprecated(Ip("2001:db8::10")));
  EXPECT_FALSE(AddedDeprecated(Ip("192.0.2.10"))) << "IPv4 source selection ignores it; host scope does the job";
  EXPECT_TRUE(HasVipProperties(Ours("2001:db8::10")));
  EXPECT_TRUE(HasVipProperties(Ours("192.0.2.10")));
}

TEST(AddressOwnership, WhatAnAdminTypesLacksTheProperties) {
  // ip -6 addr add 2001:db8::10/128 dev lo; ip addr add 192.0.2.10/32 dev lo
  EXPECT_FALSE(HasVipProperties(KernelAddress{Ip("2001:db8::10"), 128, 1, "", 0, kScopeUniverse, false, 0}));
  EXPECT_FALSE(HasVipProperties(KernelAddress{Ip("192.0.2.10"), 32, 1, "lo", 0, kScopeUniverse, false, 0}));
  // Each property on its own counts.
  auto a = Ours("192.0.2.10");
  a.scope = kScopeUniverse;
  EXPECT_FALSE(HasVipProperties(a));
  a = Ours("2001:db8::10");
  a.flags &= ~kAddrFlagNoPrefixRoute;
  EXPECT_FALSE(HasVipProperties(a));
  a = Ours("2001:db8::10");
  a.prefix = 64;
  EXPECT_FALSE(HasVipProperties(a));
}

TEST(AddressOwnership, RecognisedOnlyWithTheRecordAndTheProperties) {
  ObservedState o;
  o.addresses = {Ours("2001:db8::10"), Ours("2001:db8::11"), Ours("2001:db8::12", 2),
                 KernelAddress{Ip("2001:db8::13"), 128, 1, "", 0, kScopeUniverse, false, 0}};
  const AddressRecord record{
      {Ip("2001:db8::10"), 1, "lo"}, {Ip("2001:db8::12"), 1, "lo"}, {Ip("2001:db8::13"), 1, "lo"}};
  RecogniseRecorded(o, record);
  EXPECT_TRUE(o.addresses[0].owned());
  EXPECT_FALSE(o.addresses[1].owned()) << "no record";
  EXPECT_FALSE(o.addresses[2].owned()) << "recorded on another interface";
  EXPECT_FALSE(o.addresses[3].owned()) << "recorded, but without the operator's properties";
  EXPECT_EQ(StillInPlace(record, o), (AddressRecord{{Ip("2001:db8::10"), 1, "lo"}}));
  RecogniseRecorded(o, {});
  EXPECT_FALSE(o.addresses[0].owned()) << "recognition follows the record, not an earlier pass";
}

TEST(AddressOwnership, TheAddsJoinTheRecord) {
  const AddressRecord before{{Ip("2001:db8::10"), 1, "lo"}};
  const auto after =
      WithAdds(before, {AddressChange{Ip("2001:db8::11"), 3, "dummy0"}, AddressChange{Ip("2001:db8::10"), 1, "lo"}});
  EXPECT_EQ(after, (AddressRecord{{Ip("2001:db8::10"), 1, "lo"}, {Ip("2001:db8::11"), 3, "dummy0"}}));
}

}  // namespace
}  // namespace lvsrs
