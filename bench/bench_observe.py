#!/usr/bin/env python3
"""What watching dpfwd costs: io forwarding on a net_null pair, alone (with
and without residence timing), while read at 10 Hz through telemetry (the
NIC counters included) and scraped once a second, and while a live capture
runs. Alternating rounds; prints Mpps and the ratio to its baseline.

    python bench/bench_observe.py [--rounds 3] [--seconds 5]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from lab.dpfwd_process import Dpfwd, dpfwd_command  # noqa: E402

from dpfwd.telemetry import NotRunning, Telemetry, read_stats  # noqa: E402

VDEVS = ["--vdev", "net_null0", "--vdev", "net_null1"]
METRICS = "127.0.0.1:19399"


def forwarding_mpps(extra, seconds, during=None):
    """Mpps of one run; during(stop_event) runs beside it in a thread."""
    run = Dpfwd([*VDEVS, "--instance", "bench_obs", "--json", "--duration", str(seconds), *extra])
    stop = threading.Event()
    worker = threading.Thread(target=during, args=(stop,)) if during else None
    if worker:
        worker.start()
    try:
        out, _ = run.proc.communicate(timeout=seconds + 60)
    finally:
        stop.set()
        if worker:
            worker.join(timeout=30)
        run.kill()
    snap = json.loads(out)
    return sum(p["rx"] for p in snap["ports"]) / snap["elapsed_seconds"] / 1e6


READS = {"stats": 0, "scrapes": 0}


def readers(stop):
    """Telemetry at 10 Hz (what `dpfwd stats` does) and /metrics every second,
    until the run ends."""
    try:
        with Telemetry("bench_obs") as tm:
            while not stop.wait(0.1):
                read_stats(tm)
                READS["stats"] += 1
                if READS["stats"] % 10 == 0:
                    with urllib.request.urlopen(f"http://{METRICS}/metrics", timeout=5) as r:
                        r.read()
                    READS["scrapes"] += 1
    except (OSError, NotRunning):
        pass    # the instance stopped at the end of its --duration


def capturing(stop):
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(dpfwd_command() + ["capture", "--instance", "bench_obs", "--port", "0",
                                          "--count", "100000000", "--duration", "4",
                                          "-w", os.path.join(d, "c.pcap")],
                       capture_output=True, timeout=60)


CASES = [
    ("alone", [], None),
    ("alone, residence timing off", ["--no-residence"], None),
    ("stats 10 Hz + /metrics 1 Hz", ["--metrics", METRICS], readers),
    ("alone (shared memory)", ["--memory", "hugepages"], None),
    ("capturing port 0", ["--memory", "hugepages"], capturing),
]
BASE = {"stats 10 Hz + /metrics 1 Hz": "alone", "capturing port 0": "alone (shared memory)",
        "alone": "alone, residence timing off"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    results = {name: [] for name, _, _ in CASES}
    for r in range(args.rounds):
        for name, extra, during in CASES:
            results[name].append(forwarding_mpps(extra, args.seconds, during))
            print(f"round {r + 1}: {name}: {results[name][-1]:.2f} Mpps", file=sys.stderr)
            time.sleep(0.5)   # let the previous instance's memory go back
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"readers made {READS['stats']} telemetry reads and {READS['scrapes']} scrapes", file=sys.stderr)
    print("| case | Mpps | ratio |\n|---|---:|---:|")
    for name, _, _ in CASES:
        ratio = f"{med[name] / med[BASE[name]]:.3f} x {BASE[name]}" if name in BASE else "baseline"
        print(f"| {name} | {med[name]:.2f} | {ratio} |")


if __name__ == "__main__":
    main()
