/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra: the capture engine. main lcore = control and statistics, one
 * worker lcore per RX queue, one writer thread.
 *
 *   umbra [EAL options] -- [options]
 *   umbra --pcap FILE [options]     (no NIC, no hugepages)
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus_vdev.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf_dyn.h>
#include <rte_version.h>

#include "classify.h"
#include "ctl-privilege.h"
#include "ctl-metrics.h"
#include "ctl-telemetry.h"
#include "engine.h"
#include "export-setup.h"

#define PCAP_VDEV "net_pcap_umbra"

static volatile int quit;

static void
on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t
realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What the capture file holds, read with libpcap before DPDK starts. */
struct pcap_info {
	unsigned link;      /* enum umbra_link, or the raw DLT if unsupported */
	int dlt;
};

/*
 * The replay ends when the worker has the frames libpcap can read before
 * EOF or error (net_pcap does not say when its file ran out). Counting
 * them is a pass over the whole file, a tenth of a replay's time: a
 * thread does it while the workers run, and publishes the count.
 */
struct pcap_count {
	pthread_t t;
	const char *path;
	uint64_t frames;    /* UMBRA_FRAMES_COUNTING until counted (atomic) */
	volatile int stop;  /* give up: the run is over */
	int started;
};

static void *
pcap_count_main(void *arg)
{
	struct pcap_count *pc = arg;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(pc->path, errbuf);
	uint64_t n = 0;

	if (p == NULL) {
		/*
		 * readable at the probe, not now: the replay ends when the
		 * file runs dry (2 s without a frame), as after a read error
		 */
		fprintf(stderr, "umbra: cannot count the frames of '%s': %s\n", pc->path,
			errbuf);
		__atomic_store_n(&pc->frames, UMBRA_FRAMES_UNKNOWN, __ATOMIC_RELEASE);
		return NULL;
	}
	while ((n & 0xffff) != 0 || !pc->stop) {
		if (pcap_next_ex(p, &h, &d) != 1)
			break;
		n++;
	}
	pcap_close(p);
	__atomic_store_n(&pc->frames, n, __ATOMIC_RELEASE);
	return NULL;
}

static void
pcap_count_start(struct pcap_count *pc, const char *path)
{
	pc->path = path;
	pc->frames = UMBRA_FRAMES_COUNTING;
	pc->stop = 0;
	pc->started = pthread_create(&pc->t, NULL, pcap_count_main, pc) == 0;
	if (!pc->started)
		pcap_count_main(pc); /* no thread: count first, as before */
}

static void
pcap_count_stop(struct pcap_count *pc)
{
	if (!pc->started)
		return;
	pc->stop = 1;
	pthread_join(pc->t, NULL);
	pc->started = 0;
}

static int
pcap_probe(const char *path, struct pcap_info *pi)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(path, errbuf);

	if (p == NULL) {
		fprintf(stderr, "umbra: cannot read capture '%s': %s\n", path, errbuf);
		return -EINVAL;
	}
	pi->dlt = pcap_datalink(p);
	switch (pi->dlt) {
	case DLT_EN10MB:
		pi->link = UMBRA_LINK_ETHERNET;
		break;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
	case DLT_IPV6:
		pi->link = pi->dlt == DLT_RAW ? UMBRA_LINK_RAW : (unsigned)pi->dlt;
		break;
#endif
	case DLT_NULL:
		pi->link = UMBRA_LINK_NULL;
		break;
	case DLT_LOOP:
		pi->link = UMBRA_LINK_LOOP;
		break;
	case DLT_LINUX_SLL:
		pi->link = UMBRA_LINK_LINUX_SLL;
		break;
	default:
		pi->link = UINT_MAX;
		break;
	}
	pcap_close(p);
	return 0;
}

