#!/usr/bin/env bash
# A real Kubernetes 1.20 cluster on this machine for the real-node test: the control plane of
# tests/support/kube_cluster.sh (etcd + kube-apiserver in netns CP) plus kube-controller-manager
# and kube-scheduler there, and per node a network namespace with containerd + kubelet, so that the
# DaemonSet from `kubectl apply -k manifests/` is scheduled, pulled from the node's image store,
# probed, logged and exec'ed by a real kubelet. Binaries come from scripts/setup.d/50-kube-apiserver.sh.
#
#   node_cluster.sh up DIR PREFIX NODES SRC   control plane netns PREFIX-cp, nodes PREFIX-n1..NODES
#   node_cluster.sh images DIR SRC TAG...     build pause + the Dockerfile's image (podman), import
#                                             it into every node's containerd as
#                                             docker.io/library/lvs-rs-operator:TAG for each TAG
#   node_cluster.sh kubectl DIR ARGS...       kubectl as cluster admin
#   node_cluster.sh down DIR                  stop everything by pid, delete the namespaces, and
#                                             remove what the kubelets and containerds left
#
# Per node N (netns PREFIX-nN, eth0 = 198.51.100.(10+N)/24, node name PREFIX-nN):
#  - both daemons start with `nsenter --net=/run/netns/..` (not `ip netns exec`, which remounts
#    /sys and hides the cgroup mounts from the kubelet: "mountpoint for cpu not found") inside a
#    private mount namespace of their own (`unshare --mount`): the secret and overlay mounts they
#    make die with it, and the DaemonSet's hostPath /var/lib/lvs-rs-operator and the kubelet's
#    /var/log/pods are per-node directories under DIR bind-mounted there (two nodes on one machine
#    must not share "the host's" state directory);
#  - containerd with its own root, state, socket, runc root and CNI conf dir, and CRI
#    restrict_oom_score_adj = true (no CAP_SYS_RESOURCE here: the sandbox's -998 kills runc init);
#  - kubelet --cgroup-driver=cgroupfs --cgroups-per-qos=false --enforce-node-allocatable=""
#    --fail-swap-on=false, own --root-dir, --node-ip; client certificate CN=system:node:NAME;
#  - nftables DNAT 203.0.113.1:443 (the `kubernetes` Service's ClusterIP) -> 198.51.100.1:6443, as
#    kube-proxy would, so in-cluster config works from the hostNetwork pod.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KUBE_CLUSTER=$HERE/../support/kube_cluster.sh
LVSRS_CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}
CP_IP=198.51.100.1
SERVICE_IP=203.0.113.1
PAUSE_IMAGE=k8s.gcr.io/pause:3.4

die() { echo "node_cluster.sh: $*" >&2; exit 1; }
log() { echo "node_cluster.sh: $*" >&2; }

sign_client_cert() {  # DIR NAME CN ORG: DIR/NAME.{key,crt}, signed by the cluster's CA ($CA_DIR)
  local dir=$1 name=$2 cn=$3 org=$4
  openssl req -newkey rsa:2048 -nodes -subj "/O=$org/CN=$cn" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf 'extendedKeyUsage=clientAuth\n' >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$CA_DIR/ca.crt" -CAkey "$CA_DIR/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
}

cert_kubeconfig() {  # FILE SERVER CA CERT KEY
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {server: "$2", certificate-authority: "$3"}
users:
- name: user
  user: {client-certificate: "$4", client-key: "$5"}
contexts:
- name: test
  context: {cluster: test, user: user}
current-context: test
KC
}

wait_for() {  # SECONDS DESCRIPTION COMMAND...
  local secs=$1 what=$2 i
  shift 2
  for ((i = 0; i < secs * 2; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $what"
}

kctl() { ip netns exec "$CP_NETNS" kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }

start_node() {  # DIR INDEX
  local dir=$1 i=$2
  local name="$PREFIX-n$i" nd="$dir/nodes/n$i"
  local ip="198.51.100.$((10 + i))"
  mkdir -p "$nd"/{containerd,cni,kubelet,volume-plugins,hostpath-state,log}
  ip netns add "$name"
  echo "$name" >>"$dir/netns.list"
  bash "$KUBE_CLUSTER" attach "$dir/cp" "$name" "$i"
  ip -n "$name" route add default via "$CP_IP"
  # What kube-proxy would do for the `kubernetes` Service (there is no kube-proxy here).
  ip netns exec "$name" nft -f - <<NFT
table ip lvsrs_node_test {
  chain output {
    type nat hook output priority -100; policy accept;
    ip daddr $SERVICE_IP tcp dport 443 dnat to $CP_IP:6443
  }
}
NFT
  # Every pod here is hostNetwork; a CNI config must still exist for the runtime to report the
  # network ready (no pod uses it).
  cat >"$nd/cni/10-bridge.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "lvsrs-node-test", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": false,
   "ipam": {"type": "host-local", "dataDir": "$nd/cni/ipam",
            "ranges": [[{"subnet": "192.0.2.$((64 * (i - 1)))/26"}]]}},
  {"type": "loopback"}]}
