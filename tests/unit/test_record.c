/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for engine/record-codec.c and engine/record-names.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "record-codec.h"
#include "umbra/dump.h"
#include "writer-dump.h"

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static void rnd_bytes(void *p, size_t n)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

static void random_record(struct umbra_flow_record *r)
{
	rnd_bytes(r, sizeof(*r));
	switch (rnd() % 4) {
	case 0: /* canonical IPv4 */
		r->family = 4;
		memset(r->src + 4, 0, 12);
		memset(r->dst + 4, 0, 12);
		break;
	case 1:
		r->family = 6;
		break;
	case 2: /* canonical IPv4 with a small time range */
		r->family = 4;
		memset(r->src + 4, 0, 12);
		memset(r->dst + 4, 0, 12);
		r->first_ns = 1714521600000000000ull + rnd() % 1000000000ull;
		r->last_ns = r->first_ns + rnd() % 5000000000ull;
		break;
	default: /* anything, including non-canonical families */
		break;
	}
}

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct umbra_flow_record));
}

/* Encode, decode, and compare as multisets: the codec reorders. */
static void round_trip_codec(const struct umbra_flow_record *in, unsigned n, unsigned codec)
{
	struct umbra_codec *c = umbra_codec_new(n);
	assert_non_null(c);
	const uint8_t *buf;
	uint32_t flags;
	size_t split;
	size_t len = umbra_codec_encode(c, in, n, codec, &buf, &flags, &split);
	assert_true(len <= umbra_codec_bound(n));
	assert_int_equal(flags, UMBRA_BLK_FLAG_SORTED);
	if (codec == UMBRA_BLK_CODEC_FLAT)
		assert_int_equal(split, len);
	else
		assert_true(split > 24 && split < len);
	uint8_t *copy = malloc(len);
	memcpy(copy, buf, len);
	struct umbra_flow_record *out = calloc(n, sizeof(*out));
	struct umbra_flow_record *ref = malloc(sizeof(*ref) * n);
	memcpy(ref, in, sizeof(*ref) * n);
	struct umbra_codec *d = umbra_codec_new(n);
	assert_int_equal(umbra_codec_decode(d, codec, copy, len, out, n), (long)n);
	/* sorted by (layout, src, first) as documented */
	for (unsigned i = 1; i < n; i++) {
		int k = memcmp(out[i - 1].src, out[i].src, 16);
		if (k == 0)
			assert_true(out[i - 1].first_ns <= out[i].first_ns);
	}
	/* the key columns from a view of the whole block and, for codec 2,
	 * of the key part alone, equal the decoded records' */
	struct umbra_block_view v;
	for (int key = 0; key <= (codec == UMBRA_BLK_CODEC_SPLIT); key++) {
		assert_int_equal(umbra_codec_decode_view(d, codec, copy, key ? split : len,
							 UMBRA_CODEC_KEY_COLS, key, &v),
				 (long)n);
		for (unsigned i = 0; i < n; i++) {
			const struct umbra_flow_record *p = &v.profiles[v.profile[i]];
			if (i < v.n4)
				assert_int_equal(v.dst4[i], umbra_get32be(out[i].dst));
			else
				assert_memory_equal(v.dst16 + 16 * (size_t)(i - v.n4), out[i].dst, 16);
			assert_int_equal(v.dport[i], out[i].dport);
			assert_int_equal(v.packets[i], out[i].packets);
			assert_int_equal(p->proto, out[i].proto);
			assert_int_equal(p->tags, out[i].tags);
		}
	}
	if (codec == UMBRA_BLK_CODEC_SPLIT) {
		/* a key part asked for more than key columns, or cut short */
		assert_int_equal(umbra_codec_decode_view(d, codec, copy, split, UMBRA_COL_SRC, 1, &v),
				 -EINVAL);
		assert_int_equal(umbra_codec_decode_view(d, codec, copy, split - 1,
							 UMBRA_CODEC_KEY_COLS, 1, &v),
				 -EBADMSG);
	}
	qsort(out, n, sizeof(*out), cmp_rec);
	qsort(ref, n, sizeof(*ref), cmp_rec);
	for (unsigned i = 0; i < n; i++)
		assert_memory_equal(&out[i], &ref[i], sizeof(*ref));
	/* truncated or extended input is rejected, never overread */
	assert_int_equal(umbra_codec_decode(d, codec, copy, len - 1, out, n), -EBADMSG);
	if (n > 1)
		assert_int_equal(umbra_codec_decode(d, codec, copy, len, out, n - 1), -EBADMSG);
	free(copy);
	free(out);
	free(ref);
	umbra_codec_free(c);
	umbra_codec_free(d);
}