/* EAL arguments for the replay shorthand: no hugepages, no PCI. */
static int
shorthand_eal_args(char *prog, char **eal, char *lcores, size_t lcores_len,
		   char *prefix, size_t prefix_len, int telemetry)
{
	cpu_set_t set;
	int c0 = -1, c1 = -1, cpu, n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (!CPU_ISSET(cpu, &set))
				continue;
			if (c0 < 0)
				c0 = cpu;
			else if (c1 < 0)
				c1 = cpu;
		}
	}
	if (c0 < 0)
		c0 = 0;
	if (c1 < 0)
		c1 = c0; /* one CPU: control and worker share it */
	snprintf(lcores, lcores_len, "--lcores=0@%d,1@%d", c0, c1);
	/* private runtime files: parallel replays never meet */
	snprintf(prefix, prefix_len, "--file-prefix=umbra-%ld", (long)getpid());
	eal[n++] = prog;
	eal[n++] = (char *)"--no-huge";
	eal[n++] = (char *)"--no-pci";
	eal[n++] = (char *)"--no-shconf";
	if (!telemetry)
		eal[n++] = (char *)"--no-telemetry";
	eal[n++] = prefix;
	eal[n++] = (char *)"-m";
	eal[n++] = (char *)"64";
	eal[n++] = (char *)"--log-level=5";
	eal[n++] = lcores;
	eal[n] = NULL;
	return n;
}

/* A capture path with ',' or '=' would break the vdev's devargs. */
static int
safe_pcap_path(const char *path, char *out, size_t len, char *linkdir, size_t dlen)
{
	char abs[PATH_MAX];

	linkdir[0] = '\0';
	if (strpbrk(path, ",=") == NULL) {
		snprintf(out, len, "%s", path);
		return 0;
	}
	if (realpath(path, abs) == NULL)
		return -errno;
	snprintf(linkdir, dlen, "/tmp/umbra-pcap-XXXXXX");
	if (mkdtemp(linkdir) == NULL)
		return -errno;
	snprintf(out, len, "%s/capture", linkdir);
	if (symlink(abs, out) != 0)
		return -errno;
	return 0;
}

/* Sink counters for the report (live, or final once the writer ended). */
static void
report_sinks(struct umbra_report *rep, struct umbra_writer_ctx *wc)
{
	unsigned i;

	rep->nsinks = wc->nsinks;
	for (i = 0; i < wc->nsinks; i++)
		rep->sink_name[i] = wc->sinks[i].ops->name;
	umbra_writer_sink_stats(wc, rep->sink);
}

struct scalars {
	uint64_t rx, darknet, not_darknet, malformed, ring_drops, ring_drop_pkts;
	uint64_t evicted, records, active, now_ns;
};

static void
sum_scalars(struct umbra_lcore_ctx *lc, unsigned n, struct scalars *s)
{
	unsigned i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < n; i++) {
		const struct umbra_counters *c = lc[i].w->cnt;
		uint64_t t;

#define RD(x) __atomic_load_n(&c->x, __ATOMIC_RELAXED)
		s->rx += RD(rx_packets);
		s->darknet += RD(darknet_packets);
		s->not_darknet += RD(not_darknet_packets) + RD(not_ip_packets) +
				  RD(unsupported_link_packets);
		s->malformed += RD(malformed_packets);
		s->ring_drops += RD(records_dropped);
		s->ring_drop_pkts += RD(records_dropped_packets);
		s->evicted += RD(flows_evicted);
		s->active += RD(flows_active);
		t = RD(now_ns);
#undef RD
		if (t != 0 && (s->now_ns == 0 || t < s->now_ns))
			s->now_ns = t;
	}
}

/*
 * Names of the classifier's ids for the dump header (format 1.1), into c.
 * Returns the array to free once the writer is open (it copies them).
 */
