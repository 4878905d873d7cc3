// SPDX-License-Identifier: MIT
/*
 * ring.c - the partition ring.
 *
 * How it works
 * ------------
 * A ring is a power-of-two data area of `size` bytes addressed by 64-bit
 * positions that only grow; a position's byte lives at (pos & (size - 1)).
 * Frames are laid end to end, each starting on an 8-byte boundary with an
 * atomic 64-bit frame word (type, signed length) that is the whole
 * protocol: readers trust nothing in a frame until its word says DATA with
 * a positive length.
 *
 * Producing.  A producer claims [t, t + len) by CAS on k_tail, only below
 * k_limit (back-pressure: the owner moves the limit as it erases what it
 * persisted).  A claim that would cross the end of the data area takes the
 * rest of the area as well and writes a PAD frame there.  The producer
 * then CASes its frame word from 0 to (DATA, -len) - "in progress" - fills
 * the header and body with plain stores, and commits by CASing the word to
 * (DATA, +len) with release (seq_cst) semantics.  Both CASes fail only if
 * the owner revoked the claim (see unblocking): the copying send then
 * claims again, the zero-copy commit reports -ECANCELED.
 *
 * Reading.  A reader loads the frame word at its position (acquire, paired
 * with the commit CAS).  Zero, POISON or a negative length mean "nothing
 * yet"; PAD means skip; DATA means a record whose header and body are
 * complete.  The reader validates the header as foreign data (lengths must
 * add up to the frame length, the frame must fit before the end of the data
 * area) and copies the body out.
 *
 * Cleaning and overrun.  Memory ahead of the producers must read as zero,
 * so the owner erases what it persisted: it announces the erase by storing
 * k_clean = upto, then a release fence, then zeroes, then stores
 * k_limit = upto + size (release), which lets producers reuse the space.
 * A reader never waits for cleaning; a slow reader can be lapped.  It
 * detects that seqlock-style: after copying a frame it issues an acquire
 * fence and reloads k_clean; if k_clean passed the frame's position, the
 * bytes may be erased or rewritten, and it reports -EOVERFLOW instead of
 * returning them.  (The fence pair: the owner's release fence before the
 * zeroing stores, the reader's acquire fence after its loads.  If any byte
 * the reader copied was written after the owner's fence, the reader's
 * reload sees the new k_clean.)
 *
 * Unblocking.  A producer that dies or stalls between claim and commit
 * leaves a frame every reader stops at.  The owner calls
 * sfshm_ring_unblock() on it after a timeout or as soon as it learns the
 * producer died.  An in-progress frame is CASed to PAD of its own length,
 * so the producer's commit CAS later fails.  A frame whose word is still
 * zero (the producer died between the tail CAS and the header CAS) has an
 * unknown length: the owner poisons every empty slot from there up to the
 * first written frame word (or the tail, or the end of the lap), each by a
 * CAS from zero, and pads over that range.  A producer whose header CAS
 * then meets POISON knows its claim was revoked and claims again; nobody
 * ever writes into padding, and a committed frame is never changed.
 *
 * Waking.  Readers spin for a while, then sleep on the futex word
 * k_notify.  Before sleeping a reader counts itself in k_waiters, reads
 * k_notify, sets k_armed (seq_cst) and looks at its frame word once more
 * (seq_cst); a producer commits (seq_cst CAS) and then loads k_waiters
 * and k_armed (seq_cst).  In the single total order of these operations
 * one side sees the other: either the reader sees the commit and does not
 * sleep, or the producer sees the flag, and the one producer whose
 * exchange clears it bumps k_notify and wakes everybody.  So a sleep costs
 * one wake, however many records arrive while the reader is on its way to
 * sleep or back.  Sleeps are bounded slices, so a reader that corrupts
 * the ctl page can only cost others latency (or, setting k_armed over and
 * over, system calls), never a lost wake-up for good.
 *
 * The protocol is modelled in ring.pml and checked with spin.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sfatomic.h"
#include "sfshm_int.h"

#define SLEEP_SLICE_NS (100ull * 1000 * 1000)

struct sfshm_ring {
	struct sfshm_ring_hdr *hdr;
	uint8_t *data;
	struct sfshm_ring_ctl *ctl;
	uint64_t size;
	uint64_t mask;
	uint32_t max_frame;
	uint32_t lap_shift; /* log2(size): pos >> lap_shift is the lap */
	enum sfshm_role role;
	size_t map_len;

	uint64_t pos; /* reader position */
	uint64_t limit_cache; /* last k_limit seen (limits only grow) */
	int slot; /* ctl slot index, -1 if none */
	int pslot; /* producer slot index, -1 if none */
	enum sfshm_wait_mode wait_mode;
	uint64_t spin_ns;
	struct sfshm_ring_stats st;
};

static inline uint32_t frame_align(uint64_t len)
{
	return (uint32_t)((len + SFSHM_FRAME_ALIGN - 1) &
			  ~(uint64_t)(SFSHM_FRAME_ALIGN - 1));
}

static inline struct sfshm_frame *frame_at(const struct sfshm_ring *r,
					   uint64_t pos)
{
	return (struct sfshm_frame *)(r->data + (pos & r->mask));
}

/* The frame word of a @type frame of @len bytes at @pos (tagged by lap). */
static inline uint64_t word_at(const struct sfshm_ring *r, uint32_t type,
			       uint64_t pos, int32_t len)
{
	return SFSHM_FRAME_WORD(SFSHM_FRAME_TAG(type, pos >> r->lap_shift),
				len);
}

/* A non-zero word written for another lap than @pos's. */
static inline bool word_stale(const struct sfshm_ring *r, uint64_t pos,
			      uint64_t w)
{
	return w && SFSHM_FRAME_LAP(w) !=
			    ((pos >> r->lap_shift) & SFSHM_FRAME_LAP_MASK);
}

/* A non-zero word written for a lap before @pos's (modulo the tag). */
static inline bool word_older(const struct sfshm_ring *r, uint64_t pos,
			      uint64_t w)
{
	uint32_t d = ((uint32_t)(pos >> r->lap_shift) - SFSHM_FRAME_LAP(w)) &
		     SFSHM_FRAME_LAP_MASK;

	return w && d && d < SFSHM_FRAME_LAP_MASK / 2;
}

static bool erased(const struct sfshm_ring *r, uint64_t pos);

/* ---- producer slots and hazards -------------------------------------------- */

static void release_pslot(struct sfshm_producer_slot *ps)
{
	/* Release: our last writes happen before the owner erases them. */
	sf_store_release64(&ps->k_hazard, SFSHM_NO_HAZARD);
	sf_store_release32(&ps->k_pid, 0);
}

/*
 * Free the slot of a process that died, only if it still holds it (a CAS
 * on the pid).  k_start is zeroed first: until a new holder stores its own
 * start time, "start unknown" makes sf_proc_alive() answer "alive", so a
 * cleaner can never judge the new holder by the dead one's start time.
 * The hazard is left alone, since a new holder may already be writing its
 * own; take_pslot() resets it.
 */
static void free_dead_pslot(struct sfshm_producer_slot *ps, uint32_t pid)
{
	/* Release: ordered before the CAS that hands the slot on. */
	sf_store_release64(&ps->k_start, 0);
	/* acq_rel: hands the slot over between processes. */
	sf_cas_acqrel32(&ps->k_pid, &pid, 0);
}

/*
 * Is the holder of @ps, seen as @pid, gone?  The same test as clean_floor():
 * k_pid, k_start, k_pid again (the slot did not change hands in between),
 * then the liveness of (pid, start).
 */
static bool pslot_holder_gone(struct sfshm_producer_slot *ps, uint32_t pid)
{
	/* Acquire: pairs with the release stores in take_pslot(). */
	uint64_t start = sf_load_acquire64(&ps->k_start);

	if (sf_load_acquire32(&ps->k_pid) != pid)
		return false;
	return !sf_proc_alive(pid, start);
}

static int take_pslot(struct sfshm_ring *r)
{
	uint32_t me = (uint32_t)getpid();

	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS; i++) {
		struct sfshm_producer_slot *ps = &r->hdr->producer[i];
		uint32_t free_pid = 0;

		/* acq_rel: hands the slot over between processes. */
		if (!sf_cas_acqrel32(&ps->k_pid, &free_pid, me))
			continue;
		sf_store_release64(&ps->k_start, sf_proc_start(me));
		sf_store_release64(&ps->k_hazard, SFSHM_NO_HAZARD);
		/* No acknowledgement asked for or given yet: not position 0. */
		sf_store_relaxed64(&ps->k_ack_pos, SFSHM_NO_HAZARD);
		sf_store_release64(&ps->k_ack_done, SFSHM_NO_HAZARD);
		r->pslot = (int)i;
		return 0;
	}
	return -ENOSPC;
}

/*
 * Announce the tail position we are about to claim.  Relaxed: the tail
 * CAS that follows is a release, and the owner learns of our claim only
 * through acquire loads of the tail or of our frame word, so it sees this
 * store first.
 */
static inline void set_hazard(struct sfshm_ring *r, uint64_t t)
{
	sf_store_relaxed64(&r->hdr->producer[r->pslot].k_hazard, t);
}

/* No claim outstanding.  Release: pairs with the acquire in clean_floor(). */
static inline void clear_hazard(struct sfshm_ring *r)
{
	sf_store_release64(&r->hdr->producer[r->pslot].k_hazard,
			   SFSHM_NO_HAZARD);
}

