/* SPDX-License-Identifier: MIT */
/*
 * sfshm.h - the StreamFlow client API: topics, producers, consumers.
 *
 * A client connects to sfshmd's control socket (<run-dir>/sfshmd.sock),
 * attaches to a topic and from then on produces and consumes through the
 * topic's partition rings mapped into its own address space: sending,
 * polling and waking involve no daemon hop.  The daemon persists every
 * partition to its commit log; a consumer that falls behind the ring
 * window reads the log's segment files directly and moves back to the
 * ring when it catches up.
 *
 * Conventions: calls return 0 (or a count) on success and -errno on
 * failure (sfshm_strerror() explains); handles come out through an
 * out-parameter set only on success; every *_close() accepts NULL; option
 * structs start with their size (set it with sizeof) so that older
 * binaries keep working.  Handles are not thread-safe: use one per thread
 * (several per process are fine).  The library never prints.
 *
 * Permissions: the daemon creates each topic's files with the topic's
 * mode (default 0660, owner and group of the daemon): producing needs
 * write permission, consuming read permission; creating and deleting
 * topics needs the daemon's uid or root.  Denied calls fail with -EACCES.
 */
#ifndef SFSHM_SFSHM_H
#define SFSHM_SFSHM_H

#include <stdbool.h>
#include <stdint.h>
#include <sfshm/ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where clients look for the daemon unless told otherwise. */
#define SFSHM_RUN_DIR_ENV "SFSHM_RUN_DIR"
#define SFSHM_DEFAULT_RUN_DIR "/dev/shm/sfshm-default"

#define SFSHM_TOPIC_MAX 249 /* Kafka's limit on a topic name */
#define SFSHM_PARTITIONS_MAX 1024

/* Special offsets for assign/seek (Kafka's values). */
#define SFSHM_OFFSET_BEGINNING (-2LL)
#define SFSHM_OFFSET_END (-1LL)
/* Partition argument: choose by key (murmur2, as Kafka's default). */
#define SFSHM_PARTITION_ANY (-1)

struct sfshm_client;
struct sfshm_producer;
struct sfshm_consumer;

/* ---- connecting --------------------------------------------------------- */

/**
 * struct sfshm_client_opts - how to connect.
 * @size:      sizeof(struct sfshm_client_opts).
 * @run_dir:   the daemon's run directory; NULL: $SFSHM_RUN_DIR, else
 *             SFSHM_DEFAULT_RUN_DIR.
 * @client_id: a name shown by `sfctl` (NULL: the program's name).
 * @timeout_ms: for each control request (0: 5000).
 */
struct sfshm_client_opts {
	uint32_t size;
	const char *run_dir;
	const char *client_id;
	int timeout_ms;
};

/**
 * sfshm_connect() - connect to a running sfshmd.
 * @opts: options, or NULL for the defaults.
 * @out:  the client (set on success only).
 *
 * Context: blocks for the handshake.  The client and everything opened
 * from it belong to one thread at a time.
 * Return: 0; -ENOENT or -ECONNREFUSED if no daemon runs there;
 * -EACCES; -EPROTONOSUPPORT if the daemon speaks another protocol version;
 * -EINVAL (@opts->size 0); -ENAMETOOLONG (run dir too long for a socket
 * address); -ETIMEDOUT (no answer to the handshake).
 */
SFSHM_API int sfshm_connect(const struct sfshm_client_opts *opts,
			    struct sfshm_client **out);

/**
 * sfshm_disconnect() - close the client; accepts NULL.
 * @c: the client.  Producers and consumers opened from it must have been
 *     closed.
 */
SFSHM_API void sfshm_disconnect(struct sfshm_client *c);

/**
 * sfshm_last_error() - the daemon's explanation of the last failed request.
 * @c: the client.
 * Return: a string valid until the next request ("" if none).
 */
SFSHM_API const char *sfshm_last_error(const struct sfshm_client *c);

/* ---- topics ------------------------------------------------------------- */

