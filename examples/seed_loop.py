#!/usr/bin/env python3
"""The seed loop in Python: two ports, each burst received on one sent out of the other.

    python examples/seed_loop.py --vdev net_null0 --vdev net_null1 --seconds 5

Prints one JSON line: packets forwarded, seconds, Mpps. Python holds the mbufs
for the time between rx and tx; no packet bytes are copied.
"""
import argparse
import json
import time

from dpfwd import Eal, Mempool, Port, PortConfig


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vdev", action="append", required=True, help="two vdev specs")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--burst", type=int, default=32)
    ap.add_argument("--lcores", default="0")
    args = ap.parse_args()

    eal_args = ["-l", args.lcores, "--no-pci", "--log-level", "lib.eal:warning"]
    for spec in args.vdev:
        eal_args += ["--vdev", spec]
    with Eal(eal_args):
        pool = Mempool("seed", n=8192, cache_size=256)
        port1 = Port(args.vdev[0].split(",")[0], pool, PortConfig())
        port2 = Port(args.vdev[1].split(",")[0], pool, PortConfig())
        forwarded = 0
        n = args.burst
        end = time.monotonic() + args.seconds
        start = time.monotonic()
        while True:
            for _ in range(1000):
                burst = port1.rx_burst(0, n)
                forwarded += port2.tx_burst(0, burst)
                burst = port2.rx_burst(0, n)
                forwarded += port1.tx_burst(0, burst)
            if time.monotonic() >= end:
                break
        elapsed = time.monotonic() - start
    print(json.dumps({"packets": forwarded, "seconds": elapsed,
                      "mpps": forwarded / elapsed / 1e6}))


if __name__ == "__main__":
    main()
