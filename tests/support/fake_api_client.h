// An in-memory Kubernetes API server behind kube::ApiClient, for unit tests of the informers,
// the NodeReporter and the VipSummariser without a cluster (tests/kube's e2e tests run the same
// code against a real kube-apiserver). FakeApiServer holds the objects; every client it makes
// (Clients() is the ApiClientFactory the code under test takes) talks to the same objects, as
// the real components each hold their own connection to one API server.
//
// What it implements, with kube-apiserver's semantics as the operator relies on them:
//  - Paths: /api/v1/... and /apis/<group>/<version>/..., cluster-scoped or under
//    namespaces/<ns>/, for the collections the operator uses (virtualips, realservers, nodes,
//    events, leases); any other collection answers 404, as an unknown resource does.
//  - GET of an object (404 with a Status when missing) and of a collection: a <Kind>List with
//    the current resourceVersion, paged by limit/continue, filtered by
//    fieldSelector=metadata.name=<name> (another field selector answers 400).
//  - One resourceVersion counter for all objects, as etcd's revision: every write that changes
//    an object increments it and stamps metadata.resourceVersion; a write that changes nothing
//    (a patch to the same values) neither bumps it nor sends a watch event.
//  - POST creates (409 AlreadyExists when the name is taken; metadata.generateName gets a
//    suffix; uid, generation 1 and the path's namespace are set; a kind that does not match the
//    collection answers 400). PUT replaces, PATCH merges (RFC 7386); both answer 404 when the
//    object is missing and 409 Conflict when the body carries a metadata.resourceVersion that is
//    not the current one (a PUT without one is unconditional). A change of spec increments
//    metadata.generation.
//  - The status subresource of VirtualIP, RealServer and Node: writes to <object>/status change
//    only status; writes to the object leave its status as it was, and a created object starts
//    without one.
//  - Leases (coordination.k8s.io/v1) are objects like any other: spec.holderIdentity,
//    renewTime (MicroTime), leaseDurationSeconds, acquireTime; PutLease/Lease set and read them.
//  - Watches from a resourceVersion: every change of the collection after it, in order, as the
//    bytes of a watch stream through the real WatchStreamDecoder (so a watch's expectation of
//    kind and apiVersion is checked as HttpApiClient checks it). A watch stays open until
//    EndWatches(), Cancel() of its client, or a fault. After Compact(), a watch from an older
//    resourceVersion gets the ERROR event with code 410 (Gone).
//  - Faults, per request: Fail(method, path prefix, fault) answers matching requests with an
//    HTTP status and a Status message, or with no response at all (status 0: a transport error),
//    before the request has any effect. BeforeRequest() runs a test's hook just before a matching
//    request is served (to change an object between a GET and a PUT: a lost race).
//  - A log of every request the clients made (method, path with query, body, answer).
//
// What it does NOT implement: authentication and RBAC, admission and schema validation (a CRD's
// OpenAPI checks, defaulting), label selectors, DELETE from clients (tests delete with Delete()),
// finalizers and garbage collection (ownerReferences are kept, not acted on), bookmarks and the
// initial events of a watch without a resourceVersion, timeoutSeconds (watches end only when
// told), strategic-merge and JSON patches, server-side apply, dry runs, and HTTP itself (TLS,
// chunking, body size caps, malformed bodies: tests/kube/malformed_api_test.cpp covers those
// against HttpApiClient).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api_client.h"

namespace lvsrs::testing {

// How a request fails: an HTTP status with a Status message, or (status 0) no response at all.
struct ApiFault {
  int status = 0;
  std::string message = "injected failure";
};

class FakeApiServer {
 public:
  // A request as a client made it. method: GET, POST, PUT, PATCH, or WATCH (a GET with watch=1).
  struct Request {
    std::string method;
    std::string path;  // with the query
    nlohmann::json body;
    int status = 0;  // of the answer; 0 when a fault answered with no response
  };

  FakeApiServer() = default;
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  // The factory the code under test takes; its clients may outlive nothing: destroy the code
  // under test before the server.
  kube::ApiClientFactory Clients();
  std::unique_ptr<kube::ApiClient> NewClient();

