"""dpfwd's YAML config: load, validate, and report every error with its path.

The schema (every key but ``ports`` has a default)::

    eal:
      instance: dpfwd          # EAL file prefix; tells instances apart
      lcores: "0-1"            # first is the main lcore, the rest forward;
                               # "0,1,2@1" runs lcore 2 on CPU 1 too. Unset:
                               # two CPUs of the ports' NUMA node
      memory: in-memory        # in-memory | hugepages (shared: live capture) | no-huge
      memory_mb: 512           # only for no-huge: memory EAL allocates
      args: []                 # extra EAL arguments, passed as they are
    mempool:
      mbufs: 8192              # per NUMA node in use
      cache: 256
    ports:                     # one of vdev, pci, interface per port
      - vdev: net_null0
        rx_queues: 1
        tx_queues: 1
        rx_descriptors: 1024
        tx_descriptors: 1024
        mtu: 1500
        promiscuous: true
        dest_mac: "02:00:00:00:00:00"   # mac mode: next hop on this port's wire
    pairs: [[0, 1]]            # default: 0<->1, 2<->3, ...
    forwarding:
      mode: io                 # io | mac | macswap
      burst: 32
      idle: auto               # auto | busy | pause | sleep | monitor
      sleep_max_us: null       # sleep: longest sleep; null: what the rx rings allow
      residence: true          # time 1 burst in 32 from rx to tx (dpfwd_residence_seconds)
      link_propagation: true   # a port without link sets its peer's link down until it is back
    metrics:
      listen: 127.0.0.1:19310  # Prometheus /metrics; absent or null: off

Strings are parsed here, once, into typed values (Lcores, PCI addresses in
full form, MACs as bytes, Listen); nothing downstream parses them again.
Nothing here loads DPDK: ``dpfwd config check`` and ``dpfwd run`` share it.
"""
import difflib
import ipaddress
import re
from dataclasses import dataclass, field

import yaml

from .facts import IDLE_POLICIES, MAX_BURST, MAX_LCORES, MAX_PORTS, MAX_QUEUES, MAX_TASKS, MODES
from .host import PCI_ADDRESS, full_pci

MEMORY_MODES = ("in-memory", "hugepages", "no-huge")
MEMPOOL_CACHE_MAX = 512     # RTE_MEMPOOL_CACHE_MAX_SIZE
MAX_CPU = 1 << 16           # CPU numbers in lcore lists are bounded before they are expanded
MAX_FILE_BYTES = 1 << 20    # a config is a page or two; anything near this is not one
MAX_DEPTH = 16              # the schema nests four levels; YAML nested deeper is refused unread
# EAL options dpfwd sets itself, and the config key that sets each instead.
OWNED_EAL_OPTIONS = {
    "--file-prefix": "eal.instance", "--proc-type": "nothing: dpfwd runs as the primary process",
    "--in-memory": "eal.memory", "--no-huge": "eal.memory", "--huge-unlink": "eal.memory",
    "-l": "eal.lcores", "--lcores": "eal.lcores", "-c": "eal.lcores", "--main-lcore": "eal.lcores",
    "-a": "ports", "--allow": "ports", "-b": "ports", "--block": "ports", "--vdev": "ports", "--no-pci": "ports",
}
# Prometheus's exporter range 9100-9999 is fully allocated: stay outside it.
DEFAULT_METRICS_LISTEN = "127.0.0.1:19310"

_INSTANCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_LCORES = re.compile(r"^\d+(-\d+|@\d+)?(,\d+(-\d+|@\d+)?)*$", re.ASCII)
_VDEV = re.compile(r"^net_[a-z_]+[0-9]+(,[^\s,=]+=[^\s,]*)*$")
_IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")   # the kernel allows more, devargs do not (no "," or "=")
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


class ConfigError(Exception):
    """The config is invalid; .errors holds one 'path: problem; fix' line each."""

    def __init__(self, errors):
        super().__init__("\n".join(errors))
        self.errors = list(errors)


class ConfigUnreadable(Exception):
    """The config file cannot be read at all (missing, permissions, not text)."""


