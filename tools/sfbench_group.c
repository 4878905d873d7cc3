// SPDX-License-Identifier: MIT
/*
 * sfbench_group.c - `sfbench group`: consumer groups on a real sfshmd.
 *
 * Each part starts its own sfshmd with the helpers of sfbench_daemon.c
 * (the one built next to sfbench, fresh dirs, SIGTERM and a clean exit at
 * the end) and runs its members as forked processes that talk to the
 * parent through MAP_SHARED memory, with CLOCK_MONOTONIC timestamps.
 *
 * failover
 * --------
 * A topic of 6 partitions; a producer process sends keyed records at
 * --rate all the time; 3 member processes form a group (range assignor,
 * auto-commit on, the library's defaults otherwise) and poll.  A member
 * publishes what it owns from its on_assigned callback (the generation
 * and a partition mask in one word, cleared by on_revoked) and, per
 * partition, when it delivered the first record of that partition in
 * its current assignment.  --reps times:
 *
 *   kill   the oldest member is SIGKILLed.  Failover = the first record
 *          of one of its partitions delivered by a survivor, minus the
 *          return of waitpid() in the parent (it can be below zero: the
 *          victim's socket closes in do_exit(), before the parent hears
 *          of the death).  "all": when the last of its partitions is
 *          delivered again.
 *   join   a new member process: from just before its
 *          sfshm_consumer_subscribe() until every member owns its share
 *          of the same generation (the last on_assigned of that round).
 *   leave  the oldest member calls sfshm_consumer_close(): from that
 *          call until a survivor delivers one of its partitions.  This
 *          is the in-run baseline: the best a member that leaves can do.
 *   join   again, so that there are 3 members for the next kill.
 *
 * Before each kill or leave the group must be stable with every owned
 * partition delivering, then FO_HOLD_NS pass.  Baseline, not measured:
 * Kafka's default session.timeout.ms, 45 s, the time a Kafka group needs
 * to notice a member that died without leaving.
 *
 * Members check every record: its key maps to its partition (murmur2),
 * its value is intact, offsets and the producer's sequence numbers follow
 * each other within an assignment, an offset delivered again carries the
 * same record, and a new owner starts no later than one past the highest
 * offset anybody delivered (nothing lost at a hand-over; what it delivers
 * again is counted: at-least-once after a kill, nothing after a clean
 * leave).  Any poll error fails the run, saying where each partition was.
 *
 * storm
 * -----
 * --groups groups of --members members each, every member a consumer on
 * its own sfshm_client (its own connection), all subscribing to one topic
 * of 10 partitions.  The members live in --procs processes; member j of
 * group g is in process (g * members + j) % procs.  Each process connects
 * all of its clients, waits at the start line, subscribes them one after
 * the other, then polls them round robin with timeout 0 and sleeps 1 ms
 * between rounds (so heartbeats, every quarter of the default 300 s
 * max.poll.interval.ms capped at 3 s, flow).  Join storm = from the start
 * line until every group has all its members assigned in one generation
 * with its 10 partitions shared out.  Then, after STORM_SETTLE_NS, the
 * daemon's CPU over --steady seconds: utime+stime of /proc/PID/stat, the
 * process CPU clock (judged), wake-ups; and how much the offsets log grew
 * (auto-commits).  Goal: < 5% of one core.
 *
 * Every client is a socket in its process and a socket plus a pidfd in
 * the daemon: the parent raises RLIMIT_NOFILE (soft and hard, which root
 * may) before it forks anything, and the daemon and the workers inherit
 * it.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sfshm/sfshm.h>

#include "sfbench.h"

#define CMD "group"
#define NS 1000000000ull
#define MSEC 1000000ull
#define USEC 1000ull
#define MAX_CPUS 64
#define WATCHDOG_NS (10 * NS) /* waiting longer for a step fails the run */
#define STORM_WATCHDOG_NS (60 * NS) /* no new assignment for this long */

#define FO_TOPIC "failover"
#define FO_GROUP "sfbench-failover"
#define FO_PARTS 6
#define FO_ALL ((1u << FO_PARTS) - 1)
#define FO_MEMBERS 3
#define FO_KEYS 1000 /* distinct keys, "key-N" */
#define FO_VALUE_LEN 32 /* sequence number, send time, pattern */
#define FO_PACE_NS MSEC /* the producer sends what is due every ms */
#define FO_POLL_MS 5
#define FO_SEQ_MAP (1u << 20) /* offsets per partition checked for identity */
#define FO_HOLD_NS (50 * MSEC) /* steady flow before a kill or leave */
#define KAFKA_SESSION_MS 45000.0 /* session.timeout.ms default (3.0+) */

#define ST_TOPIC "storm"
#define ST_PARTS 10
#define ST_ALL ((1u << ST_PARTS) - 1)
#define ST_RING (64u << 10)
#define ST_MAX_PROCS 64
#define ST_FD_RESERVE 256 /* sfshmd's own open files, and the topic's */
#define STORM_SETTLE_NS (500 * MSEC) /* after the storm, before steady */
#define SAMPLE_NS MSEC /* the daemon's control thread, in steady state */
#define SLOW_POLL_NS MSEC /* a poll with timeout 0 that took longer */
#define HB_MAX_S 30.0 /* the library's heartbeat period, at most */

#define GOAL_FAILOVER_MS 50.0
#define GOAL_STEADY_PCT 5.0

enum part {
	PART_FAILOVER = 1,
	PART_STORM = 2,
};

#define NPARTS 2
static const char *const part_names[NPARTS] = { "failover", "storm" };

struct opts {
	unsigned int parts;
	bool json, quick;
	int cpus[MAX_CPUS];
	int ncpus;
	uint64_t reps; /* failover: kills (and as many leaves) */
	uint64_t rate; /* failover: records per second */
	uint64_t groups, members, procs; /* storm */
	double steady_secs; /* storm: the CPU measurement */
	int auto_commit_ms; /* storm: 0 the library default, -1 off */
	char data_base[PATH_MAX];
};

/* ---- small helpers ------------------------------------------------------------ */

static double ms_between(uint64_t from, uint64_t to)
{
	return ((double)to - (double)from) / MSEC;
}

/* The CPU of worker role @i (round robin over --cpu), or -1. */
static int cpu_of(const struct opts *o, int i)
{
	return o->ncpus ? o->cpus[i % o->ncpus] : -1;
}

static void start_daemon(const struct opts *o, struct sfb_daemon *d,
			 const char *tag)
{
	struct sfb_daemon_opts dopts = { o->data_base, o->cpus, o->ncpus };

	sfb_daemon_start(d, &dopts, tag);
}

static void topic_create(const struct sfb_daemon *d, const char *name,
			 uint32_t partitions, uint64_t ring_bytes)
{
	struct sfshm_client *c = sfb_client_open(d);
	struct sfshm_topic_config cfg;
	int err;

	sfshm_topic_config_init(&cfg);
	cfg.partitions = partitions;
	cfg.ring_bytes = ring_bytes;
	err = sfshm_topic_create(c, name, &cfg);
	if (err)
		sfb_fail("cannot create topic %s: %s (%s)", name,
			 sfshm_strerror(err), sfshm_last_error(c));
	sfshm_disconnect(c);
}

/* What a member owns: generation << 32 | partition mask, in one word so
 * that the parent never sees one without the other. */
#define OWN_NONE UINT64_MAX

static uint64_t own_word(int32_t gen, uint32_t mask)
{
	return (uint64_t)(uint32_t)gen << 32 | mask;
}

static int32_t own_gen(uint64_t w)
{
	return w == OWN_NONE ? -1 : (int32_t)(w >> 32);
}

static uint32_t own_mask(uint64_t w)
{
	return w == OWN_NONE ? 0 : (uint32_t)w;
}

/* The partitions in @tps (of @topic, below @nparts) as a mask, or fail. */
static uint32_t tps_mask(const struct sfshm_tp *tps, unsigned n,
			 const char *topic, int nparts)
{
	uint32_t mask = 0;

	for (unsigned i = 0; i < n; i++) {
		if (strcmp(tps[i].topic, topic) || tps[i].partition < 0 ||
		    tps[i].partition >= nparts)
			sfb_fail("assigned %s-%d, not a partition of %s",
				 tps[i].topic, tps[i].partition, topic);
		mask |= 1u << tps[i].partition;
	}
	return mask;
}

/* sfb_spawn() passes one pointer: this travels in the fork's copy of
 * the parent's stack. */
struct start {
	void *sh; /* the part's shared memory */
	int index; /* of the member slot, or of the worker */
};

/* ---- statistics ------------------------------------------------------------- */

struct dstats {
	uint64_t n;
	double min, median, mean, p90, max;
	double *all; /* sorted (owned) */
};

/* Sort @v (@n samples, taken over) and describe it in @s. */
static void dstats_of(double *v, uint64_t n, struct dstats *s)
{
	double sum = 0;

	s->n = n;
	s->all = v;
	if (!n)
		return;
	qsort(v, n, sizeof(*v), sfb_cmp_double);
	for (uint64_t i = 0; i < n; i++)
		sum += v[i];
	s->min = v[0];
	s->median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s->mean = sum / (double)n;
	s->p90 = v[(uint64_t)ceil(0.9 * (double)n) - 1];
	s->max = v[n - 1];
}

/* ---- failover: shared state --------------------------------------------------- */

/* One member process (a new slot for every process started). */
struct fo_slot {
	atomic_int leave; /* the parent asks for sfshm_consumer_close() */
	_Atomic uint64_t owned; /* own_word(), OWN_NONE */
	_Atomic uint64_t t_join; /* before sfshm_consumer_subscribe() */
	_Atomic uint64_t t_joined; /* subscribe returned */
	_Atomic uint64_t t_assigned; /* the last on_assigned */
	_Atomic uint64_t t_close; /* sfshm_consumer_close() called */
	/* Per partition, in the current assignment: when its first record
	 * was delivered (0: not yet), and how many of those records had
	 * been delivered before (by anybody). */
	_Atomic uint64_t t_first[FO_PARTS];
	_Atomic uint64_t again[FO_PARTS];
	_Atomic uint64_t records;
};

