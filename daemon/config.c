// SPDX-License-Identifier: MIT
/*
 * config.c - sfshmd's settings: defaults, the config file, the command line.
 *
 * One table, opts[], describes every setting: its key in the file (which
 * is also the long flag --key), a short alias, its type, where it lives in
 * struct sfd_config, its limits and its help text.  The file parser, the
 * command-line parser, sfd_config_dump() and --help all walk that table,
 * so a new setting is one entry here and is parsed, checked, dumped and
 * documented everywhere at once.
 *
 * Precedence: the defaults, then the file named by --config, then the
 * flags, wherever --config stands among them (the command line is scanned
 * once for --config, --help and syntax errors, then applied).  Within one
 * source the last occurrence of a key wins, except that, as in Kafka,
 * log.retention.ms beats log.retention.minutes, which beats
 * log.retention.hours, whatever their order.  --no-bpf, a flag with no
 * value, is metrics.bpf=false where it stands among the flags.
 *
 * Every value is checked before anything is stored; an error names the
 * key or the flag as the user typed it, the bad value, the reason and, in
 * a file, the line.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include <sfshm/ring_layout.h>

#include "sfd.h"

#define MiB (1LL << 20)
#define GiB (1LL << 30)
#define DAY_MS (24LL * 3600 * 1000)
/* Durations must still fit in int64 nanoseconds (~292 years). */
#define MAX_MS (INT64_MAX / 1000000)
#define HOUR_MS (3600LL * 1000)
#define MINUTE_MS (60LL * 1000)

/* <run.dir>/sfshmd.sock must fit in a sockaddr_un. */
#define SOCK_NAME "/sfshmd.sock"
#define RUN_DIR_MAX \
	(sizeof(((struct sockaddr_un *)0)->sun_path) - sizeof(SOCK_NAME))

#define HELP_WIDTH 79
#define HELP_INDENT 7 /* man(1)'s layout: sections' text */
#define HELP_ITEM 14 /* descriptions under an option or a file */

enum opt_type {
	T_STR, /* a path in a char[] */
	T_INT, /* int32_t, uint32_t, int64_t or uint64_t, by size */
	T_LEVEL, /* enum sfd_level by name */
	T_POLICY, /* disk.full.policy: bool, block or fail */
	T_BOOL, /* a bool: true or false */
	T_INSTANCE, /* metrics.instance: a name in a char[]; "": run.dir's */
	T_OFF, /* a flag with no value that sets its bool false: --no-bpf */
	T_CONFIG, /* --config: command line only */
	T_HELP,
	T_VERSION,
};

#define F_SIZE 0x01 /* K, M, G suffixes (binary) */
#define F_NEG1 0x02 /* -1 allowed below min: no limit */
#define F_POW2 0x04 /* a power of two */
#define F_OCTAL 0x08 /* read and shown in octal */
#define F_ALIAS 0x10 /* another key in other units: not dumped */
#define F_ONEDIR 0x20 /* no Kafka comma-separated list */
#define F_SOCKDIR 0x40 /* the socket's path must fit */

struct opt {
	const char *key; /* in the file and as --key; NULL: a flag only */
	const char *alias; /* --alias, or NULL */
	char shrt; /* -x, or 0 */
	uint8_t type; /* enum opt_type */
	uint8_t flags; /* F_* */
	uint8_t rank; /* retention: ms 3 > minutes 2 > hours 1 */
	uint16_t off, size; /* the field in struct sfd_config */
	int64_t min, max; /* numbers: in the key's unit; strings: lengths */
	int64_t scale; /* stored = given * scale (hours, minutes) */
	const char *arg; /* the value's name in --help */
	const char *help;
};

#define FIELD(m)                               \
	.off = offsetof(struct sfd_config, m), \
	.size = sizeof(((struct sfd_config *)0)->m)

#define PATH_MAX_LEN ((int64_t)sizeof(((struct sfd_config *)0)->data_dir) - 1)

/* What an unset metrics.instance stands for, in --help and the dump. */
#define INSTANCE_UNSET "the last component of run.dir"

