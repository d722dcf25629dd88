// Informer semantics for one collection, as client-go does it: list (paged), then watch from the
// list's resourceVersion with bookmarks; on 410 Gone re-list; on a broken connection resume the
// watch from the last seen resourceVersion; when the server answers the watch with an error (404
// or 403 after etcd was wiped and the CRDs or RBAC are not back yet, "too large resource
// version", 5xx) or sends anything that is not a watch event of this collection, re-list, since
// an event may have been lost. Every retry waits a jittered exponential backoff that is reset
// only by a watch that ran its course, so a server that fails in any repeatable way is asked
// ever less often (no hot loop), as is one whose watches end at once without events (client-go
// calls that a "very short watch").
// The object store is replaced only by a successful list of the expected kind: while the API
// server is unreachable or answers with errors or garbage, the last known objects stay (fail
// static), and nothing is reported synced before the first list.
// With a projection (InformerOptions::project) the store keeps only a small value of the user's own
// type per object, made as each listed or watched object arrives: the VipSummariser keeps per
// RealServer and VirtualIP "ready or not" instead of thousands of whole objects.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>

#include "agent/retry_backoff.h"
#include "kube/api_client.h"
#include "kube/worker_thread.h"

namespace lvsrs::kube {

// What an informer keeps of an object under a projection: a value of the user's type T (with ==).
class Projected {
 public:
  virtual ~Projected() = default;
  virtual bool Equals(const Projected& other) const = 0;
};

template <typename T>
class ProjectedAs final : public Projected {
 public:
  explicit ProjectedAs(T v) : value(std::move(v)) {}
  bool Equals(const Projected& other) const override {
    const auto* o = dynamic_cast<const ProjectedAs*>(&other);
    return o != nullptr && o->value == value;
  }
  const T value;
};

// Called on the informer's thread for every object of a list or a watch event; must not throw
// (read the object through object_decode.h).
using Projection = std::function<std::unique_ptr<const Projected>(const nlohmann::json&)>;

// The Projection that keeps project(object) of each object.
template <typename T>
Projection ProjectTo(std::function<T(const nlohmann::json&)> project) {
  return [project = std::move(project)](const nlohmann::json& object) -> std::unique_ptr<const Projected> {
    return std::make_unique<const ProjectedAs<T>>(project(object));
  };
}

struct InformerOptions {
  std::string collection_path;      // "/apis/lvsdr.io/v1alpha1/virtualips" or "/api/v1/nodes"
  std::string api_version;          // of the objects: "lvsdr.io/v1alpha1" or "v1"
  std::string kind;                 // "VirtualIP" or "Node"; a list must be "<kind>List"
  std::string field_selector;       // "metadata.name=node-1", or empty
  int watch_timeout_seconds = 300;  // jittered per watch by up to +50%
  int page_size = 500;
  std::chrono::milliseconds backoff_base{500};
  std::chrono::milliseconds backoff_cap{15000};
  // Empty: keep whole objects (Objects()). Set: keep only project(object) (ForEachProjected).
  Projection project;
  // Empty: every change of the store calls on_change. Set: a watched change for which wakes(old)
  // == wakes(new) (say, a status someone else wrote) is stored, and version() moves, but
  // on_change is not called. Lists always call it when they change the store.
  std::function<nlohmann::json(const nlohmann::json&)> wakes;
};

class Informer {
 public:
  // on_change runs on the informer's thread after the store changed (not for bookmarks).
  // clients: makes the informer's own client (see ApiClientFactory).
  Informer(const ApiClientFactory& clients, InformerOptions options, std::function<void()> on_change);
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void Start();
  void Stop();

  bool synced() const { return synced_; }
  // Objects by metadata.name (cluster-scoped collections); a copy. Empty under a projection.
  std::map<std::string, nlohmann::json> Objects() const;
  // Under a projection of type T: visit(name, kept) for every object, by name, without a copy of
  // the store; the informer's updates wait until it returns, so keep visit short.
  template <typename T>
  void ForEachProjected(const std::function<void(const std::string&, const T&)>& visit) const {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, kept] : objects_) {
      const auto* p = dynamic_cast<const ProjectedAs<T>*>(kept.projected.get());
      if (p != nullptr) visit(name, p->value);
    }
  }
  std::uint64_t version() const { return version_; }                // bumps on every store change
  std::uint64_t watch_restarts() const { return watch_restarts_; }  // watches started after the first
  std::uint64_t relists() const { return relists_; }
  bool connected() const { return connected_; }  // the last list or watch reached the server

 private:
  void Run();
  bool List();  // replaces the store on success

  // One object as the store keeps it: whole, or (under a projection) only its projection.
  struct Kept {
    nlohmann::json object;
    std::unique_ptr<const Projected> projected;
    bool operator==(const Kept& other) const;
  };
  Kept Keep(const nlohmann::json& object) const;
  Kept Keep(nlohmann::json&& object) const;

  InformerOptions options_;
  std::function<void()> on_change_;
  std::unique_ptr<ApiClient> client_;
  mutable std::mutex mutex_;  // objects_, resource_version_
  std::map<std::string, Kept> objects_;
  std::string resource_version_;
  std::atomic<bool> synced_{false};
  std::atomic<bool> connected_{false};
  std::atomic<std::uint64_t> version_{0};
  std::atomic<std::uint64_t> watch_restarts_{0};
  std::atomic<std::uint64_t> relists_{0};
  RetryBackoff backoff_;  // jittered
  WorkerThread worker_;
};

}  // namespace lvsrs::kube
