/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for engine/export-ipfix.c (the encoder): the message is
 * decoded here the way a collector does it, from the templates it
 * carries, and every field is checked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "export-ipfix.h"

static uint32_t
get(const uint8_t *p, unsigned len)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get(p, 4) << 32 | get(p + 4, 4);
}

struct field {
	unsigned id, len;
	uint32_t pen;
};

struct tmpl {
	unsigned tid, n;
	struct field f[64];
};

/* A collector's view: templates and records of one message. */
struct decoded {
	unsigned ntmpl;
	struct tmpl t[4];
	unsigned nrec;
	const uint8_t *rec[256];
	unsigned rec_tid[256];
};

static void
decode(const uint8_t *m, size_t len, struct decoded *d)
{
	size_t off = 16;

	memset(d, 0, sizeof(*d));
	assert_int_equal(get(m, 2), 10);
	assert_int_equal(get(m + 2, 2), len);
	while (off < len) {
		unsigned sid = get(m + off, 2), slen = get(m + off + 2, 2);
		size_t p = off + 4, end = off + slen;

		assert_true(slen >= 4 && end <= len);
		if (sid == 2) {
			while (p + 4 <= end) {
				struct tmpl *t = &d->t[d->ntmpl++];

				t->tid = get(m + p, 2);
				t->n = get(m + p + 2, 2);
				p += 4;
				for (unsigned i = 0; i < t->n; i++) {
					unsigned id = get(m + p, 2);

					t->f[i].id = id & 0x7fff;
					t->f[i].len = get(m + p + 2, 2);
					p += 4;
					if (id & 0x8000) {
						t->f[i].pen = get(m + p, 4);
						p += 4;
					}
				}
			}
			assert_int_equal(p, end);
		} else {
			struct tmpl *t = NULL;
			size_t rl = 0;

			for (unsigned i = 0; i < d->ntmpl; i++)
				if (d->t[i].tid == sid)
					t = &d->t[i];
			assert_non_null(t);
			for (unsigned i = 0; i < t->n; i++)
				rl += t->f[i].len;
			while (p + rl <= end) {
				d->rec_tid[d->nrec] = sid;
				d->rec[d->nrec++] = m + p;
				p += rl;
			}
			assert_true(end - p < 4); /* padding only */
		}
		off = end;
	}
	assert_int_equal(off, len);
}

/* Value of element (pen, id) in a record, through its template. */
static const uint8_t *
field(const struct decoded *d, unsigned r, uint32_t pen, unsigned id, unsigned *len)
{
	const struct tmpl *t = NULL;
	size_t off = 0;

	for (unsigned i = 0; i < d->ntmpl; i++)
		if (d->t[i].tid == d->rec_tid[r])
			t = &d->t[i];
	assert_non_null(t);
	for (unsigned i = 0; i < t->n; i++) {
		if (t->f[i].id == id && t->f[i].pen == pen) {
			*len = t->f[i].len;
			return d->rec[r] + off;
		}
		off += t->f[i].len;
	}
	fail_msg("element %u/%u not in template %u", pen, id, t->tid);
	return NULL;
}

static uint64_t
num(const struct decoded *d, unsigned r, uint32_t pen, unsigned id)
{
	unsigned len;
	const uint8_t *p = field(d, r, pen, id, &len);

	return len == 8 ? get64(p) : get(p, len);
}

static void
make(struct umbra_flow_record *r, int v6)
{
	memset(r, 0, sizeof(*r));
	r->first_ns = 1714521600123456789ull;
	r->last_ns = 1714521601999999999ull;
	r->family = v6 ? 6 : 4;
	if (v6) {
		inet_pton(AF_INET6, "2001:db8::1", r->src);
		inet_pton(AF_INET6, "2001:db8:dead::2", r->dst);
	} else {
		inet_pton(AF_INET, "198.51.100.7", r->src);
		inet_pton(AF_INET, "192.0.2.9", r->dst);
	}
	r->proto = 6;
	r->sport = 40000;
	r->dport = 23;
	r->packets = 3;
	r->bytes = 5000000000ull;
	r->tcp_flags = 0x02;
	r->ttl_min = 40;
	r->ttl_max = 250;
	r->tags = UMBRA_TAG_SCAN | UMBRA_TAG(UMBRA_TAG_BIT_MIRAI);
	r->end_reason = UMBRA_END_EVICTED;
	r->ip_id = 54321;
	r->syn_window = 65535;
	r->syn_mss = 1460;
	r->syn_wscale = 7;
	r->syn_nopts = 3;
	r->syn_olayout[0] = 2;
	r->syn_olayout[1] = 1;
	r->syn_olayout[2] = 3;
	r->syn_quirks = 0x11;
	r->p0f_label = 9;
	r->sig_id = 4;
}

