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
from dpfwd.errors import PacketReleased
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
            except PacketReleased:
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


def test_no_python_object_reaches_an_mbuf_python_gave_up(dpdk_host):
    """Packets are not buffers (nothing can be derived that outlives them),
    slices are copies, and every way an mbuf leaves releases its Packets."""
    out = script("""
        def outcome(fn):
            try:
                fn()
                return "ok"
            except (DpfwdError, TypeError) as e:
                return type(e).__name__
        with eal("net_null0", "net_ring0") as e:
            pool = Mempool("safe", 4096, 0)
            p0, ring = Port("net_null0", pool), Port("net_ring0", pool)
            burst = p0.rx_burst(0, 4)
            pkt = burst[0]
            head = pkt[:14]
            out["slice_is_a_copy"] = type(head).__name__
            copy = bytearray(pkt)                # a copy, by iteration
            copy[0] ^= 0xFF
            out["no_buffer"] = [outcome(lambda: memoryview(pkt)), copy[0] != pkt[0]]
            pkt[0:2] = b"ab"
            out["written"] = bytes(pkt[:2]).decode()
            burst.free()
            out["after_free"] = [outcome(lambda: pkt[0]), outcome(lambda: pkt.__setitem__(0, 1)),
                                 outcome(lambda: bytes(pkt)), len(head)]
            sent = ring.rx_burst(0, 1) or pool.alloc(2, 60)
            kept = sent[0]
            ring.tx_burst(0, sent)
            out["after_tx"] = outcome(lambda: kept[0])
            out["bad_queue"] = [outcome(lambda: p0.rx_burst(3, 8)), outcome(lambda: p0.rx_burst(-1, 8)),
                                outcome(lambda: p0.tx_burst(2, pool.alloc(1)))]
            out["bad_size"] = [outcome(lambda: p0.rx_burst(0, 0)), outcome(lambda: p0.rx_burst(0, 1 << 20))]
            late = p0.rx_burst(0, 2)
            late_pkt = late[1]
            other = Mempool("closed", 1024, 0)
            other.close()
            out["closed_pool"] = [outcome(lambda: other.alloc(1)), outcome(lambda: other.in_use)]
            ring.close()
            out["closed_port"] = [outcome(lambda: ring.rx_burst(0, 4)), outcome(lambda: ring.tx_burst(0, late))]
        out["after_eal"] = [outcome(lambda: late_pkt[0]), outcome(lambda: late[0]), outcome(lambda: late.free()),
                            outcome(lambda: p0.rx_burst(0, 4)), outcome(lambda: pool.alloc(1))]
    """)
    assert out["slice_is_a_copy"] == "bytes" and out["no_buffer"] == ["TypeError", True]
    assert out["written"] == "ab"
    assert out["after_free"] == ["PacketReleased", "PacketReleased", "PacketReleased", 14]
    assert out["after_tx"] == "PacketReleased"
    assert out["bad_queue"] == ["PortError", "PortError", "PortError"]
    assert out["bad_size"] == ["DpfwdError", "DpfwdError"]
    assert out["closed_pool"] == ["MempoolError", "MempoolError"]
    assert out["closed_port"] == ["PortError", "PortError"]
    assert out["after_eal"] == ["PacketReleased", "EalError", "ok", "PortError", "MempoolError"]


def test_the_c_entry_points_refuse_bad_arguments(dpdk_host):
    """NULLs, unknown ports and queues, a second EAL start: an error code,
    never undefined behaviour (the Python API checks first; the C API does too)."""
    out = script("""
        from dpfwd.binding import ffi, lib
        N = ffi.NULL
        with eal("net_null0"):
            out["codes"] = [
                lib.dpfwd_port_probe(N), lib.dpfwd_port_by_name(N, N), lib.dpfwd_port_name(0, N, 0),
                lib.dpfwd_port_mac(0, N), lib.dpfwd_port_setup(9, N, N, N), lib.dpfwd_port_start(30, 0),
                lib.dpfwd_port_close(30), lib.dpfwd_port_power_monitor(30, 0, 1),
                lib.dpfwd_telemetry_register(N, N), lib.dpfwd_telemetry_add_pool(N), lib.dpfwd_capture_stop(N),
                lib.dpfwd_capture_stats(0, N, N), lib.dpfwd_fwd_start(N), lib.dpfwd_fwd_set_mode(0, N),
                lib.dpfwd_fwd_set_mode(7, ffi.new("uint8_t[]", 192)), lib.dpfwd_stats_port(0, N),
                lib.dpfwd_stats_queue(0, 0, N), lib.dpfwd_stats_lcore(0, N), lib.dpfwd_mbuf_set_len(N, 1),
                lib.dpfwd_eal_init(0, N)]
            out["nulls"] = [lib.dpfwd_pool_create(N, 1, 0, 2048, -1) == N, lib.dpfwd_mbuf_alloc(N) == N,
                            lib.dpfwd_mbuf_data(N, N) == N, lib.dpfwd_capture_start(30, 0, 1, 1) == N]
            out["zeros"] = [lib.dpfwd_pool_in_use(N), lib.dpfwd_pool_available(N), lib.dpfwd_mbuf_pkt_len(N),
                            lib.dpfwd_mbuf_segments(N), lib.dpfwd_capture_read(N, N, 1), lib.dpfwd_log_recent(N, 0)]
            pkts = ffi.new("struct rte_mbuf *[]", 4)
            out["bursts"] = [lib.dpfwd_rx_burst(0, 0, pkts, 4), lib.dpfwd_rx_burst(40, 0, pkts, 4),
                             lib.dpfwd_tx_burst(0, 0, N, 4), lib.dpfwd_rx_burst(0, 0, pkts, 65535)]
            lib.dpfwd_mbuf_free_bulk(N, 4)
    """)
    assert all(code < 0 for code in out["codes"]), out["codes"]
    assert all(out["nulls"]) and out["zeros"] == [0] * 6
    assert out["bursts"] == [65535] * 4


def test_inspect_example_reads_every_packet(dpdk_host, tmp_path):
    pcap.write(tmp_path / "in.pcap", packets.mixed(60, seed=5))
    proc = subprocess.run([sys.executable, "examples/inspect_packets.py", str(tmp_path / "in.pcap"),
                           "--count", "60", "--seconds", "20"], capture_output=True, text=True,
                          timeout=60, cwd=pathlib.Path(__file__).resolve().parents[1])
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 61 and "IPv6 10" in lines[-1] and "IPv4 40" in lines[-1]
