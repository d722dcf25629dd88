// The request parsing of both director-facing protocols, byte by byte, and the listener flags.
#include "director/director_protocols.h"

#include <gtest/gtest.h>

#include "director/director_listeners.h"

namespace lvsrs {
namespace {

IpAddress Ip(const char* s) { return *IpAddress::Parse(s); }

// Answers like a node whose only VIP is 198.51.100.10, up.
DirectorAnswer Fake(const IpAddress& ip) {
  std::map<IpAddress, VipHealth> table;
  table[Ip("198.51.100.10")] = VipHealth{Ip("198.51.100.10"), "web", Serving::Up, "", 0, 0};
  table[Ip("2001:db8::10")] = VipHealth{Ip("2001:db8::10"), "web6", Serving::Down, "pending: x", 0, 0};
  return AnswerFor(&table, ip);
}

std::string StatusLine(const std::optional<std::string>& r) { return r ? r->substr(0, r->find("\r\n")) : "(none)"; }
std::string Body(const std::optional<std::string>& r) {
  if (!r) return "(none)";
  const auto at = r->find("\r\n\r\n");
  return at == std::string::npos ? "" : r->substr(at + 4);
}

TEST(HttpExchange, EachRequestGetsItsAnswer) {
  const IpAddress node = Ip("203.0.113.2");
  struct Row {
    const char* request;
    bool ended;
    const char* status_line;
    const char* body;
  };
  const Row rows[] = {
      {"GET /vips/198.51.100.10 HTTP/1.1\r\nHost: x\r\n\r\n", false, "HTTP/1.1 200 OK", "up 198.51.100.10 web\n"},
      {"GET /vips/198.51.100.10 HTTP/1.0\n\n", false, "HTTP/1.1 200 OK", "up 198.51.100.10 web\n"},
      {"GET /vips/198.51.100.10?x=1 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 200 OK", "up 198.51.100.10 web\n"},
      {"GET /vips/2001%3Adb8%3A%3A10 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 503 Service Unavailable",
       "down 2001:db8::10 web6: pending: x\n"},
      {"GET /vips/2001:db8::10 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 503 Service Unavailable",
       "down 2001:db8::10 web6: pending: x\n"},
      {"GET /vips/192.0.2.1 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 404 Not Found",
       "down 192.0.2.1: not a VIP of this node\n"},
      {"GET / HTTP/1.1\r\n\r\n", false, "HTTP/1.1 404 Not Found", "down 203.0.113.2: not a VIP of this node\n"},
      {"HEAD /vips/198.51.100.10 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 200 OK", ""},
      {"POST /vips/198.51.100.10 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 405 Method Not Allowed", "only GET and HEAD\n"},
      {"GET /metrics HTTP/1.1\r\n\r\n", false, "HTTP/1.1 404 Not Found", "not found: GET /vips/<address> or /\n"},
      {"GET /vips/%zz HTTP/1.1\r\n\r\n", false, "HTTP/1.1 404 Not Found", "down: not an IP address\n"},
      {"GET /vips/%3 HTTP/1.1\r\n\r\n", false, "HTTP/1.1 404 Not Found", "down: not an IP address\n"},
      {"nonsense\r\n\r\n", false, "HTTP/1.1 400 Bad Request", "bad request\n"},
      {"GET /vips/198.51.100.10 HTTP/1.1\r\n", true, "HTTP/1.1 200 OK", "up 198.51.100.10 web\n"},
      {"GET /vi", true, "HTTP/1.1 400 Bad Request", "bad request\n"},
  };
  for (const Row& r : rows) {
    const auto out = HttpExchange(r.request, r.ended, node, Fake);
    EXPECT_EQ(StatusLine(out), r.status_line) << r.request;
    EXPECT_EQ(Body(out), r.body) << r.request;
  }
  // Incomplete and still open: wait for more. Closed without a byte: nothing to answer.
  EXPECT_FALSE(HttpExchange("GET /vips/198.51.100.10 HTTP/1.1\r\nHost:", false, node, Fake));
  EXPECT_FALSE(HttpExchange("", true, node, Fake));
  // Through the VIP: GET / answers for it.
  EXPECT_EQ(Body(HttpExchange("GET / HTTP/1.1\r\n\r\n", false, Ip("198.51.100.10"), Fake)), "up 198.51.100.10 web\n");
  const auto head = HttpExchange("HEAD / HTTP/1.1\r\n\r\n", false, Ip("198.51.100.10"), Fake);
  ASSERT_TRUE(head);
  EXPECT_NE(head->find("Content-Length: 21\r\n"), std::string::npos) << *head;
}

TEST(AgentCheckExchange, ThroughAVipAtOnceElseTheFirstLineNamesIt) {
  const auto is_vip = [](const IpAddress& ip) { return ip == Ip("198.51.100.10") || ip == Ip("2001:db8::10"); };
  const auto ask = [&](const char* local, const char* received, bool ended) {
    return AgentCheckExchange(received, ended, Ip(local), is_vip, Fake).value_or("(none)");
  };
  EXPECT_EQ(ask("198.51.100.10", "", false), "up ready\n");
  EXPECT_EQ(ask("2001:db8::10", "", false), "down #2001:db8::10 pending: x\n");
  EXPECT_EQ(ask("203.0.113.2", "", false), "(none)");  // waits for agent-send
  EXPECT_EQ(ask("203.0.113.2", "198.51.10", false), "(none)");
  EXPECT_EQ(ask("203.0.113.2", "198.51.100.10\n", false), "up ready\n");
  EXPECT_EQ(ask("203.0.113.2", "198.51.100.10\r\n", false), "up ready\n");
  EXPECT_EQ(ask("203.0.113.2", "198.51.100.10 web\n", false), "up ready\n");
  EXPECT_EQ(ask("203.0.113.2", "198.51.100.10", true), "up ready\n");  // no newline, then closed
  EXPECT_EQ(ask("203.0.113.2", "192.0.2.1\n", false), "down #192.0.2.1 not a VIP of this node\n");
  EXPECT_EQ(ask("203.0.113.2", "web\n", false), "down #not an IP address\n");
  EXPECT_EQ(ask("203.0.113.2", "", true), "down #no VIP named: send one line with the VIP's address\n");
}

TEST(DirectorOptions, DefaultsDisablingAndPortClashes) {
  DirectorOptions o;
  std::string err;
  BindAddress metrics;
  metrics.port = 8470;
  BindAddress probes;
  probes.host = "127.0.0.1";
  probes.port = 8471;
  const std::vector<std::pair<std::string, BindAddress>> taken = {{"--metrics-bind-address", metrics},
                                                                  {"--health-probe-bind-address", probes}};
  ASSERT_TRUE(DirectorOptionsFromFlags(std::nullopt, std::nullopt, taken, std::chrono::seconds(30), o, err)) << err;
  EXPECT_EQ(o.http.ToString(), ":8472");
  EXPECT_EQ(o.agent_check.ToString(), ":8473");
  ASSERT_TRUE(DirectorOptionsFromFlags(std::string(""), std::string("0"), taken, std::chrono::seconds(30), o, err));
  EXPECT_TRUE(o.http.disabled);
  EXPECT_TRUE(o.agent_check.disabled);
  EXPECT_FALSE(DirectorOptionsFromFlags(std::string(":8470"), std::nullopt, taken, std::chrono::seconds(30), o, err));
  EXPECT_EQ(err, "--metrics-bind-address and --director-health-bind-address must use different ports");
  EXPECT_FALSE(DirectorOptionsFromFlags(std::string(":8471"), std::nullopt, taken, std::chrono::seconds(30), o, err));
  EXPECT_FALSE(
      DirectorOptionsFromFlags(std::nullopt, std::string("127.0.0.1:8472"), taken, std::chrono::seconds(30), o, err));
  EXPECT_EQ(err, "--director-health-bind-address and --agent-check-bind-address must use different ports");
  EXPECT_FALSE(DirectorOptionsFromFlags(std::string("8472"), std::nullopt, taken, std::chrono::seconds(30), o, err));
  EXPECT_EQ(err.rfind("--director-health-bind-address ", 0), 0u) << err;
}

}  // namespace
}  // namespace lvsrs