struct fo_shared {
	const struct sfb_daemon *d;
	struct sfb_gate gate; /* the producer's start */
	atomic_int stop;
	uint64_t rate;
	_Atomic uint64_t sent;
	_Atomic int64_t last[FO_PARTS]; /* highest offset delivered, -1 */
	/* [p * FO_SEQ_MAP + offset]: the record number delivered there + 1 */
	_Atomic uint64_t *seq_at;
	int nslots;
	struct fo_slot slot[];
};

/* A member process's own view. */
struct fo_member {
	struct fo_shared *sh;
	struct fo_slot *s;
	bool fresh[FO_PARTS]; /* no record delivered in this assignment */
	int64_t prev[FO_PARTS]; /* the offset delivered last */
	uint64_t prev_seq[FO_PARTS]; /* and its record number */
};

/* ---- failover: the processes ---------------------------------------------------- */

static uint64_t get_u64(const void *v, size_t at)
{
	uint64_t x;

	memcpy(&x, (const uint8_t *)v + at, sizeof(x));
	return x;
}

static uint8_t pattern(uint64_t seq)
{
	return (uint8_t)(seq * 7 + 1);
}

static void fo_send(struct sfshm_producer *p, uint64_t seq)
{
	uint8_t val[FO_VALUE_LEN] = { 0 };
	char key[16];
	int klen = snprintf(key, sizeof(key), "key-%" PRIu64, seq % FO_KEYS);
	struct sfshm_rec rec = { .key = key,
				 .key_len = klen,
				 .value = val,
				 .value_len = FO_VALUE_LEN };
	int err;

	sfb_put_u64(val, 0, seq);
	sfb_put_u64(val, 8, sfb_now_ns());
	val[FO_VALUE_LEN - 1] = pattern(seq);
	err = sfshm_producer_send(p, SFSHM_PARTITION_ANY, &rec, NULL);
	if (err)
		sfb_fail("failover: producer: send #%" PRIu64 ": %s", seq,
			 sfshm_strerror(err));
}

/* Sends keyed records at sh->rate until told to stop. */
static void fo_producer(void *arg)
{
	struct fo_shared *sh = arg;
	struct sfshm_client *c = sfb_client_open(sh->d);
	struct sfshm_producer_opts po = { .size = sizeof(po),
					  .acks = SFSHM_ACKS_NONE,
					  .timeout_ms = 30000 };
	struct sfshm_producer *p;
	uint64_t seq = 0, t0;
	int err = sfshm_producer_open(c, FO_TOPIC, &po, &p);

	if (err)
		sfb_fail("failover: cannot open a producer: %s",
			 sfshm_strerror(err));
	sfb_gate_wait(&sh->gate);
	t0 = sfb_now_ns();
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		uint64_t due = (sfb_now_ns() - t0) / 1000 * sh->rate / 1000000;

		for (; seq < due; seq++)
			fo_send(p, seq);
		atomic_store_explicit(&sh->sent, seq, memory_order_relaxed);
		sfb_sleep_ns(FO_PACE_NS);
	}
	sfshm_producer_close(p);
	sfshm_disconnect(c);
}

static void fo_on_assigned(void *arg, struct sfshm_consumer *cons,
			   const struct sfshm_tp *tps, unsigned n)
{
	struct fo_member *m = arg;
	uint32_t mask = tps_mask(tps, n, FO_TOPIC, FO_PARTS);

	for (int p = 0; p < FO_PARTS; p++) {
		m->fresh[p] = mask & (1u << p);
		atomic_store(&m->s->t_first[p], 0);
		atomic_store(&m->s->again[p], 0);
	}
	atomic_store(&m->s->owned,
		     own_word(sfshm_consumer_generation(cons), mask));
	atomic_store(&m->s->t_assigned, sfb_now_ns());
}

static void fo_on_revoked(void *arg, struct sfshm_consumer *cons,
			  const struct sfshm_tp *tps, unsigned n)
{
	struct fo_member *m = arg;

	(void)cons;
	(void)tps;
	(void)n;
	memset(m->fresh, 0, sizeof(m->fresh));
	atomic_store(&m->s->owned, OWN_NONE);
}

static void fo_check_value(const struct sfshm_record *r)
{
	char key[16];
	uint64_t seq;
	int klen;

	if (r->value_len != FO_VALUE_LEN || r->key_len <= 0 ||
	    r->key_len >= (int32_t)sizeof(key))
		sfb_fail("failover: %s-%d@%" PRId64 ": key %d B, value %d B",
			 r->topic, r->partition, r->offset, r->key_len,
			 r->value_len);
	seq = get_u64(r->value, 0);
	klen = snprintf(key, sizeof(key), "key-%" PRIu64, seq % FO_KEYS);
	if (klen != r->key_len || memcmp(key, r->key, (size_t)klen) ||
	    ((const uint8_t *)r->value)[FO_VALUE_LEN - 1] != pattern(seq) ||
	    sfshm_partition_for_key(key, (size_t)klen, FO_PARTS) !=
		    (uint32_t)r->partition)
		sfb_fail("failover: %s-%d@%" PRId64 " is corrupt or on the "
			 "wrong partition (record #%" PRIu64 ")",
			 r->topic, r->partition, r->offset, seq);
}

/* The first record of partition @p in this assignment, at offset @off. */
static void fo_first(struct fo_member *m, int p, int64_t off)
{
	int64_t last = atomic_load(&m->sh->last[p]);

	if (off > last + 1)
		sfb_fail("failover: partition %d starts at offset %" PRId64
			 " after a hand-over, but offset %" PRId64
			 " was never delivered (lost)",
			 p, off, last + 1);
	atomic_store(&m->s->again[p], (uint64_t)(last + 1 - off));
	atomic_store(&m->s->t_first[p], sfb_now_ns());
	m->fresh[p] = false;
}

/*
 * The record at an offset is the same whoever delivers it, and record
 * numbers grow with offsets: a consumer that counted its way to a wrong
 * offset after a hand-over shows here.
 */
static void fo_check_seq(struct fo_member *m, const struct sfshm_record *r,
			 bool first)
{
	uint64_t seq = get_u64(r->value, 0), was = 0;
	int p = r->partition;

	if (!first && seq <= m->prev_seq[p])
		sfb_fail("failover: partition %d: record #%" PRIu64 " at "
			 "offset %" PRId64 " after #%" PRIu64 " at %" PRId64,
			 p, seq, r->offset, m->prev_seq[p], m->prev[p]);
	m->prev_seq[p] = seq;
	if (r->offset >= FO_SEQ_MAP)
		return;
	if (!atomic_compare_exchange_strong(
		    &m->sh->seq_at[(size_t)p * FO_SEQ_MAP + (size_t)r->offset],
		    &was, seq + 1) &&
	    was != seq + 1)
		sfb_fail("failover: partition %d, offset %" PRId64 ": record "
			 "#%" PRIu64 ", where #%" PRIu64 " was delivered "
			 "before (a wrong offset)",
			 p, r->offset, seq, was - 1);
}

static void fo_deliver(struct fo_member *m, const struct sfshm_record *r)
{
	int p = r->partition;
	bool first;
	int64_t last;

	if (p < 0 || p >= FO_PARTS || strcmp(r->topic, FO_TOPIC))
		sfb_fail("failover: a record of %s-%d", r->topic, p);
	fo_check_value(r);
	first = m->fresh[p];
	if (first)
		fo_first(m, p, r->offset);
	else if (r->offset != m->prev[p] + 1)
		sfb_fail("failover: partition %d: offset %" PRId64 " after "
			 "%" PRId64 " (lost, duplicated or reordered)",
			 p, r->offset, m->prev[p]);
	fo_check_seq(m, r, first);
	m->prev[p] = r->offset;
	last = atomic_load(&m->sh->last[p]);
	while (r->offset > last &&
	       !atomic_compare_exchange_weak(&m->sh->last[p], &last, r->offset))
		;
	atomic_fetch_add_explicit(&m->s->records, 1, memory_order_relaxed);
}

static struct sfshm_consumer *fo_subscribe(struct sfshm_client *c,
					   struct fo_member *m)
{
	const char *topics[] = { FO_TOPIC };
	struct sfshm_consumer_opts co = { .size = sizeof(co),
					  .group_id = FO_GROUP,
					  .on_assigned = fo_on_assigned,
					  .on_revoked = fo_on_revoked,
					  .cb_arg = m };
	struct sfshm_consumer *cons;
	int err = sfshm_consumer_open(c, &co, &cons);

	if (err)
		sfb_fail("failover: consumer_open: %s", sfshm_strerror(err));
	atomic_store(&m->s->t_join, sfb_now_ns());
	err = sfshm_consumer_subscribe(cons, topics, 1);
	if (err)
		sfb_fail("failover: subscribe: %s (%s)", sfshm_strerror(err),
			 sfshm_last_error(c));
	atomic_store(&m->s->t_joined, sfb_now_ns());
	return cons;
}

/* Say where a member was when its poll failed, and fail. */
static void fo_poll_failed(const struct fo_member *m,
			   struct sfshm_consumer *cons, int slot, int err)
{
	char where[256] = "";
	size_t len = 0;

	for (int p = 0; p < FO_PARTS && len < sizeof(where) - 64; p++) {
		int64_t pos = -1, com = -1;

		if (sfshm_consumer_position(cons, FO_TOPIC, p, &pos))
			continue;
		sfshm_consumer_committed(cons, FO_TOPIC, p, &com);
		len += (size_t)snprintf(where + len, sizeof(where) - len,
					" %d@%" PRId64 " (committed %" PRId64
					", delivered up to %" PRId64 ")",
					p, pos, com, m->prev[p]);
	}
	sfb_fail("failover: member %d: poll: %s; generation %d, "
		 "partitions:%s",
		 slot, sfshm_strerror(err), sfshm_consumer_generation(cons),
		 where);
}

