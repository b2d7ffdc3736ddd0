"""The portable-baseline check the build runs on the compiled data plane."""
import pathlib
import platform
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHECK = [sys.executable, str(ROOT / "scripts" / "check-baseline.py")]
pytestmark = pytest.mark.skipif(platform.machine() != "x86_64", reason="x86-64 baselines")

# A loop GCC vectorises with whatever the -march allows.
SAXPY = "void saxpy(float *y, const float *x, float a, int n)" \
        "{ for (int i = 0; i < n; i++) y[i] += a * x[i]; }\n"


def shared_object(tmp_path, march):
    src, so = tmp_path / "saxpy.c", tmp_path / f"saxpy-{march}.so"
    src.write_text(SAXPY)
    subprocess.run(["gcc", "-O3", f"-march={march}", "-shared", "-fPIC", "-o", so, src], check=True)
    return so


def test_the_built_data_plane_stays_within_x86_64_v2():
    from dpfwd import _native
    proc = subprocess.run(CHECK + [_native.__file__], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "x86-64-v2 only" in proc.stdout


def test_code_built_for_a_newer_cpu_is_refused_with_the_fix(tmp_path):
    proc = subprocess.run(CHECK + [str(shared_object(tmp_path, "x86-64-v3"))],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "beyond x86-64-v2" in proc.stderr and "DPFWD_MARCH" in proc.stderr


def test_the_same_code_built_for_the_baseline_passes(tmp_path):
    proc = subprocess.run(CHECK + [str(shared_object(tmp_path, "x86-64-v2"))],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
