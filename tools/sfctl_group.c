// SPDX-License-Identifier: MIT
/*
 * sfctl_group.c - `sfctl group`: consumer groups, as kafka-consumer-groups
 * shows and manages them: list, describe and delete (reset-offsets is in
 * sfctl_group_reset.c).
 *
 * describe joins what the daemon says about a group: its committed
 * offsets, each with its partition's log end, and its members with the
 * partitions they own; a partition owned but never committed gets its log
 * end from a ListOffsets request.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfctl_int.h"

/* The rule for group ids, for the manuals. */
#define GROUP_ID_RULE                                                   \
	"\n"                                                            \
	"    GROUP is a consumer group id (a consumer's group.id): 1\n" \
	"    to 249 characters, no '/'.\n"

int sfctl_group_fail(struct sfctl *ctl, const struct sfctl_cmd *cmd,
		     const char *group, int err)
{
	const char *text = sft_errtext(ctl->client, err);
	char quoted[300];

	snprintf(quoted, sizeof(quoted), "\"%s\"", group ? group : "");
	return sfctl_fail(ctl, cmd,
			  group && !strstr(text, quoted) ? group : NULL, err);
}

int sfctl_group_name(const struct sfctl_cmd *cmd, int argc, char **argv,
		     const char **group)
{
	if (argc - optind != 1)
		return sfctl_usage(cmd, "%s",
				   optind < argc ? "give one group id" :
						   "missing group id");
	*group = argv[optind];
	return -1;
}

/* ---- group list --------------------------------------------------------- */

