/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RX port set-up: N queues spread by RSS, one per worker, promiscuous.
 * Control path only.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "engine.h"

#define RX_DESC 2048
#define TX_DESC 64
#define MBUF_CACHE 256

int
umbra_port_setup(uint16_t port, unsigned nqueues, unsigned nb_mbufs,
		 struct rte_mempool **pool)
{
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = RX_DESC, nb_txd = TX_DESC;
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned q;
	int rc;

	if (!rte_eth_dev_is_valid_port(port)) {
		fprintf(stderr, "umbra: port %u does not exist (%u ports found)\n",
			port, rte_eth_dev_count_avail());
		return -ENODEV;
	}
	rc = rte_eth_dev_info_get(port, &info);
	if (rc != 0) {
		fprintf(stderr, "umbra: port %u: cannot get device info: %s\n", port,
			strerror(-rc));
		return rc;
	}
	if (nqueues > info.max_rx_queues) {
		fprintf(stderr, "umbra: port %u (%s) has %u RX queues, %u workers asked\n",
			port, info.driver_name, info.max_rx_queues, nqueues);
		return -EINVAL;
	}
	memset(&conf, 0, sizeof(conf));
	if (nqueues > 1) {
		uint64_t hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
			      info.flow_type_rss_offloads;

		if (hf != 0) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = hf;
		} else {
			/* virtual devices (one capture file per queue) fill each
			 * queue themselves; a NIC without RSS fills only queue 0 */
			fprintf(stderr, "umbra: port %u (%s) has no RSS; each queue gets only what the device puts there\n",
				port, info.driver_name);
		}
	}
	rc = rte_eth_dev_configure(port, (uint16_t)nqueues, 1, &conf);
	if (rc != 0) {
		fprintf(stderr, "umbra: port %u: configure failed: %s\n", port,
			strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (rc != 0)
		return rc;
	/* room for every RX ring plus the bursts in flight, never short */
	if (nb_mbufs < nqueues * (nb_rxd + 2 * 256u + MBUF_CACHE) + 1024)
		nb_mbufs = nqueues * (nb_rxd + 2 * 256u + MBUF_CACHE) + 1024;
	snprintf(name, sizeof(name), "umbra_rx_%u", port);
	*pool = rte_pktmbuf_pool_create(name, nb_mbufs, MBUF_CACHE, 0,
					RTE_MBUF_DEFAULT_BUF_SIZE,
					rte_eth_dev_socket_id(port) < 0 ?
						(int)rte_socket_id() :
						rte_eth_dev_socket_id(port));
	if (*pool == NULL) {
		fprintf(stderr, "umbra: cannot create a pool of %u mbufs: %s\n",
			nb_mbufs, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (q = 0; q < nqueues; q++) {
		rc = rte_eth_rx_queue_setup(port, (uint16_t)q, nb_rxd,
					    (unsigned)rte_eth_dev_socket_id(port),
					    NULL, *pool);
		if (rc != 0) {
			fprintf(stderr, "umbra: port %u: RX queue %u: %s\n", port, q,
				strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_tx_queue_setup(port, 0, nb_txd,
				    (unsigned)rte_eth_dev_socket_id(port), NULL);
	if (rc != 0) {
		fprintf(stderr, "umbra: port %u: TX queue: %s\n", port, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_start(port);
	if (rc != 0) {
		fprintf(stderr, "umbra: port %u: start failed: %s\n", port, strerror(-rc));
		return rc;
	}
	/* a darknet receives traffic for addresses nobody owns */
	rc = rte_eth_promiscuous_enable(port);
	if (rc != 0 && rc != -ENOTSUP)
		fprintf(stderr, "umbra: port %u: promiscuous mode: %s\n", port,
			strerror(-rc));
	return 0;
}

void
umbra_port_teardown(uint16_t port)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
}

void
umbra_port_stats(uint16_t port, struct umbra_port_stats *st)
{
	struct rte_eth_stats s;

	memset(st, 0, sizeof(*st));
	if (rte_eth_stats_get(port, &s) != 0)
		return;
	st->ipackets = s.ipackets;
	st->imissed = s.imissed;
	st->ierrors = s.ierrors;
	st->rx_nombuf = s.rx_nombuf;
}
