# Kubernetes figures of the benchmark suite, sourced by bench/run.sh (not run on its own): a real
# etcd + kube-apiserver 1.20 (tests/support/kube_cluster.sh) in namespace lvsrs-f-<pid>-cp with its
# audit log on (policy: every request at level Metadata), node namespaces lvsrs-f-<pid>-* attached
# to its bridge, one `lvs-rs-operator run` (Kubernetes mode, default flags) per node.
#
#   kube_start    before the other figures:
#                 1. `kubectl apply` of a VirtualIP -> address in the node namespace (KUBE_TRIALS
#                    trials), and the same with a direct HTTPS POST (curl) to separate kubectl's
#                    own start-up: lvsrs-bench-kernel apply times from just before it starts the
#                    command until the node's kernel announces the address (RTM_NEWADDR).
#                 2. fleet: FLEET_NODES node namespaces, each with its own operator; FLEET_TRIALS
#                    VirtualIPs applied with kubectl, each timed until every node has it; then
#                    FLEET_TRIALS more with curl. Meanwhile bench/vip_ready_watch.py watches
#                    VirtualIPs and times when each trial's status.ready (the summariser's READY
#                    column) first reads FLEET_NODES/FLEET_NODES; the fleet's CPU (utime+stime of
#                    every operator, of kube-apiserver and of etcd) is read before and after each
#                    set of trials.
#                 3. steady: one more node with STEADY_VIPS addresses (VirtualIPs of 100), and
#                    prometheus-node-exporter beside it; opens the STEADY_WINDOW-second window.
#   kube_finish   after the other figures: waits for the window to end, then records the steady
#                 node's RSS and CPU, node_exporter's, the fleet's memory (sum of VmRSS, and of Pss
#                 from smaps_rollup: shared pages counted once) and CPU over the window, and every
#                 operator's API requests in the window from the audit log (bench/kube_audit.py);
#                 tears the cluster down.
#   kube_cleanup  from run.sh's EXIT trap: stops every process and namespace of ours.
#
# Node addresses: fleet node i (1..FLEET_NODES, up to 65,000) is attach index 256+i, i.e.
# 198.19.0.0 + 256 + i (198.19.1.1 for fleet-1, 198.19.1.200 for fleet-200), the steady node
# 198.51.100.110, the trial node .111 (kube_cluster.sh attach), so the audit log's sourceIPs tell
# the nodes apart (they all use the same ServiceAccount). Trial VIPs: VipAddress(20000+t) etc.
# (198.18.78.x+), on the nodes' lo, so they never meet the node addresses.
#
# At 200 nodes: 200 ports on br0 (a bridge takes 1,024); ~400 neighbour entries (the control
# plane's ARP entry for each node and each node's for the control plane) against the kernel's
# neigh table gc_thresh2 of 512 (a global sysctl, not settable inside a namespace: it is left
# alone); ~800 TLS connections and 400 watches on kube-apiserver (Go 1.19 raises its own file
# limit; watches do not count against --max-requests-inflight); the operators are started one
# after the other as their namespaces are made (~0.1 s apart), not staggered further.
KCLUSTER=$ROOT/tests/support/kube_cluster.sh
KPREFIX=lvsrs-f-$$
KCP=$KPREFIX-cp
KDIR=$WORK/kube
KPIDS=()
KUBE_OK=0
STEADY_IP=198.51.100.110
TRIAL_IP=198.51.100.111

kube_available() {  # the same test as KubeCluster::Available (tests/kube skips on it)
  local apiserver=${KUBE_APISERVER:-${LVSRS_CACHE:-/var/cache/lvs-rs-operator}/kube-apiserver}
  [ -x "$apiserver" ] && command -v etcd >/dev/null && command -v kubectl >/dev/null && command -v openssl >/dev/null
}

kube_cleanup() {
  local pid ns
  for pid in "${KPIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${KPIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  KPIDS=()
  [ -f "$KDIR/env" ] && "$KCLUSTER" down "$KDIR" >/dev/null 2>&1 || true
  for ns in $(ip netns list | awk '{print $1}' | grep "^$KPREFIX-" || true); do ip netns del "$ns"; done
}

kc() { "$KCLUSTER" kubectl "$KDIR" "$@"; }

