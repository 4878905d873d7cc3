// SPDX-License-Identifier: MIT
/*
 * test_groups_admin.c - consumer-group administration: the library calls
 * (sfshm_group_list/describe/delete/reset_offsets, sfshm_list_offset),
 * `sfctl group` and `sfcat -G`, against a real sfshmd and, for replies
 * the real one never sends, a fake one.
 *
 * The "admin" group of tests starts build/sfshmd (t_daemon.h) with a
 * fast retention check, creates
 *
 *   ga   3 partitions, 20 records each, record k of each partition stamped
 *        T0 + k seconds (T0: a whole second a minute ago), retention off
 *   gr   1 partition whose log start retention has moved past 0
 *
 * and runs the real sfctl and sfcat next to this program
 * (build/tests/../tools/), collecting their output through pipes with a
 * deadline.  Offsets are committed for groups without members with
 * sfshm_group_reset_offsets() and with the consumer commit API; then
 * list and describe (tables and --json) must show them with the right
 * lag, and reset-offsets in every form (earliest, latest, offset,
 * datetime with and without a zone, shift-by both ways, clamping at both
 * ends of a log that does not start at 0) must plan right, change nothing
 * in a dry run and apply with --execute.  A live member (an `sfcat -G`
 * child) must make reset and delete fail with the daemon's reason; sfcat
 * -G must consume each record once across runs and members, resume from
 * committed offsets, honour -o/-c/-e and leave cleanly on SIGTERM.
 *
 * The "fake" group answers the client from a thread posing as sfshmd:
 * malformed replies (missing or ill-sized attributes, overlong strings,
 * bad names, counts that disagree) must give -EPROTO, and a reply split
 * over several messages must be put together.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "proto.h"
#include "t_daemon.h"
#include "t_proc.h"
#include "t_util.h"

#define TOOL_MS 30000 /* deadline of one tool run (scaled) */
#define WAIT_MS 20000 /* a condition must hold within this (scaled) */
#define NPARTS 3
#define NRECS 20 /* per partition of ga */
#define RET_SEGMENT (64 << 10)
#define RET_BYTES (200 << 10)
#define RET_VAL 1000u
#define RET_RECORDS 1024u

static struct t_daemon g_d;
static int64_t g_t0; /* ms: the timestamp of record 0 of ga */
static int64_t g_gr_start; /* log start of gr once retention ran */

/* ---- running a program (t_proc.h) ------------------------------------- */

/* Run @args (NULL-ended) to the end, by the tool deadline. */
#define RUN(r, args) t_run(r, TOOL_MS, 0, NULL, 0, args)
#define SFCTL(r, ...) RUN(r, T_ARGS("sfctl", "-b", g_d.run_dir, __VA_ARGS__))
#define SFCAT(r, ...) RUN(r, T_ARGS("sfcat", "-b", g_d.run_dir, __VA_ARGS__))

/* Run and check the exit status; the caller frees @r. */
#define SFCTL_OK(r, want, ...)                      \
	do {                                        \
		SFCTL(r, __VA_ARGS__);              \
		t_res_check(r, want, #__VA_ARGS__); \
	} while (0)

/*
 * Does @text hold a line whose whitespace-separated words start with
 * @words (NULL-ended)?
 */
static bool has_row(const char *text, const char *const *words)
{
	const char *line = text;

	while (*line) {
		const char *end = strchrnul(line, '\n'), *p = line;
		bool ok = true;

		for (int i = 0; ok && words[i]; i++) {
			size_t n = strlen(words[i]);

			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			ok = (size_t)(end - p) >= n &&
			     !strncmp(p, words[i], n) &&
			     (p + n == end || p[n] == ' ' || p[n] == '\t');
			p += n;
		}
		if (ok)
			return true;
		line = *end ? end + 1 : end;
	}
	return false;
}

#define ROW(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void expect_row(const struct t_res *r, const char *const *words)
{
	if (!has_row(r->out, words))
		fail_msg("no row starting '%s %s %s ...' in:\n%s", words[0],
			 words[1] ? words[1] : "",
			 words[1] && words[2] ? words[2] : "", r->out);
}

static void expect_in(const char *text, const char *what)
{
	if (!strstr(text, what))
		fail_msg("'%s' not in:\n%s", what, text);
}

/* ---- the library's view ---------------------------------------------- */

static struct sfshm_client *client(void)
{
	struct sfshm_client_opts o = { .size = sizeof(o),
				       .run_dir = g_d.run_dir,
				       .client_id = "test_groups_admin" };
	struct sfshm_client *c;

	assert_int_equal(sfshm_connect(&o, &c), 0);
	return c;
}

/* The committed offset of @group on ga-@p, -1 if none (or no group). */
static int64_t committed(const char *group, const char *topic, int32_t p)
{
	struct sfshm_client *c = client();
	struct sfshm_group_description *d;
	int64_t off = -1;
	int err = sfshm_group_describe(c, group, &d);

	if (err == -ENOENT) {
		sfshm_disconnect(c);
		return -1;
	}
	assert_int_equal(err, 0);
	for (unsigned i = 0; i < d->noffsets; i++)
		if (d->offsets[i].partition == p &&
		    !strcmp(d->offsets[i].topic, topic))
			off = d->offsets[i].committed;
	sfshm_group_description_free(d);
	sfshm_disconnect(c);
	return off;
}

static void set_offsets(const char *group, const char *topic,
			const int64_t *off, int n)
{
	struct sfshm_tp_offset o[NPARTS];
	struct sfshm_client *c = client();

	for (int i = 0; i < n; i++)
		o[i] = (struct sfshm_tp_offset){ topic, i, off[i], NULL };
	assert_int_equal(sfshm_group_reset_offsets(c, group, o, (unsigned)n),
			 0);
	sfshm_disconnect(c);
}

static void expect_offsets(const char *group, int64_t o0, int64_t o1,
			   int64_t o2)
{
	assert_int_equal(committed(group, "ga", 0), o0);
	assert_int_equal(committed(group, "ga", 1), o1);
	assert_int_equal(committed(group, "ga", 2), o2);
}

/* ---- the fixture -------------------------------------------------------- */

static void produce_ga(struct sfshm_client *c)
{
	struct sfshm_producer_opts po = { .size = sizeof(po),
					  .acks = SFSHM_ACKS_WRITTEN,
					  .timeout_ms = 10000 };
	struct sfshm_producer *p;
	struct sfshm_delivery d;
	char val[32];

	assert_int_equal(sfshm_producer_open(c, "ga", &po, &p), 0);
	for (int part = 0; part < NPARTS; part++) {
		for (int k = 0; k < NRECS; k++) {
			struct sfshm_rec r = {
				.key_len = -1,
				.value = val,
				.value_len = snprintf(val, sizeof(val),
						      "p%d-k%d", part, k),
				.timestamp = (g_t0 + k * 1000LL) * 1000000LL,
			};

			assert_int_equal(sfshm_producer_send(p, part, &r, &d),
					 0);
			assert_int_equal(d.offset, k);
		}
	}
	sfshm_producer_close(p);
}

static void produce_gr(struct sfshm_client *c)
{
	struct sfshm_producer *p;
	static char val[RET_VAL];
	struct sfshm_rec r = { .key_len = -1,
			       .value = val,
			       .value_len = RET_VAL };

	assert_int_equal(sfshm_producer_open(c, "gr", NULL, &p), 0);
	for (unsigned i = 0; i < RET_RECORDS; i++)
		assert_int_equal(sfshm_producer_send(p, 0, &r, NULL), 0);
	assert_int_equal(sfshm_producer_flush(p, 10000 * t_slowdown()), 0);
	sfshm_producer_close(p);
}

static int is_log_file(const struct dirent *e)
{
	size_t n = strlen(e->d_name);

	return n > 4 && !strcmp(e->d_name + n - 4, ".log");
}

/*
 * Has retention finished with gr?  The segments without the oldest are
 * within the limit (the daemon deletes while they are not), and the log
 * start has moved.  (test_daemon.c's check.)
 */
static bool retention_done(void *arg)
{
	struct sfshm_topic_info *ti;
	struct dirent **v;
	uint64_t total = 0, oldest = 0;
	char dir[PATH_MAX];
	int n;

	snprintf(dir, sizeof(dir), "%s/gr-0", g_d.data_dir);
	n = scandir(dir, &v, is_log_file, alphasort);
	for (int i = 0; i < n; i++) {
		char path[PATH_MAX + 256];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, v[i]->d_name);
		if (!stat(path, &st)) {
			total += (uint64_t)st.st_size;
			oldest = i ? oldest : (uint64_t)st.st_size;
		}
		free(v[i]);
	}
	if (n > 0)
		free(v);
	if (n <= 1 || total - oldest >= RET_BYTES ||
	    sfshm_topic_describe(arg, "gr", &ti))
		return false;
	g_gr_start = ti->partitions[0].log_start;
	sfshm_topic_info_free(ti);
	return g_gr_start > 0;
}

