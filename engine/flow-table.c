/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>

#include "flow-table.h"

#define BUCKET_WAYS 8

/*
 * Entry indices take 30 bits (capacity is at most 2^30). The top two bits
 * of idx[0] and idx[1] hold the bucket's overflow count: how many of the
 * keys whose first bucket this is sit in their second one (saturating at
 * OVF_STUCK, which then stays). A lookup reads the second bucket only
 * when it is not zero, and needs no other line to know.
 */
struct bucket {
	uint32_t sig[BUCKET_WAYS]; /* 0 = empty */
	uint32_t idx[BUCKET_WAYS];
};
_Static_assert(sizeof(struct bucket) == 64, "one cache line per bucket");

#define IDX_MASK 0x3fffffffu
#define OVF_STUCK 15

static inline uint32_t
b_idx(const struct bucket *b, unsigned s)
{
	return b->idx[s] & IDX_MASK;
}

static inline void
b_idx_set(struct bucket *b, unsigned s, uint32_t i)
{
	b->idx[s] = (b->idx[s] & ~IDX_MASK) | i;
}

static inline unsigned
b_ovf(const struct bucket *b)
{
	return b->idx[0] >> 30 | (b->idx[1] >> 30) << 2;
}

static inline void
b_ovf_add(struct bucket *b, int d)
{
	unsigned v = b_ovf(b);

	if (v == OVF_STUCK)
		return;
	/* a count that would go below zero is wrong: look at b2 for good */
	v = v == 0 && d < 0 ? OVF_STUCK : (unsigned)((int)v + d);
	b->idx[0] = (b->idx[0] & IDX_MASK) | (v & 3) << 30;
	b->idx[1] = (b->idx[1] & IDX_MASK) | (v >> 2) << 30;
}

struct umbra_flow_table {
	struct bucket *buckets;
	struct umbra_flow_entry *entries;
	uint32_t *free_stack;
	/*
	 * The expiry queue: a ring of (entry index, bucket location) pairs in
	 * the order flows were last queued. See flow-table.h.
	 */
	uint64_t *q;
	uint32_t qmask;
	uint32_t qhead;    /* positions count up and wrap; ring slot = pos & qmask */
	uint32_t qtail;
	uint32_t nfree;
	uint32_t bmask;
	uint32_t capacity;
	uint64_t seed[5];
	uint64_t idle_ns;
	uint64_t active_ns;
	umbra_flow_emit_fn emit;
	void *emit_arg;
	struct umbra_flow_table_stats st;
	size_t buckets_size;
	size_t entries_size;
	size_t q_size;
};

#define ENT_REQUEUE 0x01 /* seen again while the queue had no room to requeue it */
#define ENT_SECOND 0x02  /* placed in its second bucket */
#define QPREFETCH 48     /* queue positions ahead that expiry asks memory for */

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
	uint64_t want, nb = 2, nq;
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
	/*
	 * Room for every live flow and as many requeued positions again: a
	 * flow seen again is queued anew and its old position is skipped
	 * when expiry reaches it.
	 */
	for (nq = 64; nq < 2 * (uint64_t)conf->capacity; nq <<= 1)
		;
	ft->qmask = (uint32_t)(nq - 1);
	ft->q_size = nq * sizeof(*ft->q);
	ft->q = table_alloc(ft->q_size);
	/* all mapped first: a table too large for memory fails here at once */
	if (ft->buckets == NULL || ft->entries == NULL || ft->free_stack == NULL ||
	    ft->q == NULL ||
	    (conf->prefault && (table_prefault(ft->buckets, ft->buckets_size) != 0 ||
				table_prefault(ft->entries, ft->entries_size) != 0 ||
				table_prefault(ft->q, ft->q_size) != 0))) {
		umbra_flow_table_free(ft);
		errno = ENOMEM;
		return NULL;
	}
	/* pop order 0, 1, 2... keeps fresh inserts sequential in memory */
	for (i = 0; i < conf->capacity; i++)
		ft->free_stack[i] = conf->capacity - 1 - i;
	ft->nfree = conf->capacity;
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
	if (ft->q != NULL)
		munmap(ft->q, ft->q_size);
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

/* The key of a live entry, rebuilt from its record. */
static void
key_of(const struct umbra_flow_record *r, struct umbra_flow_key *k)
{
	memset(k, 0, sizeof(*k));
	memcpy(k->src, r->src, 32);
	k->sport = r->sport;
	k->dport = r->dport;
	k->proto = r->proto;
	k->family = r->family;
}

static inline uint32_t
q_count(const struct umbra_flow_table *ft)
{
	return ft->qtail - ft->qhead;
}

