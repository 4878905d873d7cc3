// SPDX-License-Identifier: MIT
/*
 * sfctl_group_reset.c - `sfctl group reset-offsets GROUP`: move a consumer
 * group's committed offsets, as kafka-consumer-groups.sh --reset-offsets.
 *
 * The plan is computed here, not by the daemon: the partitions (named by
 * --topic, or with --all-topics those the group has committed offsets
 * for), their current committed offsets (describe), their log start and
 * end and the offset at a time (ListOffsets).  --dry-run (the default)
 * prints it; --execute sends it as one reset request, which the daemon
 * refuses while the group has members.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sfctl_int.h"

static void reset_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfctl group reset-offsets - set a consumer group's\n"
	      "    committed offsets\n"
	      "\n"
	      "SYNOPSIS\n" SFCTL_RESET_SYNOPSIS " [--json] [-b DIR]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Computes new committed offsets for partitions of GROUP and,\n"
	      "    with --execute, commits them, as kafka-consumer-groups.sh\n"
	      "    --reset-offsets does.  Without --execute (or with\n"
	      "    --dry-run) nothing changes: the plan is only printed.  The\n"
	      "    group must have no members, in a dry run too: stop its\n"
	      "    consumers first (a static member counts until its grace\n"
	      "    period is over).  --execute needs the daemon's user or\n"
	      "    root.  GROUP need not exist yet: its offsets are created.\n"
	      "    GROUP is a consumer group id: 1 to 249 characters, no '/'.\n"
	      "\n"
	      "    The plan is a table (GROUP, TOPIC, PARTITION,\n"
	      "    CURRENT-OFFSET: the committed offset now or - if none,\n"
	      "    NEW-OFFSET), printed before --execute applies it; with\n"
	      "    --json {\"group\", \"executed\": true|false, \"offsets\":\n"
	      "    [{\"topic\", \"partition\", \"current\", \"new\"}, ...]}\n"
	      "    (\"current\" left out when there is none).\n"
	      "\n"
	      "WHICH PARTITIONS (one of)\n"
	      "    --topic TOPIC[:P[,P...]]\n"
	      "           partitions P of TOPIC, or all of its partitions; may\n"
	      "           be repeated\n"
	      "    --all-topics\n"
	      "           every partition the group has a committed offset\n"
	      "           for (as Kafka; partitions of topics deleted since\n"
	      "           are skipped with a warning)\n"
	      "\n"
	      "WHERE TO (one of)\n"
	      "    --to-earliest\n"
	      "           the log start: the first record still kept\n"
	      "    --to-latest\n"
	      "           the log end: only records produced from now on\n"
	      "    --to-offset N\n"
	      "           offset N\n"
	      "    --to-datetime YYYY-MM-DDTHH:MM:SS[.mmm][Z|+HH:MM|-HH:MM]\n"
	      "           the first record whose timestamp is at or after this\n"
	      "           time (UTC unless a zone is given), or the log end if\n"
	      "           there is none\n"
	      "    --shift-by N\n"
	      "           the committed offset plus N (N may be negative);\n"
	      "           every partition must have one\n"
	      "\n"
	      "    As in Kafka, --to-offset and --shift-by are clamped into\n"
	      "    [log start, log end].\n"
	      "\n"
	      "OPTIONS\n"
	      "    --dry-run\n"
	      "           print the plan, change nothing (the default)\n"
	      "    --execute\n"
	      "           commit the plan; all of it or, on failure, none\n"
	      "           (unless it holds thousands of partitions: then it\n"
	      "           is sent in parts, stopping at the first failure)\n",
	      f);
	sfctl_help_end(f);
	fputs("\n"
	      "EXAMPLES\n"
	      "    sfctl group reset-offsets billing --all-topics "
	      "--to-earliest\n"
	      "    sfctl group reset-offsets billing --topic orders "
	      "--to-latest --execute\n"
	      "    sfctl group reset-offsets billing --topic orders:0,2 \\\n"
	      "          --to-datetime 2026-11-27T08:00:00.000 --execute\n"
	      "    sfctl group reset-offsets billing --all-topics "
	      "--shift-by -10 --execute\n",
	      f);
}

static const struct sfctl_cmd reset_cmd = { "group reset-offsets", reset_help };

enum target {
	TO_NONE,
	TO_EARLIEST,
	TO_LATEST,
	TO_OFFSET,
	TO_DATETIME,
	TO_SHIFT
};

/* A --topic: a topic, and its partitions (none: all). */
struct topic_arg {
	char *name;
	int32_t *parts;
	unsigned nparts;
};

