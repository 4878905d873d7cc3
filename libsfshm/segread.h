/* SPDX-License-Identifier: MIT */
/*
 * segread.h - read a partition's commit log from its segment files.
 *
 * A consumer that fell behind its ring window reads what sfshmd persisted:
 * the partition directory <data-dir>/<topic>-<p>/ and its segments
 * <base>.log (Kafka RecordBatch v2 batches back to back, <base> the first
 * offset as 20 digits), <base>.index (sparse offset index) and
 * <base>.timeindex, as written by daemon/log.c (whose top comment
 * describes the formats).  The reader only reads: it never writes,
 * locks or repairs anything, and trusts nothing it reads - every length
 * is checked against the file, every batch against its CRC-32C, and
 * offsets must follow each other densely.
 *
 * Reading runs concurrently with the daemon appending, rolling to new
 * segments and deleting old ones (retention):
 *
 *  - At the end of the newest segment, an incomplete batch, or bad bytes
 *    (a batch whose CRC does not match yet, or no batch at all) with no
 *    valid batch after them, are a write in progress or a torn tail
 *    (which the daemon cuts when it restarts): "nothing more yet".  A bad
 *    batch with a valid one after it is corruption.
 *  - When the current segment ends and a newer one exists, the daemon has
 *    finished the current one: reading moves on to the newer one, which
 *    must start at the next offset.
 *  - A segment deleted while it is being read stays readable through its
 *    open descriptor (as Kafka keeps a deleted segment around for reads
 *    in flight); only when the reader must open a segment that is gone,
 *    and its position is below the new log start, does it fail with
 *    -ERANGE.
 *
 * Not supported yet: compressed batches (gzip, snappy, lz4, zstd) make
 * sf_seg_next() fail with -EPROTONOSUPPORT when a record they hold is
 * needed; batches entirely below the position are skipped as usual.
 * Control batches (transaction markers) are skipped, as Kafka's consumer
 * hides them.
 *
 * Errors are -errno: -ENOENT (no such directory, or it was deleted),
 * -EACCES, -ERANGE (offset below the log start: removed by retention),
 * -EBADMSG (corrupt data in a file), -EPROTONOSUPPORT (compressed
 * batch), -ENOMEM, or the error of a system call.
 *
 * Context: a reader belongs to one thread at a time; calls block on disk
 * reads (page cache, usually).  Any number of readers may read the same
 * directory, in any number of processes.
 */
#ifndef SF_SEGREAD_H
#define SF_SEGREAD_H

#include <stddef.h>
#include <stdint.h>

#include "recordbatch.h"

struct sf_segreader;

/**
 * struct sf_seg_rec - a record read from the log (a view).
 * @offset:       its offset.
 * @timestamp:    ms since the epoch (the batch's, with log-append time).
 * @key:          key bytes; NULL with @key_len -1 for a null key.
 * @value:        value bytes; NULL with @value_len -1 for a null value.
 * @key_len:      key length, or -1.
 * @value_len:    value length, or -1.
 * @header_count: number of headers.
 * @headers:      the headers as Kafka encodes them (see recordbatch.h);
 *                decode with sf_seg_headers_begin() and
 *                sf_rb_headers_next().
 * @headers_len:  bytes at @headers.
 *
 * Every pointer is valid until the next call on the reader.
 */
struct sf_seg_rec {
	int64_t offset;
	int64_t timestamp;
	const void *key;
	const void *value;
	int32_t key_len;
	int32_t value_len;
	uint32_t header_count;
	const uint8_t *headers;
	size_t headers_len;
};

/**
 * sf_seg_open() - open a partition directory for reading.
 * @dir: the partition directory (<data-dir>/<topic>-<p>).
 * @out: the reader (set on success only).
 *
 * The reader starts at the log start offset (0 for a directory without
 * segments yet).  Files are opened when they are needed.
 *
 * Context: blocks on the directory listing.
 * Return: 0; -ENOENT, -ENOTDIR, -EACCES (the directory cannot be listed);
 * -ENOMEM.
 */
int sf_seg_open(const char *dir, struct sf_segreader **out);

/**
 * sf_seg_close() - close a reader and free it.
 * @sr: the reader, or NULL.
 *
 * Context: any.
 */
void sf_seg_close(struct sf_segreader *sr);

/**
 * sf_seg_seek() - move to an offset.
 * @sr:     the reader.
 * @offset: the offset of the next record to read (>= 0).  It may be past
 *          the end of the log: sf_seg_next() then waits for it.
 *
 * Lists the directory, finds the segment that holds @offset, and its
 * batch through the segment's .index (binary search; the entry is only a
 * hint, checked against the batch it points to, and a missing or bad
 * index costs a scan of batch headers from the segment start).  The
 * first sf_seg_next() skips the records of that batch below @offset.
 * On failure the reader's position is unchanged.
 *
 * Context: blocks on reads.
 * Return: 0; -EINVAL for a negative @offset; -ERANGE if @offset is below
 * the log start (removed by retention); -ENOENT; -EACCES; -ENOMEM.
 */
int sf_seg_seek(struct sf_segreader *sr, int64_t offset);

/**
 * sf_seg_next() - read the next record.
 * @sr:  the reader.
 * @rec: the record (filled when 1 is returned); valid until the next call.
 *
 * Reads whole batches with pread(), checks each one's CRC, and moves on to
 * the next segment when the current one is finished.  An error leaves the
 * position where it was: calling again gives the same answer until the
 * cause goes away or sf_seg_seek() moves past it.
 *
 * Context: blocks on reads; never waits for data.
 * Return: 1 with a record; 0 when nothing more is readable yet (the end
 * of the log, a write in progress, a torn tail); -EBADMSG for corrupt data
 * (a bad batch followed by valid data, damage in a finished segment,
 * segments whose offsets do not follow each other, a file cut below the
 * position); -ERANGE if the segment the position needed was deleted and
 * the position is now below the log start; -EPROTONOSUPPORT for a record
 * in a compressed batch; -ENOENT if the directory was deleted; or the
 * error of a system call.
 */
int sf_seg_next(struct sf_segreader *sr, struct sf_seg_rec *rec);

/**
 * sf_seg_position() - the offset of the next record sf_seg_next() returns.
 * @sr: the reader.
 *
 * Context: any.
 * Return: the offset.
 */
int64_t sf_seg_position(const struct sf_segreader *sr);

/**
 * sf_seg_start_offset() - the first offset still in the log.
 * @sr: the reader.
 *
 * Lists the directory again: the answer moves as retention deletes
 * segments.
 *
 * Context: blocks on the directory listing.
 * Return: the base offset of the oldest segment (0 if there is none), or
 * -errno (-ENOENT if the directory was deleted).
 */
int64_t sf_seg_start_offset(struct sf_segreader *sr);

/**
 * sf_seg_headers_begin() - start decoding the headers of a record.
 * @rec: a record from sf_seg_next().
 * @hi:  iterator for sf_rb_headers_next().
 *
 * Context: any.
 */
static inline void sf_seg_headers_begin(const struct sf_seg_rec *rec,
					struct sf_rb_header_iter *hi)
{
	struct sf_rb_record r = {
		.header_count = (int32_t)rec->header_count,
		.headers = rec->headers,
		.headers_len = rec->headers_len,
	};

	sf_rb_headers_begin(&r, hi);
}

#endif
