"""dpfwd capture: copy a forwarding port's packets to a pcap file, live."""
import json
import os
import signal
import time

import click

from ..capture import DIRECTIONS, READ_BURST, Capture, attach_to
from ..eal import Eal
from ..runtime import instance_dir
from ..service import Signals
from ..bpf import Filter, FilterError
from ..errors import DpfwdError
from ..pcapfile import writer_for
from .errors import DataPlaneFailed, InstanceNotRunning
from .options import instance_name, instance_option, json_option, verbose

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


def capture_to(writer, cap, count, duration, signals, keep=None):
    """Drain the capture into writer until count packets (None: no limit),
    duration or a stop signal; keep(frame, length) says which to write."""
    written, deadline = 0, (time.monotonic() + duration) if duration else None
    while (count is None or written < count) and not (signals.stop or signals.reload):
        if deadline is not None and time.monotonic() >= deadline:
            break
        with cap.read(READ_BURST if count is None else count - written) as burst:
            if not burst:
                signals.wait(IDLE_WAIT)
                continue
            for i in range(len(burst)):
                if keep is None or keep(burst[i], burst.packet_length(i)):
                    writer.write(burst[i], orig_len=burst.packet_length(i))
                    written += 1
    return written


@click.command()
@instance_option
@click.option("--port", "port_spec", required=True, metavar="PORT", help="Port: DPDK id or name.")
@click.option("--queue", type=click.IntRange(0, 1023), help="Only this queue [all].")
@click.option("--direction", type=click.Choice(list(DIRECTIONS)), default="both", show_default=True,
              help="Packets received, sent, or both.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="Stop after N packets [until Ctrl-C, like tcpdump].")
@click.option("--duration", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop after this long even if fewer than N came.")
@click.option("-w", "--write", "path", required=True, type=click.Path(dir_okay=False),
              metavar="FILE", help="Where to write (FILE.pcapng: pcapng).")
@click.option("--format", "fmt", type=click.Choice(["pcap", "pcapng"]),
              help="File format [pcapng for a .pcapng FILE, else pcap].")
@click.option("-f", "--filter", "expression", metavar="EXPR",
              help="Keep only packets matching this tcpdump filter, e.g. 'udp port 53'.")
@json_option
def capture(instance, port_spec, queue, direction, count, duration, path, fmt, expression, as_json):
    """Capture packets of a running instance's port without stopping it (DPDK pdump).

    Runs until --count packets, --duration, or Ctrl-C; prints how many were
    written and how many the capture could not keep up with."""
    instance = instance_name(instance)
    try:
        wanted = Filter(expression) if expression else None
    except FilterError as exc:
        raise click.UsageError(str(exc)) from None
    check_instance(instance)
    try:
        # SIGHUP too: a dropped SSH session ends the capture cleanly
        with Signals((signal.SIGINT, signal.SIGTERM, signal.SIGHUP)) as signals, \
                Eal(attach_to(instance), verbose=verbose()):
            with Capture(int(port_spec) if port_spec.isdigit() else port_spec, queue, direction) as cap:
                with writer_for(path, fmt) as writer:
                    written = capture_to(writer, cap, count, duration, signals,
                                         wanted.matches if wanted else None)
                missed = cap.missed()
    except DpfwdError as exc:
        raise DataPlaneFailed(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"written": written, "missed": missed, "file": path}))
    else:
        click.echo(f"{written} packets written to {path}"
                   + (f"; {missed} not captured (capture slower than traffic)" if missed else ""), err=True)
