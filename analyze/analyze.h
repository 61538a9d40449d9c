/* SPDX-License-Identifier: BSD-3-Clause */
/* umbra-analyze internals shared by its command files (docs/ANALYZE.md). */
#ifndef UMBRA_ANALYZE_H
#define UMBRA_ANALYZE_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "umbra/dump.h"
#include "umbra/record.h"

#define AN_NSEC UINT64_C(1000000000)
#define AN_DAY_NS (86400ull * AN_NSEC)

/* ---- paths (analyze-input.c) ------------------------------------------ */

struct analyze_paths {
	char **v;
	size_t n, cap;
};

/*
 * Expand PATH arguments (files, or directories searched for *.uz and
 * *.uz.partial) into a sorted list. Returns 0, or -1 when some argument
 * could not be read (reported on stderr; the others are kept).
 */
int analyze_collect(struct analyze_paths *p, int n, char **args);
void analyze_paths_free(struct analyze_paths *p);

/* ---- common options (analyze-opts.c) ------------------------------------ */

enum an_fmt { AN_FMT_DEFAULT, AN_FMT_TABLE, AN_FMT_CSV, AN_FMT_JSON, AN_FMT_NDJSON };

struct an_filter;
struct an_sensors;
struct an_asn;
struct an_mmdb;

struct an_opts {
	const char *cmd;          /* "top-ports", for messages */
	uint64_t from_ns, to_ns;  /* records with first_ns in [from, to) */
	int window;               /* --from or --to given */
	unsigned threads;         /* 0 = all cores */
	enum an_fmt fmt;
	unsigned fmt_allowed;     /* 1u << AN_FMT_x accepted by the command */
	const char *filter_text;
	struct an_filter *filter;
	const char *sensors_path, *asn_path, *mmdb_path;
	struct an_sensors *sensors;
	struct an_asn *asn;
	struct an_mmdb *mmdb;
	int approx;
	int verbose;
};

/* Long options every command accepts; codes from AN_OPT_BASE up. */
#define AN_OPT_BASE 1000
extern const struct option an_common_lopts[];

/*
 * getopt_long option table: the command's own options followed by the
 * common ones (malloc'ed; the command frees it).
 */
struct option *an_options(const struct option *own);

/*
 * Handle a common option. 0: handled; 1: not a common option; 2: usage
 * error (printed, exit with 2).
 */
int an_common_opt(struct an_opts *o, int c, const char *arg);

/* Load the files named by common options (filter, sensors, asn, mmdb).
 * 0, or 2 on a usage error (printed). */
int an_opts_finish(struct an_opts *o);
void an_opts_free(struct an_opts *o);

/* One-line usage error naming the option and value; returns 2. */
int an_usage(const struct an_opts *o, const char *msg, const char *what);

/* Times: RFC 3339 ("2024-05-01", "2024-05-01T12:00:00Z", "...+09:00",
 * fractional seconds) or UNIX seconds. 0 or -1. */
int an_parse_time(const char *s, uint64_t *ns);
/* "2024-05-01T00:00:00Z" (sec precision) / "2024-05-01" / "2024-05" */
void an_fmt_time(uint64_t ns, char *buf, size_t len);
void an_fmt_date(uint64_t ns, char *buf, size_t len);
void an_fmt_month(unsigned month_idx, char *buf, size_t len);
/* months since 1970-01 of a UNIX time in ns, and the month's bounds */
unsigned an_month_of(uint64_t ns);
uint64_t an_month_start(unsigned month_idx);

/* "23/tcp", "53/udp", "icmp", "icmp6": proto and port (-1 = any port). */
int an_parse_portspec(const char *s, int *proto, int *port);
int an_parse_uint(const char *s, uint64_t max, uint64_t *v);

/* JSON string (with quotes) and CSV field (quoted when needed) to stdout */
void an_json_str(const char *s);
void an_csv_str(const char *s);

/* ---- filter language (analyze-filter.c) ------------------------------ */

/* Compile; NULL after printing an error that points at the token. */
struct an_filter *an_filter_compile(const char *text, const char *cmd);
int an_filter_match(const struct an_filter *f, const struct umbra_flow_record *r,
		    const char *sensor);
void an_filter_free(struct an_filter *f);

/* ---- address helpers and grouping (analyze-group.c) ------------------ */

/* Address as 16 bytes + family, from a record side. */
static inline int an_fam(const struct umbra_flow_record *r)
{
	return r->family == 6 ? 6 : 4;
}

/* Parse "ADDR" or "ADDR/LEN". 0 or -1. */
int an_parse_prefix(const char *s, uint8_t addr[16], int *family, unsigned *plen);
void an_mask(uint8_t addr[16], int family, unsigned plen);
void an_addr_text(const uint8_t *addr, int family, char *buf, size_t len);

