/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload signatures (engine/classify-hs.c, plugins/builtin-payload.c):
 * every rule of rules/default.rules against its matching and its
 * non-matching packet in rules/default.tests; rules-file errors; the
 * on-disk cache; scope; what the pipeline scans and counts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <unistd.h>
#include <cmocka.h>

#include "classify-harness.h"
#include "classify-hs.h"

#define RULES UMBRA_TEST_SRC "/rules/default.rules"
#define VECTORS UMBRA_TEST_SRC "/rules/default.tests"

/* C-style escapes: \xHH \r \n \t \\ \" */
static unsigned
unescape(const char *s, uint8_t *out, unsigned max)
{
	unsigned n = 0;

	while (*s && *s != '"' && n < max) {
		if (*s == '\\') {
			s++;
			switch (*s) {
			case 'x': {
				char h[3] = { s[1], s[2], 0 };

				out[n++] = (uint8_t)strtoul(h, NULL, 16);
				s += 3;
				continue;
			}
			case 'r': out[n++] = '\r'; break;
			case 'n': out[n++] = '\n'; break;
			case 't': out[n++] = '\t'; break;
			default: out[n++] = (uint8_t)*s; break;
			}
			s++;
		} else {
			out[n++] = (uint8_t)*s++;
		}
	}
	return n;
}

static int
has(const uint16_t *idx, int k, const struct umbra_hs *hs, unsigned id)
{
	int i;

	for (i = 0; i < k; i++)
		if (umbra_hs_pattern(hs, idx[i])->id == id)
			return 1;
	return 0;
}

static void
test_default_rules_vectors(void **state)
{
	struct umbra_hs_patterns ps = { 0 };
	struct umbra_hs *hs;
	char err[512], line[4096];
	static unsigned nmatch[UMBRA_HS_RULE_ID_MAX + 1], nnomatch[UMBRA_HS_RULE_ID_MAX + 1];
	unsigned i, nvec = 0;
	void *scratch;
	FILE *f;

	(void)state;
	assert_int_equal(umbra_hs_rules_load(&ps, RULES, err, sizeof(err)), 0);
	assert_true(ps.n >= 20);
	hs = umbra_hs_build(&ps, NULL, NULL, err, sizeof(err));
	if (hs == NULL)
		fail_msg("%s", err);
	scratch = umbra_hs_scratch(hs);
	assert_non_null(scratch);
	f = fopen(VECTORS, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned id, dport;
		char what[16], proto[8];
		const char *q = strchr(line, '"');
		uint8_t pay[2048];
		uint16_t idx[UMBRA_HS_MATCH_MAX];
		unsigned len;
		int k;

		if (line[0] == '#' || q == NULL)
			continue;
		assert_int_equal(sscanf(line, "%u %15s %7s %u", &id, what, proto, &dport), 4);
		len = unescape(q + 1, pay, sizeof(pay));
		k = umbra_hs_scan(hs, scratch, pay, len, strcmp(proto, "tcp") ? 17 : 6,
				  dport, idx, UMBRA_HS_MATCH_MAX);
		assert_true(k >= 0);
		if (!strcmp(what, "match")) {
			if (!has(idx, k, hs, id))
				fail_msg("rule %u does not match its test packet", id);
			nmatch[id]++;
		} else {
			if (has(idx, k, hs, id))
				fail_msg("rule %u matches its non-matching packet", id);
			nnomatch[id]++;
		}
		nvec++;
	}
	fclose(f);
	/* every rule has both kinds of packets */
	for (i = 0; i < ps.n; i++) {
		if (nmatch[ps.p[i].id] == 0 || nnomatch[ps.p[i].id] == 0)
			fail_msg("rule %u '%s' lacks a test packet", ps.p[i].id, ps.p[i].name);
	}
	assert_int_equal(nvec, 2 * ps.n);
	umbra_hs_scratch_free(scratch);
	umbra_hs_free(hs);
	umbra_hs_patterns_free(&ps);
}

