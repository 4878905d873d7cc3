// SPDX-License-Identifier: MIT
/*
 * test_metrics.c - sfshmd's eBPF metrics (daemon/metrics.c, bpf/sfm.bpf.c)
 * against a real daemon, read the way an operator reads them: through
 * `bpftool map dump pinned /sys/fs/bpf/sfshm/<instance>/... -j`.
 *
 * Every test starts its own build/sfshmd (t_daemon.h) with metrics on and
 * an instance name of its own (t-metrics-<pid>-<n>), moves records with
 * the real tools (sfcat, sfctl) and compares the pinned counters with what
 * was sent, what the consumers printed and what `sfctl topic describe
 * --json` says, to the record and to the byte.  Topic names carry the
 * test's pid: the probes count every process running an attached binary,
 * whichever daemon it talks to, so names shared with a test running next
 * to this one would mix.  The teardown stops the daemon (a clean exit is
 * part of the test) and removes the instance directory, which detaches the
 * probes the daemon left pinned; it does so after a failure too.  The
 * program runs in a mount namespace of its own with a fresh bpffs on
 * /sys/fs/bpf (see private_bpffs()), so that nothing it pins outlives it
 * or meets another daemon's pins.
 *
 *   exact_totals   three topics (1, 3 and 4 partitions; without keys,
 *                  with keys, acks=durable): records and bytes in and out
 *                  per partition, batches, log end offsets, the persist,
 *                  fsync and sampled end-to-end histograms.
 *   restart        SIGTERM leaves the maps and links pinned; the next
 *                  daemon of the instance says it reuses them and the
 *                  counters go on from where they were, counted once.
 *   no_bpf         --no-bpf: records move, nothing is pinned.
 *   unprivileged   the daemon as nobody (65534) with metrics on by
 *                  default: it runs, clients of the same user move
 *                  records, one "metrics off" line says why, nothing is
 *                  pinned and /sys/fs/bpf/sfshm is not left to nobody.
 *   delete         deleting a topic drops its counters and histograms: the
 *                  topic created again under the name starts from zero.
 *   two_instances  two daemons at once (run dirs and instances A and B),
 *                  attached to the same sfshmd and sfcat, each with a topic
 *                  of the same name: producers and consumers of both run
 *                  side by side, and each instance counts exactly its own
 *                  records and bytes, has no entry the other caused, and
 *                  its procs map holds its daemon and live clients alone
 *                  (none of the other's, none gone).
 *
 * Needs root and a kernel with BTF (/sys/kernel/btf/vmlinux), as CI has;
 * otherwise (or without bpftool) the program says why and exits 77, which
 * run-tests.sh reports as a skip, and under CI as a failure unless
 * SFSHM_ALLOW_SKIP names test_metrics.
 * TEST_METRICS_ONLY=substring runs the matching tests only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfm.h"
#include "t_daemon.h"
#include "t_util.h"

#define WAIT_MS 20000 /* a condition must hold within this (scaled) */
#define TOOL_MS 60000 /* deadline of one tool run (scaled) */
#define NOBODY 65534
#define MAX_PARTS 8
#define LAT_MAX_NS (600ull * 1000000000ull) /* no latency here is longer */

static char g_bpftool[PATH_MAX];
static bool g_skipped; /* a test was skipped: exit 77 if nothing failed */
static char g_skip_why[256];

/* ---- running a program ------------------------------------------------- */

struct buf {
	char *p;
	size_t len, cap;
};

/* A child with its standard streams on pipes. */
struct proc {
	pid_t pid;
	int in, out, err; /* -1 once closed */
	const char *input;
	size_t inlen, inoff;
	struct buf o, e;
	char *own; /* the input, if the proc is to free it (kids_finish()) */
};

/* The result of a finished run. */
struct res {
	int status; /* exit status, 128 + signal, or -1 on timeout */
	char *out;
	char *err;
};

