#include "support/fake_api_client.h"

#include <algorithm>
#include <atomic>
#include <iterator>
#include <stdexcept>

#include "model/rfc3339.h"

namespace lvsrs::testing {
namespace {

using kube::ApiResponse;
using kube::WatchEnd;
using kube::WatchResult;
using nlohmann::json;

// The collections the operator uses, as kube-apiserver 1.20 with the operator's CRDs serves them.
struct Resource {
  const char* api_version;
  const char* plural;
  const char* kind;
  bool namespaced;
  bool status_subresource;
};
constexpr Resource kResources[] = {
    {"lvsdr.io/v1alpha1", "virtualips", "VirtualIP", false, true},
    {"lvsdr.io/v1alpha1", "realservers", "RealServer", false, true},
    {"v1", "nodes", "Node", false, true},
    {"v1", "events", "Event", true, false},
    {"coordination.k8s.io/v1", "leases", "Lease", true, false},
};

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

// A request path, taken apart as the API server routes it.
struct Route {
  const Resource* resource = nullptr;  // nullptr: no such collection (404)
  std::string collection;              // without the namespace: "/apis/coordination.k8s.io/v1/leases"
  std::string ns, name, subresource;
  std::map<std::string, std::string> query;
  std::string Key() const { return ns.empty() ? name : ns + "/" + name; }
};

Route Parse(const std::string& full_path) {
  Route r;
  const std::size_t q = full_path.find('?');
  const std::string path = full_path.substr(0, q);
  if (q != std::string::npos) {
    for (const auto& pair : Split(full_path.substr(q + 1), '&')) {
      const std::size_t eq = pair.find('=');
      r.query[pair.substr(0, eq)] = eq == std::string::npos ? "" : PercentDecode(pair.substr(eq + 1));
    }
  }
  std::vector<std::string> seg = Split(path, '/');
  if (seg.empty() || !seg[0].empty()) return r;
  seg.erase(seg.begin());
  std::string api_version, prefix;
  std::size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api") {
    api_version = seg[1];
    prefix = "/api/" + seg[1];
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    api_version = seg[1] + "/" + seg[2];
    prefix = "/apis/" + api_version;
    i = 3;
  } else {
    return r;
  }
  if (seg.size() >= i + 3 && seg[i] == "namespaces") {
    r.ns = seg[i + 1];
    i += 2;
  }
  if (i >= seg.size() || seg.size() > i + 3) return r;
  const Resource* found = nullptr;
  for (const auto& res : kResources)
    if (api_version == res.api_version && seg[i] == res.plural) found = &res;
  // Objects of a namespaced kind live in a namespace (listing them across all is fine); those of
  // a cluster-scoped kind in none.
  const bool whole_collection = seg.size() == i + 1;
  if (found && (found->namespaced ? !r.ns.empty() || whole_collection : r.ns.empty())) r.resource = found;
  r.collection = prefix + "/" + seg[i];
  if (seg.size() > i + 1) r.name = seg[i + 1];
  if (seg.size() > i + 2) r.subresource = seg[i + 2];
  return r;
}

ApiResponse Failure(int code, const std::string& reason, const std::string& message) {
  ApiResponse r;
  r.status = code;
  r.body = {{"kind", "Status"},   {"apiVersion", "v1"}, {"status", "Failure"},
            {"message", message}, {"reason", reason},   {"code", code}};
  r.error = "HTTP " + std::to_string(code) + ": " + message;
  return r;
}

ApiResponse Success(int code, json body) {
  ApiResponse r;
  r.status = code;
  r.body = std::move(body);
  return r;
}

std::string MetaString(const json& obj, const char* key) {
  const auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  const auto it = meta->find(key);
  return it != meta->end() && it->is_string() ? it->get<std::string>() : "";
}

// The body as the real client puts it on the wire (invalid UTF-8 replaced) and the server reads it.
json OverTheWire(const json& body) { return json::parse(kube::EncodeJsonBody(body)); }

// For a kind with a status subresource, writes to the object keep the stored status.
void KeepStatus(json& updated, const json& stored) {
  if (stored.contains("status"))
    updated["status"] = stored["status"];
  else
    updated.erase("status");
}

json Spec(const json& obj) { return obj.is_object() && obj.contains("spec") ? obj["spec"] : json(); }

}  // namespace

