/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests for the block-level reader API (engine/dump-reader.c) and the
 * column-selective decoder (engine/record-codec.c): every column of
 * umbra_block_decode_view() equals the full decode, and so do its ranges
 * (umbra_block_view_range) in any order, for IPv4 and IPv6,
 * every time unit, any subset of columns; damage is reported with its
 * offset and reason; a key-column view checks the key part by its own
 * checksum and never needs the rest; umbra_block_read_raw() hands back the
 * file's bytes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "record-codec.h"
#include "umbra/dump.h"
#include "writer-dump.h"

#define T0 1714521600000000000ull /* 2024-05-01T00:00:00Z */
#define SEC 1000000000ull
#define N 5000
#define BLOCK 700

static char dir[64], path[256];

static uint32_t rnd(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 33);
}

/* records of every kind, times in ns, us or ms units depending on variant */
static void make_recs(struct umbra_flow_record *r, unsigned n, int variant)
{
	uint64_t s = 42 + (uint64_t)variant;
	uint64_t unit = variant == 0 ? 1 : variant == 1 ? 1000 : 1000000;
	memset(r, 0, sizeof(*r) * n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t x = rnd(&s);
		r[i].family = x % 5 == 0 ? 6 : 4;
		if (r[i].family == 4) {
			/* repeated sources, so first_ns deltas are exercised */
			umbra_put32be(r[i].src, 0x3d000000u | (x >> 20));
			umbra_put32be(r[i].dst, 0xc0000200u | (x & 0xff));
		} else {
			r[i].src[0] = 0x24;
			r[i].src[15] = (uint8_t)(x >> 20);
			r[i].src[7] = (uint8_t)(x >> 12);
			r[i].dst[0] = 0x20;
			r[i].dst[1] = 0x01;
			r[i].dst[15] = (uint8_t)x;
		}
		r[i].first_ns = T0 + (uint64_t)rnd(&s) % (3600 * SEC) / unit * unit;
		r[i].last_ns = r[i].first_ns + (uint64_t)(rnd(&s) % 5000) * unit;
		r[i].proto = (uint8_t)(x % 7 == 0 ? 1 : x % 7 == 1 ? 17 : r[i].family == 6 && x % 3 == 0 ? 58 : 6);
		r[i].sport = (uint16_t)rnd(&s);
		r[i].dport = (uint16_t)(x % 3 ? 23 : rnd(&s));
		r[i].packets = 1 + rnd(&s) % (x % 11 == 0 ? 100000 : 4);
		r[i].bytes = 40ull * r[i].packets + (x % 13 == 0 ? (1ull << 40) : 0);
		r[i].tags = UMBRA_TAG_SCAN | (x % 4 == 0 ? UMBRA_TAG(UMBRA_TAG_BIT_ZMAP) : 0);
		r[i].end_reason = UMBRA_END_IDLE;
		r[i].ttl_min = (uint8_t)(40 + x % 20);
		r[i].ttl_max = (uint8_t)(r[i].ttl_min + x % 3);
		r[i].syn_ttl = x % 2 ? r[i].ttl_min : 0;
		r[i].ip_id = (uint16_t)rnd(&s);
		r[i].syn_window = (uint16_t)(x % 2 ? 65535 : 1024);
		r[i].syn_mss = 1460;
		r[i].syn_wscale = UMBRA_WSCALE_NONE;
		r[i].sig_id = (uint16_t)(x % 3);
	}
}

/* the records of variant in a fresh file, path, of block codec codec (0: the default) */
static void write_file_codec(int variant, unsigned codec)
{
	static const char *const pfx[] = {"192.0.2.0/24"};
	struct umbra_dump_writer_conf conf = {
		.size = sizeof(conf), .dir = dir, .sensor_name = "view",
		.prefixes = pfx, .nprefixes = 1, .rotate_s = 0, .block_records = BLOCK,
		.codec = codec};
	static struct umbra_flow_record recs[N];
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	assert_int_equal(system(cmd), 0);
	make_recs(recs, N, variant);
	struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
	assert_non_null(w);
	assert_int_equal(umbra_dump_writer_tick(w, T0), 0);
	assert_int_equal(umbra_dump_writer_add(w, recs, N), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	snprintf(cmd, sizeof(cmd), "ls %s/*.uz", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, sizeof(path), p));
	path[strcspn(path, "\n")] = 0;
	pclose(p);
}

