// SPDX-License-Identifier: MIT
/*
 * sftop_view.c - sftop's rows: every partition the daemon has and every
 * one the maps count (a topic deleted since still has its counters until
 * the daemon forgets them), with the counters of the newer snapshot, the
 * rates against the older one, the e2e latency percentiles and the lag.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sftop_int.h"

static int row_cmp(const void *a, const void *b)
{
	const struct sftop_row *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c :
		   (x->partition > y->partition) -
			       (x->partition < y->partition);
}

static int add_row(struct sftop_view *v, size_t *cap, const char *topic,
		   uint32_t partition)
{
	struct sftop_row *r;

	if (v->nrows == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		r = realloc(v->rows, *cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		v->rows = r;
	}
	r = &v->rows[v->nrows++];
	memset(r, 0, sizeof(*r));
	snprintf(r->topic, sizeof(r->topic), "%s", topic);
	r->partition = partition;
	return 0;
}

static int add_daemon_rows(struct sftop_view *v, size_t *cap,
			   const struct sfm_daemon *d)
{
	int err = 0;

	for (size_t t = 0; t < d->ntopics && !err; t++)
		for (uint32_t p = 0; p < d->topics[t].partitions && !err; p++)
			err = add_row(v, cap, d->topics[t].name, p);
	if (v->nrows > 1)
		qsort(v->rows, v->nrows, sizeof(*v->rows), row_cmp);
	return err;
}

/* The maps' partitions the daemon did not name (the first @known rows). */
static int add_map_rows(struct sftop_view *v, size_t *cap,
			const struct sfm_snap *cur, const char *topic)
{
	size_t known = v->nrows;
	struct sftop_row key;
	int err = 0;

	for (size_t i = 0; i < cur->nstats && !err; i++) {
		const struct sfm_tp *tp = &cur->stats[i].tp;

		if (topic && strcmp(topic, tp->topic))
			continue;
		snprintf(key.topic, sizeof(key.topic), "%s", tp->topic);
		key.partition = tp->partition;
		/* no rows yet: v->rows may be NULL, which bsearch() refuses */
		if (!known ||
		    !bsearch(&key, v->rows, known, sizeof(key), row_cmp))
			err = add_row(v, cap, tp->topic, tp->partition);
	}
	if (v->nrows > 1)
		qsort(v->rows, v->nrows, sizeof(*v->rows), row_cmp);
	return err;
}

/* e2e percentiles over the interval, else over all samples. */
static void fill_pct(struct sftop_row *r, const struct sfm_snap *prev,
		     const struct sfm_snap *cur)
{
	const struct sfm_hist *h =
		sfm_snap_hist(cur, r->topic, r->partition, SFM_HIST_E2E);
	struct sfm_hist dh;

	r->p50 = r->p99 = -1;
	if (!h)
		return;
	if (prev) {
		sfm_hist_delta(sfm_snap_hist(prev, r->topic, r->partition,
					     SFM_HIST_E2E),
			       h, &dh);
		if (sfm_hist_total(&dh)) {
			r->p50 = sfm_hist_pct(&dh, 0.50);
			r->p99 = sfm_hist_pct(&dh, 0.99);
			return;
		}
	}
	r->pct_total = true;
	r->p50 = sfm_hist_pct(h, 0.50);
	r->p99 = sfm_hist_pct(h, 0.99);
}

static void fill_rates(struct sftop_row *r, uint64_t ns)
{
	r->in = sfm_per_sec(r->delta.records_in, ns);
	r->out = sfm_per_sec(r->delta.records_out, ns);
	r->in_bytes = sfm_per_sec(r->delta.bytes_in, ns);
	r->out_bytes = sfm_per_sec(r->delta.bytes_out, ns);
	r->bp = sfm_per_sec(r->delta.bp_waits, ns);
}

static void fill_row(struct sftop_view *v, struct sftop_row *r,
		     const struct sfm_snap *prev, const struct sfm_snap *cur,
		     const struct sfm_daemon *d)
{
	const struct sfm_stats *c = sfm_snap_stats(cur, r->topic, r->partition);

	if (c)
		r->tot = *c;
	if (c && prev)
		sfm_stats_delta(sfm_snap_stats(prev, r->topic, r->partition), c,
				&r->delta);
	fill_rates(r, v->ns);
	fill_pct(r, prev, cur);
	r->lag = d ? sfm_daemon_max_lag(d, r->topic, (int32_t)r->partition) :
		     -1;
}