/* ---- time and futex helpers --------------------------------------------- */

uint64_t sf_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static uint64_t deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return sf_now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

/* Sleep on a shared futex word while it holds @val, at most @ns. */
static void futex_sleep(uint32_t *word, uint32_t val, uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000ull),
		.tv_nsec = (long)(ns % 1000000000ull),
	};

	syscall(SYS_futex, word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void futex_wake_all(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* How long to sleep next: the rest of the deadline, at most one slice. */
static uint64_t sleep_slice(uint64_t deadline)
{
	uint64_t now = sf_now_ns();

	if (deadline == UINT64_MAX)
		return SLEEP_SLICE_NS;
	if (deadline <= now)
		return 0; /* passed (a spin can overshoot it) */
	return deadline - now > SLEEP_SLICE_NS ? SLEEP_SLICE_NS :
						 deadline - now;
}

/*
 * Copies and erases that may race with a lapped reader.  The race is
 * detected by the k_clean check, not prevented; under ThreadSanitizer they
 * use relaxed atomics so that the tool sees the protocol, not a false race.
 */
#if defined(__SANITIZE_THREAD__)
#define SF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SF_TSAN 1
#endif
#endif

static void racy_copy(void *dst, const void *src, size_t n)
{
#ifdef SF_TSAN
	for (size_t i = 0; i < n; i++)
		((uint8_t *)dst)[i] = atomic_load_explicit(
			(_Atomic uint8_t *)((const uint8_t *)src + i),
			memory_order_relaxed);
#else
	memcpy(dst, src, n);
#endif
}

static void racy_zero(void *dst, size_t n)
{
#ifdef SF_TSAN
	for (size_t i = 0; i < n; i += 8)
		sf_store_relaxed64((uint64_t *)((uint8_t *)dst + i), 0);
#else
	memset(dst, 0, n);
#endif
}

/* ---- format and map ----------------------------------------------------- */

static bool size_ok(uint64_t size)
{
	return size >= SFSHM_RING_MIN_SIZE && size <= SFSHM_RING_MAX_SIZE &&
	       (size & (size - 1)) == 0;
}

static int map_file(int fd, size_t len, int prot, void **out)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

static void format_hdr(struct sfshm_ring_hdr *h, uint64_t size)
{
	h->version = SFSHM_RING_VERSION;
	h->hdr_pages = 1;
	h->size = size;
	h->max_frame = (uint32_t)(size / 8);
	h->frame_align = SFSHM_FRAME_ALIGN;
	h->data_offset = SFSHM_PAGE;
	h->creator_pid = (uint32_t)getpid();
	h->created_ns = (uint64_t)realtime_ns();
	sf_store_relaxed64(&h->k_tail, 0);
	sf_store_relaxed64(&h->k_clean, 0);
	sf_store_relaxed64(&h->k_limit, size);
	/* Publish: pairs with the acquire load of k_magic in check_hdr(). */
	sf_store_release32(&h->k_magic, SFSHM_RING_MAGIC);
}

static void format_ctl(struct sfshm_ring_ctl *c)
{
	c->version = SFSHM_RING_VERSION;
	c->slots = SFSHM_CTL_SLOTS;
	/* Publish: pairs with the acquire load of k_magic in check_ctl(). */
	sf_store_release32(&c->k_magic, SFSHM_CTL_MAGIC);
}

int sfshm_ring_format(int ring_fd, int ctl_fd, uint64_t size)
{
	void *h = NULL, *c = NULL;
	int err;

	if (!size_ok(size))
		return -EINVAL;
	if (ftruncate(ring_fd, (off_t)(SFSHM_PAGE + size)) < 0 ||
	    ftruncate(ctl_fd, SFSHM_PAGE) < 0)
		return -errno;
	err = map_file(ring_fd, SFSHM_PAGE, PROT_READ | PROT_WRITE, &h);
	if (err)
		return err;
	err = map_file(ctl_fd, SFSHM_PAGE, PROT_READ | PROT_WRITE, &c);
	if (err)
		goto out_hdr;
	if (sf_load_relaxed32(&((struct sfshm_ring_hdr *)h)->k_magic) ||
	    sf_load_relaxed32(&((struct sfshm_ring_ctl *)c)->k_magic)) {
		err = -EEXIST;
		goto out_ctl;
	}
	format_ctl(c);
	format_hdr(h, size);
out_ctl:
	munmap(c, SFSHM_PAGE);
out_hdr:
	munmap(h, SFSHM_PAGE);
	return err;
}

int sfshm_ring_create_memfd(uint64_t size, int *ring_fd, int *ctl_fd)
{
	int rfd, cfd, err;

	rfd = memfd_create("sfshm-ring", MFD_CLOEXEC);
	if (rfd < 0)
		return -errno;
	cfd = memfd_create("sfshm-ctl", MFD_CLOEXEC);
	if (cfd < 0) {
		err = -errno;
		goto out_rfd;
	}
	err = sfshm_ring_format(rfd, cfd, size);
	if (err)
		goto out_cfd;
	*ring_fd = rfd;
	*ctl_fd = cfd;
	return 0;
out_cfd:
	close(cfd);
out_rfd:
	close(rfd);
	return err;
}

/* Validate the creator's line before trusting any other field. */
static int check_hdr(const struct sfshm_ring_hdr *h, uint64_t file_size)
{
	/* Pairs with the release store of k_magic in format_hdr(). */
	if (sf_load_acquire32(&h->k_magic) != SFSHM_RING_MAGIC ||
	    h->version != SFSHM_RING_VERSION)
		return -EPROTO;
	if (!size_ok(h->size) || h->hdr_pages != 1 ||
	    h->data_offset != SFSHM_PAGE ||
	    h->frame_align != SFSHM_FRAME_ALIGN ||
	    h->max_frame != h->size / 8 || file_size != SFSHM_PAGE + h->size)
		return -EBADMSG;
	return 0;
}

static int check_ctl(const struct sfshm_ring_ctl *c)
{
	/* Pairs with the release store of k_magic in format_ctl(). */
	if (sf_load_acquire32(&c->k_magic) != SFSHM_CTL_MAGIC ||
	    c->version != SFSHM_RING_VERSION)
		return -EPROTO;
	if (c->slots != SFSHM_CTL_SLOTS)
		return -EBADMSG;
	return 0;
}

static int file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int map_ctl(struct sfshm_ring *r, int ctl_fd)
{
	uint64_t csize;
	void *c = NULL;
	int err;

	err = file_size(ctl_fd, &csize);
	if (err)
		return err;
	if (csize < SFSHM_PAGE)
		return -EPROTO;
	err = map_file(ctl_fd, SFSHM_PAGE, PROT_READ | PROT_WRITE, &c);
	if (err)
		return err;
	r->ctl = c;
	return check_ctl(r->ctl);
}

static int map_ring(struct sfshm_ring *r, int ring_fd)
{
	int prot = PROT_READ;
	uint64_t fsize;
	void *m = NULL;
	int err;

	if (r->role != SFSHM_ROLE_READER)
		prot |= PROT_WRITE;
	err = file_size(ring_fd, &fsize);
	if (err)
		return err;
	if (fsize < SFSHM_PAGE + SFSHM_RING_MIN_SIZE)
		return -EPROTO;
	err = map_file(ring_fd, (size_t)fsize, prot, &m);
	if (err)
		return err;
	r->hdr = m;
	r->map_len = (size_t)fsize;
	err = check_hdr(r->hdr, fsize);
	if (err)
		return err;
	r->size = r->hdr->size;
	r->mask = r->size - 1;
	r->max_frame = (uint32_t)(r->size / 8);
	r->lap_shift = (uint32_t)__builtin_ctzll(r->size);
	r->data = (uint8_t *)m + SFSHM_PAGE;
	return 0;
}

int sfshm_ring_map(int ring_fd, int ctl_fd, enum sfshm_role role,
		   struct sfshm_ring **out)
{
	struct sfshm_ring *r;
	int err;

	if (role < SFSHM_ROLE_OWNER || role > SFSHM_ROLE_READER)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->role = role;
	r->slot = -1;
	r->pslot = -1;
	r->spin_ns = SFSHM_DEFAULT_SPIN_NS;
	err = map_ring(r, ring_fd);
	if (!err)
		err = map_ctl(r, ctl_fd);
	if (err) {
		sfshm_ring_unmap(r);
		return err;
	}
	/* Start at the oldest position still readable: a frame boundary. */
	r->pos = sf_load_acquire64(&r->hdr->k_clean);
	if (r->pos & (SFSHM_FRAME_ALIGN - 1)) {
		sfshm_ring_unmap(r);
		return -EBADMSG;
	}
	/* Be visible to the owner from the start (best effort). */
	if (role == SFSHM_ROLE_READER)
		sfshm_ring_publish_pos(r);
	*out = r;
	return 0;
}

void sfshm_ring_unmap(struct sfshm_ring *r)
{
	if (!r)
		return;
	if (r->slot >= 0)
		sf_store_release32(&r->ctl->slot[r->slot].k_pid, 0);
	if (r->pslot >= 0)
		release_pslot(&r->hdr->producer[r->pslot]);
	if (r->ctl)
		munmap(r->ctl, SFSHM_PAGE);
	if (r->hdr)
		munmap(r->hdr, r->map_len);
	free(r);
}

uint64_t sfshm_ring_size(const struct sfshm_ring *r)
{
	return r->size;
}

const void *sf_ring_base(const struct sfshm_ring *r)
{
	return r->hdr;
}

uint32_t sfshm_ring_max_frame(const struct sfshm_ring *r)
{
	return r->max_frame;
}

uint64_t sfshm_ring_tail(const struct sfshm_ring *r)
{
	return sf_load_acquire64(&r->hdr->k_tail);
}

uint64_t sfshm_ring_limit(const struct sfshm_ring *r)
{
	return sf_load_acquire64(&r->hdr->k_limit);
}

uint64_t sfshm_ring_clean_pos(const struct sfshm_ring *r)
{
	return sf_load_acquire64(&r->hdr->k_clean);
}

void sfshm_ring_stats(const struct sfshm_ring *r, struct sfshm_ring_stats *st)
{
	*st = r->st;
}

uint64_t sfshm_ring_frame_word(const struct sfshm_ring *r, uint64_t pos)
{
	return sf_load_acquire64(&frame_at(r, pos)->k_word);
}

/* ---- producing ------------------------------------------------------------ */

static uint64_t len_or_zero(int32_t len)
{
	return len < 0 ? 0 : (uint64_t)len;
}

int64_t sfshm_rec_frame_len(const struct sfshm_rec *rec)
{
	uint64_t len = SFSHM_FRAME_HDR_SIZE;

	if ((rec->key_len < 0 && rec->key_len != -1) ||
	    (rec->value_len < 0 && rec->value_len != -1) ||
	    (rec->hdr_count && !rec->hdrs))
		return -EINVAL;
	len += len_or_zero(rec->key_len) + len_or_zero(rec->value_len);
	for (uint32_t i = 0; i < rec->hdr_count; i++) {
		const struct sfshm_hdr *h = &rec->hdrs[i];

		if ((h->value_len < 0 && h->value_len != -1) ||
		    (h->key_len && !h->key) || (h->value_len > 0 && !h->value))
			return -EINVAL;
		len += SFSHM_RECHDR_SIZE + h->key_len +
		       len_or_zero(h->value_len);
		if (len > INT32_MAX)
			return -EMSGSIZE;
	}
	if (len > INT32_MAX)
		return -EMSGSIZE;
	return (int64_t)len;
}

/* Producers wait for the owner to move k_limit: spin, then futex. */
/* The error a client gets from a ring in @state (0 when live). */
static int state_error(uint32_t state)
{
	if (state == SFSHM_STATE_DELETED)
		return -ENOENT;
	return state == SFSHM_STATE_LIVE ? 0 : -ESHUTDOWN;
}

static int wait_space(struct sfshm_ring *r, uint64_t end, uint64_t deadline)
{
	struct sfshm_ring_hdr *h = r->hdr;
	int err = 0;

	r->st.full++;
	for (int i = 0; i < 256; i++) {
		sf_cpu_relax();
		if (sf_load_acquire64(&h->k_limit) >= end)
			return 0;
	}
	/* Pairs with the seq_cst load of k_space_waiters in ring_clean(). */
	sf_add_seqcst32(&h->k_space_waiters, 1);
	for (;;) {
		uint32_t seq = sf_load_acquire32(&h->k_space);

		/* Pairs with the seq_cst store of k_limit in ring_clean(). */
		if (sf_load_seqcst64(&h->k_limit) >= end)
			break;
		/* Acquire: pairs with sfshm_ring_set_state(), which wakes us. */
		err = state_error(sf_load_acquire32(&h->k_state));
		if (err)
			break;
		if (sf_now_ns() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		r->st.sleeps++;
		futex_sleep(&h->k_space, seq, sleep_slice(deadline));
	}
	sf_dec_sat_seqcst32(&h->k_space_waiters);
	return err;
}

/*
 * Write the first word of a frame we claimed (in progress, or padding).
 * Return: 0, or -ECANCELED if the owner revoked the claim: claim again.
 */
static int mark_frame(struct sfshm_ring *r, uint64_t pos, uint64_t word)
{
	uint64_t *wp = &frame_at(r, pos)->k_word;
	uint64_t seen = 0;

	/*
	 * acq_rel: release, as a padding word is final and readers acquire
	 * it; acquire, so that if the zero we replace was written by the
	 * owner's erase (we stalled across a whole lap), the release fence
	 * in sfshm_ring_clean() makes erased() below see it.
	 */
	while (!sf_cas_acqrel64(wp, &seen, word)) {
		/*
		 * POISON or PAD of our lap: the owner revoked this claim.  A
		 * later lap's word: we are the one who stalled.
		 */
		if (!word_older(r, pos, seen))
			goto revoked;
		/* Left by a producer that stalled a lap ago: ours now. */
	}
	if (!erased(r, pos))
		return 0;
	/* We stalled across a lap: give the slot back, claim again. */
	sf_cas_relaxed64(wp, &word, 0);
revoked:
	r->st.revoked++;
	return -ECANCELED;
}

/*
 * After the tail CAS: is the ring still live?  If the owner stopped or
 * deleted it, give the claim back as padding.  seq_cst load: either we
 * see the owner's state store, or the owner's tail load after it sees
 * our claim (and waits for it or revokes it): never a record committed
 * behind the owner's back.
 */
static int claim_live(struct sfshm_ring *r, uint64_t pos, uint32_t need)
{
	int err = state_error(sf_load_seqcst32(&r->hdr->k_state));

	if (!err)
		return 0;
	mark_frame(r, pos, word_at(r, SFSHM_FRAME_PAD, pos, (int32_t)need));
	clear_hazard(r);
	return err;
}

/*
 * Claim `need` aligned bytes (plus padding at the wrap).  Returns the
 * position of the frame, with its word still zero.
 */
static int claim_space(struct sfshm_ring *r, uint32_t need, int timeout_ms,
		       uint64_t *fpos, uint64_t *deadline)
{
	struct sfshm_ring_hdr *h = r->hdr;
	uint64_t t, pad, end;
	int err;

	if (r->pslot < 0 && take_pslot(r))
		return -ENOSPC;
	/* Relaxed: the CAS below validates it; no data is published here. */
	t = sf_load_relaxed64(&h->k_tail);
	for (;;) {
		uint64_t idx = t & r->mask;

		pad = idx + need > r->size ? r->size - idx : 0;
		end = t + pad + need;
		if (end > r->limit_cache) {
			/*
			 * Pairs with the seq_cst store of k_limit in
			 * ring_clean(): the erased bytes below the new limit
			 * are visible before we write into them.
			 */
			r->limit_cache = sf_load_acquire64(&h->k_limit);
			if (end > r->limit_cache) {
				clear_hazard(r);
				if (timeout_ms == 0) {
					r->st.full++;
					return -EAGAIN;
				}
				if (*deadline == 0)
					*deadline = deadline_of(timeout_ms);
				err = wait_space(r, end, *deadline);
				if (err)
					return err;
				t = sf_load_relaxed64(&h->k_tail);
				continue;
			}
		}
		set_hazard(r, t);
		/*
		 * Release: publishes the hazard just stored (see set_hazard()).
		 * Our frame bytes are published by the frame word CASes, and
		 * erased memory reached us through k_limit above.  seq_cst:
		 * the Dekker pair with sfshm_ring_stop() (its state store,
		 * then its tail load) and our state load in claim_live();
		 * the same locked instruction as acq_rel on x86.
		 */
		if (sf_cas_seqcst64(&h->k_tail, &t, end))
			break;
	}
	if (pad) {
		/*
		 * Revoked means the owner poisoned the slot and pads it
		 * itself; our record's own slot will tell us about the rest.
		 */
		if (!mark_frame(r, t,
				word_at(r, SFSHM_FRAME_PAD, t, (int32_t)pad))) {
			r->st.pad_frames++;
			r->st.pad_bytes += pad;
		}
	}
	*fpos = t + pad;
	err = claim_live(r, *fpos, need);
	if (err)
		return err;
	/*
	 * The owner's erase left the lines ahead in its cache: ask for the
	 * next frame's line for writing now, so the next claim's CAS does
	 * not wait for it.
	 */
	__builtin_prefetch(frame_at(r, end), 1, 3);
	return 0;
}

static uint8_t *put(uint8_t *p, const void *src, int32_t len)
{
	if (len > 0) {
		memcpy(p, src, (size_t)len);
		p += len;
	}
	return p;
}

static uint8_t *put_hdrs(uint8_t *p, const struct sfshm_rec *rec)
{
	for (uint32_t i = 0; i < rec->hdr_count; i++) {
		const struct sfshm_hdr *h = &rec->hdrs[i];
		uint32_t kv[2] = { h->key_len, (uint32_t)h->value_len };

		memcpy(p, kv, sizeof(kv));
		p += sizeof(kv);
		p = put(p, h->key, (int32_t)h->key_len);
		p = put(p, h->value, h->value_len);
	}
	return p;
}

/*
 * Fill the header of a claimed frame; copy what the record carries; return
 * where key and value go.
 */
static void fill_frame(struct sfshm_frame *f, const struct sfshm_rec *rec,
		       uint32_t flen, struct sfshm_claim *c)
{
	uint8_t *body = (uint8_t *)(f + 1);
	uint8_t *hdrs;

	f->timestamp = rec->timestamp ? rec->timestamp : realtime_ns();
	f->key_len = (uint32_t)rec->key_len;
	f->value_len = (uint32_t)rec->value_len;
	f->hdr_count = rec->hdr_count;
	c->key = rec->key_len >= 0 ? body : NULL;
	c->value = rec->value_len >= 0 ? body + len_or_zero(rec->key_len) :
					 NULL;
	hdrs = body + len_or_zero(rec->key_len) + len_or_zero(rec->value_len);
	f->hdr_bytes = (uint32_t)(flen - SFSHM_FRAME_HDR_SIZE -
				  (uint32_t)(hdrs - body));
	if (rec->key && rec->key_len > 0)
		memcpy(c->key, rec->key, (size_t)rec->key_len);
	if (rec->value && rec->value_len > 0)
		memcpy(c->value, rec->value, (size_t)rec->value_len);
	if (rec->hdr_count)
		put_hdrs(hdrs, rec);
}

int sfshm_ring_claim(struct sfshm_ring *r, const struct sfshm_rec *rec,
		     int timeout_ms, struct sfshm_claim *c)
{
	uint64_t deadline = 0, fpos;
	int64_t flen;
	int err;

	if (r->role == SFSHM_ROLE_READER)
		return -EPERM;
	flen = sfshm_rec_frame_len(rec);
	if (flen < 0)
		return (int)flen;
	if (flen > r->max_frame)
		return -EMSGSIZE;
	do {
		err = claim_space(r, frame_align((uint64_t)flen), timeout_ms,
				  &fpos, &deadline);
		if (err)
			return err;
		err = mark_frame(r, fpos,
				 word_at(r, SFSHM_FRAME_DATA, fpos,
					 -(int32_t)flen));
	} while (err == -ECANCELED);
	c->pos = fpos;
	c->frame = frame_at(r, fpos);
	c->frame_len = (uint32_t)flen;
	fill_frame(c->frame, rec, (uint32_t)flen, c);
	return 0;
}

static void wake_readers(struct sfshm_ring *r)
{
	r->st.wakes++;
	/* Release: the bump orders after the commit for the woken reader. */
	sf_add_release32(&r->hdr->k_notify, 1);
	futex_wake_all(&r->hdr->k_notify);
}

/*
 * After a seq_cst store that readers may be waiting for: wake them if any
 * sleep.  The seq_cst load pairs with the seq_cst increment of k_waiters
 * in sleep_frame() (see "Waking" above).
 */
static void notify_readers(struct sfshm_ring *r)
{
	struct sfshm_ring_ctl *c = r->ctl;

	/*
	 * Only the producer that disarms a sleeper wakes: readers on their
	 * way to sleep (or back) would otherwise cost a system call per
	 * record.  The seq_cst loads and exchange pair with the seq_cst
	 * store of k_armed in sleep_frame().
	 */
	if (sf_load_seqcst32(&c->k_waiters) && sf_load_seqcst32(&c->k_armed) &&
	    sf_xchg_seqcst32(&c->k_armed, 0))
		wake_readers(r);
}

/* Publish a claimed frame: CAS its word from @expect to (@type, len). */
static int commit_word(struct sfshm_ring *r, struct sfshm_claim *c,
		       uint64_t expect, uint32_t type)
{
	struct sfshm_frame *f = c->frame;

	/*
	 * seq_cst: release for readers (pairs with their seq_cst load of the
	 * word in next_frame()), and part of the Dekker pair with the
	 * k_waiters load just below (see "Waking" above).  Fails only if the
	 * owner revoked the claim (unblock turned it into padding).
	 */
	bool done;

	/*
	 * Relaxed: the commit CAS below releases it; the persister reads it
	 * after its acquire load of this frame's word (sfshm_ring_acks()).
	 */
	if (type != SFSHM_FRAME_PAD)
		sf_store_relaxed64(&r->hdr->producer[r->pslot].k_ack_pos,
				   c->pos);
	done = sf_cas_seqcst64(&f->k_word, &expect,
			       word_at(r, type, c->pos, (int32_t)c->frame_len));

	/* Committed or revoked, we write no more into this claim. */
	clear_hazard(r);
	if (!done) {
		r->st.revoked++;
		return -ECANCELED;
	}
	notify_readers(r);
	return 0;
}

static int finish_claim(struct sfshm_ring *r, struct sfshm_claim *c,
			uint32_t type)
{
	return commit_word(r, c,
			   word_at(r, SFSHM_FRAME_DATA, c->pos,
				   -(int32_t)c->frame_len),
			   type);
}

int sfshm_ring_commit(struct sfshm_ring *r, struct sfshm_claim *c)
{
	int err;

	if (r->role == SFSHM_ROLE_READER)
		return -EPERM;
	err = finish_claim(r, c, SFSHM_FRAME_DATA);

	if (!err) {
		r->st.records++;
		r->st.bytes += c->frame_len;
	}
	return err;
}

int sfshm_ring_abort(struct sfshm_ring *r, struct sfshm_claim *c)
{
	int err;

	if (r->role == SFSHM_ROLE_READER)
		return -EPERM;
	err = finish_claim(r, c, SFSHM_FRAME_PAD);

	if (!err) {
		r->st.pad_frames++;
		r->st.pad_bytes += frame_align(c->frame_len);
	}
	return err;
}

/* A record to copy must carry the bytes its lengths promise. */
static bool rec_has_data(const struct sfshm_rec *rec)
{
	return !(rec->key_len > 0 && !rec->key) &&
	       !(rec->value_len > 0 && !rec->value);
}

int sfshm_ring_send(struct sfshm_ring *r, const struct sfshm_rec *rec,
		    int timeout_ms, uint64_t *pos)
{
	struct sfshm_claim c;
	int err;

	if (!rec_has_data(rec))
		return -EINVAL;
	do {
		err = sfshm_ring_claim(r, rec, timeout_ms, &c);
		if (err)
			return err;
		err = sfshm_ring_commit(r, &c);
	} while (err == -ECANCELED);
	if (pos)
		*pos = c.pos;
	return err;
}

/*
 * How many of @recs fit in one batch of at most max_frame bytes; their
 * aligned total in *total.  Return: the count, or -errno for the first.
 */
static int batch_size(const struct sfshm_ring *r, const struct sfshm_rec *recs,
		      unsigned n, uint32_t *total)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < n; i++) {
		int64_t flen = sfshm_rec_frame_len(&recs[i]);

		if (flen >= 0 && !rec_has_data(&recs[i]))
			flen = -EINVAL;
		if (flen < 0 || flen > r->max_frame) {
			if (i == 0)
				return flen < 0 ? (int)flen : -EMSGSIZE;
			break;
		}
		if (sum + frame_align((uint64_t)flen) > r->max_frame)
			break;
		sum += frame_align((uint64_t)flen);
	}
	*total = (uint32_t)sum;
	return (int)i;
}

/*
 * Fill frames 2..n of a batch, complete with their committed words: no
 * reader looks past the first frame until the batch is committed.
 */
static void fill_rest(struct sfshm_ring *r, uint64_t pos,
		      const struct sfshm_rec *recs, int n)
{
	for (int i = 1; i < n; i++) {
		uint32_t flen = (uint32_t)sfshm_rec_frame_len(&recs[i]);
		struct sfshm_frame *f = frame_at(r, pos);
		struct sfshm_claim c;

		fill_frame(f, &recs[i], flen, &c);
		/* Relaxed: published by the release of the batch commit. */
		sf_store_relaxed64(&f->k_word, word_at(r, SFSHM_FRAME_DATA, pos,
						       (int32_t)flen));
		pos += frame_align(flen);
	}
}

/* Claim @total bytes for a batch, marking its first word (BATCH, -total). */
static int claim_batch(struct sfshm_ring *r, uint32_t total, int timeout_ms,
		       uint64_t *fpos)
{
	uint64_t deadline = 0;
	int err;

	do {
		err = claim_space(r, total, timeout_ms, fpos, &deadline);
		if (err)
			return err;
		err = mark_frame(r, *fpos,
				 word_at(r, SFSHM_FRAME_BATCH, *fpos,
					 -(int32_t)total));
	} while (err == -ECANCELED);
	return 0;
}

static int send_batch_once(struct sfshm_ring *r, const struct sfshm_rec *recs,
			   int n, uint32_t total, int timeout_ms, uint64_t *pos)
{
	struct sfshm_claim c;
	uint32_t flen = (uint32_t)sfshm_rec_frame_len(&recs[0]);
	uint64_t expect;
	int err;

	err = claim_batch(r, total, timeout_ms, pos);
	if (err)
		return err;
	expect = word_at(r, SFSHM_FRAME_BATCH, *pos, -(int32_t)total);
	c.pos = *pos;
	fill_rest(r, *pos + frame_align(flen), recs, n);
	c.frame = frame_at(r, *pos);
	c.frame_len = flen;
	fill_frame(c.frame, &recs[0], flen, &c);
	err = commit_word(r, &c, expect, SFSHM_FRAME_DATA);
	if (err)
		return err;
	r->st.records += (uint64_t)n;
	r->st.bytes += total;
	return n;
}

int sfshm_ring_send_batch(struct sfshm_ring *r, const struct sfshm_rec *recs,
			  unsigned n, int timeout_ms, uint64_t *pos)
{
	uint64_t first;
	uint32_t total = 0;
	int count, err;

	if (r->role == SFSHM_ROLE_READER)
		return -EPERM;
	if (n == 0)
		return -EINVAL;
	count = batch_size(r, recs, n, &total);
	if (count < 0)
		return count;
	if (count == 1) {
		err = sfshm_ring_send(r, recs, timeout_ms, pos);
		return err ? err : 1;
	}
	do {
		err = send_batch_once(r, recs, count, total, timeout_ms,
				      &first);
	} while (err == -ECANCELED);
	if (err > 0 && pos)
		*pos = first;
	return err;
}

/* ---- reading -------------------------------------------------------------- */

/* Has the owner announced erasing @pos?  (Seqlock reader side.) */
static bool erased(const struct sfshm_ring *r, uint64_t pos)
{
	/*
	 * Pairs with the release fence in ring_clean(): if anything we
	 * loaded since the frame word was written after that fence, this
	 * load sees the k_clean stored before it.
	 */
	sf_fence_acquire();
	return pos < sf_load_relaxed64(&r->hdr->k_clean);
}

/* A frame word readers may skip or read (not zero/poison/in progress). */
static bool word_ready(const struct sfshm_ring *r, uint64_t pos, uint64_t w)
{
	uint32_t type = SFSHM_FRAME_TYPE(w);

	if (w == 0 || type == SFSHM_FRAME_POISON || word_stale(r, pos, w))
		return false;
	return !((type == SFSHM_FRAME_DATA || type == SFSHM_FRAME_BATCH) &&
		 SFSHM_FRAME_LEN(w) < 0);
}

/* Is the (ready) word a well-formed frame at this index? */
static bool word_valid(const struct sfshm_ring *r, uint64_t pos, uint64_t w)
{
	uint32_t type = SFSHM_FRAME_TYPE(w);
	int32_t len = SFSHM_FRAME_LEN(w);
	uint64_t idx = pos & r->mask;

	if (type == SFSHM_FRAME_PAD)
		return len >= (int32_t)SFSHM_FRAME_ALIGN &&
		       idx + frame_align((uint64_t)len) <= r->size;
	if (type != SFSHM_FRAME_DATA)
		return false;
	return len >= (int32_t)SFSHM_FRAME_HDR_SIZE &&
	       (uint32_t)len <= r->max_frame &&
	       idx + frame_align((uint64_t)len) <= r->size;
}

/*
 * Move the reader to the next committed DATA frame, skipping padding.
 * Return: 0 with *wp the frame word; -EAGAIN; -EOVERFLOW; -EBADMSG.
 */
static int load_word(struct sfshm_ring *r, uint64_t *wp)
{
	/*
	 * At k_limit and beyond, the data area still holds the previous lap
	 * (the ring is full and the owner has not erased it yet): nothing
	 * there is ours.  The limit must be loaded before the frame word.
	 * seq_cst: pairs with the seq_cst store in sfshm_ring_clean() (its
	 * erasures are then visible) and keeps the Dekker pair of
	 * sleep_frame() intact when the ring is full.  Limits only grow, so
	 * a cached one is good.
	 */
	if (r->pos >= r->limit_cache) {
		r->limit_cache = sf_load_seqcst64(&r->hdr->k_limit);
		if (r->pos >= r->limit_cache)
			return -EAGAIN;
	}
	/*
	 * seq_cst (a plain acquire load on every target we build for): pairs
	 * with the commit CAS in commit_word() and is the reader's half of
	 * the Dekker pair in sleep_frame().
	 */
	*wp = sf_load_seqcst64(&frame_at(r, r->pos)->k_word);
	return 0;
}

static int next_frame(struct sfshm_ring *r, uint64_t *wp)
{
	uint64_t skipped = 0;

	for (;;) {
		uint64_t w;
		int err = load_word(r, &w);

		if (err)
			return err;
		if (!word_ready(r, r->pos, w))
			return erased(r, r->pos) ? -EOVERFLOW : -EAGAIN;
		if (!word_valid(r, r->pos, w))
			return erased(r, r->pos) ? -EOVERFLOW : -EBADMSG;
		if (SFSHM_FRAME_TYPE(w) == SFSHM_FRAME_DATA) {
			*wp = w;
			return 0;
		}
		/* A pad of a later lap would send us astray: check first. */
		if (erased(r, r->pos))
			return -EOVERFLOW;
		/* Honest padding never fills a lap; corrupt counters could. */
		if (skipped >= r->size)
			return -EBADMSG;
		skipped += frame_align((uint64_t)SFSHM_FRAME_LEN(w));
		r->st.pad_frames++;
		r->st.pad_bytes += frame_align((uint64_t)SFSHM_FRAME_LEN(w));
		r->pos += frame_align((uint64_t)SFSHM_FRAME_LEN(w));
	}
}

static uint32_t len_of(uint32_t len)
{
	return len == SFSHM_NULL_LEN ? 0 : len;
}

/* Check that the encoded record headers fill exactly @bytes. */
static bool hdrs_valid(const uint8_t *p, uint32_t count, uint32_t bytes)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < count; i++) {
		uint32_t kv[2];

		if (bytes - off < SFSHM_RECHDR_SIZE)
			return false;
		memcpy(kv, p + off, sizeof(kv));
		off += SFSHM_RECHDR_SIZE + (uint64_t)kv[0] + len_of(kv[1]);
		if (off > bytes)
			return false;
	}
	return off == bytes;
}

