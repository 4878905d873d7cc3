// SPDX-License-Identifier: MIT
/*
 * test_ring_dead.c - producers that die or stall between claim and commit,
 * and the owner's sfshm_ring_unblock() that closes the hole they leave.
 *
 * The crash points are real: a child process claims (or does exactly what
 * sfshm_ring_claim() does up to the crash point, through ring_layout.h and
 * C11 atomics) and then raise(SIGKILL)s itself.  The parent plays the
 * owner as the daemon will: it reads in order as the persister, cleans
 * behind itself and the readers, notices that its position stopped at a
 * frame that is not committed while the tail is beyond it, and unblocks -
 * at once when it learnt that a producer died, after a stall timeout
 * otherwise.  A reader process must then receive every record committed
 * after the hole exactly once and skip exactly the padding the owner made.
 *
 * Records carry (producer id, sequence, length, hash of the value) in the
 * key; the dead producer uses id DEAD_ID, which no reader may ever see.
 *
 * The owner frees a producer's slot (so that its open claim no longer
 * holds cleaning back) only once the process is gone - exited, killed,
 * or a zombie - in its clean or in sfshm_ring_forget_pid(); forgetting a
 * live process frees nothing: a producer stalled or SIGSTOPped inside a
 * claim holds the clean until it dies.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sfatomic.h"
#include "t_util.h"

#define NLIVE 2 /* live producers at most */
#define DEAD_ID 0xdeadu /* the producer that dies */
#define MAX_VALUE 200u
#define FRAME_1K 1024u /* frame of a 24-byte key and 968-byte value */
#define VALUE_1K (FRAME_1K - SFSHM_FRAME_HDR_SIZE - sizeof(struct t_key))
#define LATENCY_MS 100 /* death -> next record, owner unblocking at once */

/* Shared by the parent (owner), the reader and the producers. */
struct dshared {
	uint32_t stop;
	uint32_t reader_ready;
	uint32_t hole_set; /* the dead producer published its claim */
	uint32_t dead_seen; /* the owner reaped it */
	uint32_t holes_closed; /* ... and unblocked every hole it left */
	uint64_t hole_start; /* first position of the dead claim */
	uint64_t hole_fpos; /* its frame (after the wrap padding) */
	uint32_t hole_flen;
	uint32_t prod_done; /* live producers finished */
	uint64_t sent[NLIVE]; /* records each live producer committed */
	uint64_t prod_pad_frames;
	uint64_t prod_pad_bytes;
	uint64_t got[NLIVE]; /* records the reader received */
	uint64_t after_hole; /* ... of them beyond the hole */
	uint64_t t_first_after_ns;
	uint64_t pad_frames; /* the reader's padding statistics */
	uint64_t pad_bytes;
	struct t_note note;
};

/* Handles of an in-process test, closed by the fixture even on failure. */
struct local {
	struct sfshm_ring *o, *p, *r;
	uint8_t buf[FRAME_1K];
	uint8_t val[FRAME_1K];
};

struct dead {
	struct t_ring ring;
	struct t_raw raw;
	struct dshared *sh;
	uint64_t deadline_ms;
	struct local l;
	pid_t child; /* a child a failed test may leave (stopped): teardown */
};

static void fill_value(uint8_t *v, uint32_t len, uint32_t id, uint64_t seq)
{
	uint64_t s = t_key_seed(id, seq, len) | 1;

	for (uint32_t i = 0; i < len; i++)
		v[i] = (uint8_t)(t_rand(&s) >> 56);
}

/* A record of @len value bytes, its value in @buf. */
static void make_rec(struct sfshm_rec *rec, struct t_key *k, uint8_t *buf,
		     uint32_t id, uint64_t seq, uint32_t len)
{
	fill_value(buf, len, id, seq);
	t_key_set(k, id, seq, buf, len);
	*rec = (struct sfshm_rec){ .key = k,
				   .key_len = sizeof(*k),
				   .value = buf,
				   .value_len = (int32_t)len };
}

static int send_rec_pos(struct sfshm_ring *p, uint32_t id, uint64_t seq,
			uint32_t len, int timeout_ms, uint64_t *pos)
{
	uint8_t buf[FRAME_1K];
	struct sfshm_rec rec;
	struct t_key k;

	make_rec(&rec, &k, buf, id, seq, len);
	return sfshm_ring_send(p, &rec, timeout_ms, pos);
}

static int send_rec(struct sfshm_ring *p, uint32_t id, uint64_t seq,
		    uint32_t len, int timeout_ms)
{
	return send_rec_pos(p, id, seq, len, timeout_ms, NULL);
}

/* Send without waiting; the test fails unless it works.  Return: where. */
static uint64_t send_at(struct sfshm_ring *p, uint32_t id, uint64_t seq,
			uint32_t len)
{
	uint64_t pos = UINT64_MAX;
	int err = send_rec_pos(p, id, seq, len, 0, &pos);

	if (err)
		fail_msg("send of %u/%llu: %s", id, (unsigned long long)seq,
			 sfshm_strerror(err));
	return pos;
}

/* The frame word the library writes at @pos of ring @d. */
static uint64_t dword(const struct dead *d, uint32_t type, uint64_t pos,
		      int32_t len)
{
	return t_word(d->ring.size, type, pos, len);
}

/* Is @w a word of another lap than @pos's (stale)? */
static bool word_stale(const struct dead *d, uint64_t pos, uint64_t w)
{
	return w && SFSHM_FRAME_LAP(w) != t_lap(d->ring.size, pos);
}

/* A frame word readers stop at: nothing, poison, in progress or stale. */
static bool word_open(const struct dead *d, uint64_t pos, uint64_t w)
{
	return w == 0 || SFSHM_FRAME_TYPE(w) == SFSHM_FRAME_POISON ||
	       SFSHM_FRAME_LEN(w) < 0 || word_stale(d, pos, w);
}

static bool stopped(const struct dead *d)
{
	return sf_load_acquire32(&d->sh->stop) || t_now_ms() > d->deadline_ms;
}

static struct sfshm_ring *child_map(struct dead *d, enum sfshm_role role)
{
	return t_child_map(&d->ring, role, &d->sh->note, "child");
}

/* ---- the reader process ------------------------------------------------- */

static int reader_check(struct dead *d, const struct sfshm_msg *m)
{
	struct dshared *sh = d->sh;
	struct t_key k;

	if (!t_key_intact(m, &k) || k.id >= NLIVE) {
		t_note_set(&sh->note,
			   "reader: record at %llu is torn or from the dead "
			   "producer (id %#x)",
			   (unsigned long long)m->pos, k.id);
		return -1;
	}
	if (k.seq != sh->got[k.id]) {
		t_note_set(&sh->note,
			   "reader: producer %u seq %llu at %llu, expected "
			   "%llu (lost or duplicated)",
			   k.id, (unsigned long long)k.seq,
			   (unsigned long long)m->pos,
			   (unsigned long long)sh->got[k.id]);
		return -1;
	}
	sh->got[k.id]++;
	if (sf_load_acquire32(&sh->hole_set) && m->pos > sh->hole_start) {
		if (!sh->after_hole)
			sh->t_first_after_ns = t_now_ns();
		/* Read by the live producers to know when to stop. */
		sf_store_release64(&sh->after_hole, sh->after_hole + 1);
	}
	return 0;
}

/* Has the reader received all that the live producers committed? */
static bool reader_complete(struct dead *d, int nlive)
{
	uint64_t got = 0, sent = 0;

	/* Pairs with the release add in live_main(): sent[] is final. */
	if (sf_load_acquire32(&d->sh->prod_done) != (uint32_t)nlive)
		return false;
	for (int i = 0; i < NLIVE; i++) {
		got += d->sh->got[i];
		sent += sf_load_acquire64(&d->sh->sent[i]);
	}
	return got == sent;
}

struct reader_arg {
	struct dead *d;
	int nlive;
};

static int reader_loop(struct dead *d, struct sfshm_ring *r, int nlive)
{
	uint8_t buf[FRAME_1K];
	struct sfshm_msg m;
	int err;

	while (!reader_complete(d, nlive)) {
		err = sfshm_ring_read(r, &m, buf, sizeof(buf));
		if (!err) {
			if (reader_check(d, &m))
				return 1;
			continue;
		}
		if (err != -EAGAIN)
			goto fail;
		sfshm_ring_publish_pos(r);
		if (stopped(d)) {
			err = -ETIMEDOUT;
			goto fail;
		}
		err = sfshm_ring_wait(r, 200);
		if (err && err != -ETIMEDOUT)
			goto fail;
	}
	return 0;
fail:
	t_note_set(&d->sh->note, "reader: %s at position %llu",
		   sfshm_strerror(err),
		   (unsigned long long)sfshm_ring_position(r));
	return 1;
}

static int reader_main(void *arg)
{
	struct reader_arg *a = arg;
	struct dead *d = a->d;
	struct sfshm_ring_stats st;
	struct sfshm_ring *r;
	int rc;

	r = child_map(d, SFSHM_ROLE_READER);
	if (!r || sfshm_ring_publish_pos(r))
		return 1;
	sf_store_release32(&d->sh->reader_ready, 1);
	rc = reader_loop(d, r, a->nlive);
	sfshm_ring_stats(r, &st);
	d->sh->pad_frames = st.pad_frames;
	d->sh->pad_bytes = st.pad_bytes;
	sfshm_ring_unmap(r);
	return rc;
}

/* ---- live producers ----------------------------------------------------- */

struct live_arg {
	struct dead *d;
	uint32_t id;
	uint32_t pre; /* records before the dead claim */
	uint32_t post_max; /* records after it, at most */
	uint32_t post_until; /* ... or until the reader got this many */
	uint32_t pace_us; /* pause between records after the hole */
	uint32_t fixed_len; /* value length, 0 for random */
	bool after_unblock; /* send the rest only once the holes closed */
};

static bool flag_set(void *p)
{
	return sf_load_acquire32(p) != 0;
}

static int live_send(struct live_arg *a, struct sfshm_ring *p, uint64_t seq,
		     uint64_t *rng)
{
	uint32_t len = a->fixed_len ? a->fixed_len :
				      (uint32_t)(t_rand(rng) % MAX_VALUE);
	int err;

	do {
		err = send_rec(p, a->id, seq, len, 100);
	} while (err == -ETIMEDOUT && !stopped(a->d));
	if (err)
		t_note_set(&a->d->sh->note, "producer %u: seq %llu: %s", a->id,
			   (unsigned long long)seq, sfshm_strerror(err));
	/* Pairs with the acquire loads in the dead producer and reader. */
	sf_store_release64(&a->d->sh->sent[a->id], seq + 1);
	return err;
}

static bool live_more(struct live_arg *a, uint64_t post)
{
	if (post >= a->post_max || stopped(a->d))
		return false;
	return !a->post_until ||
	       sf_load_acquire64(&a->d->sh->after_hole) < a->post_until;
}

