// SPDX-License-Identifier: MIT
/*
 * log_seg.c - segment files and index state.
 *
 * Files of old segments are opened on demand and at most
 * max_open_segments old segments keep theirs open; the least recently used
 * one is closed first.  The active segment's files stay open.
 *
 * The index state (struct sfd_build) grows as batches are added; the
 * entry rule lives in sfd_build_add() only, so appending, recovering and
 * rebuilding produce the same entries for the same batches.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "sfd.h"
#include "sf_be.h"
#include "uio.h"

static const char *const seg_suffix[] = {
	[SFD_SEG_LOG] = ".log",
	[SFD_SEG_INDEX] = ".index",
	[SFD_SEG_TIMEINDEX] = ".timeindex",
};

void sfd_seg_name(char *buf, int64_t base, enum sfd_seg_file f, bool tmp)
{
	snprintf(buf, SFD_SEG_NAME_MAX, "%020" PRId64 "%s%s", base,
		 seg_suffix[f], tmp ? ".tmp" : "");
}

void sfd_seg_init(struct sfd_seg *s, int64_t base)
{
	s->base = base;
	s->size = 0;
	s->max_ts = SF_RB_NO_TIMESTAMP;
	s->fd[0] = s->fd[1] = s->fd[2] = -1;
	s->used = 0;
}

int sfd_seg_push(struct sfd_log *log, int64_t base)
{
	if (log->nsegs == log->segs_cap) {
		uint32_t cap = log->segs_cap ? log->segs_cap * 2 : 16;
		struct sfd_seg *p = realloc(log->segs, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		log->segs = p;
		log->segs_cap = cap;
	}
	sfd_seg_init(&log->segs[log->nsegs++], base);
	return 0;
}

static bool seg_has_open(const struct sfd_seg *s)
{
	return s->fd[0] >= 0 || s->fd[1] >= 0 || s->fd[2] >= 0;
}

static void seg_close_fds(struct sfd_seg *s)
{
	for (int f = 0; f < 3; f++) {
		if (s->fd[f] >= 0)
			close(s->fd[f]);
		s->fd[f] = -1;
	}
}

void sfd_seg_close(struct sfd_log *log, struct sfd_seg *s)
{
	if (seg_has_open(s) && !sfd_seg_is_active(log, s))
		log->nopen--;
	seg_close_fds(s);
}

/* Close the least recently used old segment that has open files. */
static bool seg_evict(struct sfd_log *log)
{
	struct sfd_seg *lru = NULL;

	for (uint32_t i = 0; i + 1 < log->nsegs; i++) {
		struct sfd_seg *s = &log->segs[i];

		if (seg_has_open(s) && (!lru || s->used < lru->used))
			lru = s;
	}
	if (lru)
		sfd_seg_close(log, lru);
	return lru != NULL;
}

static int seg_open_file(struct sfd_log *log, int64_t base, enum sfd_seg_file f,
			 int flags)
{
	char name[SFD_SEG_NAME_MAX];
	int fd;

	sfd_seg_name(name, base, f, false);
	fd = openat(log->dir_fd, name, flags | O_CLOEXEC, 0644);
	return fd < 0 ? -errno : fd;
}

int sfd_seg_fd(struct sfd_log *log, struct sfd_seg *s, enum sfd_seg_file f)
{
	bool active = sfd_seg_is_active(log, s);
	int fd;

	s->used = ++log->tick;
	if (s->fd[f] >= 0)
		return s->fd[f];
	if (!active && !seg_has_open(s)) {
		while (log->nopen >= log->cfg.max_open_segments &&
		       seg_evict(log))
			;
		log->nopen++;
	}
	fd = seg_open_file(log, s->base, f, active ? O_RDWR : O_RDONLY);
	if (fd < 0 && !active && !seg_has_open(s))
		log->nopen--;
	if (fd >= 0)
		s->fd[f] = fd;
	return fd;
}

/* The active segment @s just became an old one: count its open files. */
void sfd_seg_demoted(struct sfd_log *log, struct sfd_seg *s)
{
	if (!seg_has_open(s))
		return;
	s->used = ++log->tick;
	log->nopen++;
	while (log->nopen > log->cfg.max_open_segments && seg_evict(log))
		;
}

