#!/usr/bin/env bash
# check-debian.sh RELEASE DIST [arm64]: run the tests against Debian RELEASE's own
# DPDK and Python packages, whatever this host runs: a RELEASE rootfs
# (lab/debian-rootfs.sh) as a chroot, its python3-* packages as the only
# dependencies (a venv with --system-site-packages, the wheel from DIST
# installed with --no-deps). bookworm holds the oldest versions pyproject.toml
# allows (prometheus-client 0.16, click 8.1, rich 13.3, PyYAML 6.0, cffi 1.15,
# pytest 7.2, jsonschema 4.10, hypothesis 6.67) and DPDK 22.11; trixie holds DPDK 24.11. DIST
# comes from ./build.sh artifacts --debian RELEASE. arm64: in an arm64 rootfs,
# under qemu-user emulation (lab/arm64-emulation.sh), the wheel from
# ./build.sh artifacts --platform linux/arm64, and a subset (ARM64_TESTS; the
# whole list takes too long emulated). Root; hugepages as scripts/setup.sh leaves them.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=${1:?usage: check-debian.sh bookworm|trixie DIST [arm64]}
DIST=$(realpath "${2:?usage: check-debian.sh RELEASE DIST (from ./build.sh artifacts --debian RELEASE --out DIST)}")
ARCH=${3:-}
ROOT=$(lab/debian-rootfs.sh "$RELEASE" $ARCH)
FILES="tests/test_replay.py tests/test_api.py tests/test_config.py tests/test_plan.py tests/test_cli.py
       tests/test_observability.py tests/test_capture.py tests/test_structure.py tests/test_fuzz_config.py
       tests/test_fuzz_api.py" PICK="not 100_stops"
if [ "$ARCH" = arm64 ]; then
  # Emulated: the pcap replay, the Python API, the CLI running on net_null, the baseline check.
  FILES="tests/test_replay.py tests/test_api.py tests/test_baseline.py tests/test_cli.py"
  PICK="not test_cli.py or table_output or ports_number or stop_by_signal"
fi

mounts=(proc sys dev dev/hugepages run)
cleanup() { for ((i=${#mounts[@]}-1; i>=0; i--)); do umount "$ROOT/${mounts[$i]}" 2>/dev/null || true; done; }
trap cleanup EXIT
for m in "${mounts[@]}"; do mountpoint -q "$ROOT/$m" || mount --bind "/$m" "$ROOT/$m"; done
rm -rf "$ROOT/src" && mkdir -p "$ROOT/src/dist"
git ls-files tests lab examples native roles scripts/check-baseline.py pyproject.toml README.md | tar -c -T - | tar -x -C "$ROOT/src"
cp "$DIST"/dpfwd-*.whl "$ROOT/src/dist/"
FILES=$FILES PICK=$PICK chroot "$ROOT" bash -c '
  set -e
  cd /src
  rm -rf /tmp/v && python3 -m venv --system-site-packages /tmp/v
  /tmp/v/bin/pip install -q --no-deps --no-index dist/dpfwd-*.whl
  echo "DPDK $(pkg-config --modversion libdpdk), $(python3 --version);" $(/tmp/v/bin/python -c "
import importlib.metadata as m
print(\", \".join(f\"{d} {m.version(d)}\" for d in (\"prometheus-client\", \"click\", \"rich\", \"PyYAML\", \"cffi\", \"pytest\", \"jsonschema\", \"hypothesis\")))")
  echo "$(uname -m):" $(/tmp/v/bin/python -m pip list 2>/dev/null | grep -i "^dpfwd ")
  /tmp/v/bin/python -m pytest -q -p no:cacheprovider $FILES -k "$PICK"'