static void add_stats(struct sfm_stats *to, const struct sfm_stats *from)
{
	__u64 *t = (__u64 *)to;
	const __u64 *f = (const __u64 *)from;

	for (size_t i = 0; i < sizeof(*to) / sizeof(__u64); i++)
		t[i] += f[i];
}

static void fill_sum(struct sftop_view *v)
{
	struct sftop_row *s = &v->sum;

	memset(s, 0, sizeof(*s));
	snprintf(s->topic, sizeof(s->topic), "total");
	s->lag = -1;
	s->p50 = s->p99 = -1;
	for (size_t i = 0; i < v->nrows; i++) {
		add_stats(&s->tot, &v->rows[i].tot);
		add_stats(&s->delta, &v->rows[i].delta);
		if (v->rows[i].lag > s->lag)
			s->lag = v->rows[i].lag;
	}
	fill_rates(s, v->ns);
}

/* Topics and partitions as the maps count them, without a daemon. */
static void count_from_rows(struct sftop_view *v)
{
	v->partitions = v->nrows;
	v->topics = 0;
	for (size_t i = 0; i < v->nrows; i++)
		if (!i || strcmp(v->rows[i - 1].topic, v->rows[i].topic))
			v->topics++;
}

int sftop_view_build(struct sftop_view *v, const struct sfm_snap *prev,
		     const struct sfm_snap *cur, const struct sfm_daemon *d,
		     const char *topic)
{
	size_t cap = 0;
	int err = 0;

	v->rows = NULL;
	v->nrows = 0;
	v->daemon = d != NULL;
	v->ns = prev && cur->mono_ns > prev->mono_ns ?
			cur->mono_ns - prev->mono_ns :
			0;
	if (d)
		err = add_daemon_rows(v, &cap, d);
	if (!err)
		err = add_map_rows(v, &cap, cur, topic);
	if (err) {
		sftop_view_free(v);
		return err;
	}
	for (size_t i = 0; i < v->nrows; i++)
		fill_row(v, &v->rows[i], v->ns ? prev : NULL, cur, d);
	fill_sum(v);
	if (d) {
		v->topics = d->ntopics;
		v->partitions = d->partitions;
	} else {
		count_from_rows(v);
	}
	return 0;
}

void sftop_view_free(struct sftop_view *v)
{
	free(v->rows);
	v->rows = NULL;
	v->nrows = 0;
}

/* ---- sorting ------------------------------------------------------------ */

static const char *const sort_names[SORT_KEYS] = {
	[SORT_NAME] = "TOPIC",	      [SORT_IN] = "IN/s",
	[SORT_OUT] = "OUT/s",	      [SORT_IN_BYTES] = "IN B/s",
	[SORT_OUT_BYTES] = "OUT B/s", [SORT_P50] = "P50",
	[SORT_P99] = "P99",	      [SORT_LAG] = "LAG",
	[SORT_BP] = "BP/s",	      [SORT_ERR] = "ERR",
	[SORT_TOTAL_IN] = "TOTAL-IN", [SORT_TOTAL_OUT] = "TOTAL-OUT",
};

const char *sftop_sort_name(enum sftop_sort key)
{
	return key < SORT_KEYS ? sort_names[key] : "?";
}

static double sort_value(const struct sftop_row *r, enum sftop_sort key)
{
	switch (key) {
	case SORT_IN:
		return r->in;
	case SORT_OUT:
		return r->out;
	case SORT_IN_BYTES:
		return r->in_bytes;
	case SORT_OUT_BYTES:
		return r->out_bytes;
	case SORT_P50:
		return r->p50;
	case SORT_P99:
		return r->p99;
	case SORT_LAG:
		return (double)r->lag;
	case SORT_BP:
		return r->bp;
	case SORT_ERR:
		return (double)r->tot.errors;
	case SORT_TOTAL_IN:
		return (double)r->tot.records_in;
	case SORT_TOTAL_OUT:
		return (double)r->tot.records_out;
	default:
		return 0;
	}
}

