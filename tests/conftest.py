import os
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # for lab/

HUGEPAGES_WANTED = 512


def _ensure_hugepages():
    """Reserve 2 MB hugepages and mount hugetlbfs, as the README's setup does."""
    nr = pathlib.Path("/proc/sys/vm/nr_hugepages")
    if int(nr.read_text()) < HUGEPAGES_WANTED:
        nr.write_text(str(HUGEPAGES_WANTED))
    if not os.path.ismount("/dev/hugepages"):
        os.makedirs("/dev/hugepages", exist_ok=True)
        os.system("mount -t hugetlbfs nodev /dev/hugepages")
    free = int(pathlib.Path("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages").read_text())
    if free < 256:
        raise RuntimeError(f"only {free} free 2 MB hugepages; DPDK tests need 256 or more")


@pytest.fixture(scope="session")
def dpdk_host():
    """Root and hugepages: what the DPDK tests need from the machine."""
    if os.geteuid() != 0:
        pytest.skip("DPDK tests run as root (hugepages, af_packet, namespaces)")
    _ensure_hugepages()


@pytest.fixture
def one_gb_page():
    """One 1 GB hugepage reserved at runtime for the test, given back after.
    The kernel needs 1 GB of contiguous free memory for it."""
    path = "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages"
    if not os.path.exists(path):
        pytest.skip("this CPU or kernel has no 1 GB hugepages")
    with open(path) as f:
        before = int(f.read())
    with open(path, "w") as f:
        f.write(str(before + 1))
    with open(path) as f:
        got = int(f.read())
    try:
        if got != before + 1:
            pytest.skip("the kernel found no contiguous 1 GB for a runtime 1 GB page (memory fragmented)")
        yield
    finally:
        with open(path, "w") as f:
            f.write(str(before))
