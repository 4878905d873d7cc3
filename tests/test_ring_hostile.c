// SPDX-License-Identifier: MIT
/*
 * test_ring_hostile.c - readers facing shared memory written by an enemy.
 *
 * Anything a reader finds in the ring came from another process and may be
 * garbage: it must answer -EBADMSG (or -EAGAIN / -EOVERFLOW where that is
 * the truth), never crash, never hand out a view outside the ring, never
 * loop.  Every reader call runs in a forked child with a deadline; where
 * possible the child's ring mapping gets a PROT_NONE guard page right after
 * it, so a read past the end of the data area faults instead of quietly
 * reading a neighbour.
 *
 * Groups:
 *   rules    one deterministic case per validation rule of ring.c
 *            (word_ready and its stale laps, word_valid, decode,
 *            hdrs_valid, erased, sfshm_msg_header's re-check), and
 *            corrupted header counters
 *   random   a scribbler process writes garbage frames (mostly tagged
 *            with the lap of where they land, so readers validate them)
 *            at the readers' positions and elsewhere while a producer
 *            produces and two readers read; SFSHM_SEED=n picks the seed, SFSHM_HOSTILE_MS
 *            the duration (default 3000)
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
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "t_util.h"

#define SIZE T_FX_SIZE /* the fixture's ring (t_fx_setup()) */
#define MAXF ((uint32_t)(SIZE / 8))
#define HDR SFSHM_FRAME_HDR_SIZE
#define NUL SFSHM_NULL_LEN
#define CALL_MS 2000 /* no reader call may take longer */
#define CHILD_MS 10000

/*
 * Frame words: WL() of @type at lap @lap (what the library writes at a
 * position of that lap), W() at lap 0 (where most cases sit), WT() with a
 * raw 32-bit tag (garbage in type and lap alike).
 */
#define WL(type, lap, len) SFSHM_FRAME_WORD(SFSHM_FRAME_TAG(type, lap), len)
#define W(type, len) WL(type, 0, len)
#define WT(tag, len) SFSHM_FRAME_WORD(tag, len)
#define LAPS (1u << SFSHM_FRAME_LAP_BITS) /* laps wrap in the word */
#define DATA SFSHM_FRAME_DATA
#define PAD SFSHM_FRAME_PAD
#define POISON SFSHM_FRAME_POISON

/* ---- fixture: struct t_fx (t_util.h); children copy its reader --------- */

/* Erased data, and counters as if a producer had claimed lap @lap. */
static void reset_ring_lap(struct t_fx *f, uint64_t lap)
{
	memset(f->raw.data, 0, SIZE);
	f->raw.hdr->k_clean = lap * SIZE;
	f->raw.hdr->k_limit = lap * SIZE + SIZE;
	f->raw.hdr->k_tail = lap * SIZE + SIZE;
}

static void reset_ring(struct t_fx *f)
{
	reset_ring_lap(f, 0);
}

