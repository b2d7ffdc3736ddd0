"""Two namespaces whose only link is dpfwd on net_af_packet: ping and TCP cross it."""
import os
import signal

import pytest

from lab.dpfwd_process import Dpfwd
from lab.netns import BumpInTheWire
from lab.traffic import ping, tcp_transfer

pytestmark = pytest.mark.netns
TCP_BYTES = 4 * 1024 * 1024


@pytest.fixture
def world(dpdk_host):
    with BumpInTheWire(f"{os.getpid() % 10000}") as w:
        yield w


def test_ping_and_tcp_cross_the_forwarder_and_stop_with_it(world):
    assert ping(world.ns_a, world.addr_b, 1).returncode != 0, "the namespaces must not be linked without dpfwd"
    run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--instance", "t_bump"])
    try:
        result = ping(world.ns_a, world.addr_b)
        assert result.returncode == 0, result.stdout
        moved = tcp_transfer(world.ns_a, world.ns_b, world.addr_b, TCP_BYTES)
        assert (moved.received, moved.intact) == (TCP_BYTES, True)
        code, out, _ = run.stop(signal.SIGTERM)
        assert code == 0
    finally:
        run.kill()
    assert ping(world.ns_a, world.addr_b, 2).returncode != 0
