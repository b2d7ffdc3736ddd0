"""From a validated Config to a plan: EAL arguments, the device each port
opens, which lcore polls which (port, queue), lcore placement and warnings.

Pure: it reads the host (NUMA nodes, CPUs) through Host, never DPDK, so
``dpfwd config check`` and the doctor use the very plan ``dpfwd run`` starts.
"""
from dataclasses import dataclass, fields, replace

from .config import ConfigError, parse_lcores
from .host import Host

# The longest frame a port sends: the MTU plus an Ethernet header and one VLAN tag.
FRAME_OVER_MTU = 14 + 4
# af_packet rings: more frames than the PMD default carry TCP far better.
AF_PACKET_FRAMES = 4096


@dataclass(frozen=True)
class Task:
    lcore: int
    port: int       # config index of the polled port
    queue: int
    peer: int       # config index of the port it sends to
    check_frames: bool = True   # can the port receive frames too long for the peer?


@dataclass(frozen=True)
class Plan:
    config: object
    eal_args: tuple
    devices: tuple  # per port: the vdev spec or PCI address EAL opens
    tasks: tuple
    warnings: tuple = ()


def port_device(index, port):
    """EAL device for a port: a kernel interface becomes an af_packet vdev."""
    if port.interface:
        # Frames must hold the MTU; blocks are whole pages holding whole frames.
        framesz = 2048 if port.setup.mtu <= 1500 else 16384
        return (f"net_af_packet{index},iface={port.interface},qpairs={port.setup.rx_queues},"
                f"framecnt={AF_PACKET_FRAMES},framesz={framesz},blocksz={max(framesz, 4096)}")
    return port.device


def eal_args(config, devices):
    args = ["--lcores", config.lcores.text, "--file-prefix", config.instance]
    if config.memory == "in-memory":
        args.append("--in-memory")
    elif config.memory == "no-huge":
        args += ["--no-huge", "-m", str(config.memory_mb)]
    pci = [d for d, p in zip(devices, config.ports) if p.pci]
    if pci:
        for address in pci:
            args += ["-a", address]
    else:
        args.append("--no-pci")
    for d, p in zip(devices, config.ports):
        if not p.pci:
            args += ["--vdev", d]
    return tuple(args + list(config.eal_args))


def rx_frame_bound(port):
    """The longest frame a port can receive, where that is known: a NIC drops
    frames over its MTU, net_null makes frames of its size= (64 by default).
    None for ports that pass on whatever comes (pcap, af_packet, tap, ...)."""
    if port.pci:
        return port.setup.mtu + FRAME_OVER_MTU
    if port.vdev and port.vdev.startswith("net_null"):
        size = [a.split("=", 1)[1] for a in port.vdev.split(",")[1:] if a.startswith("size=")]
        return int(size[0]) if size and size[0].isdigit() else 64
    return None


def needs_frame_check(src, dst):
    bound = rx_frame_bound(src)
    return bound is None or bound > dst.setup.mtu + FRAME_OVER_MTU


def plan_lcores(config):
    """Spread every polled (port, queue) over the worker lcores in turn."""
    workers = config.lcores.workers
    work = [(src, dst, q) for a, b in config.pairs for src, dst in ((a, b), (b, a))
            for q in range(config.ports[src].setup.rx_queues)]
    return tuple(Task(workers[i % len(workers)], src, q, dst,
                      needs_frame_check(config.ports[src], config.ports[dst]))
                 for i, (src, dst, q) in enumerate(work))


def mempool_warnings(config, tasks):
    """A pool smaller than what the rings, lcore caches and bursts in flight can
    hold runs dry under load (rx_nombuf): say so, with the size to use. With a
    NIC that is an error: its rx ring holds an mbuf in every descriptor, and
    its tx ring gives sent mbufs back only when it has nearly filled, so a pool
    that ran dry stays dry and the port stops for good (the lab guest's e1000,
    mbufs 1100 for rings of 3072: 75 packets through, then none)."""
    rings = sum(p.setup.rx_queues * p.setup.rx_descriptors + p.setup.tx_queues * p.setup.tx_descriptors
                for p in config.ports)
    caches = len(config.lcores.ids) * config.cache
    in_flight = len(tasks) * config.burst
    need = rings + caches + in_flight
    if config.mbufs >= need:
        return ()
    short = (f"mempool.mbufs: {config.mbufs} is fewer than the {need} the rings ({rings}), lcore caches "
             f"({caches}) and bursts in flight ({in_flight}) can hold")
    if any(p.pci for p in config.ports):
        raise ConfigError([f"{short}; a NIC keeps mbufs in its rings, so a pool that runs dry stays dry "
                           f"and forwarding stops: set it to {need} or more"])
    return (f"{short}; under load rx runs out of mbufs: set it to {need} or more",)


def port_nodes(config, host):
    """NUMA node of each PCI port the host can tell (None for the others)."""
    nics = [host.pci_nic(p.pci) if p.pci else None for p in config.ports]
    return [n.numa_node if n is not None and n.numa_node >= 0 else None for n in nics]