static const struct opt opts[] = {
	{ .alias = "config",
	  .shrt = 'c',
	  .type = T_CONFIG,
	  .arg = "FILE",
	  FIELD(config_file),
	  .min = 1,
	  .max = PATH_MAX_LEN,
	  .help = "Read settings from FILE (see CONFIGURATION FILE) before "
		  "applying the other options, which override it wherever "
		  "they stand on the command line." },
	{ .alias = "help",
	  .shrt = 'h',
	  .type = T_HELP,
	  .help = "Print this help on standard output and exit." },
	{ .alias = "version",
	  .shrt = 'V',
	  .type = T_VERSION,
	  .help = "Print the version and exit." },
	{ .key = "log.dirs",
	  .alias = "data-dir",
	  .type = T_STR,
	  .flags = F_ONEDIR,
	  FIELD(data_dir),
	  .min = 1,
	  .max = PATH_MAX_LEN,
	  .arg = "DIR",
	  .help = "The data directory: the partitions' commit logs and the "
		  "topics' metadata (see FILES).  Required.  Kafka accepts a "
		  "comma-separated list here; sfshmd takes one directory." },
	{ .key = "run.dir",
	  .alias = "run-dir",
	  .type = T_STR,
	  .flags = F_SOCKDIR,
	  FIELD(run_dir),
	  .min = 1,
	  .max = RUN_DIR_MAX,
	  .arg = "DIR",
	  .help = "The run directory: the control socket, the lock and the "
		  "partition rings, which clients map, so it belongs on a "
		  "tmpfs (see FILES).  Clients find the daemon through it; "
		  "daemons on one host need different run directories.  At "
		  "most 95 characters (a UNIX socket's path)." },
	{ .key = "broker.id",
	  .alias = "broker-id",
	  .type = T_INT,
	  FIELD(broker_id),
	  .min = 0,
	  .max = INT32_MAX,
	  .arg = "ID",
	  .help = "This broker's id, as in Kafka; reported to clients." },
	{ .key = "log.level",
	  .alias = "log-level",
	  .type = T_LEVEL,
	  FIELD(log_level),
	  .arg = "LEVEL",
	  .help = "The least severe messages written to standard error: "
		  "error, warn, info or debug." },
	{ .key = "producer.unblock.ms",
	  .type = T_INT,
	  FIELD(unblock_ms),
	  .min = 1,
	  .max = MAX_MS,
	  .arg = "MS",
	  .help = "A claim on a partition ring that a live producer leaves "
		  "open this long is revoked, so that one stuck producer "
		  "cannot stall the partition; that producer's commit then "
		  "fails with ECANCELED." },
	{ .key = "log.retention.check.interval.ms",
	  .type = T_INT,
	  FIELD(retention_check_ms),
	  .min = 1,
	  .max = MAX_MS,
	  .arg = "MS",
	  .help = "How often log.retention.bytes and log.retention.ms are "
		  "applied to every partition." },
	{ .key = "disk.full.policy",
	  .type = T_POLICY,
	  FIELD(full_disk_block),
	  .arg = "block|fail",
	  .help = "What persisting does when the data directory's file "
		  "system is full.  block: keep the records in the rings "
		  "and retry until space is freed; once a ring is full its "
		  "producers wait.  fail: report ENOSPC for the records "
		  "that cannot be written instead of holding producers "
		  "back." },
	{ .key = "metrics.bpf",
	  .type = T_BOOL,
	  FIELD(metrics_bpf),
	  .arg = "true|false",
	  .help = "Load sfshmd's eBPF programs, which keep per-topic "
		  "metrics in maps pinned under "
		  "/sys/fs/bpf/sfshm/INSTANCE/ (see metrics.instance and "
		  "docs/MONITORING.md).  false: do not load them; the maps "
		  "and links an earlier run pinned stay as they are.  "
		  "Without the privileges (CAP_BPF and CAP_PERFMON, or "
		  "root) the daemon runs on and says once that metrics are "
		  "off.  on/off, yes/no and 1/0 are accepted too." },
	{ .alias = "no-bpf",
	  .type = T_OFF,
	  FIELD(metrics_bpf),
	  .help = "Do not load the eBPF programs; the same as "
		  "--metrics.bpf=false.  Of the two, the one last on the "
		  "command line wins; either overrides the file." },
	{ .key = "metrics.instance",
	  .alias = "instance",
	  .type = T_INSTANCE,
	  FIELD(metrics_instance),
	  .min = 1,
	  .max = SFD_INSTANCE_MAX,
	  .arg = "NAME",
	  .help = "The name of this daemon's directory of pinned metrics, "
		  "/sys/fs/bpf/sfshm/NAME/: 1 to 64 letters, digits, '.', "
		  "'_' or '-', but not \".\" or \"..\".  Unset, it is the "
		  "last component of run.dir, any other character replaced "
		  "by '_' (run.dir=/dev/shm/sfshm-b gives sfshm-b).  "
		  "Daemons on one host need different instances: set it "
		  "where two run directories end in the same name." },
	{ .key = "num.partitions",
	  .type = T_INT,
	  FIELD(topic.partitions),
	  .min = 1,
	  .max = 65536,
	  .arg = "N",
	  .help = "Partitions of a topic created without a count." },
	{ .key = "ring.bytes",
	  .type = T_INT,
	  .flags = F_SIZE | F_POW2,
	  FIELD(topic.ring_bytes),
	  .min = (int64_t)SFSHM_RING_MIN_SIZE,
	  .max = (int64_t)SFSHM_RING_MAX_SIZE,
	  .arg = "BYTES",
	  .help = "The shared-memory ring of each partition of a new topic: "
		  "a power of two from 64K to 1G.  A larger ring absorbs "
		  "longer bursts and lets readers fall further behind "
		  "before they must be served from the log." },
	{ .key = "log.segment.bytes",
	  .type = T_INT,
	  .flags = F_SIZE,
	  FIELD(topic.segment_bytes),
	  .min = 512,
	  .max = INT32_MAX,
	  .arg = "BYTES",
	  .help = "A partition's active log segment is closed and a new one "
		  "started when a batch would take it past this size "
		  "(512 to 2G - 1)." },
	{ .key = "log.roll.ms",
	  .type = T_INT,
	  FIELD(topic.segment_ms),
	  .min = 0,
	  .max = MAX_MS,
	  .arg = "MS",
	  .help = "The active segment is also rolled when it is this old; "
		  "0: never by age." },
	{ .key = "log.retention.bytes",
	  .type = T_INT,
	  .flags = F_SIZE | F_NEG1,
	  FIELD(topic.retention_bytes),
	  .min = 0,
	  .max = INT64_MAX,
	  .arg = "BYTES",
	  .help = "The most log a partition keeps: its oldest segments are "
		  "deleted, whole, while it is larger.  -1: no limit." },
	{ .key = "log.retention.ms",
	  .type = T_INT,
	  .flags = F_NEG1,
	  .rank = 3,
	  .scale = 1,
	  FIELD(topic.retention_ms),
	  .min = 0,
	  .max = MAX_MS,
	  .arg = "MS",
	  .help = "A segment whose newest record is older than this is "
		  "deleted (never the active one).  -1: no limit.  Takes "
		  "precedence over log.retention.minutes and "
		  "log.retention.hours." },
	{ .key = "log.retention.minutes",
	  .type = T_INT,
	  .flags = F_NEG1 | F_ALIAS,
	  .rank = 2,
	  .scale = MINUTE_MS,
	  FIELD(topic.retention_ms),
	  .min = 0,
	  .max = MAX_MS / MINUTE_MS,
	  .arg = "MIN",
	  .help = "log.retention.ms in minutes; ignored where "
		  "log.retention.ms is also set." },
	{ .key = "log.retention.hours",
	  .type = T_INT,
	  .flags = F_NEG1 | F_ALIAS,
	  .rank = 1,
	  .scale = HOUR_MS,
	  FIELD(topic.retention_ms),
	  .min = 0,
	  .max = MAX_MS / HOUR_MS,
	  .arg = "H",
	  .help = "log.retention.ms in hours; ignored where log.retention.ms "
		  "or log.retention.minutes is also set." },
	{ .key = "log.flush.interval.messages",
	  .type = T_INT,
	  .flags = F_NEG1,
	  FIELD(topic.flush_messages),
	  .min = 1,
	  .max = INT64_MAX,
	  .arg = "N",
	  .help = "A partition's log is fsynced once this many messages "
		  "were written since the last fsync.  -1: by time only." },
	{ .key = "log.flush.interval.ms",
	  .type = T_INT,
	  .flags = F_NEG1,
	  FIELD(topic.flush_ms),
	  .min = 1,
	  .max = MAX_MS,
	  .arg = "MS",
	  .help = "A partition's log is fsynced when its oldest unsynced "
		  "message is this old.  -1: by count only.  Whatever "
		  "these two say, everything is fsynced at shutdown." },
	{ .key = "topic.mode",
	  .type = T_INT,
	  .flags = F_OCTAL,
	  FIELD(topic.mode),
	  .min = 0,
	  .max = 0777,
	  .arg = "MODE",
	  .help = "Permission bits, in octal, of a new topic's files: who may "
		  "produce to and consume from it.  The default lets the "
		  "daemon's user and group in." },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NOPTS ARRAY_SIZE(opts)

_Static_assert(RUN_DIR_MAX == 95, "run.dir's help says 95 characters");
_Static_assert(SFD_INSTANCE_MAX == 64,
	       "metrics.instance's help says 64 characters");

/* A value checked by parse_value(), ready for store_value(). */
union val {
	int64_t i;
	const char *s;
	enum sfd_level level;
	bool b;
};

static int errf(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Word a failure for the user; always returns -EINVAL. */
static int errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool takes_value(const struct opt *o)
{
	return o->type != T_HELP && o->type != T_VERSION && o->type != T_OFF;
}

/* ---- finding options ------------------------------------------------- */

static const struct opt *find_key(const char *key, size_t len)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].key && strlen(opts[i].key) == len &&
		    !memcmp(opts[i].key, key, len))
			return &opts[i];
	}
	return NULL;
}

