"""The counters reach readers whole: every port of a 32-port instance (one
telemetry reply is cut at 16 KB without an error), and the final snapshot of
a clean stop while every telemetry connection is taken."""
import contextlib
import json
import signal

import pytest

from lab.dpfwd_process import Dpfwd
from readers import read_json, scrape
from snapshots import check_snapshot
from test_observability import free_port

pytestmark = pytest.mark.dataplane
# DPDK's telemetry serves this many clients at once; the next is accepted and closed.
TELEMETRY_CLIENTS = 10


def test_a_32_port_instance_answers_with_every_port_and_lcore(dpdk_host):
    port = free_port()
    args = [a for i in range(32) for a in ("--vdev", f"net_null{i}")]
    run = Dpfwd([*args, "--instance", "t_32ports", "--metrics", f"127.0.0.1:{port}", "--json"])
    try:
        stats = read_json("stats", "--instance", "t_32ports")
        check_snapshot(stats)
        assert [p["index"] for p in stats["ports"]] == list(range(32))
        assert [p["name"] for p in stats["ports"]] == [f"net_null{i}" for i in range(32)]
        assert len(stats["lcores"]) == 1 and stats["lcores"][0]["rx"] > 0
        assert len(read_json("ports", "--instance", "t_32ports")) == 32
        families = scrape(port)
        assert {s.labels["port"] for s in families["dpfwd_port_rx_packets"].samples} == {str(i) for i in range(32)}
        code, out, _ = run.stop(signal.SIGTERM, timeout=10)
        assert code == 0
        final = json.loads(out)
        assert len(final["ports"]) == 32 and final["lcores"][0]["rx"] == sum(p["rx"] for p in final["ports"])
    finally:
        run.kill()


def test_the_final_snapshot_survives_a_full_telemetry_socket(dpdk_host):
    from dpfwd.telemetry import NotRunning, Telemetry
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--instance", "t_fullsock", "--json"])
    try:
        with contextlib.ExitStack() as held:
            readers = [held.enter_context(Telemetry("t_fullsock")) for _ in range(TELEMETRY_CLIENTS)]
            for tm in readers:
                assert tm.query("/dpfwd/stats")["ports"] == 2
            # the socket is full: one more reader is turned away
            with pytest.raises(NotRunning, match="busy"):
                Telemetry("t_fullsock", timeout=0.5)
            code, out, _ = run.stop(signal.SIGTERM, timeout=10)
        assert code == 0, "".join(run.stderr_lines)
        final = json.loads(out)
        check_snapshot(final)
        assert final["ports"][0]["rx"] > 0 and final["ports"][1]["tx"] == final["ports"][0]["rx"]
        assert final["lcores"][0]["rx"] == final["ports"][0]["rx"] + final["ports"][1]["rx"]
    finally:
        run.kill()
