/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /umbra/... commands on DPDK's telemetry socket. Each reply is built
 * from the published once-a-second totals (umbra_stats_read), the same
 * source as /metrics, so both always agree.
 *
 *   /umbra/stats      scalar counters (packets, flows, loss, writer)
 *   /umbra/malformed  malformed frames by reason
 *   /umbra/class      darknet packets by class
 *   /umbra/proto      darknet packets by protocol
 *   /umbra/tags       exported flows by tag
 *   /umbra/ports      top 20 destination ports, param tcp (default) or udp
 *   /umbra/sensors    darknet packets per sensor (up to 256; the address with
 *                     '.' and ':' written '_', as telemetry keys require)
 *   /umbra/export     export sink counters (sink_field)
 *   /umbra/top_sources  top 20 sources by packets in exported flows, from
 *                     the writer's Space-Saving summary: arrays src,
 *                     src_packets (upper bounds), src_error, in rank order;
 *                     capacity, floor_packets, records, packets
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "ctl-telemetry.h"
#include "engine.h"

struct req {
	const char *cmd;
	const char *params;
	struct rte_tel_data *d;
};

#define U64(name, v) rte_tel_data_add_dict_u64(q->d, name, (uint64_t)(v))

static void
fill_stats(const struct umbra_report *r, struct req *q)
{
	const struct umbra_counters *t = r->total;

	U64("rx_packets", t->rx_packets);
	U64("rx_bytes", t->rx_bytes);
	U64("darknet_packets", t->darknet_packets);
	U64("darknet_bytes", t->darknet_bytes);
	U64("not_darknet_packets", t->not_darknet_packets);
	U64("not_ip_packets", t->not_ip_packets);
	U64("unsupported_link_packets", t->unsupported_link_packets);
	U64("malformed_packets", t->malformed_packets);
	U64("fragment_packets", t->fragment_packets);
	U64("flows_created", t->flows_created);
	U64("flows_exported", t->flows_exported);
	U64("flows_evicted", t->flows_evicted);
	U64("flows_active", t->flows_active);
	U64("flow_table_capacity", (uint64_t)r->cfg->flows * r->cfg->workers);
	U64("exported_packets", t->exported_packets);
	U64("records_dropped", t->records_dropped);
	U64("records_dropped_packets", t->records_dropped_packets);
	U64("records_written", r->writer.records);
	U64("bytes_written", r->writer.bytes);
	U64("records_lost_write", r->writer.records_lost);
	U64("rx_missed", r->port.imissed);
	U64("rx_nombuf", r->port.rx_nombuf);
	U64("rx_errors", r->port.ierrors);
	U64("sensor_overflow_packets", t->sensor_overflow);
	U64("rx_pps", r->rx_pps);
	U64("uptime_s", r->wall_s);
}

static void
fill_arrays(const struct umbra_report *r, struct req *q)
{
	const struct umbra_counters *t = r->total;
	unsigned i;

	if (!strcmp(q->cmd, "/umbra/malformed")) {
		for (i = 1; i < UMBRA_MAL_MAX; i++)
			U64(umbra_malformed_name(i), t->malformed[i]);
	} else if (!strcmp(q->cmd, "/umbra/class")) {
		for (i = 0; i < UMBRA_CLASS_MAX; i++)
			U64(umbra_class_name(i), t->class_packets[i]);
	} else if (!strcmp(q->cmd, "/umbra/proto")) {
		for (i = 0; i < UMBRA_PIDX_MAX; i++)
			U64(umbra_proto_idx_name(i), t->proto_packets[i]);
	} else if (!strcmp(q->cmd, "/umbra/tags")) {
		for (i = 0; i < UMBRA_TAG_BIT_MAX; i++)
			if (umbra_tag_name(i) != NULL)
				U64(umbra_tag_name(i), t->tag_flows[i]);
	} else if (!strcmp(q->cmd, "/umbra/export")) {
		for (i = 0; i < r->nsinks; i++) {
			char k[64];

#define SK(field)                                                                  \
	snprintf(k, sizeof(k), "%s_" #field, r->sink_name[i]);                     \
	U64(k, r->sink[i].field)
			SK(records);
			SK(sent);
			SK(dropped);
			SK(errors);
			SK(bytes);
#undef SK
		}
	}
}

static void
fill_ports(const struct umbra_report *r, struct req *q)
{
	const uint64_t *arr = q->params != NULL && !strcmp(q->params, "udp") ?
				      r->total->udp_dport : r->total->tcp_dport;
	unsigned i, k = 0, j, keys[20];
	uint64_t vals[20];

	for (i = 0; i < 65536; i++) {
		if (arr[i] == 0 || (k == 20 && arr[i] <= vals[19]))
			continue;
		j = k < 20 ? k++ : 19;
		while (j > 0 && vals[j - 1] < arr[i]) {
			vals[j] = vals[j - 1];
			keys[j] = keys[j - 1];
			j--;
		}
		vals[j] = arr[i];
		keys[j] = i;
	}
	for (i = 0; i < k; i++) {
		char name[8];

		snprintf(name, sizeof(name), "%u", keys[i]);
		U64(name, vals[i]);
	}
}

/* Telemetry dict keys allow only [A-Za-z0-9_/]: 192.0.2.1 -> 192_0_2_1 */
static const char *
key_name(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '.' || *p == ':')
			*p = '_';
	return s;
}

