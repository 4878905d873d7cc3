// SPDX-License-Identifier: MIT
/*
 * test_assign.c - the consumer-group assignors (daemon/assign.c).
 *
 * Hand-worked cases first, among them the examples of Kafka's own
 * documentation (RangeAssignor, RoundRobinAssignor and StickyAssignor
 * javadoc); then properties over random groups: every partition of a
 * subscribed topic has exactly one owner, a subscriber; range is its
 * definition block by block; roundrobin equals a plain reference dealer;
 * sticky is balanced in Kafka's sense, keeps the most that can be kept
 * when subscriptions are equal, moves nothing when nothing changed; the
 * result does not depend on the order of the input arrays.  Last, a
 * 1000-member, 1000-partition group.
 *
 * SFSHM_SEED=n replays the random cases of seed n (the seed is printed);
 * SFSHM_CASES=n changes their number (default 4000 per test).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "assign.h"

#define MAXT 7 /* topics */
#define MAXM 10 /* members */
#define MAXP 14 /* partitions of a topic */
#define MAXPREV 120
#define NOBODY (-1)

/* ---- a group to assign --------------------------------------------------- */

struct group {
	uint32_t nt, nm;
	char tname[MAXT][8];
	uint32_t parts[MAXT];
	char mid[MAXM][8];
	const char *subs[MAXM][MAXT + 2];
	uint32_t nsubs[MAXM];
	struct sfd_tp prev[MAXM][MAXPREV];
	uint32_t nprev[MAXM];
	/* what sfd_assign() reads, pointing into the above */
	struct sfd_assign_topic topics[MAXT];
	struct sfd_assign_member members[MAXM];
};

/* who owns each partition: a member index or NOBODY */
typedef int owners_t[MAXT][MAXP];

static void link_group(struct group *g)
{
	for (uint32_t t = 0; t < g->nt; t++)
		g->topics[t] =
			(struct sfd_assign_topic){ g->tname[t], g->parts[t] };
	for (uint32_t m = 0; m < g->nm; m++)
		g->members[m] =
			(struct sfd_assign_member){ g->mid[m], g->subs[m],
						    g->nsubs[m], g->prev[m],
						    g->nprev[m] };
}

static void add_topic(struct group *g, const char *name, uint32_t parts)
{
	snprintf(g->tname[g->nt], sizeof(g->tname[0]), "%s", name);
	g->parts[g->nt++] = parts;
}

/* A member and its subscriptions, space separated ("t0 t1"). */
static void add_member(struct group *g, const char *id, const char *subs)
{
	uint32_t m = g->nm++;

	snprintf(g->mid[m], sizeof(g->mid[0]), "%s", id);
	g->nsubs[m] = 0;
	g->nprev[m] = 0;
	for (uint32_t t = 0; t < g->nt; t++) {
		const char *p = strstr(subs, g->tname[t]);
		size_t n = strlen(g->tname[t]);

		if (p && (p[n] == ' ' || !p[n]))
			g->subs[m][g->nsubs[m]++] = g->tname[t];
	}
}

static uint32_t member_index(const struct group *g, const char *id)
{
	for (uint32_t m = 0; m < g->nm; m++)
		if (!strcmp(g->mid[m], id))
			return m;
	fail_msg("no member %s", id);
	return 0;
}

/* "t0p0 t1p2" -> @id's previous assignment. */
static void set_prev(struct group *g, const char *id, const char *tps)
{
	uint32_t m = member_index(g, id);
	char name[8];
	unsigned p;
	int used;

	g->nprev[m] = 0;
	while (sscanf(tps, " %7[^p]p%u%n", name, &p, &used) == 2) {
		uint32_t t = 0;

		while (t < g->nt && strcmp(g->tname[t], name))
			t++;
		assert_true(t < g->nt);
		g->prev[m][g->nprev[m]++] = (struct sfd_tp){ t, p };
		tps += used;
	}
}

static bool subscribes(const struct group *g, uint32_t m, uint32_t t)
{
	for (uint32_t j = 0; j < g->nsubs[m]; j++)
		if (!strcmp(g->subs[m][j], g->tname[t]))
			return true;
	return false;
}

static bool anyone_subscribes(const struct group *g, uint32_t t)
{
	for (uint32_t m = 0; m < g->nm; m++)
		if (subscribes(g, m, t))
			return true;
	return false;
}

static void run(struct group *g, enum sfd_assignor a,
		struct sfd_assignment *out)
{
	link_group(g);
	memset(out, 0, MAXM * sizeof(*out));
	assert_int_equal(
		sfd_assign(a, g->topics, g->nt, g->members, g->nm, out), 0);
}

/* The next generation: each member's prev is what it got in @out. */
static void out_to_prev(struct group *g, const struct sfd_assignment *out)
{
	for (uint32_t m = 0; m < g->nm; m++) {
		g->nprev[m] = out[m].n;
		if (out[m].n)
			memcpy(g->prev[m], out[m].tp,
			       out[m].n * sizeof(out[m].tp[0]));
	}
}

