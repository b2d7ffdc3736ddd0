"""The dpfwd CLI: exit codes, one-line errors, no tracebacks, clean shutdown."""
import json
import os
import signal
import subprocess

import pytest

from lab.dpfwd_process import Dpfwd, dpfwd_command
from snapshots import check_snapshot

NULL_PAIR = ["--vdev", "net_null0", "--vdev", "net_null1"]


def dpfwd(*args, timeout=60):
    return subprocess.run(dpfwd_command() + list(args), capture_output=True, text=True,
                          timeout=timeout)


def assert_clean_error(proc, code, text):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert text in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_config_check_ok(tmp_path):
    f = tmp_path / "ok.yaml"
    f.write_text("ports: [{vdev: net_null0}, {interface: veth1}]\n")
    proc = dpfwd("config", "check", str(f))
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok")


def test_config_check_warns_but_passes_a_small_mempool(tmp_path):
    f = tmp_path / "small.yaml"
    f.write_text("ports: [{vdev: net_null0, rx_descriptors: 4096}, {vdev: net_null1, rx_descriptors: 4096}]\n")
    proc = dpfwd("config", "check", str(f))
    assert (proc.returncode, proc.stdout.strip()) == (0, "ok")
    assert "warning: mempool.mbufs: 8192 is fewer than the 10816" in proc.stderr


def test_config_check_lists_errors_and_exits_1(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("ports: [{vdev: net_null0, rx_descriptors: 100}, {vdev: net_null1, mtu: 0}]\n")
    proc = dpfwd("config", "check", str(f))
    assert_clean_error(proc, 1, "error: ports[0].rx_descriptors: 100 is not a power of two between 64 and 4096")
    assert "error: ports[1].mtu: 0 is not an integer between 68 and 9000" in proc.stderr


def test_config_check_bad_yaml_exits_1(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("ports: [\n")
    assert_clean_error(dpfwd("config", "check", str(f)), 1, "not valid YAML")


def test_config_check_unreadable_exits_3(tmp_path):
    assert_clean_error(dpfwd("config", "check", str(tmp_path / "nope.yaml")), 3,
                       "cannot read the config file (No such file or directory)")


def test_run_without_ports_is_a_usage_error():
    assert_clean_error(dpfwd("run"), 2, "nothing to forward")


def test_run_with_config_and_ports_is_a_usage_error(tmp_path):
    assert_clean_error(dpfwd("run", "--config", str(tmp_path / "c.yaml"), *NULL_PAIR), 2, "not both")


def test_run_bad_option_value_is_a_usage_error():
    assert_clean_error(dpfwd("run", *NULL_PAIR, "--burst", "0"), 2, "--burst")


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
