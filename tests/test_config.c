// SPDX-License-Identifier: MIT
/*
 * test_config.c - sfshmd's settings (daemon/config.c) and log lines
 * (daemon/msg.c).
 *
 * Defaults; the config file (comments, spaces, CRLF, unknown keys, bad
 * numbers, size suffixes, ring sizes, octal modes, Kafka's retention
 * units, booleans, instance names) with the line named in every error;
 * the metrics instance derived from run.dir; the command line (every flag
 * form, flags over the file wherever --config stands, --no-bpf, errors
 * naming the flag as typed); --help and --version; the dump read back as
 * a file; and the log line format, level filtering and one line per call.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfd.h"

#define ERRLEN 512
#define MiB (1LL << 20)
#define DAY_MS (24LL * 3600 * 1000)

static char tmp_dir[128];

/* ---- helpers ---------------------------------------------------------- */

static int group_setup(void **state)
{
	const char *t = getenv("TMPDIR");

	(void)state;
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/sfd-config-XXXXXX",
		 t && *t && strlen(t) < 64 ? t : "/tmp");
	return mkdtemp(tmp_dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	char path[512];
	struct dirent *e;
	DIR *d = opendir(tmp_dir);

	(void)state;
	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp_dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	return rmdir(tmp_dir);
}

/* Write @text to a file of the temporary directory; return its path. */
static const char *write_file(const char *name, const char *text)
{
	static char path[4][256];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", tmp_dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return p;
}

static int parse_file(struct sfd_config *c, const char *text, char *err)
{
	sfd_config_init(c);
	err[0] = '\0';
	return sfd_config_parse_file(c, write_file("t.properties", text), err,
				     ERRLEN);
}

/* Parse a NULL-terminated argv (argv[0] included) into fresh defaults. */
static int parse_argv(struct sfd_config *c, char *err, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	sfd_config_init(c);
	err[0] = '\0';
	return sfd_config_parse_args(c, argc, argv, err, ERRLEN);
}

#define PARSE(c, err, ...) \
	parse_argv(c, err, (char *[]){ "sfshmd", __VA_ARGS__, NULL })

#define assert_has(haystack, needle)                               \
	do {                                                       \
		if (!strstr((haystack), (needle)))                 \
			fail_msg("\"%s\" not in \"%s\"", (needle), \
				 (haystack));                      \
	} while (0)

/* Output of a file descriptor, collected while a call runs. */
struct capture {
	int target, saved, fd;
};

static void capture_begin(struct capture *c, int target)
{
	fflush(NULL);
	c->target = target;
	c->fd = memfd_create("capture", 0);
	assert_true(c->fd >= 0);
	c->saved = dup(target);
	assert_true(c->saved >= 0);
	assert_true(dup2(c->fd, target) >= 0);
}

/* Stop capturing; return what was written (free() it). */
static char *capture_end(struct capture *c)
{
	off_t n;
	char *s;

	fflush(NULL);
	assert_true(dup2(c->saved, c->target) >= 0);
	close(c->saved);
	n = lseek(c->fd, 0, SEEK_END);
	s = calloc(1, (size_t)n + 1);
	assert_non_null(s);
	assert_int_equal(pread(c->fd, s, (size_t)n, 0), n);
	close(c->fd);
	return s;
}

/* ---- defaults and the file ------------------------------------------- */

static void test_defaults(void **state)
{
	struct sfd_config c;

	(void)state;
	memset(&c, 0x5a, sizeof(c));
	sfd_config_init(&c);
	assert_string_equal(c.data_dir, "");
	assert_string_equal(c.run_dir, "/dev/shm/sfshm-default");
	assert_string_equal(c.config_file, "");
	assert_int_equal(c.broker_id, 0);
	assert_int_equal(c.log_level, SFD_INFO);
	assert_int_equal(c.unblock_ms, 1000);
	assert_int_equal(c.retention_check_ms, 300000);
	assert_false(c.full_disk_block);
	assert_true(c.metrics_bpf);
	assert_string_equal(c.metrics_instance, "");
	assert_int_equal(c.topic.partitions, 1);
	assert_int_equal(c.topic.ring_bytes, 4 * MiB);
	assert_int_equal(c.topic.segment_bytes, 1LL << 30);
	assert_int_equal(c.topic.segment_ms, 7 * DAY_MS);
	assert_int_equal(c.topic.retention_bytes, -1);
	assert_int_equal(c.topic.retention_ms, 7 * DAY_MS);
	assert_int_equal(c.topic.flush_messages, -1);
	assert_int_equal(c.topic.flush_ms, 1000);
	assert_int_equal(c.topic.mode, 0660);
}

static void test_file_syntax(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse_file(&c,
				    "# a comment\n"
				    "! also a comment\n"
				    "\n"
				    "   \t\n"
				    "   log.dirs =  /var/lib/sfshm   \n"
				    "broker.id=7\r\n"
				    "\tnum.partitions\t=\t3\n"
				    "   # indented comment = with equals\n"
				    "log.level = debug\n"
				    "disk.full.policy=block\n"
				    "producer.unblock.ms=250\n"
				    "log.retention.check.interval.ms=60000\n"
				    "log.roll.ms=0\n"
				    "log.flush.interval.messages=10000\n"
				    "log.flush.interval.ms=-1\n"
				    "run.dir=/dev/shm/sfshm-test\n"
				    "num.partitions=5", /* no final newline */
				    err),
			 0);
	assert_string_equal(c.data_dir, "/var/lib/sfshm");
	assert_string_equal(c.run_dir, "/dev/shm/sfshm-test");
	assert_int_equal(c.broker_id, 7);
	assert_int_equal(c.topic.partitions, 5); /* the last one wins */
	assert_int_equal(c.log_level, SFD_DEBUG);
	assert_true(c.full_disk_block);
	assert_int_equal(c.unblock_ms, 250);
	assert_int_equal(c.retention_check_ms, 60000);
	assert_int_equal(c.topic.segment_ms, 0);
	assert_int_equal(c.topic.flush_messages, 10000);
	assert_int_equal(c.topic.flush_ms, -1);
	/* Untouched keys keep their defaults. */
	assert_int_equal(c.topic.ring_bytes, 4 * MiB);
	assert_string_equal(c.config_file, "");
}

