/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Columnar block codec (docs/FORMAT.md, "Columnar block"). The writer calls
 * it once per block on its own thread, so it allocates nothing per call:
 * every scratch array is sized for max_records when the codec is created.
 *
 * Records are sorted by (address layout, src, first_ns) so that flows of one
 * scanner sit together: repeated sources cost a zero delta, their first_ns
 * become small deltas, and their ports and profiles repeat for zstd.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record-codec.h"
#include "umbra/dump.h"

/* ---- CRC-32C ---------------------------------------------------------- */

static uint32_t crc_tab[8][256];
#if defined(__x86_64__)
#define CRC_LONG 8192
#define CRC_SHORT 256
static uint32_t crc_shift_long[4][256], crc_shift_short[4][256];
static void crc_shift_init(void);
#endif

__attribute__((constructor)) static void crc_init(void)
{
	for (unsigned i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		crc_tab[0][i] = c;
	}
	for (unsigned i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^
					crc_tab[0][crc_tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
	crc_shift_init();
#endif
}

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len);

#if defined(__x86_64__)
/*
 * The crc32 instruction takes 3 cycles and issues every cycle: three
 * independent lanes over adjacent stretches of one buffer keep it busy,
 * and their CRCs are joined by shifting a lane's CRC over the stretch
 * after it. Shifting a CRC register over len zero bytes is linear in the
 * register: a table per byte of it, built once per stretch length.
 */
static inline uint32_t crc_shift(uint32_t tab[4][256], uint32_t crc)
{
	return tab[0][crc & 0xff] ^ tab[1][crc >> 8 & 0xff] ^ tab[2][crc >> 16 & 0xff] ^
	       tab[3][crc >> 24];
}

/* tab from where each bit of a register goes */
static void crc_shift_fill(uint32_t tab[4][256], const uint32_t bit[32])
{
	for (unsigned k = 0; k < 4; k++)
		for (unsigned b = 0; b < 256; b++) {
			uint32_t x = 0;
			for (unsigned i = 0; i < 8; i++)
				if (b >> i & 1)
					x ^= bit[8 * k + i];
			tab[k][b] = x;
		}
}

/* the short stretch by the CRC of zeros, the long one as 32 short ones */
static void crc_shift_init(void)
{
	static const uint8_t zeros[CRC_SHORT];
	uint32_t bit[32];
	_Static_assert(CRC_LONG == 32 * CRC_SHORT, "the long stretch is 32 short ones");
	for (unsigned i = 0; i < 32; i++)
		bit[i] = crc32c_sw(1u << i, zeros, CRC_SHORT);
	crc_shift_fill(crc_shift_short, bit);
	for (unsigned i = 0; i < 32; i++) {
		uint32_t x = 1u << i;
		for (unsigned k = 0; k < 32; k++)
			x = crc_shift(crc_shift_short, x);
		bit[i] = x;
	}
	crc_shift_fill(crc_shift_long, bit);
}

/* three lanes over each 3 * slen bytes while len has them */
__attribute__((target("sse4.2"))) static inline uint64_t
crc_lanes(uint64_t c, const uint8_t **pp, size_t *lenp, size_t slen, uint32_t shift[4][256])
{
	const uint8_t *p = *pp;
	for (; *lenp >= 3 * slen; *lenp -= 3 * slen, p += 3 * slen) {
		uint64_t x1 = 0, x2 = 0;
		for (size_t i = 0; i < slen; i += 8) {
			uint64_t v0, v1, v2;
			memcpy(&v0, p + i, 8);
			memcpy(&v1, p + slen + i, 8);
			memcpy(&v2, p + 2 * slen + i, 8);
			c = __builtin_ia32_crc32di(c, v0);
			x1 = __builtin_ia32_crc32di(x1, v1);
			x2 = __builtin_ia32_crc32di(x2, v2);
		}
		c = crc_shift(shift, (uint32_t)c) ^ x1;
		c = crc_shift(shift, (uint32_t)c) ^ x2;
	}
	*pp = p;
	return c;
}

__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c = crc_lanes(crc, &p, &len, CRC_LONG, crc_shift_long);
	c = crc_lanes(c, &p, &len, CRC_SHORT, crc_shift_short);
	while (len >= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c = __builtin_ia32_crc32di(c, v);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	while (len--)
		c32 = __builtin_ia32_crc32qi(c32, *p++);
	return c32;
}
#endif

static uint32_t crc32c_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len >= 8) {
		uint32_t lo = crc ^ umbra_get32(p);
		uint32_t hi = umbra_get32(p + 4);
		crc = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
		      crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
		      crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
		      crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ crc_tab[0][(crc ^ *p++) & 0xff];
	return crc;
}

void umbra_blk_frame_put(uint8_t *p, const struct umbra_dump_block *b)
{
	umbra_put32(p, UMBRA_FRAME_BLOCK);
	umbra_put32(p + 4, UMBRA_BLK_HDR_LEN);
	uint8_t *h = p + 8;
	umbra_put32(h, b->records);
	umbra_put16(h + 4, b->flags);
	umbra_put16(h + 6, b->codec);
	umbra_put64(h + 8, b->min_first_ns);
	umbra_put64(h + 16, b->max_last_ns);
	umbra_put32(h + 24, b->usize);
	umbra_put32(h + 28, b->csize);
	umbra_put32(h + 32, b->data_crc);
	umbra_put32(h + 36, b->seq);
	umbra_put32(h + 40, b->codec == UMBRA_BLK_CODEC_KEYCRC ? b->key_crc : 0);
	umbra_put32(h + 44, umbra_crc32c(0, h, 44));
}

uint32_t umbra_crc32c(uint32_t crc, const void *buf, size_t len)
{
	crc = ~crc;
#if defined(__x86_64__)
	static int hw = -1;
	if (hw < 0)
		hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	if (hw)
		return ~crc32c_hw(crc, buf, len);
#endif
	return ~crc32c_sw(crc, buf, len);
}

/* ---- codec ------------------------------------------------------------ */

/* profile: the per-flow fields that repeat per scanner, stored once per block */
#define PROF_LEN 44
#define PROF_KEY 48
#define BLK_FIXED 24

/* the columns of docs/FORMAT.md (codec 1 order), and the profile table */
enum {
	K_SRC4, K_DST4, K_SRC16, K_DST16, K_FIRST, K_DUR, K_SPORT, K_DPORT,
	K_PKTS, K_BYTES, K_TTL, K_IPID, K_WIN, K_PROF, K_PROFILES, K_N
};
/* where each codec stores them: codec 2 puts the key columns of the
 * aggregating commands first, in a zstd frame of their own */
