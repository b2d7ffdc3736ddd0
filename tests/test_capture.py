"""dpfwd capture: live pdump capture from a forwarding instance."""
import json
import pathlib
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

from lab import packets, pcap
from lab.dpfwd_process import Dpfwd, dpfwd, dpfwd_command

pytestmark = pytest.mark.dataplane


def capture(*args):
    return dpfwd("capture", *args)


@pytest.fixture
def short_dir():
    """net_pcap reopens its files in a secondary process from devargs that
    DPDK cuts short: keep the path short."""
    path = tempfile.mkdtemp(prefix="dpc")
    yield pathlib.Path(path)
    shutil.rmtree(path)


def test_captured_packets_are_exactly_replayed_ones_in_order(dpdk_host, tmp_path, short_dir):
    replayed = packets.mixed(5000, seed=11)
    pcap.write(short_dir / "in.pcap", replayed)
    run = Dpfwd(["--vdev", f"net_pcap0,rx_pcap={short_dir}/in.pcap,infinite_rx=1",
                 "--vdev", "net_null1", "--memory", "hugepages", "--instance", "t_capture"])
    try:
        proc = capture("--instance", "t_capture", "--port", "0", "--direction", "rx",
                       "--count", "3000", "-w", str(tmp_path / "cap.pcap"), "--duration", "30")
        assert proc.returncode == 0, proc.stderr
        assert "3000 packets written" in proc.stderr
        stats = dpfwd("stats", "--instance", "t_capture", "--json")
        assert stats.returncode == 0, "the forwarder keeps running after a capture"
    finally:
        run.kill()
    got = pcap.read(tmp_path / "cap.pcap")
    index = {p: i for i, p in enumerate(replayed)}
    assert len(got) == 3000
    assert all(p in index for p in got)
    # In replay order, cyclically; a capture slower than the traffic may skip some.
    steps = [(index[b] - index[a]) % len(replayed) for a, b in zip(got, got[1:])]
    assert all(0 < s < len(replayed) for s in steps)


def test_capture_needs_shared_memory(dpdk_host, tmp_path):
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--instance", "t_cap_inmem"])
    try:
        proc = capture("--instance", "t_cap_inmem", "--port", "0", "--count", "1", "-w",
                       str(tmp_path / "x.pcap"))
    finally:
        run.kill()
    assert proc.returncode == 4 and "run it with eal.memory: hugepages" in proc.stderr


def test_capture_without_instance(dpdk_host, tmp_path):
    proc = capture("--instance", "nobody_here", "--port", "0", "--count", "1", "-w", str(tmp_path / "x"))
    assert proc.returncode == 5 and "no dpfwd instance 'nobody_here'" in proc.stderr


def test_capture_without_count_runs_until_ctrl_c(dpdk_host, tmp_path):
    """Like tcpdump: no --count, no --duration: it writes until SIGINT, then reports."""
    out = tmp_path / "until.pcap"
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--memory", "hugepages",
                 "--instance", "t_cap_int"])
    try:
        cap = subprocess.Popen(dpfwd_command() + ["capture", "--instance", "t_cap_int", "--port", "0",
                                                  "--direction", "rx", "-w", str(out), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while not (out.exists() and out.stat().st_size > 24) and time.monotonic() < deadline \
                and cap.poll() is None:
            time.sleep(0.05)     # polling a file for a bounded time, not a synchronisation guess
        cap.send_signal(signal.SIGINT)
        stdout, stderr = cap.communicate(timeout=20)
    finally:
        run.kill()
    assert cap.returncode == 0, stderr
    report = json.loads(stdout)
    assert report["written"] > 0 and report["written"] == len(pcap.read(out))
