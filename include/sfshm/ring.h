/* SPDX-License-Identifier: MIT */
/*
 * sfshm/ring.h - the partition ring: a lock-free, multi-producer,
 * multi-reader log of records in shared memory.
 *
 * Roles.  A mapping of a ring is opened in one role:
 *   SFSHM_ROLE_OWNER     creates and formats the ring; erases what has been
 *                        persisted (sfshm_ring_clean) and pads over dead
 *                        producers (sfshm_ring_unblock).  The daemon.
 *   SFSHM_ROLE_PRODUCER  claims, fills and commits frames.
 *   SFSHM_ROLE_READER    maps the data read-only and follows the frames;
 *                        writes only to the ctl page.
 * The owner and producers may also read.
 *
 * Positions are byte counters that only grow; a reader handle carries its
 * own position.  A handle is used by one thread at a time: map one per
 * thread (a mapping is cheap; the handles of all threads and processes
 * share the ring lock-free).
 *
 * Errors are -errno: -EAGAIN (nothing to read, or no space in non-blocking
 * mode), -ETIMEDOUT, -EMSGSIZE (record over the ring's max_frame),
 * -EOVERFLOW (the reader fell behind the ring window: what it wanted was
 * erased; continue from the commit log), -EBADMSG (the shared memory holds
 * something that is not a valid frame), -EPROTO (not a ring of this
 * version), -ECANCELED (a claim was revoked by sfshm_ring_unblock after the
 * producer stalled), -EPERM (operation not allowed in this role).
 */
#ifndef SFSHM_RING_H
#define SFSHM_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sfshm/ring_layout.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef SFSHM_API
#define SFSHM_API __attribute__((visibility("default")))
#endif

enum sfshm_role {
	SFSHM_ROLE_OWNER = 1,
	SFSHM_ROLE_PRODUCER = 2,
	SFSHM_ROLE_READER = 3,
};

/* Spin time of SFSHM_WAIT_HYBRID before a reader sleeps, by default. */
#define SFSHM_DEFAULT_SPIN_NS (20ull * 1000)

/* How a reader waits in sfshm_ring_wait() (and blocking reads). */
enum sfshm_wait_mode {
	SFSHM_WAIT_HYBRID = 0, /* spin for spin_ns, then futex sleep */
	SFSHM_WAIT_SPIN = 1, /* busy-poll only */
	SFSHM_WAIT_FUTEX = 2, /* sleep at once */
};

struct sfshm_ring;

/**
 * struct sfshm_hdr - one record header (Kafka-style key/value pair).
 * @key:       header key bytes (need not be NUL-terminated).
 * @key_len:   bytes of @key.
 * @value:     header value, or NULL with @value_len -1 for a null value.
 * @value_len: bytes of @value, or -1 for null.
 */
struct sfshm_hdr {
	const char *key;
	uint32_t key_len;
	int32_t value_len;
	const void *value;
};

/**
 * struct sfshm_rec - a record to send.
 * @key, @key_len:     key; @key_len -1 (with @key NULL) is a null key.
 * @value, @value_len: value; -1 is a null value (a tombstone).
 * @timestamp:         ns since the epoch; 0 means "now" (CLOCK_REALTIME).
 * @hdrs, @hdr_count:  record headers.
 */
struct sfshm_rec {
	const void *key;
	int32_t key_len;
	int32_t value_len;
	const void *value;
	int64_t timestamp;
	const struct sfshm_hdr *hdrs;
	uint32_t hdr_count;
};

/**
 * struct sfshm_msg - a record as read from the ring (a view).
 * @pos:        position of the frame.
 * @next:       position of the following frame.
 * @timestamp:  ns since the epoch.
 * @key:        key bytes, NULL for a null key (@key_len -1).
 * @value:      value bytes, NULL for a null value (@value_len -1).
 * @hdr_count:  number of record headers; read them with
 *              sfshm_msg_header().
 * @hdr_data, @hdr_bytes: encoded headers (validated).
 *
 * After sfshm_ring_peek() the pointers point into the ring and stay valid
 * only until sfshm_ring_consume() confirms them; after sfshm_ring_read()
 * they point into the caller's buffer.
 */
