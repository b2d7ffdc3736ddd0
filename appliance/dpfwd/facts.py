"""What the data plane declares once in native/dpfwd.h, as Python values.

Counters, modes, idle policies and limits come from the header's lists
through cffi (dpfwd._facts: the tables alone, no DPDK library), so config
checks, plans, CLI tables, JSON and metrics never spell them again.
"""
from dataclasses import dataclass

from ._facts import ffi, lib


@dataclass(frozen=True)
class Counter:
    name: str       # key in every snapshot and telemetry reply
    metric: str     # Prometheus stem: dpfwd_<scope>_<metric>_total
    help: str
    flags: int      # DPFWD_C_* bits
    scale: int      # the metric's value is the counter / scale

    def kept_at(self, scope):
        """Is it kept per 'port' (and queue) or per 'lcore'?"""
        return bool(self.flags & SCOPE_FLAGS[scope])

    @property
    def lost(self):
        return bool(self.flags & lib.DPFWD_C_LOST)

    @property
    def summary(self):
        return bool(self.flags & lib.DPFWD_C_SUMMARY)

    @property
    def unit(self):
        """What it counts, from its metric's unit suffix: packets, bytes, seconds..."""
        return self.metric.rsplit("_", 1)[-1]


def _text(p):
    return ffi.string(p).decode() if p != ffi.NULL else None


def _rows(table, n):
    return [table[i] for i in range(n)]


SCOPE_FLAGS = {"port": lib.DPFWD_C_PORT, "lcore": lib.DPFWD_C_LCORE}
COUNTERS = tuple(Counter(_text(r.name), _text(r.metric), _text(r.help), r.flags, r.scale)
                 for r in _rows(lib.dpfwd_counter_facts, lib.dpfwd_n_counters))
COUNTER_NAMES = tuple(c.name for c in COUNTERS)
# The data plane's codes are the positions in these tuples.
MODES = tuple(_text(r.name) for r in _rows(lib.dpfwd_mode_facts, lib.dpfwd_n_modes))
MODE_HELP = {_text(r.name): _text(r.help) for r in _rows(lib.dpfwd_mode_facts, lib.dpfwd_n_modes)}
DATAPLANE_IDLE = tuple(_text(r.name) for r in _rows(lib.dpfwd_idle_facts, lib.dpfwd_n_idle))
IDLE_HELP = {_text(r.name): _text(r.help) for r in _rows(lib.dpfwd_idle_facts, lib.dpfwd_n_idle)}
# auto is a choice made in Python at start (forwarder.choose_idle), not a data plane policy.
IDLE_POLICIES = ("auto",) + DATAPLANE_IDLE
IDLE_HELP["auto"] = "monitor where the CPU can, sleep otherwise"

MAX_PORTS = lib.DPFWD_MAX_PORTS
MAX_TASKS = lib.DPFWD_MAX_TASKS
MAX_LCORES = lib.DPFWD_MAX_LCORES
MAX_QUEUES = lib.DPFWD_MAX_QUEUES
MAX_BURST = lib.DPFWD_MAX_BURST
CAPTURE_MBUFS = lib.DPFWD_CAPTURE_MBUFS
# Residence histogram: bucket i holds times up to RESIDENCE_BOUNDS_NS[i] (the last: any).
RESIDENCE_BOUNDS_NS = tuple(lib.DPFWD_RESIDENCE_FIRST_NS << i for i in range(lib.DPFWD_RESIDENCE_BUCKETS - 1)) \
    + (float("inf"),)


def lost(counters):
    """Packets lost for any reason, from one counters dict (a port's, an lcore's)."""
    return sum(counters.get(c.name, 0) for c in COUNTERS if c.lost)


def zero_counters():
    return dict.fromkeys(COUNTER_NAMES, 0)


# "Packets received": the rx-side summary counter (what --count counts).
RECEIVED = next(c.name for c in COUNTERS if c.summary and c.flags & lib.DPFWD_C_RX_SIDE)
# How often a port's link changed: shown next to the link's state.
LINK_CHANGES = next(c.name for c in COUNTERS if c.flags & lib.DPFWD_C_LINK)
