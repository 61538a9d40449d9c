/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra flow record: the fixed in-memory layout that leaves the workers,
 * crosses the SPSC rings, and that the reader library hands to analysts.
 *
 * The on-disk encoding is columnar and different (docs/FORMAT.md); this
 * struct is the ABI between the engine, plugins and reader users. Its size
 * and field offsets are pinned below and only ever grow at the end.
 */
#ifndef UMBRA_RECORD_H
#define UMBRA_RECORD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define UMBRA_RECORD_ABI 1

/* Why a flow record was emitted. 0 is never written. */
enum umbra_end_reason {
	UMBRA_END_IDLE = 1,     /* no packet for --idle-timeout */
	UMBRA_END_ACTIVE = 2,   /* alive longer than --active-timeout */
	UMBRA_END_EVICTED = 3,  /* flow table full: oldest flow pushed out */
	UMBRA_END_SHUTDOWN = 4, /* engine stopped (signal or end of capture) */
	UMBRA_END_MAX
};

/*
 * Tag bits. The class bits (scan, backscatter, other) are exclusive and set
 * from the first packet; the others accumulate. Bit positions are part of
 * the file format: never renumber, only append.
 */
enum umbra_tag_bit {
	UMBRA_TAG_BIT_SCAN = 0,
	UMBRA_TAG_BIT_BACKSCATTER = 1,
	UMBRA_TAG_BIT_OTHER = 2,
	UMBRA_TAG_BIT_FRAGMENT = 3,
	UMBRA_TAG_BIT_ZMAP = 4,
	UMBRA_TAG_BIT_MASSCAN = 5,
	UMBRA_TAG_BIT_MIRAI = 6,
	UMBRA_TAG_BIT_LARGE_SCAN = 7,
	UMBRA_TAG_BIT_BOGON = 8,
	UMBRA_TAG_BIT_SPOOFED = 9,
	UMBRA_TAG_BIT_BUILTIN_MAX = 10,
	/* bits 16..31 are handed out to plugins at registration */
	UMBRA_TAG_BIT_PLUGIN_FIRST = 16,
	UMBRA_TAG_BIT_MAX = 32
};

#define UMBRA_TAG(bit) (UINT32_C(1) << (bit))
#define UMBRA_TAG_SCAN UMBRA_TAG(UMBRA_TAG_BIT_SCAN)
#define UMBRA_TAG_BACKSCATTER UMBRA_TAG(UMBRA_TAG_BIT_BACKSCATTER)
#define UMBRA_TAG_OTHER UMBRA_TAG(UMBRA_TAG_BIT_OTHER)
#define UMBRA_TAG_FRAGMENT UMBRA_TAG(UMBRA_TAG_BIT_FRAGMENT)
#define UMBRA_TAG_CLASS_MASK (UMBRA_TAG_SCAN | UMBRA_TAG_BACKSCATTER | UMBRA_TAG_OTHER)

/* syn_wscale when the first SYN carried no window-scale option */
#define UMBRA_WSCALE_NONE 0xff
/* syn_mss when the first SYN carried no MSS option */
#define UMBRA_MSS_NONE 0
#define UMBRA_OLAYOUT_MAX 16

/*
 * One flow: (src, dst, proto, sport, dport). For ICMP and ICMPv6 sport is
 * the type and dport the code. IPv4 addresses sit in the first 4 bytes of
 * src/dst (network order) with the other 12 zero; family says which.
 */
struct umbra_flow_record {
	uint64_t first_ns; /* UNIX time of the first packet, ns */
	uint64_t last_ns;  /* UNIX time of the last packet, ns */
	uint8_t src[16];
	uint8_t dst[16];
	uint64_t bytes;   /* IP bytes, as IPFIX octetDeltaCount */
	uint32_t packets;
	uint32_t tags;    /* UMBRA_TAG_* bits */
	uint16_t sport;   /* host order */
	uint16_t dport;   /* host order */
	uint8_t proto;    /* IP protocol number of the transport */
	uint8_t family;   /* 4 or 6 */
	uint8_t tcp_flags; /* OR of all packets' TCP flags (low 8 bits) */
	uint8_t end_reason; /* enum umbra_end_reason */
	uint8_t ttl_min;  /* IPv4 TTL or IPv6 hop limit */
	uint8_t ttl_max;
	uint16_t ip_id;   /* IPv4 identification of the first packet */
	/* fields of the flow's first SYN (all zero when there was none) */
	uint16_t syn_window;
	uint16_t syn_mss;   /* UMBRA_MSS_NONE when absent */
	uint8_t syn_wscale; /* UMBRA_WSCALE_NONE when absent */
	uint8_t syn_ip_olen; /* IPv4 options length / IPv6 ext bytes (p0f olen) */
	uint8_t syn_ttl;    /* TTL/hop limit seen on the SYN */
	uint8_t syn_nopts;  /* number of TCP options (may exceed OLAYOUT_MAX) */
	uint8_t syn_olayout[UMBRA_OLAYOUT_MAX]; /* TCP option kinds in order */
	uint32_t syn_quirks; /* p0f quirk bits (classification issue) */
	uint16_t p0f_label;  /* label id, 0 = unknown */
	uint16_t sig_id;     /* first matched payload signature, 0 = none */
	uint8_t syn_pclass;  /* 1 when the SYN carried payload */
	uint8_t reserved[3];
};

_Static_assert(sizeof(struct umbra_flow_record) == 112, "record size is ABI");
_Static_assert(offsetof(struct umbra_flow_record, src) == 16, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, bytes) == 48, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, sport) == 64, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, ttl_min) == 72, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, syn_olayout) == 84, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, syn_quirks) == 100, "record ABI");
_Static_assert(offsetof(struct umbra_flow_record, syn_pclass) == 108, "record ABI");

/* Names used in CSV/NDJSON output and docs. NULL for unknown values. */
const char *umbra_end_reason_name(unsigned reason);
const char *umbra_tag_name(unsigned bit);
/* Lower-case protocol name ("tcp", "udp", "icmp", "icmp6") or NULL. */
const char *umbra_proto_name(unsigned proto);

#ifdef __cplusplus
}
#endif
#endif /* UMBRA_RECORD_H */
