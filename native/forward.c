/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The forwarding loop and its counters.
 *
 * Each worker lcore polls its own list of (port, queue) tasks: rx_burst,
 * optional MAC rewrite, tx_burst to the same queue of the peer port, and
 * unsent mbufs freed and counted. Counters live in the lcore's own
 * cache-aligned state and are written only by that lcore; readers add
 * them up on demand (aligned 64-bit loads do not tear on the CPUs DPDK
 * supports), so the loop has no atomics and no locks.
 */
/* rte_power_monitor_wakeup is experimental in 22.11 and 24.11. */
#define ALLOW_EXPERIMENTAL_API 1

#include <assert.h>
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_power_intrinsics.h>
#include <sys/prctl.h>

#include "dpfwd.h"
#include "internal.h"

/* Idle policy: after this many polling rounds with no packet, back off. */
#define IDLE_AFTER_EMPTY_ROUNDS 256
#define PAUSE_SPINS 64
/* Sleeps double from the first up to the lcore's cap while the wire stays
 * quiet. The cap keeps the rx rings from overflowing while the lcore sleeps:
 * a ring of D descriptors at its port's line rate (64-byte frames) fills in
 * D * 672 / (Mb/s) us, and the lcore sleeps at most half of that, less twice
 * the longest wake-up delay it measured when it started (a sleep lasts what
 * was asked plus that delay). A port of unknown speed counts as 10G. When
 * nothing is left, the lcore never sleeps: it spins on pause. The last
 * bounds the latency added to the first packet after a quiet spell. */
#define SLEEP_FIRST_US 1
#define SLEEP_LAST_US 500
#define WIRE_BITS_PER_MIN_FRAME 672   /* 64 B frame + 8 B preamble + 12 B gap */
#define ASSUMED_MBPS 10000
#define WAKE_SAMPLES 32
/* Timer slack for sleeping lcores (ns): the default 50 us would swamp short sleeps. */
#define SLEEP_TIMER_SLACK_NS 1000

/* cffi cannot read macros in array bounds, so the header spells numbers. */
static_assert(sizeof(((struct dpfwd_fwd_conf *)0)->tasks) ==
	      DPFWD_MAX_TASKS * sizeof(struct dpfwd_task), "tasks bound");
static_assert(sizeof(((struct dpfwd_fwd_conf *)0)->max_frame) ==
	      DPFWD_MAX_PORTS * sizeof(uint32_t), "ports bound");
static_assert(sizeof(((struct dpfwd_fwd_conf *)0)->port_ids) ==
	      DPFWD_MAX_PORTS * sizeof(uint16_t), "config ports bound");
/* Every lcore id the config takes must be one EAL has (arm64 builds have more). */
static_assert(DPFWD_MAX_LCORES <= RTE_MAX_LCORE, "lcore bound");
static_assert(sizeof(((struct dpfwd_residence *)0)->buckets) ==
	      DPFWD_RESIDENCE_BUCKETS * sizeof(uint64_t), "residence buckets");
static_assert((DPFWD_RESIDENCE_EVERY & (DPFWD_RESIDENCE_EVERY - 1)) == 0, "a power of two");

struct lcore_task {
	uint16_t port;
	uint16_t queue;
	uint16_t peer;
	uint8_t check_frames;
	struct dpfwd_counters c;
	/* residence histogram (see dpfwd.h), written by the lcore only */
	uint64_t res_buckets[DPFWD_RESIDENCE_BUCKETS];
	uint64_t res_sum_ns;
	uint64_t res_max_ns;
};

struct lcore_state {
	alignas(RTE_CACHE_LINE_SIZE) uint16_t n_tasks;
	uint32_t empty_rounds;
	uint32_t sleep_us;
	uint32_t sleep_cap_us;     /* 0: never sleep */
	uint32_t wake_us;          /* longest wake-up delay measured at start */
	uint32_t link_epoch;       /* dpfwd_link_epoch the cap was made for */
	volatile uint8_t sleep_planned;
	uint8_t wake_measured;     /* wake_us holds a measurement (kept across relaunches) */
	uint64_t idle_tsc;
	/* loop rounds: the lcore's heartbeat, read by dpfwd_fwd_progress() */
	volatile uint64_t rounds;
	/* written by the main thread only: what its last look saw */
	uint64_t rounds_seen;
	uint64_t stalls;
	uint8_t stalled;
	struct lcore_task tasks[DPFWD_MAX_TASKS];
};

