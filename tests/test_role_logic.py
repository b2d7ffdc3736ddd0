"""The roles' own logic, outside a guest: the hugepages role's filters
(against systemd-escape itself) and the wheel the dpfwd role picks."""
import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
spec = importlib.util.spec_from_file_location("hugepages_filters",
                                              os.path.join(ROOT, "roles/hugepages/filter_plugins/hugepages.py"))
filters = importlib.util.module_from_spec(spec)
spec.loader.exec_module(filters)


@pytest.mark.parametrize("path", ["/dev/hugepages", "/dev/hugepages-1G", "/dev/hugepages1G", "/mnt/huge_2M/",
                                  "/srv/dpdk pages", "/run/.hidden"])
def test_mount_unit_names_are_systemd_escape_s(path):
    real = subprocess.run(["systemd-escape", "--path", "--suffix=mount", path], capture_output=True, text=True,
                          check=True, timeout=30).stdout.strip()
    assert filters.mount_unit(path) == real


CMDLINE = "BOOT_IMAGE=/vmlinuz root=/dev/vda ro hugepagesz=1G hugepages=16 default_hugepagesz=1G quiet"


@pytest.mark.parametrize("wanted,missing", [
    (["hugepagesz=1G", "hugepages=16"], []),
    (["hugepagesz=1G", "hugepages=1"], ["hugepagesz=1G", "hugepages=1"]),      # 1 is not 16
    (["hugepagesz=1G", "hugepages=160"], ["hugepagesz=1G", "hugepages=160"]),
    (["default_hugepagesz=1G"], []),
    (["default_hugepagesz=2M"], ["default_hugepagesz=2M"]),
    (["default_hugepagesz=1G", "hugepagesz=1G", "hugepages=16"], []),
    ([], []),
])
def test_kernel_arguments_are_compared_whole(wanted, missing):
    assert filters.kernel_args_missing(CMDLINE, wanted) == missing


def test_a_count_belongs_to_the_size_before_it():
    cmdline = "hugepagesz=2M hugepages=16 hugepagesz=1G hugepages=4"
    assert filters.kernel_args_missing(cmdline, ["hugepagesz=1G", "hugepages=16"]) == ["hugepagesz=1G", "hugepages=16"]
    assert filters.kernel_args_missing(cmdline, ["hugepagesz=1G", "hugepages=4"]) == []


def test_no_reboot_when_only_the_default_size_is_asked_and_present():
    # The role used to look for "hugepages=0" when no 1 GB pages were asked, and reboot every run.
    assert filters.kernel_args_missing("root=/dev/vda default_hugepagesz=2M", ["default_hugepagesz=2M"]) == []


def test_the_newest_wheel_is_picked_by_version_not_by_string(tmp_path):
    for name in ("dpfwd-0.9.0-py3-none-any.whl", "dpfwd-0.10.0-cp311-abi3-linux_x86_64.whl",
                 "dpfwd-0.10.0rc1-py3-none-any.whl", "dpfwd-0.2.0-py3-none-any.whl"):
        (tmp_path / name).touch()
    play = tmp_path / "play.yml"
    play.write_text(f"""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.include_role: {{name: dpfwd, tasks_from: wheel}}
      vars: {{dpfwd_wheel_dir: "{tmp_path}"}}
    - ansible.builtin.debug: {{msg: "picked={{{{ __dpfwd_version }}}}"}}
""")
    proc = subprocess.run(["ansible-playbook", "-c", "local", "-i", "localhost,", str(play)], capture_output=True,
                          text=True, timeout=120,
                          env=dict(os.environ, ANSIBLE_ROLES_PATH=os.path.join(ROOT, "roles"),
                                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1",
                                   ANSIBLE_PYTHON_INTERPRETER=sys.executable,
                                   PATH=os.path.dirname(sys.executable) + ":" + os.environ["PATH"]))
    assert '"msg": "picked=0.10.0"' in proc.stdout, proc.stdout + proc.stderr