struct sfshm_msg {
	uint64_t pos;
	uint64_t next;
	int64_t timestamp;
	const void *key;
	const void *value;
	int32_t key_len;
	int32_t value_len;
	uint32_t hdr_count;
	uint32_t hdr_bytes;
	const void *hdr_data;
};

/**
 * struct sfshm_claim - a frame claimed for zero-copy filling.
 * @pos:    position of the frame.
 * @key:    where to write the key (NULL if none was asked for).
 * @value:  where to write the value.
 * @frame:  internal; do not touch.
 */
struct sfshm_claim {
	uint64_t pos;
	void *key;
	void *value;
	void *frame;
	uint32_t frame_len;
};

/* Statistics kept by one handle (not shared). */
struct sfshm_ring_stats {
	uint64_t records; /* records committed (producer) / read */
	uint64_t bytes; /* frame bytes of those records */
	uint64_t pad_frames; /* padding frames skipped (reader) or written */
	uint64_t pad_bytes;
	uint64_t spins; /* waits that ended while spinning */
	uint64_t sleeps; /* futex sleeps */
	uint64_t wakes; /* futex wakes issued */
	uint64_t full; /* times a producer found the ring full */
	uint64_t revoked; /* claims revoked by unblock */
};

/* ---- creating and mapping ---------------------------------------------- */

/**
 * sfshm_ring_format() - size and initialise a ring in two empty files.
 * @ring_fd: file for header page + data (a memfd or a file on tmpfs).
 * @ctl_fd:  file for the ctl page.
 * @size:    data bytes, a power of two in [64 KiB, 1 GiB].
 *
 * Writes the headers and publishes the magic numbers last.
 * Context: may block (ftruncate, page faults).
 * Return: 0, -EINVAL for a bad size, or -errno from the file calls.
 */
SFSHM_API int sfshm_ring_format(int ring_fd, int ctl_fd, uint64_t size);

/**
 * sfshm_ring_create_memfd() - make and format a ring in two memfds.
 * @size:    data bytes.
 * @ring_fd: set to the new ring memfd on success.
 * @ctl_fd:  set to the new ctl memfd on success.
 *
 * Return: 0 or -errno.
 */
SFSHM_API int sfshm_ring_create_memfd(uint64_t size, int *ring_fd, int *ctl_fd);

/**
 * sfshm_ring_map() - map a formatted ring.
 * @ring_fd: ring file (a reader needs it only readable).
 * @ctl_fd:  ctl file (read-write).
 * @role:    enum sfshm_role.
 * @out:     set to the new handle on success.
 *
 * Validates magic, version and geometry before trusting anything else.
 * A reader starts at the oldest position still readable.  The fds are not
 * kept; the caller may close them.
 * Context: may block.
 * Return: 0; -EPROTO for a wrong magic or version; -EBADMSG for an
 * inconsistent header; -errno from fstat/mmap.
 */
SFSHM_API int sfshm_ring_map(int ring_fd, int ctl_fd, enum sfshm_role role,
			     struct sfshm_ring **out);

/** sfshm_ring_unmap() - unmap and free a handle; accepts NULL. */
SFSHM_API void sfshm_ring_unmap(struct sfshm_ring *r);

/** sfshm_ring_size() - data bytes of the ring. */
SFSHM_API uint64_t sfshm_ring_size(const struct sfshm_ring *r);

/**
 * sfshm_ring_max_frame() - the largest frame the ring takes, in bytes,
 * header included (size / 8).  sfshm_rec_frame_len() tells what a record
 * needs.
 */
SFSHM_API uint32_t sfshm_ring_max_frame(const struct sfshm_ring *r);

/**
 * sfshm_rec_frame_len() - frame bytes a record needs (header included).
 * Return: the length, or -EINVAL for inconsistent lengths, -EMSGSIZE
 * over 2 GiB.
 */
SFSHM_API int64_t sfshm_rec_frame_len(const struct sfshm_rec *rec);

/** sfshm_ring_tail() - the next position producers will claim. */
SFSHM_API uint64_t sfshm_ring_tail(const struct sfshm_ring *r);

/** sfshm_ring_limit() - producers may claim only below this position. */
SFSHM_API uint64_t sfshm_ring_limit(const struct sfshm_ring *r);

/** sfshm_ring_clean_pos() - positions below it may be erased. */
SFSHM_API uint64_t sfshm_ring_clean_pos(const struct sfshm_ring *r);

