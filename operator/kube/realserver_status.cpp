#include "kube/realserver_status.h"

#include "kube/object_decode.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxMessage = 1000;  // keep conditions readable in `kubectl describe`

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
  json vips = json::array();
  std::size_t wanted = 0, configured = 0, refused = 0, failed = 0, edit_refused = 0;
  std::vector<std::string> vip_problems;
  for (const auto& v : status.vips) {
    json e{{"name", v.virtual_ip}, {"state", ToString(v.state)}};
    if (!v.address.empty()) e["address"] = v.address;
    if (!v.interface.empty()) e["interface"] = v.interface;
    if (!v.message.empty() && v.state != VipState::Configured) e["message"] = v.message;
    vips.push_back(std::move(e));
    if (v.state == VipState::Refused) {
      ++refused;
      vip_problems.push_back("VirtualIP " + v.virtual_ip + " refused: " + v.message);
      continue;
    }
    ++wanted;
    if (v.state == VipState::Configured || v.state == VipState::Adopted)
      ++configured;
    else {
      if (v.state == VipState::Failed) ++failed;
      vip_problems.push_back(v.address + " (" + v.virtual_ip + "): " + v.message);
    }
  }
  for (const auto& [name, r] : source_refused) {
    if (r.serving_last_good) {
      // Its addresses are listed above as the last accepted spec left them.
      vips.push_back(json{{"name", name}, {"state", "EditRefused"}, {"message", r.message}});
      ++edit_refused;
      vip_problems.push_back("VirtualIP " + name + " " + r.message);
      continue;
    }
    vips.push_back(json{{"name", name}, {"state", "Refused"}, {"message", r.message}});
    ++refused;
    vip_problems.push_back("VirtualIP " + name + " refused: " + r.message);
  }

  json interfaces = json::array();
  std::vector<std::string> arp_problems;
  for (const auto& i : status.interfaces) {
    json e{{"name", i.interface},
           {"arpIgnore", i.arp_ignore},
           {"arpAnnounce", i.arp_announce},
           {"conformant", i.conformant}};
    if (!i.message.empty()) e["message"] = i.message;
    interfaces.push_back(std::move(e));
  }
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
      arp_ok ? "no VIP is answered or announced through ARP on any interface" : Join(arp_problems);

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
           {"interfaces", std::move(interfaces)}};
  if (!StringField(previous, "lastSyncTime").empty()) {
    out["lastSyncTime"] = previous["lastSyncTime"];
    if (out == previous) return previous;
  }
  out["lastSyncTime"] = now;
  return out;
}

}  // namespace lvsrs::kube
