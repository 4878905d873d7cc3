// SPDX-License-Identifier: MIT
/*
 * test_ring_unit.c - unit tests of the partition ring API.
 *
 * Every test maps a real ring (memfds) in the roles it needs; the tests of
 * blocking and waking run the other side in a forked process and wait on
 * observable conditions (a futex waiter count, the process sleeping) with
 * deadlines.  Groups:
 *   records   round trips, null vs empty, headers, limits, claims, seek
 *   wrap      padding at every 8-byte offset of the wrap point
 *   geometry  ring sizes, formatting, refusing bad or corrupt rings
 *   roles     what a reader handle may not do (API and the MMU), and
 *             the ctl slot it holds
 *   blocking  back-pressure, timeouts, wake-ups across processes
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_util.h"

#define RING_64K T_FX_SIZE /* the fixture's ring (t_fx_setup()) */
#define RING_1G (1ull << 30)
#define HDR SFSHM_FRAME_HDR_SIZE
#define CHILD_MS 10000 /* deadline for any child process */
#define WAKE_MS 50 /* a futex wake-up must arrive within this */

#define assert_err(expr, want)                                                \
	do {                                                                  \
		int e_ = (expr);                                              \
		int w_ = (want);                                              \
		if (e_ != w_)                                                 \
			fail_msg("%s = %d (%s), want %d (%s)", #expr, e_,     \
				 sfshm_strerror(e_), w_, sfshm_strerror(w_)); \
	} while (0)

#define assert_msg(m, rec)                                            \
	do {                                                          \
		char why_[192];                                       \
		if (!t_msg_matches((m), (rec), why_, sizeof(why_)))   \
			fail_msg("record at %llu: %s",                \
				 (unsigned long long)(m)->pos, why_); \
	} while (0)

static uint8_t pattern[16384];

static uint32_t align8(uint64_t n)
{
	return (uint32_t)((n + 7) & ~7ull);
}

static void fill_pattern(void)
{
	uint64_t s = 0x5eed;

	for (size_t i = 0; i < sizeof(pattern); i++)
		pattern[i] = (uint8_t)t_rand(&s);
}

static const void *pat(uint32_t salt)
{
	return pattern + (salt * 977u) % 4096u;
}

static struct sfshm_rec rec_kv(const void *k, int32_t kl, const void *v,
			       int32_t vl)
{
	struct sfshm_rec rec = {
		.key = k,
		.key_len = kl,
		.value = v,
		.value_len = vl,
		.timestamp = 1000 + (int64_t)kl * 7 + vl,
	};

	return rec;
}

/*
 * A record whose frame is exactly @flen bytes: a 3-byte key, a value and,
 * when @salt is odd and there is room, one header.  @h receives the header.
 */
static struct sfshm_rec rec_of_len(uint32_t flen, uint32_t salt,
				   struct sfshm_hdr *h)
{
	uint32_t body = flen - HDR, k = body >= 3 ? 3 : body;
	uint32_t rest = body - k;
	struct sfshm_rec rec =
		rec_kv(pat(salt), (int32_t)k, pat(salt + 1), (int32_t)rest);

	if ((salt & 1) && rest >= 9) {
		uint32_t hv = rest - 9 > 100 ? 100 : rest - 9;

		h->key = "w";
		h->key_len = 1;
		h->value = pat(salt + 2);
		h->value_len = (int32_t)hv;
		rec.value_len = (int32_t)(rest - 9 - hv);
		rec.hdrs = h;
		rec.hdr_count = 1;
	}
	rec.timestamp = 77 + salt;
	return rec;
}

/* ---- fixture: struct t_fx (t_util.h), a 64 KiB ring in every role ----- */

static uint64_t send_ok(struct sfshm_ring *p, const struct sfshm_rec *rec)
{
	uint64_t pos = UINT64_MAX;

	assert_err(sfshm_ring_send(p, rec, 0, &pos), 0);
	return pos;
}

/* Read the next record with a copy and check it is @rec at @pos. */
static void read_expect(struct t_fx *f, const struct sfshm_rec *rec,
			uint64_t pos)
{
	struct sfshm_msg m;

	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	assert_int_equal(m.pos, pos);
	assert_int_equal(m.next,
			 pos + align8((uint64_t)sfshm_rec_frame_len(rec)));
	assert_int_equal(sfshm_ring_position(f->rd), m.next);
	assert_msg(&m, rec);
}

/* Peek, check, peek again (same view), consume. */
static void peek_expect(struct sfshm_ring *rd, const struct sfshm_rec *rec,
			uint64_t pos)
{
	struct sfshm_msg m, m2;

	assert_err(sfshm_ring_peek(rd, &m), 0);
	assert_int_equal(m.pos, pos);
	assert_msg(&m, rec);
	assert_err(sfshm_ring_peek(rd, &m2), 0);
	assert_true(m2.pos == m.pos && m2.key == m.key && m2.value == m.value);
	assert_int_equal(sfshm_ring_position(rd), pos);
	assert_err(sfshm_ring_consume(rd, &m), 0);
	assert_int_equal(sfshm_ring_position(rd), m.next);
}

static void expect_empty(struct sfshm_ring *rd, uint8_t *buf, size_t len)
{
	struct sfshm_msg m;

	assert_err(sfshm_ring_read(rd, &m, buf, len), -EAGAIN);
	assert_err(sfshm_ring_peek(rd, &m), -EAGAIN);
}

/* ---- records ------------------------------------------------------------ */

static void test_roundtrip_copy(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("k1", 2, "hello world", 11);
	struct sfshm_ring_stats st;
	uint64_t pos[100];

	rec.timestamp = 1234;
	assert_int_equal(send_ok(f->prod, &rec), 0);
	assert_int_equal(sfshm_ring_tail(f->rd), align8(HDR + 2 + 11));
	read_expect(f, &rec, 0);
	expect_empty(f->rd, f->buf, f->buflen);
	sfshm_ring_stats(f->rd, &st);
	assert_int_equal(st.records, 1);
	assert_int_equal(st.bytes, align8(HDR + 13));

	/* A run of records of every small size, read back in order. */
	for (int i = 0; i < 100; i++) {
		struct sfshm_rec r = rec_kv(pat(i), i % 7, pat(i + 50), i);

		pos[i] = send_ok(f->prod, &r);
	}
	for (int i = 0; i < 100; i++) {
		struct sfshm_rec r = rec_kv(pat(i), i % 7, pat(i + 50), i);

		read_expect(f, &r, pos[i]);
	}
	expect_empty(f->rd, f->buf, f->buflen);
}

static void test_roundtrip_peek(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("key", 3, "value", 5);
	struct sfshm_msg m, bad;

	assert_int_equal(send_ok(f->prod, &rec), 0);
	assert_err(sfshm_ring_peek(f->rd, &m), 0);
	/* The view points into the ring, not into a buffer of ours. */
	assert_true((const uint8_t *)m.key < f->buf ||
		    (const uint8_t *)m.key >= f->buf + f->buflen);
	bad = m;
	bad.pos += 8;
	assert_err(sfshm_ring_consume(f->rd, &bad), -EINVAL);
	assert_int_equal(sfshm_ring_position(f->rd), 0);
	assert_err(sfshm_ring_seek(f->rd, 0), 0);
	peek_expect(f->rd, &rec, 0);
	expect_empty(f->rd, f->buf, f->buflen);
}

