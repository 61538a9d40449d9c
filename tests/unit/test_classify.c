/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tag rules (engine/classify-tags.c through plugins/builtin-tags.c and the
 * pipeline): crafted packets, one rule at a time, expected tags written
 * from the packet's construction (docs/CLASSIFY.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "classify-harness.h"
#include "classify-tags.h"

#define T(b) UMBRA_TAG(UMBRA_TAG_BIT_##b)

static struct umbra_classify *
registry(void)
{
	static struct umbra_darknet dn;
	struct umbra_classify_conf cc;
	char err[512];
	struct umbra_classify *cl;

	umbra_darknet_init(&dn);
	umbra_darknet_add(&dn, "192.0.2.0/24");
	umbra_darknet_add(&dn, "2001:db8:dead::/64");
	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.quiet = 1;
	cc.rules_path = UMBRA_TEST_SRC "/rules/default.rules";
	cl = umbra_classify_create(&cc, err, sizeof(err));
	if (cl == NULL)
		fail_msg("registry: %s", err);
	return cl;
}

/* Send one packet as its own flow (sport = key) and return its tags. */
static uint32_t
tags_of(const struct tspec *s, int classify)
{
	struct umbra_classify *cl = classify ? registry() : NULL;
	struct tharness *h = calloc(1, sizeof(*h));
	const struct umbra_flow_record *r;
	uint32_t tags;

	assert_int_equal(t_harness_init(h, cl), 0);
	t_send_spec(h, s);
	t_finish(h);
	assert_int_equal(h->nrec, 1);
	r = &h->rec[0];
	tags = r->tags;
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
	return tags;
}

static void
test_class_tags(void **state)
{
	struct tspec s;
	static const uint8_t dns_resp[12] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1 };
	static const uint8_t dns_query[12] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0 };

	(void)state;
	t_syn_defaults(&s);
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	s.flags = 0x12; /* SYN-ACK */
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.flags = 0x04; /* RST */
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.flags = 0x14; /* RST-ACK */
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.flags = 0x10; /* bare ACK */
	assert_int_equal(tags_of(&s, 1), T(OTHER));
	s.proto = 17;
	s.sport = 53;
	s.dport = 40000;
	s.payload = dns_resp;
	s.plen = sizeof(dns_resp);
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.payload = dns_query; /* QR clear: a query from port 53 */
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	s.plen = 0;
	s.payload = NULL;
	s.proto = 1;
	s.sport = 8; /* echo request */
	s.dport = 0;
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	s.sport = 0; /* echo reply */
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.sport = 3; /* unreachable */
	s.dport = 1;
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.sport = 11; /* time exceeded */
	s.dport = 0;
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	s.sport = 9; /* router advertisement: neither */
	assert_int_equal(tags_of(&s, 1), T(OTHER));
	/* a later IPv4 fragment: no transport header */
	t_syn_defaults(&s);
	s.frag_off = 100;
	assert_int_equal(tags_of(&s, 1), T(OTHER) | T(FRAGMENT));
}

static void
test_tool_tags(void **state)
{
	static const uint8_t mss[4] = { 2, 4, 0x05, 0xb4 };
	struct tspec s;

	(void)state;
	/* ZMap: IP ID 54321 (window and options do not matter) */
	t_syn_defaults(&s);
	s.ipid = 54321;
	s.win = 1024;
	s.opts = mss;
	s.olen = 4;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(ZMAP));
	/* newer ZMap: random IP ID, window 65535 and no TCP options */
	t_syn_defaults(&s);
	s.win = 65535;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(ZMAP));
	s.opts = mss; /* with options it is not */
	s.olen = 4;
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	/* Masscan: IP ID = (dst ^ dport ^ seq) & 0xffff; dst 192.0.2.10 */
	t_syn_defaults(&s);
	s.seq = 0xdeadbeef;
	s.dport = 8728;
	s.ipid = (uint16_t)((0xc000020au ^ 8728u ^ 0xdeadbeefu) & 0xffff);
	s.win = 1024;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(MASSCAN));
	s.ipid ^= 1;
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	/* the same relation on a RST is not a Masscan probe */
	s.ipid ^= 1;
	s.flags = 0x04;
	assert_int_equal(tags_of(&s, 1), T(BACKSCATTER));
	/* Mirai: sequence number = destination address */
	t_syn_defaults(&s);
	s.seq = 0xc000020a;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(MIRAI));
	/* large scanner: initial TTL 255 (TTL > 128) and no TCP options */
	t_syn_defaults(&s);
	s.ttl = 243;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(LARGE_SCAN));
	s.ttl = 128;
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	s.ttl = 243;
	s.opts = mss;
	s.olen = 4;
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	/* ZMap ICMP probe: IP ID 54321 on an echo request */
	t_syn_defaults(&s);
	s.proto = 1;
	s.sport = 8;
	s.dport = 0;
	s.ipid = 54321;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(ZMAP));
	/* IPv6 ZMap (window rule) */
	t_syn_defaults(&s);
	s.v6 = 1;
	memcpy(s.src, (const uint8_t[16]){ 0x2a, 0x00, 0x14, 0x50, [15] = 7 }, 16);
	memcpy(s.dst, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad, [15] = 1 }, 16);
	s.win = 65535;
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(ZMAP));
	/* classification off: the class only */
	t_syn_defaults(&s);
	s.ipid = 54321;
	s.seq = 0xc000020a;
	assert_int_equal(tags_of(&s, 0), T(SCAN));
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(ZMAP) | T(MIRAI));
}

