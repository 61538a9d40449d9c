/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze: addresses, prefix tables, and the files that name things:
 * --ranges (named CIDR lists), --sensors (sensor groups and labels),
 * --asn (prefix -> AS number), --mmdb (MaxMind DB). The source grouping
 * built on them (/N, ranges, AS, country) serves surge and scanners.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifdef HAVE_MAXMINDDB
#include <maxminddb.h>
#endif

#include "analyze.h"

/* ---- addresses ---------------------------------------------------------- */

int an_parse_prefix(const char *s, uint8_t addr[16], int *family, unsigned *plen)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = 0;
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = 4;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = 6;
	else
		return -1;
	unsigned max = *family == 4 ? 32 : 128;
	*plen = max;
	if (slash) {
		uint64_t v;
		if (an_parse_uint(slash + 1, max, &v) < 0)
			return -1;
		*plen = (unsigned)v;
	}
	return 0;
}

void an_mask(uint8_t addr[16], int family, unsigned plen)
{
	unsigned bytes = family == 4 ? 4 : 16;
	for (unsigned i = 0; i < 16; i++) {
		if (i >= bytes || 8 * i >= plen)
			addr[i] = 0;
		else if (8 * (i + 1) > plen)
			addr[i] &= (uint8_t)(0xff << (8 * (i + 1) - plen));
	}
}

void an_addr_text(const uint8_t *addr, int family, char *buf, size_t len)
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

/* ---- prefix table ------------------------------------------------------- */

struct pfx_val {
	uint32_t value;
	uint32_t next; /* index + 1 of the next value of the same prefix */
};

struct an_pfx {
	struct an_map m; /* (masked addr, family, plen) -> index + 1 into v */
	struct pfx_val *v;
	size_t nv, vcap;
	uint8_t lens[2][129]; /* [family 4/6][plen]: present */
	unsigned char order[2][129]; /* present lengths, longest first */
	unsigned norder[2];
};

struct an_pfx *an_pfx_new(void)
{
	return calloc(1, sizeof(struct an_pfx));
}

void an_pfx_free(struct an_pfx *t)
{
	if (!t)
		return;
	an_map_free(&t->m);
	free(t->v);
	free(t);
}

static struct an_key pfx_key(const uint8_t *addr, int family, unsigned plen)
{
	uint8_t a[16];
	struct an_key k;
	memcpy(a, addr, 16);
	if (family == 4)
		memset(a + 4, 0, 12);
	an_mask(a, family, plen);
	memcpy(&k.a, a, 8);
	memcpy(&k.b, a + 8, 8);
	k.c = (uint64_t)family << 8 | plen;
	return k;
}

