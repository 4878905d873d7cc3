// SPDX-License-Identifier: MIT
/*
 * test_log.c - the partition commit log on real files.
 *
 * Every test works in a fresh directory under ${TMPDIR:-/tmp} and checks
 * what it reads against a model of what it appended: each record's value
 * starts with its offset, and the model keeps each offset's timestamp.
 * Damage is done to the files directly (cuts, garbage, flipped bytes,
 * deleted indexes) and a reopen must bring back exactly the complete
 * batches.  The full-disk test mounts a 1 MiB tmpfs (root only; skipped
 * with a message where mount is not allowed).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "recordbatch.h"
#include "sf_be.h"
#include "t_util.h"
#include "uio.h"

#define T0 1700000000000LL
#define READ_CAP (1u << 20)

struct fx {
	char root[256];
	char dir[320];
	char mnt[320];
	bool mounted;
};

/* What was appended: the timestamp of every offset. */
struct model {
	int64_t *ts;
	int64_t n;
	int64_t cap;
};

static int64_t g_now = T0;
static char g_skipped[160]; /* why a test could not run */

static int64_t fake_clock(void *arg)
{
	(void)arg;
	return g_now;
}

/* ---- fixture and file helpers ----------------------------------------- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_tmpdir(f->root, sizeof(f->root), "sfd-log")) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "%s/topic-0", f->root);
	snprintf(f->mnt, sizeof(f->mnt), "%s/mnt", f->root);
	g_now = T0;
	*state = f;
	return 0;
}

static void file_limit(rlim_t bytes)
{
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = bytes;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct rlimit rl;

	if (!getrlimit(RLIMIT_FSIZE, &rl) && rl.rlim_cur != rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	if (f->mounted)
		umount2(f->mnt, MNT_DETACH);
	t_rm_rf(f->root);
	free(f);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

static uint8_t *slurp(const char *path, size_t *len)
{
	off_t sz = file_size(path);
	uint8_t *p = malloc(sz > 0 ? (size_t)sz : 1);
	int fd = open(path, O_RDONLY);

	assert_true(sz >= 0 && fd >= 0 && p);
	assert_int_equal(pread(fd, p, (size_t)sz, 0), sz);
	close(fd);
	*len = (size_t)sz;
	return p;
}

static void spill(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	close(fd);
}

/* ---- batches and the model -------------------------------------------- */

static uint8_t *mk_batch(int64_t seq, int n, size_t vlen, const int64_t *ts,
			 size_t *len)
{
	struct sf_rb_builder b;
	uint8_t *v = malloc(vlen);
	uint8_t *copy;
	char key[32];

	assert_non_null(v);
	assert_int_equal(sf_rb_builder_init_alloc(&b, vlen * n + 256), 0);
	for (int i = 0; i < n; i++) {
		struct sf_rb_msg m = { .timestamp = ts[i] };

		snprintf(key, sizeof(key), "k%lld", (long long)(seq + i));
		t_fill_value(v, vlen, seq + i);
		m.key = (struct sf_rb_bytes){ key, (int32_t)strlen(key) };
		m.value = (struct sf_rb_bytes){ v, (int32_t)vlen };
		assert_int_equal(sf_rb_builder_add(&b, &m), 0);
	}
	copy = t_rb_take(&b, len);
	assert_non_null(copy);
	free(v);
	return copy;
}

static void model_push(struct model *m, int64_t ts)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 1024;
		m->ts = realloc(m->ts, (size_t)m->cap * sizeof(*m->ts));
		assert_non_null(m->ts);
	}
	m->ts[m->n++] = ts;
}

static void model_free(struct model *m)
{
	free(m->ts);
	memset(m, 0, sizeof(*m));
}

/* Append @n records of @vlen-byte values with timestamps @ts[]. */
static int app_ts(struct sfd_log *log, struct model *m, int n, size_t vlen,
		  const int64_t *ts)
{
	size_t len;
	uint8_t *b = mk_batch(m->n, n, vlen, ts, &len);
	int64_t base = -1;
	int ret = sfd_log_append(log, b, len, &base);

	if (!ret) {
		assert_true(base == m->n);
		for (int i = 0; i < n; i++)
			model_push(m, ts[i]);
		assert_true(sfd_log_end_offset(log) == m->n);
	}
	free(b);
	return ret;
}

/* Append with timestamps T0 + 10 * offset. */
static int app(struct sfd_log *log, struct model *m, int n, size_t vlen)
{
	int64_t ts[64];

	assert_true(n <= 64);
	for (int i = 0; i < n; i++)
		ts[i] = T0 + 10 * (m->n + i);
	return app_ts(log, m, n, vlen, ts);
}

static void check_record(const struct sf_rb_record *r, const struct model *m)
{
	const uint8_t *v = r->value.ptr;

	assert_true(r->offset >= 0 && r->offset < m->n);
	assert_true(r->value.len >= 8);
	assert_true((int64_t)sf_get_be64(v) == r->offset);
	for (int32_t i = 8; i < r->value.len; i++)
		assert_int_equal(v[i], (uint8_t)(r->offset * 7 + i));
	assert_true(r->timestamp == m->ts[r->offset]);
}

/* Read [from, m->n) with sfd_log_read() and check every record. */
static void verify_range(struct sfd_log *log, const struct model *m,
			 int64_t from)
{
	uint8_t *buf = malloc(READ_CAP);
	int64_t want = from;

	assert_non_null(buf);
	while (want < m->n) {
		ssize_t got = sfd_log_read(log, want, buf, READ_CAP);
		ssize_t at = 0;

		assert_true(got > 0);
		while (at < got) {
			struct sf_rb_iter it;
			struct sf_rb_record r;

			assert_int_equal(sf_rb_iter_init(&it, buf + at,
							 (size_t)(got - at)),
					 0);
			while (sf_rb_iter_next(&it, &r) == 1) {
				check_record(&r, m);
				if (r.offset < want)
					continue;
				assert_true(r.offset == want);
				want++;
			}
			at += (ssize_t)sf_rb_size(&it.hdr);
		}
	}
	free(buf);
}

/* Offsets found through the index land in the right batch. */
static void verify_find(struct sfd_log *log, const struct model *m,
			int64_t from, int step)
{
	struct sfd_log_loc loc;

	for (int64_t o = from; o < m->n; o += step) {
		assert_int_equal(sfd_log_find(log, o, &loc), 0);
		assert_true(loc.base_offset <= o && o <= loc.last_offset);
		assert_true(loc.position + loc.size <= loc.segment_end);
	}
	assert_int_equal(sfd_log_find(log, m->n, &loc), -ERANGE);
	assert_int_equal(sfd_log_find(log, sfd_log_start_offset(log) - 1, &loc),
			 -ERANGE);
}

