/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze: the one hash map every aggregation uses (24-byte keys,
 * u64 values, open addressing with linear probing, half full at most),
 * and HyperLogLog for --approx. Each worker thread owns its maps; they
 * are merged on the main thread at the end, so nothing here locks.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "analyze.h"
#include "analyze-cmds.h"

/*
 * Slot tables of 2 MiB and more come straight from mmap, already zero,
 * with transparent huge pages asked for and every page faulted in
 * writable at once. calloc'd pages start as the shared zero page: the
 * first store to a slot that a probe had read is then a copy-on-write
 * fault that, with more than one thread, also shoots down the TLB of
 * every other CPU (a third of a two-thread top-ports went there), and
 * zeroing them again in user space doubles the cost of the huge-page
 * faults.
 */
#define TABLE_HUGE ((size_t)2 << 20)

static void *table_alloc(size_t n, size_t size)
{
	size_t bytes = n * size;

	if (size && bytes / size != n)
		return NULL;
	if (bytes < TABLE_HUGE)
		return calloc(n, size);
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	(void)madvise(p, bytes, MADV_HUGEPAGE);
	if (madvise(p, bytes, MADV_POPULATE_WRITE) != 0) {
		if (errno != EINVAL) {
			/* out of memory: the caller reports it */
			munmap(p, bytes);
			return NULL;
		}
		/* kernels before 5.14: touch each page with a store */
		for (size_t off = 0; off < bytes; off += 4096)
			((volatile char *)p)[off] = 0;
	}
	return p;
}

static void table_free(void *p, size_t n, size_t size)
{
	if (!p)
		return;
	if (n * size < TABLE_HUGE)
		free(p);
	else
		munmap(p, n * size);
}

int an_map_grow(struct an_map *m)
{
	size_t cap = m->cap ? 2 * m->cap : 1024;
	struct an_slot *ns = table_alloc(cap, sizeof(*ns));

	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		const struct an_slot *s = &m->s[i];
		if ((s->k.a | s->k.b | s->k.c) == 0)
			continue;
		size_t j = an_key_hash(&s->k) & (cap - 1);
		while (ns[j].k.a | ns[j].k.b | ns[j].k.c)
			j = (j + 1) & (cap - 1);
		ns[j] = *s;
	}
	table_free(m->s, m->cap, sizeof(*m->s));
	m->s = ns;
	m->cap = cap;
	return 0;
}

int an_map_mark(struct an_map *m, const struct an_key *keys, size_t n)
{
	enum { AHEAD = 8 };
	/* grow first: the prefetched slots must stay where they are */
	while (2 * (m->n + n + 1) > m->cap)
		if (an_map_grow(m) != 0)
			return -ENOMEM;
	size_t mask = m->cap - 1;
	for (size_t i = 0; i < n && i < AHEAD; i++)
		__builtin_prefetch(&m->s[an_key_hash(&keys[i]) & mask], 1);
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			__builtin_prefetch(&m->s[an_key_hash(&keys[i + AHEAD]) & mask], 1);
		*an_map_get(m, &keys[i]) = 1; /* room was made above */
	}
	return 0;
}

const uint64_t *an_map_find(const struct an_map *m, const struct an_key *k)
{
	if ((k->a | k->b | k->c) == 0)
		return m->has_zero ? &m->zero_v : NULL;
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1, j = an_key_hash(k) & mask;
	for (;;) {
		const struct an_slot *s = &m->s[j];
		if (s->k.a == k->a && s->k.b == k->b && s->k.c == k->c)
			return &s->v;
		if ((s->k.a | s->k.b | s->k.c) == 0)
			return NULL;
		j = (j + 1) & mask;
	}
}

int an_map_merge(struct an_map *dst, const struct an_map *src, int or_values)
{
	for (size_t i = 0; i < src->cap; i++) {
		const struct an_slot *s = &src->s[i];
		if ((s->k.a | s->k.b | s->k.c) == 0)
			continue;
		uint64_t *v = an_map_get(dst, &s->k);
		if (!v)
			return -ENOMEM;
		*v = or_values ? *v | s->v : *v + s->v;
	}
	if (src->has_zero) {
		struct an_key z = {0, 0, 0};
		uint64_t *v = an_map_get(dst, &z);
		*v = or_values ? *v | src->zero_v : *v + src->zero_v;
	}
	return 0;
}

struct an_slot *an_map_items(const struct an_map *m, size_t *n)
{
	*n = 0;
	if (!m->n)
		return NULL;
	struct an_slot *out = malloc(sizeof(*out) * m->n);
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < m->cap; i++)
		if (m->s[i].k.a | m->s[i].k.b | m->s[i].k.c)
			out[k++] = m->s[i];
	if (m->has_zero) {
		memset(&out[k].k, 0, sizeof(out[k].k));
		out[k++].v = m->zero_v;
	}
	*n = k;
	return out;
}

