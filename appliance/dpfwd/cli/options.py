"""Options every command shares, written once."""
import click

from ..telemetry import NotRunning, Telemetry
from .errors import InstanceNotRunning

DEFAULT_INSTANCE = "dpfwd"


def instance_option(fn):
    """--instance on a command; it falls back to the root group's --instance
    (or $DPFWD_INSTANCE), then to the default."""
    return click.option("--instance", metavar="NAME",
                        help=f"Which instance: its EAL file prefix [$DPFWD_INSTANCE, else {DEFAULT_INSTANCE}].")(fn)


def json_option(fn):
    return click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")(fn)


def root_instance():
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().obj or {}).get("instance") if ctx else None


def instance_name(given):
    """The instance a reader command talks to."""
    return given or root_instance() or DEFAULT_INSTANCE


def verbose():
    ctx = click.get_current_context(silent=True)
    return bool(ctx and (ctx.find_root().obj or {}).get("verbose"))


def connect(instance):
    """A telemetry connection to a running instance, or the CLI's not-running error."""
    try:
        return Telemetry(instance_name(instance))
    except NotRunning as exc:
        raise InstanceNotRunning(str(exc)) from None


def reading(tm, *readers):
    """Each reader's result on tm; the CLI's not-running error if it went away."""
    try:
        return [read(tm) for read in readers]
    except NotRunning as exc:
        raise InstanceNotRunning(str(exc)) from None