static void write_file(int variant)
{
	write_file_codec(variant, 0);
}

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/umbra-view-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* record i of a view, rebuilt from its columns */
static void from_view(const struct umbra_block_view *v, uint32_t i, struct umbra_flow_record *r)
{
	const struct umbra_flow_record *p = &v->profiles[v->profile[i]];
	*r = *p;
	memset(r->src, 0, 16);
	memset(r->dst, 0, 16);
	if (i < v->n4) {
		umbra_put32be(r->src, v->src4[i]);
		umbra_put32be(r->dst, v->dst4[i]);
	} else {
		memcpy(r->src, v->src16 + 16 * (size_t)(i - v->n4), 16);
		memcpy(r->dst, v->dst16 + 16 * (size_t)(i - v->n4), 16);
	}
	r->first_ns = v->first_ns[i];
	r->last_ns = v->last_ns[i];
	r->sport = v->sport[i];
	r->dport = v->dport[i];
	r->packets = v->packets[i];
	r->bytes = v->bytes[i];
	r->ttl_min = v->ttl_min[i];
	r->ip_id = v->ip_id[i];
	r->syn_window = v->syn_window[i];
}

static void test_view_equals_full(void **state)
{
	(void)state;
	for (int variant = 0; variant < 3; variant++) {
		write_file(variant);
		struct umbra_dump_reader *r = umbra_dump_open(path);
		assert_non_null(r);
		struct umbra_block_decoder *d = umbra_block_decoder_new(0);
		struct umbra_block_decoder *d2 = umbra_block_decoder_new(UMBRA_DECODER_TRUST_CRC);
		assert_non_null(d);
		assert_non_null(d2);
		struct umbra_dump_block b;
		int k;
		unsigned blocks = 0, total = 0;
		while ((k = umbra_dump_next_block(r, &b)) == 1) {
			const struct umbra_flow_record *recs;
			struct umbra_block_view v;
			long n = umbra_block_decode(d, r, &b, &recs);
			assert_int_equal(n, b.records);
			long m = umbra_block_decode_view(d2, r, &b, UMBRA_COL_ALL, &v);
			assert_int_equal(m, n);
			assert_int_equal(v.n, n);
			for (long i = 0; i < n; i++) {
				struct umbra_flow_record x;
				from_view(&v, (uint32_t)i, &x);
				/* the profile does not carry ttl_max and syn_ttl */
				x.ttl_max = recs[i].ttl_max;
				x.syn_ttl = recs[i].syn_ttl;
				assert_memory_equal(&x, &recs[i], sizeof(x));
				assert_int_equal(i < (long)v.n4, recs[i].family == 4 &&
						 !recs[i].src[4] && !recs[i].src[15]);
			}
			/*
			 * in ranges: in order (delta columns carried on),
			 * backwards (worked out from the block's start),
			 * ranges across the compact / other boundary
			 */
			static const uint32_t sizes[] = {1, 7, 64, 333, 100000};
			for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
				for (int back = 0; back < 2; back++) {
					assert_int_equal(umbra_block_view_begin(d2, r, &b, UMBRA_COL_ALL), n);
					uint32_t sz = sizes[si], nr = ((uint32_t)n + sz - 1) / sz;
					for (uint32_t q = 0; q < nr; q++) {
						uint32_t from = (back ? nr - 1 - q : q) * sz;
						uint32_t cnt = (uint32_t)n - from < sz ? (uint32_t)n - from : sz;
						assert_int_equal(umbra_block_view_range(d2, from, cnt, &v), 0);
						assert_int_equal(v.n, cnt);
						assert_int_equal(v.from, from);
						for (uint32_t i = 0; i < cnt; i++) {
							struct umbra_flow_record x;
							const struct umbra_flow_record *w = &recs[from + i];
							from_view(&v, i, &x);
							x.ttl_max = w->ttl_max;
							x.syn_ttl = w->syn_ttl;
							assert_memory_equal(&x, w, sizeof(x));
							assert_int_equal(i < v.n4, w->family == 4 &&
									 !w->src[4] && !w->src[15]);
						}
					}
				}
				/* past the end */
				assert_int_equal(umbra_block_view_range(d2, (uint32_t)n, 1, &v), -EINVAL);
				assert_int_equal(umbra_block_view_range(d2, 1, (uint32_t)n, &v), -EINVAL);
				assert_non_null(umbra_block_decoder_error(d2));
				assert_int_equal(umbra_block_view_range(d2, (uint32_t)n, 0, &v), 0);
			}
			/* a block decoded since: no range of the one before */
			assert_int_equal(umbra_block_decode(d2, r, &b, &recs), n);
			assert_int_equal(umbra_block_view_range(d2, 0, 1, &v), -EINVAL);
			assert_int_equal(umbra_block_decode(d, r, &b, &recs), n);
			/* a subset: only what top-ports reads */
			struct umbra_block_view s;
			assert_int_equal(umbra_block_decode_view(d2, r, &b,
					 UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS |
					 UMBRA_COL_PROFILE, &s), n);
			assert_null(s.src4);
			assert_null(s.first_ns);
			assert_non_null(s.dst4);
			for (long i = 0; i < n; i++) {
				assert_int_equal(s.dport[i], recs[i].dport);
				assert_int_equal(s.packets[i], recs[i].packets);
				assert_int_equal(s.profiles[s.profile[i]].proto, recs[i].proto);
			}
			/* LAST implies FIRST */
			assert_int_equal(umbra_block_decode_view(d2, r, &b, UMBRA_COL_LAST, &s), n);
			assert_non_null(s.first_ns);
			for (long i = 0; i < n; i++)
				assert_int_equal(s.last_ns[i], recs[i].last_ns);
			/* the raw frame is the file's bytes */
			const uint8_t *raw;
			assert_int_equal(umbra_block_read_raw(d, r, &b, &raw), b.csize);
			uint8_t *fb = malloc(b.csize);
			int fd = open(path, O_RDONLY);
			assert_int_equal(pread(fd, fb, b.csize, (off_t)(b.offset + 56)), b.csize);
			close(fd);
			assert_memory_equal(fb, raw, b.csize);
			free(fb);
			blocks++;
			total += (unsigned)n;
		}
		assert_int_equal(k, 0);
		assert_int_equal(total, N);
		assert_int_equal(blocks, (N + BLOCK - 1) / BLOCK);
		umbra_block_decoder_free(d);
		umbra_block_decoder_free(d2);
		umbra_dump_close(r);
	}
}

