/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the umbra-analyze building blocks: the aggregation map and
 * HyperLogLog (analyze-map.c), prefix tables and names (analyze-group.c),
 * time and port parsing (analyze-opts.c), and the sensors aggregation's
 * capture days from interval frames (analyze-sensors.c over analyze-scan.c)
 * on dumps written with the writer, where the answer is known.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "analyze-cmds.h"
#include "record-codec.h"
#include "writer-dump.h"

#define D0 1714521600000000000ull /* 2024-05-01T00:00:00Z */

static void test_map(void **state)
{
	(void)state;
	struct an_map m = {0}, m2 = {0};
	for (uint64_t i = 0; i < 100000; i++) {
		struct an_key k = {i, i * 7, i % 3};
		uint64_t *v = an_map_get(&m, &k);
		assert_non_null(v);
		*v += i;
	}
	struct an_key z = {0, 0, 0};
	(*an_map_get(&m, &z)) += 5; /* i = 0 is the zero key too */
	assert_int_equal(m.n, 100000);
	for (uint64_t i = 1; i < 100000; i += 997) {
		struct an_key k = {i, i * 7, i % 3};
		const uint64_t *v = an_map_find(&m, &k);
		assert_non_null(v);
		assert_int_equal(*v, i);
	}
	assert_int_equal(*an_map_find(&m, &z), 5);
	struct an_key miss = {1, 2, 3};
	assert_null(an_map_find(&m, &miss));
	struct an_key one = {1, 7, 1};
	*an_map_get(&m2, &one) = 10;
	*an_map_get(&m2, &miss) = 1;
	assert_int_equal(an_map_merge(&m, &m2, 0), 0);
	assert_int_equal(*an_map_find(&m, &one), 11);
	assert_int_equal(m.n, 100001);
	size_t n;
	struct an_slot *it = an_map_items(&m, &n);
	assert_int_equal(n, 100001);
	free(it);
	an_map_free(&m);
	an_map_free(&m2);

	/* an_map_mark: batches with repeats and the zero key, across growth */
	static struct an_key keys[3000];
	struct an_map s = {0};
	for (uint64_t round = 0; round < 40; round++) {
		for (size_t i = 0; i < 3000; i++) {
			uint64_t x = (round * 3000 + i) % 50000; /* repeats after 50000 */
			keys[i] = (struct an_key){x, x * 3, x % 5}; /* x = 0: the zero key */
		}
		assert_int_equal(an_map_mark(&s, keys, round % 2 ? 3000 : 17), 0);
	}
	for (uint64_t x = 0; x < 50000; x++) {
		struct an_key k = {x, x * 3, x % 5};
		const uint64_t *v = an_map_find(&s, &k);
		/* even rounds mark their first 17 keys only */
		int want = 0;
		for (uint64_t round = 0; round < 40 && !want; round++) {
			uint64_t first = round * 3000 % 50000, span = round % 2 ? 3000 : 17;
			want = (x + 50000 - first) % 50000 < span;
		}
		if (want) {
			assert_non_null(v);
			assert_int_equal(*v, 1);
		} else {
			assert_null(v);
		}
	}
	an_map_free(&s);
}

/*
 * an_map64_add in batches, small and large, against the sums of
 * an_map64_get; zero keys, repeats and growth included; then merged.
 */
