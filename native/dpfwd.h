/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dpfwd data plane: the whole C surface that Python sees.
 *
 * This header is read twice: by the C compiler, and by the cffi builder,
 * which strips the preprocessor lines below the marker and feeds the rest
 * to cdef(). Keep it to plain declarations (no macros in the API part) and
 * use only fixed-width integer types.
 */
#ifndef DPFWD_H
#define DPFWD_H

#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;
struct dpfwd_capture;
/* cffi-cdef-begin */

#define DPFWD_MAX_PORTS 32
#define DPFWD_MAX_TASKS 64
#define DPFWD_MAX_LCORES 128
#define DPFWD_MAX_QUEUES 16

enum dpfwd_mode {
	DPFWD_MODE_IO = 0,
	DPFWD_MODE_MAC = 1,
	DPFWD_MODE_MACSWAP = 2
};

/* What a forwarding lcore does after a run of empty polls. */
enum dpfwd_idle {
	DPFWD_IDLE_BUSY = 0,      /* keep polling */
	DPFWD_IDLE_PAUSE = 1,     /* spin on the pause instruction */
	DPFWD_IDLE_SLEEP = 2,     /* sleep, longer each time, back at once on traffic */
	DPFWD_IDLE_MONITOR = 3    /* DPDK power management: wait on the rx ring (CPU + PMD support) */
};

/* What a port was asked for, and (after setup) what it got. */
struct dpfwd_port_conf {
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t rx_descriptors;
	uint16_t tx_descriptors;
	uint16_t mtu;
	uint8_t promiscuous;
};

/* What setup found out about the port, for reports. */
struct dpfwd_port_report {
	uint16_t rx_descriptors;  /* after rte_eth_dev_adjust_nb_rx_tx_desc */
	uint16_t tx_descriptors;
	uint8_t promiscuous;      /* 1 when the PMD accepted promiscuous mode */
	uint8_t rss;              /* 1 when RSS spreads rx over the queues */
	int32_t socket;           /* NUMA node, -1 when unknown */
};

/* One unit of work: poll (port, queue), send to (peer, queue). */
struct dpfwd_task {
	uint32_t lcore;
	uint16_t port;
	uint16_t queue;
	uint16_t peer;
	/* 0 when the port cannot receive frames longer than the peer's max_frame,
	 * so the per-packet length check can be skipped */
	uint8_t check_frames;
};

struct dpfwd_fwd_conf {
	uint32_t mode;            /* enum dpfwd_mode */
	uint32_t idle;            /* enum dpfwd_idle */
	uint16_t burst;           /* packets per rx_burst, 1..512 */
	uint16_t n_tasks;
	struct dpfwd_task tasks[64];
	/* mac mode: destination MAC written into packets sent out of port i */
	uint8_t dst_mac[32][6];
	/* frames longer than this (bytes, without CRC) are dropped on tx */
	uint32_t max_frame[32];
};

struct dpfwd_counters {
	uint64_t rx;
	uint64_t tx;
	uint64_t rx_bytes;        /* ports and queues: the PMD's byte counters */
	uint64_t tx_bytes;
	uint64_t tx_dropped;      /* every packet received and not sent */
	uint64_t oversize;        /* the part of tx_dropped too long for the tx port */
	uint64_t bursts;          /* rx_burst calls that returned packets */
	uint64_t empty_polls;     /* rx_burst calls that returned nothing */
	uint64_t idle_ns;         /* lcores only: time spent sleeping or pausing */
};

/* EAL */
int dpfwd_eal_init(int argc, char **argv);
int dpfwd_eal_cleanup(void);
const char *dpfwd_dpdk_version(void);
/* Message of the last failure in this thread: call, error, port. */
const char *dpfwd_errmsg(void);

/* Ports */
int dpfwd_port_probe(const char *devargs);
int dpfwd_port_by_name(const char *name, uint16_t *port_id);
int dpfwd_port_name(uint16_t port_id, char *buf, uint32_t len);
int dpfwd_port_count(void);
int dpfwd_port_valid(uint16_t port_id);
int dpfwd_port_socket(uint16_t port_id);
int dpfwd_port_mac(uint16_t port_id, uint8_t *mac);
int dpfwd_port_setup(uint16_t port_id, const struct dpfwd_port_conf *conf,
		     struct rte_mempool *pool, struct dpfwd_port_report *report);
int dpfwd_port_start(uint16_t port_id, uint8_t promiscuous);
int dpfwd_idle_monitor_supported(void);
int dpfwd_port_power_monitor(uint16_t port_id, uint16_t queue, uint32_t lcore);
int dpfwd_port_close(uint16_t port_id);

/* Mempools */
struct rte_mempool *dpfwd_pool_create(const char *name, uint32_t n,
				      uint32_t cache, uint32_t data_room,
				      int32_t socket);
void dpfwd_pool_free(struct rte_mempool *pool);
uint32_t dpfwd_pool_in_use(const struct rte_mempool *pool);
uint32_t dpfwd_pool_available(const struct rte_mempool *pool);
uint32_t dpfwd_pool_data_room(uint32_t mtu);

/* Telemetry: /dpfwd/stats, /dpfwd/ports, /dpfwd/info on DPDK's socket.
 * The strings are copied; pools are only read. */
int dpfwd_telemetry_register(const char *instance, const char *version);
int dpfwd_telemetry_add_pool(struct rte_mempool *pool);

/* Live capture (pdump): the forwarder serves it, `dpfwd capture` (a
 * secondary process) asks for it. flags: 1 rx, 2 tx, 3 both. */
int dpfwd_pdump_init(void);
struct dpfwd_capture *dpfwd_capture_start(uint16_t port, uint16_t queue,
					  uint32_t flags, uint32_t tag);
uint32_t dpfwd_capture_read(struct dpfwd_capture *cap, struct rte_mbuf **pkts, uint32_t n);
int dpfwd_capture_stop(struct dpfwd_capture *cap);
int dpfwd_capture_stats(uint16_t port, uint64_t *ringfull, uint64_t *nombuf);

/* Forwarding on EAL worker lcores */
int dpfwd_fwd_start(const struct dpfwd_fwd_conf *conf);
int dpfwd_fwd_stop(void);
int dpfwd_fwd_running(void);
double dpfwd_fwd_seconds(void);
int dpfwd_fwd_set_mode(uint32_t mode, const uint8_t *dst_mac);
int dpfwd_stats_port(uint16_t port_id, struct dpfwd_counters *out);
int dpfwd_stats_lcore(uint32_t lcore, struct dpfwd_counters *out);
int dpfwd_stats_queue(uint16_t port_id, uint16_t queue, struct dpfwd_counters *out);

/* Bursts for the Python API (the forwarder itself never calls these) */
uint16_t dpfwd_rx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n);
uint16_t dpfwd_tx_burst(uint16_t port_id, uint16_t queue,
			struct rte_mbuf **pkts, uint16_t n);
void dpfwd_mbuf_free_bulk(struct rte_mbuf **pkts, uint32_t n);
struct rte_mbuf *dpfwd_mbuf_alloc(struct rte_mempool *pool);
uint8_t *dpfwd_mbuf_data(struct rte_mbuf *m, uint32_t *len);
uint32_t dpfwd_mbuf_pkt_len(const struct rte_mbuf *m);
uint16_t dpfwd_mbuf_segments(const struct rte_mbuf *m);
int dpfwd_mbuf_set_len(struct rte_mbuf *m, uint32_t len);

/* cffi-cdef-end */
#endif /* DPFWD_H */
