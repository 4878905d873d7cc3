// SPDX-License-Identifier: MIT
/*
 * sfctl_metrics.c - `sfctl metrics`: the counters and latency histograms
 * sfshmd's BPF programs keep per topic-partition (read from the maps
 * pinned in bpffs, common_sfm.c), with the daemon's own gauges (topics,
 * partitions, consumer groups and their lag, over the control socket):
 * as tables, as JSON, or in the Prometheus text exposition format.
 *
 * Either source may be missing: what the other gives is printed, with a
 * warning on stderr; with neither the command fails.
 */
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "common_sfm.h"
#include "sfctl_int.h"

static void metrics_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl metrics - per-partition counters, latencies and\n"
	      "    consumer lag of sfshmd, for people or for Prometheus\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl metrics [--prometheus | --json] [--instance NAME |\n"
	      "                  --bpf-dir DIR] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    sfshmd started as root (without --no-bpf) counts, in BPF\n"
	      "    maps pinned under " SFM_BPFFS_ROOT "/INSTANCE/, what\n"
	      "    happens on every topic-partition: records persisted and\n"
	      "    consumed, log writes, fsyncs, errors, back-pressure and\n"
	      "    futex calls, and latency histograms.  This command prints\n"
	      "    those counters (which only grow, from when the instance\n"
	      "    first started) with what the daemon tells about itself:\n"
	      "    its topics, partitions, consumer groups and their lag.\n"
	      "    Reading the maps needs root (CAP_BPF).\n"
	      "\n"
	      "    The default output is a line with the daemon's totals and\n"
	      "    three tables.  Counters, one row per topic-partition:\n"
	      "\n"
	      "    RECORDS-IN   records persisted to the log (exact)\n"
	      "    BYTES-IN     their key + value bytes\n"
	      "    RECORDS-OUT  records handed out by consumers' polls (exact\n"
	      "                 once the consumers reach the end or close)\n"
	      "    BYTES-OUT    their key + value bytes\n"
	      "    BATCHES      record batches written to the log\n"
	      "    LOG-BYTES    bytes appended to the log\n"
	      "    FSYNCS       fsyncs of the partition's log\n"
	      "    ERRORS       errors of producers, consumers, the persister\n"
	      "    BP-WAITS     sends that waited for room in a full ring\n"
	      "    BP-TIME      the time they waited\n"
	      "    FUTEX-WAITS, FUTEX-WAKES\n"
	      "                 futex calls on the partition ring\n"
	      "\n"
	      "    Latencies, one row per topic-partition and kind: e2e (a\n"
	      "    record's timestamp to a consumer's poll, one record in\n"
	      "    1024 sampled), persist (timestamp to written to the log),\n"
	      "    fsync (one fsync of the log), with COUNT, P50, P90, P99\n"
	      "    (estimated from log2 buckets: within a factor of two),\n"
	      "    MAX and MEAN.  Lag, one row per group and partition it has\n"
	      "    committed an offset for: the log end minus that offset.\n"
	      "\n"
	      "    --prometheus prints the Prometheus text format (version\n"
	      "    0.0.4), for a textfile collector or an exporter script:\n"
	      "\n"
	      "    gauges     streamflow_topics_total,\n"
	      "               streamflow_partitions_total,\n"
	      "               streamflow_consumer_groups_total,\n"
	      "               streamflow_consumer_group_lag{group,topic,\n"
	      "               partition}\n"
	      "    counters   {topic,partition}: streamflow_messages_total,\n"
	      "               streamflow_bytes_total,\n"
	      "               streamflow_messages_consumed_total,\n"
	      "               streamflow_bytes_consumed_total,\n"
	      "               streamflow_batches_total,\n"
	      "               streamflow_log_bytes_total,\n"
	      "               streamflow_fsyncs_total,\n"
	      "               streamflow_errors_total,\n"
	      "               streamflow_backpressure_waits_total,\n"
	      "               streamflow_backpressure_wait_seconds_total,\n"
	      "               streamflow_futex_waits_total,\n"
	      "               streamflow_futex_wakes_total\n"
	      "    histograms {topic,partition}:\n"
	      "               streamflow_e2e_latency_seconds,\n"
	      "               streamflow_persist_latency_seconds,\n"
	      "               streamflow_fsync_duration_seconds; one bucket\n"
	      "               per power of two of nanoseconds (le is the\n"
	      "               largest value it holds, 2^(i+1)-1 ns), +Inf,\n"
	      "               _sum and _count\n"
	      "\n"
	      "    With --json: {\"dir\", \"daemon\": {\"topics\",\n"
	      "    \"partitions\", \"consumer_groups\"}, \"stats\": [{\"topic\",\n"
	      "    \"partition\", \"records_in\", \"bytes_in\", \"batches_in\",\n"
	      "    \"log_bytes\", \"records_out\", \"bytes_out\", \"polls_out\",\n"
	      "    \"fsyncs\", \"errors\", \"bp_waits\", \"bp_wait_ns\",\n"
	      "    \"futex_waits\", \"futex_wakes\", \"latency\": {\"e2e\"|\n"
	      "    \"persist\"|\"fsync\": {\"count\", \"sum_ns\", \"max_ns\",\n"
	      "    \"p50_ns\", \"p90_ns\", \"p99_ns\"}}}, ...], \"lag\":\n"
	      "    [{\"group\", \"topic\", \"partition\", \"lag\"}, ...]};\n"
	      "    \"daemon\" and \"lag\" are left out when the daemon cannot\n"
	      "    be reached, \"stats\" when the maps cannot be read.\n"
	      "\n"
	      "OPTIONS\n"
	      "    --prometheus\n"
	      "           print the Prometheus text exposition format\n"
	      "    --instance NAME\n"
	      "           read the maps of the daemon started with\n"
	      "           --instance NAME: " SFM_BPFFS_ROOT "/NAME\n"
	      "    --bpf-dir DIR\n"
	      "           read the maps pinned in DIR\n"
	      "\n"
	      "    Without either, the instance is the last component of the\n"
	      "    run directory (-b, else $" SFSHM_RUN_DIR_ENV ", else\n"
	      "    " SFSHM_DEFAULT_RUN_DIR "), characters other than\n"
	      "    [A-Za-z0-9._-] replaced by '_', as sfshmd names it.\n",
	      f);
	sfctl_help_end(f);
	fputs("    Without a daemon to ask, the counters are printed anyway\n"
	      "    and a warning goes to stderr; without the maps, the\n"
	      "    daemon's gauges, with a warning.  With neither the status\n"
	      "    is 1.\n"
	      "\n"
	      "FILES\n"
	      "    " SFM_BPFFS_ROOT "/INSTANCE/" SFM_MAP_STATS ", " SFM_MAP_HIST
	      "\n"
	      "           the maps (layouts in bpf/sfm.h)\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sudo sfctl metrics\n"
	      "    sudo sfctl metrics --prometheus > "
	      "/var/lib/node_exporter/sfshm.prom\n"
	      "    sudo sfctl metrics --json | jq '.stats[].records_in'\n"
	      "\n"
	      "SEE ALSO\n"
	      "    sftop(1), sfshmd(8)\n",
	      f);
}

