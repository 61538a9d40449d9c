/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX exporter: message encoder and UDP/TCP transport. Runs on the
 * writer thread only. A message that cannot be sent is counted as
 * dropped records; the sequence number counts only records that left.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "export-ipfix.h"

struct ie {
	uint16_t id;
	uint16_t len;
	uint32_t pen; /* 0 = IANA */
};

/* Both templates, in field order; v6 differs only in the addresses. */
#define COMMON_HEAD                                                                \
	{ 152, 8, 0 }, /* flowStartMilliseconds */                                 \
	{ 153, 8, 0 }  /* flowEndMilliseconds */
#define COMMON_TAIL                                                                \
	{ 7, 2, 0 },   /* sourceTransportPort */                                   \
	{ 11, 2, 0 },  /* destinationTransportPort */                              \
	{ 4, 1, 0 },   /* protocolIdentifier */                                    \
	{ 6, 1, 0 },   /* tcpControlBits, reduced size */                          \
	{ 2, 8, 0 },   /* packetDeltaCount */                                      \
	{ 1, 8, 0 },   /* octetDeltaCount */                                       \
	{ 52, 1, 0 },  /* minimumTTL */                                            \
	{ 53, 1, 0 },  /* maximumTTL */                                            \
	{ 136, 1, 0 }, /* flowEndReason */                                         \
	{ UMBRA_IE_TAGS, 4, UMBRA_IPFIX_PEN },                                     \
	{ UMBRA_IE_IP_ID, 2, UMBRA_IPFIX_PEN },                                    \
	{ UMBRA_IE_SYN_WINDOW, 2, UMBRA_IPFIX_PEN },                               \
	{ UMBRA_IE_SYN_MSS, 2, UMBRA_IPFIX_PEN },                                  \
	{ UMBRA_IE_SYN_WSCALE, 1, UMBRA_IPFIX_PEN },                               \
	{ UMBRA_IE_SYN_TTL, 1, UMBRA_IPFIX_PEN },                                  \
	{ UMBRA_IE_SYN_IP_OLEN, 1, UMBRA_IPFIX_PEN },                              \
	{ UMBRA_IE_SYN_NOPTS, 1, UMBRA_IPFIX_PEN },                                \
	{ UMBRA_IE_SYN_OLAYOUT, UMBRA_OLAYOUT_MAX, UMBRA_IPFIX_PEN },              \
	{ UMBRA_IE_SYN_QUIRKS, 4, UMBRA_IPFIX_PEN },                               \
	{ UMBRA_IE_P0F_LABEL, 2, UMBRA_IPFIX_PEN },                                \
	{ UMBRA_IE_SIG_ID, 2, UMBRA_IPFIX_PEN },                                   \
	{ UMBRA_IE_SYN_PCLASS, 1, UMBRA_IPFIX_PEN }

static const struct ie tmpl_v4[] = {
	COMMON_HEAD,
	{ 8, 4, 0 },  /* sourceIPv4Address */
	{ 12, 4, 0 }, /* destinationIPv4Address */
	{ 32, 2, 0 }, /* icmpTypeCodeIPv4 */
	COMMON_TAIL,
};

