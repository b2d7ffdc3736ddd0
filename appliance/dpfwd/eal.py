"""The DPDK Environment Abstraction Layer, once per process."""
import glob
import os
import signal

from .binding import check_error, ffi, lib
from .errors import EalError
from .host import Host
from .runtime import runtime_dir

# Flags that decide what EAL leaves in the hugetlbfs mount when it ends.
_MEMORY_FLAGS = ("--in-memory", "--huge-unlink", "--no-huge")
# DPDK's warnings and errors, or with verbose its notices and info too. Given
# first, so --log-level arguments of the caller still apply to the types they
# name. Lines that tell an operator nothing are dropped by log.c unless verbose.
_QUIET, _VERBOSE = "*:warning", "*:info"
# The signals dpfwd handles (stop, reload) belong to the main thread: the
# threads EAL starts inherit them blocked.
HANDLED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class _State:
    """Process-wide EAL state: DPDK allows one init and one cleanup."""

    current = None      # the live Eal, if any
    used = False        # rte_eal_init may not run twice in a process


def require_eal():
    """The live Eal, or EalError saying how to get one."""
    if _State.current is None:
        raise EalError("EAL is not running: create dpfwd.Eal([...]) first")
    return _State.current


def eal_alive():
    return _State.current is not None


class Eal:
    """EAL started from an argument list; a context manager whose exit closes
    the ports and mempools made under it, then calls rte_eal_cleanup.

    Unless the arguments say otherwise, EAL runs with ``--in-memory``, so
    no hugepage files outlive the process. ``shared=True`` keeps hugepage
    files while it runs, so that secondary processes (``dpfwd capture``) can
    attach, and removes them at close. DPDK logs warnings and errors only,
    unless ``verbose``.
    """

    def __init__(self, args=(), shared=False, verbose=False):
        args = ["--log-level", _VERBOSE if verbose else _QUIET] + [str(a) for a in args]
        self.secondary = "--proc-type=secondary" in args
        self.shared = shared and not self.secondary
        if not (self.secondary or self.shared) and not any(a.split("=")[0] in _MEMORY_FLAGS for a in args):
            args.append("--in-memory")
        if _State.used:
            raise EalError("EAL was already started in this process; DPDK allows one start per process")
        self.args = args
        self._children = []     # mempools and ports, closed in reverse order
        self._open_ports = {}   # port id -> the Port that set it up
        self._closing = False
        argv_keep = [ffi.new("char[]", a.encode()) for a in ["dpfwd", *args]]
        argv = ffi.new("char *[]", argv_keep)
        check_error(lib.dpfwd_log_init(int(verbose)), EalError)
        _State.used = True
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        try:
            check_error(lib.dpfwd_eal_init(len(argv_keep), argv), EalError)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _State.current = self

    @staticmethod
    def version():
        return ffi.string(lib.dpfwd_dpdk_version()).decode()

    @staticmethod
    def dpdk_said():
        """DPDK's last log lines (warnings and errors unless verbose), '; '-joined."""
        buf = ffi.new("char[]", 1024)
        lib.dpfwd_log_recent(buf, len(buf))
        return ffi.string(buf).decode(errors="replace")

    def _adopt(self, child):
        self._children.append(child)

    def _forget(self, child):
        if child in self._children:
            self._children.remove(child)

    def close(self):
        """Close what was made under this EAL, then clean EAL up. Idempotent."""
        if _State.current is not self:
            return
        self._closing = True
        for child in reversed(list(self._children)):
            child.close()
        _State.current = None
        check_error(lib.dpfwd_eal_cleanup(), EalError)
        self._remove_own_files()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _option(self, name, default=None):
        for i, a in enumerate(self.args):
            if a == name and i + 1 < len(self.args):
                return self.args[i + 1]
            if a.startswith(name + "="):
                return a.split("=", 1)[1]
        return default

    def _remove_own_files(self):
        """EAL leaves its runtime directory behind, and a shared-memory primary
        (which secondaries such as `dpfwd capture` attach to) its hugepage
        files too. After a clean exit they are stale: remove ours."""
        if self.secondary:
            return
        prefix = self._option("--file-prefix", "rte")
        stale = []
        if self.shared:
            dirs = [self._option("--huge-dir")] if self._option("--huge-dir") else hugetlbfs_mounts()
            for d in dirs:
                stale += glob.glob(os.path.join(glob.escape(d), glob.escape(prefix) + "map_*"))
        run_dir = os.path.join(runtime_dir(), prefix)
        if os.path.islink(run_dir):
            return      # not the directory EAL made: never followed
        stale += glob.glob(os.path.join(glob.escape(run_dir), "*"))
        for path in stale:
            try:
                os.unlink(path)
            except OSError:
                pass
        try:
            os.rmdir(run_dir)
        except OSError:
            pass


def hugetlbfs_mounts():
    return list(Host().hugetlbfs_mounts())
