/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze top-ports: the TSUBAME table. Per sensor (destination
 * address) the destinations ranked by packets, as PORT/tcp, PORT/udp,
 * ICMP (one row for every ICMP type) and ICMPv6; without --by-sensor the
 * destinations ranked by average packets per sensor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "umbra/dump.h"

/* A destination: protocol class and port. ICMP rows carry no port. */
#define DEST(proto, port) ((uint32_t)(proto) << 16 | (uint32_t)(port))
#define DEST_PROTO(d) ((d) >> 16)
#define DEST_PORT(d) ((d)&0xffff)

struct cell {
	uint8_t addr[16]; /* sensor */
	uint8_t family;   /* 0 = empty */
	uint32_t dest;    /* UINT32_MAX: the sensor's total row */
	uint64_t packets;
	uint64_t sensor_total; /* filled before sorting */
};

struct table {
	struct cell *c;
	size_t cap, n;
};

static uint64_t cell_hash(const uint8_t *addr, uint32_t dest)
{
	uint64_t a, b;

	memcpy(&a, addr, 8);
	memcpy(&b, addr + 8, 8);
	a = (a ^ (b * 0x9e3779b97f4a7c15ull) ^ dest) * 0xff51afd7ed558ccdull;
	return a ^ (a >> 32);
}

static int table_grow(struct table *t)
{
	size_t cap = t->cap ? 2 * t->cap : 4096;
	struct cell *nc = calloc(cap, sizeof(*nc));

	if (!nc)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		if (!t->c[i].family)
			continue;
		size_t j = cell_hash(t->c[i].addr, t->c[i].dest) & (cap - 1);
		while (nc[j].family)
			j = (j + 1) & (cap - 1);
		nc[j] = t->c[i];
	}
	free(t->c);
	t->c = nc;
	t->cap = cap;
	return 0;
}

static int table_add(struct table *t, const uint8_t *addr, uint8_t family,
		     uint32_t dest, uint64_t packets)
{
	if (2 * (t->n + 1) > t->cap && table_grow(t) != 0)
		return -ENOMEM;
	size_t j = cell_hash(addr, dest) & (t->cap - 1);
	while (t->c[j].family) {
		if (t->c[j].dest == dest && t->c[j].family == family &&
		    memcmp(t->c[j].addr, addr, 16) == 0) {
			t->c[j].packets += packets;
			return 0;
		}
		j = (j + 1) & (t->cap - 1);
	}
	memcpy(t->c[j].addr, addr, 16);
	t->c[j].family = family;
	t->c[j].dest = dest;
	t->c[j].packets = packets;
	t->n++;
	return 0;
}

static uint64_t table_get(const struct table *t, const uint8_t *addr, uint8_t family,
			  uint32_t dest)
{
	if (!t->cap)
		return 0;
	size_t j = cell_hash(addr, dest) & (t->cap - 1);
	while (t->c[j].family) {
		if (t->c[j].dest == dest && t->c[j].family == family &&
		    memcmp(t->c[j].addr, addr, 16) == 0)
			return t->c[j].packets;
		j = (j + 1) & (t->cap - 1);
	}
	return 0;
}

static uint32_t dest_of(const struct umbra_flow_record *r)
{
	switch (r->proto) {
	case 6:
	case 17:
		return DEST(r->proto, r->dport);
	default:
		return DEST(r->proto, 0); /* ICMP, ICMPv6 and others: one row */
	}
}

static void dest_name(uint32_t d, char *buf, size_t len)
{
	unsigned p = DEST_PROTO(d);

	if (p == 6 || p == 17)
		snprintf(buf, len, "%u/%s", DEST_PORT(d), p == 6 ? "tcp" : "udp");
	else if (p == 1)
		snprintf(buf, len, "ICMP");
	else if (p == 58)
		snprintf(buf, len, "ICMPv6");
	else
		snprintf(buf, len, "proto %u", p);
}

static const char *dest_proto_json(uint32_t d, char *tmp)
{
	const char *n = umbra_proto_name(DEST_PROTO(d));

	if (n)
		return n;
	snprintf(tmp, 8, "%u", DEST_PROTO(d));
	return tmp;
}

static int cmp_cells(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	int c = memcmp(x->addr, y->addr, 16);
	if (c)
		return c;
	return x->dest < y->dest ? -1 : x->dest > y->dest;
}

static int same_sensor(const struct cell *a, const struct cell *b)
{
	return a->family == b->family && memcmp(a->addr, b->addr, 16) == 0;
}