@dataclass(frozen=True)
class PortConfig:
    rx_queues: int = 1
    tx_queues: int = 1
    rx_descriptors: int = 1024
    tx_descriptors: int = 1024
    mtu: int = 1500
    promiscuous: bool = True
    # take link changes from the PMD's interrupt when it has one (Forwarder
    # turns it off where the interrupt cannot be delivered)
    link_interrupt: bool = True

    def __post_init__(self):
        for name, lo, hi in (("rx_queues", 1, 1024), ("tx_queues", 1, 1024),
                             ("rx_descriptors", 1, 65535), ("tx_descriptors", 1, 65535),
                             ("mtu", 68, 65535)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"PortConfig.{name}: {value!r} is not an integer between {lo} and {hi}")


@dataclass(frozen=True)
class Lcores:
    """An EAL lcore list, parsed: the first lcore is the main one, the others forward."""
    text: str        # as EAL takes it, e.g. "0-1" or "0,1,2@1"
    cpus: tuple      # ((lcore, cpu), ...) in the order given

    @property
    def ids(self):
        return [lcore for lcore, _ in self.cpus]

    @property
    def workers(self):
        return self.ids[1:]

    def cpu_of(self, lcore):
        return dict(self.cpus)[lcore]

    def __str__(self):
        return self.text


@dataclass(frozen=True)
class Listen:
    """An address to serve on: host (IPv4, IPv6 or a name) and TCP port."""
    host: str
    port: int

    def __str__(self):
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def format_mac(mac):
    return ":".join(f"{b:02x}" for b in mac)


@dataclass(frozen=True)
class PortSpec:
    """A configured port: which device, how to set it up, where mac mode sends."""
    vdev: str = None
    pci: str = None          # full form, 0000:03:00.0
    interface: str = None
    setup: PortConfig = field(default_factory=PortConfig)
    dest_mac: bytes = None   # 6 bytes; None: the l2fwd default (plan.default_dest_mac)

    @property
    def device(self):
        """What EAL is given for this port: vdev spec or PCI address."""
        return self.vdev or self.pci

    def describe(self):
        return self.vdev or self.pci or f"interface {self.interface}"


@dataclass(frozen=True)
class Config:
    ports: tuple
    instance: str = "dpfwd"
    lcores: Lcores = None   # None: dpfwd run places them (plan.place_lcores)
    memory: str = "in-memory"
    memory_mb: int = 512
    eal_args: tuple = ()    # extra EAL arguments, none of OWNED_EAL_OPTIONS
    mbufs: int = 8192
    cache: int = 256
    pairs: tuple = field(default=())
    mode: str = "io"
    burst: int = 32
    idle: str = "auto"
    sleep_max_us: int = None    # None: derived from the rx rings and link speeds (forward.c)
    residence: bool = True      # time sampled bursts from rx to tx
    link_propagation: bool = True   # a pair's lost link is passed on to the other side
    metrics_listen: Listen = None
    metrics_allow_remote: bool = False   # listen on an address that is not loopback


def parse_listen(text):
    """'ADDR:PORT' -> Listen; ValueError when malformed."""
    addr, sep, port = str(text).rpartition(":")
    if not sep or not addr or not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(text)
    return Listen(addr.strip("[]"), int(port))


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False     # a name: it may resolve anywhere


def parse_lcores(text):
    """'0,2-3' -> lcores 0, 2, 3; '0,1,2@1': lcore 2 runs on CPU 1. Every
    number is bounded before a range is expanded. ValueError when malformed."""
    text = str(text).replace(" ", "")
    if len(text) > 1024 or not _LCORES.fullmatch(text):
        raise ValueError(text)
    cpus = []
    for part in text.split(","):
        lcores, _, cpu = part.partition("@")
        lo, _, hi = lcores.partition("-")
        lo, hi = int(lo), int(hi or lo)
        if not lo <= hi < MAX_LCORES or (cpu and int(cpu) >= MAX_CPU):
            raise ValueError(text)
        cpus.extend((lcore, int(cpu) if cpu else lcore) for lcore in range(lo, hi + 1))
    ids = [lcore for lcore, _ in cpus]
    if len(set(ids)) != len(ids):
        raise ValueError(text)
    return Lcores(text, tuple(cpus))


