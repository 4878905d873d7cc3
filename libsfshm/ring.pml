/* SPDX-License-Identifier: MIT */
/*
 * ring.pml - a Promela model of the partition ring protocol (ring.c).
 *
 * Run it with tests/check-model.sh (also `make model`); it needs spin and
 * gcc.  By hand, e.g. the safety run of configuration A:
 *
 *   spin -DCFG_A -DCHECK_P1 -DCHECK_P2 -DCHECK_P3 -DCHECK_P4 -a ring.pml
 *   gcc -O2 -DSAFETY -DCOLLAPSE -o pan pan.c && ./pan -m100000
 *   spin -DCFG_A ... -t ring.pml         (replay a counterexample: the
 *                                         printf lines tell the story)
 *
 * The default protocol (no -D switch but a configuration and the checks)
 * is ring.c's as it is: lap-tagged frame words, mark_frame() taking over
 * only older laps' words, producer hazards that hold cleaning back, and,
 * in the WAKE configurations, the k_waiters / k_armed / k_notify wake-up
 * protocol; in CFG_S, producer slots that change hands, freed only when
 * their holder is gone (FIX_START, FIX_FORGET; see PSLOTS below).
 *
 * FOUND IN ring.c, now fixed (CFG_S; see PSLOTS below), each a producer
 * whose slot the owner frees while it is alive, so that its hazard no
 * longer counts and its revoked claim is erased under it (P1):
 *  - before commit 2f8d4bb (-DOLD_PSLOT): clean_floor() and forget_pid()
 *    freed a slot on the strength of a k_pid loaded earlier;
 *  - from 2f8d4bb until FIX_START (-DNOFIX_START): a slot freed by
 *    forget_pid() or free_dead_pslot() kept its dead holder's k_hazard
 *    and k_start; a new holder, between its k_pid CAS and its k_start
 *    store, was judged by them in clean_floor() (the k_pid re-check
 *    passes) and freed;
 *  - from 2f8d4bb until FIX_FORGET (-DNOFIX_FORGET): forget_pid() freed
 *    the slot of a process whose control socket closed while it still
 *    had the ring mapped, whose own release_pslot() then wiped the next
 *    holder's slot.
 * -DNOFIX_PSLOT turns both fixes off (ring.c from 2f8d4bb until them).
 *
 * What is modelled
 * ----------------
 * Memory is sequentially consistent: one Promela step per atomic memory
 * operation of ring.c (load, store, CAS, exchange) and per plain data word
 * written or read.  The C11 orderings (acquire/release/relaxed, the fences
 * around k_clean) are NOT checked; ring.c's comments argue them.
 *
 *   ring.c                          model
 *   data area, pos & mask           word[N], IDX(p) = p % N; one slot is
 *                                   one 8-byte unit; positions are plain
 *                                   counters that only grow
 *   k_tail, k_limit, k_clean        tail, limit, clean
 *   frame word (tag, signed len),   W(type, len, pos): TYPE(w), LEN(w),
 *   word_at(), lap tag              LAP(w), len in slots; "in progress"
 *                                   {DATA, -len} is type T_IP
 *   word_stale(), word_older()      STALE(p, w), OLDER(p, w)
 *   frame header + body             slot 0: frame word; slot 1 (frames of
 *                                   2 slots): BODY(v), v the record id
 *   producer[i].k_hazard,           hz[i] (NONE = SFSHM_NO_HAZARD); the
 *   set_hazard(), clear_hazard()    pid check is the ghost dead[]
 *   claim_space()                   Producer, label claim: t = k_tail;
 *                                   pad, end, k_limit; full: clear_hazard,
 *                                   wait_space (until k_limit >= end),
 *                                   reload; else set_hazard(t), then the
 *                                   tail CAS (on failure t = the tail seen)
 *   mark_frame()                    inline mark_frame(): CAS from 0; on
 *                                   failure take over an OLDER word, else
 *                                   revoked; then erased(pos): CAS back to
 *                                   0, revoked
 *   sfshm_ring_claim, fill_frame,   Producer: copying sends of its records,
 *   sfshm_ring_send                 claiming again after -ECANCELED
 *   commit_word()                   the commit CAS, then clear_hazard (its
 *                                   own step, success or failure), then
 *                                   notify_readers() (WAKE)
 *   notify_readers(), wake_readers  inline notify_readers(): load
 *                                   k_waiters, load k_armed, exchange, the
 *                                   winner bumps k_notify
 *   load_word, next_frame,          inline read_step(), used by Reader
 *   sfshm_ring_read, erased         and by the persister in Owner
 *   sfshm_ring_wait / sleep_frame   (WAKE) inline sleep_frame(); futex
 *   (FUTEX mode), frame_ready       wait = the guard k_notify != seq, no
 *                                   100 ms slice; frame_ready()
 *   unblock_hole, poison_slot,      inline unblock(), poison_slot(); both
 *   unblock_in_progress             end with notify_readers() (WAKE)
 *   sfshm_ring_clean, clean_floor,  inline do_clean(): old = k_clean, one
 *   erase                           hazard load per producer (in
 *                                   [old, floor) counts; a dead
 *                                   producer's slot is released), erase up
 *                                   to the floor; -EBUSY: erase less
 *   the daemon                      proctype Owner: persister (reads like
 *                                   a reader), cleaner (sfshm_ring_clean
 *                                   up to what is persisted, called again
 *                                   only when it can erase something) and
 *                                   unblocker (sfshm_ring_unblock when the
 *                                   persister is stuck)
 *   wait_space (k_space futex),     a blocking guard; the k_space_waiters
 *   the persister's waits           Dekker pair is not modelled, nor is
 *                                   the persister's own sleep (WOKEN())
 *   take_pslot, release_pslot,      PSLOTS (CFG_S): one slot spid/sstart/
 *   clean_floor's pid check,        hz[0] that producers take in turn;
 *   free_dead_pslot,                without PSLOTS slot i is producer i's
 *   sfshm_ring_forget_pid           for good and the hazard load and the
 *                                   pid check are one step
 *   sfshm_ring_abort, peek/consume, not modelled (abort is a commit to
 *   send_batch, spin_frame          PAD; a batch is one claim and one
 *                                   commit)
 *
 * Producer DIER may die (stop forever) after its tail CAS, after its pad
 * CAS, after its header CAS or after writing its body; its hazard then no
 * longer counts (ring.c: the pid check in clean_floor()).  Any process may
 * stall anywhere: spin explores every interleaving.  The unblock timeout
 * is nondeterministic: whenever the persister is stuck at p < tail on a
 * frame of producer SLOW, the owner may unblock p even if SLOW is alive
 * and just slow.  Revoking a live claim happens at most MAXREVOKE times (a
 * bound on the state space; it also rules out the livelock in which a
 * timeout shorter than any claim revokes every claim forever).  A hole
 * left by a dead producer may always be unblocked.
 *
 * Properties
 * ----------
 * Each is switched on by -DCHECK_Pn, so that a mutation below can be shown
 * to be caught by the property it targets.  pan names the property in its
 * report: "assertion violated (prop2&&...)".
 *
 *  P1  A reader (or the persister) delivers only a record committed at
 *      that position, whole: length and every body slot as the producer
 *      wrote them (ghost rec_at[], set by the commit CAS), and it never
 *      parses a body slot as a frame word (ring.c: -EBADMSG).
 *      [next_frame, sfshm_ring_read, erased]
 *  P2  Nothing is skipped, duplicated or reordered: each reader delivers
 *      every producer's records in order, and one that reaches the final
 *      tail without -EOVERFLOW has delivered every committed record; a
 *      record is committed at most once (a revoked send commits exactly
 *      once); the persister is never lapped; the cleaner never erases what
 *      the persister has not passed.
 *      [sfshm_ring_send, next_frame, sfshm_ring_clean]
 *  P3  A committed frame is never written again (by the unblocker, a late
 *      or revoked producer, anybody) until the cleaner erases it after it
 *      was persisted: ghost frozen[] marks slots of committed frames and
 *      every store into the data area asserts !frozen.
 *      [sfshm_ring_unblock, mark_frame, clean_floor, the hazards]
 *  P4  Progress.  (a) CHECK_P4 with pan's invalid-end-state check: no
 *      reachable state where a producer waits for space, or a reader or the
 *      persister waits for a frame, forever (the owner does not retry a
 *      clean that would erase nothing, so "-EBUSY for ever" is such a
 *      state; not in CFG_S, where a clean may also free a slot); the
 *      persister ends at the final tail.  (b) LTL_P4:
 *      <> owner_done under weak fairness: every fair run, including those
 *      where a producer died holding a claim, ends with everything claimed
 *      persisted or padded.
 *      [wait_space, sfshm_ring_unblock, sfshm_ring_clean]
 *  P5  (WAKE) No lost wake-up: a reader asleep in sleep_frame() is never
 *      left asleep for good while there is something at its position (a
 *      committed record, padding, or -EOVERFLOW).  The futex wait has no
 *      time limit in the model; when no process can move any more (spin's
 *      `timeout`), the sleeper looks once more, as the end of ring.c's
 *      100 ms slice would make it, and must find nothing (P5) and be at
 *      the final tail (P4).  [sleep_frame, notify_readers, commit_word,
 *      unblock_hole, unblock_in_progress]
 *
 * Protocol variants (switches; the defaults are ring.c's):
 *
 *  HAZARD      (default; -DNO_HAZARD, or the old -DNOFIX_HAZARD, removes
 *              it) Each producer stores hz[me] = t before each tail CAS,
 *              clears it after its commit CAS (success or failure) and
 *              before waiting for space; the cleaner erases only below the
 *              lowest hazard of a live producer in [old clean, upto).
 *              -DNO_HAZARD (ring.c before the hazards) fails: a revoked
 *              producer that is slow, not dead, goes on after its slots
 *              were erased and claimed again one lap later, and its body
 *              stores (fill_frame, or the application through a zero-copy
 *              claim) land in the next lap's record, which readers deliver
 *              torn (P1, P3).
 *              With HAZARD, -DCHECK_DEAD shows that mark_frame()'s two
 *              lap branches (take over an older word; give the slot back
 *              when erased) are never taken: they only matter when a
 *              hazard did not protect a live producer.
 *  LAPTAG      (default) Frame words carry the lap of their position; a
 *              word of another lap is "stale": readers skip it as not
 *              ready, the unblocker poisons over it.  -DNOLAPTAG: the
 *              untagged words of the original design; mark_frame() is a
 *              bare CAS from 0.  -DNOLAPTAG -DNO_HAZARD: the header and
 *              commit CASes of a late producer succeed on the next lap's
 *              slot (ABA) and readers lose the frames (P1).
 *  TAKE        What mark_frame() CASes over: word_older() (default, ring.c).
 *              -DSTALE_TAKEOVER: any other lap's word (ring.c before
 *              word_older()); with -DNO_HAZARD it takes the next lap's
 *              committed word for a stale one, CASes over it and gives the
 *              slot back as 0: a committed record is lost (P3, CFG_H).
 *              word_older() alone closes that (CFG_H -DNO_HAZARD: P3
 *              holds).  -DNO_TAKEOVER: any non-zero word means revoked.
 *  FIX_LIMIT   (default) A reader loads k_limit before the frame word, and
 *              pos >= limit is "nothing yet" (load_word()).
 *              -DNOLAPTAG -DNOFIX_LIMIT: a reader (or the persister) at
 *              the tail of a full ring (tail == limit) reads the previous
 *              lap's frame, not erased yet, and delivers an old record
 *              again (P1).  With LAPTAG that word is stale and the check is
 *              not needed (CFG_B passes without it).
 *  FIX_PADCHECK (default) erased(pos) before skipping a PAD (next_frame()).
 *              Not needed: a reader sent astray by a later lap's PAD is
 *              still lapped and reports -EOVERFLOW at its next frame.
 *  FREEZE      Producer SLOW may also stop for good while alive (SIGSTOP,
 *              a debugger, a zero-copy claim never committed).  Its
 *              hazard then holds cleaning for ever: once the ring is full,
 *              every producer waits for space (P4a fails; a limit of the
 *              design, not of the model: the owner has to kill it, after
 *              which the pid check releases the hazard).
 *  NO_TIMEOUT  (WAKE) no `timeout` look: a lost wake-up is then a sleep for
 *              ever, which pan reports as an invalid end state.
 *  PSLOTS      (CFG_S) Producer slots change hands: one slot; a producer
 *              takes it (take_pslot: CAS k_pid from 0, store k_start,
 *              store k_hazard = NONE; waits while it is taken), and at the
 *              end releases it (release_pslot: k_hazard = NONE, k_pid = 0)
 *              and exits or lives on; its control socket closes at exit,
 *              or earlier, while the ring is still mapped (not with
 *              -DSOCK_AT_EXIT).  The owner's clean_floor(), as ring.c
 *              has it: load k_pid, k_hazard, k_start, k_pid again (if it
 *              changed: count the hazard, next slot); if the hazard is in
 *              range, sf_proc_alive(pid, start) (ghost quit[] and the
 *              start comparison; start 0 is "unknown": alive), and if not
 *              alive free_dead_pslot().  Once producer 0's socket closed,
 *              sfshm_ring_forget_pid(its pid).  -DOLD_PSLOT: ring.c
 *              before 2f8d4bb (k_pid, k_hazard, then k_start at the pid
 *              check; release_pslot() by plain stores; forget_pid() loads
 *              k_pid, then release_pslot()); it has neither fix below.
 *  FIX_START   (default; -DNOFIX_START or -DNOFIX_PSLOT removes it)
 *              free_dead_pslot() stores k_start = 0 before its CAS(k_pid,
 *              pid, 0), so that a new holder is "start unknown: alive"
 *              until it stores its own.  Without it the freed slot keeps
 *              the dead holder's k_start and clean_floor() frees the new
 *              holder by it (P1; check F_SLOT).
 *  FIX_FORGET  (default; -DNOFIX_FORGET or -DNOFIX_PSLOT removes it)
 *              forget_pid() frees a slot only as clean_floor() does:
 *              k_pid and k_start, k_pid again, and only if
 *              sf_proc_alive() says the process is gone (a closed socket
 *              is a hint, not a proof; sf_proc_alive() takes a zombie for
 *              gone, which the model's quit[] at exit stands for); then
 *              free_dead_pslot().  Without it forget_pid() is a bare
 *              CAS(k_pid, pid, 0) and frees a live holder (P1; check
 *              F_FORGET).  The model takes sf_proc_alive() to be right:
 *              a process it calls gone never moves again.  (/proc shows
 *              state Z also for a process whose main thread exited while
 *              other threads run: not a zombie in that sense.)
 *
 * Mutations (-DBUG_x; the script expects spin to find the error):
 *  BUG_NO_SEQLOCK    the reader does not re-check k_clean after its copy P1
 *  BUG_CLEAN_ORDER   the cleaner zeroes before it stores k_clean       P1
 *  BUG_HAZARD_LATE   set_hazard() after the tail CAS: a producer that
 *                    stalls in between is not protected: its claim is
 *                    revoked, erased and reused, and its mark_frame()
 *                    takes the next lap's body bytes for an older lap's
 *                    word and CASes over them.  (mark_frame()'s erased()
 *                    check stops the simple cases; CFG_HL's second
 *                    revocation brings the producer past lap 0, whose
 *                    body words the model encodes as lap-0 words)      P3
 *  BUG_FLOOR_EDGE    clean_floor() takes a hazard at old clean for
 *                    stale (hz <= old instead of hz < old)              P1
 *  BUG_COMMIT_STORE  commit by a plain store, not a CAS                P2
 *  BUG_NO_POISON     unblock_hole looks for the hole's end without
 *                    poisoning the empty slots                         P2
 *  BUG_CLEAN_AHEAD   clean up to the tail, not to what is persisted    P2
 *  BUG_HDR_STORE     header by a plain store, not mark_frame()'s CAS   P3
 *  BUG_UNBLOCK_STORE unblock_in_progress loads, then stores (no CAS)   P3
 *  BUG_NO_LIMIT      the cleaner does not move k_limit                 P4
 *  BUG_NO_UNBLOCK    the owner never unblocks                          P4
 *  BUG_NO_ARM        (WAKE) sleep_frame() never sets k_armed           P5
 *  BUG_ARM_LATE      (WAKE) k_armed set after the last frame check     P5
 *  BUG_SEQ_LATE      (WAKE) k_notify read after the last frame check   P5
 *  BUG_NOTIFY_EARLY  (WAKE) notify_readers() before the commit CAS     P5
 *
 * Configurations (the bounds; every run is exhaustive within them):
 *  CFG_A  revocation and death: N = 4 slots, producer 0 sends 1 record of
 *         2 slots and may die or have its claim revoked once while alive,
 *         producer 1 sends 2 records of 1 or 2 slots; no reader besides
 *         the persister.
 *  CFG_B  lapped readers: N = 4, one producer sends 3 records of 1 or 2
 *         slots; the persister and one reader; the cleaner's stores one
 *         by one (FINE_CLEAN).
 *  CFG_L  liveness: as CFG_A, producer 1 sends 1 record.
 *  CFG_H  frames without a body: as CFG_A, but producer 0's record is 1
 *         slot and it does not die, producer 1's records are 2 slots.
 *  CFG_HL as CFG_H, producer 1 sends 3 records, 2 live revocations.
 *  CFG_C  (deep) revocation with a reader: producer 0 one record of 2
 *         slots, revocable once, not dying; producer 1 one record of 1
 *         slot; persister and one reader.
 *  CFG_W  (WAKE) wake-ups with a dying producer: N = 4, two producers send
 *         1 record of 1 slot each, producer 0 may die (its hole is
 *         unblocked and notified); one sleeping reader.
 *  CFG_V  (WAKE) two sleepers on one k_armed: one producer sends 2 records
 *         of 1 slot; two sleeping readers.
 *  CFG_F  (WAKE) full ring and wrap padding: one producer sends 3 records
 *         of 1 or 2 slots; one sleeping reader.
 *  CFG_R  (WAKE, deep) revocation of a live claim: one producer sends 2
 *         records of 1 or 2 slots, may die, revocable once; one sleeper.
 *  CFG_S  (PSLOTS) slot handover: N = 4, one producer slot; producer 0
 *         sends 1 record of 1 slot and may die; producer 1 (whose claims
 *         may time out, once) sends 1 record of 1 or 2 slots; no reader
 *         besides the persister; forget_pid() once, for producer 0.
 *  In the WAKE configurations a reader's read_step() is one step
 *  (ATOMIC_READ, as the persister's): the frame-word load is what the
 *  wake-up protocol is about; the copy and the seqlock are CFG_B's.
 *  -DSET_x=v overrides parameter x (N, NPROD, NREC, NREC0, NREADER,
 *  MAXREVOKE, DIER, LEN0, LEN1) for deeper runs by hand.
 * Positions stay below MAXPOS = 24 (asserted).
 */

