/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for engine/stats-topk.c (Space-Saving top sources). */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "stats-topk.h"

#define NSRC_MAX 5000
#define NSRC_ALL 65536 /* every source src_of can name */

/* Source i: IPv4 198.18.x.y for even i, IPv6 2001:db8::x:y for odd i. */
static unsigned
src_of(unsigned i, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (i % 2 == 0) {
		addr[0] = 198;
		addr[1] = 18;
		addr[2] = (uint8_t)(i >> 8);
		addr[3] = (uint8_t)i;
		return 4;
	}
	addr[0] = 0x20;
	addr[1] = 0x01;
	addr[2] = 0x0d;
	addr[3] = 0xb8;
	addr[14] = (uint8_t)(i >> 8);
	addr[15] = (uint8_t)i;
	return 6;
}

static unsigned
index_of(const struct umbra_top_source *s)
{
	return s->family == 4 ? ((unsigned)s->addr[2] << 8) | s->addr[3] :
				((unsigned)s->addr[14] << 8) | s->addr[15];
}

static uint64_t rng = 88172645463325252ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Skewed choice among n sources: a few heavy hitters and a long tail. */
static unsigned
pick(unsigned n)
{
	uint64_t r = next_rand();

	if (r % 4 == 0)
		return (unsigned)(r >> 8) % 8;
	if (r % 4 == 1)
		return (unsigned)(r >> 8) % 64;
	return (unsigned)(r >> 8) % n;
}

/* The oracle's order: packets down, then family, then address. */
static int
cmp_truth(const void *a, const void *b)
{
	const struct umbra_top_source *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->addr, y->addr, 16);
}

static void
feed(struct umbra_topk *tk, unsigned nsrc, unsigned adds, uint64_t *truth, uint64_t *total)
{
	uint8_t addr[16];

	memset(truth, 0, sizeof(uint64_t) * nsrc);
	*total = 0;
	for (unsigned k = 0; k < adds; k++) {
		unsigned i = pick(nsrc), fam = src_of(i, addr);
		uint64_t w = 1 + next_rand() % 40;

		umbra_topk_add(tk, fam, addr, w);
		truth[i] += w;
		*total += w;
	}
}

/*
 * Space-Saving's guarantees, source by source, for a summary of capacity
 * cap fed the packets in truth[0..nsrc) (total in all). Returns the
 * floor; marks in listed[] the sources the summary holds.
 */
static uint64_t
check_summary(const struct umbra_topk *tk, unsigned cap, const uint64_t *truth, unsigned nsrc,
	      uint64_t total, unsigned char *listed)
{
	static struct umbra_top_source got[256];
	struct umbra_top_sources snap;
	uint64_t sum = 0;
	unsigned i, k;

	assert_true(cap <= 256 && nsrc <= NSRC_ALL);
	memset(listed, 0, nsrc);
	umbra_topk_snapshot(tk, &snap);
	assert_int_equal(snap.packets, total);
	k = umbra_topk_top(tk, got, cap);
	for (i = 0; i < k; i++) {
		unsigned s = index_of(&got[i]);

		assert_true(s < nsrc);
		assert_false(listed[s]); /* one entry per source */
		listed[s] = 1;
		assert_true(truth[s] <= got[i].packets);
		assert_true(got[i].packets - got[i].error <= truth[s]);
		assert_true(got[i].error <= total / cap);
		assert_true(got[i].packets >= snap.floor);
		if (i > 0)
			assert_true(got[i - 1].packets >= got[i].packets);
		sum += got[i].packets;
	}
	/* the counters of a full summary add up to the stream */
	if (k == cap)
		assert_int_equal(sum, total);
	for (i = 0; i < nsrc; i++)
		if (!listed[i])
			assert_true(truth[i] <= snap.floor);
	for (i = 0; i < snap.n; i++) {
		assert_int_equal(snap.e[i].packets, got[i].packets);
		assert_memory_equal(snap.e[i].addr, got[i].addr, 16);
	}
	return snap.floor;
}

static void
test_exact_below_capacity(void **state)
{
	static uint64_t truth[NSRC_MAX];
	static struct umbra_top_source want[NSRC_MAX], got[300];
	struct umbra_topk *tk = umbra_topk_new(256, 7);
	struct umbra_top_sources snap;
	unsigned i, k, nsrc = 200;
	uint64_t total;

	(void)state;
	assert_non_null(tk);
	feed(tk, nsrc, 50000, truth, &total);
	for (i = k = 0; i < nsrc; i++) {
		if (truth[i] == 0)
			continue;
		want[k].family = (uint8_t)src_of(i, want[k].addr);
		want[k].packets = truth[i];
		want[k].error = 0;
		k++;
	}
	qsort(want, k, sizeof(want[0]), cmp_truth);
	/* fewer sources than entries: every count exact, every one listed */
	assert_int_equal(umbra_topk_top(tk, got, 300), k);
	for (i = 0; i < k; i++) {
		assert_int_equal(got[i].family, want[i].family);
		assert_memory_equal(got[i].addr, want[i].addr, 16);
		assert_int_equal(got[i].packets, want[i].packets);
		assert_int_equal(got[i].error, 0);
	}
	umbra_topk_snapshot(tk, &snap);
	assert_int_equal(snap.capacity, 256);
	assert_int_equal(snap.n, UMBRA_TOP_SOURCES_N);
	assert_int_equal(snap.floor, 0);
	assert_int_equal(snap.records, 50000);
	assert_int_equal(snap.packets, total);
	for (i = 0; i < UMBRA_TOP_SOURCES_N; i++) {
		assert_int_equal(snap.e[i].packets, want[i].packets);
		assert_memory_equal(snap.e[i].addr, want[i].addr, 16);
	}
	umbra_topk_free(tk);
}

