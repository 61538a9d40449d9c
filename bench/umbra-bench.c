/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-bench: line-rate figures for the worker pipeline, measured side
 * by side with a baseline that only receives and frees the same packets
 * from the same source (what testpmd --forward-mode=rxonly does).
 *
 *   umbra-bench [EAL options --] [options]
 *
 * The worker under test runs umbra_worker_burst(), the function the
 * engine's lcores run, on mbufs from one of three feeds:
 *   mem   pre-built mbufs replayed from an rte_ring (pure cycles)
 *   ring  a net_ring port filled by a rate-limited generator lcore (the
 *         RX path and its loss counters are real; NDR search uses it)
 *   pcap  a capture file through net_pcap
 * Finished records go through the worker's SPSC ring to a writer thread
 * (the real dump writer, or a null drain). One JSON object per run.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <rte_version.h>
#include <zstd.h>

#include "bench-mix.h"
#include "classify.h"
#include "filter-darknet.h"
#include "flow-table.h"
#include "parse-pkt.h"
#include "pipeline-worker.h"
#include "record-codec.h"
#include "ring-spsc.h"
#include "writer-dump.h"

enum feed { FEED_MEM, FEED_RING, FEED_PCAP };

struct opts {
	uint64_t packets;   /* packets measured per run */
	uint32_t flows;     /* live flows to sustain */
	uint32_t sources;
	double ppf;         /* packets per flow */
	double payload;
	double ipv6;
	double dark;
	unsigned burst;
	enum feed feed;
	const char *pcap;
	int dump;           /* writer: 1 = real dump writer, 0 = null drain */
	const char *out;
	unsigned runs;
	int ndr;
	unsigned trial_ms;
	double sim_ns;      /* simulated ns between packets (mem feed) */
	uint64_t seed;
	int stages;
	int classify;       /* the classifier registry: tags, p0f, signatures */
	int hyperscan;      /* payload signatures among them */
	const char *rules;  /* NULL: the installed default, else the source tree's */
	const char *p0f;    /* NULL: /etc/p0f/p0f.fp */
};

static struct opts o = {
	.packets = 20000000, .flows = 1000000, .sources = 200000, .ppf = 1.5,
	.payload = 0.1, .ipv6 = 0.05, .dark = 0.97, .burst = 32, .feed = FEED_MEM,
	.dump = 1, .out = "/tmp/umbra-bench-out", .runs = 1, .trial_ms = 1000,
	.sim_ns = 100, .seed = 1, .stages = 1, .classify = 1, .hyperscan = 1,
};

static struct umbra_darknet dn;
/* index of the payload plugin's "payload.scanned" counter, or -1 */
static int cnt_scanned = -1;

/* ---- writer thread ------------------------------------------------------ */

struct writer {
	struct umbra_spsc *ring;
	struct umbra_dump_writer *dw;
	volatile int stop;
	uint64_t records;
	/* a sample of real records for the writer-only benchmark */
	struct umbra_flow_record *sample;
	uint64_t nsample, cap_sample;
	pthread_t t;
};

static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	const struct timespec nap = { 0, 50000 };

	for (;;) {
		const struct umbra_flow_record *r;
		unsigned n = umbra_spsc_peek(w->ring, &r, 4096), k, start = 0;

		if (n == 0) {
			if (w->stop && umbra_spsc_count(w->ring) == 0)
				break;
			nanosleep(&nap, NULL);
			continue;
		}
		for (k = 0; k < n; k++) {
			if (!umbra_record_is_mark(&r[k]))
				continue;
			if (k > start && w->dw)
				umbra_dump_writer_add(w->dw, r + start, k - start);
			start = k + 1;
		}
		if (n > start && w->dw)
			umbra_dump_writer_add(w->dw, r + start, n - start);
		for (k = 0; k < n && w->nsample < w->cap_sample; k++)
			if (!umbra_record_is_mark(&r[k]))
				w->sample[w->nsample++] = r[k];
		w->records += n;
		umbra_spsc_release(w->ring, n);
	}
	return NULL;
}

static void
mkdir_p(const char *dir)
{
	char tmp[512], *p;

	snprintf(tmp, sizeof(tmp), "%s", dir);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(tmp, 0755);
		*p = '/';
	}
	mkdir(tmp, 0755);
}

#define BENCH_BLOCK 65536 /* records per dump block */

static struct umbra_dump_writer *
open_dump(const char *dir)
{
	static const char *const prefixes[] = { MIX_DARKNET4, MIX_DARKNET6 };
	struct umbra_dump_writer_conf c;

	mkdir_p(dir);
	memset(&c, 0, sizeof(c));
	c.size = sizeof(c);
	c.dir = dir;
	c.sensor_name = "bench";
	c.prefixes = prefixes;
	c.nprefixes = 2;
	c.rotate_s = 0;
	c.block_records = BENCH_BLOCK;
	return umbra_dump_writer_open(&c);
}

/* ---- one measured run ----------------------------------------------------- */

struct run_result {
	uint64_t packets;
	uint64_t feed_sink;        /* keeps the baseline's reads of each mbuf */
	uint64_t tsc;
	double cycles_per_packet;
	double mpps;
	uint64_t inserts, lookups, flows_active_end;
	uint64_t records, records_dropped, ring_drop_packets;
	uint64_t darknet, exported_packets;
	uint64_t missed, nombuf;
	uint64_t hs_scans, payload_packets;
};

struct worker_arg {
	struct rte_ring *src;      /* mem feed */
	uint16_t port;             /* ring/pcap feed */
	struct umbra_worker *w;    /* NULL: baseline */
	int front;                 /* only umbra_worker_front(): no flows */
	uint64_t packets;
	uint64_t t0_ns;
	double sim_ns;
	volatile int *gen_done;    /* ring feed: stop when the generator is done */
	struct run_result r;
};

/*
 * What the engine's lcore loop does with a received burst (worker-lcore.c):
 * read each mbuf's data pointer and length (the baseline too: receiving
 * is that much) and, for the pipeline only (prefetch set), ask for the
 * frame's first line 4 ahead. Time stamps step by step ns from *now.
 */
static inline uintptr_t
feed_arrays(struct rte_mbuf *const *m, unsigned n, const uint8_t **data, uint32_t *len,
	    uint64_t *ts, uint64_t *now, uint64_t step, int prefetch)
{
	uintptr_t sink = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (prefetch && i + 4 < n)
			rte_prefetch0(rte_pktmbuf_mtod(m[i + 4], void *));
		data[i] = rte_pktmbuf_mtod(m[i], const uint8_t *);
		len[i] = m[i]->data_len;
		sink += (uintptr_t)data[i] + len[i];
		*now += step;
		ts[i] = *now;
	}
	return sink;
}

