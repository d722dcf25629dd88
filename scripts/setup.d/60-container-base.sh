#!/usr/bin/env bash
# Container tooling for the Dockerfile tests, without touching the machine's own container config:
#  - $LVSRS_CACHE/containers/containers.conf: runc (crun fails on hybrid cgroups), cgroupfs,
#    file events, and default_ulimits (podman run otherwise fails in setrlimit on these VMs);
#  - $LVSRS_CACHE/containers/storage.conf: image and container storage under $LVSRS_CACHE, so
#    nothing lands in the repo and `rm -rf $LVSRS_CACHE/containers` forgets it all;
#  - the base image docker.io/library/debian:bookworm-slim, made with
#    `debootstrap --variant=minbase bookworm` from the Debian mirror apt uses (no registry is
#    reachable), trimmed like the official slim image, cached as a tar and `podman import`ed.
# scripts/podman.sh runs podman with these files. Idempotent: a second run only checks.
set -euo pipefail
CACHE=${LVSRS_CACHE:-/var/cache/lvs-rs-operator}
DIR=$CACHE/containers
BASE_TAR=$DIR/debian-bookworm-minbase.tar
BASE_TAG=docker.io/library/debian:bookworm-slim
mkdir -p "$DIR/storage"

cat >"$DIR/containers.conf.tmp" <<CONF
# Written by scripts/setup.d/60-container-base.sh; used through CONTAINERS_CONF only.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
mv "$DIR/containers.conf.tmp" "$DIR/containers.conf"
cat >"$DIR/storage.conf.tmp" <<CONF
# Written by scripts/setup.d/60-container-base.sh; used through CONTAINERS_STORAGE_CONF only.
[storage]
driver = "overlay"
graphroot = "$DIR/storage"
runroot = "/run/lvs-rs-operator/containers"
CONF
mv "$DIR/storage.conf.tmp" "$DIR/storage.conf"

# The Debian mirror apt already reaches (deb822 .sources or one-line .list), else the default.
debian_mirror() {
  local uri
  uri=$(awk 'tolower($1)=="uris:" {u=$2} tolower($1)=="suites:" && u!="" {for(i=2;i<=NF;i++) if($i=="bookworm"){print u; exit}}' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" {for(i=2;i<=NF;i++) if($i ~ /^(https?|ftp):/ && $(i+1)=="bookworm"){print $i; exit}}' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

if [ ! -s "$BASE_TAR" ]; then
  mirror=${LVSRS_DEBIAN_MIRROR:-$(debian_mirror)}
  echo "debootstrap --variant=minbase bookworm from $mirror" >&2
  rootfs=$(mktemp -d "$DIR/rootfs.XXXXXX")
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$DIR/debootstrap.log" 2>&1 ||
    { tail -n 30 "$DIR/debootstrap.log" >&2; exit 1; }
  # Trim like the official slim image: no docs/man/locales now, and none installed later.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/slim-excludes" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CONF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  find "$rootfs/usr/share/doc" -mindepth 2 ! -name copyright -delete 2>/dev/null || true
  rm -rf "$rootfs"/usr/share/{man,info,groff,lintian,linda,locale}/* "$rootfs"/var/lib/apt/lists/* \
    "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/* "$rootfs"/tmp/*
  tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
  mv "$BASE_TAR.tmp" "$BASE_TAR"
fi

export CONTAINERS_CONF=$DIR/containers.conf CONTAINERS_STORAGE_CONF=$DIR/storage.conf
if ! podman image exists "$BASE_TAG"; then
  podman import --quiet --change 'CMD ["/bin/bash"]' "$BASE_TAR" "$BASE_TAG" >/dev/null
fi
podman image inspect --format '{{.Id}}' "$BASE_TAG" >/dev/null
echo "base image $BASE_TAG ready (storage $DIR/storage)" >&2
