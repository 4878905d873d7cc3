// SPDX-License-Identifier: MIT
/*
 * test_ring_stress.c - many producers, two readers and the owner on one
 * small ring that wraps thousands of times.
 *
 * Every record carries (producer id, per-producer sequence, value length,
 * hash of the value) in its key; the value is 0..4096 random bytes.  Two
 * independent readers (one copying with sfshm_ring_read(), one zero-copy
 * with peek/consume) must see every record exactly once, in per-producer
 * order, with an intact hash.  The parent plays the owner: it reads in
 * order as the persister would, and cleans up to the lowest position any
 * reader published, so no reader is ever lapped here: -EOVERFLOW, a
 * revoked claim or a gap is a failure.  Padding is accounted exactly: the
 * readers must skip as many padding bytes as the producers wrote at the
 * wraps.
 *
 * Normally every party is a process.  With SFSHM_TSAN=1 (make check-tsan)
 * they are threads, each with its own handle, with smaller counts and
 * values of 0..1024 bytes (each byte a reader copies is an instrumented
 * atomic load under TSan).
 * ThreadSanitizer keys its shadow memory by virtual address, and every
 * sfshm_ring_map() makes a mapping of its own, so two handles touching one
 * ring byte touch two addresses: TSan would see neither the races nor the
 * synchronisation between them.  In thread mode under TSan this program
 * therefore interposes mmap()/munmap() so that all handles of a ring share
 * one mapping (see "one mapping per ring" below); then TSan checks the
 * ring protocol itself.  SFSHM_TSAN_ALIAS=0 turns that off.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfatomic.h"
#include "t_util.h"

#define NPROD 4
#define NREAD 2
#define MAX_VALUE 4096u
/* Under TSan every byte a reader copies is an instrumented atomic load. */
#define MAX_VALUE_MT 1024u
#define POOL_SIZE (3 * MAX_VALUE)
#define RING_SIZE (1ull << 20)
#define PUBLISH_EVERY 64

#if defined(__SANITIZE_THREAD__)
#define T_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define T_TSAN 1
#endif
#endif

enum pmode {
	P_SEND, /* sfshm_ring_send(), blocking */
	P_SEND_NB, /* sfshm_ring_send(), -EAGAIN and retry */
	P_CLAIM, /* zero-copy claim/commit, blocking */
	P_CLAIM_NB, /* zero-copy claim/commit, -EAGAIN and retry */
};

struct scfg {
	const char *name;
	uint64_t per_prod; /* records per producer (process mode) */
	uint64_t per_prod_mt; /* records per producer (thread mode) */
	enum pmode mode[NPROD];
	bool shared_handle; /* producers share one handle */
};

struct presult {
	uint64_t sent;
	uint64_t eagain;
	uint64_t pad_frames;
	uint64_t pad_bytes;
};

struct rresult {
	uint64_t got[NPROD];
	uint64_t pad_frames;
	uint64_t pad_bytes;
	uint64_t sleeps;
};

/* Shared between the parent and its children (t_shared_alloc). */
struct sshared {
	uint32_t stop; /* atomic: give up */
	uint32_t readers_ready; /* atomic */
	struct t_note note;
	struct presult prod[NPROD];
	struct rresult rd[NREAD];
};

struct stress {
	struct t_ring ring;
	struct sshared *sh;
	const struct scfg *cfg;
	bool threads;
	uint64_t per_prod;
	uint32_t max_value;
	uint64_t deadline_ms;
	struct sfshm_ring *shared_prod; /* cfg->shared_handle */
	struct sfshm_ring *owner; /* unmapped by the fixture */
};

struct worker {
	struct stress *s;
	int id;
};

static bool thread_mode(void)
{
	const char *e = getenv("SFSHM_TSAN");

	return e && strcmp(e, "1") == 0;
}

/* ---- one mapping per ring (thread mode under TSan) ----------------------- */

#ifdef T_TSAN
#include <dlfcn.h>
#include <pthread.h>

struct alias {
	dev_t dev;
	ino_t ino;
	size_t len;
	void *addr;
	int refs;
};