/* More sources than entries: Space-Saving's guarantees, source by source. */
static void
test_guarantee_above_capacity(void **state)
{
	static uint64_t truth[NSRC_MAX];
	static unsigned char listed[NSRC_MAX];
	struct umbra_topk *tk = umbra_topk_new(64, 11);
	uint64_t total, floor;
	unsigned i, heavy = 0;

	(void)state;
	assert_non_null(tk);
	feed(tk, NSRC_MAX, 200000, truth, &total);
	floor = check_summary(tk, 64, truth, NSRC_MAX, total, listed);
	assert_true(floor > 0); /* full */
	assert_true(floor <= total / 64);
	for (i = 0; i < NSRC_MAX; i++) {
		if (truth[i] > total / 64) {
			assert_true(listed[i]);
			heavy++;
		}
	}
	/* the eight heavy hitters stand out */
	assert_true(heavy >= 8);
	umbra_topk_free(tk);
}

/* A stream of records checked against the truth as it goes. */
struct stream {
	uint64_t seed;
	unsigned cap, nsrc, records;
	unsigned every; /* check after this many records: full by then */
	unsigned heavy; /* sources below this must be listed */
	void (*next_source)(uint64_t r, unsigned nsrc, unsigned *i, uint64_t *w);
};

static void
test_stream(void **state)
{
	static uint64_t truth[NSRC_ALL];
	static unsigned char listed[NSRC_ALL];
	const struct stream *st = *state;
	struct umbra_topk *tk = umbra_topk_new(st->cap, st->seed);
	uint8_t addr[16];
	uint64_t total = 0, w;
	unsigned i;

	assert_non_null(tk);
	memset(truth, 0, sizeof(truth));
	for (unsigned k = 1; k <= st->records; k++) {
		st->next_source(next_rand(), st->nsrc, &i, &w);
		umbra_topk_add(tk, src_of(i, addr), addr, w);
		truth[i] += w;
		total += w;
		if (k % st->every != 0)
			continue;
		assert_true(check_summary(tk, st->cap, truth, st->nsrc, total, listed) > 0);
		for (i = 0; i < st->heavy; i++)
			assert_true(listed[i]);
	}
	umbra_topk_free(tk);
}

/*
 * Darknet-like: most records from a source seen once or not at all, a
 * few packets each, so the counts stay within a packet or two of each
 * other and nearly every record replaces a smallest entry.
 */
static void
darknet_source(uint64_t r, unsigned nsrc, unsigned *i, uint64_t *w)
{
	*i = r % 10 < 3 ? (unsigned)(r >> 40) % 1000 : 1000 + (unsigned)(r >> 20) % (nsrc - 1000);
	*w = 1 + (r >> 60) % 3;
}

static struct stream darknet = { 13, 256, NSRC_ALL, 400000, 100000, 0, darknet_source };

/*
 * Eight heavy hitters with large, uneven weights among light churn:
 * counts that appear and vanish anywhere among the counters, not only
 * at the smallest.
 */
static void
uneven_source(uint64_t r, unsigned nsrc, unsigned *i, uint64_t *w)
{
	*i = r % 8 == 0 ? (unsigned)(r >> 8) % 8 : (unsigned)(r >> 8) % nsrc;
	*w = *i < 8 ? 1 + (r >> 40) % 5000 : 1 + (r >> 60) % 2;
}

static struct stream uneven = { 17, 32, NSRC_MAX, 200000, 20000, 8, uneven_source };

/* As many sources as entries: full, yet every count exact. */
static void
test_exact_at_capacity(void **state)
{
	struct umbra_topk *tk = umbra_topk_new(8, 19);
	struct umbra_top_sources snap;
	uint64_t truth[8] = { 0 }, least = UINT64_MAX;
	uint8_t addr[16];
	unsigned i;

	(void)state;
	assert_non_null(tk);
	for (unsigned k = 0; k < 10000; k++) {
		uint64_t r = next_rand();

		i = (unsigned)(r >> 8) % 8;
		umbra_topk_add(tk, src_of(i, addr), addr, 1 + (r >> 50) % 100);
		truth[i] += 1 + (r >> 50) % 100;
	}
	for (i = 0; i < 8; i++)
		least = truth[i] < least ? truth[i] : least;
	umbra_topk_snapshot(tk, &snap);
	assert_int_equal(snap.n, 8);
	assert_int_equal(snap.floor, least);
	for (i = 0; i < 8; i++) {
		assert_int_equal(snap.e[i].packets, truth[index_of(&snap.e[i])]);
		assert_int_equal(snap.e[i].error, 0);
	}
	umbra_topk_free(tk);
}

