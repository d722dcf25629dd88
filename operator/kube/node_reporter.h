// Reports one node to the API server, as an AgentLoop observer: the node's RealServer status
// (created when missing, merge-patched only when it changed) and Events for drift repairs,
// refused VirtualIPs and errors, rate-limited. Observe() runs on the loop thread and only hands
// over the outcome; one worker thread does all HTTP, so a slow API server never stalls repairs.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/reconciler.h"
#include "agent/retry_backoff.h"
#include "agent/time_source.h"
#include "kube/api_client.h"
#include "kube/kube_source.h"
#include "kube/worker_thread.h"

namespace lvsrs::kube {

// At most one event per (object, reason) per `interval`; the ones held back are counted and
// mentioned in the next one. Pure: the caller passes the clock.
class EventRateLimiter {
 public:
  explicit EventRateLimiter(std::chrono::seconds interval) : interval_(interval) {}
  // Returns how many were suppressed since the last allowed one, or nullopt to suppress this one.
  std::optional<int> Allow(const std::string& key, std::chrono::steady_clock::time_point now);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point last;
    int suppressed = 0;
  };
  std::chrono::seconds interval_;
  std::map<std::string, Entry> entries_;
};

class NodeReporter {
 public:
  // time: for Event rate limits and the timestamps in status and Events.
  NodeReporter(const ApiClientFactory& clients, std::string node_name, KubeSource& source,
               TimeSource& time = RealTime());
  ~NodeReporter();
  NodeReporter(const NodeReporter&) = delete;
  NodeReporter& operator=(const NodeReporter&) = delete;

  void Start();
  void Stop();
  void Observe(const ReconcileOutcome& outcome);  // loop thread
  // Loop thread, after an ARP poll found nothing changed: hands the last status to the writer
  // again if its last write did not go through (API server away, RealServer deleted), once the
  // retry backoff since that failure has passed.
  void Refresh();
  // Sends the Events queued and writes the status handed over since the last call, on the calling
  // thread. The worker that Start() runs calls it whenever there is something to send; without
  // Start(), the caller does (tests, one round at a time).
  void ReportPending();

 private:
  struct Event {
    std::string kind, name;  // involved object (cluster-scoped lvsdr.io kind)
    std::string type, reason, message;
  };
  void Run();
  bool EnsureRealServer();  // GET or create; seeds last_status_
  struct PendingStatus {
    NodeStatus status;
    std::map<ItemKey, int> contested;
    SourceRefusals refused;  // of the same pass as status
  };
  void WriteStatus(const PendingStatus& st);
  void WriteFailed();  // schedules the next retry (worker thread)
  void SendEvent(const Event& e);
  void Queue(Event e);  // rate-limited

  std::string node_name_;
  KubeSource& source_;
  TimeSource& time_;
  std::unique_ptr<ApiClient> client_;
  WorkerThread worker_;
  // handed to the worker, under worker_.mutex():
  std::optional<PendingStatus> pending_status_;
  std::deque<Event> events_;
  EventRateLimiter limiter_{std::chrono::seconds(60)};
  std::set<std::string> refused_seen_;          // loop thread only
  std::optional<PendingStatus> last_observed_;  // loop thread only
  std::atomic<bool> unwritten_{false};          // the last status write did not go through
  // When an unchanged poll may hand the unwritten status over again (steady clock, ns since its
  // epoch): a failed write backs off (2 s doubling to 30 s, jittered per node), so that a fleet
  // whose API server is down or shedding load (429) does not retry every ARP poll in step.
  std::atomic<std::int64_t> retry_after_ns_{0};
  // worker thread only:
  RetryBackoff write_backoff_;
  bool exists_ = false;
  nlohmann::json last_status_;  // what the server has, as far as we know
};

}  // namespace lvsrs::kube