static struct umbra_dump_name *
dump_names(const struct umbra_classify *cl, struct umbra_dump_writer_conf *c)
{
	const struct umbra_hs *hs = umbra_classify_hs(cl);
	unsigned nl = umbra_classify_nlabels(cl), ns = hs ? umbra_hs_count(hs) : 0, k = 0, i;
	struct umbra_dump_name *v = calloc(nl + ns + UMBRA_TAG_BIT_MAX + 1, sizeof(*v));

	if (v == NULL || cl == NULL)
		return v;
	c->label_names = v;
	for (i = 1; i <= nl; i++)
		v[k++] = (struct umbra_dump_name){ i, umbra_classify_label_name(cl, i) };
	c->nlabel_names = k;
	c->sig_names = v + k;
	for (i = 0; i < ns; i++)
		v[k++] = (struct umbra_dump_name){ umbra_hs_pattern(hs, i)->id,
						   umbra_hs_pattern(hs, i)->name };
	c->nsig_names = ns;
	c->tag_names = v + k;
	for (i = UMBRA_TAG_BIT_PLUGIN_FIRST; i < UMBRA_TAG_BIT_MAX; i++)
		if (umbra_classify_tag_name(cl, i) != NULL)
			v[k++] = (struct umbra_dump_name){ i, umbra_classify_tag_name(cl, i) };
	c->ntag_names = k - nl - ns;
	return v;
}

/* One loss interval: what the counters moved by since the previous one. */
static void
fill_interval(struct umbra_interval *iv, uint64_t start, uint64_t end,
	      const struct scalars *cur, const struct scalars *prev,
	      const struct umbra_port_stats *ps, const struct umbra_port_stats *prev_ps)
{
	memset(iv, 0, sizeof(*iv));
	iv->start_ns = start;
	iv->end_ns = end;
	iv->rx_packets = cur->rx - prev->rx;
	iv->darknet_packets = cur->darknet - prev->darknet;
	iv->not_darknet_packets = cur->not_darknet - prev->not_darknet;
	iv->malformed_packets = cur->malformed - prev->malformed;
	iv->rx_missed = ps->imissed - prev_ps->imissed;
	iv->rx_nombuf = ps->rx_nombuf - prev_ps->rx_nombuf;
	iv->ring_drops = cur->ring_drops - prev->ring_drops;
	iv->ring_drop_packets = cur->ring_drop_pkts - prev->ring_drop_pkts;
	iv->flows_evicted = cur->evicted - prev->evicted;
}

