/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze surge: source groups (/24, /16, named ranges, AS, country)
 * whose number of distinct sources per day jumps against their own
 * trailing baseline, like the five ranges of one ISP whose routers started
 * Telnet scanning around Golden Week 2024 in the TSUBAME report.
 *
 * The workers keep the exact set of (day, source) pairs; the main thread
 * maps each source to its group(s) once and counts per (group, day). Day d
 * of a group is a surge when, with the mean of the baseline_days before it
 * as baseline b (days without sources count as 0):
 *     sources(d) >= min_sources  and  sources(d) >= factor * max(b, 1)
 * and the data covers every baseline day. A group is reported once, at
 * its first surge day; groups are ranked by that day's factor.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze-cmds.h"

struct an_surge {
	struct an_surge_cfg cfg;
	struct an_map pairs; /* (src, family, day) -> 1 */
};

struct surge_tls {
	const struct an_surge *s;
	struct an_map pairs;
	/* the last pair added: a source's flows come together */
	struct an_key last;
	int have_last;
	struct an_markbuf pend; /* pairs on their way into pairs */
	int nomem;
};

static void surge_flush(struct surge_tls *t)
{
	if (an_markbuf_flush(&t->pend, &t->pairs) < 0)
		t->nomem = 1;
}

static void *surge_tls_new(void *ctx)
{
	struct surge_tls *t = calloc(1, sizeof(*t));
	if (t)
		t->s = ctx;
	return t;
}

static inline void surge_add(struct surge_tls *t, const uint8_t *src, int fam, uint64_t first_ns)
{
	struct an_key k;
	memcpy(&k.a, src, 8);
	memcpy(&k.b, src + 8, 8);
	k.c = (uint64_t)fam << 32 | (first_ns / AN_DAY_NS);
	if (t->have_last && k.a == t->last.a && k.b == t->last.b && k.c == t->last.c)
		return;
	t->last = k;
	t->have_last = 1;
	if (an_markbuf_add(&t->pend, &t->pairs, &k) < 0)
		t->nomem = 1;
}

static void surge_add_cb(void *tls, const uint8_t *src, int fam, uint64_t first_ns)
{
	surge_add(tls, src, fam, first_ns);
}

static void surge_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		       size_t n)
{
	const struct an_surge_cfg *cfg = &((struct surge_tls *)tls)->s->cfg;
	(void)f;
	an_src_recs(cfg->proto, cfg->port, r, n, surge_add_cb, tls);
	surge_flush(tls);
}

static void surge_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	const struct an_surge_cfg *cfg = &((struct surge_tls *)tls)->s->cfg;
	(void)f;
	an_src_view(cfg->proto, cfg->port, v, surge_add_cb, tls);
	surge_flush(tls);
}

static int surge_merge(void *ctx, void *tls)
{
	struct an_surge *s = ctx;
	struct surge_tls *t = tls;
	surge_flush(t);
	int rc = an_map_absorb(&s->pairs, &t->pairs, 1);
	if (t->nomem)
		rc = -ENOMEM;
	free(t);
	return rc;
}

struct an_surge *an_surge_new(const struct an_surge_cfg *cfg)
{
	struct an_surge *s = calloc(1, sizeof(*s));
	if (s)
		s->cfg = *cfg;
	return s;
}

void an_surge_consumer(struct an_surge *s, struct an_consumer *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx = s;
	c->cols = UMBRA_COL_SRC | UMBRA_COL_FIRST | UMBRA_COL_DPORT | UMBRA_COL_PROFILE;
	c->tls_new = surge_tls_new;
	c->view = surge_view;
	c->recs = surge_recs;
	c->merge = surge_merge;
}

static int cmp_rows(const void *a, const void *b)
{
	const struct an_surge_row *x = a, *y = b;
	if (x->factor != y->factor)
		return x->factor < y->factor ? 1 : -1;
	if (x->sources != y->sources)
		return x->sources < y->sources ? 1 : -1;
	return strcmp(x->group, y->group);
}

