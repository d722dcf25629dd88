#!/usr/bin/env bash
# The whole test suite on a fresh Debian bookworm machine: installs what it needs, builds with
# warnings as errors, checks formatting and clang-tidy, and runs every test through ctest.
#   sudo ./scripts/test.sh            everything
#   sudo ./scripts/test.sh -L unit    only tests with a ctest label (unit, kernel, ...)
source "$(dirname "$0")/lib.sh"
need_root
install_deps
run_setup_steps
log "checking formatting (clang-format)"
mapfile -t sources < <(cd "$ROOT" && git ls-files '*.cpp' '*.h' 2>/dev/null || find operator tests bench -name '*.cpp' -o -name '*.h')
(cd "$ROOT" && clang-format --dry-run --Werror "${sources[@]}")
build
clang_tidy
log "running tests"
cd "$BUILD_DIR"
# Two at a time: most tests wait on the kernel, an API server or a timer, not on a core. Tests
# that must run alone say so (RUN_SERIAL: the kube clusters, the container build; RESOURCE_LOCK).
ctest --output-on-failure --timeout 1200 -j"$(nproc)" "$@"
