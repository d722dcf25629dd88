// lvsrs-bench-realservers: N RealServers against a real kube-apiserver, written as N agents would
// write them (the product's BuildRealServerStatus and the NodeReporter's requests: POST of the
// object, merge PATCH of its status), then one VirtualIP's state flipped on every node, to measure
// the elected summariser (bench/summariser_scale.sh runs it; it is no test).
//
//   lvsrs-bench-realservers --kubeconfig K --nodes N [--virtualips 10] [--addresses 100]
//       [--interfaces 30] [--threads 8] [--summariser-pid PID] [--timeout-s 300] [--skip-create]
//
// Every node carries the same VirtualIPs (lg-0 .. lg-<V-1>, A addresses each, VipAddress(v*A+k);
// the caller creates them, selecting a label no running agent has) and the same interfaces (eth0
// and pod-style veths). Steps, each printed to stderr, the figures as one JSON object on stdout:
//   1. create the RealServers (all Ready) with `threads` clients at once;
//   2. wait until lg-0's READY column reads N/N (the summariser has listed or watched them all);
//   3. flip lg-0 to Failed on every node (every address "File exists"), and back to Configured:
//      each time, from the last PATCH's answer until lg-0's READY reads 0/N, then N/N (polled
//      every 100 ms with a GET; the summariser's process VmRSS/VmHWM read at each step);
//   4. sizes of one node's flip PATCH and of its RealServer as watchers receive it, in the bounded
//      form sent and in the form agents wrote before it (one entry per address, every interface:
//      operator/kube/realserver_status.cpp before a6a7a81, rebuilt here from the same NodeStatus).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api_client.h"
#include "kube/http_api_client.h"
#include "kube/kube_config.h"
#include "kube/object_decode.h"
#include "kube/realserver_status.h"
#include "reconcile/node_status.h"
#include "workload.h"

