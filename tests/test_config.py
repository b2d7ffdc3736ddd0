"""Config validation: each bad config gets exactly its path-and-fix message."""
import pytest
import yaml

from dpfwd import config as cfg

GOOD = """
eal: {instance: edge1, lcores: "0-1", memory: in-memory}
mempool: {mbufs: 8192, cache: 256}
ports:
  - vdev: net_null0
  - pci: "0000:03:00.0"
    rx_descriptors: 512
    mtu: 9000
    dest_mac: "02:00:00:00:00:09"
pairs: [[0, 1]]
forwarding: {mode: mac, burst: 64}
"""


def errors_of(text):
    with pytest.raises(cfg.ConfigError) as info:
        cfg.validate(yaml.safe_load(text))
    return info.value.errors


def test_good_config_loads_with_values_and_defaults():
    c = cfg.validate(yaml.safe_load(GOOD))
    assert c.instance == "edge1" and c.mode == "mac" and c.burst == 64
    assert c.ports[0].vdev == "net_null0" and c.ports[0].setup.rx_descriptors == 1024
    assert c.ports[1].pci == "0000:03:00.0" and c.ports[1].setup.mtu == 9000
    assert c.pairs == ((0, 1),)
    # parsed once, into typed values
    assert c.lcores.ids == [0, 1] and c.lcores.text == "0-1"
    assert c.ports[1].dest_mac == bytes([2, 0, 0, 0, 0, 9]) and c.ports[0].dest_mac is None


def test_minimal_config_pairs_ports_in_order():
    c = cfg.validate({"ports": [{"vdev": f"net_null{i}"} for i in range(4)]})
    assert c.pairs == ((0, 1), (2, 3))
    assert (c.lcores, c.memory, c.mbufs, c.cache) == (None, "in-memory", 8192, 256)   # lcores: placed at plan time


def test_short_pci_address_gets_its_domain():
    c = cfg.validate({"ports": [{"pci": "03:00.0"}, {"pci": "03:00.1"}]})
    assert [p.pci for p in c.ports] == ["0000:03:00.0", "0000:03:00.1"]


PORTS2 = "ports: [{vdev: net_null0}, {vdev: net_null1}]\n"

