"""dpfwd doctor: against trees captured on real machines (this host, and the
lab's guest after a deploy, with its NICs on vfio-pci), against edits of them
that make one thing wrong, and for real on this host."""
import json
import os
import pathlib
import shutil
import signal
import time


from lab.dpfwd_process import Dpfwd, dpfwd

FIXTURES = pathlib.Path(__file__).resolve().parent / "fixtures" / "hosts"
GUEST_NICS = ("0000:00:03.0", "0000:00:04.0")


def doctor(*args, env=None):
    proc = dpfwd("doctor", "--json", *args, env=env)
    assert proc.returncode in (0, 1, 2), proc.stderr
    report = json.loads(proc.stdout)
    assert proc.returncode == {"ok": 0, "warn": 1, "fail": 2}[report["status"]]
    return report


def findings(report, check, status=None):
    return [c for c in report["checks"] if c["check"].startswith(check)
            and (status is None or c["status"] == status)]


def tree(tmp_path, name):
    """A writable copy of a captured tree, symlinks kept."""
    dest = tmp_path / name
    shutil.copytree(FIXTURES / name, dest, symlinks=True)
    return dest


def write_config(tmp_path, body):
    path = tmp_path / "dpfwd.yaml"
    path.write_text(body)
    return path


PCI_CONFIG = """
ports:
  - pci: "0000:00:03.0"
  - pci: "0000:00:04.0"
eal:
  lcores: "0-1"
"""


# -- the guest, as the deploy left it --------------------------------------------

def test_the_deployed_guest_is_ready(tmp_path):
    report = doctor("--root", FIXTURES / "guest", "--config", write_config(tmp_path, PCI_CONFIG))
    assert report["status"] == "ok", [c for c in report["checks"] if c["status"] != "ok"]
    ports = findings(report, "ports[")
    assert len(ports) == 2 and all("vfio-pci" in p["message"] and "viable" in p["message"] for p in ports)
    assert findings(report, "iommu", "ok") and findings(report, "vfio", "ok")


def test_a_nic_still_on_its_kernel_driver_is_a_failure_with_the_command(tmp_path):
    root = tree(tmp_path, "guest")
    driver = root / "sys/bus/pci/devices/0000:00:04.0/driver"
    driver.unlink()
    driver.symlink_to("../e1000")
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    bad = findings(report, "ports[1]", "fail")
    assert bad and "driverctl set-override 0000:00:04.0 vfio-pci" in bad[0]["fix"]


def test_a_non_viable_iommu_group_names_the_device_in_the_way(tmp_path):
    root = tree(tmp_path, "guest")
    group = os.readlink(root / "sys/bus/pci/devices/0000:00:03.0/iommu_group").rsplit("/", 1)[-1]
    # The management NIC joins the data NIC's group: as on boards whose slots share one.
    (root / f"sys/kernel/iommu_groups/{group}/devices/0000:00:02.0").symlink_to("../../../../devices/0000:00:02.0")
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    bad = findings(report, "ports[0]", "fail")
    assert bad and "not viable" in bad[0]["message"] and "0000:00:02.0 (virtio-pci)" in bad[0]["message"]
    assert report["status"] == "fail"


def test_the_management_nic_is_a_failure_never_to_bind(tmp_path):
    config = write_config(tmp_path, PCI_CONFIG.replace("0000:00:04.0", "0000:00:02.0"))
    report = doctor("--root", FIXTURES / "guest", "--config", config)
    bad = findings(report, "ports[1]", "fail")
    assert bad and "management NIC" in bad[0]["message"] and "default route" in bad[0]["message"]
    assert "never bind it" in bad[0]["fix"]


def test_a_numa_mismatch_is_a_warning_with_the_cpus_to_use(tmp_path):
    root = tree(tmp_path, "guest")
    nodes = root / "sys/devices/system/node"
    (nodes / "node0/cpulist").write_text("0\n")
    (nodes / "node1").mkdir()
    (nodes / "node1/cpulist").write_text("1\n")
    for nic in GUEST_NICS:
        (root / f"sys/bus/pci/devices/{nic}/numa_node").write_text("0\n")
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    warned = findings(report, "placement", "warn")
    assert len(warned) == 2
    assert "NUMA node 0" in warned[0]["message"] and "CPU 1" in warned[0]["message"]
    assert warned[0]["fix"] == "set eal.lcores to CPUs of node 0 (0)"


