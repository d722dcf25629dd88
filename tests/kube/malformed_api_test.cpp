// The real agent (`lvs-rs-operator run` in Kubernetes mode, in a network namespace) against a
// stand-in API server that misbehaves on purpose (tests/kube/fake_apiserver.py; its header says
// what it implements and what it does not): truncated JSON in a list, a watch event cut in the
// middle, objects of the wrong kind, HTTP 500 with a Status body and 503 without one, 410 Gone on
// watch, a body that trickles and a watch that stalls past its timeout, garbage lines, and
// watches that end at once. The real kube-apiserver cannot be made to do any of this; everything
// else in tests/kube runs against it.
//
// For each case: the VIP configured from the good responses stays on the node throughout, the
// agent says what went wrong in its log, keeps asking with backoff (a bounded number of requests
// in the window, far from a hot loop, and more than one: it did not give up), stays alive, and
// picks up a change once the server behaves again.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "support/files.h"
#include "support/netns.h"

namespace lvsrs::testing {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr const char* kPrefix = "lvsrs-q";
constexpr int kPort = 16443;

// GET requests of the VirtualIP collection (lists and watches) in the stand-in's request log.
int VipRequests(const std::string& log_text) {
  int n = 0;
  std::istringstream in(log_text);
  for (std::string line; std::getline(in, line);)
    if (line.find(" GET /apis/lvsdr.io/v1alpha1/virtualips?") != std::string::npos) ++n;
  return n;
}

int VipLists(const std::string& log_text) {
  int n = 0;
  std::istringstream in(log_text);
  for (std::string line; std::getline(in, line);)
    if (line.find(" GET /apis/lvsdr.io/v1alpha1/virtualips?limit=") != std::string::npos) ++n;
  return n;
}

struct Case {
  std::string mode;
  std::string log_says;             // what the agent's log must name
  std::chrono::seconds window{10};  // how long the server misbehaves
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.mode; }

class MalformedApi : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lvsrs-fakeapi-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "---- agent log ----\n%s\n", ReadFile(dir_ + "/agent.log").c_str());
      std::fprintf(stderr, "---- stand-in log ----\n%s\n", ReadFile(dir_ + "/server.log").c_str());
    }
    lvsrs::testing::Run("rm -rf " + Quote(dir_));
  }
  std::string dir_;
};