static void test_map64(void **state)
{
	(void)state;
	enum { NB = 20000, ROUNDS = 40, KEYS = 300000 };
	struct an_map64 a = {0}, b = {0}, c = {0};
	uint64_t *keys = malloc(sizeof(*keys) * NB), *vals = malloc(sizeof(*vals) * NB);
	uint64_t x = 0x9e3779b97f4a7c15ull, total = 0;
	assert_non_null(keys);
	assert_non_null(vals);
	for (int r = 0; r < ROUNDS; r++) {
		size_t n = r % 4 == 3 ? 100 : NB; /* small batches go the other way */
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			keys[i] = x % 11 == 0 ? 0 : x % KEYS * 0x100000001ull;
			vals[i] = x >> 58;
			total += vals[i];
			*an_map64_get(&b, keys[i]) += vals[i];
		}
		assert_int_equal(an_map64_add(&a, keys, vals, n), 0);
	}
	assert_int_equal(a.n, b.n);
	uint64_t sum = a.has_zero ? a.zero_v : 0;
	for (size_t i = 0; i < b.cap; i++) {
		if (!b.s[i].k)
			continue;
		const uint64_t *v = an_map64_find(&a, b.s[i].k);
		assert_non_null(v);
		assert_int_equal(*v, b.s[i].v);
	}
	for (size_t i = 0; i < a.cap; i++)
		sum += a.s[i].v;
	assert_int_equal(sum, total);
	assert_int_equal(*an_map64_find(&a, 0), *an_map64_find(&b, 0));
	/* merging into an empty map, then into a full one, doubles every value
	 * (merge frees its source) */
	uint64_t zero = *an_map64_find(&b, 0), k1 = b.s[0].k ? b.s[0].k : b.s[1].k;
	uint64_t v1 = *an_map64_find(&b, k1);
	assert_int_equal(an_map64_merge(&c, &a), 0);
	assert_int_equal(an_map64_merge(&c, &b), 0);
	assert_int_equal(*an_map64_find(&c, 0), 2 * zero);
	assert_int_equal(*an_map64_find(&c, k1), 2 * v1);
	free(keys);
	free(vals);
	an_map64_free(&a);
	an_map64_free(&b);
	an_map64_free(&c);
}

static void test_hll(void **state)
{
	(void)state;
	static const unsigned sizes[] = {10, 1000, 50000, 300000};
	for (size_t s = 0; s < 4; s++) {
		struct an_hll a, b;
		memset(&a, 0, sizeof(a));
		memset(&b, 0, sizeof(b));
		for (unsigned i = 0; i < sizes[s]; i++) {
			uint8_t ad[16] = {0};
			umbra_put32be(ad, 0x0a000000u + i);
			an_hll_add(i % 2 ? &a : &b, an_addr_hash(ad, 4));
			an_hll_add(&a, an_addr_hash(ad, 4)); /* duplicates count once */
		}
		an_hll_merge(&b, &a);
		double e = an_hll_count(&b);
		assert_true(fabs(e - sizes[s]) <= 0.05 * sizes[s] + 1);
	}
}

static void test_prefixes(void **state)
{
	(void)state;
	struct an_pfx *t = an_pfx_new();
	uint8_t a[16];
	int fam;
	unsigned pl;
	assert_int_equal(an_parse_prefix("61.200.0.0/16", a, &fam, &pl), 0);
	assert_int_equal(an_pfx_add(t, a, fam, pl, 1), 0);
	assert_int_equal(an_parse_prefix("61.200.10.0/24", a, &fam, &pl), 0);
	assert_int_equal(an_pfx_add(t, a, fam, pl, 2), 0);
	assert_int_equal(an_pfx_add(t, a, fam, pl, 3), 0); /* a second name, same CIDR */
	assert_int_equal(an_parse_prefix("2001:db8::/32", a, &fam, &pl), 0);
	assert_int_equal(fam, 6);
	assert_int_equal(an_pfx_add(t, a, fam, pl, 4), 0);
	assert_int_equal(an_parse_prefix("61.200.10.99", a, &fam, &pl), 0);
	assert_int_equal(pl, 32);
	assert_true(an_pfx_longest(t, a, 4) == 2 || an_pfx_longest(t, a, 4) == 3);
	uint32_t ids[8];
	assert_int_equal(an_pfx_all(t, a, 4, ids, 8), 3);
	assert_int_equal(an_parse_prefix("61.201.0.1", a, &fam, &pl), 0);
	assert_int_equal(an_pfx_longest(t, a, 4), -1);
	assert_int_equal(an_parse_prefix("2001:db8:1::1", a, &fam, &pl), 0);
	assert_int_equal(an_pfx_longest(t, a, 6), 4);
	assert_int_equal(an_parse_prefix("1.2.3.4/33", a, &fam, &pl), -1);
	assert_int_equal(an_parse_prefix("1.2.3", a, &fam, &pl), -1);
	an_pfx_free(t);

	struct an_names nm = {0};
	for (int i = 0; i < 1000; i++) {
		char b[16];
		snprintf(b, sizeof(b), "n%d", i);
		assert_int_equal(an_names_id(&nm, b), i);
	}
	assert_int_equal(an_names_id(&nm, "n500"), 500);
	assert_int_equal(an_names_find(&nm, "x"), -1);
	an_names_free(&nm);
}

