#!/bin/sh
# What deploy.yml may change on a host, one sorted line per fact: taken in
# the guest before deploy.yml and after undeploy.yml, the two must be equal
# (apart from what the README says undeploy keeps: packages, the dpfwd user).
set -u
for dev in /sys/bus/pci/devices/*; do
  case $(cat "$dev/class") in 0x02*) ;; *) continue ;; esac
  driver=$(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)
  echo "nic $(basename "$dev") driver=${driver:-none}"
done
ls /etc/driverctl.d 2>/dev/null | sed 's/^/driverctl-override /'
echo "nr_hugepages $(cat /proc/sys/vm/nr_hugepages)"
for f in /sys/devices/system/node/node*/hugepages/*/nr_hugepages; do echo "node-hugepages $f $(cat "$f")"; done
echo "cmdline $(cat /proc/cmdline)"
findmnt -rn -t hugetlbfs -o TARGET,OPTIONS | sed 's/^/hugetlbfs-mount /'
for d in /etc/sysctl.d /etc/tmpfiles.d /etc/default/grub.d /etc/modules-load.d /etc/udev/rules.d \
         /etc/systemd/system /etc/dpfwd /var/lib/dpfwd /opt/dpfwd; do
  [ -e "$d" ] || { echo "absent $d"; continue; }
  find "$d" -maxdepth 2 \( -type f -o -type l \) -printf "file %p\n"
done
systemctl list-unit-files --no-legend 'dpfwd*' '*.mount' 2>/dev/null | awk '{print "unit " $1 " " $2}'
for f in /usr/local/bin/dpfwd /usr/local/share/man/man1/dpfwd.1 /usr/share/bash-completion/completions/dpfwd; do
  [ -e "$f" ] && echo "file $f"
done
true