static struct alias aliases[8];
static pthread_mutex_t alias_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t alias_on;
static uint32_t alias_live; /* mappings handed out more than once */

typedef void *(*mmap_fn)(void *, size_t, int, int, int, off_t);
typedef int (*munmap_fn)(void *, size_t);

extern void *__interceptor_mmap(void *, size_t, int, int, int, off_t)
	__attribute__((weak));
extern int __interceptor_munmap(void *, size_t) __attribute__((weak));

/*
 * The sanitizer runtime maps memory through mmap() while it initialises:
 * the wrappers must not be instrumented themselves.
 */
#define NO_TSAN __attribute__((no_sanitize("thread")))

NO_TSAN static void *real_mmap(void *addr, size_t len, int prot, int flags,
			       int fd, off_t off)
{
	static mmap_fn fn;

	if (!fn)
		fn = __interceptor_mmap ? __interceptor_mmap :
					  (mmap_fn)dlsym(RTLD_NEXT, "mmap");
	return fn(addr, len, prot, flags, fd, off);
}

NO_TSAN static int real_munmap(void *addr, size_t len)
{
	static munmap_fn fn;

	if (!fn)
		fn = __interceptor_munmap ?
			     __interceptor_munmap :
			     (munmap_fn)dlsym(RTLD_NEXT, "munmap");
	return fn(addr, len);
}

static struct alias *alias_find(dev_t dev, ino_t ino, size_t len)
{
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (aliases[i].refs && aliases[i].dev == dev &&
		    aliases[i].ino == ino && aliases[i].len == len)
			return &aliases[i];
	return NULL;
}

static void *alias_map(size_t len, int fd)
{
	struct alias *a;
	struct stat st;
	void *p;

	if (fstat(fd, &st) < 0)
		return MAP_FAILED;
	a = alias_find(st.st_dev, st.st_ino, len);
	if (a) {
		a->refs++;
		return a->addr;
	}
	for (size_t i = 0; !a && i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!aliases[i].refs)
			a = &aliases[i];
	if (!a)
		return MAP_FAILED;
	/* Readers ask for PROT_READ; one shared mapping must allow both. */
	p = real_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return p;
	*a = (struct alias){ st.st_dev, st.st_ino, len, p, 1 };
	__atomic_add_fetch(&alias_live, 1, __ATOMIC_RELAXED);
	return p;
}

NO_TSAN void *mmap(void *addr, size_t len, int prot, int flags, int fd,
		   off_t off)
{
	void *p;

	/* Pairs with the release store in alias_enable(). */
	if (!__atomic_load_n(&alias_on, __ATOMIC_ACQUIRE) || fd < 0 || addr ||
	    off || !(flags & MAP_SHARED))
		return real_mmap(addr, len, prot, flags, fd, off);
	pthread_mutex_lock(&alias_lock);
	p = alias_map(len, fd);
	pthread_mutex_unlock(&alias_lock);
	return p;
}

NO_TSAN int munmap(void *addr, size_t len)
{
	if (!__atomic_load_n(&alias_live, __ATOMIC_RELAXED))
		return real_munmap(addr, len);
	pthread_mutex_lock(&alias_lock);
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
		struct alias *a = &aliases[i];

		if (a->refs && a->addr == addr) {
			bool last = --a->refs == 0;

			if (last)
				__atomic_sub_fetch(&alias_live, 1,
						   __ATOMIC_RELAXED);
			pthread_mutex_unlock(&alias_lock);
			return last ? real_munmap(addr, len) : 0;
		}
	}
	pthread_mutex_unlock(&alias_lock);
	return real_munmap(addr, len);
}

static void alias_enable(bool on)
{
	const char *e = getenv("SFSHM_TSAN_ALIAS");

	if (on && e && strcmp(e, "0") == 0)
		on = false;
	__atomic_store_n(&alias_on, on, __ATOMIC_RELEASE);
}
#else
static void alias_enable(bool on)
{
	(void)on;
}
#endif

/* ---- shared state ---------------------------------------------------------- */

