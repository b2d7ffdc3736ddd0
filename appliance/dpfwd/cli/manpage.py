"""dpfwd(1), made from the click definitions, so it cannot disagree with --help.

    python -m dpfwd.cli.manpage > dpfwd.1       (the dpfwd role installs it)
"""
import inspect

import click

from .. import __version__
from . import __doc__ as CLI_DOC
from . import main


def _roff(text):
    """Text as roff: escapes, and blank lines as paragraph breaks."""
    lines = []
    for line in inspect.cleandoc(text or "").splitlines():
        line = line.replace("\\", "\\e").replace("-", "\\-")
        lines.append(".PP" if not line.strip() else "\\&" + line if line.startswith((".", "'")) else line)
    return "\n".join(lines)


def _options(cmd, ctx):
    out = []
    for param in cmd.get_params(ctx):
        record = param.get_help_record(ctx)
        if record:
            out += [".TP", f"\\fB{_roff(record[0])}\\fR", _roff(record[1])]
    return out


def _commands(group, ctx, prefix):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        sub = click.Context(cmd, info_name=name, parent=ctx)
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, sub, prefix + [name])
            continue
        usage = " ".join(cmd.collect_usage_pieces(sub))
        yield [f'.SS "{" ".join(prefix + [name])} {_roff(usage)}"', _roff(cmd.help), *_options(cmd, sub)]


def render():
    ctx = click.Context(main, info_name="dpfwd")
    exit_codes = CLI_DOC.split("Exit codes", 1)[1].split("\n", 1)[1]
    parts = [f'.TH DPFWD 1 "" "dpfwd {__version__}" "User Commands"',
             ".SH NAME", "dpfwd \\- a DPDK bump\\-in\\-the\\-wire forwarder",
             ".SH SYNOPSIS", ".B dpfwd", "[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARGS\\fR]...",
             ".SH DESCRIPTION", _roff(main.help), ".SH OPTIONS", *_options(main, ctx), ".SH COMMANDS"]
    for block in _commands(main, ctx, ["dpfwd"]):
        parts += block
    parts += [".SH EXIT STATUS", ".nf", _roff(exit_codes), ".fi",
              ".SH ENVIRONMENT", ".TP", "\\fBDPFWD_INSTANCE\\fR",
              "The instance every command talks to, unless \\-\\-instance names one.",
              ".SH FILES", ".TP", "/etc/dpfwd/dpfwd.yaml", "The appliance's config (dpfwd config check validates it).",
              ".TP", "/var/run/dpdk/\\fIINSTANCE\\fR/dpdk_telemetry.v2",
              "The telemetry socket every reader uses (/run/dpfwd/dpdk/\\fIINSTANCE\\fR/ under the service).",
              ".SH SEE ALSO", "dpdk\\-testpmd(1)"]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    click.echo(render(), nl=False)