/* ---- child-side helpers --------------------------------------------------- */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("    child: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/*
 * Leave a hole of @len bytes with a PROT_NONE page above it, so that the
 * next mapping of that size most likely lands there, guarded.
 */
static uintptr_t prepare_guard(size_t len)
{
	uint8_t *p = mmap(NULL, len + SFSHM_PAGE, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return 0;
	munmap(p, len);
	return (uintptr_t)p + len;
}

/* This process's read-only mapping of a ring file ending at @end? */
static bool ro_ring_ends_at(uintptr_t end, uintptr_t *lo)
{
	char line[512];
	bool found = false;
	FILE *m = fopen("/proc/self/maps", "r");

	if (!m)
		return false;
	while (!found && fgets(line, sizeof(line), m)) {
		unsigned long a, b;
		char perms[8];

		if (sscanf(line, "%lx-%lx %7s", &a, &b, perms) == 3 &&
		    b == end && !strcmp(perms, "r--s") &&
		    strstr(line, "sfshm-ring")) {
			*lo = a;
			found = true;
		}
	}
	fclose(m);
	return found;
}

/* The data area of a reader handle, when we know where it is. */
struct view {
	uintptr_t lo, hi; /* 0, 0: unknown */
};

/* Map a new reader, guarded if the kernel cooperates. */
static int map_guarded(const struct t_ring *t, struct sfshm_ring **r,
		       struct view *v)
{
	uintptr_t guard = prepare_guard(SFSHM_PAGE + SIZE), lo;
	int err = sfshm_ring_map(t->ring_fd, t->ctl_fd, SFSHM_ROLE_READER, r);

	v->lo = v->hi = 0;
	if (!err && guard && ro_ring_ends_at(guard, &lo)) {
		v->lo = lo + SFSHM_PAGE;
		v->hi = guard;
	}
	return err;
}

static bool inside(const struct view *v, const void *p, uint64_t len)
{
	uintptr_t a = (uintptr_t)p;

	if (!v->hi)
		return true;
	return a >= v->lo && a <= v->hi && len <= v->hi - a;
}

static uint64_t len_of(int32_t len)
{
	return len < 0 ? 0 : (uint64_t)len;
}

/*
 * A successful view must be consistent and lie within [lo, hi) (the ring's
 * data area after peek, the caller's buffer after read).
 */
static int check_view(const struct sfshm_msg *m, const struct view *v)
{
	uint64_t k = len_of(m->key_len), val = len_of(m->value_len);
	uint64_t flen = HDR + k + val + m->hdr_bytes;

	if (m->next - m->pos != ((flen + 7) & ~7ull) ||
	    (m->pos & (SIZE - 1)) + (m->next - m->pos) > SIZE) {
		say("view %llu..%llu does not fit its lengths (%llu)",
		    (unsigned long long)m->pos, (unsigned long long)m->next,
		    (unsigned long long)flen);
		return 20;
	}
	if ((m->key_len < 0) != (m->key == NULL) ||
	    (m->value_len < 0) != (m->value == NULL) ||
	    (m->key && !inside(v, m->key, k)) ||
	    (m->value && !inside(v, m->value, val)) ||
	    !inside(v, m->hdr_data, m->hdr_bytes)) {
		say("view pointers outside the area: key %p/%d value %p/%d "
		    "hdrs %p/%u, area %#lx..%#lx",
		    m->key, m->key_len, m->value, m->value_len, m->hdr_data,
		    m->hdr_bytes, (unsigned long)v->lo, (unsigned long)v->hi);
		return 21;
	}
	return 0;
}

/* Header @i, if it decodes, must lie inside the encoded headers. */
static int check_header(const struct sfshm_msg *m, uint32_t i, bool stable)
{
	struct view hv = { (uintptr_t)m->hdr_data,
			   (uintptr_t)m->hdr_data + m->hdr_bytes };
	struct sfshm_hdr h;
	int err = sfshm_msg_header(m, i, &h);

	if (err == -EBADMSG && !stable)
		return 0;
	if (err) {
		say("sfshm_msg_header(%u of %u) = %d", i, m->hdr_count, err);
		return 22;
	}
	if (!inside(&hv, h.key, h.key_len) ||
	    (h.value_len < 0) != (h.value == NULL) ||
	    (h.value && !inside(&hv, h.value, len_of(h.value_len)))) {
		say("header %u outside the encoded headers", i);
		return 23;
	}
	return 0;
}

/* The first headers, and the last: sfshm_msg_header() is O(i). */
static int check_headers(const struct sfshm_msg *m, bool stable)
{
	struct sfshm_hdr h;
	int rc = 0;

	for (uint32_t i = 0; !rc && i < m->hdr_count && i < 32; i++)
		rc = check_header(m, i, stable);
	if (!rc && m->hdr_count > 32)
		rc = check_header(m, m->hdr_count - 1, stable);
	if (!rc && sfshm_msg_header(m, m->hdr_count, &h) != -ENOENT) {
		say("no -ENOENT past the last header");
		rc = 24;
	}
	return rc;
}

/* ---- rules: one case per validation rule --------------------------------- */

enum { ANY = 1 }; /* "want": any answer, as long as it comes back */

#define SET_CLEAN 1u
#define SET_LIMIT 2u
#define SET_TAIL 4u
#define FRESH 8u /* map a new reader (it starts at k_clean) */
#define NO_FRAME 16u /* write nothing into the data area */
#define MAP_REFUSED 32u /* with FRESH: the map must fail with -EBADMSG */

struct hcase {
	const char *name;
	uint32_t at; /* data index of the frame = reader position */
	uint64_t word;
	uint32_t key_len, value_len, hdr_count, hdr_bytes;
	uint32_t body[8]; /* u32s after the frame header */
	int want; /* from peek and read */
	uint64_t after; /* reader position after peek; 0: where it started */
	unsigned flags;
	uint64_t clean, limit, tail;
	/*
	 * The reader's lap: it reads at position lap * SIZE + @at, counters
	 * as if that lap were claimed; a SET_CLEAN is then stored once the
	 * reader is there (the owner cleans after it arrived).
	 */
	uint32_t lap;
};

static uint64_t case_pos(const struct hcase *c)
{
	return (uint64_t)c->lap * SIZE + c->at;
}

static void write_case(struct t_fx *f, const struct hcase *c)
{
	struct sfshm_frame *fh = (struct sfshm_frame *)(f->raw.data + c->at);

	reset_ring_lap(f, c->lap);
	if ((c->flags & SET_CLEAN) && !c->lap)
		f->raw.hdr->k_clean = c->clean;
	if (c->flags & SET_LIMIT)
		f->raw.hdr->k_limit = c->limit;
	if (c->flags & SET_TAIL)
		f->raw.hdr->k_tail = c->tail;
	if (c->flags & NO_FRAME)
		return;
	if (c->at + HDR <= SIZE) {
		fh->timestamp = 42;
		fh->key_len = c->key_len;
		fh->value_len = c->value_len;
		fh->hdr_count = c->hdr_count;
		fh->hdr_bytes = c->hdr_bytes;
	}
	if (c->at + HDR + sizeof(c->body) <= SIZE)
		memcpy(fh + 1, c->body, sizeof(c->body));
	fh->k_word = c->word;
}

struct hrun {
	struct t_fx *f;
	const struct hcase *c;
};

static bool want_ok(int want, int got)
{
	if (want == ANY)
		return got == 0 || got == -EAGAIN || got == -EBADMSG ||
		       got == -EOVERFLOW;
	return got == want;
}

static int case_peek(struct sfshm_ring *r, const struct hcase *c,
		     const struct view *v, uint64_t start)
{
	uint64_t after = c->after ? c->after : start;
	struct sfshm_msg m;
	int err = sfshm_ring_peek(r, &m), rc;

	if (!want_ok(c->want, err)) {
		say("peek = %d (%s), want %d", err, sfshm_strerror(err),
		    c->want);
		return 10;
	}
	if (c->want != ANY && sfshm_ring_position(r) != after) {
		say("position %llu after peek, want %llu",
		    (unsigned long long)sfshm_ring_position(r),
		    (unsigned long long)after);
		return 11;
	}
	if (err)
		return 0;
	rc = check_view(&m, v);
	return rc ? rc : check_headers(&m, true);
}

static int case_read(struct sfshm_ring *r, const struct hcase *c,
		     uint64_t start)
{
	uint8_t *buf = malloc(MAXF);
	struct view bv = { (uintptr_t)buf, (uintptr_t)buf + MAXF };
	struct sfshm_msg m;
	int err, rc = 0;

	if (!buf)
		return 30;
	if (sfshm_ring_position(r) != start && sfshm_ring_seek(r, start) &&
	    c->want != ANY)
		return 31;
	err = sfshm_ring_read(r, &m, buf, MAXF);
	if (!want_ok(c->want, err)) {
		say("read = %d (%s), want %d", err, sfshm_strerror(err),
		    c->want);
		rc = 12;
	} else if (!err) {
		rc = check_view(&m, &bv);
		if (!rc)
			rc = check_headers(&m, true);
	}
	free(buf);
	return rc;
}

static int child_case(void *arg)
{
	struct hrun *x = arg;
	const struct hcase *c = x->c;
	struct sfshm_ring *r = x->f->rd;
	struct view v = { 0, 0 };
	uint64_t start;
	int err, rc;

	if (c->flags & FRESH) {
		err = map_guarded(&x->f->t, &r, &v);
		if ((c->flags & MAP_REFUSED) && err != -EBADMSG) {
			say("map = %d (%s), want -EBADMSG", err,
			    sfshm_strerror(err));
			if (!err)
				sfshm_ring_unmap(r);
			return 2;
		}
		if (c->flags & MAP_REFUSED)
			return 0;
		if (err) {
			say("map = %d (%s)", err, sfshm_strerror(err));
			return 2;
		}
	} else if (case_pos(c) && sfshm_ring_seek(r, case_pos(c))) {
		say("seek(%llu) refused", (unsigned long long)case_pos(c));
		return 3;
	}
	if ((c->flags & SET_CLEAN) && c->lap)
		x->f->raw.hdr->k_clean = c->clean;
	start = sfshm_ring_position(r);
	err = sfshm_ring_wait(r, 0);
	if (c->want != ANY && err != (c->want == -EAGAIN ? -EAGAIN : 0)) {
		say("wait(0) = %d", err);
		return 5;
	}
	if (sfshm_ring_position(r) != start && sfshm_ring_seek(r, start)) {
		if (c->want != ANY)
			return 6;
		start = sfshm_ring_position(r);
	}
	rc = case_peek(r, c, &v, start);
	if (!rc)
		rc = case_read(r, c, start);
	if (!rc && (start & 7)) {
		say("reader position %llu is not 8-byte aligned",
		    (unsigned long long)start);
		rc = 4;
	}
	return rc;
}

static void run_cases(struct t_fx *f, const struct hcase *cases, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++) {
		struct hrun x = { f, &cases[i] };
		char why[80];
		int st;

		write_case(f, &cases[i]);
		st = t_run_child(child_case, &x, CALL_MS);
		if (st != 0) {
			print_error("case \"%s\": reader %s\n", cases[i].name,
				    t_status_str(st, why, sizeof(why)));
			failed++;
		}
	}
	if (failed)
		fail_msg("%d of %zu cases failed", failed, n);
}

#define RUN(f, cases) run_cases(f, cases, sizeof(cases) / sizeof(cases[0]))

/* word_ready(): zero, POISON and "in progress" mean nothing yet. */
static void test_word_ready(void **state)
{
	/* clang-format off: one case per line reads better */
	static const struct hcase cases[] = {
		{ "zero word", 0, 0, .want = -EAGAIN },
		{ "POISON 0", 0, W(POISON, 0), .want = -EAGAIN },
		{ "POISON +64", 0, W(POISON, 64), .want = -EAGAIN },
		{ "POISON -64", 0, W(POISON, -64), .want = -EAGAIN },
		{ "DATA -40 (in progress)", 0, W(DATA, -40), .want = -EAGAIN },
		{ "DATA INT32_MIN", 0, W(DATA, INT32_MIN), .want = -EAGAIN },
		{ "DATA -1 at the end", SIZE - 8, W(DATA, -1),
		  .want = -EAGAIN },
		{ "POISON 0 at lap 1", 0, WL(POISON, 1, 0), .want = -EAGAIN,
		  .lap = 1 },
		{ "DATA -40 at lap 1", 0, WL(DATA, 1, -40), .want = -EAGAIN,
		  .lap = 1 },
		{ "BATCH -40 at lap 1", 0, WL(SFSHM_FRAME_BATCH, 1, -40),
		  .want = -EAGAIN, .lap = 1 },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/*
 * word_ready(): a non-zero word of another lap than the reader's position
 * is stale - not this lap's frame, so nothing yet (-EAGAIN), whatever its
 * type and length; never skipped, never validated.
 */
static void test_word_stale(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		/* At lap 0: words of later laps and of the lap before. */
		{ "record of lap 1 at lap 0", 0, WL(DATA, 1, 32), NUL, NUL,
		  .want = -EAGAIN },
		{ "record of lap 2^28 - 1 at lap 0", 0, WL(DATA, LAPS - 1, 32),
		  NUL, NUL, .want = -EAGAIN },
		{ "PAD 64 of lap 1 at lap 0: not skipped", 0, WL(PAD, 1, 64),
		  .want = -EAGAIN },
		{ "PAD of the whole ring, lap 1, at lap 0", 0,
		  WL(PAD, 1, SIZE), .want = -EAGAIN },
		{ "POISON of lap 1 at lap 0", 0, WL(POISON, 1, 0),
		  .want = -EAGAIN },
		{ "in progress of lap 1 at lap 0", 0, WL(DATA, 1, -40),
		  .want = -EAGAIN },
		{ "DATA 1 (invalid) of lap 3 at lap 0", 0, WL(DATA, 3, 1),
		  .want = -EAGAIN },
		{ "type 15 of lap 5 at lap 0", 0, WL(15, 5, 40),
		  .want = -EAGAIN },
		{ "tag ~0 (type 15, lap 2^28 - 1)", 0, WT(0xffffffffu, 40),
		  .want = -EAGAIN },
		{ "all ones", 0, ~0ull, .want = -EAGAIN },
		{ "type DATA|1<<31 (lap 2^27)", 0, WT(0x80000001u, 40),
		  .want = -EAGAIN },
		{ "record of lap 1 at the end of lap 0", SIZE - 32,
		  WL(DATA, 1, 32), NUL, NUL, .want = -EAGAIN },
		/* At lap 1: the right lap reads, others are stale. */
		{ "record of lap 1 at lap 1", 0, WL(DATA, 1, 32), NUL, NUL,
		  .want = 0, .lap = 1 },
		{ "PAD 64 of lap 1 at lap 1: skipped", 0, WL(PAD, 1, 64),
		  .want = -EAGAIN, .after = SIZE + 64, .lap = 1 },
		{ "record of lap 0 at lap 1 (left from a lap ago)", 0,
		  WL(DATA, 0, 32), NUL, NUL, .want = -EAGAIN, .lap = 1 },
		{ "claim of lap 0 at lap 1 (a producer stalled a lap)", 0,
		  WL(DATA, 0, -1024), .want = -EAGAIN, .lap = 1 },
		{ "PAD 64 of lap 0 at lap 1: not skipped", 0, WL(PAD, 0, 64),
		  .want = -EAGAIN, .lap = 1 },
		{ "record of lap 2 at lap 1", 0, WL(DATA, 2, 32), NUL, NUL,
		  .want = -EAGAIN, .lap = 1 },
		/* The lap field counts modulo 2^28. */
		{ "record of lap 0 at lap 2^28", 0, WL(DATA, 0, 32), NUL, NUL,
		  .want = 0, .lap = LAPS },
		{ "record of lap 2^28 - 1 at lap 2^28", 0,
		  WL(DATA, LAPS - 1, 32), NUL, NUL, .want = -EAGAIN,
		  .lap = LAPS },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* word_valid(): lengths and types a frame word may not have. */
static void test_word_valid(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "PAD 0", 0, W(PAD, 0), .want = -EBADMSG },
		{ "PAD 1", 0, W(PAD, 1), .want = -EBADMSG },
		{ "PAD 7", 0, W(PAD, 7), .want = -EBADMSG },
		{ "PAD -8", 0, W(PAD, -8), .want = -EBADMSG },
		{ "PAD INT32_MIN", 0, W(PAD, INT32_MIN), .want = -EBADMSG },
		{ "PAD INT32_MAX", 0, W(PAD, INT32_MAX), .want = -EBADMSG },
		{ "PAD size + 8", 0, W(PAD, SIZE + 8), .want = -EBADMSG },
		{ "PAD 24 crossing the end", SIZE - 16, W(PAD, 24),
		  .want = -EBADMSG },
		{ "PAD 17 crossing the end (aligned)", SIZE - 16, W(PAD, 17),
		  .want = -EBADMSG },
		{ "PAD 16 to the end", SIZE - 16, W(PAD, 16), .want = -EAGAIN,
		  .after = SIZE },
		{ "PAD 9 to the end (aligned)", SIZE - 16, W(PAD, 9),
		  .want = -EAGAIN, .after = SIZE },
		{ "PAD the whole ring", 0, W(PAD, SIZE), .want = -EAGAIN,
		  .after = SIZE },
		{ "type 0, len 40", 0, W(0, 40), .want = -EBADMSG },
		{ "type 5, len 40", 0, W(5, 40), .want = -EBADMSG },
		{ "type 15, len 40", 0, W(15, 40), .want = -EBADMSG },
		{ "all ones but the lap", 0, WT(0xf, -1), .want = -EBADMSG },
		{ "type BATCH, len +40", 0, W(4, 40), .want = -EBADMSG },
		{ "type 5 of lap 1 at lap 1", 0, WL(5, 1, 40), .want = -EBADMSG,
		  .lap = 1 },
		{ "DATA 1 of lap 1 at lap 1", 0, WL(DATA, 1, 1),
		  .want = -EBADMSG, .lap = 1 },
		{ "PAD 7 of lap 1 at lap 1", 0, WL(PAD, 1, 7), .want = -EBADMSG,
		  .lap = 1 },
		{ "DATA 1", 0, W(DATA, 1), .want = -EBADMSG },
		{ "DATA 8", 0, W(DATA, 8), .want = -EBADMSG },
		{ "DATA 31", 0, W(DATA, 31), .want = -EBADMSG },
		{ "DATA max_frame + 1", 0, W(DATA, MAXF + 1), .want = -EBADMSG },
		{ "DATA INT32_MAX", 0, W(DATA, INT32_MAX), .want = -EBADMSG },
		{ "DATA 40 crossing the end", SIZE - 32, W(DATA, 40),
		  .want = -EBADMSG },
		{ "DATA 33 crossing the end (aligned)", SIZE - 32, W(DATA, 33),
		  .want = -EBADMSG },
		{ "DATA 32 ending at the end: empty record", SIZE - 32,
		  W(DATA, 32), .want = 0 },
		{ "DATA max_frame ending at the end", SIZE - MAXF,
		  W(DATA, MAXF), 0, MAXF - HDR, .want = 0 },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* decode(): the header's lengths against the frame's. */
static void test_decode(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "null key, null value", 0, W(DATA, 32), NUL, NUL, .want = 0 },
		{ "null key, 8-byte value", 0, W(DATA, 40), NUL, 8, .want = 0 },
		{ "key_len 1<<31", 0, W(DATA, 48), 0x80000000u, 0,
		  .want = -EBADMSG },
		{ "key_len 0xfffffffe", 0, W(DATA, 48), 0xfffffffeu, 0,
		  .want = -EBADMSG },
		{ "value_len 1<<31", 0, W(DATA, 48), 0, 0x80000000u,
		  .want = -EBADMSG },
		{ "lengths short of the frame", 0, W(DATA, 48), 4, 4,
		  .want = -EBADMSG },
		{ "lengths beyond the frame", 0, W(DATA, 48), 100, 0,
		  .want = -EBADMSG },
		{ "key+value wrap 32 bits to the frame length", 0, W(DATA, 48),
		  0x7ffffff8u, 0x7ffffff8u, 0, 0x20, .want = -EBADMSG },
		{ "hdr_bytes wraps 32 bits to the frame length", 0,
		  W(DATA, 48), 9, 8, 0, 0xffffffffu, .want = -EBADMSG },
		{ "null lengths but bytes in the frame", 0, W(DATA, 40), NUL,
		  NUL, .want = -EBADMSG },
		{ "hdr_count 0 with hdr_bytes 8", 0, W(DATA, 40), 0, 0, 0, 8,
		  .want = -EBADMSG },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* hdrs_valid(): the encoded record headers fill hdr_bytes exactly. */
static void test_hdrs_valid(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "one empty header", 0, W(DATA, 40), 0, 0, 1, 8, { 0, 0 },
		  .want = 0 },
		{ "one header, null value", 0, W(DATA, 40), 0, 0, 1, 8,
		  { 0, NUL }, .want = 0 },
		{ "two empty headers", 0, W(DATA, 48), 0, 0, 2, 16,
		  { 0, 0, 0, 0 }, .want = 0 },
		{ "header with key and value", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 3, 5 }, .want = 0 },
		{ "hdr_bytes 4 for one header", 0, W(DATA, 36), 0, 0, 1, 4,
		  .want = -EBADMSG },
		{ "hdr_count huge, 8 headers' bytes", 0, W(DATA, 96), 0, 0,
		  0xffffffffu, 64, .want = -EBADMSG },
		{ "hdr_count huge, 4 KiB of zeroes", 0, W(DATA, 4096 + 32), 0, 0,
		  0xffffffffu, 4096, .want = -EBADMSG },
		{ "hdr_count 1<<20 in a max frame", 0, W(DATA, MAXF), 0, 0,
		  1u << 20, MAXF - HDR, .want = -EBADMSG },
		{ "trailing bytes after the headers", 0, W(DATA, 48), 0, 0, 1,
		  16, { 0, 0 }, .want = -EBADMSG },
		{ "header key beyond hdr_bytes", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 100, 0 }, .want = -EBADMSG },
		{ "header value_len 0xfffffffe", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 0, 0xfffffffeu }, .want = -EBADMSG },
		{ "header value_len 1<<31", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 0, 0x80000000u }, .want = -EBADMSG },
		{ "header lengths wrap 32 bits", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 0xfffffff8u, 0x10 }, .want = -EBADMSG },
		{ "header key 4 GiB, null value", 0, W(DATA, 48), 0, 0, 1, 16,
		  { 0xffffffffu, NUL }, .want = -EBADMSG },
		{ "second header has no room", 0, W(DATA, 44), 0, 0, 2, 12,
		  { 4, 0, 0 }, .want = -EBADMSG },
		{ "headers after key and value", 0, W(DATA, 48), 4, 4, 1, 8,
		  { 0x61616161, 0x62626262, 0, NUL }, .want = 0 },
		{ "key and value eat the headers' room", 0, W(DATA, 48), 8, 8,
		  1, 0, { 0, 0, 0, 0 }, .want = -EBADMSG },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* erased(): below k_clean the answer is -EOVERFLOW, whatever is there. */