CNI
  cat >"$nd/containerd.toml" <<TOML
version = 2
root = "$nd/containerd/root"
state = "$nd/containerd/state"
[grpc]
  address = "$nd/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$nd/containerd/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "$nd/containerd/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$nd/cni"
TOML
  sign_client_cert "$nd" kubelet "system:node:$name" system:nodes
  cert_kubeconfig "$nd/kubelet.kubeconfig" "https://$CP_IP:6443" "$dir/cp/ca.crt" "$nd/kubelet.crt" "$nd/kubelet.key"
  # One private mount namespace per node, kept by the containerd "node" shell: the bind mounts
  # below and every mount containerd and the kubelet make live and die there.
  cat >"$nd/node.sh" <<SH
set -eu
mount --bind "$nd/hostpath-state" /var/lib/lvs-rs-operator
mount --bind "$nd/log" /var/log
containerd --config "$nd/containerd.toml" >>"$nd/containerd.log" 2>&1 &
echo \$! >"$nd/containerd.pid"
for _ in \$(seq 1 200); do ctr -a "$nd/containerd.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
"$LVSRS_CACHE/kubelet" \\
  --kubeconfig="$nd/kubelet.kubeconfig" --hostname-override="$name" --node-ip="$ip" \\
  --node-labels="lvsdr.io/test-node=n$i" \\
  --container-runtime=remote --container-runtime-endpoint="unix://$nd/containerd.sock" \\
  --pod-infra-container-image="$PAUSE_IMAGE" \\
  --root-dir="$nd/kubelet" --cert-dir="$nd/kubelet/pki" --volume-plugin-dir="$nd/volume-plugins" \\
  --cgroup-driver=cgroupfs --cgroups-per-qos=false --enforce-node-allocatable="" --fail-swap-on=false \\
  --read-only-port=0 \\
  --image-gc-high-threshold=100 --eviction-hard="" --logtostderr=true --v=1 >>"$nd/kubelet.log" 2>&1 &
echo \$! >"$nd/kubelet.pid"
wait
SH
  # setsid: a session of its own, so down ends exactly these processes.
  mkdir -p /var/lib/lvs-rs-operator
  nsenter --net="/run/netns/$name" setsid unshare --mount --propagation private \
    bash "$nd/node.sh" </dev/null >>"$nd/node.log" 2>&1 &
  echo $! >"$nd/node.pid"
  wait_for 30 "containerd of $name" ctr -a "$nd/containerd.sock" version
}

