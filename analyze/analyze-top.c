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
#include "analyze-cmds.h"
#include "record-codec.h"

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

/*
 * Cells (engine, sensor, dest) -> packets. IPv4 sensors of the first 256
 * engines, nearly everything, live in a map with 64-bit keys
 * dst << 32 | engine << 24 | dest that a block updates in one prefetched
 * batch; the rest in the general map keyed (address, engine, family, dest).
 */
#define V4KEY(dst, eng, dest) ((uint64_t)(dst) << 32 | (uint64_t)(eng) << 24 | (dest))

static inline struct an_key cell_key(const uint8_t *addr16, unsigned family,
				     unsigned engine, uint32_t dest)
{
	struct an_key k;
	memcpy(&k.a, addr16, 8);
	memcpy(&k.b, addr16 + 8, 8);
	k.c = (uint64_t)engine << 32 | (uint64_t)family << 24 | dest;
	return k;
}

/* per profile of a block, its records' destination index (prof_dest_load) */
struct prof_dest {
	uint32_t *base;
	uint16_t *mask;
	uint32_t n, cap;
	int ok;
};

struct top_tls {
	struct an_top_cells c;
	uint64_t *keys, *vals;
	size_t cap;
	struct prof_dest pdm;
	int nomem;
};

static void *top_tls_new(void *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct top_tls));
}

static void add_gen(struct top_tls *t, const uint8_t *addr16, unsigned family, unsigned engine,
		    uint32_t dest, uint64_t packets)
{
	struct an_key k = cell_key(addr16, family, engine, dest);
	uint64_t *v = an_map_get(&t->c.gen, &k);
	if (v)
		*v += packets;
	else
		t->nomem = 1;
}

static inline int compact(const struct umbra_flow_record *r)
{
	static const uint8_t zero[12];
	return r->family == 4 && memcmp(r->dst + 4, zero, 12) == 0;
}

/* destinations as dense indices: TCP ports, UDP ports, other protocols */
#define NDENSE (2 * 65536 + 256)
static inline size_t dense_of(uint32_t dest)
{
	unsigned p = DEST_PROTO(dest);
	return p == 6 ? DEST_PORT(dest) : p == 17 ? 65536 + DEST_PORT(dest) : 131072 + p;
}
static inline uint32_t dest_of_dense(size_t i)
{
	return i < 65536 ? an_dest_of(6, (unsigned)i) :
	       i < 131072 ? an_dest_of(17, (unsigned)(i - 65536)) :
			    an_dest_of((unsigned)(i - 131072), 0);
}

/*
 * Per profile of a block: what a record's destination index is, base[j] +
 * (dport & mask[j]): base from the protocol (dest << 16, or the dense
 * index with dense), mask 0xffff where the protocol has ports. Worked out
 * on a block's first view range (from 0, as the scan hands them out) and
 * kept for its other ranges: a block can have as many profiles as records.
 * 1 when d holds v's block, 0 if out of memory.
 */
static int prof_dest_load(struct prof_dest *d, const struct umbra_block_view *v, int dense)
{
	if (d->ok && v->from != 0 && d->n == v->nprofiles)
		return 1;
	d->ok = 0;
	if (v->nprofiles > d->cap) {
		free(d->base);
		free(d->mask);
		d->base = malloc(sizeof(*d->base) * v->nprofiles);
		d->mask = malloc(sizeof(*d->mask) * v->nprofiles);
		d->cap = d->base && d->mask ? v->nprofiles : 0;
		if (!d->cap)
			return 0;
	}
	for (uint32_t j = 0; j < v->nprofiles; j++) {
		unsigned p = v->profiles[j].proto;
		d->base[j] = dense ? (uint32_t)dense_of(an_dest_of(p, 0)) : (uint32_t)p << 16;
		d->mask[j] = has_port(p) ? 0xffff : 0;
	}
	d->n = v->nprofiles;
	d->ok = 1;
	return 1;
}

