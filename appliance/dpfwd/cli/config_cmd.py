"""dpfwd config check: validate a config file without touching DPDK."""
import click

from .. import config as cfg
from .errors import ConfigInvalid, ConfigUnreadableError


def check_file(path):
    """Validated Config, or the CLI error that says why not."""
    try:
        return cfg.load(path)
    except cfg.ConfigUnreadable as exc:
        raise ConfigUnreadableError(str(exc)) from None
    except cfg.ConfigError as exc:
        raise ConfigInvalid(exc.errors) from None


@click.group()
def config():
    """Work with dpfwd config files."""


@config.command()
@click.argument("file", type=click.Path(dir_okay=False))
def check(file):
    """Validate FILE: print 'ok' (exit 0) or every error (exit 1). Warnings
    (valid, but likely to hurt) go to stderr and do not change the exit code."""
    from ..engine import make_plan
    for line in make_plan(check_file(file)).warnings:
        click.echo(f"warning: {line}", err=True)
    click.echo("ok")
