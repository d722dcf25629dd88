#!/usr/bin/env bash
# The benchmark suite at tiny sizes: checks that every benchmark still runs and that the table
# and the plot are produced. Never checks the numbers (they belong in BENCHMARKS.md).
set -euo pipefail
OUT=$(mktemp -d /tmp/lvsrs-bench-smoke.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
OUT=$OUT bash "$1/bench/run.sh" --smoke >"$OUT/run.log" 2>&1 || { cat "$OUT/run.log"; exit 1; }
table=$OUT/latest.md
fail() { echo "smoke: $*" >&2; cat "$table" >&2 || true; exit 1; }
[ -s "$table" ] || fail "no table written"
grep -q '^| figure | result (median) |' "$table" || fail "table header missing"
for figure in 'converge 10 VIPs vs `ip -batch`' 'converge 30 VIPs vs one process per command' \
  'add 1 VIP with 10 present: whole pass' 'full resync, 10 VIPs, nothing to do' \
  'drift repair, address deleted' 'drift repair, route deleted' 'arp_ignore reset' \
  'RSS' 'idle CPU' '/metrics scrape with 10 VIPs' 'pure: DesiredAndPlan_Resync/10' 'pure: ParseVirtualIpFile/10' \
  'storm: agent CPU'; do
  grep -qF "| $figure" "$table" || grep -qF "$figure" "$table" || fail "row missing: $figure"
done
# The Kubernetes figures run when kube-apiserver is there (as tests/kube), and say why when not.
if grep -q '"skipped"' "$OUT/kube.json" 2>/dev/null; then
  grep -qF 'skipped: ' "$table" || fail "skipped Kubernetes figures not reported"
else
  for figure in '`kubectl apply` of a VirtualIP' 'HTTPS POST (curl)' 'fleet: `kubectl apply`' \
    'API requests at steady state' 'fleet: API requests per node per minute' 'summariser with 20 RealServers' \
    'summariser: lg-0 flipped on all 20 nodes' 'one VirtualIP changed to not ready on 20 nodes'; do
    grep -qF "$figure" "$table" || fail "row missing: $figure"
  done
fi
grep -qw 'nan' "$table" && fail "a figure has no samples"
grep -q '<svg' "$OUT/converge.svg" || fail "no plot"
[ -z "$(ip netns list | grep -E '^lvsrs-(b|f|s)-' || true)" ] || fail "namespaces left behind"
echo "benchmark smoke run ok"
