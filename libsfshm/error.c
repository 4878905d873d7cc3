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
	{ ETIMEDOUT, "timed out waiting for data or for space in the ring" },
	{ EMSGSIZE, "record larger than the ring's largest frame" },
	{ EOVERFLOW, "reader fell behind the ring window; the data was "
		     "erased (continue from the commit log)" },
	{ EBADMSG, "corrupt frame or message in shared memory" },
	{ EPROTO, "not a ring of this version (bad magic or version)" },
	{ ECANCELED, "claim revoked: the producer stalled past the unblock "
		     "timeout; the record was not published" },
	{ EPERM, "operation not allowed for this handle's role" },
	{ ENOBUFS, "buffer too small for the record" },
	{ ENOSPC, "no free slot or space left" },
	{ EEXIST, "already exists" },
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