/* A long flag: a file key or an alias. */
static const struct opt *find_flag(const char *name, size_t len)
{
	const struct opt *o = find_key(name, len);

	for (size_t i = 0; !o && i < NOPTS; i++) {
		if (opts[i].alias && strlen(opts[i].alias) == len &&
		    !memcmp(opts[i].alias, name, len))
			o = &opts[i];
	}
	return o;
}

static const struct opt *find_short(char c)
{
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].shrt && opts[i].shrt == c)
			return &opts[i];
	}
	return NULL;
}

#define NAME_CMP_MAX 48

/* Levenshtein distance, for "did you mean"; UINT_MAX if too long. */
static unsigned edit_distance(const char *a, size_t la, const char *b)
{
	unsigned row[NAME_CMP_MAX + 1];
	size_t lb = strlen(b);

	if (la > NAME_CMP_MAX || lb > NAME_CMP_MAX)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0], up;

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			up = row[j];
			row[j] = diag + (a[i - 1] != b[j - 1]);
			if (up + 1 < row[j])
				row[j] = up + 1;
			if (row[j - 1] + 1 < row[j])
				row[j] = row[j - 1] + 1;
			diag = up;
		}
	}
	return row[lb];
}

/* The closest key (or, for flags, alias) to a misspelt name, or NULL. */
static const char *suggest(const char *name, size_t len, bool flags)
{
	const char *best = NULL;
	unsigned best_d = 3; /* suggest only within two edits */

	for (size_t i = 0; i < NOPTS; i++) {
		const char *c[2] = { opts[i].key,
				     flags ? opts[i].alias : NULL };

		for (int k = 0; k < 2; k++) {
			unsigned d = c[k] ? edit_distance(name, len, c[k]) :
					    UINT_MAX;

			if (d < best_d) {
				best_d = d;
				best = c[k];
			}
		}
	}
	return best;
}

/* ---- values ---------------------------------------------------------- */

/* Multiply by a K, M or G suffix.  Return: 0, -EINVAL, -ERANGE. */
static int apply_suffix(int64_t *v, char c)
{
	int shift;

	switch (c) {
	case 'K':
	case 'k':
		shift = 10;
		break;
	case 'M':
	case 'm':
		shift = 20;
		break;
	case 'G':
	case 'g':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*v < 0)
		return -EINVAL;
	if (*v > (INT64_MAX >> shift))
		return -ERANGE;
	*v *= (int64_t)1 << shift;
	return 0;
}

/*
 * A whole number: decimal (optionally with a size suffix) or octal; no
 * spaces, no '+', nothing after it.  Return: 0, -EINVAL, -ERANGE.
 */
static int parse_num(const struct opt *o, const char *s, int64_t *v)
{
	int base = o->flags & F_OCTAL ? 8 : 10;
	char *end;
	int ret;

	if (!isdigit((unsigned char)s[0]) && !(s[0] == '-' && base == 10))
		return -EINVAL;
	errno = 0;
	*v = strtoll(s, &end, base);
	if (end == s)
		return -EINVAL;
	if (errno == ERANGE)
		return -ERANGE;
	if ((o->flags & F_SIZE) && *end) {
		ret = apply_suffix(v, *end++);
		if (ret)
			return ret;
	}
	return *end ? -EINVAL : 0;
}

/* A number as the user would write it: 4M, 0660, -1. */
static void fmt_int(const struct opt *o, int64_t v, char *buf, size_t n)
{
	static const char sfx[] = "GMK";

	if (o->flags & F_OCTAL) {
		snprintf(buf, n, "%04" PRIo64, (uint64_t)v);
		return;
	}
	for (int i = 0; (o->flags & F_SIZE) && v > 0 && i < 3; i++) {
		int64_t unit = (int64_t)1 << (10 * (3 - i));

		if (v % unit == 0) {
			snprintf(buf, n, "%" PRId64 "%c", v / unit, sfx[i]);
			return;
		}
	}
	snprintf(buf, n, "%" PRId64, v);
}

