/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs/hs.h>

#include "classify-hs.h"

struct umbra_hs {
	hs_database_t *db;
	hs_scratch_t *proto; /* prototype scratch: lcores clone it */
	unsigned n;
	struct umbra_hs_pattern *p; /* copies; regex owned */
	/*
	 * Where some pattern is in scope (see on_match): TCP and UDP by
	 * destination port, other protocols by number. A payload outside
	 * every scope cannot report a match, so it is not scanned at all.
	 */
	uint8_t scope_proto[256];
	uint64_t scope_port[2][65536 / 64]; /* [0] TCP, [1] UDP */
};

static void
scope_ports(uint64_t *map, const struct umbra_hs_pattern *p)
{
	unsigned i, port;

	for (i = 0; i < p->nports; i++)
		for (port = p->port_lo[i]; port <= p->port_hi[i]; port++)
			map[port / 64] |= 1ull << (port % 64);
}

static void
scope_add(struct umbra_hs *hs, const struct umbra_hs_pattern *p)
{
	if (p->proto == 0)
		memset(hs->scope_proto, 1, sizeof(hs->scope_proto));
	else
		hs->scope_proto[p->proto] = 1;
	if (p->proto == 0 || p->proto == 6)
		scope_ports(hs->scope_port[0], p);
	if (p->proto == 0 || p->proto == 17)
		scope_ports(hs->scope_port[1], p);
}

/* Could a pattern match a payload of this proto and destination port? */
static inline int
in_scope(const struct umbra_hs *hs, unsigned proto, unsigned dport)
{
	if (proto == 6 || proto == 17)
		return dport <= 65535 &&
		       (hs->scope_port[proto == 17][dport / 64] >> (dport % 64) & 1);
	return proto < 256 && hs->scope_proto[proto];
}

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
umbra_hs_patterns_free(struct umbra_hs_patterns *ps)
{
	unsigned i;

	if (ps == NULL)
		return;
	for (i = 0; i < ps->n; i++)
		free(ps->p[i].regex);
	free(ps->p);
	ps->p = NULL;
	ps->n = ps->cap = 0;
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) >= UMBRA_HS_NAME_MAX)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int
umbra_hs_patterns_add(struct umbra_hs_patterns *ps,
		      const struct umbra_hs_pattern *pat, const char *regex,
		      char *err, size_t errlen)
{
	struct umbra_hs_pattern *q;
	unsigned i;

	if (!valid_name(pat->name)) {
		seterr(err, errlen, "%s: bad signature name '%s' (letters, digits, _ - . ; < %d chars)",
		       pat->origin, pat->name, UMBRA_HS_NAME_MAX);
		return -EINVAL;
	}
	if (pat->id == 0 || regex == NULL || regex[0] == '\0') {
		seterr(err, errlen, "%s: signature '%s': id 0 or empty pattern",
		       pat->origin, pat->name);
		return -EINVAL;
	}
	for (i = 0; i < ps->n; i++) {
		if (ps->p[i].id == pat->id || strcmp(ps->p[i].name, pat->name) == 0) {
			seterr(err, errlen, "%s: signature %u '%s' duplicates %s (id %u '%s')",
			       pat->origin, pat->id, pat->name, ps->p[i].origin,
			       ps->p[i].id, ps->p[i].name);
			return -EEXIST;
		}
	}
	if (ps->n == ps->cap) {
		unsigned cap = ps->cap ? ps->cap * 2 : 32;
		void *np = realloc(ps->p, cap * sizeof(*ps->p));

		if (np == NULL)
			return -ENOMEM;
		ps->p = np;
		ps->cap = cap;
	}
	q = &ps->p[ps->n];
	*q = *pat;
	q->regex = strdup(regex);
	if (q->regex == NULL)
		return -ENOMEM;
	ps->n++;
	return 0;
}

static int
parse_proto(const char *s, uint8_t *out)
{
	char *end;
	long v;

	if (!strcmp(s, "any") || !strcmp(s, "*"))
		*out = 0;
	else if (!strcmp(s, "tcp"))
		*out = 6;
	else if (!strcmp(s, "udp"))
		*out = 17;
	else if (!strcmp(s, "icmp"))
		*out = 1;
	else if (!strcmp(s, "icmp6"))
		*out = 58;
	else {
		v = strtol(s, &end, 10);
		if (*end != '\0' || v < 1 || v > 255)
			return -1;
		*out = (uint8_t)v;
	}
	return 0;
}

