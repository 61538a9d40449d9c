/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in classifier: Hyperscan payload signatures (engine/classify-hs.c).
 * init() reads the rules file into the registry, which compiles one
 * database from it and from the plugins' patterns; each lcore clones its
 * scratch in lcore_init(). Scanned: the first payload of every flow and
 * every UDP payload, at most --payload-bytes bytes, never empty ones.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify.h"

struct payload_ctx {
	struct umbra_classify *cl;
	int cnt_scanned, cnt_errors;
};

struct payload_lcore {
	const struct umbra_hs *hs;
	void *scratch;
	uint32_t max_bytes;
	unsigned sig_base;
	int cnt_scanned, cnt_errors;
};

static int
payload_init(struct umbra_plugin_host *host, void **ctx)
{
	const char *path = host->option(host, "rules");
	struct payload_ctx *c = calloc(1, sizeof(*c));
	char err[768];
	int rc;

	if (c == NULL)
		return -ENOMEM;
	*ctx = c;
	c->cl = umbra_classify_of_host(host);
	if (path == NULL && access(UMBRA_RULES_DEFAULT, R_OK) != 0) {
		if (host->option(host, "quiet") == NULL)
			fprintf(stderr, "umbra: warning: no rules file at %s; payload signatures disabled (--rules FILE)\n",
				UMBRA_RULES_DEFAULT);
	} else {
		rc = umbra_classify_add_rules(c->cl, path != NULL ? path : UMBRA_RULES_DEFAULT,
					      err, sizeof(err));
		if (rc != 0) {
			host->error(host, "%s", err);
			return rc;
		}
	}
	c->cnt_scanned = host->register_counter(host, "payload.scanned");
	c->cnt_errors = host->register_counter(host, "payload.scan_errors");
	if (c->cnt_scanned < 0 || c->cnt_errors < 0)
		return -ENOSPC;
	return 0;
}

static int
payload_lcore_init(void *ctx, unsigned lcore, void **lctx)
{
	struct payload_ctx *c = ctx;
	struct payload_lcore *l = calloc(1, sizeof(*l));

	(void)lcore;
	if (l == NULL)
		return -ENOMEM;
	l->hs = umbra_classify_hs(c->cl);
	l->max_bytes = umbra_classify_payload_bytes(c->cl);
	l->sig_base = umbra_classify_sig_counter_base(c->cl);
	l->cnt_scanned = c->cnt_scanned;
	l->cnt_errors = c->cnt_errors;
	if (l->hs != NULL) {
		l->scratch = umbra_hs_scratch(l->hs);
		if (l->scratch == NULL) {
			free(l);
			return -ENOMEM;
		}
	}
	*lctx = l;
	return 0;
}

static void
payload_classify(void *lctx, const struct umbra_plugin_burst *b)
{
	const struct payload_lcore *l = lctx;
	uint16_t idx[UMBRA_HS_MATCH_MAX];
	unsigned i;

	if (l->scratch == NULL)
		return;
	for (i = 0; i < b->n; i++) {
		const struct umbra_plugin_pkt *p = &b->pkt[i];
		struct umbra_flow_record *r = b->rec[i];
		uint32_t len = p->payload_len;
		int k, j;

		if (len == 0 || p->payload == NULL || r == NULL ||
		    (p->proto != 17 && !(b->pflags[i] & UMBRA_PLUGIN_PKT_FIRST_PAYLOAD)))
			continue;
		if (len > l->max_bytes)
			len = l->max_bytes;
		b->counters[l->cnt_scanned]++;
		k = umbra_hs_scan(l->hs, l->scratch, p->payload, len, p->proto, p->dport,
				  idx, UMBRA_HS_MATCH_MAX);
		if (k < 0) {
			b->counters[l->cnt_errors]++;
			continue;
		}
		for (j = 0; j < k; j++) {
			b->counters[l->sig_base + idx[j]]++;
			if (r->sig_id == 0)
				r->sig_id = umbra_hs_pattern(l->hs, idx[j])->id;
		}
	}
}

static void
payload_lcore_fini(void *lctx)
{
	struct payload_lcore *l = lctx;

	if (l == NULL)
		return;
	umbra_hs_scratch_free(l->scratch);
	free(l);
}

static void
payload_fini(void *ctx)
{
	free(ctx);
}

const struct umbra_plugin umbra_builtin_payload = {
	.abi_major = UMBRA_PLUGIN_ABI_MAJOR,
	.abi_minor = UMBRA_PLUGIN_ABI_MINOR,
	.size = sizeof(struct umbra_plugin),
	.name = "payload",
	.version = UMBRA_VERSION,
	.licence = "BSD-3-Clause",
	.init = payload_init,
	.lcore_init = payload_lcore_init,
	.classify = payload_classify,
	.lcore_fini = payload_lcore_fini,
	.fini = payload_fini,
};
