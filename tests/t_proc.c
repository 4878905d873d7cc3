// SPDX-License-Identifier: MIT
/*
 * t_proc.c - run a program with its standard streams on pipes (see
 * t_proc.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_daemon.h"
#include "t_proc.h"
#include "t_util.h"

#define MAX_PROCS 8 /* procs pumped at once */
#define MAX_ARGS 64

void t_buf_add(struct t_buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* In the child: become @uid (if not 0), then run @argv. */
static void child_exec(char *const *argv, uid_t uid, int in[2], int out[2],
		       int err[2])
{
	signal(SIGPIPE, SIG_DFL);
	if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0)
		_exit(126);
	if (t_become(uid)) {
		fprintf(stderr, "become uid %u: %s\n", (unsigned)uid,
			strerror(errno));
		_exit(126);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void t_proc_start(struct t_proc *p, uid_t uid, const char *input, size_t inlen,
		  const char *const *args)
{
	char path[PATH_MAX + 32];
	char *argv[MAX_ARGS];
	int in[2], out[2], err[2];
	int n;

	if (strchr(args[0], '/'))
		snprintf(path, sizeof(path), "%s", args[0]);
	else
		snprintf(path, sizeof(path), "%s/tools/%s", t_bin_dir(),
			 args[0]);
	argv[0] = path;
	for (n = 1; args[n] && n < MAX_ARGS - 1; n++)
		argv[n] = (char *)args[n];
	argv[n] = NULL;

	memset(p, 0, sizeof(*p));
	assert_int_equal(pipe2(in, O_CLOEXEC), 0);
	assert_int_equal(pipe2(out, O_CLOEXEC), 0);
	assert_int_equal(pipe2(err, O_CLOEXEC), 0);
	p->pid = fork();
	assert_true(p->pid >= 0);
	if (p->pid == 0)
		child_exec(argv, uid, in, out, err);
	close(in[0]);
	close(out[1]);
	close(err[1]);
	p->in = in[1];
	p->out = out[0];
	p->err = err[0];
	fcntl(p->in, F_SETFL, O_NONBLOCK);
	p->input = input;
	p->inlen = input ? inlen : 0;
	t_buf_add(&p->o, "", 0);
	t_buf_add(&p->e, "", 0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void pump_input(struct t_proc *p)
{
	ssize_t n = write(p->in, p->input + p->inoff, p->inlen - p->inoff);

	if (n > 0)
		p->inoff += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
	    p->inoff == p->inlen)
		close_fd(&p->in);
}

static void pump_output(int *fd, struct t_buf *b)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0)
		t_buf_add(b, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

bool t_procs_pump(struct t_proc *ps, size_t n, int ms)
{
	struct pollfd fds[3 * MAX_PROCS];
	bool open = false;

	assert_true(n <= MAX_PROCS);
	for (size_t i = 0; i < n; i++) {
		struct t_proc *p = &ps[i];

		if (p->in >= 0 && p->inoff == p->inlen)
			close_fd(&p->in);
		fds[3 * i] = (struct pollfd){
			.fd = p->inoff < p->inlen ? p->in : -1,
			.events = POLLOUT,
		};
		fds[3 * i + 1] =
			(struct pollfd){ .fd = p->out, .events = POLLIN };
		fds[3 * i + 2] =
			(struct pollfd){ .fd = p->err, .events = POLLIN };
		open = open || p->out >= 0 || p->err >= 0;
	}
	if (!open)
		return false;
	if (poll(fds, 3 * n, ms) <= 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		if (fds[3 * i].revents)
			pump_input(&ps[i]);
		if (fds[3 * i + 1].revents)
			pump_output(&ps[i].out, &ps[i].o);
		if (fds[3 * i + 2].revents)
			pump_output(&ps[i].err, &ps[i].e);
	}
	return true;
}

bool t_proc_pump(struct t_proc *p, int ms)
{
	return t_procs_pump(p, 1, ms);
}

void t_procs_finish(struct t_proc *ps, size_t n, uint64_t deadline,
		    struct t_res *rs)
{
	while (t_now_ms() < deadline && t_procs_pump(ps, n, 50))
		;
	for (size_t i = 0; i < n; i++) {
		struct t_proc *p = &ps[i];
		int left = (int)(deadline > t_now_ms() ? deadline - t_now_ms() :
							 1);

		rs[i].status = t_wait_child(p->pid, left);
		close_fd(&p->in);
		close_fd(&p->out);
		close_fd(&p->err);
		rs[i].out = p->o.p;
		rs[i].outlen = p->o.len;
		rs[i].err = p->e.p;
		free(p->own);
		memset(p, 0, sizeof(*p));
	}
}

void t_proc_finish(struct t_proc *p, uint64_t deadline, struct t_res *r)
{
	t_procs_finish(p, 1, deadline, r);
}

void t_proc_kill(struct t_proc *p)
{
	if (p->pid <= 0)
		return;
	kill(p->pid, SIGKILL);
	t_wait_child(p->pid, 10000);
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->err);
	free(p->o.p);
	free(p->e.p);
	free(p->own);
	memset(p, 0, sizeof(*p));
}

void t_run(struct t_res *r, int timeout_ms, uid_t uid, const char *input,
	   size_t inlen, const char *const *args)
{
	struct t_proc p;

	t_proc_start(&p, uid, input, inlen, args);
	t_proc_finish(&p, T_DEADLINE((uint64_t)timeout_ms * t_slowdown()), r);
}

void t_res_free(struct t_res *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

void t_res_check(const struct t_res *r, int want, const char *what)
{
	if (r->status != want)
		fail_msg(
			"%s: exit %d, want %d\nstdout: %.3000s\nstderr: %.3000s",
			what, r->status, want, r->out, r->err);
}

bool t_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

size_t t_count_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}
