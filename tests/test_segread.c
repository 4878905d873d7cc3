// SPDX-License-Identifier: MIT
/*
 * test_segread.c - the client-side segment reader on real log files.
 *
 * Logs are written by the daemon's own code (sfd_log_*) into a fresh
 * directory under ${TMPDIR:-/tmp} and read back with sf_seg_*.  Every
 * record is a function of its offset (key, value, headers, timestamp,
 * with null and empty keys and values mixed in), so whatever the reader
 * returns is checked against what must be at that offset.  Damage is
 * done to the files directly: torn and garbage tails, flipped bytes in
 * the middle, missing or lying indexes, cut segments; retention and
 * rolls happen while a reader is open.  No test sleeps: concurrency with
 * the writer is interleaved step by step in one thread.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "recordbatch.h"
#include "segread.h"
#include "sf_be.h"
#include "t_util.h"

#define T0 1700000000000LL
#define MAX_HDRS 3

struct fx {
	char root[256];
	char dir[320];
	struct sfd_log *log;
	struct sf_segreader *sr;
	int64_t end; /* next offset the log gives */
};

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return T0;
}

/* ---- fixture ------------------------------------------------------------ */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_tmpdir(f->root, sizeof(f->root), "sf-segread")) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/topic-0", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sf_seg_close(f->sr);
	sfd_log_close(f->log);
	t_rm_rf(f->root);
	free(f);
	return 0;
}

static struct sfd_log_config config(uint64_t segment_bytes, int64_t retention)
{
	struct sfd_log_config c;

	sfd_log_config_init(&c);
	c.segment_bytes = segment_bytes;
	c.segment_ms = 0;
	c.index_interval_bytes = 256;
	c.retention_bytes = retention;
	c.retention_ms = -1;
	c.write_buffer_bytes = 4096;
	c.clock_ms = fake_clock;
	return c;
}

static void log_open(struct fx *f, uint64_t segment_bytes, int64_t retention)
{
	struct sfd_log_config c = config(segment_bytes, retention);

	assert_int_equal(sfd_log_open(f->dir, &c, &f->log), 0);
	f->end = sfd_log_end_offset(f->log);
}

static void log_close(struct fx *f)
{
	assert_int_equal(sfd_log_close(f->log), 0);
	f->log = NULL;
}

static void reader_open(struct fx *f)
{
	assert_int_equal(sf_seg_open(f->dir, &f->sr), 0);
}

/* ---- records as a function of their offset ------------------------------- */

static int64_t rec_ts(int64_t o)
{
	return T0 + 10 * o;
}

/* Key: null, empty, or "key-<o>". */
static struct sf_rb_bytes rec_key(int64_t o, char *buf, size_t cap)
{
	if (o % 5 == 0)
		return (struct sf_rb_bytes){ NULL, SF_RB_NULL };
	if (o % 5 == 1)
		return (struct sf_rb_bytes){ buf, 0 };
	return (struct sf_rb_bytes){ buf, snprintf(buf, cap, "key-%lld",
						   (long long)o) };
}

/* Value: null, empty, or 8 bytes of the offset then a pattern. */
static struct sf_rb_bytes rec_value(int64_t o, uint8_t *buf)
{
	int32_t len = (int32_t)(o * 13 % 200) + 8;

	if (o % 7 == 0)
		return (struct sf_rb_bytes){ NULL, SF_RB_NULL };
	if (o % 7 == 1)
		return (struct sf_rb_bytes){ buf, 0 };
	t_fill_value(buf, (size_t)len, o);
	return (struct sf_rb_bytes){ buf, len };
}

struct hdrs {
	struct sf_rb_header h[MAX_HDRS];
	char k[MAX_HDRS][8];
	char v[MAX_HDRS][32];
	uint32_t n;
};

