// The flags and probes of the metrics and health listeners: parsing, probe verdicts, and the
// health server answering real HTTP on loopback.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "metrics/bind_address.h"
#include "metrics/health_server.h"
#include "metrics/monitoring.h"

namespace lvsrs {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(BindAddress, AcceptsEveryAddressOneAddressOrDisabled) {
  std::string err;
  auto all = ParseBindAddress(":8470", err);
  ASSERT_TRUE(all) << err;
  EXPECT_EQ(all->host, "");
  EXPECT_EQ(all->port, 8470);

  auto v4 = ParseBindAddress("127.0.0.1:9", err);
  ASSERT_TRUE(v4) << err;
  EXPECT_EQ(v4->ToString(), "127.0.0.1:9");

  auto v6 = ParseBindAddress("[::1]:8471", err);
  ASSERT_TRUE(v6) << err;
  EXPECT_EQ(v6->ToString(), "[::1]:8471");

  auto off = ParseBindAddress("0", err);
  ASSERT_TRUE(off);
  EXPECT_TRUE(off->disabled);
}

TEST(BindAddress, RejectsWhatIsNotHostPortOrZero) {
  for (const char* bad : {"8470", ":", ":0", ":65536", ":84x", "localhost:8470", "::1:8470", "[127.0.0.1]:8470",
                          "[]:8470", "192.0.2.1:", ""}) {
    std::string err;
    EXPECT_FALSE(ParseBindAddress(bad, err)) << bad;
    EXPECT_FALSE(err.empty()) << bad;
  }
}

TEST(MonitoringOptions, DefaultsAndConflicts) {
  MonitoringOptions o;
  std::string err;
  ASSERT_TRUE(MonitoringOptionsFromFlags(std::nullopt, std::nullopt, seconds(2), o, err)) << err;
  EXPECT_EQ(o.metrics.port, 8470);
  EXPECT_EQ(o.health.port, 8471);
  EXPECT_EQ(o.live_within, seconds(30));

  ASSERT_TRUE(MonitoringOptionsFromFlags(std::string("0"), std::string("0"), seconds(60), o, err));
  EXPECT_TRUE(o.metrics.disabled && o.health.disabled);
  EXPECT_EQ(o.live_within, seconds(180));  // a slow resync must not look like a dead loop

  EXPECT_FALSE(MonitoringOptionsFromFlags(std::string(":8470"), std::string("127.0.0.1:8470"), seconds(2), o, err));
  EXPECT_FALSE(MonitoringOptionsFromFlags(std::string("bogus"), std::nullopt, seconds(2), o, err));
  EXPECT_NE(err.find("--metrics-bind-address"), std::string::npos);
  // IPv6 addresses are served (our own listener; Debian's civetweb had no IPv6 and refused them).
  EXPECT_TRUE(MonitoringOptionsFromFlags(std::string("[::1]:8470"), std::nullopt, seconds(2), o, err)) << err;
  // Same port on two distinct addresses is fine.
  EXPECT_TRUE(
      MonitoringOptionsFromFlags(std::string("127.0.0.1:8470"), std::string("127.0.0.2:8470"), seconds(2), o, err));
}

TEST(Probes, LivenessFollowsTheLoop) {
  const std::int64_t now = 1'700'000'000'000;
  EXPECT_TRUE(Liveness(now, now - 1000, now - 100000, seconds(30)).ok);
  const auto stale = Liveness(now, now - 31000, now - 100000, seconds(30));
  EXPECT_FALSE(stale.ok);
  EXPECT_NE(stale.body.find("31s"), std::string::npos);
  // Before the first turn, the server's start time counts.
  EXPECT_TRUE(Liveness(now, 0, now - 5000, seconds(30)).ok);
  EXPECT_FALSE(Liveness(now, 0, now - 60000, seconds(30)).ok);
}

TEST(Probes, ReadinessFollowsTheFirstPass) {
  EXPECT_FALSE(Readiness(false).ok);
  EXPECT_TRUE(Readiness(true).ok);
}

// A request over loopback (127.0.0.1, or ::1 with v6); returns the status code (0 when the
// connection failed) and the body.
int HttpRequest(int port, const std::string& method, const std::string& path, std::string* body = nullptr,
                bool v6 = false) {
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (v6) {
    auto& sa = reinterpret_cast<sockaddr_in6&>(ss);
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<std::uint16_t>(port));
    sa.sin6_addr = in6addr_loopback;
    len = sizeof sa;
  } else {
    auto& sa = reinterpret_cast<sockaddr_in&>(ss);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    len = sizeof sa;
  }
  std::string resp;
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) {
    const std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    (void)!write(fd, req.data(), req.size());
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  if (resp.rfind("HTTP/1.1 ", 0) != 0) return 0;
  if (body) {
    const auto sep = resp.find("\r\n\r\n");
    *body = sep == std::string::npos ? "" : resp.substr(sep + 4);
  }
  return std::stoi(resp.substr(9, 3));
}

