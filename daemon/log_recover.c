// SPDX-License-Identifier: MIT
/*
 * log_recover.c - bring a partition directory back to a consistent state.
 *
 * The algorithm is described at the top of log.c ("Recovery").  In short:
 * list the segments and drop stray files; check the index files of old
 * segments cheaply and rebuild the ones that fail; then check the active
 * segment batch by batch from its last trustworthy index point, cut what
 * follows the last good batch, fdatasync, and make the index files agree
 * with the batches.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_int.h"
#include "uio.h"

#define RECOVERY_WINDOW (1u << 20)
#define SEG_DIGITS 20

/* ---- listing ------------------------------------------------------------ */

enum name_kind {
	NAME_OTHER,
	NAME_LOG,
	NAME_INDEX, /* .index or .timeindex */
	NAME_TMP, /* a rebuild that did not finish */
};

static enum name_kind parse_name(const char *name, int64_t *base)
{
	static const struct {
		const char *suffix;
		enum name_kind kind;
	} kinds[] = {
		{ ".log", NAME_LOG }, /* the segment */
		{ ".index", NAME_INDEX }, /* kept if the .log exists */
		{ ".timeindex", NAME_INDEX },
		{ ".index.tmp", NAME_TMP }, /* an unfinished rebuild */
		{ ".timeindex.tmp", NAME_TMP },
	};
	uint64_t v = 0;

	for (int i = 0; i < SEG_DIGITS; i++) {
		unsigned d = (unsigned)(name[i] - '0');

		if (name[i] < '0' || name[i] > '9' ||
		    v > ((uint64_t)INT64_MAX - d) / 10)
			return NAME_OTHER;
		v = v * 10 + d;
	}
	*base = (int64_t)v;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(name + SEG_DIGITS, kinds[i].suffix))
			return kinds[i].kind;
	return NAME_OTHER;
}

static int seg_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct sfd_seg *)a)->base;
	int64_t y = ((const struct sfd_seg *)b)->base;

	return (x > y) - (x < y);
}

static bool has_segment(const struct sfd_log *log, int64_t base)
{
	struct sfd_seg key = { .base = base };

	return log->nsegs &&
	       bsearch(&key, log->segs, log->nsegs, sizeof(key), seg_cmp);
}

/* Pass over the directory; @logs: collect .log files, else drop strays. */
static int scan_dir(struct sfd_log *log, bool logs)
{
	int fd = dup(log->dir_fd);
	struct dirent *de;
	DIR *d;
	int ret = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d); /* the dup shares the position of earlier passes */
	while (!ret && (de = readdir(d))) {
		int64_t base;
		enum name_kind k = parse_name(de->d_name, &base);

		if (logs && k == NAME_LOG)
			ret = sfd_seg_push(log, base);
		else if (!logs &&
			 (k == NAME_TMP ||
			  (k == NAME_INDEX && !has_segment(log, base)))) {
			if (unlinkat(log->dir_fd, de->d_name, 0))
				ret = -errno;
			log->rec.orphans_removed++;
		}
	}
	closedir(d);
	return ret;
}

static int list_segments(struct sfd_log *log)
{
	int ret = scan_dir(log, true);

	if (ret)
		return ret;
	if (log->nsegs)
		qsort(log->segs, log->nsegs, sizeof(*log->segs), seg_cmp);
	log->rec.segments = log->nsegs;
	return scan_dir(log, false);
}

/* ---- old segments ------------------------------------------------------- */

