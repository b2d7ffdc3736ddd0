/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dpfwd's own DPDK telemetry commands. Every reader (the CLI, the metrics
 * exporter, systemd status) goes through these, on DPDK's telemetry socket
 * /var/run/dpdk/<instance>/dpdk_telemetry.v2, next to DPDK's /ethdev/ ones.
 *
 * DPDK's JSON encoder nests containers one level deep, so the replies are
 * flat dicts of dicts keyed "port_N", "port_N_queue_Q" and "lcore_L".
 */
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mempool.h>
#include <rte_telemetry.h>
#include <rte_version.h>

#include "dpfwd.h"
#include "internal.h"

#define MAX_POOLS 8

/* 23.03 renamed the unsigned adders; keep one spelling here. */
#if RTE_VERSION >= RTE_VERSION_NUM(23, 3, 0, 0)
#define tel_dict_uint rte_tel_data_add_dict_uint
#else
#define tel_dict_uint rte_tel_data_add_dict_u64
#endif

static char instance[64];
static char version[32];
static struct rte_mempool *pools[MAX_POOLS];
static unsigned int n_pools;
static uint64_t start_tsc;

static const char *const MODE_NAMES[] = {"io", "mac", "macswap"};
static const char *const IDLE_NAMES[] = {"busy", "pause", "sleep", "monitor"};

static struct rte_tel_data *
counters_dict(const struct dpfwd_counters *c)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	tel_dict_uint(d, "rx", c->rx);
	tel_dict_uint(d, "tx", c->tx);
	tel_dict_uint(d, "rx_bytes", c->rx_bytes);
	tel_dict_uint(d, "tx_bytes", c->tx_bytes);
	tel_dict_uint(d, "tx_dropped", c->tx_dropped);
	tel_dict_uint(d, "oversize", c->oversize);
	tel_dict_uint(d, "bursts", c->bursts);
	tel_dict_uint(d, "empty_polls", c->empty_polls);
	tel_dict_uint(d, "idle_ns", c->idle_ns);
	return d;
}

static void
add_counters(struct rte_tel_data *d, const char *key, const struct dpfwd_counters *c)
{
	struct rte_tel_data *child = counters_dict(c);

	if (child != NULL && rte_tel_data_add_dict_container(d, key, child, 0) != 0)
		rte_tel_data_free(child);
}

static int
tel_stats(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	struct dpfwd_counters c;
	uint32_t lcores[RTE_MAX_LCORE];
	char key[48];
	uint16_t port, q;
	int i, n;

	rte_tel_data_start_dict(d);
	tel_dict_uint(d, "elapsed_us", (uint64_t)(dpfwd_fwd_seconds() * 1e6));
	RTE_ETH_FOREACH_DEV(port) {
		if (dpfwd_fwd_peer(port) < 0)
			continue;
		dpfwd_stats_port(port, &c);
		snprintf(key, sizeof(key), "port_%u", port);
		add_counters(d, key, &c);
		for (q = 0; q < dpfwd_fwd_queues(port); q++) {
			dpfwd_stats_queue(port, q, &c);
			snprintf(key, sizeof(key), "port_%u_queue_%u", port, q);
			add_counters(d, key, &c);
		}
	}
	n = dpfwd_fwd_lcores(lcores, RTE_MAX_LCORE);
	for (i = 0; i < n; i++) {
		dpfwd_stats_lcore(lcores[i], &c);
		snprintf(key, sizeof(key), "lcore_%u", lcores[i]);
		add_counters(d, key, &c);
	}
	return 0;
}

static struct rte_tel_data *
port_dict(uint16_t port)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];
	char macs[RTE_ETHER_ADDR_FMT_SIZE];

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	tel_dict_uint(d, "id", port);
	if (rte_eth_dev_get_name_by_port(port, name) == 0)
		rte_tel_data_add_dict_string(d, "name", name);
	if (rte_eth_macaddr_get(port, &mac) == 0) {
		rte_ether_format_addr(macs, sizeof(macs), &mac);
		rte_tel_data_add_dict_string(d, "mac", macs);
	}
	if (rte_eth_link_get_nowait(port, &link) != 0)
		memset(&link, 0, sizeof(link));
	tel_dict_uint(d, "link_up", link.link_status == RTE_ETH_LINK_UP);
	tel_dict_uint(d, "link_speed_mbps", link.link_status ? link.link_speed : 0);
	if (rte_eth_dev_info_get(port, &info) == 0) {
		tel_dict_uint(d, "rx_queues", info.nb_rx_queues);
		tel_dict_uint(d, "tx_queues", info.nb_tx_queues);
		rte_tel_data_add_dict_string(d, "driver", info.driver_name);
	}
	rte_tel_data_add_dict_int(d, "peer", dpfwd_fwd_peer(port));
	rte_tel_data_add_dict_int(d, "socket", rte_eth_dev_socket_id(port));
	return d;
}

