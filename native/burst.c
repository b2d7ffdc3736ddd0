/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Shims over DPDK's static inline burst and mbuf calls, so that the Python
 * API can hold mbufs without copying them. The forwarder never uses these.
 */
#include <errno.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dpfwd.h"
#include "internal.h"

uint16_t dpfwd_rx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(port_id, queue, pkts, n);
}

uint16_t dpfwd_tx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(port_id, queue, pkts, n);
}

void dpfwd_mbuf_free_bulk(struct rte_mbuf **pkts, uint32_t n)
{
	rte_pktmbuf_free_bulk(pkts, n);
}

struct rte_mbuf *dpfwd_mbuf_alloc(struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		dpfwd_fail(ENOBUFS, "rte_pktmbuf_alloc: mempool %s is empty", pool->name);
	return m;
}

/* The first segment's bytes; *len is that segment's length. */
uint8_t *dpfwd_mbuf_data(struct rte_mbuf *m, uint32_t *len)
{
	*len = rte_pktmbuf_data_len(m);
	return rte_pktmbuf_mtod(m, uint8_t *);
}

uint32_t dpfwd_mbuf_pkt_len(const struct rte_mbuf *m)
{
	return rte_pktmbuf_pkt_len(m);
}

uint16_t dpfwd_mbuf_segments(const struct rte_mbuf *m)
{
	return m->nb_segs;
}

/* Size a single-segment mbuf to len bytes, within its buffer. */
int dpfwd_mbuf_set_len(struct rte_mbuf *m, uint32_t len)
{
	uint32_t room = rte_pktmbuf_data_room_size(m->pool) - rte_pktmbuf_headroom(m);

	if (m->nb_segs != 1)
		return dpfwd_fail(EINVAL, "set_len: mbuf has %u segments", m->nb_segs);
	if (len > room)
		return dpfwd_fail(EMSGSIZE, "set_len: %u B is more than the mbuf's %u B", len, room);
	m->data_len = (uint16_t)len;
	m->pkt_len = len;
	return 0;
}
