#!/usr/bin/env bash
# arm64-emulation.sh: make this machine run arm64 programs (qemu-user through
# binfmt_misc), for the arm64 rootfs, build and tests. Idempotent. Root.
set -euo pipefail
if [ "$(uname -m)" = aarch64 ]; then exit 0; fi
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
    echo "arm64-emulation.sh: the kernel refused binfmt_misc (mount -t binfmt_misc failed: no" \
         "CONFIG_BINFMT_MISC, or a container without it); arm64 builds and tests need it: run them" \
         "on a host that has it, or on an arm64 machine" >&2
    exit 1
  }
fi
if [ ! -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] && [ ! -e /usr/bin/qemu-aarch64-static ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static binfmt-support >/dev/null
fi
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64 || {
  echo "arm64-emulation.sh: qemu-aarch64 is registered without the F flag, so chroots and containers" \
       "cannot find it; remove that registration (echo -1 > /proc/sys/fs/binfmt_misc/qemu-aarch64)" \
       "and run this again" >&2
  exit 1
}
