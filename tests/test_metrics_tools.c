// SPDX-License-Identifier: MIT
/*
 * test_metrics_tools.c - sftop and `sfctl metrics` against a real sfshmd
 * with its eBPF metrics on.
 *
 * The group fixture starts a daemon with an instance of its own
 * (sfmt-<pid>), moves a known number of records with sfcat on two topics
 * (a-<pid>: 2 partitions, b-<pid>: 1, acks=durable: fsynced), consumes them all with `sfcat -C
 * -e` and once more through a consumer group, then produces 100 more on
 * a-<pid>/0 so that the group lags by 100 there.  The tests read the
 * metrics through the tools and compare them with those exact numbers and
 * with `bpftool map dump pinned .../topic_stats -j`:
 *
 *   sftop_json    `sftop --once --interval 0 --json`: per partition and
 *                 totals, records and bytes in and out, lag, counts;
 *                 equal to the map as bpftool dumps it
 *   sftop_once    the table, and --once over an interval (rates 0)
 *   prometheus    `sfctl metrics --prometheus`: counters, gauges, lag,
 *                 a histogram's +Inf bucket and _count; every line is a
 *                 comment or `name{labels} value`
 *   sfctl_tables  `sfctl metrics` and `--json`
 *   errors        no maps, no daemon, both (exit 1 with the reasons), the
 *                 instance taken from the run directory's name, usage
 *                 errors (exit 2), the manuals
 *
 * Isolation: the probes sfshmd attaches count every process that runs an
 * attached binary, whichever daemon it talks to.  So that other daemons
 * and tools running the build tree's binaries at the same time cannot add
 * to this instance's counters, the daemon and sfcat run from private
 * copies (their own inodes); and the program runs in a mount namespace of
 * its own with a fresh bpffs on /sys/fs/bpf, so that nothing it pins
 * outlives it.  The teardown removes the instance directory all the same.
 *
 * Needs root, BTF and bpftool; otherwise it says why and exits 77.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfm.h"
#include "t_daemon.h"
#include "t_proc.h"
#include "t_util.h"

#define SETTLE_MS 10000 /* for the counters to reach what was sent */

/* What the fixture sends: records per partition, and their bytes. */
#define A0_FIRST 1000
#define A0_MORE 100
#define A1_RECS 500
#define B0_RECS 300

static struct {
	struct t_daemon d;
	char inst[64];
	char idir[PATH_MAX];
	char bin[PATH_MAX]; /* the private copies of sfshmd and sfcat */
	char a[32], b[32]; /* the topics */
	bool skipped;
	char why[256];
} g;

static char g_bpftool[PATH_MAX];

/* ---- expected numbers ---------------------------------------------------- */

/* Bytes of the lines `seq 1 n` prints, newlines left out. */
static uint64_t seq_bytes(uint64_t n)
{
	uint64_t bytes = 0, lo = 1, digits = 1;

	for (; lo <= n; lo *= 10, digits++)
		bytes +=
			((n < lo * 10 - 1 ? n : lo * 10 - 1) - lo + 1) * digits;
	return bytes;
}

struct want {
	const char *topic;
	uint32_t partition;
	uint64_t in, out, bytes_in, bytes_out;
	int64_t lag; /* the group's; -1 none */
};

/* a/0 and a/1 are read twice (sfcat -C, then the group); b once. */
static void wants(struct want w[3])
{
	w[0] = (struct want){
		.topic = g.a,
		.partition = 0,
		.in = A0_FIRST + A0_MORE,
		.bytes_in = seq_bytes(A0_FIRST) + seq_bytes(A0_MORE),
		.out = 2 * A0_FIRST,
		.bytes_out = 2 * seq_bytes(A0_FIRST),
		.lag = A0_MORE,
	};
	w[1] = (struct want){
		.topic = g.a,
		.partition = 1,
		.in = A1_RECS,
		.bytes_in = seq_bytes(A1_RECS),
		.out = 2 * A1_RECS,
		.bytes_out = 2 * seq_bytes(A1_RECS),
		.lag = 0,
	};
	w[2] = (struct want){
		.topic = g.b,
		.partition = 0,
		.in = B0_RECS,
		.bytes_in = seq_bytes(B0_RECS),
		.out = B0_RECS,
		.bytes_out = seq_bytes(B0_RECS),
		.lag = -1,
	};
}