static void remove_member(struct group *g, uint32_t m)
{
	g->nm--;
	memmove(g->mid[m], g->mid[m + 1], (g->nm - m) * sizeof(g->mid[0]));
	memmove(g->subs[m], g->subs[m + 1], (g->nm - m) * sizeof(g->subs[0]));
	memmove(&g->nsubs[m], &g->nsubs[m + 1],
		(g->nm - m) * sizeof(g->nsubs[0]));
	memmove(g->prev[m], g->prev[m + 1], (g->nm - m) * sizeof(g->prev[0]));
	memmove(&g->nprev[m], &g->nprev[m + 1],
		(g->nm - m) * sizeof(g->nprev[0]));
}

/* ---- checks shared by every case ----------------------------------------- */

/*
 * Fill @own from @out, checking that each member's list is sorted and in
 * range, that owners subscribe, and that every partition of a subscribed
 * topic has exactly one owner (those of other topics none).
 */
static void owners(const struct group *g, const struct sfd_assignment *out,
		   owners_t own)
{
	for (uint32_t t = 0; t < MAXT; t++)
		for (uint32_t p = 0; p < MAXP; p++)
			own[t][p] = NOBODY;
	for (uint32_t m = 0; m < g->nm; m++) {
		assert_true(out[m].n == 0 || out[m].tp != NULL);
		for (uint32_t i = 0; i < out[m].n; i++) {
			struct sfd_tp tp = out[m].tp[i];

			assert_true(tp.topic < g->nt);
			assert_true(tp.partition < g->parts[tp.topic]);
			assert_true(subscribes(g, m, tp.topic));
			assert_int_equal(own[tp.topic][tp.partition], NOBODY);
			own[tp.topic][tp.partition] = (int)m;
			if (i)
				assert_true(
					out[m].tp[i - 1].topic < tp.topic ||
					(out[m].tp[i - 1].topic == tp.topic &&
					 out[m].tp[i - 1].partition <
						 tp.partition));
		}
	}
	for (uint32_t t = 0; t < g->nt; t++)
		for (uint32_t p = 0; p < g->parts[t]; p++)
			assert_int_equal(own[t][p] != NOBODY,
					 anyone_subscribes(g, t));
}

/* "t0p0 t0p1" for member @m (what Kafka's javadoc writes). */
static const char *show(const struct group *g, const struct sfd_assignment *out,
			const char *id)
{
	static char buf[1024];
	uint32_t m = member_index(g, id);
	size_t n = 0;

	buf[0] = 0;
	for (uint32_t i = 0; i < out[m].n; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%sp%u",
				      i ? " " : "",
				      g->tname[out[m].tp[i].topic],
				      out[m].tp[i].partition);
	return buf;
}

#define assert_got(g, out, id, want) assert_string_equal(show(g, out, id), want)

/* ---- names --------------------------------------------------------------- */

static void test_parse(void **state)
{
	static const struct {
		const char *name;
		enum sfd_assignor a;
	} ok[] = {
		{ "range", SFD_ASSIGN_RANGE },
		{ "roundrobin", SFD_ASSIGN_ROUNDROBIN },
		{ "sticky", SFD_ASSIGN_STICKY },
		{ "org.apache.kafka.clients.consumer.RangeAssignor",
		  SFD_ASSIGN_RANGE },
		{ "org.apache.kafka.clients.consumer.RoundRobinAssignor",
		  SFD_ASSIGN_ROUNDROBIN },
		{ "org.apache.kafka.clients.consumer.StickyAssignor",
		  SFD_ASSIGN_STICKY },
	};
	static const char *const bad[] = {
		"",
		"Range",
		"round-robin",
		"cooperative-sticky",
		"ranges",
		"org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
	};
	enum sfd_assignor a = SFD_ASSIGN_STICKY;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(sfd_assignor_parse(ok[i].name, &a), 0);
		assert_int_equal(a, ok[i].a);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sfd_assignor_parse(bad[i], &a), -EINVAL);
		assert_int_equal(a, SFD_ASSIGN_STICKY); /* untouched */
	}
	assert_int_equal(sfd_assignor_parse(NULL, &a), -EINVAL);
	assert_string_equal(sfd_assignor_name(SFD_ASSIGN_RANGE), "range");
	assert_string_equal(sfd_assignor_name(SFD_ASSIGN_ROUNDROBIN),
			    "roundrobin");
	assert_string_equal(sfd_assignor_name(SFD_ASSIGN_STICKY), "sticky");
	assert_string_equal(sfd_assignor_name((enum sfd_assignor)7), "unknown");
}

/* ---- bad input ----------------------------------------------------------- */

static void expect_einval(struct group *g, enum sfd_assignor a)
{
	struct sfd_assignment out[MAXM];

	memset(out, 0x5a, sizeof(out));
	assert_int_equal(sfd_assign(a, g->topics, g->nt, g->members, g->nm,
				    out),
			 -EINVAL);
	for (size_t i = 0; i < sizeof(out); i++) /* untouched */
		assert_int_equal(((unsigned char *)out)[i], 0x5a);
}