static void round_trip(const struct umbra_flow_record *in, unsigned n)
{
	round_trip_codec(in, n, UMBRA_BLK_CODEC_FLAT);
	round_trip_codec(in, n, UMBRA_BLK_CODEC_SPLIT);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(umbra_end_reason_name(UMBRA_END_IDLE), "idle");
	assert_string_equal(umbra_end_reason_name(UMBRA_END_ACTIVE), "active");
	assert_string_equal(umbra_end_reason_name(UMBRA_END_EVICTED), "evicted");
	assert_string_equal(umbra_end_reason_name(UMBRA_END_SHUTDOWN), "shutdown");
	assert_null(umbra_end_reason_name(0));
	assert_null(umbra_end_reason_name(UMBRA_END_MAX));
	static const char *const tags[] = {"scan", "backscatter", "other",
		"fragment", "zmap", "masscan", "mirai", "large_scan", "bogon",
		"spoofed"};
	for (unsigned i = 0; i < 10; i++)
		assert_string_equal(umbra_tag_name(i), tags[i]);
	assert_null(umbra_tag_name(10));
	assert_null(umbra_tag_name(16));
	assert_null(umbra_tag_name(1000));
	assert_string_equal(umbra_proto_name(6), "tcp");
	assert_string_equal(umbra_proto_name(17), "udp");
	assert_string_equal(umbra_proto_name(1), "icmp");
	assert_string_equal(umbra_proto_name(58), "icmp6");
	assert_null(umbra_proto_name(47));
	assert_null(umbra_proto_name(0));
}

static void test_crc32c(void **state)
{
	(void)state;
	assert_int_equal(umbra_crc32c(0, "123456789", 9), 0xE3069283u);
	uint32_t c = umbra_crc32c(0, "1234", 4);
	assert_int_equal(umbra_crc32c(c, "56789", 5), 0xE3069283u);
	assert_int_equal(umbra_crc32c(0, "", 0), 0);

	/*
	 * Long buffers take the three-lane path (stretches of 8192 and 256
	 * bytes joined by shift tables): against the CRC one bit at a time,
	 * at every length around the stretch boundaries, from odd offsets,
	 * and continued from a CRC of a first part.
	 */
	enum { MAX = 3 * 8192 * 2 + 3 * 256 + 17 };
	uint8_t *buf = malloc(MAX + 8);
	assert_non_null(buf);
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < MAX + 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	static const size_t lens[] = {0, 1, 7, 8, 255, 767, 768, 769, 775, 1536, 1543,
				      24575, 24576, 24577, 24583, 24576 + 768, 49151, 49152,
				      49152 + 767, MAX};
	for (size_t li = 0; li < sizeof(lens) / sizeof(lens[0]); li++)
		for (size_t off = 0; off < 8; off += 3) {
			const uint8_t *p = buf + off;
			size_t len = lens[li];
			uint32_t ref = 0xFFFFFFFFu;
			for (size_t i = 0; i < len; i++) {
				ref ^= p[i];
				for (int k = 0; k < 8; k++)
					ref = (ref >> 1) ^ (0x82F63B78u & (0u - (ref & 1)));
			}
			ref = ~ref;
			assert_int_equal(umbra_crc32c(0, p, len), ref);
			size_t cut = len / 3;
			assert_int_equal(umbra_crc32c(umbra_crc32c(0, p, cut), p + cut, len - cut),
					 ref);
		}
	free(buf);
}

static void test_random(void **state)
{
	(void)state;
	static const unsigned sizes[] = {1, 2, 3, 17, 255, 256, 1000, 8192};
	for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct umbra_flow_record *r = malloc(sizeof(*r) * sizes[s]);
		for (unsigned i = 0; i < sizes[s]; i++)
			random_record(&r[i]);
		round_trip(r, sizes[s]);
		free(r);
	}
}

