/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze --filter: a small language in the spirit of tcpdump and
 * nfdump (grammar in docs/ANALYZE.md). Compiled once into a tree; errors
 * print the expression with a caret under the offending token.
 *
 *   expr  := term { ("or" | "||") term }
 *   term  := fact { ("and" | "&&") fact }
 *   fact  := ("not" | "!") fact | "(" expr ")" | test
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analyze.h"

enum node_kind {
	N_AND, N_OR, N_NOT, N_NET, N_PORT, N_PROTO, N_FAMILY, N_FLAGS, N_TAG,
	N_SENSOR, N_NUM, N_ICMP,
};

enum dir { D_ANY, D_SRC, D_DST };
enum cmp { C_EQ, C_NE, C_LT, C_LE, C_GT, C_GE, C_RANGE };
enum field { F_PACKETS, F_BYTES, F_TTL, F_IPID, F_WINDOW, F_FIRST, F_LAST, F_DURATION };

struct node {
	enum node_kind kind;
	enum dir dir;
	enum cmp cmp;
	enum field field;
	int family;
	unsigned plen;
	uint8_t addr[16];
	uint64_t lo, hi;
	char *text;
	struct node *a, *b;
};

struct an_filter {
	struct node *root;
};

/* ---- lexer ------------------------------------------------------------ */

enum tok_kind { T_END, T_WORD, T_LP, T_RP, T_NOT, T_AND, T_OR, T_CMP };

struct tok {
	enum tok_kind kind;
	size_t at, len;
	enum cmp cmp;
};

struct parser {
	const char *s;
	const char *cmd;
	struct tok t;     /* current token */
	size_t pos;       /* after the current token */
	int failed;
};

static void next(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->pos;
	while (isspace((unsigned char)s[i]))
		i++;
	struct tok t = {T_END, i, 0, C_EQ};
	char c = s[i];
	if (!c) {
		p->t = t;
		p->pos = i;
		return;
	}
	if (c == '(' || c == ')') {
		t.kind = c == '(' ? T_LP : T_RP;
		t.len = 1;
	} else if (c == '!' && s[i + 1] != '=') {
		t.kind = T_NOT;
		t.len = 1;
	} else if ((c == '&' && s[i + 1] == '&') || (c == '|' && s[i + 1] == '|')) {
		t.kind = c == '&' ? T_AND : T_OR;
		t.len = 2;
	} else if (strchr("=!<>", c)) {
		t.kind = T_CMP;
		t.len = s[i + 1] == '=' ? 2 : 1;
		switch (c) {
		case '=': t.cmp = C_EQ; break;
		case '!':
			t.cmp = C_NE;
			break;
		case '<': t.cmp = t.len == 2 ? C_LE : C_LT; break;
		default: t.cmp = t.len == 2 ? C_GE : C_GT; break;
		}
	} else {
		size_t j = i;
		while (s[j] && !isspace((unsigned char)s[j]) && !strchr("()=<>!", s[j]) &&
		       !(s[j] == '&' && s[j + 1] == '&') && !(s[j] == '|' && s[j + 1] == '|'))
			j++;
		t.kind = T_WORD;
		t.len = j - i;
		if ((t.len == 3 && strncasecmp(s + i, "and", 3) == 0))
			t.kind = T_AND;
		else if (t.len == 2 && strncasecmp(s + i, "or", 2) == 0)
			t.kind = T_OR;
		else if (t.len == 3 && strncasecmp(s + i, "not", 3) == 0)
			t.kind = T_NOT;
	}
	p->t = t;
	p->pos = i + t.len;
}

static int is_word(const struct parser *p, const char *w)
{
	return p->t.kind == T_WORD && strlen(w) == p->t.len &&
	       strncasecmp(p->s + p->t.at, w, p->t.len) == 0;
}

static void word(const struct parser *p, char *buf, size_t cap)
{
	size_t n = p->t.len < cap - 1 ? p->t.len : cap - 1;
	memcpy(buf, p->s + p->t.at, n);
	buf[n] = 0;
}

