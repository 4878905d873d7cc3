// SPDX-License-Identifier: MIT
/*
 * assign.c - the consumer-group assignors: range, roundrobin, sticky.
 *
 * Every call first builds a canonical view of its input (struct view):
 * topics sorted by name, members sorted by id, every partition of every
 * topic numbered once ("global index" g, topic by topic in name order),
 * each member's subscriptions as sorted canonical topic numbers and each
 * topic's subscribers as sorted canonical member numbers.  An assignor
 * only fills owner[g] (a canonical member, or NONE) working on that view,
 * so whatever the order of the caller's arrays, the same decisions are
 * taken; emit() then turns owner[] back into the caller's numbering.
 *
 * Range and roundrobin are Kafka's definitions, read straight off.
 *
 * Sticky.  Kafka's StickyAssignor calls an assignment balanced when no
 * member holds a partition that another member subscribed to its topic
 * could take while having 2+ fewer partitions:
 *
 *	owner(p) = a, b subscribes to topic(p)  =>  cnt(a) <= cnt(b) + 1
 *
 * (with equal subscriptions: all counts within one of each other).
 * Among balanced assignments it wants the one that moves least.  Three
 * phases get there:
 *
 *  1. keep: each member keeps the partitions it owned before, where the
 *     partition still exists, the member still subscribes to its topic
 *     and no other member claims it too;
 *  2. place: the partitions nobody kept, topics with the fewest
 *     subscribers first, each to its least-loaded subscriber;
 *  3. balance: while some member a holds a partition p with a subscriber
 *     b of topic(p) at cnt(b) <= cnt(a) - 2, move one: a is the most
 *     loaded member that has such a p, p one it did not own before if it
 *     has any, b the least-loaded subscriber.  Each move lowers the sum
 *     of squared counts, so the loop ends, and when it ends the condition
 *     above holds everywhere.
 *
 * With equal subscriptions this keeps the most that can be kept: a
 * balanced result gives r = P mod M members floor(P/M) + 1 partitions and
 * the rest floor(P/M), so member i keeps at most min(prev_i, its share),
 * and phases 2-3 only ever take a kept partition from a member at the
 * maximum count while the minimum is 2 below, which is exactly when it
 * must lose one; the members left with the extra one are those that held
 * more (tests/test_assign.c checks the bound on random groups).  With
 * unequal subscriptions the result is balanced and usually, not provably,
 * the stickiest, as with Kafka's own heuristic.
 *
 * Cost: phase 2 scans a topic's subscribers per partition placed; a move
 * in phase 3 costs the source's partitions, the topic's subscribers, the
 * two members' topics and a shift in the by-count order; per-topic
 * minimum counts are kept up to date incrementally (tmin, tmin_n).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"

#define NONE UINT32_MAX
#define CONTESTED (UINT32_MAX - 1) /* claimed by two members: nobody's */
#define MAX_ITEMS (1u << 31) /* partitions, subscriptions: room for tags */

/* A name and its index in the caller's array, for sorting. */
struct key {
	const char *s;
	uint32_t i;
};

struct view {
	const struct sfd_assign_topic *topics;
	const struct sfd_assign_member *members;
	uint32_t nt, nm, np; /* topics, members, partitions */
	struct key *tkey; /* topics by name: tkey[c].i is the caller's */
	uint32_t *tcan; /* caller's topic index -> canonical */
	uint32_t *poff; /* canonical topic -> first g; [nt] = np */
	uint32_t *thash, hmask; /* name hash -> canonical topic, or NONE */
	uint32_t *mord; /* canonical member -> caller's index */
	uint32_t *msub_off, *msub; /* member -> its topics, sorted */
	uint32_t *tsub_off, *tsub; /* topic -> its members, sorted */
	uint32_t *owner; /* g -> canonical member, or NONE */
	uint32_t *slab; /* all the uint32_t arrays above */
};

/* ---- the canonical view -------------------------------------------------- */

static int key_cmp(const void *x, const void *y)
{
	return strcmp(((const struct key *)x)->s, ((const struct key *)y)->s);
}

static int u32_cmp(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return (a > b) - (a < b);
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;

	return (a > b) - (a < b);
}

/* Sort @k by name; -EINVAL if two are equal. */
static int sort_unique(struct key *k, uint32_t n)
{
	qsort(k, n, sizeof(*k), key_cmp);
	for (uint32_t i = 1; i < n; i++)
		if (!strcmp(k[i - 1].s, k[i].s))
			return -EINVAL;
	return 0;
}

