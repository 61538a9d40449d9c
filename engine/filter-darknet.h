/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Darknet filter: is this destination inside one of the monitored
 * prefixes, and which sensor (destination address slot) is it.
 * Built once on the control side; read-only and lock-free afterwards.
 */
#ifndef UMBRA_FILTER_DARKNET_H
#define UMBRA_FILTER_DARKNET_H

#include <stdint.h>

#define UMBRA_DARKNET_MAX 64 /* prefixes */
/* IPv4 prefixes of /12 or longer get one direct sensor slot per address,
 * while the total stays within UMBRA_SENSOR_DIRECT_MAX. */
#define UMBRA_SENSOR_DIRECT_MAX (1u << 20)
/* sensor index for addresses without a direct slot (IPv6, short IPv4) */
#define UMBRA_SENSOR_HASHED UINT32_MAX

struct umbra_prefix {
	uint8_t addr[16]; /* network order, host bits zero */
	uint8_t family;   /* 4 or 6 */
	uint8_t len;      /* prefix length */
	uint32_t sensor_base; /* first direct sensor slot, or HASHED */
};

struct umbra_darknet {
	unsigned n;
	uint32_t nsensors_direct; /* direct slots over all IPv4 prefixes */
	struct umbra_prefix p[UMBRA_DARKNET_MAX];
};

void umbra_darknet_init(struct umbra_darknet *dn);

/*
 * Add "a.b.c.d/len" or "x::/len" (a bare address means a host prefix).
 * Host bits set are an error (-EINVAL) so typos do not widen a darknet.
 * Returns 0, -EINVAL on a bad string, -ENOSPC when full, -EEXIST on a
 * duplicate or overlapping prefix.
 */
int umbra_darknet_add(struct umbra_darknet *dn, const char *cidr);

/*
 * 1 when dst (4 or 16 bytes for family 4/6) is in a prefix; *sensor gets
 * the direct slot or UMBRA_SENSOR_HASHED. 0 otherwise.
 */
int umbra_darknet_match(const struct umbra_darknet *dn, unsigned family,
			const uint8_t *dst, uint32_t *sensor);

/* Write prefix i as text ("192.0.2.0/24"); returns snprintf's result. */
int umbra_prefix_format(const struct umbra_prefix *p, char *buf, unsigned len);

#endif /* UMBRA_FILTER_DARKNET_H */
