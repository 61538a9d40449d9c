/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet parser: one straight pass from the link header to the transport
 * header. Every read is preceded by a check against the bytes that are
 * left, so a frame of any length and content is safe (fuzzed under ASan).
 *
 * Choices the header leaves open:
 *  - Lengths are checked against caplen: a frame cut by a pcap snaplen
 *    is MALFORMED (ipv4_totlen / ipv6_plen), as the engine sees whole
 *    frames from the NIC.
 *  - IPv6 jumbograms (payload length 0 with a hop-by-hop header) are
 *    reported as ipv6_plen: they cannot cross an Ethernet link.
 *  - A first fragment too short for its transport header is OK with
 *    l4 NULL and ports 0: the header is only cut by the fragment
 *    boundary, it is not malformed (RFC 1858 tiny fragments are still
 *    counted, as FRAG_FIRST without ports). A TCP data offset < 5 or a
 *    UDP length < 8 is malformed even in a first fragment.
 *  - In a first fragment the UDP length may exceed the bytes present (it
 *    covers the whole datagram); payload_len is what this fragment holds.
 *  - ICMP/ICMPv6: every message has an 8-byte header (type, code,
 *    checksum, 4 bytes of rest-of-header), so the payload starts at byte 8
 *    when there are 8 bytes, else at byte 4. Protocol 1 and 58 are both
 *    parsed as ICMP whatever the IP version.
 *  - LINKTYPE_RAW with a version nibble other than 4 or 6 is ipv4_version;
 *    an empty RAW frame is l2_trunc.
 *  - An unsupported link type returns NOT_IP (check umbra_link_supported
 *    once at start-up instead).
 */
#include <stddef.h>
#include <string.h>

#include "parse-pkt.h"

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

#define ETH_HLEN 14
#define SLL_HLEN 16
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define ETHERTYPE_VLAN 0x8100
#define ETHERTYPE_QINQ 0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define ETHERTYPE_MIN 0x0600 /* below: 802.3 length field */

#define PROTO_HOPOPTS 0
#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_AH 51
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60

#define IPV6_EXT_MAX 16 /* longer chains are an evasion, not traffic */

/* BSD AF values seen in DLT_NULL/LOOP headers. */
#define BSD_AF_INET 2
#define BSD_AF_INET6_BSD 24     /* NetBSD, OpenBSD, BSD/OS */
#define BSD_AF_INET6_FREEBSD 28 /* FreeBSD, DragonFly */
#define BSD_AF_INET6_DARWIN 30  /* macOS, iOS */

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline int malformed(struct umbra_pkt *pkt, enum umbra_malformed why)
{
	pkt->malformed = (uint8_t)why;
	return UMBRA_PARSE_MALFORMED;
}

static inline int af_is_inet6(uint32_t af)
{
	return af == BSD_AF_INET6_BSD || af == BSD_AF_INET6_FREEBSD ||
	       af == BSD_AF_INET6_DARWIN;
}

/*
 * Transport header at l4 with len bytes of IP payload in bounds.
 * A first fragment whose header is cut by the fragment boundary keeps
 * l4 NULL (see the top of the file).
 */
static inline int parse_l4(const uint8_t *l4, uint32_t len,
			   struct umbra_pkt *pkt)
{
	uint32_t hl, ulen;
	int first = pkt->frag == UMBRA_FRAG_FIRST;

