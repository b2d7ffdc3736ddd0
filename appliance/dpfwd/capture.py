"""Live capture from a running instance (DPDK pdump), as a secondary process.

The forwarder serves capture (the data plane calls rte_pdump_init); a
Capture asks it for a port's packets and reads them from a ring.
"""
import os

from .binding import check_error, check_null, ffi, lib
from .burst import Burst
from .port import find_port

DIRECTIONS = {"rx": 1, "tx": 2, "both": 3}
ALL_QUEUES = 0xFFFF
READ_BURST = 64


class Capture:
    """Packets of one port (one queue or all; rx, tx or both) of the primary
    this process attached to. Needs a live secondary Eal; close() stops it."""

    def __init__(self, port, queue=None, direction="both"):
        self.port = find_port(port, probe=False)
        self._cap = check_null(lib.dpfwd_capture_start(self.port, ALL_QUEUES if queue is None else queue,
                                                       DIRECTIONS[direction], os.getpid()))

    def read(self, limit=READ_BURST):
        """A Burst of up to limit packets copied so far (empty when none)."""
        burst = Burst.empty(READ_BURST)
        burst._fill(lambda pkts: lib.dpfwd_capture_read(self._cap, pkts, min(limit, READ_BURST)))
        return burst

    def missed(self):
        """Packets the capture could not keep (its ring was full, or no mbuf)."""
        ringfull, nombuf = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        check_error(lib.dpfwd_capture_stats(self.port, ringfull, nombuf))
        return ringfull[0] + nombuf[0]

    def close(self):
        if self._cap is not None:
            lib.dpfwd_capture_stop(self._cap)
            self._cap = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
