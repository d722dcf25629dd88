// VirtualIPs and this node's labels from the Kubernetes API: a DesiredSource for `run` without
// --file. Two informers (VirtualIPs; this node's Node object by field selector). Synced only after
// the first successful list of both; from then on the last known state stays in force while the API
// server is unreachable (fail static: a VIP is never withdrawn because the API went away).
// Each VirtualIP is validated with ParseVirtualIp (and refused when it names a reserved address);
// an invalid one is refused while the others keep working. An invalid *edit* of a VirtualIP that
// was accepted before keeps the last accepted spec of that object (by metadata.uid) in force, as
// file mode keeps the last good file: one `kubectl edit` must not withdraw live VIPs on every
// node. The refusals travel in the same Snapshot as the VirtualIPs (Snapshot::refused).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/desired_source.h"
#include "kube/informer.h"

namespace lvsrs::kube {

// What metrics report of the watches (read from any thread).
struct KubeSourceStats {
  bool synced = false;
  std::uint64_t watch_restarts = 0;
};

class KubeSource : public DesiredSource {
 public:
  struct Options {
    int watch_timeout_seconds = 300;
    // Of each informer's retries after a failed list or watch (InformerOptions).
    std::chrono::milliseconds backoff_base{500};
    std::chrono::milliseconds backoff_cap{15000};
  };
  // clients: makes each informer's own client (see ApiClientFactory).
  KubeSource(const ApiClientFactory& clients, std::string node_name, Options options);
  ~KubeSource() override;
  KubeSource(const KubeSource&) = delete;
  KubeSource& operator=(const KubeSource&) = delete;

  // The last validated spec of each object (by uid) that a previous agent saved (Snapshot::
  // validated): kept in force while a later edit is invalid, as if this agent had seen them. Call
  // before Start(); the first complete list drops those of objects that are gone.
  void RestoreLastGood(std::map<std::string, VirtualIp> specs);
  void Start();
  // wake is called from informer threads when something changed (AgentLoop::Wake).
  void SetWake(std::function<void()> wake);
  void Stop();

  Snapshot Get() override;
  bool Poll() override;

  std::string node_uid();  // for the RealServer's ownerReference; empty until the Node is seen
  // The VirtualIP objects as the API server has them (for the status summariser).
  std::map<std::string, nlohmann::json> VirtualIpObjects() const { return vips_->Objects(); }
  KubeSourceStats stats() const;

 private:
  void Rebuild();  // under mutex_

  std::string node_name_;
  std::unique_ptr<Informer> vips_;
  std::unique_ptr<Informer> node_;
  std::mutex wake_mutex_;
  std::function<void()> wake_;
  std::atomic<bool> changed_{true};
  std::mutex mutex_;
  std::uint64_t seen_vip_version_ = ~0ULL, seen_node_version_ = ~0ULL;
  Snapshot snapshot_;
  // The last spec of each object (by metadata.uid) that was accepted; kept while later edits are
  // refused, dropped when the object is gone (a delete still deletes).
  std::shared_ptr<const std::map<std::string, VirtualIp>> last_good_ =
      std::make_shared<const std::map<std::string, VirtualIp>>();
  std::map<std::string, SourceRefusal> logged_refused_;
  std::string node_uid_;
  bool node_seen_ = false;  // the Node object was seen once: its labels stay if it vanishes
  std::map<std::string, std::string> last_node_labels_;
  bool logged_node_missing_ = false;
};

}  // namespace lvsrs::kube
