/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze scanners: source addresses ranked by packets and by the
 * number of distinct sensors (destination addresses) they hit, with the
 * union of their tags, scanner tools, p0f labels and payload signatures.
 * Names come from each file's header (format 1.1), so ids that differ
 * between engine runs still group correctly. Sensor counts are exact: one
 * set of (source, destination) pairs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze-cmds.h"
#include "analyze.h"

struct sc_set {
	uint32_t *v;
	uint32_t n, cap;
};

struct sc_src {
	uint8_t addr[16];
	uint8_t family;
	uint32_t tools; /* built-in tool tag bits */
	uint64_t packets, flows, sensors;
	struct sc_set tags, labels, sigs; /* ids in the tables below */
};

struct sc_agg {
	struct an_map by_src;   /* src -> index + 1 */
	struct an_map pairs;    /* (src index, dst) -> 1 */
	struct sc_src *v;
	size_t n, cap;
	struct an_names tags, labels, sigs;
};

struct sc_args {
	struct an_opts *o;
	uint64_t top;
	const char *tag, *port;
	int by_sensors;
};

static const char scanners_help[] =
	"usage: umbra-analyze scanners [-n N] [--tag NAME] [--port PORT/PROTO]\n"
	"                              [--sort packets|sensors] [--format table|csv|json]\n"
	"                              [common options] PATH...\n"
	"Sources ranked by packets (or distinct sensors hit), with the union of\n"
	"their tags, tools (zmap, masscan, mirai, large_scan), p0f labels and\n"
	"payload signatures. -n N: top N (default 20, 0 = all).\n"
	"--tag NAME: only flows with that tag; --port 23/tcp: only flows to it.\n";

static int set_add(struct sc_set *s, uint32_t id)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i] == id)
			return 0;
	if (s->n == s->cap) {
		uint32_t nc = s->cap ? 2 * s->cap : 4;
		uint32_t *nv = realloc(s->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = nc;
	}
	s->v[s->n++] = id;
	return 0;
}

static int set_add_name(struct sc_set *s, struct an_names *t, const char *name)
{
	long id = an_names_id(t, name);
	return id < 0 ? -ENOMEM : set_add(s, (uint32_t)id);
}

static struct sc_src *src_of(struct sc_agg *a, const struct umbra_flow_record *r,
			     size_t *idx)
{
	struct an_key k;
	memcpy(&k.a, r->src, 8);
	memcpy(&k.b, r->src + 8, 8);
	k.c = (uint64_t)an_fam(r);
	uint64_t *v = an_map_get(&a->by_src, &k);
	if (!v)
		return NULL;
	if (!*v) {
		if (a->n == a->cap) {
			size_t nc = a->cap ? 2 * a->cap : 1024;
			struct sc_src *nv = realloc(a->v, nc * sizeof(*nv));
			if (!nv)
				return NULL;
			a->v = nv;
			a->cap = nc;
		}
		struct sc_src *s = &a->v[a->n];
		memset(s, 0, sizeof(*s));
		memcpy(s->addr, r->src, 16);
		s->family = (uint8_t)an_fam(r);
		*v = ++a->n;
	}
	*idx = (size_t)(*v - 1);
	return &a->v[*idx];
}

