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
#include <net/if.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "dpfwd.h"
#include "internal.h"

/* Unwatched ports (the Python API's own loops) count as up. */
volatile uint8_t dpfwd_link_up[DPFWD_MAX_PORTS] = {[0 ... DPFWD_MAX_PORTS - 1] = 1};
volatile uint32_t dpfwd_link_mbps[DPFWD_MAX_PORTS];
volatile uint32_t dpfwd_link_epoch;

/* Link-fault propagation: a link that has not settled (just watched, or just
 * set up again) is not held against its peer for this long, so that a link
 * still coming up does not take the peer down. */
#define LINK_SETTLE_MS 3000

static struct {
	uint8_t watched;
	uint8_t interrupt;      /* set up with the PMD's link-state interrupt */
	uint64_t changes;
	/* propagation: the port whose faults this one follows (-1: none), the
	 * port whose lost link holds this one down (-1: none) */
	int16_t peer;
	int16_t held_by;
	uint64_t settled_tsc;   /* before this, this port's link holds nothing down */
	uint64_t propagations;  /* times it was set down for its peer */
} links[DPFWD_MAX_PORTS] = {[0 ... DPFWD_MAX_PORTS - 1] = {.peer = -1, .held_by = -1}};
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Ports opened through a kernel interface (net_af_packet): their PMD reports
 * the link up whatever the carrier and cannot set it down (DPDK 22.11), so
 * their link is the kernel interface's, read and set with SIOC[GS]IFFLAGS. */
static char kernel_if[DPFWD_MAX_PORTS][IF_NAMESIZE];

static int
kernel_flags(const char *ifname, short set, short clear, short *flags)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0) {
		ret = -errno;
	} else if (set || clear) {
		ifr.ifr_flags = (short)((ifr.ifr_flags | set) & ~clear);
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
			ret = -errno;
	}
	if (flags != NULL)
		*flags = ifr.ifr_flags;
	close(fd);
	return ret;
}

/* The link of a port, set by dpfwd: the PMD's call, or the kernel's. */
static int
set_link(uint16_t port, int up)
{
	if (kernel_if[port][0] != '\0')
		return kernel_flags(kernel_if[port], up ? IFF_UP : 0, up ? 0 : IFF_UP, NULL);
	return up ? rte_eth_dev_set_link_up(port) : rte_eth_dev_set_link_down(port);
}

int dpfwd_link_kernel(uint16_t port_id, const char *ifname)
{
	if (port_id >= DPFWD_MAX_PORTS || ifname == NULL || strlen(ifname) >= IF_NAMESIZE)
		return dpfwd_fail(EINVAL, "link_kernel: port %u, interface %s", port_id, ifname ? ifname : "none");
	snprintf(kernel_if[port_id], IF_NAMESIZE, "%s", ifname);
	return 0;
}

static void
port_name(uint16_t port, char *name)
{
	if (rte_eth_dev_get_name_by_port(port, name) != 0)
		strcpy(name, "?");
}

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
	if (kernel_if[port][0] != '\0') {
		short flags = 0;

		if (kernel_flags(kernel_if[port], 0, 0, &flags) == 0)
			link.link_status = (flags & IFF_RUNNING) ? RTE_ETH_LINK_UP : RTE_ETH_LINK_DOWN;
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
	port_name(port, name);
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
	links[port_id].propagations = 0;
	links[port_id].settled_tsc = rte_get_tsc_cycles() + rte_get_tsc_hz() * LINK_SETTLE_MS / 1000;
	pthread_mutex_unlock(&lock);
	if (links[port_id].interrupt) {
		ret = rte_eth_dev_callback_register(port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, NULL);
		if (ret != 0)
			return dpfwd_fail(ret, "rte_eth_dev_callback_register: %s (port %u)",
					  rte_strerror(-ret), port_id);
	}
	return 0;
}

/* Set a port's link down for its peer (hold) or up again (release). The
 * PMD's own link change follows, by interrupt or by the next poll. */
