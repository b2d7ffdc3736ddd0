/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dpfwd's own DPDK telemetry commands. Every reader (the CLI, the metrics
 * exporter, systemd status) goes through these, on DPDK's telemetry socket
 * /var/run/dpdk/<instance>/dpdk_telemetry.v2, next to DPDK's /ethdev/ ones.
 *
 * DPDK 22.11's JSON encoder nests containers one level deep, so the replies
 * are flat dicts of dicts keyed "port_I" (I: the port's index in the config),
 * "port_I_queue_Q" and "lcore_L"; telemetry.read_stats turns them into the
 * one snapshot shape (snapshot.schema.json) every reader uses.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>
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


static struct rte_tel_data *
counters_dict(const struct dpfwd_counters *c)
{
	struct rte_tel_data *d = rte_tel_data_alloc();

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
#define ADD_COUNTER(field, flags, metric, scale, help) tel_dict_uint(d, #field, c->field);
	DPFWD_COUNTER_LIST(ADD_COUNTER)
#undef ADD_COUNTER
	return d;
}

static void
add_child(struct rte_tel_data *d, const char *key, struct rte_tel_data *child)
{
	if (child != NULL && rte_tel_data_add_dict_container(d, key, child, 0) != 0)
		rte_tel_data_free(child);
}

/* Lowercase, as ip(8) prints them. */
static void
add_mac(struct rte_tel_data *d, uint16_t port)
{
	struct rte_ether_addr mac;
	char text[RTE_ETHER_ADDR_FMT_SIZE];
	const uint8_t *b = mac.addr_bytes;

	if (rte_eth_macaddr_get(port, &mac) != 0)
		return;
	snprintf(text, sizeof(text), "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
	rte_tel_data_add_dict_string(d, "mac", text);
}

/* The port's residence histogram, flat (one nesting level in 22.11):
 * residence_count, residence_sum_ns, residence_max_ns, residence_le_<ns>
 * (per bucket, not cumulative), residence_le_inf. */
static void
add_residence(struct rte_tel_data *d, uint16_t port)
{
	struct dpfwd_residence r;
	char key[48];
	unsigned int b;

	if (dpfwd_residence(port, &r) != 0)
		return;
	tel_dict_uint(d, "residence_count", r.count);
	tel_dict_uint(d, "residence_sum_ns", r.sum_ns);
	tel_dict_uint(d, "residence_max_ns", r.max_ns);
	for (b = 0; b < DPFWD_RESIDENCE_BUCKETS; b++) {
		if (b == DPFWD_RESIDENCE_BUCKETS - 1)
			snprintf(key, sizeof(key), "residence_le_inf");
		else
			snprintf(key, sizeof(key), "residence_le_%u", DPFWD_RESIDENCE_FIRST_NS << b);
		tel_dict_uint(d, key, r.buckets[b]);
	}
}

/* Index in config order of a DPDK port, -1 when it is not configured. */
static int
port_index(uint16_t port_id, const uint16_t *ids, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ids[i] == port_id)
			return i;
	return -1;
}

/* A parameter that is a whole number below limit, else -1. */
static int
index_param(const char *params, int limit)
{
	char *end;
	unsigned long v;

	if (params == NULL || *params == '\0')
		return -1;
	v = strtoul(params, &end, 10);
	return *end == '\0' && v < (unsigned long)limit ? (int)v : -1;
}

static void
reply_error(struct rte_tel_data *d, const char *text)
{
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "error", text);
}

/* A reply is cut at 16 KB, silently, and 32 ports with their queues and
 * lcores do not fit in one: /dpfwd/stats says what there is (how many
 * ports, which lcores), /dpfwd/port_stats,I and /dpfwd/lcore_stats,L give
 * one each, and readers check that they got every one. */