/*
 * Fill @m from a local copy of the frame header and the body at @body.
 * Return: 0 or -EBADMSG when the lengths do not add up.
 */
static int decode(const struct sfshm_frame *fh, uint32_t flen,
		  const uint8_t *body, uint64_t pos, struct sfshm_msg *m)
{
	uint64_t klen = len_of(fh->key_len), vlen = len_of(fh->value_len);

	if ((fh->key_len != SFSHM_NULL_LEN && fh->key_len > INT32_MAX) ||
	    (fh->value_len != SFSHM_NULL_LEN && fh->value_len > INT32_MAX) ||
	    SFSHM_FRAME_HDR_SIZE + klen + vlen + fh->hdr_bytes != flen)
		return -EBADMSG;
	if (!hdrs_valid(body + klen + vlen, fh->hdr_count, fh->hdr_bytes))
		return -EBADMSG;
	m->pos = pos;
	m->next = pos + frame_align(flen);
	m->timestamp = fh->timestamp;
	m->key_len = (int32_t)fh->key_len;
	m->value_len = (int32_t)fh->value_len;
	m->key = m->key_len < 0 ? NULL : body;
	m->value = m->value_len < 0 ? NULL : body + klen;
	m->hdr_count = fh->hdr_count;
	m->hdr_bytes = fh->hdr_bytes;
	m->hdr_data = body + klen + vlen;
	return 0;
}

