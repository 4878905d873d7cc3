/* SPDX-License-Identifier: MIT */
/*
 * sfd.h - sfshmd's configuration and logging, shared by its modules.
 */
#ifndef SFD_H
#define SFD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define SFD_VERSION_STRING "sfshmd 0.1.0"

/* Log levels, most severe first (syslog's order). */
enum sfd_level {
	SFD_ERROR = 3,
	SFD_WARN = 4,
	SFD_INFO = 6,
	SFD_DEBUG = 7,
};

/*
 * Topic defaults (the topic's own settings override them); the names in
 * the config file are Kafka's broker-level ones.
 */
struct sfd_topic_defaults {
	uint32_t partitions; /* num.partitions, 1 */
	uint64_t ring_bytes; /* ring.bytes, 4 MiB */
	int64_t segment_bytes; /* log.segment.bytes, 1 GiB */
	int64_t segment_ms; /* log.roll.ms, 7 days */
	int64_t retention_bytes; /* log.retention.bytes, -1 */
	int64_t retention_ms; /* log.retention.ms, 7 days */
	int64_t flush_messages; /* log.flush.interval.messages, -1 */
	int64_t flush_ms; /* log.flush.interval.ms, 1000 */
	uint32_t mode; /* topic.mode, 0660 */
};

/* metrics.instance: a directory name under /sys/fs/bpf/sfshm/. */
#define SFD_INSTANCE_MAX 64

struct sfd_config {
	char data_dir[256]; /* log.dirs, required */
	char run_dir[256]; /* run.dir, /dev/shm/sfshm-default */
	char config_file[256]; /* --config, "" if none */
	int32_t broker_id; /* broker.id, 0 */
	enum sfd_level log_level; /* log.level: error|warn|info|debug */
	int64_t unblock_ms; /* producer.unblock.ms, 1000: a claim left
			     * open this long by a live producer is revoked */
	int64_t retention_check_ms; /* log.retention.check.interval.ms,
				     * 300000 */
	bool full_disk_block; /* disk.full.policy=block|fail; fail */
	bool metrics_bpf; /* metrics.bpf, --no-bpf; true */
	/* metrics.instance, --instance; "": see sfd_config_instance() */
	char metrics_instance[SFD_INSTANCE_MAX + 1];
	struct sfd_topic_defaults topic;
};

/**
 * sfd_config_init() - fill @cfg with the defaults.
 */
void sfd_config_init(struct sfd_config *cfg);

/**
 * sfd_config_parse_args() - the command line, then the config file.
 * @cfg:  defaults in, result out.
 * @argc, @argv: main()'s.
 * @err:  a message for the user on failure.
 * @errlen: its size.
 *
 * Every config file key is also a flag (--log.dirs=DIR or --log.dirs DIR),
 * plus the short forms --data-dir, --run-dir, --config, --broker-id,
 * --log-level, --instance, --no-bpf (metrics.bpf=false, no value),
 * -h/--help (prints the help to stdout and returns 1), -V/--version
 * (returns 1 too).  Flags override the file; among flags the last one
 * wins.  Values are checked (numbers, ranges, ring.bytes a power of two
 * in [64 KiB, 1 GiB], mode octal, booleans, instance names, data dir
 * given).
 *
 * Return: 0 to run; 1 when --help/--version was answered; -EINVAL with
 * @err set.
 */
int sfd_config_parse_args(struct sfd_config *cfg, int argc, char **argv,
			  char *err, size_t errlen);

/**
 * sfd_config_parse_file() - read a key=value file (Kafka's
 * server.properties spirit: '#' and '!' comments, blank lines, spaces
 * around '=' ignored).  Unknown keys are an error (with the line number).
 * Return: 0; -EINVAL with @err set; -errno if the file cannot be read.
 */
int sfd_config_parse_file(struct sfd_config *cfg, const char *path, char *err,
			  size_t errlen);

/**
 * sfd_config_set() - set one key (as in the file) from a string.
 * Return: 0; -ENOENT for an unknown key; -EINVAL for a bad value (@err).
 */
int sfd_config_set(struct sfd_config *cfg, const char *key, const char *val,
		   char *err, size_t errlen);

/*
 * Print every setting as key=value, readable back as a config file (for
 * the startup log).  An unset metrics.instance is a comment that names
 * the instance derived from run.dir.
 */
void sfd_config_dump(const struct sfd_config *cfg, FILE *f);

/**
 * sfd_config_instance() - the metrics instance: the name of this daemon's
 * directory under /sys/fs/bpf/sfshm/.
 * @cfg: metrics.instance and run.dir.
 * @buf: where the name is written.
 * @len: its size, at least 1; SFD_INSTANCE_MAX + 1 holds any name whole.
 *
 * metrics.instance if set; else the last component of run.dir, trailing
 * slashes ignored, every character outside [A-Za-z0-9._-] replaced by '_'
 * and cut to SFD_INSTANCE_MAX (/dev/shm/sfshm-default/ gives
 * "sfshm-default").  What would not be a directory of its own becomes
 * underscores: "" and "." give "_" (run.dir=/), ".." gives "__".  So the
 * name, even cut to a short @buf, never leaves /sys/fs/bpf/sfshm/.
 *
 * Context: any thread; reads @cfg only.
 * Return: @buf.
 */
const char *sfd_config_instance(const struct sfd_config *cfg, char *buf,
				size_t len);

/**
 * sfd_logf() - log a line to stderr:
 *   "2026-11-27T22:40:01.123Z INFO  persist: message: errno text"
 * @level:  severity; lines below the configured level are dropped.
 * @subsys: subsystem ("main", "ctl", "topic", "persist", "log").
 * @err:    0, or a -errno whose text is appended.
 * Thread-safe (one write(2) per line).
 */
void sfd_logf(enum sfd_level level, const char *subsys, int err,
	      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Set the level below which sfd_logf() drops lines. */
void sfd_log_set_level(enum sfd_level level);

/* Parse "error", "warn", "info", "debug".  Return: 0 or -EINVAL. */
int sfd_level_parse(const char *s, enum sfd_level *level);

#define sfd_error(sub, err, ...) sfd_logf(SFD_ERROR, sub, err, __VA_ARGS__)
#define sfd_warn(sub, err, ...) sfd_logf(SFD_WARN, sub, err, __VA_ARGS__)
#define sfd_info(sub, ...) sfd_logf(SFD_INFO, sub, 0, __VA_ARGS__)
#define sfd_debug(sub, ...) sfd_logf(SFD_DEBUG, sub, 0, __VA_ARGS__)

/*
 * sfd_assert() - our own invariant; on failure log it with context and
 * abort.  Never for data from outside (validate that instead).
 */
#define sfd_assert(cond, ...)                                          \
	do {                                                           \
		if (__builtin_expect(!(cond), 0)) {                    \
			sfd_logf(SFD_ERROR, "assert", 0, __VA_ARGS__); \
			sfd_logf(SFD_ERROR, "assert", 0, "%s:%d: %s",  \
				 __FILE__, __LINE__, #cond);           \
			abort();                                       \
		}                                                      \
	} while (0)

/**
 * sfd_grow() - make room for @need elements of @elem bytes in the array
 * *@v of *@cap, doubling from @first (or the current capacity).
 * Return: 0, or -ENOMEM (the array is left as it was).
 */
int sfd_grow(void **v, uint32_t *cap, uint32_t need, size_t elem,
	     uint32_t first);

#endif
