"""Fuzzing the config path with Hypothesis: generated configs (valid, mutated,
random YAML and bytes) through validation, the plan, `dpfwd config check` and
a live reload. Every input gives a valid config or ConfigError lines, never
another exception. DPFWD_FUZZ_EXAMPLES raises the number of examples (CI runs
the default; the README gives a longer run)."""
import copy
import os
import signal

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dpfwd import config as cfg
from dpfwd import facts
from dpfwd.cli import main
from dpfwd.plan import make_plan
from lab.dpfwd_process import Dpfwd

EXAMPLES = int(os.environ.get("DPFWD_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values a careless or hostile file may hold where a config value goes.
odd = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 70), 2 ** 70) | st.floats(allow_nan=True)
    | st.text(max_size=40) | st.sampled_from(["0-4000000000", "0,\u0661", "a,b=c", "x" * 40, "-1", "1e9",
                                             "net_null0,iface=eth0", "--file-prefix=x", "::1:1"]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12)

port = st.fixed_dictionaries(
    {"vdev": st.sampled_from([f"net_null{i}" for i in range(8)]), "tx_queues": st.just(4)},
    optional={"rx_queues": st.integers(1, 4),
              "rx_descriptors": st.sampled_from([64, 512, 1024, 4096]), "mtu": st.integers(68, 9000),
              "promiscuous": st.booleans(), "dest_mac": st.just("02:00:00:00:00:09")})
valid = st.fixed_dictionaries(
    {"ports": st.lists(port, min_size=2, max_size=8, unique_by=lambda p: p["vdev"]).filter(lambda p: len(p) % 2 == 0)},
    optional={"eal": st.fixed_dictionaries({}, optional={
                  "instance": st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
                  "lcores": st.sampled_from(["0-1", "0,2-3", "0,1,2@1"]),
                  "memory": st.sampled_from(cfg.MEMORY_MODES), "args": st.just(["--log-level", "pmd.*:debug"])}),
              "mempool": st.fixed_dictionaries({}, optional={"mbufs": st.integers(1024, 1 << 20),
                                                             "cache": st.integers(0, 512)}),
              "forwarding": st.fixed_dictionaries({}, optional={
                  "mode": st.sampled_from(facts.MODES), "burst": st.integers(1, facts.MAX_BURST),
                  "idle": st.sampled_from(facts.IDLE_POLICIES)}),
              "metrics": st.fixed_dictionaries({"listen": st.sampled_from(["127.0.0.1:19310", "[::1]:9"])})})


def mutate(data, draw):
    """A copy of data with one value, anywhere, replaced by an odd one."""
    data = copy.deepcopy(data)     # st.just() shares its value between examples
    paths = []

    def walk(node, path):
        paths.append(path)
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in items:
            walk(v, path + (k,))
    walk(data, ())
    path = draw(st.sampled_from(paths[1:]))
    node = data
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = draw(odd)
    return data


def outcome(data):
    """'valid' or 'invalid'; anything else raised is a bug and fails the test."""
    try:
        config = cfg.validate(data)
    except cfg.ConfigError as exc:
        assert exc.errors and all(isinstance(e, str) and "\n" not in e for e in exc.errors)
        return "invalid"
    make_plan(config)
    return "valid"


@FUZZ
@given(valid)
def test_generated_valid_configs_are_valid_and_plan(data):
    assert outcome(data) == "valid"


@FUZZ
@given(valid, st.data())
def test_mutated_configs_are_valid_or_errors(data, draw):
    outcome(mutate(data, draw.draw))


@FUZZ
@given(st.text(max_size=300) | odd.map(lambda v: yaml.safe_dump(v, default_flow_style=True)))
def test_any_text_is_a_config_or_errors(text):
    try:
        data = cfg.parse_yaml(text, "fuzz.yaml")
    except cfg.ConfigError:
        return
    outcome(data)


@settings(max_examples=max(EXAMPLES // 3, 50), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300) | valid.map(lambda d: yaml.safe_dump(d).encode()))
def test_config_check_answers_any_file_with_an_exit_code(tmp_path, content):
    f = tmp_path / "fuzz.yaml"
    f.write_bytes(content)
    result = CliRunner().invoke(main, ["config", "check", str(f)])
    assert result.exit_code in (0, 1, 3), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)


@pytest.fixture(scope="module")
def forwarder(dpdk_host, tmp_path_factory):
    path = tmp_path_factory.mktemp("reload") / "dpfwd.yaml"
    path.write_text("eal: {instance: t_fuzz_hup}\nports: [{vdev: net_null0}, {vdev: net_null1}]\n")
    run = Dpfwd(["--config", str(path)])
    run.path = path
    yield run
    run.kill()


@pytest.mark.dataplane
@settings(max_examples=max(EXAMPLES // 10, 20), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_reload_of_any_config_keeps_forwarding(forwarder, data):
    base = {"eal": {"instance": "t_fuzz_hup"}, "ports": [{"vdev": "net_null0"}, {"vdev": "net_null1"}]}
    content = data.draw(st.sampled_from(["mutated", "text", "bytes"]))
    if content == "mutated":
        forwarder.path.write_text(yaml.safe_dump(mutate(base, data.draw)))
    elif content == "text":
        forwarder.path.write_text(data.draw(st.text(max_size=200)))
    else:
        forwarder.path.write_bytes(data.draw(st.binary(max_size=200)))
    forwarder.proc.send_signal(signal.SIGHUP)
    line = forwarder.wait_for_line("reload", timeout=10)
    assert line is not None and forwarder.proc.poll() is None, forwarder.stderr_lines[-5:]
    assert "Traceback" not in "".join(forwarder.stderr_lines)