/**
 * struct sfshm_topic_config - settings of a topic (Kafka's names in
 * brackets).  Zero means "the daemon's default" for every field; use -1
 * where Kafka uses -1 for "unlimited".
 * @size:            sizeof(struct sfshm_topic_config).
 * @partitions:      number of partitions (1).
 * @ring_bytes:      bytes of each partition ring, a power of two (4 MiB).
 * @segment_bytes:   roll a segment at this size (segment.bytes, 1 GiB).
 * @segment_ms:      roll a segment at this age (segment.ms, 7 days).
 * @retention_bytes: keep at most this much per partition
 *                   (retention.bytes, -1 = no limit).
 * @retention_ms:    delete segments older than this (retention.ms, 7 d).
 * @flush_messages:  fsync after this many records (flush.messages, -1).
 * @flush_ms:        fsync at least this often (flush.ms, 1000).
 * @mode:            permission bits of the topic's files (0660).
 */
struct sfshm_topic_config {
	uint32_t size;
	uint32_t partitions;
	uint64_t ring_bytes;
	int64_t segment_bytes;
	int64_t segment_ms;
	int64_t retention_bytes;
	int64_t retention_ms;
	int64_t flush_messages;
	int64_t flush_ms;
	uint32_t mode;
};

/**
 * struct sfshm_partition_info - one partition, as sfshm_topic_describe()
 * sees it.
 * @log_start:      first offset still in the log.
 * @log_end:        next offset to be given (the high watermark).
 * @written_offset: records below it are in the page cache.
 * @durable_offset: records below it are fsynced.
 * @ring_*:         byte positions in the ring: tail (produced), clean
 *                  (erased below), written, durable.
 * @producers, @consumers: clients attached now.
 */
struct sfshm_partition_info {
	uint32_t partition;
	int64_t log_start;
	int64_t log_end;
	int64_t written_offset;
	int64_t durable_offset;
	uint64_t ring_size;
	uint64_t ring_tail;
	uint64_t ring_clean;
	uint64_t ring_written;
	uint64_t ring_durable;
	uint64_t log_bytes;
	uint32_t segments;
	uint32_t producers;
	uint32_t consumers;
};

/**
 * struct sfshm_topic_info - a topic, its settings and its partitions.
 */
struct sfshm_topic_info {
	char name[SFSHM_TOPIC_MAX + 1];
	struct sfshm_topic_config config;
	uint32_t partition_count;
	struct sfshm_partition_info *partitions;
};

/**
 * sfshm_topic_config_init() - a config with every field "default".
 * @cfg: the config.
 */
SFSHM_API void sfshm_topic_config_init(struct sfshm_topic_config *cfg);

/**
 * sfshm_topic_name_valid() - does @name follow Kafka's topic name rules?
 * @name: the name.
 *
 * 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
 * Return: 0, or -EINVAL.
 */
SFSHM_API int sfshm_topic_name_valid(const char *name);

/**
 * sfshm_topic_create() - create a topic.
 * @c:    the client.
 * @name: its name (Kafka's rules).
 * @cfg:  settings, or NULL for the defaults.
 *
 * Names are Kafka's (up to 249 characters), but a new topic's name must
 * leave room for its file names: at most 239 characters; names starting
 * with "__" are reserved for internal topics.
 * Context: blocks until the topic's rings and logs exist.
 * Return: 0; -EEXIST; -EINVAL (name or settings, see sfshm_last_error());
 * -EACCES; -ENOSPC; -ENOMEM.
 */
SFSHM_API int sfshm_topic_create(struct sfshm_client *c, const char *name,
				 const struct sfshm_topic_config *cfg);

/**
 * sfshm_topic_delete() - delete a topic, its rings and its logs.
 * @c:    the client.
 * @name: the topic.
 *
 * Attached clients are not waited for: their next send fails with
 * -ENOENT and their next poll with -ENOENT.
 * Return: 0; -ENOENT; -EACCES.
 */
SFSHM_API int sfshm_topic_delete(struct sfshm_client *c, const char *name);

/**
 * sfshm_topic_list() - the names of all topics, sorted.
 * @c:     the client.
 * @names: set to a NULL-terminated array; free it with sfshm_free_list().
 * Return: the number of topics, or -errno.
 */
SFSHM_API int sfshm_topic_list(struct sfshm_client *c, char ***names);