static int
stats_reply(__rte_unused const char *params, struct rte_tel_data *d)
{
	struct rte_tel_data *lc;
	uint32_t lcores[RTE_MAX_LCORE];
	uint16_t ids[DPFWD_MAX_PORTS];
	int i, n, mode = dpfwd_fwd_mode(), idle = dpfwd_fwd_idle();

	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "instance", instance);
	rte_tel_data_add_dict_string(d, "mode", mode >= 0 ? dpfwd_mode_facts[mode].name : "stopped");
	rte_tel_data_add_dict_string(d, "idle", idle >= 0 ? dpfwd_idle_facts[idle].name : "none");
	tel_dict_uint(d, "forwarding", dpfwd_fwd_running());
	tel_dict_uint(d, "elapsed_us", (uint64_t)(dpfwd_fwd_seconds() * 1e6));
	tel_dict_uint(d, "ports", dpfwd_fwd_ports(ids, DPFWD_MAX_PORTS));
	n = dpfwd_fwd_lcores(lcores, RTE_MAX_LCORE);
	lc = rte_tel_data_alloc();
	if (lc == NULL)
		return -ENOMEM;
	rte_tel_data_start_array(lc, RTE_TEL_INT_VAL);
	for (i = 0; i < n; i++)
		rte_tel_data_add_array_int(lc, lcores[i]);
	if (rte_tel_data_add_dict_container(d, "lcores", lc, 0) != 0) {
		rte_tel_data_free(lc);
		return -ENOMEM;
	}
	return 0;
}

/* Port I (config index): {"port": counters, residence, id, name, MAC;
 * "queue_Q": counters of each polled queue}. */
static int
port_stats_reply(const char *params, struct rte_tel_data *d)
{
	struct dpfwd_counters c;
	struct rte_tel_data *child;
	uint16_t ids[DPFWD_MAX_PORTS], q;
	char key[24], name[RTE_ETH_NAME_MAX_LEN];
	int i = index_param(params, dpfwd_fwd_ports(ids, DPFWD_MAX_PORTS));

	if (i < 0) {
		reply_error(d, "no such port index");
		return 0;
	}
	rte_tel_data_start_dict(d);
	dpfwd_stats_port(ids[i], &c);
	child = counters_dict(&c);
	if (child != NULL) {
		add_residence(child, ids[i]);
		tel_dict_uint(child, "port_id", ids[i]);
		if (rte_eth_dev_get_name_by_port(ids[i], name) == 0)
			rte_tel_data_add_dict_string(child, "name", name);
		add_mac(child, ids[i]);
	}
	add_child(d, "port", child);
	for (q = 0; q < dpfwd_fwd_queues(ids[i]); q++) {
		dpfwd_stats_queue(ids[i], q, &c);
		snprintf(key, sizeof(key), "queue_%u", q);
		add_child(d, key, counters_dict(&c));
	}
	return 0;
}

static int
lcore_stats_reply(const char *params, struct rte_tel_data *d)
{
	struct dpfwd_counters c;
	int lcore = index_param(params, RTE_MAX_LCORE);

	if (lcore < 0 || dpfwd_stats_lcore(lcore, &c) != 0) {
		reply_error(d, "no such lcore");
		return 0;
	}
	rte_tel_data_start_dict(d);
#define ADD_COUNTER(field, flags, metric, scale, help) tel_dict_uint(d, #field, c.field);
	DPFWD_COUNTER_LIST(ADD_COUNTER)
#undef ADD_COUNTER
	return 0;
}

