#include "kube/api_client.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <boost/asio/ssl.hpp>

#include <cstdio>

namespace lvsrs::kube {
namespace {

using nlohmann::json;
namespace http = web::http;

json ParseOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

std::string StatusMessage(int status, const json& body, const std::string& raw) {
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    return "HTTP " + std::to_string(status) + ": " + body["message"].get<std::string>();
  return "HTTP " + std::to_string(status) + (raw.empty() ? "" : ": " + raw.substr(0, 200));
}

}  // namespace

struct ApiClient::Impl {
  KubeConfig config;
  TokenSource tokens;
  std::unique_ptr<http::client::http_client> requests;
  std::unique_ptr<http::client::http_client> watches;
  std::mutex cancel_mutex;
  pplx::cancellation_token_source cancel;
  std::atomic<bool> cancelled{false};

  explicit Impl(const KubeConfig& c) : config(c), tokens(c) {}

  std::unique_ptr<http::client::http_client> MakeClient(std::chrono::seconds timeout) {
    http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(true);  // always: there is no way to turn it off
    cfg.set_proxy(web::web_proxy(web::web_proxy::disabled));
    const std::string ca = config.ca_pem;
    cfg.set_ssl_context_callback([ca](boost::asio::ssl::context& ctx) {
      if (!ca.empty())
        ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
      else
        ctx.set_default_verify_paths();
    });
    return std::make_unique<http::client::http_client>(utility::conversions::to_string_t(config.server), cfg);
  }

  pplx::cancellation_token Token() {
    std::lock_guard<std::mutex> lock(cancel_mutex);
    return cancel.get_token();
  }

  http::http_request Make(const http::method& method, const std::string& path) {
    http::http_request req(method);
    req.set_request_uri(utility::conversions::to_string_t(path));
    req.headers().add(U("Authorization"), U("Bearer ") + utility::conversions::to_string_t(tokens.Current()));
    req.headers().add(U("Accept"), U("application/json"));
    req.headers().add(U("User-Agent"), U("lvs-rs-operator"));
    return req;
  }

  ApiResponse Send(const http::method& method, const std::string& path, const json* body,
                   const std::string& content_type) {
    ApiResponse out;
    if (cancelled) {
      out.error = "cancelled";
      return out;
    }
    try {
      auto req = Make(method, path);
      if (body) req.set_body(body->dump(), content_type);
      http::http_response resp = requests->request(req, Token()).get();
      out.status = resp.status_code();
      const std::string raw = resp.extract_utf8string(true).get();
      out.body = ParseOrNull(raw);
      if (!out.ok()) out.error = StatusMessage(out.status, out.body, raw);
    } catch (const std::exception& e) {
      out.status = 0;
      out.error = std::string(method) + " " + path + ": " + e.what();
    }
    return out;
  }
};

ApiClient::ApiClient(const KubeConfig& config, std::chrono::seconds request_timeout, std::chrono::seconds watch_timeout)
    : impl_(std::make_unique<Impl>(config)) {
  impl_->requests = impl_->MakeClient(request_timeout);
  // Longer than any timeoutSeconds we ask for, so the server, not the client, ends a watch.
  impl_->watches = impl_->MakeClient(watch_timeout + std::chrono::seconds(30));
}

ApiClient::~ApiClient() = default;

const std::string& ApiClient::server() const { return impl_->config.server; }

ApiResponse ApiClient::Get(const std::string& path) { return impl_->Send(http::methods::GET, path, nullptr, ""); }

ApiResponse ApiClient::Post(const std::string& path, const json& body) {
  return impl_->Send(http::methods::POST, path, &body, "application/json");
}

ApiResponse ApiClient::Put(const std::string& path, const json& body) {
  return impl_->Send(http::methods::PUT, path, &body, "application/json");
}

ApiResponse ApiClient::MergePatch(const std::string& path, const json& patch) {
  return impl_->Send(http::methods::PATCH, path, &patch, "application/merge-patch+json");
}

void ApiClient::Cancel() {
  impl_->cancelled = true;
  std::lock_guard<std::mutex> lock(impl_->cancel_mutex);
  impl_->cancel.cancel();
}

WatchResult ApiClient::Watch(const std::string& path, const std::function<void(const json&)>& on_event) {
  WatchResult out;
  if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled"};
  try {
    auto req = impl_->Make(http::methods::GET, path);
    http::http_response resp = impl_->watches->request(req, impl_->Token()).get();
    if (resp.status_code() == 410) return {WatchEnd::Gone, "HTTP 410 Gone"};
    if (resp.status_code() != 200) {
      const std::string raw = resp.extract_utf8string(true).get();
      return {WatchEnd::Failed, StatusMessage(resp.status_code(), ParseOrNull(raw), raw)};
    }
    auto body = resp.body();
    for (;;) {
      if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled"};
      // A fresh buffer per line: a reused container_buffer corrupts later lines.
      concurrency::streams::container_buffer<std::string> line;
      const size_t n = body.read_line(line).get();
      const std::string& text = line.collection();
      if (n == 0 && text.empty()) {
        if (body.is_eof()) return {WatchEnd::Expired, "stream ended"};
        continue;
      }
      json event = json::parse(text, nullptr, false);
      if (!event.is_object() || !event.contains("type") || !event["type"].is_string())
        return {WatchEnd::Failed, "malformed watch event: " + text.substr(0, 200)};
      if (event["type"] == "ERROR") {
        const json& status = event.value("object", json::object());
        const int code = status.is_object() ? status.value("code", 0) : 0;
        const std::string message = status.is_object() ? status.value("message", "") : "";
        if (code == 410) return {WatchEnd::Gone, "watch expired (410): " + message};
        return {WatchEnd::Failed, "watch error " + std::to_string(code) + ": " + message};
      }
      on_event(event);
    }
  } catch (const std::exception& e) {
    if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled"};
    return {WatchEnd::Failed, std::string("watch ") + path + ": " + e.what()};
  }
}

std::string UrlEncode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace lvsrs::kube