/* Read by every lcore, written only while they are stopped (or, for the
 * mode and MACs, by dpfwd_fwd_set_mode: a burst may see a mix). */
static struct {
	uint32_t mode;
	uint32_t idle;
	uint16_t burst;
	struct rte_ether_addr dst_mac[DPFWD_MAX_PORTS];
	struct rte_ether_addr src_mac[DPFWD_MAX_PORTS];
	uint32_t max_frame[DPFWD_MAX_PORTS];
	uint16_t n_ports;
	uint16_t port_ids[DPFWD_MAX_PORTS];
	uint16_t rx_descriptors[DPFWD_MAX_PORTS];
	uint32_t sleep_max_us;
	uint8_t residence;
	uint64_t ns_per_tsc_q32;    /* ns = tsc * this >> 32 */
} fwd;

static struct lcore_state lcores[RTE_MAX_LCORE];
static volatile int stop_flag;
static int running;
static uint64_t start_tsc, stop_tsc;

static inline void
rewrite_macs(struct rte_mbuf **pkts, uint16_t n, uint32_t mode, uint16_t peer)
{
	struct rte_ether_addr tmp;
	struct rte_ether_hdr *eth;
	uint16_t i;

	for (i = 0; i < n; i++) {
		/* Runt frames with no room for two addresses go out untouched. */
		if (unlikely(rte_pktmbuf_data_len(pkts[i]) < 2 * RTE_ETHER_ADDR_LEN))
			continue;
		eth = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
		if (mode == DPFWD_MODE_MAC) {
			rte_ether_addr_copy(&fwd.dst_mac[peer], &eth->dst_addr);
			rte_ether_addr_copy(&fwd.src_mac[peer], &eth->src_addr);
		} else {
			rte_ether_addr_copy(&eth->dst_addr, &tmp);
			rte_ether_addr_copy(&eth->src_addr, &eth->dst_addr);
			rte_ether_addr_copy(&tmp, &eth->src_addr);
		}
	}
}

/* Free frames the peer cannot carry, keeping the rest in order. The common
 * case (nothing to drop) is one read-only, branch-free pass over lengths
 * that rx just wrote. */
static inline uint16_t
drop_oversize(struct rte_mbuf **pkts, uint16_t n, uint32_t max_frame,
	      struct dpfwd_counters *c)
{
	uint16_t i, kept = 0;
	uint32_t over = 0;

	for (i = 0; i < n; i++)
		over |= rte_pktmbuf_pkt_len(pkts[i]) > max_frame;
	if (likely(!over))
		return n;
	for (i = 0; i < n; i++) {
		if (rte_pktmbuf_pkt_len(pkts[i]) > max_frame) {
			rte_pktmbuf_free(pkts[i]);
			c->oversize++;
			continue;
		}
		pkts[kept++] = pkts[i];
	}
	return kept;
}

/* The longest an rx ring of the lcore's ports takes to fill at line rate (us). */
static uint32_t
ring_fill_us(const struct lcore_state *ls)
{
	uint64_t us, least = UINT32_MAX;
	uint32_t mbps;
	uint16_t i;

	for (i = 0; i < ls->n_tasks; i++) {
		mbps = dpfwd_link_mbps[ls->tasks[i].port];
		if (mbps == 0)
			mbps = ASSUMED_MBPS;
		us = (uint64_t)fwd.rx_descriptors[ls->tasks[i].port] * WIRE_BITS_PER_MIN_FRAME / mbps;
		least = RTE_MIN(least, us);
	}
	return (uint32_t)least;
}

