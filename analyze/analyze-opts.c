/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze: options every command shares (--from, --to, --threads,
 * --filter, --format, --sensors, --asn, --mmdb, --approx, --verbose), and
 * the small parsers and formatters behind them.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze.h"
#include "analyze-cmds.h"

enum {
	O_FROM = AN_OPT_BASE,
	O_TO,
	O_THREADS,
	O_FILTER,
	O_FORMAT,
	O_SENSORS,
	O_ASN,
	O_MMDB,
	O_APPROX,
	O_VERBOSE,
};

const struct option an_common_lopts[] = {
	{"from", required_argument, NULL, O_FROM},
	{"to", required_argument, NULL, O_TO},
	{"threads", required_argument, NULL, O_THREADS},
	{"filter", required_argument, NULL, O_FILTER},
	{"format", required_argument, NULL, O_FORMAT},
	{"sensors", required_argument, NULL, O_SENSORS},
	{"asn", required_argument, NULL, O_ASN},
	{"mmdb", required_argument, NULL, O_MMDB},
	{"approx", no_argument, NULL, O_APPROX},
	{"verbose", no_argument, NULL, O_VERBOSE},
	{NULL, 0, NULL, 0},
};

struct option *an_options(const struct option *own)
{
	size_t a = 0, b = 0;
	while (own[a].name)
		a++;
	while (an_common_lopts[b].name)
		b++;
	struct option *o = calloc(a + b + 1, sizeof(*o));
	if (!o)
		return NULL;
	memcpy(o, own, a * sizeof(*o));
	memcpy(o + a, an_common_lopts, (b + 1) * sizeof(*o));
	return o;
}

int an_usage(const struct an_opts *o, const char *msg, const char *what)
{
	if (what)
		fprintf(stderr, "umbra-analyze %s: %s: '%s' (see umbra-analyze %s --help)\n",
			o->cmd, msg, what, o->cmd);
	else
		fprintf(stderr, "umbra-analyze %s: %s (see umbra-analyze %s --help)\n",
			o->cmd, msg, o->cmd);
	return 2;
}

int an_parse_uint(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -1;
	*v = x;
	return 0;
}

static int fmt_from_text(const char *s, enum an_fmt *f)
{
	static const char *const names[] = {
		[AN_FMT_TABLE] = "table", [AN_FMT_CSV] = "csv",
		[AN_FMT_JSON] = "json", [AN_FMT_NDJSON] = "ndjson",
	};
	for (int i = AN_FMT_TABLE; i <= AN_FMT_NDJSON; i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum an_fmt)i;
			return 0;
		}
	return -1;
}

int an_common_opt(struct an_opts *o, int c, const char *arg)
{
	uint64_t v;

	switch (c) {
	case O_FROM:
		if (an_parse_time(arg, &o->from_ns) < 0)
			return an_usage(o, "bad value for --from", arg);
		o->window = 1;
		return 0;
	case O_TO:
		if (an_parse_time(arg, &o->to_ns) < 0)
			return an_usage(o, "bad value for --to", arg);
		o->window = 1;
		return 0;
	case O_THREADS:
		if (an_parse_uint(arg, 1024, &v) < 0 || v == 0)
			return an_usage(o, "bad value for --threads", arg);
		o->threads = (unsigned)v;
		return 0;
	case O_FILTER:
		o->filter_text = arg;
		return 0;
	case O_FORMAT: {
		enum an_fmt f;
		if (fmt_from_text(arg, &f) < 0 || !(o->fmt_allowed & (1u << f)))
			return an_usage(o, "bad value for --format", arg);
		o->fmt = f;
		return 0;
	}
	case O_SENSORS:
		o->sensors_path = arg;
		return 0;
	case O_ASN:
		o->asn_path = arg;
		return 0;
	case O_MMDB:
		o->mmdb_path = arg;
		return 0;
	case O_APPROX:
		o->approx = 1;
		return 0;
	case O_VERBOSE:
		o->verbose = 1;
		return 0;
	default:
		return 1;
	}
}

int an_opts_finish(struct an_opts *o)
{
	if (o->window && !o->to_ns)
		o->to_ns = UINT64_MAX; /* --from only */
	if (o->window && o->to_ns <= o->from_ns)
		return an_usage(o, "empty time window (--to is not after --from)", NULL);
	if (!o->window) {
		o->from_ns = 0;
		o->to_ns = UINT64_MAX;
	}
	if (o->filter_text && !(o->filter = an_filter_compile(o->filter_text, o->cmd)))
		return 2;
	if (o->sensors_path && !(o->sensors = an_sensors_load(o->sensors_path, o->cmd)))
		return 2;
	if (o->asn_path && !(o->asn = an_asn_load(o->asn_path, o->cmd)))
		return 2;
	if (o->mmdb_path && !(o->mmdb = an_mmdb_open(o->mmdb_path, o->cmd)))
		return 2;
	return 0;
}

void an_opts_free(struct an_opts *o)
{
	an_filter_free(o->filter);
	an_sensors_free(o->sensors);
	an_asn_free(o->asn);
	an_mmdb_close(o->mmdb);
	o->filter = NULL;
	o->sensors = NULL;
	o->asn = NULL;
	o->mmdb = NULL;
}

unsigned an_threads(const struct an_opts *o)
{
	if (o->threads)
		return o->threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)(n > 256 ? 256 : n) : 1;
}

/* ---- time ---------------------------------------------------------- */

static int digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

