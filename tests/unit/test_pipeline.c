/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests for engine/pipeline-worker.c and stats-counters.c: packets
 * in, counters and flow records out, through the same functions the
 * engine's lcores call.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "pipeline-worker.h"

#define SEC 1000000000ull

struct frame {
	uint8_t b[256];
	uint32_t len;
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

/* Ethernet + IPv4 header; returns the offset of the transport header. */
static unsigned
eth_ip4(struct frame *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t l4len,
	uint8_t ttl, uint16_t id)
{
	uint8_t *ip = f->b + 14;

	memset(f, 0, sizeof(*f));
	put16(f->b + 12, 0x0800);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(20 + l4len));
	put16(ip + 4, id);
	ip[8] = ttl;
	ip[9] = proto;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	f->len = 14 + 20 + l4len;
	return 34;
}

static void
tcp4(struct frame *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
     uint8_t flags, const uint8_t *opts, unsigned olen, uint8_t ttl)
{
	unsigned o = eth_ip4(f, src, dst, 6, (uint16_t)(20 + olen), ttl, 777);
	uint8_t *t = f->b + o;

	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, 1000);
	t[12] = (uint8_t)((5 + olen / 4) << 4);
	t[13] = flags;
	put16(t + 14, 29200);
	if (olen > 0)
		memcpy(t + 20, opts, olen);
}

static void
udp4(struct frame *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
     const uint8_t *pl, unsigned plen)
{
	unsigned o = eth_ip4(f, src, dst, 17, (uint16_t)(8 + plen), 64, 1);
	uint8_t *u = f->b + o;

	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (uint16_t)(8 + plen));
	memcpy(u + 8, pl, plen);
}

static void
icmp4(struct frame *f, uint32_t src, uint32_t dst, uint8_t type, uint8_t code)
{
	unsigned o = eth_ip4(f, src, dst, 1, 8, 64, 2);

	f->b[o] = type;
	f->b[o + 1] = code;
}

#define DARK(h) (0xc0000200u | (h)) /* 192.0.2.h */

struct fixture {
	struct umbra_darknet dn;
	struct umbra_spsc *ring;
	struct umbra_worker *w;
};

static int
setup(void **state)
{
	static struct fixture fx;
	struct umbra_worker_conf c;

	umbra_darknet_init(&fx.dn);
	assert_int_equal(umbra_darknet_add(&fx.dn, "192.0.2.0/24"), 0);
	fx.ring = umbra_spsc_create(4096);
	memset(&c, 0, sizeof(c));
	c.link = UMBRA_LINK_ETHERNET;
	c.darknet = &fx.dn;
	c.flows = 1024;
	c.idle_ns = 60 * SEC;
	c.active_ns = 300 * SEC;
	c.ring = fx.ring;
	fx.w = umbra_worker_create(&c);
	assert_non_null(fx.w);
	*state = &fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	umbra_worker_free(fx->w);
	umbra_spsc_free(fx->ring);
	return 0;
}

static void
run(struct umbra_worker *w, struct frame *f, unsigned n, uint64_t t0)
{
	const uint8_t *data[UMBRA_BURST_MAX];
	uint32_t len[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	unsigned i;

	for (i = 0; i < n; i++) {
		data[i] = f[i].b;
		len[i] = f[i].len;
		ts[i] = t0 + i * 1000;
	}
	umbra_worker_burst(w, data, len, ts, n);
}

/* Drain the ring into out; returns the number of records. */
static unsigned
collect(struct umbra_spsc *ring, struct umbra_flow_record *out, unsigned max)
{
	const struct umbra_flow_record *r;
	unsigned n, total = 0;

	while ((n = umbra_spsc_peek(ring, &r, max - total)) > 0) {
		memcpy(out + total, r, n * sizeof(*r));
		umbra_spsc_release(ring, n);
		total += n;
	}
	return total;
}

static const struct umbra_flow_record *
find(const struct umbra_flow_record *r, unsigned n, uint16_t dport, uint8_t proto)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (r[i].dport == dport && r[i].proto == proto)
			return &r[i];
	return NULL;
}

/*
 * Twelve frames: 9 darknet packets (SYN and its retry, SYN-ACK, RST-ACK,
 * ACK, DNS response and query, ICMP echo and unreachable), one to
 * elsewhere, ARP, and a malformed IPv4 header.
 */
