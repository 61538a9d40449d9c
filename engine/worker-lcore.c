/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker lcore's poll loop: RX burst -> pipeline -> free. Everything
 * that varies (clock source, link type) was decided at start-up; the
 * loop itself allocates nothing, logs nothing and takes no lock.
 */
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>

#include "engine.h"

#define SCRATCH_FRAME 65600 /* an IP datagram with any link header */
#define TICK_US 1000        /* timer work at most every millisecond */

struct tsc_clock {
	uint64_t base_tsc;
	uint64_t base_ns;
	double ns_per_tsc;
};

static void
tsc_clock_init(struct tsc_clock *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	c->base_tsc = rte_rdtsc();
	c->base_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	c->ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
}

static inline uint64_t
tsc_clock_now(const struct tsc_clock *c, uint64_t tsc)
{
	return c->base_ns + (uint64_t)((double)(tsc - c->base_tsc) * c->ns_per_tsc);
}

/*
 * Multi-segment frames (jumbo) are copied whole into the scratch area.
 * Trust the segments, not pkt_len: net_pcap builds chains from a 16-bit
 * length and can claim more bytes than the chain holds.
 */
static const uint8_t *
frame_data(struct umbra_lcore_ctx *lc, struct rte_mbuf *m, unsigned slot,
	   uint32_t *len)
{
	const struct rte_mbuf *s;
	uint32_t have = 0, n;

	if (likely(m->nb_segs == 1)) {
		*len = m->data_len;
		return rte_pktmbuf_mtod(m, const uint8_t *);
	}
	for (s = m; s != NULL; s = s->next)
		have += s->data_len;
	n = m->pkt_len < have ? m->pkt_len : have;
	if (n > SCRATCH_FRAME)
		n = SCRATCH_FRAME;
	*len = n;
	return rte_pktmbuf_read(m, 0, n, lc->scratch + (size_t)slot * SCRATCH_FRAME);
}

int
umbra_worker_lcore_main(void *arg)
{
	struct umbra_lcore_ctx *lc = arg;
	struct umbra_worker *w = lc->w;
	struct rte_mbuf *m[UMBRA_BURST_MAX];
	const uint8_t *data[UMBRA_BURST_MAX];
	uint32_t len[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	struct tsc_clock clk;
	const uint64_t tick_tsc = rte_get_tsc_hz() / (1000000 / TICK_US);
	uint64_t next_tick, idle_since = 0;
	const int pcap_clock = lc->clock == UMBRA_CLOCK_PCAP_US;

	tsc_clock_init(&clk);
	next_tick = rte_rdtsc() + tick_tsc;
	while (!*lc->quit) {
		uint16_t n, i;
		uint64_t tsc;

		if (lc->replay &&
		    lc->rx >= __atomic_load_n(lc->expected, __ATOMIC_ACQUIRE))
			break; /* end of the capture file */
		n = rte_eth_rx_burst(lc->port, lc->queue, m, (uint16_t)lc->burst);
		tsc = rte_rdtsc();
		if (n > 0) {
			uint64_t now = pcap_clock ? 0 : tsc_clock_now(&clk, tsc);

			idle_since = 0;
			lc->rx += n;
			if (unlikely(lc->unsupported_link)) {
				umbra_worker_unsupported(w, n);
				rte_pktmbuf_free_bulk(m, n);
				continue;
			}
			for (i = 0; i < n; i++) {
				if (i + 4 < n)
					rte_prefetch0(rte_pktmbuf_mtod(m[i + 4], void *));
				data[i] = frame_data(lc, m[i], i, &len[i]);
				ts[i] = pcap_clock ?
					*RTE_MBUF_DYNFIELD(m[i], lc->ts_offset,
							   rte_mbuf_timestamp_t *) * 1000ull :
					now;
			}
			umbra_worker_burst(w, data, len, ts, n);
			rte_pktmbuf_free_bulk(m, n);
		} else if (lc->replay &&
			   __atomic_load_n(lc->expected, __ATOMIC_ACQUIRE) !=
				   UMBRA_FRAMES_COUNTING) {
			/*
			 * Replay: the file ran out before the count we expected
			 * (a read error inside the PMD). Give up after 2 s.
			 */
			if (idle_since == 0)
				idle_since = tsc;
			else if (tsc - idle_since > 2 * rte_get_tsc_hz())
				break;
		}
		if (tsc >= next_tick) {
			next_tick = tsc + tick_tsc;
			umbra_worker_tick(w, pcap_clock ? 0 : tsc_clock_now(&clk, tsc));
		}
	}
	/* stop: every flow leaves as a record; wait for the writer now */
	w->backpressure = 1;
	umbra_worker_drain(w);
	atomic_store_explicit(&lc->done, 1, memory_order_release);
	return 0;
}