static void list_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl group list - every consumer group and its state\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl group list [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Lists the consumer groups the daemon knows, sorted by id:\n"
	      "    those with members now and those with committed offsets\n"
	      "    (kafka-consumer-groups.sh --list --state).  Columns:\n"
	      "\n"
	      "    GROUP       the group id\n"
	      "    STATE       Empty (no members, only committed offsets),\n"
	      "                Stable (members own their partitions), or\n"
	      "                PreparingRebalance (partitions are being\n"
	      "                revoked before a new assignment)\n"
	      "    MEMBERS     members now, static members away within their\n"
	      "                grace period included\n"
	      "    GENERATION  bumped by every rebalance; 0 for a group known\n"
	      "                only by its committed offsets since the daemon\n"
	      "                started\n"
	      "    ASSIGNOR    range, roundrobin or sticky; - without members\n"
	      "\n"
	      "    With --json: {\"groups\": [{\"group\", \"state\",\n"
	      "    \"members\", \"generation\", \"assignor\"}, ...]}\n"
	      "    (\"assignor\" is \"\" without members).\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd list_cmd = { "group list", list_help };

static void list_table(const struct sfshm_group_info *gi, int n)
{
	static const char *const heads[] = { "GROUP", "STATE", "MEMBERS",
					     "GENERATION", "ASSIGNOR" };
	struct table t;

	table_init(&t, 5, heads, "llrrl");
	for (int i = 0; i < n; i++) {
		table_cell(&t, "%s", gi[i].group);
		table_cell(&t, "%s", gi[i].state);
		table_cell(&t, "%" PRIu32, gi[i].members);
		table_cell(&t, "%" PRId32, gi[i].generation);
		table_cell(&t, "%s", gi[i].assignor[0] ? gi[i].assignor : "-");
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void list_json(const struct sfshm_group_info *gi, int n)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_arr_begin(&j, "groups");
	for (int i = 0; i < n; i++) {
		json_obj_begin(&j, NULL);
		json_str(&j, "group", gi[i].group);
		json_str(&j, "state", gi[i].state);
		json_u64(&j, "members", gi[i].members);
		json_i64(&j, "generation", gi[i].generation);
		json_str(&j, "assignor", gi[i].assignor);
		json_obj_end(&j);
	}
	json_arr_end(&j);
	json_obj_end(&j);
}

static int group_list(struct sfctl *ctl, int argc, char **argv)
{
	struct sfshm_group_info *gi;
	int n = sfctl_start(ctl, &list_cmd, argc, argv, false);

	if (n >= 0)
		return n;
	n = sfshm_group_list(ctl->client, &gi);
	if (n < 0)
		return sfctl_fail(ctl, &list_cmd, NULL, n);
	if (ctl->json)
		list_json(gi, n);
	else
		list_table(gi, n);
	free(gi);
	return SFT_EXIT_OK;
}

/* ---- group describe ----------------------------------------------------- */

static void describe_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl group describe - members, assignment, committed\n"
	      "    offsets and lag of consumer groups\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl group describe [GROUP...] [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    For each GROUP (every group if none is given) prints a line\n"
	      "    with its state, generation, assignor and member count, then\n"
	      "    as kafka-consumer-groups.sh --describe --offsets a table\n"
	      "    with one row per partition the group has committed an\n"
	      "    offset for or a member owns, sorted by topic and partition:\n"
	      "\n"
	      "    GROUP           the group\n"
	      "    TOPIC, PARTITION\n"
	      "    CURRENT-OFFSET  the committed offset: the next record the\n"
	      "                    group reads (- if none was committed)\n"
	      "    LOG-END-OFFSET  the partition's log end: the offset the\n"
	      "                    next record produced will get (- if the\n"
	      "                    topic no longer exists)\n"
	      "    LAG             LOG-END-OFFSET - CURRENT-OFFSET: records\n"
	      "                    not consumed yet (- if either is unknown)\n"
	      "    CONSUMER-ID     the member owning the partition (- if none)\n"
	      "    PID             its process\n"
	      "    CLIENT-ID       its client id\n"
	      "\n"
	      "    and as --describe --members --verbose a table of members:\n"
	      "\n"
	      "    CONSUMER-ID        given by the daemon when it joined\n"
	      "    GROUP-INSTANCE-ID  group.instance.id of a static member\n"
	      "                       (- for a dynamic one)\n"
	      "    PID, CLIENT-ID\n"
	      "    STATE              connected, or away (a static member in\n"
	      "                       its grace period keeps its partitions)\n"
	      "    #PARTITIONS        how many partitions it owns\n"
	      "    ASSIGNMENT         which: topic(0,1,2),other(0)\n"
	      "\n"
	      "    A group without members says so instead of the second\n"
	      "    table.\n" GROUP_ID_RULE "\n"
	      "    With --json: {\"groups\": [{\"group\", \"state\",\n"
	      "    \"generation\", \"assignor\", \"offsets\": [{\"topic\",\n"
	      "    \"partition\", \"committed\", \"log_end\", \"lag\",\n"
	      "    \"member_id\", \"pid\", \"client_id\"}, ...], \"members\":\n"
	      "    [{\"member_id\", \"instance_id\", \"client_id\", \"pid\",\n"
	      "    \"state\", \"assignment\": [{\"topic\", \"partition\"},\n"
	      "    ...]}, ...]}, ...]}; a value shown as - in the table is\n"
	      "    left out.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
	fputs("    A group the daemon does not know (no members, no committed\n"
	      "    offsets) is reported on stderr; the others are still\n"
	      "    described, and the status is 1.\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfctl group describe billing\n"
	      "    sfctl group describe --json | jq '.groups[].offsets[].lag'\n",
	      f);
}

static const struct sfctl_cmd describe_cmd = { "group describe",
					       describe_help };

/* A row of the offsets table. */
struct orow {
	const char *topic;
	int32_t partition;
	int64_t committed; /* -1: none */
	int64_t log_end; /* -1: unknown */
	const struct sfshm_group_member *owner;
};

struct rows {
	struct orow *v;
	size_t n, cap;
};

static struct orow *rows_find(struct rows *r, const char *topic, int32_t p)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].partition == p && !strcmp(r->v[i].topic, topic))
			return &r->v[i];
	return NULL;
}

static struct orow *rows_add(struct rows *r, const char *topic, int32_t p)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->v = sft_realloc(SFCTL, r->v, r->cap, sizeof(*r->v));
	}
	r->v[r->n] = (struct orow){ topic, p, -1, -1, NULL };
	return &r->v[r->n++];
}

static int cmp_rows(const void *a, const void *b)
{
	const struct orow *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c :
		   (x->partition > y->partition) -
			       (x->partition < y->partition);
}

