#!/usr/bin/env bash
# Build the artifacts the deploy role installs.
#   ./build.sh [wheels]   dist/: the dpfwd wheel and the wheels it depends on, built on
#                         this machine against its DPDK (Debian 12: 22.11, 13: 24.11)
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3

case "${1:-wheels}" in
  wheels)
    rm -rf dist
    "$PY" -m pip wheel -q --disable-pip-version-check . -w dist
    ls dist
    ;;
  *)
    echo "usage: ./build.sh [wheels]" >&2
    exit 2
    ;;
esac
