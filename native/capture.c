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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_pdump.h>
#include <rte_ring.h>

#include "dpfwd.h"
#include "internal.h"

/* pdump copies packets into mbufs of one pool the forwarder makes when it
 * starts: a mempool can only be freed by the process that made it (it keeps
 * function pointers of that process), and a capture that dies by SIGKILL
 * could never free its own. Frames up to 9000 bytes fit one mbuf. */
#define CAPTURE_POOL "dpfwd_capture"
#define CAPTURE_RING_SIZE (DPFWD_CAPTURE_MBUFS + 1)
/* A capture's ring lives in the forwarder's memory under a name that says
 * whose it is and what it copies, so that the forwarder can find the ones
 * whose process died without stopping (SIGKILL) and have them released. */
#define RING_FORMAT "dcap_%u_%u_%u_%u"    /* pid, port, queue, flags */

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
	if (rte_mempool_lookup(CAPTURE_POOL) == NULL &&
	    rte_pktmbuf_pool_create(CAPTURE_POOL, DPFWD_CAPTURE_MBUFS, 256, 0,
				    dpfwd_pool_data_room(9000), SOCKET_ID_ANY) == NULL)
		return dpfwd_fail(rte_errno, "capture: cannot create its mempool: %s", rte_strerror(rte_errno));
	return 0;
}

static void
capture_free(struct dpfwd_capture *cap)
{
	rte_ring_free(cap->ring);
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
	cap->pool = rte_mempool_lookup(CAPTURE_POOL);
	if (cap->pool == NULL) {
		dpfwd_fail(ENOENT, "capture: the instance serves no capture (it was not started with memory: hugepages)");
		free(cap);
		return NULL;
	}
	snprintf(name, sizeof(name), RING_FORMAT, tag, port, queue, flags);
	cap->ring = rte_ring_create(name, CAPTURE_RING_SIZE, SOCKET_ID_ANY, 0);  /* pdump wants MP/MC */
	if (cap->ring == NULL) {
		dpfwd_fail(rte_errno, "capture: cannot create a ring in the forwarder's memory: %s",
			   rte_strerror(rte_errno));
		free(cap);
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

struct orphans {
	struct dpfwd_capture_owner *out;
	int max, n;
};

static void
find_orphan(const struct rte_memzone *mz, void *arg)
{
	struct orphans *o = arg;
	unsigned int pid, port, queue, flags;
	char tail;

	/* rings are memzones named "RG_<ring name>" */
	if (o->n >= o->max || sscanf(mz->name, "RG_" RING_FORMAT "%c", &pid, &port, &queue, &flags, &tail) != 4)
		return;
	if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
		return;     /* alive (or not ours to judge) */
	o->out[o->n++] = (struct dpfwd_capture_owner){.pid = pid, .port = port, .queue = queue, .flags = flags};
}

int dpfwd_capture_orphans(struct dpfwd_capture_owner *out, int max)
{
	struct orphans o = {.out = out, .max = max, .n = 0};

	if (out == NULL || max <= 0)
		return dpfwd_fail(EINVAL, "capture_orphans: nowhere to put them");
	rte_memzone_walk(find_orphan, &o);
	return o.n;
}

int dpfwd_capture_release(const struct dpfwd_capture_owner *owner)
{
	struct dpfwd_capture *cap;
	char name[RTE_RING_NAMESIZE];

	if (owner == NULL)
		return dpfwd_fail(EINVAL, "capture_release: no capture");
	cap = calloc(1, sizeof(*cap));
	if (cap == NULL)
		return dpfwd_fail(ENOMEM, "capture_release: out of memory");
	cap->port = owner->port;
	cap->queue = owner->queue;
	cap->flags = owner->flags;
	snprintf(name, sizeof(name), RING_FORMAT, owner->pid, owner->port, owner->queue, owner->flags);
	cap->ring = rte_ring_lookup(name);
	cap->pool = rte_mempool_lookup(CAPTURE_POOL);
	if (cap->ring == NULL) {
		free(cap);
		return dpfwd_fail(ENOENT, "capture_release: no capture by process %u", owner->pid);
	}
	return dpfwd_capture_stop(cap);
}