static void prof_dest_free(struct prof_dest *d)
{
	free(d->base);
	free(d->mask);
	memset(d, 0, sizeof(*d));
}

void an_top_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	struct top_tls *t = tls;

	if (!prof_dest_load(&t->pdm, v, 0)) {
		t->nomem = 1;
		return;
	}
	const uint32_t *pd = t->pdm.base;
	const uint16_t *pm = t->pdm.mask;
	const uint32_t *dst4 = v->dst4, *pk = v->packets, *pr = v->profile;
	const uint16_t *dport = v->dport;
	if (f->engine < 256) {
		if (t->cap < v->n4) {
			free(t->keys);
			free(t->vals);
			t->keys = malloc(sizeof(*t->keys) * v->n4);
			t->vals = malloc(sizeof(*t->vals) * v->n4);
			t->cap = t->keys && t->vals ? v->n4 : 0;
			if (!t->cap) {
				t->nomem = 1;
				return;
			}
		}
		uint64_t *keys = t->keys, *vals = t->vals;
		size_t m = 0;
		for (uint32_t i = 0; i < v->n4; i++) {
			uint32_t j = pr[i];
			uint64_t k = V4KEY(dst4[i], f->engine, pd[j] | (dport[i] & pm[j]));
			/* runs of one scanner often hit one cell */
			if (m && keys[m - 1] == k) {
				vals[m - 1] += pk[i];
			} else {
				keys[m] = k;
				vals[m++] = pk[i];
			}
		}
		if (an_map64_add(&t->c.v4, keys, vals, m) < 0)
			t->nomem = 1;
	} else {
		for (uint32_t i = 0; i < v->n4; i++) {
			uint8_t a[16] = {(uint8_t)(dst4[i] >> 24), (uint8_t)(dst4[i] >> 16),
					 (uint8_t)(dst4[i] >> 8), (uint8_t)dst4[i]};
			uint32_t j = pr[i];
			add_gen(t, a, 4, f->engine, pd[j] | (dport[i] & pm[j]), pk[i]);
		}
	}
	for (uint32_t i = v->n4; i < v->n; i++) {
		uint32_t j = pr[i];
		add_gen(t, v->dst16 + 16 * (size_t)(i - v->n4),
			v->profiles[j].family == 6 ? 6 : 4, f->engine, pd[j] | (dport[i] & pm[j]),
			pk[i]);
	}
}

void an_top_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		 size_t n)
{
	struct top_tls *t = tls;
	for (size_t i = 0; i < n; i++, r++) {
		uint32_t dest = an_dest_of(r->proto, r->dport);
		if (f->engine < 256 && compact(r)) {
			uint64_t *v = an_map64_get(&t->c.v4, V4KEY(umbra_get32be(r->dst), f->engine, dest));
			if (v)
				*v += r->packets;
			else
				t->nomem = 1;
		} else {
			add_gen(t, r->dst, (unsigned)an_fam(r), f->engine, dest, r->packets);
		}
	}
}

static int top_merge(void *ctx, void *tls)
{
	struct an_top_cells *into = ctx;
	struct top_tls *t = tls;
	int rc = t->nomem ? -ENOMEM : 0;
	if (an_map64_merge(&into->v4, &t->c.v4) < 0 || an_map_absorb(&into->gen, &t->c.gen, 0) < 0)
		rc = -ENOMEM;
	an_map64_free(&t->c.v4);
	an_map_free(&t->c.gen);
	free(t->keys);
	free(t->vals);
	prof_dest_free(&t->pdm);
	free(t);
	return rc;
}

void an_top_consumer(struct an_consumer *c, struct an_top_cells *cells)
{
	memset(c, 0, sizeof(*c));
	c->ctx = cells;
	c->cols = UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS | UMBRA_COL_PROFILE;
	c->tls_new = top_tls_new;
	c->view = an_top_view;
	c->recs = an_top_recs;
	c->merge = top_merge;
}

void an_top_cells_free(struct an_top_cells *c)
{
	an_map64_free(&c->v4);
	an_map_free(&c->gen);
}