static void buf_add(struct buf *b, const char *p, size_t n)
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
	if (uid && (setgroups(0, NULL) || setgid((gid_t)uid) || setuid(uid))) {
		fprintf(stderr, "become uid %u: %s\n", (unsigned)uid,
			strerror(errno));
		_exit(126);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void proc_start(struct proc *p, char *const *argv, uid_t uid,
		       const char *input, size_t inlen)
{
	int in[2], out[2], err[2];

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
	buf_add(&p->o, "", 0);
	buf_add(&p->e, "", 0);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void pump_input(struct proc *p)
{
	ssize_t n = write(p->in, p->input + p->inoff, p->inlen - p->inoff);

	if (n > 0)
		p->inoff += (size_t)n;
	if ((n < 0 && errno != EAGAIN && errno != EINTR) ||
	    p->inoff == p->inlen)
		close_fd(&p->in);
}

static void pump_output(int *fd, struct buf *b)
{
	char chunk[65536];
	ssize_t n = read(*fd, chunk, sizeof(chunk));

	if (n > 0)
		buf_add(b, chunk, (size_t)n);
	else if (n == 0 || (errno != EINTR && errno != EAGAIN))
		close_fd(fd);
}

/* One round of moving bytes, waiting at most @ms.  Return: false once
 * the child's stdout and stderr are closed. */
static bool proc_pump(struct proc *p, int ms)
{
	struct pollfd fds[3] = {
		{ .fd = p->inoff < p->inlen ? p->in : -1, .events = POLLOUT },
		{ .fd = p->out, .events = POLLIN },
		{ .fd = p->err, .events = POLLIN },
	};

	if (p->in >= 0 && p->inoff == p->inlen)
		close_fd(&p->in);
	if (p->out < 0 && p->err < 0)
		return false;
	if (poll(fds, 3, ms) <= 0)
		return true;
	if (fds[0].revents)
		pump_input(p);
	if (fds[1].revents)
		pump_output(&p->out, &p->o);
	if (fds[2].revents)
		pump_output(&p->err, &p->e);
	return p->out >= 0 || p->err >= 0;
}

/* Run until the child closes its output, then reap it, all by the tool
 * deadline.  Fills @r. */
static void proc_finish(struct proc *p, struct res *r)
{
	uint64_t deadline = T_DEADLINE((uint64_t)TOOL_MS * t_slowdown());
	int left;

	while (t_now_ms() < deadline && proc_pump(p, 50))
		;
	left = (int)(deadline > t_now_ms() ? deadline - t_now_ms() : 1);
	r->status = t_wait_child(p->pid, left);
	close_fd(&p->in);
	close_fd(&p->out);
	close_fd(&p->err);
	r->out = p->o.p;
	r->err = p->e.p;
}

static void res_free(struct res *r)
{
	free(r->out);
	free(r->err);
	memset(r, 0, sizeof(*r));
}

/*
 * Start @args (NULL-ended) as @uid (0: as we are) with @input on stdin.
 * A name without a slash is a tool of build/tools/.
 */
static void run_start(struct proc *p, uid_t uid, const char *input,
		      size_t inlen, const char *const *args)
{
	char path[PATH_MAX + 32];
	char *argv[64];
	int n;

	if (strchr(args[0], '/'))
		snprintf(path, sizeof(path), "%s", args[0]);
	else
		snprintf(path, sizeof(path), "%s/tools/%s", t_bin_dir(),
			 args[0]);
	argv[0] = path;
	for (n = 1; args[n] && n < 63; n++)
		argv[n] = (char *)args[n];
	argv[n] = NULL;
	proc_start(p, argv, uid, input, inlen);
}

/* Run @args as run_start() says, to the end: fills @r. */
static void run_v(struct res *r, uid_t uid, const char *input, size_t inlen,
		  const char *const *args)
{
	struct proc p;

	run_start(&p, uid, input, inlen, args);
	proc_finish(&p, r);
}

#define MAX_KIDS 8 /* children run at once by kids_finish() */

/* Like proc_pump(), for @n children at once. */
static bool kids_pump(struct proc *ps, size_t n, int ms)
{
	struct pollfd fds[3 * MAX_KIDS];
	bool open = false;

	assert_true(n <= MAX_KIDS);
	for (size_t i = 0; i < n; i++) {
		struct proc *p = &ps[i];

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

/*
 * Run the @n children started in @ps[] side by side until they all close
 * their output, then reap them, all by one tool deadline (those still
 * running then are killed); @rs[i] gets how @ps[i] ended.  A reaped proc
 * has pid 0 (kid_kill() leaves it alone).
 */
static void kids_finish(struct proc *ps, size_t n, struct res *rs)
{
	uint64_t deadline = T_DEADLINE((uint64_t)TOOL_MS * t_slowdown());

	while (t_now_ms() < deadline && kids_pump(ps, n, 50))
		;
	for (size_t i = 0; i < n; i++) {
		struct proc *p = &ps[i];
		int left = (int)(deadline > t_now_ms() ? deadline - t_now_ms() :
							 1);

		rs[i].status = t_wait_child(p->pid, left);
		close_fd(&p->in);
		close_fd(&p->out);
		close_fd(&p->err);
		rs[i].out = p->o.p;
		rs[i].err = p->e.p;
		free(p->own);
		memset(p, 0, sizeof(*p));
	}
}

/* Kill and reap a child kids_finish() has not reaped (a failed test's). */
static void kid_kill(struct proc *p)
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

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Fail with the run's output when its status is not 0. */
static void check_ok(const struct res *r, const char *what)
{
	if (r->status != 0)
		fail_msg("%s: exit %d\nstdout: %.2000s\nstderr: %.2000s", what,
			 r->status, r->out, r->err);
}

/* ---- a small JSON reader ------------------------------------------------ */

/*
 * Enough JSON for bpftool's and sfctl's output: objects, arrays, strings
 * (\uXXXX outside ASCII becomes '?'), integers, true/false/null.  A
 * number with a fraction or exponent keeps its integer part.
 */
enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jv {
	enum jtype type;
	char *name; /* the member's name, inside an object */
	char *str; /* J_STR */
	uint64_t num; /* J_NUM (two's complement if negative), J_BOOL */
	struct jv *kid; /* J_ARR elements, J_OBJ members */
	size_t nkid;
};

struct jparse {
	const char *p;
	const char *err; /* the first error, NULL if none */
};

static bool j_value(struct jparse *jp, struct jv *v, int depth);

static void j_ws(struct jparse *jp)
{
	while (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' ||
	       *jp->p == '\r')
		jp->p++;
}

static bool j_fail(struct jparse *jp, const char *why)
{
	if (!jp->err)
		jp->err = why;
	return false;
}

static unsigned j_hex4(const char *s)
{
	char h[5] = { 0 };

	memcpy(h, s, 4);
	return (unsigned)strtoul(h, NULL, 16);
}

/* A string at jp->p (on its opening quote) into a malloc()ed copy. */
static char *j_string(struct jparse *jp)
{
	struct buf b = { 0 };

	buf_add(&b, "", 0);
	for (jp->p++; *jp->p && *jp->p != '"'; jp->p++) {
		char c = *jp->p;

		if (c == '\\') {
			c = *++jp->p;
			if (c == 'u' && jp->p[1] && jp->p[2] && jp->p[3] &&
			    jp->p[4]) {
				unsigned u = j_hex4(jp->p + 1);

				c = u < 0x80 ? (char)u : '?';
				jp->p += 4;
			} else if (c == 'n' || c == 't' || c == 'r' ||
				   c == 'b' || c == 'f') {
				c = c == 'n' ? '\n' : c == 't' ? '\t' : ' ';
			} else if (!c) {
				break;
			}
		}
		buf_add(&b, &c, 1);
	}
	if (*jp->p != '"') {
		free(b.p);
		j_fail(jp, "unterminated string");
		return NULL;
	}
	jp->p++;
	return b.p;
}

static bool j_number(struct jparse *jp, struct jv *v)
{
	char *end;

	v->type = J_NUM;
	errno = 0;
	if (*jp->p == '-')
		v->num = (uint64_t)strtoll(jp->p, &end, 10);
	else
		v->num = strtoull(jp->p, &end, 10);
	if (end == jp->p || errno)
		return j_fail(jp, "bad number");
	jp->p = end;
	while (strchr("0123456789.eE+-", *jp->p) && *jp->p)
		jp->p++;
	return true;
}

static bool j_word(struct jparse *jp, struct jv *v, const char *w, enum jtype t,
		   uint64_t num)
{
	size_t n = strlen(w);

	if (strncmp(jp->p, w, n))
		return j_fail(jp, "unexpected character");
	jp->p += n;
	v->type = t;
	v->num = num;
	return true;
}

static struct jv *j_push(struct jv *v)
{
	struct jv *k = realloc(v->kid, (v->nkid + 1) * sizeof(*k));

	assert_non_null(k);
	v->kid = k;
	memset(&k[v->nkid], 0, sizeof(*k));
	return &k[v->nkid++];
}

/* The elements of an array or the members of an object. */
static bool j_items(struct jparse *jp, struct jv *v, int depth)
{
	char close = v->type == J_ARR ? ']' : '}';

	jp->p++;
	j_ws(jp);
	if (*jp->p == close) {
		jp->p++;
		return true;
	}
	for (;;) {
		struct jv *k = j_push(v);

		j_ws(jp);
		if (v->type == J_OBJ) {
			if (*jp->p != '"')
				return j_fail(jp, "member without a name");
			k->name = j_string(jp);
			j_ws(jp);
			if (!k->name || *jp->p++ != ':')
				return j_fail(jp, "member without ':'");
		}
		if (!j_value(jp, k, depth + 1))
			return false;
		j_ws(jp);
		if (*jp->p == close) {
			jp->p++;
			return true;
		}
		if (*jp->p++ != ',')
			return j_fail(jp, "expected ',' or the end");
	}
}

static bool j_value(struct jparse *jp, struct jv *v, int depth)
{
	if (depth > 32)
		return j_fail(jp, "nested too deep");
	j_ws(jp);
	switch (*jp->p) {
	case '{':
		v->type = J_OBJ;
		return j_items(jp, v, depth);
	case '[':
		v->type = J_ARR;
		return j_items(jp, v, depth);
	case '"':
		v->type = J_STR;
		v->str = j_string(jp);
		return v->str != NULL;
	case 't':
		return j_word(jp, v, "true", J_BOOL, 1);
	case 'f':
		return j_word(jp, v, "false", J_BOOL, 0);
	case 'n':
		return j_word(jp, v, "null", J_NULL, 0);
	default:
		return j_number(jp, v);
	}
}

static void j_free(struct jv *v)
{
	for (size_t i = 0; v && i < v->nkid; i++)
		j_free(&v->kid[i]);
	if (v) {
		free(v->kid);
		free(v->name);
		free(v->str);
		memset(v, 0, sizeof(*v));
	}
}

/* Parse the document @text into @v, or fail the test naming @what. */
static void j_parse(const char *text, struct jv *v, const char *what)
{
	struct jparse jp = { .p = text };

	memset(v, 0, sizeof(*v));
	if (!j_value(&jp, v, 0) || (j_ws(&jp), *jp.p)) {
		size_t at = (size_t)(jp.p - text);

		fail_msg("%s: not JSON (%s at byte %zu): %.300s", what,
			 jp.err ? jp.err : "trailing text", at, text);
	}
}

/* The member @name of object @v, NULL if none (or @v is no object). */
static const struct jv *j_get(const struct jv *v, const char *name)
{
	for (size_t i = 0; v && v->type == J_OBJ && i < v->nkid; i++)
		if (!strcmp(v->kid[i].name, name))
			return &v->kid[i];
	return NULL;
}

/* The number member @name of @v, or fail naming @what. */
static uint64_t j_num(const struct jv *v, const char *name, const char *what)
{
	const struct jv *m = j_get(v, name);

	if (!m || m->type != J_NUM)
		fail_msg("%s: no number \"%s\"", what, name);
	return m->num;
}

/* ---- reading the pinned maps through bpftool -------------------------- */

/* Where bpftool is: $BPFTOOL, the usual sbin directories, or $PATH. */
static bool find_bpftool(void)
{
	const char *env = getenv("BPFTOOL"), *path = getenv("PATH");
	static const char *const std[] = { "/usr/sbin/bpftool",
					   "/usr/local/sbin/bpftool",
					   "/sbin/bpftool" };

	if (env && env[0]) {
		snprintf(g_bpftool, sizeof(g_bpftool), "%s", env);
		return access(g_bpftool, X_OK) == 0;
	}
	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++) {
		snprintf(g_bpftool, sizeof(g_bpftool), "%s", std[i]);
		if (access(g_bpftool, X_OK) == 0)
			return true;
	}
	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(g_bpftool, sizeof(g_bpftool), "%.*s/bpftool", (int)n,
			 path);
		if (n && access(g_bpftool, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/*
 * bpftool -j prints each entry's key and value as arrays of hex bytes
 * ("0x2a"), and, where the map has BTF, the same as named fields under
 * "formatted"; without the raw arrays the named fields may stand as "key"
 * and "value" themselves.  Named fields are read where there are any (a
 * char array as a string, or as an array of numbers), the raw bytes (laid
 * out as sfm.h says) otherwise.
 */
static void raw_bytes(const struct jv *a, void *out, size_t len,
		      const char *what)
{
	uint8_t *o = out;

	if (a->nkid != len)
		fail_msg("%s: %zu bytes, sfm.h says %zu", what, a->nkid, len);
	for (size_t i = 0; i < len; i++) {
		const struct jv *b = &a->kid[i];

		if (b->type == J_STR)
			o[i] = (uint8_t)strtoul(b->str, NULL, 16);
		else if (b->type == J_NUM)
			o[i] = (uint8_t)b->num;
		else
			fail_msg("%s: byte %zu is no number", what, i);
	}
}

static bool is_raw(const struct jv *v)
{
	return v && v->type == J_ARR;
}

/* The topic name of a formatted key: a string or an array of chars. */
static void fmt_topic(const struct jv *key, char *topic, const char *what)
{
	const struct jv *t = j_get(key, "topic");

	memset(topic, 0, SFM_TOPIC_LEN);
	if (t && t->type == J_STR) {
		snprintf(topic, SFM_TOPIC_LEN, "%s", t->str);
		return;
	}
	if (!t || t->type != J_ARR)
		fail_msg("%s: no topic in the key", what);
	for (size_t i = 0; i < t->nkid && i < SFM_TOPIC_LEN - 1; i++) {
		const struct jv *c = &t->kid[i];

		if (c->type == J_STR && strlen(c->str) == 1)
			topic[i] = c->str[0];
		else if (c->type == J_STR)
			topic[i] = (char)strtoul(c->str, NULL, 0);
		else
			topic[i] = (char)c->num;
	}
}

/* The key and value of entry @e: "formatted" ones if there are. */
static void entry_kv(const struct jv *e, const struct jv **k,
		     const struct jv **v, const char *what)
{
	const struct jv *f = j_get(e, "formatted");

	*k = j_get(f ? f : e, "key");
	*v = j_get(f ? f : e, "value");
	if (!*k || !*v) {
		/* Per-CPU maps print "values"; ours are plain hashes. */
		fail_msg("%s: an entry without key and value", what);
	}
}

struct field {
	const char *name;
	size_t off;
};

#define SF(n)                                     \
	{                                         \
#n, offsetof(struct sfm_stats, n) \
	}
static const struct field stats_fields[] = {
	SF(records_in),	 SF(bytes_in),	SF(batches_in), SF(log_bytes),
	SF(records_out), SF(bytes_out), SF(polls_out),	SF(fsyncs),
	SF(errors),	 SF(bp_waits),	SF(bp_wait_ns), SF(futex_waits),
	SF(futex_wakes),
};
#undef SF

_Static_assert(sizeof(stats_fields) / sizeof(stats_fields[0]) *
			       sizeof(uint64_t) ==
		       sizeof(struct sfm_stats),
	       "every counter of struct sfm_stats is read");

/* One entry of topic_stats and one of topic_latency. */
struct st_ent {
	struct sfm_tp k;
	struct sfm_stats v;
};

struct h_ent {
	struct sfm_hist_key k;
	struct sfm_hist v;
};

static void stats_entry(const struct jv *e, struct st_ent *out)
{
	const struct jv *k, *v;
	const char *what = "topic_stats";

	memset(out, 0, sizeof(*out));
	entry_kv(e, &k, &v, what);
	if (is_raw(k)) {
		raw_bytes(k, &out->k, sizeof(out->k), what);
		raw_bytes(v, &out->v, sizeof(out->v), what);
		return;
	}
	fmt_topic(k, out->k.topic, what);
	out->k.partition = (uint32_t)j_num(k, "partition", what);
	for (size_t i = 0; i < sizeof(stats_fields) / sizeof(stats_fields[0]);
	     i++) {
		uint64_t n = j_num(v, stats_fields[i].name, what);

		memcpy((char *)&out->v + stats_fields[i].off, &n, sizeof(n));
	}
}

/* The kind of a formatted key: a number, or the enum's name. */
static enum sfm_hist_kind hist_kind(const struct jv *key, const char *what)
{
	static const char *const names[] = { "SFM_HIST_E2E", "SFM_HIST_PERSIST",
					     "SFM_HIST_FSYNC" };
	const struct jv *k = j_get(key, "kind");

	if (k && k->type == J_NUM)
		return (enum sfm_hist_kind)k->num;
	for (int i = 0; k && k->type == J_STR && i < SFM_HIST_KINDS; i++)
		if (!strcmp(k->str, names[i]))
			return (enum sfm_hist_kind)i;
	fail_msg("%s: no kind in the key, or an unknown one", what);
	return SFM_HIST_KINDS;
}

static void hist_entry(const struct jv *e, struct h_ent *out)
{
	const struct jv *k, *v, *slots;
	const char *what = "topic_latency";

	memset(out, 0, sizeof(*out));
	entry_kv(e, &k, &v, what);
	if (is_raw(k)) {
		raw_bytes(k, &out->k, sizeof(out->k), what);
		raw_bytes(v, &out->v, sizeof(out->v), what);
		return;
	}
	fmt_topic(k, out->k.topic, what);
	out->k.partition = (uint32_t)j_num(k, "partition", what);
	out->k.kind = hist_kind(k, what);
	out->v.count = j_num(v, "count", what);
	out->v.sum_ns = j_num(v, "sum_ns", what);
	out->v.max_ns = j_num(v, "max_ns", what);
	slots = j_get(v, "slot");
	if (!slots || slots->type != J_ARR || slots->nkid != SFM_HIST_SLOTS)
		fail_msg("%s: no slot[%d]", what, SFM_HIST_SLOTS);
	for (size_t i = 0; i < SFM_HIST_SLOTS; i++)
		out->v.slot[i] = slots->kid[i].num;
}

/* A snapshot of both maps of an instance. */
struct snap {
	struct st_ent *st;
	size_t nst;
	struct h_ent *h;
	size_t nh;
};

/* `bpftool map dump pinned @dir/@map -j`, parsed into @doc. */
static void dump_map(const char *dir, const char *map, struct jv *doc)
{
	char path[256], what[300];
	struct res r;

	snprintf(path, sizeof(path), "%s/%s", dir, map);
	run_v(&r, 0, NULL, 0,
	      ARGS(g_bpftool, "map", "dump", "pinned", path, "-j"));
	snprintf(what, sizeof(what), "bpftool map dump pinned %s -j", path);
	check_ok(&r, what);
	j_parse(r.out, doc, what);
	if (doc->type != J_ARR)
		fail_msg("%s: not an array: %.300s", what, r.out);
	res_free(&r);
}

static void snap_take(const char *dir, struct snap *s)
{
	struct jv doc;

	memset(s, 0, sizeof(*s));
	dump_map(dir, SFM_MAP_STATS, &doc);
	s->nst = doc.nkid;
	s->st = calloc(doc.nkid + 1, sizeof(*s->st));
	assert_non_null(s->st);
	for (size_t i = 0; i < doc.nkid; i++)
		stats_entry(&doc.kid[i], &s->st[i]);
	j_free(&doc);
	dump_map(dir, SFM_MAP_HIST, &doc);
	s->nh = doc.nkid;
	s->h = calloc(doc.nkid + 1, sizeof(*s->h));
	assert_non_null(s->h);
	for (size_t i = 0; i < doc.nkid; i++)
		hist_entry(&doc.kid[i], &s->h[i]);
	j_free(&doc);
}

static void snap_free(struct snap *s)
{
	free(s->st);
	free(s->h);
	memset(s, 0, sizeof(*s));
}

/* The counters of @topic's partition @p, NULL if there is no entry. */
static const struct sfm_stats *snap_stats(const struct snap *s,
					  const char *topic, uint32_t p)
{
	for (size_t i = 0; i < s->nst; i++)
		if (s->st[i].k.partition == p &&
		    !strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN))
			return &s->st[i].v;
	return NULL;
}

static const struct sfm_hist *snap_hist(const struct snap *s, const char *topic,
					uint32_t p, uint32_t kind)
{
	for (size_t i = 0; i < s->nh; i++)
		if (s->h[i].k.partition == p && s->h[i].k.kind == kind &&
		    !strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN))
			return &s->h[i].v;
	return NULL;
}

/* Entries of @topic in both maps. */
static size_t snap_count_topic(const struct snap *s, const char *topic)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nst; i++)
		n += !strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN);
	for (size_t i = 0; i < s->nh; i++)
		n += !strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN);
	return n;
}

