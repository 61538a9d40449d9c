/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: engine/parse-pkt.c and the whole worker pipeline
 * (darknet filter, classification, flow table, record emission).
 * Input: byte 0 picks the link type, the rest is split into frames by
 * 0xff 0x00 0xff 0x00 separators (a burst). Each frame is first parsed
 * alone, then the burst goes through umbra_worker_burst() with a darknet
 * that covers every address, so every parsed packet reaches the
 * classifier (built-in tags, p0f SYN fingerprints when /etc/p0f/p0f.fp
 * exists, Hyperscan payload signatures from rules/default.rules) and the
 * flow table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "parse-pkt.h"
#include "pipeline-worker.h"

static const unsigned links[] = {
	UMBRA_LINK_ETHERNET, UMBRA_LINK_RAW, UMBRA_LINK_NULL, UMBRA_LINK_LOOP,
	UMBRA_LINK_LINUX_SLL, UMBRA_LINK_IPV4, UMBRA_LINK_IPV6,
};

static struct umbra_darknet dn;
static struct umbra_spsc *ring;
static struct umbra_classify *cls;
static struct umbra_worker *wk[sizeof(links) / sizeof(links[0])];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	umbra_darknet_init(&dn);
	if (umbra_darknet_add(&dn, "0.0.0.0/1") != 0 ||
	    umbra_darknet_add(&dn, "128.0.0.0/1") != 0 ||
	    umbra_darknet_add(&dn, "::/0") != 0)
		abort();
	{
		struct umbra_classify_conf cc;
		char err[512];

		memset(&cc, 0, sizeof(cc));
		cc.rules_path = UMBRA_FUZZ_RULES;
		cc.darknet = &dn;
		cc.quiet = 1;
		cls = umbra_classify_create(&cc, err, sizeof(err));
		if (cls == NULL) {
			fprintf(stderr, "fuzz_parse: classification: %s\n", err);
			abort();
		}
	}
	ring = umbra_spsc_create(1024);
	if (ring == NULL)
		abort();
	for (unsigned i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		struct umbra_worker_conf c;

		memset(&c, 0, sizeof(c));
		c.link = links[i];
		c.darknet = &dn;
		c.flows = 256; /* small: evictions happen */
		c.idle_ns = 1000000000ull;
		c.active_ns = 5000000000ull;
		c.ring = ring;
		c.backpressure = 0; /* a full ring drops and counts */
		c.classify = cls;
		c.lcore = i;
		wk[i] = umbra_worker_create(&c);
		if (wk[i] == NULL)
			abort();
	}
	return 0;
}

static void
drain(void)
{
	const struct umbra_flow_record *r;
	unsigned n;

	while ((n = umbra_spsc_peek(ring, &r, 1024)) != 0)
		umbra_spsc_release(ring, n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *fr[UMBRA_BURST_MAX];
	uint32_t len[UMBRA_BURST_MAX];
	uint64_t ts[UMBRA_BURST_MAX];
	static uint64_t now = 1700000000ull * 1000000000ull;
	unsigned li, n = 0;
	size_t pos, start;
	uint8_t *copy;

	if (size < 1)
		return 0;
	li = data[0] % (sizeof(links) / sizeof(links[0]));
	/* a private copy: the parser must not read past caplen (ASan sees it) */
	copy = malloc(size);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	start = 1;
	for (pos = 1; pos <= size && n < UMBRA_BURST_MAX; pos++) {
		if (pos == size ||
		    (pos + 4 <= size && !memcmp(copy + pos, "\xff\x00\xff\x00", 4))) {
			fr[n] = copy + start;
			len[n] = (uint32_t)(pos - start);
			ts[n] = now;
			now += 1000000ull * (copy[start < size ? start : 0] & 0x3f);
			n++;
			start = pos + 4;
			pos += 3;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		/* exactly len bytes, at the end of an allocation */
		uint8_t *one = malloc(len[i] ? len[i] : 1);
		struct umbra_pkt p;

		if (one == NULL)
			break;
		memcpy(one, fr[i], len[i]);
		(void)umbra_parse(one, len[i], links[li], &p);
		free(one);
	}
	umbra_worker_burst(wk[li], fr, len, ts, n);
	drain();
	umbra_worker_tick(wk[li], now);
	drain();
	if ((copy[0] & 0x80) != 0) {
		umbra_worker_drain(wk[li]);
		drain();
	}
	free(copy);
	return 0;
}
