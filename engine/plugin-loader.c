/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification registry and --plugin loader. Everything here runs on the
 * control thread, before the workers start or after they stopped.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "config.h"
#include "stats-counters.h"

struct umbra_classify {
	struct umbra_plugin_host host;
	struct umbra_classify_conf conf;
	char payload_bytes_text[16];
	unsigned np;
	const struct umbra_plugin *p[UMBRA_CLS_PLUGIN_MAX];
	void *ctx[UMBRA_CLS_PLUGIN_MAX];
	int inited[UMBRA_CLS_PLUGIN_MAX];
	void *dl[UMBRA_CLS_PLUGIN_MAX];
	int cur; /* plugin whose init() runs, for names and messages */
	char *tag[UMBRA_TAG_BIT_MAX];
	unsigned ncnt;
	char *cnt[UMBRA_CLS_COUNTERS_MAX];
	unsigned nlabel;
	char *label[UMBRA_CLS_LABEL_MAX];
	struct umbra_hs_patterns pats;
	unsigned next_plugin_sig;
	struct umbra_hs *hs;
	unsigned sig_base;
	char *err;
	size_t errlen;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static struct umbra_classify *
of(struct umbra_plugin_host *h)
{
	return h->engine;
}

struct umbra_classify *
umbra_classify_of_host(struct umbra_plugin_host *h)
{
	return of(h);
}

static const char *
cur_name(const struct umbra_classify *cl)
{
	return cl->cur >= 0 ? cl->p[cl->cur]->name : "engine";
}

static int
h_register_tag(struct umbra_plugin_host *h, const char *name)
{
	struct umbra_classify *cl = of(h);
	unsigned b;

	if (name == NULL || *name == '\0' || strchr(name, '|') || strchr(name, ','))
		return -EINVAL;
	for (b = 0; b < UMBRA_TAG_BIT_MAX; b++) {
		const char *n = umbra_classify_tag_name(cl, b);

		if (n != NULL && strcmp(n, name) == 0)
			return -EEXIST;
	}
	for (b = UMBRA_TAG_BIT_PLUGIN_FIRST; b < UMBRA_TAG_BIT_MAX; b++) {
		if (cl->tag[b] == NULL) {
			cl->tag[b] = strdup(name);
			return cl->tag[b] != NULL ? (int)b : -ENOMEM;
		}
	}
	return -ENOSPC;
}

static int
add_counter(struct umbra_classify *cl, const char *name)
{
	if (cl->ncnt >= UMBRA_CLS_COUNTERS_MAX)
		return -ENOSPC;
	cl->cnt[cl->ncnt] = strdup(name);
	if (cl->cnt[cl->ncnt] == NULL)
		return -ENOMEM;
	return (int)cl->ncnt++;
}

static int
h_register_counter(struct umbra_plugin_host *h, const char *name)
{
	if (name == NULL || *name == '\0')
		return -EINVAL;
	return add_counter(of(h), name);
}

static int
h_register_label(struct umbra_plugin_host *h, const char *name)
{
	struct umbra_classify *cl = of(h);
	unsigned i;

	if (name == NULL || *name == '\0')
		return -EINVAL;
	for (i = 1; i <= cl->nlabel; i++)
		if (strcmp(cl->label[i], name) == 0)
			return (int)i;
	if (cl->nlabel + 1 >= UMBRA_CLS_LABEL_MAX)
		return -ENOSPC;
	cl->label[cl->nlabel + 1] = strdup(name);
	if (cl->label[cl->nlabel + 1] == NULL)
		return -ENOMEM;
	return (int)++cl->nlabel;
}

static int
h_register_pattern(struct umbra_plugin_host *h, const char *name, const char *regex,
		   const char *flags, unsigned proto, unsigned port_lo,
		   unsigned port_hi)
{
	struct umbra_classify *cl = of(h);
	struct umbra_hs_pattern pat;
	int rc;

	if (name == NULL || regex == NULL || proto > 255 || port_lo > port_hi ||
	    port_hi > 65535 || (flags != NULL && (strlen(flags) >= sizeof(pat.flags) ||
						  strspn(flags, "ism8") != strlen(flags))))
		return -EINVAL;
	if (cl->next_plugin_sig > 65535)
		return -ENOSPC;
	memset(&pat, 0, sizeof(pat));
	pat.id = (uint16_t)cl->next_plugin_sig;
	pat.proto = (uint8_t)proto;
	pat.nports = 1;
	pat.port_lo[0] = (uint16_t)port_lo;
	pat.port_hi[0] = (uint16_t)port_hi;
	snprintf(pat.name, sizeof(pat.name), "%s", name);
	if (flags != NULL)
		strcpy(pat.flags, flags);
	snprintf(pat.origin, sizeof(pat.origin), "plugin '%s'", cur_name(cl));
	rc = umbra_hs_patterns_add(&cl->pats, &pat, regex, cl->err, cl->errlen);
	if (rc != 0)
		return rc;
	return (int)cl->next_plugin_sig++;
}

static const char *
h_option(struct umbra_plugin_host *h, const char *key)
{
	struct umbra_classify *cl = of(h);

	if (!strcmp(key, "p0f"))
		return cl->conf.p0f_path;
	if (!strcmp(key, "rules"))
		return cl->conf.rules_path;
	if (!strcmp(key, "hs-cache"))
		return cl->conf.hs_cache_dir;
	if (!strcmp(key, "payload-bytes"))
		return cl->payload_bytes_text;
	if (!strcmp(key, "quiet"))
		return cl->conf.quiet ? "yes" : NULL;
	return NULL;
}

static int
h_in_darknet(const struct umbra_plugin_host *h, unsigned family, const uint8_t *a)
{
	const struct umbra_classify *cl = h->engine;
	uint32_t sensor;

	if (cl->conf.darknet == NULL)
		return 0;
	return umbra_darknet_match(cl->conf.darknet, family, a, &sensor);
}

static void __attribute__((format(printf, 2, 3)))
h_error(struct umbra_plugin_host *h, const char *fmt, ...)
{
	struct umbra_classify *cl = of(h);
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	seterr(cl->err, cl->errlen, "plugin '%s': %s", cur_name(cl), msg);
}

int
umbra_plugin_check(const struct umbra_classify *cl, const struct umbra_plugin *d,
		   const char *origin, char *err, size_t errlen)
{
	unsigned i;

	if (d == NULL) {
		seterr(err, errlen, "plugin %s: registration returned no descriptor", origin);
		return -EINVAL;
	}
	if (d->abi_major != UMBRA_PLUGIN_ABI_MAJOR) {
		seterr(err, errlen, "plugin %s: ABI %u.%u is not supported (engine ABI %u.%u: major versions must match)",
		       origin, d->abi_major, d->abi_minor, UMBRA_PLUGIN_ABI_MAJOR,
		       UMBRA_PLUGIN_ABI_MINOR);
		return -EINVAL;
	}
	if (d->size < UMBRA_PLUGIN_MIN_SIZE) {
		seterr(err, errlen, "plugin %s: descriptor is %u bytes, smaller than the %zu of ABI %u.0",
		       origin, d->size, (size_t)UMBRA_PLUGIN_MIN_SIZE, UMBRA_PLUGIN_ABI_MAJOR);
		return -EINVAL;
	}
	if (d->name == NULL || d->name[0] == '\0' ||
	    strspn(d->name, "abcdefghijklmnopqrstuvwxyz0123456789_-") != strlen(d->name)) {
		seterr(err, errlen, "plugin %s: bad or missing name (expected [a-z0-9_-]+)", origin);
		return -EINVAL;
	}
	for (i = 0; cl != NULL && i < cl->np; i++) {
		if (strcmp(cl->p[i]->name, d->name) == 0) {
			seterr(err, errlen, "plugin %s: name '%s' is already registered", origin,
			       d->name);
			return -EEXIST;
		}
	}
	if (cl != NULL && cl->np >= UMBRA_CLS_PLUGIN_MAX) {
		seterr(err, errlen, "plugin %s: too many plugins (max %d)", origin,
		       UMBRA_CLS_PLUGIN_MAX);
		return -ENOSPC;
	}
	return 0;
}

static int
add_plugin(struct umbra_classify *cl, const struct umbra_plugin *d, void *dl,
	   const char *origin, char *err, size_t errlen)
{
	int rc = umbra_plugin_check(cl, d, origin, err, errlen);

	if (rc != 0)
		return rc;
	cl->dl[cl->np] = dl;
	cl->p[cl->np++] = d;
	return 0;
}

static int
load_plugin(struct umbra_classify *cl, const char *path, char *err, size_t errlen)
{
	umbra_plugin_register_fn reg;
	void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	void *sym;
	char origin[512];
	int rc;

	snprintf(origin, sizeof(origin), "'%s'", path);
	if (dl == NULL) {
		seterr(err, errlen, "plugin '%s': cannot load: %s", path, dlerror());
		return -EINVAL;
	}
	sym = dlsym(dl, UMBRA_PLUGIN_REGISTER_SYMBOL);
	if (sym == NULL) {
		seterr(err, errlen, "plugin '%s': no %s() exported", path,
		       UMBRA_PLUGIN_REGISTER_SYMBOL);
		dlclose(dl);
		return -EINVAL;
	}
	memcpy(&reg, &sym, sizeof(reg));
	rc = add_plugin(cl, reg(), dl, origin, err, errlen);
	if (rc != 0)
		dlclose(dl);
	return rc;
}

int
umbra_classify_add_rules(struct umbra_classify *cl, const char *path, char *err,
			 size_t errlen)
{
	return umbra_hs_rules_load(&cl->pats, path, err, errlen);
}

struct umbra_classify *
umbra_classify_create(const struct umbra_classify_conf *conf, char *err,
		      size_t errlen)
{
	struct umbra_classify *cl = calloc(1, sizeof(*cl));
	unsigned i;
	int rc, cached = 0;

	if (cl == NULL) {
		seterr(err, errlen, "out of memory");
		errno = ENOMEM;
		return NULL;
	}
	cl->conf = *conf;
	if (cl->conf.payload_bytes == 0)
		cl->conf.payload_bytes = UMBRA_PAYLOAD_BYTES_DEFAULT;
	snprintf(cl->payload_bytes_text, sizeof(cl->payload_bytes_text), "%u",
		 cl->conf.payload_bytes);
	cl->cur = -1;
	cl->err = err;
	cl->errlen = errlen;
	cl->next_plugin_sig = UMBRA_HS_PLUGIN_ID_FIRST;
	cl->host.size = sizeof(cl->host);
	cl->host.engine = cl;
	cl->host.register_tag = h_register_tag;
	cl->host.register_counter = h_register_counter;
	cl->host.register_label = h_register_label;
	cl->host.register_pattern = h_register_pattern;
	cl->host.option = h_option;
	cl->host.in_darknet = h_in_darknet;
	cl->host.error = h_error;
	if (!conf->no_builtins) {
		add_plugin(cl, &umbra_builtin_tags, NULL, "built-in", err, errlen);
		add_plugin(cl, &umbra_builtin_p0f, NULL, "built-in", err, errlen);
		add_plugin(cl, &umbra_builtin_payload, NULL, "built-in", err, errlen);
	}
	for (i = 0; i < conf->nplugins; i++) {
		rc = load_plugin(cl, conf->plugins[i], err, errlen);
		if (rc != 0)
			goto fail;
	}
	for (i = 0; i < cl->np; i++) {
		cl->cur = (int)i;
		if (cl->p[i]->init != NULL) {
			if (err != NULL && errlen > 0)
				err[0] = '\0';
			rc = cl->p[i]->init(&cl->host, &cl->ctx[i]);
			if (rc != 0) {
				if (err != NULL && errlen > 0 && err[0] == '\0')
					seterr(err, errlen, "plugin '%s': init failed: %s",
					       cl->p[i]->name, strerror(rc < 0 ? -rc : rc));
				/* a failed init may have set *ctx: fini releases it */
				if (cl->ctx[i] != NULL && cl->p[i]->fini != NULL)
					cl->p[i]->fini(cl->ctx[i]);
				goto fail;
			}
		}
		cl->inited[i] = 1;
	}
	cl->cur = -1;
	if (cl->pats.n > 0) {
		cl->hs = umbra_hs_build(&cl->pats, conf->hs_cache_dir, &cached, err, errlen);
		if (cl->hs == NULL)
			goto fail;
		cl->sig_base = cl->ncnt;
		for (i = 0; i < cl->pats.n; i++) {
			char name[128];

			snprintf(name, sizeof(name), "sig.%s", cl->pats.p[i].name);
			if (add_counter(cl, name) < 0) {
				seterr(err, errlen, "too many counters (max %d)",
				       UMBRA_CLS_COUNTERS_MAX);
				goto fail;
			}
		}
	}
	cl->err = NULL;
	cl->errlen = 0;
	return cl;
fail:
	cl->err = NULL;
	cl->errlen = 0;
	umbra_classify_free(cl);
	errno = EINVAL;
	return NULL;
}

void
umbra_classify_free(struct umbra_classify *cl)
{
	unsigned i;

	if (cl == NULL)
		return;
	for (i = cl->np; i-- > 0;) {
		if (cl->inited[i] && cl->p[i]->fini != NULL)
			cl->p[i]->fini(cl->ctx[i]);
	}
	for (i = 0; i < cl->np; i++)
		if (cl->dl[i] != NULL)
			dlclose(cl->dl[i]);
	for (i = 0; i < UMBRA_TAG_BIT_MAX; i++)
		free(cl->tag[i]);
	for (i = 0; i < cl->ncnt; i++)
		free(cl->cnt[i]);
	for (i = 1; i <= cl->nlabel; i++)
		free(cl->label[i]);
	umbra_hs_patterns_free(&cl->pats);
	umbra_hs_free(cl->hs);
	free(cl);
}

unsigned
umbra_classify_nplugins(const struct umbra_classify *cl)
{
	return cl != NULL ? cl->np : 0;
}

const struct umbra_plugin *
umbra_classify_plugin(const struct umbra_classify *cl, unsigned i)
{
	return cl != NULL && i < cl->np ? cl->p[i] : NULL;
}

const char *
umbra_classify_tag_name(const struct umbra_classify *cl, unsigned bit)
{
	if (bit < UMBRA_TAG_BIT_PLUGIN_FIRST)
		return umbra_tag_name(bit);
	return cl != NULL && bit < UMBRA_TAG_BIT_MAX ? cl->tag[bit] : NULL;
}

unsigned
umbra_classify_ncounters(const struct umbra_classify *cl)
{
	return cl != NULL ? cl->ncnt : 0;
}

const char *
umbra_classify_counter_name(const struct umbra_classify *cl, unsigned i)
{
	return cl != NULL && i < cl->ncnt ? cl->cnt[i] : NULL;
}

unsigned
umbra_classify_nlabels(const struct umbra_classify *cl)
{
	return cl != NULL ? cl->nlabel : 0;
}

const char *
umbra_classify_label_name(const struct umbra_classify *cl, unsigned id)
{
	return cl != NULL && id >= 1 && id <= cl->nlabel ? cl->label[id] : NULL;
}

const struct umbra_hs *
umbra_classify_hs(const struct umbra_classify *cl)
{
	return cl != NULL ? cl->hs : NULL;
}

unsigned
umbra_classify_sig_counter_base(const struct umbra_classify *cl)
{
	return cl->sig_base;
}

uint32_t
umbra_classify_payload_bytes(const struct umbra_classify *cl)
{
	return cl->conf.payload_bytes;
}

const char *
umbra_classify_sig_name(const struct umbra_classify *cl, unsigned id)
{
	unsigned i;

	for (i = 0; cl != NULL && i < cl->pats.n; i++)
		if (cl->pats.p[i].id == id)
			return cl->pats.p[i].name;
	return NULL;
}

int
umbra_classify_lcore_init(struct umbra_classify *cl, unsigned lcore,
			  struct umbra_classify_lcore *lc)
{
	unsigned i;