/* o % 4 headers "h<i>" = "v<o>.<i>", the second one with a null value. */
static void rec_hdrs(int64_t o, struct hdrs *hs)
{
	hs->n = (uint32_t)(o % 4);
	for (uint32_t i = 0; i < hs->n; i++) {
		int kl = snprintf(hs->k[i], sizeof(hs->k[i]), "h%u", i);
		int vl = snprintf(hs->v[i], sizeof(hs->v[i]), "v%lld.%u",
				  (long long)o, i);

		hs->h[i].key = (struct sf_rb_bytes){ hs->k[i], kl };
		hs->h[i].value =
			i == 1 ? (struct sf_rb_bytes){ NULL, SF_RB_NULL } :
				 (struct sf_rb_bytes){ hs->v[i], vl };
	}
}

static void add_rec(struct sf_rb_builder *b, int64_t o)
{
	char key[32];
	uint8_t val[256];
	struct hdrs hs;
	struct sf_rb_msg m = { .timestamp = rec_ts(o) };

	rec_hdrs(o, &hs);
	m.key = rec_key(o, key, sizeof(key));
	m.value = rec_value(o, val);
	m.headers = hs.h;
	m.header_count = hs.n;
	assert_int_equal(sf_rb_builder_add(b, &m), 0);
}

/* A batch of the records [from, from + n), its base offset set to @from. */
static uint8_t *mk_batch(int64_t from, int n, int16_t attrs, size_t *len)
{
	struct sf_rb_builder b;
	uint8_t *copy;

	assert_int_equal(sf_rb_builder_init_alloc(&b, 0), 0);
	assert_int_equal(sf_rb_builder_set_attributes(&b, attrs), 0);
	for (int i = 0; i < n; i++)
		add_rec(&b, from + i);
	copy = t_rb_take(&b, len);
	assert_non_null(copy);
	sf_rb_set_base_offset(copy, from);
	return copy;
}

static void append_raw(struct fx *f, const uint8_t *b, size_t len, int n)
{
	int64_t base = -1;

	assert_int_equal(sfd_log_append(f->log, b, len, &base), 0);
	assert_true(base == f->end);
	f->end += n;
}

/* Append @batches batches of @n records each. */
static void app(struct fx *f, int batches, int n)
{
	for (int i = 0; i < batches; i++) {
		size_t len;
		uint8_t *b = mk_batch(f->end, n, 0, &len);

		append_raw(f, b, len, n);
		free(b);
	}
}

/* ---- checking what the reader returns ------------------------------------ */

static void check_bytes(const void *p, int32_t len, struct sf_rb_bytes want)
{
	assert_int_equal(len, want.len);
	if (want.len < 0)
		assert_null(p);
	else if (want.len > 0)
		assert_memory_equal(p, want.ptr, (size_t)want.len);
}

static void check_hdrs(const struct sf_seg_rec *r, int64_t o)
{
	struct sf_rb_header_iter hi;
	struct sf_rb_header h;
	struct hdrs want;

	rec_hdrs(o, &want);
	assert_int_equal(r->header_count, want.n);
	sf_seg_headers_begin(r, &hi);
	for (uint32_t i = 0; i < want.n; i++) {
		assert_int_equal(sf_rb_headers_next(&hi, &h), 1);
		check_bytes(h.key.ptr, h.key.len, want.h[i].key);
		check_bytes(h.value.len < 0 ? NULL : h.value.ptr, h.value.len,
			    want.h[i].value);
	}
	assert_int_equal(sf_rb_headers_next(&hi, &h), 0);
}

static void check_rec(const struct sf_seg_rec *r, int64_t o)
{
	char key[32];
	uint8_t val[256];

	assert_true(r->offset == o);
	assert_true(r->timestamp == rec_ts(o));
	check_bytes(r->key, r->key_len, rec_key(o, key, sizeof(key)));
	check_bytes(r->value, r->value_len, rec_value(o, val));
	check_hdrs(r, o);
}

