"""Idle policies: traffic still crosses after a quiet spell, in every policy."""
import json
import os
import signal
import time

import pytest

from lab.dpfwd_process import Dpfwd, dpfwd
from lab.netns import BumpInTheWire

pytestmark = pytest.mark.netns


@pytest.fixture(scope="module")
def world():
    if os.geteuid() != 0:
        pytest.skip("namespaces need root")
    with BumpInTheWire(f"i{os.getpid() % 10000}") as w:
        yield w


@pytest.mark.parametrize("policy", ["busy", "pause", "sleep", "auto"])
def test_traffic_crosses_after_a_quiet_spell_without_loss(dpdk_host, world, policy):
    run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--idle", policy,
                 "--instance", f"t_idle_{policy}", "--json"])
    try:
        time.sleep(0.5)   # the quiet spell under test: the lcore backs off to its longest wait
        result = world.run_a(["ping", "-c", "20", "-i", "0.05", "-W", "1", world.addr_b], text=True)
        assert result.returncode == 0 and " 0% packet loss" in result.stdout, result.stdout
        code, out, _ = run.stop(signal.SIGTERM)
    finally:
        run.kill()
    assert code == 0
    snap = json.loads(out)
    chosen = snap["idle"]
    assert chosen == ("sleep" if policy == "auto" else policy) or (policy == "auto" and chosen == "monitor")
    idle_ns = snap["lcores"][0]["idle_ns"]
    assert (idle_ns == 0) if policy == "busy" else (idle_ns > 0)


def test_a_policy_the_host_cannot_do_is_refused_in_one_line(dpdk_host):
    proc = dpfwd("run", "--vdev", "net_null0", "--vdev", "net_null1", "--idle", "monitor",
                 "--instance", "t_idle_mon", "--duration", "1")
    # This lab's CPUs lack UMWAIT/MONITORX; elsewhere net_null has no monitor address.
    assert proc.returncode == 4
    error = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and ("power-monitor" in error[0] or "cannot be monitored" in error[0])
    assert "use sleep" in error[0] and "Traceback" not in proc.stderr
