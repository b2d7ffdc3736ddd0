"""The service runtime of `dpfwd run`: signals, systemd notifications and
watchdog, reloads, stop conditions. The main thread lives here while the
lcores forward; it is never on the packet path.

systemd's notify protocol: datagrams to $NOTIFY_SOCKET. Without it (a shell,
a test) every notification is a no-op.
"""
import logging
import os
import select
import signal
import socket
import time

from . import facts
from .errors import DpfwdError
from .forwarder import LINK_POLL_SECONDS
from .idle import sleep_text
from .telemetry import NotRunning, Telemetry, read_stats

log = logging.getLogger("dpfwd")

# How often the main thread looks at stop conditions; bounds stop latency.
POLL_SECONDS = 0.05
# How often the forwarder looks for captures that died without stopping.
CAPTURE_CHECK_SECONDS = 0.5
# How long lcores may take to measure their wake-up delay before it is told.
SLEEP_PLAN_SECONDS = 2.0
# How often the main thread checks that every forwarding lcore made progress
# (finished a loop round): a stall is seen within twice this.
HEARTBEAT_SECONDS = 0.25
# A stall this long asks systemd for the watchdog's action (WATCHDOG=trigger:
# a restart) at once, rather than after WatchdogSec without a ping.
STALL_RESTART_SECONDS = 1.0



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


class Signals:
    """SIGINT/SIGTERM ask to stop, SIGHUP to reload; installed before EAL
    starts, so a signal during setup is still handled cleanly.

    The handler only sets a flag and writes a byte to a pipe that wait()
    selects on: a handler that took a lock (threading.Event.set does) could
    deadlock against the very code it interrupted."""

    def __init__(self, handled=(signal.SIGINT, signal.SIGTERM, signal.SIGHUP)):
        self.handled = handled
        self.stop = False
        self.reload = False

    def __enter__(self):
        self._read, self._write = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self._write, False)

        def on_signal(signum, _frame):
            if signum == signal.SIGHUP:
                self.reload = True
            else:
                self.stop = True
            try:
                os.write(self._write, b"!")
            except OSError:
                pass        # the pipe is full: wait() wakes anyway
        self._previous = {s: signal.signal(s, on_signal) for s in self.handled}
        return self

    def wait(self, timeout):
        """Return after a signal came, or after timeout seconds."""
        if select.select([self._read], [], [], timeout)[0]:
            try:
                while os.read(self._read, 512):
                    pass
            except BlockingIOError:
                pass

    def take_reload(self):
        asked, self.reload = self.reload, False
        return asked

    def __exit__(self, *exc):
        for s, handler in self._previous.items():
            signal.signal(s, handler)
        os.close(self._read)
        os.close(self._write)


def status_line(mode, prev, cur):
    """systemd's STATUS= text: rates of the summary packet counters and of loss."""
    dt = cur["elapsed_seconds"] - prev["elapsed_seconds"]
    if dt <= 0:
        return None

    def rate(of):
        return (sum(of(p) for p in cur["ports"]) - sum(of(p) for p in prev["ports"])) / dt
    parts = [f"{c.name} {rate(lambda p, k=c.name: p[k]) / 1e6:.2f} Mpps"
             for c in facts.COUNTERS if c.summary and c.unit == "packets"]
    return f"forwarding {mode}: " + ", ".join(parts) + f", lost {rate(facts.lost):.0f}/s"