/* Committed offsets, then the partitions members own. */
static void build_rows(struct sfctl *ctl,
		       const struct sfshm_group_description *d, struct rows *r)
{
	for (unsigned i = 0; i < d->noffsets; i++) {
		const struct sfshm_group_offset *o = &d->offsets[i];
		struct orow *row = rows_add(r, o->topic, o->partition);

		row->committed = o->committed;
		row->log_end = o->log_end;
	}
	for (unsigned m = 0; m < d->nmembers; m++) {
		const struct sfshm_group_member *gm = &d->members[m];

		for (unsigned i = 0; i < gm->ntps; i++) {
			const struct sfshm_tp *tp = &gm->tps[i];
			struct orow *row =
				rows_find(r, tp->topic, tp->partition);

			if (!row) {
				row = rows_add(r, tp->topic, tp->partition);
				if (sfshm_list_offset(ctl->client, tp->topic,
						      tp->partition,
						      SFSHM_OFFSET_END,
						      &row->log_end))
					row->log_end = -1;
			}
			row->owner = gm;
		}
	}
	qsort(r->v, r->n, sizeof(*r->v), cmp_rows);
}

static bool lag_known(const struct orow *row)
{
	return row->committed >= 0 && row->log_end >= 0;
}

/* A number, or "-" when negative (unknown). */
static void cell_num(struct table *t, int64_t v)
{
	if (v < 0)
		table_cell(t, "-");
	else
		table_cell(t, "%" PRId64, v);
}

static void offsets_table(const char *group, const struct rows *r)
{
	static const char *const heads[] = {
		"GROUP",	  "TOPIC", "PARTITION",	  "CURRENT-OFFSET",
		"LOG-END-OFFSET", "LAG",   "CONSUMER-ID", "PID",
		"CLIENT-ID",
	};
	struct table t;

	table_init(&t, 9, heads, "llrrrrlrl");
	for (size_t i = 0; i < r->n; i++) {
		const struct orow *row = &r->v[i];

		table_cell(&t, "%s", group);
		table_cell(&t, "%s", row->topic);
		table_cell(&t, "%" PRId32, row->partition);
		cell_num(&t, row->committed);
		cell_num(&t, row->log_end);
		if (lag_known(row))
			table_cell(&t, "%" PRId64,
				   row->log_end - row->committed);
		else
			table_cell(&t, "-");
		table_cell(&t, "%s", row->owner ? row->owner->member_id : "-");
		if (row->owner)
			table_cell(&t, "%" PRIu32, row->owner->pid);
		else
			table_cell(&t, "-");
		table_cell(&t, "%s", row->owner ? row->owner->client_id : "-");
	}
	table_print(&t, stdout);
	table_free(&t);
}

/* "topic(0,1,2),other(0)", in the member's order. */
static char *assignment_text(const struct sfshm_group_member *gm)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);

	if (!f)
		sft_oom(SFCTL);
	for (unsigned i = 0; i < gm->ntps; i++) {
		bool same = i &&
			    !strcmp(gm->tps[i - 1].topic, gm->tps[i].topic);
		bool last = i + 1 == gm->ntps ||
			    strcmp(gm->tps[i + 1].topic, gm->tps[i].topic);

		if (!same)
			fprintf(f, "%s%s(", i ? "," : "", gm->tps[i].topic);
		fprintf(f, "%s%" PRId32 "%s", same ? "," : "",
			gm->tps[i].partition, last ? ")" : "");
	}
	if (fclose(f))
		sft_oom(SFCTL);
	return s;
}

static int cmp_tps(const void *a, const void *b)
{
	const struct sfshm_tp *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c :
		   (x->partition > y->partition) -
			       (x->partition < y->partition);
}