	switch (pkt->proto) {
	case PROTO_TCP:
		if (unlikely(len < 20))
			return first ? UMBRA_PARSE_OK
				     : malformed(pkt, UMBRA_MAL_TCP_TRUNC);
		hl = (uint32_t)(l4[12] >> 4) * 4;
		if (unlikely(hl < 20))
			return malformed(pkt, UMBRA_MAL_TCP_DOFF);
		if (unlikely(hl > len))
			return first ? UMBRA_PARSE_OK
				     : malformed(pkt, UMBRA_MAL_TCP_DOFF);
		pkt->l4 = l4;
		pkt->sport = rd16(l4);
		pkt->dport = rd16(l4 + 2);
		pkt->tcp_seq = rd32(l4 + 4);
		pkt->tcp_ack = rd32(l4 + 8);
		pkt->tcp_flags = l4[13];
		pkt->tcp_window = rd16(l4 + 14);
		if (hl > 20) {
			pkt->tcp_opts = l4 + 20;
			pkt->tcp_opts_len = (uint8_t)(hl - 20);
		}
		break;
	case PROTO_UDP:
		if (unlikely(len < 8))
			return first ? UMBRA_PARSE_OK
				     : malformed(pkt, UMBRA_MAL_UDP_TRUNC);
		ulen = rd16(l4 + 4);
		if (unlikely(ulen < 8))
			return malformed(pkt, UMBRA_MAL_UDP_LEN);
		if (ulen > len) {
			/* the UDP length covers every fragment */
			if (unlikely(!first))
				return malformed(pkt, UMBRA_MAL_UDP_LEN);
			ulen = len;
		}
		pkt->l4 = l4;
		pkt->sport = rd16(l4);
		pkt->dport = rd16(l4 + 2);
		hl = 8;
		len = ulen;
		break;
	case PROTO_ICMP:
	case PROTO_ICMPV6:
		if (unlikely(len < 4))
			return first ? UMBRA_PARSE_OK
				     : malformed(pkt, UMBRA_MAL_ICMP_TRUNC);
		pkt->l4 = l4;
		pkt->sport = l4[0];
		pkt->dport = l4[1];
		hl = len >= 8 ? 8 : 4;
		break;
	default:
		/* GRE, ESP, SCTP...: header located, nothing decoded */
		if (len)
			pkt->l4 = l4;
		return UMBRA_PARSE_OK;
	}
	if (len > hl) {
		pkt->payload = l4 + hl;
		pkt->payload_len = len - hl;
	}
	return UMBRA_PARSE_OK;
}

static inline int parse_ipv4(const uint8_t *ip, uint32_t avail,
			     struct umbra_pkt *pkt)
{
	uint32_t hl, totlen, ff, off;

	if (unlikely(avail < 20))
		return malformed(pkt, UMBRA_MAL_IPV4_TRUNC);
	if (unlikely((ip[0] >> 4) != 4))
		return malformed(pkt, UMBRA_MAL_IPV4_VERSION);
	hl = (uint32_t)(ip[0] & 0xf) * 4;
	if (unlikely(hl < 20 || hl > avail))
		return malformed(pkt, UMBRA_MAL_IPV4_IHL);
	totlen = rd16(ip + 2);
	if (unlikely(totlen < hl || totlen > avail))
		return malformed(pkt, UMBRA_MAL_IPV4_TOTLEN);
	ff = rd16(ip + 6);
	off = (ff & 0x1fff) * 8;
	if (unlikely(off + (totlen - hl) > 65535))
		return malformed(pkt, UMBRA_MAL_FRAG);

	pkt->l3 = ip;
	pkt->family = 4;
	pkt->tos = ip[1];
	pkt->ip_bytes = totlen;
	pkt->ip_id = rd16(ip + 4);
	pkt->ip_flags = (uint8_t)((ff >> 13) & 0x3);
	pkt->ttl = ip[8];
	pkt->proto = ip[9];
	pkt->src = ip + 12;
	pkt->dst = ip + 16;
	pkt->ip_opts_len = (uint8_t)(hl - 20);
	if (unlikely(off)) {
		pkt->frag = UMBRA_FRAG_LATER;
		return UMBRA_PARSE_OK;
	}
	if (unlikely(ff & 0x2000))
		pkt->frag = UMBRA_FRAG_FIRST;
	return parse_l4(ip + hl, totlen - hl, pkt);
}

static inline int parse_ipv6(const uint8_t *ip, uint32_t avail,
			     struct umbra_pkt *pkt)
{
	const uint8_t *h;
	uint32_t plen, rem, hl, ext = 0, off, w;
	unsigned nh, n = 0;

	if (unlikely(avail < 40))
		return malformed(pkt, UMBRA_MAL_IPV6_TRUNC);
	w = rd32(ip);
	if (unlikely((w >> 28) != 6))
		return malformed(pkt, UMBRA_MAL_IPV6_VERSION);
	plen = rd16(ip + 4);
	nh = ip[6];
	if (unlikely(plen + 40 > avail ||
		     (plen == 0 && nh == PROTO_HOPOPTS)))
		return malformed(pkt, UMBRA_MAL_IPV6_PLEN);