static void test_edges(void **state)
{
	(void)state;
	struct umbra_flow_record r[4];
	memset(r, 0xff, sizeof(r)); /* every field at its maximum */
	round_trip(r, 4);
	memset(r, 0, sizeof(r)); /* every field zero */
	round_trip(r, 1);
	round_trip(r, 4);
	/* first == last == max, microsecond and millisecond units, v4/v6 mix */
	for (int unit = 0; unit < 3; unit++) {
		memset(r, 0, sizeof(r));
		uint64_t u = unit == 0 ? 1 : unit == 1 ? 1000 : 1000000;
		for (int i = 0; i < 4; i++) {
			r[i].family = i & 1 ? 6 : 4;
			r[i].src[0] = 10;
			r[i].src[15] = (uint8_t)(i & 1);
			r[i].first_ns = (1714521600000000000ull / u + (uint64_t)i) * u;
			r[i].last_ns = r[i].first_ns + 3 * u;
			r[i].syn_ttl = (uint8_t)(i * 85);
			r[i].ttl_min = (uint8_t)(255 - i);
			r[i].ttl_max = (uint8_t)i;
		}
		round_trip(r, 4);
	}
	/* same source, same time */
	memset(r, 0, sizeof(r));
	for (int i = 0; i < 4; i++) {
		r[i].family = 4;
		r[i].first_ns = r[i].last_ns = UINT64_MAX;
		r[i].dport = (uint16_t)i;
	}
	round_trip(r, 4);
}

/* Damaged blocks must fail cleanly (this runs under ASan too). */
static void test_decode_garbage(void **state)
{
	(void)state;
	enum { N = 300 };
	struct umbra_flow_record in[N], out[N];
	for (int i = 0; i < N; i++)
		random_record(&in[i]);
	struct umbra_codec *c = umbra_codec_new(N);
	for (unsigned codec = UMBRA_BLK_CODEC_FLAT; codec <= UMBRA_BLK_CODEC_SPLIT; codec++) {
		const uint8_t *buf;
		uint32_t flags;
		size_t split;
		size_t len = umbra_codec_encode(c, in, N, codec, &buf, &flags, &split);
		uint8_t *m = malloc(len);
		struct umbra_block_view v;
		for (int it = 0; it < 3000; it++) {
			memcpy(m, buf, len);
			int nflip = 1 + (int)(rnd() % 4);
			for (int k = 0; k < nflip; k++)
				m[rnd() % (it % 2 ? 24 : len)] ^= (uint8_t)(1u << (rnd() % 8));
			size_t l = it % 3 == 0 ? rnd() % len : len;
			long rc = umbra_codec_decode(c, codec, m, l, out, N);
			assert_true(rc == -EBADMSG || (rc > 0 && rc <= N));
			rc = umbra_codec_decode_view(c, codec, m, l, UMBRA_COL_ALL, 0, &v);
			assert_true(rc == -EBADMSG || (rc > 0 && rc <= N));
			if (codec == UMBRA_BLK_CODEC_SPLIT) {
				rc = umbra_codec_decode_view(c, codec, m, l < split ? l : split,
							     UMBRA_CODEC_KEY_COLS, 1, &v);
				assert_true(rc == -EBADMSG || (rc > 0 && rc <= N));
			}
		}
		free(m);
	}
	umbra_codec_free(c);
}

/*
 * umbra_codec_columns() finds each stored column where FORMAT.md puts it:
 * lengths from the values chosen here, and the ranges tile the block.
 */
