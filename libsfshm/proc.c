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

/* Field 22 of /proc/@pid/stat, or 0 if it cannot be read. */
uint64_t sf_proc_start(uint32_t pid)
{
	char path[40], buf[1024];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces: start after its ')'. */
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* Fields 3..21 follow; the 20th space after ')' precedes field 22. */
	for (int field = 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

/* Does (@pid, @start) name a live process?  Unknown counts as alive. */
bool sf_proc_alive(uint32_t pid, uint64_t start)
{
	uint64_t now;

	if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
		return false;
	now = sf_proc_start(pid);
	return !now || !start || now == start;
}