static void test_parse(void **state)
{
	(void)state;
	uint64_t t;
	assert_int_equal(an_parse_time("2024-05-01", &t), 0);
	assert_int_equal(t, D0);
	assert_int_equal(an_parse_time("2024-05-01T09:00:00+09:00", &t), 0);
	assert_int_equal(t, D0);
	assert_int_equal(an_parse_time("2024-05-01T00:00:01.5Z", &t), 0);
	assert_int_equal(t, D0 + 1500000000ull);
	assert_int_equal(an_parse_time("1714521600", &t), 0);
	assert_int_equal(t, D0);
	assert_int_equal(an_parse_time("1714521600.25", &t), 0);
	assert_int_equal(t, D0 + 250000000ull);
	assert_int_equal(an_parse_time("2024-13-01", &t), -1);
	assert_int_equal(an_parse_time("tomorrow", &t), -1);
	assert_int_equal(an_parse_time("2024-05-01T25:00", &t), -1);
	assert_int_equal(an_month_of(D0), (2024 - 1970) * 12 + 4);
	assert_int_equal(an_month_start(an_month_of(D0 + 5 * AN_DAY_NS)), D0);
	char b[32];
	an_fmt_month(an_month_of(D0), b, sizeof(b));
	assert_string_equal(b, "2024-05");
	an_fmt_time(D0, b, sizeof(b));
	assert_string_equal(b, "2024-05-01T00:00:00Z");
	/* the month by arithmetic, against gmtime_r for every day to 2517 */
	for (uint64_t d = 0; d < 200000; d++) {
		uint64_t ns = d * AN_DAY_NS + (d * 7919 % 86400) * AN_NSEC + d % 1000;
		time_t secs = (time_t)(ns / AN_NSEC);
		struct tm tm;
		assert_non_null(gmtime_r(&secs, &tm));
		assert_int_equal(an_month_of(ns), (unsigned)((tm.tm_year - 70) * 12 + tm.tm_mon));
		assert_int_equal(an_month_of(d * AN_DAY_NS + AN_DAY_NS - 1),
				 (unsigned)((tm.tm_year - 70) * 12 + tm.tm_mon));
	}
	int proto, port;
	assert_int_equal(an_parse_portspec("23/tcp", &proto, &port), 0);
	assert_true(proto == 6 && port == 23);
	assert_int_equal(an_parse_portspec("icmp", &proto, &port), 0);
	assert_true(proto == 1 && port == -1);
	assert_int_equal(an_parse_portspec("70000/udp", &proto, &port), -1);
	assert_int_equal(an_parse_portspec("23/sctp", &proto, &port), -1);
}

/* ---- capture days from interval frames ---------------------------------- */

static char dir[64];

static void rec(struct umbra_flow_record *r, const char *dst, uint64_t t, uint32_t packets)
{
	memset(r, 0, sizeof(*r));
	r->family = 4;
	inet_pton(AF_INET, "61.200.10.7", r->src);
	inet_pton(AF_INET, dst, r->dst);
	r->first_ns = r->last_ns = t;
	r->proto = 6;
	r->dport = 23;
	r->packets = packets;
	r->bytes = 40ull * packets;
	r->tags = UMBRA_TAG_SCAN;
	r->end_reason = UMBRA_END_IDLE;
}

