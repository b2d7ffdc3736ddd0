"""dpfwd status / stats / ports: read a running instance through telemetry."""
import itertools
import json
import time

import click

from ..telemetry import NotRunning, Telemetry, read_info, read_ports, read_stats
from .errors import EXIT_NOT_RUNNING

COUNTER_COLUMNS = ("rx", "tx", "tx_dropped", "oversize", "rx_bytes", "tx_bytes", "bursts", "empty_polls",
                   "idle_ns")


class InstanceNotRunning(click.ClickException):
    exit_code = EXIT_NOT_RUNNING


def reader_options(fn):
    fn = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(fn)
    fn = click.option("--instance", default="dpfwd", show_default=True, metavar="NAME",
                      help="Which instance (its EAL file prefix).")(fn)
    return fn


def connect(instance):
    try:
        return Telemetry(instance)
    except NotRunning as exc:
        raise InstanceNotRunning(str(exc)) from None


def si(value, unit=""):
    for factor, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:.0f} {unit}".rstrip()


def duration(seconds):
    seconds = int(seconds)
    d, rem = divmod(seconds, 86400)
    h, rem = divmod(rem, 3600)
    m, s = divmod(rem, 60)
    return (f"{d}d" if d else "") + (f"{h}h" if d or h else "") + f"{m}m{s:02d}s"


def status_lines(info, ports, stats):
    pools = ", ".join(f"{name} {p['in_use']}/{p['size']} in use" for name, p in info["mempools"].items())
    lines = [
        f"dpfwd {info['version']} ({info['dpdk_version']}), instance {info['instance']}: "
        f"{'forwarding' if info['forwarding'] else 'stopped'} in {info['mode']} mode, idle policy "
        f"{info.get('idle', '?')}, up {duration(info['uptime_s'])}",
        f"lcores {', '.join(map(str, info['lcores']))}; mempools: {pools or 'none'}; "
        f"hugepage memory {si(info['hugepage_used_bytes'], 'B')} used of {si(info['hugepage_bytes'], 'B')}",
    ]
    for p in ports:
        c = stats["ports"].get(p["id"], {})
        link = f"up {p['link_speed_mbps']} Mb/s" if p["link_up"] else "DOWN"
        lines.append(f"port {p['id']} {p['name']} ({p['mac']}) link {link}, peer {p['peer']}: "
                     f"rx {c.get('rx', 0)} tx {c.get('tx', 0)} dropped {c.get('tx_dropped', 0)}")
    return lines


@click.command()
@reader_options
def status(instance, as_json):
    """Is the instance forwarding: version, mode, uptime, memory, ports, totals."""
    with connect(instance) as tm:
        try:
            info, ports, stats = read_info(tm), read_ports(tm), read_stats(tm)
        except NotRunning as exc:
            raise InstanceNotRunning(str(exc)) from None
    if as_json:
        click.echo(json.dumps({"info": info, "ports": ports, "stats": stats}))
    else:
        click.echo("\n".join(status_lines(info, ports, stats)))


@click.command()
@reader_options
def ports(instance, as_json):
    """The instance's ports: name, MAC, link, queues, peer, NUMA node."""
    with connect(instance) as tm:
        try:
            found = read_ports(tm)
        except NotRunning as exc:
            raise InstanceNotRunning(str(exc)) from None
    if as_json:
        click.echo(json.dumps(found))
        return
    click.echo(f"{'port':<5}{'name':<22}{'mac':<19}{'link':<14}{'queues':<8}{'peer':<5}{'node':<5}driver")
    for p in found:
        link = f"up {p['link_speed_mbps']}M" if p["link_up"] else "down"
        click.echo(f"{p['id']:<5}{p['name'][:21]:<22}{p['mac']:<19}{link:<14}"
                   f"{p['rx_queues']}/{p['tx_queues']:<6}{p['peer']:<5}{p['socket']:<5}{p['driver']}")


def stats_table(stats):
    lines = [f"{'port':<6}" + "".join(f"{c:>16}" for c in COUNTER_COLUMNS)]
    for pid, c in sorted(stats["ports"].items()):
        lines.append(f"{pid:<6}" + "".join(f"{c[k]:>16}" for k in COUNTER_COLUMNS))
    for lid, c in sorted(stats["lcores"].items()):
        lines.append(f"{'lc' + str(lid):<6}" + "".join(f"{c[k]:>16}" for k in COUNTER_COLUMNS))
    return "\n".join(lines)


def rates(prev, cur):
    """Per-port rates between two /dpfwd/stats readings, from the data plane's own clock."""
    dt = cur["elapsed_seconds"] - prev["elapsed_seconds"]
    out = {}
    for pid, c in cur["ports"].items():
        p = prev["ports"].get(pid, c)
        per_s = (lambda k: (c[k] - p[k]) / dt) if dt > 0 else (lambda k: 0.0)
        out[pid] = {"rx_pps": per_s("rx"), "tx_pps": per_s("tx"), "rx_bps": 8 * per_s("rx_bytes"),
                    "tx_bps": 8 * per_s("tx_bytes"), "drops_per_s": per_s("tx_dropped")}
    return out


def watch_table(instance, cur, rate):
    from rich.table import Table
    table = Table(title=f"dpfwd {instance}: forwarding for {duration(cur['elapsed_seconds'])}")
    for col in ("port", "rx pps", "tx pps", "rx bit/s", "tx bit/s", "drops/s", "rx total",
                "tx total", "dropped total"):
        table.add_column(col, justify="right")
    for pid, c in sorted(cur["ports"].items()):
        r = rate.get(pid, {})
        table.add_row(str(pid), si(r.get("rx_pps", 0)), si(r.get("tx_pps", 0)), si(r.get("rx_bps", 0), "b"),
                      si(r.get("tx_bps", 0), "b"), si(r.get("drops_per_s", 0)), str(c["rx"]), str(c["tx"]),
                      str(c["tx_dropped"]))
    return table


def watch(tm, interval, count):
    from rich.live import Live
    prev = read_stats(tm)
    with Live(watch_table(tm.instance, prev, {}), auto_refresh=False) as live:
        for _ in itertools.count() if count is None else range(count):
            time.sleep(interval)   # the refresh period of a display, not a synchronisation
            cur = read_stats(tm)
            live.update(watch_table(tm.instance, cur, rates(prev, cur)), refresh=True)
            prev = cur


@click.command()
@reader_options
@click.option("--watch", "watching", is_flag=True, help="A live table of rates, refreshed in place.")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=1.0, show_default=True,
              metavar="S", help="Refresh period of --watch.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="With --watch: stop after N refreshes [until Ctrl-C].")
def stats(instance, as_json, watching, interval, count):
    """Counters per port and lcore; with --watch, live pps, bit/s and drops."""
    with connect(instance) as tm:
        try:
            if watching:
                try:
                    watch(tm, interval, count)
                except KeyboardInterrupt:
                    return
            current = read_stats(tm)
        except NotRunning as exc:
            raise InstanceNotRunning(str(exc)) from None
    click.echo(json.dumps(current) if as_json else stats_table(current))
