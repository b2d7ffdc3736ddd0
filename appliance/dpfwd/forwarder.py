"""A Plan carried out: EAL, mempools and ports through the Python API, then
the C forwarding loop on the worker lcores. Start, read, change live, stop."""
import logging
import os
from dataclasses import replace
import subprocess

from . import __version__
from .binding import check_error, ffi, lib
from .capture import orphans, release_command
from .eal import Eal
from .doctor import bytes_needed, two_mb_pages
from .errors import EalError, ForwardingError, PortError
from .facts import COUNTER_NAMES, DATAPLANE_IDLE, MODES, RECEIVED, RESIDENCE_BOUNDS_NS
from .host import PCI_ADDRESS, Host
from .mempool import Mempool, data_room_for_mtu
from .plan import FRAME_OVER_MTU, dest_macs, differences, placed
from .port import Port, device_name, find_port
from .telemetry import snapshot

log = logging.getLogger("dpfwd")


class LocalStatsReplies:
    """The replies of telemetry's /dpfwd/stats, /dpfwd/port_stats and
    /dpfwd/lcore_stats (native/telemetry.c), made in the forwarder's own
    process from the same C calls."""

    def __init__(self, fwd):
        self.fwd = fwd
        self.counters = ffi.new("uint64_t[]", len(COUNTER_NAMES))

    def _counters(self, call, *args):
        check_error(call(*args, ffi.cast("struct dpfwd_counters *", self.counters)))
        return dict(zip(COUNTER_NAMES, self.counters))

    def header(self):
        return {"instance": self.fwd.config.instance, "mode": self.fwd.config.mode, "idle": self.fwd.idle,
                "forwarding": int(self.fwd.running()), "elapsed_us": int(lib.dpfwd_fwd_seconds() * 1e6),
                "ports": len(self.fwd.ports), "lcores": sorted({t.lcore for t in self.fwd.plan.tasks})}

    def port(self, index):
        port = self.fwd.ports[index]
        out = {"port": self._counters(lib.dpfwd_stats_port, port.id)}
        res = ffi.new("struct dpfwd_residence *")
        check_error(lib.dpfwd_residence(port.id, res))
        out["port"].update(residence_count=res.count, residence_sum_ns=res.sum_ns, residence_max_ns=res.max_ns,
                           port_id=port.id, name=port.name, mac=port.mac)
        for bound, n in zip(RESIDENCE_BOUNDS_NS, res.buckets):
            out["port"]["residence_le_" + ("inf" if bound == float("inf") else str(bound))] = n
        for q in range(max((t.queue + 1 for t in self.fwd.plan.tasks if t.port == index), default=0)):
            out[f"queue_{q}"] = self._counters(lib.dpfwd_stats_queue, port.id, q)
        return out

    def lcore(self, lcore):
        return self._counters(lib.dpfwd_stats_lcore, lcore)


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


def why_eal_failed(config, host):
    """What a failed EAL start most likely lacked, with the fix; '' when
    nothing on the host explains it. EAL itself says only, for example,
    "Cannot get hugepage information" and Permission denied."""
    if config.memory == "no-huge":
        return ""
    # EAL opens and locks every hugetlbfs mount at start, in-memory too.
    closed = [m for m in host.hugetlbfs_mounts() if not os.access(host.path(m.lstrip("/")), os.R_OK)]
    if closed:
        return (f"this user cannot open the hugetlbfs mount {closed[0]}, and EAL locks every one, even "
                f"in-memory: make it readable (chmod 755 {closed[0]}, or mount it with mode=0755; the "
                "hugepages role does); `dpfwd doctor` checks the host")
    sizes = [s for s in host.hugepage_sizes() if s.total]
    pages = two_mb_pages(bytes_needed(config))
    fix = "; `dpfwd doctor` checks the host"
    if not sizes:
        return (f"no hugepages are reserved: reserve about {pages} 2 MB pages (echo {pages} > "
                f"/proc/sys/vm/nr_hugepages; the hugepages role keeps them across reboots){fix}")
    if not any(s.free for s in sizes):
        total = sum(s.total for s in sizes if s.kb == 2048)
        return (f"no free hugepages: all {', '.join(f'{s.total} {s.kb // 1024} MB' for s in sizes)} pages "
                f"are held by other processes; reserve {pages} more (echo {total + pages} > "
                f"/proc/sys/vm/nr_hugepages), or stop what holds them{fix}")
    if not host.hugetlbfs_mounts():
        return f"no hugetlbfs is mounted: mount -t hugetlbfs nodev /dev/hugepages{fix}"
    return ""


