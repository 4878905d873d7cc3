// SPDX-License-Identifier: MIT
/*
 * segread.c - a read-only reader of a partition's segment files.
 *
 * How it reads
 * ------------
 * The reader keeps one segment's .log open and a position in it: the file
 * position of the next batch (pos), the base offset that batch must have
 * (expect: offsets are dense, each batch starts right after the previous
 * one's last offset) and the offset of the next record to hand out
 * (next; records below it are skipped, which is how a seek into the
 * middle of a batch works).
 *
 * Files are read with pread() into a window buffer that grows to the
 * largest batch seen; a batch is only used once all of it is in the
 * window and its CRC-32C matches (sf_rb_iter_init() runs sf_rb_check()).
 * The files are deliberately not mmap()ed: the daemon cuts a torn tail
 * off the active segment with ftruncate() when it restarts, and touching
 * a mapped page past the new end of file raises SIGBUS in the reader - a
 * signal a library cannot handle for its caller.  pread() simply returns
 * fewer bytes.  For the same reason nothing the window holds is believed
 * when it looks bad: the window is read again before a batch is declared
 * incomplete or damaged, since the bytes may have been replaced since.
 *
 * Seeking lists the directory, picks the segment with the largest base
 * offset <= the wanted one, and binary-searches its .index (8-byte
 * big-endian entries: the batch's last offset - base, u32, and its file
 * position, u32) for the last entry at or below the wanted offset.  The
 * entry is a hint: the batch header at its position must parse and end
 * at the entry's offset, or the scan starts at position 0.  Batches are
 * then read forward; those that end below the wanted offset are passed
 * by on their header alone (their records are not used, so their CRC is
 * not computed), the others are checked whole.
 *
 * The end of what is readable
 * ---------------------------
 * When the batch at pos cannot be used, the reader decides between
 * "nothing more yet" and corruption:
 *
 *  - end of file: nothing more in this segment;
 *  - an incomplete batch whose header is sane and carries the expected
 *    base offset: a write in progress (or a torn tail);
 *  - anything else (a header that does not parse or has the wrong base
 *    offset, a CRC mismatch): if a valid batch (CRC good, base offset at
 *    or past the expected one) starts anywhere after pos, this is
 *    corruption with data after it, -EBADMSG; otherwise a write in
 *    progress or a torn tail.  That search reads the rest of the file
 *    once; its answer is remembered until the file grows.
 *
 * In every "nothing more in this segment" case the directory is listed
 * again.  If a newer segment exists, the daemon completed this one before
 * creating it (a roll flushes the old segment first), so the batch at pos
 * is read once more: a batch now is read; a clean end of file moves to
 * the newer segment, which must start at the expected offset; anything
 * else is damage in a finished segment, -EBADMSG.  If the newer segment
 * is gone by the time it is opened, or the position fell below the log
 * start, retention removed what the reader needed: -ERANGE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "recordbatch.h"
#include "segread.h"
#include "sf_be.h"

#define SEG_DIGITS 20 /* a segment is named by 20 decimal digits */
#define SEG_NAME_MAX 40
#define IDX_ENTRY_SIZE 8 /* relative last offset u32, position u32 */
#define WINDOW (64u << 10) /* bytes read at a time, at least */
#define LOCATE_TRIES 16 /* listings retried while segments vanish */

/* What the batch at the position turned out to be. */
enum ld_state {
	LD_OK = 1, /* a whole batch with a good CRC, in the iterator */
	LD_SKIP, /* a whole batch that ends below next: not even read */
	LD_EOF, /* end of file at the position */
	LD_SHORT, /* a sane header, the batch not all there yet */
	LD_BAD, /* not a batch, the wrong batch, or a CRC mismatch */
};

/* advance() results besides LD_OK (a batch to read), 0 and -errno. */
#define ADV_AGAIN 10 /* moved on (another batch or segment): go on */

struct sf_segreader {
	DIR *dir;
	int64_t *bases; /* segments found by the last listing, sorted */
	uint32_t nbases, bases_cap;

