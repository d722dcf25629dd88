#!/usr/bin/env bash
# Builds the top-level Dockerfile with podman and runs the image the way the DaemonSet does:
# privileged, in the network namespace it manages (here a test namespace instead of the host's),
# read-only root filesystem, state dir mounted. Asserts with `ip -j` and /proc/sys that the
# namespace converged, that SIGTERM (podman stop) leaves the VIPs in place, and that the
# PerInterface + NET_ADMIN-only alternative of docs/deploy.md works where documented.
# Usage: image_runs_as_daemonset.sh SOURCE_DIR   (root; podman from scripts/deps/container.txt)
set -euo pipefail
SRC=$(cd "${1:?source dir}" && pwd)
CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}
IMAGE=localhost/lvs-rs-operator:test
NS=lvsrs-p-ct-$$
WORK=$(mktemp -d /tmp/lvsrs-p-ct.XXXXXX)
CONTAINERS=()

# Container config and storage live under $LVSRS_CACHE (runc, ulimits): made by the setup step.
bash "$SRC/scripts/setup.d/60-container-base.sh"
export CONTAINERS_CONF=$CACHE/containers/containers.conf
export CONTAINERS_STORAGE_CONF=$CACHE/containers/storage.conf

cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do podman rm -f -t 2 "$c" >/dev/null 2>&1 || true; done
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
expect() {  # expect DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}

echo "== podman build (Dockerfile at $SRC)"
echo "(the first build downloads the compiler into a cached layer; later ones only recompile)"
start=$(date +%s)
podman build --network=host --pull=never -t "$IMAGE" "$SRC" >"$WORK/build.log" 2>&1 ||
  { tail -n 40 "$WORK/build.log"; echo "FAIL: podman build"; exit 1; }
echo "image built in $(($(date +%s) - start)) s (layers are cached between runs)"
size=$(podman image inspect --format '{{.Size}}' "$IMAGE")
base=$(podman image inspect --format '{{.Size}}' docker.io/library/debian:bookworm-slim)
echo "image size: $((size / 1000000)) MB ($size bytes; base debian:bookworm-slim $((base / 1000000)) MB, runtime stage adds $(((size - base) / 1000000)) MB)"
# Lean runtime stage: the binary and its shared libraries only, no compiler or -dev packages.
expect "runtime stage adds less than 60 MB to the base" test $((size - base)) -lt 60000000
expect "no compiler in the runtime image" podman run --rm --entrypoint /bin/sh "$IMAGE" -c '! command -v g++ && ! command -v cc'
expect "the binary runs: version" podman run --rm "$IMAGE" version

echo "== a node namespace: lo up, one ARP-capable veth pair"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
nsctl() { ip netns exec "$NS" sysctl -n "$1"; }
host_arp_ignore=$(sysctl -n net.ipv4.conf.all.arp_ignore)
mkdir -p "$WORK/etc" "$WORK/state"
cat >"$WORK/etc/vips.yaml" <<'YAML'
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["192.0.2.10", "2001:db8::10"]
---
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: dns
spec:
  addresses: ["198.51.100.53"]
YAML

# As the DaemonSet runs it: privileged, the namespace's network, read-only root, state hostPath.
daemonset_run() {
  podman run --privileged --network "ns:/run/netns/$NS" --read-only \
    -e NODE_NAME=container-test-node \
    -v "$WORK/etc:/etc/lvs-rs-operator:ro" -v "$WORK/state:/var/lib/lvs-rs-operator" "$@"
}

echo "== run --file --once in the container"
if daemonset_run --rm "$IMAGE" run --file /etc/lvs-rs-operator/vips.yaml --once; then
  ok "run --once exits 0 (converged and verified)"
else
  fail "run --once exit code $?"
fi

lo_has() { ip -n "$NS" -j addr show dev lo | jq -e --arg a "$1" --argjson p "$2" \
  '[.[0].addr_info[] | select(.local == $a and .prefixlen == $p)] | length == 1' >/dev/null; }
# The host route the operator owns: `VIP dev lo` in the main table with its route protocol 245
# (for IPv6 the kernel adds a route of its own for the address too; that one is not ours).
route_to_lo() { ip -n "$NS" -j "$1" route show table main | jq -e --arg a "$2" \
  '[.[] | select(.dst == $a and .dev == "lo" and .protocol == "245")] | length == 1' >/dev/null; }
converged() {
  lo_has 192.0.2.10 32 && lo_has 2001:db8::10 128 && lo_has 198.51.100.53 32 &&
    route_to_lo -4 192.0.2.10 && route_to_lo -6 2001:db8::10 && route_to_lo -4 198.51.100.53 &&
    [ "$(nsctl net.ipv4.conf.all.arp_ignore)" = 1 ] && [ "$(nsctl net.ipv4.conf.all.arp_announce)" = 2 ]
}
all_vips_on_lo() { lo_has 192.0.2.10 32 && lo_has 2001:db8::10 128 && lo_has 198.51.100.53 32; }
all_routes() { route_to_lo -4 192.0.2.10 && route_to_lo -6 2001:db8::10 && route_to_lo -4 198.51.100.53; }
labelled() { ip -n "$NS" -j addr show dev lo | jq -e --arg a "$1" \
  '[.[0].addr_info[] | select(.local == $a and .label == "lo:lvsrs")] | length == 1' >/dev/null; }
arp_is() { [ "$(nsctl "net.ipv4.conf.$1.arp_ignore")" = "$2" ] && [ "$(nsctl "net.ipv4.conf.$1.arp_announce")" = "$3" ]; }
expect "VIPs on lo as /32 and /128" all_vips_on_lo
expect "IPv4 VIP carries the ownership label lo:lvsrs" labelled 192.0.2.10
expect "host routes VIP dev lo in the main table" all_routes
expect "arp_ignore=1 arp_announce=2 on conf/all in the namespace" arp_is all 1 2
expect "127.0.0.1/8 on lo untouched" lo_has 127.0.0.1 8
expect "original sysctls recorded in the mounted state dir" test -n "$(ls -A "$WORK/state")"
expect "the host's own conf/all.arp_ignore unchanged" test "$(sysctl -n net.ipv4.conf.all.arp_ignore)" = "$host_arp_ignore"
expect "check in the container exits 0 (conformant)" \
  daemonset_run --rm "$IMAGE" check --file /etc/lvs-rs-operator/vips.yaml

echo "== run (continuous, image default entrypoint) repairs drift; podman stop leaves VIPs"
CONTAINERS+=(lvsrs-p-ct-$$)
eventually() {  # eventually COMMAND...: true within 30 s (a bound for a loaded machine, not a timing)
  local deadline=$((SECONDS + 30))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
# The DaemonSet's listener flags (manifests/daemonset.yaml), once the binary has them (metrics).
listeners=()
if podman run --rm "$IMAGE" run --help | grep -q -- '--health-probe-bind-address'; then
  listeners=(--metrics-bind-address=:8470 --health-probe-bind-address=127.0.0.1:8471)
fi
daemonset_run -d --name "lvsrs-p-ct-$$" "$IMAGE" run --file /etc/lvs-rs-operator/vips.yaml \
  --state-dir=/var/lib/lvs-rs-operator --resync-period 500ms "${listeners[@]}" >/dev/null
http_ok() { ip netns exec "$NS" curl -fsS -o /dev/null "http://127.0.0.1:$1"; }
if ((${#listeners[@]})); then
  expect "readiness probe /readyz answers 200 (as the kubelet probes it)" eventually http_ok 8471/readyz
  expect "liveness probe /healthz answers 200" http_ok 8471/healthz
  expect "metrics served on :8470 (prometheus.io/port)" http_ok 8470/metrics
else
  echo "note: this binary has no --health-probe-bind-address yet; probes not exercised"
fi
ip -n "$NS" addr del 192.0.2.10/32 dev lo
ip netns exec "$NS" sysctl -q -w net.ipv4.conf.all.arp_ignore=0
expect "deleted VIP and reset arp_ignore repaired by the running container" eventually converged
podman stop -t 10 "lvsrs-p-ct-$$" >/dev/null
code=$(podman inspect --format '{{.State.ExitCode}}' "lvsrs-p-ct-$$")
expect "SIGTERM (podman stop) exits 0, not killed (exit code $code)" test "$code" = 0
expect "VIPs, routes and sysctls stay after the container stops" converged
podman logs "lvsrs-p-ct-$$" 2>&1 | tail -n 5 | sed 's/^/  log: /'
podman rm -f "lvsrs-p-ct-$$" >/dev/null

echo "== cleanup in the container restores the namespace"
daemonset_run --rm "$IMAGE" cleanup --state-dir /var/lib/lvs-rs-operator >/dev/null
no_vips() { ! lo_has 192.0.2.10 32 && ! lo_has 2001:db8::10 128 && ! lo_has 198.51.100.53 32; }
expect "cleanup removed the VIPs" no_vips
expect "cleanup restored conf/all.arp_ignore to 0" test "$(nsctl net.ipv4.conf.all.arp_ignore)" = 0

echo "== PerInterface + NET_ADMIN only (no privileged): /proc/sys is read-only"
cat >"$WORK/etc/vips.yaml" <<'YAML'
apiVersion: lvsdr.io/v1alpha1
kind: VirtualIP
metadata:
  name: web
spec:
  addresses: ["192.0.2.10"]
  arp:
    scope: PerInterface
YAML
rm -rf "${WORK:?}/state/"*
netadmin_opts=(--rm --cap-drop all --cap-add NET_ADMIN --network "ns:/run/netns/$NS" --read-only
  -e NODE_NAME=container-test-node
  -v "$WORK/etc:/etc/lvs-rs-operator:ro" -v "$WORK/state:/var/lib/lvs-rs-operator")
netadmin_run() { podman run "${netadmin_opts[@]}" "$IMAGE" "$@"; }
netadmin_run_sh() { podman run "${netadmin_opts[@]}" --entrypoint /bin/sh "$IMAGE" -c "$1"; }
# shellcheck disable=SC2016 # the awk program runs inside the container, unexpanded on purpose
expect "/proc/sys is mounted read-only without privileged" netadmin_run_sh \
  'awk '"'"'$2 == "/proc/sys" {split($4, o, ","); print o[1]}'"'"' /proc/mounts | grep -qx ro'
if netadmin_run run --file /etc/lvs-rs-operator/vips.yaml --once; then
  ok "PerInterface run --once with only NET_ADMIN exits 0"
else
  fail "PerInterface run --once with only NET_ADMIN"
fi
expect "PerInterface: VIP on lo" lo_has 192.0.2.10 32
expect "PerInterface: eth0 arp_ignore=1 arp_announce=2 (set through netlink)" arp_is eth0 1 2
expect "PerInterface: conf/all left alone" arp_is all 0 0

# The documented limit: Global scope must write conf/all under the read-only /proc/sys.
netadmin_run cleanup --state-dir /var/lib/lvs-rs-operator >/dev/null 2>&1 || true
sed -i '/arp:/,$d' "$WORK/etc/vips.yaml"
if netadmin_run run --file /etc/lvs-rs-operator/vips.yaml --once >"$WORK/global.log" 2>&1; then
  fail "Global scope with only NET_ADMIN claimed success"
else
  ok "Global scope with only NET_ADMIN is reported not conformant (exit $?)"
fi
sed 's/^/  log: /' "$WORK/global.log" | tail -n 3
expect "Global scope with only NET_ADMIN: conf/all still 0" arp_is all 0 0

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
