"""The dpfwd CLI: exit codes, one-line errors, no tracebacks, clean shutdown."""
import json
import os
import signal

import pytest
from click.testing import CliRunner

from dpfwd.cli import main
from lab.dpfwd_process import Dpfwd, dpfwd
from snapshots import check_snapshot

NULL_PAIR = ["--vdev", "net_null0", "--vdev", "net_null1"]


def assert_clean_error(proc, code, text):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def cli(*args):
    """The CLI in-process, through click's CliRunner, for what needs no DPDK:
    (exit code, output lines, stdout and stderr together)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output.splitlines()


def test_config_check_ok(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("ports: [{vdev: net_null0}, {interface: veth1}]\n")
    assert cli("config", "check", f) == (0, ["ok"])


def test_config_check_warns_but_passes_a_small_mempool(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text("ports: [{vdev: net_null0, rx_descriptors: 4096}, {vdev: net_null1, rx_descriptors: 4096}]\n")
    code, lines = cli("config", "check", f)
    assert code == 0 and "ok" in lines
    assert any(line.startswith("warning: mempool.mbufs: 8192 is fewer than the 10816") for line in lines)


def test_config_check_lists_errors_and_exits_1(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("ports: [{vdev: net_null0, rx_descriptors: 100}, {vdev: net_null1, mtu: 0}]\n")
    assert cli("config", "check", f) == (1, [
        "error: ports[0].rx_descriptors: 100 is not a power of two between 64 and 4096",
        "error: ports[1].mtu: 0 is not an integer between 68 and 9000"])


def test_config_check_bad_yaml_exits_1(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("ports: [\n")
    code, lines = cli("config", "check", f)
    assert code == 1 and len(lines) == 1 and "not valid YAML" in lines[0]


def test_config_check_unreadable_exits_3(tmp_path):
    code, lines = cli("config", "check", tmp_path / "nope.yaml")
    assert code == 3 and "cannot read the config file (No such file or directory)" in lines[0]


def test_run_without_ports_is_a_usage_error():
    code, lines = cli("run")
    assert code == 2 and "nothing to forward" in lines[-1]


def test_run_with_config_and_ports_is_a_usage_error(tmp_path):
    code, lines = cli("run", "--config", tmp_path / "c.yaml", *NULL_PAIR)
    assert code == 2 and "not both" in lines[-1]


def test_run_bad_option_value_is_a_usage_error():
    code, lines = cli("run", *NULL_PAIR, "--burst", "0")
    assert code == 2 and "--burst" in lines[-1]


def test_the_installed_command_fails_in_one_line_too(tmp_path):
    """The same errors through the real entry point: no traceback, exit codes kept."""
    assert_clean_error(dpfwd("config", "check", tmp_path / "nope.yaml"), 3, "cannot read the config file")
    assert_clean_error(dpfwd("run"), 2, "nothing to forward")


def test_run_bad_vdev_is_an_invalid_config():
    assert_clean_error(dpfwd("run", "--vdev", "null0", "--vdev", "net_null1"), 1,
                       "ports[0].vdev: 'null0' is not a DPDK vdev")


def test_ports_number_in_the_order_given(dpdk_host):
    proc = dpfwd("run", "--vdev", "net_null1", "--vdev", "net_null0", "--count", "1000",
                 "--json", "--instance", "t_order")
    assert proc.returncode == 0, proc.stderr
    assert [p["name"] for p in json.loads(proc.stdout)["ports"]] == ["net_null1", "net_null0"]


def test_data_plane_failure_exits_4(dpdk_host, tmp_path):
    proc = dpfwd("run", "--vdev", f"net_pcap0,rx_pcap={tmp_path}/missing.pcap", "--vdev", "net_null1",
                 "--instance", "t_fail", "--duration", "1")
    assert_clean_error(proc, 4, "Error: ")


def test_table_output_has_counters_and_rate(dpdk_host):
    proc = dpfwd("run", *NULL_PAIR, "--duration", "0.5", "--instance", "t_table")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split()[:4] == ["port", "name", "rx", "tx"]
    assert int(lines[1].split()[2]) > 0
    assert "Mpps received" in lines[-1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_by_signal_exits_0_within_2s_leaving_no_hugepage_files(dpdk_host, sig):
    prefix = f"t_stop{int(sig)}_{os.getpid()}"
    run = Dpfwd([*NULL_PAIR, "--memory", "hugepages", "--instance", prefix, "--json"])
    mine = lambda: [f for f in os.listdir("/dev/hugepages") if f.startswith(prefix)]  # noqa: E731
    try:
        assert mine(), "shared hugepage memory keeps its files while running"
        code, out, seconds = run.stop(sig)
    finally:
        run.kill()
    assert code == 0 and seconds < 2.0
    snap = check_snapshot(json.loads(out))
    assert snap["ports"][0]["rx"] > 0 and snap["elapsed_seconds"] > 0
    assert mine() == []


def test_several_pairs_queues_and_lcores_all_forward(dpdk_host, tmp_path):
    """Two pairs, two queues per port, two forwarding lcores (2 and 1 share CPU 1)."""
    ports = "".join(f"  - {{vdev: net_null{i}, rx_queues: 2, tx_queues: 2}}\n" for i in range(4))
    (tmp_path / "multi.yaml").write_text(
        "eal: {lcores: '0,1,2@1', instance: t_multi}\nports:\n" + ports + "pairs: [[0, 1], [2, 3]]\n")
    proc = dpfwd("run", "--config", str(tmp_path / "multi.yaml"), "--count", "4000000", "--json",
                 "--duration", "20")
    assert proc.returncode == 0, proc.stderr
    snap = check_snapshot(json.loads(proc.stdout))
    assert [lc["lcore"] for lc in snap["lcores"]] == [1, 2]
    assert all(lc["rx"] > 0 for lc in snap["lcores"])
    assert sum(lc["rx"] for lc in snap["lcores"]) == sum(p["rx"] for p in snap["ports"])
    for port in snap["ports"]:
        assert [q["queue"] for q in port["queues"]] == [0, 1]
        assert all(q["rx"] > 0 and q["tx"] > 0 for q in port["queues"])
        assert port["rx"] == sum(q["rx"] for q in port["queues"])


DIFF_BASE = "ports: [{vdev: net_null0, dest_mac: '02:00:00:00:00:07'}, {vdev: net_null1}]\n"


@pytest.mark.parametrize("change, action, names", [
    ("", "none", []),
    ("forwarding: {burst: 64, idle: busy, link_propagation: false}\n", "reload",
     ["forwarding.burst", "forwarding.idle", "forwarding.link_propagation"]),
    ("forwarding: {mode: mac}\nmempool: {mbufs: 16384}\n", "restart", ["mempool.mbufs", "forwarding.mode"]),
])
def test_config_diff_says_what_applies_live(tmp_path, change, action, names):
    (tmp_path / "old.yaml").write_text(DIFF_BASE)
    (tmp_path / "new.yaml").write_text(DIFF_BASE + change)
    code, lines = cli("config", "diff", "--json", tmp_path / "old.yaml", tmp_path / "new.yaml")
    assert code == 0, lines
    out = json.loads(lines[0])
    assert out["action"] == action and sorted(c["name"] for c in out["changes"]) == sorted(names)
    live = {c["name"]: c["live"] for c in out["changes"]}
    assert all(live[n] for n in names if n.startswith("forwarding.")) and not live.get("mempool.mbufs", False)
    _, text = cli("config", "diff", tmp_path / "old.yaml", tmp_path / "new.yaml")
    assert text[-1] == action
    if action == "reload":
        assert "forwarding.burst: 32 -> 64 (live)" in text


def test_config_diff_names_a_live_mac_and_refuses_bad_files(tmp_path):
    (tmp_path / "old.yaml").write_text(DIFF_BASE)
    (tmp_path / "new.yaml").write_text(DIFF_BASE.replace("07", "08"))
    proc = dpfwd("config", "diff", tmp_path / "old.yaml", tmp_path / "new.yaml")
    assert proc.stdout.splitlines() == ['ports[0].dest_mac: "02:00:00:00:00:07" -> "02:00:00:00:00:08" (live)',
                                        "reload"]
    assert_clean_error(dpfwd("config", "diff", tmp_path / "old.yaml", tmp_path / "missing.yaml"), 2,
                       "does not exist")
    (tmp_path / "bad.yaml").write_text("ports: 3\n")
    assert_clean_error(dpfwd("config", "diff", tmp_path / "old.yaml", tmp_path / "bad.yaml"), 1, "ports")
