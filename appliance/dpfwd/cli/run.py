"""dpfwd run: forward in the foreground until told to stop."""
import json
import logging
import os
import signal
import threading
import time

import click

from .. import config as cfg
from .._native import lib
from ..engine import Forwarder, make_plan
from ..errors import DpfwdError
from ..service import Every, notify, watchdog_interval
from ..telemetry import NotRunning, Telemetry, read_stats
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


class Signals:
    """SIGINT/SIGTERM ask to stop, SIGHUP to reload; installed before EAL
    starts, so a signal during setup is still handled cleanly."""

    def __enter__(self):
        self.stop, self.reload, self.wake = threading.Event(), threading.Event(), threading.Event()

        def on_signal(signum, _frame):
            (self.reload if signum == signal.SIGHUP else self.stop).set()
            self.wake.set()
        self._previous = {s: signal.signal(s, on_signal)
                          for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        return self

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)


class Runner:
    """The main thread's life while the lcores forward: stop conditions,
    reloads, systemd notifications. Never on the packet path."""

    def __init__(self, fwd, signals, rebuild, duration, count):
        self.fwd, self.signals, self.rebuild = fwd, signals, rebuild
        self.deadline = time.monotonic() + duration if duration else None
        self.count = count
        self.status = Every(1.0)
        self.watchdog = Every(watchdog_interval())
        self.last = None

    def loop(self):
        notify("READY=1", "STATUS=forwarding")
        while True:
            self.signals.wake.wait(POLL_SECONDS)
            self.signals.wake.clear()
            if self.signals.stop.is_set():
                break
            if self.signals.reload.is_set():
                self.signals.reload.clear()
                self.reload()
            if self.deadline is not None and time.monotonic() >= self.deadline:
                break
            if self.count is not None and self.fwd.forwarded() >= self.count:
                break
            if self.watchdog.due() and lib.dpfwd_fwd_running():
                notify("WATCHDOG=1")
            if self.status.due():
                self.report_status()
        notify("STOPPING=1")

    def reload(self):
        try:
            new = self.rebuild()
        except (ConfigInvalid, ConfigUnreadableError, click.UsageError) as exc:
            log.error("reload rejected, still running the old config: %s",
                      "; ".join(getattr(exc, "errors", [exc.format_message()])))
            return
        restart = self.fwd.apply_live(new)
        if restart:
            log.warning("reload: %s changed; that needs a restart (nothing was applied)",
                        ", ".join(restart))
        else:
            log.info("reloaded: %s mode, destination MACs applied", new.mode)

    def report_status(self):
        """STATUS= line for systemctl status, from the same telemetry as every reader."""
        if not os.environ.get("NOTIFY_SOCKET"):
            return
        try:
            with Telemetry(self.fwd.config.instance) as tm:
                cur = read_stats(tm)
        except NotRunning:
            return
        if self.last is not None:
            dt = cur["elapsed_seconds"] - self.last["elapsed_seconds"]
            if dt > 0:
                total = lambda snap, k: sum(p[k] for p in snap["ports"].values())  # noqa: E731
                rate = lambda k: (total(cur, k) - total(self.last, k)) / dt  # noqa: E731
                notify(f"STATUS=forwarding {self.fwd.config.mode}: rx {rate('rx') / 1e6:.2f} Mpps, "
                       f"tx {rate('tx') / 1e6:.2f} Mpps, dropped {rate('tx_dropped'):.0f}/s")
        self.last = cur


def start_metrics(config):
    from ..metrics import serve
    try:
        serve(config.instance, config.metrics_listen)
    except OSError as exc:
        raise DataPlaneFailed(f"metrics.listen: cannot listen on {config.metrics_listen} "
                              f"({exc.strerror}); pick a free ADDR:PORT") from None
    log.info("metrics on http://%s/metrics", config.metrics_listen)


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
@click.option("--idle", type=click.Choice(cfg.IDLE_POLICIES),
              help="What forwarding lcores do when the wire is quiet [auto].")
@click.option("--mtu", type=click.IntRange(68, 9000), help="MTU of every port [1500].")
@click.option("--lcores", metavar="LIST",
              help="EAL lcores; the first is the main one [two CPUs of the NICs' NUMA node].")
@click.option("--memory", type=click.Choice(cfg.MEMORY_MODES), help="EAL memory mode [in-memory].")
@click.option("--instance", metavar="NAME", help="Instance name, the EAL file prefix [dpfwd].")
@click.option("--duration", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="Stop once N packets have been received (all ports).")
@click.option("--metrics", metavar="ADDR:PORT",
              help=f"Serve Prometheus /metrics there (e.g. {cfg.DEFAULT_METRICS_LISTEN}).")
@click.option("--json", "as_json", is_flag=True, help="Print the final counters as one JSON object.")
@click.pass_context
def run(ctx, config_path, vdev, pci, interface, mode, burst, idle, mtu, lcores, memory, instance,
        duration, count, metrics, as_json):
    """Forward packets between port pairs (0<->1, 2<->3, ...) until stopped.

    Logs go to stderr; the final counters per port and the forwarding time
    go to stdout when it stops (--duration, --count, SIGINT or SIGTERM).
    SIGHUP re-reads --config: mode and MACs apply live, the rest is reported.
    """
    overrides = {("forwarding", "mode"): mode, ("forwarding", "burst"): burst, ("forwarding", "idle"): idle,
                 ("eal", "lcores"): lcores, ("eal", "memory"): memory,
                 ("eal", "instance"): instance, ("ports", "mtu"): mtu,
                 ("metrics", "listen"): metrics}

    def rebuild():
        return build_config(config_path, ports_in_order(ctx.meta.get("raw_args", [])), overrides)

    config = rebuild()
    fwd = Forwarder(make_plan(config))
    with Signals() as signals:
        try:
            fwd.start()
            if config.metrics_listen:
                start_metrics(config)
            log.info("forwarding in %s", fwd.describe())   # the ready line: everything is up
            Runner(fwd, signals, rebuild, duration, count).loop()
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
