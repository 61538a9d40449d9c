/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-lcore counters. Each worker owns one struct umbra_counters and is
 * its only writer (plain increments, no atomics on the hot path); the
 * control thread reads them with relaxed loads and sums them. A torn
 * read is impossible for aligned 64-bit words on the supported targets.
 */
#ifndef UMBRA_STATS_COUNTERS_H
#define UMBRA_STATS_COUNTERS_H

#include <stdalign.h>
#include <stdint.h>

#include "filter-darknet.h"
#include "parse-pkt.h"
#include "umbra/record.h"

enum umbra_proto_idx {
	UMBRA_PIDX_TCP,
	UMBRA_PIDX_UDP,
	UMBRA_PIDX_ICMP,
	UMBRA_PIDX_ICMP6,
	UMBRA_PIDX_OTHER,
	UMBRA_PIDX_MAX
};

enum umbra_class {
	UMBRA_CLASS_SCAN,
	UMBRA_CLASS_BACKSCATTER,
	UMBRA_CLASS_OTHER,
	UMBRA_CLASS_MAX
};

/* Counters registered by classifiers (engine/classify.h), by index. */
#define UMBRA_CLS_COUNTERS_MAX 1024

/* Per-sensor slots for addresses without a direct slot (IPv6). */
#define UMBRA_SENSOR_HASH_SIZE 4096

struct umbra_sensor_count {
	uint8_t addr[16];
	uint8_t family; /* 0 = empty slot */
	uint64_t packets;
	uint64_t bytes;
};

struct umbra_counters {
	alignas(64) uint64_t rx_packets;
	uint64_t rx_bytes;
	uint64_t darknet_packets;
	uint64_t darknet_bytes;     /* IP bytes */
	uint64_t not_darknet_packets;
	uint64_t not_ip_packets;
	uint64_t unsupported_link_packets;
	uint64_t malformed_packets;
	uint64_t malformed[UMBRA_MAL_MAX];
	uint64_t proto_packets[UMBRA_PIDX_MAX];
	uint64_t proto_bytes[UMBRA_PIDX_MAX];
	uint64_t class_packets[UMBRA_CLASS_MAX];
	uint64_t fragment_packets;
	uint64_t tag_flows[UMBRA_TAG_BIT_MAX]; /* exported flows per tag */
	/* classifier counters: p0f SYNs per label, matches per signature... */
	uint64_t cls[UMBRA_CLS_COUNTERS_MAX];
	/* flow table and export */
	uint64_t flows_created;
	uint64_t flows_exported;    /* records handed to the ring */
	uint64_t flows_evicted;     /* of which end_reason evicted */
	uint64_t exported_packets;  /* packets inside exported records */
	uint64_t records_dropped;   /* ring full */
	uint64_t records_dropped_packets;
	uint64_t flows_active;      /* gauge: live flows in the table */
	uint64_t sensor_overflow;   /* packets to sensors with no slot left */
	uint64_t now_ns;            /* worker clock: last packet/tick time */
	uint64_t first_ns;          /* time of the first packet */
	/* large per-port/type arrays last: they are touched sparsely */
	uint64_t icmp_type[256];
	uint64_t icmp6_type[256];
	uint64_t tcp_dport[65536];
	uint64_t udp_dport[65536];
	struct umbra_sensor_count sensor_hashed[UMBRA_SENSOR_HASH_SIZE];
	/* direct sensor slots: packets then bytes, 2 * nsensors_direct words */
	uint32_t nsensors_direct;
	uint64_t *sensor_direct;
};

/* Allocate zeroed counters with nsensors direct sensor slots. */
struct umbra_counters *umbra_counters_alloc(uint32_t nsensors);
void umbra_counters_free(struct umbra_counters *c);

/* dst += src for every counter (the control thread's aggregation). */
void umbra_counters_add(struct umbra_counters *dst,
			const struct umbra_counters *src);

/* Count a packet to a sensor without a direct slot. */
void umbra_counters_sensor_hashed(struct umbra_counters *c, unsigned family,
				  const uint8_t *addr, uint32_t ip_bytes);

static inline unsigned
umbra_proto_idx(unsigned proto)
{
	switch (proto) {
	case 6:
		return UMBRA_PIDX_TCP;
	case 17:
		return UMBRA_PIDX_UDP;
	case 1:
		return UMBRA_PIDX_ICMP;
	case 58:
		return UMBRA_PIDX_ICMP6;
	default:
		return UMBRA_PIDX_OTHER;
	}
}

const char *umbra_class_name(unsigned cls);
const char *umbra_proto_idx_name(unsigned idx);

#endif /* UMBRA_STATS_COUNTERS_H */
