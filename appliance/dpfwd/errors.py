"""The exceptions dpfwd raises, and the one place native return codes become them."""
import errno
import os

from ._native import ffi, lib


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


def native_message(code):
    """The data plane's message for the last failure, or strerror of code."""
    msg = ffi.string(lib.dpfwd_errmsg()).decode(errors="replace")
    return msg or os.strerror(abs(code))


def check_error(ret, cls=DpfwdError):
    """Raise cls with the data plane's message when ret is a negative errno."""
    if ret < 0:
        exc = cls(native_message(ret))
        exc.errno = -ret
        raise exc
    return ret


def check_null(ptr, cls=DpfwdError):
    if ptr == ffi.NULL:
        exc = cls(native_message(-errno.ENOMEM))
        raise exc
    return ptr