static const char *num_syntax(const struct opt *o)
{
	if (o->flags & F_OCTAL)
		return "expected an octal mode such as 0660";
	if (o->flags & F_SIZE)
		return "expected a size in bytes, optionally followed by K, M "
		       "or G (1K = 1024)";
	return "expected a whole number";
}

/* Why a number is refused, from its limits in the table. */
static int range_error(const struct opt *o, char *why, size_t n)
{
	char lo[32], hi[32];

	fmt_int(o, o->min, lo, sizeof(lo));
	fmt_int(o, o->max, hi, sizeof(hi));
	if (o->flags & F_POW2)
		return errf(why, n, "must be a power of two from %s to %s", lo,
			    hi);
	return errf(why, n, "must be%s from %s to %s",
		    o->flags & F_NEG1 ? " -1 (no limit) or" : "", lo, hi);
}

static int parse_int(const struct opt *o, const char *s, union val *v,
		     char *why, size_t n)
{
	int ret = parse_num(o, s, &v->i);

	if (ret == -EINVAL)
		return errf(why, n, "%s", num_syntax(o));
	if (ret)
		return range_error(o, why, n);
	if ((o->flags & F_NEG1) && v->i == -1)
		return 0;
	if (v->i < o->min || v->i > o->max)
		return range_error(o, why, n);
	if ((o->flags & F_POW2) && (v->i & (v->i - 1)))
		return range_error(o, why, n);
	if (o->scale > 1)
		v->i *= o->scale; /* max was divided by scale: no overflow */
	return 0;
}

static int parse_str(const struct opt *o, const char *s, union val *v,
		     char *why, size_t n)
{
	size_t len = strlen(s);

	if ((int64_t)len < o->min)
		return errf(why, n, "must not be empty");
	if ((int64_t)len > o->max)
		return errf(why, n,
			    "is %zu characters long; at most %" PRId64 "%s",
			    len, o->max,
			    o->flags & F_SOCKDIR ? " fit, with \"" SOCK_NAME
						   "\", in a UNIX socket "
						   "address" :
						   " are allowed");
	if ((o->flags & F_ONEDIR) && strchr(s, ','))
		return errf(why, n,
			    "one directory only (Kafka's "
			    "comma-separated list is not supported)");
	v->s = s;
	return 0;
}

static int parse_policy(const char *s, union val *v, char *why, size_t n)
{
	if (!strcmp(s, "block"))
		v->b = true;
	else if (!strcmp(s, "fail"))
		v->b = false;
	else
		return errf(why, n, "expected block or fail");
	return 0;
}

static int parse_bool(const char *s, union val *v, char *why, size_t n)
{
	static const char *const yes[] = { "true", "on", "yes", "1" };
	static const char *const no[] = { "false", "off", "no", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			v->b = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return errf(why, n, "expected true or false (or on/off, yes/no, 1/0)");
}

/* A portable file name character: [A-Za-z0-9._-], whatever the locale. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* The first character of @s that is no name_char(), or its end. */
static const char *bad_name_char(const char *s)
{
	while (*s && name_char(*s))
		s++;
	return s;
}

/* metrics.instance: one directory name under /sys/fs/bpf/sfshm/. */
static int parse_instance(const struct opt *o, const char *s, union val *v,
			  char *why, size_t n)
{
	const char *bad = bad_name_char(s);
	size_t len = strlen(s);

	if (!len)
		return errf(why, n,
			    "must not be empty (leave it out to use %s)",
			    INSTANCE_UNSET);
	if ((int64_t)len > o->max)
		return errf(why, n,
			    "is %zu characters long; at most %" PRId64
			    " are allowed",
			    len, o->max);
	if (*bad && isprint((unsigned char)*bad))
		return errf(why, n,
			    "'%c' is not allowed: only letters, digits, '.', "
			    "'_' and '-' are",
			    *bad);
	if (*bad)
		return errf(why, n,
			    "byte 0x%02x is not allowed: only letters, "
			    "digits, '.', '_' and '-' are",
			    (unsigned char)*bad);
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return errf(why, n, "must not be \".\" or \"..\"");
	v->s = s;
	return 0;
}

/* Check @s for @o; the reason of a refusal goes to @why. */
static int parse_value(const struct opt *o, const char *s, union val *v,
		       char *why, size_t n)
{
	switch (o->type) {
	case T_STR:
	case T_CONFIG:
		return parse_str(o, s, v, why, n);
	case T_INT:
		return parse_int(o, s, v, why, n);
	case T_LEVEL:
		if (sfd_level_parse(s, &v->level))
			return errf(why, n,
				    "expected error, warn, info or "
				    "debug");
		return 0;
	case T_POLICY:
		return parse_policy(s, v, why, n);
	case T_BOOL:
		return parse_bool(s, v, why, n);
	case T_INSTANCE:
		return parse_instance(o, s, v, why, n);
	}
	return errf(why, n, "takes no value");
}

static void *field(struct sfd_config *cfg, const struct opt *o)
{
	return (char *)cfg + o->off;
}

static const void *cfield(const struct sfd_config *cfg, const struct opt *o)
{
	return (const char *)cfg + o->off;
}

static void store_bool(struct sfd_config *cfg, const struct opt *o, bool b)
{
	memcpy(field(cfg, o), &b, sizeof(b));
}

static bool load_bool(const struct sfd_config *cfg, const struct opt *o)
{
	bool b;

	memcpy(&b, cfield(cfg, o), sizeof(b));
	return b;
}

/* Integers are stored by their field's size; limits keep them in range. */
static void store_value(struct sfd_config *cfg, const struct opt *o,
			const union val *v)
{
	int32_t i32 = (int32_t)v->i;

	switch (o->type) {
	case T_STR:
	case T_INSTANCE:
	case T_CONFIG:
		/* Zero the rest too: equal settings, equal bytes. */
		memset(field(cfg, o), 0, o->size);
		memcpy(field(cfg, o), v->s, strlen(v->s));
		break;
	case T_INT:
		if (o->size == sizeof(i32))
			memcpy(field(cfg, o), &i32, sizeof(i32));
		else
			memcpy(field(cfg, o), &v->i, sizeof(v->i));
		break;
	case T_LEVEL:
		cfg->log_level = v->level;
		break;
	case T_POLICY:
		cfg->full_disk_block = v->b;
		break;
	case T_BOOL:
		store_bool(cfg, o, v->b);
		break;
	}
}

static int64_t load_int(const struct sfd_config *cfg, const struct opt *o)
{
	int32_t i32;
	int64_t i64;

	if (o->size == sizeof(i32)) {
		memcpy(&i32, cfield(cfg, o), sizeof(i32));
		return i32;
	}
	memcpy(&i64, cfield(cfg, o), sizeof(i64));
	return i64;
}

static const char *level_name(enum sfd_level level)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	enum sfd_level l;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!sfd_level_parse(names[i], &l) && l == level)
			return names[i];
	}
	return "?";
}

