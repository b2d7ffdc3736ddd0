#!/usr/bin/env python3
"""capture-host.py OUT: copy the parts of /sys, /proc, /dev and DPDK's runtime
directories that `dpfwd doctor` reads into OUT, as a fixture tree
(`dpfwd doctor --root OUT`). Plain Python, no dpfwd: it runs on a bare host
or in the lab's guest. Symlinks keep only what the doctor reads from them
(the target's name); files under hugetlbfs and /dev/vfio become empty files;
empty directories get a .keep file, so git keeps them (readers skip dotfiles).
"""
import glob
import os
import re
import subprocess
import sys

SYS_FILES = [
    "sys/kernel/mm/hugepages/*/nr_hugepages", "sys/kernel/mm/hugepages/*/free_hugepages",
    "sys/devices/system/node/node*/cpulist",
    "sys/devices/system/node/node*/hugepages/*/nr_hugepages",
    "sys/devices/system/node/node*/hugepages/*/free_hugepages",
    "sys/devices/system/cpu/online", "sys/devices/system/cpu/isolated",
    "sys/devices/system/cpu/nohz_full",
    "sys/bus/pci/devices/*/class", "sys/bus/pci/devices/*/numa_node",
    "sys/class/net/*/address", "sys/class/net/*/operstate",
    "proc/cmdline", "proc/mounts", "proc/meminfo", "proc/self/limits",
]
MODULES = ["vfio", "vfio_pci", "vfio_iommu_type1"]
# What Host.command runs: recorded under commands/, as Host reads them back.
COMMANDS = [["ip", "-j", "addr", "show"], ["ip", "-j", "-4", "route", "show", "table", "all"],
            ["ip", "-j", "-6", "route", "show", "table", "all"]]
RUNTIME_BASES = ["var/run/dpdk", "run/dpfwd/dpdk"]


def write(out, rel, text=""):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def link(out, rel, target):
    path = os.path.join(out, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if not os.path.lexists(path):
        os.symlink(target, path)


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def hugetlbfs_mounts():
    return [line.split()[1] for line in open("/proc/mounts") if line.split()[2] == "hugetlbfs"]


def dpdk_path(path, mounts):
    return "/dpdk/" in path or any(path.startswith(m + "/") for m in mounts)


def capture(out):
    for pattern in SYS_FILES:
        for path in glob.glob("/" + pattern):
            text = read(path)
            if text is not None:
                write(out, path[1:], text)
    cpuinfo = read("/proc/cpuinfo") or ""
    write(out, "proc/cpuinfo", cpuinfo.split("\n\n")[0] + "\n")
    for module in MODULES:
        if os.path.isdir(f"/sys/module/{module}"):
            os.makedirs(os.path.join(out, "sys/module", module), exist_ok=True)
    for group in glob.glob("/sys/kernel/iommu_groups/*/devices/*"):
        link(out, group[1:], "../../../../devices/" + os.path.basename(group))
    for dev in glob.glob("/sys/bus/pci/devices/*"):
        rel = dev[1:]
        for name in ("driver", "iommu_group"):
            if os.path.islink(os.path.join(dev, name)):
                link(out, f"{rel}/{name}", "../" + os.path.basename(os.readlink(os.path.join(dev, name))))
        for net in glob.glob(f"{dev}/net/*") + glob.glob(f"{dev}/virtio*/net/*"):
            os.makedirs(os.path.join(out, net[1:]), exist_ok=True)
    for iface in glob.glob("/sys/class/net/*"):
        device = os.path.realpath(os.path.join(iface, "device"))
        m = re.search(r"/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d)(/virtio\d+)?$", device)
        if m:
            link(out, f"{iface[1:]}/device", f"../../../bus/pci/devices/{m.group(1)}{m.group(2) or ''}")
    for iface in glob.glob("/sys/class/net/*"):      # the stack: bridges, bonds, VLANs...
        for name in os.listdir(iface):
            if name.startswith(("upper_", "lower_")) or name == "master":
                link(out, f"{iface[1:]}/{name}", "../" + os.path.basename(os.readlink(os.path.join(iface, name))))
    for argv in COMMANDS:
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        write(out, "commands/" + " ".join(argv), proc.stdout if proc.returncode == 0 else "")
    for node in glob.glob("/dev/vfio/*"):
        write(out, node[1:])
    mounts = hugetlbfs_mounts()
    for mnt in mounts:
        for f in glob.glob(f"{mnt}/*"):
            write(out, f[1:])
    for base in RUNTIME_BASES:
        for f in glob.glob(f"/{base}/*/*"):
            write(out, f[1:])
    unix = (read("/proc/net/unix") or "").splitlines()
    write(out, "proc/net/unix", "\n".join(unix[:1] + [line for line in unix[1:] if "/dpdk/" in line]) + "\n")
    for pid_dir in glob.glob("/proc/[0-9]*"):
        maps = [line for line in (read(f"{pid_dir}/maps") or "").splitlines()
                if len(line.split(None, 5)) == 6 and dpdk_path(line.split(None, 5)[5], mounts)]
        fds = []
        for fd in glob.glob(f"{pid_dir}/fd/*"):
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if dpdk_path(target, mounts):
                fds.append((fd, target))
        if maps:
            write(out, f"{pid_dir[1:]}/maps", "\n".join(maps) + "\n")
        for fd, target in fds:
            link(out, fd[1:], target)


def keep_empty_dirs(out):
    for path, dirs, files in os.walk(out):
        if not dirs and not files:
            write(out, os.path.relpath(os.path.join(path, ".keep"), out))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: capture-host.py OUT")
    capture(sys.argv[1])
    keep_empty_dirs(sys.argv[1])
