/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze sources: distinct source addresses per named range per
 * interval (the data of the TSUBAME report's Figure 2). Exact: every
 * (range, interval, source) is kept in a per-thread set and the sets are
 * merged; --approx keeps one HyperLogLog per (range, interval) instead.
 * A source counts in the interval of the first packet of each of its flows.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze-cmds.h"

struct an_sources {
	struct an_sources_cfg cfg;
	struct an_map set;   /* exact: (src, range, bin) -> 1; approx: (range, bin) -> hll + 1 */
	struct an_hll *hll;
	size_t nhll, hllcap;
	uint64_t min_bin, max_bin;
};

struct src_tls {
	const struct an_sources *s;
	struct an_map set;
	struct an_hll *hll;
	size_t nhll, hllcap;
	uint64_t min_bin, max_bin;
	/* the last source's ranges: blocks are sorted by source */
	uint8_t last[16];
	int last_fam;
	uint32_t ids[16];
	size_t nids;
	/* its last bin, already in the set (UINT64_MAX: none) */
	uint64_t last_bin;
	struct an_markbuf pend; /* exact: keys on their way into set */
	int nomem;
};

static void src_flush(struct src_tls *t)
{
	if (an_markbuf_flush(&t->pend, &t->set) < 0)
		t->nomem = 1;
}

static void *src_tls_new(void *ctx)
{
	struct src_tls *t = calloc(1, sizeof(*t));
	if (t) {
		t->s = ctx;
		t->min_bin = UINT64_MAX;
		t->last_bin = UINT64_MAX;
	}
	return t;
}

static int hll_slot(struct an_map *m, struct an_hll **hll, size_t *n, size_t *cap,
		    const struct an_key *k, struct an_hll **out)
{
	uint64_t *v = an_map_get(m, k);
	if (!v)
		return -ENOMEM;
	if (!*v) {
		if (*n == *cap) {
			size_t c = *cap ? 2 * *cap : 16;
			struct an_hll *nh = realloc(*hll, c * sizeof(*nh));
			if (!nh)
				return -ENOMEM;
			*hll = nh;
			*cap = c;
		}
		memset(&(*hll)[*n], 0, sizeof(**hll));
		*v = ++*n;
	}
	*out = &(*hll)[*v - 1];
	return 0;
}

static void add_source(struct src_tls *t, const uint8_t *addr, int fam, uint64_t first_ns)
{
	const struct an_sources_cfg *cfg = &t->s->cfg;
	if (t->last_fam != fam || memcmp(t->last, addr, 16) != 0) {
		memcpy(t->last, addr, 16);
		t->last_fam = fam;
		t->nids = an_pfx_all(cfg->ranges->pfx, addr, fam, t->ids, 16);
		t->last_bin = UINT64_MAX;
	}
	if (!t->nids)
		return;
	uint64_t bin = first_ns / cfg->interval_ns;
	/* a source's flows come together: each (source, bin) once */
	if (bin == t->last_bin)
		return;
	t->last_bin = bin;
	if (bin < t->min_bin)
		t->min_bin = bin;
	if (bin > t->max_bin)
		t->max_bin = bin;
	for (size_t i = 0; i < t->nids; i++) {
		if (cfg->approx) {
			struct an_key k = {(uint64_t)t->ids[i] + 1, bin, 0};
			struct an_hll *h;
			if (hll_slot(&t->set, &t->hll, &t->nhll, &t->hllcap, &k, &h) == 0)
				an_hll_add(h, an_addr_hash(addr, fam));
			else
				t->nomem = 1;
		} else {
			struct an_key k;
			memcpy(&k.a, addr, 8);
			memcpy(&k.b, addr + 8, 8);
			k.c = (uint64_t)t->ids[i] << 40 | (uint64_t)fam << 32 | (bin & 0xffffffffu);
			if (an_markbuf_add(&t->pend, &t->set, &k) < 0)
				t->nomem = 1;
		}
	}
}

static void src_add(void *tls, const uint8_t *src, int fam, uint64_t first_ns)
{
	add_source(tls, src, fam, first_ns);
}

static void src_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		     size_t n)
{
	const struct an_sources_cfg *cfg = &((struct src_tls *)tls)->s->cfg;
	(void)f;
	an_src_recs(cfg->proto, cfg->port, r, n, src_add, tls);
	src_flush(tls);
}

static void src_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	const struct an_sources_cfg *cfg = &((struct src_tls *)tls)->s->cfg;
	(void)f;
	an_src_view(cfg->proto, cfg->port, v, src_add, tls);
	src_flush(tls);
}