int sfshm_ring_peek(struct sfshm_ring *r, struct sfshm_msg *m)
{
	struct sfshm_frame fh;
	uint64_t w;
	int err;

	err = next_frame(r, &w);
	if (err)
		return err;
	/* Foreign memory: validate one private copy of the header. */
	racy_copy(&fh, frame_at(r, r->pos), sizeof(fh));
	err = decode(&fh, (uint32_t)SFSHM_FRAME_LEN(w),
		     (const uint8_t *)(frame_at(r, r->pos) + 1), r->pos, m);
	if (erased(r, r->pos))
		return -EOVERFLOW;
	return err;
}

int sfshm_ring_consume(struct sfshm_ring *r, const struct sfshm_msg *m)
{
	if (m->pos != r->pos)
		return -EINVAL;
	if (erased(r, m->pos))
		return -EOVERFLOW;
	r->st.records++;
	r->st.bytes += m->next - m->pos;
	r->pos = m->next;
	return 0;
}

int sfshm_ring_read(struct sfshm_ring *r, struct sfshm_msg *m, void *buf,
		    size_t buflen)
{
	const struct sfshm_frame *f;
	struct sfshm_frame fh;
	uint32_t flen, blen;
	uint64_t w;
	int err;

	err = next_frame(r, &w);
	if (err)
		return err;
	f = frame_at(r, r->pos);
	flen = (uint32_t)SFSHM_FRAME_LEN(w);
	blen = flen - SFSHM_FRAME_HDR_SIZE;
	if (blen > buflen) {
		if (erased(r, r->pos))
			return -EOVERFLOW;
		m->pos = r->pos;
		m->next = r->pos + frame_align(flen);
		return -ENOBUFS;
	}
	racy_copy(&fh, f, sizeof(fh));
	racy_copy(buf, f + 1, blen);
	/* Seqlock check before trusting the copy. */
	if (erased(r, r->pos))
		return -EOVERFLOW;
	err = decode(&fh, flen, buf, r->pos, m);
	if (err)
		return err;
	r->st.records++;
	r->st.bytes += m->next - m->pos;
	r->pos = m->next;
	return 0;
}

