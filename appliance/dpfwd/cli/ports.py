"""dpfwd ports: the instance's ports."""
import json

import click

from ..telemetry import read_ports
from .options import connect, instance_option, json_option, reading


@click.command()
@instance_option
@json_option
def ports(instance, as_json):
    """The instance's ports: name, MAC, link, queues, peer, NUMA node."""
    with connect(instance) as tm:
        found, = reading(tm, read_ports)
    if as_json:
        click.echo(json.dumps(found))
        return
    click.echo(f"{'port':<5}{'name':<22}{'mac':<19}{'link':<14}{'queues':<8}{'peer':<5}{'node':<5}driver")
    for p in found:
        link = f"up {p['link_speed_mbps']}M" if p["link_up"] else "down"
        click.echo(f"{p['index']:<5}{p['name'][:21]:<22}{p['mac']:<19}{link:<14}"
                   f"{p['rx_queues']}/{p['tx_queues']:<6}{p['peer']:<5}{p['socket']:<5}{p['driver']}")
