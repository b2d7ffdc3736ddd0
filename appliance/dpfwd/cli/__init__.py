"""The dpfwd command line: one module per command, named after it.

Exit codes, the same for every command:

    0  success (for run: stopped cleanly by --duration, --count, SIGINT or SIGTERM)
    1  the config is invalid (each error printed as 'path: problem; fix')
    2  usage error: unknown option or bad option value
    3  the config file cannot be read
    4  the data plane failed: EAL, mempool, port or lcore setup
    5  status/stats/ports/capture: no such instance is running

except doctor, whose code is its verdict, as monitoring plugins have it:
0 all ok, 1 warnings, 2 failures, 3 could not check.
"""
import importlib
import logging

import click

from .. import __version__

# name -> (module, function). Loaded when used: `dpfwd config check` and the
# readers never load DPDK, and --help stays fast.
COMMANDS = {
    "run": ("run", "run"),
    "config": ("config", "config"),
    "status": ("status", "status"),
    "stats": ("stats", "stats"),
    "ports": ("ports", "ports"),
    "capture": ("capture", "capture"),
    "doctor": ("doctor", "doctor_command"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        return getattr(importlib.import_module(f".{module}", __name__), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dpfwd")
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages, and DPDK's notices.")
@click.option("--instance", envvar="DPFWD_INSTANCE", metavar="NAME",
              help="The instance every command talks to (EAL file prefix) [$DPFWD_INSTANCE, else dpfwd].")
@click.pass_context
def main(ctx, verbose, instance):
    """dpfwd: a DPDK bump-in-the-wire forwarder."""
    logging.basicConfig(format="dpfwd: %(levelname)s: %(message)s",
                        level=logging.DEBUG if verbose else logging.INFO)
    ctx.ensure_object(dict)
    ctx.obj.update(verbose=verbose, instance=instance)
