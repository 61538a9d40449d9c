/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze sensors: average packets per sensor per day, by month and
 * sensor group (the TSUBAME report's Figure 3), counting only the days a
 * sensor was capturing.
 *
 * A sensor is a destination address as recorded by one sensor host (the
 * dumps' sensor name). The host was capturing on a day when one of its
 * interval frames covers part of that day, or when it recorded a flow
 * that started that day. avg = packets / sensor-days, where sensor-days
 * sums, over the group's sensors, the days their host was capturing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "analyze-cmds.h"

struct an_sensorsagg {
	struct an_sensors_cfg cfg;
	const struct an_opts *o;
	struct an_map cells; /* (dst, engine, family, bucket) -> packets */
	struct an_map units; /* (engine + 1, unit) -> 1: the host captured */
};

static inline unsigned bucket_of(const struct an_sensors_cfg *cfg, uint64_t ns)
{
	return cfg->by_month ? an_month_of(ns) : (unsigned)(ns / cfg->unit_ns);
}

struct sen_tls {
	const struct an_sensorsagg *s;
	struct an_map cells, units;
	/*
	 * The time of the last record, worked out once for its neighbours:
	 * its unit [u_lo, u_lo + unit_ns) and number u, its month [m_lo, m_hi)
	 * and number m, and the (engine + 1, unit) last marked in units.
	 */
	int t_ok;
	uint64_t u_lo, u, m_lo, m_hi;
	unsigned m;
	uint64_t mk_engine, mk_unit;
	int nomem;
};

static void *sen_tls_new(void *ctx)
{
	struct sen_tls *t = calloc(1, sizeof(*t));
	if (t)
		t->s = ctx;
	return t;
}

/* the cell's time bucket for a record at ns: its unit, or its month */
static inline uint64_t sen_bucket(struct sen_tls *t, uint64_t ns)
{
	const struct an_sensors_cfg *cfg = &t->s->cfg;
	if (!t->t_ok || ns < t->u_lo || ns - t->u_lo >= cfg->unit_ns) {
		t->u = ns / cfg->unit_ns;
		t->u_lo = t->u * cfg->unit_ns;
		t->t_ok = 1;
	}
	if (!cfg->by_month)
		return t->u;
	if (ns < t->m_lo || ns >= t->m_hi) {
		t->m = an_month_of(ns);
		t->m_lo = an_month_start(t->m);
		t->m_hi = an_month_start(t->m + 1);
	}
	return t->m;
}

/* dst: the address's 16 bytes as two little-endian halves */
static void sen_add(struct sen_tls *t, unsigned engine, uint64_t dst_lo, uint64_t dst_hi,
		    int fam, uint64_t first_ns, uint64_t packets)
{
	uint64_t bucket = sen_bucket(t, first_ns);
	struct an_key k = {dst_lo, dst_hi, (uint64_t)engine << 40 | (uint64_t)fam << 32 | bucket};
	uint64_t *v = an_map_get(&t->cells, &k);
	if (v)
		*v += packets;
	else
		t->nomem = 1;
	if (t->mk_engine == (uint64_t)engine + 1 && t->mk_unit == t->u)
		return;
	struct an_key u = {(uint64_t)engine + 1, t->u, 1};
	if ((v = an_map_get(&t->units, &u))) {
		*v = 1;
		t->mk_engine = (uint64_t)engine + 1;
		t->mk_unit = t->u;
	} else {
		t->nomem = 1;
	}
}

static void sen_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		     size_t n)
{
	for (size_t i = 0; i < n; i++, r++) {
		uint64_t lo, hi;
		memcpy(&lo, r->dst, 8);
		memcpy(&hi, r->dst + 8, 8);
		sen_add(tls, f->engine, lo, hi, an_fam(r), r->first_ns, r->packets);
	}
}

static void sen_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	struct sen_tls *t = tls;
	for (uint32_t i = 0; i < v->n4; i++) {
		/* the address's bytes in order, in the low half: no byte array
		 * (four byte stores read back as one load stalled forwarding) */
		uint64_t lo = __builtin_bswap32(v->dst4[i]);
		sen_add(t, f->engine, lo, 0, 4, v->first_ns[i], v->packets[i]);
	}
	for (uint32_t i = v->n4; i < v->n; i++) {
		uint64_t lo, hi;
		const uint8_t *a = v->dst16 + 16 * (size_t)(i - v->n4);
		memcpy(&lo, a, 8);
		memcpy(&hi, a + 8, 8);
		sen_add(t, f->engine, lo, hi, v->profiles[v->profile[i]].family == 6 ? 6 : 4,
			v->first_ns[i], v->packets[i]);
	}
}