static bool stopped(const struct stress *s)
{
	/* Pairs with the release store in stop_all(). */
	return sf_load_acquire32(&s->sh->stop) || t_now_ms() > s->deadline_ms;
}

static void stop_all(struct stress *s)
{
	sf_store_release32(&s->sh->stop, 1);
}

static struct sfshm_ring *map_role(struct stress *s, enum sfshm_role role,
				   const char *who, int id)
{
	char name[32];

	snprintf(name, sizeof(name), "%s %d", who, id);
	return t_child_map(&s->ring, role, &s->sh->note, name);
}

/* ---- producers --------------------------------------------------------------- */

struct pstate {
	struct stress *s;
	struct sfshm_ring *r;
	int id;
	enum pmode mode;
	uint64_t rng;
	uint8_t pool[POOL_SIZE];
	struct presult res;
};

/* Pick the next record: a random slice of the pool, hashed into the key. */
static void make_rec(struct pstate *p, uint64_t seq, struct t_key *k,
		     struct sfshm_rec *rec)
{
	uint64_t x = t_rand(&p->rng);
	uint32_t len = (uint32_t)(x % (p->s->max_value + 1));
	uint32_t off = (uint32_t)((x >> 32) % (POOL_SIZE - MAX_VALUE));

	t_key_set(k, (uint32_t)p->id, seq, p->pool + off, len);
	memset(rec, 0, sizeof(*rec));
	rec->key = k;
	rec->key_len = (int32_t)sizeof(*k);
	rec->value = p->pool + off;
	rec->value_len = (int32_t)len;
}

/*
 * A send or claim returned *@err: try again while the ring is full (or a
 * blocking call timed out), unless the run is over (*@err = -ETIMEDOUT).
 * @nb: the call does not wait; count the -EAGAIN and yield.
 */
static bool again(struct pstate *p, int *err, bool nb)
{
	if (*err != -EAGAIN && *err != -ETIMEDOUT)
		return false;
	if (stopped(p->s)) {
		*err = -ETIMEDOUT;
		return false;
	}
	if (nb) {
		p->res.eagain++;
		sched_yield();
	}
	return true;
}

static int send_copy(struct pstate *p, const struct sfshm_rec *rec)
{
	bool nb = p->mode == P_SEND_NB;
	int err;

	do
		err = sfshm_ring_send(p->r, rec, nb ? 0 : 100, NULL);
	while (again(p, &err, nb));
	return err;
}

static int send_zero_copy(struct pstate *p, const struct sfshm_rec *rec)
{
	struct sfshm_rec shape = *rec;
	bool nb = p->mode == P_CLAIM_NB;
	struct sfshm_claim c;
	int err;

	shape.value = NULL; /* we write it through c.value */
	do
		err = sfshm_ring_claim(p->r, &shape, nb ? 0 : 100, &c);
	while (again(p, &err, nb));
	if (err)
		return err;
	memcpy(c.value, rec->value, (size_t)rec->value_len);
	return sfshm_ring_commit(p->r, &c);
}

static int produce(struct pstate *p)
{
	struct sfshm_rec rec;
	struct t_key k;
	int err;

	for (uint64_t seq = 0; seq < p->s->per_prod; seq++) {
		make_rec(p, seq, &k, &rec);
		if (p->mode == P_SEND || p->mode == P_SEND_NB)
			err = send_copy(p, &rec);
		else
			err = send_zero_copy(p, &rec);
		if (err) {
			t_note_set(&p->s->sh->note,
				   "producer %d: record %llu: %s", p->id,
				   (unsigned long long)seq,
				   sfshm_strerror(err));
			return 1;
		}
		p->res.sent++;
	}
	return 0;
}

