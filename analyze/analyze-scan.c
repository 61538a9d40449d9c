/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze: the parallel block scan every aggregating command runs.
 *
 * The main thread walks the files one after the other, reading block
 * headers only (umbra_dump_next_block): a time window drops whole files by
 * their index and blocks by their header, without reading their data.
 * Blocks go through a small bounded queue to worker threads; each worker
 * owns a decoder and its consumers' private state, decompresses and
 * aggregates without locks, and the states are merged at the end. Memory
 * is bounded by the queue, the workers' buffers and the aggregates: not by
 * the input size. Files are closed as soon as their last block is done.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

#define MAX_CONSUMERS 8
/* records per view range: their key columns take about 14 bytes each */
#define AN_VIEW_RANGE 2048

struct file_ref {
	struct an_file pub;
	struct umbra_dump_reader *r;
	atomic_uint refs;
};

struct work {
	struct file_ref *f;
	struct umbra_dump_block b;
};

struct scanner {
	const struct an_opts *o;
	struct an_consumer *c;
	size_t nc;
	int all_view;
	unsigned cols;

	pthread_mutex_t mu;
	pthread_cond_t can_get, can_put;
	struct work *q;
	size_t qcap, head, count;
	int done;

	pthread_mutex_t err_mu;
};

struct worker {
	struct scanner *s;
	pthread_t tid;
	struct umbra_block_decoder *dec;
	void *tls[MAX_CONSUMERS];
	struct umbra_flow_record *sel;
	size_t selcap;
	uint64_t blocks, damaged, records, matched;
	int nomem;
};

static void file_unref(struct file_ref *f)
{
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
		umbra_dump_close(f->r);
		free(f);
	}
}

static int block_inside(const struct an_opts *o, const struct umbra_dump_block *b)
{
	/* every record's first_ns lies in [min_first, max_last] */
	return !o->window || (b->min_first_ns >= o->from_ns && b->max_last_ns < o->to_ns);
}

static int block_outside(const struct an_opts *o, const struct umbra_dump_block *b)
{
	return o->window && (b->max_last_ns < o->from_ns || b->min_first_ns >= o->to_ns);
}

static void process(struct worker *w, struct work *wk)
{
	struct scanner *s = w->s;
	const struct an_opts *o = s->o;
	const struct an_file *f = &wk->f->pub;
	long n;

	if (s->all_view && !o->filter && block_inside(o, &wk->b)) {
		struct umbra_block_view v;
		n = umbra_block_view_begin(w->dec, wk->f->r, &wk->b, s->cols);
		/*
		 * consumers take the block in ranges whose column arrays stay
		 * in the first-level cache, instead of arrays of the whole
		 * block written out to memory and read back
		 */
		long total = n;
		for (long from = 0; from < total; from += AN_VIEW_RANGE) {
			long k = total - from < AN_VIEW_RANGE ? total - from : AN_VIEW_RANGE;
			int rc = umbra_block_view_range(w->dec, (uint32_t)from, (uint32_t)k, &v);
			if (rc < 0) {
				/* not after a begun block; reported, never silent */
				n = rc;
				break;
			}
			for (size_t i = 0; i < s->nc; i++)
				s->c[i].view(w->tls[i], f, &v);
		}
		if (n > 0)
			w->matched += (uint64_t)n;
	} else {
		const struct umbra_flow_record *recs;
		n = umbra_block_decode(w->dec, wk->f->r, &wk->b, &recs);
		if (n > 0) {
			size_t m = (size_t)n;
			if (o->filter || !block_inside(o, &wk->b)) {
				if (w->selcap < (size_t)n) {
					free(w->sel);
					w->sel = malloc(sizeof(*w->sel) * (size_t)n);
					w->selcap = w->sel ? (size_t)n : 0;
					if (!w->sel) {
						w->nomem = 1;
						return;
					}
				}
				m = 0;
				for (long i = 0; i < n; i++) {
					const struct umbra_flow_record *r = &recs[i];
					if (r->first_ns < o->from_ns || r->first_ns >= o->to_ns)
						continue;
					if (o->filter &&
					    !an_filter_match(o->filter, r, f->meta->sensor_name))
						continue;
					w->sel[m++] = *r;
				}
				recs = w->sel;
			}
			for (size_t i = 0; i < s->nc && m; i++)
				s->c[i].recs(w->tls[i], f, recs, m);
			w->matched += m;
		}
	}
	if (n == -ENOMEM) {
		w->nomem = 1;
	} else if (n < 0) {
		w->damaged++;
		pthread_mutex_lock(&s->err_mu);
		fprintf(stderr, "umbra-analyze: %s: damaged block at offset %" PRIu64 ": %s\n",
			f->path, wk->b.offset, umbra_block_decoder_error(w->dec));
		pthread_mutex_unlock(&s->err_mu);
	} else {
		w->blocks++;
		w->records += (uint64_t)n;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct scanner *s = w->s;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (!s->count && !s->done)
			pthread_cond_wait(&s->can_get, &s->mu);
		if (!s->count) {
			pthread_mutex_unlock(&s->mu);
			break;
		}
		struct work wk = s->q[s->head];
		s->head = (s->head + 1) % s->qcap;
		s->count--;
		/* the reader waits for half the queue: one wake-up per qcap / 2 blocks */
		if (s->count == s->qcap / 2)
			pthread_cond_signal(&s->can_put);
		pthread_mutex_unlock(&s->mu);
		process(w, &wk);
		file_unref(wk.f);
	}
	return NULL;
}

