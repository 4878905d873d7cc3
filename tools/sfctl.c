// SPDX-License-Identifier: MIT
/*
 * sfctl.c - the sfshm administration tool, in the manner of kafka-topics
 * and kafka-configs: `sfctl [global options] <command> [options]`.
 *
 * This file holds main(), the command tree's plumbing (option parsing
 * shared by every command, subcommand dispatch, error reporting) and the
 * top-level manual.  The commands live in sfctl_topic.c, sfctl_create.c,
 * sfctl_describe.c, sfctl_group.c, sfctl_group_reset.c,
 * sfctl_broker.c and sfctl_metrics.c; the output helpers in
 * sfctl_table.c and sfctl_json.c.
 *
 * Exit status: 0 success, 1 the operation failed, 2 usage error.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfctl_int.h"

#define MAX_OPTS 32

static const struct option common_long[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "run-dir", required_argument, NULL, 'b' },
	{ "json", no_argument, NULL, 'j' },
	{ "timeout", required_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

static void merge_long(const struct option *own, struct option *out)
{
	size_t n = 0;

	for (; own && own->name && n < MAX_OPTS - 5; own++)
		out[n++] = *own;
	memcpy(&out[n], common_long, sizeof(common_long));
}

static void merge_short(const char *own, char *out, size_t len)
{
	bool plus = own && own[0] == '+';

	snprintf(out, len, "%s:hb:%s", plus ? "+" : "", own ? own + plus : "");
}

static int common_option(struct sfctl *ctl, const struct sfctl_cmd *cmd, int c,
			 char **argv)
{
	char buf[8];
	int64_t v;

	switch (c) {
	case 'h':
		cmd->help(stdout);
		return SFCTL_OPT_HELP;
	case 'b':
		ctl->run_dir = optarg;
		return 0;
	case 'j':
		ctl->json = true;
		return 0;
	case 'w':
		if (sft_parse_ms(optarg, &v) || v <= 0 || v > INT32_MAX)
			return sfctl_usage(cmd, "bad --timeout '%s'", optarg),
			       SFCTL_OPT_BAD;
		ctl->timeout_ms = (int)v;
		return 0;
	case ':':
		sfctl_usage(cmd, "option '%s' needs a value",
			    sft_bad_option(argv, buf, sizeof(buf)));
		return SFCTL_OPT_BAD;
	default:
		sfctl_usage(cmd, "unknown option '%s'",
			    sft_bad_option(argv, buf, sizeof(buf)));
		return SFCTL_OPT_BAD;
	}
}

int sfctl_getopt(struct sfctl *ctl, const struct sfctl_cmd *cmd, int argc,
		 char **argv, const char *shortopts,
		 const struct option *longopts)
{
	struct option lopts[MAX_OPTS];
	char sopts[64];
	int c, r;

	merge_long(longopts, lopts);
	merge_short(shortopts, sopts, sizeof(sopts));
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, sopts, lopts, NULL);
		if (c != 'h' && c != 'b' && c != 'j' && c != 'w' && c != ':' &&
		    c != '?')
			return c;
		r = common_option(ctl, cmd, c, argv);
		if (r)
			return r;
	}
}

int sfctl_opt_status(int c)
{
	return c == SFCTL_OPT_HELP ? SFT_EXIT_OK : SFT_EXIT_USAGE;
}

/**
 * sfctl_usage() - report a usage error of @cmd.
 * Return: SFT_EXIT_USAGE, for `return sfctl_usage(...)`.
 */
int sfctl_usage(const struct sfctl_cmd *cmd, const char *fmt, ...)
{
	const char *sep = cmd->name[0] ? " " : "";
	va_list ap;

	fprintf(stderr, SFCTL "%s%s: ", sep, cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '" SFCTL "%s%s --help' for more information.\n",
		sep, cmd->name);
	return SFT_EXIT_USAGE;
}

/**
 * sfctl_fail() - report that @cmd failed on @what ("sfctl: topic create:
 * orders: already exists"), in the daemon's words when it gave some.
 * Return: SFT_EXIT_FAIL.
 */