/* prefix -> values; lookups return the longest match or every match */
struct an_pfx;
struct an_pfx *an_pfx_new(void);
void an_pfx_free(struct an_pfx *t);
int an_pfx_add(struct an_pfx *t, const uint8_t addr[16], int family,
	       unsigned plen, uint32_t value);
/* value of the longest matching prefix, or -1 */
long an_pfx_longest(const struct an_pfx *t, const uint8_t *addr, int family);
/* values of every matching prefix, up to max; returns how many */
size_t an_pfx_all(const struct an_pfx *t, const uint8_t *addr, int family,
		  uint32_t *out, size_t max);
size_t an_pfx_count(const struct an_pfx *t);

/* interned strings: name <-> id */
struct an_names {
	char **v;
	size_t n, cap;
	uint32_t *h; /* hash: id + 1, 0 = empty */
	size_t hcap;
};
/* id of s, added if new; -1 on allocation failure */
long an_names_id(struct an_names *t, const char *s);
long an_names_find(const struct an_names *t, const char *s);
void an_names_free(struct an_names *t);

/* --ranges FILE: "NAME CIDR [CIDR...]" lines; a name may repeat. */
struct an_ranges {
	struct an_names names;
	struct an_pfx *pfx;
};
int an_ranges_load(struct an_ranges *r, const char *path, const char *cmd);
void an_ranges_free(struct an_ranges *r);

/*
 * --sensors FILE: "MATCH GROUP [LABEL]" lines. MATCH is an address, a
 * CIDR, or a dump's sensor name. A sensor's entry is its longest matching
 * prefix, else the entry naming its dump's sensor name; without one its
 * group is the dump's sensor name.
 */
struct an_sensors {
	struct an_names groups;
	struct an_pfx *pfx;          /* -> entry index */
	struct an_names engines;     /* dump sensor names listed */
	uint32_t *engine_entry;      /* per engines id: entry index */
	struct an_sensor_entry {
		uint32_t group;
		char *label;             /* NULL: none */
	} *e;
	size_t ne;
};
struct an_sensors *an_sensors_load(const char *path, const char *cmd);
void an_sensors_free(struct an_sensors *s);
/* the entry for a sensor address seen in dumps of engine name, or NULL */
const struct an_sensor_entry *an_sensors_lookup(const struct an_sensors *s,
						const uint8_t *addr, int family,
						const char *engine);

/* --asn FILE: "CIDR ASN" lines (ASN as "64500" or "AS64500") */
struct an_asn *an_asn_load(const char *path, const char *cmd);
void an_asn_free(struct an_asn *a);
/* AS number of the longest match, 0 when none */
uint32_t an_asn_lookup(const struct an_asn *a, const uint8_t *addr, int family);

/* --mmdb FILE (libmaxminddb): AS number and country code */
struct an_mmdb *an_mmdb_open(const char *path, const char *cmd);
void an_mmdb_close(struct an_mmdb *m);
uint32_t an_mmdb_asn(struct an_mmdb *m, const uint8_t *addr, int family);
/* ISO code into cc[3]; 0 found, -1 not */
int an_mmdb_country(struct an_mmdb *m, const uint8_t *addr, int family, char cc[3]);

/*
 * Grouping of source addresses, shared by surge and scanners:
 * "/24" (IPv4 prefix length; IPv6 sources use /48 unless "/24,/40"),
 * "ranges" (with a ranges file), "asn" (--asn or --mmdb), "country" (--mmdb).
 */
enum an_grouping { AN_G_PREFIX, AN_G_RANGES, AN_G_ASN, AN_G_COUNTRY };
struct an_grouper {
	enum an_grouping kind;
	unsigned plen4, plen6;
	struct an_ranges ranges;
	const struct an_asn *asn;
	struct an_mmdb *mmdb;
};
struct an_gkey {
	uint8_t b[16]; /* masked prefix, or zero */
	uint32_t id;   /* range id, AS number, or country code letters */
	uint8_t family;
	uint8_t plen;
	uint8_t pad[2];
};
/* "--group" value (+ FILE for ranges); 0 or 2 (usage error printed). */
int an_grouper_init(struct an_grouper *g, const struct an_opts *o,
		    const char *spec, const char *file);
void an_grouper_free(struct an_grouper *g);
/* group keys of an address: up to max (ranges may overlap); count */
size_t an_group_of(const struct an_grouper *g, const uint8_t *addr, int family,
		   struct an_gkey *out, size_t max);
