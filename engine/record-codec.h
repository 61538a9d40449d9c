/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Private: the columnar block codec and the on-disk constants of dump files
 * (docs/FORMAT.md). Shared by writer-dump.c, dump-reader.c, umbra-bench and
 * tests only.
 */
#ifndef UMBRA_RECORD_CODEC_H
#define UMBRA_RECORD_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "umbra/record.h"

/*
 * For simple loops over arrays that should use vector instructions: GCC's
 * -O2 cost model leaves them scalar; clang vectorises them anyway.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define UMBRA_VECTORIZE __attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#else
#define UMBRA_VECTORIZE
#endif

/* ---- frame magics (little-endian u32 at the start of every frame) ---- */
#define UMBRA_ZSTD_MAGIC 0xFD2FB528u
#define UMBRA_SKIP_MAGIC_MIN 0x184D2A50u
#define UMBRA_SKIP_MAGIC_MAX 0x184D2A5Fu
#define UMBRA_FRAME_HEADER 0x184D2A55u   /* file header, first frame */
#define UMBRA_FRAME_BLOCK 0x184D2A56u    /* block header, then a zstd frame */
#define UMBRA_FRAME_INTERVAL 0x184D2A57u /* struct umbra_interval */
#define UMBRA_FRAME_INDEX 0x184D2A58u    /* block index + footer, last frame */

#define UMBRA_FORMAT_MAJOR 1
#define UMBRA_FORMAT_MINOR 3
#define UMBRA_FILE_MAGIC "UMBRADMP"
#define UMBRA_INDEX_MAGIC "UMBRAIDX"

/* file header payload: fixed part, then TLVs */
#define UMBRA_HDR_FIXED 20
#define UMBRA_TLV_SENSOR 1
#define UMBRA_TLV_ENGINE 2
#define UMBRA_TLV_PREFIX 3
#define UMBRA_TLV_CREATED 4
#define UMBRA_TLV_PERIOD_START 5
#define UMBRA_TLV_PERIOD_END 6
/* format 1.1: names of the ids stored in records */
#define UMBRA_TLV_LABEL_NAME 7 /* u16 p0f label id + name */
#define UMBRA_TLV_SIG_NAME 8   /* u16 signature id + name */
#define UMBRA_TLV_TAG_NAME 9   /* u8 tag bit + name */
#define UMBRA_TLV_NAME_MAX 255

/* block header payload */
#define UMBRA_BLK_HDR_LEN 48
#define UMBRA_BLK_FLAG_SORTED 0x0001u
#define UMBRA_BLK_CODEC_FLAT 1  /* format 1.0/1.1: one zstd frame */
#define UMBRA_BLK_CODEC_SPLIT 2 /* format 1.2: key part and rest, a zstd frame each */
/* format 1.3: codec 2, and header bytes 40..43 the CRC-32C of the key frame */
#define UMBRA_BLK_CODEC_KEYCRC 3
#define UMBRA_BLK_CODEC UMBRA_BLK_CODEC_KEYCRC /* what the writer writes */

/*
 * The columnar layout of a block codec, what umbra_codec_* take:
 * UMBRA_BLK_CODEC_FLAT or UMBRA_BLK_CODEC_SPLIT; 0 for an unknown codec.
 */
static inline unsigned umbra_blk_layout(unsigned codec)
{
	return codec == UMBRA_BLK_CODEC_FLAT ? UMBRA_BLK_CODEC_FLAT :
	       codec == UMBRA_BLK_CODEC_SPLIT || codec == UMBRA_BLK_CODEC_KEYCRC ?
						   UMBRA_BLK_CODEC_SPLIT :
						   0;
}
/* the columns in a codec 2 block's key part (enum umbra_col of dump.h) */
#define UMBRA_CODEC_KEY_COLS ((1u << 1) | (1u << 5) | (1u << 6) | (1u << 11))

/* interval payload: version u16, nfields u16, crc u32, nfields x u64 */
#define UMBRA_IV_VERSION 1
#define UMBRA_IV_NFIELDS 12

/* index: count u32, entry size u32, entries, then the 16-byte footer */
#define UMBRA_IDX_ENTRY_LEN 32
#define UMBRA_FOOTER_LEN 16

/* reader limits against hostile input */
#define UMBRA_MAX_BLOCK_RECORDS (1u << 20)
#define UMBRA_MAX_FRAME (256u << 20)

/* ---- little-endian helpers ---- */
static inline void umbra_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void umbra_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void umbra_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t umbra_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t umbra_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline uint64_t umbra_get64(const uint8_t *p)
{
	return (uint64_t)umbra_get32(p) | (uint64_t)umbra_get32(p + 4) << 32;
}

