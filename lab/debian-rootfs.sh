#!/usr/bin/env bash
# debian-rootfs.sh RELEASE [ARCH]: print the path of a Debian RELEASE (bookworm
# or trixie) rootfs with everything dpfwd needs to build, run and be tested,
# debootstrapping it once (a few minutes) into $DPFWD_LAB_CACHE (default
# /var/cache/dpfwd-lab). The lab uses it as a chroot (DPDK 24.11 on a Debian
# 12 host) and, through `docker import`, as the base image Dockerfile's FROM
# names (there is no registry here). ARCH: this machine's (default) or arm64,
# whose second stage runs under qemu-user emulation (lab/arm64-emulation.sh
# sets it up; slow: many minutes). Root.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=${1:?usage: debian-rootfs.sh bookworm|trixie [arm64]}
ARCH=${2:-$(dpkg --print-architecture)}
ROOT=${DPFWD_LAB_CACHE:-/var/cache/dpfwd-lab}/rootfs-$RELEASE
[ "$ARCH" = "$(dpkg --print-architecture)" ] || ROOT=$ROOT-$ARCH
# The Dockerfile's package lists, plus what the tests import from Debian (python3-ply
# by name: debootstrap does not resolve the virtual package pycparser needs).
TESTING="python3-pytest python3-ply python3-cffi python3-click python3-yaml python3-rich python3-prometheus-client
         python3-jsonschema python3-hypothesis groff-base"
pkgs=$(sed 's/#.*//' docker/packages-build docker/packages-runtime | xargs echo $TESTING | tr ' ' ',')

# .done holds the package list it was made with: a new list makes it anew.
if [ "$(cat "$ROOT/.done" 2>/dev/null)" != "$pkgs" ]; then
  rm -rf "$ROOT" && mkdir -p "$ROOT"
  [ "$ARCH" = "$(dpkg --print-architecture)" ] || lab/arm64-emulation.sh >&2
  debootstrap --variant=minbase --arch="$ARCH" --include="$pkgs" "$RELEASE" "$ROOT" >"$ROOT.log" 2>&1 \
    || { tail -20 "$ROOT.log" >&2; echo "debian-rootfs.sh: debootstrap $RELEASE failed (log: $ROOT.log)" >&2; exit 1; }
  rm -rf "$ROOT"/var/cache/apt/archives/*.deb
  echo "$pkgs" >"$ROOT/.done"
fi
echo "$ROOT"
