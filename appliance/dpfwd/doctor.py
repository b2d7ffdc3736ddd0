"""dpfwd doctor: is this host ready to forward, and if not, what to do.

Each check reads the host through a Host (so tests point it at fixture trees)
and returns Findings: ok, warn or fail, each with a one-line fix. Nothing
here changes the host except clean(), which removes DPDK files no live
process uses.
"""
import os
from dataclasses import asdict, dataclass

from .facts import CAPTURE_MBUFS
from .guard import SPARE_IT, management_ports
from .host import page_size_name
from .mempool import data_room_for_mtu
from .plan import numa_mismatches, placed, plan_lcores, port_nodes
from .stale import RUNTIME_BASES, instance_running, stale_files

OK, WARN, FAIL = "ok", "warn", "fail"
# Exit codes as monitoring plugins have them: 3 when the check itself could not run.
SEVERITY = {OK: 0, WARN: 1, FAIL: 2}
UNKNOWN = 3
SUPPORTED_DPDK = ("22.11", "24.11")
# What EAL itself takes besides the mempools (rings, descriptors, heaps): a
# generous round figure, so the estimate errs towards asking for more.
EAL_OVERHEAD = 64 << 20
MBUF_OVERHEAD = 128 + 64 + 128   # struct rte_mbuf, mempool object header, headroom


@dataclass(frozen=True)
class Finding:
    check: str
    status: str
    message: str
    fix: str = ""

    def line(self):
        return f"{self.status:<5} {self.check}: {self.message}" + (f"; fix: {self.fix}" if self.fix else "")


def worst(findings):
    return max((f.status for f in findings), key=SEVERITY.get, default=OK)


def as_dict(findings):
    return {"status": worst(findings), "checks": [asdict(f) for f in findings]}


# -- checks ---------------------------------------------------------------------

def mempool_bytes(config):
    per_mbuf = data_room_for_mtu(max(p.setup.mtu for p in config.ports)) + MBUF_OVERHEAD
    return config.mbufs * per_mbuf


def bytes_needed(config, pools=1):
    """Hugepage memory a config needs: its pools plus what EAL takes itself,
    and with memory: hugepages the pool live capture copies into."""
    capture = CAPTURE_MBUFS * (data_room_for_mtu(9000) + MBUF_OVERHEAD) if config.memory == "hugepages" else 0
    return mempool_bytes(config) * pools + capture + EAL_OVERHEAD