struct reset_args {
	const char *group;
	struct topic_arg *topics;
	unsigned ntopics;
	bool all_topics;
	enum target to;
	int64_t arg; /* N, or the time in ms */
	bool dry_run, execute;
};

/* One partition of the plan. */
struct step {
	char topic[SFSHM_TOPIC_MAX + 1];
	int32_t partition;
	int64_t current; /* -1: none */
	int64_t target;
};

struct plan {
	struct step *v;
	size_t n, cap;
};

static int parse_datetime(const char *s, int64_t *ms);

/* ---- the command line --------------------------------------------------- */

enum {
	OPT_TOPIC = 0x100,
	OPT_ALL_TOPICS,
	OPT_EARLIEST,
	OPT_LATEST,
	OPT_OFFSET,
	OPT_DATETIME,
	OPT_SHIFT,
	OPT_DRY_RUN,
	OPT_EXECUTE,
};

static const struct option reset_opts[] = {
	{ "topic", required_argument, NULL, OPT_TOPIC },
	{ "all-topics", no_argument, NULL, OPT_ALL_TOPICS },
	{ "to-earliest", no_argument, NULL, OPT_EARLIEST },
	{ "to-latest", no_argument, NULL, OPT_LATEST },
	{ "to-offset", required_argument, NULL, OPT_OFFSET },
	{ "to-datetime", required_argument, NULL, OPT_DATETIME },
	{ "shift-by", required_argument, NULL, OPT_SHIFT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "execute", no_argument, NULL, OPT_EXECUTE },
	{ NULL, 0, NULL, 0 },
};

static int add_part(struct topic_arg *t, const char *s, const char *spec)
{
	int64_t v;

	if (sft_parse_i64(s, &v) || v < 0 || v >= SFSHM_PARTITIONS_MAX)
		return sfctl_usage(&reset_cmd,
				   "bad partition '%s' in --topic '%s': must "
				   "be 0 to %d",
				   s, spec, SFSHM_PARTITIONS_MAX - 1);
	for (unsigned i = 0; i < t->nparts; i++)
		if (t->parts[i] == v)
			return 0;
	t->parts =
		sft_realloc(SFCTL, t->parts, t->nparts + 1, sizeof(*t->parts));
	t->parts[t->nparts++] = (int32_t)v;
	return 0;
}

/* --topic TOPIC[:P[,P...]] */
static int add_topic(struct reset_args *a, const char *spec)
{
	char *colon, *save = NULL, *p;
	struct topic_arg *t;
	int rc = 0;

	a->topics = sft_realloc(SFCTL, a->topics, a->ntopics + 1,
				sizeof(*a->topics));
	t = &a->topics[a->ntopics++];
	memset(t, 0, sizeof(*t));
	t->name = strdup(spec);
	if (!t->name)
		sft_oom(SFCTL);
	colon = strchr(t->name, ':');
	if (colon)
		*colon++ = '\0';
	if (sfshm_topic_name_valid(t->name))
		return sfctl_usage(&reset_cmd,
				   "bad --topic '%s': invalid topic "
				   "name",
				   spec);
	if (colon && !*colon)
		return sfctl_usage(&reset_cmd,
				   "bad --topic '%s': partitions "
				   "expected after ':'",
				   spec);
	for (p = colon ? strtok_r(colon, ",", &save) : NULL; p && !rc;
	     p = strtok_r(NULL, ",", &save))
		rc = add_part(t, p, spec);
	return rc;
}

