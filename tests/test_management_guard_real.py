"""The management-NIC guard on real kernel stacks: each layout is built in a
network namespace of its own (a bridge, a macvlan with an IPv6 address
or with a route in another table), and `dpfwd config check` and `dpfwd run`, run
inside it, must refuse the interface at the bottom and name what is on top.
This machine's kernel has no VLAN or bonding driver: those layouts are the
fixture-tree tests in test_management_guard.py, and a VLAN in the guest."""
import subprocess
import uuid

import pytest

from lab.dpfwd_process import dpfwd_command


def sh(ns, *cmd):
    subprocess.run(["ip", "netns", "exec", ns, *cmd], check=True, capture_output=True, timeout=30)


@pytest.fixture
def netns():
    name = f"dpfwd-guard-{uuid.uuid4().hex[:6]}"
    subprocess.run(["ip", "netns", "add", name], check=True, timeout=30)
    try:
        sh(name, "ip", "link", "add", "dg0", "type", "veth", "peer", "name", "dg1")
        for dev in ("dg0", "dg1"):
            sh(name, "ip", "link", "set", dev, "up")
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], timeout=30)


def check(ns, tmp_path, port):
    config = tmp_path / "dpfwd.yaml"
    config.write_text(f"ports:\n  - {port}\n  - vdev: net_null0\n")
    return subprocess.run(["ip", "netns", "exec", ns, *dpfwd_command(), "config", "check", str(config)],
                          capture_output=True, text=True, timeout=60)


LAYOUTS = {
    "bridge": ([["ip", "link", "add", "br0", "type", "bridge"], ["ip", "link", "set", "dg0", "master", "br0"],
                ["ip", "addr", "add", "192.0.2.10/24", "dev", "br0"]],
               "br0 (stacked on dg0) has address 192.0.2.10/24"),
    "macvlan-ipv6": ([["ip", "link", "add", "link", "dg0", "name", "mv0", "type", "macvlan"],
                      ["ip", "addr", "add", "2001:db8::10/64", "dev", "mv0", "nodad"]],
                     "mv0 (stacked on dg0) has address 2001:db8::10/64"),
    "macvlan": ([["ip", "link", "add", "link", "dg0", "name", "mv0", "type", "macvlan"],
                 ["ip", "link", "set", "mv0", "up"],
                 ["ip", "route", "add", "203.0.113.0/24", "dev", "mv0", "table", "100"]],
                "mv0 (stacked on dg0) carries routes to 203.0.113.0/24 (table 100)"),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_config_check_refuses_an_interface_under_a_stack_that_carries_traffic(netns, tmp_path, layout):
    commands, reason = LAYOUTS[layout]
    assert check(netns, tmp_path, "interface: dg0").returncode == 0      # nothing on it yet
    for cmd in commands:
        sh(netns, *cmd)
    for port in ("interface: dg0", "vdev: net_af_packet0,iface=dg0"):
        proc = check(netns, tmp_path, port)
        assert proc.returncode == 1, proc.stderr
        field = "interface" if port.startswith("interface") else "vdev"
        assert proc.stderr.splitlines() == [
            f"error: ports[0].{field}: dg0 carries host traffic: {reason}; "
            "forward between interfaces that carry no host traffic"]


def test_run_refuses_it_too_before_dpdk_starts(netns, tmp_path):
    for cmd in LAYOUTS["bridge"][0]:
        sh(netns, *cmd)
    proc = subprocess.run(["ip", "netns", "exec", netns, *dpfwd_command(), "run", "--interface", "dg0",
                           "--vdev", "net_null0", "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "dg0 carries host traffic: br0 (stacked on dg0)" in proc.stderr
    assert "EAL" not in proc.stderr
