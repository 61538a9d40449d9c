/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPFIX (RFC 7011) export of flow records. Two layers, both DPDK-free:
 * a message encoder (pure, unit-tested) and an exporter that sends the
 * messages over UDP or TCP and is plugged into the writer thread as an
 * export sink. docs/INTEGRATIONS.md documents the templates and the
 * enterprise-specific elements.
 */
#ifndef UMBRA_EXPORT_IPFIX_H
#define UMBRA_EXPORT_IPFIX_H

#include <stddef.h>
#include <stdint.h>

#include "export-sink.h"
#include "umbra/record.h"

/* IANA's documentation PEN (RFC 5612): umbra's private elements. */
#define UMBRA_IPFIX_PEN 32473u
#define UMBRA_IPFIX_TID_V4 256
#define UMBRA_IPFIX_TID_V6 257
#define UMBRA_IPFIX_HDR_LEN 16
/* fixed data record sizes of the two templates */
#define UMBRA_IPFIX_REC_V4 90
#define UMBRA_IPFIX_REC_V6 114

/* enterprise-specific element ids under UMBRA_IPFIX_PEN */
enum umbra_ipfix_ie {
	UMBRA_IE_TAGS = 1,        /* unsigned32: UMBRA_TAG_* bits */
	/* 2 is reserved: flowEndReason (136) carries the end reason */
	UMBRA_IE_IP_ID = 3,       /* unsigned16: IPv4 id of the first packet */
	UMBRA_IE_SYN_WINDOW = 4,  /* unsigned16 */
	UMBRA_IE_SYN_MSS = 5,     /* unsigned16, 0 = absent */
	UMBRA_IE_SYN_WSCALE = 6,  /* unsigned8, 255 = absent */
	UMBRA_IE_SYN_TTL = 7,     /* unsigned8 */
	UMBRA_IE_SYN_IP_OLEN = 8, /* unsigned8 */
	UMBRA_IE_SYN_NOPTS = 9,   /* unsigned8 */
	UMBRA_IE_SYN_OLAYOUT = 10, /* octetArray(16): TCP option kinds */
	UMBRA_IE_SYN_QUIRKS = 11, /* unsigned32: p0f quirk bits */
	UMBRA_IE_P0F_LABEL = 12,  /* unsigned16 */
	UMBRA_IE_SIG_ID = 13,     /* unsigned16 */
	UMBRA_IE_SYN_PCLASS = 14, /* unsigned8 */
};

/* One IPFIX message being built in a caller-owned buffer. */
struct umbra_ipfix_msg {
	uint8_t *buf;
	size_t cap;     /* at most 65535 (the header's length field) */
	size_t len;
	size_t set_off; /* offset of the open data set, 0 = none */
	unsigned set_tid;
	unsigned nrec;  /* data records in the message */
};

/* Start a message: header with export time (s), sequence, domain. */
int umbra_ipfix_msg_begin(struct umbra_ipfix_msg *m, uint8_t *buf, size_t cap,
			  uint32_t export_time, uint32_t seq, uint32_t domain);
/* Append the template set (both templates); -ENOSPC if it does not fit. */
int umbra_ipfix_msg_add_templates(struct umbra_ipfix_msg *m);
/* Append one data record; -ENOSPC when the message is full. */
int umbra_ipfix_msg_add_record(struct umbra_ipfix_msg *m,
			       const struct umbra_flow_record *r);
/* Close the open set and the header; returns the message length. */
size_t umbra_ipfix_msg_end(struct umbra_ipfix_msg *m);

/* IPFIX flowEndReason (136) for an umbra end reason. */
unsigned umbra_ipfix_end_reason(unsigned umbra_reason);

/*
 * The exporter: "udp://HOST:PORT" or "tcp://HOST:PORT" (HOST may be
 * [IPv6]). Options after '?': rate=N (UDP datagrams per second, default
 * 20000, 0 = unpaced), refresh=S (UDP template refresh, default 30),
 * domain=N (observation domain id, default 1). Returns 0 and fills sink,
 * or -EINVAL with a message in err.
 */
int umbra_ipfix_open(const char *url, struct umbra_sink *sink, char *err,
		     size_t errlen);

#endif /* UMBRA_EXPORT_IPFIX_H */
