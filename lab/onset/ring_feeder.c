/* SPDX-License-Identifier: BSD-3-Clause
 *
 * A NIC's rx ring, fed at a set rate: the lab model of traffic onset.
 *
 * A DPDK secondary process of a running dpfwd instance (memory: hugepages).
 * It takes mbufs from the instance's pool and enqueues them on the rx ring
 * of a net_ring port, TRAINS times: QUIET_MS of nothing (the lcore backs off
 * into its idle policy), then RATE packets/s for TRAIN_MS. The ring stands
 * for DESCRIPTORS rx descriptors: a packet that finds that many waiting is
 * what a NIC counts as imissed. One JSON line per train on stdout: "onset"
 * is what was missed in the first ONSET_US of the train, where an lcore
 * that slept is still waking up; "stalls" counts the times the feeder itself
 * was descheduled (see the loop).
 *
 *   ring_feeder EAL-ARGS -- RING POOL DESCRIPTORS RATE TRAINS TRAIN_MS QUIET_MS
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#define BURST 32
#define FRAME_LEN 60
#define ONSET_US 2000

int
main(int argc, char **argv)
{
	struct rte_mbuf *pkts[BURST];
	struct rte_ring *ring;
	struct rte_mempool *pool;
	uint64_t hz, t0, end, now, onset_end, offered, queued, missed, onset, nombuf, peak, stalls;
	double rate, train_ms, quiet_ms;
	unsigned int descriptors, room, want, ok, i;
	int n, train, trains;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "ring_feeder: EAL did not start (is the instance running with memory: hugepages?)\n");
		return 2;
	}
	argc -= n;
	argv += n;
	if (argc != 8) {
		fprintf(stderr, "usage: ring_feeder EAL-ARGS -- RING POOL DESCRIPTORS RATE TRAINS TRAIN_MS QUIET_MS\n");
		return 2;
	}
	ring = rte_ring_lookup(argv[1]);
	pool = rte_mempool_lookup(argv[2]);
	if (ring == NULL || pool == NULL) {
		fprintf(stderr, "ring_feeder: no ring %s or no pool %s; rings:\n", argv[1], argv[2]);
		rte_ring_list_dump(stderr);
		return 2;
	}
	descriptors = atoi(argv[3]);
	rate = atof(argv[4]);
	trains = atoi(argv[5]);
	train_ms = atof(argv[6]);
	quiet_ms = atof(argv[7]);
	hz = rte_get_tsc_hz();

	for (train = 0; train < trains; train++) {
		rte_delay_us_sleep((unsigned int)(quiet_ms * 1000));
		offered = queued = missed = onset = nombuf = peak = stalls = 0;
		t0 = rte_rdtsc();
		end = t0 + (uint64_t)(train_ms * hz / 1000);
		onset_end = t0 + ONSET_US * hz / 1000000;
		while ((now = rte_rdtsc()) < end) {
			/* packets due by now at the set rate, at most a burst at a time */
			uint64_t due = (uint64_t)((double)(now - t0) * rate / (double)hz);

			if (due <= offered)
				continue;
			/* Descheduled: a wire would have kept delivering at the
			 * rate while the lcore drained; a catch-up burst at
			 * enqueue speed would not. Resume the schedule instead. */
			if (due - offered > 4 * BURST) {
				uint64_t shift = (uint64_t)((double)(due - offered - BURST) * (double)hz / rate);

				t0 += shift;
				end += shift;
				onset_end += shift;
				stalls++;
				continue;
			}
			want = due - offered > BURST ? BURST : (unsigned int)(due - offered);
			if (rte_pktmbuf_alloc_bulk(pool, pkts, want) != 0) {
				nombuf += want;
				offered += want;
				continue;
			}
			for (i = 0; i < want; i++)
				pkts[i]->data_len = pkts[i]->pkt_len = FRAME_LEN;
			n = rte_ring_count(ring);
			peak = (uint64_t)n > peak ? (uint64_t)n : peak;
			room = (unsigned int)n >= descriptors ? 0 : descriptors - n;
			ok = rte_ring_enqueue_burst(ring, (void **)pkts, want < room ? want : room, NULL);
			if (ok < want)
				rte_pktmbuf_free_bulk(&pkts[ok], want - ok);
			offered += want;
			queued += ok;
			missed += want - ok;
			if (now < onset_end)
				onset += want - ok;
		}
		printf("{\"train\": %d, \"offered\": %" PRIu64 ", \"queued\": %" PRIu64 ", \"missed\": %" PRIu64
		       ", \"onset\": %" PRIu64
		       ", \"nombuf\": %" PRIu64 ", \"peak\": %" PRIu64 ", \"stalls\": %" PRIu64 "}\n",
		       train, offered, queued, missed, onset, nombuf, peak, stalls);
		fflush(stdout);
	}
	rte_eal_cleanup();
	return 0;
}