/* A setting's value as the file would spell it. */
static void format_value(const struct opt *o, const struct sfd_config *cfg,
			 char *buf, size_t n)
{
	switch (o->type) {
	case T_STR:
	case T_INSTANCE:
	case T_CONFIG:
		snprintf(buf, n, "%s", (const char *)cfield(cfg, o));
		break;
	case T_INT:
		fmt_int(o, load_int(cfg, o), buf, n);
		break;
	case T_LEVEL:
		snprintf(buf, n, "%s", level_name(cfg->log_level));
		break;
	case T_POLICY:
		snprintf(buf, n, "%s", cfg->full_disk_block ? "block" : "fail");
		break;
	case T_BOOL:
		snprintf(buf, n, "%s", load_bool(cfg, o) ? "true" : "false");
		break;
	default:
		snprintf(buf, n, "%s", "");
	}
}

/*
 * Check and store one setting.  @rank is the highest retention key seen
 * in this source: a lower one is checked, then ignored (Kafka's rule).
 */
static int apply(struct sfd_config *cfg, const struct opt *o, const char *s,
		 unsigned *rank, char *why, size_t n)
{
	union val v;
	int ret = parse_value(o, s, &v, why, n);

	if (ret)
		return ret;
	if (o->rank) {
		if (o->rank < *rank)
			return 0;
		*rank = o->rank;
	}
	store_value(cfg, o, &v);
	return 0;
}

void sfd_config_init(struct sfd_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->run_dir, sizeof(cfg->run_dir), "%s",
		 "/dev/shm/sfshm-default");
	cfg->broker_id = 0;
	cfg->log_level = SFD_INFO;
	cfg->unblock_ms = 1000;
	cfg->retention_check_ms = 300000;
	cfg->full_disk_block = false;
	cfg->metrics_bpf = true;
	/* metrics_instance stays "": the last component of run_dir. */
	/* Field by field: a struct assignment may copy garbage padding. */
	cfg->topic.partitions = 1;
	cfg->topic.ring_bytes = 4 * MiB;
	cfg->topic.segment_bytes = GiB;
	cfg->topic.segment_ms = 7 * DAY_MS;
	cfg->topic.retention_bytes = -1;
	cfg->topic.retention_ms = 7 * DAY_MS;
	cfg->topic.flush_messages = -1;
	cfg->topic.flush_ms = 1000;
	cfg->topic.mode = 0660;
}

int sfd_config_set(struct sfd_config *cfg, const char *key, const char *val,
		   char *err, size_t errlen)
{
	const struct opt *o = find_key(key, strlen(key));
	unsigned rank = 0;
	char why[256];

	if (!o) {
		errf(err, errlen, "unknown key \"%s\"", key);
		return -ENOENT;
	}
	if (apply(cfg, o, val, &rank, why, sizeof(why)))
		return errf(err, errlen, "%s: invalid value \"%s\": %s", key,
			    val, why);
	return 0;
}

/* Drop trailing slashes, then all but the last component. */
static const char *last_component(const char *path, size_t *len)
{
	size_t end = strlen(path), start;

	while (end && path[end - 1] == '/')
		end--;
	for (start = end; start && path[start - 1] != '/'; start--)
		;
	*len = end - start;
	return path + start;
}

/* @s's first @len bytes as a valid instance name in @buf, of size @n. */
static void instance_from(const char *s, size_t len, char *buf, size_t n)
{
	size_t i;

	if (len > SFD_INSTANCE_MAX)
		len = SFD_INSTANCE_MAX;
	if (len > n - 1)
		len = n - 1;
	for (i = 0; i < len; i++)
		buf[i] = name_char(s[i]) ? s[i] : '_';
	buf[i] = '\0';
	/* "", "." and "..": a name that would not stay in its directory. */
	if (!len)
		snprintf(buf, n, "_");
	else if (!strcmp(buf, ".") || !strcmp(buf, ".."))
		memset(buf, '_', len);
}

const char *sfd_config_instance(const struct sfd_config *cfg, char *buf,
				size_t len)
{
	const char *name = cfg->metrics_instance;
	size_t n = strnlen(name, sizeof(cfg->metrics_instance));

	sfd_assert(len > 0, "sfd_config_instance(): no room for a name");
	if (!n)
		name = last_component(cfg->run_dir, &n);
	/* A name set through the parser passes unchanged. */
	instance_from(name, n, buf, len);
	return buf;
}

/* One key=value line; an unset instance as a comment naming its value. */
static void dump_one(const struct opt *o, const struct sfd_config *cfg, FILE *f)
{
	char buf[sizeof(cfg->data_dir) + 8];

	format_value(o, cfg, buf, sizeof(buf));
	if (o->type == T_INSTANCE && !*buf)
		fprintf(f, "# %s=%s (unset: %s)\n", o->key,
			sfd_config_instance(cfg, buf, sizeof(buf)),
			INSTANCE_UNSET);
	else
		fprintf(f, "%s=%s\n", o->key, buf);
}

