// SPDX-License-Identifier: MIT
/*
 * test_ring_lapped.c - readers slower than the owner are lapped, and must
 * learn it from -EOVERFLOW, never from stale or torn data.
 *
 * Every record validates itself: its value starts with the position the
 * producer claimed it at (a stale lap has another position), the
 * producer's sequence number (dense: a record lost or repeated shows), the
 * payload length and a hash over all of it (a torn copy shows).  A fast
 * producer (zero-copy claim/commit) and a fast owner (reads in order,
 * cleans up to its own position, ignoring every reader) run against
 * readers that sleep at random moments: between reads, or while holding a
 * zero-copy view from sfshm_ring_peek() before sfshm_ring_consume().  A
 * reader that gets -EOVERFLOW seeks to sfshm_ring_clean_pos() (a frame
 * boundary, since the owner cleans to its own position) and goes on.  Each
 * run must both validate records and detect overflows, or it proved
 * nothing.
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
#include <unistd.h>

#include <cmocka.h>

#include "sfatomic.h"
#include "t_util.h"

#define MAX_READERS 3
#define MAGIC 0x4c415050u /* "LAPP" */

/* The head of every record's value; the payload follows. */
struct lhead {
	uint64_t pos;
	uint64_t seq;
	uint64_t sum;
	uint32_t len;
	uint32_t magic;
};

enum rkind {
	R_READ, /* sleep between sfshm_ring_read()s */
	R_PEEK, /* peek, sleep holding the view, validate, consume */
};

struct rcfg {
	enum rkind kind;
	uint32_t max_sleep_us; /* random sleep 0..this */
	uint32_t sleep_every; /* sleep before one read in this many */
};

struct lcfg {
	uint64_t ring_size;
	uint32_t max_payload;
	uint32_t burst; /* producer: records between pauses, max */
	uint32_t pause_us; /* producer: pause, max */
	int nreaders;
	struct rcfg rd[MAX_READERS];
	int run_ms;
	uint64_t seed;
};

struct rres {
	uint64_t validated;
	uint64_t overflow_read; /* -EOVERFLOW from read/peek/wait */
	uint64_t overflow_consume; /* peek fine, consume -EOVERFLOW */
	uint64_t torn_seen; /* ... and the view had changed */
	uint64_t seeks;
};

struct lshared {
	uint32_t stop;
	uint32_t ready;
	uint64_t produced;
	struct t_note note;
	struct rres rd[MAX_READERS];
};

struct lapped {
	struct t_ring ring;
	struct lshared *sh;
	const struct lcfg *cfg;
	uint64_t deadline_ms;
};

struct rarg {
	struct lapped *l;
	int id;
};

static uint64_t rec_seed(uint64_t pos, uint64_t seq, uint32_t len)
{
	return pos ^ (seq * 0x9e3779b97f4a7c15ull) ^ ((uint64_t)len << 40);
}

static void fill_payload(uint8_t *p, uint32_t len, uint64_t seq)
{
	uint64_t x = seq * 0xd6e8feb86659fd93ull + 1;

	for (uint32_t i = 0; i < len; i += 8) {
		uint32_t n = len - i < 8 ? len - i : 8;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + i, &x, n);
	}
}

/*
 * Is @m a whole record of this ring's lap at m->pos?
 * Return: its sequence number, or UINT64_MAX with *why set.
 */
static uint64_t rec_check(const struct sfshm_msg *m, const char **why)
{
	const uint8_t *v = m->value;
	struct lhead h;

	if (m->value_len < (int32_t)sizeof(h) || !v) {
		*why = "value too short";
		return UINT64_MAX;
	}
	memcpy(&h, v, sizeof(h));
	if (h.magic != MAGIC || h.pos != m->pos) {
		*why = "stale (another lap's position) or not ours";
		return UINT64_MAX;
	}
	if (m->value_len != (int32_t)(sizeof(h) + h.len) ||
	    t_hash64(v + sizeof(h), h.len, rec_seed(h.pos, h.seq, h.len)) !=
		    h.sum) {
		*why = "torn (length or hash)";
		return UINT64_MAX;
	}
	return h.seq;
}

static bool stopped(const struct lapped *l)
{
	return sf_load_acquire32(&l->sh->stop) || t_now_ms() > l->deadline_ms;
}

static struct sfshm_ring *child_map(struct lapped *l, enum sfshm_role role)
{
	struct sfshm_ring *r = NULL;
	int err = sfshm_ring_map(l->ring.ring_fd, l->ring.ctl_fd, role, &r);