  // Objects as a test sets them up, changes them (as kubectl would) and reads them back; these
  // neither fail nor enter the request log, but watches see their changes.
  // collection: "/apis/lvsdr.io/v1alpha1/virtualips", "/apis/coordination.k8s.io/v1/namespaces/x/leases".
  // Returns the object as stored. Throws std::invalid_argument when the server would refuse it.
  nlohmann::json Create(const std::string& collection, nlohmann::json object);
  // Replaces the object at path (status included), keeping uid; creates it when missing.
  nlohmann::json Replace(const std::string& path, nlohmann::json object);
  void Delete(const std::string& path);
  std::optional<nlohmann::json> Object(const std::string& path) const;
  std::vector<nlohmann::json> Objects(const std::string& collection) const;
  std::int64_t resource_version() const;
  // Watches from a resourceVersion older than now get 410 Gone from here on.
  void Compact();

  // A Lease as a holder writes it (created or replaced).
  struct LeaseSpec {
    std::string holder;
    std::chrono::system_clock::time_point renewed;
    std::chrono::seconds duration{60};
  };
  void PutLease(const std::string& ns, const std::string& name, const LeaseSpec& lease);
  // The Lease's holderIdentity, renewTime and leaseDurationSeconds as stored (nullopt: none).
  struct LeaseView {
    std::string holder;
    std::string renew_time;
    std::int64_t duration_seconds = 0;
    std::string resource_version;
  };
  std::optional<LeaseView> Lease(const std::string& ns, const std::string& name) const;

  // Requests whose method matches (empty: any) and whose path without the query starts with
  // path_prefix fail with `fault`, the next `times` times (negative: until ClearFaults()).
  void Fail(const std::string& method, const std::string& path_prefix, ApiFault fault, int times = -1);
  void ClearFaults();
  // Runs hook (on the client's thread) just before the next `times` matching requests are served.
  void BeforeRequest(const std::string& method, const std::string& path_prefix, std::function<void()> hook,
                     int times = 1);

  // Ends every open watch after the changes made so far: Expired as at timeoutSeconds, Gone as an
  // ERROR 410 event, Rejected as an ERROR 500 event, Failed as a broken connection.
  void EndWatches(kube::WatchEnd end = kube::WatchEnd::Expired);
  int open_watches() const;
  // Watch events that clients' handlers have returned from: a change was taken in once this grew.
  std::uint64_t events_delivered() const;

  std::vector<Request> Requests() const;
  // How many requests matched method (empty: any) and path prefix (without the query).
  int Count(const std::string& method, const std::string& path_prefix) const;
  // Waits until pred() holds, re-checking after every request and change and every few
  // milliseconds; false after timeout.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  class Client;
  struct Rule {
    std::string method, prefix;
    ApiFault fault;
    std::function<void()> hook;
    int times;
  };
  struct Change {
    std::string collection, type;  // ADDED, MODIFIED, DELETED
    nlohmann::json object;
    std::int64_t version;
  };

  kube::ApiResponse Serve(const std::string& method, const std::string& path, const nlohmann::json* body);
  kube::WatchResult Watch(const std::string& path, const kube::WatchExpectation& expect,
                          const std::function<void(const nlohmann::json&)>& on_event,
                          const std::function<bool()>& cancelled);
  std::optional<ApiFault> TakeFault(const std::string& method, const std::string& path);  // runs hooks
  void Log(Request r);
  void Notify();
  kube::ApiResponse ServeLocked(const std::string& method, const std::string& path, const nlohmann::json* body);
  nlohmann::json Store(const std::string& collection, const std::string& key, nlohmann::json object, const char* type);

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t ticks_ = 0;  // bumps on every request and change (for WaitFor)
  std::int64_t version_ = 1;
  std::int64_t compacted_ = 0;
  std::uint64_t uids_ = 0;
  // collection -> "namespace/name" (or "name") -> object
  std::map<std::string, std::map<std::string, nlohmann::json>> objects_;
  std::vector<Change> changes_;
  std::vector<Rule> rules_;
  std::vector<Request> requests_;
  std::uint64_t watch_generation_ = 0;
  std::int64_t watch_end_version_ = 0;  // the last change watches ended by EndWatches() deliver
  std::uint64_t events_delivered_ = 0;
  kube::WatchEnd watch_end_ = kube::WatchEnd::Expired;
  int open_watches_ = 0;
};

}  // namespace lvsrs::testing
