"""The nic_binding role's resolver on fake sysfs trees (edge cases); the real
thing is exercised in the molecule guest."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

MODULE = pathlib.Path(__file__).resolve().parents[1] / "roles/nic_binding/library/dpfwd_nics.py"


def make_sysfs(root, devices, _groups):
    """devices: pci -> (driver, iommu group, iface or None, mac, nested)."""
    for pci, (driver, group, iface, mac, nested) in devices.items():
        dev = root / "devices/pci0000:00" / pci
        dev.mkdir(parents=True)
        (dev / "class").write_text("0x020000\n")
        (root / "bus/pci/devices").mkdir(parents=True, exist_ok=True)
        os.symlink(dev, root / "bus/pci/devices" / pci)
        if driver:
            drv = root / "bus/pci/drivers" / driver
            drv.mkdir(parents=True, exist_ok=True)
            os.symlink(drv, dev / "driver")
        if group is not None:
            g = root / "kernel/iommu_groups" / str(group) / "devices"
            g.mkdir(parents=True, exist_ok=True)
            os.symlink(dev, g / pci)
            os.symlink(root / "kernel/iommu_groups" / str(group), dev / "iommu_group")
        if iface:
            owner = dev / "virtio0" if nested else dev
            owner.mkdir(exist_ok=True)
            net = root / "class/net" / iface
            net.mkdir(parents=True)
            (net / "address").write_text(mac + "\n")
            os.symlink(owner, net / "device")
    (root / "kernel/iommu_groups").mkdir(parents=True, exist_ok=True)


def run(tmp_path, nics, state_dir=None):
    args = {"ANSIBLE_MODULE_ARGS": {"nics": nics, "sysfs": str(tmp_path / "sys"),
                                    "state_dir": str(state_dir or tmp_path / "none")}}
    (tmp_path / "args.json").write_text(json.dumps(args))
    out = subprocess.run([sys.executable, str(MODULE), str(tmp_path / "args.json")],
                         capture_output=True, text=True, timeout=30)
    return json.loads(out.stdout)


@pytest.fixture
def sysfs(tmp_path):
    make_sysfs(tmp_path / "sys", {
        "0000:00:02.0": ("virtio-pci", 0, "dfake0", "52:54:00:12:34:56", True),
        "0000:00:03.0": ("e1000", 1, "dfake1", "52:54:00:00:00:10", False),
        "0000:00:04.0": ("vfio-pci", 2, None, "", False),
        "0000:00:05.0": ("e1000", 3, "dfake3", "52:54:00:00:00:13", False),
        "0000:00:05.1": ("e1000", 3, "dfake4", "52:54:00:00:00:14", False),
    }, {})
    return tmp_path


def test_resolves_by_pci_mac_and_interface_including_nested_virtio(sysfs):
    got = run(sysfs, [{"pci": "00:03.0"}, {"mac": "52:54:00:12:34:56", "allow_management": True},
                      {"interface": "dfake1"}])
    assert [n["pci"] for n in got["nics"]] == ["0000:00:03.0", "0000:00:02.0", "0000:00:03.0"]
    assert got["nics"][1]["interfaces"] == ["dfake0"] and got["iommu_on"]


def test_unknown_and_ambiguous_entries_are_errors(sysfs):
    got = run(sysfs, [{"mac": "00:11:22:33:44:55"}, {"pci": "0000:00:03.0", "mac": "x"}])
    assert got["errors"] == [
        "nic_binding_nics[0]: no network PCI device with mac 00:11:22:33:44:55",
        "nic_binding_nics[1]: give exactly one of pci, mac or interface"]


def test_a_group_shared_with_a_kernel_bound_device_is_not_viable(sysfs):
    got = run(sysfs, [{"pci": "0000:00:05.0"}, {"pci": "0000:00:03.0"}])
    assert got["nics"][0]["iommu_group_viable"] is False
    assert got["nics"][0]["iommu_group_others"] == ["0000:00:05.1"]
    assert got["nics"][1]["iommu_group_viable"] is True


def test_a_nic_already_on_vfio_is_found_by_its_recorded_mac(sysfs):
    state = sysfs / "state"
    state.mkdir()
    (state / "0000:00:04.0").write_text(json.dumps(
        {"driver": "e1000", "macs": ["52:54:00:00:00:11"], "interfaces": ["enp0s4"]}))
    got = run(sysfs, [{"mac": "52:54:00:00:00:11"}, {"interface": "enp0s4"}], state_dir=state)
    assert got["errors"] == []
    assert [(n["pci"], n["driver"]) for n in got["nics"]] == [("0000:00:04.0", "vfio-pci")] * 2


def test_no_iommu_groups_means_iommu_off(tmp_path):
    make_sysfs(tmp_path / "sys", {"0000:00:03.0": ("e1000", None, "dfake9", "52:54:00:00:00:19", False)}, {})
    got = run(tmp_path, [{"pci": "0000:00:03.0"}])
    assert got["iommu_on"] is False and got["nics"][0]["iommu_group_viable"] is False
