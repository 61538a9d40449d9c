/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Plugin ABI (include/umbra/plugin.h, engine/plugin-loader.c): the
 * example out-of-tree plugin loads and classifies; a major-version
 * mismatch, a too-small descriptor and a duplicate name are refused with
 * a clear message; descriptors are checked in memory too.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "classify-harness.h"

#define PLUGIN(n) UMBRA_TEST_PLUGIN_DIR "/umbra-example-" n ".so"

static struct umbra_darknet dn;

static struct umbra_classify *
with_plugin(const char *path, int builtins, char *err, size_t errlen)
{
	struct umbra_classify_conf cc;
	const char *paths[1] = { path };

	umbra_darknet_init(&dn);
	umbra_darknet_add(&dn, "192.0.2.0/24");
	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.quiet = 1;
	cc.rules_path = UMBRA_TEST_SRC "/rules/default.rules";
	cc.plugins = paths;
	cc.nplugins = path != NULL;
	cc.no_builtins = !builtins;
	return umbra_classify_create(&cc, err, errlen);
}

static uint64_t
counter(struct umbra_classify *cl, const struct umbra_counters *c, const char *name)
{
	unsigned i;

	for (i = 0; i < umbra_classify_ncounters(cl); i++)
		if (!strcmp(umbra_classify_counter_name(cl, i), name))
			return c->cls[i];
	fail_msg("no counter %s", name);
	return 0;
}

static void
test_example_loads(void **state)
{
	static const char get[] = "GET / HTTP/1.0\r\n\r\n";
	struct tharness *h = calloc(1, sizeof(*h));
	struct umbra_classify *cl;
	const struct umbra_flow_record *r;
	struct tspec s;
	char err[512];
	unsigned i, xmas_bit = 0;

	(void)state;
	cl = with_plugin(PLUGIN("xmas"), 1, err, sizeof(err));
	if (cl == NULL)
		fail_msg("%s", err);
	assert_int_equal(umbra_classify_nplugins(cl), 4);
	assert_string_equal(umbra_classify_plugin(cl, 3)->name, "example-xmas");
	assert_string_equal(umbra_classify_plugin(cl, 3)->licence, "BSD-3-Clause");
	for (i = UMBRA_TAG_BIT_PLUGIN_FIRST; i < UMBRA_TAG_BIT_MAX; i++)
		if (umbra_classify_tag_name(cl, i) && !strcmp(umbra_classify_tag_name(cl, i), "xmas"))
			xmas_bit = i;
	assert_int_equal(xmas_bit, UMBRA_TAG_BIT_PLUGIN_FIRST);
	assert_string_equal(umbra_classify_tag_name(cl, UMBRA_TAG_BIT_ZMAP), "zmap");
	assert_int_equal(t_harness_init(h, cl), 0);
	t_syn_defaults(&s);
	s.flags = 0x29; /* FIN PSH URG */
	s.sport = 100;
	t_send_spec(h, &s);
	s.sport = 101;
	t_send_spec(h, &s);
	s.sport = 102; /* plain SYN */
	s.flags = 0x02;
	t_send_spec(h, &s);
	s.sport = 103; /* the plugin's payload pattern */
	s.dport = 8080;
	s.flags = 0x18;
	s.payload = (const uint8_t *)get;
	s.plen = sizeof(get) - 1;
	t_send_spec(h, &s);
	t_finish(h);
	r = t_find(h, 100, 23);
	assert_non_null(r);
	assert_true(r->tags & UMBRA_TAG(xmas_bit));
	r = t_find(h, 102, 23);
	assert_non_null(r);
	assert_false(r->tags & UMBRA_TAG(xmas_bit));
	r = t_find(h, 103, 8080);
	assert_non_null(r);
	assert_true(r->sig_id >= 50000);
	assert_string_equal(umbra_classify_sig_name(cl, r->sig_id), "example-http-get");
	assert_int_equal(counter(cl, h->w->cnt, "example.xmas_flows"), 2);
	assert_int_equal(counter(cl, h->w->cnt, "example.flows_finished"), 4);
	assert_int_equal(h->w->cnt->tag_flows[xmas_bit], 2);
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
}

static void
expect_refused(const char *path, const char *needle)
{
	char err[512] = "";

	assert_null(with_plugin(path, 1, err, sizeof(err)));
	if (strstr(err, needle) == NULL)
		fail_msg("message '%s' lacks '%s'", err, needle);
}

static void
test_refusals(void **state)
{
	(void)state;
	expect_refused(PLUGIN("badabi"), "ABI 99.0 is not supported");
	expect_refused(PLUGIN("small"), "descriptor is 16 bytes");
	expect_refused(PLUGIN("dup"), "name 'p0f' is already registered");
	expect_refused("/nonexistent/plugin.so", "cannot load");
	expect_refused(UMBRA_TEST_SRC "/README.md", "cannot load");
}

static void
test_check_in_memory(void **state)
{
	struct umbra_plugin d;
	char err[256];

	(void)state;
	memset(&d, 0, sizeof(d));
	d.abi_major = UMBRA_PLUGIN_ABI_MAJOR;
	d.abi_minor = UMBRA_PLUGIN_ABI_MINOR + 5; /* newer minor: accepted */
	d.size = sizeof(d) + 64;                  /* bigger: accepted */
	d.name = "ok_name-1";
	assert_int_equal(umbra_plugin_check(NULL, &d, "m", err, sizeof(err)), 0);
	d.name = "Bad Name";
	assert_int_equal(umbra_plugin_check(NULL, &d, "m", err, sizeof(err)), -EINVAL);
	d.name = "x";
	d.abi_major = 0;
	assert_int_equal(umbra_plugin_check(NULL, &d, "m", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "major versions must match"));
	d.abi_major = UMBRA_PLUGIN_ABI_MAJOR;
	d.size = UMBRA_PLUGIN_MIN_SIZE - 1;
	assert_int_equal(umbra_plugin_check(NULL, &d, "m", err, sizeof(err)), -EINVAL);
	assert_int_equal(umbra_plugin_check(NULL, NULL, "m", err, sizeof(err)), -EINVAL);
}

/* Loaded alone (--no-classify): only the plugin runs. */
static void
test_plugin_without_builtins(void **state)
{
	struct umbra_classify *cl;
	struct tharness *h = calloc(1, sizeof(*h));
	struct tspec s;
	char err[512];

	(void)state;
	cl = with_plugin(PLUGIN("xmas"), 0, err, sizeof(err));
	assert_non_null(cl);
	assert_int_equal(umbra_classify_nplugins(cl), 1);
	assert_int_equal(t_harness_init(h, cl), 0);
	t_syn_defaults(&s);
	s.ipid = 54321;
	s.flags = 0x29;
	t_send_spec(h, &s);
	t_finish(h);
	assert_int_equal(h->nrec, 1);
	assert_int_equal(h->rec[0].tags, UMBRA_TAG_OTHER | UMBRA_TAG(UMBRA_TAG_BIT_PLUGIN_FIRST));
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_example_loads),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_check_in_memory),
		cmocka_unit_test(test_plugin_without_builtins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
