#!/usr/bin/env bash
# Build the artifacts the appliance role deploys: the dpfwd wheel, its sdist and
# the wheels it depends on, in dist/.
#
#   ./build.sh artifacts [--debian bookworm|trixie] [--platform linux/amd64[,linux/arm64]] [--out DIR]
#       through Docker, from any host (Linux, or macOS with Docker Desktop). The
#       Debian release picks the DPDK the data plane links against: bookworm =
#       Debian 12, DPDK 22.11 (default); trixie = Debian 13, DPDK 24.11. Deploy to
#       hosts of that release. One platform leaves its files in dist/; several
#       (buildx only) leave dist/linux_amd64/, dist/linux_arm64/. --out: not dist/.
#       linux/arm64 on an x86-64 host without buildx: from arm64v8/debian:RELEASE,
#       under emulation (lab/arm64-emulation.sh).
#   ./build.sh image [--debian R] [--platform P] [--tag T]
#       the runtime image (default tag dpfwd:R), which runs `dpfwd run`.
#   ./build.sh wheels
#       without Docker, on this machine, against its own DPDK.
#
# Environment: DOCKER (the docker CLI, default docker); WHEELHOUSE (a directory
# of wheels inside this tree, to build with no network: see lab/wheelhouse.sh).
set -euo pipefail
cd "$(dirname "$0")"
DOCKER=${DOCKER:-docker}

usage() {
  sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# buildx when installed; else the BuildKit built into 20.10-22.x CLIs; else the
# legacy builder (no --output: the files are copied out of a build container).
builder() {
  if $DOCKER buildx version >/dev/null 2>&1; then
    echo buildx
  elif DOCKER_BUILDKIT=1 $DOCKER build --help 2>/dev/null | grep -q -- '--output'; then
    echo buildkit
  else
    echo legacy
  fi
}

docker_build() {   # docker_build BUILDER ARGS...: one build, with the chosen builder
  local how=$1; shift
  case "$how" in
    buildx) $DOCKER buildx build "$@" ;;
    buildkit) DOCKER_BUILDKIT=1 $DOCKER build "$@" ;;
    legacy) DOCKER_BUILDKIT=0 $DOCKER build "$@" ;;
  esac
}

release=bookworm platform="" tag="" out=dist
cmd=${1:-}
[ $# -gt 0 ] && shift
while [ $# -gt 0 ]; do
  case "$1" in
    --debian) release=${2:?--debian needs bookworm or trixie}; shift 2 ;;
    --platform) platform=${2:?--platform needs e.g. linux/amd64}; shift 2 ;;
    --tag) tag=${2:?--tag needs a name}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    *) echo "build.sh: unknown option $1" >&2; usage ;;
  esac
done
case "$release" in
  bookworm|trixie) ;;
  *) echo "build.sh: --debian $release is not supported: use bookworm (DPDK 22.11) or trixie (DPDK 24.11)" >&2; exit 2 ;;
esac
build_args=(--build-arg "DEBIAN_RELEASE=$release" --build-arg "WHEELHOUSE=${WHEELHOUSE:+/src/$WHEELHOUSE}")

# Without buildx, one --platform: this machine's, or linux/arm64 on an x86-64
# host, built by the legacy builder from arm64v8/debian:RELEASE (Docker Hub's
# arm64 Debian; the lab imports its own) with its RUN steps under qemu-user
# emulation. Sets foreign=arm64 for that case.
foreign=""
foreign_platform() {
  [ -n "$platform" ] && [ "$how" != buildx ] || return 0
  local host_platform=linux/amd64
  [ "$(uname -m)" = aarch64 ] && host_platform=linux/arm64
  case "$platform" in
    "$host_platform") platform="" ;;
    linux/arm64)
      [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || {
        echo "build.sh: --platform linux/arm64 on this $(uname -m) host needs arm64 emulation: run lab/arm64-emulation.sh (qemu-user-static through binfmt_misc)" >&2
        exit 2
      }
      foreign=arm64 how=legacy platform=""
      build_args+=(--build-arg BASE_IMAGE=arm64v8/debian)
      ;;
    *)
      echo "build.sh: --platform $platform needs docker buildx (Docker Desktop has it; on Debian 13: apt-get install docker-buildx); without it: this machine's platform, or linux/arm64" >&2
      exit 2
      ;;
  esac
}

case "$cmd" in
  wheels)
    PY=${PYTHON:-.venv/bin/python}
    [ -x "$PY" ] || PY=python3
    rm -rf dist
    "$PY" -m pip wheel -q --disable-pip-version-check . -w dist
    "$PY" scripts/check-baseline.py dist/dpfwd-*.whl
    ls dist
    ;;
  artifacts)
    how=$(builder)
    foreign_platform
    rm -rf "$out" && mkdir -p "$(dirname "$out")"
    case "$how" in
      legacy)
        image=dpfwd-build:$release${foreign:+-$foreign}
        docker_build legacy "${build_args[@]}" --target build -t "$image" .
        container=$($DOCKER create "$image" true)
        trap '$DOCKER rm -f "$container" >/dev/null' EXIT
        $DOCKER cp "$container:/dist" "$out"
        ;;
      *)
        docker_build "$how" "${build_args[@]}" ${platform:+--platform "$platform"} \
          --target artifacts --output "type=local,dest=$out" .
        ;;
    esac
    ls -R "$out"
    echo "build.sh: artifacts for Debian $release in $out/ (built with $how)"
    ;;
  image)
    how=$(builder)
    foreign_platform
    load=()
    [ "$how" = buildx ] && load=(--load)
    docker_build "$how" "${build_args[@]}" ${platform:+--platform "$platform"} "${load[@]}" \
      --target runtime -t "${tag:-dpfwd:$release${foreign:+-$foreign}}" .
    echo "build.sh: image ${tag:-dpfwd:$release${foreign:+-$foreign}}"
    ;;
  *)
    usage
    ;;
esac
