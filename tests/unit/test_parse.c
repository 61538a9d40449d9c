/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for engine/parse-pkt.c. Frames are built by hand with the
 * small writers below; every header type, link type and malformed reason
 * has a test, and every valid frame is also cut at every length and
 * mutated at random, with each result checked against the buffer bounds.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "parse-pkt.h"

#define ET_IPV4 0x0800
#define ET_IPV6 0x86dd
#define ET_ARP 0x0806
#define ET_VLAN 0x8100

static const uint8_t SRC4[4] = {192, 0, 2, 1};
static const uint8_t DST4[4] = {198, 51, 100, 7};
static const uint8_t SRC6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t DST6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x42};

/* ---- frame writers: each writes at p and returns the bytes written ---- */

static void w16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void w32(uint8_t *p, uint32_t v)
{
	w16(p, v >> 16);
	w16(p + 2, v & 0xffff);
}

static size_t eth(uint8_t *p, unsigned type)
{
	memset(p, 0xaa, 6);
	memset(p + 6, 0xbb, 6);
	w16(p + 12, type);
	return 14;
}

/* Rewrites the ethertype at p-2 into a tag; returns 4. */
static size_t tag(uint8_t *p, unsigned tpid, unsigned tci, unsigned inner)
{
	w16(p - 2, tpid);
	w16(p, tci);
	w16(p + 2, inner);
	return 4;
}

/* IPv4 header with optlen bytes of options (NOPs) before l4len bytes. */
static size_t ip4(uint8_t *p, unsigned proto, unsigned optlen,
		  unsigned l4len, unsigned frag)
{
	unsigned hl = 20 + optlen;

	p[0] = (uint8_t)(0x40 | hl / 4);
	p[1] = 0x10;
	w16(p + 2, hl + l4len);
	w16(p + 4, 0x1234);
	w16(p + 6, frag);
	p[8] = 64;
	p[9] = (uint8_t)proto;
	w16(p + 10, 0);
	memcpy(p + 12, SRC4, 4);
	memcpy(p + 16, DST4, 4);
	memset(p + 20, 1, optlen);
	return hl;
}

static size_t ip6(uint8_t *p, unsigned nh, unsigned plen)
{
	w32(p, 6u << 28 | 0x2au << 20 | 0x12345);
	w16(p + 4, plen);
	p[6] = (uint8_t)nh;
	p[7] = 57;
	memcpy(p + 8, SRC6, 16);
	memcpy(p + 24, DST6, 16);
	return 40;
}

/* Hop-by-hop, routing or destination options of len bytes (8k). */
static size_t ext6(uint8_t *p, unsigned nh, unsigned len)
{
	memset(p, 0, len);
	p[0] = (uint8_t)nh;
	p[1] = (uint8_t)(len / 8 - 1);
	return len;
}

static size_t frag6(uint8_t *p, unsigned nh, unsigned off8, int more,
		    uint32_t id)
{
	p[0] = (uint8_t)nh;
	p[1] = 0;
	w16(p + 2, off8 << 3 | (more ? 1 : 0));
	w32(p + 4, id);
	return 8;
}

static const uint8_t SYN_OPTS[20] = {
	2, 4, 0x05, 0xb4,       /* MSS 1460 */
	4, 2,                   /* SACK permitted */
	8, 10, 0, 0, 0, 1, 0, 0, 0, 0, /* timestamps */
	1,                      /* NOP */
	3, 3, 7,                /* window scale 7 */
};

static size_t tcp(uint8_t *p, unsigned sport, unsigned dport, uint32_t seq,
		  unsigned flags, unsigned optlen, unsigned plen)
{
	w16(p, sport);
	w16(p + 2, dport);
	w32(p + 4, seq);
	w32(p + 8, 0x01020304);
	p[12] = (uint8_t)((20 + optlen) / 4 << 4);
	p[13] = (uint8_t)flags;
	w16(p + 14, 64240);
	w32(p + 16, 0);
	for (unsigned i = 0; i < optlen; i++)
		p[20 + i] = i < sizeof(SYN_OPTS) ? SYN_OPTS[i] : 1;
	memset(p + 20 + optlen, 'T', plen);
	return 20 + optlen + plen;
}

static size_t udp(uint8_t *p, unsigned sport, unsigned dport, unsigned plen)
{
	w16(p, sport);
	w16(p + 2, dport);
	w16(p + 4, 8 + plen);
	w16(p + 6, 0);
	memset(p + 8, 'U', plen);
	return 8 + plen;
}

static size_t icmp(uint8_t *p, unsigned type, unsigned code, unsigned plen)
{
	p[0] = (uint8_t)type;
	p[1] = (uint8_t)code;
	w16(p + 2, 0);
	w32(p + 4, 0x00010002);
	memset(p + 8, 'I', plen);
	return 8 + plen;
}

/* Ethernet + IPv4 + TCP SYN with options. */
static size_t f_eth4_syn(uint8_t *f)
{
	size_t n = eth(f, ET_IPV4), l4 = tcp(f + n + 20, 40000, 23, 0xc6336407,
					    0x02, 20, 0);

	n += ip4(f + n, 6, 0, (unsigned)l4, 0x4000);
	return n + l4;
}

/* IPv6 with hop-by-hop, routing, destination options, then UDP. */
static size_t f_eth6_ext_udp(uint8_t *f)
{
	size_t n = eth(f, ET_IPV6), h = n + 40, e = 0, l4;

	e += ext6(f + h + e, 43, 8);
	e += ext6(f + h + e, 60, 24);
	e += ext6(f + h + e, 17, 16);
	l4 = udp(f + h + e, 5353, 53, 12);
	ip6(f + n, 0, (unsigned)(e + l4));
	return h + e + l4;
}

/* ---- checks ---- */

static int in(const uint8_t *buf, size_t len, const uint8_t *p, size_t n)
{
	return p >= buf && n <= len && (size_t)(p - buf) <= len - n;
}

