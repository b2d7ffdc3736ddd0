"""Classic pcap files (microsecond timestamps, Ethernet), written as packets come."""
import struct
import time

MAGIC = 0xA1B2C3D4
LINKTYPE_ETHERNET = 1


class PcapWriter:
    def __init__(self, path, snaplen=65535):
        self.f = open(path, "wb")
        self.snaplen = snaplen
        self.f.write(struct.pack("<IHHiIII", MAGIC, 2, 4, 0, 0, snaplen, LINKTYPE_ETHERNET))

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