	if (err)
		t_note_set(&l->sh->note, "map role %d: %s", (int)role,
			   sfshm_strerror(err));
	return r;
}

/* ---- the producer -------------------------------------------------------- */

/* Claim, write a self-validating record in place, commit. */
static int produce_one(struct sfshm_ring *p, uint64_t seq, uint32_t len,
		       int timeout_ms)
{
	struct sfshm_rec rec = { .key_len = -1,
				 .value_len = (int32_t)(sizeof(struct lhead) +
							len) };
	struct sfshm_claim c;
	struct lhead h;
	uint8_t *v;
	int err;

	err = sfshm_ring_claim(p, &rec, timeout_ms, &c);
	if (err)
		return err;
	v = c.value;
	fill_payload(v + sizeof(h), len, seq);
	h = (struct lhead){ c.pos, seq, 0, len, MAGIC };
	h.sum = t_hash64(v + sizeof(h), len, rec_seed(c.pos, seq, len));
	memcpy(v, &h, sizeof(h));
	return sfshm_ring_commit(p, &c);
}

static int producer_main(void *arg)
{
	struct lapped *l = arg;
	const struct lcfg *cfg = l->cfg;
	struct sfshm_ring *p = child_map(l, SFSHM_ROLE_PRODUCER);
	uint64_t rng = cfg->seed ^ 0x5eed, seq = 0;
	int err = 0;

	if (!p)
		return 1;
	while (!stopped(l)) {
		uint32_t burst = 1 + (uint32_t)(t_rand(&rng) % cfg->burst);

		for (uint32_t i = 0; i < burst && !err; i++, seq++) {
			uint32_t len = (uint32_t)(t_rand(&rng) %
						  (cfg->max_payload + 1));

			do {
				err = produce_one(p, seq, len, 50);
			} while (err == -ETIMEDOUT && !stopped(l));
		}
		/* Pairs with the acquire load in the parent. */
		sf_store_release64(&l->sh->produced, seq);
		if (err && err != -ETIMEDOUT) {
			t_note_set(&l->sh->note, "producer: seq %llu: %s",
				   (unsigned long long)seq,
				   sfshm_strerror(err));
			return 1;
		}
		t_sleep_us(t_rand(&rng) % (cfg->pause_us + 1));
	}
	sfshm_ring_unmap(p);
	return 0;
}

/* ---- the slow readers ------------------------------------------------------ */

struct rstate {
	struct lapped *l;
	struct sfshm_ring *r;
	const struct rcfg *cfg;
	struct rres *res;
	int id;
	uint64_t rng;
	uint64_t last_seq; /* UINT64_MAX before the first record */
	bool gap_ok; /* an overflow since the last record */
	uint8_t *buf;
	size_t buflen;
};

static int rfail(struct rstate *s, const char *what, uint64_t pos,
		 const char *why)
{
	t_note_set(&s->l->sh->note, "reader %d (%s): %s at %llu: %s", s->id,
		   s->cfg->kind == R_READ ? "read" : "peek", what,
		   (unsigned long long)pos, why);
	return -1;
}

static void rsleep(struct rstate *s)
{
	if (t_rand(&s->rng) % s->cfg->sleep_every == 0)
		t_sleep_us(t_rand(&s->rng) % (s->cfg->max_sleep_us + 1));
}

/*
 * Accept a record the library vouched for: intact (@seq from rec_check()
 * on what the reader looked at, before it was confirmed), and in order.
 */
static int accept_rec(struct rstate *s, const struct sfshm_msg *m, uint64_t seq,
		      const char *why)
{
	if (seq == UINT64_MAX)
		return rfail(s, "returned a bad record", m->pos, why);
	if (s->last_seq != UINT64_MAX &&
	    (seq <= s->last_seq || (!s->gap_ok && seq != s->last_seq + 1)))
		return rfail(s, "out of order", m->pos,
			     s->gap_ok ? "sequence went back" :
					 "gap or repeat without an overflow");
	s->last_seq = seq;
	s->gap_ok = false;
	s->res->validated++;
	return 0;
}

/* Lapped: continue at the oldest position still in the ring. */
static int resync(struct rstate *s)
{
	int err;

	s->gap_ok = true;
	s->res->seeks++;
	do {
		err = sfshm_ring_seek(s->r, sfshm_ring_clean_pos(s->r));
	} while (err == -EOVERFLOW && !stopped(s->l));
	if (err && err != -EOVERFLOW)
		return rfail(s, "seek", sfshm_ring_clean_pos(s->r),
			     sfshm_strerror(err));
	return 0;
}

