/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests for engine/writer-dump.c and engine/dump-reader.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "record-codec.h"
#include "umbra/dump.h"
#include "writer-dump.h"

#define T0 1714521600000000000ull /* 2024-05-01T00:00:00Z */
#define SEC 1000000000ull

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/umbra-writer-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* each test starts with an empty directory */
static void clean_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	assert_int_equal(system(cmd), 0);
}

static void make_recs(struct umbra_flow_record *r, unsigned n, uint64_t t,
		      unsigned seed)
{
	memset(r, 0, sizeof(*r) * n);
	for (unsigned i = 0; i < n; i++) {
		uint32_t x = (seed + i) * 2654435761u;
		r[i].family = i % 7 == 3 ? 6 : 4;
		umbra_put32be(r[i].src, 0x0a000000u | (x >> 12));
		if (r[i].family == 6)
			r[i].src[15] = (uint8_t)x;
		r[i].dst[0] = 203;
		r[i].dst[2] = 113;
		r[i].dst[3] = (uint8_t)i;
		r[i].first_ns = t + (uint64_t)i * 1000003;
		r[i].last_ns = r[i].first_ns + (x % 3) * SEC;
		r[i].proto = 6;
		r[i].sport = (uint16_t)x;
		r[i].dport = 23;
		r[i].packets = 1 + x % 3;
		r[i].bytes = 40 * r[i].packets;
		r[i].tags = UMBRA_TAG_SCAN;
		r[i].end_reason = UMBRA_END_IDLE;
		r[i].ttl_min = r[i].ttl_max = 50;
		r[i].ip_id = (uint16_t)(x >> 7);
		r[i].syn_window = 65535;
		r[i].sig_id = (uint16_t)seed;
	}
}

static int cmp_rec(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct umbra_flow_record));
}

/* Read a whole file; returns records (sorted) and counts of each kind. */
struct readout {
	struct umbra_flow_record *recs;
	size_t n;
	unsigned blocks, errors;
	size_t nintervals;
	uint64_t dmg_blocks, dmg_bytes;
	size_t nindex;
};

static void read_all(const char *path, struct readout *o)
{
	memset(o, 0, sizeof(*o));
	struct umbra_dump_reader *r = umbra_dump_open(path);
	assert_non_null(r);
	const struct umbra_flow_record *recs;
	long k;
	size_t cap = 0;
	for (int guard = 0; guard < 100000; guard++) {
		k = umbra_dump_next(r, &recs);
		if (k == 0)
			break;
		if (k < 0) {
			assert_int_equal(k, -EBADMSG);
			o->errors++;
			continue;
		}
		o->blocks++;
		if (o->n + (size_t)k > cap) {
			cap = 2 * (o->n + (size_t)k);
			o->recs = realloc(o->recs, cap * sizeof(*recs));
		}
		memcpy(o->recs + o->n, recs, (size_t)k * sizeof(*recs));
		o->n += (size_t)k;
	}
	assert_int_equal(k, 0);
	const struct umbra_interval *iv;
	o->nintervals = umbra_dump_intervals(r, &iv);
	umbra_dump_damage(r, &o->dmg_blocks, &o->dmg_bytes);
	const struct umbra_dump_index_entry *ix;
	o->nindex = umbra_dump_index(r, &ix);
	umbra_dump_close(r);
	if (o->n)
		qsort(o->recs, o->n, sizeof(*o->recs), cmp_rec);
}

static void assert_same(struct umbra_flow_record *want, size_t n,
			const struct readout *o)
{
	assert_int_equal(o->n, n);
	qsort(want, n, sizeof(*want), cmp_rec);
	for (size_t i = 0; i < n; i++)
		assert_memory_equal(&want[i], &o->recs[i], sizeof(*want));
}

