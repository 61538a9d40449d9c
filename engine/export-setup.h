/* SPDX-License-Identifier: BSD-3-Clause */
/* Export sinks chosen once at start-up from the configuration. */
#ifndef UMBRA_EXPORT_SETUP_H
#define UMBRA_EXPORT_SETUP_H

#include <stddef.h>

#include "classify.h"
#include "config.h"
#include "export-sink.h"

/*
 * Open every sink the configuration asks for (--ipfix, --kafka) into
 * sinks[0..*n); cl (may be NULL) names record ids and must outlive them.
 * On failure closes what it opened and returns a negative errno with a
 * message in err.
 */
int umbra_sinks_open(const struct umbra_config *cfg, const struct umbra_classify *cl,
		     struct umbra_sink *sinks, unsigned *n, char *err, size_t errlen);

#endif /* UMBRA_EXPORT_SETUP_H */
