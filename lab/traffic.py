"""Traffic between two network namespaces: ping, and a TCP transfer whose
bytes are checked end to end. The tests, the demo and molecule all use these.

    ping("dpfwd-lab-a", "198.51.100.2", count=3).returncode == 0
    tcp_transfer("dpfwd-lab-a", "dpfwd-lab-b", "198.51.100.2", 4 << 20).intact
"""
import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass

PORT = 5201
# The receiver hashes what it gets; the sender sends a known pattern.
RECEIVER = """
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); s.settimeout(float(sys.argv[2]))
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(float(sys.argv[2])); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
"""
SENDER = """
import socket, sys
block = bytes(range(256)) * 256
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[4]))
left = int(sys.argv[3])
while left:
    n = min(left, len(block)); s.sendall(block[:n]); left -= n
s.close()
"""


def in_ns(ns, cmd):
    return ["ip", "netns", "exec", ns, *cmd]


def ping(ns, addr, count=3, wait=1, interval=0.2):
    """ping addr from namespace ns; the CompletedProcess (returncode 0: all came back)."""
    return subprocess.run(in_ns(ns, ["ping", "-c", str(count), "-W", str(wait), "-i", str(interval), addr]),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=30 + count * (wait + interval))


def expected_digest(nbytes):
    block, h, left = bytes(range(256)) * 256, hashlib.sha256(), nbytes
    while left:
        n = min(left, len(block))
        h.update(block[:n])
        left -= n
    return h.hexdigest()


@dataclass
class Transfer:
    sent: int
    received: int
    intact: bool      # the receiver's bytes hash to what was sent
    seconds: float

    @property
    def gbit_per_s(self):
        return self.received * 8 / self.seconds / 1e9 if self.seconds else 0.0


def start_receiver(ns, python, script, port, timeout):
    """A receiver script running in ns, once it says it is listening."""
    receiver = subprocess.Popen(in_ns(ns, [python, "-c", script, str(port), str(timeout)]),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
    if receiver.stdout.readline().strip() != "listening":
        receiver.kill()
        raise RuntimeError(f"the receiver in {ns} did not start: {receiver.stderr.read()}")
    return receiver


def tcp_transfer(ns_from, ns_to, addr_to, nbytes, timeout=60, python=None):
    """Send nbytes over TCP from ns_from to addr_to in ns_to; what arrived."""
    python = python or sys.executable
    receiver = start_receiver(ns_to, python, RECEIVER, PORT, timeout)
    try:
        start = time.monotonic()
        sender = subprocess.run(in_ns(ns_from, [python, "-c", SENDER, addr_to, str(PORT), str(nbytes),
                                                str(timeout)]),
                                capture_output=True, text=True, timeout=2 * timeout)
        out, _ = receiver.communicate(timeout=timeout)
        seconds = time.monotonic() - start
    finally:
        receiver.kill()
    if sender.returncode != 0:
        raise RuntimeError(f"the sender in {ns_from} failed: {sender.stderr.strip().splitlines()[-1:]}")
    received, digest = out.split()
    return Transfer(nbytes, int(received), digest == expected_digest(nbytes), seconds)


UDP_PORT = 7001
UDP_RECEIVER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.settimeout(float(sys.argv[2]))
print("listening", flush=True)
n = 0
try:
    while True:
        s.recv(2048); n += 1
except socket.timeout:
    pass
print(n, flush=True)
"""
UDP_SENDER = """
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
payload, sent = bytes(18), 0
for _ in range(int(sys.argv[3])):
    try:
        s.sendto(payload, (sys.argv[1], int(sys.argv[2]))); sent += 1
    except OSError:
        pass        # ENOBUFS: refused at the sender, never on the wire
print(sent, flush=True)
"""


def udp_flood(ns_from, ns_to, addr_to, count, quiet=3.0, python=None):
    """Send count 64-byte frames (18-byte UDP payloads) from ns_from to addr_to
    as fast as a socket takes them; returns (sent, received). The receiver
    stops after quiet seconds without a datagram."""
    python = python or sys.executable
    receiver = start_receiver(ns_to, python, UDP_RECEIVER, UDP_PORT, quiet)
    try:
        sent = udp_send(ns_from, addr_to, count, python)
        out, _ = receiver.communicate(timeout=120)
    finally:
        receiver.kill()
    return sent, int(out)


def udp_send(ns_from, addr_to, count, python=None):
    """Send count 64-byte UDP frames from ns_from to addr_to, as fast as a
    socket takes them; returns how many the socket took."""
    sender = subprocess.run(in_ns(ns_from, [python or sys.executable, "-c", UDP_SENDER, addr_to,
                                            str(UDP_PORT), str(count)]),
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)
    if sender.returncode != 0:
        raise RuntimeError(f"the sender in {ns_from} failed: {sender.stderr.strip().splitlines()[-1:]}")
    return int(sender.stdout)