static int check_member(const struct sfd_assign_member *m, uint64_t *subs)
{
	if (!m->id || (m->ntopics && !m->topics) || (m->nprev && !m->prev))
		return -EINVAL;
	for (uint32_t j = 0; j < m->ntopics; j++)
		if (!m->topics[j])
			return -EINVAL;
	*subs += m->ntopics;
	return 0;
}

/* Pointers, names, and the totals that size the view. */
static int check_input(const struct sfd_assign_topic *topics, uint32_t nt,
		       const struct sfd_assign_member *members, uint32_t nm,
		       uint64_t *np, uint64_t *subs)
{
	if ((nt && !topics) || !members || nt > MAX_ITEMS)
		return -EINVAL;
	*np = 0;
	*subs = 0;
	for (uint32_t i = 0; i < nt; i++) {
		if (!topics[i].name)
			return -EINVAL;
		*np += topics[i].partitions;
	}
	for (uint32_t i = 0; i < nm; i++)
		if (check_member(&members[i], subs))
			return -EINVAL;
	return *np > MAX_ITEMS || *subs > MAX_ITEMS ? -EINVAL : 0;
}

static void view_free(struct view *v)
{
	free(v->tkey);
	free(v->slab);
}

/* Carve the view's arrays out of one allocation. */
static int view_alloc(struct view *v, uint64_t subs)
{
	uint64_t nt = v->nt, nm = v->nm, hsize = 2;
	uint32_t *p;

	while (hsize < 2 * nt)
		hsize *= 2;
	v->hmask = (uint32_t)(hsize - 1);
	v->tkey = malloc((nt ? nt : 1) * sizeof(*v->tkey));
	v->slab = malloc((3 * nt + 2 + hsize + 2 * nm + 1 + 2 * subs + v->np) *
			 sizeof(*v->slab));
	if (!v->tkey || !v->slab)
		return -ENOMEM;
	p = v->slab;
	v->tcan = p, p += nt;
	v->poff = p, p += nt + 1;
	v->tsub_off = p, p += nt + 1;
	v->thash = p, p += hsize;
	v->mord = p, p += nm;
	v->msub_off = p, p += nm + 1;
	v->msub = p, p += subs;
	v->tsub = p, p += subs;
	v->owner = p;
	return 0;
}

/* FNV-1a. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static void hash_add(struct view *v, uint32_t c)
{
	uint32_t slot = name_hash(v->tkey[c].s) & v->hmask;

	while (v->thash[slot] != NONE)
		slot = (slot + 1) & v->hmask;
	v->thash[slot] = c;
}

/* Canonical number of the topic called @name, or NONE. */
static uint32_t topic_find(const struct view *v, const char *name)
{
	uint32_t slot = name_hash(name) & v->hmask;

	for (; v->thash[slot] != NONE; slot = (slot + 1) & v->hmask)
		if (!strcmp(v->tkey[v->thash[slot]].s, name))
			return v->thash[slot];
	return NONE;
}

static int view_topics(struct view *v)
{
	uint32_t g = 0;

	for (uint32_t i = 0; i < v->nt; i++)
		v->tkey[i] = (struct key){ v->topics[i].name, i };
	if (sort_unique(v->tkey, v->nt))
		return -EINVAL;
	memset(v->thash, 0xff, ((size_t)v->hmask + 1) * sizeof(*v->thash));
	for (uint32_t c = 0; c < v->nt; c++) {
		v->tcan[v->tkey[c].i] = c;
		v->poff[c] = g;
		g += v->topics[v->tkey[c].i].partitions;
		hash_add(v, c);
	}
	v->poff[v->nt] = g;
	return 0;
}

static int view_members(struct view *v)
{
	struct key *k = malloc(v->nm * sizeof(*k));
	int err;

	if (!k)
		return -ENOMEM;
	for (uint32_t i = 0; i < v->nm; i++)
		k[i] = (struct key){ v->members[i].id, i };
	err = sort_unique(k, v->nm);
	for (uint32_t m = 0; !err && m < v->nm; m++)
		v->mord[m] = k[m].i;
	free(k);
	return err;
}

/*
 * Member @m's known topics, once each, in its order, at msub[*n...];
 * seen[t] == @m + 1 marks those already there.
 */
