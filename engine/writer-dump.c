/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Dump writer (docs/FORMAT.md). Records collect in a pending block; a full
 * block is encoded column by column, compressed as one zstd frame with a
 * reused context, and written with its block-header frame in one pwrite.
 *
 * Failure model: the writer remembers the offset after the last complete
 * frame. A failed write truncates back to it, so a file never holds a torn
 * frame unless the process dies mid-write (readers resynchronise then).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "record-codec.h"
#include "writer-dump.h"

#ifndef UMBRA_VERSION
#define UMBRA_VERSION "unknown"
#endif

#define DEFAULT_BLOCK 8192
#define BLK_FRAME UMBRA_BLK_FRAME
#define NSEC 1000000000ull

struct idx_entry {
	uint64_t off;
	uint64_t min_first;
	uint64_t max_last;
	uint32_t count;
};

struct umbra_dump_writer {
	char *dir;
	char *sensor;
	char **prefixes;
	unsigned nprefixes;
	uint8_t *names_tlv; /* format 1.1 name TLVs, ready to copy */
	size_t names_len;
	uint64_t rotate_ns;
	unsigned block_records;
	unsigned file_mode;

	struct umbra_codec *codec;
	unsigned blk_codec; /* UMBRA_BLK_CODEC_* written */
	ZSTD_CCtx *cctx;
	struct umbra_flow_record *pend;
	unsigned npend;
	uint8_t *obuf;
	size_t obuf_cap;

	int have_now;
	uint64_t now;

	int fd; /* -1 when no file is open */
	uint64_t off;
	uint64_t period_start, period_end;
	uint32_t blk_seq;
	char partial[PATH_MAX];
	char final[PATH_MAX];
	struct idx_entry *idx;
	size_t nidx, idx_cap;

	struct umbra_dump_writer_stats st;
};

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	const uint8_t *p = buf;
	while (len) {
		ssize_t k = pwrite(fd, p, len, (off_t)off);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (k == 0)
			return -EIO;
		p += k;
		len -= (size_t)k;
		off += (uint64_t)k;
	}
	return 0;
}

/* Append one complete frame; on failure cut the file back to the last one. */
static int write_frame(struct umbra_dump_writer *w, const void *buf, size_t len)
{
	int rc = pwrite_all(w->fd, buf, len, w->off);
	if (rc < 0) {
		w->st.write_errors++;
		if (ftruncate(w->fd, (off_t)w->off) < 0) {
			/* leave the torn frame: readers resynchronise */
		}
		return rc;
	}
	w->off += len;
	w->st.bytes += len;
	return 0;
}

static void free_conf(struct umbra_dump_writer *w)
{
	free(w->dir);
	free(w->sensor);
	for (unsigned i = 0; i < w->nprefixes; i++)
		free(w->prefixes[i]);
	free(w->prefixes);
	free(w->names_tlv);
}

/* Append name TLVs of one kind to w->names_tlv (idbytes: 2 or 1). */
static int add_names(struct umbra_dump_writer *w, uint16_t type, unsigned idbytes,
		     const struct umbra_dump_name *v, unsigned n)
{
	if (n && !v)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		if (!v[i].name || (idbytes == 1 ? v[i].id >= UMBRA_TAG_BIT_MAX
						 : v[i].id > UINT16_MAX))
			continue;
		size_t len = strlen(v[i].name);
		if (len > UMBRA_TLV_NAME_MAX)
			len = UMBRA_TLV_NAME_MAX;
		if (w->names_len + 4 + idbytes + len > (512u << 10))
			break; /* keep the header far below readers' 1 MiB limit */
		uint8_t *nb = realloc(w->names_tlv, w->names_len + 4 + idbytes + len);
		if (!nb)
			return -ENOMEM;
		w->names_tlv = nb;
		uint8_t *p = nb + w->names_len;
		umbra_put16(p, type);
		umbra_put16(p + 2, (uint16_t)(idbytes + len));
		if (idbytes == 1)
			p[4] = (uint8_t)v[i].id;
		else
			umbra_put16(p + 4, (uint16_t)v[i].id);
		memcpy(p + 4 + idbytes, v[i].name, len);
		w->names_len += 4 + idbytes + len;
	}
	return 0;
}

