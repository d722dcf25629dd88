// `lvs-rs-operator run` without --file: VirtualIPs and node labels from the API server, status
// and Events back to it. Owns the KubeSource (informers) and the NodeReporter (RealServer status,
// Events); run_command.cpp only creates it and attaches it to the AgentLoop.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "agent/agent_loop.h"
#include "kube/api_client.h"
#include "kube/kube_config.h"
#include "kube/kube_source.h"
#include "kube/node_reporter.h"
#include "kube/vip_summariser.h"

namespace lvsrs::kube {

class KubernetesMode {
 public:
  // Throws ConfigError when no usable kubeconfig or in-cluster config is found.
  // watch_timeout_seconds: timeoutSeconds of each watch (jittered up to +50%); after it the watch
  // resumes from the last resourceVersion, or re-lists on 410.
  KubernetesMode(const std::string& kubeconfig_flag, const std::string& node_name, int watch_timeout_seconds = 300);
  ~KubernetesMode();
  KubernetesMode(const KubernetesMode&) = delete;
  KubernetesMode& operator=(const KubernetesMode&) = delete;

  DesiredSource& source() { return *source_; }
  // See KubeSource::RestoreLastGood; before Attach or WaitForSync.
  void RestoreLastGood(std::map<std::string, VirtualIp> specs) { source_->RestoreLastGood(std::move(specs)); }
  // Starts the informers (waking the loop on changes) and the reporter (observing the loop).
  void Attach(AgentLoop& loop, bool report = true);
  // Starts the informers without a loop and waits for the first list of both (for --once and
  // --dry-run, which must not act on an unsynced, empty view). False on timeout.
  bool WaitForSync(std::chrono::seconds timeout);
  // Stops the reporter and the informers; call before the loop is destroyed.
  void Stop();
  const std::string& origin() const { return config_.origin; }

  // For metrics: whether every watch has a complete list, and how often watches restarted.
  KubeSourceStats stats() const { return source_->stats(); }

 private:
  KubeConfig config_;
  ApiClientFactory clients_;
  std::string node_name_;
  std::unique_ptr<KubeSource> source_;
  std::unique_ptr<NodeReporter> reporter_;
  std::unique_ptr<VipSummariser> summariser_;
  bool started_ = false;
};

}  // namespace lvsrs::kube
