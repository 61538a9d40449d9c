/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ring-spsc.h"

struct umbra_spsc *
umbra_spsc_create(uint32_t capacity)
{
	struct umbra_spsc *r;
	uint64_t cap = 2;

	if (capacity == 0 || capacity > (1u << 28)) {
		errno = EINVAL;
		return NULL;
	}
	while (cap < capacity)
		cap <<= 1;
	if (posix_memalign((void **)&r, 64, sizeof(*r)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(r, 0, sizeof(*r));
	if (posix_memalign((void **)&r->slots, 64, cap * sizeof(*r->slots)) != 0) {
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	/* touch every slot now: the worker's first pass through the ring must
	 * not take page faults on the packet path (and memory stays flat) */
	memset(r->slots, 0, cap * sizeof(*r->slots));
	r->mask = cap - 1;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	return r;
}

void
umbra_spsc_free(struct umbra_spsc *r)
{
	if (r == NULL)
		return;
	free(r->slots);
	free(r);
}

unsigned
umbra_spsc_enqueue(struct umbra_spsc *r, const struct umbra_flow_record *recs,
		   unsigned n)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint64_t cap = r->mask + 1;
	unsigned i;

	if (head + n - r->cached_tail > cap) {
		r->cached_tail = atomic_load_explicit(&r->tail, memory_order_acquire);
		if (head + n - r->cached_tail > cap)
			n = (unsigned)(cap - (head - r->cached_tail));
	}
	for (i = 0; i < n; i++)
		r->slots[(head + i) & r->mask] = recs[i];
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

unsigned
umbra_spsc_peek(struct umbra_spsc *r, const struct umbra_flow_record **recs,
		unsigned max)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint64_t avail, contig;

	if (r->cached_head == tail)
		r->cached_head = atomic_load_explicit(&r->head, memory_order_acquire);
	avail = r->cached_head - tail;
	contig = (r->mask + 1) - (tail & r->mask);
	if (avail > contig)
		avail = contig;
	if (avail > max)
		avail = max;
	*recs = &r->slots[tail & r->mask];
	return (unsigned)avail;
}

void
umbra_spsc_release(struct umbra_spsc *r, unsigned n)
{
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
}

uint64_t
umbra_spsc_count(const struct umbra_spsc *r)
{
	uint64_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint64_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

	return head - tail;
}

uint64_t
umbra_spsc_capacity(const struct umbra_spsc *r)
{
	return r->mask + 1;
}
