/* SPDX-License-Identifier: BSD-3-Clause */
/* umbra-analyze: top-ports tables, shared with report. */
#ifndef UMBRA_ANALYZE_TOP_H
#define UMBRA_ANALYZE_TOP_H

#include "analyze.h"

/* a destination: proto << 16 | port (port 0 for ICMP and others) */
uint32_t an_dest_of(unsigned proto, unsigned dport);
void an_dest_name(uint32_t dest, char *buf, size_t len);
void an_dest_json(uint32_t dest);

struct an_top_row {
	uint32_t dest;
	uint64_t packets;
};

struct an_top_sensor {
	uint8_t addr[16];
	uint8_t family;
	unsigned engine;      /* first dump sensor name it was seen in */
	int multi;            /* seen by more than one host */
	const char *label;    /* --sensors label or NULL */
	const char *group;
	uint64_t packets;
	struct an_top_row *rows; /* the best rows, by packets, descending */
	size_t nrows;
};

struct an_top_group {
	const char *name;
	size_t sensors;
	uint64_t packets;
	struct an_top_row *rows;
	size_t nrows;
};

struct an_top_result {
	struct an_top_sensor *sensors; /* by packets, descending */
	size_t nsensors;
	struct an_top_group *groups;   /* in order of first appearance */
	size_t ngroups;
	struct an_top_group all;
};

/* (engine, sensor, dest) -> packets: IPv4 sensors of engines < 256 in v4 */
struct an_top_cells {
	struct an_map64 v4;
	struct an_map gen;
};

void an_top_consumer(struct an_consumer *c, struct an_top_cells *cells);
void an_top_cells_free(struct an_top_cells *c);
void an_top_view(void *tls, const struct an_file *f, const struct umbra_block_view *v);
void an_top_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		 size_t n);
/* tables from the cells (the best keep rows of each, 0 = all); groups
 * only with want_groups */
int an_top_build(struct an_top_result *t, const struct an_top_cells *cells,
		 const struct an_names *engines, const struct an_sensors *sens, int want_groups,
		 size_t keep);
void an_top_result_free(struct an_top_result *t);
int an_top_cmp_row(const void *a, const void *b);
void an_top_print(const struct an_top_result *t, long top, long max_sensors,
		  int by_sensor, int by_group, enum an_fmt fmt);

#endif
