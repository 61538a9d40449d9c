/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kafka export: one JSON message per flow record (the field names of
 * `umbra-analyze flows --format ndjson`), produced with librdkafka from
 * the writer thread. DPDK-free.
 */
#ifndef UMBRA_EXPORT_KAFKA_H
#define UMBRA_EXPORT_KAFKA_H

#include <stddef.h>

#include "classify.h"
#include "export-sink.h"
#include "umbra/record.h"

/*
 * spec is "BROKERS/TOPIC", BROKERS a comma-separated host:port list.
 * sensor is stored in every message; cl (may be NULL) names the tags,
 * p0f labels and signatures, and must outlive the sink. Returns 0,
 * -ENOTSUP when built without librdkafka, or -EINVAL with a message in err.
 */
int umbra_kafka_open(const char *spec, const char *sensor, const struct umbra_classify *cl,
		     struct umbra_sink *sink, char *err, size_t errlen);

/* names longer than this are cut in messages */
#define UMBRA_KAFKA_NAME_MAX 256

/*
 * The JSON text of one record (no newline); returns its length. Fields of
 * `umbra-analyze flows --format ndjson`, p0f_label and signature
 * included (names from cl; without cl, or for an unnamed id, the id).
 */
size_t umbra_kafka_format(const struct umbra_flow_record *r, const char *sensor_json,
			  const struct umbra_classify *cl, char *buf, size_t cap);

#endif /* UMBRA_EXPORT_KAFKA_H */
