#!/usr/bin/env bash
# Set a fresh Debian 12 (DPDK 22.11) or 13 (DPDK 24.11) machine up for dpfwd:
# packages, a venv with dpfwd built in it, and 2 MB hugepages. Idempotent. Root.
set -euo pipefail
cd "$(dirname "$0")/.."

HUGEPAGES=${DPFWD_HUGEPAGES:-512}
PYTHON=${PYTHON:-python3}

if [ "$(id -u)" != 0 ]; then
  echo "setup.sh: run as root (apt, hugepages, namespaces)" >&2
  exit 1
fi

echo "setup: Debian $(cat /etc/debian_version)"
export DEBIAN_FRONTEND=noninteractive
need=(dpdk dpdk-dev libdpdk-dev pkg-config gcc python3-dev python3-venv
      iproute2 iputils-ping ethtool groff-base prometheus pciutils
      qemu-system-x86 qemu-utils debootstrap e2fsprogs fdisk openssh-client docker.io
      qemu-user-static binfmt-support gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "setup: DPDK $(pkg-config --modversion libdpdk)"

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/pip install -q --disable-pip-version-check -U pip setuptools wheel
.venv/bin/pip install -q --disable-pip-version-check -e '.[test,deploy]'
echo "setup: $(.venv/bin/dpfwd --version)"

# Hugepages: reserve, mount hugetlbfs, and check what the kernel really gave.
if [ "$(cat /proc/sys/vm/nr_hugepages)" -lt "$HUGEPAGES" ]; then
  echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
fi
if ! mountpoint -q /dev/hugepages; then
  mkdir -p /dev/hugepages
  mount -t hugetlbfs nodev /dev/hugepages
fi
got=$(cat /proc/sys/vm/nr_hugepages)
if [ "$got" -lt "$HUGEPAGES" ]; then
  echo "setup: asked for $HUGEPAGES hugepages, the kernel gave $got (memory is fragmented;" \
       "reserve them at boot with hugepages=$HUGEPAGES on the kernel command line)" >&2
  exit 1
fi
echo "setup: $got hugepages of 2 MB reserved, hugetlbfs on /dev/hugepages"

# arm64 programs under emulation, for the arm64 build and tests (scripts/check-arm64.sh).
if lab/arm64-emulation.sh; then
  echo "setup: arm64 emulation ready (qemu-aarch64 through binfmt_misc)"
else
  echo "setup: no arm64 emulation here (above); the arm64 build and tests cannot run" >&2
fi
