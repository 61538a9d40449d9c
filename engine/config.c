/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

enum opt_type { OPT_STR, OPT_U32, OPT_INT, OPT_FLAG, OPT_BOOL, OPT_DARKNET, OPT_CONFIG, OPT_PLUGIN };

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	size_t size;     /* OPT_STR buffer size */
	long min, max;   /* numeric range */
	int flag_value;  /* OPT_FLAG: value stored */
	const char *arg; /* for usage */
	const char *help;
};

#define F(field) offsetof(struct umbra_config, field), sizeof(((struct umbra_config *)0)->field)

static const struct opt opts[] = {
	{ "pcap", OPT_STR, F(pcap), 0, 0, 0, "FILE", "replay a capture file (no NIC, no hugepages)" },
	{ "darknet", OPT_DARKNET, 0, 0, 0, 0, 0, "CIDR", "monitored prefix, IPv4 or IPv6 (repeatable)" },
	{ "out", OPT_STR, F(out_dir), 0, 0, 0, "DIR", "directory for dump files (default .)" },
	{ "sensor-name", OPT_STR, F(sensor_name), 0, 0, 0, "NAME", "sensor name stored in dumps (default hostname)" },
	{ "rotate", OPT_U32, F(rotate_s), 1, 86400 * 7, 0, "SECONDS", "file period, aligned to the clock (default 300)" },
	{ "idle-timeout", OPT_U32, F(idle_timeout_s), 1, 86400, 0, "SECONDS", "export a flow idle this long (default 60)" },
	{ "active-timeout", OPT_U32, F(active_timeout_s), 1, 86400 * 7, 0, "SECONDS", "export a flow alive this long (default 300)" },
	{ "stats-json", OPT_STR, F(stats_json), 0, 0, 0, "FILE", "write final counters as JSON at exit" },
	{ "config", OPT_CONFIG, 0, 0, 0, 0, 0, "FILE", "read settings from FILE (key = value)" },
	{ "workers", OPT_U32, F(workers), 1, 128, 0, "N", "worker lcores, one RX queue each (default 1)" },
	{ "flows", OPT_U32, F(flows), 64, 1u << 30, 0, "N", "flow table capacity per worker (default 1048576)" },
	{ "ring-size", OPT_U32, F(ring_size), 64, 1u << 26, 0, "N", "records per worker->writer ring (default 65536)" },
	{ "flush-interval", OPT_U32, F(flush_ms), 10, 3600000, 0, "MS", "writer flush and loss-interval period (default 1000)" },
	{ "burst", OPT_U32, F(burst), 1, 256, 0, "N", "RX burst size (default 32)" },
	{ "block-records", OPT_U32, F(block_records), 16, 1u << 20, 0, "N", "records per compressed block (default 65536)" },
	{ "port", OPT_U32, F(port), 0, 1023, 0, "ID", "DPDK port to capture from (default 0)" },
	{ "zstd-level", OPT_INT, F(zstd_level), -7, 19, 0, "N", "zstd compression level (default 3)" },
	{ "status", OPT_BOOL, F(status), 0, 0, 1, 0, "print a status line every second" },
	{ "no-status", OPT_FLAG, F(status), 0, 0, 0, 0, "no status line" },
	{ "backpressure", OPT_BOOL, F(backpressure), 0, 0, 1, 0, "workers wait for a full ring (default with --pcap)" },
	{ "no-backpressure", OPT_FLAG, F(backpressure), 0, 0, 0, 0, "workers drop and count when a ring is full" },
	{ "quiet", OPT_BOOL, F(quiet), 0, 0, 1, 0, "no summary at exit" },
	{ "ipfix", OPT_STR, F(ipfix), 0, 0, 0, "URL", "export flows as IPFIX to udp://HOST:PORT or tcp://HOST:PORT" },
	{ "kafka", OPT_STR, F(kafka), 0, 0, 0, "BROKERS/TOPIC", "export flows as JSON messages to Kafka" },
	{ "metrics", OPT_STR, F(metrics), 0, 0, 0, "ADDR:PORT", "serve Prometheus /metrics (e.g. 127.0.0.1:9470)" },
	{ "telemetry", OPT_BOOL, F(telemetry), 0, 0, 1, 0, "/umbra/... commands on DPDK's telemetry socket" },
	{ "linger", OPT_U32, F(linger_s), 0, 86400 * 365, 0, "SECONDS", "replay: keep serving metrics/telemetry this long after the end" },
	{ "user", OPT_STR, F(user), 0, 0, 0, "NAME", "after DPDK start-up, run as this user (and its group)" },
	{ "writer-delay-us", OPT_U32, F(writer_delay_us), 0, 10000000, 0, "US", "test/diagnostic: writer sleeps this long per pass (simulates a slow disk)" },
	{ "p0f", OPT_STR, F(p0f), 0, 0, 0, "FILE", "p0f v3 database for SYN labels (default /etc/p0f/p0f.fp)" },
	{ "rules", OPT_STR, F(rules), 0, 0, 0, "FILE", "payload signature rules (Hyperscan; docs/CLASSIFY.md)" },
	{ "hs-cache", OPT_STR, F(hs_cache), 0, 0, 0, "DIR", "cache compiled signature databases in DIR" },
	{ "payload-bytes", OPT_U32, F(payload_bytes), 1, 65535, 0, "N", "scan at most N payload bytes (default 256)" },
	{ "plugin", OPT_PLUGIN, 0, 0, 0, 0, 0, "PATH", "load a classifier plugin (repeatable)" },
	{ "no-classify", OPT_FLAG, F(no_classify), 0, 0, 1, 0, "no tags beyond scan/backscatter/other/fragment, no fingerprints or signatures" },
	{ "help", OPT_FLAG, F(help), 0, 0, 1, 0, "this text" },
	{ "version", OPT_FLAG, F(version), 0, 0, 1, 0, "print the version" },
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

void
umbra_config_defaults(struct umbra_config *c)
{
	memset(c, 0, sizeof(*c));
	umbra_darknet_init(&c->darknet);
	strcpy(c->out_dir, ".");
	if (gethostname(c->sensor_name, sizeof(c->sensor_name) - 1) != 0 ||
	    c->sensor_name[0] == '\0')
		strcpy(c->sensor_name, "sensor");
	c->rotate_s = 300;
	c->idle_timeout_s = 60;
	c->active_timeout_s = 300;
	c->workers = 1;
	c->flows = 1u << 20;
	c->ring_size = 1u << 16;
	c->flush_ms = 1000;
	c->burst = 32;
	c->block_records = 65536;
	c->zstd_level = 3;
	c->status = -1;
	c->backpressure = -1;
}

static const struct opt *
find_opt(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

static int
parse_long(const char *s, long *out)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	if (s == NULL || !strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "1") ||
	    !strcmp(s, "on")) {
		*out = 1;
		return 0;
	}
	if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "0") || !strcmp(s, "off")) {
		*out = 0;
		return 0;
	}
	return -1;
}

