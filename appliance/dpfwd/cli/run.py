"""dpfwd run: forward in the foreground until told to stop."""
import json
import logging

import click

from .. import config as cfg
from .. import facts
from ..errors import DpfwdError
from ..forwarder import Forwarder
from ..service import Service, Signals, start_metrics
from .config import planned, refuse_management_ports
from .errors import ConfigInvalid, ConfigUnreadableError, DataPlaneFailed
from .options import instance_option, json_option, root_instance, verbose
from .tables import counters_table

log = logging.getLogger("dpfwd")

PORT_OPTIONS = {"--vdev": "vdev", "--pci": "pci", "--interface": "interface"}


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


def format_table(snap):
    secs = snap["elapsed_seconds"]
    received = sum(p[facts.RECEIVED] for p in snap["ports"])
    rate = f"; {received / secs / 1e6:.2f} Mpps received" if secs > 0 else ""
    return counters_table(snap) + f"\nforwarded for {secs:.2f} s in {snap['mode']} mode{rate}"


@click.command(cls=PortOrderCommand)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="YAML config (see `dpfwd config check`).")
@click.option("--vdev", multiple=True, metavar="SPEC", help="A DPDK vdev port, e.g. net_null0.")
@click.option("--pci", multiple=True, metavar="ADDR", help="A PCI port bound to vfio-pci.")
@click.option("--interface", multiple=True, metavar="IFACE",
              help="A kernel interface, opened with net_af_packet.")
@click.option("--mode", type=click.Choice(facts.MODES), help="Forwarding mode [io].")
@click.option("--burst", type=click.IntRange(1, facts.MAX_BURST), help="Packets per rx burst [32].")
@click.option("--idle", type=click.Choice(facts.IDLE_POLICIES),
              help="What forwarding lcores do when the wire is quiet [auto].")
@click.option("--residence/--no-residence", default=None,
              help="Time one burst in 32 from rx to tx (dpfwd_residence_seconds) [on].")
@click.option("--mtu", type=click.IntRange(68, 9000), help="MTU of every port [1500].")
@click.option("--lcores", metavar="LIST",
              help="EAL lcores; the first is the main one [two CPUs of the NICs' NUMA node].")
@click.option("--memory", type=click.Choice(cfg.MEMORY_MODES), help="EAL memory mode [in-memory].")
@instance_option
@click.option("--duration", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop after this long.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="Stop once N packets have been received (all ports).")
@click.option("--metrics", metavar="ADDR:PORT",
              help=f"Serve Prometheus /metrics there (e.g. {cfg.DEFAULT_METRICS_LISTEN}).")
@json_option
@click.pass_context
def run(ctx, config_path, vdev, pci, interface, mode, burst, idle, residence, mtu, lcores, memory, instance,
        duration, count, metrics, as_json):
    """Forward packets between port pairs (0<->1, 2<->3, ...) until stopped.

    Logs go to stderr; the final counters per port and the forwarding time
    go to stdout when it stops (--duration, --count, SIGINT or SIGTERM).
    SIGHUP re-reads --config: mode and MACs apply live, the rest is reported.
    """
    overrides = {("forwarding", "mode"): mode, ("forwarding", "burst"): burst, ("forwarding", "idle"): idle,
                 ("forwarding", "residence"): residence,
                 ("eal", "lcores"): lcores, ("eal", "memory"): memory,
                 ("eal", "instance"): instance or root_instance(), ("ports", "mtu"): mtu,
                 ("metrics", "listen"): metrics}

    def rebuild():
        return build_config(config_path, ports_in_order(ctx.meta.get("raw_args", [])), overrides)

    config = refuse_management_ports(rebuild())
    fwd = Forwarder(planned(config), verbose=verbose())
    with Signals() as signals:
        try:
            if config.metrics_listen:
                start_metrics(config)     # before the data plane: a taken port fails fast
            fwd.start()
            log.info("forwarding in %s", fwd.describe())   # the ready line: everything is up
            Service(fwd, signals, rebuild, duration, count).loop()
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