/* The reader returns the records [from, to). */
static void read_n(struct sf_segreader *sr, int64_t from, int64_t to)
{
	struct sf_seg_rec r;

	for (int64_t o = from; o < to; o++) {
		int ret = sf_seg_next(sr, &r);

		if (ret != 1)
			fail_msg("offset %lld: sf_seg_next() = %d",
				 (long long)o, ret);
		check_rec(&r, o);
		assert_true(sf_seg_position(sr) == o + 1);
	}
}

/* The reader returns exactly [from, to), then nothing more yet. */
static void expect_range(struct sf_segreader *sr, int64_t from, int64_t to)
{
	struct sf_seg_rec r;

	read_n(sr, from, to);
	assert_int_equal(sf_seg_next(sr, &r), 0);
	assert_int_equal(sf_seg_next(sr, &r), 0);
	assert_true(sf_seg_position(sr) == to);
}

/* The reader returns [from, to), then @err, twice (errors are sticky). */
static void expect_error(struct sf_segreader *sr, int64_t from, int64_t to,
			 int err)
{
	struct sf_seg_rec r;

	read_n(sr, from, to);
	assert_int_equal(sf_seg_next(sr, &r), err);
	assert_int_equal(sf_seg_next(sr, &r), err);
	assert_true(sf_seg_position(sr) == to);
}

/* ---- file helpers -------------------------------------------------------- */

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void patch(const char *path, off_t at, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, p, len, at), (ssize_t)len);
	close(fd);
}

/* File position of the @k-th batch of a .log (k = count: the end). */
static off_t batch_pos(const char *path, int k)
{
	int fd = open(path, O_RDONLY);
	uint8_t h[SF_RB_HEADER_SIZE];
	struct sf_rb_hdr hdr;
	off_t pos = 0;

	assert_true(fd >= 0);
	for (int i = 0; i < k; i++) {
		assert_int_equal(pread(fd, h, sizeof(h), pos), sizeof(h));
		assert_int_equal(sf_rb_parse_header(h, sizeof(h), &hdr), 0);
		pos += (off_t)sf_rb_size(&hdr);
	}
	close(fd);
	return pos;
}

/* Bases of the segments, oldest first, as the log sees them. */
static unsigned seg_bases(const struct fx *f, int64_t *bases, unsigned cap)
{
	unsigned n = sfd_log_segment_count(f->log);

	assert_true(n <= cap);
	for (unsigned i = 0; i < n; i++)
		bases[i] = sfd_log_segment_base(f->log, i);
	return n;
}

/*
 * Delete the @k oldest segments through retention: reopen the log with
 * retention.bytes equal to what the others hold, and apply it.
 */
static void retain_drop(struct fx *f, int k)
{
	int64_t bases[64], keep = 0;
	unsigned n = seg_bases(f, bases, 64);
	char path[400];

	assert_int_equal(sfd_log_flush(f->log), 0);
	for (unsigned i = (unsigned)k; i < n; i++) {
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".log");
		keep += file_size(path);
	}
	log_close(f);
	log_open(f, 1024, keep);
	assert_int_equal(sfd_log_retain(f->log), k);
	assert_true(sfd_log_start_offset(f->log) == bases[k]);
}

/* ---- tests --------------------------------------------------------------- */

static int open_denied(const char *dir)
{
	struct sf_segreader *sr;

	return sf_seg_open(dir, &sr) == -EACCES ? 0 : 1;
}

/* sf_seg_open(@dir) fails with -EACCES, as an unprivileged user if we are
 * root (root reads anything). */