static int live_main(void *arg)
{
	struct live_arg *a = arg;
	struct dshared *sh = a->d->sh;
	uint64_t seq = 0, post, rng = a->id + 1;
	struct sfshm_ring_stats st;
	struct sfshm_ring *p = child_map(a->d, SFSHM_ROLE_PRODUCER);
	int wait_ms = 10000 * t_slowdown();

	if (!p)
		return 1;
	for (; seq < a->pre; seq++)
		if (live_send(a, p, seq, &rng))
			return 1;
	if (!t_wait_until(flag_set,
			  a->after_unblock ? &sh->holes_closed : &sh->hole_set,
			  wait_ms)) {
		t_note_set(&sh->note, "producer %u: no dead claim", a->id);
		return 1;
	}
	for (post = 0; live_more(a, post); post++, seq++) {
		if (live_send(a, p, seq, &rng))
			return 1;
		if (a->pace_us)
			t_sleep_us(a->pace_us);
	}
	sfshm_ring_stats(p, &st);
	__atomic_add_fetch(&sh->prod_pad_frames, st.pad_frames,
			   __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->prod_pad_bytes, st.pad_bytes, __ATOMIC_RELAXED);
	sfshm_ring_unmap(p);
	/* Pairs with the acquire load in reader_complete(). */
	sf_add_seqcst32(&sh->prod_done, 1);
	return 0;
}

/* ---- the producer that dies ------------------------------------------------ */

enum death {
	DIE_AFTER_CLAIM, /* in progress: claimed, half filled */
	DIE_BEFORE_HEADER, /* tail CAS done, frame word never written */
	DIE_WRAP_BEFORE_PAD, /* claim across the end; no padding written */
	DIE_WRAP_AFTER_PAD, /* padding written; frame word not */
};

struct dead_arg {
	struct dead *d;
	enum death how;
	uint32_t after; /* wait until producer 0 sent this many */
	uint32_t value_len;
};

static void publish_hole(struct dshared *sh, uint64_t start, uint64_t fpos,
			 uint32_t flen)
{
	sh->hole_start = start;
	sh->hole_fpos = fpos;
	sh->hole_flen = flen;
	/* Pairs with the acquire loads of hole_set. */
	sf_store_release32(&sh->hole_set, 1);
}

/* Claim for real, write half the value, die. */
static int die_after_claim(struct dead_arg *a, struct sfshm_ring *p)
{
	struct sfshm_rec rec = { .key_len = sizeof(struct t_key),
				 .value_len = (int32_t)a->value_len };
	struct t_key k = { DEAD_ID, a->value_len, 0, 0 };
	struct sfshm_claim c;
	int err;

	rec.key = &k;
	err = sfshm_ring_claim(p, &rec, 5000, &c);
	if (err) {
		t_note_set(&a->d->sh->note, "dead producer: claim: %s",
			   sfshm_strerror(err));
		return 1;
	}
	memset(c.value, 0xdd, a->value_len / 2);
	publish_hole(a->d->sh, c.pos, c.pos, c.frame_len);
	raise(SIGKILL);
	return 1;
}

/* Step 1 (and for DIE_WRAP_AFTER_PAD step 2) of the claim protocol, die. */
static int die_in_claim(struct dead_arg *a)
{
	struct t_raw *raw = &a->d->raw;
	uint32_t flen = t_frame_len(sizeof(struct t_key), a->value_len);
	uint64_t start, fpos, zero = 0;

	while (t_raw_claim(raw, flen, &start, &fpos) == -EAGAIN) {
		if (stopped(a->d))
			return 1;
		sched_yield();
	}
	if (a->how != DIE_BEFORE_HEADER && start == fpos) {
		t_note_set(&a->d->sh->note,
			   "dead producer: claim at %llu "
			   "does not cross the end",
			   (unsigned long long)start);
		return 1;
	}
	/* As mark_frame(): release, pairs with the readers' word load. */
	if (a->how == DIE_WRAP_AFTER_PAD &&
	    !sf_cas_acqrel64(t_raw_word(raw, start), &zero,
			     dword(a->d, SFSHM_FRAME_PAD, start,
				   (int32_t)(fpos - start)))) {
		t_note_set(&a->d->sh->note,
			   "dead producer: padding at %llu found %#llx",
			   (unsigned long long)start, (unsigned long long)zero);
		return 1;
	}
	publish_hole(a->d->sh, start, fpos, flen);
	raise(SIGKILL);
	return 1;
}

static bool enough_sent(void *arg)
{
	struct dead_arg *a = arg;

	return sf_load_acquire64(&a->d->sh->sent[0]) >= a->after ||
	       stopped(a->d);
}

static int dead_main(void *arg)
{
	struct dead_arg *a = arg;
	struct sfshm_ring *p;

	/* The crash happens inside a producer's mapping, as in real life. */
	p = child_map(a->d, SFSHM_ROLE_PRODUCER);
	if (!p)
		return 1;
	t_wait_until(enough_sent, a, 10000 * t_slowdown());
	if (a->how == DIE_AFTER_CLAIM)
		return die_after_claim(a, p);
	return die_in_claim(a);
}

/* ---- the owner ------------------------------------------------------------- */

struct owner {
	struct dead *d;
	struct sfshm_ring *r;
	uint64_t records;
	uint64_t stuck_pos;
	uint64_t stuck_since_ms;
	int stall_ms; /* unblock a frame stuck this long */
	int dead_holes; /* holes of dead producers left to unblock */
	bool need_reader; /* unblock only where the reader waits too */
	uint64_t unblocks;
	uint64_t padded; /* bytes, as sfshm_ring_unblock() reports */
	uint64_t pad_len; /* lengths in the padding words it wrote */
	uint64_t first_word; /* the word of the first frame unblocked */
	uint64_t first_padded;
	uint64_t t_unblock_ns;
};

static int owner_drain(struct owner *o)
{
	struct sfshm_msg m;
	struct t_key k;
	int err;

	for (;;) {
		err = sfshm_ring_peek(o->r, &m);
		if (err)
			return err == -EAGAIN ? 0 : err;
		if (!t_key_intact(&m, &k) || k.id == DEAD_ID)
			return -EBADMSG;
		err = sfshm_ring_consume(o->r, &m);
		if (err)
			return err;
		o->records++;
	}
}

/* Clean behind the owner and the readers; -EBUSY: again next step. */
static int owner_clean(struct owner *o)
{
	int err = t_owner_clean(o->r);

	return err < 0 ? err : 0;
}

/*
 * Every slot of a padded hole must read POISON of its own lap (length 0)
 * until it is cleaned.
 */
static int check_poisoned(struct owner *o, uint64_t pos, uint64_t padded)
{
	for (uint64_t q = pos + SFSHM_FRAME_ALIGN; q < pos + padded;
	     q += SFSHM_FRAME_ALIGN) {
		uint64_t w = sfshm_ring_frame_word(o->r, q);

		if (w != dword(o->d, SFSHM_FRAME_POISON, q, 0)) {
			t_note_set(&o->d->sh->note,
				   "owner: slot %llu inside the padded hole "
				   "[%llu, +%llu) holds %#llx, not POISON of "
				   "its lap",
				   (unsigned long long)q,
				   (unsigned long long)pos,
				   (unsigned long long)padded,
				   (unsigned long long)w);
			return -EBADMSG;
		}
	}
	return 0;
}

static uint64_t align8(uint64_t n);

static int owner_unblock(struct owner *o, uint64_t pos, uint64_t w)
{
	uint64_t padded = 0, pw;
	int err = sfshm_ring_unblock(o->r, pos, &padded);

	if (err == -EAGAIN)
		return 0; /* committed meanwhile: nothing to do */
	if (err)
		return err;
	if (!o->unblocks++) {
		o->first_word = w;
		o->first_padded = padded;
		o->t_unblock_ns = t_now_ns();
	}
	o->padded += padded;
	pw = sfshm_ring_frame_word(o->r, pos);
	o->pad_len += (uint32_t)SFSHM_FRAME_LEN(pw);
	/* Padding of the hole's lap, over exactly what unblock reported. */
	if (pw != dword(o->d, SFSHM_FRAME_PAD, pos, SFSHM_FRAME_LEN(pw)) ||
	    align8((uint64_t)SFSHM_FRAME_LEN(pw)) != padded) {
		t_note_set(&o->d->sh->note,
			   "owner: unblock at %llu reported %llu bytes, left "
			   "%#llx",
			   (unsigned long long)pos, (unsigned long long)padded,
			   (unsigned long long)pw);
		return -EBADMSG;
	}
	if (o->dead_holes && !--o->dead_holes)
		sf_store_release32(&o->d->sh->holes_closed, 1);
	/* Never written (zero, POISON or a stale word): poisoned. */
	if (SFSHM_FRAME_LEN(w) >= 0 || word_stale(o->d, pos, w))
		return check_poisoned(o, pos, padded);
	return 0;
}

/*
 * Stuck: the position stays at a frame that is not committed while the
 * tail is beyond it.  Unblock at once when a producer is known dead (and,
 * if asked, the reader waits there too), else after the stall timeout.
 */
static int owner_unstick(struct owner *o)
{
	uint64_t pos = sfshm_ring_position(o->r);
	uint64_t w = sfshm_ring_frame_word(o->r, pos);
	uint64_t now = t_now_ms();
	bool dead;

	if (sfshm_ring_tail(o->r) <= pos || !word_open(o->d, pos, w)) {
		o->stuck_pos = UINT64_MAX;
		return 0;
	}
	if (pos != o->stuck_pos) {
		o->stuck_pos = pos;
		o->stuck_since_ms = now;
	}
	dead = o->dead_holes > 0 &&
	       (!o->need_reader ||
		sfshm_ring_min_reader_pos(o->r, UINT64_MAX) == pos);
	if (dead || now - o->stuck_since_ms >= (uint64_t)o->stall_ms)
		return owner_unblock(o, pos, w);
	return 0;
}

static int owner_step(struct owner *o)
{
	int err = owner_drain(o);

	if (!err)
		err = owner_unstick(o);
	if (!err)
		err = owner_clean(o);
	if (err && !*t_note_msg(&o->d->sh->note))
		t_note_set(&o->d->sh->note, "owner: %s at %llu",
			   sfshm_strerror(err),
			   (unsigned long long)sfshm_ring_position(o->r));
	return err;
}

/* ---- running a dead-producer scenario ---------------------------------------- */

struct scenario {
	struct dead_arg dead;
	struct live_arg live[NLIVE];
	int nlive;
	int holes; /* holes the death leaves */
};

struct run {
	struct t_task reader, live[NLIVE], dead;
	struct reader_arg rarg;
	uint64_t t_death_ns;
	int dead_status;
};

static bool reader_ready(void *arg)
{
	struct dead *d = arg;

	return sf_load_acquire32(&d->sh->reader_ready) != 0;
}

static void run_start(struct dead *d, struct scenario *sc, struct run *rn)
{
	rn->rarg = (struct reader_arg){ d, sc->nlive };
	rn->dead_status = -1;
	t_task_start(&rn->reader, reader_main, &rn->rarg, false);
	if (!t_wait_until(reader_ready, d, 10000 * t_slowdown()))
		fail_msg("reader did not start: %s", t_note_msg(&d->sh->note));
	for (int i = 0; i < sc->nlive; i++) {
		sc->live[i].d = d;
		t_task_start(&rn->live[i], live_main, &sc->live[i], false);
	}
	sc->dead.d = d;
	t_task_start(&rn->dead, dead_main, &sc->dead, false);
}

