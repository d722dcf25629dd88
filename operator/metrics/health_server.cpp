#include "metrics/health_server.h"

#include <civetweb.h>

#include <cstring>
#include <stdexcept>

namespace lvsrs {
namespace {

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Reply(mg_connection* conn, const ProbeResult& r) {
  const int status = r.ok ? 200 : 503;
  const std::string body = r.body + "\n";
  const mg_request_info* req = mg_get_request_info(conn);
  const bool head = req && req->request_method && std::strcmp(req->request_method, "HEAD") == 0;
  mg_printf(conn,
            "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
            "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
            status, r.ok ? "OK" : "Service Unavailable", body.size());
  if (!head) mg_write(conn, body.data(), body.size());
  return status;
}

}  // namespace

ProbeResult Liveness(std::int64_t now, std::int64_t last_loop, std::int64_t started,
                     std::chrono::milliseconds max_age) {
  const std::int64_t since = last_loop > 0 ? last_loop : started;
  const std::int64_t age = now - since;
  if (age <= max_age.count()) return {true, "ok"};
  return {false, std::string(last_loop > 0 ? "reconcile loop last turned " : "reconcile loop has not started in ") +
                     std::to_string(age / 1000) + "s ago, limit " + std::to_string(max_age.count() / 1000) + "s"};
}

ProbeResult Readiness(bool ready) {
  if (ready) return {true, "ok"};
  return {false, "not ready: VirtualIPs not synced or first reconcile pass not done"};
}

HealthServer::LibraryRef::LibraryRef() { mg_init_library(0); }
HealthServer::LibraryRef::~LibraryRef() { mg_exit_library(); }

void HealthServer::ContextStopper::operator()(mg_context* ctx) const { mg_stop(ctx); }

HealthServer::HealthServer(const BindAddress& bind, const AgentHealth& health, std::chrono::milliseconds max_age)
    : health_(health), max_age_(max_age), started_unix_ms_(NowUnixMs()) {
  std::string why = "nothing to listen on";
  for (const std::string& ports : bind.CivetListeningPorts()) {
    const char* options[] = {"listening_ports",    ports.c_str(), "num_threads", "2",
                             "request_timeout_ms", "5000",        nullptr};
    mg_callbacks callbacks{};
    mg_init_data init{&callbacks, nullptr, options};
    char text[256] = {};
    unsigned code = 0;
    mg_error_data error{&code, text, sizeof text};
    ctx_.reset(mg_start2(&init, &error));
    if (ctx_) break;
    why = text[0] ? text : "civetweb could not start";
  }
  if (!ctx_) throw std::runtime_error("cannot serve health probes on " + bind.ToString() + ": " + why);
  mg_set_request_handler(ctx_.get(), "/healthz$", &HealthServer::HandleHealthz, this);
  mg_set_request_handler(ctx_.get(), "/readyz$", &HealthServer::HandleReadyz, this);
}

HealthServer::~HealthServer() = default;

std::vector<int> HealthServer::ports() const {
  mg_server_port p[4] = {};
  const int n = mg_get_server_ports(ctx_.get(), 4, p);
  std::vector<int> out;
  out.reserve(n > 0 ? static_cast<std::size_t>(n) : 0);
  for (int i = 0; i < n; ++i) out.push_back(p[i].port);
  return out;
}

int HealthServer::HandleHealthz(mg_connection* conn, void* self) {
  auto* s = static_cast<HealthServer*>(self);
  return Reply(conn, Liveness(NowUnixMs(), s->health_.last_loop_unix_ms.load(), s->started_unix_ms_, s->max_age_));
}

int HealthServer::HandleReadyz(mg_connection* conn, void* self) {
  auto* s = static_cast<HealthServer*>(self);
  return Reply(conn, Readiness(s->health_.ready.load()));
}

}  // namespace lvsrs
