// SPDX-License-Identifier: MIT
/*
 * topic.c - the topic registry: topic settings on disk, partitions with
 * their rings (run dir) and logs (data dir), creation, deletion, adoption
 * of the rings a killed daemon left behind.
 *
 * Files:
 *   <data-dir>/meta/<topic>.topic    settings, key=value, written atomically
 *   <data-dir>/<topic>-<p>/          the partition log (log.c)
 *   <run-dir>/<topic>-<p>.ring       the ring: header page + data
 *   <run-dir>/<topic>-<p>.ctl        the readers' control page
 *
 * Permissions: the topic's mode gives, per class (owner, group, other),
 * w = may produce, r = may consume.  Ring file: the mode's rw bits.  Ctl
 * file: rw for every class with any access (producers and readers both
 * write to it).  Log directory: r-x for every class with r.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include "probes.h"
#include "topic.h"

#define META_DIR "meta"
#define META_EXT ".topic"

uint64_t sfd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int sfd_topic_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name);

	if (n == 0 || n > SFSHM_TOPIC_MAX) {
		snprintf(err, errlen, "topic name must be 1..%d characters",
			 SFSHM_TOPIC_MAX);
		return -EINVAL;
	}
	if (!strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(err, errlen, "topic name cannot be \".\" or \"..\"");
		return -EINVAL;
	}
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") != n) {
		snprintf(err, errlen,
			 "topic name \"%.40s\" has characters other than "
			 "ASCII letters, digits, '.', '_' and '-'",
			 name);
		return -EINVAL;
	}
	return 0;
}

static int64_t pick(int64_t v, int64_t dflt)
{
	return v ? v : dflt;
}

static int check_range(const char *what, int64_t v, int64_t lo, char *err,
		       size_t errlen)
{
	if (v >= lo)
		return 0;
	snprintf(err, errlen, "%s must be >= %lld (got %lld)", what,
		 (long long)lo, (long long)v);
	return -EINVAL;
}

int sfd_topic_resolve(const struct sfd_config *cfg,
		      const struct sfshm_topic_config *in,
		      struct sfshm_topic_config *out, char *err, size_t errlen)
{
	const struct sfd_topic_defaults *d = &cfg->topic;
	uint64_t rb;

	sfshm_topic_config_init(out);
	out->partitions = in->partitions ? in->partitions : d->partitions;
	out->ring_bytes = in->ring_bytes ? in->ring_bytes : d->ring_bytes;
	out->segment_bytes = pick(in->segment_bytes, d->segment_bytes);
	out->segment_ms = pick(in->segment_ms, d->segment_ms);
	out->retention_bytes = pick(in->retention_bytes, d->retention_bytes);
	out->retention_ms = pick(in->retention_ms, d->retention_ms);
	out->flush_messages = pick(in->flush_messages, d->flush_messages);
	out->flush_ms = pick(in->flush_ms, d->flush_ms);
	out->mode = in->mode ? in->mode : d->mode;
	if (out->partitions > SFSHM_PARTITIONS_MAX) {
		snprintf(err, errlen, "partitions must be 1..%d",
			 SFSHM_PARTITIONS_MAX);
		return -EINVAL;
	}
	rb = out->ring_bytes;
	if (rb < SFSHM_RING_MIN_SIZE || rb > SFSHM_RING_MAX_SIZE ||
	    (rb & (rb - 1))) {
		snprintf(err, errlen,
			 "ring bytes must be a power of two from 64 KiB to "
			 "1 GiB (got %llu)",
			 (unsigned long long)rb);
		return -EINVAL;
	}
	if (out->mode & ~0777u) {
		snprintf(err, errlen, "mode must be octal 0..0777");
		return -EINVAL;
	}
	if (check_range("segment bytes", out->segment_bytes, 4096, err,
			errlen) ||
	    check_range("segment ms", out->segment_ms, 1, err, errlen) ||
	    check_range("retention bytes", out->retention_bytes, -1, err,
			errlen) ||
	    check_range("retention ms", out->retention_ms, -1, err, errlen) ||
	    check_range("flush messages", out->flush_messages, -1, err,
			errlen) ||
	    check_range("flush ms", out->flush_ms, -1, err, errlen))
		return -EINVAL;
	return 0;
}

/* ---- settings on disk ------------------------------------------------------- */

