"""What the deploy must leave behind in the guest, checked from outside it."""
import json
import os
import re
import subprocess
import sys
import time

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
from lab.traffic import ping as ping_from, tcp_transfer  # noqa: E402

DATA_NICS = ["0000:00:03.0", "0000:00:04.0"]
NS_A, NS_B, ADDR_B = "dpfwd-lab-a", "dpfwd-lab-b", "198.51.100.2"
TCP_BYTES = 2 * 1024 * 1024
SCENARIO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def ping(count=3):
    return ping_from(NS_A, ADDR_B, count, wait=2, interval=0.3)


def wait_until(check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(1)
    return False


def guest(command, timeout=30):
    """Run command in the guest over a fresh ssh of its own, bounded; None when
    the guest does not answer. For the reboot: an ssh session opened while
    the guest goes down can hang for good behind QEMU's port forward."""
    cache = os.environ.get("DPFWD_LAB_CACHE", "/var/cache/dpfwd-lab")
    key = f"{cache}/{os.environ.get('DPFWD_GUEST_RELEASE', 'bookworm')}/id_ed25519"
    ssh = ["ssh", "-i", key, "-p", os.environ.get("DPFWD_LAB_SSH_PORT", "2222"), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
           "-o", "ConnectTimeout=5", "-o", "ServerAliveInterval=2", "-o", "ServerAliveCountMax=3",
           "root@127.0.0.1", command]
    try:
        result = subprocess.run(ssh, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None
    return result if result.returncode != 255 else None


def boot_id():
    result = guest("cat /proc/sys/kernel/random/boot_id")
    return result.stdout.strip() if result is not None and result.returncode == 0 else None


def system_state():
    result = guest("systemctl is-system-running --wait", timeout=120)
    return result.stdout.strip() if result is not None else None


def test_hugepages_are_reserved(host):
    assert int(host.file("/proc/sys/vm/nr_hugepages").content_string) >= 256
    assert host.file("/etc/sysctl.d/80-dpfwd-hugepages.conf").contains("vm.nr_hugepages = 256")
    assert host.mount_point("/dev/hugepages").filesystem == "hugetlbfs"


@pytest.mark.parametrize("pci", DATA_NICS)
def test_data_nics_are_on_vfio_pci_for_good(host, pci):
    assert host.file(f"/sys/bus/pci/devices/{pci}/driver").linked_to == "/sys/bus/pci/drivers/vfio-pci"
    assert host.file(f"/etc/driverctl.d/pci-{pci}").exists
    assert json.loads(host.file(f"/var/lib/dpfwd/nic-binding/{pci}").content_string)["driver"] == "e1000"


def test_management_nic_is_untouched(host):
    assert host.file("/sys/bus/pci/devices/0000:00:02.0/driver").linked_to.endswith("virtio-pci")
    assert host.interface("enp0s2").addresses[0] == "10.0.2.15"
    assert "default via 10.0.2.2 dev enp0s2" in host.check_output("ip route")


def test_service_is_active_unprivileged_and_healthy(host):
    service = host.service("dpfwd")
    assert service.is_running and service.is_enabled
    assert host.check_output("ps -o user= -C dpfwd").split() == ["dpfwd"]
    status = json.loads(host.check_output("dpfwd status --json"))
    assert status["info"]["forwarding"] == 1
    assert [p["name"] for p in status["ports"]] == DATA_NICS
    assert all(p["link_up"] for p in status["ports"])


def test_doctor_finds_the_deployed_guest_ready(host):
    result = host.run("dpfwd doctor --json --config /etc/dpfwd/dpfwd.yaml")
    report = json.loads(result.stdout)
    assert (result.rc, report["status"]) == (0, "ok"), [c for c in report["checks"] if c["status"] != "ok"]
    ports = [c for c in report["checks"] if c["check"].startswith("ports[")]
    assert len(ports) == 2 and all("vfio-pci" in c["message"] and "link up" in c["message"] for c in ports)


def test_man_page_and_bash_completion_match_the_installed_cli(host):
    version = host.check_output("dpfwd --version").split()[-1]
    man = host.file("/usr/local/share/man/man1/dpfwd.1").content_string
    assert man.startswith(f'.TH DPFWD 1 "" "dpfwd {version}"') and "dpfwd doctor" in man
    completed = host.check_output(
        "bash -c 'source /usr/share/bash-completion/completions/dpfwd; COMP_WORDS=(dpfwd st);"
        " COMP_CWORD=1; _dpfwd_completion dpfwd; echo ${COMPREPLY[@]}'")
    assert completed.split() == ["stats", "status"]


def test_config_is_checked_before_it_replaces_the_old_one(host):
    good = host.file("/etc/dpfwd/dpfwd.yaml").content_string
    result = host.run("printf 'ports: []\\n' > /tmp/bad.yaml && dpfwd config check /tmp/bad.yaml")
    assert result.rc == 1 and "ports: has 0 ports" in result.stderr
    assert host.file("/etc/dpfwd/dpfwd.yaml").content_string == good


def transfer():
    moved = tcp_transfer(NS_A, NS_B, ADDR_B, TCP_BYTES, python="python3")
    assert moved.intact
    return moved.received


def test_traffic_crosses_the_guest_and_stops_with_the_service(host):
    assert ping().returncode == 0
    assert transfer() == TCP_BYTES
    host.run_expect([0], "systemctl stop dpfwd")
    try:
        assert ping(2).returncode != 0
    finally:
        host.run_expect([0], "systemctl start dpfwd")
    assert wait_until(lambda: ping(1).returncode == 0, timeout=60)


def test_binding_refuses_the_management_nic_and_changes_nothing(host):
    before = host.check_output("ip -br addr show enp0s2")
    # Messages may be folded over lines: playbook() squeezes white space.
    rc, out = playbook(os.path.join(SCENARIO, "refuse_management.yml"))
    assert rc != 0
    assert "(0000:00:02.0) is a management NIC" in out
    assert "carries the default route" in out and "allow_management: true" in out
    assert "changed=0" in out
    assert host.check_output("ip -br addr show enp0s2") == before
    assert not host.file("/var/lib/dpfwd/nic-binding/0000:00:02.0").exists


def playbook(name, *extra):
    """Run a playbook against the scenario's inventory; (rc, output squeezed)."""
    root = os.environ["MOLECULE_PROJECT_DIRECTORY"]
    path = os.path.join(root, "playbooks", name) if not os.path.isabs(name) else name
    proc = subprocess.run(["ansible-playbook", "-i", os.environ["MOLECULE_INVENTORY_FILE"], path, *extra],
                          capture_output=True, text=True, timeout=1200,
                          env=dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                                   ANSIBLE_ROLES_PATH=os.path.join(root, "roles")))
    return proc.returncode, " ".join(re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr).split())