static void test_file_unknown_key(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse_file(&c, "log.dirs=/x\n\nlog.dir=/y\n", err),
			 -EINVAL);
	assert_has(err, "t.properties:3: ");
	assert_has(err, "unknown key \"log.dir\"");
	assert_has(err, "did you mean \"log.dirs\"");

	assert_int_equal(
		parse_file(&c, "# kafka\nlisteners=PLAINTEXT://:9092\n", err),
		-EINVAL);
	assert_has(err, ":2: unknown key \"listeners\"");
	assert_null(strstr(err, "did you mean"));

	/* Flags are not keys. */
	assert_int_equal(parse_file(&c, "data-dir=/x\n", err), -EINVAL);
	assert_has(err, ":1: unknown key \"data-dir\"");
	assert_int_equal(parse_file(&c, "config=/x\n", err), -EINVAL);
	assert_has(err, "unknown key \"config\"");

	assert_int_equal(parse_file(&c, "log.dirs=/x\nlog.dirs /y\n", err),
			 -EINVAL);
	assert_has(err, ":2: expected key=value, found \"log.dirs /y\"");
}

/* Each line, after a good first line, is refused with these words. */
static const struct {
	const char *line, *why;
} bad_lines[] = {
	{ "broker.id=abc", "expected a whole number" },
	{ "broker.id=12x", "expected a whole number" },
	{ "broker.id=", "expected a whole number" },
	{ "broker.id=+5", "expected a whole number" },
	{ "broker.id=1 2", "expected a whole number" },
	{ "broker.id=0x10", "expected a whole number" },
	{ "broker.id=-3", "must be from 0 to 2147483647" },
	{ "broker.id=2147483648", "must be from 0 to 2147483647" },
	{ "broker.id=99999999999999999999", "must be from 0" },
	{ "num.partitions=0", "must be from 1 to 65536" },
	{ "num.partitions=65537", "must be from 1 to 65536" },
	{ "producer.unblock.ms=0", "must be from 1 to" },
	{ "log.roll.ms=-1", "must be from 0 to" },
	{ "log.retention.ms=-2", "must be -1 (no limit) or from 0 to" },
	{ "log.flush.interval.messages=0", "must be -1 (no limit) or from 1" },
	{ "log.flush.interval.ms=0", "must be -1 (no limit) or from 1" },
	{ "log.segment.bytes=511", "must be from 512 to 2147483647" },
	{ "log.segment.bytes=2G", "must be from 512 to 2147483647" },
	{ "log.level=verbose", "expected error, warn, info or debug" },
	{ "disk.full.policy=wait", "expected block or fail" },
	{ "log.dirs=", "must not be empty" },
	{ "log.dirs=/a,/b", "one directory only" },
	{ "metrics.bpf=maybe", "expected true or false" },
	{ "metrics.bpf=True", "expected true or false" },
	{ "metrics.bpf=", "expected true or false" },
	{ "metrics.bpf=2", "expected true or false" },
	{ "metrics.instance=", "must not be empty" },
	{ "metrics.instance=.", "must not be \".\" or \"..\"" },
	{ "metrics.instance=..", "must not be \".\" or \"..\"" },
	{ "metrics.instance=a/b", "'/' is not allowed: only letters, digits" },
	{ "metrics.instance=../x", "'/' is not allowed" },
	{ "metrics.instance=a b", "' ' is not allowed" },
	{ "metrics.instance=caf\xc3\xa9", "byte 0xc3 is not allowed" },
	{ "metrics.instance="
	  "0123456789012345678901234567890123456789012345678901234567890123"
	  "4",
	  "is 65 characters long; at most 64 are allowed" },
};

static void test_file_bad_values(void **state)
{
	struct sfd_config c;
	char err[ERRLEN], text[256], want[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const char *eq = strchr(bad_lines[i].line, '=');

		snprintf(text, sizeof(text), "log.dirs=/x\n%s\n",
			 bad_lines[i].line);
		assert_int_equal(parse_file(&c, text, err), -EINVAL);
		/* "file:2: key: invalid value "v": why" */
		snprintf(want, sizeof(want),
			 "t.properties:2: %.*s: invalid "
			 "value \"%s\": ",
			 (int)(eq - bad_lines[i].line), bad_lines[i].line,
			 eq + 1);
		assert_has(err, want);
		assert_has(err, bad_lines[i].why);
	}
}

