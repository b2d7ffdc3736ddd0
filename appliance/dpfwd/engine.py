"""From a validated Config to a running data plane.

``make_plan`` is pure (no DPDK): EAL arguments, the device each port opens,
and which lcore polls which (port, queue). ``Forwarder`` carries a plan out
with the Python API (Eal, Mempool, Port) and the C forwarding loop.
"""
import logging
from dataclasses import dataclass, fields, replace

from . import __version__
from ._native import ffi, lib
from .config import full_pci, lcore_cpus, parse_lcores
from .eal import Eal
from .errors import ForwardingError, PortError, check_error
from .host import Host
from .mempool import Mempool, data_room_for_mtu
from .port import Port, device_name, find_port

log = logging.getLogger("dpfwd")

MODE_CODES = {"io": lib.DPFWD_MODE_IO, "mac": lib.DPFWD_MODE_MAC, "macswap": lib.DPFWD_MODE_MACSWAP}
IDLE_CODES = {"busy": lib.DPFWD_IDLE_BUSY, "pause": lib.DPFWD_IDLE_PAUSE,
              "sleep": lib.DPFWD_IDLE_SLEEP, "monitor": lib.DPFWD_IDLE_MONITOR}
COUNTERS = ("rx", "tx", "rx_bytes", "tx_bytes", "tx_dropped", "oversize", "bursts", "empty_polls",
            "idle_ns")
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
    args = ["--lcores", config.lcores, "--file-prefix", config.instance,
            "--log-level", "lib.eal:notice"]
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
    workers = parse_lcores(config.lcores)[1:]
    work = [(src, dst, q) for a, b in config.pairs for src, dst in ((a, b), (b, a))
            for q in range(config.ports[src].setup.rx_queues)]
    return tuple(Task(workers[i % len(workers)], src, q, dst,
                      needs_frame_check(config.ports[src], config.ports[dst]))
                 for i, (src, dst, q) in enumerate(work))


def mempool_warnings(config, tasks):
    """A pool smaller than what the rings, lcore caches and bursts in flight can
    hold runs dry under load (rx_nombuf): say so, with the size to use."""
    rings = sum(p.setup.rx_queues * p.setup.rx_descriptors + p.setup.tx_queues * p.setup.tx_descriptors
                for p in config.ports)
    caches = len(parse_lcores(config.lcores)) * config.cache
    in_flight = len(tasks) * config.burst
    need = rings + caches + in_flight
    if config.mbufs >= need:
        return ()
    return (f"mempool.mbufs: {config.mbufs} is fewer than the {need} the rings ({rings}), lcore caches "
            f"({caches}) and bursts in flight ({in_flight}) can hold; under load rx runs out of mbufs: "
            f"set it to {need} or more",)


def port_nodes(config, host):
    """NUMA node of each PCI port the host can tell (None for the others)."""
    nics = [host.pci_nic(full_pci(p.pci)) if p.pci else None for p in config.ports]
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
        return f"0,1@{cpus[0]}"   # one CPU: both lcores share it
    return f"{cpus[0]}-{cpus[1]}" if cpus[1] == cpus[0] + 1 else f"{cpus[0]},{cpus[1]}"


def numa_mismatches(config, tasks, host):
    """(problem, fix) for each port polled from another NUMA node than its own."""
    cpus, nodes, seen, out = lcore_cpus(config.lcores), port_nodes(config, host), set(), []
    for task in tasks:
        node, cpu = nodes[task.port], cpus[task.lcore]
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


LIVE_FIELDS = {"mode", "ports"}
LIVE_PORT_FIELDS = {"dest_mac"}


def live_differences(old, new):
    """Names of settings that differ between configs and cannot change live."""
    out = [f.name for f in fields(old) if f.name not in LIVE_FIELDS
           and getattr(old, f.name) != getattr(new, f.name)]
    if len(old.ports) != len(new.ports):
        return out + ["ports"]
    for i, (a, b) in enumerate(zip(old.ports, new.ports)):
        out += [f"ports[{i}].{f.name}" for f in fields(a) if f.name not in LIVE_PORT_FIELDS | {"setup"}
                and getattr(a, f.name) != getattr(b, f.name)]
        out += [f"ports[{i}].{f.name}" for f in fields(a.setup)
                if getattr(a.setup, f.name) != getattr(b.setup, f.name)]
    return out


def choose_idle(policy, monitor_supported):
    """(policy to run, why) for a configured policy on this host; ForwardingError
    when the host cannot do an explicitly asked one."""
    if policy == "monitor" and not monitor_supported:
        raise ForwardingError("forwarding.idle: monitor needs a CPU with power-monitor instructions "
                              "(UMWAIT or MONITORX), and this one has none; use sleep or auto")
    if policy != "auto":
        return policy, "as configured"
    if monitor_supported:
        return "monitor", "auto: the CPU can wait on the rx rings (DPDK power management)"
    return "sleep", "auto: adaptive sleep (this CPU has no power-monitor instructions for DPDK's monitor mode)"


def default_dest_mac(index):
    """l2fwd's convention: frames out of port N go to 02:00:00:00:00:N."""
    return f"02:00:00:00:00:{index:02x}"


def _mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


def read_counters(fn, *args):
    c = ffi.new("struct dpfwd_counters *")
    check_error(fn(*args, c))
    return {name: getattr(c, name) for name in COUNTERS}


