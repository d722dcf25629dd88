#include "kube/node_reporter.h"

#include "agent/log.h"
#include "kube/realserver_status.h"
#include "model/rfc3339.h"
#include "model/virtual_ip_parse.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

const std::string kRealServers = std::string("/apis/") + kApiVersion + "/realservers";
// Events about cluster-scoped objects must live in "default" (the API server rejects others).
constexpr const char* kEventNamespace = "default";
constexpr std::size_t kMaxQueuedEvents = 100;

}  // namespace

std::optional<int> EventRateLimiter::Allow(const std::string& key, std::chrono::steady_clock::time_point now) {
  auto [it, fresh] = entries_.try_emplace(key);
  if (!fresh && now - it->second.last < interval_) {
    ++it->second.suppressed;
    return std::nullopt;
  }
  const int suppressed = it->second.suppressed;
  it->second = Entry{now, 0};
  return suppressed;
}

NodeReporter::NodeReporter(const ApiClientFactory& clients, std::string node_name, KubeSource& source, TimeSource& time)
    : node_name_(std::move(node_name)),
      source_(source),
      time_(time),
      client_(clients({})),
      write_backoff_(RetryBackoff::Policy{std::chrono::seconds(2), std::chrono::seconds(30), true},
                     std::hash<std::string>{}(node_name_)) {}

NodeReporter::~NodeReporter() { Stop(); }

void NodeReporter::Start() {
  worker_.Start([this] { Run(); }, [this] { client_->Cancel(); });
}

void NodeReporter::Stop() { worker_.Stop(); }

void NodeReporter::Queue(Event e) {
  const auto allowed = limiter_.Allow(e.kind + "/" + e.name + "/" + e.reason, time_.Steady());
  if (!allowed) return;
  if (*allowed > 0) e.message += " (" + std::to_string(*allowed) + " similar event(s) suppressed)";
  std::lock_guard<std::mutex> lock(worker_.mutex());
  if (events_.size() >= kMaxQueuedEvents) events_.pop_front();
  events_.push_back(std::move(e));
}

void NodeReporter::Observe(const ReconcileOutcome& o) {
  if (!o.error.empty()) {
    Queue({"RealServer", node_name_, "Warning", "ReconcileFailed", o.error});
    worker_.Wake();
    return;  // the kernel could not be read: nothing to report as status
  }
  if (!o.repairs.empty()) {
    std::string msg = "repaired drift:";
    for (const auto& [kind, n] : o.repairs) msg += " " + std::to_string(n) + " " + kind;
    Queue({"RealServer", node_name_, "Warning", "DriftRepaired", msg});
  }
  if (!o.contested.empty()) {
    // Named so that `kubectl get events` shows the fight, not only a stream of repairs.
    std::string msg = "another tool keeps undoing what the operator sets, repaired with backoff:";
    for (const auto& [item, n] : o.contested)
      msg += " " + item.ToString() + " (" + std::to_string(n) + " repairs in 30 s)";
    Queue({"RealServer", node_name_, "Warning", "DriftContested", msg});
  }
  if (!o.applied.ok()) {
    std::string msg;
    for (const auto& [item, why] : o.applied.errors) msg += (msg.empty() ? "" : "; ") + item.Subject() + ": " + why;
    Queue({"RealServer", node_name_, "Warning", "ApplyFailed", msg});
  }
  // Drains, on the node's RealServer: directors' operators read them as "rs1 is being taken out".
  auto who = [](const Drain& d) {
    return d.address.ToString() + (d.virtual_ip.empty() ? "" : " (VirtualIP " + d.virtual_ip + ")");
  };
  if (!o.drain.started.empty()) {
    std::string msg;
    for (const auto& d : o.drain.started)
      msg += (msg.empty() ? "" : "; ") + who(d) + ": " + d.reason + "; " + DrainText(d);
    Queue({"RealServer", node_name_, "Normal", "DrainStarted", msg});
  }
  if (!o.drain.withdrawn.empty()) {
    std::string msg;
    for (const auto& w : o.drain.withdrawn) msg += (msg.empty() ? "" : "; ") + who(w.drain) + " withdrawn: " + w.reason;
    Queue({"RealServer", node_name_, "Normal", "DrainFinished", msg});
  }
  if (!o.drain.undone.empty()) {
    std::string msg;
    for (const auto& d : o.drain.undone) msg += (msg.empty() ? "" : "; ") + who(d) + " serving again";
    Queue({"RealServer", node_name_, "Normal", "DrainCancelled", msg});
  }
  // A refusal is announced once when it appears (and again if it goes away and comes back).
  std::set<std::string> refused;
  auto refuse = [&](const std::string& name, const std::string& reason, const std::string& why) {
    const std::string key = name + "\n" + reason + "\n" + why;
    refused.insert(key);
    if (!refused_seen_.count(key)) Queue({"VirtualIP", name, "Warning", reason, "node " + node_name_ + ": " + why});
  };
  for (const auto& [name, why] : o.desired.refused) refuse(name, "Refused", why);
  for (const auto& [name, why] : o.desired.kept) refuse(name, "EditRefused", why);
  for (const auto& [name, r] : o.source_refused)
    refuse(name, r.serving_last_good ? "EditRefused" : "Refused", r.message);
  refused_seen_ = std::move(refused);

  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    pending_status_ = PendingStatus{o.status, o.contested, o.source_refused};
  }
  last_observed_ = PendingStatus{o.status, o.contested, o.source_refused};
  worker_.Wake();
}