static void test_bad_input(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 2);
	add_topic(&g, "t1", 2);
	add_member(&g, "a", "t0");
	add_member(&g, "b", "t0 t1");
	link_group(&g);
	expect_einval(&g, (enum sfd_assignor)3);
	g.members[1].id = "a"; /* duplicate member */
	expect_einval(&g, SFD_ASSIGN_STICKY);
	g.members[1].id = NULL;
	expect_einval(&g, SFD_ASSIGN_RANGE);
	link_group(&g);
	g.topics[1].name = "t0"; /* duplicate topic */
	expect_einval(&g, SFD_ASSIGN_ROUNDROBIN);
	link_group(&g);
	g.members[0].topics = NULL;
	expect_einval(&g, SFD_ASSIGN_RANGE);
	link_group(&g);
	g.members[0].nprev = 1;
	g.members[0].prev = NULL;
	expect_einval(&g, SFD_ASSIGN_STICKY);
	link_group(&g);
	g.topics[0].partitions = 1u << 31; /* 2^31 + 2 partitions */
	expect_einval(&g, SFD_ASSIGN_STICKY);
	link_group(&g);
	assert_int_equal(sfd_assign(SFD_ASSIGN_RANGE, g.topics, g.nt, g.members,
				    g.nm, NULL),
			 -EINVAL);
	assert_int_equal(sfd_assign(SFD_ASSIGN_RANGE, g.topics, g.nt, NULL, 0,
				    NULL),
			 0); /* an empty group has nothing to assign */
	sfd_assignment_free(NULL, 3);
	memset(out, 0, sizeof(out));
	sfd_assignment_free(out, MAXM);
}

/* ---- range --------------------------------------------------------------- */

/* RangeAssignor's javadoc example. */
static void test_range_kafka_example(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 3);
	add_topic(&g, "t1", 3);
	add_member(&g, "C1", "t0 t1"); /* input order does not matter */
	add_member(&g, "C0", "t0 t1");
	run(&g, SFD_ASSIGN_RANGE, out);
	assert_got(&g, out, "C0", "t0p0 t0p1 t1p0 t1p1");
	assert_got(&g, out, "C1", "t0p2 t1p2");
	sfd_assignment_free(out, g.nm);
	assert_null(out[0].tp);
	sfd_assignment_free(out, g.nm); /* twice is fine */
}

static void test_range_by_topic(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t1", 2);
	add_topic(&g, "t0", 7);
	add_topic(&g, "t2", 0);
	add_topic(&g, "t3", 4); /* nobody's */
	add_member(&g, "c", "t0 t1 t2 zz");
	add_member(&g, "a", "t0 t2");
	add_member(&g, "b", "t0 t1");
	add_member(&g, "d", "");
	run(&g, SFD_ASSIGN_RANGE, out);
	/* t0: 7 over a, b, c = 3, 2, 2; t1: 2 over b, c */
	assert_got(&g, out, "a", "t0p0 t0p1 t0p2");
	assert_got(&g, out, "b", "t1p0 t0p3 t0p4");
	assert_got(&g, out, "c", "t1p1 t0p5 t0p6");
	assert_got(&g, out, "d", "");
	assert_null(out[member_index(&g, "d")].tp);
	sfd_assignment_free(out, g.nm);
}

/* ---- roundrobin ---------------------------------------------------------- */

/* RoundRobinAssignor's javadoc examples. */
static void test_roundrobin_kafka_examples(void **state)
{
	struct group g = { 0 }, h = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 3);
	add_topic(&g, "t1", 3);
	add_member(&g, "C0", "t0 t1");
	add_member(&g, "C1", "t0 t1");
	run(&g, SFD_ASSIGN_ROUNDROBIN, out);
	assert_got(&g, out, "C0", "t0p0 t0p2 t1p1");
	assert_got(&g, out, "C1", "t0p1 t1p0 t1p2");
	sfd_assignment_free(out, g.nm);

	add_topic(&h, "t2", 3);
	add_topic(&h, "t1", 2);
	add_topic(&h, "t0", 1);
	add_member(&h, "C2", "t0 t1 t2");
	add_member(&h, "C0", "t0");
	add_member(&h, "C1", "t0 t1");
	run(&h, SFD_ASSIGN_ROUNDROBIN, out);
	assert_got(&h, out, "C0", "t0p0");
	assert_got(&h, out, "C1", "t1p0");
	/* sorted by the caller's topic index: t2 is topic 0 here */
	assert_got(&h, out, "C2", "t2p0 t2p1 t2p2 t1p1");
	sfd_assignment_free(out, h.nm);
}

/* ---- sticky -------------------------------------------------------------- */

/* StickyAssignor's javadoc, example 1: equal subscriptions. */
static void test_sticky_kafka_example1(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 2);
	add_topic(&g, "t1", 2);
	add_topic(&g, "t2", 2);
	add_topic(&g, "t3", 2);
	add_member(&g, "C0", "t0 t1 t2 t3");
	add_member(&g, "C1", "t0 t1 t2 t3");
	add_member(&g, "C2", "t0 t1 t2 t3");
	run(&g, SFD_ASSIGN_STICKY, out);
	assert_got(&g, out, "C0", "t0p0 t1p1 t3p0");
	assert_got(&g, out, "C1", "t0p1 t2p0 t3p1");
	assert_got(&g, out, "C2", "t1p0 t2p1");
	out_to_prev(&g, out);
	sfd_assignment_free(out, g.nm);

	remove_member(&g, member_index(&g, "C1"));
	run(&g, SFD_ASSIGN_STICKY, out);
	assert_got(&g, out, "C0", "t0p0 t1p1 t2p0 t3p0");
	assert_got(&g, out, "C2", "t0p1 t1p0 t2p1 t3p1");
	sfd_assignment_free(out, g.nm);
}

