/* SPDX-License-Identifier: BSD-3-Clause */
/* Unit tests for engine/config.c: options, config files, refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static int
parse(struct umbra_config *c, char *err, const char *a0, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;
	const char *a;

	umbra_config_defaults(c);
	va_start(ap, a0);
	for (a = a0; a != NULL; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	return umbra_config_parse_args(c, argc, argv, err, 512);
}

static void
test_defaults(void **state)
{
	struct umbra_config c;
	char err[512];

	(void)state;
	umbra_config_defaults(&c);
	assert_int_equal(c.rotate_s, 300);
	assert_int_equal(c.idle_timeout_s, 60);
	assert_int_equal(c.active_timeout_s, 300);
	assert_int_equal(c.workers, 1);
	assert_string_equal(c.out_dir, ".");
	/* a darknet is required */
	assert_int_equal(umbra_config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--darknet"));
}

static void
test_args(void **state)
{
	struct umbra_config c;
	char err[512];

	(void)state;
	assert_int_equal(parse(&c, err, "--pcap", "x.pcap", "--darknet", "192.0.2.0/24",
			       "--darknet=2001:db8::/32", "--out", "/tmp", "--rotate", "60",
			       "--idle-timeout", "5", "--active-timeout=20", "--sensor-name",
			       "tokyo-1", "--no-status", "--stats-json", "s.json", NULL), 0);
	assert_string_equal(c.pcap, "x.pcap");
	assert_int_equal(c.darknet.n, 2);
	assert_string_equal(c.darknet_text[0], "192.0.2.0/24");
	assert_string_equal(c.darknet_text[1], "2001:db8::/32");
	assert_int_equal(c.rotate_s, 60);
	assert_int_equal(c.idle_timeout_s, 5);
	assert_int_equal(c.active_timeout_s, 20);
	assert_string_equal(c.sensor_name, "tokyo-1");
	assert_int_equal(c.status, 0);
	assert_string_equal(c.stats_json, "s.json");
	assert_int_equal(umbra_config_validate(&c, err, sizeof(err)), 0);
}

/* Every refusal is one line naming the option and the value. */
static void
test_bad_values_named(void **state)
{
	static const char *const bad[][2] = {
		{ "--rotate", "0" },        { "--rotate", "abc" },
		{ "--rotate", "10x" },      { "--idle-timeout", "-1" },
		{ "--workers", "99999" },   { "--darknet", "192.0.2.1/24" },
		{ "--darknet", "300.0.0.0/8" }, { "--darknet", "nonsense" },
		{ "--flows", "1" },         { "--zstd-level", "99" },
		{ "--burst", "1000" },
	};
	struct umbra_config c;
	char err[512];
	unsigned i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(&c, err, bad[i][0], bad[i][1], NULL), -EINVAL);
		assert_non_null(strstr(err, bad[i][0] + 2));
		assert_non_null(strstr(err, bad[i][1]));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(parse(&c, err, "--status=maybe", NULL), -EINVAL);
	assert_non_null(strstr(err, "'--status': bad value 'maybe'"));
	assert_int_equal(parse(&c, err, "--frobnicate", NULL), -EINVAL);
	assert_non_null(strstr(err, "frobnicate"));
	assert_int_equal(parse(&c, err, "--rotate", NULL), -EINVAL);
	assert_non_null(strstr(err, "rotate"));
	assert_int_equal(parse(&c, err, "stray", NULL), -EINVAL);
	assert_int_equal(parse(&c, err, "--darknet", "192.0.2.0/24", "--darknet",
			       "192.0.2.128/25", NULL), -EINVAL);
	assert_non_null(strstr(err, "overlaps"));
	/* cross-option rule */
	assert_int_equal(parse(&c, err, "--darknet", "192.0.2.0/24", "--idle-timeout", "600",
			       "--active-timeout", "300", NULL), 0);
	assert_int_equal(umbra_config_validate(&c, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "active-timeout"));
}

static void
test_config_file(void **state)
{
	const char *text = "# umbra.conf\n"
			   "darknet = 192.0.2.0/24\n"
			   "darknet = 198.51.100.0/24   # second\n"
			   "\n"
			   "sensor-name = \"osaka 2\"\n"
			   "rotate=600\n"
			   "status = no\n";
	struct umbra_config c;
	char err[512];

	(void)state;
	umbra_config_defaults(&c);
	assert_int_equal(umbra_config_load_buffer(&c, text, strlen(text), "t.conf", err,
						  sizeof(err)), 0);
	assert_int_equal(c.darknet.n, 2);
	assert_string_equal(c.sensor_name, "osaka 2");
	assert_int_equal(c.rotate_s, 600);
	assert_int_equal(c.status, 0);
}

static void
test_config_file_errors_name_line(void **state)
{
	const char *t1 = "darknet = 192.0.2.0/24\nrotate = never\n";
	const char *t2 = "\n\nunknown-key = 3\n";
	const char *t3 = "sensor-name = \"open\n";
	struct umbra_config c;
	char err[512];

	(void)state;
	umbra_config_defaults(&c);
	assert_int_equal(umbra_config_load_buffer(&c, t1, strlen(t1), "a.conf", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "a.conf:2"));
	assert_non_null(strstr(err, "never"));
	umbra_config_defaults(&c);
	assert_int_equal(umbra_config_load_buffer(&c, t2, strlen(t2), "b.conf", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "b.conf:3"));
	assert_non_null(strstr(err, "unknown-key"));
	umbra_config_defaults(&c);
	assert_int_equal(umbra_config_load_buffer(&c, t3, strlen(t3), "c.conf", err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "c.conf:1"));
}

static void
test_config_option_loads_file(void **state)
{
	char path[] = "/tmp/umbra-test-conf-XXXXXX";
	struct umbra_config c;
	char err[512];
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("darknet = 203.0.113.0/24\nidle-timeout = 30\nconfig = /etc/passwd\n", f);
	fclose(f);
	/* command-line options after --config override it */
	assert_int_equal(parse(&c, err, "--config", path, NULL), -EINVAL);
	assert_non_null(strstr(err, "nested"));
	f = fopen(path, "w");
	fputs("darknet = 203.0.113.0/24\nidle-timeout = 30\n", f);
	fclose(f);
	assert_int_equal(parse(&c, err, "--config", path, "--idle-timeout", "45", NULL), 0);
	assert_int_equal(c.darknet.n, 1);
	assert_int_equal(c.idle_timeout_s, 45);
	assert_int_equal(parse(&c, err, "--config", "/nonexistent/umbra.conf", NULL), -EINVAL);
	assert_non_null(strstr(err, "/nonexistent/umbra.conf"));
	unlink(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_bad_values_named),
		cmocka_unit_test(test_config_file),
		cmocka_unit_test(test_config_file_errors_name_line),
		cmocka_unit_test(test_config_option_loads_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
