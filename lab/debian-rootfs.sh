#!/usr/bin/env bash
# debian-rootfs.sh RELEASE: print the path of a Debian RELEASE (bookworm or
# trixie) rootfs with everything dpfwd needs to build, run and be tested,
# debootstrapping it once (a few minutes) into $DPFWD_LAB_CACHE (default
# /var/cache/dpfwd-lab). The lab uses it as a chroot (DPDK 24.11 on a Debian
# 12 host) and, through `docker import`, as the base image Dockerfile's FROM
# names (there is no registry here). Root.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=${1:?usage: debian-rootfs.sh bookworm|trixie}
ROOT=${DPFWD_LAB_CACHE:-/var/cache/dpfwd-lab}/rootfs-$RELEASE
# The Dockerfile's package lists, plus what the tests import from Debian (python3-ply
# by name: debootstrap does not resolve the virtual package pycparser needs).
TESTING="python3-pytest python3-ply python3-cffi python3-click python3-yaml python3-rich python3-prometheus-client
         python3-jsonschema python3-hypothesis groff-base"
pkgs=$(sed 's/#.*//' docker/packages-build docker/packages-runtime | xargs echo $TESTING | tr ' ' ',')

# .done holds the package list it was made with: a new list makes it anew.
if [ "$(cat "$ROOT/.done" 2>/dev/null)" != "$pkgs" ]; then
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  debootstrap --variant=minbase --include="$pkgs" "$RELEASE" "$ROOT" >"$ROOT.log" 2>&1 \
    || { tail -20 "$ROOT.log" >&2; echo "debian-rootfs.sh: debootstrap $RELEASE failed (log: $ROOT.log)" >&2; exit 1; }
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb
  echo "$pkgs" >"$ROOT/.done"
fi
echo "$ROOT"
