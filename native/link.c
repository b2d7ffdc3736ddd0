/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Link state of the forwarded ports. A change is logged once, counted, and
 * tells the lcores whether a peer can send at all: while its link is down,
 * packets for it are dropped and counted at once instead of piling up in a
 * tx ring that cannot drain (and leaving, stale, when the link returns).
 *
 * A port whose PMD has a link-state interrupt (and whose caller said it can
 * be delivered: dpfwd_port_conf.link_interrupt) reports changes through
 * lsc_event() on EAL's interrupt thread as they happen. dpfwd_link_poll(),
 * which the main thread calls ten times a second, reads every watched port
 * as well: a port without the interrupt has no other way, and some PMDs with
 * one update the link without raising the event (net_tap); for them the read
 * is of what the interrupt last said, so it costs no device access. No
 * forwarding lcore ever reads a link. The caller must be sure the interrupt
 * can be delivered: where it cannot be set up (an e1000 under vfio-pci has no
 * MSI-X: "Error enabling MSI-X interrupts") the link would read down for good.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dpfwd.h"
#include "internal.h"

/* Unwatched ports (the Python API's own loops) count as up. */
volatile uint8_t dpfwd_link_up[DPFWD_MAX_PORTS] = {[0 ... DPFWD_MAX_PORTS - 1] = 1};
volatile uint32_t dpfwd_link_mbps[DPFWD_MAX_PORTS];
volatile uint32_t dpfwd_link_epoch;

static struct {
	uint8_t watched;
	uint8_t interrupt;      /* set up with the PMD's link-state interrupt */
	uint64_t changes;
} links[DPFWD_MAX_PORTS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Take the PMD's current link; log and count it when it changed. */
static void
link_check(uint16_t port, int first)
{
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN];
	int changed;

	/* The read too is under the lock: a PMD's link read is not thread-safe
	 * (e1000's sets and clears a flag in its shared state, so two reads at
	 * once can see a live link as down), and the interrupt thread calls this. */
	pthread_mutex_lock(&lock);
	if (rte_eth_link_get_nowait(port, &link) != 0) {
		pthread_mutex_unlock(&lock);
		return;
	}
	changed = !first && links[port].watched && dpfwd_link_up[port] != link.link_status;
	if (first || changed) {
		links[port].changes += changed;
		dpfwd_link_up[port] = link.link_status;
		dpfwd_link_mbps[port] = link.link_status && link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN ?
			link.link_speed : 0;
		dpfwd_link_epoch++;
	}
	pthread_mutex_unlock(&lock);
	if (!changed && !(first && link.link_status == RTE_ETH_LINK_DOWN))
		return;
	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		strcpy(name, "?");
	/* rte_eth_link_to_str is still experimental in 24.11: say it here. */
	if (link.link_status == RTE_ETH_LINK_DOWN)
		DPFWD_LOG(WARNING, "port %u (%s): link down; packets for it are dropped and counted (tx_link_down)",
			  port, name);
	else if (link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN || link.link_speed == RTE_ETH_SPEED_NUM_NONE)
		DPFWD_LOG(WARNING, "port %u (%s): link up; forwarding to it again", port, name);
	else
		DPFWD_LOG(WARNING, "port %u (%s): link up at %u Mb/s %s-duplex; forwarding to it again",
			  port, name, link.link_speed,
			  link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full" : "half");
}

static int
lsc_event(uint16_t port, enum rte_eth_event_type type __rte_unused,
	  void *arg __rte_unused, void *ret_param __rte_unused)
{
	if (port < DPFWD_MAX_PORTS && links[port].watched)
		link_check(port, 0);
	return 0;
}

void dpfwd_link_by_interrupt(uint16_t port_id, uint8_t on)
{
	if (port_id < DPFWD_MAX_PORTS)
		links[port_id].interrupt = on;
}

int dpfwd_link_interrupt(uint16_t port_id)
{
	return port_id < DPFWD_MAX_PORTS && links[port_id].interrupt;
}

int dpfwd_link_watch(uint16_t port_id)
{
	int ret;

	if (port_id >= DPFWD_MAX_PORTS || !rte_eth_dev_is_valid_port(port_id))
		return dpfwd_fail(ENODEV, "link_watch: no port %u", port_id);
	link_check(port_id, 1);
	pthread_mutex_lock(&lock);
	links[port_id].watched = 1;
	links[port_id].changes = 0;
	pthread_mutex_unlock(&lock);
	if (links[port_id].interrupt) {
		ret = rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, NULL);
		if (ret != 0)
			return dpfwd_fail(ret, "rte_eth_dev_callback_register: %s (port %u)",
					  rte_strerror(-ret), port_id);
	}
	return 0;
}

void dpfwd_link_poll(void)
{
	uint16_t port;

	for (port = 0; port < DPFWD_MAX_PORTS; port++)
		if (links[port].watched)
			link_check(port, 0);
}

void dpfwd_link_unwatch(uint16_t port_id)
{
	if (port_id >= DPFWD_MAX_PORTS)
		return;
	if (links[port_id].watched && links[port_id].interrupt)
		rte_eth_dev_callback_unregister(port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, NULL);
	pthread_mutex_lock(&lock);
	links[port_id].watched = 0;
	dpfwd_link_up[port_id] = 1;
	dpfwd_link_mbps[port_id] = 0;
	pthread_mutex_unlock(&lock);
}

/* The link for readers on other threads (telemetry): a watched port's is
 * what link_check() last read, never a read of its own (see above, and a
 * flap seen in the guest while `dpfwd ports` ran); an unwatched port's is
 * read under the same lock. */
int dpfwd_link_read(uint16_t port_id, struct rte_eth_link *link)
{
	int ret = 0;

	memset(link, 0, sizeof(*link));
	if (port_id >= DPFWD_MAX_PORTS)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	if (links[port_id].watched) {
		link->link_status = dpfwd_link_up[port_id];
		link->link_speed = dpfwd_link_mbps[port_id];
	} else {
		ret = rte_eth_link_get_nowait(port_id, link);
	}
	pthread_mutex_unlock(&lock);
	return ret;
}

uint64_t dpfwd_link_changes(uint16_t port_id)
{
	return port_id < DPFWD_MAX_PORTS ? links[port_id].changes : 0;
}
