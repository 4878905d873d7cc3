/* SPDX-License-Identifier: MIT */
/*
 * topic.h - sfshmd's topic registry, partitions and persister.
 *
 * One registry per daemon, guarded by one mutex: the control thread
 * changes it (create, delete, attach), the persister thread walks it.
 * Every ring operation of the owner (persist, clean, unblock) happens on
 * the persister thread; the control thread only reads published values.
 */
#ifndef SFD_TOPIC_H
#define SFD_TOPIC_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <sfshm/sfshm.h>

#include "log.h"
#include "recordbatch.h"
#include "sfd.h"

#define SFD_ACK_BATCH 4096u /* records per persisted batch, at most */

struct sfd_topic;

struct sfd_part {
	struct sfd_topic *topic;
	uint32_t index;
	char ring_path[PATH_MAX];
	char ctl_path[PATH_MAX];
	char log_dir[PATH_MAX];
	struct sfshm_ring *owner; /* header, cleaning, unblock */
	struct sfshm_ring *reader; /* the persister's read position */
	struct sfd_log *log;

	uint64_t written_pos; /* ring positions published */
	uint64_t durable_pos;
	uint64_t unsynced; /* records written since the last sync */
	uint64_t unsynced_since_ns;
	bool clean_pending; /* sfshm_ring_clean() said -EBUSY */
	uint64_t stuck_pos; /* an uncommitted frame blocks the drain here */
	uint64_t stop_tail; /* at shutdown: the tail when producers stopped */
	uint64_t stuck_since_ns; /* 0: not stuck */
	int error; /* persisting fails with it (-ENOSPC), 0 if not */
	uint64_t retry_ns; /* when to try again after an error */

	uint32_t producers; /* attached clients */
	uint32_t consumers;

	/* scratch of one drain: positions of the records of the batch */
	uint64_t *pos;
	bool syncing; /* an asynchronous fdatasync is in flight */
	uint64_t sync_pos; /* the ring position it makes durable */
	int64_t sync_upto; /* the log offset it makes durable */
	uint64_t sync_t0; /* when it started */
	uint64_t sync_records; /* the unsynced records it covers */
	uint64_t probe_bytes; /* their key + value bytes (persist probe) */
	int64_t probe_ts_ns; /* the first one's timestamp */
	struct sf_rb_builder rb;
};

struct sfd_topic {
	char name[SFSHM_TOPIC_MAX + 1];
	struct sfshm_topic_config cfg; /* resolved: no zero fields */
	struct sfd_part *parts;
	struct sfd_topic *next;
};

struct sfd_registry {
	pthread_mutex_t lock;
	const struct sfd_config *cfg;
	struct sfd_topic *topics; /* sorted by name */
	struct sfd_topic *graveyard; /* deleted, freed by the persister */
	uint32_t ntopics;
	uint32_t bell; /* futex: bumped when the registry changes */
	bool stopping;
	bool drained; /* the persister saved everything: rings may go */
};

/* Resolve zero fields of @in with the daemon's defaults; check ranges. */
int sfd_topic_resolve(const struct sfd_config *cfg,
		      const struct sfshm_topic_config *in,
		      struct sfshm_topic_config *out, char *err, size_t errlen);

/* Kafka's topic-name rules.  Return: 0 or -EINVAL (reason in @err). */
int sfd_topic_name_check(const char *name, char *err, size_t errlen);

/*
 * Load every topic recorded in <data-dir>/meta, opening (and recovering)
 * its logs and creating or adopting its rings.  Called before the
 * persister starts.
 */
int sfd_registry_load(struct sfd_registry *reg);

/* Create a topic (registry locked by the caller). */
int sfd_topic_create(struct sfd_registry *reg, const char *name,
		     const struct sfshm_topic_config *cfg, char *err,
		     size_t errlen);

/* Delete a topic: clients are told, files removed (registry locked). */
int sfd_topic_delete(struct sfd_registry *reg, const char *name);

struct sfd_topic *sfd_topic_find(struct sfd_registry *reg, const char *name);

/* Wake the persister (the registry changed, or a client died). */
void sfd_registry_ring_bell(struct sfd_registry *reg);

/*
 * Persister thread body: drains every partition into its log until
 * reg->stopping, then drains and syncs everything and returns.
 */
void *sfd_persister_main(void *arg);

/* Free deleted topics (persister thread, registry locked). */
void sfd_registry_bury(struct sfd_registry *reg);

/* Final shutdown: close logs, unmap and remove rings (after the thread). */
void sfd_registry_close(struct sfd_registry *reg);

/* Fill a describe of one partition (registry locked). */
void sfd_part_info(struct sfd_part *p, struct sfshm_partition_info *out);

/* Offset for a timestamp (-1 latest, -2 earliest) (registry locked). */
int sfd_part_list_offset(struct sfd_part *p, int64_t ts, int64_t *offset);

uint64_t sfd_now_ns(void);

#endif