/* ---- running commands ---------------------------------------------------- */

struct res {
	int status; /* exit status, 128 + signal, -1 if it could not run */
	char *out; /* stdout (with 2>&1 in the command, stderr too) */
};

/*
 * Run a shell command (each with a deadline: `timeout`) with
 * SFSHM_RUN_DIR, B (the build directory) and C (the private copies) in
 * its environment; collect its standard output.
 */
static void sh(struct res *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sh(struct res *r, const char *fmt, ...)
{
	char cmd[4096], chunk[4096];
	size_t len = 0, n;
	va_list ap;
	FILE *p;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	r->out = calloc(1, 1);
	assert_non_null(r->out);
	p = popen(cmd, "r");
	assert_non_null(p);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0) {
		r->out = realloc(r->out, len + n + 1);
		assert_non_null(r->out);
		memcpy(r->out + len, chunk, n);
		len += n;
		r->out[len] = '\0';
	}
	st = pclose(p);
	r->status = st < 0	    ? -1 :
		    WIFEXITED(st)   ? WEXITSTATUS(st) :
		    WIFSIGNALED(st) ? 128 + WTERMSIG(st) :
				      -1;
}

static void res_free(struct res *r)
{
	free(r->out);
	r->out = NULL;
}

static void check_status(const struct res *r, int want, const char *what)
{
	if (r->status != want)
		fail_msg("%s: exit %d, want %d\noutput: %.3000s", what,
			 r->status, want, r->out);
}

#define TMO "timeout -k 5 60 "
#define SFTOP TMO "\"$B\"/tools/sftop "
#define SFCTL TMO "\"$B\"/tools/sfctl "
#define SFCAT TMO "\"$C\"/sfcat "

/* ---- reading the outputs ------------------------------------------------- */

/* The line of @text starting at @p's line. */
static const char *line_end(const char *p)
{
	const char *e = strchr(p, '\n');

	return e ? e : p + strlen(p);
}

/* The number after `"key": ` (or `"key":`) in [p, end), or fail. */
static int64_t num_in(const char *p, const char *end, const char *key,
		      const char *ctx)
{
	char pat[64];
	const char *k;
	size_t n;

	n = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);
	k = strstr(p, pat);
	if (k && k < end)
		return strtoll(k + n + (k[n] == ' '), NULL, 10);
	fail_msg("no \"%s\" in %s: %.*s", key, ctx, (int)(end - p), p);
	return -1;
}

/* sftop's JSON line of a partition, or fail. */
static const char *sftop_row(const char *doc, const char *topic, uint32_t p)
{
	char pat[128];
	const char *l;

	snprintf(pat, sizeof(pat), "{\"topic\": \"%s\", \"partition\": %u,",
		 topic, p);
	l = strstr(doc, pat);
	if (!l)
		fail_msg("sftop --json: no row %s/%u in\n%.3000s", topic, p,
			 doc);
	return l;
}

/* bpftool's formatted entry of a partition (the value part), or NULL. */
static const char *bpftool_entry(const char *doc, const char *topic, uint32_t p)
{
	char pat[160];
	const char *e;

	snprintf(pat, sizeof(pat),
		 "\"formatted\":{\"key\":{\"topic\":\"%s\",\"partition\":%u},"
		 "\"value\":{",
		 topic, p);
	e = strstr(doc, pat);
	return e ? e + strlen(pat) : NULL;
}

/* The sum of every "@key": in @doc (all entries of a dump). */
static uint64_t sum_of(const char *doc, const char *key)
{
	char pat[64];
	uint64_t sum = 0;
	size_t n = (size_t)snprintf(pat, sizeof(pat), "\"%s\":", key);

	for (const char *p = doc; (p = strstr(p, pat)); p += n)
		sum += strtoull(p + n, NULL, 10);
	return sum;
}

/* ---- the fixture --------------------------------------------------------- */

