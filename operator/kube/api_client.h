// A small Kubernetes API client on cpprestsdk (HTTP/TLS) and nlohmann-json: requests with a
// bearer token, and watch streams read line by line as the server sends each event.
// Facts this relies on, checked against kube-apiserver 1.20 and cpprestsdk 2.10.18:
// - the CA must be loaded into the asio SSL context (set_ssl_context_callback); cpprestsdk's own
//   certificate validation then also checks the server name against the certificate;
// - a watch response arrives as soon as the headers do, and the body's stream buffer hands out
//   each chunk as it arrives (one byte awaited with bumpc(), then in_avail() bytes without
//   waiting); the bytes go through WatchStreamDecoder (watch_stream.h), which owns the framing;
// - the client timeout must exceed the watch's timeoutSeconds, or the client aborts a healthy watch.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "kube/kube_config.h"
#include "kube/watch_stream.h"

namespace lvsrs::kube {

// The most a response body may hold: a list page (limit=500) of large VirtualIPs fits many
// times over; beyond it the response is a failure, not read further (a watch event is capped on
// its own, WatchStreamDecoder::kMaxLine). Error bodies are a Status: 1 MiB is plenty.
inline constexpr std::size_t kMaxBodyBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxErrorBodyBytes = std::size_t{1} << 20;

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
  // watch_timeout: the longest timeoutSeconds any watch of this client will ask for.
  explicit ApiClient(const KubeConfig& config, std::chrono::seconds request_timeout = std::chrono::seconds(30),
                     std::chrono::seconds watch_timeout = std::chrono::seconds(600));
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // path is absolute and already URL-encoded ("/apis/lvsdr.io/v1alpha1/virtualips?limit=500").
  ApiResponse Get(const std::string& path);
  ApiResponse Post(const std::string& path, const nlohmann::json& body);
  ApiResponse Put(const std::string& path, const nlohmann::json& body);
  ApiResponse MergePatch(const std::string& path, const nlohmann::json& patch);

  // Streams `path` (which must carry watch=1 and timeoutSeconds) and calls on_event for each
  // event object ({"type": ..., "object": ...}) whose object is what `expect` says.
  // ERROR events carrying 410 end with Gone.
  WatchResult Watch(const std::string& path, const WatchExpectation& expect,
                    const std::function<void(const nlohmann::json&)>& on_event);

  // Ends requests and watches in flight (from another thread) and makes later ones return at
  // once. Used on shutdown.
  void Cancel();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A request body as sent: compact JSON, with bytes that are not valid UTF-8 (interface names)
// replaced by U+FFFD rather than throwing.
std::string EncodeJsonBody(const nlohmann::json& body);

// Percent-encodes a query parameter value.
std::string UrlEncode(const std::string& value);

}  // namespace lvsrs::kube