static void test_erased(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "zero word below clean", 0, 0, .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "bad DATA below clean", 0, W(DATA, 1), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "bad PAD below clean", 0, W(PAD, 3), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "good PAD below clean", 0, W(PAD, 64), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "valid record below clean", 0, W(DATA, 32), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "in progress below clean", 0, W(DATA, -32), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "stale record of lap 1 below clean", 0, WL(DATA, 1, 32),
		  NUL, NUL, .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = 64,
		  .limit = 64 + SIZE },
		{ "stale PAD of lap 1 below clean", 0, WL(PAD, 1, 64),
		  .want = -EOVERFLOW, .flags = SET_CLEAN | SET_LIMIT,
		  .clean = 64, .limit = 64 + SIZE },
		{ "stale claim of lap 0 below clean at lap 1", 0,
		  WL(DATA, 0, -1024), .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = SIZE + 64,
		  .limit = 2 * SIZE + 64, .lap = 1 },
		{ "stale record of lap 2 below clean at lap 1", 0,
		  WL(DATA, 2, 32), NUL, NUL, .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = SIZE + 64,
		  .limit = 2 * SIZE + 64, .lap = 1 },
		{ "own-lap record below clean at lap 1", 0, WL(DATA, 1, 32),
		  NUL, NUL, .want = -EOVERFLOW,
		  .flags = SET_CLEAN | SET_LIMIT, .clean = SIZE + 64,
		  .limit = 2 * SIZE + 64, .lap = 1 },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* Counters in the header page are as writable as the frames. */