static int producer_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct sfshm_ring_stats st;
	struct pstate *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p)
		return 2;
	p->s = s;
	p->id = w->id;
	p->mode = s->cfg->mode[w->id];
	p->rng = 0x1234567ull * (uint64_t)(w->id + 1);
	for (size_t i = 0; i < POOL_SIZE; i += 8) {
		uint64_t x = t_rand(&p->rng);

		memcpy(p->pool + i, &x, 8);
	}
	p->r = s->shared_prod ?
		       s->shared_prod :
		       map_role(s, SFSHM_ROLE_PRODUCER, "producer", w->id);
	if (!p->r) {
		free(p);
		return 1;
	}
	rc = produce(p);
	if (!s->shared_prod) {
		sfshm_ring_stats(p->r, &st);
		p->res.pad_frames = st.pad_frames;
		p->res.pad_bytes = st.pad_bytes;
		sfshm_ring_unmap(p->r);
	}
	s->sh->prod[w->id] = p->res;
	free(p);
	return rc;
}

/*
 * Producers sharing one handle: one host maps it and runs every producer
 * as a thread.  Not a supported use since handles are one per thread (a
 * handle owns one producer slot and its hazard); kept for experiments.
 */
static int producer_host_main(void *arg)
{
	struct stress *s = arg;
	struct worker w[NPROD];
	struct t_task t[NPROD];
	int rc = 0;

	s->shared_prod = map_role(s, SFSHM_ROLE_PRODUCER, "producer host", 0);
	if (!s->shared_prod)
		return 1;
	for (int i = 0; i < NPROD; i++) {
		w[i] = (struct worker){ s, i };
		t_task_start(&t[i], producer_main, &w[i], true);
	}
	for (int i = 0; i < NPROD; i++) {
		int prc;

		while (!t_task_poll(&t[i], &prc))
			t_sleep_us(1000);
		rc |= prc;
	}
	sfshm_ring_unmap(s->shared_prod);
	return rc;
}

/* ---- readers ------------------------------------------------------------------ */

struct rstate {
	struct stress *s;
	struct sfshm_ring *r;
	int id;
	uint64_t next[NPROD];
	uint64_t total;
	void *buf;
	size_t buflen;
};

static int check_rec(struct rstate *rs, const char *who,
		     const struct sfshm_msg *m)
{
	struct t_note *note = &rs->s->sh->note;
	unsigned long long pos = (unsigned long long)m->pos;
	struct t_key k = { 0 };

	if (!t_key_intact(m, &k)) {
		t_note_set(note,
			   "%s %d: record at pos %llu torn: key_len %d, "
			   "value_len %d (key says %u), or hash mismatch",
			   who, rs->id, pos, (int)m->key_len, (int)m->value_len,
			   k.len);
		return -1;
	}
	if (k.id >= NPROD || k.seq != rs->next[k.id]) {
		t_note_set(note,
			   "%s %d: producer %u seq %llu at pos %llu, "
			   "expected seq %llu (lost, duplicated or reordered)",
			   who, rs->id, k.id, (unsigned long long)k.seq, pos,
			   k.id < NPROD ? (unsigned long long)rs->next[k.id] :
					  0ull);
		return -1;
	}
	rs->next[k.id]++;
	rs->total++;
	return 0;
}

/* One record by copy (reader 0) or by peek/consume (reader 1). */
static int read_one(struct rstate *rs)
{
	struct sfshm_msg m;
	int err;

	if (rs->id == 0) {
		err = sfshm_ring_read(rs->r, &m, rs->buf, rs->buflen);
		if (!err && check_rec(rs, "reader", &m))
			return -EBADMSG;
		return err;
	}
	err = sfshm_ring_peek(rs->r, &m);
	if (err)
		return err;
	if (check_rec(rs, "reader", &m))
		return -EBADMSG;
	return sfshm_ring_consume(rs->r, &m);
}

static int read_all(struct rstate *rs)
{
	uint64_t want = NPROD * rs->s->per_prod;
	int err;

	while (rs->total < want) {
		err = read_one(rs);
		if (!err) {
			if (rs->total % PUBLISH_EVERY == 0)
				sfshm_ring_publish_pos(rs->r);
			continue;
		}
		if (err != -EAGAIN)
			goto fail;
		/* Publish before waiting, or the owner could never clean. */
		sfshm_ring_publish_pos(rs->r);
		if (stopped(rs->s)) {
			err = -ETIMEDOUT;
			goto fail;
		}
		err = sfshm_ring_wait(rs->r, 100);
		if (err && err != -ETIMEDOUT)
			goto fail;
	}
	return 0;
fail:
	t_note_set(&rs->s->sh->note,
		   "reader %d: %s at pos %llu after %llu of %llu records",
		   rs->id, sfshm_strerror(err),
		   (unsigned long long)sfshm_ring_position(rs->r),
		   (unsigned long long)rs->total, (unsigned long long)want);
	return 1;
}