/* A member: subscribe, poll until stopped or asked to leave. */
static void fo_member_run(struct fo_shared *sh, int slot)
{
	struct fo_member m = { .sh = sh, .s = &sh->slot[slot] };
	struct sfshm_client *c = sfb_client_open(sh->d);
	struct sfshm_consumer *cons = fo_subscribe(c, &m);
	struct sfshm_record rec;

	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed) &&
	       !atomic_load_explicit(&m.s->leave, memory_order_relaxed)) {
		int r = sfshm_consumer_poll(cons, &rec, FO_POLL_MS);

		if (r < 0)
			fo_poll_failed(&m, cons, slot, r);
		if (r == 1)
			fo_deliver(&m, &rec);
	}
	atomic_store(&m.s->t_close, sfb_now_ns());
	sfshm_consumer_close(cons);
	sfshm_disconnect(c);
}

static void fo_member(void *arg)
{
	const struct start *st = arg;

	fo_member_run(st->sh, st->index);
}

/* ---- failover: the parent -------------------------------------------------------- */

/* The member processes alive, oldest first. */
struct fo_live {
	int slot[FO_MEMBERS];
	pid_t pid[FO_MEMBERS];
	int n;
};

struct fo_run {
	const struct opts *o;
	struct fo_shared *sh;
	struct fo_live live;
	pid_t producer;
	int next_slot;
};

static void fo_check_workers(const struct fo_run *fr)
{
	sfb_check_alive(fr->producer, "the failover producer");
	for (int i = 0; i < fr->live.n; i++)
		sfb_check_alive(fr->live.pid[i], "a failover member");
}

/* Every step waits with this: fail if a worker died or it takes 10 s. */
static void fo_tick(const struct fo_run *fr, uint64_t since, const char *what)
{
	fo_check_workers(fr);
	if (sfb_now_ns() - since > WATCHDOG_NS)
		sfb_fail("failover: no %s within 10 s", what);
	sfb_sleep_ns(100 * USEC);
}

/*
 * Is the group stable: every live member owns its share of one
 * generation, all partitions shared out?  Then @t_stable is the last
 * on_assigned of that generation.  With @flowing, every owned partition
 * must also have delivered a record.
 */
static bool fo_stable(const struct fo_run *fr, bool flowing, uint64_t *t_stable)
{
	uint32_t all = 0;
	int32_t gen = -2;
	uint64_t t = 0;

	for (int i = 0; i < fr->live.n; i++) {
		struct fo_slot *s = &fr->sh->slot[fr->live.slot[i]];
		uint64_t w = atomic_load(&s->owned);
		uint32_t mask = own_mask(w);

		if (own_gen(w) < 0 || (gen != -2 && own_gen(w) != gen) ||
		    (all & mask))
			return false;
		gen = own_gen(w);
		all |= mask;
		for (int p = 0; flowing && p < FO_PARTS; p++)
			if ((mask & (1u << p)) && !atomic_load(&s->t_first[p]))
				return false;
		if (atomic_load(&s->t_assigned) > t)
			t = atomic_load(&s->t_assigned);
	}
	*t_stable = t;
	return all == FO_ALL;
}

static uint64_t fo_wait_stable(const struct fo_run *fr, bool flowing)
{
	uint64_t t0 = sfb_now_ns(), t;

	while (!fo_stable(fr, flowing, &t))
		fo_tick(fr, t0, "stable group");
	return t;
}

/* Start a member in a new slot; return once the group is stable again.
 * Return: ms from its subscribe call to the stable group. */
static double fo_join(struct fo_run *fr)
{
	struct start st = { fr->sh, fr->next_slot++ };
	struct fo_slot *s = &fr->sh->slot[st.index];
	uint64_t t_stable;

	if (st.index >= fr->sh->nslots || fr->live.n >= FO_MEMBERS)
		sfb_fail("failover: out of member slots");
	atomic_store(&s->owned, OWN_NONE);
	fr->live.slot[fr->live.n] = st.index;
	fr->live.pid[fr->live.n++] =
		sfb_spawn(fo_member, &st, cpu_of(fr->o, 1));
	t_stable = fo_wait_stable(fr, false);
	return ms_between(atomic_load(&s->t_join), t_stable);
}

/* Take the oldest member out of the live list. */
static void fo_drop_oldest(struct fo_run *fr)
{
	fr->live.n--;
	memmove(fr->live.slot, fr->live.slot + 1,
		(size_t)fr->live.n * sizeof(fr->live.slot[0]));
	memmove(fr->live.pid, fr->live.pid + 1,
		(size_t)fr->live.n * sizeof(fr->live.pid[0]));
}

/* What a kill or leave measured. */
struct fo_event {
	double first_ms, all_ms; /* first / last orphan delivered again */
	double stable_ms; /* until the survivors were all assigned */
	uint64_t again; /* records the new owners delivered again */
};

/*
 * Wait until survivors deliver every partition of @mask with a first
 * record after @after; times from @t0.
 */
static void fo_wait_orphans(const struct fo_run *fr, uint32_t mask,
			    uint64_t after, uint64_t t0, struct fo_event *ev)
{
	uint64_t start = sfb_now_ns(), first = UINT64_MAX, last = 0, t;
	uint32_t left = mask;

	ev->again = 0;
	while (left) {
		for (int i = 0; i < fr->live.n; i++) {
			struct fo_slot *s = &fr->sh->slot[fr->live.slot[i]];

			for (int p = 0; p < FO_PARTS; p++) {
				t = atomic_load(&s->t_first[p]);
				if (!(left & (1u << p)) || t <= after)
					continue;
				left &= ~(1u << p);
				first = t < first ? t : first;
				last = t > last ? t : last;
				ev->again += atomic_load(&s->again[p]);
			}
		}
		if (left)
			fo_tick(fr, start,
				"delivery of the orphaned partitions");
	}
	ev->first_ms = ms_between(t0, first);
	ev->all_ms = ms_between(t0, last);
	ev->stable_ms = ms_between(t0, fo_wait_stable(fr, false));
}

/* The oldest member's partitions, once the group is stable and flowing. */
static uint32_t fo_victim(const struct fo_run *fr)
{
	uint32_t mask;

	fo_wait_stable(fr, true);
	sfb_sleep_ns(FO_HOLD_NS);
	fo_check_workers(fr);
	mask = own_mask(atomic_load(&fr->sh->slot[fr->live.slot[0]].owned));
	if (!mask)
		sfb_fail("failover: the oldest member owns nothing");
	return mask;
}

static void fo_kill(struct fo_run *fr, struct fo_event *ev)
{
	uint32_t mask = fo_victim(fr);
	pid_t pid = fr->live.pid[0];
	uint64_t t_kill, t_death;

	t_kill = sfb_now_ns();
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	t_death = sfb_now_ns();
	fo_drop_oldest(fr);
	fo_wait_orphans(fr, mask, t_kill, t_death, ev);
}

static void fo_leave(struct fo_run *fr, struct fo_event *ev)
{
	uint32_t mask = fo_victim(fr);
	struct fo_slot *s = &fr->sh->slot[fr->live.slot[0]];
	pid_t pid = fr->live.pid[0];
	uint64_t t_ask = sfb_now_ns(), t_close;

	atomic_store(&s->leave, 1);
	while (!(t_close = atomic_load(&s->t_close)))
		fo_tick(fr, t_ask, "sfshm_consumer_close() by the leaver");
	fo_drop_oldest(fr);
	fo_wait_orphans(fr, mask, t_ask, t_close, ev);
	if (!sfb_reap(pid, WATCHDOG_NS))
		sfb_fail("failover: the member that left did not exit 0");
}

/* ---- failover: the part ---------------------------------------------------------- */

struct fo_result {
	uint64_t reps;
	struct dstats kill_first, kill_all, kill_stable;
	struct dstats leave_first, leave_all, join;
	uint64_t again_kill, again_leave; /* records delivered again */
	uint64_t sent, delivered;
	double rate; /* records/s the producer achieved */
};

struct fo_samples {
	double *kf, *ka, *ks, *lf, *la, *j;
};

static void fo_samples_new(struct fo_samples *s, uint64_t reps)
{
	s->kf = sfb_xcalloc(reps, sizeof(double));
	s->ka = sfb_xcalloc(reps, sizeof(double));
	s->ks = sfb_xcalloc(reps, sizeof(double));
	s->lf = sfb_xcalloc(reps, sizeof(double));
	s->la = sfb_xcalloc(reps, sizeof(double));
	s->j = sfb_xcalloc(2 * reps, sizeof(double));
}

static void fo_reps(struct fo_run *fr, struct fo_samples *s,
		    struct fo_result *r)
{
	struct fo_event ev;

	for (uint64_t k = 0; k < fr->o->reps; k++) {
		fo_kill(fr, &ev);
		s->kf[k] = ev.first_ms;
		s->ka[k] = ev.all_ms;
		s->ks[k] = ev.stable_ms;
		r->again_kill += ev.again;
		s->j[2 * k] = fo_join(fr);
		fo_leave(fr, &ev);
		s->lf[k] = ev.first_ms;
		s->la[k] = ev.all_ms;
		r->again_leave += ev.again;
		s->j[2 * k + 1] = fo_join(fr);
	}
}

static struct fo_shared *fo_shared_new(const struct sfb_daemon *d,
				       const struct opts *o, size_t *len)
{
	int nslots = FO_MEMBERS + 2 * (int)o->reps;
	struct fo_shared *sh;

	*len = sizeof(*sh) + (size_t)nslots * sizeof(sh->slot[0]);
	sh = sfb_shm_zalloc(*len);
	sh->d = d;
	sh->rate = o->rate;
	sh->nslots = nslots;
	sh->seq_at =
		sfb_shm_zalloc(FO_PARTS * sizeof(*sh->seq_at) * FO_SEQ_MAP);
	for (int p = 0; p < FO_PARTS; p++)
		atomic_store(&sh->last[p], -1);
	return sh;
}

