/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in tag rules (docs/CLASSIFY.md): scanner tools (zmap, masscan,
 * mirai, large_scan) decided on the packet that created the flow, and
 * source sanity (bogon, spoofed). DPDK-free, pure functions.
 */
#ifndef UMBRA_CLASSIFY_TAGS_H
#define UMBRA_CLASSIFY_TAGS_H

#include <stdint.h>

#include "umbra/plugin.h"

/* Source in a special-purpose range (RFC 6890 and the IANA registries). */
int umbra_addr_bogon(unsigned family, const uint8_t *a);

/* Source that cannot be genuine: multicast, limited broadcast, loopback,
 * unspecified, or equal to the destination. (In-darknet is the caller's.) */
int umbra_addr_impossible_src(unsigned family, const uint8_t *src,
			      const uint8_t *dst);

/*
 * Tool and sanity tags (UMBRA_TAG(...) bits) of a flow's first packet.
 * src_in_darknet: the caller's darknet lookup of the source.
 */
uint32_t umbra_tags_first_packet(const struct umbra_plugin_pkt *p,
				 int src_in_darknet);

#endif /* UMBRA_CLASSIFY_TAGS_H */