static void meta_path(const struct sfd_registry *reg, const char *name,
		      char *buf, size_t len, const char *suffix)
{
	snprintf(buf, len, "%s/" META_DIR "/%s" META_EXT "%s",
		 reg->cfg->data_dir, name, suffix);
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int write_all_sync(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return fsync(fd) < 0 ? -errno : 0;
}

/* Write the topic's settings: temp file, fsync, rename, fsync the dir. */
static int meta_write(const struct sfd_registry *reg, const struct sfd_topic *t)
{
	const struct sfshm_topic_config *c = &t->cfg;
	char path[PATH_MAX], tmp[PATH_MAX + 8], dir[PATH_MAX], buf[1024];
	int fd, err, n;

	snprintf(dir, sizeof(dir), "%s/" META_DIR, reg->cfg->data_dir);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	meta_path(reg, t->name, path, sizeof(path), "");
	meta_path(reg, t->name, tmp, sizeof(tmp), ".tmp");
	n = snprintf(buf, sizeof(buf),
		     "# sfshmd topic settings (written by sfshmd)\n"
		     "partitions=%u\nring.bytes=%llu\nsegment.bytes=%lld\n"
		     "segment.ms=%lld\nretention.bytes=%lld\n"
		     "retention.ms=%lld\nflush.messages=%lld\n"
		     "flush.ms=%lld\nmode=%o\n",
		     c->partitions, (unsigned long long)c->ring_bytes,
		     (long long)c->segment_bytes, (long long)c->segment_ms,
		     (long long)c->retention_bytes, (long long)c->retention_ms,
		     (long long)c->flush_messages, (long long)c->flush_ms,
		     c->mode);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	err = write_all_sync(fd, buf, (size_t)n);
	close(fd);
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (!err)
		err = fsync_dir(dir);
	if (err)
		unlink(tmp);
	return err;
}

static int meta_set(struct sfshm_topic_config *c, const char *k, const char *v)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, !strcmp(k, "mode") ? 8 : 10);
	if (errno || end == v || *end)
		return -EINVAL;
	if (!strcmp(k, "partitions"))
		c->partitions = (uint32_t)n;
	else if (!strcmp(k, "ring.bytes"))
		c->ring_bytes = (uint64_t)n;
	else if (!strcmp(k, "segment.bytes"))
		c->segment_bytes = n;
	else if (!strcmp(k, "segment.ms"))
		c->segment_ms = n;
	else if (!strcmp(k, "retention.bytes"))
		c->retention_bytes = n;
	else if (!strcmp(k, "retention.ms"))
		c->retention_ms = n;
	else if (!strcmp(k, "flush.messages"))
		c->flush_messages = n;
	else if (!strcmp(k, "flush.ms"))
		c->flush_ms = n;
	else if (!strcmp(k, "mode"))
		c->mode = (uint32_t)n;
	else
		return -EINVAL;
	return 0;
}

static int meta_read(const char *path, struct sfshm_topic_config *c)
{
	char line[512];
	FILE *f = fopen(path, "re");
	int err = 0, lineno = 0;

	if (!f)
		return -errno;
	sfshm_topic_config_init(c);
	while (!err && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');

		lineno++;
		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!eq) {
			err = -EINVAL;
			break;
		}
		*eq = '\0';
		err = meta_set(c, line, eq + 1);
	}
	fclose(f);
	if (err)
		sfd_error("topic", err, "%s: line %d unreadable", path, lineno);
	return err;
}

/* ---- partitions ------------------------------------------------------------- */

static mode_t ring_mode(uint32_t m)
{
	return m & 0666;
}

static mode_t ctl_mode(uint32_t m)
{
	mode_t out = 0;

	for (int shift = 0; shift <= 6; shift += 3)
		if (m & (6u << shift))
			out |= 6u << shift;
	return out | 0600;
}

static mode_t dir_mode(uint32_t m)
{
	mode_t out = 0700;

	for (int shift = 0; shift <= 3; shift += 3)
		if (m & (4u << shift))
			out |= 5u << shift;
	return out;
}

static void part_paths(const struct sfd_registry *reg, struct sfd_part *p)
{
	const char *t = p->topic->name;

	snprintf(p->ring_path, sizeof(p->ring_path), "%s/%s-%u.ring",
		 reg->cfg->run_dir, t, p->index);
	snprintf(p->ctl_path, sizeof(p->ctl_path), "%s/%s-%u.ctl",
		 reg->cfg->run_dir, t, p->index);
	snprintf(p->log_dir, sizeof(p->log_dir), "%s/%s-%u", reg->cfg->data_dir,
		 t, p->index);
}

