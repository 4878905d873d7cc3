/* SPDX-License-Identifier: MIT */
/*
 * common_sfm.h - reading sfshmd's BPF metrics, for sftop and `sfctl
 * metrics` (linked into every tool, like all of tools/common_*.c).
 *
 * sfshmd pins its metrics maps under SFM_BPFFS_ROOT/<instance>/ (layouts
 * in bpf/sfm.h).  A reader finds that directory (sfm_dir()), takes
 * snapshots of the maps (sfm_snap_read()), and turns two snapshots into
 * rates: the counters only grow.  What the maps cannot tell (topics that
 * saw no traffic yet, consumer groups and their lag) comes from the daemon
 * over its control socket (sfm_daemon_read()).
 *
 * Calls return 0 (or a count) or -errno, and print nothing;
 * sfm_strerror() words the errors a user can do something about.
 */
#ifndef SFSHM_COMMON_SFM_H
#define SFSHM_COMMON_SFM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sfshm/sfshm.h>

#include "sfm.h"

/* Exit status of both tools when there is nothing to show. */
#define SFM_EXIT_NOMETRICS 1

/* ---- where the maps are ------------------------------------------------- */

/**
 * sfm_instance_name() - the instance name sfshmd derives from its run
 * directory: the last path component, each byte outside [A-Za-z0-9._-]
 * replaced by '_' ("." and ".." become "_" and "__"), cut to 64
 * characters: sfd_config_instance()'s rule.
 * @run_dir: the run directory (NULL: $SFSHM_RUN_DIR, else the default).
 * @buf, @len: where the name goes.
 * Return: 0; -ENAMETOOLONG.
 */
int sfm_instance_name(const char *run_dir, char *buf, size_t len);

/**
 * sfm_dir() - the directory of the metrics maps.
 * @bpf_dir:  --bpf-dir: the directory itself (wins over the others).
 * @instance: --instance: SFM_BPFFS_ROOT/@instance.
 * @run_dir:  else SFM_BPFFS_ROOT/sfm_instance_name(@run_dir).
 * @buf, @len: where the path goes.
 * Return: 0; -EINVAL (an instance name with '/' or empty); -ENAMETOOLONG.
 */
int sfm_dir(const char *bpf_dir, const char *instance, const char *run_dir,
	    char *buf, size_t len);

/**
 * sfm_strerror() - a reason for people why the maps at @dir could not be
 * read: -ENOENT "no metrics at DIR: is sfshmd running with metrics on
 * (not --no-bpf, as root)?", -EPERM/-EACCES "reading DIR needs root
 * (CAP_BPF)", -EPROTO a layout from another version, else the errno text.
 * Return: @buf.
 */
const char *sfm_strerror(int err, const char *dir, char *buf, size_t len);

/* ---- snapshots of the maps ----------------------------------------------- */

/* One entry of topic_stats, and one of topic_latency. */
struct sfm_stats_entry {
	struct sfm_tp tp;
	struct sfm_stats s;
};

struct sfm_hist_entry {
	struct sfm_hist_key key;
	struct sfm_hist h;
};

/*
 * struct sfm_snap - both maps at one moment (as near as reading entry by
 * entry gets), sorted by topic, partition (and kind).
 * @mono_ns: CLOCK_MONOTONIC when the reading started.
 */
struct sfm_snap {
	uint64_t mono_ns;
	struct sfm_stats_entry *stats;
	size_t nstats;
	struct sfm_hist_entry *hists;
	size_t nhists;
};

/**
 * sfm_snap_read() - read topic_stats and topic_latency at @dir.
 * @dir:  the instance directory (sfm_dir()).
 * @snap: filled on success (free with sfm_snap_free()); on failure left
 *        empty.
 *
 * A topic_latency map that is not there counts as empty.
 * Context: reads the maps with bpf(2); needs CAP_BPF (root) and access to
 * bpffs.  A few ms for thousands of partitions.
 * Return: 0; -ENOENT (no maps at @dir); -EPERM or -EACCES; -EPROTO (the
 * maps' key or value sizes are not those of sfm.h); -ENOMEM.
 */
int sfm_snap_read(const char *dir, struct sfm_snap *snap);