int HttpGet(int port, const std::string& path, std::string* body = nullptr) {
  return HttpRequest(port, "GET", path, body);
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

TEST(HealthServer, AnswersProbesFromTheLoopsState) {
  AgentHealth health;
  BindAddress bind;
  bind.host = "127.0.0.1";
  bind.port = 0;  // any free port; the test asks the server which one
  HealthServer server(bind, health, seconds(30));
  ASSERT_FALSE(server.ports().empty());
  const int port = server.ports().front();
  ASSERT_GT(port, 0);

  std::string body;
  EXPECT_EQ(HttpGet(port, "/readyz", &body), 503);
  EXPECT_NE(body.find("not ready"), std::string::npos);
  EXPECT_EQ(HttpGet(port, "/healthz"), 200);  // starting up counts as alive

  health.last_loop_unix_ms = NowMs();
  health.ready = true;
  EXPECT_EQ(HttpGet(port, "/readyz", &body), 200);
  EXPECT_EQ(body, "ok\n");
  EXPECT_EQ(HttpGet(port, "/healthz"), 200);

  health.last_loop_unix_ms = NowMs() - 120000;  // a loop stuck for two minutes
  EXPECT_EQ(HttpGet(port, "/healthz", &body), 503);
  EXPECT_NE(body.find("last turned"), std::string::npos);

  EXPECT_EQ(HttpGet(port, "/metrics"), 404);
  EXPECT_EQ(HttpGet(port, "/readyz?verbose"), 200);  // the kubelet's query strings are ignored
  EXPECT_EQ(HttpRequest(port, "HEAD", "/readyz", &body), 200);
  EXPECT_EQ(body, "");
  EXPECT_EQ(HttpRequest(port, "POST", "/readyz"), 405);
}

// ":PORT" is one dual-stack socket: the probes answer on ::1 and on 127.0.0.1.
TEST(HealthServer, EveryAddressServesIpv6AndIpv4) {
  const int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in6 any6{};
  any6.sin6_family = AF_INET6;
  any6.sin6_addr = in6addr_loopback;
  const bool has_v6 = probe >= 0 && bind(probe, reinterpret_cast<sockaddr*>(&any6), sizeof any6) == 0;
  if (probe >= 0) close(probe);
  if (!has_v6) GTEST_SKIP() << "no IPv6 loopback here";
  AgentHealth health;
  health.ready = true;
  BindAddress bind;  // every address, any free port
  HealthServer server(bind, health, seconds(30));
  const int port = server.ports().front();
  EXPECT_EQ(HttpRequest(port, "GET", "/readyz", nullptr, true), 200);
  EXPECT_EQ(HttpRequest(port, "GET", "/readyz", nullptr, false), 200);

  BindAddress v6;
  v6.host = "::1";  // port 0: any free one
  HealthServer only_v6(v6, health, seconds(30));
  EXPECT_EQ(HttpRequest(only_v6.ports().front(), "GET", "/readyz", nullptr, true), 200);
}

TEST(HealthServer, BusyPortIsAnErrorNamingTheAddress) {
  AgentHealth health;
  BindAddress bind;
  bind.host = "127.0.0.1";
  HealthServer first(bind, health, seconds(30));
  bind.port = first.ports().front();
  try {
    HealthServer second(bind, health, seconds(30));
    FAIL() << "second listener on port " << bind.port << " started";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1:" + std::to_string(bind.port)), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace lvsrs
