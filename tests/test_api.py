"""The Python API on real DPDK ports. EAL starts once per process, so each
scenario runs as its own small script and reports JSON."""
import json
import pathlib
import subprocess
import sys
import textwrap

import pytest

from lab import packets, pcap

pytestmark = pytest.mark.dataplane

PRELUDE = """
import json, sys
from dpfwd import Eal, Mempool, Port, PortConfig, DpfwdError, EalError, PortError, MempoolError
def eal(*vdevs, extra=()):
    args = ["-l", "0", "--no-pci", "--log-level", "lib.eal:warning", *extra]
    for v in vdevs:
        args += ["--vdev", v]
    return Eal(args)
out = {}
"""


def script(body, timeout=60):
    code = PRELUDE + textwrap.dedent(body) + "\nprint(json.dumps(out))\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_bursts_carry_packets_and_a_written_byte_reaches_the_wire(dpdk_host, tmp_path):
    sent = packets.mixed(100, seed=7)
    pcap.write(tmp_path / "in.pcap", sent)
    out = script(f"""
        with eal("net_pcap0,rx_pcap={tmp_path}/in.pcap", "net_pcap1,tx_pcap={tmp_path}/out.pcap"):
            pool = Mempool("api", 2048, 64)
            rx = Port("net_pcap0", pool)
            tx = Port(1, pool)
            n, lengths = 0, []
            while n < 100:
                burst = rx.rx_burst(0, 32)
                lengths += [len(burst[i]) for i in range(len(burst))]
                for view in burst:
                    view[0] = 0xEE           # zero-copy: written into the mbuf itself
                n += tx.tx_burst(0, burst)
            out["n"], out["lengths"], out["in_use"] = n, lengths, pool.in_use
            out["names"] = [rx.name, tx.name]
    """)
    assert out["n"] == 100 and out["in_use"] == 0
    assert out["lengths"] == [len(p) for p in sent]
    assert out["names"] == ["net_pcap0", "net_pcap1"]
    got = pcap.read(tmp_path / "out.pcap")
    assert got == [b"\xee" + p[1:] for p in sent]


def test_mbufs_are_freed_by_free_by_with_and_by_tx(dpdk_host):
    out = script("""
        with eal("net_null0", "net_null1"):
            pool = Mempool("free", 4096, 0)
            p0, p1 = Port("net_null0", pool), Port("net_null1", pool)
            base = pool.in_use                   # the rx rings hold their own mbufs
            burst = p0.rx_burst(0, 32)
            out["held"] = pool.in_use - base
            burst.free(); burst.free()           # idempotent
            out["after_free"] = pool.in_use - base
            with p0.rx_burst(0, 16) as b:
                out["in_with"] = pool.in_use - base
            out["after_with"] = pool.in_use - base
            b = p0.rx_burst(0, 8)
            out["sent"] = p1.tx_burst(0, b)
            out["after_tx"], out["left_in_burst"] = pool.in_use - base, len(b)
            view_burst = p0.rx_burst(0, 4)
            view = view_burst[0]
            view_burst.free()
            try:
                view[0]
                out["stale_view"] = "readable"
            except ValueError:
                out["stale_view"] = "released"
            made = pool.alloc(3, 100)
            out["alloc"] = [len(made), len(made[0]), pool.in_use - base]
            made.free()
    """)
    assert out["held"] == 32
    assert (out["after_free"], out["in_with"], out["after_with"]) == (0, 16, 0)
    assert (out["sent"], out["after_tx"], out["left_in_burst"]) == (8, 0, 0)
    assert out["stale_view"] == "released"
    assert out["alloc"] == [3, 100, 3]


def test_error_cases_raise_one_line_dpfwd_errors(dpdk_host):
    out = script("""
        def err(fn):
            try:
                fn()
            except DpfwdError as e:
                return [type(e).__name__, str(e)]
            return None
        out["before_eal"] = err(lambda: Mempool("x", 1024, 0))
        with eal("net_null0", "net_pcap1,tx_pcap=/dev/null") as e:
            pool = Mempool("errs", 1024, 0)
            out["no_port"] = err(lambda: Port(7, pool))
            out["bad_vdev"] = err(lambda: Port("net_bogus0", pool))
            out["bad_name"] = err(lambda: Port("eth9", pool))
            out["queues"] = err(lambda: Port("net_pcap1", pool, PortConfig(rx_queues=2, tx_queues=2)))
            try:
                PortConfig(mtu=-1)
            except ValueError as e:
                out["bad_conf"] = str(e)
            first = Port("net_null0", pool)
            out["same_port"] = err(lambda: Port(0, pool))
            out["pool_dup"] = err(lambda: Mempool("errs", 1024, 0))
            out["twice"] = err(lambda: Eal(["--no-pci"]))
            try:
                first.rx_burst(0, 1)[5]
            except IndexError as e:
                out["index"] = str(e)
        out["after_close"] = err(lambda: Mempool("y", 1024, 0))
    """)
    assert out["before_eal"] == ["EalError", "EAL is not running: create dpfwd.Eal([...]) first"]
    assert out["no_port"][0] == "PortError" and "port 7: no such port" in out["no_port"][1]
    assert out["bad_vdev"][0] == "PortError" and "net_bogus0" in out["bad_vdev"][1]
    assert out["bad_name"][0] == "PortError" and "net_af_packet0,iface=eth9" in out["bad_name"][1]
    assert out["queues"] == ["PortError", "port 1: 2 rx / 2 tx queues asked, the PMD allows 1 / 1"]
    assert out["bad_conf"] == "PortConfig.mtu: -1 is not an integer between 68 and 65535"
    assert out["same_port"] == ["PortError", "port 0 is already set up by Port(0, name='net_null0'); close that first"]
    assert out["pool_dup"][0] == "MempoolError" and "rte_pktmbuf_pool_create(errs" in out["pool_dup"][1]
    assert out["twice"][0] == "EalError"
    assert "not in this burst" in out["index"]
    assert out["after_close"][0] == "EalError"
    for value in out.values():
        assert "\n" not in str(value)


def test_inspect_example_reads_every_packet(dpdk_host, tmp_path):
    pcap.write(tmp_path / "in.pcap", packets.mixed(60, seed=5))
    proc = subprocess.run([sys.executable, "examples/inspect_packets.py", str(tmp_path / "in.pcap"),
                           "--count", "60", "--seconds", "20"], capture_output=True, text=True,
                          timeout=60, cwd=pathlib.Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 61 and "IPv6 10" in lines[-1] and "IPv4 40" in lines[-1]
