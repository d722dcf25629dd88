#!/usr/bin/env bash
# The Debian package, from `dpkg-buildpackage -us -uc -b` of this tree to a clean bookworm root
# (the debootstrap base of the container tests, run with podman, root, in a network namespace
# this test creates; no network beyond it, so everything installs offline):
#   dpkg -i refused without its Depends; with them, installed; the shipped vips.yaml is valid and
#   changes nothing; `check`, `run --once` converges (ip -j, /proc/sys in the namespace);
#   systemd-analyze verify accepts the unit; `dpkg -r` leaves VIPs, routes and sysctls in place
#   and keeps the conffile and state dir; `purge` keeps a state dir that still records changes;
#   `cleanup` (a copy of the binary kept by the test) restores; purge after cleanup removes it.
# Usage: deb_installs_on_bookworm.sh SOURCE_DIR   (root; scripts/deps/{package,container}.txt)
set -euo pipefail
SRC=$(cd "${1:?source dir}" && pwd)
# LVSRS_CACHE and the shared compiler cache (CCACHE_DIR), as every build of the project uses.
# shellcheck source=../../scripts/lib.sh
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
flock -u 9
[ -s "$WORK/pkg/$DEB" ] || { echo "FAIL: no package"; exit 1; }

echo "== what the package holds"
dpkg-deb -I "$WORK/pkg/$DEB" | sed -n '/Package:/,$p' | sed 's/^/  /'
dpkg-deb -c "$WORK/pkg/$DEB" | awk '{print "  " $1 " " $6}'
has_path() { dpkg-deb -c "$WORK/pkg/$DEB" | awk '{print $6}' | grep -qx "$1"; }
expect "the binary at /usr/sbin/lvs-rs-operator" has_path ./usr/sbin/lvs-rs-operator
expect "the systemd unit lvs-rs-operator.service" has_path ./lib/systemd/system/lvs-rs-operator.service
expect "the example /etc/lvs-rs-operator/vips.yaml" has_path ./etc/lvs-rs-operator/vips.yaml
expect "the state directory /var/lib/lvs-rs-operator" has_path ./var/lib/lvs-rs-operator/
dpkg-deb -e "$WORK/pkg/$DEB" "$WORK/control"
expect "vips.yaml is a conffile" grep -qx /etc/lvs-rs-operator/vips.yaml "$WORK/control/conffiles"
depends=$(dpkg-deb -f "$WORK/pkg/$DEB" Depends)
for lib in libnl-3 libnl-route-3 libcpprest libprometheus-cpp libyaml-cpp; do
  expect "Depends names the $lib runtime package (\${shlibs:Depends})" grep -q "$lib" <<<"$depends"
done
dpkg-deb -x "$WORK/pkg/$DEB" "$WORK/root"
binary_version=$("$WORK/root/usr/sbin/lvs-rs-operator" version | awk '{print $2}')
expect "package version $VERSION is the binary's ($binary_version; debian/changelog follows CMakeLists.txt)" \
  test "${VERSION%%-*}" = "$binary_version"

echo "== systemd-analyze verify (on this machine, against the unpacked package)"
# No systemd in the bookworm root: the unit is verified here, with the unpacked package as root
# (verify also checks that ExecStart= names an executable).
if systemd-analyze verify --root="$WORK/root" /lib/systemd/system/lvs-rs-operator.service >"$WORK/verify.log" 2>&1 &&
  ! grep -v '^$' "$WORK/verify.log" | grep -q .; then
  ok "systemd-analyze verify accepts lvs-rs-operator.service, no warnings"
else
  sed 's/^/  /' "$WORK/verify.log"
  fail "systemd-analyze verify lvs-rs-operator.service"
fi
systemd-analyze security --offline=yes --root="$WORK/root" lvs-rs-operator.service 2>/dev/null |
  tail -n 1 | sed 's/^/  systemd-analyze security: /' || true
unit=$WORK/root/lib/systemd/system/lvs-rs-operator.service
expect "the unit runs run --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator" \
  grep -qx 'ExecStart=/usr/sbin/lvs-rs-operator run --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator' "$unit"
expect "Restart=on-failure" grep -qx 'Restart=on-failure' "$unit"
expect "only CAP_NET_ADMIN in the bounding set" grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN' "$unit"
expect_not "/proc/sys stays writable (no ProtectKernelTunables)" grep -q '^ProtectKernelTunables=yes' "$unit"

echo "== the runtime dependencies, for an offline install"
# apt resolves the package's Depends against what the bookworm root has (its dpkg status) and
# downloads what is missing into a cache kept between runs; the root itself has no network.
base_tar=$LVSRS_CACHE/containers/debian-bookworm-minbase.tar
tar -xf "$base_tar" ./var/lib/dpkg/status -O >"$WORK/base-status"
DEBS=$PKG_CACHE/debs
mkdir -p "$DEBS/partial"
if ! apt-get -q -y --download-only --no-install-recommends -o Dir::State::status="$WORK/base-status" \
  -o Dir::Cache::archives="$DEBS" install "$WORK/pkg/$DEB" >"$WORK/apt.log" 2>&1; then
  tail -n 20 "$WORK/apt.log"
  echo "FAIL: apt-get --download-only of the Depends (apt-get update on this machine?)"
  exit 1
fi
# The files this resolution picked (the cache may also hold other versions from earlier runs):
# the names apt would fetch into an empty archive directory.
mkdir -p "$WORK/pkg/deps" "$WORK/empty/partial"
apt-get -qq -y --print-uris --no-install-recommends -o Dir::State::status="$WORK/base-status" \
  -o Dir::Cache::archives="$WORK/empty" install "$WORK/pkg/$DEB" | awk '{print $2}' |
  grep -v '^lvs-rs-operator_' >"$WORK/deps.txt" || true
