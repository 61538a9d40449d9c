/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze COMMAND [options] PATH...
 *
 *   flows [--format csv|ndjson] [--filter EXPR]   one row per flow record
 *   stats [--format table|json]   totals, loss counters and damage
 *   top-ports, sources, sensors, surge, report, verify, recover:
 *   analyze-<command>.c; docs/ANALYZE.md describes them all.
 *
 * PATH is a dump file or a directory searched recursively for *.uz and
 * *.uz.partial. Exit status: 0 ok, 1 damage found (output still produced),
 * 2 usage error. Output is formatted by hand into a large buffer: printf
 * per field would dominate the run time on big dumps.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "analyze.h"
#include "umbra/dump.h"
#include "umbra/record.h"

#define NSEC 1000000000ull

/* ---- output buffer ---------------------------------------------------- */

static char obuf[1 << 16];
static size_t olen;

static void out_flush(void)
{
	if (olen)
		fwrite(obuf, 1, olen, stdout);
	olen = 0;
}

static inline void out_room(size_t n)
{
	if (olen + n > sizeof(obuf))
		out_flush();
}

static inline void out_mem(const char *s, size_t n)
{
	if (n > sizeof(obuf) / 2) {
		out_flush();
		fwrite(s, 1, n, stdout);
		return;
	}
	out_room(n);
	memcpy(obuf + olen, s, n);
	olen += n;
}

static inline void out_str(const char *s)
{
	out_mem(s, strlen(s));
}

static inline void out_ch(char c)
{
	out_room(1);
	obuf[olen++] = c;
}

static void out_u64(uint64_t v)
{
	char t[24];
	int k = 0;
	do {
		t[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	out_room((size_t)k);
	while (k)
		obuf[olen++] = t[--k];
}

/* RFC 3339 UTC with microseconds; the date part is cached per second */
static void out_time(uint64_t ns)
{
	static uint64_t cached_sec = UINT64_MAX;
	static char cached[24];
	uint64_t sec = ns / NSEC;
	if (sec != cached_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		if (!gmtime_r(&t, &tm) ||
		    !strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm))
			strcpy(cached, "9999-12-31T23:59:59");
		cached_sec = sec;
	}
	out_str(cached);
	unsigned us = (unsigned)(ns % NSEC / 1000);
	char f[9] = {'.', 0, 0, 0, 0, 0, 0, 'Z', 0};
	for (int i = 6; i >= 1; i--, us /= 10)
		f[i] = (char)('0' + us % 10);
	out_mem(f, 8);
}

static void out_addr(const struct umbra_flow_record *r, const uint8_t *a)
{
	char t[INET6_ADDRSTRLEN];
	inet_ntop(r->family == 6 ? AF_INET6 : AF_INET, a, t, sizeof(t));
	out_str(t);
}

static void out_json_str(const char *s)
{
	out_ch('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out_ch('\\');
			out_ch((char)c);
		} else if (c < 0x20 || c == 0x7f) {
			char t[8];
			snprintf(t, sizeof(t), "\\u%04x", c);
			out_str(t);
		} else {
			out_ch((char)c);
		}
	}
	out_ch('"');
}

static void out_csv_str(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		out_str(s);
		return;
	}
	out_ch('"');
	for (; *s; s++) {
		if (*s == '"')
			out_ch('"');
		out_ch(*s);
	}
	out_ch('"');
}

static const char *opt_name(unsigned kind, char *tmp)
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

/* p0f-style option layout: "mss,sok,ts,nop,ws" */
static void fmt_olayout(const struct umbra_flow_record *r, char *buf, size_t cap)
{
	size_t k = 0;
	unsigned n = r->syn_nopts < UMBRA_OLAYOUT_MAX ? r->syn_nopts : UMBRA_OLAYOUT_MAX;
	buf[0] = 0;
	for (unsigned i = 0; i < n && k + 8 < cap; i++) {
		char tmp[8];
		k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? "," : "",
				      opt_name(r->syn_olayout[i], tmp));
	}
}

