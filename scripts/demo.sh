#!/usr/bin/env bash
# The README's one-command demo on a fresh Debian machine: installs the Debian packages, builds the
# operator, and runs the LVS-DR lab (lab/dr-lab.sh) with narrated output. Exits 0 only when every
# check of the lab passed. Changes nothing outside the network namespaces the lab creates and removes.
#   sudo ./scripts/demo.sh              the lab as shown in the README
#   sudo ./scripts/demo.sh --requests 50   extra arguments go to lab/dr-lab.sh (see --help)
source "$(dirname "$0")/lib.sh"
need_root
install_deps
build
log "running the LVS-DR lab"
exec "$ROOT/lab/dr-lab.sh" --binary "$BUILD_DIR/lvs-rs-operator" "$@"