static void flip(const char *p, uint64_t off)
{
	int fd = open(p, O_RDWR);
	uint8_t c;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, (off_t)off), 1);
	c ^= 0x10;
	assert_int_equal(pwrite(fd, &c, 1, (off_t)off), 1);
	close(fd);
}

static void test_damage_named(void **state)
{
	(void)state;
	write_file(1);
	struct umbra_dump_reader *r = umbra_dump_open(path);
	struct umbra_dump_block b[16];
	unsigned nb = 0;
	while (nb < 16 && umbra_dump_next_block(r, &b[nb]) == 1)
		nb++;
	umbra_dump_close(r);
	assert_true(nb >= 4);

	/* data of block 1: the block decoder says why; the walk is unaffected */
	flip(path, b[1].offset + 56 + b[1].csize / 2);
	/* header of block 2: the walk resynchronises at block 3 */
	flip(path, b[2].offset + 8 + 10);
	r = umbra_dump_open(path);
	struct umbra_block_decoder *d = umbra_block_decoder_new(0);
	struct umbra_dump_block x;
	const struct umbra_flow_record *recs;
	struct umbra_dump_damage_info di;
	assert_int_equal(umbra_dump_last_damage(r, &di), 0);
	assert_int_equal(umbra_dump_next_block(r, &x), 1);
	assert_int_equal(x.offset, b[0].offset);
	assert_int_equal(umbra_dump_next_block(r, &x), 1);
	assert_int_equal(x.offset, b[1].offset);
	assert_int_equal(umbra_block_decode(d, r, &x, &recs), -EBADMSG);
	assert_string_equal(umbra_block_decoder_error(d), "block data CRC");
	assert_int_equal(umbra_dump_next_block(r, &x), -EBADMSG);
	assert_int_equal(umbra_dump_last_damage(r, &di), 1);
	assert_int_equal(di.offset, b[2].offset);
	assert_int_equal(di.length, b[3].offset - b[2].offset);
	assert_string_equal(di.what, "bad block header");
	assert_int_equal(umbra_dump_next_block(r, &x), 1);
	assert_int_equal(x.offset, b[3].offset);
	/* the old API sees the same: block 1 and 2 lost, the rest intact */
	umbra_block_decoder_free(d);
	umbra_dump_close(r);
	r = umbra_dump_open(path);
	long k, good = 0, bad = 0;
	while ((k = umbra_dump_next(r, &recs)) != 0) {
		if (k < 0)
			bad++;
		else
			good += k;
	}
	assert_int_equal(bad, 2);
	assert_int_equal(good, N - b[1].records - b[2].records);
	umbra_dump_close(r);
}

