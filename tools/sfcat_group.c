// SPDX-License-Identifier: MIT
/*
 * sfcat_group.c - `sfcat -G GROUP TOPIC...`: kcat's balanced consumer.
 *
 * sfcat joins GROUP subscribed to the TOPICs (names, or ^regexes) and
 * prints the records of the partitions the group assigns it, as -C does.
 * Offsets are committed automatically (every 5 s, before partitions are
 * given up, and when it leaves); a partition without a committed offset
 * starts where -o (beginning or end) or -X auto.offset.reset says.
 * SIGINT and SIGTERM make it leave the group cleanly: commit, leave, exit
 * 0, so that the group rebalances at once instead of waiting for it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfcat_int.h"

#define IDLE_POLL_MS 200

struct gcons {
	const struct sfcat_conf *conf;
	struct sfshm_client *client;
	struct sfshm_consumer *c;
	uint64_t printed;
	unsigned owned; /* partitions owned now */
	bool assigned; /* an assignment has arrived */
};

/* "orders [0], orders [1]" on stderr after @what, by verbosity. */
static void say_tps(const struct gcons *g, const char *what,
		    const struct sfshm_tp *tps, unsigned n)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f;

	if (g->conf->verbosity < 1)
		return;
	f = open_memstream(&s, &len);
	if (!f)
		sft_oom(SFCAT);
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s%s [%" PRId32 "]", i ? ", " : "", tps[i].topic,
			tps[i].partition);
	if (fclose(f))
		sft_oom(SFCAT);
	sfcat_note(g->conf, 1, "group %s rebalanced: %s: %s", g->conf->group,
		   what, n ? s : "no partitions");
	free(s);
}

static void on_assigned(void *arg, struct sfshm_consumer *cons,
			const struct sfshm_tp *tps, unsigned n)
{
	struct gcons *g = arg;

	(void)cons;
	g->assigned = true;
	g->owned = n;
	say_tps(g, "assigned", tps, n);
}

static void on_revoked(void *arg, struct sfshm_consumer *cons,
		       const struct sfshm_tp *tps, unsigned n)
{
	struct gcons *g = arg;

	(void)cons;
	g->owned = 0;
	if (n)
		say_tps(g, "revoked", tps, n);
}

/* Report a failure about the group.  Return: SFT_EXIT_FAIL. */
static int fail(const struct gcons *g, const char *what, int err)
{
	sfcat_err("group %s: %s: %s", g->conf->group, what,
		  sft_errtext(g->client, err));
	return SFT_EXIT_FAIL;
}

static int join(struct gcons *g)
{
	const struct sfcat_conf *conf = g->conf;
	struct sfshm_consumer_opts opts = {
		.size = sizeof(opts),
		.reset = conf->reset,
		.wait = SFSHM_WAIT_HYBRID,
		.group_id = conf->group,
		.instance_id = conf->instance_id,
		.assignor = conf->assignor,
		.on_revoked = on_revoked,
		.on_assigned = on_assigned,
		.cb_arg = g,
	};
	int err = sfshm_consumer_open(g->client, &opts, &g->c);

	if (err)
		return fail(g, "cannot open a consumer", err);
	err = sfshm_consumer_subscribe(g->c, conf->topics, conf->ntopics);
	if (err)
		return fail(g, "cannot join", err);
	sfcat_note(conf, 2, "joined group %s", conf->group);
	return 0;
}

static bool count_reached(const struct gcons *g)
{
	return g->conf->count >= 0 && g->printed >= (uint64_t)g->conf->count;
}

/*
 * Nothing came: flush what was printed; with -e, is every partition the
 * group gave us read to its end?  (Not before it gave us some.)
 * Return: 1 done, 0 go on, or -errno.
 */
static int idle(struct gcons *g)
{
	int r;

	fflush(stdout);
	if (!g->conf->exit_eof || !g->assigned || !g->owned)
		return 0;
	r = sfshm_consumer_at_end(g->c);
	if (r == 1)
		sfcat_note(g->conf, 2,
			   "group %s: every assigned partition "
			   "is at its end",
			   g->conf->group);
	return r;
}

static int poll_failed(const struct gcons *g, int err)
{
	if (err == -ERANGE)
		return fail(g,
			    "the offset to read is not in the log "
			    "(auto.offset.reset=error)",
			    err);
	return fail(g, "poll", err);
}

static int consume_loop(struct gcons *g)
{
	struct sfshm_record rec;
	int timeout = IDLE_POLL_MS, r;

	while (!sfcat_stop && !count_reached(g)) {
		r = sfshm_consumer_poll(g->c, &rec, timeout);
		if (r > 0) {
			sfcat_fmt_print(g->conf, &rec, stdout);
			g->printed++;
			timeout = 0;
			continue;
		}
		if (r == 0)
			r = idle(g);
		if (r == 1)
			break;
		if (r == -ESTALE) {
			/* a commit raced a rebalance: the next one counts */
			sfcat_note(g->conf, 1, "group %s: commit refused: %s",
				   g->conf->group, sft_errtext(g->client, r));
			r = 0;
		}
		if (r < 0 && r != -EINTR)
			return poll_failed(g, r);
		timeout = IDLE_POLL_MS;
	}
	return 0;
}

/* Commit and leave, so that the group need not wait for us. */
static int leave(struct gcons *g)
{
	int err = sfshm_consumer_unsubscribe(g->c);

	fflush(stdout);
	if (err)
		return fail(g, "leaving the group", err);
	sfcat_note(g->conf, 2, "left group %s", g->conf->group);
	return 0;
}

int sfcat_group(const struct sfcat_conf *conf)
{
	struct gcons g = { .conf = conf };
	int rc;

	if (sfcat_connect(conf, &g.client))
		return SFT_EXIT_FAIL;
	rc = join(&g);
	if (!rc)
		rc = consume_loop(&g);
	/* after a failure, close() still tries to leave, quietly */
	if (!rc)
		rc = leave(&g);
	sfcat_note(conf, 2, "%" PRIu64 " records consumed in group %s",
		   g.printed, conf->group);
	sfshm_consumer_close(g.c);
	sfshm_disconnect(g.client);
	return sft_flush_stdout(SFCAT) ? SFT_EXIT_FAIL : rc;
}