/* StickyAssignor's javadoc, example 2: unequal subscriptions. */
static void test_sticky_kafka_example2(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 1);
	add_topic(&g, "t1", 2);
	add_topic(&g, "t2", 3);
	add_member(&g, "C0", "t0");
	add_member(&g, "C1", "t0 t1");
	add_member(&g, "C2", "t0 t1 t2");
	run(&g, SFD_ASSIGN_STICKY, out);
	assert_got(&g, out, "C0", "t0p0");
	assert_got(&g, out, "C1", "t1p0 t1p1");
	assert_got(&g, out, "C2", "t2p0 t2p1 t2p2");
	out_to_prev(&g, out);
	sfd_assignment_free(out, g.nm);

	remove_member(&g, member_index(&g, "C0"));
	run(&g, SFD_ASSIGN_STICKY, out);
	assert_got(&g, out, "C1", "t0p0 t1p0 t1p1");
	assert_got(&g, out, "C2", "t2p0 t2p1 t2p2");
	sfd_assignment_free(out, g.nm);
}

/* 3 members, 6 partitions; one leaves, then one joins. */
static void test_sticky_leave_join(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t", 6);
	add_member(&g, "a", "t");
	add_member(&g, "b", "t");
	add_member(&g, "c", "t");
	set_prev(&g, "a", "tp0 tp3");
	set_prev(&g, "b", "tp1 tp4");
	set_prev(&g, "c", "tp2 tp5");
	remove_member(&g, member_index(&g, "b"));
	run(&g, SFD_ASSIGN_STICKY, out);
	/* a and c keep their 4 and split b's 2 */
	assert_got(&g, out, "a", "tp0 tp1 tp3");
	assert_got(&g, out, "c", "tp2 tp4 tp5");
	out_to_prev(&g, out);
	sfd_assignment_free(out, g.nm);

	add_member(&g, "b", "t");
	run(&g, SFD_ASSIGN_STICKY, out);
	/* b takes one from each (their lowest); a and c keep 2 of 3 */
	assert_got(&g, out, "a", "tp1 tp3");
	assert_got(&g, out, "b", "tp0 tp2");
	assert_got(&g, out, "c", "tp4 tp5");
	sfd_assignment_free(out, g.nm);
}

/* What cannot be kept: gone partitions and topics, lost subscriptions, and
 * partitions two members claim. */
static void test_sticky_invalid_prev(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "t0", 4);
	add_topic(&g, "t1", 2);
	add_member(&g, "a", "t0");
	add_member(&g, "b", "t0 t1");
	add_member(&g, "c", "t1");
	set_prev(&g, "a", "t0p0 t0p1 t0p1 t1p0 t0p7");
	set_prev(&g, "b", "t0p1 t0p2 t0p3");
	g.prev[0][g.nprev[0]++] = (struct sfd_tp){ 9, 0 }; /* no topic 9 */
	run(&g, SFD_ASSIGN_STICKY, out);
	/*
	 * a keeps t0p0 (t0p1 is contested, t1p0 not subscribed), b keeps
	 * t0p2 t0p3; then, t0 and t1 having two subscribers each, in name
	 * order: t0p1 -> a (1 < 2), t1p0 -> c (0), t1p1 -> c (1 < 2).
	 */
	assert_got(&g, out, "a", "t0p0 t0p1");
	assert_got(&g, out, "b", "t0p2 t0p3");
	assert_got(&g, out, "c", "t1p0 t1p1");
	sfd_assignment_free(out, g.nm);
}

/* A member that must not take what it cannot: balance is per topic
 * subscribers, not global. */
static void test_sticky_unequal_balance(void **state)
{
	struct group g = { 0 };
	struct sfd_assignment out[MAXM];

	(void)state;
	add_topic(&g, "big", 6);
	add_topic(&g, "small", 2);
	add_member(&g, "a", "big small");
	add_member(&g, "b", "small");
	set_prev(&g, "a", "smallp0 smallp1");
	run(&g, SFD_ASSIGN_STICKY, out);
	/* a must take all of big; b, 2+ behind, gets small's two */
	assert_got(&g, out, "a", "bigp0 bigp1 bigp2 bigp3 bigp4 bigp5");
	assert_got(&g, out, "b", "smallp0 smallp1");
	sfd_assignment_free(out, g.nm);
}

/* ---- random groups ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static void shuffle(uint32_t *v, uint32_t n)
{
	for (uint32_t i = n; i > 1; i--) {
		uint32_t j = below(i), x = v[i - 1];

		v[i - 1] = v[j];
		v[j] = x;
	}
}

static uint64_t seed_from_env(void)
{
	const char *s = getenv("SFSHM_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : (uint64_t)time(NULL);

	print_message("seed %llu (SFSHM_SEED=%llu replays it)\n",
		      (unsigned long long)seed, (unsigned long long)seed);
	return seed;
}

static uint32_t ncases(void)
{
	const char *s = getenv("SFSHM_CASES");

	return s ? (uint32_t)strtoul(s, NULL, 0) : 4000;
}

enum subs_kind { SUBS_EQUAL, SUBS_RANDOM };
enum prev_kind { PREV_NONE, PREV_CLEAN, PREV_MESSY };

/* Random subscriptions, all members the same, a few unknown names. */
static void random_subs(struct group *g, enum subs_kind kind)
{
	static const char *const unknown = "zz";
	bool want[MAXT + 1];

	for (uint32_t m = 0; m < g->nm; m++) {
		if (!m || kind == SUBS_RANDOM)
			for (uint32_t t = 0; t <= g->nt; t++)
				want[t] = below(3) > 0;
		g->nsubs[m] = 0;
		for (uint32_t t = 0; t < g->nt; t++)
			if (want[t])
				g->subs[m][g->nsubs[m]++] = g->tname[t];
		if (want[g->nt])
			g->subs[m][g->nsubs[m]++] = unknown;
		if (g->nsubs[m] && !below(4)) /* a repeat */
			g->subs[m][g->nsubs[m]] = g->subs[m][0], g->nsubs[m]++;
	}
}

