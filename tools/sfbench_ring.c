// SPDX-License-Identifier: MIT
/*
 * sfbench_ring.c - `sfbench ring`: throughput and latency of the partition
 * ring, with a UNIX-socket baseline measured in the same run.
 *
 * How it measures
 * ---------------
 * Workers.  Every producer, reader, ping and pong side is a worker: a
 * thread, or with --processes a forked process.  Each maps its own ring
 * handles (handles are not thread-safe), so threads and processes run the
 * same code.  Everything the coordinator and the workers share - the start
 * gate, the stop flag, results, latency samples - lives in MAP_SHARED
 * memory, which serves both.  Workers set up, check in at the gate and
 * spin (yielding) until the coordinator opens it, so mapping and page
 * faults are not timed.
 *
 * Throughput.  Each case gets a fresh ring in two memfds.  There is no
 * daemon, so reader 0 maps the ring as the OWNER and erases behind itself
 * every --clean-step bytes (a quarter of the ring by default), as sfshmd
 * would after persisting, never past the lowest position the other
 * readers published (they publish every 1/16 of the ring and whenever they
 * run dry).  After --duration the coordinator raises the stop flag; each
 * producer then sends an end marker - the only records with a key -
 * carrying how many records it sent.  A reader's clock stops when it has
 * seen every marker, so the drain is included and records/time is what
 * the readers really received.
 *
 * Checking.  A data record's value starts with a sequence word (producer
 * << 48 | n) and ends with a known byte.  Readers check the value length,
 * the last byte, that each producer's sequence goes 0, 1, 2 ... and that
 * the counts match the markers.  A ring that loses, duplicates, reorders
 * or tears records fails the run (exit 1) instead of looking fast.
 *
 * Latency.  Ping-pong over two rings: ping sends seq i on the ping ring,
 * pong reads it and sends i back on the pong ring; ping times the round
 * trip with CLOCK_MONOTONIC (vDSO; its cost is measured and printed).  The
 * reader of each ring is its owner and erases behind itself.  All samples
 * are kept and sorted, so the percentiles are exact.
 *
 * Baseline.  The same ping-pong over socketpair(AF_UNIX), and 1->1
 * streaming with one send() and one recv() per message, same sizes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sfshm/ring.h>

#include "sfbench.h"

#define CMD "ring"
#define MAX_SIZES 16
#define MAX_SIDE 32 /* producers or readers in one case */
#define MAX_CPUS 64
#define MAX_BATCH 1024 /* records per sfshm_ring_send_batch() */
#define NS 1000000000ull
#define WATCHDOG_S 10 /* a worker with no message this long fails */
#define SEQ_SHIFT 48 /* sequence word: producer << 48 | n */
#define SEQ_MASK ((1ull << SEQ_SHIFT) - 1)
#define MARKER_KEY "end"
#define MIN_SAMPLES 1000 /* round trips measured, time budget or not */
#define MB 1e6

enum part {
	PART_TP = 1, /* ring throughput */
	PART_LAT = 2, /* ring latency */
	PART_BASE = 4, /* socket throughput and latency */
};

struct opts {
	uint64_t sizes[MAX_SIZES];
	int nsizes;
	double duration; /* seconds per throughput case */
	uint64_t count; /* records per throughput case, 0: duration */
	uint64_t ring_size;
	uint64_t clean_step; /* the owner erases every this many bytes */
	int producers; /* in the N->1 case */
	int readers; /* in the 1->N case */
	int batch; /* records per sfshm_ring_send_batch() */
	bool zero_copy, processes, json, quick, verify;
	enum sfshm_wait_mode wait;
	uint64_t lat_size, rtt_count, warmup;
	double rtt_max_time; /* seconds, 0: no limit */
	int cpus[MAX_CPUS];
	int ncpus;
	unsigned int parts;
	int sock_type;
};

/* ---- failing -------------------------------------------------------------- */

static bool g_child; /* this process is a forked worker */

/*
 * A run-time failure: say what and stop everything with exit status 1.  A
 * thread takes the whole process down (a producer blocked on a full ring
 * could not be stopped otherwise); a forked worker exits and the
 * coordinator kills its siblings.
 */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("sfbench " CMD ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (g_child)
		_exit(1);
	exit(1);
}

/* ---- time, CPU time, shared memory ------------------------------------------ */

static void cpu_add(struct sfb_cpu_time *sum, const struct sfb_cpu_time *c)
{
	sum->user_ns += c->user_ns;
	sum->sys_ns += c->sys_ns;
}

/* Zeroed memory that forked workers share with the coordinator. */
static void *shm_zalloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap of %zu shared bytes: %s", len, strerror(errno));
	return p;
}

static void *xmalloc(size_t len)
{
	void *p = malloc(len ? len : 1);

	if (!p)
		fail("out of memory (%zu bytes)", len);
	return p;
}

/* ---- workers: threads or processes -------------------------------------- */

/* The start line and the stop flag (in shared memory). */
struct gate {
	atomic_int ready; /* workers set up and waiting */
	atomic_int go; /* the coordinator started the clock */
	atomic_int stop; /* --duration is over */
	uint64_t t0; /* CLOCK_MONOTONIC at go */
	uint64_t t_stop; /* and when the stop flag went up */
};

struct task {
	void (*fn)(void *arg);
	void *arg;
	int cpu; /* -1: not pinned */
	pthread_t tid;
	pid_t pid; /* forked worker not yet reaped, else 0 */
};

/* Worker side: set up first, then wait here for everyone. */
static void gate_wait(struct gate *g)
{
	atomic_fetch_add(&g->ready, 1);
	/* Pairs with the release store in open_gate(). */
	while (!atomic_load_explicit(&g->go, memory_order_acquire))
		sched_yield();
}

static bool stopped(struct gate *g)
{
	/* Relaxed: a flag, it publishes nothing. */
	return atomic_load_explicit(&g->stop, memory_order_relaxed);
}

static void pin_self(int cpu)
{
	cpu_set_t set;
	int err;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		fail("cannot pin to CPU %d: %s", cpu, strerror(err));
}

static void *task_thread(void *arg)
{
	struct task *t = arg;

	pin_self(t->cpu);
	t->fn(t->arg);
	return NULL;
}

static void __attribute__((noreturn)) task_child(struct task *t, pid_t parent)
{
	g_child = true;
	/* Die with the coordinator: nobody else would stop a blocked worker. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(1);
	pin_self(t->cpu);
	t->fn(t->arg);
	_exit(0);
}

static void start_task(struct task *t, bool processes)
{
	pid_t parent = getpid();
	int err;

	if (!processes) {
		err = pthread_create(&t->tid, NULL, task_thread, t);
		if (err)
			fail("pthread_create: %s", strerror(err));
		return;
	}
	fflush(NULL); /* or the child would print our buffered output too */
	t->pid = fork();
	if (t->pid < 0)
		fail("fork: %s", strerror(errno));
	if (t->pid == 0)
		task_child(t, parent);
}

/*
 * Reap one forked worker (blocking unless @flags has WNOHANG).
 * Return: 1 if it failed, 0 if it exited 0, -1 if none exited.
 */
static int reap_one(struct task *t, int n, int flags)
{
	pid_t pid;
	int st;

	do
		pid = waitpid(-1, &st, flags);
	while (pid < 0 && errno == EINTR);
	if (pid <= 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (t[i].pid == pid)
			t[i].pid = 0;
	return !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void kill_tasks(struct task *t, int n)
{
	for (int i = 0; i < n; i++)
		if (t[i].pid > 0)
			kill(t[i].pid, SIGKILL);
}

/* Wait until every worker is ready, then start the clock. */
static int open_gate(struct gate *g, struct task *t, int n, bool processes)
{
	while (atomic_load(&g->ready) < n) {
		/* A worker process that exits before the gate has failed. */
		if (processes && reap_one(t, n, WNOHANG) >= 0)
			return 1;
		sfb_sleep_ns(20000);
	}
	g->t0 = sfb_now_ns();
	/* Release: t0 and everything set up before is visible to workers. */
	atomic_store_explicit(&g->go, 1, memory_order_release);
	return 0;
}

/* Wait for every worker.  Return: 0, or 1 if a worker process failed. */
static int reap_tasks(struct task *t, int n, bool processes, int rc)
{
	if (!processes) {
		for (int i = 0; i < n; i++)
			pthread_join(t[i].tid, NULL);
		return rc;
	}
	if (rc)
		kill_tasks(t, n);
	for (int left = n; left > 0; left--) {
		int r = reap_one(t, n, 0);

		if (r < 0)
			break;
		if (r > 0 && !rc) {
			rc = 1;
			kill_tasks(t, n);
		}
	}
	return rc;
}

/*
 * Run @n workers, pinned round-robin over --cpu, started together; raise
 * the stop flag after @seconds (0: they stop by themselves).
 * Return: 0, or 1 when a worker process failed (it said why).
 */
static int run_tasks(const struct opts *o, struct gate *g, struct task *t,
		     int n, double seconds)
{
	int rc;

	for (int i = 0; i < n; i++) {
		t[i].cpu = o->ncpus ? o->cpus[i % o->ncpus] : -1;
		start_task(&t[i], o->processes);
	}
	rc = open_gate(g, t, n, o->processes);
	if (!rc && seconds > 0) {
		sfb_sleep_ns((uint64_t)(seconds * NS));
		g->t_stop = sfb_now_ns();
		atomic_store_explicit(&g->stop, 1, memory_order_relaxed);
	}
	return reap_tasks(t, n, o->processes, rc);
}

/* ---- records ------------------------------------------------------------- */

/* What fills a value: a byte pattern readers can check. */
static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 7 + 1);
}

static uint8_t *make_value(size_t len)
{
	uint8_t *v = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		v[i] = pattern(i);
	return v;
}

/* Put the sequence word at the start of a value that has room for it. */
static void stamp(uint8_t *v, size_t len, uint64_t seq)
{
	if (len >= sizeof(seq))
		memcpy(v, &seq, sizeof(seq));
}

/* --verify: a pattern as long as the longest value, to compare with. */
static uint8_t *g_verify;

/*
 * Check a value of @len bytes (expected @want): its last byte, or with
 * --verify every byte after the sequence word; and return that word (0
 * for values too short to carry one).
 */
static int check_value(const uint8_t *v, int32_t len, uint32_t want,
		       uint64_t *seq)
{
	size_t skip = want >= sizeof(*seq) ? sizeof(*seq) : 0;

	*seq = 0;
	if (len != (int32_t)want)
		return -EMSGSIZE;
	if (g_verify && memcmp(v + skip, g_verify + skip, want - skip))
		return -EBADMSG;
	/* A value of exactly 8 bytes is all sequence word. */
	if (want > skip && v[want - 1] != pattern(want - 1))
		return -EBADMSG;
	if (skip)
		memcpy(seq, v, sizeof(*seq));
	return 0;
}

