// The director-facing health signal end to end: the real binary in a namespace of the test's own
// (the real server), checked from a second namespace (the director) over a veth, the way
// keepalived's HTTP_GET, ldirectord and HAProxy's agent-check do it; a third namespace (a pod on
// the node, or anyone on the network) holds hundreds of idle connections. Clients are curl,
// python3 and the real HAProxy.
//
//   director ns  d0 203.0.113.1 ---- r0 203.0.113.2  real server ns  r1 192.0.2.2 ---- p0 192.0.2.1  pod ns
//                route 198.51.100.10 via 203.0.113.2 (the DR path: to the VIP through the real server)
#include <filesystem>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "support/files.h"
#include "support/netns.h"

namespace lvsrs::testing {
namespace {

using std::chrono::seconds;

constexpr const char* kVips = R"(apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["198.51.100.10"]
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: onnic
spec:
  addresses: ["198.51.100.20"]
  interface: r0
)";

constexpr const char* kOnlyOnNic = R"(apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: onnic
spec:
  addresses: ["198.51.100.20"]
  interface: r0
)";

std::string Client() { return SourceDir() + "/tests/director/director_client.py"; }

struct Http {
  std::string status;  // "000" when nothing answered
  std::string body;
};

struct DirectorLab {
  TempDir dir{"lvsrs-dh"};
  TestNetns rs{"lvsrs-dh"};
  TestNetns director{"lvsrs-dd"};
  TestNetns pod{"lvsrs-dp"};
  std::unique_ptr<Process> op;

  // wrap: what the operator runs under (prlimit), before the binary.
  explicit DirectorLab(const std::vector<std::string>& wrap = {}) {
    Must(rs.Exec("ip link add r0 type veth peer name d0 netns " + director.name() +
                 " && ip link add r1 type veth peer "
                 "name p0 netns " +
                 pod.name() +
                 " && ip link set r0 up && ip link set r1 up && "
                 "ip addr add 203.0.113.2/24 dev r0 && ip addr add 192.0.2.2/24 dev r1"));
    Must(
        director.Exec("ip link set d0 up && ip addr add 203.0.113.1/24 dev d0 && "
                      "ip route add 198.51.100.10/32 via 203.0.113.2"));
    Must(pod.Exec("ip link set p0 up && ip addr add 192.0.2.1/24 dev p0"));
    ReplaceFile(dir / "vips.yaml", kVips);
    // The listeners as the DaemonSet sets them: probes on loopback, director ports on every address.
    std::vector<std::string> argv{"ip", "netns", "exec", rs.name()};
    argv.insert(argv.end(), wrap.begin(), wrap.end());
    for (const std::string& a :
         {OperatorBinary(), std::string("run"), std::string("--file"), dir / "vips.yaml", std::string("--node-name"),
          std::string("rs1"), std::string("--state-dir"), dir / "state", std::string("--resync-period"),
          std::string("300ms"), std::string("--metrics-bind-address"), std::string("0"),
          std::string("--health-probe-bind-address"), std::string("127.0.0.1:8471")})
      argv.push_back(a);
    op = std::make_unique<Process>(argv, dir / "operator.log");
  }
  static void Must(const CommandResult& r) {
    if (r.exit_code != 0) throw std::runtime_error("setup: " + r.output);
  }
  std::string Log() const { return ReadFile(dir / "operator.log"); }

  static Http Get(const TestNetns& from, const std::string& url) {
    const auto r = from.Exec("curl -s --max-time 5 -w '\\n%{http_code}' " + Quote(url));
    const auto nl = r.output.rfind('\n');
    if (nl == std::string::npos) return {r.output, ""};
    return {r.output.substr(nl + 1), r.output.substr(0, nl)};
  }
  Http Check(const std::string& vip) const { return Get(director, "http://203.0.113.2:8472/vips/" + vip); }
  // An agent-check as HAProxy makes it; line: its agent-send, "" for none.
  static std::string Agent(const TestNetns& from, const std::string& host, const std::string& line) {
    return from.Exec("python3 " + Quote(Client()) + " agent " + host + " 8473" + (line.empty() ? "" : " " + line))
        .output;
  }
};