/*
 * The process each entry of @map (in @dir) is about, into @pids[] (at
 * most @max): the key of procs, the tgid of a ring_addrs key (the key's
 * first four bytes either way).  Return: how many.
 */
static size_t map_tgids(const char *dir, const char *map, uint32_t *pids,
			size_t max)
{
	struct jv doc;
	size_t n;

	dump_map(dir, map, &doc);
	n = doc.nkid;
	if (n > max)
		fail_msg("%s/%s: %zu entries, more than this test reads", dir,
			 map, n);
	for (size_t i = 0; i < n; i++) {
		const struct jv *k, *v;

		entry_kv(&doc.kid[i], &k, &v, map);
		if (is_raw(k)) {
			struct jv head = *k; /* the first four bytes */

			if (head.nkid < sizeof(pids[i]))
				fail_msg("%s: a key of %zu bytes", map,
					 head.nkid);
			head.nkid = sizeof(pids[i]);
			raw_bytes(&head, &pids[i], sizeof(pids[i]), map);
		} else if (k->type == J_NUM) {
			pids[i] = (uint32_t)k->num;
		} else {
			pids[i] = (uint32_t)j_num(k, "tgid", map);
		}
	}
	j_free(&doc);
	return n;
}

/* ---- fixture: one daemon with metrics per test -------------------------- */

struct fx {
	struct t_daemon d;
	char inst[64]; /* metrics.instance */
	char pins[160]; /* SFM_BPFFS_ROOT/<inst> */
	bool passed; /* set at the end of the test: no log dump needed */
};

static unsigned g_ninst;

/* A daemon with metrics on and an instance of its own, not started. */
static int fx_init(struct fx *f)
{
	if (t_daemon_init(&f->d, "metrics")) {
		fprintf(stderr, "fixture: cannot make the test dirs: %s\n",
			strerror(errno));
		return -1;
	}
	snprintf(f->inst, sizeof(f->inst), "t-metrics-%d-%u", (int)getpid(),
		 ++g_ninst);
	snprintf(f->pins, sizeof(f->pins), "%s/%s", SFM_BPFFS_ROOT, f->inst);
	f->d.bpf = true;
	f->d.extra[0] = "--instance";
	f->d.extra[1] = f->inst;
	f->d.extra[2] = "--log-level=info";
	return 0;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || fx_init(f)) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static bool path_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/*
 * Stop @f's daemon (a clean exit on SIGTERM, or the test fails), print
 * its log unless the test passed, remove its pins and its dirs.
 * Return: 0 or -1.
 */
