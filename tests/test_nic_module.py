"""The nic_binding role's resolver, dpfwd_nics, on fixture roots (edge cases);
the real thing is exercised in the molecule guest. It is run the way Ansible
runs it: its module_utils is the role's dpfwd_host.py, which is host.py."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

from hosttree import SESSION, HostTree

ROLE = pathlib.Path(__file__).resolve().parents[1] / "roles/nic_binding"
MODULE = ROLE / "library/dpfwd_nics.py"
# Load the role's module_utils file as Ansible would ship it, then run the module.
RUNNER = """
import importlib.util, runpy, sys
spec = importlib.util.spec_from_file_location("ansible.module_utils.dpfwd_host", sys.argv[2])
mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
sys.modules["ansible.module_utils.dpfwd_host"] = mod
sys.argv = [sys.argv[1], sys.argv[3]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(tree, nics, state_dir=None, connection=SESSION, connection_type="ssh"):
    args = {"ANSIBLE_MODULE_ARGS": {"nics": nics, "root": str(tree.root), "connection": connection,
                                    "connection_type": connection_type,
                                    "state_dir": str(state_dir or tree.root / "none")}}
    (tree.root / "args.json").write_text(json.dumps(args))
    out = subprocess.run([sys.executable, "-c", RUNNER, str(MODULE), str(ROLE / "module_utils/dpfwd_host.py"),
                          str(tree.root / "args.json")], capture_output=True, text=True, timeout=30)
    assert out.stdout, out.stderr
    return json.loads(out.stdout)


@pytest.fixture
def tree(tmp_path):
    t = HostTree(tmp_path)
    t.nic("0000:00:03.0", group=1, iface="dfake1", mac="52:54:00:00:00:10")
    t.nic("0000:00:04.0", "vfio-pci", group=2)
    t.nic("0000:00:05.0", group=3, iface="dfake3", mac="52:54:00:00:00:13")
    t.nic("0000:00:05.1", group=3, iface="dfake4", mac="52:54:00:00:00:14")
    return t.write()


def test_the_module_utils_is_host_py_itself():
    assert (ROLE / "module_utils/dpfwd_host.py").resolve() == \
        pathlib.Path(__file__).resolve().parents[1] / "appliance/dpfwd/host.py"


def test_resolves_by_pci_mac_and_interface_including_nested_virtio(tree):
    got = run(tree, [{"pci": "00:03.0"}, {"mac": "52:54:00:12:34:56", "allow_management": True},
                     {"interface": "dfake1"}])
    assert got["errors"] == []
    assert [n["pci"] for n in got["nics"]] == ["0000:00:03.0", "0000:00:02.0", "0000:00:03.0"]
    assert got["nics"][1]["interfaces"] == ["enp0s2"] and got["iommu_on"]
    assert "enp0s2 carries a default route" in got["nics"][1]["management"]


def test_the_session_nic_is_refused_with_every_reason(tree):
    got = run(tree, [{"interface": "enp0s2"}])
    assert got["errors"] == [
        "nic_binding_nics[0] (0000:00:02.0) is a management NIC: enp0s2 has address 10.0.2.15/24; "
        "enp0s2 carries a default route; enp0s2 carries the Ansible/SSH session (10.0.2.15). "
        "Refusing to bind it; set allow_management: true on it to override"]


def test_a_bridge_port_is_refused_when_the_bridge_holds_an_address(tree):
    tree.stack("dfake1", "br0", master=True).address("br0", "192.0.2.10", 24)
    got = run(tree, [{"mac": "52:54:00:00:00:10"}])
    assert got["errors"] == [
        "nic_binding_nics[0] (0000:00:03.0) is a management NIC: br0 (stacked on dfake1) has address "
        "192.0.2.10/24. Refusing to bind it; set allow_management: true on it to override"]


def test_a_mac_bond_members_share_is_ambiguous(tree):
    for member in ("dfake3", "dfake4"):
        (tree.root / f"sys/class/net/{member}/address").write_text("52:54:00:00:00:13\n")
    got = run(tree, [{"mac": "52:54:00:00:00:13"}])
    assert got["errors"] == [
        "nic_binding_nics[0]: mac 52:54:00:00:00:13 is ambiguous, it names 0000:00:05.0, 0000:00:05.1 "
        "(bond members share a MAC); name the NIC by pci"]


def test_unknown_and_malformed_entries_are_errors(tree):
    got = run(tree, [{"mac": "00:11:22:33:44:55"}, {"pci": "0000:00:03.0", "mac": "x"}])
    assert got["errors"] == [
        "nic_binding_nics[0]: no network PCI device with mac 00:11:22:33:44:55",
        "nic_binding_nics[1]: give exactly one of pci, mac or interface"]


def test_without_a_known_session_nothing_with_an_interface_is_taken(tree):
    got = run(tree, [{"pci": "0000:00:03.0"}, {"pci": "0000:00:04.0"}], connection="")
    assert len(got["errors"]) == 1 and "cannot tell which interface carries the Ansible connection" \
        in got["errors"][0] and "SSH_CONNECTION" in got["errors"][0]
    assert run(tree, [{"pci": "0000:00:03.0"}], connection="", connection_type="local")["errors"] == []
    tree.session(SESSION)     # sudo dropped it, but the process tree still has it
    assert run(tree, [{"pci": "0000:00:03.0"}], connection="")["errors"] == []


def test_a_group_shared_with_a_kernel_bound_device_is_not_viable(tree):
    got = run(tree, [{"pci": "0000:00:05.0"}, {"pci": "0000:00:03.0"}])
    assert got["nics"][0]["iommu_group_viable"] is False
    assert got["nics"][0]["iommu_group_others"] == ["0000:00:05.1"]
    assert got["nics"][1]["iommu_group_viable"] is True


def test_a_nic_already_on_vfio_is_found_by_its_recorded_mac(tree):
    state = tree.root / "state"
    state.mkdir()
    (state / "0000:00:04.0").write_text(json.dumps(
        {"driver": "e1000", "macs": ["52:54:00:00:00:11"], "interfaces": ["enp0s4"]}))
    got = run(tree, [{"mac": "52:54:00:00:00:11"}, {"interface": "enp0s4"}], state_dir=state)
    assert got["errors"] == []
    assert [(n["pci"], n["driver"]) for n in got["nics"]] == [("0000:00:04.0", "vfio-pci")] * 2


def test_no_iommu_groups_means_iommu_off(tmp_path):
    tree = HostTree(tmp_path, iommu=False)
    tree.nic("0000:00:03.0", iface="dfake9", mac="52:54:00:00:00:19").write()
    got = run(tree, [{"pci": "0000:00:03.0"}])
    assert got["iommu_on"] is False and got["nics"][0]["iommu_group_viable"] is False


def test_ansible_ships_the_module_utils_with_the_module(tree):
    """Through Ansible itself: the symlinked module_utils travels with the module."""
    (tree.root / "args.json").unlink(missing_ok=True)
    proc = subprocess.run(
        ["ansible", "localhost", "-c", "local", "-m", "dpfwd_nics", "-a",
         json.dumps({"nics": [{"pci": "0000:00:03.0"}], "root": str(tree.root), "connection": SESSION})],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, ANSIBLE_LIBRARY=str(ROLE / "library"), ANSIBLE_MODULE_UTILS=str(ROLE / "module_utils"),
                 ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
                 PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"]))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert '"pci": "0000:00:03.0"' in proc.stdout and '"errors": []' in proc.stdout
