/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline-worker.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/*
 * While a flow is live, reserved[0] of its record holds worker-private
 * state; it is zeroed before the record leaves the worker.
 */
#define REC_STATE(r) ((r)->reserved[0])
#define REC_SYN_SEEN 0x01     /* the first SYN was recorded */
#define REC_PAYLOAD_SEEN 0x02 /* a packet with payload was seen */

static void flush_out(struct umbra_worker *w);

/* Capture time moved on by mark_ns: tell the writer (replay only). */
static void
put_mark(struct umbra_worker *w, uint64_t now)
{
	struct umbra_flow_record *m = &w->out[w->nout++];

	memset(m, 0, sizeof(*m));
	m->first_ns = now;
	m->last_ns = now;
	if (w->nout == UMBRA_EMIT_BATCH)
		flush_out(w);
	w->next_mark = now - now % w->mark_ns + w->mark_ns;
}

static void
emit_record(void *arg, struct umbra_flow_record *rec)
{
	struct umbra_worker *w = arg;
	struct umbra_counters *c = w->cnt;
	uint32_t tags = rec->tags;
	unsigned i;

	REC_STATE(rec) = 0;
	for (i = 0; i < w->cls.nfin; i++)
		w->cls.fin[i].fn(w->cls.fin[i].lctx, rec);
	c->flows_exported++;
	c->exported_packets += rec->packets;
	if (rec->end_reason == UMBRA_END_EVICTED)
		c->flows_evicted++;
	while (tags != 0) {
		c->tag_flows[__builtin_ctz(tags)]++;
		tags &= tags - 1;
	}
	w->out[w->nout++] = *rec;
	if (w->nout == UMBRA_EMIT_BATCH)
		flush_out(w);
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Hand the pending batch to the ring; what does not fit is counted. */
static void
flush_out(struct umbra_worker *w)
{
	unsigned done = 0, spins = 0;

	while (done < w->nout) {
		unsigned k = umbra_spsc_enqueue(w->ring, w->out + done, w->nout - done);

		done += k;
		if (done == w->nout || !w->backpressure)
			break;
		/* replay: wait for the writer, but never forever */
		if (k == 0 && ++spins > (1u << 30))
			break;
		cpu_relax();
	}
	if (done < w->nout) {
		unsigned i;

		for (i = done; i < w->nout; i++) {
			if (umbra_record_is_mark(&w->out[i]))
				continue;
			w->cnt->records_dropped++;
			w->cnt->records_dropped_packets += w->out[i].packets;
		}
	}
	w->nout = 0;
}

struct umbra_worker *
umbra_worker_create(const struct umbra_worker_conf *conf)
{
	struct umbra_flow_table_conf fc;
	struct umbra_worker *w;

	if (conf == NULL || conf->darknet == NULL || conf->ring == NULL ||
	    !umbra_link_supported(conf->link)) {
		errno = EINVAL;
		return NULL;
	}
	if (posix_memalign((void **)&w, 64, sizeof(*w)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(w, 0, sizeof(*w));
	w->dn = conf->darknet;
	w->ring = conf->ring;
	w->link = conf->link;
	w->backpressure = conf->backpressure;
	w->mark_ns = conf->mark_ns;
	w->cnt = umbra_counters_alloc(conf->darknet->nsensors_direct);
	memset(&fc, 0, sizeof(fc));
	fc.capacity = conf->flows;
	fc.idle_ns = conf->idle_ns;
	fc.active_ns = conf->active_ns;
	fc.emit = emit_record;
	fc.emit_arg = w;
	fc.prefault = conf->prefault;
	w->ft = w->cnt != NULL ? umbra_flow_table_create(&fc) : NULL;
	if (w->ft != NULL && conf->classify != NULL) {
		int rc = umbra_classify_lcore_init(conf->classify, conf->lcore, &w->cls);

		if (rc != 0) {
			umbra_worker_free(w);
			errno = -rc;
			return NULL;
		}
		w->cl = conf->classify;
	}
	if (w->ft == NULL) {
		int err = errno;

		umbra_worker_free(w);
		errno = err;
		return NULL;
	}
	return w;
}

void
umbra_worker_free(struct umbra_worker *w)
{
	if (w == NULL)
		return;
	umbra_flow_table_free(w->ft);
	if (w->cl != NULL)
		umbra_classify_lcore_fini(w->cl, &w->cls);
	umbra_counters_free(w->cnt);
	free(w);
}

unsigned
umbra_classify_packet(const struct umbra_pkt *p)
{
	if (p->l4 == NULL)
		return UMBRA_CLASS_OTHER;
	switch (p->proto) {
	case 6:
		if ((p->tcp_flags & (TH_SYN | TH_ACK | TH_RST)) == TH_SYN)
			return UMBRA_CLASS_SCAN;
		if ((p->tcp_flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK) ||
		    (p->tcp_flags & TH_RST))
			return UMBRA_CLASS_BACKSCATTER;
		return UMBRA_CLASS_OTHER;
	case 17:
		/* a DNS response (QR set) from port 53 answers a spoofed query */
		if (p->sport == 53 && p->payload != NULL && p->payload_len >= 3 &&
		    (p->payload[2] & 0x80))
			return UMBRA_CLASS_BACKSCATTER;
		return UMBRA_CLASS_SCAN;
	case 1:
		switch (p->sport) {
		case 8: case 10: case 13: case 15: case 17:
			return UMBRA_CLASS_SCAN; /* echo, router, timestamp, info, mask */
		case 0: case 3: case 4: case 5: case 11: case 12:
		case 14: case 16: case 18:
			return UMBRA_CLASS_BACKSCATTER; /* errors and replies */
		default:
			return UMBRA_CLASS_OTHER;
		}
	case 58:
		switch (p->sport) {
		case 128: case 133: case 135:
			return UMBRA_CLASS_SCAN; /* echo, RS, NS */
		case 1: case 2: case 3: case 4: case 129:
			return UMBRA_CLASS_BACKSCATTER;
		default:
			return UMBRA_CLASS_OTHER;
		}
	default:
		return UMBRA_CLASS_OTHER;
	}
}

static const uint32_t class_tag[UMBRA_CLASS_MAX] = {
	[UMBRA_CLASS_SCAN] = UMBRA_TAG_SCAN,
	[UMBRA_CLASS_BACKSCATTER] = UMBRA_TAG_BACKSCATTER,
	[UMBRA_CLASS_OTHER] = UMBRA_TAG_OTHER,
};

/* The first SYN's stack fingerprint fields (p0f v3 inputs). */
static void
record_syn(struct umbra_flow_record *r, const struct umbra_pkt *p)
{
	const uint8_t *o = p->tcp_opts;
	unsigned len = p->tcp_opts_len, i = 0, n = 0;

	r->syn_window = p->tcp_window;
	r->syn_ttl = p->ttl;
	r->syn_ip_olen = p->ip_opts_len;
	r->syn_pclass = p->payload_len > 0;
	r->syn_mss = UMBRA_MSS_NONE;
	r->syn_wscale = UMBRA_WSCALE_NONE;
	while (o != NULL && i < len) {
		uint8_t kind = o[i];

		if (n < UMBRA_OLAYOUT_MAX)
			r->syn_olayout[n] = kind;
		n++;
		if (kind == 0) /* EOL: the rest is padding */
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || o[i + 1] < 2 || i + o[i + 1] > len)
			break; /* malformed option: keep the layout so far */
		if (kind == 2 && o[i + 1] == 4)
			r->syn_mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		else if (kind == 3 && o[i + 1] == 3)
			r->syn_wscale = o[i + 2];
		i += o[i + 1];
	}
	r->syn_nopts = (uint8_t)(n > 255 ? 255 : n);
}

/* The classifiers' view of a parsed packet (include/umbra/plugin.h). */
static inline void
make_view(struct umbra_plugin_pkt *v, const struct umbra_pkt *p)
{
	v->l3 = p->l3;
	v->l4 = p->l4;
	v->payload = p->payload;
	v->src = p->src;
	v->dst = p->dst;
	v->tcp_opts = p->tcp_opts;
	v->payload_len = p->payload_len;
	v->ip_bytes = p->ip_bytes;
	v->tcp_seq = p->tcp_seq;
	v->tcp_ack = p->tcp_ack;
	v->sport = p->sport;
	v->dport = p->dport;
	v->ip_id = p->ip_id;
	v->tcp_window = p->tcp_window;
	v->family = p->family;
	v->proto = p->proto;
	v->ttl = p->ttl;
	v->tcp_flags = p->tcp_flags;
	v->tcp_opts_len = p->tcp_opts_len;
	v->ip_opts_len = p->ip_opts_len;
	v->frag = p->frag;
	v->tos = p->tos;
	v->ip_flags = p->ip_flags;
}

/* Hand the burst to every classifier, in registration order. */
static void
run_classifiers(struct umbra_worker *w, const struct umbra_pkt *pk,
		struct umbra_flow_entry *const *ent, const uint8_t *pflags,
		unsigned m, uint64_t now)
{
	struct umbra_plugin_pkt view[UMBRA_BURST_MAX];
	struct umbra_flow_record *rec[UMBRA_BURST_MAX];
	struct umbra_plugin_burst b;
	unsigned i;

	for (i = 0; i < m; i++) {
		make_view(&view[i], &pk[i]);
		rec[i] = ent[i] != NULL ? &ent[i]->rec : NULL;
	}
	b.n = m;
	b.pkt = view;
	b.rec = rec;
	b.pflags = pflags;
	b.counters = w->cnt->cls;
	b.now_ns = now;
	for (i = 0; i < w->cls.ncls; i++)
		w->cls.cls[i].fn(w->cls.cls[i].lctx, &b);
}

/* What the first part of a burst leaves for the flow stage. */
struct burst {
	struct umbra_pkt pk[UMBRA_BURST_MAX];
	struct umbra_flow_key keys[UMBRA_BURST_MAX];
	uint64_t hs[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	uint64_t *port_cnt[UMBRA_BURST_MAX];
	uint8_t cls[UMBRA_BURST_MAX];
};

/*
 * Parse, darknet filter, packet class and counters of a burst; the
 * darknet packets are left in b, and with keys set their flow keys too,
 * each bucket asked of memory while the rest of the burst parses.
 * Returns how many. keys is a constant at each call, so the compiler
 * makes one copy for the pipeline and one for umbra_worker_front().
 */
static inline __attribute__((always_inline)) unsigned
front(struct umbra_worker *w, const uint8_t *const *data, const uint32_t *len,
      const uint64_t *ts_ns, unsigned n, struct burst *b, int keys)
{
	struct umbra_counters *c = w->cnt;
	uint64_t now = w->now_ns;
	unsigned i, m = 0;

	for (i = 0; i < n; i++) {
		struct umbra_pkt *p = &b->pk[m];
		uint32_t sensor;
		unsigned pidx;
		int st;

		if (i + 3 < n)
			__builtin_prefetch(data[i + 3]);
		c->rx_packets++;
		c->rx_bytes += len[i];
		if (ts_ns[i] > now)
			now = ts_ns[i];
		st = umbra_parse(data[i], len[i], w->link, p);
		if (__builtin_expect(st != UMBRA_PARSE_OK, 0)) {
			if (st == UMBRA_PARSE_NOT_IP) {
				c->not_ip_packets++;
			} else {
				c->malformed_packets++;
				c->malformed[p->malformed < UMBRA_MAL_MAX ? p->malformed : 0]++;
			}
			continue;
		}
		if (!umbra_darknet_match(w->dn, p->family, p->dst, &sensor)) {
			c->not_darknet_packets++;
			continue;
		}
		c->darknet_packets++;
		c->darknet_bytes += p->ip_bytes;
		pidx = umbra_proto_idx(p->proto);
		c->proto_packets[pidx]++;
		c->proto_bytes[pidx] += p->ip_bytes;
		/*
		 * the port's counter (1 MiB of them) is likely out of cache: ask
		 * for it now, count it after the flow lookup
		 */
		b->port_cnt[m] = NULL;
		if (p->l4 != NULL) {
			if (pidx == UMBRA_PIDX_TCP)
				b->port_cnt[m] = &c->tcp_dport[p->dport];
			else if (pidx == UMBRA_PIDX_UDP)
				b->port_cnt[m] = &c->udp_dport[p->dport];
			else if (pidx == UMBRA_PIDX_ICMP)
				b->port_cnt[m] = &c->icmp_type[p->sport & 0xff];
			else if (pidx == UMBRA_PIDX_ICMP6)
				b->port_cnt[m] = &c->icmp6_type[p->sport & 0xff];
			if (b->port_cnt[m] != NULL)
				__builtin_prefetch(b->port_cnt[m], 1);
		}
		if (p->frag != UMBRA_FRAG_NONE)
			c->fragment_packets++;
		b->cls[m] = (uint8_t)umbra_classify_packet(p);
		c->class_packets[b->cls[m]]++;
		if (sensor != UMBRA_SENSOR_HASHED && sensor < c->nsensors_direct) {
			c->sensor_direct[2 * sensor]++;
			c->sensor_direct[2 * sensor + 1] += p->ip_bytes;
		} else {
			umbra_counters_sensor_hashed(c, p->family, p->dst, p->ip_bytes);
		}
		if (keys) {
			struct umbra_flow_key *k = &b->keys[m];
			unsigned alen = p->family == 4 ? 4 : 16;

			memset(k, 0, sizeof(*k));
			memcpy(k->src, p->src, alen);
			memcpy(k->dst, p->dst, alen);
			k->sport = p->sport;
			k->dport = p->dport;
			k->proto = p->proto;
			k->family = p->family;
			/* the bucket is asked of memory while the rest of the burst parses */
			b->hs[m] = umbra_flow_prefetch(w->ft, k);
		}
		b->ts[m] = ts_ns[i];
		m++;
	}
	if (__builtin_expect(c->first_ns == 0, 0) && n > 0)
		c->first_ns = ts_ns[0];
	w->now_ns = now;
	__atomic_store_n(&c->now_ns, now, __ATOMIC_RELAXED);
	return m;
}

unsigned
umbra_worker_front(struct umbra_worker *w, const uint8_t *const *data,
		   const uint32_t *len, const uint64_t *ts_ns, unsigned n)
{
	struct burst b;
	unsigned i, m;

	if (n > UMBRA_BURST_MAX)
		n = UMBRA_BURST_MAX;
	m = front(w, data, len, ts_ns, n, &b, 0);
	for (i = 0; i < m; i++)
		if (b.port_cnt[i] != NULL)
			(*b.port_cnt[i])++;
	return m;
}

void
umbra_worker_burst(struct umbra_worker *w, const uint8_t *const *data,
		   const uint32_t *len, const uint64_t *ts_ns, unsigned n)
{
	struct umbra_counters *c = w->cnt;
	struct burst b;
	struct umbra_flow_entry *ent[UMBRA_BURST_MAX];
	uint8_t created[UMBRA_BURST_MAX];
	uint8_t pflags[UMBRA_BURST_MAX];
	const struct umbra_pkt *pk = b.pk;
	uint64_t now;
	unsigned i, m;

	if (n > UMBRA_BURST_MAX)
		n = UMBRA_BURST_MAX;
	m = front(w, data, len, ts_ns, n, &b, 1);
	now = w->now_ns;
	/* before any export: what leaves the table below leaves at 'now' */
	if (w->mark_ns != 0 && now >= w->next_mark)
		put_mark(w, now);
	if (m == 0)
		goto expire;

	umbra_flow_lookup_bulk(w->ft, b.keys, b.hs, m, now, ent, created);

	for (i = 0; i < m; i++) {
		const struct umbra_pkt *p = &pk[i];
		struct umbra_flow_entry *e = ent[i];
		struct umbra_flow_record *r;

		pflags[i] = 0;
		if (b.port_cnt[i] != NULL)
			(*b.port_cnt[i])++;
		if (__builtin_expect(e == NULL, 0)) {
			/* no flow could be made: a one-packet record, dropped */
			c->records_dropped++;
			c->records_dropped_packets++;
			continue;
		}
		r = &e->rec;
		if (created[i]) {
			pflags[i] = UMBRA_PLUGIN_PKT_FIRST;
			c->flows_created++;
			r->first_ns = b.ts[i];
			r->last_ns = b.ts[i];
			r->ip_id = p->ip_id;
			r->ttl_min = p->ttl;
			r->ttl_max = p->ttl;
			r->tags = class_tag[b.cls[i]];
		}
		if (b.ts[i] > r->last_ns)
			r->last_ns = b.ts[i];
		r->packets++;
		r->bytes += p->ip_bytes;
		r->tcp_flags |= p->tcp_flags;
		if (p->ttl < r->ttl_min)
			r->ttl_min = p->ttl;
		if (p->ttl > r->ttl_max)
			r->ttl_max = p->ttl;
		if (p->frag != UMBRA_FRAG_NONE)
			r->tags |= UMBRA_TAG_FRAGMENT;
		if (p->proto == 6 && p->l4 != NULL &&
		    (p->tcp_flags & (TH_SYN | TH_ACK)) == TH_SYN &&
		    !(REC_STATE(r) & REC_SYN_SEEN)) {
			record_syn(r, p);
			REC_STATE(r) |= REC_SYN_SEEN;
			pflags[i] |= UMBRA_PLUGIN_PKT_FIRST_SYN;
		}
		if (p->payload_len > 0 && !(REC_STATE(r) & REC_PAYLOAD_SEEN)) {
			REC_STATE(r) |= REC_PAYLOAD_SEEN;
			pflags[i] |= UMBRA_PLUGIN_PKT_FIRST_PAYLOAD;
		}
	}
	if (w->cls.ncls > 0)
		run_classifiers(w, pk, ent, pflags, m, now);
expire:
	umbra_flow_expire(w->ft, now, UMBRA_EXPIRE_MAX);
	c->flows_active = umbra_flow_table_active(w->ft);
}

void
umbra_worker_unsupported(struct umbra_worker *w, unsigned n)
{
	w->cnt->rx_packets += n;
	w->cnt->unsupported_link_packets += n;
}

void
umbra_worker_tick(struct umbra_worker *w, uint64_t now_ns)
{
	if (now_ns > w->now_ns) {
		w->now_ns = now_ns;
		__atomic_store_n(&w->cnt->now_ns, now_ns, __ATOMIC_RELAXED);
	}
	umbra_flow_expire(w->ft, w->now_ns, UMBRA_EXPIRE_MAX);
	if (w->nout > 0)
		flush_out(w);
	w->cnt->flows_active = umbra_flow_table_active(w->ft);
}

void
umbra_worker_drain(struct umbra_worker *w)
{
	umbra_flow_flush_all(w->ft, UMBRA_END_SHUTDOWN);
	if (w->nout > 0)
		flush_out(w);
	w->cnt->flows_active = 0;
}
