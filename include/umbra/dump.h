/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra dump files: shared definitions and the reader library.
 * docs/FORMAT.md is the normative description of the bytes on disk.
 */
#ifndef UMBRA_DUMP_H
#define UMBRA_DUMP_H

#include <stddef.h>
#include <stdint.h>

#include "umbra/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Counters of one interval (one writer flush period, normally 1 s), as the
 * engine saw them. Stored in the dump so analysts see loss in the data.
 * All counts are deltas over [start_ns, end_ns).
 */
struct umbra_interval {
	uint64_t start_ns;
	uint64_t end_ns;
	uint64_t rx_packets;       /* frames received from the NIC/vdev */
	uint64_t darknet_packets;  /* of which addressed to the darknet */
	uint64_t not_darknet_packets;
	uint64_t malformed_packets;
	uint64_t rx_missed;        /* NIC: no room in the RX ring */
	uint64_t rx_nombuf;        /* NIC: no mbuf */
	uint64_t ring_drops;       /* records dropped: worker->writer ring full */
	uint64_t ring_drop_packets; /* packets inside those records */
	uint64_t flows_evicted;    /* flows pushed out by a full table */
	uint64_t write_drops;      /* records lost by failed writes */
};

/* ---- reader ---------------------------------------------------------- */

struct umbra_dump_reader;

/* File metadata (header frame). Strings are NUL-terminated. */
struct umbra_dump_meta {
	uint32_t format_version;
	char sensor_name[256];
	char engine_version[64];
	unsigned nprefixes;
	char prefixes[64][48];
	uint64_t created_ns;
	uint64_t period_start_ns; /* rotation period the file belongs to */
	uint64_t period_end_ns;
};

/*
 * Open a dump (complete or .partial). NULL with errno on failure: ENOENT,
 * EPROTO (not an umbra dump), ENOTSUP (unsupported major version).
 * A complete file (a name not ending in .partial) is memory-mapped, so it
 * must not be truncated while open; .partial files are read with pread.
 */
struct umbra_dump_reader *umbra_dump_open(const char *path);
const struct umbra_dump_meta *umbra_dump_get_meta(const struct umbra_dump_reader *r);

/*
 * Next block of records. On success returns the number of records (> 0)
 * and points *recs at an array valid until the next call. Returns 0 at
 * the end of the file, negative errno on damage (-EBADMSG: checksum or
 * structure; the reader can continue with the next call, which resumes
 * after the damaged block if it can find one).
 */
long umbra_dump_next(struct umbra_dump_reader *r,
		     const struct umbra_flow_record **recs);

/* Intervals seen so far while reading (loss counters). */
size_t umbra_dump_intervals(const struct umbra_dump_reader *r,
			    const struct umbra_interval **iv);

/* Damage counters: blocks skipped, bytes skipped. */
void umbra_dump_damage(const struct umbra_dump_reader *r, uint64_t *blocks,
		       uint64_t *bytes);

void umbra_dump_close(struct umbra_dump_reader *r);

/*
 * Names stored in the file header (format 1.1), for the ids in records:
 * p0f label ids (p0f_label), payload signature ids (sig_id) and tag bits.
 * umbra_dump_tag_name() names built-in bits itself (umbra_tag_name) and
 * plugin bits from the file. NULL when unknown (always for 1.0 files,
 * except built-in tag bits). Valid until umbra_dump_close().
 */
const char *umbra_dump_label_name(const struct umbra_dump_reader *r, unsigned id);
const char *umbra_dump_sig_name(const struct umbra_dump_reader *r, unsigned id);
const char *umbra_dump_tag_name(const struct umbra_dump_reader *r, unsigned bit);

/* ---- additions (format 1.0) ------------------------------------------- */

/* One entry of the block index of a complete file (docs/FORMAT.md). */
struct umbra_dump_index_entry {
	uint64_t offset;       /* file offset of the block-header frame */
	uint64_t min_first_ns; /* smallest first_ns in the block */
	uint64_t max_last_ns;  /* largest last_ns in the block */
	uint32_t records;
	uint32_t reserved;
};

/*
 * The file's block index, read from the trailer at open. Returns the number
 * of entries; 0 when the file has none (.partial, truncated, damaged index).
 */
size_t umbra_dump_index(const struct umbra_dump_reader *r,
			const struct umbra_dump_index_entry **ents);

/*
 * Make umbra_dump_next() return only blocks that may hold flows overlapping
 * [from_ns, to_ns): other blocks are skipped by their block header, without
 * reading or decompressing their data. Records inside a returned block are
 * not filtered.
 */
void umbra_dump_set_time_range(struct umbra_dump_reader *r, uint64_t from_ns,
			       uint64_t to_ns);


/* ---- block-level access (format 1.0) ----------------------------------
 *
 * For readers that decompress blocks on several threads, or decode only
 * the columns they need. One thread walks a file with
 * umbra_dump_next_block(), which reads block headers but not their data;
 * any number of threads, each with its own decoder, decode those blocks
 * concurrently from the same reader (reads use pread and do not move the
 * reader). The reader must stay open until they are done.
 */

/* A block's header, as stored in its block-header frame. */
struct umbra_dump_block {
	uint64_t offset;       /* file offset of the block-header frame */
	uint64_t min_first_ns; /* smallest first_ns in the block */
	uint64_t max_last_ns;  /* largest last_ns in the block */
	uint32_t records;
	uint32_t usize;        /* size of the columnar block */
	uint32_t csize;        /* size of the zstd data frame that follows */
	uint32_t data_crc;     /* CRC-32C of that data frame */
	uint32_t seq;          /* block sequence number within the file */
	uint16_t flags;
	uint16_t codec;
	uint32_t key_crc;      /* codec 3: CRC-32C of the key part's frame */
};

