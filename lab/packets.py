"""Deterministic mixes of Ethernet frames for replay tests.

Every frame carries its sequence number where it has a payload, so order and
identity can be checked on the far side.
"""
import random
import struct

SRC = bytes.fromhex("020000000a01")
DST = bytes.fromhex("020000000b01")
KINDS = ("ipv4_udp", "ipv4_tcp", "vlan_ipv4", "ipv6_udp", "truncated", "garbage")


def _ipv4(payload_len, proto, total_len=None):
    total = total_len if total_len is not None else 20 + payload_len
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 0, 0, 64, proto, 0,
                       bytes([198, 51, 100, 1]), bytes([198, 51, 100, 2]))


def _fill(header, size, seq):
    body = struct.pack("!I", seq)
    need = size - len(header)
    payload = (body * (need // 4 + 1))[:need] if need > 0 else b""
    return (header + payload)[:size]


def frame(kind, size, seq, rng):
    """One frame of `size` bytes (no CRC)."""
    if kind == "garbage":
        return bytes(rng.getrandbits(8) for _ in range(size))
    if kind == "ipv6_udp":
        ip6 = struct.pack("!IHBB16s16s", 0x60000000, size - 54, 17, 64,
                          bytes(15) + b"\x01", bytes(15) + b"\x02")
        hdr = DST + SRC + b"\x86\xdd" + ip6 + struct.pack("!HHHH", 1000, 2000, size - 54, 0)
        return _fill(hdr, size, seq)
    if kind == "vlan_ipv4":
        vlan = b"\x81\x00" + struct.pack("!H", 100 + seq % 4000) + b"\x08\x00"
        hdr = DST + SRC + vlan + _ipv4(size - 38, 17) + struct.pack("!HHHH", 1000, 2000, size - 38, 0)
        return _fill(hdr, size, seq)
    if kind == "truncated":
        # The IPv4 header promises more bytes than the frame carries.
        hdr = DST + SRC + b"\x08\x00" + _ipv4(0, 6, total_len=1500) + struct.pack("!HHII", 1, 2, seq, 0)
        return _fill(hdr, size, seq)
    proto = 6 if kind == "ipv4_tcp" else 17
    l4 = (struct.pack("!HHIIBBHHH", 1000, 2000, seq, 0, 0x50, 0x10, 1024, 0, 0) if proto == 6
          else struct.pack("!HHHH", 1000, 2000, size - 34, 0))
    hdr = DST + SRC + b"\x08\x00" + _ipv4(size - 34, proto) + l4
    return _fill(hdr, size, seq)


def mixed(count, seed=1, min_size=60, max_size=1514):
    """count frames of every kind, sizes spread from min_size to max_size."""
    rng = random.Random(seed)
    out = []
    for seq in range(count):
        kind = KINDS[seq % len(KINDS)]
        size = rng.choice((min_size, max_size)) if seq % 10 == 0 else rng.randint(min_size, max_size)
        out.append(frame(kind, size, seq, rng))
    return out
