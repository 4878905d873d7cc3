// SPDX-License-Identifier: MIT
/*
 * test_tools.c - sfctl and sfcat against a real sfshmd.
 *
 * The group fixture starts build/sfshmd (t_daemon.h) on a fresh data
 * directory under /tmp and a run directory under /dev/shm with a unique
 * name, and waits (with a deadline) until it answers.  The tests run the real tool binaries, found next to this
 * program (build/tests/../tools/), feeding standard input and collecting
 * standard output and error through pipes with a deadline; the fixture's
 * teardown stops the daemon with SIGTERM and requires a clean exit.
 *
 * Covered: topic create / list / describe (--json, read by a few string
 * searches) / delete, an invalid topic name, usage errors (exit 2) and
 * --help at every level; 10,000 keyed lines produced with acks=durable and
 * consumed back exactly once, in order per partition, each on the
 * partition sfshm_partition_for_key() names; -o -N, -o N, -o end,
 * s@TIMESTAMP, -c, -e; -H and -Z; a consumer that follows new records
 * live and stops on SIGTERM with status 0.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "t_daemon.h"
#include "t_proc.h"
#include "t_util.h"

#define TOOL_MS 30000 /* deadline of one tool run */
#define NLINES 10000
#define NPARTS 4
#define NKEYS 101

static struct t_daemon g_d;

/* ---- running a program (t_proc.h) ------------------------------------- */

/* Run @args (NULL-ended) with @input on stdin, by the tool deadline. */
#define RUN(r, input, inlen, args) t_run(r, TOOL_MS, 0, input, inlen, args)
/* sfctl / sfcat -b RUN_DIR ARGS... */
#define SFCTL(r, ...) \
	RUN(r, NULL, 0, T_ARGS("sfctl", "-b", g_d.run_dir, __VA_ARGS__))
#define SFCAT(r, ...) \
	RUN(r, NULL, 0, T_ARGS("sfcat", "-b", g_d.run_dir, __VA_ARGS__))
#define SFCAT_IN(r, in, len, ...) \
	RUN(r, in, len, T_ARGS("sfcat", "-b", g_d.run_dir, __VA_ARGS__))

/* The number after the @n-th (from 0) "@key": in a JSON document. */
static int64_t json_int(const char *doc, const char *key, int n)
{
	char pat[64];
	const char *p = doc;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	for (int i = 0; i <= n; i++) {
		p = strstr(p, pat);
		if (!p)
			fail_msg("no %s #%d in %.2000s", pat, i, doc);
		p += strlen(pat);
	}
	return strtoll(p, NULL, 10);
}

static int json_count(const char *doc, const char *key)
{
	char pat[64];
	int n = 0;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	for (const char *p = doc; (p = strstr(p, pat)); p++)
		n++;
	return n;
}

/* ---- the daemon ------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN); /* a tool that exits early closes stdin */
	if (!t_have_binaries() || t_daemon_init(&g_d, "tools"))
		return -1;
	return t_daemon_start(&g_d);
}

static int group_teardown(void **state)
{
	(void)state;
	t_daemon_cleanup(&g_d);
	return 0;
}

/* ---- sfctl ------------------------------------------------------------ */

static void test_broker_info(void **state)
{
	char want[64];
	struct t_res r;

	(void)state;
	SFCTL(&r, "broker", "info");
	t_res_check(&r, 0, "broker info");
	assert_non_null(strstr(r.out, g_d.run_dir));
	t_res_free(&r);
	SFCTL(&r, "--json", "broker", "info");
	t_res_check(&r, 0, "--json broker info");
	snprintf(want, sizeof(want), "\"pid\": %d,", (int)g_d.pid);
	assert_non_null(strstr(r.out, want));
	t_res_free(&r);
}

