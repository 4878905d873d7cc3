// SPDX-License-Identifier: MIT
/*
 * sfcat_produce.c - `sfcat -P`: split standard input or files into
 * records and send them.
 *
 * Records are sent asynchronously (sfshm_producer_send() with no delivery
 * report returns once the record is in the ring), and one
 * sfshm_producer_flush() at the end waits until all of them are
 * acknowledged at the -X acks level: only then is the exit status 0.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfcat_int.h"

#define READ_CHUNK (64 * 1024)

/* Input split at a delimiter that may be several bytes long. */
struct reader {
	int fd;
	char *buf;
	size_t cap;
	size_t start; /* first byte not yet returned */
	size_t scan; /* searched up to here without finding the delimiter */
	size_t end; /* bytes read */
	bool eof;
};

struct prod {
	const struct sfcat_conf *conf;
	struct sfshm_producer *p;
	const char *file; /* for messages */
	uint64_t sent;
};

/* Read more, keeping the unreturned bytes.  Return: 0 or -errno. */
static int fill(struct reader *rd)
{
	ssize_t n;

	if (rd->start) {
		memmove(rd->buf, rd->buf + rd->start, rd->end - rd->start);
		rd->end -= rd->start;
		rd->scan -= rd->start;
		rd->start = 0;
	}
	if (rd->cap - rd->end < READ_CHUNK) {
		rd->cap = rd->cap ? 2 * rd->cap : 2 * READ_CHUNK;
		rd->buf = sft_realloc(SFCAT, rd->buf, rd->cap, 1);
	}
	do {
		n = read(rd->fd, rd->buf + rd->end, rd->cap - rd->end);
	} while (n < 0 && errno == EINTR && !sfcat_stop);
	if (n < 0)
		return -errno;
	rd->eof = n == 0;
	rd->end += (size_t)n;
	return 0;
}

/* The record starting at rd->start and @len bytes long; skip @skip. */
static int take(struct reader *rd, size_t len, size_t skip, char **p,
		size_t *out)
{
	*p = rd->buf + rd->start;
	*out = len;
	rd->start += len + skip;
	rd->scan = rd->start;
	return 1;
}

/* The next delimiter not searched for yet, or NULL. */
static char *find_delim(const struct reader *rd, const struct bytes *delim)
{
	if (rd->end <= rd->scan)
		return NULL;
	return memmem(rd->buf + rd->scan, rd->end - rd->scan, delim->p,
		      delim->len);
}

/**
 * next_record() - the next record of the input: up to @delim, or the rest
 * at the end of the input (unless empty).
 * Return: 1 with the record in *@p / *@len (valid until the next call), 0
 * at the end, or -errno (-EINTR when interrupted by a signal).
 */
static int next_record(struct reader *rd, const struct bytes *delim, char **p,
		       size_t *len)
{
	char *d;
	int err;

	for (;;) {
		d = find_delim(rd, delim);
		if (d)
			return take(rd, (size_t)(d - rd->buf) - rd->start,
				    delim->len, p, len);
		if (rd->end - rd->start >= delim->len)
			rd->scan = rd->end - (delim->len - 1);
		if (rd->eof)
			return rd->end > rd->start ?
				       take(rd, rd->end - rd->start, 0, p,
					    len) :
				       0;
		if (sfcat_stop)
			return -EINTR;
		err = fill(rd);
		if (err)
			return err;
	}
}

/* The whole input as one record (-l). */
static int whole_input(struct reader *rd, char **p, size_t *len)
{
	int err;

	if (rd->eof && rd->start == rd->end && rd->cap)
		return 0;
	while (!rd->eof) {
		if (sfcat_stop)
			return -EINTR;
		err = fill(rd);
		if (err)
			return err;
	}
	return take(rd, rd->end - rd->start, 0, p, len);
}

/* Fill @rec with the key and value of the text @p, as -K and -Z say. */
static void split_record(const struct sfcat_conf *conf, char *p, size_t len,
			 struct sfshm_rec *rec)
{
	const struct bytes *kd = &conf->key_delim;
	char *d = conf->has_key_delim ? memmem(p, len, kd->p, kd->len) : NULL;

	rec->key = NULL;
	rec->key_len = -1;
	if (d) {
		rec->key = p;
		rec->key_len = (int32_t)(d - p);
		len -= (size_t)(d - p) + kd->len;
		p = d + kd->len;
	}
	rec->value = p;
	rec->value_len = (int32_t)len;
	if (conf->null_str && rec->key_len == 0) {
		rec->key = NULL;
		rec->key_len = -1;
	}
	if (conf->null_str && rec->value_len == 0) {
		rec->value = NULL;
		rec->value_len = -1;
	}
}

static void echo(const struct sfcat_conf *conf, const char *p, size_t len)
{
	fwrite(p, 1, len, stdout);
	if (!conf->whole_file)
		fwrite(conf->delim.p, 1, conf->delim.len, stdout);
	if (conf->unbuffered)
		fflush(stdout);
}

