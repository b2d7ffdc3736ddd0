/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shims over DPDK's static inline burst and mbuf calls, so that the Python
 * API can hold mbufs without copying them. The forwarder never uses these.
 */
#include <errno.h>
#include <string.h>

#include <rte_branch_prediction.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpfwd.h"
#include "internal.h"

/* DPDK hands whatever queue pointer it has to the PMD: a queue that was
 * never set up, or a closed port, must be refused before the call. Our own
 * memory, so the check holds after rte_eal_cleanup too. */
static uint16_t rx_allowed[RTE_MAX_ETHPORTS];
static uint16_t tx_allowed[RTE_MAX_ETHPORTS];

void dpfwd_burst_allow(uint16_t port_id, uint16_t rx_queues, uint16_t tx_queues)
{
	if (port_id < RTE_MAX_ETHPORTS) {
		rx_allowed[port_id] = rx_queues;
		tx_allowed[port_id] = tx_queues;
	}
}

void dpfwd_burst_forbid_all(void)
{
	memset(rx_allowed, 0, sizeof(rx_allowed));
	memset(tx_allowed, 0, sizeof(tx_allowed));
}

uint16_t dpfwd_rx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(port_id >= RTE_MAX_ETHPORTS || queue >= rx_allowed[port_id] ||
		     pkts == NULL || n >= DPFWD_BURST_INVALID))
		return DPFWD_BURST_INVALID;
	return rte_eth_rx_burst(port_id, queue, pkts, n);
}

uint16_t dpfwd_tx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n)
{
	if (unlikely(port_id >= RTE_MAX_ETHPORTS || queue >= tx_allowed[port_id] ||
		     pkts == NULL || n >= DPFWD_BURST_INVALID))
		return DPFWD_BURST_INVALID;
	return rte_eth_tx_burst(port_id, queue, pkts, n);
}

void dpfwd_mbuf_free_bulk(struct rte_mbuf **pkts, uint32_t n)
{
	if (pkts != NULL)
		rte_pktmbuf_free_bulk(pkts, n);
}

struct rte_mbuf *dpfwd_mbuf_alloc(struct rte_mempool *pool)
{
	struct rte_mbuf *m;

	if (pool == NULL) {
		dpfwd_fail(EINVAL, "rte_pktmbuf_alloc: no mempool");
		return NULL;
	}
	m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		dpfwd_fail(ENOBUFS, "rte_pktmbuf_alloc: mempool %s is empty", pool->name);
	return m;
}

/* The first segment's bytes; *len is that segment's length. */
uint8_t *dpfwd_mbuf_data(struct rte_mbuf *m, uint32_t *len)
{
	if (m == NULL || len == NULL)
		return NULL;
	*len = rte_pktmbuf_data_len(m);
	return rte_pktmbuf_mtod(m, uint8_t *);
}

uint32_t dpfwd_mbuf_pkt_len(const struct rte_mbuf *m)
{
	return m == NULL ? 0 : rte_pktmbuf_pkt_len(m);
}

uint16_t dpfwd_mbuf_segments(const struct rte_mbuf *m)
{
	return m == NULL ? 0 : m->nb_segs;
}

/* Size a single-segment mbuf to len bytes, within its buffer. */
int dpfwd_mbuf_set_len(struct rte_mbuf *m, uint32_t len)
{
	uint32_t room;

	if (m == NULL)
		return dpfwd_fail(EINVAL, "set_len: no mbuf");
	room = rte_pktmbuf_data_room_size(m->pool) - rte_pktmbuf_headroom(m);
	if (m->nb_segs != 1)
		return dpfwd_fail(EINVAL, "set_len: mbuf has %u segments", m->nb_segs);
	if (len > room)
		return dpfwd_fail(EMSGSIZE, "set_len: %u B is more than the mbuf's %u B", len, room);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return 0;
}