/* Free an array from sfshm_topic_list(); accepts NULL. */
SFSHM_API void sfshm_free_list(char **names);

/**
 * sfshm_topic_describe() - settings and per-partition state of a topic.
 * @c:    the client.
 * @name: the topic.
 * @out:  set on success; free it with sfshm_topic_info_free().
 * Return: 0; -ENOENT; -EACCES.
 */
SFSHM_API int sfshm_topic_describe(struct sfshm_client *c, const char *name,
				   struct sfshm_topic_info **out);

/* Free a description; accepts NULL. */
SFSHM_API void sfshm_topic_info_free(struct sfshm_topic_info *info);

/**
 * struct sfshm_broker_info - the daemon, as `sfctl broker info` shows it.
 */
struct sfshm_broker_info {
	int32_t broker_id;
	uint32_t pid;
	uint32_t topics;
	uint32_t clients;
	uint64_t uptime_ms;
	char software[64];
	char data_dir[256];
	char run_dir[256];
};

/**
 * sfshm_broker_info() - ask the daemon about itself.
 * Return: 0 or -errno.
 */
SFSHM_API int sfshm_broker_info(struct sfshm_client *c,
				struct sfshm_broker_info *out);

/* ---- producing ---------------------------------------------------------- */

/* How much a producer waits for before a record counts as sent. */
enum sfshm_acks {
	SFSHM_ACKS_NONE = 0, /* committed to the ring */
	SFSHM_ACKS_WRITTEN = 1, /* written to the log (page cache) */
	SFSHM_ACKS_DURABLE = 2, /* fsynced */
};

/**
 * struct sfshm_producer_opts - producer settings.
 * @size:       sizeof(struct sfshm_producer_opts).
 * @acks:       acknowledgement level (default: SFSHM_ACKS_WRITTEN).
 * @timeout_ms: how long a send waits while the ring is full, and an
 *              acknowledgement may take: -1 for ever, 0 never (-EAGAIN);
 *              default (when the struct is absent) 30000.
 */
struct sfshm_producer_opts {
	uint32_t size;
	enum sfshm_acks acks;
	int timeout_ms;
};

/**
 * struct sfshm_delivery - where an acknowledged record went.
 * @partition: its partition.
 * @offset:    its offset (the first record's, for a batch); -1 with
 *             SFSHM_ACKS_NONE, where no acknowledgement is waited for.
 */
struct sfshm_delivery {
	int32_t partition;
	int64_t offset;
};

/**
 * sfshm_producer_open() - attach to a topic as a producer.
 * @c:     the client.
 * @topic: topic name.
 * @opts:  settings, or NULL for the defaults.
 * @out:   the producer (set on success only).
 *
 * Context: blocks for the attach request and the ring mappings.
 * Return: 0; -ENOENT (no such topic); -EACCES; -EMFILE; -ENOMEM.
 */
SFSHM_API int sfshm_producer_open(struct sfshm_client *c, const char *topic,
				  const struct sfshm_producer_opts *opts,
				  struct sfshm_producer **out);

/* Number of partitions of the producer's topic. */
SFSHM_API uint32_t sfshm_producer_partitions(const struct sfshm_producer *p);

/**
 * sfshm_partition_for_key() - Kafka's default partitioner.
 * @key:        key bytes.
 * @len:        key length.
 * @partitions: number of partitions.
 *
 * murmur2 of the key, made positive, modulo @partitions: a key lands on
 * the same partition number as with Kafka's Java client and librdkafka's
 * murmur2 partitioner.
 * Return: the partition.
 */
SFSHM_API uint32_t sfshm_partition_for_key(const void *key, size_t len,
					   uint32_t partitions);