static void test_size_suffixes(void **state)
{
	static const struct {
		const char *line;
		int64_t want;
	} good[] = {
		{ "ring.bytes=64K", 64 << 10 },
		{ "ring.bytes=64k", 64 << 10 },
		{ "ring.bytes=4m", 4 * MiB },
		{ "ring.bytes=1G", 1LL << 30 },
		{ "ring.bytes=1048576", MiB },
		{ "log.segment.bytes=512K", 512 << 10 },
		{ "log.segment.bytes=1000", 1000 },
		{ "log.retention.bytes=10G", 10LL << 30 },
		{ "log.retention.bytes=0", 0 },
		{ "log.retention.bytes=-1", -1 },
		{ "log.retention.bytes=8589934591G", 8589934591LL << 30 },
	};
	static const char *const bad[] = {
		"log.retention.bytes=1T",	   "log.retention.bytes=1KB",
		"log.retention.bytes=1.5M",	   "log.retention.bytes=-1K",
		"log.retention.bytes=K",	   "log.retention.bytes=1 K",
		"log.retention.bytes=8589934592G",
	};
	struct sfd_config c;
	char err[ERRLEN], text[128];
	int64_t got;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(parse_file(&c, good[i].line, err), 0);
		if (!strncmp(good[i].line, "ring", 4))
			got = (int64_t)c.topic.ring_bytes;
		else if (strstr(good[i].line, "segment"))
			got = c.topic.segment_bytes;
		else
			got = c.topic.retention_bytes;
		assert_int_equal(got, good[i].want);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "\n%s\n", bad[i]);
		assert_int_equal(parse_file(&c, text, err), -EINVAL);
		assert_has(err, ":2: log.retention.bytes: invalid value");
	}
	/* Overflow is a range error, not a syntax error. */
	assert_int_equal(parse_file(&c, "log.retention.bytes=8589934592G", err),
			 -EINVAL);
	assert_has(err, "must be -1 (no limit) or from 0 to");
	assert_int_equal(parse_file(&c, "log.retention.bytes=1T", err),
			 -EINVAL);
	assert_has(err, "optionally followed by K, M or G");
}

static void test_ring_bytes(void **state)
{
	static const char *const bad[] = {
		"ring.bytes=1000000", "ring.bytes=96K", "ring.bytes=32K",
		"ring.bytes=2G",      "ring.bytes=0",	"ring.bytes=65535",
		"ring.bytes=-1",
	};
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_file(&c, bad[i], err), -EINVAL);
		assert_has(err, "ring.bytes: invalid value");
		assert_has(err, "must be a power of two from 64K to 1G");
		assert_int_equal(c.topic.ring_bytes, 4 * MiB);
	}
	assert_int_equal(parse_file(&c, "ring.bytes=131072", err), 0);
	assert_int_equal(c.topic.ring_bytes, 128 << 10);
}

static void test_octal_mode(void **state)
{
	static const struct {
		const char *val;
		uint32_t mode;
	} good[] = { { "0640", 0640 },
		     { "640", 0640 },
		     { "0", 0 },
		     { "0777", 0777 },
		     { "00600", 0600 } };
	static const char *const bad[] = { "0800",	"1000", "-1",	"0x1a4",
					   "rw-r-----", "",	"06 40" };
	struct sfd_config c;
	char err[ERRLEN], text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "topic.mode=%s", good[i].val);
		assert_int_equal(parse_file(&c, text, err), 0);
		assert_int_equal(c.topic.mode, good[i].mode);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "topic.mode=%s", bad[i]);
		assert_int_equal(parse_file(&c, text, err), -EINVAL);
		assert_has(err, ":1: topic.mode: invalid value");
	}
	assert_int_equal(parse_file(&c, "topic.mode=0800", err), -EINVAL);
	assert_has(err, "expected an octal mode");
	assert_int_equal(parse_file(&c, "topic.mode=1000", err), -EINVAL);
	assert_has(err, "must be from 0000 to 0777");
}

static void test_levels_and_policy(void **state)
{
	static const struct {
		const char *s;
		enum sfd_level level;
	} good[] = { { "error", SFD_ERROR }, { "warn", SFD_WARN },
		     { "info", SFD_INFO },   { "debug", SFD_DEBUG },
		     { "DEBUG", SFD_DEBUG }, { "Warn", SFD_WARN } };
	enum sfd_level l;
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(sfd_level_parse(good[i].s, &l), 0);
		assert_int_equal(l, good[i].level);
	}
	assert_int_equal(sfd_level_parse("trace", &l), -EINVAL);
	assert_int_equal(sfd_level_parse("", &l), -EINVAL);
	assert_int_equal(sfd_level_parse("inf", &l), -EINVAL);

	assert_int_equal(parse_file(&c, "log.level=error\n", err), 0);
	assert_int_equal(c.log_level, SFD_ERROR);
	assert_int_equal(parse_file(&c, "disk.full.policy=block", err), 0);
	assert_true(c.full_disk_block);
	assert_int_equal(parse_file(&c,
				    "disk.full.policy=block\n"
				    "disk.full.policy=fail",
				    err),
			 0);
	assert_false(c.full_disk_block);
}

static void test_metrics_bpf(void **state)
{
	static const struct {
		const char *val;
		bool on;
	} good[] = { { "true", true }, { "false", false }, { "on", true },
		     { "off", false }, { "yes", true },	   { "no", false },
		     { "1", true },    { "0", false } };
	struct sfd_config c;
	char err[ERRLEN], text[64];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(text, sizeof(text), "metrics.bpf = %s\n", good[i].val);
		assert_int_equal(parse_file(&c, text, err), 0);
		assert_int_equal(c.metrics_bpf, good[i].on);
	}
	assert_int_equal(parse_file(&c,
				    "metrics.bpf=false\n"
				    "metrics.bpf=true\n",
				    err),
			 0);
	assert_true(c.metrics_bpf);
	/* The flag is no key. */
	assert_int_equal(parse_file(&c, "no-bpf=true\n", err), -EINVAL);
	assert_has(err, ":1: unknown key \"no-bpf\"");
	assert_int_equal(sfd_config_set(&c, "no-bpf", "1", err, ERRLEN),
			 -ENOENT);
}