/* Bytes of ring a keyless record with a @vlen-byte value takes. */
static uint64_t frame_bytes(uint64_t vlen)
{
	struct sfshm_rec rec = { .key_len = -1, .value_len = (int32_t)vlen };
	int64_t len = sfshm_rec_frame_len(&rec);

	return len < 0 ? UINT64_MAX : ((uint64_t)len + 7) & ~7ull;
}

static void open_ring(int rfd, int cfd, enum sfshm_role role,
		      struct sfshm_ring **r, const char *who)
{
	int err = sfshm_ring_map(rfd, cfd, role, r);

	if (err)
		fail("%s: sfshm_ring_map: %s", who, sfshm_strerror(err));
}

/*
 * Allocate and clear the ring's tmpfs pages now, through a mapping of our
 * own (the content stays zero), so that the first lap does not time page
 * clearing.  Each worker's own mapping still takes minor faults.
 */
static void populate(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return;
#ifdef MADV_POPULATE_WRITE
	(void)madvise(p, len, MADV_POPULATE_WRITE); /* best effort */
#endif
	munmap(p, len);
}

static void create_ring(uint64_t size, int *rfd, int *cfd)
{
	int err = sfshm_ring_create_memfd(size, rfd, cfd);

	if (err)
		fail("sfshm_ring_create_memfd(%" PRIu64 "): %s", size,
		     sfshm_strerror(err));
	populate(*rfd, (size_t)(SFSHM_PAGE + size));
}

/* ---- throughput: shared state ---------------------------------------------- */

/* One worker's part of a throughput case. */
struct tp_worker {
	struct tp_case *tc;
	int idx; /* producer or reader number */
	uint64_t records; /* data records sent, or received and checked */
	uint64_t t_end; /* when a reader had everything */
	struct sfb_cpu_time cpu; /* CPU time while measured */
	struct sfshm_ring_stats st;
};

/* A throughput case (shared memory). */
struct tp_case {
	struct gate gate;
	char label[32];
	int ring_fd, ctl_fd;
	int sock[2]; /* the socket baseline's pair */
	uint32_t value_len;
	int producers, readers;
	uint64_t quota[MAX_SIDE]; /* records per producer */
	bool zero_copy;
	unsigned int batch;
	enum sfshm_wait_mode wait;
	uint64_t clean_step;
	struct tp_worker prod[MAX_SIDE];
	struct tp_worker rd[MAX_SIDE];
};

/* ---- throughput: producing -------------------------------------------------- */

struct producer {
	struct sfshm_ring *r;
	struct tp_worker *w;
	unsigned int batch; /* records per send */
	struct sfshm_rec *recs; /* @batch records, each with its own value */
	struct sfshm_rec shape; /* recs[0] without a value, for claims */
	uint8_t *vals; /* @batch values, each the template */
};

/* The marker a producer sends last: who, and how many records it sent. */
struct marker {
	uint64_t producer;
	uint64_t sent;
};

static void producer_open(struct producer *p, struct tp_worker *w)
{
	struct tp_case *tc = w->tc;
	size_t len = tc->value_len;
	struct timespec ts;

	memset(p, 0, sizeof(*p));
	p->w = w;
	open_ring(tc->ring_fd, tc->ctl_fd, SFSHM_ROLE_PRODUCER, &p->r,
		  tc->label);
	p->batch = tc->batch;
	p->recs = xmalloc(p->batch * sizeof(*p->recs));
	p->vals = xmalloc(p->batch * len);
	/* An explicit timestamp: producers carry their own event time. */
	clock_gettime(CLOCK_REALTIME, &ts);
	for (unsigned int i = 0; i < p->batch; i++) {
		for (size_t j = 0; j < len; j++)
			p->vals[i * len + j] = pattern(j);
		p->recs[i] = (struct sfshm_rec){
			.key_len = -1,
			.value = p->vals + i * len,
			.value_len = (int32_t)len,
			.timestamp =
				(int64_t)ts.tv_sec * (int64_t)NS + ts.tv_nsec,
		};
	}
	p->shape = p->recs[0];
	p->shape.value = NULL;
}

static void producer_close(struct producer *p)
{
	sfshm_ring_stats(p->r, &p->w->st);
	sfshm_ring_unmap(p->r);
	free(p->recs);
	free(p->vals);
}

static uint64_t seq_of(const struct producer *p, uint64_t n)
{
	return (uint64_t)p->w->idx << SEQ_SHIFT | n;
}

/* Zero-copy: claim, write the value in place (as a serializer would), commit. */
static int produce_in_place(struct producer *p, uint64_t n)
{
	uint32_t len = p->w->tc->value_len;
	struct sfshm_claim c;
	int err;

	err = sfshm_ring_claim(p->r, &p->shape, -1, &c);
	if (err)
		return err;
	memcpy(c.value, p->vals, len);
	stamp(c.value, len, seq_of(p, n));
	return sfshm_ring_commit(p->r, &c) ?: 1;
}

/* sfshm_ring_send_batch() of records @n to @n + @k - 1. */
static int produce_batch(struct producer *p, uint64_t n, unsigned int k)
{
	uint32_t len = p->w->tc->value_len;

	for (unsigned int i = 0; i < k; i++)
		stamp(p->vals + (size_t)i * len, len, seq_of(p, n + i));
	return sfshm_ring_send_batch(p->r, p->recs, k, -1, NULL);
}

/* Send records from @n on, at most @k; return how many were sent. */
static unsigned int produce(struct producer *p, uint64_t n, unsigned int k)
{
	int ret;

	if (p->w->tc->zero_copy) {
		ret = produce_in_place(p, n);
	} else if (p->batch > 1) {
		ret = produce_batch(p, n, k);
	} else {
		stamp(p->vals, p->w->tc->value_len, seq_of(p, n));
		ret = sfshm_ring_send(p->r, &p->recs[0], -1, NULL) ?: 1;
	}
	if (ret <= 0)
		fail("%s: producer %d: record %" PRIu64 ": %s", p->w->tc->label,
		     p->w->idx, n, sfshm_strerror(ret ? ret : -EPROTO));
	return (unsigned int)ret;
}

static void send_marker(struct producer *p, uint64_t sent)
{
	struct marker mk = { (uint64_t)p->w->idx, sent };
	struct sfshm_rec rec = {
		.key = MARKER_KEY,
		.key_len = (int32_t)strlen(MARKER_KEY),
		.value = &mk,
		.value_len = sizeof(mk),
		.timestamp = p->recs[0].timestamp,
	};
	int err = sfshm_ring_send(p->r, &rec, -1, NULL);

	if (err)
		fail("%s: producer %d: end marker: %s", p->w->tc->label,
		     p->w->idx, sfshm_strerror(err));
}

static void tp_producer(void *arg)
{
	struct tp_worker *w = arg;
	struct tp_case *tc = w->tc;
	uint64_t quota = tc->quota[w->idx];
	struct producer p;
	uint64_t n = 0;

	producer_open(&p, w);
	gate_wait(&tc->gate);
	sfb_cpu_now(&w->cpu);
	while (n < quota && !stopped(&tc->gate)) {
		uint64_t left = quota - n;

		n += produce(&p, n,
			     left < p.batch ? (unsigned int)left : p.batch);
	}
	send_marker(&p, n);
	sfb_cpu_since(&w->cpu);
	w->records = n;
	producer_close(&p);
}

/* ---- throughput: reading ------------------------------------------------------ */

struct reader {
	struct sfshm_ring *r;
	struct tp_worker *w;
	struct tp_case *tc;
	bool owner; /* reader 0: erases the ring */
	uint8_t *buf; /* copy mode: where records are copied */
	size_t buflen;
	uint64_t step; /* clean (owner) or publish every this much */
	uint64_t mark; /* position of the last clean or publish */
	uint64_t stuck_room; /* less room than this may block a producer */
	uint64_t expect[MAX_SIDE]; /* next sequence of each producer */
	bool ended[MAX_SIDE]; /* its end marker arrived */
	int nended;
	uint64_t sent; /* records the end markers announced */
};

/* What a reader takes from a record before confirming it. */
struct view {
	int32_t key_len;
	int32_t value_len;
	int err; /* check_value() of a data record */
	uint64_t seq; /* data: sequence word */
	struct marker mk; /* marker records */
};

static void publish(struct reader *rd)
{
	int err = sfshm_ring_publish_pos(rd->r);

	if (err)
		fail("%s: reader %d: sfshm_ring_publish_pos: %s", rd->tc->label,
		     rd->w->idx, sfshm_strerror(err));
	rd->mark = sfshm_ring_position(rd->r);
}

/*
 * The owner erases what every reader is done with: up to its own position
 * and the lowest one published.  Every @step bytes of its own progress,
 * or whenever it runs dry (@idle), when other readers may have moved.
 */
static void owner_clean(struct reader *rd, bool idle)
{
	uint64_t pos = sfshm_ring_position(rd->r);
	uint64_t upto = pos;
	int err;

	if (!idle && pos - rd->mark < rd->step)
		return;
	if (rd->tc->readers > 1)
		upto = sfshm_ring_min_reader_pos(rd->r, pos);
	if (upto > pos)
		upto = pos;
	if (upto <= sfshm_ring_clean_pos(rd->r))
		return;
	err = sfshm_ring_clean(rd->r, upto);
	/*
	 * -EBUSY: a producer's claim in flight held it back.  Keep the mark
	 * where it was, so that the next record, or the next idle turn,
	 * tries again: the ring may be full and waiting for this erase.
	 */
	if (err == -EBUSY)
		return;
	rd->mark = pos;
	if (err)
		fail("%s: sfshm_ring_clean(%" PRIu64 "): %s", rd->tc->label,
		     upto, sfshm_strerror(err));
}

/* Nothing to read: tell the owner where we are, or clean if we are it. */
static void reader_idle(struct reader *rd)
{
	if (!rd->owner)
		publish(rd);
	else
		owner_clean(rd, true);
}

/*
 * May producers be blocked on a full ring?  A blocked claim needs more room
 * than is left below the limit; a claim takes at most two frames' room
 * (the frame and a wrap padding shorter than it).
 */
static bool producers_stuck(const struct reader *rd)
{
	return sfshm_ring_limit(rd->r) - sfshm_ring_tail(rd->r) <
	       rd->stuck_room;
}

