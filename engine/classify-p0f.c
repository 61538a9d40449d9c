/* SPDX-License-Identifier: BSD-3-Clause */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify-p0f.h"

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_PSH 0x08
#define TH_ACK 0x10
#define TH_URG 0x20
#define TH_ECE 0x40
#define TH_CWR 0x80

enum win_type { WIN_NORMAL, WIN_ANY, WIN_MOD, WIN_MSS, WIN_MTU };

struct p0f_sig {
	int8_t ver;        /* 4, 6 or -1 */
	uint8_t ttl;
	uint8_t bad_ttl;   /* "ittl-" */
	uint8_t olen;
	int32_t mss;       /* -1 = any */
	uint8_t win_type;
	uint16_t win;
	int16_t scale;     /* -1 = any */
	uint8_t nopt;
	uint8_t eol_pad;
	uint8_t olayout[UMBRA_P0F_MAX_OPT];
	uint32_t quirks;
	int8_t pclass;     /* -1 = any */
	uint8_t generic;
	uint8_t userland;  /* class '!' */
	uint16_t label;
	unsigned line;
	/* the fields compared for equality, as syn_key() packs them */
	uint64_t key, mask;
};

#define P0F_BUCKETS 64 /* power of two */

/*
 * The signatures that share one option layout, in file order: a SYN can
 * only match those, so matching finds its layout by hash and compares
 * the layout once instead of once per signature.
 */
struct p0f_layout {
	uint8_t nopt;
	uint8_t olayout[UMBRA_P0F_MAX_OPT];
	uint16_t next;  /* next layout of the bucket, or P0F_NONE */
	uint16_t first; /* the signatures: db->lsig[first .. first + n) */
	uint16_t n;
};

#define P0F_NONE 0xffff

