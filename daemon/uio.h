/* SPDX-License-Identifier: MIT */
/*
 * uio.h - ordered batches of file writes and syncs over io_uring.
 *
 * The commit log hands its writes to sfd_uio_run() as an array: log data,
 * an fdatasync, index entries.  The array is submitted in one go as a
 * linked chain, so each request starts only after the one before it
 * completed, and one io_uring_enter() both submits and waits.  A short
 * write breaks the chain (the kernel cancels the rest); the runner then
 * resubmits the remainder of the write and everything after it, so a
 * short write costs a round trip and nothing else.  The first real error
 * stops the run: requests before it are complete, the failing one may be
 * partly done (see @done), later ones did not run.
 *
 * One sfd_uio may be shared by many logs used from one thread; nothing is
 * in flight between calls.
 */
#ifndef SFD_UIO_H
#define SFD_UIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum sfd_uio_op {
	SFD_UIO_WRITE,
	SFD_UIO_FDATASYNC,
	SFD_UIO_FSYNC,
};

/* One request; @done and @res are outputs. */
struct sfd_uio_req {
	enum sfd_uio_op op;
	int fd;
	const void *buf; /* SFD_UIO_WRITE only */
	size_t len;
	uint64_t off;
	size_t done; /* bytes written so far */
	int res; /* 0 complete, -errno failed, -ECANCELED not run */
};

struct sfd_uio;

/* Most requests one sfd_uio_run() call accepts. */
#define SFD_UIO_MAX_REQS 32

/**
 * sfd_uio_create() - set up an io_uring for log I/O.
 * @out: the new handle (set on success only).
 *
 * Context: process context.
 * Return: 0, -ENOMEM, or the error of io_uring_queue_init() (-ENOSYS,
 * -EPERM where io_uring is disabled).
 */
int sfd_uio_create(struct sfd_uio **out);

/**
 * sfd_uio_destroy() - tear down; accepts NULL.
 * @u: handle.
 *
 * Context: process context.
 */
void sfd_uio_destroy(struct sfd_uio *u);

/**
 * sfd_uio_write() - shorthand for a write request.
 * @fd: file.
 * @buf: data; must stay valid until sfd_uio_run() returns.
 * @len: bytes.
 * @off: file position.
 *
 * Context: any.
 * Return: the request, to be stored in the array given to sfd_uio_run().
 */
struct sfd_uio_req sfd_uio_write(int fd, const void *buf, size_t len,
				 uint64_t off);

/**
 * sfd_uio_sync() - shorthand for an fdatasync (or full fsync) request.
 * @fd: file or directory.
 * @op: SFD_UIO_FDATASYNC or SFD_UIO_FSYNC.
 *
 * Context: any.
 * Return: the request.
 */
struct sfd_uio_req sfd_uio_sync(int fd, enum sfd_uio_op op);

/**
 * sfd_uio_run() - execute requests in order and wait for all of them.
 * @u: handle.
 * @reqs: requests, executed one after the other.
 * @n: how many (at most SFD_UIO_MAX_REQS).
 *
 * Context: process context; blocks until everything completed.
 * Return: 0 if every request completed, else the first error (also in
 * that request's @res); -EINVAL for a bad @n.
 */
int sfd_uio_run(struct sfd_uio *u, struct sfd_uio_req *reqs, unsigned n);

/*
 * Asynchronous fdatasync, for the persister: the sync runs while the
 * caller goes on writing.  Use a separate sfd_uio for these, never mixed
 * with sfd_uio_run() (which expects nothing else in flight).
 */

/**
 * sfd_uio_sync_start() - submit an fdatasync of @fd, tagged @tag.
 * @u: handle for asynchronous syncs.
 * @fd: file; io_uring holds its own reference from submission on, so the
 *      caller may close it before the completion.
 * @tag: returned with the completion.
 *
 * Context: does not wait for the sync.  A request the kernel refuses for
 * now stays queued and goes with the next sfd_uio_reap().
 * Return: 0 (queued: a completion will come); -EBUSY if the submission
 * queue is full.
 */
int sfd_uio_sync_start(struct sfd_uio *u, int fd, uint64_t tag);

/**
 * sfd_uio_reap() - take one completion of sfd_uio_sync_start().
 * @u: handle.
 * @tag: the request's tag (out).
 * @res: 0 or -errno of the fdatasync (out).
 * @wait: block until there is one.
 *
 * Return: 1 with a completion; 0 if none (and not @wait); -errno.
 */
int sfd_uio_reap(struct sfd_uio *u, uint64_t *tag, int *res, bool wait);

#endif
