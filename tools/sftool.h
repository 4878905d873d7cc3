/* SPDX-License-Identifier: MIT */
/*
 * sftool.h - helpers shared by the command-line tools sfctl and sfcat.
 *
 * The build links tools/X_*.c into tools/X only, so code that both tools
 * use lives here as static inline functions (an unused one costs nothing).
 * Everything here is for programs: it prints, and it exits on out of
 * memory, which a library must never do.
 */
#ifndef SFSHM_SFTOOL_H
#define SFSHM_SFTOOL_H

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sfshm/sfshm.h>

/* Exit statuses, as getopt-style tools use them. */
#define SFT_EXIT_OK 0
#define SFT_EXIT_FAIL 1
#define SFT_EXIT_USAGE 2

/* Out of memory in a command-line tool: say so and stop. */
static inline void sft_oom(const char *prog)
{
	fprintf(stderr, "%s: out of memory\n", prog);
	exit(SFT_EXIT_FAIL);
}

static inline void *sft_alloc(const char *prog, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		sft_oom(prog);
	return p;
}

static inline void *sft_realloc(const char *prog, void *p, size_t n,
				size_t size)
{
	size_t bytes;

	if (size && n > SIZE_MAX / size)
		sft_oom(prog);
	bytes = n * size;
	p = realloc(p, bytes ? bytes : 1);
	if (!p)
		sft_oom(prog);
	return p;
}

/* A decimal number, optionally negative, and where what follows starts. */
static inline int sft_split_unit(const char *s, int64_t *v, const char **unit)
{
	const char *d = *s == '-' ? s + 1 : s;
	long long n;
	char *end;

	if (*d < '0' || *d > '9')
		return -EINVAL;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno)
		return -ERANGE;
	*v = n;
	*unit = end;
	return 0;
}

/**
 * sft_parse_i64() - a whole decimal number, optionally negative.
 * Return: 0; -EINVAL (not a number, or trailing characters); -ERANGE.
 */
static inline int sft_parse_i64(const char *s, int64_t *out)
{
	const char *rest;
	int64_t v;
	int err = sft_split_unit(s, &v, &rest);

	if (err)
		return err;
	if (*rest)
		return -EINVAL;
	*out = v;
	return 0;
}

static inline int sft_scale(int64_t v, int64_t mult, int64_t *out)
{
	if (v > INT64_MAX / mult || v < INT64_MIN / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

/* Multiplier of a binary size unit: "", B, K, KB, KiB, M..., T...; 0 if
 * @u is none of them. */
static inline int64_t sft_size_unit(const char *u)
{
	static const char units[] = "BKMGT";
	const char *p;

	if (!*u)
		return 1;
	p = strchr(units, u[0] & ~0x20);
	if (!p || !*p)
		return 0;
	if (*p == 'B')
		return u[1] ? 0 : 1;
	u++;
	if (*u == 'i')
		u++;
	if (*u == 'B' || *u == 'b')
		u++;
	return *u ? 0 : (int64_t)1 << (10 * (p - units));
}

/**
 * sft_parse_size() - a byte count: "65536", "64K", "64KiB", "4M", "1G",
 * or a negative number (the caller decides whether -1 means something).
 * Return: 0, -EINVAL or -ERANGE.
 */
static inline int sft_parse_size(const char *s, int64_t *out)
{
	const char *unit;
	int64_t v, mult;
	int err = sft_split_unit(s, &v, &unit);

	if (err)
		return err;
	mult = sft_size_unit(unit);
	if (!mult)
		return -EINVAL;
	return sft_scale(v, mult, out);
}

/**
 * sft_parse_ms() - a duration in milliseconds: "1500", "1500ms", "30s",
 * "5m" / "5min", "12h", "7d"; a negative number is passed on as is.
 * Return: 0, -EINVAL or -ERANGE.
 */
static inline int sft_parse_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t ms;
	} units[] = {
		{ "", 1 },	   { "ms", 1 },	     { "s", 1000 },
		{ "m", 60000 },	   { "min", 60000 }, { "h", 3600000 },
		{ "d", 86400000 },
	};
	const char *unit;
	int64_t v;
	int err = sft_split_unit(s, &v, &unit);

	if (err)
		return err;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(unit, units[i].unit))
			return sft_scale(v, units[i].ms, out);
	return -EINVAL;
}