static void
test_templates_and_records(void **state)
{
	uint8_t buf[1400];
	struct umbra_ipfix_msg m;
	struct umbra_flow_record r4, r6, icmp;
	struct decoded d;
	size_t len;
	unsigned flen;

	(void)state;
	make(&r4, 0);
	make(&r6, 1);
	make(&icmp, 0);
	icmp.proto = 1;
	icmp.sport = 3; /* type */
	icmp.dport = 1; /* code */
	assert_int_equal(umbra_ipfix_msg_begin(&m, buf, sizeof(buf), 1714521700, 77, 5), 0);
	assert_int_equal(umbra_ipfix_msg_add_templates(&m), 0);
	assert_int_equal(umbra_ipfix_msg_add_record(&m, &r4), 0);
	assert_int_equal(umbra_ipfix_msg_add_record(&m, &r6), 0);
	assert_int_equal(umbra_ipfix_msg_add_record(&m, &icmp), 0);
	len = umbra_ipfix_msg_end(&m);
	assert_int_equal(m.nrec, 3);
	assert_int_equal(get(buf + 4, 4), 1714521700);
	assert_int_equal(get(buf + 8, 4), 77); /* sequence: records before this message */
	assert_int_equal(get(buf + 12, 4), 5);
	decode(buf, len, &d);
	assert_int_equal(d.ntmpl, 2);
	assert_int_equal(d.t[0].tid, UMBRA_IPFIX_TID_V4);
	assert_int_equal(d.t[1].tid, UMBRA_IPFIX_TID_V6);
	assert_int_equal(d.nrec, 3);

	assert_int_equal(num(&d, 0, 0, 152), 1714521600123ull);
	assert_int_equal(num(&d, 0, 0, 153), 1714521601999ull);
	assert_memory_equal(field(&d, 0, 0, 8, &flen), r4.src, 4);
	assert_memory_equal(field(&d, 0, 0, 12, &flen), r4.dst, 4);
	assert_int_equal(num(&d, 0, 0, 7), 40000);
	assert_int_equal(num(&d, 0, 0, 11), 23);
	assert_int_equal(num(&d, 0, 0, 4), 6);
	assert_int_equal(num(&d, 0, 0, 6), 0x02);
	assert_int_equal(num(&d, 0, 0, 2), 3);
	assert_int_equal(num(&d, 0, 0, 1), 5000000000ull);
	assert_int_equal(num(&d, 0, 0, 52), 40);
	assert_int_equal(num(&d, 0, 0, 53), 250);
	assert_int_equal(num(&d, 0, 0, 136), 5); /* evicted: lack of resources */
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_TAGS), r4.tags);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_IP_ID), 54321);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_WINDOW), 65535);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_MSS), 1460);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_WSCALE), 7);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_NOPTS), 3);
	assert_memory_equal(field(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_OLAYOUT, &flen),
			    r4.syn_olayout, UMBRA_OLAYOUT_MAX);
	assert_int_equal(flen, UMBRA_OLAYOUT_MAX);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SYN_QUIRKS), 0x11);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_P0F_LABEL), 9);
	assert_int_equal(num(&d, 0, UMBRA_IPFIX_PEN, UMBRA_IE_SIG_ID), 4);

	assert_memory_equal(field(&d, 1, 0, 27, &flen), r6.src, 16);
	assert_memory_equal(field(&d, 1, 0, 28, &flen), r6.dst, 16);
	assert_int_equal(num(&d, 1, 0, 1), 5000000000ull);

	/* ICMP: type/code in icmpTypeCodeIPv4, ports zero */
	assert_int_equal(num(&d, 2, 0, 32), 3 << 8 | 1);
	assert_int_equal(num(&d, 2, 0, 7), 0);
	assert_int_equal(num(&d, 2, 0, 11), 0);
}