static unsigned
mix_frames(struct frame *f)
{
	static const uint8_t linux_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1,
						0, 0, 0, 0, 1, 3, 3, 7 };
	static const uint8_t dns_resp[12] = { 0x12, 0x34, 0x81, 0x80 };
	static const uint8_t dns_query[12] = { 0x12, 0x34, 0x01, 0x00 };
	unsigned n = 0;

	tcp4(&f[n++], 0x0a000001, DARK(5), 40000, 23, 0x02, linux_opts, 20, 50);  /* SYN */
	tcp4(&f[n++], 0x0a000001, DARK(5), 40000, 23, 0x02, linux_opts, 20, 49);  /* retry */
	tcp4(&f[n++], 0x0a000002, DARK(6), 80, 5555, 0x12, NULL, 0, 60);          /* SYN-ACK */
	tcp4(&f[n++], 0x0a000003, DARK(6), 80, 5556, 0x14, NULL, 0, 60);          /* RST-ACK */
	tcp4(&f[n++], 0x0a000004, DARK(6), 80, 5557, 0x10, NULL, 0, 60);          /* ACK */
	udp4(&f[n++], 0x0a000005, DARK(7), 53, 3333, dns_resp, 12);               /* backscatter */
	udp4(&f[n++], 0x0a000006, DARK(7), 5353, 53, dns_query, 12);              /* scan */
	icmp4(&f[n++], 0x0a000007, DARK(8), 8, 0);                                /* echo req */
	icmp4(&f[n++], 0x0a000008, DARK(8), 3, 1);                                /* unreachable */
	tcp4(&f[n++], 0x0a000001, 0x08080808, 40000, 23, 0x02, NULL, 0, 50);      /* not darknet */
	memset(&f[n], 0, sizeof(f[n]));
	put16(f[n].b + 12, 0x0806);                                               /* ARP */
	f[n++].len = 60;
	tcp4(&f[n], 0x0a000001, DARK(9), 1, 2, 0x02, NULL, 0, 50);
	f[n].b[14] = 0x43;                                                        /* IHL 3 */
	n++;
	return n;
}

static void
test_mix_counters_and_records(void **state)
{
	struct fixture *fx = *state;
	struct frame f[16];
	struct umbra_flow_record recs[64];
	const struct umbra_flow_record *r;
	const struct umbra_counters *c = fx->w->cnt;
	unsigned n = mix_frames(f), got;

	run(fx->w, f, n, 100 * SEC);
	assert_int_equal(c->rx_packets, 12);
	assert_int_equal(c->darknet_packets, 9);
	assert_int_equal(c->not_darknet_packets, 1);
	assert_int_equal(c->not_ip_packets, 1);
	assert_int_equal(c->malformed_packets, 1);
	assert_int_equal(c->malformed[UMBRA_MAL_IPV4_IHL], 1);
	assert_int_equal(c->class_packets[UMBRA_CLASS_SCAN], 4);
	assert_int_equal(c->class_packets[UMBRA_CLASS_BACKSCATTER], 4);
	assert_int_equal(c->class_packets[UMBRA_CLASS_OTHER], 1);
	assert_int_equal(c->proto_packets[UMBRA_PIDX_TCP], 5);
	assert_int_equal(c->proto_packets[UMBRA_PIDX_UDP], 2);
	assert_int_equal(c->proto_packets[UMBRA_PIDX_ICMP], 2);
	assert_int_equal(c->tcp_dport[23], 2);
	assert_int_equal(c->udp_dport[53], 1);
	assert_int_equal(c->icmp_type[8], 1);
	assert_int_equal(c->icmp_type[3], 1);
	assert_int_equal(c->sensor_direct[2 * 5], 2);
	assert_int_equal(c->sensor_direct[2 * 6], 3);
	assert_int_equal(c->flows_created, 8);
	assert_int_equal(c->flows_active, 8);

	umbra_worker_drain(fx->w);
	got = collect(fx->ring, recs, 64);
	assert_int_equal(got, 8);
	assert_int_equal(c->flows_exported, 8);
	assert_int_equal(c->exported_packets, c->darknet_packets);

	r = find(recs, got, 23, 6);
	assert_non_null(r);
	assert_int_equal(r->packets, 2);
	assert_int_equal(r->bytes, 2 * 60);
	assert_int_equal(r->first_ns, 100 * SEC);
	assert_int_equal(r->last_ns, 100 * SEC + 1000);
	assert_int_equal(r->ttl_min, 49);
	assert_int_equal(r->ttl_max, 50);
	assert_int_equal(r->tcp_flags, 0x02);
	assert_int_equal(r->ip_id, 777);
	assert_int_equal(r->tags, UMBRA_TAG_SCAN);
	assert_int_equal(r->end_reason, UMBRA_END_SHUTDOWN);
	/* the first SYN's fingerprint: mss,sok,ts,nop,ws */
	assert_int_equal(r->syn_window, 29200);
	assert_int_equal(r->syn_mss, 1460);
	assert_int_equal(r->syn_wscale, 7);
	assert_int_equal(r->syn_ttl, 50);
	assert_int_equal(r->syn_nopts, 5);
	assert_memory_equal(r->syn_olayout, "\x02\x04\x08\x01\x03", 5);
	r = find(recs, got, 5555, 6);
	assert_non_null(r);
	assert_int_equal(r->tags, UMBRA_TAG_BACKSCATTER);
	assert_int_equal(r->syn_window, 0); /* SYN-ACK is not a SYN fingerprint */
	assert_int_equal(find(recs, got, 5557, 6)->tags, UMBRA_TAG_OTHER);
	assert_int_equal(find(recs, got, 3333, 17)->tags, UMBRA_TAG_BACKSCATTER);
	assert_int_equal(find(recs, got, 53, 17)->tags, UMBRA_TAG_SCAN);
	/* ICMP: type in sport, code in dport */
	r = find(recs, got, 1, 1);
	assert_non_null(r);
	assert_int_equal(r->sport, 3);
	assert_int_equal(r->tags, UMBRA_TAG_BACKSCATTER);
}

