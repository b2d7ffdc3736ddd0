/* SPDX-License-Identifier: BSD-3-Clause
 *
 * The fact lists of dpfwd.h as tables, for Python. Built into dpfwd._native
 * and, alone, into dpfwd._facts, so this file must not need DPDK.
 */
#include <assert.h>
#include <stddef.h>

#include "dpfwd.h"

#define COUNTER_ROW(field, flags, metric, scale, help) {#field, metric, help, flags, scale},
#define DIM(a) (sizeof(a) / sizeof((a)[0]))
#define NAME_ROW(id, name, help) {name, NULL, help, 0, 1},
const struct dpfwd_fact dpfwd_counter_facts[] = {DPFWD_COUNTER_LIST(COUNTER_ROW)};
const uint32_t dpfwd_n_counters = DIM(dpfwd_counter_facts);
/* Python reads a struct dpfwd_counters as dpfwd_n_counters uint64_t, in list order. */
static_assert(sizeof(struct dpfwd_counters) == sizeof(uint64_t) * DIM(dpfwd_counter_facts),
	      "counters are packed uint64_t");
const struct dpfwd_fact dpfwd_mode_facts[] = {DPFWD_MODE_LIST(NAME_ROW)};
const uint32_t dpfwd_n_modes = DPFWD_N_MODES;
const struct dpfwd_fact dpfwd_idle_facts[] = {DPFWD_IDLE_LIST(NAME_ROW)};
const uint32_t dpfwd_n_idle = DPFWD_N_IDLE;
