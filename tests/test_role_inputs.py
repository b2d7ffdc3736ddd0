"""Every inventory variable is checked before any role changes anything:
deploy.yml checks all three roles' variables first (argument_specs and each
role's assert.yml). Each bad value must stop the play in that check, with a
message naming the variable. Run in check mode against this host, limited
to the check's tag: nothing here can change the host."""
import json
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOOD = {"ansible_connection": "local", "ansible_become": False, "ansible_python_interpreter": sys.executable,
        "nic_binding_nics": [{"pci": "0000:99:00.0"}],
        "dpfwd_ports": [{"pci": "0000:99:00.0"}, {"pci": "0000:99:00.1"}]}

BAD = [
    ({"dpfwd_mode": "fast"}, "dpfwd_mode must be one of: io, mac, macswap, got: fast"),
    ({"dpfwd_idle": "never"}, "dpfwd_idle must be one of"),
    ({"dpfwd_memory": "lots"}, "dpfwd_memory must be one of"),
    ({"dpfwd_mbufs": "many"}, "argument 'dpfwd_mbufs' is of type str and we were unable to convert to int"),
    ({"dpfwd_mbufs": 10}, "dpfwd_mbufs: 10 is not between 1024 and 4194304"),
    ({"dpfwd_burst": 0}, "dpfwd_burst: 0 is not between 1 and 512"),
    ({"dpfwd_sleep_max_us": 900}, "dpfwd_sleep_max_us: 900 is not between 1 and 500"),
    ({"dpfwd_mempool_cache": 4096}, "dpfwd_mempool_cache: 4096 is not between 0 and 512"),
    ({"dpfwd_instance": "my instance"}, "dpfwd_instance: 'my instance' is not an instance name"),
    ({"dpfwd_ports": [{"pci": "0000:99:00.0"}]}, "dpfwd_ports: needs at least two ports (got 1)"),
    ({"dpfwd_ports": [{"pci": "0000:99:00.0", "vdev": "net_null0"}, {"vdev": "net_null1"}]},
     "dpfwd_ports: each port needs exactly one of pci, vdev or interface"),
    ({"dpfwd_ports": [{"pci": "zz:00.0"}, {"vdev": "net_null1"}]}, "dpfwd_ports: a pci is not a PCI address"),
    ({"dpfwd_metrics_listen": "localhost"}, "dpfwd_metrics_listen: 'localhost' is not HOST:PORT"),
    ({"dpfwd_lcores": "a-b"}, "dpfwd_lcores: 'a-b' is not an EAL lcore list"),
    ({"dpfwd_watchdog_sec": -1}, "dpfwd_watchdog_sec: -1 is negative"),
    ({"dpfwd_start_limit_burst": 0}, "dpfwd_start_limit_burst and dpfwd_start_limit_interval_sec must be 1 or more"),
    ({"dpfwd_run_as_root": "maybe"}, "argument 'dpfwd_run_as_root' is of type str and we were unable to convert "
                                     "to bool"),
    ({"dpfwd_home": "opt/dpfwd"}, "dpfwd_home: 'opt/dpfwd' is not an absolute path"),
    ({"dpfwd_wheel_dir": "/nonexistent"}, "dpfwd_wheel_dir: no dpfwd wheel in /nonexistent"),
    ({"dpfwd_memory": "hugepages"}, "dpfwd_memory: hugepages (shared files, for dpfwd capture) needs "
                                    "dpfwd_run_as_root: true"),
    ({"hugepages_2m_count": -1}, "hugepages_2m_count: -1 is negative"),
    ({"hugepages_2m_per_node": {"x": 4}}, "hugepages_2m_per_node: {'x': 4} is not {NUMA node number"),
    ({"hugepages_default_size": "4M"}, "hugepages_default_size must be one of"),
    ({"hugepages_mount_1g": "hugepages1G"}, "hugepages_mount_2m and hugepages_mount_1g must be absolute paths"),
    ({"nic_binding_nics": []}, "nic_binding_nics: is empty"),
    ({"nic_binding_nics": [{"pci": "0000:99:00.0", "mac": "52:54:00:00:00:10"}]},
     "nic_binding_nics: each NIC needs exactly one of pci, mac or interface"),
    ({"nic_binding_nics": [{"mac": "nope"}]}, "nic_binding_nics: a mac is not a MAC address"),
    ({"nic_binding_nics": [{"interface": "a,b"}]}, "nic_binding_nics: an interface is not a network interface name"),
    ({"nic_binding_state": "gone"}, "nic_binding_state must be one of: present, absent, got: gone"),
]