/* Stop everybody, check they exit 0, count what they did. */
static void fo_finish(struct fo_run *fr, struct fo_result *r)
{
	bool ok = true;

	atomic_store(&fr->sh->stop, 1);
	for (int i = 0; i < fr->live.n; i++)
		ok = sfb_reap(fr->live.pid[i], WATCHDOG_NS) && ok;
	ok = sfb_reap(fr->producer, WATCHDOG_NS) && ok;
	if (!ok)
		sfb_fail("failover: a worker failed at the end");
	r->sent = atomic_load(&fr->sh->sent);
	r->rate = (double)r->sent /
		  ((double)(sfb_now_ns() - fr->sh->gate.t0) / NS);
	for (int i = 0; i < fr->next_slot; i++)
		r->delivered += atomic_load(&fr->sh->slot[i].records);
}

static void fo_measure(const struct opts *o, const struct sfb_daemon *d,
		       struct fo_result *r)
{
	struct fo_run fr = { .o = o };
	struct fo_samples s;
	size_t len;

	fr.sh = fo_shared_new(d, o, &len);
	fo_samples_new(&s, o->reps);
	topic_create(d, FO_TOPIC, FO_PARTS, 0);
	fr.producer = sfb_spawn(fo_producer, fr.sh, cpu_of(o, 0));
	sfb_gate_ready(&fr.sh->gate, 1, &fr.producer);
	sfb_gate_go(&fr.sh->gate);
	for (int i = 0; i < FO_MEMBERS; i++)
		fo_join(&fr);
	fo_reps(&fr, &s, r);
	fo_finish(&fr, r);
	r->reps = o->reps;
	dstats_of(s.kf, o->reps, &r->kill_first);
	dstats_of(s.ka, o->reps, &r->kill_all);
	dstats_of(s.ks, o->reps, &r->kill_stable);
	dstats_of(s.lf, o->reps, &r->leave_first);
	dstats_of(s.la, o->reps, &r->leave_all);
	dstats_of(s.j, 2 * o->reps, &r->join);
	munmap(fr.sh->seq_at, FO_PARTS * sizeof(*fr.sh->seq_at) * FO_SEQ_MAP);
	munmap(fr.sh, len);
}

static void fo_row(const char *what, const struct dstats *s, const char *cmp)
{
	printf("%-38s %5" PRIu64 " %8.2f %8.2f %8.2f %8.2f%s%s\n", what, s->n,
	       s->min, s->median, s->p90, s->max, cmp[0] ? "  " : "", cmp);
}

static void fo_print(const struct fo_result *r)
{
	char cmp[64];

	printf("\nFailover: topic of %d partitions, %d members (range, "
	       "auto-commit), a producer at %.0f records/s;\n%" PRIu64
	       " kills and %" PRIu64 " clean leaves, each followed by a "
	       "new member; ms\n",
	       FO_PARTS, FO_MEMBERS, r->rate, r->reps, r->reps);
	printf("%-38s %5s %8s %8s %8s %8s  %s\n", "event", "n", "min", "median",
	       "p90", "max", "vs");
	snprintf(cmp, sizeof(cmp), "goal <= %.0f; Kafka 45 s: %.0fx median",
		 GOAL_FAILOVER_MS, KAFKA_SESSION_MS / r->kill_first.median);
	fo_row("kill: first orphan delivered", &r->kill_first, cmp);
	fo_row("kill: all orphans delivered", &r->kill_all, "");
	fo_row("kill: survivors all assigned", &r->kill_stable, "");
	snprintf(cmp, sizeof(cmp), "baseline: kill/leave median %.2fx",
		 r->kill_first.median / r->leave_first.median);
	fo_row("leave (close): first delivered", &r->leave_first, cmp);
	fo_row("leave (close): all delivered", &r->leave_all, "");
	fo_row("join: subscribe -> group stable", &r->join, "");
	printf("  kill: from waitpid() of the SIGKILLed member returning in "
	       "the parent to a survivor\n  delivering the first record of "
	       "a partition the dead member owned (below 0: before\n  "
	       "waitpid() returned; its socket closes before its parent "
	       "hears of the death).\n  leave: from the member's "
	       "sfshm_consumer_close() call (commit, leave) likewise.\n"
	       "  survivors all assigned: the last on_assigned of the new "
	       "generation.  join: from a new\n  member's subscribe call to "
	       "every member's on_assigned of one generation.\n");
	printf("  Records delivered again by new owners: %" PRIu64
	       " after %" PRIu64 " kills (from the last commit),\n  %" PRIu64
	       " after %" PRIu64 " leaves.  Sent %" PRIu64
	       ", delivered %" PRIu64
	       "; every record checked.\n  Baseline: Kafka's "
	       "session.timeout.ms default, 45 s (not measured): how long a "
	       "Kafka\n  group takes to notice a member that died without "
	       "leaving.\n",
	       r->again_kill, r->reps, r->again_leave, r->reps, r->sent,
	       r->delivered);
}

static int run_failover(const struct opts *o, struct fo_result *r)
{
	struct sfb_daemon d;

	start_daemon(o, &d, "failover");
	fo_measure(o, &d, r);
	sfb_daemon_stop(&d);
	if (!o->json)
		fo_print(r);
	return 1;
}

/* ---- storm: shared state --------------------------------------------------------- */

struct st_slot {
	_Atomic uint64_t owned; /* own_word(), OWN_NONE */
	_Atomic uint64_t t_assigned;
	_Atomic uint32_t assigns; /* on_assigned calls */
};

/* A worker's polls in the steady window. */
struct st_polls {
	_Atomic uint64_t n, ns, slow, max_ns; /* slow: over SLOW_POLL_NS */
};

struct st_shared {
	const struct sfb_daemon *d;
	struct sfb_gate gate;
	atomic_int stop;
	uint32_t groups, members, procs;
	int auto_commit_ms;
	_Atomic uint64_t t_subscribed[ST_MAX_PROCS]; /* all subscribed */
	atomic_int measure; /* the steady window: workers time their polls */
	struct st_polls polls[ST_MAX_PROCS];
	struct st_slot slot[]; /* group g, member j: g * members + j */
};

/* A member in a worker process. */
struct st_member {
	struct st_shared *sh;
	uint32_t slot;
	char group[32];
	struct sfshm_client *c;
	struct sfshm_consumer *cons;
};

static void st_on_assigned(void *arg, struct sfshm_consumer *cons,
			   const struct sfshm_tp *tps, unsigned n)
{
	struct st_member *m = arg;
	struct st_slot *s = &m->sh->slot[m->slot];
	uint32_t mask = tps_mask(tps, n, ST_TOPIC, ST_PARTS);

	atomic_store(&s->owned,
		     own_word(sfshm_consumer_generation(cons), mask));
	atomic_store(&s->t_assigned, sfb_now_ns());
	atomic_fetch_add(&s->assigns, 1);
}

static void st_on_revoked(void *arg, struct sfshm_consumer *cons,
			  const struct sfshm_tp *tps, unsigned n)
{
	struct st_member *m = arg;

	(void)cons;
	(void)tps;
	(void)n;
	atomic_store(&m->sh->slot[m->slot].owned, OWN_NONE);
}

static void st_open(struct st_member *m)
{
	struct sfshm_consumer_opts co = {
		.size = sizeof(co),
		.group_id = m->group,
		.auto_commit_ms = m->sh->auto_commit_ms,
		.on_assigned = st_on_assigned,
		.on_revoked = st_on_revoked,
		.cb_arg = m,
	};
	int err;

	m->c = sfb_client_open(m->sh->d);
	err = sfshm_consumer_open(m->c, &co, &m->cons);
	if (err)
		sfb_fail("storm: consumer_open: %s", sfshm_strerror(err));
}

static void st_subscribe(struct st_member *m)
{
	const char *topics[] = { ST_TOPIC };
	int err = sfshm_consumer_subscribe(m->cons, topics, 1);

	if (err)
		sfb_fail("storm: %s: subscribe: %s (%s)", m->group,
			 sfshm_strerror(err), sfshm_last_error(m->c));
}

/* The members of worker @k, connected and opened. */
static struct st_member *st_members(struct st_shared *sh, uint32_t k,
				    uint32_t *n)
{
	uint32_t total = sh->groups * sh->members;
	struct st_member *v = sfb_xcalloc(total / sh->procs + 1, sizeof(*v));

	*n = 0;
	for (uint32_t i = k; i < total; i += sh->procs) {
		struct st_member *m = &v[(*n)++];

		m->sh = sh;
		m->slot = i;
		snprintf(m->group, sizeof(m->group), "storm-%05u",
			 i / sh->members);
		st_open(m);
	}
	return v;
}

static void st_count_poll(struct st_polls *p, uint64_t ns)
{
	atomic_fetch_add_explicit(&p->n, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->ns, ns, memory_order_relaxed);
	if (ns > SLOW_POLL_NS)
		atomic_fetch_add_explicit(&p->slow, 1, memory_order_relaxed);
	if (ns > atomic_load_explicit(&p->max_ns, memory_order_relaxed))
		atomic_store_explicit(&p->max_ns, ns, memory_order_relaxed);
}

/* One poll of every member, unless told to stop.  Return: stopped? */
static bool st_poll_round(struct st_shared *sh, struct st_polls *pc,
			  struct st_member *v, uint32_t n)
{
	struct sfshm_record rec;

	for (uint32_t i = 0; i < n; i++) {
		bool timed = atomic_load_explicit(&sh->measure,
						  memory_order_relaxed);
		uint64_t t0 = timed ? sfb_now_ns() : 0;
		int r;

		if (atomic_load_explicit(&sh->stop, memory_order_relaxed))
			return true;
		r = sfshm_consumer_poll(v[i].cons, &rec, 0);
		if (timed)
			st_count_poll(pc, sfb_now_ns() - t0);

		if (r < 0)
			sfb_fail("storm: %s: poll: %s", v[i].group,
				 sfshm_strerror(r));
		if (r > 0)
			sfb_fail("storm: %s: a record on a topic nobody "
				 "produces to",
				 v[i].group);
	}
	return false;
}