int sfd_seg_unlink(struct sfd_log *log, int64_t base)
{
	char name[SFD_SEG_NAME_MAX];
	int ret = 0;

	/* The .log first: index files without it are removed at open. */
	for (int f = SFD_SEG_LOG; f <= SFD_SEG_TIMEINDEX; f++) {
		sfd_seg_name(name, base, f, false);
		if (unlinkat(log->dir_fd, name, 0) && errno != ENOENT && !ret)
			ret = -errno;
	}
	return ret;
}

static int seg_create_files(struct sfd_log *log, struct sfd_seg *s)
{
	int fd = seg_open_file(log, s->base, SFD_SEG_LOG,
			       O_RDWR | O_CREAT | O_EXCL);

	if (fd < 0)
		return fd;
	s->fd[SFD_SEG_LOG] = fd;
	for (int f = SFD_SEG_INDEX; f <= SFD_SEG_TIMEINDEX; f++) {
		fd = seg_open_file(log, s->base, f, O_RDWR | O_CREAT | O_TRUNC);
		if (fd < 0)
			return fd;
		s->fd[f] = fd;
	}
	return 0;
}

/*
 * Create the files of a new active segment and make their directory
 * entries durable, so that data later fdatasync'ed into them is durable.
 */
int sfd_seg_create(struct sfd_log *log, int64_t base)
{
	struct sfd_uio_req req = sfd_uio_sync(log->dir_fd, SFD_UIO_FSYNC);
	struct sfd_seg *s;
	int ret = sfd_seg_push(log, base);

	if (ret)
		return ret;
	s = sfd_log_active(log);
	ret = seg_create_files(log, s);
	if (!ret)
		ret = sfd_uio_run(log->uio, &req, 1);
	if (ret) {
		seg_close_fds(s);
		sfd_seg_unlink(log, base);
		log->nsegs--;
	}
	return ret;
}

/* ---- index state ------------------------------------------------------ */

void sfd_build_init(struct sfd_build *b, int64_t base, uint32_t interval)
{
	memset(b, 0, sizeof(*b));
	b->interval = interval;
	sfd_build_clear(b, base);
}

void sfd_build_release(struct sfd_build *b)
{
	free(b->idx);
	free(b->tim);
	b->idx = NULL;
	b->tim = NULL;
	b->idx_cap = b->tim_cap = 0;
}

void sfd_build_clear(struct sfd_build *b, int64_t base)
{
	b->base = base;
	b->nidx = b->ntim = 0;
	b->next = base;
	b->size = 0;
	b->last_idx_pos = 0;
	b->max_ts = SF_RB_NO_TIMESTAMP;
	b->first_ts = SF_RB_NO_TIMESTAMP;
}

/* Room for one more batch's entries and a seal entry. */
int sfd_build_reserve(struct sfd_build *b)
{
	int ret = sfd_grow((void **)&b->idx, &b->idx_cap, b->nidx + 1,
			   sizeof(*b->idx), 64);

	if (!ret)
		ret = sfd_grow((void **)&b->tim, &b->tim_cap, b->ntim + 2,
			       sizeof(*b->tim), 64);
	return ret;
}

int64_t sfd_build_tim_ts(const struct sfd_build *b)
{
	return b->ntim ? b->tim[b->ntim - 1].ts : SF_RB_NO_TIMESTAMP;
}

/*
 * Account for a batch at @pos (its base offset already assigned).  An
 * index point is a batch that starts at least interval bytes after the
 * previous index point (the segment start counting as one): it gets an
 * offset index entry, and a time index entry if the largest timestamp
 * grew since the last one.  Needs sfd_build_reserve() first.
 */
void sfd_build_add(struct sfd_build *b, const struct sf_rb_hdr *h, uint64_t pos)
{
	int64_t last = h->base_offset + h->last_offset_delta;
	uint32_t rel = (uint32_t)(last - b->base);

	if (pos == 0)
		b->first_ts = h->max_timestamp;
	if (h->max_timestamp > b->max_ts)
		b->max_ts = h->max_timestamp;
	if (pos > 0 && pos <= UINT32_MAX &&
	    pos - b->last_idx_pos >= b->interval) {
		b->idx[b->nidx++] = (struct sfd_idx_ent){ rel, (uint32_t)pos };
		b->last_idx_pos = pos;
		if (b->max_ts > sfd_build_tim_ts(b))
			b->tim[b->ntim++] =
				(struct sfd_tim_ent){ b->max_ts, rel };
	}
	b->next = last + 1;
	b->size = pos + sf_rb_size(h);
}