/* Read everything back, and look up a sample of offsets one by one. */
static void verify_all(struct sfd_log *log, const struct model *m)
{
	assert_true(sfd_log_end_offset(log) == m->n);
	verify_range(log, m, sfd_log_start_offset(log));
	verify_find(log, m, sfd_log_start_offset(log), 7);
	if (m->n > sfd_log_start_offset(log))
		verify_find(log, m, m->n - 1, 1);
}

static struct sfd_log *open_log(const char *dir,
				const struct sfd_log_config *cfg)
{
	struct sfd_log *log = NULL;
	int ret = sfd_log_open(dir, cfg, &log);

	if (ret)
		fail_msg("sfd_log_open(%s): %s", dir, strerror(-ret));
	return log;
}

static void small_config(struct sfd_log_config *c)
{
	sfd_log_config_init(c);
	c->segment_bytes = 8192;
	c->index_interval_bytes = 512;
	c->write_buffer_bytes = 4096;
	c->clock_ms = fake_clock;
}

/* A mixed stream: 1-8 records of 20-400 bytes, now and then a big one. */
static void fill_log(struct sfd_log *log, struct model *m, int batches,
		     uint64_t seed)
{
	for (int i = 0; i < batches; i++) {
		int n = 1 + (int)(t_rand(&seed) % 8);
		size_t v = 20 + t_rand(&seed) % 380;

		if (i % 97 == 50)
			v = 6000; /* larger than the write buffer */
		assert_int_equal(app(log, m, n, v), 0);
	}
}

/* ---- appending and reading -------------------------------------------- */

static void test_append_read_rolls(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct sfd_log_stats st;
	struct model m = { 0 };
	struct sfd_log *log;
	char path[400];

	small_config(&c);
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->segments, 0);
	fill_log(log, &m, 400, 1);
	/* Reads see queued batches too. */
	assert_true(sfd_log_written_offset(log) < sfd_log_end_offset(log));
	verify_all(log, &m);
	/* The index lookup of every single offset. */
	verify_find(log, &m, 0, 1);
	assert_int_equal(sfd_log_flush(log), 0);
	assert_true(sfd_log_durable_offset(log) == m.n);
	assert_true(sfd_log_segment_count(log) > 10);
	for (unsigned i = 0; i < sfd_log_segment_count(log); i++) {
		int64_t base = sfd_log_segment_base(log, i);

		t_seg_path(path, sizeof(path), f->dir, base, ".log");
		assert_true(file_size(path) >= 0);
		assert_true(i == 0 || base > sfd_log_segment_base(log, i - 1));
		/* Only a lone batch may take a segment past segment_bytes. */
		if (file_size(path) > 8192) {
			struct sfd_log_loc loc;

			assert_int_equal(sfd_log_find(log, base, &loc), 0);
			assert_int_equal(loc.size, file_size(path));
		}
	}
	sfd_log_get_stats(log, &st);
	assert_true(st.rolls == sfd_log_segment_count(log) - 1);
	assert_true(st.appended_batches == 400);
	verify_all(log, &m);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	verify_find(log, &m, 0, 1);
	assert_int_equal(sfd_log_close(log), 0);
	model_free(&m);
}

static void test_loc_is_sendable(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc loc;
	struct sfd_log *log;
	uint8_t *buf = malloc(65536);

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 100, 2);
	for (int64_t o = 0; o < m.n; o += 13) {
		uint64_t at;

		assert_int_equal(sfd_log_find(log, o, &loc), 0);
		/* [position, segment_end) of the fd is whole valid batches. */
		assert_true(loc.segment_end - loc.position <= 65536);
		assert_int_equal(pread(loc.fd, buf,
				       loc.segment_end - loc.position,
				       (off_t)loc.position),
				 (ssize_t)(loc.segment_end - loc.position));
		for (at = 0; at < loc.segment_end - loc.position;) {
			struct sf_rb_hdr h;

			assert_int_equal(sf_rb_validate(buf + at,
							loc.segment_end -
								loc.position -
								at,
							&h),
					 0);
			at += sf_rb_size(&h);
		}
	}
	/* A buffer too small for the first batch. */
	assert_int_equal(sfd_log_find(log, 0, &loc), 0);
	assert_int_equal(sfd_log_read(log, 0, buf, loc.size - 1), -EMSGSIZE);
	assert_int_equal(sfd_log_read(log, 0, buf, loc.size), loc.size);
	sfd_log_close(log);
	model_free(&m);
	free(buf);
}

/* The index files say what the format says, checked from the outside. */
static void check_index_files(const char *dir, int64_t base, uint32_t ival)
{
	char path[400];
	size_t ilen, tlen, llen;
	uint8_t *idx, *tim, *data;
	uint32_t prev_rel = 0, prev_pos = 0;
	int64_t prev_ts = -1;

	t_seg_path(path, sizeof(path), dir, base, ".index");
	idx = slurp(path, &ilen);
	t_seg_path(path, sizeof(path), dir, base, ".timeindex");
	tim = slurp(path, &tlen);
	t_seg_path(path, sizeof(path), dir, base, ".log");
	data = slurp(path, &llen);
	assert_int_equal(ilen % 8, 0);
	assert_int_equal(tlen % 12, 0);
	for (size_t i = 0; i < ilen; i += 8) {
		uint32_t rel = sf_get_be32(idx + i);
		uint32_t pos = sf_get_be32(idx + i + 4);
		struct sf_rb_hdr h;

		assert_true(pos >= prev_pos + ival && pos < llen);
		assert_true(i == 0 || rel > prev_rel);
		assert_int_equal(sf_rb_check(data + pos, llen - pos, &h), 0);
		assert_true(h.base_offset + h.last_offset_delta == base + rel);
		prev_rel = rel;
		prev_pos = pos;
	}
	for (size_t i = 0; i < tlen; i += 12) {
		int64_t ts = (int64_t)sf_get_be64(tim + i);

		assert_true(ts > prev_ts);
		prev_ts = ts;
	}
	free(idx);
	free(tim);
	free(data);
}

