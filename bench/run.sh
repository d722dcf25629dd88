#!/usr/bin/env bash
# The whole benchmark suite, anchors measured side by side in the same run, in network
# namespaces it creates (lvsrs-b-<pid>-*) and always deletes. Needs root.
#
#   sudo bench/run.sh            full suite (~14 min): writes bench/results/latest.md (the table),
#                                bench/results/*.json (raw samples) and bench/converge.svg
#   sudo bench/run.sh --smoke    tiny sizes (~3–4 min), into a temporary directory; ctest runs this
#   sudo bench/run.sh --kube-only  only the Kubernetes figures (~15 min at 200 nodes: the 10 min
#                                window is waited out), into bench/results/kube/ (with --smoke
#                                too: tiny sizes, a temporary directory)
#
# The Kubernetes figures (bench/kube_figures.sh: kubectl apply -> address, a 200-node fleet, API
# requests, RSS and idle CPU over a 10 min window) need kube-apiserver ($LVSRS_CACHE/kube-apiserver,
# scripts/setup.d/50-kube-apiserver.sh), etcd and kubectl; without them they are skipped, as
# tests/kube skips, and RSS / idle CPU fall back to a file-mode operator over IDLE_WINDOW seconds.
# Their namespaces are lvsrs-f-<pid>-*. The 10 min window runs while the other figures run.
# The summariser at SUMMARISER_NODES RealServers (default 5,000; bench/summariser_scale.sh, its own
# control plane after the first one is gone, ~15 min more on 2 shared cores): memory and READY
# latency of the elected summariser, and the bytes of one VirtualIP change selecting every node.
# BEFORE_BIN=/path/to/another/lvs-rs-operator measures that build as the summariser too.
#   OUT=/some/dir bench/run.sh   results elsewhere
#
# It builds the bench targets in $BUILD_DIR (default build/) if needed, with the same cmake
# invocation as scripts/test.sh (scripts/lib.sh; the top-level CMakeLists.txt adds bench/).
# The workload files come from bench/write_workload.py, the table from bench/report.py.
source "$(dirname "$0")/../scripts/lib.sh"
SMOKE=0
KUBE_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --kube-only) KUBE_ONLY=1 ;;
    *) echo "usage: bench/run.sh [--smoke] [--kube-only]" >&2; exit 2 ;;
  esac
done

need_root
for tool in hyperfine gnuplot python3 ip curl prometheus-node-exporter; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is missing (scripts/deps/bench.txt)" >&2; exit 2; }
done

if ((SMOKE)); then
  OUT=${OUT:-$(mktemp -d /tmp/lvsrs-bench-smoke.XXXXXX)}
  PLOT=$OUT/converge.svg
  SIZES="10 30"; RUNS=2; MANUAL_RUNS=2; MANUAL_10K_RUNS=2
  PRESENT=10; PASS_TRIALS=2; DRIFT_VIPS=10; DRIFT_TRIALS=5; ARP_TRIALS=1; IDLE_WINDOW=3
  KUBE_TRIALS=3; FLEET_NODES=2; FLEET_TRIALS=1; STEADY_VIPS=10; STEADY_WINDOW=5; STORM_S=1
  SUMMARISER_NODES=20
  GBENCH_ARGS=(--benchmark_filter='/10$' --benchmark_min_time=0.01)
