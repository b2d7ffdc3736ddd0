"""Fuzzing the Python API with Hypothesis: random sequences of rx, tx, alloc,
free, reads, slices and writes of packets (stale ones too), and closes, on
net_null and net_ring. Every step works or raises a dpfwd error (IndexError
or ValueError for a bad index or value); then EAL closes under the leftovers.
Zero tracebacks, zero crashes. EAL starts once per process: the run is one
script. DPFWD_FUZZ_EXAMPLES sets how many sequences (see the README)."""
import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.dataplane
EXAMPLES = int(os.environ.get("DPFWD_FUZZ_EXAMPLES", "300")) // 3

SCRIPT = r"""
import json, sys
from hypothesis import given, settings, strategies as st, HealthCheck
from dpfwd import Eal, Mempool, Port, PortConfig, DpfwdError

allowed = (DpfwdError, IndexError, ValueError)
count = {"examples": 0, "steps": 0, "raised": 0}
idx = st.integers(-3, 40)
step = st.one_of(
    st.tuples(st.just("rx"), st.integers(0, 1), st.sampled_from([0, 1, -1, 70000]), st.sampled_from([1, 4, 32, 0])),
    st.tuples(st.just("tx"), st.integers(0, 1), st.sampled_from([0, 1]), idx),
    st.tuples(st.just("free"), idx),
    st.tuples(st.just("read"), idx, idx, idx),
    st.tuples(st.just("slice"), idx, idx, idx, idx),
    st.tuples(st.just("write"), idx, idx, idx, st.integers(-1, 256)),
    st.tuples(st.just("keep"), idx, idx),
    st.tuples(st.just("stale"), idx),
    st.tuples(st.just("alloc"), st.sampled_from([0, 1, 8, 70000]), st.sampled_from([0, 60, 1500, 70000])),
    st.tuples(st.just("close_pool")),
)

eal = Eal(["-l", "0", "--no-pci", "--vdev", "net_null0", "--vdev", "net_ring0"])
rxpool = Mempool("fz_rx", 4096, 0)
ports = [Port("net_null0", rxpool), Port("net_ring0", rxpool)]
bursts, kept = [], []

def pick(seq, i):
    return seq[i % len(seq)] if seq else None

def run(op, pool):
    kind = op[0]
    if kind == "rx":
        bursts.append(ports[op[1]].rx_burst(op[2], op[3]))
    elif kind == "tx":
        b = pick(bursts, op[3])
        if b is not None:
            ports[op[1]].tx_burst(op[2], b)
    elif kind == "free":
        b = pick(bursts, op[1])
        if b is not None:
            b.free()
    elif kind in ("read", "slice", "write", "keep"):
        b = pick(bursts, op[1])
        if b is None:
            return
        pkt = b[op[2]]
        if kind == "read":
            pkt[op[3]]
        elif kind == "slice":
            bytes(pkt[op[3]:op[4]])
        elif kind == "write":
            pkt[op[3]] = op[4]
        else:
            kept.append(pkt)
    elif kind == "stale":
        p = pick(kept, op[1])
        if p is not None:
            p[0]
    elif kind == "alloc":
        bursts.append(pool.alloc(op[1], op[2]))
    elif kind == "close_pool":
        pool.close()

@settings(max_examples=int(sys.argv[1]), deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(st.lists(step, max_size=30))
def sequence(ops):
    count["examples"] += 1
    pool = Mempool(f"fz{count['examples']}", 64, 0)
    try:
        for op in ops:
            count["steps"] += 1
            try:
                run(op, pool)
            except allowed:
                count["raised"] += 1
    finally:
        for b in bursts:
            b.free()
        bursts.clear()
        while ports[1].rx_burst(0, 32):        # what the ring still holds goes back
            pass
        try:
            pool.close()
        except DpfwdError:
            pass                               # a burst of the ring was its; freed above, next time

sequence()
# EAL closes under whatever is left: packets kept, a burst, the ports
last = ports[0].rx_burst(0, 4)
kept.append(last[0])
eal.close()
for fn in (lambda: kept[-1][0], lambda: last[0], last.free, lambda: ports[0].rx_burst(0, 4)):
    try:
        fn()
    except DpfwdError:
        count["raised"] += 1
print(json.dumps(count))
"""


def test_random_api_sequences_never_crash(dpdk_host):
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(EXAMPLES)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    count = json.loads(proc.stdout.strip().splitlines()[-1])
    assert count["examples"] == EXAMPLES and count["steps"] > EXAMPLES, count
    print(f"API fuzz: {count}")
