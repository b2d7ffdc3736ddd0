"""Capture filters in tcpdump's language, compiled and run by libpcap
(libpcap0.8, which Debian's dpdk package depends on), through ctypes."""
import ctypes
import ctypes.util

from .errors import DpfwdError

DLT_EN10MB = 1
PCAP_NETMASK_UNKNOWN = 0xFFFFFFFF


class FilterError(DpfwdError):
    """A filter libpcap does not accept."""


class _Program(ctypes.Structure):
    _fields_ = [("bf_len", ctypes.c_uint), ("bf_insns", ctypes.c_void_p)]


class _Header(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long),
                ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]


def _libpcap():
    name = ctypes.util.find_library("pcap") or "libpcap.so.0.8"
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        raise FilterError("capture filters need libpcap: apt-get install libpcap0.8") from None
    lib.pcap_open_dead.restype = ctypes.c_void_p
    lib.pcap_open_dead.argtypes = [ctypes.c_int, ctypes.c_int]
    lib.pcap_compile.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Program), ctypes.c_char_p, ctypes.c_int,
                                 ctypes.c_uint32]
    lib.pcap_geterr.restype = ctypes.c_char_p
    lib.pcap_geterr.argtypes = [ctypes.c_void_p]
    lib.pcap_offline_filter.argtypes = [ctypes.POINTER(_Program), ctypes.POINTER(_Header), ctypes.c_char_p]
    lib.pcap_freecode.argtypes = [ctypes.POINTER(_Program)]
    lib.pcap_close.argtypes = [ctypes.c_void_p]
    return lib


class Filter:
    """Filter('udp port 53').matches(frame) -> bool, for Ethernet frames."""

    def __init__(self, expression, snaplen=65535):
        self.expression = expression
        self._lib = _libpcap()
        self._pcap = self._lib.pcap_open_dead(DLT_EN10MB, snaplen)
        self._prog = _Program()
        if self._lib.pcap_compile(self._pcap, ctypes.byref(self._prog), expression.encode(), 1,
                                  PCAP_NETMASK_UNKNOWN) != 0:
            why = self._lib.pcap_geterr(self._pcap).decode(errors="replace")
            self._lib.pcap_close(self._pcap)
            raise FilterError(f"filter '{expression}' is not valid: {why}")
        self._header = _Header()

    def matches(self, frame, orig_len=None):
        self._header.caplen = len(frame)
        self._header.len = len(frame) if orig_len is None else orig_len
        return bool(self._lib.pcap_offline_filter(ctypes.byref(self._prog), ctypes.byref(self._header),
                                                  bytes(frame)))

    def close(self):
        if self._pcap:
            self._lib.pcap_freecode(ctypes.byref(self._prog))
            self._lib.pcap_close(self._pcap)
            self._pcap = None
