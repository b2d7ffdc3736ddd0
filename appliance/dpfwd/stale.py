"""DPDK files whose process is gone: hugepage files that still hold their
pages, and runtime directories. Found and removed here, and only here.

Paths are logical (under /), read through a Host, so tests use fixture trees.
Removal never follows a symlink out of the directories it looks in.
"""
import os
import shutil
import time

from .runtime import SERVICE_RUNTIME_DIR

RUNTIME_BASES = ("/var/run/dpdk", SERVICE_RUNTIME_DIR)   # root's, and the service's
# On a live host, DPDK files younger than this may belong to a process still
# starting; captured trees are snapshots, where ages mean nothing.
LIVE_MIN_AGE = 60


def stale_files(host, min_age=0):
    """DPDK hugepage files and runtime directories that no live process uses
    (their owner is gone), as logical paths (under /, not under host.root).
    Anything younger than min_age seconds is left out: a starting process makes
    its runtime directory some time before it binds its telemetry socket."""
    in_use = host.files_in_use()
    sockets = host.unix_sockets()
    now = time.time()

    def young(*paths):
        ages = []
        for p in paths:
            try:
                ages.append(now - os.lstat(host.path(p.lstrip("/"))).st_mtime)
            except OSError:
                pass
        return any(age < min_age for age in ages)

    stale = []
    for mnt in host.hugetlbfs_mounts():
        for name in host.listdir(mnt.lstrip("/")):
            path = os.path.join(mnt, name)
            if "map_" in name and path not in in_use and not young(path):
                stale.append(path)
    for base in RUNTIME_BASES:
        for prefix in host.listdir(base.lstrip("/")):
            rdir = os.path.join(base, prefix)
            if os.path.islink(host.path(rdir.lstrip("/"))):
                continue     # not DPDK's own directory: never followed, never removed
            files = [os.path.join(rdir, f) for f in host.listdir(rdir.lstrip("/"))]
            if os.path.isdir(host.path(rdir.lstrip("/"))) and not young(rdir, *files) and \
                    not any(f in in_use or f in sockets for f in files):
                stale.append(rdir)
    return stale


def clean(host, min_age=0):
    """Remove the stale files; returns what was removed."""
    removed = []
    for path in stale_files(host, min_age):
        real = host.path(path.lstrip("/"))
        if os.path.isdir(real) and not os.path.islink(real):
            shutil.rmtree(real, ignore_errors=True)   # rmtree never follows links inside
        else:
            try:
                os.unlink(real)
            except OSError:
                continue
        removed.append(path)
    return removed


def instance_running(host, instance):
    """An instance runs when its telemetry socket is bound by a live process."""
    sockets = host.unix_sockets()
    return any(f"{base}/{instance}/dpdk_telemetry.v2" in sockets for base in RUNTIME_BASES)
