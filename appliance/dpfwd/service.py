"""What `dpfwd run` does for a service manager: systemd notifications.

The standard notify protocol: datagrams to $NOTIFY_SOCKET. Without it (a
shell, a test) every call is a no-op.
"""
import os
import socket
import time


def notify(*lines):
    """Send 'KEY=value' lines to systemd; False when not run under a notify unit."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):
        path = "\0" + path[1:]    # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.sendto("\n".join(lines).encode(), path)
        except OSError:
            return False
    return True


def watchdog_interval():
    """Seconds between WATCHDOG=1 pings (half of WatchdogSec), or None."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2e6


class Every:
    """True once per period when polled; for chores in a polling loop."""

    def __init__(self, period):
        self.period = period
        self.next = time.monotonic()

    def due(self):
        now = time.monotonic()
        if self.period is None or now < self.next:
            return False
        self.next = now + self.period
        return True
