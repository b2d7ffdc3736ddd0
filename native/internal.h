/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Declarations shared between the data plane's C files, not seen by Python.
 */
#ifndef DPFWD_INTERNAL_H
#define DPFWD_INTERNAL_H

#include <stdint.h>

#include <rte_log.h>

extern int dpfwd_logtype;

#define DPFWD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpfwd_logtype, "DPFWD: " fmt "\n", ##__VA_ARGS__)

/* Record "call: error (port N)" for dpfwd_errmsg() and return -errno. */
int dpfwd_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Queues the Python API may burst on, per port: set when a port starts,
 * cleared when it closes or EAL ends (burst.c). */
void dpfwd_burst_allow(uint16_t port_id, uint16_t rx_queues, uint16_t tx_queues);
void dpfwd_burst_forbid_all(void);

/* Forwarding state for telemetry (forward.c). */
int dpfwd_fwd_mode(void);                       /* -1 when not forwarding */
int dpfwd_fwd_idle(void);                       /* enum dpfwd_idle, -1 before a start */
int dpfwd_fwd_peer(uint16_t port);              /* -1 when the port is in no task */
int dpfwd_fwd_ports(uint16_t *out, int max);    /* port ids in config order */
uint16_t dpfwd_fwd_queues(uint16_t port);       /* rx queues polled on the port */
int dpfwd_fwd_lcores(uint32_t *out, int max);   /* forwarding lcores, ascending */

/* Link state (link.c): 1 while a port's link is up, or it is not watched.
 * Written off the lcores, read by them once per burst. */
extern volatile uint8_t dpfwd_link_up[];
/* Its speed while up (0: down or unknown), and a count of changes that
 * lcores compare with to know their sleep caps are out of date. */
extern volatile uint32_t dpfwd_link_mbps[];
extern volatile uint32_t dpfwd_link_epoch;
uint64_t dpfwd_link_changes(uint16_t port_id);
/* Link-fault propagation: the port whose lost link holds this one down
 * (-1: none), and how often that happened. */
int dpfwd_link_held_by(uint16_t port_id);
uint64_t dpfwd_link_propagations(uint16_t port_id);
struct rte_eth_link;
int dpfwd_link_read(uint16_t port_id, struct rte_eth_link *link);
/* Whether port_setup turned the port's link-state interrupt on. */
void dpfwd_link_by_interrupt(uint16_t port_id, uint8_t on);
int dpfwd_link_interrupt(uint16_t port_id);

#endif /* DPFWD_INTERNAL_H */
