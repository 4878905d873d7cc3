// SPDX-License-Identifier: MIT
/*
 * msg.c - sfshmd's log lines on standard error.
 *
 *   2026-11-27T22:40:01.123Z INFO  persist: text: No space left on device
 *
 * UTC with milliseconds, the level padded to five columns, the subsystem,
 * the message and, if the caller passed one, the text of an -errno.  Each
 * line is built in a local buffer and handed to one write(2), so lines of
 * concurrent threads do not interleave (a pipe makes writes of up to
 * PIPE_BUF bytes atomic; lines are kept shorter than that).  A line that
 * does not fit is cut and ends in "...".  Newlines inside a message become
 * spaces: one event, one line, whatever the caller formatted.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "sfatomic.h"
#include "sfd.h"

#define LINE_SIZE 1024 /* with the '\n'; below PIPE_BUF (4096) */

/*
 * Lines less severe than this are dropped.  Relaxed loads and stores: the
 * level orders nothing else, and a change reaching another thread a line
 * late is harmless.
 */
static uint32_t cur_level = SFD_INFO;

static const struct {
	enum sfd_level level;
	const char *name; /* for sfd_level_parse() */
	const char *tag; /* in the line */
} levels[] = {
	{ SFD_ERROR, "error", "ERROR" },
	{ SFD_WARN, "warn", "WARN" },
	{ SFD_INFO, "info", "INFO" },
	{ SFD_DEBUG, "debug", "DEBUG" },
};

#define NLEVELS (sizeof(levels) / sizeof(levels[0]))

void sfd_log_set_level(enum sfd_level level)
{
	sf_store_relaxed32(&cur_level, (uint32_t)level);
}

int sfd_level_parse(const char *s, enum sfd_level *level)
{
	for (size_t i = 0; i < NLEVELS; i++) {
		if (!strcasecmp(s, levels[i].name)) {
			*level = levels[i].level;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *level_tag(enum sfd_level level)
{
	for (size_t i = 0; i < NLEVELS; i++) {
		if (levels[i].level == level)
			return levels[i].tag;
	}
	return "?";
}

/*
 * Append to the line of @n bytes.  The last byte of the buffer is kept
 * for the '\n'; *@cut is set when something did not fit.
 */
static size_t vappend(char *line, size_t n, bool *cut, const char *fmt,
		      va_list ap)
{
	size_t room = LINE_SIZE - 1 - n;
	int r;

	if (*cut)
		return n;
	r = vsnprintf(line + n, room, fmt, ap);
	if (r < 0)
		return n;
	if ((size_t)r >= room) {
		*cut = true;
		return LINE_SIZE - 2; /* vsnprintf() kept room - 1 bytes */
	}
	return n + (size_t)r;
}

static size_t append(char *line, size_t n, bool *cut, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static size_t append(char *line, size_t n, bool *cut, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	n = vappend(line, n, cut, fmt, ap);
	va_end(ap);
	return n;
}

/* "2026-11-27T22:40:01.123Z INFO  persist: " */
static size_t put_prefix(char *line, bool *cut, enum sfd_level level,
			 const char *subsys)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return append(line, 0, cut,
		      "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s: ",
		      tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		      tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L,
		      level_tag(level), subsys ? subsys : "sfshmd");
}

/* Newlines and other control characters of the message become spaces. */
static void flatten(char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)s[i] < 0x20 && s[i] != '\t')
			s[i] = ' ';
	}
}

/* Mark a cut line, end it; return its length with the '\n'. */
static size_t finish(char *line, size_t n, bool cut)
{
	if (cut)
		memcpy(line + n - 3, "...", 3);
	line[n] = '\n';
	return n + 1;
}

/* One write(2); loops only if a signal or a full pipe split it. */
static void put_line(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere else to report it */
		p += w;
		n -= (size_t)w;
	}
}

void sfd_logf(enum sfd_level level, const char *subsys, int err,
	      const char *fmt, ...)
{
	char line[LINE_SIZE], ebuf[128];
	int saved_errno = errno;
	bool cut = false;
	size_t n, body;
	va_list ap;

	if ((uint32_t)level > sf_load_relaxed32(&cur_level))
		return;
	body = n = put_prefix(line, &cut, level, subsys);
	va_start(ap, fmt);
	n = vappend(line, n, &cut, fmt, ap);
	va_end(ap);
	if (err)
		n = append(line, n, &cut, ": %s",
			   strerror_r(err < 0 ? -err : err, ebuf,
				      sizeof(ebuf)));
	flatten(line + body, n - body);
	put_line(line, finish(line, n, cut));
	errno = saved_errno;
}