while read -r f; do cp "$DEBS/$f" "$WORK/pkg/deps/"; done <"$WORK/deps.txt"
echo "  $(wc -l <"$WORK/deps.txt") packages missing from the bookworm root: $(tr '\n' ' ' <"$WORK/deps.txt")"

echo "== a node namespace: lo up, one ARP-capable veth pair; the root runs in it"
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add eth0 type veth peer name eth1
ip -n "$NS" link set eth0 up
ip -n "$NS" link set eth1 up
host_arp_ignore=$(sysctl -n net.ipv4.conf.all.arp_ignore)
host_arp_announce=$(sysctl -n net.ipv4.conf.all.arp_announce)
# Privileged: /proc/sys writable, as for root on a host; the namespace has no route anywhere.
podman run -d --name "$CT" --privileged --network "ns:/run/netns/$NS" -v "$WORK/pkg:/pkg:ro" \
  --entrypoint sleep "$BASE" infinity >/dev/null
in_root() { podman exec "$CT" "$@"; }

echo "== dpkg -i"
# Negative control: without its Depends dpkg refuses to configure the package (a throwaway root).
if podman run --rm --network none -v "$WORK/pkg:/pkg:ro" "$BASE" dpkg -i "/pkg/$DEB" >"$WORK/nodeps.log" 2>&1; then
  fail "dpkg -i without the runtime libraries succeeded (Depends missing?)"
else
  expect "dpkg -i without the runtime libraries is refused, naming them" grep -q 'depends on lib' "$WORK/nodeps.log"
fi
if [ -n "$(ls "$WORK/pkg/deps")" ]; then
  expect "dpkg -i of the runtime libraries" in_root sh -c 'dpkg -i /pkg/deps/*.deb >/tmp/deps.log 2>&1 || { tail -n 20 /tmp/deps.log; exit 1; }'
fi
expect "dpkg -i $DEB" in_root dpkg -i "/pkg/$DEB"
expect "dpkg says installed" test "$(in_root dpkg-query -W -f='${Status}' lvs-rs-operator)" = "install ok installed"
expect "lvs-rs-operator is on root's PATH, and runs" in_root lvs-rs-operator version
expect "every shared library found" in_root sh -c '! ldd /usr/sbin/lvs-rs-operator | grep -q "not found"'

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
restored() {
  ! lo_has 192.0.2.10 32 && ! lo_has 2001:db8::10 128 && ! lo_has 198.51.100.53 32 &&
    ! route_to_lo -4 192.0.2.10 && ! route_to_lo -6 2001:db8::10 && ! route_to_lo -4 198.51.100.53 &&
    arp_is all 0 0 && arp_is default 0 0 && arp_is lo 0 0 && only_loopback_on_lo
}
host_untouched() {
  [ "$(sysctl -n net.ipv4.conf.all.arp_ignore)" = "$host_arp_ignore" ] &&
    [ "$(sysctl -n net.ipv4.conf.all.arp_announce)" = "$host_arp_announce" ]
}

echo "== the shipped /etc/lvs-rs-operator/vips.yaml: no VirtualIP, valid, changes nothing"
expect "check --file with the shipped file exits 0" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
expect "run --once with the shipped file exits 0" in_root lvs-rs-operator run --once --file /etc/lvs-rs-operator/vips.yaml
unchanged() { only_loopback_on_lo && arp_is all 0 0 && arp_is default 0 0 && arp_is lo 0 0; }
expect "... and changed nothing: lo holds only 127.0.0.1 and ::1, ARP sysctls 0" unchanged

echo "== VirtualIPs in /etc/lvs-rs-operator/vips.yaml: check, run --once, check"
podman exec -i "$CT" sh -c 'cat >/etc/lvs-rs-operator/vips.yaml' <<'YAML'
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
expect_not "check before the agent ran: not conformant (exit 1)" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
if in_root lvs-rs-operator run --once --file /etc/lvs-rs-operator/vips.yaml --state-dir /var/lib/lvs-rs-operator; then
  ok "run --once (the unit's flags) exits 0: converged and verified"
else
  fail "run --once exit code $?"
fi
expect "VIPs /32 and /128 on lo, host routes proto 245, arp_ignore=1 arp_announce=2 on all, default, lo" converged
expect "check exits 0 (conformant)" in_root lvs-rs-operator check --file /etc/lvs-rs-operator/vips.yaml
expect "originals recorded in /var/lib/lvs-rs-operator" in_root grep -q arp_ignore /var/lib/lvs-rs-operator/sysctl-originals.json
expect "the machine's own conf/all ARP sysctls unchanged" host_untouched

echo "== dpkg -r: the kernel state stays; the conffile and the state directory stay"
in_root cp /usr/sbin/lvs-rs-operator /root/lvs-rs-operator # what a user keeps to clean up later
expect "dpkg -r lvs-rs-operator" in_root dpkg -r lvs-rs-operator
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
expect "VIPs and host routes gone, ARP sysctls back to 0, 127.0.0.1 and ::1 untouched" restored
expect "the machine's own conf/all ARP sysctls unchanged" host_untouched

echo "== reinstall, purge: nothing left to undo, so the state directory goes"
expect "dpkg -i $DEB again" in_root dpkg -i "/pkg/$DEB"
expect "the old state directory is adopted, recording nothing" in_root test -d /var/lib/lvs-rs-operator
expect "dpkg --purge lvs-rs-operator" in_root dpkg --purge lvs-rs-operator
expect "purge removed /var/lib/lvs-rs-operator" in_root test ! -e /var/lib/lvs-rs-operator
expect "the namespace is still as it was before the package" restored

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