class _Checker:
    """Collects errors as it reads; each read returns a usable value anyway."""

    def __init__(self):
        self.errors = []

    def error(self, path, message):
        self.errors.append(f"{path}: {message}")

    def mapping(self, value, path, allowed, required=()):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            self.error(path, f"{_show(value)} is not a mapping; write it as 'key: value' lines")
            return {}
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else "expected one of: " + ", ".join(allowed)
                self.error(_join(path, key), f"unknown key; {hint}")
        for key in required:
            if key not in value:
                self.error(_join(path, key), "is required")
        return value

    def integer(self, m, key, path, default, lo, hi, power_of_two=False):
        if key not in m:
            return default
        value, where = m[key], _join(path, key)
        kind = "a power of two" if power_of_two else "an integer"
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(where, f"{_show(value)} is not {kind} between {lo} and {hi}")
            return default
        if not lo <= value <= hi or (power_of_two and value & (value - 1)):
            self.error(where, f"{value} is not {kind} between {lo} and {hi}")
            return default
        return value

    def boolean(self, m, key, path, default):
        if key not in m:
            return default
        value = m[key]
        if not isinstance(value, bool):
            self.error(_join(path, key), f"{_show(value)} is not true or false")
            return default
        return value

    def choice(self, m, key, path, default, choices):
        if key not in m:
            return default
        value = m[key]
        if value not in choices:
            self.error(_join(path, key), f"{_show(value)} is not one of: {', '.join(choices)}")
            return default
        return value

    def pattern(self, m, key, path, default, regex, what):
        if key not in m:
            return default
        value = m[key]
        if not isinstance(value, str) or not regex.fullmatch(value):
            self.error(_join(path, key), f"{_show(value)} is not {what}")
            return default
        return value


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


def _join(path, key):
    """A dotted path; keys that are not plain names are quoted (one line, bounded)."""
    key = key if isinstance(key, str) and _PLAIN_KEY.fullmatch(key) else repr(key)[:40]
    return f"{path}.{key}" if path else key


def _show(value):
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, (dict, list)):
        return type(value).__name__
    return str(value).lower() if isinstance(value, bool) else str(value)


def _read_eal(c, raw):
    m = c.mapping(raw, "eal", ("instance", "lcores", "memory", "memory_mb", "args"))
    out = {
        "instance": c.pattern(m, "instance", "eal", "dpfwd", _INSTANCE,
                              "a name of 1-32 letters, digits, '-' or '_'"),
        "memory": c.choice(m, "memory", "eal", "in-memory", MEMORY_MODES),
        "memory_mb": c.integer(m, "memory_mb", "eal", 512, 64, 1 << 20),
    }
    lcores = m.get("lcores")
    try:
        if lcores is None:
            raise LookupError   # unpinned: placed by the plan on the ports' NUMA node
        out["lcores"] = parse_lcores(lcores)
        if len(out["lcores"].ids) < 2:
            c.error("eal.lcores", f"{_show(lcores)} has one lcore; list two or more "
                    "(the first is the main lcore, the others forward), e.g. \"0-1\"")
    except LookupError:
        pass
    except ValueError:
        c.error("eal.lcores", f"{_show(lcores)} is not an lcore list like \"0-1\", \"0,2-3\" or "
                f"\"0,1,2@1\" (lcores below {MAX_LCORES})")
    args = m.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        c.error("eal.args", "is not a list of strings; write each EAL argument as one item")
        return out
    for i, arg in enumerate(args):
        option = arg.split("=", 1)[0]
        if option in OWNED_EAL_OPTIONS:
            c.error(f"eal.args[{i}]", f"{_show(arg)} sets what dpfwd sets itself; use {OWNED_EAL_OPTIONS[option]}")
    out["eal_args"] = tuple(args)
    return out


def _read_mempool(c, raw):
    m = c.mapping(raw, "mempool", ("mbufs", "cache"))
    mbufs = c.integer(m, "mbufs", "mempool", 8192, 1024, 1 << 22)
    # With at least 1024 mbufs, any cache up to the maximum passes DPDK's n / 1.5 rule.
    cache = c.integer(m, "cache", "mempool", 256, 0, MEMPOOL_CACHE_MAX)
    return {"mbufs": mbufs, "cache": cache}


_PORT_KEYS = ("vdev", "pci", "interface", "rx_queues", "tx_queues", "rx_descriptors",
              "tx_descriptors", "mtu", "promiscuous", "dest_mac")