/* main thread: a file's intervals give its host's capture units */
static void sen_file(void *ctx, const struct an_file *f)
{
	struct an_sensorsagg *s = ctx;
	uint64_t u = s->cfg.unit_ns;
	for (size_t i = 0; i < f->niv; i++) {
		uint64_t a = f->iv[i].start_ns, b = f->iv[i].end_ns;
		if (b < a)
			continue;
		if (a < s->o->from_ns)
			a = s->o->from_ns;
		if (b >= s->o->to_ns)
			b = s->o->to_ns - 1;
		if (b < a)
			continue;
		/* [start, end): the unit of end counts only if end is inside it */
		uint64_t last = b > a ? (b - 1) / u : a / u;
		for (uint64_t x = a / u; x <= last && x - a / u < 1000000; x++) {
			struct an_key k = {(uint64_t)f->engine + 1, x, 1};
			uint64_t *v = an_map_get(&s->units, &k);
			if (v)
				*v = 1;
		}
	}
}

static int sen_merge(void *ctx, void *tls)
{
	struct an_sensorsagg *s = ctx;
	struct sen_tls *t = tls;
	int rc = an_map_absorb(&s->cells, &t->cells, 0);
	if (t->nomem)
		rc = -ENOMEM;
	if (an_map_merge(&s->units, &t->units, 1) < 0)
		rc = -ENOMEM;
	an_map_free(&t->units);
	free(t);
	return rc;
}

struct an_sensorsagg *an_sensorsagg_new(const struct an_sensors_cfg *cfg,
					const struct an_opts *o)
{
	struct an_sensorsagg *s = calloc(1, sizeof(*s));
	if (s) {
		s->cfg = *cfg;
		s->o = o;
	}
	return s;
}