int an_surge_build(struct an_surge *s, const struct an_opts *o, struct an_surge_result *res)
{
	const struct an_surge_cfg *cfg = &s->cfg;
	struct an_map gidx = {0}, counts = {0};
	struct an_gkey *keys = NULL;
	size_t nkeys = 0, kcap = 0, rcap = 0;
	uint64_t *series = NULL;
	unsigned lo = UINT32_MAX, hi = 0;
	int rc = -ENOMEM;

	memset(res, 0, sizeof(*res));
	/* group every (day, source) once: the lookups run per distinct source */
	for (size_t i = 0; i < s->pairs.cap + 1; i++) {
		const struct an_slot *sl;
		struct an_slot zero = {{0, 0, 0}, 0};
		if (i == s->pairs.cap) {
			if (!s->pairs.has_zero)
				break;
			sl = &zero;
		} else {
			sl = &s->pairs.s[i];
			if ((sl->k.a | sl->k.b | sl->k.c) == 0)
				continue;
		}
		uint8_t addr[16];
		memcpy(addr, &sl->k.a, 8);
		memcpy(addr + 8, &sl->k.b, 8);
		int fam = (int)(sl->k.c >> 32);
		unsigned day = (unsigned)(sl->k.c & 0xffffffffu);
		if (day < lo)
			lo = day;
		if (day > hi)
			hi = day;
		struct an_gkey gk[16];
		size_t ng = an_group_of(cfg->g, addr, fam, gk, 16);
		for (size_t j = 0; j < ng; j++) {
			struct an_key k;
			memcpy(&k, &gk[j], sizeof(k));
			uint64_t *gi = an_map_get(&gidx, &k);
			if (!gi)
				goto out;
			if (!*gi) {
				if (nkeys == kcap) {
					kcap = kcap ? 2 * kcap : 64;
					struct an_gkey *nk = realloc(keys, kcap * sizeof(*nk));
					if (!nk)
						goto out;
					keys = nk;
				}
				keys[nkeys] = gk[j];
				*gi = ++nkeys;
			}
			struct an_key ck = {*gi, day, 1};
			uint64_t *c = an_map_get(&counts, &ck);
			if (!c)
				goto out;
			(*c)++;
		}
	}
	if (o->window) {
		lo = (unsigned)(o->from_ns / AN_DAY_NS);
		if (o->to_ns != UINT64_MAX)
			hi = (unsigned)((o->to_ns - 1) / AN_DAY_NS);
	}
	res->groups = nkeys;
	if (lo > hi || nkeys == 0) {
		rc = 0;
		goto out;
	}
	res->first_day = lo;
	res->last_day = hi;
	size_t ndays = (size_t)(hi - lo) + 1;
	series = calloc(ndays * nkeys, sizeof(*series));
	if (!series)
		goto out;
	for (size_t i = 0; i < counts.cap; i++) {
		const struct an_slot *sl = &counts.s[i];
		if ((sl->k.a | sl->k.b | sl->k.c) == 0 || sl->k.b < lo || sl->k.b > hi)
			continue;
		series[(sl->k.a - 1) * ndays + (sl->k.b - lo)] = sl->v;
	}
	for (size_t g = 0; g < nkeys; g++) {
		const uint64_t *c = series + g * ndays;
		uint64_t sum = 0;
		for (size_t d = 0; d < ndays; d++) {
			/* sum holds the previous baseline_days values */
			if (d >= cfg->baseline_days) {
				double b = (double)sum / cfg->baseline_days;
				double f = (double)c[d] / (b > 1.0 ? b : 1.0);
				if (c[d] >= cfg->min_sources && f >= cfg->factor) {
					if (res->nrows == rcap) {
						rcap = rcap ? 2 * rcap : 16;
						struct an_surge_row *nr = realloc(res->rows, rcap * sizeof(*nr));
						if (!nr)
							goto out;
						res->rows = nr;
					}
					struct an_surge_row *r = &res->rows[res->nrows++];
					memset(r, 0, sizeof(*r));
					an_group_name(cfg->g, &keys[g], r->group, sizeof(r->group));
					r->start_day = lo + (unsigned)d;
					r->sources = c[d];
					r->baseline = b;
					r->factor = f;
					for (size_t e = d; e < ndays; e++)
						if (c[e] > r->peak_sources) {
							r->peak_sources = c[e];
							r->peak_day = lo + (unsigned)e;
						}
					break;
				}
				sum -= c[d - cfg->baseline_days];
			}
			sum += c[d];
		}
	}
	an_qsort(res->rows, res->nrows, sizeof(*res->rows), cmp_rows);
	rc = 0;
out:
	free(series);
	free(keys);
	an_map_free(&gidx);
	an_map_free(&counts);
	if (rc < 0) {
		free(res->rows);
		memset(res, 0, sizeof(*res));
	}
	return rc;
}