static int
tel_ports(const char *cmd __rte_unused, const char *params __rte_unused,
	  struct rte_tel_data *d)
{
	struct rte_tel_data *child;
	char key[24];
	uint16_t port;

	rte_tel_data_start_dict(d);
	RTE_ETH_FOREACH_DEV(port) {
		if (dpfwd_fwd_peer(port) < 0)
			continue;
		child = port_dict(port);
		snprintf(key, sizeof(key), "port_%u", port);
		if (child != NULL && rte_tel_data_add_dict_container(d, key, child, 0) != 0)
			rte_tel_data_free(child);
	}
	return 0;
}

static int
tel_info(const char *cmd __rte_unused, const char *params __rte_unused,
	 struct rte_tel_data *d)
{
	struct rte_malloc_socket_stats ms;
	struct rte_tel_data *lc, *pool;
	uint32_t lcores[RTE_MAX_LCORE];
	uint64_t heap_total = 0, heap_alloc = 0;
	char key[RTE_MEMPOOL_NAMESIZE + 8];
	unsigned int i, socket;
	int n, mode = dpfwd_fwd_mode(), idle = dpfwd_fwd_idle();

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "version", version);
	rte_tel_data_add_dict_string(d, "dpdk_version", rte_version());
	rte_tel_data_add_dict_string(d, "instance", instance);
	rte_tel_data_add_dict_string(d, "mode", mode >= 0 ? MODE_NAMES[mode] : "stopped");
	rte_tel_data_add_dict_string(d, "idle", idle >= 0 ? IDLE_NAMES[idle] : "none");
	tel_dict_uint(d, "uptime_s", (rte_get_tsc_cycles() - start_tsc) / rte_get_tsc_hz());
	tel_dict_uint(d, "forwarding", dpfwd_fwd_running());
	lc = rte_tel_data_alloc();
	if (lc != NULL) {
		rte_tel_data_start_array(lc, RTE_TEL_INT_VAL);
		n = dpfwd_fwd_lcores(lcores, RTE_MAX_LCORE);
		for (i = 0; i < (unsigned int)n; i++)
			rte_tel_data_add_array_int(lc, lcores[i]);
		if (rte_tel_data_add_dict_container(d, "lcores", lc, 0) != 0)
			rte_tel_data_free(lc);
	}
	for (i = 0; i < n_pools; i++) {
		pool = rte_tel_data_alloc();
		if (pool == NULL)
			continue;
		rte_tel_data_start_dict(pool);
		tel_dict_uint(pool, "size", pools[i]->size);
		tel_dict_uint(pool, "in_use", rte_mempool_in_use_count(pools[i]));
		tel_dict_uint(pool, "free", rte_mempool_avail_count(pools[i]));
		snprintf(key, sizeof(key), "mempool_%s", pools[i]->name);
		if (rte_tel_data_add_dict_container(d, key, pool, 0) != 0)
			rte_tel_data_free(pool);
	}
	/* DPDK's heaps live in hugepages (or in-memory pages): what EAL holds. */
	for (socket = 0; socket < rte_socket_count(); socket++) {
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(socket), &ms) == 0) {
			heap_total += ms.heap_totalsz_bytes;
			heap_alloc += ms.heap_allocsz_bytes;
		}
	}
	tel_dict_uint(d, "hugepage_bytes", heap_total);
	tel_dict_uint(d, "hugepage_used_bytes", heap_alloc);
	return 0;
}

int dpfwd_telemetry_register(const char *inst, const char *ver)
{
	int ret;

	snprintf(instance, sizeof(instance), "%s", inst);
	snprintf(version, sizeof(version), "%s", ver);
	if (start_tsc != 0)
		return 0;
	start_tsc = rte_get_tsc_cycles();
	ret = rte_telemetry_register_cmd("/dpfwd/stats", tel_stats,
		"dpfwd counters per port, queue and lcore. Takes no parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dpfwd/ports", tel_ports,
			"dpfwd ports: name, MAC, link, queues, peer. Takes no parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dpfwd/info", tel_info,
			"dpfwd version, mode, instance, uptime, lcores, mempools, hugepages. Takes no parameters");
	if (ret != 0)
		return dpfwd_fail(ret, "rte_telemetry_register_cmd: %s", rte_strerror(-ret));
	return 0;
}

int dpfwd_telemetry_add_pool(struct rte_mempool *pool)
{
	if (n_pools == MAX_POOLS)
		return dpfwd_fail(ENOSPC, "telemetry: more than %u mempools", MAX_POOLS);
	pools[n_pools++] = pool;
	return 0;
}
