// SPDX-License-Identifier: MIT
/*
 * test_groups.c - consumer groups against a real sfshmd:
 *
 *  1. assignments: in every generation each partition has one owner, and
 *     range / roundrobin / sticky give what their definitions say;
 *  2. a member SIGKILLed under load: its partitions move on (the time to
 *     the first record at a survivor is printed), no record is lost, and
 *     the duplicates are at most what it processed after its last commit;
 *  3. the max poll interval: a member that stops polling is replaced,
 *     then finds itself fenced, loses its partitions and rejoins (also
 *     while a rebalance waits for it); two groups on one client;
 *  4. static membership: back within the grace period, same partitions
 *     and no rebalance; away longer, the others take over;
 *  5. committed offsets survive a SIGKILL of the daemon, a new member
 *     starts exactly there, auto-commit commits from poll;
 *  6. bad input: -EINVAL, -EPERM, -ESTALE where the API says.
 *
 * Each test starts build/sfshmd (t_daemon.h) on fresh dirs.  Members are
 * forked processes, each connecting its own client; they report through
 * a shared-memory table (struct mstate) what their rebalance callbacks
 * saw: the partitions of every generation they took part in, the
 * partitions they own now, what they processed and what they have not
 * committed yet.  The parent steers them through flags in the same table
 * (stop, hold still), kills them with real signals and waits on
 * conditions with deadlines scaled by t_slowdown().
 *
 * Members are named so that their client ids sort in slot order
 * ("g1-a" < "g1-b" < ...): the daemon's member id starts with the client
 * id, so the assignors see the members in slot order.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <sfshm/sfshm.h>

#include "t_daemon.h"
#include "t_util.h"

#define NPART 6 /* partitions of every test topic */
#define FULL ((1ull << NPART) - 1)
#define MAXM 5 /* member slots */
#define MAXGEN 64 /* generations recorded per member */
#define MAX_KIDS 8
#define VALID (1ull << 63) /* a generation's entry was reported */
#define COMMIT_EVERY_MS 20 /* a commit-mode member's poll batch */
#define LOAD_RECORDS 12000 /* test_kill_under_load */

#define SCALED(ms) ((ms)*t_slowdown())
#define WAIT_MS SCALED(10000) /* a rebalance settles within this */

/* Shared-memory fields: written by one process, read by others. */
#define LD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define ADD(x, v) __atomic_add_fetch(&(x), (v), __ATOMIC_ACQ_REL)

/* ---- shared state ------------------------------------------------------- */

struct mcfg {
	char client_id[32];
	char group[48];
	char topic[48];
	char instance[32]; /* "" : dynamic */
	char assignor[32]; /* "" : the default */
	int max_poll_ms, session_ms, auto_commit_ms;
	bool commit; /* commit sync after each poll batch and on revoke */
	bool track; /* record every processed record in struct load */
};

/* One member, as its own process reports it (and as the parent steers). */
struct mstate {
	struct mcfg cfg;
	uint32_t joined; /* subscribe returned */
	int32_t gen; /* of the last assignment; -1 after a revoke */
	uint64_t owned; /* partitions now */
	uint32_t assigned_n, revoked_n; /* callbacks so far */
	uint64_t revoked_mask; /* what the last on_revoked took */
	uint64_t hist[MAXGEN]; /* VALID | partitions, per generation */
	uint64_t polls, records;
	uint32_t hold; /* parent: stop polling (sleep in own code) */
	uint64_t hold_ns, wake_ns; /* when the hold began and ended */
	uint32_t woke; /* held, then polled again: no revoke seen yet */
	uint32_t late; /* records delivered after waking, before a revoke */
	uint32_t stop; /* parent: close the consumer and exit */
	uint32_t commits;
	uint32_t uncommitted[NPART]; /* processed, not committed yet */
	uint64_t took_ns[NPART]; /* first record after gaining it */
	int64_t first_off[NPART]; /* that record's offset */
};

/* What the members processed in test_kill_under_load. */
struct load {
	uint64_t produced;
	uint32_t cnt[NPART][LOAD_RECORDS]; /* times (p, offset) processed */
	uint32_t seq_at[NPART][LOAD_RECORDS]; /* seq + 1 of the record there */
	uint8_t seen[LOAD_RECORDS]; /* seq processed at least once */
};

struct shm {
	struct t_note note;
	struct mstate m[MAXM];
	int64_t pos[NPART]; /* test_offsets_survive_crash */
	struct load load;
};

/* ---- fixture ------------------------------------------------------------ */

struct fx {
	struct t_daemon d;
	struct shm *s;
	pid_t kids[MAX_KIDS];
	bool may_exit[MAX_KIDS];
};

static struct fx *g_fx; /* the test's, inherited by its children */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || t_daemon_init(&f->d, "groups")) {
		free(f);
		return -1;
	}
	f->s = mmap(NULL, sizeof(*f->s), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (f->s == MAP_FAILED) {
		t_daemon_cleanup(&f->d);
		free(f);
		return -1;
	}
	for (int i = 0; i < MAX_KIDS; i++)
		f->kids[i] = -1;
	g_fx = f;
	*state = f;
	if (t_daemon_start(&f->d))
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < MAX_KIDS; i++) {
		if (f->kids[i] <= 0)
			continue;
		kill(f->kids[i], SIGKILL);
		waitpid(f->kids[i], NULL, 0);
	}
	t_daemon_cleanup(&f->d);
	munmap(f->s, sizeof(*f->s));
	free(f);
	g_fx = NULL;
	return 0;
}

static pid_t kid_start(struct fx *f, int (*fn)(void *), void *arg,
		       bool may_exit)
{
	pid_t pid = t_fork_clean(fn, arg);

	assert_true(pid > 0);
	for (int i = 0; i < MAX_KIDS; i++) {
		if (f->kids[i] <= 0) {
			f->kids[i] = pid;
			f->may_exit[i] = may_exit;
			return pid;
		}
	}
	fail_msg("too many children");
	return -1;
}

/* Wait for a child (deadline) and forget it.  Return: as t_wait_child(). */
static int kid_wait(struct fx *f, pid_t pid, int ms)
{
	int st = t_wait_child(pid, ms);

	for (int i = 0; i < MAX_KIDS; i++)
		if (f->kids[i] == pid)
			f->kids[i] = -1;
	return st;
}