static int seg_file_size(struct sfd_log *log, int64_t base, enum sfd_seg_file f,
			 uint64_t *size)
{
	char name[SFD_SEG_NAME_MAX];
	struct stat st;

	sfd_seg_name(name, base, f, false);
	if (fstatat(log->dir_fd, name, &st, 0))
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

/* Read the last entry of an index file; 0 entries gives *n == 0. */
static int last_entry(struct sfd_log *log, struct sfd_seg *s,
		      enum sfd_seg_file f, size_t esize, uint8_t *ent,
		      uint64_t *n)
{
	struct stat st;
	int fd = sfd_seg_fd(log, s, f);
	ssize_t got;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		return -errno;
	if ((uint64_t)st.st_size % esize)
		return -EBADMSG;
	*n = (uint64_t)st.st_size / esize;
	if (!*n)
		return 0;
	got = sfd_pread_all(fd, ent, esize, (*n - 1) * esize);
	if (got < 0)
		return (int)got;
	return (size_t)got == esize ? 0 : -EBADMSG;
}

/* Cheap check: sizes and the last entry; the full check is a rebuild. */
static bool old_index_sane(struct sfd_log *log, struct sfd_seg *s,
			   int64_t max_rel)
{
	uint8_t ent[SFD_IDX_ENTRY_SIZE];
	struct sfd_idx_ent e;
	uint64_t n;

	if (last_entry(log, s, SFD_SEG_INDEX, sizeof(ent), ent, &n))
		return false;
	if (!n)
		return true;
	sfd_idx_decode(ent, &e);
	return e.pos > 0 && e.pos < s->size && e.rel <= max_rel;
}

static bool old_timeindex_sane(struct sfd_log *log, struct sfd_seg *s,
			       int64_t max_rel)
{
	uint8_t ent[SFD_TIM_ENTRY_SIZE];
	struct sfd_tim_ent e;
	uint64_t n;

	if (last_entry(log, s, SFD_SEG_TIMEINDEX, sizeof(ent), ent, &n))
		return false;
	s->max_ts = SF_RB_NO_TIMESTAMP;
	if (!n)
		return true;
	sfd_tim_decode(ent, &e);
	if (e.ts < 0 || e.rel > max_rel)
		return false;
	s->max_ts = e.ts;
	return true;
}

/* Does batch @h continue the segment being built? */
static bool batch_follows(const struct sfd_build *b, const struct sf_rb_hdr *h)
{
	return h->base_offset == b->next &&
	       h->base_offset + h->last_offset_delta - b->base <=
		       SFD_SEG_MAX_REL;
}

/*
 * Feed the batches from the scanner's position into @b until the end of
 * the data or the first batch that is bad or does not follow.
 * Return: 0 at a clean end, -EBADMSG at a bad batch, or an I/O error.
 */
static int build_scan(struct sfd_build *b, struct sfd_scan *sc,
		      struct sfd_log_recovery *rec)
{
	struct sf_rb_hdr h;
	int ret;

	while ((ret = sfd_scan_next(sc, &h)) == 1) {
		if (!batch_follows(b, &h))
			return -EBADMSG;
		ret = sfd_build_reserve(b);
		if (ret)
			return ret;
		sfd_build_add(b, &h, sc->pos - sf_rb_size(&h));
		if (rec) {
			rec->batches_checked++;
			rec->bytes_checked += sf_rb_size(&h);
		}
	}
	return ret;
}

/* Write entries to <base>.<f>.tmp, sync, and rename over the real file. */
static int write_index_file(struct sfd_log *log, int64_t base,
			    enum sfd_seg_file f, const struct sfd_build *b)
{
	char tmp[SFD_SEG_NAME_MAX], name[SFD_SEG_NAME_MAX];
	struct sfd_uio_req req;
	uint32_t done;
	int fd, ret;

	sfd_seg_name(tmp, base, f, true);
	sfd_seg_name(name, base, f, false);
	fd = openat(log->dir_fd, tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0)
		return -errno;
	if (f == SFD_SEG_INDEX)
		ret = sfd_idx_write(log, fd, b->idx, 0, b->nidx, &done);
	else
		ret = sfd_tim_write(log, fd, b->tim, 0, b->ntim, &done);
	req = sfd_uio_sync(fd, SFD_UIO_FDATASYNC);
	if (!ret)
		ret = sfd_uio_run(log->uio, &req, 1);
	close(fd);
	if (!ret && renameat(log->dir_fd, tmp, log->dir_fd, name))
		ret = -errno;
	if (ret)
		unlinkat(log->dir_fd, tmp, 0);
	return ret;
}

static int rebuild_old(struct sfd_log *log, struct sfd_seg *s)
{
	struct sfd_build b;
	struct sfd_scan sc;
	int fd = sfd_seg_fd(log, s, SFD_SEG_LOG), ret;

	if (fd < 0)
		return fd;
	sfd_build_init(&b, s->base, log->cfg.index_interval_bytes);
	ret = sfd_scan_init(&sc, fd, 0, s->size, RECOVERY_WINDOW, true);
	if (ret)
		return ret;
	ret = build_scan(&b, &sc, NULL);
	sfd_scan_release(&sc);
	if (ret == -EBADMSG) {
		log->rec.corrupt_segments++; /* indexed up to the bad batch */
		ret = 0;
	}
	if (!ret)
		ret = sfd_build_seal(&b);
	sfd_seg_close(log, s); /* the index fds refer to the old files */
	if (!ret)
		ret = write_index_file(log, s->base, SFD_SEG_INDEX, &b);
	if (!ret)
		ret = write_index_file(log, s->base, SFD_SEG_TIMEINDEX, &b);
	s->max_ts = b.max_ts;
	sfd_build_release(&b);
	log->rec.indexes_rebuilt++;
	return ret;
}

static int recover_old(struct sfd_log *log, uint32_t i)
{
	struct sfd_seg *s = &log->segs[i];
	int64_t max_rel = log->segs[i + 1].base - 1 - s->base;
	int ret = seg_file_size(log, s->base, SFD_SEG_LOG, &s->size);
	bool idx_ok, tim_ok;

	if (ret)
		return ret;
	idx_ok = old_index_sane(log, s, max_rel);
	tim_ok = old_timeindex_sane(log, s, max_rel); /* sets max_ts */
	return idx_ok && tim_ok ? 0 : rebuild_old(log, s);
}

/* ---- the active segment ------------------------------------------------- */

/* An index file's entries as found, and how many form a valid prefix. */
struct file_entries {
	uint8_t *raw;
	uint64_t n; /* whole entries in the file */
	uint64_t valid;
	bool missing;
};

static int open_or_create(struct sfd_log *log, struct sfd_seg *s,
			  enum sfd_seg_file f, bool *missing)
{
	char name[SFD_SEG_NAME_MAX];
	int fd = sfd_seg_fd(log, s, f);

	*missing = false;
	if (fd != -ENOENT)
		return fd;
	*missing = true;
	sfd_seg_name(name, s->base, f, false);
	fd = openat(log->dir_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	s->fd[f] = fd;
	return fd;
}

/*
 * Read an index file of the active segment.  Entries point at distinct
 * batches, so a file with more entries than @fsize has room for batches
 * is damaged past that point and is only read that far.
 */
static int load_entries(int fd, size_t esize, uint64_t fsize,
			struct file_entries *fe)
{
	uint64_t max = fsize / SF_RB_HEADER_SIZE + 1;
	struct stat st;
	ssize_t got;

	fe->raw = NULL;
	fe->n = fe->valid = 0;
	if (fstat(fd, &st))
		return -errno;
	fe->n = (uint64_t)st.st_size / esize;
	if (fe->n > max)
		fe->n = max;
	if (!fe->n)
		return 0;
	fe->raw = malloc(fe->n * esize);
	if (!fe->raw)
		return -ENOMEM;
	got = sfd_pread_all(fd, fe->raw, fe->n * esize, 0);
	if (got < 0)
		return (int)got;
	fe->n = (uint64_t)got / esize;
	return 0;
}

/* Valid prefix: increasing offsets and positions inside the data. */
static void idx_validate(struct file_entries *fe, uint64_t fsize)
{
	struct sfd_idx_ent e, prev = { 0, 0 };

	for (fe->valid = 0; fe->valid < fe->n; fe->valid++) {
		sfd_idx_decode(fe->raw + fe->valid * SFD_IDX_ENTRY_SIZE, &e);
		if (e.pos == 0 || e.pos >= fsize || e.rel > SFD_SEG_MAX_REL)
			break;
		if (fe->valid && (e.rel <= prev.rel || e.pos <= prev.pos))
			break;
		prev = e;
	}
}

/*
 * Valid prefix of the time index: increasing timestamps, and each entry
 * at an offset the valid index has a point for (that is where entries are
 * made while appending; the closing entry of a sealed segment is not, and
 * is made again if the segment is sealed again).
 */
static void tim_validate(struct file_entries *fe,
			 const struct file_entries *idx)
{
	struct sfd_tim_ent e, prev = { SF_RB_NO_TIMESTAMP, 0 };
	struct sfd_idx_ent ie;
	uint64_t k = 0;

	for (fe->valid = 0; fe->valid < fe->n; fe->valid++) {
		sfd_tim_decode(fe->raw + fe->valid * SFD_TIM_ENTRY_SIZE, &e);
		if (e.ts <= prev.ts)
			break;
		for (; k < idx->valid; k++) {
			sfd_idx_decode(idx->raw + k * SFD_IDX_ENTRY_SIZE, &ie);
			if (ie.rel >= e.rel)
				break;
		}
		if (k == idx->valid || ie.rel != e.rel)
			break;
		prev = e;
	}
}

/* Index position of the point the last valid time index entry is at. */
static uint64_t start_point(const struct file_entries *idx,
			    const struct file_entries *tim,
			    struct sfd_idx_ent *ie, struct sfd_tim_ent *te)
{
	uint64_t k;

	sfd_tim_decode(tim->raw + (tim->valid - 1) * SFD_TIM_ENTRY_SIZE, te);
	for (k = 0; k < idx->valid; k++) {
		sfd_idx_decode(idx->raw + k * SFD_IDX_ENTRY_SIZE, ie);
		if (ie->rel == te->rel)
			break;
	}
	return k;
}

static int64_t first_batch_ts(int fd)
{
	uint8_t p[SF_RB_HEADER_SIZE];
	struct sf_rb_hdr h;

	if (sfd_pread_all(fd, p, sizeof(p), 0) != (ssize_t)sizeof(p) ||
	    sf_rb_parse_header(p, sizeof(p), &h))
		return SF_RB_NO_TIMESTAMP;
	return h.max_timestamp;
}

/*
 * Resume from the index point the last valid time index entry is at: the
 * batch there is checked, and the index state after it is known from the
 * files (the entries up to it, and the largest timestamp so far from the
 * time index entry).  Returns false to start from the segment start.
 */
static bool resume_at_point(struct sfd_log *log, struct sfd_scan *sc,
			    const struct file_entries *idx,
			    const struct file_entries *tim)
{
	struct sfd_build *b = &log->act;
	struct sfd_idx_ent ie;
	struct sfd_tim_ent te;
	struct sf_rb_hdr h;
	uint64_t k;

	if (!tim->valid)
		return false;
	k = start_point(idx, tim, &ie, &te);
	sc->pos = ie.pos;
	if (sfd_scan_next(sc, &h) != 1 ||
	    h.base_offset + h.last_offset_delta != b->base + ie.rel ||
	    sfd_build_reserve(b))
		return false;
	for (uint64_t i = 0; i <= k; i++) {
		if (sfd_build_reserve(b))
			return false;
		sfd_idx_decode(idx->raw + i * SFD_IDX_ENTRY_SIZE,
			       &b->idx[b->nidx++]);
	}
	for (uint64_t i = 0; i < tim->valid; i++) {
		if (sfd_build_reserve(b))
			return false;
		sfd_tim_decode(tim->raw + i * SFD_TIM_ENTRY_SIZE,
			       &b->tim[b->ntim++]);
	}
	b->next = b->base + ie.rel + 1;
	b->size = sc->pos;
	b->last_idx_pos = ie.pos;
	b->max_ts = te.ts;
	b->first_ts = first_batch_ts(sc->fd);
	log->rec.scan_start = ie.pos;
	return true;
}

/* Check the batches of the active segment; cut after the last good one. */
static int check_active(struct sfd_log *log, int fd, uint64_t fsize,
			const struct file_entries *idx,
			const struct file_entries *tim)
{
	struct sfd_scan sc;
	int ret = sfd_scan_init(&sc, fd, 0, fsize, RECOVERY_WINDOW, true);

	if (ret)
		return ret;
	if (!resume_at_point(log, &sc, idx, tim)) {
		sfd_build_clear(&log->act, log->act.base);
		sc.pos = 0;
		log->rec.scan_start = 0;
	}
	ret = build_scan(&log->act, &sc, &log->rec);
	sfd_scan_release(&sc);
	if (ret && ret != -EBADMSG)
		return ret;
	if (log->act.size < fsize) {
		log->rec.bytes_truncated = fsize - log->act.size;
		log->rec.truncated_at = (int64_t)log->act.size;
		if (ftruncate(fd, (off_t)log->act.size))
			return -errno;
	}
	return 0;
}

/* First entry where the file differs from what the batches say. */
static uint32_t idx_diff(const struct file_entries *fe,
			 const struct sfd_build *b)
{
	struct sfd_idx_ent e;
	uint32_t i;

	for (i = 0; i < fe->n && i < b->nidx; i++) {
		sfd_idx_decode(fe->raw + (size_t)i * SFD_IDX_ENTRY_SIZE, &e);
		if (e.rel != b->idx[i].rel || e.pos != b->idx[i].pos)
			break;
	}
	return i;
}

static uint32_t tim_diff(const struct file_entries *fe,
			 const struct sfd_build *b)
{
	struct sfd_tim_ent e;
	uint32_t i;

	for (i = 0; i < fe->n && i < b->ntim; i++) {
		sfd_tim_decode(fe->raw + (size_t)i * SFD_TIM_ENTRY_SIZE, &e);
		if (e.ts != b->tim[i].ts || e.rel != b->tim[i].rel)
			break;
	}
	return i;
}

/*
 * Cut an index file at entry @d and write the rest from memory; *disk
 * tells how many entries the file holds correctly afterwards.
 */
static int repair_file(struct sfd_log *log, int fd, enum sfd_seg_file f,
		       uint32_t d, uint64_t file_bytes, uint32_t *disk)
{
	size_t esize = f == SFD_SEG_INDEX ? SFD_IDX_ENTRY_SIZE :
					    SFD_TIM_ENTRY_SIZE;
	uint32_t to = f == SFD_SEG_INDEX ? log->act.nidx : log->act.ntim;

	*disk = d;
	if ((uint64_t)d * esize == file_bytes && d == to)
		return 0; /* nothing to do */
	if (ftruncate(fd, (off_t)((uint64_t)d * esize)))
		return -errno;
	if (f == SFD_SEG_INDEX)
		return sfd_idx_write(log, fd, log->act.idx, d, to, disk);
	return sfd_tim_write(log, fd, log->act.tim, d, to, disk);
}

static int repair_indexes(struct sfd_log *log, struct sfd_seg *s,
			  const struct file_entries *idx,
			  const struct file_entries *tim)
{
	struct sfd_log_recovery *r = &log->rec;
	uint32_t di = idx_diff(idx, &log->act), dt = tim_diff(tim, &log->act);
	struct stat si, st;

	if (fstat(s->fd[SFD_SEG_INDEX], &si) ||
	    fstat(s->fd[SFD_SEG_TIMEINDEX], &st))
		return -errno;
	r->index_entries_dropped = (uint32_t)(idx->n - di);
	r->index_entries_written = log->act.nidx - di;
	r->timeindex_entries_dropped = (uint32_t)(tim->n - dt);
	r->timeindex_entries_written = log->act.ntim - dt;
	/*
	 * The files are only a cache of what the batches say: a failure
	 * here leaves the rest to the next flush, it does not fail open.
	 */
	if (repair_file(log, s->fd[SFD_SEG_INDEX], SFD_SEG_INDEX, di,
			(uint64_t)si.st_size, &log->idx_disk))
		log->st.index_write_errors++;
	if (repair_file(log, s->fd[SFD_SEG_TIMEINDEX], SFD_SEG_TIMEINDEX, dt,
			(uint64_t)st.st_size, &log->tim_disk))
		log->st.index_write_errors++;
	return 0;
}

static int load_active_indexes(struct sfd_log *log, struct sfd_seg *s,
			       uint64_t fsize, struct file_entries *idx,
			       struct file_entries *tim)
{
	int fi = open_or_create(log, s, SFD_SEG_INDEX, &idx->missing);
	int ft = open_or_create(log, s, SFD_SEG_TIMEINDEX, &tim->missing);
	int ret;

	if (fi < 0 || ft < 0)
		return fi < 0 ? fi : ft;
	ret = load_entries(fi, SFD_IDX_ENTRY_SIZE, fsize, idx);
	if (!ret)
		ret = load_entries(ft, SFD_TIM_ENTRY_SIZE, fsize, tim);
	if (ret)
		return ret;
	idx_validate(idx, fsize);
	tim_validate(tim, idx);
	if (fsize && (idx->missing || tim->missing))
		log->rec.indexes_rebuilt++;
	return 0;
}

static int sync_fd(struct sfd_log *log, int fd)
{
	struct sfd_uio_req req = sfd_uio_sync(fd, SFD_UIO_FDATASYNC);

	return sfd_uio_run(log->uio, &req, 1);
}

static void set_watermarks(struct sfd_log *log)
{
	int64_t now = sfd_log_now(log);
	int64_t first = log->act.first_ts;

	log->written_size = log->stage_pos = log->act.size;
	log->written_next = log->durable_next = log->act.next;
	log->roll_start_ms = first >= 0 && first <= now ? first : now;
}

static int recover_active(struct sfd_log *log)
{
	struct sfd_seg *s = sfd_log_active(log);
	struct file_entries idx = { 0 }, tim = { 0 };
	int fd = sfd_seg_fd(log, s, SFD_SEG_LOG), ret;
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st))
		return -errno;
	sfd_build_clear(&log->act, s->base);
	ret = load_active_indexes(log, s, (uint64_t)st.st_size, &idx, &tim);
	if (!ret)
		ret = check_active(log, fd, (uint64_t)st.st_size, &idx, &tim);
	if (!ret) /* index entries may only describe durable data */
		ret = sync_fd(log, fd);
	if (!ret)
		ret = repair_indexes(log, s, &idx, &tim);
	free(idx.raw);
	free(tim.raw);
	set_watermarks(log);
	return ret;
}

int sfd_log_recover(struct sfd_log *log)
{
	int ret = list_segments(log);

	log->rec.truncated_at = -1;
	if (!ret && !log->nsegs)
		ret = sfd_seg_create(log, 0);
	for (uint32_t i = 0; !ret && i + 1 < log->nsegs; i++)
		ret = recover_old(log, i);
	if (!ret)
		ret = recover_active(log);
	return ret;
}
