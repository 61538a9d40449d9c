/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for engine/flow-table.c: lookups, timeouts, eviction. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "flow-table.h"

#define SEC 1000000000ull

struct sink {
	unsigned n;
	unsigned by_reason[UMBRA_END_MAX];
	uint64_t packets;
	struct umbra_flow_record last;
};

static void
sink_emit(void *arg, struct umbra_flow_record *rec)
{
	struct sink *s = arg;

	s->n++;
	s->by_reason[rec->end_reason]++;
	s->packets += rec->packets;
	s->last = *rec;
}

static struct umbra_flow_table *
make(struct sink *s, uint32_t cap, uint64_t idle, uint64_t active)
{
	struct umbra_flow_table_conf c = {
		.capacity = cap, .idle_ns = idle, .active_ns = active,
		.emit = sink_emit, .emit_arg = s,
		.seed = 12345, /* fixed: bucket placement is the same every run */
	};
	struct umbra_flow_table *ft;

	memset(s, 0, sizeof(*s));
	ft = umbra_flow_table_create(&c);
	assert_non_null(ft);
	return ft;
}

static struct umbra_flow_key
key4(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t proto)
{
	struct umbra_flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, &src, 4);
	memcpy(k.dst, &dst, 4);
	k.sport = sport;
	k.dport = dport;
	k.proto = proto;
	k.family = 4;
	return k;
}

/* One packet into flow k at time t; returns the entry. */
static struct umbra_flow_entry *
hit(struct umbra_flow_table *ft, struct umbra_flow_key k, uint64_t t, int *created)
{
	struct umbra_flow_entry *e;
	uint8_t c;

	umbra_flow_lookup_bulk(ft, &k, NULL, 1, t, &e, &c);
	assert_non_null(e);
	if (c) {
		e->rec.first_ns = t;
	}
	e->rec.last_ns = t > e->rec.last_ns ? t : e->rec.last_ns;
	e->rec.packets++;
	if (created)
		*created = c;
	return e;
}

static void
test_create_rejects_bad_conf(void **state)
{
	struct umbra_flow_table_conf c = { .capacity = 10, .emit = sink_emit };

	(void)state;
	assert_null(umbra_flow_table_create(&c));
	c.capacity = 1024;
	c.emit = NULL;
	assert_null(umbra_flow_table_create(&c));
	assert_null(umbra_flow_table_create(NULL));
}

static void
test_lookup_insert_find(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	struct umbra_flow_entry *a, *b, *c;
	int created;

	(void)state;
	a = hit(ft, key4(1, 2, 3, 4, 6), SEC, &created);
	assert_int_equal(created, 1);
	assert_int_equal(a->rec.family, 4);
	assert_int_equal(a->rec.sport, 3);
	assert_int_equal(a->rec.dport, 4);
	assert_int_equal(a->rec.proto, 6);
	b = hit(ft, key4(1, 2, 3, 4, 6), 2 * SEC, &created);
	assert_int_equal(created, 0);
	assert_ptr_equal(a, b);
	assert_int_equal(b->rec.packets, 2);
	/* every key field matters */
	c = hit(ft, key4(1, 2, 3, 4, 17), 2 * SEC, &created);
	assert_int_equal(created, 1);
	assert_ptr_not_equal(a, c);
	hit(ft, key4(1, 2, 3, 5, 6), 2 * SEC, &created);
	assert_int_equal(created, 1);
	hit(ft, key4(1, 2, 4, 4, 6), 2 * SEC, &created);
	assert_int_equal(created, 1);
	hit(ft, key4(1, 3, 3, 4, 6), 2 * SEC, &created);
	assert_int_equal(created, 1);
	hit(ft, key4(9, 2, 3, 4, 6), 2 * SEC, &created);
	assert_int_equal(created, 1);
	assert_int_equal(umbra_flow_table_active(ft), 6);
	assert_int_equal(s.n, 0);
	umbra_flow_table_free(ft);
}

