#!/usr/bin/env bash
# Set up, then run the whole test suite (real DPDK on virtual devices).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
