/* SPDX-License-Identifier: MIT */
/*
 * sftop_int.h - what the parts of sftop share: sftop.c (options, the
 * refresh loop, the manual), sftop_view.c (one row per topic-partition:
 * counters, rates, latency, lag; sorting; JSON), sftop_draw.c (the text
 * screen) and sftop_term.c (raw mode, keys, signals).
 */
#ifndef SFSHM_SFTOP_INT_H
#define SFSHM_SFTOP_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common_sfm.h"
#include "sftool.h"

#define SFTOP "sftop"

/* What the rows can be sorted by, in the order `s` steps through. */
enum sftop_sort {
	SORT_NAME,
	SORT_IN,
	SORT_OUT,
	SORT_IN_BYTES,
	SORT_OUT_BYTES,
	SORT_P50,
	SORT_P99,
	SORT_LAG,
	SORT_BP,
	SORT_ERR,
	SORT_TOTAL_IN,
	SORT_TOTAL_OUT,
	SORT_KEYS,
};

/*
 * struct sftop_row - one topic-partition.
 * @tot:   its counters since the instance started (zero without an entry).
 * @delta: what they grew by over the interval (with rates only).
 * @in, @out, @in_bytes, @out_bytes, @bp: per second over the interval.
 * @p50, @p99: e2e latency in ns from the samples of the interval, else
 *         (@pct_total) from all samples; -1 without any.
 * @lag:   the largest lag of a consumer group on it, -1 unknown.
 */
struct sftop_row {
	char topic[SFM_TOPIC_LEN];
	uint32_t partition;
	struct sfm_stats tot;
	struct sfm_stats delta;
	double in, out, in_bytes, out_bytes, bp;
	double p50, p99;
	bool pct_total;
	int64_t lag;
};

/*
 * struct sftop_view - what one screen (or --once) shows.
 * @ns:      the interval the rates are over; 0: totals only.
 * @daemon:  the daemon answered: @topics, @partitions and lags are its;
 *           else they are counted from the maps.
 * @sum:     the totals of all rows (its @lag the largest).
 */
struct sftop_view {
	const char *instance;
	const char *dir;
	uint64_t ns;
	bool daemon;
	size_t topics;
	uint64_t partitions;
	struct sftop_row *rows;
	size_t nrows;
	struct sftop_row sum;
};

/* ---- sftop_view.c -------------------------------------------------------- */

/**
 * sftop_view_build() - the rows of @cur (rates against @prev, which may be
 * NULL for totals only), with the partitions and lags of @d (NULL: no
 * daemon), of @topic only if given.
 * Return: 0 or -ENOMEM.
 */
int sftop_view_build(struct sftop_view *v, const struct sfm_snap *prev,
		     const struct sfm_snap *cur, const struct sfm_daemon *d,
		     const char *topic);
void sftop_view_free(struct sftop_view *v);

/* Sort the rows by @key: names A-Z, numbers largest first; or reversed. */
void sftop_view_sort(struct sftop_view *v, enum sftop_sort key, bool reverse);

/* The column heading of a sort key ("IN/s"). */
const char *sftop_sort_name(enum sftop_sort key);

/* The view as one JSON document (see the manual). */
void sftop_print_json(const struct sftop_view *v, FILE *f);

/* ---- sftop_draw.c -------------------------------------------------------- */

/*
 * struct sftop_screen - how to draw.
 * @rows, @cols: the terminal's size; 0: unlimited (--once, a pipe).
 * @ansi:   a terminal: home the cursor, clear, highlight.
 * @sort, @reverse: the order of the rows (for the heading and the
 *          status line; sftop_view_sort() sorts them).
 * @daemon_dir: the daemon's run directory, for the status line.
 * @status: a line to show under the header (NULL or "": the usual one).
 */
struct sftop_screen {
	int rows, cols;
	bool ansi;
	enum sftop_sort sort;
	bool reverse;
	const char *daemon_dir;
	const char *status;
};

/* Draw @v: header, column heads, rows.  Written to @f in one go. */
void sftop_draw(const struct sftop_view *v, const struct sftop_screen *s,
		FILE *f);

/* ---- sftop_term.c -------------------------------------------------------- */

/* The signal that asked sftop to stop (SIGINT, SIGTERM, SIGHUP), or 0. */
extern volatile sig_atomic_t sftop_stop;
/* Set by SIGWINCH: the terminal changed size. */
extern volatile sig_atomic_t sftop_resized;

/* Catch SIGINT, SIGTERM, SIGHUP and SIGWINCH into the flags above. */
void sftop_term_signals(void);

/**
 * sftop_term_start() - raw mode on standard input (no echo, keys one at
 * a time), the alternate screen and a hidden cursor on standard output.
 * The terminal is restored by sftop_term_stop(), also at exit.
 * Return: 0; -ENOTTY (standard input is no terminal: no keys).
 */
int sftop_term_start(void);

/* Restore the terminal as it was; safe to call twice. */
void sftop_term_stop(void);

/*
 * sftop_term_key() - a key typed within @timeout_ms.
 * Return: the key, 0 if none came (or a signal), -1 at end of input.
 */
int sftop_term_key(int timeout_ms);

/* Stop the process as ^Z would, restoring the terminal while stopped. */
void sftop_term_suspend(void);

/* The terminal's size; 24 x 80 if it cannot tell. */
void sftop_term_size(int *rows, int *cols);

#endif