static int sh_ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A setup step: run it, say what failed.  Return: 0 or -1. */
static int sh_ok(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st == 0)
		return 0;
	fprintf(stderr, "setup: `%s` failed (status 0x%x)\n", cmd, st);
	return -1;
}

/* Private copies of the binaries that fire probes (see the top). */
static int copy_binaries(void)
{
	char path[PATH_MAX + 16];

	if (t_tmpdir(g.bin, sizeof(g.bin), "sfmt-bin"))
		return -1;
	setenv("B", t_bin_dir(), 1);
	setenv("C", g.bin, 1);
	if (sh_ok("cp \"$B\"/sfshmd \"$B\"/tools/sfcat \"$C\"/"))
		return -1;
	snprintf(path, sizeof(path), "%s/sfshmd", g.bin);
	setenv("SFSHMD", path, 1);
	return 0;
}

/* Metrics on?  The maps appear before the daemon answers. */
static bool maps_there(void)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, g.idir);
	return access(path, F_OK) == 0;
}

static int start_daemon(void)
{
	pid_t pid = getpid();

	snprintf(g.inst, sizeof(g.inst), "sfmt-%d", (int)pid);
	snprintf(g.idir, sizeof(g.idir), SFM_BPFFS_ROOT "/%s", g.inst);
	snprintf(g.a, sizeof(g.a), "a-%d", (int)pid);
	snprintf(g.b, sizeof(g.b), "b-%d", (int)pid);
	if (t_daemon_init(&g.d, "mtools") || copy_binaries())
		return -1;
	g.d.bpf = true;
	g.d.extra[0] = "--instance";
	g.d.extra[1] = g.inst;
	setenv("SFSHM_RUN_DIR", g.d.run_dir, 1);
	return t_daemon_start(&g.d);
}

/* The records the tests expect (see the top). */
static int traffic(void)
{
	const char *a = g.a, *b = g.b;

	return sh_ok(SFCTL "topic create %s --partitions 2 >/dev/null && " SFCTL
			   "topic create %s >/dev/null",
		     a, b) ||
	       sh_ok("seq 1 %d | " SFCAT "-P -t %s -p 0 && "
		     "seq 1 %d | " SFCAT "-P -t %s -p 1 && "
		     "seq 1 %d | " SFCAT "-P -t %s -X acks=durable",
		     A0_FIRST, a, A1_RECS, a, B0_RECS, b) ||
	       sh_ok("test \"$(" SFCAT "-C -t %s -e | wc -l)\" = %d && "
		     "test \"$(" SFCAT "-C -t %s -e | wc -l)\" = %d && "
		     "test \"$(" SFCAT "-q -G grp -e %s | wc -l)\" = %d",
		     a, A0_FIRST + A1_RECS, b, B0_RECS, a,
		     A0_FIRST + A1_RECS) ||
	       sh_ok("seq 1 %d | " SFCAT "-P -t %s -p 0", A0_MORE, a);
}

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (start_daemon())
		return -1;
	if (!maps_there()) {
		g.skipped = true;
		snprintf(g.why, sizeof(g.why),
			 "sfshmd runs with metrics off here (see its log)");
		t_daemon_print_log(&g.d);
		return 0;
	}
	return traffic();
}

static int group_teardown(void **state)
{
	int rc = 0;

	(void)state;
	if (g.d.pid > 0 && t_daemon_term(&g.d))
		rc = -1;
	t_daemon_cleanup(&g.d);
	if (g.idir[0] && t_rm_rf(g.idir) && errno != ENOENT) {
		fprintf(stderr, "cannot remove %s: %s\n", g.idir,
			strerror(errno));
		rc = -1;
	}
	t_rm_rf(g.bin);
	return rc;
}

#define NEED_METRICS()          \
	do {                    \
		if (g.skipped)  \
			skip(); \
	} while (0)