/* Reap the dead producer as soon as it dies: the owner learns at once. */
static void run_poll_dead(struct dead *d, struct owner *o, struct scenario *sc,
			  struct run *rn)
{
	int rc;

	if (rn->dead_status >= 0 || !t_task_poll(&rn->dead, &rc))
		return;
	rn->t_death_ns = t_now_ns();
	rn->dead_status = rc;
	o->dead_holes = sc->holes;
	sf_store_release32(&d->sh->dead_seen, 1);
}

static bool run_failed(struct run *rn, int nlive)
{
	int rc;

	for (int i = 0; i < nlive; i++)
		if (t_task_poll(&rn->live[i], &rc) && rc)
			return true;
	return t_task_poll(&rn->reader, &rc) && rc;
}

static void run_loop(struct dead *d, struct owner *o, struct scenario *sc,
		     struct run *rn)
{
	while (!t_task_poll(&rn->reader, NULL)) {
		if (owner_step(o) || run_failed(rn, sc->nlive) || stopped(d))
			break;
		run_poll_dead(d, o, sc, rn);
		sfshm_ring_wait(o->r, 1);
	}
	owner_step(o);
	sf_store_release32(&d->sh->stop, 1);
	t_task_wait(&rn->reader, 5000 * t_slowdown());
	for (int i = 0; i < sc->nlive; i++)
		t_task_wait(&rn->live[i], 5000 * t_slowdown());
	if (rn->dead_status < 0)
		rn->dead_status = t_task_wait(&rn->dead, 5000 * t_slowdown());
}

static void run_scenario(struct dead *d, struct scenario *sc, struct owner *o,
			 struct run *rn)
{
	int rc;

	memset(rn, 0, sizeof(*rn));
	o->d = d;
	o->r = d->l.o = t_ring_map(&d->ring, SFSHM_ROLE_OWNER);
	o->stuck_pos = UINT64_MAX;
	d->deadline_ms = t_now_ms() + 30000ull * (uint64_t)t_slowdown();
	run_start(d, sc, rn);
	run_loop(d, o, sc, rn);
	if (*t_note_msg(&d->sh->note))
		fail_msg("%s", t_note_msg(&d->sh->note));
	if (rn->dead_status != 128 + SIGKILL)
		fail_msg("dead producer: status %d, expected SIGKILL",
			 rn->dead_status);
	rc = rn->reader.rc;
	if (rc)
		fail_msg("reader: status %d (%s)", rc,
			 stopped(d) ? "deadline passed" : "failed");
	for (int i = 0; i < sc->nlive; i++)
		assert_int_equal(d->sh->got[i], d->sh->sent[i]);
}

/*
 * The reader skipped exactly the padding the owner and producers made.
 * All count aligned bytes: the reader what it skipped, unblock its
 * @padded, producers their wrap padding (the lengths in the padding words
 * are not aligned: a revoked frame keeps its own length).
 */
static void assert_pad_accounting(struct dead *d, struct owner *o)
{
	assert_int_equal(d->sh->pad_frames,
			 o->unblocks + d->sh->prod_pad_frames);
	assert_int_equal(d->sh->pad_bytes, o->padded + d->sh->prod_pad_bytes);
}

static uint64_t align8(uint64_t n)
{
	return (n + SFSHM_FRAME_ALIGN - 1) & ~(uint64_t)(SFSHM_FRAME_ALIGN - 1);
}

/* ---- fixtures ------------------------------------------------------------------ */

static int setup_size(void **state, uint64_t size)
{
	struct dead *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	t_ring_create(&d->ring, size);
	t_raw_map(&d->ring, &d->raw);
	d->sh = t_shared_alloc(sizeof(*d->sh));
	d->deadline_ms = t_now_ms() + 30000ull * (uint64_t)t_slowdown();
	*state = d;
	return 0;
}

static int setup_4m(void **state)
{
	return setup_size(state, 4ull << 20);
}

static int setup_64k(void **state)
{
	return setup_size(state, 64ull << 10);
}

static int teardown(void **state)
{
	struct dead *d = *state;

	if (d->child > 0) {
		kill(d->child, SIGKILL);
		waitpid(d->child, NULL, 0);
	}
	sfshm_ring_unmap(d->l.o);
	sfshm_ring_unmap(d->l.p);
	sfshm_ring_unmap(d->l.r);
	munmap(d->sh, sizeof(*d->sh));
	t_raw_unmap(&d->raw);
	t_ring_destroy(&d->ring);
	free(d);
	return 0;
}

/* ---- (a) death after the claim: an in-progress frame ------------------------- */

static struct scenario streaming(enum death how, int nlive)
{
	struct scenario sc = {
		.dead = { .how = how, .after = 100, .value_len = 100 },
		.nlive = nlive,
		.holes = 1,
	};

	for (int i = 0; i < nlive; i++)
		sc.live[i] = (struct live_arg){ .id = (uint32_t)i,
						.pre = 100,
						.post_max = 3000,
						.post_until = 300,
						.pace_us = 200 };
	return sc;
}

/*
 * Stream with @nlive live producers while one dies (@how); the owner
 * unblocks the dead claim at once, where the reader waits too.
 */
static void run_streaming(struct dead *d, enum death how, int nlive,
			  struct owner *o, struct run *rn)
{
	struct scenario sc = streaming(how, nlive);

	*o = (struct owner){ .stall_ms = 1000 * t_slowdown(),
			     .need_reader = true };
	run_scenario(d, &sc, o, rn);
}

static void test_dead_after_claim(void **state)
{
	struct dead *d = *state;
	struct owner o;
	struct run rn;
	double ms;

	run_streaming(d, DIE_AFTER_CLAIM, 1, &o, &rn);
	/* The one frame unblocked was the dead claim, in progress. */
	assert_int_equal(o.unblocks, 1);
	assert_int_equal(o.first_word,
			 dword(d, SFSHM_FRAME_DATA, d->sh->hole_fpos,
			       -(int32_t)d->sh->hole_flen));
	assert_int_equal(o.first_padded, align8(d->sh->hole_flen));
	assert_int_equal(o.pad_len, d->sh->hole_flen);
	assert_pad_accounting(d, &o);
	assert_true(d->sh->after_hole > 0);
	ms = (double)(d->sh->t_first_after_ns - rn.t_death_ns) / 1e6;
	print_message("unblock latency (death seen -> reader has the next "
		      "record): %.3f ms; unblock itself %.3f ms after death; "
		      "%llu records after the hole\n",
		      ms, (double)(o.t_unblock_ns - rn.t_death_ns) / 1e6,
		      (unsigned long long)d->sh->after_hole);
	if (ms >= LATENCY_MS)
		fail_msg("death -> next record took %.1f ms (>= %d ms)", ms,
			 LATENCY_MS);
}

/* ---- (b) death before the frame word: an unwritten hole ---------------------- */

static void test_dead_before_header(void **state)
{
	struct dead *d = *state;
	struct owner o;
	struct run rn;

	run_streaming(d, DIE_BEFORE_HEADER, 2, &o, &rn);
	assert_int_equal(o.unblocks, 1);
	/* Never written; padded (at least) over the whole dead claim. */
	assert_true(o.first_word == 0 ||
		    SFSHM_FRAME_TYPE(o.first_word) == SFSHM_FRAME_POISON);
	assert_true(o.first_padded >= align8(d->sh->hole_flen));
	assert_pad_accounting(d, &o);
	print_message("hole of %u bytes padded as %llu bytes; death -> next "
		      "record %.3f ms\n",
		      d->sh->hole_flen, (unsigned long long)o.first_padded,
		      (double)(d->sh->t_first_after_ns - rn.t_death_ns) / 1e6);
}

/* ---- (e) death inside a claim across the end of the ring --------------------- */

static struct scenario wrapping(enum death how)
{
	/* 255 frames of 256 bytes leave 256 bytes before the end. */
	struct scenario sc = {
		.dead = { .how = how, .after = 255, .value_len = VALUE_1K },
		.live[0] = { .id = 0,
			     .pre = 255,
			     .post_max = 50,
			     .fixed_len = 256 - SFSHM_FRAME_HDR_SIZE -
					  sizeof(struct t_key),
			     .after_unblock = true },
		.nlive = 1,
		.holes = how == DIE_WRAP_BEFORE_PAD ? 2 : 1,
	};

	return sc;
}

static void run_wrap(struct dead *d, enum death how)
{
	struct scenario sc = wrapping(how);
	struct owner o = { .stall_ms = 1000 * t_slowdown() };
	uint64_t pad, lap_end;
	struct run rn;

	run_scenario(d, &sc, &o, &rn);
	lap_end = d->sh->hole_fpos;
	pad = lap_end - d->sh->hole_start;
	assert_int_equal(lap_end % d->ring.size, 0);
	assert_int_equal(pad, 256);
	assert_int_equal(o.unblocks, (uint64_t)sc.holes);
	/* The padding to the end, then the dead frame up to the next one. */
	assert_int_equal(o.padded, (sc.holes == 2 ? pad : 0) + FRAME_1K);
	assert_int_equal(d->sh->pad_frames, 2);
	assert_int_equal(d->sh->pad_bytes, pad + FRAME_1K);
	assert_int_equal(d->sh->got[0], 255 + 50);
}

static void test_dead_wrap_before_pad(void **state)
{
	run_wrap(*state, DIE_WRAP_BEFORE_PAD);
}

static void test_dead_wrap_after_pad(void **state)
{
	run_wrap(*state, DIE_WRAP_AFTER_PAD);
}

/* ---- (c) a stalled producer whose claim the owner revoked ---------------------- */

static void turn_lap(struct local *l, uint64_t lap_end);

static struct local *local_open(struct dead *d)
{
	struct local *l = &d->l;

	l->o = t_ring_map(&d->ring, SFSHM_ROLE_OWNER);
	l->p = t_ring_map(&d->ring, SFSHM_ROLE_PRODUCER);
	l->r = t_ring_map(&d->ring, SFSHM_ROLE_READER);
	return l;
}

/* Read the next record with the reader: it must be (@id, @seq), intact. */
static void expect_rec(struct local *l, uint32_t id, uint64_t seq)
{
	struct sfshm_msg m;
	struct t_key k;
	int err = sfshm_ring_read(l->r, &m, l->buf, sizeof(l->buf));

	if (err)
		fail_msg("expected record %u/%llu: %s", id,
			 (unsigned long long)seq, sfshm_strerror(err));
	if (!t_key_intact(&m, &k) || k.id != id || k.seq != seq)
		fail_msg("expected record %u/%llu at %llu, got %#x/%llu%s", id,
			 (unsigned long long)seq, (unsigned long long)m.pos,
			 k.id, (unsigned long long)k.seq,
			 t_key_intact(&m, &k) ? "" : " (torn)");
}