static void test_columns(void **state)
{
	(void)state;
	enum { N = 200, N6 = 50 };
	struct umbra_flow_record in[N];
	struct umbra_codec *c = umbra_codec_new(N);

	memset(in, 0, sizeof(in));
	for (unsigned i = 0; i < N; i++) {
		struct umbra_flow_record *r = &in[i];

		r->first_ns = 1714521600000000000ull + i * 1000ull;
		r->last_ns = r->first_ns + 1000;
		r->packets = 1;
		r->bytes = 40;
		r->proto = 6;
		r->end_reason = UMBRA_END_IDLE;
		r->sport = (uint16_t)(i % 200); /* one byte wide */
		r->dport = (uint16_t)(1000 + i); /* two */
		r->ttl_min = r->ttl_max = 50;    /* ip_id stays 0: width 0 */
		if (i < N - N6) {
			r->family = 4;
			r->src[0] = 10;
			r->src[3] = (uint8_t)i;
			r->dst[0] = 192;
			r->dst[3] = (uint8_t)(i * 7);
		} else {
			r->family = 6;
			r->src[0] = 0x20;
			r->src[15] = (uint8_t)i;
			r->dst[0] = 0x20;
			r->dst[15] = 1;
		}
	}
	assert_string_equal(umbra_codec_col_name(0), "src4");
	assert_string_equal(umbra_codec_col_name(11), "ip_id");
	assert_string_equal(umbra_codec_col_name(14), "profiles");
	assert_null(umbra_codec_col_name(UMBRA_CODEC_NCOLS));
	for (unsigned codec = UMBRA_BLK_CODEC_FLAT; codec <= UMBRA_BLK_CODEC_SPLIT; codec++) {
		size_t off[UMBRA_CODEC_NCOLS], len[UMBRA_CODEC_NCOLS], split, at = 24;
		const uint8_t *buf;
		uint32_t flags;
		size_t u = umbra_codec_encode(c, in, N, codec, &buf, &flags, &split);

		assert_int_equal(umbra_codec_columns(buf, u, codec, off, len), 0);
		assert_int_equal(len[2], 16 * N6);          /* src16 */
		assert_int_equal(len[3], 16 * N6);          /* dst16 */
		assert_int_equal(len[6], 1 + N);            /* sport, one plane */
		assert_int_equal(len[7], 1 + 2 * N);        /* dport, two planes */
		assert_int_equal(len[11], 1);               /* ip_id, no plane */
		assert_int_equal(len[14], 2 * 44);          /* profiles: v4 and v6 */
		assert_int_equal(len[1], 1 + 4 * (N - N6)); /* dst4 192.x: four planes */
		assert_int_equal(buf[off[1]], 4);           /* its width byte */
		/* the ranges tile the block after its fixed part, in storage order */
		for (unsigned seen = 0; seen < UMBRA_CODEC_NCOLS; seen++) {
			unsigned k;

			for (k = 0; k < UMBRA_CODEC_NCOLS && off[k] != at; k++)
				;
			assert_true(k < UMBRA_CODEC_NCOLS);
			if (codec == UMBRA_BLK_CODEC_SPLIT && seen == 0)
				assert_int_equal(k, 1); /* the key part starts with dst4 */
			at += len[k];
			if (codec == UMBRA_BLK_CODEC_SPLIT && k == 14)
				assert_int_equal(at, split); /* and ends with the profiles */
		}
		assert_int_equal(at, u);
		/* a block one byte short is not a block */
		assert_int_equal(umbra_codec_columns(buf, u - 1, codec, off, len), -EBADMSG);
	}
	umbra_codec_free(c);
}

/* ---- synthetic darknet mix ---------------------------------------------- */

/* A block's data as the writer compresses it: the key part and the rest. */
static size_t compress_block(ZSTD_CCtx *z, uint8_t *out, size_t cap, const uint8_t *buf,
			     size_t len, size_t split)
{
	size_t k = ZSTD_compress2(z, out, cap, buf, split);
	assert_false(ZSTD_isError(k));
	if (split < len) {
		size_t k2 = ZSTD_compress2(z, out + k, cap - k, buf + split, len - split);
		assert_false(ZSTD_isError(k2));
		k += k2;
	}
	return k;
}

struct src_profile {
	uint32_t addr;
	int kind; /* 0 mirai, 1 zmap, 2 masscan, 3 linux tool */
	uint16_t sport;
	uint8_t ttl;
};

static const uint16_t popular[] = {23, 8728, 6379, 22, 80, 3389, 4719, 8080,
	445, 443, 2222, 8443, 8081, 5555, 81, 1433, 3306, 5900, 25, 21};