/* What must hold for any input, valid or not. */
static void check_invariants(const uint8_t *buf, size_t len, int rc,
			     const struct umbra_pkt *k)
{
	assert_true(rc == UMBRA_PARSE_OK || rc == UMBRA_PARSE_NOT_IP ||
		    rc == UMBRA_PARSE_MALFORMED);
	if (rc == UMBRA_PARSE_MALFORMED) {
		assert_true(k->malformed > UMBRA_MAL_NONE &&
			    k->malformed < UMBRA_MAL_MAX);
		assert_non_null(umbra_malformed_name(k->malformed));
		return;
	}
	assert_int_equal(k->malformed, UMBRA_MAL_NONE);
	assert_true(k->nvlan <= UMBRA_VLAN_MAX);
	if (rc != UMBRA_PARSE_OK)
		return;

	size_t alen = k->family == 4 ? 4 : 16;
	size_t iph = k->family == 4 ? 20 : 40;

	assert_true(k->family == 4 || k->family == 6);
	assert_true(in(buf, len, k->l3, iph));
	assert_true(in(buf, len, k->l3, k->ip_bytes));
	/* every other pointer lies inside the IP packet */
	const uint8_t *ip = k->l3;
	size_t ipn = k->ip_bytes;

	assert_true(in(ip, ipn, k->src, alen));
	assert_true(in(ip, ipn, k->dst, alen));
	if (k->frag == UMBRA_FRAG_LATER) {
		assert_null(k->l4);
		assert_int_equal(k->sport, 0);
		assert_int_equal(k->dport, 0);
	}
	if (k->l4) {
		size_t min = k->proto == 6 ? 20 : k->proto == 17 ? 8
			   : k->proto == 1 || k->proto == 58 ? 4 : 1;

		assert_true(k->l4 >= ip + iph);
		assert_true(in(ip, ipn, k->l4, min));
	} else {
		assert_int_equal(k->sport, 0);
		assert_int_equal(k->dport, 0);
		assert_null(k->payload);
	}
	if (k->payload)
		assert_true(k->payload_len > 0 &&
			    in(ip, ipn, k->payload, k->payload_len));
	else
		assert_int_equal(k->payload_len, 0);
	if (k->tcp_opts)
		assert_true(k->tcp_opts_len > 0 &&
			    in(ip, ipn, k->tcp_opts, k->tcp_opts_len));
	else
		assert_int_equal(k->tcp_opts_len, 0);
}

/* Parse a copy held in a buffer of exactly len bytes (ASan sees overreads). */
static int parse_exact(const uint8_t *f, size_t len, unsigned link,
		       struct umbra_pkt *k)
{
	uint8_t *b = malloc(len ? len : 1);
	int rc;

	assert_non_null(b);
	memcpy(b, f, len);
	rc = umbra_parse(b, (uint32_t)len, link, k);
	check_invariants(b, len, rc, k);
	/* rebase pointers so callers can compare against f */
#define REBASE(x) if (k->x) k->x = f + (k->x - b)
	REBASE(l3);
	REBASE(l4);
	REBASE(payload);
	REBASE(src);
	REBASE(dst);
	REBASE(tcp_opts);
#undef REBASE
	free(b);
	return rc;
}

static int parse(const uint8_t *f, size_t len, unsigned link,
		 struct umbra_pkt *k)
{
	return parse_exact(f, len, link, k);
}

static void expect_mal(const uint8_t *f, size_t len, unsigned link,
		       enum umbra_malformed why)
{
	struct umbra_pkt k;

	assert_int_equal(parse(f, len, link, &k), UMBRA_PARSE_MALFORMED);
	assert_int_equal(k.malformed, why);
}

/* ---- Ethernet / IPv4 ---- */

static void test_eth_ipv4_tcp_syn(void **state)
{
	uint8_t f[128];
	size_t n = f_eth4_syn(f);
	struct umbra_pkt k;

	(void)state;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 4);
	assert_ptr_equal(k.l3, f + 14);
	assert_ptr_equal(k.l4, f + 34);
	assert_memory_equal(k.src, SRC4, 4);
	assert_memory_equal(k.dst, DST4, 4);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.ttl, 64);
	assert_int_equal(k.tos, 0x10);
	assert_int_equal(k.ip_id, 0x1234);
	assert_int_equal(k.ip_flags, 0x2); /* DF */
	assert_int_equal(k.ip_opts_len, 0);
	assert_int_equal(k.ip_bytes, 60);
	assert_int_equal(k.frag, UMBRA_FRAG_NONE);
	assert_int_equal(k.sport, 40000);
	assert_int_equal(k.dport, 23);
	assert_int_equal(k.tcp_seq, 0xc6336407);
	assert_int_equal(k.tcp_ack, 0x01020304);
	assert_int_equal(k.tcp_flags, 0x02);
	assert_int_equal(k.tcp_window, 64240);
	assert_ptr_equal(k.tcp_opts, f + 54);
	assert_int_equal(k.tcp_opts_len, 20);
	assert_memory_equal(k.tcp_opts, SYN_OPTS, 20);
	assert_null(k.payload);
	assert_int_equal(k.payload_len, 0);
	assert_int_equal(k.nvlan, 0);
	assert_int_equal(k.malformed, UMBRA_MAL_NONE);
}