static void make_topics(void)
{
	struct sfshm_topic_config cfg;
	struct sfshm_client *c = client();

	sfshm_topic_config_init(&cfg);
	cfg.partitions = NPARTS;
	cfg.retention_ms = -1;
	assert_int_equal(sfshm_topic_create(c, "ga", &cfg), 0);
	g_t0 = ((int64_t)time(NULL) - 60) * 1000;
	produce_ga(c);
	sfshm_topic_config_init(&cfg);
	cfg.ring_bytes = 64u << 10;
	cfg.segment_bytes = RET_SEGMENT;
	cfg.retention_bytes = RET_BYTES;
	assert_int_equal(sfshm_topic_create(c, "gr", &cfg), 0);
	produce_gr(c);
	if (!t_wait_until(retention_done, c, WAIT_MS * t_slowdown()))
		fail_msg("retention did not move gr's log start");
	sfshm_disconnect(c);
}

static int admin_setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	if (!t_have_binaries() || t_daemon_init(&g_d, "gadmin"))
		return -1;
	g_d.extra[0] = "--log.retention.check.interval.ms=100";
	return t_daemon_start(&g_d);
}

static int admin_teardown(void **state)
{
	int rc = 0;

	(void)state;
	if (g_d.pid > 0)
		rc = t_daemon_term(&g_d);
	t_daemon_cleanup(&g_d);
	return rc;
}

/* ---- help and usage ------------------------------------------------------ */

static void test_help(void **state)
{
	const char *const *cmds[] = {
		T_ARGS("sfctl", "group", "--help"),
		T_ARGS("sfctl", "group", "list", "--help"),
		T_ARGS("sfctl", "group", "describe", "-h"),
		T_ARGS("sfctl", "group", "delete", "--help"),
		T_ARGS("sfctl", "group", "reset-offsets", "--help"),
		T_ARGS("sfctl", "help", "group", "reset-offsets"),
		T_ARGS("sfctl", "help", "group"),
	};
	struct t_res r;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(&r, cmds[i]);
		t_res_check(&r, 0, cmds[i][2]);
		expect_in(r.out, "SYNOPSIS");
		expect_in(r.out, "EXIT STATUS");
		assert_string_equal(r.err, "");
		t_res_free(&r);
	}
	RUN(&r, T_ARGS("sfctl", "--help"));
	expect_in(r.out, "group reset-offsets");
	t_res_free(&r);
	RUN(&r, T_ARGS("sfctl", "group", "reset-offsets", "--help"));
	expect_in(r.out, "--to-datetime");
	expect_in(r.out, "--shift-by");
	expect_in(r.out, "--all-topics");
	t_res_free(&r);
	RUN(&r, T_ARGS("sfcat", "--help"));
	expect_in(r.out, "-G GROUP");
	expect_in(r.out, "partition.assignment.strategy");
	t_res_free(&r);
}

static void test_usage_errors(void **state)
{
	const char *const *cmds[] = {
		T_ARGS("sfctl", "group"),
		T_ARGS("sfctl", "group", "frob"),
		T_ARGS("sfctl", "group", "list", "extra"),
		T_ARGS("sfctl", "group", "describe", "--bogus"),
		T_ARGS("sfctl", "group", "delete"),
		T_ARGS("sfctl", "group", "delete", "a", "b"),
		T_ARGS("sfctl", "group", "reset-offsets"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--all-topics", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-earliest", "--to-latest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-earliest", "--dry-run", "--execute"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "h", "--topic",
		       "t", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-offset", "abc"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-offset"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--shift-by", "1x"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "b/d",
		       "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic",
		       "t:", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic",
		       "t:0,x", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic",
		       "t:-1", "--to-earliest"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "2026-02-29T00:00:00"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "2026-01-01 00:00:00"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "2026-01-01T24:00:00"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "2026-01-01T00:00:00.1234567890"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "2026-01-01T00:00:00+1"),
		T_ARGS("sfctl", "group", "reset-offsets", "g", "--topic", "t",
		       "--to-datetime", "1969-12-31T23:59:59"),
		T_ARGS("sfcat", "-G", "g"),
		T_ARGS("sfcat", "-G", "g", "-p", "0", "t"),
		T_ARGS("sfcat", "-G", "g", "-o", "5", "t"),
		T_ARGS("sfcat", "-G", "g", "-o", "-5", "t"),
		T_ARGS("sfcat", "-G", "g", "-P", "t"),
		T_ARGS("sfcat", "-P", "-G", "g", "t"),
		T_ARGS("sfcat", "-G", "g", "-T", "t"),
		T_ARGS("sfcat", "-G", "g", "-X", "group.instance.id=", "t"),
	};
	struct t_res r;

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(&r, cmds[i]);
		if (r.status != 2 || !strstr(r.err, "Try '"))
			fail_msg("command %zu (%s %s %s ...): exit %d, "
				 "stderr: %s",
				 i, cmds[i][0], cmds[i][1],
				 cmds[i][2] ? cmds[i][2] : "", r.status, r.err);
		assert_string_equal(r.out, "");
		t_res_free(&r);
	}
}

/* ---- a fresh daemon ------------------------------------------------------ */

static void test_topics(void **state)
{
	(void)state;
	make_topics();
	printf("  gr: log start %" PRId64 " after retention\n", g_gr_start);
}

static void test_no_groups(void **state)
{
	struct sfshm_group_info *gi = NULL;
	struct sfshm_client *c = client();
	struct t_res r;

	(void)state;
	assert_int_equal(sfshm_group_list(c, &gi), 0);
	assert_non_null(gi);
	free(gi);
	sfshm_disconnect(c);
	SFCTL_OK(&r, 0, "group", "list");
	assert_int_equal(t_count_lines(r.out), 1);
	expect_row(&r,
		   ROW("GROUP", "STATE", "MEMBERS", "GENERATION", "ASSIGNOR"));
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "list");
	expect_in(r.out, "\"groups\": []");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "group", "describe");
	assert_string_equal(r.out, "");
	t_res_free(&r);
}

static void test_unknown_group(void **state)
{
	struct sfshm_group_description *d = NULL;
	struct sfshm_client *c = client();
	char id[257];
	struct t_res r;

	(void)state;
	assert_int_equal(sfshm_group_describe(c, "nope", &d), -ENOENT);
	assert_null(d);
	expect_in(sfshm_last_error(c), "unknown group");
	assert_int_equal(sfshm_group_delete(c, "nope"), -ENOENT);
	/* describe and delete take any id a group may have (up to 255
	 * bytes); reset only those the daemon accepts for new groups */
	assert_int_equal(sfshm_group_describe(c, "a/b", &d), -ENOENT);
	assert_int_equal(sfshm_group_describe(c, "", &d), -EINVAL);
	assert_int_equal(sfshm_group_delete(c, NULL), -EINVAL);
	memset(id, 'i', sizeof(id) - 1);
	id[sizeof(id) - 1] = '\0';
	assert_int_equal(sfshm_group_describe(c, id, &d), -EINVAL);
	id[255] = '\0';
	assert_int_equal(sfshm_group_describe(c, id, &d), -ENOENT);
	assert_int_equal(sfshm_group_reset_offsets(c, id, NULL, 0), -EINVAL);
	assert_int_equal(sfshm_group_reset_offsets(c, "a/b", NULL, 0), -EINVAL);
	expect_in(sfshm_last_error(c), "invalid group id");
	sfshm_disconnect(c);

	SFCTL_OK(&r, 1, "group", "describe", "nope");
	assert_string_equal(r.out, "");
	assert_string_equal(r.err,
			    "sfctl: group describe: unknown group \"nope\"\n");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "delete", "nope");
	assert_string_equal(r.err,
			    "sfctl: group delete: nope: unknown group\n");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "group", "delete", "nope", "--if-exists");
	assert_string_equal(r.out, "");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "delete", "nope", "--if-exists");
	expect_in(r.out, "\"deleted\": false");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "describe", "a/b");
	assert_string_equal(r.err,
			    "sfctl: group describe: unknown group \"a/b\"\n");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "a/b", "--topic", "ga",
		 "--to-earliest");
	expect_in(r.err, "a/b: invalid group id");
	assert_string_equal(r.out, "");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "nope", "--all-topics",
		 "--to-earliest");
	expect_in(r.err, "nope: the group has no committed offsets");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "nope", "--topic",
		 "no-such-topic", "--to-earliest");
	expect_in(r.err, "no-such-topic");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "nope", "--topic", "ga:3",
		 "--to-earliest");
	expect_in(r.err, "topic ga has no partition 3 (it has 3)");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "nope", "--topic", "ga",
		 "--shift-by", "1");
	expect_in(r.err, "ga-0: no committed offset to shift");
	t_res_free(&r);
	/* none of that created the group */
	assert_int_equal(committed("nope", "ga", 0), -1);
}