static int fx_fini(struct fx *f)
{
	char why[64];
	int rc = 0;

	if (f->d.pid > 0) {
		int st = t_daemon_stop(&f->d, SIGTERM);

		if (st != 0) {
			fprintf(stderr, "sfshmd did not stop cleanly: %s\n",
				t_status_str(st, why, sizeof(why)));
			f->passed = false;
			rc = -1;
		}
	}
	if (!f->passed)
		t_daemon_print_log(&f->d);
	/* Unpinning the links detaches the probes from every binary. */
	if (path_exists(f->pins) && t_rm_rf(f->pins)) {
		fprintf(stderr, "cannot remove %s: %s\n", f->pins,
			strerror(errno));
		rc = -1;
	}
	t_daemon_cleanup(&f->d);
	return rc;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	int rc = fx_fini(f);

	free(f);
	return rc;
}

/*
 * Two daemons at once, each with its run dir and instance, and the
 * children a test runs against them (killed here if a failure left them
 * running).
 */
struct fx2 {
	struct fx a, b;
	struct proc kids[MAX_KIDS];
};

static int fx2_setup(void **state)
{
	struct fx2 *p = calloc(1, sizeof(*p));

	if (!p || fx_init(&p->a)) {
		free(p);
		return -1;
	}
	if (fx_init(&p->b)) {
		p->a.passed = true; /* nothing ran: no log to show */
		fx_fini(&p->a);
		free(p);
		return -1;
	}
	*state = p;
	return 0;
}

static int fx2_teardown(void **state)
{
	struct fx2 *p = *state;
	int rc;

	for (int i = 0; i < MAX_KIDS; i++)
		kid_kill(&p->kids[i]);
	if (!p->a.passed)
		fprintf(stderr, "daemon A (instance %s):\n", p->a.inst);
	rc = fx_fini(&p->a);
	if (!p->b.passed)
		fprintf(stderr, "daemon B (instance %s):\n", p->b.inst);
	if (fx_fini(&p->b))
		rc = -1;
	free(p);
	return rc;
}

static void start(struct fx *f)
{
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not start");
}

/* Poll @cond every 5 ms until it holds or @ms (scaled) pass. */
static bool wait_for(bool (*cond)(void *), void *arg, int ms)
{
	uint64_t deadline = T_DEADLINE((uint64_t)ms * t_slowdown());

	for (;;) {
		if (cond(arg))
			return true;
		if (t_now_ms() >= deadline)
			return false;
		t_sleep_us(5000); /* pacing the polls */
	}
}

/* Lines of the daemon's log holding @s; the last one into @line. */
static int log_count(const struct fx *f, const char *s, char *line, size_t len)
{
	char buf[2048];
	FILE *fp = fopen(f->d.log_path, "r");
	int n = 0;

	while (fp && fgets(buf, sizeof(buf), fp)) {
		if (!strstr(buf, s))
			continue;
		n++;
		if (line)
			snprintf(line, len, "%s", buf);
	}
	if (fp)
		fclose(fp);
	return n;
}

/* ---- topics and records -------------------------------------------------- */

/* The test's name for topic @name: unique on this host (see the top). */
static const char *tname(const char *name)
{
	static char buf[4][64];
	static unsigned i;
	char *b = buf[i++ % 4];

	snprintf(b, sizeof(buf[0]), "mt%d-%s", (int)getpid(), name);
	return b;
}

static void sfctl_ok(const struct fx *f, const char *const *args)
{
	const char *argv[32] = { "sfctl", "-b", f->d.run_dir };
	char what[256] = "sfctl";
	struct res r;
	int n = 3;

	for (int i = 0; args[i] && n < 31; i++) {
		argv[n++] = args[i];
		snprintf(what + strlen(what), sizeof(what) - strlen(what),
			 " %s", args[i]);
	}
	argv[n] = NULL;
	run_v(&r, 0, NULL, 0, argv);
	check_ok(&r, what);
	res_free(&r);
}

#define SFCTL(f, ...) sfctl_ok(f, ARGS(__VA_ARGS__))

static void create_topic(const struct fx *f, const char *topic, unsigned parts)
{
	char n[16];

	snprintf(n, sizeof(n), "%u", parts);
	SFCTL(f, "topic", "create", topic, "--partitions", n);
}

/* What a producer run sends. */
struct batch {
	const char *topic;
	int part; /* -p; -1: none (a topic of one partition) */
	unsigned n; /* records */
	unsigned klen; /* key bytes (-K :), 0: no key */
	unsigned vlen; /* value bytes */
	const char *acks; /* written or durable */
};

/* @n lines of @klen key bytes, ':' if keyed, @vlen value bytes. */
static char *make_lines(const struct batch *b, size_t *len)
{
	size_t line = b->klen + (b->klen ? 1 : 0) + b->vlen + 1;
	char *buf = malloc(line * b->n + 1), *p = buf;

	assert_non_null(buf);
	for (unsigned i = 0; i < b->n; i++) {
		for (unsigned j = 0; j < b->klen; j++)
			*p++ = (char)('A' + (i + j) % 26);
		if (b->klen)
			*p++ = ':';
		for (unsigned j = 0; j < b->vlen; j++)
			*p++ = (char)('a' + (i * 7 + j) % 26);
		*p++ = '\n';
	}
	*len = (size_t)(p - buf);
	return buf;
}

/*
 * Start sfcat -P sending @b as @uid; the lines it reads are the proc's
 * (p->own).  Its stdin stays open until the proc is pumped (proc_finish(),
 * kids_finish()): a @b of no records makes a client that connects, opens
 * the topic and waits for lines until then.
 */
static void produce_start(struct proc *p, const struct fx *f, uid_t uid,
			  const struct batch *b)
{
	char part[16], acks[32];
	const char *argv[16] = { "sfcat", "-b",	    f->d.run_dir, "-P",
				 "-t",	  b->topic, "-X",	  acks };
	size_t len = 0;
	char *in = b->n ? make_lines(b, &len) : NULL;
	int n = 8;

	snprintf(acks, sizeof(acks), "acks=%s", b->acks ? b->acks : "written");
	if (b->part >= 0) {
		snprintf(part, sizeof(part), "%d", b->part);
		argv[n++] = "-p";
		argv[n++] = part;
	}
	if (b->klen) {
		argv[n++] = "-K";
		argv[n++] = ":";
	}
	argv[n] = NULL;
	run_start(p, uid, in, len, argv);
	p->own = in;
}

/* Fail unless the producer of @b (@r) ended well. */
static void check_produced(const struct res *r, const struct batch *b)
{
	char what[128];

	snprintf(what, sizeof(what), "sfcat -P -t %s -p %d (%u records)",
		 b->topic, b->part, b->n);
	check_ok(r, what);
}

/* Send @b with sfcat -P as @uid; every record acknowledged. */
static void produce(const struct fx *f, uid_t uid, const struct batch *b)
{
	struct proc p;
	struct res r;

	produce_start(&p, f, uid, b);
	proc_finish(&p, &r);
	free(p.own);
	check_produced(&r, b);
	res_free(&r);
}

/* Records and key + value bytes per partition. */
struct tally {
	uint64_t records[MAX_PARTS];
	uint64_t bytes[MAX_PARTS];
};

static uint64_t tally_records(const struct tally *t)
{
	uint64_t n = 0;

	for (int i = 0; i < MAX_PARTS; i++)
		n += t->records[i];
	return n;
}

static void tally_batch(struct tally *t, const struct batch *b)
{
	int p = b->part < 0 ? 0 : b->part;

	t->records[p] += b->n;
	t->bytes[p] += (uint64_t)b->n * (b->klen + b->vlen);
}

/* Start one `sfcat -C -e` reading @topic whole as @uid. */
static void consume_start(struct proc *p, const struct fx *f, uid_t uid,
			  const char *topic)
{
	run_start(p, uid, NULL, 0,
		  ARGS("sfcat", "-b", f->d.run_dir, "-C", "-t", topic, "-e",
		       "-f", "%p %K %S\\n"));
}

/* What the consumer of @topic (@r, from consume_start()) printed, per
 * partition, added to @got.  Return: the records read. */
static uint64_t tally_output(const struct res *r, const char *topic,
			     struct tally *got)
{
	uint64_t n = 0;
	char what[128];

	snprintf(what, sizeof(what), "sfcat -C -e -t %s", topic);
	check_ok(r, what);
	for (char *line = r->out; *line;) {
		char *nl = strchr(line, '\n');
		unsigned p = 0;
		long k = 0, v = 0;

		if (!nl || sscanf(line, "%u %ld %ld", &p, &k, &v) != 3 ||
		    p >= MAX_PARTS)
			fail_msg("%s: bad line \"%.80s\"", what, line);
		got->records[p]++;
		got->bytes[p] +=
			(uint64_t)(k > 0 ? k : 0) + (uint64_t)(v > 0 ? v : 0);
		n++;
		line = nl + 1;
	}
	return n;
}

/*
 * Read @topic whole with one `sfcat -C -e` as @uid: what it printed, per
 * partition, is added to @got.  Return: the records read.
 */
static uint64_t consume(const struct fx *f, uid_t uid, const char *topic,
			struct tally *got)
{
	struct proc p;
	struct res r;
	uint64_t n;

	consume_start(&p, f, uid, topic);
	proc_finish(&p, &r);
	n = tally_output(&r, topic, got);
	res_free(&r);
	return n;
}

/* A partition as `sfctl topic describe --json` shows it. */
struct pdesc {
	int64_t end; /* log_end */
	int64_t durable; /* durable_offset */
	uint64_t log_bytes;
};

