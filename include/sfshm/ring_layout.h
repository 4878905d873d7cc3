/* SPDX-License-Identifier: MIT */
/*
 * sfshm/ring_layout.h - the one definition of a partition ring in memory.
 *
 * Shared by libsfshm, sfshmd and the BPF programs.  Every field here lives
 * in shared memory and is written by more than one process, so: fixed-width
 * types only, hot counters on their own cache line, and every size and
 * offset pinned by _Static_assert below.  Fields whose name starts with k_
 * are shared-memory fields (the liburing convention); they are accessed
 * only through the helpers in libsfshm/sfatomic.h.
 *
 * A ring is two shared files:
 *
 *   ring file  [ struct sfshm_ring_hdr (one page) | data (size bytes) ]
 *              producers map it read-write, readers read-only.
 *   ctl file   [ struct sfshm_ring_ctl (one page) ]
 *              everything a reader must write (the sleeper count, its
 *              position for the owner to see) lives here, so nothing a
 *              reader does can touch record bytes or the producers' header.
 *
 * The protocol itself is described in docs/ARCHITECTURE.md and at the top
 * of libsfshm/ring.c, and modelled in libsfshm/ring.pml.
 */
#ifndef SFSHM_RING_LAYOUT_H
#define SFSHM_RING_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#define SFSHM_RING_MAGIC 0x4d485346u /* "FSHM" little-endian */
#define SFSHM_CTL_MAGIC 0x4c435346u /* "FSCL" */
#define SFSHM_RING_VERSION 2u

#define SFSHM_CACHELINE 64u
#define SFSHM_PAGE 4096u

#define SFSHM_RING_MIN_SIZE (64ull << 10) /* 64 KiB */
#define SFSHM_RING_MAX_SIZE (1ull << 30) /* 1 GiB */

/* Frames start on 8-byte boundaries; the frame word is one aligned u64. */
#define SFSHM_FRAME_ALIGN 8u

/*
 * The frame word: the first 8 bytes of every frame, read and written only
 * atomically.  Low 32 bits: signed length of the frame including its
 * header, not rounded up to SFSHM_FRAME_ALIGN.  High 32 bits: the tag,
 * type in bits 0-3 and, in bits 4-31, the lap of the frame's position
 * (pos / size, modulo 2^28), so that a word written for one lap is never
 * taken for another's (a producer that stalled across a whole lap).
 *
 *   0                      nothing written yet (cleaned memory)
 *   len < 0, type DATA     claimed, being filled ("in progress")
 *   len > 0, type DATA     committed record
 *   len > 0, type PAD      padding: skip len bytes (wrap or unblock)
 *   type POISON            a hole the unblocker is closing; treat as
 *                          not yet committed
 *   len < 0, type BATCH    the first frame of a batch claim being filled;
 *                          -len is the whole batch.  Committed to (DATA,
 *                          +first frame's length); the frames after it
 *                          are complete before that commit.
 *   any other lap          stale: not this lap's frame
 */
#define SFSHM_FRAME_DATA 1u
#define SFSHM_FRAME_PAD 2u
#define SFSHM_FRAME_POISON 3u
#define SFSHM_FRAME_BATCH 4u

#define SFSHM_FRAME_LAP_BITS 28u
#define SFSHM_FRAME_LAP_MASK ((1u << SFSHM_FRAME_LAP_BITS) - 1)

/* The tag of a frame of @type at a position in lap @lap. */
#define SFSHM_FRAME_TAG(type, lap) \
	((uint32_t)(type) | (((uint32_t)(lap)&SFSHM_FRAME_LAP_MASK) << 4))
#define SFSHM_FRAME_WORD(tag, len) \
	(((uint64_t)(tag) << 32) | (uint64_t)(uint32_t)(int32_t)(len))
#define SFSHM_FRAME_TYPE(w) ((uint32_t)((w) >> 32) & 0xfu)
#define SFSHM_FRAME_LAP(w) ((uint32_t)((w) >> 36))
#define SFSHM_FRAME_LEN(w) ((int32_t)(uint32_t)(w))

/* key_len / value_len / header value_len meaning "null" (Kafka's -1). */
#define SFSHM_NULL_LEN 0xffffffffu

