#!/usr/bin/env bash
# Build, once, the Debian guest the molecule scenarios boot: a debootstrap
# rootfs on a partitioned raw disk that boots through its own GRUB (so the
# hugepages role's kernel command line applies at the next boot, as on a real
# host), and an SSH key. Cached under $DPFWD_LAB_CACHE (default
# /var/cache/dpfwd-lab); delete the directory to rebuild. Root. No loop
# devices or mounts: the filesystem is written into the disk file at its
# partition's offset, and GRUB's boot sectors by hand, as grub-install would.
set -euo pipefail

CACHE=${DPFWD_LAB_CACHE:-/var/cache/dpfwd-lab}
RELEASE=${DPFWD_GUEST_RELEASE:-bookworm}
OUT=$CACHE/$RELEASE
SIZE=${DPFWD_GUEST_SIZE:-3G}
# Bumped when the image's layout changes, so a cached older image is rebuilt.
FORMAT="disk with GRUB, 2"
# What the kernel is booted with (GRUB_CMDLINE_LINUX_DEFAULT); the roles add to
# it. The rtl8139 driver is blacklisted: vm.sh's NIC at 00:07.0 is a NIC with no
# driver at every boot (the deploy binds it; undeploy must leave it driverless).
CMDLINE="console=ttyS0 intel_iommu=on iommu=pt net.ifnames=1 modprobe.blacklist=8139too,8139cp quiet"
# Management NIC: the only one the guest configures (DHCP from QEMU's user net).
MGMT_MAC=52:54:00:12:34:56
PACKAGES=linux-image-amd64,systemd-sysv,openssh-server,python3,python3-venv,sudo,iproute2,pciutils,kmod,udev,ethtool,grub-pc,iputils-ping,dpdk,librte-meta-all,driverctl,ca-certificates

if [ "$(cat "$OUT/done" 2>/dev/null)" = "$FORMAT" ]; then
  echo "guest image: cached in $OUT"
  exit 0
fi
for tool in debootstrap mkfs.ext4 sfdisk qemu-system-x86_64 qemu-img ssh-keygen; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is missing (apt-get install debootstrap e2fsprogs fdisk qemu-system-x86 qemu-utils openssh-client)" >&2; exit 1; }
done
rm -f "$OUT/done"
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
UUID=$(cat /proc/sys/kernel/random/uuid)
printf 'UUID=%s / ext4 errors=remount-ro 0 1\n' "$UUID" > "$root/etc/fstab"
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

# GRUB as a Debian install leaves it: modules in /boot/grub, settings in
# /etc/default/grub.d, and a grub.cfg in the form update-grub writes (the
# role's update-grub in the guest rewrites it from the same settings).
cat > "$root/etc/default/grub.d/10-dpfwd-lab.cfg" <<GRUB
GRUB_TIMEOUT=0
GRUB_CMDLINE_LINUX_DEFAULT="$CMDLINE"
GRUB_TERMINAL=console
GRUB
mkdir -p "$root/boot/grub"
cp -r "$root/usr/lib/grub/i386-pc" "$root/boot/grub/"
kernel=$(cd "$root/boot" && ls vmlinuz-* | sort -V | tail -1)
cat > "$root/boot/grub/grub.cfg" <<CFG
set timeout=0
insmod part_msdos
insmod ext2
search --no-floppy --fs-uuid --set=root $UUID
menuentry 'Debian GNU/Linux' {
	linux /boot/$kernel root=UUID=$UUID ro $CMDLINE
	initrd /boot/initrd.img-${kernel#vmlinuz-}
}
CFG
chroot "$root" grub-mkimage -O i386-pc -o /tmp/core.img -p '(hd0,msdos1)/boot/grub' biosdisk part_msdos ext2
mv "$root/tmp/core.img" "$OUT/core.img"

# One bootable partition from 1 MiB; GRUB's core in the gap before it.
disk=$OUT/disk.img
rm -f "$disk" "$OUT/rootfs.img" "$OUT/vmlinuz" "$OUT/initrd"
truncate -s "$SIZE" "$disk"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$disk"
fs_kb=$(( ($(stat -c %s "$disk") - 1048576) / 1024 ))
mkfs.ext4 -q -L root -U "$UUID" -d "$root" -E offset=1048576 "$disk" "${fs_kb}k"
# boot.img's code goes before the partition table; it loads core.img from sector 1.
dd if="$root/usr/lib/grub/i386-pc/boot.img" of="$disk" bs=440 count=1 conv=notrunc status=none
dd if="$OUT/core.img" of="$disk" bs=512 seek=1 conv=notrunc status=none
rm "$OUT/core.img"
echo "$FORMAT" > "$OUT/done"
echo "guest image: built in $OUT"