/* Previous owners: some current members, some gone, some nobody; when
 * messy, also repeats, double claims and partitions that no longer exist. */
static void random_prev(struct group *g, enum prev_kind kind)
{
	for (uint32_t m = 0; m < g->nm; m++)
		g->nprev[m] = 0;
	if (kind == PREV_NONE)
		return;
	for (uint32_t t = 0; t < g->nt; t++) {
		for (uint32_t p = 0; p < g->parts[t] + 2; p++) {
			uint32_t m = below(g->nm + 2), claims = 1;

			if (m >= g->nm)
				continue; /* a member that left, or nobody */
			if (kind == PREV_MESSY && !below(8))
				claims = 2;
			while (claims-- && g->nprev[m] < MAXPREV - 1) {
				g->prev[m][g->nprev[m]++] =
					(struct sfd_tp){ t, p };
				m = below(g->nm);
			}
		}
	}
	if (kind == PREV_MESSY && g->nprev[0] < MAXPREV)
		g->prev[0][g->nprev[0]++] = (struct sfd_tp){ g->nt + 1, 0 };
}

static void random_group(struct group *g, enum subs_kind sk, enum prev_kind pk)
{
	uint32_t order[MAXM];

	memset(g, 0, sizeof(*g));
	g->nt = 1 + below(MAXT - 1);
	for (uint32_t t = 0; t < g->nt; t++) {
		snprintf(g->tname[t], sizeof(g->tname[0]), "t%u", below(50));
		g->parts[t] = below(MAXP - 2 + 1);
		for (uint32_t u = 0; u < t; u++)
			if (!strcmp(g->tname[u], g->tname[t]))
				t--; /* draw the name again */
	}
	g->nm = 1 + below(MAXM);
	for (uint32_t m = 0; m < g->nm; m++)
		order[m] = m;
	shuffle(order, g->nm);
	for (uint32_t m = 0; m < g->nm; m++)
		snprintf(g->mid[m], sizeof(g->mid[0]), "m%u", order[m]);
	random_subs(g, sk);
	random_prev(g, pk);
	link_group(g);
}

/*
 * @h: @g with its members and topics in another order (and each member's
 * subscriptions too); tperm[j] is the topic of @g at index j of @h,
 * mperm[i] the member.
 */
static void permute(const struct group *g, struct group *h, uint32_t *tperm,
		    uint32_t *mperm)
{
	uint32_t tinv[MAXT];

	for (uint32_t i = 0; i < g->nt; i++)
		tperm[i] = i;
	for (uint32_t i = 0; i < g->nm; i++)
		mperm[i] = i;
	shuffle(tperm, g->nt);
	shuffle(mperm, g->nm);
	*h = *g;
	for (uint32_t j = 0; j < g->nt; j++) {
		memcpy(h->tname[j], g->tname[tperm[j]], sizeof(h->tname[0]));
		h->parts[j] = g->parts[tperm[j]];
		tinv[tperm[j]] = j;
	}
	for (uint32_t i = 0; i < g->nm; i++) {
		uint32_t m = mperm[i];

		memcpy(h->mid[i], g->mid[m], sizeof(h->mid[0]));
		h->nsubs[i] = g->nsubs[m];
		for (uint32_t j = 0; j < g->nsubs[m]; j++) /* reversed */
			h->subs[i][j] = g->subs[m][g->nsubs[m] - 1 - j];
		h->nprev[i] = g->nprev[m];
		for (uint32_t j = 0; j < g->nprev[m]; j++) {
			struct sfd_tp tp = g->prev[m][j];

			if (tp.topic < g->nt)
				tp.topic = tinv[tp.topic];
			h->prev[i][j] = tp;
		}
	}
	/* names point into g: repoint the subscriptions to h's own copy */
	for (uint32_t i = 0; i < h->nm; i++)
		for (uint32_t j = 0; j < h->nsubs[i]; j++)
			for (uint32_t t = 0; t < g->nt; t++)
				if (h->subs[i][j] == g->tname[t])
					h->subs[i][j] = h->tname[tinv[t]];
	link_group(h);
}

/* Same input in another order -> the same partitions for the same ids. */
static void check_order_free(const struct group *g, enum sfd_assignor a,
			     owners_t own)
{
	struct group h;
	struct sfd_assignment out[MAXM];
	uint32_t tperm[MAXT], mperm[MAXM];
	owners_t own2;

	permute(g, &h, tperm, mperm);
	run(&h, a, out);
	owners(&h, out, own2);
	for (uint32_t j = 0; j < h.nt; j++)
		for (uint32_t p = 0; p < h.parts[j]; p++)
			assert_int_equal(own2[j][p] == NOBODY ?
						 NOBODY :
						 (int)mperm[own2[j][p]],
					 own[tperm[j]][p]);
	sfd_assignment_free(out, h.nm);
}