else
  if ((KUBE_ONLY)); then OUT=${OUT:-$ROOT/bench/results/kube}; else OUT=${OUT:-$ROOT/bench/results}; fi
  PLOT=${PLOT:-$ROOT/bench/converge.svg}
  SIZES="10 100 1000 10000"; RUNS=10; MANUAL_RUNS=5; MANUAL_10K_RUNS=2
  PRESENT=10000; PASS_TRIALS=20; DRIFT_VIPS=1000; DRIFT_TRIALS=200; ARP_TRIALS=5
  IDLE_WINDOW=${IDLE_WINDOW:-120}
  KUBE_TRIALS=${KUBE_TRIALS:-60}; FLEET_NODES=${FLEET_NODES:-200}; FLEET_TRIALS=${FLEET_TRIALS:-5}
  STEADY_VIPS=${STEADY_VIPS:-1000}; STEADY_WINDOW=${STEADY_WINDOW:-600}; STORM_S=${STORM_S:-10}
  SUMMARISER_NODES=${SUMMARISER_NODES:-5000}
  GBENCH_ARGS=(--benchmark_min_time=0.2 --benchmark_repetitions=3 --benchmark_report_aggregates_only=true)
fi
mkdir -p "$OUT"
WORK=$(mktemp -d /tmp/lvsrs-bench.XXXXXX)
PREFIX=lvsrs-b-$$
PIDS=()

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, in 1/CLK_TCK s
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
source "$ROOT/bench/kube_figures.sh"