/* ---- configurations ------------------------------------------------------ */

#if defined(CFG_A) || defined(CFG_L)
#define N		4
#define NPROD		2
#define NREC0		1
#define LEN0		2
#define NREADER		0
#define MAXREVOKE	1
#define DIER		0
#ifdef CFG_A
#define NREC		2
#else
#define NREC		1
#endif
#endif
#ifdef CFG_B
#define N		4
#define NPROD		1
#define NREC		3
#define NREADER		1
#define MAXREVOKE	0
#define DIER		NPROD
#define FINE_CLEAN
#endif
#ifdef CFG_H
#define N		4
#define NPROD		2
#define NREC0		1
#define LEN0		1
#define NREC		2
#define LEN1		2
#define NREADER		0
#define MAXREVOKE	1
#define DIER		NPROD
#endif
#ifdef CFG_C
#define N		4
#define NPROD		2
#define NREC		1
#define LEN0		2
#define LEN1		1
#define NREADER		1
#define MAXREVOKE	1
#define DIER		NPROD
#endif
#ifdef CFG_HL
#define N		4
#define NPROD		2
#define NREC0		1
#define LEN0		1
#define NREC		3
#define LEN1		2
#define NREADER		0
#define MAXREVOKE	2
#define DIER		NPROD
#endif
#ifdef CFG_S
#define N		4
#define NPROD		2
#define NREC0		1
#define LEN0		1
#define NREC		1
#define NREADER		0
#define MAXREVOKE	1
#define DIER		0
#define SLOW		1
#define PSLOTS
#endif
#ifdef CFG_W
#define N		4
#define NPROD		2
#define NREC		1
#define LEN0		1
#define LEN1		1
#define NREADER		1
#define MAXREVOKE	0
#define DIER		0
#define WAKE
#endif
#ifdef CFG_V
#define N		4
#define NPROD		1
#define NREC		2
#define LEN0		1
#define NREADER		2
#define MAXREVOKE	0
#define DIER		NPROD
#define WAKE
#endif
#ifdef CFG_F
#define N		4
#define NPROD		1
#define NREC		3
#define NREADER		1
#define MAXREVOKE	0
#define DIER		NPROD
#define WAKE
#endif
#ifdef CFG_R
#define N		4
#define NPROD		1
#define NREC		2
#define NREADER		1
#define MAXREVOKE	1
#define DIER		0
#define WAKE
#endif
#ifdef WAKE
#define ATOMIC_READ
#endif