/* ---- totals: the table without --by-sensor or --by-group ---------------- */

/*
 * Ranked by average packets per sensor over all sensors, the table needs
 * each destination's total and the number of sensors, not every (sensor,
 * destination) cell: a dense array indexed by destination and a set of
 * sensors take the place of the cell map that missed the cache on most
 * records.
 */
struct totals_tls {
	uint64_t *dense; /* NDENSE: packets per destination */
	/*
	 * Views add into 32-bit counters first, half the cache footprint of
	 * dense (the scattered ports of a sweep miss it): room is what every
	 * counter can still take, a block takes its packet total, and the
	 * counters are folded into dense before they could overflow.
	 */
	uint32_t *dense32;
	uint64_t room;
	struct an_map64 s4; /* compact IPv4 sensors: 1 << 32 | address */
	struct an_map s16;  /* the others: (address, family) */
	/*
	 * in front of s4: the last compact sensor seen at each value of an
	 * address's last byte (a /24 telescope never misses); a sensor is
	 * added to s4 when it takes a place
	 */
	uint64_t s4c[256];
	/*
	 * 1 << 32 | a /24 whose 256 addresses are all in s4 (0: none yet):
	 * a range of sensors all in it adds nothing
	 */
	uint64_t full24;
	struct prof_dest pdm;
	int nomem;
};

static void *totals_tls_new(void *ctx)
{
	struct totals_tls *t = calloc(1, sizeof(*t));
	(void)ctx;
	if (!t)
		return NULL;
	/* dense only when a fold needs it: the merge adds dense32 itself */
	t->dense32 = calloc(NDENSE, sizeof(*t->dense32));
	if (!t->dense32) {
		free(t);
		return NULL;
	}
	t->room = UINT32_MAX;
	return t;
}

/* add a thread's 32-bit counters into dense (allocated here if need be) */
static int totals_fold_into(uint64_t **dense, struct totals_tls *t)
{
	if (t->room == UINT32_MAX)
		return 0;
	if (!*dense && !(*dense = calloc(NDENSE, sizeof(**dense))))
		return -ENOMEM;
	for (size_t i = 0; i < NDENSE; i++) {
		(*dense)[i] += t->dense32[i];
		t->dense32[i] = 0;
	}
	t->room = UINT32_MAX;
	return 0;
}

/*
 * Make room for total packets: 1 to add them into dense32, 0 into dense
 * (over 2^32 packets at once), -1 out of memory.
 */
static int totals_room(struct totals_tls *t, uint64_t total)
{
	if (total > t->room && totals_fold_into(&t->dense, t) < 0)
		return -1;
	if (total > t->room)
		return t->dense || (t->dense = calloc(NDENSE, sizeof(*t->dense))) ? 0 : -1;
	t->room -= total;
	return 1;
}

static void totals_sensor16(struct totals_tls *t, const uint8_t *addr, unsigned family)
{
	struct an_key k;
	memcpy(&k.a, addr, 8);
	memcpy(&k.b, addr + 8, 8);
	k.c = family;
	if (!an_map_get(&t->s16, &k))
		t->nomem = 1;
}

static inline void totals_sensor4(struct totals_tls *t, uint32_t addr)
{
	uint64_t key = (uint64_t)1 << 32 | addr;
	uint64_t *c = &t->s4c[addr & 0xff];
	if (__builtin_expect(*c != key, 0)) {
		*c = key;
		if (!an_map64_get(&t->s4, key))
			t->nomem = 1;
	}
}

/* record i's index in the dense arrays */
static inline uint32_t totals_ix(const struct prof_dest *pdm, const struct umbra_block_view *v,
				 uint32_t i)
{
	uint32_t j = v->profile[i];
	return pdm->base[j] + (v->dport[i] & pdm->mask[j]);
}

/* how many records ahead the counter a record adds to is prefetched */
#define TOTALS_PREFETCH 16

