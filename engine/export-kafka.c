/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka export with librdkafka. Messages are copied into librdkafka's
 * queue, which retries failed deliveries itself (idempotent producer: a
 * retry never duplicates a message); the delivery report callback counts
 * what arrived and what was finally lost. A full local queue is waited
 * on briefly, then counted as dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "export-kafka.h"

static size_t
fmt_time(char *p, size_t cap, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (gmtime_r(&s, &tm) == NULL)
		return (size_t)snprintf(p, cap, "\"\"");
	return (size_t)snprintf(p, cap, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"",
				tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				tm.tm_min, tm.tm_sec, (unsigned)(ns % 1000000000ull / 1000));
}

static const char *
opt_name(unsigned kind, char *tmp)
{
	switch (kind) {
	case 0: return "eol";
	case 1: return "nop";
	case 2: return "mss";
	case 3: return "ws";
	case 4: return "sok";
	case 5: return "sack";
	case 8: return "ts";
	default:
		snprintf(tmp, 8, "?%u", kind & 0xffu); /* a TCP option kind is one byte */
		return tmp;
	}
}

static void
json_quote(const char *s, char *out, size_t cap)
{
	size_t n = 0;

	out[n++] = '"';
	for (; *s && n + 8 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else {
			out[n++] = (char)c;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
}

/* a record id's name as the analyzer prints it: the name, else the id */
static const char *
id_text(const char *name, unsigned id, char *tmp, size_t cap)
{
	if (name == NULL)
		snprintf(tmp, cap, "%u", id);
	return name != NULL ? name : tmp;
}

#define ADD(...)                                                                   \
	do {                                                                       \
		int k_ = snprintf(buf + n, n < cap ? cap - n : 0, __VA_ARGS__);    \
		n += k_ > 0 ? (size_t)k_ : 0;                                      \
	} while (0)

size_t
umbra_kafka_format(const struct umbra_flow_record *r, const char *sensor_json,
		   const struct umbra_classify *cl, char *buf, size_t cap)
{
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN], tmp[16], q[2 * UMBRA_KAFKA_NAME_MAX];
	int af = r->family == 6 ? AF_INET6 : AF_INET;
	const char *pn = umbra_proto_name(r->proto), *er = umbra_end_reason_name(r->end_reason);
	unsigned b, first = 1, i, nopts;
	size_t n = 0;

	inet_ntop(af, r->src, src, sizeof(src));
	inet_ntop(af, r->dst, dst, sizeof(dst));
	ADD("{\"first\":");
	n += fmt_time(buf + n, n < cap ? cap - n : 0, r->first_ns);
	ADD(",\"last\":");
	n += fmt_time(buf + n, n < cap ? cap - n : 0, r->last_ns);
	ADD(",\"src\":\"%s\",\"dst\":\"%s\",\"proto\":", src, dst);
	if (pn != NULL)
		ADD("\"%s\"", pn);
	else
		ADD("%u", r->proto);
	ADD(",\"sport\":%u,\"dport\":%u,\"packets\":%u,\"bytes\":%" PRIu64
	    ",\"tcp_flags\":%u,\"ttl_min\":%u,\"ttl_max\":%u,\"tags\":[",
	    r->sport, r->dport, r->packets, r->bytes, r->tcp_flags, r->ttl_min, r->ttl_max);
	for (b = 0; b < 32; b++) {
		const char *tn;

		if (!(r->tags & (1u << b)))
			continue;
		tn = cl != NULL ? umbra_classify_tag_name(cl, b) : umbra_tag_name(b);
		if (tn == NULL) {
			snprintf(tmp, sizeof(tmp), "tag%u", b);
			tn = tmp;
		}
		ADD("%s\"%s\"", first ? "" : ",", tn);
		first = 0;
	}
	ADD("],\"end_reason\":");
	if (er != NULL)
		ADD("\"%s\"", er);
	else
		ADD("%u", r->end_reason);
	ADD(",\"ip_id\":%u,\"syn_window\":%u,\"syn_mss\":%u,\"syn_wscale\":%u,\"syn_olayout\":\"",
	    r->ip_id, r->syn_window, r->syn_mss, r->syn_wscale);
	nopts = r->syn_nopts < UMBRA_OLAYOUT_MAX ? r->syn_nopts : UMBRA_OLAYOUT_MAX;
	for (i = 0; i < nopts; i++)
		ADD("%s%s", i ? "," : "", opt_name(r->syn_olayout[i], tmp));
	ADD("\",\"sensor\":%s,\"p0f_label\":", sensor_json);
	if (r->p0f_label != 0) {
		json_quote(id_text(cl != NULL ? umbra_classify_label_name(cl, r->p0f_label) : NULL,
				   r->p0f_label, tmp, sizeof(tmp)), q, sizeof(q));
		ADD("%s", q);
	} else {
		ADD("null");
	}
	ADD(",\"signature\":");
	if (r->sig_id != 0) {
		json_quote(id_text(cl != NULL ? umbra_classify_sig_name(cl, r->sig_id) : NULL,
				   r->sig_id, tmp, sizeof(tmp)), q, sizeof(q));
		ADD("%s", q);
	} else {
		ADD("null");
	}
	ADD("}");
	return n;
}

#ifdef UMBRA_HAVE_KAFKA
#include <librdkafka/rdkafka.h>

#define FLUSH_WAIT_MS 10000
#define QUEUE_FULL_WAIT_MS 1000

struct kexp {
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char sensor_json[600];
	const struct umbra_classify *cl;
	struct umbra_sink_stats st;
	char msg[2048 + 4 * UMBRA_KAFKA_NAME_MAX];
};

/* Called from rd_kafka_poll/flush, i.e. on the writer thread. */
static void
on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kexp *x = opaque;

	(void)rk;
	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		x->st.sent++;
		x->st.bytes += m->len;
	} else {
		x->st.dropped++;
		x->st.errors++;
	}
}