static const struct sfctl_cmd metrics_cmd = { "metrics", metrics_help };

/* What there is to print: either part may be missing. */
struct metrics {
	char dir[PATH_MAX];
	struct sfm_snap snap;
	bool have_snap;
	struct sfm_daemon d;
	bool have_daemon;
};

/* A counter of struct sfm_stats: where it is, what Prometheus calls it. */
struct counter {
	size_t off;
	const char *json;
	const char *prom;
	const char *help;
	bool ns; /* nanoseconds, exported as seconds */
};

#define C(field, prom, help, ns)                                          \
	{                                                                 \
		offsetof(struct sfm_stats, field), #field, prom, help, ns \
	}

static const struct counter counters[] = {
	C(records_in, "streamflow_messages_total",
	  "Records persisted to the partition's log.", false),
	C(bytes_in, "streamflow_bytes_total",
	  "Key and value bytes of the records persisted.", false),
	C(batches_in, "streamflow_batches_total",
	  "Record batches written to the log.", false),
	C(log_bytes, "streamflow_log_bytes_total",
	  "Bytes appended to the log (encoded batches).", false),
	C(records_out, "streamflow_messages_consumed_total",
	  "Records handed out by consumers' polls.", false),
	C(bytes_out, "streamflow_bytes_consumed_total",
	  "Key and value bytes of the records consumed.", false),
	C(polls_out, NULL, NULL, false),
	C(fsyncs, "streamflow_fsyncs_total", "fsyncs of the partition's log.",
	  false),
	C(errors, "streamflow_errors_total",
	  "Errors reported by producers, consumers or the persister.", false),
	C(bp_waits, "streamflow_backpressure_waits_total",
	  "Sends that waited for room in a full ring.", false),
	C(bp_wait_ns, "streamflow_backpressure_wait_seconds_total",
	  "Time sends waited for room in a full ring.", true),
	C(futex_waits, "streamflow_futex_waits_total",
	  "FUTEX_WAIT calls on the partition's ring.", false),
	C(futex_wakes, "streamflow_futex_wakes_total",
	  "FUTEX_WAKE calls on the partition's ring.", false),
};