static void put(struct scanner *s, const struct work *wk)
{
	pthread_mutex_lock(&s->mu);
	if (s->count == s->qcap)
		while (s->count > s->qcap / 2)
			pthread_cond_wait(&s->can_put, &s->mu);
	s->q[(s->head + s->count) % s->qcap] = *wk;
	s->count++;
	pthread_cond_signal(&s->can_get);
	pthread_mutex_unlock(&s->mu);
}

static int worker_init(struct worker *w, struct scanner *s)
{
	memset(w, 0, sizeof(*w));
	w->s = s;
	w->dec = umbra_block_decoder_new(UMBRA_DECODER_TRUST_CRC);
	if (!w->dec)
		return -ENOMEM;
	for (size_t i = 0; i < s->nc; i++)
		if (!(w->tls[i] = s->c[i].tls_new(s->c[i].ctx)))
			return -ENOMEM;
	return 0;
}

/* 1 if no block of the file can hold records of the window (by its index) */
static int file_outside(const struct an_opts *o, struct umbra_dump_reader *r)
{
	const struct umbra_dump_index_entry *ix;
	const struct umbra_dump_meta *m = umbra_dump_get_meta(r);
	uint64_t size, data_end;

	if (!o->window)
		return 0;
	umbra_dump_extent(r, &size, &data_end);
	if (data_end == size)
		return 0; /* no index: walk the block headers */
	size_t n = umbra_dump_index(r, &ix);
	for (size_t i = 0; i < n; i++)
		if (!(ix[i].max_last_ns < o->from_ns || ix[i].min_first_ns >= o->to_ns))
			return 0;
	/* the file's intervals matter while its period overlaps the window */
	if (m->period_end_ns && !(m->period_end_ns <= o->from_ns ||
				  m->period_start_ns >= o->to_ns))
		return 0;
	return 1;
}

int an_scan(const struct an_opts *o, int npaths, char **paths,
	    struct an_consumer *c, size_t nc, struct an_names *engines,
	    struct an_scan_stats *st)
{
	struct analyze_paths in = {0};
	struct scanner s = {.o = o, .c = c, .nc = nc, .all_view = 1};
	int need_iv = 0;
	unsigned nthreads = an_threads(o);
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (nc > MAX_CONSUMERS)
		return -EINVAL;
	for (size_t i = 0; i < nc; i++) {
		if (!c[i].view)
			s.all_view = 0;
		need_iv |= c[i].intervals;
		s.cols |= c[i].cols;
	}
	if (analyze_collect(&in, npaths, paths) != 0)
		rc = 1;
	if (nthreads > in.n * 64 + 1)
		nthreads = (unsigned)(in.n * 64 + 1);
	st->threads = nthreads;

