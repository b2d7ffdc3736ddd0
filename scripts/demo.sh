#!/usr/bin/env bash
# Set up, then run dpfwd as a bump in the wire between two network namespaces
# (virtual ports, no NIC needed): ping and TCP cross it, counters shown.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec .venv/bin/python -m lab.demo "$@"