static void reader_wait(struct reader *rd, uint64_t deadline)
{
	uint64_t now = sfb_now_ns();
	int err;

	if (now >= deadline)
		fail("%s: reader %d: no record for %d s at position %" PRIu64
		     " (tail %" PRIu64 "): lost wake-up or stuck producer",
		     rd->tc->label, rd->w->idx, WATCHDOG_S,
		     sfshm_ring_position(rd->r), sfshm_ring_tail(rd->r));
	/*
	 * The owner must poll while producers may be blocked on a full ring:
	 * the slower readers' progress wakes nobody, nor does a producer
	 * finishing the claim whose hazard held the last erase back (-EBUSY),
	 * and no producer can commit until the owner erases.
	 */
	if (rd->owner && producers_stuck(rd)) {
		sched_yield();
		return;
	}
	err = sfshm_ring_wait(rd->r, (int)((deadline - now) / 1000000 + 1));
	if (err && err != -ETIMEDOUT)
		fail("%s: reader %d: sfshm_ring_wait: %s", rd->tc->label,
		     rd->w->idx, sfshm_strerror(err));
}

static int read_once(struct reader *rd, struct sfshm_msg *m)
{
	if (rd->tc->zero_copy)
		return sfshm_ring_peek(rd->r, m);
	return sfshm_ring_read(rd->r, m, rd->buf, rd->buflen);
}

/* The next record, waiting as long as the watchdog allows. */
static void next_record(struct reader *rd, struct sfshm_msg *m)
{
	uint64_t deadline = 0;
	int err;

	while ((err = read_once(rd, m)) == -EAGAIN) {
		if (!deadline)
			deadline = sfb_now_ns() + WATCHDOG_S * NS;
		reader_idle(rd);
		reader_wait(rd, deadline);
	}
	if (err)
		fail("%s: reader %d: read at position %" PRIu64 ": %s",
		     rd->tc->label, rd->w->idx, sfshm_ring_position(rd->r),
		     sfshm_strerror(err));
}

/* Take what we check from the record; peeked views are confirmed after. */
static void take_view(struct reader *rd, const struct sfshm_msg *m,
		      struct view *v)
{
	memset(v, 0, sizeof(*v));
	v->key_len = m->key_len;
	v->value_len = m->value_len;
	if (m->key_len >= 0) {
		if (m->value_len == (int32_t)sizeof(v->mk))
			memcpy(&v->mk, m->value, sizeof(v->mk));
		return;
	}
	v->err =
		check_value(m->value, m->value_len, rd->tc->value_len, &v->seq);
}

static void check_marker(struct reader *rd, const struct view *v)
{
	const char *who = rd->tc->label;
	uint64_t id = v->mk.producer;

	if (v->key_len != (int32_t)strlen(MARKER_KEY) ||
	    v->value_len != (int32_t)sizeof(v->mk) ||
	    id >= (uint64_t)rd->tc->producers || rd->ended[id])
		fail("%s: reader %d: unexpected keyed record (key %d B, value "
		     "%d B, producer %" PRIu64 ")",
		     who, rd->w->idx, v->key_len, v->value_len, id);
	if (rd->tc->value_len >= 8 && v->mk.sent != rd->expect[id])
		fail("%s: reader %d: producer %" PRIu64 " sent %" PRIu64
		     " records, %" PRIu64 " arrived",
		     who, rd->w->idx, id, v->mk.sent, rd->expect[id]);
	rd->ended[id] = true;
	rd->nended++;
	rd->sent += v->mk.sent;
}

static void check_data(struct reader *rd, const struct view *v)
{
	const char *who = rd->tc->label;
	uint64_t id = v->seq >> SEQ_SHIFT, n = v->seq & SEQ_MASK;

	if (v->err)
		fail("%s: reader %d: record %" PRIu64 ": %s (value %d B, "
		     "expected %u B)",
		     who, rd->w->idx, rd->w->records,
		     v->err == -EMSGSIZE ? "wrong length" : "corrupt value",
		     v->value_len, rd->tc->value_len);
	if (rd->tc->value_len >= 8 && (id >= (uint64_t)rd->tc->producers ||
				       rd->ended[id] || n != rd->expect[id]))
		fail("%s: reader %d: record %" PRIu64 " is producer %" PRIu64
		     "'s #%" PRIu64 ", expected #%" PRIu64 " (lost, duplicated "
		     "or reordered)",
		     who, rd->w->idx, rd->w->records, id, n,
		     id < MAX_SIDE ? rd->expect[id] : 0);
	if (rd->tc->value_len >= 8)
		rd->expect[id]++;
	rd->w->records++;
}

/* Peeked records: confirm the bytes we took were still intact. */
static void confirm(struct reader *rd, const struct sfshm_msg *m)
{
	int err;

	if (!rd->tc->zero_copy)
		return;
	err = sfshm_ring_consume(rd->r, m);
	if (err)
		fail("%s: reader %d: sfshm_ring_consume at %" PRIu64 ": %s",
		     rd->tc->label, rd->w->idx, m->pos, sfshm_strerror(err));
}

static void after_record(struct reader *rd)
{
	if (rd->owner)
		owner_clean(rd, false);
	else if (sfshm_ring_position(rd->r) - rd->mark >= rd->step)
		publish(rd);
}

static void reader_open(struct reader *rd, struct tp_worker *w)
{
	struct tp_case *tc = w->tc;
	uint64_t size;

	memset(rd, 0, sizeof(*rd));
	rd->w = w;
	rd->tc = tc;
	rd->owner = w->idx == 0;
	open_ring(tc->ring_fd, tc->ctl_fd,
		  rd->owner ? SFSHM_ROLE_OWNER : SFSHM_ROLE_READER, &rd->r,
		  "reader");
	if (tc->wait != SFSHM_WAIT_HYBRID)
		sfshm_ring_set_wait(rd->r, tc->wait, 0);
	size = sfshm_ring_size(rd->r);
	rd->step = rd->owner ? tc->clean_step : size / 16;
	rd->stuck_room = 2 * frame_bytes(tc->value_len);
	rd->buflen = tc->zero_copy ? 0 : sfshm_ring_max_frame(rd->r);
	rd->buf = xmalloc(rd->buflen);
	/* Before the start: the owner must not erase what we have not read. */
	if (!rd->owner)
		publish(rd);
}

static void tp_reader(void *arg)
{
	struct tp_worker *w = arg;
	struct sfshm_msg m;
	struct reader rd;
	struct view v;

	reader_open(&rd, w);
	gate_wait(&w->tc->gate);
	sfb_cpu_now(&w->cpu);
	while (rd.nended < w->tc->producers) {
		next_record(&rd, &m);
		take_view(&rd, &m, &v);
		confirm(&rd, &m);
		if (v.key_len >= 0)
			check_marker(&rd, &v);
		else
			check_data(&rd, &v);
		after_record(&rd);
	}
	w->t_end = sfb_now_ns();
	sfb_cpu_since(&w->cpu);
	if (w->records != rd.sent)
		fail("%s: reader %d: %" PRIu64 " records arrived, the "
		     "producers sent %" PRIu64,
		     w->tc->label, w->idx, w->records, rd.sent);
	sfshm_ring_stats(rd.r, &w->st);
	sfshm_ring_unmap(rd.r);
	free(rd.buf);
}

/* ---- sockets ------------------------------------------------------------------- */

static void sock_send(int fd, const void *buf, size_t len, const char *who)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("%s: send of %zu bytes: %s%s", who, len,
			     strerror(errno),
			     errno == EMSGSIZE ? " (try --sock stream)" : "");
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Receive one message of @len bytes.  Return: false at end of stream.
 * Stream sockets read exactly @len bytes; seqpacket ones one message.
 */
static bool sock_recv(int fd, void *buf, size_t len, const char *who)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n =
			recv(fd, (uint8_t *)buf + got, len - got, MSG_WAITALL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) /* SO_RCVTIMEO */
			fail("%s: nothing arrived for %d s", who, WATCHDOG_S);
		if (n < 0)
			fail("%s: recv: %s", who, strerror(errno));
		if (n == 0 && got == 0)
			return false;
		if (n == 0)
			fail("%s: stream ended inside a message", who);
		got += (size_t)n;
	}
	return true;
}