/* one record that passed every filter */
static int sc_add(struct sc_agg *a, const struct umbra_dump_reader *rd,
		  const struct umbra_flow_record *r)
{
	size_t idx;
	struct sc_src *s = src_of(a, r, &idx);
	if (!s)
		return -ENOMEM;
	s->packets += r->packets;
	s->flows++;
	struct an_key k;
	memcpy(&k.a, r->dst, 8);
	memcpy(&k.b, r->dst + 8, 8);
	k.c = ((uint64_t)idx << 8 | (uint64_t)an_fam(r)) + 1;
	uint64_t *pv = an_map_get(&a->pairs, &k);
	if (!pv)
		return -ENOMEM;
	if (!*pv) {
		*pv = 1;
		s->sensors++;
	}
	s->tools |= r->tags & (UMBRA_TAG(UMBRA_TAG_BIT_ZMAP) | UMBRA_TAG(UMBRA_TAG_BIT_MASSCAN) |
			       UMBRA_TAG(UMBRA_TAG_BIT_MIRAI) |
			       UMBRA_TAG(UMBRA_TAG_BIT_LARGE_SCAN));
	char tmp[32];
	for (uint32_t t = r->tags; t; t &= t - 1) {
		unsigned bit = (unsigned)__builtin_ctz(t);
		const char *n = umbra_dump_tag_name(rd, bit);
		if (!n) {
			snprintf(tmp, sizeof(tmp), "tag%u", bit);
			n = tmp;
		}
		if (set_add_name(&s->tags, &a->tags, n) < 0)
			return -ENOMEM;
	}
	if (r->p0f_label) {
		const char *n = umbra_dump_label_name(rd, r->p0f_label);
		if (!n) {
			snprintf(tmp, sizeof(tmp), "%u", r->p0f_label);
			n = tmp;
		}
		if (set_add_name(&s->labels, &a->labels, n) < 0)
			return -ENOMEM;
	}
	if (r->sig_id) {
		const char *n = umbra_dump_sig_name(rd, r->sig_id);
		if (!n) {
			snprintf(tmp, sizeof(tmp), "%u", r->sig_id);
			n = tmp;
		}
		if (set_add_name(&s->sigs, &a->sigs, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* tag bits the file names NAME (plugin bits may differ between files) */
static uint32_t tag_mask(const struct umbra_dump_reader *rd, const char *name)
{
	uint32_t m = 0;
	for (unsigned b = 0; b < 32; b++) {
		const char *n = umbra_dump_tag_name(rd, b);
		if (n && strcmp(n, name) == 0)
			m |= UMBRA_TAG(b);
	}
	return m;
}

static int by_packets(const void *x, const void *y)
{
	const struct sc_src *a = x, *b = y;
	if (a->packets != b->packets)
		return a->packets > b->packets ? -1 : 1;
	if (a->sensors != b->sensors)
		return a->sensors > b->sensors ? -1 : 1;
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->addr, b->addr, 16);
}

static int by_sensors(const void *x, const void *y)
{
	const struct sc_src *a = x, *b = y;
	if (a->sensors != b->sensors)
		return a->sensors > b->sensors ? -1 : 1;
	return by_packets(x, y);
}

static const struct an_names *cmp_names;
static int by_name(const void *x, const void *y)
{
	return strcmp(cmp_names->v[*(const uint32_t *)x], cmp_names->v[*(const uint32_t *)y]);
}

/* names of a set, sorted, into a NULL-terminated list */
static void set_names(struct sc_set *s, const struct an_names *t, const char **out)
{
	cmp_names = t;
	if (s->n > 1) /* an empty set may have no array at all */
		an_qsort(s->v, s->n, sizeof(*s->v), by_name);
	for (uint32_t i = 0; i < s->n; i++)
		out[i] = t->v[s->v[i]];
	out[s->n] = NULL;
}

static void print_list(const char *const *l, enum an_fmt fmt)
{
	if (fmt == AN_FMT_JSON) {
		putchar('[');
		for (size_t i = 0; l[i]; i++) {
			if (i)
				putchar(',');
			an_json_str(l[i]);
		}
		putchar(']');
		return;
	}
	size_t len = 0;
	for (size_t i = 0; l[i]; i++)
		len += strlen(l[i]) + 1;
	char *buf = malloc(len + 2), *p = buf;
	if (!buf)
		return;
	*p = 0;
	for (size_t i = 0; l[i]; i++)
		p += sprintf(p, "%s%s", i ? "|" : "", l[i]);
	if (fmt == AN_FMT_CSV)
		an_csv_str(buf);
	else
		fputs(buf[0] ? buf : "-", stdout);
	free(buf);
}

static void sc_print(struct sc_agg *a, const struct sc_args *args, enum an_fmt fmt)
{
	static const char *const tools[] = {"zmap", "masscan", "mirai", "large_scan"};
	size_t top = args->top && args->top < a->n ? (size_t)args->top : a->n;
	size_t maxn = 5;
	for (size_t i = 0; i < a->n; i++) {
		struct sc_src *s = &a->v[i];
		size_t m = s->tags.n > s->labels.n ? s->tags.n : s->labels.n;
		m = m > s->sigs.n ? m : s->sigs.n;
		maxn = m + 1 > maxn ? m + 1 : maxn;
	}
	const char **l = malloc(maxn * sizeof(*l));
	if (!l)
		return;
	if (fmt == AN_FMT_CSV)
		puts("rank,src,packets,flows,sensors,tools,tags,p0f_labels,signatures");
	else if (fmt == AN_FMT_JSON)
		printf("{\"sources\":%zu,\"scanners\":[", a->n);
	else
		printf("%4s  %-39s %12s %10s %8s  %s\n", "rank", "src", "packets", "flows",
		       "sensors", "tools / tags / p0f labels / signatures");
	for (size_t i = 0; i < top; i++) {
		struct sc_src *s = &a->v[i];
		char addr[64];
		an_addr_text(s->addr, s->family, addr, sizeof(addr));
		size_t k = 0;
		for (unsigned b = 0; b < 4; b++)
			if (s->tools & UMBRA_TAG(UMBRA_TAG_BIT_ZMAP + b))
				l[k++] = tools[b];
		l[k] = NULL;
		if (fmt == AN_FMT_JSON)
			printf("%s{\"rank\":%zu,\"src\":\"%s\",\"packets\":%" PRIu64
			       ",\"flows\":%" PRIu64 ",\"sensors\":%" PRIu64 ",\"tools\":",
			       i ? "," : "", i + 1, addr, s->packets, s->flows, s->sensors);
		else if (fmt == AN_FMT_CSV)
			printf("%zu,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",", i + 1, addr,
			       s->packets, s->flows, s->sensors);
		else
			printf("%4zu  %-39s %12" PRIu64 " %10" PRIu64 " %8" PRIu64 "  ", i + 1,
			       addr, s->packets, s->flows, s->sensors);
		const char *sep = fmt == AN_FMT_JSON ? "," : fmt == AN_FMT_CSV ? "," : " / ";
		print_list(l, fmt);
		fputs(fmt == AN_FMT_JSON ? ",\"tags\":" : sep, stdout);
		set_names(&s->tags, &a->tags, l);
		print_list(l, fmt);
		fputs(fmt == AN_FMT_JSON ? ",\"p0f_labels\":" : sep, stdout);
		set_names(&s->labels, &a->labels, l);
		print_list(l, fmt);
		fputs(fmt == AN_FMT_JSON ? ",\"signatures\":" : sep, stdout);
		set_names(&s->sigs, &a->sigs, l);
		print_list(l, fmt);
		fputs(fmt == AN_FMT_JSON ? "}" : "\n", stdout);
	}
	if (fmt == AN_FMT_JSON)
		puts("]}");
	free(l);
}

static void sc_free(struct sc_agg *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i].tags.v);
		free(a->v[i].labels.v);
		free(a->v[i].sigs.v);
	}
	free(a->v);
	an_map_free(&a->by_src);
	an_map_free(&a->pairs);
	an_names_free(&a->tags);
	an_names_free(&a->labels);
	an_names_free(&a->sigs);
}

