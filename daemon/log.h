/* SPDX-License-Identifier: MIT */
/*
 * log.h - one partition's commit log: segments of Kafka record batches.
 *
 * A log lives in a directory (<data-dir>/<topic>-<partition>/) that holds
 * segments named by their 20-digit base offset:
 *
 *   00000000000000000000.log        record batches back to back
 *   00000000000000000000.index      (relative offset u32, position u32)
 *   00000000000000000000.timeindex  (timestamp i64, relative offset u32)
 *
 * The file formats, the recovery algorithm and what "durable" means are
 * explained at the top of log.c.
 *
 * Offsets.  The log assigns offsets: an appended batch gets base offset =
 * sfd_log_end_offset().  Three watermarks follow each other:
 *
 *   durable <= written <= end
 *
 * end: next offset to assign (everything appended, some only queued in
 * memory); written: everything below is in the file (page cache);
 * durable: everything below survived an fdatasync.
 *
 * Errors.  A write error (-ENOSPC, -EIO...) while writing queued batches
 * leaves them queued: nothing is dropped and nothing is claimed written;
 * sfd_log_flush() retries.  A failed fdatasync is sticky: the kernel may
 * have dropped the dirty pages, so every later append/flush reports the
 * error and the log must be closed and reopened (recovery then sees what
 * really reached the disk).
 *
 * Context: a log is not thread-safe; one thread at a time.
 */
#ifndef SFD_LOG_H
#define SFD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct sfd_uio;
struct sfd_log;

struct sfd_log_config {
	uint32_t size; /* sizeof(struct sfd_log_config) */
	uint64_t segment_bytes; /* roll when a batch would pass this */
	int64_t segment_ms; /* roll a segment this old; 0 = never */
	uint32_t index_interval_bytes; /* log bytes between index entries */
	int64_t retention_bytes; /* keep at most this much; -1 = no limit */
	int64_t retention_ms; /* delete older segments; -1 = never */
	uint32_t max_batch_bytes; /* larger appends fail with -EMSGSIZE */
	uint32_t write_buffer_bytes; /* appends queued before a write */
	uint32_t max_open_segments; /* old segments kept open */
	struct sfd_uio *uio; /* shared io_uring, or NULL for a private one */
	int64_t (*clock_ms)(void *arg); /* wall clock; NULL = CLOCK_REALTIME */
	void *clock_arg;
};

/* What sfd_log_open() found and repaired. */
struct sfd_log_recovery {
	uint32_t segments; /* segments found (0: a new log) */
	uint64_t scan_start; /* where checking the active segment began */
	uint64_t batches_checked; /* batches CRC-checked in the active segment */
	uint64_t bytes_checked;
	uint64_t bytes_truncated; /* torn/corrupt tail cut off the active */
	int64_t truncated_at; /* file position of the cut, -1 if none */
	uint32_t index_entries_dropped; /* active .index: invalid or stale */
	uint32_t index_entries_written; /* active .index: (re)written */
	uint32_t timeindex_entries_dropped;
	uint32_t timeindex_entries_written;
	uint32_t indexes_rebuilt; /* index files rebuilt from the log */
	uint32_t orphans_removed; /* index files without a .log, temp files */
	uint32_t corrupt_segments; /* old segments with a bad batch (kept) */
};

/* Counters since open. */
struct sfd_log_stats {
	uint64_t appended_batches;
	uint64_t appended_bytes;
	uint64_t writes; /* io_uring data write runs */
	uint64_t syncs; /* fdatasyncs of log data */
	uint64_t write_errors; /* failed data writes (reported) */
	uint64_t index_write_errors; /* failed index writes (retried) */
	uint64_t rolls;
	uint64_t segments_deleted;
};

/* Where a batch is; see sfd_log_find(). */
struct sfd_log_loc {
	int64_t segment_base;
	int fd; /* segment .log; valid until the next call on the log */
	uint64_t position; /* of the batch in the segment */
	uint64_t segment_end; /* readable bytes: [position, end) is whole */
	uint32_t size; /* of the batch */
	int64_t base_offset;
	int64_t last_offset;
	int64_t max_timestamp;
};

/**
 * sfd_log_config_init() - fill a configuration with the defaults.
 * @cfg: configuration.
 *
 * segment_bytes 1 GiB, segment_ms 7 days, index_interval_bytes 4096,
 * retention_bytes -1, retention_ms 7 days, max_batch_bytes 8 MiB,
 * write_buffer_bytes 1 MiB, max_open_segments 16.
 *
 * Context: any.
 */
void sfd_log_config_init(struct sfd_log_config *cfg);

