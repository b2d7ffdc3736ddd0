"""Read a running dpfwd through DPDK's telemetry socket.

Every reader (CLI, metrics, systemd status) comes through here, so they all
see the same counters: the data plane's, as its /dpfwd/* commands give them.
Reading never starts EAL and never touches the forwarding lcores.
"""
import json
import os
import socket

from .eal import instance_dir
from .errors import DpfwdError

COMMANDS = ("/dpfwd/stats", "/dpfwd/ports", "/dpfwd/info")


class NotRunning(DpfwdError):
    """No dpfwd instance answers on the telemetry socket."""


def socket_path(instance):
    return os.path.join(instance_dir(instance), "dpdk_telemetry.v2")


class Telemetry:
    """A connection to one instance's telemetry socket (SOCK_SEQPACKET, JSON)."""

    def __init__(self, instance="dpfwd", timeout=2.0):
        self.instance = instance
        path = socket_path(instance)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(path)
            hello = json.loads(self.sock.recv(1024))
        except FileNotFoundError:
            self.sock.close()
            raise NotRunning(f"no dpfwd instance '{instance}' is running (no {path}); "
                             "start it, or name another with --instance") from None
        except (OSError, ValueError) as exc:
            self.sock.close()
            raise NotRunning(f"dpfwd instance '{instance}' does not answer on {path} "
                             f"({exc}); it may have stopped") from None
        self.max_output = int(hello.get("max_output_len", 16384))

    def query(self, command):
        """The command's reply as Python data; NotRunning when the instance went away."""
        try:
            self.sock.send(command.encode())
            reply = json.loads(self.sock.recv(self.max_output))
        except (OSError, ValueError) as exc:
            raise NotRunning(f"dpfwd instance '{self.instance}' stopped answering ({exc})") from None
        key = command.split(",")[0]      # replies are keyed without the parameters
        if reply.get(key) is None:
            raise NotRunning(f"instance '{self.instance}' is DPDK but not dpfwd "
                             f"(it has no {key} command)")
        return reply[key]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _split(flat, prefix):
    """{'port_0': {...}, 'port_0_queue_1': {...}} -> {0: {...}} for prefix 'port_'."""
    out = {}
    for key, value in flat.items():
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            out[int(key[len(prefix):])] = value
    return out


def read_stats(tm):
    """Counters: {'elapsed_seconds', 'ports': {id: {..., 'queues': {q: {...}}}}, 'lcores': {...}}."""
    flat = tm.query("/dpfwd/stats")
    ports = _split(flat, "port_")
    for key, value in flat.items():
        if key.startswith("port_") and "_queue_" in key:
            port, queue = key[5:].split("_queue_")
            ports[int(port)].setdefault("queues", {})[int(queue)] = value
    return {"elapsed_seconds": flat.get("elapsed_us", 0) / 1e6, "ports": ports,
            "lcores": _split(flat, "lcore_")}


def read_ports(tm):
    ports = [v for _, v in sorted(_split(tm.query("/dpfwd/ports"), "port_").items())]
    for port in ports:
        port["mac"] = port.get("mac", "").lower()
    return ports


def read_info(tm):
    info = dict(tm.query("/dpfwd/info"))
    info["mempools"] = {k[len("mempool_"):]: info.pop(k) for k in list(info) if k.startswith("mempool_")}
    return info