struct umbra_p0f_db {
	struct p0f_sig *sig;
	unsigned nsig, capsig;
	struct p0f_layout *lay;
	unsigned nlay;
	uint32_t nopt_mask;          /* bit n: some layout has n options */
	uint16_t *lsig;              /* signature indexes grouped by layout */
	uint16_t head[P0F_BUCKETS];  /* first layout of each bucket */
	char **label;      /* label[1..nlabel] */
	unsigned nlabel, caplabel;
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

/* ---- packet side ---- */

static uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void
umbra_p0f_syn_from_pkt(const struct umbra_plugin_pkt *p, struct umbra_p0f_syn *s)
{
	const uint8_t *t = p->l4, *o = p->tcp_opts, *end;
	uint8_t type = p->tcp_flags & (TH_SYN | TH_ACK | TH_FIN | TH_RST);

	memset(s, 0, sizeof(*s));
	s->ver = p->family;
	s->ttl = p->ttl;
	s->win = p->tcp_window;
	s->pclass = p->payload_len > 0;
	if (p->family == 4) {
		uint8_t ff = p->l3[6];

		s->olen = p->ip_opts_len;
		s->tot_hdr = (uint16_t)(20 + p->ip_opts_len);
		if (p->tos & 0x03)
			s->quirks |= UMBRA_Q_ECN;
		if (ff & 0x80)
			s->quirks |= UMBRA_Q_NZ_MBZ;
		if (ff & 0x40) {
			s->quirks |= UMBRA_Q_DF;
			if (p->ip_id != 0)
				s->quirks |= UMBRA_Q_NZ_ID;
		} else if (p->ip_id == 0) {
			s->quirks |= UMBRA_Q_ZERO_ID;
		}
	} else {
		/* p0f ignores IPv6 extension headers: olen is their size here */
		s->olen = p->ip_opts_len;
		s->tot_hdr = 40;
		if ((rd32(p->l3) & 0xfffff) != 0)
			s->quirks |= UMBRA_Q_FLOW;
		if (p->tos & 0x03)
			s->quirks |= UMBRA_Q_ECN;
	}
	s->tot_hdr = (uint16_t)(s->tot_hdr + 20 + p->tcp_opts_len);
	if ((p->tcp_flags & (TH_ECE | TH_CWR)) || (t[12] & 0x01))
		s->quirks |= UMBRA_Q_ECN;
	if (p->tcp_seq == 0)
		s->quirks |= UMBRA_Q_ZERO_SEQ;
	if (p->tcp_flags & TH_ACK) {
		if (p->tcp_ack == 0)
			s->quirks |= UMBRA_Q_ZERO_ACK;
	} else if (p->tcp_ack != 0 && !(p->tcp_flags & TH_RST)) {
		s->quirks |= UMBRA_Q_NZ_ACK;
	}
	if (p->tcp_flags & TH_URG)
		s->quirks |= UMBRA_Q_URG;
	else if (t[18] | t[19])
		s->quirks |= UMBRA_Q_NZ_URG;
	if (p->tcp_flags & TH_PSH)
		s->quirks |= UMBRA_Q_PUSH;
	if (o == NULL)
		return;
	end = o + p->tcp_opts_len;
	while (o < end && s->nopt < UMBRA_P0F_MAX_OPT) {
		uint8_t kind = *o++;

		s->olayout[s->nopt++] = kind;
		/* every kind but EOL and NOP has a length byte: is it there? */
		if (kind > 1 && o >= end)
			goto bad;
		switch (kind) {
		case 0: /* EOL: the rest is padding, which should be zero */
			s->eol_pad = (uint8_t)(end - o);
			while (o < end && *o == 0)
				o++;
			if (o != end) {
				s->quirks |= UMBRA_Q_OPT_EOL_NZ;
				o = end;
			}
			break;
		case 1:
			break;
		case 2:
			if (*o != 4)
				s->quirks |= UMBRA_Q_OPT_BAD;
			if (o + 3 > end)
				goto bad;
			s->mss = (uint16_t)(o[1] << 8 | o[2]);
			o += 3;
			break;
		case 3:
			if (*o != 3)
				s->quirks |= UMBRA_Q_OPT_BAD;
			if (o + 2 > end)
				goto bad;
			s->wscale = o[1];
			if (s->wscale > 14)
				s->quirks |= UMBRA_Q_EXWS;
			o += 2;
			break;
		case 4:
			if (*o != 2)
				s->quirks |= UMBRA_Q_OPT_BAD;
			if (o + 1 > end)
				goto bad;
			o++;
			break;
		case 5:
			if (*o < 10 || *o > 34 || o - 1 + *o > end)
				goto bad;
			o += *o - 1;
			break;
		case 8:
			if (*o != 10)
				s->quirks |= UMBRA_Q_OPT_BAD;
			if (o + 9 > end)
				goto bad;
			s->ts1 = rd32(o + 1);
			if (s->ts1 == 0)
				s->quirks |= UMBRA_Q_ZERO_TS1;
			if (type == TH_SYN && rd32(o + 5) != 0)
				s->quirks |= UMBRA_Q_NZ_TS2;
			o += 9;
			break;
		default:
			if (o >= end || *o < 2 || *o > 40 || o - 1 + *o > end)
				goto bad;
			o += *o - 1;
			break;
		}
	}
	if (o == end)
		return;
bad:
	s->quirks |= UMBRA_Q_OPT_BAD;
}

/* p0f's order of quirks, in signatures and in its raw_sig output */
static const struct {
	const char *name;
	uint32_t bit;
} quirk_tab[] = {
	{ "df", UMBRA_Q_DF }, { "id+", UMBRA_Q_NZ_ID }, { "id-", UMBRA_Q_ZERO_ID },
	{ "ecn", UMBRA_Q_ECN }, { "0+", UMBRA_Q_NZ_MBZ }, { "flow", UMBRA_Q_FLOW },
	{ "seq-", UMBRA_Q_ZERO_SEQ }, { "ack+", UMBRA_Q_NZ_ACK },
	{ "ack-", UMBRA_Q_ZERO_ACK }, { "uptr+", UMBRA_Q_NZ_URG },
	{ "urgf+", UMBRA_Q_URG }, { "pushf+", UMBRA_Q_PUSH },
	{ "ts1-", UMBRA_Q_ZERO_TS1 }, { "ts2+", UMBRA_Q_NZ_TS2 },
	{ "opt+", UMBRA_Q_OPT_EOL_NZ }, { "exws", UMBRA_Q_EXWS },
	{ "bad", UMBRA_Q_OPT_BAD },
};

static uint8_t
guess_dist(uint8_t ttl)
{
	if (ttl <= 32)
		return (uint8_t)(32 - ttl);
	if (ttl <= 64)
		return (uint8_t)(64 - ttl);
	if (ttl <= 128)
		return (uint8_t)(128 - ttl);
	return (uint8_t)(255 - ttl);
}

/* Window as a multiple of MSS or MTU (p0f's rules); -1 if neither. */
static int
win_multi(const struct umbra_p0f_syn *s, int *use_mtu)
{
	const int win = s->win, mss = s->mss;
	int div[12], mtu[12], n = 0, i;

	*use_mtu = 0;
	if (win == 0 || mss < 100)
		return -1;
	div[n] = mss; mtu[n++] = 0;
	if (s->ts1) {
		div[n] = mss - 12; mtu[n++] = 0;
	}
	div[n] = 1460; mtu[n++] = 0;
	div[n] = 1448; mtu[n++] = 0;
	if (s->ver == 6) {
		div[n] = 1440; mtu[n++] = 0;
		div[n] = 1428; mtu[n++] = 0;
	}
	div[n] = mss + 40; mtu[n++] = 1;
	div[n] = mss + s->tot_hdr; mtu[n++] = 1;
	if (s->ver == 6) {
		div[n] = mss + 60; mtu[n++] = 1;
	}
	div[n] = 1500; mtu[n++] = 1;
	for (i = 0; i < n; i++) {
		if (div[i] > 0 && win % div[i] == 0) {
			*use_mtu = mtu[i];
			return win / div[i];
		}
	}
	return -1;
}

#define APPEND(...) do { \
	int k_ = snprintf(buf + off, off < len ? len - off : 0, __VA_ARGS__); \
	if (k_ < 0) \
		return -1; \
	off += (size_t)k_; \
} while (0)

