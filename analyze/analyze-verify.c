/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * umbra-analyze verify: every frame, checksum, block and index of each
 * dump, damage named by file and offset, non-zero exit on damage.
 * umbra-analyze recover: a valid, complete file with every intact block
 * (and every intact interval) of a damaged or .partial one. Intact blocks
 * are copied byte for byte (their compressed frames are not re-encoded);
 * block headers get new sequence numbers and the file a new index.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze.h"
#include "record-codec.h"

#define BLK_FRAME UMBRA_BLK_FRAME

static int is_partial(const char *path)
{
	size_t l = strlen(path);
	return l > 8 && strcmp(path + l - 8, ".partial") == 0;
}

static const char *open_error(int e)
{
	switch (e) {
	case EPROTO: return "not an umbra dump (bad file header frame)";
	case ENOTSUP: return "unsupported format major version";
	default: return strerror(e);
	}
}

struct vstats {
	uint64_t blocks, records, intervals, damage;
};

/* "DAMAGE PATH: offset N: WHAT[ (LEN UNIT)]" */
static void damage(struct vstats *v, const char *path, uint64_t off, const char *unit,
		   const char *what, uint64_t len)
{
	v->damage++;
	printf("DAMAGE %s: offset %" PRIu64 ": %s", path, off, what);
	if (unit)
		printf(" (%" PRIu64 " %s)", len, unit);
	putchar('\n');
}

/* why the reader ignored a trailer that says it is an index */
static void check_trailer(struct vstats *v, const char *path,
			  struct umbra_dump_reader *r)
{
	uint64_t size, data_end;
	umbra_dump_extent(r, &size, &data_end);
	if (data_end < size)
		return; /* the index verified */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t f[UMBRA_FOOTER_LEN];
	int has_magic = fd >= 0 && size >= sizeof(f) &&
			pread(fd, f, sizeof(f), (off_t)(size - sizeof(f))) == (ssize_t)sizeof(f) &&
			memcmp(f + 8, UMBRA_INDEX_MAGIC, 8) == 0;
	if (fd >= 0)
		close(fd);
	if (has_magic)
		damage(v, path, size - UMBRA_FOOTER_LEN,
		       NULL, "index frame or footer fails its checks (size, magic or CRC)", 0);
	else if (!is_partial(path))
		damage(v, path, size, NULL,
		       "no index at the end of a complete file (truncated?)", 0);
}

