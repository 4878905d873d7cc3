// SPDX-License-Identifier: MIT
/*
 * fuzz_frame.c - libFuzzer target: the ring reader against arbitrary bytes.
 *
 * One 64 KiB ring is created once.  Each input is
 *
 *   byte 0     flags: bit 0 - the next 12 bytes set the header counters
 *                     bit 1 - read with a small buffer
 *                     bit 2 - read (copy) first, then peek
 *                     bit 3 - with bit 0: limit up to 2^48 ahead, and
 *                             clean not necessarily 8-byte aligned
 *   bytes 1-2  data index where the payload is written (wraps at the end)
 *   bytes 3-4  reader start, in 8-byte units from the window's start
 *   byte 5     lap (0..3) the window starts in
 *   [12 bytes  clean, limit, tail offsets, if flag bit 0]
 *   payload    written over the erased data area
 *
 * and a new reader then runs at most STEPS peek/consume, read, wait and
 * header calls over it, checking that every view lies inside its frame
 * and the frame inside the data area, and touching every byte it is
 * shown.  Frame words carry the lap of their position (ring_layout.h): a
 * word whose lap is not the reader's is stale, so the seeds come in
 * several laps.  Without flag bit 3 the header counters stay within two
 * laps of each other and clean is aligned; with it, the reader's bounds
 * on corrupt counters are exercised too (a map refused with -EBADMSG for
 * an unaligned clean, padding skipped for at most one lap).
 *
 * Seeds in tests/corpus/fuzz_frame/ are frames the library wrote; they are
 * made by this file built as a program:
 *   cc -DFUZZ_FRAME_GEN -D_GNU_SOURCE -Iinclude -Ilibsfshm \
 *      tests/fuzz_frame.c libsfshm/ring.c libsfshm/error.c -o gen
 *   ./gen tests/corpus/fuzz_frame
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sfshm/ring.h>
#include <sfshm/ring_layout.h>

#define SIZE (64ull << 10)
#define MAXF ((uint32_t)(SIZE / 8))
#define HDR SFSHM_FRAME_HDR_SIZE
#define PREFIX 6
#define STEPS 64

struct fz {
	int rfd, cfd;
	struct sfshm_ring_hdr *hdr;
	uint8_t *data;
};

static struct fz fz;

static void die(const char *what, long a, long b) __attribute__((noreturn));

static void die(const char *what, long a, long b)
{
	fprintf(stderr, "fuzz_frame: %s (%ld, %ld)\n", what, a, b);
	abort();
}

static void fz_init(void)
{
	void *p;

	if (fz.hdr)
		return;
	if (sfshm_ring_create_memfd(SIZE, &fz.rfd, &fz.cfd))
		die("create ring", 0, 0);
	p = mmap(NULL, SFSHM_PAGE + SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fz.rfd, 0);
	if (p == MAP_FAILED)
		die("map ring", errno, 0);
	fz.hdr = p;
	fz.data = (uint8_t *)p + SFSHM_PAGE;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Lay the input out: counters, then the payload over erased data. */
static uint64_t fz_setup(const uint8_t **in, size_t *n, uint8_t flags)
{
	const uint8_t *p = *in;
	uint64_t base = (uint64_t)(p[5] & 3) * SIZE;
	uint64_t clean = base, limit = base + SIZE, tail = base + SIZE;
	uint32_t at = (uint32_t)(p[1] | p[2] << 8) & (SIZE - 1);

	*in += PREFIX;
	*n -= PREFIX;
	if ((flags & 9) == 9 && *n >= 12) {
		clean = base + (get32(*in) & (SIZE - 1));
		limit = clean + ((uint64_t)get32(*in + 4) << 16);
		tail = clean + get32(*in + 8) % (2 * SIZE);
		*in += 12;
		*n -= 12;
	} else if ((flags & 1) && *n >= 12) {
		clean = base + (get32(*in) & (SIZE - 8));
		limit = clean + get32(*in + 4) % (2 * SIZE);
		tail = clean + get32(*in + 8) % (2 * SIZE);
		*in += 12;
		*n -= 12;
	}
	memset(fz.data, 0, SIZE);
	fz.hdr->k_clean = clean;
	fz.hdr->k_limit = limit;
	fz.hdr->k_tail = tail;
	for (size_t i = 0; i < *n && i < SIZE; i++)
		fz.data[(at + i) & (SIZE - 1)] = (*in)[i];
	return base + 8ull * (uint64_t)(p[3] | p[4] << 8) % SIZE;
}