/* Mostly 1-2 packet TCP SYNs to a /24, sources from a skewed pool. */
static void darknet_mix(struct umbra_flow_record *r, unsigned n, uint64_t t0,
			uint64_t res)
{
	enum { POOL = 3000 };
	static struct src_profile pool[POOL];
	for (int i = 0; i < POOL; i++) {
		pool[i].addr = (uint32_t)rnd();
		pool[i].kind = (int)(rnd() % 100 < 40 ? 0 : rnd() % 3 + 1);
		pool[i].sport = (uint16_t)(32768 + rnd() % 28000);
		pool[i].ttl = (uint8_t)(pool[i].kind == 1 || pool[i].kind == 2
						 ? 230 + rnd() % 20 : 40 + rnd() % 20);
	}
	uint64_t t = t0;
	for (unsigned i = 0; i < n; i++) {
		struct umbra_flow_record *f = &r[i];
		memset(f, 0, sizeof(*f));
		t += (uint64_t)(-log1p(-(double)(rnd() % 1000000) / 1e6) * 300e3);
		f->first_ns = t / res * res;
		f->family = 4;
		f->dst[0] = 203;
		f->dst[2] = 113;
		f->dst[3] = (uint8_t)rnd();
		f->end_reason = rnd() % 50 ? UMBRA_END_IDLE : UMBRA_END_ACTIVE;
		unsigned dice = (unsigned)(rnd() % 100);
		if (dice < 6) { /* backscatter: SYN-ACK/RST from random victims */
			umbra_put32be(f->src, (uint32_t)rnd());
			f->proto = 6;
			f->sport = rnd() % 2 ? 80 : 443;
			f->dport = (uint16_t)rnd();
			f->tcp_flags = rnd() % 2 ? 0x12 : 0x04;
			f->tags = UMBRA_TAG_BACKSCATTER;
			f->packets = 1;
			f->bytes = 40;
			f->ttl_min = f->ttl_max = (uint8_t)(40 + rnd() % 80);
			f->ip_id = (uint16_t)rnd();
		} else if (dice < 10) { /* UDP / ICMP probes */
			umbra_put32be(f->src, (uint32_t)rnd());
			int icmp = dice < 7;
			f->proto = icmp ? 1 : 17;
			f->sport = icmp ? 8 : (uint16_t)rnd();
			f->dport = icmp ? 0 : (rnd() % 2 ? 53 : 123);
			f->tags = UMBRA_TAG_SCAN;
			f->packets = 1;
			f->bytes = icmp ? 84 : 60;
			f->ttl_min = f->ttl_max = (uint8_t)(40 + rnd() % 80);
			f->ip_id = (uint16_t)rnd();
		} else { /* TCP SYN scans */
			uint64_t u = rnd() % 1000;
			struct src_profile *s = u < 700 ? &pool[(u * u * u) % POOL]
							: NULL;
			struct src_profile one = {(uint32_t)rnd(), (int)(rnd() % 4),
						  (uint16_t)rnd(), (uint8_t)(40 + rnd() % 20)};
			if (!s)
				s = &one;
			umbra_put32be(f->src, s->addr);
			f->proto = 6;
			f->tcp_flags = 0x02;
			f->tags = UMBRA_TAG_SCAN;
			f->ttl_min = f->ttl_max = f->syn_ttl = s->ttl;
			f->dport = rnd() % 10 < 8 ? popular[(rnd() % 400) % 20 * (rnd() % 2)]
						  : (uint16_t)rnd();
			f->ip_id = (uint16_t)rnd();
			f->sport = (uint16_t)(32768 + rnd() % 28000);
			f->syn_wscale = UMBRA_WSCALE_NONE;
			unsigned hdr = 40;
			switch (s->kind) {
			case 0:
				f->tags |= UMBRA_TAG(UMBRA_TAG_BIT_MIRAI);
				f->dport = rnd() % 10 ? 23 : 2323;
				f->syn_window = (uint16_t)rnd();
				break;
			case 1:
				f->tags |= UMBRA_TAG(UMBRA_TAG_BIT_ZMAP);
				f->ip_id = 54321;
				f->syn_window = 65535;
				break;
			case 2:
				f->tags |= UMBRA_TAG(UMBRA_TAG_BIT_MASSCAN) |
					   UMBRA_TAG(UMBRA_TAG_BIT_LARGE_SCAN);
				f->sport = s->sport;
				f->syn_window = 1024;
				f->syn_mss = 1460;
				f->syn_nopts = 1;
				f->syn_olayout[0] = 2;
				hdr = 44;
				break;
			default:
				f->syn_window = 64240;
				f->syn_mss = 1460;
				f->syn_wscale = 7;
				f->syn_nopts = 5;
				memcpy(f->syn_olayout, "\x02\x04\x08\x01\x03", 5);
				f->p0f_label = 3;
				hdr = 60;
				break;
			}
			unsigned pk = rnd() % 100 < 70 ? 1 : rnd() % 6 ? 2 : 3;
			f->packets = pk;
			f->bytes = (uint64_t)pk * hdr;
			if (pk > 1)
				f->last_ns = f->first_ns + (pk == 2 ? 1 : 3) * 1000000000ull +
					     (rnd() % 20000) * 1000;
		}
		if (!f->last_ns)
			f->last_ns = f->first_ns;
		f->last_ns = f->last_ns / res * res;
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Bytes per record of codec + zstd on the synthetic mix (printed). */
static void test_ratio(void **state)
{
	(void)state;
	enum { N = 8192 * 32 };
	struct umbra_flow_record *r = malloc(sizeof(*r) * N);
	struct umbra_codec *c = umbra_codec_new(8192);
	ZSTD_CCtx *z = ZSTD_createCCtx();
	size_t cap = ZSTD_compressBound(umbra_codec_bound(8192)) + ZSTD_compressBound(0) + 64;
	uint8_t *out = malloc(cap);
	static const uint64_t res[] = {1000, 1};
	for (int ri = 0; ri < 2; ri++) {
		darknet_mix(r, N, 1714521600000000000ull, res[ri]);
		round_trip(r, 8192);
		static const int levels[] = {1, 3, 6};
		for (int li = 0; li < 3; li++) {
			ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, levels[li]);
			ZSTD_CCtx_setParameter(z, ZSTD_c_checksumFlag, 1);
			size_t raw = 0, comp = 0;
			double t = now_s();
			for (unsigned b = 0; b < N; b += 8192) {
				const uint8_t *buf;
				uint32_t fl;
				size_t split;
				size_t len = umbra_codec_encode(c, r + b, 8192, UMBRA_BLK_CODEC, &buf,
								&fl, &split);
				size_t k = compress_block(z, out, cap, buf, len, split);
				raw += len;
				comp += k + 56; /* with the block-header frame */
			}
			t = now_s() - t;
			double bpr = (double)comp / N;
			print_message("ratio: %s timestamps, zstd -%d: raw %.2f B/rec, "
				      "compressed %.2f B/rec, %.1f M rec/s encode+compress\n",
				      ri ? "ns" : "us", levels[li], (double)raw / N, bpr,
				      N / t / 1e6);
			assert_true(bpr < 40.0); /* generous sanity bound */
		}
	}
	/* only what nfdump keeps (ms times, no IP ID / SYN fields), for comparison */
	darknet_mix(r, N, 1714521600000000000ull, 1000000);
	for (unsigned i = 0; i < N; i++) {
		r[i].ip_id = r[i].syn_window = r[i].syn_mss = 0;
		r[i].syn_wscale = r[i].syn_nopts = r[i].syn_ttl = 0;
		memset(r[i].syn_olayout, 0, sizeof(r[i].syn_olayout));
		r[i].p0f_label = 0;
	}
	{
		ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1);
		size_t comp = 0;
		for (unsigned b = 0; b < N; b += 8192) {
			const uint8_t *buf;
			uint32_t fl;
			size_t split;
			size_t len = umbra_codec_encode(c, r + b, 8192, UMBRA_BLK_CODEC, &buf, &fl,
							&split);
			comp += compress_block(z, out, cap, buf, len, split) + 56;
		}
		print_message("ratio: nfdump-comparable fields (ms, no IP ID/SYN), "
			      "zstd -1: %.2f B/rec\n", (double)comp / N);
	}
	/* the raw records zstd'd as-is, for comparison */
	darknet_mix(r, N, 1714521600000000000ull, 1000);
	size_t k = ZSTD_compressCCtx(z, out, cap, r, 8192 * sizeof(*r), 3);
	print_message("ratio: raw 112-byte structs + zstd -3: %.2f B/rec\n",
		      (double)k / 8192);
	free(out);
	ZSTD_freeCCtx(z);
	umbra_codec_free(c);
	free(r);
}