static int src_merge(void *ctx, void *tls)
{
	struct an_sources *s = ctx;
	struct src_tls *t = tls;
	src_flush(t);
	int rc = t->nomem ? -ENOMEM : 0;
	if (t->min_bin != UINT64_MAX) {
		if (t->min_bin < s->min_bin)
			s->min_bin = t->min_bin;
		if (t->max_bin > s->max_bin)
			s->max_bin = t->max_bin;
	}
	if (!s->cfg.approx) {
		if (an_map_absorb(&s->set, &t->set, 0) < 0)
			rc = -ENOMEM;
	} else {
		for (size_t i = 0; i < t->set.cap && rc == 0; i++) {
			const struct an_slot *sl = &t->set.s[i];
			if ((sl->k.a | sl->k.b | sl->k.c) == 0)
				continue;
			struct an_hll *h;
			rc = hll_slot(&s->set, &s->hll, &s->nhll, &s->hllcap, &sl->k, &h);
			if (rc == 0)
				an_hll_merge(h, &t->hll[sl->v - 1]);
		}
		an_map_free(&t->set);
	}
	free(t->hll);
	free(t);
	return rc;
}

struct an_sources *an_sources_new(const struct an_sources_cfg *cfg)
{
	struct an_sources *s = calloc(1, sizeof(*s));
	if (s) {
		s->cfg = *cfg;
		s->min_bin = UINT64_MAX;
	}
	return s;
}

void an_sources_consumer(struct an_sources *s, struct an_consumer *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx = s;
	c->cols = UMBRA_COL_SRC | UMBRA_COL_FIRST | UMBRA_COL_DPORT | UMBRA_COL_PROFILE;
	c->tls_new = src_tls_new;
	c->view = src_view;
	c->recs = src_recs;
	c->merge = src_merge;
}

int an_sources_build(struct an_sources *s, const struct an_opts *o,
		     struct an_sources_result *res)
{
	size_t nr = s->cfg.ranges->names.n;
	memset(res, 0, sizeof(*res));
	res->nranges = nr;
	res->names = s->cfg.ranges->names.v;
	res->interval_ns = s->cfg.interval_ns;
	uint64_t lo = s->min_bin, hi = s->max_bin;
	if (o->window) {
		/* the whole window, empty intervals included */
		lo = o->from_ns / s->cfg.interval_ns;
		if (o->to_ns != UINT64_MAX)
			hi = (o->to_ns - 1) / s->cfg.interval_ns;
		else if (s->min_bin == UINT64_MAX)
			hi = lo;
	}
	if (lo == UINT64_MAX)
		return 0; /* nothing matched */
	if (hi - lo > 10000000)
		return -E2BIG;
	res->first_bin = lo;
	res->nbins = hi - lo + 1;
	res->count = calloc(res->nbins * nr, sizeof(double));
	if (!res->count)
		return -ENOMEM;
	for (size_t i = 0; i < s->set.cap; i++) {
		const struct an_slot *sl = &s->set.s[i];
		if ((sl->k.a | sl->k.b | sl->k.c) == 0)
			continue;
		uint64_t range, bin;
		double add = 1;
		if (s->cfg.approx) {
			range = sl->k.a - 1;
			bin = sl->k.b;
			add = round(an_hll_count(&s->hll[sl->v - 1]));
		} else {
			range = sl->k.c >> 40;
			bin = sl->k.c & 0xffffffffu;
		}
		if (bin < lo || bin > hi)
			continue;
		res->count[(bin - lo) * nr + range] += add;
	}
	return 0;
}

void an_sources_free(struct an_sources *s, struct an_sources_result *res)
{
	if (res) {
		free(res->count);
		memset(res, 0, sizeof(*res));
	}
	if (s) {
		an_map_free(&s->set);
		free(s->hll);
		free(s);
	}
}

/* ---- command ------------------------------------------------------------- */