static void test_tcp_payload_no_opts(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4 = tcp(f + 34, 80, 40000, 7, 0x18, 0, 11);
	struct umbra_pkt k;

	(void)state;
	n += ip4(f + n, 6, 0, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_null(k.tcp_opts);
	assert_int_equal(k.tcp_opts_len, 0);
	assert_int_equal(k.tcp_flags, 0x18);
	assert_int_equal(k.ip_flags, 0);
	assert_ptr_equal(k.payload, f + 54);
	assert_int_equal(k.payload_len, 11);
}

static void test_ipv4_options(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4 = udp(f + 14 + 32, 1234, 161, 4);
	struct umbra_pkt k;

	(void)state;
	n += ip4(f + n, 17, 12, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.ip_opts_len, 12);
	assert_ptr_equal(k.l4, f + 46);
	assert_int_equal(k.sport, 1234);
	assert_int_equal(k.dport, 161);
	assert_ptr_equal(k.payload, f + 54);
	assert_int_equal(k.payload_len, 4);
	assert_int_equal(k.ip_bytes, 32 + 12);
}

static void test_vlan_8021q(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4;
	struct umbra_pkt k;

	(void)state;
	n += tag(f + n, ET_VLAN, 0xe000 | 100, ET_IPV4); /* PCP 7 */
	l4 = tcp(f + n + 20, 1, 2, 3, 0x02, 0, 0);
	n += ip4(f + n, 6, 0, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.nvlan, 1);
	assert_int_equal(k.vlan[0], 100);
	assert_ptr_equal(k.l3, f + 18);
	assert_int_equal(k.dport, 2);
}

static void test_vlan_qinq(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4;
	struct umbra_pkt k;

	(void)state;
	n += tag(f + n, 0x88a8, 10, ET_IPV4);
	n += tag(f + n, ET_VLAN, 0x1000 | 20, ET_IPV6); /* DEI set */
	l4 = udp(f + n + 40, 1, 2, 0);
	n += ip6(f + n, 17, (unsigned)l4);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.nvlan, 2);
	assert_int_equal(k.vlan[0], 10);
	assert_int_equal(k.vlan[1], 20);
	assert_int_equal(k.family, 6);
	assert_ptr_equal(k.l3, f + 22);

	/* parsing an untagged frame into the same struct forgets the tags */
	n = f_eth4_syn(f);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.nvlan, 0);
}

static void test_vlan_depth(void **state)
{
	static const unsigned tpid[] = {0x88a8, 0x9100, 0x8100, 0x8100, 0x8100};
	uint8_t f[128];
	size_t n, l4;
	struct umbra_pkt k;

	(void)state;
	for (unsigned depth = 3; depth <= 5; depth++) {
		n = eth(f, ET_IPV4);
		for (unsigned i = 0; i < depth; i++)
			n += tag(f + n, tpid[i], 1 + i, ET_IPV4);
		l4 = udp(f + n + 20, 1, 2, 0);
		n += ip4(f + n, 17, 0, (unsigned)l4, 0);
		n += l4;
		if (depth <= UMBRA_VLAN_MAX) {
			assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k),
					 UMBRA_PARSE_OK);
			assert_int_equal(k.nvlan, depth);
			for (unsigned i = 0; i < depth; i++)
				assert_int_equal(k.vlan[i], 1 + i);
		} else {
			expect_mal(f, n, UMBRA_LINK_ETHERNET,
				   UMBRA_MAL_VLAN_DEPTH);
		}
	}
}

static void test_not_ip(void **state)
{
	uint8_t f[64] = {0};
	struct umbra_pkt k;

	(void)state;
	eth(f, ET_ARP);
	assert_int_equal(parse(f, 42, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_NOT_IP);
	eth(f, 0x88cc); /* LLDP */
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_NOT_IP);
	eth(f, 0x0026); /* 802.3 length field: STP over LLC */
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_NOT_IP);
	eth(f, ET_IPV4);
	tag(f + 14, ET_VLAN, 5, ET_ARP);
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_NOT_IP);
	assert_int_equal(k.nvlan, 1);
	assert_int_equal(k.vlan[0], 5);
	/* exactly an Ethernet header */
	eth(f, ET_ARP);
	assert_int_equal(parse(f, 14, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_NOT_IP);
}

