/* SPDX-License-Identifier: MIT */
/*
 * ring.pml - a Promela model of the partition ring protocol (ring.c).
 *
 * Run it with tests/check-model.sh (also `make model`); it needs spin and
 * gcc.  By hand, e.g. the safety run of configuration A:
 *
 *   spin -DCFG_A -DCHECK_P1 -DCHECK_P2 -DCHECK_P3 -DCHECK_P4 -a ring.pml
 *   gcc -O0 -DSAFETY -DCOLLAPSE -o pan pan.c && ./pan -m100000
 *   spin -DCFG_A ... -t ring.pml         (replay a counterexample: the
 *                                         printf lines tell the story)
 *
 * What is modelled
 * ----------------
 * Memory is sequentially consistent: one Promela step per atomic memory
 * operation of ring.c (load, store, CAS) and per plain data word written
 * or read.  The C11 orderings (acquire/release/relaxed, the fences around
 * k_clean) are NOT checked; ring.c's comments argue them.
 *
 *   ring.c                          model
 *   data area, pos & mask           word[N], IDX(p) = p % N; one slot is
 *                                   one 8-byte unit; positions are plain
 *                                   counters that only grow
 *   k_tail, k_limit, k_clean        tail, limit, clean
 *   frame word (tag, signed len),   W(type, len, pos): TYPE(w), LEN(w),
 *   word_at(), lap tag              LAP(w), len in slots; "in progress"
 *                                   {DATA, -len} is type T_IP
 *   word_stale()                    STALE(p, w)
 *   frame header + body             slot 0: frame word; slot 1 (frames of
 *                                   2 slots): BODY(v), v the record id
 *   claim_space, mark_frame,        proctype Producer: copying sends of
 *   sfshm_ring_claim, fill_frame,   its records, claiming again after a
 *   commit_word, sfshm_ring_send    revocation (-ECANCELED); mark_frame()
 *   load_word, next_frame,          inline read_step(), used by Reader
 *   sfshm_ring_read, erased         and by the persister in Owner
 *   unblock_hole, poison_slot,      inline unblock(), poison_slot()
 *   unblock_in_progress
 *   the daemon                      proctype Owner: persister (reads like
 *                                   a reader), cleaner (sfshm_ring_clean
 *                                   up to what is persisted) and
 *                                   unblocker (sfshm_ring_unblock when
 *                                   the persister is stuck)
 *   futex waits (k_notify,          a blocking guard: the waiter sleeps
 *   k_space)                        until what it looked at changes.  The
 *                                   k_waiters / k_space_waiters Dekker
 *                                   handshakes are not modelled.
 *   sfshm_ring_abort, peek/consume, not modelled
 *   sfshm_ring_send_batch
 *
 * Producer DIER may die (stop forever) after its tail CAS, after its pad
 * CAS, after its header CAS or after writing its body.  Any process may
 * stall anywhere: spin explores every interleaving.  The unblock timeout is
 * nondeterministic: whenever the persister is stuck at p < tail on a frame
 * of producer SLOW, the owner may unblock p even if SLOW is alive and just
 * slow.  Revoking a live claim happens at most MAXREVOKE times (a bound on
 * the state space; it also rules out the livelock in which a timeout
 * shorter than any claim revokes every claim forever).  A hole left by a
 * dead producer may always be unblocked.
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
 *      [sfshm_ring_unblock, unblock_hole, unblock_in_progress]
 *  P4  Progress.  (a) CHECK_P4 with pan's invalid-end-state check: no
 *      reachable state where a producer waits for space, or a reader or the
 *      persister waits for a frame, forever; the persister ends at the
 *      final tail.  (b) LTL_P4: <> owner_done under weak fairness: every
 *      fair run, including those where a producer died holding a claim,
 *      ends with everything claimed persisted or padded.
 *      [wait_space, sfshm_ring_unblock]
 *
 * Protocol variants (switches; the defaults are the protocol that passes):
 *
 *  FIX_LIMIT   A reader loads k_limit before the frame word, and
 *              pos >= limit is "nothing yet" (load_word() in ring.c; it
 *              was not in ring.c when this model first found the flaw).
 *              -DNOLAPTAG -DNOFIX_LIMIT: a reader (or the persister) at
 *              the tail of a full ring (tail == limit) reads the previous
 *              lap's frame, not erased yet, and delivers an old record
 *              again.  With LAPTAG that word is stale and the check is
 *              not needed (spin: CFG_B passes without it).
 *  LAPTAG      Frame words carry the lap of their position; a word of
 *              another lap is "stale": readers skip it as not ready,
 *              mark_frame() CASes over it and, if erased(pos) afterwards,
 *              gives the slot back (ring.c as it is).  -DNOLAPTAG: the
 *              untagged words of the original design.  Not needed once
 *              FIX_HAZARD is in: both variants pass.
 *  FIX_HAZARD  PROPOSED, NOT IN ring.c.  Each producer publishes a hazard
 *              hz[me] = the tail it loaded, before its tail CAS, and clears
 *              it after its commit CAS; the cleaner takes persisted first,
 *              then loads the hazards, and never erases at or above the
 *              hazard of a live producer (it learns that a producer died
 *              by a pid check).  -DNOFIX_HAZARD (ring.c as it is) fails:
 *              a revoked producer that is slow, not dead, goes on after its
 *              slots were erased and claimed again one lap later:
 *              (1) its body stores (fill_frame, or the application through
 *                  a zero-copy claim) land in the next lap's record, which
 *                  readers deliver torn (P1, P3);
 *              (2) with LAPTAG, its mark_frame() takes the next lap's
 *                  committed word for a stale one, CASes over it and then
 *                  gives the slot back as 0: a committed record is lost
 *                  (P3; CFG_H shows it with frames that have no body);
 *              (3) without LAPTAG, its header and commit CASes succeed on
 *                  the next lap's slot (ABA) and readers lose the frames.
 *  FIX_PADCHECK erased(pos) before skipping a PAD (ring.c has it).  Spin
 *              finds it is not needed: a reader sent astray by a later
 *              lap's PAD is still lapped and reports -EOVERFLOW at its
 *              next frame.  Kept because ring.c does it.
 *
 * Mutations (-DBUG_x; the script expects spin to find the error):
 *  BUG_NO_SEQLOCK    the reader does not re-check k_clean after its copy P1
 *  BUG_CLEAN_ORDER   the cleaner zeroes before it stores k_clean       P1
 *  BUG_HAZARD_LATE   the hazard is published after the tail CAS        P3
 *  BUG_COMMIT_STORE  commit by a plain store, not a CAS                P2
 *  BUG_NO_POISON     unblock_hole looks for the hole's end without
 *                    poisoning the empty slots                         P2
 *  BUG_CLEAN_AHEAD   clean up to the tail, not to what is persisted    P2
 *  BUG_HDR_STORE     header by a plain store, not mark_frame()'s CAS   P3
 *  BUG_UNBLOCK_STORE unblock_in_progress loads, then stores (no CAS)   P3
 *  BUG_NO_LIMIT      the cleaner does not move k_limit                 P4
 *  BUG_NO_UNBLOCK    the owner never unblocks                          P4
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
 *  CFG_H  mark_frame() without FIX_HAZARD: as CFG_A, but producer 0's
 *         record is 1 slot (no body) and it does not die, producer 1's
 *         records are 2 slots.
 *  CFG_C  (deep) revocation with a reader: producer 0 one record of 2
 *         slots, revocable once, not dying; producer 1 one record of 1
 *         slot; persister and one reader.
 * Positions stay below MAXPOS = 24 (asserted).
 */

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
#define NONE		255	/* no hazard published */

