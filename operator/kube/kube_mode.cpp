#include "kube/kube_mode.h"

#include <mutex>
#include <thread>

#include "agent/log.h"
#include "kube/http_plugin.h"

namespace lvsrs::kube {

KubernetesMode::KubernetesMode(const std::string& kubeconfig_flag, const std::string& node_name,
                               int watch_timeout_seconds)
    : config_(ResolveConfig(kubeconfig_flag)), clients_(HttpApiClients(config_)), node_name_(node_name) {
  KubeSource::Options options;
  options.watch_timeout_seconds = watch_timeout_seconds;
  source_ = std::make_unique<KubeSource>(clients_, node_name_, options);
}

KubernetesMode::~KubernetesMode() { Stop(); }

void KubernetesMode::Stop() {
  // Reporter first: it reads from the source.
  if (summariser_) summariser_->Stop();
  if (reporter_) reporter_->Stop();
  source_->SetWake(nullptr);
  source_->Stop();
}

void KubernetesMode::Attach(AgentLoop& loop, bool report) {
  if (report) {
    reporter_ = std::make_unique<NodeReporter>(clients_, node_name_, *source_);
    reporter_->Start();
    loop.AddObserver([r = reporter_.get()](const ReconcileOutcome& o) { r->Observe(o); });
    loop.AddUnchangedObserver([r = reporter_.get()] { r->Refresh(); });
    summariser_ = std::make_unique<VipSummariser>(clients_, node_name_, *source_, VipSummariser::Options{});
    summariser_->Start();
  }
  source_->SetWake([&loop] { loop.Wake(); });
  if (!started_) source_->Start();
  started_ = true;
}

bool KubernetesMode::WaitForSync(std::chrono::seconds timeout) {
  if (!started_) source_->Start();
  started_ = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!source_->stats().synced) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace lvsrs::kube
