/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus /metrics endpoint. One thread accepts a connection at a
 * time, renders the latest published report (a locked copy made once a
 * second by the control loop) and closes: scrapes are rare and small, so
 * nothing fancier is needed, and no worker state is ever read here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl-metrics.h"

#define TOP_PORTS 20

struct umbra_metrics {
	int fd;
	pthread_t thread;
	_Atomic int stop;
};

static void
label_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void
head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
one(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	head(f, name, type, help);
	fprintf(f, "%s %" PRIu64 "\n", name, v);
}

struct pc {
	unsigned key;
	uint64_t v;
};

/* The n largest non-zero entries, largest first (ties: lower key). */
static unsigned
top(const uint64_t *arr, unsigned size, struct pc *out, unsigned n)
{
	unsigned i, k = 0, j;

	for (i = 0; i < size; i++) {
		if (arr[i] == 0 || (k == n && arr[i] <= out[n - 1].v))
			continue;
		j = k < n ? k++ : n - 1;
		while (j > 0 && out[j - 1].v < arr[i]) {
			out[j] = out[j - 1];
			j--;
		}
		out[j].key = i;
		out[j].v = arr[i];
	}
	return k;
}

static int
sensor_addr(const struct umbra_darknet *dn, uint32_t slot, char *buf, size_t len)
{
	unsigned i;

	for (i = 0; i < dn->n; i++) {
		const struct umbra_prefix *p = &dn->p[i];
		uint32_t size, base, a;

		if (p->family != 4 || p->sensor_base == UMBRA_SENSOR_HASHED)
			continue;
		size = p->len == 0 ? 0 : (uint32_t)1 << (32 - p->len);
		if (slot >= p->sensor_base && slot - p->sensor_base < size) {
			memcpy(&base, p->addr, 4);
			a = htonl(ntohl(base) + (slot - p->sensor_base));
			return inet_ntop(AF_INET, &a, buf, (socklen_t)len) != NULL ? 0 : -1;
		}
	}
	return -1;
}

static void
sensors(FILE *f, const struct umbra_report *r, int bytes)
{
	const struct umbra_counters *t = r->total;
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	for (i = 0; i < t->nsensors_direct; i++) {
		if (t->sensor_direct[2 * i] == 0 || sensor_addr(&r->cfg->darknet, i, a, sizeof(a)))
			continue;
		fprintf(f, "umbra_sensor_%s_total{sensor=\"%s\"} %" PRIu64 "\n",
			bytes ? "bytes" : "packets", a, t->sensor_direct[2 * i + bytes]);
	}
	for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++) {
		const struct umbra_sensor_count *s = &t->sensor_hashed[i];

		if (s->family == 0 || s->packets == 0)
			continue;
		inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, a, sizeof(a));
		fprintf(f, "umbra_sensor_%s_total{sensor=\"%s\"} %" PRIu64 "\n",
			bytes ? "bytes" : "packets", a, bytes ? s->bytes : s->packets);
	}
}

/* The writer's top sources (the published copy always has them). */
static void
top_sources(FILE *f, const struct umbra_report *r)
{
	const struct umbra_top_sources *ts = r->sources;
	char a[INET6_ADDRSTRLEN];
	unsigned i;

	if (ts == NULL)
		return;
	head(f, "umbra_top_source_packets", "gauge",
	     "Packets in exported flows from the top sources since start (an upper bound; "
	     "the true count is at least this minus umbra_top_source_error_packets).");
	for (i = 0; i < ts->n; i++)
		fprintf(f, "umbra_top_source_packets{src=\"%s\",rank=\"%u\"} %" PRIu64 "\n",
			umbra_top_source_text(&ts->e[i], a, sizeof(a)), i + 1, ts->e[i].packets);
	head(f, "umbra_top_source_error_packets", "gauge",
	     "How many of a top source's packets may belong to sources it replaced in the summary.");
	for (i = 0; i < ts->n; i++)
		fprintf(f, "umbra_top_source_error_packets{src=\"%s\",rank=\"%u\"} %" PRIu64 "\n",
			umbra_top_source_text(&ts->e[i], a, sizeof(a)), i + 1, ts->e[i].error);
	one(f, "umbra_top_source_capacity", "gauge", "Sources the top-sources summary keeps.",
	    ts->capacity);
	one(f, "umbra_top_source_floor_packets", "gauge",
	    "Most packets a source outside the top-sources summary can have sent (0 while it is not full).",
	    ts->floor);
}