/* ---- ListOffsets ---------------------------------------------------------- */

static void test_list_offset(void **state)
{
	struct sfshm_client *c = client();
	int64_t off;

	(void)state;
	assert_int_equal(sfshm_list_offset(c, "ga", 1, -2, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(sfshm_list_offset(c, "ga", 1, -1, &off), 0);
	assert_int_equal(off, NRECS);
	assert_int_equal(sfshm_list_offset(c, "ga", 1, g_t0, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(sfshm_list_offset(c, "ga", 1, g_t0 + 7500, &off), 0);
	assert_int_equal(off, 8);
	assert_int_equal(sfshm_list_offset(c, "ga", 2, g_t0 + 19000, &off), 0);
	assert_int_equal(off, 19);
	assert_int_equal(sfshm_list_offset(c, "ga", 2, g_t0 + 19001, &off), 0);
	assert_int_equal(off, NRECS); /* none that late: the end */
	assert_int_equal(sfshm_list_offset(c, "gr", 0, -2, &off), 0);
	assert_int_equal(off, g_gr_start);
	off = 77;
	assert_int_equal(sfshm_list_offset(c, "ga", 3, -1, &off), -ENOENT);
	assert_int_equal(sfshm_list_offset(c, "nosuch", 0, -1, &off), -ENOENT);
	assert_int_equal(sfshm_list_offset(c, "ga", -1, -1, &off), -EINVAL);
	assert_int_equal(sfshm_list_offset(c, "ga", 0, -3, &off), -EINVAL);
	assert_int_equal(sfshm_list_offset(c, "b/d", 0, -1, &off), -EINVAL);
	assert_int_equal(off, 77);
	sfshm_disconnect(c);
}

/* ---- committed offsets, list, describe ----------------------------------- */

/* @text without blanks and newlines (our JSON strings have none). */
static char *squeeze(const char *text)
{
	char *s = strdup(text), *w = s;

	assert_non_null(s);
	for (const char *p = text; *p; p++)
		if (*p != ' ' && *p != '\n')
			*w++ = *p;
	*w = '\0';
	return s;
}

static void expect_json(const char *doc, const char *want)
{
	char *s = squeeze(doc);

	if (!strstr(s, want))
		fail_msg("'%s' not in %s", want, doc);
	free(s);
}

static void commit_with_consumer(const char *group, int32_t part, int64_t off)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o), .group_id = group };
	struct sfshm_tp_offset to = { "ga", part, off, "by test" };
	struct sfshm_client *c = client();
	struct sfshm_consumer *cons;
	int64_t got = -1;

	assert_int_equal(sfshm_consumer_open(c, &o, &cons), 0);
	assert_int_equal(sfshm_consumer_commit_offsets(cons, &to, 1, false), 0);
	assert_int_equal(sfshm_consumer_committed(cons, "ga", part, &got), 0);
	assert_int_equal(got, off);
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static void test_commit_and_list(void **state)
{
	static const int64_t app[NPARTS] = { 3, 5, NRECS };
	struct sfshm_client *c;
	struct sfshm_group_info *gi;
	struct t_res r;

	(void)state;
	set_offsets("app", "ga", app, NPARTS);
	commit_with_consumer("app2", 1, 10);
	expect_offsets("app", 3, 5, NRECS);
	expect_offsets("app2", -1, 10, -1);

	c = client();
	assert_int_equal(sfshm_group_list(c, &gi), 2);
	assert_string_equal(gi[0].group, "app");
	assert_string_equal(gi[1].group, "app2");
	assert_string_equal(gi[0].state, "Empty");
	assert_int_equal(gi[0].members, 0);
	assert_string_equal(gi[0].assignor, "");
	free(gi);
	sfshm_disconnect(c);

	SFCTL_OK(&r, 0, "group", "list");
	assert_int_equal(t_count_lines(r.out), 3);
	expect_row(&r, ROW("app", "Empty", "0", "0", "-"));
	expect_row(&r, ROW("app2", "Empty", "0", "0", "-"));
	assert_true(strstr(r.out, "app ") < strstr(r.out, "app2"));
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "list");
	expect_json(r.out, "{\"group\":\"app\",\"state\":\"Empty\","
			   "\"members\":0,\"generation\":0,\"assignor\":\"\"}");
	expect_json(r.out, "{\"group\":\"app2\",");
	t_res_free(&r);
}

static void test_describe(void **state)
{
	struct sfshm_group_description *d;
	struct sfshm_client *c = client();
	struct t_res r;

	(void)state;
	assert_int_equal(sfshm_group_describe(c, "app", &d), 0);
	assert_string_equal(d->info.group, "app");
	assert_int_equal(d->nmembers, 0);
	assert_int_equal(d->noffsets, NPARTS);
	for (unsigned i = 0; i < d->noffsets; i++) {
		assert_string_equal(d->offsets[i].topic, "ga");
		assert_int_equal(d->offsets[i].log_end, NRECS);
	}
	sfshm_group_description_free(d);
	sfshm_group_description_free(NULL);
	sfshm_disconnect(c);

	SFCTL_OK(&r, 0, "group", "describe", "app");
	expect_row(&r, ROW("Group:", "app", "State:", "Empty"));
	expect_row(&r, ROW("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
			   "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "PID",
			   "CLIENT-ID"));
	expect_row(&r, ROW("app", "ga", "0", "3", "20", "17", "-", "-", "-"));
	expect_row(&r, ROW("app", "ga", "1", "5", "20", "15", "-", "-", "-"));
	expect_row(&r, ROW("app", "ga", "2", "20", "20", "0", "-", "-", "-"));
	expect_in(r.out, "Consumer group 'app' has no active members.\n");
	t_res_free(&r);

	SFCTL_OK(&r, 0, "--json", "group", "describe", "app", "app2");
	expect_json(r.out, "{\"topic\":\"ga\",\"partition\":0,\"committed\":3,"
			   "\"log_end\":20,\"lag\":17}");
	expect_json(r.out, "{\"topic\":\"ga\",\"partition\":1,\"committed\":5,"
			   "\"log_end\":20,\"lag\":15}");
	expect_json(r.out, "\"group\":\"app2\",\"state\":\"Empty\","
			   "\"generation\":0,\"assignor\":\"\",\"offsets\":[{"
			   "\"topic\":\"ga\",\"partition\":1,\"committed\":10,"
			   "\"log_end\":20,\"lag\":10}],\"members\":[]}");
	t_res_free(&r);

	/* all groups; one unknown among known ones */
	SFCTL_OK(&r, 0, "group", "describe");
	expect_row(&r, ROW("app2", "ga", "1", "10", "20", "10"));
	expect_row(&r, ROW("app", "ga", "0", "3", "20", "17"));
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "describe", "app", "nope");
	expect_row(&r, ROW("app", "ga", "0", "3", "20", "17"));
	expect_in(r.err, "unknown group \"nope\"");
	t_res_free(&r);
}

/* ---- reset-offsets ---------------------------------------------------------- */

/* "YYYY-MM-DDTHH:MM:SS.mmm" of @ms, shifted by @east_min for a zone. */
static void datetime(char *buf, size_t len, int64_t ms, int east_min,
		     bool with_ms)
{
	time_t t = (time_t)(ms / 1000) + east_min * 60;
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	if (with_ms)
		n += (size_t)snprintf(buf + n, len - n, ".%03d",
				      (int)(ms % 1000));
	if (east_min)
		snprintf(buf + n, len - n, "%c%02d:%02d",
			 east_min < 0 ? '-' : '+', abs(east_min) / 60,
			 abs(east_min) % 60);
}

/* reset-offsets rs ARGS...: dry run, then the same with --execute. */
#define RESET(r, status, ...) \
	SFCTL_OK(r, status, "group", "reset-offsets", "rs", __VA_ARGS__)

