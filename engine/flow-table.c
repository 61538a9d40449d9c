/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "flow-table.h"

#define BUCKET_WAYS 8

struct bucket {
	uint32_t sig[BUCKET_WAYS]; /* 0 = empty */
	uint32_t idx[BUCKET_WAYS];
};
_Static_assert(sizeof(struct bucket) == 64, "one cache line per bucket");

struct umbra_flow_table {
	struct bucket *buckets;
	struct umbra_flow_entry *entries;
	uint32_t *free_stack;
	uint32_t nfree;
	uint32_t bmask;
	uint32_t capacity;
	uint32_t lru_head;
	uint32_t lru_tail;
	uint64_t seed[5];
	uint64_t idle_ns;
	uint64_t active_ns;
	umbra_flow_emit_fn emit;
	void *emit_arg;
	struct umbra_flow_table_stats st;
	size_t buckets_size;
	size_t entries_size;
};

static inline uint64_t
fmix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

/* Large tables want huge pages: ask for transparent ones, fall back. */
static void *
table_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (size >= (2u << 20))
		(void)madvise(p, size, MADV_HUGEPAGE);
	return p;
}

/* Fault every page in now; -1 when there is no memory for it. */
static int
table_prefault(void *p, size_t size)
{
	size_t off;

	if (madvise(p, size, MADV_POPULATE_WRITE) == 0)
		return 0;
	if (errno != EINVAL)
		return -1;
	/* kernels before 5.14: a store per page */
	for (off = 0; off < size; off += 4096)
		((volatile char *)p)[off] = 0;
	return 0;
}