BAD = [
    ("ports: [{vdev: net_null0, rx_descriptors: 100}, {vdev: net_null1}]",
     "ports[0].rx_descriptors: 100 is not a power of two between 64 and 4096"),
    ("ports: [{vdev: net_null0}, {vdev: net_null1, tx_descriptors: 8192}]",
     "ports[1].tx_descriptors: 8192 is not a power of two between 64 and 4096"),
    ("ports: [{vdev: net_null0, mtu: 9001}, {vdev: net_null1}]",
     "ports[0].mtu: 9001 is not an integer between 68 and 9000"),
    ("ports: [{vdev: net_null0, mtu: big}, {vdev: net_null1}]",
     "ports[0].mtu: 'big' is not an integer between 68 and 9000"),
    ("ports: [{vdev: net_null0, rx_queues: 0}, {vdev: net_null1}]",
     "ports[0].rx_queues: 0 is not an integer between 1 and 16"),
    ("ports: [{vdev: net_null0, rx_queue: 2}, {vdev: net_null1}]",
     "ports[0].rx_queue: unknown key; did you mean 'rx_queues'?"),
    ("ports: [{vdev: net_null0, pci: '0000:03:00.0'}, {vdev: net_null1}]",
     "ports[0]: has vdev and pci; give exactly one of vdev, pci or interface"),
    ("ports: [{mtu: 1500}, {vdev: net_null1}]",
     "ports[0]: has none; give exactly one of vdev, pci or interface"),
    ("ports: [{pci: '3:0.0'}, {vdev: net_null1}]",
     "ports[0].pci: '3:0.0' is not a PCI address like 0000:03:00.0"),
    ("ports: [{vdev: null0}, {vdev: net_null1}]",
     "ports[0].vdev: 'null0' is not a DPDK vdev like net_null0 or net_pcap0,rx_pcap=in.pcap"),
    ("ports: [{interface: averyveryverylongname}, {vdev: net_null1}]",
     "ports[0].interface: 'averyveryverylongname' is not a network interface name (1-15 of A-Z a-z 0-9 _ . -)"),
    ("ports: [{vdev: net_null0, dest_mac: '02:00:00:00:00'}, {vdev: net_null1}]",
     "ports[0].dest_mac: '02:00:00:00:00' is not a MAC address like 02:00:00:00:00:01"),
    ("ports: [{vdev: net_null0, promiscuous: 'on'}, {vdev: net_null1}]",
     "ports[0].promiscuous: 'on' is not true or false"),
    ("ports: [{vdev: net_null0}, {vdev: 'net_null0,size=128'}]",
     "ports[1]: vdev net_null0 is also ports[0]; each device can be one port only"),
    ("ports: [{vdev: net_null0}]",
     "ports: has 1 ports; give between 2 and 32"),
    ("eal: {}",
     "ports: is required; list the ports to forward between, at least two"),
    ("ports: {vdev: net_null0}",
     "ports: dict is not a list; write each port as a '- vdev: ...' item"),
    ("ports: [{vdev: net_null0}, {vdev: net_null1}, {vdev: net_null2}]",
     "pairs: not given, and 3 ports cannot pair up 0<->1, 2<->3; list the pairs or add a port"),
    (PORTS2 + "pairs: [[0, 2]]",
     "pairs[0]: port 2 does not exist; indexes run from 0 to 1"),
    (PORTS2 + "pairs: [[0, 0]]",
     "pairs[0]: pairs port 0 with itself; a pair needs two ports"),
    (PORTS2 + "pairs: [[0, 1], [1, 0]]",
     "pairs[1]: port 1 is already in pairs[0]; a port can be in one pair only"),
    (PORTS2 + "pairs: [0, 1]",
     "pairs[0]: 0 is not a pair of port indexes like [0, 1]"),
    ("ports: [{vdev: net_null0, rx_queues: 2}, {vdev: net_null1}]",
     "ports[1].tx_queues: 1 is fewer than the rx_queues (2) of its peer ports[0]; set it to 2"),
    (PORTS2 + "forwarding: {mode: fast}",
     "forwarding.mode: 'fast' is not one of: io, mac, macswap"),
    (PORTS2 + "forwarding: {idle: nap}",
     "forwarding.idle: 'nap' is not one of: auto, busy, pause, sleep, monitor"),
    (PORTS2 + "forwarding: {burst: 0}",
     "forwarding.burst: 0 is not an integer between 1 and 512"),
    (PORTS2 + "forwarding: {burst: true}",
     "forwarding.burst: true is not an integer between 1 and 512"),
    (PORTS2 + "eal: {lcores: '0'}",
     "eal.lcores: '0' has one lcore; list two or more (the first is the main lcore, "
     "the others forward), e.g. \"0-1\""),
    (PORTS2 + "eal: {lcores: '1-0'}",
     "eal.lcores: '1-0' is not an lcore list like \"0-1\", \"0,2-3\" or \"0,1,2@1\" (lcores below 128)"),
    (PORTS2 + "eal: {memory: shm}",
     "eal.memory: 'shm' is not one of: in-memory, hugepages, no-huge"),
    (PORTS2 + "eal: {instance: 'my box'}",
     "eal.instance: 'my box' is not a name of 1-32 letters, digits, '-' or '_'"),
    (PORTS2 + "eal: {args: --log-level=debug}",
     "eal.args: is not a list of strings; write each EAL argument as one item"),
    (PORTS2 + "mempool: {mbufs: 100}",
     "mempool.mbufs: 100 is not an integer between 1024 and 4194304"),
    (PORTS2 + "mempool: {cache: 600}",
     "mempool.cache: 600 is not an integer between 0 and 512"),
    (PORTS2 + "forwading: {mode: mac}",
     "forwading: unknown key; did you mean 'forwarding'?"),
    ("- just\n- a list\n",
     ": list is not a mapping; write it as 'key: value' lines"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[m.split(":")[0] or "top" for _, m in BAD])
def test_bad_config_is_reported_with_path_and_fix(text, message):
    assert message in errors_of(text)


def test_every_error_is_reported_not_just_the_first():
    errs = errors_of("ports: [{vdev: net_null0, mtu: 1}, {vdev: net_null1, rx_descriptors: 3}]\n"
                     "forwarding: {mode: nope}")
    assert len(errs) == 3


def test_yaml_syntax_error_names_line_and_column():
    with pytest.raises(cfg.ConfigError) as info:
        cfg.parse_yaml("ports:\n  - vdev: [net_null0\n", "x.yaml")
    assert info.value.errors[0].startswith("x.yaml:3:1: not valid YAML")


def test_unreadable_file(tmp_path):
    with pytest.raises(cfg.ConfigUnreadable, match="cannot read the config file"):
        cfg.load(tmp_path / "missing.yaml")


def test_lcore_lists():
    assert cfg.parse_lcores("0,2-4").ids == [0, 2, 3, 4]
    pinned = cfg.parse_lcores("0,1,2@1")
    assert pinned.ids == [0, 1, 2] and pinned.workers == [1, 2] and pinned.cpu_of(2) == 1
    # bounded before expanded; ASCII digits only
    for bad in ("", "a", "1-", "0,0", "3-1", "0-4000000000", "0,1@99999999", "0,\u0661"):
        with pytest.raises(ValueError):
            cfg.parse_lcores(bad)


PAIR = "ports: [{vdev: net_null0}, {vdev: net_null1}]\n"
READ_REFUSED = [
    (PAIR + "ports: [{vdev: net_null2}, {vdev: net_null3}]\n",
     "c.yaml:2:1: key 'ports' is given twice, on lines 1 and 2; keep one"),
    ("ports: [{vdev: net_null0, vdev: net_null1}]\n",
     "c.yaml:1:27: key 'vdev' is given twice, on lines 1 and 1; keep one"),
    (PAIR + "eal: &e {instance: a}\nmempool: *e\n",
     "c.yaml:3:10: anchors and aliases (*name) are not supported; write the value out"),
    ("a: " + "[" * 3000 + "]" * 3000 + "\n", "c.yaml:1:19: nested more than 16 levels deep; the config nests four"),
    ("? [a, b]\n: 1\n", "c.yaml:1:3: a key that is a list or a mapping; keys are names"),
    ("x" * (cfg.MAX_FILE_BYTES + 1), f"c.yaml: {cfg.MAX_FILE_BYTES + 1} bytes; a config is at most 1048576 "
                                     "(is this the right file?)"),
]


@pytest.mark.parametrize("text,message", READ_REFUSED)
def test_what_a_config_never_holds_is_refused_where_it_stands(text, message):
    with pytest.raises(cfg.ConfigError) as info:
        cfg.parse_yaml(text, "c.yaml")
    assert info.value.errors == [message]


MISUSE = [
    (PAIR + "eal: {lcores: '0-4000000000'}",
     "eal.lcores: '0-4000000000' is not an lcore list like \"0-1\", \"0,2-3\" or \"0,1,2@1\" (lcores below 128)"),
    (PAIR + "eal: {lcores: '0,\u0661'}",
     "eal.lcores: '0,\u0661' is not an lcore list like \"0-1\", \"0,2-3\" or \"0,1,2@1\" (lcores below 128)"),
    ("ports: [{interface: 'eth0,iface=x'}, {vdev: net_null1}]",
     "ports[0].interface: 'eth0,iface=x' is not a network interface name (1-15 of A-Z a-z 0-9 _ . -)"),
    (PAIR + 'eal: {instance: "edge1\\n"}',
     "eal.instance: 'edge1\\n' is not a name of 1-32 letters, digits, '-' or '_'"),
    (PAIR + "eal: {args: ['--file-prefix', 'other']}",
     "eal.args[0]: '--file-prefix' sets what dpfwd sets itself; use eal.instance"),
    (PAIR + "eal: {args: ['--in-memory']}", "eal.args[0]: '--in-memory' sets what dpfwd sets itself; use eal.memory"),
    (PAIR + "eal: {args: ['--proc-type=secondary']}",
     "eal.args[0]: '--proc-type=secondary' sets what dpfwd sets itself; use nothing: dpfwd runs as the primary "
     "process"),
    (PAIR + "metrics: {listen: '0.0.0.0:19310'}",
     "metrics.listen: 0.0.0.0:19310 is not a loopback address, so other hosts could read the metrics; "
     "set metrics.allow_remote: true if that is meant"),
    ('{"a\\nb": 1, ports: 3}', "'a\\nb': unknown key; expected one of: eal, mempool, ports, pairs, forwarding, "
                               "metrics"),
]


@pytest.mark.parametrize("text,message", MISUSE)
def test_misuse_is_an_error_naming_the_field(text, message):
    assert message in errors_of(text)


def test_remote_metrics_when_asked_for():
    c = cfg.validate(yaml.safe_load(PAIR + "metrics: {listen: '0.0.0.0:19310', allow_remote: true}"))
    assert str(c.metrics_listen) == "0.0.0.0:19310" and c.metrics_allow_remote
    assert str(cfg.validate(yaml.safe_load(PAIR + "metrics: {listen: '[::1]:9'}")).metrics_listen) == "[::1]:9"