/* "umbra-analyze CMD: bad --filter: MSG" + the expression + carets */
static struct node *fail(struct parser *p, const char *msg)
{
	if (p->failed)
		return NULL;
	p->failed = 1;
	char tokbuf[64];
	if (p->t.kind == T_END)
		snprintf(tokbuf, sizeof(tokbuf), "end of expression");
	else {
		char w[48];
		size_t n = p->t.len < sizeof(w) - 1 ? p->t.len : sizeof(w) - 1;
		memcpy(w, p->s + p->t.at, n);
		w[n] = 0;
		snprintf(tokbuf, sizeof(tokbuf), "'%s'", w);
	}
	fprintf(stderr, "umbra-analyze %s: bad --filter: %s at %s (column %zu)\n  %s\n  ",
		p->cmd, msg, tokbuf, p->t.at + 1, p->s);
	for (size_t i = 0; i < p->t.at; i++)
		fputc(p->s[i] == '\t' ? '\t' : ' ', stderr);
	for (size_t i = 0; i < (p->t.len ? p->t.len : 1); i++)
		fputc('^', stderr);
	fputc('\n', stderr);
	return NULL;
}

static void node_free(struct node *n)
{
	if (!n)
		return;
	node_free(n->a);
	node_free(n->b);
	free(n->text);
	free(n);
}

static struct node *mk(enum node_kind k)
{
	struct node *n = calloc(1, sizeof(*n));
	if (n)
		n->kind = k;
	return n;
}

static struct node *expr(struct parser *p);

/* a number, or a comparison and a number, or LO-HI */
static struct node *numeric(struct parser *p, struct node *n, uint64_t max,
			    const char *what)
{
	char w[64], msg[96];
	n->cmp = C_EQ;
	if (p->t.kind == T_CMP) {
		n->cmp = p->t.cmp;
		next(p);
	}
	snprintf(msg, sizeof(msg), "expected %s", what);
	if (p->t.kind != T_WORD)
		return node_free(n), fail(p, msg);
	word(p, w, sizeof(w));
	char *dash = strchr(w, '-');
	if (dash && n->cmp == C_EQ) {
		*dash = 0;
		if (an_parse_uint(w, max, &n->lo) < 0 || an_parse_uint(dash + 1, max, &n->hi) < 0 ||
		    n->hi < n->lo)
			return node_free(n), fail(p, msg);
		n->cmp = C_RANGE;
	} else if (an_parse_uint(w, max, &n->lo) < 0) {
		return node_free(n), fail(p, msg);
	}
	next(p);
	return n;
}

static struct node *timecmp(struct parser *p, struct node *n)
{
	char w[80];
	if (p->t.kind != T_WORD)
		return node_free(n), fail(p, "expected a time (RFC 3339 or UNIX seconds)");
	word(p, w, sizeof(w));
	char *dots = strstr(w, "..");
	if (dots) {
		*dots = 0;
		if (an_parse_time(w, &n->lo) < 0 || an_parse_time(dots + 2, &n->hi) < 0 ||
		    n->hi <= n->lo)
			return node_free(n), fail(p, "expected a time range FROM..TO");
		n->cmp = C_RANGE; /* [lo, hi) */
		n->hi -= 1;
	} else if (an_parse_time(w, &n->lo) < 0) {
		return node_free(n), fail(p, "expected a time (RFC 3339 or UNIX seconds)");
	}
	next(p);
	return n;
}

static const struct {
	const char *name;
	unsigned proto;
} protos[] = {
	{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmp6", 58}, {"icmpv6", 58},
	{"gre", 47}, {"esp", 50}, {"sctp", 132},
};

static int proto_num(const char *w, uint64_t *v)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (strcasecmp(w, protos[i].name) == 0) {
			*v = protos[i].proto;
			return 0;
		}
	return an_parse_uint(w, 255, v);
}

