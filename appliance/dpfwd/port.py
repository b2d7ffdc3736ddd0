"""Ethernet ports: find, set up, burst, close."""
import re

from .binding import check_error, ffi, lib
from .burst import EMPTY, Burst, _array, _give_back, _spare_arrays
from .config import PortConfig
from .eal import eal_alive, require_eal
from .errors import PortError

_PCI_SHORT = re.compile(r"^[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")


def device_name(spec):
    """The name DPDK gives the port a spec makes: vdev name or full PCI address."""
    spec = str(spec)
    if _PCI_SHORT.match(spec):
        return "0000:" + spec.lower()
    return spec.split(",")[0]


def find_port(spec, probe=True):
    """Port id for an id, a PCI address, a vdev string or a DPDK port name.

    A vdev that is not there yet (``net_null0,size=64``) is hot-plugged
    unless probe is False.
    """
    require_eal()
    if isinstance(spec, int):
        if not lib.dpfwd_port_valid(spec):
            raise PortError(f"port {spec}: no such port ({lib.dpfwd_port_count()} ports are available)")
        return spec
    name = device_name(spec)
    port_id = ffi.new("uint16_t *")
    if lib.dpfwd_port_by_name(name.encode(), port_id) == 0:
        return port_id[0]
    if probe and name.startswith("net_"):
        check_error(lib.dpfwd_port_probe(str(spec).encode()), PortError)
        check_error(lib.dpfwd_port_by_name(name.encode(), port_id), PortError)
        return port_id[0]
    raise PortError(f"{spec}: no DPDK port by that name; give a port id, a PCI address bound to "
                    f"vfio-pci, or a vdev (a kernel interface is net_af_packet0,iface={spec})")


class Port:
    """A started port: ``Port(spec, mempool, PortConfig(...))``.

    Setup configures the queues and rings (fitted to the PMD's limits: see
    ``rx_descriptors``/``tx_descriptors`` and ``adjustments``), starts the port
    and turns promiscuous mode on when asked and possible.
    """

    def __init__(self, spec, mempool, config=None, start=True):
        self._eal = require_eal()
        self.config = config or PortConfig()
        self.id = find_port(spec)
        if self.id in self._eal._open_ports:
            raise PortError(f"port {self.id} is already set up by {self._eal._open_ports[self.id]!r}; close that first")
        self.mempool = mempool      # rx fills from it: keep it alive
        self.tx_dropped = 0
        name = ffi.new("char[]", 64)
        lib.dpfwd_port_name(self.id, name, 64)
        self.name = ffi.string(name).decode()
        c = self.config
        conf = ffi.new("struct dpfwd_port_conf *", {
            "rx_queues": c.rx_queues, "tx_queues": c.tx_queues,
            "rx_descriptors": c.rx_descriptors, "tx_descriptors": c.tx_descriptors,
            "mtu": c.mtu, "promiscuous": int(bool(c.promiscuous)),
            "link_interrupt": int(bool(c.link_interrupt))})
        report = ffi.new("struct dpfwd_port_report *")
        check_error(lib.dpfwd_port_setup(self.id, conf, mempool._live(), report), PortError)
        self._open = True
        self._eal._adopt(self)
        self._eal._open_ports[self.id] = self
        self.rx_descriptors = report.rx_descriptors
        self.tx_descriptors = report.tx_descriptors
        self.promiscuous = False
        self.rss = bool(report.rss)
        self.link_interrupt = bool(report.link_interrupt)
        self.socket = report.socket
        if start:
            self.start()

    def start(self):
        """Start the port (setup leaves it stopped when start=False, for
        settings DPDK only takes on stopped queues)."""
        self.promiscuous = bool(check_error(
            lib.dpfwd_port_start(self.id, int(bool(self.config.promiscuous))), PortError))

    @property
    def mac(self):
        buf = ffi.new("uint8_t[6]")
        check_error(lib.dpfwd_port_mac(self.id, buf), PortError)
        return ":".join(f"{b:02x}" for b in buf)

    @property
    def adjustments(self):
        """What the PMD changed from the config, as readable lines."""
        out = []
        for what in ("rx_descriptors", "tx_descriptors"):
            asked, got = getattr(self.config, what), getattr(self, what)
            if asked != got:
                out.append(f"{what.replace('_', ' ')} {asked} -> {got} (PMD limits)")
        if self.config.promiscuous and not self.promiscuous:
            out.append("promiscuous mode not supported by the PMD")
        if self.config.rx_queues > 1 and not self.rss:
            out.append("no RSS: the PMD cannot hash flows over the rx queues")
        return out

    # rx_burst and tx_burst are the Python per-packet path: they use locals
    # bound at import and skip helper calls on the common case.
    def rx_burst(self, queue=0, n=32, _rx=lib.dpfwd_rx_burst, _spares=_spare_arrays):
        """Receive up to n packets from queue, as a Burst that owns them."""
        spares = _spares.get(n)
        pkts = spares.pop() if spares else _array(n)
        try:
            got = _rx(self.id, queue, pkts, n)
        except (OverflowError, TypeError):
            got = lib.DPFWD_BURST_INVALID        # a queue that is no uint16
        if got == 0:
            _give_back(n, pkts)
            return EMPTY
        if got > n:
            _give_back(n, pkts)
            raise PortError(self._refused("rx", queue, n))
        return Burst(pkts, got, n)

    def tx_burst(self, queue, burst, free_unsent=True, _tx=lib.dpfwd_tx_burst):
        """Send the burst's packets; return how many the PMD took.

        The sent mbufs belong to the PMD now. Unsent ones are freed and
        counted in ``tx_dropped`` unless free_unsent is False, in which case
        the burst keeps them, in order, for another try.
        """
        try:
            sent, freed = burst._transmit(_tx, self.id, queue, free_unsent)
        except (OverflowError, TypeError):
            sent = -1
        if sent < 0:
            raise PortError(self._refused("tx", queue, len(burst)))
        if freed:
            self.tx_dropped += freed
        return sent

    def _refused(self, way, queue, n):
        """Why the data plane refused a burst (DPFWD_BURST_INVALID)."""
        if not self._open:
            return f"port {self.id} ({self.name}) is closed; {way}_burst needs an open port"
        have = self.config.rx_queues if way == "rx" else self.config.tx_queues
        if not 0 <= queue < have:
            return f"port {self.id} ({self.name}) has {way} queues 0..{have - 1}, not {queue}"
        return f"port {self.id} ({self.name}): a burst of {n} is more than {lib.DPFWD_BURST_INVALID - 1}"

    def close(self):
        """Stop and close the port. Idempotent."""
        if self._open and eal_alive():
            self._open = False
            self._eal._forget(self)
            del self._eal._open_ports[self.id]
            check_error(lib.dpfwd_port_close(self.id), PortError)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"Port({self.id}, name={self.name!r})"