static void
test_families_and_ties(void **state)
{
	struct umbra_topk *tk = umbra_topk_new(8, 0);
	struct umbra_top_source got[8];
	uint8_t v4[16] = { 192, 0, 2, 1, 0xaa, 0xbb }; /* junk past 4 bytes */
	uint8_t v6[16] = { 192, 0, 2, 1 };             /* same first bytes */
	uint8_t lo[16] = { 10, 0, 0, 1 };

	(void)state;
	assert_non_null(tk);
	umbra_topk_add(tk, 4, v4, 5);
	umbra_topk_add(tk, 6, v6, 5);
	umbra_topk_add(tk, 4, lo, 5);
	umbra_topk_add(tk, 0, lo, 100); /* unknown family: ignored */
	umbra_topk_add(tk, 4, lo, 0);   /* nothing to count */
	assert_int_equal(umbra_topk_top(tk, got, 8), 3);
	/* a tie: IPv4 first, then the lower address */
	assert_int_equal(got[0].family, 4);
	assert_int_equal(got[0].addr[0], 10);
	assert_int_equal(got[1].family, 4);
	assert_int_equal(got[1].addr[0], 192);
	assert_int_equal(got[1].addr[4], 0); /* stored as in records */
	assert_int_equal(got[2].family, 6);
	v4[4] = 0;
	umbra_topk_add(tk, 4, v4, 1);
	assert_int_equal(umbra_topk_top(tk, got, 1), 1);
	assert_int_equal(got[0].addr[0], 192);
	assert_int_equal(got[0].packets, 6);
	assert_int_equal(umbra_topk_top(tk, got, 0), 0);
	umbra_topk_free(tk);
	errno = 0;
	assert_null(umbra_topk_new(0, 0));
	assert_int_equal(errno, EINVAL);
	errno = 0;
	assert_null(umbra_topk_new((1u << 24) + 1, 0));
	assert_int_equal(errno, EINVAL);
	umbra_topk_free(NULL);
}

/* Capacity one: every newcomer replaces the only entry and inherits it. */
static void
test_capacity_one(void **state)
{
	struct umbra_topk *tk = umbra_topk_new(1, 3);
	struct umbra_top_sources snap;
	uint8_t a[16], b[16];

	(void)state;
	assert_non_null(tk);
	src_of(0, a);
	src_of(1, b);
	umbra_topk_add(tk, 4, a, 3);
	umbra_topk_add(tk, 6, b, 2);
	umbra_topk_add(tk, 6, b, 1);
	umbra_topk_snapshot(tk, &snap);
	assert_int_equal(snap.n, 1);
	assert_int_equal(snap.e[0].family, 6);
	assert_int_equal(snap.e[0].packets, 6);
	assert_int_equal(snap.e[0].error, 3);
	assert_int_equal(snap.floor, 6);
	assert_int_equal(snap.packets, 6);
	umbra_topk_free(tk);
}

/* Many sources cycling through a small summary: the table stays sound. */
static void
test_churn(void **state)
{
	struct umbra_topk *tk = umbra_topk_new(16, 5);
	struct umbra_top_source got[16];
	uint8_t addr[16];
	unsigned i, j, k;

	(void)state;
	assert_non_null(tk);
	for (i = 0; i < 100000; i++) {
		unsigned s = (unsigned)(next_rand() % 3000);

		umbra_topk_add(tk, src_of(s, addr), addr, 1);
	}
	/* one hot source now: it must end on top, counted once */
	src_of(4242, addr);
	for (i = 0; i < 1000; i++)
		umbra_topk_add(tk, 4, addr, 10);
	k = umbra_topk_top(tk, got, 16);
	assert_int_equal(k, 16);
	assert_memory_equal(got[0].addr, addr, 16);
	assert_true(got[0].packets - got[0].error >= 9990);
	for (i = 0; i < k; i++)
		for (j = i + 1; j < k; j++)
			assert_false(got[i].family == got[j].family &&
				     memcmp(got[i].addr, got[j].addr, 16) == 0);
	umbra_topk_free(tk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_capacity),
		cmocka_unit_test(test_guarantee_above_capacity),
		{ "test_darknet_churn", test_stream, NULL, NULL, &darknet },
		{ "test_uneven_weights", test_stream, NULL, NULL, &uneven },
		cmocka_unit_test(test_exact_at_capacity),
		cmocka_unit_test(test_families_and_ties),
		cmocka_unit_test(test_capacity_one),
		cmocka_unit_test(test_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