static void test_header_counters(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "limit 0", 0, W(DATA, 32), .want = -EAGAIN,
		  .flags = SET_LIMIT, .limit = 0 },
		{ "limit ~0, data erased", 0, 0, .want = -EAGAIN,
		  .flags = SET_LIMIT, .limit = UINT64_MAX },
		{ "limit ~0, a valid record", 0, W(DATA, 32), .want = 0,
		  .flags = SET_LIMIT, .limit = UINT64_MAX },
		{ "limit 2^36, one PAD over the ring", 0, W(PAD, SIZE),
		  .want = -EAGAIN, .after = SIZE, .flags = SET_LIMIT,
		  .limit = 1ull << 36 },
		{ "tail ~0: seek far ahead", 0, W(DATA, 32), .want = 0,
		  .flags = SET_TAIL, .tail = UINT64_MAX },
		{ "tail 0", 0, W(DATA, 32), .want = 0, .flags = SET_TAIL,
		  .tail = 0 },
		{ "clean ~0 (aligned), fresh reader", 0, W(DATA, 32), .want = ANY,
		  .flags = SET_CLEAN | FRESH, .clean = UINT64_MAX & ~7ull },
		{ "clean above limit, fresh reader", 0, W(DATA, 32), .want = ANY,
		  .flags = SET_CLEAN | FRESH, .clean = 3 * SIZE },
		{ "clean and limit ~0, fresh reader", 0, W(PAD, 8), .want = ANY,
		  .flags = SET_CLEAN | SET_LIMIT | FRESH,
		  .clean = UINT64_MAX & ~7ull, .limit = UINT64_MAX },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/*
 * k_limit is a shared counter any producer can write.  With it far ahead
 * and the data area all padding, next_frame() would skip the same lap of
 * padding again and again until the position reaches the limit: 2^48
 * iterations for a limit of ~0.  A reader call must come back - and does
 * at the next lap, where the padding's lap-0 word is stale.
 */
static void test_corrupt_limit_padding_loop(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "limit ~0, one PAD over the whole ring", 0, W(PAD, SIZE),
		  .want = -EAGAIN, .after = SIZE, .flags = SET_LIMIT,
		  .limit = UINT64_MAX },
		{ "limit 2^62, one PAD over the whole ring", 0, W(PAD, SIZE),
		  .want = -EAGAIN, .after = SIZE, .flags = SET_LIMIT,
		  .limit = 1ull << 62 },
		{ "limit ~0, PAD to the end from the middle", SIZE / 2,
		  W(PAD, SIZE / 2), .want = -EAGAIN, .after = SIZE,
		  .flags = SET_LIMIT, .limit = UINT64_MAX },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/*
 * k_clean is where a new reader starts.  A producer that stores an
 * unaligned value there would make the reader load its frame words
 * unaligned, and at the end of the data area load 4 bytes past the
 * mapping: the map refuses it (-EBADMSG).
 */
