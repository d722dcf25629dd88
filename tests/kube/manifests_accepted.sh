#!/usr/bin/env bash
# `kubectl apply -k manifests/` and the example VirtualIPs, exactly as a user installs the
# operator, against the real kube-apiserver 1.20 of tests/support/kube_cluster.sh: every rendered
# object (Namespace, CRDs, RBAC, DaemonSet) must be accepted. The DaemonSet's pods never run (no
# kubelet); the objects must exist all the same. Exit 0 only when all are accepted and present.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
cluster=$src/tests/support/kube_cluster.sh
dir=$(mktemp -d /tmp/lvsrs-ka.XXXXXX)
ns=lvsrs-ka-$$
trap '"$cluster" down "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
# Real clusters run kube-apiserver with --allow-privileged=true (kubeadm and every distribution
# do); the harness default is false, which rejects any privileged pod template.
"$cluster" up "$dir" "$ns" --allow-privileged=true >/dev/null
kc() { "$cluster" kubectl "$dir" "$@"; }
kc apply -k "$src/manifests/"
kc apply -k "$src/manifests/flowcontrol/"
kc apply -f "$src/manifests/examples/"
kc get namespace lvs-rs-operator
kc -n lvs-rs-operator get daemonset/lvs-rs-operator serviceaccount/lvs-rs-operator
kc get crd virtualips.lvsdr.io realservers.lvsdr.io
kc get clusterrole lvs-rs-operator
kc get flowschema/lvs-rs-operator prioritylevelconfiguration/lvs-rs-operator
kc get vip
echo "all objects rendered by kubectl kustomize manifests/ were accepted by the real kube-apiserver"