/**
 * sfd_log_open() - open or create a partition log and recover it.
 * @dir: the partition directory; created (one level) if missing.
 * @cfg: configuration, or NULL for the defaults.
 * @out: the log (set on success only).
 *
 * Recovery checks the active segment batch by batch (sizes, magic, CRC,
 * offsets) from its last trustworthy index point, cuts a torn or corrupt
 * tail, makes what is left durable and repairs the index files; a missing
 * or damaged index of an older segment is rebuilt.  See
 * sfd_log_recovery_info().
 *
 * Context: process context; blocks on disk I/O.
 * Damaged data never fails the open: it is cut (active segment) or
 * counted (old segments).
 *
 * Return: 0; -EINVAL for a bad configuration; -ENOMEM; or the error of a
 * system call or of io_uring setup.
 */
int sfd_log_open(const char *dir, const struct sfd_log_config *cfg,
		 struct sfd_log **out);

/**
 * sfd_log_close() - flush, close and free; accepts NULL.
 * @log: the log.
 *
 * The log is freed even when the final flush fails; batches that could
 * not be written are then lost (they were never reported durable).
 *
 * Context: process context; blocks.
 * Return: 0, or the error of the final flush.
 */
int sfd_log_close(struct sfd_log *log);

/**
 * sfd_log_append() - append one record batch.
 * @log: the log.
 * @batch: a complete RecordBatch v2; its base offset is ignored.
 * @len: its size; must be exactly one batch.
 * @base_offset: set to the offset given to the batch's first record.
 *
 * Checks the batch (header and CRC, the same check as recovery; records
 * are the producer path's business: sf_rb_validate()), rolls to a new
 * segment if the active one is full or old, and queues the batch: it is
 * copied, so @batch may be reused at once.  Queued batches are
 * written when the buffer fills, when they are read, and by
 * sfd_log_write()/sfd_log_flush().
 *
 * Context: process context; may block on writes and, when rolling, on an
 * fdatasync.
 * Return: 0; -EBADMSG for an invalid batch; -EMSGSIZE if larger than
 * max_batch_bytes; -EOVERFLOW if offsets would overflow; or the error of
 * writing earlier batches or rolling (the batch is then not appended).
 */
int sfd_log_append(struct sfd_log *log, const void *batch, size_t len,
		   int64_t *base_offset);

/**
 * sfd_log_append_built() - sfd_log_append() for a batch this process just
 * built with sf_rb_builder_finish(): its CRC is not computed again (the
 * header is still checked).
 */
int sfd_log_append_built(struct sfd_log *log, const void *batch, size_t len,
			 int64_t *base_offset);

/**
 * sfd_log_write() - write queued batches to the file, without syncing.
 * @log: the log.
 *
 * Afterwards sfd_log_written_offset() == sfd_log_end_offset().
 *
 * Context: process context; blocks.
 * Return: 0, or the write error (the batches stay queued).
 */
int sfd_log_write(struct sfd_log *log);

/**
 * sfd_log_flush() - write queued batches and fdatasync them.
 * @log: the log.
 *
 * Afterwards sfd_log_durable_offset() == sfd_log_end_offset(); the index
 * entries of the now durable batches are then written (not synced).
 *
 * Context: process context; blocks.
 * Return: 0; the write error (batches stay queued, retry later); or a
 * sticky fdatasync error.
 */
int sfd_log_flush(struct sfd_log *log);

/**
 * sfd_log_sync_begin() - prepare an fdatasync the caller runs elsewhere
 * (asynchronously): write the queued batches and say what the sync will
 * cover.
 * @log: the log.
 * @fd: the file to fdatasync (the active segment's); valid until the next
 *      call on @log: hand it to io_uring before.
 * @upto: the offset the sync makes durable (the written offset now).
 *
 * A segment rolled while the sync runs is synced in full by the roll, so
 * the sync of its old file adds nothing and harms nothing.
 * Context: process context; blocks for the write only.
 * Return: 0, or the write error / sticky error.
 */
int sfd_log_sync_begin(struct sfd_log *log, int *fd, int64_t *upto);

/**
 * sfd_log_sync_end() - the sync of sfd_log_sync_begin() completed.
 * @log: the log.
 * @upto: its @upto.
 * @res: its result, 0 or -errno (a failure is sticky, as in
 *       sfd_log_flush()).
 *
 * Moves the durable offset to @upto (if further) and writes the index
 * entries of the batches below it.  A sticky error set meanwhile (by a
 * roll's sync of the same file, which may alone have been told of a
 * writeback error) turns a success into that error.
 * Return: 0, or the error: nothing became durable.
 */
int sfd_log_sync_end(struct sfd_log *log, int64_t upto, int res);

/* The sticky error (a failed fdatasync), or 0. */
int sfd_log_error(const struct sfd_log *log);

/**
 * sfd_log_find() - locate the batch that holds an offset.
 * @log: the log.
 * @offset: wanted offset.
 * @loc: the first batch whose last offset is >= @offset.
 *
 * Binary search in the segment's offset index, then a forward scan of
 * batch headers.  Queued batches are written first if needed.
 *
 * Context: process context; blocks on reads.
 * Return: 0; -ERANGE if @offset is outside [start, end); -EBADMSG if the
 * segment is damaged; or a read/write error.
 */