/* -DSET_x=v overrides parameter x of the configuration (deeper runs) */
#ifdef SET_N
#undef N
#define N		SET_N
#endif
#ifdef SET_NPROD
#undef NPROD
#define NPROD		SET_NPROD
#endif
#ifdef SET_NREC
#undef NREC
#define NREC		SET_NREC
#endif
#ifdef SET_NREC0
#undef NREC0
#define NREC0		SET_NREC0
#endif
#ifdef SET_NREADER
#undef NREADER
#define NREADER		SET_NREADER
#endif
#ifdef SET_MAXREVOKE
#undef MAXREVOKE
#define MAXREVOKE	SET_MAXREVOKE
#endif
#ifdef SET_DIER
#undef DIER
#define DIER		SET_DIER
#endif
#ifdef SET_LEN0
#undef LEN0
#define LEN0		SET_LEN0
#endif
#ifdef SET_LEN1
#undef LEN1
#define LEN1		SET_LEN1
#endif
#ifdef ANYLEN
#undef LEN0
#undef LEN1
#endif

#ifndef N
#define N		4	/* slots in the data area */
#endif
#ifndef NPROD
#define NPROD		2	/* producers */
#endif
#ifndef NREC
#define NREC		2	/* records per producer, at most RB */
#endif
#ifndef NREC0
#define NREC0		NREC	/* records of producer 0 */
#endif
#ifndef NREADER
#define NREADER		1	/* readers besides the persister */
#endif
#ifndef MAXREVOKE
#define MAXREVOKE	1	/* revocations of a live claim */
#endif
#ifndef DIER
#define DIER		0	/* producer that may die; NPROD: none */
#endif
#ifndef SLOW
#define SLOW		0	/* producer whose claims may time out */
#endif
/* LEN0 / LEN1: fixed frame length of producer 0 / the others (else 1..2) */

#define NRECOF(i)	((i) == 0 -> NREC0 : NREC)
#define RB		4	/* producer i's record ids: i*RB+1 .. i*RB+RB */
#define MAXPOS		24	/* ghost arrays indexed by position */
#define NONE		255	/* SFSHM_NO_HAZARD */

