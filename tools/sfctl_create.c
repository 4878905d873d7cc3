// SPDX-License-Identifier: MIT
/*
 * sfctl_create.c - `sfctl topic create NAME [settings]`.
 *
 * Every setting can be given as its own option (--segment-bytes 64M) or,
 * as with kafka-topics.sh, as --config with Kafka's topic config name
 * (--config segment.bytes=67108864).  One table below drives both, the
 * validation and the manual.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "sfctl_int.h"

enum kind { K_COUNT, K_SIZE, K_MS, K_OCTAL };

/*
 * A setting of struct sfshm_topic_config.
 * @option:    its long option.
 * @config:    its Kafka-style config name (NULL: none).
 * @unlimited: -1 is allowed and means "no limit".
 * @max:       the largest value taken.
 * @offset:    where it lives in the config; @wide: int64_t (else uint32_t).
 * @help:      its manual entry.
 * @dkey, @ddefault: the sfshmd setting that gives its default, and that
 *             setting's own default.
 */
struct field {
	const char *option;
	const char *config;
	enum kind kind;
	bool unlimited;
	bool wide;
	int64_t max;
	size_t offset;
	const char *help;
	const char *dkey;
	const char *ddefault;
};

#define STR_(x) #x
#define STR(x) STR_(x)
#define CFG(f) offsetof(struct sfshm_topic_config, f)

static const struct field fields[] = {
	{ "partitions", NULL, K_COUNT, false, false, SFSHM_PARTITIONS_MAX,
	  CFG(partitions), "number of partitions", "num.partitions", "1" },
	{ "ring-bytes", "ring.bytes", K_SIZE, false, true, INT64_MAX,
	  CFG(ring_bytes),
	  "bytes of each partition's ring in shared memory, a power of\n"
	  "           two",
	  "ring.bytes", "4M" },
	{ "segment-bytes", "segment.bytes", K_SIZE, false, true, INT64_MAX,
	  CFG(segment_bytes), "roll a log segment at this size",
	  "log.segment.bytes", "1G" },
	{ "segment-ms", "segment.ms", K_MS, false, true, INT64_MAX,
	  CFG(segment_ms), "roll a log segment at this age", "log.roll.ms",
	  "7d" },
	{ "retention-bytes", "retention.bytes", K_SIZE, true, true, INT64_MAX,
	  CFG(retention_bytes),
	  "keep at most this much log per partition; -1: no limit",
	  "log.retention.bytes", "-1" },
	{ "retention-ms", "retention.ms", K_MS, true, true, INT64_MAX,
	  CFG(retention_ms), "delete log segments older than this; -1: never",
	  "log.retention.ms", "7d" },
	{ "flush-messages", "flush.messages", K_COUNT, true, true, INT64_MAX,
	  CFG(flush_messages),
	  "fsync the log after this many records; -1: not by count",
	  "log.flush.interval.messages", "-1" },
	{ "flush-ms", "flush.ms", K_MS, true, true, INT64_MAX, CFG(flush_ms),
	  "fsync the log at least this often; -1: not by time",
	  "log.flush.interval.ms", "1000" },
	{ "mode", NULL, K_OCTAL, false, false, 07777, CFG(mode),
	  "permission bits of the topic's files, in octal: producers\n"
	  "           need write, consumers read permission",
	  "topic.mode", "0660" },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))
#define OPT_FIELD 0x100 /* + index in fields[] */
#define OPT_CONFIG 0x200
#define OPT_IF_NOT_EXISTS 0x201

static void help_field(FILE *f, const struct field *fl)
{
	static const char *const meta[] = {
		[K_COUNT] = "N",
		[K_SIZE] = "SIZE",
		[K_MS] = "MS",
		[K_OCTAL] = "OCTAL",
	};

	fprintf(f,
		"    --%s %s\n"
		"           %s\n"
		"           default: sfshmd's %s (%s)\n",
		fl->option, meta[fl->kind], fl->help, fl->dkey, fl->ddefault);
}

