#!/usr/bin/env bash
# check-arm64.sh [RELEASE...]: the arm64 build and tests, on an x86-64 host,
# under qemu-user emulation (lab/arm64-emulation.sh sets it up): for each
# RELEASE (default: bookworm trixie), `./build.sh artifacts --platform
# linux/arm64` with no network (the lab's dockerd has none; its base image and
# wheelhouse come from lab/docker.sh), the wheel's tag and baseline, then the
# emulated tests in an arm64 rootfs of that release (scripts/check-debian.sh
# RELEASE DIST arm64). Prints each step's time. Root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie)

step() { echo "arm64: $1: $(( $(date +%s) - start )) s"; start=$(date +%s); }
start=$(date +%s)
lab/arm64-emulation.sh
for release in "${releases[@]}"; do
  lab/docker.sh up "$release-arm64" >/dev/null
  step "$release base image and wheelhouse"
  out=build/dist-$release-arm64
  WHEELHOUSE=.wheelhouse/$release-arm64 ./build.sh artifacts --debian "$release" --platform linux/arm64 \
    --out "$out" | tail -1
  wheel=$(ls "$out"/dpfwd-*.whl)
  case "$wheel" in
    *linux_aarch64.whl) echo "arm64: $(basename "$wheel")" ;;
    *) echo "check-arm64.sh: $wheel is not an aarch64 wheel" >&2; exit 1 ;;
  esac
  python3 scripts/check-baseline.py "$wheel"
  step "$release build"
  scripts/check-debian.sh "$release" "$out" arm64
  step "$release emulated tests"
done