int sfctl_fail(struct sfctl *ctl, const struct sfctl_cmd *cmd, const char *what,
	       int err)
{
	fprintf(stderr, SFCTL ": %s: %s%s%s\n", cmd->name, what ? what : "",
		what ? ": " : "", sft_errtext(ctl->client, err));
	return SFT_EXIT_FAIL;
}

/* Connect unless connected.  Return: 0 or SFT_EXIT_FAIL (reported). */
int sfctl_connect(struct sfctl *ctl)
{
	if (ctl->client)
		return 0;
	return sft_connect(SFCTL, ctl->run_dir, ctl->timeout_ms, &ctl->client);
}

int sfctl_start(struct sfctl *ctl, const struct sfctl_cmd *cmd, int argc,
		char **argv, bool operands)
{
	int c = sfctl_getopt(ctl, cmd, argc, argv, "", NULL);

	if (c != -1)
		return sfctl_opt_status(c);
	if (!operands && optind < argc)
		return sfctl_usage(cmd, "unexpected argument '%s'",
				   argv[optind]);
	return sfctl_connect(ctl) ? SFT_EXIT_FAIL : -1;
}

int sfctl_one_name(const struct sfctl_cmd *cmd, int argc, char **argv,
		   const char **name)
{
	if (argc - optind != 1)
		return sfctl_usage(cmd, "%s",
				   optind < argc ? "give one topic name" :
						   "missing topic name");
	*name = argv[optind];
	return -1;
}

void sfctl_print_done(const struct sfctl *ctl, const char *name,
		      const char *key, bool done, const char *text)
{
	struct json j;

	if (!ctl->json) {
		if (text)
			printf(text, name);
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "topic", name);
	json_bool(&j, key, done);
	json_obj_end(&j);
}

static const struct sfctl_sub *find_sub(const struct sfctl_sub *subs,
					const char *name)
{
	for (; subs->name; subs++)
		if (!strcmp(subs->name, name))
			return subs;
	return NULL;
}

/* `help X Y` runs `X Y --help`. */
static int help_as_option(struct sfctl *ctl, const struct sfctl_cmd *parent,
			  const struct sfctl_sub *subs, int argc, char **argv)
{
	char **args = sft_alloc(SFCTL, argc + 2, sizeof(*args));
	int rc;

	memcpy(args, argv, argc * sizeof(*args));
	args[argc] = "--help";
	optind = 0;
	rc = sfctl_dispatch(ctl, parent, subs, argc + 1, args);
	free(args);
	return rc;
}

/**
 * sfctl_dispatch() - run the subcommand of @parent that argv[optind]
 * names, with the rest of the arguments; `help X` is `X --help`.
 * Return: the exit status.
 */
int sfctl_dispatch(struct sfctl *ctl, const struct sfctl_cmd *parent,
		   const struct sfctl_sub *subs, int argc, char **argv)
{
	const struct sfctl_sub *sub;

	if (optind >= argc)
		return sfctl_usage(parent, "missing command");
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 >= argc) {
			parent->help(stdout);
			return SFT_EXIT_OK;
		}
		return help_as_option(ctl, parent, subs, argc - optind - 1,
				      argv + optind + 1);
	}
	sub = find_sub(subs, argv[optind]);
	if (!sub)
		return sfctl_usage(parent, "unknown command '%s'",
				   argv[optind]);
	argc -= optind;
	argv += optind;
	optind = 0;
	return sub->run(ctl, argc, argv);
}

int sfctl_group(struct sfctl *ctl, const struct sfctl_cmd *cmd,
		const struct sfctl_sub *subs, int argc, char **argv)
{
	int c = sfctl_getopt(ctl, cmd, argc, argv, "+", NULL);

	if (c != -1)
		return sfctl_opt_status(c);
	return sfctl_dispatch(ctl, cmd, subs, argc, argv);
}

void sfctl_help_subs(FILE *f, const struct sfctl_sub *subs, int width)
{
	for (; subs->name; subs++)
		fprintf(f, "    %-*s%s\n", width, subs->name, subs->summary);
}

