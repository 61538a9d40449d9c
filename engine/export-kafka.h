/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka export: one JSON message per flow record (the field names of
 * `umbra-analyze flows --format ndjson`), produced with librdkafka from
 * the writer thread. DPDK-free.
 */
#ifndef UMBRA_EXPORT_KAFKA_H
#define UMBRA_EXPORT_KAFKA_H

#include <stddef.h>

#include "export-sink.h"
#include "umbra/record.h"

/*
 * spec is "BROKERS/TOPIC", BROKERS a comma-separated host:port list.
 * sensor is stored in every message. Returns 0, -ENOTSUP when built
 * without librdkafka, or -EINVAL with a message in err.
 */
int umbra_kafka_open(const char *spec, const char *sensor, struct umbra_sink *sink,
		     char *err, size_t errlen);

/* The JSON text of one record (no newline); returns its length. */
size_t umbra_kafka_format(const struct umbra_flow_record *r, const char *sensor_json,
			  char *buf, size_t cap);

#endif /* UMBRA_EXPORT_KAFKA_H */
