#!/usr/bin/env bash
# wheelhouse.sh RELEASE [ARCH]: fill .wheelhouse/RELEASE (.wheelhouse/RELEASE-ARCH
# for another architecture than amd64, e.g. arm64) with the wheels a Docker build
# for that Debian release needs (dpfwd's dependencies and its build tools),
# downloaded on this host, so the build itself needs no network: the lab's
# dockerd runs in a network namespace of its own, with no way out.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=${1:?usage: wheelhouse.sh bookworm|trixie [amd64|arm64]}
ARCH=${2:-amd64}
case "$ARCH" in
  amd64) machine=x86_64 dir=.wheelhouse/$RELEASE ;;
  arm64) machine=aarch64 dir=.wheelhouse/$RELEASE-arm64 ;;
  *) echo "wheelhouse.sh: unknown architecture $ARCH (amd64 or arm64)" >&2; exit 2 ;;
esac
case "$RELEASE" in
  bookworm) py=3.11 ;;
  trixie) py=3.13 ;;
  *) echo "wheelhouse.sh: unknown release $RELEASE (bookworm or trixie)" >&2; exit 2 ;;
esac
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
mapfile -t deps < <("$PY" -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
"$PY" -m pip download -q --disable-pip-version-check --dest "$dir" \
  --only-binary=:all: --python-version "$py" --implementation cp \
  --platform "manylinux_2_28_$machine" --platform "manylinux_2_17_$machine" --platform "manylinux2014_$machine" \
  "setuptools>=77" wheel "cffi>=1.15" build "${deps[@]}"
echo "$dir"