/* Queue entry i at the tail (the caller made sure there is room). */
static inline void
q_append(struct umbra_flow_table *ft, uint32_t i)
{
	struct umbra_flow_entry *e = &ft->entries[i];

	ft->q[ft->qtail & ft->qmask] = (uint64_t)e->loc << 32 | i;
	e->qpos = ft->qtail++;
	e->flags &= (uint32_t)~ENT_REQUEUE;
}

/*
 * Entry i saw a packet: queue it anew at the tail, so that its old
 * position is skipped. When the queue has no room to spare (it keeps
 * room for every free entry), mark it: expiry requeues it when it reaches
 * the old position.
 */
static inline void
q_seen(struct umbra_flow_table *ft, uint32_t i)
{
	struct umbra_flow_entry *e = &ft->entries[i];

	if (e->qpos == ft->qtail - 1)
		return; /* already last */
	if (q_count(ft) + (ft->capacity - ft->st.active) + 1 <= ft->qmask + 1)
		q_append(ft, i);
	else
		e->flags |= ENT_REQUEUE;
}

/*
 * A prefetch for the line of p to be written. GCC counts the builtin as
 * no side effect, so a void function made of nothing else is deleted as
 * pure, calls and all; the empty asm keeps it.
 */
static inline void
prefetch_w(const void *p)
{
	__builtin_prefetch(p, 1);
	__asm__ volatile("" : : "r"(p));
}

/*
 * Ask memory for what expiry reads QPREFETCH positions from the head:
 * the entry (both lines: its record leaves whole) and its bucket.
 */
static inline void
q_prefetch(const struct umbra_flow_table *ft, uint32_t pos)
{
	if (pos - ft->qhead < q_count(ft)) {
		uint64_t v = ft->q[pos & ft->qmask];
		const char *e = (const char *)&ft->entries[(uint32_t)v];

		prefetch_w(e);
		prefetch_w(e + 64);
		prefetch_w(&ft->buckets[(v >> 32) / BUCKET_WAYS]);
	}
}

/* The entry at the queue head, or NONE when that position is stale. */
static inline uint32_t
q_head_entry(const struct umbra_flow_table *ft)
{
	uint32_t i = (uint32_t)ft->q[ft->qhead & ft->qmask];

	return ft->entries[i].qpos == ft->qhead ? i : UMBRA_FLOW_NONE;
}

/* Take entry i out of the table and hand its record to the sink. */
static void
export_entry(struct umbra_flow_table *ft, uint32_t i, unsigned reason)
{
	struct umbra_flow_entry *e = &ft->entries[i];
	struct bucket *b = &ft->buckets[e->loc / BUCKET_WAYS];

	b->sig[e->loc % BUCKET_WAYS] = 0;
	if (e->flags & ENT_SECOND) {
		struct umbra_flow_key k;

		key_of(&e->rec, &k);
		b_ovf_add(&ft->buckets[b1_of(ft, hash_seeded(ft, &k))], -1);
	}
	/* whatever queue position it has is stale from now on */
	e->qpos ^= 0x80000000u;
	e->flags = 0;
	ft->free_stack[ft->nfree++] = i;
	ft->st.active--;
	e->rec.end_reason = (uint8_t)reason;
	ft->emit(ft->emit_arg, &e->rec);
}

void
umbra_flow_touch(struct umbra_flow_table *ft, struct umbra_flow_entry *e,
		 uint64_t now_ns)
{
	if (now_ns > e->rec.last_ns)
		e->rec.last_ns = now_ns;
	q_seen(ft, (uint32_t)(e - ft->entries));
}

