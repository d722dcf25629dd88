// What the kernel does with ARP for the node's IPv4 addresses, worked out from an ObservedState the
// way the kernel does it, so that "conformant" means "no neighbour can learn a VIP from this node",
// not "the sysctls hold the numbers that were asked for". Pure: no I/O.
//
// The rules, from net/ipv4/arp.c and net/ipv4/devinet.c (Linux 6.1):
//  - A request arriving on interface D for a local address T is answered unless arp_ignore(D)
//    says not to (arp_process -> arp_ignore). The value used is max(conf/all, conf/D).
//      0, 4-7, >8: answered for every local address, wherever it is configured.
//      1: answered only if T is configured on D (inet_confirm_addr on D, scope <= host).
//      2: as 1, and the sender must be in a subnet of D that also holds T; a /32 alone on D
//         never is (only T itself would be, and that sender is a martian).
//      3: answered if T is configured on any interface with scope <= link; a host-scope address
//         is not answered, unless route_localnet (conf/all or conf/<its dev>) makes the kernel
//         treat host scope as link scope (confirm_addr_indev's localnet_scope).
//      8: never answered.
//  - A request the node sends on interface D (arp_solicit) carries as sender address:
//      arp_announce 0 (and >2): the source of the packet being sent if it is local: a real
//         server's DR replies are sent from the VIP, so the VIP is announced on every interface.
//      1: that source only if it is in a subnet of D that holds the target too.
//      2, and the fallback of 0 and 1: inet_select_addr(D, target, link): the first primary
//         address of D with scope <= link, route_localnet counting host as link (one in the
//         target's subnet first; for a target outside every subnet of D, e.g. behind an on-link
//         route, the first one); if D has none, in_dev_select_addr over every interface in device
//         order, lo first: the first primary address of scope global (scope link and host are
//         skipped, and route_localnet is NOT looked at there, so 127.0.0.1 never wins on lo).
//         A VIP is announced there when D has no address of its own, routes lead through D (else
//         the node sends no ARP request there), and the VIP is the first scope-global primary on
//         lo, whatever route_localnet says.
//  - Interfaces that never process ARP themselves: lo and IFF_NOARP links, and ports of a bridge,
//    bond or team (their frames go to the master, which answers). Links that are down are judged
//    like the others: they answer as soon as anyone sets them up.
// Not modelled (each can only make the kernel answer less): arp_filter, rp_filter, arp_accept,
// medium_id, ARP on VRF slaves. The model is held against the real kernel, cell by cell, in
// tests/kernel/arp_behaviour_wire_test.cpp; docs/arp-behaviour.md has the table.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconcile/observed_state.h"

namespace lvsrs {

// An IPv4 address as it sits, or would sit, on the node.
struct Placement {
  IpAddress ip;
  int ifindex = 0;
  std::uint8_t scope = kVipScope;
};

// Where a neighbour can learn a VIP from this node: through ARP for IPv4, through neighbour
// discovery for IPv6 (reconcile/ndp_behaviour.h), which reports the same way.
struct ArpExposure {
  enum class How {
    Answered,      // ARP: the node replies to a request for it
    Announced,     // ARP: the node's own requests carry it as sender
    NdpAnswered,   // NDP: the node advertises it in reply to a neighbour solicitation
    NdpAnnounced,  // NDP: the node's own solicitations carry it as source
  };
  IpAddress ip;
  std::string interface;  // where a neighbour learns it
  How how = How::Answered;
  std::string reason;            // the kernel rule that applies, with the values it uses
  std::string Describe() const;  // "192.0.2.10 answered on eth0: ...", "2001:db8::10 answered (NDP) on eth0: ..."
  bool answered() const { return how == How::Answered || how == How::NdpAnswered; }
};
// "answered" / "announced" / "ndp_answered" / "ndp_announced": the `how` label of lvs_rs_arp_exposed.
const char* ToString(ArpExposure::How how);

// Links that answer and send ARP and NDP themselves: not lo or IFF_NOARP links, and not ports of
// a bridge, bond or team (their frames go to the master, which answers). Links that are down
// count: they answer as soon as anyone sets them up.
std::vector<const Link*> NeighbourInterfaces(const ObservedState& observed);

class ArpBehaviour {
 public:
  // Holds a reference to observed, which must outlive it and stay unchanged.
  explicit ArpBehaviour(const ObservedState& observed);