def why_not_probed(spec, host):
    """The likely cause when EAL made no port of a configured device."""
    if spec.pci:
        nic = host.pci_nic(spec.pci)
        if nic is None:
            return f"the host has no PCI device {spec.pci}; check the address (lspci -D)"
        if nic.driver not in ("vfio-pci", "uio_pci_generic", "igb_uio"):
            return (f"it is bound to {nic.driver or 'no driver'}, not vfio-pci; bind it "
                    f"(the nic_binding role, or: driverctl set-override {spec.pci} vfio-pci)")
        return ("it is bound to vfio-pci but DPDK has no driver for it, or cannot open its "
                "IOMMU group; dpfwd doctor checks the host; `dpfwd -v run` shows more of DPDK's reasons")
    if spec.interface:
        return f"net_af_packet could not open interface {spec.interface} (does it exist? ip link show)"
    return "DPDK made no port of it (a driver that is not installed, or bad device arguments)"


# How often the service reads the links that have no interrupt.
LINK_POLL_SECONDS = 0.1


def link_interrupt(device, eal_args, host):
    """(True, why) when a port's link-state interrupt can reach DPDK, else
    (False, why). Without MSI-X, DPDK's vfio (which asks for MSI-X unless
    --vfio-intr says otherwise) gets no interrupt at all, and a link read
    would then stay at what the interrupt never said: down."""
    pci = device_name(device)
    if not PCI_ADDRESS.fullmatch(pci) or host.pci_driver(pci) != "vfio-pci":
        return True, "the PMD's own"
    mode = next((a.split("=", 1)[1] for a in eal_args if a.startswith("--vfio-intr=")), "msix")
    kinds = host.pci_interrupts(pci)
    if kinds is None:
        return False, "its PCI capabilities are unreadable without CAP_SYS_ADMIN"
    if mode not in kinds:
        return False, f"it has no {mode.upper()} interrupt for vfio-pci"
    return True, f"{mode.upper()} through vfio-pci"