/* Members sorted by id (ids are "m<n>", compared as strings). */
static void by_id(const struct group *g, uint32_t *v)
{
	for (uint32_t m = 0; m < g->nm; m++)
		v[m] = m;
	for (uint32_t i = 1; i < g->nm; i++)
		for (uint32_t j = i;
		     j > 0 && strcmp(g->mid[v[j - 1]], g->mid[v[j]]) > 0; j--) {
			uint32_t x = v[j];

			v[j] = v[j - 1];
			v[j - 1] = x;
		}
}

/* Range, by its definition: per topic, consecutive runs in id order. */
static void check_range(const struct group *g, owners_t own)
{
	uint32_t ids[MAXM];

	by_id(g, ids);
	for (uint32_t t = 0; t < g->nt; t++) {
		uint32_t subs[MAXM], n = 0, p = 0;

		for (uint32_t i = 0; i < g->nm; i++)
			if (subscribes(g, ids[i], t))
				subs[n++] = ids[i];
		for (uint32_t i = 0; i < n; i++) {
			uint32_t len = g->parts[t] / n + (i < g->parts[t] % n);

			for (; len; len--, p++)
				assert_int_equal(own[t][p], (int)subs[i]);
		}
	}
}

/* Roundrobin, by a plain dealer over topics sorted by name. */
static void check_roundrobin(const struct group *g, owners_t own)
{
	uint32_t ids[MAXM], tnames[MAXT], next = 0;

	by_id(g, ids);
	for (uint32_t t = 0; t < g->nt; t++)
		tnames[t] = t;
	for (uint32_t i = 1; i < g->nt; i++) /* insertion sort by name */
		for (uint32_t j = i; j > 0 && strcmp(g->tname[tnames[j - 1]],
						     g->tname[tnames[j]]) > 0;
		     j--) {
			uint32_t x = tnames[j];

			tnames[j] = tnames[j - 1];
			tnames[j - 1] = x;
		}
	for (uint32_t i = 0; i < g->nt; i++) {
		uint32_t t = tnames[i];

		if (!anyone_subscribes(g, t))
			continue;
		for (uint32_t p = 0; p < g->parts[t]; p++) {
			while (!subscribes(g, ids[next], t))
				next = (next + 1) % g->nm;
			assert_int_equal(own[t][p], (int)ids[next]);
			next = (next + 1) % g->nm;
		}
	}
}

static void counts(const struct group *g, owners_t own, uint32_t *cnt)
{
	memset(cnt, 0, g->nm * sizeof(*cnt));
	for (uint32_t t = 0; t < g->nt; t++)
		for (uint32_t p = 0; p < g->parts[t]; p++)
			if (own[t][p] != NOBODY)
				cnt[own[t][p]]++;
}

/* Equal subscriptions: every member within one of every other. */
static void check_even(const struct group *g, owners_t own)
{
	uint32_t cnt[MAXM], lo = UINT32_MAX, hi = 0;

	counts(g, own, cnt);
	for (uint32_t m = 0; m < g->nm; m++) {
		lo = cnt[m] < lo ? cnt[m] : lo;
		hi = cnt[m] > hi ? cnt[m] : hi;
	}
	assert_true(hi <= lo + 1);
}

/* Kafka's balance: nobody could take a partition from a member 2+ ahead. */
static void check_balanced(const struct group *g, owners_t own)
{
	uint32_t cnt[MAXM];

	counts(g, own, cnt);
	for (uint32_t t = 0; t < g->nt; t++)
		for (uint32_t p = 0; p < g->parts[t]; p++)
			for (uint32_t b = 0; b < g->nm; b++)
				if (subscribes(g, b, t))
					assert_true(cnt[own[t][p]] <=
						    cnt[b] + 1);
}

/*
 * The one member whose previous ownership of t/p counts (valid, claimed by
 * no other member), or NOBODY.
 */
static int valid_claim(const struct group *g, uint32_t t, uint32_t p)
{
	int who = NOBODY;

	for (uint32_t m = 0; m < g->nm; m++) {
		if (!subscribes(g, m, t))
			continue;
		for (uint32_t j = 0; j < g->nprev[m]; j++) {
			if (g->prev[m][j].topic != t ||
			    g->prev[m][j].partition != p)
				continue;
			if (who != NOBODY && who != (int)m)
				return NOBODY;
			who = (int)m;
		}
	}
	return who;
}

/*
 * Equal subscriptions: the most a balanced result can keep is, with
 * f = P / M and r = P % M members at f + 1,
 *	sum min(o_i, f) + min(r, #{i : o_i > f}).
 * Check that sticky keeps exactly that.
 */
static void check_most_kept(const struct group *g, owners_t own)
{
	uint32_t o[MAXM] = { 0 }, kept = 0, best = 0, total = 0, over = 0;

	for (uint32_t t = 0; t < g->nt; t++) {
		if (!anyone_subscribes(g, t))
			continue;
		total += g->parts[t];
		for (uint32_t p = 0; p < g->parts[t]; p++) {
			int m = valid_claim(g, t, p);

			if (m != NOBODY)
				o[m]++, kept += own[t][p] == m;
		}
	}
	for (uint32_t m = 0; m < g->nm; m++) {
		uint32_t f = total / g->nm;

		best += o[m] < f ? o[m] : f;
		over += o[m] > f;
	}
	best += over < total % g->nm ? over : total % g->nm;
	assert_int_equal(kept, best);
}

