#!/usr/bin/env bash
# The elected summariser with NODES RealServers (default 5,000), against a real etcd +
# kube-apiserver 1.20 of its own (tests/support/kube_cluster.sh, namespace lvsrs-s-<pid>-cp, torn
# down at exit). Run by bench/run.sh (after the other Kubernetes figures, whose cluster is gone by
# then); it can run on its own:
#
#   sudo bench/summariser_scale.sh OUT.json [NODES]
#
# One node namespace runs `lvs-rs-operator run` in Kubernetes mode (BIN, default build/; it selects
# no VirtualIP, is the only agent and so holds the summariser Lease); another runs
# lvsrs-bench-realservers (bench/realserver_loadgen.cpp), which writes NODES RealServers as agents
# write them, with the agents' ServiceAccount token, and flips one VirtualIP on all of them. The
# summariser's VmRSS/VmHWM and the time from the last node's change to the right READY column land
# in OUT.json ("after"), then its memory when it restarts and lists them all ("takeover"). With BEFORE_BIN (another build of the operator, e.g. main before the
# summariser kept only readiness) the same flips are measured again with that build as the
# summariser, on the same objects ("before").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT_JSON=${1:?usage: summariser_scale.sh OUT.json [NODES]}
NODES=${2:-5000}
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
BIN=${BIN:-$BUILD_DIR/lvs-rs-operator}
LOADGEN=${LOADGEN:-$BUILD_DIR/bench/lvsrs-bench-realservers}
KCLUSTER=$ROOT/tests/support/kube_cluster.sh
P=lvsrs-s-$$
WORK=$(mktemp -d /tmp/lvsrs-summariser.XXXXXX)
KDIR=$WORK/kube
PIDS=()

log() { echo "summariser_scale: $*" >&2; }
cleanup() {
  local pid ns
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -f "$KDIR/env" ] && "$KCLUSTER" down "$KDIR" >/dev/null 2>&1 || true
  for ns in $(ip netns list | awk '{print $1}' | grep "^$P-" || true); do ip netns del "$ns"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 143' TERM INT
kc() { "$KCLUSTER" kubectl "$KDIR" "$@"; }
wait_for() {  # wait_for SECONDS WHAT CMD...: setup only, polls CMD every 0.5 s
  local until=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || { log "$what not reached in time"; return 1; }
    sleep 0.5
  done
}
node_ns() {  # node_ns NAME INDEX: a namespace attached to the cluster as 198.51.100.(10+INDEX)
  ip netns add "$P-$1"
  ip -n "$P-$1" link set lo up
  "$KCLUSTER" attach "$KDIR" "$P-$1" "$2"
}
mem_json() {  # mem_json PID: {"VmHWM": kB, "VmRSS": kB}
  awk '/^Vm(HWM|RSS):/ {printf "%s\"%s\": %s", n++ ? ", " : "{", substr($1, 1, length($1) - 1), $2} END {print "}"}' "/proc/$1/status"
}
stop_summariser() {  # and its Lease, so that the next one leads at once
  kill -TERM "$SUM_PID"
  wait "$SUM_PID" 2>/dev/null || true
  kc -n lvs-rs-operator delete lease lvs-rs-operator-summariser >/dev/null
}
start_summariser() {  # start_summariser BINARY TAG: sets SUM_PID once it holds the Lease
  ip netns exec "$P-summariser" "$1" run --kubeconfig "$KDIR/operator.kubeconfig" --node-name summariser \
    --state-dir "$WORK/state-$2" >"$WORK/summariser-$2.log" 2>&1 &
  SUM_PID=$!
  PIDS+=("$SUM_PID")
  wait_for 120 "the $2 summariser holding the Lease" bash -c "[ \"\$(\"$KCLUSTER\" kubectl \"$KDIR\" -n lvs-rs-operator get lease lvs-rs-operator-summariser -o jsonpath='{.spec.holderIdentity}')\" = summariser ]"
}
loadgen() {  # loadgen TAG [FLAGS]: the load generator's JSON into $WORK/TAG.json
  ip netns exec "$P-loadgen" "$LOADGEN" --kubeconfig "$KDIR/operator.kubeconfig" --nodes "$NODES" \
    --summariser-pid "$SUM_PID" "${@:2}" >"$WORK/$1.json"
}

log "control plane (namespace $P-cp)"
mkdir -p "$KDIR"
"$KCLUSTER" up "$KDIR" "$P-cp" >/dev/null 2>"$WORK/up.log" || { cat "$WORK/up.log" >&2; exit 1; }
kc apply -k "$ROOT/crd/" >/dev/null
kc create namespace lvs-rs-operator >/dev/null 2>&1 || true
kc apply -f "$ROOT/manifests/rbac.yaml" >/dev/null
kc wait --for condition=established --timeout=60s crd/virtualips.lvsdr.io crd/realservers.lvsdr.io >/dev/null
"$KCLUSTER" operator-kubeconfig "$KDIR"
kc apply -f - >/dev/null <<'EOF'
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "summariser", "labels": {"lvsrs-bench/role": "summariser"}}}
EOF
# The VirtualIPs every load-generated node carries (the loadgen's defaults: 10 of 100 addresses).
python3 - >"$WORK/vips.json" <<'EOF'
import ipaddress, json
base = int(ipaddress.IPv4Address("198.18.0.1"))  # VipAddress(i) of bench/workload.cpp
items = [{"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP", "metadata": {"name": f"lg-{v}"},
          "spec": {"addresses": [str(ipaddress.IPv4Address(base + v * 100 + k)) for k in range(100)],
                   "nodeSelector": {"matchLabels": {"lvsrs-bench/role": "loadgen"}}}} for v in range(10)]
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
EOF
kc apply -f - >/dev/null <"$WORK/vips.json"
node_ns summariser 1
node_ns loadgen 2
start_summariser "$BIN" after
log "$NODES RealServers, then lg-0 flipped on all of them (summariser: this build, pid $SUM_PID)"
loadgen after
cp "$WORK/summariser-after.log" "${OUT_JSON%.json}-summariser.log"

# A new leader (the old one died, or was rolled) lists every RealServer at once, where the first
# one saw them come one by one: its peak is the other figure that matters.
log "this build taking over: a new summariser lists all $NODES RealServers"
stop_summariser
start_summariser "$BIN" takeover
sleep 30 # its list, then a summary period; nothing to wait for in READY (already N/N)
echo "{\"memory\": $(mem_json "$SUM_PID")}" >"$WORK/takeover.json"

if [ -n "${BEFORE_BIN:-}" ]; then
  log "the same flips with $BEFORE_BIN as the summariser (it takes over: lists them all first)"
  stop_summariser
  start_summariser "$BEFORE_BIN" before
  sleep 30
  loadgen before --skip-create
fi

python3 - "$WORK" "$NODES" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT_JSON" <<'EOF'
import json, os, sys
work, nodes, nproc, load = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = {"nodes": nodes, "nproc": nproc, "loadavg_end": load}
for tag in ("after", "takeover", "before"):
    p = os.path.join(work, tag + ".json")
    if os.path.exists(p):
        out[tag] = json.load(open(p))
json.dump(out, sys.stdout, indent=1)
EOF
log "written $OUT_JSON"
