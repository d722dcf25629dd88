#include "kube/kube_source.h"

#include "agent/log.h"
#include "kube/object_decode.h"
#include "kube/virtual_ip_selection.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs::kube {

using nlohmann::json;

KubeSource::KubeSource(const ApiClientFactory& clients, std::string node_name, Options options)
    : node_name_(std::move(node_name)) {
  auto on_change = [this] {
    changed_ = true;
    std::lock_guard<std::mutex> lock(wake_mutex_);
    if (wake_) wake_();
  };
  InformerOptions vo;
  vo.collection_path = std::string("/apis/") + kApiVersion + "/virtualips";
  vo.api_version = kApiVersion;
  vo.kind = "VirtualIP";
  vo.watch_timeout_seconds = options.watch_timeout_seconds;
  vo.backoff_base = options.backoff_base;
  vo.backoff_cap = options.backoff_cap;
  // What a pass reads of a VirtualIP: not its status (the summariser writes "ready" there after
  // every change; in a 200-node fleet each such write woke 200 agents into a full pass), nor the
  // metadata every write moves. The store keeps the whole object: the summariser reads the status.
  vo.wakes = [](const json& object) {
    json key = object;
    key.erase("status");
    if (auto meta = key.find("metadata"); meta != key.end() && meta->is_object()) {
      meta->erase("resourceVersion");
      meta->erase("managedFields");
    }
    return key;
  };
  vips_ = std::make_unique<Informer>(clients, vo, on_change);
  InformerOptions no;
  no.collection_path = "/api/v1/nodes";
  no.api_version = "v1";
  no.kind = "Node";
  no.field_selector = "metadata.name=" + node_name_;
  no.watch_timeout_seconds = options.watch_timeout_seconds;
  no.backoff_base = options.backoff_base;
  no.backoff_cap = options.backoff_cap;
  // Of its Node a pass reads only the uid and the labels (DecodeNode). The kubelet rewrites the
  // Node's status (conditions, heartbeats, images) every few minutes, and controllers its
  // annotations: none of that asks for a pass.
  no.wakes = [](const json& object) {
    const NodeFacts facts = DecodeNode(object);
    return json{{"uid", facts.uid}, {"labels", facts.labels}};
  };
  node_ = std::make_unique<Informer>(clients, no, on_change);
}

KubeSource::~KubeSource() { Stop(); }

void KubeSource::SetWake(std::function<void()> wake) {
  std::lock_guard<std::mutex> lock(wake_mutex_);
  wake_ = std::move(wake);
}

void KubeSource::RestoreLastGood(std::map<std::string, VirtualIp> specs) {
  std::lock_guard<std::mutex> lock(mutex_);
  last_good_ = std::make_shared<const std::map<std::string, VirtualIp>>(std::move(specs));
  snapshot_.validated = last_good_;
}

void KubeSource::Start() {
  vips_->Start();
  node_->Start();
}

void KubeSource::Stop() {
  vips_->Stop();
  node_->Stop();
}

void KubeSource::Rebuild() {
  const auto vv = vips_->version();
  const auto nv = node_->version();
  if (vv == seen_vip_version_ && nv == seen_node_version_) return;
  seen_vip_version_ = vv;
  seen_node_version_ = nv;

  NodeInfo node;
  node.name = node_name_;
  const auto nodes = node_->Objects();
  if (auto it = nodes.find(node_name_); it != nodes.end()) {
    NodeFacts facts = DecodeNode(it->second);  // mistyped fields read as absent, never throw
    node_uid_ = std::move(facts.uid);
    node.labels = std::move(facts.labels);
    node_seen_ = true;
    last_node_labels_ = node.labels;
  } else if (node_seen_) {
    // The Node object went away while this agent still runs on the node: an etcd restored
    // or wiped, or a node deleted before its kubelet registers it again. Neither says which
    // VIPs the node should carry, so keep the labels last seen (fail static); once the Node is
    // back its labels apply again.
    node.labels = last_node_labels_;
    if (!logged_node_missing_)
      LogWarning("Node \"" + node_name_ + "\" is gone from the API server; keeping its last known labels");
    logged_node_missing_ = true;
  } else if (node_->synced()) {
    LogWarning("Node \"" + node_name_ + "\" not found; treating it as a node without labels");
  }
  if (nodes.count(node_name_)) logged_node_missing_ = false;

  // Read before the objects: once synced, they are a complete list (the informer replaces the
  // store, then says so). Before that the store is empty, and must not make us forget.
  const bool listed = vips_->synced();
  VirtualIpSelection selected = SelectVirtualIps(vips_->Objects(), node.labels, *last_good_);
  const SourceRefusals& refused = selected.refused;
  for (const auto& [name, r] : refused)
    if (logged_refused_.count(name) == 0 || logged_refused_[name] != r)
      LogWarning((r.serving_last_good ? "VirtualIP " + name + ": " : "refusing VirtualIP " + name + ": ") + r.message);
  logged_refused_ = refused;
  if (listed && selected.last_good != *last_good_)
    last_good_ = std::make_shared<const std::map<std::string, VirtualIp>>(std::move(selected.last_good));
  snapshot_.validated = last_good_;
  snapshot_.node = std::move(node);
  snapshot_.vips = std::move(selected.vips);
  snapshot_.refused = std::move(selected.refused);
}

DesiredSource::Snapshot KubeSource::Get() {
  std::lock_guard<std::mutex> lock(mutex_);
  // Read before Rebuild reads the versions (an informer bumps its version before it says synced):
  // a snapshot called synced always holds the first lists, never the empty stores from before.
  const bool synced = vips_->synced() && node_->synced();
  Rebuild();
  Snapshot s = snapshot_;
  s.synced = synced;
  return s;
}

bool KubeSource::Poll() { return changed_.exchange(false); }

std::string KubeSource::node_uid() {
  std::lock_guard<std::mutex> lock(mutex_);
  Rebuild();
  return node_uid_;
}

KubeSourceStats KubeSource::stats() const {
  KubeSourceStats s;
  s.synced = vips_->synced() && node_->synced();
  s.watch_restarts = vips_->watch_restarts() + node_->watch_restarts();
  return s;
}

}  // namespace lvsrs::kube