/* sftop's JSON once the counters reached what was sent (by a deadline). */
static void settled_json(struct res *r)
{
	uint64_t deadline = T_DEADLINE(SETTLE_MS * t_slowdown());
	struct want w[3];
	const char *tot;

	wants(w);
	for (;;) {
		sh(r, SFTOP "--once --interval 0 --json --instance %s", g.inst);
		check_status(r, 0, "sftop --once --json");
		tot = strstr(r->out, "\"totals\": {");
		assert_non_null(tot);
		if ((uint64_t)num_in(tot, line_end(tot), "records_out",
				     "totals") >=
			    w[0].out + w[1].out + w[2].out &&
		    (uint64_t)num_in(tot, line_end(tot), "records_in",
				     "totals") >= w[0].in + w[1].in + w[2].in)
			return;
		if (t_now_ms() > deadline)
			return; /* the exact checks say what is missing */
		res_free(r);
		t_sleep_us(100000);
	}
}

/* ---- sftop --------------------------------------------------------------- */

static void check_row(const char *doc, const struct want *w)
{
	const char *l = sftop_row(doc, w->topic, w->partition);
	const char *e = line_end(l);
	char ctx[64];

	snprintf(ctx, sizeof(ctx), "sftop row %s/%u", w->topic, w->partition);
	assert_int_equal(num_in(l, e, "records_in", ctx), w->in);
	assert_int_equal(num_in(l, e, "records_out", ctx), w->out);
	assert_int_equal(num_in(l, e, "bytes_in", ctx), w->bytes_in);
	assert_int_equal(num_in(l, e, "bytes_out", ctx), w->bytes_out);
	assert_int_equal(num_in(l, e, "errors", ctx), 0);
	if (w->lag >= 0) {
		assert_int_equal(num_in(l, e, "lag", ctx), w->lag);
	} else {
		const char *lag = strstr(l, "\"lag\"");

		assert_true(!lag || lag > e);
	}
}

static void check_totals(const char *doc, const struct want *w)
{
	const char *t = strstr(doc, "\"totals\": {"), *e;

	assert_non_null(t);
	e = line_end(t);
	assert_int_equal(num_in(t, e, "records_in", "totals"),
			 w[0].in + w[1].in + w[2].in);
	assert_int_equal(num_in(t, e, "records_out", "totals"),
			 w[0].out + w[1].out + w[2].out);
	assert_int_equal(num_in(t, e, "bytes_in", "totals"),
			 w[0].bytes_in + w[1].bytes_in + w[2].bytes_in);
	assert_int_equal(num_in(t, e, "bytes_out", "totals"),
			 w[0].bytes_out + w[1].bytes_out + w[2].bytes_out);
	assert_int_equal(num_in(doc, doc + strlen(doc), "topic_count", "doc"),
			 2);
	assert_int_equal(
		num_in(doc, doc + strlen(doc), "partition_count", "doc"), 3);
	assert_non_null(strstr(doc, "\"daemon\": true"));
	assert_non_null(strstr(doc, "\"interval_ms\": 0,"));
	assert_null(strstr(doc, "_per_sec"));
}

/* One partition in bpftool's dump against sftop's row. */
static void check_dump_entry(const char *dump, const char *doc,
			     const struct want *w)
{
	static const char *const keys[] = { "records_in", "records_out",
					    "bytes_in",	  "bytes_out",
					    "errors",	  "bp_waits" };
	const char *v = bpftool_entry(dump, w->topic, w->partition);
	const char *l = sftop_row(doc, w->topic, w->partition);

	if (!v)
		fail_msg("bpftool: no entry %s/%u in %.2000s", w->topic,
			 w->partition, dump);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_int_equal(num_in(v, strchr(v, '}'), keys[i], "bpftool"),
				 num_in(l, line_end(l), keys[i], "sftop"));
	assert_int_equal(num_in(v, strchr(v, '}'), "records_in", "bpftool"),
			 w->in);
}

static void test_sftop_json(void **state)
{
	struct res r, m;
	struct want w[3];
	const char *t;

	(void)state;
	NEED_METRICS();
	wants(w);
	settled_json(&r);
	for (int i = 0; i < 3; i++)
		check_row(r.out, &w[i]);
	check_totals(r.out, w);
	sh(&m, TMO "%s map dump pinned %s/" SFM_MAP_STATS " -j", g_bpftool,
	   g.idir);
	check_status(&m, 0, "bpftool map dump");
	for (int i = 0; i < 3; i++)
		check_dump_entry(m.out, r.out, &w[i]);
	/* The totals are the whole map's. */
	t = strstr(r.out, "\"totals\": {");
	assert_int_equal(num_in(t, line_end(t), "records_in", "totals"),
			 sum_of(m.out, "records_in"));
	assert_int_equal(num_in(t, line_end(t), "records_out", "totals"),
			 sum_of(m.out, "records_out"));
	res_free(&m);
	res_free(&r);
}