cmd_up() {  # DIR PREFIX NODES
  local dir=$1 prefix=$2 nodes=$3 i
  for b in kube-apiserver kubelet kube-controller-manager kube-scheduler; do
    [ -x "$LVSRS_CACHE/$b" ] || die "no $b in $LVSRS_CACHE (run scripts/setup.d/50-kube-apiserver.sh)"
  done
  command -v containerd >/dev/null || die "containerd missing (apt-get install containerd)"
  mkdir -p "$dir/nodes"
  dir=$(cd "$dir" && pwd)
  printf 'PREFIX=%s\nNODES=%s\nCP_NETNS=%s\nADMIN_KUBECONFIG=%s\n' "$prefix" "$nodes" "$prefix-cp" "$dir/cp/admin.kubeconfig" >"$dir/env"
  source "$dir/env"
  CA_DIR=$dir/cp
  # The Service's ClusterIP must be in the serving certificate (in-cluster config dials it).
  KUBE_APISERVER_EXTRA_SANS="IP:$SERVICE_IP" KUBE_APISERVER_AUTHORIZATION_MODE=Node,RBAC \
    bash "$KUBE_CLUSTER" up "$dir/cp" "$CP_NETNS" --allow-privileged=true \
    --kubelet-preferred-address-types=InternalIP
  echo "$CP_NETNS" >"$dir/netns.list"
  # kube_cluster.sh made the CA. (The kubelets keep their default authentication, anonymous +
  # AlwaysAllow on a namespace-local port, so the API server needs no client certificate for
  # logs and exec.)
  sign_client_cert "$dir/cp" controller-manager system:kube-controller-manager ""
  sign_client_cert "$dir/cp" scheduler system:kube-scheduler ""
  cert_kubeconfig "$dir/cp/controller-manager.kubeconfig" "https://127.0.0.1:6443" "$dir/cp/ca.crt" \
    "$dir/cp/controller-manager.crt" "$dir/cp/controller-manager.key"
  cert_kubeconfig "$dir/cp/scheduler.kubeconfig" "https://127.0.0.1:6443" "$dir/cp/ca.crt" \
    "$dir/cp/scheduler.crt" "$dir/cp/scheduler.key"
  # API server 1.20: service-account tokens are Secrets made by the controller-manager, which
  # needs the signing key and the CA to put in them.
  ip netns exec "$CP_NETNS" setsid "$LVSRS_CACHE/kube-controller-manager" \
    --kubeconfig="$dir/cp/controller-manager.kubeconfig" --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file="$dir/cp/sa.key" --root-ca-file="$dir/cp/ca.crt" \
    --bind-address=127.0.0.1 --port=0 --logtostderr=true --v=1 \
    >>"$dir/controller-manager.log" 2>&1 </dev/null &
  echo $! >"$dir/controller-manager.pid"
  ip netns exec "$CP_NETNS" setsid "$LVSRS_CACHE/kube-scheduler" \
    --kubeconfig="$dir/cp/scheduler.kubeconfig" --leader-elect=false \
    --bind-address=127.0.0.1 --port=0 --logtostderr=true --v=1 \
    >>"$dir/scheduler.log" 2>&1 </dev/null &
  echo $! >"$dir/scheduler.pid"
  for ((i = 1; i <= nodes; i++)); do start_node "$dir" "$i"; done
  for ((i = 1; i <= nodes; i++)); do
    wait_for 120 "node $PREFIX-n$i Ready" \
      kctl wait --for=condition=Ready "node/$PREFIX-n$i" --timeout=1s
  done
  log "cluster up: $nodes nodes Ready"
}

cmd_images() {  # DIR SRC TAG...
  local dir=$1 src=$2 i tag
  shift 2
  source "$dir/env"
  export CONTAINERS_CONF=$LVSRS_CACHE/containers/containers.conf
  export CONTAINERS_STORAGE_CONF=$LVSRS_CACHE/containers/storage.conf
  bash "$src/scripts/setup.d/60-container-base.sh" >/dev/null
  [ -s "$LVSRS_CACHE/pause.c" ] || die "no $LVSRS_CACHE/pause.c (run scripts/setup.d/50-kube-apiserver.sh)"
  # The pause image is not downloadable here: Kubernetes' own pause.c, static, FROM scratch.
  mkdir -p "$dir/pause"
  gcc -Os -static -DVERSION=v3.4-lvsrs -o "$dir/pause/pause" "$LVSRS_CACHE/pause.c"
  strip "$dir/pause/pause"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$dir/pause/Containerfile"
  podman build --pull=never -t "$PAUSE_IMAGE" -f "$dir/pause/Containerfile" "$dir/pause" >"$dir/pause/build.log" 2>&1 ||
    { tail -20 "$dir/pause/build.log"; die "pause image build failed"; }
  rm -f "$dir/pause.tar"
  podman save -q --format docker-archive -o "$dir/pause.tar" "$PAUSE_IMAGE" >/dev/null
  log "building the operator image from $src/Dockerfile"
  nice -n 10 podman build --network=host --pull=never -t localhost/lvs-rs-operator:node-test "$src" \
    >"$dir/image-build.log" 2>&1 || { tail -40 "$dir/image-build.log"; die "operator image build failed"; }
  for ((i = 1; i <= NODES; i++)); do
    ctr -a "$dir/nodes/n$i/containerd.sock" -n k8s.io images import "$dir/pause.tar" >/dev/null
  done
  # One archive per tag: the names the pods use (`lvs-rs-operator:TAG` is docker.io/library/...).
  for tag in "$@"; do
    podman tag localhost/lvs-rs-operator:node-test "docker.io/library/lvs-rs-operator:$tag"
    rm -f "$dir/operator.tar"
    podman save -q --format docker-archive -o "$dir/operator.tar" "docker.io/library/lvs-rs-operator:$tag" >/dev/null
    podman untag localhost/lvs-rs-operator:node-test "docker.io/library/lvs-rs-operator:$tag"
    for ((i = 1; i <= NODES; i++)); do
      ctr -a "$dir/nodes/n$i/containerd.sock" -n k8s.io images import "$dir/operator.tar" >/dev/null
    done
  done
  rm -f "$dir/pause.tar" "$dir/operator.tar"
  log "images imported into $NODES nodes: $PAUSE_IMAGE, lvs-rs-operator:{$*}"
}

