// SPDX-License-Identifier: MIT
/*
 * t_daemon.c - start and stop a real sfshmd for a test (see t_daemon.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sfshm/sfshm.h>

#include "t_daemon.h"
#include "t_util.h"

#define START_MS 10000
#define STOP_MS 30000

const char *t_bin_dir(void)
{
	static char dir[PATH_MAX];
	ssize_t n;

	if (dir[0])
		return dir;
	n = readlink("/proc/self/exe", dir, sizeof(dir) - 1);
	if (n <= 0)
		return ".";
	dir[n] = '\0';
	/* build/tests/X -> build */
	for (int i = 0; i < 2; i++) {
		char *slash = strrchr(dir, '/');

		if (slash)
			*slash = '\0';
	}
	return dir;
}

bool t_have_binaries(void)
{
	static const char *const names[] = { "sfshmd", "tools/sfctl",
					     "tools/sfcat" };
	char path[PATH_MAX + 16];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t_bin_dir(), names[i]);
		if (access(path, X_OK)) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			return false;
		}
	}
	return true;
}

/* The run dir under /dev/shm; without one, any directory will do. */
static int make_run_dir(struct t_daemon *d, const char *tag)
{
	snprintf(d->run_dir, sizeof(d->run_dir), "/dev/shm/sfshm-%s-XXXXXX",
		 tag);
	if (mkdtemp(d->run_dir))
		return 0;
	snprintf(d->run_dir, sizeof(d->run_dir), "/tmp/sfshm-%s-run-XXXXXX",
		 tag);
	return mkdtemp(d->run_dir) ? 0 : -1;
}

int t_daemon_init(struct t_daemon *d, const char *tag)
{
	memset(d, 0, sizeof(*d));
	d->pid = -1;
	snprintf(d->data_dir, sizeof(d->data_dir), "/tmp/sfshm-%s-XXXXXX", tag);
	if (!mkdtemp(d->data_dir) || make_run_dir(d, tag))
		return -1;
	snprintf(d->log_path, sizeof(d->log_path), "%s.log", d->data_dir);
	return 0;
}

static void sfshmd_path(char *buf, size_t len)
{
	const char *env = getenv("SFSHMD");

	if (env && env[0])
		snprintf(buf, len, "%s", env);
	else
		snprintf(buf, len, "%s/sfshmd", t_bin_dir());
}

static void exec_daemon(const struct t_daemon *d)
{
	const char *argv[24] = { "sfshmd", "--data-dir", d->data_dir,
				 "--run-dir", d->run_dir };
	char path[PATH_MAX + 16];
	int n = 5, fd;

	/* Before the extras: a test's own --metrics.bpf there wins. */
	if (!d->bpf)
		argv[n++] = "--no-bpf";
	for (int i = 0; d->extra[i] && n < 23; i++)
		argv[n++] = d->extra[i];
	argv[n] = NULL;
	fd = open(d->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(126);
	if (t_become(d->uid)) {
		fprintf(stderr, "t_daemon: cannot become uid %u: %s\n",
			(unsigned)d->uid, strerror(errno));
		_exit(126);
	}
	signal(SIGPIPE, SIG_DFL);
	sfshmd_path(path, sizeof(path));
	execv(path, (char *const *)argv);
	_exit(127);
}

static bool answers(const struct t_daemon *d)
{
	struct sfshm_client_opts o = { .size = sizeof(o),
				       .run_dir = d->run_dir,
				       .timeout_ms = 1000 };
	struct sfshm_client *c;

	if (sfshm_connect(&o, &c))
		return false;
	sfshm_disconnect(c);
	return true;
}

void t_daemon_print_log(const struct t_daemon *d)
{
	char line[1024];
	FILE *f = fopen(d->log_path, "r");

	while (f && fgets(line, sizeof(line), f))
		fprintf(stderr, "  sfshmd| %s", line);
	if (f)
		fclose(f);
}

void t_daemon_set_extra(struct t_daemon *d, const char *const *flags)
{
	int n = 0;

	while (flags && flags[n] && n < 15) {
		d->extra[n] = flags[n];
		n++;
	}
	d->extra[n] = NULL;
}

int t_daemon_start(struct t_daemon *d)
{
	uint64_t deadline = T_DEADLINE(START_MS * t_slowdown());
	int status;

	d->pid = fork();
	if (d->pid < 0)
		return -1;
	if (d->pid == 0)
		exec_daemon(d);
	while (t_now_ms() < deadline) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			fprintf(stderr, "sfshmd exited (status 0x%x)\n",
				status);
			d->pid = -1;
			t_daemon_print_log(d);
			return -1;
		}
		if (answers(d))
			return 0;
		t_sleep_us(10000);
	}
	fprintf(stderr, "sfshmd did not answer in %d ms\n", START_MS);
	t_daemon_print_log(d);
	return -1;
}