static int
parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char *end;
	long a, b;

	a = strtol(s, &end, 10);
	b = a;
	if (end == s)
		return -1;
	if (*end == '-') {
		const char *t = end + 1;

		b = strtol(t, &end, 10);
		if (end == t)
			return -1;
	}
	if ((*end != '\0' && *end != ',') || a < 0 || b > 65535 || a > b)
		return -1;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

/* "*", or up to UMBRA_HS_PORT_RANGES comma-separated N or N-M */
static int
parse_ports(const char *s, struct umbra_hs_pattern *pat)
{
	pat->nports = 0;
	if (!strcmp(s, "*") || !strcmp(s, "any")) {
		pat->nports = 1;
		pat->port_lo[0] = 0;
		pat->port_hi[0] = 65535;
		return 0;
	}
	for (;;) {
		if (pat->nports == UMBRA_HS_PORT_RANGES ||
		    parse_range(s, &pat->port_lo[pat->nports], &pat->port_hi[pat->nports]) != 0)
			return -1;
		pat->nports++;
		s = strchr(s, ',');
		if (s == NULL)
			return 0;
		s++;
	}
}

/* Next whitespace-separated token of *s (modified in place). */
static char *
token(char **s)
{
	char *p = *s, *t;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return NULL;
	t = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*s = p;
	return t;
}

static int
parse_line(struct umbra_hs_patterns *ps, char *line, const char *name,
	   unsigned lineno, char *err, size_t errlen)
{
	struct umbra_hs_pattern pat;
	char *s = line, *tid, *tname, *tproto, *tports, *rx, *last, *e;
	long id;
	size_t fl;

	memset(&pat, 0, sizeof(pat));
	snprintf(pat.origin, sizeof(pat.origin), "%s:%u", name, lineno);
	tid = token(&s);
	if (tid == NULL || tid[0] == '#')
		return 0;
	tname = token(&s);
	tproto = token(&s);
	tports = token(&s);
	while (*s == ' ' || *s == '\t')
		s++;
	if (tname == NULL || tproto == NULL || tports == NULL || *s != '/') {
		seterr(err, errlen, "%s: expected 'ID NAME PROTO PORTS /PATTERN/FLAGS'",
		       pat.origin);
		return -EINVAL;
	}
	id = strtol(tid, &e, 10);
	if (*e != '\0' || id < 1 || id > UMBRA_HS_RULE_ID_MAX) {
		seterr(err, errlen, "%s: bad id '%s' (1..%d)", pat.origin, tid,
		       UMBRA_HS_RULE_ID_MAX);
		return -EINVAL;
	}
	pat.id = (uint16_t)id;
	if (strlen(tname) >= sizeof(pat.name)) {
		seterr(err, errlen, "%s: name '%s' too long", pat.origin, tname);
		return -EINVAL;
	}
	strcpy(pat.name, tname);
	if (parse_proto(tproto, &pat.proto) != 0) {
		seterr(err, errlen, "%s: bad protocol '%s' (tcp, udp, icmp, icmp6, any or a number)",
		       pat.origin, tproto);
		return -EINVAL;
	}
	if (parse_ports(tports, &pat) != 0) {
		seterr(err, errlen, "%s: bad ports '%s' (*, or up to %d of N or N-M separated by commas)",
		       pat.origin, tports, UMBRA_HS_PORT_RANGES);
		return -EINVAL;
	}
	/* strip trailing blanks, then /regex/flags */
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	rx = s + 1;
	last = strrchr(rx, '/');
	if (last == NULL || last == rx) {
		seterr(err, errlen, "%s: pattern must be /REGEX/FLAGS", pat.origin);
		return -EINVAL;
	}
	*last = '\0';
	fl = strlen(last + 1);
	if (fl >= sizeof(pat.flags) || strspn(last + 1, "ism8") != fl) {
		seterr(err, errlen, "%s: bad flags '%s' (i, s, m, 8)", pat.origin, last + 1);
		return -EINVAL;
	}
	strcpy(pat.flags, last + 1);
	return umbra_hs_patterns_add(ps, &pat, rx, err, errlen);
}