static int reader_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct rresult *res = &s->sh->rd[w->id];
	struct sfshm_ring_stats st;
	struct rstate rs = { .s = s, .id = w->id };
	int rc = 1, err;

	rs.r = map_role(s, SFSHM_ROLE_READER, "reader", w->id);
	if (!rs.r)
		return 1;
	rs.buflen = sfshm_ring_max_frame(rs.r);
	rs.buf = malloc(rs.buflen);
	/* Take a slot at position 0 before any producer starts. */
	err = sfshm_ring_publish_pos(rs.r);
	if (!rs.buf || err) {
		t_note_set(&s->sh->note, "reader %d: setup: %s", w->id,
			   sfshm_strerror(err ? err : -ENOMEM));
		goto out;
	}
	sf_add_seqcst32(&s->sh->readers_ready, 1);
	rc = read_all(&rs);
	memcpy(res->got, rs.next, sizeof(rs.next));
	sfshm_ring_stats(rs.r, &st);
	res->pad_frames = st.pad_frames;
	res->pad_bytes = st.pad_bytes;
	res->sleeps = st.sleeps;
out:
	free(rs.buf);
	sfshm_ring_unmap(rs.r);
	return rc;
}

/* ---- the owner ------------------------------------------------------------------ */

struct owner {
	struct stress *s;
	struct sfshm_ring *r;
	uint64_t next[NPROD];
	uint64_t total;
	uint64_t cleans;
};

/* Read what is there in order, as the persister does; no copy. */
static int owner_drain(struct owner *o)
{
	struct sfshm_msg m;
	struct t_key k;
	int err, n;

	for (n = 0; n < 4096; n++) {
		err = sfshm_ring_peek(o->r, &m);
		if (err == -EAGAIN)
			break;
		if (err)
			return err;
		if (m.key_len != (int32_t)sizeof(k))
			return -EBADMSG;
		memcpy(&k, m.key, sizeof(k));
		if (k.id >= NPROD || k.seq != o->next[k.id])
			return -EBADMSG;
		err = sfshm_ring_consume(o->r, &m);
		if (err)
			return err;
		o->next[k.id]++;
		o->total++;
	}
	return n;
}

/* Erase up to what the owner and every reader have finished with. */
static int owner_clean(struct owner *o)
{
	int err = t_owner_clean(o->r);

	o->cleans += err > 0;
	return err < 0 ? err : 0;
}

/*
 * Nothing to read.  If the ring is full, readers are the bottleneck: give
 * them the CPU and clean again soon; else sleep until a commit.
 */
static void owner_idle(struct owner *o)
{
	uint64_t room = sfshm_ring_limit(o->r) - sfshm_ring_tail(o->r);

	if (room < 2 * (uint64_t)t_frame_len(sizeof(struct t_key), MAX_VALUE))
		sched_yield();
	else
		sfshm_ring_wait(o->r, 1);
}

static bool tasks_done(struct t_task *t, int n, bool *failed)
{
	bool all = true;
	int rc;

	for (int i = 0; i < n; i++) {
		if (!t_task_poll(&t[i], &rc))
			all = false;
		else if (rc)
			*failed = true;
	}
	return all;
}

static int owner_run(struct owner *o, struct t_task *t, int ntasks)
{
	uint64_t want = NPROD * o->s->per_prod;
	bool failed = false;
	int n, err;

	for (;;) {
		n = owner_drain(o);
		err = n < 0 ? n : owner_clean(o);
		if (err) {
			t_note_set(
				&o->s->sh->note,
				"owner: %s at pos %llu after %llu records",
				sfshm_strerror(err),
				(unsigned long long)sfshm_ring_position(o->r),
				(unsigned long long)o->total);
			return -1;
		}
		if (tasks_done(t, ntasks, &failed) && o->total == want)
			return 0;
		if (failed || stopped(o->s))
			return -1;
		if (n == 0)
			owner_idle(o);
	}
}