static inline int
find_in(const struct umbra_flow_table *ft, const struct bucket *b, uint32_t sig,
	const struct umbra_flow_key *key, uint32_t *out)
{
	unsigned s;

	for (s = 0; s < BUCKET_WAYS; s++) {
		if (b->sig[s] == sig && key_eq(&ft->entries[b_idx(b, s)].rec, key)) {
			*out = b_idx(b, s);
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
			uint32_t i = b_idx(&ft->buckets[bs[k]], s);
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

/*
 * The queue must take one more position. Full (the stale positions of
 * flows pushed out of their buckets filled it), its head makes room:
 * skipped when stale, else that flow, the oldest queued, leaves early.
 */
static int
q_make_room(struct umbra_flow_table *ft, struct umbra_flow_entry *const *entries,
	    unsigned n)
{
	while (q_count(ft) > ft->qmask) {
		uint32_t i = q_head_entry(ft);

		if (i != UMBRA_FLOW_NONE) {
			if (handed_out(entries, n, &ft->entries[i]))
				return -1;
			ft->st.evicted_capacity++;
			export_entry(ft, i, UMBRA_END_EVICTED);
		}
		ft->qhead++;
	}
	return 0;
}

static struct umbra_flow_entry *
insert(struct umbra_flow_table *ft, const struct umbra_flow_key *key, uint64_t h,
       uint64_t now_ns, struct umbra_flow_entry *const *entries, unsigned n)
{
	uint32_t b1 = b1_of(ft, h), b2 = b2_of(ft, h), bi, i;
	struct umbra_flow_entry *e;
	int s;

	/* full: the least recently seen flow makes room */
	while (ft->nfree == 0) {
		uint32_t victim;

		if (q_count(ft) == 0)
			return NULL;
		victim = q_head_entry(ft);
		if (victim == UMBRA_FLOW_NONE) {
			ft->qhead++;
			continue;
		}
		if (handed_out(entries, n, &ft->entries[victim]))
			return NULL;
		ft->qhead++;
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
	if (q_make_room(ft, entries, n) != 0)
		return NULL;
	/* the queue's head may have freed this very slot: it is still free */
	i = ft->free_stack[--ft->nfree];
	e = &ft->entries[i];
	init_record(&e->rec, key, now_ns);
	e->sig = sig_of(h);
	e->loc = bi * BUCKET_WAYS + (uint32_t)s;
	e->flags = 0;
	if (bi != b1) {
		e->flags = ENT_SECOND;
		b_ovf_add(&ft->buckets[b1], 1);
		ft->st.inserts_second++;
	}
	ft->buckets[bi].sig[s] = e->sig;
	b_idx_set(&ft->buckets[bi], (unsigned)s, i);
	ft->st.active++;
	ft->st.inserts++;
	q_append(ft, i);
	return e;
}

uint64_t
umbra_flow_prefetch(const struct umbra_flow_table *ft, const struct umbra_flow_key *key)
{
	uint64_t h = hash_seeded(ft, key);
	uint32_t b1 = b1_of(ft, h);

	__builtin_prefetch(&ft->buckets[b1]);
	return h;
}

void
umbra_flow_lookup_bulk(struct umbra_flow_table *ft,
		       const struct umbra_flow_key *keys, const uint64_t *hashes,
		       unsigned n, uint64_t now_ns,
		       struct umbra_flow_entry **entries, uint8_t *created)
{
	uint64_t hs[n > 0 ? n : 1];
	unsigned i;

	/* pass 1: hash and prefetch the first bucket (the caller may have) */
	if (hashes == NULL) {
		for (i = 0; i < n; i++)
			hs[i] = umbra_flow_prefetch(ft, &keys[i]);
		hashes = hs;
	}
	/*
	 * pass 2: prefetch the entries whose signature matches; the second
	 * bucket only holds keys whose first one overflowed
	 */
	for (i = 0; i < n; i++) {
		uint32_t b1 = b1_of(ft, hashes[i]);
		const struct bucket *b = &ft->buckets[b1];
		uint32_t sig = sig_of(hashes[i]);
		unsigned s;

		for (s = 0; s < BUCKET_WAYS; s++) {
			if (b->sig[s] == sig) {
				/* the key spans both lines */
				const char *e = (const char *)&ft->entries[b_idx(b, s)];

				__builtin_prefetch(e, 1);
				__builtin_prefetch(e + 64, 1);
			}
		}
		if (b_ovf(b) != 0)
			__builtin_prefetch(&ft->buckets[b2_of(ft, hashes[i])]);
	}
	/* pass 3: resolve in order, so repeated keys find earlier inserts */
	for (i = 0; i < n; i++) {
		uint64_t h = hashes[i];
		uint32_t sig = sig_of(h), b1 = b1_of(ft, h), idx;
		struct umbra_flow_entry *e;

		ft->st.lookups++;
		if (find_in(ft, &ft->buckets[b1], sig, &keys[i], &idx) ||
		    (b_ovf(&ft->buckets[b1]) != 0 &&
		     find_in(ft, &ft->buckets[b2_of(ft, h)], sig, &keys[i], &idx))) {
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
			q_seen(ft, idx);
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
	/* stale positions cost a read each: bound them too */
	unsigned n = 0, steps = 0, steps_max = max > UINT_MAX / 4 ? UINT_MAX : max * 4;

	while (n < max && steps < steps_max && q_count(ft) != 0) {
		uint32_t i = q_head_entry(ft);
		struct umbra_flow_entry *e;

		steps++;
		q_prefetch(ft, ft->qhead + QPREFETCH);
		if (i == UMBRA_FLOW_NONE) {
			ft->qhead++;
			continue;
		}
		e = &ft->entries[i];
		if (e->rec.last_ns + ft->idle_ns > now_ns) {
			if (!(e->flags & ENT_REQUEUE))
				break;
			/* seen again when the queue was full: now it has room */
			ft->qhead++;
			q_append(ft, i);
			continue;
		}
		ft->qhead++;
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

	while (q_count(ft) != 0) {
		uint32_t i = q_head_entry(ft);

		q_prefetch(ft, ft->qhead + QPREFETCH);
		ft->qhead++;
		if (i == UMBRA_FLOW_NONE)
			continue;
		export_entry(ft, i, reason);
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