static inline int sft_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * One backslash escape at @s (just after the backslash): its byte in *c
 * and how many characters of @s it used; 0 if @s starts no escape we know.
 */
static inline size_t sft_escape(const char *s, char *c)
{
	static const char from[] = "ntr0\\abfve";
	static const char to[] = "\n\t\r\0\\\a\b\f\v\033";
	const char *p = *s ? strchr(from, *s) : NULL;
	int hi, lo;

	if (p) {
		*c = to[p - from];
		return 1;
	}
	if (*s != 'x')
		return 0;
	hi = sft_hexval(s[1]);
	lo = hi < 0 ? -1 : sft_hexval(s[2]);
	if (lo < 0)
		return 0;
	*c = (char)(hi << 4 | lo);
	return 3;
}

/**
 * sft_unescape() - decode \n \t \r \0 \\ \a \b \f \v \e \xHH in @s.
 * @s:   the text; an unknown escape is kept as it is.
 * @len: set to the decoded length (it may contain NUL bytes).
 * Return: the decoded bytes, NUL-terminated, in a new buffer.
 */
static inline char *sft_unescape(const char *prog, const char *s, size_t *len)
{
	char *out = sft_alloc(prog, strlen(s) + 1, 1);
	size_t n = 0, used;
	char c;

	while (*s) {
		if (*s == '\\' && (used = sft_escape(s + 1, &c))) {
			out[n++] = c;
			s += used + 1;
		} else {
			out[n++] = *s++;
		}
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* The option getopt just rejected, as the user wrote it ("-x", "--xyz"). */
static inline const char *sft_bad_option(char **argv, char *buf, size_t len)
{
	if (optopt > 0 && optopt < 0x100) {
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	return argv[optind - 1];
}

/*
 * sft_flush_stdout() - flush standard output before exiting, which is
 * when a full disk or a closed pipe shows.
 * Return: 0, or SFT_EXIT_FAIL after printing the reason.
 */
static inline int sft_flush_stdout(const char *prog)
{
	if (!fflush(stdout) && !ferror(stdout))
		return 0;
	fprintf(stderr, "%s: standard output: %s\n", prog, strerror(errno));
	return SFT_EXIT_FAIL;
}

/* The run directory a client with @opt (NULL: none given) connects to. */
static inline const char *sft_run_dir(const char *opt)
{
	const char *env = getenv(SFSHM_RUN_DIR_ENV);

	if (opt)
		return opt;
	return env && *env ? env : SFSHM_DEFAULT_RUN_DIR;
}

/* The best words for a failed request: the daemon's own, if it gave any. */
static inline const char *sft_errtext(const struct sfshm_client *c, int err)
{
	const char *s = c ? sfshm_last_error(c) : NULL;

	return s && *s ? s : sfshm_strerror(err);
}

/**
 * sft_connect() - connect to the daemon at @run_dir, or say why not.
 * Return: 0, or SFT_EXIT_FAIL after printing the reason.
 */
static inline int sft_connect(const char *prog, const char *run_dir,
			      int timeout_ms, struct sfshm_client **out)
{
	struct sfshm_client_opts opts = {
		.size = sizeof(opts),
		.run_dir = run_dir,
		.client_id = prog,
		.timeout_ms = timeout_ms,
	};
	int err = sfshm_connect(&opts, out);

	if (!err)
		return 0;
	fprintf(stderr, "%s: cannot connect to sfshmd in %s: %s%s\n", prog,
		sft_run_dir(run_dir), sfshm_strerror(err),
		err == -ENOENT || err == -ECONNREFUSED ?
			" (is sfshmd running there?)" :
			"");
	return SFT_EXIT_FAIL;
}

/* A byte count for people: "512 B", "4 MiB", "1.5 GiB". */
static inline const char *sft_fmt_bytes(char *buf, size_t len, int64_t v)
{
	static const char *const units[] = { "B",   "KiB", "MiB",
					     "GiB", "TiB", "PiB" };
	double d = (double)v;
	unsigned u = 0;

	if (v < 0) {
		snprintf(buf, len, "%" PRId64, v);
		return buf;
	}
	while (d >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		d /= 1024;
		u++;
	}
	if (d == (double)(int64_t)d)
		snprintf(buf, len, "%.0f %s", d, units[u]);
	else
		snprintf(buf, len, "%.1f %s", d, units[u]);
	return buf;
}

#endif
