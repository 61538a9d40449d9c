/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the engine tells people: the status line, the final summary and
 * --stats-json. Control path only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "classify.h"
#include "engine.h"

struct port_count {
	uint32_t port;
	uint64_t packets;
};

static int
cmp_port_count(const void *a, const void *b)
{
	const struct port_count *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets < y->packets ? 1 : -1;
	return x->port < y->port ? -1 : x->port > y->port;
}

/* Top n entries of a counter array, largest first; returns how many. */
static unsigned
top_n(const uint64_t *arr, unsigned size, struct port_count *out, unsigned n)
{
	unsigned i, k = 0;

	for (i = 0; i < size; i++) {
		if (arr[i] == 0)
			continue;
		if (k < n) {
			out[k].port = i;
			out[k].packets = arr[i];
			k++;
			qsort(out, k, sizeof(*out), cmp_port_count);
		} else if (arr[i] > out[n - 1].packets) {
			out[n - 1].port = i;
			out[n - 1].packets = arr[i];
			qsort(out, n, sizeof(*out), cmp_port_count);
		}
	}
	return k;
}

static void
fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ull);
	struct tm tm;

	if (ns == 0) {
		snprintf(buf, len, "null");
		return;
	}
	gmtime_r(&s, &tm);
	snprintf(buf, len, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06uZ\"", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (unsigned)(ns % 1000000000ull / 1000));
}

static void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Address of direct sensor slot i: walk the IPv4 prefixes. */
static int
sensor_addr(const struct umbra_darknet *dn, uint32_t slot, char *buf, size_t len)
{
	unsigned i;

	for (i = 0; i < dn->n; i++) {
		const struct umbra_prefix *p = &dn->p[i];
		uint32_t size, base;

		if (p->family != 4 || p->sensor_base == UMBRA_SENSOR_HASHED)
			continue;
		size = p->len == 0 ? 0 : (uint32_t)1 << (32 - p->len);
		if (slot >= p->sensor_base && slot - p->sensor_base < size) {
			uint32_t a;

			memcpy(&base, p->addr, 4);
			a = htonl(ntohl(base) + (slot - p->sensor_base));
			return inet_ntop(AF_INET, &a, buf, (socklen_t)len) != NULL ? 0 : -1;
		}
	}
	return -1;
}

static void
json_ports(FILE *f, const char *name, const uint64_t *arr, unsigned size, unsigned n)
{
	struct port_count top[128];
	unsigned k = top_n(arr, size, top, n < 128 ? n : 128), i;

	fprintf(f, "  \"%s\": [", name);
	for (i = 0; i < k; i++)
		fprintf(f, "%s{\"port\": %u, \"packets\": %" PRIu64 "}", i ? ", " : "",
			top[i].port, top[i].packets);
	fprintf(f, "],\n");
}

/* Top sources of the writer's summary: upper bounds and their error. */
static void
json_sources(FILE *f, const struct umbra_report *r)
{
	struct umbra_top_sources latest;
	const struct umbra_top_sources *ts = r->sources;
	unsigned i;

	if (ts == NULL) {
		umbra_stats_sources(&latest);
		ts = &latest;
	}
	fprintf(f, "  \"top_sources\": {\"capacity\": %u, \"floor_packets\": %" PRIu64
		", \"records\": %" PRIu64 ", \"packets\": %" PRIu64 ", \"sources\": [",
		ts->capacity, ts->floor, ts->records, ts->packets);
	for (i = 0; i < ts->n; i++) {
		char a[INET6_ADDRSTRLEN];

		fprintf(f, "%s{\"src\": \"%s\", \"packets\": %" PRIu64 ", \"error\": %" PRIu64 "}",
			i ? ", " : "", umbra_top_source_text(&ts->e[i], a, sizeof(a)),
			ts->e[i].packets, ts->e[i].error);
	}
	fprintf(f, "]},\n");
}

int
umbra_report_json(const struct umbra_report *r, const char *path)
{
	const struct umbra_counters *t = r->total;
	const struct umbra_config *cfg = r->cfg;
	char tbuf[64];
	unsigned i;
	int first;
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		fprintf(stderr, "umbra: cannot write --stats-json '%s': %s\n", path,
			strerror(errno));
		return -errno;
	}
	fprintf(f, "{\n  \"engine_version\": \"%s\",\n  \"sensor_name\": ", UMBRA_VERSION);
	json_str(f, cfg->sensor_name);
	fprintf(f, ",\n  \"darknet\": [");
	for (i = 0; i < cfg->darknet.n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		json_str(f, cfg->darknet_text[i]);
	}
	fprintf(f, "],\n  \"time_source\": \"%s\",\n", r->time_source);
	fmt_time(r->capture_first_ns, tbuf, sizeof(tbuf));
	fprintf(f, "  \"first_seen\": %s,\n", tbuf);
	fmt_time(r->capture_last_ns, tbuf, sizeof(tbuf));
	fprintf(f, "  \"last_seen\": %s,\n", tbuf);
	fprintf(f, "  \"wall_seconds\": %.6f,\n", r->wall_s);
