// SPDX-License-Identifier: MIT
/* t_util.c - helpers shared by the test programs. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <string.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "recordbatch.h"
#include "sf_be.h"
#include "sfatomic.h"
#include "t_util.h"

void t_ring_create(struct t_ring *t, uint64_t size)
{
	int err = sfshm_ring_create_memfd(size, &t->ring_fd, &t->ctl_fd);

	if (err)
		fail_msg("sfshm_ring_create_memfd(%llu): %s",
			 (unsigned long long)size, sfshm_strerror(err));
	t->size = size;
}

void t_ring_destroy(struct t_ring *t)
{
	close(t->ring_fd);
	close(t->ctl_fd);
}

struct sfshm_ring *t_ring_map(const struct t_ring *t, enum sfshm_role role)
{
	struct sfshm_ring *r = NULL;
	int err = sfshm_ring_map(t->ring_fd, t->ctl_fd, role, &r);

	if (err)
		fail_msg("sfshm_ring_map: %s", sfshm_strerror(err));
	return r;
}

uint64_t t_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint32_t t_fnv1a(const void *p, size_t n, uint32_t seed)
{
	const uint8_t *b = p;
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 16777619u;
	}
	return h;
}

uint64_t t_rand(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

pid_t t_fork(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int t_wait_child(pid_t pid, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			break;
		if (r < 0)
			return -1;
		if (t_now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(1000);
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

int t_become(uid_t uid)
{
	if (!uid)
		return 0;
	if (setgroups(0, NULL) || setgid((gid_t)uid) || setuid(uid))
		return -1;
	return 0;
}

void *t_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail_msg("mmap shared: %s", strerror(errno));
	return p;
}

/* ---- ring test helpers (test_ring_unit, _prop, _hostile) ------------- */

uint64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void t_default_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGSYS };

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
}

pid_t t_fork_clean(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		t_default_signals();
		_exit(fn(arg));
	}
	return pid;
}

int t_run_child(int (*fn)(void *), void *arg, int timeout_ms)
{
	return t_wait_child(t_fork_clean(fn, arg), timeout_ms);
}

bool t_wait_until(bool (*cond)(void *), void *arg, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;
	const struct timespec tick = { 0, 100 * 1000 };

	for (;;) {
		if (cond(arg))
			return true;
		if (t_now_ms() >= deadline)
			return cond(arg);
		nanosleep(&tick, NULL);
	}
}

bool t_wait_for(bool (*cond)(void *), void *arg, int ms)
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

char t_proc_state(pid_t pid)
{
	char path[64], buf[512];
	const char *rp;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* "pid (comm) S ...": comm may hold spaces and parentheses. */
	rp = strrchr(buf, ')');
	if (!rp || rp[1] != ' ')
		return 0;
	return rp[2];
}

bool t_proc_gone(pid_t pid)
{
	char st;

	if (kill(pid, 0) < 0 && errno == ESRCH)
		return true;
	st = t_proc_state(pid);
	return st == 'Z' || st == 'X';
}

bool t_wait_gone(pid_t pid, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;

	while (!t_proc_gone(pid)) {
		if (t_now_ms() >= deadline)
			return false;
		t_sleep_us(100);
	}
	return true;
}

bool t_wait_state(pid_t pid, char state, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;

	while (t_proc_state(pid) != state) {
		if (t_now_ms() >= deadline)
			return false;
		t_sleep_us(100);
	}
	return true;
}

bool t_is_asleep(void *arg)
{
	struct t_sleeper *s = arg;

	/* Seq_cst: pairs with the sleeper's seq_cst increment of it. */
	return sf_load_seqcst32(s->waiters) > 0 && t_proc_state(s->pid) == 'S';
}

const char *t_status_str(int status, char *buf, size_t len)
{
	if (status < 0)
		snprintf(buf, len, "did not finish before its deadline");
	else if (status > 128)
		snprintf(buf, len, "killed by signal %d (%s)", status - 128,
			 strsignal(status - 128));
	else
		snprintf(buf, len, "exited with status %d", status);
	return buf;
}

void t_raw_map(const struct t_ring *t, struct t_raw *raw)
{
	size_t len = SFSHM_PAGE + t->size;
	void *r, *c;

	r = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, t->ring_fd, 0);
	if (r == MAP_FAILED)
		fail_msg("mmap ring file rw: %s", strerror(errno));
	c = mmap(NULL, SFSHM_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 t->ctl_fd, 0);
	if (c == MAP_FAILED)
		fail_msg("mmap ctl file rw: %s", strerror(errno));
	raw->hdr = r;
	raw->data = (uint8_t *)r + SFSHM_PAGE;
	raw->ctl = c;
	raw->len = len;
}