static void test_udp_payload_padding(void **state)
{
	uint8_t f[64];
	size_t n = eth(f, ET_IPV4), l4 = udp(f + 34, 51413, 53, 5);
	struct umbra_pkt k;

	(void)state;
	n += ip4(f + n, 17, 0, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(n, 47);
	memset(f + n, 0, 60 - n); /* Ethernet minimum-size padding */
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.ip_bytes, 33);
	assert_int_equal(k.sport, 51413);
	assert_int_equal(k.dport, 53);
	assert_ptr_equal(k.payload, f + 42);
	assert_int_equal(k.payload_len, 5);

	/* UDP length shorter than the IP payload: the UDP length wins */
	w16(f + 38, 10);
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.payload_len, 2);
	/* exactly 8: no payload */
	w16(f + 38, 8);
	assert_int_equal(parse(f, 60, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_null(k.payload);
	assert_int_equal(k.payload_len, 0);
}

static void test_icmp_echo(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4 = icmp(f + 34, 8, 0, 56);
	struct umbra_pkt k;

	(void)state;
	n += ip4(f + n, 1, 0, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 1);
	assert_int_equal(k.sport, 8); /* type */
	assert_int_equal(k.dport, 0); /* code */
	assert_ptr_equal(k.l4, f + 34);
	assert_ptr_equal(k.payload, f + 42);
	assert_int_equal(k.payload_len, 56);

	/* only 6 bytes of ICMP: payload starts after the 4-byte header */
	ip4(f + 14, 1, 0, 6, 0);
	assert_int_equal(parse(f, 40, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_ptr_equal(k.payload, f + 38);
	assert_int_equal(k.payload_len, 2);
	/* exactly 4 and exactly 8: no payload */
	ip4(f + 14, 1, 0, 4, 0);
	assert_int_equal(parse(f, 38, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.sport, 8);
	assert_null(k.payload);
	ip4(f + 14, 1, 0, 8, 0);
	assert_int_equal(parse(f, 42, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_null(k.payload);
}

static void test_icmp_error(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4;
	struct umbra_pkt k;

	(void)state;
	/* port unreachable quoting an IPv4 header and 8 bytes of UDP */
	l4 = icmp(f + 34, 3, 3, 0);
	ip4(f + 42, 17, 0, 8, 0);
	udp(f + 62, 53, 40000, 0);
	l4 += 28;
	n += ip4(f + n, 1, 0, (unsigned)l4, 0);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.sport, 3);
	assert_int_equal(k.dport, 3);
	assert_ptr_equal(k.payload, f + 42);
	assert_int_equal(k.payload_len, 28);
	assert_int_equal(k.payload[0], 0x45);
}

static void test_ipv4_fragments(void **state)
{
	uint8_t f[256];
	size_t n = eth(f, ET_IPV4), l4 = tcp(f + 34, 4444, 445, 9, 0x02, 0, 40);
	struct umbra_pkt k;

	(void)state;
	/* first: offset 0, MF: ports parsed */
	n += ip4(f + n, 6, 0, (unsigned)l4, 0x2000);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_FIRST);
	assert_int_equal(k.ip_flags, 0x1);
	assert_int_equal(k.sport, 4444);
	assert_int_equal(k.dport, 445);
	assert_non_null(k.l4);

	/* later: offset 185 (1480 bytes), MF or not: no transport */
	for (unsigned mf = 0; mf <= 1; mf++) {
		ip4(f + 14, 6, 0, (unsigned)l4, (mf ? 0x2000 : 0) | 185);
		assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k),
				 UMBRA_PARSE_OK);
		assert_int_equal(k.frag, UMBRA_FRAG_LATER);
		assert_int_equal(k.proto, 6);
		assert_null(k.l4);
		assert_null(k.payload);
		assert_int_equal(k.sport, 0);
		assert_int_equal(k.dport, 0);
		assert_int_equal(k.tcp_seq, 0);
		assert_int_equal(k.ip_bytes, 20 + l4);
	}

	/* a high offset whose data still ends below 65535 */
	ip4(f + 14, 6, 0, 8, 8190);
	assert_int_equal(parse(f, 42, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_LATER);
}

static void test_first_fragment_short_transport(void **state)
{
	static const unsigned protos[] = {6, 17, 1};
	uint8_t f[128];
	struct umbra_pkt k;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		unsigned short_len = protos[i] == 6 ? 16 : protos[i] == 17 ? 4 : 2;

		memset(f, 0x11, sizeof(f));
		eth(f, ET_IPV4);
		ip4(f + 14, protos[i], 0, short_len, 0x2000);
		assert_int_equal(parse(f, 34 + short_len, UMBRA_LINK_ETHERNET,
				       &k), UMBRA_PARSE_OK);
		assert_int_equal(k.frag, UMBRA_FRAG_FIRST);
		assert_null(k.l4);
		assert_int_equal(k.sport, 0);
		assert_int_equal(k.dport, 0);

		/* the same bytes without MF are malformed */
		ip4(f + 14, protos[i], 0, short_len, 0);
		expect_mal(f, 34 + short_len, UMBRA_LINK_ETHERNET,
			   protos[i] == 6	 ? UMBRA_MAL_TCP_TRUNC
			   : protos[i] == 17 ? UMBRA_MAL_UDP_TRUNC
					     : UMBRA_MAL_ICMP_TRUNC);
	}

	/* TCP options cut by the fragment boundary */
	tcp(f + 34, 1, 2, 3, 0x02, 20, 0);
	ip4(f + 14, 6, 0, 24, 0x2000);
	assert_int_equal(parse(f, 58, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_null(k.l4);
	ip4(f + 14, 6, 0, 24, 0);
	expect_mal(f, 58, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_DOFF);

	/* a first UDP fragment: the UDP length covers the whole datagram */
	udp(f + 34, 500, 500, 16);
	w16(f + 38, 1008);
	ip4(f + 14, 17, 0, 24, 0x2000);
	assert_int_equal(parse(f, 58, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.sport, 500);
	assert_int_equal(k.payload_len, 16);
	ip4(f + 14, 17, 0, 24, 0);
	expect_mal(f, 58, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_LEN);
}

static void test_other_protocols(void **state)
{
	uint8_t f[128] = {0};
	size_t n;
	struct umbra_pkt k;

	(void)state;
	/* GRE carrying something */
	n = eth(f, ET_IPV4);
	n += ip4(f + n, 47, 0, 24, 0);
	n += 24;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 47);
	assert_ptr_equal(k.l4, f + 34);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_null(k.payload);

	/* no bytes after the IP header: l4 NULL */
	ip4(f + 14, 132, 0, 0, 0);
	assert_int_equal(parse(f, 34, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 132);
	assert_null(k.l4);

	/* IPv6 ESP and IPv6 "no next header" */
	n = eth(f, ET_IPV6);
	n += ip6(f + n, 50, 16);
	n += 16;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 50);
	assert_ptr_equal(k.l4, f + 54);
	ip6(f + 14, 59, 0);
	assert_int_equal(parse(f, 54, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 59);
	assert_null(k.l4);
	assert_int_equal(k.ip_bytes, 40);
}

/* ---- IPv6 ---- */

static void test_ipv6_tcp(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV6), l4 = tcp(f + 54, 50000, 22, 77, 0x12, 4, 3);
	struct umbra_pkt k;

	(void)state;
	n += ip6(f + n, 6, (unsigned)l4);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 6);
	assert_memory_equal(k.src, SRC6, 16);
	assert_memory_equal(k.dst, DST6, 16);
	assert_ptr_equal(k.src, f + 22);
	assert_int_equal(k.tos, 0x2a);
	assert_int_equal(k.ttl, 57);
	assert_int_equal(k.proto, 6);
	assert_int_equal(k.ip_bytes, 40 + l4);
	assert_int_equal(k.ip_opts_len, 0);
	assert_int_equal(k.ip_id, 0);
	assert_int_equal(k.frag, UMBRA_FRAG_NONE);
	assert_int_equal(k.sport, 50000);
	assert_int_equal(k.dport, 22);
	assert_int_equal(k.tcp_flags, 0x12);
	assert_int_equal(k.tcp_opts_len, 4);
	assert_int_equal(k.payload_len, 3);
	assert_ptr_equal(k.payload, f + n - 3);
}

static void test_ipv6_ext_chain(void **state)
{
	uint8_t f[256];
	size_t n = f_eth6_ext_udp(f);
	struct umbra_pkt k;

	(void)state;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.ip_opts_len, 48);
	assert_ptr_equal(k.l4, f + 14 + 40 + 48);
	assert_int_equal(k.sport, 5353);
	assert_int_equal(k.dport, 53);
	assert_int_equal(k.payload_len, 12);
	assert_int_equal(k.ip_bytes, 40 + 48 + 20);
}

static void test_ipv6_ah(void **state)
{
	uint8_t f[256];
	size_t n = eth(f, ET_IPV6), l4;
	struct umbra_pkt k;

	(void)state;
	memset(f + 54, 0, 24);
	f[54] = 6;
	f[55] = 4; /* (4 + 2) * 4 = 24 bytes */
	l4 = tcp(f + 78, 1, 443, 0, 0x04, 0, 0);
	n += ip6(f + n, 51, (unsigned)(24 + l4));
	n += 24 + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 6);
	assert_ptr_equal(k.l4, f + 78);
	assert_int_equal(k.ip_opts_len, 24);
	assert_int_equal(k.dport, 443);
	assert_int_equal(k.tcp_flags, 0x04);
}

static void test_ipv6_ext_saturates(void **state)
{
	uint8_t f[2048];
	size_t n = eth(f, ET_IPV6), h = 54, e = 0, l4;
	struct umbra_pkt k;

	(void)state;
	e += ext6(f + h, 60, 256);   /* hop-by-hop, 256 bytes */
	e += ext6(f + h + e, 17, 64); /* destination options */
	l4 = udp(f + h + e, 7, 9, 0);
	n += ip6(f + n, 0, (unsigned)(e + l4));
	n += e + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.ip_opts_len, 255);
	assert_int_equal(k.dport, 9);
}

