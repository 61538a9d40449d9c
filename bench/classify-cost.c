/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * classify-cost: cycles per packet of umbra_worker_burst with the
 * classifiers on and off, on the same in-memory packets in the same run
 * (alternating rounds, best round of each kept). With --labels FILE it
 * instead writes one line per flow whose first SYN was fingerprinted:
 * "SRC SPORT DST DPORT LABEL" (LABEL "???" when unknown), for comparing
 * with p0f -r (tests/integration/classify-p0f.sh).
 *
 *   classify-cost --pcap F --darknet CIDR [--darknet ...] [--rules F]
 *                 [--p0f F] [--rounds N] [--labels FILE]
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "classify.h"
#include "pipeline-worker.h"

struct frames {
	const uint8_t **data;
	uint32_t *len;
	uint64_t *ts;
	size_t n;
};

static int
load(const char *path, struct frames *f, unsigned *link)
{
	char eb[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, eb);
	struct pcap_pkthdr *h;
	const u_char *d;
	size_t cap = 0;

	if (p == NULL) {
		fprintf(stderr, "classify-cost: %s\n", eb);
		return -1;
	}
	*link = pcap_datalink(p) == DLT_EN10MB ? UMBRA_LINK_ETHERNET : UMBRA_LINK_RAW;
	while (pcap_next_ex(p, &h, &d) == 1) {
		uint8_t *c;

		if (f->n == cap) {
			cap = cap ? cap * 2 : 65536;
			f->data = realloc(f->data, cap * sizeof(*f->data));
			f->len = realloc(f->len, cap * sizeof(*f->len));
			f->ts = realloc(f->ts, cap * sizeof(*f->ts));
		}
		c = malloc(h->caplen);
		memcpy(c, d, h->caplen);
		f->data[f->n] = c;
		f->len[f->n] = h->caplen;
		f->ts[f->n] = (uint64_t)h->ts.tv_sec * 1000000000ull + (uint64_t)h->ts.tv_usec * 1000;
		f->n++;
	}
	pcap_close(p);
	return 0;
}

static void
frames_free(struct frames *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free((void *)f->data[i]);
	free(f->data);
	free(f->len);
	free(f->ts);
}

static void
drain(struct umbra_spsc *ring, FILE *labels, struct umbra_classify *cl)
{
	const struct umbra_flow_record *r;
	unsigned n, i;

	while ((n = umbra_spsc_peek(ring, &r, 4096)) > 0) {
		for (i = 0; labels != NULL && i < n; i++) {
			char s[64], d[64];
			const char *lab;
			int af = r[i].family == 4 ? AF_INET : AF_INET6;

			if (umbra_record_is_mark(&r[i]) || r[i].syn_ttl == 0 || r[i].proto != 6)
				continue;
			inet_ntop(af, r[i].src, s, sizeof(s));
			inet_ntop(af, r[i].dst, d, sizeof(d));
			lab = umbra_classify_label_name(cl, r[i].p0f_label);
			fprintf(labels, "%s %u %s %u %s\n", s, r[i].sport, d, r[i].dport,
				lab != NULL ? lab : "???");
		}
		umbra_spsc_release(ring, n);
	}
}

/* One pass over all frames; returns TSC cycles spent in the worker. */
static uint64_t
pass(const struct frames *f, unsigned link, const struct umbra_darknet *dn,
     struct umbra_classify *cl, FILE *labels)
{
	struct umbra_spsc *ring = umbra_spsc_create(1u << 16);
	struct umbra_worker_conf c;
	struct umbra_worker *w;
	uint64_t cyc = 0, t0;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.link = link;
	c.darknet = dn;
	c.flows = 1u << 20;
	c.idle_ns = 86400ull * 1000000000ull;
	c.active_ns = 7 * 86400ull * 1000000000ull;
	c.ring = ring;
	c.classify = cl;
	w = umbra_worker_create(&c);
	if (w == NULL) {
		perror("worker");
		exit(1);
	}
	for (i = 0; i < f->n; i += 32) {
		unsigned n = f->n - i < 32 ? (unsigned)(f->n - i) : 32;

		t0 = __rdtsc();
		umbra_worker_burst(w, f->data + i, f->len + i, f->ts + i, n);
		cyc += __rdtsc() - t0;
		if (umbra_spsc_count(ring) > 30000)
			drain(ring, labels, cl);
	}
	umbra_worker_drain(w);
	drain(ring, labels, cl);
	umbra_worker_free(w);
	umbra_spsc_free(ring);
	return cyc;
}

int
main(int argc, char **argv)
{
	struct umbra_classify_conf cc;
	struct umbra_darknet dn;
	struct umbra_classify *cl;
	struct frames f = { 0 };
	const char *pcap = NULL, *labels = NULL;
	unsigned link, rounds = 5, r;
	uint64_t best_on = UINT64_MAX, best_off = UINT64_MAX;
	char err[1024];
	int i;

	umbra_darknet_init(&dn);
	memset(&cc, 0, sizeof(cc));
	cc.quiet = 1;
	for (i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--pcap"))
			pcap = argv[i + 1];
		else if (!strcmp(argv[i], "--darknet"))
			umbra_darknet_add(&dn, argv[i + 1]);
		else if (!strcmp(argv[i], "--rules"))
			cc.rules_path = argv[i + 1];
		else if (!strcmp(argv[i], "--p0f"))
			cc.p0f_path = argv[i + 1];
		else if (!strcmp(argv[i], "--rounds"))
			rounds = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--labels"))
			labels = argv[i + 1];
		else
			break;
	}
	if (pcap == NULL || dn.n == 0 || i < argc) {
		fprintf(stderr, "usage: classify-cost --pcap F --darknet CIDR... [--rules F] [--p0f F] [--rounds N] [--labels FILE]\n");
		return 2;
	}
	cc.darknet = &dn;
	cl = umbra_classify_create(&cc, err, sizeof(err));
	if (cl == NULL) {
		fprintf(stderr, "classify-cost: %s\n", err);
		return 1;
	}
	if (load(pcap, &f, &link) != 0)
		return 1;
	if (labels != NULL) {
		FILE *out = fopen(labels, "w");

		if (out == NULL) {
			perror(labels);
			return 1;
		}
		pass(&f, link, &dn, cl, out);
		fclose(out);
	} else {
		for (r = 0; r < rounds; r++) {
			uint64_t off, on;

			/* alternate the order so neither mode always runs on a warm cache */
			if (r & 1) {
				on = pass(&f, link, &dn, cl, NULL);
				off = pass(&f, link, &dn, NULL, NULL);
			} else {
				off = pass(&f, link, &dn, NULL, NULL);
				on = pass(&f, link, &dn, cl, NULL);
			}

			if (off < best_off)
				best_off = off;
			if (on < best_on)
				best_on = on;
		}
		printf("{\"packets\":%zu,\"rounds\":%u,\"cycles_per_packet_off\":%.1f,"
		       "\"cycles_per_packet_on\":%.1f,\"signatures\":%u,\"p0f_labels\":%u}\n",
		       f.n, rounds, (double)best_off / (double)f.n, (double)best_on / (double)f.n,
		       umbra_hs_count(umbra_classify_hs(cl)), umbra_classify_nlabels(cl));
	}
	umbra_classify_free(cl);
	frames_free(&f);
	return 0;
}