/* the AND and the OR of n addresses */
UMBRA_VECTORIZE static void and_or_u32(const uint32_t *x, uint32_t n, uint32_t *and_out,
				       uint32_t *or_out)
{
	uint32_t a = UINT32_MAX, o = 0;
	for (uint32_t i = 0; i < n; i++) {
		a &= x[i];
		o |= x[i];
	}
	*and_out = a;
	*or_out = o;
}

/* add n compact sensors to the set */
static void totals_sensors4(struct totals_tls *t, const uint32_t *dst4, uint32_t n)
{
	uint32_t a, o;
	if (n == 0)
		return;
	and_or_u32(dst4, n, &a, &o);
	int one24 = ((a ^ o) & 0xffffff00u) == 0;
	uint64_t key = (uint64_t)1 << 32 | (a & 0xffffff00u);
	/* all in a /24 whose 256 addresses are in the set already */
	if (one24 && t->full24 == key)
		return;
	for (uint32_t i = 0; i < n; i++)
		totals_sensor4(t, dst4[i]);
	if (one24 && !t->nomem) {
		unsigned b = 0;
		while (b < 256 && t->s4c[b] == (key | b))
			b++;
		if (b == 256)
			t->full24 = key;
	}
}

static void totals_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	struct totals_tls *t = tls;
	const struct prof_dest *pdm = &t->pdm;
	uint32_t n = v->n, *d, ix[1024];
	(void)f;

	if (!prof_dest_load(&t->pdm, v, 1)) {
		t->nomem = 1;
		return;
	}
	/*
	 * the indices of 1024 records and their packet total first, then
	 * their adds: the scattered ports of a sweep miss the cache, so
	 * each add asks for the counter of the one TOTALS_PREFETCH records
	 * ahead
	 */
	for (uint32_t c = 0; c < n; c += 1024) {
		uint32_t k = n - c < 1024 ? n - c : 1024, j = 0;
		const uint32_t *pk = &v->packets[c];
		uint64_t total = 0;
		for (uint32_t q = 0; q < k; q++) {
			ix[q] = totals_ix(pdm, v, c + q);
			total += pk[q];
		}
		int narrow = totals_room(t, total);
		if (narrow < 0) {
			t->nomem = 1;
			return;
		}
		if (!narrow) {
			for (uint32_t q = 0; q < k; q++)
				t->dense[ix[q]] += pk[q];
			continue;
		}
		/*
		 * Two streams, the chunk's halves, in step: nearly half the
		 * records add to the previous record's counter (a scanner's
		 * flows sit together), and each such add waits for the one
		 * before it through memory; the other stream's adds fill
		 * that wait.
		 */
		uint32_t h = k / 2;
		const uint32_t *pb = pk + h, *xb = ix + h;
		d = t->dense32;
		for (; j + TOTALS_PREFETCH < h; j++) {
			__builtin_prefetch(&d[ix[j + TOTALS_PREFETCH]], 1, 3);
			__builtin_prefetch(&d[xb[j + TOTALS_PREFETCH]], 1, 3);
			d[ix[j]] += pk[j];
			d[xb[j]] += pb[j];
		}
		for (; j < h; j++) {
			d[ix[j]] += pk[j];
			d[xb[j]] += pb[j];
		}
		for (j = 2 * h; j < k; j++)
			d[ix[j]] += pk[j];
	}
	totals_sensors4(t, v->dst4, v->n4);
	for (uint32_t i = v->n4; i < n; i++)
		totals_sensor16(t, v->dst16 + 16 * (size_t)(i - v->n4),
				v->profiles[v->profile[i]].family == 6 ? 6 : 4);
}

static void totals_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
			size_t n)
{
	struct totals_tls *t = tls;
	uint64_t total = 0;
	(void)f;
	for (size_t i = 0; i < n; i++)
		total += r[i].packets;
	int narrow = totals_room(t, total);
	if (narrow < 0) {
		t->nomem = 1;
		return;
	}
	for (size_t i = 0; i < n; i++, r++) {
		size_t d = dense_of(an_dest_of(r->proto, r->dport));
		if (narrow)
			t->dense32[d] += r->packets;
		else
			t->dense[d] += r->packets;
		if (compact(r))
			totals_sensor4(t, umbra_get32be(r->dst));
		else
			totals_sensor16(t, r->dst, (unsigned)an_fam(r));
	}
}

