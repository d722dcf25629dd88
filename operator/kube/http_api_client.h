// The real ApiClient (api_client.h), built into the plugin lvs-rs-operator-http.so and made through
// HttpApiClients (http_plugin.h): HTTP/TLS on cpprestsdk, JSON with nlohmann-json, requests
// with a bearer token, and watch streams read line by line as the server sends each event.
// Facts this relies on, checked against kube-apiserver 1.20 and cpprestsdk 2.10.18:
// - the CA must be loaded into the asio SSL context (set_ssl_context_callback); cpprestsdk's own
//   certificate validation then also checks the server name against the certificate;
// - a watch response arrives as soon as the headers do, and the body's stream buffer hands out
//   each chunk as it arrives (one byte awaited with bumpc(), then in_avail() bytes without
//   waiting); the bytes go through WatchStreamDecoder (watch_stream.h), which owns the framing;
// - the client timeout must exceed the watch's timeoutSeconds, or the client aborts a healthy watch.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "kube/api_client.h"
#include "kube/kube_config.h"

namespace lvsrs::kube {

// The most a response body may hold: a list page (limit=500) of large VirtualIPs fits many
// times over; beyond it the response is a failure, not read further (a watch event is capped on
// its own, WatchStreamDecoder::kMaxLine). Error bodies are a Status: 1 MiB is plenty.
inline constexpr std::size_t kMaxBodyBytes = std::size_t{64} << 20;
inline constexpr std::size_t kMaxErrorBodyBytes = std::size_t{1} << 20;

class HttpApiClient final : public ApiClient {
 public:
  // timeouts.watch: the longest timeoutSeconds any watch of this client will ask for.
  explicit HttpApiClient(const KubeConfig& config, const ApiClientTimeouts& timeouts = {});
  ~HttpApiClient() override;
  HttpApiClient(const HttpApiClient&) = delete;
  HttpApiClient& operator=(const HttpApiClient&) = delete;

  ApiResponse Get(const std::string& path) override;
  ApiResponse Post(const std::string& path, const nlohmann::json& body) override;
  ApiResponse Put(const std::string& path, const nlohmann::json& body) override;
  ApiResponse MergePatch(const std::string& path, const nlohmann::json& patch) override;
  WatchResult Watch(const std::string& path, const WatchExpectation& expect,
                    const std::function<void(const nlohmann::json&)>& on_event) override;
  void Cancel() override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lvsrs::kube