/** sfshm_ring_stats() - copy the handle's statistics. */
SFSHM_API void sfshm_ring_stats(const struct sfshm_ring *r,
				struct sfshm_ring_stats *st);

/* ---- producing ---------------------------------------------------------- */

/**
 * sfshm_ring_send() - copy one record into the ring and commit it.
 * @r:          a producer (or owner) handle.
 * @rec:        the record.
 * @timeout_ms: 0 = do not wait (-EAGAIN when full); < 0 = wait forever;
 *              > 0 = wait at most that long (-ETIMEDOUT).
 * @pos:        if not NULL, set to the record's position.
 *
 * A producer handle takes one of the ring's SFSHM_PRODUCER_SLOTS
 * producer slots on its first send or claim and keeps it until unmapped.
 * Context: one thread per handle; may block while the ring is full.
 * Return: 0, -EMSGSIZE, -EINVAL, -EAGAIN, -ETIMEDOUT, -EPERM, -ENOSPC
 * (every producer slot taken).
 */
SFSHM_API int sfshm_ring_send(struct sfshm_ring *r, const struct sfshm_rec *rec,
			      int timeout_ms, uint64_t *pos);

/**
 * sfshm_ring_send_batch() - copy several records into the ring with one
 * claim and one commit.
 * @r:          a producer (or owner) handle.
 * @recs:       the records, in order.
 * @n:          how many; the batch stops early at sfshm_ring_max_frame()
 *              bytes in all, or before an invalid record.
 * @timeout_ms: as for sfshm_ring_send().
 * @pos:        if not NULL, set to the first record's position.
 *
 * Readers see all the records of a batch at once.  Cheaper per record
 * than sfshm_ring_send() (the atomic read-modify-writes are per batch).
 * Context: as sfshm_ring_send().
 * Return: the number of records sent (at least 1), or -errno for the
 * first record as sfshm_ring_send().
 */
SFSHM_API int sfshm_ring_send_batch(struct sfshm_ring *r,
				    const struct sfshm_rec *recs, unsigned n,
				    int timeout_ms, uint64_t *pos);

/**
 * sfshm_ring_claim() - claim a frame for zero-copy filling.
 * @r:          a producer handle.
 * @rec:        the record's shape: lengths, timestamp and headers are
 *              taken; headers are copied now; a non-NULL @rec->key or
 *              @rec->value is copied now too, else the caller writes it
 *              through @c->key / @c->value before committing.
 * @timeout_ms: as for sfshm_ring_send().
 * @c:          filled in on success.
 *
 * Every successful claim must be followed by sfshm_ring_commit() or
 * sfshm_ring_abort(), soon: a claim left open longer than the owner's
 * unblock timeout is revoked and its commit fails with -ECANCELED.  Once
 * revoked, the claimed bytes may be reused by others: a producer must not
 * write through @c after its commit failed, and should not hold a claim
 * anywhere near the unblock timeout.
 * Context: one thread per handle; may block while the ring is full.
 * Return: as sfshm_ring_send().
 */
SFSHM_API int sfshm_ring_claim(struct sfshm_ring *r,
			       const struct sfshm_rec *rec, int timeout_ms,
			       struct sfshm_claim *c);

/**
 * sfshm_ring_commit() - publish a claimed frame to readers.
 * Return: 0, or -ECANCELED if the claim was revoked meanwhile (the record
 * was not published; send it again).
 */
SFSHM_API int sfshm_ring_commit(struct sfshm_ring *r, struct sfshm_claim *c);

/**
 * sfshm_ring_abort() - give a claimed frame up; readers skip it as padding.
 * Return: 0, or -ECANCELED if it had already been revoked.
 */
SFSHM_API int sfshm_ring_abort(struct sfshm_ring *r, struct sfshm_claim *c);

/* ---- reading ------------------------------------------------------------ */

/**
 * sfshm_ring_peek() - view the next record without copying.
 * @r: a reader (any role) handle.
 * @m: filled with pointers into the ring.
 *
 * Skips padding frames.  The view must be confirmed with
 * sfshm_ring_consume() before the caller trusts what it read: the owner
 * may erase it meanwhile if this reader is slow.
 * Context: never blocks.
 * Return: 0 with a record; -EAGAIN if nothing is committed yet; -EOVERFLOW
 * if the reader fell behind the window; -EBADMSG for a corrupt frame.
 */