def _read_port(c, raw, path):
    m = c.mapping(raw, path, _PORT_KEYS)
    given = [k for k in ("vdev", "pci", "interface") if k in m]
    if len(given) != 1:
        found = "none" if not given else " and ".join(given)
        c.error(path, f"has {found}; give exactly one of vdev, pci or interface")
    pci = c.pattern(m, "pci", path, None, PCI_ADDRESS, "a PCI address like 0000:03:00.0")
    mac = c.pattern(m, "dest_mac", path, None, _MAC, "a MAC address like 02:00:00:00:00:01")
    return PortSpec(
        vdev=c.pattern(m, "vdev", path, None, _VDEV,
                       "a DPDK vdev like net_null0 or net_pcap0,rx_pcap=in.pcap"),
        pci=pci if pci is None else full_pci(pci),
        interface=c.pattern(m, "interface", path, None, _IFNAME,
                            "a network interface name (1-15 of A-Z a-z 0-9 _ . -)"),
        setup=PortConfig(
            rx_queues=c.integer(m, "rx_queues", path, 1, 1, MAX_QUEUES),
            tx_queues=c.integer(m, "tx_queues", path, 1, 1, MAX_QUEUES),
            rx_descriptors=c.integer(m, "rx_descriptors", path, 1024, 64, 4096, power_of_two=True),
            tx_descriptors=c.integer(m, "tx_descriptors", path, 1024, 64, 4096, power_of_two=True),
            mtu=c.integer(m, "mtu", path, 1500, 68, 9000),
            promiscuous=c.boolean(m, "promiscuous", path, True)),
        dest_mac=None if mac is None else bytes.fromhex(mac.replace(":", "")),
    )


def _device_key(port):
    if port.vdev:
        return "vdev " + port.vdev.split(",")[0]
    return f"pci {port.pci}" if port.pci else f"interface {port.interface}"


def _read_ports(c, raw):
    if raw is None:
        c.error("ports", "is required; list the ports to forward between, at least two")
        return []
    if not isinstance(raw, list):
        c.error("ports", f"{_show(raw)} is not a list; write each port as a '- vdev: ...' item")
        return []
    if not 2 <= len(raw) <= MAX_PORTS:
        c.error("ports", f"has {len(raw)} ports; give between 2 and {MAX_PORTS}")
    ports = [_read_port(c, p, f"ports[{i}]") for i, p in enumerate(raw)]
    seen = {}
    for i, port in enumerate(ports):
        key = _device_key(port)
        if key in seen and (port.vdev or port.pci or port.interface):
            c.error(f"ports[{i}]", f"{key} is also ports[{seen[key]}]; each device can be one port only")
        seen.setdefault(key, i)
    return ports


def _read_pairs(c, raw, n_ports):
    if raw is None:
        if n_ports % 2:
            c.error("pairs", f"not given, and {n_ports} ports cannot pair up 0<->1, 2<->3; "
                    "list the pairs or add a port")
        return [(i, i + 1) for i in range(0, n_ports - 1, 2)]
    if not isinstance(raw, list):
        c.error("pairs", f"{_show(raw)} is not a list of [a, b] port index pairs")
        return []
    pairs, used = [], {}
    for i, pair in enumerate(raw):
        where = f"pairs[{i}]"
        if (not isinstance(pair, list) or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)):
            c.error(where, f"{_show(pair)} is not a pair of port indexes like [0, 1]")
            continue
        bad = [x for x in pair if not 0 <= x < n_ports]
        if bad:
            c.error(where, f"port {bad[0]} does not exist; indexes run from 0 to {n_ports - 1}")
            continue
        if pair[0] == pair[1]:
            c.error(where, f"pairs port {pair[0]} with itself; a pair needs two ports")
            continue
        for x in pair:
            if x in used:
                c.error(where, f"port {x} is already in pairs[{used[x]}]; a port can be in one pair only")
            used.setdefault(x, i)
        pairs.append(tuple(pair))
    for x in range(n_ports):
        if x not in used:
            c.error("pairs", f"port {x} is in no pair; pair it or remove it from ports")
    return pairs


def _check_pair_queues(c, ports, pairs):
    """Rx queue q of a port sends on tx queue q of its peer."""
    for a, b in pairs:
        for src, dst in ((a, b), (b, a)):
            have, need = ports[dst].setup.tx_queues, ports[src].setup.rx_queues
            if have < need:
                c.error(f"ports[{dst}].tx_queues",
                        f"{have} is fewer than the rx_queues ({need}) of its peer ports[{src}]; set it to {need}")
    tasks = sum(ports[x].setup.rx_queues for pair in pairs for x in pair)
    if tasks > MAX_TASKS:
        c.error("ports", f"{tasks} rx queues in all; dpfwd polls at most {MAX_TASKS}")


