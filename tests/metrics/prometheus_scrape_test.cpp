// End to end with the real tools: the operator converges a network namespace of the test's own
// in `run --file` mode; its /metrics passes `promtool check metrics`; a real Prometheus, started
// in the same namespace (nothing is added to the host's), scrapes it, loads the shipped alert
// rules, and answers PromQL about conformance and drift repairs. Every listener lives inside the
// test's namespace, so fixed ports cannot collide with anything on the machine.
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "exposition.h"
#include "support/files.h"
#include "support/netns.h"

namespace lvsrs::testing {
namespace {

using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kMetrics = "127.0.0.1:8470";
constexpr const char* kHealth = "127.0.0.1:8471";
constexpr const char* kPrometheus = "127.0.0.1:9090";

constexpr const char* kTwoVirtualIps = R"(apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["192.0.2.10", "2001:db8::10"]
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: db
spec:
  addresses: ["198.51.100.7"]
)";

constexpr const char* kOnlyWeb = R"(apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["192.0.2.10", "2001:db8::10"]
)";

// A netns with two ARP-capable interfaces (a veth pair, both ends inside) and the operator
// running in it with both listeners on loopback.
struct OperatorInNetns {
  TempDir dir{"lvsrs-m"};
  TestNetns ns{"lvsrs-m"};
  std::unique_ptr<Process> op;

  OperatorInNetns() {
    const auto r = ns.Exec("ip link add m0 type veth peer name m1 && ip link set m0 up && ip link set m1 up");
    if (r.exit_code != 0) throw std::runtime_error("veth: " + r.output);
    ReplaceFile(dir / "vips.yaml", kTwoVirtualIps);
    op = std::make_unique<Process>(
        std::vector<std::string>{"ip", "netns", "exec", ns.name(), OperatorBinary(), "run", "--file", dir / "vips.yaml",
                                 "--node-name", "node-m", "--state-dir", dir / "state", "--resync-period", "300ms",
                                 "--metrics-bind-address", kMetrics, "--health-probe-bind-address", kHealth},
        dir / "operator.log");
  }
  std::string Log() const { return ReadFile(dir / "operator.log"); }
  // HTTP status of a GET inside the namespace (000 when nothing answers).
  std::string Status(const std::string& url) const {
    return ns.Exec("curl -s -o /dev/null -w '%{http_code}' --max-time 5 " + url).output;
  }
  std::string Scrape() const {
    return ns.Exec(std::string("curl -sf --max-time 5 http://") + kMetrics + "/metrics").output;
  }
};

TEST(MetricsEndpoint, LiveScrapePassesPromtoolAndFollowsTheNode) {
  OperatorInNetns t;
  ASSERT_TRUE(Within(seconds(20), [&] { return t.Status(std::string("http://") + kHealth + "/readyz") == "200"; }))
      << "never ready:\n"
      << t.Log();
  EXPECT_EQ(t.Status(std::string("http://") + kHealth + "/healthz"), "200");

  // promtool lints the exposition (names, types, help, units): no warnings at all.
  const auto lint =
      t.ns.Exec(std::string("curl -sf --max-time 5 http://") + kMetrics + "/metrics | promtool check metrics");
  EXPECT_EQ(lint.exit_code, 0) << lint.output;
  EXPECT_EQ(lint.output, "") << "promtool check metrics warned";

  std::map<std::string, double> s;
  ASSERT_TRUE(Within(seconds(10),
                     [&] {
                       s = Samples(t.Scrape());
                       return s.count("lvs_rs_node_conformant") && s["lvs_rs_node_conformant"] == 1;
                     }))
      << t.Scrape() << t.Log();
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"192.0.2.10\",virtualip=\"web\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"2001:db8::10\",virtualip=\"web\"}"), 1);
  EXPECT_EQ(s.at("lvs_rs_vip_conformant{address=\"198.51.100.7\",virtualip=\"db\"}"), 1);
  for (const char* dev : {"m0", "m1"}) {
    const std::string d = dev;
    EXPECT_EQ(s.at("lvs_rs_arp_effective{interface=\"" + d + "\",key=\"arp_ignore\"}"), 1) << dev;
    EXPECT_EQ(s.at("lvs_rs_arp_effective{interface=\"" + d + "\",key=\"arp_announce\"}"), 2) << dev;
    EXPECT_EQ(s.at("lvs_rs_arp_conformant{interface=\"" + d + "\"}"), 1) << dev;
  }
  EXPECT_FALSE(s.count("lvs_rs_arp_conformant{interface=\"lo\"}"));  // lo never answers ARP
  EXPECT_EQ(s.at("lvs_rs_drift_repairs_total{kind=\"route\"}"), 0);
  EXPECT_GT(s.at("lvs_rs_reconcile_duration_seconds_count"), 0);
  EXPECT_GT(s.at("lvs_rs_last_reconcile_timestamp_seconds"), 1.6e9);
  EXPECT_GT(s.at("process_resident_memory_bytes"), 0);
  EXPECT_GT(s.at("process_open_fds"), 0);
  EXPECT_EQ(s.count("lvs_rs_kube_synced"), 0u);  // file mode

  // A VirtualIP deleted from the file: its series go away, the other VIP's stay.
  ReplaceFile(t.dir / "vips.yaml", kOnlyWeb);
  ASSERT_TRUE(Within(seconds(10), [&] { return SamplesOf(t.Scrape(), "lvs_rs_vip_conformant{").size() == 2; }))
      << t.Scrape();
  const std::string text = t.Scrape();
  EXPECT_EQ(text.find("virtualip=\"db\""), std::string::npos) << text;
  EXPECT_EQ(Samples(text).at("lvs_rs_node_conformant"), 1);

  // A removed veth: its interface's series go away too.
  ASSERT_EQ(t.ns.Exec("ip link del m0").exit_code, 0);  // takes its peer m1 with it
  EXPECT_TRUE(Within(seconds(10), [&] { return SamplesOf(t.Scrape(), "lvs_rs_arp_conformant{").empty(); }))
      << t.Scrape();
}

