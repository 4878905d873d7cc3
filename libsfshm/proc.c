// SPDX-License-Identifier: MIT
/*
 * proc.c - is the process that took a shared slot still the one alive?
 *
 * A pid alone can be reused; the pair (pid, start time) cannot, for as long
 * as the machine runs.  The start time is field 22 of /proc/PID/stat, in
 * clock ticks since boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sfshm_int.h"

struct proc_stat {
	char state; /* field 3, '?' if unknown */
	long threads; /* field 20 */
	uint64_t start; /* field 22, 0 if unknown */
};

static void sf_proc_stat(uint32_t pid, struct proc_stat *st);

/* Field 22 of /proc/@pid/stat, or 0 if it cannot be read. */
uint64_t sf_proc_start(uint32_t pid)
{
	struct proc_stat st;

	sf_proc_stat(pid, &st);
	return st.start;
}

/* The space-separated field @field (>= 3) of a stat line, after its ')'. */
static const char *stat_field(const char *paren, int field)
{
	const char *p = paren;

	/* ") S ...": field 3 follows the first space after ')'. */
	for (int f = 2; f < field && p; f++)
		p = strchr(p + 1, ' ');
	return p ? p + 1 : NULL;
}

static void sf_proc_stat(uint32_t pid, struct proc_stat *st)
{
	char path[40], buf[1024];
	const char *p, *f;
	ssize_t n;
	int fd;

	*st = (struct proc_stat){ .state = '?' };
	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces: start after its ')'. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return;
	st->state = p[2];
	f = stat_field(p, 20);
	st->threads = f ? strtol(f, NULL, 10) : 0;
	f = stat_field(p, 22);
	st->start = f ? strtoull(f, NULL, 10) : 0;
}

/*
 * Does (@pid, @start) name a live process?  Unknown counts as alive.  A
 * zombie (state Z: exited, not yet reaped) counts as gone, but only with
 * one thread left: a process whose main thread called pthread_exit() also
 * shows Z while its other threads run on.
 */
bool sf_proc_alive(uint32_t pid, uint64_t start)
{
	struct proc_stat st;

	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return false;
	sf_proc_stat(pid, &st);
	if ((st.state == 'Z' || st.state == 'X') && st.threads <= 1)
		return false;
	return !st.start || !start || st.start == start;
}