static void test_metrics_instance(void **state)
{
	static const char name64[] = "0123456789012345678901234567890123456789"
				     "012345678901234567890123";
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse_file(&c, "metrics.instance=bus-1.A_b\n", err),
			 0);
	assert_string_equal(c.metrics_instance, "bus-1.A_b");
	assert_int_equal(
		sfd_config_set(&c, "metrics.instance", name64, err, ERRLEN), 0);
	assert_string_equal(c.metrics_instance, name64);
	assert_int_equal(parse_file(&c, "metrics.instance=...\n", err), 0);
	assert_string_equal(c.metrics_instance, "...");
	/* A refused value leaves the setting alone. */
	assert_int_equal(sfd_config_set(&c, "metrics.instance", "..", err,
					ERRLEN),
			 -EINVAL);
	assert_has(err, "metrics.instance: invalid value \"..\": must not be");
	assert_string_equal(c.metrics_instance, "...");
	assert_int_equal(sfd_config_set(&c, "metrics.instance", "a\tb", err,
					ERRLEN),
			 -EINVAL);
	assert_has(err, "byte 0x09 is not allowed");
}

/* The instance's name, with @run_dir as run.dir and no metrics.instance. */
static const char *derived(struct sfd_config *c, const char *run_dir, char *buf,
			   size_t len)
{
	sfd_config_init(c);
	snprintf(c->run_dir, sizeof(c->run_dir), "%s", run_dir);
	return sfd_config_instance(c, buf, len);
}

static void test_instance_derived(void **state)
{
	static const char *const cases[][2] = {
		{ "/dev/shm/sfshm-default", "sfshm-default" },
		{ "/dev/shm/sfshm-b/", "sfshm-b" },
		{ "/dev/shm/sfshm-b///", "sfshm-b" },
		{ "/dev/shm/my bus:1+\xc3\xa9", "my_bus_1___" },
		{ "relative", "relative" },
		{ "run/x.y_z-1", "x.y_z-1" },
		{ "/", "_" },
		{ "///", "_" },
		{ "/dev/shm/.", "_" },
		{ "/dev/shm/../", "__" },
		{ "/dev/shm/...", "..." },
	};
	struct sfd_config c;
	char buf[SFD_INSTANCE_MAX + 1], dir[200];

	(void)state;
	sfd_config_init(&c);
	assert_ptr_equal(sfd_config_instance(&c, buf, sizeof(buf)), buf);
	assert_string_equal(buf, "sfshm-default");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(derived(&c, cases[i][0], buf, sizeof(buf)),
				    cases[i][1]);

	/* Cut to 64, or to the buffer. */
	memset(dir, 'd', sizeof(dir) - 1);
	dir[0] = '/';
	dir[sizeof(dir) - 1] = '\0';
	assert_int_equal(strlen(derived(&c, dir, buf, sizeof(buf))), 64);
	assert_string_equal(derived(&c, "/dev/shm/sfshm-b", buf, 4), "sfs");
	assert_string_equal(derived(&c, "/dev/shm/..", buf, 2), "_");
	assert_string_equal(derived(&c, "/dev/shm/x", buf, 1), "");

	/* metrics.instance, when set, is the name. */
	sfd_config_init(&c);
	assert_int_equal(
		sfd_config_set(&c, "metrics.instance", "mine", NULL, 0), 0);
	assert_string_equal(sfd_config_instance(&c, buf, sizeof(buf)), "mine");
	assert_int_equal(sfd_config_set(&c, "metrics.instance", "..x", NULL, 0),
			 0);
	assert_string_equal(sfd_config_instance(&c, buf, 3), "__");
}

/* Kafka: log.retention.ms > .minutes > .hours, whatever the order. */
static void test_retention_units(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse_file(&c, "log.retention.hours=2", err), 0);
	assert_int_equal(c.topic.retention_ms, 2 * 3600 * 1000);
	assert_int_equal(parse_file(&c, "log.retention.minutes=3", err), 0);
	assert_int_equal(c.topic.retention_ms, 3 * 60 * 1000);
	assert_int_equal(parse_file(&c, "log.retention.hours=-1", err), 0);
	assert_int_equal(c.topic.retention_ms, -1);

	assert_int_equal(parse_file(&c,
				    "log.retention.ms=1000\n"
				    "log.retention.hours=5\n"
				    "log.retention.minutes=5\n",
				    err),
			 0);
	assert_int_equal(c.topic.retention_ms, 1000);
	assert_int_equal(parse_file(&c,
				    "log.retention.minutes=7\n"
				    "log.retention.hours=5\n",
				    err),
			 0);
	assert_int_equal(c.topic.retention_ms, 7 * 60 * 1000);
	assert_int_equal(parse_file(&c,
				    "log.retention.hours=5\n"
				    "log.retention.ms=42\n",
				    err),
			 0);
	assert_int_equal(c.topic.retention_ms, 42);

	/* An ignored key is still checked. */
	assert_int_equal(parse_file(&c,
				    "log.retention.ms=1\n"
				    "log.retention.hours=x\n",
				    err),
			 -EINVAL);
	assert_has(err, ":2: log.retention.hours: invalid value \"x\"");
	assert_int_equal(parse_file(&c, "log.retention.hours=-2", err),
			 -EINVAL);
	assert_int_equal(parse_file(&c, "log.retention.hours=9999999999", err),
			 -EINVAL);
	assert_has(err, "must be -1 (no limit) or from 0 to 2562047");

	/* Flags override the file, even with a less precise unit. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--config",
			       (char *)write_file("r.properties",
						  "log.retention.ms=1000\n"),
			       "--log.retention.hours=1"),
			 0);
	assert_int_equal(c.topic.retention_ms, 3600 * 1000);
}

static void test_string_limits(void **state)
{
	struct sfd_config c;
	char err[ERRLEN], text[400], dir[300];

	(void)state;
	/* <run.dir>/sfshmd.sock must fit in sun_path (108 bytes). */
	memset(dir, 'r', sizeof(dir));
	dir[0] = '/';
	snprintf(text, sizeof(text), "run.dir=%.95s", dir);
	assert_int_equal(parse_file(&c, text, err), 0);
	assert_int_equal(strlen(c.run_dir), 95);
	snprintf(text, sizeof(text), "run.dir=%.96s", dir);
	assert_int_equal(parse_file(&c, text, err), -EINVAL);
	assert_has(err, "is 96 characters long; at most 95 fit");

	snprintf(text, sizeof(text), "log.dirs=%.255s", dir);
	assert_int_equal(parse_file(&c, text, err), 0);
	assert_int_equal(strlen(c.data_dir), 255);
	snprintf(text, sizeof(text), "log.dirs=%.256s", dir);
	assert_int_equal(parse_file(&c, text, err), -EINVAL);
	assert_has(err, "is 256 characters long; at most 255 are allowed");
}

