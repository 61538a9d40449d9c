/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private glue of the DPDK engine: the lcore contexts, the writer thread
 * and the control loop share these definitions.
 */
#ifndef UMBRA_ENGINE_H
#define UMBRA_ENGINE_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "config.h"
#include "export-sink.h"
#include "pipeline-worker.h"
#include "ring-spsc.h"
#include "stats-topk.h"
#include "umbra/dump.h"
#include "writer-dump.h"

#define UMBRA_WORKERS_MAX 128
#define UMBRA_IV_RING 64

/* How a worker learns the time of a packet: chosen once at start-up. */
enum umbra_clock {
	UMBRA_CLOCK_TSC,     /* wall clock derived from the TSC */
	UMBRA_CLOCK_PCAP_US, /* net_pcap's rx timestamp dynfield (us) */
};

/* Replay frame counts that are not counts. */
#define UMBRA_FRAMES_COUNTING UINT64_MAX     /* not counted yet */
#define UMBRA_FRAMES_UNKNOWN (UINT64_MAX - 1) /* could not count: end when dry */

/* One worker lcore: its queue, its pipeline state and its ring. */
struct umbra_lcore_ctx {
	alignas(64) struct umbra_worker *w;
	struct umbra_spsc *ring;
	uint16_t port;
	uint16_t queue;
	unsigned lcore;
	unsigned burst;
	enum umbra_clock clock;
	int ts_offset;        /* dynfield offset for UMBRA_CLOCK_PCAP_US */
	int unsupported_link; /* count every frame as unsupported */
	int replay;           /* reading a capture file: stop at its end */
	const uint64_t *expected; /* replay: frames in the file, or one of
				     the two below (read with acquire) */
	uint64_t rx;          /* frames received by this lcore */
	volatile int *quit;
	_Atomic int done;
	uint8_t *scratch;     /* linearised multi-segment frames */
};

/* Writer thread: drains every ring into the dump writer. */
struct umbra_writer_ctx {
	struct umbra_dump_writer *dw;
	struct umbra_spsc **rings;
	unsigned nrings;
	int capture_clock;           /* replay: rotate by the rings' clock marks */
	uint64_t mark_clock;         /* latest clock mark seen */
	uint32_t delay_us;           /* --writer-delay-us: test throttle */
	uint64_t lost_reported;      /* write losses already in an interval */
	struct umbra_interval carry; /* counts of an interval not yet written */
	int have_carry;
	uint64_t last_iv_end;
	int failing;                 /* writes are failing (logged once) */
	uint64_t records_at_failure;
	const char *out_dir;         /* for messages */
	struct umbra_sink sinks[UMBRA_SINKS_MAX]; /* export, fed after the dump */
	unsigned nsinks;
	pthread_t thread;
	_Atomic int stop;
	_Atomic int alive;
	/* control -> writer: loss intervals, single producer/consumer */
	struct umbra_interval iv[UMBRA_IV_RING];
	_Atomic uint64_t iv_head;
	_Atomic uint64_t iv_tail;
	/* writer -> control: progress, for the status line */
	_Atomic uint64_t records_written;
	_Atomic uint64_t bytes_written;
	struct umbra_dump_writer_stats final; /* set when the thread ends */
	struct umbra_sink_stats sink_final[UMBRA_SINKS_MAX];
	/* writer -> control: sink counters while running (under sink_lock) */
	pthread_mutex_t sink_lock;
	struct umbra_sink_stats sink_live[UMBRA_SINKS_MAX];
	/* top sources of the drained records (umbra_stats_publish_sources) */
	struct umbra_topk *sources;
	uint64_t sources_pub_ns;      /* wall clock of the last publish */
	uint64_t sources_pub_records; /* records counted at that publish */
	int error; /* first fatal error (negative errno) */
};

int umbra_writer_start(struct umbra_writer_ctx *wc);
/* Queue an interval for the writer; -ENOSPC when the mailbox is full. */
int umbra_writer_post_interval(struct umbra_writer_ctx *wc,
			       const struct umbra_interval *iv);
/* Latest counters of every sink (final ones once the thread ended). */
void umbra_writer_sink_stats(struct umbra_writer_ctx *wc, struct umbra_sink_stats *out);
/* Drain everything, close the files, join. */
int umbra_writer_stop(struct umbra_writer_ctx *wc);

int umbra_worker_lcore_main(void *arg);

/* Port set-up: one RX queue per worker, RSS, promiscuous. */
int umbra_port_setup(uint16_t port, unsigned nqueues, unsigned nb_mbufs,
		     struct rte_mempool **pool);
void umbra_port_teardown(uint16_t port);

struct umbra_port_stats {
	uint64_t ipackets, imissed, ierrors, rx_nombuf;
};
void umbra_port_stats(uint16_t port, struct umbra_port_stats *st);

struct umbra_classify;

/* Everything the final report and the status line need. */
struct umbra_report {
	const struct umbra_config *cfg;
	const struct umbra_counters *total;
	struct umbra_port_stats port;
	struct umbra_dump_writer_stats writer;
	uint64_t capture_first_ns;
	uint64_t capture_last_ns;
	double wall_s;
	double rx_pps;            /* over the last second */
	const char *time_source;
	/* export sinks (--ipfix, --kafka) */
	unsigned nsinks;
	const char *sink_name[UMBRA_SINKS_MAX];
	struct umbra_sink_stats sink[UMBRA_SINKS_MAX];
	/* classifier names: plugin tags, counters (p0f labels, signatures) */
	const struct umbra_classify *classify;
	/* top sources by packets, from the writer; umbra_stats_publish sets
	 * it in the published copy, and NULL elsewhere means the latest */
	const struct umbra_top_sources *sources;
};

int umbra_report_json(const struct umbra_report *r, const char *path);
void umbra_report_summary(const struct umbra_report *r, FILE *out);
/*
 * The latest once-a-second totals, for readers on other threads (metrics
 * endpoint, telemetry, live view). publish copies r (and its counters)
 * under a lock; read calls fn with the copy while holding it: fn must be
 * quick and must not keep pointers. read returns -EAGAIN before the first
 * publish.
 */
void umbra_stats_publish(const struct umbra_report *r);
/*
 * The writer's latest top sources; the next umbra_stats_publish takes
 * them into its copy, so every reader sees them with the same totals.
 */
void umbra_stats_publish_sources(const struct umbra_top_sources *s);
/* The latest top sources the writer published (zeroes before). */
void umbra_stats_sources(struct umbra_top_sources *out);
int umbra_stats_read(void (*fn)(const struct umbra_report *r, void *arg), void *arg);

void umbra_report_status_line(const struct umbra_report *r, double rate_pps,
			      FILE *out);

#endif /* UMBRA_ENGINE_H */
