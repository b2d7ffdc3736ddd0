"""Read a running dpfwd through DPDK's telemetry socket.

Every reader (CLI, metrics, systemd status) comes through here, so they all
see the same counters: the data plane's, as its /dpfwd/* commands give them.
Reading never starts EAL and never touches the forwarding lcores.
"""
import json
import os
import socket
import time

from .errors import DpfwdError
from .facts import RESIDENCE_BOUNDS_NS
from .runtime import instance_dir

COMMANDS = ("/dpfwd/stats", "/dpfwd/port_stats", "/dpfwd/lcore_stats", "/dpfwd/ports", "/dpfwd/info")
CONNECT_RETRY_SECONDS = 0.01


class NotRunning(DpfwdError):
    """No dpfwd instance answers on the telemetry socket."""


def socket_path(instance):
    return os.path.join(instance_dir(instance), "dpdk_telemetry.v2")


class Telemetry:
    """A connection to one instance's telemetry socket (SOCK_SEQPACKET, JSON)."""

    def __init__(self, instance="dpfwd", timeout=2.0):
        self.instance = instance
        path = socket_path(instance)
        deadline = time.monotonic() + timeout
        while True:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.sock.settimeout(timeout)
            try:
                self.sock.connect(path)
                raw = self.sock.recv(1024)
                if not raw:
                    # at its client limit, DPDK accepts and closes at once
                    raise BlockingIOError
                hello = json.loads(raw)
                break
            except FileNotFoundError:
                self.sock.close()
                raise NotRunning(f"no dpfwd instance '{instance}' is running (no {path}); "
                                 "start it, or name another with --instance") from None
            except BlockingIOError:
                # DPDK accepts one client at a time and serves a few at once:
                # with many readers, try again within the timeout.
                self.sock.close()
                if time.monotonic() < deadline:
                    time.sleep(CONNECT_RETRY_SECONDS)
                    continue
                raise NotRunning(f"dpfwd instance '{instance}' is busy: its telemetry socket {path} "
                                 f"took no connection within {timeout} s") from None
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
        if isinstance(reply[key], dict) and reply[key].get("state") == "stopping":
            raise NotRunning(f"dpfwd instance '{self.instance}' is stopping")
        return reply[key]

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _split(flat, prefix):
    """{'port_0': {...}, 'port_1': {...}} -> [(0, {...}), (1, {...})] for prefix 'port_'."""
    return sorted((int(key[len(prefix):]), value) for key, value in flat.items()
                  if key.startswith(prefix) and key[len(prefix):].isdigit())


class StatsReplies:
    """The stats replies of a running instance, over its telemetry socket: a
    header, then one reply per port and per lcore (one reply is cut at 16 KB)."""

    def __init__(self, tm):
        self.tm = tm

    def header(self):
        return self.tm.query("/dpfwd/stats")

    def port(self, index):
        return self._checked(self.tm.query(f"/dpfwd/port_stats,{index}"), f"port index {index}")

    def lcore(self, lcore):
        return self._checked(self.tm.query(f"/dpfwd/lcore_stats,{lcore}"), f"lcore {lcore}")

    def _checked(self, reply, what):
        if "error" in reply:
            # the instance changed between the header and this reply
            raise NotRunning(f"instance '{self.tm.instance}' has no {what} any more: {reply['error']}")
        return reply


def snapshot(replies, instance):
    """The snapshot (snapshot.schema.json) from stats replies: the one shape
    of the counters for every reader and `dpfwd run --json`. Ports are listed
    in config order."""
    head = replies.header()
    ports = []
    for index in range(head.get("ports", 0)):
        reply = replies.port(index)
        port = dict(reply["port"], index=index)
        port["residence"] = residence(port)
        port["queues"] = [dict(value, queue=q) for q, value in _split(reply, "queue_")]
        ports.append(port)
    return {"instance": head.get("instance", instance), "mode": head.get("mode"),
            "idle": head.get("idle"), "forwarding": bool(head.get("forwarding")),
            "elapsed_seconds": head.get("elapsed_us", 0) / 1e6, "ports": ports,
            "lcores": [dict(replies.lcore(lcore), lcore=lcore) for lcore in head.get("lcores", [])]}


def read_stats(tm):
    """The snapshot of a running instance, read through its telemetry socket."""
    return snapshot(StatsReplies(tm), tm.instance)


def residence(port):
    """Pop a port's flat residence_* keys into {count, sum_ns, max_ns, buckets:
    [[bound ns (None: no bound), count], ...], p50_ns, p99_ns}: quantiles are
    the bound of the bucket they fall in (an upper limit), or max_ns when lower."""
    flat = {k[len("residence_"):]: port.pop(k) for k in list(port) if k.startswith("residence_")}
    buckets = [[None if bound == float("inf") else bound, flat.get(f"le_{bound}" if bound != float("inf")
                                                                   else "le_inf", 0)]
               for bound in RESIDENCE_BOUNDS_NS]
    out = {"count": flat.get("count", 0), "sum_ns": flat.get("sum_ns", 0), "max_ns": flat.get("max_ns", 0),
           "buckets": buckets}
    for name, q in (("p50_ns", 0.5), ("p99_ns", 0.99)):
        seen, out[name] = 0, None
        for bound, n in buckets:
            seen += n
            if out["count"] and seen >= q * out["count"]:
                out[name] = min(out["max_ns"], bound) if bound is not None else out["max_ns"]
                break
    return out


def read_ports(tm):
    """The ports in config order: index, DPDK id, name, MAC, link, queues, peer (an index)."""
    return [v for _, v in _split(tm.query("/dpfwd/ports"), "port_")]


def read_xstats(tm):
    """The PMD's extended stats of each port, in config order: DPDK's own
    /ethdev/xstats, read on the telemetry thread like every other reader."""
    return [{"index": p["index"], "name": p["name"], "port_id": p["port_id"],
             "xstats": tm.query(f"/ethdev/xstats,{p['port_id']}")} for p in read_ports(tm)]


def read_info(tm):
    info = dict(tm.query("/dpfwd/info"))
    info["mempools"] = {k[len("mempool_"):]: info.pop(k) for k in list(info) if k.startswith("mempool_")}
    # idle sleep per lcore (lcores that sleep, once they have measured their wake-up)
    info["sleep"] = {int(k[len("sleep_lcore_"):]): info.pop(k) for k in list(info) if k.startswith("sleep_lcore_")}
    return info