void an_sensorsagg_consumer(struct an_sensorsagg *s, struct an_consumer *c)
{
	memset(c, 0, sizeof(*c));
	c->ctx = s;
	c->cols = UMBRA_COL_DST | UMBRA_COL_FIRST | UMBRA_COL_PACKETS | UMBRA_COL_PROFILE;
	c->tls_new = sen_tls_new;
	c->view = sen_view;
	c->recs = sen_recs;
	c->file = sen_file;
	c->merge = sen_merge;
	c->intervals = 1;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_rows(const void *a, const void *b)
{
	const struct an_sensors_row *x = a, *y = b;
	int c = strcmp(x->group, y->group);
	if (c)
		return c;
	return x->period < y->period ? -1 : x->period > y->period;
}

/* cells sorted by (engine, family, address) to walk sensors */
static int cmp_cells(const void *a, const void *b)
{
	const struct an_slot *x = a, *y = b;
	uint64_t ex = x->k.c >> 32, ey = y->k.c >> 32;
	if (ex != ey)
		return ex < ey ? -1 : 1;
	int c = memcmp(&x->k.a, &y->k.a, 8);
	if (c)
		return c;
	c = memcmp(&x->k.b, &y->k.b, 8);
	if (c)
		return c;
	uint32_t px = (uint32_t)x->k.c, py = (uint32_t)y->k.c;
	return px < py ? -1 : px > py;
}

int an_sensorsagg_build(struct an_sensorsagg *s, const struct an_opts *o,
			const struct an_names *engines, struct an_sensors_result *res)
{
	int rc = -ENOMEM;
	size_t nc = 0, nu = 0;
	struct an_slot *cells = an_map_items(&s->cells, &nc);
	struct an_slot *units = an_map_items(&s->units, &nu);
	/* per engine: capture units per bucket, (engine, bucket) -> units */
	struct an_map ebu = {0}, rowidx = {0};
	struct an_names groups = {0};
	size_t ncap = 0;

	memset(res, 0, sizeof(*res));
	if ((nc && !cells) || (nu && !units))
		goto out;
	for (size_t i = 0; i < nu; i++) {
		struct an_key k = {units[i].k.a, bucket_of(&s->cfg, units[i].k.b * s->cfg.unit_ns) + 1,
				   1};
		uint64_t *v = an_map_get(&ebu, &k);
		if (!v)
			goto out;
		(*v)++;
	}
	an_qsort(cells, nc, sizeof(*cells), cmp_cells);
	for (size_t i = 0; i < nc;) {
		size_t j = i;
		unsigned eng = (unsigned)(cells[i].k.c >> 40);
		int fam = (int)(cells[i].k.c >> 32) & 0xff;
		uint8_t addr[16];
		memcpy(addr, &cells[i].k.a, 8);
		memcpy(addr + 8, &cells[i].k.b, 8);
		while (j < nc && cells[j].k.a == cells[i].k.a && cells[j].k.b == cells[i].k.b &&
		       cells[j].k.c >> 32 == cells[i].k.c >> 32)
			j++;
		const struct an_sensor_entry *e =
			o->sensors ? an_sensors_lookup(o->sensors, addr, fam, engines->v[eng]) : NULL;
		const char *gname = e ? o->sensors->groups.v[e->group] : engines->v[eng];
		long gid = an_names_id(&groups, gname);
		if (gid < 0)
			goto out;
		/* every bucket in which the host captured: the sensor counts there */
		for (size_t k = 0; k < ebu.cap; k++) {
			const struct an_slot *b = &ebu.s[k];
			if (b->k.a != (uint64_t)eng + 1)
				continue;
			unsigned bucket = (unsigned)(b->k.b - 1);
			uint64_t packets = 0;
			for (size_t x = i; x < j; x++)
				if ((uint32_t)cells[x].k.c == bucket)
					packets += cells[x].v;
			struct an_key rk = {(uint64_t)gid + 1, bucket, 1};
			uint64_t *ri = an_map_get(&rowidx, &rk);
			if (!ri)
				goto out;
			if (!*ri) {
				if (res->nrows == ncap) {
					ncap = ncap ? 2 * ncap : 64;
					struct an_sensors_row *nr = realloc(res->rows, ncap * sizeof(*nr));
					if (!nr)
						goto out;
					res->rows = nr;
				}
				struct an_sensors_row *r = &res->rows[res->nrows];
				memset(r, 0, sizeof(*r));
				r->period = bucket;
				r->group = (const char *)(uintptr_t)gid; /* fixed up below */
				*ri = ++res->nrows;
			}
			struct an_sensors_row *r = &res->rows[*ri - 1];
			r->sensors++;
			r->units += b->v;
			r->packets += packets;
		}
		i = j;
	}
	/* group names owned by the result */
	res->groups = calloc(groups.n + 1, sizeof(char *));
	if (!res->groups)
		goto out;
	for (size_t g = 0; g < groups.n; g++)
		res->groups[g] = groups.v[g];
	res->ngroups = groups.n;
	for (size_t r = 0; r < res->nrows; r++) {
		res->rows[r].group = res->groups[(uintptr_t)res->rows[r].group];
		res->rows[r].avg = res->rows[r].units ?
					   (double)res->rows[r].packets / (double)res->rows[r].units :
					   0.0;
	}
	an_qsort(res->rows, res->nrows, sizeof(*res->rows), cmp_rows);
	an_qsort(res->groups, res->ngroups, sizeof(char *), cmp_str_ptr);
	free(groups.v);
	free(groups.h);
	memset(&groups, 0, sizeof(groups));
	rc = 0;
out:
	free(cells);
	free(units);
	an_map_free(&ebu);
	an_map_free(&rowidx);
	an_names_free(&groups);
	if (rc < 0) {
		free(res->rows);
		res->rows = NULL;
		res->nrows = 0;
	}
	return rc;
}

void an_sensorsagg_free(struct an_sensorsagg *s, struct an_sensors_result *res)
{
	if (res) {
		for (size_t g = 0; g < res->ngroups; g++)
			free(res->groups[g]);
		free(res->groups);
		free(res->rows);
		memset(res, 0, sizeof(*res));
	}
	if (s) {
		an_map_free(&s->cells);
		an_map_free(&s->units);
		free(s);
	}
}

void an_sensors_print(const struct an_sensors_result *res, const struct an_sensors_cfg *cfg,
		      enum an_fmt fmt, const char *by)
{
	int per_hour = cfg->unit_ns != AN_DAY_NS;
	const char *unit = per_hour ? "hour" : "day";
	char p[40];
	if (fmt == AN_FMT_CSV)
		printf("group,period,sensors,sensor_%ss,packets,avg_per_sensor_per_%s\n", unit, unit);
	else if (fmt == AN_FMT_JSON)
		printf("{\"per\":\"%s\",\"by\":\"%s\",\"groups\":[", unit, by);
	else
		printf("%-14s %-20s %8s %12s %14s %14s\n", "group", "period", "sensors",
		       per_hour ? "sensor-hours" : "sensor-days", "packets",
		       per_hour ? "avg/sensor/h" : "avg/sensor/day");
	for (size_t i = 0; i < res->nrows; i++) {
		const struct an_sensors_row *r = &res->rows[i];
		int first_of_group = i == 0 || strcmp(r->group, res->rows[i - 1].group) != 0;
		if (cfg->by_month)
			an_fmt_month(r->period, p, sizeof(p));
		else if (per_hour)
			an_fmt_time((uint64_t)r->period * cfg->unit_ns, p, sizeof(p));
		else
			an_fmt_date((uint64_t)r->period * cfg->unit_ns, p, sizeof(p));
		if (fmt == AN_FMT_CSV) {
			an_csv_str(r->group);
			printf(",%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.6f\n", p, r->sensors,
			       r->units, r->packets, r->avg);
		} else if (fmt == AN_FMT_JSON) {
			if (first_of_group) {
				printf("%s{\"group\":", i ? "]}," : "");
				an_json_str(r->group);
				printf(",\"periods\":[");
			} else {
				putchar(',');
			}
			printf("{\"period\":\"%s\",\"sensors\":%" PRIu64 ",\"sensor_%ss\":%" PRIu64
			       ",\"packets\":%" PRIu64 ",\"avg\":%.6f}",
			       p, r->sensors, unit, r->units, r->packets, r->avg);
		} else {
			printf("%-14s %-20s %8" PRIu64 " %12" PRIu64 " %14" PRIu64 " %14.2f\n",
			       first_of_group ? r->group : "", p, r->sensors, r->units, r->packets,
			       r->avg);
		}
	}
	if (fmt == AN_FMT_JSON)
		printf("%s]}\n", res->nrows ? "]}" : "");
}

/* ---- command -------------------------------------------------------------- */

static const char sensors_help[] =
	"usage: umbra-analyze sensors [--per day|hour] [--by month|day|hour] [--sensors FILE]\n"
	"           [--from T] [--to T] [--filter EXPR] [--threads N]\n"
	"           [--format table|csv|json] PATH...\n"
	"Average packets per sensor per day (or hour) for each month (or day/hour),\n"
	"per sensor group, counting only the days a sensor's host was capturing.\n";

struct sensors_args {
	struct an_opts *o;
	uint64_t unit_ns;
	const char *by;
};

static int sensors_opt(void *arg, int c, const char *v)
{
	struct sensors_args *a = arg;
	switch (c) {
	case 'p':
		if (strcmp(v, "day") == 0)
			a->unit_ns = AN_DAY_NS;
		else if (strcmp(v, "hour") == 0)
			a->unit_ns = 3600 * AN_NSEC;
		else
			return an_usage(a->o, "bad value for --per (day, hour)", v);
		return 0;
	case 'b':
		if (strcmp(v, "month") && strcmp(v, "day") && strcmp(v, "hour"))
			return an_usage(a->o, "bad value for --by (month, day, hour)", v);
		a->by = v;
		return 0;
	}
	return 1;
}

int analyze_sensors(int argc, char **argv)
{
	static const struct option own[] = {
		{"per", required_argument, NULL, 'p'},
		{"by", required_argument, NULL, 'b'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "sensors", .fmt = AN_FMT_TABLE,
			    .fmt_allowed = 1u << AN_FMT_TABLE | 1u << AN_FMT_CSV | 1u << AN_FMT_JSON};
	struct sensors_args a = {.o = &o, .unit_ns = AN_DAY_NS, .by = "month"};
	int rc = an_parse_args(&o, argc, argv, own, NULL, sensors_opt, &a, sensors_help);
	if (rc)
		return an_opts_free(&o), rc < 0 ? 0 : rc;
	struct an_sensors_cfg cfg = {.unit_ns = a.unit_ns, .by_month = strcmp(a.by, "month") == 0};
	int per_hour = a.unit_ns != AN_DAY_NS;
	if (!cfg.by_month && strcmp(a.by, per_hour ? "hour" : "day") != 0)
		return an_opts_free(&o),
		       an_usage(&o, "--by must be month or the --per unit", a.by);

	struct an_sensorsagg *s = an_sensorsagg_new(&cfg, &o);
	struct an_names engines = {0};
	struct an_consumer cons;
	struct an_scan_stats st;
	struct an_sensors_result res = {0};
	if (!s) {
		rc = -ENOMEM;
		goto out;
	}
	an_sensorsagg_consumer(s, &cons);
	rc = an_scan(&o, argc - optind, argv + optind, &cons, 1, &engines, &st);
	if (rc >= 0) {
		int k = an_sensorsagg_build(s, &o, &engines, &res);
		if (k < 0)
			rc = k;
	}
	if (rc < 0)
		goto out;

	an_sensors_print(&res, &cfg, o.fmt, a.by);
out:
	if (rc < 0) {
		fprintf(stderr, "umbra-analyze sensors: %s\n", strerror(-rc));
		rc = 1;
	}
	an_sensorsagg_free(s, &res);
	an_names_free(&engines);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
