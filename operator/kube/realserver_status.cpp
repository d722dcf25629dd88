#include "kube/realserver_status.h"

#include <algorithm>

#include "kube/object_decode.h"
#include "model/rfc3339.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxMessage = 1000;  // keep conditions readable in `kubectl describe`
// Problems listed one by one; the rest are counted. `check` on the node lists every one.
constexpr std::size_t kMaxListed = 20;

std::string Bounded(const std::string& s) { return s.size() > kMaxMessage ? s.substr(0, kMaxMessage) + "..." : s; }

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) {
    if (!out.empty()) out += "; ";
    out += l;
    if (out.size() > kMaxMessage) return out.substr(0, kMaxMessage) + "...";
  }
  return out;
}

json Condition(const std::string& type, bool ok, const std::string& reason, const std::string& message) {
  return json{{"type", type}, {"status", ok ? "True" : "False"}, {"reason", reason}, {"message", message}};
}

// Carries lastTransitionTime over from the previous condition of the same type and status.
void SetTransition(json& condition, const json& previous, const std::string& now) {
  condition["lastTransitionTime"] = now;
  // `previous` is what the server holds (anyone allowed to edit the RealServer may have put any
  // type anywhere): read it only through accessors that cannot throw.
  if (!previous.is_object() || !previous.contains("conditions") || !previous["conditions"].is_array()) return;
  for (const auto& c : previous["conditions"]) {
    const std::string since = StringField(c, "lastTransitionTime");
    if (StringField(c, "type") == condition["type"] && StringField(c, "status") == condition["status"] &&
        !since.empty())
      condition["lastTransitionTime"] = since;
  }
}

}  // namespace

