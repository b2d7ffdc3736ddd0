"""Config -> plan: EAL arguments, devices and lcore work, without DPDK; the host
(its NUMA layout) is an argument, a captured tree in the placement tests."""
import pathlib

import pytest

from dpfwd import config as cfg
from dpfwd.plan import Task, make_plan


def plan_of(data):
    return make_plan(cfg.validate(data))


def test_vdev_ports_in_memory():
    plan = plan_of({"ports": [{"vdev": "net_null0"}, {"vdev": "net_null1,size=128"}]})
    args = list(plan.eal_args)
    assert args[:4] == ["--lcores", "0-1", "--file-prefix", "dpfwd"]
    assert "--in-memory" in args and "--no-pci" in args
    assert args[-4:] == ["--vdev", "net_null0", "--vdev", "net_null1,size=128"]
    assert plan.tasks == (Task(1, 0, 0, 1, False), Task(1, 1, 0, 0, False))


def test_pci_ports_are_allow_listed_and_memory_modes_map_to_flags():
    plan = plan_of({"eal": {"memory": "hugepages", "args": ["--log-level", "pmd.*:debug"]},
                    "ports": [{"pci": "0000:03:00.0"}, {"pci": "03:00.1"}]})
    args = list(plan.eal_args)
    assert "--in-memory" not in args and "--no-huge" not in args and "--no-pci" not in args
    assert args.count("-a") == 2 and "0000:03:00.1" in args
    assert args[-2:] == ["--log-level", "pmd.*:debug"]
    no_huge = plan_of({"eal": {"memory": "no-huge", "memory_mb": 256},
                       "ports": [{"vdev": "net_null0"}, {"vdev": "net_null1"}]})
    assert ["--no-huge", "-m", "256"] == list(no_huge.eal_args[4:7])


def test_interfaces_become_af_packet_vdevs_sized_for_the_mtu():
    plan = plan_of({"ports": [{"interface": "veth0", "tx_queues": 2}, {"interface": "veth1", "mtu": 9000,
                                                       "rx_queues": 2, "tx_queues": 2}],
                    "pairs": [[0, 1]]})
    assert plan.devices[0] == ("net_af_packet0,iface=veth0,qpairs=1,framecnt=4096,"
                               "framesz=2048,blocksz=4096")
    assert "qpairs=2" in plan.devices[1] and "framesz=16384,blocksz=16384" in plan.devices[1]


def test_work_is_spread_over_worker_lcores():
    ports = [{"vdev": f"net_null{i}", "rx_queues": 2, "tx_queues": 2} for i in range(2)]
    plan = plan_of({"eal": {"lcores": "0,2,4"}, "ports": ports})
    assert [(t.lcore, t.port, t.queue, t.peer) for t in plan.tasks] == [
        (2, 0, 0, 1), (4, 0, 1, 1), (2, 1, 0, 0), (4, 1, 1, 0)]


def test_frame_length_check_only_where_longer_frames_can_arrive():
    def checks(ports):
        return [t.check_frames for t in plan_of({"ports": ports}).tasks]
    assert checks([{"vdev": "net_null0"}, {"vdev": "net_null1,size=1600"}]) == [False, True]
    assert checks([{"pci": "03:00.0", "mtu": 9000}, {"pci": "03:00.1"}]) == [True, False]
    assert checks([{"vdev": "net_pcap0,rx_pcap=a.pcap"}, {"interface": "veth0", "mtu": 9000}]) == [True, True]


def test_a_mempool_too_small_for_the_rings_is_a_warning_with_the_size_to_use():
    ports = [{"vdev": f"net_null{i}", "rx_descriptors": 4096, "tx_descriptors": 4096} for i in range(2)]
    plan = plan_of({"ports": ports})
    # rings 4 x 4096 + caches 2 x 256 + 2 tasks x 32 in flight
    assert plan.warnings == ("mempool.mbufs: 8192 is fewer than the 16960 the rings (16384), lcore caches "
                             "(512) and bursts in flight (64) can hold; under load rx runs out of mbufs: "
                             "set it to 16960 or more",)
    assert plan_of({"ports": ports, "mempool": {"mbufs": 16960}}).warnings == ()
    assert plan_of({"ports": [{"vdev": "net_null0"}, {"vdev": "net_null1"}]}).warnings == ()


def test_a_mempool_too_small_for_a_nics_rings_is_an_error():
    """A NIC's rings keep their mbufs: a pool that runs dry stays dry (seen on
    the lab guest's e1000: 75 packets through, then none)."""
    from dpfwd.config import ConfigError
    ports = [{"pci": f"0000:00:0{3 + i}.0", "rx_descriptors": 512} for i in range(2)]
    with pytest.raises(ConfigError) as err:
        plan_of({"ports": ports, "mempool": {"mbufs": 1100, "cache": 0}})
    assert err.value.errors == ["mempool.mbufs: 1100 is fewer than the 3136 the rings (3072), lcore caches (0) "
                                "and bursts in flight (64) can hold; a NIC keeps mbufs in its rings, so a pool "
                                "that runs dry stays dry and forwarding stops: set it to 3136 or more"]
    assert plan_of({"ports": ports, "mempool": {"mbufs": 3136, "cache": 0}}).warnings == ()


# -- placement, on a tree captured in the lab's guest, given two NUMA nodes -----

def two_node_guest(tmp_path, nic_node):
    import shutil
    from dpfwd.host import Host
    root = tmp_path / "guest"
    shutil.copytree(pathlib.Path(__file__).parent / "fixtures/hosts/guest", root, symlinks=True)
    (root / "sys/devices/system/cpu/online").write_text("0-3\n")
    nodes = root / "sys/devices/system/node"
    (nodes / "node0/cpulist").write_text("0-1\n")
    (nodes / "node1").mkdir()
    (nodes / "node1/cpulist").write_text("2-3\n")
    for nic in ("0000:00:03.0", "0000:00:04.0"):
        (root / f"sys/bus/pci/devices/{nic}/numa_node").write_text(f"{nic_node}\n")
    return Host(str(root))


PCI_PORTS = [{"pci": "0000:00:03.0"}, {"pci": "0000:00:04.0"}]


@pytest.mark.parametrize("nic_node, lcores", [(1, "2-3"), (0, "0-1")])
def test_unpinned_lcores_go_to_the_nics_node(tmp_path, nic_node, lcores):
    plan = make_plan(cfg.validate({"ports": PCI_PORTS}), two_node_guest(tmp_path, nic_node))
    assert plan.config.lcores.text == lcores and list(plan.eal_args[:2]) == ["--lcores", lcores]
    assert not plan.warnings


def test_pinned_lcores_on_the_other_node_are_warned_about_with_the_cpus_to_use(tmp_path):
    plan = make_plan(cfg.validate({"ports": PCI_PORTS, "eal": {"lcores": "0-1"}}), two_node_guest(tmp_path, 1))
    assert plan.config.lcores.text == "0-1"
    assert plan.warnings == tuple(
        f"ports[{i}] ({pci}) is on NUMA node 1 but lcore 1 (CPU 1) polling it is on node 0; "
        "set eal.lcores to CPUs of node 1 (2,3)" for i, pci in enumerate(["0000:00:03.0", "0000:00:04.0"]))


def test_virtual_ports_take_the_first_two_online_cpus(tmp_path):
    host = two_node_guest(tmp_path, 1)
    plan = make_plan(cfg.validate({"ports": [{"vdev": "net_null0"}, {"vdev": "net_null1"}]}), host)
    assert plan.config.lcores.text == "0-1"