def test_short_hugepages_fail_with_how_many_to_reserve(tmp_path):
    root = tree(tmp_path, "guest")
    for path in root.glob("sys/**/hugepages-2048kB/free_hugepages"):
        path.write_text("10\n")
    (root / "proc/net/unix").write_text("Num RefCount Protocol Flags Type St Inode Path\n")  # not running
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    bad = findings(report, "hugepages for the config", "fail")
    assert bad and "20 MB is free" in bad[0]["message"]
    assert "reserve at least" in bad[0]["fix"] and "hugepages=" in bad[0]["fix"]


# -- this host, as captured: no IOMMU, a virtio management NIC, stale files -------

def test_iommu_off_fails_a_pci_config_with_the_kernel_arguments(tmp_path):
    root = tree(tmp_path, "host")
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    bad = findings(report, "iommu", "fail")
    assert bad and "amd_iommu=on iommu=pt" in bad[0]["fix"]   # the captured CPU is an AMD one
    cpuinfo = root / "proc/cpuinfo"
    cpuinfo.write_text(cpuinfo.read_text().replace("AuthenticAMD", "GenuineIntel"))
    assert "intel_iommu=on iommu=pt" in findings(doctor("--root", root, "--config", tmp_path / "dpfwd.yaml"),
                                                 "iommu", "fail")[0]["fix"]


def test_iommu_off_is_fine_for_virtual_ports(tmp_path):
    config = write_config(tmp_path, "ports:\n  - vdev: net_null0\n  - vdev: net_null1\n")
    report = doctor("--root", FIXTURES / "host", "--config", config)
    assert findings(report, "iommu", "ok") and findings(report, "vfio", "ok")


def test_the_hosts_own_nic_is_refused(tmp_path):
    config = write_config(tmp_path, "ports:\n  - pci: \"00:03.0\"\n  - vdev: net_null0\n")
    bad = findings(doctor("--root", FIXTURES / "host", "--config", config), "ports[0]", "fail")
    assert bad and "eth0 carries a default route" in bad[0]["message"]


def test_stale_files_in_a_captured_tree_are_found_and_cleaned(tmp_path):
    root = tree(tmp_path, "host")
    report = doctor("--root", root)
    stale = findings(report, "stale", "warn")
    assert stale and "fx_deadmap_0" in stale[0]["message"] and stale[0]["fix"] == "dpfwd doctor --clean"
    assert "fx_live" not in stale[0]["message"]
    cleaned = doctor("--root", root, "--clean")
    assert "/dev/hugepages/fx_deadmap_0" in cleaned["removed"]
    assert not any("fx_live" in p for p in cleaned["removed"])
    left = [p.name for p in (root / "dev/hugepages").iterdir()]
    assert left and all(name.startswith("fx_livemap_") for name in left)
    assert findings(cleaned, "stale", "ok")


def test_a_bad_config_is_a_failure_not_a_traceback(tmp_path):
    report = doctor("--config", write_config(tmp_path, "ports: 3\n"))
    bad = findings(report, "config", "fail")
    assert bad and bad[0]["message"].startswith("ports:")


# -- for real, on this host -------------------------------------------------------

def test_this_host_is_ready_for_virtual_ports(dpdk_host, tmp_path):
    config = write_config(tmp_path, "ports:\n  - vdev: net_null0\n  - vdev: net_null1\n")
    report = doctor("--config", config)
    assert not findings(report, "", "fail"), report
    assert findings(report, "hugepages for the config", "ok")
    assert findings(report, "dpdk", "ok")[0]["message"].startswith("DPDK 2")