static const uint8_t col_order[2][K_N] = {
	{K_SRC4, K_DST4, K_SRC16, K_DST16, K_FIRST, K_DUR, K_SPORT, K_DPORT,
	 K_PKTS, K_BYTES, K_TTL, K_IPID, K_WIN, K_PROF, K_PROFILES},
	{K_DST4, K_DST16, K_DPORT, K_PKTS, K_PROF, K_PROFILES,
	 K_SRC4, K_SRC16, K_FIRST, K_DUR, K_SPORT, K_BYTES, K_TTL, K_IPID, K_WIN},
};
#define SPLIT_KEY_NCOLS 6 /* codec 2: columns in the key part */
_Static_assert(UMBRA_CODEC_KEY_COLS == (UMBRA_COL_DST | UMBRA_COL_DPORT | UMBRA_COL_PACKETS |
					UMBRA_COL_PROFILE),
	       "the key part holds dst4, dst16, dport, packets, profile index and profiles");
/* the widest value of each integer column, in bytes */
static const uint8_t col_maxw[K_N] = {4, 4, 16, 16, 8, 8, 2, 2, 4, 8, 1, 2, 2, 4, 0};

/*
 * One array per record field, as the columns hold them: the encoder fills
 * them from the sorted records and writes each column from its own array;
 * the decoder's view fills them from the columns. Sized for max records.
 */
struct codec_fields {
	uint64_t *first, *last, *bytes;
	uint32_t *dst4, *packets;
	uint16_t *sport, *dport, *ipid, *win;
	uint8_t *ttl;
	uint8_t *src16, *dst16; /* 16 bytes a record, non-compact only */
};

static int fields_alloc(struct codec_fields *f, size_t m)
{
	f->first = malloc(sizeof(uint64_t) * m);
	f->last = malloc(sizeof(uint64_t) * m);
	f->bytes = malloc(sizeof(uint64_t) * m);
	f->dst4 = malloc(sizeof(uint32_t) * m);
	f->packets = malloc(sizeof(uint32_t) * m);
	f->sport = malloc(sizeof(uint16_t) * m);
	f->dport = malloc(sizeof(uint16_t) * m);
	f->ipid = malloc(sizeof(uint16_t) * m);
	f->win = malloc(sizeof(uint16_t) * m);
	f->ttl = malloc(m);
	f->src16 = malloc(16 * m);
	f->dst16 = malloc(16 * m);
	return f->first && f->last && f->bytes && f->dst4 && f->packets && f->sport &&
	       f->dport && f->ipid && f->win && f->ttl && f->src16 && f->dst16 ? 0 : -ENOMEM;
}

/* every array written once, so that its pages are in before the first block */
static void fields_prefault(struct codec_fields *f, size_t m)
{
	memset(f->first, 0, sizeof(uint64_t) * m);
	memset(f->last, 0, sizeof(uint64_t) * m);
	memset(f->bytes, 0, sizeof(uint64_t) * m);
	memset(f->dst4, 0, sizeof(uint32_t) * m);
	memset(f->packets, 0, sizeof(uint32_t) * m);
	memset(f->sport, 0, sizeof(uint16_t) * m);
	memset(f->dport, 0, sizeof(uint16_t) * m);
	memset(f->ipid, 0, sizeof(uint16_t) * m);
	memset(f->win, 0, sizeof(uint16_t) * m);
	memset(f->ttl, 0, m);
	memset(f->src16, 0, 16 * m);
	memset(f->dst16, 0, 16 * m);
}

static void fields_free(struct codec_fields *f)
{
	free(f->first);
	free(f->last);
	free(f->bytes);
	free(f->dst4);
	free(f->packets);
	free(f->sport);
	free(f->dport);
	free(f->ipid);
	free(f->win);
	free(f->ttl);
	free(f->src16);
	free(f->dst16);
}

struct umbra_codec {
	unsigned max;
	unsigned hmask;
	uint32_t *perm, *perm2; /* record order */
	uint64_t *tkey;         /* first_ns - base */
	uint32_t *skey;         /* IPv4 src, host order */
	uint32_t *sk;           /* skey in sorted order */
	/*
	 * The fields the columns need, in sorted order, one array each: one
	 * pass over the records fills them, then each column reads only its
	 * own array. (A sorted copy of the whole records, 7 MiB a block, was
	 * streamed once per column: about 2 KiB of memory traffic a record.)
	 */
	struct codec_fields fld;
	uint64_t *col;          /* one column's values */
	uint32_t *prof_idx;     /* per sorted record */
	uint8_t *prof;          /* nprof x PROF_KEY */
	uint32_t *htab;         /* profile hash: index + 1, 0 = empty */
	uint8_t *out;
	size_t out_cap;
	struct codec_view *view; /* column arrays of decode_view, on demand */
};

/* A block's fixed part and where each of its columns lies (walk()). */
struct layout {
	uint32_t n, n4, nprof;
	unsigned e;
	uint64_t base, unit;
	const uint8_t *pl[K_N]; /* byte planes (the profile table for K_PROFILES) */
	unsigned w[K_N];        /* width of an integer column */
	const uint8_t *col[K_N]; /* each column's bytes, an integer column's width byte first */
	size_t col_len[K_N];
};

/*
 * The arrays umbra_codec_view_range() hands out, sized for max records,
 * and the block it hands them out of: its layout, the columns asked for,
 * and where the delta-coded columns' running values stand (a range that
 * starts where the last one ended continues from them).
 */
struct codec_view {
	struct codec_fields f;
	uint32_t *src4, *prof;
	uint8_t *same;
	struct umbra_flow_record *profiles;
	struct layout L;
	unsigned cols;
	int ready;
	uint32_t src_at, src_prev; /* src4 of record src_at - 1 */
	uint32_t first_at;	   /* first_ns of record first_at - 1 */
	uint64_t first_prev;
};

size_t umbra_codec_bound(unsigned n)
{
	/* per record: 32 addr + 8 first + 8 dur + 2+2 ports + 4 pkts + 8 bytes
	 * + 1 ttl + 2 ip_id + 2 window + 4 profile idx + PROF_LEN profile; 16 width bytes */
	return BLK_FIXED + 16 + (size_t)n * (73 + PROF_LEN);
}

