/* SPDX-License-Identifier: MIT */
/*
 * sfctl_int.h - what the parts of sfctl (tools/sfctl*.c) share.
 *
 * Every command is a function `int cmd(struct sfctl *ctl, int argc, char
 * **argv)` whose argv[0] is the command's own name; it parses its options
 * with sfctl_getopt() and returns the exit status (SFT_EXIT_*).
 */
#ifndef SFSHM_SFCTL_INT_H
#define SFSHM_SFCTL_INT_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sftool.h"

#define SFCTL "sfctl"

struct sfctl {
	const char *run_dir; /* --run-dir, NULL: the library's default */
	bool json; /* --json */
	int timeout_ms; /* --timeout */
	struct sfshm_client *client; /* once connected */
};

/* A command: its full name ("topic create") and its manual. */
struct sfctl_cmd {
	const char *name;
	void (*help)(FILE *f);
};

/* sfctl_getopt() results besides option characters and -1. */
#define SFCTL_OPT_HELP 0x1000 /* --help was printed: exit 0 */
#define SFCTL_OPT_BAD 0x1001 /* a usage error was printed: exit 2 */

/*
 * sfctl_getopt() - getopt_long() with the options every command takes
 * (--help, --run-dir/-b, --json, --timeout) added to @shortopts and
 * @longopts (which may be NULL); a leading '+' in @shortopts stops at the
 * first operand (for commands with subcommands).  Before the first call
 * on a new argv set optind to 0 (sfctl_dispatch() does).
 * Return: an option character of the command's, -1 at the end,
 * SFCTL_OPT_HELP or SFCTL_OPT_BAD (already reported).
 */
int sfctl_getopt(struct sfctl *ctl, const struct sfctl_cmd *cmd, int argc,
		 char **argv, const char *shortopts,
		 const struct option *longopts);
/* Exit status for an sfctl_getopt() result that ends the command. */
int sfctl_opt_status(int c);