static int open_mode(const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags | O_RDWR | O_CLOEXEC, mode);

	if (fd < 0)
		return -errno;
	/* The umask must not narrow what the topic grants. */
	if ((flags & O_CREAT) && fchmod(fd, mode) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

/* Map the ring files at @ring_fd/@ctl_fd as owner and as reader. */
static int part_map(struct sfd_part *p, int ring_fd, int ctl_fd)
{
	int err = sfshm_ring_map(ring_fd, ctl_fd, SFSHM_ROLE_OWNER, &p->owner);

	if (!err)
		err = sfshm_ring_map(ring_fd, ctl_fd, SFSHM_ROLE_READER,
				     &p->reader);
	if (!err && SF_PROBE_ON(ring_map)) {
		sf_probe_ring_map(p->topic->name, p->index, p->owner);
		sf_probe_ring_map(p->topic->name, p->index, p->reader);
	}
	return err;
}

/* Create fresh ring files; the anchor starts at the log's end. */
static int part_ring_create(struct sfd_part *p)
{
	const struct sfshm_topic_config *c = &p->topic->cfg;
	int ring_fd, ctl_fd, err;

	unlink(p->ring_path);
	unlink(p->ctl_path);
	ring_fd = open_mode(p->ring_path, O_CREAT | O_EXCL, ring_mode(c->mode));
	if (ring_fd < 0)
		return ring_fd;
	ctl_fd = open_mode(p->ctl_path, O_CREAT | O_EXCL, ctl_mode(c->mode));
	if (ctl_fd < 0) {
		close(ring_fd);
		return ctl_fd;
	}
	err = sfshm_ring_format(ring_fd, ctl_fd, c->ring_bytes);
	if (!err)
		err = part_map(p, ring_fd, ctl_fd);
	close(ring_fd);
	close(ctl_fd);
	if (!err)
		err = sfshm_ring_set_anchor(p->owner, 0,
					    sfd_log_end_offset(p->log));
	return err;
}

/*
 * Skip @n records from the reader's position (the anchor): they are in
 * the log already (written before the crash, not yet published).
 */
static int64_t skip_records(struct sfd_part *p, int64_t n)
{
	struct sfshm_msg m;
	int64_t done = 0;

	while (done < n && !sfshm_ring_peek(p->reader, &m) &&
	       !sfshm_ring_consume(p->reader, &m))
		done++;
	return done;
}

/*
 * Adopt ring files a killed daemon left: the anchor says which offset the
 * frame at its position gets; the log may already hold some records past
 * it (written, not yet published): skip exactly those.
 */
static int part_ring_adopt(struct sfd_part *p, int ring_fd, int ctl_fd)
{
	int64_t off, end = sfd_log_end_offset(p->log), skipped;
	uint64_t pos;
	int err = part_map(p, ring_fd, ctl_fd);

	if (!err)
		err = sfshm_ring_anchor(p->owner, &pos, &off);
	if (err)
		return err;
	if (off > end)
		sfd_warn("topic", 0,
			 "%s: log ends at %lld but the ring was persisted to "
			 "%lld; renumbering from the log's end",
			 p->log_dir, (long long)end, (long long)off);
	sfshm_ring_seek(p->reader, pos);
	skipped = off < end ? skip_records(p, end - off) : 0;
	if (off < end && skipped != end - off)
		sfd_warn("topic", 0,
			 "%s: log holds %lld records past the ring's anchor, "
			 "ring only %lld",
			 p->log_dir, (long long)(end - off),
			 (long long)skipped);
	p->written_pos = p->durable_pos = sfshm_ring_position(p->reader);
	/* A ring stopped by a daemon that could not persist it all. */
	sfshm_ring_set_state(p->owner, SFSHM_STATE_LIVE);
	sfshm_ring_set_anchor(p->owner, p->written_pos, end);
	sfshm_ring_set_persisted(p->owner, p->written_pos, p->durable_pos, 0);
	sfd_info("topic",
		 "%s-%u: adopted ring: %lld records already in the log, "
		 "%llu bytes left to persist",
		 p->topic->name, p->index, (long long)skipped,
		 (unsigned long long)(sfshm_ring_tail(p->owner) -
				      p->written_pos));
	return 0;
}

static int part_ring_open(struct sfd_part *p)
{
	int ring_fd = open(p->ring_path, O_RDWR | O_CLOEXEC);
	int ctl_fd, err;

	if (ring_fd < 0)
		return errno == ENOENT ? part_ring_create(p) : -errno;
	ctl_fd = open(p->ctl_path, O_RDWR | O_CLOEXEC);
	if (ctl_fd < 0) {
		err = -errno;
		close(ring_fd);
		sfd_warn("topic", err, "%s: ring without its ctl file",
			 p->ring_path);
		return part_ring_create(p);
	}
	err = part_ring_adopt(p, ring_fd, ctl_fd);
	close(ring_fd);
	close(ctl_fd);
	if (err) {
		sfd_warn("topic", err, "%s: cannot adopt; starting afresh",
			 p->ring_path);
		sfshm_ring_unmap(p->owner);
		sfshm_ring_unmap(p->reader);
		p->owner = p->reader = NULL;
		return part_ring_create(p);
	}
	return 0;
}

static void log_config(const struct sfshm_topic_config *c,
		       struct sfd_log_config *lc)
{
	sfd_log_config_init(lc);
	lc->segment_bytes = (uint64_t)c->segment_bytes;
	lc->segment_ms = c->segment_ms;
	lc->retention_bytes = c->retention_bytes;
	lc->retention_ms = c->retention_ms;
	lc->max_batch_bytes = (uint32_t)(c->ring_bytes + (64u << 10));
}

static int part_open(struct sfd_registry *reg, struct sfd_part *p)
{
	struct sfd_log_config lc;
	int err;

	part_paths(reg, p);
	log_config(&p->topic->cfg, &lc);
	err = sfd_log_open(p->log_dir, &lc, &p->log);
	if (err) {
		sfd_error("topic", err, "%s: cannot open the log", p->log_dir);
		return err;
	}
	chmod(p->log_dir, dir_mode(p->topic->cfg.mode));
	p->pos = calloc(SFD_ACK_BATCH, sizeof(*p->pos));
	if (!p->pos || sf_rb_builder_init_alloc(&p->rb, 1u << 20))
		return -ENOMEM;
	err = part_ring_open(p);
	if (err)
		sfd_error("topic", err, "%s: cannot create the ring",
			  p->ring_path);
	return err;
}

/*
 * Close a partition.  @deleted: its topic is gone (clients are told).
 * @unlink_ring: remove the ring files (deleted, or everything persisted).
 */
static void part_close(struct sfd_part *p, bool deleted, bool unlink_ring)
{
	if (p->owner && deleted)
		sfshm_ring_set_state(p->owner, SFSHM_STATE_DELETED);
	sfshm_ring_unmap(p->owner);
	sfshm_ring_unmap(p->reader);
	sfd_log_close(p->log);
	if (p->pos)
		sf_rb_builder_release(&p->rb);
	free(p->pos);
	if (unlink_ring && p->ring_path[0]) {
		unlink(p->ring_path);
		unlink(p->ctl_path);
	}
	p->owner = p->reader = NULL;
	p->log = NULL;
	p->pos = NULL;
}

/* ---- topics ------------------------------------------------------------------ */

static void topic_free(struct sfd_topic *t, bool deleted, bool unlink_ring)
{
	if (!t)
		return;
	for (uint32_t i = 0; t->parts && i < t->cfg.partitions; i++)
		part_close(&t->parts[i], deleted, unlink_ring);
	free(t->parts);
	free(t);
}

static int rm_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	return rmdir(dir) < 0 ? -errno : 0;
}

