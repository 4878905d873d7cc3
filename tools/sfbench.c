// SPDX-License-Identifier: MIT
/*
 * sfbench.c - the sfshm benchmark tool: `sfbench <command> [options]`.
 *
 * This file holds the command table, the tool's own help, and the parsers
 * for option values that every command shares (counts, byte sizes with
 * K/M/G suffixes, seconds, comma-separated lists).  A command is a function
 * that takes its own argc/argv (argv[0] is the command name) and returns
 * the process exit status:
 *
 *   0  success
 *   1  the benchmark failed at run time (a library call failed, or a
 *      reader saw a lost, duplicated, reordered or corrupt record)
 *   2  usage error (bad option or value); nothing was measured
 *
 * The build compiles tools/sfbench.c with tools/sfbench_*.c; what they
 * share is declared once, in tools/sfbench.h.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "sfbench.h"

struct command {
	const char *name;
	const char *summary;
	int (*main)(int argc, char **argv);
	void (*help)(FILE *f);
};

static const struct command commands[] = {
	{ "ring",
	  "partition ring throughput and latency, with a UNIX "
	  "socket baseline",
	  sfbench_ring_main, sfbench_ring_help },
	{ "daemon",
	  "a real sfshmd: persisting, durable acks, catch-up reads, "
	  "recovery, idle CPU",
	  sfbench_daemon_main, sfbench_daemon_help },
	{ "group",
	  "consumer groups on sfshmd: failover, join storm, steady CPU",
	  sfbench_group_main, sfbench_group_help },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void tool_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfbench - benchmarks for the sfshm shared-memory message bus\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfbench <command> [options]\n"
	      "    sfbench help [command]\n"
	      "    sfbench <command> --help\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    sfbench measures the sfshm building blocks on this machine and\n"
	      "    compares them with what the kernel offers without sfshm.  Each\n"
	      "    command prints aligned tables (or one JSON document with\n"
	      "    --json) and checks the data it moves, so that a broken build\n"
	      "    fails instead of reporting a fast number.\n"
	      "\n"
	      "COMMANDS\n",
	      f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "    %-12s%s\n", commands[i].name,
			commands[i].summary);
	fputs("\n"
	      "OPTIONS\n"
	      "    -h, --help    print this text and exit\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0  success\n"
	      "    1  run-time failure: a library call failed, a worker stalled,\n"
	      "       or a reader saw a lost, duplicated, reordered or corrupt\n"
	      "       record (the message on stderr says which)\n"
	      "    2  usage error: unknown command, bad option or value\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfbench ring --quick          smoke test (a few seconds)\n"
	      "    sfbench ring                  the full ring benchmark\n"
	      "    sfbench help ring             what `ring` measures and how\n"
	      "    sfbench daemon --quick        smoke test of sfshmd (seconds)\n"
	      "    sfbench daemon --cpu 0,1      the full daemon benchmark\n"
	      "    sfbench group --quick         smoke test of consumer groups\n"
	      "    sfbench group --cpu 0,1       the full consumer-group benchmark\n",
	      f);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static bool is_help(const char *arg)
{
	return !strcmp(arg, "-h") || !strcmp(arg, "--help");
}

/* `sfbench help [command]`. */
static int help_command(int argc, char **argv)
{
	const struct command *c;

	if (argc < 3) {
		tool_help(stdout);
		return 0;
	}
	c = find_command(argv[2]);
	if (!c) {
		fprintf(stderr,
			"sfbench: no such command: '%s'\n"
			"Try 'sfbench --help'.\n",
			argv[2]);
		return 2;
	}
	c->help(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		fputs("sfbench: missing command\n"
		      "Usage: sfbench <command> [options]; "
		      "try 'sfbench --help'.\n",
		      stderr);
		return 2;
	}
	if (is_help(argv[1])) {
		tool_help(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "help"))
		return help_command(argc, argv);
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr,
			"sfbench: unknown command '%s'\n"
			"Try 'sfbench --help'.\n",
			argv[1]);
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}

/* ---- option values -------------------------------------------------------- */

/**
 * sfb_usage() - report a usage error of command @cmd.
 * Return: 2, the usage-error exit status, for `return sfb_usage(...)`.
 */
int sfb_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sfbench %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sfbench %s --help'.\n", cmd);
	return 2;
}

