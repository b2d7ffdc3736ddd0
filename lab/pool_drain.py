"""Drain a running instance's mbuf pool, as a secondary process: the lab's
stand-in for a pool that runs dry (mbufs leaked or held elsewhere), so a NIC's
rx refill fails and the PMD counts rx_nombuf.

    python pool_drain.py INSTANCE POOL

Takes every mbuf the pool's shared ring holds, prints "holding N" and keeps
them until stdin closes or says anything, then gives them back and prints
"released N". Standalone (it runs inside the guest, where only the dpfwd
wheel is installed)."""
import sys
import threading

from dpfwd.capture import attach_to
from dpfwd.eal import Eal
from dpfwd.errors import MempoolError
from dpfwd.mempool import Mempool


def take_all(pool, held):
    """From a thread that is no EAL lcore: such a thread has no mbuf cache, so
    it takes from the shared ring and never touches the lcores' caches."""
    for count in (32, 1):
        while True:
            try:
                held.append(pool.alloc(count))
            except MempoolError:
                break


def in_thread(work):
    thread = threading.Thread(target=work)
    thread.start()
    thread.join()


def main(instance, name):
    with Eal(attach_to(instance)):
        pool = Mempool.attach(name)
        held = []
        in_thread(lambda: take_all(pool, held))
        count = sum(len(b) for b in held)
        print(f"holding {count}", flush=True)
        sys.stdin.readline()
        in_thread(lambda: [b.free() for b in held])
        print(f"released {count}", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