static int tag_bit(const char *w)
{
	for (unsigned b = 0; b < 32; b++) {
		const char *n = umbra_tag_name(b);
		if (n && strcasecmp(n, w) == 0)
			return (int)b;
	}
	uint64_t v;
	if (strncasecmp(w, "tag", 3) == 0 && an_parse_uint(w + 3, 31, &v) == 0)
		return (int)v;
	return -1;
}

static int flag_bits(const char *w, uint64_t *mask)
{
	static const char letters[] = "FSRPAUEC";
	*mask = 0;
	if (w[0] == '0' && (w[1] == 'x' || w[1] == 'X')) {
		char *end;
		unsigned long v = strtoul(w + 2, &end, 16);
		if (*end || !w[2] || v > 255)
			return -1;
		*mask = v;
		return 0;
	}
	for (; *w; w++) {
		const char *c = strchr(letters, toupper((unsigned char)*w));
		if (!c)
			return -1;
		*mask |= 1u << (c - letters);
	}
	return *mask ? 0 : -1;
}

static struct node *test(struct parser *p)
{
	char w[160];
	enum dir d = D_ANY;

	if (is_word(p, "src") || is_word(p, "dst")) {
		d = is_word(p, "src") ? D_SRC : D_DST;
		next(p);
		if (!(is_word(p, "net") || is_word(p, "host") || is_word(p, "ip") ||
		      is_word(p, "port")))
			return fail(p, "expected 'net', 'host' or 'port' after src/dst");
	}
	if (p->t.kind != T_WORD)
		return fail(p, "expected a test (net, host, port, proto, flags, tag, sensor, ...)");

