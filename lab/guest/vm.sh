#!/usr/bin/env bash
# Boot or stop the lab guest: Debian under QEMU TCG (q35, emulated intel-iommu),
# booting through GRUB from its own disk (build-image.sh),
# a virtio management NIC on QEMU's user network (SSH on 127.0.0.1:$SSH_PORT),
# and two e1000 NICs on host taps, each tap moved into its own namespace
# (dpfwd-lab-a: 198.51.100.1, dpfwd-lab-b: 198.51.100.2), so traffic from one
# namespace to the other can only cross the guest. Three more NICs (00:06.0 and
# 00:08.0 e1000, 00:07.0 an rtl8139 whose driver the image blacklists; no
# cable) are for the host-side tests: stacks the management-NIC guard must see
# through, and a NIC with no driver (at every boot: converge reboots).
# QEMU's monitor listens on $STATE/monitor.sock (lab/qemu.py: set_link p0/p1
# off and on, as a pulled cable).
#
# A second guest (the fleet test) boots from the same image with
# DPFWD_LAB_SSH_PORT=2223 DPFWD_LAB_CABLES=0: the same NICs, none cabled, so
# no taps or namespaces of its own.
#
#   vm.sh up [NAME]     boot (copy-on-write over the cached image), wait for SSH
#   vm.sh down [NAME]   stop it and remove its taps and namespaces
set -euo pipefail

ACTION=${1:?usage: vm.sh up|down [NAME]}
NAME=${2:-dpfwd-guest}
CACHE=${DPFWD_LAB_CACHE:-/var/cache/dpfwd-lab}
IMAGE=$CACHE/${DPFWD_GUEST_RELEASE:-bookworm}
STATE=/run/dpfwd-lab/$NAME
SSH_PORT=${DPFWD_LAB_SSH_PORT:-2222}
# 4 GB: a 1 GB hugepage reserved at boot (the hugepages role's kernel command
# line) needs a free, 1 GB-aligned GB of guest memory. With 3 GB, q35 puts 2 GB
# below the PCI hole (kernel, initrd) and 1 GB above 4 GB (the kernel's early
# allocations), and the kernel found none.
MEM=${DPFWD_LAB_MEM:-4096}
CABLES=${DPFWD_LAB_CABLES:-1}
TAPS=(dflab0 dflab1)
NS=(dpfwd-lab-a dpfwd-lab-b)
ADDR=(198.51.100.1 198.51.100.2)
NIC_MACS=(52:54:00:00:00:10 52:54:00:00:00:11)

down() {
  if [ -f "$STATE/pid" ]; then
    pid=$(cat "$STATE/pid")
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  # Only the guest that made them: the fleet's second guest has none.
  if [ -f "$STATE/cabled" ] || { [ ! -d "$STATE" ] && [ "$CABLES" = 1 ]; }; then
    for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null || true; done
    for tap in "${TAPS[@]}"; do ip link del "$tap" 2>/dev/null || true; done
  fi
  rm -rf "$STATE"
}

up() {
  [ -f "$IMAGE/disk.img" ] || { echo "vm.sh: no guest image in $IMAGE; run lab/guest/build-image.sh" >&2; exit 1; }
  down
  mkdir -p "$STATE"
  qemu-img create -q -f qcow2 -F raw -b "$IMAGE/disk.img" "$STATE/disk.qcow2"
  if [ "$CABLES" = 1 ]; then
    touch "$STATE/cabled"
    for tap in "${TAPS[@]}"; do
      ip tuntap add dev "$tap" mode tap
      ip link set "$tap" up
    done
    data_nics=(-netdev "tap,id=p0,ifname=${TAPS[0]},script=no,downscript=no,vhost=off"
               -device "e1000,netdev=p0,mac=${NIC_MACS[0]},addr=03"
               -netdev "tap,id=p1,ifname=${TAPS[1]},script=no,downscript=no,vhost=off"
               -device "e1000,netdev=p1,mac=${NIC_MACS[1]},addr=04")
  else
    data_nics=(-device "e1000,mac=${NIC_MACS[0]},addr=03" -device "e1000,mac=${NIC_MACS[1]},addr=04")
  fi
  qemu-system-x86_64 \
    -name "$NAME" -machine q35 -accel tcg,thread=multi -cpu max -smp 2 -m "$MEM" \
    -device intel-iommu,intremap=on,caching-mode=on \
    -drive "file=$STATE/disk.qcow2,if=virtio,format=qcow2" \
    -netdev "user,id=mgmt,hostfwd=tcp:127.0.0.1:$SSH_PORT-:22" \
    -device virtio-net-pci,netdev=mgmt,mac=52:54:00:12:34:56 \
    "${data_nics[@]}" \
    -device e1000,mac=52:54:00:00:00:16,addr=06 \
    -device rtl8139,mac=52:54:00:00:00:17,addr=07 \
    -device e1000,mac=52:54:00:00:00:18,addr=08 \
    -display none -serial "file:$STATE/console.log" \
    -monitor "unix:$STATE/monitor.sock,server=on,wait=off" \
    -pidfile "$STATE/pid" -daemonize
  # QEMU holds the taps open; move each into its own namespace.
  [ "$CABLES" = 1 ] || { echo "vm.sh: $NAME booting with no cables; SSH on 127.0.0.1:$SSH_PORT"; return; }
  for i in 0 1; do
    ip netns add "${NS[$i]}"
    ip link set "${TAPS[$i]}" netns "${NS[$i]}"
    ip -n "${NS[$i]}" addr add "${ADDR[$i]}/24" dev "${TAPS[$i]}"
    ip -n "${NS[$i]}" link set "${TAPS[$i]}" up
    ip -n "${NS[$i]}" link set lo up
    ip netns exec "${NS[$i]}" ethtool -K "${TAPS[$i]}" tx off >/dev/null
  done
  echo "vm.sh: $NAME booting; SSH on 127.0.0.1:$SSH_PORT, key $IMAGE/id_ed25519, console $STATE/console.log"
}

case "$ACTION" in
  up) up ;;
  down) down ;;
  *) echo "usage: vm.sh up|down [NAME]" >&2; exit 2 ;;
esac
