/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze top-ports: the TSUBAME table. Per sensor (destination
 * address) the destinations ranked by packets, as PORT/tcp, PORT/udp,
 * ICMP (one row for every ICMP type) and ICMPv6; without --by-sensor the
 * destinations ranked by average packets per sensor, overall or per
 * sensor group (--by-group, groups from --sensors FILE).
 *
 * The hot loop (top_view) reads four decoded columns of a block and adds
 * packets into a per-thread hash map keyed by (engine, sensor, dest).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze-top.h"

/* dest: proto << 16 | port; ICMP and other protocols carry no port */
#define DEST_PROTO(d) ((unsigned)((d) >> 16) & 0xff)
#define DEST_PORT(d) ((unsigned)(d)&0xffff)

static inline int has_port(unsigned proto)
{
	return proto == 6 || proto == 17;
}

uint32_t an_dest_of(unsigned proto, unsigned dport)
{
	return (uint32_t)proto << 16 | (has_port(proto) ? dport : 0);
}

void an_dest_name(uint32_t d, char *buf, size_t len)
{
	unsigned p = DEST_PROTO(d);

	if (has_port(p))
		snprintf(buf, len, "%u/%s", DEST_PORT(d), p == 6 ? "tcp" : "udp");
	else if (p == 1)
		snprintf(buf, len, "ICMP");
	else if (p == 58)
		snprintf(buf, len, "ICMPv6");
	else
		snprintf(buf, len, "proto %u", p);
}

static const char *dest_proto(uint32_t d, char *tmp)
{
	const char *n = umbra_proto_name(DEST_PROTO(d));
	if (n)
		return n;
	snprintf(tmp, 8, "%u", DEST_PROTO(d));
	return tmp;
}

/* JSON object {"proto":..,"port":..|null,"packets":N} without the brace */
void an_dest_json(uint32_t d)
{
	char tmp[8];
	printf("\"proto\":\"%s\",\"port\":", dest_proto(d, tmp));
	if (has_port(DEST_PROTO(d)))
		printf("%u", DEST_PORT(d));
	else
		printf("null");
}

/* ---- aggregation --------------------------------------------------------- */

static inline uint64_t v4word(uint32_t host)
{
	uint8_t b[8] = {(uint8_t)(host >> 24), (uint8_t)(host >> 16), (uint8_t)(host >> 8),
			(uint8_t)host, 0, 0, 0, 0};
	uint64_t w;
	memcpy(&w, b, 8);
	return w;
}

static inline struct an_key cell_key(const uint8_t *addr16, unsigned family,
				     unsigned engine, uint32_t dest)
{
	struct an_key k;
	memcpy(&k.a, addr16, 8);
	memcpy(&k.b, addr16 + 8, 8);
	k.c = (uint64_t)engine << 32 | (uint64_t)family << 24 | dest;
	return k;
}

static void *top_tls_new(void *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct an_map));
}

void an_top_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	struct an_map *m = tls;
	uint32_t pdest[1024], *pd = pdest;
	uint16_t pmask[1024], *pm = pmask;
	uint8_t pfam[1024], *pf = pfam;
	uint64_t eng = (uint64_t)f->engine << 32;

	if (v->nprofiles > 1024) {
		pd = malloc(sizeof(*pd) * v->nprofiles);
		pm = malloc(sizeof(*pm) * v->nprofiles);
		pf = malloc(v->nprofiles);
		if (!pd || !pm || !pf)
			goto out; /* cannot happen in practice; counted as nothing */
	}
	for (uint32_t j = 0; j < v->nprofiles; j++) {
		unsigned p = v->profiles[j].proto;
		pf[j] = v->profiles[j].family == 6 ? 6 : 4;
		pd[j] = (uint32_t)pf[j] << 24 | (uint32_t)p << 16;
		pm[j] = has_port(p) ? 0xffff : 0;
	}
	const uint32_t *dst4 = v->dst4, *pk = v->packets, *pr = v->profile;
	const uint16_t *dport = v->dport;
	struct an_key k = {0, 0, 0};
	uint64_t *slot = NULL;
	for (uint32_t i = 0; i < v->n4; i++) {
		uint32_t j = pr[i];
		uint64_t a = v4word(dst4[i]);
		uint64_t c = eng | pd[j] | (dport[i] & pm[j]);
		/* runs of one scanner often hit one cell: skip the lookup */
		if (!slot || a != k.a || c != k.c) {
			k.a = a;
			k.b = 0;
			k.c = c;
			slot = an_map_get(m, &k);
			if (!slot)
				goto out;
		}
		*slot += pk[i];
	}
	slot = NULL;
	for (uint32_t i = v->n4; i < v->n; i++) {
		uint32_t j = pr[i];
		k = cell_key(v->dst16 + 16 * (size_t)(i - v->n4), pf[j], f->engine,
			     (pd[j] & 0xffffff) | (dport[i] & pm[j]));
		uint64_t *s = an_map_get(m, &k);
		if (!s)
			goto out;
		*s += pk[i];
	}