static void resolve_subs(struct view *v, uint32_t m, uint32_t *n,
			 uint32_t *seen)
{
	const struct sfd_assign_member *mem = &v->members[v->mord[m]];

	for (uint32_t j = 0; j < mem->ntopics; j++) {
		uint32_t t = topic_find(v, mem->topics[j]);

		if (t != NONE && seen[t] != m + 1) {
			seen[t] = m + 1;
			v->msub[(*n)++] = t;
		}
	}
}

/* Offsets from counts: off[i + 1] holds the count of i on entry. */
static void prefix_sum(uint32_t *off, uint32_t n)
{
	off[0] = 0;
	for (uint32_t i = 0; i < n; i++)
		off[i + 1] += off[i];
}

/*
 * Both directions of "subscribes to", each list sorted, in linear time:
 * msub as given, tsub from it member by member (so sorted by member), then
 * msub again from tsub topic by topic (so sorted by topic).
 */
static int view_subs(struct view *v)
{
	uint32_t n = 0,
		 *fill = calloc((size_t)v->nt + v->nm + 1, sizeof(*fill));
	uint32_t *mfill = fill + v->nt;

	if (!fill)
		return -ENOMEM;
	for (uint32_t m = 0; m < v->nm; m++) {
		v->msub_off[m] = n;
		resolve_subs(v, m, &n, fill);
	}
	v->msub_off[v->nm] = n;
	memset(v->tsub_off, 0, ((size_t)v->nt + 1) * sizeof(*v->tsub_off));
	memset(fill, 0, v->nt * sizeof(*fill));
	for (uint32_t j = 0; j < n; j++)
		v->tsub_off[v->msub[j] + 1]++;
	prefix_sum(v->tsub_off, v->nt);
	for (uint32_t m = 0; m < v->nm; m++)
		for (uint32_t j = v->msub_off[m]; j < v->msub_off[m + 1]; j++)
			v->tsub[v->tsub_off[v->msub[j]] + fill[v->msub[j]]++] =
				m;
	for (uint32_t t = 0; t < v->nt; t++)
		for (uint32_t j = v->tsub_off[t]; j < v->tsub_off[t + 1]; j++)
			v->msub[v->msub_off[v->tsub[j]] + mfill[v->tsub[j]]++] =
				t;
	free(fill);
	return 0;
}

static int view_init(struct view *v, const struct sfd_assign_topic *topics,
		     uint32_t nt, const struct sfd_assign_member *members,
		     uint32_t nm)
{
	uint64_t np = 0, subs = 0;
	int err = check_input(topics, nt, members, nm, &np, &subs);

	*v = (struct view){ topics, members, nt, nm, (uint32_t)np };
	if (!err)
		err = view_alloc(v, subs);
	if (!err)
		err = view_topics(v);
	if (!err)
		err = view_members(v);
	if (!err)
		err = view_subs(v);
	for (uint32_t g = 0; !err && g < v->np; g++)
		v->owner[g] = NONE;
	return err;
}

static uint32_t nsubs(const struct view *v, uint32_t t)
{
	return v->tsub_off[t + 1] - v->tsub_off[t];
}

static bool subscribes(const struct view *v, uint32_t m, uint32_t t)
{
	const uint32_t *s = v->msub + v->msub_off[m];
	uint32_t n = v->msub_off[m + 1] - v->msub_off[m];

	return bsearch(&t, s, n, sizeof(*s), u32_cmp) != NULL;
}

static uint32_t topic_parts(const struct view *v, uint32_t t)
{
	return v->poff[t + 1] - v->poff[t];
}

/* ---- results ------------------------------------------------------------- */

/* owner[] in the caller's numbering, sorted by (topic, partition). */
static int emit(const struct view *v, struct sfd_assignment *out)
{
	struct sfd_assignment *r = calloc(v->nm, sizeof(*r));
	uint32_t *cnt = calloc(v->nm, sizeof(*cnt));
	int err = r && cnt ? 0 : -ENOMEM;

	for (uint32_t g = 0; !err && g < v->np; g++)
		if (v->owner[g] != NONE)
			cnt[v->mord[v->owner[g]]]++;
	for (uint32_t i = 0; !err && i < v->nm; i++)
		if (cnt[i] && !(r[i].tp = malloc(cnt[i] * sizeof(*r[i].tp))))
			err = -ENOMEM;
	for (uint32_t i = 0; !err && i < v->nt; i++) {
		uint32_t c = v->tcan[i], g = v->poff[c];

		for (uint32_t k = 0; k < topic_parts(v, c); k++, g++) {
			struct sfd_assignment *a;

			if (v->owner[g] == NONE)
				continue;
			a = &r[v->mord[v->owner[g]]];
			a->tp[a->n++] = (struct sfd_tp){ i, k };
		}
	}
	if (!err)
		memcpy(out, r, v->nm * sizeof(*r));
	else if (r)
		sfd_assignment_free(r, v->nm);
	free(r);
	free(cnt);
	return err;
}

