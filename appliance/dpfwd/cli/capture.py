"""dpfwd capture: copy a forwarding port's packets to a pcap file, live."""
import json
import os
import signal
import time

import click

from ..capture import DIRECTIONS, READ_BURST, Capture
from ..eal import Eal
from ..host import PCI_ADDRESS
from ..runtime import instance_dir
from ..service import Signals
from ..errors import DpfwdError
from ..pcapfile import PcapWriter
from ..telemetry import Telemetry, read_ports
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


def secondary_args(instance):
    """EAL arguments to attach to instance: a secondary sees a PCI port only
    if it probes that device too, so it is given the instance's PCI ports
    (and no other device on the host)."""
    with Telemetry(instance) as tm:
        pci = [p["name"] for p in read_ports(tm) if PCI_ADDRESS.fullmatch(str(p["name"]))]
    return (["--proc-type=secondary", "--file-prefix", instance, "-l", "0"]
            + ([arg for name in pci for arg in ("-a", name)] or ["--no-pci"]))


def capture_to(writer, cap, count, duration, signals):
    """Drain the capture into writer until count packets (None: no limit),
    duration or a stop signal."""
    written, deadline = 0, (time.monotonic() + duration) if duration else None
    while (count is None or written < count) and not signals.stop:
        if deadline is not None and time.monotonic() >= deadline:
            break
        with cap.read(READ_BURST if count is None else count - written) as burst:
            if not burst:
                signals.wait(IDLE_WAIT)
                continue
            for i in range(len(burst)):
                writer.write(burst[i], orig_len=burst.packet_length(i))
            written += len(burst)
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
              metavar="FILE.pcap", help="Where to write.")
@json_option
def capture(instance, port_spec, queue, direction, count, duration, path, as_json):
    """Capture packets of a running instance's port without stopping it (DPDK pdump).

    Runs until --count packets, --duration, or Ctrl-C; prints how many were
    written and how many the capture could not keep up with."""
    instance = instance_name(instance)
    check_instance(instance)
    # Attach where the instance keeps its runtime files: EAL puts them under
    # $RUNTIME_DIRECTORY/dpdk/<prefix>, and the service's are in /run/dpfwd.
    os.environ["RUNTIME_DIRECTORY"] = os.path.dirname(os.path.dirname(instance_dir(instance)))
    try:
        with Signals((signal.SIGINT, signal.SIGTERM)) as signals, \
                Eal(secondary_args(instance), verbose=verbose()):
            with Capture(int(port_spec) if port_spec.isdigit() else port_spec, queue, direction) as cap:
                with PcapWriter(path) as writer:
                    written = capture_to(writer, cap, count, duration, signals)
                missed = cap.missed()
    except DpfwdError as exc:
        raise DataPlaneFailed(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"written": written, "missed": missed, "file": path}))
    else:
        click.echo(f"{written} packets written to {path}"
                   + (f"; {missed} not captured (capture slower than traffic)" if missed else ""), err=True)
