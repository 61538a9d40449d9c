/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Writer thread: drains the workers' rings into the dump writer, writes
 * the loss intervals the control thread posts, rotates files by the
 * engine clock. Off the hot path: it may block on disk and sleep.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"

#define DRAIN_MAX 4096
/* top sources go to the control thread at most this often */
#define SOURCES_PUBLISH_NS 100000000ull

static uint64_t
wall_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * Sorting out the top entries costs K x N comparisons: do it when new
 * records came in, a few times a second at most, and always at the end.
 * (A wall clock stepped back only makes the next one come sooner.)
 */
static void
publish_sources(struct umbra_writer_ctx *wc, int last)
{
	struct umbra_top_sources ts;
	uint64_t now = wall_clock_ns();

	if (wc->sources == NULL || (!last && now - wc->sources_pub_ns < SOURCES_PUBLISH_NS))
		return;
	wc->sources_pub_ns = now;
	umbra_topk_snapshot(wc->sources, &ts);
	if (!last && ts.records == wc->sources_pub_records)
		return;
	umbra_stats_publish_sources(&ts);
	wc->sources_pub_records = ts.records;
}

static void
publish(struct umbra_writer_ctx *wc)
{
	struct umbra_dump_writer_stats st;

	umbra_dump_writer_stats(wc->dw, &st);
	atomic_store_explicit(&wc->records_written, st.records, memory_order_relaxed);
	atomic_store_explicit(&wc->bytes_written, st.bytes, memory_order_relaxed);
	for (unsigned i = 0; i < wc->nsinks; i++) {
		struct umbra_sink_stats ss;

		wc->sinks[i].ops->stats(wc->sinks[i].ctx, &ss);
		pthread_mutex_lock(&wc->sink_lock);
		wc->sink_live[i] = ss;
		pthread_mutex_unlock(&wc->sink_lock);
	}
	publish_sources(wc, 0);
}

void
umbra_writer_sink_stats(struct umbra_writer_ctx *wc, struct umbra_sink_stats *out)
{
	pthread_mutex_lock(&wc->sink_lock);
	memcpy(out, wc->sink_live, sizeof(wc->sink_live[0]) * wc->nsinks);
	pthread_mutex_unlock(&wc->sink_lock);
}

/* The same records to every export sink; each counts its own losses. */
static void
to_sinks(struct umbra_writer_ctx *wc, const struct umbra_flow_record *recs, unsigned n)
{
	unsigned i;

	for (i = 0; i < wc->nsinks; i++)
		(void)wc->sinks[i].ops->records(wc->sinks[i].ctx, recs, n);
}

/*
 * A failed write is counted inside the dump writer (write_errors,
 * records_lost) and goes into the next interval frame; say so once per
 * episode, not once per block, and say when writing works again.
 */
static void
note_write(struct umbra_writer_ctx *wc, int rc)
{
	struct umbra_dump_writer_stats st;

	if (rc < 0 && !wc->failing) {
		umbra_dump_writer_stats(wc->dw, &st);
		fprintf(stderr, "umbra: writing dump files in '%s' failed: %s; records are dropped and counted until writing succeeds\n",
			wc->out_dir != NULL ? wc->out_dir : ".", strerror(-rc));
		wc->failing = 1;
	} else if (rc == 0 && wc->failing) {
		umbra_dump_writer_stats(wc->dw, &st);
		if (st.records > wc->records_at_failure) {
			fprintf(stderr, "umbra: writing dump files resumed (%llu records lost so far)\n",
				(unsigned long long)st.records_lost);
			wc->failing = 0;
		}
	}
	if (rc < 0) {
		umbra_dump_writer_stats(wc->dw, &st);
		wc->records_at_failure = st.records;
	}
}

static void
add_records(struct umbra_writer_ctx *wc, const struct umbra_flow_record *recs, unsigned n)
{
	note_write(wc, umbra_dump_writer_add(wc->dw, recs, n));
	to_sinks(wc, recs, n);
	for (unsigned i = 0; i < n; i++)
		umbra_topk_add(wc->sources, recs[i].family, recs[i].src, recs[i].packets);
}

/* Fold an interval that could not be written into the next one. */
static void
carry_interval(struct umbra_interval *into, const struct umbra_interval *from)
{
	uint64_t *d = &into->rx_packets;
	const uint64_t *f = &from->rx_packets;
	unsigned k, n = (unsigned)((sizeof(*into) - offsetof(struct umbra_interval, rx_packets)) /
				   sizeof(uint64_t));

	into->start_ns = from->start_ns;
	for (k = 0; k < n; k++)
		d[k] += f[k];
}

