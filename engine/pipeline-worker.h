/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-packet work of one worker, DPDK-free: parse, darknet filter,
 * classify, count, aggregate into flows, emit finished records to the
 * worker's ring. engine/worker-lcore.c feeds it mbuf bursts; the tests
 * and umbra-bench feed it the same way from memory, so every caller runs
 * the same code.
 */
#ifndef UMBRA_PIPELINE_WORKER_H
#define UMBRA_PIPELINE_WORKER_H

#include <stdalign.h>
#include <stdint.h>

#include "classify.h"
#include "filter-darknet.h"
#include "flow-table.h"
#include "parse-pkt.h"
#include "ring-spsc.h"
#include "stats-counters.h"

#define UMBRA_BURST_MAX 256
#define UMBRA_EMIT_BATCH 64
#define UMBRA_EXPIRE_MAX 512 /* flows expired per call: bounds latency */

struct umbra_worker_conf {
	unsigned link;                 /* enum umbra_link */
	const struct umbra_darknet *darknet;
	uint32_t flows;                /* flow table capacity */
	uint64_t idle_ns;
	uint64_t active_ns;
	struct umbra_spsc *ring;       /* to the writer */
	/*
	 * When set, a full ring makes the worker wait for the writer instead
	 * of dropping (capture replay: no NIC can overflow meanwhile).
	 */
	int backpressure;
	/*
	 * Replay: every mark_ns of capture time the worker puts a clock mark
	 * (a record with end_reason 0 and first_ns = the time) in its ring, so
	 * the writer rotates files by the time records were exported, not by
	 * how far ahead the worker has read. 0 = no marks (live: wall clock).
	 */
	uint64_t mark_ns;
	/*
	 * Classification registry (engine/classify.h), or NULL for none
	 * (--no-classify). The worker takes its per-lcore table of
	 * callbacks from it at creation; lcore is passed to lcore_init.
	 */
	struct umbra_classify *classify;
	unsigned lcore;
	int prefault; /* fault the flow table in at creation (live capture) */
};

/* A ring entry that is a clock mark, not a flow record. */
static inline int
umbra_record_is_mark(const struct umbra_flow_record *r)
{
	return r->end_reason == 0;
}

struct umbra_worker {
	alignas(64) struct umbra_counters *cnt;
	struct umbra_flow_table *ft;
	const struct umbra_darknet *dn;
	struct umbra_spsc *ring;
	unsigned link;
	int backpressure;
	unsigned nout;
	uint64_t now_ns;
	uint64_t mark_ns;
	uint64_t next_mark;
	struct umbra_classify *cl;
	struct umbra_classify_lcore cls; /* callbacks, chosen once at start */
	struct umbra_flow_record out[UMBRA_EMIT_BATCH];
};

/* NULL with errno. Counters are allocated here and owned by the worker. */
struct umbra_worker *umbra_worker_create(const struct umbra_worker_conf *conf);
void umbra_worker_free(struct umbra_worker *w);

/*
 * Process a burst of n <= UMBRA_BURST_MAX frames: data[i] holds len[i]
 * readable bytes captured at ts_ns[i] (UNIX ns).
 */
void umbra_worker_burst(struct umbra_worker *w, const uint8_t *const *data,
			const uint32_t *len, const uint64_t *ts_ns, unsigned n);

/*
 * The part of umbra_worker_burst() before the flow table, alone: parse,
 * darknet filter, packet class and counters (the port counters too), for
 * umbra-bench to measure on the same feed as the whole pipeline. Flows
 * are not touched. Returns how many frames were darknet packets.
 */
unsigned umbra_worker_front(struct umbra_worker *w, const uint8_t *const *data,
			    const uint32_t *len, const uint64_t *ts_ns, unsigned n);

/* Count frames that cannot be parsed at all (unsupported link type). */
void umbra_worker_unsupported(struct umbra_worker *w, unsigned n);

/*
 * Time passes without packets (or between bursts): expire idle flows and
 * push pending records to the ring. now_ns never goes backwards here.
 */
void umbra_worker_tick(struct umbra_worker *w, uint64_t now_ns);

/* Shutdown: export every flow with end reason shutdown and flush. */
void umbra_worker_drain(struct umbra_worker *w);

/* Class of one parsed packet (enum umbra_class); exposed for tests. */
unsigned umbra_classify_packet(const struct umbra_pkt *p);

#endif /* UMBRA_PIPELINE_WORKER_H */