static void expect_nothing(struct local *l)
{
	struct sfshm_msg m;

	assert_int_equal(sfshm_ring_read(l->r, &m, l->buf, sizeof(l->buf)),
			 -EAGAIN);
}

/* The reader skipped @frames padding frames, @bytes bytes, since @st0. */
static void expect_reader_pads(struct local *l,
			       const struct sfshm_ring_stats *st0,
			       uint64_t frames, uint64_t bytes)
{
	struct sfshm_ring_stats st;

	sfshm_ring_stats(l->r, &st);
	assert_int_equal(st.pad_frames - st0->pad_frames, frames);
	assert_int_equal(st.pad_bytes - st0->pad_bytes, bytes);
}

/* The frame word at @pos is the library's for a @type frame of @len there. */
static void expect_word(struct dead *d, uint64_t pos, uint32_t type,
			int32_t len)
{
	assert_int_equal(sfshm_ring_frame_word(d->l.o, pos),
			 dword(d, type, pos, len));
}

/* Claim a record of @vlen value bytes for zero-copy filling. */
static void claim_rec(struct local *l, struct sfshm_ring *p, uint32_t id,
		      uint64_t seq, uint32_t vlen, struct sfshm_claim *c)
{
	struct sfshm_rec rec;
	struct t_key k;

	make_rec(&rec, &k, l->val, id, seq, vlen);
	rec.value = NULL;
	assert_int_equal(sfshm_ring_claim(p, &rec, 0, c), 0);
	memcpy(c->value, l->val, vlen);
}

/*
 * A claim held open past the unblock timeout is revoked: its commit and
 * its abort fail.  Played a lap in, so that the words carry lap 1.
 */
static void test_stalled_commit_revoked(void **state)
{
	struct dead *d = *state;
	struct sfshm_ring_stats st0, st;
	struct sfshm_claim c;
	uint64_t padded = 0, padded2 = 0;
	struct local *l;

	l = local_open(d);
	turn_lap(l, d->ring.size);
	sfshm_ring_stats(l->r, &st0);
	assert_int_equal(send_rec(l->p, 0, 0, 50, 0), 0);
	claim_rec(l, l->p, 0, 1, 100, &c);
	expect_rec(l, 0, 0);
	expect_nothing(l);
	/* The owner sees the reader stuck at an in-progress frame. */
	assert_int_equal(sfshm_ring_position(l->r), c.pos);
	expect_word(d, c.pos, SFSHM_FRAME_DATA, -(int32_t)c.frame_len);
	assert_int_equal(sfshm_ring_unblock(l->o, c.pos, &padded), 0);
	assert_int_equal(padded, align8(c.frame_len));
	/* The producer comes back: too late. */
	assert_int_equal(sfshm_ring_commit(l->p, &c), -ECANCELED);
	expect_word(d, c.pos, SFSHM_FRAME_PAD, (int32_t)c.frame_len);
	expect_nothing(l);
	/* The same producer sends it again by copy, which works. */
	assert_int_equal(send_rec(l->p, 0, 1, 100, 0), 0);
	expect_rec(l, 0, 1);
	/* An abort of a revoked claim is refused the same way. */
	claim_rec(l, l->p, 0, 2, 10, &c);
	assert_int_equal(sfshm_ring_unblock(l->o, c.pos, &padded2), 0);
	assert_int_equal(padded2, align8(c.frame_len));
	assert_int_equal(sfshm_ring_abort(l->p, &c), -ECANCELED);
	expect_word(d, c.pos, SFSHM_FRAME_PAD, (int32_t)c.frame_len);
	expect_nothing(l);
	/* The reader counts what unblock reported: aligned bytes. */
	expect_reader_pads(l, &st0, 2, padded + padded2);
	sfshm_ring_stats(l->p, &st);
	assert_int_equal(st.revoked, 2);
}

/*
 * Two producers stalled between their tail CAS and their frame word, a
 * committed record after them.  Unblocking the first hole poisons both
 * claims and stops at the committed frame; each stalled producer's CAS of
 * its frame word from 0 then meets a word of its own lap (PAD, POISON),
 * not a stale one: its claim was revoked.  Played a lap in, so that the
 * words carry lap 1.
 */
static void test_stalled_before_header(void **state)
{
	struct dead *d = *state;
	uint32_t fa = t_frame_len(sizeof(struct t_key), 100);
	uint32_t fb = t_frame_len(sizeof(struct t_key), 60);
	uint64_t a, b, start, padded = 0, wa = 0, wb = 0;
	struct sfshm_ring_stats st0;
	struct local *l;

	l = local_open(d);
	turn_lap(l, d->ring.size);
	sfshm_ring_stats(l->r, &st0);
	assert_int_equal(t_raw_claim(&d->raw, fa, &start, &a), 0);
	assert_int_equal(t_raw_claim(&d->raw, fb, &start, &b), 0);
	assert_int_equal(send_rec(l->p, 1, 0, 20, 0), 0);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_frame_word(l->o, a), 0);
	assert_int_equal(sfshm_ring_unblock(l->o, a, &padded), 0);
	assert_int_equal(padded, align8(fa) + align8(fb));
	/* The stalled producers wake up and do claim step 2 (mark_frame()). */
	assert_false(
		sf_cas_acqrel64(t_raw_word(&d->raw, a), &wa,
				dword(d, SFSHM_FRAME_DATA, a, -(int32_t)fa)));
	assert_false(
		sf_cas_acqrel64(t_raw_word(&d->raw, b), &wb,
				dword(d, SFSHM_FRAME_DATA, b, -(int32_t)fb)));
	/* The hole's start holds the padding, the slots inside it POISON. */
	assert_int_equal(wa, dword(d, SFSHM_FRAME_PAD, a, (int32_t)padded));
	assert_int_equal(wb, dword(d, SFSHM_FRAME_POISON, b, 0));
	/* Both of their own lap: revoked, not to be taken over. */
	assert_false(word_stale(d, a, wa));
	assert_false(word_stale(d, b, wb));
	expect_rec(l, 1, 0);
	expect_nothing(l);
	expect_reader_pads(l, &st0, 1, padded);
}

/*
 * Fill the ring up to @lap_end with 1 KiB frames from the producer, read
 * them, and clean everything: the next claim lands at @lap_end.
 */
/* One step of turn_lap().  Return: what the clean returned. */
static int lap_step(struct local *l, uint64_t *seq)
{
	struct sfshm_msg m;

	assert_int_equal(send_rec(l->p, 1, (*seq)++, VALUE_1K, 0), 0);
	while (!sfshm_ring_read(l->r, &m, l->buf, sizeof(l->buf)))
		;
	while (!sfshm_ring_read(l->o, &m, l->buf, sizeof(l->buf)))
		;
	return sfshm_ring_clean(l->o, sfshm_ring_position(l->o));
}

static void turn_lap(struct local *l, uint64_t lap_end)
{
	uint64_t seq = 100;

	while (sfshm_ring_tail(l->p) < lap_end)
		assert_int_equal(lap_step(l, &seq), 0);
	assert_int_equal(sfshm_ring_tail(l->p), lap_end);
	assert_int_equal(sfshm_ring_clean_pos(l->o), lap_end);
}

/*
 * A producer stalls with a claim in progress past the unblock timeout; the
 * owner revokes it, the ring goes on and a frame of the same length is
 * being filled on the same bytes a lap later when the stalled producer
 * commits.  The commit must fail (-ECANCELED), and must not publish the
 * other producer's half-written frame: its CAS expects the in-progress
 * word of lap 0, and the one there is of lap 1.  An abort alike.
 */
static void test_stalled_commit_after_lap(void **state)
{
	struct dead *d = *state;
	struct sfshm_claim stale, fresh;
	uint64_t padded, w;
	struct local *l;
	int stale_rc, fresh_rc;

	l = local_open(d);
	claim_rec(l, l->p, 0, 0, VALUE_1K, &stale);
	assert_int_equal(stale.frame_len, FRAME_1K);
	assert_int_equal(sfshm_ring_unblock(l->o, stale.pos, &padded), 0);
	turn_lap(l, stale.pos + d->ring.size);
	claim_rec(l, l->p, 1, 0, VALUE_1K, &fresh);
	assert_int_equal(fresh.pos, stale.pos + d->ring.size);
	stale_rc = sfshm_ring_commit(l->p, &stale);
	w = sfshm_ring_frame_word(l->o, fresh.pos);
	fresh_rc = sfshm_ring_commit(l->p, &fresh);
	if (stale_rc != -ECANCELED || fresh_rc != 0 ||
	    w != dword(d, SFSHM_FRAME_DATA, fresh.pos, -(int32_t)FRAME_1K))
		fail_msg("revoked claim at %llu committed a lap later: its "
			 "commit returned %d (want -ECANCELED) and left "
			 "%#llx in the frame another producer was filling at "
			 "%llu, whose own commit then returned %d (%s): the "
			 "commit CAS must expect the lap-tagged in-progress "
			 "word, which the next lap does not recreate",
			 (unsigned long long)stale.pos, stale_rc,
			 (unsigned long long)w, (unsigned long long)fresh.pos,
			 fresh_rc, sfshm_strerror(fresh_rc));
	w = sfshm_ring_frame_word(l->o, fresh.pos);
	assert_int_equal(w, dword(d, SFSHM_FRAME_DATA, fresh.pos, FRAME_1K));
	assert_int_equal(sfshm_ring_abort(l->p, &stale), -ECANCELED);
	assert_int_equal(sfshm_ring_frame_word(l->o, fresh.pos), w);
	expect_rec(l, 1, 0);
	expect_nothing(l);
}

/*
 * A producer stalls between its tail CAS and its frame word past the
 * unblock timeout; the owner pads the hole, the ring goes on, the owner
 * cleans the hole, so its bytes read zero again.  The stalled producer's
 * claim step 2 (mark_frame()) then wins its CAS from 0 - in space of the
 * next lap that no one has claimed yet - but its word is of lap 0, stale
 * there, so readers do not take it; and checking k_clean it finds it
 * stalled across a lap and gives the slot back (CAS to 0).  A producer of
 * the new lap then claims that slot normally.
 */
