"""How a forwarding lcore spends a quiet wire, in words (the log, `dpfwd status`).

The numbers come from the data plane (forward.c): the longest sleep it allows
itself, the wake-up delay it measured, and how fast its rx rings fill at line
rate; the sleep stays short enough that the rings cannot overflow before it
wakes.
"""


def sleep_text(cap, wake, ring):
    """How an lcore sleeps on a quiet wire, for the log and `dpfwd status`."""
    if cap:
        return (f"sleeps up to {cap} us on a quiet wire (its rx rings fill in {ring} us at line rate; "
                f"waking takes up to {wake} us)")
    return (f"never sleeps: waking takes up to {wake} us here and its rx rings fill in {ring} us at "
            "line rate, so it spins on pause (more rx_descriptors let it sleep; "
            "forwarding.sleep_max_us forces a sleep, at the risk of loss at traffic onset)")