static void test_file_unreadable(void **state)
{
	struct sfd_config c;
	char err[ERRLEN], path[256];
	static const char nul[] = "log.dirs=/x\nbroker.id=1\0\n";
	FILE *f;

	(void)state;
	sfd_config_init(&c);
	snprintf(path, sizeof(path), "%s/missing.properties", tmp_dir);
	assert_int_equal(sfd_config_parse_file(&c, path, err, ERRLEN), -ENOENT);
	assert_has(err, "cannot open config file");
	assert_has(err, "missing.properties");
	assert_has(err, "No such file or directory");

	assert_int_equal(sfd_config_parse_file(&c, tmp_dir, err, ERRLEN),
			 -EISDIR);
	assert_has(err, "cannot read config file");

	snprintf(path, sizeof(path), "%s/nul.properties", tmp_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(nul, 1, sizeof(nul) - 1, f), sizeof(nul) - 1);
	fclose(f);
	assert_int_equal(sfd_config_parse_file(&c, path, err, ERRLEN), -EINVAL);
	assert_has(err, "nul.properties:2: a NUL byte");

	/* Through the command line, any failure is -EINVAL. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "-c",
			       "/nonexistent/sfshmd.properties"),
			 -EINVAL);
	assert_has(err, "cannot open config file "
			"\"/nonexistent/sfshmd.properties\"");
}

/* ---- the command line ------------------------------------------------- */

static void test_flags_override_file(void **state)
{
	const char *path = write_file("o.properties", "log.dirs=/file\n"
						      "broker.id=3\n"
						      "ring.bytes=1M\n"
						      "log.level=warn\n"
						      "num.partitions=2\n");
	char arg[300], err[ERRLEN];
	struct sfd_config c;

	(void)state;
	/* --config last: the flags before it still win. */
	assert_int_equal(PARSE(&c, err, "--broker-id", "9", "--ring.bytes=2M",
			       "--config", (char *)path),
			 0);
	assert_string_equal(c.config_file, path);
	assert_string_equal(c.data_dir, "/file");
	assert_int_equal(c.broker_id, 9);
	assert_int_equal(c.topic.ring_bytes, 2 * MiB);
	assert_int_equal(c.log_level, SFD_WARN);
	assert_int_equal(c.topic.partitions, 2);

	/* --config first, other spellings. */
	snprintf(arg, sizeof(arg), "--config=%s", path);
	assert_int_equal(PARSE(&c, err, arg, "--data-dir=/flag", "--log.level",
			       "debug"),
			 0);
	assert_string_equal(c.data_dir, "/flag");
	assert_int_equal(c.log_level, SFD_DEBUG);
	assert_int_equal(c.broker_id, 3);

	snprintf(arg, sizeof(arg), "-c%s", path);
	assert_int_equal(PARSE(&c, err, arg, "--num.partitions=8"), 0);
	assert_int_equal(c.topic.partitions, 8);
	assert_int_equal(PARSE(&c, err, "-c", (char *)path), 0);
	assert_int_equal(c.topic.partitions, 2);

	/* The last --config is the one read. */
	assert_int_equal(
		PARSE(&c, err, "-c", "/nonexistent", "-c", (char *)path), 0);
	assert_string_equal(c.config_file, path);
}

static void test_flag_forms(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&c, err, "--log.dirs", "/a", "--run.dir=/r",
			       "--log.retention.bytes", "-1", "--topic.mode",
			       "0600", "--log-level=error",
			       "--disk.full.policy", "block",
			       "--log.flush.interval.messages=-1",
			       "--broker.id=4", "--broker-id=5"),
			 0);
	assert_string_equal(c.data_dir, "/a");
	assert_string_equal(c.run_dir, "/r");
	assert_int_equal(c.topic.retention_bytes, -1);
	assert_int_equal(c.topic.mode, 0600);
	assert_int_equal(c.log_level, SFD_ERROR);
	assert_true(c.full_disk_block);
	assert_int_equal(c.broker_id, 5); /* an alias is the same setting */
	assert_string_equal(c.config_file, "");

	/* A value may contain '='; "--x=" is an empty value. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/a=b"), 0);
	assert_string_equal(c.data_dir, "/a=b");
	assert_int_equal(PARSE(&c, err, "--data-dir=/a", "--run-dir="),
			 -EINVAL);
	assert_has(err, "--run-dir: invalid value \"\": must not be empty");
}

static void test_no_bpf(void **state)
{
	const char *on = write_file("bpf-on.properties", "log.dirs=/d\n"
							 "metrics.bpf=true\n");
	const char *off = write_file("bpf-off.properties",
				     "log.dirs=/d\n"
				     "metrics.bpf=false\n");
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	/* Flags override the file, wherever --config stands. */
	assert_int_equal(PARSE(&c, err, "-c", (char *)on, "--no-bpf"), 0);
	assert_false(c.metrics_bpf);
	assert_int_equal(PARSE(&c, err, "--no-bpf", "-c", (char *)on), 0);
	assert_false(c.metrics_bpf);
	assert_int_equal(PARSE(&c, err, "-c", (char *)on), 0);
	assert_true(c.metrics_bpf);
	assert_int_equal(
		PARSE(&c, err, "--metrics.bpf=true", "-c", (char *)off), 0);
	assert_true(c.metrics_bpf);

	/* Among flags, the last one wins. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--no-bpf",
			       "--metrics.bpf=true"),
			 0);
	assert_true(c.metrics_bpf);
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--metrics.bpf", "on",
			       "--no-bpf"),
			 0);
	assert_false(c.metrics_bpf);
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--metrics.bpf=no"),
			 0);
	assert_false(c.metrics_bpf);

	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--no-bpf=1"),
			 -EINVAL);
	assert_has(err, "--no-bpf takes no value");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--no-bfp"), -EINVAL);
	assert_has(err, "did you mean --no-bpf?");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--metrics.bpf=off!"),
			 -EINVAL);
	assert_has(err, "--metrics.bpf: invalid value \"off!\": expected "
			"true or false");
	/* A value after --no-bpf is a stray argument, not its value. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--no-bpf", "false"),
			 -EINVAL);
	assert_has(err, "unexpected argument \"false\"");
}

static void test_instance_flags(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--instance", "b"), 0);
	assert_string_equal(c.metrics_instance, "b");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--metrics.instance=a",
			       "--instance=c"),
			 0);
	assert_string_equal(c.metrics_instance, "c");

	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--instance=.."),
			 -EINVAL);
	assert_has(err, "--instance: invalid value \"..\": must not be");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--metrics.instance",
			       "a/b"),
			 -EINVAL);
	assert_has(err, "--metrics.instance: invalid value \"a/b\": '/' is "
			"not allowed");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--instance="),
			 -EINVAL);
	assert_has(err, "--instance: invalid value \"\": must not be empty");
	assert_string_equal(c.metrics_instance, "");
}

static void test_flag_errors(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--bogus=1"), -EINVAL);
	assert_has(err, "unknown option \"--bogus\"");
	assert_int_equal(PARSE(&c, err, "--ring.byte=1M"), -EINVAL);
	assert_has(err, "unknown option \"--ring.byte\" (did you mean "
			"--ring.bytes?)");
	assert_int_equal(PARSE(&c, err, "--data-dri", "/x"), -EINVAL);
	assert_has(err, "did you mean --data-dir?");
	assert_int_equal(PARSE(&c, err, "-x"), -EINVAL);
	assert_has(err, "unknown option \"-x\"");
	assert_int_equal(PARSE(&c, err, "-hV"), -EINVAL);
	assert_has(err, "unknown option \"-hV\"");

	assert_int_equal(PARSE(&c, err, "--data-dir"), -EINVAL);
	assert_has(err, "--data-dir needs a value");
	assert_int_equal(PARSE(&c, err, "-c"), -EINVAL);
	assert_has(err, "-c needs a value");
	assert_int_equal(PARSE(&c, err, "--data-dir", "--run-dir", "/x"),
			 -EINVAL);
	assert_has(err, "--data-dir needs a value");
	assert_int_equal(PARSE(&c, err, "--help=yes"), -EINVAL);
	assert_has(err, "--help takes no value");

	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "stray"), -EINVAL);
	assert_has(err, "unexpected argument \"stray\"");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--", "x"), -EINVAL);
	assert_has(err, "unexpected argument \"--\"");
	assert_int_equal(PARSE(&c, err, "-"), -EINVAL);

	/* A bad value names the flag as typed. */
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--ring.bytes=100"),
			 -EINVAL);
	assert_has(err, "--ring.bytes: invalid value \"100\": must be a "
			"power of two");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "--broker-id", "x"),
			 -EINVAL);
	assert_has(err, "--broker-id: invalid value \"x\": expected a whole "
			"number");
	assert_int_equal(PARSE(&c, err, "--data-dir=/d", "-c",
			       (char *)write_file("bad.properties",
						  "\n\nring.bytes=3\n")),
			 -EINVAL);
	assert_has(err, "bad.properties:3: ring.bytes: invalid value \"3\"");
}

