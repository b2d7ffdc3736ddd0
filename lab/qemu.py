"""The lab guest's QEMU monitor (lab/guest/vm.sh starts it on a unix socket)."""
import os
import socket
import time

STATE = "/run/dpfwd-lab"
PROMPT = b"(qemu) "


def monitor(command, name="dpfwd-guest", timeout=10):
    """Run one human-monitor command, e.g. 'set_link p1 off'; its output."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(os.path.join(STATE, name, "monitor.sock"))
        out, deadline = b"", time.monotonic() + timeout
        for send in (None, command):
            if send is not None:
                s.sendall(send.encode() + b"\n")
                out = b""
            while not out.endswith(PROMPT):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"QEMU monitor: no prompt after {command!r}")
                chunk = s.recv(4096)
                if not chunk:
                    break
                out += chunk
    # the reply echoes the command and ends with the next prompt
    return out.decode(errors="replace").replace("(qemu) ", "").strip()