def deploy_check(tmp_path, extra, hosts=None, group_vars=None):
    """deploy.yml's variable check, in check mode, on this host under one or
    more inventory names: {name: that host's own variables}."""
    wheels = tmp_path / "wheels"
    wheels.mkdir(exist_ok=True)
    (wheels / "dpfwd-0.1.0-py3-none-any.whl").touch()
    hosts = {name: dict(GOOD, dpfwd_wheel_dir=str(wheels), **own) for name, own in (hosts or {"checkhost": {}}).items()}
    (tmp_path / "inventory.json").write_text(json.dumps({"dpfwd": {"hosts": hosts, "vars": group_vars or {}}}))
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(tmp_path / "inventory.json"), os.path.join(ROOT, "playbooks/deploy.yml"),
         "--check", "--tags", "check-vars", "-e", json.dumps(extra)],
        capture_output=True, text=True, timeout=120,
        env=dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "roles"), ANSIBLE_NOCOLOR="1",
                 ANSIBLE_LOCALHOST_WARNING="false", PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"]))
    return proc.returncode, proc.stdout + proc.stderr


def test_good_variables_pass_the_check(tmp_path):
    rc, out = deploy_check(tmp_path, {})
    assert rc == 0, out[-3000:]
    assert re.search(r"checkhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", out)


def test_there_are_at_least_15_bad_values():
    assert len(BAD) >= 15


@pytest.mark.parametrize("extra,message", BAD, ids=[next(iter(e)) + "=" + str(next(iter(e.values())))[:20]
                                                    for e, _ in BAD])
def test_a_bad_value_stops_the_play_in_the_check_naming_the_variable(tmp_path, extra, message):
    rc, out = deploy_check(tmp_path, extra)
    assert rc == 2, out[-3000:]
    assert message in out, out[-3000:]
    failed = [chunk.split("]")[0] for chunk in out.split("TASK [")[1:]
              if re.search(r"^(fatal|failed): \[checkhost\]", chunk, re.M)]
    assert len(failed) == 1 and re.search(r"Validating arguments against arg spec 'assert'|Check the role's variables",
                                          failed[0]), failed
    assert re.search(r"checkhost\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=1", out)


# -- the roll over a fleet ------------------------------------------------------

FLEET = {"first": {}, "second": {}, "third": {}}


def hosts_run(out):
    """The hosts in the PLAY RECAP: those the play touched."""
    return re.findall(r"^(\w+)\s+: ok=", out, re.M)


def test_a_failed_canary_ends_the_roll_before_the_next_batch(tmp_path):
    """By default the roll takes one host, then a quarter of the fleet at a
    time, and a failed host ends it: the others are never touched."""
    fleet = dict(FLEET, first={"dpfwd_mode": "fast"})
    rc, out = deploy_check(tmp_path, {}, hosts=fleet)
    assert rc == 2, out[-3000:]
    assert hosts_run(out) == ["first"], out[-3000:]
    rc, out = deploy_check(tmp_path, {}, hosts=FLEET)
    assert rc == 0 and hosts_run(out) == ["first", "second", "third"], out[-3000:]
    assert re.findall(r"^PLAY \[Deploy dpfwd\]", out, re.M) == ["PLAY [Deploy dpfwd]"] * 3   # 1, then 25% each


def test_a_failure_in_a_later_batch_stops_the_roll_there(tmp_path):
    fleet = dict(FLEET, second={"dpfwd_mode": "fast"})
    rc, out = deploy_check(tmp_path, {"dpfwd_serial": 2}, hosts=fleet)
    assert rc == 2, out[-3000:]
    assert hosts_run(out) == ["first", "second"], out[-3000:]


def test_a_rollout_set_in_the_inventory_is_refused_not_ignored(tmp_path):
    """Ansible reads serial before the inventory: dpfwd_serial: 3 there would
    silently roll by the default. The play says so before changing anything."""
    rc, out = deploy_check(tmp_path, {}, hosts={f"host{i}": {} for i in range(8)}, group_vars={"dpfwd_serial": 1})
    # The canary batch holds 1 host and passes; the next holds 2 (25% of 8) and is stopped.
    assert rc == 2, out[-3000:]
    assert hosts_run(out) == ["host0", "host1", "host2"], out[-3000:]
    assert "dpfwd_serial: 1 is set in the inventory, where a play's serial cannot see it" in out, out[-3000:]
    assert "-e dpfwd_serial=1" in out