class FakeApiServer::Client final : public kube::ApiClient {
 public:
  explicit Client(FakeApiServer& server) : server_(server) {}
  ApiResponse Get(const std::string& path) override { return Send("GET", path, nullptr); }
  ApiResponse Post(const std::string& path, const json& body) override { return Send("POST", path, &body); }
  ApiResponse Put(const std::string& path, const json& body) override { return Send("PUT", path, &body); }
  ApiResponse MergePatch(const std::string& path, const json& patch) override { return Send("PATCH", path, &patch); }
  WatchResult Watch(const std::string& path, const kube::WatchExpectation& expect,
                    const std::function<void(const json&)>& on_event) override {
    return server_.Watch(path, expect, on_event, [this] { return cancelled_.load(); });
  }
  void Cancel() override {
    cancelled_ = true;
    server_.Notify();
  }

 private:
  ApiResponse Send(const std::string& method, const std::string& path, const json* body) {
    if (cancelled_) {
      ApiResponse r;
      r.error = "cancelled";
      return r;
    }
    return server_.Serve(method, path, body);
  }
  FakeApiServer& server_;
  std::atomic<bool> cancelled_{false};
};

kube::ApiClientFactory FakeApiServer::Clients() {
  return [this](const kube::ApiClientTimeouts&) { return NewClient(); };
}

std::unique_ptr<kube::ApiClient> FakeApiServer::NewClient() { return std::make_unique<Client>(*this); }

void FakeApiServer::Notify() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++ticks_;
  }
  changed_.notify_all();
}

void FakeApiServer::Log(Request r) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(std::move(r));
    ++ticks_;
  }
  changed_.notify_all();
}

std::optional<ApiFault> FakeApiServer::TakeFault(const std::string& method, const std::string& path) {
  auto matches = [&](const Rule& rule) {
    return (rule.method.empty() || rule.method == method) && path.compare(0, rule.prefix.size(), rule.prefix) == 0;
  };
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& rule : rules_)
      if (rule.hook && rule.times != 0 && matches(rule)) {
        hooks.push_back(rule.hook);
        if (rule.times > 0) --rule.times;
      }
  }
  for (auto& hook : hooks) hook();  // outside the lock: a hook changes objects
  std::lock_guard<std::mutex> lock(mutex_);
  std::optional<ApiFault> fault;
  for (auto& rule : rules_)
    if (!rule.hook && rule.times != 0 && matches(rule)) {
      fault = rule.fault;
      if (rule.times > 0) --rule.times;
      break;
    }
  std::erase_if(rules_, [](const Rule& r) { return r.times == 0; });
  return fault;
}

ApiResponse FakeApiServer::Serve(const std::string& method, const std::string& path, const json* body) {
  ApiResponse r;
  const json sent = body ? OverTheWire(*body) : json();
  if (const auto fault = TakeFault(method, path.substr(0, path.find('?')))) {
    if (fault->status == 0) {
      r.error = method + " " + path + ": " + fault->message;
    } else {
      r = Failure(fault->status, "InternalError", fault->message);
    }
  } else {
    std::lock_guard<std::mutex> lock(mutex_);
    r = ServeLocked(method, path, body ? &sent : nullptr);
  }
  Log({method, path, sent, r.status});
  return r;
}

json FakeApiServer::Store(const std::string& collection, const std::string& key, json object, const char* type) {
  object["metadata"]["resourceVersion"] = std::to_string(++version_);
  if (std::string(type) == "DELETED")
    objects_[collection].erase(key);
  else
    objects_[collection][key] = object;
  changes_.push_back({collection, type, object, version_});
  ++ticks_;
  changed_.notify_all();
  return object;
}

