/* SPDX-License-Identifier: MIT */
/*
 * log_int.h - internals shared by log.c, log_seg.c, log_scan.c,
 * log_recover.c and log_read.c.  Not for other modules.
 */
#ifndef SFD_LOG_INT_H
#define SFD_LOG_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "recordbatch.h"

#define SFD_IDX_ENTRY_SIZE 8 /* rel offset u32, position u32 */
#define SFD_TIM_ENTRY_SIZE 12 /* timestamp i64, rel offset u32 */
#define SFD_SEG_NAME_MAX 40 /* 20 digits + ".timeindex.tmp" + NUL */
#define SFD_SEG_MAX_REL INT32_MAX /* roll before relative offsets pass it */

enum sfd_seg_file {
	SFD_SEG_LOG,
	SFD_SEG_INDEX,
	SFD_SEG_TIMEINDEX,
};

struct sfd_idx_ent {
	uint32_t rel; /* last offset of the batch - segment base */
	uint32_t pos; /* file position of the batch */
};

struct sfd_tim_ent {
	int64_t ts; /* largest timestamp up to and including rel */
	uint32_t rel;
};

/*
 * The index state of one segment as batches are added in order.  The
 * same function (sfd_build_add()) serves appends, the recovery scan and
 * index rebuilds, so an index rebuilt from the log is identical to the
 * one written while appending.
 */
struct sfd_build {
	int64_t base; /* segment base offset */
	uint32_t interval; /* index interval bytes */
	struct sfd_idx_ent *idx;
	uint32_t nidx, idx_cap;
	struct sfd_tim_ent *tim;
	uint32_t ntim, tim_cap;
	int64_t next; /* next offset */
	uint64_t size; /* bytes of batches added */
	uint64_t last_idx_pos; /* position of the last index point, 0 */
	int64_t max_ts; /* largest batch max timestamp, -1 */
	int64_t first_ts; /* max timestamp of the first batch, -1 */
};

struct sfd_seg {
	int64_t base;
	uint64_t size; /* old segments: bytes in the .log */
	int64_t max_ts; /* old segments: largest timestamp, -1 */
	int fd[3]; /* enum sfd_seg_file; -1 when closed */
	uint64_t used; /* last use, for closing the least recent */
};

struct sfd_log {
	struct sfd_log_config cfg;
	char *dir;
	int dir_fd;
	struct sfd_uio *uio;
	bool own_uio;
	int err; /* sticky fdatasync error */

	struct sfd_seg *segs; /* oldest first; the last one is active */
	uint32_t nsegs, segs_cap;
	uint32_t nopen; /* old segments with open files */
	uint64_t tick;

	struct sfd_build act; /* the active segment, queued batches included */
	uint32_t idx_disk, tim_disk; /* entries in the active's index files */
	int64_t roll_start_ms;

	uint8_t *stage; /* queued batches, back to back */
	size_t stage_cap, stage_len, stage_done, stage_walked;
	uint64_t stage_pos; /* file position of stage[0] */
	uint64_t written_size; /* complete batches in the active file */
	int64_t written_next;
	int64_t durable_next;
	uint8_t *scratch; /* SFD_LOG_SCRATCH bytes: index entries, reads */

	struct sfd_log_recovery rec;
	struct sfd_log_stats st;
};

#define SFD_LOG_SCRATCH (64u << 10)

static inline struct sfd_seg *sfd_log_active(struct sfd_log *log)
{
	return &log->segs[log->nsegs - 1];
}

static inline bool sfd_seg_is_active(const struct sfd_log *log,
				     const struct sfd_seg *s)
{
	return s == &log->segs[log->nsegs - 1];
}

/* Readable bytes of a segment: the active one only up to what is written. */
static inline uint64_t sfd_seg_limit(const struct sfd_log *log,
				     const struct sfd_seg *s)
{
	return sfd_seg_is_active(log, s) ? log->written_size : s->size;
}

int64_t sfd_log_now(const struct sfd_log *log);

/* ---- log_seg.c: segment files, index state -------------------------- */

void sfd_seg_name(char *buf, int64_t base, enum sfd_seg_file f, bool tmp);
void sfd_seg_init(struct sfd_seg *s, int64_t base);
int sfd_seg_create(struct sfd_log *log, int64_t base);
int sfd_seg_fd(struct sfd_log *log, struct sfd_seg *s, enum sfd_seg_file f);
void sfd_seg_close(struct sfd_log *log, struct sfd_seg *s);
void sfd_seg_demoted(struct sfd_log *log, struct sfd_seg *s);
int sfd_seg_unlink(struct sfd_log *log, int64_t base);
int sfd_seg_push(struct sfd_log *log, int64_t base);

void sfd_build_init(struct sfd_build *b, int64_t base, uint32_t interval);
void sfd_build_release(struct sfd_build *b);
void sfd_build_clear(struct sfd_build *b, int64_t base);
int sfd_build_reserve(struct sfd_build *b);
void sfd_build_add(struct sfd_build *b, const struct sf_rb_hdr *h,
		   uint64_t pos);
int sfd_build_seal(struct sfd_build *b);
int64_t sfd_build_tim_ts(const struct sfd_build *b);

size_t sfd_idx_encode(uint8_t *p, const struct sfd_idx_ent *e, size_t n);
size_t sfd_tim_encode(uint8_t *p, const struct sfd_tim_ent *e, size_t n);
void sfd_idx_decode(const uint8_t *p, struct sfd_idx_ent *e);
void sfd_tim_decode(const uint8_t *p, struct sfd_tim_ent *e);
int sfd_idx_write(struct sfd_log *log, int fd, const struct sfd_idx_ent *e,
		  uint32_t from, uint32_t to, uint32_t *done);
int sfd_tim_write(struct sfd_log *log, int fd, const struct sfd_tim_ent *e,
		  uint32_t from, uint32_t to, uint32_t *done);
/*
 * Where a scan for an offset starts: a position, and what the batch there
 * must be - its last offset as the index entry says, or (at position 0)
 * a batch starting at the segment base.  An index is only a hint.
 */
struct sfd_hint {
	uint64_t pos;
	int64_t last; /* -1: none, the batch must start at the base */
};

int sfd_seg_index_lookup(struct sfd_log *log, struct sfd_seg *s, int64_t offset,
			 struct sfd_hint *hint);
int sfd_seg_time_lookup(struct sfd_log *log, struct sfd_seg *s, int64_t ts,
			int64_t *after);

/* ---- log_scan.c: reading batches from a segment file ----------------- */

struct sfd_scan {
	int fd;
	uint64_t pos; /* next batch */
	uint64_t limit; /* end of the data */
	bool crc; /* check CRCs */
	bool own_buf;
	uint8_t *buf;
	size_t cap;
	uint64_t win_off; /* file range held in buf */
	size_t win_len;
};

int sfd_scan_init(struct sfd_scan *s, int fd, uint64_t pos, uint64_t limit,
		  size_t cap, bool crc);
void sfd_scan_init_buf(struct sfd_scan *s, int fd, uint64_t pos, uint64_t limit,
		       uint8_t *buf, size_t cap);
void sfd_scan_release(struct sfd_scan *s);
int sfd_scan_next(struct sfd_scan *s, struct sf_rb_hdr *h);
ssize_t sfd_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* ---- log_recover.c -------------------------------------------------- */

int sfd_log_recover(struct sfd_log *log);

#endif