TEST_P(MalformedApi, LoggedRetriedWithBackoffNothingWithdrawn) {
  const Case& c = GetParam();
  TestNetns ns(kPrefix);
  const std::string d = dir_;
  // A self-signed certificate for 127.0.0.1: the client verifies it like the real server's.
  const auto cert = lvsrs::testing::Run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=fake-apiserver -addext subjectAltName=IP:127.0.0.1 -keyout " +
      Quote(d + "/key.pem") + " -out " + Quote(d + "/cert.pem") + " 2>&1");
  ASSERT_EQ(cert.exit_code, 0) << cert.output;
  ReplaceFile(d + "/kubeconfig",
              "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:" +
                  std::to_string(kPort) + "\n    certificate-authority: " + d +
                  "/cert.pem\nusers:\n- name: agent\n  user:\n    token: not-checked\ncontexts:\n- name: fake\n"
                  "  context: {cluster: fake, user: agent}\ncurrent-context: fake\n");
  ReplaceFile(d + "/mode", "good\n");
  const std::string node = "fake-node";
  Process server({"ip", "netns", "exec", ns.name(), "python3", SourceDir() + "/tests/kube/fake_apiserver.py", "--port",
                  std::to_string(kPort), "--cert", d + "/cert.pem", "--key", d + "/key.pem", "--mode-file", d + "/mode",
                  "--log", d + "/server.log", "--node", node},
                 d + "/server.out");
  // It prints its address once it listens.
  ASSERT_TRUE(
      Eventually([&] { return ReadFile(d + "/server.out").find("fake apiserver on") != std::string::npos; }, 20s))
      << ReadFile(d + "/server.out");
  Process agent({"ip",
                 "netns",
                 "exec",
                 ns.name(),
                 OperatorBinary(),
                 "run",
                 "--kubeconfig",
                 d + "/kubeconfig",
                 "--node-name",
                 node,
                 "--state-dir",
                 d + "/state",
                 "--resync-period",
                 "1s",
                 "--watch-timeout",
                 "1s",
                 "--metrics-bind-address",
                 "0",
                 "--health-probe-bind-address",
                 "0"},
                d + "/agent.log");
  ASSERT_TRUE(Eventually([&] { return Has(ns.Addresses("lo"), "192.0.2.80/32"); }, 30s)) << ReadFile(d + "/agent.log");
  ASSERT_EQ(ns.Sysctl("net.ipv4.conf.all.arp_ignore"), 1);

  // Misbehave for the window; the VIP must stay throughout.
  const std::size_t agent_before = ReadFile(d + "/agent.log").size();
  const std::size_t server_before = ReadFile(d + "/server.log").size();
  ReplaceFile(d + "/mode", c.mode + "\n");
  const auto until = std::chrono::steady_clock::now() + c.window;
  while (std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(Has(ns.Addresses("lo"), "192.0.2.80/32")) << "VIP withdrawn on " << c.mode;
    std::this_thread::sleep_for(200ms);
  }
  const std::string during = ReadFile(d + "/server.log").substr(server_before);
  const std::string said = ReadFile(d + "/agent.log").substr(agent_before);
  EXPECT_EQ(agent.Wait(0ms), -1) << "the agent exited";
  EXPECT_NE(said.find(c.log_says), std::string::npos) << "the log does not say \"" << c.log_says << "\":\n" << said;
  EXPECT_EQ(said.find("reconciled:"), std::string::npos) << "the kernel was changed:\n" << said;
  const int requests = VipRequests(during);
  std::printf("%s: %d VirtualIP requests in %lld s\n", c.mode.c_str(), requests,
              static_cast<long long>(c.window.count()));
  std::printf("agent log while the server misbehaved:\n%s\n", said.substr(0, 3000).c_str());
  EXPECT_GE(requests, 2) << "the agent stopped asking";
  // Backoff from 0.5 s doubling to 15 s: about 6 attempts of at most 2 requests (list + watch)
  // in 10 s, plus the watch open when the server turned. A hot loop makes thousands.
  EXPECT_LE(requests, 3 * static_cast<int>(c.window.count())) << during;
  // 410 means the version is history: the agent must list again, not resume the watch.
  if (c.mode == "gone") {
    EXPECT_GE(VipLists(during), 2) << during;
  }
  // The mistyped objects were read: the Lease (every period) and the VirtualIPs.
  if (c.mode == "mistyped") {
    EXPECT_NE(during.find(" GET /apis/coordination.k8s.io/v1/namespaces/lvs-rs-operator/leases/"), std::string::npos)
        << during;
  }
  EXPECT_TRUE(Has(ns.Addresses("lo"), "192.0.2.80/32"));
  EXPECT_EQ(ns.Sysctl("net.ipv4.conf.all.arp_ignore"), 1);

  // Healthy again, with a second address: the agent picks it up (not stuck, not gone).
  ReplaceFile(d + "/mode", "good2\n");
  EXPECT_TRUE(Eventually([&] { return Has(ns.Addresses("lo"), "192.0.2.81/32"); }, 60s))
      << ReadFile(d + "/agent.log").substr(agent_before);
  EXPECT_TRUE(Has(ns.Addresses("lo"), "192.0.2.80/32"));
  EXPECT_EQ(agent.Wait(0ms), -1) << "the agent exited";
}

