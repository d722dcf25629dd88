#include "metrics/outcome_metrics.h"

#include <algorithm>
#include <iterator>

namespace lvsrs {
namespace {

template <std::size_t N>
bool Known(const char* const (&list)[N], const std::string& value) {
  return std::find(std::begin(list), std::end(list), value) != std::end(list);
}

}  // namespace

OutcomeMetrics MetricsOfOutcome(const ReconcileOutcome& o) {
  OutcomeMetrics m;
  m.duration_seconds = std::chrono::duration<double>(o.duration).count();
  m.kernel_writes = static_cast<double>(o.applied.writes_ok);
  for (const auto& [kind, n] : o.repairs)
    if (n > 0 && Known(kRepairKinds, kind)) m.repairs[kind] += n;
  // The "address" kind counts failed writes of addresses and of their host routes.
  if (const auto n = o.applied.Count(ItemKey::Kind::Address) + o.applied.Count(ItemKey::Kind::Route))
    m.errors["address"] = static_cast<double>(n);
  if (const auto n = o.applied.Count(ItemKey::Kind::Sysctl)) m.errors["sysctl"] = static_cast<double>(n);

  if (!o.error.empty()) {
    // The status of such a pass is empty or judged on stale state: it says nothing about the
    // kernel, so the per-item series stay as last seen and the node is not conformant.
    m.errors["kernel_read"] += 1;
    return m;
  }
  m.has_status = true;
  m.node_conformant = o.status.conformant();
  for (const auto& [item, n] : o.contested) m.contested[item.ToString()] = n;
  for (const auto& v : o.status.vips) {
    if (v.state == VipState::Refused) {
      // A refused VirtualIP has no address of its own to label a series with.
      m.refused_virtualips.insert(v.virtual_ip);
      continue;
    }
    if (v.state == VipState::EditRefused) {  // its kept spec's addresses have their own entries
      m.edit_refused_virtualips.insert(v.virtual_ip);
      continue;
    }
    if (v.state == VipState::Draining) {  // not wanted any more: its own series below
      m.vip_connections[v.address] = static_cast<double>(v.connections);
      m.vips_draining += 1;
      continue;
    }
    const bool ok = v.state == VipState::Configured || v.state == VipState::Adopted;
    m.vip_conformant[{v.virtual_ip, v.address}] = ok ? 1 : 0;
  }
  for (const auto& [name, r] : o.source_refused)
    (r.serving_last_good ? m.edit_refused_virtualips : m.refused_virtualips).insert(name);
  for (const auto& i : o.status.interfaces) {
    // -1 means the sysctl could not be read; a made-up number would mislead a dashboard.
    if (i.arp_ignore >= 0) m.arp_effective[{i.interface, ToString(ArpKey::Ignore)}] = i.arp_ignore;
    if (i.arp_announce >= 0) m.arp_effective[{i.interface, ToString(ArpKey::Announce)}] = i.arp_announce;
    m.arp_conformant[i.interface] = i.conformant ? 1 : 0;
  }
  for (const auto& e : o.status.exposures) m.arp_exposed[{e.ip.ToString(), e.interface, ToString(e.how)}] = 1;
  return m;
}

}  // namespace lvsrs
