"""What the host looks like, read from sysfs and procfs under a movable root.

Every read of /sys and /proc by dpfwd goes through a Host, so `dpfwd doctor`
and placement can be tested against fixture trees captured on real machines
(tests/fixtures/hosts/). Read-only, and never raises on a missing file: a
host without NUMA, an IOMMU or hugepages of some size is a normal host.
"""
import json
import os
import re
import subprocess
from dataclasses import dataclass, field

NETWORK_CLASS = "0x02"
# Devices that may share an IOMMU group with a NIC without making it unusable.
HARMLESS_DRIVERS = ("vfio-pci", "pcieport", "")
# The kernel device every Open vSwitch port is enslaved to.
OVS_DATAPATH = "ovs-system"
PCI_ADDRESS = re.compile(r"(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]")


def parse_cpulist(text):
    """'0-3,8' -> [0, 1, 2, 3, 8]; '' -> []."""
    out = []
    for part in text.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def full_pci(address):
    """'03:00.0' -> '0000:03:00.0', the form sysfs names devices by."""
    address = address.lower()
    return address if address.count(":") == 2 else "0000:" + address


@dataclass(frozen=True)
class HugepageSize:
    kb: int
    total: int
    free: int
    nodes: dict = field(default_factory=dict)   # node -> (total, free)

    @property
    def name(self):
        return page_size_name(self.kb)


