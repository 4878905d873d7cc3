// SPDX-License-Identifier: MIT
/*
 * sfctl_topic.c - `sfctl topic`: its subcommands, list and delete (create
 * is in sfctl_create.c, describe in sfctl_describe.c).
 */
#include <stdio.h>
#include <string.h>

#include "sfctl_int.h"

/* ---- topic list -------------------------------------------------------- */

static void list_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl topic list - the names of all topics\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl topic list [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Prints the topic names, sorted, one per line (as\n"
	      "    kafka-topics.sh --list does); with --json the document\n"
	      "    {\"topics\": [\"name\", ...]}.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd list_cmd = { "topic list", list_help };

static void print_list(const struct sfctl *ctl, char **names)
{
	struct json j;

	if (!ctl->json) {
		for (char **n = names; *n; n++)
			printf("%s\n", *n);
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "topics");
	for (char **n = names; *n; n++)
		json_str(&j, NULL, *n);
	json_arr_end(&j);
	json_obj_end(&j);
}

static int topic_list(struct sfctl *ctl, int argc, char **argv)
{
	char **names;
	int n = sfctl_start(ctl, &list_cmd, argc, argv, false);

	if (n >= 0)
		return n;
	n = sfshm_topic_list(ctl->client, &names);
	if (n < 0)
		return sfctl_fail(ctl, &list_cmd, NULL, n);
	print_list(ctl, names);
	sfshm_free_list(names);
	return SFT_EXIT_OK;
}

/* ---- topic delete ------------------------------------------------------ */

static void delete_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl topic delete - delete a topic with its rings and logs\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl topic delete NAME [--if-exists] [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Deletes the topic NAME: its partition rings and its commit\n"
	      "    log are removed.  Producers and consumers still attached\n"
	      "    are not waited for: their next call fails with \"no such\n"
	      "    file or directory\" (-ENOENT).  Needs the daemon's user or\n"
	      "    root.\n"
	      "\n"
	      "OPTIONS\n"
	      "    --if-exists\n"
	      "           succeed (exit 0) when there is no such topic\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd delete_cmd = { "topic delete", delete_help };

static int topic_delete(struct sfctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "if-exists", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	bool if_exists = false;
	const char *name;
	int c, err, rc;

	while ((c = sfctl_getopt(ctl, &delete_cmd, argc, argv, "", opts)) !=
	       -1) {
		if (c != 'e')
			return sfctl_opt_status(c);
		if_exists = true;
	}
	rc = sfctl_one_name(&delete_cmd, argc, argv, &name);
	if (rc >= 0)
		return rc;
	if (sfctl_connect(ctl))
		return SFT_EXIT_FAIL;
	err = sfshm_topic_delete(ctl->client, name);
	if (err && !(err == -ENOENT && if_exists))
		return sfctl_fail(ctl, &delete_cmd, name, err);
	sfctl_print_done(ctl, name, "deleted", !err,
			 err ? NULL : "Deleted topic %s.\n");
	return SFT_EXIT_OK;
}

/* ---- topic ------------------------------------------------------------- */

static const struct sfctl_sub topic_subs[] = {
	{ "create", "create a topic", sfctl_topic_create },
	{ "list", "the names of all topics", topic_list },
	{ "describe", "settings and per-partition state of topics",
	  sfctl_topic_describe },
	{ "delete", "delete a topic, its rings and its logs", topic_delete },
	{ NULL, NULL, NULL },
};

static void topic_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl topic - create, list, describe and delete topics\n"
	      "\n"
	      "SYNOPSIS\n" SFCTL_CREATE_SYNOPSIS "\n"
	      "    sfctl topic list\n"
	      "    sfctl topic describe [NAME...]\n"
	      "    sfctl topic delete NAME [--if-exists]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    A topic is a named, partitioned log.  Each partition has a\n"
	      "    ring in shared memory, through which clients produce and\n"
	      "    consume, and a commit log on disk that sfshmd writes and\n"
	      "    trims by the topic's retention settings.  Topic names follow\n"
	      "    Kafka's rules: 1 to 249 characters of [a-zA-Z0-9._-], not\n"
	      "    \".\" or \"..\".\n"
	      "\n"
	      "COMMANDS\n",
	      f);
	sfctl_help_subs(f, topic_subs, 10);
	fputs("\n"
	      "    `sfctl topic COMMAND --help` describes each one.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd topic_cmd = { "topic", topic_help };

int sfctl_topic(struct sfctl *ctl, int argc, char **argv)
{
	return sfctl_group(ctl, &topic_cmd, topic_subs, argc, argv);
}