static void test_sftop_once(void **state)
{
	char line[128];
	struct res r;

	(void)state;
	NEED_METRICS();
	sh(&r, SFTOP "--once --interval 0 --instance %s", g.inst);
	check_status(&r, 0, "sftop --once");
	snprintf(line, sizeof(line), "sftop - %s  topics 2  partitions 3  ",
		 g.inst);
	if (strncmp(r.out, line, strlen(line)))
		fail_msg("header: %.300s", r.out);
	assert_non_null(strstr(r.out, "TOPIC"));
	assert_non_null(strstr(r.out, "TOTAL-OUT"));
	assert_non_null(strstr(r.out, "totals only"));
	assert_non_null(strstr(r.out, g.b));
	res_free(&r);
	/* Over an interval without traffic: rates, all 0. */
	sh(&r, SFTOP "--once --interval 200 --json --instance %s", g.inst);
	check_status(&r, 0, "sftop --once --interval 200 --json");
	assert_non_null(strstr(r.out, "\"in_per_sec\": 0.000"));
	assert_null(strstr(r.out, "\"interval_ms\": 0,"));
	assert_true(num_in(r.out, r.out + strlen(r.out), "interval_ms",
			   "doc") >= 200);
	res_free(&r);
}

/* ---- sfctl metrics --prometheus ------------------------------------------ */

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* label="value" with the format's escapes; *p moves past it. */
static bool label_ok(const char **pp)
{
	const char *p = *pp;

	if (!name_start(*p) || *p == ':')
		return false;
	while (name_char(*p) && *p != ':')
		p++;
	if (*p++ != '=' || *p++ != '"')
		return false;
	for (; *p && *p != '"'; p++)
		if (*p == '\\' && !strchr("\\\"n", *++p))
			return false;
	if (*p++ != '"')
		return false;
	*pp = p;
	return true;
}

/* `name{label="v",...} value` (labels optional). */
static bool sample_ok(const char *line)
{
	const char *p = line;
	char *end;

	if (!name_start(*p))
		return false;
	while (name_char(*p))
		p++;
	if (*p == '{') {
		p++;
		while (*p != '}') {
			if (!label_ok(&p))
				return false;
			if (*p == ',')
				p++;
			else if (*p != '}')
				return false;
		}
		p++;
	}
	if (*p++ != ' ')
		return false;
	strtod(p, &end);
	return end != p && *end == '\0';
}

static bool comment_ok(const char *line)
{
	static const char *const types[] = { " counter", " gauge",
					     " histogram" };
	const char *sp;

	if (!strncmp(line, "# HELP ", 7))
		return name_start(line[7]) && strchr(line + 7, ' ');
	if (strncmp(line, "# TYPE ", 7) || !(sp = strchr(line + 7, ' ')))
		return false;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(sp, types[i]))
			return true;
	return false;
}

static void check_every_line(char *text)
{
	unsigned samples = 0;

	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		if (l[0] == '#' ? !comment_ok(l) : !sample_ok(l))
			fail_msg("not Prometheus text: '%s'", l);
		samples += l[0] != '#';
	}
	assert_true(samples > 0);
}

/* The line `name{topic="T",partition="P"} value` is there. */
static void want_tp(const char *text, const char *name, const char *topic,
		    uint32_t p, uint64_t v)
{
	char line[256];

	snprintf(line, sizeof(line),
		 "%s{topic=\"%s\",partition=\"%u\"} %" PRIu64, name, topic, p,
		 v);
	if (!t_has_line(text, line))
		fail_msg("no line '%s' in\n%.4000s", line, text);
}

static void want_line(const char *text, const char *line)
{
	if (!t_has_line(text, line))
		fail_msg("no line '%s' in\n%.4000s", line, text);
}

