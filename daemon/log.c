// SPDX-License-Identifier: MIT
/*
 * log.c - one partition's commit log.
 *
 * Files
 * -----
 * A partition directory holds segments, each named by the offset of its
 * first record as 20 zero-padded digits.  A segment has three files:
 *
 *  <base>.log        Kafka RecordBatch v2 batches back to back, exactly as
 *                    produced (baseOffset rewritten by the log: it and the
 *                    leader epoch sit before the CRC'd region, so
 *                    assigning offsets never recomputes a CRC).  Offsets
 *                    are dense: each batch's baseOffset is the previous
 *                    batch's last offset + 1, the first one's is <base>.
 *
 *  <base>.index      Sparse offset index, 8-byte big-endian entries
 *                    (relative offset u32, file position u32), as Kafka:
 *                    the relative offset is the batch's *last* offset
 *                    minus <base>, the position is where the batch starts.
 *                    A batch gets an entry when it starts at least
 *                    index_interval_bytes (4 KiB) after the previous entry
 *                    (the segment start counting as one), so lookups read
 *                    at most about 4 KiB of batch headers past an entry.
 *                    Entries strictly increase in both fields.
 *
 *  <base>.timeindex  12-byte entries (timestamp i64, relative offset u32):
 *                    "every record up to this offset has a timestamp <=
 *                    this one".  Written at index points when the largest
 *                    timestamp so far grew; a segment that is rolled gets
 *                    a closing entry with its largest timestamp, so the
 *                    last entry of an old segment is its maximum
 *                    (retention by time and timestamp lookups use it).
 *
 * Relative offsets and positions are 32-bit: a segment rolls before a
 * relative offset would pass INT32_MAX, and segment_bytes is at most
 * INT32_MAX.  The active (last) segment rolls when a batch would take it
 * past segment_bytes, or when it is older than segment_ms (counted from
 * its first append; after a restart from its first batch's timestamp).
 *
 * Writing
 * -------
 * Appends are checked (header and CRC: the same test recovery applies, so
 * the log never writes a batch a later recovery would reject), get their
 * base offset, and are copied into a write buffer.  The buffer is written
 * as one io_uring write when it fills, when a reader needs the data, or on
 * sfd_log_write()/sfd_log_flush(); a flush chains the write and an
 * fdatasync (IOSQE_IO_LINK) into a single submission.  A batch larger than
 * the buffer is written directly from the caller's memory (a chain of
 * two writes: the rewritten 8-byte baseOffset, then the rest).  If a
 * write fails or comes up short, the bytes that made it are accounted for
 * batch by batch, the rest stays queued, and the error goes to the caller;
 * the next write continues where the last one stopped.  The in-memory
 * index covers queued batches too, so lookups see every appended offset.
 *
 * Durable
 * -------
 * An offset is durable when the batch holding it, and every earlier one,
 * reached the disk through an fdatasync of its segment, and the
 * segment's directory entry did too (the directory is fsynced whenever a
 * segment file is created).  sfd_log_durable_offset() is the first offset
 * that is not.  Rolling makes the whole old segment durable first (data,
 * index, time index), so at most the last segment holds data that was
 * never synced; that is why recovery checks the last segment only.
 * Index entries reach their files only after the batches they point to
 * are durable (they are written right after each successful fdatasync),
 * so an index entry found on disk vouches for the data before it.
 *
 * Recovery
 * --------
 * sfd_log_open() lists the <base>.log files, removes index files that
 * have no .log and leftovers of interrupted rebuilds (*.tmp), then:
 *
 *  1. Old segments: the index files must exist, have whole entries, and
 *     their last entry must point inside the segment.  If not, both are
 *     rebuilt from the .log (every CRC checked), written to a temporary
 *     file, synced and renamed into place.  A bad batch inside an old,
 *     durable segment is not cut (it is counted in corrupt_segments): the
 *     data after it in later segments stays reachable.
 *
 *  2. The active segment: the valid prefix of .index is found (entries
 *     increasing, positions inside the file), then of .timeindex
 *     (timestamps increasing, each at an offset the valid index has a
 *     point for).  The last such time index entry names an index point
 *     where the whole index state is known - the entries up to it and the
 *     largest timestamp so far - and since it reached the disk, the data
 *     before it is durable.  Its batch is checked (header, CRC, last
 *     offset as the entry says); if anything is off, checking starts at
 *     position 0 instead.  From there every batch is checked: header
 *     sizes within the file, magic 2, CRC-32C, base offset = previous
 *     last offset + 1.  The first batch that fails, and everything after
 *     it (a torn write, garbage, a corrupted byte), is cut off with
 *     ftruncate().  The file is fdatasynced, then the index files are
 *     compared entry by entry with the entries the checked batches imply,
 *     and cut and rewritten from the first difference (so a missing,
 *     short, stale or out-of-order index comes back right).
 *
 * Everything that was acknowledged durable survives: it lies before the
 * last index entry that made it to disk, or it is a batch with a good
 * CRC that the check accepts.  struct sfd_log_recovery counts what was
 * checked, cut and rewritten.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_int.h"
#include "sf_be.h"
#include "uio.h"

#define MIN_SEGMENT_BYTES 512
#define MIN_WRITE_BUFFER 4096
#define MAX_WRITE_BUFFER (1u << 30)
#define DAY_MS (24LL * 3600 * 1000)

static int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sfd_log_now(const struct sfd_log *log)
{
	if (log->cfg.clock_ms)
		return log->cfg.clock_ms(log->cfg.clock_arg);
	return realtime_ms();
}

/* ---- configuration ------------------------------------------------------ */