#ifndef NOLAPTAG
#define LAPTAG
#endif
#ifndef NOFIX_LIMIT
#define FIX_LIMIT
#endif
#if !defined(NO_HAZARD) && !defined(NOFIX_HAZARD)
#define HAZARD
#endif
/* ring.c's producer-slot hand-over (the old -DFIX_PSLOT is not needed) */
#if !defined(NOFIX_PSLOT) && !defined(OLD_PSLOT)
#if !defined(NOFIX_START) && !defined(FIX_START)
#define FIX_START
#endif
#if !defined(NOFIX_FORGET) && !defined(FIX_FORGET)
#define FIX_FORGET
#endif
#endif
#ifndef NOFIX_PADCHECK
#define FIX_PADCHECK
#endif

/* ---- frame words --------------------------------------------------------- */

/*
 * A slot is a short here: (lap << 8) | (type << 4) | len for a frame word,
 * len in slots, lap = pos / N (LAPTAG; 0 without); 128 | v for a body slot
 * of record v.
 */
#define T_EMPTY		0	/* 0: nothing written (erased memory) */
#define T_IP		1	/* {DATA, -len}: claimed, being filled */
#define T_DATA		2	/* {DATA, +len}: committed */
#define T_PAD		3	/* {PAD, len}: skip len */
#define T_POISON	4	/* {POISON}: unblocker closing a hole */
#ifdef LAPTAG
#define LAPOF(p)	((p) / N)
#else
#define LAPOF(p)	0
#endif
#define W(t, l, p)	((LAPOF(p) << 8) | ((t) << 4) | (l))	/* word_at() */
#define TYPE(w)		(((w) >> 4) & 15)
#define LEN(w)		((w) & 15)
#define LAP(w)		((w) >> 8)
/* word_stale(): a non-zero word written for another lap than p's */
#define STALE(p, w)	((w) != 0 && LAP(w) != LAPOF(p))
/* word_older(): a non-zero word written for a lap before p's */
#define OLDER(p, w)	((w) != 0 && LAP(w) < LAPOF(p))
/* what mark_frame() takes over: word_older(); -DSTALE_TAKEOVER: the
 * earlier word_stale(), a newer lap's word too */
#ifdef STALE_TAKEOVER
#define TAKE(p, w)	STALE(p, w)
#elif defined(NO_TAKEOVER)
#define TAKE(p, w)	false
#else
#define TAKE(p, w)	OLDER(p, w)
#endif
#define W_POISON(p)	W(T_POISON, 0, p)
#define BODY(v)		(128 | (v))
#define IDX(p)		((p) % N)

/* ghost record in rec_at[]: (len << 4) | id */
#define RVAL(r)		((r) & 15)
#define RLEN(r)		((r) >> 4)
#define RPROD(r)	((RVAL(r) - 1) / RB)
#define RSEQ(r)		((RVAL(r) - 1) % RB)

/* read_step() outcomes */
#define R_NOTYET	0	/* -EAGAIN */
#define R_GOT		1	/* a record delivered */
#define R_SKIP		2	/* a PAD frame skipped */
#define R_BEHIND	3	/* -EOVERFLOW: lapped */
#define R_QUIET		4	/* (WAKE) asleep, and nothing will ever come */

/* ---- property switches ------------------------------------------------- */

/* Hidden: they only name the property in pan's report. */
hidden byte prop1 = 1;
hidden byte prop2 = 1;
hidden byte prop3 = 1;
hidden byte prop4 = 1;
hidden byte prop5 = 1;

#ifdef CHECK_P1
#define A1(c)	assert(prop1 && (c))
#else
#define A1(c)	skip
#endif
#ifdef CHECK_P2
#define A2(c)	assert(prop2 && (c))
#else
#define A2(c)	skip
#endif
#ifdef CHECK_P3
#define A3(c)	assert(prop3 && (c))
#else
#define A3(c)	skip
#endif
#ifdef CHECK_P4
#define A4(c)	assert(prop4 && (c))
#else
#define A4(c)	skip
#endif
#ifdef CHECK_P5
#define A5(c)	assert(prop5 && (c))
#else
#define A5(c)	skip
#endif

/*
 * -DCHECK_DEAD: assert that a branch of ring.c that exists for producers
 * the hazards failed to protect is never taken.
 */
#ifdef CHECK_DEAD
#define CHECK_UNREACHED(what)	printf(what); assert(deadcode && false)
#else
#define CHECK_UNREACHED(what)	skip
#endif
hidden byte deadcode = 1;

/* ---- shared memory ------------------------------------------------------- */

short word[N];			/* the data area */
byte tail = 0;			/* k_tail */
byte limit = N;			/* k_limit */
byte clean = 0;			/* k_clean */
#ifdef PSLOTS
#define NSLOT		1	/* SFSHM_PRODUCER_SLOTS */
#define MYSLOT		0
#else
#define NSLOT		NPROD	/* producer i holds slot i from the start */
#define MYSLOT		me
#endif
#ifdef HAZARD
byte hz[NSLOT];			/* producer[i].k_hazard; NONE: no claim */
#endif
#ifdef PSLOTS
byte spid[NSLOT];		/* producer[i].k_pid: 1 + producer, 0: free */
byte sstart[NSLOT];		/* producer[i].k_start: 1 + producer */
#endif
#ifdef WAKE
byte notify = 0;		/* k_notify (the futex word) */
byte waiters = 0;		/* k_waiters */
bit armed = 0;			/* k_armed */
#endif

/* ---- ghost state (not in ring.c) ---------------------------------------- */

byte claimer[MAXPOS];		/* 1 + producer that claimed a frame here */
byte rec_at[MAXPOS];		/* record committed at this position */
bool frozen[N];			/* slot belongs to a committed frame */
byte ncommit[NPROD];		/* records each producer committed */
bool dead[NPROD + 1];		/* dead[1 + i]: producer i died */
bool gone[NPROD + 1];		/* gone[1 + i]: i died or stopped for good */
bool quit[NPROD + 1];		/* quit[1 + i]: i's process no longer exists */
bool sockgone[NPROD + 1];	/* (PSLOTS) i's control socket closed */
byte ndone = 0;			/* producers finished or dead */
byte nrevoke = 0;		/* live claims revoked so far */
bool owner_done = false;	/* the persister reached the final tail */

/* Every store into the data area but the cleaner's. */
#define WR(i, v)	A3(!frozen[i]); word[i] = (v)

/*
 * Without WAKE, a reader waiting for a frame (spinning, or sleeping with
 * the wake-up protocol assumed correct) wakes when the word at its
 * position, k_limit or k_clean changed since its loads.  ws and ls are
 * taken in the step that decided "nothing yet", so no wake-up is lost.
 * The persister always waits this way.
 */
#define WOKEN(p)	(word[IDX(p)] != ws || limit != ls || clean > (p))

/* Forget the locals of a read_step() (fewer distinct states). */
#define RS_FORGET	w = 0; L = 0; k = 0; b = 0; c = 0; r = 0; go = 0; \
			bad = 0

/*
 * read_step() - next_frame() and sfshm_ring_read() at position p, by
 * reader `who` (0: the persister).  Sets out; moves p on R_GOT and R_SKIP;
 * nxt[i] is the next record (sequence number) expected from producer i.
 */
