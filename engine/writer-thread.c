/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writer thread: drains the workers' rings into the dump writer, writes
 * the loss intervals the control thread posts, rotates files by the
 * engine clock. Off the hot path: it may block on disk and sleep.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine.h"

#define DRAIN_MAX 4096

static uint64_t
wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
publish(struct umbra_writer_ctx *wc)
{
	struct umbra_dump_writer_stats st;

	umbra_dump_writer_stats(wc->dw, &st);
	atomic_store_explicit(&wc->records_written, st.records, memory_order_relaxed);
	atomic_store_explicit(&wc->bytes_written, st.bytes, memory_order_relaxed);
}

/* The same records to every export sink; each counts its own losses. */
static void
to_sinks(struct umbra_writer_ctx *wc, const struct umbra_flow_record *recs, unsigned n)
{
	unsigned i;

	for (i = 0; i < wc->nsinks; i++)
		(void)wc->sinks[i].ops->records(wc->sinks[i].ctx, recs, n);
}

static void
add_records(struct umbra_writer_ctx *wc, const struct umbra_flow_record *recs, unsigned n)
{
	/* a failed write is counted inside the dump writer */
	(void)umbra_dump_writer_add(wc->dw, recs, n);
	to_sinks(wc, recs, n);
}

static int
drain_intervals(struct umbra_writer_ctx *wc)
{
	uint64_t tail = atomic_load_explicit(&wc->iv_tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&wc->iv_head, memory_order_acquire);
	int n = 0;

	while (tail != head) {
		/* the interval's records are in the block flushed before it */
		(void)umbra_dump_writer_flush(wc->dw);
		(void)umbra_dump_writer_interval(wc->dw, &wc->iv[tail % UMBRA_IV_RING]);
		for (unsigned i = 0; i < wc->nsinks; i++)
			if (wc->sinks[i].ops->interval != NULL)
				(void)wc->sinks[i].ops->interval(wc->sinks[i].ctx,
								 &wc->iv[tail % UMBRA_IV_RING]);
		tail++;
		n++;
	}
	atomic_store_explicit(&wc->iv_tail, tail, memory_order_release);
	return n;
}

/*
 * Hand ring contents to the dump writer. In replay the rings carry clock
 * marks between records: each one moves the writer's clock (and so the
 * file rotation) to the capture time at which the following records left
 * the flow table.
 */
static unsigned
drain_rings(struct umbra_writer_ctx *wc)
{
	unsigned i, total = 0;

	for (i = 0; i < wc->nrings; i++) {
		const struct umbra_flow_record *recs;
		unsigned n = umbra_spsc_peek(wc->rings[i], &recs, DRAIN_MAX), k, start = 0;

		if (n == 0)
			continue;
		for (k = 0; k < n; k++) {
			if (!umbra_record_is_mark(&recs[k]))
				continue;
			if (k > start)
				add_records(wc, recs + start, k - start);
			if (recs[k].first_ns > wc->mark_clock)
				wc->mark_clock = recs[k].first_ns;
			(void)umbra_dump_writer_tick(wc->dw, wc->mark_clock);
			start = k + 1;
		}
		if (n > start)
			add_records(wc, recs + start, n - start);
		umbra_spsc_release(wc->rings[i], n);
		total += n;
	}
	return total;
}

static void *
writer_main(void *arg)
{
	struct umbra_writer_ctx *wc = arg;
	const struct timespec nap = { 0, 200000 };

	for (;;) {
		unsigned got;
		int stopping = atomic_load_explicit(&wc->stop, memory_order_acquire);

		/* live: the wall clock rotates; replay: the marks in the rings */
		if (!wc->capture_clock)
			(void)umbra_dump_writer_tick(wc->dw, wall_clock_ns());
		got = drain_rings(wc);
		drain_intervals(wc);
		publish(wc);
		for (unsigned i = 0; i < wc->nsinks; i++)
			if (wc->sinks[i].ops->tick != NULL)
				wc->sinks[i].ops->tick(wc->sinks[i].ctx, wall_clock_ns());
		if (got == 0) {
			if (stopping) {
				/* workers are done: one last pass catches stragglers */
				if (drain_rings(wc) == 0)
					break;
				continue;
			}
			nanosleep(&nap, NULL);
		}
	}
	drain_intervals(wc);
	wc->error = umbra_dump_writer_close(wc->dw, &wc->final);
	for (unsigned i = 0; i < wc->nsinks; i++) {
		const struct umbra_sink *k = &wc->sinks[i];

		if (k->ops->flush != NULL)
			k->ops->flush(k->ctx);
		k->ops->stats(k->ctx, &wc->sink_final[i]);
		k->ops->close(k->ctx);
	}
	wc->dw = NULL;
	atomic_store_explicit(&wc->alive, 0, memory_order_release);
	return NULL;
}

int
umbra_writer_start(struct umbra_writer_ctx *wc)
{
	int rc;

	atomic_store(&wc->stop, 0);
	atomic_store(&wc->alive, 1);
	atomic_store(&wc->iv_head, 0);
	atomic_store(&wc->iv_tail, 0);
	rc = pthread_create(&wc->thread, NULL, writer_main, wc);
	if (rc != 0) {
		atomic_store(&wc->alive, 0);
		return -rc;
	}
	pthread_setname_np(wc->thread, "umbra-writer");
	return 0;
}

int
umbra_writer_post_interval(struct umbra_writer_ctx *wc,
			   const struct umbra_interval *iv)
{
	uint64_t head = atomic_load_explicit(&wc->iv_head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&wc->iv_tail, memory_order_acquire);

	if (head - tail >= UMBRA_IV_RING)
		return -ENOSPC;
	wc->iv[head % UMBRA_IV_RING] = *iv;
	atomic_store_explicit(&wc->iv_head, head + 1, memory_order_release);
	return 0;
}

int
umbra_writer_stop(struct umbra_writer_ctx *wc)
{
	atomic_store_explicit(&wc->stop, 1, memory_order_release);
	pthread_join(wc->thread, NULL);
	return wc->error;
}