/*
 * Worker process k: its members join, then poll until stopped.  It exits
 * at once, without closing them (each close would commit, and revoke the
 * others' partitions): the daemon sees the connections go.
 */
static void st_worker(void *arg)
{
	const struct start *st = arg;
	struct st_shared *sh = st->sh;
	uint32_t k = (uint32_t)st->index, n;
	struct st_member *v = st_members(sh, k, &n);

	sfb_gate_wait(&sh->gate);
	for (uint32_t i = 0; i < n; i++)
		st_subscribe(&v[i]);
	atomic_store(&sh->t_subscribed[k], sfb_now_ns());
	while (!st_poll_round(sh, &sh->polls[k], v, n))
		sfb_sleep_ns(MSEC);
}

/* ---- storm: the parent ----------------------------------------------------------- */

/* Does group @g have all its members in one generation, its partitions
 * shared out?  Then raise *@t to its last on_assigned. */
static bool st_group_done(const struct st_shared *sh, uint32_t g, uint64_t *t)
{
	const struct st_slot *s = &sh->slot[g * sh->members];
	int32_t gen = own_gen(atomic_load(&s[0].owned));
	uint32_t all = 0;

	for (uint32_t j = 0; j < sh->members; j++) {
		uint64_t w = atomic_load(&s[j].owned);
		uint64_t ta = atomic_load(&s[j].t_assigned);

		if (own_gen(w) < 0 || own_gen(w) != gen || (all & own_mask(w)))
			return false;
		all |= own_mask(w);
		*t = ta > *t ? ta : *t;
	}
	return all == ST_ALL;
}

/* How many groups are done; *@t: the last on_assigned among them. */
static uint32_t st_done(const struct st_shared *sh, uint64_t *t)
{
	uint32_t n = 0;

	for (uint32_t g = 0; g < sh->groups; g++)
		n += st_group_done(sh, g, t);
	return n;
}

static uint64_t st_assigns(const struct st_shared *sh)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < sh->groups * sh->members; i++)
		sum += atomic_load(&sh->slot[i].assigns);
	return sum;
}

static void st_check_workers(const pid_t *pids, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++)
		sfb_check_alive(pids[k], "a storm worker");
}

/* Wait until every group is done.  Return: its time (CLOCK_MONOTONIC). */
static uint64_t st_wait_storm(const struct st_shared *sh, const pid_t *pids)
{
	uint64_t since = sfb_now_ns(), seen = 0, t = 0;

	while (st_done(sh, &t) < sh->groups) {
		uint64_t a = st_assigns(sh);

		st_check_workers(pids, sh->procs);
		if (a != seen) {
			seen = a;
			since = sfb_now_ns();
		} else if (sfb_now_ns() - since > STORM_WATCHDOG_NS) {
			sfb_fail("storm: no assignment for 60 s; %u of %u "
				 "groups stable",
				 st_done(sh, &t), sh->groups);
		}
		t = 0;
		sfb_sleep_ns(MSEC);
	}
	return t;
}

/*
 * Where sfshmd's control thread (its main thread: sockets, the group
 * coordinator, the offsets store) spends the steady window: on a CPU and
 * waiting for one from /proc/PID/task/PID/schedstat; the rest, asleep,
 * split by samples every SAMPLE_NS of .../stat (state) and .../wchan.
 */
struct ctl_samples {
	uint64_t secs_ns, cpu_ns, runq_ns; /* window, on CPU, runnable */
	uint64_t n, running, idle, blocked; /* idle: in epoll_wait */
	char top[48]; /* the wchan most often seen when blocked */
	uint64_t top_n;
	struct {
		char name[48];
		uint64_t n;
	} seen[8];
};

static bool read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n > 0;
}

static void ctl_blocked_in(struct ctl_samples *c, const char *wchan)
{
	int i;

	for (i = 0; i < 8 && c->seen[i].name[0]; i++)
		if (!strcmp(c->seen[i].name, wchan))
			break;
	if (i == 8)
		return;
	snprintf(c->seen[i].name, sizeof(c->seen[i].name), "%s", wchan);
	if (++c->seen[i].n > c->top_n) {
		c->top_n = c->seen[i].n;
		snprintf(c->top, sizeof(c->top), "%s", wchan);
	}
}

static void ctl_sample(pid_t pid, struct ctl_samples *c)
{
	char path[64], stat[512], wchan[48] = "";
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)pid);
	if (!read_small(path, stat, sizeof(stat)) || !(p = strrchr(stat, ')')))
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)pid,
		 (int)pid);
	read_small(path, wchan, sizeof(wchan));
	c->n++;
	/* wchan "0": it was woken between the two reads. */
	if (p[2] == 'R' || !strcmp(wchan, "0"))
		c->running++;
	else if (strstr(wchan, "epoll"))
		c->idle++;
	else {
		c->blocked++;
		ctl_blocked_in(c, wchan);
	}
}

/* Time on a CPU and waiting for one, of thread @pid of @pid. */
static void ctl_sched(pid_t pid, uint64_t *cpu, uint64_t *runq)
{
	char path[64], buf[128];
	unsigned long long a = 0, b = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid,
		 (int)pid);
	if (read_small(path, buf, sizeof(buf)))
		sscanf(buf, "%llu %llu", &a, &b);
	*cpu = a;
	*runq = b;
}

/* Sleep until @end, sampling the control thread of @pid. */
static void ctl_watch(pid_t pid, uint64_t end, struct ctl_samples *c)
{
	uint64_t cpu0, runq0, cpu1, runq1, t0 = sfb_now_ns();

	ctl_sched(pid, &cpu0, &runq0);
	while (sfb_now_ns() < end) {
		ctl_sample(pid, c);
		sfb_sleep_ns(SAMPLE_NS);
	}
	ctl_sched(pid, &cpu1, &runq1);
	c->secs_ns = sfb_now_ns() - t0;
	c->cpu_ns = cpu1 - cpu0;
	c->runq_ns = runq1 - runq0;
}

/* Of the window, in %: asleep, split by the samples taken asleep. */
static double ctl_asleep_pct(const struct ctl_samples *c, uint64_t part)
{
	double awake = (double)(c->cpu_ns + c->runq_ns) / (double)c->secs_ns;
	uint64_t asleep = c->idle + c->blocked;

	if (!asleep || awake >= 1)
		return 0;
	return 100.0 * (1 - awake) * (double)part / (double)asleep;
}

/* Bytes in the offsets log's segment files (auto-commits land there). */
static uint64_t offsets_bytes(const struct sfb_daemon *d)
{
	char dir[PATH_MAX + 32], path[2 * PATH_MAX];
	uint64_t sum = 0;
	struct dirent *de;
	struct stat st;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/__consumer_offsets-0", d->data_dir);
	dp = opendir(dir);
	while (dp && (de = readdir(dp))) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!stat(path, &st) && S_ISREG(st.st_mode))
			sum += (uint64_t)st.st_size;
	}
	if (dp)
		closedir(dp);
	return sum;
}

struct st_result {
	uint32_t groups, members, procs;
	int auto_commit_ms;
	double subscribe_s; /* start line -> the last subscribe returned */
	double storm_s; /* start line -> every group stable */
	double storm_cpu_s; /* daemon CPU (clock) meanwhile */
	double gen_mean; /* final generation per group */
	int32_t gen_max;
	uint64_t assigns;
	double steady_s;
	struct sfb_proc_cpu daemon, workers; /* used during steady_s */
	struct ctl_samples ctl; /* sfshmd's control thread, meanwhile */
	uint64_t polls, poll_ns, slow; /* member polls during steady_s */
	uint64_t max_poll_ns;
	uint64_t offsets_bytes; /* offsets log growth during steady_s */
	uint64_t nofile; /* RLIMIT_NOFILE the run had */
	uint32_t asked_groups; /* --groups, before scaling to nofile */
};

static void st_generations(const struct st_shared *sh, struct st_result *r)
{
	double sum = 0;

	r->gen_max = 0;
	for (uint32_t g = 0; g < sh->groups; g++) {
		int32_t gen =
			own_gen(atomic_load(&sh->slot[g * sh->members].owned));

		sum += gen;
		r->gen_max = gen > r->gen_max ? gen : r->gen_max;
	}
	r->gen_mean = sum / sh->groups;
	r->assigns = st_assigns(sh);
}

static void cpu_sum(const pid_t *pids, uint32_t n, struct sfb_proc_cpu *c)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t k = 0; k < n; k++) {
		struct sfb_proc_cpu one;

		sfb_proc_cpu(pids[k], &one);
		c->stat_ns += one.stat_ns;
		c->clock_ns += one.clock_ns;
		c->runs += one.runs;
	}
}

static void cpu_diff(struct sfb_proc_cpu *c, const struct sfb_proc_cpu *a,
		     const struct sfb_proc_cpu *b)
{
	c->stat_ns = b->stat_ns - a->stat_ns;
	c->clock_ns = b->clock_ns - a->clock_ns;
	c->runs = b->runs - a->runs;
}

static void st_polls_sum(const struct st_shared *sh, struct st_result *r)
{
	for (uint32_t k = 0; k < sh->procs; k++) {
		const struct st_polls *p = &sh->polls[k];
		uint64_t max = atomic_load(&p->max_ns);

		r->polls += atomic_load(&p->n);
		r->poll_ns += atomic_load(&p->ns);
		r->slow += atomic_load(&p->slow);
		r->max_poll_ns = max > r->max_poll_ns ? max : r->max_poll_ns;
	}
}

/* The daemon and the workers over --steady seconds. */
static void st_steady(const struct opts *o, const struct sfb_daemon *d,
		      struct st_shared *sh, const pid_t *pids,
		      struct st_result *r)
{
	struct sfb_proc_cpu da, db, wa, wb;
	uint64_t t0, b0;

