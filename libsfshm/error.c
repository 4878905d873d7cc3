// SPDX-License-Identifier: MIT
/* error.c - sfshm_strerror(): what our -errno codes mean here. */
#include <errno.h>
#include <string.h>

#include "sfshm_int.h"

struct err_text {
	int err;
	const char *text;
};

/* Codes to which the library gives a specific meaning. */
static const struct err_text texts[] = {
	{ EAGAIN, "try again: nothing to read yet, or the ring is full" },
	{ ETIMEDOUT, "timed out (waiting for data, ring space, an "
		     "acknowledgement or the daemon)" },
	{ EMSGSIZE, "record larger than the ring's largest frame" },
	{ EOVERFLOW, "reader fell behind the ring window; the data was "
		     "erased (continue from the commit log)" },
	{ EBADMSG, "corrupt data (a frame, a log batch or a message)" },
	{ EPROTO, "protocol error: malformed message, or a ring of "
		  "another version" },
	{ EPROTONOSUPPORT, "the daemon speaks another protocol version" },
	{ ECANCELED, "claim revoked: the producer stalled past the unblock "
		     "timeout; the record was not published" },
	{ EPERM, "operation not allowed for this handle's role" },
	{ ENOBUFS, "buffer too small for the record" },
	{ ENOSPC, "no space left (disk full, or no free producer slot); "
		  "records already in the ring are persisted when space "
		  "returns" },
	{ EEXIST, "topic already exists" },
	{ ENOENT, "no such topic or partition (or no daemon at that run "
		  "directory)" },
	{ ERANGE, "offset out of range (removed by retention, or past the "
		  "end)" },
	{ ESHUTDOWN, "the daemon stopped" },
	{ ECONNREFUSED, "no daemon listens at that run directory" },
	{ EACCES, "permission denied (topic mode, or not the daemon's "
		  "user)" },
};

const char *sfshm_strerror(int err)
{
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].err == err)
			return texts[i].text;
	/* strerror() is not thread-safe in general; glibc's is for known
	 * codes, which is all we pass. */
	return strerror(err);
}
