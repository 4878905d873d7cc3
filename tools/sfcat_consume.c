// SPDX-License-Identifier: MIT
/*
 * sfcat_consume.c - `sfcat -C`: print the records of a topic.
 *
 * The consumer polls with a short timeout so that SIGINT / SIGTERM (which
 * set sfcat_stop) end it within a fraction of a second even if the library
 * retries an interrupted wait.  Output is flushed whenever the consumer
 * goes idle, so a pipe sees records promptly without -u.
 */
#include <stdio.h>
#include <string.h>

#include "sfcat_int.h"

#define IDLE_POLL_MS 200

struct cons {
	const struct sfcat_conf *conf;
	struct sfshm_client *client;
	struct sfshm_consumer *c;
	uint64_t printed;
};

/* Report a failed request about the topic.  Return: SFT_EXIT_FAIL. */
static int fail(const struct cons *cs, const char *what, int err)
{
	const struct sfcat_conf *conf = cs->conf;
	const char *text = sft_errtext(cs->client, err);

	/* the library finds a missing partition without asking */
	if (err == -ENOENT && !strcmp(text, sfshm_strerror(err)))
		text = "no such topic or partition";
	if (conf->partition >= 0)
		sfcat_err("%s [%" PRId32 "]: %s: %s", conf->topic,
			  conf->partition, what, text);
	else
		sfcat_err("%s: %s: %s", conf->topic, what, text);
	return SFT_EXIT_FAIL;
}

/* Assign the partitions and move to -o.  Return: 0 or SFT_EXIT_FAIL. */
static int start(struct cons *cs)
{
	const struct sfcat_conf *conf = cs->conf;
	int64_t off = conf->start == START_OFFSET ? conf->start_arg :
		      conf->start == START_END || conf->start == START_TAIL ?
						    SFSHM_OFFSET_END :
						    SFSHM_OFFSET_BEGINNING;
	int err;

	err = sfshm_consumer_assign(cs->c, conf->topic, conf->partition, off);
	if (err)
		return fail(cs, "cannot consume", err);
	if (conf->start == START_TAIL)
		err = sfshm_consumer_seek_tail(
			cs->c, conf->topic, conf->partition, conf->start_arg);
	else if (conf->start == START_TIME)
		err = sfshm_consumer_seek_time(
			cs->c, conf->topic, conf->partition, conf->start_arg);
	if (err)
		return fail(cs, "cannot seek", err);
	return 0;
}

static bool count_reached(const struct cons *cs)
{
	return cs->conf->count >= 0 && cs->printed >= (uint64_t)cs->conf->count;
}

/* Nothing came: flush what was printed; with -e, are we done?
 * Return: 1 done, 0 go on, or -errno. */
static int idle(struct cons *cs)
{
	int r;

	fflush(stdout);
	if (!cs->conf->exit_eof)
		return 0;
	r = sfshm_consumer_at_end(cs->c);
	if (r == 1)
		sfcat_note(cs->conf, 2,
			   "%s: reached the end of every "
			   "partition",
			   cs->conf->topic);
	return r;
}

static int poll_failed(const struct cons *cs, int err)
{
	if (err == -ERANGE)
		sfcat_err("%s: the offset to read is not in the log "
			  "(auto.offset.reset=error)",
			  cs->conf->topic);
	else
		sfcat_err("%s: %s", cs->conf->topic, sfshm_strerror(err));
	return SFT_EXIT_FAIL;
}

/* Poll and print until done.  Return: 0 or SFT_EXIT_FAIL (said). */
static int consume_loop(struct cons *cs)
{
	const struct sfcat_conf *conf = cs->conf;
	struct sfshm_record rec;
	int timeout = 0, r;

	while (!sfcat_stop && !count_reached(cs)) {
		r = sfshm_consumer_poll(cs->c, &rec, timeout);
		if (r > 0) {
			sfcat_fmt_print(conf, &rec, stdout);
			cs->printed++;
			timeout = 0;
			continue;
		}
		if (r == 0)
			r = idle(cs);
		if (r == 1)
			break;
		if (r < 0 && r != -EINTR)
			return poll_failed(cs, r);
		timeout = IDLE_POLL_MS;
	}
	return 0;
}

static int open_consumer(struct cons *cs)
{
	struct sfshm_consumer_opts opts = {
		.size = sizeof(opts),
		.reset = cs->conf->reset,
		.wait = SFSHM_WAIT_HYBRID,
	};
	int err = sfshm_consumer_open(cs->client, &opts, &cs->c);

	if (err)
		return fail(cs, "cannot open a consumer", err);
	return 0;
}

int sfcat_consume(const struct sfcat_conf *conf)
{
	struct cons cs = { .conf = conf };
	int rc;

	if (sfcat_connect(conf, &cs.client))
		return SFT_EXIT_FAIL;
	rc = open_consumer(&cs);
	if (!rc)
		rc = start(&cs);
	if (!rc)
		rc = consume_loop(&cs);
	sfcat_note(conf, 2, "%" PRIu64 " records consumed from %s", cs.printed,
		   conf->topic);
	sfshm_consumer_close(cs.c);
	sfshm_disconnect(cs.client);
	return sft_flush_stdout(SFCAT) ? SFT_EXIT_FAIL : rc;
}