static void fail_with_log(struct fx *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void fail_with_log(struct fx *f, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	t_daemon_print_log(&f->d);
	fail_msg("%s", msg);
}

/* The daemon must survive until SIGTERM, exit 0 and leak nothing. */
static void daemon_term(struct fx *f)
{
	if (t_daemon_term(&f->d))
		fail_msg("sfshmd did not exit cleanly on SIGTERM");
}

/* A child that failed said why; one that died unexpectedly fails too. */
static void check_kids(struct fx *f)
{
	const char *note = t_note_msg(&f->s->note);

	if (note[0])
		fail_with_log(f, "child: %s", note);
	for (int i = 0; i < MAX_KIDS; i++) {
		siginfo_t si = { 0 };

		if (f->kids[i] <= 0 || f->may_exit[i])
			continue;
		if (waitid(P_PID, (id_t)f->kids[i], &si,
			   WEXITED | WNOHANG | WNOWAIT) == 0 &&
		    si.si_pid == f->kids[i])
			fail_with_log(f, "child %d ended early (code %d, %d)",
				      (int)si.si_pid, si.si_code, si.si_status);
	}
}

/* Poll cond() until it holds or @ms pass.  Return: whether it held. */
static bool wait_for(struct fx *f, bool (*cond)(struct fx *, const void *),
		     const void *arg, int ms)
{
	uint64_t deadline = T_DEADLINE((uint64_t)ms);
	const struct timespec tick = { 0, 200 * 1000 };

	for (;;) {
		check_kids(f);
		if (cond(f, arg))
			return true;
		if (t_now_ms() >= deadline)
			return cond(f, arg);
		nanosleep(&tick, NULL);
	}
}

/* ---- clients ------------------------------------------------------------ */

static int connect_as(const struct fx *f, const char *id,
		      struct sfshm_client **c)
{
	struct sfshm_client_opts o = { .size = sizeof(o),
				       .run_dir = f->d.run_dir,
				       .client_id = id,
				       .timeout_ms = SCALED(5000) };

	return sfshm_connect(&o, c);
}

static struct sfshm_client *connect_ok(struct fx *f, const char *id)
{
	struct sfshm_client *c = NULL;
	int err = connect_as(f, id, &c);

	if (err)
		fail_with_log(f, "connect: %s", sfshm_strerror(err));
	return c;
}

static void topic_n(struct fx *f, const char *name, uint32_t parts)
{
	struct sfshm_client *c = connect_ok(f, "test_groups");
	struct sfshm_topic_config cfg;
	int err;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = parts;
	cfg.ring_bytes = 1u << 20;
	err = sfshm_topic_create(c, name, &cfg);
	if (err)
		fail_msg("create %s: %s (%s)", name, sfshm_strerror(err),
			 sfshm_last_error(c));
	sfshm_disconnect(c);
}

static void topic_ok(struct fx *f, const char *name)
{
	topic_n(f, name, NPART);
}

/* Send @n records to each partition of @topic, acknowledged. */
static void produce_each(struct fx *f, const char *topic, int n)
{
	struct sfshm_client *c = connect_ok(f, "test_groups-producer");
	struct sfshm_producer *p = NULL;
	char value[16] = "parent";

	assert_int_equal(sfshm_producer_open(c, topic, NULL, &p), 0);
	for (int part = 0; part < NPART; part++) {
		for (int i = 0; i < n; i++) {
			struct sfshm_rec rec = { .key = NULL,
						 .key_len = -1,
						 .value = value,
						 .value_len = sizeof(value) };

			assert_int_equal(
				sfshm_producer_send(p, part, &rec, NULL), 0);
		}
	}
	assert_int_equal(sfshm_producer_flush(p, SCALED(30000)), 0);
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

/* ---- a member process --------------------------------------------------- */

static bool g_fresh[NPART]; /* child-local: no record since assigned */

static uint64_t tp_mask(const struct sfshm_tp *tps, unsigned n)
{
	uint64_t mask = 0;

	for (unsigned i = 0; i < n; i++)
		if (tps[i].partition >= 0 && tps[i].partition < NPART)
			mask |= 1ull << tps[i].partition;
	return mask;
}

/* Commit the positions; on success nothing is uncommitted any more. */
static int commit_now(struct mstate *st, struct sfshm_consumer *cons)
{
	int err = sfshm_consumer_commit(cons, false);

	if (!err) {
		for (int p = 0; p < NPART; p++)
			ST(st->uncommitted[p], 0);
		ADD(st->commits, 1);
	}
	return err;
}

static void on_assigned(void *arg, struct sfshm_consumer *cons,
			const struct sfshm_tp *tps, unsigned n)
{
	struct mstate *st = arg;
	uint64_t mask = tp_mask(tps, n);
	int32_t gen = sfshm_consumer_generation(cons);

	if (gen < 0 || gen >= MAXGEN) {
		t_note_set(&g_fx->s->note, "%s: assigned in generation %d",
			   st->cfg.client_id, gen);
		return;
	}
	for (int p = 0; p < NPART; p++) {
		if (!(mask & (1ull << p)))
			continue;
		g_fresh[p] = true;
		ST(st->uncommitted[p], 0);
	}
	ST(st->hist[gen], mask | VALID);
	ST(st->owned, mask);
	ST(st->gen, gen);
	ADD(st->assigned_n, 1);
}

static void on_revoked(void *arg, struct sfshm_consumer *cons,
		       const struct sfshm_tp *tps, unsigned n)
{
	struct mstate *st = arg;
	bool fenced = LD(st->woke);

	if (st->cfg.commit && n) {
		int err = commit_now(st, cons);

		/* A fenced member's commit is refused: it lost them. */
		if (err && !(fenced && err == -ESTALE))
			t_note_set(&g_fx->s->note, "%s: commit on revoke: %s",
				   st->cfg.client_id, sfshm_strerror(err));
	}
	if (n)
		ST(st->revoked_mask, tp_mask(tps, n));
	ST(st->owned, 0);
	ST(st->gen, -1);
	ST(st->woke, 0);
	ADD(st->revoked_n, 1);
}

/* The record checks and bookkeeping of a member. */
static void track(struct mstate *st, const struct sfshm_record *r)
{
	struct load *l = &g_fx->s->load;
	uint32_t p = (uint32_t)r->partition;
	uint64_t seq, chk;
	uint32_t prev;

	if (r->value_len != 16 || r->offset < 0 || r->offset >= LOAD_RECORDS) {
		t_note_set(&g_fx->s->note, "%s: odd record %d-%" PRId64,
			   st->cfg.client_id, r->partition, r->offset);
		return;
	}
	memcpy(&seq, r->value, 8);
	memcpy(&chk, (const char *)r->value + 8, 8);
	if (chk != ~seq || seq >= LOAD_RECORDS) {
		t_note_set(&g_fx->s->note, "%s: bad value at %u-%" PRId64,
			   st->cfg.client_id, p, r->offset);
		return;
	}
	prev = __atomic_exchange_n(&l->seq_at[p][r->offset], (uint32_t)seq + 1,
				   __ATOMIC_ACQ_REL);
	if (prev && prev != seq + 1)
		t_note_set(&g_fx->s->note,
			   "%u-%" PRId64 " held seq %u, now %" PRIu64, p,
			   r->offset, prev - 1, seq);
	ADD(l->cnt[p][r->offset], 1);
	ST(l->seen[seq], 1);
}

static void process(struct mstate *st, const struct sfshm_record *r)
{
	uint32_t p = (uint32_t)r->partition;

	if (p >= NPART || !(LD(st->owned) & (1ull << p))) {
		t_note_set(&g_fx->s->note,
			   "%s: record of partition %d, which it does not own",
			   st->cfg.client_id, r->partition);
		return;
	}
	if (LD(st->woke))
		ADD(st->late, 1);
	if (g_fresh[p]) {
		g_fresh[p] = false;
		ST(st->first_off[p], r->offset);
		ST(st->took_ns[p], t_now_ns());
	}
	/* Counted before it is marked processed: a SIGKILL in between
	 * overstates the bound on duplicates, never understates it. */
	ADD(st->uncommitted[p], 1);
	if (st->cfg.track)
		track(st, r);
	ADD(st->records, 1);
}

static bool any_uncommitted(struct mstate *st)
{
	for (int p = 0; p < NPART; p++)
		if (LD(st->uncommitted[p]))
			return true;
	return false;
}

/* Stop polling while the parent says so: the application is busy. */
static void hold_still(struct mstate *st)
{
	ST(st->hold_ns, t_now_ns());
	while (LD(st->hold))
		t_sleep_us(1000);
	ST(st->wake_ns, t_now_ns());
	ST(st->woke, 1);
}

static int member_open(struct mstate *st, struct sfshm_client **c,
		       struct sfshm_consumer **cons)
{
	const struct mcfg *m = &st->cfg;
	struct sfshm_consumer_opts o = {
		.size = sizeof(o),
		.wait = SFSHM_WAIT_FUTEX,
		.group_id = m->group,
		.instance_id = m->instance[0] ? m->instance : NULL,
		.assignor = m->assignor[0] ? m->assignor : NULL,
		.max_poll_ms = m->max_poll_ms,
		.session_ms = m->session_ms,
		.auto_commit_ms = m->auto_commit_ms,
		.on_revoked = on_revoked,
		.on_assigned = on_assigned,
		.cb_arg = st,
	};
	const char *topics[] = { m->topic };
	int err = connect_as(g_fx, m->client_id, c);

	if (!err)
		err = sfshm_consumer_open(*c, &o, cons);
	if (!err)
		err = sfshm_consumer_subscribe(*cons, topics, 1);
	if (err)
		t_note_set(&g_fx->s->note, "%s: joining: %s (%s)", m->client_id,
			   sfshm_strerror(err), *c ? sfshm_last_error(*c) : "");
	return err;
}

static int member_loop(struct mstate *st, struct sfshm_consumer *cons)
{
	uint64_t last_commit = t_now_ms();

	while (!LD(st->stop)) {
		struct sfshm_record rec;
		int n;

		if (LD(st->hold))
			hold_still(st);
		n = sfshm_consumer_poll(cons, &rec, 10);
		ADD(st->polls, 1);
		if (n < 0) {
			t_note_set(&g_fx->s->note, "%s: poll: %s",
				   st->cfg.client_id, sfshm_strerror(n));
			return 1;
		}
		if (n == 1)
			process(st, &rec);
		if (!st->cfg.commit ||
		    t_now_ms() - last_commit < COMMIT_EVERY_MS ||
		    !any_uncommitted(st))
			continue;
		n = commit_now(st, cons);
		last_commit = t_now_ms();
		if (n && n != -ESTALE) {
			t_note_set(&g_fx->s->note, "%s: commit: %s",
				   st->cfg.client_id, sfshm_strerror(n));
			return 1;
		}
	}
	return 0;
}

static int member_main(void *arg)
{
	struct mstate *st = arg;
	struct sfshm_client *c = NULL;
	struct sfshm_consumer *cons = NULL;
	int rc = member_open(st, &c, &cons) ? 1 : 0;

	if (!rc) {
		ST(st->joined, 1);
		rc = member_loop(st, cons);
	}
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
	return rc;
}

/* ---- steering members from the parent ----------------------------------- */

static struct mcfg member_cfg(const char *group, const char *topic,
			      const char *id)
{
	struct mcfg m = { .max_poll_ms = 0, .auto_commit_ms = -1 };

	snprintf(m.group, sizeof(m.group), "%s", group);
	snprintf(m.topic, sizeof(m.topic), "%s", topic);
	snprintf(m.client_id, sizeof(m.client_id), "%s", id);
	return m;
}

static pid_t member_run(struct fx *f, int slot, const struct mcfg *cfg,
			int (*fn)(void *), bool may_exit)
{
	struct mstate *st = &f->s->m[slot];

	memset(st, 0, sizeof(*st));
	st->cfg = *cfg;
	st->gen = -1;
	for (int p = 0; p < NPART; p++)
		st->first_off[p] = -1;
	return kid_start(f, fn, st, may_exit);
}

static pid_t member_start(struct fx *f, int slot, const struct mcfg *cfg)
{
	return member_run(f, slot, cfg, member_main, false);
}

/* Ask a member to leave and exit; it must exit 0. */
static void member_stop(struct fx *f, int slot, pid_t pid)
{
	int st;

	ST(f->s->m[slot].stop, 1);
	st = kid_wait(f, pid, WAIT_MS);
	if (st)
		fail_with_log(f, "member %s exited with %d",
			      f->s->m[slot].cfg.client_id, st);
}

/*
 * SIGKILL a member and reap it (waitpid blocks: SIGKILL is prompt).
 * @sent_ns: when the signal went, or NULL.
 * Return: when it was reaped (CLOCK_MONOTONIC ns).
 */
static uint64_t member_kill(struct fx *f, pid_t pid, uint64_t *sent_ns)
{
	int st = 0;

	if (sent_ns)
		*sent_ns = t_now_ns();
	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	for (int i = 0; i < MAX_KIDS; i++)
		if (f->kids[i] == pid)
			f->kids[i] = -1;
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	return t_now_ns();
}

static int popcount(uint64_t x)
{
	return __builtin_popcountll(x);
}

/* Members that all settled in one generation that covers every partition. */
struct want {
	int slot[MAXM];
	int n;
	int32_t after; /* the generation must be above this */
};

static bool settled(struct fx *f, const void *arg)
{
	const struct want *w = arg;
	int32_t g = -1;
	uint64_t all = 0;

	for (int i = 0; i < w->n; i++) {
		struct mstate *st = &f->s->m[w->slot[i]];
		int32_t gi = LD(st->gen);
		uint64_t h;

		if (!LD(st->joined) || gi <= w->after || gi >= MAXGEN ||
		    (i && gi != g))
			return false;
		g = gi;
		h = LD(st->hist[gi]);
		if (!(h & VALID) || (h & all & FULL))
			return false;
		all |= h & FULL;
	}
	return all == FULL;
}

/* Wait until the members of @w settle; return their generation. */
static int32_t wait_settled(struct fx *f, const struct want *w)
{
	if (!wait_for(f, settled, w, WAIT_MS)) {
		for (int i = 0; i < w->n; i++) {
			struct mstate *st = &f->s->m[w->slot[i]];

			fprintf(stderr, "  %s: gen %d owns 0x%" PRIx64 "\n",
				st->cfg.client_id, LD(st->gen), LD(st->owned));
		}
		fail_with_log(f, "the group did not settle in %d ms", WAIT_MS);
	}
	return LD(f->s->m[w->slot[0]].gen);
}

static uint64_t mask_of(struct fx *f, int slot, int32_t gen)
{
	return LD(f->s->m[slot].hist[gen]) & FULL;
}

/* ---- 1. assignments ------------------------------------------------------ */

/* Range: consecutive runs in member order, the first P%M one longer. */
static uint64_t range_mask(int k, int m)
{
	int base = NPART / m, extra = NPART % m;
	int start = k * base + (k < extra ? k : extra);
	int cnt = base + (k < extra);

	return ((1ull << cnt) - 1) << start;
}

/* Roundrobin: partition p to member p % M. */
static uint64_t rr_mask(int k, int m)
{
	uint64_t mask = 0;

	for (int p = 0; p < NPART; p++)
		if (p % m == k)
			mask |= 1ull << p;
	return mask;
}

/*
 * Every generation up to @upto that any of the @n members reported: each
 * partition owned by exactly one of them.
 */
static void check_gens(struct fx *f, const int *slots, int n, int32_t from,
		       int32_t upto)
{
	for (int32_t g = from; g <= upto; g++) {
		uint64_t all = 0;
		bool any = false;

		for (int i = 0; i < n; i++) {
			uint64_t h = LD(f->s->m[slots[i]].hist[g]);

			if (!(h & VALID))
				continue;
			any = true;
			if (h & all & FULL)
				fail_msg("generation %d: partitions 0x%" PRIx64
					 " owned twice",
					 g, (uint64_t)(h & all & FULL));
			all |= h & FULL;
		}
		if (any && all != FULL)
			fail_msg("generation %d: owned 0x%" PRIx64 ", not all",
				 g, (uint64_t)all);
	}
}

static void check_generations(struct fx *f, const int *slots, int n,
			      int32_t upto)
{
	check_gens(f, slots, n, 0, upto);
}

/*
 * Sticky: every generation is balanced, and each member keeps as many of
 * its partitions of its previous generation as the balance allows:
 * |new & prev| = min(|prev|, |new|) (equal subscriptions).
 */
static void check_sticky(struct fx *f, const int *slots, int n, int32_t upto)
{
	for (int i = 0; i < n; i++) {
		uint64_t prev = 0;
		bool have = false;

		for (int32_t g = 0; g <= upto; g++) {
			uint64_t h = LD(f->s->m[slots[i]].hist[g]);
			int keep, want;

			if (!(h & VALID))
				continue;
			h &= FULL;
			keep = popcount(h & prev);
			want = popcount(prev) < popcount(h) ? popcount(prev) :
							      popcount(h);
			if (have && keep != want)
				fail_msg("sticky, %s, generation %d: 0x%" PRIx64
					 " after 0x%" PRIx64
					 " keeps %d, not %d",
					 f->s->m[slots[i]].cfg.client_id, g, h,
					 prev, keep, want);
			prev = h;
			have = true;
		}
	}
}

static void check_balanced(struct fx *f, const int *slots, int n, int32_t g)
{
	int lo = NPART, hi = 0;

	for (int i = 0; i < n; i++) {
		int c = popcount(mask_of(f, slots[i], g));

		lo = c < lo ? c : lo;
		hi = c > hi ? c : hi;
	}
	if (hi - lo > 1)
		fail_msg("generation %d unbalanced: %d to %d partitions", g, lo,
			 hi);
}

/* What assignor @a must have given slot i of @n members (0: check by
 * property instead). */
static uint64_t expected(const char *a, int k, int n)
{
	if (!strcmp(a, "range"))
		return range_mask(k, n);
	if (!strcmp(a, "roundrobin"))
		return rr_mask(k, n);
	return 0;
}

static void check_assignor(struct fx *f, const char *a, const int *slots, int n,
			   int32_t g)
{
	check_balanced(f, slots, n, g);
	for (int i = 0; i < n; i++) {
		uint64_t want = expected(a, i, n);
		uint64_t got = mask_of(f, slots[i], g);

		if (want && got != want)
			fail_msg("%s, %d members: %s got 0x%" PRIx64
				 ", not 0x%" PRIx64,
				 a, n, f->s->m[slots[i]].cfg.client_id, got,
				 want);
	}
}

static void one_assignor(struct fx *f, const char *a)
{
	static const char *const names[] = { "a", "b", "c" };
	struct want w = { .slot = { 0, 1, 2 }, .n = 3, .after = -1 };
	pid_t pid[3];
	char group[32], id[32];
	int32_t g3, g2;

	snprintf(group, sizeof(group), "g1-%s", a);
	for (int i = 0; i < 3; i++) {
		struct mcfg m;

		snprintf(id, sizeof(id), "g1-%s", names[i]);
		m = member_cfg(group, "t1", id);
		snprintf(m.assignor, sizeof(m.assignor), "%s", a);
		pid[i] = member_start(f, i, &m);
	}
	g3 = wait_settled(f, &w);
	check_generations(f, w.slot, 3, g3);
	check_assignor(f, a, w.slot, 3, g3);
	/* The last one leaves: two left. */
	member_stop(f, 2, pid[2]);
	w.n = 2;
	w.after = g3;
	g2 = wait_settled(f, &w);
	check_generations(f, w.slot, 3, g2);
	check_assignor(f, a, w.slot, 2, g2);
	if (!strcmp(a, "sticky"))
		check_sticky(f, w.slot, 3, g2);
	printf("  %-10s 3 members: %02" PRIx64 " %02" PRIx64 " %02" PRIx64
	       " (gen %d); 2: %02" PRIx64 " %02" PRIx64 " (gen %d)\n",
	       a, mask_of(f, 0, g3), mask_of(f, 1, g3), mask_of(f, 2, g3), g3,
	       mask_of(f, 0, g2), mask_of(f, 1, g2), g2);
	member_stop(f, 0, pid[0]);
	member_stop(f, 1, pid[1]);
}

static void test_assignors(void **state)
{
	struct fx *f = *state;

	topic_ok(f, "t1");
	one_assignor(f, "range");
	one_assignor(f, "roundrobin");
	one_assignor(f, "sticky");
	daemon_term(f);
}

/* ---- 2. SIGKILL under load ------------------------------------------------ */

static int producer_main(void *arg)
{
	struct load *l = &g_fx->s->load;
	struct sfshm_client *c = NULL;
	struct sfshm_producer *p = NULL;
	int err = connect_as(g_fx, "g2-producer", &c);

	(void)arg;
	if (!err)
		err = sfshm_producer_open(c, "t2", NULL, &p);
	for (uint64_t seq = 0; !err && seq < LOAD_RECORDS; seq++) {
		uint64_t v[2] = { seq, ~seq };
		char key[8];
		struct sfshm_rec rec = { .key = key,
					 .value = v,
					 .value_len = sizeof(v) };

		rec.key_len = snprintf(key, sizeof(key), "k%02u",
				       (unsigned)(seq % 64));
		err = sfshm_producer_send(p, SFSHM_PARTITION_ANY, &rec, NULL);
		ST(l->produced, seq + 1);
		if (seq % 20 == 19)
			t_sleep_us(2000); /* about 10000 records/s */
	}
	if (!err)
		err = sfshm_producer_flush(p, SCALED(30000));
	if (err)
		t_note_set(&g_fx->s->note, "producer: %s", sfshm_strerror(err));
	sfshm_producer_close(p);
	sfshm_disconnect(c);
	return err ? 1 : 0;
}

static bool produced_some(struct fx *f, const void *arg)
{
	const struct mstate *victim = arg;

	return LD(f->s->load.produced) >= LOAD_RECORDS / 3 &&
	       LD(victim->records) > 0 &&
	       any_uncommitted((struct mstate *)victim);
}

struct takeover {
	int slots[2];
	uint64_t mask; /* the dead member's partitions */
	uint64_t after_ns; /* the SIGKILL */
	uint64_t at_ns; /* first record of one of them at a survivor */
};

static bool taken_over(struct fx *f, const void *arg)
{
	struct takeover *t = (struct takeover *)arg;

	for (int i = 0; i < 2; i++) {
		struct mstate *st = &f->s->m[t->slots[i]];

		for (int p = 0; p < NPART; p++) {
			uint64_t at = LD(st->took_ns[p]);

			if ((t->mask & (1ull << p)) && at > t->after_ns &&
			    (!t->at_ns || at < t->at_ns))
				t->at_ns = at;
		}
	}
	return t->at_ns != 0;
}

struct ends {
	int64_t end[NPART];
};

static bool all_processed(struct fx *f, const void *arg)
{
	const struct ends *e = arg;

	for (int p = 0; p < NPART; p++)
		for (int64_t o = 0; o < e->end[p]; o++)
			if (!LD(f->s->load.cnt[p][o]))
				return false;
	return true;
}

static void log_ends(struct fx *f, const char *topic, struct ends *e)
{
	struct sfshm_client *c = connect_ok(f, "test_groups");
	struct sfshm_topic_info *ti = NULL;
	int64_t total = 0;

	assert_int_equal(sfshm_topic_describe(c, topic, &ti), 0);
	for (int p = 0; p < NPART; p++) {
		e->end[p] = ti->partitions[p].log_end;
		assert_true(e->end[p] <= LOAD_RECORDS);
		total += e->end[p];
	}
	assert_int_equal(total, LOAD_RECORDS);
	sfshm_topic_info_free(ti);
	sfshm_disconnect(c);
}

/* Duplicates outside @mask must be none; inside, count them. */
static uint64_t count_duplicates(struct fx *f, const struct ends *e,
				 uint64_t mask)
{
	uint64_t dups = 0;

	for (int p = 0; p < NPART; p++) {
		for (int64_t o = 0; o < e->end[p]; o++) {
			uint32_t n = LD(f->s->load.cnt[p][o]);

			if (n > 1 && !(mask & (1ull << p)))
				fail_msg("%d-%" PRId64 " processed %u times, "
					 "not a partition of the dead member",
					 p, o, n);
			dups += n > 1 ? n - 1 : 0;
		}
	}
	return dups;
}

static void test_kill_under_load(void **state)
{
	struct fx *f = *state;
	struct want w = { .slot = { 0, 1, 2 }, .n = 3, .after = -1 };
	static const char *const ids[] = { "g2-a", "g2-b", "g2-c" };
	struct takeover t = { .slots = { 0, 2 } };
	struct mstate *victim = &f->s->m[1];
	struct ends e;
	uint64_t reaped, bound = 0, dups;
	pid_t pid[3], prod;
	int32_t g;

	topic_ok(f, "t2");
	for (int i = 0; i < 3; i++) {
		struct mcfg m = member_cfg("g2", "t2", ids[i]);

		m.commit = true;
		m.track = true;
		pid[i] = member_start(f, i, &m);
	}
	g = wait_settled(f, &w);
	prod = kid_start(f, producer_main, NULL, true);
	/* Kill the middle one while it holds processed, uncommitted ones. */
	if (!wait_for(f, produced_some, victim, WAIT_MS))
		fail_with_log(f, "the members did not start consuming");
	t.mask = LD(victim->owned);
	assert_int_equal(t.mask, mask_of(f, 1, g));
	reaped = member_kill(f, pid[1], &t.after_ns);
	if (!wait_for(f, taken_over, &t, WAIT_MS))
		fail_with_log(f, "no survivor got a record of 0x%" PRIx64,
			      t.mask);
	for (int p = 0; p < NPART; p++)
		bound += LD(victim->uncommitted[p]);
	printf("  SIGKILL to a survivor's first record of the dead "
	       "member's partitions: %.1f ms (goal <= 50 ms)\n",
	       ((double)t.at_ns - (double)reaped) / 1e6);
	assert_true(t.at_ns - t.after_ns < (uint64_t)SCALED(1000) * 1000000);

	assert_int_equal(kid_wait(f, prod, SCALED(60000)), 0);
	log_ends(f, "t2", &e);
	w = (struct want){ .slot = { 0, 2 }, .n = 2, .after = g };
	wait_settled(f, &w);
	if (!wait_for(f, all_processed, &e, WAIT_MS))
		fail_with_log(f, "records were lost");
	for (uint64_t s = 0; s < LOAD_RECORDS; s++)
		if (!LD(f->s->load.seen[s]))
			fail_msg("record %" PRIu64 " never processed", s);
	member_stop(f, 0, pid[0]);
	member_stop(f, 2, pid[2]);
	dups = count_duplicates(f, &e, t.mask);
	printf("  %d records, %" PRIu64 " duplicates; the dead member had "
	       "processed %" PRIu64 " after its last commit (%u commits)\n",
	       LOAD_RECORDS, dups, bound, LD(victim->commits));
	assert_true(dups <= bound);
	daemon_term(f);
}

/* ---- 3. max poll interval -------------------------------------------------- */

struct total {
	int slots[MAXM];
	int n;
	uint64_t records;
};

static bool consumed(struct fx *f, const void *arg)
{
	const struct total *t = arg;
	uint64_t sum = 0;

	for (int i = 0; i < t->n; i++)
		sum += LD(f->s->m[t->slots[i]].records);
	return sum >= t->records;
}

static bool holding(struct fx *f, const void *arg)
{
	return LD(f->s->m[*(const int *)arg].hold_ns) != 0;
}

/* Member @slot stops polling; return once it is out of poll. */
static void hold(struct fx *f, int slot)
{
	ST(f->s->m[slot].hold, 1);
	if (!wait_for(f, holding, &slot, WAIT_MS))
		fail_with_log(f, "member did not stop polling");
}

static bool revoked_after_wake(struct fx *f, const void *arg)
{
	const uint32_t *before = arg;

	return LD(f->s->m[2].revoked_n) > *before && LD(f->s->m[2].wake_ns);
}

static void test_max_poll(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = { "g3-a", "g3-b", "g3-c" };
	struct want w = { .slot = { 0, 1, 2 }, .n = 3, .after = -1 };
	struct total tot = { .slots = { 0, 1, 2 }, .n = 3 };
	struct mstate *c = &f->s->m[2];
	uint64_t mine, took_ms;
	uint32_t revokes;
	int32_t g0, g1, g2;
	pid_t pid[3];

	topic_ok(f, "t3");
	for (int i = 0; i < 3; i++) {
		struct mcfg m = member_cfg("g3", "t3", ids[i]);

		m.commit = true;
		m.max_poll_ms = i == 2 ? 500 : 0;
		pid[i] = member_start(f, i, &m);
	}
	g0 = wait_settled(f, &w);
	produce_each(f, "t3", 10);
	tot.records = 10 * NPART;
	if (!wait_for(f, consumed, &tot, WAIT_MS))
		fail_with_log(f, "records not consumed");
	mine = mask_of(f, 2, g0);
	revokes = LD(c->revoked_n);

	/* C stops polling: after its max poll interval, A and B take all. */
	hold(f, 2);
	w = (struct want){ .slot = { 0, 1 }, .n = 2, .after = g0 };
	g1 = wait_settled(f, &w);
	took_ms = (t_now_ns() - LD(c->hold_ns)) / 1000000;
	printf("  a member silent for %" PRIu64 " ms was replaced "
	       "(max poll 500 ms)\n",
	       took_ms);
	assert_true(took_ms >= 300);
	assert_int_equal(LD(c->revoked_n), revokes); /* it does not know */
	produce_each(f, "t3", 10);
	tot.n = 2; /* A and B read all but what C read before it stopped */
	tot.records = 2 * 10 * NPART - LD(c->records);
	if (!wait_for(f, consumed, &tot, WAIT_MS))
		fail_with_log(f, "A and B did not consume C's partitions");

	/* C polls again: fenced, it loses its partitions and rejoins. */
	ST(c->hold, 0);
	if (!wait_for(f, revoked_after_wake, &revokes, WAIT_MS))
		fail_with_log(f, "the fenced member was not told");
	assert_int_equal(LD(c->revoked_mask), mine);
	w = (struct want){ .slot = { 0, 1, 2 }, .n = 3, .after = g1 };
	g2 = wait_settled(f, &w);
	assert_int_equal(LD(c->late), 0);
	check_generations(f, w.slot, 3, g2);
	check_assignor(f, "range", w.slot, 3, g2);
	for (int i = 0; i < 3; i++)
		member_stop(f, i, pid[i]);
	daemon_term(f);
}

/*
 * The same while a rebalance waits for it: a member joins while C holds
 * still, so C is asked to revoke and does not answer; the group goes on
 * without C after its max poll interval.  When C polls again it meets
 * the revoke (it is no member any more) and then the fence, and rejoins
 * without poll failing.
 */
static void test_max_poll_in_rebalance(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = { "g3-a", "g3-b", "g3-c", "g3-d" };
	struct want w = { .slot = { 0, 1, 2 }, .n = 3, .after = -1 };
	struct mstate *c = &f->s->m[2];
	uint32_t revokes;
	uint64_t mine;
	int32_t g0, g1, g2;
	pid_t pid[4];

	topic_ok(f, "t3");
	for (int i = 0; i < 3; i++) {
		struct mcfg m = member_cfg("g3", "t3", ids[i]);

		m.commit = true;
		m.max_poll_ms = i == 2 ? 500 : 0;
		pid[i] = member_start(f, i, &m);
	}
	g0 = wait_settled(f, &w);
	mine = mask_of(f, 2, g0);
	revokes = LD(c->revoked_n);
	hold(f, 2);
	{
		struct mcfg m = member_cfg("g3", "t3", ids[3]);

		m.commit = true;
		pid[3] = member_start(f, 3, &m);
	}
	w = (struct want){ .slot = { 0, 1, 3 }, .n = 3, .after = g0 };
	g1 = wait_settled(f, &w);
	ST(c->hold, 0);
	if (!wait_for(f, revoked_after_wake, &revokes, WAIT_MS))
		fail_with_log(f, "the fenced member was not told");
	assert_int_equal(LD(c->revoked_mask), mine);
	w = (struct want){ .slot = { 0, 1, 2, 3 }, .n = 4, .after = g1 };
	g2 = wait_settled(f, &w);
	assert_int_equal(LD(c->late), 0);
	check_generations(f, w.slot, 4, g2);
	for (int i = 0; i < 4; i++)
		member_stop(f, i, pid[i]);
	daemon_term(f);
}

/* ---- one client, two groups ------------------------------------------ */

/*
 * One client, two consumers in two groups: each gets its own group's
 * notices, whichever polls first.
 */
static void test_two_groups_one_client(void **state)
{
	struct fx *f = *state;
	struct sfshm_client *c;
	struct sfshm_consumer *cons[2] = { NULL, NULL };
	const char *groups[] = { "g7-x", "g7-y" };
	const char *topics[] = { "t7" };
	uint64_t deadline;
	bool done = false;

	topic_ok(f, "t7");
	c = connect_ok(f, "g7");
	for (int i = 0; i < 2; i++) {
		struct sfshm_consumer_opts o = { .size = sizeof(o),
						 .group_id = groups[i],
						 .auto_commit_ms = -1 };

		assert_int_equal(sfshm_consumer_open(c, &o, &cons[i]), 0);
		assert_int_equal(sfshm_consumer_subscribe(cons[i], topics, 1),
				 0);
	}
	deadline = T_DEADLINE((uint64_t)WAIT_MS);
	while (!done && t_now_ms() < deadline) {
		done = true;
		for (int i = 0; i < 2; i++) {
			struct sfshm_record rec;
			struct sfshm_tp *tps;
			unsigned n;

			assert_true(sfshm_consumer_poll(cons[i], &rec, 1) >= 0);
			assert_int_equal(sfshm_consumer_assignment(cons[i],
								   &tps, &n),
					 0);
			free(tps);
			done &= n == NPART;
		}
	}
	for (int i = 0; i < 2; i++) {
		printf("  %s: generation %d\n", groups[i],
		       sfshm_consumer_generation(cons[i]));
		sfshm_consumer_close(cons[i]);
	}
	sfshm_disconnect(c);
	assert_true(done);
	daemon_term(f);
}

/* ---- 4. static membership ------------------------------------------------ */

struct polled {
	uint64_t polls[2];
};

static bool both_polled(struct fx *f, const void *arg)
{
	const struct polled *p = arg;

	return LD(f->s->m[0].polls) > p->polls[0] + 20 &&
	       LD(f->s->m[1].polls) > p->polls[1] + 20;
}

static bool assigned_once(struct fx *f, const void *arg)
{
	return LD(f->s->m[*(const int *)arg].assigned_n) > 0;
}

static void test_static_member(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = { "g4-a", "g4-b", "g4-s" };
	struct want w = { .slot = { 0, 1, 2 }, .n = 3, .after = -1 };
	struct mstate *a = &f->s->m[0], *b = &f->s->m[1];
	uint32_t counts[4];
	struct mcfg scfg;
	struct polled pl;
	uint64_t mine, killed, gone_ms;
	pid_t pid[4];
	int32_t g, g2;
	int slot = 3;

	topic_ok(f, "t4");
	for (int i = 0; i < 3; i++) {
		struct mcfg m = member_cfg("g4", "t4", ids[i]);

		if (i == 2) {
			snprintf(m.instance, sizeof(m.instance), "s4");
			m.session_ms = 3000;
			scfg = m;
		}
		pid[i] = member_start(f, i, &m);
	}
	g = wait_settled(f, &w);
	mine = mask_of(f, 2, g);
	assert_int_equal(popcount(mine), 2);
	counts[0] = LD(a->assigned_n);
	counts[1] = LD(a->revoked_n);
	counts[2] = LD(b->assigned_n);
	counts[3] = LD(b->revoked_n);

	/* Killed and back within the grace period: same partitions, no
	 * rebalance (the generation it gets is the one it left). */
	killed = member_kill(f, pid[2], NULL);
	pid[3] = member_start(f, 3, &scfg);
	if (!wait_for(f, assigned_once, &slot, WAIT_MS))
		fail_with_log(f, "the static member got no assignment");
	printf("  static member back after %.1f ms\n",
	       (double)(t_now_ns() - killed) / 1e6);
	assert_int_equal(LD(f->s->m[3].gen), g);
	assert_int_equal(LD(f->s->m[3].owned), mine);
	pl.polls[0] = LD(a->polls);
	pl.polls[1] = LD(b->polls);
	if (!wait_for(f, both_polled, &pl, WAIT_MS))
		fail_with_log(f, "the others stopped polling");
	assert_int_equal(LD(a->gen), g);
	assert_int_equal(LD(b->gen), g);
	assert_int_equal(LD(a->assigned_n), counts[0]);
	assert_int_equal(LD(a->revoked_n), counts[1]);
	assert_int_equal(LD(b->assigned_n), counts[2]);
	assert_int_equal(LD(b->revoked_n), counts[3]);

	/* Away longer than the grace period: the others take its share. */
	member_kill(f, pid[3], &killed);
	w = (struct want){ .slot = { 0, 1 }, .n = 2, .after = g };
	g2 = wait_settled(f, &w);
	gone_ms = (t_now_ns() - killed) / 1000000;
	printf("  static member away: rebalanced after %" PRIu64
	       " ms (session 3000 ms)\n",
	       gone_ms);
	assert_true(gone_ms >= 3000);
	check_gens(f, (const int[]){ 0, 1, 2 }, 3, 0, g);
	check_gens(f, (const int[]){ 0, 1, 3 }, 3, g, g2);
	member_stop(f, 0, pid[0]);
	member_stop(f, 1, pid[1]);
	daemon_term(f);
}

/* ---- 5. offsets across a daemon crash ------------------------------------ */

/* Read 100 records, commit the positions, report them, leave. */
static int committer_main(void *arg)
{
	struct mstate *st = arg;
	struct sfshm_client *c = NULL;
	struct sfshm_consumer *cons = NULL;
	int err = member_open(st, &c, &cons);

	while (!err && LD(st->records) < 100) {
		struct sfshm_record rec;
		int n = sfshm_consumer_poll(cons, &rec, 10);

		if (n < 0)
			err = n;
		else if (n == 1)
			process(st, &rec);
	}
	if (!err)
		err = commit_now(st, cons);
	for (int p = 0; !err && p < NPART; p++) {
		int64_t pos;

		if (sfshm_consumer_position(cons, "t5", p, &pos))
			pos = -1; /* never read: not committed */
		ST(g_fx->s->pos[p], pos);
	}
	if (err)
		t_note_set(&g_fx->s->note, "committer: %s",
			   sfshm_strerror(err));
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
	return err ? 1 : 0;
}

static bool started_all(struct fx *f, const void *arg)
{
	(void)arg;
	for (int p = 0; p < NPART; p++)
		if (LD(f->s->m[1].first_off[p]) < 0)
			return false;
	return true;
}

/* Have all partitions of t5 the committed offset @want in group g5? */
static bool committed_all(struct fx *f, const void *arg)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o), .group_id = "g5" };
	const int64_t *want = arg;
	struct sfshm_consumer *cons = NULL;
	struct sfshm_client *c = connect_ok(f, "test_groups");
	bool all = true;

	assert_int_equal(sfshm_consumer_open(c, &o, &cons), 0);
	for (int p = 0; all && p < NPART; p++) {
		int64_t got = -1;

		all = !sfshm_consumer_committed(cons, "t5", p, &got) &&
		      got == *want;
	}
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
	return all;
}