static void totals_free(struct totals_tls *t)
{
	free(t->dense);
	free(t->dense32);
	prof_dest_free(&t->pdm);
	an_map64_free(&t->s4);
	an_map_free(&t->s16);
}

static int totals_merge(void *ctx, void *tls)
{
	struct totals_tls *into = ctx, *t = tls;
	int rc = t->nomem ? -ENOMEM : 0;
	uint64_t used = UINT32_MAX - t->room;
	if (!into->dense32) {
		/* the first: take its counters as they are */
		into->dense32 = t->dense32;
		into->room = t->room;
		t->dense32 = NULL;
	} else if (used <= into->room) {
		/* the sums still fit in 32 bits */
		for (size_t i = 0; used && i < NDENSE; i++)
			into->dense32[i] += t->dense32[i];
		into->room -= used;
	} else if (totals_fold_into(&into->dense, into) < 0 ||
		   totals_fold_into(&into->dense, t) < 0) {
		rc = -ENOMEM;
	}
	if (t->dense) {
		if (!into->dense) {
			into->dense = t->dense;
			t->dense = NULL;
		} else {
			for (size_t i = 0; i < NDENSE; i++)
				into->dense[i] += t->dense[i];
		}
	}
	if (an_map64_merge(&into->s4, &t->s4) < 0 || an_map_absorb(&into->s16, &t->s16, 0) < 0)
		rc = -ENOMEM;
	totals_free(t);
	free(t);
	return rc;
}

/* ---- tables ----------------------------------------------------------- */