static volatile uint8_t sink;

static void touch(const void *p, int64_t len)
{
	const uint8_t *b = p;
	uint8_t x = 0;

	for (int64_t i = 0; i < len; i++)
		x ^= b[i];
	sink ^= x;
}

static uint64_t len_of(int32_t len)
{
	return len < 0 ? 0 : (uint64_t)len;
}

/* Every pointer of a view inside its frame; the frame inside the ring. */
static void check_view(const struct sfshm_msg *m)
{
	uint64_t k = len_of(m->key_len), v = len_of(m->value_len);
	uint64_t flen = HDR + k + v + m->hdr_bytes;
	const uint8_t *body = (const uint8_t *)m->hdr_data - k - v;

	if (m->next - m->pos != ((flen + 7) & ~7ull))
		die("frame length", (long)(m->next - m->pos), (long)flen);
	if ((m->pos & 7) || (m->pos & (SIZE - 1)) + m->next - m->pos > SIZE)
		die("frame outside the data area", (long)m->pos, (long)m->next);
	if ((m->key_len < 0) != !m->key || (m->value_len < 0) != !m->value)
		die("null pointer and length disagree", m->key_len,
		    m->value_len);
	if ((m->key && (const uint8_t *)m->key != body) ||
	    (m->value && (const uint8_t *)m->value != body + k))
		die("key/value outside the frame", 0, 0);
	touch(m->key, m->key_len);
	touch(m->value, m->value_len);
	touch(m->hdr_data, m->hdr_bytes);
}

static bool within(const void *p, uint64_t len, const uint8_t *lo,
		   const uint8_t *hi)
{
	const uint8_t *b = p;

	return b >= lo && b <= hi && len <= (uint64_t)(hi - b);
}

static void check_header(const struct sfshm_msg *m, uint32_t i)
{
	const uint8_t *lo = m->hdr_data, *hi = lo + m->hdr_bytes;
	struct sfshm_hdr h;
	int err = sfshm_msg_header(m, i, &h);

	if (err == -EBADMSG)
		return;
	if (err)
		die("sfshm_msg_header", err, i);
	if (!within(h.key, h.key_len, lo, hi))
		die("header key outside the headers", i, h.key_len);
	if ((h.value_len < 0) != !h.value ||
	    (h.value && !within(h.value, len_of(h.value_len), lo, hi)))
		die("header value outside the headers", i, h.value_len);
	touch(h.key, h.key_len);
	touch(h.value, h.value_len);
}

static void check_headers(const struct sfshm_msg *m)
{
	struct sfshm_hdr h;

	for (uint32_t i = 0; i < m->hdr_count && i < 16; i++)
		check_header(m, i);
	if (m->hdr_count > 16)
		check_header(m, m->hdr_count - 1);
	if (sfshm_msg_header(m, m->hdr_count, &h) != -ENOENT)
		die("no -ENOENT past the last header", m->hdr_count, 0);
}

static void reader_error(int err, bool copy)
{
	if (err == -EAGAIN || err == -EBADMSG || err == -EOVERFLOW ||
	    (copy && err == -ENOBUFS))
		return;
	die(copy ? "read: unexpected error" : "peek: unexpected error", err, 0);
}

static int step_peek(struct sfshm_ring *r)
{
	struct sfshm_msg m;
	int err = sfshm_ring_peek(r, &m);

	if (err) {
		reader_error(err, false);
		return err;
	}
	check_view(&m);
	check_headers(&m);
	err = sfshm_ring_consume(r, &m);
	if (err && err != -EOVERFLOW)
		die("consume", err, 0);
	return err;
}

