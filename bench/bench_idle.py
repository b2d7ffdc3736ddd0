#!/usr/bin/env python3
"""Idle policies: CPU used on a quiet wire, throughput under load, latency at a low rate.

For each policy (busy, pause, sleep, auto):
  - CPU of the forwarding lcore's thread with no traffic (a net_ring pair that
    nobody feeds), from /proc over --seconds;
  - Mpps on a net_null pair at full load (median of --rounds alternating runs),
    as a ratio to busy;
  - p50/p99 latency of 1000 UDP probes (1 ms apart) across the af_packet bump
    in the wire (see bench_latency.py).

    python bench/bench_idle.py [--seconds 5]
"""
import argparse
import json
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from bench_latency import measure  # noqa: E402
from lab.dpfwd_process import Dpfwd, worker_cpu_seconds  # noqa: E402
from lab.netns import BumpInTheWire  # noqa: E402

POLICIES = ("busy", "pause", "sleep", "auto")


def idle_cpu(policy, seconds):
    run = Dpfwd(["--vdev", "net_ring0", "--vdev", "net_ring1", "--idle", policy,
                 "--instance", "bench_idle", "--json"])
    try:
        time.sleep(1)   # let the back-off settle; a bench runs for set times
        before = worker_cpu_seconds(run.proc.pid)
        time.sleep(seconds)
        used = worker_cpu_seconds(run.proc.pid) - before
        run.proc.send_signal(2)
        out, _ = run.proc.communicate(timeout=30)
    finally:
        run.kill()
    idle_ns = json.loads(out)["lcores"][0]["idle_ns"]
    return 100 * used / seconds, idle_ns / 1e9


def loaded_mpps(policy, seconds):
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--idle", policy,
                 "--instance", "bench_idle", "--json", "--duration", str(seconds)])
    out, _ = run.proc.communicate(timeout=seconds + 60)
    snap = json.loads(out)
    return sum(p["rx"] for p in snap["ports"]) / snap["elapsed_seconds"] / 1e6


def latency(policy):
    with BumpInTheWire("idl") as world:
        run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--idle", policy,
                     "--instance", "bench_idle"])
        try:
            return measure(world, 1000)
        finally:
            run.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    rows = {}
    for policy in POLICIES:
        cpu, idle_s = idle_cpu(policy, args.seconds)
        rows[policy] = {"cpu": cpu, "idle_s": idle_s, "lat": latency(policy), "mpps": []}
    # Throughput in alternating rounds, so drifts in machine load hit every policy.
    for _ in range(args.rounds):
        for policy in POLICIES:
            rows[policy]["mpps"].append(loaded_mpps(policy, args.seconds))
    for policy in POLICIES:
        rows[policy]["mpps"] = statistics.median(rows[policy]["mpps"])
        print(f"{policy}: {rows[policy]}", file=sys.stderr)
    busy = rows["busy"]["mpps"]
    print("| idle policy | CPU, quiet wire | idle counter | Mpps at full load | ratio to busy "
          "| latency p50 / p99 µs (1 kpps) |\n|---|---:|---:|---:|---:|---:|")
    for policy, r in rows.items():
        print(f"| {policy} | {r['cpu']:.1f}% | {r['idle_s']:.1f} s | {r['mpps']:.2f} | "
              f"{r['mpps'] / busy:.3f} | {r['lat']['p50_us']:.1f} / {r['lat']['p99_us']:.1f} |")


if __name__ == "__main__":
    main()
