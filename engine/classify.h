/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification registry (engine/plugin-loader.c): the built-in
 * classifiers (plugins/builtin-*.c) and the --plugin shared objects, all
 * through the ABI of include/umbra/plugin.h. Built once on the control
 * thread; each worker takes a table of function pointers from it
 * (umbra_classify_lcore_init) and calls them without locks.
 */
#ifndef UMBRA_CLASSIFY_H
#define UMBRA_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

#include "classify-hs.h"
#include "filter-darknet.h"
#include "umbra/plugin.h"

#define UMBRA_CLS_PLUGIN_MAX 16
#define UMBRA_CLS_LABEL_MAX 4096
#define UMBRA_PAYLOAD_BYTES_DEFAULT 256

#ifndef UMBRA_RULES_DEFAULT
#define UMBRA_RULES_DEFAULT "/usr/local/share/umbra/rules/default.rules"
#endif

struct umbra_classify_conf {
	const char *p0f_path;     /* NULL: /etc/p0f/p0f.fp, warn if missing */
	const char *rules_path;   /* NULL: UMBRA_RULES_DEFAULT, warn if missing */
	const char *hs_cache_dir; /* NULL: no cache */
	uint32_t payload_bytes;   /* 0: UMBRA_PAYLOAD_BYTES_DEFAULT */
	const char *const *plugins; /* --plugin paths */
	unsigned nplugins;
	const struct umbra_darknet *darknet;
	int no_builtins;          /* --no-classify */
	int quiet;                /* no warnings on stderr */
};

struct umbra_classify;

/* NULL with errno; err says which plugin/file/line and why. */
struct umbra_classify *umbra_classify_create(const struct umbra_classify_conf *conf,
					     char *err, size_t errlen);
void umbra_classify_free(struct umbra_classify *cl);

/*
 * Check a descriptor against the ABI and the plugins already accepted.
 * 0, or -EINVAL/-EEXIST with a message. (Exposed for tests.)
 */
int umbra_plugin_check(const struct umbra_classify *cl,
		       const struct umbra_plugin *d, const char *origin,
		       char *err, size_t errlen);

unsigned umbra_classify_nplugins(const struct umbra_classify *cl);
const struct umbra_plugin *umbra_classify_plugin(const struct umbra_classify *cl,
						 unsigned i);
/* Tag name of any bit (built-in or plugin), NULL if unused. */
const char *umbra_classify_tag_name(const struct umbra_classify *cl, unsigned bit);
unsigned umbra_classify_ncounters(const struct umbra_classify *cl);
const char *umbra_classify_counter_name(const struct umbra_classify *cl, unsigned i);
/* p0f labels: ids 1..n */
unsigned umbra_classify_nlabels(const struct umbra_classify *cl);
const char *umbra_classify_label_name(const struct umbra_classify *cl, unsigned id);
/* payload signatures (compiled database); NULL when none */
const struct umbra_hs *umbra_classify_hs(const struct umbra_classify *cl);
/* counter index of pattern 0 of the database (one counter per pattern) */
unsigned umbra_classify_sig_counter_base(const struct umbra_classify *cl);
uint32_t umbra_classify_payload_bytes(const struct umbra_classify *cl);
/* name of signature id, or NULL */
const char *umbra_classify_sig_name(const struct umbra_classify *cl, unsigned id);

/* For built-ins: the registry behind a host. */
struct umbra_classify *umbra_classify_of_host(struct umbra_plugin_host *h);
/* For built-ins: add the rules of a file (ids as written). */
int umbra_classify_add_rules(struct umbra_classify *cl, const char *path,
			     char *err, size_t errlen);

/* One worker's view: what to call, in order. */
struct umbra_classify_lcore {
	unsigned ncls, nfin, n;
	struct {
		void (*fn)(void *lctx, const struct umbra_plugin_burst *b);
		void *lctx;
	} cls[UMBRA_CLS_PLUGIN_MAX];
	struct {
		void (*fn)(void *lctx, struct umbra_flow_record *rec);
		void *lctx;
	} fin[UMBRA_CLS_PLUGIN_MAX];
	void *lctx[UMBRA_CLS_PLUGIN_MAX]; /* per plugin, for lcore_fini */
};

int umbra_classify_lcore_init(struct umbra_classify *cl, unsigned lcore,
			      struct umbra_classify_lcore *lc);
void umbra_classify_lcore_fini(struct umbra_classify *cl,
			       struct umbra_classify_lcore *lc);

struct umbra_config;
/*
 * The engine's settings to a registry (*out NULL when --no-classify and
 * no --plugin). 0, or -errno with a message in err.
 */
int umbra_classify_from_config(const struct umbra_config *cfg,
			       struct umbra_classify **out, char *err, size_t errlen);

/* Built-in descriptors (plugins/) */
extern const struct umbra_plugin umbra_builtin_tags;
extern const struct umbra_plugin umbra_builtin_p0f;
extern const struct umbra_plugin umbra_builtin_payload;

#endif /* UMBRA_CLASSIFY_H */