static void
propagate(uint16_t port, int16_t cause, int hold)
{
	char name[RTE_ETH_NAME_MAX_LEN], cause_name[RTE_ETH_NAME_MAX_LEN];
	int ret;

	port_name(port, name);
	port_name(cause, cause_name);
	pthread_mutex_lock(&lock);
	links[port].held_by = hold ? cause : -1;
	if (!hold)
		links[port].settled_tsc = rte_get_tsc_cycles() + rte_get_tsc_hz() * LINK_SETTLE_MS / 1000;
	pthread_mutex_unlock(&lock);
	ret = set_link(port, !hold);
	if (ret != 0) {
		DPFWD_LOG(ERR, "port %u (%s): cannot set its link %s for port %u (%s): %s",
			  port, name, hold ? "down" : "up", cause, cause_name, rte_strerror(-ret));
		if (hold) {
			pthread_mutex_lock(&lock);
			links[port].held_by = -1;
			links[port].peer = -1;     /* do not try again each poll */
			pthread_mutex_unlock(&lock);
		}
		return;
	}
	if (hold) {
		links[port].propagations++;
		DPFWD_LOG(WARNING, "port %u (%s): link set down, as its peer port %u (%s) has no link (link propagation)",
			  port, name, cause, cause_name);
	} else {
		DPFWD_LOG(WARNING, "port %u (%s): link set up again, as its peer port %u (%s) has its link back",
			  port, name, cause, cause_name);
	}
}

/* A settled port without link holds its peer down; once it has its link
 * back, it lets the peer go. A port that is held down itself holds nothing:
 * its lost link is dpfwd's doing. */
static void
propagate_faults(void)
{
	uint64_t now = rte_get_tsc_cycles();
	uint16_t port;
	int16_t peer;

	for (port = 0; port < DPFWD_MAX_PORTS; port++) {
		peer = links[port].peer;
		if (!links[port].watched || peer < 0 || !links[peer].watched || links[port].held_by >= 0 ||
		    now < links[port].settled_tsc)
			continue;
		if (!dpfwd_link_up[port] && links[peer].held_by < 0)
			propagate(peer, port, 1);
		else if (dpfwd_link_up[port] && links[peer].held_by == port)
			propagate(peer, port, 0);
	}
}

void dpfwd_link_poll(void)
{
	uint16_t port;

	for (port = 0; port < DPFWD_MAX_PORTS; port++)
		if (links[port].watched)
			link_check(port, 0);
	propagate_faults();
}

int dpfwd_link_propagation(uint16_t port_id, uint16_t peer_id, uint8_t on)
{
	if (port_id >= DPFWD_MAX_PORTS || peer_id >= DPFWD_MAX_PORTS || port_id == peer_id)
		return dpfwd_fail(EINVAL, "link_propagation: ports %u and %u", port_id, peer_id);
	if (on) {
		links[port_id].peer = peer_id;
		links[peer_id].peer = port_id;
		/* dpfwd owns these links: one a dpfwd killed while holding it
		 * down left down (a tap's or af_packet's kernel interface) comes
		 * back. A PMD without the call has no such state to leave. */
		set_link(port_id, 1);
		set_link(peer_id, 1);
		return 0;
	}
	/* Off: let go of a port this pair holds down. */
	if (links[peer_id].held_by == port_id)
		propagate(peer_id, port_id, 0);
	if (links[port_id].held_by == peer_id)
		propagate(port_id, peer_id, 0);
	links[port_id].peer = -1;
	links[peer_id].peer = -1;
	return 0;
}

int dpfwd_link_held_by(uint16_t port_id)
{
	return port_id < DPFWD_MAX_PORTS ? links[port_id].held_by : -1;
}

uint64_t dpfwd_link_propagations(uint16_t port_id)
{
	return port_id < DPFWD_MAX_PORTS ? links[port_id].propagations : 0;
}

void dpfwd_link_unwatch(uint16_t port_id)
{
	if (port_id >= DPFWD_MAX_PORTS)
		return;
	if (links[port_id].watched && links[port_id].interrupt)
		rte_eth_dev_callback_unregister(port_id, RTE_ETH_EVENT_INTR_LSC, lsc_event, NULL);
	/* A link dpfwd set down must not stay down after dpfwd (an af_packet
	 * or tap port's kernel interface would). */
	if (links[port_id].held_by >= 0)
		propagate(port_id, links[port_id].held_by, 0);
	pthread_mutex_lock(&lock);
	links[port_id].peer = -1;
	kernel_if[port_id][0] = '\0';
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