static void
test_ipv6_keys_distinct_from_ipv4(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	struct umbra_flow_key k4 = key4(1, 2, 3, 4, 6), k6 = k4;
	int created;

	(void)state;
	k6.family = 6;
	k6.src[15] = 1;
	hit(ft, k4, SEC, &created);
	assert_int_equal(created, 1);
	hit(ft, k6, SEC, &created);
	assert_int_equal(created, 1);
	hit(ft, k6, SEC, &created);
	assert_int_equal(created, 0);
	assert_int_equal(umbra_flow_table_active(ft), 2);
	umbra_flow_table_free(ft);
}

static void
test_repeated_key_in_one_burst(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	struct umbra_flow_key keys[8];
	struct umbra_flow_entry *e[8];
	uint8_t c[8];
	unsigned i;

	(void)state;
	for (i = 0; i < 8; i++)
		keys[i] = key4(i % 3, 7, 1, 2, 6);
	umbra_flow_lookup_bulk(ft, keys, NULL, 8, SEC, e, c);
	for (i = 0; i < 8; i++) {
		assert_non_null(e[i]);
		assert_int_equal(c[i], i < 3);
		assert_ptr_equal(e[i], e[i % 3]);
	}
	assert_int_equal(umbra_flow_table_active(ft), 3);
	umbra_flow_table_free(ft);
}

static void
test_idle_timeout(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	struct umbra_flow_entry *e;

	(void)state;
	hit(ft, key4(1, 2, 3, 4, 6), 100 * SEC, NULL);
	e = hit(ft, key4(5, 2, 3, 4, 6), 130 * SEC, NULL);
	umbra_flow_touch(ft, e, 130 * SEC);
	/* 59.999 s idle: not yet */
	assert_int_equal(umbra_flow_expire(ft, 160 * SEC - 1, 100), 0);
	/* exactly the timeout: the first flow goes, the second stays */
	assert_int_equal(umbra_flow_expire(ft, 160 * SEC, 100), 1);
	assert_int_equal(s.by_reason[UMBRA_END_IDLE], 1);
	assert_int_equal(memcmp(s.last.src, "\x01\0\0\0", 4), 0);
	assert_int_equal(umbra_flow_table_active(ft), 1);
	assert_int_equal(umbra_flow_expire(ft, 190 * SEC, 100), 1);
	assert_int_equal(umbra_flow_table_active(ft), 0);
	/* a flow seen again is moved back: it does not expire from its start */
	hit(ft, key4(7, 2, 3, 4, 6), 200 * SEC, NULL);
	hit(ft, key4(8, 2, 3, 4, 6), 210 * SEC, NULL);
	hit(ft, key4(7, 2, 3, 4, 6), 250 * SEC, NULL);
	assert_int_equal(umbra_flow_expire(ft, 270 * SEC, 100), 1);
	assert_int_equal(memcmp(s.last.src, "\x08\0\0\0", 4), 0);
	/* the max argument bounds the work */
	umbra_flow_table_free(ft);
}

static void
test_expire_bounded(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 10 * SEC, 300 * SEC);
	unsigned i;

	(void)state;
	for (i = 0; i < 100; i++)
		hit(ft, key4(i, 2, 3, 4, 6), SEC, NULL);
	assert_int_equal(umbra_flow_expire(ft, 100 * SEC, 30), 30);
	assert_int_equal(umbra_flow_table_active(ft), 70);
	assert_int_equal(umbra_flow_expire(ft, 100 * SEC, 1000), 70);
	assert_int_equal(s.by_reason[UMBRA_END_IDLE], 100);
	umbra_flow_table_free(ft);
}