#ifndef NOLAPTAG
#define LAPTAG
#endif
#ifndef NOFIX_LIMIT
#define FIX_LIMIT
#endif
#ifndef NOFIX_HAZARD
#define FIX_HAZARD
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

/* ---- property switches ------------------------------------------------- */

/* Hidden: they only name the property in pan's report. */
hidden byte prop1 = 1;
hidden byte prop2 = 1;
hidden byte prop3 = 1;
hidden byte prop4 = 1;

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

/* ---- shared memory ------------------------------------------------------- */

short word[N];			/* the data area */
byte tail = 0;			/* k_tail */
byte limit = N;			/* k_limit */
byte clean = 0;			/* k_clean */
#ifdef FIX_HAZARD
byte hz[NPROD];			/* proposed: per-producer claim hazards */
#endif

/* ---- ghost state (not in ring.c) ---------------------------------------- */

byte claimer[MAXPOS];		/* 1 + producer that claimed a frame here */
byte rec_at[MAXPOS];		/* record committed at this position */
bool frozen[N];			/* slot belongs to a committed frame */
byte ncommit[NPROD];		/* records each producer committed */
bool dead[NPROD + 1];		/* dead[1 + i]: producer i died */
byte ndone = 0;			/* producers finished or dead */
byte nrevoke = 0;		/* live claims revoked so far */
bool owner_done = false;	/* the persister reached the final tail */