static void test_ipv6_fragments(void **state)
{
	uint8_t f[256];
	size_t n = eth(f, ET_IPV6), l4;
	struct umbra_pkt k;

	(void)state;
	/* first fragment: UDP header present, length covers all fragments */
	frag6(f + 54, 17, 0, 1, 0xdeadbeef);
	l4 = udp(f + 62, 4500, 500, 32);
	w16(f + 62 + 4, 3000);
	n += ip6(f + n, 44, (unsigned)(8 + l4));
	n += 8 + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_FIRST);
	assert_int_equal(k.ip_id, 0xbeef);
	assert_int_equal(k.proto, 17);
	assert_int_equal(k.sport, 4500);
	assert_int_equal(k.dport, 500);
	assert_int_equal(k.ip_opts_len, 8);
	assert_int_equal(k.payload_len, 32);

	/* later fragment: proto from the fragment header, no ports */
	frag6(f + 54, 6, 181, 1, 0xdeadbeef);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_LATER);
	assert_int_equal(k.proto, 6);
	assert_null(k.l4);
	assert_int_equal(k.sport, 0);
	assert_int_equal(k.dport, 0);
	assert_int_equal(k.ip_id, 0xbeef);
	assert_int_equal(k.ip_opts_len, 8);

	/* atomic fragment (offset 0, no M): a whole packet */
	frag6(f + 54, 17, 0, 0, 7);
	w16(f + 62 + 4, 40);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_NONE);
	assert_int_equal(k.ip_id, 7);
	assert_int_equal(k.dport, 500);

	/* first fragment after a hop-by-hop header, too short for TCP */
	n = eth(f, ET_IPV6);
	ext6(f + 54, 44, 8);
	frag6(f + 62, 6, 0, 1, 1);
	memset(f + 70, 0, 8);
	n += ip6(f + n, 0, 24);
	n += 24;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.frag, UMBRA_FRAG_FIRST);
	assert_int_equal(k.proto, 6);
	assert_null(k.l4);
	assert_int_equal(k.ip_opts_len, 16);
}

static void test_icmpv6(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV6), l4 = icmp(f + 54, 128, 0, 16);
	struct umbra_pkt k;

	(void)state;
	n += ip6(f + n, 58, (unsigned)l4);
	n += l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.proto, 58);
	assert_int_equal(k.sport, 128);
	assert_int_equal(k.dport, 0);
	assert_ptr_equal(k.payload, f + 62);
	assert_int_equal(k.payload_len, 16);

	/* destination unreachable, code 4 */
	f[54] = 1;
	f[55] = 4;
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.sport, 1);
	assert_int_equal(k.dport, 4);
}

/* ---- link types ---- */