static void test_reset_earliest_latest(void **state)
{
	static const int64_t ten[NPARTS] = { 10, 10, 10 };
	struct t_res r, x;

	(void)state;
	set_offsets("rs", "ga", ten, NPARTS);
	RESET(&r, 0, "--topic", "ga", "--to-earliest");
	expect_row(&r, ROW("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET",
			   "NEW-OFFSET"));
	for (int p = 0; p < NPARTS; p++) {
		char ps[8];

		snprintf(ps, sizeof(ps), "%d", p);
		expect_row(&r, ROW("rs", "ga", ps, "10", "0"));
	}
	assert_int_equal(t_count_lines(r.out), 1 + NPARTS);
	expect_offsets("rs", 10, 10, 10); /* a dry run changes nothing */
	RESET(&x, 0, "--topic", "ga", "--to-earliest", "--dry-run");
	assert_string_equal(x.out, r.out);
	t_res_free(&x);
	RESET(&x, 0, "--topic", "ga", "--to-earliest", "--execute");
	assert_string_equal(x.out, r.out); /* the plan it applied */
	expect_offsets("rs", 0, 0, 0);
	t_res_free(&x);
	t_res_free(&r);

	RESET(&r, 0, "--all-topics", "--to-latest", "--json");
	expect_json(r.out, "{\"group\":\"rs\",\"executed\":false,\"offsets\":"
			   "[{\"topic\":\"ga\",\"partition\":0,\"current\":0,"
			   "\"new\":20},{\"topic\":\"ga\",\"partition\":1,");
	expect_offsets("rs", 0, 0, 0);
	t_res_free(&r);
	RESET(&r, 0, "--all-topics", "--to-latest", "--json", "--execute");
	expect_json(r.out, "{\"group\":\"rs\",\"executed\":true,");
	expect_offsets("rs", NRECS, NRECS, NRECS);
	t_res_free(&r);
}

static void test_reset_offset(void **state)
{
	struct t_res r;

	(void)state;
	RESET(&r, 0, "--topic", "ga:1", "--to-offset", "7", "--execute");
	expect_row(&r, ROW("rs", "ga", "1", "20", "7"));
	assert_int_equal(t_count_lines(r.out), 2);
	expect_offsets("rs", NRECS, 7, NRECS);
	t_res_free(&r);
	/* clamped into [log start, log end], as Kafka does */
	RESET(&r, 0, "--topic", "ga:0,1", "--topic", "ga:1", "--to-offset",
	      "1000");
	expect_row(&r, ROW("rs", "ga", "0", "20", "20"));
	expect_row(&r, ROW("rs", "ga", "1", "7", "20"));
	assert_int_equal(t_count_lines(r.out), 3); /* ga-1 once */
	t_res_free(&r);
	RESET(&r, 0, "--topic", "ga:2", "--to-offset", "-5");
	expect_row(&r, ROW("rs", "ga", "2", "20", "0"));
	t_res_free(&r);
	expect_offsets("rs", NRECS, 7, NRECS);
}

static void test_reset_datetime(void **state)
{
	char utc[64], zoned[64], secs[64], late[64];
	struct t_res r;

	(void)state;
	datetime(utc, sizeof(utc), g_t0 + 7500, 0, true);
	datetime(zoned, sizeof(zoned), g_t0 + 7500, 90, true);
	datetime(secs, sizeof(secs), g_t0 + 3000, 0, false);
	datetime(late, sizeof(late), g_t0 + 19001, -300, true);

	RESET(&r, 0, "--topic", "ga:0", "--to-datetime", utc, "--execute");
	expect_row(&r, ROW("rs", "ga", "0", "20", "8"));
	t_res_free(&r);
	expect_offsets("rs", 8, 7, NRECS);
	RESET(&r, 0, "--topic", "ga", "--to-datetime", zoned);
	expect_row(&r, ROW("rs", "ga", "0", "8", "8"));
	expect_row(&r, ROW("rs", "ga", "1", "7", "8"));
	expect_row(&r, ROW("rs", "ga", "2", "20", "8"));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "ga:1", "--to-datetime", secs);
	expect_row(&r, ROW("rs", "ga", "1", "7", "3"));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "ga:1", "--to-datetime", late);
	expect_row(&r, ROW("rs", "ga", "1", "7", "20"));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "ga:1", "--to-datetime",
	      "1970-01-01T00:00:00Z");
	expect_row(&r, ROW("rs", "ga", "1", "7", "0"));
	t_res_free(&r);
	expect_offsets("rs", 8, 7, NRECS);
}

static void test_reset_shift(void **state)
{
	struct t_res r;

	(void)state;
	RESET(&r, 0, "--all-topics", "--shift-by", "-3", "--execute");
	expect_row(&r, ROW("rs", "ga", "0", "8", "5"));
	expect_row(&r, ROW("rs", "ga", "1", "7", "4"));
	expect_row(&r, ROW("rs", "ga", "2", "20", "17"));
	t_res_free(&r);
	expect_offsets("rs", 5, 4, 17);
	RESET(&r, 0, "--all-topics", "--shift-by", "5", "--execute");
	expect_row(&r, ROW("rs", "ga", "2", "17", "20")); /* clamped */
	t_res_free(&r);
	expect_offsets("rs", 10, 9, NRECS);
	RESET(&r, 0, "--all-topics", "--shift-by", "-100");
	expect_row(&r, ROW("rs", "ga", "0", "10", "0"));
	expect_row(&r, ROW("rs", "ga", "1", "9", "0"));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "ga:0", "--shift-by", "9223372036854775807");
	expect_row(&r, ROW("rs", "ga", "0", "10", "20"));
	t_res_free(&r);
	expect_offsets("rs", 10, 9, NRECS);
}

/* gr's log does not start at 0: clamping meets its start. */
static void test_reset_clamp_start(void **state)
{
	char start[32], plus5[32], minus1[32], end[32];
	struct t_res r;

	(void)state;
	snprintf(start, sizeof(start), "%" PRId64, g_gr_start);
	snprintf(plus5, sizeof(plus5), "%" PRId64, g_gr_start + 5);
	snprintf(minus1, sizeof(minus1), "%" PRId64, g_gr_start - 1);
	snprintf(end, sizeof(end), "%u", RET_RECORDS);
	RESET(&r, 0, "--topic", "gr", "--to-offset", plus5, "--execute");
	expect_row(&r, ROW("rs", "gr", "0", "-", plus5));
	t_res_free(&r);
	assert_int_equal(committed("rs", "gr", 0), g_gr_start + 5);
	RESET(&r, 0, "--topic", "gr", "--to-offset", minus1);
	expect_row(&r, ROW("rs", "gr", "0", plus5, start));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "gr", "--to-offset", "0");
	expect_row(&r, ROW("rs", "gr", "0", plus5, start));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "gr", "--shift-by", "-6");
	expect_row(&r, ROW("rs", "gr", "0", plus5, start));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "gr", "--to-earliest");
	expect_row(&r, ROW("rs", "gr", "0", plus5, start));
	t_res_free(&r);
	RESET(&r, 0, "--topic", "gr", "--to-offset", "99999999");
	expect_row(&r, ROW("rs", "gr", "0", plus5, end));
	t_res_free(&r);
	/* --all-topics now covers both topics */
	RESET(&r, 0, "--all-topics", "--to-earliest");
	assert_int_equal(t_count_lines(r.out), 1 + NPARTS + 1);
	expect_row(&r, ROW("rs", "gr", "0", plus5, start));
	expect_row(&r, ROW("rs", "ga", "2", "20", "0"));
	t_res_free(&r);
	/* describe: gr's lag counts from the committed offset */
	SFCTL_OK(&r, 0, "group", "describe", "rs");
	snprintf(start, sizeof(start), "%" PRId64,
		 (int64_t)RET_RECORDS - g_gr_start - 5);
	expect_row(&r, ROW("rs", "gr", "0", plus5, end, start));
	t_res_free(&r);
}

/* A group need not exist to be given offsets. */
static void test_reset_new_group(void **state)
{
	struct t_res r;

	(void)state;
	SFCTL_OK(&r, 0, "group", "reset-offsets", "fresh", "--topic", "ga:2",
		 "--to-offset", "4");
	expect_row(&r, ROW("fresh", "ga", "2", "-", "4"));
	t_res_free(&r);
	assert_int_equal(committed("fresh", "ga", 2), -1);
	SFCTL_OK(&r, 0, "group", "reset-offsets", "fresh", "--topic", "ga:2",
		 "--to-offset", "4", "--execute");
	t_res_free(&r);
	expect_offsets("fresh", -1, -1, 4);
	SFCTL_OK(&r, 0, "group", "list");
	expect_row(&r, ROW("fresh", "Empty", "0", "0", "-"));
	t_res_free(&r);
}

