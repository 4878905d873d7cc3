/* SPDX-License-Identifier: MIT */
/*
 * sfcat_int.h - what the parts of sfcat (tools/sfcat*.c) share: the
 * parsed command line and the entry points of the two modes.
 */
#ifndef SFSHM_SFCAT_INT_H
#define SFSHM_SFCAT_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sftool.h"

#define SFCAT "sfcat"

/* Bytes that may hold NUL (a decoded delimiter). */
struct bytes {
	char *p;
	size_t len;
};

/* Where -o starts consuming. */
enum start_kind {
	START_BEGINNING,
	START_END,
	START_OFFSET, /* an absolute offset */
	START_TAIL, /* N before the end */
	START_TIME, /* first record at or after a timestamp (ms) */
};

/* One piece of an output format: literal bytes or a %-field. */
struct fmt_tok {
	char field; /* 0: literal */
	const char *lit;
	size_t len;
};

struct sfcat_conf {
	char mode; /* 'P' or 'C' */
	const char *topic;
	int32_t partition; /* SFSHM_PARTITION_ANY / -1: all */
	const char *run_dir;
	int verbosity; /* 0 -q, 1 default, 2+ -v */
	bool null_str; /* -Z */

	/* both: -D and -K */
	struct bytes delim;
	struct bytes key_delim;
	bool has_key_delim;

	/* -P */
	enum sfshm_acks acks;
	int timeout_ms;
	bool echo; /* -T */
	bool whole_file; /* -l */
	struct sfshm_hdr *hdrs; /* -H */
	unsigned nhdrs;
	char **files;
	int nfiles;

	/* -C */
	enum start_kind start;
	int64_t start_arg;
	int64_t count; /* -c, -1: no limit */
	bool exit_eof; /* -e */
	bool unbuffered; /* -u */
	enum sfshm_offset_reset reset;

	/* -G: a balanced consumer (also 'C' mode) */
	const char *group;
	const char **topics; /* -t and the arguments */
	unsigned ntopics;
	const char *assignor; /* -X partition.assignment.strategy */
	const char *instance_id; /* -X group.instance.id */

	struct fmt_tok *fmt; /* compiled -f, or from -K / -D */
	size_t nfmt;
	char *fmt_pool;
};

/* Set by SIGINT / SIGTERM: stop reading, finish cleanly. */
extern volatile sig_atomic_t sfcat_stop;

int sfcat_produce(const struct sfcat_conf *conf);
int sfcat_consume(const struct sfcat_conf *conf);
int sfcat_group(const struct sfcat_conf *conf);

/* sfcat_format.c */
int sfcat_fmt_compile(struct sfcat_conf *conf, const char *fmt, char *bad,
		      size_t badlen);
void sfcat_fmt_default(struct sfcat_conf *conf);
void sfcat_fmt_print(const struct sfcat_conf *conf,
		     const struct sfshm_record *r, FILE *f);
void sfcat_fmt_free(struct sfcat_conf *conf);

/* Messages on stderr by verbosity; errors always. */
void sfcat_note(const struct sfcat_conf *conf, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sfcat_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Connect to the daemon @conf names, standard output made unbuffered
 * first for -u.  Return: 0, or SFT_EXIT_FAIL (reported).
 */
int sfcat_connect(const struct sfcat_conf *conf, struct sfshm_client **c);

#endif