static void test_null_vs_empty(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec recs[] = {
		rec_kv(NULL, -1, NULL, -1), rec_kv("", 0, "", 0),
		rec_kv(NULL, -1, "", 0),    rec_kv("", 0, NULL, -1),
		rec_kv(NULL, 0, NULL, 0),   rec_kv("x", 1, NULL, -1),
	};
	size_t n = sizeof(recs) / sizeof(recs[0]);
	uint64_t pos[8];
	struct sfshm_msg m;

	for (size_t i = 0; i < n; i++)
		pos[i] = send_ok(f->prod, &recs[i]);
	for (size_t i = 0; i < n; i++) {
		read_expect(f, &recs[i], pos[i]);
	}
	/* The same through zero-copy views. */
	assert_err(sfshm_ring_seek(f->rd, 0), 0);
	for (size_t i = 0; i < n; i++)
		peek_expect(f->rd, &recs[i], pos[i]);
	/* Spelled out once: null is NULL/-1, empty is non-NULL/0. */
	assert_err(sfshm_ring_seek(f->rd, pos[2]), 0);
	assert_err(sfshm_ring_peek(f->rd, &m), 0);
	assert_null(m.key);
	assert_int_equal(m.key_len, -1);
	assert_non_null(m.value);
	assert_int_equal(m.value_len, 0);
}

static void check_hdrs_roundtrip(struct t_fx *f, const struct sfshm_hdr *h,
				 uint32_t n)
{
	struct sfshm_rec rec = rec_kv("hk", 2, "hv", 2);
	int64_t want = HDR + 4;
	uint64_t pos;

	rec.hdrs = h;
	rec.hdr_count = n;
	for (uint32_t i = 0; i < n; i++)
		want += 8 + h[i].key_len +
			(h[i].value_len < 0 ? 0 : h[i].value_len);
	assert_int_equal(sfshm_rec_frame_len(&rec), want);
	pos = send_ok(f->prod, &rec);
	read_expect(f, &rec, pos);
	assert_err(sfshm_ring_seek(f->rd, pos), 0);
	peek_expect(f->rd, &rec, pos);
}

static void test_headers(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_hdr one = { "a", 1, 1, "1" };
	struct sfshm_hdr odd[] = {
		{ NULL, 0, -1, NULL }, /* empty key, null value */
		{ "", 0, 0, "" }, /* empty key, empty value */
		{ "nul\0key", 7, 3, "\0\0\0" },
		{ "k", 1, -1, NULL },
		{ "k", 1, 0, NULL }, /* empty value, no pointer */
	};
	struct sfshm_hdr many[64];
	struct sfshm_msg m;
	struct sfshm_hdr h;

	check_hdrs_roundtrip(f, NULL, 0);
	check_hdrs_roundtrip(f, &one, 1);
	check_hdrs_roundtrip(f, odd, sizeof(odd) / sizeof(odd[0]));
	for (uint32_t i = 0; i < 64; i++) {
		many[i].key = (const char *)pat(i);
		many[i].key_len = i % 5;
		many[i].value = pat(i + 3);
		many[i].value_len = i % 3 == 0 ? -1 : (int32_t)(i * 3);
	}
	check_hdrs_roundtrip(f, many, 64);

	/* Past the last header, and on a record without any. */
	assert_err(sfshm_ring_seek(f->rd, 0), 0);
	assert_err(sfshm_ring_peek(f->rd, &m), 0);
	assert_int_equal(m.hdr_count, 0);
	assert_err(sfshm_msg_header(&m, 0, &h), -ENOENT);
	assert_err(sfshm_msg_header(&m, UINT32_MAX, &h), -ENOENT);
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static void test_timestamp(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("t", 1, "t", 1);
	int64_t before, after;
	struct sfshm_msg m;

	rec.timestamp = 0;
	before = realtime_ns();
	send_ok(f->prod, &rec);
	after = realtime_ns();
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	if (m.timestamp < before || m.timestamp > after)
		fail_msg("timestamp 0 became %lld, not now [%lld, %lld]",
			 (long long)m.timestamp, (long long)before,
			 (long long)after);
	rec.timestamp = -5;
	read_expect(f, &rec, send_ok(f->prod, &rec));
	rec.timestamp = INT64_MAX;
	read_expect(f, &rec, send_ok(f->prod, &rec));
}

static void test_max_frame(void **state)
{
	struct t_fx *f = *state;
	uint32_t max = sfshm_ring_max_frame(f->prod);
	struct sfshm_rec rec;
	struct sfshm_claim c;
	struct sfshm_hdr h;
	uint64_t tail;

	assert_int_equal(max, RING_64K / 8);
	for (uint32_t salt = 0; salt < 2; salt++) {
		rec = rec_of_len(max, salt, &h);
		assert_int_equal(sfshm_rec_frame_len(&rec), max);
		read_expect(f, &rec, send_ok(f->prod, &rec));

		rec = rec_of_len(max + 1, salt, &h);
		tail = sfshm_ring_tail(f->prod);
		assert_err(sfshm_ring_send(f->prod, &rec, 0, NULL), -EMSGSIZE);
		assert_err(sfshm_ring_send(f->prod, &rec, -1, NULL), -EMSGSIZE);
		assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), -EMSGSIZE);
		assert_int_equal(sfshm_ring_tail(f->prod), tail);
	}
	/* Same through the zero-copy path. */
	rec = rec_of_len(max, 0, &h);
	assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), 0);
	assert_err(sfshm_ring_commit(f->prod, &c), 0);
	read_expect(f, &rec, c.pos);
}

static void test_invalid_records(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_hdr hneg = { "k", 1, -2, "v" };
	struct sfshm_hdr hkey = { NULL, 2, 0, NULL };
	struct sfshm_hdr hval = { "k", 1, 3, NULL };
	struct sfshm_hdr hbig = { "k", 0x80000000u, 0, NULL };
	struct sfshm_hdr hbigv = { "k", 1, INT32_MAX - 100, "v" };
	struct sfshm_rec inval[] = {
		rec_kv("k", -2, "v", 1),
		rec_kv("k", 1, "v", INT32_MIN),
		{ .key_len = -1, .value_len = -1, .hdr_count = 1 },
		{ .key_len = -1,
		  .value_len = -1,
		  .hdrs = &hneg,
		  .hdr_count = 1 },
		{ .key_len = -1,
		  .value_len = -1,
		  .hdrs = &hkey,
		  .hdr_count = 1 },
		{ .key_len = -1,
		  .value_len = -1,
		  .hdrs = &hval,
		  .hdr_count = 1 },
	};
	/* Lengths over 2 GiB: refused before any byte is read. */
	struct sfshm_rec huge[] = {
		rec_kv("k", INT32_MAX, "v", INT32_MAX),
		rec_kv(NULL, -1, "v", INT32_MAX),
		{ .key_len = -1,
		  .value_len = -1,
		  .hdrs = &hbig,
		  .hdr_count = 1 },
	};
	struct sfshm_rec big = {
		.key_len = -1, .value_len = -1, .hdrs = &hbigv, .hdr_count = 1
	};
	struct sfshm_claim c;

	for (size_t i = 0; i < sizeof(inval) / sizeof(inval[0]); i++) {
		assert_err((int)sfshm_rec_frame_len(&inval[i]), -EINVAL);
		assert_err(sfshm_ring_send(f->prod, &inval[i], 0, NULL),
			   -EINVAL);
		assert_err(sfshm_ring_claim(f->prod, &inval[i], 0, &c),
			   -EINVAL);
	}
	/* A missing key or value is a shape a claim may fill, not a send. */
	struct sfshm_rec nokey = rec_kv(NULL, 3, "v", 1);
	struct sfshm_rec noval = rec_kv("k", 1, NULL, 5);

	assert_int_equal(sfshm_rec_frame_len(&nokey), HDR + 4);
	assert_err(sfshm_ring_send(f->prod, &nokey, 0, NULL), -EINVAL);
	assert_int_equal(sfshm_rec_frame_len(&noval), HDR + 6);
	assert_err(sfshm_ring_send(f->prod, &noval, 0, NULL), -EINVAL);
	assert_err(sfshm_ring_send_batch(f->prod, &noval, 1, 0, NULL), -EINVAL);
	assert_err(sfshm_ring_send_batch(f->prod, &nokey, 1, 0, NULL), -EINVAL);
	{
		/* First of a batch refused: nothing of the batch is sent. */
		struct sfshm_rec two[2] = { noval, rec_kv("k", 1, "v", 1) };

		assert_err(sfshm_ring_send_batch(f->prod, two, 2, 0, NULL),
			   -EINVAL);
	}
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		assert_err((int)sfshm_rec_frame_len(&huge[i]), -EMSGSIZE);
		assert_err(sfshm_ring_send(f->prod, &huge[i], 0, NULL),
			   -EMSGSIZE);
	}
	assert_int_equal(sfshm_rec_frame_len(&big),
			 HDR + 9ll + INT32_MAX - 100);
	assert_err(sfshm_ring_send(f->prod, &big, 0, NULL), -EMSGSIZE);
	assert_int_equal(sfshm_ring_tail(f->prod), 0);
	expect_empty(f->rd, f->buf, f->buflen);
}