static void test_missing_data_dir(void **state)
{
	char *argv[] = { "sfshmd", NULL };
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	assert_int_equal(parse_argv(&c, err, argv), -EINVAL);
	assert_has(err, "no data directory");
	assert_has(err, "--data-dir");
	assert_has(err, "log.dirs");
	assert_int_equal(PARSE(&c, err, "--run-dir=/r", "--broker-id=1"),
			 -EINVAL);
	assert_has(err, "no data directory");
	/* No argv[0] at all. */
	sfd_config_init(&c);
	assert_int_equal(sfd_config_parse_args(&c, 0, argv, err, ERRLEN),
			 -EINVAL);
}

static void test_help(void **state)
{
	static const char *const want[] = {
		"NAME\n",
		"SYNOPSIS\n",
		"DESCRIPTION\n",
		"OPTIONS\n",
		"FILES\n",
		"SIGNALS\n",
		"EXIT STATUS\n",
		"EXAMPLES\n",
		"-c FILE, --config=FILE",
		"-h, --help",
		"-V, --version",
		"--data-dir=DIR, --log.dirs=DIR",
		"sfshmd.sock",
		"sfshmd.lock",
		"<topic>-<p>.ring",
		"<topic>-<p>.ctl",
		"DATA_DIR/<topic>-<p>/",
		"DATA_DIR/meta/",
		"SIGTERM",
		"SIGINT",
		"Default: 4M.",
		"Default: 0660.",
		"Default: /dev/shm/sfshm-default.",
		"Default: fail.",
		"Default: info.",
		"Default: true.",
		"       --no-bpf\n",
		"--instance=NAME, --metrics.instance=NAME",
		"Default: the last component of run.dir (sfshm-default).",
		"CAP_BPF",
		"/sys/fs/bpf/sfshm/INSTANCE/",
	};
	static const char *const keys[] = {
		"log.dirs",
		"run.dir",
		"broker.id",
		"log.level",
		"producer.unblock.ms",
		"log.retention.check.interval.ms",
		"disk.full.policy",
		"metrics.bpf",
		"metrics.instance",
		"num.partitions",
		"ring.bytes",
		"log.segment.bytes",
		"log.roll.ms",
		"log.retention.bytes",
		"log.retention.ms",
		"log.retention.minutes",
		"log.retention.hours",
		"log.flush.interval.messages",
		"log.flush.interval.ms",
		"topic.mode",
	};
	struct capture cap;
	struct sfd_config c;
	char err[ERRLEN], flag[64], *out, *line;
	int ret;

	(void)state;
	capture_begin(&cap, STDOUT_FILENO);
	ret = PARSE(&c, err, "--ring.bytes=3", "--help"); /* help wins */
	out = capture_end(&cap);
	assert_int_equal(ret, 1);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_has(out, want[i]);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		snprintf(flag, sizeof(flag), "--%s=", keys[i]);
		assert_has(out, flag);
	}
	/* Fits a terminal. */
	for (line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		assert_in_range(strlen(line), 1, 80);
	free(out);

	capture_begin(&cap, STDOUT_FILENO);
	ret = PARSE(&c, err, "-h");
	out = capture_end(&cap);
	assert_int_equal(ret, 1);
	assert_has(out, "SYNOPSIS");
	free(out);

	capture_begin(&cap, STDOUT_FILENO);
	ret = PARSE(&c, err, "-V");
	out = capture_end(&cap);
	assert_int_equal(ret, 1);
	assert_string_equal(out, SFD_VERSION_STRING "\n");
	free(out);
	capture_begin(&cap, STDOUT_FILENO);
	ret = PARSE(&c, err, "--version");
	out = capture_end(&cap);
	assert_int_equal(ret, 1);
	assert_string_equal(out, SFD_VERSION_STRING "\n");
	free(out);
}