static void test_index_files(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	unsigned n;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 300, 3);
	assert_int_equal(sfd_log_flush(log), 0);
	n = sfd_log_segment_count(log);
	for (unsigned i = 0; i < n; i++)
		check_index_files(f->dir, sfd_log_segment_base(log, i), 512);
	sfd_log_close(log);
	model_free(&m);
}

/* First offset >= the log start whose timestamp is >= @ts, or -1. */
static int64_t brute_time(const struct model *m, int64_t start, int64_t ts)
{
	for (int64_t o = start; o < m->n; o++)
		if (m->ts[o] >= ts)
			return o;
	return -1;
}

static void check_times(struct sfd_log *log, const struct model *m,
			uint64_t seed, int probes)
{
	int64_t start = sfd_log_start_offset(log), lo = INT64_MAX, hi = 0;

	for (int64_t o = start; o < m->n; o++) {
		lo = m->ts[o] < lo ? m->ts[o] : lo;
		hi = m->ts[o] > hi ? m->ts[o] : hi;
	}
	for (int i = 0; i < probes; i++) {
		int64_t ts =
			lo - 5 +
			(int64_t)(t_rand(&seed) % (uint64_t)(hi - lo + 10));
		int64_t want = brute_time(m, start, ts), got = -1;
		int ret = sfd_log_find_time(log, ts, &got);

		if (want < 0) {
			assert_int_equal(ret, -ENOENT);
		} else {
			assert_int_equal(ret, 0);
			assert_true(got == want);
		}
	}
	assert_int_equal(sfd_log_find_time(log, hi + 1, &lo), -ENOENT);
}

/* Timestamps that mostly grow but jump back and forth. */
static void fill_jittery(struct sfd_log *log, struct model *m, int batches,
			 uint64_t seed)
{
	int64_t ts[8];

	for (int i = 0; i < batches; i++) {
		int n = 1 + (int)(t_rand(&seed) % 8);

		for (int k = 0; k < n; k++)
			ts[k] = T0 + 10 * (m->n + k) -
				(int64_t)(t_rand(&seed) % 3000);
		assert_int_equal(
			app_ts(log, m, n, 20 + t_rand(&seed) % 300, ts), 0);
	}
}

/*
 * A batch whose header claims a larger maxTimestamp than any of its
 * records has (the CRC is right: a producer may send that).
 */
static void app_inflated(struct sfd_log *log, struct model *m, int64_t max)
{
	int64_t ts[3] = { T0 + 10 * m->n, T0 + 10 * m->n, T0 + 10 * m->n };
	int64_t base;
	size_t len;
	uint8_t *b = mk_batch(m->n, 3, 40, ts, &len);

	sf_put_be64(b + SF_RB_OFF_MAX_TIMESTAMP, (uint64_t)max);
	sf_put_be32(b + SF_RB_OFF_CRC, sf_rb_crc(b, len));
	assert_int_equal(sfd_log_append(log, b, len, &base), 0);
	for (int i = 0; i < 3; i++)
		model_push(m, ts[i]);
	free(b);
}

static void test_find_time(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_jittery(log, &m, 200, 4);
	app_inflated(log, &m, T0 + 10 * m.n + 5000);
	fill_jittery(log, &m, 200, 22);
	check_times(log, &m, 5, 3000);
	/* Exactly each record's own timestamp. */
	for (int64_t o = 0; o < m.n; o += 7) {
		int64_t got;

		assert_int_equal(sfd_log_find_time(log, m.ts[o], &got), 0);
		assert_true(got == brute_time(&m, 0, m.ts[o]));
	}
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	check_times(log, &m, 6, 3000);
	sfd_log_close(log);
	model_free(&m);
}

static void test_reopen(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	const struct sfd_log_recovery *r;
	struct sfd_log *log;
	unsigned segs;
	char msg[512];

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 300, 5);
	segs = sfd_log_segment_count(log);
	assert_int_equal(sfd_log_close(log), 0);

	log = open_log(f->dir, &c);
	r = sfd_log_recovery_info(log);
	assert_int_equal(r->segments, segs);
	assert_int_equal(r->bytes_truncated, 0);
	assert_true(r->truncated_at == -1);
	assert_int_equal(r->index_entries_dropped, 0);
	assert_int_equal(r->index_entries_written, 0);
	assert_int_equal(r->indexes_rebuilt, 0);
	/* A clean log is checked from its last index point, not from 0. */
	t_seg_path(msg, sizeof(msg), f->dir,
		   sfd_log_segment_base(log, segs - 1), ".timeindex");
	if (file_size(msg) > 0)
		assert_true(r->scan_start > 0);
	assert_true(sfd_log_recovery_describe(r, msg, sizeof(msg)) > 0);
	assert_true(sfd_log_durable_offset(log) == m.n);
	verify_all(log, &m);
	/* Appending continues the offsets. */
	fill_log(log, &m, 50, 6);
	verify_all(log, &m);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
}

/* ---- damage and recovery ---------------------------------------------- */

struct saved {
	uint8_t *file[3];
	size_t len[3];
};

static const char *const sfx[3] = { ".log", ".index", ".timeindex" };

static void save_segment(struct saved *s, const char *dir, int64_t base)
{
	char path[400];

	for (int i = 0; i < 3; i++) {
		t_seg_path(path, sizeof(path), dir, base, sfx[i]);
		s->file[i] = slurp(path, &s->len[i]);
	}
}

static void restore_segment(const struct saved *s, const char *dir,
			    int64_t base)
{
	char path[400];

	for (int i = 0; i < 3; i++) {
		t_seg_path(path, sizeof(path), dir, base, sfx[i]);
		spill(path, s->file[i], s->len[i]);
	}
}

static void free_saved(struct saved *s)
{
	for (int i = 0; i < 3; i++)
		free(s->file[i]);
}

/* Drop the model's offsets from @end on. */
static void model_cut(struct model *m, int64_t end)
{
	assert_true(end <= m->n);
	m->n = end;
}

