#!/usr/bin/env bash
# A throw-away Kubernetes control plane for tests: etcd + kube-apiserver (1.20, from
# scripts/setup.d/50-kube-apiserver.sh) in a network namespace of its own, with a bridge that node
# namespaces attach to over veth links. Nothing is added to the machine's own namespace; all state
# (certificates, tokens, kubeconfigs, etcd data, logs) lives in DIR.
#
#   kube_cluster.sh up DIR NETNS [extra kube-apiserver flags...]
#       Creates netns NETNS with bridge br0 (198.51.100.1/24), self-signed CA and serving
#       certificate (openssl), token auth + RBAC, starts etcd and kube-apiserver
#       (--insecure-port=0, --endpoint-reconciler-type=none) and waits until it is ready. Writes
#       DIR/admin.kubeconfig (system:masters, server https://127.0.0.1:6443, for kubectl run with
#       `ip netns exec NETNS`) and DIR/env (shell variables below).
#   kube_cluster.sh attach DIR NODE_NETNS INDEX
#       Connects an existing namespace (a "node") to the bridge: eth0 = 198.51.100.(10+INDEX)/24
#       for INDEX 0..244. INDEX 256..65279 (fleets larger than a /24 holds, bench/kube_figures.sh)
#       is 198.19.(INDEX/256).(INDEX%256)/16 from the benchmark range, br0 then also carrying
#       198.19.0.1/16, the node's gateway to 198.51.100.1. The API server is
#       https://198.51.100.1:6443 from that namespace either way (its certificate names that IP).
#   kube_cluster.sh operator-kubeconfig DIR
#       After manifests/rbac.yaml is applied: requests a token for ServiceAccount
#       lvs-rs-operator/lvs-rs-operator (TokenRequest, as the kubelet would) into
#       DIR/operator.token and writes DIR/operator.kubeconfig (tokenFile, so a rewrite of the
#       token file is a rotation) for operators in node namespaces.
#   kube_cluster.sh kubectl DIR ARGS...     kubectl as cluster admin, inside the control plane
#   kube_cluster.sh stop-apiserver DIR      SIGTERM kube-apiserver and wait (an outage)
#   kube_cluster.sh start-apiserver DIR     start it again with the same flags; wait until ready
#   kube_cluster.sh etcdctl DIR ARGS...     etcdctl against the cluster's etcd
#   kube_cluster.sh wipe-etcd DIR           stop etcd, delete its data, start an empty one (run it
#                                           with the API server stopped: a cluster restored from
#                                           nothing; the API server then starts with empty storage)
#   kube_cluster.sh down DIR                stop everything, delete NETNS and the veth links
#
# DIR/env defines CP_NETNS, APISERVER_URL_NODES (https://198.51.100.1:6443), ADMIN_KUBECONFIG,
# OPERATOR_KUBECONFIG, CA_CERT. Needs root, etcd (etcd-server), etcdctl (etcd-client), openssl,
# kubectl, and kube-apiserver at $KUBE_APISERVER or $LVSRS_CACHE/kube-apiserver.
set -euo pipefail

LVSRS_CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}
KUBE_APISERVER=${KUBE_APISERVER:-$LVSRS_CACHE/kube-apiserver}
CP_IP=198.51.100.1
PORT=6443
# Node,RBAC where kubelets join (tests/node); a list flag, so extra flags cannot override it.
AUTHORIZATION_MODE=${KUBE_APISERVER_AUTHORIZATION_MODE:-RBAC}

die() { echo "kube_cluster.sh: $*" >&2; exit 1; }
load() { [ -f "$1/env" ] || die "$1/env missing: run up first"; source "$1/env"; }

wait_ready() {  # DIR
  local dir=$1 i
  for i in $(seq 1 600); do
    if ip netns exec "$CP_NETNS" kubectl --kubeconfig "$dir/admin.kubeconfig" get --raw /readyz >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$(cat "$dir/apiserver.pid")" 2>/dev/null; then
      tail -20 "$dir/apiserver.log" >&2
      die "kube-apiserver exited"
    fi
    sleep 0.1
  done
  tail -20 "$dir/apiserver.log" >&2
  die "kube-apiserver not ready after 60s"
}