inline read_step(who, p, out)
{
	/*
	 * load_word(): FIX_LIMIT: load k_limit (seq_cst) first, pos >= limit
	 * means nothing yet; then w = load_seqcst(frame word).  One step for
	 * both: limit only grows, so loading it earlier than the word would
	 * only say "not yet" more often.
	 */
	atomic {
		w = word[IDX(p)];
		r = rec_at[p];		/* ghost: what was committed at p */
		ws = w;
		ls = limit;
#ifdef FIX_LIMIT
		go = (p < ls)
#else
		go = true
#endif
	}
	out = R_NOTYET;
	if
	:: go && TYPE(w) == T_DATA && !STALE(p, w) ->
		/* racy_copy() of the body, one load per slot */
		L = LEN(w);
		k = 1;
		bad = false;
		do
		:: k < L ->
			atomic {
				b = word[IDX(p + k)];
				bad = bad || b != BODY(RVAL(r));
				k++
			}
		:: else -> break
		od;
		/* erased(pos): the seqlock re-check of k_clean */
		atomic {
#ifndef BUG_NO_SEQLOCK
			c = clean;
#else
			c = 0;
#endif
			if
			:: c > p ->
				printf("MSC: R%d: -EOVERFLOW at %d\n", who, p);
				out = R_BEHIND
			:: else ->
				printf("MSC: R%d: delivers a record of %d slots at %d\n",
				    who, L, p);
				if
				:: r != 0 && RLEN(r) == L && !bad
				:: r == 0 ->
					printf("MSC: R%d: ... but nothing was committed at %d\n",
					    who, p)
				:: else ->
					printf("MSC: R%d: ... torn: not record %d as committed at %d\n",
					    who, RVAL(r), p)
				fi;
				out = R_GOT
			fi
		}
		if
		:: out == R_GOT ->
			A1(r != 0 && RLEN(r) == L && !bad);
			if
			:: r != 0 ->
				A2(RSEQ(r) == nxt[RPROD(r)]);
				nxt[RPROD(r)] = RSEQ(r) + 1
			:: else
			fi;
			p = p + L
		:: else
		fi
	:: go && TYPE(w) == T_PAD && !STALE(p, w) ->
#ifdef FIX_PADCHECK
		/* "A pad of a later lap would send us astray: check first." */
		c = clean;
		if
		:: c > p -> out = R_BEHIND
		:: else -> p = p + LEN(w); out = R_SKIP
		fi
#else
		p = p + LEN(w);
		out = R_SKIP
#endif
	:: go && !((TYPE(w) == T_DATA || TYPE(w) == T_PAD) && !STALE(p, w)) ->
		/*
		 * 0, POISON, in progress or another lap's word (word_ready()
		 * false): erased(pos) ? -EOVERFLOW : -EAGAIN.  A body slot
		 * where a frame word should be: not erased, it is -EBADMSG,
		 * i.e. the reader lost the frames.
		 */
		c = clean;
		if
		:: c > p -> out = R_BEHIND
		:: else ->
			atomic {
				if
				:: TYPE(w) > T_POISON ->
					printf("MSC: R%d: finds a stray body word where a frame word should be, at %d (-EBADMSG)\n",
					    who, p)
				:: else
				fi;
				A1(TYPE(w) <= T_POISON);
				out = R_NOTYET
			}
		fi
	:: else
	fi
}

#ifdef WAKE
/*
 * notify_readers(), after a seq_cst store that readers may wait for (the
 * commit CAS, unblock's PAD): load k_waiters, load k_armed, exchange
 * k_armed with 0; the one that gets 1 bumps k_notify (wake_readers(); the
 * FUTEX_WAKE is implicit: a sleeper's guard is k_notify != seq).
 */
inline notify_readers()
{
	if
	:: waiters != 0 ->
		if
		:: armed != 0 ->
			atomic { x = armed; armed = 0 };
			if
			:: x ->
				atomic {
					notify++;
					printf("MSC: P/owner: disarms, k_notify = %d, wakes all\n",
					    notify)
				}
			:: else
			fi
		:: else
		fi
	:: else
	fi;
	x = 0
}
#endif

/* ---- producers ----------------------------------------------------------- */

/*
 * Producer DIER may stop here for ever; what it wrote stays.  -DFREEZE:
 * producer SLOW may also stop for ever while alive (SIGSTOP, a debugger,
 * an application that never commits its zero-copy claim).
 */
#ifdef FREEZE
#define MAYDIE	if \
		:: me == DIER -> goto died \
		:: me == SLOW -> goto stopped \
		:: true -> skip \
		fi
#else
#define MAYDIE	if :: me == DIER -> goto died :: true -> skip fi
#endif

/*
 * mark_frame(): CAS the first word of a claimed frame from 0 to nw.
 * ok = false: -ECANCELED, the claim was revoked, claim again.  With LAPTAG
 * as in ring.c: on failure, a word of an older lap (word_older(), "left by
 * a producer that stalled a lap ago") is CASed over; a word of our own lap
 * (POISON, PAD) or of a newer lap means revoked.  After a successful CAS,
 * erased(pos) means we stalled across a lap: CAS our word back to 0 and
 * claim again.
 */
inline mark_frame(pos, nw)
{
#ifdef BUG_HDR_STORE
	atomic { WR(IDX(pos), nw); ok = true }
#elif defined(LAPTAG)
	seen = 0;
	do
	:: atomic {		/* CAS(word, &seen, nw), acq_rel */
		if
		:: word[IDX(pos)] == seen -> WR(IDX(pos), nw); ok = true
		:: else -> seen = word[IDX(pos)]; ok = false
		fi
	   }
	   if
	   :: ok -> break
	   :: !ok && TAKE(pos, seen) ->		/* an older lap's: CAS again */
		CHECK_UNREACHED("MSC: mark_frame() takes over an older-lap word\n")
	   :: !ok && !TAKE(pos, seen) -> break	/* revoked */
	   fi
	od;
	if
	:: ok && clean > pos ->		/* erased(pos): a lap behind */
		CHECK_UNREACHED("MSC: mark_frame() finds its slot erased\n");
		atomic {
			if
			:: word[IDX(pos)] == nw -> WR(IDX(pos), 0)
			:: else
			fi;
			ok = false
		}
	:: else
	fi;
	seen = 0
#else
	atomic {	/* the original design: CAS from 0, nothing else */
		ok = (word[IDX(pos)] == 0);
		if
		:: ok -> WR(IDX(pos), nw)
		:: else
		fi
	}
#endif
}

