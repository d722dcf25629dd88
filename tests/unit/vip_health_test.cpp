#include "reconcile/vip_health.h"

#include <gtest/gtest.h>

#include "observed_builder.h"

namespace lvsrs {
namespace {

using testing::Ip;
using testing::MakeVip;

const NodeInfo kNode{"rs1", {}};

// One row: a status as a pass judged it, the drains, and what a director reading one address gets.
struct Row {
  const char* name;
  std::vector<VipAddressStatus> vips;
  std::vector<Problem> problems;
  std::vector<DrainView> drains;
  const char* address;
  Serving serving;
  int http_status;
  const char* body;        // the whole HTTP body
  const char* agent_line;  // the whole agent-check reply
};

const std::vector<VirtualIp> kVips = {MakeVip("web", {"192.0.2.10"}), MakeVip("bad", {"192.0.2.20", "192.0.2.21"}),
                                      MakeVip("also-web", {"192.0.2.10"})};
// 2026-12-02T12:00:00Z
constexpr std::int64_t kDeadline = 1796212800000;

const Row kRows[] = {
    {"configured",
     {{"web", "192.0.2.10", "lo", VipState::Configured, "configured"}},
     {},
     {},
     "192.0.2.10",
     Serving::Up,
     200,
     "up 192.0.2.10 web\n",
     "up ready\n"},
    {"adopted",
     {{"web", "192.0.2.10", "lo", VipState::Adopted, "adopted"}},
     {},
     {},
     "192.0.2.10",
     Serving::Up,
     200,
     "up 192.0.2.10 web\n",
     "up ready\n"},
    {"two VirtualIPs, one address",
     {{"also-web", "192.0.2.10", "lo", VipState::Configured, ""},
      {"web", "192.0.2.10", "lo", VipState::Configured, ""}},
     {},
     {},
     "192.0.2.10",
     Serving::Up,
     200,
     "up 192.0.2.10 also-web,web\n",
     "up ready\n"},
    {"pending",
     {{"web", "192.0.2.10", "eth9", VipState::Pending, "interface eth9 does not exist"}},
     {},
     {},
     "192.0.2.10",
     Serving::Down,
     503,
     "down 192.0.2.10 web: pending: interface eth9 does not exist\n",
     "down #192.0.2.10 pending: interface eth9 does not exist\n"},
    {"failed",
     {{"web", "192.0.2.10", "lo", VipState::Failed, "add: Permission denied"}},
     {},
     {},
     "192.0.2.10",
     Serving::Down,
     503,
     "down 192.0.2.10 web: failed: add: Permission denied\n",
     "down #192.0.2.10 failed: add: Permission denied\n"},
    {"exposed through ARP",
     {{"web", "192.0.2.10", "eth0", VipState::Configured, "configured"}},
     {{Problem::Kind::ArpExposed, "192.0.2.10", "192.0.2.10 answered on eth0: arp_ignore 0"}},
     {},
     "192.0.2.10",
     Serving::Down,
     503,
     "down 192.0.2.10 web: exposed: 192.0.2.10 answered on eth0: arp_ignore 0\n",
     "down #192.0.2.10 exposed: 192.0.2.10 answered on eth0: arp_ignore 0\n"},
    {"chosen as source",
     {{"web", "192.0.2.10", "lo", VipState::Configured, "configured"}},
     {{Problem::Kind::VipIsSource, "192.0.2.10", "192.0.2.10 is the source towards 198.51.100.1"}},
     {},
     "192.0.2.10",
     Serving::Down,
     503,
     "down 192.0.2.10 web: source: 192.0.2.10 is the source towards 198.51.100.1\n",
     "down #192.0.2.10 source: 192.0.2.10 is the source towards 198.51.100.1\n"},
    {"a node-wide problem is no problem of the VIP",
     {{"web", "192.0.2.10", "lo", VipState::Configured, "configured"}},
     {{Problem::Kind::SysctlDiffers, "net.ipv4.conf.all.arp_ignore", "net.ipv4.conf.all.arp_ignore is 0, want 1"},
      {Problem::Kind::NodeUnreachable, "203.0.113.5", "203.0.113.5 on eth0 ..."}},
     {},
     "192.0.2.10",
     Serving::Up,
     200,
     "up 192.0.2.10 web\n",
     "up ready\n"},
    {"refused VirtualIP: each of its addresses",
     {{"bad", "", "", VipState::Refused, "192.0.2.21 is the node's own address"}},
     {},
     {},
     "192.0.2.21",
     Serving::Down,
     503,
     "down 192.0.2.21 bad: refused: 192.0.2.21 is the node's own address\n",
     "down #192.0.2.21 refused: 192.0.2.21 is the node's own address\n"},
    {"refused VirtualIP whose address another VirtualIP serves",
     {{"web", "192.0.2.10", "lo", VipState::Configured, ""}, {"also-web", "", "", VipState::Refused, "arp"}},
     {},
     {},
     "192.0.2.10",
     Serving::Up,
     200,
     "up 192.0.2.10 web\n",
     "up ready\n"},
    {"not a VIP of this node",
     {{"web", "192.0.2.10", "lo", VipState::Configured, ""}},
     {},
     {},
     "192.0.2.99",
     Serving::Down,
     404,
     "down 192.0.2.99: not a VIP of this node\n",
     "down #192.0.2.99 not a VIP of this node\n"},
    {"an address of a VirtualIP that does not select this node",
     {},
     {},
     {},
     "192.0.2.20",
     Serving::Down,
     404,
     "down 192.0.2.20: not a VIP of this node\n",
     "down #192.0.2.20 not a VIP of this node\n"},
    {"draining wins over everything",
     {{"web", "192.0.2.10", "lo", VipState::Configured, ""}},
     {{Problem::Kind::ArpExposed, "192.0.2.10", "192.0.2.10 answered on eth0"}},
     {{Ip("192.0.2.10"), "web", 3, kDeadline}},
     "192.0.2.10",
     Serving::Drain,
     503,
     "drain 192.0.2.10 web: draining: 3 connections, until 2026-12-02T12:00:00Z\n",
     "drain #192.0.2.10 draining: 3 connections, until 2026-12-02T12:00:00Z\n"},
    {"draining a VIP no longer wanted",
     {},
     {},
     {{Ip("192.0.2.10"), "web", 1, kDeadline}},
     "192.0.2.10",
     Serving::Drain,
     503,
     "drain 192.0.2.10 web: draining: 1 connection, until 2026-12-02T12:00:00Z\n",
     "drain #192.0.2.10 draining: 1 connection, until 2026-12-02T12:00:00Z\n"},
    {"a reason is one line",
     {{"web", "192.0.2.10", "eth9", VipState::Pending, "one\ntwo\r"}},
     {},
     {},
     "192.0.2.10",
     Serving::Down,
     503,
     "down 192.0.2.10 web: pending: one two \n",
     "down #192.0.2.10 pending: one two \n"},
    {"IPv6",
     {{"web6", "2001:db8::10", "lo", VipState::Configured, ""}},
     {},
     {},
     "2001:db8::10",
     Serving::Up,
     200,
     "up 2001:db8::10 web6\n",
     "up ready\n"},
};

TEST(VipHealth, EachStatusGivesTheDirectorTheAnswerItActsOn) {
  for (const Row& r : kRows) {
    NodeStatus st;
    st.vips = r.vips;
    st.problems = r.problems;
    const auto table = JudgeVipHealth(st, kVips, r.drains);
    const DirectorAnswer a = AnswerFor(&table, Ip(r.address));
    EXPECT_EQ(a.serving, r.serving) << r.name;
    EXPECT_EQ(a.http_status, r.http_status) << r.name;
    EXPECT_EQ(a.http_body, r.body) << r.name;
    EXPECT_EQ(a.agent_line, r.agent_line) << r.name;
  }
}

TEST(VipHealth, DrainCarriesItsCountAndDeadline) {
  const auto table = JudgeVipHealth({}, {}, {{Ip("192.0.2.10"), "web", 7, kDeadline}});
  ASSERT_EQ(table.size(), 1u);
  const VipHealth& h = table.at(Ip("192.0.2.10"));
  EXPECT_EQ(h.serving, Serving::Drain);
  EXPECT_EQ(h.connections, 7u);
  EXPECT_EQ(h.drain_deadline_unix_ms, kDeadline);
}

TEST(VipHealth, BeforeTheFirstPassAndWhileTheLoopIsStalledNothingIsUp) {
  const DirectorAnswer before = AnswerFor(nullptr, Ip("192.0.2.10"));
  EXPECT_EQ(before.http_status, 503);
  EXPECT_EQ(before.http_body, "down 192.0.2.10: not ready: no reconcile pass yet\n");
  NodeStatus st;
  st.vips = {{"web", "192.0.2.10", "lo", VipState::Configured, ""}};
  const auto table = JudgeVipHealth(st, kVips, {});
  const DirectorAnswer stalled = AnswerFor(&table, Ip("192.0.2.10"), "reconcile loop last turned 40s ago");
  EXPECT_EQ(stalled.serving, Serving::Down);
  EXPECT_EQ(stalled.http_status, 503);
  EXPECT_EQ(stalled.agent_line, "down #192.0.2.10 reconcile loop last turned 40s ago\n");
}

TEST(VipHealth, APassThatCouldNotReadTheKernelTakesEveryKnownVipDown) {
  NodeStatus st;
  st.vips = {{"web", "192.0.2.10", "lo", VipState::Configured, ""}};
  const auto last = JudgeVipHealth(st, kVips, {});
  const auto t = Unjudged(last, "netlink dump: No buffer space available");
  const DirectorAnswer a = AnswerFor(&t, Ip("192.0.2.10"));
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(a.http_body, "down 192.0.2.10 web: not judged: netlink dump: No buffer space available\n");
}

// The same judgement from a real evaluation: converged is up; kube-proxy's route_localnet=1 with
// arp_ignore 3 on eth0 exposes the VIP, and the director is told so.
TEST(VipHealth, FromTheNodeStatusOfAPass) {
  const std::vector<VirtualIp> vips = {MakeVip("web", {"192.0.2.10"})};
  auto o = testing::Converged(vips, kNode);
  auto health = [&] { return JudgeVipHealth(EvaluateStatus(BuildDesiredState(vips, kNode, o), o), vips, {}); };
  auto t = health();
  EXPECT_EQ(AnswerFor(&t, Ip("192.0.2.10")).http_status, 200);
  o.sysctls[SysctlKey{"eth0", ArpKey::Ignore}] = 3;
  o.sysctls[SysctlKey{"all", ArpKey::RouteLocalnet}] = 1;
  t = health();
  const auto a = AnswerFor(&t, Ip("192.0.2.10"));
  EXPECT_EQ(a.http_status, 503);
  EXPECT_NE(a.http_body.find("exposed: 192.0.2.10 answered on eth0"), std::string::npos) << a.http_body;
}

}  // namespace
}  // namespace lvsrs
