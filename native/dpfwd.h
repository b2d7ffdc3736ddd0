/* SPDX-License-Identifier: BSD-3-Clause
 *
 * dpfwd data plane: the whole C surface that Python sees.
 *
 * This header is read twice: by the C compiler, and by the cffi builder,
 * which feeds what lies between the cffi-cdef markers to cdef(): there,
 * plain declarations and integer #defines only, fixed-width integer types.
 * The part up to cffi-facts-end is also the whole of the dpfwd._facts
 * module, which loads no DPDK library (config checks and plans use it).
 */
#ifndef DPFWD_H
#define DPFWD_H

#include <stdint.h>

struct rte_mempool;
struct rte_mbuf;
struct dpfwd_capture;

/*
 * Every fact once. These lists are the only place a counter, a mode or an
 * idle policy is named: the C below, the telemetry replies and (through the
 * tables in the cffi part) Python's config checks, CLI tables, JSON and
 * metrics are all made from them.
 *
 * Adding a counter: one X(...) line here, then count it where it happens
 * (forward.c). Nothing else spells it.
 *
 * X(field, flags, Prometheus stem, scale, help): flags are DPFWD_C_* below;
 * the metric is dpfwd_<port|lcore>_<stem>_total, the value divided by scale.
 */
#define DPFWD_COUNTER_LIST(X) \
	X(rx, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_RX_SIDE | DPFWD_C_SUMMARY, \
	  "rx_packets", 1, "Packets received") \
	X(tx, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_TX_SIDE | DPFWD_C_SUMMARY, \
	  "tx_packets", 1, "Packets sent") \
	X(rx_bytes, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_SUMMARY, \
	  "rx_bytes", 1, "Bytes received (the PMD's count)") \
	X(tx_bytes, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_SUMMARY, \
	  "tx_bytes", 1, "Bytes sent (the PMD's count)") \
	X(tx_dropped, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_TX_SIDE | DPFWD_C_LOST, \
	  "tx_dropped_packets", 1, "Packets received and not sent (freed)") \
	X(oversize, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_TX_SIDE, \
	  "oversize_packets", 1, "Packets dropped as longer than the tx port's MTU (part of tx_dropped)") \
	X(tx_link_down, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_TX_SIDE, \
	  "tx_link_down_packets", 1, "Packets dropped as the tx port's link was down (part of tx_dropped)") \
	X(rx_missed, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_LOST, \
	  "rx_missed_packets", 1, "Packets the NIC dropped with its rx ring full (the PMD's imissed)") \
	X(rx_errors, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_LOST, \
	  "rx_error_packets", 1, "Packets the NIC dropped as errored on rx (the PMD's ierrors)") \
	X(tx_errors, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_LOST, \
	  "tx_error_packets", 1, "Packets the NIC took and failed to send (the PMD's oerrors)") \
	X(rx_nombuf, DPFWD_C_PORT | DPFWD_C_PMD, \
	  "rx_nombuf", 1, "Failed mbuf allocations on rx, the pool run dry (the PMD's rx_nombuf): attempts, not packets, so not in lost") \
	X(link_changes, DPFWD_C_PORT | DPFWD_C_PMD | DPFWD_C_LINK, \
	  "link_changes", 1, "Link state changes, down or up") \
	X(link_propagations, DPFWD_C_PORT | DPFWD_C_PMD, \
	  "link_propagations", 1, "Times the port's link was set down because its peer had lost its link (forwarding.link_propagation)") \
	X(bursts, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_RX_SIDE, \
	  "rx_bursts", 1, "rx_burst calls that returned packets") \
	X(empty_polls, DPFWD_C_PORT | DPFWD_C_LCORE | DPFWD_C_RX_SIDE, \
	  "empty_polls", 1, "rx_burst calls that returned nothing") \
	X(idle_ns, DPFWD_C_LCORE, \
	  "idle_seconds", 1000000000, "Time an lcore slept or paused on a quiet wire") \
	X(stalls, DPFWD_C_LCORE, \
	  "stalls", 1, "Times an lcore finished no loop round within a heartbeat (stuck, e.g. in a PMD call); the watchdog is not fed while one is")

