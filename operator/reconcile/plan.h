// The pure diff: desired vs observed (plus the sysctl values recorded before we first changed
// them) gives a Plan, a value that can be printed (--dry-run), tested, and executed by the
// kernel adapter. A second diff after a successful execution is empty.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "reconcile/desired_state.h"
#include "reconcile/observed_state.h"

namespace lvsrs {

// Original values of sysctls the operator changed, persisted in the state file.
using SysctlRecord = std::map<SysctlKey, int>;

struct AddressChange {
  IpAddress ip;
  int ifindex = 0;
  std::string interface;
  std::string Describe() const;  // "address 192.0.2.10/32 on lo"
};

struct RouteChange {
  IpAddress dst;
  int oif = 0;
  std::string interface;
  std::string Describe() const;  // "route 192.0.2.10/32 dev lo"
};

struct SysctlChange {
  SysctlKey key;
  int value = 0;
  // Written through netlink IFLA_INET_CONF on this ifindex (PerInterface scope, which needs only
  // CAP_NET_ADMIN), or through /proc/sys when 0 (all/default, and Global scope's lo).
  int ifindex = 0;
  // The value to record before the first write, so it can be restored later.
  std::optional<int> record_original;
  std::string Describe() const;  // "net.ipv4.conf.all.arp_ignore=1"
};

struct Plan {
  std::vector<AddressChange> add_addresses;
  std::vector<RouteChange> add_routes;
  std::vector<SysctlChange> set_sysctls;
  std::vector<RouteChange> remove_routes;
  std::vector<AddressChange> remove_addresses;
  // Restores a recorded original value; the record is dropped once it succeeds. Entries with
  // only drop_record set restore nothing (the interface is gone, or the value is already back).
  std::vector<SysctlChange> restore_sysctls;
  std::vector<SysctlKey> drop_records;
  // Wanted but impossible right now (interface missing, foreign route in the way): no write.
  std::map<IpAddress, std::string> blocked;

  bool HasWrites() const;
  std::size_t WriteCount() const;
  std::string ToText() const;  // one line per change, for --dry-run and logs
};

// The sysctls a desired ARP spec asks for on the observed links (with their write path).
std::vector<SysctlChange> DesiredSysctls(const DesiredState& desired, const ObservedState& observed);

class NodeJudgement;
// judgement: of desired against observed (the reconciler judges once per observation and hands
// the same verdicts to the plan and the status); the overload without one judges for itself.
Plan ComputePlan(const DesiredState& desired, const NodeJudgement& judgement, const ObservedState& observed,
                 const SysctlRecord& recorded);
Plan ComputePlan(const DesiredState& desired, const ObservedState& observed, const SysctlRecord& recorded);

}  // namespace lvsrs