static void
test_active_timeout(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	struct umbra_flow_entry *e;
	int created;
	unsigned t;

	(void)state;
	/* a packet every 30 s never idles out; at 300 s it is cut */
	for (t = 0; t < 300; t += 30) {
		e = hit(ft, key4(1, 2, 3, 4, 6), (uint64_t)(1000 + t) * SEC, &created);
		assert_int_equal(created, t == 0);
	}
	assert_int_equal(e->rec.packets, 10);
	assert_int_equal(s.n, 0);
	e = hit(ft, key4(1, 2, 3, 4, 6), 1300 * SEC, &created);
	assert_int_equal(created, 1);
	assert_int_equal(s.by_reason[UMBRA_END_ACTIVE], 1);
	assert_int_equal(s.last.packets, 10);
	assert_int_equal(s.last.first_ns, 1000 * SEC);
	assert_int_equal(s.last.last_ns, 1270 * SEC);
	/* the new segment starts with this packet */
	assert_int_equal(e->rec.packets, 1);
	assert_int_equal(e->rec.first_ns, 1300 * SEC);
	assert_int_equal(umbra_flow_table_active(ft), 1);
	umbra_flow_table_free(ft);
}

static void
test_capacity_eviction(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 64, 600 * SEC, 900 * SEC);
	struct umbra_flow_table_stats st;
	uint8_t evicted[64] = { 0 };
	unsigned i;

	(void)state;
	for (i = 0; i < 64; i++)
		hit(ft, key4(i, 2, 3, 4, 6), (uint64_t)(i + 1) * SEC, NULL);
	assert_int_equal(umbra_flow_table_active(ft), 64);
	assert_int_equal(s.n, 0);
	/*
	 * full: each new flow pushes out an old one. A capacity eviction takes
	 * the least recently seen flow; when both candidate buckets of the new
	 * key are full (the hash seed is random) the oldest flow of those two
	 * buckets goes instead. Never one of the new flows.
	 */
	for (i = 0; i < 10; i++) {
		struct umbra_flow_table_stats before;
		uint32_t src;

		umbra_flow_table_stats(ft, &before);
		hit(ft, key4(1000 + i, 2, 3, 4, 6), 100 * SEC, NULL);
		umbra_flow_table_stats(ft, &st);
		assert_int_equal(s.n, i + 1);
		assert_int_equal(s.last.end_reason, UMBRA_END_EVICTED);
		memcpy(&src, s.last.src, 4);
		assert_true(src < 64);
		if (st.evicted_bucket == before.evicted_bucket) {
			/* the LRU head: the oldest flow not evicted yet */
			uint32_t j, oldest = UINT32_MAX;

			for (j = 0; j < 64 && oldest == UINT32_MAX; j++)
				if (!evicted[j])
					oldest = j;
			assert_int_equal(src, oldest);
		}
		evicted[src] = 1;
	}
	assert_int_equal(umbra_flow_table_active(ft), 64);
	umbra_flow_table_stats(ft, &st);
	assert_int_equal(st.evicted_capacity + st.evicted_bucket, 10);
	assert_int_equal(s.by_reason[UMBRA_END_EVICTED], 10);
	umbra_flow_table_free(ft);
}

static void
test_many_flows_all_accounted(void **state)
{
	struct sink s;
	const unsigned cap = 100000, n = 250000;
	struct umbra_flow_table *ft = make(&s, cap, 600 * SEC, 900 * SEC);
	struct umbra_flow_key keys[32];
	struct umbra_flow_entry *e[32];
	uint8_t c[32];
	uint64_t pkts = 0;
	unsigned i, j;

	(void)state;
	srand(7);
	for (i = 0; i < n; i += 32) {
		for (j = 0; j < 32; j++)
			keys[j] = key4((uint32_t)rand() % 150000, 9, 1, 2, 6);
		umbra_flow_lookup_bulk(ft, keys, NULL, 32, SEC + i, e, c);
		for (j = 0; j < 32; j++) {
			assert_non_null(e[j]);
			e[j]->rec.packets++;
			pkts++;
		}
	}
	assert_true(umbra_flow_table_active(ft) <= cap);
	umbra_flow_flush_all(ft, UMBRA_END_SHUTDOWN);
	assert_int_equal(umbra_flow_table_active(ft), 0);
	/* every packet is in exactly one emitted record */
	assert_int_equal(s.packets, pkts);
	assert_true(s.by_reason[UMBRA_END_EVICTED] > 0);
	umbra_flow_table_free(ft);
}