void sfd_config_dump(const struct sfd_config *cfg, FILE *f)
{
	if (cfg->config_file[0])
		fprintf(f, "# config file: %s\n", cfg->config_file);
	for (size_t i = 0; i < NOPTS; i++) {
		if (opts[i].key && !(opts[i].flags & F_ALIAS))
			dump_one(&opts[i], cfg, f);
	}
}

/* ---- the file -------------------------------------------------------- */

/* Strip white space at both ends, in place. */
static char *trim(char *s)
{
	size_t n;

	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* One line of the file; the reason of a refusal goes to @why. */
static int parse_line(struct sfd_config *cfg, char *line, unsigned *rank,
		      char *why, size_t n)
{
	char *eq, *key, *val, msg[256];
	const struct opt *o;
	const char *hint;

	line = trim(line);
	if (!*line || *line == '#' || *line == '!')
		return 0;
	eq = strchr(line, '=');
	if (!eq)
		return errf(why, n, "expected key=value, found \"%s\"", line);
	*eq = '\0';
	key = trim(line);
	val = trim(eq + 1);
	o = find_key(key, strlen(key));
	if (!o) {
		hint = suggest(key, strlen(key), false);
		return errf(why, n, "unknown key \"%s\"%s%s%s", key,
			    hint ? " (did you mean \"" : "", hint ? hint : "",
			    hint ? "\"?)" : "");
	}
	if (apply(cfg, o, val, rank, msg, sizeof(msg)))
		return errf(why, n, "%s: invalid value \"%s\": %s", key, val,
			    msg);
	return 0;
}

/* Read the lines; @lineno tells where a failure happened. */
static int parse_stream(struct sfd_config *cfg, FILE *f, unsigned *lineno,
			char *why, size_t n)
{
	unsigned rank = 0;
	size_t cap = 0;
	char *line = NULL;
	ssize_t len;
	int ret = 0, saved;

	while (!ret && (len = getline(&line, &cap, f)) >= 0) {
		++*lineno;
		if (strlen(line) != (size_t)len)
			ret = errf(why, n, "a NUL byte (not a text file?)");
		else
			ret = parse_line(cfg, line, &rank, why, n);
	}
	saved = errno; /* a read error's, for the caller */
	free(line);
	errno = saved;
	return ret;
}

int sfd_config_parse_file(struct sfd_config *cfg, const char *path, char *err,
			  size_t errlen)
{
	unsigned lineno = 0;
	char why[512];
	FILE *f;
	int ret;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		errf(err, errlen, "cannot open config file \"%s\": %s", path,
		     strerror(-ret));
		return ret;
	}
	errno = 0;
	ret = parse_stream(cfg, f, &lineno, why, sizeof(why));
	if (ferror(f)) {
		ret = errno ? -errno : -EIO;
		errf(err, errlen, "cannot read config file \"%s\": %s", path,
		     strerror(-ret));
	} else if (ret) {
		errf(err, errlen, "%s:%u: %s", path, lineno, why);
	}
	fclose(f);
	return ret;
}

/* ---- the command line ------------------------------------------------ */

struct flag {
	const struct opt *o;
	const char *name; /* as typed, for messages: "--data-dir", "-c" */
	int namelen;
	const char *val; /* NULL for --help, --version */
};

/* The value of a flag given as a separate argument. */
static int next_value(int argc, char **argv, int *i, struct flag *fl, char *err,
		      size_t errlen)
{
	/* "--data-dir --run-dir x" forgot a value; "-1" is a value. */
	if (*i >= argc || !strncmp(argv[*i], "--", 2))
		return errf(err, errlen, "%.*s needs a value (%s)", fl->namelen,
			    fl->name, fl->o->arg ? fl->o->arg : "");
	fl->val = argv[(*i)++];
	return 0;
}

static int unknown_flag(const char *a, int len, char *err, size_t errlen)
{
	const char *hint = NULL;

	if (len > 2 && a[1] == '-')
		hint = suggest(a + 2, (size_t)len - 2, true);

	return errf(err, errlen, "unknown option \"%.*s\"%s%s%s; see --help",
		    len, a, hint ? " (did you mean --" : "", hint ? hint : "",
		    hint ? "?)" : "");
}

/* --key=value, --key value, --help. */
static int long_flag(int argc, char **argv, int *i, const char *a,
		     struct flag *fl, char *err, size_t errlen)
{
	const char *eq = strchr(a, '=');

	fl->name = a;
	fl->namelen = eq ? (int)(eq - a) : (int)strlen(a);
	fl->o = find_flag(a + 2, (size_t)fl->namelen - 2);
	fl->val = eq ? eq + 1 : NULL;
	if (!fl->o)
		return unknown_flag(a, fl->namelen, err, errlen);
	if (!takes_value(fl->o))
		return eq ? errf(err, errlen, "%.*s takes no value",
				 fl->namelen, a) :
			    0;
	return eq ? 0 : next_value(argc, argv, i, fl, err, errlen);
}

/* -c FILE, -cFILE, -h, -V. */
static int short_flag(int argc, char **argv, int *i, const char *a,
		      struct flag *fl, char *err, size_t errlen)
{
	fl->name = a;
	fl->namelen = 2;
	fl->o = find_short(a[1]);
	fl->val = NULL;
	if (!fl->o || (!takes_value(fl->o) && a[2]))
		return unknown_flag(a, (int)strlen(a), err, errlen);
	if (!takes_value(fl->o))
		return 0;
	if (a[2]) {
		fl->val = a + 2;
		return 0;
	}
	return next_value(argc, argv, i, fl, err, errlen);
}

