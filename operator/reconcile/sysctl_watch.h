// What the agent re-reads between full passes. The kernel announces every change of a link,
// address or route on rtnetlink (RTNLGRP_LINK, *_IFADDR, *_ROUTE), so the loop follows those by
// notification; it announces no change of arp_ignore or arp_announce (devinet's RTM_NEWNETCONF
// covers forwarding, rp_filter, mc_forwarding, proxy_neigh and ignore_routes_with_linkdown only),
// so those few keys are polled every --resync-period and a full pass runs only when one moved.
#pragma once

#include <map>
#include <vector>

#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

using SysctlValues = std::map<SysctlKey, int>;

// The sysctls the last pass's plan and ARP verdicts depended on, with the values it observed:
// every key the desired ARP spec sets (conf/all, default and lo in Global scope; each
// ARP-capable interface in PerInterface scope), conf/all always (the effective value on an
// interface is max(all, dev)), and while a VirtualIP selects the node, every up ARP-capable
// interface's own values and route_localnet of all, lo and those interfaces. Keys the observed
// state lacks are left out.
SysctlValues SysctlsToWatch(const DesiredState& desired, const ObservedState& observed);

// The watched keys whose value now differs from what the last pass left (changed, or no longer
// readable), in key order. Compared with the last pass rather than with the desired value: a
// key the pass could not fix (in backoff, contested, unwritable) must not force a full pass on
// every poll; its retry, scheduled by the reconciler, runs one.
std::vector<SysctlKey> ChangedSysctls(const SysctlValues& last_pass, const SysctlValues& now);

}  // namespace lvsrs