proctype Producer(byte me)
{
	byte seq, v, L, t, pad, tot, p, lim, k;
	short seen;
	bool ok;
#ifdef WAKE
	bit x;
#endif

#ifdef PSLOTS
	/*
	 * take_pslot() (first claim): CAS(k_pid, 0, me), store k_start,
	 * store k_hazard = NONE.  All slots taken (-ENOSPC): the application
	 * tries again later.
	 */
	atomic {
		spid[0] == 0 -> spid[0] = me + 1;
		printf("MSC: P%d: takes producer slot 0\n", me)
	};
	sstart[0] = me + 1;
	hz[0] = NONE;
#endif
	do
	:: seq < NRECOF(me) ->
		v = me * RB + seq + 1;
		if			/* frame length in slots */
#ifdef LEN0
		:: me == 0 -> L = LEN0
#else
		:: me == 0 -> L = 1
		:: me == 0 -> L = 2
#endif
#ifdef LEN1
		:: me != 0 -> L = LEN1
#else
		:: me != 0 -> L = 1
		:: me != 0 -> L = 2
#endif
		fi;
claim:		/* claim_space(): t = load_relaxed(k_tail) */
		t = tail;
retry:		/*
		 * pad and end from t; end > limit_cache: load k_limit.  The
		 * model always loads it (a cached limit is an older value of
		 * a counter that only grows).
		 */
		atomic {
			if
			:: IDX(t) + L > N -> pad = N - IDX(t)
			:: else -> pad = 0
			fi;
			tot = pad + L;
			lim = limit
		}
		if
		:: t + tot > lim ->
			/* full: clear_hazard(), then wait_space() until
			 * k_limit >= end, reload the tail */
#ifdef HAZARD
			hz[MYSLOT] = NONE;
#endif
			(limit >= t + tot);
			goto claim
		:: else
		fi;
#if defined(HAZARD) && !defined(BUG_HAZARD_LATE)
		hz[MYSLOT] = t;		/* set_hazard(t) */
#endif
		/* CAS(k_tail, &t, end): on failure t = the tail seen */
		atomic {
			if
			:: tail == t ->
				tail = t + tot;
				assert(tail < MAXPOS);	/* model bound */
				claimer[t] = me + 1;
				claimer[t + pad] = me + 1;
				printf("MSC: P%d: claims [%d,%d) for record %d (pad %d)\n",
				    me, t, t + tot, v, pad);
				ok = true
			:: else -> t = tail; ok = false
			fi
		}
		if
		:: !ok -> goto retry
		:: else
		fi;
#if defined(HAZARD) && defined(BUG_HAZARD_LATE)
		hz[MYSLOT] = t;
#endif
		MAYDIE;
		if
		:: pad > 0 ->
			/* mark_frame(t, PAD); revoked: the owner pads it */
			mark_frame(t, W(T_PAD, pad, t));
			MAYDIE
		:: else
		fi;
		p = t + pad;
		/* sfshm_ring_claim(): mark_frame(p, {DATA, -L}) */
		mark_frame(p, W(T_IP, L, p));
		if
		:: ok ->
			printf("MSC: P%d: header -> in progress at %d (slot %d)\n",
			    me, p, IDX(p))
		:: else ->
			printf("MSC: P%d: header at %d: revoked, claims again\n",
			    me, p);
			goto claim
		fi;
		MAYDIE;
		/* fill_frame(): plain stores */
		k = 1;
		do
		:: k < L ->
			atomic {
				WR(IDX(p + k), BODY(v));
				printf("MSC: P%d: writes body of record %d at %d (slot %d)\n",
				    me, v, p + k, IDX(p + k));
				k++
			}
		:: else -> break
		od;
		MAYDIE;
#if defined(WAKE) && defined(BUG_NOTIFY_EARLY)
		notify_readers();
#endif
		/* commit_word(): CAS(word[p], {DATA, -L}, {DATA, +L}), seq_cst */
		atomic {
#ifndef BUG_COMMIT_STORE
			ok = (word[IDX(p)] == W(T_IP, L, p));
#else
			ok = true;
#endif
			if
			:: ok ->
				WR(IDX(p), W(T_DATA, L, p));
				printf("MSC: P%d: commits record %d at %d\n", me, v, p);
				/* ghosts: committed once, in order */
				A2(ncommit[me] == seq);
				ncommit[me]++;
				rec_at[p] = (L << 4) | v;
				k = 0;
				do
				:: k < L -> frozen[IDX(p + k)] = true; k++
				:: else -> break
				od
			:: else ->
				printf("MSC: P%d: commit CAS at %d failed: revoked, sends again\n",
				    me, p)
			fi
		}
#ifdef HAZARD
		hz[MYSLOT] = NONE;	/* clear_hazard(): committed or revoked */
#endif
		if
		:: !ok -> goto claim
		:: else
		fi;
#if defined(WAKE) && !defined(BUG_NOTIFY_EARLY)
		notify_readers();
#endif
		/* forget dead locals: fewer distinct states */
		d_step {
			seq++; t = 0; pad = 0; tot = 0; p = 0; lim = 0; k = 0;
			L = 0; v = 0
		}
	:: else -> break
	od;
#ifdef PSLOTS
	/*
	 * sfshm_ring_unmap(): release_pslot(), then the process exits or
	 * lives on.  Its control socket to the daemon (sockgone) closes at
	 * exit, or earlier: before the unmap.
	 */
#ifndef SOCK_AT_EXIT
	if
	:: atomic {
		sockgone[me + 1] = true;
		printf("MSC: P%d: its control socket closes (ring still mapped)\n", me)
	   }
	:: skip
	fi;
#endif
	hz[0] = NONE;
	atomic { spid[0] = 0; printf("MSC: P%d: releases its producer slot\n", me) };
	if		/* the process exits, or lives on without the handle */
	:: atomic {
		quit[me + 1] = true;
		sockgone[me + 1] = true;
		printf("MSC: P%d: exits\n", me)
	   }
	:: skip
	fi;
#endif
	ndone++;
	goto out;
died:
	atomic {
		printf("MSC: P%d: dies\n", me);
		dead[me + 1] = true;
		quit[me + 1] = true;
		sockgone[me + 1] = true;
		gone[me + 1] = true;
		ndone++
	};
#ifdef FREEZE
	goto out;
stopped:
	atomic {	/* alive, but never moves again */
		printf("MSC: P%d: stops for good (alive)\n", me);
		gone[me + 1] = true;
		ndone++
	};
#endif
out:
	skip
}

/* ---- readers ------------------------------------------------------------- */

#ifdef WAKE
/*
 * ATOMIC_READ (the WAKE configurations): a reader's read_step() in one
 * step, as the persister's: what matters to the wake-up protocol is the
 * frame word load; the copy and the seqlock check are CFG_B's business.
 */
#ifdef ATOMIC_READ
#define RSTEP(who, p, out)	atomic { read_step(who, p, out); RS_FORGET }
#else
#define RSTEP(who, p, out)	read_step(who, p, out); d_step { RS_FORGET }
#endif

/*
 * frame_ready(): next_frame() at p, past any padding; then out is not
 * R_SKIP.  A record found is delivered at once (the read that follows
 * sfshm_ring_wait()).
 */
inline frame_ready()
{
	do
	:: RSTEP(me + 1, p, out);
	   if
	   :: out != R_SKIP -> break
	   :: else
	   fi
	od
}

/*
 * sleep_frame(), entered after read_step() said R_NOTYET.  FUTEX_WAIT on
 * k_notify while it holds seq is the guard notify != seq, without the
 * 100 ms slice: a lost wake-up is a sleep for ever.  `timeout` (spin: no
 * other process can move, ever) is where the slice would end it: the
 * reader looks once more, and finding anything there (a record, padding
 * or -EOVERFLOW) means it missed its wake-up (P5).
 */
inline sleep_frame()
{
	waiters++;				/* add_seqcst(k_waiters, 1) */
	do
	::
#ifdef BUG_SEQ_LATE
		skip;
#else
		seq = notify;			/* load_acquire(k_notify) */
#endif
#if !defined(BUG_ARM_LATE) && !defined(BUG_NO_ARM)
		armed = 1;			/* store_seqcst(k_armed, 1) */
#endif
		frame_ready();
#ifdef BUG_ARM_LATE
		armed = 1;
#endif
#ifdef BUG_SEQ_LATE
		seq = notify;
#endif
		if
		:: out != R_NOTYET -> break
		:: else
		fi;
		printf("MSC: R%d: sleeps at %d on k_notify == %d\n", me + 1, p, seq);
		if
		:: notify != seq -> skip	/* woken, or k_notify moved */
#ifdef NO_TIMEOUT
		:: ndone == NPROD && p == tail -> out = R_QUIET; break
#else
		:: timeout ->
			frame_ready();
			if
			:: out != R_NOTYET ->
				printf("MSC: R%d: LOST WAKE-UP: asleep for ever at %d, where there is something to read\n",
				    me + 1, p)
			:: else
			fi;
			A5(out == R_NOTYET);
			/* and the reader sleeps only at the final tail */
			A4(ndone == NPROD && p == tail);
			out = R_QUIET;
			break
#endif
		fi
	od;
	atomic {				/* dec_sat_seqcst(k_waiters) */
		if
		:: waiters > 0 -> waiters--
		:: else
		fi
	}
}
#endif