static int set_target(struct reset_args *a, enum target to, const char *arg)
{
	if (a->to != TO_NONE)
		return sfctl_usage(
			&reset_cmd,
			"give only one of --to-earliest, --to-latest, "
			"--to-offset, --to-datetime, --shift-by");
	a->to = to;
	if ((to == TO_OFFSET || to == TO_SHIFT) && sft_parse_i64(arg, &a->arg))
		return sfctl_usage(
			&reset_cmd, "bad %s '%s': not a number",
			to == TO_OFFSET ? "--to-offset" : "--shift-by", arg);
	if (to == TO_DATETIME && parse_datetime(arg, &a->arg))
		return sfctl_usage(&reset_cmd,
				   "bad --to-datetime '%s': use "
				   "YYYY-MM-DDTHH:MM:SS[.mmm], UTC unless a "
				   "zone (Z, +HH:MM) follows, not before 1970",
				   arg);
	return 0;
}

static int reset_option(struct reset_args *a, int c)
{
	switch (c) {
	case OPT_TOPIC:
		return add_topic(a, optarg);
	case OPT_ALL_TOPICS:
		a->all_topics = true;
		return 0;
	case OPT_EARLIEST:
		return set_target(a, TO_EARLIEST, NULL);
	case OPT_LATEST:
		return set_target(a, TO_LATEST, NULL);
	case OPT_OFFSET:
		return set_target(a, TO_OFFSET, optarg);
	case OPT_DATETIME:
		return set_target(a, TO_DATETIME, optarg);
	case OPT_SHIFT:
		return set_target(a, TO_SHIFT, optarg);
	case OPT_DRY_RUN:
		a->dry_run = true;
		return 0;
	case OPT_EXECUTE:
		a->execute = true;
		return 0;
	}
	return SFT_EXIT_USAGE; /* not reached: sfctl_getopt() knows these */
}

static int check_args(struct reset_args *a, int argc, char **argv)
{
	int rc = sfctl_group_name(&reset_cmd, argc, argv, &a->group);

	if (rc >= 0)
		return rc;
	if (!a->ntopics == !a->all_topics)
		return sfctl_usage(&reset_cmd, "give --topic (one or more) or "
					       "--all-topics");
	if (a->to == TO_NONE)
		return sfctl_usage(&reset_cmd,
				   "give one of --to-earliest, --to-latest, "
				   "--to-offset, --to-datetime, --shift-by");
	if (a->dry_run && a->execute)
		return sfctl_usage(
			&reset_cmd,
			"--dry-run and --execute exclude each other");
	return -1;
}

/* Return: -1 to go on, or the exit status. */
static int parse_args(struct sfctl *ctl, int argc, char **argv,
		      struct reset_args *a)
{
	int c, rc;

	while ((c = sfctl_getopt(ctl, &reset_cmd, argc, argv, "",
				 reset_opts)) != -1) {
		if (c == SFCTL_OPT_HELP || c == SFCTL_OPT_BAD)
			return sfctl_opt_status(c);
		rc = reset_option(a, c);
		if (rc)
			return rc;
	}
	return check_args(a, argc, argv);
}

static void args_free(struct reset_args *a)
{
	for (unsigned i = 0; i < a->ntopics; i++) {
		free(a->topics[i].name);
		free(a->topics[i].parts);
	}
	free(a->topics);
}

/* ---- the plan ----------------------------------------------------------- */

static struct step *plan_find(const struct plan *p, const char *topic,
			      int32_t part)
{
	for (size_t i = 0; i < p->n; i++)
		if (p->v[i].partition == part && !strcmp(p->v[i].topic, topic))
			return &p->v[i];
	return NULL;
}

/* Add (@topic, @part) once, with its committed offset from @d. */
static void plan_add(struct plan *p, const struct sfshm_group_description *d,
		     const char *topic, int32_t part)
{
	struct step *s;

	if (plan_find(p, topic, part))
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = sft_realloc(SFCTL, p->v, p->cap, sizeof(*p->v));
	}
	s = &p->v[p->n++];
	memset(s, 0, sizeof(*s));
	snprintf(s->topic, sizeof(s->topic), "%s", topic);
	s->partition = part;
	s->current = -1;
	for (unsigned i = 0; d && i < d->noffsets; i++)
		if (d->offsets[i].partition == part &&
		    !strcmp(d->offsets[i].topic, topic))
			s->current = d->offsets[i].committed;
}