static void test_corrupt_clean_unaligned(void **state)
{
	/* clang-format off */
	static const struct hcase cases[] = {
		{ "clean 4, fresh reader", 0, W(DATA, 32), .want = ANY,
		  .flags = SET_CLEAN | FRESH | MAP_REFUSED, .clean = 4 },
		{ "clean size - 4, fresh reader", 0, 0, .want = ANY,
		  .flags = SET_CLEAN | SET_LIMIT | FRESH | NO_FRAME |
			   MAP_REFUSED,
		  .clean = SIZE - 4, .limit = 2 * SIZE - 4 },
		{ "clean 1 lap + 1, fresh reader", 0, 0, .want = ANY,
		  .flags = SET_CLEAN | FRESH | NO_FRAME | MAP_REFUSED,
		  .clean = SIZE + 1 },
		{ "clean 8 (aligned), fresh reader", 8, W(DATA, 32), NUL, NUL,
		  .want = 0, .flags = SET_CLEAN | FRESH, .clean = 8 },
	};
	/* clang-format on */

	RUN(*state, cases);
}

/* ---- sfshm_msg_header(): the bounds re-check after peek ----------------- */

struct hdr_scribble {
	const char *name;
	uint32_t off; /* into the encoded headers */
	uint32_t val;
	int want0, want1; /* sfshm_msg_header(0), (1) afterwards */
};

struct hsrun {
	struct t_fx *f;
	const struct hdr_scribble *s;
	uint64_t hdrs_idx; /* data index of the encoded headers */
};

static int child_hdr_scribble(void *arg)
{
	struct hsrun *x = arg;
	struct sfshm_msg m;
	struct sfshm_hdr h;
	int e0, e1;

	if (sfshm_ring_peek(x->f->rd, &m) || m.hdr_count != 2)
		return 2;
	if (check_headers(&m, true))
		return 3;
	/* Now the enemy changes the bytes the view points at. */
	memcpy(x->f->raw.data + x->hdrs_idx + x->s->off, &x->s->val, 4);
	e0 = sfshm_msg_header(&m, 0, &h);
	e1 = sfshm_msg_header(&m, 1, &h);
	if (e0 != x->s->want0 || e1 != x->s->want1) {
		say("%s: headers 0, 1 = %d, %d; want %d, %d", x->s->name, e0,
		    e1, x->s->want0, x->s->want1);
		return 4;
	}
	if (!e1 && (h.key_len > m.hdr_bytes || !h.key))
		return 5;
	return sfshm_ring_consume(x->f->rd, &m) ? 6 : 0;
}

static void test_msg_header_recheck(void **state)
{
	/* Headers: { 2, 3, "ab", "xyz" } { 1, NUL, "c" } = 13 + 9 bytes. */
	/* clang-format off */
	static const struct hdr_scribble cases[] = {
		{ "nothing changed", 0, 2, 0, 0 },
		{ "first key_len 0xffff", 0, 0xffff, -EBADMSG, -EBADMSG },
		{ "first key_len ~0", 0, 0xffffffffu, -EBADMSG, -EBADMSG },
		{ "first value_len 1<<31", 4, 0x80000000u, -EBADMSG, -EBADMSG },
		{ "first value swallows the rest", 4, 3 + 9, 0, -EBADMSG },
		{ "first value_len null", 4, NUL, 0, -EBADMSG },
		{ "second key_len 100", 13, 100, 0, -EBADMSG },
		{ "second key_len wraps", 13, 0xfffffff8u, 0, -EBADMSG },
		{ "second value_len 1", 17, 1, 0, -EBADMSG },
		{ "second value_len 0", 17, 0, 0, 0 },
	};
	/* clang-format on */
	struct t_fx *f = *state;
	struct sfshm_hdr hdrs[2] = { { "ab", 2, 3, "xyz" },
				     { "c", 1, -1, NULL } };
	struct sfshm_rec rec = { .key = "k",
				 .key_len = 1,
				 .value = "v",
				 .value_len = 1,
				 .hdrs = hdrs,
				 .hdr_count = 2 };
	int failed = 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsrun x = { f, &cases[i], HDR + 2 };
		char why[80];
		int st;

		reset_ring(f);
		f->raw.hdr->k_tail = 0;
		assert_int_equal(sfshm_ring_send(f->prod, &rec, 0, NULL), 0);
		st = t_run_child(child_hdr_scribble, &x, CALL_MS);
		if (st) {
			print_error("case \"%s\": reader %s\n", cases[i].name,
				    t_status_str(st, why, sizeof(why)));
			failed++;
		}
	}
	if (failed)
		fail_msg("%d cases failed", failed);
}

/* A caller's own msg with impossible header fields. */
static void test_msg_header_forged(void **state)
{
	static const uint8_t enc[16] = { 2, 0,	 0,   0,   3,	0,  0,
					 0, 'a', 'b', 'x', 'y', 'z' };
	struct sfshm_msg m = { .hdr_data = enc,
			       .hdr_count = 1,
			       .hdr_bytes = 13 };
	struct sfshm_hdr h;

	(void)state;
	assert_int_equal(sfshm_msg_header(&m, 0, &h), 0);
	assert_int_equal(sfshm_msg_header(&m, 1, &h), -ENOENT);
	m.hdr_bytes = 4;
	assert_int_equal(sfshm_msg_header(&m, 0, &h), -EBADMSG);
	m.hdr_bytes = 0;
	assert_int_equal(sfshm_msg_header(&m, 0, &h), -EBADMSG);
	m.hdr_bytes = 12;
	assert_int_equal(sfshm_msg_header(&m, 0, &h), -EBADMSG);
	m.hdr_bytes = 13;
	m.hdr_count = 5;
	assert_int_equal(sfshm_msg_header(&m, 1, &h), -EBADMSG);
	m.hdr_count = 0;
	assert_int_equal(sfshm_msg_header(&m, 0, &h), -ENOENT);
}

/* ---- the owner meets a corrupted tail ------------------------------------ */

static int child_clean_far(void *arg)
{
	struct t_fx *f = arg;
	uint64_t t0 = t_now_ns();
	int err;

	/* A producer moved k_tail 2^50 bytes ahead (limit is clean + size). */
	f->raw.hdr->k_tail = 1ull << 50;
	err = sfshm_ring_clean(f->own, 1ull << 50);
	if (err == 0) {
		say("clean to 2^50 with the limit at %llu accepted after "
		    "%llu ms",
		    (unsigned long long)SIZE,
		    (unsigned long long)(t_now_ns() - t0) / 1000000);
		return 1;
	}
	/* One slot more than a lap: refused, nothing erased. */
	f->raw.hdr->k_tail = SIZE + 8;
	err = sfshm_ring_clean(f->own, SIZE + 8);
	if (err != -EINVAL || f->raw.hdr->k_clean != 0 ||
	    f->raw.hdr->k_limit != SIZE ||
	    __atomic_load_n((uint64_t *)f->raw.data, __ATOMIC_ACQUIRE) !=
		    W(DATA, 32)) {
		say("clean of a lap and 8 bytes: %d, clean %llu, limit %llu",
		    err, (unsigned long long)f->raw.hdr->k_clean,
		    (unsigned long long)f->raw.hdr->k_limit);
		return 2;
	}
	/* Exactly one lap is allowed. */
	err = sfshm_ring_clean(f->own, SIZE);
	if (err || f->raw.hdr->k_clean != SIZE ||
	    f->raw.hdr->k_limit != 2 * SIZE ||
	    __atomic_load_n((uint64_t *)f->raw.data, __ATOMIC_ACQUIRE)) {
		say("clean of one lap: %d, clean %llu, limit %llu", err,
		    (unsigned long long)f->raw.hdr->k_clean,
		    (unsigned long long)f->raw.hdr->k_limit);
		return 3;
	}
	return 0;
}