static void test_help(void **state)
{
	const char *const *cmds[] = {
		T_ARGS("sfctl", "--help"),
		T_ARGS("sfctl", "topic", "--help"),
		T_ARGS("sfctl", "topic", "create", "--help"),
		T_ARGS("sfctl", "topic", "describe", "-h"),
		T_ARGS("sfctl", "help", "topic", "delete"),
		T_ARGS("sfctl", "broker", "info", "--help"),
		T_ARGS("sfcat", "--help"),
		T_ARGS("sfcat", "-h"),
	};
	struct t_res r;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(&r, NULL, 0, cmds[i]);
		t_res_check(&r, 0, cmds[i][1]);
		assert_non_null(strstr(r.out, "SYNOPSIS"));
		assert_non_null(strstr(r.out, "EXIT STATUS"));
		assert_string_equal(r.err, "");
		t_res_free(&r);
	}
}

static void test_usage_errors(void **state)
{
	const char *const *cmds[] = {
		T_ARGS("sfctl"),
		T_ARGS("sfctl", "frob"),
		T_ARGS("sfctl", "--frob"),
		T_ARGS("sfctl", "topic"),
		T_ARGS("sfctl", "topic", "frob"),
		T_ARGS("sfctl", "topic", "create"),
		T_ARGS("sfctl", "topic", "create", "x", "--partitions", "abc"),
		T_ARGS("sfctl", "topic", "create", "x", "--partitions", "0"),
		T_ARGS("sfctl", "topic", "create", "x", "--ring-bytes", "3M"),
		T_ARGS("sfctl", "topic", "create", "x", "--config", "nope=1"),
		T_ARGS("sfctl", "topic", "create", "x", "--config",
		       "segment.ms"),
		T_ARGS("sfctl", "topic", "create", "x", "--mode", "999"),
		T_ARGS("sfctl", "topic", "create", "x", "y"),
		T_ARGS("sfctl", "topic", "delete"),
		T_ARGS("sfctl", "topic", "list", "--bogus"),
		T_ARGS("sfctl", "broker", "info", "extra"),
		T_ARGS("sfcat"),
		T_ARGS("sfcat", "-C"),
		T_ARGS("sfcat", "-P", "-C", "-t", "x"),
		T_ARGS("sfcat", "-C", "-t", "x", "-o", "bogus"),
		T_ARGS("sfcat", "-C", "-t", "x", "-o"),
		T_ARGS("sfcat", "-C", "-t", "x", "-f", "%q"),
		T_ARGS("sfcat", "-C", "-t", "x", "-c", "0"),
		T_ARGS("sfcat", "-C", "-t", "x", "-T"),
		T_ARGS("sfcat", "-C", "-t", "x", "file"),
		T_ARGS("sfcat", "-P", "-t", "x", "-X", "acks=maybe"),
		T_ARGS("sfcat", "-P", "-t", "x", "-X", "nope=1"),
		T_ARGS("sfcat", "-P", "-t", "x", "-p", "-3"),
		T_ARGS("sfcat", "-P", "-t", "x", "-e"),
		T_ARGS("sfcat", "-P", "-t", "x", "--bogus"),
	};
	struct t_res r;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(&r, NULL, 0, cmds[i]);
		if (r.status != 2 || !strstr(r.err, "Try '"))
			fail_msg("command %zu (%s %s ...): exit %d, stderr: %s",
				 i, cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
				 r.status, r.err);
		assert_string_equal(r.out, "");
		t_res_free(&r);
	}
}

static void test_topic_lifecycle(void **state)
{
	struct t_res r;

	(void)state;
	SFCTL(&r, "topic", "create", "life", "--partitions", "3", "--config",
	      "retention.ms=-1", "--segment-bytes", "1M");
	t_res_check(&r, 0, "create");
	assert_true(t_has_line(r.out, "Created topic life."));
	t_res_free(&r);

	SFCTL(&r, "topic", "create", "life");
	t_res_check(&r, 1, "create again");
	assert_non_null(strstr(r.err, "sfctl: topic create: life: "));
	t_res_free(&r);
	SFCTL(&r, "topic", "create", "life", "--if-not-exists");
	t_res_check(&r, 0, "create --if-not-exists");
	t_res_free(&r);

	SFCTL(&r, "topic", "list");
	t_res_check(&r, 0, "list");
	assert_true(t_has_line(r.out, "life"));
	t_res_free(&r);
	SFCTL(&r, "--json", "topic", "list");
	t_res_check(&r, 0, "--json list");
	assert_non_null(strstr(r.out, "\"topics\": ["));
	assert_non_null(strstr(r.out, "\"life\""));
	t_res_free(&r);
}