static void
test_full_message(void **state)
{
	uint8_t buf[1400];
	struct umbra_ipfix_msg m;
	struct umbra_flow_record r;
	struct decoded d;
	unsigned n = 0;
	size_t len;

	(void)state;
	make(&r, 0);
	assert_int_equal(umbra_ipfix_msg_begin(&m, buf, sizeof(buf), 1, 0, 1), 0);
	while (umbra_ipfix_msg_add_record(&m, &r) == 0)
		n++;
	assert_int_equal(umbra_ipfix_msg_add_record(&m, &r), -ENOSPC);
	len = umbra_ipfix_msg_end(&m);
	assert_true(len <= sizeof(buf));
	assert_int_equal(n, (1400 - 16 - 4) / UMBRA_IPFIX_REC_V4);
	assert_int_equal(len, 16 + 4 + n * UMBRA_IPFIX_REC_V4);
	/* a collector needs the templates: decode with them prepended */
	{
		uint8_t both[4096];
		struct umbra_ipfix_msg t;
		size_t tl;

		umbra_ipfix_msg_begin(&t, both, sizeof(both), 1, 0, 1);
		umbra_ipfix_msg_add_templates(&t);
		tl = umbra_ipfix_msg_end(&t);
		memcpy(both + tl, buf + 16, len - 16);
		both[2] = (uint8_t)((tl + len - 16) >> 8);
		both[3] = (uint8_t)(tl + len - 16);
		decode(both, tl + len - 16, &d);
		assert_int_equal(d.nrec, n);
	}
}

static void
test_set_switch(void **state)
{
	uint8_t buf[2000];
	struct umbra_ipfix_msg m;
	struct umbra_flow_record a, b;
	struct decoded d;
	size_t len;

	(void)state;
	make(&a, 0);
	make(&b, 1);
	umbra_ipfix_msg_begin(&m, buf, sizeof(buf), 1, 0, 1);
	umbra_ipfix_msg_add_templates(&m);
	/* alternating families open a new data set each time */
	for (int i = 0; i < 6; i++)
		assert_int_equal(umbra_ipfix_msg_add_record(&m, i % 2 ? &b : &a), 0);
	len = umbra_ipfix_msg_end(&m);
	decode(buf, len, &d);
	assert_int_equal(d.nrec, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(d.rec_tid[i], i % 2 ? UMBRA_IPFIX_TID_V6 : UMBRA_IPFIX_TID_V4);
}

static void
test_end_reason(void **state)
{
	(void)state;
	assert_int_equal(umbra_ipfix_end_reason(UMBRA_END_IDLE), 1);
	assert_int_equal(umbra_ipfix_end_reason(UMBRA_END_ACTIVE), 2);
	assert_int_equal(umbra_ipfix_end_reason(UMBRA_END_SHUTDOWN), 4);
	assert_int_equal(umbra_ipfix_end_reason(UMBRA_END_EVICTED), 5);
}

static void
test_open_refuses(void **state)
{
	struct umbra_sink s;
	char err[256];

	(void)state;
	assert_int_equal(umbra_ipfix_open("http://127.0.0.1:4739", &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "--ipfix"));
	assert_int_equal(umbra_ipfix_open("udp://127.0.0.1", &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(umbra_ipfix_open("udp://127.0.0.1:4739?bogus=1", &s, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(umbra_ipfix_open("udp://127.0.0.1:4739?rate=100&refresh=5", &s, err,
					  sizeof(err)), 0);
	s.ops->close(s.ctx);
	assert_int_equal(umbra_ipfix_open("udp://[::1]:4739", &s, err, sizeof(err)), 0);
	s.ops->close(s.ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_templates_and_records),
		cmocka_unit_test(test_full_message),
		cmocka_unit_test(test_set_switch),
		cmocka_unit_test(test_end_reason),
		cmocka_unit_test(test_open_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
