"""dpfwd: a DPDK forwarding appliance. The Python API over its C data plane."""
__version__ = "0.1.0"

from .burst import Burst  # noqa: E402
from .eal import Eal  # noqa: E402
from .errors import DpfwdError, EalError, ForwardingError, MempoolError, PortError  # noqa: E402
from .config import PortConfig  # noqa: E402
from .mempool import Mempool, data_room_for_mtu  # noqa: E402
from .port import Port  # noqa: E402

__all__ = ["Burst", "DpfwdError", "Eal", "EalError", "ForwardingError", "Mempool",
           "MempoolError", "Port", "PortConfig", "PortError", "data_room_for_mtu"]