static int verify_one(const char *path, int quiet, struct vstats *tot)
{
	struct vstats v = {0};
	struct umbra_dump_reader *r = umbra_dump_open(path);
	if (!r) {
		damage(&v, path, 0, NULL, open_error(errno), 0);
		tot->damage += v.damage;
		return 1;
	}
	struct umbra_block_decoder *d = umbra_block_decoder_new(0);
	struct umbra_dump_block *seen = NULL;
	size_t nseen = 0, cap = 0;
	struct umbra_dump_block b;
	int k, rc = 0;
	if (!d) {
		umbra_dump_close(r);
		return -ENOMEM;
	}
	while ((k = umbra_dump_next_block(r, &b)) != 0) {
		struct umbra_dump_damage_info di;
		if (k == -EBADMSG) {
			if (umbra_dump_last_damage(r, &di))
				damage(&v, path, di.offset, "bytes skipped", di.what,
				       di.length);
			continue;
		}
		if (k < 0) {
			rc = k;
			break;
		}
		const struct umbra_flow_record *recs;
		long n = umbra_block_decode(d, r, &b, &recs);
		if (n == -ENOMEM) {
			rc = -ENOMEM;
			break;
		}
		if (n < 0) {
			damage(&v, path, b.offset, "records in the block",
			       umbra_block_decoder_error(d), b.records);
			continue;
		}
		uint64_t lo = UINT64_MAX, hi = 0;
		for (long i = 0; i < n; i++) {
			if (recs[i].first_ns < lo)
				lo = recs[i].first_ns;
			if (recs[i].last_ns > hi)
				hi = recs[i].last_ns;
		}
		if (lo != b.min_first_ns || hi != b.max_last_ns)
			damage(&v, path, b.offset, NULL,
			       "block header time range disagrees with its records", 0);
		v.blocks++;
		v.records += (uint64_t)n;
		if (nseen == cap) {
			cap = cap ? 2 * cap : 64;
			struct umbra_dump_block *ns = realloc(seen, cap * sizeof(*ns));
			if (!ns) {
				rc = -ENOMEM;
				break;
			}
			seen = ns;
		}
		seen[nseen++] = b;
	}
	const struct umbra_interval *iv;
	v.intervals = umbra_dump_intervals(r, &iv);
	check_trailer(&v, path, r);

	/* the index must list exactly the blocks found */
	const struct umbra_dump_index_entry *ix;
	size_t nix = umbra_dump_index(r, &ix);
	uint64_t size, data_end;
	umbra_dump_extent(r, &size, &data_end);
	if (data_end < size && rc == 0) {
		size_t i = 0, j = 0;
		while (i < nix || j < nseen) {
			if (j == nseen || (i < nix && ix[i].offset < seen[j].offset)) {
				damage(&v, path, ix[i].offset, NULL,
				       "index lists a block that is not there", 0);
				i++;
			} else if (i == nix || seen[j].offset < ix[i].offset) {
				damage(&v, path, seen[j].offset, NULL,
				       "block missing from the index", 0);
				j++;
			} else {
				if (ix[i].records != seen[j].records ||
				    ix[i].min_first_ns != seen[j].min_first_ns ||
				    ix[i].max_last_ns != seen[j].max_last_ns)
					damage(&v, path, seen[j].offset, NULL,
					       "index entry disagrees with the block header", 0);
				i++;
				j++;
			}
		}
	}
	if (rc == 0 && (!v.damage || !quiet)) {
		if (!v.damage)
			printf("OK %s: %" PRIu64 " blocks, %" PRIu64 " records, %" PRIu64
			       " intervals, %s\n",
			       path, v.blocks, v.records, v.intervals,
			       data_end < size ? "index ok" : "no index (.partial)");
		else if (!quiet)
			printf("SUMMARY %s: %" PRIu64 " damage(s); %" PRIu64 " intact blocks, %" PRIu64
			       " records\n",
			       path, v.damage, v.blocks, v.records);
	}
	tot->blocks += v.blocks;
	tot->records += v.records;
	tot->damage += v.damage;
	free(seen);
	umbra_block_decoder_free(d);
	umbra_dump_close(r);
	return rc < 0 ? rc : v.damage != 0;
}

static int cmd_usage(const char *cmd, const char *msg, const char *what)
{
	struct an_opts o = {.cmd = cmd};
	return an_usage(&o, msg, what);
}

int analyze_verify(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, quiet = 0;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", lopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = 1;
			break;
		case 'h':
			printf("usage: umbra-analyze verify [--quiet] PATH...\n"
			       "exit status: 0 all intact, 1 damage found, 2 usage error\n");
			return 0;
		default:
			return cmd_usage("verify", "unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cmd_usage("verify", "no PATH given", NULL);
	struct analyze_paths in = {0};
	int rc = analyze_collect(&in, argc - optind, argv + optind) != 0;
	struct vstats tot = {0};
	for (size_t i = 0; i < in.n; i++) {
		int k = verify_one(in.v[i], quiet, &tot);
		if (k < 0) {
			fprintf(stderr, "umbra-analyze verify: %s: %s\n", in.v[i], strerror(-k));
			rc = 1;
		} else if (k) {
			rc = 1;
		}
	}
	if (!quiet || tot.damage)
		printf("%zu file(s), %" PRIu64 " intact blocks, %" PRIu64 " records, %" PRIu64
		       " damage(s)\n",
		       in.n, tot.blocks, tot.records, tot.damage);
	if (in.n == 0 && rc == 0) {
		fprintf(stderr, "umbra-analyze verify: no dump files found\n");
		rc = 1;
	}
	analyze_paths_free(&in);
	fflush(stdout);
	return rc;
}

/* ---- recover ----------------------------------------------------------- */

struct out {
	int fd;
	uint64_t off;
	struct umbra_dump_index_entry *idx;
	size_t nidx, cap;
	int err;
};

static void out_write(struct out *o, const void *p, size_t n)
{
	const uint8_t *b = p;
	while (n && !o->err) {
		ssize_t k = write(o->fd, b, n);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			o->err = errno;
			return;
		}
		b += k;
		n -= (size_t)k;
		o->off += (uint64_t)k;
	}
}

