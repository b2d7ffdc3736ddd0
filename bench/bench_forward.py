#!/usr/bin/env python3
"""Forwarding throughput of dpfwd against dpdk-testpmd, back to back.

Every case uses the same net_null pair (64-byte packets), the same EAL
memory mode and one forwarding core (lcore 1; the Python loop runs on it
too). Each round runs every case once, in turn, so drifts in machine load
hit all of them. Prints Mpps (both ports' rx added up; median over rounds)
and the ratio to testpmd:

    python bench/bench_forward.py [--rounds 3] [--seconds 5] [--json]
"""
import argparse
import json
import os
import pathlib
import platform
import re
import signal
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
VDEVS = ["--vdev", "net_null0", "--vdev", "net_null1"]
EAL = ["-l", "0,1", "--in-memory", "--no-pci", "--log-level", "lib.eal:warning"]


def dpfwd_exe():
    return str(pathlib.Path(sys.executable).with_name("dpfwd"))


def testpmd(mode, seconds):
    """Median of testpmd's per-second Rx-pps (both ports added), after a warm-up second."""
    cmd = ["dpdk-testpmd", *EAL, *VDEVS, "--file-prefix", "bench_tp", "--",
           f"--forward-mode={mode}", "--nb-cores=1", "--stats-period=1", "--burst=32"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    pps, wanted = [], 2 * (int(seconds) + 2)
    deadline = time.monotonic() + seconds + 60
    for line in proc.stdout:
        m = re.search(r"Rx-pps:\s+(\d+)", line)
        if m:
            pps.append(int(m.group(1)))
        if len(pps) >= wanted or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=30)
    periods = [pps[i] + pps[i + 1] for i in range(0, len(pps) - 1, 2)]
    samples = [p for p in periods[2:] if p > 0]
    if not samples:
        raise SystemExit(f"testpmd printed no usable Rx-pps (got {periods})")
    return statistics.median(samples) / 1e6


def dpfwd(mode, seconds):
    cmd = [dpfwd_exe(), "run", *VDEVS, "--lcores", "0,1", "--mode", mode, "--duration",
           str(seconds), "--json", "--instance", "bench_dpfwd"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise SystemExit("dpfwd failed:\n" + proc.stderr)
    snap = json.loads(proc.stdout)
    return sum(p["rx"] for p in snap["ports"]) / snap["elapsed_seconds"] / 1e6


def python_loop(seconds, burst):
    cmd = [sys.executable, str(ROOT / "examples" / "seed_loop.py"), *VDEVS,
           "--lcores", "1", "--seconds", str(seconds), "--burst", str(burst)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
    if proc.returncode != 0:
        raise SystemExit("seed loop failed:\n" + proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])["mpps"]


CASES = [
    ("testpmd io", lambda s: testpmd("io", s)),
    ("dpfwd io", lambda s: dpfwd("io", s)),
    ("testpmd mac", lambda s: testpmd("mac", s)),
    ("dpfwd mac", lambda s: dpfwd("mac", s)),
    ("python loop (burst 32)", lambda s: python_loop(s, 32)),
    ("python loop (burst 256)", lambda s: python_loop(s, 256)),
]
BASELINE = {"dpfwd io": "testpmd io", "dpfwd mac": "testpmd mac",
            "python loop (burst 32)": "testpmd io", "python loop (burst 256)": "testpmd io"}


def cpu_model():
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    results = {name: [] for name, _ in CASES}
    for r in range(args.rounds):
        for name, fn in CASES:
            results[name].append(fn(args.seconds))
            print(f"round {r + 1}: {name}: {results[name][-1]:.2f} Mpps", file=sys.stderr)
    med = {name: statistics.median(v) for name, v in results.items()}
    rows = [{"case": name, "mpps": round(med[name], 2),
             "ratio": round(med[name] / med[BASELINE[name]], 3) if name in BASELINE else None,
             "rounds": [round(x, 2) for x in results[name]]} for name, _ in CASES]
    if args.json:
        print(json.dumps({"cpu": cpu_model(), "rows": rows}))
        return
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; net_null pair, 64 B, 1 forwarding lcore, "
          f"{args.rounds} rounds x {args.seconds:g} s (median)\n")
    print("| case | Mpps | ratio | rounds |\n|---|---:|---:|---|")
    for row in rows:
        ratio = f"{row['ratio']:.3f} x {BASELINE[row['case']]}" if row["ratio"] else "baseline"
        print(f"| {row['case']} | {row['mpps']:.2f} | {ratio} | {', '.join(map(str, row['rounds']))} |")


if __name__ == "__main__":
    main()