/* X(ID, name, help): forwarding modes, in code order. */
#define DPFWD_MODE_LIST(X) \
	X(IO, "io", "forward packets untouched") \
	X(MAC, "mac", "set the destination MAC to the port's dest_mac and the source MAC to the sending port's") \
	X(MACSWAP, "macswap", "swap the destination and source MACs")

/* X(ID, name, help): what a forwarding lcore does after a run of empty polls. */
#define DPFWD_IDLE_LIST(X) \
	X(BUSY, "busy", "keep polling") \
	X(PAUSE, "pause", "spin on the pause instruction") \
	X(SLEEP, "sleep", "sleep, longer each time, back at once on traffic") \
	X(MONITOR, "monitor", "DPDK power management: wait on the rx ring (CPU + PMD support)")

#define DPFWD_ENUM_ID(prefix, id) prefix##id
#define DPFWD_MODE_ENUM(id, name, help) DPFWD_ENUM_ID(DPFWD_MODE_, id),
#define DPFWD_IDLE_ENUM(id, name, help) DPFWD_ENUM_ID(DPFWD_IDLE_, id),
enum dpfwd_mode { DPFWD_MODE_LIST(DPFWD_MODE_ENUM) DPFWD_N_MODES };
enum dpfwd_idle { DPFWD_IDLE_LIST(DPFWD_IDLE_ENUM) DPFWD_N_IDLE };

/* One uint64_t per counter, in list order (Python reads them by index). */
#define DPFWD_COUNTER_FIELD(field, flags, metric, scale, help) uint64_t field;
struct dpfwd_counters {
	DPFWD_COUNTER_LIST(DPFWD_COUNTER_FIELD)
};
/* cffi-cdef-begin */

/* Limits, checked by the config and by the C entry points alike. */
#define DPFWD_MAX_PORTS 32
#define DPFWD_MAX_TASKS 64
#define DPFWD_MAX_LCORES 128
#define DPFWD_MAX_QUEUES 16
#define DPFWD_MAX_BURST 512
/* Residence time (from rx_burst's return to the handover to tx_burst) of
 * one burst in DPFWD_RESIDENCE_EVERY, per receiving port: a histogram whose
 * bucket i holds times up to DPFWD_RESIDENCE_FIRST_NS << i ns (the last:
 * any longer). */
#define DPFWD_RESIDENCE_EVERY 32
#define DPFWD_RESIDENCE_FIRST_NS 64
#define DPFWD_RESIDENCE_BUCKETS 14
/* mbufs of the pool live capture copies into (memory: hugepages only) */
#define DPFWD_CAPTURE_MBUFS 4095

/* Counter flags: where a counter is kept and how readers use it. */
#define DPFWD_C_PORT 1       /* per port and per queue */
#define DPFWD_C_LCORE 2      /* per lcore */
#define DPFWD_C_RX_SIDE 4    /* a task's count goes to the port it polls */
#define DPFWD_C_TX_SIDE 8    /* ... to the port it sends to */
#define DPFWD_C_PMD 16       /* kept per port by the PMD or the link watch, not by the lcores */
#define DPFWD_C_LOST 32      /* adds to the "lost" total */
#define DPFWD_C_SUMMARY 64   /* shown in status, the watch and systemd's status line */
#define DPFWD_C_LINK 128     /* the link's changes: shown next to the link's state */

/* A row of the lists above, for Python. */
struct dpfwd_fact {
	const char *name;
	const char *metric;       /* counters: Prometheus stem */
	const char *help;
	uint32_t flags;           /* counters: DPFWD_C_* */
	uint64_t scale;           /* counters: the metric is value / scale */
};
extern const struct dpfwd_fact dpfwd_counter_facts[];
extern const uint32_t dpfwd_n_counters;
extern const struct dpfwd_fact dpfwd_mode_facts[];
extern const uint32_t dpfwd_n_modes;
extern const struct dpfwd_fact dpfwd_idle_facts[];
extern const uint32_t dpfwd_n_idle;
/* cffi-facts-end */

