#include "kube/http_api_client.h"

#include <cpprest/containerstream.h>
#include <cpprest/http_client.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/ssl.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <optional>
#include <vector>

#include "kube/tcp_keepalive.h"
#include "kube/token_source.h"

namespace lvsrs::kube {
namespace {

using nlohmann::json;
namespace http = web::http;

json ParseOrNull(const std::string& text) {
  if (text.empty()) return nullptr;
  return json::parse(text, nullptr, /*allow_exceptions=*/false);
}

// Reads a response body, at most `cap` bytes: a server (or anything in between) must not be able
// to make the agent buffer without bound. A Content-Length above the cap is refused before
// reading; a body without one (chunked) is cut off once it passes the cap. nullopt when too large.
std::optional<std::string> ReadBody(http::http_response& resp, std::size_t cap) {
  if (const auto length = resp.headers().content_length(); length > cap) return std::nullopt;
  auto body = resp.body().streambuf();
  std::string out;
  std::vector<std::uint8_t> chunk(std::size_t{64} * 1024);
  for (;;) {
    // getn completes with a full chunk, or with what is left at the end of the body.
    const std::size_t n = body.getn(chunk.data(), chunk.size()).get();
    if (n == 0) return out;
    if (out.size() + n > cap) return std::nullopt;
    out.append(reinterpret_cast<const char*>(chunk.data()), n);
  }
}

std::string TooLarge(int status, std::size_t cap) {
  return "HTTP " + std::to_string(status) + " with a body larger than " + std::to_string(cap >> 20) +
         " MiB; not read further";
}

std::string StatusMessage(int status, const json& body, const std::string& raw) {
  if (body.is_object() && body.contains("message") && body["message"].is_string())
    return "HTTP " + std::to_string(status) + ": " + body["message"].get<std::string>().substr(0, 300);
  return "HTTP " + std::to_string(status) + (raw.empty() ? "" : ": " + raw.substr(0, 200));
}

}  // namespace

struct HttpApiClient::Impl {
  KubeConfig config;
  TokenSource tokens;
  std::unique_ptr<http::client::http_client> requests;
  std::unique_ptr<http::client::http_client> watches;
  std::mutex cancel_mutex;
  pplx::cancellation_token_source cancel;
  std::atomic<bool> cancelled{false};
  std::chrono::seconds watch_client_timeout{0};

  explicit Impl(const KubeConfig& c) : config(c), tokens(c) {}

