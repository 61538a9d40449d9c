/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze report --html FILE: one self-contained page (inline CSS
 * and SVG, no script, nothing fetched) with the tables and charts of the
 * TSUBAME report: top ports per sensor, distinct sources per range over
 * time, packets per sensor per day by month and group, surging source
 * groups, tags and scanning tools, and loss per interval. Every aggregate
 * comes from one parallel pass over the dumps. The numbers behind the
 * charts are also embedded as JSON (<script type="application/json">,
 * which browsers do not run) in the formats of the matching commands.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze.h"
#include "analyze-cmds.h"
#include "analyze-top.h"

static const char *const palette[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
	"#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
};
#define NPAL (sizeof(palette) / sizeof(palette[0]))

/* ---- tags and intervals: a small consumer of its own ------------------------ */

struct tagagg {
	uint64_t rec[32], pkt[32];
	uint64_t records, packets;
	struct umbra_interval *iv;
	size_t niv, ivcap;
	const struct an_opts *o;
};

static void *tag_tls_new(void *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct tagagg));
}

static void tag_view(void *tls, const struct an_file *f, const struct umbra_block_view *v)
{
	struct tagagg *t = tls;
	(void)f;
	for (uint32_t i = 0; i < v->n; i++) {
		uint32_t tags = v->profiles[v->profile[i]].tags;
		t->records++;
		t->packets += v->packets[i];
		for (; tags; tags &= tags - 1) {
			unsigned b = (unsigned)__builtin_ctz(tags);
			t->rec[b]++;
			t->pkt[b] += v->packets[i];
		}
	}
}

static void tag_recs(void *tls, const struct an_file *f, const struct umbra_flow_record *r,
		     size_t n)
{
	struct tagagg *t = tls;
	(void)f;
	for (size_t i = 0; i < n; i++, r++) {
		t->records++;
		t->packets += r->packets;
		for (uint32_t tags = r->tags; tags; tags &= tags - 1) {
			unsigned b = (unsigned)__builtin_ctz(tags);
			t->rec[b]++;
			t->pkt[b] += r->packets;
		}
	}
}

static void tag_file(void *ctx, const struct an_file *f)
{
	struct tagagg *t = ctx;
	for (size_t i = 0; i < f->niv; i++) {
		const struct umbra_interval *iv = &f->iv[i];
		if (iv->end_ns <= t->o->from_ns || iv->start_ns >= t->o->to_ns)
			continue;
		if (t->niv == t->ivcap) {
			size_t c = t->ivcap ? 2 * t->ivcap : 64;
			struct umbra_interval *n = realloc(t->iv, c * sizeof(*n));
			if (!n)
				return;
			t->iv = n;
			t->ivcap = c;
		}
		t->iv[t->niv++] = *iv;
	}
}

static int tag_merge(void *ctx, void *tls)
{
	struct tagagg *t = ctx, *x = tls;
	for (int b = 0; b < 32; b++) {
		t->rec[b] += x->rec[b];
		t->pkt[b] += x->pkt[b];
	}
	t->records += x->records;
	t->packets += x->packets;
	free(x);
	return 0;
}

static int cmp_iv(const void *a, const void *b)
{
	const struct umbra_interval *x = a, *y = b;
	return x->start_ns < y->start_ns ? -1 : x->start_ns > y->start_ns;
}

/* ---- HTML and SVG helpers ---------------------------------------------------- */

static void esc(const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '&': fputs("&amp;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default: putchar(*s);
		}
	}
}

/* a "nice" axis maximum and step for values up to max */
static double nice_step(double max, int ticks)
{
	if (max <= 0)
		return 1;
	double raw = max / ticks, mag = pow(10, floor(log10(raw))), f = raw / mag;
	double nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
	return nf * mag;
}

#define CW 920.0
#define CH 300.0
#define ML 70.0
#define MR 20.0
#define MT 20.0
#define MB 50.0