/* ---- sfd_config_set() and the dump ----------------------------------- */

static void test_set(void **state)
{
	struct sfd_config c;
	char err[ERRLEN];

	(void)state;
	sfd_config_init(&c);
	assert_int_equal(sfd_config_set(&c, "ring.bytes", "8M", err, ERRLEN),
			 0);
	assert_int_equal(c.topic.ring_bytes, 8 * MiB);
	assert_int_equal(sfd_config_set(&c, "ring.byte", "8M", err, ERRLEN),
			 -ENOENT);
	assert_has(err, "unknown key \"ring.byte\"");
	assert_int_equal(sfd_config_set(&c, "config", "/x", err, ERRLEN),
			 -ENOENT);
	assert_int_equal(sfd_config_set(&c, "data-dir", "/x", err, ERRLEN),
			 -ENOENT);
	assert_int_equal(sfd_config_set(&c, "ring.bytes", "5M", err, ERRLEN),
			 -EINVAL);
	assert_has(err, "ring.bytes: invalid value \"5M\"");
	assert_int_equal(c.topic.ring_bytes, 8 * MiB); /* unchanged */
	/* No room for a message is fine. */
	assert_int_equal(sfd_config_set(&c, "ring.bytes", "5M", NULL, 0),
			 -EINVAL);
	assert_int_equal(sfd_config_set(&c, "nope", "5M", NULL, 0), -ENOENT);
	/* A tiny buffer is cut, still terminated. */
	assert_int_equal(sfd_config_set(&c, "ring.bytes", "5M", err, 8),
			 -EINVAL);
	assert_int_equal(strlen(err), 7);
}

static void test_dump_roundtrip(void **state)
{
	static const char *const kv[][2] = {
		{ "log.dirs", "/var/lib/sfshm" },
		{ "run.dir", "/dev/shm/sfshm-rt" },
		{ "broker.id", "12" },
		{ "log.level", "warn" },
		{ "producer.unblock.ms", "1500" },
		{ "log.retention.check.interval.ms", "1000" },
		{ "disk.full.policy", "block" },
		{ "metrics.bpf", "off" },
		{ "metrics.instance", "rt.1" },
		{ "num.partitions", "6" },
		{ "ring.bytes", "8M" },
		{ "log.segment.bytes", "1536K" },
		{ "log.roll.ms", "3600000" },
		{ "log.retention.bytes", "1000000" },
		{ "log.retention.minutes", "90" },
		{ "log.flush.interval.messages", "500" },
		{ "log.flush.interval.ms", "-1" },
		{ "topic.mode", "0640" },
	};
	struct sfd_config a, b;
	char err[ERRLEN], path[256], *out;
	struct capture cap;

	(void)state;
	sfd_config_init(&a);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_int_equal(
			sfd_config_set(&a, kv[i][0], kv[i][1], err, ERRLEN), 0);
	capture_begin(&cap, STDOUT_FILENO);
	sfd_config_dump(&a, stdout);
	out = capture_end(&cap);
	assert_has(out, "ring.bytes=8M\n");
	assert_has(out, "log.segment.bytes=1536K\n");
	assert_has(out, "log.retention.bytes=1000000\n");
	assert_has(out, "log.retention.ms=5400000\n");
	assert_has(out, "topic.mode=0640\n");
	assert_has(out, "disk.full.policy=block\n");
	assert_has(out, "log.level=warn\n");
	assert_has(out, "\nmetrics.bpf=false\n");
	assert_has(out, "\nmetrics.instance=rt.1\n");
	assert_null(strstr(out, "hours"));
	assert_null(strstr(out, "no-bpf"));
	assert_null(strstr(out, "# config file"));

	/* Read back as a file: the same settings, byte for byte. */
	snprintf(path, sizeof(path), "%s", write_file("dump.properties", out));
	free(out);
	sfd_config_init(&b);
	assert_int_equal(sfd_config_parse_file(&b, path, err, ERRLEN), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* The defaults too (with a data dir); the config file is noted. */
	sfd_config_init(&a);
	assert_int_equal(sfd_config_set(&a, "log.dirs", "/d", err, ERRLEN), 0);
	snprintf(a.config_file, sizeof(a.config_file), "%s", path);
	capture_begin(&cap, STDOUT_FILENO);
	sfd_config_dump(&a, stdout);
	out = capture_end(&cap);
	assert_has(out, "# config file: ");
	assert_has(out, "\nmetrics.bpf=true\n");
	/* Unset: a comment naming the instance run.dir gives. */
	assert_has(out, "\n# metrics.instance=sfshm-default (unset: the last "
			"component of run.dir)\n");
	write_file("dump.properties", out);
	free(out);
	sfd_config_init(&b);
	assert_int_equal(sfd_config_parse_file(&b, path, err, ERRLEN), 0);
	memset(a.config_file, 0, sizeof(a.config_file));
	assert_memory_equal(&a, &b, sizeof(a));
}

/* ---- log lines --------------------------------------------------------- */

static char *log_capture(enum sfd_level set, void (*fn)(void))
{
	struct capture cap;

	sfd_log_set_level(set);
	capture_begin(&cap, STDERR_FILENO);
	fn();
	return capture_end(&cap);
}

static void log_two(void)
{
	sfd_logf(SFD_INFO, "persist", -ENOSPC, "text %d", 5);
	sfd_logf(SFD_ERROR, "main", 0, "%s", "bye");
}

static void assert_match(const char *s, const char *re)
{
	regex_t r;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, s, 0, NULL, 0))
		fail_msg("\"%s\" does not match /%s/", s, re);
	regfree(&r);
}