/* A socket pair; a peer silent for the watchdog time fails recv(). */
static void make_socks(int type, uint64_t msg, int sv[2])
{
	struct timeval tv = { WATCHDOG_S, 0 };
	int buf = (int)(4 * msg);

	if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
		fail("socketpair: %s", strerror(errno));
	for (int i = 0; i < 2; i++) {
		setsockopt(sv[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* Seqpacket messages must fit the send buffer. */
		if (type == SOCK_SEQPACKET && msg > 65536)
			setsockopt(sv[i], SOL_SOCKET, SO_SNDBUF, &buf,
				   sizeof(buf));
	}
}

static void close_socks(int sv[2])
{
	close(sv[0]);
	close(sv[1]);
}

static void sock_producer(void *arg)
{
	struct tp_worker *w = arg;
	struct tp_case *tc = w->tc;
	uint8_t *val = make_value(tc->value_len);
	uint64_t n;

	gate_wait(&tc->gate);
	sfb_cpu_now(&w->cpu);
	for (n = 0; n < tc->quota[0] && !stopped(&tc->gate); n++) {
		stamp(val, tc->value_len, n);
		sock_send(tc->sock[0], val, tc->value_len, tc->label);
	}
	shutdown(tc->sock[0], SHUT_WR);
	sfb_cpu_since(&w->cpu);
	w->records = n;
	free(val);
}

static void sock_consumer(void *arg)
{
	struct tp_worker *w = arg;
	struct tp_case *tc = w->tc;
	uint8_t *buf = xmalloc(tc->value_len);
	uint64_t seq;

	gate_wait(&tc->gate);
	sfb_cpu_now(&w->cpu);
	while (sock_recv(tc->sock[1], buf, tc->value_len, tc->label)) {
		if (check_value(buf, (int32_t)tc->value_len, tc->value_len,
				&seq) ||
		    (tc->value_len >= 8 && seq != w->records))
			fail("%s: message %" PRIu64 " corrupt or out of order",
			     tc->label, w->records);
		w->records++;
	}
	w->t_end = sfb_now_ns();
	sfb_cpu_since(&w->cpu);
	free(buf);
}

/* ---- results ------------------------------------------------------------------- */

#define NPCT 7
static const double pcts[NPCT] = { 0, 50, 90, 99, 99.9, 99.99, 100 };
static const char *const pct_names[NPCT] = { "min",   "p50",	"p90", "p99",
					     "p99.9", "p99.99", "max" };

struct tp_result {
	char label[16]; /* "1->1", "2->1", "1->2", "socket" */
	int producers, readers;
	uint64_t value_len, frame_len;
	uint64_t records; /* per reader */
	double secs;
	double drain; /* from the stop flag to the last reader done */
	struct sfb_cpu_time cpu; /* all workers */
	struct sfshm_ring_stats pst; /* producers' statistics, summed */
	struct sfshm_ring_stats rst; /* readers' */
};

struct lat_result {
	char label[24]; /* "ring spin", "ring futex", "socket ..." */
	uint64_t value_len, count, warmup;
	uint64_t pct[NPCT]; /* ns */
	double mean_ns;
	double secs;
	struct sfb_cpu_time cpu; /* both sides, measured round trips */
	struct sfshm_ring_stats st; /* both sides, warm-up included */
};

struct report {
	const struct opts *o;
	double clock_ns; /* cost of one sfb_now_ns() */
	struct tp_result tp[3 * MAX_SIZES];
	int ntp;
	struct tp_result base[MAX_SIZES];
	int nbase;
	struct lat_result lat[3];
	int nlat;
};

static double msgs_per_s(const struct tp_result *t)
{
	return (double)t->records / t->secs;
}

static double cpu_ns_per(const struct sfb_cpu_time *c, uint64_t n)
{
	return n ? (double)(c->user_ns + c->sys_ns) / (double)n : 0;
}

static double sys_share(const struct sfb_cpu_time *c)
{
	uint64_t total = c->user_ns + c->sys_ns;

	return total ? (double)c->sys_ns / (double)total : 0;
}

static void stats_add(struct sfshm_ring_stats *sum,
		      const struct sfshm_ring_stats *s)
{
	sum->records += s->records;
	sum->bytes += s->bytes;
	sum->pad_frames += s->pad_frames;
	sum->pad_bytes += s->pad_bytes;
	sum->spins += s->spins;
	sum->sleeps += s->sleeps;
	sum->wakes += s->wakes;
	sum->full += s->full;
	sum->revoked += s->revoked;
}

/* Sum up a finished case; every reader must have had every record. */
static void tp_collect(const struct tp_case *tc, struct tp_result *res)
{
	uint64_t sent = 0, end = 0;

	for (int i = 0; i < tc->producers; i++) {
		sent += tc->prod[i].records;
		cpu_add(&res->cpu, &tc->prod[i].cpu);
		stats_add(&res->pst, &tc->prod[i].st);
	}
	for (int i = 0; i < tc->readers; i++) {
		const struct tp_worker *w = &tc->rd[i];

		if (w->records != sent)
			fail("%s: reader %d got %" PRIu64 " of %" PRIu64
			     " records",
			     tc->label, i, w->records, sent);
		end = w->t_end > end ? w->t_end : end;
		cpu_add(&res->cpu, &w->cpu);
		stats_add(&res->rst, &w->st);
	}
	res->records = sent;
	res->secs = (double)(end - tc->gate.t0) / NS;
	if (tc->gate.t_stop)
		res->drain = (double)(end - tc->gate.t_stop) / NS;
}

/* ---- throughput: the cases ------------------------------------------------------ */

static struct tp_case *tp_case_new(const struct opts *o, const char *label,
				   int np, int nr, uint64_t vlen)
{
	struct tp_case *tc = shm_zalloc(sizeof(*tc));

	snprintf(tc->label, sizeof(tc->label), "%s %" PRIu64 " B", label, vlen);
	tc->value_len = (uint32_t)vlen;
	tc->producers = np;
	tc->readers = nr;
	tc->zero_copy = o->zero_copy;
	tc->batch = o->batch;
	tc->wait = o->wait;
	tc->clean_step = o->clean_step;
	for (int i = 0; i < np; i++) {
		uint64_t share = o->count / (uint64_t)np +
				 ((uint64_t)i < o->count % (uint64_t)np);

		tc->quota[i] = o->count ? share : UINT64_MAX;
		tc->prod[i] = (struct tp_worker){ .tc = tc, .idx = i };
	}
	for (int i = 0; i < nr; i++)
		tc->rd[i] = (struct tp_worker){ .tc = tc, .idx = i };
	return tc;
}

/*
 * Workers in pinning order: producer 0, reader 0 (so that --cpu A,B puts
 * the first producer on A and the owner on B), then the others.
 */
static int tp_tasks(struct tp_case *tc, struct task *t, void (*prod)(void *),
		    void (*rd)(void *))
{
	int n = 0;

	t[n++] = (struct task){ .fn = prod, .arg = &tc->prod[0] };
	t[n++] = (struct task){ .fn = rd, .arg = &tc->rd[0] };
	for (int i = 1; i < tc->producers; i++)
		t[n++] = (struct task){ .fn = prod, .arg = &tc->prod[i] };
	for (int i = 1; i < tc->readers; i++)
		t[n++] = (struct task){ .fn = rd, .arg = &tc->rd[i] };
	return n;
}

static int tp_run(const struct opts *o, struct tp_case *tc, bool sock,
		  struct tp_result *res)
{
	struct task t[2 * MAX_SIDE];
	int n, rc;

	n = sock ? tp_tasks(tc, t, sock_producer, sock_consumer) :
		   tp_tasks(tc, t, tp_producer, tp_reader);
	rc = run_tasks(o, &tc->gate, t, n, o->count ? 0 : o->duration);
	if (!rc)
		tp_collect(tc, res);
	return rc;
}

static int tp_ring_case(const struct opts *o, const char *label, int np, int nr,
			uint64_t vlen, struct tp_result *res)
{
	struct tp_case *tc = tp_case_new(o, label, np, nr, vlen);
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%d->%d", np, nr);
	res->producers = np;
	res->readers = nr;
	res->value_len = vlen;
	res->frame_len = frame_bytes(vlen);
	create_ring(o->ring_size, &tc->ring_fd, &tc->ctl_fd);
	rc = tp_run(o, tc, false, res);
	close(tc->ring_fd);
	close(tc->ctl_fd);
	munmap(tc, sizeof(*tc));
	return rc;
}

static int tp_sock_case(const struct opts *o, uint64_t vlen,
			struct tp_result *res)
{
	struct tp_case *tc = tp_case_new(o, "socket", 1, 1, vlen);
	int rc;

	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "socket");
	res->producers = res->readers = 1;
	res->value_len = vlen;
	res->frame_len = vlen;
	make_socks(o->sock_type, vlen, tc->sock);
	rc = tp_run(o, tc, true, res);
	close_socks(tc->sock);
	munmap(tc, sizeof(*tc));
	return rc;
}

/* ---- latency -------------------------------------------------------------------- */

/* A ping-pong run (shared memory). */
struct pp_case {
	struct gate gate;
	char label[24];
	int fd[2][2]; /* [ping ring, pong ring][ring fd, ctl fd] */
	int sock[2]; /* or the socket pair; -1 for rings */
	enum sfshm_wait_mode mode;
	uint32_t value_len;
	uint64_t clean_step;
	uint64_t warmup, count;
	uint64_t budget_ns; /* --rtt-max-time, 0: none */
	uint64_t *samples; /* @count round trips, ns (shared memory) */
	uint64_t done; /* round trips measured */
	uint64_t t_begin, t_end; /* the measured round trips */
	struct sfb_cpu_time cpu[2]; /* ping, pong */
	struct sfshm_ring_stats st[2][2]; /* [side][tx, rx] */
};

/* One side: ping (0) sends on ring 0 and reads ring 1; pong the reverse. */
struct pp_end {
	struct pp_case *pc;
	int side;
	struct sfshm_ring *tx, *rx; /* NULL over sockets */
	int fd; /* -1 over rings */
	struct sfshm_rec rec;
	uint8_t *val, *buf;
	size_t buflen;
	uint64_t clean_step, clean_mark;
};

static void pp_open(struct pp_end *e, struct pp_case *pc, int side)
{
	int(*fd)[2] = pc->fd;

	memset(e, 0, sizeof(*e));
	e->pc = pc;
	e->side = side;
	e->fd = pc->sock[0] < 0 ? -1 : pc->sock[side];
	e->val = make_value(pc->value_len);
	e->rec = (struct sfshm_rec){ .key_len = -1,
				     .value = e->val,
				     .value_len = (int32_t)pc->value_len,
				     .timestamp = 1 };
	if (e->fd >= 0) {
		e->buflen = pc->value_len;
		e->buf = xmalloc(e->buflen);
		return;
	}
	open_ring(fd[side][0], fd[side][1], SFSHM_ROLE_PRODUCER, &e->tx,
		  pc->label);
	/* The reader of each ring is its owner and erases behind itself. */
	open_ring(fd[!side][0], fd[!side][1], SFSHM_ROLE_OWNER, &e->rx,
		  pc->label);
	sfshm_ring_set_wait(e->rx, pc->mode, 0);
	e->buflen = sfshm_ring_max_frame(e->rx);
	e->buf = xmalloc(e->buflen);
	e->clean_step = pc->clean_step;
}

static void pp_close(struct pp_end *e)
{
	if (e->tx) {
		sfshm_ring_stats(e->tx, &e->pc->st[e->side][0]);
		sfshm_ring_stats(e->rx, &e->pc->st[e->side][1]);
	}
	sfshm_ring_unmap(e->tx);
	sfshm_ring_unmap(e->rx);
	free(e->val);
	free(e->buf);
}

static void pp_send(struct pp_end *e, uint64_t seq)
{
	int err;

	stamp(e->val, e->pc->value_len, seq);
	if (e->fd >= 0) {
		sock_send(e->fd, e->val, e->pc->value_len, e->pc->label);
		return;
	}
	err = sfshm_ring_send(e->tx, &e->rec, -1, NULL);
	if (err)
		fail("%s: send: %s", e->pc->label, sfshm_strerror(err));
}

/*
 * Read the next ring record into e->buf.  Return: false for the stop
 * marker (the only record with a key), else true with @v and @len set.
 */
static bool pp_read(struct pp_end *e, const uint8_t **v, int32_t *len)
{
	struct sfshm_msg m;
	int err;

	while ((err = sfshm_ring_read(e->rx, &m, e->buf, e->buflen)) ==
	       -EAGAIN) {
		err = sfshm_ring_wait(e->rx, WATCHDOG_S * 1000);
		if (err == -ETIMEDOUT)
			fail("%s: %s: nothing arrived for %d s (a lost record "
			     "or a lost wake-up)",
			     e->pc->label, e->side ? "pong" : "ping",
			     WATCHDOG_S);
	}
	if (err)
		fail("%s: read: %s", e->pc->label, sfshm_strerror(err));
	*v = m.value;
	*len = m.value_len;
	return m.key_len < 0;
}

/*
 * Receive and check the next message and its sequence word.
 * Return: false when the peer said stop.
 */
static bool pp_recv(struct pp_end *e, uint64_t *seq)
{
	const uint8_t *v = e->buf;
	int32_t len = (int32_t)e->pc->value_len;

	if (e->fd >= 0) {
		if (!sock_recv(e->fd, e->buf, e->buflen, e->pc->label))
			return false;
	} else if (!pp_read(e, &v, &len)) {
		return false;
	}
	if (check_value(v, len, e->pc->value_len, seq))
		fail("%s: %s: corrupt message (%d B)", e->pc->label,
		     e->side ? "pong" : "ping", len);
	return true;
}

/* Ping tells pong to stop: a keyed record, or the end of the stream. */
static void pp_stop(struct pp_end *e)
{
	struct sfshm_rec rec = { .key = MARKER_KEY,
				 .key_len = (int32_t)strlen(MARKER_KEY),
				 .value_len = -1,
				 .timestamp = 1 };
	int err;

	if (e->fd >= 0) {
		shutdown(e->fd, SHUT_WR);
		return;
	}
	err = sfshm_ring_send(e->tx, &rec, -1, NULL);
	if (err)
		fail("%s: stop: %s", e->pc->label, sfshm_strerror(err));
}

/* Erase the ring we read every --clean-step bytes, off the timed path. */
static void pp_clean(struct pp_end *e)
{
	uint64_t pos;
	int err;

	if (!e->rx)
		return;
	pos = sfshm_ring_position(e->rx);
	if (pos - e->clean_mark < e->clean_step)
		return;
	err = sfshm_ring_clean(e->rx, pos);
	if (err == -EBUSY)
		return; /* a claim in flight held it back: retry next time */
	if (err)
		fail("%s: sfshm_ring_clean: %s", e->pc->label,
		     sfshm_strerror(err));
	e->clean_mark = pos;
}

static void pp_expect(struct pp_end *e, uint64_t got, uint64_t want)
{
	if (e->pc->value_len >= 8 && got != want)
		fail("%s: %s got #%" PRIu64 ", expected #%" PRIu64,
		     e->pc->label, e->side ? "pong" : "ping", got, want);
}

/*
 * One timed round trip.  Return: false when the run is over its time
 * budget (counted from the start, warm-up included; but at least
 * MIN_SAMPLES round trips are measured).
 */
static bool pp_round(struct pp_end *e, uint64_t i)
{
	struct pp_case *pc = e->pc;
	uint64_t t0, got, t1;

	t0 = sfb_now_ns();
	pp_send(e, i);
	if (!pp_recv(e, &got))
		fail("%s: ping: pong stopped", pc->label);
	t1 = sfb_now_ns();
	pp_expect(e, got, i);
	if (i < pc->warmup)
		return true;
	pc->samples[pc->done++] = t1 - t0;
	return !pc->budget_ns || pc->done < MIN_SAMPLES ||
	       t1 - pc->gate.t0 < pc->budget_ns;
}

static void pp_ping(void *arg)
{
	struct pp_case *pc = arg;
	uint64_t total = pc->warmup + pc->count;
	struct pp_end e;

	pp_open(&e, pc, 0);
	gate_wait(&pc->gate);
	for (uint64_t i = 0; i < total; i++) {
		if (i == pc->warmup) {
			sfb_cpu_now(&pc->cpu[0]);
			pc->t_begin = sfb_now_ns();
		}
		if (!pp_round(&e, i))
			break;
		pp_clean(&e);
	}
	pc->t_end = sfb_now_ns();
	sfb_cpu_since(&pc->cpu[0]);
	pp_stop(&e);
	pp_close(&e);
}

/* Pong answers every message with its sequence word until told to stop. */
static void pp_pong(void *arg)
{
	struct pp_case *pc = arg;
	struct pp_end e;
	uint64_t got;

	pp_open(&e, pc, 1);
	gate_wait(&pc->gate);
	for (uint64_t i = 0; pp_recv(&e, &got); i++) {
		if (i == pc->warmup)
			sfb_cpu_now(&pc->cpu[1]);
		pp_expect(&e, got, i);
		pp_send(&e, got);
		pp_clean(&e);
	}
	sfb_cpu_since(&pc->cpu[1]);
	pp_close(&e);
}

static struct pp_case *pp_case_new(const struct opts *o, const char *label)
{
	struct pp_case *pc = shm_zalloc(sizeof(*pc));

	snprintf(pc->label, sizeof(pc->label), "%s", label);
	pc->value_len = (uint32_t)o->lat_size;
	pc->clean_step = o->clean_step;
	pc->warmup = o->warmup;
	pc->count = o->rtt_count;
	pc->budget_ns = (uint64_t)(o->rtt_max_time * NS);
	pc->samples = shm_zalloc(o->rtt_count * sizeof(uint64_t));
	pc->sock[0] = pc->sock[1] = -1;
	return pc;
}

/* Percentiles and totals of a finished run. */
static void pp_collect(struct pp_case *pc, struct lat_result *res)
{
	memset(res, 0, sizeof(*res));
	snprintf(res->label, sizeof(res->label), "%s", pc->label);
	res->value_len = pc->value_len;
	res->count = pc->done;
	res->warmup = pc->warmup;
	res->mean_ns = sfb_mean(pc->samples, pc->done);
	sfb_percentiles(pc->samples, pc->done, pcts, NPCT, res->pct);
	res->secs = (double)(pc->t_end - pc->t_begin) / NS;
	for (int s = 0; s < 2; s++) {
		cpu_add(&res->cpu, &pc->cpu[s]);
		stats_add(&res->st, &pc->st[s][0]);
		stats_add(&res->st, &pc->st[s][1]);
	}
}

static int pp_run(const struct opts *o, struct pp_case *pc,
		  struct lat_result *res)
{
	struct task t[2] = {
		{ .fn = pp_ping, .arg = pc },
		{ .fn = pp_pong, .arg = pc },
	};
	int rc = run_tasks(o, &pc->gate, t, 2, 0);

	if (!rc)
		pp_collect(pc, res);
	munmap(pc->samples, pc->count * sizeof(uint64_t));
	munmap(pc, sizeof(*pc));
	return rc;
}

static int lat_ring(const struct opts *o, enum sfshm_wait_mode mode,
		    struct lat_result *res)
{
	struct pp_case *pc;
	int fds[4], rc;

	pc = pp_case_new(o,
			 mode == SFSHM_WAIT_SPIN ? "ring spin" : "ring futex");
	pc->mode = mode;
	for (int i = 0; i < 2; i++) {
		create_ring(o->ring_size, &pc->fd[i][0], &pc->fd[i][1]);
		fds[2 * i] = pc->fd[i][0];
		fds[2 * i + 1] = pc->fd[i][1];
	}
	rc = pp_run(o, pc, res);
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	return rc;
}

static const char *sock_name(int type)
{
	return type == SOCK_STREAM ? "stream" : "seqpacket";
}

static int lat_sock(const struct opts *o, struct lat_result *res)
{
	char label[24];
	struct pp_case *pc;
	int sv[2], rc;

	snprintf(label, sizeof(label), "socket %s", sock_name(o->sock_type));
	pc = pp_case_new(o, label);
	make_socks(o->sock_type, o->lat_size, sv);
	pc->sock[0] = sv[0];
	pc->sock[1] = sv[1];
	rc = pp_run(o, pc, res);
	close_socks(sv);
	return rc;
}

/* The cost of one clock read, which every sample includes (twice half). */
static double clock_cost_ns(void)
{
	const int n = 1000000;
	uint64_t t0 = sfb_now_ns();

	for (int i = 0; i < n; i++)
		sfb_now_ns();
	return (double)(sfb_now_ns() - t0) / n;
}

/* ---- human output ------------------------------------------------------------------ */

static const char *wait_name(enum sfshm_wait_mode m)
{
	return m == SFSHM_WAIT_SPIN  ? "spin" :
	       m == SFSHM_WAIT_FUTEX ? "futex" :
				       "hybrid";
}

static void print_intro(const struct opts *o)
{
	sfb_machine_print(stdout);
	printf("workers: %s, %s; readers check lengths, counts, sequence "
	       "numbers and %s\n",
	       o->processes ? "processes" : "threads",
	       o->ncpus ? "pinned by --cpu" : "not pinned",
	       o->verify ? "every value byte" : "last bytes");
	if (o->ncpus) {
		printf("cpus:");
		for (int i = 0; i < o->ncpus; i++)
			printf(" %d", o->cpus[i]);
		printf(" (producer/ping, reader/pong, then the others)\n");
	}
	fflush(stdout);
}
/* How producers send and readers read. */
static const char *tp_api(const struct opts *o, char *buf, size_t len)
{
	if (o->zero_copy)
		return "claim/commit + peek/consume (--zero-copy)";
	if (o->batch == 1)
		return "sfshm_ring_send + sfshm_ring_read (copies)";
	snprintf(buf, len,
		 "sfshm_ring_send_batch of %d + sfshm_ring_read "
		 "(copies)",
		 o->batch);
	return buf;
}

static void tp_header(const struct opts *o)
{
	char rs[32], cs[32], api[80];

	printf("\nThroughput: ring %s cleaned every %s, %s, readers wait %s, ",
	       sfb_human_bytes(o->ring_size, rs, sizeof(rs)),
	       sfb_human_bytes(o->clean_step, cs, sizeof(cs)),
	       tp_api(o, api, sizeof(api)), wait_name(o->wait));
	if (o->count)
		printf("%" PRIu64 " records per case\n", o->count);
	else
		printf("%.2f s per case\n", o->duration);
	printf("%-5s %8s %11s %7s %9s %12s %11s %11s %6s %8s %8s %8s\n", "case",
	       "value B", "records", "time s", "Mmsg/s", "payload MB/s",
	       "frame MB/s", "cpu ns/msg", "sys %", "full", "sleeps", "wakes");
}

static void tp_row(const struct tp_result *t)
{
	double rate = msgs_per_s(t);

	printf("%-5s %8" PRIu64 " %11" PRIu64 " %7.3f %9.3f %12.1f %11.1f "
	       "%11.1f %6.1f %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "\n",
	       t->label, t->value_len, t->records, t->secs, rate / 1e6,
	       rate * (double)t->value_len / MB,
	       rate * (double)t->frame_len / MB,
	       cpu_ns_per(&t->cpu, t->records * (uint64_t)t->readers),
	       100 * sys_share(&t->cpu), t->pst.full, t->rst.sleeps,
	       t->pst.wakes);
	fflush(stdout);
}

/* Readers that needed long to catch up after the stop: say so. */
static void tp_slow_drains(const struct report *rep)
{
	for (int i = 0; i < rep->ntp; i++) {
		const struct tp_result *t = &rep->tp[i];

		if (t->drain > rep->o->duration / 4)
			printf("  %s %" PRIu64
			       " B: readers took %.2f s to catch "
			       "up after the producers stopped\n",
			       t->label, t->value_len, t->drain);
	}
}

static void tp_footer(const struct opts *o)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	printf("  Mmsg/s and MB/s are per reader: in 1->%d every reader reads "
	       "every record.\n",
	       o->readers);
	printf("  MB = 10^6 B; payload = value bytes; frame = ring bytes "
	       "(32 B header + value, 8-aligned).\n"
	       "  cpu ns/msg: user+sys CPU time of all workers per record "
	       "read; full: producer\n  found the ring full; sleeps: reader "
	       "futex sleeps; wakes: futex wakes by producers.\n");
	if (o->producers + 1 > cpus || o->readers + 1 > cpus)
		printf("  Note: %ld CPUs; with more workers than CPUs the "
		       "N->1 and 1->N cases are\n  oversubscribed and "
		       "measure scheduling as much as the ring.\n",
		       cpus);
}