static void y_axis(double ymax, double step, const char *label)
{
	for (double y = 0; y <= ymax + step / 2; y += step) {
		double py = MT + (CH - MT - MB) * (1 - y / ymax);
		printf("<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		       "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\">%g</text>\n",
		       ML, py, CW - MR, py, ML - 6, py + 4, y);
	}
	printf("<text x=\"14\" y=\"%.1f\" font-size=\"11\" transform=\"rotate(-90 14 %.1f)\" "
	       "text-anchor=\"middle\">",
	       MT + (CH - MT - MB) / 2, MT + (CH - MT - MB) / 2);
	esc(label);
	printf("</text>\n");
}

/* one polyline per series over n points; labels[i] under every k-th point */
static void svg_lines(size_t nser, char *const *names, size_t n, const double *val,
		      size_t stride, char (*xl)[24], const char *ylabel)
{
	double vmax = 0;
	for (size_t s = 0; s < nser; s++)
		for (size_t i = 0; i < n; i++)
			if (val[i * stride + s] > vmax)
				vmax = val[i * stride + s];
	double step = nice_step(vmax, 5), ymax = step * ceil(vmax / step);
	if (ymax <= 0)
		ymax = step;
	printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	       "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n",
	       CW, CH + 20.0 * (double)((nser + 5) / 6), CW, CH + 20.0 * (double)((nser + 5) / 6));
	printf("<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
	y_axis(ymax, step, ylabel);
	double pw = CW - ML - MR, ph = CH - MT - MB;
	size_t every = n > 12 ? (n + 11) / 12 : 1;
	for (size_t i = 0; i < n; i += every) {
		double px = ML + (n > 1 ? pw * (double)i / (double)(n - 1) : pw / 2);
		printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"10\">%s</text>\n",
		       px, CH - MB + 16, xl[i]);
	}
	for (size_t s = 0; s < nser; s++) {
		printf("<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
		       palette[s % NPAL]);
		for (size_t i = 0; i < n; i++) {
			double px = ML + (n > 1 ? pw * (double)i / (double)(n - 1) : pw / 2);
			double py = MT + ph * (1 - val[i * stride + s] / ymax);
			printf("%.1f,%.1f ", px, py);
		}
		printf("\"/>\n");
		double lx = ML + (double)(s % 6) * 140, ly = CH + 4 + 20.0 * (double)(s / 6);
		printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		       "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">",
		       lx, ly, palette[s % NPAL], lx + 16, ly + 11);
		esc(names[s]);
		printf("</text>\n");
	}
	printf("</svg>\n");
}

/* horizontal bars */
static void svg_hbars(size_t n, char (*labels)[64], const double *val, const char *unit)
{
	double vmax = 0;
	for (size_t i = 0; i < n; i++)
		if (val[i] > vmax)
			vmax = val[i];
	double h = 24.0 * (double)n + 30;
	printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	       "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n<rect width=\"100%%\" height=\"100%%\" "
	       "fill=\"#fff\"/>\n",
	       CW, h, CW, h);
	for (size_t i = 0; i < n; i++) {
		double w = vmax > 0 ? (CW - 360) * val[i] / vmax : 0;
		double y = 10 + 24.0 * (double)i;
		printf("<text x=\"150\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\">", y + 14);
		esc(labels[i]);
		printf("</text><rect x=\"160\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
		       "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%.2f %s</text>\n",
		       y, w < 1 && val[i] > 0 ? 1 : w, palette[0], 166 + w, y + 14, val[i], unit);
	}
	printf("</svg>\n");
}