void t_raw_unmap(struct t_raw *raw)
{
	if (raw->hdr)
		munmap(raw->hdr, raw->len);
	if (raw->ctl)
		munmap(raw->ctl, SFSHM_PAGE);
	memset(raw, 0, sizeof(*raw));
}

static bool t_bytes_match(const char *what, const void *got, int32_t got_len,
			  const void *want, int32_t want_len, char *why,
			  size_t whylen)
{
	if (got_len != want_len) {
		snprintf(why, whylen, "%s length %d, sent %d", what, got_len,
			 want_len);
		return false;
	}
	if ((got == NULL) != (want_len < 0)) {
		snprintf(why, whylen, "%s pointer %p for length %d", what, got,
			 got_len);
		return false;
	}
	if (want_len > 0 && memcmp(got, want, (size_t)want_len)) {
		snprintf(why, whylen, "%s bytes differ (length %d)", what,
			 want_len);
		return false;
	}
	return true;
}

static bool t_hdr_matches(const struct sfshm_msg *m, uint32_t i,
			  const struct sfshm_hdr *want, char *why,
			  size_t whylen)
{
	struct sfshm_hdr h;
	char what[48];
	int err = sfshm_msg_header(m, i, &h);

	if (err) {
		snprintf(why, whylen, "sfshm_msg_header(%u): %d (%s)", i, err,
			 sfshm_strerror(err));
		return false;
	}
	snprintf(what, sizeof(what), "header %u key", i);
	if (!t_bytes_match(what, h.key ? h.key : "", (int32_t)h.key_len,
			   want->key ? want->key : "", (int32_t)want->key_len,
			   why, whylen))
		return false;
	snprintf(what, sizeof(what), "header %u value", i);
	return t_bytes_match(what, h.value, h.value_len, want->value,
			     want->value_len, why, whylen);
}

bool t_msg_matches(const struct sfshm_msg *m, const struct sfshm_rec *rec,
		   char *why, size_t whylen)
{
	struct sfshm_hdr h;
	int err;

	if (!t_bytes_match("key", m->key, m->key_len, rec->key, rec->key_len,
			   why, whylen) ||
	    !t_bytes_match("value", m->value, m->value_len, rec->value,
			   rec->value_len, why, whylen))
		return false;
	if (rec->timestamp && m->timestamp != rec->timestamp) {
		snprintf(why, whylen, "timestamp %lld, sent %lld",
			 (long long)m->timestamp, (long long)rec->timestamp);
		return false;
	}
	if (m->hdr_count != rec->hdr_count) {
		snprintf(why, whylen, "hdr_count %u, sent %u", m->hdr_count,
			 rec->hdr_count);
		return false;
	}
	for (uint32_t i = 0; i < rec->hdr_count; i++)
		if (!t_hdr_matches(m, i, &rec->hdrs[i], why, whylen))
			return false;
	err = sfshm_msg_header(m, rec->hdr_count, &h);
	if (err != -ENOENT) {
		snprintf(why, whylen, "sfshm_msg_header(past last): %d", err);
		return false;
	}
	return true;
}

/* ---- added for the ring stress, dead-producer and lapped-reader tests --- */

