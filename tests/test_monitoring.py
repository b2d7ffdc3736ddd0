"""Monitoring as operators run it: the shipped alert rules under promtool, and
a real Prometheus server (Debian's) scraping a running dpfwd, answering the
PromQL of the rules and of every dashboard panel."""
import json
import pathlib
import re
import shutil
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import yaml

from dpfwd import facts
from lab.dpfwd_process import Dpfwd
from readers import read_json
from test_observability import free_port

MONITORING = pathlib.Path(__file__).resolve().parent.parent / "monitoring"
RULES, RULE_TESTS = MONITORING / "dpfwd-rules.yml", MONITORING / "dpfwd-rules.test.yml"
DASHBOARD = MONITORING / "grafana-dashboard.json"
SCRAPE_SECONDS = 1


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} is missing: scripts/setup.sh installs Debian's prometheus package"
    return path


def alerts():
    return {r["alert"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"] if "alert" in r}


def test_rules_pass_promtool_check():
    proc = subprocess.run([tool("promtool"), "check", "rules", str(RULES)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {len(alerts()) + 1} rules found" in proc.stdout


def test_rules_unit_tests_pass_and_cover_every_alert_both_ways():
    proc = subprocess.run([tool("promtool"), "test", "rules", RULE_TESTS.name], cwd=MONITORING,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    fired, groups = set(), yaml.safe_load(RULE_TESTS.read_text())["tests"]
    for group in groups:
        series = " ".join(s["series"] for s in group["input_series"])
        for case in group.get("alert_rule_test", []):
            if case["exp_alerts"]:
                fired.add(case["alertname"])
                # the same group holds a healthy host the alert must leave alone
                assert 'instance="good:19310"' in series, case["alertname"]
                assert all(a["exp_labels"]["instance"] != "good:19310" for a in case["exp_alerts"])
    assert fired == alerts()


def test_the_lost_rule_adds_up_exactly_the_counters_the_header_calls_loss():
    record = next(r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]
                  if r.get("record") == "dpfwd:port_lost_packets:rate5m")
    assert set(re.findall(r"dpfwd_port_(\w+)_total", record["expr"])) == \
        {c.metric for c in facts.COUNTERS if c.lost}


@pytest.fixture(scope="module")
def prometheus(dpdk_host, tmp_path_factory):
    """dpfwd on a net_null pair, scraped every second by a Prometheus server
    that loads the shipped rules. Yields a PromQL query function."""
    tmp = tmp_path_factory.mktemp("prometheus")
    metrics, web = free_port(), free_port()
    (tmp / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": f"{SCRAPE_SECONDS}s", "evaluation_interval": f"{SCRAPE_SECONDS}s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "dpfwd", "static_configs": [{"targets": [f"127.0.0.1:{metrics}"]}]}]}))
    run = Dpfwd(["--vdev", "net_null0", "--vdev", "net_null1", "--instance", "t_prom",
                 "--metrics", f"127.0.0.1:{metrics}"])
    server = subprocess.Popen([tool("prometheus"), f"--config.file={tmp / 'prometheus.yml'}",
                               f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{web}"],
                              stdout=subprocess.DEVNULL, stderr=open(tmp / "prometheus.log", "w"))

    def query(expr, at=None):
        params = {"query": expr} | ({"time": f"{at:.3f}"} if at else {})
        url = f"http://127.0.0.1:{web}/api/v1/query?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=5) as r:
            reply = json.load(r)
        assert reply["status"] == "success", reply
        return reply["data"]["result"]
    try:
        # bounded: the server starts, then scrapes; rates need samples over a few scrapes
        deadline = time.monotonic() + 60
        while True:
            try:
                if query('count_over_time(up{job="dpfwd"}[10s]) >= 5'):
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, \
                (tmp / "prometheus.log").read_text()[-2000:]
            time.sleep(0.2)     # polling a server's answer, bounded by the deadline above
        yield query
    finally:
        server.terminate()
        server.wait(timeout=30)
        run.kill()


def test_promql_rate_agrees_with_the_forwarded_rate(prometheus):
    first, t1 = read_json("stats", "--instance", "t_prom"), time.time()
    time.sleep(5)       # the measured window, not a synchronisation
    second, t2 = read_json("stats", "--instance", "t_prom"), time.time()
    ours = (second["ports"][1]["tx"] - first["ports"][1]["tx"]) / \
        (second["elapsed_seconds"] - first["elapsed_seconds"])
    promql = float(prometheus('rate(dpfwd_port_tx_packets_total{port="1"}[5s])', at=t2)[0]["value"][1])
    assert ours > 0 and abs(promql - ours) / ours < 0.05, (promql, ours, t2 - t1)


def test_the_rules_evaluate_on_live_series(prometheus):
    lost = prometheus("dpfwd:port_lost_packets:rate5m")
    assert sorted(s["metric"]["port"] for s in lost) == ["0", "1"]
    assert all(float(s["value"][1]) == 0 for s in lost)
    firing = prometheus('ALERTS{alertstate="firing"}')
    assert firing == []


def test_every_dashboard_panel_answers(prometheus):
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 10
    for expr in exprs:
        concrete = expr.replace("$instance", ".*").replace("$__rate_interval", "5s")
        assert prometheus(concrete), expr
    loss_panel = next(p for p in dashboard["panels"] if p["title"] == "Lost packets by cause")
    shown = {m for t in loss_panel["targets"] for m in re.findall(r"dpfwd_port_(\w+)_total", t["expr"])}
    assert {c.metric for c in facts.COUNTERS if c.lost} <= shown
