"""The portable-baseline check the build runs on the compiled data plane: on
x86-64 code (x86-64-v2) and arm64 code (armv8-a, as Debian's arm64 DPDK),
each compiled natively or with a cross compiler when this machine has one."""
import pathlib
import platform
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK = [sys.executable, str(ROOT / "scripts" / "check-baseline.py")]

# A loop GCC vectorises with whatever the -march allows, and an atomic add.
SAXPY = "void saxpy(float *y, const float *x, float a, int n)" \
        "{ for (int i = 0; i < n; i++) y[i] += a * x[i]; }\n" \
        "long count(long *c) { return __atomic_add_fetch(c, 1, __ATOMIC_SEQ_CST); }\n"
# (architecture, baseline -march, newer -march, what the refusal names)
TARGETS = {"x86_64": ("x86-64-v2", "x86-64-v3", "beyond x86-64-v2"),
           "aarch64": ("armv8-a+crc", "armv8.2-a+sve", "beyond armv8-a")}


def compiler(arch):
    if platform.machine() == arch:
        return "gcc"
    cross = shutil.which(f"{arch}-linux-gnu-gcc")
    if cross is None:
        pytest.skip(f"no {arch} compiler here (apt-get install gcc-{arch.replace('_', '-')}-linux-gnu)")
    return cross


def shared_object(tmp_path, arch, march, extra=()):
    src, so = tmp_path / "saxpy.c", tmp_path / f"saxpy-{march}.so"
    src.write_text(SAXPY)
    subprocess.run([compiler(arch), "-O3", f"-march={march}", *extra, "-shared", "-fPIC", "-o", so, src],
                   check=True)
    return so


@pytest.mark.skipif(platform.machine() not in TARGETS, reason="no baseline for this machine")
def test_the_built_data_plane_stays_within_the_baseline():
    from dpfwd import _native
    proc = subprocess.run(CHECK + [_native.__file__], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert f"{TARGETS[platform.machine()][2].split()[-1]} only" in proc.stdout


@pytest.mark.parametrize("arch", TARGETS)
def test_code_built_for_a_newer_cpu_is_refused_with_the_fix(tmp_path, arch):
    _, newer, said = TARGETS[arch]
    proc = subprocess.run(CHECK + [str(shared_object(tmp_path, arch, newer))], capture_output=True, text=True)
    assert proc.returncode == 1
    assert said in proc.stderr and "DPFWD_MARCH" in proc.stderr


def test_inline_lse_atomics_are_refused_and_libgccs_checked_helpers_are_not(tmp_path):
    """armv8.1-a puts LSE atomics inline; armv8-a with -moutline-atomics (Debian's
    default) calls libgcc's __aarch64_* helpers, which test the CPU first."""
    inline = subprocess.run(CHECK + [str(shared_object(tmp_path, "aarch64", "armv8.1-a"))],
                            capture_output=True, text=True)
    assert inline.returncode == 1 and "ldaddal" in inline.stderr, inline.stderr
    outline = shared_object(tmp_path, "aarch64", "armv8-a", ["-moutline-atomics"])
    dump = subprocess.run(["aarch64-linux-gnu-objdump" if platform.machine() != "aarch64" else "objdump",
                           "-d", outline], capture_output=True, text=True, check=True).stdout
    assert "<__aarch64_ldadd8_acq_rel>:" in dump and "ldaddal" in dump
    proc = subprocess.run(CHECK + [str(outline)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("arch", TARGETS)
def test_the_same_code_built_for_the_baseline_passes(tmp_path, arch):
    proc = subprocess.run(CHECK + [str(shared_object(tmp_path, arch, TARGETS[arch][0]))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
