/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Live capture through DPDK's pdump framework. The forwarding process (the
 * primary) answers pdump requests; `dpfwd capture`, a secondary process,
 * asks it to copy a port's packets into a ring and mempool of its own and
 * drains them. Copies happen on the forwarding lcores only while a capture
 * is on.
 */
/* rte_pdump_stats is experimental in 22.11; the drop counts are worth it. */
#define ALLOW_EXPERIMENTAL_API 1

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "dpfwd.h"
#include "internal.h"

#define CAPTURE_RING_SIZE 16384

struct dpfwd_capture {
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint16_t port;
	uint16_t queue;
	uint32_t flags;
};

int dpfwd_pdump_init(void)
{
	int ret = rte_pdump_init();

	if (ret < 0)
		return dpfwd_fail(rte_errno, "rte_pdump_init: %s", rte_strerror(rte_errno));
	return 0;
}

static void
capture_free(struct dpfwd_capture *cap)
{
	rte_ring_free(cap->ring);
	rte_mempool_free(cap->pool);
	free(cap);
}

struct dpfwd_capture *dpfwd_capture_start(uint16_t port, uint16_t queue,
					  uint32_t flags, uint32_t tag)
{
	struct dpfwd_capture *cap;
	char name[RTE_RING_NAMESIZE];

	if (!rte_eth_dev_is_valid_port(port) || flags == 0 || flags > 3) {
		dpfwd_fail(EINVAL, "capture: no port %u, or flags %u are not rx (1), tx (2) or both (3)",
			   port, flags);
		return NULL;
	}
	cap = calloc(1, sizeof(*cap));
	if (cap == NULL) {
		dpfwd_fail(ENOMEM, "capture: out of memory");
		return NULL;
	}
	cap->port = port;
	cap->queue = queue;
	cap->flags = flags;
	/* The ring and pool live in the forwarder's shared memory: unique names. */
	snprintf(name, sizeof(name), "dpfwd_cap_r%u", tag);
	cap->ring = rte_ring_create(name, CAPTURE_RING_SIZE, SOCKET_ID_ANY, 0);  /* pdump wants MP/MC */
	snprintf(name, sizeof(name), "dpfwd_cap_p%u", tag);
	cap->pool = rte_pktmbuf_pool_create(name, CAPTURE_RING_SIZE * 2 - 1, 256, 0,
					    dpfwd_pool_data_room(9000), SOCKET_ID_ANY);
	if (cap->ring == NULL || cap->pool == NULL) {
		dpfwd_fail(rte_errno, "capture: cannot create ring and mempool in the forwarder's memory: %s",
			   rte_strerror(rte_errno));
		capture_free(cap);
		return NULL;
	}
	if (rte_pdump_enable(port, queue, flags, cap->ring, cap->pool, NULL) < 0) {
		dpfwd_fail(rte_errno, "rte_pdump_enable: %s (port %u)", rte_strerror(rte_errno), port);
		capture_free(cap);
		return NULL;
	}
	return cap;
}

uint32_t dpfwd_capture_read(struct dpfwd_capture *cap, struct rte_mbuf **pkts, uint32_t n)
{
	if (cap == NULL || pkts == NULL)
		return 0;
	return rte_ring_dequeue_burst(cap->ring, (void **)pkts, n, NULL);
}

int dpfwd_capture_stop(struct dpfwd_capture *cap)
{
	struct rte_mbuf *pkts[64];
	unsigned int n;
	int ret;

	if (cap == NULL)
		return dpfwd_fail(EINVAL, "capture_stop: no capture");
	ret = rte_pdump_disable(cap->port, cap->queue, cap->flags);

	while ((n = rte_ring_dequeue_burst(cap->ring, (void **)pkts, 64, NULL)) > 0)
		rte_pktmbuf_free_bulk(pkts, n);
	capture_free(cap);
	if (ret < 0)
		return dpfwd_fail(rte_errno, "rte_pdump_disable: %s", rte_strerror(rte_errno));
	return 0;
}

int dpfwd_capture_stats(uint16_t port, uint64_t *ringfull, uint64_t *nombuf)
{
	struct rte_pdump_stats st;
	int ret;

	if (ringfull == NULL || nombuf == NULL)
		return dpfwd_fail(EINVAL, "capture_stats: nowhere to put them");
	ret = rte_pdump_stats(port, &st);

	if (ret < 0)
		return dpfwd_fail(rte_errno, "rte_pdump_stats: %s (port %u)", rte_strerror(rte_errno), port);
	*ringfull = st.ringfull;
	*nombuf = st.nombuf;
	return 0;
}