/* The partitions of one --topic.  Return: 0 or SFT_EXIT_FAIL (said). */
static int plan_topic(struct sfctl *ctl, struct plan *p,
		      const struct sfshm_group_description *d,
		      const struct topic_arg *t)
{
	struct sfshm_topic_info *ti;
	int err = sfshm_topic_describe(ctl->client, t->name, &ti);

	if (err)
		return sfctl_group_fail(ctl, &reset_cmd, t->name, err);
	for (unsigned i = 0; i < t->nparts; i++) {
		if ((uint32_t)t->parts[i] < ti->partition_count)
			continue;
		fprintf(stderr,
			SFCTL ": %s: topic %s has no partition %" PRId32
			      " (it has %" PRIu32 ")\n",
			reset_cmd.name, t->name, t->parts[i],
			ti->partition_count);
		sfshm_topic_info_free(ti);
		return SFT_EXIT_FAIL;
	}
	for (unsigned i = 0; i < t->nparts; i++)
		plan_add(p, d, t->name, t->parts[i]);
	for (uint32_t i = 0; !t->nparts && i < ti->partition_count; i++)
		plan_add(p, d, t->name, (int32_t)i);
	sfshm_topic_info_free(ti);
	return 0;
}

static int plan_partitions(struct sfctl *ctl, struct plan *p,
			   const struct reset_args *a,
			   const struct sfshm_group_description *d)
{
	int rc = 0;

	for (unsigned i = 0; !rc && i < a->ntopics; i++)
		rc = plan_topic(ctl, p, d, &a->topics[i]);
	for (unsigned i = 0; a->all_topics && d && i < d->noffsets; i++)
		plan_add(p, d, d->offsets[i].topic, d->offsets[i].partition);
	if (!rc && a->all_topics && !p->n) {
		fprintf(stderr,
			SFCTL ": %s: %s: the group has no committed offsets; "
			      "name the topics with --topic\n",
			reset_cmd.name, a->group);
		rc = SFT_EXIT_FAIL;
	}
	return rc;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* @a + @b, saturated. */
static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	if (b < 0 && a < INT64_MIN - b)
		return INT64_MIN;
	return a + b;
}

/* The new offset of @s.  Return: 0 or -errno of a ListOffsets. */
static int step_target(struct sfctl *ctl, const struct reset_args *a,
		       struct step *s)
{
	int64_t start, end;
	int err = sfshm_list_offset(ctl->client, s->topic, s->partition,
				    SFSHM_OFFSET_BEGINNING, &start);

	if (!err)
		err = sfshm_list_offset(ctl->client, s->topic, s->partition,
					SFSHM_OFFSET_END, &end);
	if (err)
		return err;
	switch (a->to) {
	case TO_EARLIEST:
		s->target = start;
		return 0;
	case TO_LATEST:
		s->target = end;
		return 0;
	case TO_OFFSET:
		s->target = clamp(a->arg, start, end);
		return 0;
	case TO_SHIFT:
		s->target = clamp(add_sat(s->current, a->arg), start, end);
		return 0;
	default:
		err = sfshm_list_offset(ctl->client, s->topic, s->partition,
					a->arg, &s->target);
		return err;
	}
}

/*
 * Compute every step's target; with --all-topics a partition that no
 * longer exists is dropped with a warning.  Return: 0 or SFT_EXIT_FAIL.
 */
static int plan_targets(struct sfctl *ctl, struct plan *p,
			const struct reset_args *a)
{
	size_t kept = 0;

	for (size_t i = 0; i < p->n; i++) {
		struct step *s = &p->v[i];
		char what[SFSHM_TOPIC_MAX + 16];
		int err;

		snprintf(what, sizeof(what), "%s-%" PRId32, s->topic,
			 s->partition);
		if (a->to == TO_SHIFT && s->current < 0) {
			fprintf(stderr,
				SFCTL ": %s: %s: no committed offset to shift "
				      "(use --to-earliest, --to-latest or "
				      "--to-offset)\n",
				reset_cmd.name, what);
			return SFT_EXIT_FAIL;
		}
		err = step_target(ctl, a, s);
		if (err == -ENOENT && a->all_topics) {
			fprintf(stderr,
				SFCTL ": %s: %s: skipped: no such topic or "
				      "partition any more\n",
				reset_cmd.name, what);
			continue;
		}
		if (err)
			return sfctl_fail(ctl, &reset_cmd, what, err);
		p->v[kept++] = *s;
	}
	p->n = kept;
	return 0;
}

