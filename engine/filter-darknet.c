/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Darknet prefixes: parsed and checked once on the control side, then
 * matched linearly per packet (a telescope has a handful of prefixes, so
 * a linear scan over one cache line or two beats any tree).
 *
 * Direct sensor slots: IPv4 prefixes of /12 or longer are numbered in the
 * order they were added, one slot per address, while the running total
 * stays within UMBRA_SENSOR_DIRECT_MAX; later or shorter prefixes, and all
 * IPv6 prefixes, report UMBRA_SENSOR_HASHED and the caller keys sensors by
 * address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "filter-darknet.h"

#define DIRECT_MIN_LEN 12 /* 2^20 addresses: UMBRA_SENSOR_DIRECT_MAX */
#define CIDR_TEXT_MAX 64  /* longest IPv6 text + "/128" with room to spare */

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rd64(const uint8_t *p)
{
	return (uint64_t)rd32(p) << 32 | rd32(p + 4);
}

static inline uint32_t mask32(unsigned len)
{
	return len ? ~(uint32_t)0 << (32 - len) : 0;
}

static inline uint64_t mask64(unsigned len)
{
	return len ? ~(uint64_t)0 << (64 - len) : 0;
}

/* Whether the first len bits of a and b agree. */
static int prefix_eq(const uint8_t *a, const uint8_t *b, unsigned len)
{
	unsigned full = len / 8, rest = len % 8;

	if (memcmp(a, b, full))
		return 0;
	if (!rest)
		return 1;
	return ((a[full] ^ b[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

/* Strict decimal 0..max: no sign, no spaces, no leading zeros. */
static int parse_len(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;
	const char *c;

	if (!*s || (s[0] == '0' && s[1]))
		return -EINVAL;
	for (c = s; *c; c++) {
		if (*c < '0' || *c > '9' || c - s >= 3)
			return -EINVAL;
		v = v * 10 + (unsigned)(*c - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_cidr(const char *cidr, struct umbra_prefix *p)
{
	char buf[CIDR_TEXT_MAX];
	char *slash;
	size_t n;
	unsigned max, len;
	int rc;

	n = strnlen(cidr, sizeof(buf));
	if (n == 0 || n == sizeof(buf))
		return -EINVAL;
	memcpy(buf, cidr, n + 1);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';

	memset(p, 0, sizeof(*p));
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = 4;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = 6;
		max = 128;
	} else {
		return -EINVAL;
	}
	len = max;
	if (slash) {
		rc = parse_len(slash + 1, max, &len);
		if (rc)
			return rc;
	}
	p->len = (uint8_t)len;

	/* host bits must be zero: compare against the address masked */
	for (unsigned i = 0; i < max / 8; i++) {
		unsigned bits = len > i * 8 ? len - i * 8 : 0;
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff00 >> bits);

		if (p->addr[i] & (uint8_t)~m)
			return -EINVAL;
	}
	return 0;
}

void umbra_darknet_init(struct umbra_darknet *dn)
{
	memset(dn, 0, sizeof(*dn));
}

int umbra_darknet_add(struct umbra_darknet *dn, const char *cidr)
{
	struct umbra_prefix p;
	uint32_t size;
	int rc;

	if (!dn || !cidr)
		return -EINVAL;
	rc = parse_cidr(cidr, &p);
	if (rc)
		return rc;
	for (unsigned i = 0; i < dn->n; i++) {
		const struct umbra_prefix *q = &dn->p[i];

		if (q->family == p.family &&
		    prefix_eq(q->addr, p.addr, q->len < p.len ? q->len : p.len))
			return -EEXIST;
	}
	if (dn->n >= UMBRA_DARKNET_MAX)
		return -ENOSPC;

	p.sensor_base = UMBRA_SENSOR_HASHED;
	if (p.family == 4 && p.len >= DIRECT_MIN_LEN) {
		size = (uint32_t)1 << (32 - p.len);
		if (size <= UMBRA_SENSOR_DIRECT_MAX - dn->nsensors_direct) {
			p.sensor_base = dn->nsensors_direct;
			dn->nsensors_direct += size;
		}
	}
	dn->p[dn->n++] = p;
	return 0;
}

int umbra_darknet_match(const struct umbra_darknet *dn, unsigned family,
			const uint8_t *dst, uint32_t *sensor)
{
	if (family == 4) {
		uint32_t a = rd32(dst);

		for (unsigned i = 0; i < dn->n; i++) {
			const struct umbra_prefix *p = &dn->p[i];
			uint32_t m;

			if (p->family != 4)
				continue;
			m = mask32(p->len);
			if ((a & m) != rd32(p->addr))
				continue;
			*sensor = p->sensor_base == UMBRA_SENSOR_HASHED
					  ? UMBRA_SENSOR_HASHED
					  : p->sensor_base + (a & ~m);
			return 1;
		}
		return 0;
	}
	if (family == 6) {
		uint64_t hi = rd64(dst), lo = rd64(dst + 8);

		for (unsigned i = 0; i < dn->n; i++) {
			const struct umbra_prefix *p = &dn->p[i];
			unsigned l = p->len;

			if (p->family != 6)
				continue;
			if ((hi & mask64(l > 64 ? 64 : l)) != rd64(p->addr) ||
			    (lo & mask64(l > 64 ? l - 64 : 0)) != rd64(p->addr + 8))
				continue;
			*sensor = UMBRA_SENSOR_HASHED;
			return 1;
		}
	}
	return 0;
}

int umbra_prefix_format(const struct umbra_prefix *p, char *buf, unsigned len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(p->family == 6 ? AF_INET6 : AF_INET, p->addr, a,
		       sizeof(a)))
		return -1;
	return snprintf(buf, len, "%s/%u", a, (unsigned)p->len);
}
