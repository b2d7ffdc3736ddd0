#!/usr/bin/env python3
"""Read packets from a port and summarise them, without copying their bytes.

    python examples/inspect_packets.py capture.pcap      # replays it through net_pcap
    python examples/inspect_packets.py --vdev net_af_packet0,iface=veth0 --count 100

Prints one line per packet (length, MACs, EtherType, VLAN) and totals per EtherType.
"""
import argparse
import collections
import time

from dpfwd import Eal, Mempool, Port

ETHERTYPES = {0x0800: "IPv4", 0x86DD: "IPv6", 0x0806: "ARP", 0x8100: "VLAN", 0x88A8: "QinQ"}


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def describe(view):
    """A line for one frame, reading the mbuf in place."""
    if len(view) < 14:
        return "runt", f"{len(view):5d} B  runt frame"
    ethertype = int.from_bytes(view[12:14], "big")
    vlan = ""
    if ethertype in (0x8100, 0x88A8) and len(view) >= 18:
        vlan = f" vlan {int.from_bytes(view[14:16], 'big') & 0xFFF}"
        ethertype = int.from_bytes(view[16:18], "big")
    name = ETHERTYPES.get(ethertype, f"0x{ethertype:04x}")
    return name, f"{len(view):5d} B  {mac(view[6:12])} -> {mac(view[0:6])}  {name}{vlan}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcap", nargs="?", help="a pcap file to replay")
    ap.add_argument("--vdev", help="any DPDK vdev to read from instead")
    ap.add_argument("--count", type=int, default=1000, help="stop after this many packets")
    ap.add_argument("--seconds", type=float, default=10.0, help="stop after this long")
    args = ap.parse_args()
    if not (args.pcap or args.vdev):
        ap.error("give a pcap file or --vdev")
    vdev = args.vdev or f"net_pcap0,rx_pcap={args.pcap}"
    totals = collections.Counter()
    with Eal(["-l", "0", "--no-pci", "--log-level", "lib.eal:warning", "--vdev", vdev]):
        port = Port(0, Mempool("inspect", 2048, 64))
        end = time.monotonic() + args.seconds
        while sum(totals.values()) < args.count and time.monotonic() < end:
            with port.rx_burst(0, 32) as burst:
                for view in burst:
                    kind, line = describe(view)
                    totals[kind] += 1
                    print(line)
    print("totals:", ", ".join(f"{k} {v}" for k, v in totals.most_common()))


if __name__ == "__main__":
    main()
