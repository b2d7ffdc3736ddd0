"""The embedded default: dpfwd between two namespaces, with traffic across it.

    sudo ./scripts/demo.sh [--seconds N]

Builds namespaces A and B joined only through dpfwd (net_af_packet on their
veths), pings B from A, sends TCP across, then stops dpfwd and shows its
counters.
"""
import argparse
import signal
import sys

from lab.dpfwd_process import Dpfwd
from lab.netns import BumpInTheWire
from lab.traffic import ping, tcp_transfer

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
            print(ping(world.ns_a, world.addr_b, count=5).stdout)
            say(f"TCP: {args.megabytes} MB from A to B, through dpfwd")
            moved = tcp_transfer(world.ns_a, world.ns_b, world.addr_b, args.megabytes << 20, timeout=120)
            print(f"B received {moved.received} bytes in {moved.seconds:.2f} s ({moved.gbit_per_s:.2f} Gbit/s), "
                  + ("every byte intact" if moved.intact else "NOT intact"))
            say("dpfwd stopped (SIGINT); its counters")
            code, out, _ = run.stop(signal.SIGINT, timeout=5)
            print(out)
        finally:
            run.kill()
        say("with dpfwd stopped, B is unreachable")
        print(ping(world.ns_a, world.addr_b, count=1).stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
