#include <cstdio>

#include "agent/address_record.h"
#include "agent/drain_record.h"
#include "agent/file_source.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/node_identity.h"
#include "kernel/rtnl_kernel.h"
#include "kube/kube_config.h"
#include "kube/kube_mode.h"
#include "model/virtual_ip_parse.h"
#include "reconcile/audit.h"

namespace lvsrs {

int CheckCommand(int argc, char** argv) {
  Flags flags({
      {"file", true, "VirtualIP documents to check against", ""},
      {"vip", true, "a VIP address to check (repeatable), instead of --file", ""},
      {"kubeconfig", true,
       "without --file and --vip: the VirtualIPs and this node's labels from the API server, with this kubeconfig",
       "$KUBECONFIG, else in-cluster"},
      {"interface", true, "with --vip: interface holding the VIPs", "lo"},
      {"no-host-route", false, "with --vip: do not expect host routes", ""},
      {"arp-ignore", true, "with --vip: expected arp_ignore", "1"},
      {"arp-announce", true, "with --vip: expected arp_announce", "2"},
      {"arp-scope", true, "with --vip: Global or PerInterface", "Global"},
      {"node-name", true, "this node's name", "$NODE_NAME or the host name"},
      {"node-labels", true, "this node's labels, k=v,k2=v2", ""},
      {"output", true, "text or json", "text"},
      {"state-dir", true, "the agent's state directory: tells its addresses from adopted ones on kernels before 5.18",
       "/var/lib/lvs-rs-operator"},
      {"help", false, "show this help", ""},
  });
  std::string err;
  auto usage = [&](const std::string& e) {
    std::fprintf(stderr, "check: %s\n\nFlags:\n%s", e.c_str(), flags.Help().c_str());
    return kExitUsage;
  };
  if (!flags.Parse(argc, argv, 2, err)) return usage(err);
  if (!flags.positional().empty()) return usage("unexpected argument " + flags.positional().front());
  if (flags.Has("help")) {
    std::printf("Usage: lvs-rs-operator check [--file PATH | --vip ADDR ... | --kubeconfig PATH] [flags]\n\nFlags:\n%s",
                flags.Help().c_str());
    return kExitOk;
  }
  const std::string output = flags.Get("output").value_or("text");
  if (output != "text" && output != "json") return usage("--output must be text or json");
  if (flags.Has("file") && flags.Has("vip")) return usage("give --file or --vip, not both");
  if (flags.Has("kubeconfig") && (flags.Has("file") || flags.Has("vip")))
    return usage("--kubeconfig reads the VirtualIPs from the API server: not with --file or --vip");

  NodeInfo node;
  if (!NodeFromFlags(flags, node, err)) return usage(err);

  std::vector<VirtualIp> vips;
  if (!flags.Has("file") && !flags.Has("vip")) {
    // What the agent on this node is asked to do: the VirtualIPs and the Node's labels as the API
    // server has them (in a pod: in-cluster config and NODE_NAME, so that `kubectl exec ... check`
    // needs no arguments). Read only: no RealServer, no Event, no Lease.
    std::unique_ptr<kube::KubernetesMode> api;
    try {
      api = std::make_unique<kube::KubernetesMode>(flags.Get("kubeconfig").value_or(""), node.name);
    } catch (const kube::ConfigError& e) {
      return usage("give --file or --vip, or reach the API server (Kubernetes mode: " + std::string(e.what()) + ")");
    }
    if (!api->WaitForSync(std::chrono::seconds(30))) {
      std::fprintf(stderr, "check: no complete list of VirtualIPs and Node %s from %s within 30s\n", node.name.c_str(),
                   api->origin().c_str());
      api->Stop();
      return kExitNotConformant;
    }
    DesiredSource::Snapshot snap = api->source().Get();
    api->Stop();
    vips = std::move(snap.vips);
    node.labels = std::move(snap.node.labels);
  } else if (auto file = flags.Get("file")) {
    try {
      vips = LoadVirtualIpFile(*file);
    } catch (const FileError& e) {
      std::fprintf(stderr, "check: invalid input:\n%s\n", e.what());
      return kExitUsage;
    }
  } else {
    // The same validation as a VirtualIP object, so --vip and --file agree on what is valid.
    nlohmann::json obj = {{"apiVersion", kApiVersion}, {"kind", "VirtualIP"}, {"metadata", {{"name", "command-line"}}}};
    obj["spec"]["addresses"] = flags.GetAll("vip");
    obj["spec"]["interface"] = flags.Get("interface").value_or("lo");
    obj["spec"]["hostRoute"] = !flags.Has("no-host-route");
    auto as_int = [&](const char* name, int def) -> nlohmann::json {
      auto v = flags.Get(name);
      if (!v) return def;
      try {
        std::size_t used = 0;
        const int n = std::stoi(*v, &used);
        if (used == v->size()) return n;
      } catch (const std::exception&) {
      }
      return *v;  // the validator names the flag's field
    };
    obj["spec"]["arp"] = {{"ignore", as_int("arp-ignore", 1)},
                          {"announce", as_int("arp-announce", 2)},
                          {"scope", flags.Get("arp-scope").value_or("Global")}};
    ParsedVirtualIp p = ParseVirtualIp(obj);
    if (!p.vip) {
      std::string all;
      for (const auto& e : p.errors) all += "\n  " + e;
      return usage("invalid --vip input:" + all);
    }
    vips.push_back(std::move(*p.vip));
  }

  const std::string state_dir = flags.Get("state-dir").value_or("/var/lib/lvs-rs-operator");
  RtnlKernel kernel;
  ObservedState observed = kernel.Observe();
  try {
    RecogniseRecorded(observed, AddressRecordFile(state_dir).Load());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "check: %s; the addresses it names show as not created by the operator\n", e.what());
  }
  DesiredState desired = BuildDesiredState(vips, node, observed);
  // What the agent drains is not wanted, and not missing: as the agent decides it.
  const DrainFile drain_file(state_dir);
  const std::string node_drain = NodeDrainReason(node.labels, drain_file.Requested());
  if (!node_drain.empty()) WithdrawAllForNodeDrain(desired);
  Drains draining;
  try {
    draining = drain_file.Load();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "check: %s; draining VIPs are not shown\n", e.what());
  }
  std::map<IpAddress, std::size_t> connections;
  if (!draining.empty()) {
    std::vector<IpAddress> ips;
    for (const auto& [ip, _] : draining) ips.push_back(ip);
    try {
      connections = kernel.CountEstablished(ips);
    } catch (const KernelError& e) {
      std::fprintf(stderr, "check: %s; showing the agent's last counts\n", e.what());
    }
  }
  auto lines = Audit(desired, observed);
  for (auto& l : DrainAudit(node_drain, draining, connections, observed)) lines.push_back(std::move(l));
  if (output == "json")
    std::printf("%s\n", AuditJson(lines).dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else
    std::fputs(AuditText(lines).c_str(), stdout);
  return AllOk(lines) ? kExitOk : kExitNotConformant;
}

}  // namespace lvsrs
