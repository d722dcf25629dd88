// The shipped monitoring files (monitoring/) against each other and against the metrics the
// operator really exports: a renamed metric must break this test, not a user's alert.
#include <fstream>
#include <regex>
#include <set>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>
#include <nlohmann/json.hpp>

#include "metrics/operator_metrics.h"
#include "support/netns.h"

namespace lvsrs {
namespace {

using nlohmann::json;

std::string Path(const std::string& rel) { return testing::SourceDir() + "/monitoring/" + rel; }

json ToJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json j = json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = ToJson(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      json j = json::array();
      for (const auto& e : n) j.push_back(ToJson(e));
      return j;
    }
    case YAML::NodeType::Scalar: return n.as<std::string>();
    default: return nullptr;
  }
}

// Every metric name the operator can export (Kubernetes mode included), with the histogram's
// series names, plus what Prometheus and the process collector add.
std::set<std::string> ExportedNames() {
  OperatorMetrics metrics("test");
  metrics.ObserveKube(false, 0);
  // Families without series are not exported: give each per-item family one.
  OutcomeMetrics m;
  m.has_status = true;
  m.vip_conformant = {{{"web", "192.0.2.10"}, 1}};
  m.refused_virtualips = {"bad"};
  m.arp_effective = {{{"eth0", "arp_ignore"}, 1}};
  m.arp_conformant = {{"eth0", 1}};
  metrics.Apply(m, std::chrono::system_clock::now());
  std::set<std::string> names{"up"};
  for (const auto& f : metrics.registry()->Collect()) {
    names.insert(f.name);
    if (f.type == prometheus::MetricType::Histogram)
      for (const char* suffix : {"_bucket", "_count", "_sum"}) names.insert(f.name + suffix);
  }
  for (const char* p : {"process_cpu_seconds_total", "process_start_time_seconds", "process_resident_memory_bytes",
                        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"})
    names.insert(p);
  return names;
}

// Metric-looking identifiers in a PromQL expression that belong to us.
std::set<std::string> MetricsIn(const std::string& expr) {
  static const std::regex re(R"(\b(lvs_rs_[a-z_]+|process_[a-z_]+|up)\b)");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), re); it != std::sregex_iterator(); ++it)
    out.insert((*it)[1]);
  return out;
}

TEST(MonitoringFiles, PrometheusRuleCarriesExactlyThePlainRules) {
  const YAML::Node plain = YAML::LoadFile(Path("prometheus/lvs-rs-operator.rules.yml"));
  const YAML::Node cr = YAML::LoadFile(Path("prometheus-operator/prometheusrule.yaml"));
  EXPECT_EQ(cr["apiVersion"].as<std::string>(), "monitoring.coreos.com/v1");
  EXPECT_EQ(cr["kind"].as<std::string>(), "PrometheusRule");
  EXPECT_EQ(ToJson(cr["spec"]), ToJson(plain));
}

TEST(MonitoringFiles, EveryAlertHasAFiringAndAQuietUnitTest) {
  const YAML::Node rules = YAML::LoadFile(Path("prometheus/lvs-rs-operator.rules.yml"));
  const YAML::Node tests = YAML::LoadFile(Path("prometheus/lvs-rs-operator.rules.test.yml"));
  std::set<std::string> fires, quiet;
  for (const auto& t : tests["tests"])
    for (const auto& a : t["alert_rule_test"])
      (a["exp_alerts"].size() > 0 ? fires : quiet).insert(a["alertname"].as<std::string>());
  int alerts = 0;
  for (const auto& g : rules["groups"]) {
    for (const auto& r : g["rules"]) {
      if (!r["alert"]) continue;
      ++alerts;
      const auto name = r["alert"].as<std::string>();
      EXPECT_TRUE(fires.count(name)) << name << " has no test where it fires";
      EXPECT_TRUE(quiet.count(name)) << name << " has no test where it stays quiet";
    }
  }
  EXPECT_GE(alerts, 4);  // not conformant, repairs rising, not synced, agent down
}

TEST(MonitoringFiles, RulesAndDashboardUseOnlyExportedMetrics) {
  const auto names = ExportedNames();
  const YAML::Node rules = YAML::LoadFile(Path("prometheus/lvs-rs-operator.rules.yml"));
  for (const auto& g : rules["groups"])
    for (const auto& r : g["rules"])
      for (const auto& m : MetricsIn(r["expr"].as<std::string>()))
        EXPECT_TRUE(names.count(m)) << r["alert"].as<std::string>() << " uses unknown metric " << m;

  std::ifstream in(Path("grafana/lvs-rs-operator.json"));
  const json dash = json::parse(in);
  EXPECT_EQ(dash["uid"], "lvs-rs-operator");
  int exprs = 0;
  for (const auto& panel : dash["panels"]) {
    for (const auto& target : panel["targets"]) {
      ++exprs;
      for (const auto& m : MetricsIn(target["expr"].get<std::string>()))
        EXPECT_TRUE(names.count(m)) << panel["title"] << " uses unknown metric " << m;
    }
  }
  EXPECT_GT(exprs, 10);
}

TEST(MonitoringFiles, PodMonitorScrapesTheMetricsPortAsJobLvsRsOperator) {
  const YAML::Node pm = YAML::LoadFile(Path("prometheus-operator/podmonitor.yaml"));
  EXPECT_EQ(pm["kind"].as<std::string>(), "PodMonitor");
  EXPECT_EQ(pm["spec"]["podMetricsEndpoints"][0]["port"].as<std::string>(), "metrics");
  const auto job_label = pm["spec"]["jobLabel"].as<std::string>();
  EXPECT_EQ(pm["spec"]["selector"]["matchLabels"][job_label].as<std::string>(), "lvs-rs-operator");
}

}  // namespace
}  // namespace lvsrs