static void
test_source_tags(void **state)
{
	struct tspec s;

	(void)state;
	t_syn_defaults(&s);
	t_ip4(s.src, 10, 1, 2, 3);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON));
	t_ip4(s.src, 100, 64, 0, 1);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON));
	t_ip4(s.src, 100, 128, 0, 1); /* just outside 100.64/10 */
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	t_ip4(s.src, 198, 18, 9, 9);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON));
	t_ip4(s.src, 8, 8, 8, 8);
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	/* spoofed: multicast and loopback sources are bogons too */
	t_ip4(s.src, 224, 0, 0, 5);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	t_ip4(s.src, 127, 0, 0, 1);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	/* src == dst (192.0.2.10 is TEST-NET-1: also a bogon) */
	t_ip4(s.src, 192, 0, 2, 10);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	/* a source inside the monitored darknet */
	t_ip4(s.src, 192, 0, 2, 77);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	/* IPv6 */
	t_syn_defaults(&s);
	s.v6 = 1;
	memcpy(s.dst, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad, [15] = 1 }, 16);
	memcpy(s.src, (const uint8_t[16]){ 0x2a, 0x00, 0x14, 0x50, [15] = 7 }, 16);
	assert_int_equal(tags_of(&s, 1), T(SCAN));
	memcpy(s.src, (const uint8_t[16]){ 0xfe, 0x80, [15] = 1 }, 16);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON));
	memcpy(s.src, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0, 0, [15] = 1 }, 16);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON));
	memcpy(s.src, (const uint8_t[16]){ 0xff, 0x02, [15] = 1 }, 16);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	memcpy(s.src, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0xde, 0xad, [15] = 9 }, 16);
	assert_int_equal(tags_of(&s, 1), T(SCAN) | T(BOGON) | T(SPOOFED));
	/* address helpers directly */
	assert_true(umbra_addr_bogon(4, (const uint8_t[4]){ 255, 255, 255, 255 }));
	assert_true(umbra_addr_bogon(4, (const uint8_t[4]){ 172, 31, 0, 1 }));
	assert_false(umbra_addr_bogon(4, (const uint8_t[4]){ 172, 32, 0, 1 }));
	assert_false(umbra_addr_bogon(4, (const uint8_t[4]){ 192, 0, 3, 1 }));
}

/* The tag is decided on the first packet: later packets do not change it. */
static void
test_first_packet_stable(void **state)
{
	struct umbra_classify *cl = registry();
	struct tharness *h = calloc(1, sizeof(*h));
	const struct umbra_flow_record *r;
	struct tspec s;

	(void)state;
	assert_int_equal(t_harness_init(h, cl), 0);
	/* flow A: ordinary SYN, then a retransmission with IP ID 54321 */
	t_syn_defaults(&s);
	s.sport = 1001;
	t_send_spec(h, &s);
	s.ipid = 54321;
	t_send_spec(h, &s);
	/* flow B: ZMap SYN, then a packet that would not be */
	t_syn_defaults(&s);
	s.sport = 1002;
	s.ipid = 54321;
	t_send_spec(h, &s);
	s.ipid = 7;
	s.flags = 0x04;
	t_send_spec(h, &s);
	/* flow C: a RST first (backscatter), then a SYN: class stays */
	t_syn_defaults(&s);
	s.sport = 1003;
	s.flags = 0x04;
	t_send_spec(h, &s);
	s.flags = 0x02;
	s.seq = 0xc000020a;
	t_send_spec(h, &s);
	t_finish(h);
	assert_int_equal(h->nrec, 3);
	r = t_find(h, 1001, 23);
	assert_non_null(r);
	assert_int_equal(r->tags, T(SCAN));
	assert_int_equal(r->packets, 2);
	r = t_find(h, 1002, 23);
	assert_non_null(r);
	assert_int_equal(r->tags, T(SCAN) | T(ZMAP));
	r = t_find(h, 1003, 23);
	assert_non_null(r);
	assert_int_equal(r->tags, T(BACKSCATTER));
	/* per-lcore tag counters: exported flows per tag */
	assert_int_equal(h->w->cnt->tag_flows[UMBRA_TAG_BIT_SCAN], 2);
	assert_int_equal(h->w->cnt->tag_flows[UMBRA_TAG_BIT_ZMAP], 1);
	assert_int_equal(h->w->cnt->tag_flows[UMBRA_TAG_BIT_BACKSCATTER], 1);
	assert_int_equal(h->w->cnt->tag_flows[UMBRA_TAG_BIT_MIRAI], 0);
	/* the worker-private state byte never leaves the worker */
	assert_int_equal(h->rec[0].reserved[0] | h->rec[1].reserved[0] | h->rec[2].reserved[0], 0);
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_tags),
		cmocka_unit_test(test_tool_tags),
		cmocka_unit_test(test_source_tags),
		cmocka_unit_test(test_first_packet_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