static inline uint32_t umbra_get32be(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
	       (uint32_t)p[3];
}
static inline void umbra_put32be(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* CRC-32C (Castagnoli), initial value 0, as in iSCSI/ext4: crc32c("123456789") = 0xE3069283 */
uint32_t umbra_crc32c(uint32_t crc, const void *buf, size_t len);

/* a block-header frame: magic, payload size, payload */
#define UMBRA_BLK_FRAME (8 + UMBRA_BLK_HDR_LEN)
struct umbra_dump_block;
/*
 * Block b's header frame, UMBRA_BLK_FRAME bytes at p: b's fields (its
 * offset aside), its key CRC for codec 3 (0 for the others) and the
 * header's CRC. For the writer and for recover.
 */
void umbra_blk_frame_put(uint8_t *p, const struct umbra_dump_block *b);

/* ---- columnar codec ---- */
struct umbra_codec;

/* Scratch for blocks of up to max_records; NULL with errno. */
struct umbra_codec *umbra_codec_new(unsigned max_records);
void umbra_codec_free(struct umbra_codec *c);

/*
 * Touch every encoding buffer now (a writer does, so that its first full
 * blocks take no page faults and its memory does not grow during a run;
 * readers leave them to be touched as used).
 */
void umbra_codec_prefault(struct umbra_codec *c);

/* Upper bound of the encoded size of n records. */
size_t umbra_codec_bound(unsigned n);

/*
 * Encode n records (1 <= n <= max_records) in layout codec (umbra_blk_layout)
 * into a buffer owned by the codec, valid until the next call. Records are
 * stored sorted by (address layout, src, first_ns); *flags receives
 * UMBRA_BLK_FLAG_SORTED. Returns the size; *split the size of the key
 * part (codec 2; the writer compresses it as a frame of its own) or the
 * whole size (codec 1).
 */
size_t umbra_codec_encode(struct umbra_codec *c,
			  const struct umbra_flow_record *recs, unsigned n,
			  unsigned codec, const uint8_t **out, uint32_t *flags,
			  size_t *split);

/*
 * Decode a block of codec into out[0..max). Returns the record count, or
 * -EBADMSG if the bytes are not a well-formed block.
 */
long umbra_codec_decode(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			size_t len, struct umbra_flow_record *out, unsigned max);

/*
 * Decode only the columns in cols (enum umbra_col) into arrays owned by the
 * codec, valid until its next call. The block structure is checked as by
 * umbra_codec_decode(); profile indices and the compact section's family
 * only when UMBRA_COL_PROFILE is asked for. key_only: buf holds only the
 * key part of a codec 2 block, and cols must be within
 * UMBRA_CODEC_KEY_COLS (else -EINVAL). Returns the record count,
 * -EBADMSG, -EINVAL or -ENOMEM.
 */
struct umbra_block_view;
long umbra_codec_decode_view(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			     size_t len, unsigned cols, int key_only,
			     struct umbra_block_view *out);

/*
 * The same in ranges of records, so that a consumer reads each range's
 * arrays while they are in the cache: umbra_codec_view_begin() checks the
 * block as above (all of it, profile indices included) and returns the
 * record count; umbra_codec_view_range() then fills out with records
 * [from, from + count), indexed from 0 (out->n = count, out->n4 the compact
 * ones among them), valid until the codec's next call. Ranges in order
 * are cheapest; any range is right. -EINVAL without a begun block or for a
 * range past its end. buf must stay as it is until the last range.
 */
long umbra_codec_view_begin(struct umbra_codec *c, unsigned codec, const uint8_t *buf,
			    size_t len, unsigned cols, int key_only);
int umbra_codec_view_range(struct umbra_codec *c, uint32_t from, uint32_t count,
			   struct umbra_block_view *out);

/* ---- stored columns, for measurements (umbra-bench) ---- */
#define UMBRA_CODEC_NCOLS 15

/* The name of stored column k, FORMAT.md's column k + 1 ("src4" ... "profiles"). */
const char *umbra_codec_col_name(unsigned k);

/*
 * Where each stored column of a block of codec lies in buf (the whole
 * block: both parts of codec 2): off[k] and len[k] for column k, an
 * integer column with its width byte. 0 or -EBADMSG.
 */
int umbra_codec_columns(const uint8_t *buf, size_t len, unsigned codec,
			size_t off[UMBRA_CODEC_NCOLS], size_t clen[UMBRA_CODEC_NCOLS]);

#endif /* UMBRA_RECORD_CODEC_H */