static void test_stalled_header_after_lap(void **state)
{
	struct dead *d = *state;
	uint64_t start, pos, next, padded, mine, seen = 0;
	struct local *l;

	l = local_open(d);
	assert_int_equal(t_raw_claim(&d->raw, FRAME_1K, &start, &pos), 0);
	assert_int_equal(sfshm_ring_unblock(l->o, pos, &padded), 0);
	assert_int_equal(padded, FRAME_1K);
	expect_word(d, pos, SFSHM_FRAME_PAD, FRAME_1K);
	next = pos + d->ring.size;
	turn_lap(l, next);
	assert_int_equal(sfshm_ring_frame_word(l->o, next), 0);

	/* Step 2 of its lap-0 claim: the CAS from 0 succeeds... */
	mine = dword(d, SFSHM_FRAME_DATA, pos, -(int32_t)FRAME_1K);
	if (!sf_cas_acqrel64(t_raw_word(&d->raw, pos), &seen, mine))
		fail_msg("erased slot at %llu holds %#llx",
			 (unsigned long long)next, (unsigned long long)seen);
	/* ... with a word that is stale at the position of lap 1. */
	assert_true(word_stale(d, next, mine));
	expect_nothing(l);
	assert_int_equal(sfshm_ring_position(l->r), next);
	assert_int_equal(sfshm_ring_wait(l->r, 0), -EAGAIN);
	/* Then k_clean (acquire fence, load) is past its position: undo. */
	sf_fence_acquire();
	assert_true(sf_load_relaxed64(&d->raw.hdr->k_clean) > pos);
	assert_true(sf_cas_relaxed64(t_raw_word(&d->raw, pos), &mine, 0));
	expect_nothing(l);
	/* The new lap goes on at exactly that slot. */
	assert_int_equal(send_at(l->p, 1, 0, 100), next);
	expect_word(d, next, SFSHM_FRAME_DATA,
		    (int32_t)t_frame_len(sizeof(struct t_key), 100));
	expect_rec(l, 1, 0);
	expect_nothing(l);
}

/*
 * A producer of the new lap whose claim lands on a stale in-progress word
 * of the lap before (a producer that stalled across the lap won its CAS
 * from 0 and died before giving the slot back) takes it over: the send
 * succeeds at exactly that position - by copy, zero-copy and batch - and
 * readers read it.  The stalled producer's undo then fails.
 */
static void test_stale_word_taken_over(void **state)
{
	struct dead *d = *state;
	uint32_t flen = t_frame_len(sizeof(struct t_key), 100);
	struct sfshm_ring_stats pst0, pst;
	struct sfshm_rec recs[2];
	uint8_t vals[2][FRAME_1K];
	struct sfshm_claim c;
	struct t_key keys[2];
	uint64_t at, stale;
	struct local *l;

	l = local_open(d);
	turn_lap(l, d->ring.size);
	sfshm_ring_stats(l->p, &pst0);

	/* By copy. */
	at = sfshm_ring_tail(l->p);
	stale = t_word_lap_back(d->ring.size, SFSHM_FRAME_DATA, at,
				-(int32_t)FRAME_1K, 1);
	sf_store_release64(t_raw_word(&d->raw, at), stale);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_position(l->r), at);
	assert_int_equal(send_at(l->p, 0, 0, 100), at);
	expect_word(d, at, SFSHM_FRAME_DATA, (int32_t)flen);
	assert_false(sf_cas_relaxed64(t_raw_word(&d->raw, at), &stale, 0));
	expect_rec(l, 0, 0);

	/* Zero-copy: the claim is at the stale slot, and commits. */
	at = sfshm_ring_tail(l->p);
	stale = t_word_lap_back(d->ring.size, SFSHM_FRAME_DATA, at, -64, 1);
	sf_store_release64(t_raw_word(&d->raw, at), stale);
	claim_rec(l, l->p, 0, 1, 100, &c);
	assert_int_equal(c.pos, at);
	expect_word(d, at, SFSHM_FRAME_DATA, -(int32_t)flen);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_commit(l->p, &c), 0);
	expect_rec(l, 0, 1);

	/* A batch, over a stale BATCH word. */
	at = sfshm_ring_tail(l->p);
	stale = t_word_lap_back(d->ring.size, SFSHM_FRAME_BATCH, at, -4096, 1);
	sf_store_release64(t_raw_word(&d->raw, at), stale);
	for (int i = 0; i < 2; i++)
		make_rec(&recs[i], &keys[i], vals[i], 0, 2 + (uint64_t)i, 100);
	{
		uint64_t first = UINT64_MAX;

		assert_int_equal(
			sfshm_ring_send_batch(l->p, recs, 2, 0, &first), 2);
		assert_int_equal(first, at);
	}
	expect_word(d, at, SFSHM_FRAME_DATA, (int32_t)flen);
	expect_word(d, at + align8(flen), SFSHM_FRAME_DATA, (int32_t)flen);
	expect_rec(l, 0, 2);
	expect_rec(l, 0, 3);
	expect_nothing(l);
	/* Taking a stale word over is not a revoked claim. */
	sfshm_ring_stats(l->p, &pst);
	assert_int_equal(pst.revoked, pst0.revoked);
}

/*
 * Where a producer of this lap claimed and died before its frame word, the
 * slot may hold a stale word of the lap before (left by a producer that
 * stalled across the lap).  Unblock takes it for a hole: it poisons it and
 * the slots after it that are zero or stale with POISON of this lap, stops
 * at the first word of this lap, and pads; the stalled producer cannot
 * give back (or take) the slot any more.
 */
static void test_unblock_stale_hole(void **state)
{
	struct dead *d = *state;
	uint64_t start, hole, mid, after, padded = 0, stale, stale_mid;
	struct sfshm_ring_stats st0;
	struct local *l;

	l = local_open(d);
	turn_lap(l, d->ring.size);
	sfshm_ring_stats(l->r, &st0);
	assert_int_equal(t_raw_claim(&d->raw, FRAME_1K, &start, &hole), 0);
	mid = hole + FRAME_1K / 2;
	stale = t_word_lap_back(d->ring.size, SFSHM_FRAME_DATA, hole,
				-(int32_t)FRAME_1K, 1);
	stale_mid = t_word_lap_back(d->ring.size, SFSHM_FRAME_DATA, mid, 40, 1);
	sf_store_release64(t_raw_word(&d->raw, hole), stale);
	sf_store_release64(t_raw_word(&d->raw, mid), stale_mid);
	after = send_at(l->p, 1, 0, 20);
	assert_int_equal(after, hole + FRAME_1K);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_position(l->r), hole);
	assert_int_equal(sfshm_ring_unblock(l->o, hole, &padded), 0);
	assert_int_equal(padded, FRAME_1K);
	expect_word(d, hole, SFSHM_FRAME_PAD, FRAME_1K);
	for (uint64_t q = hole + 8; q < after; q += 8)
		if (sfshm_ring_frame_word(l->o, q) !=
		    dword(d, SFSHM_FRAME_POISON, q, 0))
			fail_msg("slot %llu in the hole holds %#llx",
				 (unsigned long long)q,
				 (unsigned long long)sfshm_ring_frame_word(l->o,
									   q));
	/* The stalled producer of the lap before cannot undo or take it. */
	assert_false(sf_cas_relaxed64(t_raw_word(&d->raw, hole), &stale, 0));
	assert_false(word_stale(d, hole, stale));
	expect_rec(l, 1, 0);
	expect_nothing(l);
	expect_reader_pads(l, &st0, 1, padded);

	/*
	 * POISON of this lap is a hole too (an unblock that stopped before
	 * its padding): padded up to the tail, here with nothing after it.
	 */
	assert_int_equal(t_raw_claim(&d->raw, FRAME_1K, &start, &hole), 0);
	sf_store_release64(t_raw_word(&d->raw, hole),
			   dword(d, SFSHM_FRAME_POISON, hole, 0));
	sf_store_release64(t_raw_word(&d->raw, hole + 8),
			   dword(d, SFSHM_FRAME_POISON, hole + 8, 0));
	expect_nothing(l);
	assert_int_equal(sfshm_ring_unblock(l->o, hole, &padded), 0);
	assert_int_equal(padded, FRAME_1K);
	expect_word(d, hole, SFSHM_FRAME_PAD, FRAME_1K);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_position(l->r), hole + FRAME_1K);
	expect_reader_pads(l, &st0, 2, 2 * FRAME_1K);
}

/* ---- producer slots, as the owner sees them (ring_layout.h) ------------- */

/* The producer slot that @pid holds; fails the test if it holds none. */
static struct sfshm_producer_slot *pslot_held(const struct dead *d, pid_t pid)
{
	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS; i++) {
		struct sfshm_producer_slot *ps = &d->raw.hdr->producer[i];

		/* Acquire: pairs with the acq_rel CAS in take_pslot(). */
		if (sf_load_acquire32(&ps->k_pid) == (uint32_t)pid)
			return ps;
	}
	fail_msg("process %d holds no producer slot", (int)pid);
	return NULL;
}

/*
 * @ps was freed as a dead holder's slot: no holder, and no start time, so
 * that a next holder reads "start unknown: alive" until it stores its own
 * (free_dead_pslot()), never the dead one's.
 */
static void expect_pslot_freed(struct sfshm_producer_slot *ps)
{
	/* Acquire: pairs with the release store and CAS in free_dead_pslot(). */
	assert_int_equal(sf_load_acquire32(&ps->k_pid), 0);
	assert_int_equal(sf_load_acquire64(&ps->k_start), 0);
}

/* A child of the test that teardown must not leave behind (stopped). */
static void child_started(struct dead *d, pid_t pid)
{
	d->child = pid;
}

/* Reap that child: its status, as t_task_wait() gives it. */
static int child_reap(struct dead *d, struct t_task *t)
{
	int rc = t_task_wait(t, 10000 * t_slowdown());

	d->child = 0;
	return rc;
}

/* ---- (c) a producer stalled across a lap, for real --------------------- */

/*
 * A real sfshm_ring_send() stalled between its tail CAS and its frame word:
 * the producer process makes the page of its next frame PROT_NONE in its
 * own mapping (no other handle's), so the frame word CAS in mark_frame() -
 * its first access to that page after the tail CAS - faults, and the
 * SIGSEGV handler holds it until the parent says go, then restores the
 * page and returns: the CAS runs again, a lap later.
 */
struct stall {
	struct dead *d;
	uint32_t stalled; /* atomic: it faulted on its frame word */
	uint32_t go; /* atomic: let it go on */
	uint64_t pos; /* the stalled claim's frame */
	uint64_t sent_pos; /* where its send finally put the record */
	int32_t err; /* of that send */
};

static struct stall *stall_self; /* in the producer process */
static uintptr_t stall_page;

static void stall_segv(int sig, siginfo_t *si, void *uc)
{
	uint64_t until = t_now_ns() + 20000000000ull * (uint64_t)t_slowdown();
	const struct timespec tick = { 0, 100 * 1000 };

	(void)sig;
	(void)uc;
	if (((uintptr_t)si->si_addr & ~(uintptr_t)(SFSHM_PAGE - 1)) !=
	    stall_page)
		_exit(8);
	/* Pairs with the acquire load in the parent (flag_set()). */
	sf_store_release32(&stall_self->stalled, 1);
	while (!sf_load_acquire32(&stall_self->go)) {
		if (t_now_ns() > until)
			_exit(9);
		nanosleep(&tick, NULL);
	}
	if (mprotect((void *)stall_page, SFSHM_PAGE, PROT_READ | PROT_WRITE))
		_exit(10);
}

