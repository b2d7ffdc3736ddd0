#!/usr/bin/python
# SPDX-License-Identifier: BSD-3-Clause
"""Resolve NICs to bind to vfio-pci and say which of them are unsafe to take.

Read-only: it never changes the host, so it runs in check mode too. The host
facts (management NIC, PCI address forms, IOMMU group viability) come from
module_utils/dpfwd_host.py, which is dpfwd's own host.py: `dpfwd doctor` and
this module cannot disagree.
"""
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.dpfwd_host import Host, full_pci

DOCUMENTATION = r"""
module: dpfwd_nics
short_description: Resolve NICs (PCI address, MAC or name) and check they are safe to bind
options:
  nics:
    description: Each has one of pci, mac or interface, and optional allow_management (bool).
    type: list
    elements: dict
    required: true
  connection:
    description: >-
      SSH_CONNECTION of the Ansible session. When empty it is looked up the
      process tree (sudo drops it from the environment).
    type: str
  connection_type:
    description: ansible_connection; with "local" there is no session to protect.
    type: str
  state_dir:
    description: >-
      Records of NICs bound earlier (JSON per PCI address: driver, macs,
      interfaces), so a NIC named by MAC or interface is still found once it
      has left its kernel driver.
    type: path
    default: /var/lib/dpfwd/nic-binding
  root:
    description: Root of the host's /sys and /proc, for tests.
    type: path
    default: /
"""


def records(state_dir):
    """PCI address -> what was recorded when the role bound it."""
    out = {}
    if os.path.isdir(state_dir):
        for name in os.listdir(state_dir):
            try:
                with open(os.path.join(state_dir, name)) as f:
                    out[name] = json.load(f)
            except (OSError, ValueError):
                continue
    return out


def describe(host, nic, recorded):
    """What the role needs of a NIC: its identity now and as recorded."""
    macs = [host.read("sys/class/net", i, "address").lower() for i in nic.interfaces]
    # A bond member shows the bond's MAC; its own stays in perm_hwaddr.
    macs += [host.read("sys/class/net", i, "bonding_slave/perm_hwaddr").lower() for i in nic.interfaces]
    return {"pci": nic.pci, "driver": nic.driver, "iommu_group": nic.iommu_group,
            "numa_node": nic.numa_node, "interfaces": list(nic.interfaces),
            "macs": sorted({m for m in macs if m}),
            "known_interfaces": recorded.get("interfaces", []) if not nic.interfaces else [],
            "known_macs": recorded.get("macs", []) if not nic.interfaces else []}


def matches(dev, key, want):
    if key == "pci":
        return dev["pci"] == want or (want.count(":") == 1 and dev["pci"].endswith(":" + want))
    if key == "mac":
        return want in dev["macs"] + dev["known_macs"]
    return want in dev["interfaces"] + dev["known_interfaces"]


def resolve(host, nic, i, devices, connection):
    """(description, error) of one entry of nic_binding_nics."""
    keys = [k for k in ("pci", "mac", "interface") if nic.get(k)]
    if len(keys) != 1:
        return None, f"nic_binding_nics[{i}]: give exactly one of pci, mac or interface"
    key, want = keys[0], str(nic[keys[0]]).lower()
    if key == "pci" and want.count(":") == 2:
        want = full_pci(want)
    found = [d for d in devices if matches(d, key, want)]
    if not found:
        return None, f"nic_binding_nics[{i}]: no network PCI device with {key} {want}"
    if len(found) > 1:
        return None, (f"nic_binding_nics[{i}]: {key} {want} is ambiguous, it names "
                      f"{', '.join(d['pci'] for d in found)} (bond members share a MAC); name the NIC by pci")
    dev = dict(found[0])
    pci_nic = host.pci_nic(dev["pci"])
    dev["allow_management"] = bool(nic.get("allow_management", False))
    dev["management"] = host.nic_management_reasons(pci_nic, connection)
    blockers = host.iommu_group_blockers(pci_nic)
    dev["iommu_group_viable"] = bool(dev["iommu_group"]) and not blockers
    dev["iommu_group_others"] = blockers
    if dev["management"] and not dev["allow_management"]:
        return dev, (f"nic_binding_nics[{i}] ({dev['pci']}) is a management NIC: "
                     + "; ".join(dev["management"])
                     + ". Refusing to bind it; set allow_management: true on it to override")
    return dev, None


def main():
    module = AnsibleModule(argument_spec={
        "nics": {"type": "list", "elements": "dict", "required": True},
        "connection": {"type": "str", "default": ""},
        "connection_type": {"type": "str", "default": "ssh"},
        "state_dir": {"type": "path", "default": "/var/lib/dpfwd/nic-binding"},
        "root": {"type": "path", "default": "/"},
    }, supports_check_mode=True)
    p = module.params
    host = Host(p["root"])
    connection = p["connection"] or host.ssh_connection()
    if not connection:
        # No session found: fine for a local run, unknown (so refused) otherwise.
        connection = "" if p["connection_type"] == "local" else None
    recorded = records(p["state_dir"])
    devices = [describe(host, nic, recorded.get(nic.pci, {})) for nic in host.pci_nics()]
    resolved, errors = [], []
    for i, nic in enumerate(p["nics"]):
        dev, error = resolve(host, nic, i, devices, connection)
        if error:
            errors.append(error)
        if dev:
            resolved.append(dev)
    module.exit_json(changed=False, nics=resolved, errors=errors, iommu_on=bool(host.iommu_groups()))


if __name__ == "__main__":
    main()