int
umbra_p0f_format(const struct umbra_p0f_syn *s, char *buf, size_t len)
{
	size_t off = 0;
	uint8_t dist = guess_dist(s->ttl);
	int um, wm = win_multi(s, &um);
	unsigned i, first = 1;

	if (dist > UMBRA_P0F_MAX_DIST)
		APPEND("%u:%u+?:%u:%u:", s->ver, s->ttl, s->olen, s->mss);
	else
		APPEND("%u:%u+%u:%u:%u:", s->ver, s->ttl, dist, s->olen, s->mss);
	if (wm > 0)
		APPEND("%s*%d", um ? "mtu" : "mss", wm);
	else
		APPEND("%u", s->win);
	APPEND(",%u:", s->wscale);
	for (i = 0; i < s->nopt; i++) {
		const char *sep = i ? "," : "";

		switch (s->olayout[i]) {
		case 0: APPEND("%seol+%u", sep, s->eol_pad); break;
		case 1: APPEND("%snop", sep); break;
		case 2: APPEND("%smss", sep); break;
		case 3: APPEND("%sws", sep); break;
		case 4: APPEND("%ssok", sep); break;
		case 5: APPEND("%ssack", sep); break;
		case 8: APPEND("%sts", sep); break;
		default: APPEND("%s?%u", sep, s->olayout[i]); break;
		}
	}
	APPEND(":");
	for (i = 0; i < sizeof(quirk_tab) / sizeof(quirk_tab[0]); i++) {
		if (s->quirks & quirk_tab[i].bit) {
			APPEND("%s%s", first ? "" : ",", quirk_tab[i].name);
			first = 0;
		}
	}
	APPEND(":%s", s->pclass ? "+" : "0");
	return (int)off;
}

/* ---- p0f.fp ---- */

static unsigned
layout_bucket(const uint8_t *o, unsigned n)
{
	uint32_t h = 2166136261u ^ n;
	unsigned i;

	for (i = 0; i < n; i++)
		h = (h ^ o[i]) * 16777619u;
	return (h ^ (h >> 16)) & (P0F_BUCKETS - 1);
}

static const struct p0f_layout *
find_layout(const struct umbra_p0f_db *db, const uint8_t *o, unsigned n)
{
	unsigned k;

	/* option-less SYNs (most scanners) have no layout in p0f.fp */
	if (n > UMBRA_P0F_MAX_OPT || !(db->nopt_mask >> n & 1))
		return NULL;
	k = db->head[layout_bucket(o, n)];
	while (k != P0F_NONE) {
		const struct p0f_layout *l = &db->lay[k];

		if (l->nopt == n && memcmp(l->olayout, o, n) == 0)
			return l;
		k = l->next;
	}
	return NULL;
}