/* Offsets of a topic deleted since: describe says so, --all-topics
 * skips them. */
static void test_deleted_topic(void **state)
{
	static const int64_t one[1] = { 1 };
	struct sfshm_client *c = client();
	struct t_res r;

	(void)state;
	assert_int_equal(sfshm_topic_create(c, "tmp", NULL), 0);
	set_offsets("stale", "tmp", one, 1);
	set_offsets("stale", "ga", one, 1);
	assert_int_equal(sfshm_topic_delete(c, "tmp"), 0);
	sfshm_disconnect(c);
	SFCTL_OK(&r, 0, "group", "describe", "stale");
	expect_row(&r, ROW("stale", "tmp", "0", "1", "-", "-", "-"));
	expect_row(&r, ROW("stale", "ga", "0", "1", "20", "19", "-"));
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "describe", "stale");
	expect_json(r.out, "{\"topic\":\"tmp\",\"partition\":0,"
			   "\"committed\":1}");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "group", "reset-offsets", "stale", "--all-topics",
		 "--to-latest", "--execute");
	expect_in(r.err, "tmp-0: skipped");
	expect_row(&r, ROW("stale", "ga", "0", "1", "20"));
	assert_int_equal(t_count_lines(r.out), 2);
	t_res_free(&r);
	assert_int_equal(committed("stale", "ga", 0), NRECS);
	assert_int_equal(committed("stale", "tmp", 0), 1);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "stale", "--topic", "tmp",
		 "--to-latest");
	expect_in(r.err, "tmp");
	t_res_free(&r);
}

/* ---- delete ------------------------------------------------------------- */

static void test_delete(void **state)
{
	struct sfshm_client *c;
	struct t_res r;

	(void)state;
	SFCTL_OK(&r, 0, "group", "delete", "app");
	assert_string_equal(r.out, "Deleted consumer group app.\n");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "group", "list");
	assert_false(has_row(r.out, ROW("app", "Empty")));
	expect_row(&r, ROW("app2", "Empty"));
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "describe", "app");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "delete", "app2");
	expect_json(r.out, "{\"group\":\"app2\",\"deleted\":true}");
	t_res_free(&r);
	c = client();
	assert_int_equal(sfshm_group_delete(c, "fresh"), 0);
	assert_int_equal(sfshm_group_delete(c, "fresh"), -ENOENT);
	sfshm_disconnect(c);
	expect_offsets("fresh", -1, -1, -1);
}

/* ---- live members: sfcat -G ------------------------------------------------ */

/* Does @group have @members members, Stable, each owning a partition and
 * all @parts partitions owned? */
static bool group_settled(const char *group, unsigned members, unsigned parts)
{
	struct sfshm_client *c = client();
	struct sfshm_group_description *d;
	unsigned owned = 0;
	bool ok;

	if (sfshm_group_describe(c, group, &d)) {
		sfshm_disconnect(c);
		return false;
	}
	ok = d->info.members == members && d->nmembers == members &&
	     !strcmp(d->info.state, "Stable");
	for (unsigned i = 0; ok && i < d->nmembers; i++) {
		ok = d->members[i].ntps > 0;
		owned += d->members[i].ntps;
	}
	sfshm_group_description_free(d);
	sfshm_disconnect(c);
	return ok && owned == parts;
}

/* Pump @n processes until @group settles.  Fails the test on timeout. */
static void wait_settled(struct t_proc **p, int n, const char *group,
			 unsigned members, unsigned parts)
{
	uint64_t deadline = T_DEADLINE(WAIT_MS * t_slowdown());

	while (!group_settled(group, members, parts)) {
		if (t_now_ms() > deadline)
			fail_msg("group %s did not settle with %u members",
				 group, members);
		for (int i = 0; i < n; i++)
			t_proc_pump(p[i], 20);
	}
}

/* Pump until the processes printed @lines lines between them. */
static void wait_lines(struct t_proc **p, int n, int lines)
{
	uint64_t deadline = T_DEADLINE(WAIT_MS * t_slowdown());

	for (;;) {
		int got = 0;

		for (int i = 0; i < n; i++)
			got += (int)t_count_lines(p[i]->o.p);
		if (got >= lines)
			return;
		if (t_now_ms() > deadline)
			fail_msg("%d lines printed, want %d", got, lines);
		for (int i = 0; i < n; i++)
			t_proc_pump(p[i], 20);
	}
}

/* Stop an sfcat -G with SIGTERM: it must leave and exit 0. */
static void stop(struct t_proc *p, struct t_res *r)
{
	kill(p->pid, SIGTERM);
	t_proc_finish(p, T_DEADLINE(TOOL_MS * t_slowdown()), r);
	t_res_check(r, 0, "sfcat -G after SIGTERM");
}

/*
 * "P O" lines: each (partition, offset) once, and exactly those in
 * [@from, @to) of every partition.
 */
static void expect_each_once(const char *const *outs, int n, int64_t from,
			     int64_t to)
{
	int64_t span = to - from;
	bool *seen = calloc((size_t)(NPARTS * span), sizeof(*seen));
	int total = 0;

	assert_non_null(seen);
	for (int i = 0; i < n; i++) {
		for (const char *l = outs[i]; *l; l = strchr(l, '\n') + 1) {
			int part;
			int64_t off;

			if (sscanf(l, "%d %" SCNd64, &part, &off) != 2 ||
			    part < 0 || part >= NPARTS || off < from ||
			    off >= to)
				fail_msg("bad line in:\n%s", outs[i]);
			if (seen[part * span + off - from])
				fail_msg("%d %" PRId64 " twice", part, off);
			seen[part * span + off - from] = true;
			total++;
		}
	}
	assert_int_equal(total, NPARTS * span);
	free(seen);
}

/* The member id of @group's only member. */
static void member_id(char *buf, size_t len, const char *group)
{
	struct sfshm_client *c = client();
	struct sfshm_group_description *d;

	assert_int_equal(sfshm_group_describe(c, group, &d), 0);
	assert_int_equal(d->nmembers, 1);
	snprintf(buf, len, "%s", d->members[0].member_id);
	sfshm_group_description_free(d);
	sfshm_disconnect(c);
}