void sfd_log_config_init(struct sfd_log_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
	cfg->segment_bytes = 1u << 30;
	cfg->segment_ms = 7 * DAY_MS;
	cfg->index_interval_bytes = 4096;
	cfg->retention_bytes = -1;
	cfg->retention_ms = 7 * DAY_MS;
	cfg->max_batch_bytes = 8u << 20;
	cfg->write_buffer_bytes = 1u << 20;
	cfg->max_open_segments = 16;
}

static int config_check(const struct sfd_log_config *c)
{
	if (c->segment_bytes < MIN_SEGMENT_BYTES ||
	    c->segment_bytes > INT32_MAX || c->segment_ms < 0 ||
	    c->retention_bytes < -1 || c->retention_ms < -1)
		return -EINVAL;
	if (c->max_batch_bytes < SF_RB_HEADER_SIZE ||
	    c->write_buffer_bytes < MIN_WRITE_BUFFER ||
	    c->write_buffer_bytes > MAX_WRITE_BUFFER ||
	    c->max_open_segments < 1)
		return -EINVAL;
	return 0;
}

/* Defaults, overlaid with the fields the caller's struct has. */
static int config_load(struct sfd_log_config *c,
		       const struct sfd_log_config *in)
{
	sfd_log_config_init(c);
	if (!in)
		return 0;
	if (in->size < sizeof(in->size))
		return -EINVAL;
	memcpy(c, in, in->size < sizeof(*c) ? in->size : sizeof(*c));
	c->size = sizeof(*c);
	return config_check(c);
}

/* ---- open and close ----------------------------------------------------- */

static int sync_dir(struct sfd_log *log, int fd)
{
	struct sfd_uio_req req = sfd_uio_sync(fd, SFD_UIO_FSYNC);

	return sfd_uio_run(log->uio, &req, 1);
}

/* Create the partition directory if needed, durably. */
static int make_dir(struct sfd_log *log)
{
	char *copy;
	int fd, ret;

	if (mkdir(log->dir, 0755))
		return errno == EEXIST ? 0 : -errno;
	copy = strdup(log->dir);
	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	ret = sync_dir(log, fd);
	close(fd);
	return ret;
}

static void log_free(struct sfd_log *log)
{
	for (uint32_t i = 0; i < log->nsegs; i++)
		sfd_seg_close(log, &log->segs[i]);
	free(log->segs);
	sfd_build_release(&log->act);
	free(log->stage);
	free(log->scratch);
	free(log->dir);
	if (log->dir_fd >= 0)
		close(log->dir_fd);
	if (log->own_uio)
		sfd_uio_destroy(log->uio);
	free(log);
}