static void
test_scope(void **state)
{
	static const char rules[] = "1 dns udp 53 /^ab/\n2 web tcp 80,8000-8080 /^GET /\n3 any any * /zz/\n";
	struct umbra_hs_patterns ps = { 0 };
	struct umbra_hs *hs;
	uint16_t idx[8];
	char err[256];
	void *s;

	(void)state;
	assert_int_equal(umbra_hs_rules_parse(&ps, rules, sizeof(rules) - 1, "t", err, sizeof(err)), 0);
	hs = umbra_hs_build(&ps, NULL, NULL, err, sizeof(err));
	assert_non_null(hs);
	s = umbra_hs_scratch(hs);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"abc", 3, 17, 53, idx, 8), 1);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"abc", 3, 6, 53, idx, 8), 0);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"abc", 3, 17, 54, idx, 8), 0);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"GET /", 5, 6, 80, idx, 8), 1);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"GET /", 5, 6, 8044, idx, 8), 1);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"GET /", 5, 6, 8081, idx, 8), 0);
	/* rule 3 in any protocol; an ICMP payload has no ports */
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"xzz", 3, 1, 0, idx, 8), 1);
	assert_int_equal(umbra_hs_pattern(hs, idx[0])->id, 3);
	/* empty payloads never reach Hyperscan */
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"", 0, 17, 53, idx, 8), 0);
	umbra_hs_scratch_free(s);
	umbra_hs_free(hs);
	umbra_hs_patterns_free(&ps);
}

static void
expect_error(const char *rules, const char *needle1, const char *needle2)
{
	struct umbra_hs_patterns ps = { 0 };
	struct umbra_hs *hs = NULL;
	char err[512] = "";
	int rc = umbra_hs_rules_parse(&ps, rules, strlen(rules), "bad.rules", err, sizeof(err));

	if (rc == 0) {
		hs = umbra_hs_build(&ps, NULL, NULL, err, sizeof(err));
		assert_null(hs);
	}
	if (strstr(err, needle1) == NULL || (needle2 != NULL && strstr(err, needle2) == NULL))
		fail_msg("error '%s' lacks '%s'/'%s'", err, needle1, needle2 ? needle2 : "");
	umbra_hs_patterns_free(&ps);
}

static void
test_bad_rules(void **state)
{
	(void)state;
	/* Hyperscan's own message, with the file and line of the rule */
	expect_error("# c\n1 ok udp 53 /^a/\n\n2 backref udp * /(a)\\1/\n", "bad.rules:4:",
		     "Hyperscan: ");
	expect_error("1 a udp 53 /x/\n1 b udp 53 /y/\n", "bad.rules:2:", "duplicates");
	expect_error("1 a udp 53 /x/\n2 a udp 53 /y/\n", "bad.rules:2:", "duplicates");
	expect_error("1 a udp 53 x\n", "bad.rules:1:", "PATTERN");
	expect_error("1 a xyz 53 /x/\n", "bad.rules:1:", "protocol");
	expect_error("1 a udp 99999 /x/\n", "bad.rules:1:", "ports");
	expect_error("1 a udp 53 /x/q\n", "bad.rules:1:", "flags");
	expect_error("0 a udp 53 /x/\n", "bad.rules:1:", "id");
	expect_error("1 a udp 53 /(/\n", "bad.rules:1:", "Hyperscan: ");
}

static void
test_cache(void **state)
{
	struct umbra_hs_patterns ps = { 0 };
	struct umbra_hs *hs;
	char dir[] = "/tmp/umbra-hs-test-XXXXXX", err[256], path[512];
	int cached = -1, files = 0;
	uint64_t k1;
	uint16_t idx[8];
	void *s;
	DIR *d;
	struct dirent *de;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(umbra_hs_rules_load(&ps, RULES, err, sizeof(err)), 0);
	hs = umbra_hs_build(&ps, dir, &cached, err, sizeof(err));
	assert_non_null(hs);
	assert_int_equal(cached, 0);
	umbra_hs_free(hs);
	hs = umbra_hs_build(&ps, dir, &cached, err, sizeof(err));
	assert_non_null(hs);
	assert_int_equal(cached, 1);
	s = umbra_hs_scratch(hs);
	assert_int_equal(umbra_hs_scan(hs, s, (const uint8_t *)"M-SEARCH * HTTP/1.1\r\n", 21,
				       17, 1900, idx, 8), 1);
	umbra_hs_scratch_free(s);
	umbra_hs_free(hs);
	/* a changed rule set has another key: compiled again */
	k1 = umbra_hs_key(&ps);
	free(ps.p[0].regex);
	ps.p[0].regex = strdup("^changed");
	assert_true(umbra_hs_key(&ps) != k1);
	hs = umbra_hs_build(&ps, dir, &cached, err, sizeof(err));
	assert_non_null(hs);
	assert_int_equal(cached, 0);
	umbra_hs_free(hs);
	d = opendir(dir);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		assert_non_null(strstr(de->d_name, "umbra-hs-"));
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
		files++;
	}
	closedir(d);
	rmdir(dir);
	assert_int_equal(files, 2);
	umbra_hs_patterns_free(&ps);
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