ApiResponse FakeApiServer::ServeLocked(const std::string& method, const std::string& path, const json* body) {
  const Route route = Parse(path);
  if (!route.resource) return Failure(404, "NotFound", "the server could not find the requested resource");
  const Resource& res = *route.resource;
  auto& objects = objects_[route.collection];
  const auto stored = route.name.empty() ? objects.end() : objects.find(route.Key());
  const std::string what = std::string(res.plural) + " \"" + route.name + "\"";
  if (!route.subresource.empty() && route.subresource != "status")
    return Failure(404, "NotFound", "the server could not find the requested resource");

  if (method == "GET" && route.name.empty()) {
    std::string only;
    if (const auto fs = route.query.find("fieldSelector"); fs != route.query.end() && !fs->second.empty()) {
      if (fs->second.rfind("metadata.name=", 0) != 0)
        return Failure(400, "BadRequest", "field label not supported: " + fs->second);
      only = fs->second.substr(std::string("metadata.name=").size());
    }
    std::size_t limit = 0;
    if (const auto l = route.query.find("limit"); l != route.query.end()) limit = std::stoul(l->second);
    const auto cont = route.query.find("continue");
    json items = json::array();
    std::string next;
    for (auto it = cont == route.query.end() ? objects.begin() : objects.upper_bound(cont->second); it != objects.end();
         ++it) {
      if (!route.ns.empty() && MetaString(it->second, "namespace") != route.ns) continue;
      if (!only.empty() && MetaString(it->second, "name") != only) continue;
      if (limit > 0 && items.size() == limit) {
        next = std::prev(it)->first;
        break;
      }
      items.push_back(it->second);
    }
    json meta{{"resourceVersion", std::to_string(version_)}};
    if (!next.empty()) meta["continue"] = next;
    return Success(200, {{"apiVersion", res.api_version},
                         {"kind", std::string(res.kind) + "List"},
                         {"metadata", meta},
                         {"items", items}});
  }
  if (method == "GET") {
    if (stored == objects.end()) return Failure(404, "NotFound", what + " not found");
    return Success(200, stored->second);
  }

  if (!body || !body->is_object()) return Failure(400, "BadRequest", "the body is not a JSON object");
  if (method == "POST") {
    if (!route.name.empty()) return Failure(405, "MethodNotAllowed", "POST to an object");
    if (body->value("kind", res.kind) != res.kind || body->value("apiVersion", res.api_version) != res.api_version)
      return Failure(400, "BadRequest", "the body is not a " + std::string(res.api_version) + " " + res.kind);
    json obj = *body;
    std::string name = MetaString(obj, "name");
    if (name.empty() && !MetaString(obj, "generateName").empty())
      name = MetaString(obj, "generateName") + "x" + std::to_string(uids_ + 1);
    if (name.empty()) return Failure(422, "Invalid", "name or generateName is required");
    if (!MetaString(obj, "namespace").empty() && MetaString(obj, "namespace") != route.ns)
      return Failure(400, "BadRequest", "the namespace of the object does not match the request's");
    const std::string key = route.ns.empty() ? name : route.ns + "/" + name;
    if (objects.count(key))
      return Failure(409, "AlreadyExists", std::string(res.plural) + " \"" + name + "\" already exists");
    obj["apiVersion"] = res.api_version;
    obj["kind"] = res.kind;
    obj["metadata"]["name"] = name;
    if (!route.ns.empty()) obj["metadata"]["namespace"] = route.ns;
    obj["metadata"]["uid"] = "uid-" + std::to_string(++uids_);
    obj["metadata"]["generation"] = 1;
    if (res.status_subresource) obj.erase("status");
    return Success(201, Store(route.collection, key, std::move(obj), "ADDED"));
  }
  if (method != "PUT" && method != "PATCH") return Failure(405, "MethodNotAllowed", method);
  if (route.name.empty()) return Failure(405, "MethodNotAllowed", method + " to a collection");
  if (stored == objects.end()) return Failure(404, "NotFound", what + " not found");
  const json& old = stored->second;
  // Optimistic concurrency: a write that names a resourceVersion applies only to that version.
  const std::string want_version = MetaString(*body, "resourceVersion");
  if (!want_version.empty() && want_version != MetaString(old, "resourceVersion"))
    return Failure(409, "Conflict",
                   "Operation cannot be fulfilled on " + what +
                       ": the object has been modified; please apply your changes to the latest version and try again");
  json updated;
  if (method == "PUT") {
    updated = *body;
  } else {
    updated = old;
    updated.merge_patch(*body);
  }
  if (route.subresource == "status") {
    json status = updated.contains("status") ? updated["status"] : json();
    updated = old;
    if (status.is_null())
      updated.erase("status");
    else
      updated["status"] = status;
  } else if (res.status_subresource) {
    KeepStatus(updated, old);
  }
  // What the server owns is not the client's to change.
  updated["apiVersion"] = res.api_version;
  updated["kind"] = res.kind;
  for (const char* field : {"name", "namespace", "uid", "resourceVersion", "generation"})
    if (old["metadata"].contains(field))
      updated["metadata"][field] = old["metadata"][field];
    else
      updated["metadata"].erase(field);
  if (updated == old) return Success(200, old);  // no change: no new version, no event
  if (Spec(updated) != Spec(old)) updated["metadata"]["generation"] = old["metadata"].value("generation", 0) + 1;
  return Success(200, Store(route.collection, route.Key(), std::move(updated), "MODIFIED"));
}

