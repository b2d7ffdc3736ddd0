"""EAL failures say what the host lacks: DPDK itself says only "Cannot get
hugepage information" and Permission denied when no hugepage is free."""
import os
import subprocess
import sys
import tempfile

import pytest

from lab.dpfwd_process import dpfwd

FREE = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"


@pytest.fixture
def every_free_hugepage_held():
    """Another process's view of the host: a file in a private hugetlbfs
    mount holding every free 2 MB page, released at the end."""
    mnt = tempfile.mkdtemp(prefix="dpfwd-hold-")
    subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev", mnt], check=True, timeout=30)
    try:
        fd = os.open(os.path.join(mnt, "hold"), os.O_CREAT | os.O_RDWR)
        try:
            os.posix_fallocate(fd, 0, int(open(FREE).read()) << 21)
            assert int(open(FREE).read()) == 0
            yield
        finally:
            os.close(fd)
            os.unlink(os.path.join(mnt, "hold"))
    finally:
        subprocess.run(["umount", mnt], check=True, timeout=30)
        os.rmdir(mnt)


def test_no_free_hugepages_is_said_with_how_many_to_reserve(every_free_hugepage_held):
    total = int(open(FREE.replace("free_", "nr_")).read())
    proc = dpfwd("run", "--vdev", "net_null0", "--vdev", "net_null1", "--duration", "1", "--instance", "t_nohuge")
    assert proc.returncode == 4
    error = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1, proc.stderr
    assert error[0].startswith(f"Error: EAL could not start: no free hugepages: all {total} 2 MB pages are "
                               "held by other processes; reserve ")
    assert "> /proc/sys/vm/nr_hugepages" in error[0] and "`dpfwd doctor` checks the host" in error[0]
    assert "Traceback" not in proc.stderr


def test_without_hugepages_the_no_huge_mode_still_starts(every_free_hugepage_held):
    proc = dpfwd("run", "--vdev", "net_null0", "--vdev", "net_null1", "--memory", "no-huge", "--duration", "0.5",
                 "--instance", "t_nohuge2")
    assert proc.returncode == 0, proc.stderr


def test_a_secondary_with_no_primary_fails_instead_of_starting(tmp_path):
    """EAL sets no rte_errno when a secondary finds no primary's config: that
    must still be an error, not an EAL that started with nothing in it."""
    proc = subprocess.run([sys.executable, "-c", "from dpfwd.eal import Eal\n"
                           "Eal(['--proc-type=secondary', '--file-prefix', 'dpfwd_no_primary', '--no-pci', '-l', '0'])"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "EalError: rte_eal_init: Input/output error; DPDK said: EAL: Cannot open" in proc.stderr, proc.stderr


def test_a_hugetlbfs_mount_this_user_cannot_open_is_named_with_the_fix(one_gb_page, tmp_path):
    """Unprivileged, in-memory: EAL still locks every hugetlbfs mount, and says
    only "Failed to lock hugepage directory"."""
    mnt = tempfile.mkdtemp(prefix="dpfwd-closed-")
    subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=1G,mode=1770", "nodev", mnt], check=True, timeout=30)
    try:
        proc = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               os.path.join(os.path.dirname(sys.executable), "dpfwd"), "run", "--vdev", "net_null0",
                               "--vdev", "net_null1", "--duration", "1", "--instance", "t_closed"],
                              capture_output=True, text=True, timeout=60, cwd=str(tmp_path),
                              env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)))
    finally:
        subprocess.run(["umount", mnt], check=True, timeout=30)
        os.rmdir(mnt)
    assert proc.returncode == 4, proc.stderr
    error = [line for line in proc.stderr.splitlines() if line.startswith("Error:")]
    assert len(error) == 1 and error[0].startswith(
        f"Error: EAL could not start: this user cannot open the hugetlbfs mount {mnt}, and EAL locks every one"), \
        proc.stderr
    assert f"chmod 755 {mnt}" in error[0]
