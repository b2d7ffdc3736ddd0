"""dpfwd run: forward in the foreground until told to stop."""
import json
import logging
import signal
import threading
import time

import click

from .. import config as cfg
from ..engine import Forwarder, make_plan
from ..errors import DpfwdError
from .errors import ConfigInvalid, ConfigUnreadableError, DataPlaneFailed

log = logging.getLogger("dpfwd")

PORT_OPTIONS = {"--vdev": "vdev", "--pci": "pci", "--interface": "interface"}
# How often the main thread looks at stop conditions; bounds stop latency.
POLL_SECONDS = 0.05


class PortOrderCommand(click.Command):
    """Keeps the command line so ports number in the order they were given,
    across --vdev, --pci and --interface."""

    def parse_args(self, ctx, args):
        ctx.meta["raw_args"] = list(args)
        return super().parse_args(ctx, args)


def ports_in_order(raw_args):
    ports, it = [], iter(raw_args)
    for arg in it:
        opt, eq, value = arg.partition("=")
        if opt in PORT_OPTIONS:
            ports.append({PORT_OPTIONS[opt]: value if eq else next(it, "")})
    return ports


def build_config(config_path, ports, overrides):
    """Config from a file or from the quick flags; flags override the file."""
    if config_path and ports:
        raise click.UsageError("give ports either in --config or with --vdev/--pci/--interface, not both")
    if not config_path and not ports:
        raise click.UsageError("nothing to forward: give --config FILE, or two or more "
                               "--vdev/--pci/--interface ports")
    try:
        data = cfg.read(config_path) if config_path else {"ports": ports}
        if not isinstance(data, dict):
            return cfg.validate(data)
        for (section, key), value in overrides.items():
            if value is None:
                continue
            if section == "ports":
                for port in data.get("ports") or []:
                    if isinstance(port, dict):
                        port[key] = value
            else:
                data.setdefault(section, {})
                if isinstance(data[section], dict):
                    data[section][key] = value
        return cfg.validate(data)
    except cfg.ConfigUnreadable as exc:
        raise ConfigUnreadableError(str(exc)) from None
    except cfg.ConfigError as exc:
        raise ConfigInvalid(exc.errors) from None


class StopSignals:
    """SIGINT and SIGTERM set .event instead of killing the process; installed
    before EAL starts, so a signal during setup still stops cleanly."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self):
        self.event = threading.Event()
        self._previous = {s: signal.signal(s, lambda *_: self.event.set()) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)


def wait_for_stop(stop, fwd, duration, count):
    """Block until stop is set, the duration passes, or count packets arrived."""
    deadline = time.monotonic() + duration if duration else None
    while not stop.wait(POLL_SECONDS):
        if deadline is not None and time.monotonic() >= deadline:
            break
        if count is not None and fwd.forwarded() >= count:
            break


def format_table(snap):
    cols = ("rx", "tx", "tx_dropped", "oversize", "bursts", "empty_polls")
    lines = [f"{'port':<5}{'name':<20}" + "".join(f"{c:>14}" for c in cols)]
    for p in snap["ports"]:
        lines.append(f"{p['index']:<5}{p['name'][:19]:<20}" + "".join(f"{p[c]:>14}" for c in cols))
    secs = snap["elapsed_seconds"]
    rx = sum(p["rx"] for p in snap["ports"])
    rate = f"; {rx / secs / 1e6:.2f} Mpps received" if secs > 0 else ""
    lines.append(f"forwarded for {secs:.2f} s in {snap['mode']} mode{rate}")
    return "\n".join(lines)


@click.command(cls=PortOrderCommand)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="YAML config (see `dpfwd config check`).")
@click.option("--vdev", multiple=True, metavar="SPEC", help="A DPDK vdev port, e.g. net_null0.")
@click.option("--pci", multiple=True, metavar="ADDR", help="A PCI port bound to vfio-pci.")
@click.option("--interface", multiple=True, metavar="IFACE",
              help="A kernel interface, opened with net_af_packet.")
@click.option("--mode", type=click.Choice(cfg.MODES), help="Forwarding mode [io].")
@click.option("--burst", type=click.IntRange(1, cfg.MAX_BURST), help="Packets per rx burst [32].")
@click.option("--mtu", type=click.IntRange(68, 9000), help="MTU of every port [1500].")
@click.option("--lcores", metavar="LIST", help='EAL lcores; the first is the main one ["0-1"].')
@click.option("--memory", type=click.Choice(cfg.MEMORY_MODES), help="EAL memory mode [in-memory].")
@click.option("--instance", metavar="NAME", help="Instance name, the EAL file prefix [dpfwd].")
@click.option("--duration", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="Stop once N packets have been received (all ports).")
@click.option("--json", "as_json", is_flag=True, help="Print the final counters as one JSON object.")
@click.pass_context
def run(ctx, config_path, vdev, pci, interface, mode, burst, mtu, lcores, memory, instance,
        duration, count, as_json):
    """Forward packets between port pairs (0<->1, 2<->3, ...) until stopped.

    Logs go to stderr; the final counters per port and the forwarding time
    go to stdout when it stops (--duration, --count, SIGINT or SIGTERM).
    """
    ports = ports_in_order(ctx.meta.get("raw_args", []))
    overrides = {("forwarding", "mode"): mode, ("forwarding", "burst"): burst,
                 ("eal", "lcores"): lcores, ("eal", "memory"): memory,
                 ("eal", "instance"): instance, ("ports", "mtu"): mtu}
    config = build_config(config_path, ports, overrides)
    fwd = Forwarder(make_plan(config))
    with StopSignals() as signals:
        try:
            fwd.start()
            wait_for_stop(signals.event, fwd, duration, count)
            fwd.stop()
            snap = fwd.snapshot()
        except DpfwdError as exc:
            raise DataPlaneFailed(str(exc)) from None
        finally:
            try:
                fwd.close()
            except DpfwdError as exc:
                log.warning("cleanup: %s", exc)
    click.echo(json.dumps(snap) if as_json else format_table(snap))