static void write_host(const char *name, const struct umbra_flow_record *r, unsigned n,
		       const struct umbra_interval *iv, unsigned niv)
{
	static const char *const pfx[] = {"192.0.2.0/24"};
	struct umbra_dump_writer_conf conf = {
		.size = sizeof(conf), .dir = dir, .sensor_name = name,
		.prefixes = pfx, .nprefixes = 1, .rotate_s = 0, .block_records = 64};
	struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
	assert_non_null(w);
	assert_int_equal(umbra_dump_writer_tick(w, D0), 0);
	assert_int_equal(umbra_dump_writer_add(w, r, n), 0);
	for (unsigned i = 0; i < niv; i++)
		assert_int_equal(umbra_dump_writer_interval(w, &iv[i]), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
}

/* dir: a fresh directory under /tmp (mkdtemp's template) for a test's dumps */
static void dir_make(void)
{
	strcpy(dir, "/tmp/umbra-agg-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void dir_remove(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* the sensors aggregation over dir; free with an_sensorsagg_free, an_names_free */
static struct an_sensorsagg *sensors_of_dir(const struct an_opts *o, int by_month,
					    struct an_names *engines,
					    struct an_sensors_result *res)
{
	struct an_sensors_cfg cfg = {.unit_ns = AN_DAY_NS, .by_month = by_month};
	struct an_sensorsagg *s = an_sensorsagg_new(&cfg, o);
	struct an_consumer c;
	struct an_scan_stats st;
	char *paths[] = {dir};
	assert_non_null(s);
	an_sensorsagg_consumer(s, &c);
	assert_int_equal(an_scan(o, 1, paths, &c, 1, engines, &st), 0);
	assert_int_equal(an_sensorsagg_build(s, o, engines, res), 0);
	return s;
}

static void test_capture_days(void **state)
{
	(void)state;
	dir_make();
	/* host a: records on days 0, 1 and 5; intervals cover days 0-2 and 5,
	 * so day 2 counts though it has no record; days 3 and 4 do not */
	struct umbra_flow_record r[4];
	const uint64_t H = 3600 * AN_NSEC;
	rec(&r[0], "192.0.2.1", D0 + 1 * H, 5);
	rec(&r[1], "192.0.2.1", D0 + AN_DAY_NS + 2 * H, 3);
	rec(&r[2], "192.0.2.2", D0 + AN_DAY_NS + 3 * H, 1);
	rec(&r[3], "192.0.2.1", D0 + 5 * AN_DAY_NS + 1 * H, 2);
	struct umbra_interval iv[2] = {
		{.start_ns = D0, .end_ns = D0 + 2 * AN_DAY_NS + 12 * H, .rx_packets = 9},
		{.start_ns = D0 + 5 * AN_DAY_NS + H, .end_ns = D0 + 5 * AN_DAY_NS + 2 * H,
		 .rx_packets = 2},
	};
	write_host("a", r, 4, iv, 2);
	/* host b: no interval at all, one record on day 3: that day counts */
	rec(&r[0], "192.0.2.9", D0 + 3 * AN_DAY_NS + H, 7);
	write_host("b", r, 1, NULL, 0);

	for (int by_month = 1; by_month >= 0; by_month--) {
		struct an_opts o = {.cmd = "test", .from_ns = 0, .to_ns = UINT64_MAX, .threads = 2};
		struct an_names engines = {0};
		struct an_sensors_result res;
		struct an_sensorsagg *s = sensors_of_dir(&o, by_month, &engines, &res);
		if (by_month) {
			assert_int_equal(res.nrows, 2);
			/* a: 2 sensors x 4 days, 11 packets */
			assert_string_equal(res.rows[0].group, "a");
			assert_int_equal(res.rows[0].sensors, 2);
			assert_int_equal(res.rows[0].units, 8);
			assert_int_equal(res.rows[0].packets, 11);
			assert_true(fabs(res.rows[0].avg - 11.0 / 8) < 1e-9);
			assert_string_equal(res.rows[1].group, "b");
			assert_int_equal(res.rows[1].units, 1);
			assert_int_equal(res.rows[1].packets, 7);
		} else {
			/* per day: a on days 0, 1, 2, 5 (2 sensors each); b on day 3 */
			static const unsigned days[] = {0, 1, 2, 5};
			static const uint64_t pk[] = {5, 4, 0, 2};
			assert_int_equal(res.nrows, 5);
			for (int i = 0; i < 4; i++) {
				assert_string_equal(res.rows[i].group, "a");
				assert_int_equal(res.rows[i].period, D0 / AN_DAY_NS + days[i]);
				assert_int_equal(res.rows[i].units, 2);
				assert_int_equal(res.rows[i].packets, pk[i]);
			}
			assert_int_equal(res.rows[4].period, D0 / AN_DAY_NS + 3);
		}
		an_sensorsagg_free(s, &res);
		an_names_free(&engines);
	}
	dir_remove();
}

/*
 * One block whose records cross a month and day boundary back and forth
 * (a block holds its records by source, then time): each record's month
 * and day are its own, not its neighbour's. Sensor 192.0.2.7 on April
 * 21 and 30 (1 + 4 packets) and May 1 (2 + 8 packets): April 2 units, 5
 * packets; May 1 unit, 10 packets.
 */
static void test_month_boundary(void **state)
{
	(void)state;
	dir_make();
	struct umbra_flow_record r[4];
	rec(&r[0], "192.0.2.7", D0 - AN_NSEC, 1);
	rec(&r[1], "192.0.2.7", D0, 2);
	rec(&r[2], "192.0.2.7", D0 - 9 * AN_DAY_NS - 5, 4); /* April 21, 23:59 */
	rec(&r[3], "192.0.2.7", D0 + AN_NSEC, 8);
	/* other sources, so the block's order is not time order */
	inet_pton(AF_INET, "61.200.10.9", r[1].src);
	inet_pton(AF_INET, "61.200.10.1", r[3].src);
	write_host("m", r, 4, NULL, 0);
	struct an_opts o = {.cmd = "test", .from_ns = 0, .to_ns = UINT64_MAX, .threads = 1};
	struct an_names engines = {0};
	struct an_sensors_result res;
	struct an_sensorsagg *s = sensors_of_dir(&o, 1, &engines, &res);
	assert_int_equal(res.nrows, 2);
	assert_int_equal(res.rows[0].period, an_month_of(D0) - 1);
	assert_int_equal(res.rows[0].units, 2);
	assert_int_equal(res.rows[0].packets, 5);
	assert_int_equal(res.rows[1].period, an_month_of(D0));
	assert_int_equal(res.rows[1].units, 1);
	assert_int_equal(res.rows[1].packets, 10);
	an_sensorsagg_free(s, &res);
	an_names_free(&engines);
	dir_remove();
}

/* ---- top-ports totals: counters past 2^32 -------------------------------- */

/* runs umbra-analyze top-ports with args, its standard output into out */
static void run_top(char **argv, int argc, char *out, size_t len)
{
	char path[96];
	snprintf(path, sizeof(path), "%s/out.csv", dir);
	fflush(stdout);
	int saved = dup(1);
	FILE *f = fopen(path, "w+");
	assert_non_null(f);
	assert_true(saved >= 0 && dup2(fileno(f), 1) >= 0);
	optind = 0;
	assert_int_equal(analyze_top_ports(argc, argv), 0);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	rewind(f);
	size_t n = fread(out, 1, len - 1, f);
	out[n] = 0;
	fclose(f);
	unlink(path);
}

/* top-ports --format csv over dir prints want, with 1 and with 2 threads */
static void top_csv_is(const char *want)
{
	for (int threads = 1; threads <= 2; threads++) {
		char out[512], th[2] = {(char)('0' + threads), 0};
		char *argv[] = {"top-ports", "--format", "csv", "--threads", th, dir, NULL};
		run_top(argv, 6, out, sizeof(out));
		assert_string_equal(out, want);
	}
}

static void test_top_totals_wide(void **state)
{
	(void)state;
	dir_make();
	/*
	 * The overall table adds a block's packets into 32-bit counters and
	 * folds them into 64-bit ones before they could overflow. Host a: one
	 * block of 5 x 4e9 packets (over 2^32 in one block: straight into the
	 * 64-bit counters); hosts c, d, e: 3e9 each, a block each (the second
	 * one's packets no longer fit: fold). 23/tcp: 29e9 packets on 2
	 * sensors; 80/tcp: 7 packets.
	 */
	struct umbra_flow_record r[6];
	for (int i = 0; i < 5; i++)
		rec(&r[i], i % 2 ? "192.0.2.1" : "192.0.2.2", D0 + (uint64_t)i * AN_NSEC,
		    4000000000u);
	rec(&r[5], "192.0.2.1", D0, 7);
	r[5].dport = 80;
	write_host("a", r, 6, NULL, 0);
	for (int h = 0; h < 3; h++) {
		char name[2] = {(char)('c' + h), 0};
		rec(&r[0], "192.0.2.2", D0 + AN_NSEC, 3000000000u);
		write_host(name, r, 1, NULL, 0);
	}
	static const char want[] = "rank,proto,port,packets,avg_per_sensor\n"
				   "1,tcp,23,29000000000,14500000000.000000\n"
				   "2,tcp,80,7,3.500000\n";
	top_csv_is(want);
	dir_remove();
}

/*
 * The overall table counts distinct sensors; a range whose sensors all lie
 * in a /24 that is complete in the set already skips them. Host a: 255
 * records, 192.0.2.0 to .254, in blocks of 64 (the /24 is not complete);
 * b: .10 and .255 (now it is); c: .5, .6, .7 (skipped: nothing new); d:
 * two of 198.51.100.0/24 (one /24, not the complete one); e: 192.0.3.1
 * and 192.0.2.9 (two /24s, their AND in the complete one). 259 sensors,
 * 264 packets, all 23/tcp.
 */
static void test_top_totals_sensors(void **state)
{
	(void)state;
	dir_make();
	struct umbra_flow_record r[255];
	char a[32];
	for (int i = 0; i < 255; i++) {
		snprintf(a, sizeof(a), "192.0.2.%d", i);
		rec(&r[i], a, D0 + (uint64_t)i, 1);
	}
	write_host("a", r, 255, NULL, 0);
	static const char *const hosts[][3] = {
		{"192.0.2.10", "192.0.2.255", NULL},
		{"192.0.2.5", "192.0.2.6", "192.0.2.7"},
		{"198.51.100.7", "198.51.100.8", NULL},
		{"192.0.3.1", "192.0.2.9", NULL},
	};
	for (int h = 0; h < 4; h++) {
		char name[2] = {(char)('b' + h), 0};
		unsigned n = 0;
		for (; n < 3 && hosts[h][n]; n++)
			rec(&r[n], hosts[h][n], D0 + n, 1);
		write_host(name, r, n, NULL, 0);
	}
	static const char want[] = "rank,proto,port,packets,avg_per_sensor\n"
				   "1,tcp,23,264,1.019305\n";
	top_csv_is(want);
	dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_map64),
		cmocka_unit_test(test_hll),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_capture_days),
		cmocka_unit_test(test_month_boundary),
		cmocka_unit_test(test_top_totals_wide),
		cmocka_unit_test(test_top_totals_sensors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