/* Reads from position 0 until the final tail, or until -EOVERFLOW. */
proctype Reader(byte me)
{
	byte p, nxt[NPROD], out, L, k, b, c, r, ls, i;
	short w, ws;
	bool go, bad, stuck, behind;
#ifdef WAKE
	byte seq;
#endif

#ifndef WAKE
	do
	:: !stuck || WOKEN(p) ->
		read_step(me + 1, p, out);
		d_step {
			stuck = (out == R_NOTYET);
			behind = (out == R_BEHIND);
			RS_FORGET;
			if
			:: !stuck -> ws = 0; ls = 0
			:: else
			fi
		}
		if
		:: behind -> break
		:: else
		fi
	:: stuck && ndone == NPROD && p == tail -> break
	od;
#else
	/* sfshm_ring_read(); on -EAGAIN sfshm_ring_wait() in FUTEX mode */
	do
	:: RSTEP(me + 1, p, out);
		if
		:: out == R_NOTYET -> sleep_frame(); seq = 0
		:: else
		fi;
		if
		:: out == R_BEHIND -> behind = true; break
		:: out == R_QUIET -> break
		:: else
		fi
	od;
#endif
	/* P2: a reader that was not lapped saw every committed record */
	if
	:: !behind ->
		i = 0;
		do
		:: i < NPROD -> A2(nxt[i] == ncommit[i]); i++
		:: else -> break
		od
	:: else
	fi
}

/* ---- the owner: persister, cleaner, unblocker ---------------------------- */

/* Zero one slot (ghosts forget what was there). */
#define ERASE(q)	A2((q) < pp);	/* only what was persisted */ \
			frozen[IDX(q)] = false; \
			word[IDX(q)] = 0; \
			rec_at[q] = 0; \
			claimer[q] = 0
#ifndef BUG_NO_LIMIT
#define LIMIT_STORE	limit = upto + N	/* store_seqcst(k_limit) */
#else
#define LIMIT_STORE	skip
#endif

/*
 * A hazard clean_floor() counts: in [old, floor).  Below old it is stale
 * (a tail CAS there cannot succeed any more).  BUG_FLOOR_EDGE: one at old
 * is taken for stale too.
 */
#ifdef BUG_FLOOR_EDGE
#define INFLOOR(h)	((h) > old && (h) < upto)
#else
#define INFLOOR(h)	((h) >= old && (h) < upto)
#endif

/*
 * The owner calls sfshm_ring_clean() again only if it can erase something
 * now: a call that would return -EBUSY without erasing anything changes
 * nothing, and leaving it out turns "the owner retries for ever while
 * producers wait for space" into a state with no move, which pan reports
 * (P4a).  Busy: a live producer's hazard is at k_clean.
 */
#if defined(HAZARD) && !defined(BUG_FLOOR_EDGE) && !defined(PSLOTS)
#define HZ_AT_CLEAN(j)	(hz[j] == clean && !dead[(j) + 1])
#if NSLOT == 1
#define CLEAN_BUSY	HZ_AT_CLEAN(0)
#elif NSLOT == 2
#define CLEAN_BUSY	(HZ_AT_CLEAN(0) || HZ_AT_CLEAN(1))
#else
#define CLEAN_BUSY	(HZ_AT_CLEAN(0) || HZ_AT_CLEAN(1) || HZ_AT_CLEAN(2))
#endif
#else
#define CLEAN_BUSY	false
#endif

/*
 * sfshm_ring_clean(persisted): old = k_clean (only the owner writes it);
 * clean_floor(): one load per producer slot, the pid check (a dead
 * producer's slot is released); erase(old, floor) if floor > old, else
 * nothing (-EBUSY when floor < upto).
 */
inline do_clean()
{
	old = clean;
	upto = pp;
#ifdef HAZARD
	j = 0;
	do
	:: j < NSLOT ->
#ifndef PSLOTS
		/*
		 * Slot j belongs to producer j for good: load the hazard and
		 * ask whether j is alive in one step.
		 */
		atomic {
			h = hz[j];
			if
			:: INFLOOR(h) && !dead[j + 1] -> upto = h
			:: INFLOOR(h) && dead[j + 1] -> hz[j] = NONE
			:: else
			fi;
			j++
		}
#else
		/* As clean_floor(): one step per load, the pid check, the
		 * release. */
		opid = spid[j];			/* load_acquire(k_pid) */
		if
		:: opid == 0 -> skip
		:: else ->
			h = hz[j];		/* load_acquire(k_hazard) */
#ifndef OLD_PSLOT
			st = sstart[j];		/* load_acquire(k_start) */
			if			/* k_pid again: changed hands? */
			:: spid[j] != opid ->
				if	/* count the hazard, look again next time */
				:: INFLOOR(h) -> upto = h
				:: else
				fi;
				h = NONE
			:: else
			fi;
#endif
			if
			:: INFLOOR(h) ->
				/* sf_proc_alive(pid, start) */
				atomic {
#ifdef OLD_PSLOT
					st = sstart[j];
#endif
					ok = !quit[opid] && (st == 0 || st == opid);
					printf("MSC: owner: clean_floor(%d, %d): slot %d read k_pid P%d, k_hazard %d, k_start of P%d (0: none): alive %d\n",
					    old, upto, j, opid - 1, h, st - 1, ok)
				}
				if
				:: !ok ->
#ifdef OLD_PSLOT
					/* release_pslot(): two plain stores */
					hz[j] = NONE;
					atomic {
						spid[j] = 0;
						printf("MSC: owner: takes P%d for gone: frees the slot\n",
						    opid - 1)
					}
#else
					/* free_dead_pslot() */
#ifdef FIX_START
					/* k_start = 0 ("unknown": alive)
					 * while the slot is free */
					sstart[j] = 0;
#endif
					/* CAS(k_pid, pid, 0) */
					atomic {
						if
						:: spid[j] == opid ->
							spid[j] = 0;
							printf("MSC: owner: takes P%d for gone: frees the slot\n",
							    opid - 1)
						:: else
						fi
					}
#endif
				:: else -> upto = h
				fi
			:: else
			fi
		fi;
		d_step { j++; opid = 0; st = 0; ok = 0 }
#endif
	:: else -> break
	od;
#endif
#ifdef BUG_CLEAN_AHEAD
	upto = tail;
#endif
	if
	:: upto > old ->
#if defined(FINE_CLEAN) || defined(BUG_CLEAN_ORDER)
		/* as ring.c: k_clean, then each slot, then k_limit */
#ifndef BUG_CLEAN_ORDER
		atomic {
			clean = upto;
			printf("MSC: owner: k_clean = %d, erasing [%d,%d)\n",
			    upto, old, upto)
		}
#else
		printf("MSC: owner: erasing [%d,%d)\n", old, upto);
#endif
		q = old;
		do
		:: q < upto -> atomic { ERASE(q); q++ }
		:: else -> break
		od;
#ifdef BUG_CLEAN_ORDER
		atomic {
			clean = upto;
			printf("MSC: owner: k_clean = %d\n", upto)
		}
#endif
		atomic {
			LIMIT_STORE;
			printf("MSC: owner: cleaned [%d,%d), limit %d\n",
			    old, upto, limit)
		}
#else
		/*
		 * erase(): the three stores of ring.c in one step.  Nobody
		 * can tell the difference: a reader that loaded any erased
		 * slot loads k_clean after it and gets -EOVERFLOW whatever it
		 * copied; one that loaded k_clean before the store copied
		 * only old slots; producers and the unblocker touch no erased
		 * slot before the k_limit store.  FINE_CLEAN: one step each.
		 */
		d_step {
			clean = upto;
			q = old;
			do
			:: q < upto -> ERASE(q); q++
			:: else -> break
			od;
			LIMIT_STORE;
			printf("MSC: owner: cleaned [%d,%d), limit %d\n",
			    old, upto, limit)
		}
#endif
	:: else
	fi
}

/*
 * poison_slot(q) (LAPTAG, as ring.c): CAS the slot to POISON unless a word
 * of q's lap was written there; ok = our POISON is there now.
 */
inline poison_slot(q)
{
	seen = 0;
	do
	:: atomic {
		if
		:: word[IDX(q)] == seen ->
#ifndef BUG_NO_POISON
			WR(IDX(q), W_POISON(q));
#endif
			ok = true
		:: else -> seen = word[IDX(q)]; ok = false
		fi
	   }
	   if
	   :: ok -> break
	   :: !ok && seen == W_POISON(q) -> ok = true; break
	   :: !ok && seen != W_POISON(q) && !STALE(q, seen) -> break
	   :: !ok && seen != W_POISON(q) && STALE(q, seen)
	   fi
	od;
	seen = 0
}

