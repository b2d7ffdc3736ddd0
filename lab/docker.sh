#!/usr/bin/env bash
# docker.sh up [RELEASE[-arm64]...] | down: the lab's Docker. `up` starts dockerd
# (once) in a network namespace of its own, so it never touches the host's links
# or firewall, then imports each RELEASE's rootfs (lab/debian-rootfs.sh) as the
# image the Dockerfile's FROM names (debian:RELEASE, or arm64v8/debian:RELEASE
# for RELEASE-arm64; there is no registry) and downloads its wheelhouse
# (lab/wheelhouse.sh). Idempotent. Root.
set -euo pipefail
cd "$(dirname "$0")/.."
NS=dpfwd-docker
PIDFILE=/run/dpfwd-lab-dockerd.pid
DOCKER=${DOCKER:-docker}

running() { [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

case "${1:-}" in
  up)
    shift
    command -v dockerd >/dev/null || { echo "docker.sh: dockerd is missing (apt-get install docker.io)" >&2; exit 1; }
    if ! running; then
      ip netns list | grep -qw "$NS" || ip netns add "$NS"
      ip -n "$NS" link set lo up
      # `ip netns exec` remounts /sys, which breaks dockerd; nsenter does not.
      # Niced: its builds must not slow what runs beside them (scripts/test.sh).
      nice -n 10 nsenter --net="/run/netns/$NS" dockerd --pidfile "$PIDFILE" >/var/log/dpfwd-lab-dockerd.log 2>&1 &
    fi
    for _ in $(seq 60); do
      $DOCKER info >/dev/null 2>&1 && break
      sleep 1
    done
    $DOCKER info >/dev/null 2>&1 || { tail -5 /var/log/dpfwd-lab-dockerd.log >&2; echo "docker.sh: dockerd did not answer within 60 s" >&2; exit 1; }
    for name in "$@"; do
      # RELEASE-arm64: the arm64 rootfs, as Docker Hub names arm64 Debian
      release=${name%-arm64} arch=() image=debian:${name%-arm64}
      [ "$name" = "$release" ] || { arch=(arm64); image=arm64v8/debian:$release; }
      if ! $DOCKER image inspect "$image" >/dev/null 2>&1; then
        root=$(lab/debian-rootfs.sh "$release" "${arch[@]}")
        tar -C "$root" --exclude=./.done -c . | $DOCKER import - "$image" >/dev/null
      fi
      lab/wheelhouse.sh "$release" "${arch[@]}" 2> >(grep -v "is ignored" >&2)
    done
    ;;
  down)
    if running; then
      pid=$(cat "$PIDFILE")
      kill "$pid"
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
    ip netns del "$NS" 2>/dev/null || true
    ;;
  *)
    echo "usage: docker.sh up [bookworm|trixie|bookworm-arm64|trixie-arm64...] | down" >&2
    exit 2
    ;;
esac