WatchResult FakeApiServer::Watch(const std::string& path, const kube::WatchExpectation& expect,
                                 const std::function<void(const json&)>& on_event,
                                 const std::function<bool()>& cancelled) {
  WatchResult out;
  if (cancelled()) return {WatchEnd::Cancelled, "cancelled"};
  std::uint64_t generation;  // EndWatches() from here on ends this watch
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation = watch_generation_;
  }
  const Route route = Parse(path);
  if (const auto fault = TakeFault("WATCH", path.substr(0, path.find('?')))) {
    Log({"WATCH", path, nullptr, fault->status});
    out.http_status = fault->status;
    out.detail = fault->message;
    out.end = fault->status == 0 ? WatchEnd::Failed : fault->status == 410 ? WatchEnd::Gone : WatchEnd::Rejected;
    return out;
  }
  if (!route.resource || !route.name.empty() || !route.query.count("watch") || route.query.at("watch") != "1") {
    Log({"WATCH", path, nullptr, 404});
    return {WatchEnd::Rejected, "HTTP 404: the server could not find the requested resource", 404};
  }
  std::string only;
  if (const auto fs = route.query.find("fieldSelector"); fs != route.query.end() && !fs->second.empty())
    only = fs->second.substr(fs->second.find('=') + 1);
  Log({"WATCH", path, nullptr, 200});
  out.http_status = 200;

  kube::WatchStreamDecoder decoder(expect);
  // Feeds one line of the stream; false when it ended the watch (out says how).
  auto feed = [&](const json& line) {
    for (auto& e : decoder.Feed(line.dump() + "\n")) {
      switch (e.kind) {
        case kube::WatchEvent::Kind::Event:
          ++out.events;
          on_event(e.event);
          continue;
        case kube::WatchEvent::Kind::Gone: out.end = WatchEnd::Gone; break;
        case kube::WatchEvent::Kind::Error:
        case kube::WatchEvent::Kind::Malformed: out.end = WatchEnd::Rejected; break;
      }
      out.detail = e.detail;
      return false;
    }
    return true;
  };
  auto error_event = [](int code, const std::string& message) {
    return json{{"type", "ERROR"},
                {"object", {{"kind", "Status"}, {"apiVersion", "v1"}, {"code", code}, {"message", message}}}};
  };

  std::unique_lock<std::mutex> lock(mutex_);
  ++open_watches_;
  std::int64_t since = version_;
  if (const auto rv = route.query.find("resourceVersion"); rv != route.query.end() && !rv->second.empty())
    since = std::stoll(rv->second);
  auto done = [&] {
    --open_watches_;
    ++ticks_;
    changed_.notify_all();
    return out;
  };
  if (since < compacted_) {
    lock.unlock();
    feed(error_event(410, "too old resource version: " + std::to_string(since)));
    lock.lock();
    return done();
  }
  std::size_t next = static_cast<std::size_t>(
      std::partition_point(changes_.begin(), changes_.end(), [&](const Change& c) { return c.version <= since; }) -
      changes_.begin());
  for (;;) {
    auto ending = [&] { return watch_generation_ != generation; };
    while (next < changes_.size() && (!ending() || changes_[next].version <= watch_end_version_)) {
      const Change c = changes_[next++];
      if (c.collection != route.collection) continue;
      if (!route.ns.empty() && MetaString(c.object, "namespace") != route.ns) continue;
      if (!only.empty() && MetaString(c.object, "name") != only) continue;
      lock.unlock();
      const bool more = feed(json{{"type", c.type}, {"object", c.object}});
      lock.lock();
      ++events_delivered_;
      ++ticks_;
      if (!more) return done();
    }
    if (cancelled()) {
      out.end = WatchEnd::Cancelled;
      out.detail = "cancelled";
      return done();
    }
    if (ending()) {
      out.end = watch_end_;
      if (watch_end_ == WatchEnd::Gone || watch_end_ == WatchEnd::Rejected) {
        lock.unlock();
        feed(watch_end_ == WatchEnd::Gone ? error_event(410, "too old resource version")
                                          : error_event(500, "injected watch error"));
        lock.lock();
      } else {
        out.detail = watch_end_ == WatchEnd::Failed ? "connection broken (injected)" : "stream ended";
      }
      return done();
    }
    // Woken by every change, EndWatches() and Cancel(); the timeout only bounds a missed wake-up.
    changed_.wait_for(lock, std::chrono::milliseconds(100));
  }
}