int t_daemon_stop(struct t_daemon *d, int sig)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	status = t_wait_child(d->pid, STOP_MS * t_slowdown());
	d->pid = -1;
	return status;
}

int t_daemon_term(struct t_daemon *d)
{
	bool early = d->pid > 0 && t_proc_gone(d->pid);
	int st = t_daemon_stop(d, SIGTERM);
	char why[64];

	if (st == 0 && !early)
		return 0;
	fprintf(stderr, "sfshmd %s: %s\n",
		early ? "had stopped before SIGTERM" : "on SIGTERM",
		t_status_str(st, why, sizeof(why)));
	t_daemon_print_log(d);
	return -1;
}

bool t_daemon_log_has(const struct t_daemon *d, const char *a, const char *b)
{
	char line[2048];
	FILE *fp = fopen(d->log_path, "r");
	bool found = false;

	while (fp && !found && fgets(line, sizeof(line), fp))
		found = strstr(line, a) && (!b || strstr(line, b));
	if (fp)
		fclose(fp);
	return found;
}

int t_daemon_end(struct t_daemon *d)
{
	char why[64];
	int st;

	if (d->pid <= 0)
		return 0;
	st = t_daemon_stop(d, SIGTERM);
	if (st == 0)
		return 0;
	fprintf(stderr, "sfshmd did not stop cleanly: %s\n",
		t_status_str(st, why, sizeof(why)));
	return -1;
}

void t_daemon_print_log_tail(const struct t_daemon *d, int lines)
{
	char cmd[512];

	fprintf(stderr, "---- last %d lines of %s ----\n", lines, d->log_path);
	fflush(stderr);
	snprintf(cmd, sizeof(cmd),
		 "tail -n %d '%s' | sed 's/^/  sfshmd| /' >&2", lines,
		 d->log_path);
	if (system(cmd) != 0)
		t_daemon_print_log(d);
}

void t_daemon_cleanup(struct t_daemon *d)
{
	if (d->pid > 0)
		t_daemon_stop(d, SIGKILL);
	t_rm_rf(d->data_dir);
	t_rm_rf(d->run_dir);
	if (d->log_path[0])
		unlink(d->log_path);
}

int t_daemon_sh(const struct t_daemon *d, const char *fmt, ...)
{
	char cmd[4096];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "SFSHM_RUN_DIR='%s' B='%s'; ",
		     d->run_dir, t_bin_dir());
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* ---- the daemon's eBPF metrics ----------------------------------------- */

static bool find_bpftool(char *buf, size_t len)
{
	static const char *const std[] = { "/usr/sbin/bpftool",
					   "/usr/local/sbin/bpftool",
					   "/sbin/bpftool",
					   "/usr/bin/bpftool" };
	const char *env = getenv("BPFTOOL"), *path = getenv("PATH");

	if (env && env[0]) {
		snprintf(buf, len, "%s", env);
		return access(buf, X_OK) == 0;
	}
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		snprintf(buf, len, "%s", std[i]);
		if (access(buf, X_OK) == 0)
			return true;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, len, "%.*s/bpftool", (int)n, path);
		if (n && access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

const char *t_bpf_missing(char *bpftool, size_t len)
{
	if (geteuid() != 0)
		return "not root: sfshmd loads BPF programs only as root";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "no /sys/kernel/btf/vmlinux: the kernel has no BTF";
	if (!find_bpftool(bpftool, len))
		return "no bpftool (set BPFTOOL=PATH)";
	return NULL;
}

const char *t_private_bpffs(const char *opts)
{
	errno = 0;
	if (unshare(CLONE_NEWNS))
		return "unshare(CLONE_NEWNS) failed";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return "cannot make the mounts private"; /* must not mount */
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, opts))
		return "cannot mount a bpffs";
	return NULL;
}