static void
plan_sleep(struct lcore_state *ls)
{
	int64_t cap = fwd.sleep_max_us ? (int64_t)fwd.sleep_max_us :
		(int64_t)ring_fill_us(ls) / 2 - 2 * (int64_t)ls->wake_us;

	ls->link_epoch = dpfwd_link_epoch;
	ls->sleep_cap_us = cap < SLEEP_FIRST_US ? 0 : (uint32_t)RTE_MIN(cap, (int64_t)SLEEP_LAST_US);
	ls->sleep_us = RTE_MIN((uint32_t)SLEEP_FIRST_US, ls->sleep_cap_us);
	ls->sleep_planned = 1;
}

/* How late a short sleep can wake up here (timer slack, scheduler, VM). */
static uint32_t
wake_delay_us(void)
{
	uint64_t t0, worst = 0, hz = rte_get_tsc_hz();
	int i;

	for (i = 0; i < WAKE_SAMPLES; i++) {
		t0 = rte_rdtsc();
		rte_delay_us_sleep(SLEEP_FIRST_US);
		worst = RTE_MAX(worst, rte_rdtsc() - t0);
	}
	worst = worst * 1000000 / hz;
	return worst > SLEEP_FIRST_US ? (uint32_t)(worst - SLEEP_FIRST_US) : 0;
}

/* One timed burst: TSC ticks from rx_burst's return to the handover to
 * tx_burst, the time dpfwd holds the packets. (What the tx PMD then takes
 * is outside: net_af_packet's sendto even delivers the frame to the next
 * namespace before it returns, which no residence inside the box can.) */
static __rte_noinline void
residence_add(struct lcore_task *t, uint64_t ticks)
{
	uint64_t ns = (uint64_t)(((unsigned __int128)ticks * fwd.ns_per_tsc_q32) >> 32);
	uint64_t bound = DPFWD_RESIDENCE_FIRST_NS;
	unsigned int b = 0;

	while (b < DPFWD_RESIDENCE_BUCKETS - 1 && ns > bound) {
		bound <<= 1;
		b++;
	}
	t->res_buckets[b]++;
	t->res_sum_ns += ns;
	t->res_max_ns = RTE_MAX(t->res_max_ns, ns);
}

/* A round found no packet: after enough of them, give the core back for a
 * while. (A round with packets resets the back-off: see the loop.) */
static __rte_noinline void
idle_step(struct lcore_state *ls, uint32_t idle)
{
	uint64_t t0;
	int i;

	if (++ls->empty_rounds < IDLE_AFTER_EMPTY_ROUNDS)
		return;
	if (idle == DPFWD_IDLE_SLEEP && unlikely(ls->link_epoch != dpfwd_link_epoch))
		plan_sleep(ls);    /* a link came up at another speed */
	t0 = rte_rdtsc();
	if (idle == DPFWD_IDLE_PAUSE || ls->sleep_cap_us == 0) {
		for (i = 0; i < PAUSE_SPINS; i++)
			rte_pause();
	} else {
		rte_delay_us_sleep(ls->sleep_us);
		ls->sleep_us = RTE_MIN(ls->sleep_us * 2, ls->sleep_cap_us);
	}
	ls->idle_tsc += rte_rdtsc() - t0;
}

