#!/usr/bin/env bash
# Build dpfwd against DPDK 24.11 and run the data-plane tests there: a Debian 13
# (trixie) chroot from debootstrap, cached in $DPFWD_TRIXIE (default
# /var/tmp/dpfwd-trixie). Root; hugepages as scripts/setup.sh leaves them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${DPFWD_TRIXIE:-/var/tmp/dpfwd-trixie}
PKGS=libdpdk-dev,dpdk,pkg-config,gcc,libc6-dev,python3-venv,python3-dev,python3-cffi,python3-click,python3-yaml,python3-setuptools,python3-wheel,python3-pytest,python3-prometheus-client,python3-rich,python3-pip

if [ ! -f "$ROOT/.done" ]; then
  debootstrap --variant=minbase --include="$PKGS" trixie "$ROOT" >/dev/null
  touch "$ROOT/.done"
fi
mounts=(proc sys dev dev/hugepages run)
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "$ROOT/${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for m in "${mounts[@]}"; do mountpoint -q "$ROOT/$m" || mount --bind "/$m" "$ROOT/$m"; done
rm -rf "$ROOT/src" && mkdir -p "$ROOT/src"
git archive HEAD | tar -x -C "$ROOT/src"
chroot "$ROOT" bash -c '
  set -e
  cd /src
  echo "DPDK $(pkg-config --modversion libdpdk), $(python3 --version)"
  rm -rf /tmp/v && python3 -m venv --system-site-packages /tmp/v
  /tmp/v/bin/pip install -q --no-build-isolation --no-deps --no-index .
  /tmp/v/bin/python -m pytest -q -p no:cacheprovider tests/test_replay.py tests/test_api.py \
    tests/test_config.py tests/test_plan.py tests/test_cli.py tests/test_observability.py tests/test_capture.py'
