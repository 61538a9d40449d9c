/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze: the aggregations behind sources, sensors and surge, as
 * consumers of an_scan() and result tables, so report runs them all in
 * one pass over the data.
 */
#ifndef UMBRA_ANALYZE_CMDS_H
#define UMBRA_ANALYZE_CMDS_H

#include "analyze.h"

/* ---- sources: distinct source addresses per named range per interval ---- */

struct an_sources_cfg {
	const struct an_ranges *ranges;
	int proto, port;      /* proto 0 = any; port -1 = any */
	uint64_t interval_ns;
	int approx;           /* HyperLogLog instead of exact sets */
};

struct an_sources_result {
	size_t nranges;
	char *const *names;   /* the ranges' names (owned by cfg->ranges) */
	uint64_t interval_ns;
	uint64_t first_bin, nbins; /* bin b starts at (first_bin + b) * interval_ns */
	double *count;        /* [bin * nranges + range] */
};

struct an_sources;
struct an_sources *an_sources_new(const struct an_sources_cfg *cfg);
void an_sources_consumer(struct an_sources *s, struct an_consumer *c);
int an_sources_build(struct an_sources *s, const struct an_opts *o,
		     struct an_sources_result *res);
void an_sources_free(struct an_sources *s, struct an_sources_result *res);

/* ---- sensors: average packets per sensor per day, by month and group ---- */

struct an_sensors_cfg {
	uint64_t unit_ns;     /* --per: a day or an hour */
	int by_month;         /* --by month, else by unit */
};

struct an_sensors_row {
	const char *group;
	unsigned period;      /* month index (an_fmt_month) or unit index */
	uint64_t sensors;     /* sensors of the group capturing in the period */
	uint64_t units;       /* sensor-units (days or hours) of capture */
	uint64_t packets;
	double avg;           /* packets / units */
};

struct an_sensors_result {
	struct an_sensors_row *rows; /* by group name, then period */
	size_t nrows;
	char **groups;        /* group names, sorted */
	size_t ngroups;
};

struct an_sensorsagg;
struct an_sensorsagg *an_sensorsagg_new(const struct an_sensors_cfg *cfg,
					const struct an_opts *o);
void an_sensorsagg_consumer(struct an_sensorsagg *s, struct an_consumer *c);
int an_sensorsagg_build(struct an_sensorsagg *s, const struct an_opts *o,
			const struct an_names *engines, struct an_sensors_result *res);
void an_sensorsagg_free(struct an_sensorsagg *s, struct an_sensors_result *res);

/* ---- surge: source groups whose daily distinct sources jump ------------- */

struct an_surge_cfg {
	int proto, port;
	const struct an_grouper *g;
	unsigned baseline_days;
	double factor;
	uint64_t min_sources;
};

struct an_surge_row {
	char group[64];
	unsigned start_day;   /* days since the epoch */
	uint64_t sources;     /* distinct sources that day */
	double baseline;      /* mean of the trailing baseline_days */
	double factor;        /* sources / max(baseline, 1) */
	unsigned peak_day;
	uint64_t peak_sources;
};

struct an_surge_result {
	struct an_surge_row *rows; /* ranked */
	size_t nrows;
	uint64_t groups;           /* groups with any source */
	unsigned first_day, last_day;
};

struct an_surge;
struct an_surge *an_surge_new(const struct an_surge_cfg *cfg);
void an_surge_consumer(struct an_surge *s, struct an_consumer *c);
int an_surge_build(struct an_surge *s, const struct an_opts *o, struct an_surge_result *res);
void an_surge_free(struct an_surge *s, struct an_surge_result *res);

void an_sources_print(const struct an_sources_result *res, enum an_fmt fmt, const char *port,
		      int approx);
void an_sensors_print(const struct an_sensors_result *res, const struct an_sensors_cfg *cfg,
		      enum an_fmt fmt, const char *by);
void an_surge_print(const struct an_surge_result *res, const struct an_surge_cfg *cfg,
		    enum an_fmt fmt, const char *port, const char *group, size_t top);

/* record filter on a port spec (proto 0 = any) */
static inline int an_port_ok(int proto, int port, unsigned rproto, unsigned dport)
{
	return !proto || ((int)rproto == proto && (port < 0 || (int)dport == port));
}

/*
 * The source, family and first_ns of every record passing the port spec,
 * from records (recs) or from a block view (view), into
 * add(arg, src16, family, first_ns): the per-source walk of sources and
 * surge. Inline, so that each caller's add is inlined too.
 */
typedef void (*an_src_add_fn)(void *arg, const uint8_t *src, int fam, uint64_t first_ns);

static inline void an_src_recs(int proto, int port, const struct umbra_flow_record *r, size_t n,
			       an_src_add_fn add, void *arg)
{
	for (size_t i = 0; i < n; i++, r++)
		if (an_port_ok(proto, port, r->proto, r->dport))
			add(arg, r->src, an_fam(r), r->first_ns);
}

static inline void an_src_view(int proto, int port, const struct umbra_block_view *v,
			       an_src_add_fn add, void *arg)
{
	for (uint32_t i = 0; i < v->n; i++) {
		const struct umbra_flow_record *p = &v->profiles[v->profile[i]];
		if (!an_port_ok(proto, port, p->proto, v->dport[i]))
			continue;
		uint8_t a[16];
		an_view_src(v, i, a);
		add(arg, a, p->family == 6 ? 6 : 4, v->first_ns[i]);
	}
}

/* move src into an empty dst, else merge: the cheap merge of one thread */
int an_map_absorb(struct an_map *dst, struct an_map *src, int or_values);

/* the common option loop: own options in 'own', handled by 'fn' */
typedef int (*an_own_opt_fn)(void *arg, int c, const char *optarg);
int an_parse_args(struct an_opts *o, int argc, char **argv, const struct option *own,
		  const char *shortopts, an_own_opt_fn fn, void *arg, const char *help);

#endif