// keepalived HTTP_GET / ldirectord: 200 for a VIP in place and conformant, 503 with the reason for
// a refused and for an exposed one, 404 for an address that is no VIP here; GET / through the VIP
// itself, which fails once the VIP is gone.
TEST(DirectorHealth, HttpAnswersPerVipAndThroughTheVipItself) {
  DirectorLab t;
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();
  EXPECT_EQ(t.Check("198.51.100.10").body, "up 198.51.100.10 web\n");

  const Http refused = t.Check("198.51.100.20");
  EXPECT_EQ(refused.status, "503");
  EXPECT_EQ(refused.body.rfind("down 198.51.100.20 onnic: refused: ", 0), 0u) << refused.body;
  EXPECT_NE(refused.body.find("would be answered on r0"), std::string::npos) << refused.body;

  for (const char* other : {"203.0.113.2", "192.0.2.99"}) {
    const Http h = t.Check(other);
    EXPECT_EQ(h.status, "404") << other;
    EXPECT_EQ(h.body, std::string("down ") + other + ": not a VIP of this node\n");
  }
  const Http nonsense = t.Check("not-an-address");
  EXPECT_EQ(nonsense.status, "404");

  // Through the VIP, as a check travelling the DR path: the connection's local address is the VIP.
  const Http via_vip = DirectorLab::Get(t.director, "http://198.51.100.10:8472/");
  EXPECT_EQ(via_vip.status, "200");
  EXPECT_EQ(via_vip.body, "up 198.51.100.10 web\n");
  EXPECT_EQ(DirectorLab::Get(t.director, "http://203.0.113.2:8472/").status, "404");

  // Exposed: an admin's arp_ignore 3 on r0 with route_localnet=1 (kube-proxy sets it) makes the
  // node answer ARP for the VIP on lo. The director is told, and the wire shows why.
  t.rs.SetSysctl("net.ipv4.conf.r0.arp_ignore", 3);
  t.rs.SetSysctl("net.ipv4.conf.all.route_localnet", 1);
  ASSERT_TRUE(Within(seconds(10), [&] { return t.Check("198.51.100.10").status == "503"; })) << t.Log();
  const Http exposed = t.Check("198.51.100.10");
  EXPECT_EQ(exposed.body.rfind("down 198.51.100.10 web: exposed: 198.51.100.10 answered on r0", 0), 0u) << exposed.body;
  EXPECT_EQ(t.director.Exec("arping -c 1 -w 2 -I d0 198.51.100.10").exit_code, 0) << "the model says answered";
  EXPECT_EQ(DirectorLab::Get(t.director, "http://198.51.100.10:8472/").status, "503");
  t.rs.SetSysctl("net.ipv4.conf.all.route_localnet", 0);
  EXPECT_TRUE(Within(seconds(10), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();

  // The VirtualIP deleted: the VIP leaves the node, a check through it gets no answer at all, and
  // the node's own address says it is no VIP here.
  ReplaceFile(t.dir / "vips.yaml", kOnlyOnNic);
  ASSERT_TRUE(Within(seconds(10), [&] { return t.Check("198.51.100.10").status == "404"; })) << t.Log();
  EXPECT_EQ(DirectorLab::Get(t.director, "http://198.51.100.10:8472/").status, "000");
}

// HAProxy's agent-check protocol: through the VIP the answer comes at once; on the node's address
// the agent-send line names the VIP.
TEST(DirectorHealth, AgentCheckThroughTheVipAndByAgentSend) {
  DirectorLab t;
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();
  EXPECT_EQ(DirectorLab::Agent(t.director, "198.51.100.10", ""), "up ready\n");
  EXPECT_EQ(DirectorLab::Agent(t.director, "203.0.113.2", "198.51.100.10"), "up ready\n");
  const std::string refused = DirectorLab::Agent(t.director, "203.0.113.2", "198.51.100.20");
  EXPECT_EQ(refused.rfind("down #198.51.100.20 refused: ", 0), 0u) << refused;
  EXPECT_EQ(refused.find('\n'), refused.size() - 1) << "one line";
  EXPECT_EQ(DirectorLab::Agent(t.director, "203.0.113.2", "192.0.2.99"), "down #192.0.2.99 not a VIP of this node\n");
  // Nothing named within the second the agent waits: down, not a hang.
  EXPECT_EQ(DirectorLab::Agent(t.director, "203.0.113.2", ""),
            "down #no VIP named: send one line with the VIP's address\n");
}

// Something on the node's network (a pod, or anyone) opens 500 idle connections to each director
// port and keeps them. The kubelet's probes (loopback, out of its reach) and a fresh director
// check still get their answers; the listeners shed the idle connections (bounded per peer).
TEST(DirectorHealth, IdleConnectionsStarveNeitherTheProbesNorAFreshCheck) {
  DirectorLab t;
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();
  Process hold_http({"ip", "netns", "exec", t.pod.name(), "python3", Client(), "hold", "192.0.2.2", "8472", "500",
                     t.dir / "held-8472"},
                    t.dir / "hold-8472.log");
  Process hold_agent({"ip", "netns", "exec", t.pod.name(), "python3", Client(), "hold", "192.0.2.2", "8473", "500",
                      t.dir / "held-8473"},
                     t.dir / "hold-8473.log");
  ASSERT_TRUE(Within(seconds(30),
                     [&] { return ReadFile(t.dir / "held-8472") == "500" && ReadFile(t.dir / "held-8473") == "500"; }))
      << ReadFile(t.dir / "hold-8472.log") << ReadFile(t.dir / "hold-8473.log");

  // The probes listen on loopback only: the pod cannot even connect to them.
  EXPECT_EQ(DirectorLab::Get(t.pod, "http://192.0.2.2:8471/healthz").status, "000");
  EXPECT_EQ(DirectorLab::Get(t.rs, "http://127.0.0.1:8471/healthz").status, "200");
  EXPECT_EQ(DirectorLab::Get(t.rs, "http://127.0.0.1:8471/readyz").status, "200");
  // While all 1000 connections are held: a fresh check from the director, both protocols.
  const Http fresh = t.Check("198.51.100.10");
  EXPECT_EQ(fresh.status, "200") << fresh.body << t.Log();
  EXPECT_EQ(DirectorLab::Get(t.director, "http://198.51.100.10:8472/").status, "200");
  EXPECT_EQ(DirectorLab::Agent(t.director, "203.0.113.2", "198.51.100.10"), "up ready\n");
  EXPECT_EQ(DirectorLab::Agent(t.director, "198.51.100.10", ""), "up ready\n");
  // Even the pod's own fresh check is answered: its oldest idle connections make room.
  EXPECT_EQ(DirectorLab::Get(t.pod, "http://192.0.2.2:8472/vips/198.51.100.10").status, "200");
  // The agent keeps at most its bound of them: far fewer descriptors than connections held.
  const auto fds = t.rs.Exec("ls /proc/" + std::to_string(t.op->pid()) + "/fd | wc -l");
  EXPECT_LT(std::stoi(fds.output), 200) << "descriptors of the agent";
}

// The same with the agent out of descriptors (56, 19 of them its own since /metrics and the probes
// are BoundedTcpServers too: a listening socket and an eventfd each, and the state dir's inotify):
// the listeners close their oldest connections to accept new ones instead of leaving checks in the
// kernel's queue. The limit leaves more than one listener's per-peer bound (32) free: below that,
// one listener can take every free descriptor while the other holds none of its own to close, and
// its checks wait (not handled yet: a reserved descriptor per listener would be the fix).
TEST(DirectorHealth, OutOfDescriptorsAFreshCheckIsStillAnswered) {
  DirectorLab t({"prlimit", "--nofile=56:56"});
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();
  Process hold_http({"ip", "netns", "exec", t.pod.name(), "python3", Client(), "hold", "192.0.2.2", "8472", "100",
                     t.dir / "held-8472"},
                    t.dir / "hold-8472.log");
  Process hold_agent({"ip", "netns", "exec", t.pod.name(), "python3", Client(), "hold", "192.0.2.2", "8473", "100",
                      t.dir / "held-8473"},
                     t.dir / "hold-8473.log");
  ASSERT_TRUE(Within(seconds(30),
                     [&] { return ReadFile(t.dir / "held-8472") == "100" && ReadFile(t.dir / "held-8473") == "100"; }))
      << ReadFile(t.dir / "hold-8472.log") << ReadFile(t.dir / "hold-8473.log");
  EXPECT_EQ(t.Check("198.51.100.10").status, "200") << t.Log();
  EXPECT_EQ(DirectorLab::Agent(t.director, "203.0.113.2", "198.51.100.10"), "up ready\n");
  EXPECT_EQ(DirectorLab::Get(t.rs, "http://127.0.0.1:8471/healthz").status, "200");
  EXPECT_NE(t.Log().find("Too many open files; closing the oldest connections"), std::string::npos)
      << "the limit was not reached, so this proved nothing:\n"
      << t.Log();
}

// The real HAProxy (Debian's haproxy) reads the agent-check: the server of the conformant VIP is
// UP, the one of the refused VIP DOWN, in its own stats.
TEST(DirectorHealth, RealHaproxyReadsTheAgentCheck) {
  if (lvsrs::testing::Run("command -v haproxy").exit_code != 0)
    GTEST_SKIP() << "haproxy not installed (scripts/deps/lab.txt)";
  DirectorLab t;
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Check("198.51.100.10").status == "200"; })) << t.Log();
  // The regular check (TCP to the director health port) only keeps "no check" out of the status;
  // the agent decides UP or DOWN.
  const std::string check = " check addr 203.0.113.2 port 8472 inter 300ms";
  ReplaceFile(t.dir / "haproxy.cfg", "global\n  stats socket " + (t.dir / "haproxy.sock") +
                                         " level admin\n"
                                         "defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 5s\n"
                                         "  timeout server 5s\n"
                                         "backend vips\n"
                                         "  server web 198.51.100.10:80 agent-check agent-addr 203.0.113.2 "
                                         "agent-port 8473 agent-send \"198.51.100.10\\n\" agent-inter 300ms" +
                                         check +
                                         "\n"
                                         "  server onnic 198.51.100.20:80 agent-check agent-addr 203.0.113.2 "
                                         "agent-port 8473 agent-send \"198.51.100.20\\n\" agent-inter 300ms" +
                                         check +
                                         "\n"
                                         // No agent-send: the agent is asked through the VIP itself,
                                         // and the regular check travels the DR path too (HAProxy
                                         // ignores an agent it cannot reach: the regular check
                                         // must fail then).
                                         "  server viavip 198.51.100.10:80 agent-check agent-port 8473 "
                                         "agent-inter 300ms check port 8472 inter 300ms\n");
  Process haproxy({"ip", "netns", "exec", t.director.name(), "haproxy", "-f", t.dir / "haproxy.cfg", "-db"},
                  t.dir / "haproxy.log");
  const auto stat = [&] {
    return t.director.Exec("python3 " + Quote(Client()) + " stat " + Quote(t.dir / "haproxy.sock")).output;
  };
  EXPECT_TRUE(Within(seconds(20),
                     [&] {
                       const std::string s = stat();
                       return s.find("web UP\n") != std::string::npos &&
                              s.find("onnic DOWN (agent)\n") != std::string::npos &&
                              s.find("viavip UP\n") != std::string::npos;
                     }))
      << stat() << ReadFile(t.dir / "haproxy.log");

  // The VIP withdrawn (VirtualIP deleted): HAProxy takes its servers down.
  ReplaceFile(t.dir / "vips.yaml", kOnlyOnNic);
  EXPECT_TRUE(Within(seconds(20),
                     [&] {
                       const std::string s = stat();
                       return s.find("web DOWN (agent)\n") != std::string::npos &&
                              s.find("viavip DOWN") != std::string::npos;
                     }))
      << stat() << ReadFile(t.dir / "haproxy.log");
}

}  // namespace
}  // namespace lvsrs::testing
