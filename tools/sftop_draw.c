// SPDX-License-Identifier: MIT
/*
 * sftop_draw.c - sftop's text: two header lines, the column heads and a
 * row per topic-partition.  On a terminal a frame is drawn over the last
 * one (cursor home, each line cleared to its end, the rest of the screen
 * cleared), cut to the screen's size: columns that do not fit are left
 * out from the right, rows from the bottom.  The frame is assembled in
 * memory and written at once, so that it does not flicker.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sftop_int.h"

#define CELL 48
#define TOPIC_MIN 12 /* TOPIC is cut down to this before columns go */
#define TOPIC_MAX 40

#define ESC_BOLD "\033[1m"
#define ESC_REV "\033[7m"
#define ESC_UNDER "\033[4m"
#define ESC_OFF "\033[m"

/* A column: its heading, narrowest width, alignment, sort key. */
struct col {
	const char *head;
	int min;
	char align;
	enum sftop_sort key;
};

static const struct col cols[] = {
	{ "TOPIC", 5, 'l', SORT_NAME },
	{ "PART", 4, 'r', SORT_NAME },
	{ "IN/s", 6, 'r', SORT_IN },
	{ "OUT/s", 6, 'r', SORT_OUT },
	{ "IN B/s", 6, 'r', SORT_IN_BYTES },
	{ "OUT B/s", 7, 'r', SORT_OUT_BYTES },
	{ "P50", 7, 'r', SORT_P50 },
	{ "P99", 7, 'r', SORT_P99 },
	{ "LAG", 6, 'r', SORT_LAG },
	{ "BP/s", 5, 'r', SORT_BP },
	{ "ERR", 4, 'r', SORT_ERR },
	{ "TOTAL-IN", 9, 'r', SORT_TOTAL_IN },
	{ "TOTAL-OUT", 9, 'r', SORT_TOTAL_OUT },
};

#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))

typedef char cells_t[NCOLS][CELL];

/* ---- numbers ------------------------------------------------------------ */

/* "950", "12.3k", "4.56M" (bytes: powers of 1024, "K"); "-" if negative. */
static void fmt_num(char *buf, double v, bool bytes)
{
	static const char units[] = " kMGTPE";
	double base = bytes ? 1024 : 1000;
	unsigned u = 0;

	if (v < 0) {
		snprintf(buf, CELL, "-");
		return;
	}
	if (v < 9999.5) {
		snprintf(buf, CELL, "%.0f", v);
		return;
	}
	while (v >= 999.5 && u + 1 < sizeof(units) - 1) {
		v /= base;
		u++;
	}
	snprintf(buf, CELL,
		 v < 9.995 ? "%.2f%c" :
		 v < 99.95 ? "%.1f%c" :
			     "%.0f%c",
		 v, bytes && u == 1 ? 'K' : units[u]);
}

static void fmt_rate(char *buf, const struct sftop_view *v, double r,
		     bool bytes)
{
	fmt_num(buf, v->ns ? r : -1, bytes);
}

/*
 * A percentile; '*' marks one over all samples because the interval had
 * none (not needed when there is no interval).
 */
static void fmt_pct(char *buf, const struct sftop_view *v,
		    const struct sftop_row *r, double ns)
{
	sfm_fmt_ns(buf, CELL - 1, ns);
	if (ns >= 0 && r->pct_total && v->ns)
		strcat(buf, "*");
}

/* Control characters (a map key may hold any bytes) as '?'. */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

static void row_cells(const struct sftop_view *v, const struct sftop_row *r,
		      cells_t c)
{
	snprintf(c[0], CELL, "%.*s", CELL - 1, r->topic);
	printable(c[0]);
	snprintf(c[1], CELL, "%" PRIu32, r->partition);
	fmt_rate(c[2], v, r->in, false);
	fmt_rate(c[3], v, r->out, false);
	fmt_rate(c[4], v, r->in_bytes, true);
	fmt_rate(c[5], v, r->out_bytes, true);
	fmt_pct(c[6], v, r, r->p50);
	fmt_pct(c[7], v, r, r->p99);
	fmt_num(c[8], (double)r->lag, false);
	fmt_rate(c[9], v, r->bp, false);
	fmt_num(c[10], (double)r->tot.errors, false);
	snprintf(c[11], CELL, "%" PRIu64, (uint64_t)r->tot.records_in);
	snprintf(c[12], CELL, "%" PRIu64, (uint64_t)r->tot.records_out);
}