static void test_topic_describe(void **state)
{
	struct t_res r;

	(void)state;
	SFCTL(&r, "topic", "describe", "life", "--json");
	t_res_check(&r, 0, "describe --json");
	assert_int_equal(json_int(r.out, "partition_count", 0), 3);
	assert_int_equal(json_count(r.out, "partition"), 3);
	assert_int_equal(json_int(r.out, "retention.ms", 0), -1);
	assert_int_equal(json_int(r.out, "segment.bytes", 0), 1 << 20);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(json_int(r.out, "partition", i), i);
		assert_int_equal(json_int(r.out, "log_end", i), 0);
	}
	t_res_free(&r);

	SFCTL(&r, "topic", "describe", "life");
	t_res_check(&r, 0, "describe");
	assert_non_null(strstr(r.out, "Topic: life"));
	assert_non_null(strstr(r.out, "retention.ms=-1"));
	assert_non_null(strstr(r.out, "PARTITION"));
	assert_int_equal(t_count_lines(r.out), 2 + 1 + 3);
	t_res_free(&r);

	SFCTL(&r, "topic", "describe", "life", "no-such-topic");
	t_res_check(&r, 1, "describe a missing topic");
	assert_non_null(strstr(r.out, "Topic: life"));
	assert_non_null(strstr(r.err, "no-such-topic"));
	t_res_free(&r);
}

static void test_topic_delete(void **state)
{
	struct t_res r;

	(void)state;
	SFCTL(&r, "topic", "delete", "life");
	t_res_check(&r, 0, "delete");
	t_res_free(&r);
	SFCTL(&r, "topic", "list");
	t_res_check(&r, 0, "list");
	assert_false(t_has_line(r.out, "life"));
	t_res_free(&r);
	SFCTL(&r, "topic", "describe", "life");
	t_res_check(&r, 1, "describe deleted");
	assert_non_null(strstr(r.err, "life"));
	t_res_free(&r);
	SFCTL(&r, "topic", "delete", "life");
	t_res_check(&r, 1, "delete again");
	assert_non_null(strstr(r.err, "sfctl: topic delete: life: "));
	t_res_free(&r);
	SFCTL(&r, "topic", "delete", "life", "--if-exists");
	t_res_check(&r, 0, "delete --if-exists");
	t_res_free(&r);
}

static void test_invalid_name(void **state)
{
	char longname[SFSHM_TOPIC_MAX + 2];
	const char *names[] = { "bad/name", "..", "sp ace", "", longname };
	struct t_res r;

	(void)state;
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		SFCTL(&r, "topic", "create", names[i]);
		t_res_check(&r, 1, names[i]);
		assert_non_null(strstr(r.err, "invalid topic name"));
		t_res_free(&r);
	}
	SFCTL(&r, "topic", "list");
	assert_false(t_has_line(r.out, "bad/name"));
	t_res_free(&r);
}

/* ---- sfcat: 10,000 keyed lines ---------------------------------------- */

static void make_key(char *buf, size_t len, int i)
{
	snprintf(buf, len, "key-%d", i % NKEYS);
}

