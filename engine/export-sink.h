/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Export sinks: where flow records go besides the dump files (IPFIX,
 * Kafka...). Sinks are called from the writer thread only, never from a
 * worker: a slow collector can delay the writer (whose rings then fill
 * and count drops) but never the packet path. Each sink counts its own
 * losses. DPDK-free.
 */
#ifndef UMBRA_EXPORT_SINK_H
#define UMBRA_EXPORT_SINK_H

#include <stdint.h>

#include "umbra/dump.h"
#include "umbra/record.h"

struct umbra_sink_stats {
	uint64_t records;       /* records handed to the sink */
	uint64_t sent;          /* records delivered (or accepted by the peer) */
	uint64_t dropped;       /* records lost: peer down, queue full... */
	uint64_t errors;        /* failed sends/connects */
	uint64_t bytes;         /* bytes put on the wire */
};

struct umbra_sink_ops {
	const char *name; /* "ipfix", "kafka" */
	/* records that left the workers, in ring order (no clock marks) */
	int (*records)(void *ctx, const struct umbra_flow_record *recs, unsigned n);
	/* one loss interval, after the records it covers */
	int (*interval)(void *ctx, const struct umbra_interval *iv);
	/* periodic work (template refresh, reconnect, delivery polling) */
	void (*tick)(void *ctx, uint64_t now_ns);
	/* shutdown: deliver what is queued, waiting a bounded time */
	void (*flush)(void *ctx);
	void (*stats)(void *ctx, struct umbra_sink_stats *st);
	/* release; after this ctx is gone */
	void (*close)(void *ctx);
};

struct umbra_sink {
	const struct umbra_sink_ops *ops;
	void *ctx;
};

#define UMBRA_SINKS_MAX 8

#endif /* UMBRA_EXPORT_SINK_H */