static void expect_denied(const char *dir)
{
	pid_t pid;
	int st;

	if (geteuid() != 0) {
		assert_int_equal(open_denied(dir), 0);
		return;
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(setgid(65534) || setuid(65534) ? 2 : open_denied(dir));
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct sf_segreader *sr = (void *)&sr;

	sf_seg_close(NULL);
	assert_int_equal(sf_seg_open(f->dir, &sr), -ENOENT);
	assert_true(sr == (void *)&sr); /* untouched on failure */
	assert_int_equal(mkdir(f->dir, 0), 0);
	assert_int_equal(chmod(f->root, 0755), 0);
	expect_denied(f->dir);
	assert_int_equal(chmod(f->dir, 0755), 0);
	/* An empty directory: log start 0, nothing yet, then the log. */
	reader_open(f);
	assert_true(sf_seg_start_offset(f->sr) == 0);
	assert_int_equal(sf_seg_seek(f->sr, -1), -EINVAL);
	assert_int_equal(sf_seg_seek(f->sr, 5), 0);
	assert_int_equal(sf_seg_seek(f->sr, 0), 0);
	expect_range(f->sr, 0, 0);
	log_open(f, 1 << 20, -1);
	app(f, 2, 3);
	assert_int_equal(sfd_log_write(f->log), 0);
	expect_range(f->sr, 0, 6);
}

/* Everything round-trips, across batches and segments. */
static void test_roundtrip(void **state)
{
	struct fx *f = *state;

	log_open(f, 1 << 20, -1);
	app(f, 5, 1);
	app(f, 7, 9);
	assert_int_equal(sfd_log_roll(f->log), 0);
	app(f, 3, 20);
	assert_int_equal(sfd_log_roll(f->log), 0);
	app(f, 1, 40);
	assert_int_equal(sfd_log_flush(f->log), 0);
	reader_open(f);
	assert_true(sf_seg_start_offset(f->sr) == 0);
	assert_true(sf_seg_position(f->sr) == 0);
	expect_range(f->sr, 0, f->end);
}

/* A seek to every offset, with indexes, across small segments. */
static void test_seek_every_offset(void **state)
{
	struct fx *f = *state;
	struct sf_seg_rec r;

	log_open(f, 4096, -1);
	for (int i = 0; i < 40; i++)
		app(f, 1, 1 + i % 9);
	assert_int_equal(sfd_log_flush(f->log), 0);
	assert_true(sfd_log_segment_count(f->log) >= 3);
	reader_open(f);
	for (int64_t o = f->end - 1; o >= 0; o--) {
		assert_int_equal(sf_seg_seek(f->sr, o), 0);
		assert_true(sf_seg_position(f->sr) == o);
		assert_int_equal(sf_seg_next(f->sr, &r), 1);
		check_rec(&r, o);
	}
	/* Mid-batch of a later segment, then on to the end. */
	assert_int_equal(sf_seg_seek(f->sr, f->end - 3), 0);
	expect_range(f->sr, f->end - 3, f->end);
	/* Past the end: waits for it, skipping what comes before. */
	assert_int_equal(sf_seg_seek(f->sr, f->end + 4), 0);
	expect_range(f->sr, f->end + 4, f->end + 4);
	app(f, 1, 10);
	assert_int_equal(sfd_log_write(f->log), 0);
	expect_range(f->sr, f->end - 6, f->end);
}

/* The index is used: a batch header damaged before the index point is
 * never read, while a scan from the segment start runs into it. */
static void test_index_used(void **state)
{
	struct fx *f = *state;
	char log[400], idx[400];
	struct sf_seg_rec r;

	log_open(f, 1 << 20, -1);
	app(f, 30, 5);
	assert_int_equal(sfd_log_roll(f->log), 0); /* index complete */
	t_seg_path(log, sizeof(log), f->dir, 0, ".log");
	t_seg_path(idx, sizeof(idx), f->dir, 0, ".index");
	assert_true(file_size(idx) >= 8);
	t_file_flip(log, batch_pos(log, 1) + SF_RB_OFF_MAGIC);
	reader_open(f);
	assert_int_equal(sf_seg_seek(f->sr, 140), 0);
	expect_range(f->sr, 140, 150);
	assert_int_equal(sf_seg_seek(f->sr, 0), 0);
	expect_error(f->sr, 0, 5, -EBADMSG);
	unlink(idx);
	assert_int_equal(sf_seg_seek(f->sr, 140), 0);
	assert_int_equal(sf_seg_next(f->sr, &r), -EBADMSG);
}

/* Seeking below the log start after retention: -ERANGE. */
static void test_seek_below_start(void **state)
{
	struct fx *f = *state;
	int64_t bases[64];

	log_open(f, 1024, -1);
	app(f, 20, 3);
	reader_open(f);
	assert_true(seg_bases(f, bases, 64) >= 5);
	retain_drop(f, 3);
	assert_true(sf_seg_start_offset(f->sr) == bases[3]);
	assert_int_equal(sf_seg_seek(f->sr, 0), -ERANGE);
	assert_int_equal(sf_seg_seek(f->sr, bases[3] - 1), -ERANGE);
	assert_int_equal(sf_seg_seek(f->sr, bases[3]), 0);
	expect_range(f->sr, bases[3], f->end);
	/* A new reader starts at the new log start. */
	sf_seg_close(f->sr);
	reader_open(f);
	assert_true(sf_seg_position(f->sr) == bases[3]);
	expect_range(f->sr, bases[3], f->end);
}

/*
 * Retention deletes the segment being read: what the open descriptor
 * holds is still served, and the next segment is followed if it is still
 * there; if it is gone too, -ERANGE.
 */
static void test_deleted_while_reading(void **state)
{
	struct fx *f = *state;
	struct sf_seg_rec r;
	int64_t bases[64];

	log_open(f, 1024, -1);
	app(f, 24, 3);
	assert_true(seg_bases(f, bases, 64) >= 6);
	reader_open(f);
	assert_int_equal(sf_seg_next(f->sr, &r), 1);
	check_rec(&r, 0);
	retain_drop(f, 1); /* the reader's segment only */
	expect_range(f->sr, 1, f->end);
	/* Now in the middle of bases[2]'s segment; drop it and the next. */
	assert_int_equal(sf_seg_seek(f->sr, bases[2] + 1), 0);
	assert_int_equal(sf_seg_next(f->sr, &r), 1);
	check_rec(&r, bases[2] + 1);
	retain_drop(f, 3); /* bases[1], [2] (being read) and [3] */
	expect_error(f->sr, bases[2] + 2, bases[3], -ERANGE);
	/* Retention gave the offsets away: seek to the start again. */
	assert_int_equal(sf_seg_seek(f->sr, sf_seg_start_offset(f->sr)), 0);
	expect_range(f->sr, bases[4], f->end);
}

/* The live tail: exactly what the daemon wrote is readable, then 0. */
static void test_live_tail(void **state)
{
	struct fx *f = *state;
	int64_t seen = 0;

	log_open(f, 1 << 20, -1);
	reader_open(f);
	expect_range(f->sr, 0, 0);
	for (int i = 0; i < 40; i++) {
		app(f, 1,
		    1 + i % 6); /* queued; written when the buffer fills */
		expect_range(f->sr, seen, sfd_log_written_offset(f->log));
		seen = sfd_log_written_offset(f->log);
		if (i % 3 == 0) {
			assert_int_equal(sfd_log_write(f->log), 0);
			expect_range(f->sr, seen, f->end);
			seen = f->end;
		}
	}
	/* A batch larger than the write buffer goes to the file directly. */
	app(f, 1, 60);
	assert_true(sfd_log_written_offset(f->log) == f->end);
	expect_range(f->sr, seen, f->end);
}

/* Half a batch with the right base offset, half with base 0, garbage,
 * and a whole batch with a bad CRC: each at the end of the last segment
 * is "nothing yet"; after the daemon's recovery cuts it, reading goes on. */
static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	char path[400];
	uint8_t junk[1000];
	uint64_t rnd = 88172645463325252ull;
	size_t len;
	uint8_t *b;
	off_t end;

	log_open(f, 1 << 20, -1);
	app(f, 6, 5);
	log_close(f);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	end = file_size(path);
	reader_open(f);
	expect_range(f->sr, 0, 30);

	b = mk_batch(30, 4, 0, &len);
	t_file_append(path, b, len / 2);
	expect_range(f->sr, 30, 30);
	assert_int_equal(truncate(path, end), 0);
	sf_rb_set_base_offset(b, 0);
	t_file_append(path, b, len - 3);
	expect_range(f->sr, 30, 30);
	assert_int_equal(truncate(path, end), 0);
	for (size_t i = 0; i < sizeof(junk); i++) {
		rnd ^= rnd << 13, rnd ^= rnd >> 7, rnd ^= rnd << 17;
		junk[i] = (uint8_t)rnd;
	}
	t_file_append(path, junk, sizeof(junk));
	expect_range(f->sr, 30, 30);
	assert_int_equal(truncate(path, end), 0);
	sf_rb_set_base_offset(b, 30);
	b[len - 1] ^= 1;
	t_file_append(path, b, len);
	expect_range(f->sr, 30, 30);
	free(b);

	/* The daemon restarts: recovery cuts the tail, appends go on. */
	log_open(f, 1 << 20, -1);
	assert_true(sfd_log_recovery_info(f->log)->bytes_truncated == len);
	assert_true(f->end == 30);
	app(f, 2, 4);
	assert_int_equal(sfd_log_write(f->log), 0);
	expect_range(f->sr, 30, 38);
}