static int step_read(struct rstate *s)
{
	struct sfshm_msg m;
	int err;

	rsleep(s);
	err = sfshm_ring_read(s->r, &m, s->buf, s->buflen);
	if (!err) {
		const char *why = NULL;

		return accept_rec(s, &m, rec_check(&m, &why), why);
	}
	if (err == -EOVERFLOW) {
		s->res->overflow_read++;
		return resync(s);
	}
	return err;
}

/* Peek, sleep holding the view, look at it, then consume. */
static int step_peek(struct rstate *s)
{
	const char *why = NULL;
	struct sfshm_msg m;
	bool lapped, intact;
	uint64_t seq;
	int err;

	err = sfshm_ring_peek(s->r, &m);
	if (err == -EOVERFLOW) {
		s->res->overflow_read++;
		return resync(s);
	}
	if (err)
		return err;
	rsleep(s);
	seq = rec_check(&m, &why);
	intact = seq != UINT64_MAX;
	lapped = sfshm_ring_clean_pos(s->r) > m.pos;
	err = sfshm_ring_consume(s->r, &m);
	if (!err) {
		if (lapped)
			return rfail(s, "consume after the owner erased", m.pos,
				     "returned 0");
		/* 0: what we looked at was intact.  (Not what is there now.) */
		return intact ?
			       accept_rec(s, &m, seq, why) :
			       rfail(s, "consume confirmed a view", m.pos, why);
	}
	if (err != -EOVERFLOW)
		return rfail(s, "consume", m.pos, sfshm_strerror(err));
	if (sfshm_ring_position(s->r) != m.pos)
		return rfail(s, "consume -EOVERFLOW", m.pos, "position moved");
	s->res->overflow_consume++;
	s->res->torn_seen += !intact;
	return resync(s);
}

static int reader_loop(struct rstate *s)
{
	int err;

	while (!stopped(s->l)) {
		err = s->cfg->kind == R_READ ? step_read(s) : step_peek(s);
		if (err == -EAGAIN) {
			err = sfshm_ring_wait(s->r, 10);
			if (err == -ETIMEDOUT)
				err = 0;
		}
		if (err && *t_note_msg(&s->l->sh->note))
			return 1;
		if (err) {
			rfail(s, "ring call", sfshm_ring_position(s->r),
			      sfshm_strerror(err));
			return 1;
		}
	}
	return 0;
}

static int reader_main(void *arg)
{
	struct rarg *a = arg;
	struct lapped *l = a->l;
	struct rstate s = { .l = l,
			    .id = a->id,
			    .cfg = &l->cfg->rd[a->id],
			    .res = &l->sh->rd[a->id],
			    .last_seq = UINT64_MAX };
	int rc;

	s.rng = l->cfg->seed * 31 + (uint64_t)a->id + 1;
	s.r = child_map(l, SFSHM_ROLE_READER);
	if (!s.r)
		return 1;
	s.buflen = sfshm_ring_max_frame(s.r);
	s.buf = malloc(s.buflen);
	if (!s.buf)
		return 1;
	sf_add_seqcst32(&l->sh->ready, 1);
	rc = reader_loop(&s);
	free(s.buf);
	sfshm_ring_unmap(s.r);
	return rc;
}

/* ---- the owner: fast, and deaf to readers ----------------------------------- */

struct owner {
	struct lapped *l;
	struct sfshm_ring *r;
	uint64_t next_seq;
	uint64_t cleans;
};

/* Persist (check the head only: the owner is never lapped), then erase. */
static int owner_step(struct owner *o)
{
	struct sfshm_msg m;
	struct lhead h;
	int err, n = 0;

	while (!(err = sfshm_ring_peek(o->r, &m))) {
		if (m.value_len < (int32_t)sizeof(h))
			return -EBADMSG;
		memcpy(&h, m.value, sizeof(h));
		if (h.magic != MAGIC || h.pos != m.pos || h.seq != o->next_seq)
			return -EBADMSG;
		err = sfshm_ring_consume(o->r, &m);
		if (err)
			return err;
		o->next_seq++;
		n++;
	}
	if (err != -EAGAIN)
		return err;
	if (sfshm_ring_position(o->r) > sfshm_ring_clean_pos(o->r)) {
		o->cleans++;
		err = sfshm_ring_clean(o->r, sfshm_ring_position(o->r));
		/* -EBUSY: a producer's claim in flight held it back. */
		if (err && err != -EBUSY)
			return err;
	}
	if (!n)
		sfshm_ring_wait(o->r, 1);
	return 0;
}

