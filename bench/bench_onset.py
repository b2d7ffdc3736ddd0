#!/usr/bin/env python3
"""Loss at traffic onset, and CPU on a quiet wire, per idle policy.

The lab model (lab/onset): a net_ring port whose ring stands for a NIC's rx
ring of --descriptors, fed by a DPDK secondary at a set rate in trains of
20 ms after 100 ms of quiet (the lcore backs off in between). "onset" is
what the ring missed in a train's first 2 ms, where an lcore that slept is
still waking; "later" the rest of the train (this machine's own stalls,
which busy polling sees too). Quiet CPU: the forwarding lcore's thread, from
/proc, with nothing offered. Then the same for forced sleep caps
(forwarding.sleep_max_us): the curve the default is chosen from.

    python bench/bench_onset.py [--trains 20] [--descriptors 1024]
"""
import argparse
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from lab.onset import LINE_RATE_10G, OnsetModel  # noqa: E402

RATES = (1e6, 5e6, 10e6, LINE_RATE_10G)
POLICIES = (("busy", None), ("sleep", None), ("auto", None))
CAPS = (10, 25, 50, 100, 250, 500)


def measure(idle, cap, descriptors, trains):
    with OnsetModel(descriptors=descriptors, idle=idle, sleep_max_us=cap, instance="bench_onset") as model:
        cpu = model.quiet_cpu(2.0)
        cells = []
        for rate in RATES:
            got = model.trains(rate, count=trains)
            cells.append((sum(t["onset"] for t in got), sum(1 for t in got if t["onset"]),
                          sum(t["missed"] - t["onset"] for t in got), sum(t["offered"] for t in got)))
        return cpu, cells


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trains", type=int, default=20)
    ap.add_argument("--descriptors", type=int, default=1024)
    args = ap.parse_args()
    rows = [(f"{idle}" + (f" (sleep_max_us {cap})" if cap else ""), *measure(idle, cap, args.descriptors, args.trains))
            for idle, cap in POLICIES + tuple(("sleep", c) for c in CAPS)]
    print(f"\n{args.descriptors}-descriptor rx ring (1023 modelled), {args.trains} trains of 20 ms per rate "
          "after 100 ms quiet; onset = missed in the first 2 ms (trains with any), later = missed after\n")
    head = " | ".join(f"{r / 1e6:g} Mpps onset (trains) / later" for r in RATES)
    print(f"| idle | quiet CPU | {head} |")
    print("|---|---:|" + "---:|" * len(RATES))
    for name, cpu, cells in rows:
        print(f"| {name} | {cpu:.0%} | " + " | ".join(f"{o} ({n}) / {later}" for o, n, later, _ in cells) + " |")


if __name__ == "__main__":
    main()
