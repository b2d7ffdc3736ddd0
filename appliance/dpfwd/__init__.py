"""dpfwd: a DPDK forwarding appliance. The Python API over its C data plane.

The API (Eal, Mempool, Port, ...) loads DPDK when first touched, not on
``import dpfwd``: config checks, plans and readers run without it.
"""
import importlib

__version__ = "0.1.0"

_API = {"Burst": "burst", "Eal": "eal", "Mempool": "mempool", "data_room_for_mtu": "mempool",
        "Port": "port", "PortConfig": "config", "DpfwdError": "errors", "EalError": "errors",
        "ForwardingError": "errors", "MempoolError": "errors", "PortError": "errors"}
__all__ = sorted(_API)


def __getattr__(name):
    if name not in _API:
        raise AttributeError(f"module 'dpfwd' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_API[name]}", __name__), name)
