/* SPDX-License-Identifier: BSD-3-Clause */
/* umbra-analyze: turning PATH arguments into a sorted list of dumps. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze.h"

static int push_path(struct analyze_paths *p, const char *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		char **nv = realloc(p->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		p->v = nv;
		p->cap = cap;
	}
	p->v[p->n] = strdup(s);
	return p->v[p->n++] ? 0 : -ENOMEM;
}

static int is_dump_name(const char *name)
{
	size_t l = strlen(name);
	return (l > 3 && strcmp(name + l - 3, ".uz") == 0) ||
	       (l > 11 && strcmp(name + l - 11, ".uz.partial") == 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int walk(struct analyze_paths *p, const char *dir, int depth)
{
	if (depth > 64)
		return 0;
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "umbra-analyze: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		size_t l = strlen(dir) + strlen(e->d_name) + 2;
		char *full = malloc(l);
		if (!full)
			break;
		snprintf(full, l, "%s/%s", dir, e->d_name);
		struct stat st;
		if (stat(full, &st) == 0) {
			if (S_ISDIR(st.st_mode))
				rc |= walk(p, full, depth + 1);
			else if (S_ISREG(st.st_mode) && is_dump_name(e->d_name))
				rc |= push_path(p, full);
		}
		free(full);
	}
	closedir(d);
	return rc;
}

int analyze_collect(struct analyze_paths *in, int n, char **args)
{
	int rc = 0;

	for (int i = 0; i < n; i++) {
		struct stat st;
		if (stat(args[i], &st) < 0) {
			fprintf(stderr, "umbra-analyze: %s: %s\n", args[i], strerror(errno));
			rc = -1;
			continue;
		}
		size_t first = in->n;
		if (S_ISDIR(st.st_mode)) {
			if (walk(in, args[i], 0) < 0)
				rc = -1;
		} else if (push_path(in, args[i]) < 0) {
			fprintf(stderr, "umbra-analyze: out of memory\n");
			return -1;
		}
		an_qsort(in->v + first, in->n - first, sizeof(char *), cmp_str);
	}
	return rc;
}

void analyze_paths_free(struct analyze_paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}