def page_size_name(kb):
    """2048 -> '2 MB', 1048576 -> '1 GB' (as operators and the kernel's
    hugepagesz= name them)."""
    if kb >= 1 << 20:
        return f"{kb >> 20} GB"
    return f"{kb >> 10} MB" if kb >= 1 << 10 else f"{kb} kB"


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

    def pci_interrupts(self, pci):
        """The interrupt kinds a PCI function offers, a subset of {"msix",
        "msi", "legacy"}; None when its capability list cannot be read (only
        root, or CAP_SYS_ADMIN, sees past the first 64 bytes of config)."""
        try:
            with open(self.path("sys/bus/pci/devices", pci, "config"), "rb") as f:
                config = f.read(256)
        except OSError:
            return None
        if len(config) < 256:
            return None
        kinds = {"legacy"} if config[0x3d] else set()     # an INTx pin
        seen, ptr = set(), config[0x34] & 0xfc if config[0x06] & 0x10 else 0
        while 0x40 <= ptr < 0xff and ptr not in seen:
            seen.add(ptr)
            kinds |= {0x05: {"msi"}, 0x11: {"msix"}}.get(config[ptr], set())
            ptr = config[ptr + 1] & 0xfc
        return kinds

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

    # -- what carries host traffic --------------------------------------------
    # A NIC is "management" when it, or any device stacked on it, carries host
    # traffic: an address, a route in any table, or the Ansible/SSH session.
    # Addresses and routes come from `ip -j` (all tables); the stack from sysfs.
    # When a reading fails the answer is "cannot tell", which callers refuse.

    def command(self, *argv):
        """stdout of a read-only command; None when it fails or prints nothing.
        Under a fixture root: the output recorded in commands/<argv joined by
        spaces>, as lab/capture-host.py saves it."""
        if self.root != "/":
            text = self.read("commands", " ".join(argv).replace("/", "_"))
        else:
            try:
                proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
            except (OSError, subprocess.SubprocessError):
                return None
            text = proc.stdout if proc.returncode == 0 else ""
        return text if text.strip() else None

    def _ip_json(self, *args):
        text = self.command("ip", "-j", *args)
        try:
            return json.loads(text) if text is not None else None
        except ValueError:
            return None

    def net_interfaces(self):
        return self.listdir("sys/class/net")

    def stacked_on(self, iface):
        """iface and every device stacked on it at any depth ({name: how}):
        bridge, bond or team masters, VLANs, macvlans/ipvlans (upper_*,
        master), and for a port of an Open vSwitch datapath every other port
        of that datapath, as a bridge's own interface is one of them."""
        found, todo = {iface: "itself"}, [iface]
        while todo:
            dev = todo.pop()
            uppers = [n[len("upper_"):] for n in self.listdir("sys/class/net", dev) if n.startswith("upper_")]
            master = self.link_name("sys/class/net", dev, "master")
            for up in uppers + ([master] if master else []):
                if up == OVS_DATAPATH:
                    siblings = [n[len("lower_"):] for n in self.listdir("sys/class/net", up)
                                if n.startswith("lower_")]
                    siblings += [n for n in self.net_interfaces()
                                 if self.link_name("sys/class/net", n, "master") == up]
                    for sib in siblings:
                        if sib not in found:
                            found[sib] = f"on the Open vSwitch datapath with {dev}"
                            todo.append(sib)
                elif up not in found:
                    found[up] = f"stacked on {dev}"
                    todo.append(up)
        return found

    def addresses(self):
        """interface -> its addresses (not link-scope), or None when `ip` cannot say."""
        data = self._ip_json("addr", "show")
        if not data:
            return None
        return {e.get("ifname", ""): [f"{a['local']}/{a.get('prefixlen', '')}" for a in e.get("addr_info", [])
                                      if a.get("local") and a.get("scope") != "link"] for e in data}

    def routes(self):
        """(interface, destination, table) of every unicast route in every
        table, IPv4 and IPv6, or None when `ip` cannot say. The kernel's own
        link-local and multicast routes are left out: every up link has them."""
        out = []
        for family in ("-4", "-6"):
            data = self._ip_json(family, "route", "show", "table", "all")
            if data is None:
                return None
            for r in data:
                if r.get("type", "unicast") != "unicast" or not r.get("dev"):
                    continue
                dst = r.get("dst", "")
                if dst.startswith("fe80:") or dst.startswith("ff00:"):
                    continue
                out.append((r["dev"], dst, str(r.get("table", "main"))))
        return out

    def connection_interfaces(self, ssh_connection, addrs):
        """The interfaces an SSH session (SSH_CONNECTION's text) runs over: the
        one holding its local address (addrs: from addresses()), and the one
        routing back to its client. None when it cannot be told."""
        parts = ssh_connection.split()
        if len(parts) != 4:
            return None
        client, local = parts[0], parts[2]
        route = self._ip_json("route", "get", client)
        if addrs is None or not route:
            return None
        out = {name for name, ips in addrs.items() if any(ip.split("/")[0] == local for ip in ips)}
        out.update(r["dev"] for r in route if r.get("dev"))
        return out

    def management_reasons(self, iface, ssh_connection=None):
        """Why taking iface from the kernel would cut host traffic; empty when
        safe. ssh_connection: SSH_CONNECTION of the session to protect, '' for
        none (a local run), None when it is unknown (then nothing is safe)."""
        addrs, routes = self.addresses(), self.routes()
        if addrs is None or routes is None:
            return [f"cannot tell whether {iface} carries host traffic: `ip -j addr` or "
                    "`ip -j route show table all` failed or printed nothing"]
        if ssh_connection is None:
            return ["cannot tell which interface carries the Ansible connection: SSH_CONNECTION "
                    "is not set (sudo may drop it: Defaults env_keep += SSH_CONNECTION)"]
        via = self.connection_interfaces(ssh_connection, addrs) if ssh_connection else set()
        if via is None:
            return [f"cannot tell which interface carries the session {ssh_connection!r}"]
        reasons = []
        for dev, how in self.stacked_on(iface).items():
            who = iface if dev == iface else f"{dev} ({how})"
            if addrs.get(dev):
                reasons.append(f"{who} has address {', '.join(addrs[dev])}")
            dev_routes = [(dst, table) for d, dst, table in routes if d == dev]
            if any(dst == "default" for dst, _ in dev_routes):
                reasons.append(f"{who} carries a default route")
            others = [f"{dst} (table {table})" for dst, table in dev_routes
                      if dst != "default" and not addrs.get(dev)]
            if others:
                reasons.append(f"{who} carries routes to {', '.join(others)}")
            if dev in via:
                reasons.append(f"{who} carries the Ansible/SSH session ({ssh_connection.split()[2]})")
        return reasons

    def ssh_connection(self):
        """SSH_CONNECTION of the session this process runs under, looked up
        the process tree when sudo dropped it from the environment; '' when
        there is none (a console, a timer, a local Ansible run)."""
        pid = "self"
        for _ in range(64):
            env = dict(v.partition("=")[::2] for v in self.read("proc", pid, "environ").split("\0"))
            if env.get("SSH_CONNECTION"):
                return env["SSH_CONNECTION"]
            fields = self.read("proc", pid, "stat").rpartition(")")[2].split()
            if len(fields) < 2 or fields[1] in ("0", "1"):
                return ""
            pid = fields[1]
        return ""

    def nic_management_reasons(self, nic, ssh_connection=None):
        """management_reasons over every kernel interface of a PCI NIC."""
        return [r for iface in nic.interfaces for r in self.management_reasons(iface, ssh_connection)]

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