out:
	if (pd != pdest) {
		free(pd);
		free(pm);
		free(pf);
	}
}

void an_top_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		 size_t n)
{
	struct an_map *m = tls;
	for (size_t i = 0; i < n; i++, r++) {
		struct an_key k = cell_key(r->dst, (unsigned)an_fam(r), f->engine,
					   an_dest_of(r->proto, r->dport));
		uint64_t *s = an_map_get(m, &k);
		if (s)
			*s += r->packets;
	}
}

static int top_merge(void *ctx, void *tls)
{
	struct an_map *into = ctx, *m = tls;
	int rc = an_map_merge(into, m, 0);
	an_map_free(m);
	free(m);
	return rc;
}

void an_top_consumer(struct an_consumer *c, struct an_map *cells)
{
	memset(c, 0, sizeof(*c));
	c->ctx = cells;
	c->cols = UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS | UMBRA_COL_PROFILE;
	c->tls_new = top_tls_new;
	c->view = an_top_view;
	c->recs = an_top_recs;
	c->merge = top_merge;
}

/* ---- tables ----------------------------------------------------------- */

static int cmp_sensor(const struct an_top_sensor *x, const struct an_top_sensor *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static int cmp_sensor_key(const void *a, const void *b)
{
	return cmp_sensor(a, b);
}

static int cmp_by_packets(const void *a, const void *b)
{
	const struct an_top_sensor *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return cmp_sensor(x, y);
}

int an_top_cmp_row(const void *a, const void *b)
{
	const struct an_top_row *x = a, *y = b;
	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->dest < y->dest ? -1 : x->dest > y->dest;
}

static int cmp_cell_sensor(const void *a, const void *b)
{
	const struct an_slot *x = a, *y = b;
	unsigned fx = (unsigned)(x->k.c >> 24) & 0xff, fy = (unsigned)(y->k.c >> 24) & 0xff;
	if (fx != fy)
		return fx < fy ? -1 : 1;
	int c = memcmp(&x->k.a, &y->k.a, 8);
	if (c)
		return c;
	c = memcmp(&x->k.b, &y->k.b, 8);
	if (c)
		return c;
	uint32_t dx = (uint32_t)x->k.c & 0xffffff, dy = (uint32_t)y->k.c & 0xffffff;
	return dx < dy ? -1 : dx > dy;
}

static int cmp_group_name(const void *a, const void *b)
{
	const struct an_top_group *x = a, *y = b;
	return strcmp(x->name, y->name);
}

void an_top_result_free(struct an_top_result *t)
{
	for (size_t i = 0; i < t->nsensors; i++)
		free(t->sensors[i].rows);
	free(t->sensors);
	for (size_t i = 0; i < t->ngroups; i++)
		free(t->groups[i].rows);
	free(t->groups);
	memset(t, 0, sizeof(*t));
}

static int add_row(struct an_top_row **rows, size_t *n, size_t *cap, uint32_t dest,
		   uint64_t packets)
{
	if (*n && (*rows)[*n - 1].dest == dest) {
		(*rows)[*n - 1].packets += packets;
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		struct an_top_row *nr = realloc(*rows, c * sizeof(*nr));
		if (!nr)
			return -ENOMEM;
		*rows = nr;
		*cap = c;
	}
	(*rows)[*n].dest = dest;
	(*rows)[(*n)++].packets = packets;
	return 0;
}

int an_top_build(struct an_top_result *t, const struct an_map *cells,
		 const struct an_names *engines, const struct an_sensors *sens)
{
	size_t nc;
	struct an_slot *c = an_map_items(cells, &nc);
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	if (!c && nc)
		return -ENOMEM;
	qsort(c, nc, sizeof(*c), cmp_cell_sensor);
	size_t cap = 0;
	for (size_t i = 0; i < nc;) {
		/* one sensor: every engine that saw it, its dests summed */
		size_t j = i;
		struct an_top_sensor s = {0};
		size_t rcap = 0;
		s.family = (uint8_t)(c[i].k.c >> 24);
		memcpy(s.addr, &c[i].k.a, 8);
		memcpy(s.addr + 8, &c[i].k.b, 8);
		s.engine = (unsigned)(c[i].k.c >> 32);
		for (; j < nc && c[j].k.a == c[i].k.a && c[j].k.b == c[i].k.b &&
		       ((c[j].k.c >> 24) & 0xff) == s.family;
		     j++) {
			if (add_row(&s.rows, &s.nrows, &rcap, (uint32_t)c[j].k.c & 0xffffff,
				    c[j].v) < 0)
				goto out;
			s.packets += c[j].v;
		}
		i = j;
		if (t->nsensors == cap) {
			cap = cap ? 2 * cap : 64;
			struct an_top_sensor *ns = realloc(t->sensors, cap * sizeof(*ns));
			if (!ns) {
				free(s.rows);
				goto out;
			}
			t->sensors = ns;
		}
		t->sensors[t->nsensors++] = s;
	}
	/* group and overall sums: (group + 1, dest) -> packets; group 0 = all */
	struct an_map sums = {0};
	qsort(t->sensors, t->nsensors, sizeof(*t->sensors), cmp_sensor_key);
	for (size_t i = 0; i < t->nsensors; i++) {
		struct an_top_sensor *s = &t->sensors[i];
		const char *eng = engines->v[s->engine];
		const struct an_sensor_entry *e =
			sens ? an_sensors_lookup(sens, s->addr, s->family, eng) : NULL;
		s->label = e ? e->label : NULL;
		s->group = e ? sens->groups.v[e->group] : eng;
		size_t gi;
		for (gi = 0; gi < t->ngroups; gi++)
			if (strcmp(t->groups[gi].name, s->group) == 0)
				break;
		if (gi == t->ngroups) {
			struct an_top_group *ng = realloc(t->groups, (t->ngroups + 1) * sizeof(*ng));
			if (!ng)
				goto out_sums;
			t->groups = ng;
			memset(&ng[gi], 0, sizeof(ng[gi]));
			ng[gi].name = s->group;
			t->ngroups++;
		}
		struct an_top_group *g = &t->groups[gi];
		g->sensors++;
		g->packets += s->packets;
		t->all.sensors++;
		t->all.packets += s->packets;
		for (size_t r = 0; r < s->nrows; r++) {
			struct an_key k0 = {0, 0, (uint64_t)1 << 40 | s->rows[r].dest};
			struct an_key kg = {gi + 1, 0, (uint64_t)1 << 40 | s->rows[r].dest};
			uint64_t *v0 = an_map_get(&sums, &k0), *vg = an_map_get(&sums, &kg);
			if (!v0 || !vg)
				goto out_sums;
			*v0 += s->rows[r].packets;
			*vg += s->rows[r].packets;
		}
	}
	{
		size_t ns;
		struct an_slot *it = an_map_items(&sums, &ns);
		size_t *caps = calloc(t->ngroups + 1, sizeof(*caps));
		if ((!it && ns) || !caps) {
			free(it);
			free(caps);
			goto out_sums;
		}
		for (size_t i = 0; i < ns; i++) {
			struct an_top_group *g = it[i].k.a ? &t->groups[it[i].k.a - 1] : &t->all;
			if (add_row(&g->rows, &g->nrows, &caps[it[i].k.a],
				    (uint32_t)it[i].k.c & 0xffffff, it[i].v) < 0) {
				free(it);
				free(caps);
				goto out_sums;
			}
		}
		free(it);
		free(caps);
	}
	an_map_free(&sums);
	for (size_t i = 0; i < t->nsensors; i++)
		qsort(t->sensors[i].rows, t->sensors[i].nrows, sizeof(struct an_top_row),
		      an_top_cmp_row);
	for (size_t i = 0; i < t->ngroups; i++)
		qsort(t->groups[i].rows, t->groups[i].nrows, sizeof(struct an_top_row),
		      an_top_cmp_row);
	qsort(t->all.rows, t->all.nrows, sizeof(struct an_top_row), an_top_cmp_row);
	qsort(t->groups, t->ngroups, sizeof(*t->groups), cmp_group_name);
	qsort(t->sensors, t->nsensors, sizeof(*t->sensors), cmp_by_packets);
	rc = 0;
	goto out;
out_sums:
	an_map_free(&sums);
out:
	free(c);
	if (rc < 0)
		an_top_result_free(t);
	return rc;
}

/* ---- command --------------------------------------------------------------- */

static void print_group_rows(const struct an_top_group *g, long top, enum an_fmt fmt,
			     const char *gname)
{
	char d[32], tmp[8];
	for (size_t i = 0; i < g->nrows && i < (size_t)top; i++) {
		const struct an_top_row *x = &g->rows[i];
		double avg = g->sensors ? (double)x->packets / (double)g->sensors : 0.0;
		an_dest_name(x->dest, d, sizeof(d));
		if (fmt == AN_FMT_TABLE) {
			printf("  %3zu  %-12s %14" PRIu64 " %16.2f\n", i + 1, d, x->packets, avg);
		} else if (fmt == AN_FMT_CSV) {
			if (gname) {
				an_csv_str(gname);
				putchar(',');
			}
			printf("%zu,%s,", i + 1, dest_proto(x->dest, tmp));
			if (has_port(DEST_PROTO(x->dest)))
				printf("%u", DEST_PORT(x->dest));
			printf(",%" PRIu64 ",%.6f", x->packets, avg);
			if (gname)
				printf(",%zu", g->sensors);
			putchar('\n');
		} else {
			printf("%s{", i ? "," : "");
			an_dest_json(x->dest);
			printf(",\"packets\":%" PRIu64 ",\"avg_per_sensor\":%.6f}", x->packets, avg);
		}
	}
}

void an_top_print(const struct an_top_result *t, long top, long max_sensors,
		      int by_sensor, int by_group, enum an_fmt fmt)
{
	char a[64], d[32], tmp[8];

	if (by_sensor) {
		if (fmt == AN_FMT_CSV)
			printf("sensor,rank,proto,port,packets,name,group\n");
		if (fmt == AN_FMT_JSON)
			printf("{\"sensors\":[");
		for (size_t i = 0; i < t->nsensors; i++) {
			const struct an_top_sensor *s = &t->sensors[i];
			if (max_sensors && i == (size_t)max_sensors)
				break;
			an_addr_text(s->addr, s->family, a, sizeof(a));
			if (fmt == AN_FMT_TABLE) {
				printf("%ssensor %s%s%s%s  group %s  %" PRIu64 " packets\n",
				       i ? "\n" : "", a, s->label ? " (" : "",
				       s->label ? s->label : "", s->label ? ")" : "", s->group,
				       s->packets);
			} else if (fmt == AN_FMT_JSON) {
				printf("%s{\"sensor\":\"%s\",", i ? "," : "", a);
				if (s->label) {
					printf("\"name\":");
					an_json_str(s->label);
					putchar(',');
				}
				printf("\"group\":");
				an_json_str(s->group);
				printf(",\"packets\":%" PRIu64 ",\"top\":[", s->packets);
			}
			for (size_t r = 0; r < s->nrows && r < (size_t)top; r++) {
				const struct an_top_row *x = &s->rows[r];
				an_dest_name(x->dest, d, sizeof(d));
				if (fmt == AN_FMT_TABLE) {
					printf("  %3zu  %-12s %14" PRIu64 "\n", r + 1, d, x->packets);
				} else if (fmt == AN_FMT_CSV) {
					printf("%s,%zu,%s,", a, r + 1, dest_proto(x->dest, tmp));
					if (has_port(DEST_PROTO(x->dest)))
						printf("%u", DEST_PORT(x->dest));
					printf(",%" PRIu64 ",", x->packets);
					an_csv_str(s->label ? s->label : "");
					putchar(',');
					an_csv_str(s->group);
					putchar('\n');
				} else {
					printf("%s{", r ? "," : "");
					an_dest_json(x->dest);
					printf(",\"packets\":%" PRIu64 "}", x->packets);
				}
			}
			if (fmt == AN_FMT_JSON)
				printf("]}");
		}
		if (fmt == AN_FMT_JSON)
			printf("]}\n");
		return;
	}
	if (by_group) {
		if (fmt == AN_FMT_CSV)
			printf("group,rank,proto,port,packets,avg_per_sensor,sensors\n");
		if (fmt == AN_FMT_JSON)
			printf("{\"groups\":[");
		for (size_t i = 0; i < t->ngroups; i++) {
			const struct an_top_group *g = &t->groups[i];
			if (fmt == AN_FMT_TABLE)
				printf("%sgroup %s  %zu sensors  %" PRIu64 " packets\n"
				       "  %3s  %-12s %14s %16s\n",
				       i ? "\n" : "", g->name, g->sensors, g->packets, "#",
				       "destination", "packets", "avg per sensor");
			else if (fmt == AN_FMT_JSON) {
				printf("%s{\"group\":", i ? "," : "");
				an_json_str(g->name);
				printf(",\"sensors\":%zu,\"packets\":%" PRIu64 ",\"top\":[", g->sensors,
				       g->packets);
			}
			print_group_rows(g, top, fmt, g->name);
			if (fmt == AN_FMT_JSON)
				printf("]}");
		}
		if (fmt == AN_FMT_JSON)
			printf("]}\n");
		return;
	}
	if (fmt == AN_FMT_CSV)
		printf("rank,proto,port,packets,avg_per_sensor\n");
	else if (fmt == AN_FMT_JSON)
		printf("{\"sensors\":%zu,\"packets\":%" PRIu64 ",\"top\":[", t->all.sensors,
		       t->all.packets);
	else
		printf("%zu sensors  %" PRIu64 " packets\n  %3s  %-12s %14s %16s\n",
		       t->all.sensors, t->all.packets, "#", "destination", "packets",
		       "avg per sensor");
	print_group_rows(&t->all, top, fmt, NULL);
	if (fmt == AN_FMT_JSON)
		printf("]}\n");
}

static const char top_help[] =
	"usage: umbra-analyze top-ports [-n N] [--by-sensor | --by-group] [--max-sensors K]\n"
	"           [--sensors FILE] [--from T] [--to T] [--filter EXPR] [--threads N]\n"
	"           [--format table|csv|json] [--verbose] PATH...\n";

int analyze_top_ports(int argc, char **argv)
{
	static const struct option own[] = {
		{"by-sensor", no_argument, NULL, 's'},
		{"by-group", no_argument, NULL, 'g'},
		{"max-sensors", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "top-ports", .fmt = AN_FMT_TABLE,
			    .fmt_allowed = 1u << AN_FMT_TABLE | 1u << AN_FMT_CSV | 1u << AN_FMT_JSON};
	uint64_t top = 10, max_sensors = 0;
	int by_sensor = 0, by_group = 0, c, rc;
	struct option *lopts = an_options(own);

	if (!lopts)
		return 1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (an_parse_uint(optarg, 1000000, &top) < 0 || top < 1)
				return free(lopts), an_usage(&o, "bad value for -n", optarg);
			break;
		case 'm':
			if (an_parse_uint(optarg, UINT32_MAX, &max_sensors) < 0)
				return free(lopts), an_usage(&o, "bad value for --max-sensors", optarg);
			break;
		case 's':
			by_sensor = 1;
			break;
		case 'g':
			by_group = 1;
			break;
		case 'h':
			free(lopts);
			fputs(top_help, stdout);
			return 0;
		default:
			rc = an_common_opt(&o, c, optarg);
			if (rc == 1)
				rc = an_usage(&o, "unknown or incomplete option", argv[optind - 1]);
			if (rc) {
				free(lopts);
				return rc;
			}
		}
	}
	free(lopts);
	if (by_sensor && by_group)
		return an_usage(&o, "--by-sensor and --by-group exclude each other", NULL);
	if (optind >= argc)
		return an_usage(&o, "no PATH given", NULL);
	if ((rc = an_opts_finish(&o)) != 0) {
		an_opts_free(&o);
		return rc;
	}

	struct an_map cells = {0};
	struct an_names engines = {0};
	struct an_consumer cons;
	struct an_scan_stats st;
	an_top_consumer(&cons, &cells);
	rc = an_scan(&o, argc - optind, argv + optind, &cons, 1, &engines, &st);
	if (rc >= 0) {
		struct an_top_result t;
		if (an_top_build(&t, &cells, &engines, o.sensors) < 0) {
			rc = -ENOMEM;
		} else {
			an_top_print(&t, (long)top, (long)max_sensors, by_sensor, by_group, o.fmt);
			an_top_result_free(&t);
		}
	}
	if (rc < 0) {
		fprintf(stderr, "umbra-analyze top-ports: %s\n", strerror(-rc));
		rc = 1;
	}
	an_map_free(&cells);
	an_names_free(&engines);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