/* ---- running ------------------------------------------------------------------ */

static bool readers_ready(void *arg)
{
	struct lapped *l = arg;

	return sf_load_acquire32(&l->sh->ready) == (uint32_t)l->cfg->nreaders;
}

static void sum_results(struct lapped *l, struct rres *tot)
{
	memset(tot, 0, sizeof(*tot));
	for (int i = 0; i < l->cfg->nreaders; i++) {
		tot->validated += l->sh->rd[i].validated;
		tot->overflow_read += l->sh->rd[i].overflow_read;
		tot->overflow_consume += l->sh->rd[i].overflow_consume;
		tot->torn_seen += l->sh->rd[i].torn_seen;
		tot->seeks += l->sh->rd[i].seeks;
	}
}

static int run_tasks(struct lapped *l, struct owner *o, struct t_task *t, int n)
{
	uint64_t end = t_now_ms() + (uint64_t)l->cfg->run_ms;
	int rc, err = 0;

	while (!err && t_now_ms() < end && !stopped(l)) {
		err = owner_step(o);
		for (int i = 0; i < n; i++)
			if (t_task_poll(&t[i], &rc))
				err = err ? err : -ECHILD;
	}
	if (err && err != -ECHILD)
		t_note_set(&l->sh->note, "owner: %s at %llu",
			   sfshm_strerror(err),
			   (unsigned long long)sfshm_ring_position(o->r));
	sf_store_release32(&l->sh->stop, 1);
	for (int i = 0; i < n; i++) {
		rc = t_task_wait(&t[i], 10000 * t_slowdown());
		if (rc && !err)
			err = -ECHILD;
	}
	return err;
}

/* One run of @cfg on a fresh ring; the readers' totals in *tot. */
static void run_lapped(const struct lcfg *cfg, struct rres *tot)
{
	struct lapped l = { .cfg = cfg };
	struct rarg ra[MAX_READERS];
	struct t_task t[MAX_READERS + 1];
	struct owner o = { .l = &l };
	int n = 0, err;

	t_ring_create(&l.ring, cfg->ring_size);
	l.sh = t_shared_alloc(sizeof(*l.sh));
	l.deadline_ms = t_now_ms() + (uint64_t)cfg->run_ms +
			20000ull * (uint64_t)t_slowdown();
	o.r = t_ring_map(&l.ring, SFSHM_ROLE_OWNER);
	for (; n < cfg->nreaders; n++) {
		ra[n] = (struct rarg){ &l, n };
		t_task_start(&t[n], reader_main, &ra[n], false);
	}
	if (!t_wait_until(readers_ready, &l, 10000 * t_slowdown()))
		t_note_set(&l.sh->note, "readers did not start");
	t_task_start(&t[n++], producer_main, &l, false);
	err = run_tasks(&l, &o, t, n);
	sum_results(&l, tot);
	sfshm_ring_unmap(o.r);
	t_ring_destroy(&l.ring);
	if (err || *t_note_msg(&l.sh->note))
		fail_msg("%s", *t_note_msg(&l.sh->note) ?
				       t_note_msg(&l.sh->note) :
				       "a child failed");
	munmap(l.sh, sizeof(*l.sh));
}

static void report(const char *name, const struct rres *tot)
{
	print_message("%s: %llu records validated, %llu overflows from "
		      "read/peek, %llu from consume (%llu of those views had "
		      "changed), %llu seeks\n",
		      name, (unsigned long long)tot->validated,
		      (unsigned long long)tot->overflow_read,
		      (unsigned long long)tot->overflow_consume,
		      (unsigned long long)tot->torn_seen,
		      (unsigned long long)tot->seeks);
}

/* ---- concurrent tests ------------------------------------------------------------ */

static const struct lcfg cfg_read = {
	.ring_size = 64 << 10,
	.max_payload = 1024,
	.burst = 400,
	.pause_us = 2000,
	.nreaders = 3,
	.rd = { { R_READ, 2000, 50 }, { R_READ, 300, 4 }, { R_READ, 50, 1 } },
	.run_ms = 2000,
	.seed = 1,
};

