"""cffi builders (API mode, out-of-line): dpfwd._native, the data plane, and
dpfwd._facts, its fact tables alone (no DPDK), for code that must not load
DPDK (config checks, plans).

The declarations come from dpfwd.h itself (between its cffi markers), so the
header is the one place the C surface is written down. Compiler and linker
flags come from pkg-config: its cflags carry ``-include rte_config.h``, which
must stay next to the include paths.
"""
import os
import pathlib
import re
import shlex
import subprocess

from cffi import FFI

HERE = pathlib.Path(__file__).resolve().parent
SOURCES = ["dataplane.c", "forward.c", "burst.c", "telemetry.c", "capture.c", "facts.c", "log.c", "link.c"]
FACTS_SOURCES = ["facts.c"]
# A portable baseline: the build host's CPU is not the appliance's. On arm64,
# what Debian builds its arm64 DPDK for (scripts/check-baseline.py checks both).
BASELINE = os.environ.get("DPFWD_MARCH", {"x86_64": "x86-64-v2", "aarch64": "armv8-a+crc"}.get(os.uname().machine))


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args, "libdpdk"], check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SystemExit("dpfwd build: pkg-config cannot find libdpdk; "
                         "install it with: apt-get install libdpdk-dev pkg-config") from exc
    return shlex.split(out)


def cdef_text(end="/* cffi-cdef-end */"):
    header = (HERE / "dpfwd.h").read_text()
    body = header.split("/* cffi-cdef-begin */")[1].split(end)[0]
    body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
    return "struct rte_mempool;\nstruct rte_mbuf;\nstruct dpfwd_capture;\n" + body


def builder():
    cflags = pkg_config("--cflags")
    if BASELINE:
        # Debian's libdpdk.pc asks for -march=corei7 (x86-64); ours replaces it.
        cflags = [f for f in cflags if not f.startswith("-march=")] + [f"-march={BASELINE}"]
    ffi = FFI()
    ffi.cdef(cdef_text())
    ffi.set_source(
        "dpfwd._native",
        '#include "dpfwd.h"',
        sources=[os.path.relpath(HERE / s) for s in SOURCES],
        include_dirs=[os.path.relpath(HERE)],
        extra_compile_args=cflags + ["-O3", "-Wall", "-Wextra", "-Wno-unused-parameter"],
        extra_link_args=pkg_config("--libs"),
    )
    return ffi


def facts_builder():
    ffi = FFI()
    ffi.cdef(cdef_text(end="/* cffi-facts-end */"))
    ffi.set_source(
        "dpfwd._facts",
        '#include "dpfwd.h"',
        sources=[os.path.relpath(HERE / s) for s in FACTS_SOURCES],
        include_dirs=[os.path.relpath(HERE)],
        extra_compile_args=["-O2", "-Wall", "-Wextra"],
    )
    return ffi


ffibuilder = builder()
factsbuilder = facts_builder()

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
    factsbuilder.compile(verbose=True)