int sfctl_usage(const struct sfctl_cmd *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int sfctl_fail(struct sfctl *ctl, const struct sfctl_cmd *cmd, const char *what,
	       int err);
int sfctl_connect(struct sfctl *ctl);

/*
 * sfctl_start() - parse the options of a command that has none of its own
 * and connect; operands are refused unless @operands (they stay at
 * argv[optind]).
 * Return: -1 to go on, or the exit status (reported).
 */
int sfctl_start(struct sfctl *ctl, const struct sfctl_cmd *cmd, int argc,
		char **argv, bool operands);

/*
 * sfctl_one_name() - after the options, the one topic name @cmd takes.
 * Return: -1 to go on with *@name set, or SFT_EXIT_USAGE (reported).
 */
int sfctl_one_name(const struct sfctl_cmd *cmd, int argc, char **argv,
		   const char **name);

/*
 * sfctl_print_done() - report what a command did to the topic @name:
 * @text (a format for the name; NULL: nothing) for people, or with --json
 * the document {"topic": @name, @key: @done}.
 */
void sfctl_print_done(const struct sfctl *ctl, const char *name,
		      const char *key, bool done, const char *text);

/* A subcommand: its name, a line for its parent's manual, its function. */
struct sfctl_sub {
	const char *name;
	const char *summary;
	int (*run)(struct sfctl *ctl, int argc, char **argv);
};

/* Run the subcommand named by argv[optind] among @subs (NULL-name ended). */
int sfctl_dispatch(struct sfctl *ctl, const struct sfctl_cmd *parent,
		   const struct sfctl_sub *subs, int argc, char **argv);

/*
 * sfctl_group() - a command made of subcommands (@cmd's options, then
 * one of @subs with the rest of the arguments).  Return: the exit status.
 */
int sfctl_group(struct sfctl *ctl, const struct sfctl_cmd *cmd,
		const struct sfctl_sub *subs, int argc, char **argv);

/* `sfctl metrics` (sfctl_metrics.c).  Return: the exit status. */
int sfctl_metrics(struct sfctl *ctl, int argc, char **argv);

/* For a manual: @subs with their summaries, the names @width wide. */
void sfctl_help_subs(FILE *f, const struct sfctl_sub *subs, int width);

/*
 * The end of every manual: the OPTIONS every command takes (after the
 * command's own) and the EXIT STATUS section.
 */
void sfctl_help_end(FILE *f);

/* `sfctl topic create`'s synopsis, for its manual and `sfctl topic`'s. */
#define SFCTL_CREATE_SYNOPSIS                                                \
	"    sfctl topic create NAME [--partitions N] [--ring-bytes SIZE]\n" \
	"                [--segment-bytes SIZE] [--segment-ms MS]\n"         \
	"                [--retention-bytes SIZE] [--retention-ms MS]\n"     \
	"                [--flush-messages N] [--flush-ms MS]\n"             \
	"                [--mode OCTAL] [--config KEY=VALUE ...]\n"          \
	"                [--if-not-exists]"

/* `sfctl group reset-offsets`'s synopsis, for its manual and `sfctl
 * group`'s. */
#define SFCTL_RESET_SYNOPSIS                                               \
	"    sfctl group reset-offsets GROUP\n"                            \
	"                (--topic TOPIC[:P[,P...]] ... | --all-topics)\n"  \
	"                (--to-earliest | --to-latest | --to-offset N |\n" \
	"                 --to-datetime YYYY-MM-DDTHH:MM:SS[.mmm] |\n"     \
	"                 --shift-by N)\n"                                 \
	"                [--dry-run | --execute]"

/* The commands. */
int sfctl_topic(struct sfctl *ctl, int argc, char **argv);
int sfctl_topic_create(struct sfctl *ctl, int argc, char **argv);
int sfctl_topic_describe(struct sfctl *ctl, int argc, char **argv);
int sfctl_broker(struct sfctl *ctl, int argc, char **argv);
int sfctl_group_cmd(struct sfctl *ctl, int argc, char **argv);
int sfctl_group_reset(struct sfctl *ctl, int argc, char **argv);

/* ---- consumer groups (sfctl_group.c) ----------------------------------- */

/*
 * sfctl_group_fail() - report that @cmd failed on @group (or a topic), in
 * the daemon's words, naming it unless they quote it already.
 * Return: SFT_EXIT_FAIL.
 */
int sfctl_group_fail(struct sfctl *ctl, const struct sfctl_cmd *cmd,
		     const char *group, int err);

/*
 * sfctl_group_name() - after the options, the one group id @cmd takes.
 * Return: -1 to go on with *@group set, or SFT_EXIT_USAGE (reported).
 */
int sfctl_group_name(const struct sfctl_cmd *cmd, int argc, char **argv,
		     const char **group);

/* ---- output: aligned tables (sfctl_table.c) ---------------------------- */

struct table {
	unsigned ncols;
	const char *const *heads;
	const char *align; /* per column: 'l' or 'r' */
	char **cells;
	size_t ncells, cap;
};

void table_init(struct table *t, unsigned ncols, const char *const *heads,
		const char *align);
void table_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void table_print(const struct table *t, FILE *f);
void table_free(struct table *t);

/* ---- output: JSON (sfctl_json.c) --------------------------------------- */

#define JSON_MAX_DEPTH 16

struct json {
	FILE *f;
	int depth;
	bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json *j, FILE *f);
/* @key is NULL inside arrays and for the outermost value. */
void json_obj_begin(struct json *j, const char *key);
void json_obj_end(struct json *j);
void json_arr_begin(struct json *j, const char *key);
void json_arr_end(struct json *j);
void json_str(struct json *j, const char *key, const char *s);
void json_i64(struct json *j, const char *key, int64_t v);
void json_u64(struct json *j, const char *key, uint64_t v);
void json_bool(struct json *j, const char *key, bool v);

#endif