	memset(lc, 0, sizeof(*lc));
	for (i = 0; i < cl->np; i++) {
		const struct umbra_plugin *d = cl->p[i];
		void *lctx = cl->ctx[i];

		if (d->lcore_init != NULL) {
			int rc = d->lcore_init(cl->ctx[i], lcore, &lctx);

			if (rc != 0) {
				lc->n = i;
				umbra_classify_lcore_fini(cl, lc);
				return rc < 0 ? rc : -rc;
			}
		}
		lc->lctx[i] = lctx;
		if (d->classify != NULL) {
			lc->cls[lc->ncls].fn = d->classify;
			lc->cls[lc->ncls++].lctx = lctx;
		}
		if (d->flow_finished != NULL) {
			lc->fin[lc->nfin].fn = d->flow_finished;
			lc->fin[lc->nfin++].lctx = lctx;
		}
	}
	lc->n = cl->np;
	return 0;
}

void
umbra_classify_lcore_fini(struct umbra_classify *cl, struct umbra_classify_lcore *lc)
{
	unsigned i;

	for (i = lc->n; i-- > 0;)
		if (cl->p[i]->lcore_fini != NULL && cl->p[i]->lcore_init != NULL)
			cl->p[i]->lcore_fini(lc->lctx[i]);
	memset(lc, 0, sizeof(*lc));
}

int
umbra_classify_from_config(const struct umbra_config *cfg, struct umbra_classify **out,
			   char *err, size_t errlen)
{
	struct umbra_classify_conf cc;
	const char *paths[UMBRA_CONFIG_PLUGINS];
	unsigned i;

	*out = NULL;
	if (cfg->no_classify && cfg->nplugins == 0)
		return 0;
	memset(&cc, 0, sizeof(cc));
	cc.p0f_path = cfg->p0f[0] != '\0' ? cfg->p0f : NULL;
	cc.rules_path = cfg->rules[0] != '\0' ? cfg->rules : NULL;
	cc.hs_cache_dir = cfg->hs_cache[0] != '\0' ? cfg->hs_cache : NULL;
	cc.payload_bytes = cfg->payload_bytes;
	for (i = 0; i < cfg->nplugins; i++)
		paths[i] = cfg->plugins[i];
	cc.plugins = paths;
	cc.nplugins = cfg->nplugins;
	cc.darknet = &cfg->darknet;
	cc.no_builtins = cfg->no_classify;
	cc.quiet = cfg->quiet;
	*out = umbra_classify_create(&cc, err, errlen);
	return *out != NULL ? 0 : -EINVAL;
}
