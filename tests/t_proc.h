/* SPDX-License-Identifier: MIT */
/*
 * t_proc.h - run a program with its standard streams on pipes: feed its
 * standard input, collect its standard output and error, reap it by a
 * deadline (test_tools, test_groups_admin, test_metrics).
 *
 * The parent must ignore SIGPIPE: a child that exits early closes its
 * standard input under the writer.  Errors of the parent (pipes, fork,
 * memory) fail the test.
 */
#ifndef SFSHM_T_PROC_H
#define SFSHM_T_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A growing byte buffer, kept NUL-terminated once anything was added. */
struct t_buf {
	char *p;
	size_t len, cap;
};

/* Append @n bytes at @p (n = 0: make b->p an empty string). */
void t_buf_add(struct t_buf *b, const void *p, size_t n);

/* A child with its standard streams on pipes. */
struct t_proc {
	pid_t pid; /* 0 once finished (t_proc_finish(), t_proc_kill()) */
	int in, out, err; /* -1 once closed */
	const char *input;
	size_t inlen, inoff;
	struct t_buf o, e; /* what it printed so far, NUL-terminated */
	char *own; /* freed when the proc is finished or killed */
};

/* How a finished child ended. */
struct t_res {
	int status; /* exit status, 128 + signal, or -1 on timeout */
	char *out; /* its standard output (malloc()ed) */
	size_t outlen;
	char *err; /* its standard error (malloc()ed) */
};

/* A NULL-ended argument list: T_ARGS("sfctl", "topic", "list"). */
#define T_ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/*
 * Start @args (NULL-ended; at most 63 are passed) as @uid (0: as we are),
 * with @input (@inlen bytes, not copied; NULL: none) on its standard
 * input.  A name with a slash is the program's path; any other is a tool
 * of the build tree (t_bin_dir()/tools/NAME).  The input is written as
 * the proc is pumped; its standard input is closed once all of it is
 * written, at the first pump where there is none.
 */
void t_proc_start(struct t_proc *p, uid_t uid, const char *input, size_t inlen,
		  const char *const *args);

/*
 * One round of moving bytes for the @n procs @ps[] (at most 8), waiting
 * at most @ms for any.  Return: false once all their standard outputs and
 * errors are closed.
 */
bool t_procs_pump(struct t_proc *ps, size_t n, int ms);

/* t_procs_pump() of one. */
bool t_proc_pump(struct t_proc *p, int ms);

/*
 * Pump the @n procs @ps[] (at most 8) until they all close their output,
 * then reap them, all by @deadline (t_now_ms(); those still running then
 * are killed).  @rs[i] gets how @ps[i] ended and what it printed; @ps[i]
 * is left finished (pid 0).
 */
void t_procs_finish(struct t_proc *ps, size_t n, uint64_t deadline,
		    struct t_res *rs);

/* t_procs_finish() of one. */
void t_proc_finish(struct t_proc *p, uint64_t deadline, struct t_res *r);

/* Kill and reap a proc not finished yet (a failed test's); free it. */
void t_proc_kill(struct t_proc *p);

/*
 * Run @args as t_proc_start() says, to the end, by a deadline of
 * @timeout_ms scaled by t_slowdown().  Fills @r.
 */
void t_run(struct t_res *r, int timeout_ms, uid_t uid, const char *input,
	   size_t inlen, const char *const *args);

void t_res_free(struct t_res *r);

/* Fail the test, with the run's output, when its status is not @want. */
void t_res_check(const struct t_res *r, int want, const char *what);

/* ---- reading the output ------------------------------------------------ */

/* Does @text hold the line @line (without its newline)? */
bool t_has_line(const char *text, const char *line);

/* The newlines in @text. */
size_t t_count_lines(const char *text);

#endif