stop_pid() {  # PID
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
}

stop_node() {  # DIR INDEX
  local dir=$1 i=$2
  local nd="$dir/nodes/n$i" sock pid c
  sock="$nd/containerd.sock"
  [ -f "$nd/kubelet.pid" ] && stop_pid "$(cat "$nd/kubelet.pid")"
  # Every task (pod sandboxes and containers) of this containerd, then its shims: they are found
  # by this node's own socket path on their command line, never by name.
  local cgroups=()
  if [ -S "$sock" ]; then
    for c in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      cgroups+=("$(ctr -a "$sock" -n k8s.io containers info "$c" 2>/dev/null |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["Spec"]["linux"].get("cgroupsPath",""))' 2>/dev/null || true)")
      ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$c" >/dev/null 2>&1 || true
    done
    sleep 1
    for c in $(ctr -a "$sock" -n k8s.io containers ls -q 2>/dev/null); do
      ctr -a "$sock" -n k8s.io tasks delete -f "$c" >/dev/null 2>&1 || true
    done
  fi
  [ -f "$nd/containerd.pid" ] && stop_pid "$(cat "$nd/containerd.pid")"
  for pid in $(grep -lsF -- "$sock" /proc/[0-9]*/cmdline | cut -d/ -f3); do stop_pid "$pid"; done
  [ -f "$nd/node.pid" ] && stop_pid "$(cat "$nd/node.pid")"
  # The containers' cgroups (cgroupfs driver, no pod-level cgroups): remove the empty ones left.
  local cg ctl
  for cg in "${cgroups[@]}"; do
    [ -n "$cg" ] || continue
    for ctl in /sys/fs/cgroup/*/; do
      [ -d "$ctl${cg#/}" ] && rmdir "$ctl${cg#/}" 2>/dev/null || true
    done
  done
}

cmd_down() {  # DIR
  local dir=$1 i ns pid
  [ -f "$dir/env" ] || return 0
  source "$dir/env"
  for ((i = 1; i <= NODES; i++)); do [ -d "$dir/nodes/n$i" ] && stop_node "$dir" "$i"; done
  for f in "$dir/scheduler.pid" "$dir/controller-manager.pid"; do
    [ -f "$f" ] && stop_pid "$(cat "$f")"
  done
  bash "$KUBE_CLUSTER" down "$dir/cp" || true
  if [ -f "$dir/netns.list" ]; then
    while read -r ns; do ip netns del "$ns" 2>/dev/null || true; done <"$dir/netns.list"
  fi
  # The per-container cgroup parent containerd makes (/k8s.io) when it is empty.
  for ctl in /sys/fs/cgroup/*/k8s.io; do [ -d "$ctl" ] && rmdir "$ctl" 2>/dev/null || true; done
  # Anything still mounted under DIR (there should be nothing: the mounts lived in the nodes'
  # mount namespaces) is reported, so the test sees a leak instead of hiding it.
  if findmnt -rn -o TARGET | grep -qF "$dir/"; then
    log "mounts left under $dir:"; findmnt -rn -o TARGET | grep -F "$dir/" >&2; return 1
  fi
}

[ $# -ge 2 ] || die "usage: node_cluster.sh up|images|kubectl|down DIR ..."
cmd=$1
shift
case "$cmd" in
  up) cmd_up "$@" ;;
  images) cmd_images "$@" ;;
  kubectl) dir=$1; shift; source "$dir/env"; exec ip netns exec "$CP_NETNS" kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@" ;;
  down) cmd_down "$@" ;;
  *) die "unknown command $cmd" ;;
esac
