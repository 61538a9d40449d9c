/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table. Owned by one lcore; no locks.
 *
 * Layout: 64-byte buckets of 8 (signature, entry index) pairs, two
 * candidate buckets per key, and a separate array of 128-byte entries
 * that embed the flow record being built. A key goes to its second bucket
 * only when its first is full; four bits of the first bucket count such
 * keys, so a lookup reads one bucket unless that count is non-zero.
 *
 * Expiry order: a ring of queue positions, each naming an entry. A new
 * flow is queued at the tail; a flow seen again is queued anew at the
 * tail and its old position becomes stale (the entry records its current
 * position). Expiry walks from the head, skips stale positions and stops
 * at the first live flow that is not idle, exactly as a least-recently-
 * seen list would, but reading an array: the entries and buckets it will
 * take are asked of memory 48 positions ahead, where a linked list would
 * wait on each entry in turn. Darknet traffic is insert-heavy (most
 * flows have one or two packets), so expiry is half of the table's
 * memory traffic. A full table pushes out the flow at the head.
 *
 * The ring holds twice the capacity and keeps room for every free entry.
 * A flow seen again when the rest is taken by stale positions is marked
 * instead of queued anew; expiry requeues it when it reaches its old
 * position, so such a flow may be exported late (never early) by at most
 * the time it had been queued, and a full table may push it out as if it
 * had been seen then. That needs more packets to known flows within one
 * idle timeout than the table has entries. Flows pushed out of their
 * buckets leave stale positions too: when they fill the ring, the flow at
 * its head leaves early, as evicted.
 */
#ifndef UMBRA_FLOW_TABLE_H
#define UMBRA_FLOW_TABLE_H

#include <stdint.h>

#include "umbra/record.h"

#define UMBRA_FLOW_NONE UINT32_MAX

struct umbra_flow_key {
	uint8_t src[16];
	uint8_t dst[16];
	uint16_t sport;
	uint16_t dport;
	uint8_t proto;
	uint8_t family;
	uint16_t pad; /* zero */
};
_Static_assert(sizeof(struct umbra_flow_key) == 40, "flow key size");

struct umbra_flow_entry {
	struct umbra_flow_record rec;
	uint32_t qpos;  /* its current expiry queue position */
	uint32_t loc;   /* bucket * 8 + slot */
	uint32_t sig;
	uint32_t flags; /* table-private */
};
_Static_assert(sizeof(struct umbra_flow_entry) == 128, "flow entry size");

struct umbra_flow_table;

/* Called for every record that leaves the table (expiry or eviction). */
typedef void (*umbra_flow_emit_fn)(void *arg, struct umbra_flow_record *rec);

struct umbra_flow_table_conf {
	uint32_t capacity;       /* max live flows */
	uint64_t idle_ns;        /* idle timeout */
	uint64_t active_ns;      /* active timeout */
	umbra_flow_emit_fn emit; /* where finished records go */
	void *emit_arg;
	uint64_t seed;           /* hash seed; 0 = random (tests fix it) */
	/*
	 * Fault every page of the table in at creation: live capture, where
	 * a page fault on the first packets of a flood is a burst of missed
	 * packets. Replay leaves it 0 and faults pages as flows come.
	 */
	int prefault;
};

struct umbra_flow_table_stats {
	uint64_t inserts;
	uint64_t lookups;
	uint64_t evicted_capacity; /* table full */
	uint64_t evicted_bucket;   /* both candidate buckets full */
	uint64_t inserts_second;   /* inserts that found the first bucket full */
	uint64_t expired_idle;
	uint64_t expired_active;
	uint32_t active;
	uint32_t capacity;
};

/* NULL with errno on failure. */
struct umbra_flow_table *umbra_flow_table_create(const struct umbra_flow_table_conf *conf);
void umbra_flow_table_free(struct umbra_flow_table *ft);

/*
 * The table's (seeded) hash of key, with its bucket asked of memory: call
 * it as each key is made, well before the lookup, and pass the hashes.
 */
uint64_t umbra_flow_prefetch(const struct umbra_flow_table *ft,
			     const struct umbra_flow_key *key);

/*
 * Find or create the flows of n keys at time now_ns, in bulk. hashes are
 * from umbra_flow_prefetch(), or NULL to hash here. Buckets and entries
 * are prefetched for the whole burst before any is touched. entries[i]
 * gets the flow of keys[i]; created[i] is 1 when it was inserted (its
 * record holds only the key, first_ns and last_ns: the caller fills the
 * rest). A flow whose active timeout elapsed is exported and restarted.
 * Keys repeated in one burst map to the same entry.
 */
void umbra_flow_lookup_bulk(struct umbra_flow_table *ft,
			    const struct umbra_flow_key *keys,
			    const uint64_t *hashes, unsigned n, uint64_t now_ns,
			    struct umbra_flow_entry **entries, uint8_t *created);

/* Mark that entry e saw a packet at now_ns (queues it anew for expiry). */
void umbra_flow_touch(struct umbra_flow_table *ft, struct umbra_flow_entry *e,
		      uint64_t now_ns);

/* Export flows idle since before now - idle; at most max. Returns count. */
unsigned umbra_flow_expire(struct umbra_flow_table *ft, uint64_t now_ns,
			   unsigned max);

/* Export every flow with end reason reason (shutdown). Returns count. */
unsigned umbra_flow_flush_all(struct umbra_flow_table *ft, unsigned reason);

/* Live flows now. */
uint32_t umbra_flow_table_active(const struct umbra_flow_table *ft);

void umbra_flow_table_stats(const struct umbra_flow_table *ft,
			    struct umbra_flow_table_stats *st);

#endif /* UMBRA_FLOW_TABLE_H */