struct sort_by {
	enum sftop_sort key;
	bool reverse;
};

/* Numbers largest first, ties by name; names A-Z. */
static int sort_cmp(const void *a, const void *b, void *arg)
{
	const struct sort_by *by = arg;
	double x = sort_value(a, by->key), y = sort_value(b, by->key);
	int c = (x < y) - (x > y);

	if (!c)
		c = row_cmp(a, b);
	return by->reverse ? -c : c;
}

void sftop_view_sort(struct sftop_view *v, enum sftop_sort key, bool reverse)
{
	struct sort_by by = { key, reverse };

	if (v->nrows > 1)
		qsort_r(v->rows, v->nrows, sizeof(*v->rows), sort_cmp, &by);
}

/* ---- JSON --------------------------------------------------------------- */

/* A JSON string; bytes outside printable ASCII (never in a topic name the
 * daemon accepts) become escapes, so that the document always parses. */
static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(f, "\\u%04x", *p);
		else if (*p >= 0x7f)
			fputs("\\ufffd", f);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_u(FILE *f, const char *key, uint64_t v, bool more)
{
	fprintf(f, "\"%s\": %" PRIu64 "%s", key, v, more ? ", " : "");
}

static void json_rate(FILE *f, const char *key, double v)
{
	fprintf(f, ", \"%s\": %.3f", key, v);
}

/* The counters and rates a row and the totals share. */
static void json_counts(FILE *f, const struct sftop_view *v,
			const struct sftop_row *r)
{
	json_u(f, "records_in", r->tot.records_in, true);
	json_u(f, "records_out", r->tot.records_out, true);
	json_u(f, "bytes_in", r->tot.bytes_in, true);
	json_u(f, "bytes_out", r->tot.bytes_out, true);
	json_u(f, "errors", r->tot.errors, true);
	json_u(f, "bp_waits", r->tot.bp_waits, false);
	if (!v->ns)
		return;
	json_rate(f, "in_per_sec", r->in);
	json_rate(f, "out_per_sec", r->out);
	json_rate(f, "in_bytes_per_sec", r->in_bytes);
	json_rate(f, "out_bytes_per_sec", r->out_bytes);
	json_rate(f, "bp_waits_per_sec", r->bp);
}

static void json_row(FILE *f, const struct sftop_view *v,
		     const struct sftop_row *r, bool last)
{
	fputs("    {\"topic\": ", f);
	json_string(f, r->topic);
	fprintf(f, ", \"partition\": %" PRIu32 ", ", r->partition);
	json_counts(f, v, r);
	if (r->p50 >= 0)
		fprintf(f,
			", \"e2e_p50_ns\": %.0f, \"e2e_p99_ns\": %.0f, "
			"\"e2e_window\": \"%s\"",
			r->p50, r->p99, r->pct_total ? "total" : "interval");
	if (r->lag >= 0)
		fprintf(f, ", \"lag\": %" PRId64, r->lag);
	fprintf(f, "}%s\n", last ? "" : ",");
}

void sftop_print_json(const struct sftop_view *v, FILE *f)
{
	fputs("{\n  \"instance\": ", f);
	json_string(f, v->instance);
	fputs(",\n  \"dir\": ", f);
	json_string(f, v->dir);
	fprintf(f,
		",\n  \"interval_ms\": %.0f,\n  \"daemon\": %s,\n"
		"  \"topic_count\": %zu,\n  \"partition_count\": %" PRIu64
		",\n  \"totals\": {",
		(double)v->ns / 1e6, v->daemon ? "true" : "false", v->topics,
		v->partitions);
	json_counts(f, v, &v->sum);
	if (v->sum.lag >= 0)
		fprintf(f, ", \"lag\": %" PRId64, v->sum.lag);
	fputs("},\n  \"partitions\": [\n", f);
	for (size_t i = 0; i < v->nrows; i++)
		json_row(f, v, &v->rows[i], i + 1 == v->nrows);
	fputs("  ]\n}\n", f);
}
