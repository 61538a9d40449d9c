/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of record enum values as used in CSV/NDJSON output and docs. */
#include <stddef.h>

#include "umbra/record.h"

static const char *const end_reason_names[UMBRA_END_MAX] = {
	[UMBRA_END_IDLE] = "idle",
	[UMBRA_END_ACTIVE] = "active",
	[UMBRA_END_EVICTED] = "evicted",
	[UMBRA_END_SHUTDOWN] = "shutdown",
};

static const char *const tag_names[UMBRA_TAG_BIT_BUILTIN_MAX] = {
	[UMBRA_TAG_BIT_SCAN] = "scan",
	[UMBRA_TAG_BIT_BACKSCATTER] = "backscatter",
	[UMBRA_TAG_BIT_OTHER] = "other",
	[UMBRA_TAG_BIT_FRAGMENT] = "fragment",
	[UMBRA_TAG_BIT_ZMAP] = "zmap",
	[UMBRA_TAG_BIT_MASSCAN] = "masscan",
	[UMBRA_TAG_BIT_MIRAI] = "mirai",
	[UMBRA_TAG_BIT_LARGE_SCAN] = "large_scan",
	[UMBRA_TAG_BIT_BOGON] = "bogon",
	[UMBRA_TAG_BIT_SPOOFED] = "spoofed",
};

const char *umbra_end_reason_name(unsigned reason)
{
	return reason < UMBRA_END_MAX ? end_reason_names[reason] : NULL;
}

const char *umbra_tag_name(unsigned bit)
{
	return bit < UMBRA_TAG_BIT_BUILTIN_MAX ? tag_names[bit] : NULL;
}

const char *umbra_proto_name(unsigned proto)
{
	switch (proto) {
	case 1:
		return "icmp";
	case 6:
		return "tcp";
	case 17:
		return "udp";
	case 58:
		return "icmp6";
	default:
		return NULL;
	}
}