/*
 * Abort a claim of an unaligned length at @at (in lap @at / size): the
 * word becomes PAD of that lap with the frame's own length, and both the
 * producer and the reader count the aligned bytes as padding.
 */
static void abort_case(struct t_fx *f, uint64_t at)
{
	struct sfshm_rec a = rec_kv("a", 1, "abort", 5);
	struct sfshm_rec b = rec_kv("b", 1, "kept", 4);
	uint32_t alen = (uint32_t)sfshm_rec_frame_len(&a);
	struct sfshm_ring_stats st0, st, pst0, pst;
	struct sfshm_claim c;
	uint64_t w;

	assert_int_not_equal(alen, align8(alen));
	assert_err(sfshm_ring_seek(f->rd, at), 0);
	sfshm_ring_stats(f->rd, &st0);
	sfshm_ring_stats(f->prod, &pst0);
	assert_err(sfshm_ring_claim(f->prod, &a, 0, &c), 0);
	assert_int_equal(c.pos, at);
	w = sfshm_ring_frame_word(f->rd, at);
	assert_int_equal(w, t_word(RING_64K, SFSHM_FRAME_DATA, at,
				   -(int32_t)alen));
	expect_empty(f->rd, f->buf, f->buflen);
	assert_err(sfshm_ring_abort(f->prod, &c), 0);
	w = sfshm_ring_frame_word(f->rd, at);
	assert_int_equal(w,
			 t_word(RING_64K, SFSHM_FRAME_PAD, at, (int32_t)alen));
	/* Aborted claim is padding: skipped, even by a reader that waits. */
	expect_empty(f->rd, f->buf, f->buflen);
	assert_int_equal(sfshm_ring_position(f->rd), at + align8(alen));
	assert_int_equal(send_ok(f->prod, &b), at + align8(alen));
	read_expect(f, &b, at + align8(alen));
	sfshm_ring_stats(f->rd, &st);
	assert_int_equal(st.pad_frames - st0.pad_frames, 1);
	assert_int_equal(st.pad_bytes - st0.pad_bytes, align8(alen));
	assert_int_equal(st.records - st0.records, 1);
	sfshm_ring_stats(f->prod, &pst);
	assert_int_equal(pst.pad_frames - pst0.pad_frames, 1);
	assert_int_equal(pst.pad_bytes - pst0.pad_bytes, align8(alen));
	/* A revoked/finished claim cannot be committed afterwards. */
	assert_err(sfshm_ring_commit(f->prod, &c), -ECANCELED);
	assert_err(sfshm_ring_abort(f->prod, &c), -ECANCELED);
	assert_int_equal(sfshm_ring_frame_word(f->rd, at), w);
}

static void fill_to(struct sfshm_ring *p, struct sfshm_ring *own,
		    uint64_t target);

static void test_abort_pad(void **state)
{
	struct t_fx *f = *state;

	abort_case(f, 0);
	/* The same a lap and a half later: the words carry lap 1. */
	fill_to(f->prod, f->own, RING_64K + RING_64K / 2);
	abort_case(f, RING_64K + RING_64K / 2);
}

static void test_claim_zero_copy_value(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("key", 3, NULL, 100);
	struct sfshm_rec want = rec_kv("key", 3, pat(9), 100);
	struct sfshm_claim c;

	assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), 0);
	assert_non_null(c.value);
	assert_non_null(c.key);
	memcpy(c.value, pat(9), 100);
	expect_empty(f->rd, f->buf, f->buflen);
	assert_err(sfshm_ring_commit(f->prod, &c), 0);
	want.timestamp = rec.timestamp;
	read_expect(f, &want, c.pos);

	/* Null key and value: no pointers to write through. */
	rec = rec_kv(NULL, -1, NULL, -1);
	assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), 0);
	assert_null(c.key);
	assert_null(c.value);
	assert_err(sfshm_ring_commit(f->prod, &c), 0);
	read_expect(f, &rec, c.pos);
}

/*
 * ring.h: "a non-NULL @rec->key or @rec->value is copied now too, else the
 * caller writes it through @c->key / @c->value before committing."  The key
 * half of that promise is refused by sfshm_rec_frame_len() (-EINVAL for
 * key_len > 0 with a NULL key).  This test states the documented contract.
 */
static void test_claim_zero_copy_key(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv(NULL, 8, NULL, 4);
	struct sfshm_rec want = rec_kv(pat(1), 8, pat(2), 4);
	struct sfshm_claim c;

	assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), 0);
	assert_non_null(c.key);
	memcpy(c.key, pat(1), 8);
	memcpy(c.value, pat(2), 4);
	assert_err(sfshm_ring_commit(f->prod, &c), 0);
	want.timestamp = rec.timestamp;
	read_expect(f, &want, c.pos);
}

static void test_claim_out_of_order(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec a = rec_kv("a", 1, "first", 5);
	struct sfshm_rec b = rec_kv("b", 1, "second", 6);
	struct sfshm_claim ca, cb;

	assert_err(sfshm_ring_claim(f->prod, &a, 0, &ca), 0);
	assert_err(sfshm_ring_claim(f->prod, &b, 0, &cb), 0);
	assert_true(cb.pos > ca.pos);
	assert_err(sfshm_ring_commit(f->prod, &cb), 0);
	/* The reader stops at the first frame still being filled. */
	expect_empty(f->rd, f->buf, f->buflen);
	assert_int_equal(sfshm_ring_position(f->rd), ca.pos);
	assert_err(sfshm_ring_wait(f->rd, 0), -EAGAIN);
	assert_err(sfshm_ring_commit(f->prod, &ca), 0);
	assert_err(sfshm_ring_wait(f->rd, 0), 0);
	read_expect(f, &a, ca.pos);
	read_expect(f, &b, cb.pos);
}