/* Decimal digits only: strtoull alone would take "-1", " 7" and "0x10". */
static int parse_digits(const char *s, const char **end, uint64_t *out)
{
	unsigned long long v;
	char *e;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno)
		return -ERANGE;
	*end = e;
	*out = v;
	return 0;
}

/**
 * sfb_parse_u64() - a plain decimal count.
 * Return: 0, -EINVAL (not a number) or -ERANGE.
 */
int sfb_parse_u64(const char *s, uint64_t *out)
{
	const char *end;
	int err = parse_digits(s, &end, out);

	if (!err && *end)
		err = -EINVAL;
	return err;
}

/* The multiplier of a binary suffix: "", K, M, G, with optional "i" / "iB"
 * / "B" (so 64K, 64KiB and 64KB are all 65536); 0 if not a suffix. */
static uint64_t suffix_mult(const char *s)
{
	uint64_t mult;

	switch (*s) {
	case '\0':
		return 1;
	case 'B':
		return s[1] ? 0 : 1;
	case 'k':
	case 'K':
		mult = 1ull << 10;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		break;
	default:
		return 0;
	}
	s++;
	if (*s == 'i')
		s++;
	if (*s == 'B')
		s++;
	return *s ? 0 : mult;
}

/**
 * sfb_parse_bytes() - a byte count with an optional binary suffix.
 * Return: 0, -EINVAL or -ERANGE.
 */
int sfb_parse_bytes(const char *s, uint64_t *out)
{
	const char *end;
	uint64_t v, mult;
	int err = parse_digits(s, &end, &v);

	if (err)
		return err;
	mult = suffix_mult(end);
	if (!mult)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/**
 * sfb_parse_seconds() - a positive duration: "1", "0.25", "250ms", "2s".
 * Return: 0, -EINVAL or -ERANGE (over an hour).
 */
int sfb_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	v = strtod(s, &end);
	if (!strcmp(end, "ms"))
		v /= 1000;
	else if (*end && strcmp(end, "s"))
		return -EINVAL;
	if (!isfinite(v) || v <= 0)
		return -EINVAL;
	if (v > 3600)
		return -ERANGE;
	*out = v;
	return 0;
}

/**
 * sfb_parse_list() - a comma-separated list of counts (or of byte sizes
 * if @bytes).
 * Return: the number of items stored in @out (at most @max); -EINVAL,
 * -ERANGE, or -E2BIG for more than @max items.
 */
int sfb_parse_list(const char *s, bool bytes, uint64_t *out, int max)
{
	char item[64];
	int n = 0;

	for (;;) {
		size_t len = strcspn(s, ",");
		int err;

		if (n == max)
			return -E2BIG;
		if (!len || len >= sizeof(item))
			return -EINVAL;
		memcpy(item, s, len);
		item[len] = '\0';
		err = bytes ? sfb_parse_bytes(item, &out[n]) :
			      sfb_parse_u64(item, &out[n]);
		if (err)
			return err;
		n++;
		if (!s[len])
			return n;
		s += len + 1;
	}
}

int sfb_opt_cpus(const char *cmd, const char *arg, int *cpus, int max,
		 int *ncpus)
{
	uint64_t v[SFB_MAX_CPUS];
	cpu_set_t allowed;
	int n = sfb_parse_list(arg, false, v,
			       max < SFB_MAX_CPUS ? max : SFB_MAX_CPUS);

	if (n < 0)
		return sfb_usage(cmd,
				 "--cpu: '%s' is not a list of CPU numbers "
				 "(e.g. 0,1)",
				 arg);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		CPU_ZERO(&allowed);
	for (int i = 0; i < n; i++) {
		if (v[i] >= CPU_SETSIZE || !CPU_ISSET((int)v[i], &allowed))
			return sfb_usage(cmd,
					 "--cpu: CPU %" PRIu64 " is not "
					 "available to this process",
					 v[i]);
		cpus[i] = (int)v[i];
	}
	*ncpus = n;
	return 0;
}

/* The index of the @len-byte name at @p in @names, or -1. */
static int name_index(const char *p, size_t len, const char *const *names,
		      int n)
{
	for (int i = 0; i < n; i++)
		if (strlen(names[i]) == len && !strncmp(p, names[i], len))
			return i;
	return -1;
}

