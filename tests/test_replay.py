"""pcap replay through real DPDK net_pcap ports: what goes in must come out."""
import json
import subprocess

import pytest

from lab import packets, pcap
from lab.dpfwd_process import dpfwd_command

pytestmark = pytest.mark.dataplane
N = 5000


def run_dpfwd(args, timeout=60):
    proc = subprocess.run(dpfwd_command() + ["run", *args, "--json", "--duration", "30"],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def pcap_pair(tmp_path, in0, in1, extra=""):
    for name, pkts in (("in0", in0), ("in1", in1)):
        pcap.write(tmp_path / f"{name}.pcap", pkts)
    return ["--vdev", f"net_pcap0,rx_pcap={tmp_path}/in0.pcap,tx_pcap={tmp_path}/out0.pcap{extra}",
            "--vdev", f"net_pcap1,rx_pcap={tmp_path}/in1.pcap,tx_pcap={tmp_path}/out1.pcap{extra}"]


@pytest.fixture(scope="module")
def mixes():
    return packets.mixed(N, seed=1), packets.mixed(N, seed=2)


def test_mix_covers_what_the_issue_asks(mixes):
    sizes = [len(p) for p in mixes[0]]
    assert min(sizes) == 60 and max(sizes) == 1514
    ethertypes = {p[12:14] for p in mixes[0]}
    assert {b"\x08\x00", b"\x81\x00", b"\x86\xdd"} <= ethertypes


def test_io_mode_is_byte_exact_and_in_order_both_ways(dpdk_host, tmp_path, mixes):
    in0, in1 = mixes
    snap = run_dpfwd(pcap_pair(tmp_path, in0, in1) + ["--instance", "t_io", "--count", str(2 * N)])
    assert pcap.read(tmp_path / "out1.pcap") == in0
    assert pcap.read(tmp_path / "out0.pcap") == in1
    for port in snap["ports"]:
        assert (port["rx"], port["tx"], port["tx_dropped"]) == (N, N, 0)


@pytest.mark.parametrize("how", ["config", "default"])
def test_mac_mode_changes_only_the_mac_bytes(dpdk_host, tmp_path, mixes, how):
    in0, in1 = mixes
    ports = pcap_pair(tmp_path, in0, in1)
    if how == "config":
        (tmp_path / "c.yaml").write_text(
            "eal: {instance: t_mac}\nforwarding: {mode: mac}\nports:\n"
            f"  - vdev: '{ports[1]}'\n    dest_mac: '02:aa:00:00:00:00'\n"
            f"  - vdev: '{ports[3]}'\n    dest_mac: '02:bb:00:00:00:01'\n")
        args, dst = ["--config", str(tmp_path / "c.yaml")], ["02:aa:00:00:00:00", "02:bb:00:00:00:01"]
    else:
        args, dst = ports + ["--mode", "mac", "--instance", "t_mac2"], ["02:00:00:00:00:00", "02:00:00:00:00:01"]
    snap = run_dpfwd(args + ["--count", str(2 * N)])
    for src_pkts, out, tx_port in ((in0, "out1.pcap", 1), (in1, "out0.pcap", 0)):
        got = pcap.read(tmp_path / out)
        assert len(got) == len(src_pkts)
        want_mac = bytes.fromhex(dst[tx_port].replace(":", "")) + \
            bytes.fromhex(snap["ports"][tx_port]["mac"].replace(":", ""))
        for sent, recv in zip(src_pkts, got):
            assert recv[:12] == want_mac
            assert recv[12:] == sent[12:]


def test_macswap_swaps_the_addresses(dpdk_host, tmp_path, mixes):
    in0, in1 = mixes
    run_dpfwd(pcap_pair(tmp_path, in0, in1) + ["--mode", "macswap", "--instance", "t_swap",
                                               "--count", str(2 * N)])
    got = pcap.read(tmp_path / "out1.pcap")
    assert [p[:6] + p[6:12] for p in got] == [p[6:12] + p[:6] for p in in0]
    assert [p[12:] for p in got] == [p[12:] for p in in0]


def jumbo_mix():
    normal = packets.mixed(200, seed=3)
    jumbo = [packets.frame("ipv4_udp", 9000, 1000 + i, None) for i in range(20)]
    return normal[:100] + jumbo + normal[100:], len(jumbo)


def test_jumbo_frames_cross_when_mtu_allows(dpdk_host, tmp_path):
    mix, _ = jumbo_mix()
    snap = run_dpfwd(pcap_pair(tmp_path, mix, []) + ["--mtu", "9000", "--instance", "t_jumbo",
                                                     "--count", str(len(mix))])
    assert pcap.read(tmp_path / "out1.pcap") == mix
    assert snap["ports"][1]["tx_dropped"] == 0


def test_jumbo_frames_are_dropped_and_counted_when_mtu_does_not(dpdk_host, tmp_path):
    mix, n_jumbo = jumbo_mix()
    snap = run_dpfwd(pcap_pair(tmp_path, mix, []) + ["--instance", "t_jumbo2", "--count", str(len(mix))])
    assert pcap.read(tmp_path / "out1.pcap") == [p for p in mix if len(p) <= 1518]
    port1 = snap["ports"][1]
    assert (port1["tx_dropped"], port1["oversize"], port1["tx"]) == (n_jumbo, n_jumbo, len(mix) - n_jumbo)