static void test_enobufs(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("key", 3, pat(4), 1000);
	uint32_t flen = (uint32_t)sfshm_rec_frame_len(&rec);
	uint32_t blen = flen - HDR;
	struct sfshm_msg m;

	send_ok(f->prod, &rec);
	for (size_t len = 0; len < blen; len += len < 8 ? 1 : 499) {
		memset(&m, 0xff, sizeof(m));
		assert_err(sfshm_ring_read(f->rd, &m, f->buf, len), -ENOBUFS);
		assert_int_equal(m.pos, 0);
		assert_int_equal(m.next - m.pos, align8(flen));
		assert_int_equal(sfshm_ring_position(f->rd), 0);
	}
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, blen - 1), -ENOBUFS);
	assert_int_equal(sfshm_ring_position(f->rd), 0);
	/* Exactly the body is enough. */
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, blen), 0);
	assert_msg(&m, &rec);
}

static void test_seek(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec r[3] = {
		rec_kv("0", 1, "zero", 4),
		rec_kv("1", 1, "one", 3),
		rec_kv("2", 1, "two", 3),
	};
	uint64_t p[3], tail;

	for (int i = 0; i < 3; i++)
		p[i] = send_ok(f->prod, &r[i]);
	for (int i = 0; i < 3; i++)
		read_expect(f, &r[i], p[i]);
	tail = sfshm_ring_tail(f->rd);

	assert_err(sfshm_ring_seek(f->rd, p[1]), 0);
	read_expect(f, &r[1], p[1]);
	assert_err(sfshm_ring_seek(f->rd, p[0]), 0);
	read_expect(f, &r[0], p[0]);
	assert_err(sfshm_ring_seek(f->rd, tail), 0);
	expect_empty(f->rd, f->buf, f->buflen);

	/* Refused seeks leave the position alone. */
	assert_err(sfshm_ring_seek(f->rd, tail + 8), -EINVAL);
	assert_err(sfshm_ring_seek(f->rd, p[1] + 4), -EINVAL);
	assert_err(sfshm_ring_seek(f->rd, UINT64_MAX & ~7ull), -EINVAL);
	assert_int_equal(sfshm_ring_position(f->rd), tail);

	assert_err(sfshm_ring_clean(f->own, p[1]), 0);
	assert_err(sfshm_ring_seek(f->rd, p[0]), -EOVERFLOW);
	assert_int_equal(sfshm_ring_position(f->rd), tail);
	assert_err(sfshm_ring_seek(f->rd, p[1]), 0);
	read_expect(f, &r[1], p[1]);
	read_expect(f, &r[2], p[2]);
}

static void test_reader_starts_at_clean(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec r[3] = {
		rec_kv("0", 1, "zero", 4),
		rec_kv("1", 1, "one", 3),
		rec_kv("2", 1, "two", 3),
	};
	struct sfshm_ring *late;
	uint64_t p[3];

	for (int i = 0; i < 3; i++)
		p[i] = send_ok(f->prod, &r[i]);
	late = t_ring_map(&f->t, SFSHM_ROLE_READER);
	assert_int_equal(sfshm_ring_position(late), 0);
	sfshm_ring_unmap(late);

	for (int i = 0; i < 2; i++)
		read_expect(f, &r[i], p[i]);
	assert_err(sfshm_ring_clean(f->own, p[2]), 0);
	assert_int_equal(sfshm_ring_clean_pos(f->rd), p[2]);
	assert_int_equal(sfshm_ring_limit(f->rd), p[2] + RING_64K);
	late = t_ring_map(&f->t, SFSHM_ROLE_READER);
	assert_int_equal(sfshm_ring_position(late), p[2]);
	peek_expect(late, &r[2], p[2]);
	sfshm_ring_unmap(late);
}

static void test_overflow(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec r0 = rec_kv("0", 1, "zero", 4);
	struct sfshm_rec r1 = rec_kv("1", 1, "one", 3);
	struct sfshm_msg m;
	uint64_t p1;

	send_ok(f->prod, &r0);
	p1 = send_ok(f->prod, &r1);
	assert_err(sfshm_ring_peek(f->rd, &m), 0);
	/* The owner erases what this (slow) reader is looking at. */
	assert_err(sfshm_ring_clean(f->own, p1), 0);
	assert_err(sfshm_ring_consume(f->rd, &m), -EOVERFLOW);
	assert_int_equal(sfshm_ring_position(f->rd), 0);
	assert_err(sfshm_ring_peek(f->rd, &m), -EOVERFLOW);
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), -EOVERFLOW);
	assert_err(sfshm_ring_wait(f->rd, 0), 0);
	assert_err(sfshm_ring_seek(f->rd, sfshm_ring_clean_pos(f->rd)), 0);
	read_expect(f, &r1, p1);
}

/* Send filler records until the tail reaches @target (cleaning behind). */
static void fill_to(struct sfshm_ring *p, struct sfshm_ring *own,
		    uint64_t target)
{
	uint32_t max = sfshm_ring_max_frame(p);

	while (sfshm_ring_tail(p) < target) {
		uint64_t d = target - sfshm_ring_tail(p);
		uint32_t n = d > max ? max : (uint32_t)d;
		struct sfshm_rec rec;

		if (d - n > 0 && d - n < HDR)
			n -= HDR;
		rec = rec_kv(NULL, -1, pattern, (int32_t)(n - HDR));
		send_ok(p, &rec);
		assert_err(sfshm_ring_clean(own, sfshm_ring_tail(p)), 0);
	}
	assert_int_equal(sfshm_ring_tail(p), target);
}

/*
 * A reader lapped by a whole ring meets, at its position, a valid frame of
 * a later lap.  That is -EOVERFLOW ("fell behind the window"), whatever the
 * size of its buffer: -ENOBUFS would report the size of a frame that is
 * not the one at the reader's position.
 */
static void test_overflow_lapped_small_buffer(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec r0 = rec_kv("0", 1, "zero", 4);
	struct sfshm_rec big = rec_kv("big", 3, pattern, 2000);
	struct sfshm_msg m;
	uint8_t small[64];

	send_ok(f->prod, &r0);
	fill_to(f->prod, f->own, RING_64K);
	assert_int_equal(send_ok(f->prod, &big), RING_64K);
	/* f->rd never read: it is still at 0, a lap behind. */
	assert_int_equal(sfshm_ring_position(f->rd), 0);
	assert_err(sfshm_ring_read(f->rd, &m, small, sizeof(small)),
		   -EOVERFLOW);
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), -EOVERFLOW);
	assert_err(sfshm_ring_peek(f->rd, &m), -EOVERFLOW);
}

