#include "kube/informer.h"

#include <unistd.h>

#include <random>

#include "agent/log.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;

std::string NameOf(const json& obj) {
  if (!obj.is_object()) return "";
  const auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object()) return "";
  const auto name = meta->find("name");
  return name != meta->end() && name->is_string() ? name->get<std::string>() : "";
}

std::string StringOf(const json& obj, const char* key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string VersionOf(const json& obj) {
  if (!obj.is_object()) return "";
  const auto meta = obj.find("metadata");
  return meta != obj.end() && meta->is_object() ? StringOf(*meta, "resourceVersion") : "";
}

}  // namespace

Informer::Informer(const ApiClientFactory& clients, InformerOptions options, std::function<void()> on_change)
    : options_(std::move(options)),
      on_change_(std::move(on_change)),
      client_(clients({std::chrono::seconds(60), std::chrono::seconds(options_.watch_timeout_seconds * 3 / 2 + 1)})),
      // Jittered, seeded per process, so that thousands of agents that lost the same API server
      // do not reconnect in lockstep.
      backoff_(RetryBackoff::Policy{options_.backoff_base, options_.backoff_cap, true},
               std::random_device{}() ^ static_cast<std::uint64_t>(getpid())) {}

Informer::~Informer() { Stop(); }

void Informer::Start() {
  worker_.Start([this] { Run(); }, [this] { client_->Cancel(); });
}

void Informer::Stop() { worker_.Stop(); }

std::map<std::string, json> Informer::Objects() const {
  std::map<std::string, json> out;
  if (options_.project) return out;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& [name, kept] : objects_) out.emplace(name, kept.object);
  return out;
}

bool Informer::Kept::operator==(const Kept& other) const {
  if (object != other.object) return false;
  if (!projected || !other.projected) return !projected && !other.projected;
  return projected->Equals(*other.projected);
}

Informer::Kept Informer::Keep(const json& object) const {
  if (!options_.project) return Kept{object, nullptr};
  return Kept{json(), options_.project(object)};
}

Informer::Kept Informer::Keep(json&& object) const {
  if (!options_.project) return Kept{std::move(object), nullptr};
  return Kept{json(), options_.project(object)};
}

bool Informer::List() {
  std::map<std::string, Kept> fresh;  // under a projection, only the projections: a list of thousands
                                      // of objects is never held whole, only one page of it
  std::string cont, version;
  for (;;) {
    std::string path = options_.collection_path + "?limit=" + std::to_string(options_.page_size);
    if (!options_.field_selector.empty()) path += "&fieldSelector=" + UrlEncode(options_.field_selector);
    if (!cont.empty()) path += "&continue=" + UrlEncode(cont);
    const ApiResponse r = client_->Get(path);
    connected_ = r.status != 0;
    if (!r.ok() || !r.body.is_object()) {
      LogWarning("list " + options_.collection_path + ": " + (r.error.empty() ? "not a list" : r.error));
      return false;
    }
    // A list of something else (a misrouted request, a proxy's page, a broken server) must not
    // replace the store: it would read as "no VirtualIPs" and withdraw every VIP.
    const std::string kind = StringOf(r.body, "kind");
    const std::string api_version = StringOf(r.body, "apiVersion");
    if ((!options_.kind.empty() && kind != options_.kind + "List") ||
        (!options_.api_version.empty() && api_version != options_.api_version)) {
      LogWarning("list " + options_.collection_path + ": the server sent a " + api_version + " " + kind + " where a " +
                 options_.api_version + " " + options_.kind +
                 "List was expected; keeping the last "
                 "known state");
      return false;
    }
    const auto items_it = r.body.find("items");
    if (items_it == r.body.end() || !(items_it->is_array() || items_it->is_null())) {
      LogWarning("list " + options_.collection_path + ": no items array; keeping the last known state");
      return false;
    }
    // List items of built-in kinds come without apiVersion/kind; give each its own.
    const std::string item_kind = kind.size() > 4 && kind.ends_with("List") ? kind.substr(0, kind.size() - 4) : kind;
    for (json item : items_it->is_array() ? *items_it : json::array()) {
      if (!item.is_object() || NameOf(item).empty()) {
        LogWarning("list " + options_.collection_path + ": an item without a name; keeping the last known state");
        return false;
      }
      if (!item.contains("kind")) item["kind"] = item_kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = api_version;
      if (item["kind"] != item_kind || item["apiVersion"] != api_version) {
        LogWarning("list " + options_.collection_path + ": item " + NameOf(item) + " is not a " + item_kind +
                   "; keeping the last known state");
        return false;
      }
      const std::string name = NameOf(item);
      fresh[name] = Keep(std::move(item));
    }
    const auto meta = r.body.find("metadata");
    if (meta != r.body.end() && meta->is_object()) {
      if (version.empty()) version = StringOf(*meta, "resourceVersion");
      cont = StringOf(*meta, "continue");
    } else {
      cont.clear();
    }
    if (cont.empty()) break;
  }
  bool changed;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    changed = fresh != objects_ || !synced_;
    objects_ = std::move(fresh);
    resource_version_ = version;
  }
  // The version moves before synced_ does: whoever sees synced_ then also sees the version of the
  // first list, so it cannot pair "synced" with the empty store from before (KubeSource::Get).
  if (changed) ++version_;
  synced_ = true;
  if (changed) on_change_();
  return true;
}