def test_check_mode_on_a_deployed_host_changes_nothing(host):
    rc, out = playbook("deploy.yml", "--check")
    assert rc == 0, out[-2000:]
    assert re.search(r"dpfwd-guest : ok=\d+ changed=0 unreachable=0 failed=0", out), out[-2000:]


def test_a_config_the_host_cannot_run_never_replaces_the_running_one(host):
    good = host.file("/etc/dpfwd/dpfwd.yaml").content_string
    rc, out = playbook("deploy.yml", "-e", "dpfwd_mbufs=2000000")   # about 4.8 GB of mbufs
    assert rc != 0
    assert "fail hugepages for the config: the config needs about" in out, out[-3000:]
    assert host.file("/etc/dpfwd/dpfwd.yaml").content_string == good
    assert host.service("dpfwd").is_running


def test_everything_comes_back_after_a_reboot(host):
    old_boot = boot_id()
    assert old_boot
    guest("systemctl reboot", timeout=10)
    # The new boot id is what tells "back up" from "not gone down yet".
    assert wait_until(lambda: boot_id() not in (None, old_boot), timeout=300)
    assert wait_until(lambda: system_state() in ("running", "degraded"), timeout=300)
    for pci in DATA_NICS:
        assert wait_until(lambda: host.file(f"/sys/bus/pci/devices/{pci}/driver").linked_to
                          == "/sys/bus/pci/drivers/vfio-pci", timeout=60)
    assert int(host.file("/proc/sys/vm/nr_hugepages").content_string) >= 256
    assert wait_until(lambda: host.run("dpfwd status --json").rc == 0, timeout=120)
    assert wait_until(lambda: ping(1).returncode == 0, timeout=60)


def test_undeploy_restores_drivers_and_releases_hugepages(host):
    rc, out = playbook("undeploy.yml")
    assert rc == 0, out[-2000:]
    assert not host.file("/etc/systemd/system/dpfwd.service").exists
    assert host.run("systemctl is-active dpfwd").stdout.strip() != "active"
    for pci in DATA_NICS:
        assert host.file(f"/sys/bus/pci/devices/{pci}/driver").linked_to == "/sys/bus/pci/drivers/e1000"
        assert not host.file(f"/etc/driverctl.d/pci-{pci}").exists
    assert int(host.file("/proc/sys/vm/nr_hugepages").content_string) == 0
    assert ping(1).returncode != 0
