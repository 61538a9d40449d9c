/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Prometheus text exposition (format 0.0.4) of the published totals
 * (umbra_stats_read), served over HTTP by one control thread. Binds
 * 127.0.0.1 unless an address is given.
 */
#ifndef UMBRA_CTL_METRICS_H
#define UMBRA_CTL_METRICS_H

#include <stdio.h>

#include "engine.h"

struct umbra_metrics;

/* "PORT", "ADDR:PORT" or "[ADDR6]:PORT". NULL with a message in err. */
struct umbra_metrics *umbra_metrics_start(const char *listen, char *err, size_t errlen);
void umbra_metrics_stop(struct umbra_metrics *m);

/* Every metric of one report, HELP and TYPE lines included. */
void umbra_metrics_write(const struct umbra_report *r, FILE *f);

#endif /* UMBRA_CTL_METRICS_H */
