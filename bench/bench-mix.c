/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdlib.h>
#include <string.h>

#include "bench-mix.h"

/* TSUBAME 2024 Q2 top destinations, rough relative weights */
static const struct {
	uint16_t port;
	uint16_t weight;
} tcp_ports[] = {
	{ 23, 300 },  { 8728, 60 }, { 6379, 45 }, { 22, 40 },   { 80, 35 },
	{ 3389, 30 }, { 4719, 25 }, { 8080, 22 }, { 445, 20 },  { 443, 18 },
	{ 2222, 15 }, { 8443, 12 }, { 8081, 10 }, { 0, 120 }, /* 0: any port */
};

static const struct {
	uint16_t port;
	uint8_t len;
} udp_probes[] = { { 53, 29 }, { 123, 48 }, { 1900, 94 }, { 11211, 15 }, { 5060, 64 }, { 161, 40 } };

const char *
mix_describe(void)
{
	return "tcp syn to 23,8728,6379,22,80,3389,4719,8080,445,443,2222,8443,8081 "
	       "(TSUBAME weights) + random ports; udp probes 53,123,1900,11211,5060,161";
}

uint64_t
mix_rnd(uint64_t *s)
{
	/* splitmix64: deterministic for a seed */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double
rnd01(uint64_t *s)
{
	return (double)(mix_rnd(s) >> 11) / (double)(1ull << 53);
}

struct flow {
	uint32_t src;
	uint8_t v6;
	uint8_t udp;
	uint8_t udp_kind;
	uint8_t dark;
	uint16_t sport;
	uint16_t dport;
	uint8_t host;
};

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint32_t
build(const struct flow *f, uint8_t *p, uint64_t *rs)
{
	unsigned l4len = f->udp ? 8u + udp_probes[f->udp_kind].len : 20u;
	uint8_t *l4;

	memset(p, 0, MIX_STRIDE);
	memset(p, 0xff, 6);
	p[6] = 0x02;
	put16(p + 12, f->v6 ? 0x86dd : 0x0800);
	if (!f->v6) {
		uint8_t *ip = p + 14;

		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, (uint16_t)mix_rnd(rs));
		ip[8] = (uint8_t)(32 + mix_rnd(rs) % 220);
		ip[9] = f->udp ? 17 : 6;
		put32(ip + 12, f->src);
		put32(ip + 16, f->dark ? 0xc0000200u | f->host : 0xcb007100u | f->host);
		l4 = ip + 20;
	} else {
		uint8_t *ip = p + 14;

		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = f->udp ? 17 : 6;
		ip[7] = 64;
		put32(ip + 8, 0x20010db8);
		put32(ip + 20, f->src);
		put32(ip + 24, f->dark ? 0x20010db8 : 0x20010db9);
		put16(ip + 28, 0xdead);
		ip[39] = f->host;
		l4 = ip + 40;
	}
	put16(l4, f->sport);
	put16(l4 + 2, f->dport);
	if (f->udp) {
		put16(l4 + 4, (uint16_t)l4len);
		memset(l4 + 8, 'A' + f->udp_kind, udp_probes[f->udp_kind].len);
	} else {
		put32(l4 + 4, (uint32_t)mix_rnd(rs));
		l4[12] = 0x50;
		l4[13] = 0x02; /* SYN */
		put16(l4 + 14, 1024);
	}
	return 14u + (f->v6 ? 40u : 20u) + l4len;
}

int
mix_build(const struct mix_conf *c, uint8_t *buf, uint32_t *len)
{
	uint64_t rs = c->seed * 0x2545f4914f6cdd1dull + 1;
	unsigned total_w = 0, i;
	struct flow *flows;
	uint32_t *order;
	uint32_t k;

	if (c->flows == 0 || c->flows > c->packets || c->sources == 0)
		return -1;
	for (i = 0; i < sizeof(tcp_ports) / sizeof(tcp_ports[0]); i++)
		total_w += tcp_ports[i].weight;
	flows = calloc(c->flows, sizeof(*flows));
	order = malloc(sizeof(*order) * (size_t)c->packets);
	if (flows == NULL || order == NULL) {
		free(flows);
		free(order);
		return -1;
	}
	for (k = 0; k < c->flows; k++) {
		struct flow *f = &flows[k];
		/* skew: half the flows come from 1% of the sources */
		uint32_t si = rnd01(&rs) < 0.5 ? (uint32_t)(mix_rnd(&rs) % (c->sources / 100 + 1)) :
						 (uint32_t)(mix_rnd(&rs) % c->sources);

		f->src = 0x0b000000u + si * 2654435761u % 0xe0000000u;
		f->v6 = rnd01(&rs) < c->ipv6_share;
		f->dark = rnd01(&rs) < c->dark_share;
		f->host = (uint8_t)mix_rnd(&rs);
		f->sport = (uint16_t)(1024 + mix_rnd(&rs) % 64000);
		f->udp = rnd01(&rs) < c->payload_share;
		if (f->udp) {
			f->udp_kind = (uint8_t)(mix_rnd(&rs) % (sizeof(udp_probes) / sizeof(udp_probes[0])));
			f->dport = udp_probes[f->udp_kind].port;
		} else {
			unsigned w = (unsigned)(mix_rnd(&rs) % total_w);

			for (i = 0; w >= tcp_ports[i].weight; i++)
				w -= tcp_ports[i].weight;
			f->dport = tcp_ports[i].port ? tcp_ports[i].port :
						       (uint16_t)(1 + mix_rnd(&rs) % 65535);
		}
	}
	/* every flow once, the rest repeat random flows; then shuffle */
	for (k = 0; k < c->packets; k++)
		order[k] = k < c->flows ? k : (uint32_t)(mix_rnd(&rs) % c->flows);
	for (k = c->packets - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(mix_rnd(&rs) % (k + 1)), t = order[k];

		order[k] = order[j];
		order[j] = t;
	}
	for (k = 0; k < c->packets; k++)
		len[k] = build(&flows[order[k]], buf + (size_t)k * MIX_STRIDE, &rs);
	free(flows);
	free(order);
	return 0;
}