static int log_setup(struct sfd_log *log, const char *dir)
{
	int ret;

	log->dir = strdup(dir);
	log->stage_cap = log->cfg.write_buffer_bytes;
	log->stage = malloc(log->stage_cap);
	log->scratch = malloc(SFD_LOG_SCRATCH);
	if (!log->dir || !log->stage || !log->scratch)
		return -ENOMEM;
	log->uio = log->cfg.uio;
	if (!log->uio) {
		ret = sfd_uio_create(&log->uio);
		if (ret)
			return ret;
		log->own_uio = true;
	}
	ret = make_dir(log);
	if (ret)
		return ret;
	log->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return log->dir_fd < 0 ? -errno : 0;
}

int sfd_log_open(const char *dir, const struct sfd_log_config *cfg,
		 struct sfd_log **out)
{
	struct sfd_log *log = calloc(1, sizeof(*log));
	int ret;

	if (!log)
		return -ENOMEM;
	log->dir_fd = -1;
	ret = config_load(&log->cfg, cfg);
	if (!ret) {
		sfd_build_init(&log->act, 0, log->cfg.index_interval_bytes);
		ret = log_setup(log, dir);
	}
	if (!ret)
		ret = sfd_log_recover(log);
	if (ret) {
		log_free(log);
		return ret;
	}
	*out = log;
	return 0;
}

int sfd_log_close(struct sfd_log *log)
{
	int ret;

	if (!log)
		return 0;
	ret = log->err ? log->err : sfd_log_flush(log);
	log_free(log);
	return ret;
}

/* ---- writing ------------------------------------------------------------ */

static int active_fd(struct sfd_log *log)
{
	return sfd_log_active(log)->fd[SFD_SEG_LOG];
}

/*
 * Move the written watermarks over the batches of the write buffer that
 * are now completely in the file; empty the buffer once all of it is.
 */
static void stage_advance(struct sfd_log *log)
{
	struct sf_rb_hdr h;

	while (log->stage_walked < log->stage_done &&
	       !sf_rb_parse_header(log->stage + log->stage_walked,
				   log->stage_len - log->stage_walked, &h) &&
	       sf_rb_size(&h) <= log->stage_done - log->stage_walked) {
		log->stage_walked += sf_rb_size(&h);
		log->written_size = log->stage_pos + log->stage_walked;
		log->written_next = h.base_offset + h.last_offset_delta + 1;
	}
	if (log->stage_done == log->stage_len) {
		log->stage_pos += log->stage_len;
		log->stage_len = log->stage_done = log->stage_walked = 0;
	}
}

/* Write the queued batches; with @sync, fdatasync the segment after. */
static int stage_flush(struct sfd_log *log, bool sync)
{
	struct sfd_uio_req reqs[2];
	unsigned n = 0;
	int ret;

	if (log->stage_done < log->stage_len)
		reqs[n++] = sfd_uio_write(active_fd(log),
					  log->stage + log->stage_done,
					  log->stage_len - log->stage_done,
					  log->stage_pos + log->stage_done);
	if (sync)
		reqs[n++] = sfd_uio_sync(active_fd(log), SFD_UIO_FDATASYNC);
	if (!n)
		return 0;
	ret = sfd_uio_run(log->uio, reqs, n);
	if (reqs[0].op == SFD_UIO_WRITE) {
		log->st.writes++;
		log->stage_done += reqs[0].done;
		stage_advance(log);
		if (reqs[0].res) {
			log->st.write_errors++;
			return reqs[0].res; /* the rest stays queued */
		}
	}
	if (ret)
		return log->err = ret; /* fdatasync failed: sticky */
	if (sync) {
		log->st.syncs++;
		log->durable_next = log->written_next;
	}
	return 0;
}

/* Index entries from @from on that point below durable_next: the end. */
static uint32_t idx_durable(const struct sfd_log *log, uint32_t from)
{
	const struct sfd_build *b = &log->act;

	while (from < b->nidx && b->base + b->idx[from].rel < log->durable_next)
		from++;
	return from;
}