/* the file being printed: its header names plugin tags, labels, signatures */
static const struct umbra_dump_reader *cur_rd;

/* name of a label/signature id: from the file, else the number; "" for 0 */
static const char *id_name(const char *n, unsigned id, char *tmp)
{
	if (n || !id)
		return n ? n : "";
	snprintf(tmp, 16, "%u", id);
	return tmp;
}

static const char *tag_name(unsigned bit, char *tmp)
{
	const char *n = umbra_dump_tag_name(cur_rd, bit);
	if (n)
		return n;
	snprintf(tmp, 16, "tag%u", bit);
	return tmp;
}

/* ---- flows ------------------------------------------------------------ */

enum fmt { FMT_DEFAULT, FMT_CSV, FMT_NDJSON, FMT_TABLE, FMT_JSON };

static const char csv_header[] =
	"first,last,src,dst,proto,sport,dport,packets,bytes,tcp_flags,ttl_min,"
	"ttl_max,tags,end_reason,ip_id,syn_window,syn_mss,syn_wscale,"
	"syn_olayout,sensor,p0f_label,signature\n";

static void flow_csv(const struct umbra_flow_record *r, const char *sensor)
{
	char tmp[16], ol[160];
	out_time(r->first_ns);
	out_ch(',');
	out_time(r->last_ns);
	out_ch(',');
	out_addr(r, r->src);
	out_ch(',');
	out_addr(r, r->dst);
	out_ch(',');
	const char *pn = umbra_proto_name(r->proto);
	if (pn)
		out_str(pn);
	else
		out_u64(r->proto);
	out_ch(',');
	out_u64(r->sport);
	out_ch(',');
	out_u64(r->dport);
	out_ch(',');
	out_u64(r->packets);
	out_ch(',');
	out_u64(r->bytes);
	out_ch(',');
	out_u64(r->tcp_flags);
	out_ch(',');
	out_u64(r->ttl_min);
	out_ch(',');
	out_u64(r->ttl_max);
	out_ch(',');
	int first = 1;
	for (unsigned b = 0; b < 32; b++)
		if (r->tags & (1u << b)) {
			if (!first)
				out_ch('|');
			out_str(tag_name(b, tmp));
			first = 0;
		}
	out_ch(',');
	const char *er = umbra_end_reason_name(r->end_reason);
	if (er)
		out_str(er);
	else
		out_u64(r->end_reason);
	out_ch(',');
	out_u64(r->ip_id);
	out_ch(',');
	out_u64(r->syn_window);
	out_ch(',');
	out_u64(r->syn_mss);
	out_ch(',');
	out_u64(r->syn_wscale);
	out_ch(',');
	fmt_olayout(r, ol, sizeof(ol));
	out_csv_str(ol);
	out_ch(',');
	out_str(sensor); /* pre-quoted */
	out_ch(',');
	out_csv_str(id_name(umbra_dump_label_name(cur_rd, r->p0f_label), r->p0f_label, tmp));
	out_ch(',');
	out_csv_str(id_name(umbra_dump_sig_name(cur_rd, r->sig_id), r->sig_id, tmp));
	out_ch('\n');
}