/* Ring 1->1 throughput with the same value size, if it was measured. */
static const struct tp_result *ring_1to1(const struct report *rep,
					 uint64_t vlen)
{
	for (int i = 0; i < rep->ntp; i++)
		if (rep->tp[i].producers == 1 && rep->tp[i].readers == 1 &&
		    rep->tp[i].value_len == vlen)
			return &rep->tp[i];
	return NULL;
}

static void base_header(const struct opts *o)
{
	printf("\nThroughput baseline: socketpair(AF_UNIX, SOCK_%s) 1->1, one "
	       "send() and one recv() per message\n",
	       o->sock_type == SOCK_STREAM ? "STREAM" : "SEQPACKET");
	printf("%8s %11s %7s %9s %12s %11s %6s %13s\n", "value B", "records",
	       "time s", "Mmsg/s", "payload MB/s", "cpu ns/msg", "sys %",
	       "ring/socket");
}

static void base_row(const struct report *rep, const struct tp_result *t)
{
	const struct tp_result *ring = ring_1to1(rep, t->value_len);
	double rate = msgs_per_s(t);

	printf("%8" PRIu64 " %11" PRIu64 " %7.3f %9.3f %12.1f %11.1f %6.1f",
	       t->value_len, t->records, t->secs, rate / 1e6,
	       rate * (double)t->value_len / MB,
	       cpu_ns_per(&t->cpu, t->records), 100 * sys_share(&t->cpu));
	if (ring)
		printf(" %12.2fx\n", msgs_per_s(ring) / rate);
	else
		printf(" %13s\n", "-");
	fflush(stdout);
}