	sfb_sleep_ns(STORM_SETTLE_NS);
	st_check_workers(pids, sh->procs);
	b0 = offsets_bytes(d);
	atomic_store(&sh->measure, 1);
	sfb_proc_cpu(d->pid, &da);
	cpu_sum(pids, sh->procs, &wa);
	t0 = sfb_now_ns();
	ctl_watch(d->pid, t0 + (uint64_t)(o->steady_secs * NS), &r->ctl);
	sfb_proc_cpu(d->pid, &db);
	cpu_sum(pids, sh->procs, &wb);
	r->steady_s = (double)(sfb_now_ns() - t0) / NS;
	atomic_store(&sh->measure, 0);
	st_polls_sum(sh, r);
	r->offsets_bytes = offsets_bytes(d) - b0;
	cpu_diff(&r->daemon, &da, &db);
	cpu_diff(&r->workers, &wa, &wb);
	st_check_workers(pids, sh->procs);
}

static struct st_shared *st_shared_new(const struct sfb_daemon *d,
				       const struct opts *o, size_t *len)
{
	uint32_t total = (uint32_t)(o->groups * o->members);
	struct st_shared *sh;

	*len = sizeof(*sh) + total * sizeof(sh->slot[0]);
	sh = sfb_shm_zalloc(*len);
	sh->d = d;
	sh->groups = (uint32_t)o->groups;
	sh->members = (uint32_t)o->members;
	sh->procs = (uint32_t)o->procs;
	sh->auto_commit_ms = o->auto_commit_ms;
	for (uint32_t i = 0; i < total; i++)
		atomic_store(&sh->slot[i].owned, OWN_NONE);
	return sh;
}

static void st_spawn(const struct opts *o, struct st_shared *sh, pid_t *pids)
{
	for (uint32_t k = 0; k < sh->procs; k++) {
		struct start st = { sh, (int)k };

		pids[k] = sfb_spawn(st_worker, &st, cpu_of(o, (int)k));
	}
	sfb_gate_ready(&sh->gate, (int)sh->procs, pids);
}

static void st_measure(const struct opts *o, const struct sfb_daemon *d,
		       struct st_result *r)
{
	pid_t pids[ST_MAX_PROCS];
	struct sfb_proc_cpu c0, c1;
	uint64_t t_done, t_sub = 0;
	struct st_shared *sh;
	size_t len;

	sh = st_shared_new(d, o, &len);
	topic_create(d, ST_TOPIC, ST_PARTS, ST_RING);
	st_spawn(o, sh, pids);
	sfb_proc_cpu(d->pid, &c0);
	sfb_gate_go(&sh->gate);
	t_done = st_wait_storm(sh, pids);
	sfb_proc_cpu(d->pid, &c1);
	for (uint32_t k = 0; k < sh->procs; k++)
		if (atomic_load(&sh->t_subscribed[k]) > t_sub)
			t_sub = atomic_load(&sh->t_subscribed[k]);
	r->storm_s = (double)(t_done - sh->gate.t0) / NS;
	r->subscribe_s = (double)(t_sub - sh->gate.t0) / NS;
	r->storm_cpu_s = (double)(c1.clock_ns - c0.clock_ns) / NS;
	st_generations(sh, r);
	st_steady(o, d, sh, pids, r);
	atomic_store(&sh->stop, 1);
	for (uint32_t k = 0; k < sh->procs; k++)
		if (!sfb_reap(pids[k], STORM_WATCHDOG_NS))
			sfb_fail("storm: a worker failed at the end");
	munmap(sh, len);
}

static double pct_of(uint64_t ns, double secs)
{
	return 100.0 * (double)ns / (secs * NS);
}

static void st_print_ctl(const struct ctl_samples *c)
{
	printf("  sfshmd's control thread (sockets, coordinator, offsets "
	       "store): %.1f%% on a CPU,\n  %.1f%% waiting for one, %.1f%% "
	       "blocked (%s: offsets-log writes and fsyncs),\n  %.1f%% "
	       "waiting for requests (epoll_wait); from schedstat and %" PRIu64
	       " samples.\n",
	       pct_of(c->cpu_ns, (double)c->secs_ns / NS),
	       pct_of(c->runq_ns, (double)c->secs_ns / NS),
	       ctl_asleep_pct(c, c->blocked), c->top[0] ? c->top : "-",
	       ctl_asleep_pct(c, c->idle), c->n);
}

static void st_print(const struct st_result *r)
{
	uint32_t total = r->groups * r->members;

	printf("\nJoin storm: %u groups x %u members = %u members, each its "
	       "own connection, in %u processes;\none topic of %d "
	       "partitions, range assignor, auto-commit %s\n",
	       r->groups, r->members, total, r->procs, ST_PARTS,
	       r->auto_commit_ms < 0 ? "off" :
	       r->auto_commit_ms     ? "on (interval set)" :
				       "on (5 s, the default)");
	printf("%-44s %12s\n", "what", "value");
	printf("%-44s %12.3f\n", "every subscribe call returned, s",
	       r->subscribe_s);
	printf("%-44s %12.3f\n", "every member assigned (join storm), s",
	       r->storm_s);
	printf("%-44s %12.3f\n", "daemon CPU during the storm, s",
	       r->storm_cpu_s);
	printf("%-44s %12.2f\n", "generations per group (mean)", r->gen_mean);
	printf("%-44s %12.2f\n", "assignments received per member (mean)",
	       (double)r->assigns / total);
	printf("\nSteady state: every member polls (timeout 0, a 1 ms sleep "
	       "between rounds), %.2f s\n",
	       r->steady_s);
	printf("%-44s %12s %13s %11s\n", "process", "cpu % (stat)",
	       "cpu % (clock)", "wake-ups/s");
	printf("%-44s %12.2f %13.3f %11.0f\n", "sfshmd",
	       pct_of(r->daemon.stat_ns, r->steady_s),
	       pct_of(r->daemon.clock_ns, r->steady_s),
	       (double)r->daemon.runs / r->steady_s);
	printf("%-44s %12.2f %13.3f %11.0f\n", "member processes (all)",
	       pct_of(r->workers.stat_ns, r->steady_s),
	       pct_of(r->workers.clock_ns, r->steady_s),
	       (double)r->workers.runs / r->steady_s);
	printf("  %% of one core.  Heartbeats due: %.0f/s (every member every "
	       "%.0f s).  Offsets log:\n  +%.1f KB/s (auto-commits, one "
	       "fdatasync each).  Member polls (timeout 0): %.0f/s,\n  "
	       "mean %.1f us, %.1f/s over 1 ms, the longest %.1f ms (a poll "
	       "waits for a heartbeat's\n  reply).  RLIMIT_NOFILE %" PRIu64
	       " (inherited by sfshmd).\n",
	       total / HB_MAX_S, HB_MAX_S,
	       (double)r->offsets_bytes / 1000 / r->steady_s,
	       (double)r->polls / r->steady_s,
	       r->polls ? (double)r->poll_ns / (double)r->polls / 1000 : 0.0,
	       (double)r->slow / r->steady_s, (double)r->max_poll_ns / MSEC,
	       r->nofile);
	st_print_ctl(&r->ctl);
}

/* Open files sfshmd needs for @members clients: a socket and a pidfd
 * each, and ST_FD_RESERVE for itself and the topic (about 70 here). */
static uint64_t st_fds(uint64_t members)
{
	return 2 * members + ST_FD_RESERVE;
}

/*
 * Raise RLIMIT_NOFILE (inherited by sfshmd and the workers) for the
 * storm; where the hard limit is lower and cannot be raised (no
 * CAP_SYS_RESOURCE), take the limit we have.  Return: the soft limit.
 */
