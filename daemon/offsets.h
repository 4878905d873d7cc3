/* SPDX-License-Identifier: MIT */
/*
 * offsets.h - consumer groups' committed offsets, kept durably the way
 * Kafka keeps them in __consumer_offsets.
 *
 * The store is an ordinary commit log (log.h), normally
 * <data-dir>/__consumer_offsets-0/, whose records are Kafka's own:
 *
 *   key   (OffsetCommitKey v1)    int16 version = 1, string group,
 *                                 string topic, int32 partition
 *   value (OffsetCommitValue v3)  int16 version = 3, int64 offset,
 *                                 int32 leader epoch, string metadata,
 *                                 int64 commit timestamp
 *   null value                    a tombstone: the key is deleted
 *
 * "string" is Kafka's STRING: int16 length >= 0, then UTF-8 bytes; all
 * integers are big-endian.  The leader epoch is written as -1, unknown,
 * as Kafka does when the client sends none; epochs read from the log are
 * kept through compaction.  Opening replays the log into an in-memory
 * table, in log order: the last record of a key wins, a tombstone
 * deletes it.
 *
 * Durability: a commit or a group deletion is one record batch (a huge
 * group's deletion: several), appended and fdatasync'ed before the call
 * returns 0.  Since replay is in log order and every acknowledged change
 * is on disk before the next one is made, a crash (SIGKILL, power loss)
 * can lose only changes that were not acknowledged: no committed offset
 * is lost, and none moves back to an older value by itself.  Committing
 * a smaller offset than before is an ordinary commit (reset-offsets does
 * it).
 *
 * Compaction rewrites the live table at the end of the log and drops the
 * older segments; offsets.c explains why a crash at any point of it is
 * harmless.  The owner calls sfd_offsets_compact() from time to time (it
 * returns at once when there is nothing to gain); commits never compact.
 *
 * Context: a store is not thread-safe; one thread at a time.  Strings
 * returned by it stay valid until the next call that changes it.
 */
#ifndef SFD_OFFSETS_H
#define SFD_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

struct sfd_offsets;
struct sfd_uio;
struct sfd_log_recovery;

/* The store's directory under the data dir: Kafka's topic, partition 0. */
#define SFD_OFFSETS_DIR_NAME "__consumer_offsets-0"

#define SFD_OFFSETS_GROUP_MAX 255 /* bytes of a group id */
#define SFD_OFFSETS_TOPIC_MAX 249 /* Kafka's limit on a topic name */
#define SFD_OFFSETS_METADATA_MAX 4096 /* offset.metadata.max.bytes */
#define SFD_OFFSETS_NO_EPOCH (-1) /* leader epoch unknown */

struct sfd_offsets_config {
	uint32_t size; /* sizeof(struct sfd_offsets_config) */
	uint64_t segment_bytes; /* 100 MiB (offsets.topic.segment.bytes) */
	uint32_t max_batch_bytes; /* 1 MiB: the largest commit */
	uint32_t compact_ratio; /* 4: compact when records > ratio * live */
	struct sfd_uio *uio; /* shared io_uring, or NULL for a private one */
};

/* One committed offset to store. */
struct sfd_offset_commit {
	const char *topic;
	uint32_t partition; /* at most INT32_MAX */
	int64_t offset; /* >= 0 */
	const char *metadata; /* NULL means "" */
};

/* Counters and sizes. */
struct sfd_offsets_stats {
	uint64_t groups; /* groups with at least one committed offset */
	uint64_t live; /* committed offsets in the table */
	uint64_t log_records; /* records in the log (about) */
	uint64_t log_bytes;
	uint64_t replayed_records; /* records read at open */
	uint64_t ignored_records; /* well-formed but not offset commits */
	uint64_t bad_records; /* key or value that does not parse: skipped */
	uint64_t bad_batches; /* bad CRC, compressed, unreadable: skipped */
	uint64_t appended_batches; /* since open */
	uint64_t compactions;
};

/*
 * Called for each committed offset, in (group, topic, partition) order
 * (names compare as bytes); return 0 to go on, anything else to stop.
 */
typedef int (*sfd_offsets_fn)(void *arg, const char *group, const char *topic,
			      uint32_t partition, int64_t offset,
			      const char *metadata);

/*
 * Called for each group that has committed offsets, in name order, with
 * how many; return 0 to go on, anything else to stop.
 */
typedef int (*sfd_offsets_group_fn)(void *arg, const char *group,
				    uint32_t count);

/**
 * sfd_offsets_config_init() - fill a configuration with the defaults.
 * @cfg: configuration.
 *
 * Context: any.
 */
void sfd_offsets_config_init(struct sfd_offsets_config *cfg);

/**
 * sfd_offsets_open() - open (or create) the store and load it.
 * @dir: the log directory, usually <data-dir>/SFD_OFFSETS_DIR_NAME;
 *       created (one level) if missing.
 * @out: the store (set on success only).
 *
 * sfd_offsets_open_config() with the defaults.
 *
 * Context: process context; blocks on disk I/O.
 * Return: as sfd_offsets_open_config().
 */
int sfd_offsets_open(const char *dir, struct sfd_offsets **out);

/**
 * sfd_offsets_open_config() - open (or create) the store and load it.
 * @dir: the log directory; created (one level) if missing.
 * @cfg: configuration, or NULL for the defaults.
 * @out: the store (set on success only).
 *
 * Opens and recovers the log (a torn tail is cut: see sfd_log_open()),
 * then replays every record into the table.  Records that do not parse
 * and batches that fail their CRC are skipped and counted
 * (sfd_offsets_get_stats()), never fatal.
 *
 * Context: process context; blocks on disk I/O.
 * Return: 0; -EINVAL for a bad configuration; -ENOMEM; or the error of
 * opening or reading the log.
 */
