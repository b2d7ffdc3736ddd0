"""The systemd watchdog is fed only while every forwarding lcore makes
progress. The stall is a real one: net_pcap reading a FIFO blocks inside
rx_burst while the FIFO is empty, as a PMD stuck in a call would."""
import json
import os
import signal
import socket
import struct
import threading
import time

import pytest

from lab.dpfwd_process import Dpfwd

pytestmark = pytest.mark.dataplane
FRAME = bytes.fromhex("02000000000202000000000108004500") + bytes(44)


class Feeder:
    """Writes a pcap into a FIFO, one frame every few ms while on."""

    def __init__(self, path):
        os.mkfifo(path)
        self.fd = os.open(path, os.O_RDWR)     # never blocks, keeps the FIFO open
        os.write(self.fd, struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        self.on, self.done = threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done.is_set():
            if self.on.wait(0.1) and not self.done.is_set():
                os.write(self.fd, struct.pack("<IIII", 0, 0, len(FRAME), len(FRAME)) + FRAME)
                self.done.wait(0.005)   # pacing, not synchronisation

    def close(self):
        self.done.set()
        self.thread.join(5)
        os.close(self.fd)               # EOF: rx_burst returns


class Notifications:
    """systemd's notify socket, as a test reads it."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)

    def until(self, line, timeout):
        """Every line received until `line` (included); AssertionError after timeout."""
        seen, deadline = [], time.monotonic() + timeout
        while line not in seen:
            left = deadline - time.monotonic()
            assert left > 0, f"no {line} within {timeout} s; got {seen}"
            self.sock.settimeout(left)
            try:
                seen += self.sock.recv(4096).decode().splitlines()
            except socket.timeout:
                pass
        return seen

    def drain(self):
        self.sock.setblocking(False)
        try:
            while self.sock.recv(4096):
                pass
        except BlockingIOError:
            pass


def test_a_stalled_lcore_stops_the_watchdog_and_asks_for_a_restart(dpdk_host, tmp_path):
    feeder = Feeder(str(tmp_path / "rx.fifo"))
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    notes = Notifications(str(tmp_path / "notify.sock"))
    feeder.on.set()
    run = Dpfwd(["--vdev", f"net_pcap0,rx_pcap={tmp_path}/rx.fifo,tx_pcap={tmp_path}/out0.pcap",
                 "--vdev", f"net_pcap1,rx_pcap={empty},tx_pcap={tmp_path}/out1.pcap",
                 "--instance", "t_stall", "--json"],
                env={"NOTIFY_SOCKET": notes.sock.getsockname(), "WATCHDOG_USEC": "400000"})
    try:
        notes.until("WATCHDOG=1", timeout=10)
        feeder.on.clear()       # the lcore now blocks in rx_burst
        stalled = run.wait_for_line("made no progress", timeout=5)
        assert stalled and "lcore 1" in stalled and "ports[0] (net_pcap0) queue 0" in stalled, run.stderr_lines
        notes.drain()           # pings sent before the stall was seen
        assert "WATCHDOG=1" not in notes.until("WATCHDOG=trigger", timeout=5)
        assert run.wait_for_line("asking systemd to restart dpfwd", timeout=5)

        feeder.on.set()
        assert run.wait_for_line("lcore 1 forwards again", timeout=5)
        notes.until("WATCHDOG=1", timeout=5)
        feeder.close()
        code, out, _ = run.stop(signal.SIGTERM, timeout=10)
        assert code == 0
        final = json.loads(out)
        assert final["lcores"][0]["stalls"] == 1 and final["ports"][0]["rx"] > 0
    finally:
        if not feeder.done.is_set():
            feeder.close()
        run.kill()
        notes.sock.close()