/* umbra_worker_front(): the counters of a whole burst, and no flows */
static void
test_front_counts_as_burst(void **state)
{
	struct fixture *fx = *state;
	struct umbra_worker_conf conf;
	struct umbra_spsc *ring = umbra_spsc_create(64);
	struct umbra_worker *w;
	struct frame f[16];
	const uint8_t *data[16];
	uint32_t len[16];
	uint64_t ts[16];
	const struct umbra_counters *a = fx->w->cnt, *b;
	const struct umbra_flow_record *r;
	unsigned n = mix_frames(f), i;

	assert_non_null(ring);
	memset(&conf, 0, sizeof(conf));
	conf.link = UMBRA_LINK_ETHERNET;
	conf.darknet = &fx->dn;
	conf.flows = 1024;
	conf.idle_ns = 60 * SEC;
	conf.active_ns = 300 * SEC;
	conf.ring = ring;
	w = umbra_worker_create(&conf);
	assert_non_null(w);
	for (i = 0; i < n; i++) {
		data[i] = f[i].b;
		len[i] = f[i].len;
		ts[i] = 100 * SEC + i * 1000;
	}
	run(fx->w, f, n, 100 * SEC);
	assert_int_equal(umbra_worker_front(w, data, len, ts, n), 9);
	b = w->cnt;
	/* rx_packets up to fragment_packets: every packet counter */
	assert_memory_equal(&a->rx_packets, &b->rx_packets,
			    offsetof(struct umbra_counters, tag_flows) -
			    offsetof(struct umbra_counters, rx_packets));
	assert_int_equal(b->darknet_packets, 9);
	assert_memory_equal(a->icmp_type, b->icmp_type, sizeof(a->icmp_type));
	assert_memory_equal(a->icmp6_type, b->icmp6_type, sizeof(a->icmp6_type));
	assert_memory_equal(a->tcp_dport, b->tcp_dport, sizeof(a->tcp_dport));
	assert_memory_equal(a->udp_dport, b->udp_dport, sizeof(a->udp_dport));
	assert_int_equal(b->tcp_dport[23], 2);
	assert_int_equal(a->nsensors_direct, b->nsensors_direct);
	assert_memory_equal(a->sensor_direct, b->sensor_direct,
			    2 * sizeof(uint64_t) * a->nsensors_direct);
	assert_int_equal(b->now_ns, a->now_ns);
	assert_int_equal(b->first_ns, a->first_ns);
	/* the flow table was not touched: nothing to export */
	assert_int_equal(a->flows_created, 8);
	assert_int_equal(b->flows_created, 0);
	umbra_worker_drain(w);
	assert_int_equal(b->flows_exported, 0);
	assert_int_equal(umbra_spsc_peek(ring, &r, 64), 0);
	umbra_worker_free(w);
	umbra_spsc_free(ring);
}

