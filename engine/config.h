/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Engine settings from the command line and from --config FILE (the same
 * keys without the leading dashes). DPDK-free so it can be fuzzed. Every
 * bad value is refused with a one-line message naming option and value.
 */
#ifndef UMBRA_CONFIG_H
#define UMBRA_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "filter-darknet.h"

#define UMBRA_CONFIG_STR 4096
#define UMBRA_CONFIG_PLUGINS 8

struct umbra_config {
	char pcap[UMBRA_CONFIG_STR];       /* --pcap: replay this file */
	char out_dir[UMBRA_CONFIG_STR];    /* --out */
	char sensor_name[256];             /* --sensor-name */
	char stats_json[UMBRA_CONFIG_STR]; /* --stats-json */
	struct umbra_darknet darknet;      /* --darknet, repeatable */
	char darknet_text[UMBRA_DARKNET_MAX][48];
	uint32_t rotate_s;        /* --rotate */
	uint32_t idle_timeout_s;  /* --idle-timeout */
	uint32_t active_timeout_s; /* --active-timeout */
	uint32_t workers;         /* --workers */
	uint32_t flows;           /* --flows, per worker */
	uint32_t ring_size;       /* --ring-size, records per worker ring */
	uint32_t flush_ms;        /* --flush-interval, ms */
	uint32_t burst;           /* --burst */
	uint32_t block_records;   /* --block-records */
	uint32_t port;            /* --port: DPDK port id */
	int zstd_level;           /* --zstd-level */
	int status;               /* --status/--no-status; -1 = if a tty */
	int backpressure;         /* -1 = on for --pcap, off live */
	int quiet;                /* --quiet */
	char ipfix[512];          /* --ipfix udp://HOST:PORT | tcp://HOST:PORT */
	char kafka[512];          /* --kafka BROKERS/TOPIC */
	char metrics[128];        /* --metrics ADDR:PORT (Prometheus) */
	int telemetry;            /* --telemetry: /umbra/... on DPDK's socket */
	uint32_t linger_s;        /* --linger: stay up after a replay ends */
	char user[64];            /* --user: drop to this user after DPDK init */
	uint32_t writer_delay_us; /* --writer-delay-us: test knob, slows the writer */
	/* classification (docs/CLASSIFY.md) */
	char p0f[UMBRA_CONFIG_STR];       /* --p0f FILE */
	char rules[UMBRA_CONFIG_STR];     /* --rules FILE */
	char hs_cache[UMBRA_CONFIG_STR];  /* --hs-cache DIR */
	uint32_t payload_bytes;           /* --payload-bytes N */
	int no_classify;                  /* --no-classify */
	unsigned nplugins;                /* --plugin PATH, repeatable */
	char plugins[UMBRA_CONFIG_PLUGINS][UMBRA_CONFIG_STR];
	int help;
	int version;
};

void umbra_config_defaults(struct umbra_config *c);

/*
 * Apply one setting. key is the long option name without dashes; value
 * may be NULL for flags. Returns 0, or -EINVAL with a message in err.
 */
int umbra_config_set(struct umbra_config *c, const char *key, const char *value,
		     char *err, size_t errlen);

/* Parse umbra options (after EAL's); -EINVAL with err on a bad one. */
int umbra_config_parse_args(struct umbra_config *c, int argc, char **argv,
			    char *err, size_t errlen);

/* Load "key = value" lines; errors name the file and line. */
int umbra_config_load_file(struct umbra_config *c, const char *path, char *err,
			   size_t errlen);
/* Same, from a buffer (the fuzzer's entry point). */
int umbra_config_load_buffer(struct umbra_config *c, const char *buf, size_t len,
			     const char *name, char *err, size_t errlen);

/* Checks that need every setting (e.g. a darknet is required). */
int umbra_config_validate(const struct umbra_config *c, char *err, size_t errlen);

void umbra_config_usage(FILE *out);

#endif /* UMBRA_CONFIG_H */