int
main(int argc, char **argv)
{
	static struct umbra_config cfg;
	static struct umbra_lcore_ctx lcs[UMBRA_WORKERS_MAX];
	static struct umbra_writer_ctx wc;
	struct umbra_spsc *rings[UMBRA_WORKERS_MAX];
	struct umbra_counters *cnts[UMBRA_WORKERS_MAX];
	char err[1024], lcores[64], pcap_path[PATH_MAX + 64], linkdir[64] = "";
	char fprefix[64];
	char *eal_argv[20];
	char **eal = argv, **uargv;
	int eal_argc, uargc, sep, rc, status_tty, exit_code = 0;
	struct pcap_info pi = { .link = UMBRA_LINK_ETHERNET };
	struct pcap_count pcount = { .frames = UMBRA_FRAMES_COUNTING };
	struct umbra_privilege priv;
	struct rte_mempool *pool = NULL;
	struct umbra_dump_writer_conf dwc;
	struct umbra_counters *total;
	struct umbra_report rep;
	struct umbra_metrics *metrics = NULL;
	struct umbra_classify *classify = NULL;
	struct scalars prev, cur;
	struct umbra_port_stats ps, prev_ps;
	const char *prefixes[UMBRA_DARKNET_MAX];
	uint16_t port;
	unsigned i, lcore, nw;
	double t0, next_iv, next_status, last_status_t;
	uint64_t iv_start_ns, last_status_rx = 0, capture_first = 0;
	enum umbra_clock clock_kind = UMBRA_CLOCK_TSC;
	int ts_offset = -1;

	/* "--" separates EAL options from ours; without it, all are ours */
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep < argc) {
		eal_argc = sep;
		uargv = argv + sep + 1;
		uargc = argc - sep - 1;
	} else {
		eal_argc = 0;
		uargv = argv + 1;
		uargc = argc - 1;
	}
	umbra_config_defaults(&cfg);
	if (umbra_config_parse_args(&cfg, uargc, uargv, err, sizeof(err)) != 0 ||
	    umbra_config_validate(&cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "umbra: %s\n", err);
		return 2;
	}
	if (cfg.help) {
		umbra_config_usage(stdout);
		return 0;
	}
	if (cfg.version) {
		printf("umbra %s (DPDK %s)\n", UMBRA_VERSION, rte_version());
		return 0;
	}
	if (cfg.pcap[0] != '\0' && cfg.workers != 1) {
		fprintf(stderr, "umbra: option '--workers': bad value '%u' (a capture file is read by one worker)\n",
			cfg.workers);
		return 2;
	}
	{
		struct stat st;

		if (stat(cfg.out_dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
		    access(cfg.out_dir, W_OK) != 0) {
			fprintf(stderr, "umbra: option '--out': bad value '%s' (not a writable directory)\n",
				cfg.out_dir);
			return 2;
		}
	}
	if (cfg.user[0] != '\0' &&
	    umbra_privilege_resolve(cfg.user, &priv, err, sizeof(err)) != 0) {
		fprintf(stderr, "umbra: %s\n", err);
		return 2;
	}
	if (cfg.pcap[0] != '\0' && pcap_probe(cfg.pcap, &pi) != 0)
		return 1;
	/* classifiers, p0f database and signatures: a bad file stops here */
	if (umbra_classify_from_config(&cfg, &classify, err, sizeof(err)) != 0) {
		fprintf(stderr, "umbra: %s\n", err);
		return 2;
	}
	/* export sinks and the metrics listener: a bad URL or a busy port
	 * is refused before anything starts */
	if (umbra_sinks_open(&cfg, classify, wc.sinks, &wc.nsinks, err, sizeof(err)) != 0) {
		fprintf(stderr, "umbra: %s\n", err);
		return 2;
	}
	if (cfg.metrics[0] != '\0' &&
	    (metrics = umbra_metrics_start(cfg.metrics, err, sizeof(err))) == NULL) {
		fprintf(stderr, "umbra: %s\n", err);
		return 2;
	}
	if (cfg.telemetry && (rc = umbra_telemetry_register()) != 0) {
		fprintf(stderr, "umbra: cannot register telemetry commands: %s\n", strerror(-rc));
		return 1;
	}

	if (eal_argc == 0) {
		if (cfg.pcap[0] == '\0') {
			fprintf(stderr, "umbra: no capture source: give EAL options before '--' "
					"(e.g. -a PCI) or --pcap FILE\n");
			return 2;
		}
		eal_argc = shorthand_eal_args(argv[0], eal_argv, lcores, sizeof(lcores),
					      fprefix, sizeof(fprefix), cfg.telemetry);
		eal = eal_argv;
	}
	/*
	 * From here a signal stops the engine cleanly whenever it comes: the
	 * workers see quit at their first burst and drain what they hold.
	 */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	umask(027); /* dumps, --stats-json, anything else: at most 0640 */
	rc = rte_eal_init(eal_argc, eal);
	if (rc < 0) {
		fprintf(stderr, "umbra: DPDK EAL initialisation failed: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	nw = cfg.workers;
	if (rte_lcore_count() < nw + 1) {
		fprintf(stderr, "umbra: %u workers need %u lcores (main + workers), EAL has %u\n",
			nw, nw + 1, rte_lcore_count());
		rte_eal_cleanup();
		return 2;
	}

	port = (uint16_t)cfg.port;
	if (cfg.pcap[0] != '\0') {
		char devargs[PATH_MAX + 128];

		if (safe_pcap_path(cfg.pcap, pcap_path, sizeof(pcap_path), linkdir,
				   sizeof(linkdir)) != 0) {
			fprintf(stderr, "umbra: cannot prepare capture path '%s'\n", cfg.pcap);
			rte_eal_cleanup();
			return 1;
		}
		snprintf(devargs, sizeof(devargs), "%s,rx_pcap=%s", PCAP_VDEV, pcap_path);
		rc = rte_dev_probe(devargs);
		if (rc == 0)
			rc = rte_eth_dev_get_port_by_name(PCAP_VDEV, &port);
		if (rc != 0) {
			fprintf(stderr, "umbra: cannot open capture '%s' through net_pcap: %s\n",
				cfg.pcap, strerror(-rc));
			rte_eal_cleanup();
			return 1;
		}
	}
	if (umbra_port_setup(port, nw, 0, &pool) != 0) {
		rte_eal_cleanup();
		return 1;
	}
	if (cfg.pcap[0] != '\0') {
		/* net_pcap stamps each mbuf with the file's time (us) */
		ts_offset = rte_mbuf_dynfield_lookup(RTE_MBUF_DYNFIELD_TIMESTAMP_NAME, NULL);
		if (ts_offset >= 0)
			clock_kind = UMBRA_CLOCK_PCAP_US;
		else
			fprintf(stderr, "umbra: net_pcap gives no timestamps; using the clock\n");
	}
	if (cfg.backpressure < 0)
		cfg.backpressure = cfg.pcap[0] != '\0';
	/* devices and memory are mapped: nothing below needs root */
	if (cfg.user[0] != '\0' &&
	    umbra_privilege_drop(&priv, cfg.out_dir, err, sizeof(err)) != 0) {
		fprintf(stderr, "umbra: %s\n", err);
		umbra_port_teardown(port);
		umbra_classify_free(classify);
		rte_eal_cleanup();
		return 1;
	}

	for (i = 0; i < nw; i++) {
		struct umbra_worker_conf wcf;

		rings[i] = umbra_spsc_create(cfg.ring_size);
		memset(&wcf, 0, sizeof(wcf));
		wcf.link = pi.link == UINT_MAX ? UMBRA_LINK_ETHERNET : pi.link;
		wcf.darknet = &cfg.darknet;
		wcf.flows = cfg.flows;
		wcf.idle_ns = (uint64_t)cfg.idle_timeout_s * 1000000000ull;
		wcf.active_ns = (uint64_t)cfg.active_timeout_s * 1000000000ull;
		wcf.ring = rings[i];
		wcf.backpressure = cfg.backpressure;
		wcf.classify = classify;
		wcf.lcore = i;
		/* replay: date the records for the writer every 100 ms of capture */
		wcf.mark_ns = clock_kind == UMBRA_CLOCK_PCAP_US ? 100000000ull : 0;
		/* live: no page fault when the first flood arrives */
		wcf.prefault = clock_kind != UMBRA_CLOCK_PCAP_US;
		lcs[i].w = rings[i] != NULL ? umbra_worker_create(&wcf) : NULL;
		lcs[i].scratch = malloc((size_t)cfg.burst * 65600);
		if (lcs[i].w == NULL || lcs[i].scratch == NULL) {
			fprintf(stderr, "umbra: worker %u: cannot allocate %u flows: %s\n", i,
				cfg.flows, strerror(errno));
			rte_eal_cleanup();
			return 1;
		}
		lcs[i].ring = rings[i];
		lcs[i].port = port;
		lcs[i].queue = (uint16_t)i;
		lcs[i].burst = cfg.burst;
		lcs[i].clock = clock_kind;
		lcs[i].ts_offset = ts_offset;
		lcs[i].unsupported_link = pi.link == UINT_MAX;
		lcs[i].replay = cfg.pcap[0] != '\0';
		lcs[i].expected = &pcount.frames;
		lcs[i].quit = &quit;
		cnts[i] = lcs[i].w->cnt;
	}

	for (i = 0; i < cfg.darknet.n; i++)
		prefixes[i] = cfg.darknet_text[i];
	memset(&dwc, 0, sizeof(dwc));
	dwc.size = sizeof(dwc);
	dwc.dir = cfg.out_dir;
	dwc.sensor_name = cfg.sensor_name;
	dwc.prefixes = prefixes;
	dwc.nprefixes = cfg.darknet.n;
	dwc.rotate_s = cfg.rotate_s;
	dwc.block_records = cfg.block_records;
	dwc.zstd_level = cfg.zstd_level;
	struct umbra_dump_name *dnames = dump_names(classify, &dwc);
	wc.dw = umbra_dump_writer_open(&dwc);
	free(dnames);
	if (wc.dw == NULL) {
		fprintf(stderr, "umbra: cannot start the dump writer in '%s': %s\n",
			cfg.out_dir, strerror(errno));
		rte_eal_cleanup();
		return 1;
	}
	wc.rings = rings;
	wc.nrings = nw;
	wc.capture_clock = clock_kind == UMBRA_CLOCK_PCAP_US;
	wc.delay_us = cfg.writer_delay_us;
	wc.out_dir = cfg.out_dir;
	if ((rc = umbra_writer_start(&wc)) != 0) {
		fprintf(stderr, "umbra: cannot start the writer thread: %s\n", strerror(-rc));
		rte_eal_cleanup();
		return 1;
	}

	status_tty = cfg.status > 0 || (cfg.status < 0 && isatty(STDERR_FILENO));

	if (cfg.pcap[0] != '\0')
		pcap_count_start(&pcount, cfg.pcap);
	i = 0;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (i == nw)
			break;
		lcs[i].lcore = lcore;
		rte_eal_remote_launch(umbra_worker_lcore_main, &lcs[i], lcore);
		i++;
	}

	t0 = wall_now();
	next_iv = t0 + cfg.flush_ms / 1000.0;
	next_status = t0 + 1.0;
	last_status_t = t0;
	memset(&prev, 0, sizeof(prev));
	memset(&prev_ps, 0, sizeof(prev_ps));
	iv_start_ns = clock_kind == UMBRA_CLOCK_TSC ? realtime_ns() : 0;
	for (;;) {
		const struct timespec nap = { 0, 10 * 1000 * 1000 };
		int all_done = 1;
		double now;

		for (i = 0; i < nw; i++)
			if (!atomic_load_explicit(&lcs[i].done, memory_order_acquire))
				all_done = 0;
		if (all_done)
			break;
		nanosleep(&nap, NULL);
		now = wall_now();
		sum_scalars(lcs, nw, &cur);
		if (capture_first == 0)
			capture_first = cur.now_ns;
		if (now >= next_iv) {
			struct umbra_interval iv;
			uint64_t end = clock_kind == UMBRA_CLOCK_TSC ? realtime_ns() : cur.now_ns;

			umbra_port_stats(port, &ps);
			fill_interval(&iv, iv_start_ns != 0 ? iv_start_ns : capture_first, end,
				      &cur, &prev, &ps, &prev_ps);
			/* a full mailbox keeps the deltas for the next interval */
			if (umbra_writer_post_interval(&wc, &iv) == 0) {
				prev = cur;
				prev_ps = ps;
				iv_start_ns = end;
			}
			next_iv = now + cfg.flush_ms / 1000.0;
		}
		if (now >= next_status) {
			/* once a second: full totals for the status line, the
			 * metrics endpoint and telemetry (umbra_stats_read) */
			total = umbra_counters_alloc(cfg.darknet.nsensors_direct);
			if (total != NULL) {
				for (i = 0; i < nw; i++)
					umbra_counters_add(total, cnts[i]);
				memset(&rep, 0, sizeof(rep));
				rep.cfg = &cfg;
	rep.classify = classify;
				rep.total = total;
				umbra_port_stats(port, &rep.port);
				rep.writer.records = atomic_load(&wc.records_written);
				rep.writer.bytes = atomic_load(&wc.bytes_written);
				rep.capture_first_ns = total->first_ns;
				rep.capture_last_ns = total->now_ns;
				rep.wall_s = now - t0;
				rep.time_source = clock_kind == UMBRA_CLOCK_PCAP_US ? "capture" : "clock";
				rep.rx_pps = (double)(total->rx_packets - last_status_rx) /
					     (now - last_status_t);
				report_sinks(&rep, &wc);
				umbra_stats_publish(&rep);
				if (status_tty)
					umbra_report_status_line(&rep, rep.rx_pps, stderr);
				last_status_rx = total->rx_packets;
				last_status_t = now;
				umbra_counters_free(total);
			}
			next_status = now + 1.0;
		}
	}
	rte_eal_mp_wait_lcore();
	if (status_tty)
		fputc('\n', stderr);

	/* the last interval: everything since the previous one */
	sum_scalars(lcs, nw, &cur);
	umbra_port_stats(port, &ps);
	{
		struct umbra_interval iv;
		const struct timespec nap = { 0, 1000 * 1000 };

		fill_interval(&iv,
			      iv_start_ns != 0 ? iv_start_ns : (capture_first ? capture_first : cur.now_ns),
			      clock_kind == UMBRA_CLOCK_TSC ? realtime_ns() : cur.now_ns,
			      &cur, &prev, &ps, &prev_ps);
		while (umbra_writer_post_interval(&wc, &iv) != 0)
			nanosleep(&nap, NULL);
	}
	rc = umbra_writer_stop(&wc);
	if (rc != 0) {
		fprintf(stderr, "umbra: closing the dump files failed: %s\n", strerror(-rc));
		exit_code = 1;
	}

	total = umbra_counters_alloc(cfg.darknet.nsensors_direct);
	if (total == NULL) {
		fprintf(stderr, "umbra: out of memory for the final report\n");
		return 1;
	}
	for (i = 0; i < nw; i++)
		umbra_counters_add(total, cnts[i]);
	memset(&rep, 0, sizeof(rep));
	rep.cfg = &cfg;
	rep.classify = classify;
	rep.total = total;
	rep.port = ps;
	rep.writer = wc.final;
	rep.capture_first_ns = total->first_ns;
	rep.capture_last_ns = cur.now_ns;
	rep.wall_s = wall_now() - t0;
	rep.time_source = clock_kind == UMBRA_CLOCK_PCAP_US ? "capture" : "clock";
	if (rep.writer.write_errors != 0)
		exit_code = 1;
	report_sinks(&rep, &wc);
	umbra_stats_publish(&rep);
	if (cfg.stats_json[0] != '\0' && umbra_report_json(&rep, cfg.stats_json) != 0)
		exit_code = 1;
	if (!cfg.quiet)
		umbra_report_summary(&rep, stdout);
	if (cfg.linger_s != 0 && !quit) {
		/* --linger: final totals stay readable (metrics, telemetry) */
		const struct timespec nap = { 0, 100 * 1000 * 1000 };
		double until = wall_now() + cfg.linger_s;

		fflush(stdout);
		while (!quit && wall_now() < until)
			nanosleep(&nap, NULL);
	}
	umbra_metrics_stop(metrics);
	pcap_count_stop(&pcount);

	umbra_port_teardown(port);
	for (i = 0; i < nw; i++) {
		umbra_worker_free(lcs[i].w);
		umbra_spsc_free(rings[i]);
		free(lcs[i].scratch);
	}
	umbra_counters_free(total);
	umbra_classify_free(classify);
	if (linkdir[0] != '\0') {
		unlink(pcap_path);
		rmdir(linkdir);
	}
	rte_eal_cleanup();
	return exit_code;
}