static void test_offsets_survive_crash(void **state)
{
	struct fx *f = *state;
	struct mcfg m = member_cfg("g5", "t5", "g5-a");
	struct sfshm_consumer_opts o = { .size = sizeof(o), .group_id = "g5" };
	struct sfshm_consumer *cons = NULL;
	struct sfshm_client *c;
	pid_t pid;

	topic_ok(f, "t5");
	produce_each(f, "t5", 40);
	pid = member_run(f, 0, &m, committer_main, true);
	assert_int_equal(kid_wait(f, pid, WAIT_MS), 0);

	/* The daemon dies and comes back. */
	assert_int_equal(t_daemon_stop(&f->d, SIGKILL), 128 + SIGKILL);
	if (t_daemon_start(&f->d))
		fail_msg("sfshmd did not restart");

	c = connect_ok(f, "test_groups");
	assert_int_equal(sfshm_consumer_open(c, &o, &cons), 0);
	for (int p = 0; p < NPART; p++) {
		int64_t want = LD(f->s->pos[p]), got = -1;
		int err = sfshm_consumer_committed(cons, "t5", p, &got);

		printf("  t5-%d: committed %" PRId64 "\n", p, want);
		if (want < 0) {
			assert_int_equal(err, -ENOENT);
		} else {
			assert_int_equal(err, 0);
			assert_int_equal(got, want);
		}
	}
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);

	/* A new member starts exactly there; it auto-commits from poll. */
	m = member_cfg("g5", "t5", "g5-b");
	m.auto_commit_ms = 100;
	pid = member_start(f, 1, &m);
	if (!wait_for(f, started_all, NULL, WAIT_MS))
		fail_with_log(f, "the new member did not read every partition");
	for (int p = 0; p < NPART; p++) {
		int64_t want = LD(f->s->pos[p]);

		assert_int_equal(LD(f->s->m[1].first_off[p]),
				 want < 0 ? 0 : want);
	}
	if (!wait_for(f, committed_all, &(const int64_t){ 40 }, WAIT_MS))
		fail_with_log(f, "auto-commit did not commit the log end");
	member_stop(f, 1, pid);
	daemon_term(f);
}