void Informer::Run() {
  bool need_list = true;
  bool first_watch = true;
  const WatchExpectation expect{options_.api_version, options_.kind};
  for (;;) {
    if (worker_.stopping()) return;
    if (need_list) {
      if (!List()) {
        if (!worker_.SleepFor(backoff_.NextDelay())) return;
        continue;
      }
      if (!first_watch) ++relists_;
      need_list = false;
    }
    std::string rv;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      rv = resource_version_;
    }
    // Spread watch expiries so that many agents do not all re-watch at the same moment.
    std::uniform_int_distribution<int> spread(0, options_.watch_timeout_seconds / 2);
    static thread_local std::mt19937 rng(std::random_device{}());
    const int timeout = options_.watch_timeout_seconds + spread(rng);
    std::string path = options_.collection_path +
                       "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout) +
                       "&resourceVersion=" + UrlEncode(rv);
    if (!options_.field_selector.empty()) path += "&fieldSelector=" + UrlEncode(options_.field_selector);
    if (!first_watch) ++watch_restarts_;
    first_watch = false;
    const auto started = std::chrono::steady_clock::now();
    WatchResult w = client_->Watch(path, expect, [&](const json& event) {
      connected_ = true;
      const std::string type = event.value("type", "");
      const json& obj = event["object"];
      const std::string name = NameOf(obj);
      const std::string version = VersionOf(obj);
      bool changed = false;
      bool wake = true;
      const bool upsert = type == "ADDED" || type == "MODIFIED";
      Kept kept = upsert ? Keep(obj) : Kept{};
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!version.empty()) resource_version_ = version;
        if (upsert) {
          auto it = objects_.find(name);
          if (it == objects_.end() || !(it->second == kept)) {
            if (it != objects_.end() && options_.wakes && !options_.project)
              wake = options_.wakes(it->second.object) != options_.wakes(kept.object);
            objects_[name] = std::move(kept);
            changed = true;
          }
        } else if (type == "DELETED") {
          changed = objects_.erase(name) > 0;
        }
      }
      if (changed) {
        ++version_;
        if (wake) on_change_();
      }
    });
    if (w.http_status != 0) connected_ = true;
    // A stream that ends at once with nothing in it did not run its course: a server (or proxy)
    // answering every watch that way would otherwise be asked again without pause.
    if (w.end == WatchEnd::Expired && w.events == 0 &&
        std::chrono::steady_clock::now() - started < std::chrono::seconds(1)) {
      w.end = WatchEnd::Rejected;
      w.detail = "very short watch: the stream ended within a second without an event";
    }
    switch (w.end) {
      case WatchEnd::Cancelled: return;
      case WatchEnd::Expired: backoff_.Reset(); break;
      case WatchEnd::Gone:
        LogInfo("watch " + options_.collection_path + ": " + w.detail + "; re-listing");
        need_list = true;
        // Right after a list a 410 is no expiry but a server that keeps saying so: back off.
        if (w.events == 0 && !worker_.SleepFor(backoff_.NextDelay())) return;
        break;
      case WatchEnd::Rejected:
        LogWarning("watch " + options_.collection_path + ": " + w.detail +
                   "; re-listing after a backoff, keeping the last known state");
        need_list = true;
        if (!worker_.SleepFor(backoff_.NextDelay())) return;
        break;
      case WatchEnd::Failed:
        connected_ = false;
        LogWarning("watch " + options_.collection_path + ": " + w.detail + "; keeping the last known state");
        if (!worker_.SleepFor(backoff_.NextDelay())) return;
        break;
    }
  }
}

}  // namespace lvsrs::kube