/**
 * sfshm_producer_send() - send one record.
 * @p:         the producer.
 * @partition: the partition, or SFSHM_PARTITION_ANY: by key (murmur2),
 *             or for a null key round-robin over the partitions.
 * @rec:       the record (copied).
 * @d:         NULL: return once the record is in the ring (flush later);
 *             else wait for the producer's acknowledgement level and fill
 *             @d.
 *
 * Context: blocks while the ring is full (up to the timeout) and, with
 * @d, until the acknowledgement.
 * Return: 0; -EMSGSIZE (larger than the ring allows); -EAGAIN or
 * -ETIMEDOUT (ring full / no acknowledgement in time: the record may
 * still be persisted); -EINVAL (bad partition, or a record whose lengths
 * and pointers disagree); -ENOENT (the topic was deleted); -ENOSPC (the
 * daemon cannot persist: disk full, with disk.full.policy=fail; the record
 * is in the ring and is persisted once space returns, unacknowledged; or
 * all of the ring's producer slots are taken); -ESHUTDOWN (the daemon
 * stopped; the record was not sent); -EPROTO (persisted but not
 * acknowledged: a daemon bug).
 */
SFSHM_API int sfshm_producer_send(struct sfshm_producer *p, int32_t partition,
				  const struct sfshm_rec *rec,
				  struct sfshm_delivery *d);

/**
 * sfshm_producer_send_batch() - send records to one partition at once.
 * @p:         the producer.
 * @partition: the partition, or SFSHM_PARTITION_ANY: by the first
 *             record's key.
 * @recs:      the records.
 * @n:         how many.
 * @d:         as for sfshm_producer_send(); the offset is the first one's.
 *
 * Readers see the records of one call together.
 * Return: the number of records sent (fewer than @n when they do not fit
 * one frame: send the rest again), or -errno as sfshm_producer_send().
 */
SFSHM_API int sfshm_producer_send_batch(struct sfshm_producer *p,
					int32_t partition,
					const struct sfshm_rec *recs,
					unsigned n, struct sfshm_delivery *d);

/**
 * sfshm_producer_claim() - claim space for one record, to fill in place.
 * @p:         the producer.
 * @partition: an explicit partition, or SFSHM_PARTITION_ANY (by
 *             @rec->key, which must then be given).
 * @rec:       the record's shape, as for sfshm_ring_claim().
 * @c:         the claim; write the key / value through it.
 *
 * Must be followed soon by sfshm_producer_commit() or _abort().
 * Return: the partition claimed in, or -errno as sfshm_producer_send().
 */
SFSHM_API int sfshm_producer_claim(struct sfshm_producer *p, int32_t partition,
				   const struct sfshm_rec *rec,
				   struct sfshm_claim *c);

/**
 * sfshm_producer_commit() - publish a claimed record.
 * @p: the producer.
 * @partition: the partition sfshm_producer_claim() returned.
 * @c: the claim.
 * @d: as for sfshm_producer_send().
 * Return: 0; -ECANCELED if the claim was held so long that the daemon
 * revoked it (the record was not sent); or an acknowledgement error.
 */
SFSHM_API int sfshm_producer_commit(struct sfshm_producer *p, int32_t partition,
				    struct sfshm_claim *c,
				    struct sfshm_delivery *d);

/* Give a claim up.  Return: 0 or -ECANCELED. */
SFSHM_API int sfshm_producer_abort(struct sfshm_producer *p, int32_t partition,
				   struct sfshm_claim *c);

/**
 * sfshm_producer_flush() - wait until every record sent so far is
 * acknowledged at the producer's level.
 * @p:          the producer.
 * @timeout_ms: -1 for ever.
 * Return: 0; -ETIMEDOUT; -ENOSPC; -ENOENT; -ESHUTDOWN.
 */
SFSHM_API int sfshm_producer_flush(struct sfshm_producer *p, int timeout_ms);

/* Detach; accepts NULL.  Does not flush. */
SFSHM_API void sfshm_producer_close(struct sfshm_producer *p);

/* ---- consuming ---------------------------------------------------------- */

/* What a consumer does at an offset that is not (or no longer) there. */
enum sfshm_offset_reset {
	SFSHM_RESET_EARLIEST = 0, /* go to the log start */
	SFSHM_RESET_LATEST = 1, /* go to the end */
	SFSHM_RESET_NONE = 2, /* fail with -ERANGE */
};

/* A topic partition, and one with an offset. */
struct sfshm_tp {
	const char *topic;
	int32_t partition;
};

struct sfshm_tp_offset {
	const char *topic;
	int32_t partition;
	int64_t offset;
	const char *metadata; /* NULL: none */
};

