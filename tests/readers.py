"""How tests read a running dpfwd the way its users do: the CLI's JSON and /metrics."""
import json
import time
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from lab.dpfwd_process import dpfwd


def read_json(*args):
    proc = dpfwd(*args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def until_changed(read, key, timeout=10):
    """Read twice or more until key(reading) grows; the lcore may not have run
    in between on a busy machine. Bounded by timeout."""
    first = read()
    deadline = time.monotonic() + timeout
    while True:
        later = read()
        if key(later) > key(first) or time.monotonic() > deadline:
            return first, later


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        families = {f.name: f for f in text_string_to_metric_families(r.read().decode())}
    return families


def sample(families, name, **labels):
    for s in families[name].samples:
        if s.name.endswith("_total" if families[name].type == "counter" else "") and \
                all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError(name)