	pkt->l3 = ip;
	pkt->family = 6;
	pkt->tos = (uint8_t)(w >> 20);
	pkt->ip_bytes = plen + 40;
	pkt->ttl = ip[7];
	pkt->src = ip + 8;
	pkt->dst = ip + 24;

	h = ip + 40;
	rem = plen;
	for (;;) {
		switch (nh) {
		case PROTO_HOPOPTS:
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
			if (unlikely(rem < 2))
				return malformed(pkt, UMBRA_MAL_IPV6_EXT);
			hl = ((uint32_t)h[1] + 1) * 8;
			break;
		case PROTO_AH:
			if (unlikely(rem < 2))
				return malformed(pkt, UMBRA_MAL_IPV6_EXT);
			hl = ((uint32_t)h[1] + 2) * 4;
			break;
		case PROTO_FRAGMENT:
			hl = 8;
			if (unlikely(rem < hl))
				return malformed(pkt, UMBRA_MAL_IPV6_EXT);
			off = (uint32_t)(rd16(h + 2) & 0xfff8);
			if (unlikely(off + (rem - hl) > 65535))
				return malformed(pkt, UMBRA_MAL_FRAG);
			pkt->ip_id = (uint16_t)rd32(h + 4);
			if (off) {
				pkt->frag = UMBRA_FRAG_LATER;
				pkt->proto = h[0];
				ext += hl;
				pkt->ip_opts_len = (uint8_t)(ext > 255 ? 255 : ext);
				return UMBRA_PARSE_OK;
			}
			if (h[3] & 1)
				pkt->frag = UMBRA_FRAG_FIRST;
			break;
		default:
			goto done;
		}
		if (unlikely(hl > rem || ++n > IPV6_EXT_MAX))
			return malformed(pkt, UMBRA_MAL_IPV6_EXT);
		nh = h[0];
		h += hl;
		rem -= hl;
		ext += hl;
	}
done:
	pkt->proto = (uint8_t)nh;
	pkt->ip_opts_len = (uint8_t)(ext > 255 ? 255 : ext);
	return parse_l4(h, rem, pkt);
}

static inline int parse_ip_raw(const uint8_t *ip, uint32_t avail,
			       struct umbra_pkt *pkt)
{
	if (unlikely(avail < 1))
		return malformed(pkt, UMBRA_MAL_L2_TRUNC);
	if ((ip[0] >> 4) == 6)
		return parse_ipv6(ip, avail, pkt);
	return parse_ipv4(ip, avail, pkt);
}

static inline int parse_ethertype(const uint8_t *data, uint32_t caplen,
				  uint32_t off, unsigned type,
				  struct umbra_pkt *pkt)
{
	if (likely(type == ETHERTYPE_IPV4))
		return parse_ipv4(data + off, caplen - off, pkt);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(data + off, caplen - off, pkt);
	return UMBRA_PARSE_NOT_IP;
}

static inline int parse_ether(const uint8_t *data, uint32_t caplen,
			      struct umbra_pkt *pkt)
{
	uint32_t off = ETH_HLEN;
	unsigned type, n = 0;

	if (unlikely(caplen < ETH_HLEN))
		return malformed(pkt, UMBRA_MAL_L2_TRUNC);
	type = rd16(data + 12);
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	       type == ETHERTYPE_QINQ_OLD) {
		if (unlikely(n == UMBRA_VLAN_MAX))
			return malformed(pkt, UMBRA_MAL_VLAN_DEPTH);
		if (unlikely(caplen - off < 4))
			return malformed(pkt, UMBRA_MAL_L2_TRUNC);
		pkt->vlan[n++] = rd16(data + off) & 0x0fff;
		pkt->nvlan = (uint8_t)n;
		type = rd16(data + off + 2);
		off += 4;
	}
	if (unlikely(type < ETHERTYPE_MIN))
		return UMBRA_PARSE_NOT_IP; /* 802.3 length: LLC, STP... */
	return parse_ethertype(data, caplen, off, type, pkt);
}

