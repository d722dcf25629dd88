# Shared by scripts/*.sh: install Debian packages listed in scripts/deps/*.txt, run setup steps.
# Everything is idempotent, so a second run on the same machine is fast.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
# Heavy artefacts (kube-apiserver, container base image) live outside the clone so that CI and
# later sessions on the same machine reuse them.
export LVSRS_CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}

log() { printf '\033[1m==> %s (%s)\033[0m\n' "$*" "$(date -u +%H:%M:%S)" >&2; }

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "this needs root (network namespaces, apt-get): run it with sudo" >&2
    exit 2
  fi
}

install_deps() {
  local pkgs=() missing=()
  mapfile -t pkgs < <(cat "$ROOT"/scripts/deps/*.txt | sed 's/#.*//' | awk 'NF{print $1}' | sort -u)
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

run_setup_steps() {
  mkdir -p "$LVSRS_CACHE"
  local step
  for step in "$ROOT"/scripts/setup.d/*.sh; do
    [ -e "$step" ] || continue
    log "setup: $(basename "$step")"
    bash "$step"
  done
}

# Compiler cache outside the clone: CI's fresh clone and every worktree on the machine reuse
# objects whose sources did not change (paths are made relative to the clone, so they match).
# The sanitizer build (tests/sanitizers) inherits the environment and uses it too.
export CCACHE_DIR=${CCACHE_DIR:-$LVSRS_CACHE/ccache} CCACHE_BASEDIR=$ROOT CCACHE_NOHASHDIR=1
ccache_flags() {
  command -v ccache >/dev/null || return 0
  mkdir -p "$CCACHE_DIR"
  echo "-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
}

# The one cmake invocation of the scripts; extra arguments go to cmake.
configure() {
  cmake -S "$ROOT" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLVSRS_WERROR=ON $(ccache_flags) "$@" >/dev/null
}

build() {
  log "building in $BUILD_DIR"
  configure "$@"
  cmake --build "$BUILD_DIR" -j"$(nproc)"
}

# clang-tidy (.clang-tidy) over the operator's sources, with the flags of the last build
# ($BUILD_DIR/compile_commands.json); every finding is an error. Two processes at a time, each
# printing its files' findings in one piece. Tests are not checked: gtest's macros are noise.
clang_tidy() {
  log "clang-tidy of operator/"
  local sources=()
  mapfile -t sources < <(cd "$ROOT" && { git ls-files 'operator/*.cpp' 2>/dev/null || find operator -name '*.cpp'; })
  # shellcheck disable=SC2016  # $@ and $out belong to the inner shell
  if ! (cd "$ROOT" && printf '%s\n' "${sources[@]}" |
    xargs -P2 -n4 sh -c 'out=$(clang-tidy -p "$0" --quiet --warnings-as-errors="*" "$@" 2>&1) || { printf "%s\n" "$out"; exit 1; }' "$BUILD_DIR"); then
    echo "clang-tidy: findings above (fix them, or tune .clang-tidy with a comment saying why)" >&2
    return 1
  fi
}