  std::unique_ptr<http::client::http_client> MakeClient(std::chrono::seconds timeout) {
    http::client::http_client_config cfg;
    cfg.set_timeout(timeout);
    cfg.set_validate_certificates(true);  // always: there is no way to turn it off
    cfg.set_proxy(web::web_proxy(web::web_proxy::disabled));
    // A silently dead connection (a watch idle for minutes) must fail within ~70 s.
    cfg.set_nativehandle_options(KeepaliveSocketOptions(config.server));
    const std::string ca = config.ca_pem;
    cfg.set_ssl_context_callback([ca](boost::asio::ssl::context& ctx) {
      // cpprestsdk calls set_default_verify_paths() before this callback (asio_connection::
      // upgrade_to_ssl), which would make every CA of the system store (and $SSL_CERT_FILE)
      // trusted for the API server. Start from an empty store: only the cluster's CA bundle.
      SSL_CTX_set_cert_store(ctx.native_handle(), X509_STORE_new());
      if (!ca.empty()) ctx.add_certificate_authority(boost::asio::buffer(ca.data(), ca.size()));
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
      if (body) req.set_body(EncodeJsonBody(*body), content_type);
      // Per request, so that a body too large to read can be abandoned: cancelling ends the
      // connection, and cpprestsdk stops buffering what the server still sends.
      pplx::cancellation_token shutdown = Token();
      auto request_cancel = pplx::cancellation_token_source::create_linked_source(shutdown);
      http::http_response resp = requests->request(req, request_cancel.get_token()).get();
      out.status = resp.status_code();
      // A rejected token may have been rotated in a way stat() did not show: read it again.
      if (out.status == 401) tokens.Invalidate();
      const std::size_t cap = out.status >= 200 && out.status < 300 ? kMaxBodyBytes : kMaxErrorBodyBytes;
      const std::optional<std::string> body_text = ReadBody(resp, cap);
      if (!body_text) {
        request_cancel.cancel();
        out.malformed = out.status >= 200 && out.status < 300;
        out.error = TooLarge(out.status, cap);
        return out;
      }
      const std::string& raw = *body_text;
      out.body = ParseOrNull(raw);
      if (!out.ok()) {
        out.error = StatusMessage(out.status, out.body, raw);
      } else if (!out.body.is_object()) {
        // Truncated or garbled: say so (with where it broke off) rather than "not a list".
        out.malformed = true;
        out.error = "HTTP " + std::to_string(out.status) + " with a body that is " +
                    (out.body.is_discarded() ? "not valid JSON" : "not a JSON object") + " (" +
                    std::to_string(raw.size()) + " bytes, ending \"" +
                    (raw.size() > 60 ? raw.substr(raw.size() - 60) : raw) + "\")";
        out.body = nullptr;
      }
    } catch (const std::exception& e) {
      out.status = 0;
      out.error = std::string(method) + " " + path + ": " + e.what();
    }
    return out;
  }
};

HttpApiClient::HttpApiClient(const KubeConfig& config, const ApiClientTimeouts& timeouts)
    : impl_(std::make_unique<Impl>(config)) {
  impl_->requests = impl_->MakeClient(timeouts.request);
  // Longer than any timeoutSeconds we ask for, so the server, not the client, ends a watch.
  impl_->watch_client_timeout = timeouts.watch + std::chrono::seconds(30);
  impl_->watches = impl_->MakeClient(impl_->watch_client_timeout);
}

HttpApiClient::~HttpApiClient() = default;

ApiResponse HttpApiClient::Get(const std::string& path) { return impl_->Send(http::methods::GET, path, nullptr, ""); }

ApiResponse HttpApiClient::Post(const std::string& path, const json& body) {
  return impl_->Send(http::methods::POST, path, &body, "application/json");
}

ApiResponse HttpApiClient::Put(const std::string& path, const json& body) {
  return impl_->Send(http::methods::PUT, path, &body, "application/json");
}

ApiResponse HttpApiClient::MergePatch(const std::string& path, const json& patch) {
  return impl_->Send(http::methods::PATCH, path, &patch, "application/merge-patch+json");
}

void HttpApiClient::Cancel() {
  impl_->cancelled = true;
  std::lock_guard<std::mutex> lock(impl_->cancel_mutex);
  impl_->cancel.cancel();
}

WatchResult HttpApiClient::Watch(const std::string& path, const WatchExpectation& expect,
                                 const std::function<void(const json&)>& on_event) {
  WatchResult out;
  if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled"};
  WatchStreamDecoder decoder(expect);
  const auto started = std::chrono::steady_clock::now();
  try {
    auto req = impl_->Make(http::methods::GET, path);
    http::http_response resp = impl_->watches->request(req, impl_->Token()).get();
    out.http_status = resp.status_code();
    if (resp.status_code() == 401) impl_->tokens.Invalidate();
    if (resp.status_code() == 410) return {WatchEnd::Gone, "HTTP 410 Gone", 410};
    if (resp.status_code() != 200) {
      const std::optional<std::string> raw = ReadBody(resp, kMaxErrorBodyBytes);
      out.end = WatchEnd::Rejected;
      out.detail = raw ? StatusMessage(resp.status_code(), ParseOrNull(*raw), *raw)
                       : TooLarge(resp.status_code(), kMaxErrorBodyBytes);
      return out;
    }
    auto body = resp.body().streambuf();  // bytes (uint8_t)
    using Traits = decltype(body)::traits;
    std::string chunk;
    std::vector<std::uint8_t> more;
    for (;;) {
      if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled", out.http_status, out.events};
      // Wait for one byte, then take whatever else has arrived without waiting: the decoder
      // frames lines, whatever the chunk boundaries.
      const auto first = body.bumpc().get();
      if (first == Traits::eof()) {
        if (auto cut = decoder.Finish()) {
          out.end = WatchEnd::Rejected;
          out.detail = cut->detail;
          return out;
        }
        out.end = WatchEnd::Expired;
        out.detail = "stream ended";
        return out;
      }
      chunk.assign(1, static_cast<char>(first));
      if (const auto avail = body.in_avail(); avail > 0) {
        more.resize(avail);
        // Those bytes are buffered already: getn completes at once.
        const size_t got = body.getn(more.data(), avail).get();
        chunk.append(reinterpret_cast<const char*>(more.data()), std::min(got, avail));
      }
      for (auto& e : decoder.Feed(chunk)) {
        switch (e.kind) {
          case WatchEvent::Kind::Event:
            ++out.events;
            on_event(e.event);
            break;
          case WatchEvent::Kind::Gone: out.end = WatchEnd::Gone; break;
          case WatchEvent::Kind::Error:
          case WatchEvent::Kind::Malformed: out.end = WatchEnd::Rejected; break;
        }
        if (e.kind != WatchEvent::Kind::Event) {
          out.detail = e.detail;
          return out;
        }
      }
    }
  } catch (const std::exception& e) {
    if (impl_->cancelled) return {WatchEnd::Cancelled, "cancelled", out.http_status, out.events};
    // The connection broke: resuming from the last resourceVersion gets the server to send again
    // whatever was lost, including an event cut in the middle.
    out.end = WatchEnd::Failed;
    const bool stalled = std::chrono::steady_clock::now() - started >= impl_->watch_client_timeout;
    out.detail = std::string("watch ") + path + ": " +
                 (stalled ? "the stream stalled past the client timeout (" +
                                std::to_string(impl_->watch_client_timeout.count()) + " s): "
                          : std::string()) +
                 (decoder.pending() ? "the connection broke in the middle of an event (" +
                                          std::to_string(decoder.pending()) + " bytes of it received): "
                                    : std::string()) +
                 e.what();
    return out;
  }
}

}  // namespace lvsrs::kube
