#include "reconcile/item_key.h"

#include <gtest/gtest.h>

#include <set>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::Ip;

// These texts are the `item` label of lvs_rs_contested_items and appear in logs and Events.
TEST(ItemKey, TextsStayAsDashboardsKnowThem) {
  EXPECT_EQ(ItemKey::OfAddress(Ip("192.0.2.10")).ToString(), "ip:192.0.2.10");
  EXPECT_EQ(ItemKey::OfRoute(Ip("192.0.2.10")).ToString(), "route:192.0.2.10");
  EXPECT_EQ(ItemKey::OfAddress(Ip("2001:db8::10")).ToString(), "ip:2001:db8::10");
  EXPECT_EQ(ItemKey::OfSysctl(SysctlKey{"all", ArpKey::Ignore}).ToString(), "sysctl:net.ipv4.conf.all.arp_ignore");
  EXPECT_EQ(ItemKey::OfSysctl(SysctlKey{"eth0", ArpKey::Announce}).Subject(), "net.ipv4.conf.eth0.arp_announce");
}

TEST(ItemKey, AddressAndRouteOfOneVipAreDifferentItems) {
  const std::set<ItemKey> keys = {ItemKey::OfAddress(Ip("192.0.2.10")), ItemKey::OfRoute(Ip("192.0.2.10")),
                                  ItemKey::OfAddress(Ip("192.0.2.10"))};
  EXPECT_EQ(keys.size(), 2u);
}

}  // namespace
}  // namespace lvsrs
