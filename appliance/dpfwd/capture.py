"""Live capture from a running instance (DPDK pdump), as a secondary process.

The forwarder serves capture (the data plane calls rte_pdump_init); a
Capture asks it for a port's packets and reads them from a ring. A capture
process that dies without stopping (SIGKILL) would leave the forwarder
copying packets for nobody, and the port unable to take another capture:
the forwarder looks for such captures (orphans()) and starts this module
as a secondary to release each one:

    python -m dpfwd.capture release INSTANCE PID PORT QUEUE FLAGS
"""
import os
import sys

from .binding import check_error, check_null, ffi, lib
from .burst import Burst
from .errors import DpfwdError
from .host import PCI_ADDRESS
from .port import find_port
from .runtime import instance_dir

DIRECTIONS = {"rx": 1, "tx": 2, "both": 3}
ALL_QUEUES = 0xFFFF
READ_BURST = 64


class Capture:
    """Packets of one port (one queue or all; rx, tx or both) of the primary
    this process attached to. Needs a live secondary Eal; close() stops it."""

    def __init__(self, port, queue=None, direction="both"):
        self.port = find_port(port, probe=False)
        self._cap = check_null(lib.dpfwd_capture_start(self.port, ALL_QUEUES if queue is None else queue,
                                                       DIRECTIONS[direction], os.getpid()))
        self._missed_before = self._port_missed()   # pdump counts per port, across captures

    def read(self, limit=READ_BURST):
        """A Burst of up to limit packets copied so far (empty when none)."""
        burst = Burst.empty(READ_BURST)
        burst._fill(lambda pkts: lib.dpfwd_capture_read(self._cap, pkts, min(limit, READ_BURST)))
        return burst

    def _port_missed(self):
        ringfull, nombuf = ffi.new("uint64_t *"), ffi.new("uint64_t *")
        check_error(lib.dpfwd_capture_stats(self.port, ringfull, nombuf))
        return ringfull[0] + nombuf[0]

    def missed(self):
        """Packets this capture could not keep (its ring was full, or no mbuf)."""
        return self._port_missed() - self._missed_before

    def close(self):
        if self._cap is not None:
            lib.dpfwd_capture_stop(self._cap)
            self._cap = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def attach_to(instance):
    """EAL arguments of a secondary attaching to instance, after pointing EAL
    at the instance's runtime files ($RUNTIME_DIRECTORY/dpdk/<prefix>; the
    service's are in /run/dpfwd). A secondary sees a PCI port only if it
    probes that device too, so it is given the instance's PCI ports (and no
    other device on the host)."""
    from .telemetry import Telemetry, read_ports
    os.environ["RUNTIME_DIRECTORY"] = os.path.dirname(os.path.dirname(instance_dir(instance)))
    with Telemetry(instance) as tm:
        pci = [p["name"] for p in read_ports(tm) if PCI_ADDRESS.fullmatch(str(p["name"]))]
    return (["--proc-type=secondary", "--file-prefix", instance, "-l", "0"]
            + ([arg for name in pci for arg in ("-a", name)] or ["--no-pci"]))


def orphans(limit=16):
    """In the forwarder: captures whose process is gone, as (pid, port, queue, flags)."""
    out = ffi.new("struct dpfwd_capture_owner[]", limit)
    n = check_error(lib.dpfwd_capture_orphans(out, limit))
    return [(o.pid, o.port, o.queue, o.flags) for o in out[0:n]]


def release_command(instance, owner):
    """The command the forwarder runs to release one orphan."""
    return [sys.executable, "-m", "dpfwd.capture", "release", instance, *map(str, owner)]


def release(instance, pid, port, queue, flags):
    """In a secondary of instance: stop pdump copying for a dead capture, free its memory."""
    from .eal import Eal
    with Eal(attach_to(instance)):
        owner = ffi.new("struct dpfwd_capture_owner *", {"pid": pid, "port": port, "queue": queue,
                                                         "flags": flags})
        check_error(lib.dpfwd_capture_release(owner))


def main(argv):
    if len(argv) != 7 or argv[1] != "release":
        print("usage: python -m dpfwd.capture release INSTANCE PID PORT QUEUE FLAGS", file=sys.stderr)
        return 2
    try:
        release(argv[2], *map(int, argv[3:]))
    except (DpfwdError, ValueError) as exc:
        print(f"capture release: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