static int config_depth;

int
umbra_config_set(struct umbra_config *c, const char *key, const char *value,
		 char *err, size_t errlen)
{
	const struct opt *o = find_opt(key);
	char *base = (char *)c;
	long v;
	int b, rc;

	if (o == NULL) {
		seterr(err, errlen, "unknown option '%s'", key);
		return -EINVAL;
	}
	if (o->type != OPT_FLAG && o->type != OPT_BOOL && value == NULL) {
		seterr(err, errlen, "option '--%s' needs a value (%s)", key, o->arg);
		return -EINVAL;
	}
	switch (o->type) {
	case OPT_STR:
		if (value[0] == '\0' || strlen(value) >= o->size) {
			seterr(err, errlen, "option '--%s': bad value '%s' (empty or too long)",
			       key, value);
			return -EINVAL;
		}
		memcpy(base + o->off, value, strlen(value) + 1);
		return 0;
	case OPT_U32:
	case OPT_INT:
		if (parse_long(value, &v) != 0 || v < o->min || v > o->max) {
			seterr(err, errlen, "option '--%s': bad value '%s' (expected an integer in %ld..%ld)",
			       key, value, o->min, o->max);
			return -EINVAL;
		}
		if (o->type == OPT_U32)
			*(uint32_t *)(void *)(base + o->off) = (uint32_t)v;
		else
			*(int *)(void *)(base + o->off) = (int)v;
		return 0;
	case OPT_FLAG:
		if (value != NULL) {
			seterr(err, errlen, "option '--%s' takes no value (got '%s')", key, value);
			return -EINVAL;
		}
		*(int *)(void *)(base + o->off) = o->flag_value;
		return 0;
	case OPT_BOOL:
		if (parse_bool(value, &b) != 0) {
			seterr(err, errlen, "option '--%s': bad value '%s' (expected yes or no)",
			       key, value);
			return -EINVAL;
		}
		*(int *)(void *)(base + o->off) = b;
		return 0;
	case OPT_DARKNET:
		rc = umbra_darknet_add(&c->darknet, value);
		if (rc != 0) {
			seterr(err, errlen, "option '--darknet': bad value '%s' (%s)", value,
			       rc == -ENOSPC ? "too many prefixes" :
			       rc == -EEXIST ? "overlaps another prefix" :
					       "expected ADDRESS/LEN with host bits zero");
			return -EINVAL;
		}
		umbra_prefix_format(&c->darknet.p[c->darknet.n - 1],
				    c->darknet_text[c->darknet.n - 1],
				    sizeof(c->darknet_text[0]));
		return 0;
	case OPT_PLUGIN:
		if (c->nplugins >= UMBRA_CONFIG_PLUGINS || value[0] == '\0' ||
		    strlen(value) >= sizeof(c->plugins[0])) {
			seterr(err, errlen, "option '--plugin': bad value '%s' (empty, too long or more than %d plugins)",
			       value, UMBRA_CONFIG_PLUGINS);
			return -EINVAL;
		}
		memcpy(c->plugins[c->nplugins++], value, strlen(value) + 1);
		return 0;
	case OPT_CONFIG:
		if (config_depth > 0) {
			seterr(err, errlen, "option 'config': nested config files are not allowed ('%s')",
			       value);
			return -EINVAL;
		}
		config_depth++;
		rc = umbra_config_load_file(c, value, err, errlen);
		config_depth--;
		return rc;
	}
	return -EINVAL;
}