static void
fill_sensors(const struct umbra_report *r, struct req *q)
{
	const struct umbra_counters *t = r->total;
	unsigned i, n = 0;

	/* direct slots are numbered along the IPv4 prefixes */
	for (i = 0; i < r->cfg->darknet.n; i++) {
		const struct umbra_prefix *p = &r->cfg->darknet.p[i];
		uint32_t size, s, base;

		if (p->family != 4 || p->sensor_base == UMBRA_SENSOR_HASHED)
			continue;
		size = p->len == 0 ? 0 : (uint32_t)1 << (32 - p->len);
		memcpy(&base, p->addr, 4);
		for (s = 0; s < size && n < RTE_TEL_MAX_DICT_ENTRIES; s++) {
			uint32_t slot = p->sensor_base + s, a;
			char txt[INET_ADDRSTRLEN];

			if (slot >= t->nsensors_direct || t->sensor_direct[2 * slot] == 0)
				continue;
			a = htonl(ntohl(base) + s);
			inet_ntop(AF_INET, &a, txt, sizeof(txt));
			U64(key_name(txt), t->sensor_direct[2 * slot]);
			n++;
		}
	}
	for (i = 0; i < UMBRA_SENSOR_HASH_SIZE && n < RTE_TEL_MAX_DICT_ENTRIES; i++) {
		const struct umbra_sensor_count *s = &t->sensor_hashed[i];
		char txt[INET6_ADDRSTRLEN];

		if (s->family == 0 || s->packets == 0)
			continue;
		inet_ntop(s->family == 4 ? AF_INET : AF_INET6, s->addr, txt, sizeof(txt));
		U64(key_name(txt), s->packets);
		n++;
	}
}

/* Dict values may only be flat arrays: one per column, in rank order. */
static void
fill_sources(const struct umbra_report *r, struct req *q)
{
	const struct umbra_top_sources *ts = r->sources;
	struct rte_tel_data *src, *pk, *er;
	unsigned i;

	if (ts == NULL)
		return;
	U64("capacity", ts->capacity);
	U64("floor_packets", ts->floor);
	U64("records", ts->records);
	U64("packets", ts->packets);
	src = rte_tel_data_alloc();
	pk = rte_tel_data_alloc();
	er = rte_tel_data_alloc();
	if (src == NULL || pk == NULL || er == NULL) {
		rte_tel_data_free(src);
		rte_tel_data_free(pk);
		rte_tel_data_free(er);
		return;
	}
	rte_tel_data_start_array(src, RTE_TEL_STRING_VAL);
	rte_tel_data_start_array(pk, RTE_TEL_U64_VAL);
	rte_tel_data_start_array(er, RTE_TEL_U64_VAL);
	for (i = 0; i < ts->n; i++) {
		char a[INET6_ADDRSTRLEN];

		rte_tel_data_add_array_string(src, umbra_top_source_text(&ts->e[i], a, sizeof(a)));
		rte_tel_data_add_array_u64(pk, ts->e[i].packets);
		rte_tel_data_add_array_u64(er, ts->e[i].error);
	}
	rte_tel_data_add_dict_container(q->d, "src", src, 0);
	rte_tel_data_add_dict_container(q->d, "src_packets", pk, 0);
	rte_tel_data_add_dict_container(q->d, "src_error", er, 0);
}
#undef U64

static void
fill(const struct umbra_report *r, void *arg)
{
	struct req *q = arg;

	if (!strcmp(q->cmd, "/umbra/stats"))
		fill_stats(r, q);
	else if (!strcmp(q->cmd, "/umbra/ports"))
		fill_ports(r, q);
	else if (!strcmp(q->cmd, "/umbra/sensors"))
		fill_sensors(r, q);
	else if (!strcmp(q->cmd, "/umbra/top_sources"))
		fill_sources(r, q);
	else
		fill_arrays(r, q);
}

static int
on_cmd(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct req q = { cmd, params, d };

	rte_tel_data_start_dict(d);
	/* before the first publish: an empty dict */
	(void)umbra_stats_read(fill, &q);
	return 0;
}

int
umbra_telemetry_register(void)
{
	static const struct {
		const char *cmd, *help;
	} cmds[] = {
		{ "/umbra/stats", "umbra counters: packets, flows, loss, writer" },
		{ "/umbra/malformed", "umbra malformed frames by reason" },
		{ "/umbra/class", "umbra darknet packets by class" },
		{ "/umbra/proto", "umbra darknet packets by protocol" },
		{ "/umbra/tags", "umbra exported flows by tag" },
		{ "/umbra/ports", "umbra top destination ports. Parameters: tcp (default) or udp" },
		{ "/umbra/sensors", "umbra darknet packets per sensor" },
		{ "/umbra/export", "umbra export sink counters" },
		{ "/umbra/top_sources",
		  "umbra top sources by packets in exported flows (Space-Saving: upper bounds and their error)" },
	};
	unsigned i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		int rc = rte_telemetry_register_cmd(cmds[i].cmd, on_cmd, cmds[i].help);

		if (rc != 0)
			return rc < 0 ? rc : -rc;
	}
	return 0;
}
