#!/usr/bin/env bash
# The product installed as the README says (`kubectl apply -k manifests/`, the image built from the
# Dockerfile) on a real cluster of this machine (tests/node/node_cluster.sh: a control plane and
# two nodes, each a network namespace with containerd + kubelet). Asserts with kubectl and with
# `ip -j` in each node namespace what only a kubelet exercises: scheduling, the downward API,
# the service-account token and in-cluster config, the probes, readOnlyRootFilesystem, the
# hostPath state directory, `kubectl logs` / `kubectl exec`, and a rolling update during which no
# VIP leaves a node (watched with `ip monitor`, not sampled).
# Usage: daemonset_on_kubelet.sh SOURCE_DIR   (root; binaries from scripts/setup.d/50-kube-apiserver.sh)
set -euo pipefail
SRC=$(cd "${1:?source dir}" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CLUSTER=$HERE/node_cluster.sh
PREFIX=lvsrs-kn$$
WORK=$(mktemp -d /tmp/lvsrs-node.XXXXXX)
N1=$PREFIX-n1
N2=$PREFIX-n2
MONITORS=()

cleanup() {
  local pid
  for pid in "${MONITORS[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$CLUSTER" down "$WORK" || echo "FAIL: teardown left something behind"
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
expect() {  # DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
eventually() {  # SECONDS DESCRIPTION COMMAND...: the command succeeds within SECONDS
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs; i++)); do
    if "$@" >/dev/null 2>&1; then ok "$what"; return 0; fi
    sleep 1
  done
  fail "$what (not within ${secs}s)"
  return 1
}
k() { bash "$CLUSTER" kubectl "$WORK" "$@"; }
kn() { k -n lvs-rs-operator "$@"; }
has_addr() {  # NETNS ADDR: ADDR is on lo in NETNS
  ip -n "$1" -j addr show dev lo | python3 -c 'import json,sys; a=sys.argv[1]; sys.exit(0 if any(i["local"]==a for l in json.load(sys.stdin) for i in l["addr_info"]) else 1)' "$2"
}
no_process_mentions() {  # TEXT: no process but this shell has TEXT on its command line
  local f pid found=0
  for f in /proc/[0-9]*/cmdline; do
    pid=${f#/proc/}
    pid=${pid%/cmdline}
    [ "$pid" = "$BASHPID" ] && continue
    if grep -qsF -- "$1" "$f"; then echo "left: $pid $(tr '\0' ' ' <"$f")"; found=1; fi
  done
  ((found == 0))
}
lacks_addr() { ! has_addr "$@"; }
all_pods_run() {  # IMAGE: every pod of the DaemonSet runs IMAGE
  local images
  images=$(kn get pods -l app.kubernetes.io/name=lvs-rs-operator -o jsonpath='{range .items[*]}{.spec.containers[0].image}{"\n"}{end}')
  [ -n "$images" ] && ! grep -vqx -- "$1" <<<"$images"
}
pod_on() {  # NODE: the DaemonSet's pod scheduled there
  kn get pods -l app.kubernetes.io/name=lvs-rs-operator --field-selector "spec.nodeName=$1" \
    -o jsonpath='{.items[0].metadata.name}'
}
ds_rolled_out() {  # every desired pod updated, available and ready
  kn rollout status ds/lvs-rs-operator --timeout=5s >/dev/null 2>&1
}

IMAGE=$(cd "$SRC" && kubectl kustomize manifests/ | awk '$1 == "image:" {print $2; exit}')
TAG=${IMAGE##*:}
echo "== cluster: control plane + nodes $N1 $N2 (work dir $WORK)"
bash "$CLUSTER" up "$WORK" "$PREFIX" 2
echo "== images: pause from the kubernetes source tree, $IMAGE from the Dockerfile"
bash "$CLUSTER" images "$WORK" "$SRC" "$TAG" "$TAG-rollout"

echo "== install as the README says"
k label node "$N1" lvsdr.io/real-server=true >/dev/null
(cd "$SRC" && k apply -k manifests/) >"$WORK/apply.log" 2>&1 || { cat "$WORK/apply.log"; exit 1; }
eventually 240 "DaemonSet rolled out: a pod Running and Ready on every node (real probes)" ds_rolled_out
for n in "$N1" "$N2"; do
  p=$(pod_on "$n")
  expect "pod on $n is Ready" test "$(kn get pod "$p" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True
done
k get nodes -o wide
kn get pods -o wide

echo "== a VirtualIP applied with kubectl converges on the selected node only"
(cd "$SRC" && k apply -f manifests/examples/web-vip.yaml) >/dev/null
eventually 60 "$N1 (labelled) carries 192.0.2.10 on lo" has_addr "$N1" 192.0.2.10
eventually 30 "$N1 (labelled) carries 2001:db8::10 on lo" has_addr "$N1" 2001:db8::10
eventually 60 "kubectl get vip: READY 1/1" sh -c "bash '$CLUSTER' kubectl '$WORK' get vip web -o jsonpath='{.status.ready}' | grep -qx 1/1"
expect "$N2 (not selected) carries no 192.0.2.10" lacks_addr "$N2" 192.0.2.10
expect "$N2 (not selected) carries no 2001:db8::10" lacks_addr "$N2" 2001:db8::10
expect "arp_ignore=1 on $N1 (the node's own /proc/sys, written from the pod)" test "$(ip netns exec "$N1" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 1
k get vip
k get lvsrs
p1=$(pod_on "$N1")
expect "kubectl describe vip web names the address" sh -c "bash '$CLUSTER' kubectl '$WORK' describe vip web | grep -q 192.0.2.10"
kn logs "$p1" >"$WORK/p1.log" 2>&1 || true
expect "kubectl logs: the agent knows its node (NODE_NAME, downward API)" grep -q "on node $N1," "$WORK/p1.log"
expect "kubectl logs: VirtualIPs from the in-cluster service account" grep -q "in-cluster service account" "$WORK/p1.log"
expect "kubectl logs: the node conformant" grep -q "node conformant" "$WORK/p1.log"
CHECK=(lvs-rs-operator check --vip 192.0.2.10 --vip 2001:db8::10)
if kn exec "$p1" -- "${CHECK[@]}" >"$WORK/check1.txt" 2>&1; then
  ok "kubectl exec $p1 -- lvs-rs-operator check: conformant (exit 0)"
else
  fail "kubectl exec $p1 -- lvs-rs-operator check"; cat "$WORK/check1.txt"
fi
expect "check on $N1 reports the VIP" grep -q 192.0.2.10 "$WORK/check1.txt"
# With no arguments, check reads what the API server asks of this node (in-cluster config,
# NODE_NAME): the VIPs on the selected node, nothing on the other.
if kn exec "$p1" -- lvs-rs-operator check >"$WORK/check-api.txt" 2>&1 && grep -q 192.0.2.10 "$WORK/check-api.txt"; then
  ok "kubectl exec $p1 -- lvs-rs-operator check (no arguments): the VirtualIPs from the API server, conformant"
else
  fail "kubectl exec $p1 -- lvs-rs-operator check (no arguments)"; cat "$WORK/check-api.txt"
fi
# The negative: check on the unselected node says the VIP is missing there (exit 1).
if kn exec "$(pod_on "$N2")" -- "${CHECK[@]}" >"$WORK/check-n2.txt" 2>&1; then
  fail "check on $N2 (not selected) should fail: the VIPs are not there"
else
  ok "kubectl exec ... check on $N2 tells the truth: not conformant for VIPs it does not carry"
fi
expect "the state directory is on the node's hostPath" test -s "$WORK/nodes/n1/hostpath-state/sysctl-originals.json"

echo "== rolling update to $TAG-rollout while ip monitor watches $N1"
ip -n "$N1" monitor address >"$WORK/monitor-n1.txt" 2>&1 &
MONITORS+=($!)
sleep 1
old_uid=$(kn get pod "$p1" -o jsonpath='{.metadata.uid}')
kn set image ds/lvs-rs-operator "operator=${IMAGE}-rollout" >/dev/null
eventually 300 "rolling update finished on both nodes" ds_rolled_out
expect "every pod runs ${IMAGE}-rollout" all_pods_run "${IMAGE}-rollout"
expect "the pod on $N1 was replaced" test "$(kn get pod "$(pod_on "$N1")" -o jsonpath='{.metadata.uid}')" != "$old_uid"
expect "no VIP left $N1 during the rolling update (ip monitor saw no Deleted)" sh -c "! grep -E '^Deleted.*(192\\.0\\.2\\.10|2001:db8::10)' '$WORK/monitor-n1.txt'"
expect "$N1 still carries 192.0.2.10" has_addr "$N1" 192.0.2.10

echo "== pod delete, container kill and a liveness failure keep the VIPs"
p1=$(pod_on "$N1")
kn delete pod "$p1" --wait=true >/dev/null
eventually 120 "a new pod on $N1 is Ready after the delete" ds_rolled_out
p1=$(pod_on "$N1")
cid=$(kn get pod "$p1" -o jsonpath='{.status.containerStatuses[0].containerID}')
ctr -a "$WORK/nodes/n1/containerd.sock" -n k8s.io tasks kill -s SIGKILL "${cid#containerd://}" >/dev/null
eventually 120 "the kubelet restarted the killed container" sh -c "test \"\$(bash '$CLUSTER' kubectl '$WORK' -n lvs-rs-operator get pod '$p1' -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -ge 1"
eventually 120 "the pod on $N1 is Ready again" ds_rolled_out
# A liveness failure: the agent stops answering /healthz (SIGSTOP, as a hung process would), the
# kubelet's probe fails three times, it kills the container (SIGKILL after the grace period) and
# starts a new one.
restart_count() { kn get pod "$p1" -o jsonpath='{.status.containerStatuses[0].restartCount}'; }
restarts=$(restart_count)
cid=$(kn get pod "$p1" -o jsonpath='{.status.containerStatuses[0].containerID}')
agent_pid=$(ctr -a "$WORK/nodes/n1/containerd.sock" -n k8s.io tasks ls | awk -v id="${cid#containerd://}" '$1 == id {print $2}')
if [ -n "$agent_pid" ] && kill -STOP "$agent_pid"; then
  eventually 180 "the kubelet restarted the container whose liveness probe failed" \
    sh -c "test \"\$(bash '$CLUSTER' kubectl '$WORK' -n lvs-rs-operator get pod '$p1' -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -gt $restarts"
  expect "the pod's events say the liveness probe failed" \
    sh -c "bash '$CLUSTER' kubectl '$WORK' -n lvs-rs-operator get events --field-selector involvedObject.name=$p1 -o jsonpath='{.items[*].message}' | grep -q 'Liveness probe failed'"
  eventually 120 "the pod on $N1 is Ready again after the liveness restart" ds_rolled_out
else
  fail "no running agent process found for container $cid"
fi
expect "no VIP left $N1 through update, delete, kill and liveness failure (ip monitor)" sh -c "! grep -E '^Deleted.*(192\\.0\\.2\\.10|2001:db8::10)' '$WORK/monitor-n1.txt'"
if kn exec "$p1" -- "${CHECK[@]}" >"$WORK/check2.txt" 2>&1; then
  ok "$N1 conformant again (check from the new pod)"
else
  fail "$N1 conformant again"; cat "$WORK/check2.txt"
fi

echo "== the state directory survives pod replacement: cleanup from a later pod restores"
# Stop the agent on n1 only (a node selector no node matches) so cleanup may take the lock, then
# run cleanup in a pod of the same image with the same hostPath.
kn patch ds lvs-rs-operator --type=json \
  -p '[{"op":"add","path":"/spec/template/spec/nodeSelector","value":{"lvsdr.io/test-node":"n2"}}]' >/dev/null
eventually 120 "the agent on $N1 is gone" sh -c "test -z \"\$(bash '$CLUSTER' kubectl '$WORK' -n lvs-rs-operator get pods --field-selector spec.nodeName=$N1 -o name)\""
cat <<POD | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: cleanup, namespace: lvs-rs-operator}
spec:
  nodeName: $N1
  hostNetwork: true
  restartPolicy: Never
  containers:
  - name: cleanup
    image: ${IMAGE}-rollout
    imagePullPolicy: Never
    args: [cleanup, --state-dir=/var/lib/lvs-rs-operator]
    securityContext: {privileged: true, readOnlyRootFilesystem: true}
    volumeMounts: [{name: state, mountPath: /var/lib/lvs-rs-operator}]
  volumes: [{name: state, hostPath: {path: /var/lib/lvs-rs-operator, type: Directory}}]
POD
eventually 120 "the cleanup pod succeeded" sh -c "test \"\$(bash '$CLUSTER' kubectl '$WORK' -n lvs-rs-operator get pod cleanup -o jsonpath='{.status.phase}')\" = Succeeded"
kn logs cleanup || true
expect "cleanup removed 192.0.2.10 from $N1" lacks_addr "$N1" 192.0.2.10
expect "cleanup restored arp_ignore=0 on $N1 (recorded by the first pod)" test "$(ip netns exec "$N1" cat /proc/sys/net/ipv4/conf/all/arp_ignore)" = 0

# The positive control of the `ip monitor` assertions above: the watch was live and does report a
# VIP leaving (here, the one cleanup removed).
expect "ip monitor on $N1 did see the VIP leave at cleanup (the watch was live)" \
  grep -qE '^Deleted.*192\.0\.2\.10' "$WORK/monitor-n1.txt"

echo "== teardown by pid and namespace leaves nothing behind"
for pid in "${MONITORS[@]}"; do kill "$pid" 2>/dev/null || true; done
MONITORS=()
expect "node_cluster.sh down" bash "$CLUSTER" down "$WORK"
expect "no network namespace $PREFIX-* left" sh -c "! ip netns list | grep -q '^$PREFIX-'"
expect "no process of the cluster left (kubelet, containerd, shims, pods)" no_process_mentions "$WORK/"
expect "no mount left under $WORK" sh -c "! findmnt -rn -o TARGET | grep -qF '$WORK/'"
expect "no container cgroup left (/sys/fs/cgroup/*/k8s.io)" sh -c "! ls -d /sys/fs/cgroup/*/k8s.io 2>/dev/null | grep -q ."

echo "$passed passed, $failed failed"
((failed == 0))
