#!/usr/bin/env bash
# check-packaging.sh: prove the build and packaging path (issue 5) end to end on
# this machine, with the lab's Docker (lab/docker.sh: dockerd in its own
# namespace, base images from debootstrap, wheels downloaded beforehand):
#   for Debian 12 (DPDK 22.11) and Debian 13 (DPDK 24.11): the artifacts and the
#   runtime image build; the image forwards on net_null and passes the pcap
#   replay tests; then the exported wheel, in a clean venv on this host, runs
#   `dpfwd --version` and the replay tests; and each release's wheel passes the
#   tests in a chroot of that release, on its own python3-* packages (Debian
#   12's are the oldest versions pyproject.toml allows; Debian 13 has DPDK 24.11).
# Leaves dist/ holding the artifacts for this host's release. Root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.venv/bin:$PATH
WORK=/tmp/dpfwd-packaging
# What a forwarding container needs here: hugepages, and SYS_NICE for EAL's
# set_mempolicy under Docker's default seccomp profile. Tests' pcaps live in WORK.
RUN="docker run --rm --network none --cap-add SYS_NICE -v /dev/hugepages:/dev/hugepages -v $WORK:$WORK"

lab/docker.sh up bookworm trixie
case "$(cut -d. -f1 /etc/debian_version)" in
  12) host=bookworm ;;
  *) host=trixie ;;
esac

for release in bookworm trixie; do
  echo "== packaging: Debian $release"
  out=build/dist-$release
  # Debian 12 through Debian's own docker CLI, whose built-in BuildKit runs the
  # documented `--target artifacts --output type=local` build; Debian 13
  # through the first docker on PATH (the legacy builder when it lacks buildx).
  docker=docker
  [ "$release" = bookworm ] && [ -x /usr/bin/docker ] && docker=/usr/bin/docker
  DOCKER=$docker WHEELHOUSE=.wheelhouse/$release ./build.sh artifacts --debian "$release" --out "$out" | tail -1
  ls "$out"/dpfwd-*.whl "$out"/dpfwd-*.tar.gz
  WHEELHOUSE=.wheelhouse/$release ./build.sh image --debian "$release" >/dev/null
  rm -rf "$WORK" && mkdir -p "$WORK"
  $RUN "dpfwd:$release" run --vdev net_null0 --vdev net_null1 --duration 1 --json >"$WORK/null.json"
  python3 - "$WORK/null.json" <<'PY'
import json, sys
ports = json.load(open(sys.argv[1]))["ports"]
assert all(p["rx"] > 0 and p["tx"] == p["rx"] for p in ports), ports
print("image forwards on net_null: " + ", ".join(f'{p["name"]} rx={p["rx"]} tx={p["tx"]}' for p in ports))
PY
  DPFWD_COMMAND="$RUN dpfwd:$release" python -m pytest -q -p no:cacheprovider \
    --basetemp="$WORK/tests" tests/test_replay.py
done

echo "== packaging: the $host wheel in a clean venv"
rm -rf dist && cp -r "build/dist-$host" dist
venv=$WORK/venv
python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check --no-index --find-links dist dpfwd
"$venv/bin/dpfwd" --version
"$venv/bin/pip" install -q --disable-pip-version-check pytest
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/test_replay.py

for release in bookworm trixie; do
  echo "== packaging: the tests in a Debian $release chroot, on Debian's own packages"
  scripts/check-debian.sh "$release" "build/dist-$release"
done
