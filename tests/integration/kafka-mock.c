/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test peer: a librdkafka mock cluster (test.mock.num.brokers) in its
 * own process, so that umbra produces to it and kcat consumes from it
 * like from real brokers. Prints "BOOTSTRAP host:port,..." once ready
 * and runs until SIGTERM/SIGINT.
 *
 *   kafka-mock TOPIC [PARTITIONS]
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	char errstr[512];
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mc;
	rd_kafka_t *rk;

	if (argc < 2) {
		fprintf(stderr, "usage: kafka-mock TOPIC [PARTITIONS]\n");
		return 2;
	}
	if (rd_kafka_conf_set(conf, "test.mock.num.brokers", "1", errstr, sizeof(errstr)) !=
	    RD_KAFKA_CONF_OK) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return 1;
	}
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
	if (rk == NULL) {
		fprintf(stderr, "kafka-mock: %s\n", errstr);
		return 1;
	}
	mc = rd_kafka_handle_mock_cluster(rk);
	if (mc == NULL) {
		fprintf(stderr, "kafka-mock: no mock cluster\n");
		return 1;
	}
	if (rd_kafka_mock_topic_create(mc, argv[1], argc > 2 ? atoi(argv[2]) : 1, 1) != 0) {
		fprintf(stderr, "kafka-mock: cannot create topic %s\n", argv[1]);
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
	fflush(stdout);
	while (!stop)
		usleep(100000);
	rd_kafka_destroy(rk);
	return 0;
}