void an_sources_print(const struct an_sources_result *res, enum an_fmt fmt, const char *port,
		      int approx)
{
	char t[40];
	size_t nr = res->nranges;
	if (fmt == AN_FMT_JSON) {
		printf("{\"interval\":%" PRIu64 ",\"port\":", (uint64_t)(res->interval_ns / AN_NSEC));
		if (port)
			an_json_str(port);
		else
			printf("null");
		printf(",\"exact\":%s,\"ranges\":[", approx ? "false" : "true");
		for (size_t r = 0; r < nr; r++) {
			printf("%s", r ? "," : "");
			an_json_str(res->names[r]);
		}
		printf("],\"bins\":[");
		for (uint64_t b = 0; b < res->nbins; b++) {
			an_fmt_time((res->first_bin + b) * res->interval_ns, t, sizeof(t));
			printf("%s{\"start\":\"%s\",\"sources\":{", b ? "," : "", t);
			for (size_t r = 0; r < nr; r++) {
				printf("%s", r ? "," : "");
				an_json_str(res->names[r]);
				printf(":%.0f", res->count[b * nr + r]);
			}
			printf("}}");
		}
		printf("]}\n");
	} else if (fmt == AN_FMT_CSV) {
		printf("start,range,sources\n");
		for (uint64_t b = 0; b < res->nbins; b++) {
			an_fmt_time((res->first_bin + b) * res->interval_ns, t, sizeof(t));
			for (size_t r = 0; r < nr; r++) {
				printf("%s,", t);
				an_csv_str(res->names[r]);
				printf(",%.0f\n", res->count[b * nr + r]);
			}
		}
	} else {
		printf("%-20s", "start");
		for (size_t r = 0; r < nr; r++)
			printf(" %12.12s", res->names[r]);
		printf("\n");
		for (uint64_t b = 0; b < res->nbins; b++) {
			an_fmt_time((res->first_bin + b) * res->interval_ns, t, sizeof(t));
			printf("%-20s", t);
			for (size_t r = 0; r < nr; r++)
				printf(" %12.0f", res->count[b * nr + r]);
			printf("\n");
		}
		printf("distinct source addresses per range per %" PRIu64 " s%s%s%s\n",
		       (uint64_t)(res->interval_ns / AN_NSEC), port ? ", to " : "", port ? port : "",
		       approx ? " (approximate: HyperLogLog)" : " (exact)");
	}
}

static const char sources_help[] =
	"usage: umbra-analyze sources --ranges FILE [--port 23/tcp] [--interval day|hour|SECONDS]\n"
	"           [--approx] [--from T] [--to T] [--filter EXPR] [--threads N]\n"
	"           [--format table|csv|json] PATH...\n"
	"FILE: one range per line, 'NAME CIDR [CIDR...]'; a name may repeat.\n";

struct sources_args {
	struct an_opts *o;
	const char *ranges;
	const char *port;
	uint64_t interval_ns;
};

static int sources_opt(void *arg, int c, const char *v)
{
	struct sources_args *a = arg;
	uint64_t x;
	switch (c) {
	case 'r':
		a->ranges = v;
		return 0;
	case 'p':
		a->port = v;
		return 0;
	case 'i':
		if (strcmp(v, "day") == 0)
			a->interval_ns = AN_DAY_NS;
		else if (strcmp(v, "hour") == 0)
			a->interval_ns = 3600 * AN_NSEC;
		else if (an_parse_uint(v, 100ull * 365 * 86400, &x) == 0 && x > 0)
			a->interval_ns = x * AN_NSEC;
		else
			return an_usage(a->o, "bad value for --interval", v);
		return 0;
	}
	return 1;
}

int analyze_sources(int argc, char **argv)
{
	static const struct option own[] = {
		{"ranges", required_argument, NULL, 'r'},
		{"port", required_argument, NULL, 'p'},
		{"interval", required_argument, NULL, 'i'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "sources", .fmt = AN_FMT_TABLE,
			    .fmt_allowed = 1u << AN_FMT_TABLE | 1u << AN_FMT_CSV | 1u << AN_FMT_JSON};
	struct sources_args a = {.o = &o, .interval_ns = AN_DAY_NS};
	int rc = an_parse_args(&o, argc, argv, own, NULL, sources_opt, &a, sources_help);
	if (rc)
		return an_opts_free(&o), rc < 0 ? 0 : rc;

	struct an_sources_cfg cfg = {.interval_ns = a.interval_ns, .port = -1,
				     .approx = o.approx};
	struct an_ranges ranges;
	if (!a.ranges)
		return an_opts_free(&o), an_usage(&o, "--ranges FILE is required", NULL);
	if (a.port && an_parse_portspec(a.port, &cfg.proto, &cfg.port) < 0)
		return an_opts_free(&o), an_usage(&o, "bad value for --port (23/tcp, 53/udp, icmp)",
						   a.port);
	if (an_ranges_load(&ranges, a.ranges, o.cmd) < 0)
		return an_opts_free(&o), 2;
	cfg.ranges = &ranges;

	struct an_sources *s = an_sources_new(&cfg);
	struct an_names engines = {0};
	struct an_consumer cons;
	struct an_scan_stats st;
	struct an_sources_result res = {0};
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	an_sources_consumer(s, &cons);
	rc = an_scan(&o, argc - optind, argv + optind, &cons, 1, &engines, &st);
	if (rc >= 0) {
		int k = an_sources_build(s, &o, &res);
		if (k < 0)
			rc = k;
	}
	if (rc < 0)
		goto out;

	an_sources_print(&res, o.fmt, a.port, o.approx);
out:
	if (rc < 0) {
		fprintf(stderr, "umbra-analyze sources: %s\n", strerror(-rc));
		rc = 1;
	}
	an_sources_free(s, &res);
	an_ranges_free(&ranges);
	an_names_free(&engines);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
