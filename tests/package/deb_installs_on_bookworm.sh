#!/usr/bin/env bash
# The Debian package, from `dpkg-buildpackage -us -uc -b` of this tree to a clean bookworm root
# (the debootstrap base of the container tests plus systemd as PID 1, run with podman, root, in a
# network namespace this test creates; no network beyond it, so everything installs offline):
#   dpkg -i refused without its Depends; with them, installed, the unit enabled and started;
#   systemd-analyze verify accepts the unit; the shipped vips.yaml is valid and changes nothing;
#   VirtualIPs written to it converge through the running (hardened) service; systemctl stop
#   leaves them; `run --once` repairs drift (ip -j, /proc/sys in the namespace); `dpkg -r` stops
#   the service and leaves VIPs, routes and sysctls, the conffile and the state dir; `purge` keeps a
#   state dir that still records changes; `cleanup` (a copy of the binary kept by the test)
#   restores; after a reinstall, purge with nothing left to undo removes the state dir.
# Usage: deb_installs_on_bookworm.sh SOURCE_DIR   (root; scripts/deps/{package,container}.txt)
set -euo pipefail
SRC=$(cd "${1:?source dir}" && pwd)
# LVSRS_CACHE and the shared compiler cache (CCACHE_DIR), as every build of the project uses.
# shellcheck disable=SC1091 # the tree under test, given as an argument
source "$SRC/scripts/lib.sh"
BASE=docker.io/library/debian:bookworm-slim
NS=lvsrs-p-deb-$$
CT=lvsrs-p-deb-$$
WORK=$(mktemp -d /tmp/lvsrs-p-deb.XXXXXX)
PKG_CACHE=$LVSRS_CACHE/package

bash "$SRC/scripts/setup.d/60-container-base.sh"
export CONTAINERS_CONF=$LVSRS_CACHE/containers/containers.conf
export CONTAINERS_STORAGE_CONF=$LVSRS_CACHE/containers/storage.conf