int
umbra_hs_rules_parse(struct umbra_hs_patterns *ps, const char *buf, size_t len,
		     const char *name, char *err, size_t errlen)
{
	size_t off = 0;
	unsigned lineno = 0;
	char line[4096];
	int rc;

	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;

		lineno++;
		if (l >= sizeof(line)) {
			seterr(err, errlen, "%s:%u: line too long", name, lineno);
			return -EINVAL;
		}
		memcpy(line, buf + off, l);
		line[l] = '\0';
		off += l + 1;
		rc = parse_line(ps, line, name, lineno, err, errlen);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
umbra_hs_rules_load(struct umbra_hs_patterns *ps, const char *path, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;
	int rc;

	if (f == NULL) {
		rc = -errno;
		seterr(err, errlen, "cannot read rules file '%s': %s", path, strerror(errno));
		return rc;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		seterr(err, errlen, "cannot read rules file '%s'", path);
		return -EIO;
	}
	buf = malloc((size_t)sz + 1);
	if (buf == NULL || fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		seterr(err, errlen, "cannot read rules file '%s'", path);
		return -EIO;
	}
	fclose(f);
	rc = umbra_hs_rules_parse(ps, buf, (size_t)sz, path, err, errlen);
	free(buf);
	return rc;
}

static unsigned
hs_flags(const char *letters)
{
	unsigned f = HS_FLAG_SINGLEMATCH;

	for (; *letters; letters++) {
		switch (*letters) {
		case 'i': f |= HS_FLAG_CASELESS; break;
		case 's': f |= HS_FLAG_DOTALL; break;
		case 'm': f |= HS_FLAG_MULTILINE; break;
		case '8': f |= HS_FLAG_UTF8; break;
		default: break;
		}
	}
	return f;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

uint64_t
umbra_hs_key(const struct umbra_hs_patterns *ps)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const char *v = hs_version();
	unsigned i;

	h = fnv(h, v, strlen(v) + 1);
	for (i = 0; i < ps->n; i++) {
		unsigned f = hs_flags(ps->p[i].flags);

		h = fnv(h, &i, sizeof(i));
		h = fnv(h, &f, sizeof(f));
		h = fnv(h, ps->p[i].regex, strlen(ps->p[i].regex) + 1);
	}
	return h;
}

static hs_database_t *
cache_load(const char *path)
{
	hs_database_t *db = NULL;
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) != 0 || st.st_size <= 0 || st.st_size > (64 << 20)) {
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size);
	if (buf != NULL && read(fd, buf, (size_t)st.st_size) == st.st_size)
		if (hs_deserialize_database(buf, (size_t)st.st_size, &db) != HS_SUCCESS)
			db = NULL;
	free(buf);
	close(fd);
	return db;
}

static void
cache_store(const char *path, const hs_database_t *db)
{
	char tmp[4200];
	char *bytes = NULL;
	size_t len = 0;
	int fd;

	if (hs_serialize_database(db, &bytes, &len) != HS_SUCCESS)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		int ok = write(fd, bytes, len) == (ssize_t)len;

		ok = (close(fd) == 0) && ok;
		if (!ok || rename(tmp, path) != 0)
			unlink(tmp);
	}
	free(bytes);
}