/*
 * The fields a signature requires to be equal (olen, eol_pad, and mss,
 * scale, pclass and an exact window unless wildcards), in one word, so
 * most signatures are ruled out by one compare.
 */
static uint64_t
syn_key(const struct umbra_p0f_syn *s)
{
	return (uint64_t)s->olen | (uint64_t)s->eol_pad << 8 | (uint64_t)s->mss << 16 |
	       (uint64_t)s->wscale << 32 | (uint64_t)s->pclass << 40 |
	       (uint64_t)s->win << 48;
}

static void
sig_key(struct p0f_sig *g)
{
	g->mask = 0xffff;
	g->key = (uint64_t)g->olen | (uint64_t)g->eol_pad << 8;
	if (g->mss != -1) {
		g->mask |= 0xffffull << 16;
		g->key |= (uint64_t)(uint16_t)g->mss << 16;
	}
	if (g->scale != -1) {
		g->mask |= 0xffull << 32;
		g->key |= (uint64_t)(uint8_t)g->scale << 32;
	}
	if (g->pclass != -1) {
		g->mask |= 0xffull << 40;
		g->key |= (uint64_t)(uint8_t)g->pclass << 40;
	}
	if (g->win_type == WIN_NORMAL) {
		g->mask |= 0xffffull << 48;
		g->key |= (uint64_t)g->win << 48;
	}
}

/* Group the signatures by layout; file order is kept inside a group. */
static int
build_index(struct umbra_p0f_db *db)
{
	uint16_t *of = NULL;
	unsigned i, k;

	for (i = 0; i < P0F_BUCKETS; i++)
		db->head[i] = P0F_NONE;
	if (db->nsig == 0)
		return 0;
	db->lay = calloc(db->nsig, sizeof(*db->lay));
	db->lsig = calloc(db->nsig, sizeof(*db->lsig));
	of = calloc(db->nsig, sizeof(*of));
	if (db->lay == NULL || db->lsig == NULL || of == NULL) {
		free(of);
		return -1;
	}
	for (i = 0; i < db->nsig; i++) {
		struct p0f_sig *g = &db->sig[i];
		const struct p0f_layout *l = find_layout(db, g->olayout, g->nopt);

		sig_key(g);
		if (l == NULL) {
			unsigned b = layout_bucket(g->olayout, g->nopt);
			struct p0f_layout *nl = &db->lay[db->nlay];

			nl->nopt = g->nopt;
			memcpy(nl->olayout, g->olayout, sizeof(nl->olayout));
			nl->next = db->head[b];
			db->head[b] = (uint16_t)db->nlay;
			db->nopt_mask |= 1u << g->nopt;
			l = nl;
			db->nlay++;
		}
		of[i] = (uint16_t)(l - db->lay);
		db->lay[of[i]].n++;
	}
	for (i = 0, k = 0; i < db->nlay; i++) {
		db->lay[i].first = (uint16_t)k;
		k += db->lay[i].n;
		db->lay[i].n = 0;
	}
	for (i = 0; i < db->nsig; i++) {
		struct p0f_layout *l = &db->lay[of[i]];

		db->lsig[l->first + l->n++] = (uint16_t)i;
	}
	free(of);
	return 0;
}

static int
add_label(struct umbra_p0f_db *db, const char *name)
{
	unsigned i;

	for (i = 1; i <= db->nlabel; i++)
		if (strcmp(db->label[i], name) == 0)
			return (int)i;
	if (db->nlabel + 2 > db->caplabel) {
		unsigned cap = db->caplabel ? db->caplabel * 2 : 64;
		void *np = realloc(db->label, cap * sizeof(*db->label));

		if (np == NULL)
			return -ENOMEM;
		db->label = np;
		db->caplabel = cap;
		if (db->nlabel == 0)
			db->label[0] = NULL;
	}
	if (db->nlabel >= 65535)
		return -ENOSPC;
	db->label[db->nlabel + 1] = strdup(name);
	if (db->label[db->nlabel + 1] == NULL)
		return -ENOMEM;
	return (int)++db->nlabel;
}

