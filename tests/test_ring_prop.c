// SPDX-License-Identifier: MIT
/*
 * test_ring_prop.c - the ring against a model, on random operations.
 *
 * The model is the list of frames between the clean position and the tail
 * (records, padding, claims still open) plus the reader's place in it.
 * Each step picks one operation at random - send, send_batch, claim,
 * commit or abort of an open claim, read (copy), peek (+ consume), clean
 * (never past the reader), seek, a late reader - predicts its result from
 * positions alone, runs it on a 64 KiB ring (so that wrapping is constant)
 * and compares: return code, position, every byte read, the invariants
 *     clean <= reader position <= tail <= limit == clean + size,
 * the padding both sides count (aligned bytes), and now and then every
 * frame word in the window, tagged with the lap of its position.
 * In particular -EAGAIN from a producer must happen exactly when the
 * claim would end beyond clean + size.
 *
 * SFSHM_SEED=n runs seed n only; SFSHM_STEPS=n changes the steps per seed
 * (default 20000); SFSHM_SEEDS=n the number of seeds (default 50).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "t_util.h"

#define RING_SIZE (64ull << 10)
#define QCAP 8192 /* frames between clean and tail, at most */
#define MAX_OPEN 4 /* claims held open at once */
#define MAX_HDRS 20
#define MAX_BATCH 6 /* records per sfshm_ring_send_batch() */
#define HIST 16

enum kind { K_REC, K_PAD, K_OPEN };

/* A record as sent, owning its bytes. */
struct prec {
	struct sfshm_rec rec;
	struct sfshm_hdr hdrs[MAX_HDRS];
	uint8_t *mem;
	uint64_t flen; /* frame bytes, computed by the model */
};

struct mframe {
	uint64_t pos;
	uint64_t next;
	uint32_t len; /* the frame word's length */
	enum kind kind;
	struct prec *p; /* K_REC, K_OPEN */
	struct sfshm_claim c; /* K_OPEN */
	bool zc_value; /* K_OPEN: value still to write */
};

struct prop {
	uint64_t seed;
	uint64_t rng;
	uint32_t step;
	struct t_fx fx; /* the ring in every role, a read buffer */
	uint32_t max; /* the largest frame */

	/* The model. */
	struct mframe *q; /* circular, QCAP entries */
	uint32_t head, n; /* frames [clean, tail) */
	uint32_t rix; /* index (from head) of the reader's frame */
	uint32_t open;
	uint64_t clean, tail, rpos;

	uint64_t full_seen, sent, read;
	/* Padding the reader skipped and the producer made (aligned bytes). */
	uint64_t rd_pad_frames, rd_pad_bytes, pr_pad_frames, pr_pad_bytes;
	char hist[HIST][96];
};

static uint32_t steps_per_seed = 20000;

#define CHECK(pr, cond, ...)                                    \
	do {                                                    \
		if (!(cond))                                    \
			prop_fail((pr), __LINE__, __VA_ARGS__); \
	} while (0)

#define CHECK_ERR(pr, got, want, what)                                        \
	do {                                                                  \
		int g_ = (got), w_ = (want);                                  \
		CHECK(pr, g_ == w_, "%s = %d (%s), model says %d (%s)", what, \
		      g_, sfshm_strerror(g_), w_, sfshm_strerror(w_));        \
	} while (0)