/* "key-K:value-IIIII-xxx...\n" for i in [0, NLINES). */
static char *keyed_input(size_t *len)
{
	struct t_buf b = { 0 };
	char line[128], key[32];

	for (int i = 0; i < NLINES; i++) {
		make_key(key, sizeof(key), i);
		snprintf(line, sizeof(line), "%s:value-%05d-%.*s\n", key, i,
			 i % 40, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		t_buf_add(&b, line, strlen(line));
	}
	*len = b.len;
	return b.p;
}

/* What the consumer printed, checked line by line. */
struct seen {
	bool value[NLINES];
	int64_t next_offset[NPARTS];
	int last_index[NPARTS];
	int count;
};

static void check_keyed_line(struct seen *s, const char *line)
{
	char key[64], want_key[32], value[128];
	int part = -1, idx = -1;
	int64_t off;

	if (sscanf(line, "%d %" SCNd64 " %63s %127s", &part, &off, key,
		   value) != 4 ||
	    sscanf(value, "value-%d-", &idx) != 1)
		fail_msg("bad line '%s'", line);
	assert_true(part >= 0 && part < NPARTS);
	assert_true(idx >= 0 && idx < NLINES);
	if (s->value[idx])
		fail_msg("value %d seen twice", idx);
	s->value[idx] = true;
	make_key(want_key, sizeof(want_key), idx);
	assert_string_equal(key, want_key);
	assert_int_equal(part,
			 sfshm_partition_for_key(key, strlen(key), NPARTS));
	/* dense offsets from 0, and the producer's order, per partition */
	assert_int_equal(off, s->next_offset[part]);
	s->next_offset[part]++;
	assert_true(idx > s->last_index[part]);
	s->last_index[part] = idx;
	s->count++;
}

static void check_keyed_output(char *out)
{
	struct seen *s = calloc(1, sizeof(*s));
	char *save = NULL;

	assert_non_null(s);
	for (int p = 0; p < NPARTS; p++)
		s->last_index[p] = -1;
	for (char *l = strtok_r(out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save))
		check_keyed_line(s, l);
	assert_int_equal(s->count, NLINES);
	free(s);
}

/* log_end of each partition, from describe --json; checks durability. */
static void keyed_log_ends(int64_t *end)
{
	int64_t total = 0;
	struct t_res r;

	SFCTL(&r, "--json", "topic", "describe", "keyed");
	t_res_check(&r, 0, "describe keyed");
	for (int p = 0; p < NPARTS; p++) {
		end[p] = json_int(r.out, "log_end", p);
		assert_int_equal(json_int(r.out, "log_start", p), 0);
		assert_int_equal(json_int(r.out, "durable_offset", p), end[p]);
		total += end[p];
	}
	assert_int_equal(total, NLINES);
	t_res_free(&r);
}

static void test_produce_consume_keyed(void **state)
{
	int64_t end[NPARTS];
	struct t_res r;
	size_t len;
	char *in = keyed_input(&len);

	(void)state;
	SFCTL(&r, "topic", "create", "keyed", "--partitions", "4");
	t_res_check(&r, 0, "create keyed");
	t_res_free(&r);
	SFCAT_IN(&r, in, len, "-P", "-t", "keyed", "-K", ":", "-X",
		 "acks=durable");
	t_res_check(&r, 0, "produce 10,000 lines");
	free(in);
	t_res_free(&r);
	keyed_log_ends(end);

	SFCAT(&r, "-C", "-t", "keyed", "-e", "-o", "beginning", "-f",
	      "%p %o %k %s\\n");
	t_res_check(&r, 0, "consume 10,000 lines");
	check_keyed_output(r.out);
	t_res_free(&r);
}

/* -o -5 on every partition: the last 5 of each. */
static void test_consume_tail_all(void **state)
{
	int64_t end[NPARTS], off;
	int per_part[NPARTS] = { 0 }, part;
	char *save = NULL;
	struct t_res r;

	(void)state;
	keyed_log_ends(end);
	SFCAT(&r, "-C", "-t", "keyed", "-o", "-5", "-e", "-f", "%p %o\\n");
	t_res_check(&r, 0, "-o -5");
	for (char *l = strtok_r(r.out, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		assert_int_equal(sscanf(l, "%d %" SCNd64, &part, &off), 2);
		assert_true(part >= 0 && part < NPARTS);
		assert_true(off >= end[part] - 5 && off < end[part]);
		per_part[part]++;
	}
	for (int p = 0; p < NPARTS; p++)
		assert_int_equal(per_part[p], end[p] < 5 ? end[p] : 5);
	t_res_free(&r);
}

/* ---- sfcat: offsets, counts, formats ---------------------------------- */

static void make_seq(void)
{
	struct t_buf b = { 0 };
	char line[16];
	struct t_res r;

	SFCTL(&r, "topic", "create", "seq");
	t_res_check(&r, 0, "create seq");
	t_res_free(&r);
	for (int i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "%d\n", i);
		t_buf_add(&b, line, strlen(line));
	}
	SFCAT_IN(&r, b.p, b.len, "-P", "-t", "seq");
	t_res_check(&r, 0, "produce seq");
	t_res_free(&r);
	free(b.p);
}

/* The text of lines @from..@to of seq ("from\n...to\n"). */
static char *seq_text(int from, int to)
{
	struct t_buf b = { 0 };
	char line[16];

	t_buf_add(&b, "", 0);
	for (int i = from; i <= to; i++) {
		snprintf(line, sizeof(line), "%d\n", i);
		t_buf_add(&b, line, strlen(line));
	}
	return b.p;
}

static void expect_seq(const struct t_res *r, int from, int to)
{
	char *want = seq_text(from, to);

	t_res_check(r, 0, "consume seq");
	assert_string_equal(r->out, want);
	free(want);
}

static void test_consume_offsets(void **state)
{
	char future[32];
	struct t_res r;

	(void)state;
	make_seq();
	SFCAT(&r, "-C", "-t", "seq", "-e");
	expect_seq(&r, 0, 99);
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-o", "-10", "-e");
	expect_seq(&r, 90, 99);
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-o", "95", "-e");
	expect_seq(&r, 95, 99);
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-o", "end", "-e");
	expect_seq(&r, 0, -1);
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-o", "s@0", "-e");
	expect_seq(&r, 0, 99);
	t_res_free(&r);
	snprintf(future, sizeof(future), "s@%lld",
		 (long long)time(NULL) * 1000 + 86400000LL);
	SFCAT(&r, "-C", "-t", "seq", "-o", future, "-e");
	expect_seq(&r, 0, -1);
	t_res_free(&r);
}

static void test_consume_count(void **state)
{
	struct t_res r;

	(void)state;
	/* -c alone returns once it has COUNT records, without -e */
	SFCAT(&r, "-C", "-t", "seq", "-c", "5");
	expect_seq(&r, 0, 4);
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-p", "0", "-o", "-3", "-c", "2", "-f",
	      "%t/%p/%o:%s\\n");
	t_res_check(&r, 0, "-c 2 -f");
	assert_string_equal(r.out, "seq/0/97:97\nseq/0/98:98\n");
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "seq", "-o", "-2", "-e", "-D", "|");
	t_res_check(&r, 0, "-D");
	assert_string_equal(r.out, "98|99|");
	t_res_free(&r);
}

