#include "kube/virtual_ip_selection.h"

#include "model/virtual_ip_parse.h"
#include "reconcile/desired_state.h"

namespace lvsrs::kube {

using nlohmann::json;

VirtualIpSelection SelectVirtualIps(const std::map<std::string, json>& objects,
                                    const std::map<std::string, std::string>& node_labels,
                                    const std::map<std::string, VirtualIp>& previous) {
  VirtualIpSelection out;
  auto& vips = out.vips;
  auto& refused = out.refused;
  auto& last_good = out.last_good;  // of the objects that exist now
  for (const auto& [name, obj] : objects) {
    ParsedVirtualIp p = ParseVirtualIp(obj);
    if (p.vip) {
      // Reserved addresses are refused whatever the node: judge them here, where a refused edit
      // can still fall back on the last accepted spec (BuildDesiredState checks them again).
      for (std::size_t i = 0; i < p.vip->addresses.size(); ++i)
        if (const std::string reserved = ReservedAddressReason(p.vip->addresses[i]); !reserved.empty())
          p.errors.push_back("spec.addresses[" + std::to_string(i) + "]: " + p.vip->addresses[i].ToString() + " " +
                             reserved);
      if (!p.errors.empty()) p.vip.reset();
    }
    if (p.vip) {
      if (!p.vip->uid.empty()) last_good[p.vip->uid] = *p.vip;
      vips.push_back(std::move(*p.vip));
      continue;
    }
    std::string message;
    for (const auto& e : p.errors) message += (message.empty() ? "" : "; ") + e;
    message = "invalid VirtualIP: " + message;

    const json meta = obj.value("metadata", json::object());
    const json uid = meta.is_object() ? meta.value("uid", json()) : json();
    const auto kept = uid.is_string() ? previous.find(uid.get<std::string>()) : previous.end();
    if (kept != previous.end()) {
      // The object ran with an accepted spec before: keep serving it (it still selects nodes by
      // its old selector, so a refusal is reported only where it is served).
      last_good[kept->first] = kept->second;
      vips.push_back(kept->second);
      if (kept->second.node_selector.Matches(node_labels))
        refused[name] = SourceRefusal{"edit refused, still serving the last accepted spec (generation " +
                                          std::to_string(kept->second.generation) + "): " + message,
                                      true};
      continue;
    }
    // Report a refusal only on nodes the VirtualIP may be meant for: if its selector parses and
    // does not match this node, the VIP is not this node's business.
    const json spec = obj.value("spec", json::object());
    if (spec.is_object() && spec.contains("nodeSelector")) {
      std::vector<std::string> selector_errors;
      const LabelSelector sel = ParseLabelSelector(spec["nodeSelector"], "spec.nodeSelector", selector_errors);
      if (selector_errors.empty() && !sel.Matches(node_labels)) continue;
    }
    refused[name] = SourceRefusal{message, false};
  }
  return out;
}

}  // namespace lvsrs::kube
