/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Space-Saving over source addresses. As in its authors' Stream-Summary,
 * entries with the same count share one counter (a "group"); the groups
 * sit in a binary min-heap, whose root holds the entries to replace. An
 * entry moves from group to group; the heap changes only when a count
 * appears or disappears. On darknet traffic nearly every record comes
 * from a source the summary has not seen and the counts differ by a
 * packet or two, so there are a handful of groups, each of dozens of
 * entries: a record takes the oldest entry of the smallest group and
 * appends it to the group of its new count, which almost always exists.
 * A heap of entries would sift it down past every counter smaller than
 * that, about log2(K) levels a record, each an unpredictable branch.
 *
 * Two open-addressing tables with linear probing find things: one maps
 * an address to its entry, the other a count to its group. Both delete
 * by backward shift, so they never fill up with tombstones however many
 * sources and counts come and go.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats-topk.h"

struct ent {
	uint64_t key[2]; /* the address as loaded: see load_key */
	uint64_t err;
	uint32_t home;   /* the address bucket its hash chose */
	uint32_t grp;
	uint8_t family;
};

/* Ring links: entries first, then one sentinel per group (cap + g). */
struct link {
	uint32_t next, prev;
};

/* Ids (id + 1; 0 = empty) by linear probing from their home bucket. */
struct index {
	uint32_t *bucket;
	uint32_t mask;
};

struct umbra_topk {
	struct ent *ent;
	struct link *link;
	uint64_t *gcount;    /* the count of each group */
	uint32_t *gpos;      /* its heap slot; for a free group, the next free */
	uint32_t *gheap;     /* groups by count, smallest first */
	struct index addrs;  /* address -> entry */
	struct index counts; /* count -> group */
	uint32_t cap, n, ngroups, gfree;
	uint64_t seed[3];    /* IPv4, IPv6 first word; second word and counts */
	uint64_t records, packets;
};

/*
 * Seeded, since the senders choose their addresses. Each step is a
 * bijection of the word it takes in (xor, odd multiply, xorshift by 32),
 * so two IPv4 sources never share the 64-bit state, and an IPv6 sender
 * cannot line up the second word against the first without the seeds.
 * The families start from different seeds.
 */
static inline uint32_t
hash_addr(const struct umbra_topk *tk, unsigned family, const uint64_t key[2])
{
	uint64_t x = (key[0] ^ tk->seed[family == 6]) * 0x9e3779b97f4a7c15ull;

	x = (x ^ (x >> 32) ^ key[1] ^ tk->seed[2]) * 0xd6e8feb86659fd93ull;
	return (uint32_t)(x >> 32) & tk->addrs.mask;
}

/* Counts follow from the senders' traffic too. */
static inline uint32_t
hash_count(const struct umbra_topk *tk, uint64_t count)
{
	return (uint32_t)(((count ^ tk->seed[2]) * 0x9e3779b97f4a7c15ull) >> 32) & tk->counts.mask;
}

static uint32_t
addr_home(const struct umbra_topk *tk, uint32_t e)
{
	return tk->ent[e].home;
}

static uint32_t
count_home(const struct umbra_topk *tk, uint32_t g)
{
	return hash_count(tk, tk->gcount[g]);
}

static int
index_init(struct index *ix, size_t ids, unsigned per_id)
{
	size_t buckets = 16;

	while (buckets < ids * per_id)
		buckets <<= 1;
	ix->bucket = calloc(buckets, sizeof(*ix->bucket));
	ix->mask = (uint32_t)(buckets - 1);
	return ix->bucket == NULL ? -ENOMEM : 0;
}

/* The first empty bucket from b: where an id whose home is b goes. */
static inline uint32_t
index_free(const struct index *ix, uint32_t b)
{
	while (ix->bucket[b] != 0)
		b = (b + 1) & ix->mask;
	return b;
}

/* The bucket that holds id, whose home is b. */
static inline uint32_t
index_find(const struct index *ix, uint32_t b, uint32_t id)
{
	while (ix->bucket[b] != id + 1)
		b = (b + 1) & ix->mask;
	return b;
}

/* Empty bucket b, then pull back the ids that probed past it. */
static inline void
index_remove(const struct umbra_topk *tk, struct index *ix, uint32_t b,
	     uint32_t (*home_of)(const struct umbra_topk *, uint32_t))
{
	uint32_t *t = ix->bucket, j = b;

	t[b] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & ix->mask;
		if (t[j] == 0)
			return;
		home = home_of(tk, t[j] - 1);
		/* stays when its home lies cyclically in (b, j] */
		if (b <= j ? (b < home && home <= j) : (b < home || home <= j))
			continue;
		t[b] = t[j];
		t[j] = 0;
		b = j;
	}
}