static void
test_flush_all(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 1024, 60 * SEC, 300 * SEC);
	unsigned i;

	(void)state;
	for (i = 0; i < 500; i++)
		hit(ft, key4(i, 2, 3, 4, 17), SEC, NULL);
	assert_int_equal(umbra_flow_flush_all(ft, UMBRA_END_SHUTDOWN), 500);
	assert_int_equal(s.by_reason[UMBRA_END_SHUTDOWN], 500);
	assert_int_equal(umbra_flow_table_active(ft), 0);
	/* the table is reusable afterwards */
	hit(ft, key4(1, 2, 3, 4, 17), 2 * SEC, NULL);
	assert_int_equal(umbra_flow_table_active(ft), 1);
	umbra_flow_table_free(ft);
}

/*
 * A small table under many more keys than it holds, with sweeps between
 * bursts: capacity and bucket evictions and idle expiry all happen, and
 * still every packet is in exactly one record and the flush finds every
 * live flow once.
 */
static void
test_small_table_churn(void **state)
{
	struct sink s;
	const unsigned cap = 64;
	struct umbra_flow_table *ft = make(&s, cap, 5 * SEC, 900 * SEC);
	struct umbra_flow_table_stats st;
	struct umbra_flow_key keys[32];
	struct umbra_flow_entry *e[32];
	uint8_t c[32];
	uint64_t pkts = 0, t = SEC;
	unsigned i, j;

	(void)state;
	srand(11);
	for (i = 0; i < 20000; i++) {
		for (j = 0; j < 32; j++)
			keys[j] = key4((uint32_t)rand() % 400, 9, 1, 2, 6);
		t += SEC / 50;
		umbra_flow_lookup_bulk(ft, keys, NULL, 32, t, e, c);
		for (j = 0; j < 32; j++) {
			if (e[j] == NULL)
				continue;
			e[j]->rec.packets++;
			if (t > e[j]->rec.last_ns)
				e[j]->rec.last_ns = t;
			pkts++;
		}
		if (i % 7 == 0)
			umbra_flow_expire(ft, t, 16);
		assert_true(umbra_flow_table_active(ft) <= cap);
	}
	umbra_flow_table_stats(ft, &st);
	assert_true(st.evicted_bucket > 256);
	assert_true(st.evicted_capacity > 1000);
	assert_int_equal(umbra_flow_flush_all(ft, UMBRA_END_SHUTDOWN), st.active);
	assert_int_equal(umbra_flow_table_active(ft), 0);
	assert_int_equal(s.packets, pkts);
	umbra_flow_table_free(ft);
}

/*
 * A key whose first bucket is full goes to its second one, and is found
 * there: a small table filled to its capacity (half its bucket slots, so
 * some first buckets overflow) finds every key again, then empties, and
 * the same keys come back as new flows.
 */
