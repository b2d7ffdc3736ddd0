"""What the host looks like, read from sysfs and procfs under a movable root.

Every read of /sys and /proc by dpfwd goes through a Host, so `dpfwd doctor`
and placement can be tested against fixture trees captured on real machines
(tests/fixtures/hosts/). Read-only, and never raises on a missing file: a
host without NUMA, an IOMMU or hugepages of some size is a normal host.
"""
import ipaddress
import os
import re
from dataclasses import dataclass, field

NETWORK_CLASS = "0x02"
# Devices that may share an IOMMU group with a NIC without making it unusable.
HARMLESS_DRIVERS = ("vfio-pci", "pcieport", "")


def parse_cpulist(text):
    """'0-3,8' -> [0, 1, 2, 3, 8]; '' -> []."""
    out = []
    for part in text.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    return out


@dataclass(frozen=True)
class HugepageSize:
    kb: int
    total: int
    free: int
    nodes: dict = field(default_factory=dict)   # node -> (total, free)


@dataclass(frozen=True)
class PciNic:
    pci: str
    driver: str
    iommu_group: str
    numa_node: int
    interfaces: tuple


class Host:
    def __init__(self, root="/"):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def read(self, *parts, default=""):
        try:
            with open(self.path(*parts)) as f:
                return f.read().strip()
        except OSError:
            return default

    def listdir(self, *parts):
        """Names in a directory, without dotfiles (a captured tree's .keep)."""
        try:
            return sorted(n for n in os.listdir(self.path(*parts)) if not n.startswith("."))
        except OSError:
            return []

    def link_name(self, *parts):
        """Last component of a symlink's target ('' when it is not there)."""
        try:
            return os.path.basename(os.readlink(self.path(*parts)))
        except OSError:
            return ""

    # -- memory --------------------------------------------------------------
    def hugepage_sizes(self):
        sizes = []
        for name in self.listdir("sys/kernel/mm/hugepages"):
            kb = int(re.sub(r"\D", "", name))
            base = ("sys/kernel/mm/hugepages", name)
            nodes = {}
            for node in self.numa_nodes():
                nbase = ("sys/devices/system/node", f"node{node}", "hugepages", name)
                if os.path.isdir(self.path(*nbase)):
                    nodes[node] = (int(self.read(*nbase, "nr_hugepages", default="0")),
                                   int(self.read(*nbase, "free_hugepages", default="0")))
            sizes.append(HugepageSize(kb, int(self.read(*base, "nr_hugepages", default="0")),
                                      int(self.read(*base, "free_hugepages", default="0")), nodes))
        return sorted(sizes, key=lambda s: s.kb)

    def mounts(self):
        """(mountpoint, fstype, options) from /proc/mounts."""
        out = []
        for line in self.read("proc/mounts").splitlines():
            f = line.split()
            if len(f) >= 4:
                out.append((f[1], f[2], f[3]))
        return out

    def hugetlbfs_mounts(self):
        """mountpoint -> page size in kB (from pagesize=, else the default size)."""
        default_kb = int(re.sub(r"\D", "", self.read("proc/meminfo").partition("Hugepagesize:")[2]
                                .split("\n")[0]) or 2048)
        out = {}
        for mnt, fstype, opts in self.mounts():
            if fstype != "hugetlbfs":
                continue
            size = dict(o.partition("=")[::2] for o in opts.split(",")).get("pagesize", "")
            m = re.match(r"(\d+)([KMG])", size)
            out[mnt] = int(m.group(1)) * {"K": 1, "M": 1024, "G": 1024 * 1024}[m.group(2)] if m else default_kb
        return out

    def memlock_limit(self):
        """Soft RLIMIT_MEMLOCK of this process in bytes; None for unlimited."""
        for line in self.read("proc/self/limits").splitlines():
            if line.startswith("Max locked memory"):
                soft = line.split()[3]
                return None if soft == "unlimited" else int(soft)
        return None

    # -- CPUs and NUMA ------------------------------------------------------
    def numa_nodes(self):
        return [int(n[4:]) for n in self.listdir("sys/devices/system/node") if re.fullmatch(r"node\d+", n)]

    def node_cpus(self):
        """node -> its CPUs; one node 0 holding every online CPU when there is no NUMA."""
        nodes = {n: parse_cpulist(self.read("sys/devices/system/node", f"node{n}", "cpulist"))
                 for n in self.numa_nodes()}
        return nodes or {0: self.online_cpus()}

    def online_cpus(self):
        return parse_cpulist(self.read("sys/devices/system/cpu/online", default="0"))

    def cpu_node(self, cpu):
        return next((n for n, cpus in self.node_cpus().items() if cpu in cpus), None)

    def isolated_cpus(self):
        return {"isolcpus": parse_cpulist(self.read("sys/devices/system/cpu/isolated")),
                "nohz_full": parse_cpulist(self.read("sys/devices/system/cpu/nohz_full").replace("(null)", ""))}

    def cpu_vendor(self):
        m = re.search(r"^vendor_id\s*:\s*(\S+)", self.read("proc/cpuinfo"), re.M)
        return m.group(1) if m else ""

    def cmdline(self):
        return self.read("proc/cmdline")

    # -- IOMMU and vfio -----------------------------------------------------
    def iommu_groups(self):
        return self.listdir("sys/kernel/iommu_groups")

    def iommu_group_devices(self, group):
        return self.listdir("sys/kernel/iommu_groups", group, "devices") if group else []

    def module_loaded(self, name):
        return os.path.isdir(self.path("sys/module", name))

    # -- PCI NICs and the kernel's network view ------------------------------
    def pci_driver(self, pci):
        return self.link_name("sys/bus/pci/devices", pci, "driver")

    def pci_nic(self, pci):
        """The network PCI function at pci, or None when there is none."""
        base = ("sys/bus/pci/devices", pci)
        if not self.read(*base, "class").startswith(NETWORK_CLASS):
            return None
        ifaces = self.listdir(*base, "net")
        for child in self.listdir(*base):     # virtio puts net/ one level down
            if child.startswith("virtio"):
                ifaces += self.listdir(*base, child, "net")
        return PciNic(pci, self.pci_driver(pci), self.link_name(*base, "iommu_group"),
                      int(self.read(*base, "numa_node", default="-1")), tuple(ifaces))

    def pci_nics(self):
        return [n for n in (self.pci_nic(p) for p in self.listdir("sys/bus/pci/devices")) if n]

    def iommu_group_blockers(self, nic):
        """Other devices in the NIC's group held by a kernel driver: while they
        are, vfio cannot use the group."""
        return [d for d in self.iommu_group_devices(nic.iommu_group)
                if d != nic.pci and self.pci_driver(d) not in HARMLESS_DRIVERS]

    def interface_pci(self, iface):
        """The PCI address behind a kernel interface ('' for virtual ones)."""
        target = os.path.realpath(self.path("sys/class/net", iface, "device"))
        while target not in ("/", "") and not re.fullmatch(r"[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.\d",
                                                            os.path.basename(target)):
            target = os.path.dirname(target)
        return os.path.basename(target) if target not in ("/", "") else ""

    def link_state(self, iface):
        return self.read("sys/class/net", iface, "operstate", default="unknown")

    def routes(self):
        """(interface, destination network) for every IPv4 and IPv6 route."""
        out = []
        for line in self.read("proc/net/route").splitlines()[1:]:
            f = line.split()
            if len(f) >= 8:
                dst = ipaddress.IPv4Address(bytes.fromhex(f[1])[::-1])
                mask = ipaddress.IPv4Address(bytes.fromhex(f[7])[::-1])
                out.append((f[0], ipaddress.IPv4Network(f"{dst}/{mask}", strict=False)))
        for line in self.read("proc/net/ipv6_route").splitlines():
            f = line.split()
            if len(f) >= 10 and f[9] != "lo":
                net = ipaddress.IPv6Network((int(f[0], 16), int(f[1], 16)), strict=False)
                if not net.is_link_local and not net.is_multicast:
                    out.append((f[9], net))
        return out

    def management_reasons(self, iface, connection_ip=""):
        """Why taking iface from the kernel would cut the host off; empty when safe."""
        reasons, routes = [], [(net, dev) for dev, net in self.routes() if dev == iface]
        if any(net.prefixlen == 0 for net, _ in routes):
            reasons.append(f"{iface} carries the default route")
        subnets = [net for net, _ in routes if net.prefixlen > 0]
        if subnets:
            reasons.append(f"{iface} has addresses on {', '.join(map(str, subnets))}")
        if connection_ip:
            ip = ipaddress.ip_address(connection_ip)
            if any(ip.version == net.version and ip in net for net in subnets):
                reasons.append(f"{iface} carries this SSH session ({connection_ip})")
        return reasons

    # -- DPDK's files ---------------------------------------------------------
    def unix_sockets(self):
        """Paths of the unix sockets live processes have bound."""
        return {line.split()[-1] for line in self.read("proc/net/unix").splitlines()[1:]
                if line.split() and line.split()[-1].startswith("/")}

    def files_in_use(self):
        """Every path some live process maps or holds open."""
        used = set()
        for pid in self.listdir("proc"):
            if not pid.isdigit():
                continue
            for line in self.read("proc", pid, "maps").splitlines():
                f = line.split(None, 5)
                if len(f) == 6 and f[5].startswith("/"):
                    used.add(f[5].replace(" (deleted)", ""))
            for fd in self.listdir("proc", pid, "fd"):
                try:
                    used.add(os.readlink(self.path("proc", pid, "fd", fd)))
                except OSError:
                    pass
        return used
