/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * p0f v3 SYN fingerprints (engine/classify-p0f.c, plugins/builtin-p0f.c).
 * The packets below were crafted with scapy; the expected labels, fuzzy
 * flags and raw signatures are what Debian's p0f 3.09b printed for them
 * ("p0f -r cases.pcap -o log", fields os=/app=, params, raw_sig) against
 * the p0f.fp it installs. The test needs that file (/etc/p0f/p0f.fp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <cmocka.h>

#include "classify-harness.h"
#include "classify-p0f.h"

struct p0f_case {
	const char *label; /* NULL: p0f printed os=??? */
	int fuzzy;
	const char *raw_sig;
	const char *ip;    /* the IP packet */
	unsigned len;
};

static const struct p0f_case cases[] = {
	{ "Linux 3.11 and newer", 0, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0",
	  "\x45\x00\x00\x3c\x03\xe8\x40\x00\x40\x06\x47\xb1\x2d\x21\x00\x01\xc0\x00\x02\x01\x9c\x40\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x72\x10\x19\x88\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x7b\x00\x00\x00\x00\x01\x03\x03\x07", 60 },
	{ "Windows 7 or 8", 0, "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0",
	  "\x45\x00\x00\x34\x03\xe8\x40\x00\x80\x06\x07\xb7\x2d\x21\x00\x02\xc0\x00\x02\x02\x9c\x41\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x80\x02\x20\x00\x93\x20\x00\x00\x02\x04\x05\xb4\x01\x03\x03\x08\x01\x01\x04\x02", 52 },
	{ "Windows XP", 0, "4:128+0:0:1460:65535,0:mss,nop,nop,sok:df,id+:0",
	  "\x45\x00\x00\x30\x03\xe8\x40\x00\x80\x06\x07\xb9\x2d\x21\x00\x03\xc0\x00\x02\x03\x9c\x42\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x70\x02\xff\xff\xc7\x2c\x00\x00\x02\x04\x05\xb4\x01\x01\x04\x02", 48 },
	{ "FreeBSD 9.x or newer", 0, "4:64+0:0:1460:65535,6:mss,nop,ws,sok,ts:df,id+:0",
	  "\x45\x00\x00\x3c\x03\xe8\x40\x00\x40\x06\x47\xab\x2d\x21\x00\x04\xc0\x00\x02\x04\x9c\x43\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\xff\xff\x8c\x06\x00\x00\x02\x04\x05\xb4\x01\x03\x03\x06\x04\x02\x08\x0a\x00\x00\x00\x05\x00\x00\x00\x00", 60 },
	{ "Mac OS X", 0, "4:64+0:0:1460:65535,5:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0",
	  "\x45\x00\x00\x40\x03\xe8\x40\x00\x40\x06\x47\xa5\x2d\x21\x00\x05\xc0\x00\x02\x05\x9c\x44\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xb0\x02\xff\xff\x7a\xfb\x00\x00\x02\x04\x05\xb4\x01\x03\x03\x05\x01\x01\x08\x0a\x00\x00\x00\x09\x00\x00\x00\x00\x04\x02\x00\x00", 64 },
	{ "NMap SYN scan", 0, "4:52+12:0:1460:1024,0:mss::0",
	  "\x45\x00\x00\x2c\x03\xe8\x00\x00\x34\x06\x93\xb7\x2d\x21\x00\x06\xc0\x00\x02\x06\x9c\x45\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x60\x02\x04\x00\xd8\x2a\x00\x00\x02\x04\x05\xb4", 44 },
	{ NULL, 0, "4:50+14:0:0:65535,0:::0",
	  "\x45\x00\x00\x28\xd4\x31\x00\x00\x32\x06\xc5\x6f\x2d\x21\x00\x07\xc0\x00\x02\x07\x9c\x46\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x50\x02\xff\xff\xf3\xe3\x00\x00", 40 },
	{ "Linux 3.11 and newer", 1, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws::0",
	  "\x45\x00\x00\x3c\x03\xe8\x00\x00\x40\x06\x87\xa3\x2d\x21\x00\x08\xc0\x00\x02\x08\x9c\x47\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x72\x10\x19\x73\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x7b\x00\x00\x00\x00\x01\x03\x03\x07", 60 },
	{ "Linux 3.11 and newer", 0, "6:64+0:0:1440:mss*20,7:mss,sok,ts,nop,ws::0",
	  "\x60\x00\x00\x00\x00\x28\x06\x40\x2a\x00\x14\x50\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x09\x20\x01\x0d\xb8\xde\xad\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x9c\x48\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x70\x80\xbf\xfa\x00\x00\x02\x04\x05\xa0\x04\x02\x08\x0a\x00\x00\x00\x07\x00\x00\x00\x00\x01\x03\x03\x07", 80 },
	{ "Windows NT kernel", 0, "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0",
	  "\x45\x00\x00\x34\x03\xe8\x40\x00\x80\x06\x07\xa7\x2d\x21\x00\x0a\xc0\x00\x02\x0a\x9c\x49\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x80\x02\xfa\xf0\xb8\x17\x00\x00\x02\x04\x05\xb4\x01\x03\x03\x08\x01\x01\x04\x02", 52 },
	{ "Linux 2.4.x", 0, "4:64+0:0:1460:mss*4,2:mss,sok,ts,nop,ws:df,id+:0",
	  "\x45\x00\x00\x3c\x03\xe8\x40\x00\x40\x06\x47\x9d\x2d\x21\x00\x0b\xc0\x00\x02\x0b\x9c\x4a\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x16\xd0\x75\x29\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00\x01\x03\x03\x02", 60 },
	{ "Linux 2.2.x-3.x (barebone)", 1, "4:255+0:0:536:4128,0:mss:df,id+:0",
	  "\x45\x00\x00\x2c\x03\xe8\x40\x00\xff\x06\x88\xaa\x2d\x21\x00\x0c\xc0\x00\x02\x0c\x9c\x4b\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\x60\x02\x10\x20\xcf\x94\x00\x00\x02\x04\x02\x18", 44 },
	{ "Linux 3.11 and newer", 1, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+,ecn:0",
	  "\x45\x03\x00\x3c\x03\xe8\x40\x00\x40\x06\x47\x96\x2d\x21\x00\x0d\xc0\x00\x02\x0d\x9c\x4c\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x72\x10\x19\x64\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x7b\x00\x00\x00\x00\x01\x03\x03\x07", 60 },
	{ NULL, 0, "4:64+0:0:1460:mss*44,7:mss,sok,ts,nop,ws:df,id+,ts2+:0",
	  "\x45\x00\x00\x3c\x03\xe8\x40\x00\x40\x06\x47\x97\x2d\x21\x00\x0e\xc0\x00\x02\x0e\x9c\x4d\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\xfa\xf0\x90\x33\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x7b\x00\x00\x00\x4d\x01\x03\x03\x07", 60 },
	{ NULL, 0, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,ts1-:0",
	  "\x45\x00\x00\x3c\x00\x00\x40\x00\x40\x06\x4b\x7d\x2d\x21\x00\x0f\xc0\x00\x02\x0f\x9c\x4e\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xa0\x02\x72\x10\x19\xd9\x00\x00\x02\x04\x05\xb4\x04\x02\x08\x0a\x00\x00\x00\x00\x00\x00\x00\x00\x01\x03\x03\x07", 60 },
	{ "Mac OS X", 0, "4:30+2:0:1460:65535,5:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0",
	  "\x45\x00\x00\x40\x03\xe8\x40\x00\x1e\x06\x69\x8f\x2d\x21\x00\x10\xc0\x00\x02\x10\x9c\x4f\x00\x50\x00\x00\x30\x39\x00\x00\x00\x00\xb0\x02\xff\xff\x7a\xda\x00\x00\x02\x04\x05\xb4\x01\x03\x03\x05\x01\x01\x08\x0a\x00\x00\x00\x09\x00\x00\x00\x00\x04\x02\x00\x00", 64 },
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void
view_of(const struct umbra_pkt *p, struct umbra_plugin_pkt *v)
{
	memset(v, 0, sizeof(*v));
	v->l3 = p->l3;
	v->l4 = p->l4;
	v->payload = p->payload;
	v->src = p->src;
	v->dst = p->dst;
	v->tcp_opts = p->tcp_opts;
	v->payload_len = p->payload_len;
	v->tcp_seq = p->tcp_seq;
	v->tcp_ack = p->tcp_ack;
	v->ip_id = p->ip_id;
	v->tcp_window = p->tcp_window;
	v->family = p->family;
	v->proto = p->proto;
	v->ttl = p->ttl;
	v->tcp_flags = p->tcp_flags;
	v->tcp_opts_len = p->tcp_opts_len;
	v->ip_opts_len = p->ip_opts_len;
	v->tos = p->tos;
	v->ip_flags = p->ip_flags;
}

static struct umbra_p0f_db *db;

static int
setup(void **state)
{
	char err[512];

	(void)state;
	db = umbra_p0f_load(UMBRA_P0F_DEFAULT_DB, err, sizeof(err));
	if (db == NULL) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	umbra_p0f_free(db);
	return 0;
}

/* Signature text and label of each packet agree with p0f's. */
static void
test_cases_match_p0f(void **state)
{
	unsigned i;

	(void)state;
	assert_true(umbra_p0f_nsigs(db) > 50);
	for (i = 0; i < NCASES; i++) {
		struct umbra_pkt p;
		struct umbra_plugin_pkt v;
		struct umbra_p0f_syn s;
		char sig[256];
		unsigned lab;
		int fuzzy;

		assert_int_equal(umbra_parse((const uint8_t *)cases[i].ip, cases[i].len,
					     UMBRA_LINK_RAW, &p), UMBRA_PARSE_OK);
		view_of(&p, &v);
		umbra_p0f_syn_from_pkt(&v, &s);
		assert_true(umbra_p0f_format(&s, sig, sizeof(sig)) > 0);
		assert_string_equal(sig, cases[i].raw_sig);
		lab = umbra_p0f_match(db, &s, &fuzzy);
		if (cases[i].label == NULL) {
			assert_int_equal(lab, 0);
		} else {
			assert_true(lab != 0);
			assert_string_equal(umbra_p0f_label(db, lab), cases[i].label);
			assert_int_equal(fuzzy, cases[i].fuzzy);
		}
	}
}

/* Through the pipeline: label id and raw fields in the record, counters. */
static void
test_pipeline_labels(void **state)
{
	static struct umbra_darknet dn;
	struct umbra_classify_conf cc;
	struct umbra_classify *cl;
	struct tharness *h = calloc(1, sizeof(*h));
	unsigned i, j, linux_cnt = 0, unknown = 0, c_linux = 0, c_unknown = 0;
	char err[512];

	(void)state;
	umbra_darknet_init(&dn);
	umbra_darknet_add(&dn, "192.0.2.0/24");
	memset(&cc, 0, sizeof(cc));
	cc.darknet = &dn;
	cc.quiet = 1;
	cc.p0f_path = UMBRA_P0F_DEFAULT_DB;
	cc.rules_path = UMBRA_TEST_SRC "/rules/default.rules";
	cl = umbra_classify_create(&cc, err, sizeof(err));
	assert_non_null(cl);
	assert_int_equal(t_harness_init(h, cl), 0);
	for (i = 0; i < NCASES; i++) {
		struct tpkt p;

		memcpy(p.b, cases[i].ip, cases[i].len);
		p.len = cases[i].len;
		t_send(h, &p);
		t_send(h, &p); /* a retransmission: counted once */
	}
	t_finish(h);
	for (i = 0; i < h->nrec; i++) {
		const struct umbra_flow_record *r = &h->rec[i];
		const struct p0f_case *c = NULL;

		if (umbra_record_is_mark(r))
			continue;
		for (j = 0; j < NCASES; j++)
			if (r->sport == 40000 + j)
				c = &cases[j];
		assert_non_null(c);
		if (c->label == NULL) {
			assert_int_equal(r->p0f_label, 0);
			unknown++;
		} else {
			assert_string_equal(umbra_classify_label_name(cl, r->p0f_label), c->label);
			if (!strcmp(c->label, "Linux 3.11 and newer"))
				linux_cnt++;
		}
		assert_int_equal(r->packets, 2);
	}
	for (i = 0; i < umbra_classify_ncounters(cl); i++) {
		const char *n = umbra_classify_counter_name(cl, i);

		if (!strcmp(n, "p0f.Linux 3.11 and newer"))
			c_linux = (unsigned)h->w->cnt->cls[i];
		else if (!strcmp(n, "p0f.unknown"))
			c_unknown = (unsigned)h->w->cnt->cls[i];
	}
	assert_int_equal(linux_cnt, 4); /* cases 1, 8, 9, 13 per p0f */
	assert_int_equal(c_linux, linux_cnt);
	assert_int_equal(unknown, 3);
	assert_int_equal(c_unknown, unknown);
	/* raw fields of the first case: mss,sok,ts,nop,ws; DF and id+ */
	for (i = 0; i < h->nrec; i++) {
		if (h->rec[i].sport != 40000)
			continue;
		assert_int_equal(h->rec[i].syn_mss, 1460);
		assert_int_equal(h->rec[i].syn_wscale, 7);
		assert_int_equal(h->rec[i].syn_window, 29200);
		assert_int_equal(h->rec[i].syn_nopts, 5);
		assert_int_equal(h->rec[i].syn_quirks, UMBRA_Q_DF | UMBRA_Q_NZ_ID);
	}
	t_harness_fini(h);
	umbra_classify_free(cl);
	free(h);
}

static void
test_parse_errors(void **state)
{
	static const char bad1[] = "[tcp:request]\nlabel = s:unix:Linux:3.x\nsig = 4:64:0:*:mss*x,7:mss::0\n";
	static const char bad2[] = "[tcp:request]\nsig = *:64:0:*:mss*10,7:mss::0\n";
	static const char good[] = "; comment\n[mtu]\nlabel = Ethernet\nsig = 1500\n"
		"[tcp:request]\nlabel = s:unix:Test:one\nsig = *:64:0:*:mss*10,7:mss,nop,ws:df:0\n"
		"label = g:!:Tool:\nsig = *:64-:0:*:1024,0:::0\n";
	struct umbra_p0f_db *d;
	char err[256];

	(void)state;
	d = umbra_p0f_parse(bad1, sizeof(bad1) - 1, "x.fp", err, sizeof(err));
	assert_null(d);
	assert_non_null(strstr(err, "x.fp:3:"));
	d = umbra_p0f_parse(bad2, sizeof(bad2) - 1, "y.fp", err, sizeof(err));
	assert_null(d);
	assert_non_null(strstr(err, "y.fp:2:"));
	d = umbra_p0f_parse(good, sizeof(good) - 1, "z.fp", err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(umbra_p0f_nlabels(d), 2);
	assert_int_equal(umbra_p0f_nsigs(d), 2);
	assert_string_equal(umbra_p0f_label(d, 1), "Test one");
	assert_string_equal(umbra_p0f_label(d, 2), "Tool");
	umbra_p0f_free(d);
	assert_null(umbra_p0f_load("/nonexistent/p0f.fp", err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/p0f.fp"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_match_p0f),
		cmocka_unit_test(test_pipeline_labels),
		cmocka_unit_test(test_parse_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