static struct rte_tel_data *
port_dict(int index, uint16_t port, const uint16_t *ids, int n)
{
	struct rte_tel_data *d = rte_tel_data_alloc();
	struct rte_eth_dev_info info;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];
	int peer = dpfwd_fwd_peer(port), held;

	if (d == NULL)
		return NULL;
	rte_tel_data_start_dict(d);
	tel_dict_uint(d, "index", index);
	tel_dict_uint(d, "port_id", port);
	if (rte_eth_dev_get_name_by_port(port, name) == 0)
		rte_tel_data_add_dict_string(d, "name", name);
	add_mac(d, port);
	dpfwd_link_read(port, &link);
	tel_dict_uint(d, "link_up", link.link_status == RTE_ETH_LINK_UP);
	tel_dict_uint(d, "link_speed_mbps", link.link_status ? link.link_speed : 0);
	rte_tel_data_add_dict_string(d, "link_events", dpfwd_link_interrupt(port) ? "interrupt" : "poll");
	held = dpfwd_link_held_by(port);
	rte_tel_data_add_dict_int(d, "held_down_by", held < 0 ? -1 : port_index(held, ids, n));
	if (rte_eth_dev_info_get(port, &info) == 0) {
		tel_dict_uint(d, "rx_queues", info.nb_rx_queues);
		tel_dict_uint(d, "tx_queues", info.nb_tx_queues);
		rte_tel_data_add_dict_string(d, "driver", info.driver_name);
	}
	rte_tel_data_add_dict_int(d, "peer", peer < 0 ? -1 : port_index(peer, ids, n));
	rte_tel_data_add_dict_int(d, "socket", rte_eth_dev_socket_id(port));
	return d;
}

static int
ports_reply(__rte_unused const char *params, struct rte_tel_data *d)
{
	uint16_t ids[DPFWD_MAX_PORTS];
	char key[24];
	int i, n;

	rte_tel_data_start_dict(d);
	n = dpfwd_fwd_ports(ids, DPFWD_MAX_PORTS);
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "port_%d", i);
		add_child(d, key, port_dict(i, ids[i], ids, n));
	}
	return 0;
}

/* "sleep_lcore_L": how lcore L sleeps on a quiet wire, once it has measured. */
static void
add_sleep(struct rte_tel_data *d, uint32_t lcore)
{
	struct rte_tel_data *child;
	uint32_t cap, wake, ring;
	char key[32];

	if (dpfwd_fwd_sleep(lcore, &cap, &wake, &ring) != 0 || (child = rte_tel_data_alloc()) == NULL)
		return;
	rte_tel_data_start_dict(child);
	tel_dict_uint(child, "sleep_max_us", cap);
	tel_dict_uint(child, "wake_us", wake);
	tel_dict_uint(child, "ring_fill_us", ring);
	snprintf(key, sizeof(key), "sleep_lcore_%u", lcore);
	add_child(d, key, child);
}

/* The page sizes under a pool (kB; 4 with --no-huge): whether the 1 GB
 * pages an operator reserved at boot really hold the mbufs. */
struct page_sizes {
	uint64_t kb[4];
	unsigned int n;
};

static void
note_page_size(struct rte_mempool *mp __rte_unused, void *opaque,
	       struct rte_mempool_memhdr *memhdr, unsigned int mem_idx __rte_unused)
{
	struct page_sizes *ps = opaque;
	const struct rte_memseg_list *msl = rte_mem_virt2memseg_list(memhdr->addr);
	unsigned int i;

