"""The cffi binding of the data plane (dpfwd._native, built from
native/dpfwd.h), and the one place its return codes become exceptions."""
import errno
import os

from ._native import ffi, lib
from .errors import DpfwdError

__all__ = ["ffi", "lib", "check_error", "check_null", "native_message"]


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