static int scanners_opt(void *arg, int c, const char *v)
{
	struct sc_args *a = arg;
	switch (c) {
	case 'n':
		if (an_parse_uint(v, UINT32_MAX, &a->top) < 0)
			return an_usage(a->o, "bad value for -n", v);
		return 0;
	case 't':
		a->tag = v;
		return 0;
	case 'p':
		a->port = v;
		return 0;
	case 's':
		if (strcmp(v, "packets") == 0)
			a->by_sensors = 0;
		else if (strcmp(v, "sensors") == 0)
			a->by_sensors = 1;
		else
			return an_usage(a->o, "bad value for --sort (packets|sensors)", v);
		return 0;
	}
	return 1;
}

int analyze_scanners(int argc, char **argv)
{
	static const struct option own[] = {
		{"top", required_argument, NULL, 'n'},
		{"tag", required_argument, NULL, 't'},
		{"port", required_argument, NULL, 'p'},
		{"sort", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "scanners", .fmt = AN_FMT_TABLE,
			    .fmt_allowed = 1u << AN_FMT_TABLE | 1u << AN_FMT_CSV | 1u << AN_FMT_JSON};
	struct sc_args args = {.o = &o, .top = 20};
	int rc = an_parse_args(&o, argc, argv, own, "n:", scanners_opt, &args, scanners_help);
	if (rc)
		return an_opts_free(&o), rc < 0 ? 0 : rc;
	int proto = 0, port = -1;
	if (args.port && an_parse_portspec(args.port, &proto, &port) < 0)
		return an_opts_free(&o),
		       an_usage(&o, "bad value for --port (23/tcp, 53/udp, icmp)", args.port);
	enum an_fmt fmt = o.fmt == AN_FMT_DEFAULT ? AN_FMT_TABLE : o.fmt;

	struct analyze_paths in = {0};
	int damage = analyze_collect(&in, argc - optind, argv + optind) != 0;
	struct sc_agg agg;
	memset(&agg, 0, sizeof(agg));
	rc = 0;
	for (size_t i = 0; i < in.n && rc == 0; i++) {
		struct umbra_dump_reader *r = umbra_dump_open(in.v[i]);
		if (!r) {
			fprintf(stderr, "umbra-analyze scanners: %s: %s\n", in.v[i],
				errno == EPROTO ? "not an umbra dump" : strerror(errno));
			damage = 1;
			continue;
		}
		if (o.window)
			umbra_dump_set_time_range(r, o.from_ns, o.to_ns);
		const char *sn = umbra_dump_get_meta(r)->sensor_name;
		uint32_t tmask = args.tag ? tag_mask(r, args.tag) : 0;
		const struct umbra_flow_record *recs;
		long n;
		while (rc == 0 && (n = umbra_dump_next(r, &recs)) != 0) {
			if (n < 0) {
				damage = 1;
				if (n != -EBADMSG)
					break;
				continue;
			}
			for (long k = 0; k < n && rc == 0; k++) {
				const struct umbra_flow_record *fr = &recs[k];
				if ((args.tag && !(fr->tags & tmask)) ||
				    !an_port_ok(proto, port, fr->proto, fr->dport) ||
				    (o.window && (fr->first_ns < o.from_ns ||
						  fr->first_ns >= o.to_ns)) ||
				    (o.filter && !an_filter_match(o.filter, fr, sn)))
					continue;
				rc = sc_add(&agg, r, fr);
			}
		}
		uint64_t db, dbytes;
		umbra_dump_damage(r, &db, &dbytes);
		if (db) {
			fprintf(stderr, "umbra-analyze scanners: %s: %" PRIu64
					" damaged block(s), %" PRIu64 " bytes skipped\n",
				in.v[i], db, dbytes);
			damage = 1;
		}
		umbra_dump_close(r);
	}
	if (rc == 0) {
		an_qsort(agg.v, agg.n, sizeof(*agg.v), args.by_sensors ? by_sensors : by_packets);
		sc_print(&agg, &args, fmt);
	} else {
		fprintf(stderr, "umbra-analyze scanners: %s\n", strerror(-rc));
	}
	sc_free(&agg);
	analyze_paths_free(&in);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = -EIO;
	return rc ? 1 : damage;
}
