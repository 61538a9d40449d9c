/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra classifier plugin ABI.
 *
 * A plugin is a shared object that exports one function,
 *
 *	const struct umbra_plugin *umbra_plugin_register(void);
 *
 * returning a const descriptor. The engine loads it with --plugin PATH
 * (dlopen), refuses it when abi_major differs from UMBRA_PLUGIN_ABI_MAJOR,
 * when size is smaller than the descriptor of ABI 1.0, or when another
 * plugin already has the same name. The built-in classifiers (plugins/)
 * are descriptors of this same type.
 *
 * Lifecycle, all on the control thread except classify/flow_finished:
 *   init(host)           register tags, counters, labels, patterns only
 *   lcore_init(ctx, id)  per worker: allocate per-lcore state
 *   classify(lctx, b)    worker hot path: a burst of darknet packets; no
 *                        locks, no allocation, no system calls
 *   flow_finished(lctx, rec)  worker: a record leaves the flow table
 *   lcore_fini(lctx)     per worker, after it stopped
 *   fini(ctx)            once, at exit; also after a failed init() that
 *                        set *ctx
 *
 * Every callback is optional. Minor versions only append fields at the end
 * of these structs; check size before using a field added later.
 */
#ifndef UMBRA_PLUGIN_H
#define UMBRA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#include "umbra/record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UMBRA_PLUGIN_ABI_MAJOR 1
#define UMBRA_PLUGIN_ABI_MINOR 0
#define UMBRA_PLUGIN_REGISTER_SYMBOL "umbra_plugin_register"

/* Read-only view of one darknet packet (pointers into the frame). */
struct umbra_plugin_pkt {
	const uint8_t *l3;       /* IP header */
	const uint8_t *l4;       /* transport header, NULL if none */
	const uint8_t *payload;  /* transport payload, NULL if none */
	const uint8_t *src;      /* 4 or 16 bytes, network order */
	const uint8_t *dst;
	const uint8_t *tcp_opts; /* NULL if none */
	uint32_t payload_len;
	uint32_t ip_bytes;
	uint32_t tcp_seq;        /* host order */
	uint32_t tcp_ack;
	uint16_t sport;          /* host order; ICMP: type */
	uint16_t dport;          /* host order; ICMP: code */
	uint16_t ip_id;
	uint16_t tcp_window;
	uint8_t family;          /* 4 or 6 */
	uint8_t proto;
	uint8_t ttl;
	uint8_t tcp_flags;
	uint8_t tcp_opts_len;
	uint8_t ip_opts_len;
	uint8_t frag;            /* 0 none, 1 first fragment, 2 later fragment */
	uint8_t tos;
	uint8_t ip_flags;        /* IPv4: DF 0x2, MF 0x1, reserved 0x4 */
	uint8_t pad[3];
};

/* pflags[i] of a burst: what pkt[i] is to its flow. */
#define UMBRA_PLUGIN_PKT_FIRST 0x01         /* created the flow */
#define UMBRA_PLUGIN_PKT_FIRST_SYN 0x02     /* the flow's first SYN (no ACK) */
#define UMBRA_PLUGIN_PKT_FIRST_PAYLOAD 0x04 /* the flow's first payload */

/*
 * A burst handed to classify(). rec[i] is the flow of pkt[i] (NULL when
 * the flow table could not make one); pflags[i] holds UMBRA_PLUGIN_PKT_*.
 * counters is this lcore's counter array, indexed by the values
 * register_counter() returned.
 */
struct umbra_plugin_burst {
	unsigned n;
	const struct umbra_plugin_pkt *pkt;
	struct umbra_flow_record *const *rec;
	const uint8_t *pflags;
	uint64_t *counters;
	uint64_t now_ns;
};

/* Engine services available to init(). Return values < 0 are -errno. */
struct umbra_plugin_host {
	uint32_t size; /* sizeof(struct umbra_plugin_host) of the engine */
	void *engine;  /* opaque */
	/* A flow tag bit (16..31) with this name; shown in dumps and stats. */
	int (*register_tag)(struct umbra_plugin_host *h, const char *name);
	/* A per-lcore counter (index into burst->counters), summed in stats. */
	int (*register_counter)(struct umbra_plugin_host *h, const char *name);
	/* A p0f_label id (1..65535) for this name; the same name, the same id. */
	int (*register_label)(struct umbra_plugin_host *h, const char *name);
	/*
	 * A payload signature: Hyperscan regex with flags letters (i, s, m,
	 * 8), scope proto (0 = any) and destination ports lo..hi. Returns the
	 * signature id written to sig_id. The engine compiles all patterns
	 * into one database after every init().
	 */
	int (*register_pattern)(struct umbra_plugin_host *h, const char *name,
				const char *regex, const char *flags,
				unsigned proto, unsigned port_lo, unsigned port_hi);
	/* A setting ("p0f", "rules", "payload-bytes"...) or NULL. */
	const char *(*option)(struct umbra_plugin_host *h, const char *key);
	/* 1 when addr is inside a monitored darknet. */
	int (*in_darknet)(const struct umbra_plugin_host *h, unsigned family,
			  const uint8_t *addr);
	/* Error text for the user, when init() fails. */
	void (*error)(struct umbra_plugin_host *h, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

struct umbra_plugin {
	uint16_t abi_major;  /* UMBRA_PLUGIN_ABI_MAJOR */
	uint16_t abi_minor;  /* UMBRA_PLUGIN_ABI_MINOR */
	uint32_t size;       /* sizeof(struct umbra_plugin) */
	const char *name;    /* unique, [a-z0-9_-] */
	const char *version;
	const char *licence; /* SPDX identifier */
	/* returns 0 and sets *ctx, or -errno (host->error says why) */
	int (*init)(struct umbra_plugin_host *host, void **ctx);
	int (*lcore_init)(void *ctx, unsigned lcore, void **lctx);
	void (*classify)(void *lctx, const struct umbra_plugin_burst *b);
	void (*flow_finished)(void *lctx, struct umbra_flow_record *rec);
	void (*lcore_fini)(void *lctx);
	void (*fini)(void *ctx);
};

/* The smallest descriptor the loader accepts (ABI 1.0). */
#define UMBRA_PLUGIN_MIN_SIZE (offsetof(struct umbra_plugin, fini) + sizeof(void (*)(void *)))

typedef const struct umbra_plugin *(*umbra_plugin_register_fn)(void);

#ifdef __cplusplus
}
#endif
#endif /* UMBRA_PLUGIN_H */