/* A closing time index entry, so the file tells the segment's maximum. */
int sfd_build_seal(struct sfd_build *b)
{
	int ret = sfd_build_reserve(b);

	if (ret || b->next == b->base || b->max_ts <= sfd_build_tim_ts(b))
		return ret;
	b->tim[b->ntim++] =
		(struct sfd_tim_ent){ b->max_ts,
				      (uint32_t)(b->next - 1 - b->base) };
	return 0;
}

/* ---- index files -------------------------------------------------------- */

size_t sfd_idx_encode(uint8_t *p, const struct sfd_idx_ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++, p += SFD_IDX_ENTRY_SIZE) {
		sf_put_be32(p, e[i].rel);
		sf_put_be32(p + 4, e[i].pos);
	}
	return n * SFD_IDX_ENTRY_SIZE;
}

size_t sfd_tim_encode(uint8_t *p, const struct sfd_tim_ent *e, size_t n)
{
	for (size_t i = 0; i < n; i++, p += SFD_TIM_ENTRY_SIZE) {
		sf_put_be64(p, (uint64_t)e[i].ts);
		sf_put_be32(p + 8, e[i].rel);
	}
	return n * SFD_TIM_ENTRY_SIZE;
}

void sfd_idx_decode(const uint8_t *p, struct sfd_idx_ent *e)
{
	e->rel = sf_get_be32(p);
	e->pos = sf_get_be32(p + 4);
}

void sfd_tim_decode(const uint8_t *p, struct sfd_tim_ent *e)
{
	e->ts = (int64_t)sf_get_be64(p);
	e->rel = sf_get_be32(p + 8);
}

/* Write entries [from, to) of an array of @esize-byte entries. */
static int entries_write(struct sfd_log *log, int fd, const void *e,
			 size_t esize, uint32_t from, uint32_t to,
			 uint32_t *done)
{
	uint32_t per = (uint32_t)(SFD_LOG_SCRATCH / esize);
	int ret = 0;

	*done = from;
	while (*done < to && !ret) {
		uint32_t n = to - *done < per ? to - *done : per;
		struct sfd_uio_req req;
		size_t len;

		if (esize == SFD_IDX_ENTRY_SIZE)
			len = sfd_idx_encode(
				log->scratch,
				(const struct sfd_idx_ent *)e + *done, n);
		else
			len = sfd_tim_encode(
				log->scratch,
				(const struct sfd_tim_ent *)e + *done, n);
		req = sfd_uio_write(fd, log->scratch, len,
				    (uint64_t)*done * esize);
		ret = sfd_uio_run(log->uio, &req, 1);
		*done += (uint32_t)(req.done / esize);
	}
	return ret;
}

int sfd_idx_write(struct sfd_log *log, int fd, const struct sfd_idx_ent *e,
		  uint32_t from, uint32_t to, uint32_t *done)
{
	return entries_write(log, fd, e, SFD_IDX_ENTRY_SIZE, from, to, done);
}

int sfd_tim_write(struct sfd_log *log, int fd, const struct sfd_tim_ent *e,
		  uint32_t from, uint32_t to, uint32_t *done)
{
	return entries_write(log, fd, e, SFD_TIM_ENTRY_SIZE, from, to, done);
}

/* ---- index lookups ------------------------------------------------------ */

