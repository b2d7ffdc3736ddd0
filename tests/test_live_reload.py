"""Settings that change live: a reload under a flood through real veths
(net_af_packet) keeps the same process and loses nothing. The kernel's own
interface counters judge: every frame namespace A's veth sent reached
namespace B's."""
import os
import signal
import threading
import time

import pytest

from lab.dpfwd_process import Dpfwd
from lab.netns import BumpInTheWire, sh
from lab.traffic import udp_send
from readers import read_json
from dpfwd import facts

pytestmark = pytest.mark.dataplane
# Each step: the forwarding settings after it, applied by one SIGHUP.
STEPS = [{"burst": 64}, {"burst": 64, "idle": "busy"}, {"burst": 8, "idle": "sleep", "sleep_max_us": 50},
         {"burst": 8, "idle": "pause", "residence": False},
         {"burst": 8, "idle": "pause", "residence": False, "link_propagation": False, "mode": "macswap"}]


def counter(ns, name):
    return int(sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/inner0/statistics/{name}").stdout)


def write_config(path, world, forwarding):
    text = ", ".join(f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in forwarding.items())
    path.write_text(f"ports: [{{interface: {world.fwd_a}}}, {{interface: {world.fwd_b}}}]\n"
                    f"eal: {{instance: t_live}}\nforwarding: {{{text}}}\n")


def test_every_live_setting_changes_under_a_flood_with_zero_loss(dpdk_host, tmp_path):
    cfg = tmp_path / "live.yaml"
    with BumpInTheWire("lv") as world:
        write_config(cfg, world, {})
        run = Dpfwd(["--config", cfg, "--json"])
        pid = run.proc.pid
        flooding, sent = threading.Event(), []
        try:
            assert world.run_a(["ping", "-c", "1", "-W", "2", world.addr_b]).returncode == 0
            before = counter(world.ns_a, "tx_packets"), counter(world.ns_b, "rx_packets")

            def flood():
                while flooding.is_set():
                    sent.append(udp_send(world.ns_a, world.addr_b, 20000))
            flooding.set()
            sender = threading.Thread(target=flood, daemon=True)
            sender.start()
            for step in STEPS:
                write_config(cfg, world, step)
                run.proc.send_signal(signal.SIGHUP)
                line = run.wait_for_line("reload", timeout=10)
                assert line and "applied live" in line, "".join(run.stderr_lines[-5:])
                assert sender.is_alive()
            flooding.clear()
            sender.join(60)
            assert sum(sent) > 0 and run.proc.pid == pid and run.proc.poll() is None

            def crossed():
                return (counter(world.ns_a, "tx_packets") - before[0], counter(world.ns_b, "rx_packets") - before[1])
            deadline = time.monotonic() + 5
            while (c := crossed())[0] != c[1] and time.monotonic() < deadline:
                time.sleep(0.05)
            assert c[0] >= sum(sent) and c[0] == c[1], f"sent {c[0]} frames, {c[1]} arrived"
            stats = read_json("stats", "--instance", "t_live")
            assert stats["mode"] == "macswap" and stats["idle"] == "pause"
            assert all(facts.lost(p) == 0 for p in stats["ports"])
            code, _, _ = run.stop(signal.SIGTERM, timeout=10)
            assert code == 0
        finally:
            flooding.clear()
            run.kill()
    assert os.path.exists(cfg)


def test_a_setting_that_needs_a_restart_applies_nothing(dpdk_host, tmp_path):
    cfg = tmp_path / "restart.yaml"
    base = "ports: [{vdev: net_null0}, {vdev: net_null1}]\neal: {instance: t_norestart}\n"
    cfg.write_text(base + "forwarding: {burst: 32}\n")
    run = Dpfwd(["--config", cfg])
    try:
        cfg.write_text(base + "forwarding: {burst: 64}\nmempool: {mbufs: 16384}\n")
        run.proc.send_signal(signal.SIGHUP)
        line = run.wait_for_line("reload", timeout=10)
        assert "mempool.mbufs changed; that needs a restart (nothing was applied)" in line
        cfg.write_text(base + "forwarding: {idle: monitor}\n")
        run.proc.send_signal(signal.SIGHUP)
        line = run.wait_for_line("reload", timeout=10)
        assert "reload rejected, still running the old config" in line or "needs a restart" in line
        assert read_json("stats", "--instance", "t_norestart")["forwarding"]
    finally:
        run.kill()
