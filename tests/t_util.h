/* SPDX-License-Identifier: MIT */
/* t_util.h - helpers shared by the test programs. */
#ifndef SFSHM_T_UTIL_H
#define SFSHM_T_UTIL_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sfshm/ring.h>
#include <sfshm/ring_layout.h>

/* A ring in two memfds, inherited by forked children. */
struct t_ring {
	int ring_fd;
	int ctl_fd;
	uint64_t size;
};

/* Create the memfds; aborts the test on failure. */
void t_ring_create(struct t_ring *t, uint64_t size);
void t_ring_destroy(struct t_ring *t);
/* Map in a role; aborts the test on failure. */
struct sfshm_ring *t_ring_map(const struct t_ring *t, enum sfshm_role role);

/* CLOCK_MONOTONIC in ms. */
uint64_t t_now_ms(void);

/* FNV-1a 32-bit. */
uint32_t t_fnv1a(const void *p, size_t n, uint32_t seed);

/* xorshift64* generator. */
uint64_t t_rand(uint64_t *state);

/* Fork a child that runs fn(arg) and _exit()s with its return value. */
pid_t t_fork(int (*fn)(void *), void *arg);

/* Wait for a child with a deadline; SIGKILLs it on timeout.
 * Return: its exit status (0..255), 128+signal, or -1 on timeout. */
int t_wait_child(pid_t pid, int timeout_ms);

/*
 * Become user @uid, with group @uid and no supplementary groups (nothing
 * if @uid is 0: stay as we are).  Return: 0, or -1 with errno set.
 */
int t_become(uid_t uid);

/* Shared anonymous memory (MAP_SHARED) visible to forked children. */
void *t_shared_alloc(size_t len);

/* Read everything available into a callback until the predicate holds. */
#define T_DEADLINE(ms) (t_now_ms() + (ms))

/* ---- ring test helpers (test_ring_unit, _prop, _hostile) ------------- */

/* CLOCK_MONOTONIC in ns (comparable across processes). */
uint64_t t_now_ns(void);

/*
 * Like t_fork(), but the child first restores the default action of the
 * signals cmocka catches (SEGV, BUS, FPE, ILL, SYS), so that a crash kills
 * the child instead of longjmp()ing into its copy of the test runner.
 * The child must report through its exit status only (no cmocka asserts).
 */
pid_t t_fork_clean(int (*fn)(void *), void *arg);

/* t_fork_clean() then t_wait_child(); same return values. */
int t_run_child(int (*fn)(void *), void *arg, int timeout_ms);

/* Poll cond(arg) every 100 us until it holds or @timeout_ms pass.
 * Return: true if it held. */
bool t_wait_until(bool (*cond)(void *), void *arg, int timeout_ms);

/* Poll cond(arg) every 5 ms until it holds or @ms, scaled by t_slowdown(),
 * pass: for conditions that cost a look at a daemon or a file.
 * Return: true if it held. */
bool t_wait_for(bool (*cond)(void *), void *arg, int ms);

/* State letter of a process from /proc/PID/stat ('S', 'R', ...), 0 if
 * it cannot be read. */
char t_proc_state(pid_t pid);

/*
 * Has @pid exited: no such process, or a zombie its parent has not reaped
 * yet?  The owner's test of a slot holder (sf_proc_alive()), seen from
 * outside the library.
 */
bool t_proc_gone(pid_t pid);

/* Poll t_proc_gone(@pid) until it holds or @timeout_ms pass.
 * Return: true if it is gone. */
bool t_wait_gone(pid_t pid, int timeout_ms);

/* Poll t_proc_state(@pid) until it is @state or @timeout_ms pass.
 * Return: true if it got there. */
bool t_wait_state(pid_t pid, char state, int timeout_ms);

/*
 * A process asleep in the kernel on a futex of the ring: its waiter count
 * (k_waiters, k_space_waiters) is non-zero and it is in state 'S'.
 */
struct t_sleeper {
	pid_t pid;
	const uint32_t *waiters; /* the counter, in shared memory */
};

/* For t_wait_until(): is @arg (a struct t_sleeper) asleep? */
bool t_is_asleep(void *arg);

/* Describe a child status from t_wait_child()/t_run_child(). */
const char *t_status_str(int status, char *buf, size_t len);

/* The ring file and ctl file mapped read-write, as any producer (or a
 * hostile process) can: for corrupting shared memory on purpose. */
struct t_raw {
	struct sfshm_ring_hdr *hdr;
	uint8_t *data;
	struct sfshm_ring_ctl *ctl;
	size_t len;
};

void t_raw_map(const struct t_ring *t, struct t_raw *raw);
void t_raw_unmap(struct t_raw *raw);

