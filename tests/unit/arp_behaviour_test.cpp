// The ARP model as data tables: the cells of tests/kernel/arp_behaviour_wire_test.cpp, built as
// ObservedState values (the lab's namespace as RtnlKernel reads it, addresses in the kernel's list
// order), with the verdicts the wire showed (docs/arp-behaviour.md).
#include "reconcile/arp_behaviour.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::Ip;

struct LabVip {
  const char* what;
  const char* ip;
  int ifindex;
  std::uint8_t scope;
};
// In the order the kernel lists them once the lab added them: __inet_insert_ifa puts a primary
// after the last primary whose scope is at least as narrow, so host-scope addresses go first.
const LabVip kLo[] = {{"lo host", "192.0.2.102", 1, kScopeHost}, {"lo global", "192.0.2.101", 1, kScopeUniverse}};
const LabVip kEth0Before[] = {{"eth0 host", "192.0.2.104", 2, kScopeHost},
                              {"eth0 host, other subnet", "198.51.100.6", 2, kScopeHost}};
const LabVip kEth0After[] = {{"eth0 global", "192.0.2.103", 2, kScopeUniverse},
                             {"eth0 global, other subnet", "198.51.100.5", 2, kScopeUniverse}};

// The lab's real server: lo (127.0.0.1/8, then the lo VIPs), eth0 (host VIPs, 192.0.2.11/24,
// global VIPs); every sysctl 0.
ObservedState Lab(bool eth0_has_address = true, bool eth0_vips = true) {
  ObservedState o;
  o.links.push_back(Link{1, "lo", true, true, true, "", 0});
  o.links.push_back(Link{2, "eth0", true, false, false, "veth", 0});
  auto add = [&](const char* ip, std::uint8_t prefix, int ifindex, std::uint8_t scope) {
    o.addresses.push_back(KernelAddress{Ip(ip), prefix, ifindex, ifindex == 1 ? "lo" : "eth0", 0, scope, false});
  };
  add("127.0.0.1", 8, 1, kScopeHost);
  for (const auto& v : kLo) add(v.ip, 32, v.ifindex, v.scope);
  if (eth0_vips)
    for (const auto& v : kEth0Before) add(v.ip, 32, v.ifindex, v.scope);
  if (eth0_has_address) add("192.0.2.11", 24, 2, kScopeUniverse);
  // Without an address eth0 is used only through a route, as in the wire test (`192.0.2.10 dev eth0`).
  if (!eth0_has_address) o.routes.push_back(KernelRoute{Ip("192.0.2.10"), 32, 2, kMainTable, 3});
  if (eth0_vips)
    for (const auto& v : kEth0After) add(v.ip, 32, v.ifindex, v.scope);
  for (const char* conf : {"all", "default", "lo", "eth0"})
    for (ArpKey k : {ArpKey::Ignore, ArpKey::Announce, ArpKey::RouteLocalnet}) o.sysctls[SysctlKey{conf, k}] = 0;
  return o;
}

const int kIgnore[] = {0, 1, 2, 3, 8};

// Answered ('A') or not ('-') for a request arriving on eth0 from 192.0.2.10: one row per
// conf/all/arp_ignore in kIgnore, one column per conf/eth0/arp_ignore in kIgnore.
struct AnswerGrid {
  const char* ip;
  const char* rows[5];
};
const AnswerGrid kAnswers[] = {
    {"192.0.2.101" /* lo global */, {"A--A-", "---A-", "---A-", "AAAA-", "-----"}},
    {"192.0.2.102" /* lo host */, {"A----", "-----", "-----", "-----", "-----"}},
    {"192.0.2.103" /* eth0 global */, {"AAAA-", "AAAA-", "AAAA-", "AAAA-", "-----"}},
    {"192.0.2.104" /* eth0 host */, {"AAA--", "AAA--", "AAA--", "-----", "-----"}},
    {"198.51.100.5" /* eth0 global, other subnet */, {"AA-A-", "AA-A-", "---A-", "AAAA-", "-----"}},
    {"198.51.100.6" /* eth0 host, other subnet */, {"AA---", "AA---", "-----", "-----", "-----"}},
};

