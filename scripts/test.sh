#!/usr/bin/env bash
# Set up, then run every test: pytest (real DPDK on virtual devices), the
# linters, the packaging check (Dockerfile, DPDK 22.11 and 24.11), and the
# roles in a QEMU guest (molecule). DPFWD_SKIP_VM=1 skips
# the guest (about 10 minutes the first time, with the image build).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export PATH=$PWD/.venv/bin:$PATH

echo "== pytest"
python -m pytest -q -p no:cacheprovider "$@"

echo "== lint"
yamllint .
ansible-lint --offline -q

echo "== packaging (Dockerfile, both DPDK versions)"
start=$(date +%s)
./scripts/check-packaging.sh
echo "packaging: $(( $(date +%s) - start )) s"

if [ "${DPFWD_SKIP_VM:-0}" != 1 ]; then
  echo "== molecule (roles in a QEMU guest)"
  start=$(date +%s)
  molecule test
  echo "molecule: $(( $(date +%s) - start )) s"
fi
