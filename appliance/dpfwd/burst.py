"""Bursts: arrays of mbufs held by Python without copying their bytes, and
Packets: one mbuf's bytes, reachable only while the burst holds it."""
import operator

from .binding import ffi, lib
from .eal import _State, eal_alive
from .errors import DpfwdError, EalError, PacketReleased

# Arrays of mbuf pointers, kept for reuse: allocating one per rx_burst costs
# more than the burst itself on a fast port.
_spare_arrays = {}


def _array(size):
    spares = _spare_arrays.get(size)
    if spares:
        return spares.pop()
    if not isinstance(size, int) or not 0 < size < lib.DPFWD_BURST_INVALID:
        raise DpfwdError(f"a burst holds 1 to {lib.DPFWD_BURST_INVALID - 1} packets, not {size!r}")
    return ffi.new("struct rte_mbuf *[]", size)


def _give_back(size, array):
    spares = _spare_arrays.get(size)
    if spares is None:
        _spare_arrays[size] = [array]
    elif len(spares) < 64:
        spares.append(array)


def _position(i, n, what):
    """Index i (negative counts from the end) of n things, or IndexError."""
    i = operator.index(i)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise IndexError(f"{what} {i} is not in this {'packet' if what == 'byte' else 'burst'} of {n}")
    return i


class Packet:
    """Packet i of a Burst: the bytes of its mbuf (first segment), in place.

    ``p[i]`` reads or writes one byte of the mbuf; ``p[a:b]`` reads a copy
    (bytes) or, assigned to, writes in place; ``bytes(p)`` copies it all.
    A Packet exports no buffer (no memoryview or numpy array of it), because
    such a buffer could outlive the mbuf: once the mbuf has left Python (sent,
    freed, its burst collected, EAL closed), every use raises PacketReleased.
    """

    __slots__ = ("_burst", "_gen", "_data", "_len")

    def __init__(self, burst, data, length):
        self._burst, self._gen, self._data, self._len = burst, burst._gen, data, length

    def _live(self):
        if self._burst._gen != self._gen or _State.current is None:
            raise PacketReleased("this packet's mbuf has left Python (sent, freed or its EAL closed); "
                                 "copy what you need with bytes(packet) before")
        return self._data

    def __len__(self):
        return self._len

    def __getitem__(self, key):
        data = self._live()
        if key.__class__ is int and 0 <= key < self._len:     # the common case, first
            return data[key]
        if isinstance(key, slice):
            start, stop, step = key.indices(self._len)
            if step == 1:
                return ffi.buffer(data + start, max(stop - start, 0))[:]
            return ffi.buffer(data, self._len)[:][key]
        return data[_position(key, self._len, "byte")]

    def __setitem__(self, key, value):
        data = self._live()
        if isinstance(key, slice):
            start, stop, step = key.indices(self._len)
            value = bytes(value)
            if step != 1 or len(value) != max(stop - start, 0):
                raise ValueError(f"write {max(stop - start, 0)} bytes to that slice (got {len(value)}); "
                                 "a packet's length does not change this way")
            ffi.memmove(data + start, value, len(value))
        else:
            value = operator.index(value)
            if not 0 <= value <= 255:
                raise ValueError(f"a byte is 0..255, not {value}")
            data[_position(key, self._len, "byte")] = value

    def __bytes__(self):
        return ffi.buffer(self._live(), self._len)[:]

    def __iter__(self):
        return iter(bytes(self))

    def __eq__(self, other):
        return bytes(self) == bytes(other) if isinstance(other, (Packet, bytes, bytearray)) else NotImplemented

    __hash__ = None

    def __repr__(self):
        live = self._burst._gen == self._gen and eal_alive()
        return f"<Packet of {self._len} B{'' if live else ', released'}>"


class Burst:
    """Up to ``size`` mbufs owned by Python.

    ``burst[i]`` is packet i: a Packet over the mbuf's own bytes, no copy.
    The mbufs leave Python exactly once: when a port sends them
    (``Port.tx_burst``), on ``free()``, at the end of a ``with`` block, or,
    as a last resort, when the Burst is collected. Packets handed out are
    released then: using one raises instead of reaching an mbuf Python no
    longer owns.
    """

    __slots__ = ("_pkts", "_n", "_size", "_gen")

    def __init__(self, pkts, n, size):
        self._pkts = pkts
        self._n = n
        self._size = size
        self._gen = 0       # bumped when the mbufs leave: their Packets are released

    @classmethod
    def empty(cls, size):
        return cls(_array(size), 0, size)

    def __len__(self):
        return self._n

    def __bool__(self):
        return self._n > 0

    def __getitem__(self, i):
        i = _position(i, self._n, "packet")
        if _State.current is None:
            raise EalError("EAL is closed: its mbufs are gone")
        length = _LENGTH
        data = lib.dpfwd_mbuf_data(self._pkts[i], length)
        return Packet(self, data, length[0])

    def __iter__(self):
        return (self[i] for i in range(self._n))

    def packet_length(self, i):
        """The whole packet's length, all segments included."""
        self[i]  # bounds and EAL check
        return lib.dpfwd_mbuf_pkt_len(self._pkts[i])

    # For Port, Mempool and Capture: the only ways mbufs come into a Burst or leave it.
    def _fill(self, take):
        """Fill the empty burst with take(array) -> how many it put there."""
        self._n = take(self._pkts)

    def _append(self, mbuf):
        self._pkts[self._n] = mbuf
        self._n += 1

    def _transmit(self, tx, port_id, queue, free_unsent):
        """Hand the mbufs to tx(port_id, queue, array, n); (sent, freed),
        sent -1 when the data plane refused the call.

        Sent mbufs belong to the PMD now. Unsent ones are freed, or with
        free_unsent False kept, in order, for another try."""
        n = self._n
        if n == 0:
            return 0, 0
        sent = tx(port_id, queue, self._pkts, n)
        if sent > n:
            return -1, 0        # refused: the burst keeps them all
        if sent == n:
            self._forget()
            return sent, 0
        if free_unsent:
            lib.dpfwd_mbuf_free_bulk(self._pkts + sent, n - sent)
            self._forget()
            return sent, n - sent
        self._gen += 1      # the sent ones' Packets are gone; indexes shift
        for i in range(n - sent):
            self._pkts[i] = self._pkts[sent + i]
        self._n = n - sent
        return sent, 0

    def _forget(self):
        """The mbufs have left Python: keep none, reuse the array."""
        self._gen += 1
        self._n = 0
        if self._pkts is not None:
            _give_back(self._size, self._pkts)
            self._pkts = None

    def free(self):
        """Return the mbufs to their pools. Safe to call more than once."""
        if self._n and eal_alive():
            lib.dpfwd_mbuf_free_bulk(self._pkts, self._n)
        self._forget()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.free()

    def __del__(self):
        if self._n:
            self.free()

    def __repr__(self):
        return f"<Burst of {self._n}>"


EMPTY = Burst(None, 0, 0)
# Where dpfwd_mbuf_data puts a length, read at once after (the GIL is held
# across both): one allocation for the process, not one per packet.
_LENGTH = ffi.new("uint32_t *")