/*
 * sfshm_ring_clean() trusts k_tail, which producers write: the owner must
 * neither spend forever zeroing 2^50 bytes of a 64 KiB ring nor accept a
 * clean position beyond its own limit; it erases at most one lap at once.
 */
static void test_owner_clean_corrupt_tail(void **state)
{
	struct t_fx *f = *state;
	char why[80];
	int st;

	/* A record at 0 (lap 0), to see whether anything was erased. */
	reset_ring(f);
	__atomic_store_n((uint64_t *)f->raw.data, W(DATA, 32),
			 __ATOMIC_RELEASE);
	st = t_run_child(child_clean_far, f, CALL_MS);

	if (st)
		fail_msg("owner cleaning up to a corrupted k_tail %s",
			 t_status_str(st, why, sizeof(why)));
}

/* ---- ctl page: readers can write it ------------------------------------- */

struct ctlrun {
	struct t_fx *f;
	int err;
	uint64_t woke_ns;
};

static int child_sleep_read(void *arg)
{
	struct ctlrun *x = arg;
	struct sfshm_ring *r = x->f->rd;

	sfshm_ring_set_wait(r, SFSHM_WAIT_FUTEX, 0);
	x->err = sfshm_ring_wait(r, CHILD_MS);
	x->woke_ns = t_now_ns();
	return x->err ? 1 : 0;
}

/*
 * Another reader zeroes k_waiters under a sleeping one: the producer then
 * skips the wake-up, and the sleeper must still see the record after at
 * most one sleep slice (100 ms), not at its 10 s timeout.
 */
static void test_ctl_waiters_zeroed(void **state)
{
	struct t_fx *f = *state;
	struct ctlrun *x = t_shared_alloc(sizeof(*x));
	struct sfshm_rec rec = { .key_len = -1, .value_len = -1 };
	struct t_sleeper a = { 0, &f->raw.ctl->k_waiters };
	uint64_t t0;
	char why[80];
	int st;

	x->f = f;
	a.pid = t_fork_clean(child_sleep_read, x);
	if (!t_wait_until(t_is_asleep, &a, CHILD_MS)) {
		t_wait_child(a.pid, 0);
		fail_msg("reader never slept");
	}
	__atomic_store_n(&f->raw.ctl->k_waiters, 0, __ATOMIC_SEQ_CST);
	t0 = t_now_ns();
	assert_int_equal(sfshm_ring_send(f->prod, &rec, 0, NULL), 0);
	st = t_wait_child(a.pid, CHILD_MS);
	if (st)
		fail_msg("sleeping reader %s",
			 t_status_str(st, why, sizeof(why)));
	if (x->woke_ns - t0 > 1000000000ull)
		fail_msg("reader woke %llu ms after the send",
			 (unsigned long long)(x->woke_ns - t0) / 1000000);
	munmap(x, sizeof(*x));
}

/* ---- random: a scribbler against live readers ------------------------- */

#define NREADERS 2

struct rstat {
	uint64_t call_ns; /* start of the call in progress, 0: none */
	uint32_t op; /* which call */
	uint32_t done;
	uint64_t iters;
	uint64_t ok, again, badmsg, overflow, nobufs, guarded;
};

struct shared {
	uint32_t stop;
	uint64_t seed;
	uint64_t run_ms;
	uint64_t scribbles, sent;
	struct rstat rd[NREADERS];
	char msg[NREADERS][256];
};

struct rnd_ctx {
	struct t_fx *f;
	struct shared *sh;
	int id;
	uint64_t rng;
};

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(t_rand(s) % n) : 0;
}

static const char *const op_names[] = {
	"none", "peek", "consume", "read", "wait", "seek", "msg_header",
};

enum { OP_PEEK = 1, OP_CONSUME, OP_READ, OP_WAIT, OP_SEEK, OP_HDR };

static void call_begin(struct rstat *st, uint32_t op)
{
	st->op = op;
	__atomic_store_n(&st->call_ns, t_now_ns(), __ATOMIC_RELEASE);
}

static void call_end(struct rstat *st)
{
	__atomic_store_n(&st->call_ns, 0, __ATOMIC_RELEASE);
}

static void count(struct rstat *st, int err)
{
	switch (err) {
	case 0:
		st->ok++;
		break;
	case -EAGAIN:
		st->again++;
		break;
	case -EBADMSG:
		st->badmsg++;
		break;
	case -EOVERFLOW:
		st->overflow++;
		break;
	case -ENOBUFS:
		st->nobufs++;
		break;
	}
}

/* After an error the reader moves on somewhere, as a real one would. */
static void unstick(struct sfshm_ring *r, struct rstat *st, uint64_t *rng,
		    int err)
{
	uint64_t pos = sfshm_ring_position(r), to;

	if (err == -EOVERFLOW || rnd(rng, 4) == 0)
		to = sfshm_ring_clean_pos(r) + 8ull * rnd(rng, SIZE / 8);
	else
		to = pos + 8;
	call_begin(st, OP_SEEK);
	err = sfshm_ring_seek(r, to & ~7ull);
	if (err)
		err = sfshm_ring_seek(r, sfshm_ring_clean_pos(r) & ~7ull);
	call_end(st);
}

static int fail_reader(struct rnd_ctx *x, int rc, const char *what)
{
	snprintf(x->sh->msg[x->id], sizeof(x->sh->msg[0]), "%s", what);
	return rc;
}

static int reader_peek(struct rnd_ctx *x, struct sfshm_ring *r,
		       const struct view *v)
{
	struct rstat *st = &x->sh->rd[x->id];
	struct sfshm_msg m;
	int err, rc;

	call_begin(st, OP_PEEK);
	err = sfshm_ring_peek(r, &m);
	call_end(st);
	count(st, err);
	if (err != 0 && err != -EAGAIN && err != -EBADMSG && err != -EOVERFLOW)
		return fail_reader(x, 40, "peek: unexpected error");
	if (err) {
		if (err != -EAGAIN)
			unstick(r, st, &x->rng, err);
		return 0;
	}
	rc = check_view(&m, v);
	if (rc)
		return fail_reader(x, rc, "peek: view outside the ring");
	call_begin(st, OP_HDR);
	rc = check_headers(&m, false);
	call_end(st);
	if (rc)
		return fail_reader(x, rc, "peek: bad header view");
	call_begin(st, OP_CONSUME);
	err = sfshm_ring_consume(r, &m);
	call_end(st);
	if (err != 0 && err != -EOVERFLOW)
		return fail_reader(x, 41, "consume: unexpected error");
	return 0;
}

static int reader_read(struct rnd_ctx *x, struct sfshm_ring *r)
{
	struct rstat *st = &x->sh->rd[x->id];
	size_t len = rnd(&x->rng, 2) ? MAXF : rnd(&x->rng, 512);
	uint8_t *buf = malloc(len ? len : 1);
	struct view bv = { (uintptr_t)buf, (uintptr_t)buf + len };
	struct sfshm_msg m;
	int err, rc = 0;

	if (!buf)
		return 42;
	call_begin(st, OP_READ);
	err = sfshm_ring_read(r, &m, buf, len);
	call_end(st);
	count(st, err);
	if (err == 0) {
		rc = check_view(&m, &bv);
		call_begin(st, OP_HDR);
		rc = rc ? rc : check_headers(&m, true);
		call_end(st);
	} else if (err == -EBADMSG || err == -EOVERFLOW) {
		unstick(r, st, &x->rng, err);
	} else if (err == -ENOBUFS) {
		if (m.next - m.pos <= len + HDR || m.next - m.pos > MAXF + 7)
			rc = 43;
		else if (rnd(&x->rng, 2))
			unstick(r, st, &x->rng, err);
	} else if (err != -EAGAIN) {
		rc = 44;
	}
	free(buf);
	return rc ? fail_reader(x, rc, "read: bad answer") : 0;
}