static void test_torn_tail(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc last;
	struct sfd_log *log;
	struct saved sv;
	char path[400];
	int64_t end;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 120, 7);
	assert_int_equal(app(log, &m, 3, 30), 0); /* a ~200-byte last batch */
	assert_int_equal(sfd_log_find(log, m.n - 1, &last), 0);
	assert_int_equal(sfd_log_close(log), 0);
	save_segment(&sv, f->dir, last.segment_base);
	t_seg_path(path, sizeof(path), f->dir, last.segment_base, ".log");
	end = m.n;
	for (uint64_t cut = last.position; cut < last.position + last.size;
	     cut++) {
		const struct sfd_log_recovery *r;

		restore_segment(&sv, f->dir, last.segment_base);
		assert_int_equal(truncate(path, (off_t)cut), 0);
		log = open_log(f->dir, &c);
		r = sfd_log_recovery_info(log);
		assert_true(sfd_log_end_offset(log) == last.base_offset);
		assert_int_equal(r->bytes_truncated, cut - last.position);
		assert_int_equal(file_size(path), (off_t)last.position);
		m.n = last.base_offset;
		verify_range(log, &m, last.segment_base);
		m.n = end;
		sfd_log_close(log);
	}
	/* The final state: everything but the last batch, appendable. */
	log = open_log(f->dir, &c);
	model_cut(&m, last.base_offset);
	verify_all(log, &m);
	assert_int_equal(app(log, &m, 3, 100), 0);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	verify_all(log, &m);
	check_index_files(f->dir, last.segment_base, 512);
	sfd_log_close(log);
	free_saved(&sv);
	model_free(&m);
}

static void test_garbage_tail(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	uint8_t junk[3000];
	char path[400];
	int64_t base;
	off_t good;
	uint64_t seed = 8;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 100, 9);
	base = sfd_log_segment_base(log, sfd_log_segment_count(log) - 1);
	assert_int_equal(sfd_log_close(log), 0);
	t_seg_path(path, sizeof(path), f->dir, base, ".log");
	good = file_size(path);

	for (int round = 0; round < 3; round++) {
		const struct sfd_log_recovery *r;

		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = round == 0 ? (uint8_t)t_rand(&seed) : 0;
		if (round == 2) { /* a plausible header, bad CRC */
			size_t len;
			int64_t ts = T0;
			uint8_t *b = mk_batch(m.n, 1, 100, &ts, &len);

			sf_rb_set_base_offset(b, m.n);
			b[len - 1] ^= 1;
			memcpy(junk, b, len);
			free(b);
		}
		t_file_append(path, junk, sizeof(junk));
		log = open_log(f->dir, &c);
		r = sfd_log_recovery_info(log);
		assert_int_equal(r->bytes_truncated, sizeof(junk));
		assert_true(r->truncated_at == good);
		assert_int_equal(file_size(path), good);
		verify_all(log, &m);
		sfd_log_close(log);
	}
	model_free(&m);
}

static void test_corrupt_last_batches(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc a, b;
	struct sfd_log *log;
	char path[400];
	int64_t mid;

	small_config(&c);
	c.segment_bytes = 1u << 20;
	c.index_interval_bytes = 1u << 20; /* no index points at all */
	log = open_log(f->dir, &c);
	fill_log(log, &m, 60, 10);
	assert_int_equal(sfd_log_find(log, m.n - 1, &b), 0);
	assert_int_equal(sfd_log_find(log, b.base_offset - 1, &a), 0);
	assert_int_equal(sfd_log_close(log), 0);
	t_seg_path(path, sizeof(path), f->dir, b.segment_base, ".log");

	/* A byte in the middle of the last batch. */
	t_file_flip(path, (off_t)(b.position + b.size / 2));
	log = open_log(f->dir, &c);
	assert_true(sfd_log_end_offset(log) == b.base_offset);
	assert_int_equal(sfd_log_recovery_info(log)->bytes_truncated, b.size);
	model_cut(&m, b.base_offset);
	verify_all(log, &m);
	assert_int_equal(sfd_log_close(log), 0);

	/* A byte in the batch before it: that one and after are gone. */
	mid = a.base_offset;
	t_file_flip(path, (off_t)(a.position + a.size / 2));
	log = open_log(f->dir, &c);
	assert_true(sfd_log_end_offset(log) == mid);
	model_cut(&m, mid);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
}

static void test_corrupt_indexed_batch(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc b;
	struct sfd_log *log;
	char path[400];
	size_t ilen;
	uint8_t *idx;
	uint32_t pos;

	small_config(&c);
	c.segment_bytes = 1u << 20;
	log = open_log(f->dir, &c);
	fill_log(log, &m, 80, 11);
	assert_int_equal(sfd_log_close(log), 0);
	/* Damage the batch the last index entry points at. */
	t_seg_path(path, sizeof(path), f->dir, 0, ".index");
	idx = slurp(path, &ilen);
	assert_true(ilen >= 8);
	pos = sf_get_be32(idx + ilen - 4);
	free(idx);
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_find(log, 0, &b), 0);
	while (b.position != pos)
		assert_int_equal(sfd_log_find(log, b.last_offset + 1, &b), 0);
	sfd_log_close(log);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	t_file_flip(path, (off_t)(pos + 30));
	log = open_log(f->dir, &c);
	assert_true(sfd_log_end_offset(log) == b.base_offset);
	assert_int_equal(sfd_log_recovery_info(log)->scan_start, 0);
	model_cut(&m, b.base_offset);
	verify_all(log, &m);
	sfd_log_close(log);
	check_index_files(f->dir, 0, 512);
	model_free(&m);
}

static void test_rebuild_indexes(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct saved *sv;
	struct sfd_log *log;
	int64_t bases[256];
	unsigned n;
	char path[400];

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_jittery(log, &m, 200, 12);
	n = sfd_log_segment_count(log);
	assert_true(n > 3 && n < 256);
	for (unsigned i = 0; i < n; i++)
		bases[i] = sfd_log_segment_base(log, i);
	assert_int_equal(sfd_log_close(log), 0);
	sv = calloc(n, sizeof(*sv));
	for (unsigned i = 0; i < n; i++) {
		save_segment(&sv[i], f->dir, bases[i]);
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".index");
		assert_int_equal(unlink(path), 0);
		t_seg_path(path, sizeof(path), f->dir, bases[i], ".timeindex");
		assert_int_equal(unlink(path), 0);
	}
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->indexes_rebuilt, n);
	verify_all(log, &m);
	check_times(log, &m, 13, 2000);
	sfd_log_close(log);
	/* Rebuilt byte for byte. */
	for (unsigned i = 0; i < n; i++) {
		for (int k = 1; k < 3; k++) {
			size_t len;
			uint8_t *p;

			t_seg_path(path, sizeof(path), f->dir, bases[i],
				   sfx[k]);
			p = slurp(path, &len);
			assert_int_equal(len, sv[i].len[k]);
			assert_memory_equal(p, sv[i].file[k], len);
			free(p);
		}
		free_saved(&sv[i]);
	}
	free(sv);
	model_free(&m);
}