/* ---- 6. bad input ------------------------------------------------------- */

struct inproc {
	struct sfshm_client *c;
	struct sfshm_consumer *cons;
};

static int inproc_join(struct fx *f, struct inproc *m, const char *id,
		       const char *group, const char *assignor)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o),
					 .group_id = group,
					 .assignor = assignor,
					 .auto_commit_ms = -1 };
	const char *topics[] = { "t6" };

	m->c = connect_ok(f, id);
	assert_int_equal(sfshm_consumer_open(m->c, &o, &m->cons), 0);
	return sfshm_consumer_subscribe(m->cons, topics, 1);
}

static void inproc_close(struct inproc *m)
{
	sfshm_consumer_close(m->cons);
	sfshm_disconnect(m->c);
	m->cons = NULL;
	m->c = NULL;
}

/* Poll the members @poll says (with a short wait) until each of them is
 * in the same generation, above @after.  Return: that generation. */
static int32_t pump(struct inproc *v, int n, const bool *poll, int32_t after)
{
	uint64_t deadline = T_DEADLINE((uint64_t)WAIT_MS);

	for (;;) {
		int32_t g = -1;
		bool ok = true;

		for (int i = 0; i < n; i++) {
			struct sfshm_record rec;
			int32_t gi;

			if (!poll[i])
				continue;
			assert_true(sfshm_consumer_poll(v[i].cons, &rec, 1) >=
				    0);
			gi = sfshm_consumer_generation(v[i].cons);
			if (gi <= after || (g >= 0 && gi != g))
				ok = false;
			g = gi;
		}
		if (ok)
			return g;
		if (t_now_ms() >= deadline)
			fail_msg("members did not get a new generation");
	}
}

