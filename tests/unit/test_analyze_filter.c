/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for analyze/analyze-filter.c: the --filter language. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"

static struct umbra_flow_record v4, v6, icmp;

static int setup(void **state)
{
	(void)state;
	memset(&v4, 0, sizeof(v4));
	v4.family = 4;
	inet_pton(AF_INET, "61.200.10.7", v4.src);
	inet_pton(AF_INET, "192.0.2.5", v4.dst);
	v4.proto = 6;
	v4.sport = 40000;
	v4.dport = 23;
	v4.tcp_flags = 0x02;
	v4.packets = 3;
	v4.bytes = 120;
	v4.ttl_min = 50;
	v4.tags = UMBRA_TAG_SCAN | UMBRA_TAG(UMBRA_TAG_BIT_MIRAI);
	an_parse_time("2024-05-01T12:00:00Z", &v4.first_ns);
	v4.last_ns = v4.first_ns + 10 * AN_NSEC;

	v6 = v4;
	v6.family = 6;
	memset(v6.src, 0, 16);
	memset(v6.dst, 0, 16);
	inet_pton(AF_INET6, "2400:1::5", v6.src);
	inet_pton(AF_INET6, "2001:db8:5::3", v6.dst);
	v6.tcp_flags = 0x12;
	v6.tags = UMBRA_TAG_BACKSCATTER;

	icmp = v4;
	icmp.proto = 1;
	icmp.sport = 8; /* type */
	icmp.dport = 0; /* code */
	icmp.tcp_flags = 0;
	return 0;
}

static int match(const char *expr, const struct umbra_flow_record *r, const char *sensor)
{
	struct an_filter *f = an_filter_compile(expr, "test");
	assert_non_null(f);
	int m = an_filter_match(f, r, sensor);
	an_filter_free(f);
	return m;
}

static void test_tests(void **state)
{
	(void)state;
	assert_true(match("src net 61.200.10.0/24", &v4, "tokyo"));
	assert_false(match("dst net 61.200.10.0/24", &v4, "tokyo"));
	assert_true(match("net 192.0.2.0/24", &v4, "tokyo"));
	assert_true(match("src net 61.200.0.0/13", &v4, "tokyo"));
	assert_false(match("src net 61.208.0.0/13", &v4, "tokyo"));
	assert_true(match("host 192.0.2.5", &v4, NULL));
	assert_true(match("dst host 192.0.2.5", &v4, NULL));
	assert_false(match("src host 192.0.2.5", &v4, NULL));
	assert_true(match("src net 2400:1::/32", &v6, NULL));
	assert_false(match("src net 2400:1::/32", &v4, NULL));
	assert_true(match("port 23", &v4, NULL));
	assert_true(match("dst port 23", &v4, NULL));
	assert_false(match("src port 23", &v4, NULL));
	assert_true(match("src port > 1024", &v4, NULL));
	assert_true(match("dst port 20-30", &v4, NULL));
	assert_false(match("dst port 24-30", &v4, NULL));
	assert_true(match("dst port != 22", &v4, NULL));
	assert_false(match("port 0", &icmp, NULL)); /* ICMP has no ports */
	assert_true(match("icmp-type 8 and icmp-code 0", &icmp, NULL));
	assert_true(match("proto tcp", &v4, NULL));
	assert_true(match("proto 6", &v4, NULL));
	assert_true(match("icmp", &icmp, NULL));
	assert_false(match("udp", &v4, NULL));
	assert_true(match("ip6", &v6, NULL));
	assert_true(match("inet", &v4, NULL));
	assert_true(match("flags S", &v4, NULL));
	assert_false(match("flags SA", &v4, NULL));
	assert_true(match("flags SA", &v6, NULL));
	assert_true(match("flags 0x12", &v6, NULL));
	assert_true(match("tag mirai", &v4, NULL));
	assert_true(match("tag scan and not tag backscatter", &v4, NULL));
	assert_true(match("sensor tok*", &v4, "tokyo"));
	assert_false(match("sensor osaka", &v4, "tokyo"));
	assert_true(match("packets >= 3 and bytes < 121 and ttl 50", &v4, NULL));
	assert_true(match("duration 10", &v4, NULL));
	assert_true(match("after 2024-05-01", &v4, NULL));
	assert_false(match("before 2024-05-01T12:00:00Z", &v4, NULL));
	assert_true(match("before 2024-05-01T12:00:00.000000001Z", &v4, NULL));
	assert_true(match("time 2024-05-01..2024-05-02", &v4, NULL));
	assert_false(match("time 2024-04-01..2024-05-01T12:00:00Z", &v4, NULL));
	assert_true(match("after 2024-05-01T21:00:00+09:00", &v4, NULL));
}

static void test_logic(void **state)
{
	(void)state;
	assert_true(match("tcp and dst port 23 or udp", &v4, NULL));
	/* and binds tighter than or */
	assert_true(match("udp or tcp and port 23", &v4, NULL));
	assert_false(match("(udp or tcp) and port 22", &v4, NULL));
	assert_true(match("not (udp or icmp)", &v4, NULL));
	assert_true(match("! udp && ! icmp", &v4, NULL));
	assert_true(match("udp || (tcp && !(port 22))", &v4, NULL));
	assert_true(match("not not tcp", &v4, NULL));
	assert_true(match("TCP AND PORT 23", &v4, NULL));
}

static void test_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", "port", "port xyz", "port 65536", "src", "src tcp", "net 10.0.0.0/33",
		"host 10.0.0.0/8", "tcp and", "(tcp", "tcp)", "tcp udp", "tag nosuch",
		"flags Q", "proto foo", "after tomorrow", "time 2024-05-02..2024-05-01",
		"time 2024-05-01", "packets > x", "dst port 30-20", "and tcp", "not",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct an_filter *f = an_filter_compile(bad[i], "test");
		if (f)
			fail_msg("'%s' compiled", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tests),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