static int
num(const char **s, long lo, long hi, long *out)
{
	const char *p = *s;
	long v = 0;

	if (!isdigit((unsigned char)*p))
		return -1;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (*p - '0');
		if (v > 100000)
			return -1;
		p++;
	}
	if (v < lo || v > hi)
		return -1;
	*s = p;
	*out = v;
	return 0;
}

static const struct {
	const char *name;
	uint8_t kind;
} opt_tab[] = {
	{ "nop", 1 }, { "mss", 2 }, { "ws", 3 }, { "sok", 4 }, { "sack", 5 }, { "ts", 8 },
};

/* Parse "ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass". */
static int
parse_sig(const char *v, struct p0f_sig *g)
{
	long x;
	size_t i;

	memset(g, 0, sizeof(*g));
	if (*v == '4' || *v == '6')
		g->ver = (int8_t)(*v - '0');
	else if (*v == '*')
		g->ver = -1;
	else
		return -1;
	if (*++v != ':')
		return -1;
	v++;
	if (num(&v, 1, 255, &x) != 0)
		return -1;
	g->ttl = (uint8_t)x;
	if (*v == '-') {
		g->bad_ttl = 1;
		v++;
	} else if (*v == '+') {
		long add;

		v++;
		if (num(&v, 0, 255, &add) != 0 || x + add > 255)
			return -1;
		g->ttl = (uint8_t)(x + add);
	}
	if (*v++ != ':' || num(&v, 0, 255, &x) != 0 || *v++ != ':')
		return -1;
	g->olen = (uint8_t)x;
	if (*v == '*') {
		g->mss = -1;
		v++;
	} else {
		if (num(&v, 0, 65535, &x) != 0)
			return -1;
		g->mss = (int32_t)x;
	}
	if (*v++ != ':')
		return -1;
	if (*v == '*') {
		g->win_type = WIN_ANY;
		v++;
	} else if (*v == '%') {
		v++;
		if (num(&v, 2, 65535, &x) != 0)
			return -1;
		g->win_type = WIN_MOD;
		g->win = (uint16_t)x;
	} else if (!strncmp(v, "mss*", 4) || !strncmp(v, "mtu*", 4)) {
		g->win_type = v[1] == 's' ? WIN_MSS : WIN_MTU;
		v += 4;
		if (num(&v, 1, 1000, &x) != 0)
			return -1;
		g->win = (uint16_t)x;
	} else {
		if (num(&v, 0, 65535, &x) != 0)
			return -1;
		g->win_type = WIN_NORMAL;
		g->win = (uint16_t)x;
	}
	if (*v++ != ',')
		return -1;
	if (*v == '*') {
		g->scale = -1;
		v++;
	} else {
		if (num(&v, 0, 255, &x) != 0)
			return -1;
		g->scale = (int16_t)x;
	}
	if (*v++ != ':')
		return -1;
	while (*v != ':') {
		if (g->nopt >= UMBRA_P0F_MAX_OPT)
			return -1;
		if (!strncmp(v, "eol+", 4)) {
			v += 4;
			if (num(&v, 0, 255, &x) != 0 || *v != ':')
				return -1;
			g->olayout[g->nopt++] = 0;
			g->eol_pad = (uint8_t)x;
			break;
		} else if (*v == '?') {
			v++;
			if (num(&v, 0, 255, &x) != 0)
				return -1;
			g->olayout[g->nopt++] = (uint8_t)x;
		} else {
			for (i = 0; i < sizeof(opt_tab) / sizeof(opt_tab[0]); i++) {
				size_t l = strlen(opt_tab[i].name);

				if (!strncmp(v, opt_tab[i].name, l) &&
				    (v[l] == ',' || v[l] == ':')) {
					g->olayout[g->nopt++] = opt_tab[i].kind;
					v += l;
					break;
				}
			}
			if (i == sizeof(opt_tab) / sizeof(opt_tab[0]))
				return -1;
		}
		if (*v == ',')
			v++;
		else if (*v != ':')
			return -1;
	}
	v++;
	while (*v != ':') {
		for (i = 0; i < sizeof(quirk_tab) / sizeof(quirk_tab[0]); i++) {
			size_t l = strlen(quirk_tab[i].name);

			if (!strncmp(v, quirk_tab[i].name, l) &&
			    (v[l] == ',' || v[l] == ':')) {
				g->quirks |= quirk_tab[i].bit;
				v += l;
				break;
			}
		}
		if (i == sizeof(quirk_tab) / sizeof(quirk_tab[0]))
			return -1;
		if (*v == ',')
			v++;
		else if (*v != ':')
			return -1;
	}
	v++;
	if (!strcmp(v, "*"))
		g->pclass = -1;
	else if (!strcmp(v, "0"))
		g->pclass = 0;
	else if (!strcmp(v, "+"))
		g->pclass = 1;
	else
		return -1;
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

struct umbra_p0f_db *
umbra_p0f_parse(const char *buf, size_t len, const char *name, char *err,
		size_t errlen)
{
	struct umbra_p0f_db *db = calloc(1, sizeof(*db));
	size_t off = 0;
	unsigned lineno = 0;
	int in_req = 0, cur_label = -1, generic = 0, userland = 0;
	char line[1024];

	if (db == NULL)
		goto nomem;
	while (off < len) {
		const char *nl = memchr(buf + off, '\n', len - off);
		size_t l = nl != NULL ? (size_t)(nl - (buf + off)) : len - off;
		char *s, *eq, *key, *val;

		lineno++;
		if (l >= sizeof(line))
			l = sizeof(line) - 1;
		memcpy(line, buf + off, l);
		line[l] = '\0';
		off = nl != NULL ? (size_t)(nl - buf) + 1 : len;
		s = trim(line);
		if (*s == '\0' || *s == ';')
			continue;
		if (*s == '[') {
			in_req = !strcmp(s, "[tcp:request]");
			cur_label = -1;
			continue;
		}
		if (!in_req)
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			seterr(err, errlen, "%s:%u: expected 'key = value'", name, lineno);
			goto fail;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (!strcmp(key, "label")) {
			/* type:class:name:flavor */
			char *c1 = strchr(val, ':'), *c2, *c3, disp[512];

			c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
			c3 = c2 != NULL ? strchr(c2 + 1, ':') : NULL;
			if (c3 == NULL || (val[0] != 's' && val[0] != 'g') || c1 != val + 1) {
				seterr(err, errlen, "%s:%u: malformed label '%s'", name, lineno, val);
				goto fail;
			}
			generic = val[0] == 'g';
			userland = c1[1] == '!';
			*c3 = '\0';
			if (c3[1] != '\0')
				snprintf(disp, sizeof(disp), "%s %s", c2 + 1, c3 + 1);
			else
				snprintf(disp, sizeof(disp), "%s", c2 + 1);
			cur_label = add_label(db, disp);
			if (cur_label < 0)
				goto nomem;
		} else if (!strcmp(key, "sig")) {
			struct p0f_sig g;

			if (cur_label < 0) {
				seterr(err, errlen, "%s:%u: sig before any label", name, lineno);
				goto fail;
			}
			if (parse_sig(val, &g) != 0) {
				seterr(err, errlen, "%s:%u: malformed signature '%s'", name, lineno, val);
				goto fail;
			}
			g.generic = (uint8_t)generic;
			g.userland = (uint8_t)userland;
			g.label = (uint16_t)cur_label;
			g.line = lineno;
			if (db->nsig == db->capsig) {
				unsigned cap = db->capsig ? db->capsig * 2 : 128;
				void *np = realloc(db->sig, cap * sizeof(*db->sig));

				if (np == NULL)
					goto nomem;
				db->sig = np;
				db->capsig = cap;
			}
			db->sig[db->nsig++] = g;
		}
		/* sys = ... and other keys: not used for SYNs */
	}
	if (db->nsig > 65535 || build_index(db) != 0)
		goto nomem;
	return db;
nomem:
	seterr(err, errlen, "out of memory");
fail:
	umbra_p0f_free(db);
	errno = EINVAL;
	return NULL;
}

struct umbra_p0f_db *
umbra_p0f_load(const char *path, char *err, size_t errlen)
{
	struct umbra_p0f_db *db;
	FILE *f = fopen(path, "rb");
	char *buf;
	long sz;

	if (f == NULL) {
		int e = errno;

		seterr(err, errlen, "cannot read p0f database '%s': %s", path, strerror(e));
		errno = e;
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
	    (buf = malloc((size_t)sz + 1)) == NULL) {
		fclose(f);
		seterr(err, errlen, "cannot read p0f database '%s'", path);
		errno = EIO;
		return NULL;
	}
	if (fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
		free(buf);
		fclose(f);
		seterr(err, errlen, "cannot read p0f database '%s'", path);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	db = umbra_p0f_parse(buf, (size_t)sz, path, err, errlen);
	free(buf);
	return db;
}

void
umbra_p0f_free(struct umbra_p0f_db *db)
{
	unsigned i;

	if (db == NULL)
		return;
	for (i = 1; i <= db->nlabel; i++)
		free(db->label[i]);
	free(db->lay);
	free(db->lsig);
	free(db->label);
	free(db->sig);
	free(db);
}

unsigned
umbra_p0f_nlabels(const struct umbra_p0f_db *db)
{
	return db != NULL ? db->nlabel : 0;
}

const char *
umbra_p0f_label(const struct umbra_p0f_db *db, unsigned id)
{
	return db != NULL && id >= 1 && id <= db->nlabel ? db->label[id] : NULL;
}

unsigned
umbra_p0f_nsigs(const struct umbra_p0f_db *db)
{
	return db != NULL ? db->nsig : 0;
}

unsigned
umbra_p0f_match(const struct umbra_p0f_db *db, const struct umbra_p0f_syn *s,
		int *fuzzy)
{
	const struct p0f_sig *fmatch = NULL, *gmatch = NULL;
	const struct p0f_layout *l;
	int use_mtu = 0, wm = -2; /* win_multi() once a signature needs it */
	uint64_t key;
	unsigned i;

	*fuzzy = 0;
	if (db == NULL)
		return 0;
	l = find_layout(db, s->olayout, s->nopt);
	if (l == NULL)
		return 0;
	key = syn_key(s);
	for (i = 0; i < l->n; i++) {
		const struct p0f_sig *g = &db->sig[db->lsig[l->first + i]];
		uint32_t rq = g->quirks, sq = s->quirks & UMBRA_Q_MASK;
		int fz = 0;

		/*
		 * The equal-field tests first: skipping a signature changes
		 * nothing, so the order of the tests does not matter.
		 */
		if ((key & g->mask) != g->key)
			continue;
		if (g->ver == -1)
			rq &= s->ver == 4 ? ~UMBRA_Q_FLOW :
			      ~(UMBRA_Q_DF | UMBRA_Q_NZ_ID | UMBRA_Q_ZERO_ID);
		if (rq != sq) {
			uint32_t deleted = (rq ^ sq) & rq, added = (rq ^ sq) & sq;

			/* df or id+ gone, id- or ecn new: a fuzzy match */
			if (fmatch != NULL || (deleted & ~(UMBRA_Q_DF | UMBRA_Q_NZ_ID)) ||
			    (added & ~(UMBRA_Q_ZERO_ID | UMBRA_Q_ECN)))
				continue;
			fz = 1;
		}
		if (g->bad_ttl) {
			if (g->ttl < s->ttl)
				continue;
		} else if (g->ttl < s->ttl || g->ttl - s->ttl > UMBRA_P0F_MAX_DIST) {
			fz = 1;
		}
		switch (g->win_type) {
		case WIN_MOD:
			if (s->win % g->win)
				continue;
			break;
		case WIN_MSS:
			if (wm == -2)
				wm = win_multi(s, &use_mtu);
			if (use_mtu || g->win != wm)
				continue;
			break;
		case WIN_MTU:
			if (wm == -2)
				wm = win_multi(s, &use_mtu);
			if (!use_mtu || g->win != wm)
				continue;
			break;
		default:
			break;
		}
		if (!fz) {
			if (!g->generic)
				return g->label;
			if (gmatch == NULL)
				gmatch = g;
		} else if (fmatch == NULL) {
			fmatch = g;
		}
	}
	if (gmatch != NULL)
		return gmatch->label;
	if (fmatch != NULL && !fmatch->userland) {
		*fuzzy = 1;
		return fmatch->label;
	}
	return 0;
}