/* ---- running a scenario ------------------------------------------------------------ */

static bool readers_ready(void *arg)
{
	struct stress *s = arg;

	return sf_load_acquire32(&s->sh->readers_ready) == NREAD;
}

static void start_all(struct stress *s, struct worker *w, struct t_task *t,
		      int *ntasks)
{
	int n = 0;

	for (int i = 0; i < NREAD; i++) {
		w[n] = (struct worker){ s, i };
		t_task_start(&t[n], reader_main, &w[n], s->threads);
		n++;
	}
	*ntasks = n;
	if (!t_wait_until(readers_ready, s, 10000 * t_slowdown()))
		return; /* a reader failed; the owner loop reports it */
	if (s->cfg->shared_handle) {
		t_task_start(&t[n++], producer_host_main, s, s->threads);
	} else {
		for (int i = 0; i < NPROD; i++, n++) {
			w[n] = (struct worker){ s, i };
			t_task_start(&t[n], producer_main, &w[n], s->threads);
		}
	}
	*ntasks = n;
}

static void stop_and_reap(struct stress *s, struct t_task *t, int n)
{
	stop_all(s);
	for (int i = 0; i < n; i++)
		t_task_wait(&t[i], 10000 * t_slowdown());
}

static void check_results(struct stress *s, struct owner *o, uint64_t ms)
{
	uint64_t pads = 0, pad_bytes = 0, eagain = 0;
	bool nb = false;

	for (int i = 0; i < NPROD; i++) {
		assert_int_equal(s->sh->prod[i].sent, s->per_prod);
		pads += s->sh->prod[i].pad_frames;
		pad_bytes += s->sh->prod[i].pad_bytes;
		eagain += s->sh->prod[i].eagain;
		nb |= s->cfg->mode[i] == P_SEND_NB ||
		      s->cfg->mode[i] == P_CLAIM_NB;
	}
	for (int i = 0; i < NREAD; i++) {
		for (int p = 0; p < NPROD; p++)
			assert_int_equal(s->sh->rd[i].got[p], s->per_prod);
		if (!s->cfg->shared_handle) {
			/* Every padding frame came from a wrap. */
			assert_int_equal(s->sh->rd[i].pad_frames, pads);
			assert_int_equal(s->sh->rd[i].pad_bytes, pad_bytes);
		}
	}
	/* The ring must have wrapped many times for this to mean anything. */
	uint64_t laps = sfshm_ring_tail(o->r) / RING_SIZE;

	if (laps < 10)
		fail_msg("%s: only %llu laps", s->cfg->name,
			 (unsigned long long)laps);
	if (nb && eagain == 0)
		fail_msg("%s: non-blocking producers never saw -EAGAIN",
			 s->cfg->name);
	print_message("%s: %d x %llu records (%s), %llu laps, %llu cleans, "
		      "%llu wrap pads, %llu -EAGAIN, %llu ms\n",
		      s->cfg->name, NPROD, (unsigned long long)s->per_prod,
		      s->threads ? "threads" : "processes",
		      (unsigned long long)laps, (unsigned long long)o->cleans,
		      (unsigned long long)s->sh->rd[0].pad_frames,
		      (unsigned long long)eagain, (unsigned long long)ms);
}

