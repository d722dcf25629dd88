#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (called by ctest, usable by hand).
#   fuzz.sh build BUILD_DIR                    configure + build tests/fuzz/targets with clang
#   fuzz.sh run BUILD_DIR TARGET SECONDS      fuzz TARGET for SECONDS from the seed corpus
# The seed corpus in the repo is never written: new inputs go to BUILD_DIR/fuzz-corpus/TARGET,
# crash reproducers to BUILD_DIR/fuzz-artifacts/ (copy one into tests/fuzz/regressions/TARGET/
# with the fix, so that the replay tests keep it fixed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cmd=$1 build=$2
fb=$build/fuzz-build
case $cmd in
  build)
    # ccache (scripts/lib.sh exports its directory outside the clone): a fresh clone on a machine
    # that built these sources before recompiles nothing.
    launcher=()
    command -v ccache >/dev/null && [ -n "${CCACHE_DIR:-}" ] && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    CXX=${LVSRS_FUZZ_CXX:-clang++} cmake -S "$here/targets" -B "$fb" "${launcher[@]}" >/dev/null
    cmake --build "$fb" -j"$(nproc)"
    ;;
  run)
    target=$3 seconds=$4
    bin=$fb/$target
    [ -x "$bin" ] || { echo "$bin missing: run '$0 build $build' first" >&2; exit 1; }
    work=$build/fuzz-corpus/$target
    mkdir -p "$work" "$build/fuzz-artifacts"
    seeds=("$here/corpus/$target")
    [ -d "$here/regressions/$target" ] && seeds+=("$here/regressions/$target")
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a blow-up is a finding too.
    # -max_len 65536: VirtualIP files are larger than libFuzzer's 4 KiB default.
    exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$target-" "$work" "${seeds[@]}"
    ;;
  *)
    echo "usage: $0 build|run BUILD_DIR [TARGET SECONDS]" >&2
    exit 2
    ;;
esac