/* grouped vertical bars: nx clusters of ng bars, val[x * ng + g] */
static void svg_gbars(size_t nx, char (*xl)[24], size_t ng, char *const *gnames,
		      const double *val, const char *ylabel)
{
	double vmax = 0;
	for (size_t i = 0; i < nx * ng; i++)
		if (val[i] > vmax)
			vmax = val[i];
	double step = nice_step(vmax, 5), ymax = step * ceil(vmax / step);
	if (ymax <= 0)
		ymax = step;
	printf("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	       "viewBox=\"0 0 %.0f %.0f\" role=\"img\">\n<rect width=\"100%%\" height=\"100%%\" "
	       "fill=\"#fff\"/>\n",
	       CW, CH + 24, CW, CH + 24);
	y_axis(ymax, step, ylabel);
	double pw = CW - ML - MR, ph = CH - MT - MB;
	double cw = nx ? pw / (double)nx : pw, bw = cw * 0.8 / (double)(ng ? ng : 1);
	for (size_t x = 0; x < nx; x++) {
		double x0 = ML + cw * (double)x + cw * 0.1;
		for (size_t g = 0; g < ng; g++) {
			double v = val[x * ng + g], bh = ph * v / ymax;
			printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			       "<title>%.2f</title></rect>\n",
			       x0 + bw * (double)g, MT + ph - bh, bw * 0.95, bh, palette[g % NPAL], v);
		}
		printf("<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\">%s</text>\n",
		       x0 + cw * 0.4, CH - MB + 16, xl[x]);
	}
	for (size_t g = 0; g < ng; g++) {
		double lx = ML + (double)g * 160;
		printf("<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>"
		       "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">",
		       lx, CH + 4, palette[g % NPAL], lx + 16, CH + 15);
		esc(gnames[g]);
		printf("</text>\n");
	}
	printf("</svg>\n");
}

/* ---- sections --------------------------------------------------------------------- */

static void section_top(const struct an_top_result *t, long top, long max_sensors)
{
	char d[32], a[64];
	size_t ns = t->nsensors < (size_t)max_sensors ? t->nsensors : (size_t)max_sensors;

	printf("<h2>Top destinations</h2>\n<p>%zu sensors, %" PRIu64
	       " packets. Destinations ranked by average packets per sensor.</p>\n",
	       t->all.sensors, t->all.packets);
	size_t n = t->all.nrows < (size_t)top ? t->all.nrows : (size_t)top;
	char(*lab)[64] = calloc(n + 1, sizeof(*lab));
	double *v = calloc(n + 1, sizeof(*v));
	if (lab && v) {
		for (size_t i = 0; i < n; i++) {
			an_dest_name(t->all.rows[i].dest, lab[i], sizeof(lab[i]));
			v[i] = (double)t->all.rows[i].packets / (double)t->all.sensors;
		}
		svg_hbars(n, lab, v, "pkts/sensor");
	}
	free(lab);
	free(v);

	printf("<h2>Top %ld destinations per sensor</h2>\n<p>The %zu sensors with the most packets "
	       "(of %zu).</p>\n<div class=\"scroll\"><table class=\"top\">\n<tr><th>#</th>",
	       top, ns, t->nsensors);
	for (size_t s = 0; s < ns; s++) {
		an_addr_text(t->sensors[s].addr, t->sensors[s].family, a, sizeof(a));
		printf("<th>");
		esc(a);
		if (t->sensors[s].label) {
			printf("<br>");
			esc(t->sensors[s].label);
		}
		printf("<br><span class=\"g\">");
		esc(t->sensors[s].group);
		printf("</span></th>");
	}
	printf("</tr>\n");
	for (long r = 0; r < top; r++) {
		printf("<tr><td>%ld</td>", r + 1);
		for (size_t s = 0; s < ns; s++) {
			const struct an_top_sensor *x = &t->sensors[s];
			if ((size_t)r < x->nrows) {
				an_dest_name(x->rows[r].dest, d, sizeof(d));
				printf("<td class=\"p%u\">%s<br><span class=\"n\">%" PRIu64 "</span></td>",
				       (x->rows[r].dest >> 16) & 0xff, d, x->rows[r].packets);
			} else {
				printf("<td></td>");
			}
		}
		printf("</tr>\n");
	}
	printf("</table></div>\n");
}

