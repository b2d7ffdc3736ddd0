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


def replaying(short_dir, replayed, instance):
    """An instance (shared memory) whose port 0 replays these packets forever."""
    pcap.write(short_dir / "in.pcap", replayed)
    return Dpfwd(["--vdev", f"net_pcap0,rx_pcap={short_dir}/in.pcap,infinite_rx=1",
                  "--vdev", "net_null1", "--memory", "hugepages", "--instance", instance])


def test_captured_packets_are_exactly_replayed_ones_in_order(dpdk_host, tmp_path, short_dir):
    replayed = packets.mixed(5000, seed=11)
    run = replaying(short_dir, replayed, "t_capture")
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


def is_udp(frame):
    """UDP over IPv4 or IPv6, untagged: what tcpdump's 'udp' keeps."""
    kind = frame[12:14]
    return (kind == b"\x08\x00" and len(frame) > 23 and frame[23] == 17) or \
        (kind == b"\x86\xdd" and len(frame) > 20 and frame[20] == 17)


def test_pcapng_with_a_filter_keeps_only_matching_packets(dpdk_host, tmp_path, short_dir):
    replayed = packets.mixed(3000, seed=12)
    run = replaying(short_dir, replayed, "t_cap_ng")
    try:
        proc = capture("--instance", "t_cap_ng", "--port", "0", "--direction", "rx", "-f", "udp",
                       "--count", "500", "-w", str(tmp_path / "cap.pcapng"), "--duration", "30")
    finally:
        run.kill()
    assert proc.returncode == 0 and "500 packets written" in proc.stderr, proc.stderr
    got = pcap.read_with_libpcap(tmp_path / "cap.pcapng")
    udp = {p for p in replayed if is_udp(p)}
    assert len(got) == 500 and set(got) <= udp
    assert 0 < len(udp) < len(replayed)


def test_a_bad_filter_is_one_line_before_anything_starts(dpdk_host, tmp_path):
    proc = capture("--instance", "nobody_here", "--port", "0", "-f", "udp prt 53", "-w", str(tmp_path / "x"))
    assert proc.returncode == 2
    assert "filter 'udp prt 53' is not valid: can't parse filter expression: syntax error" in proc.stderr
    assert "Traceback" not in proc.stderr


def forwarding_rate(instance, seconds=1.0):
    from readers import read_json
    first = read_json("stats", "--instance", instance)
    time.sleep(seconds)    # the measured window, not a synchronisation
    second = read_json("stats", "--instance", instance)
    return (second["ports"][0]["rx"] - first["ports"][0]["rx"]) / \
        (second["elapsed_seconds"] - first["elapsed_seconds"])


def start_capture(instance, out):
    proc = subprocess.Popen(dpfwd_command() + ["capture", "--instance", instance, "--port", "0",
                                               "-w", str(out), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not (out.exists() and out.stat().st_size > 1000) and proc.poll() is None:
        assert time.monotonic() < deadline, "the capture wrote nothing"
        time.sleep(0.05)     # polling a file for a bounded time, not a synchronisation guess
    return proc


def test_a_killed_capture_stops_costing_the_forwarder_and_the_port_can_be_captured_again(dpdk_host, tmp_path):
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--memory", "hugepages",
                 "--instance", "t_cap_kill"])
    try:
        alone = forwarding_rate("t_cap_kill")
        cap = start_capture("t_cap_kill", tmp_path / "a.pcap")
        copying = forwarding_rate("t_cap_kill")
        cap.kill()
        cap.wait(timeout=10)
        killed = time.monotonic()
        line = run.wait_for_line("ended without stopping", timeout=5)
        took = time.monotonic() - killed
        assert line and f"capture by process {cap.pid} ended without stopping; released it" in line, line
        assert took < 2.0, f"released after {took:.2f} s"
        after = forwarding_rate("t_cap_kill")
        proc = capture("--instance", "t_cap_kill", "--port", "0", "--count", "5", "-w", str(tmp_path / "b.pcap"),
                       "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["written"] == 5 and len(pcap.read(tmp_path / "b.pcap")) == 5
    finally:
        run.kill()
    # the copying costs the lcore (about half its rate here); once released, that cost is gone
    assert copying < 0.8 * alone and after > 0.8 * alone, (alone, copying, after)


def test_a_hung_up_capture_ends_cleanly(dpdk_host, tmp_path):
    """A dropped SSH session sends SIGHUP: the capture stops and reports, like Ctrl-C."""
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--memory", "hugepages",
                 "--instance", "t_cap_hup"])
    try:
        cap = start_capture("t_cap_hup", tmp_path / "h.pcap")
        cap.send_signal(signal.SIGHUP)
        stdout, stderr = cap.communicate(timeout=20)
        assert cap.returncode == 0, stderr
        assert json.loads(stdout)["written"] == len(pcap.read(tmp_path / "h.pcap")) > 0
        assert run.wait_for_line("ended without stopping", timeout=1.5) is None
    finally:
        run.kill()