def two_mb_pages(nbytes):
    return -(-nbytes // (2 << 20))


def check_hugepages(host, config, nodes_needed):
    sizes = [s for s in host.hugepage_sizes() if s.total or s.free]
    out = []
    if config is not None and config.memory == "no-huge":
        return [Finding("hugepages", OK, "not needed: the config runs EAL with --no-huge")]
    if not sizes:
        return [Finding("hugepages", FAIL, "none reserved",
                        "echo 512 > /proc/sys/vm/nr_hugepages, and keep it with the hugepages role")]
    for s in sizes:
        per_node = ", ".join(f"node {n}: {t} total, {f} free" for n, (t, f) in sorted(s.nodes.items()))
        out.append(Finding(f"hugepages {s.name}", OK, f"{s.total} total, {s.free} free" + (f" ({per_node})" if len(s.nodes) > 1 else "")))
    if config is None:
        return out
    held = 0
    if instance_running(host, config.instance):
        held = held_memory(config.instance) if host.root == "/" else None
        if held is None:
            out.append(Finding("hugepages for the config", OK,
                               f"instance {config.instance} is running and holds its memory"))
            return out
    per_pool = mempool_bytes(config)
    need = bytes_needed(config, max(len(nodes_needed), 1))
    # A running instance gives its pages back when it restarts with this config.
    free = sum(s.free * s.kb * 1024 for s in sizes) + held
    if free < need:
        # A total that leaves what others use now, plus what this config needs.
        two_mb = next((sz for sz in sizes if sz.kb == 2048), None)
        in_use = (two_mb.total - two_mb.free) * (2 << 20) - held if two_mb else 0
        pages = two_mb_pages(max(in_use, 0) + need)
        out.append(Finding("hugepages for the config", FAIL,
                           f"the config needs about {mb(need)} ({config.mbufs} mbufs per pool, "
                           f"{max(len(nodes_needed), 1)} pool(s)), {mb(free)} is free",
                           f"reserve at least {pages} pages of 2 MB (echo {pages} > /proc/sys/vm/nr_hugepages); "
                           "if the kernel gives fewer, memory is fragmented: reserve them at boot "
                           f"(hugepages={pages} on the kernel command line)"))
        return out
    for node in nodes_needed:
        node_free = sum(s.nodes.get(node, (0, 0))[1] * s.kb * 1024 for s in sizes)
        if len(host.numa_nodes()) > 1 and node_free < per_pool:
            out.append(Finding("hugepages for the config", WARN,
                               f"NUMA node {node} has {mb(node_free)} free, its ports' pool needs about "
                               f"{mb(per_pool)}; DPDK would take remote memory",
                               f"reserve pages on node {node}: "
                               f"/sys/devices/system/node/node{node}/hugepages/hugepages-2048kB/nr_hugepages"))
            return out
    out.append(Finding("hugepages for the config", OK, f"needs about {mb(need)}, {mb(free)} free"))
    return out


def mb(nbytes):
    return f"{-(-nbytes // (1 << 20))} MB"   # rounded up


def held_memory(instance):
    """Hugepage bytes a running instance holds (None when it cannot be asked)."""
    from .telemetry import NotRunning, Telemetry, read_info
    try:
        with Telemetry(instance) as tm:
            return int(read_info(tm)["hugepage_bytes"])
    except (NotRunning, OSError, KeyError, ValueError):
        return None


def check_mounts(host, config):
    mounts = host.hugetlbfs_mounts()
    if not mounts:
        status = OK if config is not None and config.memory == "no-huge" else FAIL
        return [Finding("hugetlbfs", status, "no hugetlbfs mounted",
                        "" if status == OK else "mount -t hugetlbfs nodev /dev/hugepages (the hugepages role persists it)")]
    sizes = [s for s in host.hugepage_sizes() if s.total and s.kb not in mounts.values()]
    out = [Finding("hugetlbfs", OK, ", ".join(f"{m} ({page_size_name(kb)} pages)" for m, kb in sorted(mounts.items())))]
    for s in sizes:
        # In-memory EAL (the default) maps pages without a mount; shared files need one.
        if config is None or config.memory != "hugepages":
            out.append(Finding("hugetlbfs", OK, f"{s.name} pages have no hugetlbfs mount: in-memory EAL "
                               "uses them without one, memory: hugepages would not"))
            continue
        unit = s.name.replace(" ", "").replace("B", "")
        out.append(Finding("hugetlbfs", WARN, f"{s.name} pages are reserved but no hugetlbfs "
                           "of that size is mounted, so DPDK cannot use them",
                           f"mount -t hugetlbfs -o pagesize={unit} nodev /dev/hugepages{unit} "
                           "(the hugepages role mounts it)"))
    return out


def check_stale(host, min_age):
    stale = stale_files(host, min_age)
    if not stale:
        return [Finding("stale DPDK files", OK, "none")]
    pages = [p for p in stale if not p.startswith(RUNTIME_BASES)]
    dirs = [p for p in stale if p.startswith(RUNTIME_BASES)]
    parts = ([f"{len(pages)} hugepage files (they hold their pages)"] if pages else []) + \
            ([f"{len(dirs)} runtime directories"] if dirs else [])
    shown = ", ".join(stale[:3]) + (f" and {len(stale) - 3} more" if len(stale) > 3 else "")
    return [Finding("stale DPDK files", WARN, f"{' and '.join(parts)} left by processes that are gone: "
                    f"{shown}", "dpfwd doctor --clean")]


def check_iommu(host, needs_vfio):
    groups = host.iommu_groups()
    if groups:
        return [Finding("iommu", OK, f"on ({len(groups)} groups)")]
    amd = host.cpu_vendor() == "AuthenticAMD"
    args = "amd_iommu=on iommu=pt" if amd else "intel_iommu=on iommu=pt"
    if any(a in host.cmdline().split() for a in ("intel_iommu=on", "amd_iommu=on")):
        fix = f"the kernel was booted with {args.split()[0]}: enable {'AMD-Vi' if amd else 'VT-d'} in the firmware"
    else:
        fix = (f"add {args} to GRUB_CMDLINE_LINUX in /etc/default/grub, update-grub, reboot; "
               f"and enable {'AMD-Vi' if amd else 'VT-d'} in the firmware")
    if needs_vfio is False:
        return [Finding("iommu", OK, "off; this config uses no PCI NICs, so it needs none")]
    return [Finding("iommu", FAIL if needs_vfio else WARN,
                    "off (no IOMMU groups): vfio-pci cannot take NICs", fix)]


def check_vfio(host, needs_vfio):
    missing = [m for m in ("vfio", "vfio_iommu_type1", "vfio_pci") if not host.module_loaded(m)]
    if not missing:
        return [Finding("vfio", OK, "vfio, vfio_iommu_type1 and vfio_pci loaded")]
    if needs_vfio is False:
        return [Finding("vfio", OK, "not loaded; this config uses no PCI NICs, so it needs none")]
    return [Finding("vfio", FAIL if needs_vfio else WARN, f"{', '.join(missing)} not loaded",
                    "modprobe vfio-pci; keep it with echo vfio-pci > /etc/modules-load.d/vfio-pci.conf "
                    "(the nic_binding role does both)")]


def link_states(config):
    """Port name (a PCI address for NICs) -> link up, from the running instance's telemetry; {}
    when it does not run (a NIC on vfio-pci has no link the kernel can see)."""
    from .telemetry import NotRunning, Telemetry, read_ports
    try:
        with Telemetry(config.instance) as tm:
            return {p["name"]: bool(p["link_up"]) for p in read_ports(tm)}
    except (NotRunning, OSError, KeyError, ValueError):
        return {}


def check_nics(host, config, ssh_connection, links):
    out = []
    refused = management_ports(host, config, ssh_connection)
    for i, port in enumerate(config.ports):
        name = f"ports[{i}]"
        if i in refused:
            _, iface, reasons = refused[i]
            out.append(Finding(name, FAIL, f"{iface} carries host traffic: " + "; ".join(reasons), SPARE_IT))
        elif port.vdev:
            out.append(Finding(name, OK, f"{port.vdev}: a virtual device, nothing on the host to check"))
        elif port.interface:
            out.extend(check_interface_port(host, name, port.interface))
        else:
            out.extend(check_pci_port(host, name, port.pci, ssh_connection,
                                      links.get(port.pci)))
    return out


def check_interface_port(host, name, iface):
    if not os.path.isdir(host.path("sys/class/net", iface)):
        return [Finding(name, FAIL, f"interface {iface} does not exist", "ip link; name an existing interface")]
    out = []
    state = host.link_state(iface)
    out.append(Finding(name, OK if state == "up" else WARN, f"interface {iface} (af_packet), link {state}",
                       "" if state == "up" else f"ip link set {iface} up, and check the cable or peer"))
    return out


def check_pci_port(host, name, pci, ssh_connection, link_up):
    nic = host.pci_nic(pci)
    if nic is None:
        return [Finding(name, FAIL, f"no network PCI device at {pci}", "lspci -D -d ::0200 lists the NICs")]
    where = f"{pci} (driver {nic.driver or 'none'}, NUMA node {nic.numa_node if nic.numa_node >= 0 else 'none'})"
    out = []
    reasons = host.nic_management_reasons(nic, ssh_connection)
    if reasons:
        return [Finding(name, FAIL, f"{where} is a management NIC: " + "; ".join(reasons),
                        "never bind it; name a NIC that carries no host traffic")]
    if not nic.iommu_group:
        out.append(Finding(name, FAIL, f"{where} has no IOMMU group", "turn the IOMMU on (see the iommu check)"))
    else:
        blockers = host.iommu_group_blockers(nic)
        if blockers:
            who = ", ".join(f"{d} ({host.pci_driver(d)})" for d in blockers)
            out.append(Finding(name, FAIL, f"{where}: IOMMU group {nic.iommu_group} is not viable, it also "
                               f"holds {who}", "bind those to vfio-pci too, or move the NIC to a slot "
                               "with a group of its own"))
    if nic.driver != "vfio-pci":
        out.append(Finding(name, FAIL, f"{where} is not bound to vfio-pci",
                           f"driverctl set-override {pci} vfio-pci (the nic_binding role does it)"))
    elif nic.iommu_group and not os.path.exists(host.path("dev/vfio", nic.iommu_group)):
        out.append(Finding(name, FAIL, f"{where}: /dev/vfio/{nic.iommu_group} is missing",
                           f"rebind it: driverctl set-override {pci} vfio-pci"))
    if not out:
        link = "link read by DPDK when dpfwd runs" if link_up is None else f"link {'up' if link_up else 'down'}"
        out.append(Finding(name, OK if link_up is not False else WARN, f"{where}, IOMMU group "
                           f"{nic.iommu_group} viable, {link}",
                           "" if link_up is not False else "check the cable, the peer and dpfwd ports"))
    return out


def check_placement(host, config, tasks):
    """Lcores against the NUMA nodes of the NICs they poll, and CPU isolation."""
    out = [Finding("placement", WARN, problem, fix) for problem, fix in numa_mismatches(config, tasks, host)]
    workers = sorted({config.lcores.cpu_of(t.lcore) for t in tasks})
    iso = host.isolated_cpus()
    if iso["isolcpus"] or iso["nohz_full"]:
        loose = [c for c in workers if c not in iso["isolcpus"] and c not in iso["nohz_full"]]
        if loose:
            out.append(Finding("isolated CPUs", WARN, f"forwarding CPUs {loose} are not isolated "
                               f"(isolcpus: {iso['isolcpus']}, nohz_full: {iso['nohz_full']})",
                               "set eal.lcores so the forwarding lcores run on isolated CPUs"))
        else:
            out.append(Finding("isolated CPUs", OK, f"forwarding CPUs {workers} are isolated"))
    else:
        out.append(Finding("isolated CPUs", OK, f"none; forwarding CPUs {workers} are shared with the "
                           "kernel's work (for the least jitter: isolcpus= and nohz_full= on them)"))
    if not any(f.check == "placement" for f in out):
        known = [n for n in port_nodes(config, host) if n is not None]
        out.insert(0, Finding("placement", OK, "every NIC is polled from its own NUMA node" if known
                              else "no port reports a NUMA node (virtual ports, or a one-node host)"))
    return out


def check_memlock(host, euid, needs_vfio):
    limit = host.memlock_limit()
    shown = "unlimited" if limit is None else f"{limit >> 10} kB"
    if euid == 0 or limit is None or not needs_vfio:
        return [Finding("memlock", OK, f"{shown}" + (" (root)" if euid == 0 else ""))]
    return [Finding("memlock", FAIL, f"{shown}: too little for vfio to pin DMA memory (ports would "
                    "come up and forward nothing)",
                    "LimitMEMLOCK=infinity in the unit (the dpfwd role sets it), or ulimit -l unlimited")]


def check_access(host, config, user):
    """Can the service user (a name; None: no such account) open what DPDK
    needs unprivileged: each NIC's /dev/vfio/<group>, and the hugetlbfs mounts
    when the config keeps hugepage files? Read from the live file modes."""
    import grp
    import pwd
    if user is None:
        return [Finding("permissions", OK, "no dpfwd user on this host; dpfwd runs as whoever starts it")]
    account = pwd.getpwnam(user)
    gids = {account.pw_gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    paths = [f"/dev/vfio/{nic.iommu_group}" for nic in
             (host.pci_nic(p.pci) for p in config.ports if p.pci) if nic and nic.iommu_group]
    if config.memory == "hugepages":
        paths += list(host.hugetlbfs_mounts())

    def can(path, bits):
        try:
            st = os.stat(host.path(path.lstrip("/")))
        except OSError:
            return True   # a missing node is the NIC check's finding
        return account.pw_uid == 0 or (st.st_uid == account.pw_uid and (st.st_mode >> 6) & bits == bits) or \
            (st.st_gid in gids and (st.st_mode >> 3) & bits == bits) or st.st_mode & bits == bits

    out = []
    # EAL opens and locks every hugetlbfs mount at start, in-memory too: one
    # it cannot read stops it ("Failed to lock hugepage directory").
    if config.memory == "in-memory":
        closed = [m for m in host.hugetlbfs_mounts() if not can(m, 0o4)]
        if closed:
            out.append(Finding("permissions", FAIL, f"user {user} cannot open the hugetlbfs mount "
                               f"{', '.join(closed)}, and EAL locks every one at start, in-memory too",
                               f"make it readable: chmod 755 {closed[0]}, or mount it with mode=0755 "
                               "(the hugepages role does)"))
    denied = [path for path in paths if not can(path, 0o6)]
    if denied:
        out.append(Finding("permissions", WARN, f"user {user} cannot read and write {', '.join(denied)}",
                           f"give group {grp.getgrgid(account.pw_gid).gr_name} rw: the dpfwd role's udev rule "
                           "(SUBSYSTEM==\"vfio\", GROUP=..., MODE=\"0660\") does it for vfio; mount hugetlbfs "
                           "with its uid/gid, or use eal.memory: in-memory"))
    return out or [Finding("permissions", OK, f"user {user} can open " + (", ".join(paths) or "all it needs"))]


def service_user(name="dpfwd"):
    """The service account's name when the host has one (the dpfwd role makes it)."""
    import pwd
    try:
        return pwd.getpwnam(name).pw_name
    except KeyError:
        return None


def check_dpdk():
    from .eal import Eal
    version = Eal.version()
    number = version.split()[-1]
    if number.startswith(SUPPORTED_DPDK):
        return [Finding("dpdk", OK, version)]
    return [Finding("dpdk", WARN, f"{version} is not one dpfwd is tested with ({', '.join(SUPPORTED_DPDK)})",
                    "use Debian 12 (22.11) or Debian 13 (24.11)")]


def examine(host, config=None, ssh_connection="", euid=0, links=None, user=False, min_age=0):
    """Every finding for this host and (when given) config. user: the account
    to check file access for (None: there is none); False skips the check,
    as for captured trees, whose file modes are not the host's."""
    # None: no config, so whether PCI NICs will be used is unknown.
    needs_vfio = any(p.pci for p in config.ports) if config is not None else None
    if config is not None:
        config = placed(config, host)
    tasks = plan_lcores(config) if config is not None else ()
    nodes = sorted({n if n is not None else 0 for n in port_nodes(config, host)}) if config is not None else []
    findings = check_hugepages(host, config, nodes) + check_mounts(host, config) + check_stale(host, min_age)
    findings += check_iommu(host, needs_vfio) + check_vfio(host, needs_vfio)
    if config is not None:
        findings += check_nics(host, config, ssh_connection, links or {})
        findings += check_placement(host, config, tasks)
        if user is not False:
            findings += check_access(host, config, user)
    findings += check_memlock(host, euid, needs_vfio) + check_dpdk()
    return findings