static void test_live_member(void **state)
{
	struct t_proc p, *pp = &p;
	struct sfshm_client *c;
	char pid[16], mid[128];
	struct t_res r, cr;

	(void)state;
	t_proc_start(&p, 0, NULL, 0,
		     T_ARGS("sfcat", "-b", g_d.run_dir, "-G", "live", "-u",
			    "-f", "%p %o\\n", "ga"));
	snprintf(pid, sizeof(pid), "%d", (int)p.pid);
	wait_settled(&pp, 1, "live", 1, NPARTS);
	wait_lines(&pp, 1, NPARTS * NRECS);

	member_id(mid, sizeof(mid), "live");
	SFCTL_OK(&r, 0, "group", "describe", "live");
	expect_row(&r, ROW("Group:", "live", "State:", "Stable"));
	expect_row(&r, ROW("live", "ga", "2"));
	expect_in(r.out, mid);
	expect_row(&r, ROW("GROUP", "CONSUMER-ID", "GROUP-INSTANCE-ID", "PID",
			   "CLIENT-ID", "STATE", "#PARTITIONS", "ASSIGNMENT"));
	expect_row(&r, ROW("live", mid, "-", pid, "sfcat", "connected", "3",
			   "ga(0,1,2)"));
	t_res_free(&r);
	SFCTL_OK(&r, 0, "--json", "group", "describe", "live");
	expect_json(r.out, "\"client_id\":\"sfcat\",\"pid\":");
	expect_json(r.out,
		    "\"state\":\"connected\",\"assignment\":[{\"topic\":"
		    "\"ga\",\"partition\":0},{\"topic\":\"ga\","
		    "\"partition\":1},{\"topic\":\"ga\",\"partition\":2}]");
	t_res_free(&r);
	SFCTL_OK(&r, 0, "group", "list");
	expect_row(&r, ROW("live", "Stable", "1"));
	expect_in(r.out, "range");
	t_res_free(&r);

	/* refused while it has a member */
	SFCTL_OK(&r, 1, "group", "reset-offsets", "live", "--topic", "ga",
		 "--to-earliest");
	expect_in(r.err, "live: the group has 1 active member (state Stable)");
	assert_string_equal(r.out, "");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "reset-offsets", "live", "--topic", "ga",
		 "--to-earliest", "--execute");
	assert_string_equal(r.err, "sfctl: group reset-offsets: live: the "
				   "group has active members; stop them "
				   "first\n");
	assert_string_equal(r.out, "");
	t_res_free(&r);
	SFCTL_OK(&r, 1, "group", "delete", "live");
	assert_string_equal(r.err, "sfctl: group delete: live: the group has "
				   "active members; stop them first\n");
	t_res_free(&r);
	c = client();
	assert_int_equal(sfshm_group_delete(c, "live"), -EBUSY);
	assert_int_equal(sfshm_group_reset_offsets(c, "live", NULL, 0), -EBUSY);
	expect_in(sfshm_last_error(c), "active members");
	sfshm_disconnect(c);

	/* it leaves on SIGTERM, having committed what it printed */
	stop(&p, &cr);
	expect_each_once((const char *const[]){ cr.out }, 1, 0, NRECS);
	t_res_free(&cr);
	expect_offsets("live", NRECS, NRECS, NRECS);
	SFCTL_OK(&r, 0, "group", "describe", "live");
	expect_row(&r, ROW("Group:", "live", "State:", "Empty"));
	expect_row(&r, ROW("live", "ga", "1", "20", "20", "0", "-"));
	t_res_free(&r);

	/* now it may be reset; a new member resumes from there */
	SFCTL_OK(&r, 0, "group", "reset-offsets", "live", "--all-topics",
		 "--to-offset", "15", "--execute");
	t_res_free(&r);
	SFCAT(&r, "-G", "live", "-e", "-f", "%p %o\\n", "ga");
	t_res_check(&r, 0, "sfcat -G -e after a reset");
	expect_each_once((const char *const[]){ r.out }, 1, 15, NRECS);
	expect_in(r.err, "assigned: ga [0], ga [1], ga [2]");
	t_res_free(&r);
	SFCAT(&r, "-G", "live", "-e", "-q", "ga");
	t_res_check(&r, 0, "sfcat -G -e at the end");
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "");
	t_res_free(&r);
}

/* -c stops after COUNT records and commits them: the next run goes on. */
static void test_sfcat_count_resume(void **state)
{
	struct t_res a, b;

	(void)state;
	SFCAT(&a, "-G", "cnt", "-c", "25", "-q", "-f", "%p %o\\n", "ga");
	t_res_check(&a, 0, "sfcat -G -c 25");
	assert_int_equal(t_count_lines(a.out), 25);
	SFCAT(&b, "-G", "cnt", "-e", "-q", "-f", "%p %o\\n", "-t", "ga");
	t_res_check(&b, 0, "sfcat -G -e after -c");
	assert_int_equal(t_count_lines(b.out), NPARTS * NRECS - 25);
	expect_each_once((const char *const[]){ a.out, b.out }, 2, 0, NRECS);
	t_res_free(&a);
	t_res_free(&b);
	expect_offsets("cnt", NRECS, NRECS, NRECS);
}

/* -o end: partitions without a committed offset start at the end. */
static void test_sfcat_start_end(void **state)
{
	static const int64_t five[1] = { 5 };
	struct t_res r;

	(void)state;
	set_offsets("late", "ga", five, 1); /* ga-0 has one */
	SFCAT(&r, "-G", "late", "-o", "end", "-e", "-q", "-f", "%p %o\\n",
	      "ga");
	t_res_check(&r, 0, "sfcat -G -o end");
	/* ga-0 from its committed offset; the others from the end */
	assert_int_equal(t_count_lines(r.out), NRECS - 5);
	assert_true(has_row(r.out, ROW("0", "5")));
	assert_false(has_row(r.out, ROW("1")));
	t_res_free(&r);
	expect_offsets("late", NRECS, NRECS, NRECS);
	SFCAT(&r, "-G", "late2", "-X", "auto.offset.reset=latest", "-e", "-q",
	      "^g[a]$");
	t_res_check(&r, 0, "sfcat -G pattern, latest");
	assert_string_equal(r.out, "");
	t_res_free(&r);
	expect_offsets("late2", NRECS, NRECS, NRECS);
}

static void produce_more(const char *topic, int from, int n)
{
	struct sfshm_client *c = client();
	struct sfshm_producer *p;
	char val[32];

	assert_int_equal(sfshm_producer_open(c, topic, NULL, &p), 0);
	for (int part = 0; part < NPARTS; part++) {
		for (int k = from; k < from + n; k++) {
			struct sfshm_rec r = { .key_len = -1, .value = val };

			r.value_len = snprintf(val, sizeof(val), "%d", k);
			assert_int_equal(sfshm_producer_send(p, part, &r, NULL),
					 0);
		}
	}
	assert_int_equal(sfshm_producer_flush(p, 10000 * t_slowdown()), 0);
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

/*
 * Two members share a topic's partitions; a third joins and leaves:
 * every record is printed once in all, across the rebalances.
 */
static void test_sfcat_balanced(void **state)
{
	struct sfshm_topic_config cfg;
	struct sfshm_client *c = client();
	struct t_proc a, b, x, *pp[3] = { &a, &b, &x };
	struct t_res ra, rb, rx;

	(void)state;
	sfshm_topic_config_init(&cfg);
	cfg.partitions = NPARTS;
	assert_int_equal(sfshm_topic_create(c, "gd", &cfg), 0);
	sfshm_disconnect(c);
	produce_more("gd", 0, 10);
	t_proc_start(&a, 0, NULL, 0,
		     T_ARGS("sfcat", "-b", g_d.run_dir, "-G", "duo", "-u", "-f",
			    "%p %o\\n", "gd"));
	wait_settled(pp, 1, "duo", 1, NPARTS);
	t_proc_start(&b, 0, NULL, 0,
		     T_ARGS("sfcat", "-b", g_d.run_dir, "-G", "duo", "-u", "-X",
			    "partition.assignment.strategy=range", "-f",
			    "%p %o\\n", "gd"));
	wait_settled(pp, 2, "duo", 2, NPARTS);
	produce_more("gd", 10, 10);
	t_proc_start(&x, 0, NULL, 0,
		     T_ARGS("sfcat", "-b", g_d.run_dir, "-G", "duo", "-u", "-f",
			    "%p %o\\n", "gd"));
	wait_settled(pp, 3, "duo", 3, NPARTS);
	produce_more("gd", 20, 10);
	wait_lines(pp, 3, NPARTS * 30);
	stop(&x, &rx);
	wait_settled(pp, 2, "duo", 2, NPARTS);
	produce_more("gd", 30, 10);
	wait_lines(pp, 2, NPARTS * 40 - (int)t_count_lines(rx.out));
	stop(&a, &ra);
	stop(&b, &rb);
	expect_each_once((const char *const[]){ ra.out, rb.out, rx.out }, 3, 0,
			 40);
	t_res_free(&ra);
	t_res_free(&rb);
	t_res_free(&rx);
	SFCTL_OK(&ra, 0, "group", "describe", "duo");
	expect_row(&ra, ROW("duo", "gd", "0", "40", "40", "0", "-"));
	expect_row(&ra, ROW("duo", "gd", "2", "40", "40", "0", "-"));
	t_res_free(&ra);
}

/* ---- a fake sfshmd: replies the real one never sends ------------------------ */

typedef void (*fake_fn)(int fd, const struct sfp_msg *req);

static struct {
	char dir[64];
	int lfd;
	pthread_t thread;
	fake_fn fn; /* set by a test before its request */
	unsigned requests, entries; /* of the last test's requests */
	bool fail_second;
} g_fake;

static uint8_t g_fbuf[SFP_MAX_MSG]; /* the fake's reply being built */

/* The fake runs on its own thread: no cmocka there; a bug aborts. */
static void fake_check(bool ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fake sfshmd: %s\n", what);
		abort();
	}
}

static void fbegin(struct sfp_buf *b, const struct sfp_msg *req, int status)
{
	sfp_begin(b, g_fbuf, sizeof(g_fbuf), req->type, req->seq, status);
}

static void fsend(int fd, struct sfp_buf *b, bool more)
{
	int n;

	sfp_set_flags(b, more ? SFP_F_MORE : 0);
	n = sfp_end(b);
	fake_check(n > 0, "reply does not fit");
	fake_check(send(fd, g_fbuf, (size_t)n, MSG_NOSIGNAL) == n, "send");
}

