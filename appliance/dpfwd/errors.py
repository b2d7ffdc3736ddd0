"""The exceptions dpfwd raises (binding.check_error makes them from native
return codes). Loads no DPDK: config checks and readers use it too."""


class DpfwdError(Exception):
    """Base of every dpfwd error; str() is one line that says what failed."""


class EalError(DpfwdError):
    """EAL could not start, or was used before it started or after it ended."""


class PortError(DpfwdError):
    """A port could not be found, set up, or used."""


class MempoolError(DpfwdError):
    """A mempool could not be created, or ran out of mbufs."""


class ForwardingError(DpfwdError):
    """The forwarding lcores could not start."""


class PacketReleased(DpfwdError):
    """A Packet was used after its mbuf left Python (sent, freed, EAL closed)."""