def place_lcores(config, host):
    """Unpinned lcores: the main one and a forwarding one on the NUMA node most
    PCI ports sit on (any node when none says), so the lcore, its port and
    the port's mempool share a node."""
    nodes = [n for n in port_nodes(config, host) if n is not None]
    online = host.online_cpus() or [0]
    node = max(set(nodes), key=nodes.count) if nodes else None
    local = [c for c in host.node_cpus().get(node, []) if c in online]
    cpus = local if len(local) >= 2 else sorted(online, key=lambda c: c not in local)
    if len(cpus) < 2:
        return parse_lcores(f"0,1@{cpus[0]}")   # one CPU: both lcores share it
    return parse_lcores(f"{cpus[0]}-{cpus[1]}" if cpus[1] == cpus[0] + 1 else f"{cpus[0]},{cpus[1]}")


def numa_mismatches(config, tasks, host):
    """(problem, fix) for each port polled from another NUMA node than its own."""
    nodes, seen, out = port_nodes(config, host), set(), []
    for task in tasks:
        node, cpu = nodes[task.port], config.lcores.cpu_of(task.lcore)
        cpu_node = host.cpu_node(cpu)
        if node is None or cpu_node in (None, node) or (task.port, task.lcore) in seen:
            continue
        seen.add((task.port, task.lcore))
        local = ",".join(map(str, host.node_cpus().get(node, [])))
        out.append((f"ports[{task.port}] ({config.ports[task.port].pci}) is on NUMA node {node} but "
                    f"lcore {task.lcore} (CPU {cpu}) polling it is on node {cpu_node}",
                    f"set eal.lcores to CPUs of node {node} ({local})"))
    return out


def placed(config, host):
    """config with its lcores placed when it does not pin them."""
    return config if config.lcores is not None else replace(config, lcores=place_lcores(config, host))


def make_plan(config, host=None):
    """The plan for a validated config; host (default: this one) places
    unpinned lcores and checks pinned ones against the ports' NUMA nodes."""
    host = host or Host()
    config = placed(config, host)
    devices = tuple(port_device(i, p) for i, p in enumerate(config.ports))
    tasks = plan_lcores(config)
    warnings = mempool_warnings(config, tasks) + tuple(
        f"{problem}; {fix}" for problem, fix in numa_mismatches(config, tasks, host))
    return Plan(config, eal_args(config, devices), devices, tasks, warnings)


# What a reload applies while forwarding (Forwarder.apply_live): the lcores
# take these at a quiescent point over running ports. Every other setting
# needs a restart.
LIVE_FIELDS = {"mode", "burst", "idle", "sleep_max_us", "residence", "link_propagation"}
LIVE_PORT_FIELDS = {"dest_mac"}


@dataclass(frozen=True)
class Difference:
    name: str       # dotted, as in the config file: forwarding.burst, ports[1].mtu
    old: object
    new: object
    live: bool      # applies on reload; False: needs a restart


# Config fields under the YAML key they are read from, for dotted names.
SECTIONS = {"instance": "eal", "lcores": "eal", "memory": "eal", "memory_mb": "eal", "eal_args": "eal.args",
            "mbufs": "mempool", "cache": "mempool", "metrics_listen": "metrics.listen",
            "metrics_allow_remote": "metrics.allow_remote", "pairs": "pairs", "ports": "ports"}


def _dotted(field_name):
    section = SECTIONS.get(field_name, "forwarding")
    return section if "." in section or section in ("pairs", "ports") else f"{section}.{field_name}"


def differences(old, new):
    """Every setting that differs between two configs, and whether it applies live."""
    out = [Difference(_dotted(f.name), getattr(old, f.name), getattr(new, f.name), f.name in LIVE_FIELDS)
           for f in fields(old) if f.name != "ports" and getattr(old, f.name) != getattr(new, f.name)]
    if len(old.ports) != len(new.ports):
        return out + [Difference("ports", len(old.ports), len(new.ports), False)]
    for i, (a, b) in enumerate(zip(old.ports, new.ports)):
        out += [Difference(f"ports[{i}].{f.name}", getattr(a, f.name), getattr(b, f.name),
                           f.name in LIVE_PORT_FIELDS)
                for f in fields(a) if f.name != "setup" and getattr(a, f.name) != getattr(b, f.name)]
        out += [Difference(f"ports[{i}].{f.name}", getattr(a.setup, f.name), getattr(b.setup, f.name), False)
                for f in fields(a.setup) if getattr(a.setup, f.name) != getattr(b.setup, f.name)]
    return out


def live_differences(old, new):
    """Names of settings that differ between configs and cannot change live."""
    return [d.name for d in differences(old, new) if not d.live]


def default_dest_mac(index):
    """l2fwd's convention: frames out of port N go to 02:00:00:00:00:N."""
    return bytes([2, 0, 0, 0, 0, index])


def dest_macs(config):
    """The destination MAC of each port in mac mode, in config order."""
    return [p.dest_mac or default_dest_mac(i) for i, p in enumerate(config.ports)]