static int cmp_steps(const void *a, const void *b)
{
	const struct step *x = a, *y = b;
	int c = strcmp(x->topic, y->topic);

	return c ? c :
		   (x->partition > y->partition) -
			       (x->partition < y->partition);
}

/* ---- doing it ----------------------------------------------------------- */

static void print_plan(const struct sfctl *ctl, const char *group,
		       const struct plan *p, bool executed)
{
	static const char *const heads[] = { "GROUP", "TOPIC", "PARTITION",
					     "CURRENT-OFFSET", "NEW-OFFSET" };
	struct table t;
	struct json j;

	if (ctl->json) {
		json_init(&j, stdout);
		json_obj_begin(&j, NULL);
		json_str(&j, "group", group);
		json_bool(&j, "executed", executed);
		json_arr_begin(&j, "offsets");
		for (size_t i = 0; i < p->n; i++) {
			json_obj_begin(&j, NULL);
			json_str(&j, "topic", p->v[i].topic);
			json_i64(&j, "partition", p->v[i].partition);
			if (p->v[i].current >= 0)
				json_i64(&j, "current", p->v[i].current);
			json_i64(&j, "new", p->v[i].target);
			json_obj_end(&j);
		}
		json_arr_end(&j);
		json_obj_end(&j);
		return;
	}
	table_init(&t, 5, heads, "llrrr");
	for (size_t i = 0; i < p->n; i++) {
		table_cell(&t, "%s", group);
		table_cell(&t, "%s", p->v[i].topic);
		table_cell(&t, "%" PRId32, p->v[i].partition);
		if (p->v[i].current >= 0)
			table_cell(&t, "%" PRId64, p->v[i].current);
		else
			table_cell(&t, "-");
		table_cell(&t, "%" PRId64, p->v[i].target);
	}
	table_print(&t, stdout);
	table_free(&t);
}

static int execute(struct sfctl *ctl, const char *group, const struct plan *p)
{
	struct sfshm_tp_offset *o = sft_alloc(SFCTL, p->n, sizeof(*o));
	int err;

	for (size_t i = 0; i < p->n; i++)
		o[i] = (struct sfshm_tp_offset){ p->v[i].topic,
						 p->v[i].partition,
						 p->v[i].target, NULL };
	err = sfshm_group_reset_offsets(ctl->client, group, o, (unsigned)p->n);
	free(o);
	return err ? sfctl_group_fail(ctl, &reset_cmd, group, err) : 0;
}

/* The group as it is (NULL if unknown); refused if it has members. */
static int current_group(struct sfctl *ctl, const struct reset_args *a,
			 struct sfshm_group_description **d)
{
	int err = sfshm_group_describe(ctl->client, a->group, d);

	if (err == -ENOENT) {
		*d = NULL;
		return 0;
	}
	if (err)
		return sfctl_group_fail(ctl, &reset_cmd, a->group, err);
	/* --execute: the daemon refuses in its own words. */
	if (!(*d)->info.members || a->execute)
		return 0;
	fprintf(stderr,
		SFCTL ": %s: %s: the group has %" PRIu32 " active member%s "
		      "(state %s); stop them first\n",
		reset_cmd.name, a->group, (*d)->info.members,
		(*d)->info.members == 1 ? "" : "s", (*d)->info.state);
	sfshm_group_description_free(*d);
	*d = NULL;
	return SFT_EXIT_FAIL;
}

static int reset_run(struct sfctl *ctl, const struct reset_args *a)
{
	struct sfshm_group_description *d = NULL;
	struct plan p = { 0 };
	int rc = current_group(ctl, a, &d);

	if (!rc)
		rc = plan_partitions(ctl, &p, a, d);
	if (!rc)
		rc = plan_targets(ctl, &p, a);
	if (!rc) {
		qsort(p.v, p.n, sizeof(*p.v), cmp_steps);
		if (a->execute)
			rc = execute(ctl, a->group, &p);
	}
	if (!rc)
		print_plan(ctl, a->group, &p, a->execute);
	free(p.v);
	sfshm_group_description_free(d);
	return rc;
}

