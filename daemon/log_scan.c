// SPDX-License-Identifier: MIT
/*
 * log_scan.c - walk the record batches of a segment file.
 *
 * The scanner reads the file through a window (one pread per window) and
 * checks each batch header as foreign data: magic, sizes within the data,
 * and optionally the CRC, which it computes as a stream across windows, so
 * a batch larger than the window costs no extra memory.  Reads are plain
 * pread(): they are synchronous by nature here and only writes go through
 * io_uring.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "crc32c.h"
#include "log_int.h"

ssize_t sfd_pread_all(int fd, void *buf, size_t len, uint64_t off)
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
			break; /* end of file */
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* A scanner over a caller buffer (@cap >= SF_RB_HEADER_SIZE), no CRCs. */
void sfd_scan_init_buf(struct sfd_scan *s, int fd, uint64_t pos, uint64_t limit,
		       uint8_t *buf, size_t cap)
{
	s->fd = fd;
	s->pos = pos;
	s->limit = limit;
	s->crc = false;
	s->own_buf = false;
	s->buf = buf;
	s->cap = cap;
	s->win_off = 0;
	s->win_len = 0;
}

int sfd_scan_init(struct sfd_scan *s, int fd, uint64_t pos, uint64_t limit,
		  size_t cap, bool crc)
{
	uint8_t *buf;

	cap = cap < SF_RB_HEADER_SIZE ? SF_RB_HEADER_SIZE : cap;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	sfd_scan_init_buf(s, fd, pos, limit, buf, cap);
	s->crc = crc;
	s->own_buf = true;
	return 0;
}

void sfd_scan_release(struct sfd_scan *s)
{
	if (s->own_buf)
		free(s->buf);
	s->buf = NULL;
}

static int scan_fill(struct sfd_scan *s, uint64_t off)
{
	uint64_t left = s->limit - off;
	size_t want = left < s->cap ? (size_t)left : s->cap;
	ssize_t n = sfd_pread_all(s->fd, s->buf, want, off);

	if (n < 0)
		return (int)n;
	s->win_off = off;
	s->win_len = (size_t)n;
	return 0;
}

static bool in_window(const struct sfd_scan *s, uint64_t off, size_t len)
{
	return off >= s->win_off && off - s->win_off + len <= s->win_len;
}

/* Point *p at [off, off + len) of the file; len <= cap. */
static int scan_ptr(struct sfd_scan *s, uint64_t off, size_t len,
		    const uint8_t **p)
{
	int ret;

	if (!in_window(s, off, len)) {
		ret = scan_fill(s, off);
		if (ret)
			return ret;
		if (s->win_len < len)
			return -EBADMSG; /* the file ends early */
	}
	*p = s->buf + (off - s->win_off);
	return 0;
}

static int scan_crc(struct sfd_scan *s, const struct sf_rb_hdr *h)
{
	uint64_t off = s->pos + SF_RB_CRC_START;
	uint64_t end = s->pos + sf_rb_size(h);
	uint32_t crc = 0;

	while (off < end) {
		size_t n;
		int ret;

		if (!in_window(s, off, 1)) {
			ret = scan_fill(s, off);
			if (ret)
				return ret;
			if (!s->win_len)
				return -EBADMSG;
		}
		n = s->win_len - (size_t)(off - s->win_off);
		if (n > end - off)
			n = (size_t)(end - off);
		crc = sf_crc32c(crc, s->buf + (off - s->win_off), n);
		off += n;
	}
	return crc == h->crc ? 0 : -EBADMSG;
}

int sfd_scan_next(struct sfd_scan *s, struct sf_rb_hdr *h)
{
	const uint8_t *p;
	int ret;

	if (s->pos >= s->limit)
		return 0;
	if (s->limit - s->pos < SF_RB_HEADER_SIZE)
		return -EBADMSG; /* a torn header */
	ret = scan_ptr(s, s->pos, SF_RB_HEADER_SIZE, &p);
	if (!ret)
		ret = sf_rb_parse_header(p, SF_RB_HEADER_SIZE, h);
	if (ret)
		return ret;
	if (sf_rb_size(h) > s->limit - s->pos)
		return -EBADMSG; /* a torn body */
	if (s->crc) {
		ret = scan_crc(s, h);
		if (ret)
			return ret;
	}
	s->pos += sf_rb_size(h);
	return 1;
}