static void fake_serve(int fd)
{
	static uint8_t rx[SFP_MAX_MSG];
	struct sfp_msg m;
	struct sfp_buf b;
	ssize_t n;

	while ((n = recv(fd, rx, sizeof(rx), 0)) > 0) {
		fake_check(!sfp_parse(rx, (size_t)n, &m), "bad request");
		if (m.type != SFP_HELLO) {
			__atomic_load_n(&g_fake.fn, __ATOMIC_ACQUIRE)(fd, &m);
			continue;
		}
		fbegin(&b, &m, 0);
		sfp_put_s32(&b, SFA_BROKER_ID, 7);
		fsend(fd, &b, false);
	}
}

static void *fake_main(void *arg)
{
	int fd;

	(void)arg;
	while ((fd = accept(g_fake.lfd, NULL, NULL)) >= 0) {
		fake_serve(fd);
		close(fd);
	}
	return NULL;
}

static int fake_setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	(void)state;
	if (t_tmpdir(g_fake.dir, sizeof(g_fake.dir), "sfshm-fake"))
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sfshmd.sock",
		 g_fake.dir);
	g_fake.lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (g_fake.lfd < 0 ||
	    bind(g_fake.lfd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(g_fake.lfd, 4))
		return -1;
	return pthread_create(&g_fake.thread, NULL, fake_main, NULL) ? -1 : 0;
}

static int fake_teardown(void **state)
{
	(void)state;
	shutdown(g_fake.lfd, SHUT_RDWR);
	pthread_join(g_fake.thread, NULL);
	close(g_fake.lfd);
	t_rm_rf(g_fake.dir);
	return 0;
}

static struct sfshm_client *fake_client(fake_fn fn)
{
	struct sfshm_client_opts o = { .size = sizeof(o),
				       .run_dir = g_fake.dir,
				       .timeout_ms = 5000 };
	struct sfshm_client *c;

	__atomic_store_n(&g_fake.fn, fn, __ATOMIC_RELEASE);
	g_fake.requests = g_fake.entries = 0;
	assert_int_equal(sfshm_connect(&o, &c), 0);
	return c;
}

/* -- building replies -- */

enum { NO_STATE = 1, BAD_MEMBERS = 2 };

static void put_info(struct sfp_buf *b, const char *group, const char *state,
		     int32_t gen, uint32_t members, const char *assignor,
		     int flaws)
{
	sfp_nest_begin(b, SFA_GROUP_INFO);
	sfp_put_str(b, SFA_GROUP, group);
	if (!(flaws & NO_STATE))
		sfp_put_str(b, SFA_STATE, state);
	sfp_put_s32(b, SFA_GENERATION, gen);
	if (flaws & BAD_MEMBERS)
		sfp_put_u64(b, SFA_MEMBERS, members);
	else
		sfp_put_u32(b, SFA_MEMBERS, members);
	if (assignor)
		sfp_put_str(b, SFA_ASSIGNOR, assignor);
	sfp_nest_end(b);
}

static void put_tp(struct sfp_buf *b, const char *topic, uint32_t part,
		   const int64_t *offset, const int64_t *log_end)
{
	sfp_nest_begin(b, SFA_TP);
	sfp_put_str(b, SFA_TOPIC, topic);
	sfp_put_u32(b, SFA_PARTITION, part);
	if (offset)
		sfp_put_s64(b, SFA_OFFSET, *offset);
	if (log_end)
		sfp_put_s64(b, SFA_LOG_END, *log_end);
	sfp_nest_end(b);
}

/* A member owning @ntp partitions of @topic (0, 2, 4, ...). */
static void put_member(struct sfp_buf *b, const char *id, const char *inst,
		       const char *client_id, uint32_t pid, const char *state,
		       const char *topic, unsigned ntp)
{
	static const int64_t none = -1;

	sfp_nest_begin(b, SFA_MEMBER);
	if (id)
		sfp_put_str(b, SFA_MEMBER_ID, id);
	sfp_put_str(b, SFA_INSTANCE_ID, inst);
	sfp_put_str(b, SFA_CLIENT_ID, client_id);
	sfp_put_u32(b, SFA_PID, pid);
	sfp_put_str(b, SFA_STATE, state);
	for (unsigned i = 0; i < ntp; i++)
		put_tp(b, topic, 2 * i, &none, NULL);
	sfp_nest_end(b);
}

/* -- group list -- */

static void list_split(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "b", "Empty", 0, 0, NULL, 0);
	fsend(fd, &b, true);
	fbegin(&b, req, 0);
	put_info(&b, "a", "Stable", 3, 2, "sticky", 0);
	fsend(fd, &b, false);
}

static void list_no_state(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "a", "Stable", 3, 2, "sticky", NO_STATE);
	fsend(fd, &b, false);
}

static void list_bad_members(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "a", "Stable", 3, 2, NULL, BAD_MEMBERS);
	fsend(fd, &b, false);
}

static void list_long_name(int fd, const struct sfp_msg *req)
{
	char name[300];
	struct sfp_buf b;

	memset(name, 'g', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	fbegin(&b, req, 0);
	put_info(&b, name, "Empty", 0, 0, NULL, 0);
	fsend(fd, &b, false);
}

static void list_twice(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "a", "Empty", 0, 0, NULL, 0);
	put_info(&b, "a", "Empty", 0, 0, NULL, 0);
	fsend(fd, &b, false);
}

static void list_negative_gen(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "a", "Empty", -4, 0, NULL, 0);
	fsend(fd, &b, false);
}

static void test_fake_list(void **state)
{
	static const fake_fn bad[] = { list_no_state, list_bad_members,
				       list_long_name, list_twice,
				       list_negative_gen };
	struct sfshm_group_info *gi = NULL;
	struct sfshm_client *c = fake_client(list_split);

	(void)state;
	assert_int_equal(sfshm_group_list(c, &gi), 2);
	assert_string_equal(gi[0].group, "a");
	assert_string_equal(gi[0].state, "Stable");
	assert_int_equal(gi[0].generation, 3);
	assert_int_equal(gi[0].members, 2);
	assert_string_equal(gi[0].assignor, "sticky");
	assert_string_equal(gi[1].group, "b");
	assert_string_equal(gi[1].assignor, "");
	free(gi);
	sfshm_disconnect(c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gi = NULL;
		c = fake_client(bad[i]);
		if (sfshm_group_list(c, &gi) != -EPROTO)
			fail_msg("bad list reply %zu accepted", i);
		assert_null(gi);
		expect_in(sfshm_last_error(c), "malformed group list reply");
		sfshm_disconnect(c);
	}
}

/* -- group describe -- */

static void describe_split(int fd, const struct sfp_msg *req)
{
	static const int64_t four = 4, ten = 10, zero = 0, gone = -1;
	struct sfp_buf b;

	fbegin(&b, req, 0);
	put_info(&b, "g", "Stable", 5, 2, "range", 0);
	put_member(&b, "m1", "", "c1", 11, "connected", "t", 3);
	fsend(fd, &b, true);
	fbegin(&b, req, 0);
	put_member(&b, "m2", "i2", "c2", 12, "away", "t", 0);
	put_tp(&b, "t", 0, &four, &ten);
	fsend(fd, &b, true);
	fbegin(&b, req, 0);
	put_tp(&b, "u", 1, &zero, &gone);
	fsend(fd, &b, false);
}

static void test_fake_describe_ok(void **state)
{
	struct sfshm_group_description *d = NULL;
	struct sfshm_client *c = fake_client(describe_split);
	const struct sfshm_group_member *m;

	(void)state;
	assert_int_equal(sfshm_group_describe(c, "g", &d), 0);
	assert_string_equal(d->info.group, "g");
	assert_string_equal(d->info.assignor, "range");
	assert_int_equal(d->info.generation, 5);
	assert_int_equal(d->nmembers, 2);
	m = &d->members[0];
	assert_string_equal(m->member_id, "m1");
	assert_string_equal(m->instance_id, "");
	assert_string_equal(m->client_id, "c1");
	assert_string_equal(m->state, "connected");
	assert_int_equal(m->pid, 11);
	assert_int_equal(m->ntps, 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_string_equal(m->tps[i].topic, "t");
		assert_int_equal(m->tps[i].partition, 2 * i);
	}
	m = &d->members[1];
	assert_string_equal(m->instance_id, "i2");
	assert_string_equal(m->state, "away");
	assert_int_equal(m->ntps, 0);
	assert_int_equal(d->noffsets, 2);
	assert_string_equal(d->offsets[0].topic, "t");
	assert_int_equal(d->offsets[0].committed, 4);
	assert_int_equal(d->offsets[0].log_end, 10);
	assert_string_equal(d->offsets[1].topic, "u");
	assert_int_equal(d->offsets[1].partition, 1);
	assert_int_equal(d->offsets[1].log_end, -1);
	sfshm_group_description_free(d);
	sfshm_disconnect(c);
}