static void check_prom_counters(const char *text, const struct want *w)
{
	want_tp(text, "streamflow_messages_total", w->topic, w->partition,
		w->in);
	want_tp(text, "streamflow_messages_consumed_total", w->topic,
		w->partition, w->out);
	want_tp(text, "streamflow_bytes_total", w->topic, w->partition,
		w->bytes_in);
	want_tp(text, "streamflow_bytes_consumed_total", w->topic, w->partition,
		w->bytes_out);
	want_tp(text, "streamflow_errors_total", w->topic, w->partition, 0);
}

/* A histogram's +Inf bucket equals its _count, which is at least 1. */
static void check_prom_hist(const char *text, const char *name,
			    const char *topic, uint32_t p)
{
	char pat[256];
	const char *inf, *count;

	snprintf(pat, sizeof(pat),
		 "%s_bucket{topic=\"%s\",partition=\"%u\",le=\"+Inf\"} ", name,
		 topic, p);
	inf = strstr(text, pat);
	if (!inf)
		fail_msg("no '%s'", pat);
	inf += strlen(pat);
	snprintf(pat, sizeof(pat), "%s_count{topic=\"%s\",partition=\"%u\"} ",
		 name, topic, p);
	count = strstr(text, pat);
	if (!count)
		fail_msg("no '%s'", pat);
	count += strlen(pat);
	assert_true(strtoull(count, NULL, 10) >= 1);
	assert_int_equal(strtoull(inf, NULL, 10), strtoull(count, NULL, 10));
}

static void test_prometheus(void **state)
{
	char line[256];
	struct want w[3];
	struct res r, j;

	(void)state;
	NEED_METRICS();
	wants(w);
	settled_json(&j);
	res_free(&j);
	sh(&r, SFCTL "metrics --prometheus --instance %s", g.inst);
	check_status(&r, 0, "sfctl metrics --prometheus");
	for (int i = 0; i < 3; i++)
		check_prom_counters(r.out, &w[i]);
	want_line(r.out, "streamflow_topics_total 2");
	want_line(r.out, "streamflow_partitions_total 3");
	want_line(r.out, "streamflow_consumer_groups_total 1");
	want_line(r.out, "# TYPE streamflow_messages_total counter");
	want_line(r.out, "# TYPE streamflow_topics_total gauge");
	want_line(r.out, "# TYPE streamflow_persist_latency_seconds histogram");
	snprintf(line, sizeof(line),
		 "streamflow_consumer_group_lag{group=\"grp\",topic=\"%s\","
		 "partition=\"0\"} %d",
		 g.a, A0_MORE);
	want_line(r.out, line);
	check_prom_hist(r.out, "streamflow_persist_latency_seconds", g.a, 0);
	check_prom_hist(r.out, "streamflow_fsync_duration_seconds", g.b, 0);
	check_every_line(r.out);
	res_free(&r);
}

/* ---- sfctl metrics: tables and JSON -------------------------------------- */

static void test_sfctl_tables(void **state)
{
	char row[128];
	struct res r;
	const char *p;

	(void)state;
	NEED_METRICS();
	sh(&r, SFCTL "metrics --instance %s", g.inst);
	check_status(&r, 0, "sfctl metrics");
	assert_non_null(strstr(r.out, "Topics: 2\tPartitions: 3\tGroups: 1"));
	assert_non_null(strstr(r.out, "RECORDS-IN"));
	assert_non_null(strstr(r.out, "persist"));
	snprintf(row, sizeof(row), "%s  ", g.b);
	assert_non_null(strstr(r.out, row));
	res_free(&r);
	sh(&r, SFCTL "metrics --json --instance %s", g.inst);
	check_status(&r, 0, "sfctl metrics --json");
	snprintf(row, sizeof(row), "\"topic\": \"%s\"", g.b);
	p = strstr(r.out, row);
	assert_non_null(p);
	assert_int_equal(num_in(p, p + strlen(p), "records_in", "json"),
			 B0_RECS);
	assert_non_null(strstr(r.out, "\"consumer_groups\": 1"));
	res_free(&r);
}

/* ---- errors -------------------------------------------------------------- */