static void flow_json(const struct umbra_flow_record *r, const char *sensor)
{
	char tmp[16], ol[160];
	out_str("{\"first\":\"");
	out_time(r->first_ns);
	out_str("\",\"last\":\"");
	out_time(r->last_ns);
	out_str("\",\"src\":\"");
	out_addr(r, r->src);
	out_str("\",\"dst\":\"");
	out_addr(r, r->dst);
	out_str("\",\"proto\":");
	const char *pn = umbra_proto_name(r->proto);
	if (pn) {
		out_ch('"');
		out_str(pn);
		out_ch('"');
	} else {
		out_u64(r->proto);
	}
	out_str(",\"sport\":");
	out_u64(r->sport);
	out_str(",\"dport\":");
	out_u64(r->dport);
	out_str(",\"packets\":");
	out_u64(r->packets);
	out_str(",\"bytes\":");
	out_u64(r->bytes);
	out_str(",\"tcp_flags\":");
	out_u64(r->tcp_flags);
	out_str(",\"ttl_min\":");
	out_u64(r->ttl_min);
	out_str(",\"ttl_max\":");
	out_u64(r->ttl_max);
	out_str(",\"tags\":[");
	int first = 1;
	for (unsigned b = 0; b < 32; b++)
		if (r->tags & (1u << b)) {
			if (!first)
				out_ch(',');
			out_ch('"');
			out_str(tag_name(b, tmp));
			out_ch('"');
			first = 0;
		}
	out_str("],\"end_reason\":");
	const char *er = umbra_end_reason_name(r->end_reason);
	if (er) {
		out_ch('"');
		out_str(er);
		out_ch('"');
	} else {
		out_u64(r->end_reason);
	}
	out_str(",\"ip_id\":");
	out_u64(r->ip_id);
	out_str(",\"syn_window\":");
	out_u64(r->syn_window);
	out_str(",\"syn_mss\":");
	out_u64(r->syn_mss);
	out_str(",\"syn_wscale\":");
	out_u64(r->syn_wscale);
	out_str(",\"syn_olayout\":\"");
	fmt_olayout(r, ol, sizeof(ol));
	out_str(ol);
	out_str("\",\"sensor\":");
	out_str(sensor); /* pre-escaped */
	out_str(",\"p0f_label\":");
	if (r->p0f_label)
		out_json_str(id_name(umbra_dump_label_name(cur_rd, r->p0f_label),
				     r->p0f_label, tmp));
	else
		out_str("null");
	out_str(",\"signature\":");
	if (r->sig_id)
		out_json_str(id_name(umbra_dump_sig_name(cur_rd, r->sig_id), r->sig_id, tmp));
	else
		out_str("null");
	out_str("}\n");
}

/* ---- stats ------------------------------------------------------------ */

struct stats {
	uint64_t files, bad_files, blocks, records, packets, bytes;
	uint64_t first, last;
	uint64_t proto_rec[256], proto_pkt[256];
	uint64_t reason[256];
	uint64_t tag[32];
	uint64_t iv[12];
	uint64_t nintervals;
	uint64_t dmg_blocks, dmg_bytes;
};

static const char *const iv_names[12] = {"start_ns", "end_ns", "rx_packets",
	"darknet_packets", "not_darknet_packets", "malformed_packets",
	"rx_missed", "rx_nombuf", "ring_drops", "ring_drop_packets",
	"flows_evicted", "write_drops"};

static void stats_add(struct stats *s, const struct umbra_flow_record *r, long n)
{
	for (long i = 0; i < n; i++, r++) {
		s->packets += r->packets;
		s->bytes += r->bytes;
		if (r->first_ns < s->first)
			s->first = r->first_ns;
		if (r->last_ns > s->last)
			s->last = r->last_ns;
		s->proto_rec[r->proto]++;
		s->proto_pkt[r->proto] += r->packets;
		s->reason[r->end_reason]++;
		for (uint32_t t = r->tags; t; t &= t - 1)
			s->tag[__builtin_ctz(t)]++;
	}
	s->records += (uint64_t)n;
}

static void print_time_field(FILE *f, uint64_t ns, int json)
{
	olen = 0;
	out_time(ns);
	obuf[olen] = 0;
	fprintf(f, json ? "\"%s\"" : "%s", obuf);
	olen = 0;
}