/*
 * Called inside sfshm_consumer_poll() when the group takes partitions
 * away (before: commit what you processed) or hands them over.
 */
typedef void (*sfshm_rebalance_cb)(void *arg, struct sfshm_consumer *cons,
				   const struct sfshm_tp *tps, unsigned n);

/**
 * struct sfshm_consumer_opts - consumer settings.
 * @size:  sizeof(struct sfshm_consumer_opts).
 * @reset: auto.offset.reset (default SFSHM_RESET_EARLIEST): what happens
 *         at an offset out of range, and where a group's partition without
 *         a committed offset starts (EARLIEST: the beginning; LATEST:
 *         the end; NONE: poll fails with -ERANGE until you seek it).
 * @wait:  how poll waits on a ring (default SFSHM_WAIT_HYBRID).
 * @group_id:    group.id: needed by sfshm_consumer_subscribe() and the
 *               commit calls.
 * @instance_id: group.instance.id: static membership; a member that comes
 *               back within @session_ms keeps its partitions, no rebalance.
 * @assignor:    partition.assignment.strategy: "range" (default),
 *               "roundrobin" or "sticky" (every member must agree).
 * @max_poll_ms: max.poll.interval.ms (default 300000): a member that does
 *               not poll for that long is removed from the group.
 * @session_ms:  a static member's grace period (default 45000).
 * @auto_commit_ms: enable.auto.commit interval: 0 = 5000 ms, -1 = off.
 *               Auto-commit commits the positions of owned partitions from
 *               poll, and always before partitions are revoked.
 * @on_revoked, @on_assigned, @cb_arg: rebalance callbacks (may be NULL).
 */
struct sfshm_consumer_opts {
	uint32_t size;
	enum sfshm_offset_reset reset;
	enum sfshm_wait_mode wait;
	const char *group_id;
	const char *instance_id;
	const char *assignor;
	int max_poll_ms;
	int session_ms;
	int auto_commit_ms;
	sfshm_rebalance_cb on_revoked;
	sfshm_rebalance_cb on_assigned;
	void *cb_arg;
};

/**
 * struct sfshm_record - a consumed record (a view, valid until the next
 * poll on the consumer).
 * @topic:     topic name.
 * @partition: partition.
 * @offset:    offset.
 * @timestamp: ms since the epoch (Kafka's unit; the ring's ns are
 *             truncated, as the log stores them).
 * @key:       NULL with @key_len -1 for a null key.
 * @value:     NULL with @value_len -1 for a null value.
 * @header_count: read them with sfshm_record_header().
 */
struct sfshm_record {
	const char *topic;
	int32_t partition;
	int64_t offset;
	int64_t timestamp;
	const void *key;
	int32_t key_len;
	int32_t value_len;
	const void *value;
	uint32_t header_count;
	/* private */
	const void *hdr_data;
	uint32_t hdr_bytes;
	uint32_t hdr_format;
};

/**
 * sfshm_record_header() - the @i-th header of a record.
 * Return: 0, -ERANGE if @i >= header_count, -EBADMSG.
 */
SFSHM_API int sfshm_record_header(const struct sfshm_record *r, uint32_t i,
				  struct sfshm_hdr *h);

/**
 * sfshm_consumer_open() - create a consumer (assign partitions next).
 * @c:    the client.
 * @opts: settings, or NULL.
 * @out:  set on success only.
 * Return: 0, -EINVAL (bad options) or -ENOMEM.
 */
SFSHM_API int sfshm_consumer_open(struct sfshm_client *c,
				  const struct sfshm_consumer_opts *opts,
				  struct sfshm_consumer **out);

/**
 * sfshm_consumer_assign() - consume a partition (or all of a topic).
 * @cons:      the consumer.
 * @topic:     topic name.
 * @partition: the partition, or -1 for all.
 * @offset:    where to start: an offset, SFSHM_OFFSET_BEGINNING or
 *             SFSHM_OFFSET_END (for "N before the end", assign then
 *             sfshm_consumer_seek_tail()).
 * Return: 0; -ENOENT (topic or partition); -EACCES; -EEXIST (already
 * assigned; with -1, if any partition is); -EINVAL (a negative @offset
 * other than the two above).
 */
