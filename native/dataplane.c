/* SPDX-License-Identifier: BSD-3-Clause
 *
 * EAL, mempools and port setup. Every helper returns a negative errno and
 * leaves a message naming the call, the error and the port in dpfwd_errmsg();
 * only the Python caller decides whether that is fatal.
 */
/* rte_power_ethdev_pmgmt_queue_enable is experimental in 22.11 and 24.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_cpuflags.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_power_pmd_mgmt.h>
#include <rte_version.h>

#include "dpfwd.h"
#include "internal.h"

/* Room for QinQ tags and the CRC on top of the MTU. */
#define FRAME_OVERHEAD (RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 2 * RTE_VLAN_HLEN)
#define RSS_HASH_FUNCTIONS (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP)

RTE_LOG_REGISTER_DEFAULT(dpfwd_logtype, INFO);

static RTE_DEFINE_PER_LCORE(char, errmsg[512]);

const char *dpfwd_errmsg(void)
{
	return RTE_PER_LCORE(errmsg);
}

int dpfwd_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(RTE_PER_LCORE(errmsg), sizeof(RTE_PER_LCORE(errmsg)), fmt, ap);
	va_end(ap);
	/* Some EAL failures set no rte_errno: a failure must never read as success. */
	return err < 0 ? err : err > 0 ? -err : -EIO;
}

const char *dpfwd_dpdk_version(void)
{
	return rte_version();
}

int dpfwd_eal_init(int argc, char **argv)
{
	char said[200];
	int ret;

	if (argc < 1 || argv == NULL)
		return dpfwd_fail(EINVAL, "rte_eal_init: no arguments");
	dpfwd_log_forget();
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		/* Not every EAL failure sets rte_errno (a secondary finding no primary does not). */
		int err = rte_errno ? rte_errno : EIO;

		dpfwd_log_recent(said, sizeof(said));
		return dpfwd_fail(err, "rte_eal_init: %s%s%s", rte_strerror(err),
				  said[0] ? "; DPDK said: " : "", said);
	}
	return ret;
}

int dpfwd_eal_cleanup(void)
{
	int ret;

	dpfwd_burst_forbid_all();
	ret = rte_eal_cleanup();

	if (ret < 0)
		return dpfwd_fail(ret, "rte_eal_cleanup: %s", rte_strerror(-ret));
	return 0;
}

/* A port id the calls below may use, or -ENODEV with the message. */
static int
check_port(uint16_t port_id, const char *call)
{
	if (!rte_eth_dev_is_valid_port(port_id))
		return dpfwd_fail(ENODEV, "%s: no port %u", call, port_id);
	return 0;
}