static bool owns(struct sfshm_consumer *cons, int32_t p)
{
	struct sfshm_tp *tps;
	unsigned n;
	bool yes = false;

	assert_int_equal(sfshm_consumer_assignment(cons, &tps, &n), 0);
	for (unsigned i = 0; i < n; i++)
		yes |= tps[i].partition == p && !strcmp(tps[i].topic, "t6");
	free(tps);
	return yes;
}

static int commit_one(struct inproc *m, const char *topic, int32_t p,
		      int64_t off)
{
	struct sfshm_tp_offset o = { .topic = topic,
				     .partition = p,
				     .offset = off };

	return sfshm_consumer_commit_offsets(m->cons, &o, 1, false);
}

static void expect_error(struct sfshm_client *c, const char *words)
{
	const char *e = sfshm_last_error(c);

	if (!strstr(e, words))
		fail_msg("error \"%s\" does not say \"%s\"", e, words);
}

/* Options and requests refused before anything joins. */
static void bad_options(struct fx *f)
{
	struct sfshm_consumer_opts o = { .size = sizeof(o) };
	const char *topics[] = { "t6" };
	struct inproc x = { 0 };

	/* No group id. */
	x.c = connect_ok(f, "g6-x");
	assert_int_equal(sfshm_consumer_open(x.c, &o, &x.cons), 0);
	assert_int_equal(sfshm_consumer_subscribe(x.cons, topics, 1), -EINVAL);
	assert_int_equal(sfshm_consumer_commit(x.cons, false), -EINVAL);
	sfshm_consumer_close(x.cons);
	/* Manual assignments, then subscribe. */
	o.group_id = "g6-manual";
	assert_int_equal(sfshm_consumer_open(x.c, &o, &x.cons), 0);
	assert_int_equal(sfshm_consumer_assign(x.cons, "t6", 0,
					       SFSHM_OFFSET_BEGINNING),
			 0);
	assert_int_equal(sfshm_consumer_subscribe(x.cons, topics, 1), -EINVAL);
	inproc_close(&x);
	/* An assignor nobody knows. */
	assert_int_equal(inproc_join(f, &x, "g6-x", "g6-bogus", "bogus"),
			 -EINVAL);
	expect_error(x.c, "unknown assignor");
	inproc_close(&x);
}