	if (is_word(p, "net") || is_word(p, "host") || is_word(p, "ip")) {
		int want_host = !is_word(p, "net");
		next(p);
		struct node *n = mk(N_NET);
		if (!n)
			return NULL;
		n->dir = d;
		word(p, w, sizeof(w));
		if (p->t.kind != T_WORD || an_parse_prefix(w, n->addr, &n->family, &n->plen) < 0 ||
		    (want_host && n->plen != (n->family == 4 ? 32u : 128u)))
			return node_free(n),
			       fail(p, want_host ? "expected an IPv4 or IPv6 address"
						 : "expected a CIDR prefix (192.0.2.0/24, 2001:db8::/32)");
		an_mask(n->addr, n->family, n->plen);
		next(p);
		return n;
	}
	if (is_word(p, "port")) {
		next(p);
		struct node *n = mk(N_PORT);
		if (!n)
			return NULL;
		n->dir = d;
		return numeric(p, n, 65535, "a port number (0-65535), a comparison or a range LO-HI");
	}
	if (is_word(p, "proto")) {
		next(p);
		struct node *n = mk(N_PROTO);
		if (!n)
			return NULL;
		word(p, w, sizeof(w));
		if (p->t.kind != T_WORD || proto_num(w, &n->lo) < 0)
			return node_free(n), fail(p, "expected a protocol (tcp, udp, icmp, icmp6 or a number)");
		next(p);
		return n;
	}
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (is_word(p, protos[i].name)) {
			struct node *n = mk(N_PROTO);
			if (!n)
				return NULL;
			n->lo = protos[i].proto;
			next(p);
			return n;
		}
	if (is_word(p, "ipv4") || is_word(p, "inet") || is_word(p, "ip4") ||
	    is_word(p, "ipv6") || is_word(p, "inet6") || is_word(p, "ip6")) {
		struct node *n = mk(N_FAMILY);
		if (!n)
			return NULL;
		n->family = is_word(p, "ipv6") || is_word(p, "inet6") || is_word(p, "ip6") ? 6 : 4;
		next(p);
		return n;
	}
	if (is_word(p, "flags")) {
		next(p);
		struct node *n = mk(N_FLAGS);
		if (!n)
			return NULL;
		word(p, w, sizeof(w));
		if (p->t.kind != T_WORD || flag_bits(w, &n->lo) < 0)
			return node_free(n), fail(p, "expected TCP flags (letters of FSRPAUEC, or 0xNN)");
		next(p);
		return n;
	}
	if (is_word(p, "tag")) {
		next(p);
		struct node *n = mk(N_TAG);
		if (!n)
			return NULL;
		word(p, w, sizeof(w));
		int b = p->t.kind == T_WORD ? tag_bit(w) : -1;
		if (b < 0)
			return node_free(n),
			       fail(p, "expected a tag name (scan, backscatter, other, fragment, zmap, masscan, mirai, large_scan, bogon, spoofed, tagN)");
		n->lo = b;
		next(p);
		return n;
	}
	if (is_word(p, "sensor")) {
		next(p);
		struct node *n = mk(N_SENSOR);
		if (!n)
			return NULL;
		if (p->t.kind != T_WORD)
			return node_free(n), fail(p, "expected a sensor name (shell pattern)");
		word(p, w, sizeof(w));
		n->text = strdup(w);
		if (!n->text)
			return node_free(n), NULL;
		next(p);
		return n;
	}
	if (is_word(p, "icmp-type") || is_word(p, "icmp-code")) {
		struct node *n = mk(N_ICMP);
		if (!n)
			return NULL;
		n->dir = is_word(p, "icmp-type") ? D_SRC : D_DST;
		next(p);
		return numeric(p, n, 255, "an ICMP type or code (0-255)");
	}
	static const struct {
		const char *name;
		enum field f;
		uint64_t max;
	} nums[] = {
		{"packets", F_PACKETS, UINT32_MAX}, {"bytes", F_BYTES, UINT64_MAX},
		{"ttl", F_TTL, 255}, {"ip-id", F_IPID, 65535}, {"window", F_WINDOW, 65535},
		{"duration", F_DURATION, UINT32_MAX},
	};
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (is_word(p, nums[i].name)) {
			struct node *n = mk(N_NUM);
			if (!n)
				return NULL;
			n->field = nums[i].f;
			next(p);
			return numeric(p, n, nums[i].max, "a number, a comparison or a range LO-HI");
		}
	if (is_word(p, "after") || is_word(p, "before") || is_word(p, "time")) {
		struct node *n = mk(N_NUM);
		if (!n)
			return NULL;
		n->field = F_FIRST;
		n->cmp = is_word(p, "after") ? C_GE : is_word(p, "before") ? C_LT : C_EQ;
		int is_time = is_word(p, "time");
		next(p);
		n = timecmp(p, n);
		if (n && is_time && n->cmp != C_RANGE) {
			node_free(n);
			return fail(p, "expected FROM..TO after 'time'");
		}
		return n;
	}
	return fail(p, "unknown test (expected net, host, port, proto, tcp, udp, icmp, flags, tag, sensor, packets, after, before, time, ...)");
}

static struct node *fact(struct parser *p)
{
	if (p->t.kind == T_NOT) {
		next(p);
		struct node *a = fact(p);
		if (!a)
			return NULL;
		struct node *n = mk(N_NOT);
		if (!n)
			return node_free(a), NULL;
		n->a = a;
		return n;
	}
	if (p->t.kind == T_LP) {
		next(p);
		struct node *n = expr(p);
		if (!n)
			return NULL;
		if (p->t.kind != T_RP)
			return node_free(n), fail(p, "expected ')'");
		next(p);
		return n;
	}
	return test(p);
}

static struct node *binary(struct parser *p, enum tok_kind op, enum node_kind k,
			   struct node *(*sub)(struct parser *))
{
	struct node *l = sub(p);
	while (l && p->t.kind == op) {
		next(p);
		struct node *r = sub(p);
		if (!r)
			return node_free(l), NULL;
		struct node *n = mk(k);
		if (!n)
			return node_free(l), node_free(r), NULL;
		n->a = l;
		n->b = r;
		l = n;
	}
	return l;
}

static struct node *term(struct parser *p)
{
	return binary(p, T_AND, N_AND, fact);
}

static struct node *expr(struct parser *p)
{
	return binary(p, T_OR, N_OR, term);
}