static uint32_t tim_durable(const struct sfd_log *log, uint32_t from)
{
	const struct sfd_build *b = &log->act;

	while (from < b->ntim && b->base + b->tim[from].rel < log->durable_next)
		from++;
	return from;
}

/*
 * Write the index entries of durable batches that are not in the files
 * (an asynchronous sync covers only what was written when it started).
 */
static void index_catch_up(struct sfd_log *log)
{
	struct sfd_seg *s = sfd_log_active(log);
	struct sfd_build *b = &log->act;
	uint32_t ni = idx_durable(log, log->idx_disk);
	uint32_t nt = tim_durable(log, log->tim_disk);

	if (log->idx_disk < ni &&
	    sfd_idx_write(log, s->fd[SFD_SEG_INDEX], b->idx, log->idx_disk, ni,
			  &log->idx_disk))
		log->st.index_write_errors++;
	if (log->tim_disk < nt &&
	    sfd_tim_write(log, s->fd[SFD_SEG_TIMEINDEX], b->tim, log->tim_disk,
			  nt, &log->tim_disk))
		log->st.index_write_errors++;
}

int sfd_log_write(struct sfd_log *log)
{
	if (log->err)
		return log->err;
	return stage_flush(log, false);
}

int sfd_log_sync_begin(struct sfd_log *log, int *fd, int64_t *upto)
{
	int ret;

	if (log->err)
		return log->err;
	ret = stage_flush(log, false);
	if (ret)
		return ret;
	*fd = active_fd(log);
	*upto = log->written_next;
	return 0;
}

int sfd_log_sync_end(struct sfd_log *log, int64_t upto, int res)
{
	/*
	 * A sync failed meanwhile (a roll's, in line): its writeback error
	 * may have been reported to that one alone, so this success proves
	 * nothing.
	 */
	if (!res && log->err)
		res = log->err;
	if (res) {
		if (!log->err)
			log->err = res; /* as a failed flush: sticky */
		return res;
	}
	log->st.syncs++;
	if (upto > log->durable_next)
		log->durable_next = upto;
	index_catch_up(log);
	return 0;
}

int sfd_log_error(const struct sfd_log *log)
{
	return log->err;
}

int sfd_log_flush(struct sfd_log *log)
{
	int ret;

	if (log->err)
		return log->err;
	if (log->durable_next != log->act.next) {
		ret = stage_flush(log, true);
		if (ret)
			return ret;
	}
	index_catch_up(log);
	return 0;
}

/* Write a batch too large for the buffer straight from the caller. */
static int write_direct(struct sfd_log *log, const uint8_t *batch, size_t len,
			int64_t base, int64_t last)
{
	uint64_t pos = log->act.size; /* the buffer is empty */
	uint8_t head[8];
	struct sfd_uio_req reqs[2];
	int ret;

	sf_put_be64(head, (uint64_t)base);
	reqs[0] = sfd_uio_write(active_fd(log), head, sizeof(head), pos);
	reqs[1] = sfd_uio_write(active_fd(log), batch + sizeof(head),
				len - sizeof(head), pos + sizeof(head));
	ret = sfd_uio_run(log->uio, reqs, 2);
	log->st.writes++;
	if (ret) {
		log->st.write_errors++;
		return ret; /* a partial batch past written_size is harmless */
	}
	log->written_size = log->stage_pos = pos + len;
	log->written_next = last + 1;
	return 0;
}

static int queue_batch(struct sfd_log *log, const void *batch, size_t len,
		       int64_t base, int64_t last)
{
	int ret;

	if (len > log->stage_cap - log->stage_len) {
		ret = stage_flush(log, false);
		if (ret)
			return ret;
	}
	if (len > log->stage_cap)
		return write_direct(log, batch, len, base, last);
	memcpy(log->stage + log->stage_len, batch, len);
	sf_rb_set_base_offset(log->stage + log->stage_len, base);
	log->stage_len += len;
	return 0;
}