SFSHM_API int sfshm_consumer_assign(struct sfshm_consumer *cons,
				    const char *topic, int32_t partition,
				    int64_t offset);

/**
 * sfshm_consumer_seek() - move to an offset (or BEGINNING / END).
 * @partition: the partition, or -1 for all assigned ones of @topic.
 * Return: 0; -ENOENT if not assigned; -EINVAL (bad @offset).  An offset
 * outside the log (below its start or beyond its end) is noticed by the
 * next poll, and the reset policy applies.
 */
SFSHM_API int sfshm_consumer_seek(struct sfshm_consumer *cons,
				  const char *topic, int32_t partition,
				  int64_t offset);

/**
 * sfshm_consumer_seek_tail() - move to @n records before the end (to the
 * log start if fewer are left).
 * Return: 0; -ENOENT; -EINVAL for a negative @n.
 */
SFSHM_API int sfshm_consumer_seek_tail(struct sfshm_consumer *cons,
				       const char *topic, int32_t partition,
				       int64_t n);

/**
 * sfshm_consumer_seek_time() - move to the first record whose timestamp
 * is >= @ts_ms (to the end if none).
 *
 * Asks the daemon (one request per partition).
 * Return: 0; -ENOENT; -EINVAL for a negative @ts_ms; or the request's
 * error.
 */
SFSHM_API int sfshm_consumer_seek_time(struct sfshm_consumer *cons,
				       const char *topic, int32_t partition,
				       int64_t ts_ms);

/**
 * sfshm_consumer_poll() - the next record of any assigned partition.
 * @cons:       the consumer.
 * @rec:        filled with a view valid until the next poll.
 * @timeout_ms: -1 for ever, 0 do not wait.
 *
 * Partitions are served in turn.  A partition behind the ring window is
 * read from the log, without a gap or a duplicate.
 * Context: blocks up to @timeout_ms.
 * Return: 1 with a record; 0 on timeout; -ERANGE (offset out of range:
 * removed by retention or beyond the end, with SFSHM_RESET_NONE;
 * sfshm_consumer_seek() clears it); -ENOENT (the topic was deleted, or
 * nothing is assigned); -ESHUTDOWN (the daemon stopped); -EBADMSG
 * (corrupt data in the ring or the log); -EACCES.  An error belongs to
 * one partition; the next poll serves the others.
 */
SFSHM_API int sfshm_consumer_poll(struct sfshm_consumer *cons,
				  struct sfshm_record *rec, int timeout_ms);

/**
 * sfshm_consumer_position() - the offset the next poll of a partition
 * returns.
 * Return: 0 or -ENOENT.
 */
SFSHM_API int sfshm_consumer_position(struct sfshm_consumer *cons,
				      const char *topic, int32_t partition,
				      int64_t *offset);

/**
 * sfshm_consumer_at_end() - has the consumer read everything produced so
 * far on all its partitions?  (For kcat's -e.)
 * Return: 1 yes, 0 no, or -errno.
 */
SFSHM_API int sfshm_consumer_at_end(struct sfshm_consumer *cons);

/* Close; accepts NULL.  A group member leaves its group (after an
 * auto-commit, when enabled). */
SFSHM_API void sfshm_consumer_close(struct sfshm_consumer *cons);

/* ---- consumer groups ---------------------------------------------------- */

/**
 * sfshm_consumer_subscribe() - join the consumer's group with these
 * topics; partitions arrive through the group's assignments.
 * @cons:   a consumer opened with a group_id, without manual assignments.
 * @topics: topic names, or POSIX extended regular expressions starting
 *          with '^' (matched against the topics that exist at each
 *          rebalance; names starting with "__" are never matched).
 * @n:      how many.
 *
 * Returns once joined; partitions are assigned during later polls (the
 * on_assigned callback tells which).  A consumer never delivers a record
 * of a partition after it has been revoked from it.
 * Return: 0; -EINVAL (no group id, bad pattern, unknown assignor, or
 * manual assignments present); -EEXIST (already subscribed).
 */
SFSHM_API int sfshm_consumer_subscribe(struct sfshm_consumer *cons,
				       const char *const *topics, unsigned n);

