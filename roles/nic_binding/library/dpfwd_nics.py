#!/usr/bin/python
# SPDX-License-Identifier: BSD-3-Clause
"""Resolve NICs to bind to vfio-pci and say which of them are unsafe to take.

Read-only: it never changes the host, so it runs in check mode too.
"""
import ipaddress
import json
import os
import subprocess

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: dpfwd_nics
short_description: Resolve NICs (PCI address, MAC or name) and check they are safe to bind
options:
  nics:
    description: Each has one of pci, mac or interface, and optional allow_management (bool).
    type: list
    elements: dict
    required: true
  connection_address:
    description: The address Ansible reached this host on (from SSH_CONNECTION).
    type: str
  state_dir:
    description: >-
      Records of NICs bound earlier (JSON per PCI address: driver, macs,
      interfaces), so a NIC named by MAC or interface is still found once it
      has left its kernel driver.
    type: path
    default: /var/lib/dpfwd/nic-binding
  sysfs:
    description: Root of sysfs, for tests.
    type: path
    default: /sys
"""


def read(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def ip_json(*args):
    out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=False).stdout
    return json.loads(out or "[]")


def pci_devices(sysfs):
    """PCI address -> {driver, iommu_group, interfaces, macs} for network-class devices."""
    base = os.path.join(sysfs, "bus/pci/devices")
    devices = {}
    for addr in sorted(os.listdir(base)):
        path = os.path.join(base, addr)
        if not read(os.path.join(path, "class")).startswith("0x02"):
            continue
        link = os.path.join(path, "driver")
        group = os.path.join(path, "iommu_group")
        devices[addr] = {
            "pci": addr, "interfaces": [], "macs": [],
            "driver": os.path.basename(os.path.realpath(link)) if os.path.exists(link) else "",
            "iommu_group": os.path.basename(os.path.realpath(group)) if os.path.exists(group) else "",
            "numa_node": read(os.path.join(path, "numa_node"), "-1"),
        }
    # An interface's device may sit below its PCI function (virtio: .../virtio0).
    net = os.path.join(sysfs, "class/net")
    for iface in sorted(os.listdir(net)) if os.path.isdir(net) else []:
        path = os.path.realpath(os.path.join(net, iface, "device"))
        while path not in ("/", "") and os.path.basename(path) not in devices:
            path = os.path.dirname(path)
        if os.path.basename(path) in devices:
            dev = devices[os.path.basename(path)]
            dev["interfaces"].append(iface)
            dev["macs"].append(read(os.path.join(net, iface, "address")).lower())
    return devices


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


def group_members(sysfs, group):
    path = os.path.join(sysfs, "kernel/iommu_groups", group, "devices")
    return sorted(os.listdir(path)) if group and os.path.isdir(path) else []


def management_reasons(dev, addrs, routes, conn_ip):
    """Why a device must not be taken from the kernel; empty when safe."""
    reasons = []
    for iface in dev["interfaces"]:
        if any(r.get("dev") == iface and r.get("dst") == "default" for r in routes):
            reasons.append(f"{iface} carries the default route")
        ips = [a["local"] for a in addrs.get(iface, [])
               if a.get("scope") != "link"]
        if ips:
            reasons.append(f"{iface} has IP address {', '.join(ips)}")
        if conn_ip and any(ipaddress.ip_address(conn_ip) == ipaddress.ip_address(ip) for ip in ips):
            reasons.append(f"{iface} is the interface Ansible is connected through ({conn_ip})")
    return reasons


def main():
    module = AnsibleModule(argument_spec={
        "nics": {"type": "list", "elements": "dict", "required": True},
        "connection_address": {"type": "str", "default": ""},
        "state_dir": {"type": "path", "default": "/var/lib/dpfwd/nic-binding"},
        "sysfs": {"type": "path", "default": "/sys"},
    }, supports_check_mode=True)
    p = module.params
    devices = pci_devices(p["sysfs"])
    for pci, rec in records(p["state_dir"]).items():
        if pci in devices and not devices[pci]["interfaces"]:
            devices[pci]["macs"] = rec.get("macs", [])
            devices[pci]["known_interfaces"] = rec.get("interfaces", [])
    addrs = {e["ifname"]: e.get("addr_info", []) for e in ip_json("addr")}
    routes = ip_json("route") + ip_json("-6", "route")
    conn_ip = (p["connection_address"] or "").split()[0] if p["connection_address"] else ""
    resolved, errors = [], []
    iommu_on = bool(os.listdir(os.path.join(p["sysfs"], "kernel/iommu_groups"))) \
        if os.path.isdir(os.path.join(p["sysfs"], "kernel/iommu_groups")) else False

    for i, nic in enumerate(p["nics"]):
        keys = [k for k in ("pci", "mac", "interface") if nic.get(k)]
        if len(keys) != 1:
            errors.append(f"nic_binding_nics[{i}]: give exactly one of pci, mac or interface")
            continue
        key, want = keys[0], str(nic[keys[0]]).lower()
        if key == "pci" and len(want) == 7:
            want = "0000:" + want
        found = [d for d in devices.values() if
                 (key == "pci" and d["pci"] == want) or (key == "mac" and want in d["macs"])
                 or (key == "interface" and want in d["interfaces"] + d.get("known_interfaces", []))]
        if not found:
            errors.append(f"nic_binding_nics[{i}]: no network PCI device with {key} {want}")
            continue
        dev = dict(found[0])
        dev["allow_management"] = bool(nic.get("allow_management", False))
        dev["management"] = management_reasons(dev, addrs, routes, conn_ip)
        members = group_members(p["sysfs"], dev["iommu_group"])
        others = [m for m in members if m != dev["pci"]
                  and os.path.basename(os.path.realpath(os.path.join(p["sysfs"], "bus/pci/devices", m, "driver")))
                  not in ("vfio-pci", "pcieport", "driver")
                  and os.path.exists(os.path.join(p["sysfs"], "bus/pci/devices", m, "driver"))]
        dev["iommu_group_viable"] = bool(dev["iommu_group"]) and not others
        dev["iommu_group_others"] = others
        if dev["management"] and not dev["allow_management"]:
            errors.append(f"nic_binding_nics[{i}] ({dev['pci']}) is a management NIC: "
                          + "; ".join(dev["management"])
                          + ". Refusing to bind it; set allow_management: true on it to override")
        resolved.append(dev)

    module.exit_json(changed=False, nics=resolved, errors=errors, iommu_on=iommu_on)


if __name__ == "__main__":
    main()