int an_pfx_add(struct an_pfx *t, const uint8_t addr[16], int family,
	       unsigned plen, uint32_t value)
{
	struct an_key k = pfx_key(addr, family, plen);
	uint64_t *head = an_map_get(&t->m, &k);
	if (!head)
		return -ENOMEM;
	for (uint64_t i = *head; i; i = t->v[i - 1].next)
		if (t->v[i - 1].value == value)
			return 0;
	if (t->nv == t->vcap) {
		size_t cap = t->vcap ? 2 * t->vcap : 64;
		struct pfx_val *nv = realloc(t->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->v = nv;
		t->vcap = cap;
	}
	t->v[t->nv].value = value;
	t->v[t->nv].next = (uint32_t)*head;
	*head = ++t->nv;
	int f = family == 6;
	if (!t->lens[f][plen]) {
		t->lens[f][plen] = 1;
		t->norder[f] = 0;
		for (int l = 128; l >= 0; l--)
			if (t->lens[f][l])
				t->order[f][t->norder[f]++] = (unsigned char)l;
	}
	return 0;
}

long an_pfx_longest(const struct an_pfx *t, const uint8_t *addr, int family)
{
	int f = family == 6;
	for (unsigned i = 0; i < t->norder[f]; i++) {
		struct an_key k = pfx_key(addr, family, t->order[f][i]);
		const uint64_t *head = an_map_find(&t->m, &k);
		if (head)
			return t->v[*head - 1].value;
	}
	return -1;
}

size_t an_pfx_all(const struct an_pfx *t, const uint8_t *addr, int family,
		  uint32_t *out, size_t max)
{
	int f = family == 6;
	size_t n = 0;
	for (unsigned i = 0; i < t->norder[f]; i++) {
		struct an_key k = pfx_key(addr, family, t->order[f][i]);
		const uint64_t *head = an_map_find(&t->m, &k);
		for (uint64_t j = head ? *head : 0; j && n < max; j = t->v[j - 1].next)
			out[n++] = t->v[j - 1].value;
	}
	return n;
}

size_t an_pfx_count(const struct an_pfx *t)
{
	return t->m.n;
}

/* ---- names ------------------------------------------------------------- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

long an_names_find(const struct an_names *t, const char *s)
{
	if (!t->hcap)
		return -1;
	for (size_t j = str_hash(s) & (t->hcap - 1); t->h[j]; j = (j + 1) & (t->hcap - 1))
		if (strcmp(t->v[t->h[j] - 1], s) == 0)
			return (long)t->h[j] - 1;
	return -1;
}

long an_names_id(struct an_names *t, const char *s)
{
	long id = an_names_find(t, s);
	if (id >= 0)
		return id;
	if (2 * (t->n + 1) > t->hcap) {
		size_t cap = t->hcap ? 2 * t->hcap : 64;
		uint32_t *h = calloc(cap, sizeof(*h));
		if (!h)
			return -1;
		for (size_t i = 0; i < t->n; i++) {
			size_t j = str_hash(t->v[i]) & (cap - 1);
			while (h[j])
				j = (j + 1) & (cap - 1);
			h[j] = (uint32_t)i + 1;
		}
		free(t->h);
		t->h = h;
		t->hcap = cap;
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 16;
		char **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -1;
		t->v = v;
		t->cap = cap;
	}
	char *d = strdup(s);
	if (!d)
		return -1;
	t->v[t->n] = d;
	size_t j = str_hash(s) & (t->hcap - 1);
	while (t->h[j])
		j = (j + 1) & (t->hcap - 1);
	t->h[j] = (uint32_t)t->n + 1;
	return (long)t->n++;
}

void an_names_free(struct an_names *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->h);
	memset(t, 0, sizeof(*t));
}

/* ---- line files --------------------------------------------------------- */

/*
 * Split the next non-empty, non-comment line into at most max fields.
 * Returns the field count, 0 at EOF, -1 on a line too long.
 */
static int read_fields(FILE *f, char *line, size_t cap, char **fld, int max,
		       unsigned *lineno)
{
	while (fgets(line, (int)cap, f)) {
		(*lineno)++;
		size_t l = strlen(line);
		if (l == cap - 1 && line[l - 1] != '\n')
			return -1;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		int n = 0;
		for (char *p = strtok(line, " \t\r\n,"); p && n < max; p = strtok(NULL, " \t\r\n,"))
			fld[n++] = p;
		if (n)
			return n;
	}
	return 0;
}

static void file_err(const char *cmd, const char *opt, const char *path,
		     unsigned lineno, const char *msg, const char *what)
{
	if (lineno)
		fprintf(stderr, "umbra-analyze %s: %s %s:%u: %s%s%s%s\n", cmd, opt, path,
			lineno, msg, what ? " '" : "", what ? what : "", what ? "'" : "");
	else
		fprintf(stderr, "umbra-analyze %s: %s %s: %s\n", cmd, opt, path, msg);
}

int an_ranges_load(struct an_ranges *r, const char *path, const char *cmd)
{
	char line[4096], *fld[256];
	unsigned lineno = 0;
	int n, rc = 0;

	memset(r, 0, sizeof(*r));
	FILE *f = fopen(path, "r");
	if (!f) {
		file_err(cmd, "--ranges", path, 0, strerror(errno), NULL);
		return -1;
	}
	r->pfx = an_pfx_new();
	if (!r->pfx) {
		fclose(f);
		return -1;
	}
	while ((n = read_fields(f, line, sizeof(line), fld, 256, &lineno)) != 0) {
		if (n < 0 || n < 2) {
			file_err(cmd, "--ranges", path, lineno, "expected NAME CIDR [CIDR...]", NULL);
			rc = -1;
			break;
		}
		long id = an_names_id(&r->names, fld[0]);
		for (int i = 1; i < n && id >= 0; i++) {
			uint8_t a[16];
			int fam;
			unsigned pl;
			if (an_parse_prefix(fld[i], a, &fam, &pl) < 0) {
				file_err(cmd, "--ranges", path, lineno, "bad CIDR", fld[i]);
				rc = -1;
				break;
			}
			if (an_pfx_add(r->pfx, a, fam, pl, (uint32_t)id) < 0)
				rc = -1;
		}
		if (rc < 0 || id < 0)
			break;
	}
	fclose(f);
	if (rc == 0 && r->names.n == 0) {
		file_err(cmd, "--ranges", path, 0, "no ranges in the file", NULL);
		rc = -1;
	}
	if (rc < 0)
		an_ranges_free(r);
	return rc;
}

void an_ranges_free(struct an_ranges *r)
{
	an_names_free(&r->names);
	an_pfx_free(r->pfx);
	r->pfx = NULL;
}

struct an_sensors *an_sensors_load(const char *path, const char *cmd)
{
	char line[4096], *fld[4];
	unsigned lineno = 0;
	int n, ok = 1;

	FILE *f = fopen(path, "r");
	if (!f) {
		file_err(cmd, "--sensors", path, 0, strerror(errno), NULL);
		return NULL;
	}
	struct an_sensors *s = calloc(1, sizeof(*s));
	if (!s || !(s->pfx = an_pfx_new())) {
		free(s);
		fclose(f);
		return NULL;
	}
	size_t ecap = 0;
	while ((n = read_fields(f, line, sizeof(line), fld, 4, &lineno)) != 0) {
		if (n < 2 || n > 3) {
			file_err(cmd, "--sensors", path, lineno,
				 "expected ADDRESS|CIDR|SENSOR-NAME GROUP [LABEL]", NULL);
			ok = 0;
			break;
		}
		if (s->ne == ecap) {
			ecap = ecap ? 2 * ecap : 16;
			struct an_sensor_entry *ne = realloc(s->e, ecap * sizeof(*ne));
			if (!ne) {
				ok = 0;
				break;
			}
			s->e = ne;
		}
		long g = an_names_id(&s->groups, fld[1]);
		struct an_sensor_entry *e = &s->e[s->ne];
		e->group = (uint32_t)g;
		e->label = n == 3 ? strdup(fld[2]) : NULL;
		if (g < 0 || (n == 3 && !e->label)) {
			ok = 0;
			break;
		}
		uint8_t a[16];
		int fam;
		unsigned pl;
		if (an_parse_prefix(fld[0], a, &fam, &pl) == 0) {
			if (an_pfx_add(s->pfx, a, fam, pl, (uint32_t)s->ne) < 0)
				ok = 0;
		} else {
			long id = an_names_id(&s->engines, fld[0]);
			uint32_t *ee = id < 0 ? NULL :
				realloc(s->engine_entry, s->engines.n * sizeof(*ee));
			if (!ee) {
				ok = 0;
			} else {
				s->engine_entry = ee;
				ee[id] = (uint32_t)s->ne;
			}
		}
		s->ne++;
		if (!ok)
			break;
	}
	fclose(f);
	if (ok && s->ne == 0) {
		file_err(cmd, "--sensors", path, 0, "no sensors in the file", NULL);
		ok = 0;
	}
	if (!ok) {
		an_sensors_free(s);
		return NULL;
	}
	return s;
}

void an_sensors_free(struct an_sensors *s)
{
	if (!s)
		return;
	an_names_free(&s->groups);
	an_names_free(&s->engines);
	an_pfx_free(s->pfx);
	for (size_t i = 0; i < s->ne; i++)
		free(s->e[i].label);
	free(s->e);
	free(s->engine_entry);
	free(s);
}

const struct an_sensor_entry *an_sensors_lookup(const struct an_sensors *s,
						const uint8_t *addr, int family,
						const char *engine)
{
	long i = an_pfx_longest(s->pfx, addr, family);
	if (i >= 0)
		return &s->e[i];
	long id = engine ? an_names_find(&s->engines, engine) : -1;
	return id >= 0 ? &s->e[s->engine_entry[id]] : NULL;
}

/* ---- AS numbers ---------------------------------------------------------- */

struct an_asn {
	struct an_pfx *pfx;
};

struct an_asn *an_asn_load(const char *path, const char *cmd)
{
	char line[512], *fld[3];
	unsigned lineno = 0;
	int n, ok = 1;

	FILE *f = fopen(path, "r");
	if (!f) {
		file_err(cmd, "--asn", path, 0, strerror(errno), NULL);
		return NULL;
	}
	struct an_asn *a = calloc(1, sizeof(*a));
	if (!a || !(a->pfx = an_pfx_new())) {
		free(a);
		fclose(f);
		return NULL;
	}
	while ((n = read_fields(f, line, sizeof(line), fld, 3, &lineno)) != 0) {
		uint8_t ad[16];
		int fam;
		unsigned pl;
		uint64_t asn;
		const char *as = n == 2 ? fld[1] : "";
		if (strncasecmp(as, "AS", 2) == 0)
			as += 2;
		if (n != 2 || an_parse_prefix(fld[0], ad, &fam, &pl) < 0 ||
		    an_parse_uint(as, UINT32_MAX, &asn) < 0 || asn == 0) {
			file_err(cmd, "--asn", path, lineno, "expected CIDR ASN", n > 0 ? fld[0] : NULL);
			ok = 0;
			break;
		}
		if (an_pfx_add(a->pfx, ad, fam, pl, (uint32_t)asn) < 0) {
			ok = 0;
			break;
		}
	}
	fclose(f);
	if (!ok) {
		an_asn_free(a);
		return NULL;
	}
	return a;
}

void an_asn_free(struct an_asn *a)
{
	if (!a)
		return;
	an_pfx_free(a->pfx);
	free(a);
}

uint32_t an_asn_lookup(const struct an_asn *a, const uint8_t *addr, int family)
{
	long v = an_pfx_longest(a->pfx, addr, family);
	return v < 0 ? 0 : (uint32_t)v;
}

/* ---- MaxMind DB ----------------------------------------------------------- */

#ifdef HAVE_MAXMINDDB
struct an_mmdb {
	MMDB_s db;
};

struct an_mmdb *an_mmdb_open(const char *path, const char *cmd)
{
	struct an_mmdb *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	int rc = MMDB_open(path, MMDB_MODE_MMAP, &m->db);
	if (rc != MMDB_SUCCESS) {
		fprintf(stderr, "umbra-analyze %s: --mmdb %s: %s\n", cmd, path,
			rc == MMDB_IO_ERROR ? strerror(errno) : MMDB_strerror(rc));
		free(m);
		return NULL;
	}
	return m;
}

void an_mmdb_close(struct an_mmdb *m)
{
	if (!m)
		return;
	MMDB_close(&m->db);
	free(m);
}

static int mmdb_lookup(struct an_mmdb *m, const uint8_t *addr, int family,
		       MMDB_lookup_result_s *res)
{
	struct sockaddr_in s4 = {0};
	struct sockaddr_in6 s6 = {0};
	const struct sockaddr *sa;
	int err;
	if (family == 4) {
		s4.sin_family = AF_INET;
		memcpy(&s4.sin_addr, addr, 4);
		sa = (const struct sockaddr *)&s4;
	} else {
		s6.sin6_family = AF_INET6;
		memcpy(&s6.sin6_addr, addr, 16);
		sa = (const struct sockaddr *)&s6;
	}
	*res = MMDB_lookup_sockaddr(&m->db, sa, &err);
	return err == MMDB_SUCCESS && res->found_entry ? 0 : -1;
}

uint32_t an_mmdb_asn(struct an_mmdb *m, const uint8_t *addr, int family)
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	if (mmdb_lookup(m, addr, family, &res) < 0 ||
	    MMDB_get_value(&res.entry, &d, "autonomous_system_number", NULL) != MMDB_SUCCESS ||
	    !d.has_data)
		return 0;
	switch (d.type) {
	case MMDB_DATA_TYPE_UINT32: return d.uint32;
	case MMDB_DATA_TYPE_UINT16: return d.uint16;
	case MMDB_DATA_TYPE_UINT64: return (uint32_t)d.uint64;
	case MMDB_DATA_TYPE_INT32: return (uint32_t)d.int32;
	default: return 0;
	}
}