/* Close the active segment's index files: complete, with a seal entry. */
static void seal_active(struct sfd_log *log)
{
	struct sfd_seg *s = sfd_log_active(log);
	struct sfd_uio_req reqs[2] = {
		sfd_uio_sync(s->fd[SFD_SEG_INDEX], SFD_UIO_FDATASYNC),
		sfd_uio_sync(s->fd[SFD_SEG_TIMEINDEX], SFD_UIO_FDATASYNC),
	};
	uint64_t errs = log->st.index_write_errors;

	if (sfd_build_seal(&log->act))
		log->st.index_write_errors++;
	index_catch_up(log);
	if (errs == log->st.index_write_errors &&
	    !sfd_uio_run(log->uio, reqs, 2))
		return;
	/*
	 * Leave no doubtful index behind: the next open rebuilds it.  The
	 * open descriptors keep the unlinked files for this process, whose
	 * entries are still a correct (if short) index.
	 */
	log->st.index_write_errors++;
	for (int f = SFD_SEG_INDEX; f <= SFD_SEG_TIMEINDEX; f++) {
		char name[SFD_SEG_NAME_MAX];

		sfd_seg_name(name, s->base, f, false);
		unlinkat(log->dir_fd, name, 0);
	}
}

static int do_roll(struct sfd_log *log)
{
	struct sfd_seg *old;
	int ret = sfd_log_flush(log);

	if (ret)
		return ret;
	seal_active(log);
	ret = sfd_seg_create(log, log->act.next);
	if (ret)
		return ret;
	old = &log->segs[log->nsegs - 2];
	old->size = log->act.size;
	old->max_ts = log->act.max_ts;
	sfd_seg_demoted(log, old);
	sfd_build_clear(&log->act, log->act.next);
	log->idx_disk = log->tim_disk = 0;
	log->stage_pos = log->written_size = 0;
	log->roll_start_ms = sfd_log_now(log);
	log->st.rolls++;
	return 0;
}

static int maybe_roll(struct sfd_log *log, size_t len, int64_t last)
{
	const struct sfd_log_config *c = &log->cfg;
	const struct sfd_build *b = &log->act;

	if (b->size == 0)
		return 0;
	if (b->size + len > c->segment_bytes ||
	    last - b->base > SFD_SEG_MAX_REL ||
	    (c->segment_ms > 0 &&
	     sfd_log_now(log) - log->roll_start_ms >= c->segment_ms))
		return do_roll(log);
	return 0;
}

int sfd_log_roll(struct sfd_log *log)
{
	if (log->err)
		return log->err;
	return log->act.size ? do_roll(log) : 0;
}

/* Check a batch to append: header and CRC, or (@built) the header only. */
static int check_batch(const void *batch, size_t len, bool built,
		       struct sf_rb_hdr *h)
{
	int err = built ? sf_rb_parse_header(batch, len, h) :
			  sf_rb_check(batch, len, h);

	return err || sf_rb_size(h) != len ? -EBADMSG : 0;
}

static int append(struct sfd_log *log, const void *batch, size_t len,
		  bool built, int64_t *base_offset)
{
	struct sf_rb_hdr h;
	int64_t base = log->act.next, last;
	int ret;

	if (log->err)
		return log->err;
	if (len > log->cfg.max_batch_bytes)
		return -EMSGSIZE;
	if (check_batch(batch, len, built, &h))
		return -EBADMSG;
	if (__builtin_add_overflow(base, h.last_offset_delta, &last) ||
	    last == INT64_MAX)
		return -EOVERFLOW;
	ret = maybe_roll(log, len, last);
	if (!ret)
		ret = sfd_build_reserve(&log->act);
	if (!ret)
		ret = queue_batch(log, batch, len, base, last);
	if (ret)
		return ret;
	if (log->act.size == 0)
		log->roll_start_ms = sfd_log_now(log);
	h.base_offset = base;
	sfd_build_add(&log->act, &h, log->act.size);
	log->st.appended_batches++;
	log->st.appended_bytes += len;
	*base_offset = base;
	return 0;
}