#define KEY_COLS (UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS | UMBRA_COL_PROFILE)

/* the key columns of a view, one line per record, for comparison */
static size_t key_text(const struct umbra_block_view *v, char *buf, size_t cap)
{
	size_t k = 0;
	for (uint32_t i = 0; i < v->n && k < cap; i++) {
		const struct umbra_flow_record *p = &v->profiles[v->profile[i]];
		uint32_t d = i < v->n4 ? v->dst4[i] : v->dst16[16 * (size_t)(i - v->n4) + 15];
		k += (size_t)snprintf(buf + k, cap - k, "%u %u %u %u %u\n", (unsigned)d,
				      (unsigned)v->dport[i], (unsigned)v->packets[i],
				      (unsigned)p->proto, (unsigned)p->family);
	}
	return k;
}

/* the compressed size of block b's first (key) frame */
static size_t key_frame(struct umbra_block_decoder *d, const struct umbra_dump_reader *r,
			const struct umbra_dump_block *b)
{
	const uint8_t *p;
	long c = umbra_block_read_raw(d, r, b, &p);
	assert_int_equal(c, b->csize);
	size_t c1 = ZSTD_findFrameCompressedSize(p, (size_t)c);
	assert_false(ZSTD_isError(c1));
	assert_true(c1 > 16 && c1 < b->csize);
	return c1;
}

/* rewrite block b's header field at off (a u32), and the header's CRC */
static void put_header32(const char *p, const struct umbra_dump_block *b, unsigned off,
			 uint32_t x)
{
	uint8_t h[UMBRA_BLK_HDR_LEN];
	int fd = open(p, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, h, sizeof(h), (off_t)b->offset + 8), (ssize_t)sizeof(h));
	umbra_put32(h + off, x);
	umbra_put32(h + 44, umbra_crc32c(0, h, 44));
	assert_int_equal(pwrite(fd, h, sizeof(h), (off_t)b->offset + 8), (ssize_t)sizeof(h));
	close(fd);
}

/*
 * A view of key columns only reads a codec 2 or 3 block's key frame,
 * checked by the CRC-32C in a codec 3 block's header, or by a codec 2
 * frame's XXH64 (also with UMBRA_DECODER_TRUST_CRC, which skips XXH64 where
 * a CRC is read): damage past it leaves the view exact, while the full
 * decode still fails on the block CRC; damage in it, down to one bit of
 * the XXH64 at its end, fails the view. A codec 3 header whose key CRC is
 * wrong fails both.
 */