/* The next flag at argv[*i]: 1; 0 at the end; -EINVAL with @err set. */
static int next_flag(int argc, char **argv, int *i, struct flag *fl, char *err,
		     size_t errlen)
{
	const char *a;
	int ret;

	if (*i >= argc)
		return 0;
	a = argv[(*i)++];
	if (a[0] != '-' || !a[1] || !strcmp(a, "--"))
		return errf(err, errlen,
			    "unexpected argument \"%s\"; "
			    "settings are --key=value, see --help",
			    a);
	if (a[1] == '-')
		ret = long_flag(argc, argv, i, a, fl, err, errlen);
	else
		ret = short_flag(argc, argv, i, a, fl, err, errlen);
	return ret ? ret : 1;
}

static void print_help(FILE *f);

/*
 * First pass: syntax, --help, --version and the last --config.
 * Return: 0 to go on; 1 when help or version was printed; -EINVAL.
 */
static int scan_flags(int argc, char **argv, const struct opt **config,
		      const char **path, char *err, size_t errlen)
{
	bool help = false, version = false;
	struct flag fl;
	int i = 1, ret;

	while ((ret = next_flag(argc, argv, &i, &fl, err, errlen)) > 0) {
		help |= fl.o->type == T_HELP;
		version |= fl.o->type == T_VERSION;
		if (fl.o->type == T_CONFIG) {
			*config = fl.o;
			*path = fl.val;
		}
	}
	if (ret)
		return ret;
	if (help)
		print_help(stdout);
	else if (version)
		printf("%s\n", SFD_VERSION_STRING);
	if (help || version) {
		fflush(stdout);
		return 1;
	}
	return 0;
}

/* Second pass: every setting, in order (syntax was checked). */
static int apply_flags(struct sfd_config *cfg, int argc, char **argv, char *err,
		       size_t errlen)
{
	unsigned rank = 0;
	struct flag fl;
	char why[256];
	int i = 1;

	while (next_flag(argc, argv, &i, &fl, err, errlen) > 0) {
		if (fl.o->type == T_OFF)
			store_bool(cfg, fl.o, false);
		if (fl.o->type == T_CONFIG || !takes_value(fl.o))
			continue;
		if (apply(cfg, fl.o, fl.val, &rank, why, sizeof(why)))
			return errf(err, errlen,
				    "%.*s: invalid value \"%s\": %s",
				    fl.namelen, fl.name, fl.val, why);
	}
	return 0;
}

/* The config file named on the command line. */
static int load_config(struct sfd_config *cfg, const struct opt *o,
		       const char *path, char *err, size_t errlen)
{
	unsigned rank = 0;
	char why[256];

	if (apply(cfg, o, path, &rank, why, sizeof(why)))
		return errf(err, errlen, "--config: invalid value \"%s\": %s",
			    path, why);
	if (sfd_config_parse_file(cfg, path, err, errlen))
		return -EINVAL;
	return 0;
}

int sfd_config_parse_args(struct sfd_config *cfg, int argc, char **argv,
			  char *err, size_t errlen)
{
	const struct opt *config = NULL;
	const char *path = NULL;
	int ret;

	ret = scan_flags(argc, argv, &config, &path, err, errlen);
	if (ret)
		return ret;
	if (config && load_config(cfg, config, path, err, errlen))
		return -EINVAL;
	ret = apply_flags(cfg, argc, argv, err, errlen);
	if (ret)
		return ret;
	if (!cfg->data_dir[0])
		return errf(err, errlen,
			    "no data directory: pass "
			    "--data-dir=DIR or set log.dirs in the config "
			    "file (--config=FILE)");
	return 0;
}

/* ---- --help ---------------------------------------------------------- */

/*
 * Print @s word-wrapped at HELP_WIDTH, indented by @indent, going on from
 * column @col of the current line (a term already printed there); '\n'
 * ends a line, "\n\n" leaves a blank one.
 */
static void wrap_from(FILE *f, int indent, int col, const char *s)
{
	bool fresh = true; /* no word on this line yet */

	while (*s) {
		int w = (int)strcspn(s, " \n");

		if (*s == '\n') {
			fputc('\n', f);
			col = 0;
			fresh = true;
		}
		if (!w) {
			s++;
			continue;
		}
		if (!fresh && col + 1 + w > HELP_WIDTH) {
			fputc('\n', f);
			col = 0;
			fresh = true;
		}
		if (col < indent)
			col += fprintf(f, "%*s", indent - col, "");
		else if (!fresh)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", w, s);
		fresh = false;
		s += w;
	}
	if (col)
		fputc('\n', f);
}

static void put_wrapped(FILE *f, int indent, const char *s)
{
	wrap_from(f, indent, 0, s);
}

static const char help_name[] =
	"sfshmd - the sfshm broker: partition rings in shared memory and "
	"their commit log";

static const char help_synopsis[] =
	"sfshmd --data-dir=DIR [--config=FILE] [--KEY=VALUE]...\n"
	"sfshmd -h | --help\n"
	"sfshmd -V | --version";

static const char help_description[] =
	"sfshmd owns the topics of one sfshm broker.  Each partition of a "
	"topic is a ring in shared memory that producers and consumers on "
	"this host map into their address space (libsfshm): records go from "
	"producer to consumer without passing through the daemon.  sfshmd "
	"creates the rings, persists what producers commit into a Kafka-style "
	"commit log (RecordBatch v2 segments with offset and time indexes), "
	"serves readers that fell behind the ring from that log, applies "
	"retention and revokes the claims of stuck producers.  Clients talk "
	"to it over a UNIX socket in the run directory.\n\n"
	"Settings come from the defaults, then the configuration file named "
	"by --config, then the other options, wherever they stand on the "
	"command line.  Every key of the file is also an option: --KEY=VALUE "
	"or --KEY VALUE.";

static const char help_config_file[] =
	"The syntax of Kafka's server.properties, and its key names: one "
	"KEY=VALUE per line; spaces around the key and the value are "
	"ignored; blank lines and lines whose first non-blank character is "
	"'#' or '!' are comments (a '#' after a value is part of the value).  "
	"A key given twice takes its last value.  An unknown key or a bad "
	"value is an error that names the line.\n\n"
	"BYTES take an optional binary suffix: K, M or G (1K = 1024).  MS "
	"are milliseconds.";