/* Compare a record read from the ring with the one sent (a zero sent
 * timestamp is not compared).  On mismatch writes why into @why.
 * Return: true if equal. */
bool t_msg_matches(const struct sfshm_msg *m, const struct sfshm_rec *rec,
		   char *why, size_t whylen);

/* ---- added for the ring stress, dead-producer and lapped-reader tests --- */

/* Sleep @us microseconds: pacing a workload, never synchronisation. */
void t_sleep_us(uint64_t us);

/*
 * How much slower this build runs than a plain -O2 one: 1, or more under a
 * sanitizer.  Deadlines are multiplied by it.
 */
int t_slowdown(void);

/* 64-bit hash of @n bytes, 8 at a time (t_fnv1a's job, ~8x faster). */
uint64_t t_hash64(const void *p, size_t n, uint64_t seed);

/*
 * A failure note in shared memory (t_shared_alloc): the first child
 * process or thread that fails says why, the parent prints it.
 */
struct t_note {
	uint32_t set;
	char msg[512];
};

void t_note_set(struct t_note *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The note's text, or "" if nobody failed. */
const char *t_note_msg(const struct t_note *n);

/*
 * A worker run as a forked process (t_fork_clean()) or as a thread,
 * fn(arg) giving its exit code.  Threads cannot be killed: their fn must
 * honour a stop flag and bounded waits.
 */
struct t_task {
	int (*fn)(void *);
	void *arg;
	bool is_thread;
	bool done;
	pid_t pid;
	pthread_t thread;
	uint32_t thread_done; /* atomic, set by the thread as it returns */
	int rc;
};

void t_task_start(struct t_task *t, int (*fn)(void *), void *arg, bool thread);
/* Has it finished?  Sets *rc (exit code or 128+signal) when it has. */
bool t_task_poll(struct t_task *t, int *rc);
/* Wait with a deadline; a process is SIGKILLed on timeout.
 * Return: as t_wait_child() (-1 on timeout). */
int t_task_wait(struct t_task *t, int timeout_ms);
/* SIGKILL a process task and reap it (no-op for threads and reaped ones). */
void t_task_kill(struct t_task *t);

/* ---- frame words (ring_layout.h), tagged with their position's lap ---- */

/* The lap of @pos in a ring of @size bytes, as a frame word carries it. */
uint32_t t_lap(uint64_t size, uint64_t pos);
/*
 * The frame word the library writes for a @type frame of @len bytes at
 * @pos in a ring of @size bytes: SFSHM_FRAME_WORD(SFSHM_FRAME_TAG(type,
 * pos >> log2(size)), len).
 */
uint64_t t_word(uint64_t size, uint32_t type, uint64_t pos, int32_t len);
/* The same word as written @back laps before @pos's (stale there). */
uint64_t t_word_lap_back(uint64_t size, uint32_t type, uint64_t pos,
			 int32_t len, uint32_t back);

/* ---- on a struct t_raw (above) ---- */

/* The frame word at @pos (an atomic object). */
uint64_t *t_raw_word(const struct t_raw *raw, uint64_t pos);
/* Frame bytes a record of @klen key and @vlen value bytes takes. */
uint32_t t_frame_len(uint32_t klen, uint32_t vlen);
/*
 * Step 1 of a claim exactly as sfshm_ring_claim() does it: CAS k_tail
 * forward by @flen (aligned), taking the rest of the lap as padding when
 * the frame would cross the end.  Writes no frame word.
 * @start: the claim's first position (the padding's, if any).
 * @fpos:  the frame's position.
 * Return: 0, or -EAGAIN if it does not fit below k_limit.
 */
int t_raw_claim(struct t_raw *raw, uint32_t flen, uint64_t *start,
		uint64_t *fpos);

/* ---- fixtures and groups (test_ring_unit, _hostile, _prop) ------------ */

/*
 * A ring mapped as owner, producer and reader, and read-write as raw
 * memory, with a read buffer of the largest frame.
 */
struct t_fx {
	struct t_ring t;
	struct t_raw raw;
	struct sfshm_ring *own;
	struct sfshm_ring *prod;
	struct sfshm_ring *rd;
	uint8_t *buf;
	size_t buflen;
};

/* Open @f on a new ring of @size bytes; aborts the test on failure. */
void t_fx_open(struct t_fx *f, uint64_t size);
/* Close what t_fx_open() opened. */
void t_fx_close(struct t_fx *f);

/* The ring of t_fx_setup(). */
#define T_FX_SIZE (64ull << 10)

/* cmocka fixture: *state is a struct t_fx on a ring of T_FX_SIZE bytes. */
int t_fx_setup(void **state);
int t_fx_teardown(void **state);

/* A cmocka test of @fn with the fixture above. */
#define T_FX(fn) cmocka_unit_test_setup_teardown(fn, t_fx_setup, t_fx_teardown)

struct CMUnitTest;

/*
 * Run a group of @n cmocka tests named @name; a group with failures is
 * remembered for t_groups_report().
 * Return: the number of tests that failed.
 */
int t_run_group(const char *name, const struct CMUnitTest *tests, size_t n);

/* t_run_group() of an array. */
#define T_GROUP(name, tests) \
	t_run_group(name, tests, sizeof(tests) / sizeof(tests[0]))

/*
 * After the groups of program @prog: if @fails, name the groups that
 * failed on stderr.  Return: the exit status, 0 or 1.
 */
int t_groups_report(const char *prog, int fails);

/*
 * Say on stderr why a test cannot run on this machine, and remember it
 * for t_run_only(); the test itself then skip()s or returns.
 */
void t_skip_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void t_skip_vnote(const char *fmt, va_list ap)
	__attribute__((format(printf, 1, 0)));

/*
 * Run as one group, named @prog, those of the @n @tests whose names hold
 * the value of the environment variable @only_env (all if it is unset).
 * Return: the exit status: 1 if a test failed, else 77 (the last
 * t_skip_note() repeated) if one was skipped, else 0.
 */
int t_run_only(const char *prog, const char *only_env,
	       const struct CMUnitTest *tests, size_t n);

/* t_run_only() of an array. */
#define T_RUN_ONLY(prog, only_env, tests) \
	t_run_only(prog, only_env, tests, sizeof(tests) / sizeof(tests[0]))

/* ---- checked records (test_ring_dead, test_ring_stress) -------------- */

/* A record's key: who sent it and what its value must hash to. */
struct t_key {
	uint32_t id;
	uint32_t len;
	uint64_t seq;
	uint64_t sum;
};

/* The seed of the value hash of record @seq of sender @id, @len bytes. */
uint64_t t_key_seed(uint32_t id, uint64_t seq, uint32_t len);

/* Fill @k for record @seq of sender @id whose value is @value, @len bytes. */
void t_key_set(struct t_key *k, uint32_t id, uint64_t seq, const void *value,
	       uint32_t len);

/*
 * Is @m a whole record: a key of the size of *@k, a value as long as the
 * key says that hashes as the key says?  The key is copied into *@k.
 */
bool t_key_intact(const struct sfshm_msg *m, struct t_key *k);

/*
 * Map the ring @t in @role from a child process or thread; on failure the
 * first failure note says why, with @who (the child's name).
 * Return: the handle, or NULL.
 */
struct sfshm_ring *t_child_map(const struct t_ring *t, enum sfshm_role role,
			       struct t_note *note, const char *who);

/*
 * The owner's clean step, as after persisting what it read: erase up to
 * the lower of its own position and every reader's published one.  -EBUSY
 * (held back by a producer's open claim, what is below it erased) is not
 * an error: the next step tries again.
 * Return: 1 if it cleaned, 0 if there was nothing to clean, or -errno.
 */
int t_owner_clean(struct sfshm_ring *o);

/* ---- files and directories (test_log, test_segread, t_daemon) --------- */

/*
 * Make a fresh directory ${TMPDIR:-/tmp}/@prefix-XXXXXX; its path goes
 * into @buf.  Return: 0, or -1 with errno set.
 */
int t_tmpdir(char *buf, size_t len, const char *prefix);

/*
 * Remove @dir and everything below it (nothing if @dir is "").
 * Return: 0, or -1 where something could not be removed.
 */
int t_rm_rf(const char *dir);

/* The path of a log segment file: @dir/<@base, 20 digits>@suffix. */
void t_seg_path(char *buf, size_t len, const char *dir, int64_t base,
		const char *suffix);

/* Append @len bytes to the file @path; aborts the test on failure. */
void t_file_append(const char *path, const void *p, size_t len);

/* Flip bits of the byte at @at of @path (xor 0x5a); aborts on failure. */
void t_file_flip(const char *path, off_t at);

/* Is there a file (of any type) at the path @fmt makes? */
bool t_path_exists(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- record batches (test_log, test_segread) --------------------------- */

struct sf_rb_builder;

/*
 * The value of the record with sequence number @seq: 8 bytes of @seq
 * (big-endian), then a pattern of it; @len >= 8.
 */
void t_fill_value(uint8_t *v, size_t len, int64_t seq);

/*
 * Finish the batch @b holds and release @b.  Uses no cmocka asserts, so
 * that forked children may call it.
 * Return: a malloc()ed copy of the batch, its size in *@len; NULL if the
 * builder failed or memory ran out.
 */
uint8_t *t_rb_take(struct sf_rb_builder *b, size_t *len);

#endif