static int cmp_sensor(const struct an_top_sensor *x, const struct an_top_sensor *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
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

static int cmp_row_dest(const void *a, const void *b)
{
	const struct an_top_row *x = a, *y = b;
	return x->dest < y->dest ? -1 : x->dest > y->dest;
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
	free(t->all.rows);
	memset(t, 0, sizeof(*t));
}

/* row x ranks after row y (fewer packets, or as many and a larger dest) */
static inline int row_after(const struct an_top_row *x, const struct an_top_row *y)
{
	return x->packets < y->packets || (x->packets == y->packets && x->dest > y->dest);
}

/* restore the heap r[0..keep) below p: the worst row at the root */
static void sift_worst(struct an_top_row *r, size_t keep, size_t p)
{
	for (;;) {
		size_t c = 2 * p + 1, w = p;
		if (c < keep && row_after(&r[c], &r[w]))
			w = c;
		if (c + 1 < keep && row_after(&r[c + 1], &r[w]))
			w = c + 1;
		if (w == p)
			break;
		struct an_top_row t = r[p];
		r[p] = r[w];
		r[w] = t;
		p = w;
	}
}

/* the best keep rows (all with keep 0), sorted: a heap keeps the selection
 * O(n log keep) where sorting every sensor's rows would dominate */
static void select_top(struct an_top_row *r, size_t *n, size_t keep)
{
	if (keep && *n > keep) {
		/* min-heap of the best keep rows seen: r[0] is the worst of them */
		for (size_t i = keep / 2; i-- > 0;)
			sift_worst(r, keep, i);
		for (size_t i = keep; i < *n; i++) {
			if (!row_after(&r[0], &r[i]))
				continue;
			r[0] = r[i];
			sift_worst(r, keep, 0);
		}
		*n = keep;
	}
	an_qsort(r, *n, sizeof(*r), an_top_cmp_row);
}

/*
 * Rows of dense counters (d64[i] + d32[i], either may be NULL), by
 * packets; *total gets their sum. With keep, one pass keeps the best keep
 * rows in a heap instead of listing every destination first.
 */
static int rows_of_dense(struct an_top_group *g, const uint64_t *d64, const uint32_t *d32,
			 size_t keep, uint64_t *total)
{
	size_t cap = keep;
	uint64_t sum = 0;
#define DENSE_AT(i) ((d64 ? d64[i] : 0) + (d32 ? d32[i] : 0))
	if (!keep)
		for (size_t i = 0; i < NDENSE; i++)
			cap += DENSE_AT(i) != 0;
	g->rows = malloc(sizeof(*g->rows) * (cap + 1));
	if (!g->rows)
		return -ENOMEM;
	for (size_t i = 0; i < NDENSE; i++) {
		uint64_t x = DENSE_AT(i);
		if (!x)
			continue;
		sum += x;
		/* not even as many packets as the worst kept row: not kept */
		if (keep && g->nrows == cap && x < g->rows[0].packets)
			continue;
		struct an_top_row row = {.dest = dest_of_dense(i), .packets = x};
		if (g->nrows < cap) {
			g->rows[g->nrows++] = row;
			if (keep && g->nrows == keep) /* a min-heap from here on */
				for (size_t k = keep / 2; k-- > 0;)
					sift_worst(g->rows, keep, k);
		} else if (row_after(&g->rows[0], &row)) {
			g->rows[0] = row;
			sift_worst(g->rows, keep, 0);
		}
	}
#undef DENSE_AT
	an_qsort(g->rows, g->nrows, sizeof(*g->rows), an_top_cmp_row);
	if (total)
		*total = sum;
	return 0;
}

/* one cell, whichever map it came from */
struct cell {
	uint8_t addr[16];
	unsigned family, engine;
	uint32_t dest;
	uint64_t packets;
};

static void cell_v4(const struct an_slot64 *s, struct cell *c)
{
	memset(c->addr, 0, 16);
	umbra_put32be(c->addr, (uint32_t)(s->k >> 32));
	c->family = 4;
	c->engine = (unsigned)(s->k >> 24) & 0xff;
	c->dest = (uint32_t)s->k & 0xffffff;
	c->packets = s->v;
}

static void cell_gen(const struct an_slot *s, struct cell *c)
{
	memcpy(c->addr, &s->k.a, 8);
	memcpy(c->addr + 8, &s->k.b, 8);
	c->family = (unsigned)(s->k.c >> 24) & 0xff;
	c->engine = (unsigned)(s->k.c >> 32);
	c->dest = (uint32_t)s->k.c & 0xffffff;
	c->packets = s->v;
}

/* every cell of both maps, in a fixed order; a v4 zero key never occurs
 * in practice but is handled like the rest */
static size_t cells_get(const struct an_top_cells *cells, size_t i, struct cell *c)
{
	size_t n4 = cells->v4.cap, ng = cells->gen.cap;
	for (; i < n4; i++)
		if (cells->v4.s[i].k) {
			cell_v4(&cells->v4.s[i], c);
			return i + 1;
		}
	if (i == n4) {
		i++;
		if (cells->v4.has_zero) {
			struct an_slot64 z = {0, cells->v4.zero_v};
			cell_v4(&z, c);
			return i;
		}
	}
	for (; i - n4 - 1 < ng; i++) {
		const struct an_slot *s = &cells->gen.s[i - n4 - 1];
		if (s->k.a | s->k.b | s->k.c) {
			cell_gen(s, c);
			return i + 1;
		}
	}
	if (i - n4 - 1 == ng && cells->gen.has_zero) {
		struct an_slot z = {{0, 0, 0}, cells->gen.zero_v};
		cell_gen(&z, c);
		return i + 1;
	}
	return 0;
}

static int sensor_index(struct an_map64 *by4, struct an_map *by16, const struct cell *c,
			uint64_t **slot)
{
	if (c->family == 4 && !c->addr[4] && !memcmp(c->addr + 4, c->addr + 5, 11)) {
		*slot = an_map64_get(by4, (uint64_t)1 << 32 | umbra_get32be(c->addr));
	} else {
		struct an_key k;
		memcpy(&k.a, c->addr, 8);
		memcpy(&k.b, c->addr + 8, 8);
		k.c = c->family;
		*slot = an_map_get(by16, &k);
	}
	return *slot ? 0 : -ENOMEM;
}

int an_top_build(struct an_top_result *t, const struct an_top_cells *cells,
		 const struct an_names *engines, const struct an_sensors *sens, int want_groups,
		 size_t keep)
{
	struct an_map64 by4 = {0}, gsum = {0};
	struct an_map by16 = {0};
	uint32_t *cell_sensor = NULL;
	uint64_t *all = NULL;
	size_t ncells = cells->v4.n + cells->gen.n, cap = 0, k = 0, ci;
	struct cell c;
	int rc = -ENOMEM;

	memset(t, 0, sizeof(*t));
	cell_sensor = malloc(sizeof(*cell_sensor) * (ncells + 1));
	all = calloc(NDENSE, sizeof(*all));
	if (!cell_sensor || !all)
		goto out;
	/* pass 1: sensors, their totals and row counts */
	for (ci = cells_get(cells, 0, &c); ci; ci = cells_get(cells, ci, &c), k++) {
		uint64_t *slot;
		if (sensor_index(&by4, &by16, &c, &slot) < 0)
			goto out;
		if (!*slot) {
			if (t->nsensors == cap) {
				cap = cap ? 2 * cap : 256;
				struct an_top_sensor *ns = realloc(t->sensors, cap * sizeof(*ns));
				if (!ns)
					goto out;
				t->sensors = ns;
			}
			struct an_top_sensor *s = &t->sensors[t->nsensors];
			memset(s, 0, sizeof(*s));
			memcpy(s->addr, c.addr, 16);
			s->family = (uint8_t)c.family;
			s->engine = c.engine;
			*slot = ++t->nsensors;
		}
		struct an_top_sensor *s = &t->sensors[*slot - 1];
		s->packets += c.packets;
		s->nrows++; /* a count for now */
		if (c.engine != s->engine)
			s->multi = 1;
		cell_sensor[k] = (uint32_t)(*slot - 1);
	}
	for (size_t i = 0; i < t->nsensors; i++) {
		t->sensors[i].rows = malloc(sizeof(struct an_top_row) * (t->sensors[i].nrows + 1));
		if (!t->sensors[i].rows)
			goto out;
		t->sensors[i].nrows = 0;
	}
	/* pass 2: rows (the same order), overall sums */
	k = 0;
	for (ci = cells_get(cells, 0, &c); ci; ci = cells_get(cells, ci, &c), k++) {
		struct an_top_sensor *s = &t->sensors[cell_sensor[k]];
		s->rows[s->nrows].dest = c.dest;
		s->rows[s->nrows++].packets = c.packets;
		all[dense_of(c.dest)] += c.packets;
	}
	/* per sensor: one row per dest (a sensor seen by two hosts has two) */
	for (size_t i = 0; i < t->nsensors; i++) {
		struct an_top_sensor *s = &t->sensors[i];
		const char *eng = engines->v[s->engine];
		const struct an_sensor_entry *e =
			sens ? an_sensors_lookup(sens, s->addr, s->family, eng) : NULL;
		if (s->multi) {
			an_qsort(s->rows, s->nrows, sizeof(*s->rows), cmp_row_dest);
			size_t m = 0;
			for (size_t r = 0; r < s->nrows; r++) {
				if (m && s->rows[m - 1].dest == s->rows[r].dest)
					s->rows[m - 1].packets += s->rows[r].packets;
				else
					s->rows[m++] = s->rows[r];
			}
			s->nrows = m;
		}
		s->label = e ? e->label : NULL;
		s->group = e ? sens->groups.v[e->group] : eng;
		t->all.sensors++;
		t->all.packets += s->packets;
		if (!want_groups)
			continue;
		size_t gi;
		for (gi = 0; gi < t->ngroups; gi++)
			if (strcmp(t->groups[gi].name, s->group) == 0)
				break;
		if (gi == t->ngroups) {
			struct an_top_group *ng = realloc(t->groups, (t->ngroups + 1) * sizeof(*ng));
			if (!ng)
				goto out;
			t->groups = ng;
			memset(&ng[gi], 0, sizeof(ng[gi]));
			ng[gi].name = s->group;
			t->ngroups++;
		}
		t->groups[gi].sensors++;
		t->groups[gi].packets += s->packets;
		if (an_map64_reserve(&gsum, s->nrows) < 0)
			goto out;
		for (size_t r = 0; r < s->nrows; r++)
			*an_map64_get(&gsum, (uint64_t)(gi + 1) << 32 | s->rows[r].dest) +=
				s->rows[r].packets;
	}
	for (size_t i = 0; i < t->nsensors; i++)
		select_top(t->sensors[i].rows, &t->sensors[i].nrows, keep);
	if (rows_of_dense(&t->all, all, NULL, keep, NULL) < 0)
		goto out;
	if (want_groups) {
		size_t *gcap = calloc(t->ngroups + 1, sizeof(*gcap));
		if (!gcap)
			goto out;
		for (size_t i = 0; i < gsum.cap; i++) {
			if (!gsum.s[i].k)
				continue;
			struct an_top_group *g = &t->groups[(gsum.s[i].k >> 32) - 1];
			size_t gi = (size_t)(g - t->groups);
			if (g->nrows == gcap[gi]) {
				gcap[gi] = gcap[gi] ? 2 * gcap[gi] : 64;
				struct an_top_row *nr = realloc(g->rows, gcap[gi] * sizeof(*nr));
				if (!nr) {
					free(gcap);
					goto out;
				}
				g->rows = nr;
			}
			g->rows[g->nrows].dest = (uint32_t)gsum.s[i].k;
			g->rows[g->nrows++].packets = gsum.s[i].v;
		}
		free(gcap);
		for (size_t i = 0; i < t->ngroups; i++)
			select_top(t->groups[i].rows, &t->groups[i].nrows, keep);
		an_qsort(t->groups, t->ngroups, sizeof(*t->groups), cmp_group_name);
	}
	an_qsort(t->sensors, t->nsensors, sizeof(*t->sensors), cmp_by_packets);
	rc = 0;
out:
	free(cell_sensor);
	free(all);
	an_map64_free(&by4);
	an_map64_free(&gsum);
	an_map_free(&by16);
	if (rc < 0)
		an_top_result_free(t);
	return rc;
}

/* the table of all sensors: t->all only */
static int totals_build(struct an_top_result *t, const struct totals_tls *tot, size_t keep)
{
	memset(t, 0, sizeof(*t));
	t->all.sensors = tot->s4.n + tot->s16.n;
	if (!tot->dense && !tot->dense32)
		return 0; /* no records */
	return rows_of_dense(&t->all, tot->dense, tot->dense32, keep, &t->all.packets);
}

/* ---- output --------------------------------------------------------------- */

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

	struct an_top_cells cells = {0};
	struct totals_tls totals = {0};
	struct an_names engines = {0};
	struct an_consumer cons;
	struct an_scan_stats st;
	int per_sensor = by_sensor || by_group;
	if (per_sensor) {
		an_top_consumer(&cons, &cells);
	} else {
		memset(&cons, 0, sizeof(cons));
		cons.ctx = &totals;
		cons.cols = UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS | UMBRA_COL_PROFILE;
		cons.tls_new = totals_tls_new;
		cons.view = totals_view;
		cons.recs = totals_recs;
		cons.merge = totals_merge;
	}
	rc = an_scan(&o, argc - optind, argv + optind, &cons, 1, &engines, &st);
	if (rc >= 0) {
		struct an_top_result t;
		if ((per_sensor ? an_top_build(&t, &cells, &engines, o.sensors, by_group, (size_t)top)
				: totals_build(&t, &totals, (size_t)top)) < 0) {
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
	an_top_cells_free(&cells);
	totals_free(&totals);
	an_names_free(&engines);
	an_opts_free(&o);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