static void run_stress(struct stress *s, const struct scfg *cfg)
{
	struct worker w[NREAD + NPROD];
	struct t_task t[NREAD + NPROD];
	struct owner o = { .s = s };
	uint64_t start = t_now_ms();
	int n = 0, err;

	s->cfg = cfg;
	s->per_prod = s->threads ? cfg->per_prod_mt : cfg->per_prod;
	s->max_value = s->threads ? MAX_VALUE_MT : MAX_VALUE;
	s->deadline_ms = start + 50000ull * (uint64_t)t_slowdown();
	o.r = s->owner = t_ring_map(&s->ring, SFSHM_ROLE_OWNER);
	start_all(s, w, t, &n);
	err = owner_run(&o, t, n);
	stop_and_reap(s, t, n);
	if (err || *t_note_msg(&s->sh->note)) {
		fail_msg("%s: %s", cfg->name,
			 *t_note_msg(&s->sh->note) ? t_note_msg(&s->sh->note) :
						     "deadline passed");
	}
	check_results(s, &o, t_now_ms() - start);
}

/* ---- fixtures and tests ------------------------------------------------------------ */

static int setup(void **state)
{
	struct stress *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	s->threads = thread_mode();
	alias_enable(s->threads);
	t_ring_create(&s->ring, RING_SIZE);
	s->sh = t_shared_alloc(sizeof(*s->sh));
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct stress *s = *state;

	sfshm_ring_unmap(s->owner);
	munmap(s->sh, sizeof(*s->sh));
	t_ring_destroy(&s->ring);
	alias_enable(false);
	free(s);
	return 0;
}

static const struct scfg cfg_copy = {
	.name = "copying send",
	.per_prod = 1000000,
	.per_prod_mt = 20000,
	.mode = { P_SEND, P_SEND, P_SEND, P_SEND },
};

static const struct scfg cfg_zero_copy = {
	.name = "zero-copy claim/commit",
	.per_prod = 250000,
	.per_prod_mt = 10000,
	.mode = { P_CLAIM, P_CLAIM, P_CLAIM, P_CLAIM },
};

static const struct scfg cfg_mixed = {
	.name = "mixed blocking/non-blocking",
	.per_prod = 250000,
	.per_prod_mt = 10000,
	.mode = { P_SEND, P_SEND_NB, P_CLAIM, P_CLAIM_NB },
};

/* 4 producers x 1,000,000 copying sends, 2 readers, the owner cleaning. */
static void test_stress_send(void **state)
{
	run_stress(*state, &cfg_copy);
}

/* The same with zero-copy claim/commit producers. */
static void test_stress_zero_copy(void **state)
{
	run_stress(*state, &cfg_zero_copy);
}

/* Blocking and non-blocking (-EAGAIN, retry) producers mixed. */
static void test_stress_mixed(void **state)
{
	run_stress(*state, &cfg_mixed);
}

/*
 * ring.h, sfshm_ring_claim(): "a non-NULL @rec->key or @rec->value is
 * copied now too, else the caller writes it through @c->key / @c->value".
 * A zero-copy key must therefore be claimable.
 */
static void test_claim_zero_copy_key(void **state)
{
	struct stress *s = *state;
	struct sfshm_ring *p = t_ring_map(&s->ring, SFSHM_ROLE_PRODUCER);
	struct sfshm_ring *r = t_ring_map(&s->ring, SFSHM_ROLE_READER);
	struct sfshm_rec rec = { .key_len = 8, .value_len = 5 };
	struct sfshm_claim c;
	struct sfshm_msg m;
	char buf[256];
	int err;

	err = sfshm_ring_claim(p, &rec, 0, &c);
	if (err) {
		sfshm_ring_unmap(p);
		sfshm_ring_unmap(r);
		fail_msg("claim with key NULL, key_len 8 (zero-copy key): %s "
			 "(sfshm_rec_frame_len() rejects a NULL key)",
			 sfshm_strerror(err));
	}
	memcpy(c.key, "key-0001", 8);
	memcpy(c.value, "hello", 5);
	assert_int_equal(sfshm_ring_commit(p, &c), 0);
	assert_int_equal(sfshm_ring_read(r, &m, buf, sizeof(buf)), 0);
	assert_int_equal(m.key_len, 8);
	assert_memory_equal(m.key, "key-0001", 8);
	assert_memory_equal(m.value, "hello", 5);
	sfshm_ring_unmap(p);
	sfshm_ring_unmap(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stress_send, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stress_zero_copy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stress_mixed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_claim_zero_copy_key, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
