"""Fixture roots for Host (sys/, proc/ and commands/), built one layout at a
time: the stacks real servers have (bridges, bonds, VLANs, macvlans, Open
vSwitch) without needing them on the test machine."""
import json
import os

CLIENT, LOCAL = "10.0.2.2", "10.0.2.15"
SESSION = f"{CLIENT} 40000 {LOCAL} 22"


class HostTree:
    def __init__(self, root, iommu=True):
        self.root = root
        self.addr = {}          # iface -> [(ip, prefixlen, scope)]
        self.v4, self.v6 = [], []
        (root / "sys/kernel/iommu_groups").mkdir(parents=True, exist_ok=True)
        (root / "proc").mkdir(exist_ok=True)
        # The management NIC every layout has: virtio, the session's address, the default route.
        self.nic("0000:00:02.0", "virtio-pci", group=0 if iommu else None, iface="enp0s2", mac="52:54:00:12:34:56", virtio=True)
        self.address("enp0s2", LOCAL, 24)
        self.route("enp0s2", "default")
        self.route_get(CLIENT, "enp0s2")

    def nic(self, pci, driver="e1000", group=None, iface=None, mac="52:54:00:00:00:01", virtio=False):
        dev = self.root / "sys/bus/pci/devices" / pci
        dev.mkdir(parents=True)
        (dev / "class").write_text("0x020000\n")
        (dev / "numa_node").write_text("-1\n")
        if driver:
            os.symlink(f"../../../bus/pci/drivers/{driver}", dev / "driver")
        if group is not None:
            g = self.root / "sys/kernel/iommu_groups" / str(group) / "devices"
            g.mkdir(parents=True, exist_ok=True)
            os.symlink(f"../../../../devices/{pci}", g / pci)
            os.symlink(f"../../../kernel/iommu_groups/{group}", dev / "iommu_group")
        if iface:
            (dev / ("virtio0/net" if virtio else "net") / iface).mkdir(parents=True)
            self.iface(iface, mac)
        return self

    def iface(self, name, mac="52:54:00:00:00:99"):
        net = self.root / "sys/class/net" / name
        net.mkdir(parents=True, exist_ok=True)
        (net / "address").write_text(mac + "\n")
        (net / "operstate").write_text("up\n")
        return self

    def stack(self, lower, upper, master=False):
        """upper sits on lower: a VLAN or macvlan, or with master a bridge, bond or datapath."""
        net = self.root / "sys/class/net"
        for name in (lower, upper):
            if not (net / name).exists():
                self.iface(name)
        os.symlink(f"../{upper}", net / lower / f"upper_{upper}")
        os.symlink(f"../{lower}", net / upper / f"lower_{lower}")
        if master:
            os.symlink(f"../{upper}", net / lower / "master")
        return self

    def address(self, iface, ip, prefixlen, scope="global"):
        self.addr.setdefault(iface, []).append((ip, prefixlen, scope))
        return self.write()

    def route(self, dev, dst, table=None, six=False):
        r = {"dst": dst, "dev": dev}
        if table:
            r["table"] = table
        (self.v6 if six else self.v4).append(r)
        return self.write()

    def route_get(self, client, dev):
        self._cmd(f"ip -j route get {client}", [{"dst": client, "dev": dev}])
        return self

    def session(self, text):
        (self.root / "proc/self").mkdir(parents=True, exist_ok=True)
        (self.root / "proc/self/environ").write_text(f"SSH_CONNECTION={text}\0" if text else "")
        (self.root / "proc/self/stat").write_text("99 (python) S 1 0\n")
        return self

    def _cmd(self, argv, data):
        path = self.root / "commands" / argv.replace("/", "_")
        path.parent.mkdir(exist_ok=True)
        path.write_text(data if isinstance(data, str) else json.dumps(data))

    def write(self):
        ifaces = sorted(set(os.listdir(self.root / "sys/class/net")) | set(self.addr))
        self._cmd("ip -j addr show", [
            {"ifname": i, "addr_info": [{"local": ip, "prefixlen": n, "scope": s} for ip, n, s in self.addr.get(i, [])]}
            for i in ifaces])
        self._cmd("ip -j -4 route show table all", self.v4)
        self._cmd("ip -j -6 route show table all", self.v6 + [
            {"type": "multicast", "dst": "ff00::/8", "dev": i, "table": "local"} for i in ifaces])
        return self
