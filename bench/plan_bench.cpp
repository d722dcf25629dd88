// Google Benchmark of the pure decisions at 10, 1k and 10k VIPs: building the desired state,
// diffing it against the kernel (ComputePlan), judging the result (EvaluateStatus), and parsing
// the VirtualIP file. Reported per VIP (counter "per_vip", seconds): linear means flat.
#include <benchmark/benchmark.h>

#include "model/virtual_ip_parse.h"
#include "reconcile/desired_state.h"
#include "reconcile/node_status.h"
#include "reconcile/plan.h"
#include "workload.h"

namespace lvsrs::bench {
namespace {

void PerVip(benchmark::State& state, std::size_t n) {
  state.counters["per_vip"] = benchmark::Counter(
      static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["vips"] = static_cast<double>(n);
}

// Empty namespace: every VIP must be added (the converge pass).
void BM_DesiredAndPlan_Converge(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto vips = MakeVirtualIps(n);
  const ObservedState observed = EmptyNode();
  const NodeInfo node{"node-1", {}};
  for (auto _ : state) {
    DesiredState d = BuildDesiredState(vips, node, observed);
    Plan p = ComputePlan(d, observed, {});
    benchmark::DoNotOptimize(p);
  }
  PerVip(state, n);
}

// Everything already in place: the periodic resync, which must find nothing to do.
void BM_DesiredAndPlan_Resync(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto vips = MakeVirtualIps(n);
  const ObservedState observed = ConvergedNode(n);
  const NodeInfo node{"node-1", {}};
  for (auto _ : state) {
    DesiredState d = BuildDesiredState(vips, node, observed);
    Plan p = ComputePlan(d, observed, {});
    if (p.HasWrites()) state.SkipWithError("resync planned writes");
    benchmark::DoNotOptimize(p);
  }
  PerVip(state, n);
}

void BM_EvaluateStatus(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto vips = MakeVirtualIps(n);
  const ObservedState observed = ConvergedNode(n);
  const DesiredState d = BuildDesiredState(vips, NodeInfo{"node-1", {}}, observed);
  for (auto _ : state) {
    NodeStatus st = EvaluateStatus(d, observed);
    if (!st.conformant()) state.SkipWithError("converged node judged not conformant");
    benchmark::DoNotOptimize(st);
  }
  PerVip(state, n);
}

// `run --file`: YAML text to validated VirtualIPs (start-up and every edit of the file).
void BM_ParseVirtualIpFile(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::string yaml = MakeYaml(n);
  for (auto _ : state) {
    ParsedDocuments parsed = ParseVirtualIpDocuments(yaml, "bench.yaml");
    if (parsed.vips.size() != n) state.SkipWithError("parse failed");
    benchmark::DoNotOptimize(parsed);
  }
  PerVip(state, n);
}

#define LVSRS_SIZES ->Arg(10)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)
BENCHMARK(BM_DesiredAndPlan_Converge) LVSRS_SIZES;
BENCHMARK(BM_DesiredAndPlan_Resync) LVSRS_SIZES;
BENCHMARK(BM_EvaluateStatus) LVSRS_SIZES;
BENCHMARK(BM_ParseVirtualIpFile) LVSRS_SIZES;

}  // namespace
}  // namespace lvsrs::bench

BENCHMARK_MAIN();