	int fd; /* current segment's .log, -1: locate first */
	int64_t seg_base;
	uint64_t pos; /* file position of the next batch */
	int64_t expect; /* base offset the batch at pos must have */
	int64_t next; /* offset of the next record to return */

	uint8_t *buf; /* window: file bytes [win_off, win_off + win_len) */
	size_t cap;
	uint64_t win_off;
	size_t win_len;
	bool win_fresh; /* the window was read during this load */

	struct sf_rb_hdr hdr; /* of the batch at pos, once loaded */
	bool in_batch; /* @it is reading the batch at pos */
	struct sf_rb_iter it;

	uint64_t clean_pos; /* no valid batch after clean_pos ... */
	off_t clean_size; /* ... while the file had this size (-1: unknown) */
};

/* ---- directory listing -------------------------------------------------- */

/* "<20 digits>.log" -> its base offset. */
static bool seg_name_parse(const char *name, int64_t *base)
{
	int64_t v = 0;

	for (int i = 0; i < SEG_DIGITS; i++) {
		int d = name[i] - '0';

		if (d < 0 || d > 9 || v > (INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (strcmp(name + SEG_DIGITS, ".log"))
		return false;
	*base = v;
	return true;
}

static int bases_push(struct sf_segreader *sr, int64_t base)
{
	if (sr->nbases == sr->bases_cap) {
		uint32_t cap = sr->bases_cap ? sr->bases_cap * 2 : 16;
		int64_t *p = realloc(sr->bases, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		sr->bases = p;
		sr->bases_cap = cap;
	}
	sr->bases[sr->nbases++] = base;
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* An empty listing of a directory that was removed means "deleted". */
static int dir_gone(struct sf_segreader *sr)
{
	struct stat st;

	if (fstat(dirfd(sr->dir), &st))
		return -errno;
	return st.st_nlink == 0 ? -ENOENT : 0;
}

/* List the segments again (readdir() sees the directory as it is now). */
static int rescan(struct sf_segreader *sr)
{
	struct dirent *de;
	int64_t base;
	int ret = 0;

	sr->nbases = 0;
	rewinddir(sr->dir);
	for (errno = 0; !ret && (de = readdir(sr->dir)); errno = 0)
		if (seg_name_parse(de->d_name, &base))
			ret = bases_push(sr, base);
	if (!ret && errno)
		ret = -errno;
	if (ret)
		return ret;
	if (!sr->nbases)
		return dir_gone(sr);
	qsort(sr->bases, sr->nbases, sizeof(*sr->bases), cmp_i64);
	return 0;
}

static int64_t log_start(const struct sf_segreader *sr)
{
	return sr->nbases ? sr->bases[0] : 0;
}

/* Base of the oldest listed segment newer than the current one, or -1. */
static int64_t newer_base(const struct sf_segreader *sr)
{
	for (uint32_t i = 0; i < sr->nbases; i++)
		if (sr->bases[i] > sr->seg_base)
			return sr->bases[i];
	return -1;
}

/* The listed segment that holds @offset (>= log_start()). */
static int64_t holding_base(const struct sf_segreader *sr, int64_t offset)
{
	uint32_t lo = 0, hi = sr->nbases;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (sr->bases[mid] <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	return sr->bases[lo - 1];
}

static int seg_openat(struct sf_segreader *sr, int64_t base, const char *sfx)
{
	char name[SEG_NAME_MAX];
	int fd;

	snprintf(name, sizeof(name), "%020" PRId64 "%s", base, sfx);
	fd = openat(dirfd(sr->dir), name, O_RDONLY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* ---- the window ---------------------------------------------------------- */

static void win_drop(struct sf_segreader *sr)
{
	sr->win_len = 0;
}

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, (char *)buf + got, len - got,
				  (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Does the file hold [off, off + len)?  Asked before growing the buffer
 * for a length read from the file.  Return: 1, 0, or -errno. */
static int file_holds(int fd, uint64_t off, size_t len)
{
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	return off <= (uint64_t)st.st_size && len <= st.st_size - off;
}

static int win_room(struct sf_segreader *sr, size_t len)
{
	uint8_t *p;

	if (len <= sr->cap)
		return 0;
	p = realloc(sr->buf, len);
	if (!p)
		return -ENOMEM;
	sr->buf = p;
	sr->cap = len;
	return 0;
}

static bool in_window(const struct sf_segreader *sr, uint64_t off, size_t len)
{
	return off >= sr->win_off && off - sr->win_off <= sr->win_len &&
	       len <= sr->win_len - (off - sr->win_off);
}

/* Read file bytes from @off on, at least @len of them if the file has them. */
static int win_fill(struct sf_segreader *sr, uint64_t off, size_t len)
{
	size_t want = len > WINDOW ? len : WINDOW;
	ssize_t n;
	int ret;

	if (len > WINDOW) {
		ret = file_holds(sr->fd, off, len);
		if (ret <= 0)
			return ret; /* not there: do not allocate for it */
	}
	ret = win_room(sr, want);
	if (ret)
		return ret;
	win_drop(sr);
	n = pread_full(sr->fd, sr->buf, want, off);
	if (n < 0)
		return (int)n;
	sr->win_off = off;
	sr->win_len = (size_t)n;
	sr->win_fresh = true;
	return 1;
}

/*
 * Point *p at file bytes [off, off + len), reading them if the window
 * does not hold them.  Return: how many of them the file has (less than
 * @len at its end, possibly 0 although a few exist), or -errno.
 */
static ssize_t win_get(struct sf_segreader *sr, uint64_t off, size_t len,
		       const uint8_t **p)
{
	size_t have;
	int ret;

	if (!in_window(sr, off, len)) {
		ret = win_fill(sr, off, len);
		if (ret <= 0)
			return ret;
	}
	*p = sr->buf + (off - sr->win_off);
	have = sr->win_len - (size_t)(off - sr->win_off);
	return (ssize_t)(have < len ? have : len);
}

/* ---- segments and the index --------------------------------------------- */

static void seg_drop(struct sf_segreader *sr)
{
	if (sr->fd >= 0)
		close(sr->fd);
	sr->fd = -1;
	sr->in_batch = false;
	sr->clean_size = -1;
	win_drop(sr);
}

/* Make segment @base current, at its first batch. */
static int seg_enter(struct sf_segreader *sr, int64_t base)
{
	int fd = seg_openat(sr, base, ".log");

	if (fd < 0)
		return fd;
	seg_drop(sr);
	sr->fd = fd;
	sr->seg_base = base;
	sr->pos = 0;
	sr->expect = base;
	return 0;
}

struct idx_ent {
	uint32_t rel; /* last offset of the batch - segment base */
	uint32_t pos; /* file position of the batch */
};

static int idx_read(int fd, uint64_t i, struct idx_ent *e)
{
	uint8_t b[IDX_ENTRY_SIZE];
	ssize_t n = pread_full(fd, b, sizeof(b), i * IDX_ENTRY_SIZE);

	if (n != (ssize_t)sizeof(b))
		return n < 0 ? (int)n : -EBADMSG;
	e->rel = sf_get_be32(b);
	e->pos = sf_get_be32(b + 4);
	return 0;
}

/* The last of @n entries whose rel is <= @want (entries increase).
 * Return: 1 found, 0 none, -errno. */
static int idx_search(int fd, uint64_t n, int64_t want, struct idx_ent *e)
{
	uint64_t lo = 0, hi = n;
	int ret;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		ret = idx_read(fd, mid, e);
		if (ret)
			return ret;
		if (e->rel <= want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? !idx_read(fd, lo - 1, e) : 0;
}

/* Look @offset up in the current segment's .index.  Return: 1 with an
 * entry, 0 without (no index, unreadable, nothing at or below). */
static int idx_lookup(struct sf_segreader *sr, int64_t offset,
		      struct idx_ent *e)
{
	int fd = seg_openat(sr, sr->seg_base, ".index");
	struct stat st;
	int ret = 0;

	if (fd < 0)
		return 0;
	if (!fstat(fd, &st))
		ret = idx_search(fd, (uint64_t)st.st_size / IDX_ENTRY_SIZE,
				 offset - sr->seg_base, e);
	close(fd);
	return ret > 0;
}

/* Start at the batch an index entry names, if it is that batch. */
static void hint_take(struct sf_segreader *sr, const struct idx_ent *e)
{
	const uint8_t *p;
	struct sf_rb_hdr h;

	if (e->pos == 0 ||
	    win_get(sr, e->pos, SF_RB_HEADER_SIZE, &p) != SF_RB_HEADER_SIZE ||
	    sf_rb_parse_header(p, SF_RB_HEADER_SIZE, &h))
		return;
	if (h.base_offset < sr->seg_base ||
	    h.base_offset - sr->seg_base + h.last_offset_delta != e->rel)
		return;
	sr->pos = e->pos;
	sr->expect = h.base_offset;
}

/*
 * Open the segment holding @offset and find where to start reading.
 * Return: 0 (with no segment current if the directory has none yet),
 * -ERANGE below the log start, -errno.
 */
static int locate(struct sf_segreader *sr, int64_t offset)
{
	struct idx_ent e;
	int ret = -ENOENT;

	for (int i = 0; i < LOCATE_TRIES && ret == -ENOENT; i++) {
		ret = rescan(sr);
		if (ret)
			return ret;
		if (!sr->nbases) {
			seg_drop(sr);
			return 0;
		}
		if (offset < log_start(sr))
			return -ERANGE;
		ret = seg_enter(sr, holding_base(sr, offset));
	}
	if (!ret && idx_lookup(sr, offset, &e))
		hint_take(sr, &e);
	return ret;
}

/* ---- loading a batch ---------------------------------------------------- */

/* A batch that ends below next is skipped on its header alone, once the
 * file holds all of it. */
static int load_skip(struct sf_segreader *sr)
{
	int ret = file_holds(sr->fd, sr->pos, sf_rb_size(&sr->hdr));

	if (ret < 0)
		return ret;
	return ret ? LD_SKIP : LD_SHORT;
}

static int load_once(struct sf_segreader *sr)
{
	struct sf_rb_hdr *h = &sr->hdr;
	const uint8_t *p;
	ssize_t n = win_get(sr, sr->pos, SF_RB_HEADER_SIZE, &p);

	if (n <= 0)
		return n ? (int)n : LD_EOF;
	if (n < SF_RB_HEADER_SIZE)
		return LD_SHORT;
	if (sf_rb_parse_header(p, SF_RB_HEADER_SIZE, h) ||
	    h->base_offset != sr->expect ||
	    h->base_offset + h->last_offset_delta == INT64_MAX)
		return LD_BAD; /* (the last test keeps expect from overflowing) */
	if (h->base_offset + h->last_offset_delta < sr->next)
		return load_skip(sr);
	n = win_get(sr, sr->pos, sf_rb_size(h), &p);
	if (n < 0)
		return (int)n;
	if ((size_t)n < sf_rb_size(h))
		return LD_SHORT;
	return sf_rb_iter_init(&sr->it, p, (size_t)n) ? LD_BAD : LD_OK;
}

/*
 * Load the batch at pos into the iterator.  A verdict other than LD_OK
 * reached on bytes the window held from before is checked again on bytes
 * read now.  Return: enum ld_state, or -errno.
 */
static int load(struct sf_segreader *sr)
{
	int ret;

	sr->win_fresh = false;
	ret = load_once(sr);
	if (ret >= LD_EOF && !sr->win_fresh) {
		win_drop(sr);
		ret = load_once(sr);
	}
	return ret;
}

/* Is a valid batch at @q, one that could follow the expected offset? */
static int valid_at(struct sf_segreader *sr, uint64_t q)
{
	const uint8_t *p;
	struct sf_rb_hdr h;
	ssize_t n = win_get(sr, q, SF_RB_HEADER_SIZE, &p);

	if (n < SF_RB_HEADER_SIZE)
		return n < 0 ? (int)n : 0;
	if (p[SF_RB_OFF_MAGIC] != SF_RB_MAGIC ||
	    sf_rb_parse_header(p, SF_RB_HEADER_SIZE, &h) ||
	    h.base_offset < sr->expect)
		return 0;
	n = win_get(sr, q, sf_rb_size(&h), &p);
	if (n < 0)
		return (int)n;
	return (size_t)n == sf_rb_size(&h) && !sf_rb_check(p, (size_t)n, &h);
}

/*
 * Does a valid batch start anywhere after pos?  Then the bad bytes at pos
 * are corruption, not a write in progress.  The whole rest of the file
 * is searched, once for each size it has.  Return: 1, 0, or -errno.
 */
static int valid_after(struct sf_segreader *sr)
{
	struct stat st;
	int ret = 0;

	if (fstat(sr->fd, &st))
		return -errno;
	if (sr->pos == sr->clean_pos && st.st_size == sr->clean_size)
		return 0;
	for (uint64_t q = sr->pos + 1;
	     !ret && q + SF_RB_HEADER_SIZE <= (uint64_t)st.st_size; q++)
		ret = valid_at(sr, q);
	if (!ret) {
		sr->clean_pos = sr->pos;
		sr->clean_size = st.st_size;
	}
	return ret;
}

/* The file ends exactly at pos (not before it: that is a cut). */
/*
 * End of file at pos: is that where the file ends?  0 yes; ADV_AGAIN if
 * it has grown since we read (the daemon appended: read again); -EBADMSG
 * if it is shorter (cut below what we read).
 */
static int clean_end(struct sf_segreader *sr)
{
	struct stat st;

	if (fstat(sr->fd, &st))
		return -errno;
	if ((uint64_t)st.st_size == sr->pos)
		return 0;
	return (uint64_t)st.st_size > sr->pos ? ADV_AGAIN : -EBADMSG;
}

/* ---- moving forward ----------------------------------------------------- */

/*
 * The current segment is finished and the newer one (by the listing)
 * starts at @nb: move there.  Return: ADV_AGAIN or -errno.
 */
static int roll_over(struct sf_segreader *sr, int64_t nb)
{
	int ret = clean_end(sr);

	if (ret)
		return ret;
	if (sr->next < log_start(sr))
		return -ERANGE; /* retention took what comes next */
	if (nb < sr->expect || (nb > sr->expect && sr->next < nb))
		return -EBADMSG; /* segments overlap, or records are missing */
	if (nb > sr->expect) {
		seg_drop(sr); /* a gap below the position: look it up */
		return ADV_AGAIN;
	}
	ret = seg_enter(sr, nb);
	if (ret == -ENOENT) {
		seg_drop(sr); /* deleted meanwhile: look it up again */
		return ADV_AGAIN;
	}
	return ret ? ret : ADV_AGAIN;
}

/*
 * A newer segment exists, so the daemon completed the current one before
 * creating it: look at pos once more (load() reads the file again rather
 * than trust the window for a bad verdict).
 * Return: ADV_AGAIN or -errno.
 */
static int finished_seg(struct sf_segreader *sr, int64_t nb)
{
	int st = load(sr);

	if (st == LD_OK || st == LD_SKIP)
		return ADV_AGAIN; /* it is there now: read it from the window */
	if (st != LD_EOF)
		return st < 0 ? st : -EBADMSG;
	return roll_over(sr, nb);
}

/*
 * The batch at pos is not readable (@st): wait for it, or move on to the
 * next segment, or report corruption.  Return: 0 to wait, ADV_AGAIN, or
 * -errno.
 */
static int at_end(struct sf_segreader *sr, int st)
{
	int64_t nb;
	int ret = 0;

	if (st == LD_BAD)
		ret = valid_after(sr);
	else if (st == LD_EOF)
		ret = clean_end(sr);
	if (ret == ADV_AGAIN && st == LD_EOF)
		return ADV_AGAIN; /* grew meanwhile: read it */
	if (ret)
		return ret < 0 ? ret : -EBADMSG;
	ret = rescan(sr);
	if (ret)
		return ret;
	nb = newer_base(sr);
	return nb < 0 ? 0 : finished_seg(sr, nb);
}

static void batch_done(struct sf_segreader *sr)
{
	const struct sf_rb_hdr *h = &sr->hdr;

	sr->in_batch = false;
	sr->pos += sf_rb_size(h);
	sr->expect = h->base_offset + h->last_offset_delta + 1;
	if (sr->next < sr->expect)
		sr->next = sr->expect;
}

/* A batch was loaded: read it, or pass it by.  (A compressed batch is
 * refused by the iterator: batch_read().) */
static int batch_begin(struct sf_segreader *sr)
{
	if (sr->hdr.attributes & SF_RB_ATTR_CONTROL) {
		batch_done(sr); /* transaction markers: not for consumers */
		return ADV_AGAIN;
	}
	sr->in_batch = true;
	return LD_OK;
}

/*
 * Get to a batch that holds the next record.  Return: LD_OK (in the
 * iterator), ADV_AGAIN (call again), 0 (nothing yet), or -errno.
 */
static int advance(struct sf_segreader *sr)
{
	int ret;

	do {
		if (sr->fd < 0) {
			ret = locate(sr, sr->next);
			if (ret || sr->fd < 0)
				return ret;
		}
		ret = load(sr);
		if (ret == LD_SKIP) {
			batch_done(sr);
			ret = ADV_AGAIN;
		} else if (ret >= LD_EOF) {
			ret = at_end(sr, ret);
		}
	} while (ret == ADV_AGAIN);
	return ret == LD_OK ? batch_begin(sr) : ret;
}

static void rec_fill(struct sf_seg_rec *rec, const struct sf_rb_record *r)
{
	rec->offset = r->offset;
	rec->timestamp = r->timestamp;
	rec->key = r->key.len >= 0 ? r->key.ptr : NULL;
	rec->key_len = r->key.len;
	rec->value = r->value.len >= 0 ? r->value.ptr : NULL;
	rec->value_len = r->value.len;
	rec->header_count = (uint32_t)r->header_count;
	rec->headers = r->headers;
	rec->headers_len = r->headers_len;
}

/* The next record of the current batch at or past next; 0 at its end. */
static int batch_read(struct sf_segreader *sr, struct sf_seg_rec *rec)
{
	struct sf_rb_record r;
	int ret;

	while ((ret = sf_rb_iter_next(&sr->it, &r)) == 1 && r.offset < sr->next)
		;
	if (ret == 1) {
		rec_fill(rec, &r);
		sr->next = r.offset + 1;
	} else if (ret == 0) {
		batch_done(sr);
	}
	if (ret == -EOPNOTSUPP)
		return -EPROTONOSUPPORT;
	return ret < 0 ? -EBADMSG : ret;
}

/* ---- the API ------------------------------------------------------------ */

int sf_seg_open(const char *dir, struct sf_segreader **out)
{
	struct sf_segreader *sr = calloc(1, sizeof(*sr));
	int ret;

	if (!sr)
		return -ENOMEM;
	sr->fd = -1;
	sr->clean_size = -1;
	sr->dir = opendir(dir);
	ret = sr->dir ? rescan(sr) : -errno;
	if (ret) {
		sf_seg_close(sr);
		return ret;
	}
	sr->next = log_start(sr);
	*out = sr;
	return 0;
}

void sf_seg_close(struct sf_segreader *sr)
{
	if (!sr)
		return;
	seg_drop(sr);
	if (sr->dir)
		closedir(sr->dir);
	free(sr->bases);
	free(sr->buf);
	free(sr);
}

int sf_seg_seek(struct sf_segreader *sr, int64_t offset)
{
	int ret;

	if (offset < 0)
		return -EINVAL;
	ret = locate(sr, offset);
	if (!ret)
		sr->next = offset;
	return ret;
}

int sf_seg_next(struct sf_segreader *sr, struct sf_seg_rec *rec)
{
	int ret;

	for (;;) {
		if (sr->in_batch) {
			ret = batch_read(sr, rec);
			if (ret) /* a record, or an error */
				return ret;
			continue; /* the batch is done */
		}
		ret = advance(sr);
		if (ret <= 0) /* nothing yet, or an error */
			return ret;
	}
}

int64_t sf_seg_position(const struct sf_segreader *sr)
{
	return sr->next;
}

int64_t sf_seg_start_offset(struct sf_segreader *sr)
{
	int ret = rescan(sr);

	return ret ? ret : log_start(sr);
}
