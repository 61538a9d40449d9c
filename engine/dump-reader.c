/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dump reader (docs/FORMAT.md). Every length read from the file is checked
 * against the file size and a fixed cap before it is used, because dumps
 * are read from untrusted places and fuzzed. Damage is reported per block
 * (-EBADMSG) and the reader resynchronises on the next verifiable frame.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/*
 * only for ZSTD_d_forceIgnoreChecksum: if a libzstd refused it, XXH64
 * would be checked everywhere, which costs time but skips no check
 */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>
#include <zstd_errors.h>

#include "record-codec.h"
#include "umbra/dump.h"

#define BLK_FRAME UMBRA_BLK_FRAME
#define IV_FRAME (8 + 8 + 8 * UMBRA_IV_NFIELDS)
#define MAX_HDR_FRAME (1u << 20)
#define SCAN_CHUNK (64u << 10)

struct umbra_block_decoder {
	unsigned flags;
	ZSTD_DCtx *dctx;
	struct umbra_codec *codec;
	unsigned codec_max;
	uint8_t *cbuf, *ubuf;
	size_t ccap, ucap;
	struct umbra_flow_record *recs;
	size_t rcap;
	const uint8_t *src; /* the compressed frame: in the mapping or cbuf */
	size_t ulen;        /* bytes in ubuf: the block, or its key part */
	const char *err;    /* why the last call failed */
	int view;           /* ubuf holds the block umbra_block_view_begin checked */
};

struct umbra_dump_reader {
	int fd;
	const uint8_t *map; /* complete files are mapped: no copy per block */
	uint64_t size;
	uint64_t off;
	uint64_t data_end; /* start of the index frame, or the file size */
	struct umbra_dump_meta meta;
	struct rd_names {
		struct rd_name {
			unsigned id;
			char *name;
		} *v;
		size_t n, cap;
	} names[3]; /* format 1.1: labels, signatures, tags (sorted by id) */

	struct umbra_block_decoder *dec; /* for umbra_dump_next() */

	struct umbra_interval *iv;
	size_t niv, ivcap;
	struct umbra_dump_index_entry *idx;
	size_t nidx;

	int tfilter;
	uint64_t t_from, t_to;
	uint64_t dmg_blocks, dmg_bytes;
	uint64_t dmg_at, dmg_len; /* the last damage reported */
	const char *dmg_what;
	int seq_seen;      /* a block header has been read */
	uint32_t seq_last; /* ... and the highest sequence number so far */
};