int an_parse_time(const char *s, uint64_t *ns)
{
	const char *p = s;
	if (!s || !*s)
		return -1;
	/* UNIX seconds, possibly fractional */
	if (strspn(s, "0123456789.") == strlen(s)) {
		char *end;
		errno = 0;
		unsigned long long sec = strtoull(s, &end, 10);
		if (errno || end == s || sec > 9000000000ull)
			return -1;
		uint64_t frac = 0, scale = AN_NSEC;
		if (*end == '.') {
			for (end++; isdigit((unsigned char)*end); end++)
				if (scale > 1) {
					scale /= 10;
					frac += (uint64_t)(*end - '0') * scale;
				}
		}
		if (*end)
			return -1;
		*ns = (uint64_t)sec * AN_NSEC + frac;
		return 0;
	}
	int y, mo, d, h = 0, mi = 0, se = 0;
	uint64_t frac = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d))
		return -1;
	long off = 0;
	if (*p == 'T' || *p == 't' || *p == ' ') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &se))
				return -1;
			if (*p == '.') {
				uint64_t scale = AN_NSEC;
				for (p++; isdigit((unsigned char)*p); p++)
					if (scale > 1) {
						scale /= 10;
						frac += (uint64_t)(*p - '0') * scale;
					}
			}
		}
		if (*p == 'Z' || *p == 'z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int sign = *p++ == '-' ? -1 : 1, oh, om;
			if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om))
				return -1;
			off = sign * (oh * 3600L + om * 60L);
		}
	}
	if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 ||
	    y < 1970)
		return -1;
	struct tm tm = {0};
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || t - off < 0)
		return -1;
	*ns = (uint64_t)(t - off) * AN_NSEC + frac;
	return 0;
}

static void fmt_tm(uint64_t ns, int with_time, char *buf, size_t len)
{
	time_t t = (time_t)(ns / AN_NSEC);
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		snprintf(buf, len, "?");
	else if (with_time)
		snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(buf, len, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday);
}

void an_fmt_time(uint64_t ns, char *buf, size_t len)
{
	fmt_tm(ns, 1, buf, len);
}

void an_fmt_date(uint64_t ns, char *buf, size_t len)
{
	fmt_tm(ns, 0, buf, len);
}

/*
 * The UTC month from the day number alone (H. Hinnant's civil_from_days,
 * proleptic Gregorian): gmtime_r() took a lock and the time zone's rules
 * for every record, 30% of a `sensors --by month` run.
 */
unsigned an_month_of(uint64_t ns)
{
	uint64_t z = ns / AN_DAY_NS + 719468; /* days since 0000-03-01 */
	uint64_t era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);                          /* [0, 146096] */
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
	unsigned mp = (5 * doy + 2) / 153;                                    /* March = 0 */
	uint64_t y = era * 400 + yoe + (mp >= 10);
	unsigned m = mp < 10 ? mp + 2 : mp - 10; /* January = 0 */
	return (unsigned)((y - 1970) * 12 + m);
}

uint64_t an_month_start(unsigned m)
{
	struct tm tm = {0};
	tm.tm_year = 70 + (int)(m / 12);
	tm.tm_mon = (int)(m % 12);
	tm.tm_mday = 1;
	return (uint64_t)timegm(&tm) * AN_NSEC;
}

void an_fmt_month(unsigned m, char *buf, size_t len)
{
	snprintf(buf, len, "%04u-%02u", 1970 + m / 12, m % 12 + 1);
}

/* ---- ports ---------------------------------------------------------- */

int an_parse_portspec(const char *s, int *proto, int *port)
{
	uint64_t v;
	if (strcasecmp(s, "icmp") == 0) {
		*proto = 1;
		*port = -1;
		return 0;
	}
	if (strcasecmp(s, "icmp6") == 0 || strcasecmp(s, "icmpv6") == 0) {
		*proto = 58;
		*port = -1;
		return 0;
	}
	const char *slash = strchr(s, '/');
	if (!slash || slash - s > 5)
		return -1;
	char num[8];
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = 0;
	if (an_parse_uint(num, 65535, &v) < 0)
		return -1;
	if (strcasecmp(slash + 1, "tcp") == 0)
		*proto = 6;
	else if (strcasecmp(slash + 1, "udp") == 0)
		*proto = 17;
	else
		return -1;
	*port = (int)v;
	return 0;
}

/* ---- output ----------------------------------------------------------- */

void an_json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

void an_csv_str(const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

int an_parse_args(struct an_opts *o, int argc, char **argv, const struct option *own,
		  const char *shortopts, an_own_opt_fn fn, void *arg, const char *help)
{
	struct option *lopts = an_options(own);
	int c, rc = 0;
	char so[64];

	if (!lopts)
		return 2;
	snprintf(so, sizeof(so), "h%s", shortopts ? shortopts : "");
	opterr = 0;
	optind = 1;
	while (rc == 0 && (c = getopt_long(argc, argv, so, lopts, NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			rc = -1;
			break;
		}
		rc = an_common_opt(o, c, optarg);
		if (rc == 1)
			rc = c == '?' || c == ':' ? 1 : fn(arg, c, optarg);
		if (rc == 1)
			rc = an_usage(o, "unknown or incomplete option", argv[optind - 1]);
	}
	free(lopts);
	if (rc == 0 && optind >= argc)
		rc = an_usage(o, "no PATH given", NULL);
	if (rc == 0)
		rc = an_opts_finish(o);
	return rc;
}