static int
fwd_main(__rte_unused void *arg)
{
	struct lcore_state *ls = &lcores[rte_lcore_id()];
	struct rte_mbuf *pkts[DPFWD_MAX_BURST];
	const uint16_t burst = fwd.burst;
	/* busy and monitor (DPDK waits inside rx_burst) need nothing here */
	const uint32_t idle = fwd.idle == DPFWD_IDLE_MONITOR ? DPFWD_IDLE_BUSY : fwd.idle;
	uint16_t i, nb_rx, nb_ok, nb_tx, got;
	uint64_t rx_tsc;

	if (idle == DPFWD_IDLE_SLEEP) {
		prctl(PR_SET_TIMERSLACK, SLEEP_TIMER_SLACK_NS, 0, 0, 0);
		if (!ls->wake_measured)
			ls->wake_us = wake_delay_us();
		ls->wake_measured = 1;
		plan_sleep(ls);
	}
	while (likely(!stop_flag)) {
		ls->rounds++;
		got = 0;
		for (i = 0; i < ls->n_tasks; i++) {
			struct lcore_task *t = &ls->tasks[i];
			uint32_t mode = fwd.mode;

			nb_rx = rte_eth_rx_burst(t->port, t->queue, pkts, burst);
			if (nb_rx == 0) {
				t->c.empty_polls++;
				continue;
			}
			got = 1;
			t->c.bursts++;
			t->c.rx += nb_rx;
			rx_tsc = unlikely((t->c.bursts & (DPFWD_RESIDENCE_EVERY - 1)) == 0) && fwd.residence ?
				rte_rdtsc() : 0;

			if (unlikely(!dpfwd_link_up[t->peer])) {
				rte_pktmbuf_free_bulk(pkts, nb_rx);
				t->c.tx_link_down += nb_rx;
				t->c.tx_dropped += nb_rx;
				continue;
			}
			nb_ok = t->check_frames ?
				drop_oversize(pkts, nb_rx, fwd.max_frame[t->peer], &t->c) : nb_rx;
			if (mode != DPFWD_MODE_IO)
				rewrite_macs(pkts, nb_ok, mode, t->peer);

			if (unlikely(rx_tsc != 0))
				residence_add(t, rte_rdtsc() - rx_tsc);
			nb_tx = rte_eth_tx_burst(t->peer, t->queue, pkts, nb_ok);
			t->c.tx += nb_tx;
			if (unlikely(nb_tx < nb_rx)) {
				rte_pktmbuf_free_bulk(&pkts[nb_tx], nb_ok - nb_tx);
				t->c.tx_dropped += nb_rx - nb_tx;
			}
		}
		if (unlikely(idle != DPFWD_IDLE_BUSY)) {
			if (!got)
				idle_step(ls, idle);
			else if (unlikely(ls->empty_rounds != 0)) {
				ls->empty_rounds = 0;
				ls->sleep_us = RTE_MIN((uint32_t)SLEEP_FIRST_US, ls->sleep_cap_us);
			}
		}
	}
	return 0;
}

static int
check_task(const struct dpfwd_task *t)
{
	struct rte_eth_dev_info info;

	if (t->lcore >= RTE_MAX_LCORE || !rte_lcore_is_enabled(t->lcore) ||
	    t->lcore == rte_get_main_lcore())
		return dpfwd_fail(EINVAL, "lcore %u is not an EAL worker lcore (add it to the lcore list; the first one is the main lcore)",
				  t->lcore);
	if (t->port >= DPFWD_MAX_PORTS || t->peer >= DPFWD_MAX_PORTS ||
	    !rte_eth_dev_is_valid_port(t->port) || !rte_eth_dev_is_valid_port(t->peer))
		return dpfwd_fail(ENODEV, "task on port %u -> %u: no such port", t->port, t->peer);
	if (rte_eth_dev_info_get(t->port, &info) != 0 || t->queue >= info.nb_rx_queues)
		return dpfwd_fail(EINVAL, "port %u has no rx queue %u", t->port, t->queue);
	if (rte_eth_dev_info_get(t->peer, &info) != 0 || t->queue >= info.nb_tx_queues)
		return dpfwd_fail(EINVAL, "port %u has no tx queue %u", t->peer, t->queue);
	return 0;
}

/* What every lcore reads, from a plan: written only while they are stopped. */
static void
take_settings(const struct dpfwd_fwd_conf *conf)
{
	uint16_t p;

	memset(&fwd, 0, sizeof(fwd));
	fwd.mode = conf->mode;
	fwd.idle = conf->idle;
	fwd.burst = conf->burst;
	fwd.n_ports = conf->n_ports;
	memcpy(fwd.port_ids, conf->port_ids, sizeof(fwd.port_ids));
	fwd.sleep_max_us = conf->sleep_max_us;
	fwd.residence = conf->residence;
	fwd.ns_per_tsc_q32 = (uint64_t)(((unsigned __int128)1000000000 << 32) / rte_get_tsc_hz());
	for (p = 0; p < DPFWD_MAX_PORTS; p++)
		fwd.rx_descriptors[p] = conf->rx_descriptors[p] ? conf->rx_descriptors[p] : 1024;
	for (p = 0; p < DPFWD_MAX_PORTS; p++) {
		memcpy(fwd.dst_mac[p].addr_bytes, conf->dst_mac[p], RTE_ETHER_ADDR_LEN);
		fwd.max_frame[p] = conf->max_frame[p] ? conf->max_frame[p] : UINT32_MAX;
		if (rte_eth_dev_is_valid_port(p))
			rte_eth_macaddr_get(p, &fwd.src_mac[p]);
	}
}