void an_map_free(struct an_map *m)
{
	table_free(m->s, m->cap, sizeof(*m->s));
	memset(m, 0, sizeof(*m));
}

void an_hll_merge(struct an_hll *dst, const struct an_hll *src)
{
	for (size_t i = 0; i < sizeof(dst->reg); i++)
		if (src->reg[i] > dst->reg[i])
			dst->reg[i] = src->reg[i];
}

/* Flajolet et al. estimate with the small-range (linear counting) fix */
double an_hll_count(const struct an_hll *h)
{
	const double m = (double)(1u << AN_HLL_P);
	double sum = 0;
	unsigned zeros = 0;

	for (size_t i = 0; i < sizeof(h->reg); i++) {
		sum += ldexp(1.0, -(int)h->reg[i]);
		zeros += h->reg[i] == 0;
	}
	double alpha = 0.7213 / (1.0 + 1.079 / m);
	double e = alpha * m * m / sum;
	if (e <= 2.5 * m && zeros)
		e = m * log(m / (double)zeros);
	return e;
}

uint64_t an_addr_hash(const uint8_t *addr, int family)
{
	struct an_key k = {0, 0, (uint64_t)family};
	memcpy(&k.a, addr, 8);
	memcpy(&k.b, addr + 8, 8);
	return an_key_hash(&k);
}

int an_map_absorb(struct an_map *dst, struct an_map *src, int or_values)
{
	if (dst->n == 0) {
		table_free(dst->s, dst->cap, sizeof(*dst->s));
		*dst = *src;
		memset(src, 0, sizeof(*src));
		return 0;
	}
	int rc = an_map_merge(dst, src, or_values);
	an_map_free(src);
	return rc;
}

/* ---- 64-bit keys --------------------------------------------------------- */

int an_map64_reserve(struct an_map64 *m, size_t extra)
{
	size_t need = m->n + extra, cap = m->cap ? m->cap : 1024;
	while (10 * need > 7 * cap)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	struct an_slot64 *ns = table_alloc(cap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		if (!m->s[i].k)
			continue;
		size_t j = an_hash64(m->s[i].k) & (cap - 1);
		while (ns[j].k)
			j = (j + 1) & (cap - 1);
		ns[j] = m->s[i];
	}
	table_free(m->s, m->cap, sizeof(*m->s));
	m->s = ns;
	m->cap = cap;
	return 0;
}

int an_map64_add(struct an_map64 *m, const uint64_t *keys, const uint64_t *vals, size_t n)
{
	enum { AHEAD = 16 };
	/* grow first: the prefetched slots must stay where they are */
	if (an_map64_reserve(m, n) != 0)
		return -ENOMEM;
	size_t mask = m->cap - 1;
	struct an_slot64 *s = m->s;
	for (size_t i = 0; i < n && i < AHEAD; i++)
		__builtin_prefetch(&s[an_hash64(keys[i]) & mask], 1);
	for (size_t i = 0; i < n; i++) {
		if (i + AHEAD < n)
			__builtin_prefetch(&s[an_hash64(keys[i + AHEAD]) & mask], 1);
		uint64_t k = keys[i];
		if (!k) {
			*an_map64_get(m, 0) += vals[i];
			continue;
		}
		size_t j = an_hash64(k) & mask;
		while (s[j].k != k && s[j].k)
			j = (j + 1) & mask;
		if (!s[j].k) {
			s[j].k = k;
			m->n++;
		}
		s[j].v += vals[i];
	}
	return 0;
}

const uint64_t *an_map64_find(const struct an_map64 *m, uint64_t k)
{
	if (!k)
		return m->has_zero ? &m->zero_v : NULL;
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1, j = an_hash64(k) & mask;
	for (;;) {
		if (m->s[j].k == k)
			return &m->s[j].v;
		if (!m->s[j].k)
			return NULL;
		j = (j + 1) & mask;
	}
}

int an_map64_merge(struct an_map64 *dst, struct an_map64 *src)
{
	if (dst->n == 0) {
		table_free(dst->s, dst->cap, sizeof(*dst->s));
		*dst = *src;
		memset(src, 0, sizeof(*src));
		return 0;
	}
	if (an_map64_reserve(dst, src->n) != 0)
		return -ENOMEM;
	for (size_t i = 0; i < src->cap; i++)
		if (src->s[i].k)
			*an_map64_get(dst, src->s[i].k) += src->s[i].v;
	if (src->has_zero)
		*an_map64_get(dst, 0) += src->zero_v;
	an_map64_free(src);
	return 0;
}

void an_map64_free(struct an_map64 *m)
{
	table_free(m->s, m->cap, sizeof(*m->s));
	memset(m, 0, sizeof(*m));
}