/* Send one record.  Return: 0 or -errno. */
static int send_one(struct prod *pr, char *p, size_t len)
{
	const struct sfcat_conf *conf = pr->conf;
	struct sfshm_rec rec = {
		.hdrs = conf->hdrs,
		.hdr_count = conf->nhdrs,
	};
	int err;

	if (len > INT32_MAX)
		return -EMSGSIZE;
	split_record(conf, p, len, &rec);
	do {
		err = sfshm_producer_send(pr->p, conf->partition, &rec, NULL);
	} while (err == -EINTR && !sfcat_stop);
	if (err)
		return err;
	pr->sent++;
	if (conf->echo)
		echo(conf, p, len);
	return 0;
}

static bool count_reached(const struct prod *pr)
{
	return pr->conf->count >= 0 && pr->sent >= (uint64_t)pr->conf->count;
}

/* Send the records of one input.  Return: 0 or SFT_EXIT_FAIL (said). */
static int produce_fd(struct prod *pr, int fd)
{
	struct reader rd = { .fd = fd };
	size_t len = 0;
	char *p = NULL;
	int r, err = 0;

	while (!sfcat_stop && !count_reached(pr)) {
		r = pr->conf->whole_file ?
			    whole_input(&rd, &p, &len) :
			    next_record(&rd, &pr->conf->delim, &p, &len);
		if (r <= 0) {
			if (r < 0 && r != -EINTR)
				sfcat_err("%s: %s", pr->file, strerror(-r));
			err = r < 0 && r != -EINTR ? SFT_EXIT_FAIL : 0;
			break;
		}
		r = send_one(pr, p, len);
		if (r && !(r == -EINTR && sfcat_stop)) {
			sfcat_err("%s: record %" PRIu64 " (%s): %s",
				  pr->conf->topic, pr->sent + 1, pr->file,
				  sfshm_strerror(r));
			err = SFT_EXIT_FAIL;
			break;
		}
	}
	free(rd.buf);
	return err;
}

static int produce_file(struct prod *pr, const char *name)
{
	int fd, rc;

	pr->file = name;
	if (!strcmp(name, "-")) {
		pr->file = "<stdin>";
		return produce_fd(pr, STDIN_FILENO);
	}
	fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		sfcat_err("%s: %s", name, strerror(errno));
		return SFT_EXIT_FAIL;
	}
	rc = produce_fd(pr, fd);
	close(fd);
	return rc;
}

static int produce_all(struct prod *pr)
{
	const struct sfcat_conf *conf = pr->conf;
	int rc = 0;

	if (!conf->nfiles)
		return produce_file(pr, "-");
	for (int i = 0; i < conf->nfiles && !rc && !sfcat_stop; i++)
		if (!count_reached(pr))
			rc = produce_file(pr, conf->files[i]);
	return rc;
}

static const char *acks_name(enum sfshm_acks a)
{
	return a == SFSHM_ACKS_NONE    ? "none" :
	       a == SFSHM_ACKS_DURABLE ? "durable" :
					 "written";
}

/* Wait for every acknowledgement.  Return: 0 or SFT_EXIT_FAIL (said). */
static int finish(struct prod *pr, int rc)
{
	const struct sfcat_conf *conf = pr->conf;
	int err = sfshm_producer_flush(pr->p, conf->timeout_ms);

	if (err && rc)
		return rc;
	if (err) {
		sfcat_err("%s: %" PRIu64 " records sent, not all "
			  "acknowledged (acks=%s): %s",
			  conf->topic, pr->sent, acks_name(conf->acks),
			  sfshm_strerror(err));
		return SFT_EXIT_FAIL;
	}
	if (sfcat_stop)
		sfcat_note(conf, 1,
			   "interrupted; the %" PRIu64 " records "
			   "read so far were sent",
			   pr->sent);
	sfcat_note(conf, 2, "%" PRIu64 " records produced to %s (acks=%s)",
		   pr->sent, conf->topic, acks_name(conf->acks));
	return rc;
}

static int open_producer(const struct sfcat_conf *conf, struct sfshm_client *c,
			 struct sfshm_producer **p)
{
	struct sfshm_producer_opts opts = {
		.size = sizeof(opts),
		.acks = conf->acks,
		.timeout_ms = conf->timeout_ms,
	};
	uint32_t n;
	int err = sfshm_producer_open(c, conf->topic, &opts, p);

	if (err) {
		sfcat_err("%s: %s", conf->topic, sft_errtext(c, err));
		return SFT_EXIT_FAIL;
	}
	n = sfshm_producer_partitions(*p);
	if (conf->partition >= 0 && (uint32_t)conf->partition >= n) {
		sfcat_err("%s: no partition %" PRId32 " (the topic has %" PRIu32
			  ")",
			  conf->topic, conf->partition, n);
		sfshm_producer_close(*p);
		return SFT_EXIT_FAIL;
	}
	return 0;
}

int sfcat_produce(const struct sfcat_conf *conf)
{
	struct sfshm_client *c;
	struct prod pr = { .conf = conf };
	int rc;

	if (sfcat_connect(conf, &c))
		return SFT_EXIT_FAIL;
	rc = open_producer(conf, c, &pr.p);
	if (!rc) {
		rc = finish(&pr, produce_all(&pr));
		sfshm_producer_close(pr.p);
	}
	sfshm_disconnect(c);
	return sft_flush_stdout(SFCAT) ? SFT_EXIT_FAIL : rc;
}