static const struct ie tmpl_v6[] = {
	COMMON_HEAD,
	{ 27, 16, 0 }, /* sourceIPv6Address */
	{ 28, 16, 0 }, /* destinationIPv6Address */
	{ 139, 2, 0 }, /* icmpTypeCodeIPv6 */
	COMMON_TAIL,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

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

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

int
umbra_ipfix_msg_begin(struct umbra_ipfix_msg *m, uint8_t *buf, size_t cap,
		      uint32_t export_time, uint32_t seq, uint32_t domain)
{
	if (cap < UMBRA_IPFIX_HDR_LEN + 4 + UMBRA_IPFIX_REC_V6)
		return -EINVAL;
	m->buf = buf;
	m->cap = cap > 65535 ? 65535 : cap;
	m->len = UMBRA_IPFIX_HDR_LEN;
	m->set_off = 0;
	m->set_tid = 0;
	m->nrec = 0;
	put16(buf, 10);
	put16(buf + 2, 0);
	put32(buf + 4, export_time);
	put32(buf + 8, seq);
	put32(buf + 12, domain);
	return 0;
}

static void
close_set(struct umbra_ipfix_msg *m)
{
	if (m->set_off != 0)
		put16(m->buf + m->set_off + 2, (uint16_t)(m->len - m->set_off));
	m->set_off = 0;
	m->set_tid = 0;
}

static size_t
tmpl_len(const struct ie *t, size_t n)
{
	size_t i, l = 4;

	for (i = 0; i < n; i++)
		l += t[i].pen ? 8 : 4;
	return l;
}

static void
put_tmpl(struct umbra_ipfix_msg *m, uint16_t tid, const struct ie *t, size_t n)
{
	uint8_t *p = m->buf + m->len;
	size_t i;

	put16(p, tid);
	put16(p + 2, (uint16_t)n);
	p += 4;
	for (i = 0; i < n; i++) {
		put16(p, (uint16_t)(t[i].id | (t[i].pen ? 0x8000 : 0)));
		put16(p + 2, t[i].len);
		p += 4;
		if (t[i].pen) {
			put32(p, t[i].pen);
			p += 4;
		}
	}
	m->len = (size_t)(p - m->buf);
}

int
umbra_ipfix_msg_add_templates(struct umbra_ipfix_msg *m)
{
	size_t need = 4 + tmpl_len(tmpl_v4, NELEM(tmpl_v4)) + tmpl_len(tmpl_v6, NELEM(tmpl_v6));
	size_t off;

	close_set(m);
	if (m->len + need > m->cap)
		return -ENOSPC;
	off = m->len;
	put16(m->buf + off, 2); /* template set */
	m->len += 4;
	put_tmpl(m, UMBRA_IPFIX_TID_V4, tmpl_v4, NELEM(tmpl_v4));
	put_tmpl(m, UMBRA_IPFIX_TID_V6, tmpl_v6, NELEM(tmpl_v6));
	put16(m->buf + off + 2, (uint16_t)(m->len - off));
	return 0;
}

unsigned
umbra_ipfix_end_reason(unsigned r)
{
	switch (r) {
	case UMBRA_END_IDLE:
		return 1; /* idle timeout */
	case UMBRA_END_ACTIVE:
		return 2; /* active timeout */
	case UMBRA_END_EVICTED:
		return 5; /* lack of resources */
	case UMBRA_END_SHUTDOWN:
		return 4; /* forced end */
	default:
		return 0;
	}
}

int
umbra_ipfix_msg_add_record(struct umbra_ipfix_msg *m, const struct umbra_flow_record *r)
{
	unsigned tid = r->family == 6 ? UMBRA_IPFIX_TID_V6 : UMBRA_IPFIX_TID_V4;
	size_t rl = r->family == 6 ? UMBRA_IPFIX_REC_V6 : UMBRA_IPFIX_REC_V4;
	int icmp = r->proto == 1 || r->proto == 58;
	uint16_t tc = icmp ? (uint16_t)((r->sport & 0xff) << 8 | (r->dport & 0xff)) : 0;
	uint8_t *p;

	if (m->set_tid != tid) {
		close_set(m);
		if (m->len + 4 + rl > m->cap)
			return -ENOSPC;
		m->set_off = m->len;
		m->set_tid = tid;
		put16(m->buf + m->len, (uint16_t)tid);
		m->len += 4;
	} else if (m->len + rl > m->cap) {
		return -ENOSPC;
	}
	p = m->buf + m->len;
	put64(p, r->first_ns / 1000000u);
	put64(p + 8, r->last_ns / 1000000u);
	p += 16;
	if (r->family == 6) {
		memcpy(p, r->src, 16);
		memcpy(p + 16, r->dst, 16);
		p += 32;
	} else {
		memcpy(p, r->src, 4);
		memcpy(p + 4, r->dst, 4);
		p += 8;
	}
	put16(p, tc);
	/* ICMP: the type/code element carries them, ports stay 0 (RFC 7012) */
	put16(p + 2, icmp ? 0 : r->sport);
	put16(p + 4, icmp ? 0 : r->dport);
	p[6] = r->proto;
	p[7] = r->tcp_flags;
	put64(p + 8, r->packets);
	put64(p + 16, r->bytes);
	p[24] = r->ttl_min;
	p[25] = r->ttl_max;
	p[26] = (uint8_t)umbra_ipfix_end_reason(r->end_reason);
	p += 27;
	put32(p, r->tags);
	put16(p + 4, r->ip_id);
	put16(p + 6, r->syn_window);
	put16(p + 8, r->syn_mss);
	p[10] = r->syn_wscale;
	p[11] = r->syn_ttl;
	p[12] = r->syn_ip_olen;
	p[13] = r->syn_nopts;
	memcpy(p + 14, r->syn_olayout, UMBRA_OLAYOUT_MAX);
	put32(p + 30, r->syn_quirks);
	put16(p + 34, r->p0f_label);
	put16(p + 36, r->sig_id);
	p[38] = r->syn_pclass;
	p += 39;
	m->len = (size_t)(p - m->buf);
	m->nrec++;
	return 0;
}

size_t
umbra_ipfix_msg_end(struct umbra_ipfix_msg *m)
{
	close_set(m);
	put16(m->buf + 2, (uint16_t)m->len);
	return m->len;
}

_Static_assert(UMBRA_IPFIX_REC_V4 == 16 + 8 + 27 + 39, "v4 record layout");
_Static_assert(UMBRA_IPFIX_REC_V6 == UMBRA_IPFIX_REC_V4 + 24, "v6 record layout");

/* ---- exporter (transport) ------------------------------------------- */

#define UDP_MSG_MAX 1400  /* fits a 1500-byte path MTU unfragmented */
#define TCP_MSG_MAX 16384
#define SEND_AFTER_NS 200000000ull /* a partly filled message waits <= 200 ms */
#define RECONNECT_NS 1000000000ull
#define FLUSH_WAIT_MS 2000

struct exporter {
	int tcp;
	int fd;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint32_t domain;
	uint32_t seq;
	uint32_t rate;        /* UDP datagrams per second, 0 = unpaced */
	uint32_t refresh_s;   /* UDP template refresh period */
	uint64_t tmpl_sent_ns; /* 0 = templates due with the next message */
	uint64_t next_connect_ns;
	uint64_t pace_start_ns;
	uint32_t pace_count;
	struct umbra_ipfix_msg m;
	int open;             /* a message is being built */
	uint64_t open_ns;
	struct umbra_sink_stats st;
	uint8_t buf[TCP_MSG_MAX];
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
disconnect(struct exporter *x)
{
	if (x->fd >= 0)
		close(x->fd);
	x->fd = -1;
	x->tmpl_sent_ns = 0;
}

/* TCP: a new connection is a new transport session (seq from 0). */
static int
connect_tcp(struct exporter *x)
{
	struct pollfd pfd;
	struct timeval tv = { 1, 0 };
	int fd, one = 1, soerr = 0, fl;
	socklen_t sl = sizeof(soerr);
	uint64_t now = mono_ns();

	if (now < x->next_connect_ns)
		return -EAGAIN;
	x->next_connect_ns = now + RECONNECT_NS;
	fd = socket(x->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&x->addr, x->addrlen) != 0 && errno != EINPROGRESS)
		goto fail;
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, 1000) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 ||
	    soerr != 0)
		goto fail;
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	x->fd = fd;
	x->seq = 0;
	x->tmpl_sent_ns = 0;
	return 0;
