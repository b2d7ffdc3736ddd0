"""dpfwd config check and diff: validate a config file, and say what a
change needs, without touching DPDK."""
import json

import click

from .. import config as cfg
from ..guard import management_errors
from ..host import Host
from ..plan import differences, make_plan
from .errors import ConfigInvalid, ConfigUnreadableError
from .options import json_option


def check_file(path):
    """Validated Config, or the CLI error that says why not."""
    try:
        return cfg.load(path)
    except cfg.ConfigUnreadable as exc:
        raise ConfigUnreadableError(str(exc)) from None
    except cfg.ConfigError as exc:
        raise ConfigInvalid(exc.errors) from None


def refuse_management_ports(config):
    """config, unless a port would drive a kernel interface that carries host
    traffic (the management-NIC guard): then the CLI error naming it."""
    host = Host()
    errors = management_errors(host, config, host.ssh_connection())
    if errors:
        raise ConfigInvalid(errors)
    return config


def planned(config):
    """The plan of a valid config, or the CLI error for what only a plan can
    tell (a NIC's mempool too small for its rings)."""
    try:
        return make_plan(config)
    except cfg.ConfigError as exc:
        raise ConfigInvalid(exc.errors) from None


@click.group()
def config():
    """Work with dpfwd config files."""


@config.command()
@click.argument("file", type=click.Path(dir_okay=False))
@json_option
def check(file, as_json):
    """Validate FILE: print 'ok' (exit 0) or every error (exit 1). Warnings
    (valid, but likely to hurt) go to stderr and do not change the exit code.
    With --json: {"valid", "errors", "warnings"} on stdout, same exit codes."""
    try:
        warnings = list(planned(refuse_management_ports(check_file(file))).warnings)
    except ConfigInvalid as exc:
        if not as_json:
            raise
        click.echo(json.dumps({"valid": False, "errors": exc.errors, "warnings": []}))
        raise SystemExit(exc.exit_code) from None
    if as_json:
        click.echo(json.dumps({"valid": True, "errors": [], "warnings": warnings}))
        return
    for line in warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo("ok")


def shown(value):
    """A config value as the file spells it: MACs, lcore lists, listen addresses."""
    if isinstance(value, bytes):
        return ":".join(f"{b:02x}" for b in value)
    if hasattr(value, "text"):
        return value.text
    if isinstance(value, tuple):
        return [shown(v) for v in value]
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


@config.command()
@click.argument("old", type=click.Path(exists=True, dir_okay=False, readable=True))
@click.argument("new", type=click.Path(exists=True, dir_okay=False, readable=True))
@json_option
def diff(old, new, as_json):
    """Say, setting by setting, what changes from config OLD to NEW and
    whether it applies live (systemctl reload dpfwd) or needs a restart. The
    last line is what the change needs: 'none', 'reload' or 'restart'. Both
    files must be valid (exit 1 otherwise; 2 when one cannot be read)."""
    changes = differences(check_file(old), check_file(new))
    action = "none" if not changes else "restart" if any(not d.live for d in changes) else "reload"
    if as_json:
        click.echo(json.dumps({"action": action, "changes": [
            {"name": d.name, "old": shown(d.old), "new": shown(d.new), "live": d.live} for d in changes]}))
        return
    for d in changes:
        click.echo(f"{d.name}: {json.dumps(shown(d.old))} -> {json.dumps(shown(d.new))} "
                   f"({'live' if d.live else 'restart'})")
    click.echo(action)