struct umbra_dump_writer *
umbra_dump_writer_open(const struct umbra_dump_writer_conf *conf)
{
	/* callers built before the codec field have a smaller conf: default */
	unsigned codec = conf && conf->size >= offsetof(struct umbra_dump_writer_conf, codec) +
						       sizeof(conf->codec) ? conf->codec : 0;

	if (!conf || conf->size < offsetof(struct umbra_dump_writer_conf, file_mode) +
					  sizeof(conf->file_mode) ||
	    !conf->dir || (conf->nprefixes && !conf->prefixes) ||
	    conf->block_records > UMBRA_MAX_BLOCK_RECORDS ||
	    conf->zstd_level > ZSTD_maxCLevel() || codec > UMBRA_BLK_CODEC_KEYCRC) {
		errno = EINVAL;
		return NULL;
	}
	struct umbra_dump_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->fd = -1;
	w->rotate_ns = (uint64_t)conf->rotate_s * NSEC;
	w->block_records = conf->block_records ? conf->block_records : DEFAULT_BLOCK;
	w->blk_codec = codec != 0 ? codec : UMBRA_BLK_CODEC;
	w->file_mode = conf->file_mode ? conf->file_mode : 0640;
	w->dir = strdup(conf->dir);
	w->sensor = strdup(conf->sensor_name ? conf->sensor_name : "");
	w->prefixes = calloc(conf->nprefixes + 1, sizeof(char *));
	int ok = w->dir && w->sensor && w->prefixes;
	for (unsigned i = 0; ok && i < conf->nprefixes; i++) {
		w->prefixes[i] = strdup(conf->prefixes[i] ? conf->prefixes[i] : "");
		ok = w->prefixes[i] != NULL;
		w->nprefixes = i + 1;
	}
	if (ok && conf->size >= offsetof(struct umbra_dump_writer_conf, ntag_names) +
				    sizeof(conf->ntag_names))
		ok = add_names(w, UMBRA_TLV_LABEL_NAME, 2, conf->label_names,
			       conf->nlabel_names) == 0 &&
		     add_names(w, UMBRA_TLV_SIG_NAME, 2, conf->sig_names,
			       conf->nsig_names) == 0 &&
		     add_names(w, UMBRA_TLV_TAG_NAME, 1, conf->tag_names,
			       conf->ntag_names) == 0;
	w->codec = ok ? umbra_codec_new(w->block_records) : NULL;
	w->cctx = ZSTD_createCCtx();
	w->pend = malloc(sizeof(*w->pend) * w->block_records);
	/* two frames (codec 2) need at most one frame's overhead more */
	w->obuf_cap = BLK_FRAME + ZSTD_compressBound(umbra_codec_bound(w->block_records)) +
		      ZSTD_compressBound(0) + 64;
	w->obuf = malloc(w->obuf_cap);
	if (!ok || !w->codec || !w->cctx || !w->pend || !w->obuf) {
		umbra_codec_free(w->codec);
		ZSTD_freeCCtx(w->cctx);
		free(w->pend);
		free(w->obuf);
		free_conf(w);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	/* a telescope's writer runs for months: its buffers are touched once
	 * here, not when the first full block comes (memory stays flat) */
	umbra_codec_prefault(w->codec);
	memset(w->pend, 0, sizeof(*w->pend) * w->block_records);
	memset(w->obuf, 0, w->obuf_cap);
	int level = conf->zstd_level ? conf->zstd_level : UMBRA_DUMP_ZSTD_LEVEL;
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_compressionLevel, level);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setParameter(w->cctx, ZSTD_c_contentSizeFlag, 1);
	return w;
}