class Service:
    """The main thread's life while the lcores forward: stop conditions,
    reloads, systemd notifications."""

    def __init__(self, fwd, signals, rebuild, duration=None, count=None):
        self.fwd, self.signals, self.rebuild = fwd, signals, rebuild
        self.deadline = time.monotonic() + duration if duration else None
        self.count = count
        self.status = Every(1.0)
        self.watchdog = Every(watchdog_interval())
        self.triggered = False
        self.links = Every(LINK_POLL_SECONDS)
        self.captures = Every(CAPTURE_CHECK_SECONDS)
        self.heartbeat = Every(HEARTBEAT_SECONDS)
        self.stalled = {}       # lcore -> when it was first seen stalled
        self.sleep_told = time.monotonic() + SLEEP_PLAN_SECONDS
        self.last = None

    def loop(self):
        notify("READY=1", "STATUS=forwarding")
        while True:
            self.signals.wait(POLL_SECONDS)
            if self.signals.stop:
                break
            if self.signals.take_reload():
                self.reload()
            if self.deadline is not None and time.monotonic() >= self.deadline:
                break
            if self.count is not None and self.fwd.forwarded() >= self.count:
                break
            if self.links.due():
                self.fwd.poll_links()
            if self.captures.due():
                self.fwd.release_dead_captures()
            if self.sleep_told is not None:
                self.tell_sleep_plan()
            if self.heartbeat.due():
                self.check_lcores()
            if self.watchdog.due() and self.fwd.running() and not self.stalled:
                notify("WATCHDOG=1")
            if self.status.due():
                self.report_status()
        notify("STOPPING=1")

    def check_lcores(self):
        """Note which lcores stopped finishing loop rounds, and which came
        back: while any is stalled, systemd's watchdog is not fed, so a
        forwarder stuck in a PMD call is restarted (WatchdogSec)."""
        now = time.monotonic()
        stalled = set(self.fwd.stalled_lcores())
        for lcore in sorted(stalled - set(self.stalled)):
            self.stalled[lcore] = now
            log.error("lcore %d made no progress for %.2f s (stuck, e.g. in a PMD call) polling %s; "
                      "the systemd watchdog is not fed while it is", lcore, HEARTBEAT_SECONDS,
                      self.fwd.lcore_ports(lcore))
        for lcore in sorted(set(self.stalled) - stalled):
            log.warning("lcore %d forwards again after a stall of %.2f s", lcore,
                        now - self.stalled.pop(lcore) + HEARTBEAT_SECONDS)
        longest = max(self.stalled.items(), key=lambda kv: now - kv[1], default=None)
        if longest and now - longest[1] >= STALL_RESTART_SECONDS and self.watchdog.period and not self.triggered:
            self.triggered = True
            log.error("lcore %d stalled for %.1f s: asking systemd to restart dpfwd (WATCHDOG=trigger)",
                      longest[0], now - longest[1] + HEARTBEAT_SECONDS)
            notify("WATCHDOG=trigger")

    def tell_sleep_plan(self):
        """Log, once, how each sleeping lcore sleeps: lcores measure their
        wake-up delay as they start, so this comes a little after READY."""
        plan = self.fwd.sleep_plan()
        if len(plan) < len(self.fwd.sleeping_lcores()) and time.monotonic() < self.sleep_told:
            return
        self.sleep_told = None
        for lcore, (cap, wake, ring) in plan.items():
            log.info("lcore %d: %s", lcore, sleep_text(cap, wake, ring))

    def reload(self):
        """Re-read the config: apply what can change live. Whatever goes wrong
        is one log line, and the old config keeps forwarding."""
        try:
            new = self.rebuild()
            restart, applied = self.fwd.apply_live(new)
        except Exception as exc:    # noqa: BLE001 - a reload must never stop the forwarder
            errors = getattr(exc, "errors", None) or [getattr(exc, "message", None) or str(exc)
                                                      or type(exc).__name__]
            log.error("reload rejected, still running the old config: %s", "; ".join(errors))
            return
        if restart:
            log.warning("reload: %s changed; that needs a restart (nothing was applied)",
                        ", ".join(restart))
        elif applied:
            log.info("reloaded: %s mode; applied live: %s", new.mode, ", ".join(applied))
        else:
            log.info("reloaded: %s mode; nothing changed", new.mode)

    def report_status(self):
        """STATUS= line for systemctl status, from the same telemetry as every reader."""
        if not os.environ.get("NOTIFY_SOCKET"):
            return
        try:
            with Telemetry(self.fwd.config.instance) as tm:
                cur = read_stats(tm)
        except NotRunning:
            return
        line = status_line(self.fwd.config.mode, self.last, cur) if self.last else None
        if line:
            notify(f"STATUS={line}")
        self.last = cur


def start_metrics(config):
    """Serve /metrics as the config says; DpfwdError when the address cannot be had."""
    from .metrics import serve
    try:
        serve(config.instance, config.metrics_listen)
    except OSError as exc:
        raise DpfwdError(f"metrics.listen: cannot listen on {config.metrics_listen} "
                         f"({exc.strerror}); pick a free ADDR:PORT") from None
    log.info("metrics on http://%s/metrics", config.metrics_listen)