json FakeApiServer::Create(const std::string& collection, json object) {
  const Route route = Parse(collection);
  if (!route.resource || !route.name.empty()) throw std::invalid_argument("no such collection: " + collection);
  std::lock_guard<std::mutex> lock(mutex_);
  const std::string name = MetaString(object, "name");
  const std::string key = route.ns.empty() ? name : route.ns + "/" + name;
  if (name.empty() || objects_[route.collection].count(key))
    throw std::invalid_argument("cannot create \"" + name + "\" in " + collection);
  object["apiVersion"] = route.resource->api_version;
  object["kind"] = route.resource->kind;
  if (!route.ns.empty()) object["metadata"]["namespace"] = route.ns;
  if (MetaString(object, "uid").empty()) object["metadata"]["uid"] = "uid-" + std::to_string(++uids_);
  if (!object["metadata"].contains("generation")) object["metadata"]["generation"] = 1;
  return Store(route.collection, key, std::move(object), "ADDED");
}

json FakeApiServer::Replace(const std::string& path, json object) {
  const Route route = Parse(path);
  if (!route.resource || route.name.empty()) throw std::invalid_argument("not an object path: " + path);
  std::unique_lock<std::mutex> lock(mutex_);
  const auto& objects = objects_[route.collection];
  const auto stored = objects.find(route.Key());
  if (stored == objects.end()) {
    lock.unlock();
    object["metadata"]["name"] = route.name;
    return Create(path.substr(0, path.rfind('/')), std::move(object));
  }
  const json& old = stored->second;
  object["apiVersion"] = route.resource->api_version;
  object["kind"] = route.resource->kind;
  object["metadata"]["name"] = route.name;
  if (!route.ns.empty()) object["metadata"]["namespace"] = route.ns;
  object["metadata"]["uid"] = old["metadata"]["uid"];
  const std::int64_t generation = old["metadata"].value("generation", 0);
  object["metadata"]["generation"] = Spec(object) != Spec(old) ? generation + 1 : generation;
  return Store(route.collection, route.Key(), std::move(object), "MODIFIED");
}

