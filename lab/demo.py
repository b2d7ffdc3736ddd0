"""The embedded default: dpfwd between two namespaces, with traffic across it.

    sudo ./scripts/demo.sh [--seconds N]

Builds namespaces A and B joined only through dpfwd (net_af_packet on their
veths), pings B from A, sends TCP across, then stops dpfwd and shows its
counters.
"""
import argparse
import signal
import subprocess
import sys
import time

from lab.dpfwd_process import Dpfwd
from lab.netns import BumpInTheWire

SINK = ("import socket; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        "s.bind(('0.0.0.0', 5201)); s.listen(1); s.settimeout(30); print('listening', flush=True); "
        "c, _ = s.accept(); n = 0\nwhile True:\n    b = c.recv(65536)\n    if not b: break\n    n += len(b)\n"
        "print(n, flush=True)")
SOURCE = ("import socket, sys; s = socket.create_connection((sys.argv[1], 5201), timeout=30); "
          "s.sendall(b'x' * int(sys.argv[2])); s.close()")


def say(text):
    print(f"\n== {text}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--megabytes", type=int, default=64, help="TCP transfer size")
    args = ap.parse_args()
    with BumpInTheWire("demo") as world:
        say(f"namespaces {world.ns_a} ({world.addr_a}) and {world.ns_b} ({world.addr_b}); "
            f"dpfwd opens {world.fwd_a} and {world.fwd_b}")
        run = Dpfwd(["--interface", world.fwd_a, "--interface", world.fwd_b, "--instance", "demo"])
        try:
            print("".join(run.stderr_lines), end="")
            say(f"ping {world.addr_b} from A, through dpfwd")
            print(world.run_a(["ping", "-c", "5", "-i", "0.2", world.addr_b], text=True).stdout)
            say(f"TCP: {args.megabytes} MB from A to B, through dpfwd")
            sink = world.popen_in(world.ns_b, [sys.executable, "-c", SINK], stdout=subprocess.PIPE, text=True)
            sink.stdout.readline()
            start = time.monotonic()
            world.run_a([sys.executable, "-c", SOURCE, world.addr_b, str(args.megabytes << 20)], timeout=120)
            received, _ = sink.communicate(timeout=60)
            seconds = time.monotonic() - start
            print(f"B received {int(received)} bytes in {seconds:.2f} s "
                  f"({int(received) * 8 / seconds / 1e9:.2f} Gbit/s)")
            say("dpfwd stopped (SIGINT); its counters")
            code, out, _ = run.stop(signal.SIGINT, timeout=5)
            print(out)
        finally:
            run.kill()
        say("with dpfwd stopped, B is unreachable")
        print(world.run_a(["ping", "-c", "1", "-W", "1", world.addr_b], text=True).stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