/* Sensors first by their packets, then each sensor's rows by packets. */
static int cmp_rows(const void *a, const void *b)
{
	const struct cell *x = a, *y = b;

	if (!same_sensor(x, y)) {
		if (x->sensor_total != y->sensor_total)
			return x->sensor_total < y->sensor_total ? 1 : -1;
		if (x->family != y->family)
			return x->family < y->family ? -1 : 1;
		return memcmp(x->addr, y->addr, 16);
	}
	return cmp_cells(a, b);
}

enum tfmt { TF_TABLE, TF_CSV, TF_JSON };

static void addr_text(const struct cell *c, char *buf, size_t len)
{
	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, buf, (socklen_t)len);
}

static int top_usage(const char *msg, const char *what)
{
	fprintf(stderr, "umbra-analyze top-ports: %s%s%s (usage: umbra-analyze top-ports "
			"[-n N] [--by-sensor] [--max-sensors K] [--format table|csv|json] PATH...)\n",
		msg, what ? ": " : "", what ? what : "");
	return 2;
}

int analyze_top_ports(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"by-sensor", no_argument, NULL, 's'},
		{"max-sensors", required_argument, NULL, 'm'},
		{"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	long top = 10, max_sensors = 0;
	int by_sensor = 0, c, damage = 0;
	enum tfmt fmt = TF_TABLE;
	char *end;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			top = strtol(optarg, &end, 10);
			if (*end || top < 1 || top > 65536)
				return top_usage("bad value for -n", optarg);
			break;
		case 'm':
			max_sensors = strtol(optarg, &end, 10);
			if (*end || max_sensors < 0)
				return top_usage("bad value for --max-sensors", optarg);
			break;
		case 's':
			by_sensor = 1;
			break;
		case 'f':
			if (!strcmp(optarg, "table"))
				fmt = TF_TABLE;
			else if (!strcmp(optarg, "csv"))
				fmt = TF_CSV;
			else if (!strcmp(optarg, "json"))
				fmt = TF_JSON;
			else
				return top_usage("bad value for --format", optarg);
			break;
		case 'h':
			printf("usage: umbra-analyze top-ports [-n N] [--by-sensor] [--max-sensors K] "
			       "[--format table|csv|json] PATH...\n");
			return 0;
		default:
			return top_usage("unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return top_usage("no PATH given", NULL);

	struct analyze_paths in = {0};
	struct table cells = {0}, totals = {0};
	if (analyze_collect(&in, argc - optind, argv + optind) != 0)
		damage = 1;
	for (size_t i = 0; i < in.n; i++) {
		struct umbra_dump_reader *r = umbra_dump_open(in.v[i]);
		const struct umbra_flow_record *recs;
		long n;

		if (!r) {
			fprintf(stderr, "umbra-analyze: %s: %s\n", in.v[i],
				errno == EPROTO ? "not an umbra dump" : strerror(errno));
			damage = 1;
			continue;
		}
		while ((n = umbra_dump_next(r, &recs)) != 0) {
			if (n < 0) {
				damage = 1;
				if (n != -EBADMSG)
					break;
				continue;
			}
			for (long k = 0; k < n; k++) {
				const struct umbra_flow_record *f = &recs[k];
				uint8_t key[16] = {0};

				memcpy(key, f->dst, f->family == 4 ? 4 : 16);
				/* without --by-sensor, per-sensor totals still count sensors */
				if (table_add(&cells, by_sensor ? key : (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
					      by_sensor ? f->family : 4, dest_of(f), f->packets) ||
				    table_add(&totals, key, f->family, UINT32_MAX, f->packets)) {
					fprintf(stderr, "umbra-analyze: out of memory\n");
					return 1;
				}
			}
		}
		uint64_t db, dbytes;
		umbra_dump_damage(r, &db, &dbytes);
		if (db) {
			fprintf(stderr, "umbra-analyze: %s: %" PRIu64 " damaged block(s) skipped\n",
				in.v[i], db);
			damage = 1;
		}
		umbra_dump_close(r);
	}
	analyze_paths_free(&in);

	/* compact both tables to their used cells */
	size_t nc = 0, nt = 0;
	for (size_t i = 0; i < cells.cap; i++)
		if (cells.c[i].family) {
			cells.c[i].sensor_total = table_get(&totals, cells.c[i].addr,
							    cells.c[i].family, UINT32_MAX);
			cells.c[nc++] = cells.c[i];
		}
	for (size_t i = 0; i < totals.cap; i++)
		if (totals.c[i].family)
			totals.c[nt++] = totals.c[i];
	cells.n = nc;
	totals.n = nt;
	qsort(totals.c, nt, sizeof(*totals.c), cmp_cells);
	if (by_sensor)
		qsort(cells.c, nc, sizeof(*cells.c), cmp_rows);
	else
		qsort(cells.c, nc, sizeof(*cells.c), cmp_cells);

	char a[INET6_ADDRSTRLEN], d[32], tmp[8];
	if (fmt == TF_CSV)
		printf(by_sensor ? "sensor,rank,proto,port,packets\n" :
				   "rank,proto,port,packets,avg_per_sensor\n");
	if (fmt == TF_JSON)
		printf(by_sensor ? "{\"sensors\":[" : "{\"sensors\":%zu,\"top\":[", nt);
	if (!by_sensor) {
		if (fmt == TF_TABLE)
			printf("%-5s %-12s %14s %16s   (%zu sensors)\n", "rank", "destination",
			       "packets", "avg per sensor", nt);
		for (size_t i = 0; i < nc && i < (size_t)top; i++) {
			const struct cell *x = &cells.c[i];
			double avg = nt ? (double)x->packets / (double)nt : 0.0;

			dest_name(x->dest, d, sizeof(d));
			if (fmt == TF_TABLE)
				printf("%-5zu %-12s %14" PRIu64 " %16.1f\n", i + 1, d, x->packets, avg);
			else if (fmt == TF_CSV)
				printf("%zu,%s,%u,%" PRIu64 ",%.3f\n", i + 1,
				       dest_proto_json(x->dest, tmp), DEST_PORT(x->dest), x->packets, avg);
			else if (DEST_PROTO(x->dest) == 6 || DEST_PROTO(x->dest) == 17)
				printf("%s{\"proto\":\"%s\",\"port\":%u,\"packets\":%" PRIu64
				       ",\"avg_per_sensor\":%.3f}", i ? "," : "",
				       dest_proto_json(x->dest, tmp), DEST_PORT(x->dest), x->packets, avg);
			else
				printf("%s{\"proto\":\"%s\",\"port\":null,\"packets\":%" PRIu64
				       ",\"avg_per_sensor\":%.3f}", i ? "," : "",
				       dest_proto_json(x->dest, tmp), x->packets, avg);
		}
	} else {
		size_t sensor_i = 0, rank = 0;
		for (size_t i = 0; i < nc; i++) {
			const struct cell *x = &cells.c[i];
			int first_of_sensor = i == 0 || !same_sensor(x, &cells.c[i - 1]);

			if (first_of_sensor) {
				uint64_t total = x->sensor_total;

				if (max_sensors && sensor_i == (size_t)max_sensors)
					break;
				if (fmt == TF_JSON && sensor_i)
					printf("]},");
				addr_text(x, a, sizeof(a));
				if (fmt == TF_TABLE)
					printf("%ssensor %s  %" PRIu64 " packets\n", sensor_i ? "\n" : "",
					       a, total);
				else if (fmt == TF_JSON)
					printf("{\"sensor\":\"%s\",\"packets\":%" PRIu64 ",\"top\":[", a,
					       total);
				sensor_i++;
				rank = 0;
			}
			if (rank == (size_t)top)
				continue;
			rank++;
			dest_name(x->dest, d, sizeof(d));
			if (fmt == TF_TABLE)
				printf("  %3zu  %-12s %14" PRIu64 "\n", rank, d, x->packets);
			else if (fmt == TF_CSV)
				printf("%s,%zu,%s,%u,%" PRIu64 "\n", a, rank,
				       dest_proto_json(x->dest, tmp), DEST_PORT(x->dest), x->packets);
			else if (DEST_PROTO(x->dest) == 6 || DEST_PROTO(x->dest) == 17)
				printf("%s{\"proto\":\"%s\",\"port\":%u,\"packets\":%" PRIu64 "}",
				       rank > 1 ? "," : "", dest_proto_json(x->dest, tmp),
				       DEST_PORT(x->dest), x->packets);
			else
				printf("%s{\"proto\":\"%s\",\"port\":null,\"packets\":%" PRIu64 "}",
				       rank > 1 ? "," : "", dest_proto_json(x->dest, tmp), x->packets);
		}
		if (fmt == TF_JSON && sensor_i)
			printf("]}");
	}
	if (fmt == TF_JSON)
		printf("]}\n");
	free(cells.c);
	free(totals.c);
	return damage;
}