void sfd_assignment_free(struct sfd_assignment *out, uint32_t nmembers)
{
	for (uint32_t i = 0; out && i < nmembers; i++) {
		free(out[i].tp);
		out[i] = (struct sfd_assignment){ NULL, 0 };
	}
}

/* ---- range and roundrobin ------------------------------------------------ */

static int assign_range(struct view *v)
{
	for (uint32_t t = 0; t < v->nt; t++) {
		uint32_t m = nsubs(v, t), g = v->poff[t];
		const uint32_t *sub = v->tsub + v->tsub_off[t];

		if (!m)
			continue;
		for (uint32_t i = 0; i < m; i++) {
			uint32_t len = topic_parts(v, t) / m +
				       (i < topic_parts(v, t) % m);

			while (len--)
				v->owner[g++] = sub[i];
		}
	}
	return 0;
}

static int assign_roundrobin(struct view *v)
{
	uint32_t next = 0;

	for (uint32_t t = 0; t < v->nt; t++) {
		if (!nsubs(v, t))
			continue;
		for (uint32_t g = v->poff[t]; g < v->poff[t + 1]; g++) {
			while (!subscribes(v, next, t))
				next = (next + 1) % v->nm;
			v->owner[g] = next;
			next = (next + 1) % v->nm;
		}
	}
	return 0;
}

/* ---- sticky -------------------------------------------------------------- */

struct sticky {
	struct view *v;
	uint32_t *cnt; /* member -> partitions held */
	uint32_t *head; /* member -> first partition held, or NONE */
	uint32_t *next, *prev; /* partition -> neighbours in its owner's list */
	uint32_t *was; /* partition -> the member that kept it, or NONE */
	uint32_t *ptop; /* partition -> topic */
	uint32_t *tmin; /* topic -> least count among its subscribers */
	uint32_t *tmin_n; /* topic -> how many subscribers have tmin */
	uint32_t *order; /* members by count, most first, then number */
	uint32_t *rank; /* member -> its place in order[] */
	uint32_t *slab;
};

static int sticky_init(struct sticky *s, struct view *v)
{
	uint64_t n =
		4 * (uint64_t)v->np + 4 * (uint64_t)v->nm + 2 * (uint64_t)v->nt;
	uint32_t *p = malloc((n ? n : 1) * sizeof(*p));

	*s = (struct sticky){ .v = v, .slab = p };
	if (!p)
		return -ENOMEM;
	s->next = p, p += v->np;
	s->prev = p, p += v->np;
	s->was = p, p += v->np;
	s->ptop = p, p += v->np;
	s->cnt = p, p += v->nm;
	s->head = p, p += v->nm;
	s->order = p, p += v->nm;
	s->rank = p, p += v->nm;
	s->tmin = p, p += v->nt;
	s->tmin_n = p;
	memset(s->cnt, 0, v->nm * sizeof(*s->cnt));
	for (uint32_t m = 0; m < v->nm; m++)
		s->head[m] = NONE;
	for (uint32_t t = 0; t < v->nt; t++)
		for (uint32_t g = v->poff[t]; g < v->poff[t + 1]; g++)
			s->ptop[g] = t;
	return 0;
}

static void give(struct sticky *s, uint32_t m, uint32_t g)
{
	s->v->owner[g] = m;
	s->prev[g] = NONE;
	s->next[g] = s->head[m];
	if (s->head[m] != NONE)
		s->prev[s->head[m]] = g;
	s->head[m] = g;
	s->cnt[m]++;
}

static void take(struct sticky *s, uint32_t m, uint32_t g)
{
	if (s->prev[g] != NONE)
		s->next[s->prev[g]] = s->next[g];
	else
		s->head[m] = s->next[g];
	if (s->next[g] != NONE)
		s->prev[s->next[g]] = s->prev[g];
	s->cnt[m]--;
}

/* Record member @m's claim on its previous partition @tp. */
static void claim(struct view *v, uint32_t m, struct sfd_tp tp)
{
	uint32_t t, g;

	if (tp.topic >= v->nt)
		return;
	t = v->tcan[tp.topic];
	if (tp.partition >= topic_parts(v, t) || !subscribes(v, m, t))
		return;
	g = v->poff[t] + tp.partition;
	if (v->owner[g] == NONE)
		v->owner[g] = m;
	else if (v->owner[g] != m)
		v->owner[g] = CONTESTED;
}

