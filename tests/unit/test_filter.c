/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for engine/filter-darknet.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "filter-darknet.h"

static int match4(const struct umbra_darknet *dn, const char *a,
		  uint32_t *sensor)
{
	uint8_t b[4];

	assert_int_equal(inet_pton(AF_INET, a, b), 1);
	*sensor = 12345;
	return umbra_darknet_match(dn, 4, b, sensor);
}

static int match6(const struct umbra_darknet *dn, const char *a,
		  uint32_t *sensor)
{
	uint8_t b[16];

	assert_int_equal(inet_pton(AF_INET6, a, b), 1);
	*sensor = 12345;
	return umbra_darknet_match(dn, 6, b, sensor);
}

static void test_ipv4_add_match(void **state)
{
	struct umbra_darknet dn;
	uint32_t s;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(dn.n, 0);
	assert_int_equal(match4(&dn, "192.0.2.1", &s), 0);

	assert_int_equal(umbra_darknet_add(&dn, "192.0.2.0/24"), 0);
	assert_int_equal(dn.n, 1);
	assert_int_equal(dn.p[0].family, 4);
	assert_int_equal(dn.p[0].len, 24);
	assert_int_equal(dn.p[0].sensor_base, 0);
	assert_int_equal(dn.nsensors_direct, 256);

	assert_int_equal(match4(&dn, "192.0.2.0", &s), 1);
	assert_int_equal(s, 0);
	assert_int_equal(match4(&dn, "192.0.2.77", &s), 1);
	assert_int_equal(s, 77);
	assert_int_equal(match4(&dn, "192.0.2.255", &s), 1);
	assert_int_equal(s, 255);
	assert_int_equal(match4(&dn, "192.0.3.0", &s), 0);
	assert_int_equal(s, 12345); /* untouched on no match */
	assert_int_equal(match4(&dn, "192.0.1.255", &s), 0);
	assert_int_equal(match4(&dn, "64.0.2.1", &s), 0);
}