/* Sticky again from its own result: nothing moves. */
static void check_stable(struct group *g, const struct sfd_assignment *out,
			 owners_t own)
{
	struct group h = *g;
	struct sfd_assignment again[MAXM];
	owners_t own2;

	out_to_prev(&h, out);
	link_group(&h);
	run(&h, SFD_ASSIGN_STICKY, again);
	owners(&h, again, own2);
	assert_memory_equal(own, own2, sizeof(owners_t));
	sfd_assignment_free(again, h.nm);
}

static void check_case(struct group *g, enum sfd_assignor a, enum subs_kind sk)
{
	struct sfd_assignment out[MAXM];
	owners_t own;

	run(g, a, out);
	owners(g, out, own);
	check_order_free(g, a, own);
	if (a == SFD_ASSIGN_RANGE)
		check_range(g, own);
	if (a == SFD_ASSIGN_ROUNDROBIN)
		check_roundrobin(g, own);
	if (a != SFD_ASSIGN_RANGE && sk == SUBS_EQUAL)
		check_even(g, own);
	if (a == SFD_ASSIGN_STICKY) {
		check_balanced(g, own);
		if (sk == SUBS_EQUAL)
			check_most_kept(g, own);
		check_stable(g, out, own);
	}
	sfd_assignment_free(out, g->nm);
}

static void random_cases(enum sfd_assignor a)
{
	uint64_t seed = seed_from_env();
	uint32_t n = ncases();

	for (uint32_t i = 0; i < n; i++) {
		struct group g;
		enum subs_kind sk = (enum subs_kind)(i % 2);
		enum prev_kind pk = (enum prev_kind)(i / 2 % 3);

		rng_state = seed * 1000003u + i;
		random_group(&g, sk, pk);
		check_case(&g, a, sk);
	}
}

static void test_range_random(void **state)
{
	(void)state;
	random_cases(SFD_ASSIGN_RANGE);
}

static void test_roundrobin_random(void **state)
{
	(void)state;
	random_cases(SFD_ASSIGN_ROUNDROBIN);
}

static void test_sticky_random(void **state)
{
	(void)state;
	random_cases(SFD_ASSIGN_STICKY);
}

/*
 * Generations of one group with equal subscriptions: members leave and
 * join, topics grow; every step keeps the most that can be kept.
 */
static void test_sticky_generations(void **state)
{
	uint64_t seed = seed_from_env();
	uint32_t n = ncases() / 20, next_id = 100;

	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct group g;
		struct sfd_assignment out[MAXM];
		owners_t own;

		rng_state = seed * 1000003u + i;
		random_group(&g, SUBS_EQUAL, PREV_NONE);
		for (uint32_t gen = 0; gen < 12; gen++) {
			run(&g, SFD_ASSIGN_STICKY, out);
			owners(&g, out, own);
			check_even(&g, own);
			check_most_kept(&g, own);
			out_to_prev(&g, out);
			sfd_assignment_free(out, g.nm);
			if (g.nm > 1 && below(2))
				remove_member(&g, below(g.nm));
			else if (g.nm < MAXM) {
				snprintf(g.mid[g.nm], sizeof(g.mid[0]), "n%u",
					 next_id++);
				g.nsubs[g.nm] = g.nsubs[0];
				memcpy(g.subs[g.nm], g.subs[0],
				       sizeof(g.subs[0]));
				g.nprev[g.nm++] = 0;
			}
			if (!below(4)) {
				uint32_t t = below(g.nt);

				g.parts[t] += g.parts[t] < MAXP ? 1 : 0;
			}
		}
	}
}

/* ---- scale --------------------------------------------------------------- */

#define BIG 1000u

struct big {
	struct sfd_assign_topic *topics;
	struct sfd_assign_member *members;
	char (*ids)[16];
	char (*names)[16];
	const char **subs;
	struct sfd_assignment out[BIG];
	uint32_t nt;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* BIG members, BIG partitions over @nt topics; @per of them each. */
static struct big *big_group(uint32_t nt, uint32_t per)
{
	struct big *b = calloc(1, sizeof(*b));

