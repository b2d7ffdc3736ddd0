"""The management-NIC guard for config ports: a port that drives a kernel
interface (an interface port, an af_packet or tap vdev's iface=) must not be
one that carries host traffic. `config check`, `dpfwd run` and the doctor
refuse it; Host.management_reasons says why. Pure: no DPDK is loaded.
"""
import os

SPARE_IT = "forward between interfaces that carry no host traffic"


def kernel_interfaces(config):
    """(field, interface) for each port that drives a kernel interface: an
    interface port, or an af_packet or tap vdev's iface=."""
    for i, port in enumerate(config.ports):
        if port.interface:
            yield f"ports[{i}].interface", port.interface
        elif port.vdev:
            iface = dict(a.partition("=")[::2] for a in port.vdev.split(",")[1:]).get("iface")
            if iface:
                yield f"ports[{i}].vdev", iface


def management_ports(host, config, ssh_connection):
    """{port index: (field, interface, reasons)} for each port that would
    take a kernel interface carrying host traffic: what `config check`, the
    doctor and so the deploy refuse."""
    out = {}
    for field, iface in kernel_interfaces(config):
        if os.path.isdir(host.path("sys/class/net", iface)):
            reasons = host.management_reasons(iface, ssh_connection)
            if reasons:
                out[int(field[len("ports["):field.index("]")])] = (field, iface, reasons)
    return out


def management_errors(host, config, ssh_connection):
    return [f"{field}: {iface} carries host traffic: {'; '.join(reasons)}; {SPARE_IT}"
            for field, iface, reasons in management_ports(host, config, ssh_connection).values()]