#define U64(name, val) fprintf(f, "  \"%s\": %" PRIu64 ",\n", name, (uint64_t)(val))
	U64("rx_packets", t->rx_packets);
	U64("rx_bytes", t->rx_bytes);
	U64("darknet_packets", t->darknet_packets);
	U64("darknet_bytes", t->darknet_bytes);
	U64("not_darknet_packets", t->not_darknet_packets);
	U64("not_ip_packets", t->not_ip_packets);
	U64("unsupported_link_packets", t->unsupported_link_packets);
	U64("malformed_packets", t->malformed_packets);
	U64("fragment_packets", t->fragment_packets);
	U64("flows_created", t->flows_created);
	U64("flows_exported", t->flows_exported);
	U64("flows_evicted", t->flows_evicted);
	U64("exported_packets", t->exported_packets);
	U64("records_written", r->writer.records);
	U64("records_dropped", t->records_dropped);
	U64("records_dropped_packets", t->records_dropped_packets);
	U64("records_lost_write", r->writer.records_lost);
	U64("write_errors", r->writer.write_errors);
	U64("files_written", r->writer.files);
	U64("bytes_written", r->writer.bytes);
	U64("rx_missed", r->port.imissed);
	U64("rx_nombuf", r->port.rx_nombuf);
	U64("rx_errors", r->port.ierrors);
	U64("sensor_overflow_packets", t->sensor_overflow);
#undef U64
	fprintf(f, "  \"export\": {");
	for (i = 0; i < r->nsinks; i++)
		fprintf(f, "%s\"%s\": {\"records\": %" PRIu64 ", \"sent\": %" PRIu64
			", \"dropped\": %" PRIu64 ", \"errors\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			i ? ", " : "", r->sink_name[i], r->sink[i].records, r->sink[i].sent,
			r->sink[i].dropped, r->sink[i].errors, r->sink[i].bytes);
	fprintf(f, "},\n");
	fprintf(f, "  \"malformed\": {");
	for (i = 1, first = 1; i < UMBRA_MAL_MAX; i++) {
		fprintf(f, "%s\"%s\": %" PRIu64, first ? "" : ", ", umbra_malformed_name(i),
			t->malformed[i]);
		first = 0;
	}
	fprintf(f, "},\n  \"by_proto\": {");
	for (i = 0; i < UMBRA_PIDX_MAX; i++)
		fprintf(f, "%s\"%s\": {\"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			i ? ", " : "", umbra_proto_idx_name(i), t->proto_packets[i],
			t->proto_bytes[i]);
	fprintf(f, "},\n  \"by_class\": {");
	for (i = 0; i < UMBRA_CLASS_MAX; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", umbra_class_name(i),
			t->class_packets[i]);
	fprintf(f, "},\n  \"flows_by_tag\": {");
	for (i = 0, first = 1; i < UMBRA_TAG_BIT_MAX; i++) {
		const char *n = r->classify != NULL ? umbra_classify_tag_name(r->classify, i) :
						      umbra_tag_name(i);

		if (n == NULL)
			continue;
		fprintf(f, "%s", first ? "" : ", ");
		json_str(f, n);
		fprintf(f, ": %" PRIu64, t->tag_flows[i]);
		first = 0;
	}
	/* p0f labels (SYNs per label), signature matches, plugin counters */
	fprintf(f, "},\n  \"classifier_counters\": {");
	for (i = 0, first = 1; i < umbra_classify_ncounters(r->classify) &&
			       i < UMBRA_CLS_COUNTERS_MAX; i++) {
		fprintf(f, "%s", first ? "" : ", ");
		json_str(f, umbra_classify_counter_name(r->classify, i));
		fprintf(f, ": %" PRIu64, t->cls[i]);
		first = 0;
	}
	fprintf(f, "},\n");
	json_ports(f, "top_tcp_dports", t->tcp_dport, 65536, 100);
	json_ports(f, "top_udp_dports", t->udp_dport, 65536, 100);
	json_ports(f, "icmp_types", t->icmp_type, 256, 128);
	json_ports(f, "icmp6_types", t->icmp6_type, 256, 128);
	json_sources(f, r);
	fprintf(f, "  \"sensors\": [");
	first = 1;
	for (i = 0; i < t->nsensors_direct; i++) {
		char a[INET6_ADDRSTRLEN];

		if (t->sensor_direct[2 * i] == 0 || sensor_addr(&cfg->darknet, i, a, sizeof(a)))
			continue;
		fprintf(f, "%s{\"sensor\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			first ? "" : ", ", a, t->sensor_direct[2 * i], t->sensor_direct[2 * i + 1]);
		first = 0;
	}
	for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++) {
		const struct umbra_sensor_count *s = &t->sensor_hashed[i];
		char a[INET6_ADDRSTRLEN];

		if (s->family == 0 || s->packets == 0)
			continue;
		inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, a, sizeof(a));
		fprintf(f, "%s{\"sensor\": \"%s\", \"packets\": %" PRIu64 ", \"bytes\": %" PRIu64 "}",
			first ? "" : ", ", a, s->packets, s->bytes);
		first = 0;
	}
	fprintf(f, "]\n}\n");
	if (fclose(f) != 0) {
		fprintf(stderr, "umbra: cannot write --stats-json '%s': %s\n", path,
			strerror(errno));
		return -EIO;
	}
	return 0;
}