	struct worker *w = calloc(nthreads, sizeof(*w));
	/*
	 * Blocks ahead of the workers: enough that the reader, which shares
	 * a core with them, wakes seldom; each holds its file open.
	 */
	s.qcap = 16 * (size_t)nthreads + 16;
	s.q = calloc(s.qcap, sizeof(*s.q));
	if (!w || !s.q) {
		free(w);
		free(s.q);
		analyze_paths_free(&in);
		return -ENOMEM;
	}
	pthread_mutex_init(&s.mu, NULL);
	pthread_mutex_init(&s.err_mu, NULL);
	pthread_cond_init(&s.can_get, NULL);
	pthread_cond_init(&s.can_put, NULL);
	unsigned started = 0;
	for (unsigned t = 0; t < nthreads; t++) {
		if (worker_init(&w[t], &s) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (nthreads > 1) {
			if (pthread_create(&w[t].tid, NULL, worker_main, &w[t]) != 0) {
				rc = -ENOMEM;
				break;
			}
			started++;
		}
	}

	for (size_t i = 0; i < in.n && rc >= 0; i++) {
		struct umbra_dump_reader *r = umbra_dump_open(in.v[i]);
		if (!r) {
			pthread_mutex_lock(&s.err_mu);
			fprintf(stderr, "umbra-analyze: %s: %s\n", in.v[i],
				errno == EPROTO ? "not an umbra dump" : strerror(errno));
			pthread_mutex_unlock(&s.err_mu);
			st->files_bad++;
			rc = 1;
			continue;
		}
		if (!need_iv && file_outside(o, r)) {
			st->files_skipped++;
			umbra_dump_close(r);
			continue;
		}
		st->files++;
		struct file_ref *f = calloc(1, sizeof(*f));
		const struct umbra_dump_meta *m = umbra_dump_get_meta(r);
		long eng = f ? an_names_id(engines, m->sensor_name) : -1;
		if (eng < 0) {
			free(f);
			umbra_dump_close(r);
			rc = -ENOMEM;
			break;
		}
		f->r = r;
		f->pub.path = in.v[i];
		f->pub.meta = m;
		f->pub.engine = (unsigned)eng;
		atomic_init(&f->refs, 1);

		struct work wk = {.f = f};
		int k;
		while ((k = umbra_dump_next_block(r, &wk.b)) != 0) {
			if (k < 0) {
				struct umbra_dump_damage_info d;
				if (k != -EBADMSG) {
					rc = k;
					break;
				}
				st->blocks_damaged++;
				rc = rc < 0 ? rc : 1;
				if (umbra_dump_last_damage(r, &d)) {
					pthread_mutex_lock(&s.err_mu);
					fprintf(stderr, "umbra-analyze: %s: damage at offset %" PRIu64
							" (%" PRIu64 " bytes skipped): %s\n",
						in.v[i], d.offset, d.length, d.what);
					pthread_mutex_unlock(&s.err_mu);
				}
				continue;
			}
			if (block_outside(o, &wk.b)) {
				st->blocks_skipped++;
				continue;
			}
			atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
			if (nthreads > 1) {
				put(&s, &wk);
			} else {
				process(&w[0], &wk);
				file_unref(f);
			}
		}
		f->pub.niv = umbra_dump_intervals(r, &f->pub.iv);
		for (size_t j = 0; j < nc; j++)
			if (c[j].file)
				c[j].file(c[j].ctx, &f->pub);
		f->pub.iv = NULL;
		f->pub.niv = 0;
		file_unref(f);
	}

	pthread_mutex_lock(&s.mu);
	s.done = 1;
	pthread_cond_broadcast(&s.can_get);
	pthread_mutex_unlock(&s.mu);
	for (unsigned t = 0; t < started; t++)
		pthread_join(w[t].tid, NULL);

	for (unsigned t = 0; t < nthreads; t++) {
		st->blocks += w[t].blocks;
		st->blocks_damaged += w[t].damaged;
		st->records += w[t].records;
		st->records_matched += w[t].matched;
		if (w[t].damaged && rc == 0)
			rc = 1;
		if (w[t].nomem)
			rc = -ENOMEM;
		for (size_t i = 0; i < nc; i++)
			if (w[t].tls[i] && c[i].merge(c[i].ctx, w[t].tls[i]) < 0)
				rc = -ENOMEM;
		umbra_block_decoder_free(w[t].dec);
		free(w[t].sel);
	}
	if (o->verbose)
		fprintf(stderr,
			"umbra-analyze: %u thread(s); files: %" PRIu64 " read, %" PRIu64
			" skipped by the time window, %" PRIu64 " unreadable; blocks: %" PRIu64
			" decoded, %" PRIu64 " skipped by the time window, %" PRIu64
			" damaged; records: %" PRIu64 " decoded, %" PRIu64 " matched\n",
			nthreads, st->files, st->files_skipped, st->files_bad, st->blocks,
			st->blocks_skipped, st->blocks_damaged, st->records, st->records_matched);
	pthread_mutex_destroy(&s.mu);
	pthread_mutex_destroy(&s.err_mu);
	pthread_cond_destroy(&s.can_get);
	pthread_cond_destroy(&s.can_put);
	free(s.q);
	free(w);
	analyze_paths_free(&in);
	return rc;
}
