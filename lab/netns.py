"""Two network namespaces joined only through a forwarder: a bump in the wire.

    with BumpInTheWire("t1") as world:
        # DPDK opens world.fwd_a and world.fwd_b (net_af_packet)
        world.run_a(["ping", "-c", "3", world.addr_b])

Namespace A and namespace B each hold a veth `inner0` (198.51.100.1 and
.2); their peers stay in the calling namespace for DPDK. Checksum
offload is off on the senders, or TCP through af_packet sees bad checksums.
"""
import subprocess

NET = "198.51.100"


def sh(*args, check=True, **kw):
    return subprocess.run(list(args), check=check, capture_output=True, text=True, timeout=30, **kw)


class BumpInTheWire:
    def __init__(self, tag):
        self.ns_a, self.ns_b = f"dpfwd-{tag}-a", f"dpfwd-{tag}-b"
        self.fwd_a, self.fwd_b = f"dfw{tag}a"[:15], f"dfw{tag}b"[:15]
        self.addr_a, self.addr_b = f"{NET}.1", f"{NET}.2"

    def _half(self, ns, inner, outer, addr):
        sh("ip", "netns", "add", ns)
        sh("ip", "link", "add", outer, "type", "veth", "peer", "name", "inner0", "netns", ns)
        sh("sysctl", "-qw", f"net.ipv6.conf.{outer}.disable_ipv6=1")
        sh("ip", "link", "set", outer, "up")
        for cmd in (["ip", "addr", "add", f"{addr}/24", "dev", "inner0"],
                    ["ip", "link", "set", "inner0", "up"],
                    ["ip", "link", "set", "lo", "up"],
                    ["ethtool", "-K", "inner0", "tx", "off"]):
            sh("ip", "netns", "exec", ns, *cmd)

    def __enter__(self):
        self.close()
        try:
            self._half(self.ns_a, "inner0", self.fwd_a, self.addr_a)
            self._half(self.ns_b, "inner0", self.fwd_b, self.addr_b)
        except BaseException:
            self.close()
            raise
        return self

    def run_a(self, cmd, **kw):
        return self.run_in(self.ns_a, cmd, **kw)

    def run_b(self, cmd, **kw):
        return self.run_in(self.ns_b, cmd, **kw)

    @staticmethod
    def run_in(ns, cmd, timeout=30, **kw):
        return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True,
                              timeout=timeout, **kw)

    def popen_in(self, ns, cmd, **kw):
        return subprocess.Popen(["ip", "netns", "exec", ns, *cmd], **kw)

    def close(self):
        # Deleting a namespace deletes the veth inside it, and so its peer.
        for ns in (self.ns_a, self.ns_b):
            sh("ip", "netns", "del", ns, check=False)
        for dev in (self.fwd_a, self.fwd_b):
            sh("ip", "link", "del", dev, check=False)

    def __exit__(self, *exc):
        self.close()


class DirectWire(BumpInTheWire):
    """The same two namespaces and addresses, joined by one veth pair: the
    baseline a bump in the wire is compared against."""

    def __enter__(self):
        self.close()
        try:
            for ns in (self.ns_a, self.ns_b):
                sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", "inner0", "netns", self.ns_a, "type", "veth",
               "peer", "name", "inner0", "netns", self.ns_b)
            for ns, addr in ((self.ns_a, self.addr_a), (self.ns_b, self.addr_b)):
                for cmd in (["ip", "addr", "add", f"{addr}/24", "dev", "inner0"],
                            ["ip", "link", "set", "inner0", "up"],
                            ["ip", "link", "set", "lo", "up"]):
                    sh("ip", "netns", "exec", ns, *cmd)
        except BaseException:
            self.close()
            raise
        return self