cleanup() {
  local pid ns
  pkill -TERM -P $$ 2>/dev/null || true  # our own children (hyperfine, a running benchmark)
  kube_cleanup
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$PREFIX-" || true); do ip netns del "$ns"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

fresh_netns() {  # fresh_netns NAME: an empty namespace with lo up, as on a node before the operator
  ip netns del "$1" 2>/dev/null || true
  ip netns add "$1"
  ip -n "$1" link set lo up
}

log "building bench targets in $BUILD_DIR"
[ -f "$BUILD_DIR/CMakeCache.txt" ] || configure
cmake --build "$BUILD_DIR" -j2 --target lvs-rs-operator lvsrs-bench-plan lvsrs-bench-kernel lvsrs-bench-realservers >/dev/null
BIN=$BUILD_DIR/lvs-rs-operator
KBENCH=$BUILD_DIR/bench/lvsrs-bench-kernel

{
  echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
  echo "nproc=$(nproc)"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
  echo "kernel=$(uname -r)"
  echo "loadavg=$(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "idle_window_s=$IDLE_WINDOW"
  echo "smoke=$SMOKE"
  echo "kube_only=$KUBE_ONLY"
} >"$OUT/machine.txt"
SUITE_T0=$SECONDS

# ---- 0. Kubernetes figures; the steady-state window then runs alongside everything else -----
kube_start
if ((KUBE_ONLY)); then
  ((KUBE_OK)) || { echo "bench/run.sh --kube-only: no kube-apiserver, etcd or kubectl" >&2; exit 2; }
  kube_finish
  printf "suite_s=%s\nloadavg_end=%s\n" "$((SECONDS - SUITE_T0))" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"
  log "writing $OUT/latest.md"
  python3 "$ROOT/bench/report.py" "$OUT" "$SIZES" >"$OUT/latest.md"
  cat "$OUT/latest.md"
  exit 0
fi

# ---- 1. pure diff/plan (Google Benchmark) -------------------------------------------------
log "pure diff/plan (Google Benchmark)"
"$BUILD_DIR/bench/lvsrs-bench-plan" "${GBENCH_ARGS[@]}" --benchmark_format=json \
  --benchmark_out="$OUT/plan.json" --benchmark_out_format=json >/dev/null

# ---- 2. converge N VIPs: operator vs ip -batch vs one process per command -------------------
# The same work for all three: N addresses on lo (label lo:lvsrs), N host routes (proto 245),
# and conf/{all,default,lo}.arp_{ignore,announce}. (`ip addr add` of iproute2 6.1 cannot set
# IFA_PROTO, so the anchors' addresses carry the label only.)
write_workload() {  # write_workload N: vips-N.yaml, batch-N.txt, manual-N.sh in $WORK
  python3 "$ROOT/bench/write_workload.py" "$1" "$WORK"
}

verify_converged() {  # verify_converged NS N WHO: the namespace holds exactly what was asked
  local got_a got_r ign
  got_a=$(ip -n "$1" -4 addr show dev lo | grep -c 'inet 198\.1[89]\.' || true)
  got_r=$(ip -n "$1" -4 route show table main proto 245 | grep -c . || true)
  ign=$(ip netns exec "$1" cat /proc/sys/net/ipv4/conf/all/arp_ignore)
  if [ "$got_a" != "$2" ] || [ "$got_r" != "$2" ] || [ "$ign" != 1 ]; then
    echo "bench: $3 did not converge $2 VIPs ($got_a addresses, $got_r routes, arp_ignore=$ign)" >&2
    exit 1
  fi
}

NS=$PREFIX-conv
for n in $SIZES; do
  write_workload "$n"
  runs=$RUNS
  [ "$n" -ge 10000 ] && runs=3  # seconds per run at 10k: keeps the suite under 15 minutes
  log "converge $n VIPs: operator and ip -batch ($runs runs each)"
  hyperfine --style none --runs "$runs" --export-json "$OUT/converge-$n.json" \
    --prepare "ip netns del $NS 2>/dev/null; ip netns add $NS && ip -n $NS link set lo up && rm -rf $WORK/state" \
    -n operator "ip netns exec $NS $BIN run --file $WORK/vips-$n.yaml --once --state-dir $WORK/state --log-level warning" \
    -n ip-batch "ip netns exec $NS sh $WORK/batch-$n.sh" >/dev/null
  verify_converged "$NS" "$n" "ip -batch"
  fresh_netns "$NS"
  ip netns exec "$NS" "$BIN" run --file "$WORK/vips-$n.yaml" --once --state-dir "$WORK/state" --log-level warning
  verify_converged "$NS" "$n" "the operator"
  if [ "$n" -le 1000 ]; then
    runs=$MANUAL_RUNS
    [ "$n" -ge 1000 ] && runs=3
    log "converge $n VIPs: one process per command ($runs runs)"
    hyperfine --style none --runs "$runs" --export-json "$OUT/converge-manual-$n.json" \
      --prepare "ip netns del $NS 2>/dev/null; ip netns add $NS && ip -n $NS link set lo up" \
      -n manual "ip netns exec $NS sh $WORK/manual-$n.sh" >/dev/null
  else
    log "converge $n VIPs: one process per command, last 1,000 of $n timed ($MANUAL_10K_RUNS runs)"
    hyperfine --style none --runs "$MANUAL_10K_RUNS" --export-json "$OUT/converge-manual-tail-$n.json" \
      --prepare "ip netns del $NS 2>/dev/null; ip netns add $NS && ip -n $NS link set lo up && ip -n $NS -batch $WORK/head-$n.txt" \
      -n manual "ip netns exec $NS sh $WORK/manual-tail-$n.sh" >/dev/null
  fi
  verify_converged "$NS" "$n" "the manual script"
done
ip netns del "$NS"

# ---- 3. add 1 VIP with N present; full resync with nothing to do -----------------------------
log "add 1 VIP with $PRESENT present, full resync ($PASS_TRIALS trials)"
NS=$PREFIX-kern
fresh_netns "$NS"
ip netns exec "$NS" "$KBENCH" passes --netns "$NS" --present "$PRESENT" --trials "$PASS_TRIALS" \
  --state-dir "$WORK/kstate" >"$OUT/passes.json"
ip netns del "$NS"

# ---- 4. the operator running: drift repair, ARP reset repair, RSS and idle CPU ---------------
NS=$PREFIX-run
fresh_netns "$NS"
write_workload "$DRIFT_VIPS"
log "operator running with $DRIFT_VIPS VIPs (resync period 2s)"
METRICS=()  # the /metrics listener, when this build has one
if "$BIN" run --help 2>&1 | grep -q -- '--metrics-bind-address'; then
  METRICS=(--metrics-bind-address 127.0.0.1:18080 --health-probe-bind-address 127.0.0.1:18081)
fi
ip netns exec "$NS" "$BIN" run --file "$WORK/vips-$DRIFT_VIPS.yaml" --state-dir "$WORK/rstate" \
  --resync-period 2s --log-level warning "${METRICS[@]}" 2>"$OUT/operator.log" &
OP_PID=$!
PIDS+=("$OP_PID")
for _ in $(seq 300); do
  [ "$(ip -n "$NS" -4 addr show dev lo | grep -c 'inet 198\.1[89]\.' || true)" = "$DRIFT_VIPS" ] && break
  sleep 0.1  # setup only: waiting for the first converge, not a measurement
done
verify_converged "$NS" "$DRIFT_VIPS" "the running operator"

for kind in address route; do
  log "drift repair: $kind deleted by someone else ($DRIFT_TRIALS trials)"
  ip netns exec "$NS" "$KBENCH" drift --netns "$NS" --kind "$kind" --vips "$DRIFT_VIPS" \
    --trials "$DRIFT_TRIALS" >"$OUT/drift-$kind.json"
done
log "ARP sysctl reset repair ($ARP_TRIALS trials)"
ip netns exec "$NS" "$KBENCH" arp --netns "$NS" --trials "$ARP_TRIALS" >"$OUT/arp.json"

rm -f "$OUT/metrics.json"
if ((${#METRICS[@]})); then
  log "/metrics scrape with $DRIFT_VIPS VIPs ($DRIFT_TRIALS scrapes, one curl; the server closes each connection after its answer)"
  args=()
  for _ in $(seq "$DRIFT_TRIALS"); do args+=(-o /dev/null http://127.0.0.1:18080/metrics); done
  ip netns exec "$NS" curl -sf -w '%{time_total} %{size_download}\n' "${args[@]}" |
    python3 -c 'import json, sys
rows = [l.split() for l in sys.stdin if l.strip()]
print(json.dumps({"vips": int(sys.argv[1]), "scrape_s": [float(r[0]) for r in rows], "bytes": int(rows[-1][1])}))' \
      "$DRIFT_VIPS" >"$OUT/metrics.json"
fi

rm -f "$OUT/idle.json"
if ((KUBE_OK)); then  # measured on the Kubernetes-mode operator over the 10 min window instead
  kill -TERM "$OP_PID"; wait "$OP_PID" 2>/dev/null || true
else
log "RSS and idle CPU over ${IDLE_WINDOW}s, prometheus-node-exporter alongside"
ip netns exec "$NS" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 >/dev/null 2>&1 &
NE_PID=$!
PIDS+=("$NE_PID")
for _ in $(seq 100); do
  ip netns exec "$NS" curl -sf -o /dev/null http://127.0.0.1:9100/metrics && break
  sleep 0.1
done
ip netns exec "$NS" curl -sf -o /dev/null http://127.0.0.1:9100/metrics  # one scrape: collectors initialised
sleep 2
op0=$(cpu_ticks "$OP_PID"); ne0=$(cpu_ticks "$NE_PID")
sleep "$IDLE_WINDOW"
op1=$(cpu_ticks "$OP_PID"); ne1=$(cpu_ticks "$NE_PID")
cat >"$OUT/idle.json" <<EOF
{"window_s": $IDLE_WINDOW, "vips": $DRIFT_VIPS, "clk_tck": $(getconf CLK_TCK),
 "operator": {"rss_kib": $(rss_kib "$OP_PID"), "cpu_ticks": $((op1 - op0))},
 "node_exporter": {"rss_kib": $(rss_kib "$NE_PID"), "cpu_ticks": $((ne1 - ne0))}}
EOF
kill -TERM "$OP_PID" "$NE_PID"
wait "$OP_PID" "$NE_PID" 2>/dev/null || true
fi
PIDS=()
ip netns del "$NS"

# ---- 5. drift storm: what answering a deletion loop costs the agent ---------------------------
# As tests/faults DriftStormIsRepairedWithBackoff: 2 VIPs, `ip -force -batch` deletes one of them
# as fast as it can for STORM_S seconds. CPU (utime+stime) of the agent in the storm, against,
# in the same run: the agent idle for STORM_S seconds just before, and the deleting `ip` process
# itself, with the agent and (after it is stopped) without it.
NS=$PREFIX-storm
fresh_netns "$NS"
write_workload 2
ip netns exec "$NS" "$BIN" run --file "$WORK/vips-2.yaml" --state-dir "$WORK/sstate" --resync-period 2s \
  --metrics-bind-address 0 --health-probe-bind-address 0 2>"$WORK/storm-agent.log" &
OP_PID=$!
PIDS+=("$OP_PID")
wait_for 30 "storm agent converged" \
  bash -c "[ \$(ip -n $NS -4 addr show dev lo | grep -c 'inet 198\.18\.') = 2 ]"
verify_converged "$NS" 2 "the storm agent"
storm() {  # storm OUTFILE: the deleting loop for STORM_S s; its CPU (user sys) into OUTFILE
  yes 'address del 198.18.0.1/32 dev lo' | /usr/bin/time -f '%U %S' -o "$1" \
    timeout "$STORM_S" ip -n "$NS" -force -batch - >/dev/null 2>&1 || true
}
log "drift storm: agent idle ${STORM_S}s, then ${STORM_S}s of deletions with and without the agent"
sleep 2
i0=$(cpu_ticks "$OP_PID"); sleep "$STORM_S"; i1=$(cpu_ticks "$OP_PID")
r0=$(grep -c 'repaired 1 address' "$WORK/storm-agent.log" || true)
storm "$WORK/storm-ip-with.txt"
s1=$(cpu_ticks "$OP_PID")
sleep 2  # the last repair
r1=$(grep -c 'repaired 1 address' "$WORK/storm-agent.log" || true)
kill -TERM "$OP_PID"; wait "$OP_PID" 2>/dev/null || true
PIDS=()
storm "$WORK/storm-ip-without.txt"
cat >"$OUT/storm.json" <<EOF
{"storm_s": $STORM_S, "clk_tck": $(getconf CLK_TCK), "agent_idle_ticks": $((i1 - i0)), "agent_storm_ticks": $((s1 - i1)),
 "repairs": $((r1 - r0)), "ip_with_agent_s": [$(tail -1 "$WORK/storm-ip-with.txt" | tr ' ' ,)],
 "ip_without_agent_s": [$(tail -1 "$WORK/storm-ip-without.txt" | tr ' ' ,)]}
EOF
ip netns del "$NS"

# ---- 6. end of the Kubernetes steady-state window ------------------------------------------------
kube_finish

# ---- 7. the summariser with SUMMARISER_NODES RealServers, on a control plane of its own ----------
rm -f "$OUT/summariser.json"
if ((KUBE_OK)); then
  log "summariser with $SUMMARISER_NODES RealServers written as agents write them (bench/summariser_scale.sh)"
  BUILD_DIR=$BUILD_DIR BIN=$BIN BEFORE_BIN=${BEFORE_BIN:-} "$ROOT/bench/summariser_scale.sh" "$OUT/summariser.json" \
    "$SUMMARISER_NODES" 2>"$WORK/summariser-scale.log" || { cat "$WORK/summariser-scale.log" >&2; exit 1; }
fi
printf "suite_s=%s\nloadavg_end=%s\n" "$((SECONDS - SUITE_T0))" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$OUT/machine.txt"

# ---- 5. the table and the plot -----------------------------------------------------------------
log "writing $OUT/latest.md and $PLOT"
python3 "$ROOT/bench/report.py" "$OUT" "$SIZES" >"$OUT/latest.md"
gnuplot -e "datafile='$OUT/converge.dat'; outfile='$PLOT'" "$ROOT/bench/converge.gp"
cat "$OUT/latest.md"