static void test_strerror(void **state)
{
	static const struct {
		int err;
		const char *word;
	} ours[] = {
		{ EAGAIN, "ring is full" },	 { ETIMEDOUT, "timed out" },
		{ EMSGSIZE, "largest frame" },	 { EOVERFLOW, "fell behind" },
		{ EBADMSG, "corrupt" },		 { EPROTO, "version" },
		{ ECANCELED, "revoked" },	 { EPERM, "role" },
		{ ENOBUFS, "buffer too small" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++) {
		const char *s = sfshm_strerror(-ours[i].err);

		assert_non_null(s);
		if (!strstr(s, ours[i].word))
			fail_msg("sfshm_strerror(-%d) = \"%s\", lacks \"%s\"",
				 ours[i].err, s, ours[i].word);
		assert_string_equal(s, sfshm_strerror(ours[i].err));
		assert_string_not_equal(s, strerror(ours[i].err));
	}
	assert_string_equal(sfshm_strerror(-ENOTDIR), strerror(ENOTDIR));
	assert_string_equal(sfshm_strerror(-EINVAL), strerror(EINVAL));
	assert_non_null(sfshm_strerror(0));
	assert_non_null(sfshm_strerror(-100000));
}

/* ---- wrap: every 8-byte offset of the wrap point ------------------------- */

struct wrap {
	struct t_ring t;
	struct sfshm_ring *own, *prod, *rd;
	uint8_t buf[8192];
};

static void wrap_open(struct wrap *w)
{
	t_ring_create(&w->t, RING_64K);
	w->own = t_ring_map(&w->t, SFSHM_ROLE_OWNER);
	w->prod = t_ring_map(&w->t, SFSHM_ROLE_PRODUCER);
	w->rd = t_ring_map(&w->t, SFSHM_ROLE_READER);
}

static void wrap_close(struct wrap *w)
{
	sfshm_ring_unmap(w->rd);
	sfshm_ring_unmap(w->prod);
	sfshm_ring_unmap(w->own);
	t_ring_destroy(&w->t);
}

/* Take one record of frame length @flen with the tail @o bytes before the
 * end of lap @lap; check padding and that it and the next read back. */
static void wrap_case(uint32_t o, uint32_t flen, uint32_t lap)
{
	struct wrap w;
	struct sfshm_ring_stats before, after;
	struct sfshm_hdr h1, h2;
	struct sfshm_rec rec = rec_of_len(flen, o / 8, &h1);
	struct sfshm_rec next = rec_of_len(HDR + 21, o / 8 + 1, &h2);
	uint64_t lap_end = (uint64_t)(lap + 1) * RING_64K;
	uint64_t at = lap_end - o, want, pos;
	bool pad = align8(flen) > o;
	struct sfshm_msg m;

	wrap_open(&w);
	fill_to(w.prod, w.own, at);
	assert_err(sfshm_ring_seek(w.rd, at), 0);
	sfshm_ring_stats(w.rd, &before);
	want = pad ? lap_end : at;
	pos = send_ok(w.prod, &rec);
	if (pos != want)
		fail_msg("o=%u flen=%u: record at %llu, want %llu", o, flen,
			 (unsigned long long)pos, (unsigned long long)want);
	/* Padding tagged with the lap it ends, the record with the next. */
	if (pad)
		assert_int_equal(sfshm_ring_frame_word(w.rd, at),
				 t_word(RING_64K, SFSHM_FRAME_PAD, at,
					(int32_t)o));
	assert_int_equal(sfshm_ring_frame_word(w.rd, pos),
			 t_word(RING_64K, SFSHM_FRAME_DATA, pos,
				(int32_t)flen));
	assert_int_equal(SFSHM_FRAME_LAP(sfshm_ring_frame_word(w.rd, pos)),
			 pad ? lap + 1 : lap);
	assert_int_equal(sfshm_ring_tail(w.prod), pos + align8(flen));
	assert_int_equal(send_ok(w.prod, &next), pos + align8(flen));

	/* Alternate copy and zero-copy reads. */
	if (o & 8) {
		peek_expect(w.rd, &rec, pos);
		peek_expect(w.rd, &next, pos + align8(flen));
	} else {
		assert_err(sfshm_ring_read(w.rd, &m, w.buf, sizeof(w.buf)), 0);
		assert_int_equal(m.pos, pos);
		assert_msg(&m, &rec);
		assert_err(sfshm_ring_read(w.rd, &m, w.buf, sizeof(w.buf)), 0);
		assert_msg(&m, &next);
	}
	sfshm_ring_stats(w.rd, &after);
	assert_int_equal(after.pad_frames - before.pad_frames, pad ? 1 : 0);
	assert_int_equal(after.pad_bytes - before.pad_bytes, pad ? o : 0);
	wrap_close(&w);
}

static void test_wrap_every_offset(void **state)
{
	uint32_t max = (uint32_t)(RING_64K / 8);

	(void)state;
	for (uint32_t o = 8; o <= max; o += 8) {
		/* Alternate lap 0 and lap 1, so positions above size count. */
		uint32_t lap = (o / 8) & 1;
		uint32_t lens[] = { o - 7, o, o + 1,
				    o + 8 < HDR ? HDR : o + 8 };

		for (size_t i = 0; i < 4; i++)
			if (lens[i] >= HDR && lens[i] <= max)
				wrap_case(o, lens[i], lap);
	}
}

/* ---- geometry -------------------------------------------------------------- */

static void test_size_bounds(void **state)
{
	struct sfshm_ring *p, *r;
	struct sfshm_rec rec = rec_kv("k", 1, "v", 1);
	struct sfshm_msg m;
	uint8_t buf[64];
	struct t_ring t;
	int err;

	(void)state;
	t_ring_create(&t, RING_64K);
	p = t_ring_map(&t, SFSHM_ROLE_PRODUCER);
	assert_int_equal(sfshm_ring_size(p), RING_64K);
	assert_int_equal(sfshm_ring_max_frame(p), RING_64K / 8);
	assert_int_equal(sfshm_ring_limit(p), RING_64K);
	sfshm_ring_unmap(p);
	t_ring_destroy(&t);

	err = sfshm_ring_create_memfd(RING_1G, &t.ring_fd, &t.ctl_fd);
	if (err == -ENOMEM || err == -ENOSPC || err == -EFBIG)
		skip();
	assert_err(err, 0);
	t.size = RING_1G;
	p = t_ring_map(&t, SFSHM_ROLE_PRODUCER);
	r = t_ring_map(&t, SFSHM_ROLE_READER);
	assert_int_equal(sfshm_ring_size(r), RING_1G);
	assert_int_equal(sfshm_ring_max_frame(r), RING_1G / 8);
	assert_int_equal(sfshm_ring_limit(r), RING_1G);
	/* Over 64 KiB frames fit here; over 128 MiB do not. */
	rec.value_len = (int32_t)(RING_1G / 8);
	assert_err(sfshm_ring_send(p, &rec, 0, NULL), -EMSGSIZE);
	rec.value_len = 1;
	send_ok(p, &rec);
	assert_err(sfshm_ring_read(r, &m, buf, sizeof(buf)), 0);
	assert_msg(&m, &rec);
	sfshm_ring_unmap(r);
	sfshm_ring_unmap(p);
	t_ring_destroy(&t);
}

static void test_invalid_sizes(void **state)
{
	static const uint64_t bad[] = {
		0,
		1,
		4096,
		32ull << 10,
		RING_64K - 8,
		RING_64K + 8,
		3ull << 16,
		(1ull << 20) + (1ull << 16),
		RING_1G - 4096,
		RING_1G + RING_64K,
		2 * RING_1G,
		1ull << 40,
		1ull << 63,
		UINT64_MAX,
	};
	int rfd = -1, cfd = -1;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int err = sfshm_ring_create_memfd(bad[i], &rfd, &cfd);

		if (err != -EINVAL)
			fail_msg("size %llu: %d (%s), want -EINVAL",
				 (unsigned long long)bad[i], err,
				 sfshm_strerror(err));
		assert_int_equal(rfd, -1);
		assert_int_equal(cfd, -1);
	}
}

static void test_format_twice(void **state)
{
	struct t_ring t;

	(void)state;
	t_ring_create(&t, RING_64K);
	assert_err(sfshm_ring_format(t.ring_fd, t.ctl_fd, RING_64K), -EEXIST);
	assert_err(sfshm_ring_format(-1, t.ctl_fd, RING_64K), -EBADF);
	t_ring_destroy(&t);
}

/* Map in every role; each must fail with @want and leave *out alone. */
static void expect_map_err(const struct t_ring *t, int want, const char *what)
{
	for (int role = SFSHM_ROLE_OWNER; role <= SFSHM_ROLE_READER; role++) {
		struct sfshm_ring *r = (struct sfshm_ring *)&r;
		int err = sfshm_ring_map(t->ring_fd, t->ctl_fd, role, &r);

		if (err != want)
			fail_msg("%s, role %d: map = %d (%s), want %d (%s)",
				 what, role, err, sfshm_strerror(err), want,
				 sfshm_strerror(want));
		assert_ptr_equal(r, (struct sfshm_ring *)&r);
	}
}

