/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the dump reader (engine/dump-reader.c) on every
 * frame type: file header and its TLVs, block headers and their zstd
 * data frames (columnar codec), intervals, the index and footer, unknown
 * skippable frames, and damage between them. The input is the file; it
 * lives in a memfd so the reader runs unchanged (open/pread by path).
 * Two passes: record by record (umbra_dump_next) and block by block with
 * column views (umbra_dump_next_block + decoders), as the analyzer reads.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "umbra/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;

static int
load(const uint8_t *data, size_t size, char *path, size_t plen)
{
	if (memfd < 0) {
		memfd = memfd_create("fuzz-dump", MFD_CLOEXEC);
		if (memfd < 0)
			abort();
	}
	if (ftruncate(memfd, 0) != 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	snprintf(path, plen, "/proc/self/fd/%d", memfd);
	return 0;
}

/* A damaged file must end: each call either advances or ends. */
#define MAX_CALLS 4096

static void
by_records(const char *path)
{
	struct umbra_dump_reader *r = umbra_dump_open(path);
	const struct umbra_flow_record *recs;
	const struct umbra_interval *iv;
	const struct umbra_dump_index_entry *ix;
	struct umbra_dump_damage_info di;
	uint64_t blocks, bytes, sum = 0;
	long n;
	int calls = 0;

	if (r == NULL)
		return;
	(void)umbra_dump_get_meta(r);
	(void)umbra_dump_index(r, &ix);
	while ((n = umbra_dump_next(r, &recs)) != 0 && ++calls < MAX_CALLS) {
		if (n > 0)
			for (long i = 0; i < n; i++)
				sum += recs[i].packets; /* touch every record */
		else if (n != -EBADMSG && n != -EIO && n != -ENOMEM)
			abort(); /* the API promises these only */
	}
	if (calls >= MAX_CALLS)
		abort(); /* the reader looped without progress */
	(void)umbra_dump_intervals(r, &iv);
	umbra_dump_damage(r, &blocks, &bytes);
	(void)umbra_dump_last_damage(r, &di);
	(void)sum;
	umbra_dump_close(r);
}

static void
by_blocks(const char *path)
{
	struct umbra_dump_reader *r = umbra_dump_open(path);
	struct umbra_block_decoder *d, *dt;
	struct umbra_dump_block b;
	int rc, calls = 0;
	unsigned k = 0;

	if (r == NULL)
		return;
	d = umbra_block_decoder_new(0);
	dt = umbra_block_decoder_new(UMBRA_DECODER_TRUST_CRC);
	if (d == NULL || dt == NULL)
		abort();
	umbra_dump_set_time_range(r, 0, UINT64_MAX);
	while ((rc = umbra_dump_next_block(r, &b)) != 0 && ++calls < MAX_CALLS) {
		const struct umbra_flow_record *recs;
		struct umbra_block_view v;
		const uint8_t *raw;

		if (rc < 0)
			continue;
		switch (k++ % 4) {
		case 0:
			(void)umbra_block_decode(d, r, &b, &recs);
			break;
		case 3:
			/* key columns only: a codec 2 block's first frame alone */
			(void)umbra_block_decode_view(d, r, &b,
						      UMBRA_COL_DST | UMBRA_COL_DPORT |
							      UMBRA_COL_PACKETS | UMBRA_COL_PROFILE,
						      &v);
			break;
		case 1:
			(void)umbra_block_decode_view(dt, r, &b,
						      UMBRA_COL_SRC | UMBRA_COL_DPORT |
							      UMBRA_COL_LAST | UMBRA_COL_PROFILE,
						      &v);
			break;
		default: {
			(void)umbra_block_read_raw(d, r, &b, &raw);
			/* in ranges, last first: the delta columns worked out
			 * from the block's start as well as carried on */
			long n = umbra_block_view_begin(d, r, &b, UMBRA_COL_ALL);
			long q = n / 4 + 1;
			for (long to = n; to > 0; to -= to > q ? q : to)
				if (umbra_block_view_range(d, (uint32_t)(to > q ? to - q : 0),
							   (uint32_t)(to > q ? q : to), &v) < 0)
					abort();
			break;
		}
		}
	}
	if (calls >= MAX_CALLS)
		abort();
	umbra_block_decoder_free(d);
	umbra_block_decoder_free(dt);
	umbra_dump_close(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];

	if (size > (1u << 20))
		return 0;
	load(data, size, path, sizeof(path));
	by_records(path);
	by_blocks(path);
	return 0;
}