void NodeReporter::Refresh() {
  if (!unwritten_ || !last_observed_) return;
  if (time_.Steady().time_since_epoch() < std::chrono::nanoseconds(retry_after_ns_.load())) return;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    if (!pending_status_) pending_status_ = *last_observed_;
  }
  worker_.Wake();
}

bool NodeReporter::EnsureRealServer() {
  const ApiResponse got = client_->Get(kRealServers + "/" + node_name_);
  if (got.ok()) {
    last_status_ = got.body.value("status", json::object());
    exists_ = true;
    return true;
  }
  if (got.status != 404) {
    LogWarning("get RealServer " + node_name_ + ": " + got.error);
    return false;
  }
  json obj{{"apiVersion", kApiVersion},
           {"kind", "RealServer"},
           {"metadata", {{"name", node_name_}, {"labels", {{"app.kubernetes.io/managed-by", "lvs-rs-operator"}}}}}};
  // Owned by the Node, so the garbage collector removes it with the node.
  if (const std::string uid = source_.node_uid(); !uid.empty())
    obj["metadata"]["ownerReferences"] =
        json::array({{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node_name_}, {"uid", uid}}});
  const ApiResponse created = client_->Post(kRealServers, obj);
  if (!created.ok() && created.status != 409) {
    LogWarning("create RealServer " + node_name_ + ": " + created.error);
    return false;
  }
  LogInfo("created RealServer " + node_name_);
  last_status_ = json::object();
  exists_ = true;
  return true;
}

void NodeReporter::WriteStatus(const PendingStatus& st) {
  unwritten_ = true;  // until it is written or found unchanged
  if (!exists_ && !EnsureRealServer()) return WriteFailed();
  std::map<std::string, int> contested;
  for (const auto& [item, n] : st.contested) contested[item.ToString()] = n;
  const json status =
      BuildRealServerStatus(st.status, st.refused, last_status_, FormatRfc3339(time_.Wall()), contested);
  if (status == last_status_) {
    unwritten_ = false;
    return;  // steady state: no write
  }
  const ApiResponse r = client_->MergePatch(kRealServers + "/" + node_name_ + "/status", json{{"status", status}});
  if (r.status == 404) {
    exists_ = false;  // deleted under us: create it again on the next pass
    return;
  }
  if (!r.ok()) {
    LogWarning("update RealServer " + node_name_ + " status: " + r.error);
    return WriteFailed();
  }
  unwritten_ = false;
  write_backoff_.Reset();
  retry_after_ns_ = 0;
  // Keep the status as we sent it: comparing against the server's echo would differ only in
  // formatting and cause a write on every pass.
  last_status_ = status;
}

void NodeReporter::WriteFailed() {
  const auto at = time_.Steady() + write_backoff_.NextDelay();
  retry_after_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
}

void NodeReporter::SendEvent(const Event& e) {
  const std::string now = FormatRfc3339(time_.Wall());
  json ev{{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"generateName", e.name + "."}, {"namespace", kEventNamespace}}},
          {"involvedObject", {{"apiVersion", kApiVersion}, {"kind", e.kind}, {"name", e.name}}},
          {"type", e.type},
          {"reason", e.reason},
          {"message", e.message.substr(0, 1024)},
          {"source", {{"component", "lvs-rs-operator"}, {"host", node_name_}}},
          {"reportingComponent", "lvs-rs-operator"},
          {"reportingInstance", node_name_},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1}};
  const ApiResponse r = client_->Post(std::string("/api/v1/namespaces/") + kEventNamespace + "/events", ev);
  if (!r.ok()) LogWarning("event " + e.reason + " for " + e.kind + " " + e.name + " not recorded: " + r.error);
}

void NodeReporter::Run() {
  // Failed writes are not retried here: the loop hands over a status after every pass and, while
  // a write is outstanding, after unchanged ARP polls once the backoff allows (Refresh), and the
  // latest is written then (latest wins, nothing queues up while the API server is away).
  for (;;) {
    if (!worker_.WaitUntil([&] { return pending_status_ || !events_.empty(); })) return;
    ReportPending();
  }
}

void NodeReporter::ReportPending() {
  std::optional<PendingStatus> status;
  std::deque<Event> events;
  {
    std::lock_guard<std::mutex> lock(worker_.mutex());
    status.swap(pending_status_);
    events.swap(events_);
  }
  // Last line of defence on the worker thread (an exception here would end in std::terminate):
  // what the server sends is read through object_decode.h, which does not throw; anything else
  // that does is logged, and the next pass tries again.
  try {
    for (const auto& e : events) SendEvent(e);
    if (status) WriteStatus(*status);
  } catch (const std::exception& e) {
    LogError("RealServer " + node_name_ + " report: " + e.what() + "; trying again on the next pass");
  }
}

}  // namespace lvsrs::kube