#undef C

static uint64_t counter_of(const struct sfm_stats *s, const struct counter *c)
{
	return *(const uint64_t *)((const char *)s + c->off);
}

/* A latency histogram's kind, by its names. */
struct hkind {
	uint32_t kind;
	const char *name;
	const char *prom;
	const char *help;
};

static const struct hkind hkinds[] = {
	{ SFM_HIST_E2E, "e2e", "streamflow_e2e_latency_seconds",
	  "Time from a record's timestamp to a consumer's poll "
	  "(one record in 1024 sampled)." },
	{ SFM_HIST_PERSIST, "persist", "streamflow_persist_latency_seconds",
	  "Time from a record's timestamp to its write to the log." },
	{ SFM_HIST_FSYNC, "fsync", "streamflow_fsync_duration_seconds",
	  "Duration of one fsync of the partition's log." },
};

#define NKINDS (sizeof(hkinds) / sizeof(hkinds[0]))

static const char *kind_name(uint32_t kind)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (hkinds[i].kind == kind)
			return hkinds[i].name;
	return "?";
}

/* ---- Prometheus text format --------------------------------------------- */

/* A label value: backslash, double quote and newline escaped. */
static void prom_value(const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			printf("\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", stdout);
		else
			putchar(*s);
	}
}

static void prom_head(const char *name, const char *type, const char *help)
{
	printf("# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{topic="..",partition=".."[,le=".."] */
static void prom_tp(const char *name, const char *suffix, const char *topic,
		    uint32_t partition)
{
	printf("%s%s{topic=\"", name, suffix);
	prom_value(topic);
	printf("\",partition=\"%" PRIu32 "\"", partition);
}

/* Nanoseconds as exact decimal seconds. */
static void prom_seconds(uint64_t ns)
{
	printf("%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

static void prom_counter(const struct sfm_snap *snap, const struct counter *c)
{
	prom_head(c->prom, "counter", c->help);
	for (size_t i = 0; i < snap->nstats; i++) {
		const struct sfm_stats_entry *e = &snap->stats[i];
		uint64_t v = counter_of(&e->s, c);

		prom_tp(c->prom, "", e->tp.topic, e->tp.partition);
		fputs("} ", stdout);
		if (c->ns)
			prom_seconds(v);
		else
			printf("%" PRIu64, v);
		putchar('\n');
	}
}

/* The buckets, _sum and _count of one histogram. */
static void prom_hist_one(const char *name, const struct sfm_hist_entry *e)
{
	const struct sfm_hist_key *k = &e->key;
	uint64_t n = 0, total = sfm_hist_total(&e->h);

	for (unsigned i = 0; i < SFM_HIST_SLOTS - 1; i++) {
		n += e->h.slot[i];
		prom_tp(name, "_bucket", k->topic, k->partition);
		printf(",le=\"%.12g\"} %" PRIu64 "\n",
		       (double)sfm_hist_le_ns(i) * 1e-9, n);
	}
	prom_tp(name, "_bucket", k->topic, k->partition);
	printf(",le=\"+Inf\"} %" PRIu64 "\n", total);
	prom_tp(name, "_sum", k->topic, k->partition);
	fputs("} ", stdout);
	prom_seconds(e->h.sum_ns);
	putchar('\n');
	prom_tp(name, "_count", k->topic, k->partition);
	printf("} %" PRIu64 "\n", total);
}

static void prom_hist(const struct sfm_snap *snap, const struct hkind *hk)
{
	prom_head(hk->prom, "histogram", hk->help);
	for (size_t i = 0; i < snap->nhists; i++)
		if (snap->hists[i].key.kind == hk->kind)
			prom_hist_one(hk->prom, &snap->hists[i]);
}

static void prom_gauge(const char *name, const char *help, uint64_t v)
{
	prom_head(name, "gauge", help);
	printf("%s %" PRIu64 "\n", name, v);
}

static void prom_lag(const struct sfm_daemon *d)
{
	prom_head("streamflow_consumer_group_lag", "gauge",
		  "Records of a partition a consumer group has not consumed: "
		  "log end minus committed offset.");
	for (size_t i = 0; i < d->nlags; i++) {
		const struct sfm_lag *l = &d->lags[i];

		fputs("streamflow_consumer_group_lag{group=\"", stdout);
		prom_value(l->group);
		fputs("\",topic=\"", stdout);
		prom_value(l->topic);
		printf("\",partition=\"%" PRId32 "\"} %" PRId64 "\n",
		       l->partition, l->lag);
	}
}

static void prom_daemon(const struct sfm_daemon *d)
{
	prom_gauge("streamflow_topics_total", "Topics the daemon has.",
		   d->ntopics);
	prom_gauge("streamflow_partitions_total",
		   "Partitions of all the daemon's topics.", d->partitions);
	prom_gauge("streamflow_consumer_groups_total",
		   "Consumer groups the daemon knows (with members or "
		   "committed offsets).",
		   d->ngroups);
	prom_lag(d);
}

static void print_prometheus(const struct metrics *m)
{
	if (m->have_daemon)
		prom_daemon(&m->d);
	if (!m->have_snap)
		return;
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++)
		if (counters[i].prom)
			prom_counter(&m->snap, &counters[i]);
	for (size_t i = 0; i < NKINDS; i++)
		prom_hist(&m->snap, &hkinds[i]);
}

/* ---- tables ------------------------------------------------------------- */

/* A topic from a map key, control characters shown as '?'. */
static void cell_topic(struct table *t, const char *topic)
{
	char buf[SFM_TOPIC_LEN];

	snprintf(buf, sizeof(buf), "%s", topic);
	for (char *p = buf; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	table_cell(t, "%s", buf);
}

static void cell_u64(struct table *t, uint64_t v)
{
	table_cell(t, "%" PRIu64, v);
}

static void cell_bytes(struct table *t, uint64_t v)
{
	char buf[32];

	table_cell(t, "%s", sft_fmt_bytes(buf, sizeof(buf), (int64_t)v));
}

static void cell_ns(struct table *t, double ns)
{
	char buf[32];

	table_cell(t, "%s", sfm_fmt_ns(buf, sizeof(buf), ns));
}

static void stats_row(struct table *t, const struct sfm_stats_entry *e)
{
	const struct sfm_stats *s = &e->s;

	cell_topic(t, e->tp.topic);
	table_cell(t, "%" PRIu32, e->tp.partition);
	cell_u64(t, s->records_in);
	cell_bytes(t, s->bytes_in);
	cell_u64(t, s->records_out);
	cell_bytes(t, s->bytes_out);
	cell_u64(t, s->batches_in);
	cell_bytes(t, s->log_bytes);
	cell_u64(t, s->fsyncs);
	cell_u64(t, s->errors);
	cell_u64(t, s->bp_waits);
	cell_ns(t, (double)s->bp_wait_ns);
	cell_u64(t, s->futex_waits);
	cell_u64(t, s->futex_wakes);
}

static void stats_table(const struct sfm_snap *snap)
{
	static const char *const heads[] = {
		"TOPIC",       "PARTITION",   "RECORDS-IN", "BYTES-IN",
		"RECORDS-OUT", "BYTES-OUT",   "BATCHES",    "LOG-BYTES",
		"FSYNCS",      "ERRORS",      "BP-WAITS",   "BP-TIME",
		"FUTEX-WAITS", "FUTEX-WAKES",
	};
	struct table t;

	table_init(&t, 14, heads, "lrrrrrrrrrrrrr");
	for (size_t i = 0; i < snap->nstats; i++)
		stats_row(&t, &snap->stats[i]);
	table_print(&t, stdout);
	table_free(&t);
}

static void latency_row(struct table *t, const struct sfm_hist_entry *e)
{
	const struct sfm_hist *h = &e->h;
	uint64_t n = sfm_hist_total(h);

	cell_topic(t, e->key.topic);
	table_cell(t, "%" PRIu32, e->key.partition);
	table_cell(t, "%s", kind_name(e->key.kind));
	table_cell(t, "%" PRIu64, n);
	cell_ns(t, sfm_hist_pct(h, 0.50));
	cell_ns(t, sfm_hist_pct(h, 0.90));
	cell_ns(t, sfm_hist_pct(h, 0.99));
	cell_ns(t, n ? (double)h->max_ns : -1);
	cell_ns(t, h->count ? (double)h->sum_ns / (double)h->count : -1);
}

static void latency_table(const struct sfm_snap *snap)
{
	static const char *const heads[] = { "TOPIC", "PARTITION", "LATENCY",
					     "COUNT", "P50",	   "P90",
					     "P99",   "MAX",	   "MEAN" };
	struct table t;

	table_init(&t, 9, heads, "lrlrrrrrr");
	for (size_t i = 0; i < snap->nhists; i++)
		latency_row(&t, &snap->hists[i]);
	table_print(&t, stdout);
	table_free(&t);
}

static void lag_table(const struct sfm_daemon *d)
{
	static const char *const heads[] = { "GROUP", "TOPIC", "PARTITION",
					     "LAG" };
	struct table t;

	table_init(&t, 4, heads, "llrr");
	for (size_t i = 0; i < d->nlags; i++) {
		table_cell(&t, "%s", d->lags[i].group);
		table_cell(&t, "%s", d->lags[i].topic);
		table_cell(&t, "%" PRId32, d->lags[i].partition);
		table_cell(&t, "%" PRId64, d->lags[i].lag);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_tables(const struct metrics *m)
{
	printf("Metrics: %s", m->have_snap ? m->dir : "-");
	if (m->have_daemon)
		printf("\tTopics: %zu\tPartitions: %" PRIu64 "\tGroups: %zu",
		       m->d.ntopics, m->d.partitions, m->d.ngroups);
	printf("\n\n");
	if (m->have_snap) {
		stats_table(&m->snap);
		if (m->snap.nhists) {
			printf("\n");
			latency_table(&m->snap);
		}
	}
	if (m->have_daemon && m->d.nlags) {
		printf("\n");
		lag_table(&m->d);
	}
}

/* ---- JSON --------------------------------------------------------------- */

static void json_hist(struct json *j, uint32_t kind, const struct sfm_hist *h)
{
	static const struct {
		const char *key;
		double q;
	} pct[] = { { "p50_ns", 0.50 },
		    { "p90_ns", 0.90 },
		    { "p99_ns", 0.99 } };

	json_obj_begin(j, kind_name(kind));
	json_u64(j, "count", sfm_hist_total(h));
	json_u64(j, "sum_ns", h->sum_ns);
	json_u64(j, "max_ns", h->max_ns);
	for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		double v = sfm_hist_pct(h, pct[i].q);

		if (v >= 0)
			json_u64(j, pct[i].key, (uint64_t)(v + 0.5));
	}
	json_obj_end(j);
}

static void json_latency(struct json *j, const struct sfm_snap *snap,
			 const struct sfm_tp *tp)
{
	json_obj_begin(j, "latency");
	for (size_t i = 0; i < NKINDS; i++) {
		const struct sfm_hist *h = sfm_snap_hist(
			snap, tp->topic, tp->partition, hkinds[i].kind);

		if (h)
			json_hist(j, hkinds[i].kind, h);
	}
	json_obj_end(j);
}

static void json_stats(struct json *j, const struct sfm_snap *snap)
{
	json_arr_begin(j, "stats");
	for (size_t i = 0; i < snap->nstats; i++) {
		const struct sfm_stats_entry *e = &snap->stats[i];

		json_obj_begin(j, NULL);
		json_str(j, "topic", e->tp.topic);
		json_u64(j, "partition", e->tp.partition);
		for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]);
		     c++)
			json_u64(j, counters[c].json,
				 counter_of(&e->s, &counters[c]));
		json_latency(j, snap, &e->tp);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void json_daemon(struct json *j, const struct sfm_daemon *d)
{
	json_obj_begin(j, "daemon");
	json_u64(j, "topics", d->ntopics);
	json_u64(j, "partitions", d->partitions);
	json_u64(j, "consumer_groups", d->ngroups);
	json_obj_end(j);
	json_arr_begin(j, "lag");
	for (size_t i = 0; i < d->nlags; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "group", d->lags[i].group);
		json_str(j, "topic", d->lags[i].topic);
		json_i64(j, "partition", d->lags[i].partition);
		json_i64(j, "lag", d->lags[i].lag);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void print_json(const struct metrics *m)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "dir", m->dir);
	if (m->have_daemon)
		json_daemon(&j, &m->d);
	if (m->have_snap)
		json_stats(&j, &m->snap);
	json_obj_end(&j);
}

/* ---- the command -------------------------------------------------------- */

/* Ask the daemon.  Return: 0 or -errno. */
static int read_daemon(struct sfctl *ctl, struct metrics *m)
{
	struct sfshm_client_opts o = {
		.size = sizeof(o),
		.run_dir = ctl->run_dir,
		.client_id = SFCTL,
		.timeout_ms = ctl->timeout_ms,
	};
	int err = ctl->client ? 0 : sfshm_connect(&o, &ctl->client);

	if (!err)
		err = sfm_daemon_read(ctl->client, NULL, &m->d);
	m->have_daemon = !err;
	return err;
}

/* Say what is missing: a warning if the other part is there. */
static void report(struct sfctl *ctl, struct metrics *m, int map_err,
		   int daemon_err)
{
	bool partial = m->have_snap || m->have_daemon;
	char why[PATH_MAX + 128];

	if (map_err)
		fprintf(stderr, SFCTL ": metrics: %s%s\n",
			partial ? "warning: the daemon's gauges only: " : "",
			sfm_strerror(map_err, m->dir, why, sizeof(why)));
	if (daemon_err)
		fprintf(stderr,
			SFCTL ": metrics: %scannot ask sfshmd in %s: %s\n",
			partial ? "warning: the BPF counters only: " : "",
			sft_run_dir(ctl->run_dir),
			sft_errtext(ctl->client, daemon_err));
}

static int print_metrics(struct sfctl *ctl, struct metrics *m, bool prom)
{
	int map_err = sfm_snap_read(m->dir, &m->snap);
	int daemon_err = read_daemon(ctl, m);

	m->have_snap = !map_err;
	report(ctl, m, map_err, daemon_err);
	if (!m->have_snap && !m->have_daemon)
		return SFT_EXIT_FAIL;
	if (prom)
		print_prometheus(m);
	else if (ctl->json)
		print_json(m);
	else
		print_tables(m);
	return SFT_EXIT_OK;
}

int sfctl_metrics(struct sfctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "prometheus", no_argument, NULL, 'P' },
		{ "instance", required_argument, NULL, 'I' },
		{ "bpf-dir", required_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	const char *instance = NULL, *bpf_dir = NULL;
	struct metrics m = { 0 };
	bool prom = false;
	int c, rc;

	while ((c = sfctl_getopt(ctl, &metrics_cmd, argc, argv, "", opts)) !=
	       -1) {
		if (c == 'P')
			prom = true;
		else if (c == 'I')
			instance = optarg;
		else if (c == 'D')
			bpf_dir = optarg;
		else
			return sfctl_opt_status(c);
	}
	if (optind < argc)
		return sfctl_usage(&metrics_cmd, "unexpected argument '%s'",
				   argv[optind]);
	if (prom && ctl->json)
		return sfctl_usage(
			&metrics_cmd,
			"--prometheus and --json exclude each other");
	if (instance && bpf_dir)
		return sfctl_usage(
			&metrics_cmd,
			"--instance and --bpf-dir exclude each other");
	if (sfm_dir(bpf_dir, instance, ctl->run_dir, m.dir, sizeof(m.dir)))
		return sfctl_usage(&metrics_cmd, "bad --instance '%s'",
				   instance ? instance : "");
	rc = print_metrics(ctl, &m, prom);
	sfm_snap_free(&m.snap);
	sfm_daemon_free(&m.d);
	return rc;
}