static const struct lcfg cfg_peek = {
	.ring_size = 64 << 10,
	.max_payload = 1024,
	.burst = 400,
	.pause_us = 2000,
	.nreaders = 3,
	.rd = { { R_PEEK, 2000, 50 }, { R_PEEK, 300, 4 }, { R_PEEK, 50, 1 } },
	.run_ms = 2000,
	.seed = 2,
};

/* Readers sleeping between copies are lapped; never handed stale data. */
static void test_lapped_read(void **state)
{
	struct rres tot;

	(void)state;
	run_lapped(&cfg_read, &tot);
	report("read", &tot);
	assert_true(tot.validated > 0);
	assert_true(tot.overflow_read > 0);
}

/* Readers sleeping on a zero-copy view: consume says whether it held. */
static void test_lapped_peek(void **state)
{
	struct rres tot;

	(void)state;
	run_lapped(&cfg_peek, &tot);
	report("peek", &tot);
	assert_true(tot.validated > 0);
	assert_true(tot.overflow_consume > 0);
	assert_true(tot.torn_seen > 0);
}

/* Many short runs with random geometry and timings, both reader kinds. */
static void test_lapped_random(void **state)
{
	uint64_t rng = 0x1a99ed, validated = 0, overflows = 0;
	struct rres tot;

	(void)state;
	for (int it = 0; it < 12; it++) {
		struct lcfg c = {
			.ring_size = (64ull << 10) << (t_rand(&rng) % 3),
			.max_payload = 16 + (uint32_t)(t_rand(&rng) % 2048),
			.burst = 1 + (uint32_t)(t_rand(&rng) % 1000),
			.pause_us = (uint32_t)(t_rand(&rng) % 3000),
			.nreaders = 2,
			.run_ms = 250,
			.seed = t_rand(&rng),
		};

		for (int i = 0; i < c.nreaders; i++)
			c.rd[i] = (struct rcfg){
				i ? R_PEEK : R_READ,
				(uint32_t)(t_rand(&rng) % 3000),
				1 + (uint32_t)(t_rand(&rng) % 20),
			};
		run_lapped(&c, &tot);
		validated += tot.validated;
		overflows += tot.overflow_read + tot.overflow_consume;
	}
	print_message("random: %llu records validated, %llu overflows in 12 "
		      "runs\n",
		      (unsigned long long)validated,
		      (unsigned long long)overflows);
	assert_true(validated > 0);
	assert_true(overflows > 0);
}

/* ---- deterministic lapping, step by step ------------------------------------------- */

struct det {
	struct t_ring ring;
	struct sfshm_ring *p, *r;
	struct owner own;
	uint64_t seq;
	uint8_t buf[16384];
};

static int det_setup(void **state)
{
	struct det *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	t_ring_create(&d->ring, 64 << 10);
	d->own.r = t_ring_map(&d->ring, SFSHM_ROLE_OWNER);
	d->p = t_ring_map(&d->ring, SFSHM_ROLE_PRODUCER);
	d->r = t_ring_map(&d->ring, SFSHM_ROLE_READER);
	*state = d;
	return 0;
}

static int det_teardown(void **state)
{
	struct det *d = *state;

	sfshm_ring_unmap(d->own.r);
	sfshm_ring_unmap(d->p);
	sfshm_ring_unmap(d->r);
	t_ring_destroy(&d->ring);
	free(d);
	return 0;
}

/* 1 KiB frames (32 header + 32 head + 960 payload) tile the ring. */
#define DET_PAYLOAD (1024 - SFSHM_FRAME_HDR_SIZE - sizeof(struct lhead))

/* The owner persists all there is and erases behind itself. */
static void det_persist(struct det *d)
{
	assert_int_equal(owner_step(&d->own), 0);
	assert_int_equal(sfshm_ring_clean_pos(d->r), sfshm_ring_tail(d->r));
}

/* Produce @n records; the owner persists only when the ring is full. */
static void det_fill(struct det *d, int n)
{
	for (int i = 0; i < n; i++) {
		int err = produce_one(d->p, d->seq, DET_PAYLOAD, 0);

		if (err == -EAGAIN) {
			det_persist(d);
			err = produce_one(d->p, d->seq, DET_PAYLOAD, 0);
		}
		assert_int_equal(err, 0);
		d->seq++;
	}
}