static void test_damaged_indexes(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	const struct sfd_log_recovery *r;
	uint8_t junk[100];
	char path[400];
	int64_t b0, blast;
	uint64_t seed = 14;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_jittery(log, &m, 200, 15);
	b0 = sfd_log_segment_base(log, 0);
	blast = sfd_log_segment_base(log, sfd_log_segment_count(log) - 1);
	assert_int_equal(sfd_log_close(log), 0);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)t_rand(&seed);
	/* Old segment: a torn entry.  Active: garbage entries. */
	t_seg_path(path, sizeof(path), f->dir, b0, ".index");
	t_file_append(path, junk, 5);
	t_seg_path(path, sizeof(path), f->dir, blast, ".index");
	t_file_append(path, junk, 96);
	t_seg_path(path, sizeof(path), f->dir, blast, ".timeindex");
	t_file_append(path, junk, 36);
	log = open_log(f->dir, &c);
	r = sfd_log_recovery_info(log);
	assert_int_equal(r->indexes_rebuilt, 1);
	assert_true(r->index_entries_dropped >= 1);
	assert_int_equal(r->bytes_truncated, 0);
	verify_all(log, &m);
	check_times(log, &m, 16, 1000);
	sfd_log_close(log);
	check_index_files(f->dir, b0, 512);
	check_index_files(f->dir, blast, 512);
	/* An index pointing past the data (the log lost its tail). */
	t_seg_path(path, sizeof(path), f->dir, blast, ".log");
	assert_int_equal(truncate(path, 50), 0); /* inside the first header */
	log = open_log(f->dir, &c);
	r = sfd_log_recovery_info(log);
	assert_true(sfd_log_end_offset(log) == blast);
	model_cut(&m, blast);
	verify_all(log, &m);
	sfd_log_close(log);
	check_index_files(f->dir, blast, 512);
	model_free(&m);
}

/* The middle entries of an old index point one byte into their batches. */
static void test_misleading_index(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	char path[400];
	size_t ilen;
	uint8_t *idx;
	int64_t b1;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 100, 23);
	b1 = sfd_log_segment_base(log, 1);
	assert_int_equal(sfd_log_close(log), 0);
	t_seg_path(path, sizeof(path), f->dir, b1, ".index");
	idx = slurp(path, &ilen);
	assert_true(ilen >= 24);
	for (size_t i = 0; i + 8 < ilen; i += 8) /* the last one stays sane */
		sf_put_be32(idx + i + 4, sf_get_be32(idx + i + 4) + 1);
	spill(path, idx, ilen);
	free(idx);
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->indexes_rebuilt, 0);
	verify_all(log, &m);
	verify_find(log, &m, b1, 1);
	check_times(log, &m, 24, 500);
	sfd_log_close(log);
	model_free(&m);
}

/* A damaged batch inside an old (durable) segment is reported, not cut. */
static void test_damaged_old_segment(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc bad, loc;
	struct sfd_log *log;
	char path[400];
	int64_t b1, b2;

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 100, 25);
	b1 = sfd_log_segment_base(log, 1);
	b2 = sfd_log_segment_base(log, 2);
	assert_int_equal(sfd_log_find(log, b1 + (b2 - b1) / 2, &bad), 0);
	assert_true(bad.position > 0);
	assert_int_equal(sfd_log_close(log), 0);
	/* Break its magic byte and make the open rebuild the index. */
	t_seg_path(path, sizeof(path), f->dir, b1, ".log");
	t_file_flip(path, (off_t)(bad.position + SF_RB_OFF_MAGIC));
	t_seg_path(path, sizeof(path), f->dir, b1, ".index");
	assert_int_equal(unlink(path), 0);
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->corrupt_segments, 1);
	assert_int_equal(sfd_log_recovery_info(log)->bytes_truncated, 0);
	assert_true(sfd_log_end_offset(log) == m.n);
	/* Before the damage, and in later segments: fine. */
	assert_int_equal(sfd_log_find(log, b1, &loc), 0);
	assert_int_equal(sfd_log_find(log, bad.base_offset - 1, &loc), 0);
	verify_range(log, &m, b2);
	/* At and after it within the segment: reported, never made up. */
	assert_int_equal(sfd_log_find(log, bad.base_offset, &loc), -EBADMSG);
	assert_int_equal(sfd_log_find(log, b2 - 1, &loc), -EBADMSG);
	sfd_log_close(log);
	model_free(&m);
}

static void test_strays(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	char path[400];

	small_config(&c);
	log = open_log(f->dir, &c);
	fill_log(log, &m, 30, 17);
	assert_int_equal(sfd_log_close(log), 0);
	t_seg_path(path, sizeof(path), f->dir, 999999, ".index");
	spill(path, "x", 1);
	t_seg_path(path, sizeof(path), f->dir, 999999, ".timeindex");
	spill(path, "x", 1);
	t_seg_path(path, sizeof(path), f->dir, 0, ".index.tmp");
	spill(path, "x", 1);
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	spill(path, "keep", 4);
	snprintf(path, sizeof(path), "%s/99999999999999999999.log", f->dir);
	spill(path, "x", 1); /* past INT64_MAX: not a segment */
	log = open_log(f->dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->orphans_removed, 3);
	verify_all(log, &m);
	sfd_log_close(log);
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	assert_int_equal(file_size(path), 4);
	t_seg_path(path, sizeof(path), f->dir, 999999, ".index");
	assert_int_equal(file_size(path), -1);
	model_free(&m);
}

/* ---- retention and rolling -------------------------------------------- */

static void test_retention_size(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	struct sfd_log_loc loc;
	char path[400];
	int64_t first;
	unsigned n;

	small_config(&c);
	c.retention_ms = -1;
	c.retention_bytes = 30000;
	log = open_log(f->dir, &c);
	fill_log(log, &m, 300, 18);
	n = sfd_log_segment_count(log);
	first = sfd_log_segment_base(log, 0);
	assert_true(sfd_log_retain(log) > 0);
	assert_true(sfd_log_size(log) >= 30000);
	/* Deleting the oldest remaining one would go below the limit. */
	t_seg_path(path, sizeof(path), f->dir, sfd_log_segment_base(log, 0),
		   ".log");
	assert_true(sfd_log_size(log) - (uint64_t)file_size(path) < 30000);
	assert_true(sfd_log_segment_count(log) < n);
	assert_true(sfd_log_start_offset(log) == sfd_log_segment_base(log, 0));
	assert_int_equal(sfd_log_find(log, sfd_log_start_offset(log) - 1, &loc),
			 -ERANGE);
	t_seg_path(path, sizeof(path), f->dir, first, ".log");
	assert_int_equal(file_size(path), -1);
	t_seg_path(path, sizeof(path), f->dir, first, ".index");
	assert_int_equal(file_size(path), -1);
	verify_all(log, &m);
	assert_int_equal(sfd_log_retain(log), 0); /* idempotent */
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	verify_all(log, &m);
	sfd_log_close(log);

	c.retention_bytes = 0; /* everything but the active segment */
	log = open_log(f->dir, &c);
	assert_true(sfd_log_retain(log) > 0);
	assert_int_equal(sfd_log_segment_count(log), 1);
	verify_all(log, &m);
	assert_int_equal(app(log, &m, 2, 50), 0);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
}