start_apiserver() {  # DIR
  local dir=$1
  local -a extra=()
  [ -s "$dir/apiserver.extra" ] && mapfile -t extra <"$dir/apiserver.extra"
  # setsid: its own session, so that stop/down end exactly this process.
  ip netns exec "$CP_NETNS" setsid "$KUBE_APISERVER" \
    --etcd-servers=http://127.0.0.1:2379 \
    --bind-address=0.0.0.0 --secure-port=$PORT --advertise-address=$CP_IP \
    --insecure-port=0 --endpoint-reconciler-type=none \
    --tls-cert-file="$dir/apiserver.crt" --tls-private-key-file="$dir/apiserver.key" \
    --client-ca-file="$dir/ca.crt" \
    --token-auth-file="$dir/tokens.csv" --authorization-mode="$AUTHORIZATION_MODE" \
    --service-account-key-file="$dir/sa.pub" --service-account-signing-key-file="$dir/sa.key" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --api-audiences=https://kubernetes.default.svc.cluster.local \
    --service-cluster-ip-range=203.0.113.0/26 \
    --profiling=false --logtostderr=true --v=1 \
    ${extra[@]+"${extra[@]}"} >>"$dir/apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/apiserver.pid"
  wait_ready "$dir"
}

start_etcd() {  # DIR
  local dir=$1 i
  ip netns exec "$CP_NETNS" setsid etcd --name default --data-dir "$dir/etcd" \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster default=http://127.0.0.1:2380 >>"$dir/etcd.log" 2>&1 </dev/null &
  echo $! >"$dir/etcd.pid"
}

cmd_wipe_etcd() {  # DIR
  local dir=$1 i
  load "$dir"
  stop_pidfile "$dir/etcd.pid"
  rm -rf "$dir/etcd"
  start_etcd "$dir"
  for i in $(seq 1 300); do
    if ETCDCTL_API=3 ip netns exec "$CP_NETNS" etcdctl --endpoints=http://127.0.0.1:2379 endpoint health >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  tail -20 "$dir/etcd.log" >&2
  die "etcd not healthy after the wipe"
}

stop_pidfile() {  # FILE
  local f=$1 pid i
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$f"
}

make_certs() {  # DIR
  local dir=$1
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=lvsrs-test-ca" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$dir/apiserver.key" -out "$dir/apiserver.csr" 2>/dev/null
  # KUBE_APISERVER_EXTRA_SANS (e.g. "IP:203.0.113.1", the `kubernetes` Service's ClusterIP, which
  # pods with in-cluster config dial): more subjectAltNames, comma-separated.
  printf 'subjectAltName=IP:%s,IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc%s\nextendedKeyUsage=serverAuth\n' \
    "$CP_IP" "${KUBE_APISERVER_EXTRA_SANS:+,$KUBE_APISERVER_EXTRA_SANS}" >"$dir/apiserver.ext"
  openssl x509 -req -in "$dir/apiserver.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days 2 -extfile "$dir/apiserver.ext" -out "$dir/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$dir/sa.key" -pubout -out "$dir/sa.pub" 2>/dev/null
}

write_kubeconfig() {  # FILE SERVER USER TOKEN_LINE CA
  cat >"$1" <<KC
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $2
    certificate-authority: $5
users:
- name: $3
  user:
    $4
contexts:
- name: test
  context: {cluster: test, user: $3}
current-context: test
KC
}