static double
pct(uint64_t a, uint64_t b)
{
	return b == 0 ? 0.0 : 100.0 * (double)a / (double)b;
}

void
umbra_report_summary(const struct umbra_report *r, FILE *out)
{
	const struct umbra_counters *t = r->total;
	struct port_count top[10];
	unsigned i, k;
	uint64_t lost;

	fprintf(out, "\numbra %s  sensor %s  darknet", UMBRA_VERSION, r->cfg->sensor_name);
	for (i = 0; i < r->cfg->darknet.n; i++)
		fprintf(out, " %s", r->cfg->darknet_text[i]);
	fprintf(out, "\n\npackets  %12" PRIu64 " received in %.2f s (%.0f pkt/s)\n",
		t->rx_packets, r->wall_s, r->wall_s > 0 ? (double)t->rx_packets / r->wall_s : 0.0);
	fprintf(out, "  darknet       %12" PRIu64 "  %5.1f%%\n", t->darknet_packets,
		pct(t->darknet_packets, t->rx_packets));
	fprintf(out, "  not darknet   %12" PRIu64 "  %5.1f%%\n", t->not_darknet_packets,
		pct(t->not_darknet_packets, t->rx_packets));
	fprintf(out, "  not IP        %12" PRIu64 "  %5.1f%%\n", t->not_ip_packets,
		pct(t->not_ip_packets, t->rx_packets));
	fprintf(out, "  malformed     %12" PRIu64 "  %5.1f%%\n", t->malformed_packets,
		pct(t->malformed_packets, t->rx_packets));
	if (t->unsupported_link_packets)
		fprintf(out, "  unsupported link type %" PRIu64 "\n", t->unsupported_link_packets);

	fprintf(out, "\ndarknet packets by class\n");
	for (i = 0; i < UMBRA_CLASS_MAX; i++)
		fprintf(out, "  %-12s %12" PRIu64 "  %5.1f%%\n", umbra_class_name(i),
			t->class_packets[i], pct(t->class_packets[i], t->darknet_packets));
	fprintf(out, "darknet packets by protocol\n");
	for (i = 0; i < UMBRA_PIDX_MAX; i++)
		fprintf(out, "  %-12s %12" PRIu64 "  %5.1f%%\n", umbra_proto_idx_name(i),
			t->proto_packets[i], pct(t->proto_packets[i], t->darknet_packets));

	k = top_n(t->tcp_dport, 65536, top, 10);
	fprintf(out, "top TCP destination ports\n");
	for (i = 0; i < k; i++)
		fprintf(out, "  %5u/tcp %12" PRIu64 "  %5.1f%%\n", top[i].port, top[i].packets,
			pct(top[i].packets, t->darknet_packets));
	k = top_n(t->udp_dport, 65536, top, 5);
	fprintf(out, "top UDP destination ports\n");
	for (i = 0; i < k; i++)
		fprintf(out, "  %5u/udp %12" PRIu64 "  %5.1f%%\n", top[i].port, top[i].packets,
			pct(top[i].packets, t->darknet_packets));

	fprintf(out, "flows by tag (scanner tools, source sanity)\n");
	for (i = UMBRA_TAG_BIT_FRAGMENT; i < UMBRA_TAG_BIT_MAX; i++) {
		const char *n = r->classify != NULL ? umbra_classify_tag_name(r->classify, i) :
						      umbra_tag_name(i);

		if (n != NULL && t->tag_flows[i] != 0)
			fprintf(out, "  %-12s %12" PRIu64 "  %5.1f%%\n", n, t->tag_flows[i],
				pct(t->tag_flows[i], t->flows_exported));
	}
	{
		struct umbra_top_sources ts;

		if (r->sources != NULL)
			ts = *r->sources;
		else
			umbra_stats_sources(&ts);
		fprintf(out, "top sources (packets in exported flows)\n");
		for (i = 0; i < ts.n && i < 10; i++) {
			char a[INET6_ADDRSTRLEN];

			fprintf(out, "  %-39s %12" PRIu64, umbra_top_source_text(&ts.e[i], a, sizeof(a)),
				ts.e[i].packets);
			if (ts.e[i].error != 0)
				fprintf(out, " (at least %" PRIu64 ")", ts.e[i].packets - ts.e[i].error);
			fputc('\n', out);
		}
	}
	fprintf(out, "\nflows    %12" PRIu64 " created, %" PRIu64 " exported, %" PRIu64
		" evicted (table full)\n",
		t->flows_created, t->flows_exported, t->flows_evicted);
	fprintf(out, "records  %12" PRIu64 " written in %" PRIu64 " files, %" PRIu64
		" bytes (%.1f bytes/record)\n",
		r->writer.records, r->writer.files, r->writer.bytes,
		r->writer.records ? (double)r->writer.bytes / (double)r->writer.records : 0.0);
	lost = t->records_dropped + r->writer.records_lost + r->port.imissed + r->port.rx_nombuf;
	fprintf(out, "\nlost     %s\n", lost == 0 ? "nothing" : "see below");
	fprintf(out, "  NIC missed (RX ring full)      %12" PRIu64 " packets\n", r->port.imissed);
	fprintf(out, "  NIC no mbuf                    %12" PRIu64 " packets\n", r->port.rx_nombuf);
	fprintf(out, "  worker->writer ring full       %12" PRIu64 " records (%" PRIu64
		" packets)\n", t->records_dropped, t->records_dropped_packets);
	fprintf(out, "  write errors (disk)            %12" PRIu64 " records\n",
		r->writer.records_lost);
	for (i = 0; i < r->nsinks; i++)
		fprintf(out, "  export %-8s (lost)          %12" PRIu64 " of %" PRIu64
			" records (%" PRIu64 " errors)\n",
			r->sink_name[i], r->sink[i].dropped, r->sink[i].records, r->sink[i].errors);
	fprintf(out, "  malformed, by reason:\n");
	for (i = 1; i < UMBRA_MAL_MAX; i++)
		if (t->malformed[i])
			fprintf(out, "    %-20s %12" PRIu64 "\n", umbra_malformed_name(i),
				t->malformed[i]);
	fprintf(out, "\ndumps    %s\n", r->cfg->out_dir);
}

