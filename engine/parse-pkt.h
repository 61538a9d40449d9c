/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: link layer to transport header, bounds-checked against
 * the captured length. DPDK-free so it is unit-tested and fuzzed alone.
 *
 * Every packet ends in exactly one outcome: OK (an IP packet whose headers
 * were all in bounds), NOT_IP (a well-formed frame that carries no IP:
 * ARP, STP, LLDP...), or MALFORMED with a reason. The parser never reads
 * outside [data, data + caplen).
 */
#ifndef UMBRA_PARSE_PKT_H
#define UMBRA_PARSE_PKT_H

#include <stdint.h>

/* Link types we parse: pcap LINKTYPE_* values (Ethernet for real NICs). */
enum umbra_link {
	UMBRA_LINK_ETHERNET = 1,    /* LINKTYPE_ETHERNET */
	UMBRA_LINK_RAW = 101,       /* LINKTYPE_RAW: starts at the IP header */
	UMBRA_LINK_NULL = 0,        /* LINKTYPE_NULL: 4-byte host-order AF */
	UMBRA_LINK_LOOP = 108,      /* LINKTYPE_LOOP: 4-byte network-order AF */
	UMBRA_LINK_LINUX_SLL = 113, /* LINKTYPE_LINUX_SLL: 16-byte cooked */
	UMBRA_LINK_IPV4 = 228,      /* LINKTYPE_IPV4 */
	UMBRA_LINK_IPV6 = 229,      /* LINKTYPE_IPV6 */
};

enum umbra_parse_status {
	UMBRA_PARSE_OK = 0,
	UMBRA_PARSE_NOT_IP = 1,
	UMBRA_PARSE_MALFORMED = 2,
};

/*
 * Malformed reasons. Names (umbra_malformed_name) appear in --stats-json,
 * metrics and dumps: append only.
 */
enum umbra_malformed {
	UMBRA_MAL_NONE = 0,
	UMBRA_MAL_L2_TRUNC,          /* frame shorter than its link header/tags */
	UMBRA_MAL_VLAN_DEPTH,        /* more VLAN tags than UMBRA_VLAN_MAX */
	UMBRA_MAL_IPV4_TRUNC,        /* less than 20 bytes of IPv4 header */
	UMBRA_MAL_IPV4_VERSION,      /* IPv4 ethertype, version != 4 */
	UMBRA_MAL_IPV4_IHL,          /* IHL < 5 or header beyond the frame */
	UMBRA_MAL_IPV4_TOTLEN,       /* total length < IHL*4 or beyond frame */
	UMBRA_MAL_IPV6_TRUNC,        /* less than 40 bytes of IPv6 header */
	UMBRA_MAL_IPV6_VERSION,      /* IPv6 ethertype, version != 6 */
	UMBRA_MAL_IPV6_PLEN,         /* payload length beyond the frame */
	UMBRA_MAL_IPV6_EXT,          /* extension-header chain past the packet */
	UMBRA_MAL_TCP_TRUNC,         /* less than 20 bytes of TCP header */
	UMBRA_MAL_TCP_DOFF,          /* data offset < 5 or beyond the packet */
	UMBRA_MAL_UDP_TRUNC,         /* less than 8 bytes of UDP header */
	UMBRA_MAL_UDP_LEN,           /* UDP length < 8 or beyond the packet */
	UMBRA_MAL_ICMP_TRUNC,        /* ICMP/ICMPv6 header shorter than 4 bytes */
	UMBRA_MAL_FRAG,              /* fragment offset + length beyond 65535 */
	UMBRA_MAL_MAX
};

#define UMBRA_VLAN_MAX 4 /* 802.1Q, QinQ and a little more */

/* Fragment position of the IP packet. */
enum umbra_frag {
	UMBRA_FRAG_NONE = 0,
	UMBRA_FRAG_FIRST = 1, /* offset 0, more-fragments set: ports valid */
	UMBRA_FRAG_LATER = 2, /* offset > 0: no transport header, ports 0 */
};

/*
 * What the parser learnt. Pointers point into the packet. Fields below
 * the transport are valid when status is OK; transport fields when
 * l4 != NULL (not for non-first fragments or unknown protocols).
 */
struct umbra_pkt {
	const uint8_t *l3;      /* IP header */
	const uint8_t *l4;      /* transport header, NULL if none */
	const uint8_t *payload; /* transport payload, NULL if none */
	const uint8_t *src;     /* 4 or 16 bytes, network order */
	const uint8_t *dst;
	const uint8_t *tcp_opts; /* TCP options, NULL if none */
	uint32_t payload_len;    /* bytes of payload inside the IP length */
	uint32_t ip_bytes;       /* IPv4 total length, IPv6 payload len + 40 */
	uint32_t tcp_seq;        /* host order */
	uint32_t tcp_ack;
	uint16_t sport;          /* host order; ICMP: type */
	uint16_t dport;          /* host order; ICMP: code */
	uint16_t ip_id;          /* IPv4 identification (IPv6 frag id low 16) */
	uint16_t tcp_window;
	uint16_t vlan[UMBRA_VLAN_MAX]; /* VLAN ids, outermost first */
	uint8_t nvlan;
	uint8_t family;     /* 4 or 6 */
	uint8_t proto;      /* transport protocol (after IPv6 ext headers) */
	uint8_t ttl;        /* TTL or hop limit */
	uint8_t tcp_flags;  /* low 8 bits of the TCP flags */
	uint8_t tcp_opts_len;
	uint8_t ip_opts_len; /* IPv4 options bytes or IPv6 ext header bytes */
	uint8_t frag;        /* enum umbra_frag */
	uint8_t tos;         /* IPv4 TOS / IPv6 traffic class */
	uint8_t ip_flags;    /* IPv4: DF=0x2, MF=0x1 (as in the header) */
	uint8_t malformed;   /* enum umbra_malformed when MALFORMED */
};

/*
 * Parse one frame. caplen is the number of bytes readable at data.
 * Returns enum umbra_parse_status; fills *pkt.
 */
int umbra_parse(const uint8_t *data, uint32_t caplen, unsigned link,
		struct umbra_pkt *pkt);

/* Whether this link type is one umbra_parse understands. */
int umbra_link_supported(unsigned link);

/* Short snake_case name of a malformed reason ("ipv4_ihl"), or NULL. */
const char *umbra_malformed_name(unsigned reason);

#endif /* UMBRA_PARSE_PKT_H */