/* The log lost records the reader returned (cut below its position). */
static void test_cut_below_position(void **state)
{
	struct fx *f = *state;
	char path[400];

	log_open(f, 1 << 20, -1);
	app(f, 4, 5);
	log_close(f);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	reader_open(f);
	expect_range(f->sr, 0, 20);
	assert_int_equal(truncate(path, batch_pos(path, 3)), 0);
	expect_error(f->sr, 20, 20, -EBADMSG);
}

/* Damage followed by valid data is corruption: -EBADMSG. */
static void test_garbage_middle(void **state)
{
	struct fx *f = *state;
	uint8_t bad[SF_RB_HEADER_SIZE];
	char path[400];
	off_t at;

	memset(bad, 0xa5, sizeof(bad));
	log_open(f, 1 << 20, -1);
	app(f, 10, 10);
	log_close(f);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	at = batch_pos(path, 3);
	reader_open(f);

	/* A flipped byte in the records: the CRC does not match. */
	t_file_flip(path, at + SF_RB_HEADER_SIZE + 5);
	expect_error(f->sr, 0, 30, -EBADMSG);
	assert_int_equal(sf_seg_seek(f->sr, 40), 0);
	expect_range(f->sr, 40, 100);
	t_file_flip(path, at + SF_RB_HEADER_SIZE + 5);

	/* A header that is not one: garbage, then more batches. */
	patch(path, at, bad, sizeof(bad));
	assert_int_equal(sf_seg_seek(f->sr, 25), 0);
	expect_error(f->sr, 25, 30, -EBADMSG);
	sf_seg_close(f->sr);
	f->sr = NULL;
	assert_int_equal(truncate(path, at), 0);
	reader_open(f); /* the same garbage as the last bytes: a torn tail */
	patch(path, at, bad, sizeof(bad));
	expect_range(f->sr, 0, 30);
}

