"""Start `dpfwd run` as a child process and wait, bounded, until it forwards."""
import os
import selectors
import subprocess
import sys
import time

READY = "dpfwd: INFO: forwarding in"


def dpfwd_command():
    exe = os.path.join(os.path.dirname(sys.executable), "dpfwd")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "dpfwd"]


class Dpfwd:
    """A running `dpfwd run ARGS`; .stderr_lines collects its log."""

    def __init__(self, args, ready_timeout=30):
        self.proc = subprocess.Popen(dpfwd_command() + ["run", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.stderr_lines = []
        self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout):
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not sel.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr_lines.append(line)
            if line.startswith(READY):
                return
        self.proc.kill()
        out, err = self.proc.communicate(timeout=10)
        raise RuntimeError("dpfwd did not start forwarding:\n" + "".join(self.stderr_lines) + err)

    def stop(self, sig, timeout=2.0):
        """Send sig; return (exit code, stdout, seconds it took to exit)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr_lines.append(err)
        return self.proc.returncode, out, time.monotonic() - start

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate(timeout=10)