/* The ways a describe reply can be wrong; @flaw picks one. */
static int g_flaw;

static void describe_flawed(int fd, const struct sfp_msg *req)
{
	static const int64_t four = 4, ten = 10, minus = -5, gone = -2;
	char longid[100];
	struct sfp_buf b;

	memset(longid, 'c', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	fbegin(&b, req, 0);
	if (g_flaw != 0)
		put_info(&b, g_flaw == 1 ? "other" : "g", "Stable", 5,
			 g_flaw == 2 ? 2 : 1, "range", 0);
	switch (g_flaw) {
	case 3:
		put_member(&b, "m1", "", "c1", 11, "connected", "t", 1);
		put_tp(&b, "t", 0, &minus, &ten);
		break;
	case 4:
		put_member(&b, "m1", "", "c1", 11, "connected", "t", 1);
		put_tp(&b, "t", 0, &four, NULL);
		break;
	case 5:
		put_member(&b, "m1", "", "c1", 11, "connected", "t", 1);
		put_tp(&b, "t", 0x80000000u, &four, &ten);
		break;
	case 6:
		put_member(&b, "m1", "", "c1", 11, "connected", "a/b", 1);
		break;
	case 7:
		put_member(&b, NULL, "", "c1", 11, "connected", "t", 1);
		break;
	case 8:
		put_member(&b, "m1", "", longid, 11, "connected", "t", 1);
		break;
	case 9:
		put_member(&b, "m1", "", "c1", 11, "connected", "t", 1);
		put_tp(&b, "t", 0, &four, &gone);
		break;
	default: /* 0: no info; 1: another group; 2: one member of two */
		put_member(&b, "m1", "", "c1", 11, "connected", "t", 1);
	}
	fsend(fd, &b, false);
}

static void describe_error(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, -ENOENT);
	sfp_put_str(&b, SFA_ERRMSG, "no group here");
	fsend(fd, &b, false);
}

static void test_fake_describe_bad(void **state)
{
	struct sfshm_group_description *d;
	struct sfshm_client *c;

	(void)state;
	for (g_flaw = 0; g_flaw <= 9; g_flaw++) {
		d = NULL;
		c = fake_client(describe_flawed);
		if (sfshm_group_describe(c, "g", &d) != -EPROTO)
			fail_msg("describe reply with flaw %d accepted",
				 g_flaw);
		assert_null(d);
		expect_in(sfshm_last_error(c), "malformed group describe");
		sfshm_disconnect(c);
	}
	c = fake_client(describe_error);
	assert_int_equal(sfshm_group_describe(c, "g", &d), -ENOENT);
	assert_string_equal(sfshm_last_error(c), "no group here");
	sfshm_disconnect(c);
}

/* -- list offsets -- */

static void offset_negative(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	sfp_put_s64(&b, SFA_OFFSET, -3);
	fsend(fd, &b, false);
}

static void offset_missing(int fd, const struct sfp_msg *req)
{
	struct sfp_buf b;

	fbegin(&b, req, 0);
	sfp_put_s32(&b, SFA_OFFSET, 3); /* and the wrong size */
	fsend(fd, &b, false);
}

static void test_fake_list_offset(void **state)
{
	struct sfshm_client *c = fake_client(offset_negative);
	int64_t off = 99;

	(void)state;
	assert_int_equal(sfshm_list_offset(c, "t", 0, -1, &off), -EPROTO);
	sfshm_disconnect(c);
	c = fake_client(offset_missing);
	assert_int_equal(sfshm_list_offset(c, "t", 0, -1, &off), -EPROTO);
	assert_int_equal(off, 99);
	sfshm_disconnect(c);
}

/* -- reset: large resets are split into requests that fit -- */

static void reset_count(int fd, const struct sfp_msg *req)
{
	static int64_t next; /* the offset the next entry must carry */
	struct sfp_iter it;
	struct sfp_attr a;
	struct sfp_buf b;
	unsigned n = 0;

	fake_check(req->type == SFP_GROUP_RESET, "not a reset");
	if (!g_fake.requests)
		next = 0;
	sfp_iter_init(&it, req->attrs, req->attrs_len);
	while (sfp_iter_next(&it, &a)) {
		struct sfp_table t;
		int64_t off;

		if (a.type != SFA_TP)
			continue;
		fake_check(!sfp_parse_nested(&a, &t) &&
				   !sfp_get_s64(&t, SFA_OFFSET, &off) &&
				   off == next++,
			   "entries out of order");
		n++;
	}
	g_fake.requests++;
	g_fake.entries += n;
	fbegin(&b, req,
	       g_fake.fail_second && g_fake.requests == 2 ? -EBUSY : 0);
	fsend(fd, &b, false);
}

static void test_fake_reset_split(void **state)
{
	enum { N = 3000 };
	struct sfshm_tp_offset *o = calloc(N, sizeof(*o));
	char topic[SFSHM_TOPIC_MAX + 1], *meta;
	struct sfshm_client *c;

	(void)state;
	assert_non_null(o);
	memset(topic, 't', SFSHM_TOPIC_MAX);
	topic[SFSHM_TOPIC_MAX] = '\0';
	for (int i = 0; i < N; i++)
		o[i] = (struct sfshm_tp_offset){ topic, i % 1024, i, NULL };
	c = fake_client(reset_count);
	assert_int_equal(sfshm_group_reset_offsets(c, "g", o, N), 0);
	assert_int_equal(g_fake.entries, N);
	assert_true(g_fake.requests > 1);
	printf("  %d entries of a %d-byte topic: %u requests\n", N,
	       SFSHM_TOPIC_MAX, g_fake.requests);
	sfshm_disconnect(c);

	g_fake.fail_second = true;
	c = fake_client(reset_count);
	assert_int_equal(sfshm_group_reset_offsets(c, "g", o, N), -EBUSY);
	assert_int_equal(g_fake.requests, 2); /* stopped there */
	sfshm_disconnect(c);
	g_fake.fail_second = false;

	/* checked before anything is sent */
	c = fake_client(reset_count);
	meta = calloc(40000, 1);
	assert_non_null(meta);
	memset(meta, 'm', 40000 - 1);
	o[1].metadata = meta;
	assert_int_equal(sfshm_group_reset_offsets(c, "g", o, 2), -EMSGSIZE);
	o[1].metadata = NULL;
	o[1].offset = -1;
	assert_int_equal(sfshm_group_reset_offsets(c, "g", o, 2), -EINVAL);
	o[1].offset = 1;
	o[1].topic = "bad topic";
	assert_int_equal(sfshm_group_reset_offsets(c, "g", o, 2), -EINVAL);
	o[1].topic = topic;
	assert_int_equal(sfshm_group_reset_offsets(c, "a/b", o, 2), -EINVAL);
	assert_int_equal(g_fake.requests, 0);
	sfshm_disconnect(c);
	free(meta);
	free(o);
}

/* ---- main ------------------------------------------------------------------- */

int main(void)
{
	const struct CMUnitTest admin[] = {
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_no_groups),
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_unknown_group),
		cmocka_unit_test(test_list_offset),
		cmocka_unit_test(test_commit_and_list),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_reset_earliest_latest),
		cmocka_unit_test(test_reset_offset),
		cmocka_unit_test(test_reset_datetime),
		cmocka_unit_test(test_reset_shift),
		cmocka_unit_test(test_reset_clamp_start),
		cmocka_unit_test(test_reset_new_group),
		cmocka_unit_test(test_deleted_topic),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_live_member),
		cmocka_unit_test(test_sfcat_count_resume),
		cmocka_unit_test(test_sfcat_start_end),
		cmocka_unit_test(test_sfcat_balanced),
	};
	const struct CMUnitTest fake[] = {
		cmocka_unit_test(test_fake_list),
		cmocka_unit_test(test_fake_describe_ok),
		cmocka_unit_test(test_fake_describe_bad),
		cmocka_unit_test(test_fake_list_offset),
		cmocka_unit_test(test_fake_reset_split),
	};
	int fails = cmocka_run_group_tests_name("fake", fake, fake_setup,
						fake_teardown);

	fails += cmocka_run_group_tests_name("admin", admin, admin_setup,
					     admin_teardown);
	return fails ? 1 : 0;
}