/* Filled by the dpfwd_stats_* calls: dpfwd_n_counters uint64_t values. */
struct dpfwd_counters;

/* What a port was asked for, and (after setup) what it got. */
struct dpfwd_port_conf {
	uint16_t rx_queues;
	uint16_t tx_queues;
	uint16_t rx_descriptors;
	uint16_t tx_descriptors;
	uint16_t mtu;
	uint8_t promiscuous;
	/* 1: take link changes from the PMD's link-state interrupt when it has
	 * one; 0 when the caller knows the interrupt cannot be delivered */
	uint8_t link_interrupt;
};

/* What setup found out about the port, for reports. */
struct dpfwd_port_report {
	uint16_t rx_descriptors;  /* after rte_eth_dev_adjust_nb_rx_tx_desc */
	uint16_t tx_descriptors;
	uint8_t promiscuous;      /* 1 when the PMD accepted promiscuous mode */
	uint8_t rss;              /* 1 when RSS spreads rx over the queues */
	uint8_t link_interrupt;   /* 1 when link changes arrive by interrupt */
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
	/* the DPDK port id of each configured port, in config order: readers
	 * list ports by this index */
	uint16_t n_ports;
	uint16_t port_ids[32];
	/* mac mode: destination MAC written into packets sent out of port i */
	uint8_t dst_mac[32][6];
	/* frames longer than this (bytes, without CRC) are dropped on tx */
	uint32_t max_frame[32];
	/* rx descriptors of each port (by DPDK port id): with the link speed,
	 * how long an lcore may sleep before its rings overflow */
	uint16_t rx_descriptors[32];
	/* idle sleep: the longest sleep in us; 0 derives it from the rings */
	uint32_t sleep_max_us;
	/* 1: time one burst in DPFWD_RESIDENCE_EVERY (dpfwd_residence) */
	uint8_t residence;
};

/* Residence of the packets a port received, until its peer took them. */
struct dpfwd_residence {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t buckets[14];     /* DPFWD_RESIDENCE_BUCKETS, not cumulative */
};

/* DPDK's log through dpfwd (log.c): noise dropped unless verbose; the
 * lines since the last forget are kept for error messages. */
int dpfwd_log_init(int verbose);
void dpfwd_log_forget(void);
uint32_t dpfwd_log_recent(char *buf, uint32_t len);

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
void dpfwd_port_power_monitor_off(uint16_t port_id, uint16_t queue, uint32_t lcore);
int dpfwd_port_close(uint16_t port_id);
/* Link changes of a started port: logged, counted, and the lcores drop
 * packets for a port whose link is down. They arrive by the PMD's interrupt
 * where port_setup turned it on; dpfwd_link_poll() reads every watched port
 * as well (the main thread calls it ten times a second). */
int dpfwd_link_watch(uint16_t port_id);
void dpfwd_link_poll(void);
void dpfwd_link_unwatch(uint16_t port_id);
/* Link-fault propagation between two watched ports, both ways: a port that
 * lost its link has its peer's link set down (rte_eth_dev_set_link_down)
 * until it has it back, so the neighbour behind the peer sees the fault.
 * Done by dpfwd_link_poll(). Off lets go of a port held down. */
int dpfwd_link_propagation(uint16_t port_id, uint16_t peer_id, uint8_t on);
/* The port is a kernel interface's (net_af_packet): its link is that
 * interface's carrier, and is set down and up through it. Before watching. */
int dpfwd_link_kernel(uint16_t port_id, const char *ifname);

/* Mempools */
struct rte_mempool *dpfwd_pool_create(const char *name, uint32_t n,
				      uint32_t cache, uint32_t data_room,
				      int32_t socket);
