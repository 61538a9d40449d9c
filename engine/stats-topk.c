/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Space-Saving over source addresses. The counters sit in a binary
 * min-heap (the entry to replace is always at the root; a weighted
 * increment moves an entry down in O(log K)), and an open-addressing
 * table with linear probing maps an address to its heap slot. The table
 * has four buckets per entry and deletes by backward shift, so it never
 * fills up with tombstones however many sources come and go.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flow-table.h"
#include "stats-topk.h"

struct ent {
	uint64_t count;
	uint64_t err;
	uint8_t addr[16];
	uint8_t family;
	uint32_t bucket; /* where the table points at this entry */
	uint32_t home;   /* the bucket its hash chose */
};

struct umbra_topk {
	struct ent *heap;
	uint32_t *table; /* heap index + 1; 0 = empty */
	uint32_t cap, n, mask;
	uint64_t seed;
	uint64_t records, packets;
};

/* The flow table's hash, with the seed where a flow's destination goes. */
static uint32_t
home_of(const struct umbra_topk *tk, unsigned family, const uint8_t *key)
{
	struct umbra_flow_key k;

	memset(&k, 0, sizeof(k));
	memcpy(k.src, key, 16);
	memcpy(k.dst, &tk->seed, sizeof(tk->seed));
	k.family = (uint8_t)family;
	return (uint32_t)umbra_flow_hash(&k) & tk->mask;
}

struct umbra_topk *
umbra_topk_new(unsigned capacity, uint64_t seed)
{
	struct umbra_topk *tk;
	uint32_t buckets = 16;

	if (capacity == 0 || capacity > (1u << 24)) {
		errno = EINVAL;
		return NULL;
	}
	while (buckets < 4 * capacity)
		buckets <<= 1;
	tk = calloc(1, sizeof(*tk));
	if (tk == NULL)
		return NULL;
	tk->heap = calloc(capacity, sizeof(*tk->heap));
	tk->table = calloc(buckets, sizeof(*tk->table));
	if (tk->heap == NULL || tk->table == NULL) {
		umbra_topk_free(tk);
		errno = ENOMEM;
		return NULL;
	}
	tk->cap = capacity;
	tk->mask = buckets - 1;
	tk->seed = seed;
	return tk;
}

void
umbra_topk_free(struct umbra_topk *tk)
{
	if (tk == NULL)
		return;
	free(tk->heap);
	free(tk->table);
	free(tk);
}

static void
place(struct umbra_topk *tk, uint32_t i, const struct ent *e)
{
	tk->heap[i] = *e;
	tk->table[e->bucket] = i + 1;
}

static void
sift_down(struct umbra_topk *tk, uint32_t i)
{
	struct ent e = tk->heap[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= tk->n)
			break;
		if (c + 1 < tk->n && tk->heap[c + 1].count < tk->heap[c].count)
			c++;
		if (tk->heap[c].count >= e.count)
			break;
		place(tk, i, &tk->heap[c]);
		i = c;
	}
	place(tk, i, &e);
}

static void
sift_up(struct umbra_topk *tk, uint32_t i)
{
	struct ent e = tk->heap[i];

	while (i > 0 && tk->heap[(i - 1) / 2].count > e.count) {
		place(tk, i, &tk->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	place(tk, i, &e);
}

/* Empty bucket b, then pull back the entries that probed past it. */
static void
unlink_bucket(struct umbra_topk *tk, uint32_t b)
{
	uint32_t j = b;

	tk->table[b] = 0;
	for (;;) {
		uint32_t home;

		j = (j + 1) & tk->mask;
		if (tk->table[j] == 0)
			return;
		home = tk->heap[tk->table[j] - 1].home;
		/* stays when its home lies cyclically in (b, j] */
		if (b <= j ? (b < home && home <= j) : (b < home || home <= j))
			continue;
		tk->table[b] = tk->table[j];
		tk->heap[tk->table[b] - 1].bucket = b;
		tk->table[j] = 0;
		b = j;
	}
}

static uint32_t
free_bucket(const struct umbra_topk *tk, uint32_t b)
{
	while (tk->table[b] != 0)
		b = (b + 1) & tk->mask;
	return b;
}

void
umbra_topk_add(struct umbra_topk *tk, unsigned family, const uint8_t *addr, uint64_t packets)
{
	uint8_t key[16] = { 0 };
	struct ent *e;
	uint32_t home, b, i;
	int replaced = 0;

	if (packets == 0 || (family != 4 && family != 6))
		return;
	memcpy(key, addr, family == 4 ? 4 : 16);
	tk->records++;
	tk->packets += packets;
	home = home_of(tk, family, key);
	for (b = home; tk->table[b] != 0; b = (b + 1) & tk->mask) {
		i = tk->table[b] - 1;
		e = &tk->heap[i];
		if (e->family == family && memcmp(e->addr, key, 16) == 0) {
			e->count += packets;
			sift_down(tk, i);
			return;
		}
	}
	if (tk->n < tk->cap) {
		i = tk->n++;
		e = &tk->heap[i];
		e->count = packets;
		e->err = 0;
	} else {
		/* replace the smallest: the newcomer inherits its count as error */
		i = 0;
		e = &tk->heap[0];
		unlink_bucket(tk, e->bucket);
		b = free_bucket(tk, home);
		e->err = e->count;
		e->count += packets;
		replaced = 1;
	}
	memcpy(e->addr, key, 16);
	e->family = (uint8_t)family;
	e->home = home;
	e->bucket = b;
	tk->table[b] = i + 1;
	if (replaced)
		sift_down(tk, 0);
	else
		sift_up(tk, i);
}

static int
before(const struct umbra_top_source *a, const struct ent *b)
{
	if (a->packets != b->count)
		return a->packets > b->count;
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
		const struct ent *e = &tk->heap[i];
		unsigned j;

		if (k == n && before(&out[n - 1], e))
			continue;
		j = k < n ? k++ : n - 1;
		while (j > 0 && !before(&out[j - 1], e)) {
			out[j] = out[j - 1];
			j--;
		}
		memcpy(out[j].addr, e->addr, 16);
		out[j].family = e->family;
		out[j].packets = e->count;
		out[j].error = e->err;
	}
	return k;
}

void
umbra_topk_snapshot(const struct umbra_topk *tk, struct umbra_top_sources *out)
{
	memset(out, 0, sizeof(*out));
	out->capacity = tk->cap;
	out->floor = tk->n == tk->cap ? tk->heap[0].count : 0;
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