SFSHM_API int sfshm_ring_peek(struct sfshm_ring *r, struct sfshm_msg *m);

/**
 * sfshm_ring_consume() - confirm a peeked record and move past it.
 * Return: 0 if the bytes the caller read were intact; -EOVERFLOW if they
 * may have been erased while it read (the position does not move).
 */
SFSHM_API int sfshm_ring_consume(struct sfshm_ring *r,
				 const struct sfshm_msg *m);

/**
 * sfshm_ring_read() - copy the next record out and move past it.
 * @r:      a reader handle.
 * @m:      set to a view into @buf.
 * @buf:    where the key, value and headers are copied.
 * @buflen: bytes of @buf; sfshm_ring_max_frame() always suffices.
 *
 * Return: 0; -EAGAIN; -EOVERFLOW; -EBADMSG; -ENOBUFS if @buf is too small
 * (nothing consumed; @m->next - @m->pos tells the frame size).
 */
SFSHM_API int sfshm_ring_read(struct sfshm_ring *r, struct sfshm_msg *m,
			      void *buf, size_t buflen);

/**
 * sfshm_ring_wait() - wait until a frame is committed at the reader's
 * position (or the position fell out of the window).
 * @timeout_ms: < 0 forever, 0 poll, > 0 at most that long.
 * Return: 0 when something is there to peek/read (which may still be
 * -EOVERFLOW or -EBADMSG); -ETIMEDOUT; -EAGAIN for timeout 0.
 */
SFSHM_API int sfshm_ring_wait(struct sfshm_ring *r, int timeout_ms);

/** sfshm_ring_set_wait() - choose how sfshm_ring_wait() waits. */
SFSHM_API void sfshm_ring_set_wait(struct sfshm_ring *r,
				   enum sfshm_wait_mode mode, uint64_t spin_ns);

/** sfshm_ring_position() - the reader's position. */
SFSHM_API uint64_t sfshm_ring_position(const struct sfshm_ring *r);

/**
 * sfshm_ring_seek() - move the reader to @pos, which must be a frame start
 * the caller learnt earlier (a record's @pos or @next, or an anchor).
 * Return: 0; -EOVERFLOW if @pos is already erased; -EINVAL if beyond tail.
 */
SFSHM_API int sfshm_ring_seek(struct sfshm_ring *r, uint64_t pos);

/**
 * sfshm_msg_header() - decode record header @i of @m.
 * Return: 0, or -ENOENT past the last one.
 */
SFSHM_API int sfshm_msg_header(const struct sfshm_msg *m, uint32_t i,
			       struct sfshm_hdr *h);

/* ---- owner: cleaning and unblocking ------------------------------------ */

/**
 * sfshm_ring_clean() - erase everything below @upto and let producers
 * claim up to @upto + size.
 * @upto: a frame boundary at or below the oldest position every reader
 *        that matters (the persister) has finished with.  Must not exceed
 *        the position of the first frame that is not committed.
 *
 * Announces the erase (k_clean) before zeroing, so a reader still copying
 * from there notices; then zeroes, then moves k_limit and wakes producers
 * waiting for space.  Never erases at or beyond the claim of a live
 * producer that has not committed it yet (its hazard), even one revoked
 * by sfshm_ring_unblock(): a stalled producer may still write there.
 * Producers whose process died are forgotten here.
 * Context: owner only; one cleaner at a time.
 * Return: 0; -EBUSY if a live producer's open claim held the erase back
 * below @upto (what could be erased was: see sfshm_ring_clean_pos());
 * -EPERM in another role; -EINVAL if @upto is beyond the tail, below the
 * current clean position or more than a lap ahead of it.
 */
SFSHM_API int sfshm_ring_clean(struct sfshm_ring *r, uint64_t upto);