#define CHECK_ARGS(cond, call) \
	do { if (!(cond)) return dpfwd_fail(EINVAL, "%s: invalid arguments (%s)", call, #cond); } while (0)

int dpfwd_port_probe(const char *devargs)
{
	int ret;

	CHECK_ARGS(devargs != NULL, "rte_dev_probe");
	ret = rte_dev_probe(devargs);

	if (ret < 0)
		return dpfwd_fail(ret, "rte_dev_probe(%s): %s", devargs, rte_strerror(-ret));
	return 0;
}

int dpfwd_port_by_name(const char *name, uint16_t *port_id)
{
	int ret;

	CHECK_ARGS(name != NULL && port_id != NULL, "port_by_name");
	ret = rte_eth_dev_get_port_by_name(name, port_id);

	if (ret < 0)
		return dpfwd_fail(-ENODEV, "no DPDK port named %s", name);
	return 0;
}

int dpfwd_port_name(uint16_t port_id, char *buf, uint32_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	int ret;

	CHECK_ARGS(buf != NULL && len > 0, "port_name");
	ret = rte_eth_dev_get_name_by_port(port_id, name);
	if (ret < 0)
		return dpfwd_fail(ret, "port %u: no such port", port_id);
	snprintf(buf, len, "%s", name);
	return 0;
}

int dpfwd_port_count(void)
{
	return rte_eth_dev_count_avail();
}

int dpfwd_port_valid(uint16_t port_id)
{
	return rte_eth_dev_is_valid_port(port_id);
}

int dpfwd_port_socket(uint16_t port_id)
{
	return rte_eth_dev_socket_id(port_id);
}

int dpfwd_port_mac(uint16_t port_id, uint8_t *mac)
{
	struct rte_ether_addr addr;
	int ret;

	CHECK_ARGS(mac != NULL, "port_mac");
	ret = rte_eth_macaddr_get(port_id, &addr);
	if (ret < 0)
		return dpfwd_fail(ret, "rte_eth_macaddr_get: %s (port %u)",
				  rte_strerror(-ret), port_id);
	memcpy(mac, addr.addr_bytes, RTE_ETHER_ADDR_LEN);
	return 0;
}

uint32_t dpfwd_pool_data_room(uint32_t mtu)
{
	uint32_t room = mtu + FRAME_OVERHEAD + RTE_PKTMBUF_HEADROOM;

	return RTE_MAX(room, (uint32_t)RTE_MBUF_DEFAULT_BUF_SIZE);
}

struct rte_mempool *dpfwd_pool_create(const char *name, uint32_t n,
				      uint32_t cache, uint32_t data_room,
				      int32_t socket)
{
	struct rte_mempool *pool;

	if (name == NULL || n == 0) {
		dpfwd_fail(EINVAL, "rte_pktmbuf_pool_create: a name and one mbuf or more, please");
		return NULL;
	}
	if (data_room > UINT16_MAX) {
		dpfwd_fail(EINVAL, "mempool %s: data room %u is above %u", name,
			   data_room, UINT16_MAX);
		return NULL;
	}
	pool = rte_pktmbuf_pool_create(name, n, cache, 0, data_room, socket);
	if (pool == NULL)
		dpfwd_fail(rte_errno, "rte_pktmbuf_pool_create(%s, %u mbufs of %u B, socket %d): %s",
			   name, n, data_room, socket, rte_strerror(rte_errno));
	return pool;
}

struct rte_mempool *dpfwd_pool_lookup(const char *name)
{
	struct rte_mempool *pool = name == NULL ? NULL : rte_mempool_lookup(name);

	if (pool == NULL)
		dpfwd_fail(ENOENT, "rte_mempool_lookup: no mempool %s in this instance", name ? name : "(null)");
	return pool;
}

void dpfwd_pool_free(struct rte_mempool *pool)
{
	rte_mempool_free(pool);
}

uint32_t dpfwd_pool_in_use(const struct rte_mempool *pool)
{
	return pool == NULL ? 0 : rte_mempool_in_use_count(pool);
}

uint32_t dpfwd_pool_available(const struct rte_mempool *pool)
{
	return pool == NULL ? 0 : rte_mempool_avail_count(pool);
}

/* Offloads the port needs to carry frames longer than one mbuf. */
static void
port_offloads(const struct rte_eth_dev_info *info, uint32_t frame,
	      uint32_t mbuf_room, struct rte_eth_conf *port_conf)
{
	if (frame <= mbuf_room)
		return;
	if (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
		port_conf->rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
	if (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		port_conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
}

int dpfwd_port_setup(uint16_t port_id, const struct dpfwd_port_conf *conf,
		     struct rte_mempool *pool, struct dpfwd_port_report *report)
{
	struct rte_eth_conf port_conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	uint16_t nb_rxd, nb_txd;
	uint32_t mbuf_room;
	int socket;
	uint16_t q;
	int ret;

	CHECK_ARGS(conf != NULL && pool != NULL && report != NULL, "port_setup");
	ret = check_port(port_id, "port_setup");
	if (ret < 0)
		return ret;
	nb_rxd = conf->rx_descriptors;
	nb_txd = conf->tx_descriptors;
	socket = rte_eth_dev_socket_id(port_id);
	memset(&port_conf, 0, sizeof(port_conf));
	memset(report, 0, sizeof(*report));
	report->socket = socket;

	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret != 0)
		return dpfwd_fail(ret, "rte_eth_dev_info_get: %s (port %u)",
				  rte_strerror(-ret), port_id);
	if (conf->rx_queues > info.max_rx_queues || conf->tx_queues > info.max_tx_queues)
		return dpfwd_fail(EINVAL, "port %u: %u rx / %u tx queues asked, the PMD allows %u / %u",
				  port_id, conf->rx_queues, conf->tx_queues,
				  info.max_rx_queues, info.max_tx_queues);
	if (conf->mtu < info.min_mtu || conf->mtu > info.max_mtu)
		return dpfwd_fail(EINVAL, "port %u: mtu %u is outside the PMD's range %u..%u",
				  port_id, conf->mtu, info.min_mtu, info.max_mtu);

	port_conf.rxmode.mtu = conf->mtu;
	mbuf_room = rte_pktmbuf_data_room_size(pool) - RTE_PKTMBUF_HEADROOM;
	port_offloads(&info, conf->mtu + FRAME_OVERHEAD, mbuf_room, &port_conf);

	/* Spread rx over the queues by flow when the PMD can hash. */
	if (conf->rx_queues > 1 && (info.flow_type_rss_offloads & RSS_HASH_FUNCTIONS)) {
		port_conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		port_conf.rx_adv_conf.rss_conf.rss_hf =
			info.flow_type_rss_offloads & RSS_HASH_FUNCTIONS;
		report->rss = 1;
	}

	/* A link change then reaches dpfwd_link_* at once (link.c). */
	if (conf->link_interrupt && info.dev_flags != NULL && (*info.dev_flags & RTE_ETH_DEV_INTR_LSC)) {
		port_conf.intr_conf.lsc = 1;
		report->link_interrupt = 1;
	}
	dpfwd_link_by_interrupt(port_id, report->link_interrupt);

	ret = rte_eth_dev_configure(port_id, conf->rx_queues, conf->tx_queues, &port_conf);
	if (ret != 0)
		return dpfwd_fail(ret, "rte_eth_dev_configure: %s (port %u)",
				  rte_strerror(-ret), port_id);

	/* Fit the rings to what the PMD supports; the caller reports changes. */
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret != 0)
		return dpfwd_fail(ret, "rte_eth_dev_adjust_nb_rx_tx_desc: %s (port %u)",
				  rte_strerror(-ret), port_id);
	report->rx_descriptors = nb_rxd;
	report->tx_descriptors = nb_txd;

	rxconf = info.default_rxconf;
	rxconf.offloads = port_conf.rxmode.offloads;
	for (q = 0; q < conf->rx_queues; q++) {
		ret = rte_eth_rx_queue_setup(port_id, q, nb_rxd, socket, &rxconf, pool);
		if (ret < 0)
			return dpfwd_fail(ret, "rte_eth_rx_queue_setup: %s (port %u, queue %u)",
					  rte_strerror(-ret), port_id, q);
	}

	txconf = info.default_txconf;
	txconf.offloads = port_conf.txmode.offloads;
	for (q = 0; q < conf->tx_queues; q++) {
		ret = rte_eth_tx_queue_setup(port_id, q, nb_txd, socket, &txconf);
		if (ret < 0)
			return dpfwd_fail(ret, "rte_eth_tx_queue_setup: %s (port %u, queue %u)",
					  rte_strerror(-ret), port_id, q);
	}

	return 0;
}

/* Returns 1 when promiscuous mode is on; some virtual PMDs have none. */
int dpfwd_port_start(uint16_t port_id, uint8_t promiscuous)
{
	struct rte_eth_dev_info info;
	int ret = check_port(port_id, "rte_eth_dev_start");

	if (ret < 0)
		return ret;
	ret = rte_eth_dev_start(port_id);
	if (ret < 0)
		return dpfwd_fail(ret, "rte_eth_dev_start: %s (port %u)",
				  rte_strerror(-ret), port_id);
	if (rte_eth_dev_info_get(port_id, &info) == 0)
		dpfwd_burst_allow(port_id, info.nb_rx_queues, info.nb_tx_queues);
	return promiscuous && rte_eth_promiscuous_enable(port_id) == 0;
}

int dpfwd_idle_monitor_supported(void)
{
	struct rte_cpu_intrinsics intr;

	rte_cpu_get_intrinsics_support(&intr);
	return intr.power_monitor;
}

/* Must run before the port starts: DPDK wants the queue stopped. */
int dpfwd_port_power_monitor(uint16_t port_id, uint16_t queue, uint32_t lcore)
{
	int ret = check_port(port_id, "rte_power_ethdev_pmgmt_queue_enable");

	if (ret < 0)
		return ret;
	ret = rte_power_ethdev_pmgmt_queue_enable(lcore, port_id, queue,
						  RTE_POWER_MGMT_TYPE_MONITOR);

	if (ret < 0)
		return dpfwd_fail(ret, "rte_power_ethdev_pmgmt_queue_enable: %s (port %u, queue %u); "
				  "the PMD cannot be monitored: use idle sleep",
				  rte_strerror(-ret), port_id, queue);
	return 0;
}

void dpfwd_port_power_monitor_off(uint16_t port_id, uint16_t queue, uint32_t lcore)
{
	if (rte_eth_dev_is_valid_port(port_id))
		rte_power_ethdev_pmgmt_queue_disable(lcore, port_id, queue);
}

int dpfwd_port_close(uint16_t port_id)
{
	int ret = check_port(port_id, "rte_eth_dev_close");

	if (ret < 0)
		return ret;
	dpfwd_burst_allow(port_id, 0, 0);
	dpfwd_link_unwatch(port_id);
	ret = rte_eth_dev_stop(port_id);

	if (ret != 0)
		return dpfwd_fail(ret, "rte_eth_dev_stop: %s (port %u)",
				  rte_strerror(-ret), port_id);
	ret = rte_eth_dev_close(port_id);
	if (ret != 0)
		return dpfwd_fail(ret, "rte_eth_dev_close: %s (port %u)",
				  rte_strerror(-ret), port_id);
	return 0;
}
