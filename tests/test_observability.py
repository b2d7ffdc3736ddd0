"""A running dpfwd seen from outside: telemetry readers, /metrics, systemd, SIGHUP."""
import os
import pathlib
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

from lab.dpfwd_process import Dpfwd, dpfwd, dpfwd_command
from readers import read_json, sample, scrape, until_changed
from snapshots import check_snapshot

pytestmark = pytest.mark.dataplane
NULL_PAIR = ["--vdev", "net_null0", "--vdev", "net_null1"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def running(dpdk_host, request):
    tag = "".join(ch for ch in request.node.name if ch.isalnum())[-12:]
    name = f"t_obs_{tag}_{os.getpid()}"[:32]
    run = Dpfwd([*NULL_PAIR, "--instance", name, *getattr(request, "param", [])])
    run.instance = name
    yield run
    run.kill()


def test_stats_rise_between_reads_and_match_the_final_counters(running):
    first, second = until_changed(lambda: read_json("stats", "--instance", running.instance),
                                  lambda s: s["ports"][0]["rx"])
    check_snapshot(first)
    check_snapshot(second)
    assert second["ports"][0]["rx"] > first["ports"][0]["rx"] > 0
    assert second["elapsed_seconds"] > first["elapsed_seconds"]
    assert [(p["index"], p["name"]) for p in second["ports"]] == [(0, "net_null0"), (1, "net_null1")]
    assert second["lcores"][0]["lcore"] == 1 and second["lcores"][0]["rx"] > 0
    code, out, _ = running.stop(signal.SIGTERM)
    assert code == 0
    final_rx = int(out.splitlines()[1].split()[2])     # the table's port 0 rx
    assert final_rx >= second["ports"][0]["rx"]


def test_ports_and_status_describe_the_instance(running):
    ports = read_json("ports", "--instance", running.instance)
    assert [(p["index"], p["name"], p["peer"], p["link_up"]) for p in ports] == [
        (0, "net_null0", 1, 1), (1, "net_null1", 0, 1)]
    status = read_json("status", "--instance", running.instance)
    info = status["info"]
    assert info["instance"] == running.instance and info["mode"] == "io" and info["forwarding"] == 1
    assert info["lcores"] == [1] and info["mempools"]["dpfwd_s0"]["size"] == 8192
    assert info["hugepage_used_bytes"] > 0
    text = dpfwd("status", "--instance", running.instance).stdout
    assert f"instance {running.instance}: forwarding in io mode" in text


def test_dpdk_ethdev_telemetry_still_works(running):
    from dpfwd.telemetry import Telemetry
    with Telemetry(running.instance) as tm:
        assert tm.query("/ethdev/list") == [0, 1]
        assert tm.query("/ethdev/stats,0")["ipackets"] > 0


@pytest.mark.parametrize("command", ["status", "stats", "ports"])
def test_readers_without_an_instance_fail_in_one_line(dpdk_host, command):
    proc = dpfwd(command, "--instance", "nobody_runs_this")
    assert proc.returncode == 5
    assert proc.stderr.strip().count("\n") == 0 and "no dpfwd instance 'nobody_runs_this'" in proc.stderr


def test_stats_watch_redraws_rates(running):
    proc = dpfwd("stats", "--watch", "--interval", "0.2", "--count", "3", "--instance", running.instance)
    assert proc.returncode == 0, proc.stderr
    assert "rx/s" in proc.stdout and "lost/s" in proc.stdout and "Mpps" in proc.stdout


METRICS_PORT = free_port()


@pytest.mark.parametrize("running", [["--metrics", f"127.0.0.1:{METRICS_PORT}"]], indirect=True)
def test_prometheus_metrics_are_named_typed_and_rising(running):
    rx = lambda fams: sample(fams, "dpfwd_port_rx_packets", port="0")  # noqa: E731
    first, second = until_changed(lambda: scrape(METRICS_PORT), rx)
    assert first["dpfwd_port_rx_packets"].type == "counter"
    assert first["dpfwd_mempool_mbufs_in_use"].type == "gauge"
    assert first["dpfwd_port_link_up"].type == "gauge"
    a = sample(first, "dpfwd_port_rx_packets", port="0")
    b = sample(second, "dpfwd_port_rx_packets", port="0")
    assert b > a > 0
    assert sample(second, "dpfwd_port_link_up", port="1") == 1
    assert sample(second, "dpfwd_info", mode="io", dpfwd_instance=running.instance) == 1
    # Prometheus owns `instance` (the scrape target)
    assert not any("instance" in s.labels for f in second.values() for s in f.samples)
    # one family per counter of the header's list, for each scope that keeps it
    from dpfwd.facts import COUNTERS
    for scope in ("port", "lcore"):
        for c in COUNTERS:
            assert (f"dpfwd_{scope}_{c.metric}" in second) == c.kept_at(scope), (scope, c.name)
            assert second.get(f"dpfwd_{scope}_{c.metric}", second["dpfwd_info"]).documentation


def test_metrics_on_a_busy_port_fail_cleanly(dpdk_host):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = dpfwd("run", *NULL_PAIR, "--metrics", f"127.0.0.1:{port}", "--duration", "5",
                     "--instance", "t_busy")
    assert proc.returncode == 4 and "metrics.listen: cannot listen on" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_systemd_notify_ready_status_watchdog(dpdk_host, tmp_path):
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        sock.settimeout(10)
        env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="400000")
        proc = subprocess.Popen(dpfwd_command() + ["run", *NULL_PAIR, "--instance", "t_notify"],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = []
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                seen += sock.recv(4096).decode().splitlines()
                if "READY=1" in seen and "WATCHDOG=1" in seen and any(
                        s.startswith("STATUS=forwarding io: rx") for s in seen):
                    break
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=10)
    assert seen.index("READY=1") < seen.index("WATCHDOG=1")
    assert any("Mpps" in s for s in seen if s.startswith("STATUS="))
    assert proc.returncode == 0