static int step_read(struct sfshm_ring *r, size_t len)
{
	uint8_t *buf = malloc(len ? len : 1);
	struct sfshm_msg m;
	int err;

	if (!buf)
		die("malloc", (long)len, 0);
	err = sfshm_ring_read(r, &m, buf, len);
	if (err) {
		reader_error(err, true);
	} else {
		if ((const uint8_t *)m.hdr_data < buf ||
		    (const uint8_t *)m.hdr_data + m.hdr_bytes > buf + len)
			die("read: headers outside the buffer", 0, 0);
		check_view(&m);
		check_headers(&m);
	}
	free(buf);
	return err;
}

static void run_reader(uint64_t start, uint8_t flags)
{
	size_t len = (flags & 2) ? 64 : MAXF;
	struct sfshm_ring *r = NULL;
	int err = sfshm_ring_map(fz.rfd, fz.cfd, SFSHM_ROLE_READER, &r);

	/* A reader starts at clean: refused where that is no frame start. */
	if (err == -EBADMSG && (fz.hdr->k_clean & 7))
		return;
	if (err || (fz.hdr->k_clean & 7))
		die("map reader", err, (long)fz.hdr->k_clean);
	sfshm_ring_seek(r, start); /* may be refused: stay at clean */
	for (int i = 0; i < STEPS; i++) {
		uint64_t pos = sfshm_ring_position(r);

		err = sfshm_ring_wait(r, 0);
		if (err && err != -EAGAIN)
			die("wait(0)", err, 0);
		if (sfshm_ring_position(r) & 7)
			die("unaligned position", (long)sfshm_ring_position(r),
			    0);
		if ((i + (flags >> 2)) & 1)
			err = step_read(r, len);
		else
			err = step_peek(r);
		if (err == -EAGAIN || err == -EOVERFLOW)
			break;
		if (err && sfshm_ring_seek(r, sfshm_ring_position(r) + 8))
			break; /* corrupt here: try the next slot */
		if (sfshm_ring_position(r) == pos && !err)
			die("a record that does not advance", (long)pos, 0);
	}
	sfshm_ring_unmap(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t start;
	uint8_t flags;

	if (size < PREFIX)
		return 0;
	fz_init();
	flags = data[0];
	start = fz_setup(&data, &size, flags);
	run_reader(start, flags);
	return 0;
}

#ifdef FUZZ_FRAME_GEN
/* ---- seed generator: frames as the library writes them ------------------ */

static const char *seed_dir = ".";

/*
 * Write a seed: the prefix, @ctr (clean, limit, tail offsets) if given,
 * then @len data bytes from index @at; the reader starts at @at of lap
 * @lap (the payload's frame words must carry that lap to be read).
 */
static void put_seed(const char *name, uint8_t flags, uint32_t at, uint32_t len,
		     const uint32_t *ctr, uint8_t lap)
{
	uint8_t pre[PREFIX] = { flags,
				(uint8_t)at,
				(uint8_t)(at >> 8),
				(uint8_t)(at / 8),
				(uint8_t)(at / 8 >> 8),
				lap };
	char path[512];
	FILE *f;

	if (ctr)
		pre[0] |= 1;
	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f)
		die("open seed", errno, 0);
	fwrite(pre, 1, sizeof(pre), f);
	if (ctr)
		fwrite(ctr, 4, 3, f);
	for (uint32_t i = 0; i < len; i++)
		fputc(fz.data[(at + i) & (SIZE - 1)], f);
	fclose(f);
}

static struct sfshm_ring *gen_ring(void)
{
	struct sfshm_ring *p = NULL;

	if (fz.hdr) {
		munmap(fz.hdr, SFSHM_PAGE + SIZE);
		close(fz.rfd);
		close(fz.cfd);
		fz.hdr = NULL;
	}
	fz_init();
	if (sfshm_ring_map(fz.rfd, fz.cfd, SFSHM_ROLE_OWNER, &p))
		die("map owner", 0, 0);
	return p;
}

static void gen_send(struct sfshm_ring *p, const struct sfshm_rec *rec)
{
	int err = sfshm_ring_send(p, rec, 0, NULL);

	if (err)
		die("send", err, 0);
}