int sfd_offsets_open_config(const char *dir,
			    const struct sfd_offsets_config *cfg,
			    struct sfd_offsets **out);

/**
 * sfd_offsets_close() - flush, close and free; accepts NULL.
 * @o: the store.
 *
 * Context: process context; blocks.
 */
void sfd_offsets_close(struct sfd_offsets *o);

/**
 * sfd_offsets_commit() - store committed offsets of a group, durably.
 * @o: the store.
 * @group: group id, 1..SFD_OFFSETS_GROUP_MAX bytes.
 * @c: the offsets; a (topic, partition) given twice keeps the last.
 * @n: how many, at least 1.
 *
 * All @n go into one record batch, which is appended and fdatasync'ed
 * before the table changes: on success every one of them survives a
 * crash; on failure none was acknowledged (a crash may or may not keep
 * them, all or none).  After a write or sync error the store refuses
 * further changes with that error until it is reopened (the log may hold
 * a batch the table does not show); reads go on answering what was
 * acknowledged.
 *
 * Context: process context; blocks on a write and an fdatasync.
 * Return: 0; -EINVAL for an empty or too long name, a partition over
 * INT32_MAX, a negative offset or @n == 0; -EMSGSIZE for metadata over
 * SFD_OFFSETS_METADATA_MAX or a batch over max_batch_bytes; -ENOMEM; or
 * the error of the log.
 */
int sfd_offsets_commit(struct sfd_offsets *o, const char *group,
		       const struct sfd_offset_commit *c, unsigned n);

/**
 * sfd_offsets_get() - the committed offset of a group for a partition.
 * @o: the store.
 * @group: group id.
 * @topic: topic.
 * @partition: partition.
 * @offset: set to the committed offset.
 * @metadata: set to its metadata (never NULL); may be NULL.
 *
 * Context: process context; does not block.
 * Return: 0, or -ENOENT if the group has committed nothing there.
 */
int sfd_offsets_get(struct sfd_offsets *o, const char *group, const char *topic,
		    uint32_t partition, int64_t *offset, const char **metadata);

/**
 * sfd_offsets_foreach() - visit committed offsets.
 * @o: the store.
 * @group: visit this group's offsets, or NULL for every group's.
 * @fn: called for each, in order; must not change @o.
 * @arg: passed to @fn.
 *
 * Context: process context; does not block (unless @fn does).
 * Return: 0 (also for a group without offsets: @fn is not called), or
 * the first non-zero value @fn returned.
 */
int sfd_offsets_foreach(struct sfd_offsets *o, const char *group,
			sfd_offsets_fn fn, void *arg);

/**
 * sfd_offsets_groups() - visit every group that has committed offsets.
 * @o: the store.
 * @fn: called for each group, in name order; must not change @o.
 * @arg: passed to @fn.
 *
 * Context: process context; does not block (unless @fn does).
 * Return: 0, or the first non-zero value @fn returned.
 */
int sfd_offsets_groups(struct sfd_offsets *o, sfd_offsets_group_fn fn,
		       void *arg);

/**
 * sfd_offsets_delete_group() - delete all committed offsets of a group.
 * @o: the store.
 * @group: group id.
 *
 * Appends a tombstone for each of its keys and fdatasyncs them before the
 * table changes.  Atomic when they fit one batch (max_batch_bytes: some
 * thousands of partitions); a larger group is deleted in several batches,
 * and a crash in between leaves some of its offsets, never older ones.
 * Errors are as for sfd_offsets_commit().
 *
 * Context: process context; blocks on writes and an fdatasync.
 * Return: 0; -ENOENT if the group has no committed offsets (nothing is
 * written); -EINVAL for an empty group id; or -errno.
 */
int sfd_offsets_delete_group(struct sfd_offsets *o, const char *group);

/**
 * sfd_offsets_compact_needed() - would sfd_offsets_compact() do work?
 * @o: the store.
 *
 * True when the log holds more than compact_ratio times as many records
 * as the table has offsets, and at least segment_bytes of them.
 *
 * Context: any (not concurrently with changes).
 * Return: true or false.
 */
bool sfd_offsets_compact_needed(const struct sfd_offsets *o);

/**
 * sfd_offsets_compact() - rewrite the live table and drop older segments.
 * @o: the store.
 *
 * When sfd_offsets_compact_needed(): rolls the log, appends the table as
 * new records (original commit timestamps kept), fdatasyncs them, then
 * deletes every older segment and syncs the directory.  A crash at any
 * point leaves a log that replays to the same table.  The table must fit
 * one segment: a larger one is not compacted (-EFBIG; raise
 * segment_bytes).
 *
 * Context: process context; blocks on writes, fdatasyncs and unlinks.
 * Return: 1 if it compacted, 0 if not needed, -EFBIG, or -errno (after a
 * sync error the store refuses changes, as for sfd_offsets_commit()).
 */
int sfd_offsets_compact(struct sfd_offsets *o);

/**
 * sfd_offsets_get_stats() - counters and sizes.
 * @o: the store.
 * @st: filled in.
 *
 * Context: any (not concurrently with changes).
 */
void sfd_offsets_get_stats(const struct sfd_offsets *o,
			   struct sfd_offsets_stats *st);

/**
 * sfd_offsets_recovery_info() - what opening the log found and repaired.
 * @o: the store.
 *
 * Context: any.
 * Return: the log's recovery counters, valid until the store is closed.
 */
const struct sfd_log_recovery *
sfd_offsets_recovery_info(const struct sfd_offsets *o);

#endif