static void prop_fail(struct prop *pr, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

static void prop_fail(struct prop *pr, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	print_message("last operations (oldest first):\n");
	for (uint32_t i = 0; i < HIST; i++) {
		const char *h = pr->hist[(pr->step + 1 + i) % HIST];

		if (*h)
			print_message("    %s\n", h);
	}
	fail_msg("seed %llu step %u (line %d): %s\n"
		 "    model: clean %llu reader %llu tail %llu, %u frames, "
		 "%u open\n    reproduce: SFSHM_SEED=%llu",
		 (unsigned long long)pr->seed, pr->step, line, msg,
		 (unsigned long long)pr->clean, (unsigned long long)pr->rpos,
		 (unsigned long long)pr->tail, pr->n, pr->open,
		 (unsigned long long)pr->seed);
	abort(); /* not reached */
}

static void note(struct prop *pr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct prop *pr, const char *fmt, ...)
{
	char *h = pr->hist[pr->step % HIST];
	int n = snprintf(h, 96, "%6u ", pr->step);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(h + n, 96 - (size_t)n, fmt, ap);
	va_end(ap);
}

static uint32_t rnd(struct prop *pr, uint32_t n)
{
	return n ? (uint32_t)(t_rand(&pr->rng) % n) : 0;
}

static uint64_t align8(uint64_t n)
{
	return (n + 7) & ~7ull;
}

static struct mframe *fr(struct prop *pr, uint32_t i)
{
	return &pr->q[(pr->head + i) % QCAP];
}

/* ---- records ------------------------------------------------------------ */

static void free_prec(struct prec *p)
{
	if (p)
		free(p->mem);
	free(p);
}

static int32_t gen_key_len(struct prop *pr)
{
	uint32_t c = rnd(pr, 100);

	if (c < 15)
		return -1;
	if (c < 25)
		return 0;
	if (c < 90)
		return 1 + (int32_t)rnd(pr, 16);
	return (int32_t)rnd(pr, 300);
}

static void gen_hdrs(struct prop *pr, struct prec *p, uint64_t *bytes)
{
	uint32_t c = rnd(pr, 100);
	uint32_t n = c < 60 ? 0 : c < 90 ? 1 + rnd(pr, 4) : 5 + rnd(pr, 16);

	for (uint32_t i = 0; i < n; i++) {
		struct sfshm_hdr *h = &p->hdrs[i];
		uint32_t v = rnd(pr, 10);

		h->key_len = rnd(pr, 5) == 0 ? 0 : 1 + rnd(pr, 12);
		h->value_len = v < 2 ? -1 :
			       v < 3 ? 0 :
				       1 + (int32_t)rnd(pr, 40);
		*bytes +=
			8 + h->key_len + (h->value_len > 0 ? h->value_len : 0);
	}
	p->rec.hdrs = n ? p->hdrs : NULL;
	p->rec.hdr_count = n;
}

/* Value length: mostly small, sometimes just below or just over the max. */
static int32_t gen_value_len(struct prop *pr, uint64_t other)
{
	uint32_t c = rnd(pr, 100);
	int64_t v;

	if (c < 10)
		return -1;
	if (c < 20)
		return 0;
	if (c < 65)
		return 1 + (int32_t)rnd(pr, 200);
	if (c < 85)
		return 200 + (int32_t)rnd(pr, 2800);
	if (c < 97)
		v = (int64_t)pr->max - (int64_t)other - rnd(pr, 24);
	else
		v = (int64_t)pr->max + 1 - (int64_t)other + rnd(pr, 16);
	return v < 0 ? 0 : (int32_t)v;
}

static uint8_t *fill(struct prop *pr, uint8_t *at, int32_t len)
{
	for (int32_t i = 0; i < len; i++)
		at[i] = (uint8_t)t_rand(&pr->rng);
	return at + (len > 0 ? len : 0);
}

static void place_bytes(struct prop *pr, struct prec *p, uint64_t total)
{
	uint8_t *at;

	p->mem = malloc(total + 1);
	assert_non_null(p->mem);
	at = p->mem;
	p->rec.key = p->rec.key_len < 0 ? NULL : at;
	at = fill(pr, at, p->rec.key_len);
	p->rec.value = p->rec.value_len < 0 ? NULL : at;
	at = fill(pr, at, p->rec.value_len);
	for (uint32_t i = 0; i < p->rec.hdr_count; i++) {
		struct sfshm_hdr *h = &p->hdrs[i];

		/* An empty header key is sent sometimes as NULL. */
		h->key = h->key_len || rnd(pr, 2) ? (const char *)at : NULL;
		at = fill(pr, at, (int32_t)h->key_len);
		h->value = h->value_len < 0 ? NULL : at;
		at = fill(pr, at, h->value_len);
	}
}

static struct prec *gen_rec(struct prop *pr)
{
	struct prec *p = calloc(1, sizeof(*p));
	uint64_t other = SFSHM_FRAME_HDR_SIZE, hbytes = 0;

	assert_non_null(p);
	p->rec.key_len = gen_key_len(pr);
	gen_hdrs(pr, p, &hbytes);
	other += (p->rec.key_len > 0 ? p->rec.key_len : 0) + hbytes;
	p->rec.value_len = gen_value_len(pr, other);
	p->rec.timestamp = rnd(pr, 5) ? (int64_t)t_rand(&pr->rng) : 0;
	p->flen =
		other + (uint64_t)(p->rec.value_len > 0 ? p->rec.value_len : 0);
	place_bytes(pr, p, p->flen);
	return p;
}

/* ---- the model ---------------------------------------------------------- */

struct expect {
	int err;
	uint64_t pos;
	uint32_t pad;
	uint32_t flen;
};

/* What a claim of @rec must do, from the positions alone. */
static struct expect model_claim(struct prop *pr, const struct prec *p)
{
	struct expect e = { 0 };
	int64_t flen = sfshm_rec_frame_len(&p->rec);
	uint64_t need, idx;

	CHECK(pr, flen > 0 && (uint64_t)flen == p->flen,
	      "sfshm_rec_frame_len = %lld, model %llu", (long long)flen,
	      (unsigned long long)p->flen);
	e.flen = (uint32_t)flen;
	if (flen > pr->max) {
		e.err = -EMSGSIZE;
		return e;
	}
	need = align8((uint64_t)flen);
	idx = pr->tail & (RING_SIZE - 1);
	e.pad = idx + need > RING_SIZE ? (uint32_t)(RING_SIZE - idx) : 0;
	if (pr->tail + e.pad + need > pr->clean + RING_SIZE)
		e.err = -EAGAIN;
	e.pos = pr->tail + e.pad;
	return e;
}

static struct mframe *push(struct prop *pr, enum kind k, uint32_t len)
{
	struct mframe *f;

	CHECK(pr, pr->n < QCAP, "model queue overflow");
	f = fr(pr, pr->n++);
	memset(f, 0, sizeof(*f));
	f->pos = pr->tail;
	f->len = len;
	f->kind = k;
	f->next = pr->tail + align8(len);
	pr->tail = f->next;
	return f;
}

/* Wrap padding of @len bytes before a claim. */
static void model_wrap_pad(struct prop *pr, uint32_t len)
{
	push(pr, K_PAD, len);
	pr->pr_pad_frames++;
	pr->pr_pad_bytes += len;
}

static void model_take(struct prop *pr, const struct expect *e, struct prec *p,
		       enum kind k)
{
	if (e->pad)
		model_wrap_pad(pr, e->pad);
	push(pr, k, e->flen)->p = p;
}

/* Padding is skipped by the reader whenever it looks for a record. */
static void model_skip_pads(struct prop *pr)
{
	while (pr->rix < pr->n && fr(pr, pr->rix)->kind == K_PAD) {
		pr->rpos = fr(pr, pr->rix)->next;
		pr->rd_pad_frames++;
		pr->rd_pad_bytes += align8(fr(pr, pr->rix)->len);
		pr->rix++;
	}
}

/* The record the reader must return next, or NULL for -EAGAIN. */
static struct mframe *model_next(struct prop *pr)
{
	struct mframe *f;

	model_skip_pads(pr);
	if (pr->rix == pr->n)
		return NULL;
	f = fr(pr, pr->rix);
	return f->kind == K_REC ? f : NULL;
}

static void model_advance(struct prop *pr)
{
	pr->rpos = fr(pr, pr->rix)->next;
	pr->rix++;
}

/* @who's padding statistics @st against the model's @frames and @bytes. */
static void check_pads(struct prop *pr, const char *who,
		       const struct sfshm_ring_stats *st, uint64_t frames,
		       uint64_t bytes)
{
	CHECK(pr, st->pad_frames == frames && st->pad_bytes == bytes,
	      "%s %llu padding frames, %llu bytes; model %llu, %llu", who,
	      (unsigned long long)st->pad_frames,
	      (unsigned long long)st->pad_bytes, (unsigned long long)frames,
	      (unsigned long long)bytes);
}

/* Both sides count padding in aligned bytes: wrap, abort and skip. */
static void check_pad_stats(struct prop *pr)
{
	struct sfshm_ring_stats rs, ps;

	sfshm_ring_stats(pr->fx.rd, &rs);
	sfshm_ring_stats(pr->fx.prod, &ps);
	check_pads(pr, "reader skipped", &rs, pr->rd_pad_frames,
		   pr->rd_pad_bytes);
	check_pads(pr, "producer made", &ps, pr->pr_pad_frames,
		   pr->pr_pad_bytes);
}

static void check_invariants(struct prop *pr)
{
	uint64_t tail = sfshm_ring_tail(pr->fx.prod);
	uint64_t limit = sfshm_ring_limit(pr->fx.prod);
	uint64_t clean = sfshm_ring_clean_pos(pr->fx.prod);
	uint64_t rpos = sfshm_ring_position(pr->fx.rd);

	CHECK(pr, tail == pr->tail, "tail %llu, model %llu",
	      (unsigned long long)tail, (unsigned long long)pr->tail);
	CHECK(pr, clean == pr->clean, "clean %llu, model %llu",
	      (unsigned long long)clean, (unsigned long long)pr->clean);
	CHECK(pr, rpos == pr->rpos, "reader at %llu, model %llu",
	      (unsigned long long)rpos, (unsigned long long)pr->rpos);
	CHECK(pr, limit == clean + RING_SIZE, "limit %llu != clean %llu + size",
	      (unsigned long long)limit, (unsigned long long)clean);
	CHECK(pr, clean <= rpos && rpos <= tail && tail <= limit,
	      "not clean %llu <= reader %llu <= tail %llu <= limit %llu",
	      (unsigned long long)clean, (unsigned long long)rpos,
	      (unsigned long long)tail, (unsigned long long)limit);
	check_pad_stats(pr);
}

/* The word of a model frame: its type and length, tagged with its lap. */
static uint64_t model_word(const struct mframe *f)
{
	switch (f->kind) {
	case K_PAD:
		return t_word(RING_SIZE, SFSHM_FRAME_PAD, f->pos,
			      (int32_t)f->len);
	case K_OPEN:
		return t_word(RING_SIZE, SFSHM_FRAME_DATA, f->pos,
			      -(int32_t)f->len);
	default:
		return t_word(RING_SIZE, SFSHM_FRAME_DATA, f->pos,
			      (int32_t)f->len);
	}
}

/* Every frame word in the window, and the chain of positions. */
static void check_frames(struct prop *pr)
{
	uint64_t pos = pr->clean;

	for (uint32_t i = 0; i < pr->n; i++) {
		const struct mframe *f = fr(pr, i);
		uint64_t w = sfshm_ring_frame_word(pr->fx.own, f->pos);

		CHECK(pr, f->pos == pos, "model chain broken at %u", i);
		CHECK(pr, w == model_word(f),
		      "frame word at %llu is %#llx, model %#llx",
		      (unsigned long long)f->pos, (unsigned long long)w,
		      (unsigned long long)model_word(f));
		pos = f->next;
	}
	CHECK(pr, pos == pr->tail, "model frames end at %llu, tail %llu",
	      (unsigned long long)pos, (unsigned long long)pr->tail);
	/* Beyond the tail the memory is erased: nothing there yet. */
	if (pr->tail < pr->clean + RING_SIZE)
		CHECK(pr, sfshm_ring_frame_word(pr->fx.own, pr->tail) == 0,
		      "frame word beyond the tail is not zero");
}

static void check_msg(struct prop *pr, const struct sfshm_msg *m,
		      const struct mframe *f, const char *how)
{
	char why[192];

	CHECK(pr, m->pos == f->pos && m->next == f->next,
	      "%s: record at %llu..%llu, model %llu..%llu", how,
	      (unsigned long long)m->pos, (unsigned long long)m->next,
	      (unsigned long long)f->pos, (unsigned long long)f->next);
	CHECK(pr, t_msg_matches(m, &f->p->rec, why, sizeof(why)),
	      "%s: record at %llu differs: %s", how, (unsigned long long)f->pos,
	      why);
}

/* ---- operations --------------------------------------------------------- */

static void op_send(struct prop *pr)
{
	struct prec *p = gen_rec(pr);
	struct expect e = model_claim(pr, p);
	uint64_t pos = UINT64_MAX;
	int err = sfshm_ring_send(pr->fx.prod, &p->rec, 0, &pos);

	note(pr, "send flen %u at tail %llu: %d", e.flen,
	     (unsigned long long)pr->tail, err);
	CHECK_ERR(pr, err, e.err, "sfshm_ring_send");
	if (err) {
		pr->full_seen += err == -EAGAIN;
		free_prec(p);
		return;
	}
	CHECK(pr, pos == e.pos, "send put the record at %llu, model %llu",
	      (unsigned long long)pos, (unsigned long long)e.pos);
	model_take(pr, &e, p, K_REC);
	pr->sent++;
}

/* sfshm_ring_send_batch(): as many as fit in one max_frame, one claim. */
static void op_batch(struct prop *pr)
{
	uint32_t k = 2 + rnd(pr, MAX_BATCH - 1), count, i;
	struct sfshm_rec recs[MAX_BATCH];
	struct prec *p[MAX_BATCH];
	uint64_t total = 0, pos = UINT64_MAX, idx, pad = 0;
	int want, err;

	for (i = 0; i < k; i++) {
		p[i] = gen_rec(pr);
		recs[i] = p[i]->rec;
	}
	for (count = 0; count < k; count++) {
		if (p[count]->flen > pr->max ||
		    total + align8(p[count]->flen) > pr->max)
			break;
		total += align8(p[count]->flen);
	}
	idx = pr->tail & (RING_SIZE - 1);
	if (count && idx + total > RING_SIZE)
		pad = RING_SIZE - idx;
	if (count == 0)
		want = -EMSGSIZE;
	else if (pr->tail + pad + total > pr->clean + RING_SIZE)
		want = -EAGAIN;
	else
		want = (int)count;
	err = sfshm_ring_send_batch(pr->fx.prod, recs, k, 0, &pos);
	note(pr, "batch %u of %u, %llu bytes at tail %llu: %d", count, k,
	     (unsigned long long)total, (unsigned long long)pr->tail, err);
	CHECK_ERR(pr, err, want, "sfshm_ring_send_batch");
	pr->full_seen += err == -EAGAIN;
	if (err > 0) {
		CHECK(pr, pos == pr->tail + pad,
		      "batch put the first record at %llu, model %llu",
		      (unsigned long long)pos,
		      (unsigned long long)(pr->tail + pad));
		if (pad)
			model_wrap_pad(pr, (uint32_t)pad);
		for (i = 0; i < count; i++)
			push(pr, K_REC, (uint32_t)p[i]->flen)->p = p[i];
		pr->sent += count;
	}
	for (i = err > 0 ? count : 0; i < k; i++)
		free_prec(p[i]);
}

static void op_claim(struct prop *pr)
{
	struct prec *p = gen_rec(pr);
	struct sfshm_rec shape = p->rec;
	bool zc = p->rec.value_len > 0 && rnd(pr, 2);
	struct expect e = model_claim(pr, p);
	struct sfshm_claim c;
	struct mframe *f;
	int err;

	if (zc)
		shape.value = NULL; /* the caller writes it, later */
	err = sfshm_ring_claim(pr->fx.prod, &shape, 0, &c);
	note(pr, "claim flen %u%s at tail %llu: %d", e.flen, zc ? " zc" : "",
	     (unsigned long long)pr->tail, err);
	CHECK_ERR(pr, err, e.err, "sfshm_ring_claim");
	if (err) {
		pr->full_seen += err == -EAGAIN;
		free_prec(p);
		return;
	}
	CHECK(pr, c.pos == e.pos, "claim at %llu, model %llu",
	      (unsigned long long)c.pos, (unsigned long long)e.pos);
	CHECK(pr,
	      (c.key != NULL) == (p->rec.key_len >= 0) &&
		      (c.value != NULL) == (p->rec.value_len >= 0),
	      "claim pointers key %p value %p for lengths %d, %d", c.key,
	      c.value, p->rec.key_len, p->rec.value_len);
	model_take(pr, &e, p, K_OPEN);
	f = fr(pr, pr->n - 1);
	f->c = c;
	f->zc_value = zc;
	pr->open++;
}

static void op_finish(struct prop *pr)
{
	uint32_t k = rnd(pr, pr->open), i;
	bool drop = rnd(pr, 4) == 0;
	struct mframe *f = NULL;
	int err;

	for (i = 0; i < pr->n; i++) {
		f = fr(pr, i);
		if (f->kind == K_OPEN && k-- == 0)
			break;
	}
	CHECK(pr, i < pr->n, "model lost an open claim");
	if (drop) {
		err = sfshm_ring_abort(pr->fx.prod, &f->c);
		free_prec(f->p);
		f->p = NULL;
		f->kind = K_PAD;
		pr->pr_pad_frames++;
		pr->pr_pad_bytes += align8(f->len);
	} else {
		if (f->zc_value)
			memcpy(f->c.value, f->p->rec.value,
			       (size_t)f->p->rec.value_len);
		err = sfshm_ring_commit(pr->fx.prod, &f->c);
		f->kind = K_REC;
	}
	note(pr, "%s claim at %llu: %d", drop ? "abort" : "commit",
	     (unsigned long long)f->pos, err);
	CHECK_ERR(pr, err, 0, drop ? "sfshm_ring_abort" : "sfshm_ring_commit");
	pr->open--;
}

/* A buffer length: mostly enough, sometimes exact, sometimes one short. */
static size_t read_len(struct prop *pr, const struct mframe *f, int *want)
{
	uint32_t c = rnd(pr, 100);
	size_t blen;

	*want = f ? 0 : -EAGAIN;
	if (!f || c < 70)
		return pr->max;
	blen = f->len - SFSHM_FRAME_HDR_SIZE;
	if (c < 85 || blen == 0)
		return blen;
	*want = -ENOBUFS;
	return blen - 1;
}

static void op_read(struct prop *pr)
{
	struct mframe *f = model_next(pr);
	struct sfshm_msg m;
	size_t len;
	int want, err;

	len = read_len(pr, f, &want);
	err = sfshm_ring_read(pr->fx.rd, &m, pr->fx.buf, len);
	note(pr, "read at %llu, buf %zu: %d", (unsigned long long)pr->rpos, len,
	     err);
	CHECK_ERR(pr, err, want, "sfshm_ring_read");
	if (err == -ENOBUFS)
		CHECK(pr, m.pos == f->pos && m.next == f->next,
		      "-ENOBUFS told %llu..%llu, model %llu..%llu",
		      (unsigned long long)m.pos, (unsigned long long)m.next,
		      (unsigned long long)f->pos, (unsigned long long)f->next);
	if (err)
		return;
	check_msg(pr, &m, f, "read");
	model_advance(pr);
	pr->read++;
}

static void op_peek(struct prop *pr)
{
	struct mframe *f = model_next(pr);
	uint32_t c = rnd(pr, 10);
	struct sfshm_msg m, m2;
	int err = sfshm_ring_peek(pr->fx.rd, &m);

	note(pr, "peek at %llu: %d", (unsigned long long)pr->rpos, err);
	CHECK_ERR(pr, err, f ? 0 : -EAGAIN, "sfshm_ring_peek");
	if (err)
		return;
	check_msg(pr, &m, f, "peek");
	if (c == 0)
		return; /* looked, did not take */
	if (c == 1) {
		CHECK_ERR(pr, sfshm_ring_peek(pr->fx.rd, &m2), 0,
			  "second peek");
		CHECK(pr, m2.pos == m.pos && m2.value == m.value,
		      "second peek differs");
	}
	CHECK_ERR(pr, sfshm_ring_consume(pr->fx.rd, &m), 0,
		  "sfshm_ring_consume");
	model_advance(pr);
	pr->read++;
}

static void model_clean(struct prop *pr, uint64_t upto)
{
	while (pr->n && fr(pr, 0)->pos < upto) {
		struct mframe *f = fr(pr, 0);

		CHECK(pr, f->kind != K_OPEN && f->next <= upto,
		      "model would clean past an open frame");
		free_prec(f->p);
		f->p = NULL;
		pr->head = (pr->head + 1) % QCAP;
		pr->n--;
		pr->rix--;
	}
	pr->clean = upto;
}

static void op_clean(struct prop *pr)
{
	uint32_t c = rnd(pr, 10), j, top;
	uint64_t upto;
	int err;

	if (c == 0) {
		/* Refused: unaligned, backwards, beyond the tail. */
		CHECK_ERR(pr, sfshm_ring_clean(pr->fx.own, pr->rpos + 4),
			  -EINVAL, "clean(unaligned)");
		CHECK_ERR(pr, sfshm_ring_clean(pr->fx.own, pr->tail + 8),
			  -EINVAL, "clean(beyond tail)");
		if (pr->clean >= 8)
			CHECK_ERR(pr,
				  sfshm_ring_clean(pr->fx.own, pr->clean - 8),
				  -EINVAL, "clean(backwards)");
		note(pr, "clean refusals");
		return;
	}
	/*
	 * Up to the reader, or to a frame boundary before it; never past a
	 * claim still open (the reader may have seeked beyond one).
	 */
	for (top = 0; top < pr->rix; top++)
		if (fr(pr, top)->kind == K_OPEN)
			break;
	j = c < 6 ? top : rnd(pr, top + 1);
	upto = j == pr->n ? pr->tail : fr(pr, j)->pos;
	err = sfshm_ring_clean(pr->fx.own, upto);
	note(pr, "clean %llu -> %llu: %d", (unsigned long long)pr->clean,
	     (unsigned long long)upto, err);
	CHECK_ERR(pr, err, 0, "sfshm_ring_clean");
	model_clean(pr, upto);
}

static void op_seek(struct prop *pr)
{
	uint32_t j = rnd(pr, pr->n + 1);
	uint64_t to = j == pr->n ? pr->tail : fr(pr, j)->pos;

	note(pr, "seek %llu -> %llu", (unsigned long long)pr->rpos,
	     (unsigned long long)to);
	CHECK_ERR(pr, sfshm_ring_seek(pr->fx.rd, pr->tail + 8), -EINVAL,
		  "seek(beyond tail)");
	if (pr->clean >= 8)
		CHECK_ERR(pr, sfshm_ring_seek(pr->fx.rd, pr->clean - 8),
			  -EOVERFLOW, "seek(erased)");
	CHECK_ERR(pr, sfshm_ring_seek(pr->fx.rd, to), 0, "sfshm_ring_seek");
	pr->rix = j;
	pr->rpos = to;
}

/* A reader mapped now starts at clean and sees the whole window. */
static void op_late_reader(struct prop *pr)
{
	struct sfshm_ring *late = t_ring_map(&pr->fx.t, SFSHM_ROLE_READER);
	struct sfshm_msg m;
	uint32_t i;
	int err = 1;

	note(pr, "late reader at %llu", (unsigned long long)pr->clean);
	CHECK(pr, sfshm_ring_position(late) == pr->clean,
	      "late reader starts at %llu, clean is %llu",
	      (unsigned long long)sfshm_ring_position(late),
	      (unsigned long long)pr->clean);
	for (i = 0; i < pr->n; i++) {
		struct mframe *f = fr(pr, i);

		if (f->kind == K_PAD)
			continue;
		err = sfshm_ring_read(late, &m, pr->fx.buf, pr->max);
		if (f->kind == K_OPEN)
			break;
		CHECK_ERR(pr, err, 0, "late reader read");
		check_msg(pr, &m, f, "late read");
	}
	if (i == pr->n)
		err = sfshm_ring_read(late, &m, pr->fx.buf, pr->max);
	CHECK_ERR(pr, err, -EAGAIN, "late reader at the end");
	sfshm_ring_unmap(late);
}

static void prop_step(struct prop *pr)
{
	uint32_t c = rnd(pr, 100);

	if (c < 22)
		op_send(pr);
	else if (c < 28)
		op_batch(pr);
	else if (c < 38)
		pr->open < MAX_OPEN ? op_claim(pr) : op_finish(pr);
	else if (c < 48)
		pr->open ? op_finish(pr) : op_send(pr);
	else if (c < 68)
		op_read(pr);
	else if (c < 84)
		op_peek(pr);
	else if (c < 98)
		op_clean(pr);
	else if (c < 99)
		op_seek(pr);
	else
		op_late_reader(pr);
	check_invariants(pr);
	if ((pr->step & 255) == 0)
		check_frames(pr);
}

/* ---- fixture ------------------------------------------------------------ */

static int prop_setup(void **state)
{
	struct prop *pr = calloc(1, sizeof(*pr));

	assert_non_null(pr);
	pr->seed = (uint64_t)(uintptr_t)*state;
	pr->rng = pr->seed * 0x9e3779b97f4a7c15ull + 1;
	t_fx_open(&pr->fx, RING_SIZE);
	pr->max = (uint32_t)pr->fx.buflen;
	pr->q = calloc(QCAP, sizeof(*pr->q));
	assert_non_null(pr->q);
	*state = pr;
	return 0;
}

static int prop_teardown(void **state)
{
	struct prop *pr = *state;

	for (uint32_t i = 0; i < pr->n; i++)
		free_prec(fr(pr, i)->p);
	t_fx_close(&pr->fx);
	free(pr->q);
	free(pr);
	return 0;
}

static void test_ring_model(void **state)
{
	struct prop *pr = *state;

	for (pr->step = 1; pr->step <= steps_per_seed; pr->step++)
		prop_step(pr);
	check_frames(pr);
	print_message("seed %llu: %llu records sent, %llu read, ring full "
		      "%llu times, %llu laps\n",
		      (unsigned long long)pr->seed,
		      (unsigned long long)pr->sent,
		      (unsigned long long)pr->read,
		      (unsigned long long)pr->full_seen,
		      (unsigned long long)(pr->tail / RING_SIZE));
	/* The run must have exercised both a full ring and many records. */
	CHECK(pr, pr->full_seen > 0, "the ring was never full");
	CHECK(pr, pr->read > steps_per_seed / 20, "only %llu records read",
	      (unsigned long long)pr->read);
}

static uint32_t env_u32(const char *name, uint32_t dflt)
{
	const char *s = getenv(name);

	return s && *s ? (uint32_t)strtoul(s, NULL, 0) : dflt;
}

int main(void)
{
	uint32_t nseeds = env_u32("SFSHM_SEEDS", 50);
	const char *one = getenv("SFSHM_SEED");
	struct CMUnitTest *tests;
	char(*names)[32];
	int fails;

	steps_per_seed = env_u32("SFSHM_STEPS", 20000);
	if (one && *one)
		nseeds = 1;
	tests = calloc(nseeds, sizeof(*tests));
	names = calloc(nseeds, sizeof(*names));
	if (!tests || !names)
		return 1;
	for (uint32_t i = 0; i < nseeds; i++) {
		uint64_t seed = one && *one ? strtoull(one, NULL, 0) : i + 1;

		snprintf(names[i], sizeof(names[i]), "ring_model_seed_%llu",
			 (unsigned long long)seed);
		tests[i] = (struct CMUnitTest)
			cmocka_unit_test_prestate_setup_teardown(
				test_ring_model, prop_setup, prop_teardown,
				(void *)(uintptr_t)seed);
		tests[i].name = names[i];
	}
	fails = _cmocka_run_group_tests("ring_model", tests, nseeds, NULL,
					NULL);
	free(tests);
	free(names);
	return fails ? 1 : 0;
}