/* A base offset rewritten (outside the CRC): the offsets do not follow. */
static void test_bad_base_offset(void **state)
{
	struct fx *f = *state;
	char path[400];

	log_open(f, 1 << 20, -1);
	app(f, 5, 4);
	log_close(f);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	t_file_flip(path, batch_pos(path, 2) + 7);
	reader_open(f);
	expect_error(f->sr, 0, 8, -EBADMSG);
}

/* Damage at the end of a segment that is not the last one: -EBADMSG. */
static void test_damaged_old_segment(void **state)
{
	struct fx *f = *state;
	char path[400];
	off_t size;

	log_open(f, 1 << 20, -1);
	app(f, 4, 5);
	assert_int_equal(sfd_log_roll(f->log), 0);
	app(f, 2, 5);
	log_close(f);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	size = file_size(path);
	reader_open(f);

	t_file_flip(path, size - 1); /* the last batch's CRC fails */
	expect_error(f->sr, 0, 15, -EBADMSG);
	t_file_flip(path, size - 1);
	assert_int_equal(truncate(path, size - 5), 0); /* torn */
	assert_int_equal(sf_seg_seek(f->sr, 0), 0);
	expect_error(f->sr, 0, 15, -EBADMSG);
	assert_int_equal(truncate(path, batch_pos(path, 3)), 0); /* cut */
	assert_int_equal(sf_seg_seek(f->sr, 0), 0);
	expect_error(f->sr, 0, 15, -EBADMSG);
	/* Past the damage, the next segment reads fine. */
	assert_int_equal(sf_seg_seek(f->sr, 20), 0);
	expect_range(f->sr, 20, 30);
}