static int stall_producer(void *arg)
{
	struct stall *s = arg;
	struct sfshm_ring *p = child_map(s->d, SFSHM_ROLE_PRODUCER);
	struct sigaction sa = { .sa_sigaction = stall_segv,
				.sa_flags = SA_SIGINFO };
	uint64_t mask = s->d->ring.size - 1;
	uint8_t val[FRAME_1K];
	struct sfshm_claim c;
	struct sfshm_rec rec;
	struct t_key k;
	uint8_t *data;

	if (!p)
		return 1;
	/* Where does this handle map the data area?  A claim tells. */
	make_rec(&rec, &k, val, 0, 0, VALUE_1K);
	if (sfshm_ring_claim(p, &rec, 0, &c) || sfshm_ring_commit(p, &c))
		return 2;
	data = (uint8_t *)c.frame - (c.pos & mask);
	s->pos = sfshm_ring_tail(p);
	stall_page = (uintptr_t)(data + (s->pos & mask)) &
		     ~(uintptr_t)(SFSHM_PAGE - 1);
	stall_self = s;
	if (sigaction(SIGSEGV, &sa, NULL) ||
	    mprotect((void *)stall_page, SFSHM_PAGE, PROT_NONE))
		return 3;
	make_rec(&rec, &k, val, 0, 1, VALUE_1K);
	s->err = sfshm_ring_send(p, &rec, 0, &s->sent_pos);
	sfshm_ring_unmap(p);
	return 0;
}

/*
 * How the owner gets past the revoked claim of a producer stalled on it.
 * While the producer lives, it does not: forget_pid() frees nothing and
 * the clean stays held at the claim (-EBUSY), stalled or SIGSTOPped.
 */
enum stall_end {
	STALL_HOLD, /* the producer lives: the clean stays held */
	STALL_KILL_REAPED, /* SIGKILLed and reaped: forget_pid() frees it */
	STALL_KILL_ZOMBIE, /* SIGKILLed, not reaped yet: the same */
	STALL_SLOT_LOST, /* its slot freed behind the owner's back (never by
			  * the library): mark_frame()'s own check is all
			  * that is left between it and the next lap */
};

/* The clean is held at the open claim s->pos, padded by the owner. */
static void expect_held(struct dead *d, struct local *l, struct stall *s)
{
	assert_int_equal(sfshm_ring_clean(l->o, sfshm_ring_position(l->o)),
			 -EBUSY);
	assert_int_equal(sfshm_ring_clean_pos(l->o), s->pos);
	expect_word(d, s->pos, SFSHM_FRAME_PAD, FRAME_1K);
}

/*
 * A closed control socket is a hint, not a proof: forgetting a live
 * process frees nothing, its slot keeps its pid and start time.
 */
static void expect_forget_refused(struct dead *d, struct local *l,
				  struct stall *s, pid_t pid)
{
	struct sfshm_producer_slot *ps = pslot_held(d, pid);
	uint64_t start = sf_load_acquire64(&ps->k_start);

	assert_int_equal(sfshm_ring_forget_pid(l->o, (uint32_t)pid), 0);
	assert_int_equal(sf_load_acquire32(&ps->k_pid), (uint32_t)pid);
	assert_int_equal(sf_load_acquire64(&ps->k_start), start);
	assert_true(start != 0);
	expect_held(d, l, s);
}

/* SIGKILL the stopped producer and wait until it is gone (@how). */
static void stall_kill(struct dead *d, struct t_task *prod, enum stall_end how)
{
	pid_t pid = prod->pid;

	assert_int_equal(kill(pid, SIGKILL), 0);
	if (how == STALL_KILL_REAPED) {
		assert_int_equal(child_reap(d, prod), 128 + SIGKILL);
		return;
	}
	if (!t_wait_gone(pid, 10000 * t_slowdown()))
		fail_msg("killed producer %d: state '%c', not gone", (int)pid,
			 t_proc_state(pid));
	assert_int_equal(t_proc_state(pid), 'Z');
}

/*
 * The producer lives and holds the clean at its claim; forgetting it
 * frees nothing, and nothing either once it is SIGSTOPped.  Then it ends
 * (@how), and the owner's clean goes on across its claim.
 */
static void stall_release(struct dead *d, struct local *l, struct stall *s,
			  struct t_task *prod, enum stall_end how)
{
	struct sfshm_producer_slot *ps = pslot_held(d, prod->pid);

	expect_forget_refused(d, l, s, prod->pid);
	if (how == STALL_SLOT_LOST) {
		/* Release, as free_dead_pslot(): what a wrong free does. */
		sf_store_release64(&ps->k_start, 0);
		sf_store_release32(&ps->k_pid, 0);
	} else {
		assert_int_equal(kill(prod->pid, SIGSTOP), 0);
		assert_true(t_wait_state(prod->pid, 'T', 10000 * t_slowdown()));
		expect_forget_refused(d, l, s, prod->pid);
		stall_kill(d, prod, how);
		assert_int_equal(
			sfshm_ring_forget_pid(l->o, (uint32_t)prod->pid), 1);
		expect_pslot_freed(ps);
	}
	assert_int_equal(sfshm_ring_clean(l->o, sfshm_ring_position(l->o)), 0);
}

/*
 * Turn the ring to @next while the producer stalls on its claim at
 * s->pos.  The owner never erases at or beyond the open claim of a live
 * producer: the clean is held back at exactly that claim (-EBUSY), the
 * revoked claim's padding left in place.  STALL_HOLD stops there; else
 * the producer ends (stall_release()) and the ring goes on, across the
 * claim, to @next.
 * Return: true if the ring reached @next.
 */
static bool stall_turn_lap(struct dead *d, struct local *l, struct stall *s,
			   struct t_task *prod, uint64_t next,
			   enum stall_end how)
{
	uint64_t seq = 100;
	bool held = false;
	int err;

	while (sfshm_ring_tail(l->p) < next) {
		err = lap_step(l, &seq);
		if (err != -EBUSY || held) {
			assert_int_equal(err, 0);
			continue;
		}
		held = true;
		assert_int_equal(sfshm_ring_clean_pos(l->o), s->pos);
		expect_word(d, s->pos, SFSHM_FRAME_PAD, FRAME_1K);
		if (how == STALL_HOLD)
			return false;
		stall_release(d, l, s, prod, how);
	}
	if (!held)
		fail_msg("the owner erased the open claim at %llu of a live "
			 "producer (stalled at its frame word)",
			 (unsigned long long)s->pos);
	assert_int_equal(sfshm_ring_tail(l->p), next);
	assert_int_equal(sfshm_ring_clean_pos(l->o), next);
	return true;
}

/* Stall a producer at its frame word; the owner revokes its claim. */
static void stall_start(struct dead *d, struct local *l, struct stall *s,
			struct t_task *prod)
{
	uint64_t padded = 0;
	int rc;

	s->d = d;
	t_task_start(prod, stall_producer, s, false);
	child_started(d, prod->pid);
	if (!t_wait_until(flag_set, &s->stalled, 10000 * t_slowdown())) {
		rc = child_reap(d, prod);
		fail_msg("the producer did not stall at its frame word "
			 "(status %d)",
			 rc);
	}
	/* It stalled after its tail CAS, before its frame word. */
	assert_int_equal(sfshm_ring_tail(l->o), s->pos + FRAME_1K);
	assert_int_equal(sfshm_ring_frame_word(l->o, s->pos), 0);
	expect_rec(l, 0, 0);
	expect_nothing(l);
	assert_int_equal(sfshm_ring_unblock(l->o, s->pos, &padded), 0);
	assert_int_equal(padded, FRAME_1K);
}

/* Let the stalled producer go on; its send must succeed. */
static void stall_finish(struct dead *d, struct stall *s, struct t_task *prod)
{
	int rc;

	sf_store_release32(&s->go, 1);
	rc = child_reap(d, prod);
	if (rc || s->err)
		fail_msg("stalled producer: status %d, send %d (%s)", rc,
			 s->err, sfshm_strerror(s->err));
}

/*
 * The owner holds the erase back at the revoked claim of the stalled,
 * live producer.  Let go, the producer meets the padding of its own lap:
 * revoked, it sends again after it; then the erase goes through.
 */
static void test_stall_held_back(void **state)
{
	struct dead *d = *state;
	struct stall *s = t_shared_alloc(sizeof(*s));
	struct t_task prod;
	struct sfshm_msg m;
	struct local *l;

	l = local_open(d);
	stall_start(d, l, s, &prod);
	assert_false(stall_turn_lap(d, l, s, &prod, s->pos + d->ring.size,
				    STALL_HOLD));
	stall_finish(d, s, &prod);
	assert_true(s->sent_pos >= s->pos + FRAME_1K);
	expect_rec(l, 0, 1);
	expect_nothing(l);
	while (!sfshm_ring_read(l->o, &m, l->buf, sizeof(l->buf)))
		;
	assert_int_equal(sfshm_ring_position(l->o), sfshm_ring_tail(l->o));
	assert_int_equal(sfshm_ring_clean(l->o, sfshm_ring_position(l->o)), 0);
	assert_int_equal(sfshm_ring_clean_pos(l->o), sfshm_ring_tail(l->o));
	munmap(s, sizeof(*s));
}

/* A producer of lap 1 on the bytes at @next: a record, or an open claim. */
static void lap1_frame(struct dead *d, struct local *l, uint64_t next,
		       bool commit, struct sfshm_claim *c)
{
	if (commit) {
		assert_int_equal(send_at(l->p, 1, 0, VALUE_1K), next);
		expect_word(d, next, SFSHM_FRAME_DATA, FRAME_1K);
		return;
	}
	claim_rec(l, l->p, 1, 0, VALUE_1K, c);
	assert_int_equal(c->pos, next);
	expect_word(d, next, SFSHM_FRAME_DATA, -(int32_t)FRAME_1K);
}

/* The lap-1 record at @next is committed whole (@err: its commit's). */
static void expect_lap1_record(struct dead *d, struct stall *s, uint64_t next,
			       bool commit, int err)
{
	uint64_t w = sfshm_ring_frame_word(d->l.o, next);

	if (!err && w == dword(d, SFSHM_FRAME_DATA, next, FRAME_1K))
		return;
	fail_msg("a producer stalled since lap 0 between its tail CAS and "
		 "its frame word at %llu; the owner revoked its claim, and a "
		 "lap-1 producer %s at %llu, on the same bytes; now that "
		 "frame word is %#llx and its commit %s: the revoked claim's "
		 "late write landed in the next lap (mark_frame() took the "
		 "later lap's word for a stale one, took it over, found its "
		 "own position erased and gave the slot back as 0) - %s",
		 (unsigned long long)s->pos,
		 commit ? "committed a record" : "claimed a frame",
		 (unsigned long long)next, (unsigned long long)w,
		 commit ? "had succeeded" : sfshm_strerror(err),
		 commit ? "a committed record is lost" :
			  "a claim nobody revoked fails, and leaves a hole "
			  "readers stop at");
}

/*
 * The producer stalls at its frame word for its claim at s->pos (lap 0);
 * the owner revokes the claim, and once the producer ended (@how) the
 * ring turns a lap and a producer of lap 1 claims the same bytes at
 * s->pos + size - and, if @commit, commits.  Nothing the stalled producer
 * does late may land there: killed, it does nothing more; with its slot
 * lost while it lives, it goes on, and its mark_frame() meets the word of
 * a later lap, which it must take for its claim's revocation, not for a
 * stale word to take over.  The lap-1 record must survive.
 */