cleanup() {
  podman rm -f -t 2 "$CT" >/dev/null 2>&1 || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
expect() { # expect DESCRIPTION COMMAND...: the command must succeed
  local what=$1
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
expect_not() { # expect_not DESCRIPTION COMMAND...: the command must fail
  local what=$1
  shift
  if "$@"; then fail "$what"; else ok "$what"; fi
}

echo "== dpkg-buildpackage -us -uc -b (a copy of the tree, always at the same path)"
# The same path every time, so the compiler cache hits (the package's compile flags carry it);
# the lock keeps two worktrees' runs from building in it at once.
mkdir -p "$PKG_CACHE"
exec 9>"$PKG_CACHE/build.lock"
flock 9
TREE=$PKG_CACHE/lvs-rs-operator
rm -rf "$TREE" "$PKG_CACHE"/lvs-rs-operator_* "$PKG_CACHE"/lvs-rs-operator-dbgsym_*
mkdir -p "$TREE"
# The tree as it is now (uncommitted edits included), without build directories.
(cd "$SRC" && git ls-files -co --exclude-standard | while read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done |
  tar -cf - -T -) | tar -xf - -C "$TREE"
start=$(date +%s)
if ! (cd "$TREE" && nice dpkg-buildpackage -us -uc -b -j2) >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log"
  echo "FAIL: dpkg-buildpackage"
  exit 1
fi
echo "package built in $(($(date +%s) - start)) s (compiler cache $CCACHE_DIR)"
VERSION=$(cd "$TREE" && dpkg-parsechangelog -S Version)
DEB=lvs-rs-operator_${VERSION}_$(dpkg --print-architecture).deb
mkdir -p "$WORK/pkg"
expect "dpkg-buildpackage made $DEB" cp "$PKG_CACHE/$DEB" "$WORK/pkg/"
rm -rf "$TREE" # the compiler cache keeps what a rebuild needs
flock -u 9
[ -s "$WORK/pkg/$DEB" ] || { echo "FAIL: no package"; exit 1; }

echo "== what the package holds"
dpkg-deb -I "$WORK/pkg/$DEB" | sed -n '/Package:/,$p' | sed 's/^/  /'
dpkg-deb -c "$WORK/pkg/$DEB" | awk '{print "  " $1 " " $6}'
has_path() { dpkg-deb -c "$WORK/pkg/$DEB" | awk '{print $6}' | grep -qx "$1"; }
expect "the binary at /usr/sbin/lvs-rs-operator" has_path ./usr/sbin/lvs-rs-operator
expect "its HTTP client plugin at /usr/lib/lvs-rs-operator/lvs-rs-operator-http.so" \
  has_path ./usr/lib/lvs-rs-operator/lvs-rs-operator-http.so
expect "the systemd unit lvs-rs-operator.service" has_path ./lib/systemd/system/lvs-rs-operator.service
expect "the example /etc/lvs-rs-operator/vips.yaml" has_path ./etc/lvs-rs-operator/vips.yaml
expect "the state directory /var/lib/lvs-rs-operator" has_path ./var/lib/lvs-rs-operator/
dpkg-deb -e "$WORK/pkg/$DEB" "$WORK/control"
expect "vips.yaml is a conffile" grep -qx /etc/lvs-rs-operator/vips.yaml "$WORK/control/conffiles"
depends=$(dpkg-deb -f "$WORK/pkg/$DEB" Depends)
for lib in libnl-3 libcpprest libprometheus-cpp libyaml-cpp libcivetweb; do
  expect "Depends names the $lib runtime package (\${shlibs:Depends})" grep -q "$lib" <<<"$depends"
done
dpkg-deb -x "$WORK/pkg/$DEB" "$WORK/root"
binary_version=$("$WORK/root/usr/sbin/lvs-rs-operator" version | awk '{print $2}')
expect "package version $VERSION is the binary's ($binary_version; debian/changelog follows CMakeLists.txt)" \
  test "${VERSION%%-*}" = "$binary_version"

unit=$WORK/root/lib/systemd/system/lvs-rs-operator.service
expect "the unit runs run --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator" \
  grep -qx 'ExecStart=/usr/sbin/lvs-rs-operator run --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator' "$unit"
expect "Restart=on-failure" grep -qx 'Restart=on-failure' "$unit"
expect "only CAP_NET_ADMIN in the bounding set" grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' "$unit"

echo "== the runtime dependencies and systemd, for an offline install"
# apt resolves what is asked against what the bookworm root has (its dpkg status) and downloads
# what is missing into a cache kept between runs; the root itself has no network.
base_tar=$LVSRS_CACHE/containers/debian-bookworm-minbase.tar
tar -xf "$base_tar" ./var/lib/dpkg/status -O >"$WORK/base-status"
DEBS=$PKG_CACHE/debs
mkdir -p "$DEBS/partial" "$WORK/empty/partial"
# resolve DIR WHAT: the packages WHAT needs beyond the root, into $WORK/pkg/DIR, with DIR/first
# and DIR/rest: the install order in the root. dpkg orders what it configures, but a Pre-Depends
# must be configured before its package is even unpacked: those packages go in a first round.
resolve() {
  local dir=$WORK/pkg/$1 f pre
  local apt_opts=(-y --no-install-recommends -o Dir::State::status="$WORK/base-status")
  mkdir -p "$dir"
  if ! apt-get -q "${apt_opts[@]}" --download-only -o Dir::Cache::archives="$DEBS" install "$2" >"$WORK/apt-$1.log" 2>&1; then
    tail -n 20 "$WORK/apt-$1.log"
    echo "FAIL: apt-get --download-only $2 (apt-get update on this machine?)"
    return 1
  fi
  # The files this resolution picked (the cache may hold other versions from earlier runs): the
  # names apt would fetch into an empty archive directory.
  apt-get -qq "${apt_opts[@]}" --print-uris -o Dir::Cache::archives="$WORK/empty" install "$2" |
    awk '{print $2}' | grep -v '^lvs-rs-operator_' >"$dir/list" || true
  while read -r f; do cp "$DEBS/$f" "$dir/"; done <"$dir/list"
  pre=$(for f in "$dir"/*.deb; do dpkg-deb -f "$f" Pre-Depends; done | tr ',|' '\n' |
    awk 'NF {sub(/:.*/, "", $1); print $1}' | sort -u)
  : >"$dir/first"
  : >"$dir/rest"
  for f in "$dir"/*.deb; do
    if grep -qx "$(dpkg-deb -f "$f" Package)" <<<"$pre"; then echo "/pkg/$1/${f##*/}" >>"$dir/first"; else echo "/pkg/$1/${f##*/}" >>"$dir/rest"; fi
  done
  echo "  ${2##*/}: $(wc -l <"$dir/list") packages missing from the bookworm root: $(tr '\n' ' ' <"$dir/list")"
}
resolve deps "$WORK/pkg/$DEB" || exit 1
resolve systemd systemd || exit 1
# The same in the root (a shell command): the first round, then the rest.
dpkg_i() { echo "xargs -r -a /pkg/$1/first dpkg -i && xargs -r -a /pkg/$1/rest dpkg -i"; }

echo "== a node namespace: lo up, one ARP-capable veth pair; the root runs in it with systemd"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
host_arp_ignore=$(sysctl -n net.ipv4.conf.all.arp_ignore)
host_arp_announce=$(sysctl -n net.ipv4.conf.all.arp_announce)
nsctl() { ip netns exec "$NS" sysctl -n "$1"; }
lo_has() { ip -n "$NS" -j addr show dev lo | jq -e --arg a "$1" --argjson p "$2" \
  '[.[0].addr_info[] | select(.local == $a and .prefixlen == $p)] | length == 1' >/dev/null; }
route_to_lo() { ip -n "$NS" -j "$1" route show table main | jq -e --arg a "$2" \
  '[.[] | select(.dst == $a and .dev == "lo" and .protocol == "245")] | length == 1' >/dev/null; }
arp_is() { [ "$(nsctl "net.ipv4.conf.$1.arp_ignore")" = "$2" ] && [ "$(nsctl "net.ipv4.conf.$1.arp_announce")" = "$3" ]; }
only_loopback_on_lo() { [ "$(ip -n "$NS" -j addr show dev lo | jq '[.[0].addr_info[]] | length')" = 2 ] &&
  lo_has 127.0.0.1 8 && lo_has ::1 128; }
converged() {
  lo_has 192.0.2.10 32 && lo_has 2001:db8::10 128 && lo_has 198.51.100.53 32 &&
    route_to_lo -4 192.0.2.10 && route_to_lo -6 2001:db8::10 && route_to_lo -4 198.51.100.53 &&
    arp_is all 1 2 && arp_is default 1 2 && arp_is lo 1 2
}
# The namespace's own ARP sysctls before the package (a new namespace's IPv4 conf/all and
# default start as copies of the machine's): what cleanup must restore.
arp_values() { for c in all default lo; do printf '%s/%s ' "$(nsctl "net.ipv4.conf.$c.arp_ignore")" \
  "$(nsctl "net.ipv4.conf.$c.arp_announce")"; done; }
ns_arp_before=$(arp_values)
arp_as_before() { [ "$(arp_values)" = "$ns_arp_before" ]; }
restored() {
  ! lo_has 192.0.2.10 32 && ! lo_has 2001:db8::10 128 && ! lo_has 198.51.100.53 32 &&
    ! route_to_lo -4 192.0.2.10 && ! route_to_lo -6 2001:db8::10 && ! route_to_lo -4 198.51.100.53 &&
    arp_as_before && only_loopback_on_lo
}
host_untouched() {
  [ "$(sysctl -n net.ipv4.conf.all.arp_ignore)" = "$host_arp_ignore" ] &&
    [ "$(sysctl -n net.ipv4.conf.all.arp_announce)" = "$host_arp_announce" ]
}

# The clean root plus systemd (what a bookworm host has, and minbase lacks), systemd as PID 1:
# the package's maintainer scripts enable, start and stop the unit as on a host. Privileged, so
# /proc/sys is writable as for root on a host; the namespace has no route anywhere.
podman run -d --name "$CT" --privileged --systemd=always --network "ns:/run/netns/$NS" \
  -v "$WORK/pkg:/pkg:ro" --entrypoint sh "$BASE" \
  -c "{ $(dpkg_i systemd); } >/var/log/systemd-install.log 2>&1 && exec /lib/systemd/systemd" >/dev/null
in_root() { podman exec "$CT" "$@"; }
eventually() { # eventually COMMAND...: true within 60 s (a bound for a loaded machine, not a timing)
  local deadline=$((SECONDS + 60))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
booted() { [[ "$(in_root systemctl is-system-running 2>/dev/null)" =~ ^(running|degraded)$ ]]; }
if eventually booted; then
  ok "systemd runs as PID 1 in the root ($(in_root systemctl is-system-running 2>/dev/null || true))"
  in_root systemctl --failed --no-legend --plain 2>/dev/null | sed 's/^/  failed unit in the root (not ours): /'
else
  podman logs "$CT" 2>&1 | tail -n 20
  in_root tail -n 20 /var/log/systemd-install.log || true
  fail "systemd did not boot in the root"
  exit 1
fi

echo "== dpkg -i"
# Negative control: without its Depends dpkg refuses to configure the package (a throwaway root).
if podman run --rm --network none -v "$WORK/pkg:/pkg:ro" "$BASE" dpkg -i "/pkg/$DEB" >"$WORK/nodeps.log" 2>&1; then
  fail "dpkg -i without the runtime libraries succeeded (Depends missing?)"
else
  expect "dpkg -i without the runtime libraries is refused, naming them" grep -q 'depends on lib' "$WORK/nodeps.log"
fi
expect "dpkg -i of the runtime libraries apt resolved" in_root sh -c "{ $(dpkg_i deps); } >/tmp/deps.log 2>&1 || { tail -n 20 /tmp/deps.log; exit 1; }"
expect "dpkg -i $DEB" in_root dpkg -i "/pkg/$DEB"
# shellcheck disable=SC2016 # ${Status} is dpkg-query's field, not the shell's
expect "dpkg says installed" test "$(in_root dpkg-query -W -f='${Status}' lvs-rs-operator)" = "install ok installed"
expect "lvs-rs-operator is on root's PATH, and runs" in_root lvs-rs-operator version
expect "every shared library found" in_root sh -c '! ldd /usr/sbin/lvs-rs-operator /usr/lib/lvs-rs-operator/lvs-rs-operator-http.so | grep -q "not found"'
# Kubernetes mode loads the plugin from /usr/lib/lvs-rs-operator: its HTTP client (OpenSSL through
# Boost.Asio) gets as far as the kubeconfig's CA, which is not a certificate. A missing plugin
# would end at once with "cannot load the HTTP client plugin".
kubeconfig='apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:1\n    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\n'
expect "Kubernetes mode (check without --file) loads the plugin and its HTTP client runs" \
  in_root sh -c "printf '$kubeconfig' >/root/kubeconfig; timeout 3 lvs-rs-operator check --kubeconfig /root/kubeconfig --node-name n 2>&1 | grep -q add_certificate_authority"
expect "lvs-rs-operator.service is enabled" test "$(in_root systemctl is-enabled lvs-rs-operator)" = enabled
active() { [ "$(in_root systemctl is-active lvs-rs-operator)" = active ]; }
expect "lvs-rs-operator.service was started by the install, and runs" eventually active
# systemd of the root, against the unit as installed (verify also checks ExecStart's binary). A
# bad value in a directive is only a warning: any output fails too.
if in_root systemd-analyze verify /lib/systemd/system/lvs-rs-operator.service >"$WORK/verify.log" 2>&1 &&
  ! grep -q . "$WORK/verify.log"; then
  ok "systemd-analyze verify accepts lvs-rs-operator.service, no warnings"
else
  sed 's/^/  /' "$WORK/verify.log"
  fail "systemd-analyze verify lvs-rs-operator.service"
fi
in_root systemd-analyze security lvs-rs-operator.service 2>/dev/null | tail -n 1 | sed 's/^/  systemd-analyze security: /' || true

echo "== the shipped /etc/lvs-rs-operator/vips.yaml: no VirtualIP, valid, changes nothing"
expect "check --file with the shipped file exits 0" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
unchanged() { only_loopback_on_lo && arp_as_before; }
expect "the running service changed nothing: lo holds only 127.0.0.1 and ::1, ARP sysctls as they were ($ns_arp_before)" unchanged

echo "== VirtualIPs into /etc/lvs-rs-operator/vips.yaml: the running service converges"
podman exec -i "$CT" sh -c 'cat >/root/vips.yaml' <<'YAML'
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
expect_not "check of the new file before: not conformant (exit 1)" in_root lvs-rs-operator check --file /root/vips.yaml
in_root cp /root/vips.yaml /etc/lvs-rs-operator/vips.yaml
expect "the service (hardened: CAP_NET_ADMIN only) re-read the file and converged: VIPs /32 and /128 on lo, host routes proto 245, arp_ignore=1 arp_announce=2 on all, default, lo" \
  eventually converged
in_root journalctl -u lvs-rs-operator --no-pager -o cat | tail -n 4 | sed 's/^/  journal: /'
expect "check exits 0 (conformant)" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
expect "originals recorded in /var/lib/lvs-rs-operator" in_root grep -q arp_ignore /var/lib/lvs-rs-operator/sysctl-originals.json
expect "the machine's own conf/all ARP sysctls unchanged" host_untouched

echo "== systemctl stop leaves the kernel state; run --once (the unit's command) repairs drift"
expect "systemctl stop lvs-rs-operator" in_root systemctl stop lvs-rs-operator
expect "VIPs, host routes and ARP sysctls stay after the service stops" converged
ip -n "$NS" addr del 192.0.2.10/32 dev lo
ip netns exec "$NS" sysctl -q -w net.ipv4.conf.all.arp_ignore=0
expect_not "drift (a VIP deleted, arp_ignore reset): check exits 1" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
if in_root lvs-rs-operator run --once --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator; then
  ok "run --once --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator exits 0"
else
  fail "run --once exit code $?"
fi
expect "run --once converged the namespace again" converged
expect "check exits 0 (conformant)" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
expect "systemctl start lvs-rs-operator" in_root systemctl start lvs-rs-operator
expect "the service runs again" eventually active

echo "== dpkg -r: the kernel state stays; the conffile and the state directory stay"
in_root cp /usr/sbin/lvs-rs-operator /root/lvs-rs-operator # what a user keeps to clean up later
expect "dpkg -r lvs-rs-operator" in_root dpkg -r lvs-rs-operator
expect "the service was stopped by the removal" test "$(in_root systemctl is-active lvs-rs-operator)" != active
expect "the binary is gone" in_root test ! -e /usr/sbin/lvs-rs-operator
expect "VIPs, host routes and ARP sysctls still in place after dpkg -r" converged
expect "the edited vips.yaml is kept (conffile)" in_root grep -q 198.51.100.53 /etc/lvs-rs-operator/vips.yaml
expect "the state directory is kept" in_root test -s /var/lib/lvs-rs-operator/sysctl-originals.json

echo "== dpkg --purge while changes are still recorded: the state directory stays"
in_root dpkg --purge lvs-rs-operator >"$WORK/purge.log" 2>&1 || fail "dpkg --purge"
sed 's/^/  /' "$WORK/purge.log"
expect "purge removed /etc/lvs-rs-operator" in_root test ! -e /etc/lvs-rs-operator
expect "purge kept /var/lib/lvs-rs-operator: it records the original sysctls" \
  in_root grep -q arp_ignore /var/lib/lvs-rs-operator/sysctl-originals.json
expect "purge says why it kept the state directory" grep -q 'keeping /var/lib/lvs-rs-operator' "$WORK/purge.log"
expect "VIPs, host routes and ARP sysctls still in place after purge" converged

echo "== cleanup with the kept binary restores"
expect "lvs-rs-operator cleanup exits 0" in_root /root/lvs-rs-operator cleanup
expect "VIPs and host routes gone, ARP sysctls back to $ns_arp_before, 127.0.0.1 and ::1 untouched" restored
expect "the machine's own conf/all ARP sysctls unchanged" host_untouched

echo "== reinstall, purge: nothing left to undo, so the state directory goes"
expect "dpkg -i $DEB again" in_root dpkg -i "/pkg/$DEB"
expect "the service runs again, with the shipped vips.yaml" eventually active
expect "dpkg --purge lvs-rs-operator" in_root dpkg --purge lvs-rs-operator
expect "purge removed /var/lib/lvs-rs-operator" in_root test ! -e /var/lib/lvs-rs-operator
expect "the namespace is still as it was before the package" restored

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