static void members_table(const char *group,
			  const struct sfshm_group_description *d)
{
	static const char *const heads[] = {
		"GROUP",     "CONSUMER-ID", "GROUP-INSTANCE-ID", "PID",
		"CLIENT-ID", "STATE",	    "#PARTITIONS",	 "ASSIGNMENT",
	};
	struct table t;

	table_init(&t, 8, heads, "lllrllrl");
	for (unsigned i = 0; i < d->nmembers; i++) {
		const struct sfshm_group_member *gm = &d->members[i];
		char *as = assignment_text(gm);

		table_cell(&t, "%s", group);
		table_cell(&t, "%s", gm->member_id);
		table_cell(&t, "%s",
			   gm->instance_id[0] ? gm->instance_id : "-");
		table_cell(&t, "%" PRIu32, gm->pid);
		table_cell(&t, "%s", gm->client_id[0] ? gm->client_id : "-");
		table_cell(&t, "%s", gm->state);
		table_cell(&t, "%u", gm->ntps);
		table_cell(&t, "%s", as[0] ? as : "-");
		free(as);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static void print_group(const struct sfshm_group_description *d,
			const struct rows *r)
{
	const struct sfshm_group_info *gi = &d->info;

	printf("Group: %s\tState: %s\tGeneration: %" PRId32
	       "\tAssignor: %s\tMembers: %" PRIu32 "\n\n",
	       gi->group, gi->state, gi->generation,
	       gi->assignor[0] ? gi->assignor : "-", gi->members);
	if (r->n) {
		offsets_table(gi->group, r);
		printf("\n");
	}
	if (d->nmembers)
		members_table(gi->group, d);
	else
		printf("Consumer group '%s' has no active members.\n",
		       gi->group);
}

static void json_row(struct json *j, const struct orow *row)
{
	json_obj_begin(j, NULL);
	json_str(j, "topic", row->topic);
	json_i64(j, "partition", row->partition);
	if (row->committed >= 0)
		json_i64(j, "committed", row->committed);
	if (row->log_end >= 0)
		json_i64(j, "log_end", row->log_end);
	if (lag_known(row))
		json_i64(j, "lag", row->log_end - row->committed);
	if (row->owner) {
		json_str(j, "member_id", row->owner->member_id);
		json_u64(j, "pid", row->owner->pid);
		json_str(j, "client_id", row->owner->client_id);
	}
	json_obj_end(j);
}

static void json_member(struct json *j, const struct sfshm_group_member *gm)
{
	json_obj_begin(j, NULL);
	json_str(j, "member_id", gm->member_id);
	json_str(j, "instance_id", gm->instance_id);
	json_str(j, "client_id", gm->client_id);
	json_u64(j, "pid", gm->pid);
	json_str(j, "state", gm->state);
	json_arr_begin(j, "assignment");
	for (unsigned i = 0; i < gm->ntps; i++) {
		json_obj_begin(j, NULL);
		json_str(j, "topic", gm->tps[i].topic);
		json_i64(j, "partition", gm->tps[i].partition);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void json_group(struct json *j, const struct sfshm_group_description *d,
		       const struct rows *r)
{
	json_obj_begin(j, NULL);
	json_str(j, "group", d->info.group);
	json_str(j, "state", d->info.state);
	json_i64(j, "generation", d->info.generation);
	json_str(j, "assignor", d->info.assignor);
	json_arr_begin(j, "offsets");
	for (size_t i = 0; i < r->n; i++)
		json_row(j, &r->v[i]);
	json_arr_end(j);
	json_arr_begin(j, "members");
	for (unsigned i = 0; i < d->nmembers; i++)
		json_member(j, &d->members[i]);
	json_arr_end(j);
	json_obj_end(j);
}

/* Describe one group, the @n-th printed.  Return: 0 or the exit status. */
static int describe_one(struct sfctl *ctl, struct json *j, const char *group,
			unsigned *n)
{
	struct sfshm_group_description *d;
	struct rows r = { 0 };
	int err = sfshm_group_describe(ctl->client, group, &d);

	if (err)
		return sfctl_group_fail(ctl, &describe_cmd, group, err);
	for (unsigned i = 0; i < d->nmembers; i++)
		qsort(d->members[i].tps, d->members[i].ntps,
		      sizeof(*d->members[i].tps), cmp_tps);
	build_rows(ctl, d, &r);
	if (ctl->json) {
		json_group(j, d, &r);
	} else {
		if ((*n)++)
			printf("\n");
		print_group(d, &r);
	}
	free(r.v);
	sfshm_group_description_free(d);
	return 0;
}

static int describe_groups(struct sfctl *ctl, const char *const *groups,
			   int count)
{
	struct json j;
	unsigned n = 0;
	int rc = 0;

	json_init(&j, stdout);
	if (ctl->json) {
		json_obj_begin(&j, NULL);
		json_arr_begin(&j, "groups");
	}
	for (int i = 0; i < count; i++)
		if (describe_one(ctl, &j, groups[i], &n))
			rc = SFT_EXIT_FAIL;
	if (ctl->json) {
		json_arr_end(&j);
		json_obj_end(&j);
	}
	return rc;
}

static int describe_all(struct sfctl *ctl)
{
	struct sfshm_group_info *gi;
	const char **names;
	int rc, n = sfshm_group_list(ctl->client, &gi);

	if (n < 0)
		return sfctl_fail(ctl, &describe_cmd, NULL, n);
	names = sft_alloc(SFCTL, (size_t)n, sizeof(*names));
	for (int i = 0; i < n; i++)
		names[i] = gi[i].group;
	rc = describe_groups(ctl, names, n);
	free(names);
	free(gi);
	return rc;
}

static int group_describe(struct sfctl *ctl, int argc, char **argv)
{
	int rc = sfctl_start(ctl, &describe_cmd, argc, argv, true);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return describe_groups(ctl, (const char *const *)argv + optind,
				       argc - optind);
	return describe_all(ctl);
}

/* ---- group delete ------------------------------------------------------- */

static void delete_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl group delete - delete a consumer group's committed\n"
	      "    offsets\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl group delete GROUP [--if-exists] [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Deletes the committed offsets of GROUP, durably, as\n"
	      "    kafka-consumer-groups.sh --delete does: a consumer that\n"
	      "    joins the group later starts where its auto.offset.reset\n"
	      "    says.  Refused while the group has members (stop them\n"
	      "    first; a static member counts until its grace period is\n"
	      "    over).  Needs the daemon's user or root.\n" GROUP_ID_RULE
	      "\n"
	      "    With --json: {\"group\": GROUP, \"deleted\": true|false}.\n"
	      "\n"
	      "OPTIONS\n"
	      "    --if-exists\n"
	      "           succeed (exit 0) when the group has no committed\n"
	      "           offsets\n",
	      f);
	sfctl_help_end(f);
}

static const struct sfctl_cmd delete_cmd = { "group delete", delete_help };

static void print_deleted(const struct sfctl *ctl, const char *group, bool done)
{
	struct json j;

	if (!ctl->json) {
		if (done)
			printf("Deleted consumer group %s.\n", group);
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j, NULL);
	json_str(&j, "group", group);
	json_bool(&j, "deleted", done);
	json_obj_end(&j);
}

static int group_delete(struct sfctl *ctl, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "if-exists", no_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	bool if_exists = false;
	const char *group = NULL;
	int c, err, rc;

	while ((c = sfctl_getopt(ctl, &delete_cmd, argc, argv, "", opts)) !=
	       -1) {
		if (c != 'e')
			return sfctl_opt_status(c);
		if_exists = true;
	}
	rc = sfctl_group_name(&delete_cmd, argc, argv, &group);
	if (rc >= 0)
		return rc;
	if (sfctl_connect(ctl))
		return SFT_EXIT_FAIL;
	err = sfshm_group_delete(ctl->client, group);
	if (err && !(err == -ENOENT && if_exists))
		return sfctl_group_fail(ctl, &delete_cmd, group, err);
	print_deleted(ctl, group, !err);
	return SFT_EXIT_OK;
}

/* ---- group -------------------------------------------------------------- */

static const struct sfctl_sub group_subs[] = {
	{ "list", "every consumer group and its state", group_list },
	{ "describe", "members, assignment, committed offsets and lag",
	  group_describe },
	{ "delete", "delete a group's committed offsets", group_delete },
	{ "reset-offsets", "set a group's committed offsets",
	  sfctl_group_reset },
	{ NULL, NULL, NULL },
};

static void group_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl group - consumer groups: list, describe, delete,\n"
	      "    reset offsets\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfctl group list\n"
	      "    sfctl group describe [GROUP...]\n"
	      "    sfctl group delete GROUP [--if-exists]\n" SFCTL_RESET_SYNOPSIS
	      "\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    A consumer group is a set of consumers sharing the\n"
	      "    partitions of the topics they subscribe to: the daemon\n"
	      "    assigns each partition to one member, and keeps the\n"
	      "    offsets the group commits, so that a member taking over a\n"
	      "    partition continues where the group left it.  These\n"
	      "    commands do what kafka-consumer-groups.sh does for Kafka.\n"
	      "\n"
	      "COMMANDS\n",
	      f);
	sfctl_help_subs(f, group_subs, 15);
	fputs("\n"
	      "    `sfctl group COMMAND --help` describes each one.\n"
	      "\n"
	      "OPTIONS\n",
	      f);
	sfctl_help_end(f);
	fputs("\n"
	      "EXAMPLES\n"
	      "    sfctl group list\n"
	      "    sfctl group describe billing\n"
	      "    sfctl group reset-offsets billing --all-topics "
	      "--to-earliest\n"
	      "    sfctl group reset-offsets billing --topic orders:0,1 \\\n"
	      "          --shift-by -100 --execute\n",
	      f);
}

static const struct sfctl_cmd group_cmd = { "group", group_help };

int sfctl_group_cmd(struct sfctl *ctl, int argc, char **argv)
{
	return sfctl_group(ctl, &group_cmd, group_subs, argc, argv);
}