static void test_bad_input(void **state)
{
	struct fx *f = *state;
	struct inproc m[3] = { { 0 } }, x = { 0 };
	const char *topics[] = { "t6" };
	int32_t g1, g2, g3;

	topic_n(f, "t6", 1);
	topic_ok(f, "t6-other");
	bad_options(f);

	/* a alone owns t6-0. */
	assert_int_equal(inproc_join(f, &m[0], "g6-a", "g6", "range"), 0);
	assert_int_equal(sfshm_consumer_subscribe(m[0].cons, topics, 1),
			 -EEXIST);
	g1 = pump(m, 1, (const bool[]){ true }, -1);
	assert_true(owns(m[0].cons, 0));

	/* Another assignor in the same group. */
	assert_int_equal(inproc_join(f, &x, "g6-x", "g6", "roundrobin"),
			 -EINVAL);
	expect_error(x.c, "assignor");
	inproc_close(&x);

	/* b joins: a keeps t6-0 (range, a < b), b owns nothing. */
	assert_int_equal(inproc_join(f, &m[1], "g6-b", "g6", NULL), 0);
	g2 = pump(m, 2, (const bool[]){ true, true }, g1);
	assert_true(owns(m[0].cons, 0));
	assert_false(owns(m[1].cons, 0));
	assert_int_equal(commit_one(&m[1], "t6", 0, 1), -EPERM);
	expect_error(m[1].c, "not assigned");
	assert_int_equal(commit_one(&m[0], "t6-other", 0, 1), -EPERM);
	assert_int_equal(commit_one(&m[0], "nope", 0, 1), -ENOENT);
	assert_int_equal(commit_one(&m[0], "t6", 0, 1), 0);

	/* c joins while b does not poll: b owns nothing, so the group
	 * moves on without it, and b's generation is stale. */
	assert_int_equal(inproc_join(f, &m[2], "g6-c", "g6", "range"), 0);
	g3 = pump(m, 3, (const bool[]){ true, false, true }, g2);
	assert_int_equal(sfshm_consumer_generation(m[1].cons), g2);
	assert_int_equal(commit_one(&m[1], "t6", 0, 2), -ESTALE);
	expect_error(m[1].c, "stale generation");
	/* Once b polls it is in the new one, where t6-0 is a's. */
	assert_int_equal(pump(m, 3, (const bool[]){ true, true, true }, g2),
			 g3);
	assert_int_equal(commit_one(&m[1], "t6", 0, 2), -EPERM);
	assert_int_equal(commit_one(&m[0], "t6", 0, 2), 0);
	for (int i = 2; i >= 0; i--)
		inproc_close(&m[i]);
	daemon_term(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_assignors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kill_under_load, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_max_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_poll_in_rebalance,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_groups_one_client,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_member, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_offsets_survive_crash,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup,
						teardown),
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	return t_groups_report("test_groups", T_GROUP("groups", tests));
}
