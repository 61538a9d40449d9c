/* SPDX-License-Identifier: BSD-3-Clause */
#include <string.h>

#include "classify-tags.h"

#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

struct pfx4 {
	uint32_t net;
	uint8_t len;
};

/* IPv4 special-purpose ranges (RFC 6890 + IANA registry, 2024) */
static const struct pfx4 bogon4[] = {
	{ 0x00000000, 8 },  /* 0.0.0.0/8 this network */
	{ 0x0a000000, 8 },  /* 10/8 private */
	{ 0x64400000, 10 }, /* 100.64/10 shared (CGN) */
	{ 0x7f000000, 8 },  /* 127/8 loopback */
	{ 0xa9fe0000, 16 }, /* 169.254/16 link local */
	{ 0xac100000, 12 }, /* 172.16/12 private */
	{ 0xc0000000, 24 }, /* 192.0.0/24 IETF protocol assignments */
	{ 0xc0000200, 24 }, /* 192.0.2/24 TEST-NET-1 */
	{ 0xc0586300, 24 }, /* 192.88.99/24 6to4 relay anycast (deprecated) */
	{ 0xc0a80000, 16 }, /* 192.168/16 private */
	{ 0xc6120000, 15 }, /* 198.18/15 benchmarking */
	{ 0xc6336400, 24 }, /* 198.51.100/24 TEST-NET-2 */
	{ 0xcb007100, 24 }, /* 203.0.113/24 TEST-NET-3 */
	{ 0xe0000000, 4 },  /* 224/4 multicast */
	{ 0xf0000000, 4 },  /* 240/4 reserved, incl. 255.255.255.255 */
};

struct pfx6 {
	uint8_t net[16];
	uint8_t len;
};

/* IPv6: everything outside 2000::/3 is special-purpose here, plus these */
static const struct pfx6 bogon6_global[] = {
	{ { 0x20, 0x01, 0x00, 0x00 }, 23 },    /* 2001::/23 IETF protocol assignments */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32 },    /* 2001:db8::/32 documentation */
	{ { 0x20, 0x02 }, 16 },                /* 2002::/16 6to4 */
	{ { 0x3f, 0xfe }, 16 },                /* 3ffe::/16 old 6bone */
	{ { 0x3f, 0xff, 0x00, 0x00 }, 20 },    /* 3fff::/20 documentation (RFC 9637) */
};

/*
 * bogon4 by first octet, so that most sources are decided by one load:
 * OCT_CLEAN no prefix starts with it, OCT_BOGON a prefix of /8 or shorter
 * covers it, OCT_CHECK only longer prefixes do (walk bogon4). Derived
 * from bogon4 at start-up, so the two cannot disagree.
 */
enum { OCT_CLEAN, OCT_BOGON, OCT_CHECK };
static uint8_t bogon4_octet[256];

static void __attribute__((constructor))
bogon4_index(void)
{
	size_t i;

	for (i = 0; i < sizeof(bogon4) / sizeof(bogon4[0]); i++) {
		unsigned len = bogon4[i].len, o = bogon4[i].net >> 24, k;
		uint32_t m = len ? ~0u << (32 - len) : 0;

		if (len > 8 || (bogon4[i].net & ~m) != 0) {
			if (bogon4_octet[o] != OCT_BOGON)
				bogon4_octet[o] = OCT_CHECK;
			continue;
		}
		for (k = o; k < o + (1u << (8 - len)); k++)
			bogon4_octet[k] = OCT_BOGON;
	}
}

static int
in6(const uint8_t *a, const uint8_t *net, unsigned len)
{
	unsigned full = len / 8, rem = len % 8;

	if (memcmp(a, net, full) != 0)
		return 0;
	if (rem == 0)
		return 1;
	return ((a[full] ^ net[full]) & (0xff << (8 - rem))) == 0;
}

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
umbra_addr_bogon(unsigned family, const uint8_t *a)
{
	size_t i;

	if (family == 4) {
		uint32_t v = rd32(a);

		if (bogon4_octet[a[0]] != OCT_CHECK)
			return bogon4_octet[a[0]] == OCT_BOGON;
		for (i = 0; i < sizeof(bogon4) / sizeof(bogon4[0]); i++) {
			uint32_t m = bogon4[i].len ? ~0u << (32 - bogon4[i].len) : 0;

			if ((v & m) == bogon4[i].net)
				return 1;
		}
		return 0;
	}
	if ((a[0] & 0xe0) != 0x20) /* not 2000::/3 global unicast */
		return 1;
	for (i = 0; i < sizeof(bogon6_global) / sizeof(bogon6_global[0]); i++)
		if (in6(a, bogon6_global[i].net, bogon6_global[i].len))
			return 1;
	return 0;
}

int
umbra_addr_impossible_src(unsigned family, const uint8_t *src, const uint8_t *dst)
{
	static const uint8_t zero[16], one[16] = { [15] = 1 };

	if (family == 4) {
		uint32_t v = rd32(src);

		return v == rd32(dst) || (v >> 28) == 0xe || v == 0xffffffffu ||
		       (v >> 24) == 127 || v == 0;
	}
	if (memcmp(src, dst, 16) == 0)
		return 1;
	return src[0] == 0xff || memcmp(src, zero, 16) == 0 || memcmp(src, one, 16) == 0;
}

uint32_t
umbra_tags_first_packet(const struct umbra_plugin_pkt *p, int src_in_darknet)
{
	uint32_t t = 0;

	if (umbra_addr_bogon(p->family, p->src))
		t |= UMBRA_TAG(UMBRA_TAG_BIT_BOGON);
	if (src_in_darknet || umbra_addr_impossible_src(p->family, p->src, p->dst))
		t |= UMBRA_TAG(UMBRA_TAG_BIT_SPOOFED);
	if (p->l4 == NULL)
		return t;
	if (p->family == 4 && p->ip_id == 54321 &&
	    (p->proto != 6 || (p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN))
		t |= UMBRA_TAG(UMBRA_TAG_BIT_ZMAP);
	if (p->proto != 6 || (p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) != TH_SYN)
		return t;
	/* TCP SYN without ACK */
	if (p->tcp_window == 65535 && p->tcp_opts_len == 0)
		t |= UMBRA_TAG(UMBRA_TAG_BIT_ZMAP);
	if (p->family == 4) {
		uint32_t dst = rd32(p->dst);

		if (p->ip_id == ((dst ^ p->dport ^ p->tcp_seq) & 0xffff))
			t |= UMBRA_TAG(UMBRA_TAG_BIT_MASSCAN);
		if (p->tcp_seq == dst)
			t |= UMBRA_TAG(UMBRA_TAG_BIT_MIRAI);
	}
	if (p->ttl > 128 && p->tcp_opts_len == 0)
		t |= UMBRA_TAG(UMBRA_TAG_BIT_LARGE_SCAN);
	return t;
}
