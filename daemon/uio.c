// SPDX-License-Identifier: MIT
/*
 * uio.c - ordered batches of file writes and syncs over io_uring.
 *
 * Each round submits the requests that are not complete yet as one chain
 * (IOSQE_IO_LINK on all but the last) and reaps one completion per
 * request.  Completed requests always form a prefix of the array: a
 * request runs only after its predecessor succeeded in full, because a
 * failed or short predecessor cancels the rest of the chain.  So the next
 * round starts at the first incomplete request, continuing a short write
 * where it stopped.
 */
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <stdlib.h>

#include "uio.h"

#define RING_ENTRIES 64
#define MAX_SQE_BYTES (1u << 30) /* split huge writes */
#define MAX_IDLE_ROUNDS 16 /* rounds without progress before giving up */

_Static_assert(SFD_UIO_MAX_REQS <= RING_ENTRIES, "a run fits the ring");

struct sfd_uio {
	struct io_uring ring;
};

int sfd_uio_create(struct sfd_uio **out)
{
	struct sfd_uio *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(RING_ENTRIES, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	*out = u;
	return 0;
}

void sfd_uio_destroy(struct sfd_uio *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

struct sfd_uio_req sfd_uio_write(int fd, const void *buf, size_t len,
				 uint64_t off)
{
	return (struct sfd_uio_req){ .op = SFD_UIO_WRITE,
				     .fd = fd,
				     .buf = buf,
				     .len = len,
				     .off = off };
}

struct sfd_uio_req sfd_uio_sync(int fd, enum sfd_uio_op op)
{
	return (struct sfd_uio_req){ .op = op, .fd = fd };
}

static void prep_one(struct io_uring_sqe *sqe, struct sfd_uio_req *r)
{
	size_t left = r->len - r->done;
	unsigned flags = r->op == SFD_UIO_FDATASYNC ? IORING_FSYNC_DATASYNC : 0;

	if (r->op == SFD_UIO_WRITE)
		io_uring_prep_write(sqe, r->fd, (const char *)r->buf + r->done,
				    left > MAX_SQE_BYTES ? MAX_SQE_BYTES :
							   (unsigned)left,
				    r->off + r->done);
	else
		io_uring_prep_fsync(sqe, r->fd, flags);
	io_uring_sqe_set_data(sqe, r);
}

/* Queue the incomplete requests of reqs[first..n) as one linked chain. */
static int prep_chain(struct sfd_uio *u, struct sfd_uio_req *reqs,
		      unsigned first, unsigned n)
{
	struct io_uring_sqe *sqe = NULL;
	int count = 0;

	for (unsigned i = first; i < n; i++) {
		if (reqs[i].res == 0)
			continue; /* an empty write */
		if (sqe)
			sqe->flags |= IOSQE_IO_LINK;
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY; /* cannot happen: the ring is drained */
		prep_one(sqe, &reqs[i]);
		count++;
	}
	return count;
}

static int submit_all(struct sfd_uio *u, unsigned count)
{
	int ret = io_uring_submit_and_wait(&u->ring, count);

	/* An interrupted wait still consumed the queue; resubmit leftovers. */
	while ((ret >= 0 || ret == -EINTR) && io_uring_sq_ready(&u->ring))
		ret = io_uring_submit(&u->ring);
	return ret < 0 && ret != -EINTR ? ret : 0;
}

/* Record one completion; return true if the request made progress. */
static bool complete_one(struct sfd_uio_req *r, int res)
{
	if (res == -ECANCELED || res == -EINTR || res == -EAGAIN)
		return false; /* chain broken before it, or retry */
	if (res < 0) {
		r->res = res;
		return false;
	}
	if (r->op != SFD_UIO_WRITE) {
		r->res = 0;
		return true;
	}
	if (res == 0) {
		r->res = -EIO; /* a write that makes no progress */
		return false;
	}
	r->done += (size_t)res;
	if (r->done >= r->len)
		r->res = 0;
	return true;
}

static int reap(struct sfd_uio *u, unsigned count, bool *progress)
{
	struct io_uring_cqe *cqe;
	int ret;

	for (unsigned i = 0; i < count; i++) {
		do
			ret = io_uring_wait_cqe(&u->ring, &cqe);
		while (ret == -EINTR);
		if (ret < 0)
			return ret;
		if (complete_one(io_uring_cqe_get_data(cqe), cqe->res))
			*progress = true;
		io_uring_cqe_seen(&u->ring, cqe);
	}
	return 0;
}

/* First request not complete; its @res tells if it failed. */
static unsigned first_pending(const struct sfd_uio_req *reqs, unsigned n)
{
	unsigned i = 0;

	while (i < n && reqs[i].res == 0)
		i++;
	return i;
}

static int run_round(struct sfd_uio *u, struct sfd_uio_req *reqs,
		     unsigned first, unsigned n, bool *progress)
{
	int count = prep_chain(u, reqs, first, n);
	int ret;

	if (count < 0)
		return count;
	ret = submit_all(u, (unsigned)count);
	if (!ret)
		ret = reap(u, (unsigned)count, progress);
	return ret;
}

int sfd_uio_run(struct sfd_uio *u, struct sfd_uio_req *reqs, unsigned n)
{
	unsigned first, idle = 0;
	int ret;

	if (n > SFD_UIO_MAX_REQS)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		reqs[i].done = 0;
		reqs[i].res = reqs[i].op == SFD_UIO_WRITE && !reqs[i].len ?
				      0 :
				      -ECANCELED;
	}
	while ((first = first_pending(reqs, n)) < n) {
		bool progress = false;

		if (reqs[first].res != -ECANCELED)
			return reqs[first].res; /* it failed */
		ret = run_round(u, reqs, first, n, &progress);
		if (ret)
			return ret;
		idle = progress ? 0 : idle + 1;
		if (idle > MAX_IDLE_ROUNDS)
			return reqs[first].res = -EIO;
	}
	return 0;
}

int sfd_uio_sync_start(struct sfd_uio *u, int fd, uint64_t tag)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;
	io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, tag);
	/*
	 * Queued now whatever the submit says: a request the kernel did not
	 * take (-EAGAIN, -EBUSY, -EINTR) goes with the next submit, which
	 * sfd_uio_reap() makes; it will complete.
	 */
	io_uring_submit(&u->ring);
	return 0;
}

int sfd_uio_reap(struct sfd_uio *u, uint64_t *tag, int *res, bool wait)
{
	struct io_uring_cqe *cqe;
	int ret;

	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring); /* left by sfd_uio_sync_start() */
	ret = wait ? io_uring_wait_cqe(&u->ring, &cqe) :
		     io_uring_peek_cqe(&u->ring, &cqe);

	if (ret == -EAGAIN && !wait)
		return 0;
	if (ret < 0)
		return ret;
	*tag = io_uring_cqe_get_data64(cqe);
	*res = cqe->res < 0 ? cqe->res : 0;
	io_uring_cqe_seen(&u->ring, cqe);
	return 1;
}