namespace lvsrs::bench {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::string kApi = "/apis/lvsdr.io/v1alpha1";
const std::string kNow = "2026-12-02T12:00:00Z";

struct Args {
  std::string kubeconfig;
  int nodes = 0, virtualips = 10, addresses = 100, interfaces = 30, threads = 8, timeout_s = 300;
  int summariser_pid = 0;
  bool skip_create = false;  // they exist already (a second summariser measured on the same objects)
};

std::string VipName(int v) { return "lg-" + std::to_string(v); }
std::string NodeName(int i) { return "lg-node-" + std::to_string(i); }

// What the agent of every load-generated node evaluates: `virtualips` VirtualIPs of `addresses`
// each on lo, all Configured except lg-0's when failed; eth0 and pod veths, all conformant.
NodeStatus MakeNodeStatus(const Args& a, bool lg0_failed) {
  NodeStatus s;
  for (int v = 0; v < a.virtualips; ++v)
    for (int k = 0; k < a.addresses; ++k) {
      const bool failed = v == 0 && lg0_failed;
      s.vips.push_back(VipAddressStatus{VipName(v), VipAddress(std::size_t(v) * a.addresses + k).ToString(), "lo",
                                        failed ? VipState::Failed : VipState::Configured,
                                        failed ? "add address: File exists" : "configured"});
      if (failed) {
        s.vips_configured = false;
        s.problems.push_back({Problem::Kind::VipNotInPlace, s.vips.back().address, "add address: File exists"});
      }
    }
  for (int i = 0; i < a.interfaces; ++i)
    s.interfaces.push_back(InterfaceArpStatus{i == 0 ? "eth0" : "veth" + std::to_string(100000 + i), 1, 2, true, ""});
  return s;
}

// The status agents wrote before the bounded form: every address and every interface listed, the
// conditions as now (kube/realserver_status.cpp at a6a7a81^).
json OlderStatus(const NodeStatus& s, const json& bounded) {
  json vips = json::array();
  std::size_t configured = 0;
  for (const auto& v : s.vips) {
    json e{{"name", v.virtual_ip}, {"state", ToString(v.state)}, {"address", v.address}, {"interface", v.interface}};
    if (v.state != VipState::Configured) e["message"] = v.message;
    vips.push_back(std::move(e));
    configured += v.state == VipState::Configured ? 1 : 0;
  }
  json interfaces = json::array();
  for (const auto& i : s.interfaces)
    interfaces.push_back(
        {{"name", i.interface}, {"arpIgnore", i.arp_ignore}, {"arpAnnounce", i.arp_announce}, {"conformant", true}});
  return json{{"conditions", bounded.value("conditions", json::array())},
              {"vips", std::to_string(configured) + "/" + std::to_string(s.vips.size())},
              {"virtualIPs", vips},
              {"interfaces", interfaces},
              {"lastSyncTime", kNow}};
}

json PatchBody(const json& status) { return json{{"status", status}}; }

// Runs work(i) for i in [0, n) on `threads` clients at once; the time the last one finished.
template <typename Work>
Clock::time_point ForAllNodes(const Args& a, const kube::ApiClientFactory& clients, Work work) {
  std::atomic<int> next{0};
  std::mutex mu;
  Clock::time_point last{};
  std::vector<std::thread> pool;
  for (int t = 0; t < a.threads; ++t)
    pool.emplace_back([&] {
      auto client = clients({});
      for (int i = next++; i < a.nodes; i = next++) {
        work(*client, i);
        const auto done = Clock::now();
        std::lock_guard<std::mutex> lock(mu);
        last = std::max(last, done);
      }
    });
  for (auto& t : pool) t.join();
  return last;
}

void Check(const kube::ApiResponse& r, const std::string& what) {
  if (!r.ok()) throw std::runtime_error(what + ": " + r.error);
}

// A list by name: the agents' ServiceAccount may list VirtualIPs, not get one.
std::string ReadyOf(kube::ApiClient& client, const std::string& vip) {
  const auto r = client.Get(kApi + "/virtualips?fieldSelector=" + kube::UrlEncode("metadata.name=" + vip));
  if (!r.ok() || !r.body.is_object() || !r.body.contains("items") || !r.body["items"].is_array() ||
      r.body["items"].empty())
    return "";
  return kube::StringField(kube::ObjectField(r.body["items"][0], "status"), "ready");
}

// Polls lg-0's READY every 100 ms until it reads want; seconds since `since`, or -1 at the timeout.
double WaitReady(kube::ApiClient& client, const Args& a, const std::string& want, Clock::time_point since) {
  const auto deadline = Clock::now() + std::chrono::seconds(a.timeout_s);
  while (Clock::now() < deadline) {
    if (ReadyOf(client, VipName(0)) == want) return std::chrono::duration<double>(Clock::now() - since).count();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return -1;
}

json Memory(int pid) {  // kB, from /proc/PID/status
  json out = json::object();
  if (pid <= 0) return out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    for (const char* key : {"VmHWM", "VmRSS"})
      if (line.rfind(std::string(key) + ":", 0) == 0) out[key] = std::atol(line.c_str() + std::string(key).size() + 1);
  return out;
}

int Run(const Args& a) {
  const kube::KubeConfig config = kube::LoadKubeconfig(a.kubeconfig);
  // The HTTP client linked in (lvsrs_kube_http), not the agent's plugin: this is not the agent.
  const kube::ApiClientFactory clients = [config](const kube::ApiClientTimeouts& t) {
    return std::make_unique<kube::HttpApiClient>(config, t);
  };
  auto client = clients({});
  json out{{"nodes", a.nodes},
           {"virtualips_per_node", a.virtualips},
           {"addresses_per_virtualip", a.addresses},
           {"interfaces_per_node", a.interfaces},
           {"threads", a.threads}};

  const NodeStatus ready = MakeNodeStatus(a, false), failed = MakeNodeStatus(a, true);
  const json ready_status = kube::BuildRealServerStatus(ready, {}, json::object(), kNow);
  const json failed_status = kube::BuildRealServerStatus(failed, {}, ready_status, kNow);
  out["memory_before"] = Memory(a.summariser_pid);

  std::cerr << (a.skip_create ? "not creating " : "creating ") << a.nodes << " RealServers\n";
  const auto t0 = Clock::now();
  const auto created = a.skip_create ? t0 : ForAllNodes(a, clients, [&](kube::ApiClient& c, int i) {
    const json obj{
        {"apiVersion", "lvsdr.io/v1alpha1"},
        {"kind", "RealServer"},
        {"metadata", {{"name", NodeName(i)}, {"labels", {{"app.kubernetes.io/managed-by", "lvs-rs-operator"}}}}}};
    const auto r = c.Post(kApi + "/realservers", obj);
    if (!r.ok() && r.status != 409) Check(r, "create RealServer " + NodeName(i));
    Check(c.MergePatch(kApi + "/realservers/" + NodeName(i) + "/status", PatchBody(ready_status)),
          "status of " + NodeName(i));
  });
  out["create_s"] = std::chrono::duration<double>(created - t0).count();
  const std::string all = std::to_string(a.nodes) + "/" + std::to_string(a.nodes);
  out["initial_ready_s"] = WaitReady(*client, a, all, created);
  out["memory_synced"] = Memory(a.summariser_pid);

  for (const auto& [name, status, want] : {std::tuple{"to_failed", failed_status, "0/" + std::to_string(a.nodes)},
                                           std::tuple{"to_ready", ready_status, all}}) {
    std::cerr << "flipping " << VipName(0) << " on every node: " << name << "\n";
    const json body = PatchBody(status);
    const auto flip0 = Clock::now();
    const auto last = ForAllNodes(a, clients, [&](kube::ApiClient& c, int i) {
      Check(c.MergePatch(kApi + "/realservers/" + NodeName(i) + "/status", body), "status of " + NodeName(i));
    });
    out[name] = {{"patch_s", std::chrono::duration<double>(last - flip0).count()},
                 {"ready_after_last_patch_s", WaitReady(*client, a, want, last)},
                 {"memory", Memory(a.summariser_pid)}};
  }

  // What one node's flip costs on the wire: the PATCH body it sends, and the whole object the API
  // server stores and sends to every watcher of RealServers (the stored metadata with the status
  // of that state); in the bounded form and in the form before a6a7a81 from the same NodeStatus.
  const auto got = client->Get(kApi + "/realservers/" + NodeName(0));
  Check(got, "get RealServer " + NodeName(0));
  auto sizes = [&got](const json& status) {
    json object = got.body;
    object["status"] = status;
    return json{{"patch", kube::EncodeJsonBody(PatchBody(status)).size()},
                {"object", kube::EncodeJsonBody(object).size()}};
  };
  for (const auto& [name, node, status] :
       {std::tuple{"to_failed", &failed, &failed_status}, std::tuple{"to_ready", &ready, &ready_status}})
    out["bytes_per_node"][name] = {{"bounded", sizes(*status)}, {"before", sizes(OlderStatus(*node, *status))}};
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace
}  // namespace lvsrs::bench

int main(int argc, char** argv) {
  lvsrs::bench::Args a;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--skip-create") {
      a.skip_create = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) break;
    const std::string value = argv[i + 1];
    if (flag == "--kubeconfig")
      a.kubeconfig = value;
    else if (flag == "--nodes")
      a.nodes = std::atoi(value.c_str());
    else if (flag == "--virtualips")
      a.virtualips = std::atoi(value.c_str());
    else if (flag == "--addresses")
      a.addresses = std::atoi(value.c_str());
    else if (flag == "--interfaces")
      a.interfaces = std::atoi(value.c_str());
    else if (flag == "--threads")
      a.threads = std::atoi(value.c_str());
    else if (flag == "--summariser-pid")
      a.summariser_pid = std::atoi(value.c_str());
    else if (flag == "--timeout-s")
      a.timeout_s = std::atoi(value.c_str());
    else {
      std::cerr << "lvsrs-bench-realservers: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (a.kubeconfig.empty() || a.nodes <= 0 || a.virtualips <= 0 || a.addresses <= 0 || a.threads <= 0) {
    std::cerr << "usage: lvsrs-bench-realservers --kubeconfig K --nodes N [--virtualips V] [--addresses A] "
                 "[--interfaces I] [--threads T] [--summariser-pid PID] [--timeout-s S] [--skip-create]\n";
    return 2;
  }
  try {
    return lvsrs::bench::Run(a);
  } catch (const std::exception& e) {
    std::cerr << "lvsrs-bench-realservers: " << e.what() << "\n";
    return 1;
  }
}