class Forwarder:
    """Start, watch and stop the data plane that a Plan describes."""

    def __init__(self, plan, verbose=False):
        self.plan = plan
        self.verbose = verbose
        self.config = plan.config
        self.eal = None
        self.ports = []
        self.pools = {}
        self.idle = None
        self._counters = ffi.new("uint64_t[]", len(COUNTER_NAMES))
        self._releasing = {}    # pid of a dead capture -> the process releasing it

    def start(self):
        cfg = self.config
        for line in self.plan.warnings:
            log.warning("%s", line)
        try:
            self.eal = Eal(self.plan.eal_args, shared=cfg.memory == "hugepages", verbose=self.verbose)
        except EalError as exc:
            hint = why_eal_failed(cfg, Host())
            if not hint:
                raise
            raise EalError(f"EAL could not start: {hint} ({exc})") from None
        check_error(lib.dpfwd_telemetry_register(cfg.instance.encode(), __version__.encode()))
        if cfg.memory == "hugepages":
            check_error(lib.dpfwd_pdump_init())     # live capture needs shared memory
        ids = [self._find(i, device) for i, device in enumerate(self.plan.devices)]
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
        host = Host()
        for port_id, socket, spec, device in zip(ids, sockets, cfg.ports, self.plan.devices):
            by_interrupt, why = link_interrupt(device, self.plan.eal_args, host)
            port = Port(port_id, self.pools[socket], replace(spec.setup, link_interrupt=by_interrupt),
                        start=False)
            if port.link_interrupt:
                log.info("port %d (%s): link changes arrive by interrupt (%s)", port_id, port.name, why)
            else:
                log.info("port %d (%s): link read every %.1f s (%s)", port_id, port.name,
                         LINK_POLL_SECONDS, why if not by_interrupt else "the PMD has no link interrupt")
            self.ports.append(port)
        if self.idle == "monitor":
            why = self._monitor_queues(cfg.idle) or why
        log.info("idle policy %s (%s)", self.idle, why)
        for i, (port, spec) in enumerate(zip(self.ports, cfg.ports)):
            port.start()
            if spec.interface:
                check_error(lib.dpfwd_link_kernel(port.id, spec.interface.encode()))
            check_error(lib.dpfwd_link_watch(port.id))
            for line in port.adjustments:
                log.warning("ports[%d] (%s): %s", i, port.name, line)
        self._propagate_links(cfg)
        check_error(lib.dpfwd_fwd_start(self._fwd_conf(cfg, self.idle)), ForwardingError)

    def _propagate_links(self, cfg):
        """Link-fault propagation on (or off) for every pair, as cfg says."""
        for a, b in cfg.pairs:
            check_error(lib.dpfwd_link_propagation(self.ports[a].id, self.ports[b].id,
                                                   int(cfg.link_propagation)))

    def _monitor_queues(self, policy):
        """Put every polled queue under DPDK's power monitor (it takes only
        stopped queues). Under auto, a queue it refuses (a PMD without a
        monitor address, as every virtual one; or several queues on an lcore
        of a CPU that can watch only one) turns the whole plan back to sleep,
        and the reason is returned."""
        done = []
        for t in self.plan.tasks:
            queue = (self.ports[t.port].id, t.queue, t.lcore)
            ret = lib.dpfwd_port_power_monitor(*queue)
            if ret < 0 and policy == "auto":
                for other in done:
                    lib.dpfwd_port_power_monitor_off(*other)
                self.idle = "sleep"
                return (f"auto: adaptive sleep (the CPU can wait on rx rings, but ports[{t.port}] "
                        f"({self.ports[t.port].name}) queue {t.queue} cannot be watched)")
            check_error(ret, ForwardingError)
            done.append(queue)
        return None

    def _find(self, index, device):
        """The DPDK port id EAL gave a planned device."""
        try:
            port_id = find_port(device_name(device), probe=False)
        except PortError:
            said = self.eal.dpdk_said()
            raise PortError(f"ports[{index}]: {device_name(device)} did not come up; "
                            f"{why_not_probed(self.config.ports[index], Host())}"
                            + (f"; DPDK said: {said}" if said else "")) from None
        if port_id >= lib.DPFWD_MAX_PORTS:
            raise PortError(f"ports[{index}]: DPDK port id {port_id} is above {lib.DPFWD_MAX_PORTS - 1}")
        return port_id

    def describe(self):
        """'mac mode: net_null0 <-> net_null1, ...' for logs."""
        return f"{self.config.mode} mode: " + ", ".join(
            f"{self.ports[a].name} <-> {self.ports[b].name}" for a, b in self.config.pairs)

    def _fwd_conf(self, cfg, idle):
        conf = ffi.new("struct dpfwd_fwd_conf *")
        conf.mode = MODES.index(cfg.mode)
        conf.idle = DATAPLANE_IDLE.index(idle)
        conf.burst = cfg.burst
        conf.n_tasks = len(self.plan.tasks)
        for i, t in enumerate(self.plan.tasks):
            conf.tasks[i] = {"lcore": t.lcore, "port": self.ports[t.port].id, "queue": t.queue,
                             "peer": self.ports[t.peer].id, "check_frames": int(t.check_frames)}
        conf.n_ports = len(self.ports)
        for i, (port, spec, mac) in enumerate(zip(self.ports, cfg.ports, dest_macs(cfg))):
            conf.port_ids[i] = port.id
            conf.dst_mac[port.id] = list(mac)
            conf.max_frame[port.id] = spec.setup.mtu + FRAME_OVER_MTU
            conf.rx_descriptors[port.id] = port.rx_descriptors
        conf.sleep_max_us = cfg.sleep_max_us or 0
        conf.residence = int(cfg.residence)
        return conf

    def apply_live(self, new):
        """Take what can change while forwarding from config new. Returns
        (what needs a restart, what was applied), dotted names; when anything
        needs a restart, nothing is applied. A failure raises with the old
        config still forwarding."""
        new = placed(new, Host())
        diffs = differences(self.config, new)
        restart = [d.name for d in diffs if not d.live]
        idle = self.idle
        if new.idle != self.config.idle:
            idle, _ = choose_idle(new.idle, bool(lib.dpfwd_idle_monitor_supported()))
            if "monitor" in (idle, self.idle):
                restart.append("forwarding.idle (to or from monitor)")
        if restart or not diffs:
            return restart, []
        relaunch = {"forwarding.burst", "forwarding.idle", "forwarding.sleep_max_us", "forwarding.residence"}
        if relaunch & {d.name for d in diffs}:
            check_error(lib.dpfwd_fwd_relaunch(self._fwd_conf(new, idle)), ForwardingError)
        else:
            macs = bytearray(6 * lib.DPFWD_MAX_PORTS)
            for port, mac in zip(self.ports, dest_macs(new)):
                macs[6 * port.id:6 * port.id + 6] = mac
            check_error(lib.dpfwd_fwd_set_mode(MODES.index(new.mode), ffi.from_buffer(macs)))
        if new.link_propagation != self.config.link_propagation:
            self._propagate_links(new)
        self.config, self.idle = new, idle
        return [], [d.name for d in diffs]

    def forwarded(self):
        """Packets received on all ports so far (cheap: for stop conditions)."""
        total, c, at = 0, self._counters, COUNTER_NAMES.index(RECEIVED)
        for port in self.ports:
            check_error(lib.dpfwd_stats_port(port.id, ffi.cast("struct dpfwd_counters *", c)))
            total += c[at]
        return total

    def snapshot(self):
        """The counters, in the shape every reader sees, read in this process:
        the final snapshot must not depend on a free telemetry connection."""
        return snapshot(LocalStatsReplies(self), self.config.instance)

    def running(self):
        return bool(lib.dpfwd_fwd_running())

    def stalled_lcores(self):
        """The forwarding lcores that finished no loop round since the last
        call; call at a steady period (the service's heartbeat)."""
        out = ffi.new("uint32_t[]", lib.DPFWD_MAX_LCORES)
        return list(out[0:lib.dpfwd_fwd_progress(out, lib.DPFWD_MAX_LCORES)])

    def lcore_ports(self, lcore):
        """'ports[0] queue 0, ports[1] queue 0': what an lcore polls, for logs."""
        return ", ".join(f"ports[{t.port}] ({self.ports[t.port].name}) queue {t.queue}"
                         for t in self.plan.tasks if t.lcore == lcore)

    def sleeping_lcores(self):
        """The forwarding lcores that sleep by policy."""
        return sorted({t.lcore for t in self.plan.tasks}) if self.idle == "sleep" else []

    def sleep_plan(self):
        """{lcore: (longest sleep, wake-up delay, ring fill time)} in us, for
        the lcores that sleep by policy and have measured their wake-up."""
        cap, wake, ring = ffi.new("uint32_t *"), ffi.new("uint32_t *"), ffi.new("uint32_t *")
        return {lcore: (cap[0], wake[0], ring[0]) for lcore in self.sleeping_lcores()
                if lib.dpfwd_fwd_sleep(lcore, cap, wake, ring) == 0}

    def release_dead_captures(self):
        """Have captures whose process died without stopping released, each by
        a short-lived secondary (python -m dpfwd.capture release ...), so the
        lcores stop copying packets for nobody and the port can be captured
        again. Returns at once; the outcome is logged when known."""
        if self.config.memory != "hugepages":
            return
        for pid, proc in list(self._releasing.items()):
            if proc.poll() is None:
                continue
            del self._releasing[pid]
            said = proc.stderr.read().strip().splitlines()
            if proc.returncode == 0:
                log.warning("capture by process %d ended without stopping; released it", pid)
            else:
                log.error("capture by process %d ended without stopping, and releasing it failed: %s",
                          pid, said[-1] if said else f"exit {proc.returncode}")
        for owner in orphans():
            if owner[0] not in self._releasing:
                self._releasing[owner[0]] = subprocess.Popen(
                    release_command(self.config.instance, owner), stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def poll_links(self):
        """Read every port's link: a change is logged and counted, and the
        lcores drop packets for a port whose link is down."""
        lib.dpfwd_link_poll()

    def stop(self):
        lib.dpfwd_fwd_stop()

    def close(self):
        """Stop forwarding, close ports and pools, clean EAL up. Readers are
        told 'stopping' first, so none reads what this frees."""
        if self.eal is not None:
            lib.dpfwd_telemetry_stop()
        self.stop()
        if self.eal is not None:
            self.eal.close()