int sfb_opt_only(const char *cmd, const char *arg, const char *const *names,
		 int n, unsigned int *parts)
{
	char list[256] = "";

	for (int i = 0; i < n; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", names[i]);
	*parts = 0;
	for (const char *p = arg; *p;) {
		size_t len = strcspn(p, ",");
		int i = name_index(p, len, names, n);

		if (i < 0)
			return sfb_usage(cmd,
					 "--only: '%s' is not a list of %s",
					 arg, list);
		*parts |= 1u << i;
		p += len + (p[len] == ',');
	}
	return *parts ? 0 : sfb_usage(cmd, "--only: nothing selected");
}

int sfb_opt_count(const char *cmd, const char *name, const char *arg,
		  uint64_t min, uint64_t max, uint64_t *out)
{
	if (sfb_parse_u64(arg, out) || *out < min || *out > max)
		return sfb_usage(cmd,
				 "%s: '%s' is not a count from %" PRIu64
				 " to %" PRIu64,
				 name, arg, min, max);
	return 0;
}

void sfb_goals_print(const struct sfb_goal *g, int n)
{
	printf("\nGoals\n%-46s %-44s %s\n", "goal", "measured", "status");
	for (int i = 0; i < n; i++)
		printf("%-46s %-44s %s\n", g[i].what, g[i].measured,
		       g[i].met > 0  ? "met" :
		       g[i].met == 0 ? "NOT MET" :
				       "-");
}

int sfb_opt_bytes(const char *cmd, const char *name, const char *arg,
		  uint64_t *out)
{
	if (sfb_parse_bytes(arg, out) || *out == 0)
		return sfb_usage(cmd,
				 "%s: '%s' is not a size in bytes (e.g. "
				 "100, 4K, 16M, 4G)",
				 name, arg);
	return 0;
}

int sfb_opt_seconds(const char *cmd, const char *name, const char *arg,
		    double *out)
{
	if (sfb_parse_seconds(arg, out))
		return sfb_usage(cmd,
				 "%s: '%s' is not a duration (seconds, "
				 "up to 3600; e.g. 1, 0.5, 300ms)",
				 name, arg);
	return 0;
}

int sfb_opt_data_dir(const char *cmd, const char *arg, char *buf, size_t len)
{
	struct stat st;

	if (stat(arg, &st) || !S_ISDIR(st.st_mode))
		return sfb_usage(cmd, "--data-dir: '%s' is not a directory",
				 arg);
	/* room for the benchmark's own names below it */
	if (strlen(arg) + 64 > len)
		return sfb_usage(cmd, "--data-dir: '%s' is too long", arg);
	snprintf(buf, len, "%s", arg);
	return 0;
}

uint64_t sfb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sfb_sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull),
			       (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t tv_ns(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000000ull +
	       (uint64_t)tv.tv_usec * 1000ull;
}

void sfb_cpu_now(struct sfb_cpu_time *c)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	c->user_ns = tv_ns(ru.ru_utime);
	c->sys_ns = tv_ns(ru.ru_stime);
}

void sfb_cpu_since(struct sfb_cpu_time *c)
{
	struct sfb_cpu_time end;

	sfb_cpu_now(&end);
	c->user_ns = end.user_ns - c->user_ns;
	c->sys_ns = end.sys_ns - c->sys_ns;
}

int sfb_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

const char *sfb_human_bytes(uint64_t n, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB" };
	int u = 0;

	while (u < 3 && n && !(n & 1023)) {
		n >>= 10;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", n, units[u]);
	return buf;
}

void sfb_put_u64(uint8_t *v, size_t at, uint64_t x)
{
	memcpy(v + at, &x, sizeof(x));
}

int sfb_getopt(int argc, char **argv, const char *cmd, const char *shortopts,
	       const struct option *longopts, void (*help)(FILE *),
	       int (*apply)(void *ctx, int c, const char *arg), void *ctx)
{
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c == 'h') {
			help(stdout);
			return -1;
		}
		if (c == '?')
			return sfb_usage(cmd, "unknown option '%s'",
					 argv[optind - 1]);
		if (c == ':')
			return sfb_usage(cmd, "option '%s' needs a value",
					 argv[optind - 1]);
		rc = apply(ctx, c, optarg);
		if (rc)
			return rc;
	}
	if (optind < argc)
		return sfb_usage(cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}