static const char help_files_intro[] =
	"RUN_DIR is run.dir (default /dev/shm/sfshm-default), DATA_DIR is "
	"log.dirs, INSTANCE is metrics.instance.";

static const char *const help_files[][2] = {
	{ "RUN_DIR/sfshmd.sock",
	  "The control socket (SOCK_SEQPACKET): clients create, describe and "
	  "attach to topics through it." },
	{ "RUN_DIR/sfshmd.lock",
	  "Locked by the running daemon: a second sfshmd refuses to start on "
	  "the same run directory." },
	{ "RUN_DIR/<topic>-<p>.ring",
	  "Partition p's ring: the records, mapped by its producers and "
	  "readers (mode topic.mode)." },
	{ "RUN_DIR/<topic>-<p>.ctl",
	  "Its control page: the ring's positions, producer slots and "
	  "wake-up words." },
	{ "DATA_DIR/<topic>-<p>/",
	  "Partition p's commit log: segments named by their first offset "
	  "(20 digits) - the records in <offset>.log, with <offset>.index "
	  "and <offset>.timeindex to find an offset or a time." },
	{ "DATA_DIR/meta/", "The topics' configurations and the broker's "
			    "metadata." },
	{ "/sys/fs/bpf/sfshm/INSTANCE/",
	  "The per-topic metrics' BPF maps and links, pinned while "
	  "metrics.bpf is true and left in place at exit, so that the "
	  "counters go on across a restart (see docs/MONITORING.md)." },
};

static const char *const help_signals[][2] = {
	{ "SIGTERM, SIGINT",
	  "Stop accepting clients and requests, persist everything committed "
	  "to the rings, fsync it, remove the run directory's files, and "
	  "exit." },
};

static const char *const help_exit[][2] = {
	{ "0", "A clean shutdown, or --help or --version answered." },
	{ "1", "A failure while starting or running: the data or run "
	       "directory unusable, another sfshmd holding the lock, an I/O "
	       "error." },
	{ "2", "An invalid command line or configuration file." },
};

static const char help_examples[] =
	"sfshmd --data-dir=/var/lib/sfshm\n"
	"sfshmd -c /etc/sfshm/server.properties --log-level=debug\n"
	"sfshmd --data-dir /srv/sfshm-b --run-dir /dev/shm/sfshm-b\n"
	"sfshmd --data-dir=/srv/sfshm --ring.bytes=64M "
	"--log.retention.hours=24\n\n"
	"A configuration file:\n\n"
	"# /etc/sfshm/server.properties\n"
	"log.dirs=/var/lib/sfshm\n"
	"num.partitions=4\n"
	"ring.bytes=16M\n"
	"log.retention.hours=168";

/* Terms and their descriptions, as in FILES. */
static void help_items(FILE *f, const char *const items[][2], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int col = fprintf(f, "%*s%s", HELP_INDENT, "", items[i][0]);

		/* A short term shares its line with the text, as in man(1). */
		if (col >= HELP_ITEM - 1) {
			fputc('\n', f);
			col = 0;
		}
		wrap_from(f, HELP_ITEM, col, items[i][1]);
	}
}

static void help_section(FILE *f, const char *title, const char *text)
{
	fprintf(f, "\n%s\n", title);
	put_wrapped(f, HELP_INDENT, text);
}

/* "-c FILE, --config=FILE" or "--data-dir=DIR, --log.dirs=DIR" */
static void help_flags(FILE *f, const struct opt *o)
{
	const char *eq = takes_value(o) ? "=" : "", *arg = o->arg ? o->arg : "";

	fprintf(f, "%*s", HELP_INDENT, "");
	if (o->shrt)
		fprintf(f, "-%c%s%s, ", o->shrt, *arg ? " " : "", arg);
	if (o->alias)
		fprintf(f, "--%s%s%s%s", o->alias, eq, arg, o->key ? ", " : "");
	if (o->key)
		fprintf(f, "--%s%s%s", o->key, eq, arg);
	fputc('\n', f);
}

static void help_option(FILE *f, const struct opt *o,
			const struct sfd_config *def)
{
	char val[300], line[340], name[SFD_INSTANCE_MAX + 1];

	help_flags(f, o);
	put_wrapped(f, HELP_ITEM, o->help);
	if (!o->key || (o->flags & F_ALIAS))
		return;
	format_value(o, def, val, sizeof(val));
	if (o->type == T_INSTANCE && !*val)
		snprintf(val, sizeof(val), "%s (%s)", INSTANCE_UNSET,
			 sfd_config_instance(def, name, sizeof(name)));
	snprintf(line, sizeof(line), "Default: %s.", *val ? val : "none");
	put_wrapped(f, HELP_ITEM, line);
}

static void print_help(FILE *f)
{
	struct sfd_config def;

	sfd_config_init(&def);
	fprintf(f, "SFSHMD(8)\n");
	help_section(f, "NAME", help_name);
	help_section(f, "SYNOPSIS", help_synopsis);
	help_section(f, "DESCRIPTION", help_description);
	fprintf(f, "\nOPTIONS\n");
	for (size_t i = 0; i < NOPTS; i++)
		help_option(f, &opts[i], &def);
	help_section(f, "CONFIGURATION FILE", help_config_file);
	help_section(f, "FILES", help_files_intro);
	fputc('\n', f);
	help_items(f, help_files, ARRAY_SIZE(help_files));
	fprintf(f, "\nSIGNALS\n");
	help_items(f, help_signals, ARRAY_SIZE(help_signals));
	fprintf(f, "\nEXIT STATUS\n");
	help_items(f, help_exit, ARRAY_SIZE(help_exit));
	help_section(f, "EXAMPLES", help_examples);
	fprintf(f, "\n%s\n", SFD_VERSION_STRING);
}