struct corruption {
	const char *what;
	void (*apply)(struct t_raw *raw);
	int want;
};

/* clang-format off: a table of one-line corruptions */
static void c_ring_magic(struct t_raw *x)
{
	x->hdr->k_magic ^= 1;
}
static void c_ring_magic0(struct t_raw *x)
{
	x->hdr->k_magic = 0;
}
static void c_ring_version(struct t_raw *x)
{
	x->hdr->version++;
}
static void c_ring_version0(struct t_raw *x)
{
	x->hdr->version = 0;
}
static void c_ctl_magic(struct t_raw *x)
{
	x->ctl->k_magic = SFSHM_RING_MAGIC;
}
static void c_ctl_version(struct t_raw *x)
{
	x->ctl->version = SFSHM_RING_VERSION + 1;
}
static void c_size_pow2(struct t_raw *x)
{
	x->hdr->size += 8;
}
static void c_size_big(struct t_raw *x)
{
	x->hdr->size = 2 * RING_1G;
}
static void c_size_other(struct t_raw *x)
{
	x->hdr->size *= 2;
	x->hdr->max_frame *= 2;
}
static void c_hdr_pages(struct t_raw *x)
{
	x->hdr->hdr_pages = 2;
}
static void c_data_offset(struct t_raw *x)
{
	x->hdr->data_offset = 8192;
}
static void c_frame_align(struct t_raw *x)
{
	x->hdr->frame_align = 16;
}
static void c_max_frame(struct t_raw *x)
{
	x->hdr->max_frame++;
}
static void c_max_frame0(struct t_raw *x)
{
	x->hdr->max_frame = 0;
}
static void c_ctl_slots(struct t_raw *x)
{
	x->ctl->slots = 63;
}
/* clang-format on */

static void test_map_corrupt_header(void **state)
{
	static const struct corruption cases[] = {
		{ "ring magic flipped", c_ring_magic, -EPROTO },
		{ "ring magic zero (unformatted)", c_ring_magic0, -EPROTO },
		{ "ring version + 1", c_ring_version, -EPROTO },
		{ "ring version 0", c_ring_version0, -EPROTO },
		{ "ctl magic wrong", c_ctl_magic, -EPROTO },
		{ "ctl version + 1", c_ctl_version, -EPROTO },
		{ "size not a power of two", c_size_pow2, -EBADMSG },
		{ "size over 1 GiB", c_size_big, -EBADMSG },
		{ "size disagrees with the file", c_size_other, -EBADMSG },
		{ "hdr_pages 2", c_hdr_pages, -EBADMSG },
		{ "data_offset 8192", c_data_offset, -EBADMSG },
		{ "frame_align 16", c_frame_align, -EBADMSG },
		{ "max_frame + 1", c_max_frame, -EBADMSG },
		{ "max_frame 0", c_max_frame0, -EBADMSG },
		{ "ctl slots 63", c_ctl_slots, -EBADMSG },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct t_ring t;
		struct t_raw raw;

		t_ring_create(&t, RING_64K);
		t_raw_map(&t, &raw);
		cases[i].apply(&raw);
		expect_map_err(&t, cases[i].want, cases[i].what);
		t_raw_unmap(&raw);
		t_ring_destroy(&t);
	}
}

static void test_map_bad_files(void **state)
{
	struct sfshm_ring *r = NULL;
	struct t_ring t;

	(void)state;
	t_ring_create(&t, RING_64K);
	assert_err(sfshm_ring_map(t.ring_fd, t.ctl_fd, 0, &r), -EINVAL);
	assert_err(sfshm_ring_map(t.ring_fd, t.ctl_fd, 4, &r), -EINVAL);
	assert_err(sfshm_ring_map(-1, t.ctl_fd, SFSHM_ROLE_READER, &r), -EBADF);
	assert_err(sfshm_ring_map(t.ring_fd, -1, SFSHM_ROLE_READER, &r),
		   -EBADF);
	assert_null(r);
	/* A ring file grown behind the header's back. */
	assert_int_equal(ftruncate(t.ring_fd, SFSHM_PAGE + 2 * RING_64K), 0);
	expect_map_err(&t, -EBADMSG, "ring file larger than its header says");
	/* Files too short to hold a ring or a ctl page. */
	assert_int_equal(ftruncate(t.ring_fd, SFSHM_PAGE + RING_64K / 2), 0);
	expect_map_err(&t, -EPROTO, "ring file truncated");
	assert_int_equal(ftruncate(t.ring_fd, SFSHM_PAGE + RING_64K), 0);
	assert_int_equal(ftruncate(t.ctl_fd, 100), 0);
	expect_map_err(&t, -EPROTO, "ctl file truncated");
	t_ring_destroy(&t);
}

/* ---- roles ------------------------------------------------------------------ */

static void test_role_checks(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("k", 1, "v", 1);
	struct sfshm_claim c;
	uint64_t padded = 0;

	assert_err(sfshm_ring_send(f->rd, &rec, 0, NULL), -EPERM);
	assert_err(sfshm_ring_send(f->rd, &rec, -1, NULL), -EPERM);
	assert_err(sfshm_ring_claim(f->rd, &rec, 0, &c), -EPERM);
	assert_err(sfshm_ring_clean(f->rd, 0), -EPERM);
	assert_err(sfshm_ring_unblock(f->rd, 0, &padded), -EPERM);
	assert_err(sfshm_ring_clean(f->prod, 0), -EPERM);
	assert_err(sfshm_ring_unblock(f->prod, 0, &padded), -EPERM);
	assert_int_equal(sfshm_ring_tail(f->own), 0);
	assert_int_equal(padded, 0);
	/* The owner may produce and read. */
	send_ok(f->own, &rec);
	assert_err(sfshm_ring_read(f->own, &(struct sfshm_msg){ 0 }, f->buf,
				   f->buflen),
		   0);
	/* A claim may not be finished through a reader handle. */
	assert_err(sfshm_ring_claim(f->prod, &rec, 0, &c), 0);
	assert_err(sfshm_ring_commit(f->rd, &c), -EPERM);
	assert_err(sfshm_ring_abort(f->rd, &c), -EPERM);
	assert_int_equal(sfshm_ring_frame_word(f->own, c.pos),
			 t_word(RING_64K, SFSHM_FRAME_DATA, c.pos,
				-(int32_t)c.frame_len));
	read_expect(f, &rec, 0);
	expect_empty(f->rd, f->buf, f->buflen);
	assert_err(sfshm_ring_commit(f->prod, &c), 0);
	read_expect(f, &rec, c.pos);
}

/* Ctl slots held by process @pid. */
static int slots_of(const struct t_fx *f, pid_t pid)
{
	int n = 0;

	for (uint32_t i = 0; i < SFSHM_CTL_SLOTS; i++)
		n += __atomic_load_n(&f->raw.ctl->slot[i].k_pid,
				     __ATOMIC_ACQUIRE) == (uint32_t)pid;
	return n;
}

struct slot_child {
	const struct t_ring *t;
	uint32_t mapped; /* atomic */
};

