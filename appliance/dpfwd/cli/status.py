"""dpfwd status: is the instance forwarding, in one look."""
import json

import click

from .. import facts
from ..host import page_size_name
from ..idle import sleep_text
from ..telemetry import read_info, read_ports, read_stats
from .options import connect, instance_option, json_option, reading
from .tables import duration, link_text, residence_text, si, summary


def status_lines(info, ports, stats):
    pools = ", ".join(f"{name} {p['in_use']}/{p['size']} in use{pages_text(p.get('page_kb', []))}"
                      for name, p in info["mempools"].items())
    lines = [
        f"dpfwd {info['version']} ({info['dpdk_version']}), instance {info['instance']}: "
        f"{'forwarding' if info['forwarding'] else 'stopped'} in {info['mode']} mode, idle policy "
        f"{info.get('idle', '?')}, up {duration(info['uptime_s'])}",
        f"lcores {', '.join(map(str, info['lcores']))}; mempools: {pools or 'none'}; "
        f"hugepage memory {si(info['hugepage_used_bytes'], 'B')} used of {si(info['hugepage_bytes'], 'B')}",
    ]
    lines += [f"lcore {lcore} " + sleep_text(s["sleep_max_us"], s["wake_us"], s["ring_fill_us"])
              for lcore, s in sorted(info.get("sleep", {}).items())]
    counters = {p["index"]: p for p in stats["ports"]}
    for p in ports:
        c = counters.get(p["index"], {})
        lines.append(f"port {p['index']} {p['name']} ({p['mac']}) link {link_text(p)} "
                     f"({c.get(facts.LINK_CHANGES, 0)} changes), peer {p['peer']}: "
                     + summary(c) + ("; " + residence_text(c["residence"]) if "residence" in c else ""))
    return lines


def pages_text(sizes_kb):
    """' on 1 GB pages': what memory a pool's mbufs sit in."""
    names = [page_size_name(kb) for kb in sorted(sizes_kb, reverse=True)]
    return f" on {' and '.join(names)} pages" if names else ""


@click.command()
@instance_option
@json_option
def status(instance, as_json):
    """Is the instance forwarding: version, mode, uptime, memory, ports, totals."""
    with connect(instance) as tm:
        info, ports, stats = reading(tm, read_info, read_ports, read_stats)
    if as_json:
        click.echo(json.dumps({"info": info, "ports": ports, "stats": stats}))
    else:
        click.echo("\n".join(status_lines(info, ports, stats)))