void
umbra_report_status_line(const struct umbra_report *r, double rate_pps, FILE *out)
{
	const struct umbra_counters *t = r->total;
	uint64_t drops = t->records_dropped + r->port.imissed + r->port.rx_nombuf +
			 r->writer.records_lost;

	fprintf(out, "\r%10.0f pkt/s  darknet %5.1f%%  flows %9" PRIu64 "  records %11" PRIu64
		"  drops %" PRIu64 "   ",
		rate_pps, pct(t->darknet_packets, t->rx_packets), t->flows_active,
		r->writer.records, drops);
	fflush(out);
}

static pthread_mutex_t pub_lock = PTHREAD_MUTEX_INITIALIZER;
static struct umbra_report pub;
static struct umbra_counters *pub_total;
static struct umbra_top_sources sources_latest; /* from the writer */
static struct umbra_top_sources pub_sources;    /* in pub */

void
umbra_stats_publish_sources(const struct umbra_top_sources *s)
{
	pthread_mutex_lock(&pub_lock);
	sources_latest = *s;
	pthread_mutex_unlock(&pub_lock);
}

void
umbra_stats_sources(struct umbra_top_sources *out)
{
	pthread_mutex_lock(&pub_lock);
	*out = sources_latest;
	pthread_mutex_unlock(&pub_lock);
}

void
umbra_stats_publish(const struct umbra_report *r)
{
	pthread_mutex_lock(&pub_lock);
	if (pub_total == NULL || pub_total->nsensors_direct != r->total->nsensors_direct) {
		umbra_counters_free(pub_total);
		pub_total = umbra_counters_alloc(r->total->nsensors_direct);
	}
	if (pub_total != NULL) {
		uint64_t *direct = pub_total->sensor_direct;

		memcpy(pub_total, r->total, sizeof(*pub_total));
		pub_total->sensor_direct = direct;
		if (direct != NULL)
			memcpy(direct, r->total->sensor_direct,
			       2 * sizeof(uint64_t) * r->total->nsensors_direct);
		pub = *r;
		pub.total = pub_total;
		pub_sources = r->sources != NULL ? *r->sources : sources_latest;
		pub.sources = &pub_sources;
	}
	pthread_mutex_unlock(&pub_lock);
}

int
umbra_stats_read(void (*fn)(const struct umbra_report *r, void *arg), void *arg)
{
	int rc = -EAGAIN;

	pthread_mutex_lock(&pub_lock);
	if (pub.total != NULL) {
		fn(&pub, arg);
		rc = 0;
	}
	pthread_mutex_unlock(&pub_lock);
	return rc;
}