/* DLT_NULL (host order of the capturing machine: try both) and LOOP. */
static inline int parse_null(const uint8_t *data, uint32_t caplen,
			     int either_order, struct umbra_pkt *pkt)
{
	uint32_t be, le;

	if (unlikely(caplen < 4))
		return malformed(pkt, UMBRA_MAL_L2_TRUNC);
	be = rd32(data);
	le = (uint32_t)data[3] << 24 | (uint32_t)data[2] << 16 |
	     (uint32_t)data[1] << 8 | data[0];
	if (!either_order)
		le = be;
	if (be == BSD_AF_INET || le == BSD_AF_INET)
		return parse_ipv4(data + 4, caplen - 4, pkt);
	if (af_is_inet6(be) || af_is_inet6(le))
		return parse_ipv6(data + 4, caplen - 4, pkt);
	return UMBRA_PARSE_NOT_IP;
}

int umbra_parse(const uint8_t *data, uint32_t caplen, unsigned link,
		struct umbra_pkt *pkt)
{
	/* vlan[] is only valid up to nvlan: leave it alone */
	memset(pkt, 0, offsetof(struct umbra_pkt, vlan));
	memset(&pkt->nvlan, 0, sizeof(*pkt) - offsetof(struct umbra_pkt, nvlan));

	switch (link) {
	case UMBRA_LINK_ETHERNET:
		return parse_ether(data, caplen, pkt);
	case UMBRA_LINK_RAW:
		return parse_ip_raw(data, caplen, pkt);
	case UMBRA_LINK_IPV4:
		return parse_ipv4(data, caplen, pkt);
	case UMBRA_LINK_IPV6:
		return parse_ipv6(data, caplen, pkt);
	case UMBRA_LINK_NULL:
		return parse_null(data, caplen, 1, pkt);
	case UMBRA_LINK_LOOP:
		return parse_null(data, caplen, 0, pkt);
	case UMBRA_LINK_LINUX_SLL:
		if (unlikely(caplen < SLL_HLEN))
			return malformed(pkt, UMBRA_MAL_L2_TRUNC);
		return parse_ethertype(data, caplen, SLL_HLEN,
				       rd16(data + 14), pkt);
	default:
		return UMBRA_PARSE_NOT_IP;
	}
}

int umbra_link_supported(unsigned link)
{
	switch (link) {
	case UMBRA_LINK_ETHERNET:
	case UMBRA_LINK_RAW:
	case UMBRA_LINK_NULL:
	case UMBRA_LINK_LOOP:
	case UMBRA_LINK_LINUX_SLL:
	case UMBRA_LINK_IPV4:
	case UMBRA_LINK_IPV6:
		return 1;
	default:
		return 0;
	}
}

static const char *const malformed_names[UMBRA_MAL_MAX] = {
	[UMBRA_MAL_L2_TRUNC] = "l2_trunc",
	[UMBRA_MAL_VLAN_DEPTH] = "vlan_depth",
	[UMBRA_MAL_IPV4_TRUNC] = "ipv4_trunc",
	[UMBRA_MAL_IPV4_VERSION] = "ipv4_version",
	[UMBRA_MAL_IPV4_IHL] = "ipv4_ihl",
	[UMBRA_MAL_IPV4_TOTLEN] = "ipv4_totlen",
	[UMBRA_MAL_IPV6_TRUNC] = "ipv6_trunc",
	[UMBRA_MAL_IPV6_VERSION] = "ipv6_version",
	[UMBRA_MAL_IPV6_PLEN] = "ipv6_plen",
	[UMBRA_MAL_IPV6_EXT] = "ipv6_ext",
	[UMBRA_MAL_TCP_TRUNC] = "tcp_trunc",
	[UMBRA_MAL_TCP_DOFF] = "tcp_doff",
	[UMBRA_MAL_UDP_TRUNC] = "udp_trunc",
	[UMBRA_MAL_UDP_LEN] = "udp_len",
	[UMBRA_MAL_ICMP_TRUNC] = "icmp_trunc",
	[UMBRA_MAL_FRAG] = "frag",
};

const char *umbra_malformed_name(unsigned reason)
{
	if (reason >= UMBRA_MAL_MAX)
		return NULL;
	return malformed_names[reason]; /* NULL for NONE */
}
