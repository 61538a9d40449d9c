/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Format 1.1 name TLVs (docs/FORMAT.md): p0f label, signature and tag bit
 * names written by engine/writer-dump.c and read by engine/dump-reader.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record-codec.h"
#include "umbra/dump.h"
#include "writer-dump.h"

#define T0 1714521600000000000ull /* 2024-05-01T00:00:00Z */

static char dir[64];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/umbra-names-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const struct umbra_dump_name labels[] = {
	{1, "s:unix:Linux:3.11 and newer"}, {2, "s:win:Windows:7 or 8"},
	{7, "g:unix:zmap:"}, {3, NULL /* skipped */}};
static const struct umbra_dump_name sigs[] = {
	{100, "http-get"}, {50000, "plugin-sig"}, {2, "ssh-banner"}};
static const struct umbra_dump_name tags[] = {
	{16, "telnet_brute"}, {31, "last_bit"}, {40, "out of range"}};

/* Write one record with the given conf size; path of the file into path. */
static void write_file(uint32_t size, char *path, size_t cap)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -f %s/*", dir);
	assert_int_equal(system(cmd), 0);
	struct umbra_dump_writer_conf conf = {
		.size = size, .dir = dir, .sensor_name = "names",
		.label_names = labels, .nlabel_names = 4,
		.sig_names = sigs, .nsig_names = 3,
		.tag_names = tags, .ntag_names = 3};
	struct umbra_dump_writer *w = umbra_dump_writer_open(&conf);
	assert_non_null(w);
	struct umbra_flow_record r;
	memset(&r, 0, sizeof(r));
	r.family = 4;
	r.proto = 6;
	r.packets = 1;
	r.first_ns = r.last_ns = T0;
	r.p0f_label = 7;
	r.sig_id = 100;
	r.tags = UMBRA_TAG_SCAN | UMBRA_TAG(16);
	assert_int_equal(umbra_dump_writer_tick(w, T0), 0);
	assert_int_equal(umbra_dump_writer_add(w, &r, 1), 0);
	assert_int_equal(umbra_dump_writer_close(w, NULL), 0);
	DIR *d = opendir(dir);
	struct dirent *e;
	path[0] = 0;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			snprintf(path, cap, "%s/%s", dir, e->d_name);
	closedir(d);
	assert_true(path[0] != 0);
}

/* The file's records still read: one record with label 7 and sig 100. */
static void check_records(struct umbra_dump_reader *r)
{
	const struct umbra_flow_record *recs;
	assert_int_equal(umbra_dump_next(r, &recs), 1);
	assert_int_equal(recs[0].p0f_label, 7);
	assert_int_equal(recs[0].sig_id, 100);
	assert_int_equal(umbra_dump_next(r, &recs), 0);
}

static void test_round_trip(void **state)
{
	(void)state;
	char path[512];
	write_file(sizeof(struct umbra_dump_writer_conf), path, sizeof(path));
	struct umbra_dump_reader *r = umbra_dump_open(path);
	assert_non_null(r);
	assert_string_equal(umbra_dump_label_name(r, 1), "s:unix:Linux:3.11 and newer");
	assert_string_equal(umbra_dump_label_name(r, 2), "s:win:Windows:7 or 8");
	assert_string_equal(umbra_dump_label_name(r, 7), "g:unix:zmap:");
	assert_null(umbra_dump_label_name(r, 3));
	assert_null(umbra_dump_label_name(r, 0));
	assert_null(umbra_dump_label_name(r, 8));
	assert_string_equal(umbra_dump_sig_name(r, 100), "http-get");
	assert_string_equal(umbra_dump_sig_name(r, 50000), "plugin-sig");
	assert_string_equal(umbra_dump_sig_name(r, 2), "ssh-banner");
	assert_null(umbra_dump_sig_name(r, 1));
	assert_string_equal(umbra_dump_tag_name(r, 16), "telnet_brute");
	assert_string_equal(umbra_dump_tag_name(r, 31), "last_bit");
	assert_string_equal(umbra_dump_tag_name(r, 0), "scan"); /* built-in */
	assert_string_equal(umbra_dump_tag_name(r, 7), "large_scan");
	assert_null(umbra_dump_tag_name(r, 17));
	assert_null(umbra_dump_tag_name(r, 40));
	assert_null(umbra_dump_label_name(NULL, 1));
	check_records(r);
	umbra_dump_close(r);
}

/* A caller built against the 1.0 conf (smaller size): no names, still fine. */
static void test_old_conf(void **state)
{
	(void)state;
	char path[512];
	write_file((uint32_t)offsetof(struct umbra_dump_writer_conf, label_names), path,
		   sizeof(path));
	struct umbra_dump_reader *r = umbra_dump_open(path);
	assert_non_null(r);
	assert_null(umbra_dump_label_name(r, 7));
	assert_null(umbra_dump_sig_name(r, 100));
	assert_null(umbra_dump_tag_name(r, 16));
	assert_string_equal(umbra_dump_tag_name(r, 1), "backscatter");
	check_records(r);
	umbra_dump_close(r);
}

/*
 * A 1.0 file (minor 0, no name TLVs), and a file whose name TLVs have types
 * this reader does not know: both read, without names.
 */
static void rewrite_header(const char *path, int retype)
{
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	uint8_t fh[8];
	assert_int_equal(fread(fh, 1, 8, f), 8);
	uint32_t len = umbra_get32(fh + 4);
	uint8_t *p = malloc(len);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, len, f), len);
	assert_int_equal(umbra_get16(p + 10), UMBRA_FORMAT_MINOR); /* written as 1.3 */
	umbra_put16(p + 10, 0);
	unsigned seen = 0;
	for (uint32_t o = umbra_get16(p + 12); o + 4 <= len;) {
		uint16_t type = umbra_get16(p + o), tl = umbra_get16(p + o + 2);
		if (type >= UMBRA_TLV_LABEL_NAME && type <= UMBRA_TLV_TAG_NAME) {
			seen++;
			if (retype)
				umbra_put16(p + o, (uint16_t)(type + 1000));
		}
		o += 4u + tl;
	}
	assert_int_equal(seen, 3 + 3 + 2); /* NULL name and bit 40 not written */
	umbra_put32(p + 16, umbra_crc32c(umbra_crc32c(0, p, 16), p + 20, len - 20));
	assert_int_equal(fseek(f, 8, SEEK_SET), 0);
	assert_int_equal(fwrite(p, 1, len, f), len);
	fclose(f);
	free(p);
}

static void test_unknown_tlvs(void **state)
{
	(void)state;
	char path[512];
	write_file(sizeof(struct umbra_dump_writer_conf), path, sizeof(path));
	rewrite_header(path, 1);
	struct umbra_dump_reader *r = umbra_dump_open(path);
	assert_non_null(r);
	assert_null(umbra_dump_label_name(r, 7));
	assert_null(umbra_dump_sig_name(r, 100));
	assert_null(umbra_dump_tag_name(r, 16));
	assert_string_equal(umbra_dump_get_meta(r)->sensor_name, "names");
	check_records(r);
	umbra_dump_close(r);

	/* minor 0 with the TLVs kept: still read, names still available */
	write_file(sizeof(struct umbra_dump_writer_conf), path, sizeof(path));
	rewrite_header(path, 0);
	r = umbra_dump_open(path);
	assert_non_null(r);
	assert_string_equal(umbra_dump_label_name(r, 7), "g:unix:zmap:");
	check_records(r);
	umbra_dump_close(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_old_conf),
		cmocka_unit_test(test_unknown_tlvs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