/* Send filler records, cleaning behind them, until the tail is @to. */
static void gen_fill_to(struct sfshm_ring *p, uint64_t to)
{
	static const uint8_t val[MAXF];
	uint64_t t;

	while ((t = sfshm_ring_tail(p)) < to) {
		uint64_t room = to - t;
		struct sfshm_rec fill = {
			.key_len = -1,
			.value = val,
			.value_len =
				(int32_t)((room > MAXF ? MAXF : room) - HDR),
		};

		if (room > MAXF && room - MAXF < HDR)
			fill.value_len -= HDR;
		gen_send(p, &fill);
		if (sfshm_ring_clean(p, sfshm_ring_tail(p)))
			die("clean", 0, 0);
	}
}

int main(int argc, char **argv)
{
	static const uint8_t val[1024] = { 'v' };
	static const struct sfshm_hdr h[3] = { { "trace", 5, 4, "abcd" },
					       { "", 0, -1, NULL },
					       { "k", 1, 0, "" } };
	const struct sfshm_rec small = { .key = "key",
					 .key_len = 3,
					 .value = "value",
					 .value_len = 5,
					 .timestamp = 1 };
	const struct sfshm_rec nulls = { .key_len = -1, .value_len = -1 };
	const struct sfshm_rec empty = { .key = "", .value = "" };
	const struct sfshm_rec hdrs = { .key = "k",
					.key_len = 1,
					.value = "v",
					.value_len = 1,
					.hdrs = h,
					.hdr_count = 3 };
	const struct sfshm_rec big = { .value = val, .value_len = sizeof(val) };
	struct sfshm_ring *p;
	struct sfshm_claim c;
	uint32_t ctr[3];
	uint64_t t;

	if (argc > 1)
		seed_dir = argv[1];
	p = gen_ring();
	gen_send(p, &small);
	put_seed("record", 0, 0, (uint32_t)sfshm_ring_tail(p), NULL, 0);
	/* The same bytes (lap-0 words) in a window of lap 1: stale. */
	put_seed("stale", 0, 0, (uint32_t)sfshm_ring_tail(p), NULL, 1);

	p = gen_ring();
	gen_send(p, &hdrs);
	put_seed("headers", 2, 0, (uint32_t)sfshm_ring_tail(p), NULL, 0);

	p = gen_ring();
	gen_send(p, &nulls);
	gen_send(p, &empty);
	if (sfshm_ring_claim(p, &small, 0, &c) || sfshm_ring_abort(p, &c))
		die("claim/abort", 0, 0);
	gen_send(p, &hdrs);
	gen_send(p, &big);
	put_seed("sequence", 4, 0, (uint32_t)sfshm_ring_tail(p), NULL, 0);

	/* A wrap: padding at the end of lap 0, the record at lap 1. */
	p = gen_ring();
	gen_fill_to(p, SIZE - 64);
	gen_send(p, &hdrs);
	ctr[0] = SIZE - 64;
	ctr[1] = SIZE;
	ctr[2] = (uint32_t)(sfshm_ring_tail(p) - ctr[0]);
	put_seed("wrap", 0, SIZE - 64, ctr[2], ctr, 0);

	/* The same records with the counters given explicitly. */
	p = gen_ring();
	gen_send(p, &small);
	gen_send(p, &hdrs);
	ctr[0] = 0;
	ctr[1] = SIZE;
	ctr[2] = (uint32_t)sfshm_ring_tail(p);
	put_seed("counters", 0, 0, ctr[2], ctr, 0);

	/* Records, an abort and a batch written in lap 3. */
	p = gen_ring();
	t = 3 * SIZE + 4096;
	gen_fill_to(p, t);
	gen_send(p, &small);
	if (sfshm_ring_claim(p, &hdrs, 0, &c) || sfshm_ring_abort(p, &c))
		die("claim/abort", 0, 0);
	{
		const struct sfshm_rec batch[3] = { small, nulls, hdrs };

		if (sfshm_ring_send_batch(p, batch, 3, 0, NULL) != 3)
			die("batch", 0, 0);
	}
	put_seed("lap3", 4, (uint32_t)(t & (SIZE - 1)),
		 (uint32_t)(sfshm_ring_tail(p) - t), NULL, 3);
	return 0;
}
#endif