static int launch(void);

static int
check_conf(const struct dpfwd_fwd_conf *conf)
{
	uint16_t i;
	int ret;

	if (conf == NULL)
		return dpfwd_fail(EINVAL, "fwd_start: no plan");
	if (conf->burst == 0 || conf->burst > DPFWD_MAX_BURST)
		return dpfwd_fail(EINVAL, "burst %u is outside 1..%u", conf->burst, DPFWD_MAX_BURST);
	if (conf->mode >= DPFWD_N_MODES)
		return dpfwd_fail(EINVAL, "mode %u is unknown", conf->mode);
	if (conf->idle >= DPFWD_N_IDLE)
		return dpfwd_fail(EINVAL, "idle policy %u is unknown", conf->idle);
	if (conf->n_tasks == 0 || conf->n_tasks > DPFWD_MAX_TASKS)
		return dpfwd_fail(EINVAL, "%u tasks: need 1..%u", conf->n_tasks, DPFWD_MAX_TASKS);
	if (conf->n_ports > DPFWD_MAX_PORTS)
		return dpfwd_fail(EINVAL, "%u ports: at most %u", conf->n_ports, DPFWD_MAX_PORTS);
	for (i = 0; i < conf->n_ports; i++)
		if (!rte_eth_dev_is_valid_port(conf->port_ids[i]))
			return dpfwd_fail(ENODEV, "configured port %u: no DPDK port %u", i, conf->port_ids[i]);
	for (i = 0; i < conf->n_tasks; i++) {
		ret = check_task(&conf->tasks[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int dpfwd_fwd_start(const struct dpfwd_fwd_conf *conf)
{
	uint16_t i;
	int ret;

	if (running)
		return dpfwd_fail(EBUSY, "forwarding is already running");
	ret = check_conf(conf);
	if (ret < 0)
		return ret;
	memset(lcores, 0, sizeof(lcores));
	take_settings(conf);
	for (i = 0; i < conf->n_tasks; i++) {
		const struct dpfwd_task *t = &conf->tasks[i];
		struct lcore_state *ls = &lcores[t->lcore];
		struct lcore_task *lt = &ls->tasks[ls->n_tasks++];

		lt->port = t->port;
		lt->queue = t->queue;
		lt->peer = t->peer;
		lt->check_frames = t->check_frames;
	}

	/* Warn once, before the loop, about memory across NUMA nodes. */
	for (i = 0; i < conf->n_tasks; i++) {
		const struct dpfwd_task *t = &conf->tasks[i];
		int socket = rte_eth_dev_socket_id(t->port);

		if (socket >= 0 && (unsigned int)socket != rte_lcore_to_socket_id(t->lcore))
			DPFWD_LOG(WARNING, "port %u is on NUMA node %d, polled by lcore %u on node %u",
				  t->port, socket, t->lcore, rte_lcore_to_socket_id(t->lcore));
	}

	start_tsc = rte_get_tsc_cycles();
	stop_tsc = 0;
	return launch();
}

/* Start the loop on every lcore with tasks; return once they poll. */
static int
launch(void)
{
	unsigned int lcore;
	int ret;

	stop_flag = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (lcores[lcore].n_tasks == 0)
			continue;
		ret = rte_eal_remote_launch(fwd_main, NULL, lcore);
		if (ret != 0) {
			stop_flag = 1;
			rte_eal_mp_wait_lcore();
			return dpfwd_fail(ret, "rte_eal_remote_launch: %s (lcore %u)",
					  rte_strerror(-ret), lcore);
		}
	}
	running = 1;
	/* Sleeping lcores measure their wake-up before they poll: return once
	 * they poll, so that "forwarding" means it (bounded: a second). */
	if (fwd.idle == DPFWD_IDLE_SLEEP) {
		uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz();

		RTE_LCORE_FOREACH_WORKER(lcore)
			while (lcores[lcore].n_tasks > 0 && !lcores[lcore].sleep_planned &&
			       rte_get_tsc_cycles() < deadline)
				rte_pause();
	}
	return 0;
}

/* Stop every lcore's loop and wait for it to return. */
static void
halt(void)
{
	unsigned int lcore;

	stop_flag = 1;
	/* An lcore may be waiting on an rx ring (power monitor): wake it. */
	if (fwd.idle == DPFWD_IDLE_MONITOR)
		RTE_LCORE_FOREACH_WORKER(lcore)
			if (lcores[lcore].n_tasks > 0)
				rte_power_monitor_wakeup(lcore);
	rte_eal_mp_wait_lcore();
}

int dpfwd_fwd_stop(void)
{
	if (!running)
		return 0;
	halt();
	stop_tsc = rte_get_tsc_cycles();
	running = 0;
	return 0;
}

/* The same tasks on the same lcores, other settings: the lcores leave their
 * loop, take them and loop again over the running ports, whose rx rings hold
 * what arrives meanwhile. Counters and measurements carry on. */
int dpfwd_fwd_relaunch(const struct dpfwd_fwd_conf *conf)
{
	unsigned int lcore;
	uint16_t i, n[RTE_MAX_LCORE] = {0};
	int ret;

	if (!running)
		return dpfwd_fail(EINVAL, "relaunch: not forwarding");
	ret = check_conf(conf);
	if (ret < 0)
		return ret;
	for (i = 0; i < conf->n_tasks; i++) {
		const struct dpfwd_task *t = &conf->tasks[i];
		const struct lcore_task *lt = &lcores[t->lcore].tasks[n[t->lcore]++];

		if (n[t->lcore] > lcores[t->lcore].n_tasks || lt->port != t->port || lt->queue != t->queue ||
		    lt->peer != t->peer)
			return dpfwd_fail(EINVAL, "relaunch: lcore %u's tasks differ (placement needs a restart)",
					  t->lcore);
	}
	RTE_LCORE_FOREACH_WORKER(lcore)
		if (n[lcore] != lcores[lcore].n_tasks)
			return dpfwd_fail(EINVAL, "relaunch: lcore %u's tasks differ (placement needs a restart)",
					  lcore);
	/* No monitor either side: DPDK sets it up on stopped queues only. */
	if ((fwd.idle == DPFWD_IDLE_MONITOR) != (conf->idle == DPFWD_IDLE_MONITOR))
		return dpfwd_fail(EINVAL, "relaunch: to or from the monitor idle policy needs a restart");
	halt();
	take_settings(conf);
	RTE_LCORE_FOREACH_WORKER(lcore) {
		lcores[lcore].sleep_planned = 0;
		lcores[lcore].empty_rounds = 0;
	}
	running = 0;
	ret = launch();
	if (ret < 0)
		stop_tsc = rte_get_tsc_cycles();
	return ret;
}

int dpfwd_fwd_running(void)
{
	return running;
}

/* Called by the main thread at a steady period: an lcore that finished no
 * loop round since the last call is stalled (stuck in a PMD call, or off
 * its CPU), and its stalls count once per stall. */
int dpfwd_fwd_progress(uint32_t *stalled, int max)
{
	unsigned int lcore;
	uint64_t rounds;
	int n = 0;

	if (!running)
		return 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		struct lcore_state *ls = &lcores[lcore];

		if (ls->n_tasks == 0)
			continue;
		rounds = ls->rounds;
		if (rounds == ls->rounds_seen) {
			ls->stalls += !ls->stalled;
			ls->stalled = 1;
			if (n < max)
				stalled[n++] = lcore;
		} else {
			ls->stalled = 0;
		}
		ls->rounds_seen = rounds;
		/* A quiet queue under the power monitor holds its lcore in
		 * rx_burst until a packet comes: wake it, so that it shows
		 * progress by the next look. */
		if (fwd.idle == DPFWD_IDLE_MONITOR)
			rte_power_monitor_wakeup(lcore);
	}
	return n;
}

double dpfwd_fwd_seconds(void)
{
	uint64_t end;

	if (start_tsc == 0)
		return 0.0;
	end = running ? rte_get_tsc_cycles() : stop_tsc;
	return (double)(end - start_tsc) / (double)rte_get_tsc_hz();
}

int dpfwd_fwd_set_mode(uint32_t mode, const uint8_t *dst_mac)
{
	uint16_t p;

	if (mode >= DPFWD_N_MODES || dst_mac == NULL)
		return dpfwd_fail(EINVAL, "mode %u is unknown, or no MACs", mode);
	for (p = 0; p < DPFWD_MAX_PORTS; p++)
		memcpy(fwd.dst_mac[p].addr_bytes, dst_mac + 6 * p, RTE_ETHER_ADDR_LEN);
	fwd.mode = mode;
	return 0;
}

/* Add the counters of one side (DPFWD_C_RX_SIDE, DPFWD_C_TX_SIDE or both)
 * of a task to sum; the flags are constants, so this unrolls to the adds. */
static void
add_side(struct dpfwd_counters *sum, const struct dpfwd_counters *c, uint32_t side)
{
#define ADD_IF_SIDE(field, flags, metric, scale, help) \
	if ((flags) & side) \
		sum->field += c->field;
	DPFWD_COUNTER_LIST(ADD_IF_SIDE)
#undef ADD_IF_SIDE
}

/* Port and queue views: rx counters where the port is polled, tx counters
 * where it is the peer; bytes and the NIC's drops from the PMD, which counts
 * them anyway (the loop never reads packet lengths it does not have to).
 * PMDs keep drops per port only, so queue views carry 0 there. Reading runs
 * on the caller's thread, never on a forwarding lcore. UINT16_MAX as the
 * queue means every queue. */
static void
sum_port(uint16_t port, uint16_t queue, struct dpfwd_counters *out)
{
	struct rte_eth_stats st;
	unsigned int l;
	uint16_t i;

	memset(out, 0, sizeof(*out));
	if (queue == UINT16_MAX) {
		out->link_changes = dpfwd_link_changes(port);
		out->link_propagations = dpfwd_link_propagations(port);
	}
	if (rte_eth_stats_get(port, &st) == 0) {
		if (queue == UINT16_MAX) {
			out->rx_bytes = st.ibytes;
			out->tx_bytes = st.obytes;
			out->rx_missed = st.imissed;
			out->rx_errors = st.ierrors;
			out->tx_errors = st.oerrors;
			out->rx_nombuf = st.rx_nombuf;
		} else if (queue < RTE_ETHDEV_QUEUE_STAT_CNTRS) {
			out->rx_bytes = st.q_ibytes[queue];
			out->tx_bytes = st.q_obytes[queue];
		}
	}
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		for (i = 0; i < lcores[l].n_tasks; i++) {
			const struct lcore_task *t = &lcores[l].tasks[i];

			if (queue != UINT16_MAX && t->queue != queue)
				continue;
			if (t->port == port)
				add_side(out, &t->c, DPFWD_C_RX_SIDE);
			if (t->peer == port)
				add_side(out, &t->c, DPFWD_C_TX_SIDE);
		}
	}
}

int dpfwd_stats_port(uint16_t port_id, struct dpfwd_counters *out)
{
	if (out == NULL)
		return dpfwd_fail(EINVAL, "stats: nowhere to put them");
	if (port_id >= DPFWD_MAX_PORTS)
		return dpfwd_fail(ENODEV, "port %u: no such port", port_id);
	sum_port(port_id, UINT16_MAX, out);
	return 0;
}

int dpfwd_stats_queue(uint16_t port_id, uint16_t queue, struct dpfwd_counters *out)
{
	if (out == NULL)
		return dpfwd_fail(EINVAL, "stats: nowhere to put them");
	if (port_id >= DPFWD_MAX_PORTS || queue >= DPFWD_MAX_QUEUES)
		return dpfwd_fail(EINVAL, "port %u queue %u: out of range", port_id, queue);
	sum_port(port_id, queue, out);
	return 0;
}

int dpfwd_stats_lcore(uint32_t lcore, struct dpfwd_counters *out)
{
	uint16_t i;

	if (out == NULL)
		return dpfwd_fail(EINVAL, "stats: nowhere to put them");
	memset(out, 0, sizeof(*out));
	if (lcore >= RTE_MAX_LCORE)
		return dpfwd_fail(EINVAL, "lcore %u: out of range", lcore);
	for (i = 0; i < lcores[lcore].n_tasks; i++) {
		add_side(out, &lcores[lcore].tasks[i].c, DPFWD_C_RX_SIDE | DPFWD_C_TX_SIDE);
	}
	out->idle_ns = (uint64_t)((double)lcores[lcore].idle_tsc * 1e9 / (double)rte_get_tsc_hz());
	out->stalls = lcores[lcore].stalls;
	return 0;
}

int dpfwd_residence(uint16_t port_id, struct dpfwd_residence *out)
{
	unsigned int l, b;
	uint16_t i;

	if (out == NULL)
		return dpfwd_fail(EINVAL, "residence: nowhere to put it");
	memset(out, 0, sizeof(*out));
	for (l = 0; l < RTE_MAX_LCORE; l++) {
		for (i = 0; i < lcores[l].n_tasks; i++) {
			const struct lcore_task *t = &lcores[l].tasks[i];

			if (t->port != port_id)
				continue;
			for (b = 0; b < DPFWD_RESIDENCE_BUCKETS; b++) {
				out->buckets[b] += t->res_buckets[b];
				out->count += t->res_buckets[b];
			}
			out->sum_ns += t->res_sum_ns;
			out->max_ns = RTE_MAX(out->max_ns, t->res_max_ns);
		}
	}
	return 0;
}

/* How the lcore sleeps on a quiet wire: -1 until it has measured its
 * wake-up delay (or when it does not sleep by policy). */
int dpfwd_fwd_sleep(uint32_t lcore, uint32_t *cap_us, uint32_t *wake_us, uint32_t *ring_us)
{
	struct lcore_state *ls;

	if (lcore >= RTE_MAX_LCORE || fwd.idle != DPFWD_IDLE_SLEEP)
		return -1;
	ls = &lcores[lcore];
	if (ls->n_tasks == 0 || !ls->sleep_planned)
		return -1;
	*cap_us = ls->sleep_cap_us;
	*wake_us = ls->wake_us;
	*ring_us = ring_fill_us(ls);
	return 0;
}

/* The last plan started: telemetry describes it after a stop too. */
int dpfwd_fwd_mode(void)
{
	return start_tsc ? (int)fwd.mode : -1;
}

int dpfwd_fwd_idle(void)
{
	return start_tsc ? (int)fwd.idle : -1;
}

int dpfwd_fwd_peer(uint16_t port)
{
	unsigned int l;
	uint16_t i;

	for (l = 0; l < RTE_MAX_LCORE; l++)
		for (i = 0; i < lcores[l].n_tasks; i++)
			if (lcores[l].tasks[i].port == port)
				return lcores[l].tasks[i].peer;
	return -1;
}

uint16_t dpfwd_fwd_queues(uint16_t port)
{
	uint16_t i, n = 0;
	unsigned int l;

	for (l = 0; l < RTE_MAX_LCORE; l++)
		for (i = 0; i < lcores[l].n_tasks; i++)
			if (lcores[l].tasks[i].port == port)
				n = RTE_MAX(n, (uint16_t)(lcores[l].tasks[i].queue + 1));
	return n;
}

int dpfwd_fwd_lcores(uint32_t *out, int max)
{
	unsigned int l;
	int n = 0;

	for (l = 0; l < RTE_MAX_LCORE && n < max; l++)
		if (lcores[l].n_tasks > 0)
			out[n++] = l;
	return n;
}

int dpfwd_fwd_ports(uint16_t *out, int max)
{
	int i;

	for (i = 0; i < fwd.n_ports && i < max; i++)
		out[i] = fwd.port_ids[i];
	return i;
}
