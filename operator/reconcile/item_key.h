// The name of one thing the operator writes: an address, a host route (both by VIP) or an ARP
// sysctl. Failures, backoff and contest tracking are kept per item, so an address and the route
// of the same VIP never share a slot. ToString() is the text logs, Events and the metrics label
// `item` show ("ip:192.0.2.10", "route:192.0.2.10", "sysctl:net.ipv4.conf.all.arp_ignore"):
// dashboards and alerts match on it, so it must not change.
#pragma once

#include <compare>
#include <string>

#include "model/ip_address.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

struct ItemKey {
  enum class Kind { Address, Route, Sysctl };
  Kind kind = Kind::Address;
  IpAddress ip;      // Address and Route
  SysctlKey sysctl;  // Sysctl

  static ItemKey OfAddress(const IpAddress& ip) { return ItemKey{Kind::Address, ip, {}}; }
  static ItemKey OfRoute(const IpAddress& ip) { return ItemKey{Kind::Route, ip, {}}; }
  static ItemKey OfSysctl(const SysctlKey& key) { return ItemKey{Kind::Sysctl, {}, key}; }

  bool is_sysctl() const { return kind == Kind::Sysctl; }
  // What it is about, without the kind: "192.0.2.10" or "net.ipv4.conf.all.arp_ignore".
  std::string Subject() const { return is_sysctl() ? sysctl.ToString() : ip.ToString(); }
  std::string ToString() const {
    switch (kind) {
      case Kind::Address: return "ip:" + Subject();
      case Kind::Route: return "route:" + Subject();
      case Kind::Sysctl: return "sysctl:" + Subject();
    }
    return Subject();
  }
  auto operator<=>(const ItemKey&) const =
      default;  // NOLINT(modernize-use-nullptr): clang-tidy 14 misreads the 0 of <=>
};

}  // namespace lvsrs