static void test_link_raw(void **state)
{
	uint8_t f[128];
	size_t l4 = udp(f + 20, 1, 2, 0), n = ip4(f, 17, 0, (unsigned)l4, 0) + l4;
	struct umbra_pkt k;

	(void)state;
	assert_int_equal(parse(f, n, UMBRA_LINK_RAW, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 4);
	assert_ptr_equal(k.l3, f);
	assert_int_equal(parse(f, n, UMBRA_LINK_IPV4, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 4);
	expect_mal(f, n, UMBRA_LINK_IPV6, UMBRA_MAL_IPV6_TRUNC);

	l4 = tcp(f + 40, 1, 2, 3, 0x02, 0, 0);
	n = ip6(f, 6, (unsigned)l4) + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_RAW, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 6);
	assert_ptr_equal(k.l3, f);
	assert_int_equal(parse(f, n, UMBRA_LINK_IPV6, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 6);
	expect_mal(f, n, UMBRA_LINK_IPV4, UMBRA_MAL_IPV4_VERSION);

	f[0] = 0x55; /* neither 4 nor 6 */
	expect_mal(f, n, UMBRA_LINK_RAW, UMBRA_MAL_IPV4_VERSION);
	expect_mal(f, 0, UMBRA_LINK_RAW, UMBRA_MAL_L2_TRUNC);
}

static void test_link_null_loop(void **state)
{
	static const uint32_t af6[] = {24, 28, 30};
	uint8_t f[128];
	size_t l4 = udp(f + 24, 1, 2, 0), n4, n6;
	struct umbra_pkt k;

	(void)state;
	n4 = 4 + ip4(f + 4, 17, 0, (unsigned)l4, 0) + l4;
	/* NULL, little-endian host */
	w32(f, 0x02000000);
	assert_int_equal(parse(f, n4, UMBRA_LINK_NULL, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 4);
	assert_ptr_equal(k.l3, f + 4);
	/* NULL, big-endian host; LOOP is always network order */
	w32(f, 2);
	assert_int_equal(parse(f, n4, UMBRA_LINK_NULL, &k), UMBRA_PARSE_OK);
	assert_int_equal(parse(f, n4, UMBRA_LINK_LOOP, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 4);
	w32(f, 0x02000000);
	assert_int_equal(parse(f, n4, UMBRA_LINK_LOOP, &k), UMBRA_PARSE_NOT_IP);

	l4 = udp(f + 44, 1, 2, 0);
	n6 = 4 + ip6(f + 4, 17, (unsigned)l4) + l4;
	for (unsigned i = 0; i < 3; i++) {
		w32(f, af6[i]);
		assert_int_equal(parse(f, n6, UMBRA_LINK_NULL, &k),
				 UMBRA_PARSE_OK);
		assert_int_equal(k.family, 6);
		assert_int_equal(parse(f, n6, UMBRA_LINK_LOOP, &k),
				 UMBRA_PARSE_OK);
		assert_int_equal(k.family, 6);
		w32(f, af6[i] << 24);
		assert_int_equal(parse(f, n6, UMBRA_LINK_NULL, &k),
				 UMBRA_PARSE_OK);
		assert_int_equal(k.family, 6);
	}
	w32(f, 7); /* AF_NS or whatever: not IP */
	assert_int_equal(parse(f, n6, UMBRA_LINK_NULL, &k), UMBRA_PARSE_NOT_IP);
	expect_mal(f, 3, UMBRA_LINK_NULL, UMBRA_MAL_L2_TRUNC);
	expect_mal(f, 3, UMBRA_LINK_LOOP, UMBRA_MAL_L2_TRUNC);
}

static void test_link_sll(void **state)
{
	uint8_t f[128] = {0};
	size_t l4 = tcp(f + 36, 1, 2, 3, 0x02, 0, 0), n;
	struct umbra_pkt k;

	(void)state;
	w16(f, 0);      /* packet type: to us */
	w16(f + 2, 1);  /* ARPHRD_ETHER */
	w16(f + 4, 6);  /* address length */
	w16(f + 14, ET_IPV4);
	n = 16 + ip4(f + 16, 6, 0, (unsigned)l4, 0) + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_LINUX_SLL, &k), UMBRA_PARSE_OK);
	assert_ptr_equal(k.l3, f + 16);
	assert_int_equal(k.family, 4);

	l4 = tcp(f + 56, 1, 2, 3, 0x02, 0, 0);
	w16(f + 14, ET_IPV6);
	n = 16 + ip6(f + 16, 6, (unsigned)l4) + l4;
	assert_int_equal(parse(f, n, UMBRA_LINK_LINUX_SLL, &k), UMBRA_PARSE_OK);
	assert_int_equal(k.family, 6);

	w16(f + 14, ET_ARP);
	assert_int_equal(parse(f, n, UMBRA_LINK_LINUX_SLL, &k),
			 UMBRA_PARSE_NOT_IP);
	expect_mal(f, 15, UMBRA_LINK_LINUX_SLL, UMBRA_MAL_L2_TRUNC);
}

static void test_link_supported(void **state)
{
	static const unsigned ok[] = {
		UMBRA_LINK_ETHERNET, UMBRA_LINK_RAW,  UMBRA_LINK_NULL,
		UMBRA_LINK_LOOP,     UMBRA_LINK_LINUX_SLL, UMBRA_LINK_IPV4,
		UMBRA_LINK_IPV6,
	};
	uint8_t f[64] = {0};
	struct umbra_pkt k;

	(void)state;
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_true(umbra_link_supported(ok[i]));
	assert_false(umbra_link_supported(12));  /* DLT_RAW on OpenBSD */
	assert_false(umbra_link_supported(276)); /* LINUX_SLL2 */
	assert_false(umbra_link_supported(~0u));
	/* an unsupported link never reads the frame */
	assert_int_equal(umbra_parse(f, 64, 276, &k), UMBRA_PARSE_NOT_IP);
}

/* ---- malformed reasons, one by one ---- */

static void test_mal_l2(void **state)
{
	uint8_t f[128];
	size_t n = f_eth4_syn(f);

	(void)state;
	(void)n;
	for (size_t len = 0; len < 14; len++)
		expect_mal(f, len, UMBRA_LINK_ETHERNET, UMBRA_MAL_L2_TRUNC);
	tag(f + 14, ET_VLAN, 1, ET_IPV4);
	expect_mal(f, 16, UMBRA_LINK_ETHERNET, UMBRA_MAL_L2_TRUNC);
	expect_mal(f, 17, UMBRA_LINK_ETHERNET, UMBRA_MAL_L2_TRUNC);
	/* a complete tag and nothing after it */
	expect_mal(f, 18, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_TRUNC);
}

static void test_mal_ipv4(void **state)
{
	uint8_t f[128];
	size_t n = f_eth4_syn(f);
	struct umbra_pkt k;

	(void)state;
	expect_mal(f, 33, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_TRUNC);
	f[14] = 0x65;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_VERSION);
	f[14] = 0x44; /* IHL 4 */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_IHL);
	f[14] = 0x40;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_IHL);
	f[14] = 0x4f; /* 60 bytes of header, 46 in the frame */
	expect_mal(f, 60, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_IHL);
	f[14] = 0x45;
	w16(f + 16, 61); /* one byte beyond the frame */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_TOTLEN);
	w16(f + 16, 19); /* less than the header */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV4_TOTLEN);
	w16(f + 16, 20); /* header only: fine, TCP then is truncated */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_TRUNC);
	w16(f + 16, 60);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
}

static void test_mal_ipv6(void **state)
{
	uint8_t f[512];
	size_t n = f_eth6_ext_udp(f), e;
	struct umbra_pkt k;

	(void)state;
	expect_mal(f, 53, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_TRUNC);
	f[14] = 0x4a;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_VERSION);
	f[14] = 0x62;
	w16(f + 18, (unsigned)(n - 54 + 1));
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_PLEN);
	/* jumbogram: payload length 0 and a hop-by-hop header */
	w16(f + 18, 0);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_PLEN);

	/* an extension header longer than the payload */
	w16(f + 18, (unsigned)(n - 54));
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	f[54 + 8 + 1] = 9; /* routing header claims 80 bytes */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_EXT);
	f[54 + 8 + 1] = 2;
	/* payload ends inside an extension header's first two bytes */
	w16(f + 18, 9);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_EXT);
	/* a fragment header cut short */
	ip6(f + 14, 44, 7);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_EXT);
	/* AH cut short */
	ip6(f + 14, 51, 8);
	f[54] = 6;
	f[55] = 4;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_EXT);

	/* a chain of 17 destination options headers */
	n = eth(f, ET_IPV6);
	e = 0;
	for (unsigned i = 0; i < 17; i++)
		e += ext6(f + 54 + e, i < 16 ? 60 : 59, 8);
	n += ip6(f + n, 60, (unsigned)e);
	n += e;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_IPV6_EXT);
	/* 16 is still fine */
	ip6(f + 14, 60, (unsigned)(e - 8));
	f[54 + 15 * 8] = 59;
	assert_int_equal(parse(f, n - 8, UMBRA_LINK_ETHERNET, &k),
			 UMBRA_PARSE_OK);
	assert_int_equal(k.ip_opts_len, 128);
	assert_int_equal(k.proto, 59);
}