static void create_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl topic create - create a topic\n"
	      "\n"
	      "SYNOPSIS\n" SFCTL_CREATE_SYNOPSIS " [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Creates the topic NAME with its partition rings and commit\n"
	      "    logs, and returns once they exist.  A setting not given\n"
	      "    takes the daemon's default.  NAME follows Kafka's rules:\n"
	      "    1 to 249 characters of [a-zA-Z0-9._-], not \".\" or \"..\".\n"
	      "    Needs the daemon's user or root.\n"
	      "\n"
	      "    SIZE is a byte count with an optional binary suffix: 65536,\n"
	      "    64K, 64KiB, 4M, 1G.  MS is milliseconds, or a number with a\n"
	      "    unit: 1500ms, 30s, 5m, 12h, 7d.\n"
	      "\n"
	      "SETTINGS\n",
	      f);
	for (size_t i = 0; i < NFIELDS; i++)
		help_field(f, &fields[i]);
	fputs("    --config KEY=VALUE\n"
	      "           a setting by its Kafka topic config name, as\n"
	      "           kafka-topics.sh takes it; may be repeated.  KEY is\n"
	      "           one of:\n",
	      f);
	for (size_t i = 0; i < NFIELDS; i++)
		if (fields[i].config)
			fprintf(f, "               %-17s(--%s)\n",
				fields[i].config, fields[i].option);
	fputs("\n"
	      "OPTIONS\n"
	      "    --if-not-exists\n"
	      "           succeed (exit 0) if the topic exists already; its\n"
	      "           settings are left as they are\n",
	      f);
	sfctl_help_end(f);
	fputs("\n"
	      "EXAMPLES\n"
	      "    sfctl topic create orders --partitions 3\n"
	      "    sfctl topic create audit --ring-bytes 16M --mode 0640 \\\n"
	      "          --config retention.ms=-1 --config flush.messages=1\n",
	      f);
}

static const struct sfctl_cmd create_cmd = { "topic create", create_help };

static int parse_value(const struct field *fl, const char *s, int64_t *v)
{
	char *end;

	switch (fl->kind) {
	case K_SIZE:
		return sft_parse_size(s, v);
	case K_MS:
		return sft_parse_ms(s, v);
	case K_OCTAL:
		if (*s < '0' || *s > '7')
			return -EINVAL;
		errno = 0;
		*v = (int64_t)strtoull(s, &end, 8);
		return errno ? -ERANGE : *end ? -EINVAL : 0;
	default:
		return sft_parse_i64(s, v);
	}
}

static bool value_ok(const struct field *fl, int64_t v)
{
	if (v == -1 && fl->unlimited)
		return true;
	if (v < 1 || v > fl->max)
		return false;
	if (fl->offset == CFG(ring_bytes))
		return (v & (v - 1)) == 0;
	return true;
}

static const char *value_rule(const struct field *fl)
{
	if (fl->offset == CFG(ring_bytes))
		return "a power of two";
	if (fl->kind == K_OCTAL)
		return "octal permission bits, 1 to 7777";
	if (fl->offset == CFG(partitions))
		return "1 to " STR(SFSHM_PARTITIONS_MAX);
	return fl->unlimited ? "positive, or -1 for no limit" : "positive";
}

/* Set @fl to the text @s; @how names it in messages ("--mode"). */
static int set_field(struct sfshm_topic_config *cfg, const struct field *fl,
		     const char *how, const char *s)
{
	static const char *const syntax[] = {
		[K_COUNT] = "a number",
		[K_SIZE] = "a size (65536, 64K, 4M, 1G)",
		[K_MS] = "a duration (1500, 1500ms, 30s, 5m, 12h, 7d)",
		[K_OCTAL] = "an octal mode (0640)",
	};
	char *p = (char *)cfg + fl->offset;
	int64_t v;
	int err = parse_value(fl, s, &v);

	if (err)
		return sfctl_usage(&create_cmd, "bad %s '%s': %s %s", how, s,
				   err == -ERANGE ? "out of range for" : "not",
				   syntax[fl->kind]);
	if (!value_ok(fl, v))
		return sfctl_usage(&create_cmd, "bad %s '%s': must be %s", how,
				   s, value_rule(fl));
	if (fl->wide)
		memcpy(p, &v, sizeof(v));
	else
		*(uint32_t *)p = (uint32_t)v;
	return 0;
}