static void test_log_format(void **state)
{
	struct tm tm = { 0 };
	time_t now = time(NULL), t;
	char *out;

	(void)state;
	out = log_capture(SFD_INFO, log_two);
	assert_match(out, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			  "[0-9]{2}\\.[0-9]{3}Z INFO  persist: text 5: No "
			  "space left on device\n"
			  "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
			  "[0-9]{2}\\.[0-9]{3}Z ERROR main: bye\n$");
	/* UTC, now. */
	assert_non_null(strptime(out, "%Y-%m-%dT%H:%M:%S", &tm));
	t = timegm(&tm);
	assert_in_range(t, now - 5, now + 5);
	free(out);
	sfd_log_set_level(SFD_INFO);
}

static void log_each_level(void)
{
	errno = 1234;
	sfd_error("t", -EIO, "e%d", 1);
	sfd_warn("t", 0, "w%d", 2);
	sfd_info("t", "i%d", 3);
	sfd_debug("t", "d%d", 4);
	assert_int_equal(errno, 1234); /* untouched */
}

static void test_log_levels(void **state)
{
	char *out;

	(void)state;
	out = log_capture(SFD_WARN, log_each_level);
	assert_has(out, "Z ERROR t: e1: Input/output error\n");
	assert_has(out, "Z WARN  t: w2\n");
	assert_null(strstr(out, "i3"));
	assert_null(strstr(out, "d4"));
	free(out);

	out = log_capture(SFD_DEBUG, log_each_level);
	assert_has(out, "Z INFO  t: i3\n");
	assert_has(out, "Z DEBUG t: d4\n");
	free(out);

	out = log_capture(SFD_ERROR, log_each_level);
	assert_has(out, "e1");
	assert_null(strstr(out, "w2"));
	free(out);

	out = log_capture(SFD_INFO, log_each_level);
	assert_has(out, "i3");
	assert_null(strstr(out, "d4"));
	free(out);
}

static void log_awkward(void)
{
	static char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	sfd_logf(SFD_INFO, "ctl", 0, "two\nlines\r\tand a tab");
	sfd_logf(SFD_INFO, "ctl", -ENOENT, "%s", big);
	sfd_logf(SFD_WARN, NULL, 5, "positive errno");
}

static void test_log_one_line(void **state)
{
	char *out, *l2, *l3;

	(void)state;
	out = log_capture(SFD_INFO, log_awkward);
	assert_has(out, "Z INFO  ctl: two lines \tand a tab\n");
	l2 = strchr(out, '\n') + 1;
	l3 = strchr(l2, '\n') + 1;
	/* The long one is cut to one line that says so. */
	assert_in_range(l3 - l2, 200, 1024);
	assert_memory_equal(l3 - 4, "...\n", 4);
	assert_has(l3, "Z WARN  sfshmd: positive errno: Input/output "
		       "error\n");
	assert_null(strchr(strchr(l3, '\n') + 1, '\n'));
	free(out);
	sfd_log_set_level(SFD_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_file_syntax),
		cmocka_unit_test(test_file_unknown_key),
		cmocka_unit_test(test_file_bad_values),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_ring_bytes),
		cmocka_unit_test(test_octal_mode),
		cmocka_unit_test(test_levels_and_policy),
		cmocka_unit_test(test_metrics_bpf),
		cmocka_unit_test(test_metrics_instance),
		cmocka_unit_test(test_instance_derived),
		cmocka_unit_test(test_retention_units),
		cmocka_unit_test(test_string_limits),
		cmocka_unit_test(test_file_unreadable),
		cmocka_unit_test(test_flags_override_file),
		cmocka_unit_test(test_flag_forms),
		cmocka_unit_test(test_no_bpf),
		cmocka_unit_test(test_instance_flags),
		cmocka_unit_test(test_flag_errors),
		cmocka_unit_test(test_missing_data_dir),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_set),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_log_format),
		cmocka_unit_test(test_log_levels),
		cmocka_unit_test(test_log_one_line),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