/* Every store into the data area but the cleaner's. */
#define WR(i, v)	A3(!frozen[i]); word[i] = (v)

/*
 * A reader waiting for a frame (ring.c: spin, then sleep on k_notify)
 * wakes when the word at its position, k_limit or k_clean changed since
 * its loads.  ws and ls are taken in the step that decided "nothing yet",
 * so no wake-up is lost.
 */
#define WOKEN(p)	(word[IDX(p)] != ws || limit != ls || clean > (p))

/*
 * read_step() - next_frame() and sfshm_ring_read() at position p, by
 * reader `who` (0: the persister).  Sets out; moves p on R_GOT and R_SKIP;
 * nxt[i] is the next record (sequence number) expected from producer i.
 */
inline read_step(who, p, out)
{
	/*
	 * next_frame(): w = load_seqcst(frame word).  FIX_LIMIT: load
	 * k_limit (acquire) first; pos >= limit means nothing yet.  One step
	 * for both: limit only grows, so loading it earlier than the word
	 * would only say "not yet" more often.
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
			A1(TYPE(w) <= T_POISON);
			out = R_NOTYET
		fi
	:: else
	fi
}

/* ---- producers ----------------------------------------------------------- */

/* Producer DIER may stop here for ever; what it wrote stays. */
#define MAYDIE	if :: me == DIER -> goto died :: true -> skip fi

/*
 * mark_frame(): CAS the first word of a claimed frame from 0 to nw.
 * ok = false: the claim was revoked, claim again.  With LAPTAG as in
 * ring.c: a word of another lap ("left by a producer that stalled a lap
 * ago") is CASed over, and if erased(pos) afterwards, the slot is given
 * back (CAS to 0).
 */
inline mark_frame(pos, nw)
{
#ifdef BUG_HDR_STORE
	atomic { WR(IDX(pos), nw); ok = true }
#elif defined(LAPTAG)
	seen = 0;
	do
	:: atomic {
		if
		:: word[IDX(pos)] == seen -> WR(IDX(pos), nw); ok = true
		:: else -> seen = word[IDX(pos)]; ok = false
		fi
	   }
	   if
	   :: ok -> break
	   :: !ok && !STALE(pos, seen) -> break	/* POISON or PAD: revoked */
	   :: !ok && STALE(pos, seen)		/* another lap's: CAS again */
	   fi
	od;
	if
	:: ok && clean > pos ->		/* erased(pos): a lap behind */
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
	atomic {
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
claim:		/*
		 * claim_space(): t = load(k_tail); if the frame would end
		 * above limit_cache, reload k_limit.  The model always loads
		 * k_limit, in the step after the tail load: k_limit only
		 * grows and the tail CAS re-checks t, so loading it later
		 * shows nothing new.
		 */
#if defined(FIX_HAZARD) && !defined(BUG_HAZARD_LATE)
		t = tail;
		/* proposed: publish the hazard before claiming at >= t */
		atomic { hz[me] = t; lim = limit }
#else
		atomic { t = tail; lim = limit }
#endif
		d_step {
			if
			:: IDX(t) + L > N -> pad = N - IDX(t)
			:: else -> pad = 0
			fi;
			tot = pad + L
		}
		if
		:: t + tot > lim ->
			/* wait_space(): sleep until k_limit moves, reload */
			(limit != lim);
			goto claim
		:: else
		fi;
		/* CAS(k_tail, t, t + tot) */
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
			:: else -> ok = false
			fi
		}
		if
		:: !ok -> goto claim
		:: else
		fi;
#if defined(FIX_HAZARD) && defined(BUG_HAZARD_LATE)
		hz[me] = t;
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
		/* finish_claim(): CAS(word[p], {DATA, -L}, {DATA, +L}) */
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
				od;
#ifdef FIX_HAZARD
				/*
				 * Clear the hazard: in C a store after the
				 * commit; clearing it earlier only lets the
				 * cleaner erase more, the harder case.
				 */
				hz[me] = NONE
#endif
			:: else ->
				printf("MSC: P%d: commit CAS at %d failed: revoked, sends again\n",
				    me, p)
			fi
		}
		if
		:: !ok -> goto claim
		:: else
		fi;
		/* forget dead locals: fewer distinct states */
		d_step {
			seq++; t = 0; pad = 0; tot = 0; p = 0; lim = 0; k = 0;
			L = 0; v = 0
		}
	:: else -> break
	od;
	ndone++;
	goto out;
died:
	atomic {
		printf("MSC: P%d: dies\n", me);
		dead[me + 1] = true;
		ndone++
	};
out:
	skip
}