static void test_mal_tcp(void **state)
{
	uint8_t f[128];
	size_t n = f_eth4_syn(f);
	struct umbra_pkt k;

	(void)state;
	for (unsigned l4 = 0; l4 < 20; l4++) {
		w16(f + 16, 20 + l4);
		expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_TRUNC);
	}
	w16(f + 16, 60);
	f[46] = 0x40; /* data offset 4 */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_DOFF);
	f[46] = 0x00;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_DOFF);
	f[46] = 0xb0; /* 44 bytes, 40 in the IP payload */
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_DOFF);
	/* data offset checked against the IP length, not the frame */
	f[46] = 0xa0;
	w16(f + 16, 56);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_TCP_DOFF);
	w16(f + 16, 60);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
}

static void test_mal_udp(void **state)
{
	uint8_t f[128];
	size_t n = eth(f, ET_IPV4), l4 = udp(f + 34, 1, 2, 10);
	struct umbra_pkt k;

	(void)state;
	n += ip4(f + n, 17, 0, (unsigned)l4, 0);
	n += l4;
	for (unsigned len = 0; len < 8; len++) {
		w16(f + 16, 20 + len);
		expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_TRUNC);
	}
	w16(f + 16, 38);
	w16(f + 38, 7);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_LEN);
	w16(f + 38, 0);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_LEN);
	w16(f + 38, 19);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_LEN);
	w16(f + 38, 18);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &k), UMBRA_PARSE_OK);
	/* against the IP length, not the frame (trailing padding) */
	w16(f + 16, 30);
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_UDP_LEN);
}

static void test_mal_icmp(void **state)
{
	uint8_t f[128];
	size_t n;

	(void)state;
	n = eth(f, ET_IPV4);
	icmp(f + 34, 8, 0, 0);
	for (unsigned len = 0; len < 4; len++) {
		ip4(f + 14, 1, 0, len, 0);
		expect_mal(f, n + 20 + len, UMBRA_LINK_ETHERNET,
			   UMBRA_MAL_ICMP_TRUNC);
	}
	n = eth(f, ET_IPV6);
	icmp(f + 54, 128, 0, 0);
	ip6(f + 14, 58, 3);
	expect_mal(f, n + 43, UMBRA_LINK_ETHERNET, UMBRA_MAL_ICMP_TRUNC);
}

static void test_mal_frag(void **state)
{
	uint8_t f[128] = {0};
	size_t n;

	(void)state;
	/* IPv4: offset 8191 * 8 + 16 bytes > 65535 */
	n = eth(f, ET_IPV4);
	n += ip4(f + n, 17, 0, 16, 0x1fff);
	n += 16;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_FRAG);
	ip4(f + 14, 17, 0, 16, 8189); /* 65512 + 16 = 65528: fine */
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &(struct umbra_pkt){0}),
			 UMBRA_PARSE_OK);

	/* IPv6: same limit on the fragmentable part */
	n = eth(f, ET_IPV6);
	frag6(f + 54, 17, 8191, 0, 1);
	n += ip6(f + n, 44, 24);
	n += 24;
	expect_mal(f, n, UMBRA_LINK_ETHERNET, UMBRA_MAL_FRAG);
	frag6(f + 54, 17, 8189, 0, 1);
	assert_int_equal(parse(f, n, UMBRA_LINK_ETHERNET, &(struct umbra_pkt){0}),
			 UMBRA_PARSE_OK);
}

static void test_malformed_names(void **state)
{
	static const char *const want[UMBRA_MAL_MAX] = {
		NULL,         "l2_trunc",   "vlan_depth",  "ipv4_trunc",
		"ipv4_version", "ipv4_ihl", "ipv4_totlen", "ipv6_trunc",
		"ipv6_version", "ipv6_plen", "ipv6_ext",   "tcp_trunc",
		"tcp_doff",   "udp_trunc",  "udp_len",     "icmp_trunc",
		"frag",
	};

	(void)state;
	assert_null(umbra_malformed_name(UMBRA_MAL_NONE));
	for (unsigned i = 1; i < UMBRA_MAL_MAX; i++)
		assert_string_equal(umbra_malformed_name(i), want[i]);
	assert_null(umbra_malformed_name(UMBRA_MAL_MAX));
	assert_null(umbra_malformed_name(~0u));
}

/* ---- robustness: every truncation and random mutations ---- */

struct sample {
	uint8_t f[256];
	size_t n;
	unsigned link;
	int padded;
};