static struct umbra_dump_writer *open_writer(uint32_t rotate, uint32_t block)
{
	static const char *const pfx[] = {"203.0.113.0/24", "2001:db8::/32"};
	struct umbra_dump_writer_conf conf = {
		.size = sizeof(conf), .dir = dir, .sensor_name = "tokyo 1/a",
		.prefixes = pfx, .nprefixes = 2, .rotate_s = rotate,
		.block_records = block};
	struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
	assert_non_null(w);
	return w;
}

static int count_files(const char *suffix)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	size_t sl = strlen(suffix);
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l >= sl && strcmp(e->d_name + l - sl, suffix) == 0)
			n++;
	}
	closedir(d);
	return n;
}

static void path_of(char *buf, size_t cap, const char *name)
{
	snprintf(buf, cap, "%s/%s", dir, name);
}

static int zstd_test(const char *path)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "zstd -q -t '%s' 2>/dev/null", path);
	return system(cmd);
}

static void test_rotation(void **state)
{
	(void)state;
	clean_dir();
	enum { N = 1000 };
	struct umbra_flow_record a[N], b[N];
	make_recs(a, N, T0 + 10 * SEC, 1);
	make_recs(b, N, T0 + 70 * SEC, 2);
	struct umbra_dump_writer *w = open_writer(60, 256);
	assert_int_equal(umbra_dump_writer_tick(w, T0 + 10 * SEC), 0);
	assert_int_equal(umbra_dump_writer_add(w, a, N), 0);
	assert_int_equal(count_files(".uz.partial"), 1);
	assert_int_equal(umbra_dump_writer_tick(w, T0 + 59 * SEC), 0);
	assert_int_equal(count_files(".uz.partial"), 1);
	assert_int_equal(umbra_dump_writer_tick(w, T0 + 60 * SEC), 0);
	assert_int_equal(count_files(".uz.partial"), 0);
	assert_int_equal(count_files(".uz"), 1);
	assert_int_equal(umbra_dump_writer_add(w, b, N), 0);
	assert_int_equal(umbra_dump_writer_flush(w), 0);
	char p1[256], p2[256];
	path_of(p1, sizeof(p1), "umbra-tokyo_1_a-20240501T000000Z.uz");
	path_of(p2, sizeof(p2), "umbra-tokyo_1_a-20240501T000100Z.uz.partial");
	assert_int_equal(access(p2, F_OK), 0);

	/* the open .partial has no index and reads fine */
	struct readout o;
	read_all(p2, &o);
	assert_int_equal(o.nindex, 0);
	assert_int_equal(o.errors, 0);
	assert_same(b, N, &o);
	free(o.recs);

	struct umbra_dump_writer_stats st;
	umbra_dump_writer_stats(w, &st);
	assert_int_equal(st.files, 1);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	assert_int_equal(count_files(".partial"), 0);
	p2[strlen(p2) - 8] = 0;
	assert_int_equal(access(p2, F_OK), 0);

	read_all(p1, &o);
	assert_int_equal(o.blocks, 4); /* 1000 records in blocks of 256 */
	assert_int_equal(o.nindex, 4);
	assert_int_equal(o.errors, 0);
	assert_same(a, N, &o);
	free(o.recs);
	read_all(p2, &o);
	assert_same(b, N, &o);
	free(o.recs);
	assert_int_equal(zstd_test(p1), 0);
	assert_int_equal(zstd_test(p2), 0);

	struct umbra_dump_reader *r = umbra_dump_open(p1);
	const struct umbra_dump_meta *m = umbra_dump_get_meta(r);
	assert_string_equal(m->sensor_name, "tokyo 1/a");
	assert_int_equal(m->format_version, 1);
	assert_int_equal(m->nprefixes, 2);
	assert_string_equal(m->prefixes[1], "2001:db8::/32");
	assert_int_equal(m->period_start_ns, T0);
	assert_int_equal(m->period_end_ns, T0 + 60 * SEC);
	assert_true(m->created_ns > T0);
	assert_string_equal(m->engine_version, UMBRA_VERSION);
	umbra_dump_close(r);
}