def test_clean_removes_only_what_dead_processes_left(dpdk_host):
    args = ["--vdev", "net_null0", "--vdev", "net_null1", "--memory", "hugepages", "--idle", "sleep"]
    live = Dpfwd(args + ["--instance", "doc_live"])
    try:
        dead = Dpfwd(args + ["--instance", "doc_dead"])
        dead.proc.send_signal(signal.SIGKILL)
        dead.proc.wait(timeout=30)
        young = " ".join(c["message"] for c in findings(doctor(), "stale", "warn"))
        assert "doc_dead" not in young   # too young: it might be a process still starting
        an_hour_ago = time.time() - 3600
        for path in [f"/dev/hugepages/{n}" for n in os.listdir("/dev/hugepages") if n.startswith("doc_dead")] + \
                [f"/var/run/dpdk/doc_dead/{n}" for n in os.listdir("/var/run/dpdk/doc_dead")] + ["/var/run/dpdk/doc_dead"]:
            os.utime(path, (an_hour_ago, an_hour_ago), follow_symlinks=False)
        report = doctor()
        stale = " ".join(c["message"] for c in findings(report, "stale", "warn"))
        assert "doc_deadmap_" in stale and "doc_live" not in stale
        cleaned = doctor("--clean")
        assert any("doc_deadmap_" in p for p in cleaned["removed"]) and "/var/run/dpdk/doc_dead" in cleaned["removed"]
        assert not any("doc_live" in p for p in cleaned["removed"])
        assert not any(n.startswith("doc_dead") for n in os.listdir("/dev/hugepages"))
        assert live.proc.poll() is None
    finally:
        code, _, _ = live.stop(signal.SIGTERM, timeout=30)
    assert code == 0
    assert not any(n.startswith("doc_live") for n in os.listdir("/dev/hugepages"))


def test_vfio_nodes_the_service_user_cannot_open_are_named(tmp_path):
    from dpfwd import config as cfg, doctor as dr
    from dpfwd.host import Host
    root = tree(tmp_path, "guest")
    config = cfg.load(write_config(tmp_path, PCI_CONFIG))
    for node in ("3", "4"):
        (root / "dev/vfio" / node).chmod(0o600)          # root's only, as before the udev rule
    warned = [f for f in dr.check_access(Host(str(root)), config, "nobody") if f.status == "warn"]
    assert warned and "/dev/vfio/3, /dev/vfio/4" in warned[0].message and "udev rule" in warned[0].fix
    for node in ("3", "4"):
        (root / "dev/vfio" / node).chmod(0o666)
    assert [f.status for f in dr.check_access(Host(str(root)), config, "nobody")] == ["ok"]


def test_only_failures_is_what_the_deploy_validates_with(dpdk_host, tmp_path):
    fits = write_config(tmp_path, "ports:\n  - vdev: net_null0\n  - vdev: net_null1\n")
    proc = dpfwd("doctor", "--only-failures", "--config", fits)
    assert (proc.returncode, proc.stdout) == (0, "")
    (tmp_path / "big.yaml").write_text(fits.read_text() + "mempool: {mbufs: 4000000}\n")
    proc = dpfwd("doctor", "--only-failures", "--config", tmp_path / "big.yaml")
    assert proc.returncode == 2
    assert proc.stdout.startswith("fail  hugepages for the config: the config needs about")
    assert all(line.startswith("fail ") for line in proc.stdout.splitlines())


def test_a_running_instance_counts_the_memory_it_would_give_back(dpdk_host, tmp_path):
    config = write_config(tmp_path, "eal: {instance: doc_held}\nports:\n  - vdev: net_null0\n"
                                    "  - vdev: net_null1\nforwarding: {idle: sleep}\n")
    run = Dpfwd(["--config", str(config)])
    try:
        hugepages = findings(doctor("--config", config), "hugepages for the config")
        assert [h["status"] for h in hugepages] == ["ok"]
        assert hugepages[0]["message"].startswith("needs about")   # read from its telemetry
    finally:
        code, _, _ = run.stop(signal.SIGTERM, timeout=30)
    assert code == 0


def readme_samples():
    """{command: output lines} for each `$ dpfwd doctor ...` the README shows."""
    text = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    samples, current = {}, None
    for line in text.splitlines():
        if line.startswith("$ dpfwd doctor"):
            current = samples.setdefault(line[2:].split("  #")[0].strip(), [])
        elif line.startswith("```") or line.startswith("$ "):
            current = None
        elif current is not None:
            current.append(line)
    return samples


def test_the_readme_doctor_samples_are_what_doctor_prints(dpdk_host, tmp_path):
    """The README's outputs come from this command: the same checks, in order;
    for the failure, the same line up to the host's free memory."""
    samples = readme_samples()
    (tmp_path / "nullpair.yaml").write_text("ports:\n  - vdev: net_null0\n  - vdev: net_null1\n")
    (tmp_path / "big.yaml").write_text("ports:\n  - vdev: net_null0\n  - vdev: net_null1\n"
                                       "mempool: {mbufs: 2000000}\n")

    def run(command):
        return dpfwd(*command.split()[1:], cwd=tmp_path).stdout.splitlines()

    def checks(lines):
        return [line[6:].split(":")[0] for line in lines]
    command = "dpfwd doctor --config nullpair.yaml"
    assert checks(run(command)) == checks(samples[command])
    command = "dpfwd doctor --only-failures --config big.yaml"
    (want,), got = samples[command], run(command)
    assert len(got) == 1 and got[0].split(", ")[0] == want.split(", ")[0]


