"""Capture files, written as packets come: classic pcap (microsecond
timestamps) and pcapng (nanosecond timestamps, one Ethernet interface).
Both are little-endian, as tcpdump and Wireshark write them on x86."""
import struct
import time

LINKTYPE_ETHERNET = 1
PCAP_MAGIC = 0xA1B2C3D4
PCAPNG_SHB, PCAPNG_IDB, PCAPNG_EPB = 0x0A0D0D0A, 1, 6
PCAPNG_BYTE_ORDER = 0x1A2B3C4D
IF_TSRESOL, OPT_END = 9, 0


class PcapWriter:
    def __init__(self, path, snaplen=65535):
        self.f = open(path, "wb")
        self.snaplen = snaplen
        self.f.write(struct.pack("<IHHiIII", PCAP_MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))

    def write(self, data, orig_len=None, ts=None):
        ts = time.time() if ts is None else ts
        sec = int(ts)
        data = bytes(data[:self.snaplen])
        self.f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(data),
                                 len(data) if orig_len is None else orig_len))
        self.f.write(data)

    def close(self):
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _block(kind, body):
    """A pcapng block: type, total length, body padded to 32 bits, total length."""
    body += b"\0" * (-len(body) % 4)
    length = len(body) + 12
    return struct.pack("<II", kind, length) + body + struct.pack("<I", length)


class PcapngWriter(PcapWriter):
    def __init__(self, path, snaplen=65535):
        self.f = open(path, "wb")
        self.snaplen = snaplen
        # section header (no length known: -1), then one Ethernet interface in ns
        self.f.write(_block(PCAPNG_SHB, struct.pack("<IHHq", PCAPNG_BYTE_ORDER, 1, 0, -1)))
        tsresol = struct.pack("<HHB3x", IF_TSRESOL, 1, 9) + struct.pack("<HH", OPT_END, 0)
        self.f.write(_block(PCAPNG_IDB, struct.pack("<HHI", LINKTYPE_ETHERNET, 0, snaplen) + tsresol))

    def write(self, data, orig_len=None, ts=None):
        ns = time.time_ns() if ts is None else int(ts * 1e9)
        data = bytes(data[:self.snaplen])
        self.f.write(_block(PCAPNG_EPB, struct.pack("<IIIII", 0, ns >> 32, ns & 0xFFFFFFFF, len(data),
                                                    len(data) if orig_len is None else orig_len) + data))


def writer_for(path, fmt=None):
    """The writer for fmt ('pcap' or 'pcapng'), or, without one, the file's extension."""
    fmt = fmt or ("pcapng" if str(path).endswith(".pcapng") else "pcap")
    return (PcapngWriter if fmt == "pcapng" else PcapWriter)(path)