int sfshm_msg_header(const struct sfshm_msg *m, uint32_t i, struct sfshm_hdr *h)
{
	const uint8_t *p = m->hdr_data;
	uint64_t off = 0;

	if (i >= m->hdr_count)
		return -ENOENT;
	/* Re-check every bound: after peek the bytes are in shared memory. */
	for (uint32_t n = 0;; n++) {
		uint32_t kv[2];

		if (m->hdr_bytes - off < SFSHM_RECHDR_SIZE)
			return -EBADMSG;
		memcpy(kv, p + off, sizeof(kv));
		if ((uint64_t)kv[0] + len_of(kv[1]) >
		    m->hdr_bytes - off - SFSHM_RECHDR_SIZE)
			return -EBADMSG;
		if (n == i) {
			h->key = (const char *)p + off + SFSHM_RECHDR_SIZE;
			h->key_len = kv[0];
			h->value_len = (int32_t)kv[1];
			h->value = h->value_len < 0 ? NULL : h->key + kv[0];
			return 0;
		}
		off += SFSHM_RECHDR_SIZE + (uint64_t)kv[0] + len_of(kv[1]);
	}
}

uint64_t sfshm_ring_position(const struct sfshm_ring *r)
{
	return r->pos;
}

int sfshm_ring_seek(struct sfshm_ring *r, uint64_t pos)
{
	if (pos & (SFSHM_FRAME_ALIGN - 1))
		return -EINVAL;
	if (pos > sf_load_acquire64(&r->hdr->k_tail))
		return -EINVAL;
	if (pos < sf_load_acquire64(&r->hdr->k_clean))
		return -EOVERFLOW;
	r->pos = pos;
	return 0;
}