/* sfshm_ring_unblock(p) */
inline unblock(p)
{
	w = word[IDX(p)];		/* load_acquire */
	if
	:: w == 0 || STALE(p, w) || TYPE(w) == T_POISON ->
		/* unblock_hole() */
		t = tail;		/* load_acquire(k_tail) */
		if
		:: t <= p -> skip	/* -EAGAIN */
		:: else ->
			d_step {	/* end = min(tail, lap end) */
				if
				:: t < (p / N + 1) * N -> e = t
				:: else -> e = (p / N + 1) * N
				fi
			}
#ifdef LAPTAG
			poison_slot(p);
#else
			atomic {	/* w == 0: CAS(word[p], 0, POISON) */
				if
				:: w == 0 ->
					ok = (word[IDX(p)] == 0);
#ifndef BUG_NO_POISON
					if
					:: ok -> WR(IDX(p), W_POISON(p))
					:: else
					fi
#endif
				:: else -> ok = true
				fi
			}
#endif
			if
			:: ok ->
				q = p + 1;
				do
				:: q < e ->
#ifdef LAPTAG
					poison_slot(q);
					if
					:: ok -> q++
					:: else -> break
					fi
#else
					/* CAS(word[q], 0, POISON), on over
					 * POISON, stop at a written word */
					brk = false;
					atomic {
						if
						:: word[IDX(q)] == 0 ->
#ifndef BUG_NO_POISON
							WR(IDX(q), W_POISON(q));
#endif
							q++
						:: word[IDX(q)] == W_POISON(q) -> q++
						:: else -> brk = true
						fi
					}
					if
					:: brk -> break
					:: else
					fi
#endif
				:: else -> break
				od;
				/* store_seqcst(word[p], {PAD, q - p}) */
				atomic {
					WR(IDX(p), W(T_PAD, q - p, p));
					printf("MSC: owner: unblocks hole [%d,%d) as PAD\n", p, q)
				}
#ifdef WAKE
				notify_readers();
#endif
			:: else		/* written meanwhile: -EAGAIN */
			fi
		fi
	:: TYPE(w) == T_IP && !STALE(p, w) ->
		/* unblock_in_progress(): CAS(word[p], w, {PAD, len}) */
		atomic {
#ifndef BUG_UNBLOCK_STORE
			ok = (word[IDX(p)] == w);
			if
			:: ok ->
				WR(IDX(p), W(T_PAD, LEN(w), p));
				printf("MSC: owner: revokes in-progress frame at %d as PAD %d\n",
				    p, LEN(w))
			:: else
			fi
#else
			ok = true
#endif
		}
#ifdef BUG_UNBLOCK_STORE
		atomic { WR(IDX(p), W(T_PAD, LEN(w), p)) }
#endif
#ifdef WAKE
		if
		:: ok -> notify_readers()
		:: else
		fi
#endif
	:: else -> skip			/* committed or padded: -EAGAIN */
	fi
}

/* Whose stuck frame may time out: producer SLOW's; -DANYSLOW: anybody's. */
#ifdef ANYSLOW
#define SLOWPROD(c)	true
#else
#define SLOWPROD(c)	((c) == SLOW + 1)
#endif

proctype Owner()
{
	/* persister */
	byte pp, nxt[NPROD], out, L, k, b, c, r, ls, i;
	short w, ws, seen;
	bool go, bad, stuck;
	/* cleaner and unblocker */
	byte upto, old, q, h, j, t, e;
	bool ok, brk;
#ifdef PSLOTS
	byte opid, st;
	bool forgot;			/* forget_pid(P0) called */
#endif
#ifdef WAKE
	bit x;
#endif

	do
	:: !stuck || WOKEN(pp) ->
		/*
		 * Persist: read the next frame, in one step: the persister
		 * is the only writer of k_clean, and nobody writes into a
		 * committed frame (P3), so splitting its loads adds nothing.
		 */
		atomic { read_step(0, pp, out) };
		d_step {
			stuck = (out == R_NOTYET);
			RS_FORGET;
			if
			:: !stuck -> ws = 0; ls = 0
			:: else
			fi
		}
		if
		:: out == R_BEHIND ->
			A2(false);	/* the persister is never lapped */
			break
		:: else
		fi
	:: pp > clean && !CLEAN_BUSY ->
		do_clean();
		d_step { upto = 0; old = 0; q = 0; h = 0; j = 0 }
#ifndef BUG_NO_UNBLOCK
	:: stuck && pp < tail &&
	   (SLOWPROD(claimer[pp]) && nrevoke < MAXREVOKE ||
	    gone[claimer[pp]]) ->
		/*
		 * The unblock timeout expired, or the producer died.  (The
		 * bound counts revocations of producers that may still move.)
		 */
		if
		:: !gone[claimer[pp]] -> nrevoke++
		:: else
		fi;
		unblock(pp);
		d_step {
			stuck = false; w = 0; t = 0; e = 0; q = 0; ok = 0;
			brk = 0; ws = 0; ls = 0
		}
#endif
#ifdef PSLOTS
	:: sockgone[1] && !forgot ->
		/*
		 * sfshm_ring_forget_pid(pid of producer 0): its control
		 * socket closed (once, for producer 0 only: the bound).
		 */
		forgot = true;
#ifdef OLD_PSLOT
		atomic {			/* load_acquire(k_pid) == pid? */
			opid = spid[0];
			if
			:: opid == 1 ->
				printf("MSC: owner: forget_pid(P0): k_pid is P0\n")
			:: else
			fi
		};
		if
		:: opid == 1 ->
			hz[0] = NONE;		/* release_pslot() */
			atomic {
				spid[0] = 0;
				printf("MSC: owner: forget_pid(P0) frees slot 0\n")
			}
		:: else
		fi;
#elif !defined(FIX_FORGET)
#ifdef FIX_START
		sstart[0] = 0;
#endif
		atomic {			/* CAS(k_pid, pid, 0) */
			if
			:: spid[0] == 1 ->
				spid[0] = 0;
				printf("MSC: owner: forget_pid(P0) frees slot 0\n")
			:: else
			fi
		};
#else
		/*
		 * A closed socket is a hint, not a proof: free the slot as
		 * clean_floor() does, only if the pid check (which takes a
		 * zombie for gone) says the process is gone: k_pid, k_start
		 * (pslot_holder_gone()), k_pid again, sf_proc_alive()
		 */
		opid = spid[0];
		st = sstart[0];
		if
		:: opid == 1 && spid[0] == opid ->
			atomic { ok = !quit[opid] && (st == 0 || st == opid) };
			if
			:: !ok ->		/* free_dead_pslot() */
#ifdef FIX_START
				sstart[0] = 0;
#endif
				atomic {
					if
					:: spid[0] == opid -> spid[0] = 0
					:: else
					fi
				}
			:: else
			fi
		:: else
		fi;
		st = 0; ok = 0;
#endif
		opid = 0
#endif
	:: stuck && ndone == NPROD && pp == tail -> break
	od;
	/* P2: the persister has every committed record */
	i = 0;
	do
	:: i < NPROD -> A2(nxt[i] == ncommit[i]); i++
	:: else -> break
	od;
	A4(pp == tail);
	owner_done = true
}

#ifdef LTL_P4
ltl p4 { <> owner_done }
#endif

init
{
	byte n;

	atomic {
#ifdef HAZARD
		n = 0;
		do
		:: n < NSLOT -> hz[n] = NONE; n++
		:: else -> break
		od;
#endif
		run Owner();
		n = 0;
		do
		:: n < NPROD -> run Producer(n); n++
		:: else -> break
		od;
		n = 0;
		do
		:: n < NREADER -> run Reader(n); n++
		:: else -> break
		od
	}
}