/*
 * Next block header, its data left unread. Returns 1 with *b filled, 0 at
 * the end of the file, -EBADMSG on damage (as umbra_dump_next(): call
 * again to continue after it). Intervals are collected on the way and the
 * time range of umbra_dump_set_time_range() applies. Do not mix with
 * umbra_dump_next() on one reader.
 */
int umbra_dump_next_block(struct umbra_dump_reader *r, struct umbra_dump_block *b);

/* Where and why the reader last reported damage. */
struct umbra_dump_damage_info {
	uint64_t offset;  /* first damaged byte */
	uint64_t length;  /* bytes skipped */
	const char *what; /* static text: "block data CRC", "zstd frame", ... */
};

/* Returns 1 and fills *d if the reader has reported damage, else 0. */
int umbra_dump_last_damage(const struct umbra_dump_reader *r,
			   struct umbra_dump_damage_info *d);

/* Columns for umbra_block_decode_view(). */
enum umbra_col {
	UMBRA_COL_SRC = 1u << 0,
	UMBRA_COL_DST = 1u << 1,
	UMBRA_COL_FIRST = 1u << 2,
	UMBRA_COL_LAST = 1u << 3, /* implies UMBRA_COL_FIRST */
	UMBRA_COL_SPORT = 1u << 4,
	UMBRA_COL_DPORT = 1u << 5,
	UMBRA_COL_PACKETS = 1u << 6,
	UMBRA_COL_BYTES = 1u << 7,
	UMBRA_COL_TTL = 1u << 8,
	UMBRA_COL_IPID = 1u << 9,
	UMBRA_COL_WINDOW = 1u << 10,
	UMBRA_COL_PROFILE = 1u << 11,
	UMBRA_COL_ALL = (1u << 12) - 1
};

/*
 * A block decoded column by column, in the block's (sorted) record order.
 * Arrays not requested are NULL. Records [0, n4) are IPv4 with their
 * addresses in src4/dst4; records [n4, n) are the others, with their
 * addresses in src16/dst16 (record n4 + i at byte 16 * i).
 * The profile columns hold the fields that repeat per scanner: record i
 * has family, proto, tcp_flags, end_reason, tags, syn_mss, syn_wscale,
 * syn_ip_olen, syn_nopts, syn_olayout, syn_quirks, p0f_label, sig_id and
 * syn_pclass of profiles[profile[i]]; the other fields of profiles[] are 0.
 */
struct umbra_block_view {
	uint32_t n, n4;
	const uint32_t *src4, *dst4; /* host byte order */
	const uint8_t *src16, *dst16;
	const uint64_t *first_ns, *last_ns, *bytes;
	const uint16_t *sport, *dport, *ip_id, *syn_window;
	const uint32_t *packets;
	const uint8_t *ttl_min;
	const uint32_t *profile;
	uint32_t nprofiles;
	const struct umbra_flow_record *profiles;
	/* the index in its block of record 0 (umbra_block_view_range's from) */
	uint32_t from;
};

struct umbra_block_decoder;

/*
 * flags: UMBRA_DECODER_TRUST_CRC skips zstd's XXH64 content check where a
 * CRC-32C of the compressed bytes is verified (always but for the key part
 * of a codec 2 block read alone). NULL with errno.
 */
#define UMBRA_DECODER_TRUST_CRC 1u
struct umbra_block_decoder *umbra_block_decoder_new(unsigned flags);
void umbra_block_decoder_free(struct umbra_block_decoder *d);

/*
 * Read, verify, decompress and decode block b of reader r. Returns the
 * record count and points *recs at records valid until the decoder's next
 * call; -EBADMSG if the block is damaged, -EIO/-ENOMEM otherwise.
 */
long umbra_block_decode(struct umbra_block_decoder *d,
			const struct umbra_dump_reader *r,
			const struct umbra_dump_block *b,
			const struct umbra_flow_record **recs);

/* The same, decoding only the columns in cols (enum umbra_col bits). */
long umbra_block_decode_view(struct umbra_block_decoder *d,
			     const struct umbra_dump_reader *r,
			     const struct umbra_dump_block *b, unsigned cols,
			     struct umbra_block_view *v);

/*
 * The same in ranges of records, so that each range's arrays are read
 * while still in the cache: umbra_block_view_begin() reads, verifies,
 * decompresses and checks all of block b (a damaged block fails here,
 * before any of it is handed out) and returns its record count; then
 * umbra_block_view_range() fills v with records [from, from + count),
 * indexed from 0 (v->n = count, v->n4 the compact ones among them), valid
 * until the decoder's next call. Ranges in order are cheapest (delta-coded
 * columns carry on); any range is right. -EINVAL without a begun block, or
 * for a range past its end.
 */
long umbra_block_view_begin(struct umbra_block_decoder *d, const struct umbra_dump_reader *r,
			    const struct umbra_dump_block *b, unsigned cols);
int umbra_block_view_range(struct umbra_block_decoder *d, uint32_t from, uint32_t count,
			   struct umbra_block_view *v);

/* Why the decoder's last call failed (static text), or NULL. */
const char *umbra_block_decoder_error(const struct umbra_block_decoder *d);

/*
 * The block's compressed data frame, CRC-checked but not decompressed
 * (for copying intact blocks). Returns csize; *data is valid until the
 * decoder's next call.
 */
long umbra_block_read_raw(struct umbra_block_decoder *d,
			  const struct umbra_dump_reader *r,
			  const struct umbra_dump_block *b, const uint8_t **data);

/* File size and the end of the block area (start of the index, or size). */
void umbra_dump_extent(const struct umbra_dump_reader *r, uint64_t *size,
		       uint64_t *data_end);

#ifdef __cplusplus
}
#endif
#endif /* UMBRA_DUMP_H */