void sfshm_ring_set_wait(struct sfshm_ring *r, enum sfshm_wait_mode mode,
			 uint64_t spin_ns)
{
	r->wait_mode = mode;
	r->spin_ns = spin_ns;
}

/* Something to return at the reader's position (skips padding)? */
static bool frame_ready(struct sfshm_ring *r)
{
	uint64_t w;

	return next_frame(r, &w) != -EAGAIN;
}

static int spin_frame(struct sfshm_ring *r, uint64_t until)
{
	for (uint32_t i = 1;; i++) {
		if (frame_ready(r)) {
			r->st.spins++;
			return 0;
		}
		sf_cpu_relax();
		if ((i & 63) == 0 && sf_now_ns() >= until)
			return -ETIMEDOUT;
	}
}

static int sleep_frame(struct sfshm_ring *r, uint64_t deadline)
{
	struct sfshm_ring_ctl *c = r->ctl;
	int err = 0;

	/* Pairs with the seq_cst load of k_waiters in finish_claim(). */
	sf_add_seqcst32(&c->k_waiters, 1);
	for (;;) {
		/* Pairs with the release increment in wake_readers(). */
		uint32_t seq = sf_load_acquire32(&r->hdr->k_notify);

		/*
		 * Arm after reading the futex value and before the last look
		 * at the frame: a producer that commits after that look sees
		 * the flag (seq_cst, the Dekker pair with notify_readers())
		 * and bumps k_notify past seq.
		 */
		sf_store_seqcst32(&c->k_armed, 1);
		if (frame_ready(r))
			break;
		if (sf_now_ns() >= deadline) {
			err = -ETIMEDOUT;
			break;
		}
		r->st.sleeps++;
		futex_sleep(&r->hdr->k_notify, seq, sleep_slice(deadline));
	}
	/* Saturating: a reader may have scribbled a zero meanwhile. */
	sf_dec_sat_seqcst32(&c->k_waiters);
	return err;
}

int sfshm_ring_wait(struct sfshm_ring *r, int timeout_ms)
{
	uint64_t deadline, spin_until;

	if (frame_ready(r))
		return 0;
	if (timeout_ms == 0)
		return -EAGAIN;
	deadline = deadline_of(timeout_ms);
	if (r->wait_mode == SFSHM_WAIT_SPIN)
		return spin_frame(r, deadline);
	if (r->wait_mode == SFSHM_WAIT_HYBRID && r->spin_ns) {
		spin_until = sf_now_ns() + r->spin_ns;
		if (spin_until > deadline)
			spin_until = deadline;
		if (!spin_frame(r, spin_until))
			return 0;
	}
	return sleep_frame(r, deadline);
}

/* ---- owner ------------------------------------------------------------------ */

static void zero_range(struct sfshm_ring *r, uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t idx = from & r->mask;
		uint64_t n = r->size - idx;

		if (n > to - from)
			n = to - from;
		racy_zero(r->data + idx, (size_t)n);
		from += n;
	}
}

/*
 * The lowest hazard of a live producer in [@old, @upto), or @upto.  A
 * hazard below @old is stale: a tail CAS at a position already erased
 * cannot succeed (the tail is past it), and one that did succeed was seen
 * by the owner before it erased (see set_hazard()).  Slots of dead
 * processes are freed on the way.
 */
static uint64_t clean_floor(struct sfshm_ring *r, uint64_t old, uint64_t upto)
{
	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS; i++) {
		struct sfshm_producer_slot *ps = &r->hdr->producer[i];
		/* Acquire: pairs with the release CAS in take_pslot(). */
		uint32_t pid = sf_load_acquire32(&ps->k_pid);
		uint64_t hz;

		uint64_t start;

		if (!pid)
			continue;
		/* Acquire: pairs with clear_hazard() (their writes done). */
		hz = sf_load_acquire64(&ps->k_hazard);
		start = sf_load_acquire64(&ps->k_start);
		/* The slot changed hands meanwhile: look again next time. */
		if (sf_load_acquire32(&ps->k_pid) != pid) {
			upto = hz < upto && hz >= old ? hz : upto;
			continue;
		}
		if (hz < old || hz >= upto)
			continue;
		if (!sf_proc_alive(pid, start)) {
			free_dead_pslot(ps, pid);
			continue;
		}
		upto = hz;
	}
	return upto;
}

static void erase(struct sfshm_ring *r, uint64_t old, uint64_t upto)
{
	struct sfshm_ring_hdr *h = r->hdr;

	sf_store_relaxed64(&h->k_clean, upto);
	/* Seqlock writer: pairs with the acquire fence in erased(). */
	sf_fence_release();
	zero_range(r, old, upto);
	/*
	 * seq_cst: release for producers (pairs with the acquire load in
	 * claim_space(): they see the zeroes) and the owner's half of the
	 * Dekker pair with wait_space().
	 */
	sf_store_seqcst64(&h->k_limit, upto + r->size);
	if (sf_load_seqcst32(&h->k_space_waiters)) {
		sf_add_release32(&h->k_space, 1);
		futex_wake_all(&h->k_space);
	}
}

int sfshm_ring_clean(struct sfshm_ring *r, uint64_t upto)
{
	struct sfshm_ring_hdr *h = r->hdr;
	uint64_t old, floor;

	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	/* Only the owner writes k_clean. */
	old = sf_load_relaxed64(&h->k_clean);
	/* k_tail is written by producers: never erase more than a lap. */
	if (upto < old || upto - old > r->size ||
	    upto > sf_load_acquire64(&h->k_tail) ||
	    (upto & (SFSHM_FRAME_ALIGN - 1)))
		return -EINVAL;
	floor = clean_floor(r, old, upto);
	if (floor > old)
		erase(r, old, floor);
	return floor == upto ? 0 : -EBUSY;
}

/* Turn an in-progress frame into padding of its own length. */
static int unblock_in_progress(struct sfshm_ring *r, uint64_t pos, uint64_t w,
			       uint64_t *padded)
{
	int32_t len = -SFSHM_FRAME_LEN(w);
	uint64_t idx = pos & r->mask;

	if (len < (int32_t)SFSHM_FRAME_HDR_SIZE ||
	    (uint32_t)len > r->max_frame ||
	    idx + frame_align((uint64_t)len) > r->size)
		return -EBADMSG;
	/*
	 * seq_cst: release for readers, and the Dekker pair of
	 * notify_readers() as in commit_word().  Fails if the producer
	 * committed meanwhile: then there is nothing to unblock.
	 */
	if (!sf_cas_seqcst64(&frame_at(r, pos)->k_word, &w,
			     word_at(r, SFSHM_FRAME_PAD, pos, len)))
		return -EAGAIN;
	*padded = frame_align((uint64_t)len);
	notify_readers(r);
	return 0;
}

/*
 * Poison the slot at @q unless a frame of this lap was written there.
 * Return: true if the slot holds our POISON now.
 */
static bool poison_slot(struct sfshm_ring *r, uint64_t q)
{
	uint64_t poison = word_at(r, SFSHM_FRAME_POISON, q, 0);
	uint64_t seen = 0;

	/* acq_rel: races with a producer's CAS in mark_frame(); one wins. */
	while (!sf_cas_acqrel64(&frame_at(r, q)->k_word, &seen, poison)) {
		if (seen == poison)
			return true;
		if (!word_stale(r, q, seen))
			return false;
	}
	return true;
}

/*
 * The frame at @pos was claimed but its word never written: poison every
 * empty slot up to the first written word, then pad over them.
 */
static int unblock_hole(struct sfshm_ring *r, uint64_t pos, uint64_t *padded)
{
	uint64_t tail = sf_load_acquire64(&r->hdr->k_tail);
	uint64_t lap_end = (pos | r->mask) + 1;
	uint64_t end = tail < lap_end ? tail : lap_end;
	uint64_t q;

	if (tail <= pos)
		return -EAGAIN;
	if (!poison_slot(r, pos))
		return -EAGAIN; /* written meanwhile; look again */
	for (q = pos + SFSHM_FRAME_ALIGN; q < end; q += SFSHM_FRAME_ALIGN)
		if (!poison_slot(r, q))
			break;
	/* seq_cst: release for readers; Dekker of notify_readers(). */
	sf_store_seqcst64(&frame_at(r, pos)->k_word,
			  word_at(r, SFSHM_FRAME_PAD, pos, (int32_t)(q - pos)));
	*padded = q - pos;
	notify_readers(r);
	return 0;
}