static void section_sources(const struct an_sources_result *r, const char *what)
{
	printf("<h2>Distinct source addresses per range</h2>\n<p>%s, per %" PRIu64 " s.</p>\n",
	       what, (uint64_t)(r->interval_ns / AN_NSEC));
	if (!r->nbins || !r->nranges) {
		printf("<p>No sources in the ranges.</p>\n");
		return;
	}
	char(*xl)[24] = calloc(r->nbins, sizeof(*xl));
	if (!xl)
		return;
	for (uint64_t b = 0; b < r->nbins; b++)
		an_fmt_date((r->first_bin + b) * r->interval_ns, xl[b], sizeof(xl[b]));
	svg_lines(r->nranges, r->names, r->nbins, r->count, r->nranges, xl, "distinct sources");
	free(xl);
}

static void section_sensors(const struct an_sensors_result *r)
{
	printf("<h2>Average packets per sensor per day, by month</h2>\n"
	       "<p>Only the days each sensor's host was capturing count.</p>\n");
	if (!r->nrows) {
		printf("<p>No data.</p>\n");
		return;
	}
	/* months across all groups */
	unsigned lo = UINT32_MAX, hi = 0;
	for (size_t i = 0; i < r->nrows; i++) {
		if (r->rows[i].period < lo)
			lo = r->rows[i].period;
		if (r->rows[i].period > hi)
			hi = r->rows[i].period;
	}
	size_t nx = hi - lo + 1 > 48 ? 48 : hi - lo + 1;
	char(*xl)[24] = calloc(nx, sizeof(*xl));
	double *v = calloc(nx * (r->ngroups ? r->ngroups : 1), sizeof(*v));
	if (xl && v) {
		for (size_t x = 0; x < nx; x++)
			an_fmt_month(lo + (unsigned)x, xl[x], sizeof(xl[x]));
		for (size_t i = 0; i < r->nrows; i++) {
			size_t g = 0;
			while (g < r->ngroups && strcmp(r->groups[g], r->rows[i].group) != 0)
				g++;
			if (r->rows[i].period - lo < nx && g < r->ngroups)
				v[(r->rows[i].period - lo) * r->ngroups + g] = r->rows[i].avg;
		}
		svg_gbars(nx, xl, r->ngroups, r->groups, v, "packets / sensor / day");
	}
	free(xl);
	free(v);
	printf("<table><tr><th>group</th><th>month</th><th>sensors</th><th>sensor-days</th>"
	       "<th>packets</th><th>avg / sensor / day</th></tr>\n");
	for (size_t i = 0; i < r->nrows; i++) {
		char m[16];
		an_fmt_month(r->rows[i].period, m, sizeof(m));
		printf("<tr><td>");
		esc(r->rows[i].group);
		printf("</td><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		       "</td><td>%.2f</td></tr>\n",
		       m, r->rows[i].sensors, r->rows[i].units, r->rows[i].packets, r->rows[i].avg);
	}
	printf("</table>\n");
}

static void section_surge(const struct an_surge_result *r, const char *group, const char *port)
{
	char d1[16], d2[16];
	printf("<h2>Surging source groups</h2>\n<p>Groups (%s)%s%s whose distinct sources per day "
	       "jumped against their trailing week.</p>\n",
	       group, port ? " sending to " : "", port ? port : "");
	if (!r->nrows) {
		printf("<p>None.</p>\n");
		return;
	}
	printf("<table><tr><th>#</th><th>group</th><th>start</th><th>sources</th><th>baseline</th>"
	       "<th>factor</th><th>peak day</th><th>peak</th></tr>\n");
	for (size_t i = 0; i < r->nrows && i < 50; i++) {
		const struct an_surge_row *x = &r->rows[i];
		an_fmt_date((uint64_t)x->start_day * AN_DAY_NS, d1, sizeof(d1));
		an_fmt_date((uint64_t)x->peak_day * AN_DAY_NS, d2, sizeof(d2));
		printf("<tr><td>%zu</td><td>", i + 1);
		esc(x->group);
		printf("</td><td>%s</td><td>%" PRIu64 "</td><td>%.2f</td><td>%.1f</td><td>%s</td>"
		       "<td>%" PRIu64 "</td></tr>\n",
		       d1, x->sources, x->baseline, x->factor, d2, x->peak_sources);
	}
	printf("</table>\n");
}

