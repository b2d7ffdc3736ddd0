"""dpfwd doctor: check the host (and a config) before forwarding."""
import json
import os
import sys

import click

from .. import config as cfg
from .. import doctor, stale
from ..host import Host
from ..plan import make_plan
from .options import json_option


class CannotCheck(click.UsageError):
    """The doctor could not look at all: exit 3, as monitoring plugins say 'unknown'."""
    exit_code = doctor.UNKNOWN


def load_config(path, host):
    """(Config or None, findings about the config file): the config check's
    verdict, what only a plan can tell included (a NIC's mempool too small)."""
    if not path:
        return None, []
    try:
        config = cfg.load(path)
        make_plan(config, host)
        return config, [doctor.Finding("config", doctor.OK, f"{path} is valid")]
    except cfg.ConfigUnreadable as exc:
        return None, [doctor.Finding("config", doctor.FAIL, str(exc), "give a readable file to --config")]
    except cfg.ConfigError as exc:
        return None, [doctor.Finding("config", doctor.FAIL, "; ".join(exc.errors),
                                     f"dpfwd config check {path} shows each error")]


class DoctorCommand(click.Command):
    """Usage errors exit 3 ('could not check'), not click's 2, which here means 'failures'."""

    def parse_args(self, ctx, args):
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise CannotCheck(exc.format_message(), ctx) from None


@click.command(cls=DoctorCommand)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also check what this config needs: its NICs, memory and lcores.")
@json_option
@click.option("--clean", is_flag=True,
              help="First remove DPDK hugepage files and runtime directories whose process is gone "
                   "(and that are over a minute old).")
@click.option("--only-failures", is_flag=True,
              help="Print only the failures, and exit 0 unless there are some (for deploy checks).")
@click.option("--root", default="/", show_default=True, metavar="DIR",
              help="Read /sys and /proc under this directory (a tree captured from another host).")
def doctor_command(config_path, as_json, clean, only_failures, root):
    """Check this host is ready to forward: hugepages, hugetlbfs, stale DPDK
    files, IOMMU, vfio, each configured NIC, NUMA placement, memlock, DPDK.
    Read-only unless --clean. Exit 0 all ok, 1 warnings, 2 failures, 3 could
    not check (bad usage, unreadable --root)."""
    if not os.path.isdir(os.path.join(root, "proc")) or not os.path.isdir(os.path.join(root, "sys")):
        raise CannotCheck(f"--root {root}: no readable proc/ and sys/ under it; give / or a tree "
                          "captured with lab/capture-host.py")
    host = Host(root)
    live = root == "/"
    min_age = stale.LIVE_MIN_AGE if live else 0
    removed = stale.clean(host, min_age) if clean else []
    config, findings = load_config(config_path, host)
    findings += doctor.examine(host, config, ssh_connection=host.ssh_connection(),
                               euid=os.geteuid(),
                               links=doctor.link_states(config) if live and config is not None else {},
                               user=doctor.service_user() if live else False, min_age=min_age)
    if only_failures:
        findings = [f for f in findings if f.status == doctor.FAIL]
    if as_json:
        click.echo(json.dumps(dict(doctor.as_dict(findings), removed=removed), indent=2))
    else:
        for path in removed:
            click.echo(f"removed {path}")
        for finding in findings:
            click.echo(finding.line())
    sys.exit(doctor.SEVERITY[doctor.worst(findings)])