/* ---- lines -------------------------------------------------------------- */

/* Where a frame goes, and how much of it fits. */
struct out {
	FILE *f;
	const struct sftop_screen *s;
	int lines;
};

/* Start a line; false when the screen is full. */
static bool line_begin(struct out *o)
{
	if (o->s->rows && o->lines >= o->s->rows)
		return false;
	if (o->lines++)
		fputs(o->s->ansi ? "\033[K\n" : "\n", o->f);
	return true;
}

/* A whole line, cut to the width, in the attribute @attr (ANSI only). */
static void line_put(struct out *o, const char *attr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void line_put(struct out *o, const char *attr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (!line_begin(o))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	n = n < 0 ? 0 : n >= (int)sizeof(buf) ? (int)sizeof(buf) - 1 : n;
	if (o->s->cols && n > o->s->cols)
		n = o->s->cols;
	if (o->s->ansi && attr)
		fputs(attr, o->f);
	fwrite(buf, 1, (size_t)n, o->f);
	if (o->s->ansi && attr)
		fputs(ESC_OFF, o->f);
}

/* ---- the header --------------------------------------------------------- */

/* "in 12.3k/s 1.20MB/s  out ...", or the totals without rates. */
static void traffic(char *buf, size_t len, const struct sftop_view *v)
{
	char in[CELL], inb[CELL], out[CELL], outb[CELL];

	if (!v->ns) {
		snprintf(buf, len, "records in %" PRIu64 "  out %" PRIu64,
			 (uint64_t)v->sum.tot.records_in,
			 (uint64_t)v->sum.tot.records_out);
		return;
	}
	fmt_num(in, v->sum.in, false);
	fmt_num(inb, v->sum.in_bytes, true);
	fmt_num(out, v->sum.out, false);
	fmt_num(outb, v->sum.out_bytes, true);
	snprintf(buf, len, "in %s/s %sB/s  out %s/s %sB/s", in, inb, out, outb);
}

static void header(struct out *o, const struct sftop_view *v)
{
	char tr[4 * CELL + 64], clock[16] = "";
	time_t now = time(NULL);
	struct tm tm;

	traffic(tr, sizeof(tr), v);
	if (o->s->ansi && localtime_r(&now, &tm))
		strftime(clock, sizeof(clock), "  %H:%M:%S", &tm);
	line_put(o, ESC_BOLD,
		 "sftop - %s  topics %zu  partitions %" PRIu64 "  %s%s",
		 v->instance, v->topics, v->partitions, tr, clock);
}

static const char *order(const struct sftop_screen *s)
{
	if (s->sort == SORT_NAME)
		return s->reverse ? "Z-A" : "A-Z";
	return s->reverse ? "smallest first" : "largest first";
}

static void status_line(struct out *o, const struct sftop_view *v)
{
	const struct sftop_screen *s = o->s;
	char every[32];

	if (s->status && s->status[0]) {
		line_put(o, ESC_BOLD, "%s", s->status);
		return;
	}
	if (v->ns)
		snprintf(every, sizeof(every), "rates over %.2fs",
			 (double)v->ns / 1e9);
	else
		snprintf(every, sizeof(every), "totals only");
	line_put(o, NULL, "daemon %s: %s  maps %s  %s  sort %s %s%s",
		 s->daemon_dir, v->daemon ? "up" : "not reachable", v->dir,
		 every, sftop_sort_name(s->sort), order(s),
		 s->ansi ? "  keys: q s S n i o l r" : "");
}

/* ---- the table ---------------------------------------------------------- */

/* Column widths for these cells; how many columns fit.  Return: count. */
static int widths(const struct out *o, cells_t *c, size_t n, int *w)
{
	int total = -1, shown = 0;

	for (int k = 0; k < NCOLS; k++) {
		w[k] = cols[k].min > (int)strlen(cols[k].head) ?
			       cols[k].min :
			       (int)strlen(cols[k].head);
		for (size_t i = 0; i < n; i++)
			if ((int)strlen(c[i][k]) > w[k])
				w[k] = (int)strlen(c[i][k]);
	}
	if (w[0] > TOPIC_MAX)
		w[0] = TOPIC_MAX;
	for (int k = 0; k < NCOLS; k++)
		total += w[k] + 1;
	if (o->s->cols && total > o->s->cols && w[0] > TOPIC_MIN)
		w[0] -= total - o->s->cols < w[0] - TOPIC_MIN ?
				total - o->s->cols :
				w[0] - TOPIC_MIN;
	for (total = -1; shown < NCOLS; shown++) {
		total += w[shown] + 1;
		if (o->s->cols && total > o->s->cols && shown)
			break;
	}
	return shown;
}

/* One cell, padded (the topic cut with '~' if too long). */
static void put_cell(FILE *f, int k, const char *s, int w)
{
	int len = (int)strlen(s);

	if (k)
		fputc(' ', f);
	if (len > w)
		fprintf(f, "%.*s~", w - 1, s);
	else if (cols[k].align == 'l')
		fprintf(f, "%-*s", w, s);
	else
		fprintf(f, "%*s", w, s);
}

static void heads(struct out *o, const int *w, int shown)
{
	const struct sftop_screen *s = o->s;

	if (!line_begin(o))
		return;
	if (s->ansi)
		fputs(ESC_REV, o->f);
	for (int k = 0; k < shown; k++) {
		bool sorted = s->ansi && cols[k].key == s->sort && k != 1;

		if (sorted)
			fputs(ESC_UNDER ESC_BOLD, o->f);
		put_cell(o->f, k, cols[k].head, w[k]);
		if (sorted)
			fputs(ESC_OFF ESC_REV, o->f);
	}
	if (s->ansi)
		fputs(ESC_OFF, o->f);
}

static void row(struct out *o, const cells_t c, const int *w, int shown)
{
	if (!line_begin(o))
		return;
	for (int k = 0; k < shown; k++)
		put_cell(o->f, k, c[k], w[k]);
}

static void table(struct out *o, const struct sftop_view *v)
{
	size_t n = v->nrows;
	cells_t *c;
	int w[NCOLS], shown;

	if (o->s->rows && n > (size_t)(o->s->rows - o->lines - 1))
		n = o->s->rows > o->lines + 1 ? o->s->rows - o->lines - 1 : 0;
	c = malloc((n ? n : 1) * sizeof(*c));
	if (!c) {
		line_put(o, NULL, "(out of memory)");
		return;
	}
	for (size_t i = 0; i < n; i++)
		row_cells(v, &v->rows[i], c[i]);
	shown = widths(o, c, n, w);
	heads(o, w, shown);
	for (size_t i = 0; i < n; i++)
		row(o, c[i], w, shown);
	free(c);
}

void sftop_draw(const struct sftop_view *v, const struct sftop_screen *s,
		FILE *f)
{
	char *frame = NULL;
	size_t len = 0;
	struct out o = { open_memstream(&frame, &len), s, 0 };

	if (!o.f)
		sft_oom(SFTOP);
	if (s->ansi)
		fputs("\033[H", o.f);
	header(&o, v);
	status_line(&o, v);
	line_put(&o, NULL, "%s", "");
	table(&o, v);
	fputs(s->ansi ? "\033[K\033[J" : "\n", o.f);
	if (fclose(o.f))
		sft_oom(SFTOP);
	fwrite(frame, 1, len, f);
	fflush(f);
	free(frame);
}