static void
test_second_bucket_found(void **state)
{
	struct sink s;
	const unsigned cap = 512;
	struct umbra_flow_table *ft = make(&s, cap, 600 * SEC, 900 * SEC);
	struct umbra_flow_table_stats st;
	struct umbra_flow_entry *first[512];
	unsigned i, round;
	int created;

	(void)state;
	for (i = 0; i < cap; i++) {
		first[i] = hit(ft, key4(i, 2, 3, 4, 6), SEC, &created);
		assert_int_equal(created, 1);
	}
	umbra_flow_table_stats(ft, &st);
	/* 128 buckets of 8 for 512 keys: some first buckets overflowed */
	assert_true(st.inserts_second > 0);
	assert_int_equal(st.evicted_bucket, 0);
	assert_int_equal(st.active, cap);
	for (round = 0; round < 2; round++) {
		for (i = 0; i < cap; i++) {
			struct umbra_flow_entry *e = hit(ft, key4(i, 2, 3, 4, 6), 2 * SEC, &created);

			assert_int_equal(created, round);
			if (round == 0)
				assert_ptr_equal(e, first[i]);
		}
		assert_int_equal(umbra_flow_table_active(ft), cap);
		if (round == 0) {
			assert_int_equal(umbra_flow_flush_all(ft, UMBRA_END_SHUTDOWN), cap);
			assert_int_equal(umbra_flow_table_active(ft), 0);
		}
	}
	umbra_flow_table_stats(ft, &st);
	assert_int_equal(st.evicted_bucket, 0);
	assert_int_equal(s.n, cap);
	umbra_flow_table_free(ft);
}

/*
 * The expiry queue holds twice the capacity. Flows seen again and again
 * fill it with stale positions; once it has no room to spare, a flow
 * seen again is marked instead of queued anew. It is still never
 * exported before its idle timeout, and it is exported after it.
 */
static void
test_queue_full_requeue(void **state)
{
	struct sink s;
	const unsigned cap = 64;
	struct umbra_flow_table *ft = make(&s, cap, 10 * SEC, 900 * SEC);
	struct umbra_flow_entry *a = NULL, *b = NULL;
	unsigned i;

	(void)state;
	for (i = 0; i < cap; i++)
		hit(ft, key4(i, 2, 3, 4, 6), SEC, NULL);
	/* flows 0 and 1 in turn: each packet queues one anew, 200 in all */
	for (i = 0; i < 200; i++) {
		uint64_t t = 2 * SEC + i * (SEC / 100);
		struct umbra_flow_entry *e = hit(ft, key4(i % 2, 2, 3, 4, 6), t, NULL);

		umbra_flow_touch(ft, e, t);
		if (i % 2 == 0)
			a = e;
		else
			b = e;
	}
	/* the last packets were seen with the queue full: flow 0 at 5 s */
	hit(ft, key4(0, 2, 3, 4, 6), 5 * SEC, NULL);
	umbra_flow_touch(ft, a, 5 * SEC);
	assert_int_equal(a->rec.last_ns, 5 * SEC);
	assert_true(b->rec.last_ns < 4 * SEC);
	assert_int_equal(a->rec.packets, 102);
	/* at 11 s the 62 others go; flows 0 and 1 were seen after 1 s */
	assert_int_equal(umbra_flow_expire(ft, 11 * SEC, 1000), cap - 2);
	assert_int_equal(umbra_flow_table_active(ft), 2);
	/* flow 1's timeout passed, flow 0's not */
	assert_int_equal(umbra_flow_expire(ft, b->rec.last_ns + 10 * SEC, 1000), 1);
	assert_int_equal(memcmp(s.last.src, "\x01\0\0\0", 4), 0);
	assert_int_equal(umbra_flow_expire(ft, 15 * SEC - 1, 1000), 0);
	assert_int_equal(umbra_flow_expire(ft, 15 * SEC, 1000), 1);
	assert_int_equal(memcmp(s.last.src, "\0\0\0\0", 4), 0);
	assert_int_equal(s.last.packets, 102);
	assert_int_equal(umbra_flow_table_active(ft), 0);
	umbra_flow_table_free(ft);
}

/* The table's two buckets for key k (16 buckets: a table of 64). */
static void
buckets16(const struct umbra_flow_table *ft, const struct umbra_flow_key *k,
	  unsigned *b1, unsigned *b2)
{
	uint64_t h = umbra_flow_prefetch(ft, k);

	*b1 = (unsigned)(h & 15);
	*b2 = (unsigned)((h >> 40) & 15);
	if (*b2 == *b1)
		*b2 = *b1 ^ 1;
}