static void link_sorted(struct sfd_registry *reg, struct sfd_topic *t)
{
	struct sfd_topic **pp = &reg->topics;

	while (*pp && strcmp((*pp)->name, t->name) < 0)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	reg->ntopics++;
}

static int topic_open(struct sfd_registry *reg, const char *name,
		      const struct sfshm_topic_config *cfg,
		      struct sfd_topic **out)
{
	struct sfd_topic *t = calloc(1, sizeof(*t));
	int err = 0;

	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->cfg = *cfg;
	t->parts = calloc(cfg->partitions, sizeof(*t->parts));
	if (!t->parts)
		err = -ENOMEM;
	for (uint32_t i = 0; !err && i < cfg->partitions; i++) {
		t->parts[i].topic = t;
		t->parts[i].index = i;
		err = part_open(reg, &t->parts[i]);
	}
	if (err) {
		topic_free(t, false, false);
		return err;
	}
	*out = t;
	return 0;
}

void sfd_registry_ring_bell(struct sfd_registry *reg)
{
	/* Release: the registry change before the persister's acquire. */
	__atomic_add_fetch(&reg->bell, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &reg->bell, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

struct sfd_topic *sfd_topic_find(struct sfd_registry *reg, const char *name)
{
	for (struct sfd_topic *t = reg->topics; t; t = t->next)
		if (!strcmp(t->name, name))
			return t;
	return NULL;
}

int sfd_topic_create(struct sfd_registry *reg, const char *name,
		     const struct sfshm_topic_config *in, char *err,
		     size_t errlen)
{
	struct sfshm_topic_config cfg;
	struct sfd_topic *t;
	int rc = sfd_topic_name_check(name, err, errlen);

	if (!rc && !strncmp(name, "__", 2)) {
		snprintf(err, errlen,
			 "topic names starting with \"__\" are reserved for "
			 "internal topics (__consumer_offsets)");
		rc = -EINVAL;
	}
	if (!rc)
		rc = sfd_topic_resolve(reg->cfg, in, &cfg, err, errlen);
	if (!rc && strlen(name) + 16 > NAME_MAX) {
		/* "<name>-<partition>.ring" must be a valid file name. */
		snprintf(err, errlen,
			 "topic name too long for its file names: at most %d "
			 "characters here",
			 NAME_MAX - 16);
		rc = -EINVAL;
	}
	if (rc)
		return rc;
	if (sfd_topic_find(reg, name)) {
		snprintf(err, errlen, "topic \"%s\" already exists", name);
		return -EEXIST;
	}
	rc = topic_open(reg, name, &cfg, &t);
	if (!rc) {
		rc = meta_write(reg, t);
		if (rc)
			topic_free(t, true, true);
	}
	if (rc) {
		snprintf(err, errlen, "cannot create topic \"%s\": %s", name,
			 strerror(-rc));
		return rc;
	}
	link_sorted(reg, t);
	sfd_info("topic", "created %s: %u partitions, ring %llu bytes", name,
		 cfg.partitions, (unsigned long long)cfg.ring_bytes);
	sfd_registry_ring_bell(reg);
	return 0;
}

/* Stop a deleted partition's clients and free its file names. */
static void part_unname(struct sfd_registry *reg, struct sfd_part *p)
{
	char tomb[PATH_MAX];
	int n;

	sfshm_ring_stop(p->owner, SFSHM_STATE_DELETED);
	unlink(p->ring_path);
	unlink(p->ctl_path);
	p->ring_path[0] = p->ctl_path[0] = '\0';
	n = snprintf(tomb, sizeof(tomb), "%s/.deleted-%llu-%s-%u",
		     reg->cfg->data_dir, (unsigned long long)sfd_now_ns(),
		     p->topic->name, p->index);
	if (n < (int)sizeof(tomb) && !rename(p->log_dir, tomb))
		snprintf(p->log_dir, sizeof(p->log_dir), "%s", tomb);
	else
		sfd_warn("topic", -errno, "%s: cannot rename for deletion",
			 p->log_dir);
}

int sfd_topic_delete(struct sfd_registry *reg, const char *name)
{
	struct sfd_topic **pp = &reg->topics, *t;
	char path[PATH_MAX];

	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	t = *pp;
	if (!t)
		return -ENOENT;
	meta_path(reg, name, path, sizeof(path), "");
	if (unlink(path) < 0)
		return -errno;
	*pp = t->next;
	reg->ntopics--;
	/*
	 * Clients learn at once.  The names are freed at once too (a topic
	 * of the same name may be created right after): ring files unlinked,
	 * log directory renamed.  The persister frees the rest (it may be
	 * asleep on these rings right now).
	 */
	for (uint32_t i = 0; i < t->cfg.partitions; i++)
		part_unname(reg, &t->parts[i]);
	t->next = reg->graveyard;
	reg->graveyard = t;
	sfd_info("topic", "deleted %s", name);
	sfd_registry_ring_bell(reg);
	return 0;
}

static int load_one(struct sfd_registry *reg, const char *file)
{
	char path[PATH_MAX], name[SFSHM_TOPIC_MAX + 1], err[256];
	struct sfshm_topic_config cfg, res;
	size_t n = strlen(file) - strlen(META_EXT);
	struct sfd_topic *t;
	int rc;

	snprintf(name, sizeof(name), "%.*s", (int)n, file);
	snprintf(path, sizeof(path), "%s/" META_DIR "/%s", reg->cfg->data_dir,
		 file);
	rc = meta_read(path, &cfg);
	if (!rc)
		rc = sfd_topic_name_check(name, err, sizeof(err));
	if (!rc)
		rc = sfd_topic_resolve(reg->cfg, &cfg, &res, err, sizeof(err));
	if (!rc)
		rc = topic_open(reg, name, &res, &t);
	if (rc) {
		sfd_error("topic", rc, "%s: cannot load topic", path);
		return rc;
	}
	link_sorted(reg, t);
	return 0;
}

static bool is_meta(const char *f)
{
	size_t n = strlen(f), e = strlen(META_EXT);

	return n > e && !strcmp(f + n - e, META_EXT);
}

/* Remove what deletions a killed daemon did not finish left behind. */
static void remove_tombs(const struct sfd_registry *reg)
{
	char path[PATH_MAX + 256];
	DIR *d = opendir(reg->cfg->data_dir);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".deleted-", 9))
			continue;
		snprintf(path, sizeof(path), "%s/%s", reg->cfg->data_dir,
			 e->d_name);
		rm_tree(path);
	}
	if (d)
		closedir(d);
}