/* Map a reader and stay mapped until killed. */
static int child_map_reader(void *arg)
{
	struct slot_child *s = arg;
	struct sfshm_ring *r = NULL;

	if (sfshm_ring_map(s->t->ring_fd, s->t->ctl_fd, SFSHM_ROLE_READER, &r))
		return 2;
	/* Pairs with the acquire load in slot_child_mapped(). */
	__atomic_store_n(&s->mapped, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static bool slot_child_mapped(void *arg)
{
	struct slot_child *s = arg;

	return __atomic_load_n(&s->mapped, __ATOMIC_ACQUIRE) != 0;
}

/*
 * A reader handle takes a ctl slot and publishes its start position when
 * it is mapped, and frees it when unmapped; the slot of a process that
 * died with a reader mapped is skipped and freed by
 * sfshm_ring_min_reader_pos().
 */
static void test_reader_slots(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("k", 1, "v", 1);
	struct slot_child *s = t_shared_alloc(sizeof(*s));
	struct sfshm_ring *late;
	uint64_t p1, p2;
	pid_t pid;

	/* The fixture's reader, mapped at 0, holds this process's slot. */
	assert_int_equal(slots_of(f, getpid()), 1);
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), 0);
	sfshm_ring_unmap(f->rd);
	f->rd = NULL;
	assert_int_equal(slots_of(f, getpid()), 0);
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), 777);

	send_ok(f->prod, &rec);
	p1 = send_ok(f->prod, &rec);
	p2 = send_ok(f->prod, &rec);
	assert_err(sfshm_ring_clean(f->own, p1), 0);
	/* A reader in another process, mapped at p1, that dies mapped. */
	s->t = &f->t;
	pid = t_fork_clean(child_map_reader, s);
	if (!t_wait_until(slot_child_mapped, s, CHILD_MS)) {
		kill(pid, SIGKILL);
		t_wait_child(pid, CHILD_MS);
		fail_msg("child reader did not map");
	}
	assert_int_equal(slots_of(f, pid), 1);
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), p1);
	assert_err(sfshm_ring_clean(f->own, p2), 0);
	late = t_ring_map(&f->t, SFSHM_ROLE_READER);
	assert_int_equal(sfshm_ring_position(late), p2);
	assert_int_equal(slots_of(f, getpid()), 1);
	/* Both alive: the lower position counts. */
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), p1);
	assert_int_equal(slots_of(f, pid), 1);
	kill(pid, SIGKILL);
	assert_int_equal(t_wait_child(pid, CHILD_MS), 128 + SIGKILL);
	/* Dead and reaped: not counted, and its slot is free again. */
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), p2);
	assert_int_equal(slots_of(f, pid), 0);
	sfshm_ring_unmap(late);
	assert_int_equal(slots_of(f, getpid()), 0);
	assert_int_equal(sfshm_ring_min_reader_pos(f->own, 777), 777);
	munmap(s, sizeof(*s));
}

static const void *volatile segv_target;

static void segv_check(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* A write to a mapped read-only page: die of it for real. */
	if (si->si_code == SEGV_ACCERR && si->si_addr == segv_target) {
		signal(sig, SIG_DFL);
		return;
	}
	_exit(3);
}

static int child_write_ring(void *arg)
{
	struct t_fx *f = arg;
	struct sigaction sa = { .sa_sigaction = segv_check,
				.sa_flags = SA_SIGINFO };
	struct sfshm_msg m;

	if (sfshm_ring_peek(f->rd, &m) || m.value_len < 1)
		return 2;
	segv_target = m.value;
	sigaction(SIGSEGV, &sa, NULL);
	*(volatile uint8_t *)(uintptr_t)m.value ^= 0xff;
	return 4; /* the write went through: the mapping is writable */
}

static void test_reader_mapping_readonly(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec rec = rec_kv("k", 1, "value", 5);
	char why[64];
	int st;

	send_ok(f->prod, &rec);
	st = t_run_child(child_write_ring, f, CHILD_MS);
	if (st != 128 + SIGSEGV)
		fail_msg("child writing through a reader's view %s; want death "
			 "by SIGSEGV (exit 4: write succeeded, 3: other fault)",
			 t_status_str(st, why, sizeof(why)));
	read_expect(f, &rec, 0);
}

/* ---- blocking ------------------------------------------------------------- */

/* Fill the ring completely with max-size frames; return their count. */
static int fill_ring(struct t_fx *f)
{
	struct sfshm_hdr h;
	struct sfshm_rec rec = rec_of_len(sfshm_ring_max_frame(f->prod), 0, &h);
	int n = 0;

	while (sfshm_ring_tail(f->prod) < sfshm_ring_limit(f->prod)) {
		send_ok(f->prod, &rec);
		n++;
	}
	assert_int_equal(sfshm_ring_tail(f->prod), sfshm_ring_limit(f->prod));
	return n;
}

static void test_full_eagain(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec small = rec_kv(NULL, -1, NULL, -1);
	struct sfshm_hdr h;
	struct sfshm_rec max = rec_of_len(sfshm_ring_max_frame(f->prod), 0, &h);
	struct sfshm_ring_stats st;
	struct sfshm_claim c;
	struct sfshm_msg m;

	assert_int_equal(fill_ring(f), 8);
	assert_err(sfshm_ring_send(f->prod, &small, 0, NULL), -EAGAIN);
	assert_err(sfshm_ring_claim(f->prod, &small, 0, &c), -EAGAIN);
	assert_int_equal(sfshm_ring_tail(f->prod), RING_64K);
	sfshm_ring_stats(f->prod, &st);
	assert_int_equal(st.full, 2);

	/* The reader sees exactly the 8 records, then nothing. */
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	assert_err(sfshm_ring_clean(f->own, sfshm_ring_position(f->rd)), 0);
	assert_int_equal(sfshm_ring_limit(f->prod), RING_64K + m.next);
	send_ok(f->prod, &max);
	assert_err(sfshm_ring_send(f->prod, &small, 0, NULL), -EAGAIN);
	for (int i = 0; i < 8; i++)
		assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	expect_empty(f->rd, f->buf, f->buflen);
}

static void test_send_timeout(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec small = rec_kv(NULL, -1, NULL, -1);
	static const int ms[] = { 1, 50, 200 };
	struct sfshm_claim c;

	fill_ring(f);
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		uint64_t t0 = t_now_ns(), dt;

		assert_err(sfshm_ring_send(f->prod, &small, ms[i], NULL),
			   -ETIMEDOUT);
		dt = (t_now_ns() - t0) / 1000000;
		if (dt < (uint64_t)ms[i] || dt > (uint64_t)ms[i] + 500)
			fail_msg(
				"send with timeout %d ms returned after %llu ms",
				ms[i], (unsigned long long)dt);
	}
	assert_err(sfshm_ring_claim(f->prod, &small, 20, &c), -ETIMEDOUT);
	assert_int_equal(sfshm_ring_tail(f->prod), RING_64K);
}

struct blocked {
	const struct t_ring *t;
	int err;
	uint64_t pos;
	uint64_t done_ns;
};

static int child_blocking_send(void *arg)
{
	struct blocked *b = arg;
	struct sfshm_rec rec = rec_kv("late", 4, "value", 5);
	struct sfshm_ring *p = NULL;

	b->err = sfshm_ring_map(b->t->ring_fd, b->t->ctl_fd,
				SFSHM_ROLE_PRODUCER, &p);
	if (b->err)
		return 2;
	b->err = sfshm_ring_send(p, &rec, CHILD_MS, &b->pos);
	b->done_ns = t_now_ns();
	sfshm_ring_unmap(p);
	return b->err ? 1 : 0;
}

