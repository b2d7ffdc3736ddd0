"""No loss at traffic onset: an lcore sleeps no longer than its rx rings allow.

On the lab model (lab/onset: a net_ring rx ring of 1023 fed at 10G line rate,
14.88 Mpps, in 20 trains after quiet spells), the default idle policy must not
lose the start of a train, while a sleep cap the rings cannot afford does.
This machine stalls now and then by itself: busy polling loses a train's
start in 7 to 11 of 100 trains here, and in 4 of 20 once in CI (see
bench/bench_onset.py). So the test counts trains, enough of them (100, 13 s)
that noise stays far from the bounds: the default loses at most 30 of 100
(10 to 16 measured), a sleep cap the ring cannot afford at least 50 (84 to 86).
"""
import pytest

from lab.onset import LINE_RATE_10G, OnsetModel
from readers import read_json

pytestmark = pytest.mark.dataplane
TRAINS = 100
NOISE_TRAINS = 30


def onset_trains(**config):
    with OnsetModel(instance="t_onset", **config) as model:
        trains = model.trains(LINE_RATE_10G, count=TRAINS)
        info = read_json("status", "--instance", "t_onset")["info"]
    assert all(t["nombuf"] == 0 for t in trains)
    return sum(1 for t in trains if t["onset"]), info


def test_the_default_does_not_lose_the_start_of_line_rate_traffic(dpdk_host):
    lossy, info = onset_trains()
    sleep = info["sleep"]["1"]
    # the data plane's own rule: a sleep plus the slowest wake-up fits the ring twice over
    assert sleep["sleep_max_us"] == 0 or \
        2 * (sleep["sleep_max_us"] + 2 * sleep["wake_us"]) <= sleep["ring_fill_us"], sleep
    assert sleep["ring_fill_us"] == 1024 * 672 // 10000
    assert lossy <= NOISE_TRAINS, f"{lossy} of {TRAINS} trains lost their start"


def test_a_sleep_the_ring_cannot_afford_loses_it(dpdk_host):
    lossy, info = onset_trains(idle="sleep", sleep_max_us=500)
    assert info["sleep"]["1"]["sleep_max_us"] == 500
    assert lossy >= TRAINS // 2, f"only {lossy} of {TRAINS} trains lost their start"