TEST(ArpBehaviourModel, AnswersEveryArpIgnoreCombinationAsTheWireDid) {
  for (const auto& grid : kAnswers) {
    for (int r = 0; r < 5; ++r) {
      for (int c = 0; c < 5; ++c) {
        ObservedState o = Lab();
        o.sysctls[SysctlKey{"all", ArpKey::Ignore}] = kIgnore[r];
        o.sysctls[SysctlKey{"eth0", ArpKey::Ignore}] = kIgnore[c];
        const ArpBehaviour model(o);
        const bool answered = model.Answers(Ip(grid.ip), *o.LinkByName("eth0")).has_value();
        EXPECT_EQ(answered, grid.rows[r][c] == 'A')
            << grid.ip << " with arp_ignore all=" << kIgnore[r] << " eth0=" << kIgnore[c];
      }
    }
  }
}

struct LocalnetCell {
  const char* conf;  // where route_localnet=1 is set; conf/all/arp_ignore=3
  const char* ip;
  bool answered;
};
const LocalnetCell kLocalnet[] = {
    {"all", "192.0.2.102", true},   {"all", "192.0.2.104", true},  {"all", "198.51.100.6", true},
    {"lo", "192.0.2.102", true},    {"lo", "192.0.2.104", false},  {"lo", "198.51.100.6", false},
    {"eth0", "192.0.2.102", false}, {"eth0", "192.0.2.104", true}, {"eth0", "198.51.100.6", true},
};

TEST(ArpBehaviourModel, RouteLocalnetLetsArpIgnore3AnswerHostScopeAddressesOfItsDevice) {
  for (const auto& cell : kLocalnet) {
    ObservedState o = Lab();
    o.sysctls[SysctlKey{"all", ArpKey::Ignore}] = 3;
    o.sysctls[SysctlKey{cell.conf, ArpKey::RouteLocalnet}] = 1;
    const ArpBehaviour model(o);
    EXPECT_EQ(model.Answers(Ip(cell.ip), *o.LinkByName("eth0")).has_value(), cell.answered)
        << cell.ip << " with route_localnet " << cell.conf << "=1";
  }
}

struct AnnounceCell {
  int all;
  int eth0;
  int route_localnet;     // conf/all
  const char* announced;  // the lab's VIPs that are, in kLo, kEth0Before, kEth0After order: 'A' or '-'
};
const AnnounceCell kAnnounce[] = {
    {0, 0, 0, "AAAAAA"},
    {0, 1, 0, "AAA-A-"},
    {0, 2, 0, "------"},
    {1, 0, 0, "AAA-A-"},
    {1, 1, 0, "AAA-A-"},
    {1, 2, 0, "------"},
    {2, 0, 0, "------"},
    {2, 1, 0, "------"},
    {2, 2, 0, "------"},
    // route_localnet: the host-scope VIP first on eth0 counts as link scope and is the first
    // eligible address for a target outside eth0's subnets.
    {2, 0, 1, "--A---"},
};

std::vector<LabVip> AllLabVips() {
  std::vector<LabVip> out(std::begin(kLo), std::end(kLo));
  out.insert(out.end(), std::begin(kEth0Before), std::end(kEth0Before));
  out.insert(out.end(), std::begin(kEth0After), std::end(kEth0After));
  return out;
}