kube_node() {  # kube_node NAME INDEX: namespace lvsrs-f-<pid>-NAME attached with that index
  fresh_netns "$KPREFIX-$1"
  "$KCLUSTER" attach "$KDIR" "$KPREFIX-$1" "$2"
}

kube_operator() {  # kube_operator NAME [BINARY]: the operator of node NAME, Kubernetes mode, default flags
  ip netns exec "$KPREFIX-$1" "${2:-$BIN}" run --kubeconfig "$KDIR/operator.kubeconfig" --node-name "$1" \
    --state-dir "$WORK/kstate-$1" >"$WORK/operator-$1.log" 2>&1 &
  KPIDS+=("$!")
  eval "KPID_${1//-/_}=$!"
}

wait_for() {  # wait_for SECONDS WHAT CMD...: setup only (never a measurement): poll CMD every 0.2 s
  local until=$((SECONDS + $1)) what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < until)) || { echo "bench: $what not reached in time" >&2; return 1; }
    sleep 0.2
  done
}

fleet_ip() {  # fleet_ip I: fleet node I's address (attach index 256+I)
  echo "198.19.$(((256 + $1) / 256)).$(((256 + $1) % 256))"
}

fleet_cpu() {  # fleet_cpu: JSON of CPU ticks so far: every fleet operator, kube-apiserver, etcd
  local i ops=()
  for i in $(seq "$FLEET_NODES"); do ops+=("$(cpu_ticks "$(eval echo "\$KPID_fleet_$i")")"); done
  printf '{"operators": [%s], "apiserver": %s, "etcd": %s}' "$(IFS=,; echo "${ops[*]}")" \
    "$(cpu_ticks "$(cat "$KDIR/apiserver.pid")")" "$(cpu_ticks "$(cat "$KDIR/etcd.pid")")"
}

fleet_passes() {  # fleet_passes: JSON list, each fleet operator's full passes so far (its /metrics; null without)
  local i out=()
  for i in $(seq "$FLEET_NODES"); do
    out+=("$(ip netns exec "$KPREFIX-fleet-$i" curl -sf --max-time 5 http://127.0.0.1:8470/metrics 2>/dev/null |
      awk '/^lvs_rs_reconcile_duration_seconds_count / {print $2; found=1} END {if (!found) print "null"}')")
  done
  printf '[%s]' "$(IFS=,; echo "${out[*]}")"
}

