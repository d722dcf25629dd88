// What the kernel of one network namespace holds, in our own types. Filled by the kernel
// adapter (kernel/rtnl_kernel.cpp, kernel/sysctl_procfs.cpp); read by the pure diff.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "model/ip_address.h"

namespace lvsrs {

// Ownership marks. What carries none of them is never deleted or changed.
//  - addresses: IFA_PROTO = kOwnerProtocol (IPv4 and IPv6, survives restarts) on kernels that keep
//    it (Linux 5.18 and later; older ones accept the attribute and drop it), and on IPv4 also the
//    label "<dev>:lvsrs" where it fits, so `ip addr` shows them the way admins know from lo:1.
//    Where the kernel drops IFA_PROTO, a record in the state directory written before each add,
//    together with the flags and scope the operator gives every address it adds
//    (reconcile/address_ownership.h).
//  - routes: rtm_protocol = kOwnerProtocol ("proto 245" in `ip route`).
inline constexpr std::uint8_t kOwnerProtocol = 245;
inline constexpr const char* kLabelSuffix = ":lvsrs";
// The label for an interface, or "" when "<dev>:lvsrs" would not fit in IFNAMSIZ.
std::string OwnerLabel(const std::string& interface);

inline constexpr std::uint32_t kMainTable = 254;

struct Link {
  int index = 0;
  std::string name;
  bool up = false;
  bool loopback = false;
  bool noarp = false;
  std::string kind;  // IFLA_INFO_KIND: "veth", "bridge", "bond", ... ("" for a physical NIC)
  int master = 0;    // IFLA_MASTER: the bridge, bond or VRF this link is enslaved to, or 0
  // The kernel answers ARP only on interfaces without IFF_NOARP; lo is IFF_LOOPBACK|IFF_NOARP.
  bool arp_capable() const { return !loopback && !noarp; }
};

// RT_SCOPE_* of linux/rtnetlink.h; a smaller value is a wider scope.
inline constexpr std::uint8_t kScopeUniverse = 0;
inline constexpr std::uint8_t kScopeLink = 253;
inline constexpr std::uint8_t kScopeHost = 254;

// The scope the operator gives an IPv4 VIP: host. The kernel still delivers packets for it (the
// local table holds it whatever its scope), but never picks it as the source of the node's own
// traffic or of its ARP requests (inet_select_addr wants scope <= link), and arp_ignore=3 does not
// answer for it. IPv6 addresses take their scope from the address itself.
inline constexpr std::uint8_t kVipScope = kScopeHost;

// IFA_F_* of linux/if_addr.h that the operator sets or reads (IFA_FLAGS carries all 32 bits).
inline constexpr std::uint32_t kAddrFlagNoDad = 0x02;           // "nodad"
inline constexpr std::uint32_t kAddrFlagDeprecated = 0x20;      // "deprecated": preferred lifetime 0
inline constexpr std::uint32_t kAddrFlagNoPrefixRoute = 0x200;  // "noprefixroute"

struct KernelAddress {
  IpAddress ip;
  std::uint8_t prefix = 0;
  int ifindex = 0;
  std::string label;       // IPv4 only
  std::uint8_t proto = 0;  // IFA_PROTO, 0 when absent
  std::uint8_t scope = kScopeUniverse;
  bool secondary = false;   // IFA_F_SECONDARY: another address of the same subnet came first
  std::uint32_t flags = 0;  // IFA_FLAGS: kAddrFlag* and the rest of IFA_F_*
  // The state directory's record names it and it has every property the operator gives the
  // addresses it adds: the mark on kernels that drop IFA_PROTO (set by RecogniseRecorded).
  bool recorded = false;
  bool owned() const;
  bool deprecated() const { return (flags & kAddrFlagDeprecated) != 0; }
};

struct KernelRoute {
  IpAddress dst;
  std::uint8_t prefix = 0;
  int oif = 0;
  std::uint32_t table = 0;
  std::uint8_t protocol = 0;
  bool owned() const { return protocol == kOwnerProtocol; }
};

// The source address the kernel picks for the node's own traffic to an outside address: the answer
// to RTM_GETROUTE, as `ip route get DESTINATION` prints it ("... dev eth0 src 198.51.100.7").
struct SourceChoice {
  IpAddress destination;
  IpAddress source;
  int oif = 0;  // the interface the traffic leaves through
};

// The outside addresses the kernel adapter asks the route to, one per family: public resolvers,
// far from the private, documentation and VIP ranges, so the answer is the route (and source) the
// node's own traffic to the world takes. A family without such a route (no default route, or an
// unreachable one) yields no SourceChoice.
const std::vector<IpAddress>& SourceCheckDestinations();

// The per-interface IPv4 settings the ARP behaviour depends on. Ignore and Announce are the ones
// the operator writes. RouteLocalnet is only read: kube-proxy sets it (conf/all) for NodePorts on
// 127.0.0.1, and it makes the kernel treat host-scope addresses as link scope (IN_DEV_ROUTE_LOCALNET
// in devinet.c), which changes what arp_ignore=3 and arp_announce do with a VIP.
enum class ArpKey { Ignore, Announce, RouteLocalnet };
const char* ToString(ArpKey key);  // "arp_ignore" / "arp_announce" / "route_localnet"

// net.ipv4.conf.<conf>.<key>, where conf is "all", "default" or an interface name.
struct SysctlKey {
  std::string conf;
  ArpKey key = ArpKey::Ignore;
  std::string ToString() const;                        // "net.ipv4.conf.all.arp_ignore"
  auto operator<=>(const SysctlKey&) const = default;  // NOLINT(modernize-use-nullptr): see IpAddress
};

// The per-interface IPv6 settings the NDP behaviour depends on; only read, never written.
// Forwarding on an interface makes it a router there: it joins the subnet-router anycast address of
// each of its prefixes and lets proxy_ndp answer for proxy entries (ndisc_recv_ns in net/ipv6/ndisc.c).
enum class NdpKey { Forwarding, ProxyNdp };
const char* ToString(NdpKey key);  // "forwarding" / "proxy_ndp"

// net.ipv6.conf.<conf>.<key>, where conf is "all" or an interface name.
struct NdpSysctlKey {
  std::string conf;
  NdpKey key = NdpKey::Forwarding;
  std::string ToString() const;                           // "net.ipv6.conf.all.proxy_ndp"
  auto operator<=>(const NdpSysctlKey&) const = default;  // NOLINT(modernize-use-nullptr): see IpAddress
};

// An IPv6 address the node answers neighbour solicitations for on one interface without holding
// it: a proxy entry (`ip -6 neigh add proxy ADDR dev DEV`), or an anycast address joined on DEV
// (/proc/net/anycast6: the subnet-router anycast of a forwarding interface, or one a socket joined).
struct NeighbourEntry {
  IpAddress ip;
  int ifindex = 0;
};

struct ObservedState {
  std::vector<Link> links;
  std::vector<KernelAddress> addresses;
  std::vector<KernelRoute> routes;   // main table only
  std::map<SysctlKey, int> sysctls;  // all, default and every link, every ArpKey
  // all and every link that has IPv6, every NdpKey; a link without IPv6 has none (it runs no NDP).
  std::map<NdpSysctlKey, int> ndp_sysctls;
  std::vector<NeighbourEntry> proxy_ndp_entries;  // IPv6 proxy neighbour entries
  std::vector<NeighbourEntry> anycast;            // IPv6 anycast addresses, per interface
  std::vector<SourceChoice> sources;              // per SourceCheckDestinations() that has a route

