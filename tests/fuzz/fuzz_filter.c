/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: umbra-analyze's filter language
 * (analyze/analyze-filter.c). The input is the expression text; when it
 * compiles, it is matched against a few records (IPv4 and IPv6, TCP,
 * UDP, ICMP) so evaluation runs too. Syntax errors go to stderr.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
rec(struct umbra_flow_record *r, int fam, uint8_t proto, uint16_t sp, uint16_t dp)
{
	memset(r, 0, sizeof(*r));
	r->family = (uint8_t)fam;
	r->proto = proto;
	if (fam == 4) {
		memcpy(r->src, "\xc6\x33\x64\x07", 4);
		memcpy(r->dst, "\xc0\x00\x02\x17", 4);
	} else {
		memcpy(r->src, "\x20\x01\x0d\xb8\xbe\xef\0\0\0\0\0\0\0\0\0\x01", 16);
		memcpy(r->dst, "\x20\x01\x0d\xb8\xde\xad\0\0\0\0\0\0\0\0\0\x02", 16);
	}
	r->sport = sp;
	r->dport = dp;
	r->first_ns = 1714521600000000000ull;
	r->last_ns = r->first_ns + 2500000000ull;
	r->packets = 3;
	r->bytes = 180;
	r->tcp_flags = proto == 6 ? 0x02 : 0;
	r->ttl_min = 50;
	r->ttl_max = 240;
	r->end_reason = 1;
	r->tags = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct umbra_flow_record r[4];
	struct an_filter *f;
	char *text;

	if (size > 4096)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	f = an_filter_compile(text, "fuzz");
	if (f != NULL) {
		rec(&r[0], 4, 6, 40000, 23);
		rec(&r[1], 4, 17, 53, 1900);
		rec(&r[2], 4, 1, 8, 0);
		rec(&r[3], 6, 58, 128, 0);
		for (unsigned i = 0; i < 4; i++)
			(void)an_filter_match(f, &r[i], i & 1 ? "tokyo-1" : "");
		an_filter_free(f);
	}
	free(text);
	return 0;
}