// PromQL through the HTTP API of the Prometheus inside the namespace.
json Query(const TestNetns& ns, const std::string& promql) {
  const auto r = ns.Exec(std::string("curl -sf --max-time 5 http://") + kPrometheus +
                         "/api/v1/query --data-urlencode " + Quote("query=" + promql));
  if (r.exit_code != 0) return json();
  return json::parse(r.output, nullptr, false);
}

// The single sample value of an instant vector, or nullopt when there is none.
std::optional<double> Value(const TestNetns& ns, const std::string& promql) {
  const json j = Query(ns, promql);
  if (!j.is_object() || j.value("status", "") != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.size() != 1) return std::nullopt;
  return std::stod(result[0]["value"][1].get<std::string>());
}

TEST(PrometheusScrape, RealPrometheusSeesConformanceAndDriftRepairs) {
  OperatorInNetns t;
  const std::string rules = SourceDir() + "/monitoring/prometheus/lvs-rs-operator.rules.yml";
  ReplaceFile(t.dir / "prometheus.yml", R"(global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - )" + rules + R"(
scrape_configs:
  - job_name: lvs-rs-operator
    static_configs:
      - targets: [')" + kMetrics + R"(']
)");
  Process prometheus({"ip", "netns", "exec", t.ns.name(), "prometheus", "--config.file=" + (t.dir / "prometheus.yml"),
                      "--storage.tsdb.path=" + (t.dir / "tsdb"), "--web.listen-address=" + std::string(kPrometheus),
                      "--log.level=warn"},
                     t.dir / "prometheus.log");
  auto logs = [&] { return "operator:\n" + t.Log() + "\nprometheus:\n" + ReadFile(t.dir / "prometheus.log"); };

  ASSERT_TRUE(Within(seconds(60), [&] { return Value(t.ns, "lvs_rs_node_conformant == 1") == 1.0; })) << logs();
  EXPECT_EQ(Value(t.ns, "up{job=\"lvs-rs-operator\"}"), 1.0);
  EXPECT_EQ(Value(t.ns, "lvs_rs_vip_conformant{virtualip=\"db\",address=\"198.51.100.7\"}"), 1.0);
  EXPECT_EQ(Value(t.ns, "lvs_rs_drift_repairs_total{kind=\"sysctl\"}"), 0.0) << "present at 0 before any repair";

  // Drift: someone resets an ARP sysctl the operator set. It is put back and counted.
  t.ns.SetSysctl("net.ipv4.conf.all.arp_ignore", 0);
  EXPECT_TRUE(Within(seconds(30), [&] {
    const auto v = Value(t.ns, "lvs_rs_drift_repairs_total{kind=\"sysctl\"}");
    return v && *v >= 1;
  })) << logs();
  EXPECT_EQ(t.ns.Sysctl("net.ipv4.conf.all.arp_ignore"), 1);

  // Drift: a VIP address deleted by hand.
  ASSERT_EQ(t.ns.Exec("ip addr del 192.0.2.10/32 dev lo").exit_code, 0);
  EXPECT_TRUE(Within(seconds(30), [&] {
    const auto v = Value(t.ns, "lvs_rs_drift_repairs_total{kind=\"address\"}");
    return v && *v >= 1;
  })) << logs();
  EXPECT_TRUE(Within(seconds(30), [&] { return Value(t.ns, "lvs_rs_node_conformant") == 1.0; })) << logs();

  // The shipped alert rules load and evaluate against real series.
  EXPECT_TRUE(Within(seconds(30), [&] {
    const auto r = t.ns.Exec(std::string("curl -sf --max-time 5 http://") + kPrometheus + "/api/v1/rules");
    const json j = json::parse(r.output, nullptr, false);
    if (!j.is_object() || j["data"]["groups"].size() != 1) return false;
    for (const auto& rule : j["data"]["groups"][0]["rules"])
      if (rule.value("health", "") != "ok") return false;
    return j["data"]["groups"][0]["rules"].size() == 6;
  })) << logs();
  // A healthy, conformant agent fires nothing.
  const json alerts = Query(t.ns, "ALERTS");
  ASSERT_TRUE(alerts.is_object()) << logs();
  EXPECT_TRUE(alerts["data"]["result"].empty()) << alerts.dump(2);

  // Every query of the Grafana dashboard is valid PromQL against the real series.
  const json dash = json::parse(ReadFile(SourceDir() + "/monitoring/grafana/lvs-rs-operator.json"));
  int checked = 0;
  for (const auto& panel : dash["panels"]) {
    for (const auto& target : panel["targets"]) {
      std::string expr = target["expr"];
      for (const auto& [var, value] : std::vector<std::pair<std::string, std::string>>{
               {"$__rate_interval", "1m"}, {"$__range", "5m"}, {"$instance", ".*"}}) {
        for (auto at = expr.find(var); at != std::string::npos; at = expr.find(var))
          expr.replace(at, var.size(), value);
      }
      const json r = Query(t.ns, expr);
      EXPECT_TRUE(r.is_object() && r.value("status", "") == "success") << panel["title"] << ": " << expr << "\n"
                                                                       << (r.is_object() ? r.dump() : "no answer");
      ++checked;
    }
  }
  EXPECT_GT(checked, 10);
}

}  // namespace
}  // namespace lvsrs::testing