cmd_up() {
  local dir=$1 netns=$2
  shift 2
  [ -x "$KUBE_APISERVER" ] || die "no kube-apiserver at $KUBE_APISERVER (run scripts/setup.d/50-kube-apiserver.sh)"
  command -v etcd >/dev/null || die "etcd missing (apt-get install etcd-server)"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  : >"$dir/apiserver.extra"
  local f
  for f in "$@"; do printf '%s\n' "$f" >>"$dir/apiserver.extra"; done
  cat >"$dir/env" <<ENV
CP_NETNS=$netns
APISERVER_URL_NODES=https://$CP_IP:$PORT
ADMIN_KUBECONFIG=$dir/admin.kubeconfig
OPERATOR_KUBECONFIG=$dir/operator.kubeconfig
CA_CERT=$dir/ca.crt
ENV
  source "$dir/env"
  ip netns del "$netns" 2>/dev/null || true
  ip netns add "$netns"
  ip -n "$netns" link set lo up
  ip -n "$netns" link add br0 type bridge
  ip -n "$netns" addr add $CP_IP/24 dev br0
  ip -n "$netns" link set br0 up

  make_certs "$dir"
  local admin_token
  admin_token=$(openssl rand -hex 24)
  echo "$admin_token,admin,admin,system:masters" >"$dir/tokens.csv"
  write_kubeconfig "$dir/admin.kubeconfig" "https://127.0.0.1:$PORT" admin "token: $admin_token" "$dir/ca.crt"

  start_etcd "$dir"
  start_apiserver "$dir"
  echo "control plane up in netns $netns; kubectl: $0 kubectl $dir ..." >&2
}

cmd_attach() {
  local dir=$1 node=$2 index=$3
  load "$dir"
  local veth="vn$index"
  ip -n "$CP_NETNS" link del "$veth" 2>/dev/null || true
  ip link add "$veth" netns "$CP_NETNS" type veth peer name eth0 netns "$node"
  ip -n "$CP_NETNS" link set "$veth" master br0 up
  if ((index <= 244)); then
    ip -n "$node" addr add "198.51.100.$((10 + index))/24" dev eth0
    ip -n "$node" link set eth0 up
  elif ((index >= 256 && index < 65280)); then
    ip -n "$CP_NETNS" addr replace 198.19.0.1/16 dev br0
    ip -n "$node" addr add "198.19.$((index / 256)).$((index % 256))/16" dev eth0
    ip -n "$node" link set eth0 up
    ip -n "$node" route add "$CP_IP/32" via 198.19.0.1 dev eth0
  else
    die "attach: INDEX $index is neither 0..244 nor 256..65279"
  fi
  ip -n "$node" link set lo up
}

cmd_operator_kubeconfig() {
  local dir=$1
  load "$dir"
  local token
  # TokenRequest (serviceaccounts/token): a real, bound service-account JWT, as a pod gets.
  token=$(ip netns exec "$CP_NETNS" kubectl --kubeconfig "$ADMIN_KUBECONFIG" -n lvs-rs-operator \
    create token lvs-rs-operator --duration=24h)
  printf '%s\n' "$token" >"$dir/operator.token.new"
  mv "$dir/operator.token.new" "$dir/operator.token"
  write_kubeconfig "$OPERATOR_KUBECONFIG" "$APISERVER_URL_NODES" lvs-rs-operator "tokenFile: $dir/operator.token" "$dir/ca.crt"
}

cmd_down() {
  local dir=$1
  [ -f "$dir/env" ] || return 0
  source "$dir/env"
  stop_pidfile "$dir/apiserver.pid"
  stop_pidfile "$dir/etcd.pid"
  # Deleting the namespace removes br0 and every veth pair attached to it.
  ip netns del "$CP_NETNS" 2>/dev/null || true
}

[ $# -ge 2 ] || die "usage: kube_cluster.sh up|attach|operator-kubeconfig|kubectl|etcdctl|stop-apiserver|start-apiserver|wipe-etcd|down DIR ..."
cmd=$1
shift
case "$cmd" in
  up) cmd_up "$@" ;;
  attach) cmd_attach "$@" ;;
  operator-kubeconfig) cmd_operator_kubeconfig "$@" ;;
  kubectl) dir=$1; shift; load "$dir"; exec ip netns exec "$CP_NETNS" kubectl --kubeconfig "$ADMIN_KUBECONFIG" "$@" ;;
  etcdctl) dir=$1; shift; load "$dir"; export ETCDCTL_API=3; exec ip netns exec "$CP_NETNS" etcdctl --endpoints=http://127.0.0.1:2379 "$@" ;;
  stop-apiserver) load "$1"; stop_pidfile "$1/apiserver.pid" ;;
  wipe-etcd) cmd_wipe_etcd "$1" ;;
  start-apiserver) load "$1"; start_apiserver "$1" ;;
  down) cmd_down "$@" ;;
  *) die "unknown command $cmd" ;;
esac
