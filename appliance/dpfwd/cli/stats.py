"""dpfwd stats: counters of a running instance, once or as a live table."""
import itertools
import json
import time

import click

from .. import facts
from ..telemetry import read_ports, read_stats, read_xstats
from .options import connect, instance_option, json_option, reading
from .tables import counters_table, duration, rate_text, rates, xstats_table


def watch_table(instance, cur, rate, ports):
    from rich.table import Table
    table = Table(title=f"dpfwd {instance}: forwarding for {duration(cur['elapsed_seconds'])}")
    per_second = [c.name for c in facts.COUNTERS if c.summary] + ["lost"]
    totals = [c.name for c in facts.COUNTERS if c.summary and c.unit == "packets"] + ["lost"]
    # the link now, and in brackets how often it changed
    up = {p["index"]: "up" if p["link_up"] else "DOWN" for p in ports}
    for col in ["port link"] + [f"{name}/s" for name in per_second] + \
            [f"{name} total" for name in totals]:
        table.add_column(col, justify="right")
    for p in cur["ports"]:
        r = rate.get(p["index"], {})
        table.add_row(f"{p['index']} {up.get(p['index'], '?')} ({p[facts.LINK_CHANGES]})",
                      *(rate_text(name, r.get(name, 0.0)) for name in per_second),
                      *(str(facts.lost(p) if name == "lost" else p[name]) for name in totals))
    return table


def watch(tm, interval, count):
    from rich.live import Live
    prev, ports = read_stats(tm), read_ports(tm)
    with Live(watch_table(tm.instance, prev, {}, ports), auto_refresh=False) as live:
        for _ in itertools.count() if count is None else range(count):
            time.sleep(interval)   # the refresh period of a display, not a synchronisation
            cur, ports = read_stats(tm), read_ports(tm)
            live.update(watch_table(tm.instance, cur, rates(prev, cur), ports), refresh=True)
            prev = cur


@click.command()
@instance_option
@json_option
@click.option("--watch", "watching", is_flag=True, help="A live table of rates, refreshed in place.")
@click.option("--interval", type=click.FloatRange(0.1, 3600), default=1.0, show_default=True,
              metavar="S", help="Refresh period of --watch.")
@click.option("--count", type=click.IntRange(min=1), metavar="N",
              help="With --watch: stop after N refreshes [until Ctrl-C].")
@click.option("--xstats", "extended", is_flag=True,
              help="The NICs' extended stats (DPDK xstats) instead of dpfwd's counters.")
def stats(instance, as_json, watching, interval, count, extended):
    """Counters per port and lcore; with --watch, live rates and loss."""
    if watching and extended:
        raise click.UsageError("--watch and --xstats do not go together: pick one")
    with connect(instance) as tm:
        if extended:
            ports, = reading(tm, read_xstats)
            click.echo(json.dumps({"ports": ports}) if as_json else xstats_table(ports))
            return
        if watching:
            try:
                reading(tm, lambda t: watch(t, interval, count))
            except KeyboardInterrupt:
                return
        current, = reading(tm, read_stats)
    click.echo(json.dumps(current) if as_json else counters_table(current))
