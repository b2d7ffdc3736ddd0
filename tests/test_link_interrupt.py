"""Which ports take link changes by interrupt: the PCI capability reader
against lspci on this machine's own devices (read only), and the decision on
fixture trees for the NICs this machine does not have."""
import os
import re
import shutil
import subprocess

import pytest

from dpfwd.forwarder import link_interrupt
from dpfwd.host import Host

from hosttree import HostTree

LSPCI = {"msix": "MSI-X:", "msi": "MSI:", "legacy": "Interrupt: pin"}


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("lspci"), reason="needs root and lspci")
def test_interrupt_kinds_match_lspci_on_this_machines_devices():
    host = Host()
    devices = host.listdir("sys/bus/pci/devices")
    assert devices
    for pci in devices:
        text = subprocess.run(["lspci", "-vv", "-s", pci], capture_output=True, text=True,
                              timeout=10, check=True).stdout
        said = {kind for kind, mark in LSPCI.items() if re.search(rf"^\s+(Capabilities: \[\w+\] )?{mark}",
                                                                   text, re.M)}
        assert host.pci_interrupts(pci) == said, (pci, text)


def config_space(caps, pin=1):
    """256 bytes of PCI config with caps (ids) chained from 0x40."""
    space = bytearray(256)
    space[0x06] = 0x10 if caps else 0
    space[0x3d] = pin
    space[0x34] = 0x40 if caps else 0
    for i, cap in enumerate(caps):
        at = 0x40 + 0x10 * i
        space[at], space[at + 1] = cap, at + 0x10 if i + 1 < len(caps) else 0
    return bytes(space)


@pytest.fixture
def tree(tmp_path):
    t = HostTree(tmp_path)
    devices = tmp_path / "sys/bus/pci/devices"
    for pci, caps, pin, driver in (("0000:00:03.0", [0x01], 1, "vfio-pci"),         # e1000: PM only
                                   ("0000:00:04.0", [0x01, 0x05, 0x11], 1, "vfio-pci"),
                                   ("0000:00:05.0", [0x11], 0, "vfio-pci"),
                                   ("0000:00:06.0", [0x01], 1, "uio_pci_generic")):
        t.nic(pci, driver)
        (devices / pci / "config").write_bytes(config_space(caps, pin))
    t.nic("0000:00:07.0", "vfio-pci")
    (devices / "0000:00:07.0" / "config").write_bytes(config_space([0x11])[:64])  # not root
    return Host(str(tmp_path))


@pytest.mark.parametrize("device, eal_args, expected", [
    ("net_tap0,iface=dtl0", (), (True, "the PMD's own")),
    ("0000:00:03.0", (), (False, "it has no MSIX interrupt for vfio-pci")),
    ("0000:00:03.0", ("--vfio-intr=legacy",), (True, "LEGACY through vfio-pci")),
    ("0000:00:04.0", (), (True, "MSIX through vfio-pci")),
    ("0000:00:04.0", ("--vfio-intr=msi",), (True, "MSI through vfio-pci")),
    ("0000:00:05.0", ("--vfio-intr=legacy",), (False, "it has no LEGACY interrupt for vfio-pci")),
    ("0000:00:06.0", (), (True, "the PMD's own")),
    ("0000:00:07.0", (), (False, "its PCI capabilities are unreadable without CAP_SYS_ADMIN")),
])
def test_the_interrupt_is_used_only_where_it_can_be_delivered(tree, device, eal_args, expected):
    assert link_interrupt(device, eal_args, tree) == expected


def test_a_capability_loop_ends(tree, tmp_path):
    space = bytearray(config_space([0x01, 0x11]))
    space[0x51] = 0x40          # 0x50 points back at 0x40
    (tmp_path / "sys/bus/pci/devices/0000:00:04.0/config").write_bytes(bytes(space))
    assert tree.pci_interrupts("0000:00:04.0") == {"legacy", "msix"}