/* Leave the group (auto-commit first when enabled).  Return: 0/-errno. */
SFSHM_API int sfshm_consumer_unsubscribe(struct sfshm_consumer *cons);

/**
 * sfshm_consumer_commit() - commit the positions of the partitions the
 * consumer owns (the offset of the next record it would return).
 * @async: false: wait until the daemon made them durable; true: send and
 *         return (a failure shows in the next synchronous call).
 * Return: 0; -ESTALE (a rebalance took the partitions or the generation
 * moved on: nothing committed); -EPERM; -EINVAL (no group id).
 */
SFSHM_API int sfshm_consumer_commit(struct sfshm_consumer *cons, bool async);

/**
 * sfshm_consumer_commit_offsets() - commit given offsets (the next offset
 * to read, as Kafka).  A member may commit only partitions it owns; a
 * consumer with manual assignments may commit any.
 * Return: as sfshm_consumer_commit(), and -ENOENT for an unknown topic.
 */
SFSHM_API int sfshm_consumer_commit_offsets(struct sfshm_consumer *cons,
					    const struct sfshm_tp_offset *o,
					    unsigned n, bool async);

/**
 * sfshm_consumer_committed() - the group's committed offset of a
 * partition.  Return: 0; -ENOENT if none; -EINVAL (no group id).
 */
SFSHM_API int sfshm_consumer_committed(struct sfshm_consumer *cons,
				       const char *topic, int32_t partition,
				       int64_t *offset);

/**
 * sfshm_consumer_assignment() - the partitions the consumer owns now.
 * @tps: set to an array (free() it; the topic names live in the same
 *       allocation).
 * @n:   its length.
 * Return: 0 or -ENOMEM.
 */
SFSHM_API int sfshm_consumer_assignment(struct sfshm_consumer *cons,
					struct sfshm_tp **tps, unsigned *n);

/* The group generation of the current assignment, -1 outside a group. */
SFSHM_API int32_t sfshm_consumer_generation(const struct sfshm_consumer *cons);

/* ---- group administration (sfctl group) ----------------------------- */

/**
 * struct sfshm_group_info - a consumer group, as sfshm_group_list() and
 * sfshm_group_describe() see it.
 * @group:      the group id.
 * @state:      "Empty" (no members: only committed offsets), "Stable"
 *              (members own their partitions) or "PreparingRebalance"
 *              (partitions are being revoked before a new assignment).
 * @generation: the group's generation, bumped by every rebalance (0 for a
 *              group the daemon knows only by its committed offsets).
 * @members:    members now (connected, or static members away within
 *              their grace period).
 * @assignor:   "range", "roundrobin" or "sticky"; "" without members.
 */
struct sfshm_group_info {
	char group[256];
	char state[32];
	int32_t generation;
	uint32_t members;
	char assignor[32];
};

/**
 * struct sfshm_group_member - one member of a group.
 * @member_id:   given by the daemon at join ("<client id>-<pid>-<n>").
 * @instance_id: group.instance.id of a static member, "" if dynamic.
 * @client_id:   the client id of its connection.
 * @state:       "connected", or "away" (a static member in its grace
 *               period: it keeps its partitions).
 * @pid:         its process.
 * @tps:         the partitions it owns in this generation (the topic
 *               names live in the same allocation).
 * @ntps:        how many.
 */
struct sfshm_group_member {
	char member_id[128];
	char instance_id[128];
	char client_id[64];
	char state[16];
	uint32_t pid;
	struct sfshm_tp *tps;
	unsigned ntps;
};

/**
 * struct sfshm_group_offset - a committed offset of a group.
 * @committed: the offset committed: the next record the group reads.
 * @log_end:   the partition's log end now (the next offset to be given);
 *             lag = @log_end - @committed.  -1 if the topic or partition
 *             no longer exists.
 */
struct sfshm_group_offset {
	char topic[SFSHM_TOPIC_MAX + 1];
	int32_t partition;
	int64_t committed;
	int64_t log_end;
};

/**
 * struct sfshm_group_description - what sfshm_group_describe() returns.
 * @info:     the group.
 * @members:  its members (@nmembers == @info.members).
 * @offsets:  every committed offset of the group, whether or not a member
 *            owns the partition; a partition owned but never committed
 *            has none.
 */