/*
 * struct sfshm_frame - header of every frame in the data area.
 * @k_word:      the frame word above (atomic; the commit point).
 * @timestamp:   record timestamp, nanoseconds since the Unix epoch.
 * @key_len:     key bytes, or SFSHM_NULL_LEN for a null key.
 * @value_len:   value bytes, or SFSHM_NULL_LEN for a null value.
 * @hdr_count:   number of record headers.
 * @hdr_bytes:   bytes of encoded record headers.
 *
 * Body, packed without alignment: key, value, then @hdr_count record
 * headers, each { u32 key_len; u32 value_len; key; value }, value_len
 * SFSHM_NULL_LEN for a null header value.  A padding frame has only the
 * frame word meaningful.
 */
struct sfshm_frame {
	uint64_t k_word;
	int64_t timestamp;
	uint32_t key_len;
	uint32_t value_len;
	uint32_t hdr_count;
	uint32_t hdr_bytes;
};

#define SFSHM_FRAME_HDR_SIZE ((uint32_t)sizeof(struct sfshm_frame))
#define SFSHM_RECHDR_SIZE 8u /* per record header: two u32 */

/*
 * struct sfshm_producer_slot - one producer handle's claim in progress.
 * @k_pid:    owning process, 0 when free (claimed by CAS).
 * @k_hazard: the tail position this producer is claiming or has claimed
 *            and not yet committed, SFSHM_NO_HAZARD when none.  The owner
 *            never erases at or beyond a live producer's hazard, so a
 *            producer whose claim was revoked while it stalled can never
 *            write into bytes that were handed to someone else.
 * @k_start:  the process's start time (field 22 of /proc/PID/stat), to
 *            tell a live producer from a reused pid.
 */
struct sfshm_producer_slot {
	uint32_t k_pid;
	uint32_t _pad0;
	uint64_t k_hazard;
	uint64_t k_start;
	/*
	 * Acknowledgements: the holder stores the position of each frame it
	 * commits in k_ack_pos (before the commit); the owner's persister,
	 * having given that frame its offset, stores k_ack_offset and then
	 * k_ack_done = k_ack_pos.
	 */
	uint64_t k_ack_pos;
	uint64_t k_ack_done;
	int64_t k_ack_offset;
	uint8_t _pad1[SFSHM_CACHELINE - 48];
};

#define SFSHM_PRODUCER_SLOTS 56u

/* k_state: what the owner says of the ring. */
#define SFSHM_STATE_LIVE 0u
#define SFSHM_STATE_DELETED 1u /* its topic was deleted */
#define SFSHM_STATE_STOPPED 2u /* the owner stopped (daemon shutdown) */
#define SFSHM_NO_HAZARD UINT64_MAX

/*
 * struct sfshm_ring_hdr - the producers' page at the start of the ring file.
 *
 * Line 0 is written once by the creator, magic last (release).  Each of the
 * other lines holds counters written by one party:
 *   k_tail           producers (CAS): next position to claim.
 *   k_limit          owner: producers may claim only below it.
 *   k_clean          owner: positions below it may already be erased.
 *   k_notify         producers: futex word bumped for sleeping readers.
 *   k_space          owner: futex word bumped when the limit moves;
 *                    k_space_waiters counts producers asleep on it.
 *   k_written etc.   owner: persistence progress, for later use.
 *   producer[]       each producer handle its own line: its hazard.
 */
struct sfshm_ring_hdr {
	/* line 0: immutable after creation */
	uint32_t k_magic;
	uint16_t version;
	uint16_t hdr_pages;
	uint64_t size;
	uint32_t max_frame;
	uint32_t frame_align;
	uint32_t data_offset;
	uint32_t creator_pid;
	uint64_t created_ns;
	/* SFSHM_STATE_*: set by the owner, read by clients (rarely written) */
	uint32_t k_state;
	uint8_t _pad0[SFSHM_CACHELINE - 44];

	uint64_t k_tail;
	uint8_t _pad1[SFSHM_CACHELINE - 8];

	uint64_t k_limit;
	uint8_t _pad2[SFSHM_CACHELINE - 8];

