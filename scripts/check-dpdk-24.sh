#!/usr/bin/env bash
# check-dpdk-24.sh DIST: run the data-plane tests against DPDK 24.11 on a
# Debian 12 host: a Debian 13 (trixie) rootfs (lab/debian-rootfs.sh) as a
# chroot, with the wheel from DIST, which ./build.sh artifacts --debian trixie
# built. Root; hugepages as scripts/setup.sh leaves them.
set -euo pipefail
cd "$(dirname "$0")/.."
DIST=$(realpath "${1:?usage: check-dpdk-24.sh DIST (from ./build.sh artifacts --debian trixie --out DIST)}")
ROOT=$(lab/debian-rootfs.sh trixie)

mounts=(proc sys dev dev/hugepages run)
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "$ROOT/${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for m in "${mounts[@]}"; do mountpoint -q "$ROOT/$m" || mount --bind "/$m" "$ROOT/$m"; done
rm -rf "$ROOT/src" && mkdir -p "$ROOT/src/dist"
git ls-files tests lab examples pyproject.toml | tar -c -T - | tar -x -C "$ROOT/src"
cp "$DIST"/dpfwd-*.whl "$ROOT/src/dist/"
chroot "$ROOT" bash -c '
  set -e
  cd /src
  echo "DPDK $(pkg-config --modversion libdpdk), $(python3 --version)"
  rm -rf /tmp/v && python3 -m venv --system-site-packages /tmp/v
  /tmp/v/bin/pip install -q --no-deps --no-index dist/dpfwd-*.whl
  /tmp/v/bin/python -m pytest -q -p no:cacheprovider tests/test_replay.py tests/test_api.py \
    tests/test_config.py tests/test_plan.py tests/test_cli.py tests/test_observability.py tests/test_capture.py'
