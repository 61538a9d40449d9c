/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helpers for the classification tests: crafted raw IP packets
 * (LINKTYPE_RAW) and a worker + registry that runs them and collects the
 * flow records. Header-only, static functions.
 */
#ifndef UMBRA_TEST_CLASSIFY_HARNESS_H
#define UMBRA_TEST_CLASSIFY_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "pipeline-worker.h"

struct tspec {
	int v6;
	uint8_t src[16], dst[16];
	uint8_t proto;
	uint16_t sport, dport; /* ICMP: type, code */
	uint8_t ttl;
	uint16_t ipid;
	int df;
	uint8_t tos;
	uint8_t flags;
	uint32_t seq, ack;
	uint16_t win;
	uint16_t urg;
	const uint8_t *opts;
	unsigned olen;         /* multiple of 4 */
	const uint8_t *payload;
	unsigned plen;
	uint16_t frag_off;     /* IPv4 fragment offset in 8-byte units */
	int mf;
};

struct tpkt {
	uint8_t b[2048];
	uint32_t len;
};

static inline void
t_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
t_put32(uint8_t *p, uint32_t v)
{
	t_put16(p, v >> 16);
	t_put16(p + 2, v & 0xffff);
}

static inline void
t_ip4(uint8_t *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
	memset(a, 0, 16);
	a[0] = x;
	a[1] = y;
	a[2] = z;
	a[3] = w;
}

/* One IPv4/IPv6 packet with a TCP, UDP or ICMP header (no checksums). */
static inline void
t_build(struct tpkt *p, const struct tspec *s)
{
	uint8_t *l4;
	unsigned l4len, hl = s->v6 ? 40 : 20;

	memset(p, 0, sizeof(*p));
	switch (s->proto) {
	case 6:
		l4len = 20 + s->olen + s->plen;
		break;
	case 17:
		l4len = 8 + s->plen;
		break;
	default:
		l4len = 8 + s->plen;
		break;
	}
	if (s->v6) {
		p->b[0] = 0x60 | (s->tos >> 4);
		p->b[1] = (uint8_t)(s->tos << 4);
		t_put16(p->b + 4, l4len);
		p->b[6] = s->proto;
		p->b[7] = s->ttl;
		memcpy(p->b + 8, s->src, 16);
		memcpy(p->b + 24, s->dst, 16);
	} else {
		p->b[0] = 0x45;
		p->b[1] = s->tos;
		t_put16(p->b + 2, hl + l4len);
		t_put16(p->b + 4, s->ipid);
		t_put16(p->b + 6, (s->df ? 0x4000u : 0) | (s->mf ? 0x2000u : 0) | s->frag_off);
		p->b[8] = s->ttl;
		p->b[9] = s->proto;
		memcpy(p->b + 12, s->src, 4);
		memcpy(p->b + 16, s->dst, 4);
	}
	l4 = p->b + hl;
	if (s->proto == 6) {
		t_put16(l4, s->sport);
		t_put16(l4 + 2, s->dport);
		t_put32(l4 + 4, s->seq);
		t_put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((5 + s->olen / 4) << 4);
		l4[13] = s->flags;
		t_put16(l4 + 14, s->win);
		t_put16(l4 + 18, s->urg);
		if (s->olen)
			memcpy(l4 + 20, s->opts, s->olen);
		if (s->plen)
			memcpy(l4 + 20 + s->olen, s->payload, s->plen);
	} else if (s->proto == 17) {
		t_put16(l4, s->sport);
		t_put16(l4 + 2, s->dport);
		t_put16(l4 + 4, 8 + s->plen);
		if (s->plen)
			memcpy(l4 + 8, s->payload, s->plen);
	} else {
		l4[0] = (uint8_t)s->sport;
		l4[1] = (uint8_t)s->dport;
		if (s->plen)
			memcpy(l4 + 8, s->payload, s->plen);
	}
	p->len = hl + l4len;
}

/* A SYN from src to dst:dport with defaults that tag nothing. */
static inline void
t_syn_defaults(struct tspec *s)
{
	memset(s, 0, sizeof(*s));
	t_ip4(s->src, 45, 33, 32, 156);
	t_ip4(s->dst, 192, 0, 2, 10);
	s->proto = 6;
	s->sport = 40000;
	s->dport = 23;
	s->ttl = 50;
	s->ipid = 1234;
	s->flags = 0x02;
	s->seq = 0x11111111;
	s->win = 29200;
}

struct tharness {
	struct umbra_darknet dn;
	struct umbra_spsc *ring;
	struct umbra_worker *w;
	struct umbra_classify *cl;
	uint64_t t;
	struct umbra_flow_record rec[4096];
	unsigned nrec;
};

/* darknets 192.0.2.0/24 and 2001:db8:dead::/64; cl may be NULL */
static inline int
t_harness_init(struct tharness *h, struct umbra_classify *cl)
{
	struct umbra_worker_conf c;

	memset(h, 0, sizeof(*h));
	umbra_darknet_init(&h->dn);
	if (umbra_darknet_add(&h->dn, "192.0.2.0/24") != 0 ||
	    umbra_darknet_add(&h->dn, "2001:db8:dead::/64") != 0)
		return -1;
	h->ring = umbra_spsc_create(8192);
	memset(&c, 0, sizeof(c));
	c.link = UMBRA_LINK_RAW;
	c.darknet = &h->dn;
	c.flows = 4096;
	c.idle_ns = 3600ull * 1000000000ull;
	c.active_ns = 7200ull * 1000000000ull;
	c.ring = h->ring;
	c.classify = cl;
	h->cl = cl;
	h->w = umbra_worker_create(&c);
	h->t = 1700000000ull * 1000000000ull;
	return h->w != NULL ? 0 : -1;
}

static inline void
t_send(struct tharness *h, const struct tpkt *p)
{
	const uint8_t *d = p->b;
	uint32_t len = p->len;
	uint64_t ts = (h->t += 1000);

	umbra_worker_burst(h->w, &d, &len, &ts, 1);
}

static inline void
t_send_spec(struct tharness *h, const struct tspec *s)
{
	struct tpkt p;

	t_build(&p, s);
	t_send(h, &p);
}

/* Drain the worker and collect every record. */
static inline void
t_finish(struct tharness *h)
{
	const struct umbra_flow_record *r;
	unsigned n;

	umbra_worker_drain(h->w);
	while ((n = umbra_spsc_peek(h->ring, &r, 4096 - h->nrec)) > 0) {
		memcpy(h->rec + h->nrec, r, n * sizeof(*r));
		umbra_spsc_release(h->ring, n);
		h->nrec += n;
	}
}

static inline const struct umbra_flow_record *
t_find(const struct tharness *h, uint16_t sport, uint16_t dport)
{
	unsigned i;

	for (i = 0; i < h->nrec; i++)
		if (h->rec[i].sport == sport && h->rec[i].dport == dport &&
		    !umbra_record_is_mark(&h->rec[i]))
			return &h->rec[i];
	return NULL;
}

static inline void
t_harness_fini(struct tharness *h)
{
	umbra_worker_free(h->w);
	umbra_spsc_free(h->ring);
}

#endif