struct an_filter *an_filter_compile(const char *text, const char *cmd)
{
	struct parser p = {.s = text, .cmd = cmd};
	next(&p);
	if (p.t.kind == T_END) {
		fail(&p, "empty expression");
		return NULL;
	}
	struct node *root = expr(&p);
	if (root && p.t.kind != T_END) {
		node_free(root);
		fail(&p, p.t.kind == T_RP ? "unbalanced ')'" : "expected 'and', 'or' or the end");
		return NULL;
	}
	if (!root) {
		if (!p.failed)
			fprintf(stderr, "umbra-analyze %s: out of memory\n", cmd);
		return NULL;
	}
	struct an_filter *f = malloc(sizeof(*f));
	if (!f) {
		node_free(root);
		return NULL;
	}
	f->root = root;
	return f;
}

void an_filter_free(struct an_filter *f)
{
	if (!f)
		return;
	node_free(f->root);
	free(f);
}

/* ---- evaluation ------------------------------------------------------- */

static int in_net(const struct node *n, const struct umbra_flow_record *r,
		  const uint8_t *a)
{
	if (an_fam(r) != n->family)
		return 0;
	unsigned full = n->plen / 8, rest = n->plen % 8;
	if (memcmp(a, n->addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));
		return (a[full] & m) == n->addr[full];
	}
	return 1;
}

static int cmp_ok(const struct node *n, uint64_t v)
{
	switch (n->cmp) {
	case C_EQ: return v == n->lo;
	case C_NE: return v != n->lo;
	case C_LT: return v < n->lo;
	case C_LE: return v <= n->lo;
	case C_GT: return v > n->lo;
	case C_GE: return v >= n->lo;
	default: return v >= n->lo && v <= n->hi;
	}
}

static int eval(const struct node *n, const struct umbra_flow_record *r,
		const char *sensor)
{
	switch (n->kind) {
	case N_AND:
		return eval(n->a, r, sensor) && eval(n->b, r, sensor);
	case N_OR:
		return eval(n->a, r, sensor) || eval(n->b, r, sensor);
	case N_NOT:
		return !eval(n->a, r, sensor);
	case N_NET:
		return (n->dir != D_DST && in_net(n, r, r->src)) ||
		       (n->dir != D_SRC && in_net(n, r, r->dst));
	case N_PORT:
		/* ports exist for TCP and UDP only (ICMP keeps type/code there) */
		if (r->proto != 6 && r->proto != 17 && r->proto != 132)
			return 0;
		return (n->dir != D_DST && cmp_ok(n, r->sport)) ||
		       (n->dir != D_SRC && cmp_ok(n, r->dport));
	case N_ICMP:
		if (r->proto != 1 && r->proto != 58)
			return 0;
		return cmp_ok(n, n->dir == D_SRC ? r->sport : r->dport);
	case N_PROTO:
		return r->proto == n->lo;
	case N_FAMILY:
		return an_fam(r) == n->family;
	case N_FLAGS:
		return (r->tcp_flags & n->lo) == n->lo;
	case N_TAG:
		return (r->tags >> n->lo) & 1;
	case N_SENSOR:
		return sensor && fnmatch(n->text, sensor, 0) == 0;
	case N_NUM:
		switch (n->field) {
		case F_PACKETS: return cmp_ok(n, r->packets);
		case F_BYTES: return cmp_ok(n, r->bytes);
		case F_TTL: return cmp_ok(n, r->ttl_min);
		case F_IPID: return cmp_ok(n, r->ip_id);
		case F_WINDOW: return cmp_ok(n, r->syn_window);
		case F_FIRST: return cmp_ok(n, r->first_ns);
		case F_LAST: return cmp_ok(n, r->last_ns);
		case F_DURATION:
			return cmp_ok(n, (r->last_ns - r->first_ns) / AN_NSEC);
		}
	}
	return 0;
}

int an_filter_match(const struct an_filter *f, const struct umbra_flow_record *r,
		    const char *sensor)
{
	return eval(f->root, r, sensor);
}
