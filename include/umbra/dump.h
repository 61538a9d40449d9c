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

#ifdef __cplusplus
}
#endif
#endif /* UMBRA_DUMP_H */
