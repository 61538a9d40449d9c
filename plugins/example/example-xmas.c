/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Example out-of-tree classifier plugin: tags flows whose first packet is
 * an Nmap-style Xmas probe (TCP FIN+PSH+URG without SYN/ACK/RST) with the
 * tag "xmas", counts them, and registers one payload pattern ("example-
 * http-get", any TCP payload starting with "GET /"). It includes only
 * <umbra/plugin.h>, like any third-party plugin.
 *
 *   cc -shared -fPIC -I/usr/local/include example-xmas.c -o example-xmas.so
 *   umbra --pcap x.pcap --darknet 192.0.2.0/24 --plugin ./example-xmas.so
 */
#include <errno.h>
#include <stdlib.h>

#include <umbra/plugin.h>

/* test builds: a descriptor with a wrong ABI or a truncated size */
#ifndef EXAMPLE_ABI_MAJOR
#define EXAMPLE_ABI_MAJOR UMBRA_PLUGIN_ABI_MAJOR
#endif
#ifndef EXAMPLE_SIZE
#define EXAMPLE_SIZE sizeof(struct umbra_plugin)
#endif
#ifndef EXAMPLE_NAME
#define EXAMPLE_NAME "example-xmas"
#endif

struct xmas {
	uint32_t tag;
	int counter;
	int finished_counter;
};

static int
xmas_init(struct umbra_plugin_host *host, void **ctx)
{
	struct xmas *x = calloc(1, sizeof(*x));
	int bit, rc;

	if (x == NULL)
		return -ENOMEM;
	*ctx = x;
	bit = host->register_tag(host, "xmas");
	if (bit < 0) {
		host->error(host, "cannot register tag 'xmas' (%d)", bit);
		return bit;
	}
	x->tag = UMBRA_TAG((unsigned)bit);
	x->counter = host->register_counter(host, "example.xmas_flows");
	x->finished_counter = host->register_counter(host, "example.flows_finished");
	if (x->counter < 0 || x->finished_counter < 0)
		return -ENOSPC;
	rc = host->register_pattern(host, "example-http-get", "^GET /", "", 6, 0, 65535);
	return rc < 0 ? rc : 0;
}

struct xmas_lcore {
	const struct xmas *x;
	uint64_t *counters;
};

static int
xmas_lcore_init(void *ctx, unsigned lcore, void **lctx)
{
	struct xmas_lcore *l = calloc(1, sizeof(*l));

	(void)lcore;
	if (l == NULL)
		return -ENOMEM;
	l->x = ctx;
	*lctx = l;
	return 0;
}

static void
xmas_classify(void *lctx, const struct umbra_plugin_burst *b)
{
	struct xmas_lcore *l = lctx;
	unsigned i;

	l->counters = b->counters; /* remembered for flow_finished */
	for (i = 0; i < b->n; i++) {
		const struct umbra_plugin_pkt *p = &b->pkt[i];

		if (b->rec[i] == NULL || !(b->pflags[i] & UMBRA_PLUGIN_PKT_FIRST) ||
		    p->proto != 6 || p->l4 == NULL)
			continue;
		if ((p->tcp_flags & 0x3f) == 0x29) { /* FIN PSH URG */
			b->rec[i]->tags |= l->x->tag;
			b->counters[l->x->counter]++;
		}
	}
}

static void
xmas_flow_finished(void *lctx, struct umbra_flow_record *rec)
{
	struct xmas_lcore *l = lctx;

	(void)rec;
	if (l->counters != NULL)
		l->counters[l->x->finished_counter]++;
}

static void
xmas_lcore_fini(void *lctx)
{
	free(lctx);
}

static void
xmas_fini(void *ctx)
{
	free(ctx);
}

static const struct umbra_plugin desc = {
	.abi_major = EXAMPLE_ABI_MAJOR,
	.abi_minor = UMBRA_PLUGIN_ABI_MINOR,
	.size = EXAMPLE_SIZE,
	.name = EXAMPLE_NAME,
	.version = "1.0",
	.licence = "BSD-3-Clause",
	.init = xmas_init,
	.lcore_init = xmas_lcore_init,
	.classify = xmas_classify,
	.flow_finished = xmas_flow_finished,
	.lcore_fini = xmas_lcore_fini,
	.fini = xmas_fini,
};

const struct umbra_plugin *umbra_plugin_register(void);

const struct umbra_plugin *
umbra_plugin_register(void)
{
	return &desc;
}