/* The daemon's rule for group ids, checked before a dry run plans. */
static bool group_id_ok(const char *group)
{
	size_t n = strlen(group);

	return n && n <= 249 && !strpbrk(group, "/\t\n");
}

int sfctl_group_reset(struct sfctl *ctl, int argc, char **argv)
{
	struct reset_args a = { 0 };
	int rc = parse_args(ctl, argc, argv, &a);

	if (rc < 0 && !group_id_ok(a.group)) {
		fprintf(stderr,
			SFCTL ": %s: %s: invalid group id: 1 to 249 "
			      "characters, no '/'\n",
			reset_cmd.name, a.group);
		rc = SFT_EXIT_FAIL;
	}
	if (rc < 0)
		rc = sfctl_connect(ctl) ? SFT_EXIT_FAIL : reset_run(ctl, &a);
	args_free(&a);
	return rc;
}

/* ---- dates -------------------------------------------------------------- */

/* @n digits at *@s into *@v, moving *@s past them.  Return: 0 or -1. */
static int digits(const char **s, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*s)++) {
		if (**s < '0' || **s > '9')
			return -1;
		*v = *v * 10 + (**s - '0');
	}
	return 0;
}

static int expect(const char **s, char c)
{
	return *(*s)++ == c ? 0 : -1;
}

/* ".mmm" (1 to 9 digits, kept to ms). */
static int fraction(const char **s, int *ms)
{
	int n = 0, scale = 100;

	*ms = 0;
	if (**s != '.')
		return 0;
	for ((*s)++; **s >= '0' && **s <= '9'; (*s)++, n++) {
		*ms += (**s - '0') * scale;
		scale /= 10;
	}
	return n >= 1 && n <= 9 ? 0 : -1;
}

/* "", "Z", "+HH:MM", "-HH:MM", "+HHMM": seconds east of UTC. */
static int zone(const char *s, long *east)
{
	int sign, hh, mm;

	*east = 0;
	if (!*s || !strcmp(s, "Z"))
		return 0;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (digits(&s, 2, &hh))
		return -1;
	if (*s == ':')
		s++;
	if (digits(&s, 2, &mm) || *s || hh > 23 || mm > 59)
		return -1;
	*east = sign * (hh * 3600L + mm * 60L);
	return 0;
}

static bool date_ok(const struct tm *tm)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };
	int y = tm->tm_year + 1900;
	bool leap = (y % 4 == 0 && y % 100) || y % 400 == 0;

	if (tm->tm_mon < 0 || tm->tm_mon > 11 || tm->tm_mday < 1 ||
	    tm->tm_mday > mdays[tm->tm_mon] ||
	    (tm->tm_mon == 1 && tm->tm_mday == 29 && !leap))
		return false;
	return tm->tm_hour <= 23 && tm->tm_min <= 59 && tm->tm_sec <= 59;
}

/*
 * Kafka's --to-datetime: YYYY-MM-DDTHH:MM:SS, optionally .mmm (1 to 9
 * digits, kept to ms), then optionally Z, +HH:MM, -HH:MM or +HHMM; UTC
 * without a zone.  Return: 0 with ms since the epoch in *@ms; -EINVAL;
 * -ERANGE (before 1970).
 */
static int parse_datetime(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int year, frac;
	long east;
	time_t t;

	if (digits(&s, 4, &year) || expect(&s, '-') ||
	    digits(&s, 2, &tm.tm_mon) || expect(&s, '-') ||
	    digits(&s, 2, &tm.tm_mday) || expect(&s, 'T') ||
	    digits(&s, 2, &tm.tm_hour) || expect(&s, ':') ||
	    digits(&s, 2, &tm.tm_min) || expect(&s, ':') ||
	    digits(&s, 2, &tm.tm_sec) || fraction(&s, &frac) || zone(s, &east))
		return -EINVAL;
	tm.tm_year = year - 1900;
	tm.tm_mon--;
	if (!date_ok(&tm))
		return -EINVAL;
	t = timegm(&tm) - east;
	if (t < 0)
		return -ERANGE;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
}