void t_sleep_us(uint64_t us)
{
	struct timespec ts = {
		.tv_sec = (time_t)(us / 1000000),
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
		;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define T_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define T_SANITIZED 1
#endif
#endif

int t_slowdown(void)
{
#ifdef T_SANITIZED
	return 4;
#else
	return 1;
#endif
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

uint64_t t_hash64(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	uint64_t h = mix64(seed ^ (n * 0x9e3779b97f4a7c15ull));
	uint64_t w;
	size_t i;

	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, b + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, b + i, n - i);
	return mix64(h ^ w);
}

void t_note_set(struct t_note *n, const char *fmt, ...)
{
	uint32_t unset = 0;
	va_list ap;

	/* First writer wins; pairs with the acquire load in t_note_msg(). */
	if (!sf_cas_acqrel32(&n->set, &unset, 1))
		return;
	va_start(ap, fmt);
	vsnprintf(n->msg, sizeof(n->msg), fmt, ap);
	va_end(ap);
	sf_store_release32(&n->set, 2);
}

const char *t_note_msg(const struct t_note *n)
{
	/* Pairs with the release store in t_note_set(). */
	return sf_load_acquire32(&n->set) == 2 ? n->msg : "";
}

static void *task_thread(void *arg)
{
	struct t_task *t = arg;

	t->rc = t->fn(t->arg);
	/* Pairs with the acquire load in t_task_poll(). */
	sf_store_release32(&t->thread_done, 1);
	return NULL;
}

void t_task_start(struct t_task *t, int (*fn)(void *), void *arg, bool thread)
{
	int err;

	memset(t, 0, sizeof(*t));
	t->fn = fn;
	t->arg = arg;
	t->is_thread = thread;
	if (!thread) {
		t->pid = t_fork_clean(fn, arg);
		return;
	}
	err = pthread_create(&t->thread, NULL, task_thread, t);
	if (err)
		fail_msg("pthread_create: %s", strerror(err));
}

static int status_rc(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

bool t_task_poll(struct t_task *t, int *rc)
{
	int st;

	if (t->done)
		goto out;
	if (t->is_thread) {
		/* Pairs with the release store in task_thread(). */
		if (!sf_load_acquire32(&t->thread_done))
			return false;
		pthread_join(t->thread, NULL);
	} else {
		pid_t r = waitpid(t->pid, &st, WNOHANG);

		if (r == 0)
			return false;
		t->rc = r == t->pid ? status_rc(st) : -1;
	}
	t->done = true;
out:
	if (rc)
		*rc = t->rc;
	return true;
}

int t_task_wait(struct t_task *t, int timeout_ms)
{
	uint64_t deadline = t_now_ms() + (uint64_t)timeout_ms;
	int rc;

	while (!t_task_poll(t, &rc)) {
		if (t_now_ms() >= deadline) {
			t_task_kill(t);
			return -1;
		}
		t_sleep_us(500);
	}
	return rc;
}

void t_task_kill(struct t_task *t)
{
	int st;

	if (t->done || t->is_thread)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &st, 0);
	t->done = true;
	t->rc = -1;
}

uint32_t t_lap(uint64_t size, uint64_t pos)
{
	return (uint32_t)(pos >> __builtin_ctzll(size)) & SFSHM_FRAME_LAP_MASK;
}

uint64_t t_word(uint64_t size, uint32_t type, uint64_t pos, int32_t len)
{
	return SFSHM_FRAME_WORD(SFSHM_FRAME_TAG(type, t_lap(size, pos)), len);
}

uint64_t t_word_lap_back(uint64_t size, uint32_t type, uint64_t pos,
			 int32_t len, uint32_t back)
{
	return SFSHM_FRAME_WORD(SFSHM_FRAME_TAG(type, t_lap(size, pos) - back),
				len);
}

uint64_t *t_raw_word(const struct t_raw *raw, uint64_t pos)
{
	return (uint64_t *)(raw->data + (pos & (raw->hdr->size - 1)));
}

uint32_t t_frame_len(uint32_t klen, uint32_t vlen)
{
	return SFSHM_FRAME_HDR_SIZE + klen + vlen;
}

int t_raw_claim(struct t_raw *raw, uint32_t flen, uint64_t *start,
		uint64_t *fpos)
{
	uint32_t need = (flen + SFSHM_FRAME_ALIGN - 1) &
			~(SFSHM_FRAME_ALIGN - 1);
	uint64_t t = sf_load_relaxed64(&raw->hdr->k_tail);
	uint64_t size = raw->hdr->size;
	uint64_t idx, pad, end;

	do {
		idx = t & (size - 1);
		pad = idx + need > size ? size - idx : 0;
		end = t + pad + need;
		/* As claim_space(): pairs with the store in sfshm_ring_clean(). */
		if (end > sf_load_acquire64(&raw->hdr->k_limit))
			return -EAGAIN;
	} while (!sf_cas_relaxed64(&raw->hdr->k_tail, &t, end));
	*start = t;
	*fpos = t + pad;
	return 0;
}

/* ---- fixtures and groups (test_ring_unit, _hostile, _prop) ------------ */

void t_fx_open(struct t_fx *f, uint64_t size)
{
	t_ring_create(&f->t, size);
	t_raw_map(&f->t, &f->raw);
	f->own = t_ring_map(&f->t, SFSHM_ROLE_OWNER);
	f->prod = t_ring_map(&f->t, SFSHM_ROLE_PRODUCER);
	f->rd = t_ring_map(&f->t, SFSHM_ROLE_READER);
	f->buflen = sfshm_ring_max_frame(f->rd);
	f->buf = malloc(f->buflen);
	assert_non_null(f->buf);
}

void t_fx_close(struct t_fx *f)
{
	sfshm_ring_unmap(f->rd);
	sfshm_ring_unmap(f->prod);
	sfshm_ring_unmap(f->own);
	t_raw_unmap(&f->raw);
	t_ring_destroy(&f->t);
	free(f->buf);
}

int t_fx_setup(void **state)
{
	struct t_fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	t_fx_open(f, T_FX_SIZE);
	*state = f;
	return 0;
}

int t_fx_teardown(void **state)
{
	t_fx_close(*state);
	free(*state);
	return 0;
}

/* " name(failures)" of each group that failed so far. */
static char failed_groups[128];

int t_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
	int fails = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	size_t used = strlen(failed_groups);

	if (fails)
		snprintf(failed_groups + used, sizeof(failed_groups) - used,
			 " %s(%d)", name, fails);
	return fails;
}

int t_groups_report(const char *prog, int fails)
{
	if (fails)
		print_error("%s: %d failed:%s (details above)\n", prog, fails,
			    failed_groups);
	return fails ? 1 : 0;
}

static bool skipped; /* t_skip_note() was called */
static char skip_why[256];

void t_skip_vnote(const char *fmt, va_list ap)
{
	vsnprintf(skip_why, sizeof(skip_why), fmt, ap);
	fprintf(stderr, "\n*** SKIP: %s ***\n\n", skip_why);
	skipped = true;
}

void t_skip_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_skip_vnote(fmt, ap);
	va_end(ap);
}