/* Phase 1: every uncontested, still valid previous ownership stands. */
static void sticky_keep(struct sticky *s)
{
	struct view *v = s->v;

	for (uint32_t m = 0; m < v->nm; m++) {
		const struct sfd_assign_member *mem = &v->members[v->mord[m]];

		for (uint32_t j = 0; j < mem->nprev; j++)
			claim(v, m, mem->prev[j]);
	}
	for (uint32_t g = 0; g < v->np; g++) {
		uint32_t m = v->owner[g];

		s->was[g] = m < v->nm ? m : NONE;
		v->owner[g] = NONE;
		if (s->was[g] != NONE)
			give(s, m, g);
	}
}

/* The subscriber of @t with the fewest partitions, lowest number first. */
static uint32_t least_loaded(const struct sticky *s, uint32_t t)
{
	const struct view *v = s->v;
	uint32_t best = NONE;

	for (uint32_t j = v->tsub_off[t]; j < v->tsub_off[t + 1]; j++)
		if (best == NONE || s->cnt[v->tsub[j]] < s->cnt[best])
			best = v->tsub[j];
	return best;
}

/* Phase 2: the rest, topics with the fewest subscribers first. */
static int sticky_place(struct sticky *s)
{
	struct view *v = s->v;
	uint64_t *k = malloc((v->nt ? v->nt : 1) * sizeof(*k));
	uint32_t n = 0;

	if (!k)
		return -ENOMEM;
	for (uint32_t t = 0; t < v->nt; t++)
		if (nsubs(v, t))
			k[n++] = (uint64_t)nsubs(v, t) << 32 | t;
	qsort(k, n, sizeof(*k), u64_cmp);
	for (uint32_t i = 0; i < n; i++) {
		uint32_t t = (uint32_t)k[i];

		for (uint32_t g = v->poff[t]; g < v->poff[t + 1]; g++)
			if (v->owner[g] == NONE)
				give(s, least_loaded(s, t), g);
	}
	free(k);
	return 0;
}

static void tmin_compute(struct sticky *s, uint32_t t)
{
	const struct view *v = s->v;

	s->tmin[t] = NONE;
	s->tmin_n[t] = 0;
	for (uint32_t j = v->tsub_off[t]; j < v->tsub_off[t + 1]; j++) {
		uint32_t c = s->cnt[v->tsub[j]];

		if (c < s->tmin[t])
			s->tmin[t] = c, s->tmin_n[t] = 0;
		if (c == s->tmin[t])
			s->tmin_n[t]++;
	}
}

/* A subscriber of @t went down to @c partitions. */
static void tmin_down(struct sticky *s, uint32_t t, uint32_t c)
{
	if (c < s->tmin[t])
		s->tmin[t] = c, s->tmin_n[t] = 1;
	else if (c == s->tmin[t])
		s->tmin_n[t]++;
}

/* A subscriber of @t went up from @c partitions. */
static void tmin_up(struct sticky *s, uint32_t t, uint32_t c)
{
	if (c == s->tmin[t] && !--s->tmin_n[t])
		tmin_compute(s, t);
}

/* Does member @x come before @y in order[]: more partitions, lower id? */
static bool before(const struct sticky *s, uint32_t x, uint32_t y)
{
	return s->cnt[x] > s->cnt[y] || (s->cnt[x] == s->cnt[y] && x < y);
}

static void swap_ranks(struct sticky *s, uint32_t i, uint32_t j)
{
	uint32_t x = s->order[i], y = s->order[j];

	s->order[i] = y, s->rank[y] = i;
	s->order[j] = x, s->rank[x] = j;
}

/* Member @m's count changed by one: move it to its place in order[]. */
static void reorder(struct sticky *s, uint32_t m)
{
	uint32_t r = s->rank[m];

	while (r > 0 && before(s, m, s->order[r - 1]))
		swap_ranks(s, r, r - 1), r--;
	while (r + 1 < s->v->nm && before(s, s->order[r + 1], m))
		swap_ranks(s, r, r + 1), r++;
}