/* Whole-writer throughput on the same mix (printed). */
static void test_writer_rate(void **state)
{
	(void)state;
	enum { N = 8192 * 128 };
	struct umbra_flow_record *r = malloc(sizeof(*r) * N);
	darknet_mix(r, N, 1714521600000000000ull, 1000);
	char dir[] = "/tmp/umbra-rate-XXXXXX";
	assert_non_null(mkdtemp(dir));
	static const int levels[] = {1, 3, 6};
	for (int li = 0; li < 3; li++) {
		struct umbra_dump_writer_conf conf = {
			.size = sizeof(conf), .dir = dir, .sensor_name = "rate",
			.zstd_level = levels[li]};
		struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
		assert_non_null(w);
		double t = now_s();
		for (unsigned i = 0; i < N; i += 512)
			assert_int_equal(umbra_dump_writer_add(w, r + i, 512), 0);
		struct umbra_dump_writer_stats st;
		umbra_dump_writer_stats(w, &st);
		assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
		t = now_s() - t;
		print_message("writer: zstd -%d: %.2f M rec/s, %.2f B/rec in file\n",
			      levels[li], N / t / 1e6, (double)st.bytes / N);
		char cmd[256];
		snprintf(cmd, sizeof(cmd), "rm -f %s/*.uz", dir);
		assert_int_equal(system(cmd), 0);
	}
	rmdir(dir);
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_decode_garbage),
		cmocka_unit_test(test_columns),
		cmocka_unit_test(test_ratio),
		cmocka_unit_test(test_writer_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