void an_surge_free(struct an_surge *s, struct an_surge_result *res)
{
	if (res) {
		free(res->rows);
		memset(res, 0, sizeof(*res));
	}
	if (s) {
		an_map_free(&s->pairs);
		free(s);
	}
}

void an_surge_print(const struct an_surge_result *res, const struct an_surge_cfg *cfg,
		    enum an_fmt fmt, const char *port, const char *group, size_t top)
{
	char d1[16], d2[16];
	size_t n = res->nrows;
	if (top && top < n)
		n = top;
	if (fmt == AN_FMT_JSON) {
		printf("{\"port\":");
		if (port)
			an_json_str(port);
		else
			printf("null");
		printf(",\"group_by\":");
		an_json_str(group);
		printf(",\"baseline_days\":%" PRIu64 ",\"factor\":%g,\"min_sources\":%" PRIu64
		       ",\"groups\":%" PRIu64 ",\"surges\":[",
		       (uint64_t)cfg->baseline_days, cfg->factor, cfg->min_sources, res->groups);
	} else if (fmt == AN_FMT_CSV) {
		printf("rank,group,start,sources,baseline,factor,peak_day,peak_sources\n");
	} else {
		printf("%4s  %-24s %-10s %8s %9s %8s  %-10s %8s\n", "rank", "group", "start",
		       "sources", "baseline", "factor", "peak day", "peak");
	}
	for (size_t i = 0; i < n; i++) {
		const struct an_surge_row *r = &res->rows[i];
		an_fmt_date((uint64_t)r->start_day * AN_DAY_NS, d1, sizeof(d1));
		an_fmt_date((uint64_t)r->peak_day * AN_DAY_NS, d2, sizeof(d2));
		if (fmt == AN_FMT_JSON) {
			printf("%s{\"group\":", i ? "," : "");
			an_json_str(r->group);
			printf(",\"start\":\"%s\",\"sources\":%" PRIu64 ",\"baseline\":%.4f,"
			       "\"factor\":%.4f,\"peak_day\":\"%s\",\"peak_sources\":%" PRIu64 "}",
			       d1, r->sources, r->baseline, r->factor, d2, r->peak_sources);
		} else if (fmt == AN_FMT_CSV) {
			printf("%zu,", i + 1);
			an_csv_str(r->group);
			printf(",%s,%" PRIu64 ",%.4f,%.4f,%s,%" PRIu64 "\n", d1, r->sources,
			       r->baseline, r->factor, d2, r->peak_sources);
		} else {
			printf("%4zu  %-24s %-10s %8" PRIu64 " %9.2f %8.1f  %-10s %8" PRIu64 "\n", i + 1,
			       r->group, d1, r->sources, r->baseline, r->factor, d2, r->peak_sources);
		}
	}
	if (fmt == AN_FMT_JSON)
		printf("]}\n");
	else if (fmt == AN_FMT_TABLE)
		printf("%zu surging of %" PRIu64 " source groups%s%s\n", res->nrows, res->groups,
		       port ? " sending to " : "", port ? port : "");
}

/* ---- command --------------------------------------------------------------- */

static const char surge_help[] =
	"usage: umbra-analyze surge [--port 23/tcp] [--group /24|/16|/N[,/M]|ranges FILE|asn|country]\n"
	"           [--baseline DAYS] [--factor F] [--min-sources N] [-n N] [--asn FILE]\n"
	"           [--mmdb FILE] [--from T] [--to T] [--filter EXPR] [--threads N]\n"
	"           [--format table|csv|json] PATH...\n"
	"A day is a surge for a group when its distinct sources reach --min-sources (10)\n"
	"and --factor (5) times the mean of the --baseline (7) days before it.\n";

struct surge_args {
	struct an_opts *o;
	const char *port, *group, *group_file;
	uint64_t baseline, min_sources, top;
	double factor;
};