/* What the pipeline scans: first payload per flow, every UDP payload. */
static void
test_pipeline_scan(void **state)
{
	static struct umbra_darknet dn;
	static const char ssdp[] = "M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n";
	static const char redis1[] = "CONFIG SET dir /tmp\r\n";
	static const char redis2[] = "SLAVEOF 203.0.113.9 8886\r\n";
	static const char busy[] = "GET /xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx/bin/busybox HTTP/1.1\r\n\r\n";
	struct umbra_classify_conf cc;
	struct umbra_classify *cl;
	struct tharness *h = calloc(1, sizeof(*h));
	const struct umbra_flow_record *r;
	struct tspec s;
	char err[512];

	(void)state;
	umbra_darknet_init(&dn);
	umbra_darknet_add(&dn, "192.0.2.0/24");
	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.quiet = 1;
	cc.rules_path = RULES;
	cc.payload_bytes = 40;
	cl = umbra_classify_create(&cc, err, sizeof(err));
	if (cl == NULL)
		fail_msg("%s", err);
	assert_int_equal(t_harness_init(h, cl), 0);
	/* UDP flow: three SSDP probes, every one scanned */
	t_syn_defaults(&s);
	s.proto = 17;
	s.sport = 5555;
	s.dport = 1900;
	s.payload = (const uint8_t *)ssdp;
	s.plen = sizeof(ssdp) - 1;
	t_send_spec(h, &s);
	t_send_spec(h, &s);
	t_send_spec(h, &s);
	/* TCP flow: SYN (no payload), CONFIG SET, SLAVEOF: only the first
	 * payload is scanned, so SLAVEOF is not seen */
	t_syn_defaults(&s);
	s.sport = 6000;
	s.dport = 6379;
	t_send_spec(h, &s);
	s.flags = 0x18;
	s.payload = (const uint8_t *)redis1;
	s.plen = sizeof(redis1) - 1;
	t_send_spec(h, &s);
	s.payload = (const uint8_t *)redis2;
	s.plen = sizeof(redis2) - 1;
	t_send_spec(h, &s);
	/* TCP flow whose exploit string lies past --payload-bytes 40 */
	t_syn_defaults(&s);
	s.sport = 6001;
	s.dport = 80;
	s.flags = 0x18;
	s.payload = (const uint8_t *)busy;
	s.plen = sizeof(busy) - 1;
	t_send_spec(h, &s);
	/* TCP flow of SYNs only: nothing to scan */
	t_syn_defaults(&s);
	s.sport = 6002;
	t_send_spec(h, &s);
	t_send_spec(h, &s);
	t_finish(h);
	r = t_find(h, 5555, 1900);
	assert_non_null(r);
	assert_int_equal(r->sig_id, 121);
	r = t_find(h, 6000, 6379);
	assert_non_null(r);
	assert_int_equal(r->sig_id, 201);
	r = t_find(h, 6001, 80);
	assert_non_null(r);
	assert_int_equal(r->sig_id, 0);
	r = t_find(h, 6002, 23);
	assert_non_null(r);
	assert_int_equal(r->sig_id, 0);
	assert_int_equal(counter(cl, h->w->cnt, "payload.scanned"), 3 + 1 + 1);
	assert_int_equal(counter(cl, h->w->cnt, "sig.ssdp-msearch"), 3);
	assert_int_equal(counter(cl, h->w->cnt, "sig.redis-config-set"), 1);
	assert_int_equal(counter(cl, h->w->cnt, "sig.redis-slaveof"), 0);
	assert_int_equal(counter(cl, h->w->cnt, "sig.http-bin-busybox"), 0);
	assert_int_equal(counter(cl, h->w->cnt, "payload.scan_errors"), 0);
	assert_string_equal(umbra_classify_sig_name(cl, 121), "ssdp-msearch");
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
}

/* A bad rules file stops the registry with the line and Hyperscan's text. */
static void
test_registry_refuses_bad_rules(void **state)
{
	static struct umbra_darknet dn;
	struct umbra_classify_conf cc;
	char path[] = "/tmp/umbra-bad-rules-XXXXXX", err[512];
	int fd = mkstemp(path);
	static const char bad[] = "1 ok udp 53 /^a/\n2 bad tcp 80 /a{2,1}/\n";

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
	close(fd);
	umbra_darknet_init(&dn);
	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.quiet = 1;
	cc.rules_path = path;
	assert_null(umbra_classify_create(&cc, err, sizeof(err)));
	assert_non_null(strstr(err, ":2:"));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "Hyperscan: "));
	unlink(path);
	cc.rules_path = "/nonexistent.rules";
	assert_null(umbra_classify_create(&cc, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent.rules"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_rules_vectors),
		cmocka_unit_test(test_scope),
		cmocka_unit_test(test_bad_rules),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_pipeline_scan),
		cmocka_unit_test(test_registry_refuses_bad_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