static void test_headers_and_nulls(void **state)
{
	static const char in[] = "k1:v1\n:v2\nk3:\n";
	struct t_res r;

	(void)state;
	SFCTL(&r, "topic", "create", "hdr");
	t_res_check(&r, 0, "create hdr");
	t_res_free(&r);
	SFCAT_IN(&r, in, sizeof(in) - 1, "-P", "-t", "hdr", "-K", ":", "-Z",
		 "-H", "a=1", "-H", "b", "-T");
	t_res_check(&r, 0, "produce hdr");
	assert_string_equal(r.out, in); /* -T echoes */
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "hdr", "-e", "-Z", "-f", "%k|%s|%h|%K|%S\\n");
	t_res_check(&r, 0, "consume hdr");
	assert_string_equal(r.out, "k1|v1|a=1,b=NULL|2|2\n"
				   "NULL|v2|a=1,b=NULL|-1|2\n"
				   "k3|NULL|a=1,b=NULL|2|-1\n");
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "hdr", "-e", "-K", "=");
	t_res_check(&r, 0, "consume hdr -K");
	assert_string_equal(r.out, "k1=v1\n=v2\nk3=\n");
	t_res_free(&r);
}

static void test_missing_topic(void **state)
{
	struct t_res r;

	(void)state;
	SFCAT_IN(&r, "x\n", 2, "-P", "-t", "no-such-topic");
	t_res_check(&r, 1, "produce to a missing topic");
	assert_non_null(strstr(r.err, "no-such-topic"));
	t_res_free(&r);
	SFCAT(&r, "-C", "-t", "no-such-topic", "-e");
	t_res_check(&r, 1, "consume a missing topic");
	assert_non_null(strstr(r.err, "no-such-topic"));
	t_res_free(&r);
	SFCAT_IN(&r, "x\n", 2, "-P", "-t", "seq", "-p", "7");
	t_res_check(&r, 1, "produce to a missing partition");
	t_res_free(&r);
}

