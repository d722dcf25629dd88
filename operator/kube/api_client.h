// The requests the operator makes of the Kubernetes API server, as one small interface: a GET,
// POST, PUT and JSON merge PATCH with a JSON answer, and a watch stream. The informers, the
// NodeReporter and the VipSummariser speak only this. The real one is HttpApiClient
// (http_api_client.h, cpprestsdk); tests/support/fake_api_client.h is an in-memory API server
// behind the same interface for unit tests.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/watch_stream.h"

namespace lvsrs::kube {

struct ApiResponse {
  int status = 0;       // HTTP status; 0 when the request did not get a response
  nlohmann::json body;  // parsed body (null when empty or not JSON)
  std::string error;    // transport error, or the Status message of a failure
  // A 2xx whose body is not a JSON object (truncated, garbled, empty): every Kubernetes API
  // response is an object, so this is a failure too and callers never see the broken body.
  bool malformed = false;
  bool ok() const { return status >= 200 && status < 300 && !malformed; }
};

enum class WatchEnd {
  Expired,    // the server closed the stream (timeoutSeconds): resume from the last version
  Gone,       // 410: the resourceVersion is too old; re-list
  Failed,     // no response, or the connection broke: back off, then resume from the last version
  Rejected,   // the server answered with an error (non-200, an ERROR event) or sent something
              // that is not a watch event of this collection: events may be lost, so back off
              // and re-list (a wiped etcd answers 404 or "too large resource version" here)
  Cancelled,  // Cancel() was called
};

struct WatchResult {
  WatchEnd end = WatchEnd::Failed;
  std::string detail;
  int http_status = 0;     // of the watch response; 0 when there was none
  std::size_t events = 0;  // events delivered to on_event
};

class ApiClient {
 public:
  virtual ~ApiClient() = default;

  // path is absolute and already URL-encoded ("/apis/lvsdr.io/v1alpha1/virtualips?limit=500").
  virtual ApiResponse Get(const std::string& path) = 0;
  virtual ApiResponse Post(const std::string& path, const nlohmann::json& body) = 0;
  // The server answers 409 when body's metadata.resourceVersion is not the object's current one.
  virtual ApiResponse Put(const std::string& path, const nlohmann::json& body) = 0;
  virtual ApiResponse MergePatch(const std::string& path, const nlohmann::json& patch) = 0;

  // Streams `path` (which must carry watch=1 and timeoutSeconds) and calls on_event for each
  // event object ({"type": ..., "object": ...}) whose object is what `expect` says.
  // ERROR events carrying 410 end with Gone.
  virtual WatchResult Watch(const std::string& path, const WatchExpectation& expect,
                            const std::function<void(const nlohmann::json&)>& on_event) = 0;

  // Ends requests and watches in flight (from another thread) and makes later ones return at
  // once. Used on shutdown.
  virtual void Cancel() = 0;
};

// How long one client's requests may take. watch: the longest timeoutSeconds any of its watches
// will ask for.
struct ApiClientTimeouts {
  std::chrono::seconds request{30};
  std::chrono::seconds watch{600};
};

// Makes the client of one component. Each component has its own, so that stopping one cancels
// only its own requests.
using ApiClientFactory = std::function<std::unique_ptr<ApiClient>(const ApiClientTimeouts&)>;

// A request body as sent: compact JSON, with bytes that are not valid UTF-8 (interface names)
// replaced by U+FFFD rather than throwing.
std::string EncodeJsonBody(const nlohmann::json& body);

// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& value);

}  // namespace lvsrs::kube