  // Judge as if this sysctl held value (what a plan is about to write), instead of the observed one.
  void Assume(const SysctlKey& key, int value);
  // Judge with exactly these sysctl values assumed (earlier assumptions dropped).
  void AssumeOnly(std::map<SysctlKey, int> values);
  // Judge as if ip were also configured as placed (a VIP the plan is about to add), or no longer.
  void AssumePlaced(const Placement& p);
  void ForgetPlaced(const IpAddress& ip);

  // Links that answer and send ARP themselves (see the header comment): NeighbourInterfaces.
  std::vector<const Link*> ArpInterfaces() const;

  // Why a request for ip arriving on `on` is answered, or nullopt when it is not.
  std::optional<std::string> Answers(const IpAddress& ip, const Link& on) const;
  // Why the node's own ARP requests on `on` may carry ip as sender address, or nullopt.
  std::optional<std::string> Announces(const IpAddress& ip, const Link& on) const;
  // Every interface where a neighbour could learn ip from this node. IPv6 addresses: none (NDP
  // is another protocol; see the NDP model).
  std::vector<ArpExposure> Exposures(const IpAddress& ip) const;

  // The addresses and routes of the observed state by IP (built once; the judgement reuses it).
  const ObservedIndex& index() const { return index_; }

  // The effective value the kernel uses on a link: max(conf/all, conf/<dev>) for arp_ignore and
  // arp_announce, all || dev for route_localnet; nullopt when unreadable.
  std::optional<int> Effective(const Link& link, ArpKey key) const;

 private:
  std::optional<int> Value(const std::string& conf, ArpKey key) const;
  std::vector<Placement> PlacementsOf(const IpAddress& ip) const;
  // An IPv4 subnet (prefix < 32) of `on` that holds ip, or nullptr.
  const KernelAddress* SubnetHolding(const Link& on, const IpAddress& ip) const;
  // The scope the kernel compares: min(scope, link) where route_localnet holds on the address's link.
  std::uint8_t EffectiveScope(const Placement& p) const;
  // A link's IPv4 addresses in the kernel's list order, placed ones inserted where the kernel would.
  struct Listed {
    IpAddress ip;
    std::uint8_t scope;
    bool secondary;
  };
  std::vector<Listed> KernelList(const Link& link) const;
  // The address inet_select_addr picks on a link for a target it has no subnet for, or nullopt.
  std::optional<IpAddress> FirstEligible(const Link& link) const;
  // The address in_dev_select_addr picks on a link when the sending link has none, or nullopt.
  std::optional<IpAddress> FirstSelectable(const Link& link) const;
  std::string Values(const Link& on, ArpKey key) const;  // "3 (max of conf/all 1, conf/eth0 3)"

  const ObservedState& observed_;
  const ObservedIndex index_;
  // Each link's IPv4 addresses in the kernel's list order (the dump's order).
  std::map<int, std::vector<const KernelAddress*>> v4_by_link_;
  std::map<SysctlKey, int> assumed_;
  std::map<IpAddress, Placement> placed_;
  // FirstEligible per ifindex; cleared whenever an assumption changes. Judging thousands of VIPs
  // on lo asks for lo's first eligible address once per VIP and interface.
  mutable std::map<int, std::optional<IpAddress>> first_eligible_;
  mutable std::map<int, std::optional<IpAddress>> first_selectable_;  // FirstSelectable, cached the same way
};

}  // namespace lvsrs