/* ---- readers ------------------------------------------------------------- */

/* Reads from position 0 until the final tail, or until -EOVERFLOW. */
proctype Reader(byte me)
{
	byte p, nxt[NPROD], out, L, k, b, c, r, ls, i;
	short w, ws;
	bool go, bad, stuck, behind;

	do
	:: !stuck || WOKEN(p) ->
		read_step(me + 1, p, out);
		d_step {
			stuck = (out == R_NOTYET);
			behind = (out == R_BEHIND);
			w = 0; L = 0; k = 0; b = 0; c = 0; r = 0; go = 0;
			bad = 0;
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
 * sfshm_ring_clean(persisted).  FIX_HAZARD: persisted first, then each
 * hazard, one load each; the cleaner stops below the lowest hazard of a
 * live producer.
 */
inline do_clean()
{
	upto = pp;
#ifdef FIX_HAZARD
	j = 0;
	do
	:: j < NPROD ->
		atomic {
			h = hz[j];
			if	/* the pid check: a dead producer's hazard is void */
			:: h < upto && !dead[j + 1] -> upto = h
			:: else
			fi;
			j++
		}
	:: else -> break
	od;
#endif
#ifdef BUG_CLEAN_AHEAD
	upto = tail;
#endif
	if
	:: upto > clean ->
#if defined(FINE_CLEAN) || defined(BUG_CLEAN_ORDER)
		/* as ring.c: k_clean, then each slot, then k_limit */
		old = clean;
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
		 * The three stores of ring.c in one step.  Nobody can tell
		 * the difference: a reader that loaded any erased slot loads
		 * k_clean after it and gets -EOVERFLOW whatever it copied;
		 * one that loaded k_clean before the store copied only old
		 * slots; producers and the unblocker touch no erased slot
		 * before the k_limit store.  FINE_CLEAN: one step each.
		 */
		d_step {
			old = clean;
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
				/* store(word[p], {PAD, q - p}) */
				atomic {
					WR(IDX(p), W(T_PAD, q - p, p));
					printf("MSC: owner: unblocks hole [%d,%d) as PAD\n", p, q)
				}
			:: else		/* written meanwhile: -EAGAIN */
			fi
		fi
	:: TYPE(w) == T_IP && !STALE(p, w) ->
		/* unblock_in_progress(): CAS(word[p], w, {PAD, len}) */
		atomic {
#ifndef BUG_UNBLOCK_STORE
			if
			:: word[IDX(p)] == w ->
				WR(IDX(p), W(T_PAD, LEN(w), p));
				printf("MSC: owner: revokes in-progress frame at %d as PAD %d\n",
				    p, LEN(w))
			:: else
			fi
#else
			skip
#endif
		}
#ifdef BUG_UNBLOCK_STORE
		atomic { WR(IDX(p), W(T_PAD, LEN(w), p)) }
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
			w = 0; L = 0; k = 0; b = 0; c = 0; r = 0; go = 0;
			bad = 0;
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
	:: pp > clean ->
		do_clean();
		d_step { upto = 0; old = 0; q = 0; h = 0; j = 0 }
#ifndef BUG_NO_UNBLOCK
	:: stuck && pp < tail && SLOWPROD(claimer[pp]) &&
	   (nrevoke < MAXREVOKE || dead[claimer[pp]]) ->
		/* the unblock timeout expired, or the producer died */
		if
		:: !dead[claimer[pp]] -> nrevoke++
		:: else
		fi;
		unblock(pp);
		d_step {
			stuck = false; w = 0; t = 0; e = 0; q = 0; ok = 0;
			brk = 0; ws = 0; ls = 0
		}
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
#ifdef FIX_HAZARD
		n = 0;
		do
		:: n < NPROD -> hz[n] = NONE; n++
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