struct umbra_hs *
umbra_hs_build(const struct umbra_hs_patterns *ps, const char *cache_dir,
	       int *cached, char *err, size_t errlen)
{
	struct umbra_hs *hs = calloc(1, sizeof(*hs));
	const char **exprs = NULL;
	unsigned *flags = NULL, *ids = NULL, i;
	char path[4200];

	if (cached != NULL)
		*cached = 0;
	if (hs == NULL)
		goto nomem;
	hs->n = ps->n;
	if (ps->n == 0)
		return hs; /* nothing to scan for */
	hs->p = calloc(ps->n, sizeof(*hs->p));
	exprs = calloc(ps->n, sizeof(*exprs));
	flags = calloc(ps->n, sizeof(*flags));
	ids = calloc(ps->n, sizeof(*ids));
	if (hs->p == NULL || exprs == NULL || flags == NULL || ids == NULL)
		goto nomem;
	for (i = 0; i < ps->n; i++) {
		hs->p[i] = ps->p[i];
		hs->p[i].regex = strdup(ps->p[i].regex);
		if (hs->p[i].regex == NULL)
			goto nomem;
		exprs[i] = ps->p[i].regex;
		flags[i] = hs_flags(ps->p[i].flags);
		ids[i] = i;
		scope_add(hs, &ps->p[i]);
	}
	path[0] = '\0';
	if (cache_dir != NULL && cache_dir[0] != '\0') {
		snprintf(path, sizeof(path), "%s/umbra-hs-%016llx.db", cache_dir,
			 (unsigned long long)umbra_hs_key(ps));
		hs->db = cache_load(path);
		if (hs->db != NULL && cached != NULL)
			*cached = 1;
	}
	if (hs->db == NULL) {
		hs_compile_error_t *ce = NULL;

		if (hs_compile_multi(exprs, flags, ids, ps->n, HS_MODE_BLOCK, NULL,
				     &hs->db, &ce) != HS_SUCCESS) {
			if (ce != NULL && ce->expression >= 0 &&
			    (unsigned)ce->expression < ps->n) {
				const struct umbra_hs_pattern *b = &ps->p[ce->expression];

				seterr(err, errlen, "%s: signature %u '%s': Hyperscan: %s",
				       b->origin, b->id, b->name, ce->message);
			} else {
				seterr(err, errlen, "Hyperscan: %s",
				       ce != NULL ? ce->message : "compile failed");
			}
			hs_free_compile_error(ce);
			hs->db = NULL;
			umbra_hs_free(hs);
			free(exprs);
			free(flags);
			free(ids);
			errno = EINVAL;
			return NULL;
		}
		if (path[0] != '\0')
			cache_store(path, hs->db);
	}
	if (hs_alloc_scratch(hs->db, &hs->proto) != HS_SUCCESS) {
		seterr(err, errlen, "Hyperscan: cannot allocate scratch");
		umbra_hs_free(hs);
		hs = NULL;
		errno = ENOMEM;
	}
	free(exprs);
	free(flags);
	free(ids);
	return hs;
nomem:
	free(exprs);
	free(flags);
	free(ids);
	umbra_hs_free(hs);
	seterr(err, errlen, "out of memory");
	errno = ENOMEM;
	return NULL;
}

void
umbra_hs_free(struct umbra_hs *hs)
{
	unsigned i;

	if (hs == NULL)
		return;
	if (hs->proto != NULL)
		hs_free_scratch(hs->proto);
	if (hs->db != NULL)
		hs_free_database(hs->db);
	if (hs->p != NULL)
		for (i = 0; i < hs->n; i++)
			free(hs->p[i].regex);
	free(hs->p);
	free(hs);
}

unsigned
umbra_hs_count(const struct umbra_hs *hs)
{
	return hs != NULL ? hs->n : 0;
}

const struct umbra_hs_pattern *
umbra_hs_pattern(const struct umbra_hs *hs, unsigned idx)
{
	return hs != NULL && idx < hs->n ? &hs->p[idx] : NULL;
}

void *
umbra_hs_scratch(const struct umbra_hs *hs)
{
	hs_scratch_t *s = NULL;

	if (hs == NULL || hs->proto == NULL)
		return NULL;
	if (hs_clone_scratch(hs->proto, &s) != HS_SUCCESS)
		return NULL;
	return s;
}

void
umbra_hs_scratch_free(void *scratch)
{
	if (scratch != NULL)
		hs_free_scratch(scratch);
}

struct scan_ctx {
	const struct umbra_hs *hs;
	unsigned proto, dport, n, max;
	uint16_t *idx;
};

static int
on_match(unsigned int id, unsigned long long from, unsigned long long to,
	 unsigned int flags, void *arg)
{
	struct scan_ctx *s = arg;
	const struct umbra_hs_pattern *p = &s->hs->p[id];

	(void)from;
	(void)to;
	(void)flags;
	if (p->proto != 0 && p->proto != s->proto)
		return 0;
	if (s->proto == 6 || s->proto == 17) {
		unsigned i;

		for (i = 0; i < p->nports; i++)
			if (s->dport >= p->port_lo[i] && s->dport <= p->port_hi[i])
				break;
		if (i == p->nports)
			return 0;
	}
	if (s->n < s->max)
		s->idx[s->n++] = (uint16_t)id;
	return 0;
}

int
umbra_hs_scan(const struct umbra_hs *hs, void *scratch, const uint8_t *data,
	      uint32_t len, unsigned proto, unsigned dport, uint16_t *idx,
	      unsigned max)
{
	struct scan_ctx s = { hs, proto, dport, 0, max, idx };

	if (hs == NULL || hs->db == NULL || scratch == NULL || len == 0 ||
	    !in_scope(hs, proto, dport))
		return 0;
	if (hs_scan(hs->db, (const char *)data, len, 0, scratch, on_match, &s) !=
	    HS_SUCCESS)
		return -1;
	return (int)s.n;
}