// TLS trusts the cluster's CA bundle only: a server whose certificate the system store (here
// $SSL_CERT_FILE, which OpenSSL's default paths honour) would accept, but the kubeconfig's CA did
// not sign, is refused. cpprestsdk loads the default paths into every TLS context by itself.
TEST(TrustStore, OnlyTheClustersCaIsTrustedNotTheSystemStore) {
  char tmpl[] = "/tmp/lvsrs-trust-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string d = tmpl;
  TestNetns ns(kPrefix);
  const auto certs = lvsrs::testing::Run(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=fake-apiserver -addext subjectAltName=IP:127.0.0.1 -keyout " +
      Quote(d + "/key.pem") + " -out " + Quote(d + "/cert.pem") +
      " 2>&1 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
      "-subj /CN=cluster-ca -keyout " +
      Quote(d + "/other-key.pem") + " -out " + Quote(d + "/cluster-ca.pem") + " 2>&1");
  ASSERT_EQ(certs.exit_code, 0) << certs.output;
  ReplaceFile(d + "/kubeconfig",
              "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: https://127.0.0.1:" +
                  std::to_string(kPort) + "\n    certificate-authority: " + d +
                  "/cluster-ca.pem\nusers:\n- name: agent\n  user:\n    token: not-checked\ncontexts:\n"
                  "- name: fake\n  context: {cluster: fake, user: agent}\ncurrent-context: fake\n");
  ReplaceFile(d + "/mode", "good\n");
  Process server({"ip", "netns", "exec", ns.name(), "python3", SourceDir() + "/tests/kube/fake_apiserver.py", "--port",
                  std::to_string(kPort), "--cert", d + "/cert.pem", "--key", d + "/key.pem", "--mode-file", d + "/mode",
                  "--log", d + "/server.log", "--node", "fake-node"},
                 d + "/server.out");
  ASSERT_TRUE(
      Eventually([&] { return ReadFile(d + "/server.out").find("fake apiserver on") != std::string::npos; }, 20s));
  Process agent({"ip",
                 "netns",
                 "exec",
                 ns.name(),
                 "env",
                 "SSL_CERT_FILE=" + d + "/cert.pem",
                 OperatorBinary(),
                 "run",
                 "--kubeconfig",
                 d + "/kubeconfig",
                 "--node-name",
                 "fake-node",
                 "--state-dir",
                 d + "/state",
                 "--watch-timeout",
                 "1s",
                 "--metrics-bind-address",
                 "0",
                 "--health-probe-bind-address",
                 "0"},
                d + "/agent.log");
  EXPECT_TRUE(
      Eventually([&] { return ReadFile(d + "/agent.log").find("Error in SSL handshake") != std::string::npos; }, 30s))
      << ReadFile(d + "/agent.log");
  EXPECT_EQ(ReadFile(d + "/server.log").find(" GET "), std::string::npos) << "a request got through TLS";
  EXPECT_FALSE(Has(ns.Addresses("lo"), "192.0.2.80/32"));
  EXPECT_EQ(agent.Wait(0ms), -1) << "the agent exited";
  agent.Signal(SIGTERM);
  agent.Wait(10s);
  lvsrs::testing::Run("rm -rf " + Quote(d));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedApi,
    ::testing::Values(
        Case{"truncated_list", "not valid JSON"}, Case{"cut_event", "the connection broke in the middle of an event"},
        Case{"wrong_kind", "where a lvsdr.io/v1alpha1 VirtualIPList was expected"},
        Case{"http_500_status", "HTTP 500: etcdserver: request timed out"}, Case{"http_503_plain", "HTTP 503"},
        Case{"gone", "HTTP 410 Gone; re-listing"}, Case{"garbage", "malformed watch event (not a JSON object)"},
        Case{"empty_watch", "very short watch"},
        // The client ends a stalled watch after its own timeout (timeoutSeconds x 1.5
        // + 31 s for --watch-timeout 1s): the window must outlast it.
        Case{"stall", "the stream stalled past the client timeout", std::chrono::seconds(45)},
        // Bodies no agent should buffer: refused from the header, or cut off at the cap.
        // Streaming 64 MiB from the Python stand-in takes seconds on a busy machine.
        Case{"huge_list", "with a body larger than 64 MiB; not read further"},
        Case{"endless_list", "with a body larger than 64 MiB; not read further", std::chrono::seconds(25)},
        // Fields of the wrong type in the Node, the VirtualIP's metadata and status, the
        // Lease and the RealServers: each read as absent, nothing to log, no crash. The
        // window outlasts the summariser's 10 s Lease period.
        Case{"mistyped", "", std::chrono::seconds(15)}),
    [](const ::testing::TestParamInfo<Case>& param) { return param.param.mode; });

}  // namespace
}  // namespace lvsrs::testing