static int set_config(struct sfshm_topic_config *cfg, const char *kv)
{
	const char *eq = strchr(kv, '=');
	size_t klen = eq ? (size_t)(eq - kv) : 0;
	char how[64];

	for (size_t i = 0; eq && i < NFIELDS; i++) {
		const struct field *fl = &fields[i];

		if (!fl->config || strlen(fl->config) != klen ||
		    strncmp(fl->config, kv, klen))
			continue;
		snprintf(how, sizeof(how), "--config %s", fl->config);
		return set_field(cfg, fl, how, eq + 1);
	}
	if (!eq)
		return sfctl_usage(&create_cmd,
				   "--config takes KEY=VALUE, not '%s'", kv);
	return sfctl_usage(&create_cmd,
			   "unknown config '%.*s' (see --help for the keys)",
			   (int)klen, kv);
}

static void build_options(struct option *opts)
{
	size_t i;

	for (i = 0; i < NFIELDS; i++)
		opts[i] = (struct option){ fields[i].option, required_argument,
					   NULL, OPT_FIELD + (int)i };
	opts[i++] = (struct option){ "config", required_argument, NULL,
				     OPT_CONFIG };
	opts[i++] = (struct option){ "if-not-exists", no_argument, NULL,
				     OPT_IF_NOT_EXISTS };
	opts[i] = (struct option){ NULL, 0, NULL, 0 };
}

struct create_args {
	struct sfshm_topic_config cfg;
	bool if_not_exists;
	const char *name;
};

/* Return: -1 to go on, or the exit status. */
static int parse_args(struct sfctl *ctl, int argc, char **argv,
		      struct create_args *a)
{
	struct option opts[NFIELDS + 3];
	char how[64];
	int c, rc;

	build_options(opts);
	while ((c = sfctl_getopt(ctl, &create_cmd, argc, argv, "", opts)) !=
	       -1) {
		if (c == OPT_CONFIG) {
			rc = set_config(&a->cfg, optarg);
		} else if (c == OPT_IF_NOT_EXISTS) {
			a->if_not_exists = true;
			rc = 0;
		} else if (c >= OPT_FIELD && c < OPT_FIELD + (int)NFIELDS) {
			snprintf(how, sizeof(how), "--%s",
				 fields[c - OPT_FIELD].option);
			rc = set_field(&a->cfg, &fields[c - OPT_FIELD], how,
				       optarg);
		} else {
			return sfctl_opt_status(c);
		}
		if (rc)
			return rc;
	}
	return sfctl_one_name(&create_cmd, argc, argv, &a->name);
}

int sfctl_topic_create(struct sfctl *ctl, int argc, char **argv)
{
	struct create_args a = { 0 };
	int rc;

	sfshm_topic_config_init(&a.cfg);
	a.cfg.size = sizeof(a.cfg);
	rc = parse_args(ctl, argc, argv, &a);
	if (rc >= 0)
		return rc;
	if (sfshm_topic_name_valid(a.name) == -EINVAL) {
		fprintf(stderr,
			SFCTL ": topic create: '%s': invalid topic name: use 1 "
			      "to %d characters of [a-zA-Z0-9._-], not '.' or "
			      "'..'\n",
			a.name, SFSHM_TOPIC_MAX);
		return SFT_EXIT_FAIL;
	}
	if (sfctl_connect(ctl))
		return SFT_EXIT_FAIL;
	rc = sfshm_topic_create(ctl->client, a.name, &a.cfg);
	if (rc && !(rc == -EEXIST && a.if_not_exists))
		return sfctl_fail(ctl, &create_cmd, a.name, rc);
	sfctl_print_done(ctl, a.name, "created", !rc,
			 rc ? "Topic %s exists already.\n" :
			      "Created topic %s.\n");
	return SFT_EXIT_OK;
}
