/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Synthetic darknet traffic for umbra-bench: flows drawn from a source
 * pool with a skew (a few heavy scanners, many one-off hosts), ports
 * weighted like the TSUBAME top list, some UDP probes with payload, some
 * IPv6. DPDK-free: frames are written into a caller's buffer.
 */
#ifndef UMBRA_BENCH_MIX_H
#define UMBRA_BENCH_MIX_H

#include <stdint.h>

#define MIX_STRIDE 128 /* bytes reserved per frame */

struct mix_conf {
	uint64_t seed;
	uint32_t packets;     /* frames to build */
	uint32_t flows;       /* distinct 5-tuples among them (<= packets) */
	uint32_t sources;     /* distinct source addresses */
	double payload_share; /* UDP probes with payload */
	double ipv6_share;    /* IPv6 frames */
	double dark_share;    /* frames addressed to the darknet (rest: other dst) */
};

/* The darknets the frames target: 192.0.2.0/24 and 2001:db8:dead::/64. */
#define MIX_DARKNET4 "192.0.2.0/24"
#define MIX_DARKNET6 "2001:db8:dead::/64"

/*
 * Build conf->packets frames at buf + i * MIX_STRIDE, lengths in len[].
 * Frames of one flow are spread over the whole buffer. Returns 0 or -1.
 */
int mix_build(const struct mix_conf *conf, uint8_t *buf, uint32_t *len);

/* The mix's pseudo-random numbers (splitmix64): the next of state *s. */
uint64_t mix_rnd(uint64_t *s);

/* The default port weights, by name, for the JSON report. */
const char *mix_describe(void);

#endif