static void test_key_part_checked(void **state)
{
	static char want[BLOCK * 48], got[BLOCK * 48];
	(void)state;
	for (unsigned run = 0; run < 4; run++) {
		unsigned flags = run & 1 ? UMBRA_DECODER_TRUST_CRC : 0;
		unsigned codec = run & 2 ? UMBRA_BLK_CODEC_KEYCRC : UMBRA_BLK_CODEC_SPLIT;
		const char *key_why = codec == UMBRA_BLK_CODEC_KEYCRC ? "key part CRC" :
									  "key part checksum (XXH64)";
		write_file_codec(0, codec);
		struct umbra_dump_reader *r = umbra_dump_open(path);
		struct umbra_dump_block b[3];
		for (unsigned i = 0; i < 3; i++)
			assert_int_equal(umbra_dump_next_block(r, &b[i]), 1);
		assert_int_equal(b[1].codec, codec);
		struct umbra_block_decoder *d = umbra_block_decoder_new(flags);
		size_t c1 = key_frame(d, r, &b[1]), c2 = key_frame(d, r, &b[2]);
		struct umbra_block_view v;
		assert_int_equal(umbra_block_decode_view(d, r, &b[1], KEY_COLS, &v), b[1].records);
		size_t wn = key_text(&v, want, sizeof(want));
		umbra_block_decoder_free(d);
		umbra_dump_close(r);

		/* block 1: the middle of its rest; block 2: its key frame's
		 * middle, then (that undone) the last byte of its checksum */
		flip(path, b[1].offset + 56 + c1 + (b[1].csize - c1) / 2);
		flip(path, b[2].offset + 56 + c2 / 2);
		r = umbra_dump_open(path);
		d = umbra_block_decoder_new(flags);
		assert_int_equal(umbra_block_decode_view(d, r, &b[1], KEY_COLS, &v), b[1].records);
		assert_int_equal(key_text(&v, got, sizeof(got)), wn);
		assert_memory_equal(got, want, wn);
		const struct umbra_flow_record *recs;
		assert_int_equal(umbra_block_decode(d, r, &b[1], &recs), -EBADMSG);
		assert_string_equal(umbra_block_decoder_error(d), "block data CRC");
		/* a column outside the key part needs the whole block */
		assert_int_equal(umbra_block_decode_view(d, r, &b[1], KEY_COLS | UMBRA_COL_SPORT, &v),
				 -EBADMSG);
		assert_string_equal(umbra_block_decoder_error(d), "block data CRC");
		assert_int_equal(umbra_block_view_begin(d, r, &b[2], KEY_COLS), -EBADMSG);
		assert_non_null(umbra_block_decoder_error(d));
		umbra_block_decoder_free(d);
		umbra_dump_close(r);

		flip(path, b[2].offset + 56 + c2 / 2); /* undone */
		flip(path, b[2].offset + 56 + c2 - 1);
		r = umbra_dump_open(path);
		d = umbra_block_decoder_new(flags);
		assert_int_equal(umbra_block_view_begin(d, r, &b[2], KEY_COLS), -EBADMSG);
		assert_string_equal(umbra_block_decoder_error(d), key_why);
		/* block 0 is intact */
		assert_int_equal(umbra_block_view_begin(d, r, &b[0], KEY_COLS), b[0].records);
		umbra_block_decoder_free(d);
		umbra_dump_close(r);
		if (codec != UMBRA_BLK_CODEC_KEYCRC)
			continue;

		/* block 0's data intact, its header's key CRC off by one bit */
		put_header32(path, &b[0], 40, b[0].key_crc ^ 1);
		r = umbra_dump_open(path);
		d = umbra_block_decoder_new(flags);
		struct umbra_dump_block x;
		assert_int_equal(umbra_dump_next_block(r, &x), 1);
		assert_int_equal(x.key_crc, b[0].key_crc ^ 1);
		assert_int_equal(umbra_block_view_begin(d, r, &x, KEY_COLS), -EBADMSG);
		assert_string_equal(umbra_block_decoder_error(d), "key part CRC");
		assert_int_equal(umbra_block_decode(d, r, &x, &recs), -EBADMSG);
		assert_string_equal(umbra_block_decoder_error(d), "key part CRC");
		umbra_block_decoder_free(d);
		umbra_dump_close(r);
	}
}

/*
 * Header bytes 40..43 are reserved in codecs 1 and 2: a block of codec 2
 * with them set is damage, the same bytes in codec 3 are its key CRC.
 */
static void test_key_crc_field(void **state)
{
	(void)state;
	write_file_codec(0, UMBRA_BLK_CODEC_SPLIT);
	struct umbra_dump_reader *r = umbra_dump_open(path);
	struct umbra_dump_block b[2];
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(umbra_dump_next_block(r, &b[i]), 1);
	assert_int_equal(b[0].key_crc, 0);
	umbra_dump_close(r);
	put_header32(path, &b[0], 40, 1);
	r = umbra_dump_open(path);
	struct umbra_dump_block x;
	assert_int_equal(umbra_dump_next_block(r, &x), -EBADMSG);
	assert_int_equal(umbra_dump_next_block(r, &x), 1);
	assert_int_equal(x.offset, b[1].offset);
	umbra_dump_close(r);
}

static void test_time_range_skips(void **state)
{
	(void)state;
	write_file(2);
	struct umbra_dump_reader *r = umbra_dump_open(path);
	struct umbra_dump_block b;
	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned all = 0, in = 0;
	while (umbra_dump_next_block(r, &b) == 1) {
		all++;
		if (b.min_first_ns < lo)
			lo = b.min_first_ns;
		if (b.max_last_ns > hi)
			hi = b.max_last_ns;
	}
	umbra_dump_close(r);
	r = umbra_dump_open(path);
	umbra_dump_set_time_range(r, hi + 1, hi + 2);
	while (umbra_dump_next_block(r, &b) == 1)
		in++;
	assert_int_equal(in, 0);
	assert_true(all > 0);
	uint64_t size, end;
	umbra_dump_extent(r, &size, &end);
	assert_true(end < size); /* the index was found */
	umbra_dump_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_equals_full),
		cmocka_unit_test(test_damage_named),
		cmocka_unit_test(test_key_part_checked),
		cmocka_unit_test(test_key_crc_field),
		cmocka_unit_test(test_time_range_skips),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