static void section_tags(const struct tagagg *t)
{
	char(*lab)[64] = calloc(32, sizeof(*lab));
	double *v = calloc(32, sizeof(*v));
	size_t n = 0;
	printf("<h2>Tags and scanning tools</h2>\n<p>%" PRIu64 " flow records, %" PRIu64
	       " packets.</p>\n<table><tr><th>tag</th><th>records</th><th>packets</th>"
	       "<th>share of packets</th></tr>\n",
	       t->records, t->packets);
	for (unsigned b = 0; b < 32; b++) {
		if (!t->rec[b])
			continue;
		char tmp[16];
		const char *name = umbra_tag_name(b);
		if (!name) {
			snprintf(tmp, sizeof(tmp), "tag%u", b);
			name = tmp;
		}
		printf("<tr><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%.2f%%</td></tr>\n",
		       name, t->rec[b], t->pkt[b],
		       t->packets ? 100.0 * (double)t->pkt[b] / (double)t->packets : 0.0);
		if (lab && v) {
			snprintf(lab[n], sizeof(lab[n]), "%s", name);
			v[n++] = t->packets ? 100.0 * (double)t->pkt[b] / (double)t->packets : 0.0;
		}
	}
	printf("</table>\n");
	if (n)
		svg_hbars(n, lab, v, "% of packets");
	free(lab);
	free(v);
}

static void section_loss(const struct tagagg *t)
{
	uint64_t rx = 0, missed = 0, nombuf = 0, ringp = 0, wdrop = 0, lossy = 0;
	for (size_t i = 0; i < t->niv; i++) {
		const struct umbra_interval *x = &t->iv[i];
		rx += x->rx_packets;
		missed += x->rx_missed;
		nombuf += x->rx_nombuf;
		ringp += x->ring_drop_packets;
		wdrop += x->write_drops;
		lossy += (x->rx_missed | x->rx_nombuf | x->ring_drops | x->write_drops) != 0;
	}
	printf("<h2>Loss per interval</h2>\n<p>%zu intervals, %" PRIu64 " frames received; lost: %"
	       PRIu64 " missed by the NIC, %" PRIu64 " without mbuf, %" PRIu64
	       " packets in records dropped on full rings, %" PRIu64
	       " records lost to failed writes. %" PRIu64 " interval(s) with loss.</p>\n",
	       t->niv, rx, missed, nombuf, ringp, wdrop, lossy);
	if (!t->niv)
		return;
	/* at most 400 points: intervals are merged into equal time slices */
	uint64_t lo = t->iv[0].start_ns, hi = 0;
	for (size_t i = 0; i < t->niv; i++)
		if (t->iv[i].end_ns > hi)
			hi = t->iv[i].end_ns;
	size_t nb = t->niv < 400 ? t->niv : 400;
	double *v = calloc(nb * 2, sizeof(*v));
	char(*xl)[24] = calloc(nb, sizeof(*xl));
	char *names[2] = {"received", "lost"};
	if (v && xl && hi > lo) {
		double span = (double)(hi - lo) / (double)nb;
		for (size_t i = 0; i < t->niv; i++) {
			size_t b = (size_t)((double)(t->iv[i].start_ns - lo) / span);
			if (b >= nb)
				b = nb - 1;
			v[b * 2] += (double)t->iv[i].rx_packets;
			v[b * 2 + 1] += (double)(t->iv[i].rx_missed + t->iv[i].rx_nombuf +
						 t->iv[i].ring_drop_packets);
		}
		for (size_t b = 0; b < nb; b++)
			an_fmt_date(lo + (uint64_t)(span * (double)b), xl[b], sizeof(xl[b]));
		svg_lines(2, names, nb, v, 2, xl, "frames");
	}
	free(v);
	free(xl);
	printf("<table><tr><th>interval start</th><th>end</th><th>received</th><th>rx missed</th>"
	       "<th>rx no mbuf</th><th>ring drops (packets)</th><th>write drops</th></tr>\n");
	size_t shown = 0;
	for (size_t i = 0; i < t->niv && shown < 30; i++) {
		const struct umbra_interval *x = &t->iv[i];
		if (lossy && !(x->rx_missed | x->rx_nombuf | x->ring_drops | x->write_drops))
			continue;
		char a[40], b[40];
		an_fmt_time(x->start_ns, a, sizeof(a));
		an_fmt_time(x->end_ns, b, sizeof(b));
		printf("<tr><td>%s</td><td>%s</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td><td>%" PRIu64
		       "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n",
		       a, b, x->rx_packets, x->rx_missed, x->rx_nombuf, x->ring_drop_packets,
		       x->write_drops);
		shown++;
	}
	printf("</table>\n");
}