static void
sink_metric(FILE *f, const struct umbra_report *r, const char *name, const char *help,
	    size_t off)
{
	unsigned i;

	head(f, name, "counter", help);
	for (i = 0; i < r->nsinks; i++)
		fprintf(f, "%s{sink=\"%s\"} %" PRIu64 "\n", name, r->sink_name[i],
			*(const uint64_t *)(const void *)((const char *)&r->sink[i] + off));
}

void
umbra_metrics_write(const struct umbra_report *r, FILE *f)
{
	const struct umbra_counters *t = r->total;
	struct pc tp[TOP_PORTS];
	uint64_t lag;
	unsigned i, k;

	head(f, "umbra_info", "gauge", "Engine version and sensor name.");
	fprintf(f, "umbra_info{version=\"%s\",sensor_name=\"", UMBRA_VERSION);
	label_str(f, r->cfg->sensor_name);
	fprintf(f, "\"} 1\n");
	head(f, "umbra_uptime_seconds", "gauge", "Seconds since the engine started capturing.");
	fprintf(f, "umbra_uptime_seconds %.3f\n", r->wall_s);
	head(f, "umbra_rx_rate_packets_per_second", "gauge", "Received packets per second over the last second.");
	fprintf(f, "umbra_rx_rate_packets_per_second %.1f\n", r->rx_pps);
	head(f, "umbra_capture_last_timestamp_seconds", "gauge", "Time of the latest packet (capture or clock).");
	fprintf(f, "umbra_capture_last_timestamp_seconds %.6f\n", (double)r->capture_last_ns * 1e-9);

	one(f, "umbra_rx_packets_total", "counter", "Frames received by the workers.", t->rx_packets);
	one(f, "umbra_rx_bytes_total", "counter", "Bytes of frames received by the workers.", t->rx_bytes);
	one(f, "umbra_darknet_packets_total", "counter", "Packets addressed to the darknet.", t->darknet_packets);
	one(f, "umbra_darknet_bytes_total", "counter", "IP bytes of darknet packets.", t->darknet_bytes);
	one(f, "umbra_not_darknet_packets_total", "counter", "IP packets not addressed to the darknet.", t->not_darknet_packets);
	one(f, "umbra_not_ip_packets_total", "counter", "Frames that are not IP (ARP, STP...).", t->not_ip_packets);
	one(f, "umbra_unsupported_link_packets_total", "counter", "Frames of an unsupported link type.", t->unsupported_link_packets);
	one(f, "umbra_fragment_packets_total", "counter", "Darknet IP fragments.", t->fragment_packets);

	head(f, "umbra_malformed_packets_total", "counter", "Malformed frames by reason.");
	for (i = 1; i < UMBRA_MAL_MAX; i++)
		fprintf(f, "umbra_malformed_packets_total{reason=\"%s\"} %" PRIu64 "\n",
			umbra_malformed_name(i), t->malformed[i]);
	head(f, "umbra_class_packets_total", "counter", "Darknet packets by class.");
	for (i = 0; i < UMBRA_CLASS_MAX; i++)
		fprintf(f, "umbra_class_packets_total{class=\"%s\"} %" PRIu64 "\n",
			umbra_class_name(i), t->class_packets[i]);
	head(f, "umbra_proto_packets_total", "counter", "Darknet packets by protocol.");
	for (i = 0; i < UMBRA_PIDX_MAX; i++)
		fprintf(f, "umbra_proto_packets_total{proto=\"%s\"} %" PRIu64 "\n",
			umbra_proto_idx_name(i), t->proto_packets[i]);
	head(f, "umbra_proto_bytes_total", "counter", "Darknet IP bytes by protocol.");
	for (i = 0; i < UMBRA_PIDX_MAX; i++)
		fprintf(f, "umbra_proto_bytes_total{proto=\"%s\"} %" PRIu64 "\n",
			umbra_proto_idx_name(i), t->proto_bytes[i]);
	head(f, "umbra_tag_flows_total", "counter", "Exported flows by tag.");
	for (i = 0; i < UMBRA_TAG_BIT_MAX; i++) {
		const char *n = umbra_tag_name(i);

		if (n != NULL)
			fprintf(f, "umbra_tag_flows_total{tag=\"%s\"} %" PRIu64 "\n", n,
				t->tag_flows[i]);
	}
	head(f, "umbra_dport_packets_total", "counter",
	     "Darknet packets by destination port (the top 20 TCP and UDP ports).");
	k = top(t->tcp_dport, 65536, tp, TOP_PORTS);
	for (i = 0; i < k; i++)
		fprintf(f, "umbra_dport_packets_total{proto=\"tcp\",port=\"%u\"} %" PRIu64 "\n",
			tp[i].key, tp[i].v);
	k = top(t->udp_dport, 65536, tp, TOP_PORTS);
	for (i = 0; i < k; i++)
		fprintf(f, "umbra_dport_packets_total{proto=\"udp\",port=\"%u\"} %" PRIu64 "\n",
			tp[i].key, tp[i].v);
	head(f, "umbra_icmp_type_packets_total", "counter", "Darknet ICMP and ICMPv6 packets by type.");
	for (i = 0; i < 256; i++) {
		if (t->icmp_type[i])
			fprintf(f, "umbra_icmp_type_packets_total{proto=\"icmp\",type=\"%u\"} %" PRIu64 "\n",
				i, t->icmp_type[i]);
		if (t->icmp6_type[i])
			fprintf(f, "umbra_icmp_type_packets_total{proto=\"icmp6\",type=\"%u\"} %" PRIu64 "\n",
				i, t->icmp6_type[i]);
	}
	head(f, "umbra_sensor_packets_total", "counter", "Darknet packets per sensor (destination address).");
	sensors(f, r, 0);
	head(f, "umbra_sensor_bytes_total", "counter", "Darknet IP bytes per sensor.");
	sensors(f, r, 1);
	one(f, "umbra_sensor_overflow_packets_total", "counter", "Packets to sensors with no counter slot left.", t->sensor_overflow);
	top_sources(f, r);

	one(f, "umbra_nic_packets_total", "counter", "Packets the NIC received.", r->port.ipackets);
	one(f, "umbra_nic_missed_packets_total", "counter", "Packets the NIC dropped: RX ring full.", r->port.imissed);
	one(f, "umbra_nic_nombuf_packets_total", "counter", "Packets the NIC dropped: no mbuf.", r->port.rx_nombuf);
	one(f, "umbra_nic_errors_total", "counter", "Erroneous packets the NIC received.", r->port.ierrors);

	one(f, "umbra_flows_created_total", "counter", "Flows created.", t->flows_created);
	one(f, "umbra_flows_exported_total", "counter", "Flow records handed to the worker->writer rings.", t->flows_exported);
	one(f, "umbra_flows_evicted_total", "counter", "Flows pushed out of a full flow table.", t->flows_evicted);
	one(f, "umbra_exported_packets_total", "counter", "Packets inside exported flow records.", t->exported_packets);
	one(f, "umbra_flows_active", "gauge", "Flows in the flow tables.", t->flows_active);
	one(f, "umbra_flow_table_capacity", "gauge", "Flow table capacity (all workers).",
	    (uint64_t)r->cfg->flows * r->cfg->workers);
	one(f, "umbra_ring_dropped_records_total", "counter", "Records dropped: worker->writer ring full.", t->records_dropped);
	one(f, "umbra_ring_dropped_packets_total", "counter", "Packets inside records dropped at the rings.", t->records_dropped_packets);

	one(f, "umbra_writer_records_total", "counter", "Records written to dump files.", r->writer.records);
	one(f, "umbra_writer_bytes_total", "counter", "Bytes written to dump files.", r->writer.bytes);
	one(f, "umbra_writer_lost_records_total", "counter", "Records lost by failed writes.", r->writer.records_lost);
	one(f, "umbra_writer_errors_total", "counter", "Failed writes.", r->writer.write_errors);
	lag = t->flows_exported - t->records_dropped;
	lag = lag > r->writer.records + r->writer.records_lost ?
		      lag - r->writer.records - r->writer.records_lost : 0;
	one(f, "umbra_writer_lag_records", "gauge", "Records in the rings, not yet written.", lag);

#define SINK(field, name, help) \
	sink_metric(f, r, name, help, offsetof(struct umbra_sink_stats, field))
	SINK(records, "umbra_export_records_total", "Records handed to an export sink.");
	SINK(sent, "umbra_export_sent_records_total", "Records an export sink delivered.");
	SINK(dropped, "umbra_export_dropped_records_total", "Records an export sink lost.");
	SINK(errors, "umbra_export_errors_total", "Failed sends and connects of an export sink.");
	SINK(bytes, "umbra_export_bytes_total", "Bytes an export sink put on the wire.");
#undef SINK
}

