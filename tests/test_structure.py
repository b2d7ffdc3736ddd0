"""The structure holds: each fact once, pure layers, CLI conventions. These
need no DPDK, except the last two, which start it."""
import json
import os
import pathlib
import re
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from dpfwd import facts
from dpfwd.cli import main
from lab.dpfwd_process import dpfwd as run_dpfwd

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "appliance" / "dpfwd"
FIXTURES = ROOT / "tests" / "fixtures" / "hosts"


def test_the_header_lists_are_what_python_sees():
    header = (ROOT / "native" / "dpfwd.h").read_text()
    listed = re.findall(r"^\tX\((\w+), ", header.split("DPFWD_COUNTER_LIST(X)")[1].split("\n\n")[0], re.M)
    assert list(facts.COUNTER_NAMES) == listed
    modes = re.findall(r'X\(\w+, "(\w+)"', header.split("DPFWD_MODE_LIST(X)")[1].split("\n\n")[0])
    idle = re.findall(r'X\(\w+, "(\w+)"', header.split("DPFWD_IDLE_LIST(X)")[1].split("\n\n")[0])
    assert (list(facts.MODES), list(facts.DATAPLANE_IDLE)) == (modes, idle)
    assert all(c.help and c.metric and c.scale >= 1 for c in facts.COUNTERS)
    assert facts.RECEIVED == "rx" and facts.MAX_BURST == 512


def test_no_python_module_spells_a_counter_or_a_mode():
    """Counter and mode names live in native/dpfwd.h; Python takes them from dpfwd.facts."""
    names = [c for c in facts.COUNTER_NAMES if len(c) > 2] + ["macswap"]
    spelled = re.compile(r"""["'](%s)["']""" % "|".join(names))
    offenders = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
                 for p in sorted(PACKAGE.rglob("*.py"))
                 for n, line in enumerate(p.read_text().splitlines(), 1) if spelled.search(line)]
    assert offenders == []


def test_config_plan_and_config_check_load_no_dpdk_library(tmp_path):
    """A build host, or an operator's laptop, checks configs without DPDK."""
    (tmp_path / "c.yaml").write_text("ports: [{vdev: net_null0}, {pci: '03:00.0'}]\n")
    code = ("import sys, dpfwd.config, dpfwd.plan; from dpfwd.cli import main;"
            f"main(['config', 'check', '{tmp_path}/c.yaml'], standalone_mode=False);"
            "maps = open('/proc/self/maps').read();"
            "print('librte_' in maps, 'dpfwd._native' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["ok", "False", "False"]


def walk(command, path=("dpfwd",)):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            yield from walk(command.get_command(ctx, name), path + (name,))


def test_every_option_has_help_and_every_reader_speaks_json():
    missing = [f"{' '.join(path)} {opt.opts[0]}" for path, cmd in walk(main) for opt in cmd.params
               if isinstance(opt, click.Option) and not opt.help and not opt.hidden]
    assert missing == []
    commands = [" ".join(path) for path, cmd in walk(main) if not isinstance(cmd, click.Group)]
    without_json = [" ".join(path) for path, cmd in walk(main)
                    if not isinstance(cmd, click.Group) and "as_json" not in [p.name for p in cmd.params]]
    assert len(commands) == 8 and without_json == []


@pytest.mark.parametrize("how", [["--instance", "nobody_a"], ["env"]])
def test_the_instance_comes_from_the_root_group_or_the_environment(how):
    args = (how if how != ["env"] else []) + ["status"]
    env = {"DPFWD_INSTANCE": "nobody_a"} if how == ["env"] else {}
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 5 and "no dpfwd instance 'nobody_a'" in result.output
    # a command's own --instance wins
    result = CliRunner().invoke(main, args + ["--instance", "nobody_b"], env=env)
    assert "'nobody_b'" in result.output


def test_doctor_could_not_check_is_3_not_a_verdict(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["doctor", "--root", str(tmp_path)]).exit_code == 3
    assert runner.invoke(main, ["doctor", "--no-such-option"]).exit_code == 3
    verdict = runner.invoke(main, ["doctor", "--root", str(FIXTURES / "guest"), "--json"])
    assert verdict.exit_code in (0, 1, 2) and json.loads(verdict.output)["status"]


def test_config_check_json(tmp_path):
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("ports: [{vdev: net_null0}, {vdev: net_null1}]\nmempool: {mbufs: 1024}\n")
    bad.write_text("ports: [{vdev: net_null0}]\n")
    ok = CliRunner().invoke(main, ["config", "check", "--json", str(good)])
    assert ok.exit_code == 0 and json.loads(ok.output)["valid"] is True
    assert "mempool.mbufs" in json.loads(ok.output)["warnings"][0]
    no = CliRunner().invoke(main, ["config", "check", "--json", str(bad)])
    assert no.exit_code == 1 and json.loads(no.output)["errors"][0] == "ports: has 1 ports; give between 2 and 32"


# -- with DPDK ------------------------------------------------------------------

@pytest.mark.dataplane
def test_dpdk_notices_only_with_verbose(dpdk_host):
    from dpfwd import Eal
    quiet = run_dpfwd("run", "--vdev", "net_null0", "--vdev", "net_null1", "--duration", "0.2",
                      "--instance", "t_quiet")
    loud = run_dpfwd("-v", "run", "--vdev", "net_null0", "--vdev", "net_null1", "--duration", "0.2",
                     "--instance", "t_loud")
    assert quiet.returncode == loud.returncode == 0
    assert "EAL:" not in quiet.stderr and "TELEMETRY:" not in quiet.stderr
    assert "EAL: Detected" in loud.stderr
    # DPDK 22.11 says this on every start (24.11 no more); the other shows where a page size has none
    assert "No legacy callbacks" not in quiet.stderr and "kB hugepages reported on node" not in quiet.stderr
    if Eal.version().startswith("DPDK 22.11"):
        assert "No legacy callbacks" in loud.stderr


@pytest.mark.dataplane
def test_a_port_that_does_not_come_up_says_why(dpdk_host):
    proc = run_dpfwd("run", "--interface", "nosuchif0", "--vdev", "net_null1", "--instance", "t_noif")
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error) == 1 and "could not open interface nosuchif0" in error[0]
    assert "DPDK said: " in error[0] and "SIOCGIFINDEX" in error[0]
    assert "log above" not in proc.stderr


