/* SPDX-License-Identifier: BSD-3-Clause
 *
 * Declarations shared between the data plane's C files, not seen by Python.
 */
#ifndef DPFWD_INTERNAL_H
#define DPFWD_INTERNAL_H

#include <rte_log.h>

extern int dpfwd_logtype;

#define DPFWD_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dpfwd_logtype, "DPFWD: " fmt "\n", ##__VA_ARGS__)

/* Record "call: error (port N)" for dpfwd_errmsg() and return -errno. */
int dpfwd_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* DPFWD_INTERNAL_H */