static void
test_fragments_tagged(void **state)
{
	struct fixture *fx = *state;
	struct frame f[2];
	struct umbra_flow_record recs[8];
	unsigned got;

	udp4(&f[0], 0x0a000009, DARK(10), 1234, 53, (const uint8_t *)"abcdefgh", 8);
	f[0].b[14 + 6] = 0x20; /* MF: a first fragment */
	udp4(&f[1], 0x0a000009, DARK(10), 1234, 53, (const uint8_t *)"abcdefgh", 8);
	f[1].b[14 + 7] = 0x03; /* offset 24 bytes: a later fragment */
	run(fx->w, f, 2, 200 * SEC);
	assert_int_equal(fx->w->cnt->fragment_packets, 2);
	umbra_worker_drain(fx->w);
	got = collect(fx->ring, recs, 8);
	assert_int_equal(got, 2);
	/* the later fragment has no ports and its own flow */
	assert_non_null(find(recs, got, 53, 17));
	assert_true(find(recs, got, 53, 17)->tags & UMBRA_TAG_FRAGMENT);
	assert_non_null(find(recs, got, 0, 17));
	assert_int_equal(find(recs, got, 0, 17)->sport, 0);
	assert_true(find(recs, got, 0, 17)->tags & UMBRA_TAG_FRAGMENT);
}

static void
test_idle_expiry_by_packet_time(void **state)
{
	struct fixture *fx = *state;
	struct frame f[1];
	struct umbra_flow_record recs[8];

	tcp4(&f[0], 0x0a00000a, DARK(11), 1, 22, 0x02, NULL, 0, 64);
	run(fx->w, f, 1, 1000 * SEC);
	umbra_worker_tick(fx->w, 0);
	assert_int_equal(collect(fx->ring, recs, 8), 0);
	/* a packet 60 s later expires the first flow on capture time */
	tcp4(&f[0], 0x0a00000b, DARK(11), 1, 22, 0x02, NULL, 0, 64);
	run(fx->w, f, 1, 1060 * SEC);
	umbra_worker_tick(fx->w, 0);
	assert_int_equal(collect(fx->ring, recs, 8), 1);
	assert_int_equal(recs[0].end_reason, UMBRA_END_IDLE);
	assert_int_equal(recs[0].src[3], 0x0a);
}

static void
test_full_ring_counts_drops(void **state)
{
	struct umbra_darknet dn;
	struct umbra_spsc *ring = umbra_spsc_create(64);
	struct umbra_worker_conf c;
	struct umbra_worker *w;
	struct frame f[200];
	unsigned i;

	(void)state;
	umbra_darknet_init(&dn);
	assert_int_equal(umbra_darknet_add(&dn, "192.0.2.0/24"), 0);
	memset(&c, 0, sizeof(c));
	c.link = UMBRA_LINK_ETHERNET;
	c.darknet = &dn;
	c.flows = 1024;
	c.idle_ns = SEC;
	c.active_ns = 300 * SEC;
	c.ring = ring;
	w = umbra_worker_create(&c);
	assert_non_null(w);
	for (i = 0; i < 200; i++)
		tcp4(&f[i], 0x0b000000 + i, DARK(1), 1, 23, 0x02, NULL, 0, 64);
	run(w, f, 200, SEC);
	umbra_worker_drain(w);
	/* nobody reads the ring: 64 fit, 136 are counted, none vanish */
	assert_int_equal(umbra_spsc_count(ring), 64);
	assert_int_equal(w->cnt->records_dropped, 136);
	assert_int_equal(w->cnt->records_dropped_packets, 136);
	assert_int_equal(w->cnt->flows_exported, 200);
	assert_int_equal(w->cnt->darknet_packets, 64 + w->cnt->records_dropped_packets);
	umbra_worker_free(w);
	umbra_spsc_free(ring);
}

static void
test_counters_add(void **state)
{
	struct umbra_counters *a = umbra_counters_alloc(4), *b = umbra_counters_alloc(4);
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	(void)state;
	a->rx_packets = 5;
	b->rx_packets = 7;
	a->tcp_dport[23] = 2;
	b->tcp_dport[23] = 3;
	b->malformed[UMBRA_MAL_TCP_TRUNC] = 1;
	a->sensor_direct[2] = 4;
	b->sensor_direct[2] = 6;
	a->now_ns = 50;
	b->now_ns = 40;
	umbra_counters_sensor_hashed(b, 6, v6, 100);
	umbra_counters_sensor_hashed(b, 6, v6, 100);
	umbra_counters_add(a, b);
	assert_int_equal(a->rx_packets, 12);
	assert_int_equal(a->tcp_dport[23], 5);
	assert_int_equal(a->malformed[UMBRA_MAL_TCP_TRUNC], 1);
	assert_int_equal(a->sensor_direct[2], 10);
	assert_int_equal(a->now_ns, 40); /* the slowest clock, not a sum */
	umbra_counters_sensor_hashed(a, 6, v6, 100);
	{
		unsigned i, found = 0;

		for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++)
			if (a->sensor_hashed[i].family == 6) {
				assert_int_equal(a->sensor_hashed[i].packets, 3);
				assert_int_equal(a->sensor_hashed[i].bytes, 300);
				found++;
			}
		assert_int_equal(found, 1);
	}
	umbra_counters_free(a);
	umbra_counters_free(b);
}