struct sfshm_group_description {
	struct sfshm_group_info info;
	struct sfshm_group_member *members;
	unsigned nmembers;
	struct sfshm_group_offset *offsets;
	unsigned noffsets;
};

/**
 * sfshm_group_list() - every group: those with members now, and those
 * with committed offsets.
 * @c:   the client.
 * @out: set to an array sorted by group id (free() it; not NULL, even for
 *       no groups).
 *
 * Context: blocks for one request.
 * Return: the number of groups; -EPROTO (malformed reply); -ENOMEM; or
 * the request's error.
 */
SFSHM_API int sfshm_group_list(struct sfshm_client *c,
			       struct sfshm_group_info **out);

/**
 * sfshm_group_describe() - a group's state, members, their assignment, and
 * its committed offsets with the log end of each partition.
 * @c:     the client.
 * @group: the group id (1 to 255 bytes: any id a group may have).
 * @out:   set on success; free it with sfshm_group_description_free().
 *
 * Context: blocks for one request.
 * Return: 0; -ENOENT (no members and no committed offsets: the daemon
 * does not know the group); -EINVAL (bad group id); -EPROTO; -ENOMEM.
 */
SFSHM_API int sfshm_group_describe(struct sfshm_client *c, const char *group,
				   struct sfshm_group_description **out);

/* Free a description; accepts NULL. */
SFSHM_API void sfshm_group_description_free(struct sfshm_group_description *d);

/**
 * sfshm_group_delete() - delete a group's committed offsets (Kafka's
 * kafka-consumer-groups --delete).
 * @c:     the client.
 * @group: the group id (1 to 255 bytes).
 *
 * Context: blocks until the deletion is durable.
 * Return: 0; -ENOENT (no committed offsets); -EBUSY (the group has
 * members; sfshm_last_error() says so); -EACCES (needs the daemon's user
 * or root); -EINVAL (bad group id).
 */
SFSHM_API int sfshm_group_delete(struct sfshm_client *c, const char *group);

/**
 * sfshm_group_reset_offsets() - set committed offsets of a group without
 * members (kafka-consumer-groups --reset-offsets --execute; the targets are
 * the caller's to compute, e.g. with sfshm_list_offset()).
 * @c:     the client.
 * @group: the group id (1 to 249 characters, no '/'); it need not exist
 *         yet.
 * @o:     the offsets (the next record to read, >= 0; not checked against
 *         the log: clamp them first), with optional metadata.
 * @n:     how many.  0 changes nothing and tells whether a reset would be
 *         allowed (what a dry run asks).
 *
 * The offsets go in one request, all or nothing, unless they need more
 * than one message (thousands of partitions): then in several, each all
 * or nothing, stopping at the first failure.
 * Context: blocks until the offsets are durable.
 * Return: 0; -EBUSY (the group has members); -EACCES (needs the daemon's
 * user or root); -ENOENT (no such topic or partition); -EINVAL (a bad
 * group id, topic name, negative partition or offset); -EMSGSIZE
 * (metadata too long).
 */
SFSHM_API int sfshm_group_reset_offsets(struct sfshm_client *c,
					const char *group,
					const struct sfshm_tp_offset *o,
					unsigned n);

/**
 * sfshm_list_offset() - Kafka's ListOffsets: the offset of a partition at
 * @ts_ms (first record whose timestamp is >= it; the log end if there is
 * none), or SFSHM_OFFSET_END (-1: the log end) or SFSHM_OFFSET_BEGINNING
 * (-2: the log start).
 * @c:         the client.
 * @topic:     the topic.
 * @partition: the partition.
 * @ts_ms:     ms since the epoch, -1 or -2.
 * @offset:    set on success.
 *
 * Context: blocks for one request.
 * Return: 0; -ENOENT (no such topic or partition); -EINVAL (bad name,
 * partition or @ts_ms below -2).
 */
SFSHM_API int sfshm_list_offset(struct sfshm_client *c, const char *topic,
				int32_t partition, int64_t ts_ms,
				int64_t *offset);

#ifdef __cplusplus
}
#endif

#endif