  const Link* LinkByName(const std::string& name) const;
  const Link* LinkByIndex(int index) const;
  std::optional<int> Sysctl(const std::string& conf, ArpKey key) const;
  std::optional<int> NdpSysctl(const std::string& conf, NdpKey key) const;
};

// The addresses and routes of an ObservedState by IP, for O(log n) lookups. The diff, the
// desired state and the status all ask "what does the kernel hold for this VIP?" once per VIP;
// a scan of every address per VIP would make every pass quadratic in the number of VIPs.
// Equal IPs keep their order in the ObservedState, so results match a front-to-back scan.
// Holds pointers into the ObservedState, which must outlive it and stay unchanged.
class ObservedIndex {
 public:
  explicit ObservedIndex(const ObservedState& observed);
  std::span<const KernelAddress* const> AddressesOf(const IpAddress& ip) const;
  std::span<const KernelRoute* const> RoutesTo(const IpAddress& ip) const;

 private:
  std::vector<const KernelAddress*> addresses_;  // stable-sorted by ip
  std::vector<const KernelRoute*> routes_;       // stable-sorted by dst
};

// Effective value the kernel uses on an interface: max(conf/all, conf/<dev>) for both keys
// (IN_DEV_ARP_IGNORE / IN_DEV_ARP_ANNOUNCE in include/linux/inetdevice.h).
std::optional<int> EffectiveArp(const ObservedState& observed, const std::string& interface, ArpKey key);

}  // namespace lvsrs