static int surge_opt(void *arg, int c, const char *v)
{
	struct surge_args *a = arg;
	char *end;
	switch (c) {
	case 'p':
		a->port = v;
		return 0;
	case 'g':
		a->group = v;
		return 0;
	case 'b':
		if (an_parse_uint(v, 365, &a->baseline) < 0 || a->baseline == 0)
			return an_usage(a->o, "bad value for --baseline (days, 1-365)", v);
		return 0;
	case 'f':
		a->factor = strtod(v, &end);
		if (*end || end == v || !(a->factor >= 1.0) || a->factor > 1e9)
			return an_usage(a->o, "bad value for --factor (>= 1)", v);
		return 0;
	case 'm':
		if (an_parse_uint(v, UINT32_MAX, &a->min_sources) < 0 || a->min_sources == 0)
			return an_usage(a->o, "bad value for --min-sources", v);
		return 0;
	case 'n':
		if (an_parse_uint(v, UINT32_MAX, &a->top) < 0 || a->top == 0)
			return an_usage(a->o, "bad value for -n", v);
		return 0;
	case 'G':
		a->group_file = v;
		return 0;
	}
	return 1;
}

int analyze_surge(int argc, char **argv)
{
	static const struct option own[] = {
		{"port", required_argument, NULL, 'p'},
		{"group", required_argument, NULL, 'g'},
		{"ranges", required_argument, NULL, 'G'},
		{"baseline", required_argument, NULL, 'b'},
		{"factor", required_argument, NULL, 'f'},
		{"min-sources", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "surge", .fmt = AN_FMT_TABLE,
			    .fmt_allowed = 1u << AN_FMT_TABLE | 1u << AN_FMT_CSV | 1u << AN_FMT_JSON};
	struct surge_args a = {.o = &o, .group = "/24", .baseline = 7, .min_sources = 10,
			       .factor = 5.0};

	/* "--group ranges FILE": fold the FILE into --ranges before parsing */
	for (int i = 1; i + 2 < argc; i++)
		if (strcmp(argv[i], "--group") == 0 && strcmp(argv[i + 1], "ranges") == 0 &&
		    argv[i + 2][0] != '-') {
			a.group_file = argv[i + 2];
			memmove(&argv[i + 2], &argv[i + 3], sizeof(char *) * (size_t)(argc - i - 2));
			argc--;
			break;
		}
	int rc = an_parse_args(&o, argc, argv, own, "n:", surge_opt, &a, surge_help);
	if (rc)
		return an_opts_free(&o), rc < 0 ? 0 : rc;

	if (o.approx)
		return an_opts_free(&o),
		       an_usage(&o, "--approx is not supported by surge (its counts are exact)", NULL);
	struct an_surge_cfg cfg = {.port = -1, .baseline_days = (unsigned)a.baseline,
				   .factor = a.factor, .min_sources = a.min_sources};
	struct an_grouper g;
	if (a.port && an_parse_portspec(a.port, &cfg.proto, &cfg.port) < 0)
		return an_opts_free(&o), an_usage(&o, "bad value for --port (23/tcp, 53/udp, icmp)",
						   a.port);
	if ((rc = an_grouper_init(&g, &o, a.group, a.group_file)) != 0)
		return an_opts_free(&o), rc;
	cfg.g = &g;

	struct an_surge *s = an_surge_new(&cfg);
	struct an_names engines = {0};
	struct an_consumer cons;
	struct an_scan_stats st;
	struct an_surge_result res = {0};
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	an_surge_consumer(s, &cons);
	rc = an_scan(&o, argc - optind, argv + optind, &cons, 1, &engines, &st);
	if (rc >= 0) {
		int k = an_surge_build(s, &o, &res);
		if (k < 0)
			rc = k;
	}
	if (rc < 0)
		goto out;

	an_surge_print(&res, &cfg, o.fmt, a.port, a.group, (size_t)a.top);
out:
	if (rc < 0) {
		fprintf(stderr, "umbra-analyze surge: %s\n", strerror(-rc));
		rc = 1;
	}
	an_surge_free(s, &res);
	an_grouper_free(&g);
	an_names_free(&engines);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