int t_run_only(const char *prog, const char *only_env,
	       const struct CMUnitTest *tests, size_t n)
{
	struct CMUnitTest *run = calloc(n ? n : 1, sizeof(*run));
	const char *only = getenv(only_env);
	size_t m = 0;
	int fails;

	if (!run)
		abort();
	for (size_t i = 0; i < n; i++)
		if (!only || strstr(tests[i].name, only))
			run[m++] = tests[i];
	fails = _cmocka_run_group_tests(prog, run, m, NULL, NULL);
	free(run);
	if (!fails && skipped) {
		fprintf(stderr, "\n*** SKIP: %s ***\n", skip_why);
		return 77;
	}
	return fails ? 1 : 0;
}

/* ---- checked records (test_ring_dead, test_ring_stress) -------------- */

uint64_t t_key_seed(uint32_t id, uint64_t seq, uint32_t len)
{
	return ((uint64_t)id << 48) ^ (seq * 0x9e3779b97f4a7c15ull) ^ len;
}

void t_key_set(struct t_key *k, uint32_t id, uint64_t seq, const void *value,
	       uint32_t len)
{
	*k = (struct t_key){ id, len, seq, 0 };
	k->sum = t_hash64(value, len, t_key_seed(id, seq, len));
}

bool t_key_intact(const struct sfshm_msg *m, struct t_key *k)
{
	if (m->key_len != (int32_t)sizeof(*k) || !m->key)
		return false;
	memcpy(k, m->key, sizeof(*k));
	return m->value_len == (int32_t)k->len &&
	       t_hash64(m->value, k->len, t_key_seed(k->id, k->seq, k->len)) ==
		       k->sum;
}

struct sfshm_ring *t_child_map(const struct t_ring *t, enum sfshm_role role,
			       struct t_note *note, const char *who)
{
	struct sfshm_ring *r = NULL;
	int err = sfshm_ring_map(t->ring_fd, t->ctl_fd, role, &r);

	if (err)
		t_note_set(note, "%s: sfshm_ring_map (role %d): %s", who,
			   (int)role, sfshm_strerror(err));
	return r;
}

int t_owner_clean(struct sfshm_ring *o)
{
	uint64_t pos = sfshm_ring_position(o);
	uint64_t upto = sfshm_ring_min_reader_pos(o, pos);
	int err;

	if (upto > pos)
		upto = pos;
	if (upto <= sfshm_ring_clean_pos(o))
		return 0;
	err = sfshm_ring_clean(o, upto);
	return err && err != -EBUSY ? err : 1;
}

/* ---- files and directories ---------------------------------------------- */

int t_tmpdir(char *buf, size_t len, const char *prefix)
{
	const char *tmp = getenv("TMPDIR");
	int n = snprintf(buf, len, "%s/%s-XXXXXX", tmp && *tmp ? tmp : "/tmp",
			 prefix);

	if (n < 0 || (size_t)n >= len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkdtemp(buf) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int t_rm_rf(const char *dir)
{
	return dir[0] ? nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) : 0;
}

void t_seg_path(char *buf, size_t len, const char *dir, int64_t base,
		const char *suffix)
{
	snprintf(buf, len, "%s/%020lld%s", dir, (long long)base, suffix);
}

void t_file_append(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

void t_file_flip(const char *path, off_t at)
{
	int fd = open(path, O_RDWR);
	uint8_t b;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x5a;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
	close(fd);
}

bool t_path_exists(const char *fmt, ...)
{
	char path[PATH_MAX];
	struct stat st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	return lstat(path, &st) == 0;
}

/* ---- record batches ----------------------------------------------------- */

void t_fill_value(uint8_t *v, size_t len, int64_t seq)
{
	sf_put_be64(v, (uint64_t)seq);
	for (size_t i = 8; i < len; i++)
		v[i] = (uint8_t)(seq * 7 + (int64_t)i);
}

uint8_t *t_rb_take(struct sf_rb_builder *b, size_t *len)
{
	const uint8_t *out;
	uint8_t *copy = NULL;

	if (!sf_rb_builder_finish(b, &out, len) && (copy = malloc(*len)))
		memcpy(copy, out, *len);
	sf_rb_builder_release(b);
	return copy;
}