/* The OPTIONS every command takes, for the manuals. */
static void help_common(FILE *f)
{
	fputs("    -b, --run-dir DIR\n"
	      "           the run directory of the sfshmd to talk to (its\n"
	      "           control socket is DIR/sfshmd.sock); default:\n"
	      "           $" SFSHM_RUN_DIR_ENV ", else " SFSHM_DEFAULT_RUN_DIR
	      "\n"
	      "    --json\n"
	      "           print one JSON document on standard output instead\n"
	      "           of tables\n"
	      "    --timeout MS\n"
	      "           give up on a request to the daemon after MS (default\n"
	      "           5000; units ms, s, m accepted: 10s)\n"
	      "    -h, --help\n"
	      "           print this manual and exit\n",
	      f);
}

void sfctl_help_end(FILE *f)
{
	help_common(f);
	fputs("\n"
	      "EXIT STATUS\n"
	      "    0  success\n"
	      "    1  the operation failed (no daemon, unknown topic, topic\n"
	      "       exists, permission denied, ...); the reason is on stderr\n"
	      "    2  usage error: unknown command or option, bad value\n",
	      f);
}

static const struct sfctl_sub top_subs[] = {
	{ "topic", "create, list, describe and delete topics", sfctl_topic },
	{ "group", "list, describe, delete consumer groups, reset offsets",
	  sfctl_group_cmd },
	{ "broker", "ask the daemon about itself", sfctl_broker },
	{ "metrics", "per-partition counters, latencies, lag (--prometheus)",
	  sfctl_metrics },
	{ NULL, NULL, NULL },
};

static void top_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl - administer the sfshm shared-memory message bus\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl [-b DIR] [--json] [--timeout MS] <command> [options]\n"
	      "    sfctl help [command [subcommand]]\n"
	      "    sfctl <command> [subcommand] --help\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    sfctl talks to a running sfshmd over its control socket to\n"
	      "    create, inspect and delete topics, as kafka-topics.sh and\n"
	      "    kafka-configs.sh do for Kafka, and to inspect and manage\n"
	      "    consumer groups, as kafka-consumer-groups.sh does.  Output\n"
	      "    is aligned tables for people, or with --json one JSON\n"
	      "    document for programs.  Global options may also follow the\n"
	      "    command.\n"
	      "\n"
	      "COMMANDS\n",
	      f);
	sfctl_help_subs(f, top_subs, 9);
	fputs("\n"
	      "    topic create NAME [--partitions N] [--config K=V ...]\n"
	      "    topic list\n"
	      "    topic describe [NAME...]\n"
	      "    topic delete NAME\n"
	      "    group list\n"
	      "    group describe [GROUP...]\n"
	      "    group delete GROUP\n"
	      "    group reset-offsets GROUP (--topic T[:P,...] | "
	      "--all-topics)\n"
	      "          (--to-earliest | --to-latest | --to-offset N |\n"
	      "           --to-datetime TIME | --shift-by N) [--execute]\n"
	      "    broker info\n"
	      "    metrics [--prometheus] [--instance NAME | --bpf-dir DIR]\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
	fputs("\n"
	      "ENVIRONMENT\n"
	      "    " SFSHM_RUN_DIR_ENV
	      "  the run directory when -b is not given\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfctl topic create orders --partitions 3 \\\n"
	      "          --config retention.ms=86400000\n"
	      "    sfctl topic describe orders\n"
	      "    sfctl --json topic list\n"
	      "    sfctl group describe billing\n"
	      "    sfctl -b /dev/shm/sfshm-test broker info\n"
	      "    sudo sfctl metrics --prometheus\n"
	      "\n"
	      "SEE ALSO\n"
	      "    sfcat(1), sftop(1), sfshmd(8)\n",
	      f);
}

static const struct sfctl_cmd top_cmd = { "", top_help };

int main(int argc, char **argv)
{
	struct sfctl ctl = { 0 };
	int c, rc;

	optind = 0;
	c = sfctl_getopt(&ctl, &top_cmd, argc, argv, "+", NULL);
	if (c != -1)
		return sfctl_opt_status(c);
	rc = sfctl_dispatch(&ctl, &top_cmd, top_subs, argc, argv);
	sfshm_disconnect(ctl.client);
	return sft_flush_stdout(SFCTL) ? SFT_EXIT_FAIL : rc;
}