static int
kafka_records(void *ctx, const struct umbra_flow_record *recs, unsigned n)
{
	struct kexp *x = ctx;
	unsigned i;

	x->st.records += n;
	for (i = 0; i < n; i++) {
		size_t len = umbra_kafka_format(&recs[i], x->sensor_json, x->cl, x->msg,
						 sizeof(x->msg));
		int waited = 0;

		while (rd_kafka_produce(x->rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, x->msg,
					len, NULL, 0, NULL) != 0) {
			if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
			    waited >= QUEUE_FULL_WAIT_MS) {
				x->st.dropped++;
				x->st.errors++;
				break;
			}
			rd_kafka_poll(x->rk, 10);
			waited += 10;
		}
	}
	rd_kafka_poll(x->rk, 0);
	return 0;
}

static void
kafka_tick(void *ctx, uint64_t now_ns)
{
	struct kexp *x = ctx;

	(void)now_ns;
	rd_kafka_poll(x->rk, 0);
}

static void
kafka_flush(void *ctx)
{
	struct kexp *x = ctx;
	int left;

	(void)rd_kafka_flush(x->rk, FLUSH_WAIT_MS);
	/* what is still queued after the wait is purged: each purged
	 * message reaches on_delivery with an error and is counted there */
	left = rd_kafka_outq_len(x->rk);
	if (left > 0) {
		rd_kafka_purge(x->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(x->rk, 100);
	}
}

static void
kafka_stats(void *ctx, struct umbra_sink_stats *st)
{
	*st = ((struct kexp *)ctx)->st;
}

static void
kafka_close(void *ctx)
{
	struct kexp *x = ctx;

	rd_kafka_topic_destroy(x->rkt);
	rd_kafka_destroy(x->rk);
	free(x);
}

static const struct umbra_sink_ops kafka_ops = {
	.name = "kafka",
	.records = kafka_records,
	.tick = kafka_tick,
	.flush = kafka_flush,
	.stats = kafka_stats,
	.close = kafka_close,
};

int
umbra_kafka_open(const char *spec, const char *sensor, const struct umbra_classify *cl,
		 struct umbra_sink *sink, char *err, size_t errlen)
{
	char brokers[512], errstr[512];
	const char *slash = strrchr(spec, '/');
	rd_kafka_conf_t *conf;
	struct kexp *x;
	size_t bl;

	if (slash == NULL || slash == spec || slash[1] == '\0' ||
	    (bl = (size_t)(slash - spec)) >= sizeof(brokers)) {
		snprintf(err, errlen, "option '--kafka': bad value '%s' (expected HOST:PORT[,HOST:PORT...]/TOPIC)",
			 spec);
		return -EINVAL;
	}
	memcpy(brokers, spec, bl);
	brokers[bl] = '\0';
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->cl = cl;
	json_quote(sensor, x->sensor_json, sizeof(x->sensor_json));
	conf = rd_kafka_conf_new();
	if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "linger.ms", "20", errstr, sizeof(errstr)) ||
	    rd_kafka_conf_set(conf, "client.id", "umbra", errstr, sizeof(errstr))) {
		snprintf(err, errlen, "option '--kafka': %s", errstr);
		rd_kafka_conf_destroy(conf);
		free(x);
		return -EINVAL;
	}
	rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
	rd_kafka_conf_set_opaque(conf, x);
	x->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (x->rk == NULL) {
		snprintf(err, errlen, "option '--kafka': %s", errstr);
		free(x);
		return -EINVAL;
	}
	x->rkt = rd_kafka_topic_new(x->rk, slash + 1, NULL);
	if (x->rkt == NULL) {
		snprintf(err, errlen, "option '--kafka': topic '%s': %s", slash + 1,
			 rd_kafka_err2str(rd_kafka_last_error()));
		rd_kafka_destroy(x->rk);
		free(x);
		return -EINVAL;
	}
	sink->ops = &kafka_ops;
	sink->ctx = x;
	return 0;
}

#else

int
umbra_kafka_open(const char *spec, const char *sensor, const struct umbra_classify *cl,
		 struct umbra_sink *sink, char *err, size_t errlen)
{
	(void)sensor;
	(void)cl;
	(void)sink;
	snprintf(err, errlen, "option '--kafka': '%s': umbra was built without librdkafka", spec);
	return -ENOTSUP;
}

#endif