fleet_memory() {  # fleet_memory: JSON, KiB summed over the fleet's operators: VmRSS, and Pss
  local i pid rss=0 pss=0
  for i in $(seq "$FLEET_NODES"); do
    pid=$(eval echo "\$KPID_fleet_$i")
    rss=$((rss + $(rss_kib "$pid")))
    pss=$((pss + $(awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup")))
  done
  printf '{"rss_kib": %s, "pss_kib": %s}' "$rss" "$pss"
}

kube_vips() {  # kube_vips FIRST COUNT PER_OBJECT ROLE NAME_PREFIX OUT_STEM: VirtualIP files
  python3 - "$@" <<'EOF'
import ipaddress, json, sys
first, count, per, role, prefix, stem = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), *sys.argv[4:]
base = int(ipaddress.IPv4Address("198.18.0.1"))  # VipAddress(i) of bench/workload.cpp
for k in range(0, count, per):
    idx = list(range(first + k, first + min(k + per, count)))
    name = f"{prefix}-{idx[0]}"
    obj = {"apiVersion": "lvsdr.io/v1alpha1", "kind": "VirtualIP", "metadata": {"name": name},
           "spec": {"addresses": [str(ipaddress.IPv4Address(base + i)) for i in idx],
                    "nodeSelector": {"matchLabels": {"lvsrs-bench/role": role}}}}
    # One file per object, named by its first index: the {} of lvsrs-bench-kernel apply.
    for ext in ("json", "yaml"):  # JSON is YAML: kubectl reads either
        with open(f"{stem}-{idx[0]}.{ext}", "w") as f:
            json.dump(obj, f)
EOF
}

kube_start() {
  if ! kube_available; then
    log "Kubernetes figures skipped: no kube-apiserver (scripts/setup.d/50-kube-apiserver.sh) or etcd/kubectl"
    echo '{"skipped": "kube-apiserver, etcd or kubectl not available"}' >"$OUT/kube.json"
    return 0
  fi
  KUBE_OK=1
  rm -f "$OUT/kube.json"
  log "Kubernetes: etcd + kube-apiserver with the audit log on (namespace $KCP)"
  mkdir -p "$KDIR"
  printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n' >"$WORK/audit-policy.yaml"
  "$KCLUSTER" up "$KDIR" "$KCP" --audit-policy-file="$WORK/audit-policy.yaml" \
    --audit-log-path="$KDIR/audit.log" --audit-log-format=json 2>"$WORK/kube-up.log" >/dev/null ||
    { cat "$WORK/kube-up.log" >&2; return 1; }
  # What KubeCluster::InstallProduct does.
  kc apply -k "$ROOT/crd/" >/dev/null
  kc create namespace lvs-rs-operator >/dev/null 2>&1 || true
  kc apply -f "$ROOT/manifests/rbac.yaml" >/dev/null
  kc wait --for condition=established --timeout=60s crd/virtualips.lvsdr.io crd/realservers.lvsdr.io >/dev/null
  "$KCLUSTER" operator-kubeconfig "$KDIR"
  local token kubectl_cmd curl_cmd i nodes=() watch
  token=$(cut -d, -f1 "$KDIR/tokens.csv")
  # kubectl as a user runs it (discovery cached after the first call; its own cache dir so that
  # no other cluster's cache is used), from inside the control plane's namespace.
  kubectl_cmd=(kubectl --kubeconfig "$KDIR/admin.kubeconfig" --cache-dir "$WORK/kubectl-cache" apply -f)
  curl_cmd=(curl -sf -o /dev/null --cacert "$KDIR/ca.crt" -H "Authorization: Bearer $token"
    -H "Content-Type: application/json" https://127.0.0.1:6443/apis/lvsdr.io/v1alpha1/virtualips --data-binary)

  # Node objects, all at once: trial, steady and the fleet, told apart by a label.
  {
    echo '{"apiVersion": "v1", "kind": "List", "items": ['
    echo '{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "trial", "labels": {"lvsrs-bench/role": "trial"}}},'
    echo '{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "steady", "labels": {"lvsrs-bench/role": "steady"}}}'
    for i in $(seq "$FLEET_NODES"); do
      echo ",{\"apiVersion\": \"v1\", \"kind\": \"Node\", \"metadata\": {\"name\": \"fleet-$i\", \"labels\": {\"lvsrs-bench/role\": \"fleet\"}}}"
    done
    echo ']}'
  } >"$WORK/nodes.json"
  kc apply -f "$WORK/nodes.json" >/dev/null

  # ---- 1. kubectl apply -> address, and POST -> address, on the trial node ----
  kube_node trial 101
  kube_operator trial
  wait_for 60 "trial node's RealServer" kc get realserver trial
  kube_vips 19999 1 1 trial bench "$WORK/kvip"  # warm-up: kubectl's discovery cache
  "$KBENCH" apply --watch "$KPREFIX-trial" --exec-netns "$KCP" --first 19999 --trials 1 -- \
    "${kubectl_cmd[@]}" "$WORK/kvip-{}.yaml" >/dev/null
  kube_vips 20000 "$KUBE_TRIALS" 1 trial bench "$WORK/kvip"
  kube_vips 21000 "$KUBE_TRIALS" 1 trial bench "$WORK/kvip"
  log "kubectl apply of a VirtualIP -> address on the node ($KUBE_TRIALS trials)"
  "$KBENCH" apply --watch "$KPREFIX-trial" --exec-netns "$KCP" --first 20000 --trials "$KUBE_TRIALS" -- \
    "${kubectl_cmd[@]}" "$WORK/kvip-{}.yaml" >"$OUT/kube-apply-kubectl.json"
  log "HTTPS POST (curl) of a VirtualIP -> address on the node ($KUBE_TRIALS trials)"
  "$KBENCH" apply --watch "$KPREFIX-trial" --exec-netns "$KCP" --first 21000 --trials "$KUBE_TRIALS" -- \
    "${curl_cmd[@]}" "@$WORK/kvip-{}.json" >"$OUT/kube-apply-curl.json"

  # ---- 2. fleet ----
  log "fleet: $FLEET_NODES node namespaces, one operator each"
  local fleet_t0=$SECONDS fleet_up ready_pid names cpu0 cpu1 cpu2 cpu1b passes0 passes1 passes2 t before=()
  for i in $(seq "$FLEET_NODES"); do
    kube_node "fleet-$i" "$((256 + i))"
    # FLEET_BEFORE_BIN: the odd-numbered nodes run that build instead, an anchor in the same run.
    if [ -n "${FLEET_BEFORE_BIN:-}" ] && ((i % 2)); then
      kube_operator "fleet-$i" "$FLEET_BEFORE_BIN"
      before+=("$i")
    else
      kube_operator "fleet-$i"
    fi
    nodes+=("$KPREFIX-fleet-$i")
  done
  # Every operator has listed and reported (RealServer created) before the clock starts.
  wait_for $((180 + FLEET_NODES)) "$FLEET_NODES fleet RealServers" \
    bash -c "[ \$(\"$KCLUSTER\" kubectl \"$KDIR\" get realservers -o name | grep -c fleet-) -ge $FLEET_NODES ]"
  fleet_up=$((SECONDS - fleet_t0))
  log "fleet: $FLEET_NODES RealServers after ${fleet_up}s"
  sleep 5  # the start-up's status writes settle before the clock starts
  kube_vips 22000 "$FLEET_TRIALS" 1 fleet bench "$WORK/kvip"
  kube_vips 23000 "$FLEET_TRIALS" 1 fleet bench "$WORK/kvip"
  # The summariser's READY of every fleet trial, from a watch (bench/vip_ready_watch.py).
  names=$(for t in $(seq 0 $((FLEET_TRIALS - 1))); do printf 'bench-%s,bench-%s,' $((22000 + t)) $((23000 + t)); done)
  rm -f "$WORK/ready-started"
  ip netns exec "$KCP" python3 "$ROOT/bench/vip_ready_watch.py" https://127.0.0.1:6443 "$KDIR/ca.crt" "$token" \
    "$FLEET_NODES/$FLEET_NODES" "$names" $((300 + 60 * FLEET_TRIALS)) "$WORK/ready-started" >"$WORK/ready.json" &
  ready_pid=$!
  KPIDS+=("$ready_pid")
  wait_for 30 "the READY watch" test -f "$WORK/ready-started"
  watch=$(IFS=,; echo "${nodes[*]}")
  passes0=$(fleet_passes)
  cpu0=$(fleet_cpu)
  log "fleet: a VirtualIP applied with kubectl -> address on all $FLEET_NODES nodes ($FLEET_TRIALS trials)"
  "$KBENCH" apply --watch "$watch" --exec-netns "$KCP" --first 22000 --trials "$FLEET_TRIALS" -- \
    "${kubectl_cmd[@]}" "$WORK/kvip-{}.yaml" >"$OUT/kube-fleet.json"
  cpu1=$(fleet_cpu)
  passes1=$(fleet_passes)
  cpu1b=$(fleet_cpu)  # the scrapes above are in neither interval
  log "fleet: the same with an HTTPS POST (curl) ($FLEET_TRIALS trials)"
  "$KBENCH" apply --watch "$watch" --exec-netns "$KCP" --first 23000 --trials "$FLEET_TRIALS" -- \
    "${curl_cmd[@]}" "@$WORK/kvip-{}.json" >"$OUT/kube-fleet-curl.json"
  cpu2=$(fleet_cpu)
  passes2=$(fleet_passes)
  log "fleet: waiting for the summariser's READY $FLEET_NODES/$FLEET_NODES on the $((2 * FLEET_TRIALS)) trial VirtualIPs"
  wait "$ready_pid" || { echo "bench: the READY watch failed" >&2; return 1; }
  cat >"$OUT/kube-fleet-extra.json" <<EOF
{"nodes": $FLEET_NODES, "trials": $FLEET_TRIALS, "clk_tck": $(getconf CLK_TCK), "start_s": $fleet_up,
 "cpu": {"before": $cpu0, "after_kubectl": $cpu1, "before_curl": $cpu1b, "after_curl": $cpu2},
 "passes": {"before": $passes0, "after_kubectl": $passes1, "after_curl": $passes2},
 "before_bin": "${FLEET_BEFORE_BIN:-}", "before_nodes": [$(IFS=,; echo "${before[*]}")],
 "ready": $(cat "$WORK/ready.json")}
EOF

  # ---- 3. steady state: STEADY_VIPS addresses on one node, node_exporter beside it ----
  log "steady state: $STEADY_VIPS VIPs on node 'steady', ${STEADY_WINDOW}s window from now on"
  kube_node steady 100
  kube_vips 0 "$STEADY_VIPS" 100 steady steady "$WORK/svip"
  for f in "$WORK"/svip-*.json; do kc apply -f "$f" >/dev/null; done
  kube_operator steady
  ip netns exec "$KPREFIX-steady" prometheus-node-exporter --web.listen-address=127.0.0.1:9100 >/dev/null 2>&1 &
  KPIDS+=("$!")
  KNE_PID=$!
  wait_for 120 "steady node converged" \
    bash -c "[ \"\$(\"$KCLUSTER\" kubectl \"$KDIR\" get realserver steady -o jsonpath='{.status.vips}')\" = \"$STEADY_VIPS/$STEADY_VIPS\" ]"
  ip netns exec "$KPREFIX-steady" curl -sf -o /dev/null http://127.0.0.1:9100/metrics  # collectors initialised
  sleep 5  # the last status write and Events of the converge land before the window
  KT0=$(date +%s.%N)
  KOP0=$(cpu_ticks "$KPID_steady")
  KNE0=$(cpu_ticks "$KNE_PID")
  KFLEET_CPU0=$(fleet_cpu)
}

kube_finish() {
  ((KUBE_OK)) || return 0
  local left
  left=$(python3 -c "import time; print(max(0, $KT0 + $STEADY_WINDOW - time.time()))")
  log "steady state: waiting ${left%.*}s for the end of the ${STEADY_WINDOW}s window"
  sleep "$left"
  local t1 op1 ne1 fleet_mem fleet_cpu1 fleet_ips i
  t1=$(date +%s.%N)
  op1=$(cpu_ticks "$KPID_steady")
  ne1=$(cpu_ticks "$KNE_PID")
  fleet_cpu1=$(fleet_cpu)
  fleet_mem=$(fleet_memory)
  fleet_ips=$(for i in $(seq "$FLEET_NODES"); do printf ',"%s"' "$(fleet_ip "$i")"; done)
  # Bytes a watcher receives per change: a VirtualIP (as in the fleet trials) and a RealServer.
  local vip_bytes rs1_bytes rsn_bytes holder
  vip_bytes=$(kc get virtualip bench-22000 -o json | wc -c)
  rs1_bytes=$(kc get realserver fleet-1 -o json | wc -c)
  rsn_bytes=$(kc get realserver steady -o json | wc -c)
  holder=$(kc -n lvs-rs-operator get lease lvs-rs-operator-summariser -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true)
  cat >"$WORK/steady.json" <<EOF
{"window_s": $(python3 -c "print($t1 - $KT0)"), "t0": $KT0, "t1": $t1, "vips": $STEADY_VIPS, "clk_tck": $(getconf CLK_TCK),
 "operator": {"rss_kib": $(rss_kib "$KPID_steady"), "cpu_ticks": $((op1 - KOP0)),
              "threads": $(awk '/^Threads/ {print $2}' "/proc/$KPID_steady/status")},
 "node_exporter": {"rss_kib": $(rss_kib "$KNE_PID"), "cpu_ticks": $((ne1 - KNE0))},
 "fleet_nodes": $FLEET_NODES, "fleet_memory": $fleet_mem, "fleet_cpu": {"t0": $KFLEET_CPU0, "t1": $fleet_cpu1},
 "fleet_ips": [${fleet_ips#,}], "steady_ip": "$STEADY_IP", "trial_ip": "$TRIAL_IP",
 "lease_holder": "$holder", "bytes": {"virtualip_1_address": $vip_bytes, "realserver_1_vip": $rs1_bytes,
 "realserver_${STEADY_VIPS}_vips": $rsn_bytes}}
EOF
  log "counting API requests in the window (audit log)"
  python3 "$ROOT/bench/kube_audit.py" "$KDIR/audit.log" "$WORK/steady.json" >"$OUT/kube-steady.json"
  ((SMOKE)) && cp "$KDIR/audit.log" "$OUT/kube-audit.log"  # small; kept for a look at what was counted
  # KUBE_AUDIT_COPY=FILE keeps a full run's audit log (tens of MB at 200 nodes) for a closer look.
  [ -z "${KUBE_AUDIT_COPY:-}" ] || cp "$KDIR/audit.log" "$KUBE_AUDIT_COPY"
  cp "$WORK/operator-steady.log" "$OUT/kube-steady-operator.log"
  kube_cleanup
}
