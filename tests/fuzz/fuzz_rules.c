/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the classification rules-file parser
 * (engine/classify-hs.c, umbra_hs_rules_parse) and the p0f signature
 * database parser (engine/classify-p0f.c, umbra_p0f_parse). Byte 0
 * picks which; the rest is the file. Parsing only: compiling with
 * Hyperscan is Hyperscan's business and far too slow to fuzz here.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify-hs.h"
#include "classify-p0f.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];
	char *buf;

	if (size < 1 || size > (1u << 20))
		return 0;
	buf = malloc(size - 1 ? size - 1 : 1); /* exactly the file, no NUL */
	if (buf == NULL)
		return 0;
	memcpy(buf, data + 1, size - 1);
	err[0] = '\0';
	if ((data[0] & 1) == 0) {
		struct umbra_hs_patterns ps;

		memset(&ps, 0, sizeof(ps));
		if (umbra_hs_rules_parse(&ps, buf, size - 1, "fuzz.rules", err, sizeof(err)) != 0 &&
		    err[0] == '\0')
			abort(); /* a refused file says why */
		umbra_hs_patterns_free(&ps);
	} else {
		struct umbra_p0f_db *db = umbra_p0f_parse(buf, size - 1, "fuzz.fp", err, sizeof(err));

		if (db != NULL) {
			(void)umbra_p0f_nlabels(db);
			(void)umbra_p0f_nsigs(db);
			umbra_p0f_free(db);
		} else if (err[0] == '\0') {
			abort();
		}
	}
	free(buf);
	return 0;
}