static void test_retention_time_and_roll(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	int64_t ts[4], hour = 3600 * 1000;

	small_config(&c);
	c.segment_bytes = 1u << 20;
	c.segment_ms = hour;
	c.retention_ms = 5 * hour;
	log = open_log(f->dir, &c);
	/* One segment per simulated hour, records stamped with the hour. */
	for (int h = 0; h < 10; h++) {
		g_now = T0 + h * hour;
		for (int b = 0; b < 5; b++) {
			for (int k = 0; k < 4; k++)
				ts[k] = g_now + b;
			assert_int_equal(app_ts(log, &m, 4, 100, ts), 0);
		}
		assert_int_equal(sfd_log_segment_count(log), (unsigned)h + 1);
	}
	/* At hour 10 the segments whose newest record is > 5 h old go. */
	g_now = T0 + 10 * hour;
	assert_int_equal(sfd_log_retain(log), 5); /* hours 0-4 */
	assert_true(sfd_log_start_offset(log) == 5 * 20);
	verify_all(log, &m);
	check_times(log, &m, 19, 500);
	/* Never the active segment, however old. */
	g_now = T0 + 100 * hour;
	assert_int_equal(sfd_log_retain(log), 4);
	assert_int_equal(sfd_log_segment_count(log), 1);
	verify_all(log, &m);
	/* After a restart the age counts from the first batch's time. */
	assert_int_equal(sfd_log_close(log), 0);
	g_now = T0 + 9 * hour + hour / 2;
	log = open_log(f->dir, &c);
	assert_int_equal(app(log, &m, 1, 10), 0);
	assert_int_equal(sfd_log_segment_count(log), 1);
	g_now = T0 + 10 * hour;
	assert_int_equal(app(log, &m, 1, 10), 0);
	assert_int_equal(sfd_log_segment_count(log), 2);
	/* A forced roll. */
	assert_int_equal(sfd_log_roll(log), 0);
	assert_int_equal(sfd_log_segment_count(log), 3);
	assert_int_equal(sfd_log_roll(log), 0); /* empty: no new segment */
	assert_int_equal(sfd_log_segment_count(log), 3);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
}

/* ---- bad input, configuration, resources ------------------------------ */

static void test_bad_appends(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	int64_t ts[2] = { T0, T0 }, base;
	uint8_t *b, *two;
	size_t len;

	small_config(&c);
	c.max_batch_bytes = 2000;
	log = open_log(f->dir, &c);
	b = mk_batch(0, 2, 50, ts, &len);
	two = malloc(2 * len);
	memcpy(two, b, len);
	memcpy(two + len, b, len);
	assert_int_equal(sfd_log_append(log, two, 2 * len, &base), -EBADMSG);
	assert_int_equal(sfd_log_append(log, b, len - 1, &base), -EBADMSG);
	assert_int_equal(sfd_log_append(log, b, 0, &base), -EBADMSG);
	b[len - 1] ^= 1;
	assert_int_equal(sfd_log_append(log, b, len, &base), -EBADMSG);
	b[len - 1] ^= 1;
	assert_int_equal(app(log, &m, 10, 300), -EMSGSIZE);
	assert_true(sfd_log_end_offset(log) == 0);
	/* Producers' base offsets are ignored. */
	sf_rb_set_base_offset(b, 123456);
	assert_int_equal(sfd_log_append(log, b, len, &base), 0);
	assert_true(base == 0);
	for (int i = 0; i < 2; i++)
		model_push(&m, T0);
	verify_all(log, &m);
	sfd_log_close(log);
	free(b);
	free(two);
	model_free(&m);
}