def test_man_page_covers_every_command_and_option():
    from dpfwd.cli.manpage import render
    page = render()
    assert page.startswith(".TH DPFWD 1")
    for path, cmd in walk(main):
        if not isinstance(cmd, click.Group):
            assert f'.SS "{" ".join(path)} ' in page
        for opt in cmd.params:
            if isinstance(opt, click.Option):
                assert opt.opts[-1].replace("-", "\\-") in page, (path, opt.opts)
    checked = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z"], input=page, capture_output=True,
                             text=True)
    assert checked.returncode == 0 and checked.stderr == ""


def test_bash_completion_completes_commands_and_choices():
    def complete(*words):
        env = dict(os.environ, _DPFWD_COMPLETE="bash_complete", COMP_WORDS=" ".join(("dpfwd",) + words),
                   COMP_CWORD=str(len(words)))
        return [line.split(",", 1)[1] for line in run_dpfwd(env=env).stdout.splitlines()]
    assert complete("st") == ["stats", "status"]
    assert complete("run", "--mode", "") == list(facts.MODES)
    assert complete("run", "--idle", "") == list(facts.IDLE_POLICIES)


def test_the_role_offers_every_config_key_and_the_header_choices():
    import yaml
    specs = yaml.safe_load((ROOT / "roles/dpfwd/meta/argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert options["dpfwd_mode"]["choices"] == list(facts.MODES)
    assert options["dpfwd_idle"]["choices"] == list(facts.IDLE_POLICIES)
    template = (ROOT / "roles/dpfwd/vars/main.yml").read_text()
    import dataclasses
    from dpfwd import config as cfg
    keys = {"eal": ["instance", "memory", "args", "lcores", "memory_mb"], "mempool": ["mbufs", "cache"],
            "forwarding": ["mode", "idle", "burst", "sleep_max_us", "residence", "link_propagation"], "metrics": ["listen", "allow_remote"]}
    for section, names in keys.items():
        for key in names:
            assert f"'{key}'" in template, (section, key)
    assert {"'ports'", "'pairs'"} <= {w for w in re.findall(r"'\w+'", template)}
    # every top-level Config field is one of those keys
    fields = {f.name for f in dataclasses.fields(cfg.Config)}
    assert fields == {"ports", "pairs", "instance", "lcores", "memory", "memory_mb", "eal_args", "mbufs",
                      "cache", "mode", "burst", "idle", "sleep_max_us", "residence", "link_propagation", "metrics_listen",
                      "metrics_allow_remote"}


def test_the_readme_snapshot_example_fits_the_schema():
    import jsonschema
    from snapshots import SCHEMA
    readme = (ROOT / "README.md").read_text()
    example = json.loads(readme.split("```json\n", 1)[1].split("```", 1)[0])
    jsonschema.validate(example, SCHEMA)


def test_signals_are_flags_and_a_pipe_never_a_lock():
    """The run loop's signal handling: a flag and a byte in a pipe. (It was
    a threading.Event, whose set() in a handler can deadlock against the
    wait() it interrupts: a fuzzed reload once hung the forwarder that way.)"""
    import signal
    import threading
    import time
    from dpfwd.service import Signals
    with Signals() as sig:
        os.kill(os.getpid(), signal.SIGHUP)
        sig.wait(5)
        assert sig.take_reload() and not sig.take_reload() and not sig.stop

        def storm():
            for _ in range(3000):
                os.kill(os.getpid(), signal.SIGHUP)
        sender = threading.Thread(target=storm)
        sender.start()
        reloads, deadline = 0, time.monotonic() + 60
        while time.monotonic() < deadline:
            done = not sender.is_alive()
            sig.wait(0.001)
            reloads += sig.take_reload()
            if done:
                break
        sender.join(timeout=5)
        assert not sender.is_alive() and reloads > 0
        os.kill(os.getpid(), signal.SIGTERM)
        sig.wait(5)
        assert sig.stop