static void out_interval(struct out *o, const struct umbra_interval *iv)
{
	uint8_t fr[8 + 8 + 8 * UMBRA_IV_NFIELDS];
	const uint64_t *f = &iv->start_ns;
	umbra_put32(fr, UMBRA_FRAME_INTERVAL);
	umbra_put32(fr + 4, 8 + 8 * UMBRA_IV_NFIELDS);
	umbra_put16(fr + 8, UMBRA_IV_VERSION);
	umbra_put16(fr + 10, UMBRA_IV_NFIELDS);
	for (unsigned i = 0; i < UMBRA_IV_NFIELDS; i++)
		umbra_put64(fr + 16 + 8 * i, f[i]);
	umbra_put32(fr + 12, umbra_crc32c(0, fr + 16, 8 * UMBRA_IV_NFIELDS));
	out_write(o, fr, sizeof(fr));
}

static void out_block(struct out *o, const struct umbra_dump_block *b, const uint8_t *data)
{
	uint8_t h[BLK_FRAME];
	struct umbra_dump_block nb = *b;
	nb.seq = (uint32_t)o->nidx; /* renumbered in the recovered file */
	umbra_blk_frame_put(h, &nb);
	if (o->nidx == o->cap) {
		size_t cap = o->cap ? 2 * o->cap : 64;
		struct umbra_dump_index_entry *ni = realloc(o->idx, cap * sizeof(*ni));
		if (!ni) {
			o->err = ENOMEM;
			return;
		}
		o->idx = ni;
		o->cap = cap;
	}
	struct umbra_dump_index_entry *e = &o->idx[o->nidx++];
	e->offset = o->off;
	e->records = b->records;
	e->min_first_ns = b->min_first_ns;
	e->max_last_ns = b->max_last_ns;
	out_write(o, h, sizeof(h));
	out_write(o, data, b->csize);
}

static void out_index(struct out *o)
{
	size_t plen = 8 + o->nidx * UMBRA_IDX_ENTRY_LEN + UMBRA_FOOTER_LEN;
	uint8_t *fr = calloc(1, 8 + plen);
	if (!fr) {
		o->err = ENOMEM;
		return;
	}
	umbra_put32(fr, UMBRA_FRAME_INDEX);
	umbra_put32(fr + 4, (uint32_t)plen);
	uint8_t *p = fr + 8;
	umbra_put32(p, (uint32_t)o->nidx);
	umbra_put32(p + 4, UMBRA_IDX_ENTRY_LEN);
	for (size_t i = 0; i < o->nidx; i++) {
		uint8_t *e = p + 8 + i * UMBRA_IDX_ENTRY_LEN;
		umbra_put64(e, o->idx[i].offset);
		umbra_put32(e + 8, o->idx[i].records);
		umbra_put64(e + 16, o->idx[i].min_first_ns);
		umbra_put64(e + 24, o->idx[i].max_last_ns);
	}
	uint8_t *foot = p + plen - UMBRA_FOOTER_LEN;
	umbra_put32(foot, (uint32_t)(8 + plen));
	umbra_put32(foot + 4, umbra_crc32c(0, p, plen - UMBRA_FOOTER_LEN));
	memcpy(foot + 8, UMBRA_INDEX_MAGIC, 8);
	out_write(o, fr, 8 + plen);
	free(fr);
}

/* the input's file header frame, verbatim */
static uint8_t *read_header_frame(const char *path, size_t *len)
{
	uint8_t fh[8];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *p = NULL;
	if (fd < 0)
		return NULL;
	if (pread(fd, fh, 8, 0) == 8) {
		size_t n = 8 + (size_t)umbra_get32(fh + 4);
		if (n <= (1u << 20) + 8 && (p = malloc(n)) && pread(fd, p, n, 0) != (ssize_t)n) {
			free(p);
			p = NULL;
		}
		*len = n;
	}
	close(fd);
	return p;
}

static char *default_out(const char *in)
{
	size_t l = strlen(in);
	char *o = malloc(l + 16);
	if (!o)
		return NULL;
	if (is_partial(in)) {
		memcpy(o, in, l - 8);
		o[l - 8] = 0;
	} else if (l > 3 && strcmp(in + l - 3, ".uz") == 0) {
		memcpy(o, in, l - 3);
		strcpy(o + l - 3, ".recovered.uz");
	} else {
		snprintf(o, l + 16, "%s.recovered.uz", in);
	}
	return o;
}

