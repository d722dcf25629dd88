#include "reconcile/address_ownership.h"

namespace lvsrs {
namespace {

// The entries naming a's address on a's interface (a name change of the interface leaves
// entries with the older name, which claim it too). O(log n): nodes hold thousands of VIPs.
template <typename Fn>
void ForEachClaim(const AddressRecord& record, const KernelAddress& a, Fn&& fn) {
  for (auto it = record.lower_bound(RecordedAddress{a.ip, a.ifindex, ""});
       it != record.end() && it->ip == a.ip && it->ifindex == a.ifindex; ++it)
    fn(*it);
}

}  // namespace

std::uint32_t VipAddressFlags(const IpAddress& ip) {
  return kAddrFlagNoPrefixRoute | (ip.is_v4() ? 0 : kAddrFlagNoDad);
}

bool AddedDeprecated(const IpAddress& ip) { return !ip.is_v4(); }

bool HasVipProperties(const KernelAddress& a) {
  const std::uint32_t want = VipAddressFlags(a.ip);
  return a.prefix == a.ip.host_prefix() && (a.flags & want) == want && (!a.ip.is_v4() || a.scope == kVipScope);
}

void RecogniseRecorded(ObservedState& observed, const AddressRecord& record) {
  for (auto& a : observed.addresses) {
    a.recorded = false;
    if (HasVipProperties(a)) ForEachClaim(record, a, [&](const RecordedAddress&) { a.recorded = true; });
  }
}

AddressRecord WithAdds(AddressRecord record, const std::vector<AddressChange>& adds) {
  for (const auto& a : adds) record.insert(RecordedAddress{a.ip, a.ifindex, a.interface});
  return record;
}

AddressRecord StillInPlace(const AddressRecord& record, const ObservedState& observed) {
  AddressRecord out;
  for (const auto& a : observed.addresses)
    if (HasVipProperties(a)) ForEachClaim(record, a, [&](const RecordedAddress& r) { out.insert(r); });
  return out;
}

}  // namespace lvsrs
