// SPDX-License-Identifier: MIT
/*
 * fuzz_recordbatch.c - libFuzzer target for the RecordBatch decoder and
 * for log recovery.
 *
 * Each input is decoded three ways: as it is (mostly stopped by the CRC),
 * with its batchLength and CRC made to match (so the fuzzer reaches the
 * record parser), and through the varint decoders.  Every 64th input is
 * also written as the active segment of a partition directory - a valid
 * first batch, then the raw bytes as a tail - and the log is opened,
 * recovered and read back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "recordbatch.h"
#include "sf_be.h"

#define LOG_EVERY 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint32_t sink; /* keeps the reads of record bytes */

static void touch(struct sf_rb_bytes b)
{
	const uint8_t *p = b.ptr;

	if (b.len > 0)
		sink += p[0] + p[b.len - 1];
}

static void walk_records(const uint8_t *buf, size_t len)
{
	struct sf_rb_header_iter hi;
	struct sf_rb_header h;
	struct sf_rb_record r;
	struct sf_rb_iter it;

	if (sf_rb_iter_init(&it, buf, len))
		return;
	while (sf_rb_iter_next(&it, &r) == 1) {
		touch(r.key);
		touch(r.value);
		sf_rb_headers_begin(&r, &hi);
		while (sf_rb_headers_next(&hi, &h) == 1) {
			touch(h.key);
			touch(h.value);
		}
	}
}

/* A copy whose batchLength and CRC agree with its bytes. */
static uint8_t *resealed(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size);

	if (!p)
		return NULL;
	memcpy(p, data, size);
	sf_put_be32(p + SF_RB_OFF_LENGTH,
		    (uint32_t)(size - SF_RB_LOG_OVERHEAD));
	sf_put_be32(p + SF_RB_OFF_CRC, sf_rb_crc(p, size));
	return p;
}

static void walk_varints(const uint8_t *data, size_t size)
{
	int32_t v32;
	int64_t v64;

	for (size_t i = 0; i < size && i < 64; i++) {
		(void)sf_rb_get_varint(data + i, size - i, &v32);
		(void)sf_rb_get_varlong(data + i, size - i, &v64);
	}
}

static char fuzz_dir[64];

static void cleanup_dir(void)
{
	static const char *const sfx[] = { ".log", ".index", ".timeindex" };
	char path[128];

	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%020d%s", fuzz_dir, 0, sfx[i]);
		unlink(path);
	}
}

static int write_segment(const uint8_t *first, size_t flen, const uint8_t *tail,
			 size_t tlen)
{
	char path[128];
	int fd, ok;

	snprintf(path, sizeof(path), "%s/%020d.log", fuzz_dir, 0);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ok = (!flen || write(fd, first, flen) == (ssize_t)flen) &&
	     (!tlen || write(fd, tail, tlen) == (ssize_t)tlen);
	close(fd);
	return ok ? 0 : -1;
}

static void read_back(struct sfd_log *log)
{
	static uint8_t buf[1 << 16];
	struct sfd_log_loc loc;
	int64_t off = sfd_log_start_offset(log), t;

	while (off < sfd_log_end_offset(log)) {
		if (sfd_log_find(log, off, &loc))
			abort(); /* recovery kept something unreadable */
		(void)sfd_log_read(log, off, buf, sizeof(buf));
		(void)sfd_log_find_time(log, loc.max_timestamp, &t);
		off = loc.last_offset + 1;
	}
}

static void fuzz_recovery(const uint8_t *first, size_t flen,
			  const uint8_t *data, size_t size)
{
	struct sfd_log_config c;
	struct sfd_log *log;

	const char *tmp = getenv("TMPDIR");

	/* A fresh directory each time: nothing is left behind at exit. */
	snprintf(fuzz_dir, sizeof(fuzz_dir), "%s/sfd-fuzz-XXXXXX",
		 tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(fuzz_dir))
		abort();
	sfd_log_config_init(&c);
	c.index_interval_bytes = 64;
	c.write_buffer_bytes = 4096;
	if (!write_segment(first, flen, data, size) &&
	    !sfd_log_open(fuzz_dir, &c, &log)) {
		read_back(log);
		sfd_log_close(log);
	}
	cleanup_dir();
	rmdir(fuzz_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned runs;
	uint8_t *p = NULL;

	walk_records(data, size);
	walk_varints(data, size);
	if (size >= SF_RB_HEADER_SIZE && size <= SF_RB_MAX_SIZE) {
		p = resealed(data, size);
		if (p) {
			walk_records(p, size);
			sf_rb_set_base_offset(p, 0);
		}
	}
	if (++runs % LOG_EVERY == 0)
		fuzz_recovery(p, p ? size : 0, data, size);
	free(p);
	return 0;
}
