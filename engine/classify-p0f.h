/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * p0f v3 SYN fingerprints: the signature of a SYN
 * (ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass), a parser for the
 * [tcp:request] section of p0f.fp and a matcher that follows p0f 3.09's
 * rules (exact, then generic, then fuzzy). DPDK-free.
 */
#ifndef UMBRA_CLASSIFY_P0F_H
#define UMBRA_CLASSIFY_P0F_H

#include <stddef.h>
#include <stdint.h>

#include "umbra/plugin.h"

#define UMBRA_P0F_DEFAULT_DB "/etc/p0f/p0f.fp"
#define UMBRA_P0F_MAX_OPT 24
#define UMBRA_P0F_MAX_DIST 35

/* Quirk bits as stored in the record's syn_quirks (bits 24..31: EOL pad). */
enum {
	UMBRA_Q_ECN = 1u << 0,
	UMBRA_Q_DF = 1u << 1,
	UMBRA_Q_NZ_ID = 1u << 2,    /* id+ */
	UMBRA_Q_ZERO_ID = 1u << 3,  /* id- */
	UMBRA_Q_NZ_MBZ = 1u << 4,   /* 0+ */
	UMBRA_Q_FLOW = 1u << 5,
	UMBRA_Q_ZERO_SEQ = 1u << 6, /* seq- */
	UMBRA_Q_NZ_ACK = 1u << 7,   /* ack+ */
	UMBRA_Q_ZERO_ACK = 1u << 8, /* ack- */
	UMBRA_Q_NZ_URG = 1u << 9,   /* uptr+ */
	UMBRA_Q_URG = 1u << 10,     /* urgf+ */
	UMBRA_Q_PUSH = 1u << 11,    /* pushf+ */
	UMBRA_Q_ZERO_TS1 = 1u << 12, /* ts1- */
	UMBRA_Q_NZ_TS2 = 1u << 13,  /* ts2+ */
	UMBRA_Q_OPT_EOL_NZ = 1u << 14, /* opt+ */
	UMBRA_Q_EXWS = 1u << 15,
	UMBRA_Q_OPT_BAD = 1u << 16, /* bad */
	UMBRA_Q_MASK = (1u << 17) - 1,
};
#define UMBRA_Q_EOL_PAD_SHIFT 24

/* What p0f looks at in a SYN. */
struct umbra_p0f_syn {
	uint8_t ver;      /* 4 or 6 */
	uint8_t ttl;
	uint8_t olen;     /* IPv4 options bytes */
	uint8_t wscale;   /* 0 when absent (as p0f) */
	uint16_t mss;     /* 0 when absent */
	uint16_t win;
	uint8_t nopt;
	uint8_t eol_pad;
	uint8_t pclass;   /* 1 with payload */
	uint8_t olayout[UMBRA_P0F_MAX_OPT];
	uint32_t quirks;  /* UMBRA_Q_* */
	uint32_t ts1;
	uint16_t tot_hdr; /* IP + TCP header bytes */
};

/* Features of a TCP packet (the caller checked it is TCP with l4). */
void umbra_p0f_syn_from_pkt(const struct umbra_plugin_pkt *p,
			    struct umbra_p0f_syn *s);

/* "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0" (p0f raw_sig). */
int umbra_p0f_format(const struct umbra_p0f_syn *s, char *buf, size_t len);

struct umbra_p0f_db;

/* Load p0f.fp; NULL with errno and a message naming file and line. */
struct umbra_p0f_db *umbra_p0f_load(const char *path, char *err, size_t errlen);
struct umbra_p0f_db *umbra_p0f_parse(const char *buf, size_t len,
				     const char *name, char *err, size_t errlen);
void umbra_p0f_free(struct umbra_p0f_db *db);

/* Labels are numbered 1..n (display name "NAME FLAVOR", as p0f logs). */
unsigned umbra_p0f_nlabels(const struct umbra_p0f_db *db);
const char *umbra_p0f_label(const struct umbra_p0f_db *db, unsigned id);
unsigned umbra_p0f_nsigs(const struct umbra_p0f_db *db);

/* Label id of the best match (0 = none); *fuzzy set when fuzzy. */
unsigned umbra_p0f_match(const struct umbra_p0f_db *db,
			 const struct umbra_p0f_syn *s, int *fuzzy);

#endif /* UMBRA_CLASSIFY_P0F_H */