static uint64_t det_read(struct det *d)
{
	const char *why = NULL;
	struct sfshm_msg m;
	uint64_t seq;
	int err = sfshm_ring_read(d->r, &m, d->buf, sizeof(d->buf));

	if (err)
		fail_msg("read at %llu: %s",
			 (unsigned long long)sfshm_ring_position(d->r),
			 sfshm_strerror(err));
	seq = rec_check(&m, &why);
	if (seq == UINT64_MAX)
		fail_msg("record at %llu: %s", (unsigned long long)m.pos, why);
	return seq;
}

/* Every reading call says -EOVERFLOW and the position stays. */
static void det_expect_overflow(struct det *d)
{
	uint64_t pos = sfshm_ring_position(d->r);
	struct sfshm_msg m;

	assert_int_equal(sfshm_ring_read(d->r, &m, d->buf, sizeof(d->buf)),
			 -EOVERFLOW);
	assert_int_equal(sfshm_ring_peek(d->r, &m), -EOVERFLOW);
	assert_int_equal(sfshm_ring_wait(d->r, 0), 0);
	assert_int_equal(sfshm_ring_position(d->r), pos);
}

static void test_lapped_steps(void **state)
{
	struct det *d = *state;
	uint64_t pos;
	struct sfshm_msg m;

	det_fill(d, 10);
	assert_int_equal(det_read(d), 0);
	det_persist(d);
	/* Erased but not yet rewritten: the frame word reads 0. */
	pos = sfshm_ring_position(d->r);
	assert_true(sfshm_ring_clean_pos(d->r) > pos);
	assert_int_equal(sfshm_ring_frame_word(d->r, pos), 0);
	det_expect_overflow(d);
	/* Rewritten a lap later: a committed frame sits at our offset. */
	det_fill(d, 64);
	assert_int_equal(SFSHM_FRAME_TYPE(sfshm_ring_frame_word(d->r, pos)),
			 SFSHM_FRAME_DATA);
	assert_true(SFSHM_FRAME_LEN(sfshm_ring_frame_word(d->r, pos)) > 0);
	det_expect_overflow(d);
	/* Where it may not go. */
	assert_int_equal(sfshm_ring_seek(d->r, pos), -EOVERFLOW);
	assert_int_equal(sfshm_ring_seek(d->r, sfshm_ring_tail(d->r) + 8),
			 -EINVAL);
	assert_int_equal(sfshm_ring_seek(d->r, sfshm_ring_clean_pos(d->r) + 4),
			 -EINVAL);
	/* The oldest position still there holds the oldest record there. */
	assert_int_equal(sfshm_ring_seek(d->r, sfshm_ring_clean_pos(d->r)), 0);
	assert_int_equal(det_read(d), 10);
	assert_int_equal(det_read(d), 11);
	/* Lapped again, resynchronised again, up to the tail. */
	det_persist(d);
	det_expect_overflow(d);
	assert_int_equal(sfshm_ring_seek(d->r, sfshm_ring_clean_pos(d->r)), 0);
	assert_int_equal(sfshm_ring_read(d->r, &m, d->buf, sizeof(d->buf)),
			 -EAGAIN);
	det_fill(d, 1);
	assert_int_equal(det_read(d), d->seq - 1);
}

/* A view held while the ring laps: consume must refuse it. */
static void test_lapped_peek_steps(void **state)
{
	struct det *d = *state;
	const char *why = NULL;
	struct sfshm_msg m;

	det_fill(d, 4);
	assert_int_equal(sfshm_ring_peek(d->r, &m), 0);
	assert_int_equal(rec_check(&m, &why), 0);
	/* The owner persists and erases it; the ring goes round. */
	det_persist(d);
	det_fill(d, 64);
	assert_int_equal(SFSHM_FRAME_TYPE(sfshm_ring_frame_word(d->r, m.pos)),
			 SFSHM_FRAME_DATA);
	/* What the view shows now is another lap's record. */
	assert_true(rec_check(&m, &why) == UINT64_MAX);
	assert_int_equal(sfshm_ring_consume(d->r, &m), -EOVERFLOW);
	assert_int_equal(sfshm_ring_position(d->r), m.pos);
	/* Resynchronise and read on. */
	assert_int_equal(sfshm_ring_seek(d->r, sfshm_ring_clean_pos(d->r)), 0);
	assert_int_equal(det_read(d), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lapped_steps, det_setup,
						det_teardown),
		cmocka_unit_test_setup_teardown(test_lapped_peek_steps,
						det_setup, det_teardown),
		cmocka_unit_test(test_lapped_read),
		cmocka_unit_test(test_lapped_peek),
		cmocka_unit_test(test_lapped_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