def test_sighup_applies_mode_live_and_rejects_bad_configs(dpdk_host, tmp_path):
    cfg = tmp_path / "dpfwd.yaml"
    base = "eal: {instance: t_hup}\nports: [{vdev: net_null0}, {vdev: net_null1}]\n"
    cfg.write_text(base + "forwarding: {mode: io}\n")
    run = Dpfwd(["--config", str(cfg)])
    try:
        def mode():
            return read_json("status", "--instance", "t_hup")["info"]["mode"]

        def hup_and_wait_for(text):
            run.proc.send_signal(signal.SIGHUP)
            return run.wait_for_line(text, timeout=10)

        assert mode() == "io"
        cfg.write_text(base + "forwarding: {mode: macswap}\n")
        assert hup_and_wait_for("reloaded: macswap mode")
        assert mode() == "macswap"
        cfg.write_text(base + "forwarding: {mode: warp}\n")
        line = hup_and_wait_for("reload rejected")
        assert "forwarding.mode: 'warp' is not one of" in line
        cfg.write_text(base.replace("instance: t_hup", "instance: t_hup, lcores: '0,1'") +
                       "forwarding: {mode: mac, burst: 64}\n")
        line = hup_and_wait_for("needs a restart")
        assert "lcores" in line and "burst" not in line   # burst changes live
        assert mode() == "macswap"
        code, _, _ = run.stop(signal.SIGTERM)
        assert code == 0
    finally:
        run.kill()


def test_a_reload_survives_any_file(dpdk_host, tmp_path):
    """Whatever the file holds at SIGHUP, the old config keeps forwarding and
    the log says why in one line."""
    cfg = tmp_path / "dpfwd.yaml"
    base = "eal: {instance: t_hup_any}\nports: [{vdev: net_null0}, {vdev: net_null1}]\n"
    cfg.write_text(base)
    run = Dpfwd(["--config", str(cfg)])
    try:
        for content in (base.replace("t_hup_any}", "t_hup_any, lcores: '0-4000000000'}").encode(),
                        b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
                        base.encode() + b"ports: []\n",
                        b"\x00\xff\xfe not text",
                        b"a: &x [1]\nb: *x\n",
                        None):                   # the file is gone
            if content is None:
                cfg.unlink()
            else:
                cfg.write_bytes(content)
            run.proc.send_signal(signal.SIGHUP)
            line = run.wait_for_line("reload rejected", timeout=10)
            assert line and "still running the old config" in line, run.stderr_lines[-3:]
        assert read_json("status", "--instance", "t_hup_any")["info"]["forwarding"] == 1
        code, _, _ = run.stop(signal.SIGTERM)
        assert code == 0
    finally:
        run.kill()
    assert not any("Traceback" in line for line in run.stderr_lines)


def test_dpdk_threads_leave_the_handled_signals_to_the_main_thread(running):
    """SIGINT, SIGTERM and SIGHUP are blocked in every thread EAL started."""
    pid = running.proc.pid
    tasks = pathlib.Path(f"/proc/{pid}/task")
    main_comm = (tasks / str(pid) / "comm").read_text().strip()
    handled = (1 << (signal.SIGHUP - 1)) | (1 << (signal.SIGINT - 1)) | (1 << (signal.SIGTERM - 1))
    dpdk = {}
    for task in tasks.iterdir():
        comm = (task / "comm").read_text().strip()
        if task.name != str(pid) and comm != main_comm:
            status = dict(line.split(":\t", 1) for line in (task / "status").read_text().splitlines())
            dpdk[comm] = int(status["SigBlk"], 16) & handled
    assert len(dpdk) >= 2 and all(blocked == handled for blocked in dpdk.values()), dpdk


def test_readers_see_live_state_or_stopping_through_100_stops(dpdk_host):
    """Scrapes, telemetry reads and `dpfwd status` in tight loops while an
    instance starts and stops 100 times: no run crashes (a reader of freed
    memory would take the forwarder down with it), every read is whole."""
    from dpfwd.telemetry import NotRunning, Telemetry, read_info, read_ports, read_stats
    port, instance, stop = free_port(), "t_stops", threading.Event()
    seen = {"whole": 0, "not running": 0, "scrapes": 0, "status": 0}

    def read_telemetry():
        while not stop.is_set():
            try:
                with Telemetry(instance, timeout=1) as tm:
                    read_stats(tm), read_info(tm), read_ports(tm)
                    seen["whole"] += 1
            except NotRunning:
                seen["not running"] += 1

    def scrape_metrics():
        while not stop.is_set():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as r:
                    r.read()
                seen["scrapes"] += 1
            except OSError:
                pass

    def run_status():
        while not stop.is_set():
            proc = dpfwd("status", "--instance", instance)
            assert proc.returncode in (0, 5) and "Traceback" not in proc.stderr, proc.stderr
            seen["status"] += 1

    threads = [threading.Thread(target=f, daemon=True) for f in (read_telemetry, scrape_metrics, run_status)]
    for t in threads:
        t.start()
    codes = []
    try:
        for _ in range(100):
            proc = dpfwd("run", *NULL_PAIR, "--instance", instance, "--metrics", f"127.0.0.1:{port}",
                         "--duration", "0.1")
            codes.append((proc.returncode, proc.stderr[-300:] if proc.returncode else ""))
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert [c for c in codes if c[0] != 0] == []
    assert seen["whole"] > 0 and seen["scrapes"] > 0 and seen["status"] > 0, seen
