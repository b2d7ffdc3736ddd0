"""Bursts: arrays of mbufs held by Python without copying their bytes."""
from .binding import ffi, lib
from .eal import eal_alive

# Arrays of mbuf pointers, kept for reuse: allocating one per rx_burst costs
# more than the burst itself on a fast port.
_spare_arrays = {}


def _array(size):
    spares = _spare_arrays.get(size)
    if spares:
        return spares.pop()
    return ffi.new("struct rte_mbuf *[]", size)


def _give_back(size, array):
    spares = _spare_arrays.get(size)
    if spares is None:
        _spare_arrays[size] = [array]
    elif len(spares) < 64:
        spares.append(array)


class Burst:
    """Up to ``size`` mbufs owned by Python.

    ``burst[i]`` is packet i's bytes as a writable memoryview of the mbuf
    itself (its first segment). The mbufs leave Python exactly once: when a
    port sends them (``Port.tx_burst``), on ``free()``, at the end of a
    ``with`` block, or, as a last resort, when the Burst is collected. Views
    handed out are released then, so a stale view raises instead of reading
    freed memory.
    """

    __slots__ = ("_pkts", "_n", "_size", "_views")

    def __init__(self, pkts, n, size):
        self._pkts = pkts
        self._n = n
        self._size = size
        self._views = None

    @classmethod
    def empty(cls, size):
        return cls(_array(size), 0, size)

    def __len__(self):
        return self._n

    def __bool__(self):
        return self._n > 0

    def __getitem__(self, i):
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"packet {i} is not in this burst of {self._n}")
        length = ffi.new("uint32_t *")
        data = lib.dpfwd_mbuf_data(self._pkts[i], length)
        view = memoryview(ffi.buffer(data, length[0]))
        if self._views is None:
            self._views = []
        self._views.append(view)
        return view

    def __iter__(self):
        return (self[i] for i in range(self._n))

    def packet_length(self, i):
        """The whole packet's length, all segments included."""
        self[i]  # bounds check
        return lib.dpfwd_mbuf_pkt_len(self._pkts[i])

    # For Port, Mempool and Capture: the only ways mbufs come into a Burst or leave it.
    def _fill(self, take):
        """Fill the empty burst with take(array) -> how many it put there."""
        self._n = take(self._pkts)

    def _append(self, mbuf):
        self._pkts[self._n] = mbuf
        self._n += 1

    def _transmit(self, tx, port_id, queue, free_unsent):
        """Hand the mbufs to tx(port_id, queue, array, n); (sent, freed).

        Sent mbufs belong to the PMD now. Unsent ones are freed, or with
        free_unsent False kept, in order, for another try."""
        n = self._n
        if n == 0:
            return 0, 0
        sent = tx(port_id, queue, self._pkts, n)
        if sent == n:
            self._forget()
            return sent, 0
        if free_unsent:
            lib.dpfwd_mbuf_free_bulk(self._pkts + sent, n - sent)
            self._forget()
            return sent, n - sent
        self._release_views()
        for i in range(n - sent):
            self._pkts[i] = self._pkts[sent + i]
        self._n = n - sent
        return sent, 0

    def _release_views(self):
        if self._views:
            for view in self._views:
                view.release()
        self._views = None

    def _forget(self):
        """The mbufs have left Python: keep none, reuse the array."""
        if self._views:
            self._release_views()
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