	if (msl == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		if (ps->kb[i] == msl->page_sz >> 10)
			return;
	if (ps->n < RTE_DIM(ps->kb))
		ps->kb[ps->n++] = msl->page_sz >> 10;
}

static void
add_page_kb(struct rte_tel_data *pool, struct rte_mempool *mp)
{
	struct page_sizes ps = { .n = 0 };
	struct rte_tel_data *arr = rte_tel_data_alloc();
	unsigned int i;

	if (arr == NULL)
		return;
	rte_mempool_mem_iter(mp, note_page_size, &ps);
	rte_tel_data_start_array(arr, RTE_TEL_INT_VAL);
	for (i = 0; i < ps.n; i++)
		rte_tel_data_add_array_int(arr, (int)ps.kb[i]);
	if (rte_tel_data_add_dict_container(pool, "page_kb", arr, 0) != 0)
		rte_tel_data_free(arr);
}

static int
info_reply(__rte_unused const char *params, struct rte_tel_data *d)
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
	rte_tel_data_add_dict_string(d, "mode", mode >= 0 ? dpfwd_mode_facts[mode].name : "stopped");
	rte_tel_data_add_dict_string(d, "idle", idle >= 0 ? dpfwd_idle_facts[idle].name : "none");
	tel_dict_uint(d, "uptime_s", (rte_get_tsc_cycles() - start_tsc) / rte_get_tsc_hz());
	tel_dict_uint(d, "forwarding", dpfwd_fwd_running());
	n = dpfwd_fwd_lcores(lcores, RTE_MAX_LCORE);
	lc = rte_tel_data_alloc();
	if (lc != NULL) {
		rte_tel_data_start_array(lc, RTE_TEL_INT_VAL);
		for (i = 0; i < (unsigned int)n; i++)
			rte_tel_data_add_array_int(lc, lcores[i]);
		if (rte_tel_data_add_dict_container(d, "lcores", lc, 0) != 0)
			rte_tel_data_free(lc);
	}
	for (i = 0; i < (unsigned int)n; i++)
		add_sleep(d, lcores[i]);
	for (i = 0; i < n_pools; i++) {
		pool = rte_tel_data_alloc();
		if (pool == NULL)
			continue;
		rte_tel_data_start_dict(pool);
		tel_dict_uint(pool, "size", pools[i]->size);
		tel_dict_uint(pool, "in_use", rte_mempool_in_use_count(pools[i]));
		tel_dict_uint(pool, "free", rte_mempool_avail_count(pools[i]));
		add_page_kb(pool, pools[i]);
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

/* Replies run on DPDK's telemetry thread while the main thread may be
 * shutting down: under the lock they see either the live state or, once
 * dpfwd_telemetry_stop() returned, only {"state": "stopping"}. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int stopping;

static int
guarded(int (*reply)(const char *, struct rte_tel_data *), const char *params, struct rte_tel_data *d)
{
	int ret = 0;

	pthread_mutex_lock(&lock);
	if (stopping) {
		rte_tel_data_start_dict(d);
		rte_tel_data_add_dict_string(d, "state", "stopping");
	} else {
		ret = reply(params, d);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

#define TEL_HANDLER(name) \
static int \
tel_##name(const char *cmd __rte_unused, const char *params, struct rte_tel_data *d) \
{ \
	return guarded(name##_reply, params, d); \
}
TEL_HANDLER(stats)
TEL_HANDLER(port_stats)
TEL_HANDLER(lcore_stats)
TEL_HANDLER(ports)
TEL_HANDLER(info)

int dpfwd_telemetry_stop(void)
{
	pthread_mutex_lock(&lock);
	stopping = 1;
	n_pools = 0;
	pthread_mutex_unlock(&lock);
	return 0;
}

int dpfwd_telemetry_register(const char *inst, const char *ver)
{
	int ret;

	if (inst == NULL || ver == NULL)
		return dpfwd_fail(EINVAL, "telemetry_register: no instance or version");
	snprintf(instance, sizeof(instance), "%s", inst);
	snprintf(version, sizeof(version), "%s", ver);
	if (start_tsc != 0)
		return 0;
	start_tsc = rte_get_tsc_cycles();
	ret = rte_telemetry_register_cmd("/dpfwd/stats", tel_stats,
		"dpfwd forwarding state, port count and lcores (counters: /dpfwd/port_stats, /dpfwd/lcore_stats). Takes no parameters");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dpfwd/port_stats", tel_port_stats,
			"dpfwd counters of one port and its queues. Parameters: the port's config index");
	if (ret == 0)
		ret = rte_telemetry_register_cmd("/dpfwd/lcore_stats", tel_lcore_stats,
			"dpfwd counters of one forwarding lcore. Parameters: the lcore id");
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
	if (pool == NULL)
		return dpfwd_fail(EINVAL, "telemetry: no mempool");
	pthread_mutex_lock(&lock);
	if (n_pools == MAX_POOLS) {
		pthread_mutex_unlock(&lock);
		return dpfwd_fail(ENOSPC, "telemetry: more than %u mempools", MAX_POOLS);
	}
	pools[n_pools++] = pool;
	pthread_mutex_unlock(&lock);
	return 0;
}