/**
 * sfshm_ring_unblock() - close a hole at @pos left by a dead or stalled
 * producer.
 * @pos:    the frame start where readers are stuck (not committed).
 * @padded: set to the bytes turned into padding.
 *
 * An in-progress frame becomes padding of its own length; a frame whose
 * header was never written becomes padding up to the next written frame
 * (every empty slot up to it is poisoned first, so a producer that claimed
 * there and comes back late finds its claim revoked rather than writing
 * into padding).  A committed frame is never touched.
 * @pos must be a frame start the owner reached by following frames (its
 * own reading position): anywhere else, zero bytes inside a record could be
 * taken for a hole.  Readers asleep at @pos are woken.
 * Context: owner only; call it after a producer died or a frame stayed
 * uncommitted past the unblock timeout.
 * Return: 0 with @padded > 0; -EAGAIN if the frame at @pos is committed
 * or nothing is claimed there; -EPERM; -EINVAL.
 */
SFSHM_API int sfshm_ring_unblock(struct sfshm_ring *r, uint64_t pos,
				 uint64_t *padded);

/**
 * sfshm_ring_frame_word() - look at the frame word at @pos (owner tool).
 * Return: the raw frame word (see ring_layout.h).
 */
SFSHM_API uint64_t sfshm_ring_frame_word(const struct sfshm_ring *r,
					 uint64_t pos);

/**
 * sfshm_ring_forget_pid() - free the producer and reader slots of a
 * process that is gone, so that its open claims no longer hold cleaning
 * back.  A closed control socket is a hint, not a proof: a slot is freed
 * only if its holder (pid and start time) has exited (or is a zombie), so
 * calling this for a live process frees nothing.
 * Context: owner only.
 * Return: the number of slots freed, or -EPERM.
 */
SFSHM_API int sfshm_ring_forget_pid(struct sfshm_ring *r, uint32_t pid);

/* ---- the ctl page ------------------------------------------------------- */

/**
 * sfshm_ring_publish_pos() - store the reader's position in its ctl slot
 * (taken on first use) for the owner to see.
 * Return: 0, or -ENOSPC when every slot is taken.
 */
SFSHM_API int sfshm_ring_publish_pos(struct sfshm_ring *r);

/**
 * sfshm_ring_min_reader_pos() - the lowest position published in the ctl
 * slots by readers whose process is alive, or @dflt if none.  A reader
 * handle takes a slot and publishes its start position when it is mapped
 * (while slots last); slots of dead processes are freed here.
 */
SFSHM_API uint64_t sfshm_ring_min_reader_pos(struct sfshm_ring *r,
					     uint64_t dflt);

/* ---- errors ------------------------------------------------------------- */

/* ---- state, persistence and acknowledgements ------------------------ */

/** sfshm_ring_state() - SFSHM_STATE_* as the owner set it. */
SFSHM_API uint32_t sfshm_ring_state(const struct sfshm_ring *r);

/**
 * sfshm_ring_set_state() - tell clients the ring is deleted or stopped.
 * Wakes every waiter so that it notices.
 * Context: owner only.  Return: 0 or -EPERM.
 */
SFSHM_API int sfshm_ring_set_state(struct sfshm_ring *r, uint32_t state);

/**
 * sfshm_ring_stop() - set a final state (STOPPED or DELETED) and learn how
 * far producers got: every claim beyond the returned position saw the
 * state and was given back as padding (its producer got -ESHUTDOWN or
 * -ENOENT); claims below it are committed, or open (the owner waits for
 * them or unblocks them).
 * Context: owner only.  Return: the tail position.
 */
SFSHM_API uint64_t sfshm_ring_stop(struct sfshm_ring *r, uint32_t state);

/**
 * sfshm_ring_set_persisted() - publish how far frames are persisted.
 * @written: frames below this position are written to the log.
 * @durable: frames below this position are fsynced.
 * @err:     0, or why persisting stalls (-ENOSPC): producers waiting for
 *           an acknowledgement get it.
 * Acknowledged offsets (sfshm_ring_ack()) must be stored before.
 * Context: owner only.  Return: 0 or -EPERM.
 */
SFSHM_API int sfshm_ring_set_persisted(struct sfshm_ring *r, uint64_t written,
				       uint64_t durable, int err);

/**
 * sfshm_ring_set_anchor() - publish that the frame at @pos (or the next
 * frame written there) gets offset @offset.  Frames from @pos on are not
 * erased until the anchor moves past them.
 * Context: owner only.  Return: 0 or -EPERM.
 */
SFSHM_API int sfshm_ring_set_anchor(struct sfshm_ring *r, uint64_t pos,
				    int64_t offset);