struct umbra_flow_table *
umbra_flow_table_create(const struct umbra_flow_table_conf *conf)
{
	struct umbra_flow_table *ft;
	uint64_t want, nb = 2;
	uint32_t i;

	if (conf == NULL || conf->emit == NULL || conf->capacity < 64 ||
	    conf->capacity > (1u << 30)) {
		errno = EINVAL;
		return NULL;
	}
	ft = calloc(1, sizeof(*ft));
	if (ft == NULL)
		return NULL;
	/*
	 * Two 8-way choices at most half full: an insert finding both of its
	 * buckets full (and pushing out a live flow early) becomes very rare.
	 * Buckets are an eighth of the entries' memory, so the headroom is
	 * cheap.
	 */
	want = ((uint64_t)conf->capacity * 2 + BUCKET_WAYS - 1) / BUCKET_WAYS;
	while (nb < want)
		nb <<= 1;
	ft->bmask = (uint32_t)(nb - 1);
	ft->capacity = conf->capacity;
	ft->buckets_size = nb * sizeof(struct bucket);
	ft->entries_size = (size_t)conf->capacity * sizeof(struct umbra_flow_entry);
	ft->buckets = table_alloc(ft->buckets_size);
	ft->entries = table_alloc(ft->entries_size);
	ft->free_stack = malloc((size_t)conf->capacity * sizeof(uint32_t));
	/* all mapped first: a table too large for memory fails here at once */
	if (ft->buckets == NULL || ft->entries == NULL || ft->free_stack == NULL ||
	    (conf->prefault && (table_prefault(ft->buckets, ft->buckets_size) != 0 ||
				table_prefault(ft->entries, ft->entries_size) != 0))) {
		umbra_flow_table_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	/* pop order 0, 1, 2... keeps fresh inserts sequential in memory */
	for (i = 0; i < conf->capacity; i++)
		ft->free_stack[i] = conf->capacity - 1 - i;
	ft->nfree = conf->capacity;
	ft->lru_head = ft->lru_tail = UMBRA_FLOW_NONE;
	ft->idle_ns = conf->idle_ns;
	ft->active_ns = conf->active_ns;
	ft->emit = conf->emit;
	ft->emit_arg = conf->emit_arg;
	/* a secret seed: the traffic is chosen by attackers */
	if (conf->seed != 0) {
		for (i = 0; i < 5; i++)
			ft->seed[i] = fmix64(conf->seed + i);
	} else if (getrandom(ft->seed, sizeof(ft->seed), GRND_NONBLOCK) != sizeof(ft->seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		for (i = 0; i < 5; i++)
			ft->seed[i] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ull + i;
	}
	ft->st.capacity = conf->capacity;
	return ft;
}

void
umbra_flow_table_free(struct umbra_flow_table *ft)
{
	if (ft == NULL)
		return;
	if (ft->buckets != NULL)
		munmap(ft->buckets, ft->buckets_size);
	if (ft->entries != NULL)
		munmap(ft->entries, ft->entries_size);
	free(ft->free_stack);
	free(ft);
}

/* Seeded: five independent multiplies, then one finalizer. */
static inline uint64_t
hash_seeded(const struct umbra_flow_table *ft, const struct umbra_flow_key *key)
{
	uint64_t w[5];

	memcpy(w, key, sizeof(w));
	return fmix64(((w[0] ^ ft->seed[0]) * 0x9e3779b97f4a7c15ull) +
		      ((w[1] ^ ft->seed[1]) * 0xc2b2ae3d27d4eb4full) +
		      ((w[2] ^ ft->seed[2]) * 0x165667b19e3779f9ull) +
		      ((w[3] ^ ft->seed[3]) * 0x85ebca77c2b2ae63ull) +
		      ((w[4] ^ ft->seed[4]) * 0x27d4eb2f165667c5ull));
}

uint64_t
umbra_flow_hash(const struct umbra_flow_key *key)
{
	/* unseeded variant for callers without a table (tests, bench) */
	uint64_t w[5];

	memcpy(w, key, sizeof(w));
	return fmix64(w[0] * 0x9e3779b97f4a7c15ull + w[1] * 0xc2b2ae3d27d4eb4full +
		      w[2] * 0x165667b19e3779f9ull + w[3] * 0x85ebca77c2b2ae63ull +
		      w[4] * 0x27d4eb2f165667c5ull);
}

static inline uint32_t
sig_of(uint64_t h)
{
	return (uint32_t)(h >> 24) | 1;
}

static inline uint32_t
b1_of(const struct umbra_flow_table *ft, uint64_t h)
{
	return (uint32_t)h & ft->bmask;
}

static inline uint32_t
b2_of(const struct umbra_flow_table *ft, uint64_t h)
{
	uint32_t b1 = b1_of(ft, h), b2 = (uint32_t)(h >> 40) & ft->bmask;

	return b2 == b1 ? b1 ^ 1 : b2;
}

static inline int
key_eq(const struct umbra_flow_record *r, const struct umbra_flow_key *k)
{
	uint64_t a, b;

	if (memcmp(r->src, k->src, 32) != 0)
		return 0;
	/* sport, dport, proto, family: 6 bytes at the same relative spot */
	memcpy(&a, &r->sport, 8);
	memcpy(&b, &k->sport, 8);
	return ((a ^ b) & 0x0000ffffffffffffull) == 0;
}

static inline void
lru_unlink(struct umbra_flow_table *ft, uint32_t i)
{
	struct umbra_flow_entry *e = &ft->entries[i];

	if (e->prev != UMBRA_FLOW_NONE)
		ft->entries[e->prev].next = e->next;
	else
		ft->lru_head = e->next;
	if (e->next != UMBRA_FLOW_NONE)
		ft->entries[e->next].prev = e->prev;
	else
		ft->lru_tail = e->prev;
}

static inline void
lru_append(struct umbra_flow_table *ft, uint32_t i)
{
	struct umbra_flow_entry *e = &ft->entries[i];

	e->prev = ft->lru_tail;
	e->next = UMBRA_FLOW_NONE;
	if (ft->lru_tail != UMBRA_FLOW_NONE)
		ft->entries[ft->lru_tail].next = i;
	else
		ft->lru_head = i;
	ft->lru_tail = i;
}

static inline void
lru_to_tail(struct umbra_flow_table *ft, uint32_t i)
{
	if (ft->lru_tail == i)
		return;
	lru_unlink(ft, i);
	lru_append(ft, i);
}

/* Take entry i out of the table and hand its record to the sink. */
static void
export_entry(struct umbra_flow_table *ft, uint32_t i, unsigned reason)
{
	struct umbra_flow_entry *e = &ft->entries[i];
	struct bucket *b = &ft->buckets[e->loc / BUCKET_WAYS];

	b->sig[e->loc % BUCKET_WAYS] = 0;
	lru_unlink(ft, i);
	ft->free_stack[ft->nfree++] = i;
	ft->st.active--;
	e->rec.end_reason = (uint8_t)reason;
	/*
	 * the oldest flows leave one after the other, and the oldest is the
	 * coldest entry of the table: ask for the next one's two lines now
	 */
	if (ft->lru_head != UMBRA_FLOW_NONE) {
		const char *h = (const char *)&ft->entries[ft->lru_head];
		__builtin_prefetch(h, 1);
		__builtin_prefetch(h + 64, 1);
	}
	ft->emit(ft->emit_arg, &e->rec);
}

void
umbra_flow_touch(struct umbra_flow_table *ft, struct umbra_flow_entry *e,
		 uint64_t now_ns)
{
	if (now_ns > e->rec.last_ns)
		e->rec.last_ns = now_ns;
	lru_to_tail(ft, (uint32_t)(e - ft->entries));
}

static inline int
find_in(const struct umbra_flow_table *ft, const struct bucket *b, uint32_t sig,
	const struct umbra_flow_key *key, uint32_t *out)
{
	unsigned s;

	for (s = 0; s < BUCKET_WAYS; s++) {
		if (b->sig[s] == sig && key_eq(&ft->entries[b->idx[s]].rec, key)) {
			*out = b->idx[s];
			return 1;
		}
	}
	return 0;
}

static inline int
free_slot(const struct bucket *b)
{
	unsigned s;

	for (s = 0; s < BUCKET_WAYS; s++)
		if (b->sig[s] == 0)
			return (int)s;
	return -1;
}

static int
handed_out(struct umbra_flow_entry *const *entries, unsigned n,
	   const struct umbra_flow_entry *e)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (entries[i] == e)
			return 1;
	return 0;
}

/*
 * Both buckets full: push out the least recently seen of their 16 flows,
 * skipping flows already handed to this burst. Returns 0 on success.
 */
static int
evict_from_buckets(struct umbra_flow_table *ft, uint32_t b1, uint32_t b2,
		   struct umbra_flow_entry *const *entries, unsigned n)
{
	const uint32_t bs[2] = { b1, b2 };
	uint32_t victim = UMBRA_FLOW_NONE;
	uint64_t oldest = UINT64_MAX;
	unsigned k, s;

	for (k = 0; k < 2; k++) {
		for (s = 0; s < BUCKET_WAYS; s++) {
			uint32_t i = ft->buckets[bs[k]].idx[s];
			struct umbra_flow_entry *e = &ft->entries[i];

			if (e->rec.last_ns < oldest && !handed_out(entries, n, e)) {
				oldest = e->rec.last_ns;
				victim = i;
			}
		}
	}
	if (victim == UMBRA_FLOW_NONE)
		return -1;
	ft->st.evicted_bucket++;
	export_entry(ft, victim, UMBRA_END_EVICTED);
	return 0;
}

static inline void
init_record(struct umbra_flow_record *r, const struct umbra_flow_key *k,
	    uint64_t now_ns)
{
	/*
	 * seven 16-byte stores: memset() of the 112 bytes compiled to rep
	 * stosq, whose start-up cost was a tenth of a lookup
	 */
	typedef uint8_t zero16 __attribute__((vector_size(16), aligned(1), may_alias));
	zero16 *q = (zero16 *)(void *)r;
	const zero16 z = {0};
	_Static_assert(sizeof(*r) == 7 * sizeof(z), "a record is seven 16-byte stores");
	q[0] = z;
	q[1] = z;
	q[2] = z;
	q[3] = z;
	q[4] = z;
	q[5] = z;
	q[6] = z;
	memcpy(r->src, k->src, 32);
	r->sport = k->sport;
	r->dport = k->dport;
	r->proto = k->proto;
	r->family = k->family;
	r->first_ns = now_ns;
	r->last_ns = now_ns;
}

static struct umbra_flow_entry *
insert(struct umbra_flow_table *ft, const struct umbra_flow_key *key, uint64_t h,
       uint64_t now_ns, struct umbra_flow_entry *const *entries, unsigned n)
{
	uint32_t b1 = b1_of(ft, h), b2 = b2_of(ft, h), bi, i;
	struct umbra_flow_entry *e;
	int s;

	if (ft->nfree == 0) {
		/* full: the least recently seen flow makes room */
		uint32_t victim = ft->lru_head;

		if (victim == UMBRA_FLOW_NONE ||
		    handed_out(entries, n, &ft->entries[victim]))
			return NULL;
		ft->st.evicted_capacity++;
		export_entry(ft, victim, UMBRA_END_EVICTED);
	}
	bi = b1;
	s = free_slot(&ft->buckets[b1]);
	if (s < 0) {
		bi = b2;
		s = free_slot(&ft->buckets[b2]);
	}
	if (s < 0) {
		if (evict_from_buckets(ft, b1, b2, entries, n) != 0)
			return NULL;
		bi = b1;
		s = free_slot(&ft->buckets[b1]);
		if (s < 0) {
			bi = b2;
			s = free_slot(&ft->buckets[b2]);
		}
	}
	i = ft->free_stack[--ft->nfree];
	e = &ft->entries[i];
	init_record(&e->rec, key, now_ns);
	e->sig = sig_of(h);
	e->loc = bi * BUCKET_WAYS + (uint32_t)s;
	ft->buckets[bi].sig[s] = e->sig;
	ft->buckets[bi].idx[s] = i;
	lru_append(ft, i);
	ft->st.active++;
	ft->st.inserts++;
	return e;
}

void
umbra_flow_lookup_bulk(struct umbra_flow_table *ft,
		       const struct umbra_flow_key *keys, const uint64_t *hashes,
		       unsigned n, uint64_t now_ns,
		       struct umbra_flow_entry **entries, uint8_t *created)
{
	uint64_t hs[n > 0 ? n : 1];
	unsigned i;

	/* pass 1: hash and prefetch both candidate buckets */
	for (i = 0; i < n; i++) {
		uint64_t h = hashes != NULL ? hashes[i] : hash_seeded(ft, &keys[i]);

		hs[i] = h;
		__builtin_prefetch(&ft->buckets[b1_of(ft, h)]);
		__builtin_prefetch(&ft->buckets[b2_of(ft, h)]);
	}
	/* darknet flows are mostly new: the entries the inserts will take */
	for (i = 0; i < n && i < ft->nfree; i++)
		__builtin_prefetch(&ft->entries[ft->free_stack[ft->nfree - 1 - i]], 1);
	/* pass 2: prefetch the entries whose signature matches */
	for (i = 0; i < n; i++) {
		const struct bucket *b = &ft->buckets[b1_of(ft, hs[i])];
		uint32_t sig = sig_of(hs[i]);
		unsigned s;

		for (s = 0; s < BUCKET_WAYS; s++)
			if (b->sig[s] == sig)
				__builtin_prefetch(&ft->entries[b->idx[s]]);
	}
	/* pass 3: resolve in order, so repeated keys find earlier inserts */
	for (i = 0; i < n; i++) {
		uint64_t h = hs[i];
		uint32_t sig = sig_of(h), idx;
		struct umbra_flow_entry *e;

		ft->st.lookups++;
		if (find_in(ft, &ft->buckets[b1_of(ft, h)], sig, &keys[i], &idx) ||
		    find_in(ft, &ft->buckets[b2_of(ft, h)], sig, &keys[i], &idx)) {
			e = &ft->entries[idx];
			created[i] = 0;
			if (now_ns - e->rec.first_ns >= ft->active_ns &&
			    now_ns >= e->rec.first_ns && !handed_out(entries, i, e)) {
				/* long-lived: export what we have, start afresh */
				struct umbra_flow_entry old = *e;

				old.rec.end_reason = UMBRA_END_ACTIVE;
				ft->st.expired_active++;
				ft->emit(ft->emit_arg, &old.rec);
				init_record(&e->rec, &keys[i], now_ns);
				created[i] = 1;
			}
			lru_to_tail(ft, idx);
		} else {
			e = insert(ft, &keys[i], h, now_ns, entries, i);
			created[i] = e != NULL;
		}
		entries[i] = e;
	}
}

unsigned
umbra_flow_expire(struct umbra_flow_table *ft, uint64_t now_ns, unsigned max)
{
	unsigned n = 0;

	while (n < max && ft->lru_head != UMBRA_FLOW_NONE) {
		uint32_t i = ft->lru_head;

		if (ft->entries[i].rec.last_ns + ft->idle_ns > now_ns)
			break;
		ft->st.expired_idle++;
		export_entry(ft, i, UMBRA_END_IDLE);
		n++;
	}
	return n;
}

unsigned
umbra_flow_flush_all(struct umbra_flow_table *ft, unsigned reason)
{
	unsigned n = 0;

	while (ft->lru_head != UMBRA_FLOW_NONE) {
		export_entry(ft, ft->lru_head, reason);
		n++;
	}
	return n;
}

void
umbra_flow_table_stats(const struct umbra_flow_table *ft,
		       struct umbra_flow_table_stats *st)
{
	*st = ft->st;
}

uint32_t
umbra_flow_table_active(const struct umbra_flow_table *ft)
{
	return ft->st.active;
}