static int
drain_intervals(struct umbra_writer_ctx *wc)
{
	uint64_t tail = atomic_load_explicit(&wc->iv_tail, memory_order_relaxed);
	uint64_t head = atomic_load_explicit(&wc->iv_head, memory_order_acquire);
	int n = 0;

	while (tail != head) {
		struct umbra_interval iv = wc->iv[tail % UMBRA_IV_RING];
		struct umbra_dump_writer_stats st;
		int rc;

		/* the interval's records are in the block flushed before it */
		note_write(wc, umbra_dump_writer_flush(wc->dw));
		umbra_dump_writer_stats(wc->dw, &st);
		iv.write_drops += st.records_lost - wc->lost_reported;
		if (wc->have_carry)
			carry_interval(&iv, &wc->carry);
		rc = umbra_dump_writer_interval(wc->dw, &iv);
		wc->last_iv_end = iv.end_ns;
		if (rc == 0) {
			wc->have_carry = 0;
		} else {
			/* disk full: keep the counts for the next frame that fits */
			wc->carry = iv;
			wc->have_carry = 1;
		}
		wc->lost_reported = st.records_lost;
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

/*
 * Records drained after the last interval, and an interval that never
 * fitted on the disk: one empty-span interval at the end of the file
 * carries their losses, so the dump's write_drops add up to the total.
 */
static void
close_losses(struct umbra_writer_ctx *wc)
{
	struct umbra_dump_writer_stats st;
	struct umbra_interval iv;

	note_write(wc, umbra_dump_writer_flush(wc->dw));
	umbra_dump_writer_stats(wc->dw, &st);
	if (st.records_lost == wc->lost_reported && !wc->have_carry)
		return;
	memset(&iv, 0, sizeof(iv));
	iv.start_ns = iv.end_ns = wc->last_iv_end;
	iv.write_drops = st.records_lost - wc->lost_reported;
	if (wc->have_carry)
		carry_interval(&iv, &wc->carry);
	if (umbra_dump_writer_interval(wc->dw, &iv) == 0) {
		wc->have_carry = 0;
		wc->lost_reported = st.records_lost;
	}
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
		if (wc->delay_us != 0 && got != 0) {
			/* --writer-delay-us: a slow disk, for overload tests */
			const struct timespec d = { wc->delay_us / 1000000,
						    (long)(wc->delay_us % 1000000) * 1000 };

			nanosleep(&d, NULL);
		}
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
	close_losses(wc);
	wc->error = umbra_dump_writer_close(wc->dw, &wc->final);
	for (unsigned i = 0; i < wc->nsinks; i++) {
		const struct umbra_sink *k = &wc->sinks[i];

		if (k->ops->flush != NULL)
			k->ops->flush(k->ctx);
		k->ops->stats(k->ctx, &wc->sink_final[i]);
		pthread_mutex_lock(&wc->sink_lock);
		wc->sink_live[i] = wc->sink_final[i];
		pthread_mutex_unlock(&wc->sink_lock);
		k->ops->close(k->ctx);
	}
	publish_sources(wc, 1);
	umbra_topk_free(wc->sources);
	wc->sources = NULL;
	wc->dw = NULL;
	atomic_store_explicit(&wc->alive, 0, memory_order_release);
	return NULL;
}

int
umbra_writer_start(struct umbra_writer_ctx *wc)
{
	int rc;

	/* the hash seed only has to be unknown to the senders */
	wc->sources = umbra_topk_new(UMBRA_TOP_SOURCES_K, wall_clock_ns() ^
							  ((uint64_t)getpid() << 32) ^ (uintptr_t)wc);
	if (wc->sources == NULL)
		return -ENOMEM;
	wc->sources_pub_ns = 0;
	wc->sources_pub_records = 0;
	pthread_mutex_init(&wc->sink_lock, NULL);
	atomic_store(&wc->stop, 0);
	atomic_store(&wc->alive, 1);
	atomic_store(&wc->iv_head, 0);
	atomic_store(&wc->iv_tail, 0);
	rc = pthread_create(&wc->thread, NULL, writer_main, wc);
	if (rc != 0) {
		atomic_store(&wc->alive, 0);
		umbra_topk_free(wc->sources);
		wc->sources = NULL;
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