/* Free a snapshot's arrays and zero it; accepts a zeroed one. */
void sfm_snap_free(struct sfm_snap *snap);

/* The counters of a topic-partition in @snap, or NULL. */
const struct sfm_stats *sfm_snap_stats(const struct sfm_snap *snap,
				       const char *topic, uint32_t partition);

/* A histogram (enum sfm_hist_kind) of a topic-partition, or NULL. */
const struct sfm_hist *sfm_snap_hist(const struct sfm_snap *snap,
				     const char *topic, uint32_t partition,
				     uint32_t kind);

/* ---- rates and percentiles ------------------------------------------------ */

/*
 * sfm_stats_delta() - @cur - @prev, counter by counter.  @prev NULL (the
 * entry is new) counts as zero; a counter that went down (the topic was
 * deleted and created again in between) counts from zero.
 */
void sfm_stats_delta(const struct sfm_stats *prev, const struct sfm_stats *cur,
		     struct sfm_stats *out);

/* sfm_hist_delta() - the same for histograms; max_ns stays @cur's. */
void sfm_hist_delta(const struct sfm_hist *prev, const struct sfm_hist *cur,
		    struct sfm_hist *out);

/* @delta events over @ns nanoseconds, per second (0 if @ns is 0). */
double sfm_per_sec(uint64_t delta, uint64_t ns);

/*
 * sfm_hist_total() - the number of values in @h: the sum of its slots,
 * which a reader racing the updaters may find a little off @h->count;
 * the slots are what percentiles and buckets are computed from.
 */
uint64_t sfm_hist_total(const struct sfm_hist *h);

/**
 * sfm_hist_pct() - the @q-quantile (0 <= @q <= 1) of @h, in ns.
 * Return: the estimate, or -1 if @h is empty.
 */
double sfm_hist_pct(const struct sfm_hist *h, double q);

/*
 * sfm_hist_le_ns() - the largest value slot @slot holds (inclusive):
 * 2^(slot+1) - 1 ns; UINT64_MAX for the last slot, which takes everything
 * larger.  The `le` bound of a Prometheus bucket.
 */
uint64_t sfm_hist_le_ns(unsigned slot);

/*
 * sfm_fmt_ns() - a duration for people: "850ns", "12.3us", "1.20ms",
 * "2.50s"; "-" for a negative one (unknown).  Return: @buf.
 */
const char *sfm_fmt_ns(char *buf, size_t len, double ns);

/* ---- what the daemon knows ------------------------------------------------ */

/* A topic and its partition count. */
struct sfm_topic {
	char name[SFSHM_TOPIC_MAX + 1];
	uint32_t partitions;
};

/* The lag of a group on a partition: log end - committed offset. */
struct sfm_lag {
	char group[256];
	char topic[SFSHM_TOPIC_MAX + 1];
	int32_t partition;
	int64_t lag;
};

/*
 * struct sfm_daemon - the daemon's view: topics (sorted by name), how many
 * partitions and consumer groups there are, and every known lag (sorted by
 * group, topic, partition).
 */
struct sfm_daemon {
	struct sfm_topic *topics;
	size_t ntopics;
	uint64_t partitions;
	size_t ngroups;
	struct sfm_lag *lags;
	size_t nlags;
};

/**
 * sfm_daemon_read() - ask the daemon for its topics and groups.
 * @c:     a connected client.
 * @topic: only this topic (NULL: all); the group count stays the total.
 * @d:     filled on success (free with sfm_daemon_free()).
 *
 * A topic or group that goes away between the list and its description
 * is left out.  The lag of a group is known for the partitions it has
 * committed an offset for.
 * Context: blocks for 2 + topics + groups requests.
 * Return: 0, or the first request's error (-errno).
 */
int sfm_daemon_read(struct sfshm_client *c, const char *topic,
		    struct sfm_daemon *d);

/* Free what sfm_daemon_read() filled and zero it; accepts a zeroed one. */
void sfm_daemon_free(struct sfm_daemon *d);

/* The largest lag of any group on a partition, or -1 if none is known. */
int64_t sfm_daemon_max_lag(const struct sfm_daemon *d, const char *topic,
			   int32_t partition);

#endif
