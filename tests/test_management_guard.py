"""The management-NIC guard (dpfwd.host, shipped to the nic_binding role as
module_utils): one layout per test, as real servers have them. The guest
proves the same on a real bridge (molecule)."""
import pytest

from dpfwd.host import Host
from hosttree import SESSION, HostTree


@pytest.fixture
def tree(tmp_path):
    t = HostTree(tmp_path)
    t.nic("0000:00:03.0", group=1, iface="eno1", mac="52:54:00:00:00:10")
    t.nic("0000:00:04.0", group=2, iface="eno2", mac="52:54:00:00:00:11")
    return t.write()


def reasons(tree, iface="eno1", session=SESSION):
    return Host(str(tree.root)).management_reasons(iface, session)


def test_a_plain_nic_carrying_nothing_is_safe(tree):
    assert reasons(tree) == []


def test_the_session_nic_is_refused_for_its_address_route_and_session(tree):
    got = reasons(tree, "enp0s2")
    assert got == ["enp0s2 has address 10.0.2.15/24", "enp0s2 carries a default route",
                   "enp0s2 carries the Ansible/SSH session (10.0.2.15)"]


def test_a_bridge_port_whose_bridge_holds_the_address(tree):
    tree.stack("eno1", "br0", master=True).address("br0", "192.0.2.10", 24)
    assert reasons(tree) == ["br0 (stacked on eno1) has address 192.0.2.10/24"]


def test_bond_members_whose_bond_holds_the_address(tree):
    tree.stack("eno1", "bond0", master=True).stack("eno2", "bond0", master=True).address("bond0", "192.0.2.10", 24)
    assert reasons(tree, "eno1") == ["bond0 (stacked on eno1) has address 192.0.2.10/24"]
    assert reasons(tree, "eno2") == ["bond0 (stacked on eno2) has address 192.0.2.10/24"]


def test_a_vlan_holding_the_address(tree):
    tree.stack("eno1", "eno1.100").address("eno1.100", "192.0.2.10", 24)
    assert reasons(tree) == ["eno1.100 (stacked on eno1) has address 192.0.2.10/24"]


def test_a_vlan_on_a_bond_two_levels_up(tree):
    tree.stack("eno1", "bond0", master=True).stack("bond0", "bond0.100").address("bond0.100", "192.0.2.10", 24)
    assert reasons(tree) == ["bond0.100 (stacked on bond0) has address 192.0.2.10/24"]


def test_a_macvlan_with_an_address_and_a_route_in_another_table(tree):
    tree.stack("eno1", "mv0").route("mv0", "203.0.113.0/24", table="100")
    assert reasons(tree) == ["mv0 (stacked on eno1) carries routes to 203.0.113.0/24 (table 100)"]
    tree.address("mv0", "192.0.2.10", 24)
    assert reasons(tree) == ["mv0 (stacked on eno1) has address 192.0.2.10/24"]


def test_an_open_vswitch_port_whose_bridge_interface_holds_the_address(tree):
    # Every OVS port, the bridge's own internal interface too, hangs off one datapath device.
    tree.stack("eno1", "ovs-system", master=True).stack("br-ex", "ovs-system", master=True)
    tree.address("br-ex", "192.0.2.10", 24)
    assert reasons(tree) == ["br-ex (on the Open vSwitch datapath with eno1) has address 192.0.2.10/24"]


def test_an_ipv6_only_nic(tree):
    tree.address("eno1", "2001:db8::10", 64).address("eno1", "fe80::1", 64, scope="link")
    assert reasons(tree) == ["eno1 has address 2001:db8::10/64"]


def test_a_link_local_address_alone_is_not_host_traffic(tree):
    tree.address("eno1", "fe80::1", 64, scope="link").route("eno1", "fe80::/64", six=True)
    assert reasons(tree) == []


def test_a_default_route_in_a_table_other_than_main(tree):
    tree.route("eno1", "default", table="200")
    assert reasons(tree) == ["eno1 carries a default route"]


def test_empty_ip_output_cannot_tell_so_it_refuses(tree):
    (tree.root / "commands/ip -j addr show").write_text("")
    assert reasons(tree)[0].startswith("cannot tell whether eno1 carries host traffic")


def test_an_unknown_session_refuses_every_nic(tree):
    assert reasons(tree, session=None)[0].startswith("cannot tell which interface carries the Ansible connection")
    assert reasons(tree, session="") == []     # a local run: no session to protect


def test_the_session_is_found_up_the_process_tree_when_sudo_dropped_it(tree):
    assert Host(str(tree.root)).ssh_connection() == ""
    tree.session(SESSION)
    assert Host(str(tree.root)).ssh_connection() == SESSION