static int reader_main(void *arg)
{
	struct rnd_ctx *x = arg;
	struct rstat *st = &x->sh->rd[x->id];
	uint64_t end = t_now_ms() + x->sh->run_ms;
	struct sfshm_ring *r;
	struct view v;
	int rc = 0;

	x->rng = x->sh->seed * 31 + (uint64_t)x->id + 1;
	if (map_guarded(&x->f->t, &r, &v))
		return fail_reader(x, 45, "map failed");
	st->guarded = v.hi != 0;
	while (!rc && t_now_ms() < end) {
		uint32_t c = rnd(&x->rng, 10);

		if (c < 4) {
			rc = reader_peek(x, r, &v);
		} else if (c < 8) {
			rc = reader_read(x, r);
		} else {
			call_begin(st, OP_WAIT);
			count(st, sfshm_ring_wait(r, c == 8 ? 0 : 1));
			call_end(st);
		}
		sfshm_ring_publish_pos(r);
		st->iters++;
	}
	sfshm_ring_unmap(r);
	st->done = 1;
	return rc;
}

/* Lengths an enemy likes. */
static uint32_t evil_len(uint64_t *s, uint32_t idx)
{
	static const uint32_t fixed[] = {
		0,	     1,		  7,
		8,	     24,	  31,
		32,	     33,	  MAXF,
		MAXF + 1,    0x7fffffffu, 0x80000000u,
		0xffffffffu, 0xfffffff8u, (uint32_t)SIZE,
	};
	uint32_t c = rnd(s, 8);

	if (c == 0)
		return fixed[rnd(s, sizeof(fixed) / sizeof(fixed[0]))];
	if (c == 1)
		return (uint32_t)(SIZE - idx) + 8 * rnd(s, 3); /* to/over end */
	if (c == 2)
		return (uint32_t) - (int32_t)rnd(s, 4096);
	if (c == 3)
		return (uint32_t)t_rand(s);
	return rnd(s, 512);
}

static uint32_t evil_type(uint64_t *s)
{
	static const uint32_t types[] = { DATA,	  DATA, DATA, PAD, PAD,
					  POISON, 0,	4,    5,   15 };

	return types[rnd(s, sizeof(types) / sizeof(types[0]))];
}

/*
 * The tag of a word written at @pos: mostly @pos's own lap, so that the
 * readers validate it; sometimes a neighbouring lap or garbage (stale).
 */
static uint32_t evil_tag(uint64_t *s, uint32_t type, uint64_t pos)
{
	uint32_t lap = (uint32_t)(pos / SIZE);

	switch (rnd(s, 16)) {
	case 0:
		return SFSHM_FRAME_TAG(type, lap + 1);
	case 1:
		return SFSHM_FRAME_TAG(type, lap - 1);
	case 2:
		return (uint32_t)t_rand(s);
	default:
		return SFSHM_FRAME_TAG(type, lap);
	}
}

/* A frame whose lengths add up, so readers go on to the body. */
static void plausible_frame(uint64_t *s, uint8_t *d, uint64_t pos)
{
	uint32_t idx = (uint32_t)(pos & (SIZE - 1));
	struct sfshm_frame *fh = (struct sfshm_frame *)(d + idx);
	uint32_t room = (uint32_t)(SIZE - idx), k, v, hb = 0, n;
	uint8_t *p;

	if (room > MAXF)
		room = MAXF;
	if (room < HDR)
		return;
	k = rnd(s, 40);
	v = rnd(s, 200);
	n = rnd(s, 4);
	if (HDR + k + v + n * 12 > room)
		k = v = n = 0;
	p = d + idx + HDR + k + v;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t kv[2] = { 2, rnd(s, 3) ? 2 : NUL };

		memcpy(p, kv, 8);
		p += 8 + 2 + (kv[1] == NUL ? 0 : 2);
		hb += 8 + 2 + (kv[1] == NUL ? 0 : 2);
	}
	fh->key_len = rnd(s, 5) ? k : (k ? k : NUL);
	fh->value_len = v;
	fh->hdr_count = n;
	fh->hdr_bytes = hb;
	if (rnd(s, 3) == 0) /* then spoil one thing */
		((uint32_t *)&fh->key_len)[rnd(s, 4)] = evil_len(s, idx);
	__atomic_store_n(&fh->k_word,
			 WT(evil_tag(s, DATA, pos), HDR + k + v + hb),
			 __ATOMIC_RELEASE);
}

static void garbage_frame(uint64_t *s, uint8_t *d, uint64_t pos)
{
	uint32_t idx = (uint32_t)(pos & (SIZE - 1));
	struct sfshm_frame *fh = (struct sfshm_frame *)(d + idx);
	uint64_t w = WT(evil_tag(s, evil_type(s), pos), evil_len(s, idx));

	if (idx + HDR <= SIZE) {
		fh->key_len = rnd(s, 2) ? evil_len(s, idx) : NUL;
		fh->value_len = rnd(s, 2) ? evil_len(s, idx) : NUL;
		fh->hdr_count = rnd(s, 2) ? evil_len(s, idx) : rnd(s, 3);
		fh->hdr_bytes = evil_len(s, idx);
	}
	if (idx + HDR + 16 <= SIZE && rnd(s, 2)) {
		uint32_t *kv = (uint32_t *)(fh + 1);

		for (int i = 0; i < 4; i++)
			kv[i] = evil_len(s, idx);
	}
	__atomic_store_n(&fh->k_word, w, __ATOMIC_RELEASE);
}

/* Counters, within bounds that avoid the known padding loop. */
static void scribble_counters(uint64_t *s, struct sfshm_ring_hdr *h)
{
	uint64_t clean = __atomic_load_n(&h->k_clean, __ATOMIC_RELAXED);

	switch (rnd(s, 4)) {
	case 0:
		__atomic_store_n(&h->k_tail, clean + 8 * rnd(s, SIZE / 8),
				 __ATOMIC_RELAXED);
		break;
	case 1:
		__atomic_store_n(&h->k_limit, clean + 8 * rnd(s, 4 * SIZE / 8),
				 __ATOMIC_RELAXED);
		break;
	case 2:
		__atomic_store_n(&h->k_clean,
				 (clean + 8 * rnd(s, SIZE / 8)) & ~7ull,
				 __ATOMIC_RELAXED);
		break;
	default:
		__atomic_store_n(&h->k_limit, clean + SIZE, __ATOMIC_RELAXED);
	}
}

/* A position to scribble at: a reader's, near the end of a lap, any. */
static uint64_t scribble_target(uint64_t *s, const struct t_raw *raw)
{
	uint64_t clean = __atomic_load_n(&raw->hdr->k_clean, __ATOMIC_RELAXED);
	uint32_t k = rnd(s, 10);

	if (k < 5) {
		const struct sfshm_reader_slot *sl = &raw->ctl->slot[rnd(s, 4)];

		return __atomic_load_n(&sl->k_pos, __ATOMIC_RELAXED) & ~7ull;
	}
	if (k < 7)
		return (clean | (SIZE - 1)) - 7 - 8 * rnd(s, 64);
	return clean + 8 * rnd(s, SIZE / 8);
}

static int scribbler_main(void *arg)
{
	struct rnd_ctx *x = arg;
	struct t_raw *raw = &x->f->raw;

	x->rng = x->sh->seed * 977 + 5;
	while (!__atomic_load_n(&x->sh->stop, __ATOMIC_ACQUIRE)) {
		uint64_t pos = scribble_target(&x->rng, raw);
		uint32_t idx = (uint32_t)(pos & (SIZE - 1));
		uint32_t c = rnd(&x->rng, 100);

		if (c < 55)
			garbage_frame(&x->rng, raw->data, pos);
		else if (c < 90)
			plausible_frame(&x->rng, raw->data, pos);
		else if (c < 91)
			scribble_counters(&x->rng, raw->hdr);
		else
			memset(raw->data + idx, 0,
			       SIZE - idx < 64 ? SIZE - idx : 64);
		x->sh->scribbles++;
		if ((x->sh->scribbles & 63) == 0)
			sched_yield();
	}
	return 0;
}