int sfd_log_append(struct sfd_log *log, const void *batch, size_t len,
		   int64_t *base_offset)
{
	return append(log, batch, len, false, base_offset);
}

int sfd_log_append_built(struct sfd_log *log, const void *batch, size_t len,
			 int64_t *base_offset)
{
	return append(log, batch, len, true, base_offset);
}

/* ---- retention ---------------------------------------------------------- */

/* Largest timestamp of a segment; the file time if it has none. */
static int64_t seg_time(struct sfd_log *log, const struct sfd_seg *s)
{
	char name[SFD_SEG_NAME_MAX];
	struct stat st;

	if (s->max_ts >= 0)
		return s->max_ts;
	sfd_seg_name(name, s->base, SFD_SEG_LOG, false);
	if (fstatat(log->dir_fd, name, &st, 0))
		return sfd_log_now(log); /* unknown: not expired */
	return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

static bool seg_expired(struct sfd_log *log, const struct sfd_seg *s,
			int64_t now)
{
	const struct sfd_log_config *c = &log->cfg;

	if (c->retention_bytes >= 0 &&
	    sfd_log_size(log) - s->size >= (uint64_t)c->retention_bytes)
		return true;
	return c->retention_ms >= 0 && now - seg_time(log, s) > c->retention_ms;
}

static int delete_oldest(struct sfd_log *log)
{
	struct sfd_seg *s = &log->segs[0];
	int ret;

	sfd_seg_close(log, s);
	ret = sfd_seg_unlink(log, s->base);
	if (ret)
		return ret;
	memmove(s, s + 1, (log->nsegs - 1) * sizeof(*s));
	log->nsegs--;
	log->st.segments_deleted++;
	return 0;
}

int sfd_log_retain(struct sfd_log *log)
{
	int64_t now = sfd_log_now(log);
	int n = 0, ret;

	while (log->nsegs > 1 && seg_expired(log, &log->segs[0], now)) {
		ret = delete_oldest(log);
		if (ret)
			return ret;
		n++;
	}
	return n;
}

/* ---- queries ------------------------------------------------------------ */

int64_t sfd_log_start_offset(const struct sfd_log *log)
{
	return log->segs[0].base;
}

int64_t sfd_log_end_offset(const struct sfd_log *log)
{
	return log->act.next;
}

int64_t sfd_log_written_offset(const struct sfd_log *log)
{
	return log->written_next;
}

int64_t sfd_log_durable_offset(const struct sfd_log *log)
{
	return log->durable_next;
}

unsigned sfd_log_segment_count(const struct sfd_log *log)
{
	return log->nsegs;
}

int64_t sfd_log_segment_base(const struct sfd_log *log, unsigned i)
{
	return i < log->nsegs ? log->segs[i].base : -1;
}

uint64_t sfd_log_size(const struct sfd_log *log)
{
	uint64_t n = log->act.size;

	for (uint32_t i = 0; i + 1 < log->nsegs; i++)
		n += log->segs[i].size;
	return n;
}

const struct sfd_log_recovery *sfd_log_recovery_info(const struct sfd_log *log)
{
	return &log->rec;
}

int sfd_log_recovery_describe(const struct sfd_log_recovery *r, char *buf,
			      size_t len)
{
	return snprintf(buf, len,
			"%u segments; checked %llu batches (%llu bytes) from "
			"position %llu; cut %llu bytes at %lld; index entries "
			"dropped %u, written %u; time index entries dropped "
			"%u, written %u; %u index files rebuilt; %u stray "
			"files removed; %u damaged old segments",
			r->segments, (unsigned long long)r->batches_checked,
			(unsigned long long)r->bytes_checked,
			(unsigned long long)r->scan_start,
			(unsigned long long)r->bytes_truncated,
			(long long)r->truncated_at, r->index_entries_dropped,
			r->index_entries_written, r->timeindex_entries_dropped,
			r->timeindex_entries_written, r->indexes_rebuilt,
			r->orphans_removed, r->corrupt_segments);
}

void sfd_log_get_stats(const struct sfd_log *log, struct sfd_log_stats *st)
{
	*st = log->st;
}
