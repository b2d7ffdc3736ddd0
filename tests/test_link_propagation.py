"""Link-fault propagation: when one side of a pair loses its link, dpfwd sets
the other side's link down, so the neighbour there sees the fault (and fails
over) instead of sending into a dead path. Real veths through net_af_packet:
a veth pulled in namespace A makes namespace B's veth lose its carrier."""
import json
import signal
import time

import pytest

from lab.dpfwd_process import Dpfwd, dpfwd
from lab.netns import BumpInTheWire, sh
from readers import read_json, sample, scrape
from test_observability import free_port

pytestmark = pytest.mark.dataplane


def carrier(ns, iface="inner0"):
    return sh("ip", "netns", "exec", ns, "cat", f"/sys/class/net/{iface}/carrier", check=False).stdout.strip()


def admin_up(iface):
    return "UP" in json.loads(sh("ip", "-j", "link", "show", iface).stdout)[0]["flags"]


def until(check, timeout=5):
    """Poll check() until true; its last value. Bounded."""
    deadline = time.monotonic() + timeout
    while not (ok := check()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return ok


@pytest.fixture
def wire(dpdk_host, tmp_path, request):
    propagation = getattr(request, "param", True)
    with BumpInTheWire("lp") as world:
        world.metrics = free_port()
        (tmp_path / "lp.yaml").write_text(
            f"ports: [{{interface: {world.fwd_a}}}, {{interface: {world.fwd_b}}}]\n"
            f"forwarding: {{link_propagation: {str(propagation).lower()}}}\n"
            f"eal: {{instance: t_lprop}}\nmetrics: {{listen: '127.0.0.1:{world.metrics}'}}\n")
        world.run = Dpfwd(["--config", tmp_path / "lp.yaml", "--json"])
        try:
            yield world
        finally:
            world.run.kill()


def test_a_pulled_cable_takes_the_peer_link_down_and_back_up(wire):
    run = wire.run
    assert wire.run_a(["ping", "-c", "1", "-W", "2", wire.addr_b]).returncode == 0
    sh("ip", "-n", wire.ns_a, "link", "set", "inner0", "down")    # the cable on side A
    line = run.wait_for_line("link set down", timeout=10)
    assert line and "port 1 (net_af_packet1): link set down, as its peer port 0 (net_af_packet0) has no link" in line
    assert carrier(wire.ns_b) == "0"        # the neighbour on side B sees the fault
    assert until(lambda: "link DOWN (held down: peer ports[0] has no link)"
                 in dpfwd("status", "--instance", "t_lprop").stdout)
    assert read_json("ports", "--instance", "t_lprop")[1]["held_down_by"] == 0
    assert read_json("stats", "--instance", "t_lprop")["ports"][1]["link_propagations"] == 1
    assert sample(scrape(wire.metrics), "dpfwd_port_link_propagations", port="1") == 1

    sh("ip", "-n", wire.ns_a, "link", "set", "inner0", "up")
    assert run.wait_for_line("link set up again", timeout=10)
    assert until(lambda: carrier(wire.ns_b) == "1")
    assert until(lambda: wire.run_a(["ping", "-c", "1", "-W", "1", wire.addr_b]).returncode == 0, timeout=10)
    code, out, _ = run.stop(signal.SIGTERM, timeout=10)
    assert code == 0
    final = json.loads(out)["ports"]
    assert [p["link_propagations"] for p in final] == [0, 1]
    # held once, back once; the held side's own fault is dpfwd's doing, never passed back
    assert "".join(run.stderr_lines).count("link set down") == 1


def test_a_port_held_down_comes_back_when_dpfwd_stops(wire):
    sh("ip", "-n", wire.ns_a, "link", "set", "inner0", "down")
    assert wire.run.wait_for_line("link set down", timeout=10)
    assert not admin_up(wire.fwd_b)
    code, _, _ = wire.run.stop(signal.SIGTERM, timeout=10)
    assert code == 0
    assert admin_up(wire.fwd_b) and until(lambda: carrier(wire.ns_b) == "1")


@pytest.mark.parametrize("wire", [False], indirect=True)
def test_propagation_off_leaves_the_peer_up(wire):
    sh("ip", "-n", wire.ns_a, "link", "set", "inner0", "down")
    assert wire.run.wait_for_line("port 0 (net_af_packet0): link down", timeout=10)
    # propagation would act within its settle time (3 s) plus a poll
    assert wire.run.wait_for_line("link set down", timeout=4) is None
    assert carrier(wire.ns_b) == "1" and admin_up(wire.fwd_b)