/* An honest producer: sends, and cleans behind itself when full. */
static int producer_main(void *arg)
{
	struct rnd_ctx *x = arg;
	uint8_t val[600];

	x->rng = x->sh->seed * 13 + 7;
	memset(val, 'v', sizeof(val));
	while (!__atomic_load_n(&x->sh->stop, __ATOMIC_ACQUIRE)) {
		struct sfshm_hdr h = { "h", 1, (int32_t)rnd(&x->rng, 20), val };
		struct sfshm_rec rec = {
			.key = "key",
			.key_len = (int32_t)rnd(&x->rng, 4) - 1,
			.value = val,
			.value_len = (int32_t)rnd(&x->rng, 600),
			.hdrs = &h,
			.hdr_count = rnd(&x->rng, 2),
		};
		int err = sfshm_ring_send(x->f->prod, &rec, 0, NULL);

		if (err == -EAGAIN)
			sfshm_ring_clean(x->f->own,
					 sfshm_ring_tail(x->f->own) & ~7ull);
		else if (!err)
			x->sh->sent++;
		if ((x->sh->sent & 31) == 0)
			sched_yield();
	}
	return 0;
}

/* A forked helper process. */
struct proc {
	pid_t pid;
	bool reaped;
	int st; /* as t_wait_child() */
};

static void proc_start(struct proc *p, int (*fn)(void *), void *arg)
{
	p->pid = t_fork_clean(fn, arg);
	p->reaped = false;
}

static bool proc_poll(struct proc *p)
{
	int st;

	if (!p->reaped && waitpid(p->pid, &st, WNOHANG) == p->pid) {
		p->reaped = true;
		p->st = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	return p->reaped;
}

static int proc_wait(struct proc *p, int timeout_ms)
{
	if (!p->reaped) {
		p->st = t_wait_child(p->pid, timeout_ms);
		p->reaped = true;
	}
	return p->st;
}

static void kill_all(struct proc *p, int n)
{
	for (int i = 0; i < n; i++) {
		if (!p[i].reaped)
			kill(p[i].pid, SIGKILL);
		proc_wait(&p[i], CHILD_MS);
	}
}

/* Any reader call running longer than CALL_MS?  Then name it. */
static int stuck_reader(struct shared *sh)
{
	uint64_t now = t_now_ns();

	for (int i = 0; i < NREADERS; i++) {
		uint64_t t =
			__atomic_load_n(&sh->rd[i].call_ns, __ATOMIC_ACQUIRE);

		if (t && now > t && now - t > CALL_MS * 1000000ull)
			return i;
	}
	return -1;
}

struct watch {
	struct shared *sh;
	struct proc *procs;
	int stuck;
};

static bool readers_done_or_stuck(void *arg)
{
	struct watch *w = arg;
	bool all = true;

	w->stuck = stuck_reader(w->sh);
	if (w->stuck >= 0)
		return true;
	for (int i = 0; i < NREADERS; i++)
		if (!proc_poll(&w->procs[2 + i]))
			all = false;
	return all;
}

static void report_random(struct shared *sh)
{
	for (int i = 0; i < NREADERS; i++) {
		struct rstat *s = &sh->rd[i];

		print_message("  reader %d%s: %llu calls: %llu ok, %llu again, "
			      "%llu badmsg, %llu overflow, %llu nobufs\n",
			      i, s->guarded ? " (guarded)" : "",
			      (unsigned long long)s->iters,
			      (unsigned long long)s->ok,
			      (unsigned long long)s->again,
			      (unsigned long long)s->badmsg,
			      (unsigned long long)s->overflow,
			      (unsigned long long)s->nobufs);
	}
	print_message("  %llu scribbles, %llu records sent\n",
		      (unsigned long long)sh->scribbles,
		      (unsigned long long)sh->sent);
}

static void check_procs(struct shared *sh, struct proc *procs)
{
	for (int i = 0; i < NREADERS; i++) {
		int rc = proc_wait(&procs[2 + i], CHILD_MS);
		char why[80];

		if (rc)
			fail_msg("reader %d (seed %llu) %s: %s", i,
				 (unsigned long long)sh->seed,
				 t_status_str(rc, why, sizeof(why)),
				 sh->msg[i]);
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < 2; i++) {
		int rc = proc_wait(&procs[i], CHILD_MS);
		char why[80];

		if (rc)
			fail_msg("%s (seed %llu) %s",
				 i ? "producer" : "scribbler",
				 (unsigned long long)sh->seed,
				 t_status_str(rc, why, sizeof(why)));
	}
}

static void test_random_scribbler(void **state)
{
	struct t_fx *f = *state;
	struct shared *sh = t_shared_alloc(sizeof(*sh));
	struct rnd_ctx ctx[2 + NREADERS];
	struct proc procs[2 + NREADERS];
	const char *seed = getenv("SFSHM_SEED");
	const char *ms = getenv("SFSHM_HOSTILE_MS");
	struct watch w = { sh, procs, -1 };

	memset(procs, 0, sizeof(procs));
	sh->seed = seed && *seed ? strtoull(seed, NULL, 0) : 1;
	sh->run_ms = ms && *ms ? strtoull(ms, NULL, 0) : 3000;
	print_message("  seed %llu (SFSHM_SEED), %llu ms\n",
		      (unsigned long long)sh->seed,
		      (unsigned long long)sh->run_ms);
	for (int i = 0; i < 2 + NREADERS; i++)
		ctx[i] = (struct rnd_ctx){ f, sh, i - 2, 0 };
	proc_start(&procs[0], scribbler_main, &ctx[0]);
	proc_start(&procs[1], producer_main, &ctx[1]);
	for (int i = 0; i < NREADERS; i++)
		proc_start(&procs[2 + i], reader_main, &ctx[2 + i]);
	t_wait_until(readers_done_or_stuck, &w, (int)sh->run_ms + CHILD_MS);
	if (w.stuck >= 0) {
		uint32_t op = sh->rd[w.stuck].op;

		kill_all(procs, 2 + NREADERS);
		fail_msg("reader %d stuck in %s for over %d ms (seed %llu)",
			 w.stuck, op < 7 ? op_names[op] : "?", CALL_MS,
			 (unsigned long long)sh->seed);
	}
	report_random(sh);
	check_procs(sh, procs);
	for (int i = 0; i < NREADERS; i++) {
		assert_true(sh->rd[i].ok > 0);
		assert_true(sh->rd[i].badmsg > 0);
	}
	munmap(sh, sizeof(*sh));
}

#define PROG "test_ring_hostile"

int main(void)
{
	const struct CMUnitTest rules[] = {
		T_FX(test_word_ready),
		T_FX(test_word_stale),
		T_FX(test_word_valid),
		T_FX(test_decode),
		T_FX(test_hdrs_valid),
		T_FX(test_erased),
		T_FX(test_msg_header_recheck),
		cmocka_unit_test(test_msg_header_forged),
		T_FX(test_header_counters),
		T_FX(test_corrupt_limit_padding_loop),
		T_FX(test_corrupt_clean_unaligned),
		T_FX(test_owner_clean_corrupt_tail),
		T_FX(test_ctl_waiters_zeroed),
	};
	const struct CMUnitTest random[] = {
		T_FX(test_random_scribbler),
	};
	int fails = 0;

	fails += T_GROUP("rules", rules);
	fails += T_GROUP("random", random);
	return t_groups_report(PROG, fails);
}
