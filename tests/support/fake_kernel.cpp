#include "support/fake_kernel.h"

#include "reconcile/address_ownership.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace lvsrs::testing {
namespace {

bool HasLink(const ObservedState& s, int ifindex) { return s.LinkByIndex(ifindex) != nullptr; }

}  // namespace

ApplyResult ApplyToState(ObservedState& state, const Plan& plan, const std::map<ItemKey, int>& failures,
                         std::vector<std::string>* journal, bool keeps_address_protocol) {
  ApplyResult result;
  // One write: err is the kernel's answer (0, or an errno); benign errnos are the kernel saying
  // "already so", which RtnlKernel counts as success.
  auto write = [&](const ItemKey& item, const std::string& what, const std::string& verb, auto&& effect) {
    if (journal) journal->push_back(verb + " " + item.ToString());
    int err = 0;
    if (auto f = failures.find(item); f != failures.end()) err = f->second;
    if (err == 0) err = effect();
    const bool benign = err == EEXIST || err == EADDRNOTAVAIL || err == ESRCH;
    if (err == 0 || benign) {
      ++result.writes_ok;
      return;
    }
    result.errors[item] = what + ": " + std::strerror(err);
  };

  for (const auto& a : plan.add_addresses) {
    write(ItemKey::OfAddress(a.ip), "add " + a.Describe(), "add", [&] {
      if (!HasLink(state, a.ifindex)) return ENODEV;
      for (const auto& k : state.addresses)
        if (k.ip == a.ip && k.ifindex == a.ifindex && k.prefix == a.ip.host_prefix()) return EEXIST;
      // As RtnlKernel adds them: IPv4 VIPs with host scope, IPv6 with the address's own and
      // deprecated; the operator's flags; IFA_PROTO only where the kernel keeps it.
      state.addresses.push_back(KernelAddress{
          a.ip, a.ip.host_prefix(), a.ifindex, a.ip.is_v4() ? OwnerLabel(a.interface) : "",
          keeps_address_protocol ? kOwnerProtocol : std::uint8_t{0}, a.ip.is_v4() ? kVipScope : kScopeUniverse, false,
          VipAddressFlags(a.ip) | (AddedDeprecated(a.ip) ? kAddrFlagDeprecated : 0)});
      return 0;
    });
  }
  for (const auto& r : plan.add_routes) {
    write(ItemKey::OfRoute(r.dst), "add " + r.Describe(), "add", [&] {
      if (!HasLink(state, r.oif)) return ENODEV;
      // NLM_F_EXCL: any route to the same prefix in the table is in the way.
      for (const auto& k : state.routes)
        if (k.dst == r.dst && k.prefix == r.dst.host_prefix() && k.table == kMainTable) return EEXIST;
      state.routes.push_back(KernelRoute{r.dst, r.dst.host_prefix(), r.oif, kMainTable, kOwnerProtocol});
      return 0;
    });
  }
  auto set_sysctl = [&](const SysctlChange& s, const char* verb) {
    write(ItemKey::OfSysctl(s.key), std::string(verb) + " " + s.Describe(), std::string(verb), [&] {
      if (!state.sysctls.count(s.key)) return ENODEV;  // no such interface
      state.sysctls[s.key] = s.value;
      return 0;
    });
  };
  for (const auto& s : plan.set_sysctls) set_sysctl(s, "set");
  for (const auto& r : plan.remove_routes) {
    write(ItemKey::OfRoute(r.dst), "remove " + r.Describe(), "remove", [&] {
      const auto n = std::erase_if(state.routes,
                                   [&](const KernelRoute& k) { return k.owned() && k.dst == r.dst && k.oif == r.oif; });
      return n ? 0 : ESRCH;
    });
  }
  for (const auto& a : plan.remove_addresses) {
    write(ItemKey::OfAddress(a.ip), "remove " + a.Describe(), "remove", [&] {
      // RTM_DELADDR names the address and its interface only: the kernel deletes it whatever its
      // mark, so only the plan keeps foreign addresses safe.
      const auto n = std::erase_if(state.addresses, [&](const KernelAddress& k) {
        return k.ip == a.ip && k.ifindex == a.ifindex && k.prefix == a.ip.host_prefix();
      });
      return n ? 0 : EADDRNOTAVAIL;
    });
  }
  for (const auto& s : plan.restore_sysctls) set_sysctl(s, "restore");
  return result;
}

ObservedState FakeKernel::Observe() {
  ++requests_;
  if (observe_error_) throw KernelError(*observe_error_);
  return state_;
}

SysctlValues FakeKernel::ObserveSysctls(const std::vector<SysctlKey>& keys) {
  ++requests_;
  if (observe_error_) throw KernelError(*observe_error_);
  SysctlValues out;
  for (const auto& k : keys)
    if (auto it = state_.sysctls.find(k); it != state_.sysctls.end()) out.insert(*it);
  return out;
}

std::map<IpAddress, std::size_t> FakeKernel::CountEstablished(const std::vector<IpAddress>& addresses) {
  ++count_calls_;
  if (count_error_) throw KernelError(*count_error_);
  std::map<IpAddress, std::size_t> out;
  for (const auto& ip : addresses) {
    auto it = connections_.find(ip);
    out[ip] = it == connections_.end() ? 0 : it->second;
  }
  return out;
}

ApplyResult FakeKernel::Apply(const Plan& plan) {
  ++apply_calls_;
  requests_ += plan.WriteCount();
  return ApplyToState(state_, plan, failures_, journal_, keeps_address_protocol_);
}

void FakeAddressRecordStore::Save(const AddressRecord& record) const {
  if (fail_saves) throw std::runtime_error("state file /fake/owned-addresses.json.tmp: No space left on device");
  saved = record;
  ++saves;
  if (journal) journal->push_back("record addresses");
}

void FakeDrainStore::Save(const Drains& drains) const {
  if (fail_saves) throw std::runtime_error("state file /fake/draining.json.tmp: No space left on device");
  saved = drains;
  ++saves;
  if (journal) journal->push_back("save drains");
}

void FakeRecordStore::Save(const SysctlRecord& record) const {
  if (fail_saves) throw std::runtime_error("state file /fake/sysctl-originals.json.tmp: No space left on device");
  saved = record;
  ++saves;
  if (journal) journal->push_back("save");
}

}  // namespace lvsrs::testing
