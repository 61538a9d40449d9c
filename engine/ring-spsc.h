/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-producer/single-consumer ring of flow records, worker -> writer.
 * Records are copied into fixed slots; producer and consumer each publish
 * their index with one release store per batch, so the hot path does no
 * atomic read-modify-write and takes no lock. DPDK-free.
 */
#ifndef UMBRA_RING_SPSC_H
#define UMBRA_RING_SPSC_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "umbra/record.h"

struct umbra_spsc {
	alignas(64) _Atomic uint64_t head; /* written by the producer only */
	uint64_t cached_tail;              /* producer's view of tail */
	alignas(64) _Atomic uint64_t tail; /* written by the consumer only */
	uint64_t cached_head;              /* consumer's view of head */
	alignas(64) uint64_t mask;
	struct umbra_flow_record *slots;
};

/* capacity is rounded up to a power of two. NULL with errno on failure. */
struct umbra_spsc *umbra_spsc_create(uint32_t capacity);
void umbra_spsc_free(struct umbra_spsc *r);

/* Copy up to n records in; returns how many fitted (never blocks). */
unsigned umbra_spsc_enqueue(struct umbra_spsc *r,
			    const struct umbra_flow_record *recs, unsigned n);

/*
 * Consumer: expose up to max contiguous records without copying. Returns
 * the count and sets *recs; release them with umbra_spsc_release().
 */
unsigned umbra_spsc_peek(struct umbra_spsc *r,
			 const struct umbra_flow_record **recs, unsigned max);
void umbra_spsc_release(struct umbra_spsc *r, unsigned n);

/* Records currently queued (approximate when racing). */
uint64_t umbra_spsc_count(const struct umbra_spsc *r);
uint64_t umbra_spsc_capacity(const struct umbra_spsc *r);

#endif /* UMBRA_RING_SPSC_H */