/* ---- sfcat: following a topic, stopped by SIGTERM --------------------- */

static void ping(int i)
{
	char line[32];
	struct t_res r;

	snprintf(line, sizeof(line), "ping-%d\n", i);
	SFCAT_IN(&r, line, strlen(line), "-P", "-t", "live");
	t_res_check(&r, 0, "produce ping");
	t_res_free(&r);
}

/*
 * A consumer started at the end sees only what is produced after it
 * attached: ping until it prints one, then check it keeps following, and
 * that SIGTERM stops it with status 0.
 */
static void test_consume_live_sigterm(void **state)
{
	uint64_t deadline = T_DEADLINE(TOOL_MS * t_slowdown());
	const char *first;
	struct t_proc p;
	struct t_res r, cr;
	char last[32];
	int i = 0, n;

	(void)state;
	SFCTL(&r, "topic", "create", "live");
	t_res_check(&r, 0, "create live");
	t_res_free(&r);
	t_proc_start(&p, 0, NULL, 0,
		     T_ARGS("sfcat", "-b", g_d.run_dir, "-C", "-t", "live",
			    "-o", "end", "-u"));
	while (!strstr(p.o.p, "ping-") && t_now_ms() < deadline) {
		ping(i++);
		t_proc_pump(&p, 100);
	}
	first = strstr(p.o.p, "ping-");
	assert_non_null(first);
	assert_int_equal(sscanf(first, "ping-%d", &n), 1);
	snprintf(last, sizeof(last), "ping-%d\n", i);
	ping(i);
	while (!strstr(p.o.p, last) && t_now_ms() < deadline)
		t_proc_pump(&p, 100);
	kill(p.pid, SIGTERM);
	t_proc_finish(&p, deadline, &cr);
	t_res_check(&cr, 0, "consumer after SIGTERM");
	/* what it printed: consecutive pings from the first it saw to i */
	first = strstr(cr.out, "ping-");
	for (int k = n; k <= i; k++) {
		char want[32];

		snprintf(want, sizeof(want), "ping-%d\n", k);
		assert_true(!strncmp(first, want, strlen(want)));
		first += strlen(want);
	}
	t_res_free(&cr);
}

/* ---- the daemon stops ------------------------------------------------- */

static void test_daemon_sigterm(void **state)
{
	char sock[256];

	(void)state;
	assert_true(g_d.pid > 0);
	assert_int_equal(t_daemon_term(&g_d), 0);
	snprintf(sock, sizeof(sock), "%s/sfshmd.sock", g_d.run_dir);
	assert_int_equal(access(sock, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_broker_info),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_topic_lifecycle),
		cmocka_unit_test(test_topic_describe),
		cmocka_unit_test(test_topic_delete),
		cmocka_unit_test(test_invalid_name),
		cmocka_unit_test(test_produce_consume_keyed),
		cmocka_unit_test(test_consume_tail_all),
		cmocka_unit_test(test_consume_offsets),
		cmocka_unit_test(test_consume_count),
		cmocka_unit_test(test_headers_and_nulls),
		cmocka_unit_test(test_missing_topic),
		cmocka_unit_test(test_consume_live_sigterm),
		cmocka_unit_test(test_daemon_sigterm),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