/* ---- command ------------------------------------------------------------------------ */

static const char report_help[] =
	"usage: umbra-analyze report --html FILE [--ranges FILE] [--port 23/tcp] [-n N]\n"
	"           [--max-sensors K] [--group /24|ranges FILE|asn] [--title TEXT]\n"
	"           [--sensors FILE] [--asn FILE] [--mmdb FILE] [--from T] [--to T]\n"
	"           [--filter EXPR] [--threads N] PATH...\n"
	"One self-contained HTML page (inline SVG, no network access).\n";

struct report_args {
	struct an_opts *o;
	const char *html, *ranges, *port, *group, *title;
	uint64_t top, max_sensors;
};

static int report_opt(void *arg, int c, const char *v)
{
	struct report_args *a = arg;
	switch (c) {
	case 'H':
		a->html = v;
		return 0;
	case 'r':
		a->ranges = v;
		return 0;
	case 'p':
		a->port = v;
		return 0;
	case 'g':
		a->group = v;
		return 0;
	case 't':
		a->title = v;
		return 0;
	case 'n':
		if (an_parse_uint(v, 100, &a->top) < 0 || !a->top)
			return an_usage(a->o, "bad value for -n (1-100)", v);
		return 0;
	case 'm':
		if (an_parse_uint(v, 1000, &a->max_sensors) < 0 || !a->max_sensors)
			return an_usage(a->o, "bad value for --max-sensors (1-1000)", v);
		return 0;
	}
	return 1;
}

static const char css[] =
	"body{font-family:sans-serif;margin:24px;color:#222;background:#fff}"
	"h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ccc}"
	"table{border-collapse:collapse;font-size:12px;margin:8px 0}"
	"td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
	"th{background:#eef}table.top td{text-align:center}.n{color:#666;font-size:10px}"
	".g{color:#555;font-weight:normal}.scroll{overflow-x:auto}"
	".p6{background:#e8f0ff}.p17{background:#fff4e0}.p1{background:#e8ffe8}"
	".p58{background:#f4e8ff}";