static int
worker_mem(void *arg)
{
	struct worker_arg *a = arg;
	struct rte_mbuf *m[UMBRA_BURST_MAX];
	const uint8_t *data[UMBRA_BURST_MAX];
	uint32_t len[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	uint64_t done = 0, t0, now = a->t0_ns;
	const uint64_t step = (uint64_t)a->sim_ns;
	uintptr_t sink = 0;

	t0 = rte_rdtsc();
	while (done < a->packets) {
		unsigned n = rte_ring_sc_dequeue_burst(a->src, (void **)m, o.burst, NULL);

		sink += feed_arrays(m, n, data, len, ts, &now, step, a->w != NULL);
		if (a->w != NULL && a->front)
			umbra_worker_front(a->w, data, len, ts, n);
		else if (a->w != NULL)
			umbra_worker_burst(a->w, data, len, ts, n);
		rte_ring_sp_enqueue_burst(a->src, (void **)m, n, NULL);
		done += n;
	}
	a->r.tsc = rte_rdtsc() - t0;
	a->r.packets = done;
	a->r.feed_sink = sink;
	return 0;
}

static int
worker_port(void *arg)
{
	struct worker_arg *a = arg;
	struct rte_mbuf *m[UMBRA_BURST_MAX];
	const uint8_t *data[UMBRA_BURST_MAX];
	uint32_t len[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	uint64_t done = 0, t0, busy = 0, last_rx = rte_rdtsc();
	const double ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
	const uint64_t base_tsc = rte_rdtsc();
	uintptr_t sink = 0;

	t0 = rte_rdtsc();
	for (;;) {
		uint64_t b0 = rte_rdtsc();
		uint16_t n = rte_eth_rx_burst(a->port, 0, m, (uint16_t)o.burst);
		uint64_t now;

		if (n == 0) {
			if (a->gen_done != NULL ? *a->gen_done : done >= a->packets)
				break;
			/* pcap: the file is done when nothing came for 200 ms */
			if (a->gen_done == NULL && done > 0 &&
			    rte_rdtsc() - last_rx > rte_get_tsc_hz() / 5)
				break;
			if (a->w != NULL)
				umbra_worker_tick(a->w, a->t0_ns +
						  (uint64_t)((double)(rte_rdtsc() - base_tsc) * ns_per_tsc));
			continue;
		}
		now = a->t0_ns + (uint64_t)((double)(b0 - base_tsc) * ns_per_tsc);
		sink += feed_arrays(m, n, data, len, ts, &now, 0, a->w != NULL);
		if (a->w != NULL)
			umbra_worker_burst(a->w, data, len, ts, n);
		rte_pktmbuf_free_bulk(m, n);
		done += n;
		last_rx = rte_rdtsc();
		busy += last_rx - b0;
	}
	/* cycles spent on packets, idle polls excluded */
	a->r.tsc = busy;
	a->r.packets = done;
	a->r.feed_sink = sink;
	(void)t0;
	return 0;
}

/* ---- generator (ring feed) ----------------------------------------------- */

struct gen_arg {
	struct rte_ring *rx;        /* the net_ring port's RX ring */
	struct rte_mempool *pool;
	const uint8_t *frames;
	const uint32_t *len;
	uint32_t nframes;
	double rate_pps;            /* 0 = as fast as possible */
	uint64_t packets;
	uint64_t sent, missed, nombuf;
	volatile int done;
	uint64_t tsc;
};

static int
generator(void *arg)
{
	struct gen_arg *g = arg;
	struct rte_mbuf *m[32];
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t t0 = rte_rdtsc(), next = 0;
	uint32_t k = 0;
	unsigned i;

	g->sent = g->missed = g->nombuf = 0;
	while (g->sent + g->missed + g->nombuf < g->packets) {
		unsigned n = 32, q;

		if (g->rate_pps > 0) {
			/* token bucket on the TSC: the offered rate, evenly */
			uint64_t due = (uint64_t)((double)(g->sent + g->missed + g->nombuf) *
						  (double)hz / g->rate_pps);

			if (rte_rdtsc() - t0 < due)
				continue;
			(void)next;
		}
		if (rte_pktmbuf_alloc_bulk(g->pool, m, n) != 0) {
			g->nombuf += n;
			continue;
		}
		for (i = 0; i < n; i++) {
			uint32_t l = g->len[k];

			rte_memcpy(rte_pktmbuf_mtod(m[i], void *), g->frames + (size_t)k * MIX_STRIDE, l);
			m[i]->data_len = (uint16_t)l;
			m[i]->pkt_len = l;
			if (++k == g->nframes)
				k = 0;
		}
		q = rte_ring_sp_enqueue_burst(g->rx, (void **)m, n, NULL);
		g->sent += q;
		if (q < n) {
			/* the "NIC" had no room: these frames are missed */
			g->missed += n - q;
			rte_pktmbuf_free_bulk(m + q, n - q);
		}
	}
	g->tsc = rte_rdtsc() - t0;
	g->done = 1;
	return 0;
}

/* ---- isolated stage costs (same functions the pipeline calls) ------------- */

struct stages {
	double parse, filter, classify, flow, emit;
	double hyperscan; /* < 0: not measured (no signatures) */
};

/* the registry the pipeline runs with (NULL: --no-classify) */
static struct umbra_classify *bench_cl;

static void
noop_emit(void *arg, struct umbra_flow_record *r)
{
	(void)arg;
	(void)r;
}

static void
measure_stages(const uint8_t *frames, const uint32_t *len, uint32_t n, struct stages *st)
{
	struct umbra_pkt *p = malloc(sizeof(*p) * n);
	struct umbra_flow_key *keys = malloc(sizeof(*keys) * n);
	struct umbra_flow_entry *ent[UMBRA_BURST_MAX];
	uint8_t created[UMBRA_BURST_MAX];
	struct umbra_flow_table_conf fc = { .capacity = o.flows * 2,
					    .idle_ns = (uint64_t)(o.sim_ns * o.flows * o.ppf),
					    .active_ns = UINT64_MAX / 2, .emit = noop_emit,
					    .prefault = 1 /* as the pipeline's */ };
	struct umbra_flow_table *ft = umbra_flow_table_create(&fc);
	struct umbra_spsc *ring = umbra_spsc_create(4096);
	struct umbra_flow_record rec;
	uint64_t t0, sink = 0, nk = 0;
	uint32_t i, j, sensor;

	if (p == NULL || keys == NULL || ft == NULL || ring == NULL) {
		memset(st, 0, sizeof(*st));
		goto out;
	}
	/* fault the result arrays in first: page faults are not parsing */
	memset(p, 0, sizeof(*p) * n);
	memset(keys, 0, sizeof(*keys) * n);
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		sink += (uint64_t)umbra_parse(frames + (size_t)i * MIX_STRIDE, len[i],
					      UMBRA_LINK_ETHERNET, &p[i]);
	st->parse = (double)(rte_rdtsc() - t0) / n;
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		sink += (uint64_t)umbra_darknet_match(&dn, p[i].family, p[i].dst, &sensor);
	st->filter = (double)(rte_rdtsc() - t0) / n;
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++)
		sink += umbra_classify_packet(&p[i]);
	st->classify = (double)(rte_rdtsc() - t0) / n;
	/* signatures: every darknet payload (capped as the plugin caps it) */
	st->hyperscan = -1;
	if (bench_cl != NULL && umbra_classify_hs(bench_cl) != NULL) {
		const struct umbra_hs *hs = umbra_classify_hs(bench_cl);
		void *scratch = umbra_hs_scratch(hs);
		uint32_t cap = umbra_classify_payload_bytes(bench_cl);
		uint16_t idx[16];

		t0 = rte_rdtsc();
		for (i = 0; i < n && scratch != NULL; i++)
			if (p[i].payload_len > 0 && p[i].payload != NULL &&
			    umbra_darknet_match(&dn, p[i].family, p[i].dst, &sensor))
				sink += (uint64_t)umbra_hs_scan(hs, scratch, p[i].payload,
						p[i].payload_len < cap ? p[i].payload_len : cap,
						p[i].proto, p[i].dport, idx, 16);
		if (scratch != NULL)
			st->hyperscan = (double)(rte_rdtsc() - t0) / n;
		umbra_hs_scratch_free(scratch);
	}
	for (i = 0; i < n; i++) {
		struct umbra_flow_key *k = &keys[nk];
		unsigned al = p[i].family == 4 ? 4 : 16;

		if (p[i].src == NULL)
			continue;
		memset(k, 0, sizeof(*k));
		memcpy(k->src, p[i].src, al);
		memcpy(k->dst, p[i].dst, al);
		k->sport = p[i].sport;
		k->dport = p[i].dport;
		k->proto = p[i].proto;
		k->family = p[i].family;
		nk++;
	}
	t0 = rte_rdtsc();
	for (i = 0; i < nk; i += o.burst) {
		unsigned b = (unsigned)(nk - i < o.burst ? nk - i : o.burst);
		uint64_t now = (uint64_t)(o.sim_ns * (i + b));

		umbra_flow_lookup_bulk(ft, keys + i, NULL, b, now, ent, created);
		for (j = 0; j < b; j++)
			if (ent[j] != NULL)
				ent[j]->rec.packets++;
		umbra_flow_expire(ft, now, UMBRA_EXPIRE_MAX);
	}
	st->flow = nk ? (double)(rte_rdtsc() - t0) / (double)nk : 0;
	memset(&rec, 0, sizeof(rec));
	rec.end_reason = UMBRA_END_IDLE;
	t0 = rte_rdtsc();
	for (i = 0; i < n; i++) {
		const struct umbra_flow_record *r;

		sink += umbra_spsc_enqueue(ring, &rec, 1);
		if ((i & 63) == 63)
			umbra_spsc_release(ring, umbra_spsc_peek(ring, &r, 4096));
	}
	st->emit = (double)(rte_rdtsc() - t0) / n;
	if (sink == 42)
		fputc(' ', stderr);
out:
	umbra_spsc_free(ring);
	umbra_flow_table_free(ft);
	free(keys);
	free(p);
}

/* ---- the machine's memory ----------------------------------------------- */

/*
 * What a line from memory costs on the worker's CPU: random 64-byte lines
 * of a buffer at least as large as the flow table's entries (huge pages
 * asked for, as the table does), read 32 at a time in flight (the best a
 * pipeline that prefetches can do: cycles per line), and one at a time
 * along a random cycle (latency). A pipeline that waits for L lines a
 * packet cannot take fewer than L x line_cycles cycles a packet.
 */
struct memprobe {
	size_t bytes;          /* a power of two */
	double line_cycles;    /* best of 3 passes */
	double latency_cycles;
};

#define PROBE_AHEAD 32

static struct memprobe machine; /* measured once per invocation, with the stages */

static int
memory_probe(void *arg)
{
	struct memprobe *mp = arg;
	const size_t nl = mp->bytes / 64, mask = nl - 1, steps = 4u << 20, chase = 1u << 20;
	uint8_t *buf = mmap(NULL, mp->bytes, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* the lines to read, drawn first: the timed loop does nothing else */
	uint32_t *idx = malloc(steps * sizeof(*idx));
	uint64_t sink = 0, best = UINT64_MAX, x = 0x9e3779b97f4a7c15ull, t0;
	size_t i, line;
	unsigned pass;

	mp->line_cycles = mp->latency_cycles = 0;
	if (buf == MAP_FAILED || idx == NULL) {
		free(idx);
		if (buf != MAP_FAILED)
			munmap(buf, mp->bytes);
		return -1;
	}
	(void)madvise(buf, mp->bytes, MADV_HUGEPAGE);
	/* a random cycle through the lines: each line's first word is the next */
	for (i = 0; i < nl; i++)
		((uint64_t *)(void *)(buf + i * 64))[0] = i;
	for (i = nl - 1; i > 0; i--) { /* Sattolo: one cycle over all lines */
		size_t j = mix_rnd(&x) % i;
		uint64_t *a = (uint64_t *)(void *)(buf + i * 64);
		uint64_t *b = (uint64_t *)(void *)(buf + j * 64);
		uint64_t t = *a;

		*a = *b;
		*b = t;
	}
	for (i = 0; i < steps; i++)
		idx[i] = (uint32_t)(mix_rnd(&x) & mask);
	for (pass = 0; pass < 3; pass++) {
		t0 = rte_rdtsc();
		for (i = 0; i < steps; i++) {
			if (i + PROBE_AHEAD < steps)
				__builtin_prefetch(buf + (size_t)idx[i + PROBE_AHEAD] * 64);
			sink += buf[(size_t)idx[i] * 64 + 8];
		}
		t0 = rte_rdtsc() - t0;
		if (t0 < best)
			best = t0;
	}
	mp->line_cycles = (double)best / (double)steps;
	line = 0;
	t0 = rte_rdtsc();
	for (i = 0; i < chase; i++)
		line = ((const uint64_t *)(const void *)(buf + line * 64))[0];
	mp->latency_cycles = (double)(rte_rdtsc() - t0) / (double)chase;
	if (sink + line == 42)
		fputc(' ', stderr);
	free(idx);
	munmap(buf, mp->bytes);
	return 0;
}

/* ---- the writer alone ------------------------------------------------------ */

struct writer_figures {
	uint64_t records;              /* records written */
	double rps, bpr;               /* records per second, bytes per record */
	double col[UMBRA_CODEC_NCOLS]; /* bytes per record of each stored column */
	int have_cols;
	double encode_rps, zstd_rps;   /* the writer's two main costs apart */
};

/*
 * The writer's two main costs apart, and where its bytes go, on the same
 * 65,536-record blocks of the records this run produced:
 * - the codec (sort and columns, umbra_codec_encode() in the writer's
 *   layout) and zstd (each block's two frames at the writer's level,
 *   checksummed as the writer does), each in records per second of its
 *   own time: the writer as a whole, which does both and more, cannot
 *   be faster than either;
 * - each of the 15 stored columns compressed alone at the writer's level,
 *   in bytes per record. Their sum is near the writer's bytes per record,
 *   not equal to it: the writer compresses the columns together, in two
 *   frames, and adds headers and an index.
 */
static void
measure_writer_parts(const struct umbra_flow_record *recs, uint64_t n, struct writer_figures *wf)
{
	const unsigned layout = umbra_blk_layout(UMBRA_BLK_CODEC);
	struct umbra_codec *c = umbra_codec_new(BENCH_BLOCK);
	size_t cap = ZSTD_compressBound(umbra_codec_bound(BENCH_BLOCK));
	ZSTD_CCtx *z = ZSTD_createCCtx(), *zc = ZSTD_createCCtx();
	void *buf = malloc(cap);
	uint64_t done, k, t_enc = 0, t_z = 0, t0;
	const double hz = (double)rte_get_tsc_hz();
	unsigned j;

	memset(wf->col, 0, sizeof(wf->col));
	wf->have_cols = 0;
	wf->encode_rps = wf->zstd_rps = 0;
	if (c == NULL || z == NULL || zc == NULL || buf == NULL || n == 0)
		goto out;
	ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, UMBRA_DUMP_ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(z, ZSTD_c_contentSizeFlag, 1);
	umbra_codec_prefault(c); /* as the writer's, at open */
	for (done = 0; done < n; done += k) {
		size_t off[UMBRA_CODEC_NCOLS], len[UMBRA_CODEC_NCOLS], split, u, z1, z2 = 0;
		const uint8_t *blk;
		uint32_t flags;

		k = n - done < BENCH_BLOCK ? n - done : BENCH_BLOCK;
		t0 = rte_rdtsc();
		u = umbra_codec_encode(c, recs + done, (unsigned)k, layout, &blk, &flags, &split);
		t_enc += rte_rdtsc() - t0;
		t0 = rte_rdtsc();
		z1 = ZSTD_compress2(z, buf, cap, blk, split);
		if (split < u)
			z2 = ZSTD_compress2(z, buf, cap, blk + split, u - split);
		t_z += rte_rdtsc() - t0;
		if (ZSTD_isError(z1) || ZSTD_isError(z2) ||
		    umbra_codec_columns(blk, u, layout, off, len) != 0)
			goto out;
		for (j = 0; j < UMBRA_CODEC_NCOLS; j++) {
			size_t zs;

			if (len[j] == 0) /* no such records in this block */
				continue;
			zs = ZSTD_compressCCtx(zc, buf, cap, blk + off[j], len[j],
					       UMBRA_DUMP_ZSTD_LEVEL);
			if (ZSTD_isError(zs))
				goto out;
			wf->col[j] += (double)zs;
		}
	}
	for (j = 0; j < UMBRA_CODEC_NCOLS; j++)
		wf->col[j] /= (double)n;
	wf->have_cols = 1;
	wf->encode_rps = t_enc ? (double)n / ((double)t_enc / hz) : 0;
	wf->zstd_rps = t_z ? (double)n / ((double)t_z / hz) : 0;
out:
	if (!wf->have_cols && n > 0)
		fprintf(stderr, "umbra-bench: cannot measure the writer's parts\n");
	free(buf);
	ZSTD_freeCCtx(z);
	ZSTD_freeCCtx(zc);
	umbra_codec_free(c);
}

/*
 * The dump writer alone on the records this run produced (up to 2M), each
 * once: a record written twice in a block would compress as a repeat, so
 * a short run's figures are noisier but not kinder.
 */
static void
measure_writer(const struct umbra_flow_record *recs, uint64_t n, struct writer_figures *wf)
{
	char dir[256];
	struct umbra_dump_writer *dw;
	struct umbra_dump_writer_stats st;
	uint64_t t0, total;

	wf->rps = wf->bpr = 0;
	wf->records = 0;
	if (n == 0)
		return;
	snprintf(dir, sizeof(dir), "%s/writer", o.out);
	dw = open_dump(dir);
	if (dw == NULL)
		return;
	t0 = rte_rdtsc();
	for (total = 0; total < n;) {
		uint64_t k = n - total < 8192 ? n - total : 8192;

		umbra_dump_writer_add(dw, recs + total, (unsigned)k);
		total += k;
	}
	umbra_dump_writer_close(dw, &st);
	wf->rps = (double)total / ((double)(rte_rdtsc() - t0) / (double)rte_get_tsc_hz());
	wf->bpr = st.records ? (double)st.bytes / (double)st.records : 0;
	wf->records = st.records;
	if (st.write_errors != 0 || st.records != total)
		fprintf(stderr, "umbra-bench: writer: %" PRIu64 " of %" PRIu64 " records written, %" PRIu64
			" write errors (%s)\n", st.records, total, st.write_errors, dir);
}

/* ---- run orchestration ------------------------------------------------------ */

#ifndef UMBRA_BENCH_RULES
#define UMBRA_BENCH_RULES "rules/default.rules"
#endif

/*
 * The engine's classifier registry (tags, p0f, payload signatures), and,
 * with Hyperscan on, the same without signatures (an empty rules file)
 * for Hyperscan's share of the cycles.
 */
static int
make_classify(struct umbra_classify **cl, struct umbra_classify **nohs)
{
	struct umbra_classify_conf cc;
	char err[512];

	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.p0f_path = o.p0f;
	cc.rules_path = o.rules;
	if (!o.hyperscan)
		cc.rules_path = "/dev/null";
	else if (cc.rules_path == NULL && access(UMBRA_RULES_DEFAULT, R_OK) != 0)
		cc.rules_path = UMBRA_BENCH_RULES; /* not installed: the source tree's */
	*cl = umbra_classify_create(&cc, err, sizeof(err));
	if (*cl == NULL) {
		fprintf(stderr, "umbra-bench: classifiers: %s\n", err);
		return -1;
	}
	for (unsigned i = 0; i < umbra_classify_ncounters(*cl); i++)
		if (!strcmp(umbra_classify_counter_name(*cl, i), "payload.scanned"))
			cnt_scanned = (int)i;
	if (!o.hyperscan)
		return 0;
	cc.rules_path = "/dev/null";
	cc.quiet = 1;
	*nohs = umbra_classify_create(&cc, err, sizeof(err));
	if (*nohs == NULL) {
		fprintf(stderr, "umbra-bench: classifiers without signatures: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * pay[k]: how many of frames 0..k-1 are darknet packets with payload (the
 * mem feed replays the frames in this order, round after round, each pass
 * starting where the one before stopped).
 */
static uint64_t *
payload_prefix(const uint8_t *frames, const uint32_t *len, uint32_t n)
{
	uint64_t *pay = malloc(sizeof(*pay) * ((size_t)n + 1));
	struct umbra_pkt p;
	uint32_t i, sensor;

	if (pay == NULL)
		return NULL;
	pay[0] = 0;
	for (i = 0; i < n; i++) {
		int yes = umbra_parse(frames + (size_t)i * MIX_STRIDE, len[i], UMBRA_LINK_ETHERNET,
				      &p) == UMBRA_PARSE_OK &&
			  umbra_darknet_match(&dn, p.family, p.dst, &sensor) && p.payload_len > 0;

		pay[i + 1] = pay[i] + (uint64_t)yes;
	}
	return pay;
}

/* darknet packets with payload among frames off, off+1, ... (n, cyclic) */
static uint64_t
payload_count(const uint64_t *pay, uint32_t nf, uint64_t off, uint64_t n)
{
	uint64_t s = off % nf, c = n / nf * pay[nf];

	n %= nf;
	if (s + n <= nf)
		return c + pay[s + n] - pay[s];
	return c + pay[nf] - pay[s] + pay[s + n - nf];
}

/* flows: live flows the table is sized for (the front pass uses none) */
static struct umbra_worker *
make_worker(struct umbra_spsc *ring, struct umbra_classify *cl, uint32_t flows)
{
	struct umbra_worker_conf c;

	memset(&c, 0, sizeof(c));
	c.link = UMBRA_LINK_ETHERNET;
	c.darknet = &dn;
	c.flows = (uint32_t)(flows * 2 > 64 ? flows * 2 : 64);
	/* live flows ~ flows: a flow idles out after flows*ppf packets */
	c.idle_ns = o.feed == FEED_MEM ? (uint64_t)(o.sim_ns * o.flows * o.ppf) :
					 60ull * 1000000000ull;
	c.active_ns = c.idle_ns * 5;
	c.ring = ring;
	c.backpressure = 0;
	c.classify = cl;
	c.lcore = 0;
	/* as the engine does live: steady state, not first-touch page faults */
	c.prefault = 1;
	return umbra_worker_create(&c);
}

/*
 * Wait for an lcore without spinning: the main lcore shares its CPU with
 * the writer thread (and, on 2 CPUs, the generator), which must not be
 * starved by rte_eal_wait_lcore()'s busy loop.
 */
static void
wait_lcore(unsigned l)
{
	const struct timespec nap = { 0, 1000000 };

	while (rte_eal_get_lcore_state(l) == RUNNING)
		nanosleep(&nap, NULL);
	rte_eal_wait_lcore(l);
}

static unsigned
worker_lcore(void)
{
	unsigned l;

	RTE_LCORE_FOREACH_WORKER(l)
		return l;
	return rte_get_main_lcore();
}

static unsigned
second_worker_lcore(void)
{
	unsigned l, k = 0;

	RTE_LCORE_FOREACH_WORKER(l)
		if (k++ == 1)
			return l;
	return RTE_MAX_LCORE;
}

static void
fill_result(struct worker_arg *a, struct writer *wr)
{
	const struct umbra_counters *c;
	struct umbra_flow_table_stats fs;

	a->r.cycles_per_packet = a->r.packets ? (double)a->r.tsc / (double)a->r.packets : 0;
	a->r.mpps = a->r.tsc ? (double)a->r.packets / ((double)a->r.tsc / (double)rte_get_tsc_hz()) / 1e6 : 0;
	if (a->w == NULL)
		return;
	c = a->w->cnt;
	umbra_flow_table_stats(a->w->ft, &fs);
	a->r.inserts = fs.inserts;
	a->r.lookups = fs.lookups;
	a->r.flows_active_end = fs.active;
	a->r.records_dropped = c->records_dropped;
	a->r.ring_drop_packets = c->records_dropped_packets;
	a->r.darknet = c->darknet_packets;
	a->r.exported_packets = c->exported_packets;
	if (cnt_scanned >= 0)
		a->r.hs_scans = c->cls[cnt_scanned];
	a->r.records = wr != NULL ? wr->records : 0;
}

/*
 * After a pass: flush the worker's flows, stop the writer thread, close
 * its dump (the writer then drains to nowhere), and take the results.
 */
static void
finish_pass(struct worker_arg *a, struct writer *wr)
{
	umbra_worker_drain(a->w);
	wr->stop = 1;
	pthread_join(wr->t, NULL);
	if (wr->dw != NULL)
		umbra_dump_writer_close(wr->dw, NULL);
	wr->dw = NULL;
	fill_result(a, wr);
}

static void
json_run(FILE *f, const char *kind, const struct run_result *base, const struct run_result *u,
	 const struct run_result *front, const struct run_result *nohs, const struct stages *st,
	 const struct writer_figures *wf, const struct gen_arg *g, double ndr, double pdr, double ceiling)
{
	double secs = (double)u->tsc / (double)rte_get_tsc_hz();

	fprintf(f, "{\"bench\":\"%s\",\"tsc_hz\":%" PRIu64 ",\"dpdk_version\":\"%s\","
		"\"hugepages\":%s,\"page_size\":%zu,\"burst\":%u,\"workers\":1,",
		kind, rte_get_tsc_hz(), rte_version(), rte_eal_has_hugepages() ? "true" : "false",
		(size_t)(rte_eal_has_hugepages() ? 2u << 20 : (unsigned)sysconf(_SC_PAGESIZE)),
		o.burst);
	fprintf(f, "\"mix\":{\"description\":\"%s\",\"packets\":%" PRIu64 ",\"live_flows\":%u,"
		"\"sources\":%u,\"packets_per_flow\":%.2f,\"payload_share\":%.3f,\"ipv6_share\":%.3f,"
		"\"darknet_share\":%.3f,\"classify\":%s,\"hyperscan\":%s,\"seed\":%" PRIu64 "},",
		mix_describe(), u->packets, o.flows, o.sources, o.ppf, o.payload, o.ipv6, o.dark,
		o.classify ? "true" : "false", o.classify && o.hyperscan ? "true" : "false", o.seed);
	fprintf(f, "\"mpps_per_worker\":%.3f,\"cycles_per_packet\":%.1f,", u->mpps,
		u->cycles_per_packet);
	fprintf(f, "\"stage_cycles_per_packet\":{\"parse\":%.1f,\"filter\":%.1f,\"classify\":%.1f,"
		"\"flow\":%.1f,\"emit\":%.1f,",
		st->parse, st->filter, st->classify, st->flow, st->emit);
	if (st->hyperscan >= 0)
		fprintf(f, "\"hyperscan\":%.1f,", st->hyperscan);
	fprintf(f, "\"measured\":\"isolated, same functions\"},");
	if (machine.line_cycles > 0)
		fprintf(f, "\"memory\":{\"buffer_mib\":%zu,\"line_cycles\":%.1f,"
			"\"latency_cycles\":%.1f},",
			machine.bytes >> 20, machine.line_cycles, machine.latency_cycles);
	fprintf(f, "\"baseline_cycles_per_packet\":%.1f,\"ratio\":%.2f,", base->cycles_per_packet,
		base->cycles_per_packet > 0 ? u->cycles_per_packet / base->cycles_per_packet : 0);
	if (front != NULL)
		fprintf(f, "\"front_cycles_per_packet\":%.1f,\"front_ratio\":%.2f,",
			front->cycles_per_packet, base->cycles_per_packet > 0 ?
			front->cycles_per_packet / base->cycles_per_packet : 0);
	fprintf(f, "\"flow_inserts_per_s\":%.0f,\"flow_lookups_per_s\":%.0f,\"flows_active_end\":%" PRIu64 ",",
		secs > 0 ? (double)u->inserts / secs : 0, secs > 0 ? (double)u->lookups / secs : 0,
		u->flows_active_end);
	if (o.classify && o.hyperscan) {
		/* its share: the same pipeline without signatures, same packets */
		fprintf(f, "\"hyperscan\":{\"scans\":%" PRIu64 ",\"packets\":%" PRIu64,
			u->hs_scans, u->packets);
		if (st->hyperscan >= 0 && u->cycles_per_packet > 0)
			fprintf(f, ",\"stage_share_of_cycles\":%.3f",
				st->hyperscan / u->cycles_per_packet);
		if (o.feed == FEED_MEM) /* known only where every packet is known */
			fprintf(f, ",\"payload_packets\":%" PRIu64, u->payload_packets);
		if (nohs != NULL && nohs->cycles_per_packet > 0)
			fprintf(f, ",\"cycles_per_packet_without\":%.1f,\"share_of_cycles\":%.3f",
				nohs->cycles_per_packet,
				(u->cycles_per_packet - nohs->cycles_per_packet) / u->cycles_per_packet);
		fprintf(f, "},");
	}
	fprintf(f, "\"writer_records\":%" PRIu64 ",\"writer_records_per_s\":%.0f,"
		"\"writer_bytes_per_record\":%.2f,", wf->records, wf->rps, wf->bpr);
	if (wf->encode_rps > 0)
		fprintf(f, "\"writer_encode_records_per_s\":%.0f,\"writer_zstd_records_per_s\":%.0f,",
			wf->encode_rps, wf->zstd_rps);
	if (wf->have_cols) {
		for (unsigned j = 0; j < UMBRA_CODEC_NCOLS; j++)
			fprintf(f, "%s\"%s\":%.3f", j == 0 ? "\"writer_column_bytes_per_record\":{" : ",",
				umbra_codec_col_name(j), wf->col[j]);
		fprintf(f, "},");
	}
	fprintf(f, "\"loss\":{\"rx_missed\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64 ",\"ring_drops\":%" PRIu64
		",\"ring_drop_packets\":%" PRIu64 "},",
		g != NULL ? g->missed : 0, g != NULL ? g->nombuf : 0, u->records_dropped,
		u->ring_drop_packets);
	fprintf(f, "\"darknet_packets\":%" PRIu64 ",\"exported_packets\":%" PRIu64 ",\"records\":%" PRIu64,
		u->darknet, u->exported_packets, u->records);
	if (ndr >= 0)
		fprintf(f, ",\"ndr_mpps\":%.3f,\"pdr_0_5pct_mpps\":%.3f,\"generator_ceiling_mpps\":%.3f",
			ndr, pdr, ceiling);
	fprintf(f, "}\n");
	fflush(f);
}

static int
usage(const char *msg, const char *val)
{
	fprintf(stderr, "umbra-bench: %s%s%s\n"
		"usage: umbra-bench [EAL options --] [--feed mem|ring|pcap] [--pcap FILE]\n"
		"  [--packets N] [--flows N] [--sources N] [--ppf X] [--payload-share X]\n"
		"  [--ipv6-share X] [--burst N] [--writer dump|null] [--out DIR] [--runs N]\n"
		"  [--ndr] [--trial-ms N] [--seed N] [--no-stages]\n"
		"  [--no-classify] [--no-hyperscan] [--rules FILE] [--p0f FILE]\n",
		msg, val ? ": " : "", val ? val : "");
	return 2;
}

static int
parse_opts(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "feed", 1, NULL, 'f' },    { "pcap", 1, NULL, 'p' },   { "packets", 1, NULL, 'n' },
		{ "flows", 1, NULL, 'F' },   { "sources", 1, NULL, 's' }, { "ppf", 1, NULL, 'P' },
		{ "payload-share", 1, NULL, 'y' }, { "ipv6-share", 1, NULL, '6' },
		{ "burst", 1, NULL, 'b' },   { "writer", 1, NULL, 'w' }, { "out", 1, NULL, 'o' },
		{ "runs", 1, NULL, 'r' },    { "ndr", 0, NULL, 'N' },    { "trial-ms", 1, NULL, 't' },
		{ "seed", 1, NULL, 'S' },    { "no-stages", 0, NULL, 'x' }, { "help", 0, NULL, 'h' },
		{ "no-classify", 0, NULL, 'C' }, { "no-hyperscan", 0, NULL, 'H' },
		{ "rules", 1, NULL, 'R' },   { "p0f", 1, NULL, 'Q' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	char *end;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		errno = 0;
		switch (c) {
		case 'f':
			if (!strcmp(optarg, "mem"))
				o.feed = FEED_MEM;
			else if (!strcmp(optarg, "ring"))
				o.feed = FEED_RING;
			else if (!strcmp(optarg, "pcap"))
				o.feed = FEED_PCAP;
			else
				return usage("bad value for --feed", optarg);
			break;
		case 'p':
			o.pcap = optarg;
			o.feed = FEED_PCAP;
			break;
		case 'n':
			o.packets = strtoull(optarg, &end, 10);
			if (*end || o.packets < 1000)
				return usage("bad value for --packets", optarg);
			break;
		case 'F':
			o.flows = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || o.flows < 64 || o.flows > 50000000)
				return usage("bad value for --flows", optarg);
			break;
		case 's':
			o.sources = (uint32_t)strtoul(optarg, &end, 10);
			if (*end || o.sources < 1)
				return usage("bad value for --sources", optarg);
			break;
		case 'P':
			o.ppf = strtod(optarg, &end);
			if (*end || o.ppf < 1 || o.ppf > 1000)
				return usage("bad value for --ppf", optarg);
			break;
		case 'y':
			o.payload = strtod(optarg, &end);
			if (*end || o.payload < 0 || o.payload > 1)
				return usage("bad value for --payload-share", optarg);
			break;
		case '6':
			o.ipv6 = strtod(optarg, &end);
			if (*end || o.ipv6 < 0 || o.ipv6 > 1)
				return usage("bad value for --ipv6-share", optarg);
			break;
		case 'b':
			o.burst = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.burst < 1 || o.burst > UMBRA_BURST_MAX)
				return usage("bad value for --burst", optarg);
			break;
		case 'w':
			if (!strcmp(optarg, "dump"))
				o.dump = 1;
			else if (!strcmp(optarg, "null"))
				o.dump = 0;
			else
				return usage("bad value for --writer", optarg);
			break;
		case 'o':
			o.out = optarg;
			break;
		case 'r':
			o.runs = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.runs < 1 || o.runs > 1000)
				return usage("bad value for --runs", optarg);
			break;
		case 'N':
			o.ndr = 1;
			break;
		case 't':
			o.trial_ms = (unsigned)strtoul(optarg, &end, 10);
			if (*end || o.trial_ms < 10)
				return usage("bad value for --trial-ms", optarg);
			break;
		case 'S':
			o.seed = strtoull(optarg, &end, 10);
			if (*end)
				return usage("bad value for --seed", optarg);
			break;
		case 'x':
			o.stages = 0;
			break;
		case 'C':
			o.classify = 0;
			break;
		case 'H':
			o.hyperscan = 0;
			break;
		case 'R':
			o.rules = optarg;
			break;
		case 'Q':
			o.p0f = optarg;
			break;
		case 'h':
			usage("help", NULL);
			exit(0);
		default:
			return usage("unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage("unexpected argument", argv[optind]);
	if (o.feed == FEED_PCAP && o.pcap == NULL)
		return usage("--feed pcap needs --pcap FILE", NULL);
	return 0;
}

/* EAL for a bench without NIC or hugepages: main + two worker lcores. */
static int
default_eal(char *prog, char **eal, char *lc, size_t lclen, char *pf, size_t pflen,
	    char *mem, size_t memlen, size_t need_mb)
{
	cpu_set_t set;
	int cpus[3] = { -1, -1, -1 }, k = 0, cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (cpu = 0; cpu < CPU_SETSIZE && k < 3; cpu++)
			if (CPU_ISSET(cpu, &set))
				cpus[k++] = cpu;
	if (cpus[0] < 0)
		cpus[0] = 0;
	if (cpus[1] < 0)
		cpus[1] = cpus[0];
	if (cpus[2] < 0)
		cpus[2] = cpus[0]; /* 2 CPUs: the generator shares the main CPU */
	snprintf(lc, lclen, "--lcores=0@%d,1@%d,2@%d", cpus[0], cpus[1], cpus[2]);
	snprintf(pf, pflen, "--file-prefix=umbra-bench-%ld", (long)getpid());
	snprintf(mem, memlen, "%zu", need_mb);
	eal[n++] = prog;
	eal[n++] = (char *)"--no-huge";
	eal[n++] = (char *)"--no-pci";
	eal[n++] = (char *)"--no-shconf";
	eal[n++] = (char *)"--no-telemetry";
	eal[n++] = (char *)"--log-level=5";
	eal[n++] = (char *)"-m";
	eal[n++] = mem;
	eal[n++] = lc;
	eal[n++] = pf;
	eal[n] = NULL;
	return n;
}

/* A net_pcap port on --pcap; k tells the baseline's copy from the run's. */
static uint16_t
open_pcap(unsigned run, unsigned k, struct rte_mempool *pool)
{
	char devargs[4200], name[48];
	struct rte_eth_conf ec;
	uint16_t port;

	snprintf(name, sizeof(name), "net_pcap_bench%u_%u", run, k);
	snprintf(devargs, sizeof(devargs), "%s,rx_pcap=%s", name, o.pcap);
	memset(&ec, 0, sizeof(ec));
	if (rte_dev_probe(devargs) != 0 || rte_eth_dev_get_port_by_name(name, &port) != 0 ||
	    rte_eth_dev_configure(port, 1, 1, &ec) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 64, rte_socket_id(), NULL) != 0 ||
	    rte_eth_dev_start(port) != 0) {
		fprintf(stderr, "umbra-bench: cannot open %s through net_pcap\n", o.pcap);
		return UINT16_MAX;
	}
	return port;
}

static struct rte_mempool *
frames_pool(const char *name, uint32_t n)
{
	return rte_pktmbuf_pool_create(name, n, 256, 0, RTE_PKTMBUF_HEADROOM + MIX_STRIDE,
				       (int)rte_socket_id());
}

int
main(int argc, char **argv)
{
	char *eal_argv[16], lc[64], pf[64], mem[32];
	int sep, eal_argc, rc;
	char **uargv;
	int uargc;
	uint32_t nframes;
	uint8_t *frames;
	uint32_t *lens;
	struct mix_conf mc;
	struct stages st;
	unsigned run;
	struct umbra_classify *cl = NULL, *cl_nohs = NULL;
	uint64_t *pay;

	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep < argc) {
		eal_argc = sep;
		uargv = argv + sep;
		uargc = argc - sep;
	} else {
		eal_argc = 0;
		uargv = argv;
		uargc = argc;
	}
	if ((rc = parse_opts(uargc, uargv)) != 0)
		return rc;

	nframes = (uint32_t)ceil((double)o.flows * o.ppf * (o.feed == FEED_MEM ? 1.5 : 1.0));
	if (nframes < 65536)
		nframes = 65536;
	if (eal_argc == 0) {
		size_t need = (size_t)nframes * 512 / (1 << 20) + 256;

		eal_argc = default_eal(argv[0], eal_argv, lc, sizeof(lc), pf, sizeof(pf), mem,
				       sizeof(mem), need);
		rc = rte_eal_init(eal_argc, eal_argv);
	} else {
		rc = rte_eal_init(eal_argc, argv);
	}
	if (rc < 0) {
		fprintf(stderr, "umbra-bench: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (rte_lcore_count() < 2) {
		fprintf(stderr, "umbra-bench: needs at least 2 lcores\n");
		return 2;
	}
	umbra_darknet_init(&dn);
	umbra_darknet_add(&dn, MIX_DARKNET4);
	umbra_darknet_add(&dn, MIX_DARKNET6);
	if (o.classify) {
		if (make_classify(&cl, &cl_nohs) != 0)
			return 1;
		bench_cl = cl;
	}

	frames = malloc((size_t)nframes * MIX_STRIDE);
	lens = malloc(sizeof(*lens) * nframes);
	memset(&mc, 0, sizeof(mc));
	mc.seed = o.seed;
	mc.packets = nframes;
	mc.flows = (uint32_t)((double)nframes / o.ppf);
	mc.sources = o.sources;
	mc.payload_share = o.payload;
	mc.ipv6_share = o.ipv6;
	mc.dark_share = o.dark;
	if (frames == NULL || lens == NULL || mix_build(&mc, frames, lens) != 0) {
		fprintf(stderr, "umbra-bench: cannot build %u frames\n", nframes);
		return 1;
	}
	memset(&st, 0, sizeof(st));
	if (o.stages)
		measure_stages(frames, lens, nframes, &st);
	if (o.stages) {
		size_t table = (size_t)o.flows * 2 * sizeof(struct umbra_flow_entry);

		for (machine.bytes = 256u << 20; machine.bytes < table; machine.bytes <<= 1)
			;
		rte_eal_remote_launch(memory_probe, &machine, worker_lcore());
		wait_lcore(worker_lcore());
	}
	pay = payload_prefix(frames, lens, nframes);
	if (pay == NULL)
		return 1;

	for (run = 0; run < o.runs; run++) {
		struct umbra_spsc *ring = umbra_spsc_create(1u << 16);
		struct writer wr;
		struct worker_arg base, u, init, nohs, fr;
		struct gen_arg g;
		struct rte_mempool *pool = NULL;
		struct rte_ring *src = NULL, *rxr = NULL;
		char name[32];
		uint16_t port = 0;
		struct writer_figures wf = { .rps = 0 };
		double ndr = -1, pdr = -1, ceiling = -1;
		unsigned wl = worker_lcore(), gl = second_worker_lcore();
		uint32_t i;

		memset(&wr, 0, sizeof(wr));
		memset(&base, 0, sizeof(base));
		memset(&g, 0, sizeof(g));
		wr.ring = ring;
		wr.cap_sample = 2000000;
		wr.sample = malloc(sizeof(*wr.sample) * wr.cap_sample);
		snprintf(name, sizeof(name), "bench_pool_%u", run);
		pool = frames_pool(name, o.feed == FEED_MEM ? nframes : 65535);
		if (pool == NULL || ring == NULL || wr.sample == NULL) {
			fprintf(stderr, "umbra-bench: out of memory (pool of %u mbufs): %s\n", nframes,
				rte_strerror(rte_errno));
			return 1;
		}
		if (o.feed == FEED_MEM) {
			snprintf(name, sizeof(name), "bench_src_%u", run);
			src = rte_ring_create(name, rte_align32pow2(nframes + 1), (int)rte_socket_id(),
					      RING_F_SP_ENQ | RING_F_SC_DEQ);
			for (i = 0; i < nframes; i++) {
				struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

				if (m == NULL || src == NULL)
					return 1;
				memcpy(rte_pktmbuf_mtod(m, void *), frames + (size_t)i * MIX_STRIDE, lens[i]);
				m->data_len = (uint16_t)lens[i];
				m->pkt_len = lens[i];
				rte_ring_sp_enqueue(src, m);
			}
			base.src = src;
		} else if (o.feed == FEED_RING) {
			snprintf(name, sizeof(name), "bench_rx_%u", run);
			rxr = rte_ring_create(name, 4096, (int)rte_socket_id(), RING_F_SP_ENQ | RING_F_SC_DEQ);
			snprintf(name, sizeof(name), "net_ring_bench%u", run);
			rc = rxr != NULL ? rte_eth_from_rings(name, &rxr, 1, &rxr, 1, rte_socket_id()) : -1;
			if (rc < 0) {
				fprintf(stderr, "umbra-bench: cannot create the net_ring port\n");
				return 1;
			}
			port = (uint16_t)rc;
			{
				struct rte_eth_conf ec;

				memset(&ec, 0, sizeof(ec));
				if (rte_eth_dev_configure(port, 1, 1, &ec) != 0 ||
				    rte_eth_rx_queue_setup(port, 0, 4096, rte_socket_id(), NULL, pool) != 0 ||
				    rte_eth_tx_queue_setup(port, 0, 4096, rte_socket_id(), NULL) != 0 ||
				    rte_eth_dev_start(port) != 0) {
					fprintf(stderr, "umbra-bench: cannot start the net_ring port\n");
					return 1;
				}
			}
			if (gl == RTE_MAX_LCORE) {
				fprintf(stderr, "umbra-bench: --feed ring needs 3 lcores\n");
				return 2;
			}
			g.rx = rxr;
			g.pool = pool;
			g.frames = frames;
			g.len = lens;
			g.nframes = nframes;
			base.port = port;
		} else {
			port = open_pcap(run, 0, pool);
			if (port == UINT16_MAX)
				return 1;
			base.port = port;
		}
		base.packets = o.packets;
		base.t0_ns = 1714521600ull * 1000000000ull;
		base.sim_ns = o.sim_ns;
		u = base;

		/* 1. baseline: receive and free, nothing else */
		if (o.feed == FEED_PCAP) {
			base.packets = UINT64_MAX;
			rte_eal_remote_launch(worker_port, &base, wl);
			wait_lcore(wl);
			u.port = open_pcap(run, 1, pool);
			if (u.port == UINT16_MAX)
				return 1;
		} else if (o.feed == FEED_MEM) {
			rte_eal_remote_launch(worker_mem, &base, wl);
			wait_lcore(wl);
		} else if (o.feed == FEED_RING) {
			g.packets = o.packets;
			g.rate_pps = 0;
			base.gen_done = &g.done;
			rte_eal_remote_launch(generator, &g, gl);
			rte_eal_remote_launch(worker_port, &base, wl);
			wait_lcore(gl);
			wait_lcore(wl);
			ceiling = g.tsc ? (double)g.sent / ((double)g.tsc / (double)rte_get_tsc_hz()) / 1e6 : 0;
		}
		fill_result(&base, NULL);

		/*
		 * 1b. mem feed: parse, darknet filter, packet class and counters
		 * alone (umbra_worker_front(), the first part of the pipeline),
		 * on the next packets of the same ring
		 */
		memset(&fr, 0, sizeof(fr));
		init = u;
		if (o.feed == FEED_MEM) {
			fr = u;
			fr.front = 1;
			fr.w = make_worker(ring, NULL, 0);
			if (fr.w == NULL) {
				fprintf(stderr, "umbra-bench: cannot create the worker (%u flows)\n", o.flows);
				return 1;
			}
			rte_eal_remote_launch(worker_mem, &fr, wl);
			wait_lcore(wl);
			umbra_worker_free(fr.w);
			fr.w = NULL;
			fill_result(&fr, NULL);
		}

		/* 2. the pipeline on the same packets from the same source */
		u.w = make_worker(ring, cl, o.flows);
		if (u.w == NULL) {
			fprintf(stderr, "umbra-bench: cannot create the worker (%u flows)\n", o.flows);
			return 1;
		}
		if (o.dump) {
			char dir[256];

			snprintf(dir, sizeof(dir), "%s/run%u", o.out, run);
			wr.dw = open_dump(dir);
		}
		pthread_create(&wr.t, NULL, writer_main, &wr);
		if (o.feed == FEED_MEM) {
			rte_eal_remote_launch(worker_mem, &u, wl);
			wait_lcore(wl);
		} else if (o.feed == FEED_RING) {
			g.packets = o.packets;
			g.rate_pps = 0;
			g.done = 0;
			u.gen_done = &g.done;
			rte_eal_remote_launch(generator, &g, gl);
			rte_eal_remote_launch(worker_port, &u, wl);
			wait_lcore(gl);
			wait_lcore(wl);
		} else {
			u.packets = UINT64_MAX;
			rte_eal_remote_launch(worker_port, &u, wl);
			wait_lcore(wl);
		}
		finish_pass(&u, &wr); /* NDR trials below drain to nowhere */
		/* the baseline and the front went through the ring's first frames */
		if (o.feed == FEED_MEM)
			u.r.payload_packets = payload_count(pay, nframes, base.r.packets + fr.r.packets,
							    u.r.packets);

		/* 2b. the same without payload signatures: Hyperscan's share */
		memset(&nohs, 0, sizeof(nohs));
		if (cl_nohs != NULL && o.feed == FEED_MEM) {
			struct umbra_spsc *ring2 = umbra_spsc_create(1u << 16);
			struct writer wr2;

			memset(&wr2, 0, sizeof(wr2));
			nohs = init;
			nohs.w = ring2 != NULL ? make_worker(ring2, cl_nohs, o.flows) : NULL;
			if (nohs.w != NULL) {
				wr2.ring = ring2;
				if (o.dump) {
					char dir[256];

					snprintf(dir, sizeof(dir), "%s/run%u-nohs", o.out, run);
					wr2.dw = open_dump(dir);
				}
				pthread_create(&wr2.t, NULL, writer_main, &wr2);
				rte_eal_remote_launch(worker_mem, &nohs, wl);
				wait_lcore(wl);
				finish_pass(&nohs, &wr2);
				umbra_worker_free(nohs.w);
			}
			umbra_spsc_free(ring2);
		}

		/* 3. NDR: highest offered rate with zero loss, binary search */
		if (o.ndr && o.feed == FEED_RING) {
			double lo = 0, hi = ceiling * 1e6, best = 0, best_pdr = 0;
			int iter;

			for (iter = 0; iter < 12 && hi > 0; iter++) {
				double rate = iter == 0 ? hi : (lo + hi) / 2;
				struct worker_arg t = base;
				uint64_t drops0, lost;

				t.w = u.w;
				g.packets = (uint64_t)(rate * o.trial_ms / 1000.0);
				g.rate_pps = rate;
				g.done = 0;
				t.gen_done = &g.done;
				drops0 = u.w->cnt->records_dropped_packets;
				wr.stop = 0;
				pthread_create(&wr.t, NULL, writer_main, &wr);
				rte_eal_remote_launch(generator, &g, gl);
				rte_eal_remote_launch(worker_port, &t, wl);
				wait_lcore(gl);
				wait_lcore(wl);
				wr.stop = 1;
				pthread_join(wr.t, NULL);
				lost = g.missed + g.nombuf + (u.w->cnt->records_dropped_packets - drops0);
				if (lost == 0) {
					best = rate;
					lo = rate;
				} else {
					hi = rate;
				}
				if ((double)lost <= 0.005 * (double)g.packets && rate > best_pdr)
					best_pdr = rate;
			}
			ndr = best / 1e6;
			pdr = best_pdr / 1e6;
		}
		measure_writer(wr.sample, wr.nsample, &wf);
		measure_writer_parts(wr.sample, wr.nsample, &wf);
		json_run(stdout, o.feed == FEED_MEM ? "mem" : o.feed == FEED_RING ? "ring" : "pcap",
			 &base.r, &u.r, fr.r.packets ? &fr.r : NULL, nohs.r.packets ? &nohs.r : NULL, &st, &wf,
			 o.feed == FEED_RING ? &g : NULL, ndr, pdr, ceiling);
		umbra_worker_free(u.w);
		umbra_spsc_free(ring);
		free(wr.sample);
		if (o.feed != FEED_MEM) {
			rte_eth_dev_stop(port);
			rte_eth_dev_close(port);
		}
		if (o.feed == FEED_PCAP && u.port != port) {
			rte_eth_dev_stop(u.port);
			rte_eth_dev_close(u.port);
		}
		rte_ring_free(src);
		rte_ring_free(rxr);
		rte_mempool_free(pool);
	}
	free(frames);
	free(lens);
	free(pay);
	umbra_classify_free(cl);
	umbra_classify_free(cl_nohs);
	rte_eal_cleanup();
	return 0;
}
