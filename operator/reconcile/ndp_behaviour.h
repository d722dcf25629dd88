// What the kernel does with IPv6 neighbour discovery for the node's addresses, worked out from an
// ObservedState the way the kernel does it: the IPv6 side of "no neighbour can learn a VIP from
// this node". Pure: no I/O. ArpBehaviour (arp_behaviour.h) is the IPv4 side.
//
// IPv6 has no arp_ignore and no arp_announce. The rules, from net/ipv6/ndisc.c (ndisc_recv_ns,
// ndisc_solicit) and net/ipv6/anycast.c (Linux 6.18):
//  - A neighbour solicitation for target T arriving on interface D is answered when
//      T is configured on D itself (ipv6_get_ifaddr(T, D, strict)): whatever its scope, and also
//         when it is deprecated (preferred lifetime 0), so "VIPs are never a source" does not make
//         a VIP on a NIC safe. A VIP on lo, or on any interface other than D, is not answered:
//         there is no "any local address" rule like arp_ignore 0's;
//      or D is a VRF slave and T is on its VRF master;
//      or T is an anycast address joined on D (ipv6_chk_acast_addr): while forwarding is on for D
//         the kernel joins the subnet-router anycast address (the prefix, host part zero) of every
//         address of D with a prefix shorter than /127, and a socket can join others. A VIP that
//         equals such an address is answered on D even when it sits on lo;
//      or forwarding is on for D, proxy_ndp is on for conf/all OR conf/D, and a proxy entry for T
//         on D exists (`ip -6 neigh add proxy T dev D`; the kernel refuses proxy entries without a
//         device). Forwarding is the device's own value: writing conf/all/forwarding copies the
//         value to every device, but conf/all is not looked at here (a device set back to 0 after
//         all=1 does not proxy).
//    Anycast and proxy answers come after a random delay of up to proxy_delay (0.8 s by default)
//    and from the interface's link-local address; they are answers all the same.
//  - The node's own solicitations on D (ndisc_solicit) take the packet's source address as their
//    source only when it is an address of D itself (strict), else D's link-local address: a VIP is
//    announced by the replies a real server sends from it only on the interface it sits on.
//  - Interfaces: as for ARP (NeighbourInterfaces): lo and IFF_NOARP links have no neighbours, and
//    ports of a bridge or bond hand their frames to the master.
// Not modelled (each can only make the kernel answer less, so the model errs on "exposed"):
// tentative and DAD-failed addresses (the operator adds VIPs with nodad), disable_ipv6. The model
// is held against the real kernel, cell by cell, in tests/kernel/ndp_behaviour_wire_test.cpp;
// docs/ndp-behaviour.md has the table.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "reconcile/arp_behaviour.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

class NdpBehaviour {
 public:
  // Holds references to observed (and index), which must outlive it and stay unchanged.
  explicit NdpBehaviour(const ObservedState& observed);
  NdpBehaviour(const ObservedState& observed, const ObservedIndex& index);

  // Judge as if ip were also configured on ifindex (a VIP the plan is about to add), or no longer.
  void AssumePlaced(const IpAddress& ip, int ifindex);
  void ForgetPlaced(const IpAddress& ip);

  // Why a neighbour solicitation for ip arriving on `on` is answered, or nullopt when it is not.
  std::optional<std::string> Answers(const IpAddress& ip, const Link& on) const;
  // Why the node's own solicitations on `on` may carry ip as their source, or nullopt.
  std::optional<std::string> Announces(const IpAddress& ip, const Link& on) const;
  // Every interface where a neighbour could learn ip from this node. IPv4 addresses: none (ARP is
  // ArpBehaviour's).
  std::vector<ArpExposure> Exposures(const IpAddress& ip) const;

 private:
  NdpBehaviour(const ObservedState& observed, std::unique_ptr<ObservedIndex> own);
  bool OnLink(const IpAddress& ip, int ifindex) const;
  std::string Values(const Link& on) const;  // "forwarding 1 (conf/eth0), proxy_ndp 1 (conf/all 0, conf/eth0 1)"

  const ObservedState& observed_;
  const ObservedIndex& index_;
  std::unique_ptr<ObservedIndex> own_index_;     // what index_ refers to when no index was given
  std::set<std::pair<IpAddress, int>> proxy_;    // (address, ifindex) of every IPv6 proxy entry
  std::set<std::pair<IpAddress, int>> anycast_;  // (address, ifindex) of every IPv6 anycast address
  std::vector<const Link*> interfaces_;          // NeighbourInterfaces, once
  std::set<std::pair<IpAddress, int>> placed_;
};

}  // namespace lvsrs