int
umbra_config_parse_args(struct umbra_config *c, int argc, char **argv, char *err,
			size_t errlen)
{
	int i;

	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *eq;
		const struct opt *o;
		char name[64];
		const char *value = NULL;
		size_t nlen;
		int rc;

		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			seterr(err, errlen, "unexpected argument '%s'", a);
			return -EINVAL;
		}
		a += 2;
		eq = strchr(a, '=');
		nlen = eq != NULL ? (size_t)(eq - a) : strlen(a);
		if (nlen >= sizeof(name)) {
			seterr(err, errlen, "unknown option '--%.60s'", a);
			return -EINVAL;
		}
		memcpy(name, a, nlen);
		name[nlen] = '\0';
		o = find_opt(name);
		if (o == NULL) {
			seterr(err, errlen, "unknown option '--%s'", name);
			return -EINVAL;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (o->type != OPT_FLAG && o->type != OPT_BOOL) {
			if (i + 1 >= argc) {
				seterr(err, errlen, "option '--%s' needs a value (%s)", name, o->arg);
				return -EINVAL;
			}
			value = argv[++i];
		}
		rc = umbra_config_set(c, name, value, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
umbra_config_load_buffer(struct umbra_config *c, const char *buf, size_t len,
			 const char *name, char *err, size_t errlen)
{
	size_t pos = 0;
	unsigned lineno = 0;

	while (pos < len) {
		char line[UMBRA_CONFIG_STR + 128], *l, *key, *value, *sep;
		size_t end = pos, n;
		int rc;

		while (end < len && buf[end] != '\n')
			end++;
		n = end - pos;
		lineno++;
		if (n >= sizeof(line)) {
			seterr(err, errlen, "%s:%u: line too long", name, lineno);
			return -EINVAL;
		}
		memcpy(line, buf + pos, n);
		line[n] = '\0';
		pos = end + 1;
		if (memchr(line, '\0', n) != NULL) {
			seterr(err, errlen, "%s:%u: NUL byte in line", name, lineno);
			return -EINVAL;
		}
		if ((sep = strchr(line, '#')) != NULL)
			*sep = '\0';
		l = trim(line);
		if (*l == '\0')
			continue;
		sep = strchr(l, '=');
		if (sep != NULL) {
			*sep = '\0';
			key = trim(l);
			value = trim(sep + 1);
		} else {
			key = l;
			value = NULL;
		}
		if (value != NULL && *value == '"') {
			size_t vl = strlen(value);

			if (vl < 2 || value[vl - 1] != '"') {
				seterr(err, errlen, "%s:%u: unterminated quote", name, lineno);
				return -EINVAL;
			}
			value[vl - 1] = '\0';
			value++;
		}
		if (!strcmp(key, "help") || !strcmp(key, "version")) {
			seterr(err, errlen, "%s:%u: unknown key '%s'", name, lineno, key);
			return -EINVAL;
		}
		rc = umbra_config_set(c, key, value, err, errlen);
		if (rc != 0) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", err != NULL ? err : "");
			seterr(err, errlen, "%s:%u: %s", name, lineno, msg);
			return rc;
		}
	}
	return 0;
}

int
umbra_config_load_file(struct umbra_config *c, const char *path, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long size;
	int rc;

	if (f == NULL) {
		seterr(err, errlen, "option '--config': cannot open '%s': %s", path,
		       strerror(errno));
		return -EINVAL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || size > (1 << 20) ||
	    fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		seterr(err, errlen, "option '--config': '%s' is not a readable file under 1 MiB",
		       path);
		return -EINVAL;
	}
	buf = malloc((size_t)size + 1);
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		free(buf);
		fclose(f);
		seterr(err, errlen, "option '--config': cannot read '%s'", path);
		return -EINVAL;
	}
	fclose(f);
	rc = umbra_config_load_buffer(c, buf, (size_t)size, path, err, errlen);
	free(buf);
	return rc;
}

int
umbra_config_validate(const struct umbra_config *c, char *err, size_t errlen)
{
	if (c->help || c->version)
		return 0;
	if (c->darknet.n == 0) {
		seterr(err, errlen, "option '--darknet' is required (e.g. --darknet 192.0.2.0/24)");
		return -EINVAL;
	}
	if (c->active_timeout_s < c->idle_timeout_s) {
		seterr(err, errlen, "option '--active-timeout': bad value '%u' (must be >= --idle-timeout %u)",
		       c->active_timeout_s, c->idle_timeout_s);
		return -EINVAL;
	}
	if (c->flows < 64) {
		seterr(err, errlen, "option '--flows': bad value '%u'", c->flows);
		return -EINVAL;
	}
	return 0;
}

void
umbra_config_usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: umbra [EAL options] -- [options]\n"
		"       umbra --pcap FILE [options]\n\n"
		"options (also as 'key = value' lines in --config FILE):\n");
	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		char left[64];

		snprintf(left, sizeof(left), "--%s%s%s", opts[i].name,
			 opts[i].arg != NULL ? " " : "",
			 opts[i].arg != NULL ? opts[i].arg : "");
		fprintf(out, "  %-26s %s\n", left, opts[i].help);
	}
}
