/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker flow table. Owned by one lcore; no locks.
 *
 * Layout: 64-byte buckets of 8 (signature, entry index) pairs, two
 * candidate buckets per key, and a separate array of 128-byte entries
 * that embed the flow record being built. Live entries are kept on an
 * intrusive LRU list ordered by last packet time, so idle expiry and
 * capacity eviction both pop from its head in O(1). Darknet traffic is
 * insert-heavy (most flows have one or two packets): an insert is a free
 * list pop, one bucket slot write and an LRU append.
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
	uint32_t prev; /* LRU neighbours (entry indices) */
	uint32_t next;
	uint32_t loc;  /* bucket * 8 + slot */
	uint32_t sig;
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
	uint64_t expired_idle;
	uint64_t expired_active;
	uint32_t active;
	uint32_t capacity;
};

/* NULL with errno on failure. */
struct umbra_flow_table *umbra_flow_table_create(const struct umbra_flow_table_conf *conf);
void umbra_flow_table_free(struct umbra_flow_table *ft);

uint64_t umbra_flow_hash(const struct umbra_flow_key *key);

/*
 * Find or create the flows of n keys (hashes from umbra_flow_hash) at
 * time now_ns, in bulk: buckets and entries are prefetched for the whole
 * burst before any is touched. entries[i] gets the flow of keys[i];
 * created[i] is 1 when it was inserted (its record holds only the key,
 * first_ns and last_ns: the caller fills the rest). A flow whose active
 * timeout elapsed is exported and restarted. Keys repeated in one burst
 * map to the same entry.
 */
void umbra_flow_lookup_bulk(struct umbra_flow_table *ft,
			    const struct umbra_flow_key *keys,
			    const uint64_t *hashes, unsigned n, uint64_t now_ns,
			    struct umbra_flow_entry **entries, uint8_t *created);

/* Mark that entry e saw a packet at now_ns (moves it to the LRU tail). */
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
