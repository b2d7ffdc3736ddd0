"""Pools of packet buffers (mbufs)."""
from .binding import check_error, check_null, lib
from .burst import Burst
from .eal import eal_alive, require_eal
from .errors import MempoolError

SOCKET_ANY = -1
DEFAULT_MBUFS = 8192
DEFAULT_CACHE = 256


def data_room_for_mtu(mtu):
    """mbuf data room (bytes) that holds one frame of this MTU in one segment."""
    return lib.dpfwd_pool_data_room(mtu)


class Mempool:
    """``rte_pktmbuf_pool_create``: n mbufs, a per-lcore cache, on a NUMA socket.

    ``data_room`` defaults to what a 1500-byte MTU needs; see
    :func:`data_room_for_mtu` for jumbo frames.
    """

    def __init__(self, name, n=DEFAULT_MBUFS, cache_size=DEFAULT_CACHE,
                 socket=SOCKET_ANY, data_room=None):
        self._eal = require_eal()
        self.name = name
        self.size = n
        self.data_room = data_room or data_room_for_mtu(1500)
        self._ptr = check_null(
            lib.dpfwd_pool_create(name.encode(), n, cache_size, self.data_room, socket),
            MempoolError)
        self._owned = True
        self._eal._adopt(self)

    @classmethod
    def attach(cls, name):
        """The pool a running instance made, from a secondary process of it
        (``Eal(["--proc-type=secondary", ...])``); close() leaves it alone.
        mbufs taken from a thread that is not an EAL lcore bypass the
        per-lcore caches, which the instance's own lcores use."""
        pool = cls.__new__(cls)
        pool._eal = require_eal()
        pool._ptr = check_null(lib.dpfwd_pool_lookup(name.encode()), MempoolError)
        pool.name, pool._owned = name, False
        pool.size = pool.in_use + pool.available
        pool.data_room = None
        return pool

    @property
    def in_use(self):
        return lib.dpfwd_pool_in_use(self._live())

    @property
    def available(self):
        return lib.dpfwd_pool_available(self._live())

    def alloc(self, count, length=64):
        """A Burst of count fresh mbufs, each holding length bytes."""
        burst = Burst.empty(count)
        try:
            for _ in range(count):
                m = check_null(lib.dpfwd_mbuf_alloc(self._live()), MempoolError)
                burst._append(m)
                check_error(lib.dpfwd_mbuf_set_len(m, length), MempoolError)
        except MempoolError:
            burst.free()
            raise
        return burst

    def _live(self):
        if self._ptr is None:
            raise MempoolError(f"mempool {self.name} is freed")
        return self._ptr

    def close(self):
        """Free the pool. While mbufs of it are still out (in bursts, rings or
        a port's queues) that would free memory they live in: MempoolError,
        unless EAL itself is closing. Idempotent."""
        if self._ptr is not None and self._owned and eal_alive():
            out = lib.dpfwd_pool_in_use(self._ptr)
            if out and not self._eal._closing:
                raise MempoolError(f"mempool {self.name}: {out} mbufs are still out (in bursts, rings or "
                                   "a port's queues); free them, or close the ports using it, first")
            lib.dpfwd_pool_free(self._ptr)
            self._eal._forget(self)
        self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Mempool({self.name!r}, n={self.size})"