json BuildRealServerStatus(const NodeStatus& status, const SourceRefusals& source_refused, const json& previous,
                           const std::string& now, const std::map<std::string, int>& contested) {
  // One entry per VirtualIP, whatever its number of addresses: the object stays small at a
  // thousand VIPs and unchanged while they are all in place.
  struct PerVirtualIp {
    std::size_t wanted = 0, configured = 0;
    std::string state, message;  // state set only for a refused VirtualIP
    std::size_t draining = 0, connections = 0;
    std::int64_t drain_deadline_unix_ms = 0;  // the latest of its draining addresses
  };
  std::map<std::string, PerVirtualIp> per_vip;
  std::size_t wanted = 0, configured = 0, refused = 0, failed = 0, edit_refused = 0;
  std::vector<std::string> vip_problems;
  json addresses = json::array();  // only those not as wanted, at most kMaxListed
  std::size_t addresses_not_listed = 0;
  for (const auto& v : status.vips) {
    if (v.state == VipState::Draining && v.virtual_ip.empty()) continue;  // no VirtualIP known to report it under
    PerVirtualIp& p = per_vip[v.virtual_ip];
    if (v.state == VipState::Draining) {  // not wanted any more: not counted in wanted/configured
      ++p.draining;
      p.connections += v.connections;
      p.drain_deadline_unix_ms = std::max(p.drain_deadline_unix_ms, v.drain_deadline_unix_ms);
      if (p.message.empty()) p.message = v.address + ": " + v.message;
      continue;
    }
    if (v.state == VipState::Refused) {
      ++refused;
      p.state = "Refused";
      p.message = v.message;
      vip_problems.push_back("VirtualIP " + v.virtual_ip + " refused: " + v.message);
      continue;
    }
    if (v.state == VipState::EditRefused) {  // refused by this node; its kept spec's addresses are counted
      ++edit_refused;
      p.state = "EditRefused";
      p.message = v.message;
      vip_problems.push_back("VirtualIP " + v.virtual_ip + " " + v.message);
      continue;
    }
    ++wanted;
    ++p.wanted;
    if (v.state == VipState::Configured || v.state == VipState::Adopted) {
      ++configured;
      ++p.configured;
      continue;
    }
    if (v.state == VipState::Failed) ++failed;
    if (p.message.empty()) p.message = v.address + ": " + v.message;
    vip_problems.push_back(v.address + " (" + v.virtual_ip + "): " + v.message);
    if (addresses.size() >= kMaxListed) {
      ++addresses_not_listed;
      continue;
    }
    json e{{"name", v.virtual_ip}, {"address", v.address}, {"state", ToString(v.state)}};
    if (!v.interface.empty()) e["interface"] = v.interface;
    if (!v.message.empty()) e["message"] = Bounded(v.message);
    addresses.push_back(std::move(e));
  }
  for (const auto& [name, r] : source_refused) {
    PerVirtualIp& p = per_vip[name];
    // Served as its last accepted spec left it (counted above), or not at all.
    p.state = r.serving_last_good ? "EditRefused" : "Refused";
    p.message = r.message;
    if (r.serving_last_good) {
      ++edit_refused;
      vip_problems.push_back("VirtualIP " + name + " " + r.message);
    } else {
      ++refused;
      vip_problems.push_back("VirtualIP " + name + " refused: " + r.message);
    }
  }
  json vips = json::array();
  for (const auto& [name, p] : per_vip) {
    const std::string state = !p.state.empty()           ? p.state
                              : p.draining               ? "Draining"
                              : p.configured == p.wanted ? "Ready"
                                                         : "NotReady";
    json e{
        {"name", name}, {"state", state}, {"addresses", std::to_string(p.configured) + "/" + std::to_string(p.wanted)}};
    if (!p.message.empty()) e["message"] = Bounded(p.message);
    if (p.draining) {
      e["connections"] = p.connections;
      e["drainDeadline"] = FormatRfc3339(
          std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::milliseconds(p.drain_deadline_unix_ms))));
    }
    vips.push_back(std::move(e));
  }

  // Only the interfaces where something is exposed: a pod's veth coming or going on a conformant
  // node changes nothing here, so it costs no write.
  json interfaces = json::array();
  std::size_t interfaces_not_listed = 0;
  for (const auto& i : status.interfaces) {
    if (i.conformant) continue;
    if (interfaces.size() >= kMaxListed) {
      ++interfaces_not_listed;
      continue;
    }
    json e{{"name", i.interface}, {"arpIgnore", i.arp_ignore}, {"arpAnnounce", i.arp_announce}, {"conformant", false}};
    if (!i.message.empty()) e["message"] = Bounded(i.message);
    interfaces.push_back(std::move(e));
  }
  std::vector<std::string> arp_problems;
  // What a neighbour can learn, VIP and interface named, with the kernel rule behind it.
  for (const auto& p : status.problems)
    if (p.kind == Problem::Kind::ArpExposed || p.kind == Problem::Kind::NodeUnreachable) arp_problems.push_back(p.text);

  const bool vips_ok = configured == wanted && refused == 0 && edit_refused == 0;
  const std::string vips_reason = vips_ok                ? (wanted == 0 ? "NoVirtualIPs" : "AllConfigured")
                                  : refused              ? "VirtualIPRefused"
                                  : failed               ? "ApplyFailed"
                                  : configured != wanted ? "Pending"
                                                         : "EditRefused";
  const std::string vips_message =
      vips_ok ? std::to_string(configured) + " address(es) configured" : Join(vip_problems);
  const bool arp_ok = status.arp_conformant;
  const std::string arp_reason = arp_ok ? "Conformant" : "NotConformant";
  const std::string arp_message =
      arp_ok ? "no VIP is answered or announced through ARP or NDP on any interface" : Join(arp_problems);

  // The node's own traffic leaving from a VIP: the replies go to the director, not to this node.
  std::vector<std::string> source_problems;
  for (const auto& p : status.problems)
    if (p.kind == Problem::Kind::VipIsSource) source_problems.push_back(p.text);
  const bool source_ok = status.vips_not_source;
  const std::string source_reason = source_ok ? "NotSource" : "VIPIsSource";
  const std::string source_message =
      source_ok ? "the node's own traffic leaves from none of the VIPs" : Join(source_problems);

  json vc = Condition("VIPsConfigured", vips_ok, vips_reason, vips_message);
  json ac = Condition("ARPConformant", arp_ok, arp_reason, arp_message);
  json sc = Condition("VIPsNotSource", source_ok, source_reason, source_message);
  json rc = vips_ok && arp_ok && source_ok
                ? Condition("Ready", true, "Ready", "every VIP configured, ARP conformant, no VIP a source address")
            : !vips_ok ? Condition("Ready", false, vips_reason, vips_message)
            : !arp_ok  ? Condition("Ready", false, arp_reason, arp_message)
                       : Condition("Ready", false, source_reason, source_message);
  // Abnormal-true, like a node's MemoryPressure: True only while a fight lasts. Not part of Ready:
  // the operator still wins each round (with backoff), the node may well be conformant.
  std::vector<std::string> items;
  items.reserve(contested.size());
  for (const auto& [item, n] : contested) items.push_back(item);
  json cc =
      contested.empty()
          ? Condition("Contested", false, "NoContest", "nothing was undone right after its repair in the last 30 s")
          : Condition("Contested", true, "DriftContested",
                      "another tool keeps undoing what the operator sets, repaired with backoff: " + Join(items));
  SetTransition(rc, previous, now);
  SetTransition(ac, previous, now);
  SetTransition(vc, previous, now);
  SetTransition(sc, previous, now);
  SetTransition(cc, previous, now);

  json out{{"conditions", json::array({rc, ac, vc, sc, cc})},
           {"vips", std::to_string(configured) + "/" + std::to_string(wanted)},
           {"virtualIPs", std::move(vips)},
           {"addresses", std::move(addresses)},
           {"interfaces", std::move(interfaces)}};
  if (addresses_not_listed) out["addressesNotListed"] = addresses_not_listed;
  if (interfaces_not_listed) out["interfacesNotListed"] = interfaces_not_listed;
  if (!StringField(previous, "lastSyncTime").empty()) {
    out["lastSyncTime"] = previous["lastSyncTime"];
    if (out == previous) return previous;
  }
  out["lastSyncTime"] = now;
  return out;
}

}  // namespace lvsrs::kube