	assert_non_null(b);
	b->nt = nt;
	b->topics = calloc(nt, sizeof(*b->topics));
	b->names = calloc(nt, sizeof(*b->names));
	b->members = calloc(BIG, sizeof(*b->members));
	b->ids = calloc(BIG, sizeof(*b->ids));
	b->subs = calloc((size_t)BIG * per, sizeof(*b->subs));
	assert_true(b->topics && b->names && b->members && b->ids && b->subs);
	for (uint32_t t = 0; t < nt; t++) {
		snprintf(b->names[t], sizeof(b->names[0]), "topic-%u", t);
		b->topics[t] =
			(struct sfd_assign_topic){ b->names[t], BIG / nt };
	}
	for (uint32_t m = 0; m < BIG; m++) {
		snprintf(b->ids[m], sizeof(b->ids[0]), "consumer-%u", m);
		for (uint32_t j = 0; j < per; j++)
			b->subs[(size_t)m * per + j] =
				b->names[(m * 7 + j) % nt];
		b->members[m] = (struct sfd_assign_member){
			b->ids[m], &b->subs[(size_t)m * per], per, NULL, 0
		};
	}
	return b;
}

static void big_free(struct big *b)
{
	sfd_assignment_free(b->out, BIG);
	free(b->topics);
	free(b->names);
	free(b->members);
	free(b->ids);
	free(b->subs);
	free(b);
}

/* Run @a; check the counts are within one when @even; return seconds. */
static double big_run(struct big *b, enum sfd_assignor a, bool even)
{
	uint32_t lo = UINT32_MAX, hi = 0, sum = 0;
	double t0 = now_s(), dt;

	sfd_assignment_free(b->out, BIG);
	assert_int_equal(
		sfd_assign(a, b->topics, b->nt, b->members, BIG, b->out), 0);
	dt = now_s() - t0;
	for (uint32_t m = 0; m < BIG; m++) {
		lo = b->out[m].n < lo ? b->out[m].n : lo;
		hi = b->out[m].n > hi ? b->out[m].n : hi;
		sum += b->out[m].n;
	}
	assert_int_equal(sum, BIG / b->nt * b->nt);
	if (even)
		assert_true(hi <= lo + 1);
	print_message("  %-10s %4u topics: %7.2f ms, %u..%u each\n",
		      sfd_assignor_name(a), b->nt, dt * 1e3, lo, hi);
	/* a guard against a blow-up, not a benchmark: sanitizers, slow CI */
	assert_true(dt < 2.0);
	return dt;
}

/* The previous owner of everything is member 0: 999 must move. */
static void big_prev_all_on_one(struct big *b)
{
	struct sfd_tp *all = calloc(BIG, sizeof(*all));
	uint32_t n = 0;

	assert_non_null(all);
	for (uint32_t t = 0; t < b->nt; t++)
		for (uint32_t p = 0; p < b->topics[t].partitions; p++)
			all[n++] = (struct sfd_tp){ t, p };
	b->members[0].prev = all;
	b->members[0].nprev = n;
	big_run(b, SFD_ASSIGN_STICKY, true);
	assert_true(b->out[0].n <= 1);
	b->members[0].prev = NULL;
	b->members[0].nprev = 0;
	free(all);
}

/* Sticky from the last result with member 0 gone and a new one: 1 moves. */
static void big_sticky_next(struct big *b)
{
	struct sfd_tp *prev[BIG];
	uint32_t kept = 0;

	for (uint32_t m = 0; m < BIG; m++) {
		prev[m] = b->out[m].tp;
		b->members[m].prev = prev[m];
		b->members[m].nprev = b->out[m].n;
		b->out[m] = (struct sfd_assignment){ NULL, 0 };
	}
	b->members[0].nprev = 0;
	b->members[0].id = "consumer-new";
	big_run(b, SFD_ASSIGN_STICKY, true);
	for (uint32_t m = 1; m < BIG; m++)
		kept += b->out[m].n == 1 && b->members[m].nprev == 1 &&
			b->out[m].tp[0].topic == prev[m][0].topic &&
			b->out[m].tp[0].partition == prev[m][0].partition;
	assert_int_equal(kept, BIG - 1);
	for (uint32_t m = 0; m < BIG; m++) {
		free(prev[m]);
		b->members[m].prev = NULL;
		b->members[m].nprev = 0;
	}
}

static void test_scale(void **state)
{
	struct big *b;

	(void)state;
	b = big_group(1, 1); /* one topic of 1000 partitions */
	big_run(b, SFD_ASSIGN_RANGE, true);
	big_run(b, SFD_ASSIGN_ROUNDROBIN, true);
	big_run(b, SFD_ASSIGN_STICKY, true);
	big_sticky_next(b);
	big_prev_all_on_one(b);
	big_free(b);

	b = big_group(100, 100); /* 100 topics of 10, everyone on all */
	big_run(b, SFD_ASSIGN_RANGE, false);
	big_run(b, SFD_ASSIGN_ROUNDROBIN, true);
	big_run(b, SFD_ASSIGN_STICKY, true);
	big_prev_all_on_one(b);
	big_free(b);

	b = big_group(100, 10); /* 100 topics of 10, everyone on 10 */
	big_run(b, SFD_ASSIGN_RANGE, false);
	big_run(b, SFD_ASSIGN_ROUNDROBIN, false);
	big_run(b, SFD_ASSIGN_STICKY, false);
	big_free(b);

	b = big_group(1000, 1000); /* 1000 topics of 1, everyone on all */
	big_run(b, SFD_ASSIGN_ROUNDROBIN, true);
	big_run(b, SFD_ASSIGN_STICKY, true);
	big_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_range_kafka_example),
		cmocka_unit_test(test_range_by_topic),
		cmocka_unit_test(test_roundrobin_kafka_examples),
		cmocka_unit_test(test_sticky_kafka_example1),
		cmocka_unit_test(test_sticky_kafka_example2),
		cmocka_unit_test(test_sticky_leave_join),
		cmocka_unit_test(test_sticky_invalid_prev),
		cmocka_unit_test(test_sticky_unequal_balance),
		cmocka_unit_test(test_range_random),
		cmocka_unit_test(test_roundrobin_random),
		cmocka_unit_test(test_sticky_random),
		cmocka_unit_test(test_sticky_generations),
		cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
