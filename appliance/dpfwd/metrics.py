"""Prometheus metrics for a dpfwd instance, read from telemetry at scrape time.

Prometheus's exporter port range (9100-9999) is fully allocated, so dpfwd's
default, 127.0.0.1:19310, sits outside it and on localhost only.

No series carries an `instance` label: Prometheus sets that one to the scrape
target, and each dpfwd instance is its own target (its own listen address).
The dpfwd instance's name is a label of dpfwd_info.
"""
import logging

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from .facts import COUNTERS
from .telemetry import NotRunning, Telemetry, read_info, read_ports, read_stats

log = logging.getLogger("dpfwd")

class DpfwdCollector:
    """Reads the instance's /dpfwd/* commands on each scrape. A failed read
    drops that part of the metrics, never the whole scrape."""

    def __init__(self, instance):
        self.instance = instance

    def collect(self):
        try:
            tm = Telemetry(self.instance, timeout=1.0)
        except NotRunning as exc:
            log.debug("metrics: %s", exc)
            return
        with tm:
            for reader in (self._stats, self._ports, self._info):
                try:
                    yield from reader(tm)
                except NotRunning as exc:
                    log.debug("metrics: %s", exc)

    def _stats(self, tm):
        stats = read_stats(tm)
        for scope, rows in (("port", stats["ports"]), ("lcore", stats["lcores"])):
            ident = "index" if scope == "port" else scope
            for counter in (c for c in COUNTERS if c.kept_at(scope)):
                family = CounterMetricFamily(f"dpfwd_{scope}_{counter.metric}", f"{counter.help}, per {scope}",
                                             labels=[scope])
                for row in rows:
                    family.add_metric([str(row[ident])], row[counter.name] / counter.scale)
                yield family
        yield self._residence(stats["ports"])
        seconds = CounterMetricFamily("dpfwd_forwarding_seconds", "Time spent forwarding")
        seconds.add_metric([], stats["elapsed_seconds"])
        yield seconds

    @staticmethod
    def _residence(ports):
        """Time from rx_burst's return to the handover to tx_burst, by receiving port, of one burst
        in 32: what dpfwd itself adds to a packet's latency."""
        family = HistogramMetricFamily("dpfwd_residence_seconds", "Time dpfwd held sampled bursts, "
                                       "rx to the handover to tx, by receiving port", labels=["port"])
        for p in ports:
            r, cumulative, buckets = p["residence"], 0, []
            for bound, n in r["buckets"]:
                cumulative += n
                buckets.append(("+Inf" if bound is None else f"{bound / 1e9:g}", cumulative))
            family.add_metric([str(p["index"])], buckets, r["sum_ns"] / 1e9)
        return family

    def _ports(self, tm):
        link = GaugeMetricFamily("dpfwd_port_link_up", "1 when the port's link is up",
                                 labels=["port", "name"])
        speed = GaugeMetricFamily("dpfwd_port_link_speed_bits_per_second", "Link speed",
                                  labels=["port", "name"])
        for p in read_ports(tm):
            ident = [str(p["index"]), p["name"]]
            link.add_metric(ident, p["link_up"])
            speed.add_metric(ident, p["link_speed_mbps"] * 1e6)
        yield link
        yield speed

    def _info(self, tm):
        info = read_info(tm)
        meta = GaugeMetricFamily("dpfwd_info", "Instance name, version and mode; always 1",
                                 labels=["dpfwd_instance", "version", "dpdk_version", "mode"])
        meta.add_metric([self.instance, info["version"], info["dpdk_version"], info["mode"]], 1)
        yield meta
        for name, help_text, value in (
                ("dpfwd_up", "1 while the lcores forward", info["forwarding"]),
                ("dpfwd_uptime_seconds", "Seconds since the data plane started", info["uptime_s"]),
                ("dpfwd_hugepage_memory_bytes", "DPDK heap memory held", info["hugepage_bytes"]),
                ("dpfwd_hugepage_memory_used_bytes", "DPDK heap memory in use",
                 info["hugepage_used_bytes"])):
            g = GaugeMetricFamily(name, help_text)
            g.add_metric([], value)
            yield g
        for key, name, help_text in (("in_use", "dpfwd_mempool_mbufs_in_use", "mbufs in use"),
                                     ("free", "dpfwd_mempool_mbufs_free", "mbufs free"),
                                     ("size", "dpfwd_mempool_mbufs", "mbufs in the pool")):
            g = GaugeMetricFamily(name, help_text, labels=["pool"])
            for pool, values in sorted(info["mempools"].items()):
                g.add_metric([pool], values[key])
            yield g


def serve(instance, listen):
    """Serve /metrics on listen (a config.Listen) from a daemon thread."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DpfwdCollector(instance))
    # prometheus-client before 0.20 returns nothing here, later ones (server, thread).
    start_http_server(listen.port, addr=listen.host, registry=registry)
