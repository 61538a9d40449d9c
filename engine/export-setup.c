/* SPDX-License-Identifier: BSD-3-Clause */
#include "export-setup.h"
#include "export-ipfix.h"
#include "export-kafka.h"

int
umbra_sinks_open(const struct umbra_config *cfg, const struct umbra_classify *cl,
		 struct umbra_sink *sinks, unsigned *n, char *err, size_t errlen)
{
	int rc = 0;

	*n = 0;
	if (cfg->ipfix[0] != '\0') {
		rc = umbra_ipfix_open(cfg->ipfix, &sinks[*n], err, errlen);
		if (rc != 0)
			goto fail;
		(*n)++;
	}
	if (cfg->kafka[0] != '\0') {
		rc = umbra_kafka_open(cfg->kafka, cfg->sensor_name, cl, &sinks[*n], err,
				      errlen);
		if (rc != 0)
			goto fail;
		(*n)++;
	}
	return 0;
fail:
	while (*n > 0) {
		(*n)--;
		sinks[*n].ops->close(sinks[*n].ctx);
	}
	return rc;
}
