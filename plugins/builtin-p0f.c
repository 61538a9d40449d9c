/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in classifier: p0f v3 label of each flow's first SYN
 * (engine/classify-p0f.c). Registers one label and one counter
 * ("p0f.LABEL", plus "p0f.unknown") per p0f.fp label.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "classify-p0f.h"

struct p0f_ctx {
	struct umbra_p0f_db *db;
	unsigned n;
	uint16_t *label;  /* p0f label -> registry label id */
	int cnt_unknown;  /* counter index; label i -> cnt_unknown + i */
};

static int
p0f_init(struct umbra_plugin_host *host, void **ctx)
{
	const char *path = host->option(host, "p0f");
	const char *use = path != NULL ? path : UMBRA_P0F_DEFAULT_DB;
	struct p0f_ctx *c = calloc(1, sizeof(*c));
	char err[512];
	unsigned i;
	int rc;

	if (c == NULL)
		return -ENOMEM;
	*ctx = c;
	c->db = umbra_p0f_load(use, err, sizeof(err));
	if (c->db == NULL) {
		if (path != NULL) {
			host->error(host, "%s", err);
			return -EINVAL;
		}
		if (host->option(host, "quiet") == NULL)
			fprintf(stderr, "umbra: warning: %s; SYN fingerprints disabled (--p0f FILE)\n",
				err);
	}
	c->n = umbra_p0f_nlabels(c->db);
	c->label = calloc(c->n + 1, sizeof(*c->label));
	if (c->label == NULL)
		return -ENOMEM;
	c->cnt_unknown = host->register_counter(host, "p0f.unknown");
	if (c->cnt_unknown < 0)
		return c->cnt_unknown;
	for (i = 1; i <= c->n; i++) {
		const char *name = umbra_p0f_label(c->db, i);
		char cn[600];

		rc = host->register_label(host, name);
		if (rc < 0)
			return rc;
		c->label[i] = (uint16_t)rc;
		snprintf(cn, sizeof(cn), "p0f.%s", name);
		rc = host->register_counter(host, cn);
		if (rc < 0)
			return rc;
		if ((unsigned)rc != (unsigned)c->cnt_unknown + i) {
			host->error(host, "counter indexes are not contiguous");
			return -EINVAL;
		}
	}
	return 0;
}

static void
p0f_classify(void *lctx, const struct umbra_plugin_burst *b)
{
	const struct p0f_ctx *c = lctx;
	unsigned i;

	for (i = 0; i < b->n; i++) {
		struct umbra_flow_record *r = b->rec[i];
		struct umbra_p0f_syn s;
		unsigned lab;
		int fuzzy;

		if (r == NULL || !(b->pflags[i] & UMBRA_PLUGIN_PKT_FIRST_SYN))
			continue;
		umbra_p0f_syn_from_pkt(&b->pkt[i], &s);
		lab = umbra_p0f_match(c->db, &s, &fuzzy);
		r->syn_quirks = s.quirks | (uint32_t)s.eol_pad << UMBRA_Q_EOL_PAD_SHIFT;
		r->p0f_label = lab != 0 ? c->label[lab] : 0;
		b->counters[c->cnt_unknown + lab]++;
	}
}

static void
p0f_fini(void *ctx)
{
	struct p0f_ctx *c = ctx;

	if (c == NULL)
		return;
	umbra_p0f_free(c->db);
	free(c->label);
	free(c);
}

const struct umbra_plugin umbra_builtin_p0f = {
	.abi_major = UMBRA_PLUGIN_ABI_MAJOR,
	.abi_minor = UMBRA_PLUGIN_ABI_MINOR,
	.size = sizeof(struct umbra_plugin),
	.name = "p0f",
	.version = UMBRA_VERSION,
	.licence = "BSD-3-Clause",
	.init = p0f_init,
	.classify = p0f_classify,
	.fini = p0f_fini,
};
