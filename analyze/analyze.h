/* SPDX-License-Identifier: BSD-3-Clause */
/* umbra-analyze internals shared by its command files. */
#ifndef UMBRA_ANALYZE_H
#define UMBRA_ANALYZE_H

#include <stddef.h>

struct analyze_paths {
	char **v;
	size_t n, cap;
};

/*
 * Expand PATH arguments (files, or directories searched for *.uz and
 * *.uz.partial) into a sorted list. Returns 0, or -1 when some argument
 * could not be read (reported on stderr; the others are kept).
 */
int analyze_collect(struct analyze_paths *p, int n, char **args);
void analyze_paths_free(struct analyze_paths *p);

/* umbra-analyze top-ports ... (argv[0] is "top-ports") */
int analyze_top_ports(int argc, char **argv);

#endif
