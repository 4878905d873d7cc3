// SPDX-License-Identifier: MIT
/*
 * log_read.c - finding batches by offset and by timestamp.
 *
 * By offset: the segment is found by binary search over the in-memory
 * list of base offsets, the start position by binary search in the
 * segment's offset index (in memory for the active segment, pread() of
 * 8-byte entries for old ones), then batch headers are scanned forward.
 * Everything read from a file is checked before use; an index entry is
 * only a hint: the batch it points at must end at the entry's offset (at
 * position 0, start at the segment base), offsets must increase along the
 * scan, and a scan that fails from a hinted position is retried from the
 * segment start.  Reads do not check CRCs: consumers do, and recovery did
 * for the part of the log that was not synced.
 */
#include <errno.h>
#include <stdlib.h>

#include "log_int.h"

/* Enough for the headers past an index entry (about one interval). */
#define READ_WINDOW (16u << 10)

_Static_assert(READ_WINDOW <= SFD_LOG_SCRATCH, "the window is the scratch");

/* Index of the segment that holds @offset: the last base <= offset. */
static uint32_t seg_find(const struct sfd_log *log, int64_t offset)
{
	uint32_t lo = 0, hi = log->nsegs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (log->segs[mid].base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? lo - 1 : 0;
}

static void loc_fill(struct sfd_log_loc *loc, const struct sfd_seg *s,
		     const struct sfd_scan *sc, const struct sf_rb_hdr *h)
{
	loc->segment_base = s->base;
	loc->fd = sc->fd;
	loc->size = (uint32_t)sf_rb_size(h);
	loc->position = sc->pos - loc->size;
	loc->segment_end = sc->limit;
	loc->base_offset = h->base_offset;
	loc->last_offset = h->base_offset + h->last_offset_delta;
	loc->max_timestamp = h->max_timestamp;
}

/*
 * Is @h the batch the scan expects next?  The first one must match the
 * hint; after that, offsets must keep increasing.
 */
static bool batch_expected(const struct sfd_seg *s, const struct sfd_hint *at,
			   int64_t prev_last, const struct sf_rb_hdr *h)
{
	if (prev_last >= 0)
		return h->base_offset > prev_last;
	if (at->last >= 0)
		return h->base_offset + h->last_offset_delta == at->last;
	return h->base_offset == s->base;
}

/*
 * Scan @s from @at for the first batch whose last offset is >= @offset
 * (@offset < 0: whose max timestamp is >= @ts).  @last: last offset of
 * the batch before @at->pos if known (the scan continues), else -1.
 * Return: 1 found, 0 not in this segment, -errno.
 */
static int scan_seg(struct sfd_log *log, struct sfd_seg *s,
		    const struct sfd_hint *at, int64_t last, int64_t offset,
		    int64_t ts, struct sfd_log_loc *loc)
{
	int fd = sfd_seg_fd(log, s, SFD_SEG_LOG), ret;
	struct sfd_scan sc;
	struct sf_rb_hdr h;

	if (fd < 0)
		return fd;
	sfd_scan_init_buf(&sc, fd, at->pos, sfd_seg_limit(log, s), log->scratch,
			  READ_WINDOW);
	while ((ret = sfd_scan_next(&sc, &h)) == 1) {
		if (!batch_expected(s, at, last, &h)) {
			ret = -EBADMSG;
			break;
		}
		last = h.base_offset + h.last_offset_delta;
		if (offset >= 0 ? last >= offset : h.max_timestamp >= ts) {
			loc_fill(loc, s, &sc, &h);
			break;
		}
	}
	sfd_scan_release(&sc);
	return ret;
}

/* As scan_seg(), falling back to the segment start if the hint fails. */
static int scan_hinted(struct sfd_log *log, struct sfd_seg *s,
		       const struct sfd_hint *at, int64_t offset, int64_t ts,
		       struct sfd_log_loc *loc)
{
	static const struct sfd_hint start = { 0, -1 };
	int ret = scan_seg(log, s, at, -1, offset, ts, loc);

	if (ret == -EBADMSG && at->pos)
		ret = scan_seg(log, s, &start, -1, offset, ts, loc);
	return ret;
}

static int range_check(struct sfd_log *log, int64_t offset)
{
	if (offset < sfd_log_start_offset(log) || offset >= log->act.next)
		return -ERANGE;
	if (offset >= log->written_next)
		return sfd_log_write(log); /* it is still queued */
	return 0;
}

int sfd_log_find(struct sfd_log *log, int64_t offset, struct sfd_log_loc *loc)
{
	static const struct sfd_hint start = { 0, -1 };
	uint32_t i = seg_find(log, offset);
	struct sfd_hint at = start;
	int ret = range_check(log, offset);

	if (!ret)
		ret = sfd_seg_index_lookup(log, &log->segs[i], offset, &at);
	for (; !ret && i < log->nsegs; i++, at = start)
		ret = scan_hinted(log, &log->segs[i], &at, offset, 0, loc);
	if (ret == 1)
		return 0;
	return ret ? ret : -EBADMSG; /* below the end, yet nowhere */
}

/* Whole batches at the start of @buf; -EBADMSG if a header is bad. */
static ssize_t whole_batches(const uint8_t *buf, size_t len)
{
	struct sf_rb_hdr h;
	size_t n = 0;

	while (len - n >= SF_RB_HEADER_SIZE) {
		if (sf_rb_parse_header(buf + n, len - n, &h))
			return n ? (ssize_t)n : -EBADMSG;
		if (sf_rb_size(&h) > len - n)
			break;
		n += sf_rb_size(&h);
	}
	return n ? (ssize_t)n : -EBADMSG;
}

ssize_t sfd_log_read(struct sfd_log *log, int64_t offset, void *buf, size_t cap)
{
	struct sfd_log_loc loc;
	uint64_t want;
	ssize_t got;
	int ret = sfd_log_find(log, offset, &loc);

	if (ret)
		return ret;
	if (loc.size > cap)
		return -EMSGSIZE;
	want = loc.segment_end - loc.position;
	if (want > cap)
		want = cap;
	if (want > INT32_MAX)
		want = INT32_MAX;
	got = sfd_pread_all(loc.fd, buf, (size_t)want, loc.position);
	if (got < 0)
		return got;
	return whole_batches(buf, (size_t)got);
}

/* First record of the batch at @loc with a timestamp >= @ts. */
static int batch_first_ts(const struct sfd_log_loc *loc, int64_t ts,
			  int64_t *offset)
{
	uint8_t *buf = malloc(loc->size);
	struct sf_rb_iter it;
	struct sf_rb_record rec;
	int ret = buf ? 0 : -ENOMEM;

	if (!ret && sfd_pread_all(loc->fd, buf, loc->size, loc->position) !=
			    (ssize_t)loc->size)
		ret = -EBADMSG;
	if (!ret)
		ret = sf_rb_iter_init(&it, buf, loc->size);
	while (!ret) {
		ret = sf_rb_iter_next(&it, &rec);
		if (ret == 1 && rec.timestamp >= ts)
			*offset = rec.offset;
		else if (ret == 1)
			ret = 0; /* next record */
		else if (ret == 0)
			break; /* none in this batch */
	}
	if (ret == -EOPNOTSUPP) { /* compressed: start at the batch */
		*offset = loc->base_offset;
		ret = 1;
	}
	free(buf);
	return ret;
}

static int64_t seg_max_ts(struct sfd_log *log, const struct sfd_seg *s)
{
	return sfd_seg_is_active(log, s) ? log->act.max_ts : s->max_ts;
}

/* Search one segment; 1 found, 0 not there, -errno. */
static int time_in_seg(struct sfd_log *log, struct sfd_seg *s, int64_t ts,
		       int64_t *offset)
{
	struct sfd_hint at = { 0, -1 };
	struct sfd_log_loc loc;
	int64_t after;
	int ret = sfd_seg_time_lookup(log, s, ts, &after);

	if (!ret)
		ret = sfd_seg_index_lookup(log, s, after + 1, &at);
	if (!ret)
		ret = scan_hinted(log, s, &at, -1, ts, &loc);
	while (ret == 1) {
		ret = batch_first_ts(&loc, ts, offset);
		if (ret)
			break;
		/* The header's maximum was not in the records: go on. */
		at = (struct sfd_hint){ loc.position + loc.size, -1 };
		ret = scan_seg(log, s, &at, loc.last_offset, -1, ts, &loc);
	}
	return ret;
}

int sfd_log_find_time(struct sfd_log *log, int64_t ts, int64_t *offset)
{
	int ret = sfd_log_write(log);

	for (uint32_t i = 0; !ret && i < log->nsegs; i++)
		if (seg_max_ts(log, &log->segs[i]) >= ts)
			ret = time_in_seg(log, &log->segs[i], ts, offset);
	if (ret == 1)
		return 0;
	return ret ? ret : -ENOENT;
}