static void run_stall_across_lap(struct dead *d, bool commit,
				 enum stall_end how)
{
	struct stall *s = t_shared_alloc(sizeof(*s));
	bool lives = how == STALL_SLOT_LOST;
	struct sfshm_claim c;
	struct t_task prod;
	struct local *l;
	uint64_t next;
	int err = 0;

	l = local_open(d);
	stall_start(d, l, s, &prod);
	next = s->pos + d->ring.size;
	assert_true(stall_turn_lap(d, l, s, &prod, next, how));
	lap1_frame(d, l, next, commit, &c);
	/* A living stalled producer goes on: its frame word CAS runs now. */
	if (lives)
		stall_finish(d, s, &prod);
	if (!commit)
		err = sfshm_ring_commit(l->p, &c);
	expect_lap1_record(d, s, next, commit, err);
	expect_rec(l, 1, 0);
	if (lives) {
		/* The stalled send was claimed again after it, and arrives. */
		assert_true(s->sent_pos > next);
		expect_rec(l, 0, 1);
	} else if (how == STALL_KILL_ZOMBIE) {
		assert_int_equal(child_reap(d, &prod), 128 + SIGKILL);
	}
	expect_nothing(l);
	munmap(s, sizeof(*s));
}

static void test_stall_across_lap_meets_record(void **state)
{
	run_stall_across_lap(*state, true, STALL_KILL_REAPED);
}

static void test_stall_across_lap_meets_claim(void **state)
{
	run_stall_across_lap(*state, false, STALL_KILL_ZOMBIE);
}

static void test_stall_slot_lost_meets_record(void **state)
{
	run_stall_across_lap(*state, true, STALL_SLOT_LOST);
}

static void test_stall_slot_lost_meets_claim(void **state)
{
	run_stall_across_lap(*state, false, STALL_SLOT_LOST);
}

/* ---- (f) a producer slot is freed only when its holder is gone ----------- */

struct holder {
	struct dead *d;
	uint32_t ready; /* atomic: it holds its slot and an open claim */
	uint32_t go; /* atomic: let it go on */
	uint64_t pos; /* its open claim */
};

#define HOLDER_ID 3u

/* Take a producer slot and open a claim in it: a frame of @seq's record. */
static struct sfshm_ring *holder_claim(struct holder *h, uint64_t seq,
				       struct sfshm_claim *c)
{
	struct sfshm_ring *p = child_map(h->d, SFSHM_ROLE_PRODUCER);
	uint8_t val[FRAME_1K];
	struct sfshm_rec rec;
	struct t_key k;

	if (!p)
		return NULL;
	make_rec(&rec, &k, val, HOLDER_ID, seq, 100);
	if (sfshm_ring_claim(p, &rec, 0, c)) {
		t_note_set(&h->d->sh->note, "holder: no claim");
		sfshm_ring_unmap(p);
		return NULL;
	}
	h->pos = c->pos;
	/* Pairs with the acquire load in flag_set(). */
	sf_store_release32(&h->ready, 1);
	return p;
}

/* Exit with the claim open and the ring mapped: the slot stays taken. */
static int holder_exits(void *arg)
{
	struct sfshm_claim c;

	return holder_claim(arg, 0, &c) ? 0 : 1;
}

/* Hold the claim until told to go on, then commit it and send one more. */
static int holder_lives(void *arg)
{
	struct holder *h = arg;
	struct sfshm_claim c;
	struct sfshm_ring *p = holder_claim(h, 0, &c);
	int err;

	if (!p)
		return 1;
	if (!t_wait_until(flag_set, &h->go, 10000 * t_slowdown()))
		return 2;
	err = sfshm_ring_commit(p, &c);
	if (!err)
		err = send_rec(p, HOLDER_ID, 1, 50, 0);
	if (err)
		t_note_set(&h->d->sh->note, "holder after forget_pid(): %s",
			   sfshm_strerror(err));
	sfshm_ring_unmap(p);
	return err ? 3 : 0;
}

/* Start a holder process; return once it holds its slot and claim. */
static struct sfshm_producer_slot *holder_start(struct dead *d,
						struct holder *h,
						struct t_task *t,
						int (*fn)(void *))
{
	h->d = d;
	t_task_start(t, fn, h, false);
	child_started(d, t->pid);
	if (!t_wait_until(flag_set, &h->ready, 10000 * t_slowdown()))
		fail_msg("holder: no claim (status %d): %s", child_reap(d, t),
			 t_note_msg(&d->sh->note));
	return pslot_held(d, t->pid);
}

/* Read all there is as the owner, clean up to there: nothing held back. */
static void owner_catch_up(struct local *l)
{
	struct sfshm_msg m;

	while (!sfshm_ring_read(l->o, &m, l->buf, sizeof(l->buf)))
		;
	assert_int_equal(sfshm_ring_clean(l->o, sfshm_ring_position(l->o)), 0);
}

/*
 * A holder exits with a claim open, its ring still mapped; the parent
 * reaps it (@reap) or leaves it a zombie.  Either way it is gone: its
 * slot is freed - by forget_pid(), or by the clean that meets its hazard
 * (@by_clean) - with its start time zeroed, and cleaning passes its claim.
 * The freed slot then serves a new holder.
 */
static void run_dead_holder(struct dead *d, bool reap, bool by_clean)
{
	struct holder *h = t_shared_alloc(sizeof(*h));
	struct sfshm_producer_slot *ps;
	uint64_t padded = 0, seq = d->sh->sent[0]++;
	struct local *l = &d->l;
	struct t_task t;

	owner_catch_up(l);
	ps = holder_start(d, h, &t, holder_exits);
	assert_true(sf_load_acquire64(&ps->k_start) != 0);
	if (!t_wait_gone(t.pid, 10000 * t_slowdown()))
		fail_msg("holder %d did not exit", (int)t.pid);
	if (reap)
		assert_int_equal(child_reap(d, &t), 0);
	else
		assert_int_equal(t_proc_state(t.pid), 'Z');
	/* Its claim stops the reader and the owner: pad it, read past it. */
	assert_int_equal(sfshm_ring_unblock(l->o, h->pos, &padded), 0);
	expect_nothing(l);
	if (!by_clean)
		assert_int_equal(sfshm_ring_forget_pid(l->o, (uint32_t)t.pid),
				 1);
	/* Not held back (-EBUSY) at the hazard of a process that is gone. */
	owner_catch_up(l);
	assert_int_equal(sfshm_ring_clean_pos(l->o), h->pos + padded);
	expect_pslot_freed(ps);
	if (!reap)
		assert_int_equal(child_reap(d, &t), 0);
	/* The next holder (this process) has its own start time there. */
	assert_int_equal(send_rec(l->p, 1, seq, 10, 0), 0);
	assert_true(sf_load_acquire64(&pslot_held(d, getpid())->k_start) != 0);
	expect_rec(l, 1, seq);
	expect_nothing(l);
	munmap(h, sizeof(*h));
}

/* A zombie (exited, not reaped) is gone: forget_pid() frees its slot. */
static void test_zombie_holder_forgotten(void **state)
{
	local_open(*state);
	run_dead_holder(*state, false, true);
	run_dead_holder(*state, false, false);
}

/*
 * A dead holder's slot, freed by the clean or by forget_pid(), reads
 * k_start 0: a next holder is never judged by the dead one's start time.
 */
static void test_dead_holder_start_zeroed(void **state)
{
	local_open(*state);
	run_dead_holder(*state, true, true);
	run_dead_holder(*state, true, false);
}

/*
 * forget_pid() of a live process that holds a producer slot (its control
 * socket closed, say, before it unmapped) frees nothing: the process
 * keeps its slot, and commits and sends as before.
 */
static void test_forget_live_holder(void **state)
{
	struct dead *d = *state;
	struct holder *h = t_shared_alloc(sizeof(*h));
	struct sfshm_producer_slot *ps;
	struct local *l = local_open(d);
	struct t_task t;
	uint64_t start;

	ps = holder_start(d, h, &t, holder_lives);
	start = sf_load_acquire64(&ps->k_start);
	assert_true(start != 0);
	assert_int_equal(sfshm_ring_forget_pid(l->o, (uint32_t)t.pid), 0);
	assert_int_equal(sf_load_acquire32(&ps->k_pid), (uint32_t)t.pid);
	assert_int_equal(sf_load_acquire64(&ps->k_start), start);
	sf_store_release32(&h->go, 1);
	if (child_reap(d, &t))
		fail_msg("holder: %s", t_note_msg(&d->sh->note));
	expect_rec(l, HOLDER_ID, 0);
	expect_rec(l, HOLDER_ID, 1);
	expect_nothing(l);
	/* Its own unmap released the slot. */
	assert_int_equal(sf_load_acquire32(&ps->k_pid), 0);
	munmap(h, sizeof(*h));
}

/* ---- (d) what unblock must refuse ----------------------------------------------- */

/* Send a record with a NULL key and value.  Return: where. */
static uint64_t send_empty(struct local *l)
{
	struct sfshm_rec rec = { .key_len = -1, .value_len = -1 };
	uint64_t pos = UINT64_MAX;

	assert_int_equal(sfshm_ring_send(l->p, &rec, 0, &pos), 0);
	return pos;
}

static void test_unblock_refuses(void **state)
{
	struct dead *d = *state;
	uint64_t pos, start, hole, padded = 0, w;
	struct sfshm_claim c;
	struct local *l;

	l = local_open(d);
	/* A committed frame. */
	pos = send_empty(l);
	w = sfshm_ring_frame_word(l->o, pos);
	assert_int_equal(sfshm_ring_unblock(l->o, pos, &padded), -EAGAIN);
	assert_int_equal(sfshm_ring_frame_word(l->o, pos), w);
	/* An aborted frame (padding). */
	claim_rec(l, l->p, 0, 0, 8, &c);
	assert_int_equal(sfshm_ring_abort(l->p, &c), 0);
	assert_int_equal(sfshm_ring_unblock(l->o, c.pos, &padded), -EAGAIN);
	/* Nothing claimed: at the tail and beyond it. */
	pos = sfshm_ring_tail(l->o);
	assert_int_equal(sfshm_ring_unblock(l->o, pos, &padded), -EAGAIN);
	assert_int_equal(sfshm_ring_unblock(l->o, pos + 64, &padded), -EAGAIN);
	assert_int_equal(sfshm_ring_frame_word(l->o, pos), 0);
	assert_int_equal(sfshm_ring_frame_word(l->o, pos + 64), 0);
	/* Not a frame boundary; erased; not the owner. */
	assert_int_equal(sfshm_ring_unblock(l->o, pos + 4, &padded), -EINVAL);
	assert_int_equal(sfshm_ring_unblock(l->p, pos, &padded), -EPERM);
	assert_int_equal(sfshm_ring_unblock(l->r, pos, &padded), -EPERM);
	/* A hole right before a committed frame: only the hole is padded. */
	assert_int_equal(t_raw_claim(&d->raw, 64, &start, &hole), 0);
	pos = send_empty(l);
	w = sfshm_ring_frame_word(l->o, pos);
	assert_int_equal(sfshm_ring_unblock(l->o, hole, &padded), 0);
	assert_int_equal(padded, 64);
	assert_int_equal(sfshm_ring_frame_word(l->o, pos), w);
	/* The owner has read and cleaned all: below clean is refused. */
	{
		struct sfshm_msg m;

		while (!sfshm_ring_read(l->o, &m, l->buf, sizeof(l->buf)))
			;
	}
	assert_int_equal(sfshm_ring_clean(l->o, sfshm_ring_position(l->o)), 0);
	assert_int_equal(sfshm_ring_unblock(l->o, hole, &padded), -EINVAL);
}