/* The partitions of @topic into @d[].  Return: how many. */
static unsigned describe(const struct fx *f, const char *topic, struct pdesc *d)
{
	struct jv doc;
	const struct jv *topics, *parts;
	struct res r;
	unsigned n;

	run_v(&r, 0, NULL, 0,
	      ARGS("sfctl", "-b", f->d.run_dir, "topic", "describe", topic,
		   "--json"));
	check_ok(&r, "sfctl topic describe --json");
	j_parse(r.out, &doc, "sfctl topic describe --json");
	topics = j_get(&doc, "topics");
	if (!topics || topics->type != J_ARR || topics->nkid != 1)
		fail_msg("describe %s: no topics[1]: %.500s", topic, r.out);
	parts = j_get(&topics->kid[0], "partitions");
	if (!parts || parts->type != J_ARR || parts->nkid > MAX_PARTS)
		fail_msg("describe %s: partitions: %.500s", topic, r.out);
	n = (unsigned)parts->nkid;
	for (unsigned i = 0; i < n; i++) {
		const struct jv *p = &parts->kid[i];
		uint64_t idx = j_num(p, "partition", "describe");

		assert_true(idx < n);
		d[idx].end = (int64_t)j_num(p, "log_end", "describe");
		d[idx].durable =
			(int64_t)j_num(p, "durable_offset", "describe");
		d[idx].log_bytes = j_num(p, "log_bytes", "describe");
	}
	j_free(&doc);
	res_free(&r);
	return n;
}

/* ---- waiting for the counters ------------------------------------------- */

struct in_wait {
	const struct fx *f;
	const char *topic;
	unsigned parts;
	const struct tally *want;
	struct snap s; /* the last snapshot */
};

/* Has every partition persisted at least what was sent? */
static bool persisted(void *arg)
{
	struct in_wait *w = arg;

	snap_free(&w->s);
	snap_take(w->f->pins, &w->s);
	for (unsigned p = 0; p < w->parts; p++) {
		const struct sfm_stats *v = snap_stats(&w->s, w->topic, p);

		if (w->want->records[p] &&
		    (!v || v->records_in < w->want->records[p]))
			return false;
	}
	return true;
}

struct sync_wait {
	const struct fx *f;
	const char *topic;
	unsigned parts;
	const struct tally *want;
	struct pdesc d[MAX_PARTS]; /* the last look */
};

/* Is every record sent in the log and fsynced? */
static bool synced(void *arg)
{
	struct sync_wait *w = arg;

	if (describe(w->f, w->topic, w->d) != w->parts)
		fail_msg("%s: not %u partitions", w->topic, w->parts);
	for (unsigned p = 0; p < w->parts; p++)
		if (w->d[p].end != (int64_t)w->want->records[p] ||
		    w->d[p].durable != w->d[p].end)
			return false;
	return true;
}

/*
 * Wait until what was sent to @topic (@want) is in the log and fsynced,
 * and counted in records_in everywhere; then take the snapshot into @s.
 * Once nothing is left to write or fsync the counters and histograms
 * stand still, so that the two maps, dumped one after the other, agree.
 * Acknowledged records are counted by the time their acknowledgement is
 * published (the persist probe fires first), so records_in normally
 * holds at once; the deadlines cover the flush interval (log.flush.
 * interval.ms, 1 s) and a slow machine.
 */
static void settle(const struct fx *f, const char *topic, unsigned parts,
		   const struct tally *want, struct snap *s)
{
	struct sync_wait sw = {
		.f = f, .topic = topic, .parts = parts, .want = want
	};
	struct in_wait w = {
		.f = f, .topic = topic, .parts = parts, .want = want
	};

	if (!wait_for(synced, &sw, WAIT_MS)) {
		for (unsigned p = 0; p < parts; p++)
			fprintf(stderr,
				"  %s-%u: log_end %lld, durable %lld, sent "
				"%llu\n",
				topic, p, (long long)sw.d[p].end,
				(long long)sw.d[p].durable,
				(unsigned long long)want->records[p]);
		fail_msg("%s: the log did not get what was sent, fsynced",
			 topic);
	}
	if (!wait_for(persisted, &w, WAIT_MS)) {
		for (unsigned p = 0; p < parts; p++) {
			const struct sfm_stats *v = snap_stats(&w.s, topic, p);

			fprintf(stderr, "  %s-%u: records_in %llu, want %llu\n",
				topic, p,
				v ? (unsigned long long)v->records_in : 0ull,
				(unsigned long long)want->records[p]);
		}
		snap_free(&w.s);
		fail_msg("%s: records_in did not reach what was sent", topic);
	}
	*s = w.s;
}

/* The entry of @topic-@p, or fail. */
static const struct sfm_stats *stats_of(const struct snap *s, const char *topic,
					uint32_t p)
{
	const struct sfm_stats *v = snap_stats(s, topic, p);

	if (!v)
		fail_msg("no topic_stats entry for %s-%u", topic, p);
	return v;
}

#define EXPECT_EQ(what, topic, p, got, want)                               \
	do {                                                               \
		unsigned long long g_ = (got), w_ = (want);                \
		if (g_ != w_)                                              \
			fail_msg("%s-%u: %s is %llu, want %llu", topic, p, \
				 what, g_, w_);                            \
	} while (0)

/* A histogram is consistent: slots add up to count, max within sum. */
static void check_hist(const struct sfm_hist *h, const char *topic, uint32_t p,
		       const char *kind)
{
	uint64_t n = 0;

	for (int i = 0; i < SFM_HIST_SLOTS; i++)
		n += h->slot[i];
	if (n != h->count)
		fail_msg("%s-%u %s: slots add up to %llu, count %llu", topic, p,
			 kind, (unsigned long long)n,
			 (unsigned long long)h->count);
	if (h->count && (h->max_ns > h->sum_ns || h->max_ns > LAT_MAX_NS))
		fail_msg("%s-%u %s: max %llu ns, sum %llu ns over %llu: not "
			 "a latency of this test",
			 topic, p, kind, (unsigned long long)h->max_ns,
			 (unsigned long long)h->sum_ns,
			 (unsigned long long)h->count);
}

/*
 * Check @topic's counters against what was sent (@in) and what consumers
 * read (@out), its persist and fsync histograms against the counters, and
 * its log end offsets (sfctl) against records_in, all per partition.
 */
static void check_topic(const struct fx *f, const struct snap *s,
			const char *topic, unsigned parts,
			const struct tally *in, const struct tally *out)
{
	struct pdesc d[MAX_PARTS];

	assert_int_equal(describe(f, topic, d), parts);
	for (unsigned p = 0; p < parts; p++) {
		const struct sfm_stats *v = stats_of(s, topic, p);
		const struct sfm_hist *ph =
			snap_hist(s, topic, p, SFM_HIST_PERSIST);
		const struct sfm_hist *fh =
			snap_hist(s, topic, p, SFM_HIST_FSYNC);

		EXPECT_EQ("records_in", topic, p, v->records_in,
			  in->records[p]);
		EXPECT_EQ("bytes_in", topic, p, v->bytes_in, in->bytes[p]);
		EXPECT_EQ("records_out", topic, p, v->records_out,
			  out->records[p]);
		EXPECT_EQ("bytes_out", topic, p, v->bytes_out, out->bytes[p]);
		/* The daemon's log and its counters agree to the record. */
		EXPECT_EQ("records_in vs sfctl's log_end", topic, p,
			  v->records_in, (uint64_t)d[p].end);
		if (v->batches_in < 1 || v->batches_in > v->records_in)
			fail_msg("%s-%u: %llu batches for %llu records", topic,
				 p, (unsigned long long)v->batches_in,
				 (unsigned long long)v->records_in);
		/* Each batch is encoded with a header around its records. */
		if (v->log_bytes <= v->bytes_in)
			fail_msg("%s-%u: log_bytes %llu <= bytes_in %llu",
				 topic, p, (unsigned long long)v->log_bytes,
				 (unsigned long long)v->bytes_in);
		if (v->records_out &&
		    (v->polls_out < (v->records_out + SFM_CONSUME_BATCH - 1) /
					    SFM_CONSUME_BATCH ||
		     v->polls_out > v->records_out))
			fail_msg("%s-%u: %llu reports for %llu records out",
				 topic, p, (unsigned long long)v->polls_out,
				 (unsigned long long)v->records_out);
		EXPECT_EQ("errors", topic, p, v->errors, 0);
		if (!ph)
			fail_msg("%s-%u: no persist latency", topic, p);
		/* One persist sample per batch. */
		EXPECT_EQ("persist latency count", topic, p, ph->count,
			  v->batches_in);
		check_hist(ph, topic, p, "persist");
		EXPECT_EQ("fsync latency count", topic, p, fh ? fh->count : 0,
			  v->fsyncs);
		if (fh)
			check_hist(fh, topic, p, "fsync");
		printf("  %s-%u: in %llu rec %llu B in %llu batches (log "
		       "%llu B, sfctl %llu B), out %llu rec %llu B in %llu "
		       "reports, %llu fsyncs, futex %llu waits %llu wakes, "
		       "persist mean %llu us\n",
		       topic, p, (unsigned long long)v->records_in,
		       (unsigned long long)v->bytes_in,
		       (unsigned long long)v->batches_in,
		       (unsigned long long)v->log_bytes,
		       (unsigned long long)d[p].log_bytes,
		       (unsigned long long)v->records_out,
		       (unsigned long long)v->bytes_out,
		       (unsigned long long)v->polls_out,
		       (unsigned long long)v->fsyncs,
		       (unsigned long long)v->futex_waits,
		       (unsigned long long)v->futex_wakes,
		       (unsigned long long)(ph->sum_ns / ph->count / 1000));
	}
}