class Forwarder:
    """Start, watch and stop the data plane that a Plan describes."""

    def __init__(self, plan):
        self.plan = plan
        self.config = plan.config
        self.eal = None
        self.ports = []
        self.pools = {}
        self.idle = None

    def start(self):
        cfg = self.config
        for line in self.plan.warnings:
            log.warning("%s", line)
        self.eal = Eal(self.plan.eal_args, shared=cfg.memory == "hugepages")
        check_error(lib.dpfwd_telemetry_register(cfg.instance.encode(), __version__.encode()))
        if cfg.memory == "hugepages":
            check_error(lib.dpfwd_pdump_init())     # live capture needs shared memory
        ids = []
        for i, device in enumerate(self.plan.devices):
            try:
                ids.append(find_port(device_name(device), probe=False))
            except PortError:
                raise PortError(f"ports[{i}]: {device_name(device)} did not come up; the EAL "
                                "log above says why (device arguments, driver binding)") from None
        for i, port_id in enumerate(ids):
            if port_id >= lib.DPFWD_MAX_PORTS:
                raise PortError(f"ports[{i}]: DPDK port id {port_id} is above {lib.DPFWD_MAX_PORTS - 1}")
        # One pool per NUMA node in use, sized for the largest MTU there; a
        # port that does not know its node (a vdev) counts as node 0.
        sockets = [max(lib.dpfwd_port_socket(port_id), 0) for port_id in ids]
        by_socket = {}
        for socket, spec in zip(sockets, cfg.ports):
            by_socket.setdefault(socket, []).append(spec.setup.mtu)
        for socket, mtus in sorted(by_socket.items()):
            self.pools[socket] = Mempool(f"dpfwd_s{socket}", cfg.mbufs, cfg.cache, socket,
                                         data_room=data_room_for_mtu(max(mtus)))
            check_error(lib.dpfwd_telemetry_add_pool(self.pools[socket]._ptr))
        self.idle, why = choose_idle(cfg.idle, bool(lib.dpfwd_idle_monitor_supported()))
        log.info("idle policy %s (%s)", self.idle, why)
        for port_id, socket, spec in zip(ids, sockets, cfg.ports):
            self.ports.append(Port(port_id, self.pools[socket], spec.setup, start=False))
        if self.idle == "monitor":
            # DPDK takes power management only on stopped queues.
            for t in self.plan.tasks:
                check_error(lib.dpfwd_port_power_monitor(self.ports[t.port].id, t.queue, t.lcore),
                            ForwardingError)
        for i, port in enumerate(self.ports):
            port.start()
            for line in port.adjustments:
                log.warning("ports[%d] (%s): %s", i, port.name, line)
        lib_conf = self._fwd_conf()
        check_error(lib.dpfwd_fwd_start(lib_conf), ForwardingError)

    def describe(self):
        """'mac mode: net_null0 <-> net_null1, ...' for logs."""
        return f"{self.config.mode} mode: " + ", ".join(
            f"{self.ports[a].name} <-> {self.ports[b].name}" for a, b in self.config.pairs)

    def _fwd_conf(self):
        cfg = self.config
        conf = ffi.new("struct dpfwd_fwd_conf *")
        conf.mode = MODE_CODES[cfg.mode]
        conf.idle = IDLE_CODES[self.idle]
        conf.burst = cfg.burst
        conf.n_tasks = len(self.plan.tasks)
        for i, t in enumerate(self.plan.tasks):
            conf.tasks[i] = {"lcore": t.lcore, "port": self.ports[t.port].id, "queue": t.queue,
                             "peer": self.ports[t.peer].id, "check_frames": int(t.check_frames)}
        for i, (port, spec) in enumerate(zip(self.ports, cfg.ports)):
            conf.dst_mac[port.id] = list(_mac_bytes(spec.dest_mac or default_dest_mac(i)))
            conf.max_frame[port.id] = spec.setup.mtu + FRAME_OVER_MTU
        return conf

    def apply_live(self, new):
        """Take what can change while forwarding (mode, destination MACs) from
        config new; return the dotted names of what needs a restart."""
        new = placed(new, Host())
        restart = live_differences(self.config, new)
        if restart:
            return restart
        macs = bytearray(6 * lib.DPFWD_MAX_PORTS)
        for i, (port, spec) in enumerate(zip(self.ports, new.ports)):
            macs[6 * port.id:6 * port.id + 6] = _mac_bytes(spec.dest_mac or default_dest_mac(i))
        check_error(lib.dpfwd_fwd_set_mode(MODE_CODES[new.mode], ffi.from_buffer(macs)))
        self.config = new
        return []

    def forwarded(self):
        """Packets received on all ports so far (cheap: for stop conditions)."""
        return sum(read_counters(lib.dpfwd_stats_port, p.id)["rx"] for p in self.ports)

    def snapshot(self):
        cfg = self.config
        ports = []
        for i, (port, spec) in enumerate(zip(self.ports, cfg.ports)):
            entry = {"index": i, "port_id": port.id, "name": port.name,
                     "device": spec.describe(), "mac": port.mac}
            entry.update(read_counters(lib.dpfwd_stats_port, port.id))
            entry["queues"] = [dict(queue=q, **read_counters(lib.dpfwd_stats_queue, port.id, q))
                               for q in range(spec.setup.rx_queues)]
            ports.append(entry)
        lcores = sorted({t.lcore for t in self.plan.tasks})
        return {
            "instance": cfg.instance,
            "mode": cfg.mode,
            "idle": self.idle,
            "elapsed_seconds": round(lib.dpfwd_fwd_seconds(), 6),
            "ports": ports,
            "lcores": [dict(lcore=lc, **read_counters(lib.dpfwd_stats_lcore, lc)) for lc in lcores],
        }

    def stop(self):
        lib.dpfwd_fwd_stop()

    def close(self):
        """Stop forwarding, close ports and pools, clean EAL up."""
        self.stop()
        if self.eal is not None:
            self.eal.close()