static void test_config(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct sfd_log *log = NULL;

	sfd_log_config_init(&c);
	c.segment_bytes = 100;
	assert_int_equal(sfd_log_open(f->dir, &c, &log), -EINVAL);
	sfd_log_config_init(&c);
	c.segment_bytes = 1ull << 32;
	assert_int_equal(sfd_log_open(f->dir, &c, &log), -EINVAL);
	sfd_log_config_init(&c);
	c.size = 2;
	assert_int_equal(sfd_log_open(f->dir, &c, &log), -EINVAL);
	assert_null(log);
	/* An old caller's shorter struct gets defaults for the rest. */
	sfd_log_config_init(&c);
	c.size = offsetof(struct sfd_log_config, retention_bytes);
	c.max_open_segments = 0; /* beyond size: ignored */
	assert_int_equal(sfd_log_open(f->dir, &c, &log), 0);
	assert_int_equal(sfd_log_close(log), 0);
	assert_int_equal(sfd_log_open(f->dir, NULL, &log), 0);
	assert_int_equal(sfd_log_close(log), 0);
	assert_int_equal(sfd_log_close(NULL), 0);
	assert_int_equal(sfd_log_open("/nonexistent/a/b", NULL, &log), -ENOENT);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_open_file_bound(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	int before = count_fds();

	small_config(&c);
	c.max_open_segments = 2;
	log = open_log(f->dir, &c);
	fill_log(log, &m, 300, 20);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(f->dir, &c);
	assert_true(sfd_log_segment_count(log) > 10);
	verify_all(log, &m);
	check_times(log, &m, 21, 300);
	/* ring + dir + active (3) + 2 old segments (3 each) */
	assert_true(count_fds() - before <= 2 + 3 + 2 * 3);
	sfd_log_close(log);
	assert_int_equal(count_fds(), before);
	model_free(&m);
}

static void test_shared_uio(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m1 = { 0 }, m2 = { 0 };
	struct sfd_log *a, *b;
	struct sfd_uio *u;
	char dir2[400];

	assert_int_equal(sfd_uio_create(&u), 0);
	small_config(&c);
	c.uio = u;
	snprintf(dir2, sizeof(dir2), "%s/topic-1", f->root);
	a = open_log(f->dir, &c);
	b = open_log(dir2, &c);
	for (int i = 0; i < 100; i++) {
		assert_int_equal(app(a, &m1, 3, 100), 0);
		assert_int_equal(app(b, &m2, 2, 200), 0);
		if (i % 10 == 0) {
			assert_int_equal(sfd_log_flush(a), 0);
			assert_int_equal(sfd_log_flush(b), 0);
		}
	}
	verify_all(a, &m1);
	verify_all(b, &m2);
	assert_int_equal(sfd_log_close(a), 0);
	assert_int_equal(sfd_log_close(b), 0);
	sfd_uio_destroy(u);
	model_free(&m1);
	model_free(&m2);
}

/* ---- kill -9 ------------------------------------------------------------ */

struct progress {
	int64_t durable; /* the child's last acknowledged durable offset */
};

/* A batch for the child: no cmocka there, failures end the child. */
static uint8_t *child_batch(int64_t seq, int n, size_t *len)
{
	struct sf_rb_builder b;
	uint8_t v[200];

	if (sf_rb_builder_init_alloc(&b, 4096))
		return NULL;
	for (int i = 0; i < n; i++) {
		struct sf_rb_msg m = { T0 + 10 * (seq + i),
				       { "k", 1 },
				       { v, (int32_t)sizeof(v) },
				       NULL,
				       0 };

		t_fill_value(v, sizeof(v), seq + i);
		if (sf_rb_builder_add(&b, &m)) {
			sf_rb_builder_release(&b);
			return NULL;
		}
	}
	return t_rb_take(&b, len);
}

/* Append and flush until killed; publish each durable offset. */
static int child_writer(const char *dir, struct progress *p, uint64_t seed)
{
	struct sfd_log_config c;
	struct sfd_log *log;
	int64_t base;

	small_config(&c);
	c.clock_ms = NULL;
	if (sfd_log_open(dir, &c, &log))
		return 2;
	for (int i = 0;; i++) {
		size_t len;
		uint8_t *b = child_batch(sfd_log_end_offset(log),
					 1 + (int)(t_rand(&seed) % 5), &len);

		if (!b || sfd_log_append(log, b, len, &base))
			return 3;
		free(b);
		if (i % 3 == 2) {
			if (sfd_log_flush(log))
				return 4;
			__atomic_store_n(&p->durable,
					 sfd_log_durable_offset(log),
					 __ATOMIC_RELEASE);
		}
	}
}

static void test_kill9(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct progress *p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct model m = { 0 };
	uint64_t seed = 26;
	struct sfd_log *log;

	assert_true(p != MAP_FAILED);
	small_config(&c);
	for (int round = 0; round < 6; round++) {
		int64_t before = p->durable;
		pid_t pid;
		int st;

		fflush(stdout);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_writer(f->dir, p, seed + (uint64_t)round));
		/* Let it get going, then kill it at a random moment. */
		while (__atomic_load_n(&p->durable, __ATOMIC_ACQUIRE) <
		       before + 50)
			usleep(500);
		usleep((useconds_t)(t_rand(&seed) % 20000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFSIGNALED(st)); /* not an early exit */
		log = open_log(f->dir, &c);
		/* Nothing acknowledged durable is lost... */
		assert_true(sfd_log_end_offset(log) >= p->durable);
		/* ...and everything there is whole and in order. */
		while (m.n < sfd_log_end_offset(log))
			model_push(&m, T0 + 10 * m.n);
		model_cut(&m, sfd_log_end_offset(log));
		verify_all(log, &m);
		p->durable = sfd_log_end_offset(log);
		assert_int_equal(sfd_log_close(log), 0);
	}
	munmap(p, sizeof(*p));
	model_free(&m);
}

/* ---- short writes ------------------------------------------------------ */

/*
 * RLIMIT_FSIZE makes a write that crosses the limit come back short, and
 * the next one fail with EFBIG: a deterministic short write.
 */
static void test_short_write_uio(void **state)
{
	struct fx *f = *state;
	static uint8_t buf[16384];
	struct sfd_uio_req r[3];
	struct sfd_uio *u;
	char path[400];
	int fd;

	signal(SIGXFSZ, SIG_IGN);
	snprintf(path, sizeof(path), "%s/short", f->root);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(sfd_uio_create(&u), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	file_limit(10000);
	r[0] = sfd_uio_write(fd, buf, 4000, 0);
	r[1] = sfd_uio_write(fd, buf + 4000, sizeof(buf) - 4000, 4000);
	r[2] = sfd_uio_sync(fd, SFD_UIO_FDATASYNC);
	assert_int_equal(sfd_uio_run(u, r, 3), -EFBIG);
	assert_int_equal(r[0].res, 0);
	assert_int_equal(r[1].res, -EFBIG);
	assert_int_equal(r[1].done, 6000); /* the short part */
	assert_int_equal(r[2].res, -ECANCELED);
	assert_int_equal(file_size(path), 10000);
	file_limit(RLIM_INFINITY);
	assert_int_equal(sfd_uio_run(u, r, 3), 0);
	assert_int_equal(r[1].done, sizeof(buf) - 4000);
	assert_int_equal(file_size(path), sizeof(buf));
	/* Empty writes complete without a system call. */
	r[0] = sfd_uio_write(fd, buf, 0, 0);
	assert_int_equal(sfd_uio_run(u, r, 1), 0);
	assert_int_equal(sfd_uio_run(u, r, SFD_UIO_MAX_REQS + 1), -EINVAL);
	sfd_uio_destroy(u);
	close(fd);
}

static void test_short_write_log(void **state)
{
	struct fx *f = *state;
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log_loc loc;
	struct sfd_log *log;
	char path[400];
	int64_t written;

	signal(SIGXFSZ, SIG_IGN);
	small_config(&c);
	c.segment_bytes = 1u << 20;
	c.write_buffer_bytes = 64 << 10;
	log = open_log(f->dir, &c);
	file_limit(20000);
	while (sfd_log_size(log) < 30000)
		assert_int_equal(app(log, &m, 3, 150), 0);
	assert_int_equal(sfd_log_flush(log), -EFBIG);
	/* Written: exactly the batches wholly below the limit. */
	written = sfd_log_written_offset(log);
	assert_true(written > 0 && written < m.n);
	assert_true(sfd_log_durable_offset(log) == 0);
	t_seg_path(path, sizeof(path), f->dir, 0, ".log");
	assert_int_equal(file_size(path), 20000);
	assert_int_equal(sfd_log_find(log, written - 1, &loc), 0);
	assert_true(loc.position + loc.size <= 20000);
	assert_true(loc.position + loc.size + 1000 > 20000);
	/* Reads of what is written work; of what is not, report why. */
	assert_int_equal(sfd_log_find(log, 0, &loc), 0);
	assert_int_equal(sfd_log_find(log, written, &loc), -EFBIG);
	/* Lift the limit: the rest goes out where the write stopped. */
	file_limit(RLIM_INFINITY);
	assert_int_equal(sfd_log_flush(log), 0);
	assert_true(sfd_log_durable_offset(log) == m.n);
	verify_all(log, &m);
	/* Again, and this time give up: reopen keeps the whole batches. */
	file_limit((rlim_t)file_size(path) + 5000);
	while (sfd_log_size(log) < (uint64_t)file_size(path) + 20000)
		assert_int_equal(app(log, &m, 3, 150), 0);
	assert_int_equal(sfd_log_flush(log), -EFBIG);
	written = sfd_log_written_offset(log);
	assert_int_equal(sfd_log_close(log), -EFBIG);
	file_limit(RLIM_INFINITY);
	log = open_log(f->dir, &c);
	assert_true(sfd_log_recovery_info(log)->bytes_truncated > 0);
	model_cut(&m, written);
	verify_all(log, &m);
	sfd_log_close(log);
	check_index_files(f->dir, 0, 512);
	model_free(&m);
}

/* ---- a full disk ------------------------------------------------------ */

static bool mount_small_fs(struct fx *f)
{
	assert_int_equal(mkdir(f->mnt, 0755), 0);
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=1m")) {
		snprintf(g_skipped, sizeof(g_skipped),
			 "skipped test_full_disk: cannot mount a tmpfs (%s)",
			 strerror(errno));
		print_message("%s\n", g_skipped);
		return false;
	}
	f->mounted = true;
	return true;
}

static void make_filler(const char *path, size_t len)
{
	uint8_t *p = calloc(1, len);

	spill(path, p, len);
	free(p);
}

/* Append (and flush if @flush) until the disk is full. */
static int fill_disk(struct sfd_log *log, struct model *m, bool flush,
		     int64_t *acked)
{
	int ret = 0;

	for (int i = 0; i < 100000 && !ret; i++) {
		ret = app(log, m, 4, 300);
		if (!ret && flush)
			ret = sfd_log_flush(log);
		if (!ret && flush)
			*acked = m->n;
	}
	return ret;
}

static void enospc_flushing(struct fx *f, uint64_t seg_bytes)
{
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	char dir[400], filler[400];
	int64_t acked = 0;

	snprintf(dir, sizeof(dir), "%s/p-%llu", f->mnt,
		 (unsigned long long)seg_bytes);
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	make_filler(filler, 256 << 10);
	small_config(&c);
	c.segment_bytes = seg_bytes;
	c.write_buffer_bytes = 64 << 10;
	log = open_log(dir, &c);
	assert_int_equal(fill_disk(log, &m, true, &acked), -ENOSPC);
	/* Nothing claimed that is not there. */
	assert_true(sfd_log_durable_offset(log) == acked);
	assert_true(sfd_log_written_offset(log) <= sfd_log_end_offset(log));
	assert_int_equal(sfd_log_flush(log), -ENOSPC);
	/* Make room: the queued batches go out, appending works again. */
	assert_int_equal(unlink(filler), 0);
	assert_int_equal(sfd_log_flush(log), 0);
	assert_true(sfd_log_durable_offset(log) == m.n);
	for (int i = 0; i < 20; i++)
		assert_int_equal(app(log, &m, 2, 100), 0);
	assert_int_equal(sfd_log_flush(log), 0);
	verify_all(log, &m);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(dir, &c);
	assert_int_equal(sfd_log_recovery_info(log)->bytes_truncated, 0);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
	/* Free the space for the next round. */
	assert_int_equal(t_rm_rf(dir), 0);
}

static void enospc_closing(struct fx *f)
{
	struct sfd_log_config c;
	struct model m = { 0 };
	struct sfd_log *log;
	char dir[400], filler[400];
	int64_t written, acked = 0;

	snprintf(dir, sizeof(dir), "%s/q", f->mnt);
	snprintf(filler, sizeof(filler), "%s/filler", f->mnt);
	make_filler(filler, 256 << 10);
	small_config(&c);
	c.segment_bytes = 16u << 20;
	c.write_buffer_bytes = 64 << 10;
	log = open_log(dir, &c);
	assert_int_equal(fill_disk(log, &m, false, &acked), -ENOSPC);
	written = sfd_log_written_offset(log);
	assert_true(written < sfd_log_end_offset(log));
	/* Closing cannot write the rest: it says so. */
	assert_int_equal(sfd_log_close(log), -ENOSPC);
	/* Reopen on the still full disk: exactly the written batches. */
	log = open_log(dir, &c);
	assert_true(sfd_log_end_offset(log) == written);
	model_cut(&m, written);
	verify_all(log, &m);
	assert_int_equal(unlink(filler), 0);
	for (int i = 0; i < 20; i++)
		assert_int_equal(app(log, &m, 2, 100), 0);
	assert_int_equal(sfd_log_close(log), 0);
	log = open_log(dir, &c);
	verify_all(log, &m);
	sfd_log_close(log);
	model_free(&m);
}

static void test_full_disk(void **state)
{
	struct fx *f = *state;

	if (!mount_small_fs(f))
		skip();
	enospc_flushing(f, 16u << 20); /* one segment */
	enospc_flushing(f, 32u << 10); /* rolls into the full disk */
	enospc_closing(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_append_read_rolls, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loc_is_sendable, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_index_files, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_find_time, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_garbage_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_last_batches,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_indexed_batch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_rebuild_indexes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_indexes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_misleading_index, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damaged_old_segment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_strays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention_size, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retention_time_and_roll,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_appends, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_file_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shared_uio, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill9, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_write_uio, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_short_write_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_full_disk, setup,
						teardown),
	};

	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	/* A test that could not run makes the program a loud skip. */
	if (failed || !g_skipped[0])
		return failed;
	printf("%s\n", g_skipped);
	return 77;
}