static void test_send_released_by_clean(void **state)
{
	struct t_fx *f = *state;
	struct sfshm_rec late = rec_kv("late", 4, "value", 5);
	struct blocked *b = t_shared_alloc(sizeof(*b));
	struct t_sleeper s;
	struct sfshm_msg m;
	uint64_t t0;
	char why[64];
	int st;

	fill_ring(f);
	b->t = &f->t;
	b->err = 1;
	s.pid = t_fork_clean(child_blocking_send, b);
	s.waiters = &f->raw.hdr->k_space_waiters;
	if (!t_wait_until(t_is_asleep, &s, CHILD_MS)) {
		t_wait_child(s.pid, 0);
		fail_msg("producer never went to sleep on a full ring");
	}
	/* It is asleep in the kernel: free one frame. */
	assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	t0 = t_now_ns();
	assert_err(sfshm_ring_clean(f->own, m.next), 0);
	st = t_wait_child(s.pid, CHILD_MS);
	if (st != 0)
		fail_msg("blocked producer %s (send: %d %s)",
			 t_status_str(st, why, sizeof(why)), b->err,
			 sfshm_strerror(b->err));
	if (b->done_ns - t0 > WAKE_MS * 1000000ull)
		fail_msg("producer released %llu us after the clean",
			 (unsigned long long)(b->done_ns - t0) / 1000);
	assert_int_equal(b->pos, RING_64K);
	for (int i = 0; i < 7; i++)
		assert_err(sfshm_ring_read(f->rd, &m, f->buf, f->buflen), 0);
	read_expect(f, &late, RING_64K);
	munmap(b, sizeof(*b));
}

static void test_wait_timeout(void **state)
{
	struct t_fx *f = *state;
	static const enum sfshm_wait_mode modes[] = {
		SFSHM_WAIT_HYBRID,
		SFSHM_WAIT_SPIN,
		SFSHM_WAIT_FUTEX,
	};

	for (size_t i = 0; i < 3; i++) {
		uint64_t t0, dt;

		sfshm_ring_set_wait(f->rd, modes[i], 20000);
		assert_err(sfshm_ring_wait(f->rd, 0), -EAGAIN);
		t0 = t_now_ns();
		assert_err(sfshm_ring_wait(f->rd, 150), -ETIMEDOUT);
		dt = (t_now_ns() - t0) / 1000000;
		if (dt < 150 || dt > 150 + 500)
			fail_msg("mode %d: wait(150) timed out after %llu ms",
				 modes[i], (unsigned long long)dt);
	}
	/* Something there: at once, whatever the mode. */
	send_ok(f->prod, &(struct sfshm_rec){ .key_len = -1, .value_len = -1 });
	assert_err(sfshm_ring_wait(f->rd, 0), 0);
	assert_err(sfshm_ring_wait(f->rd, -1), 0);
}

struct waiter {
	const struct t_ring *t;
	enum sfshm_wait_mode mode;
	int err;
	uint64_t woke_ns;
	uint64_t sleeps;
	int read_err;
	char value[16];
};

static int child_wait(void *arg)
{
	struct waiter *w = arg;
	struct sfshm_ring_stats st;
	struct sfshm_ring *r = NULL;
	struct sfshm_msg m;
	uint8_t buf[256];

	w->err = sfshm_ring_map(w->t->ring_fd, w->t->ctl_fd, SFSHM_ROLE_READER,
				&r);
	if (w->err)
		return 2;
	sfshm_ring_set_wait(r, w->mode, 1000);
	w->err = sfshm_ring_seek(r, sfshm_ring_tail(r));
	if (!w->err)
		w->err = sfshm_ring_wait(r, CHILD_MS);
	w->woke_ns = t_now_ns();
	w->read_err = sfshm_ring_read(r, &m, buf, sizeof(buf));
	if (!w->read_err && m.value_len > 0 && m.value_len < 16)
		memcpy(w->value, m.value, (size_t)m.value_len);
	sfshm_ring_stats(r, &st);
	w->sleeps = st.sleeps;
	sfshm_ring_unmap(r);
	return w->err || w->read_err ? 1 : 0;
}

static void wake_case(struct t_fx *f, enum sfshm_wait_mode mode)
{
	struct waiter *w = t_shared_alloc(sizeof(*w));
	struct sfshm_rec rec = rec_kv("k", 1, "wake up", 7);
	struct t_sleeper s;
	uint64_t t0;
	char why[64];
	int st;

	w->t = &f->t;
	w->mode = mode;
	s.pid = t_fork_clean(child_wait, w);
	s.waiters = &f->raw.ctl->k_waiters;
	if (!t_wait_until(t_is_asleep, &s, CHILD_MS)) {
		t_wait_child(s.pid, 0);
		fail_msg("mode %d: reader never went to sleep", mode);
	}
	t0 = t_now_ns();
	send_ok(f->prod, &rec);
	st = t_wait_child(s.pid, CHILD_MS);
	if (st != 0)
		fail_msg("mode %d: waiting reader %s (wait %d, read %d)", mode,
			 t_status_str(st, why, sizeof(why)), w->err,
			 w->read_err);
	if (w->woke_ns - t0 > WAKE_MS * 1000000ull)
		fail_msg("mode %d: sleeping reader woke %llu us after the send",
			 mode, (unsigned long long)(w->woke_ns - t0) / 1000);
	assert_true(w->sleeps >= 1);
	assert_string_equal(w->value, "wake up");
	assert_err(sfshm_ring_read(f->rd, &(struct sfshm_msg){ 0 }, f->buf,
				   f->buflen),
		   0);
	munmap(w, sizeof(*w));
}

static void test_wait_wakes_futex(void **state)
{
	wake_case(*state, SFSHM_WAIT_FUTEX);
	wake_case(*state, SFSHM_WAIT_HYBRID);
	wake_case(*state, SFSHM_WAIT_FUTEX);
}

#define PROG "test_ring_unit"

int main(void)
{
	const struct CMUnitTest records[] = {
		T_FX(test_roundtrip_copy),
		T_FX(test_roundtrip_peek),
		T_FX(test_null_vs_empty),
		T_FX(test_headers),
		T_FX(test_timestamp),
		T_FX(test_max_frame),
		T_FX(test_invalid_records),
		T_FX(test_abort_pad),
		T_FX(test_claim_zero_copy_value),
		T_FX(test_claim_zero_copy_key),
		T_FX(test_claim_out_of_order),
		T_FX(test_enobufs),
		T_FX(test_seek),
		T_FX(test_reader_starts_at_clean),
		T_FX(test_overflow),
		T_FX(test_overflow_lapped_small_buffer),
		cmocka_unit_test(test_strerror),
	};
	const struct CMUnitTest wrap[] = {
		cmocka_unit_test(test_wrap_every_offset),
	};
	const struct CMUnitTest geometry[] = {
		cmocka_unit_test(test_size_bounds),
		cmocka_unit_test(test_invalid_sizes),
		cmocka_unit_test(test_format_twice),
		cmocka_unit_test(test_map_corrupt_header),
		cmocka_unit_test(test_map_bad_files),
	};
	const struct CMUnitTest roles[] = {
		T_FX(test_role_checks),
		T_FX(test_reader_mapping_readonly),
		T_FX(test_reader_slots),
	};
	const struct CMUnitTest blocking[] = {
		T_FX(test_full_eagain),
		T_FX(test_send_timeout),
		T_FX(test_send_released_by_clean),
		T_FX(test_wait_timeout),
		T_FX(test_wait_wakes_futex),
	};
	int fails = 0;

	fill_pattern();
	fails += T_GROUP("records", records);
	fails += T_GROUP("wrap", wrap);
	fails += T_GROUP("geometry", geometry);
	fails += T_GROUP("roles", roles);
	fails += T_GROUP("blocking", blocking);
	return t_groups_report(PROG, fails);
}
