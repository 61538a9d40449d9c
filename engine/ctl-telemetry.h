/* SPDX-License-Identifier: BSD-3-Clause */
/* /umbra/... commands on DPDK's telemetry socket (dpdk-telemetry.py). */
#ifndef UMBRA_CTL_TELEMETRY_H
#define UMBRA_CTL_TELEMETRY_H

/* Register the commands; 0 or a negative errno. */
int umbra_telemetry_register(void);

#endif /* UMBRA_CTL_TELEMETRY_H */