static void lat_header(const struct report *rep)
{
	const struct opts *o = rep->o;

	printf("\nLatency: round trip ping -> pong -> ping, %" PRIu64
	       " B values,"
	       " %" PRIu64 " round trips after %" PRIu64 " warm-up; us\n",
	       o->lat_size, o->rtt_count, o->warmup);
	printf("%-17s", "transport");
	for (int i = 0; i < NPCT; i++)
		printf(" %8s", pct_names[i]);
	printf(" %8s %10s %6s %8s\n", "mean", "cpu us/rt", "sys %", "rtts");
}

static void lat_row(const struct lat_result *l)
{
	printf("%-17s", l->label);
	for (int i = 0; i < NPCT; i++)
		printf(" %8.3f", (double)l->pct[i] / 1000);
	printf(" %8.3f %10.3f %6.1f %8" PRIu64 "\n", l->mean_ns / 1000,
	       cpu_ns_per(&l->cpu, l->count) / 1000, 100 * sys_share(&l->cpu),
	       l->count);
	fflush(stdout);
}

static void lat_footer(const struct report *rep)
{
	printf("  Each sample includes one clock read (%.1f ns, "
	       "CLOCK_MONOTONIC).  cpu us/rt: both sides'\n  user+sys CPU per "
	       "round trip; rtts: round trips measured.\n",
	       rep->clock_ns);
	for (int i = 0; i < rep->nlat; i++) {
		const struct lat_result *l = &rep->lat[i];
		double n = (double)(l->count + l->warmup);

		if (l->count < rep->o->rtt_count)
			printf("  %s: stopped by --rtt-max-time (%g s) with "
			       "%" PRIu64 " of %" PRIu64 " round trips\n",
			       l->label, rep->o->rtt_max_time, l->count,
			       rep->o->rtt_count);
		if (strncmp(l->label, "ring", 4))
			continue;
		printf("  %s: %.2f futex sleeps and %.2f futex wakes per "
		       "round trip\n",
		       l->label, (double)l->st.sleeps / n,
		       (double)l->st.wakes / n);
	}
}

static const struct lat_result *find_lat(const struct report *rep,
					 const char *prefix)
{
	for (int i = 0; i < rep->nlat; i++)
		if (!strncmp(rep->lat[i].label, prefix, strlen(prefix)))
			return &rep->lat[i];
	return NULL;
}

/* p50 and p99 of the rings over the socket's (below 1: ring faster). */
static void ratio_table(const struct report *rep)
{
	const struct lat_result *s = find_lat(rep, "socket");

	if (!s || !find_lat(rep, "ring"))
		return;
	printf("\nLatency ratio ring / socket (below 1: the ring is faster)\n");
	printf("%-17s %9s %9s %16s %16s\n", "transport", "p50", "p99",
	       "socket/ring p50", "socket/ring p99");
	for (int i = 0; i < rep->nlat; i++) {
		const struct lat_result *l = &rep->lat[i];

		if (l == s)
			continue;
		printf("%-17s %9.3g %9.3g %15.1fx %15.1fx\n", l->label,
		       (double)l->pct[1] / (double)s->pct[1],
		       (double)l->pct[3] / (double)s->pct[3],
		       (double)s->pct[1] / (double)l->pct[1],
		       (double)s->pct[3] / (double)l->pct[3]);
	}
}

/* ---- JSON output ---------------------------------------------------------------------- */

static void json_stats(const char *key, const struct sfshm_ring_stats *s)
{
	sfb_json_object(key);
	sfb_json_u64("records", s->records);
	sfb_json_u64("bytes", s->bytes);
	sfb_json_u64("pad_frames", s->pad_frames);
	sfb_json_u64("pad_bytes", s->pad_bytes);
	sfb_json_u64("spins", s->spins);
	sfb_json_u64("sleeps", s->sleeps);
	sfb_json_u64("wakes", s->wakes);
	sfb_json_u64("full", s->full);
	sfb_json_u64("revoked", s->revoked);
	sfb_json_close();
}

static void json_cpu(const struct sfb_cpu_time *c, uint64_t n, const char *key)
{
	sfb_json_num(key, cpu_ns_per(c, n));
	sfb_json_num("sys_fraction", sys_share(c));
}

static void json_config(const struct opts *o)
{
	sfb_json_object("config");
	sfb_json_u64("ring_size", o->ring_size);
	sfb_json_u64("clean_step", o->clean_step);
	sfb_json_array("sizes");
	for (int i = 0; i < o->nsizes; i++)
		sfb_json_u64(NULL, o->sizes[i]);
	sfb_json_close();
	if (o->count)
		sfb_json_u64("count", o->count);
	else
		sfb_json_num("duration_s", o->duration);
	sfb_json_u64("producers", (uint64_t)o->producers);
	sfb_json_u64("readers", (uint64_t)o->readers);
	sfb_json_bool("zero_copy", o->zero_copy);
	sfb_json_u64("batch", (uint64_t)o->batch);
	sfb_json_str("wait", wait_name(o->wait));
	sfb_json_str("workers", o->processes ? "processes" : "threads");
	sfb_json_u64("lat_size", o->lat_size);
	sfb_json_u64("rtt_count", o->rtt_count);
	sfb_json_u64("warmup", o->warmup);
	sfb_json_num("rtt_max_time_s", o->rtt_max_time);
	sfb_json_str("socket", sock_name(o->sock_type));
	sfb_json_array("cpus");
	for (int i = 0; i < o->ncpus; i++)
		sfb_json_u64(NULL, (uint64_t)o->cpus[i]);
	sfb_json_close();
	sfb_json_bool("quick", o->quick);
	sfb_json_bool("verify", o->verify);
	sfb_json_close();
}

/* A throughput result; @ring: the ring 1->1 result a baseline compares to. */
static void json_tp(const struct tp_result *t, const struct tp_result *ring,
		    bool baseline)
{
	double rate = msgs_per_s(t);

	sfb_json_object(NULL);
	sfb_json_str("case", t->label);
	sfb_json_u64("producers", (uint64_t)t->producers);
	sfb_json_u64("readers", (uint64_t)t->readers);
	sfb_json_u64("value_bytes", t->value_len);
	sfb_json_u64("frame_bytes", t->frame_len);
	sfb_json_u64("records", t->records);
	sfb_json_num("seconds", t->secs);
	sfb_json_num("drain_s", t->drain);
	sfb_json_num("msgs_per_s", rate);
	sfb_json_num("deliveries_per_s", rate * t->readers);
	sfb_json_num("payload_mb_per_s", rate * (double)t->value_len / MB);
	sfb_json_num("frame_mb_per_s", rate * (double)t->frame_len / MB);
	json_cpu(&t->cpu, t->records * (uint64_t)t->readers, "cpu_ns_per_msg");
	if (ring)
		sfb_json_num("ring_over_socket", msgs_per_s(ring) / rate);
	if (!baseline) {
		json_stats("producer_stats", &t->pst);
		json_stats("reader_stats", &t->rst);
	}
	sfb_json_close();
}

static void json_lat(const struct lat_result *l, const struct lat_result *s)
{
	char key[24];

	sfb_json_object(NULL);
	sfb_json_str("transport", l->label);
	sfb_json_u64("value_bytes", l->value_len);
	sfb_json_u64("round_trips", l->count);
	sfb_json_u64("warmup", l->warmup);
	for (int i = 0; i < NPCT; i++) {
		snprintf(key, sizeof(key), "%s_us", pct_names[i]);
		sfb_json_num(key, (double)l->pct[i] / 1000);
	}
	sfb_json_num("mean_us", l->mean_ns / 1000);
	sfb_json_num("seconds", l->secs);
	json_cpu(&l->cpu, l->count, "cpu_ns_per_rtt");
	json_stats("ring_stats", &l->st);
	if (s && s != l) {
		sfb_json_num("p50_over_socket", (double)l->pct[1] / s->pct[1]);
		sfb_json_num("p99_over_socket", (double)l->pct[3] / s->pct[3]);
	}
	sfb_json_close();
}