int sfshm_ring_unblock(struct sfshm_ring *r, uint64_t pos, uint64_t *padded)
{
	uint64_t w;
	uint32_t type;

	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	if (pos & (SFSHM_FRAME_ALIGN - 1) ||
	    pos < sf_load_acquire64(&r->hdr->k_clean))
		return -EINVAL;
	w = sf_load_acquire64(&frame_at(r, pos)->k_word);
	type = SFSHM_FRAME_TYPE(w);
	if (w == 0 || word_stale(r, pos, w) || type == SFSHM_FRAME_POISON)
		return unblock_hole(r, pos, padded);
	if ((type == SFSHM_FRAME_DATA || type == SFSHM_FRAME_BATCH) &&
	    SFSHM_FRAME_LEN(w) < 0)
		return unblock_in_progress(r, pos, w, padded);
	return -EAGAIN;
}

/* ---- ctl slots -------------------------------------------------------------- */

static int take_slot(struct sfshm_ring *r)
{
	uint32_t me = (uint32_t)getpid();

	for (uint32_t i = 0; i < SFSHM_CTL_SLOTS; i++) {
		uint32_t free_pid = 0;

		/* Acquire/release: hands the slot over between processes. */
		if (sf_cas_acqrel32(&r->ctl->slot[i].k_pid, &free_pid, me)) {
			sf_store_relaxed64(&r->ctl->slot[i].k_start,
					   sf_proc_start(me));
			r->slot = (int)i;
			return 0;
		}
	}
	return -ENOSPC;
}

int sfshm_ring_publish_pos(struct sfshm_ring *r)
{
	int err;

	if (r->slot < 0) {
		err = take_slot(r);
		if (err)
			return err;
	}
	/* Pairs with the acquire load in sfshm_ring_min_reader_pos(). */
	sf_store_release64(&r->ctl->slot[r->slot].k_pos, r->pos);
	return 0;
}

uint64_t sfshm_ring_min_reader_pos(struct sfshm_ring *r, uint64_t dflt)
{
	uint64_t min = UINT64_MAX;

	for (uint32_t i = 0; i < SFSHM_CTL_SLOTS; i++) {
		struct sfshm_reader_slot *s = &r->ctl->slot[i];
		uint32_t pid = sf_load_acquire32(&s->k_pid);

		if (!pid)
			continue;
		if (!sf_proc_alive(pid, sf_load_relaxed64(&s->k_start))) {
			/* Its process died: free the slot (acq_rel CAS). */
			sf_cas_acqrel32(&s->k_pid, &pid, 0);
			continue;
		}
		uint64_t p = sf_load_acquire64(&s->k_pos);

		if (p < min)
			min = p;
	}
	return min == UINT64_MAX ? dflt : min;
}

int sfshm_ring_forget_pid(struct sfshm_ring *r, uint32_t pid)
{
	int n = 0;

	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	/*
	 * A closed socket is a hint, not a proof: a process that closed its
	 * socket before unmapping still uses its slot, and its own release
	 * would later wipe the next holder's.  Free only a holder that is gone.
	 */
	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS; i++) {
		struct sfshm_producer_slot *ps = &r->hdr->producer[i];

		/* Acquire: pairs with the release CAS in take_pslot(). */
		if (!pid || sf_load_acquire32(&ps->k_pid) != pid)
			continue;
		if (!pslot_holder_gone(ps, pid))
			continue;
		free_dead_pslot(ps, pid);
		/* Acquire: did our CAS free it (or did someone else)? */
		if (sf_load_acquire32(&ps->k_pid) != pid)
			n++;
	}
	for (uint32_t i = 0; i < SFSHM_CTL_SLOTS; i++) {
		struct sfshm_reader_slot *s = &r->ctl->slot[i];
		uint32_t seen = pid;
		uint64_t start;

		/* Acquire: pairs with the CAS that took the slot. */
		if (!pid || sf_load_acquire32(&s->k_pid) != pid)
			continue;
		start = sf_load_acquire64(&s->k_start);
		if (sf_load_acquire32(&s->k_pid) != pid ||
		    sf_proc_alive(pid, start))
			continue;
		/* acq_rel CAS: free it only if @pid still holds it. */
		if (sf_cas_acqrel32(&s->k_pid, &seen, 0))
			n++;
	}
	return n;
}

/* ---- state, persistence progress and acknowledgements ------------------ */

uint32_t sfshm_ring_state(const struct sfshm_ring *r)
{
	/* Acquire: pairs with the release store in sfshm_ring_set_state(). */
	return sf_load_acquire32(&r->hdr->k_state);
}

/* Wake producers asleep in sfshm_ring_wait_persisted(), if any. */
static void wake_persist_waiters(struct sfshm_ring *r)
{
	struct sfshm_ring_hdr *h = r->hdr;

	/*
	 * seq_cst: the Dekker pair with wait_persisted_once(), which bumps
	 * k_persist_waiters and then loads what we just stored.
	 */
	if (!sf_load_seqcst32(&h->k_persist_waiters))
		return;
	sf_add_release32(&h->k_persist_seq, 1);
	futex_wake_all(&h->k_persist_seq);
}

int sfshm_ring_set_state(struct sfshm_ring *r, uint32_t state)
{
	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	/* seq_cst: before the waiter-count loads of the wake-ups below. */
	sf_store_seqcst32(&r->hdr->k_state, state);
	wake_persist_waiters(r);
	wake_readers(r);
	futex_wake_all(&r->hdr->k_space);
	return 0;
}

int sfshm_ring_set_persisted(struct sfshm_ring *r, uint64_t written,
			     uint64_t durable, int err)
{
	struct sfshm_ring_hdr *h = r->hdr;

	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	/*
	 * seq_cst stores: release for the producers' acquire loads in
	 * sfshm_ring_wait_persisted() (the acknowledged offsets were stored
	 * before), and ordered before wake_persist_waiters()' load.
	 */
	sf_store_seqcst32((uint32_t *)&h->k_error, (uint32_t)err);
	sf_store_seqcst64(&h->k_written, written);
	sf_store_seqcst64(&h->k_durable, durable);
	wake_persist_waiters(r);
	return 0;
}

int sfshm_ring_set_anchor(struct sfshm_ring *r, uint64_t pos, int64_t offset)
{
	struct sfshm_ring_hdr *h = r->hdr;
	uint32_t seq = sf_load_relaxed32(&h->k_anchor_seq);

	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	/* Seqlock writer (one owner): odd, release fence, data, even. */
	sf_store_relaxed32(&h->k_anchor_seq, seq | 1);
	sf_fence_release();
	sf_store_relaxed64(&h->k_anchor_pos, pos);
	sf_store_relaxed64((uint64_t *)&h->k_anchor_offset, (uint64_t)offset);
	/* Release: pairs with the acquire load in sfshm_ring_anchor(). */
	sf_store_release32(&h->k_anchor_seq, (seq | 1) + 1);
	return 0;
}

int sfshm_ring_anchor(const struct sfshm_ring *r, uint64_t *pos,
		      int64_t *offset)
{
	struct sfshm_ring_hdr *h = r->hdr;

	for (int tries = 0; tries < 1000; tries++) {
		/* Acquire: pairs with the final release in set_anchor(). */
		uint32_t s1 = sf_load_acquire32(&h->k_anchor_seq);

		*pos = sf_load_relaxed64(&h->k_anchor_pos);
		*offset = (int64_t)sf_load_relaxed64(
			(const uint64_t *)&h->k_anchor_offset);
		/* Acquire fence: the loads above before the re-check. */
		sf_fence_acquire();
		if (!(s1 & 1) && sf_load_relaxed32(&h->k_anchor_seq) == s1)
			return 0;
		sf_cpu_relax();
	}
	return -EAGAIN;
}

uint64_t sfshm_ring_written(const struct sfshm_ring *r)
{
	/* Acquire: pairs with the store in sfshm_ring_set_persisted(). */
	return sf_load_acquire64(&r->hdr->k_written);
}

uint64_t sfshm_ring_durable(const struct sfshm_ring *r)
{
	/* Acquire: pairs with the store in sfshm_ring_set_persisted(). */
	return sf_load_acquire64(&r->hdr->k_durable);
}

int sfshm_ring_error(const struct sfshm_ring *r)
{
	/* Relaxed: advisory; the positions carry the ordering. */
	return (int32_t)sf_load_relaxed32((const uint32_t *)&r->hdr->k_error);
}

/* Is the frame at @pos persisted at the level asked for? */
static bool persisted(const struct sfshm_ring *r, uint64_t pos, bool durable)
{
	return (durable ? sfshm_ring_durable(r) : sfshm_ring_written(r)) > pos;
}

/* Why a wait for persistence cannot succeed, or 0. */
static int persist_blocker(const struct sfshm_ring *r)
{
	uint32_t st = sfshm_ring_state(r);

	if (st == SFSHM_STATE_DELETED)
		return -ENOENT;
	if (st == SFSHM_STATE_STOPPED)
		return -ESHUTDOWN;
	return sfshm_ring_error(r);
}

