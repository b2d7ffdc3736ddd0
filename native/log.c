/* SPDX-License-Identifier: BSD-3-Clause
 *
 * DPDK's log, through dpfwd: lines that tell an operator nothing (a page
 * size with no pages, telemetry's legacy socket) are dropped unless
 * verbose; everything else goes to stderr as DPDK would print it. The last
 * lines are kept, so that a failure can quote what DPDK said about it
 * instead of pointing at a log the user may not have.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "dpfwd.h"
#include "internal.h"

#define RECENT_LINES 6
#define LINE_LEN 200

/* Substrings of the lines dropped unless verbose. */
static const char *const NOISE[] = {
	"kB hugepages reported on node",   /* "No free 1048576 kB ...": another page size is used */
	"No legacy callbacks",             /* telemetry's v1 socket, which nothing here uses */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int verbose;
static char recent[RECENT_LINES][LINE_LEN];
static unsigned int n_recent;   /* lines written since the last dpfwd_log_forget() */

static int
is_noise(const char *text, size_t len)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(NOISE); i++)
		if (memmem(text, len, NOISE[i], strlen(NOISE[i])) != NULL)
			return 1;
	return 0;
}

static void
keep(const char *text, size_t len)
{
	char *slot = recent[n_recent++ % RECENT_LINES];

	len = len < LINE_LEN - 1 ? len : LINE_LEN - 1;
	memcpy(slot, text, len);
	slot[len] = '\0';
}

/* DPDK flushes after each message, so buf holds whole lines. */
static ssize_t
log_write(void *cookie __rte_unused, const char *buf, size_t size)
{
	const char *line = buf, *end = buf + size, *nl;

	pthread_mutex_lock(&lock);
	while (line < end) {
		nl = memchr(line, '\n', end - line);
		if (nl == NULL)
			nl = end;
		if (nl > line && (verbose || !is_noise(line, nl - line))) {
			fwrite(line, 1, nl - line, stderr);
			fputc('\n', stderr);
			keep(line, nl - line);
		}
		line = nl + 1;
	}
	pthread_mutex_unlock(&lock);
	return size;
}

int dpfwd_log_init(int be_verbose)
{
	static FILE *stream;
	cookie_io_functions_t io = {.write = log_write};

	verbose = be_verbose;
	if (stream == NULL) {
		stream = fopencookie(NULL, "w", io);
		if (stream == NULL)
			return dpfwd_fail(errno, "fopencookie: %s", strerror(errno));
		setvbuf(stream, NULL, _IOLBF, 0);
	}
	return rte_openlog_stream(stream);
}

void dpfwd_log_forget(void)
{
	pthread_mutex_lock(&lock);
	n_recent = 0;
	pthread_mutex_unlock(&lock);
}

uint32_t dpfwd_log_recent(char *buf, uint32_t len)
{
	unsigned int i, first;
	size_t used = 0;

	if (buf == NULL || len == 0)
		return 0;
	buf[0] = '\0';
	pthread_mutex_lock(&lock);
	first = n_recent > RECENT_LINES ? n_recent - RECENT_LINES : 0;
	for (i = first; i < n_recent && used + 3 < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", used ? "; " : "",
				 recent[i % RECENT_LINES]);
	pthread_mutex_unlock(&lock);
	return used < len ? used : len - 1;
}