static int order_init(struct sticky *s)
{
	const struct view *v = s->v;
	uint64_t *k = malloc(v->nm * sizeof(*k));

	if (!k)
		return -ENOMEM;
	for (uint32_t m = 0; m < v->nm; m++)
		k[m] = (uint64_t)(UINT32_MAX - s->cnt[m]) << 32 | m;
	qsort(k, v->nm, sizeof(*k), u64_cmp);
	for (uint32_t i = 0; i < v->nm; i++) {
		s->order[i] = (uint32_t)k[i];
		s->rank[s->order[i]] = i;
	}
	free(k);
	return 0;
}

/*
 * A partition member @a should give away: one that a subscriber with 2+
 * fewer could take; the one @a got last among those it did not own
 * before, if any, else the lowest numbered.  NONE if there is none.
 */
static uint32_t pick(const struct sticky *s, uint32_t a)
{
	uint32_t best = NONE;

	for (uint32_t g = s->head[a]; g != NONE; g = s->next[g]) {
		if (s->cnt[a] < s->tmin[s->ptop[g]] + 2)
			continue;
		if (s->was[g] != a)
			return g;
		if (g < best)
			best = g;
	}
	return best;
}

static void move(struct sticky *s, uint32_t g, uint32_t a, uint32_t b)
{
	const struct view *v = s->v;

	take(s, a, g);
	for (uint32_t j = v->msub_off[a]; j < v->msub_off[a + 1]; j++)
		tmin_down(s, v->msub[j], s->cnt[a]);
	reorder(s, a);
	give(s, b, g);
	for (uint32_t j = v->msub_off[b]; j < v->msub_off[b + 1]; j++)
		tmin_up(s, v->msub[j], s->cnt[b] - 1);
	reorder(s, b);
}

/* One move from the most loaded member that can give: false if none. */
static bool balance_step(struct sticky *s)
{
	for (uint32_t i = 0; i < s->v->nm; i++) {
		uint32_t a = s->order[i], g;

		if (s->cnt[a] < 2)
			return false;
		g = pick(s, a);
		if (g != NONE) {
			move(s, g, a, least_loaded(s, s->ptop[g]));
			return true;
		}
	}
	return false;
}

/* Phase 3. */
static int sticky_balance(struct sticky *s)
{
	int err = order_init(s);

	for (uint32_t t = 0; t < s->v->nt; t++)
		tmin_compute(s, t);
	while (!err && balance_step(s))
		;
	return err;
}

static int assign_sticky(struct view *v)
{
	struct sticky s;
	int err = sticky_init(&s, v);

	if (!err) {
		sticky_keep(&s);
		err = sticky_place(&s);
	}
	if (!err)
		err = sticky_balance(&s);
	free(s.slab);
	return err;
}

/* ---- the calls ----------------------------------------------------------- */

static const struct {
	const char *name;
	const char *java;
} assignors[] = {
	[SFD_ASSIGN_RANGE] = { "range",
			       "org.apache.kafka.clients.consumer.RangeAssignor" },
	[SFD_ASSIGN_ROUNDROBIN] = { "roundrobin",
				    "org.apache.kafka.clients.consumer.RoundRobinAssignor" },
	[SFD_ASSIGN_STICKY] = { "sticky",
				"org.apache.kafka.clients.consumer.StickyAssignor" },
};

#define NASSIGNORS (sizeof(assignors) / sizeof(assignors[0]))

int sfd_assignor_parse(const char *name, enum sfd_assignor *out)
{
	for (size_t i = 0; name && i < NASSIGNORS; i++) {
		if (!strcmp(name, assignors[i].name) ||
		    !strcmp(name, assignors[i].java)) {
			*out = (enum sfd_assignor)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *sfd_assignor_name(enum sfd_assignor a)
{
	return (unsigned)a < NASSIGNORS ? assignors[a].name : "unknown";
}

int sfd_assign(enum sfd_assignor a, const struct sfd_assign_topic *topics,
	       uint32_t ntopics, const struct sfd_assign_member *members,
	       uint32_t nmembers, struct sfd_assignment *out)
{
	static int (*const run[])(struct view *) = {
		[SFD_ASSIGN_RANGE] = assign_range,
		[SFD_ASSIGN_ROUNDROBIN] = assign_roundrobin,
		[SFD_ASSIGN_STICKY] = assign_sticky,
	};
	struct view v;
	int err;

	if ((unsigned)a >= NASSIGNORS)
		return -EINVAL;
	if (!nmembers)
		return 0;
	if (!out)
		return -EINVAL;
	err = view_init(&v, topics, ntopics, members, nmembers);
	if (!err)
		err = run[a](&v);
	if (!err)
		err = emit(&v, out);
	view_free(&v);
	return err;
}
