#!/usr/bin/env bash
# Builds the Kubernetes 1.20.2 binaries the tests run from Debian's source package `kubernetes`,
# offline, with Debian's Go, and caches them beside each other in $LVSRS_CACHE so later runs skip
# the build: kube-apiserver for the e2e tests (tests/kube/, about 4 min and 1.3 GiB on 2 cores) and
# kubelet, kube-controller-manager and kube-scheduler for the real-node test (tests/node/, about
# 15-30 min more, niced). Only the binaries missing from the cache are built, in one `make`.
# The tree's build/pause/linux/pause.c (the pod sandbox's pause program; no registry to pull the
# pause image from) is kept as $LVSRS_CACHE/pause.c for tests/node/ to build the image from.
#
# Why from source: Debian bookworm ships no kube-apiserver binary, and the machine reaches only
# Debian's apt (no dl.k8s.io). The vendored tree builds with Go 1.19 without any network.
#
# Why reflect2 is replaced: kubernetes 1.20 vendors github.com/modern-go/reflect2 1.0.1, which
# reads Go runtime map internals by linkname and crashes the server (SIGSEGV in mapiterinit) on the
# first custom-resource create when built with Go >= 1.18. Debian's 1.0.2 fixes that; it is
# source-compatible, so its files replace the vendored ones.
set -euo pipefail
LVSRS_CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}
VERSION=1.20.2
BINARIES=(kube-apiserver kubelet kube-controller-manager kube-scheduler)

log() { printf '==> 50-kube-apiserver: %s\n' "$*" >&2; }

cached() { [ -x "$LVSRS_CACHE/$1" ] && "$LVSRS_CACHE/$1" --version 2>/dev/null | grep -q "v$VERSION"; }
missing_binaries() {
  local b
  for b in "${BINARIES[@]}"; do cached "$b" || echo "$b"; done
  [ -s "$LVSRS_CACHE/pause.c" ] || echo pause.c
}

MISSING=$(missing_binaries)
if [ -z "$MISSING" ]; then
  log "cached ${BINARIES[*]} v$VERSION in $LVSRS_CACHE"
  exit 0
fi

mkdir -p "$LVSRS_CACHE"
# One build at a time on a machine: a second run (another clone, CI) waits, then finds the binary.
exec 9>"$LVSRS_CACHE/kube-apiserver.lock"
flock 9
MISSING=$(missing_binaries)
if [ -z "$MISSING" ]; then
  log "cached ${BINARIES[*]} v$VERSION in $LVSRS_CACHE (built by a concurrent run)"
  exit 0
fi
mapfile -t MISSING <<<"$MISSING"
# apt-get source needs a deb-src entry; add one for bookworm main only if none exists.
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  log "adding deb-src entry for bookworm (/etc/apt/sources.list.d/lvsrs-deb-src.sources)"
  cat >/etc/apt/sources.list.d/lvsrs-deb-src.sources <<'SRC'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -q
fi

WORK="$LVSRS_CACHE/kube-build"
# The tree (with kubernetes' own build cache under _output/) is kept until a build succeeds, so an
# interrupted build resumes instead of starting over.
if [ ! -f "$WORK/.extracted-$VERSION" ]; then
  rm -rf "$WORK"
  mkdir -p "$WORK"
  cd "$WORK"
  log "fetching Debian source package kubernetes"
  apt-get source -q --download-only kubernetes
  dpkg-source -x kubernetes_*.dsc src >/dev/null
  touch "$WORK/.extracted-$VERSION"
fi
cd "$WORK/src"

REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
[ -d "$REFLECT2" ] || { echo "missing $REFLECT2 (package golang-github-modern-go-reflect2-dev)" >&2; exit 1; }
log "replacing vendored github.com/modern-go/reflect2 with Debian's 1.0.2"
rm -rf vendor/github.com/modern-go/reflect2
mkdir -p vendor/github.com/modern-go/reflect2
cp "$REFLECT2"/*.go "$REFLECT2"/*.s vendor/github.com/modern-go/reflect2/ 2>/dev/null || cp "$REFLECT2"/*.go vendor/github.com/modern-go/reflect2/
rm -f vendor/github.com/modern-go/reflect2/*_test.go
sed -i 's|^# github.com/modern-go/reflect2 v1.0.1$|# github.com/modern-go/reflect2 v1.0.2|; s|^github.com/modern-go/reflect2 v1.0.1|github.com/modern-go/reflect2 v1.0.2|' vendor/modules.txt
sed -i 's|github.com/modern-go/reflect2 v1.0.1|github.com/modern-go/reflect2 v1.0.2|' go.mod staging/src/k8s.io/*/go.mod 2>/dev/null || true

install -m 0644 build/pause/linux/pause.c "$LVSRS_CACHE/pause.c"
mapfile -t MISSING < <(printf '%s\n' "${MISSING[@]}" | grep -vx pause.c || true)
if ((${#MISSING[@]} == 0)); then
  cd /
  rm -rf "$WORK"
  log "kept pause.c in $LVSRS_CACHE; binaries were cached"
  exit 0
fi
WHAT=$(printf 'cmd/%s ' "${MISSING[@]}")
log "building ${WHAT% } v$VERSION (offline, Go $(go version | awk '{print $3}'))"
# The machine is shared (2 cores): build at the lowest priority with at most two Go workers (go's
# -p defaults to GOMAXPROCS; kubernetes' scripts reject extra flags in GOFLAGS).
export GOFLAGS=-mod=vendor GOMAXPROCS=${LVSRS_GO_JOBS:-2}
export GOPROXY=off GO111MODULE=on CGO_ENABLED=0
export KUBE_GIT_VERSION="v$VERSION" KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=debian
export KUBE_BUILD_PLATFORMS=linux/amd64 GOLDFLAGS='-s -w'
started=$SECONDS
nice -n 19 make WHAT="${WHAT% }" KUBE_VERBOSE=0
log "built in $((SECONDS - started)) s"
for b in "${MISSING[@]}"; do
  BIN=$(find _output -type f -name "$b" -perm -u+x | head -1)
  [ -n "$BIN" ] || { echo "build produced no $b" >&2; exit 1; }
  install -m 0755 "$BIN" "$LVSRS_CACHE/$b.tmp"
  mv "$LVSRS_CACHE/$b.tmp" "$LVSRS_CACHE/$b"
  "$LVSRS_CACHE/$b" --version
done
cd /
rm -rf "$WORK"
log "installed ${MISSING[*]} in $LVSRS_CACHE"
