/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for engine/ring-spsc.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <pthread.h>
#include <string.h>
#include <cmocka.h>

#include "ring-spsc.h"

static struct umbra_flow_record
rec(uint32_t n)
{
	struct umbra_flow_record r;

	memset(&r, 0, sizeof(r));
	r.packets = n;
	r.first_ns = n;
	return r;
}

static void
test_capacity_rounding(void **state)
{
	struct umbra_spsc *r = umbra_spsc_create(1000);

	(void)state;
	assert_non_null(r);
	assert_int_equal(umbra_spsc_capacity(r), 1024);
	umbra_spsc_free(r);
	assert_null(umbra_spsc_create(0));
}

static void
test_full_ring_never_blocks(void **state)
{
	struct umbra_spsc *r = umbra_spsc_create(64);
	struct umbra_flow_record in[100];
	const struct umbra_flow_record *out;
	unsigned i, n;

	(void)state;
	for (i = 0; i < 100; i++)
		in[i] = rec(i);
	/* only what fits goes in: the caller counts the rest as dropped */
	assert_int_equal(umbra_spsc_enqueue(r, in, 100), 64);
	assert_int_equal(umbra_spsc_enqueue(r, in, 1), 0);
	assert_int_equal(umbra_spsc_count(r), 64);
	n = umbra_spsc_peek(r, &out, 10);
	assert_int_equal(n, 10);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i].packets, i);
	umbra_spsc_release(r, n);
	assert_int_equal(umbra_spsc_enqueue(r, in + 64, 36), 10);
	umbra_spsc_free(r);
}

static void
test_wraparound_order(void **state)
{
	struct umbra_spsc *r = umbra_spsc_create(64);
	struct umbra_flow_record in[40];
	const struct umbra_flow_record *out;
	uint32_t next_in = 0, next_out = 0;
	unsigned round, i, n;

	(void)state;
	for (round = 0; round < 100; round++) {
		for (i = 0; i < 40; i++)
			in[i] = rec(next_in + i);
		n = umbra_spsc_enqueue(r, in, 40);
		next_in += n;
		/* peek returns contiguous pieces: read until empty */
		while ((n = umbra_spsc_peek(r, &out, 1000)) > 0) {
			for (i = 0; i < n; i++)
				assert_int_equal(out[i].packets, next_out + i);
			next_out += n;
			umbra_spsc_release(r, n);
		}
	}
	assert_int_equal(next_in, next_out);
	assert_int_equal(next_in, 4000);
	umbra_spsc_free(r);
}

#define THREAD_RECORDS 2000000u

static void *
producer(void *arg)
{
	struct umbra_spsc *r = arg;
	struct umbra_flow_record batch[32];
	uint32_t next = 0;

	while (next < THREAD_RECORDS) {
		unsigned i, n = 32;

		if (THREAD_RECORDS - next < n)
			n = THREAD_RECORDS - next;
		for (i = 0; i < n; i++)
			batch[i] = rec(next + i);
		next += umbra_spsc_enqueue(r, batch, n);
	}
	return NULL;
}

static void
test_two_threads(void **state)
{
	struct umbra_spsc *r = umbra_spsc_create(1024);
	const struct umbra_flow_record *out;
	pthread_t t;
	uint32_t next = 0;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, producer, r), 0);
	while (next < THREAD_RECORDS) {
		unsigned n = umbra_spsc_peek(r, &out, 256), i;

		for (i = 0; i < n; i++) {
			/* every record arrives once, in order, intact */
			if (out[i].packets != next + i || out[i].first_ns != next + i)
				fail_msg("record %u arrived as %u", next + i, out[i].packets);
		}
		next += n;
		umbra_spsc_release(r, n);
	}
	pthread_join(t, NULL);
	assert_int_equal(umbra_spsc_count(r), 0);
	umbra_spsc_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capacity_rounding),
		cmocka_unit_test(test_full_ring_never_blocks),
		cmocka_unit_test(test_wraparound_order),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