/*
 * Keys that all fall in the same two buckets push each other out: each
 * leaves a stale queue position behind. When those fill the queue, its
 * head makes room: stale positions are dropped, and a live flow at the
 * head, the oldest queued, leaves early as evicted. Every packet is
 * still in exactly one record.
 */
static void
test_queue_full_of_bucket_evictions(void **state)
{
	struct sink s;
	struct umbra_flow_table *ft = make(&s, 64, 600 * SEC, 900 * SEC);
	struct umbra_flow_table_stats st;
	struct umbra_flow_key x, k;
	unsigned b1, b2, src, n = 0, t = 0;
	int created;

	(void)state;
	/* one flow elsewhere, first in the queue */
	for (src = 100000;; src++) {
		x = key4(src, 2, 3, 4, 6);
		buckets16(ft, &x, &b1, &b2);
		if (b1 > 1 && b2 > 1)
			break;
	}
	hit(ft, x, SEC, &created);
	assert_int_equal(created, 1);
	/* 300 keys whose buckets are 0 and 1: 16 slots between them */
	for (src = 0; n < 300; src++) {
		k = key4(src, 7, 3, 4, 6);
		buckets16(ft, &k, &b1, &b2);
		if (b1 > 1 || b2 > 1)
			continue;
		hit(ft, k, 2 * SEC + t++, &created);
		assert_int_equal(created, 1);
		n++;
	}
	umbra_flow_table_stats(ft, &st);
	assert_int_equal(st.evicted_bucket, 300 - 16);
	/* the queue (128) filled: the flow at its head left early */
	assert_int_equal(st.evicted_capacity, 1);
	assert_int_equal(s.by_reason[UMBRA_END_EVICTED], 300 - 16 + 1);
	assert_int_equal(umbra_flow_table_active(ft), 16);
	hit(ft, x, 3 * SEC, &created);
	assert_int_equal(created, 1);
	assert_int_equal(umbra_flow_flush_all(ft, UMBRA_END_SHUTDOWN), 17);
	assert_int_equal(s.packets, 302);
	umbra_flow_table_free(ft);
}

/* A table faulted in at creation (live capture) works as any other. */
static void
test_prefaulted_table(void **state)
{
	struct sink s;
	struct umbra_flow_table_conf c = {
		.capacity = 100000, .idle_ns = 60 * SEC, .active_ns = 300 * SEC,
		.emit = sink_emit, .emit_arg = &s, .seed = 12345, .prefault = 1,
	};
	struct umbra_flow_table *ft;
	unsigned i;

	(void)state;
	memset(&s, 0, sizeof(s));
	ft = umbra_flow_table_create(&c);
	assert_non_null(ft);
	for (i = 0; i < 1000; i++)
		hit(ft, key4(i, 2, 3, 4, 6), SEC, NULL);
	assert_int_equal(umbra_flow_table_active(ft), 1000);
	assert_int_equal(umbra_flow_expire(ft, 61 * SEC, 5000), 1000);
	assert_int_equal(s.packets, 1000);
	umbra_flow_table_free(ft);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_rejects_bad_conf),
		cmocka_unit_test(test_lookup_insert_find),
		cmocka_unit_test(test_ipv6_keys_distinct_from_ipv4),
		cmocka_unit_test(test_repeated_key_in_one_burst),
		cmocka_unit_test(test_idle_timeout),
		cmocka_unit_test(test_expire_bounded),
		cmocka_unit_test(test_active_timeout),
		cmocka_unit_test(test_capacity_eviction),
		cmocka_unit_test(test_many_flows_all_accounted),
		cmocka_unit_test(test_flush_all),
		cmocka_unit_test(test_small_table_churn),
		cmocka_unit_test(test_prefaulted_table),
		cmocka_unit_test(test_second_bucket_found),
		cmocka_unit_test(test_queue_full_requeue),
		cmocka_unit_test(test_queue_full_of_bucket_evictions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
