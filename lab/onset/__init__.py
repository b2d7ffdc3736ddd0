"""Traffic onset on a modelled NIC ring.

A running dpfwd (memory: hugepages, so a secondary can attach) forwards from
a net_ring port to a net_null port that receives nothing (no-rx). The C
feeder (ring_feeder.c, a DPDK secondary process built here on first use)
puts packets from dpfwd's own pool on that net_ring's rx ring at a set rate,
in trains after quiet spells; a packet that finds `descriptors` waiting is
missed, as a NIC's imissed. The ring itself holds 1023, so the model covers
rings of up to 1023 descriptors.

    with OnsetModel(descriptors=1024, idle="sleep") as model:
        trains = model.trains(rate=14.88e6, count=20)
        cpu = model.quiet_cpu(seconds=2)
"""
import hashlib
import json
import os
import pathlib
import subprocess
import tempfile
import time

import yaml

from lab.dpfwd_process import Dpfwd, worker_cpu_seconds

SOURCE = pathlib.Path(__file__).resolve().parent / "ring_feeder.c"
RING = "ETH_RXTX0_net_ring0"      # what net_ring names queue 0's ring
POOL = "dpfwd_s0"
LINE_RATE_10G = 14.88e6           # 64-byte frames


def feeder():
    """The built feeder, rebuilt when its source changes."""
    tag = hashlib.sha256(SOURCE.read_bytes()).hexdigest()[:12]
    exe = pathlib.Path(tempfile.gettempdir()) / f"dpfwd-ring-feeder-{tag}"
    if not exe.exists():
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libdpdk"], capture_output=True,
                               text=True, check=True).stdout.split()
        subprocess.run(["gcc", "-O2", "-o", f"{exe}.tmp", str(SOURCE), *flags], check=True, timeout=120)
        os.replace(f"{exe}.tmp", exe)
    return exe


class OnsetModel:
    def __init__(self, descriptors=1024, idle="auto", sleep_max_us=None, instance="onset"):
        self.descriptors, self.instance = min(descriptors, 1023), instance
        self.config = {
            "eal": {"instance": instance, "memory": "hugepages", "lcores": "0,1"},
            "ports": [{"vdev": "net_ring0", "rx_descriptors": descriptors}, {"vdev": "net_null1,no-rx=1"}],
            "forwarding": {"idle": idle, "sleep_max_us": sleep_max_us}}

    def __enter__(self):
        self.dir = tempfile.TemporaryDirectory()
        path = pathlib.Path(self.dir.name) / "dpfwd.yaml"
        path.write_text(yaml.safe_dump(self.config))
        self.run = Dpfwd(["--config", str(path), "--json"])
        # the lcore measures its wake-up before it settles: wait for the log line (bounded)
        if self.config["forwarding"]["idle"] in ("sleep", "auto"):
            self.run.wait_for_line("lcore 1: ", timeout=10)
        return self

    def trains(self, rate, count=20, train_ms=20, quiet_ms=100):
        """One dict per train: offered, queued, missed, onset (missed in its first 2 ms), peak, stalls."""
        proc = subprocess.run(
            ["taskset", "-c", "0", str(feeder()), "-l", "0", "--proc-type=secondary",
             f"--file-prefix={self.instance}", "--no-pci", "--log-level=*:warning", "--",
             RING, POOL, str(self.descriptors), str(int(rate)), str(count), str(train_ms), str(quiet_ms)],
            capture_output=True, text=True, timeout=60 + count * (train_ms + quiet_ms) / 1000)
        if proc.returncode != 0:
            raise RuntimeError(f"ring_feeder failed: {proc.stderr.strip()[-500:]}")
        return [json.loads(line) for line in proc.stdout.splitlines()]

    def quiet_cpu(self, seconds=2.0):
        """Share of a core the forwarding lcore uses with no traffic."""
        before = worker_cpu_seconds(self.run.proc.pid)
        time.sleep(seconds)    # the measured window, not a synchronisation
        return (worker_cpu_seconds(self.run.proc.pid) - before) / seconds

    def __exit__(self, *exc):
        self.run.kill()
        self.dir.cleanup()
