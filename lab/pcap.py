"""pcap files for tests: write classic microsecond pcaps, read both flavours.

DPDK's net_pcap writes nanosecond pcaps, so compare packet bytes, not files.
"""
import struct

from dpfwd.pcapfile import PcapWriter

_MAGIC_US = 0xA1B2C3D4
_MAGIC_NS = 0xA1B23C4D


def write(path, packets):
    """A pcap of packets, one microsecond apart."""
    with PcapWriter(path) as w:
        for i, pkt in enumerate(packets):
            w.write(pkt, ts=i / 1e6)


def read(path):
    """The packets' bytes, in file order."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError(f"{path}: {len(data)} bytes is no pcap file")
    magic = struct.unpack_from("<I", data)[0]
    endian = "<" if magic in (_MAGIC_US, _MAGIC_NS) else ">"
    if struct.unpack_from(endian + "I", data)[0] not in (_MAGIC_US, _MAGIC_NS):
        raise ValueError(f"{path}: not a pcap file (magic {magic:#x})")
    packets, off = [], 24
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack_from(endian + "IIII", data, off)
        off += 16
        packets.append(data[off:off + caplen])
        off += caplen
    return packets
