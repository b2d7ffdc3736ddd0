#!/usr/bin/env bash
# Build, once, the Debian guest the molecule scenarios boot: a debootstrap
# rootfs turned into a raw ext4 image, its kernel and initrd, and an SSH key.
# Cached under $DPFWD_LAB_CACHE (default /var/cache/dpfwd-lab); delete the
# directory to rebuild. Root.
set -euo pipefail

CACHE=${DPFWD_LAB_CACHE:-/var/cache/dpfwd-lab}
RELEASE=${DPFWD_GUEST_RELEASE:-bookworm}
OUT=$CACHE/$RELEASE
SIZE=${DPFWD_GUEST_SIZE:-3G}
# Management NIC: the only one the guest configures (DHCP from QEMU's user net).
MGMT_MAC=52:54:00:12:34:56
PACKAGES=linux-image-amd64,systemd-sysv,openssh-server,python3,python3-venv,sudo,iproute2,pciutils,kmod,udev,ethtool,iputils-ping,dpdk,librte-meta-all,driverctl,ca-certificates

if [ -f "$OUT/done" ]; then
  echo "guest image: cached in $OUT"
  exit 0
fi
for tool in debootstrap mkfs.ext4 qemu-system-x86_64 qemu-img ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is missing (apt-get install debootstrap e2fsprogs qemu-system-x86 qemu-utils openssh-client)" >&2; exit 1; }
done
mkdir -p "$OUT"
root=$(mktemp -d "$CACHE/rootfs.XXXX")
trap 'rm -rf "$root"' EXIT

echo "guest image: debootstrap $RELEASE (a few minutes)"
debootstrap --variant=minbase --include="$PACKAGES" "$RELEASE" "$root" >"$OUT/debootstrap.log" 2>&1 \
  || { tail -20 "$OUT/debootstrap.log" >&2; exit 1; }

[ -f "$OUT/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C dpfwd-lab -f "$OUT/id_ed25519"
install -d -m 700 "$root/root/.ssh"
install -m 600 "$OUT/id_ed25519.pub" "$root/root/.ssh/authorized_keys"
echo dpfwd-guest > "$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 dpfwd-guest\n' > "$root/etc/hosts"
printf '/dev/vda / ext4 defaults 0 1\n' > "$root/etc/fstab"
printf 'nameserver 10.0.2.3\n' > "$root/etc/resolv.conf"
cat > "$root/etc/systemd/network/10-mgmt.network" <<NET
[Match]
MACAddress=$MGMT_MAC

[Network]
DHCP=ipv4
NET
chroot "$root" systemctl enable systemd-networkd ssh >/dev/null 2>&1
# Fast boots: no waiting for every link, no serial getty noise.
chroot "$root" systemctl mask systemd-networkd-wait-online.service >/dev/null 2>&1
chroot "$root" apt-get clean

cp "$root"/boot/vmlinuz-* "$OUT/vmlinuz"
cp "$root"/boot/initrd.img-* "$OUT/initrd"
chmod 644 "$OUT/vmlinuz" "$OUT/initrd"
rm -f "$OUT/rootfs.img"
mkfs.ext4 -q -L root -d "$root" "$OUT/rootfs.img" "$SIZE"
touch "$OUT/done"
echo "guest image: built in $OUT"