static int read_at(const struct umbra_dump_reader *r, uint64_t off, void *buf,
		   size_t len)
{
	if (off > r->size || len > r->size - off)
		return -EBADMSG;
	if (r->map) {
		memcpy(buf, r->map + off, len);
		return 0;
	}
	uint8_t *p = buf;
	while (len) {
		ssize_t k = pread(r->fd, p, len, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EBADMSG;
		p += k;
		len -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

static int grow(void *pp, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	void *n = realloc(*(void **)pp, need * elem);
	if (!n)
		return -ENOMEM;
	*(void **)pp = n;
	*cap = need;
	return 0;
}

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = 0;
}

static int name_cmp(const void *a, const void *b)
{
	const struct rd_name *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A name TLV (1.1): id of idbytes bytes, then the name. Bad ones are skipped. */
static int add_name(struct rd_names *t, const uint8_t *v, size_t tl, unsigned idbytes)
{
	if (tl <= idbytes)
		return 0;
	if (t->n == t->cap && grow(&t->v, &t->cap, t->cap ? 2 * t->cap : 16,
				   sizeof(*t->v)) < 0)
		return -ENOMEM;
	size_t len = tl - idbytes;
	char *s = malloc(len + 1);
	if (!s)
		return -ENOMEM;
	copy_str(s, len + 1, v + idbytes, len);
	t->v[t->n].id = idbytes == 1 ? v[0] : umbra_get16(v);
	t->v[t->n++].name = s;
	return 0;
}

static const char *find_name(const struct rd_names *t, unsigned id)
{
	struct rd_name key = {.id = id};
	const struct rd_name *e =
		t->n ? bsearch(&key, t->v, t->n, sizeof(*t->v), name_cmp) : NULL;
	return e ? e->name : NULL;
}

const char *umbra_dump_label_name(const struct umbra_dump_reader *r, unsigned id)
{
	return r ? find_name(&r->names[0], id) : NULL;
}

const char *umbra_dump_sig_name(const struct umbra_dump_reader *r, unsigned id)
{
	return r ? find_name(&r->names[1], id) : NULL;
}

const char *umbra_dump_tag_name(const struct umbra_dump_reader *r, unsigned bit)
{
	const char *n = umbra_tag_name(bit);
	return n ? n : r ? find_name(&r->names[2], bit) : NULL;
}

static int parse_header(struct umbra_dump_reader *r)
{
	uint8_t fh[8];
	if (read_at(r, 0, fh, 8) < 0 || umbra_get32(fh) != UMBRA_FRAME_HEADER)
		return -EPROTO;
	uint32_t len = umbra_get32(fh + 4);
	if (len < UMBRA_HDR_FIXED || len > MAX_HDR_FRAME || len > r->size - 8)
		return -EPROTO;
	uint8_t *p = malloc(len);
	if (!p)
		return -ENOMEM;
	int rc = -EPROTO;
	if (read_at(r, 8, p, len) < 0 || memcmp(p, UMBRA_FILE_MAGIC, 8) != 0)
		goto out;
	if (umbra_get16(p + 8) != UMBRA_FORMAT_MAJOR) {
		rc = -ENOTSUP;
		goto out;
	}
	uint16_t fixed = umbra_get16(p + 12);
	uint32_t crc = umbra_crc32c(umbra_crc32c(0, p, 16), p + 20, len - 20);
	if (fixed < UMBRA_HDR_FIXED || fixed > len || umbra_get16(p + 14) != 0 ||
	    crc != umbra_get32(p + 16))
		goto out;
	r->meta.format_version = UMBRA_FORMAT_MAJOR;
	for (uint32_t o = fixed; o + 4 <= len;) {
		uint16_t type = umbra_get16(p + o), tl = umbra_get16(p + o + 2);
		const uint8_t *v = p + o + 4;
		if (tl > len - o - 4)
			goto out;
		switch (type) {
		case UMBRA_TLV_SENSOR:
			copy_str(r->meta.sensor_name, sizeof(r->meta.sensor_name), v, tl);
			break;
		case UMBRA_TLV_ENGINE:
			copy_str(r->meta.engine_version,
				 sizeof(r->meta.engine_version), v, tl);
			break;
		case UMBRA_TLV_PREFIX:
			if (r->meta.nprefixes < 64)
				copy_str(r->meta.prefixes[r->meta.nprefixes++],
					 sizeof(r->meta.prefixes[0]), v, tl);
			break;
		case UMBRA_TLV_CREATED:
			if (tl == 8)
				r->meta.created_ns = umbra_get64(v);
			break;
		case UMBRA_TLV_PERIOD_START:
			if (tl == 8)
				r->meta.period_start_ns = umbra_get64(v);
			break;
		case UMBRA_TLV_PERIOD_END:
			if (tl == 8)
				r->meta.period_end_ns = umbra_get64(v);
			break;
		case UMBRA_TLV_LABEL_NAME:
		case UMBRA_TLV_SIG_NAME:
		case UMBRA_TLV_TAG_NAME:
			if (add_name(&r->names[type - UMBRA_TLV_LABEL_NAME], v, tl,
				     type == UMBRA_TLV_TAG_NAME ? 1 : 2) < 0) {
				rc = -ENOMEM;
				goto out;
			}
			break;
		default:
			break; /* unknown: skip */
		}
		o += 4 + tl;
	}
	for (int k = 0; k < 3; k++)
		if (r->names[k].n > 1) /* a repeated id: either name */
			qsort(r->names[k].v, r->names[k].n, sizeof(r->names[k].v[0]),
			      name_cmp);
	r->off = 8 + (uint64_t)len;
	rc = 0;
out:
	free(p);
	return rc;
}

/* The index is optional: anything wrong with it means "no index". */
static void parse_index(struct umbra_dump_reader *r)
{
	uint8_t f[UMBRA_FOOTER_LEN], fh[8];
	if (r->size < r->off + 8 + 8 + UMBRA_FOOTER_LEN ||
	    read_at(r, r->size - UMBRA_FOOTER_LEN, f, sizeof(f)) < 0 ||
	    memcmp(f + 8, UMBRA_INDEX_MAGIC, 8) != 0)
		return;
	uint32_t total = umbra_get32(f);
	if (total < 8 + 8 + UMBRA_FOOTER_LEN || total > UMBRA_MAX_FRAME ||
	    total > r->size - r->off)
		return;
	uint64_t at = r->size - total;
	if (read_at(r, at, fh, 8) < 0 || umbra_get32(fh) != UMBRA_FRAME_INDEX ||
	    umbra_get32(fh + 4) != total - 8)
		return;
	size_t plen = total - 8;
	uint8_t *p = malloc(plen);
	if (!p)
		return;
	uint32_t n = 0, elen = 0;
	if (read_at(r, at + 8, p, plen) < 0 ||
	    umbra_crc32c(0, p, plen - UMBRA_FOOTER_LEN) != umbra_get32(f + 4))
		goto out;
	n = umbra_get32(p);
	elen = umbra_get32(p + 4);
	if (elen < UMBRA_IDX_ENTRY_LEN || elen > 4096 ||
	    (uint64_t)n * elen != plen - 8 - UMBRA_FOOTER_LEN)
		goto out;
	r->idx = calloc(n ? n : 1, sizeof(*r->idx));
	if (!r->idx)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = p + 8 + (size_t)i * elen;
		r->idx[i].offset = umbra_get64(e);
		r->idx[i].records = umbra_get32(e + 8);
		r->idx[i].min_first_ns = umbra_get64(e + 16);
		r->idx[i].max_last_ns = umbra_get64(e + 24);
		if (r->idx[i].offset < r->off || r->idx[i].offset >= at) {
			free(r->idx);
			r->idx = NULL;
			goto out;
		}
	}
	r->nidx = n;
	r->data_end = at;
out:
	free(p);
}

struct umbra_dump_reader *umbra_dump_open(const char *path)
{
	struct umbra_dump_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	int rc;
	if (r->fd < 0 || fstat(r->fd, &st) < 0) {
		rc = -errno;
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EPROTO;
		goto fail;
	}
	r->size = (uint64_t)st.st_size;
	/* a .partial file may still grow or be cut back: read it with pread */
	size_t pl = strlen(path);
	if (r->size >= 4096 && r->size <= SIZE_MAX &&
	    !(pl >= 8 && strcmp(path + pl - 8, ".partial") == 0)) {
		void *m = mmap(NULL, (size_t)r->size, PROT_READ, MAP_SHARED, r->fd, 0);
		if (m != MAP_FAILED) {
			r->map = m;
			(void)madvise(m, (size_t)r->size, MADV_SEQUENTIAL);
		}
	}
	r->dec = umbra_block_decoder_new(0);
	if (!r->dec) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = parse_header(r);
	if (rc < 0)
		goto fail;
	r->data_end = r->size;
	parse_index(r);
	return r;
fail:
	umbra_dump_close(r);
	errno = -rc;
	return NULL;
}

const struct umbra_dump_meta *umbra_dump_get_meta(const struct umbra_dump_reader *r)
{
	return &r->meta;
}

/* A block header that passes its CRC and its structural checks. */
static int block_hdr_ok(const uint8_t *h, uint64_t room)
{
	uint32_t n = umbra_get32(h), usize = umbra_get32(h + 24),
		 csize = umbra_get32(h + 28);
	return umbra_crc32c(0, h, 44) == umbra_get32(h + 44) && n > 0 &&
	       n <= UMBRA_MAX_BLOCK_RECORDS &&
	       (umbra_get16(h + 4) & ~UMBRA_BLK_FLAG_SORTED) == 0 &&
	       (umbra_get16(h + 6) == UMBRA_BLK_CODEC_KEYCRC || umbra_get32(h + 40) == 0) &&
	       usize <= umbra_codec_bound(n) &&
	       csize <= room;
}

static int iv_ok(const uint8_t *fr, size_t len)
{
	return len >= 16 && umbra_get16(fr + 8) == UMBRA_IV_VERSION &&
	       (size_t)8 * umbra_get16(fr + 10) == len - 16 &&
	       umbra_crc32c(0, fr + 16, len - 16) == umbra_get32(fr + 12);
}

/*
 * Damage at r->off: find the next block-header or interval frame that
 * verifies, count what was skipped, report -EBADMSG.
 */
static long resync(struct umbra_dump_reader *r, const char *what)
{
	uint64_t start = r->off, pos = r->off + 1;
	uint8_t *buf = malloc(SCAN_CHUNK + IV_FRAME);
	uint64_t found = r->data_end;
	while (buf && pos + 8 <= r->data_end && found == r->data_end) {
		size_t len = SCAN_CHUNK + IV_FRAME;
		if (len > r->data_end - pos)
			len = (size_t)(r->data_end - pos);
		if (read_at(r, pos, buf, len) < 0)
			break;
		size_t i;
		for (i = 0; i + 8 <= len && i < SCAN_CHUNK; i++) {
			if (buf[i + 1] != 0x2A || buf[i + 2] != 0x4D || buf[i + 3] != 0x18)
				continue;
			uint32_t m = umbra_get32(buf + i), sz = umbra_get32(buf + i + 4);
			uint64_t at = pos + i;
			if (m == UMBRA_FRAME_BLOCK && sz == UMBRA_BLK_HDR_LEN &&
			    i + BLK_FRAME <= len &&
			    block_hdr_ok(buf + i + 8, r->data_end - at - BLK_FRAME)) {
				found = at;
				break;
			}
			if (m == UMBRA_FRAME_INTERVAL && i + 8 + (size_t)sz <= len &&
			    sz >= 8 && iv_ok(buf + i, 8 + (size_t)sz)) {
				found = at;
				break;
			}
		}
		pos += i;
	}
	free(buf);
	r->dmg_blocks++;
	r->dmg_bytes += found - start;
	r->dmg_at = start;
	r->dmg_len = found - start;
	r->dmg_what = what;
	r->off = found;
	return -EBADMSG;
}

static int add_interval(struct umbra_dump_reader *r, const uint8_t *fr, size_t len)
{
	if (r->niv == r->ivcap &&
	    grow(&r->iv, &r->ivcap, 2 * r->ivcap + 16, sizeof(*r->iv)) < 0)
		return -ENOMEM;
	unsigned nf = umbra_get16(fr + 10);
	uint64_t f[UMBRA_IV_NFIELDS] = {0};
	for (unsigned i = 0; i < nf && i < UMBRA_IV_NFIELDS; i++)
		f[i] = umbra_get64(fr + 16 + 8 * i);
	(void)len;
	struct umbra_interval *iv = &r->iv[r->niv++];
	iv->start_ns = f[0];
	iv->end_ns = f[1];
	iv->rx_packets = f[2];
	iv->darknet_packets = f[3];
	iv->not_darknet_packets = f[4];
	iv->malformed_packets = f[5];
	iv->rx_missed = f[6];
	iv->rx_nombuf = f[7];
	iv->ring_drops = f[8];
	iv->ring_drop_packets = f[9];
	iv->flows_evicted = f[10];
	iv->write_drops = f[11];
	return 0;
}

/* Skip a damaged block whose header verified: its extent is known. */
static long skip_block(struct umbra_dump_reader *r, uint64_t len, const char *what)
{
	r->dmg_blocks++;
	r->dmg_bytes += len;
	r->dmg_at = r->off;
	r->dmg_len = len;
	r->dmg_what = what;
	r->off += len;
	return -EBADMSG;
}

static void block_parse(struct umbra_dump_block *b, uint64_t off, const uint8_t *h)
{
	b->offset = off;
	b->records = umbra_get32(h);
	b->flags = umbra_get16(h + 4);
	b->codec = umbra_get16(h + 6);
	b->min_first_ns = umbra_get64(h + 8);
	b->max_last_ns = umbra_get64(h + 16);
	b->usize = umbra_get32(h + 24);
	b->csize = umbra_get32(h + 28);
	b->data_crc = umbra_get32(h + 32);
	b->seq = umbra_get32(h + 36);
	b->key_crc = umbra_get32(h + 40);
}

/* why fetch() refused a block, for umbra_dump_last_damage() */
static const char *const fetch_why[] = {
	"block data CRC", "zstd frame", "columnar block structure",
	"unknown codec id", "read error", "key part checksum (XXH64)",
	"key part CRC",
};
enum { WHY_CRC, WHY_ZSTD, WHY_CODEC, WHY_UNKNOWN, WHY_READ, WHY_KEYSUM, WHY_KEYCRC };

/* whether the zstd frame at p declares a content checksum */
static int frame_has_checksum(const uint8_t *p, size_t len)
{
	ZSTD_frameHeader fh;
	return ZSTD_getFrameHeader(&fh, p, len) == 0 && fh.frameType == ZSTD_frame &&
	       fh.checksumFlag;
}

/*
 * XXH64 on (1) or off (0) for the next frames: a decoder that trusts the
 * CRC checks XXH64 where no CRC is read, one that does not skips it where
 * a codec 3 key frame's CRC is
 */
static void checksum_check(struct umbra_block_decoder *d, int on)
{
#ifdef ZSTD_d_forceIgnoreChecksum
	(void)ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_forceIgnoreChecksum,
				     on ? ZSTD_d_validateChecksum : ZSTD_d_ignoreChecksum);
#else
	(void)d;
	(void)on;
#endif
}

enum { UNPACK_NONE, UNPACK_ALL, UNPACK_KEY };

/*
 * Read and check block b's data: codec 1 is one zstd frame, codecs 2 and 3
 * two (the key part, then the rest) whose content sizes add up to usize.
 * With UNPACK_ALL decompress the block into d->ubuf, with UNPACK_KEY only
 * a codec 2 or 3 block's key part (a codec 1 block whole); d->ulen is what
 * ubuf then holds. 0, or -EBADMSG with *why set, -ENOMEM.
 */
static int fetch(struct umbra_block_decoder *d, const struct umbra_dump_reader *r,
		 const struct umbra_dump_block *b, int unpack, int *why)
{
	uint32_t csize = b->csize, usize = b->usize;
	unsigned layout = umbra_blk_layout(b->codec);

	d->view = 0;
	*why = WHY_CRC;
	if (layout == 0) {
		*why = WHY_UNKNOWN;
		return -EBADMSG;
	}
	/* csize is bounded by the file size; usize and n only after the data
	 * verified, so forged sizes cannot make us allocate */
	if (csize > r->size || b->offset + BLK_FRAME > r->size - csize) {
		*why = WHY_READ;
		return -EBADMSG;
	}
	if (r->map) {
		d->src = r->map + b->offset + BLK_FRAME;
	} else {
		if (grow(&d->cbuf, &d->ccap, (size_t)csize + 1, 1) < 0)
			return -ENOMEM;
		if (read_at(r, b->offset + BLK_FRAME, d->cbuf, csize) < 0) {
			*why = WHY_READ;
			return -EBADMSG;
		}
		d->src = d->cbuf;
	}
	/*
	 * Only a codec 2 or 3 block's key part is wanted: codec 3 has the
	 * CRC-32C of its frame in the block header, and a codec 2 key frame
	 * carries zstd's XXH64 of its content, verified as it is
	 * decompressed. Either stands for the block CRC, so the rest of the
	 * block (four fifths of its bytes) is never read. Damage there is
	 * for the readers of the rest, and for verify, to report.
	 */
	int key_part = unpack == UNPACK_KEY && layout == UMBRA_BLK_CODEC_SPLIT;
	int key_crc = b->codec == UMBRA_BLK_CODEC_KEYCRC;
	int key_sum = key_part && !key_crc && frame_has_checksum(d->src, csize);
	if (!(key_part && key_crc) && !key_sum &&
	    umbra_crc32c(0, d->src, csize) != b->data_crc)
		return -EBADMSG;
	*why = WHY_ZSTD;
	/* the frames: c1/u1 the first (codec 1: the only one) */
	size_t c1 = ZSTD_findFrameCompressedSize(d->src, csize);
	if (!ZSTD_isError(c1) && key_crc && umbra_crc32c(0, d->src, c1) != b->key_crc) {
		*why = WHY_KEYCRC;
		return -EBADMSG;
	}
	unsigned long long u1 = ZSTD_isError(c1) ? ZSTD_CONTENTSIZE_ERROR
						 : ZSTD_getFrameContentSize(d->src, c1);
	if (ZSTD_isError(c1) || u1 > usize)
		return -EBADMSG;
	if (layout == UMBRA_BLK_CODEC_FLAT) {
		if (c1 != csize || u1 != usize)
			return -EBADMSG;
	} else {
		/* the rest's frame header gives its content size; its end is
		 * found by walking its blocks, which only its readers do */
		if (c1 >= csize || u1 == 0 ||
		    (!key_part &&
		     ZSTD_findFrameCompressedSize(d->src + c1, csize - c1) != csize - c1) ||
		    ZSTD_getFrameContentSize(d->src + c1, csize - c1) != usize - u1)
			return -EBADMSG;
	}
	if (b->records == 0 || b->records > UMBRA_MAX_BLOCK_RECORDS ||
	    usize > umbra_codec_bound(b->records))
		return -EBADMSG;
	if (unpack == UNPACK_NONE)
		return 0;
	if (grow(&d->ubuf, &d->ucap, (size_t)usize + 1, 1) < 0)
		return -ENOMEM;
	if (b->records > d->codec_max) {
		umbra_codec_free(d->codec);
		d->codec = umbra_codec_new(b->records);
		d->codec_max = d->codec ? b->records : 0;
		if (!d->codec)
			return -ENOMEM;
	}
	size_t want = unpack == UNPACK_KEY || layout == UMBRA_BLK_CODEC_FLAT ? 1 : 2;
	/*
	 * XXH64 where it is all that checks the key frame, else as the
	 * decoder's flags say: a codec 3 key frame's CRC is verified
	 */
	int trust = d->flags & UMBRA_DECODER_TRUST_CRC;
	int sum_flip = key_sum ? trust : key_part && key_crc && !trust;
	if (sum_flip)
		checksum_check(d, trust);
	size_t got = ZSTD_decompressDCtx(d->dctx, d->ubuf, (size_t)u1, d->src, c1);
	if (sum_flip)
		checksum_check(d, !trust);
	if (ZSTD_isError(got) && ZSTD_getErrorCode(got) == ZSTD_error_checksum_wrong)
		*why = WHY_KEYSUM;
	if (ZSTD_isError(got) || got != u1)
		return -EBADMSG;
	d->ulen = got;
	if (want == 2) {
		got = ZSTD_decompressDCtx(d->dctx, d->ubuf + u1, usize - (size_t)u1, d->src + c1,
					  csize - c1);
		if (ZSTD_isError(got) || got != usize - u1)
			return -EBADMSG;
		d->ulen += got;
	}
	*why = WHY_CODEC;
	return 0;
}

static long decode_recs(struct umbra_block_decoder *d, const struct umbra_dump_reader *r,
			const struct umbra_dump_block *b,
			const struct umbra_flow_record **recs, int *why)
{
	int rc = fetch(d, r, b, UNPACK_ALL, why);
	if (rc < 0)
		return rc;
	if (grow(&d->recs, &d->rcap, b->records, sizeof(*d->recs)) < 0)
		return -ENOMEM;
	long k = umbra_codec_decode(d->codec, umbra_blk_layout(b->codec), d->ubuf, d->ulen,
				    d->recs, b->records);
	if (k != (long)b->records)
		return -EBADMSG;
	*recs = d->recs;
	return k;
}

static int outside(const struct umbra_dump_reader *r, const struct umbra_dump_block *b)
{
	return r->tfilter && (b->max_last_ns < r->t_from || b->min_first_ns >= r->t_to);
}

/*
 * Walk frames to the next block header that verifies. 1 with *b, 0 at the
 * end, -EBADMSG after resynchronising, -ENOMEM.
 */
static int next_header(struct umbra_dump_reader *r, struct umbra_dump_block *b)
{
	uint8_t fh[BLK_FRAME];
	while (r->off < r->data_end) {
		uint64_t room = r->data_end - r->off;
		if (room < 8 || read_at(r, r->off, fh, 8) < 0)
			return (int)resync(r, "truncated frame header");
		uint32_t magic = umbra_get32(fh), sz = umbra_get32(fh + 4);
		if (magic < UMBRA_SKIP_MAGIC_MIN || magic > UMBRA_SKIP_MAGIC_MAX)
			return (int)resync(r, magic == UMBRA_ZSTD_MAGIC ?
						  "zstd frame without block header" :
						  "bad frame magic");
		if (sz > room - 8)
			return (int)resync(r, "frame runs past the end of the file");
		if (magic == UMBRA_FRAME_BLOCK) {
			if (sz != UMBRA_BLK_HDR_LEN ||
			    read_at(r, r->off, fh, BLK_FRAME) < 0)
				return (int)resync(r, "bad block header");
			if (!block_hdr_ok(fh + 8, room - BLK_FRAME))
				return (int)resync(r, block_hdr_ok(fh + 8, UINT32_MAX) ?
						      "block runs past the end of the file" :
						      "bad block header");
			block_parse(b, r->off, fh + 8);
			/* the writer numbers blocks 0, 1, ... in file order: a
			 * number at or below one already read is a copy of an
			 * earlier block (or one out of place), never new data */
			if (r->seq_seen && b->seq <= r->seq_last)
				return (int)skip_block(r, BLK_FRAME + (uint64_t)b->csize,
						       "duplicated block (sequence number already read)");
			r->seq_seen = 1;
			r->seq_last = b->seq;
			return 1;
		}
		if (magic == UMBRA_FRAME_INTERVAL) {
			uint8_t fr[IV_FRAME + 8 * 64];
			if (sz < 8 || sz > sizeof(fr) - 8 ||
			    read_at(r, r->off, fr, 8 + (size_t)sz) < 0 ||
			    !iv_ok(fr, 8 + (size_t)sz))
				return (int)resync(r, "bad interval frame");
			if (add_interval(r, fr, 8 + (size_t)sz) < 0)
				return -ENOMEM;
		}
		/* header, index and unknown skippable frames: skip */
		r->off += 8 + (uint64_t)sz;
	}
	return 0;
}

long umbra_dump_next(struct umbra_dump_reader *r,
		     const struct umbra_flow_record **recs)
{
	struct umbra_dump_block b;
	int rc;

	*recs = NULL;
	while ((rc = next_header(r, &b)) == 1) {
		uint64_t total = BLK_FRAME + (uint64_t)b.csize;
		if (outside(r, &b)) {
			r->off += total;
			continue;
		}
		int why;
		long k = decode_recs(r->dec, r, &b, recs, &why);
		if (k == -ENOMEM)
			return k;
		if (k < 0) {
			*recs = NULL;
			return why == WHY_READ ? resync(r, fetch_why[why])
					       : skip_block(r, total, fetch_why[why]);
		}
		r->off += total;
		return k;
	}
	return rc;
}

int umbra_dump_next_block(struct umbra_dump_reader *r, struct umbra_dump_block *b)
{
	int rc;
	while ((rc = next_header(r, b)) == 1) {
		uint64_t total = BLK_FRAME + (uint64_t)b->csize;
		r->off += total;
		if (outside(r, b))
			continue;
		if (umbra_blk_layout(b->codec) == 0) {
			r->off -= total;
			return (int)skip_block(r, total, fetch_why[WHY_UNKNOWN]);
		}
		return 1;
	}
	return rc;
}

int umbra_dump_last_damage(const struct umbra_dump_reader *r,
			   struct umbra_dump_damage_info *d)
{
	if (!r->dmg_what)
		return 0;
	d->offset = r->dmg_at;
	d->length = r->dmg_len;
	d->what = r->dmg_what;
	return 1;
}

void umbra_dump_extent(const struct umbra_dump_reader *r, uint64_t *size,
		       uint64_t *data_end)
{
	if (size)
		*size = r->size;
	if (data_end)
		*data_end = r->data_end;
}

struct umbra_block_decoder *umbra_block_decoder_new(unsigned flags)
{
	struct umbra_block_decoder *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->flags = flags;
	d->dctx = ZSTD_createDCtx();
	if (!d->dctx) {
		free(d);
		errno = ENOMEM;
		return NULL;
	}
#ifdef ZSTD_d_forceIgnoreChecksum
	if (flags & UMBRA_DECODER_TRUST_CRC)
		(void)ZSTD_DCtx_setParameter(d->dctx, ZSTD_d_forceIgnoreChecksum,
					     ZSTD_d_ignoreChecksum);
#endif
	return d;
}

void umbra_block_decoder_free(struct umbra_block_decoder *d)
{
	if (!d)
		return;
	ZSTD_freeDCtx(d->dctx);
	umbra_codec_free(d->codec);
	free(d->cbuf);
	free(d->ubuf);
	free(d->recs);
	free(d);
}

static long note(struct umbra_block_decoder *d, long rc, int why)
{
	d->err = rc >= 0 ? NULL : rc == -ENOMEM ? "out of memory" : fetch_why[why];
	return rc;
}

const char *umbra_block_decoder_error(const struct umbra_block_decoder *d)
{
	return d->err;
}

long umbra_block_decode(struct umbra_block_decoder *d,
			const struct umbra_dump_reader *r,
			const struct umbra_dump_block *b,
			const struct umbra_flow_record **recs)
{
	int why = WHY_CRC;
	*recs = NULL;
	/* not note(d, decode_recs(.., &why), why): why could be read first */
	long n = decode_recs(d, r, b, recs, &why);
	return note(d, n, why);
}

long umbra_block_view_begin(struct umbra_block_decoder *d, const struct umbra_dump_reader *r,
			    const struct umbra_dump_block *b, unsigned cols)
{
	int why = WHY_CRC;
	d->view = 0;
	/* columns all in a codec 2 or 3 block's key part: decompress just that */
	unsigned layout = umbra_blk_layout(b->codec);
	int key = layout == UMBRA_BLK_CODEC_SPLIT && !(cols & ~UMBRA_CODEC_KEY_COLS);
	int rc = fetch(d, r, b, key ? UNPACK_KEY : UNPACK_ALL, &why);
	if (rc < 0)
		return note(d, rc, why);
	long k = umbra_codec_view_begin(d->codec, layout, d->ubuf, d->ulen, cols, key);
	if (k >= 0 && k != (long)b->records)
		k = -EBADMSG;
	d->view = k >= 0;
	return note(d, k, WHY_CODEC);
}

int umbra_block_view_range(struct umbra_block_decoder *d, uint32_t from, uint32_t count,
			   struct umbra_block_view *v)
{
	int rc = d->view ? umbra_codec_view_range(d->codec, from, count, v) : -EINVAL;
	d->err = rc < 0 ? "view range without a begun block, or past its end" : NULL;
	return rc;
}

long umbra_block_decode_view(struct umbra_block_decoder *d,
			     const struct umbra_dump_reader *r,
			     const struct umbra_dump_block *b, unsigned cols,
			     struct umbra_block_view *v)
{
	long k = umbra_block_view_begin(d, r, b, cols);
	if (k >= 0) {
		int rc = umbra_block_view_range(d, 0, (uint32_t)k, v);
		if (rc < 0)
			return rc;
	}
	return k;
}

long umbra_block_read_raw(struct umbra_block_decoder *d,
			  const struct umbra_dump_reader *r,
			  const struct umbra_dump_block *b, const uint8_t **data)
{
	int why = WHY_CRC;
	int rc = fetch(d, r, b, UNPACK_NONE, &why);
	if (rc < 0)
		return note(d, rc, why);
	d->err = NULL;
	*data = d->src;
	return (long)b->csize;
}

size_t umbra_dump_intervals(const struct umbra_dump_reader *r,
			    const struct umbra_interval **iv)
{
	*iv = r->iv;
	return r->niv;
}

void umbra_dump_damage(const struct umbra_dump_reader *r, uint64_t *blocks,
		       uint64_t *bytes)
{
	if (blocks)
		*blocks = r->dmg_blocks;
	if (bytes)
		*bytes = r->dmg_bytes;
}

size_t umbra_dump_index(const struct umbra_dump_reader *r,
			const struct umbra_dump_index_entry **ents)
{
	*ents = r->idx;
	return r->nidx;
}

void umbra_dump_set_time_range(struct umbra_dump_reader *r, uint64_t from_ns,
			       uint64_t to_ns)
{
	r->tfilter = 1;
	r->t_from = from_ns;
	r->t_to = to_ns;
}

void umbra_dump_close(struct umbra_dump_reader *r)
{
	if (!r)
		return;
	if (r->map)
		munmap((void *)(uintptr_t)r->map, (size_t)r->size);
	if (r->fd >= 0)
		close(r->fd);
	umbra_block_decoder_free(r->dec);
	free(r->iv);
	free(r->idx);
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < r->names[k].n; i++)
			free(r->names[k].v[i].name);
		free(r->names[k].v);
	}
	free(r);
}