struct umbra_codec *umbra_codec_new(unsigned max_records)
{
	if (max_records == 0 || max_records > UMBRA_MAX_BLOCK_RECORDS) {
		errno = EINVAL;
		return NULL;
	}
	struct umbra_codec *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	unsigned hsize = 64;
	while (hsize < 2 * max_records)
		hsize <<= 1;
	c->max = max_records;
	c->hmask = hsize - 1;
	c->perm = malloc(sizeof(uint32_t) * max_records);
	c->perm2 = malloc(sizeof(uint32_t) * max_records);
	c->tkey = malloc(sizeof(uint64_t) * max_records);
	c->skey = malloc(sizeof(uint32_t) * max_records);
	c->col = malloc(sizeof(uint64_t) * max_records);
	c->sk = malloc(sizeof(uint32_t) * max_records);
	int fld_ok = fields_alloc(&c->fld, max_records) == 0;
	c->prof_idx = malloc(sizeof(uint32_t) * max_records);
	c->prof = malloc((size_t)PROF_KEY * max_records);
	c->htab = malloc(sizeof(uint32_t) * hsize);
	c->out_cap = umbra_codec_bound(max_records);
	c->out = malloc(c->out_cap);
	if (!c->perm || !c->perm2 || !c->tkey || !c->skey || !c->col ||
	    !c->prof_idx || !c->prof || !c->htab || !c->out || !c->sk ||
	    !fld_ok) {
		umbra_codec_free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void umbra_codec_prefault(struct umbra_codec *c)
{
	size_t m = c->max;
	memset(c->perm, 0, sizeof(uint32_t) * m);
	memset(c->perm2, 0, sizeof(uint32_t) * m);
	memset(c->tkey, 0, sizeof(uint64_t) * m);
	memset(c->skey, 0, sizeof(uint32_t) * m);
	memset(c->col, 0, sizeof(uint64_t) * m);
	memset(c->sk, 0, sizeof(uint32_t) * m);
	fields_prefault(&c->fld, m);
	memset(c->prof_idx, 0, sizeof(uint32_t) * m);
	memset(c->prof, 0, (size_t)PROF_KEY * m);
	memset(c->out, 0, c->out_cap);
}

static void view_free(struct codec_view *v)
{
	if (!v)
		return;
	fields_free(&v->f);
	free(v->src4);
	free(v->prof);
	free(v->same);
	free(v->profiles);
	free(v);
}

void umbra_codec_free(struct umbra_codec *c)
{
	if (!c)
		return;
	free(c->perm);
	free(c->perm2);
	free(c->tkey);
	free(c->skey);
	free(c->col);
	free(c->sk);
	fields_free(&c->fld);
	free(c->prof_idx);
	free(c->prof);
	free(c->htab);
	free(c->out);
	view_free(c->view);
	free(c);
}

static int is_compact(const struct umbra_flow_record *r)
{
	static const uint8_t zero[12];
	return r->family == 4 && memcmp(r->src + 4, zero, 12) == 0 &&
	       memcmp(r->dst + 4, zero, 12) == 0;
}

/* One stable LSD radix pass on byte `shift` of a u64 key; 0 if skipped. */
static int radix64(const uint32_t *in, uint32_t *out, unsigned m,
		   const uint64_t *key, unsigned shift)
{
	unsigned cnt[257] = {0};
	for (unsigned i = 0; i < m; i++)
		cnt[((key[in[i]] >> shift) & 0xff) + 1]++;
	for (unsigned b = 0; b < 256; b++)
		if (cnt[b + 1] == m)
			return 0;
	for (unsigned b = 1; b < 257; b++)
		cnt[b] += cnt[b - 1];
	for (unsigned i = 0; i < m; i++)
		out[cnt[(key[in[i]] >> shift) & 0xff]++] = in[i];
	return 1;
}

static int radix32(const uint32_t *in, uint32_t *out, unsigned m,
		   const uint32_t *key, unsigned shift)
{
	unsigned cnt[257] = {0};
	for (unsigned i = 0; i < m; i++)
		cnt[((key[in[i]] >> shift) & 0xff) + 1]++;
	for (unsigned b = 0; b < 256; b++)
		if (cnt[b + 1] == m)
			return 0;
	for (unsigned b = 1; b < 257; b++)
		cnt[b] += cnt[b - 1];
	for (unsigned i = 0; i < m; i++)
		out[cnt[(key[in[i]] >> shift) & 0xff]++] = in[i];
	return 1;
}

static int radix_addr(const uint32_t *in, uint32_t *out, unsigned m,
		      const struct umbra_flow_record *recs, unsigned byte)
{
	unsigned cnt[257] = {0};
	for (unsigned i = 0; i < m; i++)
		cnt[recs[in[i]].src[byte] + 1]++;
	for (unsigned b = 0; b < 256; b++)
		if (cnt[b + 1] == m)
			return 0;
	for (unsigned b = 1; b < 257; b++)
		cnt[b] += cnt[b - 1];
	for (unsigned i = 0; i < m; i++)
		out[cnt[recs[in[i]].src[byte]]++] = in[i];
	return 1;
}

/*
 * Sort perm[0..m) by (src, first_ns), stable. perm2 is scratch; the result
 * is left in perm.
 */
static void sort_section(struct umbra_codec *c, uint32_t *perm, uint32_t *tmp,
			 unsigned m, const struct umbra_flow_record *recs,
			 int compact, uint64_t tspan)
{
	uint32_t *a = perm, *b = tmp;
	for (unsigned sh = 0; sh < 64 && (tspan >> sh); sh += 8)
		if (radix64(a, b, m, c->tkey, sh)) {
			uint32_t *t = a;
			a = b;
			b = t;
		}
	if (compact) {
		for (unsigned sh = 0; sh < 32; sh += 8)
			if (radix32(a, b, m, c->skey, sh)) {
				uint32_t *t = a;
				a = b;
				b = t;
			}
	} else {
		for (int byte = 15; byte >= 0; byte--)
			if (radix_addr(a, b, m, recs, (unsigned)byte)) {
				uint32_t *t = a;
				a = b;
				b = t;
			}
	}
	if (a != perm)
		memcpy(perm, a, sizeof(*perm) * m);
}

/*
 * Byte planes 0..w-1 of n values in one pass over the values, rather than
 * one pass per plane that reads every value w times. Called with a
 * constant w, so the inner loop unrolls.
 */
static inline __attribute__((always_inline)) void
planes_w(uint8_t *p, const uint64_t *v, unsigned n, unsigned w)
{
	for (unsigned i = 0; i < n; i++) {
		uint64_t x = v[i];
#pragma GCC unroll 8
		for (unsigned b = 0; b < w; b++)
			p[(size_t)b * n + i] = (uint8_t)(x >> (8 * b));
	}
}

/* column: u8 width w, then w byte planes (least significant first) */
static uint8_t *put_col(uint8_t *p, const uint64_t *v, unsigned n)
{
	uint64_t any = 0;
#pragma GCC unroll 4
	for (unsigned i = 0; i < n; i++)
		any |= v[i];
	unsigned w = 0;
	while (w < 8 && (any >> (8 * w)))
		w++;
	*p++ = (uint8_t)w;
	switch (w) {
	case 1: planes_w(p, v, n, 1); break;
	case 2: planes_w(p, v, n, 2); break;
	case 3: planes_w(p, v, n, 3); break;
	case 4: planes_w(p, v, n, 4); break;
	case 5: planes_w(p, v, n, 5); break;
	case 6: planes_w(p, v, n, 6); break;
	case 7: planes_w(p, v, n, 7); break;
	case 8: planes_w(p, v, n, 8); break;
	default: break;
	}
	return p + (size_t)w * n;
}

static void prof_make(uint8_t *k, const struct umbra_flow_record *r)
{
	k[0] = r->family;
	k[1] = r->proto;
	k[2] = r->tcp_flags;
	k[3] = r->end_reason;
	umbra_put32(k + 4, r->tags);
	k[8] = (uint8_t)(r->ttl_max - r->ttl_min);
	/* syn_ttl is usually ttl_min or 0 (no SYN): code 0 = 0, else xor + 1 */
	umbra_put16(k + 9, r->syn_ttl ? (uint16_t)((r->syn_ttl ^ r->ttl_min) + 1) : 0);
	umbra_put16(k + 11, r->syn_mss);
	k[13] = r->syn_wscale;
	k[14] = r->syn_ip_olen;
	k[15] = r->syn_nopts;
	memcpy(k + 16, r->syn_olayout, UMBRA_OLAYOUT_MAX);
	umbra_put32(k + 32, r->syn_quirks);
	umbra_put16(k + 36, r->p0f_label);
	umbra_put16(k + 38, r->sig_id);
	k[40] = r->syn_pclass;
	memcpy(k + 41, r->reserved, 3);
	memset(k + 44, 0, 4);
}

static int prof_apply(struct umbra_flow_record *r, const uint8_t *k)
{
	uint16_t st = umbra_get16(k + 9);
	if (st > 256)
		return -1;
	r->family = k[0];
	r->proto = k[1];
	r->tcp_flags = k[2];
	r->end_reason = k[3];
	r->tags = umbra_get32(k + 4);
	r->ttl_max = (uint8_t)(r->ttl_min + k[8]);
	r->syn_ttl = st ? (uint8_t)((st - 1) ^ r->ttl_min) : 0;
	r->syn_mss = umbra_get16(k + 11);
	r->syn_wscale = k[13];
	r->syn_ip_olen = k[14];
	r->syn_nopts = k[15];
	memcpy(r->syn_olayout, k + 16, UMBRA_OLAYOUT_MAX);
	r->syn_quirks = umbra_get32(k + 32);
	r->p0f_label = umbra_get16(k + 36);
	r->sig_id = umbra_get16(k + 38);
	r->syn_pclass = k[40];
	memcpy(r->reserved, k + 41, 3);
	return 0;
}

static uint32_t prof_hash(const uint8_t *k)
{
	uint64_t h = 0x9E3779B97F4A7C15ull;
	for (int i = 0; i < PROF_KEY; i += 8) {
		uint64_t v;
		memcpy(&v, k + i, 8);
		h = (h ^ v) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	return (uint32_t)(h ^ (h >> 32));
}

/* constant divisors, so the compiler multiplies instead of dividing */
static void div_unit(uint64_t *v, unsigned n, unsigned e)
{
	if (e == 3)
		for (unsigned i = 0; i < n; i++)
			v[i] /= 1000;
	else if (e == 6)
		for (unsigned i = 0; i < n; i++)
			v[i] /= 1000000;
}

static unsigned pick_unit(const struct umbra_flow_record *recs, unsigned n,
			  uint64_t *unit)
{
	int ok3 = 1, ok6 = 1;
	for (unsigned i = 0; i < n && ok3; i++) {
		uint64_t f = recs[i].first_ns, l = recs[i].last_ns;
		ok3 = l >= f && f % 1000 == 0 && l % 1000 == 0;
	}
	if (!ok3) {
		*unit = 1;
		return 0;
	}
	for (unsigned i = 0; i < n && ok6; i++)
		ok6 = recs[i].first_ns % 1000000 == 0 &&
		      recs[i].last_ns % 1000000 == 0;
	*unit = ok6 ? 1000000 : 1000;
	return ok6 ? 6 : 3;
}

/* One column k of the sorted records at p; returns its end. */
static uint8_t *emit_col(struct umbra_codec *c, unsigned k, uint8_t *p, unsigned n,
			 unsigned n4, uint64_t base, unsigned e, unsigned nprof)
{
	const uint64_t *first = c->fld.first;
	const uint32_t *sk = c->sk;
	uint64_t *v = c->col;
	unsigned n6 = n - n4;

	switch (k) {
	case K_SRC4: {
		/* IPv4 src: delta of the sorted values */
		uint32_t prev = 0;
		for (unsigned i = 0; i < n4; i++) {
			uint32_t s = sk[i];
			v[i] = (uint32_t)(s - prev);
			prev = s;
		}
		return put_col(p, v, n4);
	}
	case K_DST4:
		for (unsigned i = 0; i < n4; i++)
			v[i] = c->fld.dst4[i];
		return put_col(p, v, n4);
	case K_SRC16:
	case K_DST16: {
		/* other addresses: 16 byte planes each */
		const uint8_t *a = k == K_SRC16 ? c->fld.src16 : c->fld.dst16;
		for (unsigned b = 0; b < 16; b++, p += n6)
			for (unsigned i = 0; i < n6; i++)
				p[i] = a[16 * (size_t)i + b];
		return p;
	}
	case K_FIRST: {
		/* first_ns: delta from the same source's previous flow, else from base */
		const uint8_t *src16 = c->fld.src16;
		v[0] = first[0] - base;
		for (unsigned i = 1; i < n4; i++)
			v[i] = first[i] - (sk[i] == sk[i - 1] ? first[i - 1] : base);
		for (unsigned i = n4 ? n4 : 1; i < n; i++)
			v[i] = first[i] -
			       (i > n4 && memcmp(src16 + 16 * (size_t)(i - n4),
						 src16 + 16 * (size_t)(i - 1 - n4), 16) == 0
					? first[i - 1] : base);
		div_unit(v, n, e);
		return put_col(p, v, n);
	}
	case K_DUR:
		for (unsigned i = 0; i < n; i++)
			v[i] = c->fld.last[i] - first[i];
		div_unit(v, n, e);
		return put_col(p, v, n);
	case K_PROFILES:
		for (unsigned j = 0; j < nprof; j++, p += PROF_LEN)
			memcpy(p, c->prof + (size_t)j * PROF_KEY, PROF_LEN);
		return p;
	default:
		break;
	}
	/* one loop per column, not a switch per value */
#define FIELD_COL(arr)                                     \
	do {                                               \
		for (unsigned i = 0; i < n; i++)           \
			v[i] = (arr)[i];                   \
	} while (0)
	switch (k) {
	case K_SPORT: FIELD_COL(c->fld.sport); break;
	case K_DPORT: FIELD_COL(c->fld.dport); break;
	case K_PKTS: FIELD_COL(c->fld.packets); break;
	case K_BYTES: FIELD_COL(c->fld.bytes); break;
	case K_TTL: FIELD_COL(c->fld.ttl); break;
	case K_IPID: FIELD_COL(c->fld.ipid); break;
	case K_WIN: FIELD_COL(c->fld.win); break;
	default: FIELD_COL(c->prof_idx); break; /* K_PROF */
	}
#undef FIELD_COL
	return put_col(p, v, n);
}

size_t umbra_codec_encode(struct umbra_codec *c,
			  const struct umbra_flow_record *recs, unsigned n,
			  unsigned codec, const uint8_t **out, uint32_t *flags,
			  size_t *split)
{
	uint64_t base = UINT64_MAX, tmax = 0, unit;
	unsigned n4 = 0, n6 = 0;

	for (unsigned i = 0; i < n; i++) {
		if (recs[i].first_ns < base)
			base = recs[i].first_ns;
		if (recs[i].first_ns > tmax)
			tmax = recs[i].first_ns;
	}
	/* compact (IPv4) records first, then the rest, arrival order kept */
	for (unsigned i = 0; i < n; i++) {
		c->tkey[i] = recs[i].first_ns - base;
		if (is_compact(&recs[i])) {
			c->skey[i] = umbra_get32be(recs[i].src);
			c->perm[n4++] = i;
		} else {
			c->skey[i] = 0;
			c->perm2[n6++] = i;
		}
	}
	memcpy(c->perm + n4, c->perm2, sizeof(uint32_t) * n6);
	sort_section(c, c->perm, c->perm2, n4, recs, 1, tmax - base);
	sort_section(c, c->perm + n4, c->perm2, n6, recs, 0, tmax - base);
	unsigned e = pick_unit(recs, n, &unit);
	/* one pass in sorted order fills the field arrays and the profiles */
	memset(c->htab, 0, sizeof(uint32_t) * (c->hmask + 1));
	unsigned nprof = 0;
	for (unsigned i = 0; i < n; i++) {
		/* the block is larger than L2: fetch the records ahead */
		if (i + 8 < n) {
			const char *a = (const char *)&recs[c->perm[i + 8]];
			__builtin_prefetch(a);
			__builtin_prefetch(a + 64);
			__builtin_prefetch(a + sizeof(*recs) - 1);
		}
		const struct umbra_flow_record *r = &recs[c->perm[i]];
		c->sk[i] = c->skey[c->perm[i]];
		c->fld.first[i] = r->first_ns;
		c->fld.last[i] = r->last_ns;
		c->fld.bytes[i] = r->bytes;
		c->fld.packets[i] = r->packets;
		c->fld.sport[i] = r->sport;
		c->fld.dport[i] = r->dport;
		c->fld.ipid[i] = r->ip_id;
		c->fld.win[i] = r->syn_window;
		c->fld.ttl[i] = r->ttl_min;
		if (i < n4) {
			c->fld.dst4[i] = umbra_get32be(r->dst);
		} else {
			memcpy(c->fld.src16 + 16 * (size_t)(i - n4), r->src, 16);
			memcpy(c->fld.dst16 + 16 * (size_t)(i - n4), r->dst, 16);
		}
		uint8_t *k = c->prof + (size_t)nprof * PROF_KEY;
		prof_make(k, r);
		/* a source's flows are adjacent and mostly share a profile */
		if (i > 0 && memcmp(c->prof + (size_t)c->prof_idx[i - 1] * PROF_KEY, k,
				    PROF_KEY) == 0) {
			c->prof_idx[i] = c->prof_idx[i - 1];
			continue;
		}
		uint32_t h = prof_hash(k) & c->hmask;
		for (;;) {
			uint32_t s = c->htab[h];
			if (s == 0) {
				c->htab[h] = ++nprof;
				c->prof_idx[i] = nprof - 1;
				break;
			}
			if (memcmp(c->prof + (size_t)(s - 1) * PROF_KEY, k,
				   PROF_KEY) == 0) {
				c->prof_idx[i] = s - 1;
				break;
			}
			h = (h + 1) & c->hmask;
		}
	}

	uint8_t *p = c->out;
	umbra_put32(p, n);
	p[4] = (uint8_t)e;
	p[5] = p[6] = p[7] = 0;
	umbra_put64(p + 8, base);
	umbra_put32(p + 16, n4);
	umbra_put32(p + 20, nprof);
	p += BLK_FIXED;
	const uint8_t *ord = col_order[codec == UMBRA_BLK_CODEC_SPLIT];
	*split = 0;
	for (unsigned j = 0; j < K_N; j++) {
		if (codec == UMBRA_BLK_CODEC_SPLIT && j == SPLIT_KEY_NCOLS)
			*split = (size_t)(p - c->out);
		p = emit_col(c, ord[j], p, n, n4, base, e, nprof);
	}
	if (*split == 0)
		*split = (size_t)(p - c->out);

	*out = c->out;
	*flags = UMBRA_BLK_FLAG_SORTED;
	return (size_t)(p - c->out);
}

/* An integer column's header: checks it, returns the end, *pl the planes. */
static const uint8_t *col_at(const uint8_t *p, const uint8_t *end, unsigned n,
			     unsigned maxw, const uint8_t **pl, unsigned *w)
{
	if (p >= end)
		return NULL;
	*w = *p++;
	if (*w > maxw || (size_t)(end - p) < (size_t)*w * n)
		return NULL;
	*pl = p;
	return p + (size_t)*w * n;
}

/*
 * Check a block's structure and find its columns. key_only: buf holds only
 * the key part of a codec 2 block. 0 or -EBADMSG.
 */
static int walk(const uint8_t *buf, size_t len, unsigned codec, int key_only,
		unsigned max, struct layout *L)
{
	const uint8_t *p = buf, *end = buf + len;

	if (len < BLK_FIXED ||
	    (codec != UMBRA_BLK_CODEC_FLAT && codec != UMBRA_BLK_CODEC_SPLIT) ||
	    (key_only && codec != UMBRA_BLK_CODEC_SPLIT))
		return -EBADMSG;
	L->n = umbra_get32(p);
	L->n4 = umbra_get32(p + 16);
	L->nprof = umbra_get32(p + 20);
	L->e = p[4];
	L->base = umbra_get64(p + 8);
	if (L->n == 0 || L->n > max || L->n4 > L->n || L->nprof == 0 || L->nprof > L->n ||
	    (L->e != 0 && L->e != 3 && L->e != 6) || p[5] || p[6] || p[7])
		return -EBADMSG;
	L->unit = L->e == 6 ? 1000000 : L->e == 3 ? 1000 : 1;
	unsigned n6 = L->n - L->n4;
	p += BLK_FIXED;
	const uint8_t *ord = col_order[codec == UMBRA_BLK_CODEC_SPLIT];
	unsigned ncols = key_only ? SPLIT_KEY_NCOLS : K_N;
	for (unsigned j = 0; j < ncols; j++) {
		unsigned k = ord[j];
		size_t fixed = k == K_SRC16 || k == K_DST16 ? (size_t)16 * n6
			       : k == K_PROFILES	   ? (size_t)L->nprof * PROF_LEN
							   : 0;
		L->col[k] = p;
		if (fixed) {
			if ((size_t)(end - p) < fixed)
				return -EBADMSG;
			L->pl[k] = p;
			L->w[k] = col_maxw[k];
			p += fixed;
		} else if (k == K_SRC16 || k == K_DST16) { /* no such records */
			L->pl[k] = p;
			L->w[k] = 16;
		} else {
			p = col_at(p, end, k == K_SRC4 || k == K_DST4 ? L->n4 : L->n,
				   col_maxw[k], &L->pl[k], &L->w[k]);
			if (!p)
				return -EBADMSG;
		}
		L->col_len[k] = (size_t)(p - L->col[k]);
	}
	/* the block (or its key part) must end exactly after its last column */
	return p == end ? 0 : -EBADMSG;
}

_Static_assert(K_N == UMBRA_CODEC_NCOLS, "one name and one range per stored column");

const char *umbra_codec_col_name(unsigned k)
{
	static const char *const names[K_N] = {
		"src4",	 "dst4",    "src16", "dst16",	"first",      "duration",      "sport",
		"dport", "packets", "bytes", "ttl_min", "ip_id", "syn_window", "profile_index",
		"profiles",
	};

	return k < K_N ? names[k] : NULL;
}

int umbra_codec_columns(const uint8_t *buf, size_t len, unsigned codec,
			size_t off[UMBRA_CODEC_NCOLS], size_t clen[UMBRA_CODEC_NCOLS])
{
	struct layout L;

	if (walk(buf, len, codec, 0, UMBRA_MAX_BLOCK_RECORDS, &L) != 0)
		return -EBADMSG;
	for (unsigned k = 0; k < K_N; k++) {
		off[k] = (size_t)(L.col[k] - buf);
		clen[k] = L.col_len[k];
	}
	return 0;
}

/* byte planes to integers: separate loops per width so they vectorise */
#define VECTORIZE UMBRA_VECTORIZE

/* n values from planes stride bytes apart (the column's length) */
VECTORIZE static void planes_u16(uint16_t *o, const uint8_t *p, unsigned n, unsigned w,
				 size_t stride)
{
	if (w == 0) {
		memset(o, 0, sizeof(*o) * n);
	} else if (w == 1) {
		for (unsigned i = 0; i < n; i++)
			o[i] = p[i];
	} else {
		const uint8_t *q = p + stride;
		for (unsigned i = 0; i < n; i++)
			o[i] = (uint16_t)(p[i] | q[i] << 8);
	}
}

VECTORIZE static void planes_u32(uint32_t *o, const uint8_t *p, unsigned n, unsigned w,
				 size_t stride)
{
	/* one pass per width: o is written once, not once per plane */
	const uint8_t *q = w > 1 ? p + stride : p, *r = w > 2 ? q + stride : q,
		      *s = w > 3 ? r + stride : r;
	switch (w) {
	case 0:
		memset(o, 0, sizeof(*o) * n);
		break;
	case 1:
		for (unsigned i = 0; i < n; i++)
			o[i] = p[i];
		break;
	case 2:
		for (unsigned i = 0; i < n; i++)
			o[i] = p[i] | (uint32_t)q[i] << 8;
		break;
	case 3:
		for (unsigned i = 0; i < n; i++)
			o[i] = p[i] | (uint32_t)q[i] << 8 | (uint32_t)r[i] << 16;
		break;
	default:
		for (unsigned i = 0; i < n; i++)
			o[i] = p[i] | (uint32_t)q[i] << 8 | (uint32_t)r[i] << 16 |
			       (uint32_t)s[i] << 24;
		break;
	}
}

VECTORIZE static void planes_u64(uint64_t *o, const uint8_t *p, unsigned n, unsigned w,
				 size_t stride)
{
	if (w == 0) {
		memset(o, 0, sizeof(*o) * n);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		o[i] = p[i];
	for (unsigned b = 1; b < w; b++) {
		const uint8_t *q = p + b * stride;
		unsigned sh = 8 * b;
		for (unsigned i = 0; i < n; i++)
			o[i] |= (uint64_t)q[i] << sh;
	}
}

long umbra_codec_decode(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			size_t len, struct umbra_flow_record *out, unsigned max)
{
	struct layout L;
	uint64_t *v = c->col;

	if (walk(buf, len, codec, 0, max < c->max ? max : c->max, &L) < 0)
		return -EBADMSG;
	unsigned n = L.n, n4 = L.n4, n6 = n - n4;
	memset(out, 0, sizeof(*out) * n);

	planes_u64(v, L.pl[K_SRC4], n4, L.w[K_SRC4], n4);
	uint32_t prev = 0;
	for (unsigned i = 0; i < n4; i++) {
		prev += (uint32_t)v[i];
		umbra_put32be(out[i].src, prev);
	}
	planes_u64(v, L.pl[K_DST4], n4, L.w[K_DST4], n4);
	for (unsigned i = 0; i < n4; i++)
		umbra_put32be(out[i].dst, (uint32_t)v[i]);
	for (unsigned b = 0; b < 16; b++)
		for (unsigned i = 0; i < n6; i++) {
			out[n4 + i].src[b] = L.pl[K_SRC16][(size_t)b * n6 + i];
			out[n4 + i].dst[b] = L.pl[K_DST16][(size_t)b * n6 + i];
		}

	planes_u64(v, L.pl[K_FIRST], n, L.w[K_FIRST], n);
	for (unsigned i = 0; i < n; i++) {
		struct umbra_flow_record *r = &out[i];
		int same = i > 0 && i != n4 &&
			   memcmp(r->src, out[i - 1].src, 16) == 0;
		r->first_ns = (same ? out[i - 1].first_ns : L.base) + v[i] * L.unit;
	}
	planes_u64(v, L.pl[K_DUR], n, L.w[K_DUR], n);
	for (unsigned i = 0; i < n; i++)
		out[i].last_ns = out[i].first_ns + v[i] * L.unit;

#define COL(k, stmt)                                       \
	do {                                               \
		planes_u64(v, L.pl[k], n, L.w[k], n);      \
		for (unsigned i = 0; i < n; i++) {         \
			struct umbra_flow_record *r = &out[i]; \
			stmt;                              \
		}                                          \
	} while (0)
	COL(K_SPORT, r->sport = (uint16_t)v[i]);
	COL(K_DPORT, r->dport = (uint16_t)v[i]);
	COL(K_PKTS, r->packets = (uint32_t)v[i]);
	COL(K_BYTES, r->bytes = v[i]);
	COL(K_TTL, r->ttl_min = (uint8_t)v[i]);
	COL(K_IPID, r->ip_id = (uint16_t)v[i]);
	COL(K_WIN, r->syn_window = (uint16_t)v[i]);
#undef COL
	planes_u64(v, L.pl[K_PROF], n, L.w[K_PROF], n);
	for (unsigned i = 0; i < n; i++) {
		if (v[i] >= L.nprof ||
		    prof_apply(&out[i], L.pl[K_PROFILES] + (size_t)v[i] * PROF_LEN) < 0)
			return -EBADMSG;
	}
	/* the layout section must agree with what the records say */
	for (unsigned i = 0; i < n4; i++)
		if (out[i].family != 4)
			return -EBADMSG;
	return (long)n;
}

/* ---- column-selective decoding --------------------------------------- */

static struct codec_view *view_new(unsigned m)
{
	struct codec_view *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	int ok = fields_alloc(&v->f, m) == 0;
	v->src4 = malloc(sizeof(uint32_t) * m);
	v->prof = malloc(sizeof(uint32_t) * m);
	v->same = malloc(m);
	v->profiles = malloc(sizeof(*v->profiles) * m);
	if (!ok || !v->src4 || !v->prof || !v->same || !v->profiles) {
		view_free(v);
		return NULL;
	}
	return v;
}

/* the largest of an integer column's n values (w <= 4) */
VECTORIZE static uint32_t col_max_u32(const uint8_t *p, unsigned n, unsigned w)
{
	uint32_t m = 0;
	if (w == 1) {
		uint8_t m8 = 0;
		for (unsigned i = 0; i < n; i++)
			m8 = p[i] > m8 ? p[i] : m8;
		return m8;
	}
	uint32_t tmp[1024];
	for (unsigned i = 0; w && i < n; i += 1024) {
		unsigned k = n - i < 1024 ? n - i : 1024;
		planes_u32(tmp, p + i, k, w, n);
		for (unsigned j = 0; j < k; j++)
			m = tmp[j] > m ? tmp[j] : m;
	}
	return m;
}

/* value i of an integer column of width w, planes stride bytes apart */
static uint64_t plane_get(const uint8_t *p, size_t i, unsigned w, size_t stride)
{
	uint64_t x = 0;
	for (unsigned b = 0; b < w; b++)
		x |= (uint64_t)p[b * stride + i] << (8 * b);
	return x;
}

/* whether record i has record i - 1's src (its first_ns is then a delta) */
static int view_same(const struct layout *L, uint32_t i)
{
	uint32_t n4 = L->n4, n6 = L->n - n4;
	if (i < n4)
		return i > 0 && plane_get(L->pl[K_SRC4], i, L->w[K_SRC4], n4) == 0;
	uint32_t k = i - n4;
	if (k == 0)
		return 0;
	for (unsigned b = 0; b < 16; b++)
		if (L->pl[K_SRC16][(size_t)b * n6 + k] != L->pl[K_SRC16][(size_t)b * n6 + k - 1])
			return 0;
	return 1;
}

/* src4 of compact record i - 1 (0 for i = 0) */
static uint32_t src_before(struct codec_view *v, uint32_t i)
{
	if (v->src_at == i)
		return v->src_prev;
	uint32_t x = 0;
	for (uint32_t k = 0; k < i; k++)
		x += (uint32_t)plane_get(v->L.pl[K_SRC4], k, v->L.w[K_SRC4], v->L.n4);
	return x;
}

/* first_ns of record i - 1 (base for i = 0) */
static uint64_t first_before(struct codec_view *v, uint32_t i)
{
	const struct layout *L = &v->L;
	if (v->first_at == i)
		return v->first_prev;
	uint64_t x = L->base;
	for (uint32_t k = 0; k < i; k++)
		x = (view_same(L, k) ? x : L->base) +
		    plane_get(L->pl[K_FIRST], k, L->w[K_FIRST], L->n) * L->unit;
	return x;
}

long umbra_codec_view_begin(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			    size_t len, unsigned cols, int key_only)
{
	struct layout L;

	if (c->view)
		c->view->ready = 0;
	if (key_only && (cols & ~UMBRA_CODEC_KEY_COLS))
		return -EINVAL;
	if (walk(buf, len, codec, key_only, c->max, &L) < 0)
		return -EBADMSG;
	if (!c->view && !(c->view = view_new(c->max)))
		return -ENOMEM;
	struct codec_view *v = c->view;
	uint32_t n = L.n, n4 = L.n4, nprof = L.nprof;

	if (cols & UMBRA_COL_LAST)
		cols |= UMBRA_COL_FIRST;
	if (cols & UMBRA_COL_PROFILE) {
		const uint8_t *prof = L.pl[K_PROFILES];
		int all4 = 1;
		for (uint32_t j = 0; j < nprof; j++) {
			struct umbra_flow_record *r = &v->profiles[j];
			memset(r, 0, sizeof(*r));
			if (prof_apply(r, prof + (size_t)j * PROF_LEN) < 0)
				return -EBADMSG;
			r->ttl_max = 0;
			r->syn_ttl = 0;
			all4 &= r->family == 4;
		}
		/*
		 * Every index below P and the compact section's profiles of
		 * family 4, for the whole block before any range of it is
		 * handed out: a damaged block is never half counted.
		 */
		if (nprof == 0 || col_max_u32(L.pl[K_PROF], n, L.w[K_PROF]) >= nprof)
			return -EBADMSG;
		uint32_t tmp[1024];
		for (uint32_t i = 0; !all4 && i < n4; i += 1024) {
			uint32_t k = n4 - i < 1024 ? n4 - i : 1024;
			planes_u32(tmp, L.pl[K_PROF] + i, k, L.w[K_PROF], n);
			for (uint32_t j = 0; j < k; j++)
				if (v->profiles[tmp[j]].family != 4)
					return -EBADMSG;
		}
	}
	v->L = L;
	v->cols = cols;
	v->src_at = 0;
	v->src_prev = 0;
	v->first_at = 0;
	v->first_prev = L.base;
	v->ready = 1;
	return (long)n;
}

int umbra_codec_view_range(struct umbra_codec *c, uint32_t from, uint32_t count,
			   struct umbra_block_view *out)
{
	struct codec_view *v = c->view;
	if (!v || !v->ready || from > v->L.n || count > v->L.n - from)
		return -EINVAL;
	const struct layout *L = &v->L;
	const uint8_t *const *pl = L->pl;
	const unsigned *w = L->w;
	uint32_t n = L->n, n4 = L->n4, n6 = n - n4, to = from + count;
	/* the compact records [a4, b4), the others [n4 + a6, n4 + b6) */
	uint32_t a4 = from < n4 ? from : n4, b4 = to < n4 ? to : n4;
	uint32_t a6 = (from > n4 ? from : n4) - n4, b6 = (to > n4 ? to : n4) - n4;
	uint64_t unit = L->unit, base = L->base;
	unsigned cols = v->cols;

	memset(out, 0, sizeof(*out));
	out->n = count;
	out->n4 = b4 - a4;
	out->from = from;
	if (cols & UMBRA_COL_SRC) {
		uint32_t prev = b4 > a4 ? src_before(v, a4) : 0;
		planes_u32(v->src4, pl[K_SRC4] + a4, b4 - a4, w[K_SRC4], n4);
		for (uint32_t i = 0; i < b4 - a4; i++)
			v->src4[i] = prev += v->src4[i];
		if (b4 > a4) {
			v->src_at = b4;
			v->src_prev = prev;
		}
		out->src4 = v->src4;
	}
	if (cols & UMBRA_COL_DST) {
		planes_u32(v->f.dst4, pl[K_DST4] + a4, b4 - a4, w[K_DST4], n4);
		out->dst4 = v->f.dst4;
	}
	for (unsigned k = K_SRC16; k <= K_DST16; k++) {
		if (!(cols & (k == K_SRC16 ? UMBRA_COL_SRC : UMBRA_COL_DST)))
			continue;
		uint8_t *a = k == K_SRC16 ? v->f.src16 : v->f.dst16;
		for (unsigned b = 0; b < 16; b++)
			for (uint32_t i = a6; i < b6; i++)
				a[16 * (size_t)(i - a6) + b] = pl[k][(size_t)b * n6 + i];
		if (k == K_SRC16)
			out->src16 = a;
		else
			out->dst16 = a;
	}
	if (cols & UMBRA_COL_FIRST) {
		/* a first_ns is a delta when the record has the previous one's src */
		uint8_t *same = v->same;
		memset(same, 1, count);
		for (unsigned b = 0; b < w[K_SRC4]; b++)
			for (uint32_t i = a4; i < b4; i++)
				same[i - a4] &= pl[K_SRC4][(size_t)b * n4 + i] == 0;
		if (a4 == 0 && b4 > 0)
			same[0] = 0;
		if (b6 > a6) {
			uint8_t *s6 = same + (b4 - a4); /* s6[k - a6]: record n4 + k */
			if (a6 == 0)
				s6[0] = 0;
			for (unsigned b = 0; b < 16; b++) {
				const uint8_t *q = pl[K_SRC16] + (size_t)b * n6;
				for (uint32_t k = a6 ? a6 : 1; k < b6; k++)
					s6[k - a6] &= q[k] == q[k - 1];
			}
		}
		uint64_t prev = first_before(v, from);
		planes_u64(v->f.first, pl[K_FIRST] + from, count, w[K_FIRST], n);
		for (uint32_t i = 0; i < count; i++)
			v->f.first[i] = prev = (same[i] ? prev : base) + v->f.first[i] * unit;
		v->first_at = to;
		v->first_prev = prev;
		out->first_ns = v->f.first;
	}
	if (cols & UMBRA_COL_LAST) {
		planes_u64(v->f.last, pl[K_DUR] + from, count, w[K_DUR], n);
		for (uint32_t i = 0; i < count; i++)
			v->f.last[i] = v->f.first[i] + v->f.last[i] * unit;
		out->last_ns = v->f.last;
	}
	if (cols & UMBRA_COL_SPORT) {
		planes_u16(v->f.sport, pl[K_SPORT] + from, count, w[K_SPORT], n);
		out->sport = v->f.sport;
	}
	if (cols & UMBRA_COL_DPORT) {
		planes_u16(v->f.dport, pl[K_DPORT] + from, count, w[K_DPORT], n);
		out->dport = v->f.dport;
	}
	if (cols & UMBRA_COL_PACKETS) {
		planes_u32(v->f.packets, pl[K_PKTS] + from, count, w[K_PKTS], n);
		out->packets = v->f.packets;
	}
	if (cols & UMBRA_COL_BYTES) {
		planes_u64(v->f.bytes, pl[K_BYTES] + from, count, w[K_BYTES], n);
		out->bytes = v->f.bytes;
	}
	if (cols & UMBRA_COL_TTL) {
		if (w[K_TTL])
			memcpy(v->f.ttl, pl[K_TTL] + from, count);
		else
			memset(v->f.ttl, 0, count);
		out->ttl_min = v->f.ttl;
	}
	if (cols & UMBRA_COL_IPID) {
		planes_u16(v->f.ipid, pl[K_IPID] + from, count, w[K_IPID], n);
		out->ip_id = v->f.ipid;
	}
	if (cols & UMBRA_COL_WINDOW) {
		planes_u16(v->f.win, pl[K_WIN] + from, count, w[K_WIN], n);
		out->syn_window = v->f.win;
	}
	if (cols & UMBRA_COL_PROFILE) {
		planes_u32(v->prof, pl[K_PROF] + from, count, w[K_PROF], n);
		out->profile = v->prof;
		out->nprofiles = L->nprof;
		out->profiles = v->profiles;
	}
	return 0;
}

long umbra_codec_decode_view(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			     size_t len, unsigned cols, int key_only,
			     struct umbra_block_view *out)
{
	long n = umbra_codec_view_begin(c, codec, buf, len, cols, key_only);
	if (n >= 0) {
		int rc = umbra_codec_view_range(c, 0, (uint32_t)n, out);
		if (rc < 0)
			return rc;
	}
	return n;
}
