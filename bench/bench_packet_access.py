#!/usr/bin/env python3
"""What memory safety costs a Python reader of packets: one packet of a
net_null burst, taken, its first byte read and its 14-byte header sliced,
through a Packet (burst[i], released when the mbuf leaves), against a bare
memoryview over the mbuf (what burst[i] was before: fast, but a slice of it
outlived the mbuf). Prints ns per packet, best of 5 x 200k.

    python bench/bench_packet_access.py
"""
import json
import timeit

from dpfwd import Eal, Mempool, Port
from dpfwd.binding import ffi, lib

N = 200_000

with Eal(["-l", "0", "--no-pci", "--vdev", "net_null0"]):
    pool = Mempool("bench_pa", 8192, 0)
    port = Port("net_null0", pool)
    with port.rx_burst(0, 32) as burst:
        mbuf = burst._pkts[0]
        length = ffi.new("uint32_t *")

        def bare_memoryview():
            view = memoryview(ffi.buffer(lib.dpfwd_mbuf_data(mbuf, length), length[0]))
            view[0], view[:14]

        def packet():
            pkt = burst[0]
            pkt[0], pkt[:14]

        result = {name: round(min(timeit.repeat(fn, number=N, repeat=5)) / N * 1e9)
                  for name, fn in (("memoryview_ns", bare_memoryview), ("packet_ns", packet))}
print(json.dumps(result))
