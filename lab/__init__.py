"""Worlds for tests, demos and benches: packets, pcap files, namespaces, processes."""