/**
 * sfshm_ring_anchor() - read the anchor consistently.
 * Return: 0, or -EAGAIN if the owner kept changing it.
 */
SFSHM_API int sfshm_ring_anchor(const struct sfshm_ring *r, uint64_t *pos,
				int64_t *offset);

/* Published persistence positions and error (see set_persisted()). */
SFSHM_API uint64_t sfshm_ring_written(const struct sfshm_ring *r);
SFSHM_API uint64_t sfshm_ring_durable(const struct sfshm_ring *r);
SFSHM_API int sfshm_ring_error(const struct sfshm_ring *r);

/**
 * sfshm_ring_wait_persisted() - wait until the frame at @pos is written
 * (or, with @durable, fsynced).
 * @timeout_ms: -1 for ever, 0 do not wait.
 * Context: sleeps on a futex after a short spin.
 * Return: 0; -ETIMEDOUT; -EAGAIN (timeout 0); -ENOENT (ring deleted);
 * -ESHUTDOWN (owner stopped); the owner's error (-ENOSPC).
 */
SFSHM_API int sfshm_ring_wait_persisted(struct sfshm_ring *r, uint64_t pos,
					bool durable, int timeout_ms);

/**
 * sfshm_ring_ack_offset() - the offset the owner gave the frame this
 * producer handle committed last at @pos.
 * Return: 0, or -ENOENT if the owner has not acknowledged that frame
 * (yet, or a later commit of this handle replaced the request).
 */
SFSHM_API int sfshm_ring_ack_offset(const struct sfshm_ring *r, uint64_t pos,
				    int64_t *offset);

/* One acknowledgement request: producer slot and frame position. */
struct sfshm_ack_req {
	unsigned slot;
	uint64_t pos;
};

/**
 * sfshm_ring_acks() - producers' pending acknowledgement requests for
 * frames in [@from, @to) (frames the caller has read, with acquire).
 * Context: owner.  Return: the number stored in @out (at most @max).
 */
SFSHM_API unsigned sfshm_ring_acks(struct sfshm_ring *r, uint64_t from,
				   uint64_t to, struct sfshm_ack_req *out,
				   unsigned max);

/** sfshm_ring_ack() - answer a request: frame @pos got offset @offset. */
SFSHM_API void sfshm_ring_ack(struct sfshm_ring *r, unsigned slot, uint64_t pos,
			      int64_t offset);

/**
 * sfshm_ring_claim_holder_alive() - may a live producer own the
 * uncommitted frame at @pos?  True while some live producer's open claim
 * started at or before @pos; slots of dead holders are freed on the way.
 * When false, the owner may unblock @pos at once (its producer died).
 * Context: owner only.  Return: 1, 0, or -EPERM.
 */
SFSHM_API int sfshm_ring_claim_holder_alive(struct sfshm_ring *r, uint64_t pos);

/* Producers asleep waiting for a durable acknowledgement (an fsync). */
SFSHM_API uint32_t sfshm_ring_durable_waiters(const struct sfshm_ring *r);

#define SFSHM_WAIT_ANY_MAX 127u

/**
 * sfshm_ring_wait_any() - wait until one of several readers has a frame.
 * @rs:         reader handles (at most SFSHM_WAIT_ANY_MAX).
 * @n:          how many.
 * @bell:       NULL, or a process-private futex word that also ends the
 *              wait when it no longer holds @bell_val (bump it and
 *              FUTEX_WAKE it with FUTEX_PRIVATE_FLAG).
 * @bell_val:   its expected value.
 * @timeout_ms: -1 for ever, 0 poll.
 * Context: spins briefly, then sleeps in futex_waitv(2) (Linux 5.16).
 * Return: the index of a ready ring; @n if the bell rang; -ETIMEDOUT;
 * -EAGAIN (timeout 0); -EINVAL.
 */
SFSHM_API int sfshm_ring_wait_any(struct sfshm_ring **rs, unsigned n,
				  uint32_t *bell, uint32_t bell_val,
				  int timeout_ms);

/**
 * sfshm_strerror() - text for a -errno returned by libsfshm, in the
 * library's own terms where it gives a code a specific meaning.
 * Return: a static string.
 */
SFSHM_API const char *sfshm_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* SFSHM_RING_H */