static void print_json(const struct report *rep)
{
	const struct lat_result *s = find_lat(rep, "socket");

	sfb_json_begin(stdout);
	sfb_json_str("tool", "sfbench");
	sfb_json_str("command", CMD);
	sfb_machine_json();
	json_config(rep->o);
	sfb_json_num("clock_read_ns", rep->clock_ns);
	sfb_json_array("throughput");
	for (int i = 0; i < rep->ntp; i++)
		json_tp(&rep->tp[i], NULL, false);
	sfb_json_close();
	sfb_json_array("throughput_baseline");
	for (int i = 0; i < rep->nbase; i++)
		json_tp(&rep->base[i], ring_1to1(rep, rep->base[i].value_len),
			true);
	sfb_json_close();
	sfb_json_array("latency");
	for (int i = 0; i < rep->nlat; i++)
		json_lat(&rep->lat[i], s);
	sfb_json_close();
	sfb_json_end();
}

/* ---- the parts ------------------------------------------------------------------------ */

static int run_tp_pattern(struct report *rep, int np, int nr)
{
	const struct opts *o = rep->o;

	for (int i = 0; i < o->nsizes; i++) {
		struct tp_result *t = &rep->tp[rep->ntp];
		char label[16];
		int rc;

		snprintf(label, sizeof(label), "%d->%d", np, nr);
		rc = tp_ring_case(o, label, np, nr, o->sizes[i], t);
		if (rc)
			return rc;
		rep->ntp++;
		if (!o->json)
			tp_row(t);
	}
	return 0;
}

static int run_throughput(struct report *rep)
{
	const struct opts *o = rep->o;
	int rc;

	if (!o->json)
		tp_header(o);
	rc = run_tp_pattern(rep, 1, 1);
	if (!rc)
		rc = run_tp_pattern(rep, o->producers, 1);
	if (!rc)
		rc = run_tp_pattern(rep, 1, o->readers);
	if (!rc && !o->json) {
		tp_footer(o);
		tp_slow_drains(rep);
	}
	return rc;
}

static int run_base_tp(struct report *rep)
{
	const struct opts *o = rep->o;

	if (!o->json)
		base_header(o);
	for (int i = 0; i < o->nsizes; i++) {
		struct tp_result *t = &rep->base[rep->nbase];
		int rc = tp_sock_case(o, o->sizes[i], t);

		if (rc)
			return rc;
		rep->nbase++;
		if (!o->json)
			base_row(rep, t);
	}
	return 0;
}

static int run_latency(struct report *rep)
{
	const struct opts *o = rep->o;
	static const enum sfshm_wait_mode modes[] = { SFSHM_WAIT_SPIN,
						      SFSHM_WAIT_FUTEX };
	int rc = 0;

	rep->clock_ns = clock_cost_ns();
	if (!o->json)
		lat_header(rep);
	for (int i = 0; i < 2 && !rc && (o->parts & PART_LAT); i++) {
		rc = lat_ring(o, modes[i], &rep->lat[rep->nlat]);
		if (!rc && !o->json)
			lat_row(&rep->lat[rep->nlat]);
		rep->nlat += !rc;
	}
	if (!rc && (o->parts & PART_BASE)) {
		rc = lat_sock(o, &rep->lat[rep->nlat]);
		if (!rc && !o->json)
			lat_row(&rep->lat[rep->nlat]);
		rep->nlat += !rc;
	}
	if (!rc && !o->json)
		lat_footer(rep);
	return rc;
}

static int run_parts(struct report *rep)
{
	const struct opts *o = rep->o;
	int rc = 0;

	if (o->parts & PART_TP)
		rc = run_throughput(rep);
	if (!rc && (o->parts & PART_BASE))
		rc = run_base_tp(rep);
	if (!rc && (o->parts & (PART_LAT | PART_BASE)))
		rc = run_latency(rep);
	if (!rc && !o->json)
		ratio_table(rep);
	if (!rc && o->json)
		print_json(rep);
	return rc;
}

/* ---- options -------------------------------------------------------------------------- */

void sfbench_ring_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfbench ring - throughput and latency of the sfshm partition ring\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfbench ring [--quick] [--only PARTS] [--json] [options]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Measures in one run, on rings in memfds of this machine:\n"
	      "\n"
	      "    throughput  records per second through one ring: 1->1 (one producer,\n"
	      "                one reader), N->1 (--producers) and 1->N (--readers; each\n"
	      "                reader reads every record), for every --sizes value size.\n"
	      "                Producers use sfshm_ring_send() (blocking, explicit\n"
	      "                timestamp), readers sfshm_ring_read() (a copy out).  There\n"
	      "                is no daemon: reader 0 maps the ring as the owner and\n"
	      "                erases it behind the slowest reader every --clean-step\n"
	      "                bytes, so the cost of cleaning is included.\n"
	      "    latency     round trips between two workers over two rings (ping\n"
	      "                ring, pong ring), each ring's reader being its owner, in\n"
	      "                spin mode (SFSHM_WAIT_SPIN: readers busy-poll) and futex\n"
	      "                mode (SFSHM_WAIT_FUTEX: a reader sleeps at once, so every\n"
	      "                message costs a futex wake).  Exact percentiles over all\n"
	      "                samples (CLOCK_MONOTONIC, ns), warm-up excluded.\n"
	      "    baseline    the same over socketpair(AF_UNIX): ping-pong with the\n"
	      "                same size and count, and 1->1 streaming with one send()\n"
	      "                and one recv() per message; then ring/socket ratios.\n"
	      "\n"
	      "    Workers are threads (or processes, --processes), each with its own\n"
	      "    ring handle.  Every record carries a sequence number in the first 8\n"
	      "    bytes of its value and a known last byte; readers check them, the\n"
	      "    length and the counts, and the run fails with exit status 1 if a\n"
	      "    record is lost, duplicated, reordered or corrupt, or if no record\n"
	      "    arrives for 10 s.\n"
	      "\n"
	      "OPTIONS\n"
	      "    -s, --sizes LIST      value sizes in bytes, comma-separated, K/M\n"
	      "                          suffixes allowed (default 32,100,1024,65536)\n"
	      "    -d, --duration SEC    seconds per throughput case, e.g. 2, 0.5,\n"
	      "                          300ms (default 1; 0.2 with --quick)\n"
	      "    -n, --count N         records per throughput case instead of a\n"
	      "                          duration (split between producers)\n"
	      "        --ring-size BYTES ring data size, a power of two from 64K to 1G\n"
	      "                          (default 16M); a record's frame may take at\n"
	      "                          most an eighth of it\n"
	      "        --clean-step BYTES the owner erases what it has read every\n"
	      "                          this many bytes (default a quarter of the\n"
	      "                          ring, at most that)\n"
	      "    -p, --producers N     producers of the N->1 case (default 2)\n"
	      "    -r, --readers N       readers of the 1->N case (default 2)\n"
	      "        --batch N         producers send N records per call with\n"
	      "                          sfshm_ring_send_batch() (default 1:\n"
	      "                          sfshm_ring_send(); at most 1024)\n"
	      "        --zero-copy       producers use sfshm_ring_claim/commit and\n"
	      "                          write the value in place; readers use\n"
	      "                          sfshm_ring_peek/consume and look at the\n"
	      "                          sequence word and last byte only\n"
	      "        --wait MODE       how throughput readers wait: hybrid (spin\n"
	      "                          20 us, then sleep; the default), spin, futex\n"
	      "        --processes       fork() a process per worker instead of\n"
	      "                          starting a thread\n"
	      "        --lat-size BYTES  value size of the round trips (default 32)\n"
	      "        --rtt-count N     measured round trips per latency run (default\n"
	      "                          1000000; 100000 with --quick)\n"
	      "        --warmup N        unmeasured round trips first (default a tenth\n"
	      "                          of --rtt-count)\n"
	      "        --rtt-max-time SEC  end a latency run after SEC seconds, warm-up\n"
	      "                          included, even if fewer round trips were done\n"
	      "                          (at least 1000 are measured; default 60, 2\n"
	      "                          with --quick): on a busy machine a spinning\n"
	      "                          peer may wait for a time slice every time\n"
	      "        --sock TYPE       baseline socket type: seqpacket (default) or\n"
	      "                          stream\n"
	      "        --cpu LIST        pin workers to CPUs, e.g. 0,1: the first to\n"
	      "                          the producer / ping, the second to reader 0 /\n"
	      "                          pong, further workers round-robin\n"
	      "        --only PARTS      run only some of: throughput, latency,\n"
	      "                          baseline (comma-separated)\n"
	      "        --quick           a short run for smoke tests: 0.2 s per case,\n"
	      "                          100000 round trips (at most 2 s per run)\n"
	      "        --verify          readers compare every byte of every value\n"
	      "                          (default: the sequence word and last byte)\n"
	      "        --json            print one JSON document (machine, config,\n"
	      "                          every result) instead of the tables\n"
	      "    -h, --help            print this text and exit\n"
	      "\n"
	      "OUTPUT\n"
	      "    One table per part.  MB = 10^6 bytes, us = microseconds.  payload\n"
	      "    MB/s counts value bytes; frame MB/s counts ring bytes (32-byte\n"
	      "    header + value, rounded up to 8).  In 1->N, rates are per reader.\n"
	      "    cpu ns/msg is the user+system CPU time of all workers per record\n"
	      "    read (getrusage), sys % its kernel share; full counts the times a\n"
	      "    producer found the ring full, sleeps the readers' futex sleeps,\n"
	      "    wakes the futex wakes producers issued.  Ratios: ring/socket for\n"
	      "    latency (below 1 the ring is faster), ring 1->1 over socket for\n"
	      "    throughput.\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0 success; 1 run-time failure (a library call failed, a worker\n"
	      "    stalled, or a check failed: the message says which); 2 usage error.\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfbench ring --quick\n"
	      "    sfbench ring --only latency --cpu 0,1 --rtt-count 5000000\n"
	      "    sfbench ring --sizes 64,4K -p 4 -d 2 --json > ring.json\n",
	      f);
}

enum {
	OPT_RING_SIZE = 256,
	OPT_CLEAN_STEP,
	OPT_ZERO_COPY,
	OPT_BATCH,
	OPT_WAIT,
	OPT_PROCESSES,
	OPT_LAT_SIZE,
	OPT_RTT_COUNT,
	OPT_WARMUP,
	OPT_RTT_MAX_TIME,
	OPT_SOCK,
	OPT_CPU,
	OPT_ONLY,
	OPT_QUICK,
	OPT_JSON,
	OPT_VERIFY,
};