static void test_errors(void **state)
{
	struct res r;

	(void)state;
	NEED_METRICS();
	sh(&r, SFTOP "--once --instance nosuch-%d 2>&1", (int)getpid());
	check_status(&r, 1, "sftop, no maps");
	assert_non_null(
		strstr(r.out, "no metrics at " SFM_BPFFS_ROOT "/nosuch-"));
	assert_non_null(strstr(r.out, "is sfshmd running with metrics on"));
	res_free(&r);
	sh(&r, SFCTL "metrics --instance nosuch -b /nonexistent 2>&1");
	check_status(&r, 1, "sfctl metrics, no maps, no daemon");
	assert_non_null(strstr(r.out, "no metrics at"));
	assert_non_null(strstr(r.out, "cannot ask sfshmd in /nonexistent"));
	res_free(&r);
	/* No daemon: the maps' counters, and a warning. */
	sh(&r, SFCTL "metrics --prometheus --instance %s -b /nonexistent",
	   g.inst);
	check_status(&r, 0, "sfctl metrics, no daemon");
	assert_non_null(strstr(r.out, "streamflow_messages_total{"));
	assert_null(strstr(r.out, "streamflow_topics_total"));
	res_free(&r);
	/* The instance is the run directory's last component. */
	sh(&r, SFTOP "--once --interval 0 -b /nonexistent/%s 2>&1", g.inst);
	check_status(&r, 0, "sftop, instance from the run dir");
	assert_non_null(strstr(r.out, "warning: cannot ask sfshmd"));
	assert_non_null(strstr(r.out, g.b));
	res_free(&r);
}

static void test_usage(void **state)
{
	static const char *const bad[] = {
		SFTOP "--json",
		SFTOP "--bogus",
		SFTOP "--interval 50",
		SFTOP "--once --interval abc",
		SFTOP "--once extra",
		SFTOP "--instance a --bpf-dir /x",
		SFCTL "metrics --prometheus --json",
		SFCTL "metrics --instance a --bpf-dir /x",
		SFCTL "metrics --instance a/b",
		SFCTL "metrics --bogus",
		SFCTL "metrics extra",
	};
	static const char *const helps[] = { SFTOP "--help",
					     SFCTL "metrics --help",
					     SFCTL "help metrics" };
	struct res r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		sh(&r, "%s 2>&1", bad[i]);
		check_status(&r, 2, bad[i]);
		assert_non_null(strstr(r.out, "Try '"));
		res_free(&r);
	}
	for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++) {
		sh(&r, "%s", helps[i]);
		check_status(&r, 0, helps[i]);
		assert_non_null(strstr(r.out, "SYNOPSIS"));
		assert_non_null(strstr(r.out, "EXIT STATUS"));
		assert_non_null(strstr(r.out, SFM_BPFFS_ROOT));
		res_free(&r);
	}
	sh(&r, SFCTL "--help");
	assert_non_null(strstr(r.out, "metrics"));
	res_free(&r);
}

/* ---- main ---------------------------------------------------------------- */

/*
 * A mount namespace of our own with a fresh bpffs on /sys/fs/bpf: what
 * the daemon pins is seen by us and our children only, and goes when the
 * last of us exits (probes detached), even after a crash.  Where that is
 * impossible the host's bpffs is used; the teardown cleans up there too.
 */
static void private_bpffs(void)
{
	const char *why = t_private_bpffs("mode=0700");

	if (why)
		printf("  on the host's bpffs: %s (%s)\n", why,
		       errno ? strerror(errno) : "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sftop_json),
		cmocka_unit_test(test_sftop_once),
		cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_sfctl_tables),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_usage),
	};
	const char *why = t_bpf_missing(g_bpftool, sizeof(g_bpftool));
	int fails;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (why) {
		fprintf(stderr, "*** SKIP: test_metrics_tools: %s ***\n", why);
		return 77;
	}
	private_bpffs();
	fails = cmocka_run_group_tests_name("test_metrics_tools", tests,
					    group_setup, group_teardown);
	if (!fails && g.skipped) {
		fprintf(stderr, "\n*** SKIP: test_metrics_tools: %s ***\n",
			g.why);
		return 77;
	}
	return fails ? 1 : 0;
}