static void test_intervals_index(void **state)
{
	(void)state;
	clean_dir();
	enum { N = 5000 };
	static struct umbra_flow_record a[N];
	make_recs(a, N, T0, 3);
	struct umbra_dump_writer *w = open_writer(0, 1000);
	struct umbra_interval iv = {.start_ns = T0, .end_ns = T0 + SEC};
	for (int i = 0; i < 3; i++) {
		iv.rx_packets = 100 + (uint64_t)i;
		iv.write_drops = 7;
		iv.ring_drops = UINT64_MAX - (uint64_t)i;
		assert_int_equal(umbra_dump_writer_interval(w, &iv), 0);
		assert_int_equal(umbra_dump_writer_add(w, a + i * 1000, 1000), 0);
	}
	assert_int_equal(umbra_dump_writer_add(w, a + 3000, 2000), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	char p[256];
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");

	struct umbra_dump_reader *r = umbra_dump_open(p);
	assert_non_null(r);
	const struct umbra_dump_index_entry *ix0;
	assert_int_equal(umbra_dump_index(r, &ix0), 5);
	struct umbra_dump_index_entry ix[5];
	memcpy(ix, ix0, sizeof(ix));
	for (int i = 0; i < 5; i++) {
		assert_int_equal(ix[i].records, 1000);
		assert_int_equal(ix[i].min_first_ns, T0 + (uint64_t)i * 1000 * 1000003);
		if (i)
			assert_true(ix[i].offset > ix[i - 1].offset);
	}
	const struct umbra_flow_record *recs;
	long total = 0, k;
	while ((k = umbra_dump_next(r, &recs)) > 0)
		total += k;
	assert_int_equal(k, 0);
	assert_int_equal(total, N);
	const struct umbra_interval *ivs;
	assert_int_equal(umbra_dump_intervals(r, &ivs), 3);
	assert_int_equal(ivs[2].rx_packets, 102);
	assert_int_equal(ivs[2].ring_drops, UINT64_MAX - 2);
	assert_int_equal(ivs[0].write_drops, 7);
	assert_int_equal(ivs[0].end_ns, T0 + SEC);
	umbra_dump_close(r);

	/* the time filter skips blocks by their header */
	r = umbra_dump_open(p);
	uint64_t from = T0 + 3500ull * 1000003, to = T0 + 3600ull * 1000003;
	umbra_dump_set_time_range(r, from, to);
	int blocks = 0, want = 0;
	for (int i = 0; i < 5; i++)
		want += ix[i].max_last_ns >= from && ix[i].min_first_ns < to;
	while ((k = umbra_dump_next(r, &recs)) > 0) {
		blocks++;
		assert_int_equal(recs[0].sig_id, 3);
	}
	assert_int_equal(k, 0);
	assert_int_equal(blocks, want);
	assert_true(want >= 1 && want < 5);
	umbra_dump_close(r);
	assert_int_equal(zstd_test(p), 0);
	unlink(p);
}

static void corrupt_at(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	assert_int_equal(pread(fd, &b, 1, off), 1);
	b ^= 0x10;
	assert_int_equal(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

static void test_damage(void **state)
{
	(void)state;
	clean_dir();
	enum { N = 4000 };
	static struct umbra_flow_record a[N];
	make_recs(a, N, T0, 4);
	struct umbra_dump_writer *w = open_writer(0, 1000);
	assert_int_equal(umbra_dump_writer_add(w, a, N), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	char p[256];
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");
	struct umbra_dump_reader *r = umbra_dump_open(p);
	const struct umbra_dump_index_entry *ix0;
	assert_int_equal(umbra_dump_index(r, &ix0), 4);
	off_t off[4];
	for (int i = 0; i < 4; i++)
		off[i] = (off_t)ix0[i].offset;
	umbra_dump_close(r);
	struct stat st;
	stat(p, &st);

	/* a flipped byte in block 1's data: that block fails, the rest read */
	char cmd[600], q[300];
	snprintf(q, sizeof(q), "%s.copy", p);
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", p, q);
	assert_int_equal(system(cmd), 0);
	corrupt_at(q, off[1] + 56 + 40);
	struct readout o;
	read_all(q, &o);
	assert_int_equal(o.errors, 1);
	assert_int_equal(o.blocks, 3);
	assert_int_equal(o.n, 3000);
	assert_int_equal(o.dmg_blocks, 1);
	assert_int_equal((off_t)o.dmg_bytes, off[2] - off[1]);
	free(o.recs);
	assert_true(zstd_test(q) != 0);

	/* a flipped byte in block 2's header: resynchronise on block 3 */
	assert_int_equal(system(cmd), 0);
	corrupt_at(q, off[2] + 12);
	read_all(q, &o);
	assert_int_equal(o.errors, 1);
	assert_int_equal(o.n, 3000);
	assert_int_equal((off_t)o.dmg_bytes, off[3] - off[2]);
	free(o.recs);

	/* truncated in the middle of block 2 (a torn .partial) */
	assert_int_equal(system(cmd), 0);
	assert_int_equal(truncate(q, off[2] + 200), 0);
	read_all(q, &o);
	assert_int_equal(o.nindex, 0);
	assert_int_equal(o.errors, 1);
	assert_int_equal(o.blocks, 2);
	assert_int_equal(o.n, 2000);
	assert_int_equal(o.dmg_bytes, 200);
	free(o.recs);

	/* garbage between blocks is skipped; unknown skippable frames too */
	int fd = open(q, O_WRONLY | O_TRUNC);
	uint8_t *buf = malloc((size_t)st.st_size);
	int in = open(p, O_RDONLY);
	ssize_t k1 = pread(in, buf, (size_t)off[1], 0);
	assert_int_equal(k1, off[1]);
	assert_int_equal(write(fd, buf, (size_t)off[1]), off[1]);
	uint8_t skip[12] = {0x5f, 0x2a, 0x4d, 0x18, 4, 0, 0, 0, 1, 2, 3, 4};
	assert_int_equal(write(fd, skip, 12), 12);
	assert_int_equal(write(fd, "garbage!", 8), 8);
	ssize_t k2 = pread(in, buf, (size_t)(off[2] - off[1]), off[1]);
	assert_int_equal(write(fd, buf, (size_t)k2), k2);
	close(in);
	close(fd);
	free(buf);
	read_all(q, &o);
	assert_int_equal(o.errors, 1);
	assert_int_equal(o.n, 2000);
	assert_int_equal(o.dmg_bytes, 8);
	free(o.recs);
	unlink(q);
	unlink(p);
}

static void test_bad_files(void **state)
{
	(void)state;
	clean_dir();
	char p[256];
	path_of(p, sizeof(p), "bad.uz");
	FILE *f = fopen(p, "w");
	fputs("not an umbra dump at all", f);
	fclose(f);
	errno = 0;
	assert_null(umbra_dump_open(p));
	assert_int_equal(errno, EPROTO);
	path_of(p, sizeof(p), "missing.uz");
	assert_null(umbra_dump_open(p));
	assert_int_equal(errno, ENOENT);

	/* a future major version is refused, a future minor accepted */
	struct umbra_flow_record a[10];
	make_recs(a, 10, T0, 5);
	struct umbra_dump_writer *w = open_writer(0, 0);
	assert_int_equal(umbra_dump_writer_add(w, a, 10), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");
	int fd = open(p, O_RDWR);
	uint8_t hdr[8 + 256];
	assert_true(pread(fd, hdr, sizeof(hdr), 0) > 40);
	uint32_t len = umbra_get32(hdr + 4);
	uint8_t *pl = hdr + 8;
	umbra_put16(pl + 10, 7); /* minor 7 */
	umbra_put32(pl + 16, umbra_crc32c(umbra_crc32c(0, pl, 16), pl + 20, len - 20));
	assert_int_equal(pwrite(fd, hdr, 8 + len, 0), 8 + len);
	struct umbra_dump_reader *r = umbra_dump_open(p);
	assert_non_null(r);
	umbra_dump_close(r);
	umbra_put16(pl + 8, 2); /* major 2 */
	assert_int_equal(pwrite(fd, hdr, 8 + len, 0), 8 + len);
	close(fd);
	assert_null(umbra_dump_open(p));
	assert_int_equal(errno, ENOTSUP);
	unlink(p);

	/* random bytes after a valid header never crash the reader */
	w = open_writer(0, 0);
	assert_int_equal(umbra_dump_writer_add(w, a, 10), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	uint8_t *orig = malloc((size_t)st.st_size);
	fd = open(p, O_RDONLY);
	assert_int_equal(pread(fd, orig, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	for (int it = 0; it < 300; it++) {
		fd = open(p, O_RDWR | O_TRUNC);
		assert_int_equal(pwrite(fd, orig, (size_t)st.st_size, 0), st.st_size);
		uint32_t x = (uint32_t)it * 2654435761u;
		uint32_t span = (uint32_t)st.st_size - 60;
		for (int k = 0; k < 1 + it % 5; k++) {
			x = x * 1103515245u + 12345u;
			uint8_t b = (uint8_t)(x >> 16);
			off_t at = 60 + (off_t)(x % span);
			assert_int_equal(pwrite(fd, &b, 1, at), 1);
		}
		if (it % 3 == 0)
			assert_int_equal(ftruncate(fd, 60 + (off_t)(x % span)), 0);
		close(fd);
		r = umbra_dump_open(p);
		if (r) {
			const struct umbra_flow_record *recs;
			long k;
			int guard = 0;
			while ((k = umbra_dump_next(r, &recs)) != 0 && guard++ < 1000)
				assert_true(k > 0 || k == -EBADMSG);
			assert_int_equal(k, 0);
			umbra_dump_close(r);
		}
	}
	free(orig);
	unlink(p);
}

static void test_name_collision(void **state)
{
	(void)state;
	clean_dir();
	char p[256];
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");
	FILE *f = fopen(p, "w");
	fclose(f);
	struct umbra_flow_record a[3];
	make_recs(a, 3, T0 + 5 * SEC, 6);
	struct umbra_dump_writer *w = open_writer(3600, 0);
	/* no tick: the period comes from the records */
	assert_int_equal(umbra_dump_writer_add(w, a, 3), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z-1.uz");
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	struct readout o;
	read_all(p, &o);
	assert_same(a, 3, &o);
	free(o.recs);
	unlink(p);
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");
	unlink(p);
}

/* A full disk (here: a file size limit) loses blocks, counts them, and the
 * writer goes on once there is room again. */
/*
 * Both block codecs read back whole (umbra_dump_next) and column by column;
 * codec 2 also from its key part alone (a view of key columns only).
 */
static void test_codecs(void **state)
{
	(void)state;
	enum { N = 3000 };
	static struct umbra_flow_record a[N];
	static const char *const pfx[] = {"203.0.113.0/24"};
	make_recs(a, N, T0, 7);
	/* an unknown codec is refused; a conf from before the field is not read */
	struct umbra_dump_writer_conf bad = {
		.size = sizeof(bad), .dir = dir, .sensor_name = "codec",
		.prefixes = pfx, .nprefixes = 1, .codec = UMBRA_BLK_CODEC_KEYCRC + 1};
	errno = 0;
	assert_null(umbra_dump_writer_open(&bad));
	assert_int_equal(errno, EINVAL);
	bad.size = offsetof(struct umbra_dump_writer_conf, codec);
	struct umbra_dump_writer *old = umbra_dump_writer_open(&bad);
	assert_non_null(old);
	assert_int_equal(umbra_dump_writer_close(old, NULL), 0);
	for (unsigned codec = UMBRA_BLK_CODEC_FLAT; codec <= UMBRA_BLK_CODEC_KEYCRC; codec++) {
		clean_dir();
		struct umbra_dump_writer_conf conf = {
			.size = sizeof(conf), .dir = dir, .sensor_name = "codec",
			.prefixes = pfx, .nprefixes = 1, .block_records = 512, .codec = codec};
		struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
		assert_non_null(w);
		assert_int_equal(umbra_dump_writer_tick(w, T0), 0);
		assert_int_equal(umbra_dump_writer_add(w, a, N), 0);
		assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
		char p[256];
		path_of(p, sizeof(p), "umbra-codec-20240501T000000Z.uz");
		struct readout o;
		read_all(p, &o);
		assert_int_equal(o.errors, 0);
		assert_same(a, N, &o);
		free(o.recs);

		/* packets and dports summed from views equal the records' */
		uint64_t want_pk = 0, want_dp = 0;
		for (unsigned i = 0; i < N; i++) {
			want_pk += a[i].packets;
			want_dp += (uint64_t)a[i].dport * a[i].packets;
		}
		static const unsigned colsets[] = {UMBRA_COL_ALL, UMBRA_CODEC_KEY_COLS,
						   UMBRA_COL_DPORT | UMBRA_COL_PACKETS};
		for (unsigned k = 0; k < 3; k++) {
			struct umbra_dump_reader *r = umbra_dump_open(p);
			struct umbra_block_decoder *d = umbra_block_decoder_new(0);
			struct umbra_dump_block b;
			struct umbra_block_view v;
			uint64_t pk = 0, dp = 0, nrec = 0;
			while (umbra_dump_next_block(r, &b) == 1) {
				assert_int_equal(b.codec, codec);
				long n = umbra_block_decode_view(d, r, &b, colsets[k], &v);
				assert_int_equal(n, (long)b.records);
				for (long i = 0; i < n; i++) {
					pk += v.packets[i];
					dp += (uint64_t)v.dport[i] * v.packets[i];
				}
				nrec += (uint64_t)n;
			}
			assert_int_equal(nrec, N);
			assert_int_equal(pk, want_pk);
			assert_int_equal(dp, want_dp);
			umbra_block_decoder_free(d);
			umbra_dump_close(r);
		}
	}
}

static void test_write_errors(void **state)
{
	(void)state;
	clean_dir();
	enum { N = 3000 };
	static struct umbra_flow_record a[N];
	make_recs(a, N, T0, 7);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_IGN);
	struct umbra_dump_writer *w = open_writer(0, 1000);
	assert_int_equal(umbra_dump_writer_add(w, a, 1000), 0);
	struct umbra_dump_writer_stats st;
	umbra_dump_writer_stats(w, &st);
	lim = old;
	lim.rlim_cur = st.bytes + 100;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	assert_int_equal(umbra_dump_writer_add(w, a + 1000, 1000), -EFBIG);
	umbra_dump_writer_stats(w, &st);
	assert_int_equal(st.write_errors, 1);
	assert_int_equal(st.records_lost, 1000);
	assert_int_equal(st.records, 1000);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(umbra_dump_writer_add(w, a + 2000, 1000), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	signal(SIGXFSZ, SIG_DFL);
	char p[256];
	path_of(p, sizeof(p), "umbra-tokyo_1_a-20240501T000000Z.uz");
	struct readout o;
	read_all(p, &o);
	assert_int_equal(o.errors, 0); /* the torn frame was cut off */
	assert_int_equal(o.n, 2000);
	assert_int_equal(o.nindex, 2);
	free(o.recs);
	assert_int_equal(zstd_test(p), 0);
	unlink(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_intervals_index),
		cmocka_unit_test(test_damage),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_name_collision),
		cmocka_unit_test(test_codecs),
		cmocka_unit_test(test_write_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
