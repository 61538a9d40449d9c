/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-top: a live view of a running engine, fed from its Prometheus
 * endpoint (umbra --metrics ADDR:PORT).
 *
 *   umbra-top [--metrics ADDR:PORT] [--interval SECONDS] [--once]
 *
 * Below the ports, sensors and tags: the top sources by packets, as the
 * engine's writer counts them (umbra_top_source_packets).
 *
 * Keys: q quits, p pauses, u switches the port table between TCP and UDP.
 * --once prints one frame as plain text and exits (scripts, no terminal).
 */
#include <curses.h>
#include <stdarg.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXS 8192
#define LINES_MAX 64
#define SOURCES_SHOWN 10

struct sample {
	char name[64];
	char labels[160];
	double v;
};

struct scrape {
	struct sample s[MAXS];
	unsigned n;
	double t; /* monotonic seconds */
	int ok;
};

static char *
http_get(const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	size_t len = 0, cap = 1 << 16;
	char *buf, req[256];
	int fd;

	if (getaddrinfo(host, port, &hints, &ai) != 0 || ai == NULL)
		return NULL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return NULL;
	}
	freeaddrinfo(ai);
	snprintf(req, sizeof(req), "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", host);
	if (write(fd, req, strlen(req)) < 0 || (buf = malloc(cap)) == NULL) {
		close(fd);
		return NULL;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (len + 1 >= cap) {
			char *nb = realloc(buf, cap * 2);

			if (nb == NULL)
				break;
			buf = nb;
			cap *= 2;
		}
		if (poll(&p, 1, 3000) != 1)
			break;
		r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
parse(char *text, struct scrape *sc)
{
	char *body = strstr(text, "\r\n\r\n"), *line, *save = NULL;

	sc->n = 0;
	sc->ok = body != NULL && strncmp(text, "HTTP/1.1 200", 12) == 0;
	if (!sc->ok)
		return;
	for (line = strtok_r(body + 4, "\n", &save); line != NULL && sc->n < MAXS;
	     line = strtok_r(NULL, "\n", &save)) {
		struct sample *s = &sc->s[sc->n];
		char *sp, *br;

		if (line[0] == '#' || (sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		s->v = strtod(sp + 1, NULL);
		s->labels[0] = '\0';
		if ((br = strchr(line, '{')) != NULL) {
			*br = '\0';
			snprintf(s->labels, sizeof(s->labels), "%.*s", (int)strcspn(br + 1, "}"),
				 br + 1);
		}
		snprintf(s->name, sizeof(s->name), "%s", line);
		sc->n++;
	}
}

static const struct sample *
find(const struct scrape *sc, const char *name, const char *labels)
{
	for (unsigned i = 0; i < sc->n; i++)
		if (!strcmp(sc->s[i].name, name) && !strcmp(sc->s[i].labels, labels ? labels : ""))
			return &sc->s[i];
	return NULL;
}

static double
val(const struct scrape *sc, const char *name, const char *labels)
{
	const struct sample *s = find(sc, name, labels);

	return s != NULL ? s->v : 0.0;
}

static double
sum(const struct scrape *sc, const char *name)
{
	double t = 0;

	for (unsigned i = 0; i < sc->n; i++)
		if (!strcmp(sc->s[i].name, name))
			t += sc->s[i].v;
	return t;
}

/* value of label key in "a=\"x\",b=\"y\"" */
static void
label(const char *labels, const char *key, char *out, size_t len)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "%s=\"", key);
	p = strstr(labels, pat);
	out[0] = '\0';
	if (p != NULL)
		snprintf(out, len, "%.*s", (int)strcspn(p + strlen(pat), "\""), p + strlen(pat));
}

/* The n largest samples of a metric (optionally with a label filter). */
static unsigned
top(const struct scrape *sc, const char *name, const char *must, const struct sample **out,
    unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < sc->n; i++) {
		const struct sample *s = &sc->s[i];
		unsigned j;

		if (strcmp(s->name, name) || s->v <= 0 || (must && !strstr(s->labels, must)))
			continue;
		if (k == n && s->v <= out[n - 1]->v)
			continue;
		j = k < n ? k++ : n - 1;
		while (j > 0 && out[j - 1]->v < s->v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = s;
	}
	return k;
}

struct view {
	char line[LINES_MAX][160];
	unsigned n;
};

static void
view_add(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
view_add(struct view *v, const char *fmt, ...)
{
	va_list ap;

	if (v->n >= LINES_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(v->line[v->n++], sizeof(v->line[0]), fmt, ap);
	va_end(ap);
}

static double
rate(const struct scrape *cur, const struct scrape *prev, const char *name)
{
	double dt = cur->t - prev->t;

	if (!prev->ok || dt <= 0)
		return 0.0;
	return (sum(cur, name) - sum(prev, name)) / dt;
}

/*
 * The engine's top sources, in its rank order. They count the packets of
 * flow records, which leave the flow table when a flow ends: a source
 * shows up one idle (or active) timeout after it sent.
 */
static void
sources(const struct scrape *cur, struct view *v)
{
	const struct sample *r[SOURCES_SHOWN] = { NULL };
	double total = val(cur, "umbra_exported_packets_total", NULL);
	unsigned i, k = 0;

	for (i = 0; i < cur->n; i++) {
		char rank[16];
		long n;

		if (strcmp(cur->s[i].name, "umbra_top_source_packets"))
			continue;
		label(cur->s[i].labels, "rank", rank, sizeof(rank));
		n = strtol(rank, NULL, 10);
		if (n >= 1 && n <= SOURCES_SHOWN)
			r[n - 1] = &cur->s[i];
	}
	view_add(v, "%s", "");
	view_add(v, "top sources by packets (a flow counts when it ends: lags the idle/active timeout)");
	view_add(v, "%3s  %-39s %12s %12s %7s", "#", "source", "packets", "at least", "share");
	for (i = 0; i < SOURCES_SHOWN; i++) {
		char a[64], low[32] = "";
		double err;

		if (r[i] == NULL)
			continue;
		label(r[i]->labels, "src", a, sizeof(a));
		err = val(cur, "umbra_top_source_error_packets", r[i]->labels);
		/* Space-Saving: the count is exact unless it inherited an error */
		if (err > 0)
			snprintf(low, sizeof(low), "%.0f", r[i]->v - err);
		view_add(v, "%3u  %-39s %12.0f %12s %6.1f%%", i + 1, a, r[i]->v, low,
			 total > 0 ? 100.0 * r[i]->v / total : 0.0);
		k++;
	}
	if (k == 0)
		view_add(v, "     (no flow has ended yet)");
}

static void
render(const struct scrape *cur, const struct scrape *prev, const char *target, int udp,
       struct view *v)
{
	const struct sample *t[10];
	char info[160], a[64], b[64];
	double rx = val(cur, "umbra_rx_packets_total", NULL);
	double dn = val(cur, "umbra_darknet_packets_total", NULL);
	unsigned k, i;

	v->n = 0;
	if (!cur->ok) {
		view_add(v, "umbra-top: no metrics from %s (is umbra running with --metrics?)", target);
		return;
	}
	info[0] = '\0';
	for (i = 0; i < cur->n; i++)
		if (!strcmp(cur->s[i].name, "umbra_info"))
			label(cur->s[i].labels, "sensor_name", info, sizeof(info));
	view_add(v, "umbra-top  %s  sensor %s  up %.0f s", target, info,
	      val(cur, "umbra_uptime_seconds", NULL));
	view_add(v, "rx %.0f pkt/s  darknet %.0f pkt/s  darknet share %.1f%%",
	      rate(cur, prev, "umbra_rx_packets_total"),
	      rate(cur, prev, "umbra_darknet_packets_total"), rx > 0 ? 100.0 * dn / rx : 0.0);
	view_add(v, "received %.0f  darknet %.0f  not darknet %.0f  malformed %.0f", rx, dn,
	      val(cur, "umbra_not_darknet_packets_total", NULL),
	      sum(cur, "umbra_malformed_packets_total"));
	view_add(v, "drops: nic missed %.0f  no mbuf %.0f  ring %.0f  write %.0f  export %.0f",
	      val(cur, "umbra_nic_missed_packets_total", NULL),
	      val(cur, "umbra_nic_nombuf_packets_total", NULL),
	      val(cur, "umbra_ring_dropped_records_total", NULL),
	      val(cur, "umbra_writer_lost_records_total", NULL),
	      sum(cur, "umbra_export_dropped_records_total"));
	view_add(v, "flows active %.0f / %.0f  evicted %.0f  records written %.0f",
	      val(cur, "umbra_flows_active", NULL), val(cur, "umbra_flow_table_capacity", NULL),
	      val(cur, "umbra_flows_evicted_total", NULL),
	      val(cur, "umbra_writer_records_total", NULL));
	view_add(v, "%s", "");
	view_add(v, "%-28s %-28s %s", udp ? "top UDP ports" : "top TCP ports", "top sensors",
	      "tags and tools (flows)");
	{
		const struct sample *ts[10], *tg[10];
		unsigned kp = top(cur, "umbra_dport_packets_total", udp ? "proto=\"udp\"" : "proto=\"tcp\"",
				  t, 10);
		unsigned ks = top(cur, "umbra_sensor_packets_total", NULL, ts, 10);
		unsigned kt = top(cur, "umbra_tag_flows_total", NULL, tg, 10);

		k = kp > ks ? kp : ks;
		k = k > kt ? k : kt;
		for (i = 0; i < k; i++) {
			char c1[40] = "", c2[60] = "", c3[40] = "";

			if (i < kp) {
				label(t[i]->labels, "port", a, sizeof(a));
				snprintf(c1, sizeof(c1), "%6.8s %12.0f", a, t[i]->v);
			}
			if (i < ks) {
				label(ts[i]->labels, "sensor", b, sizeof(b));
				snprintf(c2, sizeof(c2), "%-16.40s %10.0f", b, ts[i]->v);
			}
			if (i < kt) {
				label(tg[i]->labels, "tag", a, sizeof(a));
				snprintf(c3, sizeof(c3), "%-12.16s %10.0f", a, tg[i]->v);
			}
			view_add(v, "%-28s %-28s %s", c1, c2, c3);
		}
	}
	sources(cur, v);
	view_add(v, "%s", "");
	view_add(v, "q quit  p pause  u TCP/UDP ports");
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: umbra-top [--metrics ADDR:PORT] [--interval SECONDS] [--once]\n");
}

int
main(int argc, char **argv)
{
	static struct scrape a, b;
	struct scrape *cur = &a, *prev = &b;
	char target[160] = "127.0.0.1:9470", host[128], *port;
	double interval = 1.0;
	int once = 0, udp = 0, paused = 0, i;
	struct view v;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--metrics") && i + 1 < argc)
			snprintf(target, sizeof(target), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--interval") && i + 1 < argc)
			interval = atof(argv[++i]);
		else if (!strcmp(argv[i], "--once"))
			once = 1;
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (interval < 0.1)
		interval = 0.1;
	if (strlen(target) >= sizeof(host)) {
		fprintf(stderr, "umbra-top: bad --metrics '%s' (too long)\n", target);
		return 2;
	}
	memcpy(host, target, strlen(target) + 1);
	if ((port = strrchr(host, ':')) == NULL) {
		fprintf(stderr, "umbra-top: bad --metrics '%s' (expected ADDR:PORT)\n", target);
		return 2;
	}
	*port++ = '\0';
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = '\0';
	}

	if (once) {
		char *t = http_get(host, port);

		if (t == NULL) {
			fprintf(stderr, "umbra-top: cannot reach %s\n", target);
			return 1;
		}
		parse(t, cur);
		free(t);
		render(cur, prev, target, 0, &v);
		for (unsigned l = 0; l < v.n; l++)
			puts(v.line[l]);
		return cur->ok ? 0 : 1;
	}
	initscr();
	cbreak();
	noecho();
	curs_set(0);
	timeout(100);
	for (;;) {
		double next;
		int ch;

		if (!paused) {
			char *t = http_get(host, port);
			struct scrape *tmp = prev;

			prev = cur;
			cur = tmp;
			cur->t = mono();
			if (t != NULL) {
				parse(t, cur);
				free(t);
			} else {
				cur->ok = 0;
				cur->n = 0;
			}
			render(cur, prev, target, udp, &v);
			erase();
			for (unsigned l = 0; l < v.n && (int)l < LINES; l++)
				mvaddnstr((int)l, 0, v.line[l], COLS);
			if (paused)
				mvaddstr(LINES - 1, 0, "paused");
			refresh();
		}
		next = mono() + interval;
		while (mono() < next) {
			ch = getch();
			if (ch == 'q' || ch == 'Q') {
				endwin();
				return 0;
			}
			if (ch == 'p') {
				paused = !paused;
				mvaddstr(LINES - 1, 0, paused ? "paused" : "      ");
				refresh();
			}
			if (ch == 'u') {
				udp = !udp;
				render(cur, prev, target, udp, &v);
				erase();
				for (unsigned l = 0; l < v.n && (int)l < LINES; l++)
					mvaddnstr((int)l, 0, v.line[l], COLS);
				refresh();
			}
		}
	}
}
