/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Top sources by packets: a bounded Space-Saving summary (Metwally,
 * Agrawal, El Abbadi, "Efficient computation of frequent and top-k
 * elements in data streams", 2005), weighted by the packets of each flow
 * record. The writer thread feeds it every record it drains, so the
 * workers' hot path never sees it.
 *
 * With capacity K and N packets seen so far, every monitored source has
 *   true <= packets <= true + error,  error <= N / K,
 * and a source that is not monitored sent at most floor packets (the
 * smallest monitored count once the summary is full, 0 before). While no
 * more than K distinct sources have been seen, every count is exact.
 * Counts cover the whole run (no decay): the same span as every other
 * counter of the engine.
 *
 * Single-threaded: one owner adds and reads. DPDK-free.
 */
#ifndef UMBRA_STATS_TOPK_H
#define UMBRA_STATS_TOPK_H

#include <stddef.h>
#include <stdint.h>

/* Entries the writer keeps, and how many it publishes. */
#define UMBRA_TOP_SOURCES_K 256
#define UMBRA_TOP_SOURCES_N 20

struct umbra_top_source {
	uint8_t addr[16]; /* IPv4 in the first 4 bytes, as in records */
	uint8_t family;   /* 4 or 6 */
	uint64_t packets; /* upper bound of the source's packets */
	uint64_t error;   /* packets - error is a lower bound */
};

/* The published view: the largest entries, largest first. */
struct umbra_top_sources {
	uint32_t capacity; /* K */
	uint32_t n;        /* entries in e[] */
	uint64_t floor;    /* bound for any source not listed by the summary */
	uint64_t records;  /* flow records counted */
	uint64_t packets;  /* packets in them (N) */
	struct umbra_top_source e[UMBRA_TOP_SOURCES_N];
};

struct umbra_topk;

/* A summary of capacity entries (1..2^24); NULL with errno on failure.
 * seed keys the address hash (sources are chosen by the senders). */
struct umbra_topk *umbra_topk_new(unsigned capacity, uint64_t seed);
void umbra_topk_free(struct umbra_topk *tk);

/* Count packets from one source (family 4 or 6; others are ignored). */
void umbra_topk_add(struct umbra_topk *tk, unsigned family, const uint8_t *addr,
		    uint64_t packets);

/*
 * The n largest entries into out, largest first; ties go to the lower
 * family, then the lower address. Returns how many.
 */
unsigned umbra_topk_top(const struct umbra_topk *tk, struct umbra_top_source *out,
			unsigned n);

/* The address as text ("192.0.2.1", "2001:db8::1") into buf; returns buf. */
const char *umbra_top_source_text(const struct umbra_top_source *s, char *buf, size_t len);

/* Every figure of struct umbra_top_sources, the top UMBRA_TOP_SOURCES_N. */
void umbra_topk_snapshot(const struct umbra_topk *tk, struct umbra_top_sources *out);

#endif /* UMBRA_STATS_TOPK_H */