static void stats_print(const struct stats *s, int json)
{
	FILE *f = stdout;
	char tmp[16];
	if (json) {
		fprintf(f, "{\"files\":%" PRIu64 ",\"bad_files\":%" PRIu64
			   ",\"blocks\":%" PRIu64 ",\"records\":%" PRIu64
			   ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"first\":",
			s->files, s->bad_files, s->blocks, s->records, s->packets,
			s->bytes);
		if (s->records)
			print_time_field(f, s->first, 1);
		else
			fputs("null", f);
		fputs(",\"last\":", f);
		if (s->records)
			print_time_field(f, s->last, 1);
		else
			fputs("null", f);
		fputs(",\"protocols\":{", f);
		int first = 1;
		for (int p = 0; p < 256; p++) {
			if (!s->proto_rec[p])
				continue;
			const char *pn = umbra_proto_name((unsigned)p);
			snprintf(tmp, sizeof(tmp), "%d", p);
			fprintf(f, "%s\"%s\":{\"records\":%" PRIu64 ",\"packets\":%" PRIu64 "}",
				first ? "" : ",", pn ? pn : tmp, s->proto_rec[p],
				s->proto_pkt[p]);
			first = 0;
		}
		fputs("},\"end_reasons\":{", f);
		first = 1;
		for (int e = 0; e < 256; e++) {
			if (!s->reason[e])
				continue;
			const char *en = umbra_end_reason_name((unsigned)e);
			snprintf(tmp, sizeof(tmp), "%d", e);
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", en ? en : tmp,
				s->reason[e]);
			first = 0;
		}
		fputs("},\"tags\":{", f);
		first = 1;
		for (unsigned b = 0; b < 32; b++) {
			if (!s->tag[b])
				continue;
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
				tag_name(b, tmp), s->tag[b]);
			first = 0;
		}
		fprintf(f, "},\"intervals\":%" PRIu64, s->nintervals);
		for (int i = 2; i < 12; i++)
			fprintf(f, ",\"%s\":%" PRIu64, iv_names[i], s->iv[i]);
		fprintf(f, ",\"damaged_blocks\":%" PRIu64 ",\"damaged_bytes\":%" PRIu64
			   "}\n",
			s->dmg_blocks, s->dmg_bytes);
		return;
	}
	fprintf(f, "%-22s %" PRIu64 "\n", "files", s->files);
	fprintf(f, "%-22s %" PRIu64 "\n", "unreadable files", s->bad_files);
	fprintf(f, "%-22s %" PRIu64 "\n", "blocks", s->blocks);
	fprintf(f, "%-22s %" PRIu64 "\n", "records", s->records);
	fprintf(f, "%-22s %" PRIu64 "\n", "packets", s->packets);
	fprintf(f, "%-22s %" PRIu64 "\n", "bytes", s->bytes);
	if (s->records) {
		fprintf(f, "%-22s ", "first");
		print_time_field(f, s->first, 0);
		fprintf(f, "\n%-22s ", "last");
		print_time_field(f, s->last, 0);
		fputc('\n', f);
	}
	fprintf(f, "\n%-10s %14s %14s\n", "proto", "records", "packets");
	for (int p = 0; p < 256; p++) {
		if (!s->proto_rec[p])
			continue;
		const char *pn = umbra_proto_name((unsigned)p);
		snprintf(tmp, sizeof(tmp), "%d", p);
		fprintf(f, "%-10s %14" PRIu64 " %14" PRIu64 "\n", pn ? pn : tmp,
			s->proto_rec[p], s->proto_pkt[p]);
	}
	fprintf(f, "\n%-10s %14s\n", "end_reason", "records");
	for (int e = 0; e < 256; e++) {
		if (!s->reason[e])
			continue;
		const char *en = umbra_end_reason_name((unsigned)e);
		snprintf(tmp, sizeof(tmp), "%d", e);
		fprintf(f, "%-10s %14" PRIu64 "\n", en ? en : tmp, s->reason[e]);
	}
	fprintf(f, "\n%-12s %12s\n", "tag", "records");
	for (unsigned b = 0; b < 32; b++)
		if (s->tag[b])
			fprintf(f, "%-12s %12" PRIu64 "\n", tag_name(b, tmp), s->tag[b]);
	fprintf(f, "\n%-22s %" PRIu64 "\n", "intervals", s->nintervals);
	for (int i = 2; i < 12; i++)
		fprintf(f, "%-22s %" PRIu64 "\n", iv_names[i], s->iv[i]);
	fprintf(f, "\n%-22s %" PRIu64 "\n", "damaged blocks", s->dmg_blocks);
	fprintf(f, "%-22s %" PRIu64 "\n", "damaged bytes", s->dmg_bytes);
}

