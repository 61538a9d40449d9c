/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats-counters.h"

struct umbra_counters *
umbra_counters_alloc(uint32_t nsensors)
{
	struct umbra_counters *c;

	if (posix_memalign((void **)&c, 64, sizeof(*c)) != 0) {
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->nsensors_direct = nsensors;
	if (nsensors > 0) {
		c->sensor_direct = calloc(2 * (size_t)nsensors, sizeof(uint64_t));
		if (c->sensor_direct == NULL) {
			free(c);
			errno = ENOMEM;
			return NULL;
		}
	}
	return c;
}

void
umbra_counters_free(struct umbra_counters *c)
{
	if (c == NULL)
		return;
	free(c->sensor_direct);
	free(c);
}

static inline uint64_t
rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
add_words(uint64_t *dst, const uint64_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] += rd(&src[i]);
}

static unsigned
sensor_hash(unsigned family, const uint8_t *addr)
{
	unsigned len = family == 4 ? 4 : 16, i;
	uint32_t h = 2166136261u;

	for (i = 0; i < len; i++)
		h = (h ^ addr[i]) * 16777619u;
	return h & (UMBRA_SENSOR_HASH_SIZE - 1);
}

static struct umbra_sensor_count *
sensor_slot(struct umbra_counters *c, unsigned family, const uint8_t *addr)
{
	unsigned len = family == 4 ? 4 : 16;
	unsigned i = sensor_hash(family, addr), probes;
	uint64_t a[2] = { 0, 0 };

	/*
	 * Slots keep unused address bytes zero, so two words compare any
	 * family: a full table (a darknet of 0/0 sees far more addresses)
	 * probes 64 slots for every new one, and a memcmp() call per probe
	 * was a tenth of the worker's time there.
	 */
	memcpy(a, addr, len);
	for (probes = 0; probes < 64; probes++) {
		struct umbra_sensor_count *s = &c->sensor_hashed[i];
		uint64_t b[2];

		if (s->family == 0) {
			/* readers on other threads take family with acquire */
			memcpy(s->addr, a, sizeof(a));
			__atomic_store_n(&s->family, (uint8_t)family, __ATOMIC_RELEASE);
			return s;
		}
		memcpy(b, s->addr, sizeof(b));
		if (s->family == family && ((b[0] ^ a[0]) | (b[1] ^ a[1])) == 0)
			return s;
		i = (i + 1) & (UMBRA_SENSOR_HASH_SIZE - 1);
	}
	return NULL;
}

void
umbra_counters_sensor_hashed(struct umbra_counters *c, unsigned family,
			     const uint8_t *addr, uint32_t ip_bytes)
{
	struct umbra_sensor_count *s = sensor_slot(c, family, addr);

	if (s == NULL) {
		c->sensor_overflow++;
		return;
	}
	s->packets++;
	s->bytes += ip_bytes;
}

void
umbra_counters_add(struct umbra_counters *dst, const struct umbra_counters *src)
{
	size_t nfixed = offsetof(struct umbra_counters, sensor_hashed) / sizeof(uint64_t);
	uint64_t now_dst = dst->now_ns, now_src = rd(&src->now_ns);
	uint64_t first_dst = dst->first_ns, first_src = rd(&src->first_ns);
	unsigned i;

	/* every counter up to the sensor tables is a uint64_t */
	_Static_assert(offsetof(struct umbra_counters, sensor_hashed) % 8 == 0,
		       "counter words");
	add_words((uint64_t *)dst, (const uint64_t *)src, nfixed);
	/* a clock is not a sum: keep the earliest non-zero worker time */
	dst->now_ns = now_dst == 0 ? now_src :
		      (now_src != 0 && now_src < now_dst ? now_src : now_dst);
	dst->first_ns = first_dst == 0 ? first_src :
			(first_src != 0 && first_src < first_dst ? first_src : first_dst);

	for (i = 0; i < UMBRA_SENSOR_HASH_SIZE; i++) {
		const struct umbra_sensor_count *s = &src->sensor_hashed[i];
		struct umbra_sensor_count *d;

		if (__atomic_load_n(&s->family, __ATOMIC_ACQUIRE) == 0)
			continue;
		d = sensor_slot(dst, s->family, s->addr);
		if (d == NULL) {
			dst->sensor_overflow += rd(&s->packets);
			continue;
		}
		d->packets += rd(&s->packets);
		d->bytes += rd(&s->bytes);
	}
	if (dst->sensor_direct != NULL && src->sensor_direct != NULL) {
		uint32_t n = dst->nsensors_direct < src->nsensors_direct ?
				     dst->nsensors_direct : src->nsensors_direct;
		add_words(dst->sensor_direct, src->sensor_direct, 2 * (size_t)n);
	}
}

const char *
umbra_class_name(unsigned cls)
{
	static const char *const names[UMBRA_CLASS_MAX] = {
		[UMBRA_CLASS_SCAN] = "scan",
		[UMBRA_CLASS_BACKSCATTER] = "backscatter",
		[UMBRA_CLASS_OTHER] = "other",
	};

	return cls < UMBRA_CLASS_MAX ? names[cls] : NULL;
}

const char *
umbra_proto_idx_name(unsigned idx)
{
	static const char *const names[UMBRA_PIDX_MAX] = {
		[UMBRA_PIDX_TCP] = "tcp",     [UMBRA_PIDX_UDP] = "udp",
		[UMBRA_PIDX_ICMP] = "icmp",   [UMBRA_PIDX_ICMP6] = "icmp6",
		[UMBRA_PIDX_OTHER] = "other",
	};

	return idx < UMBRA_PIDX_MAX ? names[idx] : NULL;
}