def test_clean_never_follows_a_link_out_of_dpdk_directories(tmp_path):
    root = tree(tmp_path, "host")
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep").write_text("not DPDK's")
    link = root / "var/run/dpdk/fx_link"
    link.symlink_to(outside)
    cleaned = doctor("--root", root, "--clean")
    assert (outside / "keep").exists() and link.is_symlink()
    assert cleaned["removed"] and not any("fx_link" in p for p in cleaned["removed"])


def test_1g_pages_need_a_mount_only_for_shared_hugepage_files(tmp_path):
    root = tree(tmp_path, "guest")
    for name in ("nr_hugepages", "free_hugepages"):
        for path in root.glob(f"sys/**/hugepages-1048576kB/{name}"):
            path.write_text("1\n")
    (root / "proc/net/unix").write_text("Num RefCount Protocol Flags Type St Inode Path\n")  # not running
    report = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG))
    assert [c["message"] for c in findings(report, "hugepages 1 GB")] == ["1 total, 1 free"]
    assert [c["message"] for c in findings(report, "hugetlbfs", "ok")][1:] == [
        "1 GB pages have no hugetlbfs mount: in-memory EAL uses them without one, memory: hugepages would not"]
    shared = doctor("--root", root, "--config", write_config(tmp_path, PCI_CONFIG + "  memory: hugepages\n"))
    warned = findings(shared, "hugetlbfs", "warn")
    assert len(warned) == 1 and warned[0]["message"].startswith("1 GB pages are reserved but no hugetlbfs")
    assert warned[0]["fix"].startswith("mount -t hugetlbfs -o pagesize=1G nodev /dev/hugepages1G")


def test_a_pool_on_1g_pages_says_so_in_status_and_doctor(dpdk_host, one_gb_page, tmp_path):
    """In-memory EAL takes the 1 GB page when there is one (as after the
    hugepages role's boot-time reservation): status names the pages under
    each pool, doctor counts the page as held."""
    config = write_config(tmp_path, "eal: {instance: doc_1g}\nports:\n  - vdev: net_null0\n"
                                    "  - vdev: net_null1\nforwarding: {idle: sleep}\n")
    run = Dpfwd(["--config", str(config)])
    try:
        info = json.loads(dpfwd("status", "--json", "--instance", "doc_1g").stdout)["info"]
        assert [p["page_kb"] for p in info["mempools"].values()] == [[1 << 20]]
        assert " in use on 1 GB pages;" in dpfwd("status", "--instance", "doc_1g").stdout
        assert [c["message"] for c in findings(doctor(), "hugepages 1 GB")] == ["1 total, 0 free"]
    finally:
        code, _, _ = run.stop(signal.SIGTERM, timeout=30)
    assert code == 0


def test_a_hugetlbfs_mount_the_service_user_cannot_open_fails_in_memory_too(tmp_path):
    """EAL opens and locks every hugetlbfs mount, in-memory too: a root-only
    mount (as the hugepages role once made for 1 GB pages) stops the service."""
    from dpfwd import config as cfg, doctor as dr
    from dpfwd.host import Host
    root = tree(tmp_path, "guest")
    config = cfg.load(write_config(tmp_path, PCI_CONFIG))
    (root / "dev/hugepages").mkdir(parents=True, exist_ok=True)
    (root / "dev/hugepages").chmod(0o1770)
    failed = [f for f in dr.check_access(Host(str(root)), config, "nobody") if f.status == "fail"]
    assert len(failed) == 1 and "cannot open the hugetlbfs mount /dev/hugepages" in failed[0].message
    assert failed[0].fix.startswith("make it readable: chmod 755 /dev/hugepages")
    (root / "dev/hugepages").chmod(0o755)
    assert not [f for f in dr.check_access(Host(str(root)), config, "nobody") if "hugetlbfs" in f.message]