struct umbra_topk *
umbra_topk_new(unsigned capacity, uint64_t seed)
{
	struct umbra_topk *tk;
	size_t groups = (size_t)capacity + 1; /* every count, and one emptying */
	/*
	 * Sparse, so a probe for a new source nearly always ends at its
	 * first bucket: 16 KiB for the writer's K, four buckets an entry
	 * for the largest summaries.
	 */
	unsigned sparse = capacity <= (1u << 20) ? 16 : 4;

	if (capacity == 0 || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	tk = calloc(1, sizeof(*tk));
	if (tk == NULL)
		return NULL;
	tk->ent = calloc(capacity, sizeof(*tk->ent));
	tk->link = calloc(capacity + groups, sizeof(*tk->link));
	tk->gcount = calloc(groups, sizeof(*tk->gcount));
	tk->gpos = calloc(groups, sizeof(*tk->gpos));
	tk->gheap = calloc(groups, sizeof(*tk->gheap));
	if (tk->ent == NULL || tk->link == NULL || tk->gcount == NULL || tk->gpos == NULL ||
	    tk->gheap == NULL || index_init(&tk->addrs, capacity, sparse) < 0 ||
	    index_init(&tk->counts, groups, 2) < 0) {
		umbra_topk_free(tk);
		errno = ENOMEM;
		return NULL;
	}
	for (uint32_t g = 0; g < groups; g++)
		tk->gpos[g] = g + 1;
	tk->cap = capacity;
	tk->seed[0] = seed;
	tk->seed[1] = (seed ^ 0x5851f42d4c957f2dull) * 0xbf58476d1ce4e5b9ull;
	tk->seed[2] = (seed ^ 0x14057b7ef767814full) * 0x94d049bb133111ebull;
	return tk;
}

void
umbra_topk_free(struct umbra_topk *tk)
{
	if (tk == NULL)
		return;
	free(tk->ent);
	free(tk->link);
	free(tk->gcount);
	free(tk->gpos);
	free(tk->gheap);
	free(tk->addrs.bucket);
	free(tk->counts.bucket);
	free(tk);
}

static inline void
gplace(struct umbra_topk *tk, uint32_t i, uint32_t g)
{
	tk->gheap[i] = g;
	tk->gpos[g] = i;
}

/* Counts are distinct among groups: no ties to settle. */
static void
group_up(struct umbra_topk *tk, uint32_t i)
{
	uint32_t g = tk->gheap[i];
	uint64_t v = tk->gcount[g];

	while (i > 0 && tk->gcount[tk->gheap[(i - 1) / 2]] > v) {
		gplace(tk, i, tk->gheap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	gplace(tk, i, g);
}

static void
group_down(struct umbra_topk *tk, uint32_t i)
{
	uint32_t g = tk->gheap[i];
	uint64_t v = tk->gcount[g];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= tk->ngroups)
			break;
		if (c + 1 < tk->ngroups && tk->gcount[tk->gheap[c + 1]] < tk->gcount[tk->gheap[c]])
			c++;
		if (tk->gcount[tk->gheap[c]] >= v)
			break;
		gplace(tk, i, tk->gheap[c]);
		i = c;
	}
	gplace(tk, i, g);
}

static inline void
ring_remove(struct link *l, uint32_t x)
{
	l[l[x].prev].next = l[x].next;
	l[l[x].next].prev = l[x].prev;
}

static inline void
ring_append(struct link *l, uint32_t s, uint32_t x)
{
	uint32_t p = l[s].prev;

	l[x].prev = p;
	l[x].next = s;
	l[p].next = x;
	l[s].prev = x;
}

/* The group of count, made (empty) if there is none. */
static uint32_t
group_of(struct umbra_topk *tk, uint64_t count)
{
	uint32_t b = hash_count(tk, count), t, g, s;

	for (; (t = tk->counts.bucket[b]) != 0; b = (b + 1) & tk->counts.mask)
		if (tk->gcount[t - 1] == count)
			return t - 1;
	g = tk->gfree;
	tk->gfree = tk->gpos[g];
	tk->gcount[g] = count;
	s = tk->cap + g;
	tk->link[s].next = s;
	tk->link[s].prev = s;
	tk->counts.bucket[b] = g + 1;
	gplace(tk, tk->ngroups, g);
	group_up(tk, tk->ngroups++);
	return g;
}

static void
group_drop(struct umbra_topk *tk, uint32_t g)
{
	uint32_t i = tk->gpos[g], last;

	index_remove(tk, &tk->counts, index_find(&tk->counts, count_home(tk, g), g), count_home);
	last = tk->gheap[--tk->ngroups];
	if (i < tk->ngroups) {
		gplace(tk, i, last);
		group_up(tk, i);
		group_down(tk, tk->gpos[last]);
	}
	tk->gpos[g] = tk->gfree;
	tk->gfree = g;
}

/* Entry e (in its group, or in none when fresh) now counts count. */
static void
set_count(struct umbra_topk *tk, uint32_t e, uint64_t count, int fresh)
{
	uint32_t old = tk->ent[e].grp, g;

	if (!fresh)
		ring_remove(tk->link, e);
	g = group_of(tk, count);
	ring_append(tk->link, tk->cap + g, e);
	tk->ent[e].grp = g;
	if (!fresh && tk->link[tk->cap + old].next == tk->cap + old)
		group_drop(tk, old);
}

/*
 * An IPv4 address as one 32-bit load, not a copy into a zeroed key: the
 * wide loads that follow a narrow store into the key cannot be forwarded
 * from it and stall. addr_of undoes this byte for byte.
 */
static inline void
load_key(uint64_t key[2], unsigned family, const uint8_t *addr)
{
	uint32_t v4;

	if (family == 6) {
		memcpy(key, addr, 16);
		return;
	}
	memcpy(&v4, addr, 4);
	key[0] = v4;
	key[1] = 0;
}

static void
addr_of(const struct ent *e, uint8_t addr[16])
{
	uint32_t v4 = (uint32_t)e->key[0];

	if (e->family == 6) {
		memcpy(addr, e->key, 16);
		return;
	}
	memset(addr, 0, 16);
	memcpy(addr, &v4, 4);
}

void
umbra_topk_add(struct umbra_topk *tk, unsigned family, const uint8_t *addr, uint64_t packets)
{
	uint64_t key[2];
	struct ent *e;
	uint32_t home, b, t, i;

	if (packets == 0 || (family != 4 && family != 6))
		return;
	load_key(key, family, addr);
	tk->records++;
	tk->packets += packets;
	home = hash_addr(tk, family, key);
	for (b = home; (t = tk->addrs.bucket[b]) != 0; b = (b + 1) & tk->addrs.mask) {
		e = &tk->ent[t - 1];
		if (e->key[0] == key[0] && e->key[1] == key[1] && e->family == family) {
			set_count(tk, t - 1, tk->gcount[e->grp] + packets, 0);
			return;
		}
	}
	if (tk->n < tk->cap) {
		i = tk->n++;
		e = &tk->ent[i];
		e->err = 0;
		set_count(tk, i, packets, 1);
	} else {
		/* replace the oldest smallest: the newcomer inherits its count as error */
		uint32_t g = tk->gheap[0];

		i = tk->link[tk->cap + g].next;
		e = &tk->ent[i];
		index_remove(tk, &tk->addrs, index_find(&tk->addrs, e->home, i), addr_home);
		b = index_free(&tk->addrs, home);
		e->err = tk->gcount[g];
		set_count(tk, i, e->err + packets, 0);
	}
	e->key[0] = key[0];
	e->key[1] = key[1];
	e->family = (uint8_t)family;
	e->home = home;
	tk->addrs.bucket[b] = i + 1;
}

static int
before(const struct umbra_top_source *a, const struct umbra_top_source *b)
{
	if (a->packets != b->packets)
		return a->packets > b->packets;
	if (a->family != b->family)
		return a->family < b->family;
	return memcmp(a->addr, b->addr, 16) < 0;
}

unsigned
umbra_topk_top(const struct umbra_topk *tk, struct umbra_top_source *out, unsigned n)
{
	unsigned k = 0;

	if (n == 0)
		return 0;
	for (uint32_t i = 0; i < tk->n; i++) {
		const struct ent *e = &tk->ent[i];
		struct umbra_top_source s;
		unsigned j;

		memset(&s, 0, sizeof(s));
		addr_of(e, s.addr);
		s.family = e->family;
		s.packets = tk->gcount[e->grp];
		s.error = e->err;
		if (k == n && before(&out[n - 1], &s))
			continue;
		j = k < n ? k++ : n - 1;
		while (j > 0 && !before(&out[j - 1], &s)) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = s;
	}
	return k;
}

void
umbra_topk_snapshot(const struct umbra_topk *tk, struct umbra_top_sources *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = tk->cap;
	out->floor = tk->n == tk->cap ? tk->gcount[tk->gheap[0]] : 0;
	out->records = tk->records;
	out->packets = tk->packets;
	out->n = umbra_topk_top(tk, out->e, UMBRA_TOP_SOURCES_N);
}

const char *
umbra_top_source_text(const struct umbra_top_source *s, char *buf, size_t len)
{
	if (len == 0)
		return buf;
	if (inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, buf, (socklen_t)len) == NULL)
		buf[0] = '\0';
	return buf;
}