static const char main_help[] =
	"usage: umbra-analyze COMMAND [options] PATH...\n"
	"commands:\n"
	"  flows      one row per flow record (--format csv|ndjson, --filter EXPR)\n"
	"  stats      totals, loss counters and damage (--format table|json)\n"
	"  top-ports  top destinations per sensor, group or overall\n"
	"  sources    distinct source addresses per named range per interval\n"
	"  sensors    average packets per sensor per day, by month and group\n"
	"  surge      source groups whose daily distinct sources jump\n"
	"  scanners   sources ranked by packets and sensors hit, with tags and tools\n"
	"  report     one self-contained HTML page with all of the above\n"
	"  verify     check every frame, checksum and index\n"
	"  recover    write a valid file with every intact block\n"
	"common options: --from T --to T --filter EXPR --threads N --format F\n"
	"  --sensors FILE --asn FILE --mmdb FILE --approx --verbose\n"
	"umbra-analyze COMMAND --help shows a command's options; docs/ANALYZE.md has them all.\n";

static const struct {
	const char *name;
	int (*fn)(int, char **);
} commands[] = {
	{"top-ports", analyze_top_ports}, {"sources", analyze_sources},
	{"sensors", analyze_sensors},     {"surge", analyze_surge},
	{"report", analyze_report},       {"verify", analyze_verify},
	{"recover", analyze_recover},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "umbra-analyze: missing command (see umbra-analyze --help)\n");
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "scanners") == 0) /* analyze-scanners.c */
		return analyze_scanners(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(main_help, stdout);
		return 0;
	}
	int is_flows = strcmp(cmd, "flows") == 0;
	if (!is_flows && strcmp(cmd, "stats") != 0) {
		fprintf(stderr, "umbra-analyze: unknown command: '%s' (see umbra-analyze --help)\n",
			cmd);
		return 2;
	}
	static const struct option own[] = {
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = cmd, .fmt = is_flows ? AN_FMT_CSV : AN_FMT_TABLE,
			    .fmt_allowed = is_flows ? (1u << AN_FMT_CSV | 1u << AN_FMT_NDJSON)
						    : (1u << AN_FMT_TABLE | 1u << AN_FMT_JSON)};
	struct option *lopts = an_options(own);
	if (!lopts)
		return 1;
	opterr = 0;
	optind = 2;
	int c, rc;
	while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: umbra-analyze %s [--format %s] [--filter EXPR] [--from T] "
			       "[--to T] PATH...\n",
			       cmd, is_flows ? "csv|ndjson" : "table|json");
			free(lopts);
			return 0;
		}
		rc = an_common_opt(&o, c, optarg);
		if (rc == 1)
			rc = an_usage(&o, "unknown or incomplete option", argv[optind - 1]);
		if (rc) {
			free(lopts);
			return rc;
		}
	}
	free(lopts);
	if (optind >= argc)
		return an_usage(&o, "no PATH given", NULL);
	if ((rc = an_opts_finish(&o)) != 0) {
		an_opts_free(&o);
		return rc;
	}
	enum fmt fmt = o.fmt == AN_FMT_CSV ? FMT_CSV : o.fmt == AN_FMT_NDJSON ? FMT_NDJSON :
		       o.fmt == AN_FMT_JSON ? FMT_JSON : FMT_TABLE;

	int damage = 0;
	struct analyze_paths in = {0};
	if (analyze_collect(&in, argc - optind, argv + optind) != 0)
		damage = 1;

	static char stdout_buf[1 << 20];
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	static struct stats s;
	s.first = UINT64_MAX;
	if (fmt == FMT_CSV)
		out_str(csv_header);

	for (size_t i = 0; i < in.n; i++) {
		struct umbra_dump_reader *r = umbra_dump_open(in.v[i]);
		if (!r) {
			fprintf(stderr, "umbra-analyze: %s: %s\n", in.v[i],
				errno == EPROTO ? "not an umbra dump" : strerror(errno));
			s.bad_files++;
			damage = 1;
			continue;
		}
		s.files++;
		cur_rd = r;
		if (o.window)
			umbra_dump_set_time_range(r, o.from_ns, o.to_ns);
		/* the sensor column, quoted once per file */
		const char *sn = umbra_dump_get_meta(r)->sensor_name;
		out_flush();
		size_t saved = olen;
		char sensor[600];
		if (fmt == FMT_NDJSON)
			out_json_str(sn);
		else
			out_csv_str(sn);
		size_t sl = olen - saved < sizeof(sensor) ? olen - saved : sizeof(sensor) - 1;
		memcpy(sensor, obuf + saved, sl);
		sensor[sl] = 0;
		olen = saved;

		const struct umbra_flow_record *recs;
		long n;
		while ((n = umbra_dump_next(r, &recs)) != 0) {
			if (n < 0) {
				damage = 1;
				if (n != -EBADMSG) {
					fprintf(stderr, "umbra-analyze: %s: %s\n",
						in.v[i], strerror((int)-n));
					break;
				}
				continue;
			}
			s.blocks++;
			if (o.window || o.filter) {
				/* only the records that pass */
				for (long k = 0; k < n; k++) {
					const struct umbra_flow_record *fr = &recs[k];
					if (fr->first_ns < o.from_ns || fr->first_ns >= o.to_ns ||
					    (o.filter && !an_filter_match(o.filter, fr, sn)))
						continue;
					if (fmt == FMT_CSV)
						flow_csv(fr, sensor);
					else if (fmt == FMT_NDJSON)
						flow_json(fr, sensor);
					else
						stats_add(&s, fr, 1);
				}
			} else if (fmt == FMT_CSV)
				for (long k = 0; k < n; k++)
					flow_csv(&recs[k], sensor);
			else if (fmt == FMT_NDJSON)
				for (long k = 0; k < n; k++)
					flow_json(&recs[k], sensor);
			else
				stats_add(&s, recs, n);
		}
		const struct umbra_interval *iv;
		size_t niv = umbra_dump_intervals(r, &iv);
		for (size_t k = 0; k < niv; k++) {
			const uint64_t *f = &iv[k].start_ns;
			for (int j = 2; j < 12; j++)
				s.iv[j] += f[j];
		}
		s.nintervals += niv;
		uint64_t db, dbytes;
		umbra_dump_damage(r, &db, &dbytes);
		if (db) {
			struct umbra_dump_damage_info di;
			fprintf(stderr, "umbra-analyze: %s: %" PRIu64
					" damaged block(s), %" PRIu64 " bytes skipped",
				in.v[i], db, dbytes);
			if (umbra_dump_last_damage(r, &di))
				fprintf(stderr, " (last at offset %" PRIu64 ": %s)", di.offset,
					di.what);
			fputc('\n', stderr);
			damage = 1;
		}
		s.dmg_blocks += db;
		s.dmg_bytes += dbytes;
		umbra_dump_close(r);
		free(in.v[i]);
	}
	free(in.v);
	an_opts_free(&o);
	out_flush();
	if (fmt == FMT_TABLE || fmt == FMT_JSON)
		stats_print(&s, fmt == FMT_JSON);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "umbra-analyze: write error: %s\n", strerror(errno));
		return 1;
	}
	return damage;
}