def validate(data):
    """Config from parsed YAML, or ConfigError listing every problem."""
    c = _Checker()
    top = c.mapping(data, "", ("eal", "mempool", "ports", "pairs", "forwarding", "metrics"))
    eal = _read_eal(c, top.get("eal"))
    mempool = _read_mempool(c, top.get("mempool"))
    ports = _read_ports(c, top.get("ports"))
    pairs = _read_pairs(c, top.get("pairs"), len(ports))
    _check_pair_queues(c, ports, pairs)
    fm = c.mapping(top.get("forwarding"), "forwarding", ("mode", "burst", "idle", "sleep_max_us", "residence",
                                                         "link_propagation"))
    mode = c.choice(fm, "mode", "forwarding", "io", MODES)
    idle = c.choice(fm, "idle", "forwarding", "auto", IDLE_POLICIES)
    burst = c.integer(fm, "burst", "forwarding", 32, 1, MAX_BURST)
    residence = c.boolean(fm, "residence", "forwarding", True)
    link_propagation = c.boolean(fm, "link_propagation", "forwarding", True)
    sleep_max_us = c.integer(fm, "sleep_max_us", "forwarding", None, 1, 500) \
        if fm.get("sleep_max_us") is not None else None
    mm = c.mapping(top.get("metrics"), "metrics", ("listen", "allow_remote"))
    allow_remote = c.boolean(mm, "allow_remote", "metrics", False)
    listen = mm.get("listen")
    if listen is not None:
        try:
            listen = parse_listen(listen)
        except ValueError:
            c.error("metrics.listen", f"{_show(listen)} is not ADDR:PORT like {DEFAULT_METRICS_LISTEN}")
            listen = None
    if listen is not None and not allow_remote and not is_loopback(listen.host):
        c.error("metrics.listen", f"{listen} is not a loopback address, so other hosts could read the "
                "metrics; set metrics.allow_remote: true if that is meant")
    if c.errors:
        raise ConfigError(c.errors)
    return Config(ports=tuple(ports), pairs=tuple(pairs), mode=mode, burst=burst, idle=idle,
                  sleep_max_us=sleep_max_us, residence=residence, link_propagation=link_propagation,
                  metrics_listen=listen, metrics_allow_remote=allow_remote, **eal, **mempool)


class _Refused(Exception):
    def __init__(self, mark, message):
        super().__init__(message)
        self.mark, self.message = mark, message


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses what a config never needs and a mistake or an
    attack may hold: duplicate keys, aliases, nesting deeper than MAX_DEPTH."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise _Refused(self.peek_event().start_mark, "anchors and aliases (*name) are not supported; "
                           "write the value out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(self.peek_event().start_mark, f"nested more than {MAX_DEPTH} levels deep; "
                               "the config nests four")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key, line = self.construct_object(key_node, deep=True), key_node.start_mark.line
            try:
                first = seen.get(key)
            except TypeError:
                raise _Refused(key_node.start_mark, "a key that is a list or a mapping; keys are names") from None
            if first is not None:
                raise _Refused(key_node.start_mark, f"key {_show(key)} is given twice, on lines {first + 1} "
                               f"and {line + 1}; keep one")
            seen[key] = line
        return super().construct_mapping(node, deep)


def parse_yaml(text, source="<config>"):
    """The YAML of a config as Python data; ConfigError naming the place when
    it is not YAML, or holds what a config never does."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError([f"{source}: {len(text)} bytes; a config is at most {MAX_FILE_BYTES} "
                           "(is this the right file?)"])
    try:
        data = yaml.load(text, Loader=_Loader)   # noqa: S506 - a SafeLoader
    except _Refused as exc:
        raise ConfigError([f"{source}:{exc.mark.line + 1}:{exc.mark.column + 1}: {exc.message}"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([f"{where}: not valid YAML ({problem}); fix the syntax there"]) from None
    except (RecursionError, MemoryError, ValueError, OverflowError) as exc:
        raise ConfigError([f"{source}: cannot be read as a config ({type(exc).__name__}); "
                           "simplify the file"]) from None
    if data is None:
        raise ConfigError([f"{source}: the file is empty; it needs at least a 'ports' list"])
    return data


def read(path):
    """The parsed YAML of a config file, not yet validated."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_FILE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigUnreadable(f"{path}: cannot read the config file ({reason})") from None
    return parse_yaml(text, str(path))


def load(path):
    """Read and validate a config file."""
    return validate(read(path))