/*
 * The end-to-end samples of @topic: a consumer samples one record in
 * SFM_SAMPLE_EVERY of each partition, counted from its first, so one
 * consumer that read @out->records[p] of partition p from the start took
 * exactly that / SFM_SAMPLE_EVERY samples there.
 */
static void check_e2e(const struct snap *s, const char *topic, unsigned parts,
		      const struct tally *out)
{
	for (unsigned p = 0; p < parts; p++) {
		const struct sfm_hist *h = snap_hist(s, topic, p, SFM_HIST_E2E);
		uint64_t want = out->records[p] / SFM_SAMPLE_EVERY;
		uint64_t n = h ? h->count : 0;

		if (h)
			check_hist(h, topic, p, "e2e");
		printf("  %s-%u: %llu end-to-end samples for %llu records "
		       "consumed\n",
		       topic, p, (unsigned long long)n,
		       (unsigned long long)out->records[p]);
		if (n != want)
			fail_msg("%s-%u: %llu end-to-end samples for %llu "
				 "records read by one consumer: want %llu",
				 topic, p, (unsigned long long)n,
				 (unsigned long long)out->records[p],
				 (unsigned long long)want);
	}
}

static bool has_e2e(const struct snap *s, const char *topic, unsigned parts)
{
	for (unsigned p = 0; p < parts; p++)
		if (snap_hist(s, topic, p, SFM_HIST_E2E))
			return true;
	return false;
}

static void check_metrics_on(const struct fx *f)
{
	char line[2048], want[256];

	snprintf(want, sizeof(want), "metrics: on, maps in %s", f->pins);
	if (log_count(f, want, line, sizeof(line)) < 1)
		fail_msg("the log has no \"%s\"", want);
	snprintf(want, sizeof(want), "%s/" SFM_MAP_STATS, f->pins);
	if (!path_exists(want))
		fail_msg("%s is not pinned", want);
}

/* ---- 1. exact totals ----------------------------------------------------- */

static void test_exact_totals(void **state)
{
	struct fx *f = *state;
	const char *a = tname("plain"), *b = tname("keyed"),
		   *c = tname("durable");
	const struct batch sent[] = {
		{ a, -1, 3000, 0, 100, "written" },
		{ b, 0, 500, 6, 40, "written" },
		{ b, 1, 611, 6, 40, "written" },
		{ b, 2, 722, 6, 40, "written" },
		{ c, 0, 50, 3, 17, "durable" },
		{ c, 1, 100, 3, 17, "durable" },
		{ c, 2, 150, 3, 17, "durable" },
		{ c, 3, 200, 3, 17, "durable" },
	};
	struct tally in[3] = { 0 }, out[3] = { 0 };
	const char *topics[3] = { a, b, c };
	const unsigned parts[3] = { 1, 3, 4 };
	uint64_t consumed[3];
	struct snap s;

	start(f);
	check_metrics_on(f);
	for (int t = 0; t < 3; t++)
		create_topic(f, topics[t], parts[t]);
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		int t = sent[i].topic == a ? 0 : sent[i].topic == b ? 1 : 2;

		produce(f, 0, &sent[i]);
		tally_batch(&in[t], &sent[i]);
	}
	for (int t = 0; t < 3; t++) {
		consumed[t] = consume(f, 0, topics[t], &out[t]);
		/* The consumer read exactly what was sent. */
		assert_int_equal(consumed[t], tally_records(&in[t]));
		assert_memory_equal(&out[t], &in[t], sizeof(out[t]));
	}
	for (int t = 0; t < 3; t++) {
		settle(f, topics[t], parts[t], &in[t], &s);
		check_topic(f, &s, topics[t], parts[t], &in[t], &out[t]);
		check_e2e(&s, topics[t], parts[t], &out[t]);
		if (t == 2) {
			/* acks=durable: each producer waited for an fsync. */
			for (unsigned p = 0; p < parts[t]; p++)
				if (stats_of(&s, c, p)->fsyncs < 1)
					fail_msg("%s-%u: no fsync counted for "
						 "acks=durable",
						 c, p);
		}
		snap_free(&s);
	}
	f->passed = true;
}

/* ---- 2. restart ---------------------------------------------------------- */

static size_t dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_restart(void **state)
{
	struct fx *f = *state;
	const char *t = tname("restart");
	const struct batch first[] = { { t, 0, 700, 4, 60, "written" },
				       { t, 1, 300, 4, 60, "written" } };
	const struct batch second[] = { { t, 0, 200, 4, 60, "written" },
					{ t, 1, 100, 4, 60, "written" } };
	struct tally in = { 0 }, out = { 0 };
	char path[256], line[2048], want[256];
	struct snap s;

	start(f);
	check_metrics_on(f);
	create_topic(f, t, 2);
	for (int i = 0; i < 2; i++) {
		produce(f, 0, &first[i]);
		tally_batch(&in, &first[i]);
	}
	consume(f, 0, t, &out);
	settle(f, t, 2, &in, &s);
	check_topic(f, &s, t, 2, &in, &out);
	snap_free(&s);

	/* Stopped, the daemon leaves its maps and links pinned. */
	if (t_daemon_term(&f->d))
		fail_msg("sfshmd did not exit cleanly on SIGTERM");
	snprintf(path, sizeof(path), "%s/" SFM_MAP_STATS, f->pins);
	if (!path_exists(path))
		fail_msg("%s is gone after SIGTERM", path);
	snprintf(path, sizeof(path), "%s/links", f->pins);
	if (dir_entries(path) < 1)
		fail_msg("no links pinned in %s after SIGTERM", path);
	snap_take(f->pins, &s); /* readable with no daemon */
	EXPECT_EQ("records_in with no daemon", t, 0,
		  stats_of(&s, t, 0)->records_in, in.records[0]);
	snap_free(&s);

	/* The next daemon of the instance takes them over. */
	start(f);
	snprintf(want, sizeof(want), "reusing the maps and links pinned in %s",
		 f->pins);
	if (log_count(f, want, line, sizeof(line)) != 1)
		fail_msg("after the restart the log does not say once \"%s\"",
			 want);
	if (log_count(f, "metrics: on", NULL, 0) != 2)
		fail_msg("\"metrics: on\" is not in the log once per start");
	for (int i = 0; i < 2; i++) {
		produce(f, 0, &second[i]);
		tally_batch(&in, &second[i]);
	}
	/* All of it again: the consumer's counts add to the old ones. */
	consume(f, 0, t, &out);
	settle(f, t, 2, &in, &s);
	check_topic(f, &s, t, 2, &in, &out);
	snap_free(&s);
	f->passed = true;
}

/* ---- 3. --no-bpf --------------------------------------------------------- */

/* The instance a daemon without --instance would use: run.dir's name. */
static void default_pins(const struct fx *f, char *buf, size_t len)
{
	const char *slash = strrchr(f->d.run_dir, '/');

	snprintf(buf, len, "%s/%s", SFM_BPFFS_ROOT,
		 slash ? slash + 1 : f->d.run_dir);
}

static void test_no_bpf(void **state)
{
	struct fx *f = *state;
	const char *t = tname("nobpf");
	const struct batch b = { t, 0, 100, 0, 32, "written" };
	struct tally in = { 0 }, out = { 0 };
	char other[256];

	f->d.bpf = false; /* t_daemon passes --no-bpf */
	start(f);
	create_topic(f, t, 1);
	produce(f, 0, &b);
	tally_batch(&in, &b);
	assert_int_equal(consume(f, 0, t, &out), b.n);
	assert_memory_equal(&out, &in, sizeof(in));
	if (path_exists(f->pins))
		fail_msg("--no-bpf, yet %s exists", f->pins);
	default_pins(f, other, sizeof(other));
	if (path_exists(other))
		fail_msg("--no-bpf, yet %s exists", other);
	if (log_count(f, "metrics: on", NULL, 0))
		fail_msg("--no-bpf, yet the log says \"metrics: on\"");
	if (log_count(f, "metrics off", NULL, 0) != 1)
		fail_msg("--no-bpf: the log does not say once \"metrics off\"");
	f->passed = true;
}

/* ---- 4. unprivileged ----------------------------------------------------- */

struct as_nobody {
	const char *paths[4];
};

/* In a child: can nobody run each binary? */
static int nobody_can_exec(void *arg)
{
	const struct as_nobody *a = arg;

	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		return 2;
	for (int i = 0; a->paths[i]; i++)
		if (access(a->paths[i], X_OK))
			return 1;
	return 0;
}

static bool skip_unless_nobody_can_exec(struct fx *f)
{
	char d[PATH_MAX + 16], cat[PATH_MAX + 16], ctl[PATH_MAX + 16];
	struct as_nobody a = { { d, cat, ctl, NULL } };
	int st;

	snprintf(d, sizeof(d), "%s/sfshmd", t_bin_dir());
	snprintf(cat, sizeof(cat), "%s/tools/sfcat", t_bin_dir());
	snprintf(ctl, sizeof(ctl), "%s/tools/sfctl", t_bin_dir());
	st = t_run_child(nobody_can_exec, &a, 10000);
	if (st == 0)
		return false;
	snprintf(g_skip_why, sizeof(g_skip_why),
		 "uid %d cannot run the binaries under %s (status %d): no "
		 "unprivileged test",
		 NOBODY, t_bin_dir(), st);
	fprintf(stderr, "\n*** SKIP: %s ***\n\n", g_skip_why);
	g_skipped = true;
	f->passed = true;
	return true;
}