static int wait_persisted_once(struct sfshm_ring *r, uint64_t pos, bool durable,
			       uint64_t deadline)
{
	struct sfshm_ring_hdr *h = r->hdr;
	uint32_t seq;
	int err = 0;

	/* seq_cst: the Dekker pair with wake_persist_waiters(). */
	sf_add_seqcst32(&h->k_persist_waiters, 1);
	/* seq_cst: read by the persister (sfshm_ring_durable_waiters()). */
	if (durable)
		sf_add_seqcst32(&h->k_durable_waiters, 1);
	/* Acquire: pairs with the release bump in wake_persist_waiters(). */
	seq = sf_load_acquire32(&h->k_persist_seq);
	if (!persisted(r, pos, durable)) {
		err = persist_blocker(r);
		if (!err && sf_now_ns() >= deadline)
			err = -ETIMEDOUT;
		/*
		 * The persister syncs when it sees a durable waiter; it may
		 * be asleep on k_notify with nothing new to read: ring it.
		 */
		if (!err && durable)
			wake_readers(r);
		if (!err)
			futex_sleep(&h->k_persist_seq, seq,
				    sleep_slice(deadline));
	}
	if (durable)
		sf_dec_sat_seqcst32(&h->k_durable_waiters);
	sf_dec_sat_seqcst32(&h->k_persist_waiters);
	return err;
}

int sfshm_ring_wait_persisted(struct sfshm_ring *r, uint64_t pos, bool durable,
			      int timeout_ms)
{
	uint64_t deadline = deadline_of(timeout_ms);
	uint64_t spin_until = sf_now_ns() + r->spin_ns;

	/* A short spin first: the persister is often just behind us. */
	while (!persisted(r, pos, durable) && sf_now_ns() < spin_until)
		sf_cpu_relax();
	while (!persisted(r, pos, durable)) {
		int err = timeout_ms ? wait_persisted_once(r, pos, durable,
							   deadline) :
				       -EAGAIN;

		if (err)
			return err;
	}
	return 0;
}

int sfshm_ring_ack_offset(const struct sfshm_ring *r, uint64_t pos,
			  int64_t *offset)
{
	const struct sfshm_producer_slot *ps;

	if (r->pslot < 0)
		return -ENOENT;
	ps = &r->hdr->producer[r->pslot];
	/* Acquire: pairs with the release store in sfshm_ring_ack(). */
	if (sf_load_acquire64(&ps->k_ack_done) != pos)
		return -ENOENT;
	*offset =
		(int64_t)sf_load_relaxed64((const uint64_t *)&ps->k_ack_offset);
	/* The slot is ours: nobody else asks for acks in it meanwhile. */
	return 0;
}

unsigned sfshm_ring_acks(struct sfshm_ring *r, uint64_t from, uint64_t to,
			 struct sfshm_ack_req *out, unsigned max)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS && n < max; i++) {
		struct sfshm_producer_slot *ps = &r->hdr->producer[i];
		uint64_t pos;

		/* Acquire: a slot in use (pairs with take_pslot()). */
		if (!sf_load_acquire32(&ps->k_pid))
			continue;
		/*
		 * Relaxed: the caller loaded the words of frames in [from,
		 * to) with acquire, which orders the producers' stores of
		 * k_ack_pos for those frames before this load.
		 */
		pos = sf_load_relaxed64(&ps->k_ack_pos);
		if (pos < from || pos >= to ||
		    sf_load_relaxed64(&ps->k_ack_done) == pos)
			continue;
		out[n].slot = i;
		out[n].pos = pos;
		n++;
	}
	return n;
}

void sfshm_ring_ack(struct sfshm_ring *r, unsigned slot, uint64_t pos,
		    int64_t offset)
{
	struct sfshm_producer_slot *ps;

	if (r->role != SFSHM_ROLE_OWNER || slot >= SFSHM_PRODUCER_SLOTS)
		return;
	ps = &r->hdr->producer[slot];
	sf_store_relaxed64((uint64_t *)&ps->k_ack_offset, (uint64_t)offset);
	/* Release: pairs with the acquire in sfshm_ring_ack_offset(). */
	sf_store_release64(&ps->k_ack_done, pos);
}

/* ---- waiting on several rings ------------------------------------------- */

#ifndef FUTEX_32
#define FUTEX_32 2
#endif
#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449
#endif

struct sf_futex_waitv {
	uint64_t val;
	uint64_t uaddr;
	uint32_t flags;
	uint32_t reserved;
};

static int ready_index(struct sfshm_ring **rs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (frame_ready(rs[i]))
			return (int)i;
	return -1;
}

/* Arm every ring and record the futex values; -1 or a ready index. */
static int arm_all(struct sfshm_ring **rs, unsigned n, struct sf_futex_waitv *w)
{
	for (unsigned i = 0; i < n; i++) {
		/* seq_cst: as in sleep_frame() (Dekker with producers). */
		sf_add_seqcst32(&rs[i]->ctl->k_waiters, 1);
		/* Acquire: pairs with the release increment in wake_readers(). */
		w[i].val = sf_load_acquire32(&rs[i]->hdr->k_notify);
		w[i].uaddr = (uint64_t)(uintptr_t)&rs[i]->hdr->k_notify;
		w[i].flags = FUTEX_32;
		w[i].reserved = 0;
		sf_store_seqcst32(&rs[i]->ctl->k_armed, 1);
	}
	return ready_index(rs, n);
}

static void disarm_all(struct sfshm_ring **rs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sf_dec_sat_seqcst32(&rs[i]->ctl->k_waiters);
}

static int sleep_any(struct sfshm_ring **rs, unsigned n, uint32_t *bell,
		     uint32_t bell_val, uint64_t deadline)
{
	struct sf_futex_waitv w[SFSHM_WAIT_ANY_MAX + 1];
	unsigned nw = n;
	int i = arm_all(rs, n, w);

	if (bell) {
		w[nw++] = (struct sf_futex_waitv){
			.val = bell_val,
			.uaddr = (uint64_t)(uintptr_t)bell,
			.flags = FUTEX_32 | FUTEX_PRIVATE_FLAG,
		};
	}
	if (i < 0 && (!bell || sf_load_acquire32(bell) == bell_val) &&
	    sleep_slice(deadline)) {
		struct timespec ts;
		uint64_t ns = sf_now_ns() + sleep_slice(deadline);

		ts.tv_sec = (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
		syscall(SYS_futex_waitv, w, nw, 0, &ts, CLOCK_MONOTONIC);
		i = ready_index(rs, n);
	}
	disarm_all(rs, n);
	return i;
}

int sfshm_ring_wait_any(struct sfshm_ring **rs, unsigned n, uint32_t *bell,
			uint32_t bell_val, int timeout_ms)
{
	return sf_ring_wait_any_until(rs, n, bell, bell_val,
				      timeout_ms ? deadline_of(timeout_ms) : 0);
}

int sf_ring_wait_any_until(struct sfshm_ring **rs, unsigned n, uint32_t *bell,
			   uint32_t bell_val, uint64_t deadline)
{
	uint64_t spin_until;
	int i;

	if (n > SFSHM_WAIT_ANY_MAX)
		return -EINVAL;
	for (;;) {
		i = ready_index(rs, n);
		if (i >= 0)
			return i;
		if (bell && sf_load_acquire32(bell) != bell_val)
			return (int)n;
		if (deadline == 0)
			return -EAGAIN;
		if (sf_now_ns() >= deadline)
			return -ETIMEDOUT;
		spin_until = n ? sf_now_ns() + rs[0]->spin_ns : 0;
		if (spin_until > deadline)
			spin_until = deadline;
		while (sf_now_ns() < spin_until && ready_index(rs, n) < 0)
			sf_cpu_relax();
		i = sleep_any(rs, n, bell, bell_val, deadline);
		if (i >= 0)
			return i;
	}
}

int sfshm_ring_claim_holder_alive(struct sfshm_ring *r, uint64_t pos)
{
	if (r->role != SFSHM_ROLE_OWNER)
		return -EPERM;
	for (uint32_t i = 0; i < SFSHM_PRODUCER_SLOTS; i++) {
		struct sfshm_producer_slot *ps = &r->hdr->producer[i];
		/* Acquire: pairs with the release CAS in take_pslot(). */
		uint32_t pid = sf_load_acquire32(&ps->k_pid);
		/* Acquire: pairs with clear_hazard(). */
		uint64_t hz = pid ? sf_load_acquire64(&ps->k_hazard) :
				    SFSHM_NO_HAZARD;

		if (hz == SFSHM_NO_HAZARD || hz > pos)
			continue;
		if (!pslot_holder_gone(ps, pid))
			return 1;
		free_dead_pslot(ps, pid);
	}
	return 0;
}

uint32_t sfshm_ring_durable_waiters(const struct sfshm_ring *r)
{
	/*
	 * seq_cst: the waiter's increment comes before its wake of the
	 * owner (wake_readers() in wait_persisted_once()), so the owner that
	 * wakes sees it.
	 */
	return sf_load_seqcst32(&r->hdr->k_durable_waiters);
}

uint64_t sfshm_ring_stop(struct sfshm_ring *r, uint32_t state)
{
	sfshm_ring_set_state(r, state);
	/*
	 * seq_cst, after the seq_cst state store: every claim not in this
	 * tail saw the new state and gave itself back (claim_live()).
	 */
	return sf_load_seqcst64(&r->hdr->k_tail);
}