void an_group_name(const struct an_grouper *g, const struct an_gkey *k,
		   char *buf, size_t len);

/* ---- hash map with 24-byte keys and u64 values (analyze-map.c) -------- */

struct an_key {
	uint64_t a, b, c;
};

struct an_slot {
	struct an_key k;
	uint64_t v;
};

struct an_map {
	struct an_slot *s;
	size_t cap, n;   /* cap is a power of two, 0 before first use */
	int has_zero;    /* the all-zero key is kept aside */
	uint64_t zero_v;
};

static inline uint64_t an_key_hash(const struct an_key *k)
{
	uint64_t h = k->a * 0x9e3779b97f4a7c15ull;
	h ^= (k->b + 0x632be59bd9b4e019ull) * 0xc2b2ae3d27d4eb4full;
	h ^= (k->c + 0x165667b19e3779f9ull) * 0xff51afd7ed558ccdull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 29);
}

int an_map_grow(struct an_map *m);

/* pointer to the key's value, inserted as 0 if new; NULL on ENOMEM */
static inline uint64_t *an_map_get(struct an_map *m, const struct an_key *k)
{
	if ((k->a | k->b | k->c) == 0) {
		if (!m->has_zero) {
			m->has_zero = 1;
			m->zero_v = 0;
			m->n++;
		}
		return &m->zero_v;
	}
	if (2 * (m->n + 1) > m->cap && an_map_grow(m) != 0)
		return NULL;
	size_t mask = m->cap - 1, j = an_key_hash(k) & mask;
	for (;;) {
		struct an_slot *s = &m->s[j];
		if (s->k.a == k->a && s->k.b == k->b && s->k.c == k->c)
			return &s->v;
		if ((s->k.a | s->k.b | s->k.c) == 0) {
			s->k = *k;
			s->v = 0;
			m->n++;
			return &s->v;
		}
		j = (j + 1) & mask;
	}
}

/*
 * Set the value of each of n keys to 1 (a set's insert), prefetching slots
 * ahead so that the cache misses of new keys overlap; 0 or -ENOMEM.
 */
int an_map_mark(struct an_map *m, const struct an_key *keys, size_t n);

/* keys waiting to go into a set together, for an_map_mark */
struct an_markbuf {
	struct an_key k[256];
	size_t n;
};

/* the waiting keys into m; 0 or -ENOMEM */
static inline int an_markbuf_flush(struct an_markbuf *b, struct an_map *m)
{
	int rc = b->n ? an_map_mark(m, b->k, b->n) : 0;
	b->n = 0;
	return rc;
}

/* k to wait for the next flush, done here when the buffer is full */
static inline int an_markbuf_add(struct an_markbuf *b, struct an_map *m, const struct an_key *k)
{
	b->k[b->n++] = *k;
	return b->n == sizeof(b->k) / sizeof(b->k[0]) ? an_markbuf_flush(b, m) : 0;
}

/* value of k, or NULL */
const uint64_t *an_map_find(const struct an_map *m, const struct an_key *k);

/*
 * The same with 64-bit keys and 16-byte slots, for hot loops: an_map64_add
 * adds a batch, prefetching slots ahead so that cache misses overlap.
 */
struct an_slot64 {
	uint64_t k, v;
};

struct an_map64 {
	struct an_slot64 *s;
	size_t cap, n;
	int has_zero;
	uint64_t zero_v;
};

static inline uint64_t an_hash64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	return k ^ (k >> 33);
}

/* room for extra more keys without growing; 0 or -ENOMEM */
int an_map64_reserve(struct an_map64 *m, size_t extra);

static inline uint64_t *an_map64_get(struct an_map64 *m, uint64_t k)
{
	if (!k) {
		if (!m->has_zero) {
			m->has_zero = 1;
			m->zero_v = 0;
			m->n++;
		}
		return &m->zero_v;
	}
	if (10 * (m->n + 1) > 7 * m->cap && an_map64_reserve(m, 1) != 0)
		return NULL;
	size_t mask = m->cap - 1, j = an_hash64(k) & mask;
	for (;;) {
		struct an_slot64 *s = &m->s[j];
		if (s->k == k)
			return &s->v;
		if (!s->k) {
			s->k = k;
			s->v = 0;
			m->n++;
			return &s->v;
		}
		j = (j + 1) & mask;
	}
}