fail:
	close(fd);
	x->st.errors++;
	return -ECONNREFUSED;
}

static void
pace(struct exporter *x)
{
	uint64_t now, window = 1000000ull; /* 1 ms */
	uint32_t per_window;

	if (x->tcp || x->rate == 0)
		return;
	per_window = x->rate / 1000 ? x->rate / 1000 : 1;
	now = mono_ns();
	if (now - x->pace_start_ns >= window) {
		x->pace_start_ns = now;
		x->pace_count = 0;
	}
	if (++x->pace_count >= per_window) {
		uint64_t left = x->pace_start_ns + window - now;
		struct timespec ts = { 0, (long)(left < window ? left : window) };

		nanosleep(&ts, NULL);
		x->pace_start_ns = mono_ns();
		x->pace_count = 0;
	}
}

static int
send_all(struct exporter *x, const uint8_t *p, size_t n)
{
	if (!x->tcp) {
		pace(x);
		return send(x->fd, p, n, 0) == (ssize_t)n ? 0 : -errno;
	}
	while (n > 0) {
		ssize_t w = send(x->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? -errno : -EPIPE;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
open_msg(struct exporter *x)
{
	size_t cap = x->tcp ? TCP_MSG_MAX : UDP_MSG_MAX;
	uint64_t now = mono_ns();

	(void)umbra_ipfix_msg_begin(&x->m, x->buf, cap, (uint32_t)time(NULL), x->seq, x->domain);
	/* UDP: templates with the first message and then every refresh_s
	 * (RFC 7011 8.4); TCP: once per connection */
	if (x->tmpl_sent_ns == 0 ||
	    (!x->tcp && now - x->tmpl_sent_ns >= (uint64_t)x->refresh_s * 1000000000ull)) {
		(void)umbra_ipfix_msg_add_templates(&x->m);
		x->tmpl_sent_ns = now;
	}
	x->open = 1;
	x->open_ns = now;
}

static void
send_msg(struct exporter *x)
{
	size_t len;
	unsigned n = x->m.nrec;
	int rc = -ENOTCONN;

	if (!x->open)
		return;
	x->open = 0;
	len = umbra_ipfix_msg_end(&x->m);
	if (x->fd >= 0)
		rc = send_all(x, x->buf, len);
	if (rc == 0) {
		x->seq += n;
		x->st.sent += n;
		x->st.bytes += len;
		return;
	}
	x->st.dropped += n;
	x->st.errors++;
	/* templates went with a lost message: resend with the next one */
	if (x->tcp)
		disconnect(x);
	else
		x->tmpl_sent_ns = 0;
}

static int
ipfix_records(void *ctx, const struct umbra_flow_record *recs, unsigned n)
{
	struct exporter *x = ctx;
	unsigned i;

	x->st.records += n;
	if (x->fd < 0 && x->tcp && connect_tcp(x) != 0) {
		if (!x->open) {
			x->st.dropped += n;
			return -ENOTCONN;
		}
	}
	for (i = 0; i < n; i++) {
		if (!x->open)
			open_msg(x);
		if (umbra_ipfix_msg_add_record(&x->m, &recs[i]) == 0)
			continue;
		send_msg(x);
		open_msg(x);
		(void)umbra_ipfix_msg_add_record(&x->m, &recs[i]);
	}
	return 0;
}

static int
ipfix_interval(void *ctx, const struct umbra_interval *iv)
{
	(void)iv;
	send_msg(ctx);
	return 0;
}

static void
ipfix_tick(void *ctx, uint64_t now_ns)
{
	struct exporter *x = ctx;

	(void)now_ns;
	if (x->open && mono_ns() - x->open_ns >= SEND_AFTER_NS)
		send_msg(x);
}

static void
ipfix_flush(void *ctx)
{
	struct exporter *x = ctx;

	if (x->tcp && x->fd < 0 && x->open)
		(void)connect_tcp(x);
	send_msg(x);
	if (x->tcp && x->fd >= 0) {
		/* orderly close: the collector reads everything before EOF */
		struct pollfd pfd = { .fd = x->fd, .events = POLLIN };
		char tmp[256];

		shutdown(x->fd, SHUT_WR);
		while (poll(&pfd, 1, FLUSH_WAIT_MS) == 1 && read(x->fd, tmp, sizeof(tmp)) > 0)
			;
	}
}

static void
ipfix_stats(void *ctx, struct umbra_sink_stats *st)
{
	*st = ((struct exporter *)ctx)->st;
}

static void
ipfix_close(void *ctx)
{
	struct exporter *x = ctx;

	disconnect(x);
	free(x);
}

static const struct umbra_sink_ops ipfix_ops = {
	.name = "ipfix",
	.records = ipfix_records,
	.interval = ipfix_interval,
	.tick = ipfix_tick,
	.flush = ipfix_flush,
	.stats = ipfix_stats,
	.close = ipfix_close,
};

static int
parse_opts(struct exporter *x, char *q, char *err, size_t errlen)
{
	char *tok, *save = NULL;

	for (tok = strtok_r(q, "&", &save); tok != NULL; tok = strtok_r(NULL, "&", &save)) {
		char *eq = strchr(tok, '='), *end;
		unsigned long v;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		errno = 0;
		v = strtoul(eq + 1, &end, 10);
		if (errno != 0 || *end != '\0' || eq[1] == '\0' || v > UINT32_MAX)
			goto bad;
		if (!strcmp(tok, "rate"))
			x->rate = (uint32_t)v;
		else if (!strcmp(tok, "refresh") && v > 0)
			x->refresh_s = (uint32_t)v;
		else if (!strcmp(tok, "domain"))
			x->domain = (uint32_t)v;
		else
			goto bad;
	}
	return 0;
bad:
	snprintf(err, errlen, "option '--ipfix': bad option '%s' (rate=N, refresh=S, domain=N)",
		 tok);
	return -EINVAL;
}

int
umbra_ipfix_open(const char *url, struct umbra_sink *sink, char *err, size_t errlen)
{
	char copy[512], *host, *port, *q;
	struct addrinfo hints, *ai = NULL;
	struct exporter *x;
	int rc;

	if (strlen(url) >= sizeof(copy)) {
		snprintf(err, errlen, "option '--ipfix': bad value (too long)");
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->fd = -1;
	x->domain = 1;
	x->rate = 20000;
	x->refresh_s = 30;
	strcpy(copy, url);
	if (!strncmp(copy, "udp://", 6)) {
		host = copy + 6;
	} else if (!strncmp(copy, "tcp://", 6)) {
		host = copy + 6;
		x->tcp = 1;
	} else {
		goto bad;
	}
	if ((q = strchr(host, '?')) != NULL) {
		*q++ = '\0';
		if (parse_opts(x, q, err, errlen) != 0) {
			free(x);
			return -EINVAL;
		}
	}
	if (*host == '[') {
		host++;
		port = strchr(host, ']');
		if (port == NULL || port[1] != ':')
			goto bad;
		*port = '\0';
		port += 2;
	} else {
		port = strrchr(host, ':');
		if (port == NULL)
			goto bad;
		*port++ = '\0';
	}
	if (*host == '\0' || *port == '\0')
		goto bad;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = x->tcp ? SOCK_STREAM : SOCK_DGRAM;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0 || ai == NULL) {
		snprintf(err, errlen, "option '--ipfix': bad value '%s' (%s)", url,
			 rc != 0 ? gai_strerror(rc) : "no address");
		free(x);
		return -EINVAL;
	}
	memcpy(&x->addr, ai->ai_addr, ai->ai_addrlen);
	x->addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	if (!x->tcp) {
		int sz = 4 << 20;

		x->fd = socket(x->addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (x->fd < 0 || connect(x->fd, (struct sockaddr *)&x->addr, x->addrlen) != 0) {
			snprintf(err, errlen, "option '--ipfix': cannot use '%s': %s", url,
				 strerror(errno));
			disconnect(x);
			free(x);
			return -EINVAL;
		}
		(void)setsockopt(x->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	} else {
		/* a collector that is not up yet is retried, records counted */
		(void)connect_tcp(x);
	}
	sink->ops = &ipfix_ops;
	sink->ctx = x;
	return 0;
bad:
	snprintf(err, errlen, "option '--ipfix': bad value '%s' (expected udp://HOST:PORT or tcp://HOST:PORT)",
		 url);
	free(x);
	return -EINVAL;
}