static unsigned build_samples(struct sample *s)
{
	unsigned i = 0;
	size_t n, l4;

	memset(s, 0, sizeof(*s) * 12);

	s[i].n = f_eth4_syn(s[i].f);
	s[i++].link = UMBRA_LINK_ETHERNET;

	s[i].n = f_eth6_ext_udp(s[i].f);
	s[i++].link = UMBRA_LINK_ETHERNET;

	/* QinQ IPv4 with options, UDP, padded to 64 */
	n = eth(s[i].f, ET_IPV4);
	n += tag(s[i].f + n, 0x88a8, 3, ET_IPV4);
	n += tag(s[i].f + n, ET_VLAN, 4, ET_IPV4);
	l4 = udp(s[i].f + n + 28, 9, 10, 2);
	n += ip4(s[i].f + n, 17, 8, (unsigned)l4, 0);
	s[i].n = 64;
	s[i].padded = 1;
	s[i++].link = UMBRA_LINK_ETHERNET;

	/* ICMP echo */
	l4 = icmp(s[i].f + 34, 8, 0, 12);
	s[i].n = eth(s[i].f, ET_IPV4) + ip4(s[i].f + 14, 1, 0, (unsigned)l4, 0) + l4;
	s[i++].link = UMBRA_LINK_ETHERNET;

	/* IPv6 first fragment + AH + TCP */
	n = eth(s[i].f, ET_IPV6);
	frag6(s[i].f + 54, 51, 0, 1, 99);
	s[i].f[62] = 6;
	s[i].f[63] = 1; /* 12 bytes */
	memset(s[i].f + 64, 0, 10);
	l4 = tcp(s[i].f + 74, 5, 6, 7, 0x02, 8, 0);
	n += ip6(s[i].f + n, 44, (unsigned)(8 + 12 + l4));
	s[i].n = n + 20 + l4;
	s[i++].link = UMBRA_LINK_ETHERNET;

	/* IPv4 later fragment */
	memset(s[i].f + 34, 0xee, 24);
	s[i].n = eth(s[i].f, ET_IPV4) + ip4(s[i].f + 14, 17, 0, 24, 100) + 24;
	s[i++].link = UMBRA_LINK_ETHERNET;

	/* SLL IPv6 ICMPv6 */
	w16(s[i].f + 14, ET_IPV6);
	l4 = icmp(s[i].f + 56, 135, 0, 16);
	s[i].n = 16 + ip6(s[i].f + 16, 58, (unsigned)l4) + l4;
	s[i++].link = UMBRA_LINK_LINUX_SLL;

	/* NULL IPv4 TCP */
	w32(s[i].f, 0x02000000);
	l4 = tcp(s[i].f + 24, 1, 2, 3, 0x10, 0, 5);
	s[i].n = 4 + ip4(s[i].f + 4, 6, 0, (unsigned)l4, 0) + l4;
	s[i++].link = UMBRA_LINK_NULL;

	/* RAW IPv6 UDP */
	l4 = udp(s[i].f + 40, 1, 2, 3);
	s[i].n = ip6(s[i].f, 17, (unsigned)l4) + l4;
	s[i++].link = UMBRA_LINK_RAW;

	/* GRE */
	memset(s[i].f + 34, 0, 8);
	s[i].n = eth(s[i].f, ET_IPV4) + ip4(s[i].f + 14, 47, 0, 8, 0) + 8;
	s[i++].link = UMBRA_LINK_ETHERNET;

	return i;
}

static void test_truncate_every_length(void **state)
{
	struct sample s[12];
	unsigned ns = build_samples(s);
	struct umbra_pkt k;

	(void)state;
	for (unsigned i = 0; i < ns; i++) {
		assert_int_equal(parse_exact(s[i].f, s[i].n, s[i].link, &k),
				 UMBRA_PARSE_OK);
		for (size_t len = 0; len < s[i].n; len++) {
			int rc = parse_exact(s[i].f, len, s[i].link, &k);

			if (!s[i].padded)
				assert_int_equal(rc, UMBRA_PARSE_MALFORMED);
		}
	}
}

static uint32_t rng_state = 0x2545f491;

static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_mutations(void **state)
{
	static const uint8_t interesting[] = {0, 1, 4, 5, 6, 0x0f, 0x45, 0x60,
					      0x7f, 0x80, 0xff, 44, 43, 60, 0};
	struct sample s[12];
	unsigned ns = build_samples(s);
	struct umbra_pkt k;
	uint8_t f[256];

	(void)state;
	for (unsigned it = 0; it < 200000; it++) {
		const struct sample *o = &s[rng() % ns];
		unsigned flips = 1 + rng() % 4;
		size_t len = o->n;

		memcpy(f, o->f, sizeof(f));
		for (unsigned j = 0; j < flips; j++) {
			uint32_t r = rng();

			f[r % len] = (r >> 16) & 1
					     ? (uint8_t)(r >> 8)
					     : interesting[(r >> 8) % sizeof(interesting)];
		}
		if (rng() % 4 == 0)
			len = rng() % (len + 1);
		parse_exact(f, len, o->link, &k);
	}
	/* and pure noise on every link */
	for (unsigned it = 0; it < 20000; it++) {
		static const unsigned links[] = {
			UMBRA_LINK_ETHERNET, UMBRA_LINK_RAW, UMBRA_LINK_NULL,
			UMBRA_LINK_LOOP, UMBRA_LINK_LINUX_SLL, UMBRA_LINK_IPV4,
			UMBRA_LINK_IPV6,
		};
		size_t len = rng() % 128;

		for (size_t j = 0; j < len; j++)
			f[j] = (uint8_t)rng();
		parse_exact(f, len, links[it % 7], &k);
	}
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(test_eth_ipv4_tcp_syn),
		cmocka_unit_test(test_tcp_payload_no_opts),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_vlan_8021q),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_vlan_depth),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_udp_payload_padding),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_icmp_error),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_first_fragment_short_transport),
		cmocka_unit_test(test_other_protocols),
		cmocka_unit_test(test_ipv6_tcp),
		cmocka_unit_test(test_ipv6_ext_chain),
		cmocka_unit_test(test_ipv6_ah),
		cmocka_unit_test(test_ipv6_ext_saturates),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_icmpv6),
		cmocka_unit_test(test_link_raw),
		cmocka_unit_test(test_link_null_loop),
		cmocka_unit_test(test_link_sll),
		cmocka_unit_test(test_link_supported),
		cmocka_unit_test(test_mal_l2),
		cmocka_unit_test(test_mal_ipv4),
		cmocka_unit_test(test_mal_ipv6),
		cmocka_unit_test(test_mal_tcp),
		cmocka_unit_test(test_mal_udp),
		cmocka_unit_test(test_mal_icmp),
		cmocka_unit_test(test_mal_frag),
		cmocka_unit_test(test_malformed_names),
		cmocka_unit_test(test_truncate_every_length),
		cmocka_unit_test(test_mutations),
	};

	return cmocka_run_group_tests(t, NULL, NULL);
}
