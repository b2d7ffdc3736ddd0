"""Start `dpfwd run` as a child process and wait, bounded, until it forwards."""
import os
import pathlib
import shlex
import select
import subprocess
import sys
import time

READY = "dpfwd: INFO: forwarding in"
TICKS = os.sysconf("SC_CLK_TCK")


def dpfwd_command():
    """How tests start dpfwd: DPFWD_COMMAND when set (e.g. a `docker run ...` of
    the runtime image), else the dpfwd next to this Python."""
    if os.environ.get("DPFWD_COMMAND"):
        return shlex.split(os.environ["DPFWD_COMMAND"])
    exe = os.path.join(os.path.dirname(sys.executable), "dpfwd")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "dpfwd"]


def dpfwd(*args, timeout=60, **kw):
    """Run `dpfwd ARGS` to its end, bounded: the CompletedProcess, text output."""
    return subprocess.run(dpfwd_command() + [str(a) for a in args], capture_output=True, text=True,
                          timeout=timeout, **kw)


class Dpfwd:
    """A running `dpfwd run ARGS`; .stderr_lines collects its log."""

    def __init__(self, args, ready_timeout=30, prefix=(), env=None):
        """prefix: a command to run it under, e.g. ("ip", "netns", "exec", NS);
        env: variables to add to this process's environment."""
        self.proc = subprocess.Popen([*prefix, *dpfwd_command(), "run", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, **env) if env else None)
        self.stderr_lines = []
        self._pending = ""
        self._wait_ready(ready_timeout)

    def wait_for_line(self, text, timeout=10):
        """The next stderr line containing text, or None after timeout seconds.

        Reads the pipe's fd directly: a buffered readline could hold a line
        that select() then never reports."""
        fd = self.proc.stderr.fileno()
        deadline = time.monotonic() + timeout
        while True:
            while "\n" in self._pending:
                line, self._pending = self._pending.split("\n", 1)
                self.stderr_lines.append(line + "\n")
                if text in line:
                    return line
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            chunk = os.read(fd, 65536)
            if not chunk:
                return None
            self._pending += chunk.decode(errors="replace")

    def _wait_ready(self, timeout):
        if self.wait_for_line(READY, timeout):
            return
        self.proc.kill()
        out, err = self.proc.communicate(timeout=10)
        raise RuntimeError("dpfwd did not start forwarding:\n" + "".join(self.stderr_lines) + err)

    def stop(self, sig, timeout=2.0):
        """Send sig; return (exit code, stdout, seconds it took to exit)."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=timeout)
        self.stderr_lines.append(self._pending + err)
        return self.proc.returncode, out, time.monotonic() - start

    def kill(self):
        """Make sure it is gone: SIGTERM first, so it removes its runtime and
        hugepage files, SIGKILL if it does not exit in time."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.communicate(timeout=10)


def worker_cpu_seconds(pid):
    """CPU seconds used so far by the process's EAL worker threads."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        comm = pathlib.Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        if "worker" in comm:
            fields = pathlib.Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / TICKS
