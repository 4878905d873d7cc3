/* SPDX-License-Identifier: MIT */
/*
 * t_daemon.h - start and stop a real sfshmd for a test.
 *
 * The daemon runs from the build tree next to the test binary
 * (build/tests/X -> build/sfshmd), or from $SFSHMD if set, on a fresh
 * data dir under /tmp and a fresh run dir under /dev/shm (under /tmp where
 * there is no /dev/shm), logging its standard error to <data-dir>.log.
 *
 * It runs without its eBPF metrics (--no-bpf) unless the test sets @bpf:
 * a daemon with metrics pins maps and links under /sys/fs/bpf/sfshm/ that
 * outlive it and attaches probes to every client binary, test programs
 * included; test_metrics.c turns them on and removes the pins itself.
 */
#ifndef T_DAEMON_H
#define T_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct t_daemon {
	pid_t pid;
	char data_dir[128];
	char run_dir[128];
	char log_path[160];
	const char *extra[16]; /* more arguments, NULL-terminated */
	bool bpf; /* load the eBPF metrics; false (the default): --no-bpf */
	uid_t uid; /* run as this user (and its gid = uid) if not 0: root */
};

/* build/ (the directory holding sfshmd), from /proc/self/exe. */
const char *t_bin_dir(void);

/*
 * Can we run build/sfshmd and the tools sfctl and sfcat?  If not, the
 * first that cannot be run is said on stderr.
 */
bool t_have_binaries(void);

/*
 * Make fresh data and run dirs named after @tag; the rest of @d is zeroed
 * (no extra arguments, no metrics, the caller's user).
 * Return: 0 or -1.
 */
int t_daemon_init(struct t_daemon *d, const char *tag);

/* Set the extra arguments to @flags (NULL-ended; the first 15 of them). */
void t_daemon_set_extra(struct t_daemon *d, const char *const *flags);

/*
 * Start sfshmd and wait (deadline 10 s, scaled by t_slowdown()) until it
 * answers a connect.  Return: 0; -1 if it exited or did not answer (its
 * log is printed).
 */
int t_daemon_start(struct t_daemon *d);

/* Send @sig and wait for the exit.  Return: the wait status, or -1. */
int t_daemon_stop(struct t_daemon *d, int sig);

/*
 * Stop the daemon with SIGTERM, which it must survive until then and
 * answer with exit status 0; otherwise say how it ended and print its log.
 * Return: 0 or -1.
 */
int t_daemon_term(struct t_daemon *d);

/*
 * The end of a test: stop the daemon, if it runs, with SIGTERM; any end
 * but exit status 0 is said on stderr.  Return: 0, or -1 if it did not
 * exit cleanly.
 */
int t_daemon_end(struct t_daemon *d);

/* Print the daemon's log to stderr (for failures). */
void t_daemon_print_log(const struct t_daemon *d);

/* Print the last @lines lines of the daemon's log to stderr. */
void t_daemon_print_log_tail(const struct t_daemon *d, int lines);

/* Does a line of the daemon's log hold @a, and @b too if not NULL? */
bool t_daemon_log_has(const struct t_daemon *d, const char *a, const char *b);

/* Kill the daemon if running and remove both dirs. */
void t_daemon_cleanup(struct t_daemon *d);

/* Run a shell command with the daemon's run dir in SFSHM_RUN_DIR. */
int t_daemon_sh(const struct t_daemon *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- the daemon's eBPF metrics (test_metrics, test_metrics_tools) ---- */

/*
 * Why this machine cannot run sfshmd with its eBPF metrics and read them
 * with bpftool, NULL if it can: that needs root, a kernel with BTF and a
 * bpftool ($BPFTOOL, else the usual directories, else $PATH), whose path
 * goes into @bpftool (@len bytes).
 */
const char *t_bpf_missing(char *bpftool, size_t len);

/*
 * Enter a mount namespace of our own with a fresh bpffs on /sys/fs/bpf,
 * mounted with @opts ("mode=0700"), that the daemons and tools we start
 * inherit: what they pin there is invisible to the rest of the host and
 * goes, probes detached, when the last of our processes exits.
 * Return: NULL, or why not (errno says more; 0 if it says nothing).
 */
const char *t_private_bpffs(const char *opts);

#endif
