"""dpfwd capture: copy a forwarding port's packets to a pcap file, live."""
import os
import signal
import threading
import time

import click

from .._native import ffi, lib
from ..burst import Burst
from ..eal import Eal, instance_dir
from ..errors import DpfwdError, check_null
from ..pcapfile import PcapWriter
from ..port import find_port
from .errors import DataPlaneFailed
from .readers import InstanceNotRunning

DIRECTIONS = {"rx": 1, "tx": 2, "both": 3}
ALL_QUEUES = 0xFFFF
READ_BURST = 64
IDLE_WAIT = 0.001   # seconds to wait when the ring is empty


def check_instance(instance):
    """A running instance that secondaries can attach to, or a one-line error."""
    base = instance_dir(instance)
    if not os.path.exists(os.path.join(base, "dpdk_telemetry.v2")):
        raise InstanceNotRunning(f"no dpfwd instance '{instance}' is running (no {base}); "
                                 "start it, or name another with --instance")
    if not os.path.exists(os.path.join(base, "config")):
        raise DataPlaneFailed(f"instance '{instance}' runs with in-memory EAL, which secondary "
                              "processes cannot attach to; run it with eal.memory: hugepages "
                              "(or --memory hugepages) to capture live")


def capture_to(writer, cap, count, duration, stop):
    """Drain the capture ring into writer until count packets, duration or stop."""
    written, deadline = 0, (time.monotonic() + duration) if duration else None
    while written < count and not stop.is_set():
        if deadline is not None and time.monotonic() >= deadline:
            break
        with Burst.empty(READ_BURST) as burst:
            burst._n = lib.dpfwd_capture_read(cap, burst._pkts, min(READ_BURST, count - written))
            if burst._n == 0:
                stop.wait(IDLE_WAIT)
                continue
            for i in range(len(burst)):
                writer.write(burst[i], orig_len=burst.packet_length(i))
            written += len(burst)
    return written


@click.command()
@click.option("--instance", default="dpfwd", show_default=True, metavar="NAME")
@click.option("--port", "port_spec", required=True, metavar="PORT", help="Port id or name.")
@click.option("--queue", type=click.IntRange(0, 1023), help="Only this queue [all].")
@click.option("--direction", type=click.Choice(list(DIRECTIONS)), default="both", show_default=True)
@click.option("--count", type=click.IntRange(min=1), required=True, metavar="N",
              help="Stop after N packets.")
@click.option("--duration", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop after this long even if fewer than N came.")
@click.option("-w", "--write", "path", required=True, type=click.Path(dir_okay=False),
              metavar="FILE.pcap", help="Where to write.")
def capture(instance, port_spec, queue, direction, count, duration, path):
    """Capture packets of a running instance's port without stopping it (DPDK pdump)."""
    check_instance(instance)
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        eal = Eal(["--proc-type=secondary", "--file-prefix", instance, "--no-pci", "-l", "0",
                   "--log-level", "lib.eal:warning"])
        with eal:
            port = find_port(int(port_spec) if port_spec.isdigit() else port_spec, probe=False)
            cap = check_null(lib.dpfwd_capture_start(port, ALL_QUEUES if queue is None else queue,
                                                     DIRECTIONS[direction], os.getpid()))
            try:
                with PcapWriter(path) as writer:
                    written = capture_to(writer, cap, count, duration, stop)
                ringfull, nombuf = ffi.new("uint64_t *"), ffi.new("uint64_t *")
                lib.dpfwd_capture_stats(port, ringfull, nombuf)
            finally:
                lib.dpfwd_capture_stop(cap)
    except DpfwdError as exc:
        raise DataPlaneFailed(str(exc)) from None
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
    missed = ringfull[0] + nombuf[0]
    click.echo(f"{written} packets written to {path}"
               + (f"; {missed} not captured (capture slower than traffic)" if missed else ""), err=True)
