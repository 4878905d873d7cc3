/* SPDX-License-Identifier: MIT */
/*
 * sfm.h - the metrics maps sfshmd pins under /sys/fs/bpf/sfshm/<instance>/:
 * one definition for the BPF programs (sfm.bpf.c), the daemon that loads
 * them and the tools that read them (sftop, sfctl metrics).
 *
 * Every key starts with the topic name, so that `bpftool map dump pinned
 * .../topic_stats` prints a readable report.  Counters only grow; readers
 * compute rates from two snapshots.  All counters are updated with atomic
 * adds by programs on any CPU.
 *
 * The BPF side includes vmlinux.h first, which defines the __u32/__u64
 * types; user space gets them from <linux/types.h>.
 */
#ifndef SFM_H
#define SFM_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define SFM_TOPIC_LEN 256 /* Kafka's names are at most 249 characters */
#define SFM_HIST_SLOTS 40 /* log2 buckets of nanoseconds: up to ~9 min */
#define SFM_MAX_TP 65536 /* topic-partitions tracked */
#define SFM_MAX_RINGS 16384 /* ring mappings tracked (all processes, LRU) */
#define SFM_MAX_BINARIES 1024 /* programs and libraries attached */
#define SFM_MAX_PROCS 65536 /* processes of one instance */
#define SFM_PATH_LEN 1024
#define SFM_SAMPLE_EVERY 1024 /* consumers time one record in this many */
#define SFM_CONSUME_BATCH 1024 /* consumed records reported per probe hit */

/* Pinned map names (files under the instance directory). */
#define SFM_MAP_STATS "topic_stats"
#define SFM_MAP_HIST "topic_latency"
#define SFM_MAP_RINGS "ring_addrs"
#define SFM_MAP_BINARIES "binaries"
#define SFM_MAP_PROCS "procs"
#define SFM_MAP_VERSION "version"

/* The instance directories live here. */
#define SFM_BPFFS_ROOT "/sys/fs/bpf/sfshm"

/* struct sfm_tp - a topic-partition: the key of topic_stats. */
struct sfm_tp {
	char topic[SFM_TOPIC_LEN];
	__u32 partition;
};

/*
 * struct sfm_stats - counters of one partition.
 * @records_in, @bytes_in: records persisted to the log by sfshmd and their
 *     key + value bytes (exact: counted per persisted batch).
 * @batches_in: record batches written to the log.
 * @log_bytes: bytes appended to the log (encoded batches).
 * @records_out, @bytes_out: records handed out by consumers' polls, and
 *     their key + value bytes (exact once consumers reach the end
 *     or close: reported every SFM_CONSUME_BATCH records and when a poll
 *     finds nothing more).
 * @polls_out: consumer reports (probe hits) behind @records_out.
 * @fsyncs: fsyncs of the partition's log.
 * @errors: errors reported by producers, consumers or the persister.
 * @bp_waits, @bp_wait_ns: sends that waited for room in a full ring
 *     (back-pressure) and the time they waited.
 * @futex_waits, @futex_wakes: FUTEX_WAIT(V) / FUTEX_WAKE calls on the
 *     partition ring's words, by any process that mapped it.
 */
struct sfm_stats {
	__u64 records_in;
	__u64 bytes_in;
	__u64 batches_in;
	__u64 log_bytes;
	__u64 records_out;
	__u64 bytes_out;
	__u64 polls_out;
	__u64 fsyncs;
	__u64 errors;
	__u64 bp_waits;
	__u64 bp_wait_ns;
	__u64 futex_waits;
	__u64 futex_wakes;
};

/* Which latency a histogram holds. */
enum sfm_hist_kind {
	SFM_HIST_E2E = 0, /* record timestamp to a consumer's poll (sampled) */
	SFM_HIST_PERSIST = 1, /* record timestamp to written to the log */
	SFM_HIST_FSYNC = 2, /* one fsync of the log */
	SFM_HIST_KINDS = 3,
};

/* struct sfm_hist_key - the key of topic_latency. */
struct sfm_hist_key {
	char topic[SFM_TOPIC_LEN];
	__u32 partition;
	enum sfm_hist_kind kind; /* 4 bytes: bpftool prints its name */
};

/*
 * struct sfm_hist - a log2 histogram of nanoseconds: slot[i] counts values
 * v with 2^i <= v < 2^(i+1) (slot 0 also takes 0 and 1; the last slot
 * everything larger).
 */
struct sfm_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 slot[SFM_HIST_SLOTS];
};

/* struct sfm_ring_key - a ring's header page as one process mapped it. */
struct sfm_ring_key {
	__u32 tgid;
	__u32 _pad;
	__u64 addr;
};

/*
 * struct sfm_proc - the procs map: tgid -> this.  A uprobe fires in every
 * process that runs the binary, whichever daemon it talks to; the
 * programs count only the processes of their own instance, those in this
 * map (they test presence only; the daemon keeps the fields).
 * @start: the process's start time (field 22 of /proc/<pid>/stat, clock
 *     ticks since boot): an entry whose pid now names another process
 *     (start differs) or none is dropped.
 * @conns: its connections to the daemon (the daemon itself: 1).
 * @inherited: 1 if left by an earlier daemon of the instance (the process
 *     outlived it); its next connection sets @conns anew.
 */
struct sfm_proc {
	__u64 start;
	__u32 conns;
	__u32 inherited;
};

/*
 * The version map: one __u64 at key 0, a hash (FNV-1a 64) of the BPF
 * object that pinned the maps and links.  A daemon whose object differs
 * replaces them all (the counters restart): it cannot reuse maps of
 * another layout, nor leave older programs counting.
 */

/*
 * struct sfm_bin_key, struct sfm_bin - the binaries map: which programs
 * and libraries the USDT programs are attached to (by sfshmd, which alone
 * writes it; the BPF programs do not use it).  Their pinned links are in
 * links/<dev>-<ino>-<mtime_ns>/, all three in hex (pinned first into
 * links/tmp-<dev>-<ino>-<mtime_ns>/, renamed once complete).
 */
struct sfm_bin_key {
	__u64 dev;
	__u64 ino;
	__u64 mtime_ns;
};

struct sfm_bin {
	char path[SFM_PATH_LEN]; /* where it was when attached */
	__u32 sites; /* probe sites attached */
	__u32 pid; /* the process that brought it */
};

#endif /* SFM_H */
