// Which addresses are the operator's on kernels that drop IFA_PROTO (before Linux 5.18), and the
// properties it gives every address it adds on any kernel.
//
// There the agent records each address in the state directory before it asks the kernel to add it
// (agent/address_record.h), and an address counts as the operator's only when the record names it
// (address and interface index) AND it still has every property the operator gives its addresses:
// the host prefix, the flags of VipAddressFlags and, on IPv4, host scope. What an admin adds by
// hand looks different (`ip addr add` gives scope global, no nodad, no noprefixroute), and an
// address whose properties someone changed since is theirs, like a sysctl another tool changed
// after the operator wrote it: neither is ever deleted. A record that no longer backs such an
// address is dropped after the pass (StillInPlace), so it cannot claim an address added later.
#pragma once

#include <compare>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "model/ip_address.h"
#include "reconcile/observed_state.h"
#include "reconcile/plan.h"

namespace lvsrs {

struct RecordedAddress {
  IpAddress ip;
  int ifindex = 0;
  std::string interface;                                     // its name when it was added, for people reading the file
  auto operator<=>(const RecordedAddress&) const = default;  // NOLINT(modernize-use-nullptr): see IpAddress
};
using AddressRecord = std::set<RecordedAddress>;

// The IFA_F_* flags the operator gives an address it adds:
//  - noprefixroute on both families: a /32 or /128 needs no prefix route (IPv4 never makes one
//    for a /32; IPv6 would add "VIP dev lo proto kernel" to the main table beside the host route
//    the VirtualIP asks for), and admins rarely set it, so it tells our addresses from theirs;
//  - nodad on IPv6: the VIP is shared with the director and every real server by design, and
//    duplicate address detection would leave it "tentative" (unusable) or "dadfailed".
std::uint32_t VipAddressFlags(const IpAddress& ip);

// Whether the operator adds the address deprecated (preferred lifetime 0, valid forever): IPv6,
// whose source address selection (RFC 6724 rule 3) then avoids it for the node's own traffic.
// IPv4 has no such rule; its VIPs get host scope instead (kVipScope).
bool AddedDeprecated(const IpAddress& ip);

// Whether a has every property the operator gives the addresses it adds.
bool HasVipProperties(const KernelAddress& a);

// Marks the observed addresses that record claims and that have those properties
// (KernelAddress::recorded, which makes them owned()).
void RecogniseRecorded(ObservedState& observed, const AddressRecord& record);

// The record with the addresses about to be added: to be saved before the kernel is asked.
AddressRecord WithAdds(AddressRecord record, const std::vector<AddressChange>& adds);

// The entries that still back an address the kernel holds with the operator's properties; the
// rest (deleted, never added, changed by someone else) are dropped.
AddressRecord StillInPlace(const AddressRecord& record, const ObservedState& observed);

}  // namespace lvsrs