int sfd_registry_load(struct sfd_registry *reg)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int err = 0;

	remove_tombs(reg);
	snprintf(dir, sizeof(dir), "%s/" META_DIR, reg->cfg->data_dir);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (e = readdir(d)))
		if (is_meta(e->d_name))
			err = load_one(reg, e->d_name);
	closedir(d);
	if (!err)
		sfd_info("topic", "%u topics loaded", reg->ntopics);
	return err;
}

void sfd_registry_bury(struct sfd_registry *reg)
{
	char path[PATH_MAX];

	while (reg->graveyard) {
		struct sfd_topic *t = reg->graveyard;

		reg->graveyard = t->next;
		for (uint32_t i = 0; i < t->cfg.partitions; i++) {
			struct sfd_part *p = &t->parts[i];

			snprintf(path, sizeof(path), "%s", p->log_dir);
			part_close(p, true, true);
			rm_tree(path);
		}
		free(t->parts);
		free(t);
	}
}

void sfd_registry_close(struct sfd_registry *reg)
{
	sfd_registry_bury(reg);
	while (reg->topics) {
		struct sfd_topic *t = reg->topics;

		reg->topics = t->next;
		topic_free(t, false, reg->drained);
	}
	reg->ntopics = 0;
}

void sfd_part_info(struct sfd_part *p, struct sfshm_partition_info *o)
{
	memset(o, 0, sizeof(*o));
	o->partition = p->index;
	o->log_start = sfd_log_start_offset(p->log);
	o->log_end = sfd_log_end_offset(p->log);
	o->written_offset = sfd_log_written_offset(p->log);
	o->durable_offset = sfd_log_durable_offset(p->log);
	o->ring_size = sfshm_ring_size(p->owner);
	o->ring_tail = sfshm_ring_tail(p->owner);
	o->ring_clean = sfshm_ring_clean_pos(p->owner);
	o->ring_written = sfshm_ring_written(p->owner);
	o->ring_durable = sfshm_ring_durable(p->owner);
	o->log_bytes = sfd_log_size(p->log);
	o->segments = sfd_log_segment_count(p->log);
	o->producers = p->producers;
	o->consumers = p->consumers;
}

int sfd_part_list_offset(struct sfd_part *p, int64_t ts, int64_t *offset)
{
	int err;

	if (ts == -2) {
		*offset = sfd_log_start_offset(p->log);
		return 0;
	}
	if (ts == -1) {
		*offset = sfd_log_end_offset(p->log);
		return 0;
	}
	err = sfd_log_find_time(p->log, ts, offset);
	if (err == -ENOENT) {
		*offset = sfd_log_end_offset(p->log);
		err = 0;
	}
	return err;
}