int an_mmdb_country(struct an_mmdb *m, const uint8_t *addr, int family, char cc[3])
{
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	if (mmdb_lookup(m, addr, family, &res) < 0)
		return -1;
	if ((MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS ||
	     !d.has_data) &&
	    (MMDB_get_value(&res.entry, &d, "registered_country", "iso_code", NULL) !=
		     MMDB_SUCCESS ||
	     !d.has_data))
		return -1;
	if (d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
		return -1;
	cc[0] = (char)toupper((unsigned char)d.utf8_string[0]);
	cc[1] = (char)toupper((unsigned char)d.utf8_string[1]);
	cc[2] = 0;
	return 0;
}
#else
struct an_mmdb {
	int unused;
};

struct an_mmdb *an_mmdb_open(const char *path, const char *cmd)
{
	fprintf(stderr, "umbra-analyze %s: --mmdb %s: built without libmaxminddb\n", cmd, path);
	return NULL;
}

void an_mmdb_close(struct an_mmdb *m)
{
	(void)m;
}

uint32_t an_mmdb_asn(struct an_mmdb *m, const uint8_t *addr, int family)
{
	(void)m, (void)addr, (void)family;
	return 0;
}

int an_mmdb_country(struct an_mmdb *m, const uint8_t *addr, int family, char cc[3])
{
	(void)m, (void)addr, (void)family, (void)cc;
	return -1;
}
#endif

/* ---- source grouping -------------------------------------------------------- */

int an_grouper_init(struct an_grouper *g, const struct an_opts *o,
		    const char *spec, const char *file)
{
	memset(g, 0, sizeof(*g));
	if (spec[0] == '/') {
		uint64_t a, b = 48;
		char buf[32];
		snprintf(buf, sizeof(buf), "%s", spec + 1);
		char *comma = strchr(buf, ',');
		if (comma) {
			*comma = 0;
			if (comma[1] != '/' || an_parse_uint(comma + 2, 128, &b) < 0)
				return an_usage(o, "bad value for --group", spec);
		}
		if (an_parse_uint(buf, 32, &a) < 0)
			return an_usage(o, "bad value for --group", spec);
		g->kind = AN_G_PREFIX;
		g->plen4 = (unsigned)a;
		g->plen6 = (unsigned)b;
		return 0;
	}
	if (strcmp(spec, "ranges") == 0) {
		if (!file)
			return an_usage(o, "--group ranges needs a FILE (--group ranges FILE)", NULL);
		g->kind = AN_G_RANGES;
		return an_ranges_load(&g->ranges, file, o->cmd) < 0 ? 2 : 0;
	}
	if (strcmp(spec, "asn") == 0) {
		if (!o->asn && !o->mmdb)
			return an_usage(o, "--group asn needs --asn FILE or --mmdb FILE", NULL);
		g->kind = AN_G_ASN;
		g->asn = o->asn;
		g->mmdb = o->mmdb;
		return 0;
	}
	if (strcmp(spec, "country") == 0) {
		if (!o->mmdb)
			return an_usage(o, "--group country needs --mmdb FILE", NULL);
		g->kind = AN_G_COUNTRY;
		g->mmdb = o->mmdb;
		return 0;
	}
	return an_usage(o, "bad value for --group (/N, ranges FILE, asn, country)", spec);
}

void an_grouper_free(struct an_grouper *g)
{
	if (g->kind == AN_G_RANGES)
		an_ranges_free(&g->ranges);
}

size_t an_group_of(const struct an_grouper *g, const uint8_t *addr, int family,
		   struct an_gkey *out, size_t max)
{
	if (!max)
		return 0;
	memset(out, 0, sizeof(*out));
	out->family = (uint8_t)family;
	switch (g->kind) {
	case AN_G_PREFIX:
		out->plen = (uint8_t)(family == 4 ? g->plen4 : g->plen6);
		memcpy(out->b, addr, family == 4 ? 4 : 16);
		an_mask(out->b, family, out->plen);
		return 1;
	case AN_G_RANGES: {
		uint32_t ids[16];
		size_t n = an_pfx_all(g->ranges.pfx, addr, family, ids, max < 16 ? max : 16);
		for (size_t i = 0; i < n; i++) {
			memset(&out[i], 0, sizeof(out[i]));
			out[i].id = ids[i];
		}
		return n;
	}
	case AN_G_ASN: {
		uint32_t as = g->asn ? an_asn_lookup(g->asn, addr, family) : 0;
		if (!as && g->mmdb)
			as = an_mmdb_asn(g->mmdb, addr, family);
		out->family = 0;
		out->id = as; /* 0: unknown AS, a group of its own */
		return 1;
	}
	case AN_G_COUNTRY: {
		char cc[3];
		out->family = 0;
		out->id = an_mmdb_country(g->mmdb, addr, family, cc) == 0 ?
				  (uint32_t)(unsigned char)cc[0] << 8 | (unsigned char)cc[1] : 0;
		return 1;
	}
	}
	return 0;
}

void an_group_name(const struct an_grouper *g, const struct an_gkey *k,
		   char *buf, size_t len)
{
	switch (g->kind) {
	case AN_G_PREFIX: {
		char a[INET6_ADDRSTRLEN];
		an_addr_text(k->b, k->family, a, sizeof(a));
		snprintf(buf, len, "%s/%u", a, k->plen);
		return;
	}
	case AN_G_RANGES:
		snprintf(buf, len, "%s", g->ranges.names.v[k->id]);
		return;
	case AN_G_ASN:
		if (k->id)
			snprintf(buf, len, "AS%u", k->id);
		else
			snprintf(buf, len, "unknown");
		return;
	case AN_G_COUNTRY:
		if (k->id)
			snprintf(buf, len, "%c%c", (char)(k->id >> 8), (char)(k->id & 0xff));
		else
			snprintf(buf, len, "unknown");
		return;
	}
}
