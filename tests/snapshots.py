"""The one snapshot shape: every producer's output is checked against
appliance/dpfwd/snapshot.schema.json, and its counters against the list in
native/dpfwd.h."""
import json
from importlib import resources

import jsonschema

from dpfwd import facts

SCHEMA = json.loads(resources.files("dpfwd").joinpath("snapshot.schema.json").read_text())
IDENTITY = {"port": {"index", "port_id", "name", "mac", "queues", "residence"}, "queue": {"queue"},
            "lcore": {"lcore"}}


def check_snapshot(snap):
    """snap is valid and every port, queue and lcore has exactly the header's counters."""
    jsonschema.validate(snap, SCHEMA)
    rows = [("port", p) for p in snap["ports"]] + [("lcore", lc) for lc in snap["lcores"]]
    rows += [("queue", q) for p in snap["ports"] for q in p["queues"]]
    for kind, row in rows:
        assert set(row) - IDENTITY[kind] == set(facts.COUNTER_NAMES), (kind, sorted(row))
    return snap