static void test_sensor_slots(void **state)
{
	struct umbra_darknet dn;
	uint32_t s;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "198.51.100.0/24"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "203.0.113.16/28"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8::/32"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "203.0.113.7"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "10.0.0.0/8"), 0);
	assert_int_equal(dn.p[0].sensor_base, 0);
	assert_int_equal(dn.p[1].sensor_base, 256);
	assert_int_equal(dn.p[2].sensor_base, UMBRA_SENSOR_HASHED);
	assert_int_equal(dn.p[3].sensor_base, 272);
	assert_int_equal(dn.p[3].len, 32);
	assert_int_equal(dn.p[4].sensor_base, UMBRA_SENSOR_HASHED); /* /8 */
	assert_int_equal(dn.nsensors_direct, 273);

	assert_int_equal(match4(&dn, "198.51.100.200", &s), 1);
	assert_int_equal(s, 200);
	assert_int_equal(match4(&dn, "203.0.113.16", &s), 1);
	assert_int_equal(s, 256);
	assert_int_equal(match4(&dn, "203.0.113.31", &s), 1);
	assert_int_equal(s, 271);
	assert_int_equal(match4(&dn, "203.0.113.32", &s), 0);
	assert_int_equal(match4(&dn, "203.0.113.7", &s), 1);
	assert_int_equal(s, 272);
	assert_int_equal(match4(&dn, "203.0.113.8", &s), 0);
	assert_int_equal(match4(&dn, "10.200.3.4", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_HASHED);
}

static void test_direct_budget(void **state)
{
	struct umbra_darknet dn;
	uint32_t s;

	(void)state;
	umbra_darknet_init(&dn);
	/* a /11 is too big for direct slots */
	assert_int_equal(umbra_darknet_add(&dn, "100.64.0.0/11"), 0);
	assert_int_equal(dn.p[0].sensor_base, UMBRA_SENSOR_HASHED);
	/* a /12 takes the whole budget... */
	assert_int_equal(umbra_darknet_add(&dn, "172.16.0.0/12"), 0);
	assert_int_equal(dn.p[1].sensor_base, 0);
	assert_int_equal(dn.nsensors_direct, UMBRA_SENSOR_DIRECT_MAX);
	/* ...so the next one is hashed, even a /32 */
	assert_int_equal(umbra_darknet_add(&dn, "192.0.2.1/32"), 0);
	assert_int_equal(dn.p[2].sensor_base, UMBRA_SENSOR_HASHED);
	assert_int_equal(dn.nsensors_direct, UMBRA_SENSOR_DIRECT_MAX);

	assert_int_equal(match4(&dn, "172.31.255.255", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_DIRECT_MAX - 1);
	assert_int_equal(match4(&dn, "172.16.0.1", &s), 1);
	assert_int_equal(s, 1);
	assert_int_equal(match4(&dn, "192.0.2.1", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_HASHED);
	assert_int_equal(match4(&dn, "100.95.1.1", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_HASHED);
	assert_int_equal(match4(&dn, "100.96.0.0", &s), 0);

	/* a /13 fits, then a /13 again, then a /24 no longer does */
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "10.0.0.0/13"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "10.8.0.0/13"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "10.16.0.0/24"), 0);
	assert_int_equal(dn.p[1].sensor_base, 1u << 19);
	assert_int_equal(dn.p[2].sensor_base, UMBRA_SENSOR_HASHED);
}

static void test_ipv6_add_match(void **state)
{
	struct umbra_darknet dn;
	uint32_t s;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8::/32"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db9:0:1::/65"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "2001:dba::/63"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "2001:dbb::42"), 0);
	assert_int_equal(dn.p[3].len, 128);
	assert_int_equal(dn.nsensors_direct, 0);

	assert_int_equal(match6(&dn, "2001:db8:ffff::1", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_HASHED);
	assert_int_equal(match6(&dn, "2001:db9::1", &s), 0);
	assert_int_equal(match6(&dn, "2001:db9:0:1:7fff::", &s), 1);
	assert_int_equal(match6(&dn, "2001:db9:0:1:8000::", &s), 0);
	assert_int_equal(match6(&dn, "2001:dba:0:1:ffff::", &s), 1);
	assert_int_equal(match6(&dn, "2001:dba:0:2::", &s), 0);
	assert_int_equal(match6(&dn, "2001:dbb::42", &s), 1);
	assert_int_equal(match6(&dn, "2001:dbb::43", &s), 0);
	assert_int_equal(match6(&dn, "::1", &s), 0);
	assert_int_equal(s, 12345);

	/* families never cross: 32.1.13.184 is 2001:db8's first 4 bytes */
	assert_int_equal(match4(&dn, "32.1.13.184", &s), 0);
	assert_int_equal(umbra_darknet_add(&dn, "32.1.13.184/32"), 0);
	assert_int_equal(match4(&dn, "32.1.13.184", &s), 1);
	assert_int_equal(s, 0);
	/* unknown family */
	assert_int_equal(umbra_darknet_match(&dn, 5, (const uint8_t *)"abcd",
					     &s), 0);
}

static void test_zero_length(void **state)
{
	struct umbra_darknet dn;
	uint32_t s;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "0.0.0.0/0"), 0);
	assert_int_equal(match4(&dn, "255.255.255.255", &s), 1);
	assert_int_equal(s, UMBRA_SENSOR_HASHED);
	assert_int_equal(match6(&dn, "::", &s), 0);
	assert_int_equal(umbra_darknet_add(&dn, "::/0"), 0);
	assert_int_equal(match6(&dn, "ffff::1", &s), 1);
	assert_int_equal(umbra_darknet_add(&dn, "1.0.0.0/8"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8::/32"), -EEXIST);
}

static void test_bad_strings(void **state)
{
	static const char *const bad[] = {
		"",
		"/24",
		"192.0.2.1/24",         /* host bits */
		"192.0.2.128/24",
		"192.0.3.0/23",
		"10.0.0.1/8",
		"2001:db8::1/64",       /* host bits */
		"2001:db8:0:0:8000::/64",
		"2001:db9::/31",
		"192.0.2.0/33",
		"2001:db8::/129",
		"192.0.2.0/-1",
		"192.0.2.0/+24",
		"192.0.2.0/024",
		"192.0.2.0/ 24",
		"192.0.2.0/24 ",
		" 192.0.2.0/24",
		"192.0.2.0/",
		"192.0.2.0/24/24",
		"192.0.2.0/2x",
		"192.0.2.0/1000",
		"192.0.2/24",
		"192.0.2.256",
		"0x0a.0.0.0/8",
		"hello",
		"2001:db8:::/48",
		"2001:db8::g/128",
		"fe80::1%eth0",
		"192.0.2.0/24\n",
		"1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc:dddd/128",
	};
	struct umbra_darknet dn;

	(void)state;
	umbra_darknet_init(&dn);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = umbra_darknet_add(&dn, bad[i]);

		if (rc != -EINVAL)
			fail_msg("\"%s\": %d, want -EINVAL", bad[i], rc);
	}
	assert_int_equal(dn.n, 0);
	assert_int_equal(umbra_darknet_add(&dn, NULL), -EINVAL);
	assert_int_equal(umbra_darknet_add(NULL, "192.0.2.0/24"), -EINVAL);
	assert_int_equal(dn.nsensors_direct, 0);
}