static uint64_t raise_nofile(uint64_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		sfb_fail("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= need)
		return rl.rlim_cur;
	rl.rlim_cur = need;
	if (rl.rlim_max < need)
		rl.rlim_max = need;
	if (!setrlimit(RLIMIT_NOFILE, &rl))
		return need;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		sfb_fail("setrlimit RLIMIT_NOFILE: %s", strerror(errno));
	return rl.rlim_cur;
}

/* As many of --groups as the open-file limit lets sfshmd serve. */
static uint64_t st_fit_groups(const struct opts *o, struct st_result *r)
{
	uint64_t g = o->groups;

	r->nofile = raise_nofile(st_fds(o->groups * o->members));
	while (g && st_fds(g * o->members) > r->nofile)
		g--;
	if (!g)
		sfb_fail("storm: RLIMIT_NOFILE %" PRIu64 " is too low for "
			 "one group of %" PRIu64 " members",
			 r->nofile, o->members);
	r->asked_groups = (uint32_t)o->groups;
	return g;
}

static void st_scaled_note(const struct st_result *r)
{
	if (r->groups == r->asked_groups)
		return;
	printf("  Scaled down from %u groups: RLIMIT_NOFILE is %" PRIu64
	       " and cannot be raised here (no\n  CAP_SYS_RESOURCE); sfshmd "
	       "needs a socket and a pidfd per member.\n",
	       r->asked_groups, r->nofile);
}

static int run_storm(const struct opts *o, struct st_result *r)
{
	struct opts so = *o;
	struct sfb_daemon d;

	so.groups = st_fit_groups(o, r);
	r->groups = (uint32_t)so.groups;
	r->members = (uint32_t)o->members;
	r->procs = (uint32_t)o->procs;
	r->auto_commit_ms = o->auto_commit_ms;
	start_daemon(o, &d, "storm");
	st_measure(&so, &d, r);
	sfb_daemon_stop(&d);
	if (!o->json) {
		st_print(r);
		st_scaled_note(r);
	}
	return 1;
}

/* ---- goals ------------------------------------------------------------------------ */

struct report {
	const struct opts *o;
	unsigned int done;
	struct fo_result fo;
	struct st_result st;
};

#define NGOALS 2

static void goals(const struct report *rep, struct sfb_goal *g)
{
	const struct fo_result *fo = &rep->fo;
	const struct st_result *st = &rep->st;
	double pct = pct_of(st->daemon.clock_ns, st->steady_s);

	g[0] = (struct sfb_goal){ "failover (kill) <= 50 ms, judged by the max",
				  "not measured", -1 };
	g[1] = (struct sfb_goal){ "steady daemon CPU < 5% of a core, storm",
				  "not measured", -1 };
	if (rep->done & PART_FAILOVER) {
		snprintf(g[0].measured, sizeof(g[0].measured),
			 "median %.2f, p90 %.2f, max %.2f ms",
			 fo->kill_first.median, fo->kill_first.p90,
			 fo->kill_first.max);
		g[0].met = fo->kill_first.max <= GOAL_FAILOVER_MS;
	}
	if (rep->done & PART_STORM) {
		snprintf(g[1].measured, sizeof(g[1].measured),
			 "%.2f%% (CPU clock), %u x %u members", pct, st->groups,
			 st->members);
		g[1].met = pct < GOAL_STEADY_PCT;
	}
}

static void goals_print(const struct report *rep)
{
	struct sfb_goal g[NGOALS];

	goals(rep, g);
	sfb_goals_print(g, NGOALS);
}

/* ---- JSON ------------------------------------------------------------------------- */

static void json_config(const struct opts *o)
{
	sfb_json_object("config");
	sfb_json_str("sfshmd", sfb_daemon_exe());
	sfb_json_str("data_base", o->data_base);
	sfb_json_array("parts");
	for (int i = 0; i < NPARTS; i++)
		if (o->parts & (1u << i))
			sfb_json_str(NULL, part_names[i]);
	sfb_json_close();
	sfb_json_u64("reps", o->reps);
	sfb_json_u64("rate", o->rate);
	sfb_json_u64("groups", o->groups);
	sfb_json_u64("members", o->members);
	sfb_json_u64("procs", o->procs);
	sfb_json_num("steady_s", o->steady_secs);
	sfb_json_num("auto_commit_ms", o->auto_commit_ms);
	sfb_json_array("cpus");
	for (int i = 0; i < o->ncpus; i++)
		sfb_json_u64(NULL, (uint64_t)o->cpus[i]);
	sfb_json_close();
	sfb_json_bool("quick", o->quick);
	sfb_json_close();
}

static void json_dstats(const char *key, const struct dstats *s)
{
	sfb_json_object(key);
	sfb_json_u64("n", s->n);
	sfb_json_num("min_ms", s->min);
	sfb_json_num("median_ms", s->median);
	sfb_json_num("mean_ms", s->mean);
	sfb_json_num("p90_ms", s->p90);
	sfb_json_num("max_ms", s->max);
	sfb_json_array("all_ms");
	for (uint64_t i = 0; i < s->n; i++)
		sfb_json_num(NULL, s->all[i]);
	sfb_json_close();
	sfb_json_close();
}

static void json_failover(const struct fo_result *r)
{
	sfb_json_object("failover");
	sfb_json_u64("partitions", FO_PARTS);
	sfb_json_u64("members", FO_MEMBERS);
	sfb_json_u64("reps", r->reps);
	sfb_json_num("producer_rate", r->rate);
	json_dstats("kill_first", &r->kill_first);
	json_dstats("kill_all", &r->kill_all);
	json_dstats("kill_assigned", &r->kill_stable);
	json_dstats("leave_first", &r->leave_first);
	json_dstats("leave_all", &r->leave_all);
	json_dstats("join_stable", &r->join);
	sfb_json_num("baseline_kafka_session_timeout_ms", KAFKA_SESSION_MS);
	sfb_json_num("kafka_over_median",
		     KAFKA_SESSION_MS / r->kill_first.median);
	sfb_json_num("kill_over_leave_median",
		     r->kill_first.median / r->leave_first.median);
	sfb_json_u64("redelivered_after_kills", r->again_kill);
	sfb_json_u64("redelivered_after_leaves", r->again_leave);
	sfb_json_u64("sent", r->sent);
	sfb_json_u64("delivered", r->delivered);
	sfb_json_close();
}

static void json_cpu(const char *key, const struct sfb_proc_cpu *c, double secs)
{
	sfb_json_object(key);
	sfb_json_num("cpu_pct_stat", pct_of(c->stat_ns, secs));
	sfb_json_num("cpu_pct_clock", pct_of(c->clock_ns, secs));
	sfb_json_num("wakeups_per_s", (double)c->runs / secs);
	sfb_json_close();
}

static void json_storm(const struct st_result *r)
{
	uint32_t total = r->groups * r->members;

	sfb_json_object("storm");
	sfb_json_u64("groups", r->groups);
	sfb_json_u64("members_per_group", r->members);
	sfb_json_u64("processes", r->procs);
	sfb_json_u64("partitions", ST_PARTS);
	sfb_json_num("auto_commit_ms", r->auto_commit_ms);
	sfb_json_num("subscribed_s", r->subscribe_s);
	sfb_json_num("join_storm_s", r->storm_s);
	sfb_json_num("daemon_cpu_during_storm_s", r->storm_cpu_s);
	sfb_json_num("generations_mean", r->gen_mean);
	sfb_json_u64("generation_max", (uint64_t)r->gen_max);
	sfb_json_num("assignments_per_member", (double)r->assigns / total);
	sfb_json_num("steady_s", r->steady_s);
	json_cpu("daemon", &r->daemon, r->steady_s);
	json_cpu("members", &r->workers, r->steady_s);
	sfb_json_object("daemon_control_thread");
	sfb_json_u64("samples", r->ctl.n);
	sfb_json_num("on_cpu_pct",
		     pct_of(r->ctl.cpu_ns, (double)r->ctl.secs_ns / NS));
	sfb_json_num("runqueue_pct",
		     pct_of(r->ctl.runq_ns, (double)r->ctl.secs_ns / NS));
	sfb_json_num("blocked_pct", ctl_asleep_pct(&r->ctl, r->ctl.blocked));
	sfb_json_str("blocked_mostly_in", r->ctl.top);
	sfb_json_num("waiting_for_requests_pct",
		     ctl_asleep_pct(&r->ctl, r->ctl.idle));
	sfb_json_close();
	sfb_json_num("heartbeats_due_per_s", total / HB_MAX_S);
	sfb_json_num("member_polls_per_s", (double)r->polls / r->steady_s);
	sfb_json_num("poll_mean_us",
		     r->polls ? (double)r->poll_ns / (double)r->polls / 1000 :
				0.0);
	sfb_json_num("polls_over_1ms_per_s", (double)r->slow / r->steady_s);
	sfb_json_num("poll_max_ms", (double)r->max_poll_ns / MSEC);
	sfb_json_num("offsets_log_bytes_per_s",
		     (double)r->offsets_bytes / r->steady_s);
	sfb_json_u64("rlimit_nofile", r->nofile);
	sfb_json_u64("groups_asked", r->asked_groups);
	sfb_json_close();
}

static void json_goals(const struct report *rep)
{
	struct sfb_goal g[NGOALS];

	goals(rep, g);
	sfb_json_array("goals");
	for (int i = 0; i < NGOALS; i++) {
		sfb_json_object(NULL);
		sfb_json_str("goal", g[i].what);
		sfb_json_str("measured", g[i].measured);
		if (g[i].met >= 0)
			sfb_json_bool("met", g[i].met);
		sfb_json_close();
	}
	sfb_json_close();
}

static void print_json(const struct report *rep)
{
	sfb_json_begin(stdout);
	sfb_json_str("tool", "sfbench");
	sfb_json_str("command", CMD);
	sfb_machine_json();
	json_config(rep->o);
	if (rep->done & PART_FAILOVER)
		json_failover(&rep->fo);
	if (rep->done & PART_STORM)
		json_storm(&rep->st);
	json_goals(rep);
	sfb_json_end();
}

/* ---- the run ---------------------------------------------------------------------- */

static void print_intro(const struct opts *o)
{
	sfb_machine_print(stdout);
	printf("sfshmd: %s, a fresh one per part; data dirs in %s, run dirs "
	       "in /dev/shm\n",
	       sfb_daemon_exe(), o->data_base);
	if (o->ncpus) {
		printf("cpus:");
		for (int i = 0; i < o->ncpus; i++)
			printf(" %d", o->cpus[i]);
		printf(" (failover: producer, members; storm: workers round "
		       "robin; %s)\n",
		       o->ncpus > 2 ? "the daemon on the third and later" :
				      "the daemon not pinned");
	}
	fflush(stdout);
}

static int run_parts(struct report *rep)
{
	const struct opts *o = rep->o;

	if ((o->parts & PART_FAILOVER) && run_failover(o, &rep->fo))
		rep->done |= PART_FAILOVER;
	fflush(stdout);
	if ((o->parts & PART_STORM) && run_storm(o, &rep->st))
		rep->done |= PART_STORM;
	fflush(stdout);
	if (o->json)
		print_json(rep);
	else
		goals_print(rep);
	return 0;
}

static void free_report(struct report *rep)
{
	free(rep->fo.kill_first.all);
	free(rep->fo.kill_all.all);
	free(rep->fo.kill_stable.all);
	free(rep->fo.leave_first.all);
	free(rep->fo.leave_all.all);
	free(rep->fo.join.all);
	free(rep);
}

/* ---- options ---------------------------------------------------------------------- */

void sfbench_group_help(FILE *f)
{
	fputs("NAME\n"
	      "    sfbench group - consumer groups on a real sfshmd: failover, join\n"
	      "    storm, steady-state CPU\n"
	      "\n"
	      "SYNOPSIS\n"
	      "    sfbench group [--quick] [--only PARTS] [--cpu LIST] [--json]\n"
	      "                  [options]\n"
	      "\n"
	      "DESCRIPTION\n"
	      "    Starts the sfshmd built next to sfbench (<dir of sfbench>/../sfshmd)\n"
	      "    on a fresh data dir (under /tmp, or --data-dir) and run dir (under\n"
	      "    /dev/shm), one daemon per part, runs group members as processes and\n"
	      "    measures from CLOCK_MONOTONIC timestamps they leave in shared\n"
	      "    memory; then stops the daemon with SIGTERM (it must exit 0) and\n"
	      "    removes both dirs.  The parts:\n"
	      "\n"
	      "    failover  a topic of 6 partitions, a producer process sending\n"
	      "              keyed records at --rate, 3 member processes in one\n"
	      "              group (range assignor, auto-commit on).  --reps times:\n"
	      "              SIGKILL the oldest member and time from waitpid()\n"
	      "              returning to a survivor delivering the first record\n"
	      "              of a partition the dead member owned (goal: <= 50 ms,\n"
	      "              judged by the max); start a new member and time from\n"
	      "              its subscribe call until the group is stable (every\n"
	      "              member assigned in one generation); then the oldest\n"
	      "              member leaves cleanly (sfshm_consumer_close()), timed\n"
	      "              the same way from that call, the in-run baseline;\n"
	      "              and a new member joins again.  Baseline: Kafka's\n"
	      "              default session.timeout.ms, 45 s (not measured), the\n"
	      "              time a Kafka group takes to notice a dead member.\n"
	      "              Members check every record (key on its partition,\n"
	      "              value, consecutive offsets, no offset skipped at a\n"
	      "              hand-over) and count records delivered twice.\n"
	      "    storm     --groups x --members members, each its own client\n"
	      "              connection, living in --procs processes, all\n"
	      "              subscribing to one topic of 10 partitions.  Times\n"
	      "              the join storm, from the start line until every\n"
	      "              member of every group is assigned in one generation\n"
	      "              (no goal).  Then, while every process polls its\n"
	      "              members round robin (timeout 0, a 1 ms sleep between\n"
	      "              rounds) so that heartbeats flow (every 30 s with the\n"
	      "              default max.poll.interval.ms), the daemon's CPU over\n"
	      "              --steady seconds: /proc/PID/stat utime+stime and the\n"
	      "              process CPU clock, in % of one core (goal: < 5%, by\n"
	      "              the clock), its wake-ups, the members' CPU, and how\n"
	      "              fast the offsets log grows (auto-commits).\n"
	      "              RLIMIT_NOFILE is raised first (a socket per member\n"
	      "              here, a socket and a pidfd in sfshmd, which inherits\n"
	      "              the limit): that needs root or a high hard limit.\n"
	      "\n"
	      "    A member that fails a check, a daemon that does not answer or\n"
	      "    exit, or a step that does not happen within 10 s (60 s without\n"
	      "    any new assignment in the storm) fails the run.\n"
	      "\n"
	      "OPTIONS\n"
	      "        --only PARTS      run only some of: failover, storm\n"
	      "                          (comma-separated)\n"
	      "        --quick           a smoke run of a few seconds: 3 kills and\n"
	      "                          3 leaves, a storm of 50 x 4 members in 4\n"
	      "                          processes, 1 s of steady state\n"
	      "        --cpu LIST        pin workers, e.g. 0,1: the failover\n"
	      "                          producer to the first CPU, its members to\n"
	      "                          the second; storm processes round robin\n"
	      "                          over the list; CPUs after the second, if\n"
	      "                          any, take the daemon (else it is not\n"
	      "                          pinned)\n"
	      "        --reps N          failover: kills, and as many clean leaves\n"
	      "                          (default 20)\n"
	      "        --rate N          failover: records per second (default\n"
	      "                          50000)\n"
	      "        --groups N        storm: groups (default 1000)\n"
	      "        --members N       storm: members per group, at most 10\n"
	      "                          (default 10)\n"
	      "        --procs N         storm: processes holding the members, at\n"
	      "                          most 64 (default: --members)\n"
	      "        --steady SEC      storm: seconds of steady state (default 5)\n"
	      "        --auto-commit MS  storm: the members' auto-commit interval;\n"
	      "                          'off' disables it (default: the library's,\n"
	      "                          5000)\n"
	      "        --data-dir DIR    make the data dirs in DIR (default /tmp)\n"
	      "        --json            print one JSON document (machine, config,\n"
	      "                          every result, the goals) instead of tables\n"
	      "    -h, --help            print this text and exit\n"
	      "\n"
	      "OUTPUT\n"
	      "    One table per part, then the goals and whether each is met.  Times\n"
	      "    in ms unless a column says otherwise; CPU in % of one core.\n"
	      "\n"
	      "FILES\n"
	      "    DIR/sfbench-PART-XXXXXX, DIR/sfbench-PART-XXXXXX.log (the daemon's\n"
	      "    stderr), /dev/shm/sfbench-PART-XXXXXX: removed at the end of each\n"
	      "    part, and on failure; a run killed by a signal may leave them.\n"
	      "\n"
	      "EXIT STATUS\n"
	      "    0 success, whether goals are met or not; 1 run-time failure (the\n"
	      "    daemon, a library call or a check failed: the message says which,\n"
	      "    with the end of the daemon's log); 2 usage error.\n"
	      "\n"
	      "EXAMPLES\n"
	      "    sfbench group --quick\n"
	      "    sfbench group --cpu 0,1\n"
	      "    sfbench group --only failover --reps 100 --json\n"
	      "    sfbench group --only storm --groups 200 --members 5 --auto-commit off\n",
	      f);
}

enum {
	OPT_ONLY = 256,
	OPT_QUICK,
	OPT_CPU,
	OPT_REPS,
	OPT_RATE,
	OPT_GROUPS,
	OPT_MEMBERS,
	OPT_PROCS,
	OPT_STEADY,
	OPT_AUTO_COMMIT,
	OPT_DATA_DIR,
	OPT_JSON,
};

static const struct option long_opts[] = {
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "quick", no_argument, NULL, OPT_QUICK },
	{ "cpu", required_argument, NULL, OPT_CPU },
	{ "reps", required_argument, NULL, OPT_REPS },
	{ "rate", required_argument, NULL, OPT_RATE },
	{ "groups", required_argument, NULL, OPT_GROUPS },
	{ "members", required_argument, NULL, OPT_MEMBERS },
	{ "procs", required_argument, NULL, OPT_PROCS },
	{ "steady", required_argument, NULL, OPT_STEADY },
	{ "auto-commit", required_argument, NULL, OPT_AUTO_COMMIT },
	{ "data-dir", required_argument, NULL, OPT_DATA_DIR },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int opt_auto_commit(struct opts *o, const char *arg)
{
	uint64_t ms;

	if (!strcmp(arg, "off")) {
		o->auto_commit_ms = -1;
		return 0;
	}
	if (sfb_opt_count(CMD, "--auto-commit", arg, 1, 3600000, &ms))
		return 2;
	o->auto_commit_ms = (int)ms;
	return 0;
}

static int opt_steady(struct opts *o, const char *arg)
{
	if (sfb_parse_seconds(arg, &o->steady_secs))
		return sfb_usage(CMD,
				 "--steady: '%s' is not a duration (seconds, "
				 "up to 3600; e.g. 5, 0.5, 300ms)",
				 arg);
	return 0;
}

/* Options without a value, and the ones parsed by a helper. */
static int opt_only(struct opts *o, const char *arg)
{
	return sfb_opt_only(CMD, arg, part_names, NPARTS, &o->parts);
}

static int apply_flag(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_QUICK:
		o->quick = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_ONLY:
		return opt_only(o, arg);
	case OPT_CPU:
		return sfb_opt_cpus(CMD, arg, o->cpus, MAX_CPUS, &o->ncpus);
	case OPT_DATA_DIR:
		return sfb_opt_data_dir(CMD, arg, o->data_base,
					sizeof(o->data_base));
	case OPT_STEADY:
		return opt_steady(o, arg);
	case OPT_AUTO_COMMIT:
		return opt_auto_commit(o, arg);
	}
	return sfb_usage(CMD, "unknown option");
}