/* Seek every offset of @f's log and read one record. */
static void seek_each(struct fx *f)
{
	struct sf_seg_rec r;

	for (int64_t o = 0; o < f->end; o++) {
		assert_int_equal(sf_seg_seek(f->sr, o), 0);
		assert_int_equal(sf_seg_next(f->sr, &r), 1);
		check_rec(&r, o);
	}
}

/* Without an .index, or with one that lies, seeking still works. */
static void test_missing_index(void **state)
{
	struct fx *f = *state;
	int64_t bases[64];
	uint8_t lies[8 * 64];
	char path[400];
	unsigned n;

	log_open(f, 4096, -1);
	app(f, 30, 4);
	n = seg_bases(f, bases, 64);
	assert_true(n >= 3);
	log_close(f);
	reader_open(f);
	for (unsigned i = 0; i < n; i++) {
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".index");
		assert_int_equal(unlink(path), 0);
	}
	seek_each(f);
	/* Entries at wrong positions, past the end, out of order. */
	for (unsigned i = 0; i < 64; i++) {
		sf_put_be32(lies + 8 * i, i * 3);
		sf_put_be32(lies + 8 * i + 4, (i * 977) % 5000);
	}
	for (unsigned i = 0; i < n; i++) {
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".index");
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, lies, sizeof(lies) - i * 3),
				 (ssize_t)(sizeof(lies) - i * 3));
		close(fd);
	}
	seek_each(f);
	/* One entry naming a real batch, with an offset below its own. */
	for (unsigned i = 0; i < n; i++) {
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".log");
		sf_put_be32(lies, 0);
		sf_put_be32(lies + 4, (uint32_t)batch_pos(path, 2));
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".index");
		int fd = open(path, O_WRONLY | O_TRUNC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, lies, 8), 8);
		close(fd);
	}
	seek_each(f);
}

/* Rolls while a reader is in a segment, at its end, and several at once. */
static void test_roll_while_reading(void **state)
{
	struct fx *f = *state;

	log_open(f, 1 << 20, -1);
	app(f, 6, 5);
	assert_int_equal(sfd_log_write(f->log), 0);
	reader_open(f);
	read_n(f->sr, 0, 12); /* in the middle of segment 0 */
	assert_int_equal(sfd_log_roll(f->log), 0);
	app(f, 2, 5);
	assert_int_equal(sfd_log_write(f->log), 0);
	expect_range(f->sr, 12, 40);
	/* At the end: a roll without data, then data. */
	assert_int_equal(sfd_log_roll(f->log), 0);
	expect_range(f->sr, 40, 40);
	app(f, 1, 3);
	assert_int_equal(sfd_log_roll(f->log), 0);
	expect_range(f->sr, 40, 43);
	/* Three segments appear between two reads. */
	for (int i = 0; i < 3; i++) {
		app(f, 2, 2);
		assert_int_equal(sfd_log_roll(f->log), 0);
	}
	app(f, 1, 1);
	assert_int_equal(sfd_log_write(f->log), 0);
	expect_range(f->sr, 43, f->end);
	assert_true(sfd_log_segment_count(f->log) == 7);
}

