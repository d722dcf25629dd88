#!/usr/bin/env bash
# Builds the project a second time with AddressSanitizer + UndefinedBehaviorSanitizer
# (-DLVSRS_SANITIZE=ON) in BUILD_DIR/sanitize-build and runs every unit and kernel test there.
# The tests are chosen by label at run time, so new files in tests/unit and tests/kernel are
# picked up without touching this script. Extra arguments go to ctest (e.g. -R Parse).
#   run_sanitized.sh SOURCE_DIR BUILD_DIR [ctest args...]
set -euo pipefail
src=$1 build=$2
shift 2
sb=$build/sanitize-build
# Warnings are not errors here: GCC 12 reports false -Wmaybe-uninitialized in std::regex and
# std::function under ASan; the normal build (scripts/test.sh) enforces -Werror already.
# ccache (set up by scripts/lib.sh, cache outside the clone) when present.
launcher=()
command -v ccache >/dev/null && [ -n "${CCACHE_DIR:-}" ] && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$src" -B "$sb" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLVSRS_SANITIZE=ON -DLVSRS_WERROR=OFF "${launcher[@]}" >/dev/null
# The whole project: tests in other folders carry the unit and kernel labels too (metrics).
# -j2 at most: the cores are shared with the rest of the suite.
cmake --build "$sb" -j2
# Any report fails the test: UBSan stops at the first finding (no recovery), ASan always does,
# and leaks are errors too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd "$sb"
exec ctest --output-on-failure --no-tests=error -L 'unit|kernel' "$@"
