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


def read_with_libpcap(path):
    """The packets' bytes as libpcap reads them (pcap or pcapng): what tcpdump
    and Wireshark's library make of a file, not this module's own parser."""
    import ctypes
    import ctypes.util

    class Header(ctypes.Structure):
        _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                    ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]
    lib = ctypes.CDLL(ctypes.util.find_library("pcap") or "libpcap.so.0.8")
    lib.pcap_open_offline.restype = ctypes.c_void_p
    lib.pcap_open_offline.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.pcap_next_ex.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(Header)),
                                 ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    err = ctypes.create_string_buffer(256)
    handle = lib.pcap_open_offline(str(path).encode(), err)
    if not handle:
        raise ValueError(f"{path}: libpcap cannot read it: {err.value.decode()}")
    header, data, out = ctypes.POINTER(Header)(), ctypes.POINTER(ctypes.c_ubyte)(), []
    try:
        while lib.pcap_next_ex(handle, ctypes.byref(header), ctypes.byref(data)) == 1:
            out.append(ctypes.string_at(data, header.contents.caplen))
    finally:
        lib.pcap_close(handle)
    return out