/* A pool another process of the instance created (in a secondary). */
struct rte_mempool *dpfwd_pool_lookup(const char *name);
void dpfwd_pool_free(struct rte_mempool *pool);
uint32_t dpfwd_pool_in_use(const struct rte_mempool *pool);
uint32_t dpfwd_pool_available(const struct rte_mempool *pool);
uint32_t dpfwd_pool_data_room(uint32_t mtu);

/* Telemetry: /dpfwd/stats, /dpfwd/ports, /dpfwd/info on DPDK's socket.
 * The strings are copied; pools are only read. */
int dpfwd_telemetry_register(const char *instance, const char *version);
int dpfwd_telemetry_add_pool(struct rte_mempool *pool);
/* From now on the commands answer {"state": "stopping"}: call before ports
 * and pools go away. */
int dpfwd_telemetry_stop(void);

/* Live capture (pdump): the forwarder serves it, `dpfwd capture` (a
 * secondary process) asks for it. flags: 1 rx, 2 tx, 3 both. */
int dpfwd_pdump_init(void);
struct dpfwd_capture *dpfwd_capture_start(uint16_t port, uint16_t queue,
					  uint32_t flags, uint32_t tag);
uint32_t dpfwd_capture_read(struct dpfwd_capture *cap, struct rte_mbuf **pkts, uint32_t n);
int dpfwd_capture_stop(struct dpfwd_capture *cap);
int dpfwd_capture_stats(uint16_t port, uint64_t *ringfull, uint64_t *nombuf);
/* A capture whose process is gone without stopping it (SIGKILL): the
 * forwarder finds them (dpfwd_capture_orphans), and a secondary releases
 * each (dpfwd_capture_release): pdump stops copying, the memory is freed. */
struct dpfwd_capture_owner {
	uint32_t pid;
	uint16_t port;
	uint16_t queue;
	uint32_t flags;
};
int dpfwd_capture_orphans(struct dpfwd_capture_owner *out, int max);
int dpfwd_capture_release(const struct dpfwd_capture_owner *owner);

/* Forwarding on EAL worker lcores */
int dpfwd_fwd_start(const struct dpfwd_fwd_conf *conf);
int dpfwd_fwd_stop(void);
int dpfwd_fwd_running(void);
/* The lcores that finished no loop round since the last call (up to max),
 * for the main thread's heartbeat check at a steady period; counted. */
int dpfwd_fwd_progress(uint32_t *stalled, int max);
double dpfwd_fwd_seconds(void);
int dpfwd_fwd_set_mode(uint32_t mode, const uint8_t *dst_mac);
/* New settings (burst, idle, sleep, residence, mode, MACs) for the same
 * tasks on the same lcores: the lcores stop, take them and go on over the
 * running ports; counters carry on. EINVAL, with nothing changed, when the
 * tasks differ or the idle policy moves to or from monitor. */
int dpfwd_fwd_relaunch(const struct dpfwd_fwd_conf *conf);
/* Idle sleep of an lcore: its longest sleep (0: it never sleeps), the
 * longest wake-up delay it measured, and how fast its rx rings fill at line
 * rate (us). -1 while it is still measuring, or when it does not sleep. */
int dpfwd_fwd_sleep(uint32_t lcore, uint32_t *cap_us, uint32_t *wake_us, uint32_t *ring_us);
int dpfwd_stats_port(uint16_t port_id, struct dpfwd_counters *out);
int dpfwd_stats_lcore(uint32_t lcore, struct dpfwd_counters *out);
int dpfwd_stats_queue(uint16_t port_id, uint16_t queue, struct dpfwd_counters *out);
int dpfwd_residence(uint16_t port_id, struct dpfwd_residence *out);

/* Bursts for the Python API (the forwarder itself never calls these).
 * They return DPFWD_BURST_INVALID, never a count, for a port that is not
 * started, a queue it was not set up with, NULL or n >= DPFWD_BURST_INVALID. */
#define DPFWD_BURST_INVALID 65535
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