void FakeApiServer::Delete(const std::string& path) {
  const Route route = Parse(path);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto& objects = objects_[route.collection];
  const auto stored = objects.find(route.Key());
  if (stored == objects.end()) throw std::invalid_argument("no such object: " + path);
  Store(route.collection, route.Key(), stored->second, "DELETED");
}

std::optional<json> FakeApiServer::Object(const std::string& path) const {
  const Route route = Parse(path);
  std::lock_guard<std::mutex> lock(mutex_);
  const auto c = objects_.find(route.collection);
  if (c == objects_.end()) return std::nullopt;
  const auto it = c->second.find(route.Key());
  if (it == c->second.end()) return std::nullopt;
  return it->second;
}

std::vector<json> FakeApiServer::Objects(const std::string& collection) const {
  const Route route = Parse(collection);
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<json> out;
  const auto c = objects_.find(route.collection);
  if (c == objects_.end()) return out;
  for (const auto& [key, obj] : c->second)
    if (route.ns.empty() || MetaString(obj, "namespace") == route.ns) out.push_back(obj);
  return out;
}

std::int64_t FakeApiServer::resource_version() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return version_;
}

void FakeApiServer::Compact() {
  std::lock_guard<std::mutex> lock(mutex_);
  compacted_ = version_;
}

void FakeApiServer::PutLease(const std::string& ns, const std::string& name, const LeaseSpec& lease) {
  const std::string time = FormatRfc3339(lease.renewed, Rfc3339Fraction::Micros);
  Replace("/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/" + name,
          json{{"metadata", {{"name", name}, {"namespace", ns}}},
               {"spec",
                {{"holderIdentity", lease.holder},
                 {"leaseDurationSeconds", lease.duration.count()},
                 {"acquireTime", time},
                 {"renewTime", time}}}});
}

std::optional<FakeApiServer::LeaseView> FakeApiServer::Lease(const std::string& ns, const std::string& name) const {
  const auto obj = Object("/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases/" + name);
  if (!obj) return std::nullopt;
  const json spec = obj->value("spec", json::object());
  return LeaseView{spec.value("holderIdentity", ""), spec.value("renewTime", ""),
                   spec.value("leaseDurationSeconds", std::int64_t{0}), MetaString(*obj, "resourceVersion")};
}

void FakeApiServer::Fail(const std::string& method, const std::string& path_prefix, ApiFault fault, int times) {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.push_back({method, path_prefix, std::move(fault), nullptr, times});
}

void FakeApiServer::ClearFaults() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::erase_if(rules_, [](const Rule& r) { return !r.hook; });
}

void FakeApiServer::BeforeRequest(const std::string& method, const std::string& path_prefix, std::function<void()> hook,
                                  int times) {
  std::lock_guard<std::mutex> lock(mutex_);
  rules_.push_back({method, path_prefix, {}, std::move(hook), times});
}

void FakeApiServer::EndWatches(WatchEnd end) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    watch_end_ = end;
    watch_end_version_ = version_;
    ++watch_generation_;
    ++ticks_;
  }
  changed_.notify_all();
}

int FakeApiServer::open_watches() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return open_watches_;
}

std::uint64_t FakeApiServer::events_delivered() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return events_delivered_;
}

std::vector<FakeApiServer::Request> FakeApiServer::Requests() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return requests_;
}

int FakeApiServer::Count(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int>(std::count_if(requests_.begin(), requests_.end(), [&](const Request& r) {
    return (method.empty() || r.method == method) &&
           r.path.substr(0, r.path.find('?')).compare(0, path_prefix.size(), path_prefix) == 0;
  }));
}

bool FakeApiServer::WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::uint64_t seen;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      seen = ticks_;
    }
    if (pred()) return true;  // outside the lock: pred reads the server through its accessors
    if (std::chrono::steady_clock::now() >= deadline) return false;
    // Also every few milliseconds: what pred reads may change on the client's side only (an
    // informer's store after it read a list).
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + std::chrono::milliseconds(5)),
                        [&] { return ticks_ != seen; });
  }
}

}  // namespace lvsrs::testing