static void
render(const struct umbra_report *r, void *arg)
{
	umbra_metrics_write(r, arg);
}

static void
reply(int fd, const char *status, const char *ctype, const char *body, size_t len)
{
	char hdr[256];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n",
			 status, ctype, len);
	const char *parts[2] = { hdr, body };
	size_t lens[2] = { (size_t)n, len };

	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];
		size_t left = lens[i];

		while (left > 0) {
			ssize_t w = send(fd, p, left, MSG_NOSIGNAL);

			if (w <= 0)
				return;
			p += w;
			left -= (size_t)w;
		}
	}
}

static void
serve(int fd)
{
	char req[2048];
	size_t got = 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char *body = NULL;
	size_t blen = 0;
	FILE *f;

	/* the request line and headers, within a second */
	while (got < sizeof(req) - 1 && poll(&pfd, 1, 1000) == 1) {
		ssize_t n = recv(fd, req + got, sizeof(req) - 1 - got, 0);

		if (n <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL || strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET ", 4) != 0) {
		reply(fd, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
		return;
	}
	if (strncmp(req + 4, "/metrics ", 9) != 0 && strncmp(req + 4, "/metrics?", 9) != 0) {
		reply(fd, "404 Not Found", "text/plain", "try /metrics\n", 13);
		return;
	}
	f = open_memstream(&body, &blen);
	if (f == NULL) {
		reply(fd, "500 Internal Server Error", "text/plain", "", 0);
		return;
	}
	if (umbra_stats_read(render, f) != 0) {
		fclose(f);
		free(body);
		reply(fd, "503 Service Unavailable", "text/plain", "no statistics yet\n", 18);
		return;
	}
	fclose(f);
	reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", body, blen);
	free(body);
}

static void *
metrics_main(void *arg)
{
	struct umbra_metrics *m = arg;
	struct pollfd pfd = { .fd = m->fd, .events = POLLIN };

	while (!atomic_load(&m->stop)) {
		int c;

		if (poll(&pfd, 1, 200) != 1)
			continue;
		c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(c);
		shutdown(c, SHUT_WR);
		close(c);
	}
	return NULL;
}

struct umbra_metrics *
umbra_metrics_start(const char *listen_at, char *err, size_t errlen)
{
	char copy[160], *host = copy, *port;
	struct addrinfo hints, *ai = NULL;
	struct umbra_metrics *m;
	int one = 1, rc;

	if (strlen(listen_at) >= sizeof(copy))
		goto bad;
	strcpy(copy, listen_at);
	if (*host == '[') {
		host++;
		port = strchr(host, ']');
		if (port == NULL || port[1] != ':')
			goto bad;
		*port = '\0';
		port += 2;
	} else if ((port = strrchr(copy, ':')) != NULL) {
		*port++ = '\0';
	} else {
		port = copy;
		host = (char *)"127.0.0.1";
	}
	if (*host == '\0')
		host = (char *)"127.0.0.1";
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &ai);
	if (rc != 0 || ai == NULL)
		goto bad;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		freeaddrinfo(ai);
		return NULL;
	}
	m->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(m->fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(m->fd, 16) != 0) {
		snprintf(err, errlen, "option '--metrics': cannot listen on '%s': %s", listen_at,
			 strerror(errno));
		if (m->fd >= 0)
			close(m->fd);
		free(m);
		freeaddrinfo(ai);
		errno = EADDRINUSE;
		return NULL;
	}
	freeaddrinfo(ai);
	rc = pthread_create(&m->thread, NULL, metrics_main, m);
	if (rc != 0) {
		snprintf(err, errlen, "option '--metrics': cannot start a thread: %s", strerror(rc));
		close(m->fd);
		free(m);
		errno = rc;
		return NULL;
	}
	pthread_setname_np(m->thread, "umbra-metrics");
	return m;
bad:
	snprintf(err, errlen, "option '--metrics': bad value '%s' (expected [ADDR:]PORT)",
		 listen_at);
	errno = EINVAL;
	return NULL;
}

void
umbra_metrics_stop(struct umbra_metrics *m)
{
	if (m == NULL)
		return;
	atomic_store(&m->stop, 1);
	pthread_join(m->thread, NULL);
	close(m->fd);
	free(m);
}