TEST(ArpBehaviourModel, AnnouncesAsTheWireDid) {
  const auto vips = AllLabVips();
  for (const auto& cell : kAnnounce) {
    ObservedState o = Lab();
    o.sysctls[SysctlKey{"all", ArpKey::Announce}] = cell.all;
    o.sysctls[SysctlKey{"eth0", ArpKey::Announce}] = cell.eth0;
    o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = cell.route_localnet;
    const ArpBehaviour model(o);
    for (std::size_t i = 0; i < vips.size(); ++i)
      EXPECT_EQ(model.Announces(Ip(vips[i].ip), *o.LinkByName("eth0")).has_value(), cell.announced[i] == 'A')
          << vips[i].what << " " << vips[i].ip << " with arp_announce all=" << cell.all << " eth0=" << cell.eth0
          << " route_localnet=" << cell.route_localnet;
  }
}

struct NoAddressCell {
  int announce;  // conf/all
  int route_localnet;
  bool lo_global;  // 192.0.2.101 announced
  bool lo_host;    // 192.0.2.102 announced
};
const NoAddressCell kNoAddress[] = {
    {0, 0, true, true},
    {1, 0, true, false},
    {2, 0, true, false},
    // The cells the model got wrong before the wire test: the fallback (in_dev_select_addr) skips
    // 127.0.0.1 whatever route_localnet says, and takes the scope-global VIP behind it.
    {0, 1, true, true},
    {1, 1, true, false},
    {2, 1, true, false},
};

TEST(ArpBehaviourModel, AnInterfaceWithoutAddressAnnouncesTheFirstGlobalAddressOfLo) {
  for (const auto& cell : kNoAddress) {
    ObservedState o = Lab(/*eth0_has_address=*/false, /*eth0_vips=*/false);
    o.sysctls[SysctlKey{"all", ArpKey::Announce}] = cell.announce;
    o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = cell.route_localnet;
    const ArpBehaviour model(o);
    const Link& eth0 = *o.LinkByName("eth0");
    EXPECT_EQ(model.Announces(Ip("192.0.2.101"), eth0).has_value(), cell.lo_global)
        << "lo global, arp_announce " << cell.announce << " route_localnet " << cell.route_localnet;
    EXPECT_EQ(model.Announces(Ip("192.0.2.102"), eth0).has_value(), cell.lo_host)
        << "lo host, arp_announce " << cell.announce << " route_localnet " << cell.route_localnet;
  }
}

// The same fallback for a VIP the plan is about to place (AssumePlaced): it goes where the kernel
// would insert it on lo, behind 127.0.0.1.
TEST(ArpBehaviourModel, APlacedGlobalVipOnLoIsAnnouncedOnAnInterfaceWithoutAddress) {
  ObservedState o = Lab(/*eth0_has_address=*/false, /*eth0_vips=*/false);
  std::erase_if(o.addresses, [](const KernelAddress& a) { return a.ifindex == 1 && a.ip != Ip("127.0.0.1"); });
  o.sysctls[SysctlKey{"all", ArpKey::Announce}] = 2;
  o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = 1;
  ArpBehaviour model(o);
  const Link& eth0 = *o.LinkByName("eth0");
  model.AssumePlaced(Placement{Ip("203.0.113.9"), 1, kScopeUniverse});
  EXPECT_TRUE(model.Announces(Ip("203.0.113.9"), eth0).has_value());
  model.ForgetPlaced(Ip("203.0.113.9"));
  model.AssumePlaced(Placement{Ip("203.0.113.9"), 1, kScopeHost});
  EXPECT_FALSE(model.Announces(Ip("203.0.113.9"), eth0).has_value());
}

// With nothing routed through it, an interface without an address sends no ARP request at all.
TEST(ArpBehaviourModel, AnUnroutedInterfaceWithoutAddressAnnouncesNothing) {
  ObservedState o = Lab(/*eth0_has_address=*/false, /*eth0_vips=*/false);
  o.routes.clear();
  o.sysctls[SysctlKey{"all", ArpKey::Announce}] = 2;
  const ArpBehaviour model(o);
  EXPECT_FALSE(model.Announces(Ip("192.0.2.101"), *o.LinkByName("eth0")).has_value());
}

}  // namespace
}  // namespace lvsrs