	uint64_t k_clean;
	uint8_t _pad3[SFSHM_CACHELINE - 8];

	uint32_t k_notify;
	uint8_t _pad4[SFSHM_CACHELINE - 4];

	uint32_t k_space;
	uint32_t k_space_waiters;
	uint8_t _pad5[SFSHM_CACHELINE - 8];

	/* line 6: persistence progress, published by the owner */
	uint64_t k_written; /* frames below are in the log (page cache) */
	uint64_t k_durable; /* frames below are fsynced */
	uint64_t k_anchor_pos; /* the frame at this position ... */
	int64_t k_anchor_offset; /* ... has this offset (seqlock: k_anchor_seq) */
	uint32_t k_anchor_seq; /* odd while the anchor changes */
	uint32_t k_persist_seq; /* futex: bumped when written/durable move */
	uint32_t k_persist_waiters; /* producers asleep on k_persist_seq */
	int32_t k_error; /* 0, or -errno: why persisting stalls (-ENOSPC) */
	uint32_t k_durable_waiters; /* of those, waiting for an fsync */
	uint8_t _pad6[SFSHM_CACHELINE - 52];

	/* lines 7..62: one per producer handle */
	struct sfshm_producer_slot producer[SFSHM_PRODUCER_SLOTS];

	uint8_t _reserved[SFSHM_PAGE -
			  (7 + SFSHM_PRODUCER_SLOTS) * SFSHM_CACHELINE];
};

/*
 * struct sfshm_reader_slot - one reader's public state in the ctl page.
 * @k_pid:  owning process, 0 when free (claimed by CAS).
 * @k_pos:  the reader's position, for the owner to see.
 * @k_start: the process's start time, as in struct sfshm_producer_slot.
 */
struct sfshm_reader_slot {
	uint32_t k_pid;
	uint32_t k_flags;
	uint64_t k_pos;
	uint64_t k_start;
	uint8_t _pad[SFSHM_CACHELINE - 24];
};

#define SFSHM_CTL_SLOTS 62u

/*
 * struct sfshm_ring_ctl - the readers' writable page.
 * @k_waiters: readers asleep (or about to sleep) on the ring's k_notify.
 * @k_armed:   set by a reader about to sleep; the producer that clears it
 *             (exchange) owes the wake-up.  One wake per sleep, not one
 *             per record while a reader is on its way to sleep.
 */
struct sfshm_ring_ctl {
	uint32_t k_magic;
	uint16_t version;
	uint16_t slots;
	uint8_t _pad0[SFSHM_CACHELINE - 8];

	uint32_t k_waiters;
	uint32_t k_armed;
	uint8_t _pad1[SFSHM_CACHELINE - 8];

	struct sfshm_reader_slot slot[SFSHM_CTL_SLOTS];
};

_Static_assert(sizeof(struct sfshm_frame) == 32, "frame header size");
_Static_assert(offsetof(struct sfshm_frame, k_word) == 0, "frame word first");
_Static_assert(SFSHM_FRAME_HDR_SIZE % SFSHM_FRAME_ALIGN == 0, "aligned body");
_Static_assert(sizeof(struct sfshm_ring_hdr) == SFSHM_PAGE, "ring header page");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_tail) == 64, "tail line");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_limit) == 128, "limit line");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_clean) == 192, "clean line");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_notify) == 256, "notify line");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_space) == 320, "space line");
_Static_assert(offsetof(struct sfshm_ring_hdr, k_written) == 384,
	       "persist line");
_Static_assert(sizeof(struct sfshm_reader_slot) == SFSHM_CACHELINE, "slot");
_Static_assert(sizeof(struct sfshm_producer_slot) == SFSHM_CACHELINE,
	       "producer slot");
_Static_assert(offsetof(struct sfshm_ring_hdr, producer) == 448,
	       "producer slots");
_Static_assert(sizeof(struct sfshm_ring_ctl) == SFSHM_PAGE, "ctl page");
_Static_assert(offsetof(struct sfshm_ring_ctl, k_waiters) == 64, "waiters");
_Static_assert(offsetof(struct sfshm_ring_ctl, k_armed) == 68, "armed");

#endif /* SFSHM_RING_LAYOUT_H */