/*
 * A batch of @n records with @attrs and a lastOffsetDelta of @span - 1
 * (Kafka's compaction leaves such gaps) set after the fact, CRC redone.
 */
static void append_patched(struct fx *f, int n, int16_t attrs, int span)
{
	size_t len;
	uint8_t *b = mk_batch(f->end, n, 0, &len);

	sf_put_be16(b + SF_RB_OFF_ATTRIBUTES, (uint16_t)attrs);
	sf_put_be32(b + SF_RB_OFF_LAST_OFFSET_DELTA, (uint32_t)(span - 1));
	sf_put_be32(b + SF_RB_OFF_CRC, sf_rb_crc(b, len));
	append_raw(f, b, len, span);
	free(b);
}

/* Compressed batches are refused; control batches are passed over; a
 * batch whose offsets end past its last record moves the position on. */
static void test_batch_kinds(void **state)
{
	struct fx *f = *state;
	struct sf_seg_rec r;

	log_open(f, 1 << 20, -1);
	app(f, 1, 5);
	append_patched(f, 5, SF_RB_COMPRESSION_GZIP, 5);
	app(f, 1, 5);
	append_patched(f, 1, SF_RB_ATTR_CONTROL | SF_RB_ATTR_TRANSACTIONAL, 1);
	append_patched(f, 3, 0, 6); /* 16..18, then 19..21 compacted away */
	app(f, 1, 5);
	append_patched(f, 1, SF_RB_ATTR_CONTROL, 1);
	assert_int_equal(sfd_log_write(f->log), 0);
	assert_true(f->end == 28);
	reader_open(f);
	expect_error(f->sr, 0, 5, -EPROTONOSUPPORT);
	assert_int_equal(sf_seg_seek(f->sr, 7), 0);
	expect_error(f->sr, 7, 7, -EPROTONOSUPPORT);
	assert_int_equal(sf_seg_seek(f->sr, 10), 0);
	read_n(f->sr, 10, 15);
	read_n(f->sr, 16, 19); /* 15 was the control batch */
	assert_int_equal(sf_seg_next(f->sr, &r), 1);
	check_rec(&r, 22);
	read_n(f->sr, 23, 27);
	assert_int_equal(sf_seg_next(f->sr, &r), 0);
	assert_true(sf_seg_position(f->sr) == 28); /* past the marker */
}

/* The topic is deleted under the reader: -ENOENT. */
static void test_dir_deleted(void **state)
{
	struct fx *f = *state;
	struct sf_seg_rec r;

	log_open(f, 1 << 20, -1);
	app(f, 2, 5);
	log_close(f);
	reader_open(f);
	expect_range(f->sr, 0, 10);
	t_rm_rf(f->dir);
	assert_int_equal(sf_seg_next(f->sr, &r), -ENOENT);
	assert_true(sf_seg_start_offset(f->sr) == -ENOENT);
	assert_int_equal(sf_seg_seek(f->sr, 0), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_open_errors),	    T(test_roundtrip),
		T(test_seek_every_offset),  T(test_index_used),
		T(test_seek_below_start),   T(test_deleted_while_reading),
		T(test_live_tail),	    T(test_torn_tail),
		T(test_cut_below_position), T(test_garbage_middle),
		T(test_bad_base_offset),    T(test_damaged_old_segment),
		T(test_missing_index),	    T(test_roll_while_reading),
		T(test_batch_kinds),	    T(test_dir_deleted),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