/* ---- (d) unblock racing a commit: exactly one of them wins ------------------------ */

#define RACE_N 3000
/*
 * Commit after 0..RACE_SPIN_NS; unblock 0..RACE_SPIN_NS/2 after seeing the
 * claim, which itself takes some 10-50 us on 2 busy cores.
 */
#define RACE_SPIN_NS 200000

struct race_slot {
	uint64_t pos;
	int32_t commit_rc;
	int32_t unblock_rc;
	uint32_t seen;
};

struct race {
	struct dead *d;
	uint32_t claimed; /* atomic: claims made */
	uint32_t committed; /* atomic: commits tried */
	uint32_t resolved; /* atomic: iterations the owner finished */
	uint32_t expect; /* atomic: records the reader must get, +1 */
	uint32_t reader_ready; /* atomic: it took its slot at 0 */
	uint64_t reader_pads;
	struct race_slot slot[RACE_N];
};

/*
 * Let @ns pass.  Yield meanwhile: should both sides share a CPU, the other
 * one runs inside the window instead of after it.
 */
static void spin_ns(uint64_t ns)
{
	uint64_t end = t_now_ns() + ns;

	while (t_now_ns() < end)
		sched_yield();
}

static bool race_reached(uint32_t *word, uint32_t v, struct dead *d)
{
	/* Pairs with the release stores of the other side. */
	while (sf_load_acquire32(word) < v) {
		if (stopped(d))
			return false;
		sched_yield();
	}
	return true;
}

static int race_producer(void *arg)
{
	struct race *rc = arg;
	struct sfshm_ring *p = child_map(rc->d, SFSHM_ROLE_PRODUCER);
	uint8_t val[FRAME_1K];
	uint64_t rng = 7;

	if (!p)
		return 1;
	for (uint32_t i = 0; i < RACE_N; i++) {
		struct sfshm_claim c;
		struct sfshm_rec rec;
		struct t_key k;

		if (!race_reached(&rc->resolved, i, rc->d))
			return 1;
		make_rec(&rec, &k, val, 0, i, 64);
		if (sfshm_ring_claim(p, &rec, 1000, &c))
			return 1;
		rc->slot[i].pos = c.pos;
		sf_store_release32(&rc->claimed, i + 1);
		spin_ns(t_rand(&rng) % RACE_SPIN_NS);
		rc->slot[i].commit_rc = sfshm_ring_commit(p, &c);
		sf_store_release32(&rc->committed, i + 1);
	}
	sfshm_ring_unmap(p);
	return 0;
}

static int race_reader(void *arg)
{
	struct race *rc = arg;
	struct sfshm_ring *r = child_map(rc->d, SFSHM_ROLE_READER);
	struct sfshm_ring_stats st;
	uint8_t buf[FRAME_1K];
	struct sfshm_msg m;
	uint32_t got = 0;
	struct t_key k;

	if (!r || sfshm_ring_publish_pos(r))
		return 1;
	/* Pairs with the acquire load in race_reached(). */
	sf_store_release32(&rc->reader_ready, 1);
	while (got + 1 != sf_load_acquire32(&rc->expect)) {
		int err = sfshm_ring_read(r, &m, buf, sizeof(buf));

		if (!err) {
			if (!t_key_intact(&m, &k) || k.seq >= RACE_N)
				return 2;
			rc->slot[k.seq].seen++;
			got++;
		} else if (err != -EAGAIN || stopped(rc->d)) {
			return 3;
		} else {
			sfshm_ring_publish_pos(r);
			sfshm_ring_wait(r, 10);
		}
	}
	sfshm_ring_stats(r, &st);
	rc->reader_pads = st.pad_frames;
	sfshm_ring_unmap(r);
	return 0;
}

static void race_owner(struct race *rc, struct owner *o)
{
	uint64_t rng = 11, padded;

	for (uint32_t i = 0; i < RACE_N; i++) {
		if (!race_reached(&rc->claimed, i + 1, rc->d))
			fail_msg("race: no claim %u", i);
		spin_ns(t_rand(&rng) % (RACE_SPIN_NS / 2));
		rc->slot[i].unblock_rc =
			sfshm_ring_unblock(o->r, rc->slot[i].pos, &padded);
		if (!race_reached(&rc->committed, i + 1, rc->d))
			fail_msg("race: no commit %u", i);
		assert_int_equal(owner_drain(o), 0);
		assert_int_equal(owner_clean(o), 0);
		sf_store_release32(&rc->resolved, i + 1);
	}
}

static void test_unblock_commit_race(void **state)
{
	struct dead *d = *state;
	struct race *rc = t_shared_alloc(sizeof(*rc));
	struct owner o = { .d = d };
	uint32_t won = 0, revoked = 0;
	struct t_task prod, rd;

	rc->d = d;
	o.r = d->l.o = t_ring_map(&d->ring, SFSHM_ROLE_OWNER);
	t_task_start(&rd, race_reader, rc, false);
	if (!race_reached(&rc->reader_ready, 1, d))
		fail_msg("race: the reader did not start");
	t_task_start(&prod, race_producer, rc, false);
	race_owner(rc, &o);
	assert_int_equal(t_task_wait(&prod, 10000 * t_slowdown()), 0);
	for (uint32_t i = 0; i < RACE_N; i++) {
		struct race_slot *s = &rc->slot[i];

		if (!((s->commit_rc == 0 && s->unblock_rc == -EAGAIN) ||
		      (s->commit_rc == -ECANCELED && s->unblock_rc == 0)))
			fail_msg("claim %u: commit %d, unblock %d: exactly one "
				 "must win",
				 i, s->commit_rc, s->unblock_rc);
		won += s->commit_rc == 0;
		revoked += s->commit_rc != 0;
	}
	sf_store_release32(&rc->expect, won + 1);
	assert_int_equal(t_task_wait(&rd, 10000 * t_slowdown()), 0);
	for (uint32_t i = 0; i < RACE_N; i++)
		if (rc->slot[i].seen != (rc->slot[i].commit_rc == 0))
			fail_msg("claim %u: commit %d, seen %u times", i,
				 rc->slot[i].commit_rc, rc->slot[i].seen);
	assert_int_equal(rc->reader_pads, revoked);
	print_message("commit won %u times, unblock %u times\n", won, revoked);
	/* Both outcomes, or the race was not a race. */
	assert_true(won > 0 && revoked > 0);
	munmap(rc, sizeof(*rc));
}

/* ---- unblock must wake readers asleep at the hole ---------------------------------- */

struct sleeper {
	struct dead *d;
	uint64_t hole;
	uint64_t t_woke_ns;
	int32_t err;
};

static int sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct sfshm_ring *r = child_map(s->d, SFSHM_ROLE_READER);
	uint8_t buf[FRAME_1K];
	struct sfshm_msg m;
	struct t_key k;

	if (!r || sfshm_ring_read(r, &m, buf, sizeof(buf)))
		return 1;
	if (sfshm_ring_read(r, &m, buf, sizeof(buf)) != -EAGAIN)
		return 2;
	sfshm_ring_set_wait(r, SFSHM_WAIT_FUTEX, 0);
	s->err = sfshm_ring_wait(r, 5000 * t_slowdown());
	s->t_woke_ns = t_now_ns();
	if (s->err || sfshm_ring_read(r, &m, buf, sizeof(buf)) ||
	    !t_key_intact(&m, &k) || k.seq != 2)
		return 3;
	sfshm_ring_unmap(r);
	return 0;
}

static bool sleeping(void *arg)
{
	struct sleeper *s = arg;

	return sf_load_acquire32(&s->d->raw.ctl->k_waiters) > 0;
}

/*
 * A reader asleep at a stalled frame while a record is committed behind
 * it: once the owner unblocks, the reader must wake up, not sleep on until
 * a commit or its sleep slice wakes it.
 */
static void test_unblock_wakes_sleeper(void **state)
{
	struct dead *d = *state;
	struct sleeper *s = t_shared_alloc(sizeof(*s));
	struct sfshm_claim c;
	struct t_task rd;
	uint64_t padded, t0;
	struct local *l;
	double ms;

	l = local_open(d);
	s->d = d;
	assert_int_equal(send_rec(l->p, 0, 0, 10, 0), 0);
	claim_rec(l, l->p, 0, 1, 10, &c);
	assert_int_equal(send_rec(l->p, 0, 2, 10, 0), 0);
	t_task_start(&rd, sleeper_main, s, false);
	assert_true(t_wait_until(sleeping, s, 5000 * t_slowdown()));
	t_sleep_us(10000); /* well inside its futex sleep */
	t0 = t_now_ns();
	assert_int_equal(sfshm_ring_unblock(l->o, c.pos, &padded), 0);
	assert_int_equal(t_task_wait(&rd, 10000 * t_slowdown()), 0);
	ms = (double)(s->t_woke_ns - t0) / 1e6;
	print_message("reader asleep at the hole woke %.3f ms after unblock\n",
		      ms);
	if (ms > 50)
		fail_msg("reader asleep at the hole woke only %.1f ms after "
			 "sfshm_ring_unblock(): unblock does not wake readers "
			 "(they wait out their 100 ms futex slice)",
			 ms);
	munmap(s, sizeof(*s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dead_after_claim, setup_4m,
						teardown),
		cmocka_unit_test_setup_teardown(test_dead_before_header,
						setup_4m, teardown),
		cmocka_unit_test_setup_teardown(test_dead_wrap_before_pad,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_dead_wrap_after_pad,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_commit_revoked,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_before_header,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_unblock_refuses, setup_64k,
						teardown),
		cmocka_unit_test_setup_teardown(test_unblock_commit_race,
						setup_4m, teardown),
		cmocka_unit_test_setup_teardown(test_unblock_wakes_sleeper,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_commit_after_lap,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stalled_header_after_lap,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stale_word_taken_over,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_unblock_stale_hole,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_stall_held_back, setup_64k,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_stall_across_lap_meets_record, setup_64k,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_stall_across_lap_meets_claim, setup_64k, teardown),
		cmocka_unit_test_setup_teardown(
			test_stall_slot_lost_meets_record, setup_64k, teardown),
		cmocka_unit_test_setup_teardown(
			test_stall_slot_lost_meets_claim, setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_zombie_holder_forgotten,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_dead_holder_start_zeroed,
						setup_64k, teardown),
		cmocka_unit_test_setup_teardown(test_forget_live_holder,
						setup_64k, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
