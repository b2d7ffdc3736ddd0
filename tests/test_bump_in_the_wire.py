"""Two namespaces whose only link is dpfwd on net_af_packet: ping and TCP cross it."""
import hashlib
import os
import signal

import pytest

from lab.dpfwd_process import Dpfwd
from lab.netns import BumpInTheWire

pytestmark = pytest.mark.netns
TCP_BYTES = 4 * 1024 * 1024

SERVER = """
import hashlib, socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5201)); s.listen(1); s.settimeout(30)
print("listening", flush=True)
c, _ = s.accept(); c.settimeout(30); h = hashlib.sha256(); n = 0
while True:
    b = c.recv(65536)
    if not b: break
    h.update(b); n += len(b)
print(n, h.hexdigest(), flush=True)
"""

CLIENT = """
import os, socket, sys
data = bytes.fromhex(sys.argv[2]) * (int(sys.argv[3]) // 32)
s = socket.create_connection((sys.argv[1], 5201), timeout=30); s.sendall(data); s.close()
"""


def ping(world, count=3):
    return world.run_a(["ping", "-c", str(count), "-W", "1", "-i", "0.2", world.addr_b])


@pytest.fixture
def world(dpdk_host):
    with BumpInTheWire(f"{os.getpid() % 10000}") as w:
        yield w


def transfer(world):
    """Send TCP_BYTES from A to B; return what B received (count, sha256)."""
    import subprocess
    seed = hashlib.sha256(b"dpfwd").hexdigest()
    server = world.popen_in(world.ns_b, ["python3", "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        client = world.run_a(["python3", "-c", CLIENT, world.addr_b, seed, str(TCP_BYTES)], timeout=60)
        assert client.returncode == 0, client.stderr
        out, _ = server.communicate(timeout=30)
    finally:
        server.kill()
    n, digest = out.split()
    want = hashlib.sha256(bytes.fromhex(seed) * (TCP_BYTES // 32)).hexdigest()
    return int(n), digest == want


def test_ping_and_tcp_cross_the_forwarder_and_stop_with_it(world):
    assert ping(world, 1).returncode != 0, "the namespaces must not be linked without dpfwd"
    run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--instance", "t_bump"])
    try:
        result = ping(world)
        assert result.returncode == 0, result.stdout
        assert transfer(world) == (TCP_BYTES, True)
        code, out, _ = run.stop(signal.SIGTERM)
        assert code == 0
    finally:
        run.kill()
    assert ping(world, 2).returncode != 0