int sfd_log_find(struct sfd_log *log, int64_t offset, struct sfd_log_loc *loc);

/**
 * sfd_log_read() - copy whole batches starting at the one holding @offset.
 * @log: the log.
 * @offset: wanted offset.
 * @buf: destination.
 * @cap: its size.
 *
 * Copies as many whole batches as fit, from one segment; the next call
 * continues at the offset after the last batch copied.
 *
 * Context: process context; blocks on reads.
 * Return: bytes copied; -EMSGSIZE if the first batch alone is larger than
 * @cap (sfd_log_find() gives its size); or as sfd_log_find().
 */
ssize_t sfd_log_read(struct sfd_log *log, int64_t offset, void *buf,
		     size_t cap);

/**
 * sfd_log_find_time() - first offset whose timestamp is >= @ts.
 * @log: the log.
 * @ts: timestamp, ms.
 * @offset: the offset found.
 *
 * Uses the segments' largest timestamps, then the time index, then the
 * offset index, then the batches.  In a compressed batch the batch's base
 * offset is answered (a reader starting there sees every record whose
 * timestamp is >= @ts).
 *
 * Context: process context; blocks on reads.
 * Return: 0; -ENOENT if no record has such a timestamp; -EBADMSG; or a
 * read/write error.
 */
int sfd_log_find_time(struct sfd_log *log, int64_t ts, int64_t *offset);

/**
 * sfd_log_retain() - apply retention.bytes and retention.ms.
 * @log: the log.
 *
 * Deletes whole segments from the oldest while the log exceeds
 * retention_bytes without them, or their largest timestamp is older than
 * retention_ms; never the active segment.
 *
 * Context: process context; blocks.
 * Return: segments deleted, or -errno.
 */
int sfd_log_retain(struct sfd_log *log);

/**
 * sfd_log_roll() - start a new segment now (if the active one has data).
 * @log: the log.
 *
 * Context: process context; blocks (flushes the active segment).
 * Return: 0, or -errno.
 */
int sfd_log_roll(struct sfd_log *log);

/**
 * sfd_log_start_offset() - first offset still in the log.
 * @log: the log.
 *
 * Context: any (not concurrently with calls that change the log).
 * Return: the base offset of the oldest segment.
 */
int64_t sfd_log_start_offset(const struct sfd_log *log);

/**
 * sfd_log_end_offset() - offset the next appended record will get.
 * @log: the log.
 *
 * Context: as sfd_log_start_offset().
 * Return: the log end offset.
 */
int64_t sfd_log_end_offset(const struct sfd_log *log);

/**
 * sfd_log_written_offset() - everything below is in the segment files.
 * @log: the log.
 *
 * Context: as sfd_log_start_offset().
 * Return: the written offset.
 */
int64_t sfd_log_written_offset(const struct sfd_log *log);

/**
 * sfd_log_durable_offset() - everything below survived an fdatasync.
 * @log: the log.
 *
 * Context: as sfd_log_start_offset().
 * Return: the durable offset.
 */
int64_t sfd_log_durable_offset(const struct sfd_log *log);

/**
 * sfd_log_segment_count() - number of segments.
 * @log: the log.
 *
 * Context: as sfd_log_start_offset().
 * Return: segments, the active one included.
 */
unsigned sfd_log_segment_count(const struct sfd_log *log);

/**
 * sfd_log_segment_base() - base offset of a segment.
 * @log: the log.
 * @i: segment index, 0 = oldest.
 *
 * Context: as sfd_log_start_offset().
 * Return: the base offset, or -1 if @i is out of range.
 */
int64_t sfd_log_segment_base(const struct sfd_log *log, unsigned i);

/**
 * sfd_log_size() - bytes in all segments, queued batches included.
 * @log: the log.
 *
 * Context: as sfd_log_start_offset().
 * Return: the size.
 */
uint64_t sfd_log_size(const struct sfd_log *log);

/**
 * sfd_log_recovery_info() - what sfd_log_open() found and repaired.
 * @log: the log.
 *
 * Context: any.
 * Return: the counters, valid until the log is closed.
 */
const struct sfd_log_recovery *sfd_log_recovery_info(const struct sfd_log *log);

/**
 * sfd_log_recovery_describe() - one line of text for a log message.
 * @r: counters.
 * @buf: destination.
 * @len: its size.
 *
 * Context: any.
 * Return: as snprintf().
 */
int sfd_log_recovery_describe(const struct sfd_log_recovery *r, char *buf,
			      size_t len);

/**
 * sfd_log_get_stats() - counters since open.
 * @log: the log.
 * @st: filled in.
 *
 * Context: as sfd_log_start_offset().
 */
void sfd_log_get_stats(const struct sfd_log *log, struct sfd_log_stats *st);

#endif