static void sanitize(char *dst, size_t cap, const char *src)
{
	size_t k = 0;
	for (; *src && k + 1 < cap && k < 64; src++) {
		char ch = *src;
		int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			 (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		dst[k++] = ok ? ch : '_';
	}
	if (k == 0)
		memcpy(dst, "sensor", (k = 6));
	dst[k] = 0;
}

static size_t put_tlv(uint8_t *p, uint16_t type, const void *val, size_t len)
{
	umbra_put16(p, type);
	umbra_put16(p + 2, (uint16_t)len);
	memcpy(p + 4, val, len);
	return 4 + len;
}

static size_t put_tlv_str(uint8_t *p, uint16_t type, const char *s, size_t max)
{
	size_t len = strlen(s);
	return put_tlv(p, type, s, len < max ? len : max);
}

static size_t put_tlv_u64(uint8_t *p, uint16_t type, uint64_t v)
{
	uint8_t b[8];
	umbra_put64(b, v);
	return put_tlv(p, type, b, 8);
}

static int write_header(struct umbra_dump_writer *w)
{
	size_t cap = 8 + UMBRA_HDR_FIXED + 3 * (4 + 255) + 3 * 12 +
		     (size_t)w->nprefixes * (4 + 255) + w->names_len;
	uint8_t *buf = calloc(1, cap);
	if (!buf)
		return -ENOMEM;
	uint8_t *p = buf + 8;
	memcpy(p, UMBRA_FILE_MAGIC, 8);
	umbra_put16(p + 8, UMBRA_FORMAT_MAJOR);
	umbra_put16(p + 10, UMBRA_FORMAT_MINOR);
	umbra_put16(p + 12, UMBRA_HDR_FIXED);
	umbra_put16(p + 14, 0);
	size_t len = UMBRA_HDR_FIXED;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	len += put_tlv_str(p + len, UMBRA_TLV_SENSOR, w->sensor, 255);
	len += put_tlv_str(p + len, UMBRA_TLV_ENGINE, UMBRA_VERSION, 63);
	for (unsigned i = 0; i < w->nprefixes; i++)
		len += put_tlv_str(p + len, UMBRA_TLV_PREFIX, w->prefixes[i], 47);
	len += put_tlv_u64(p + len, UMBRA_TLV_CREATED,
			   (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec);
	len += put_tlv_u64(p + len, UMBRA_TLV_PERIOD_START, w->period_start);
	len += put_tlv_u64(p + len, UMBRA_TLV_PERIOD_END, w->period_end);
	if (w->names_len)
		memcpy(p + len, w->names_tlv, w->names_len);
	len += w->names_len;
	uint32_t crc = umbra_crc32c(0, p, 16);
	crc = umbra_crc32c(crc, p + 20, len - 20);
	umbra_put32(p + 16, crc);
	umbra_put32(buf, UMBRA_FRAME_HEADER);
	umbra_put32(buf + 4, (uint32_t)len);
	int rc = write_frame(w, buf, 8 + len);
	free(buf);
	return rc;
}

static int open_file(struct umbra_dump_writer *w, uint64_t t)
{
	if (w->rotate_ns) {
		w->period_start = t / w->rotate_ns * w->rotate_ns;
		w->period_end = w->period_start + w->rotate_ns;
	} else {
		w->period_start = t;
		w->period_end = 0;
	}
	char sensor[80], stamp[32];
	sanitize(sensor, sizeof(sensor), w->sensor);
	time_t sec = (time_t)(w->period_start / NSEC);
	struct tm tm;
	gmtime_r(&sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);

	for (unsigned k = 0; k < 10000; k++) {
		char suffix[16] = "";
		if (k)
			snprintf(suffix, sizeof(suffix), "-%u", k);
		int n = snprintf(w->final, sizeof(w->final), "%s/umbra-%s-%s%s.uz",
				 w->dir, sensor, stamp, suffix);
		if (n < 0 || (size_t)n + 9 > sizeof(w->final))
			return -ENAMETOOLONG;
		memcpy(w->partial, w->final, (size_t)n);
		memcpy(w->partial + n, ".partial", 9);
		if (access(w->final, F_OK) == 0)
			continue;
		w->fd = open(w->partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     w->file_mode);
		if (w->fd >= 0)
			break;
		if (errno != EEXIST)
			return -errno;
	}
	if (w->fd < 0)
		return -EEXIST;
	w->off = 0;
	w->nidx = 0;
	w->blk_seq = 0;
	int rc = write_header(w);
	if (rc < 0) {
		close(w->fd);
		w->fd = -1;
		unlink(w->partial);
	}
	return rc;
}

static int ensure_file(struct umbra_dump_writer *w, uint64_t fallback)
{
	if (w->fd >= 0)
		return 0;
	int rc = open_file(w, w->have_now ? w->now : fallback);
	if (rc < 0)
		w->st.write_errors++;
	return rc;
}

static int write_block(struct umbra_dump_writer *w)
{
	unsigned n = w->npend;
	if (n == 0)
		return 0;
	w->npend = 0;
	uint64_t minf = UINT64_MAX, maxl = 0;
	for (unsigned i = 0; i < n; i++) {
		if (w->pend[i].first_ns < minf)
			minf = w->pend[i].first_ns;
		if (w->pend[i].last_ns > maxl)
			maxl = w->pend[i].last_ns;
	}
	int rc = ensure_file(w, minf);
	if (rc < 0)
		goto lost;

	const uint8_t *raw;
	uint32_t flags;
	size_t split;
	size_t usize = umbra_codec_encode(w->codec, w->pend, n, umbra_blk_layout(w->blk_codec),
					  &raw, &flags, &split);
	/* codecs 2 and 3: the key part and the rest, a zstd frame each, so
	 * that a reader aggregating on key columns decompresses only the
	 * first; codec 3 gives that frame a CRC of its own */
	size_t csize = ZSTD_compress2(w->cctx, w->obuf + BLK_FRAME,
				      w->obuf_cap - BLK_FRAME, raw, split);
	uint32_t key_crc = 0;
	if (!ZSTD_isError(csize) && w->blk_codec == UMBRA_BLK_CODEC_KEYCRC)
		key_crc = umbra_crc32c(0, w->obuf + BLK_FRAME, csize);
	if (!ZSTD_isError(csize) && split < usize) {
		size_t c2 = ZSTD_compress2(w->cctx, w->obuf + BLK_FRAME + csize,
					   w->obuf_cap - BLK_FRAME - csize, raw + split,
					   usize - split);
		csize = ZSTD_isError(c2) ? c2 : csize + c2;
	}
	if (ZSTD_isError(csize)) {
		rc = -EIO;
		goto lost;
	}
	const struct umbra_dump_block hb = {
		.min_first_ns = minf, .max_last_ns = maxl, .records = n,
		.usize = (uint32_t)usize, .csize = (uint32_t)csize,
		.data_crc = umbra_crc32c(0, w->obuf + BLK_FRAME, csize), .seq = w->blk_seq,
		.flags = (uint16_t)flags, .codec = (uint16_t)w->blk_codec, .key_crc = key_crc};
	umbra_blk_frame_put(w->obuf, &hb);

	if (w->nidx == w->idx_cap) {
		size_t cap = w->idx_cap ? 2 * w->idx_cap : 64;
		struct idx_entry *ni = realloc(w->idx, cap * sizeof(*ni));
		if (!ni) {
			rc = -ENOMEM;
			goto lost;
		}
		w->idx = ni;
		w->idx_cap = cap;
	}
	uint64_t at = w->off;
	rc = write_frame(w, w->obuf, BLK_FRAME + csize);
	if (rc < 0)
		goto lost;
	w->idx[w->nidx++] = (struct idx_entry){
		.off = at, .min_first = minf, .max_last = maxl, .count = n};
	w->blk_seq++;
	w->st.records += n;
	w->st.blocks++;
	return 0;
lost:
	w->st.records_lost += n;
	return rc;
}

static int write_index(struct umbra_dump_writer *w)
{
	size_t payload = 8 + w->nidx * UMBRA_IDX_ENTRY_LEN + UMBRA_FOOTER_LEN;
	if (payload > UMBRA_MAX_FRAME)
		return -EFBIG;
	uint8_t *buf = malloc(8 + payload);
	if (!buf)
		return -ENOMEM;
	umbra_put32(buf, UMBRA_FRAME_INDEX);
	umbra_put32(buf + 4, (uint32_t)payload);
	uint8_t *p = buf + 8;
	umbra_put32(p, (uint32_t)w->nidx);
	umbra_put32(p + 4, UMBRA_IDX_ENTRY_LEN);
	for (size_t i = 0; i < w->nidx; i++) {
		uint8_t *e = p + 8 + i * UMBRA_IDX_ENTRY_LEN;
		umbra_put64(e, w->idx[i].off);
		umbra_put32(e + 8, w->idx[i].count);
		umbra_put32(e + 12, 0);
		umbra_put64(e + 16, w->idx[i].min_first);
		umbra_put64(e + 24, w->idx[i].max_last);
	}
	uint8_t *f = p + payload - UMBRA_FOOTER_LEN;
	umbra_put32(f, (uint32_t)(8 + payload));
	umbra_put32(f + 4, umbra_crc32c(0, p, payload - UMBRA_FOOTER_LEN));
	memcpy(f + 8, UMBRA_INDEX_MAGIC, 8);
	int rc = write_frame(w, buf, 8 + payload);
	free(buf);
	return rc;
}

/* Complete the open file: last block, index, rename. */
static int finish_file(struct umbra_dump_writer *w)
{
	int rc = write_block(w);
	if (w->fd < 0)
		return rc;
	int rc2 = write_index(w);
	if (rc == 0)
		rc = rc2;
	if (close(w->fd) < 0 && rc == 0)
		rc = -errno;
	w->fd = -1;
	if (renameat2(AT_FDCWD, w->partial, AT_FDCWD, w->final, RENAME_NOREPLACE) < 0) {
		int err = errno;
		if (err == EINVAL || err == ENOSYS)
			err = rename(w->partial, w->final) < 0 ? errno : 0;
		if (err) {
			w->st.write_errors++;
			return rc ? rc : -err;
		}
	}
	w->st.files++;
	return rc;
}

int umbra_dump_writer_tick(struct umbra_dump_writer *w, uint64_t now_ns)
{
	/*
	 * Crossing into a later period while records wait in memory and no
	 * file is open yet: they belong to the period they were added in.
	 */
	if (w->rotate_ns && w->have_now && w->fd < 0 && w->npend > 0 &&
	    now_ns / w->rotate_ns > w->now / w->rotate_ns) {
		int rc = write_block(w);
		if (w->fd >= 0) {
			int r = finish_file(w);
			if (rc == 0)
				rc = r;
		}
		w->now = now_ns;
		return rc;
	}
	w->now = now_ns;
	w->have_now = 1;
	if (w->fd >= 0 && w->period_end && now_ns >= w->period_end)
		return finish_file(w);
	return 0;
}

int umbra_dump_writer_add(struct umbra_dump_writer *w,
			  const struct umbra_flow_record *recs, unsigned n)
{
	int rc = 0;
	while (n) {
		unsigned k = w->block_records - w->npend;
		if (k > n)
			k = n;
		memcpy(w->pend + w->npend, recs, sizeof(*recs) * k);
		w->npend += k;
		recs += k;
		n -= k;
		if (w->npend == w->block_records) {
			int r = write_block(w);
			if (r < 0 && rc == 0)
				rc = r;
		}
	}
	return rc;
}

int umbra_dump_writer_flush(struct umbra_dump_writer *w)
{
	return write_block(w);
}

int umbra_dump_writer_interval(struct umbra_dump_writer *w,
			       const struct umbra_interval *iv)
{
	int rc = ensure_file(w, iv->start_ns);
	if (rc < 0)
		return rc;
	uint8_t buf[8 + 8 + 8 * UMBRA_IV_NFIELDS];
	const uint64_t f[UMBRA_IV_NFIELDS] = {
		iv->start_ns, iv->end_ns, iv->rx_packets, iv->darknet_packets,
		iv->not_darknet_packets, iv->malformed_packets, iv->rx_missed,
		iv->rx_nombuf, iv->ring_drops, iv->ring_drop_packets,
		iv->flows_evicted, iv->write_drops,
	};
	_Static_assert(sizeof(struct umbra_interval) == 8 * UMBRA_IV_NFIELDS,
		       "interval frame lists every field");
	umbra_put32(buf, UMBRA_FRAME_INTERVAL);
	umbra_put32(buf + 4, sizeof(buf) - 8);
	umbra_put16(buf + 8, UMBRA_IV_VERSION);
	umbra_put16(buf + 10, UMBRA_IV_NFIELDS);
	for (int i = 0; i < UMBRA_IV_NFIELDS; i++)
		umbra_put64(buf + 16 + 8 * i, f[i]);
	umbra_put32(buf + 12, umbra_crc32c(0, buf + 16, sizeof(buf) - 16));
	return write_frame(w, buf, sizeof(buf));
}

int umbra_dump_writer_close(struct umbra_dump_writer *w,
			    struct umbra_dump_writer_stats *final)
{
	if (!w)
		return 0;
	int rc = write_block(w);
	if (w->fd >= 0) {
		int r = finish_file(w);
		if (rc == 0)
			rc = r;
	}
	if (final)
		*final = w->st;
	umbra_codec_free(w->codec);
	ZSTD_freeCCtx(w->cctx);
	free(w->pend);
	free(w->obuf);
	free(w->idx);
	free_conf(w);
	free(w);
	return rc;
}

void umbra_dump_writer_stats(const struct umbra_dump_writer *w,
			     struct umbra_dump_writer_stats *st)
{
	*st = w->st;
}
