#!/usr/bin/env python3
"""Forwarding latency through dpfwd as a bump in the wire, against a direct veth.

UDP probes go from namespace A to namespace B, 1 ms apart, each carrying its
send time; B takes the kernel's receive timestamp (SO_TIMESTAMPNS, the same
clock). Prints p50, p99, max (µs) and the sample count for:
  - dpfwd: A's veth -> af_packet -> dpfwd -> af_packet -> B's veth
  - direct: A's veth <-> B's veth
Next to them, what dpfwd says itself: the residence time of the bursts it
timed (one in 32: rx_burst's return to the handover to tx_burst), read from `dpfwd stats`,
for the port the probes enter by. It must be at most the added latency.

    python bench/bench_latency.py [--probes 2000]
"""
import argparse
import json
import pathlib
import statistics
import subprocess
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from lab.dpfwd_process import Dpfwd, dpfwd_command  # noqa: E402
from lab.netns import BumpInTheWire, DirectWire  # noqa: E402

RECEIVER = r"""
import json, socket, struct, sys
n = int(sys.argv[1])
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)   # Linux's value
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
s.bind(("0.0.0.0", 7000)); s.settimeout(5)
print("ready", flush=True)
out = []
try:
    while len(out) < n:
        data, anc, _, _ = s.recvmsg(64, 64)
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", raw[:16])
                out.append(sec * 10**9 + nsec - struct.unpack("!q", data[:8])[0])
except socket.timeout:
    pass
print(json.dumps(out))
"""

SENDER = r"""
import socket, struct, sys, time
n, dst = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(n):
    s.sendto(struct.pack("!q", time.time_ns()) + bytes(56), (dst, 7000))
    time.sleep(0.001)
"""


def measure(world, probes):
    world.run_a(["ping", "-c", "2", "-i", "0.2", world.addr_b])   # ARP, warm caches
    rx = world.popen_in(world.ns_b, [sys.executable, "-c", RECEIVER, str(probes)],
                        stdout=subprocess.PIPE, text=True)
    assert rx.stdout.readline().strip() == "ready"
    world.run_a([sys.executable, "-c", SENDER, str(probes), world.addr_b], timeout=120)
    out, _ = rx.communicate(timeout=60)
    samples = sorted(x / 1000 for x in json.loads(out))
    if not samples:
        raise SystemExit("no probe arrived")
    return {"p50_us": statistics.median(samples),
            "p99_us": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
            "max_us": samples[-1], "samples": len(samples), "sent": probes}


def residence_us(instance, port=0):
    """dpfwd's own residence figures for bursts received on port, in us (bucket
    bounds for p50 and p99: upper limits)."""
    stats = subprocess.run(dpfwd_command() + ["stats", "--instance", instance, "--json"],
                           capture_output=True, text=True, check=True, timeout=30)
    r = json.loads(stats.stdout)["ports"][port]["residence"]
    return {"p50_us": (r["p50_ns"] or 0) / 1e3, "p99_us": (r["p99_ns"] or 0) / 1e3,
            "max_us": r["max_ns"] / 1e3, "samples": r["count"], "sent": "bursts timed"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--probes", type=int, default=2000)
    args = ap.parse_args()
    rows = {}
    with DirectWire("lat") as world:
        rows["direct veth"] = measure(world, args.probes)
    with BumpInTheWire("lat") as world:
        run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--instance", "bench_lat"])
        try:
            rows["dpfwd (af_packet)"] = measure(world, args.probes)
            rows["dpfwd residence (its own timing)"] = residence_us("bench_lat")
        finally:
            run.kill()
    print("| path | p50 µs | p99 µs | max µs | samples |\n|---|---:|---:|---:|---:|")
    for name, r in rows.items():
        print(f"| {name} | {r['p50_us']:.2f} | {r['p99_us']:.2f} | {r['max_us']:.1f} | "
              f"{r['samples']} / {r['sent']} |")


if __name__ == "__main__":
    main()
