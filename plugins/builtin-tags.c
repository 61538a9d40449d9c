/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Built-in classifier: scanner-tool and source-sanity tags
 * (engine/classify-tags.c), decided on the packet that created the flow.
 */
#include <errno.h>
#include <stdlib.h>

#include "classify.h"
#include "classify-tags.h"

struct tags_ctx {
	struct umbra_plugin_host *host;
};

static int
tags_init(struct umbra_plugin_host *host, void **ctx)
{
	struct tags_ctx *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->host = host;
	*ctx = t;
	return 0;
}

static void
tags_classify(void *lctx, const struct umbra_plugin_burst *b)
{
	const struct tags_ctx *t = lctx;
	unsigned i;

	for (i = 0; i < b->n; i++) {
		const struct umbra_plugin_pkt *p = &b->pkt[i];
		struct umbra_flow_record *r = b->rec[i];

		if (r == NULL || !(b->pflags[i] & UMBRA_PLUGIN_PKT_FIRST))
			continue;
		r->tags |= umbra_tags_first_packet(p,
			t->host->in_darknet(t->host, p->family, p->src));
	}
}

static void
tags_fini(void *ctx)
{
	free(ctx);
}

const struct umbra_plugin umbra_builtin_tags = {
	.abi_major = UMBRA_PLUGIN_ABI_MAJOR,
	.abi_minor = UMBRA_PLUGIN_ABI_MINOR,
	.size = sizeof(struct umbra_plugin),
	.name = "tags",
	.version = UMBRA_VERSION,
	.licence = "BSD-3-Clause",
	.init = tags_init,
	.classify = tags_classify,
	.fini = tags_fini,
};
