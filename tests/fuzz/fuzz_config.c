/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: the engine's config file parser (engine/config.c,
 * umbra_config_load_buffer) followed by the checks that need every
 * setting. A "config" key would open the named file: inputs that name
 * one are skipped so the fuzzer never reads the host's files.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct umbra_config c;
	char err[1024];
	char *copy;

	if (size > (1u << 20) || memmem(data, size, "config", 6) != NULL)
		return 0;
	copy = malloc(size ? size : 1); /* exactly size bytes: no NUL after */
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	umbra_config_defaults(&c);
	err[0] = '\0';
	if (umbra_config_load_buffer(&c, copy, size, "fuzz", err, sizeof(err)) == 0)
		(void)umbra_config_validate(&c, err, sizeof(err));
	else if (err[0] == '\0' || memchr(err, '\n', strlen(err)) != NULL)
		abort(); /* an error is one line naming what is wrong */
	free(copy);
	return 0;
}