/* Largest i in [0, n) with key(i) <= want, or -1; key() may fail. */
static int64_t bsearch_le(int64_t n, int64_t want,
			  int (*key)(void *ctx, int64_t i, int64_t *k),
			  void *ctx, int *err)
{
	int64_t lo = 0, hi = n; /* answer is lo - 1 */

	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2, k;

		*err = key(ctx, mid, &k);
		if (*err)
			return -1;
		if (k <= want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo - 1;
}

struct file_ctx {
	int fd;
	size_t esize;
	uint8_t ent[SFD_TIM_ENTRY_SIZE];
};

static int file_entry(struct file_ctx *c, int64_t i)
{
	ssize_t n =
		sfd_pread_all(c->fd, c->ent, c->esize, (uint64_t)i * c->esize);

	if (n < 0)
		return (int)n;
	return (size_t)n == c->esize ? 0 : -EBADMSG;
}

static int idx_file_key(void *ctx, int64_t i, int64_t *k)
{
	struct sfd_idx_ent e;
	int ret = file_entry(ctx, i);

	sfd_idx_decode(((struct file_ctx *)ctx)->ent, &e);
	*k = e.rel;
	return ret;
}

static int idx_mem_key(void *ctx, int64_t i, int64_t *k)
{
	*k = ((const struct sfd_build *)ctx)->idx[i].rel;
	return 0;
}

static int tim_file_key(void *ctx, int64_t i, int64_t *k)
{
	struct sfd_tim_ent e;
	int ret = file_entry(ctx, i);

	sfd_tim_decode(((struct file_ctx *)ctx)->ent, &e);
	*k = e.ts;
	return ret;
}

static int tim_mem_key(void *ctx, int64_t i, int64_t *k)
{
	*k = ((const struct sfd_build *)ctx)->tim[i].ts;
	return 0;
}

/* Open an old segment's index file; -ENOENT means "no index". */
static int file_ctx_open(struct sfd_log *log, struct sfd_seg *s,
			 enum sfd_seg_file f, struct file_ctx *c, int64_t *n)
{
	struct stat st;

	c->esize = f == SFD_SEG_INDEX ? SFD_IDX_ENTRY_SIZE : SFD_TIM_ENTRY_SIZE;
	c->fd = sfd_seg_fd(log, s, f);
	if (c->fd < 0)
		return c->fd;
	if (fstat(c->fd, &st))
		return -errno;
	*n = st.st_size / (off_t)c->esize;
	return 0;
}

/*
 * Where to start scanning for @offset: the position of the last index
 * entry whose offset is <= @offset, 0 if none.  Only a hint: the scan
 * validates what it reads and a bad hint costs a scan from 0.
 */
int sfd_seg_index_lookup(struct sfd_log *log, struct sfd_seg *s, int64_t offset,
			 struct sfd_hint *hint)
{
	int64_t want = offset - s->base, n = 0, i;
	struct sfd_idx_ent e;
	struct file_ctx c;
	int err = 0;

	*hint = (struct sfd_hint){ 0, -1 };
	if (sfd_seg_is_active(log, s)) {
		i = bsearch_le(log->act.nidx, want, idx_mem_key, &log->act,
			       &err);
		if (i >= 0)
			*hint = (struct sfd_hint){
				log->act.idx[i].pos,
				s->base + log->act.idx[i].rel
			};
		return 0;
	}
	err = file_ctx_open(log, s, SFD_SEG_INDEX, &c, &n);
	if (err)
		return err == -ENOENT ? 0 : err;
	i = bsearch_le(n, want, idx_file_key, &c, &err);
	if (!err && i >= 0 && !file_entry(&c, i)) {
		sfd_idx_decode(c.ent, &e);
		if (e.pos > 0 && e.pos < s->size)
			*hint = (struct sfd_hint){ e.pos, s->base + e.rel };
	}
	return err == -EBADMSG ? 0 : err;
}

/*
 * The time index entry with the largest timestamp below @ts: every
 * record up to offset *after has a smaller timestamp.  *after is
 * base - 1 when there is none.
 */
int sfd_seg_time_lookup(struct sfd_log *log, struct sfd_seg *s, int64_t ts,
			int64_t *after)
{
	int64_t n = 0, i;
	struct file_ctx c;
	int err = 0;

	*after = s->base - 1;
	if (ts == INT64_MIN)
		return 0; /* nothing is older */
	if (sfd_seg_is_active(log, s)) {
		i = bsearch_le(log->act.ntim, ts - 1, tim_mem_key, &log->act,
			       &err);
		if (i >= 0)
			*after = s->base + log->act.tim[i].rel;
		return 0;
	}
	err = file_ctx_open(log, s, SFD_SEG_TIMEINDEX, &c, &n);
	if (err)
		return err == -ENOENT ? 0 : err;
	i = bsearch_le(n, ts - 1, tim_file_key, &c, &err);
	if (!err && i >= 0 && !file_entry(&c, i)) {
		struct sfd_tim_ent e;

		sfd_tim_decode(c.ent, &e);
		*after = s->base + e.rel;
	}
	return err == -EBADMSG ? 0 : err;
}
