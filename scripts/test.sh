#!/usr/bin/env bash
# Set up, then run every test: pytest (real DPDK on virtual devices), the
# linters, the packaging check (Dockerfile, DPDK 22.11 and 24.11), the arm64
# build and emulated tests, and the roles in a QEMU guest (molecule).
# DPFWD_SKIP_VM=1 skips the guest (about 37 of CI's 43 minutes);
# DPFWD_SKIP_ARM64=1 skips arm64.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH=$PWD/.venv/bin:$PATH

echo "== pytest"
python -m pytest -q -p no:cacheprovider --durations=10 "$@"

# This machine's Debian release: the arm64 tests' and, unless
# DPFWD_GUEST_RELEASE says otherwise, the guest's (a Debian 13 machine deploys
# to a Debian 13 guest with DPDK 24.11).
release=bookworm
[ "$(cut -d. -f1 /etc/debian_version)" = 12 ] || release=trixie
export DPFWD_GUEST_RELEASE=${DPFWD_GUEST_RELEASE:-$release}
mkdir -p build

# The guest image (a debootstrap, about 2 minutes on a fresh machine; cached
# after) builds beside the linters and the packaging check, which are no
# timing tests; molecule's create finds it built.
image=""
if [ "${DPFWD_SKIP_VM:-0}" != 1 ]; then
  lab/guest/build-image.sh >build/guest-image.log 2>&1 &
  image=$!
fi

echo "== lint"
yamllint .
ansible-lint --offline -q

echo "== packaging (Dockerfile, both DPDK versions)"
start=$(date +%s)
./scripts/check-packaging.sh
echo "packaging: $(( $(date +%s) - start )) s"

# arm64 runs beside the guest, at the lowest priority: the guest's TCG threads
# leave a core idle much of the time, and arm64 emulation needs no more. Only
# this machine's Debian release: an emulated debootstrap takes 7 to 15 minutes,
# so both would outlast the guest (`scripts/check-arm64.sh` alone does both).
arm64=""
if [ "${DPFWD_SKIP_ARM64:-0}" != 1 ]; then
  echo "== arm64, Debian $release (build and emulated tests, in the background: its log follows molecule's)"
  nice -n 19 ./scripts/check-arm64.sh "$release" >build/arm64.log 2>&1 &
  arm64=$!
fi

if [ "${DPFWD_SKIP_VM:-0}" != 1 ]; then
  echo "== molecule (roles in a QEMU guest, Debian $DPFWD_GUEST_RELEASE)"
  start=$(date +%s)
  wait "$image" || { cat build/guest-image.log; echo "guest image: build failed" >&2; exit 1; }
  echo "guest image: ready $(( $(date +%s) - start )) s after packaging"
  # Each test's time: the guest's part of CI is the one that grows.
  PYTEST_ADDOPTS="--durations=12" molecule test
  echo "molecule: $(( $(date +%s) - start )) s"
fi

if [ -n "$arm64" ]; then
  echo "== arm64"
  start=$(date +%s)
  status=0
  wait "$arm64" || status=$?
  cat build/arm64.log
  echo "arm64: waited $(( $(date +%s) - start )) s after molecule"
  [ "$status" = 0 ] || { echo "arm64: failed (exit $status)" >&2; exit 1; }
fi