static int recover_one(const char *in, const char *outp)
{
	struct umbra_dump_reader *r = umbra_dump_open(in);
	if (!r) {
		fprintf(stderr, "umbra-analyze recover: %s: %s\n", in, open_error(errno));
		return 1;
	}
	size_t hlen = 0;
	uint8_t *hdr = read_header_frame(in, &hlen);
	struct umbra_block_decoder *d = umbra_block_decoder_new(0);
	struct out o = {.fd = -1};
	int rc = 1;
	if (!hdr || !d) {
		fprintf(stderr, "umbra-analyze recover: %s: cannot read the file header\n", in);
		goto done;
	}
	o.fd = open(outp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (o.fd < 0) {
		fprintf(stderr, "umbra-analyze recover: %s: %s\n", outp, strerror(errno));
		goto done;
	}
	out_write(&o, hdr, hlen);
	size_t niv_done = 0;
	uint64_t dropped = 0, dropped_bytes = 0, records = 0;
	struct umbra_dump_block b;
	int k;
	const struct umbra_interval *iv;
	while ((k = umbra_dump_next_block(r, &b)) != 0 && !o.err) {
		/* intervals met before this block keep their place */
		size_t niv = umbra_dump_intervals(r, &iv);
		for (; niv_done < niv; niv_done++)
			out_interval(&o, &iv[niv_done]);
		if (k == -EBADMSG) {
			struct umbra_dump_damage_info di;
			dropped++;
			if (umbra_dump_last_damage(r, &di)) {
				dropped_bytes += di.length;
				fprintf(stderr, "umbra-analyze recover: %s: dropped %" PRIu64
						" bytes at offset %" PRIu64 ": %s\n",
					in, di.length, di.offset, di.what);
			}
			continue;
		}
		if (k < 0) {
			o.err = -k;
			break;
		}
		const struct umbra_flow_record *recs;
		const uint8_t *data;
		long n = umbra_block_decode(d, r, &b, &recs);
		if (n < 0 || umbra_block_read_raw(d, r, &b, &data) < 0) {
			dropped++;
			dropped_bytes += BLK_FRAME + (uint64_t)b.csize;
			fprintf(stderr, "umbra-analyze recover: %s: dropped the block at offset %" PRIu64
					": %s\n",
				in, b.offset, umbra_block_decoder_error(d));
			continue;
		}
		records += (uint64_t)n;
		out_block(&o, &b, data);
	}
	size_t niv = umbra_dump_intervals(r, &iv);
	for (; niv_done < niv && !o.err; niv_done++)
		out_interval(&o, &iv[niv_done]);
	if (!o.err)
		out_index(&o);
	if (!o.err && fsync(o.fd) < 0)
		o.err = errno;
	if (close(o.fd) < 0 && !o.err)
		o.err = errno;
	o.fd = -1;
	if (o.err) {
		fprintf(stderr, "umbra-analyze recover: %s: %s\n", outp, strerror(o.err));
		unlink(outp);
		goto done;
	}
	printf("recovered %s -> %s: %zu blocks, %" PRIu64 " records, %zu intervals kept; "
	       "%" PRIu64 " damaged region(s) dropped (%" PRIu64 " bytes)\n",
	       in, outp, o.nidx, records, niv_done, dropped, dropped_bytes);
	rc = 0;
done:
	if (o.fd >= 0)
		close(o.fd);
	free(o.idx);
	free(hdr);
	umbra_block_decoder_free(d);
	umbra_dump_close(r);
	return rc;
}

int analyze_recover(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *outp = NULL;
	int c;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			outp = optarg;
			break;
		case 'h':
			printf("usage: umbra-analyze recover [-o OUT] FILE...\n"
			       "default OUT: FILE without .partial, or NAME.recovered.uz\n");
			return 0;
		default:
			return cmd_usage("recover", "unknown or incomplete option", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cmd_usage("recover", "no FILE given", NULL);
	if (outp && argc - optind > 1)
		return cmd_usage("recover", "-o takes one input FILE", argv[optind + 1]);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		char *def = outp ? NULL : default_out(argv[i]);
		if (!outp && !def)
			return 1;
		rc |= recover_one(argv[i], outp ? outp : def);
		free(def);
	}
	fflush(stdout);
	return rc;
}