static void test_overlap(void **state)
{
	struct umbra_darknet dn;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "10.1.0.0/16"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "10.1.0.0/16"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "10.1.2.0/24"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "10.1.255.255"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "10.0.0.0/8"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "10.0.0.0/15"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "10.0.0.0/16"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "10.2.0.0/16"), 0);
	assert_int_equal(dn.n, 3);
	assert_int_equal(dn.nsensors_direct, 3 * 65536);

	assert_int_equal(umbra_darknet_add(&dn, "2001:db8::/48"), 0);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8::/32"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8:0:1::/64"), -EEXIST);
	assert_int_equal(umbra_darknet_add(&dn, "2001:db8:1::/48"), 0);
	/* same text, another spelling */
	assert_int_equal(umbra_darknet_add(&dn, "2001:DB8:0000::/48"),
			 -EEXIST);
	assert_int_equal(dn.n, 5);
}

static void test_full(void **state)
{
	struct umbra_darknet dn;
	char buf[32];

	(void)state;
	umbra_darknet_init(&dn);
	for (unsigned i = 0; i < UMBRA_DARKNET_MAX; i++) {
		snprintf(buf, sizeof(buf), "192.0.2.%u", i);
		assert_int_equal(umbra_darknet_add(&dn, buf), 0);
	}
	assert_int_equal(umbra_darknet_add(&dn, "198.51.100.0/24"), -ENOSPC);
	/* a bad string is still -EINVAL, a duplicate still -EEXIST */
	assert_int_equal(umbra_darknet_add(&dn, "bogus"), -EINVAL);
	assert_int_equal(umbra_darknet_add(&dn, "192.0.2.0/26"), -EEXIST);
	assert_int_equal(dn.n, UMBRA_DARKNET_MAX);
	assert_int_equal(dn.nsensors_direct, UMBRA_DARKNET_MAX);
}

static void test_format_round_trip(void **state)
{
	static const char *const in[][2] = {
		{"192.0.2.0/24", "192.0.2.0/24"},
		{"198.51.100.7", "198.51.100.7/32"},
		{"0.0.0.0/8", "0.0.0.0/8"},
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"2001:DB7:0:0:0::/48", "2001:db7::/48"},
		{"2001:0db9:0000:0001:8000::/65", "2001:db9:0:1:8000::/65"},
		{"2001:dba::42", "2001:dba::42/128"},
		{"::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120"},
	};
	struct umbra_darknet dn, again;
	char buf[64];
	unsigned n = sizeof(in) / sizeof(in[0]);

	(void)state;
	umbra_darknet_init(&dn);
	umbra_darknet_init(&again);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(umbra_darknet_add(&dn, in[i][0]), 0);
		assert_int_equal(umbra_prefix_format(&dn.p[i], buf, sizeof(buf)),
				 (int)strlen(in[i][1]));
		assert_string_equal(buf, in[i][1]);
		assert_int_equal(umbra_darknet_add(&again, buf), 0);
		assert_memory_equal(again.p[i].addr, dn.p[i].addr, 16);
		assert_int_equal(again.p[i].family, dn.p[i].family);
		assert_int_equal(again.p[i].len, dn.p[i].len);
		assert_int_equal(again.p[i].sensor_base, dn.p[i].sensor_base);
	}
	/* snprintf semantics on a short buffer */
	assert_int_equal(umbra_prefix_format(&dn.p[0], buf, 8), 12);
	assert_string_equal(buf, "192.0.2");
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_ipv4_add_match),
		cmocka_unit_test(test_sensor_slots),
		cmocka_unit_test(test_direct_budget),
		cmocka_unit_test(test_ipv6_add_match),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_format_round_trip),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
