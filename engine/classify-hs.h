/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload signatures with Hyperscan: the rules-file parser, the database
 * (compiled once on the control thread, cached on disk keyed by a hash of
 * the patterns and the Hyperscan version) and a lock-free scan with one
 * scratch per lcore cloned from a prototype. Format: docs/CLASSIFY.md.
 */
#ifndef UMBRA_CLASSIFY_HS_H
#define UMBRA_CLASSIFY_HS_H

#include <stddef.h>
#include <stdint.h>

#define UMBRA_HS_RULE_ID_MAX 49999   /* ids from rules files: 1..this */
#define UMBRA_HS_PLUGIN_ID_FIRST 50000 /* ids handed to plugin patterns */
#define UMBRA_HS_NAME_MAX 64
#define UMBRA_HS_MATCH_MAX 8         /* matches remembered per payload */
#define UMBRA_HS_PORT_RANGES 4

struct umbra_hs_pattern {
	uint16_t id;         /* signature id (record sig_id) */
	uint8_t proto;       /* 0 = any */
	uint8_t nports;      /* destination port ranges (TCP/UDP scope) */
	uint16_t port_lo[UMBRA_HS_PORT_RANGES];
	uint16_t port_hi[UMBRA_HS_PORT_RANGES];
	char name[UMBRA_HS_NAME_MAX];
	char flags[8];       /* letters: i s m 8 */
	char *regex;         /* owned */
	char origin[96];     /* "FILE:LINE" or "plugin NAME" for errors */
};

/* A growable list of patterns. */
struct umbra_hs_patterns {
	struct umbra_hs_pattern *p;
	unsigned n, cap;
};

void umbra_hs_patterns_free(struct umbra_hs_patterns *ps);

/* Append one pattern (copies regex). -EINVAL/-EEXIST/-ENOMEM with err. */
int umbra_hs_patterns_add(struct umbra_hs_patterns *ps,
			  const struct umbra_hs_pattern *pat, const char *regex,
			  char *err, size_t errlen);

/*
 * Parse a rules file into ps. Errors name the file and line. Returns 0
 * or -errno.
 */
int umbra_hs_rules_load(struct umbra_hs_patterns *ps, const char *path,
			char *err, size_t errlen);
/* Same from a buffer; name is used in messages. */
int umbra_hs_rules_parse(struct umbra_hs_patterns *ps, const char *buf,
			 size_t len, const char *name, char *err, size_t errlen);

struct umbra_hs;

/*
 * Compile (or load from cache_dir, when not NULL) the database. On a
 * compile error the message names the pattern's origin and carries
 * Hyperscan's text. NULL with errno and err. cached, when not NULL, is
 * set to 1 when the database came from the cache.
 */
struct umbra_hs *umbra_hs_build(const struct umbra_hs_patterns *ps,
				const char *cache_dir, int *cached, char *err,
				size_t errlen);
void umbra_hs_free(struct umbra_hs *hs);

/* Cache key of a pattern set (includes the Hyperscan version). */
uint64_t umbra_hs_key(const struct umbra_hs_patterns *ps);

unsigned umbra_hs_count(const struct umbra_hs *hs);
const struct umbra_hs_pattern *umbra_hs_pattern(const struct umbra_hs *hs,
						unsigned idx);

/* Per-lcore scratch, cloned from the prototype (control thread). */
void *umbra_hs_scratch(const struct umbra_hs *hs);
void umbra_hs_scratch_free(void *scratch);

/*
 * Scan one payload (len > 0) of a packet with this proto and destination
 * port. Writes up to max pattern indexes (not ids) that matched in scope,
 * each once, in pattern order of first report. Returns the count, or -1
 * on a Hyperscan error. No locks, no allocation.
 */
int umbra_hs_scan(const struct umbra_hs *hs, void *scratch, const uint8_t *data,
		  uint32_t len, unsigned proto, unsigned dport, uint16_t *idx,
		  unsigned max);

#endif /* UMBRA_CLASSIFY_HS_H */