static const struct option long_opts[] = {
	{ "sizes", required_argument, NULL, 's' },
	{ "duration", required_argument, NULL, 'd' },
	{ "count", required_argument, NULL, 'n' },
	{ "producers", required_argument, NULL, 'p' },
	{ "readers", required_argument, NULL, 'r' },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "clean-step", required_argument, NULL, OPT_CLEAN_STEP },
	{ "zero-copy", no_argument, NULL, OPT_ZERO_COPY },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "wait", required_argument, NULL, OPT_WAIT },
	{ "processes", no_argument, NULL, OPT_PROCESSES },
	{ "lat-size", required_argument, NULL, OPT_LAT_SIZE },
	{ "rtt-count", required_argument, NULL, OPT_RTT_COUNT },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "rtt-max-time", required_argument, NULL, OPT_RTT_MAX_TIME },
	{ "sock", required_argument, NULL, OPT_SOCK },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verify", no_argument, NULL, OPT_VERIFY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int opt_int(const char *name, const char *arg, int min, int max,
		   int *out)
{
	uint64_t v;
	int rc =
		sfb_opt_count(CMD, name, arg, (uint64_t)min, (uint64_t)max, &v);

	*out = (int)v;
	return rc;
}

static int opt_sizes(struct opts *o, const char *arg)
{
	uint64_t v[MAX_SIZES];
	int n = sfb_parse_list(arg, true, v, MAX_SIZES);

	if (n == -E2BIG)
		return sfb_usage(CMD, "--sizes: at most %d sizes", MAX_SIZES);
	for (int i = 0; i < n; i++)
		if (!v[i] || v[i] > INT32_MAX)
			n = -EINVAL;
	if (n < 0)
		return sfb_usage(CMD,
				 "--sizes: '%s' is not a list of sizes "
				 "from 1 byte (e.g. 32,1K,64K)",
				 arg);
	memcpy(o->sizes, v, sizeof(v));
	o->nsizes = n;
	return 0;
}

static int opt_wait(struct opts *o, const char *arg)
{
	if (!strcmp(arg, "hybrid"))
		o->wait = SFSHM_WAIT_HYBRID;
	else if (!strcmp(arg, "spin"))
		o->wait = SFSHM_WAIT_SPIN;
	else if (!strcmp(arg, "futex"))
		o->wait = SFSHM_WAIT_FUTEX;
	else
		return sfb_usage(CMD,
				 "--wait: '%s' is not hybrid, spin or "
				 "futex",
				 arg);
	return 0;
}

static int opt_sock(struct opts *o, const char *arg)
{
	if (!strcmp(arg, "seqpacket"))
		o->sock_type = SOCK_SEQPACKET;
	else if (!strcmp(arg, "stream"))
		o->sock_type = SOCK_STREAM;
	else
		return sfb_usage(CMD, "--sock: '%s' is not seqpacket or stream",
				 arg);
	return 0;
}

/* Options that take no value, or an enum. */
static int opt_only(struct opts *o, const char *arg)
{
	static const char *const names[] = { "throughput", "latency",
					     "baseline" };

	return sfb_opt_only(CMD, arg, names, 3, &o->parts);
}

static int apply_flag(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_ZERO_COPY:
		o->zero_copy = true;
		return 0;
	case OPT_PROCESSES:
		o->processes = true;
		return 0;
	case OPT_QUICK:
		o->quick = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_VERIFY:
		o->verify = true;
		return 0;
	case OPT_WAIT:
		return opt_wait(o, arg);
	case OPT_SOCK:
		return opt_sock(o, arg);
	case OPT_ONLY:
		return opt_only(o, arg);
	case OPT_CPU:
		return sfb_opt_cpus(CMD, arg, o->cpus, MAX_CPUS, &o->ncpus);
	}
	return sfb_usage(CMD, "unknown option");
}

static int apply_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case 's':
		return opt_sizes(o, arg);
	case 'd':
		return sfb_opt_seconds(CMD, "--duration", arg, &o->duration);
	case 'n':
		return sfb_opt_count(CMD, "--count", arg, 1, SEQ_MASK,
				     &o->count);
	case 'p':
		return opt_int("--producers", arg, 1, MAX_SIDE, &o->producers);
	case 'r':
		return opt_int("--readers", arg, 1, MAX_SIDE, &o->readers);
	case OPT_RING_SIZE:
		return sfb_opt_bytes(CMD, "--ring-size", arg, &o->ring_size);
	case OPT_BATCH:
		return opt_int("--batch", arg, 1, MAX_BATCH, &o->batch);
	case OPT_CLEAN_STEP:
		return sfb_opt_bytes(CMD, "--clean-step", arg, &o->clean_step);
	case OPT_LAT_SIZE:
		return sfb_opt_bytes(CMD, "--lat-size", arg, &o->lat_size);
	case OPT_RTT_COUNT:
		return sfb_opt_count(CMD, "--rtt-count", arg, 1, 1ull << 30,
				     &o->rtt_count);
	case OPT_WARMUP:
		return sfb_opt_count(CMD, "--warmup", arg, 0, 1ull << 30,
				     &o->warmup);
	case OPT_RTT_MAX_TIME:
		return sfb_opt_seconds(CMD, "--rtt-max-time", arg,
				       &o->rtt_max_time);
	}
	return apply_flag(o, c, arg);
}

static void default_opts(struct opts *o)
{
	static const uint64_t sizes[] = { 32, 100, 1024, 65536 };

	memset(o, 0, sizeof(*o));
	memcpy(o->sizes, sizes, sizeof(sizes));
	o->nsizes = 4;
	o->ring_size = 16ull << 20;
	o->producers = 2;
	o->readers = 2;
	o->batch = 1;
	o->wait = SFSHM_WAIT_HYBRID;
	o->lat_size = 32;
	o->warmup = UINT64_MAX; /* a tenth of rtt_count */
	o->parts = PART_TP | PART_LAT | PART_BASE;
	o->sock_type = SOCK_SEQPACKET;
}

/* Does a record with a @vlen-byte value fit the ring's largest frame? */
static int check_fits(const struct opts *o, const char *name, uint64_t vlen)
{
	uint64_t max = o->ring_size / 8;

	if (frame_bytes(vlen) <= max)
		return 0;
	return sfb_usage(CMD,
			 "%s: a %" PRIu64 "-byte value needs a frame of "
			 "%" PRIu64 " bytes; a %" PRIu64 "-byte ring takes at "
			 "most %" PRIu64 " (raise --ring-size)",
			 name, vlen, frame_bytes(vlen), o->ring_size, max);
}

/* Defaults that depend on other options, and checks across options. */
static int finish_opts(struct opts *o, bool duration_set)
{
	uint64_t rs = o->ring_size;
	int rc = 0;

	if (duration_set && o->count)
		return sfb_usage(CMD, "--duration and --count exclude each "
				      "other");
	if (o->batch > 1 && o->zero_copy)
		return sfb_usage(CMD, "--batch and --zero-copy exclude each "
				      "other (claims are one record each)");
	if (rs < SFSHM_RING_MIN_SIZE || rs > SFSHM_RING_MAX_SIZE ||
	    (rs & (rs - 1)))
		return sfb_usage(CMD,
				 "--ring-size: %" PRIu64 " is not a power "
				 "of two from 64K to 1G",
				 rs);
	for (int i = 0; i < o->nsizes && !rc; i++)
		rc = check_fits(o, "--sizes", o->sizes[i]);
	if (!rc)
		rc = check_fits(o, "--lat-size", o->lat_size);
	if (!o->clean_step)
		o->clean_step = rs / 4;
	if (!rc && (o->clean_step > rs / 4 || o->clean_step % 8))
		rc = sfb_usage(CMD,
			       "--clean-step: %" PRIu64 " is not a "
			       "multiple of 8 up to a quarter of the ring",
			       o->clean_step);
	if (!duration_set)
		o->duration = o->quick ? 0.2 : 1.0;
	if (!o->rtt_count)
		o->rtt_count = o->quick ? 100000 : 1000000;
	if (o->warmup == UINT64_MAX)
		o->warmup = o->rtt_count / 10;
	if (!o->rtt_max_time)
		o->rtt_max_time = o->quick ? 2 : 60;
	return rc;
}

/* The option parse of sfbench ring: -d given or not. */
struct parse {
	struct opts *o;
	bool duration_set; /* -d given: no default duration */
};

static int apply_any(void *ctx, int c, const char *arg)
{
	struct parse *p = ctx;

	p->duration_set |= c == 'd';
	return apply_opt(p->o, c, arg);
}

/* Return: 0 to run, -1 when --help was printed, 2 for a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	struct parse p = { .o = o };
	int rc;

	default_opts(o);
	rc = sfb_getopt(argc, argv, CMD, ":s:d:n:p:r:h", long_opts,
			sfbench_ring_help, apply_any, &p);
	return rc ? rc : finish_opts(o, p.duration_set);
}

static uint64_t max_value(const struct opts *o)
{
	uint64_t max = o->lat_size;

	for (int i = 0; i < o->nsizes; i++)
		if (o->sizes[i] > max)
			max = o->sizes[i];
	return max;
}

/**
 * sfbench_ring_main() - `sfbench ring [options]`.
 * Return: the exit status: 0, 1 (run-time failure) or 2 (usage).
 */
int sfbench_ring_main(int argc, char **argv)
{
	struct report *rep;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		fail("out of memory");
	rep->o = &o;
	if (o.verify)
		g_verify = make_value(max_value(&o));
	sfb_machine_probe();
	if (!o.json)
		print_intro(&o);
	rc = run_parts(rep);
	free(g_verify);
	free(rep);
	return rc;
}

/**
 * sfb_ring_1to1() - the 1->1 throughput case for other commands to compare
 * with (sfbench.h); the same code as `sfbench ring`, default options but
 * for the count, the ring size and the CPUs.
 * Return: 0, or 1 if a worker failed.
 */
int sfb_ring_1to1(uint64_t value_len, uint64_t count, uint64_t ring_size,
		  const int *cpus, int ncpus, struct sfb_tp *out)
{
	struct tp_result res;
	struct opts o;
	int rc;

	default_opts(&o);
	o.count = count;
	o.ring_size = ring_size;
	o.clean_step = ring_size / 4;
	o.ncpus = ncpus < MAX_CPUS ? ncpus : MAX_CPUS;
	for (int i = 0; i < o.ncpus; i++)
		o.cpus[i] = cpus[i];
	rc = tp_ring_case(&o, "1->1", 1, 1, value_len, &res);
	if (rc)
		return rc;
	out->records = res.records;
	out->secs = res.secs;
	out->cpu_ns = res.cpu.user_ns + res.cpu.sys_ns;
	return 0;
}