static void test_unprivileged(void **state)
{
	struct fx *f = *state;
	const char *t = tname("nobody");
	const struct batch b = { t, 0, 100, 5, 20, "written" };
	struct tally in = { 0 }, out = { 0 };
	char line[2048], other[256];
	const char *why;
	struct stat st;

	if (skip_unless_nobody_can_exec(f))
		skip();
	/*
	 * On the private bpffs (main()) this test runs first, so that
	 * SFM_BPFFS_ROOT does not exist yet and /sys/fs/bpf is world-writable
	 * (1777, as on many hosts and in containers): an unprivileged daemon
	 * must not make it its own.
	 */
	f->d.uid = NOBODY;
	assert_int_equal(chown(f->d.data_dir, NOBODY, NOBODY), 0);
	assert_int_equal(chown(f->d.run_dir, NOBODY, NOBODY), 0);
	start(f);
	create_topic(f, t, 1); /* root may */
	produce(f, NOBODY, &b);
	tally_batch(&in, &b);
	assert_int_equal(consume(f, NOBODY, t, &out), b.n);
	assert_memory_equal(&out, &in, sizeof(in));

	if (log_count(f, "metrics off", line, sizeof(line)) != 1)
		fail_msg("as uid %d the log does not say once \"metrics off\"",
			 NOBODY);
	why = strstr(line, "metrics off") + strlen("metrics off");
	if (strlen(why) < 8)
		fail_msg("\"metrics off\" without a reason: %s", line);
	printf("  as nobody: %s", line);
	if (log_count(f, "metrics: on", NULL, 0))
		fail_msg("as uid %d the log says \"metrics: on\"", NOBODY);
	if (path_exists(f->pins))
		fail_msg("as uid %d, yet %s exists", NOBODY, f->pins);
	default_pins(f, other, sizeof(other));
	if (path_exists(other))
		fail_msg("as uid %d, yet %s exists", NOBODY, other);
	if (stat(SFM_BPFFS_ROOT, &st) == 0 && st.st_uid == NOBODY) {
		rmdir(SFM_BPFFS_ROOT); /* not for the next tests' daemons */
		fail_msg("%s was left behind owned by uid %d (mode %o): that "
			 "user may rename later daemons' instance directories, "
			 "or make them first and unpin what root pins there",
			 SFM_BPFFS_ROOT, NOBODY, (unsigned)st.st_mode & 07777);
	}
	f->passed = true;
}

/* ---- 5. delete ----------------------------------------------------------- */

/* Every entry of @topic, for a failure. */
static void print_topic(const struct snap *s, const char *topic)
{
	for (size_t i = 0; i < s->nst; i++) {
		const struct sfm_stats *v = &s->st[i].v;

		if (strncmp(s->st[i].k.topic, topic, SFM_TOPIC_LEN))
			continue;
		fprintf(stderr,
			"  topic_stats %s-%u: in %llu/%llu B/%llu batches, "
			"out %llu/%llu B/%llu reports, %llu fsyncs, %llu "
			"errors, bp %llu/%llu ns, futex %llu waits %llu "
			"wakes\n",
			topic, s->st[i].k.partition,
			(unsigned long long)v->records_in,
			(unsigned long long)v->bytes_in,
			(unsigned long long)v->batches_in,
			(unsigned long long)v->records_out,
			(unsigned long long)v->bytes_out,
			(unsigned long long)v->polls_out,
			(unsigned long long)v->fsyncs,
			(unsigned long long)v->errors,
			(unsigned long long)v->bp_waits,
			(unsigned long long)v->bp_wait_ns,
			(unsigned long long)v->futex_waits,
			(unsigned long long)v->futex_wakes);
	}
	for (size_t i = 0; i < s->nh; i++)
		if (!strncmp(s->h[i].k.topic, topic, SFM_TOPIC_LEN))
			fprintf(stderr,
				"  topic_latency %s-%u kind %u: count %llu\n",
				topic, s->h[i].k.partition, s->h[i].k.kind,
				(unsigned long long)s->h[i].v.count);
}

struct gone_wait {
	const struct fx *f;
	const char *topic;
	size_t left; /* entries still there, last time */
};

static bool counters_gone(void *arg)
{
	struct gone_wait *w = arg;
	struct snap s;

	snap_take(w->f->pins, &s);
	w->left = snap_count_topic(&s, w->topic);
	snap_free(&s);
	return w->left == 0;
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	const char *t = tname("delete");
	const struct batch old[] = { { t, 0, 1500, 2, 30, "durable" },
				     { t, 1, 100, 2, 30, "written" },
				     { t, 2, 100, 2, 30, "written" } };
	const struct batch again = { t, 0, 10, 2, 30, "written" };
	struct tally in = { 0 }, out = { 0 };
	struct gone_wait w = { .f = f, .topic = t };
	struct snap s;

	start(f);
	check_metrics_on(f);
	create_topic(f, t, 3);
	for (int i = 0; i < 3; i++) {
		produce(f, 0, &old[i]);
		tally_batch(&in, &old[i]);
	}
	consume(f, 0, t, &out);
	settle(f, t, 3, &in, &s);
	check_topic(f, &s, t, 3, &in, &out);
	/* There is something to drop: counters and all three histograms. */
	if (!has_e2e(&s, t, 3))
		fail_msg("%s: 1700 records read, no end-to-end sample", t);
	assert_non_null(snap_hist(&s, t, 0, SFM_HIST_FSYNC));
	snap_free(&s);

	SFCTL(f, "topic", "delete", t);
	if (!wait_for(counters_gone, &w, WAIT_MS)) {
		snap_take(f->pins, &s);
		print_topic(&s, t);
		snap_free(&s);
		fail_msg("%s deleted: %zu entries of it still in the maps", t,
			 w.left);
	}

	/* The same name again, with one partition: from zero. */
	memset(&in, 0, sizeof(in));
	memset(&out, 0, sizeof(out));
	create_topic(f, t, 1);
	produce(f, 0, &again);
	tally_batch(&in, &again);
	settle(f, t, 1, &in, &s);
	check_topic(f, &s, t, 1, &in, &out);
	for (uint32_t p = 1; p < 3; p++)
		if (snap_stats(&s, t, p) ||
		    snap_hist(&s, t, p, SFM_HIST_PERSIST))
			fail_msg("%s-%u of the deleted topic is back", t, p);
	if (has_e2e(&s, t, 1))
		fail_msg("%s-0: end-to-end samples of the deleted topic", t);
	snap_free(&s);
	f->passed = true;
}

/* ---- 6. two instances ---------------------------------------------------- */

#define MAX_PIDS 64 /* clients a test starts against one daemon */
#define MAX_ENTRIES 4096 /* entries of procs or ring_addrs read */

/* One instance's processes, as the test knows them. */
struct side {
	const char *name; /* "A", "B" */
	const struct fx *f;
	uint32_t live; /* its client kept connected; 0 once gone */
	uint32_t pids[MAX_PIDS]; /* its daemon, then each client started */
	size_t npids;
	uint32_t procs[MAX_ENTRIES]; /* its procs map, last look */
	size_t nprocs;
};

static bool pid_in(uint32_t pid, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == pid)
			return true;
	return false;
}

static void side_add(struct side *x, pid_t pid)
{
	assert_true(pid > 0 && x->npids < MAX_PIDS);
	x->pids[x->npids++] = (uint32_t)pid;
}

/* Fail if @got (of @x's @map) names a process of @y: daemon or client. */
static void not_theirs(const struct side *x, const char *map,
		       const uint32_t *got, size_t n, const struct side *y)
{
	for (size_t i = 0; i < n; i++)
		if (pid_in(got[i], y->pids, y->npids))
			fail_msg("instance %s's %s holds pid %u, a process of "
				 "instance %s (whose daemon is pid %u)",
				 x->name, map, got[i], y->name, y->pids[0]);
}

static void print_side(FILE *fp, const struct side *x)
{
	fprintf(fp, "  instance %s: daemon %u, live client %u, procs {",
		x->name, x->pids[0], x->live);
	for (size_t i = 0; i < x->nprocs; i++)
		fprintf(fp, "%s%u", i ? ", " : "", x->procs[i]);
	fprintf(fp, "}\n");
}

/*
 * Do both instances' procs maps hold exactly their daemon and their live
 * client, and has that client's ring mapping been counted (ring_addrs)?
 * Fails at once if procs or ring_addrs of one names a process of the
 * other: never, not even for a moment, may it count the other's traffic.
 */
static bool isolated(void *arg)
{
	struct side **w = arg;
	bool ok = true;

	for (int i = 0; i < 2; i++) {
		struct side *x = w[i];
		const struct side *y = w[1 - i];
		static uint32_t rings[MAX_ENTRIES];
		size_t nr;

		x->nprocs = map_tgids(x->f->pins, SFM_MAP_PROCS, x->procs,
				      MAX_ENTRIES);
		not_theirs(x, SFM_MAP_PROCS, x->procs, x->nprocs, y);
		nr = map_tgids(x->f->pins, SFM_MAP_RINGS, rings, MAX_ENTRIES);
		not_theirs(x, SFM_MAP_RINGS, rings, nr, y);
		if (x->nprocs != 1u + (x->live != 0) ||
		    !pid_in(x->pids[0], x->procs, x->nprocs) ||
		    (x->live && !pid_in(x->live, x->procs, x->nprocs)) ||
		    (x->live && !pid_in(x->live, rings, nr)))
			ok = false;
	}
	return ok;
}