/* add vals[i] to keys[i]'s value for i < n; 0 or -ENOMEM */
int an_map64_add(struct an_map64 *m, const uint64_t *keys, const uint64_t *vals, size_t n);
const uint64_t *an_map64_find(const struct an_map64 *m, uint64_t k);
int an_map64_merge(struct an_map64 *dst, struct an_map64 *src);
void an_map64_free(struct an_map64 *m);
/* add every entry of src into dst (values summed, or OR-ed with or_values) */
int an_map_merge(struct an_map *dst, const struct an_map *src, int or_values);
/* entries as an array (malloc'ed), *n set; NULL with *n = 0 when empty */
struct an_slot *an_map_items(const struct an_map *m, size_t *n);
void an_map_free(struct an_map *m);

/* HyperLogLog, 2^12 registers (about 1.6% standard error) */
#define AN_HLL_P 12
struct an_hll {
	uint8_t reg[1u << AN_HLL_P];
};
static inline void an_hll_add(struct an_hll *h, uint64_t hash)
{
	unsigned idx = (unsigned)(hash >> (64 - AN_HLL_P));
	uint64_t rest = hash << AN_HLL_P | (1ull << (AN_HLL_P - 1));
	uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
	if (rank > h->reg[idx])
		h->reg[idx] = rank;
}
void an_hll_merge(struct an_hll *dst, const struct an_hll *src);
double an_hll_count(const struct an_hll *h);
uint64_t an_addr_hash(const uint8_t *addr, int family);

/* ---- parallel block scan (analyze-scan.c) ----------------------------- */

/* What a consumer sees of the file a block came from. */
struct an_file {
	const char *path;
	const struct umbra_dump_meta *meta;
	unsigned engine; /* id of meta->sensor_name in an_scan's names */
	const struct umbra_interval *iv; /* only in the file() callback */
	size_t niv;
};

/*
 * One aggregation run over the blocks. Per worker thread, tls_new()
 * makes private state that view() or recs() update without locks; merge()
 * folds it into ctx on the main thread at the end (and frees it). file()
 * runs on the main thread once per file read, after its blocks were
 * enumerated (intervals are complete then).
 *
 * recs() is required: it gets every record that passes --filter and the
 * time window. view() is the optional fast path for blocks that need no
 * per-record filtering; it must count exactly what recs() would.
 */
struct an_consumer {
	void *ctx;
	unsigned cols; /* columns for view() */
	void *(*tls_new)(void *ctx);
	void (*view)(void *tls, const struct an_file *f, const struct umbra_block_view *v);
	void (*recs)(void *tls, const struct an_file *f,
		     const struct umbra_flow_record *r, size_t n);
	void (*file)(void *ctx, const struct an_file *f);
	int (*merge)(void *ctx, void *tls);
	int intervals; /* needs every file's intervals: no whole-file skipping */
};

struct an_scan_stats {
	uint64_t files, files_bad, files_skipped;
	uint64_t blocks, blocks_skipped, blocks_damaged;
	uint64_t records, records_matched;
	unsigned threads;
};

/*
 * Read every dump in paths (files and directories), in parallel over
 * blocks. engines receives the dumps' sensor names. Returns 0, 1 when
 * damage or unreadable input was found (reported on stderr; the rest is
 * still counted), -ENOMEM.
 */
int an_scan(const struct an_opts *o, int npaths, char **paths,
	    struct an_consumer *c, size_t nc, struct an_names *engines,
	    struct an_scan_stats *st);

/* worker threads for o->threads (0 = online CPUs) */
unsigned an_threads(const struct an_opts *o);

/* ---- commands ---------------------------------------------------------- */

int analyze_top_ports(int argc, char **argv);
int analyze_sources(int argc, char **argv);
int analyze_sensors(int argc, char **argv);
int analyze_surge(int argc, char **argv);
int analyze_report(int argc, char **argv);
int analyze_verify(int argc, char **argv);
int analyze_recover(int argc, char **argv);
int analyze_flows_filtered(int argc, char **argv);
int analyze_scanners(int argc, char **argv); /* analyze-scanners.c */

/*
 * qsort for arrays that may be empty (and then NULL): passing NULL to
 * qsort is undefined even with no elements.
 */
static inline void an_qsort(void *base, size_t n, size_t size,
			    int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* Source address of row i of a block view, as 16 bytes (IPv4 first 4). */
static inline void an_view_src(const struct umbra_block_view *v, uint32_t i, uint8_t a[16])
{
	/* one 16-byte store: the caller's loads of a then forward from it
	 * (a memset and four byte stores read back as words stalled) */
	typedef uint64_t an_v2 __attribute__((vector_size(16), aligned(1), may_alias));
	if (i < v->n4) {
		*(an_v2 *)(void *)a = (an_v2){__builtin_bswap32(v->src4[i]), 0};
	} else {
		memcpy(a, v->src16 + 16 * (size_t)(i - v->n4), 16);
	}
}

#endif