/* Packets counted for a hashed sensor address: 0 when it has no slot. */
static uint64_t
hashed_packets(const struct umbra_counters *c, unsigned family, const uint8_t *addr)
{
	unsigned i, len = family == 4 ? 4 : 16;

	for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++) {
		const struct umbra_sensor_count *s = &c->sensor_hashed[i];

		if (s->family == family && memcmp(s->addr, addr, len) == 0)
			return s->packets;
	}
	return 0;
}

/* Sensor k (< 65536) of one of three sets of addresses. */
static void
sensor_addr(unsigned set, uint32_t k, uint8_t *a)
{
	memset(a, 0, 16);
	if (set < 2) {
		/* IPv4 10.0.x.y; set 1: the IPv6 address of those four bytes */
		a[0] = 10;
		a[2] = (uint8_t)(k >> 8);
		a[3] = (uint8_t)k;
	} else {
		/* IPv6 addresses that differ only in their second half */
		memcpy(a, "\x20\x01\x0d\xb8\xde\xad\xbe\xef", 8);
		a[8] = 0x80;
		a[14] = (uint8_t)(k >> 8);
		a[15] = (uint8_t)k;
	}
}

/*
 * Hashed sensors: IPv4 10.0.x.y and the IPv6 address with the same
 * first four bytes are two sensors; IPv6 addresses that differ only in
 * their last bytes are distinct sensors. 3000 of them (the table holds
 * 4096) each keep their own count, with probe runs crossing one another.
 * Once the table is full a new address is counted as overflow while the
 * ones in it still count.
 */
static void
test_sensor_hashed_full(void **state)
{
	struct umbra_counters *c = umbra_counters_alloc(0);
	static const unsigned family[3] = { 4, 6, 6 };
	uint8_t a[16];
	unsigned set;
	uint32_t k;

	(void)state;
	for (k = 0; k < 1000; k++)
		for (set = 0; set < 3; set++) {
			sensor_addr(set, k, a);
			umbra_counters_sensor_hashed(c, family[set], a, 40);
			if (k % 2 == 0)
				umbra_counters_sensor_hashed(c, family[set], a, 40);
		}
	assert_int_equal(c->sensor_overflow, 0);
	for (k = 0; k < 1000; k++)
		for (set = 0; set < 3; set++) {
			sensor_addr(set, k, a);
			assert_int_equal(hashed_packets(c, family[set], a), k % 2 == 0 ? 2 : 1);
		}
	/* twice the table in new addresses: the rest overflow */
	for (k = 0; k < 2 * UMBRA_SENSOR_HASH_SIZE; k++) {
		uint8_t b[4] = { 172, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k };

		umbra_counters_sensor_hashed(c, 4, b, 40);
	}
	/* at most the 1096 free slots took new ones */
	assert_true(c->sensor_overflow >= 2 * UMBRA_SENSOR_HASH_SIZE - (UMBRA_SENSOR_HASH_SIZE - 3000));
	for (set = 0; set < 3; set++) {
		sensor_addr(set, 7, a);
		umbra_counters_sensor_hashed(c, family[set], a, 40);
		assert_int_equal(hashed_packets(c, family[set], a), 2);
	}
	/* every packet in a slot or in the overflow: 3 * 1500 + 8192 + 3 */
	{
		uint64_t held = 0;
		unsigned i;

		for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++)
			held += c->sensor_hashed[i].packets;
		assert_int_equal(held + c->sensor_overflow, 3 * 1500 + 2 * UMBRA_SENSOR_HASH_SIZE + 3);
	}
	umbra_counters_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mix_counters_and_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_front_counts_as_burst, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fragments_tagged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry_by_packet_time, setup, teardown),
		cmocka_unit_test(test_full_ring_counts_drops),
		cmocka_unit_test(test_counters_add),
		cmocka_unit_test(test_sensor_hashed_full),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