static void wait_isolated(struct side *a, struct side *b, const char *when)
{
	struct side *w[2] = { a, b };

	if (wait_for(isolated, w, WAIT_MS)) {
		printf("  %s:\n", when);
		print_side(stdout, a);
		print_side(stdout, b);
		return;
	}
	print_side(stderr, a);
	print_side(stderr, b);
	fail_msg("%s: the procs maps do not hold just their daemon and "
		 "live client (or a live client's rings are not in its "
		 "instance's ring_addrs)",
		 when);
}

/*
 * Every entry in @s is of one of @topics[] (@parts[] partitions each,
 * @n topics), and topic_stats has one per partition: no entry of the
 * other instance's topics, and no partition of the shared one that only
 * the other has.
 */
static void only_own(const struct snap *s, const char *who,
		     const char *const *topics, const unsigned *parts, size_t n)
{
	size_t want = 0;

	for (size_t i = 0; i < n; i++)
		want += parts[i];
	for (size_t i = 0; i < s->nst + s->nh; i++) {
		const char *t = i < s->nst ? s->st[i].k.topic :
					     s->h[i - s->nst].k.topic;
		uint32_t p = i < s->nst ? s->st[i].k.partition :
					  s->h[i - s->nst].k.partition;
		size_t j = 0;

		while (j < n && strncmp(t, topics[j], SFM_TOPIC_LEN))
			j++;
		if (j == n || p >= parts[j])
			fail_msg("instance %s has an entry for %.*s-%u, not "
				 "its own: %s",
				 who, SFM_TOPIC_LEN, t, p,
				 i < s->nst ? "topic_stats" : "topic_latency");
	}
	if (s->nst != want)
		fail_msg("instance %s: %zu topic_stats entries, want %zu", who,
			 s->nst, want);
}

static void test_two_instances(void **state)
{
	struct fx2 *fx = *state;
	struct fx *fa = &fx->a, *fb = &fx->b;
	/* The same name on both daemons; one more topic each of its own. */
	const char *t = tname("twin"), *ta = tname("only-a"),
		   *tb = tname("only-b");
	/* N_A = 2700 and N_B = 4400 records to the shared name, in records
	 * and bytes of different sizes. */
	const struct batch sent[] = {
		{ t, 0, 2000, 0, 40, "written" },
		{ t, 1, 700, 5, 30, "written" },
		{ ta, -1, 300, 4, 16, "durable" },
		{ t, 0, 1300, 3, 60, "written" },
		{ t, 1, 3100, 0, 20, "written" },
		{ tb, -1, 150, 0, 24, "durable" },
	};
	/* Each batch's tally: A's twin, A's own, B's twin, B's own. */
	const int which[] = { 0, 0, 1, 2, 2, 3 };
	const char *const topics[4] = { t, ta, t, tb };
	const unsigned parts[4] = { 2, 1, 2, 1 };
	struct fx *const on[4] = { fa, fa, fb, fb };
	const struct batch idle_a = { t, 0, 0, 0, 0, "written" },
			   idle_b = { t, 1, 0, 0, 0, "written" };
	struct side sa = { .name = "A", .f = fa },
		    sb = { .name = "B", .f = fb };
	struct tally in[4] = { 0 }, out[4] = { 0 };
	struct res r[6];
	uint64_t n[4];
	struct snap s;

	start(fa);
	start(fb);
	check_metrics_on(fa);
	check_metrics_on(fb);
	side_add(&sa, fa->d.pid);
	side_add(&sb, fb->d.pid);
	for (int i = 0; i < 4; i++)
		create_topic(on[i], topics[i], parts[i]);

	/* One client of each, connected until the end, sending nothing. */
	produce_start(&fx->kids[0], fa, 0, &idle_a);
	produce_start(&fx->kids[1], fb, 0, &idle_b);
	sa.live = (uint32_t)fx->kids[0].pid;
	sb.live = (uint32_t)fx->kids[1].pid;
	side_add(&sa, fx->kids[0].pid);
	side_add(&sb, fx->kids[1].pid);

	/* Six producers at once: A's and B's records interleave. */
	for (int i = 0; i < 6; i++) {
		struct fx *f = which[i] < 2 ? fa : fb;

		produce_start(&fx->kids[2 + i], f, 0, &sent[i]);
		side_add(f == fa ? &sa : &sb, fx->kids[2 + i].pid);
		tally_batch(&in[which[i]], &sent[i]);
	}
	kids_finish(&fx->kids[2], 6, r);
	for (int i = 0; i < 6; i++) {
		check_produced(&r[i], &sent[i]);
		res_free(&r[i]);
	}

	/* Four consumers at once, each reading one topic of one daemon. */
	for (int i = 0; i < 4; i++) {
		consume_start(&fx->kids[2 + i], on[i], 0, topics[i]);
		side_add(on[i] == fa ? &sa : &sb, fx->kids[2 + i].pid);
	}
	kids_finish(&fx->kids[2], 4, r);
	for (int i = 0; i < 4; i++) {
		n[i] = tally_output(&r[i], topics[i], &out[i]);
		res_free(&r[i]);
		assert_int_equal(n[i], tally_records(&in[i]));
		assert_memory_equal(&out[i], &in[i], sizeof(in[i]));
	}
	assert_true(tally_records(&in[0]) != tally_records(&in[2]));

	/* Each instance counted its own, to the record and the byte. */
	for (int i = 0; i < 4; i++) {
		printf("  instance %s:\n", on[i] == fa ? "A" : "B");
		settle(on[i], topics[i], parts[i], &in[i], &s);
		check_topic(on[i], &s, topics[i], parts[i], &in[i], &out[i]);
		check_e2e(&s, topics[i], parts[i], &out[i]);
		snap_free(&s);
	}
	/* And nothing of the other's (all settled: the maps stand still). */
	snap_take(fa->pins, &s);
	only_own(&s, "A", topics, parts, 2);
	snap_free(&s);
	snap_take(fb->pins, &s);
	only_own(&s, "B", topics + 2, parts + 2, 2);
	snap_free(&s);

	/* procs: each daemon and its live client, none of the other's, and
	 * none of the clients gone (all of both instances' but the two). */
	wait_isolated(&sa, &sb, "two live clients");

	/* The kept clients go: each leaves its instance's procs. */
	kids_finish(&fx->kids[0], 2, r);
	for (int i = 0; i < 2; i++) {
		check_produced(&r[i], i ? &idle_b : &idle_a);
		res_free(&r[i]);
	}
	sa.live = sb.live = 0;
	wait_isolated(&sa, &sb, "every client gone");
	fa->passed = fb->passed = true;
}

/* ---- main ---------------------------------------------------------------- */

/*
 * Run in a mount namespace of our own with a fresh bpffs on /sys/fs/bpf
 * (mode 1777), inherited by the daemons and tools we start: whatever the
 * tests pin is invisible to the rest of the host, other daemons' pins do
 * not show here, and it all goes, probes detached, when the last of our
 * processes exits, even after a crash or the runner's SIGKILL.  The
 * probes themselves are kernel-wide: other processes running the same
 * binaries are counted too (hence the test's pid in topic names).
 * Without CAP_SYS_ADMIN, or with TEST_METRICS_HOST_BPFFS=1 (to look at
 * the pins from outside), the host's bpffs is used.
 */
static void private_bpffs(void)
{
	const char *why = NULL;

	errno = 0;
	if (getenv("TEST_METRICS_HOST_BPFFS"))
		why = "TEST_METRICS_HOST_BPFFS is set";
	else if (unshare(CLONE_NEWNS))
		why = "unshare(CLONE_NEWNS) failed";
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		why = "cannot make the mounts private"; /* must not mount */
	else if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=1777"))
		why = "cannot mount a bpffs";
	if (why)
		printf("  on the host's bpffs: %s (%s)\n", why,
		       errno ? strerror(errno) : "");
	else
		printf("  on a private bpffs (mount namespace of pid %d)\n",
		       (int)getpid());
}

/* Why this machine cannot run the tests, NULL if it can. */
static const char *missing_feature(void)
{
	if (geteuid() != 0)
		return "not root: loading BPF programs needs root";
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return "no /sys/kernel/btf/vmlinux: the kernel has no BTF";
	if (!find_bpftool())
		return "no bpftool (set BPFTOOL=PATH)";
	return NULL;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)

int main(void)
{
	/* unprivileged first: the one that wants no SFM_BPFFS_ROOT yet. */
	const struct CMUnitTest tests[] = {
		T(test_unprivileged),
		T(test_exact_totals),
		T(test_restart),
		T(test_no_bpf),
		T(test_delete),
		cmocka_unit_test_setup_teardown(test_two_instances, fx2_setup,
						fx2_teardown),
	};
	struct CMUnitTest run[sizeof(tests) / sizeof(tests[0])];
	const char *only = getenv("TEST_METRICS_ONLY");
	const char *why = missing_feature();
	size_t n = 0;
	int fails;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (why) {
		fprintf(stderr, "*** SKIP: test_metrics: %s ***\n", why);
		return 77;
	}
	signal(SIGPIPE, SIG_IGN); /* a tool that exits early closes stdin */
	private_bpffs();
	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!only || strstr(tests[i].name, only))
			run[n++] = tests[i];
	fails = _cmocka_run_group_tests("test_metrics", run, n, NULL, NULL);
	if (!fails && g_skipped) {
		fprintf(stderr, "\n*** SKIP: %s ***\n", g_skip_why);
		return 77;
	}
	return fails ? 1 : 0;
}
