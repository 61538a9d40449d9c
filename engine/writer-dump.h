/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dump writer: batches flow records into columnar blocks, compresses each
 * block as one zstd frame, and writes rotating files (docs/FORMAT.md).
 * DPDK-free; driven by the engine's writer thread, by tests and by bench.
 * Not thread-safe: one writer object is used by one thread.
 */
#ifndef UMBRA_WRITER_DUMP_H
#define UMBRA_WRITER_DUMP_H

#include <stdint.h>

#include "umbra/dump.h"
#include "umbra/record.h"

struct umbra_dump_writer;
struct umbra_dump_writer_stats;

/* One id (label id, signature id or tag bit) and its name. */
struct umbra_dump_name {
	unsigned id;
	const char *name;
};

/* the writer's zstd level unless told (measured: level 3 was 1.8% smaller, 40% slower) */
#define UMBRA_DUMP_ZSTD_LEVEL 1

struct umbra_dump_writer_conf {
	uint32_t size;           /* sizeof(struct umbra_dump_writer_conf) */
	const char *dir;         /* output directory (must exist) */
	const char *sensor_name; /* free text, stored in every file */
	const char *const *prefixes; /* darknet prefixes as text */
	unsigned nprefixes;
	uint32_t rotate_s;       /* file period, aligned to multiples; 0 = never */
	uint32_t block_records;  /* records per block (0 = default 8192) */
	int zstd_level;          /* 0 = UMBRA_DUMP_ZSTD_LEVEL */
	unsigned file_mode;      /* 0 = 0640 */
	/*
	 * Format 1.1: names stored in every file header so that readers can
	 * name record ids (all optional; NULL names are skipped). Callers
	 * built against 1.0 leave these out of size and get none.
	 */
	const struct umbra_dump_name *label_names; /* p0f label id -> name */
	unsigned nlabel_names;
	const struct umbra_dump_name *sig_names;   /* signature id -> name */
	unsigned nsig_names;
	const struct umbra_dump_name *tag_names;   /* tag bit (< 32) -> name */
	unsigned ntag_names;
	/*
	 * Format 1.2 and later: the block codec, 0 = the default (3: key
	 * columns in a zstd frame of their own, its CRC-32C in the block
	 * header); 1 and 2 write format 1.1 and 1.2 blocks (for tests of
	 * readers of older files).
	 */
	unsigned codec;
};

/* NULL with errno on failure. No file is created until the first write. */
struct umbra_dump_writer *
umbra_dump_writer_open(const struct umbra_dump_writer_conf *conf);

/*
 * Set the writer's clock (UNIX ns: capture time in pcap mode, wall clock
 * live). Rotates when now crosses a period boundary: the current file is
 * completed (pending block flushed, index written, renamed from .partial).
 */
int umbra_dump_writer_tick(struct umbra_dump_writer *w, uint64_t now_ns);

/* Append records; a block is compressed and written each time it fills. */
int umbra_dump_writer_add(struct umbra_dump_writer *w,
			  const struct umbra_flow_record *recs, unsigned n);

/* Compress and write the pending partial block now (flush interval). */
int umbra_dump_writer_flush(struct umbra_dump_writer *w);

/* Record the loss/activity counters of one interval in the current file. */
int umbra_dump_writer_interval(struct umbra_dump_writer *w,
			       const struct umbra_interval *iv);

/*
 * Flush, complete and rename the current file, free everything. final
 * (may be NULL) gets the statistics including that last file.
 */
int umbra_dump_writer_close(struct umbra_dump_writer *w,
			    struct umbra_dump_writer_stats *final);

struct umbra_dump_writer_stats {
	uint64_t records;      /* records written to completed blocks */
	uint64_t blocks;
	uint64_t bytes;        /* bytes written to files (all frames) */
	uint64_t files;        /* files completed */
	uint64_t write_errors; /* failed writes (disk full...) */
	uint64_t records_lost; /* records dropped because a write failed */
};
void umbra_dump_writer_stats(const struct umbra_dump_writer *w,
			     struct umbra_dump_writer_stats *st);

#endif /* UMBRA_WRITER_DUMP_H */
