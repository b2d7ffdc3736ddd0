#!/bin/sh
# build-artifacts.sh OUT: build, from the source tree in the current directory,
# the dpfwd sdist and wheel plus the wheels of its dependencies (what the
# appliance role installs with pip --no-index), and check the compiled data
# plane stays within the portable CPU baseline. Set WHEELHOUSE to a directory
# of wheels to build with no network (the lab does).
set -eu
out=$1
if [ -n "${WHEELHOUSE:-}" ]; then
  export PIP_NO_INDEX=1 PIP_FIND_LINKS="$WHEELHOUSE"
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1
python3 -m venv /opt/build
/opt/build/bin/pip install -q "setuptools>=77" wheel "cffi>=1.15" build
/opt/build/bin/python -m build -q --no-isolation --sdist --outdir "$out" .
/opt/build/bin/pip wheel -q --no-build-isolation --wheel-dir "$out" .
/opt/build/bin/python scripts/check-baseline.py "$out"/dpfwd-*.whl
ls "$out"