static int apply_opt(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case OPT_REPS:
		return sfb_opt_count(CMD, "--reps", arg, 1, 1000, &o->reps);
	case OPT_RATE:
		return sfb_opt_count(CMD, "--rate", arg, 100, 10000000,
				     &o->rate);
	case OPT_GROUPS:
		return sfb_opt_count(CMD, "--groups", arg, 1, 100000,
				     &o->groups);
	case OPT_MEMBERS:
		return sfb_opt_count(CMD, "--members", arg, 1, ST_PARTS,
				     &o->members);
	case OPT_PROCS:
		return sfb_opt_count(CMD, "--procs", arg, 1, ST_MAX_PROCS,
				     &o->procs);
	}
	return apply_flag(o, c, arg);
}

/* Defaults that --quick changes, where no option set them. */
static void finish_defaults(struct opts *o)
{
	bool q = o->quick;

	if (!o->reps)
		o->reps = q ? 3 : 20;
	if (!o->groups)
		o->groups = q ? 50 : 1000;
	if (!o->members)
		o->members = q ? 4 : 10;
	if (!o->procs)
		o->procs = o->members;
	if (!o->steady_secs)
		o->steady_secs = q ? 1 : 5;
}

static void default_opts(struct opts *o)
{
	memset(o, 0, sizeof(*o));
	o->parts = (1u << NPARTS) - 1;
	o->rate = 50000;
	snprintf(o->data_base, sizeof(o->data_base), "/tmp");
}

/* apply_opt() as sfb_getopt() calls it. */
static int apply_any(void *o, int c, const char *arg)
{
	return apply_opt(o, c, arg);
}

/* Return: 0 to run, -1 when --help was printed, 2 for a usage error. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	int rc;

	default_opts(o);
	rc = sfb_getopt(argc, argv, CMD, ":h", long_opts, sfbench_group_help,
			apply_any, o);
	if (rc)
		return rc;
	finish_defaults(o);
	return 0;
}

/**
 * sfbench_group_main() - `sfbench group [options]`.
 * Return: the exit status: 0, 1 (run-time failure) or 2 (usage).
 */
int sfbench_group_main(int argc, char **argv)
{
	struct report *rep;
	struct opts o;
	int rc;

	rc = parse_opts(argc, argv, &o);
	if (rc)
		return rc < 0 ? 0 : rc;
	sfb_daemon_setup(CMD);
	rep = sfb_xcalloc(1, sizeof(*rep));
	rep->o = &o;
	sfb_machine_probe();
	if (!o.json)
		print_intro(&o);
	rc = run_parts(rep);
	free_report(rep);
	return rc;
}