int analyze_report(int argc, char **argv)
{
	static const struct option own[] = {
		{"html", required_argument, NULL, 'H'},
		{"ranges", required_argument, NULL, 'r'},
		{"port", required_argument, NULL, 'p'},
		{"group", required_argument, NULL, 'g'},
		{"title", required_argument, NULL, 't'},
		{"max-sensors", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct an_opts o = {.cmd = "report", .fmt = AN_FMT_TABLE, .fmt_allowed = 1u << AN_FMT_TABLE};
	struct report_args a = {.o = &o, .group = "/24", .top = 10, .max_sensors = 16,
				.title = "umbra darknet report"};
	int rc = an_parse_args(&o, argc, argv, own, "n:", report_opt, &a, report_help);
	if (rc)
		return an_opts_free(&o), rc < 0 ? 0 : rc;
	if (!a.html)
		return an_opts_free(&o), an_usage(&o, "--html FILE is required", NULL);

	int proto = 0, port = -1;
	if (a.port && an_parse_portspec(a.port, &proto, &port) < 0)
		return an_opts_free(&o), an_usage(&o, "bad value for --port (23/tcp, 53/udp, icmp)",
						   a.port);
	struct an_ranges ranges = {0};
	struct an_grouper g = {0};
	int have_ranges = 0, have_g = 0;
	struct an_top_cells cells = {0};
	struct an_names engines = {0};
	struct an_sources *src = NULL;
	struct an_sensorsagg *sen = NULL;
	struct an_surge *sur = NULL;
	struct tagagg tags = {.o = &o};
	struct an_sources_result sres = {0};
	struct an_sensors_result eres = {0};
	struct an_surge_result ures = {0};
	struct an_top_result tres = {0};
	int have_top = 0, fd = -1, saved = -1;

	if (a.ranges) {
		if (an_ranges_load(&ranges, a.ranges, o.cmd) < 0) {
			rc = 2;
			goto out;
		}
		have_ranges = 1;
	}
	if ((rc = an_grouper_init(&g, &o, a.group, a.ranges)) != 0)
		goto out;
	have_g = 1;
	struct an_sources_cfg scfg = {.ranges = &ranges, .proto = proto, .port = port,
				      .interval_ns = AN_DAY_NS, .approx = o.approx};
	struct an_sensors_cfg ecfg = {.unit_ns = AN_DAY_NS, .by_month = 1};
	struct an_surge_cfg ucfg = {.proto = proto, .port = port, .g = &g, .baseline_days = 7,
				    .factor = 5.0, .min_sources = 10};
	struct an_consumer cons[5];
	size_t nc = 0;
	an_top_consumer(&cons[nc++], &cells);
	if (!(sen = an_sensorsagg_new(&ecfg, &o)) || !(sur = an_surge_new(&ucfg)) ||
	    (have_ranges && !(src = an_sources_new(&scfg)))) {
		rc = -ENOMEM;
		goto out;
	}
	an_sensorsagg_consumer(sen, &cons[nc++]);
	an_surge_consumer(sur, &cons[nc++]);
	if (src)
		an_sources_consumer(src, &cons[nc++]);
	cons[nc] = (struct an_consumer){.ctx = &tags,
					 .cols = UMBRA_COL_PACKETS | UMBRA_COL_PROFILE,
					 .tls_new = tag_tls_new, .view = tag_view, .recs = tag_recs,
					 .file = tag_file, .merge = tag_merge, .intervals = 1};
	nc++;
	struct an_scan_stats st;
	rc = an_scan(&o, argc - optind, argv + optind, cons, nc, &engines, &st);
	if (rc < 0)
		goto out;
	int k = an_top_build(&tres, &cells, &engines, o.sensors, 0, (size_t)a.top);
	have_top = k == 0;
	if (k == 0)
		k = an_sensorsagg_build(sen, &o, &engines, &eres);
	if (k == 0)
		k = an_surge_build(sur, &o, &ures);
	if (k == 0 && src)
		k = an_sources_build(src, &o, &sres);
	if (k < 0) {
		rc = k;
		goto out;
	}
	an_qsort(tags.iv, tags.niv, sizeof(*tags.iv), cmp_iv);

	/* write the page through stdout, so the command printers serve as-is */
	fflush(stdout);
	fd = strcmp(a.html, "-") == 0 ? -1 :
		open(a.html, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (strcmp(a.html, "-") != 0) {
		if (fd < 0 || (saved = dup(1)) < 0 || dup2(fd, 1) < 0) {
			fprintf(stderr, "umbra-analyze report: %s: %s\n", a.html, strerror(errno));
			rc = 1;
			goto out;
		}
	}
	char t1[40] = "-", t2[40] = "-";
	uint64_t first = UINT64_MAX, last = 0;
	for (size_t i = 0; i < tags.niv; i++) {
		if (tags.iv[i].start_ns < first)
			first = tags.iv[i].start_ns;
		if (tags.iv[i].end_ns > last)
			last = tags.iv[i].end_ns;
	}
	if (o.window) {
		first = o.from_ns;
		last = o.to_ns;
	}
	if (first != UINT64_MAX)
		an_fmt_time(first, t1, sizeof(t1));
	if (last && last != UINT64_MAX)
		an_fmt_time(last, t2, sizeof(t2));
	printf("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	       "<meta name=\"generator\" content=\"umbra-analyze " UMBRA_VERSION "\"><title>");
	esc(a.title);
	printf("</title><style>%s</style></head><body>\n<h1>", css);
	esc(a.title);
	printf("</h1>\n<p>%" PRIu64 " dump files from %zu sensor host(s), %" PRIu64
	       " flow records, %s to %s.</p>\n",
	       st.files, engines.n, st.records_matched, t1, t2);
	if (o.filter_text) {
		printf("<p>Filter: <code>");
		esc(o.filter_text);
		printf("</code></p>\n");
	}
	section_top(&tres, (long)a.top, (long)a.max_sensors);
	if (src) {
		char what[128];
		snprintf(what, sizeof(what), "Ranges from %s%s%s", a.ranges, a.port ? ", to " : "",
			 a.port ? a.port : "");
		section_sources(&sres, what);
	}
	section_sensors(&eres);
	section_surge(&ures, a.group, a.port);
	section_tags(&tags);
	section_loss(&tags);

	/* the numbers, in the formats of the commands */
	printf("<script type=\"application/json\" id=\"umbra-top-ports\">\n");
	an_top_print(&tres, (long)a.top, 0, 1, 0, AN_FMT_JSON);
	printf("</script>\n<script type=\"application/json\" id=\"umbra-top-overall\">\n");
	an_top_print(&tres, (long)a.top, 0, 0, 0, AN_FMT_JSON);
	printf("</script>\n<script type=\"application/json\" id=\"umbra-sensors\">\n");
	an_sensors_print(&eres, &ecfg, AN_FMT_JSON, "month");
	printf("</script>\n<script type=\"application/json\" id=\"umbra-surge\">\n");
	an_surge_print(&ures, &ucfg, AN_FMT_JSON, a.port, a.group, 0);
	if (src) {
		printf("</script>\n<script type=\"application/json\" id=\"umbra-sources\">\n");
		an_sources_print(&sres, AN_FMT_JSON, a.port, o.approx);
	}
	printf("</script>\n</body></html>\n");
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rc = 1;
		fprintf(stderr, "umbra-analyze report: %s: write error\n", a.html);
	}
out:
	if (saved >= 0) {
		dup2(saved, 1);
		close(saved);
	}
	if (fd >= 0 && close(fd) < 0)
		rc = 1;
	if (rc < 0) {
		fprintf(stderr, "umbra-analyze report: %s\n", strerror(-rc));
		rc = 1;
	}
	if (have_top)
		an_top_result_free(&tres);
	an_sources_free(src, &sres);
	an_sensorsagg_free(sen, &eres);
	an_surge_free(sur, &ures);
	free(tags.iv);
	if (have_g)
		an_grouper_free(&g);
	if (have_ranges)
		an_ranges_free(&ranges);
	an_top_cells_free(&cells);
	an_names_free(&engines);
	an_opts_free(&o);
	return rc;
}
