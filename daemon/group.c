// SPDX-License-Identifier: MIT
/*
 * group.c - the consumer-group coordinator.
 *
 * Membership is a live connection: a member joins over the control
 * socket, and when that socket closes the member is gone at once (a
 * static member, one with an instance id, is only "away" for its grace
 * period and keeps its partitions).  Assignment is computed here, by the
 * group's assignor (assign.c), not by a leader member as in Kafka.
 *
 * A rebalance is eager, in two steps, so that no partition is ever
 * delivered by two members:
 *
 *   1. REVOKE: every member that owns partitions is told (an unsolicited
 *      SFP_GROUP_NOTIFY); it stops delivering them, commits, and answers
 *      SFP_GROUP_REVOKED.  A member that dies or does not answer within
 *      the largest max-poll interval is removed.
 *   2. ASSIGN: when none is left revoking, the generation moves on, the
 *      assignor runs over the members and the topics their subscriptions
 *      match (names, or ^regex), and each member is sent its partitions.
 *
 * Liveness: a member's library sends HEARTBEAT from its poll calls; one
 * silent for longer than its max-poll interval is fenced and removed.
 * Offsets are committed through sfd_offsets (a durable internal log);
 * a member may commit only partitions it owns, in its generation.
 */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign.h"
#include "group.h"
#include "offsets.h"

#define GROUP_MAX 249
#define TICK_MS 20
#define DEFAULT_MAX_POLL_MS 300000
#define DEFAULT_SESSION_MS 45000
#define MAX_SUBS 256u

enum gstate { G_EMPTY, G_STABLE, G_REBALANCING };

struct gmember {
	char id[128];
	char instance[128]; /* "" for a dynamic member */
	struct sfd_client *cl; /* NULL: a static member away */
	char client_id[64];
	pid_t pid;
	char **subs;
	uint32_t nsubs;
	int64_t max_poll_ms, session_ms;
	uint64_t seen_ns, away_ns;
	struct sfd_tp *tp; /* owned partitions, in the group's topic table */
	uint32_t ntp;
	bool revoking;
	bool released; /* revoked: @tp is only what sticky keeps, not owned */
	struct gmember *next;
};

struct group {
	char name[GROUP_MAX + 1];
	enum sfd_assignor assignor;
	int32_t generation;
	enum gstate state;
	uint64_t deadline_ns; /* of the revoke step */
	char **topics; /* the table the members' sfd_tp refer to */
	uint32_t *parts;
	uint32_t ntopics;
	struct gmember *members;
	uint32_t nmembers;
	struct group *next;
};

struct sfd_groups {
	struct sfd_registry *reg;
	struct sfd_server *srv;
	struct sfd_offsets *off;
	struct group *groups;
	uint64_t member_seq;
	uint64_t next_tick_ns; /* when the timers are looked at next */
};

static const char *const state_names[] = { "Empty", "Stable",
					   "PreparingRebalance" };

/* ---- small helpers ---------------------------------------------------------- */

static void free_strv(char **v, uint32_t n)
{
	for (uint32_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static int group_name_check(const char *name, char *err, size_t len)
{
	size_t n = strlen(name);

	if (n && n <= GROUP_MAX && !strpbrk(name, "/\n\t"))
		return 0;
	snprintf(err, len, "group id must be 1..%d characters, no '/'",
		 GROUP_MAX);
	return -EINVAL;
}

static struct group *group_find(struct sfd_groups *g, const char *name)
{
	for (struct group *gr = g->groups; gr; gr = gr->next)
		if (!strcmp(gr->name, name))
			return gr;
	return NULL;
}

static struct group *group_get(struct sfd_groups *g, const char *name)
{
	struct group *gr = group_find(g, name);

	if (gr)
		return gr;
	gr = calloc(1, sizeof(*gr));
	if (!gr)
		return NULL;
	snprintf(gr->name, sizeof(gr->name), "%s", name);
	gr->next = g->groups;
	g->groups = gr;
	return gr;
}

static struct gmember *member_of(struct group *gr, const struct sfd_client *cl)
{
	for (struct gmember *m = gr->members; m; m = m->next)
		if (cl && m->cl == cl)
			return m;
	return NULL;
}

static struct gmember *member_by_instance(struct group *gr, const char *inst)
{
	for (struct gmember *m = gr->members; m; m = m->next)
		if (inst[0] && !strcmp(m->instance, inst))
			return m;
	return NULL;
}

static void member_free(struct gmember *m)
{
	free_strv(m->subs, m->nsubs);
	free(m->tp);
	free(m);
}

static void member_unlink(struct group *gr, struct gmember *m)
{
	struct gmember **pp = &gr->members;

	while (*pp != m)
		pp = &(*pp)->next;
	*pp = m->next;
	gr->nmembers--;
	member_free(m);
}

static void table_free(struct group *gr)
{
	free_strv(gr->topics, gr->ntopics);
	free(gr->parts);
	gr->topics = NULL;
	gr->parts = NULL;
	gr->ntopics = 0;
}

/* ---- notifications ------------------------------------------------------------ */

static void notify_begin(struct sfp_buf *b, uint8_t *buf,
			 const struct group *gr, uint32_t event, int32_t gen)
{
	sfp_begin(b, buf, SFP_MAX_MSG, SFP_GROUP_NOTIFY, 0, 0);
	sfp_put_str(b, SFA_GROUP, gr->name);
	sfp_put_u32(b, SFA_GROUP_EVENT, event);
	sfp_put_s32(b, SFA_GENERATION, gen);
}

static void notify_send(struct sfd_groups *g, struct gmember *m,
			struct sfp_buf *b, bool more)
{
	int n;

	sfp_set_flags(b, more ? SFP_F_MORE : 0);
	n = sfp_end(b);
	sfd_assert(n > 0, "notice does not fit: %d", n);
	sfd_client_notify(g->srv, m->cl, b->p, (size_t)n);
}

/*
 * Tell a member an event.  An assignment too long for one message goes
 * in several, all but the last flagged SFP_F_MORE.
 */
static void notify(struct sfd_groups *g, struct group *gr, struct gmember *m,
		   uint32_t event, int32_t gen)
{
	static uint8_t buf[SFP_MAX_MSG];
	struct sfp_buf b;

	if (!m->cl)
		return;
	notify_begin(&b, buf, gr, event, gen);
	for (uint32_t i = 0; event == SFP_EVENT_ASSIGN && i < m->ntp; i++) {
		if (sfp_room(&b) < 1024) {
			notify_send(g, m, &b, true);
			notify_begin(&b, buf, gr, event, gen);
		}
		sfp_nest_begin(&b, SFA_TP);
		sfp_put_str(&b, SFA_TOPIC, gr->topics[m->tp[i].topic]);
		sfp_put_u32(&b, SFA_PARTITION, m->tp[i].partition);
		sfp_nest_end(&b);
	}
	notify_send(g, m, &b, false);
}

/* ---- assignment ----------------------------------------------------------------- */

static bool sub_matches(const char *sub, const char *topic)
{
	regex_t re;
	bool hit;

	if (sub[0] != '^')
		return !strcmp(sub, topic);
	if (regcomp(&re, sub, REG_EXTENDED | REG_NOSUB))
		return false;
	hit = !regexec(&re, topic, 0, NULL, 0);
	regfree(&re);
	return hit;
}

static bool member_wants(const struct gmember *m, const char *topic)
{
	for (uint32_t i = 0; i < m->nsubs; i++)
		if (sub_matches(m->subs[i], topic))
			return true;
	return false;
}

static bool group_wants(const struct group *gr, const char *topic)
{
	/* Internal topics are never matched by a pattern. */
	if (!strncmp(topic, "__", 2))
		return false;
	for (const struct gmember *m = gr->members; m; m = m->next)
		if (member_wants(m, topic))
			return true;
	return false;
}

/* The topics (and partition counts) the members subscribe to, now. */
static int build_table(struct sfd_groups *g, struct group *gr, char ***names,
		       uint32_t **parts, uint32_t *n)
{
	uint32_t cap = 0;
	int err = 0;

	*names = NULL;
	*parts = NULL;
	*n = 0;
	pthread_mutex_lock(&g->reg->lock);
	for (struct sfd_topic *t = g->reg->topics; t && !err; t = t->next) {
		if (!group_wants(gr, t->name))
			continue;
		if (*n == cap) {
			char **nn;
			uint32_t *np;

			cap = cap ? cap * 2 : 16;
			nn = realloc(*names, cap * sizeof(*nn));
			np = nn ? realloc(*parts, cap * sizeof(*np)) : NULL;
			if (nn)
				*names = nn;
			if (!np) {
				err = -ENOMEM;
				break;
			}
			*parts = np;
		}
		(*names)[*n] = strdup(t->name);
		(*parts)[*n] = t->cfg.partitions;
		err = (*names)[*n] ? 0 : -ENOMEM;
		(*n)++;
	}
	pthread_mutex_unlock(&g->reg->lock);
	return err;
}

static int table_index(char **names, uint32_t n, const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return (int)i;
	return -1;
}

/* A member's previous partitions, in the new table's numbering. */
static struct sfd_tp *prev_in(const struct group *gr, const struct gmember *m,
			      char **names, uint32_t *parts, uint32_t n,
			      uint32_t *nprev)
{
	struct sfd_tp *p = calloc(m->ntp ? m->ntp : 1, sizeof(*p));

	*nprev = 0;
	for (uint32_t i = 0; p && i < m->ntp; i++) {
		int t = table_index(names, n, gr->topics[m->tp[i].topic]);

		if (t < 0 || m->tp[i].partition >= parts[t])
			continue;
		p[*nprev].topic = (uint32_t)t;
		p[(*nprev)++].partition = m->tp[i].partition;
	}
	return p;
}

/* The topic names member @m subscribes to, out of the new table. */
static const char **subs_in(const struct gmember *m, char **names, uint32_t n,
			    uint32_t *count)
{
	const char **v = calloc(n ? n : 1, sizeof(*v));

	*count = 0;
	for (uint32_t i = 0; v && i < n; i++)
		if (member_wants(m, names[i]))
			v[(*count)++] = names[i];
	return v;
}

struct plan {
	char **names;
	uint32_t *parts;
	uint32_t n;
	struct sfd_assign_topic *topics;
	struct sfd_assign_member *am;
	struct sfd_assignment *out;
	uint32_t nm;
};

static void plan_free(struct plan *p)
{
	for (uint32_t i = 0; p->am && i < p->nm; i++) {
		free((void *)p->am[i].topics);
		free((void *)p->am[i].prev);
	}
	free(p->am);
	free(p->topics);
	if (p->out)
		sfd_assignment_free(p->out, p->nm);
	free(p->out);
	free_strv(p->names, p->n);
	free(p->parts);
}

static int plan_members(const struct group *gr, struct plan *p)
{
	uint32_t i = 0;

	p->nm = gr->nmembers;
	p->am = calloc(p->nm ? p->nm : 1, sizeof(*p->am));
	p->out = calloc(p->nm ? p->nm : 1, sizeof(*p->out));
	if (!p->am || !p->out)
		return -ENOMEM;
	for (const struct gmember *m = gr->members; m; m = m->next, i++) {
		/* Static members sort by instance id, as in Kafka. */
		p->am[i].id = m->instance[0] ? m->instance : m->id;
		p->am[i].topics = subs_in(m, p->names, p->n, &p->am[i].ntopics);
		p->am[i].prev = prev_in(gr, m, p->names, p->parts, p->n,
					&p->am[i].nprev);
		if (!p->am[i].topics || !p->am[i].prev)
			return -ENOMEM;
	}
	return 0;
}

static int plan_run(struct sfd_groups *g, const struct group *gr,
		    struct plan *p)
{
	int err =
		build_table(g, (struct group *)gr, &p->names, &p->parts, &p->n);

	if (!err) {
		p->topics = calloc(p->n ? p->n : 1, sizeof(*p->topics));
		err = p->topics ? 0 : -ENOMEM;
	}
	for (uint32_t i = 0; !err && i < p->n; i++) {
		p->topics[i].name = p->names[i];
		p->topics[i].partitions = p->parts[i];
	}
	if (!err)
		err = plan_members(gr, p);
	if (!err)
		err = sfd_assign(gr->assignor, p->topics, p->n, p->am, p->nm,
				 p->out);
	return err;
}

/* Take the plan's table and per-member results into the group. */
static void plan_apply(struct group *gr, struct plan *p)
{
	uint32_t i = 0;

	table_free(gr);
	gr->topics = p->names;
	gr->parts = p->parts;
	gr->ntopics = p->n;
	p->names = NULL;
	p->parts = NULL;
	p->n = 0;
	for (struct gmember *m = gr->members; m; m = m->next, i++) {
		free(m->tp);
		m->tp = p->out[i].tp;
		m->ntp = p->out[i].n;
		m->released = false;
		p->out[i].tp = NULL;
		p->out[i].n = 0;
	}
}

static void complete(struct sfd_groups *g, struct group *gr)
{
	struct plan p = { 0 };
	int err = plan_run(g, gr, &p);

	gr->generation++;
	if (err) {
		/* Nobody owns anything in this generation; say so. */
		sfd_error("group", err, "%s: assignment failed", gr->name);
		for (struct gmember *m = gr->members; m; m = m->next) {
			m->ntp = 0;
			m->released = false;
		}
	} else {
		plan_apply(gr, &p);
	}
	plan_free(&p);
	gr->state = gr->nmembers ? G_STABLE : G_EMPTY;
	sfd_info("group", "%s: generation %d, %u members (%s)", gr->name,
		 gr->generation, gr->nmembers, sfd_assignor_name(gr->assignor));
	for (struct gmember *m = gr->members; m; m = m->next)
		notify(g, gr, m, SFP_EVENT_ASSIGN, gr->generation);
}

static void maybe_complete(struct sfd_groups *g, struct group *gr)
{
	if (gr->state != G_REBALANCING)
		return;
	for (struct gmember *m = gr->members; m; m = m->next)
		if (m->revoking)
			return;
	complete(g, gr);
}

static void rebalance(struct sfd_groups *g, struct group *gr)
{
	int64_t wait = 0;

	if (gr->state != G_REBALANCING) {
		gr->state = G_REBALANCING;
		for (struct gmember *m = gr->members; m; m = m->next) {
			wait = m->max_poll_ms > wait ? m->max_poll_ms : wait;
			m->revoking = m->cl && m->ntp;
			if (m->revoking)
				notify(g, gr, m, SFP_EVENT_REVOKE,
				       gr->generation + 1);
		}
		gr->deadline_ns = sfd_now_ns() + (uint64_t)wait * 1000000ull;
	}
	maybe_complete(g, gr);
}

/* ---- membership ----------------------------------------------------------------- */

struct join_args {
	const char *group, *instance, *assignor;
	char **subs;
	uint32_t nsubs;
	int64_t max_poll_ms, session_ms;
};

static int check_subs(struct join_args *a, char *err, size_t len)
{
	for (uint32_t i = 0; i < a->nsubs; i++) {
		regex_t re;
		int rc;

		if (a->subs[i][0] != '^')
			continue;
		rc = regcomp(&re, a->subs[i], REG_EXTENDED | REG_NOSUB);
		if (rc) {
			snprintf(err, len, "bad pattern \"%.100s\"",
				 a->subs[i]);
			return -EINVAL;
		}
		regfree(&re);
	}
	return a->nsubs ? 0 : -EINVAL;
}

static int collect_subs(const struct sfp_msg *msg, struct join_args *a)
{
	struct sfp_iter it;
	struct sfp_attr at;

	a->subs = calloc(MAX_SUBS, sizeof(*a->subs));
	if (!a->subs)
		return -ENOMEM;
	sfp_iter_init(&it, msg->attrs, msg->attrs_len);
	while (sfp_iter_next(&it, &at)) {
		const char *s;

		if (at.type != SFA_SUBSCRIBE)
			continue;
		if (sfp_attr_str(&at, &s) || a->nsubs >= MAX_SUBS)
			return -EINVAL;
		a->subs[a->nsubs] = strdup(s);
		if (!a->subs[a->nsubs++])
			return -ENOMEM;
	}
	return 0;
}

static int parse_join(const struct sfp_msg *msg, struct join_args *a, char *err,
		      size_t len)
{
	int rc;

	memset(a, 0, sizeof(*a));
	a->instance = "";
	a->assignor = "range";
	a->max_poll_ms = DEFAULT_MAX_POLL_MS;
	a->session_ms = DEFAULT_SESSION_MS;
	if (sfp_get_str(&msg->t, SFA_GROUP, &a->group)) {
		snprintf(err, len, "no group id");
		return -EINVAL;
	}
	rc = group_name_check(a->group, err, len);
	sfp_get_str(&msg->t, SFA_INSTANCE_ID, &a->instance);
	sfp_get_str(&msg->t, SFA_ASSIGNOR, &a->assignor);
	sfp_get_s64(&msg->t, SFA_MAX_POLL_MS, &a->max_poll_ms);
	sfp_get_s64(&msg->t, SFA_SESSION_MS, &a->session_ms);
	if (!rc && (a->max_poll_ms < 1 || a->session_ms < 0)) {
		snprintf(err, len, "max poll interval must be > 0");
		rc = -EINVAL;
	}
	if (!rc)
		rc = collect_subs(msg, a);
	if (!rc && check_subs(a, err, len) && !err[0])
		snprintf(err, len, "no subscription");
	return rc ? rc : (err[0] ? -EINVAL : 0);
}

static void member_set_subs(struct gmember *m, struct join_args *a)
{
	free_strv(m->subs, m->nsubs);
	m->subs = a->subs;
	m->nsubs = a->nsubs;
	a->subs = NULL;
	a->nsubs = 0;
	m->max_poll_ms = a->max_poll_ms;
	m->session_ms = a->session_ms;
}

static bool same_subs(const struct gmember *m, const struct join_args *a)
{
	if (m->nsubs != a->nsubs)
		return false;
	for (uint32_t i = 0; i < a->nsubs; i++)
		if (strcmp(m->subs[i], a->subs[i]))
			return false;
	return true;
}

static struct gmember *member_new(struct sfd_groups *g, struct group *gr,
				  struct sfd_client *cl, struct join_args *a)
{
	struct gmember *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	snprintf(m->client_id, sizeof(m->client_id), "%s", sfd_client_id(cl));
	snprintf(m->instance, sizeof(m->instance), "%s", a->instance);
	snprintf(m->id, sizeof(m->id), "%s-%d-%llu", m->client_id,
		 (int)sfd_client_pid(cl), (unsigned long long)++g->member_seq);
	m->next = gr->members;
	gr->members = m;
	gr->nmembers++;
	return m;
}

static void join_reply(struct sfd_reply *r, const struct group *gr,
		       const struct gmember *m)
{
	sfd_reply_begin(r, 0);
	sfp_put_str(&r->b, SFA_MEMBER_ID, m->id);
	sfp_put_s32(&r->b, SFA_GENERATION, gr->generation);
	sfd_reply_flush(r, false);
}

/*
 * A static member coming back within its grace period: same partitions,
 * no rebalance (unless it now subscribes to something else).
 */
static void rejoin_static(struct sfd_groups *g, struct group *gr,
			  struct gmember *m, struct sfd_client *cl,
			  struct join_args *a, struct sfd_reply *r)
{
	bool changed = !same_subs(m, a);

	if (m->cl && m->cl != cl)
		notify(g, gr, m, SFP_EVENT_FENCED, gr->generation);
	m->cl = cl;
	m->pid = sfd_client_pid(cl);
	m->seen_ns = sfd_now_ns();
	m->away_ns = 0;
	member_set_subs(m, a);
	join_reply(r, gr, m);
	if (changed || gr->state == G_REBALANCING)
		rebalance(g, gr);
	else
		notify(g, gr, m, SFP_EVENT_ASSIGN, gr->generation);
}

static int do_join(struct sfd_groups *g, struct sfd_client *cl,
		   const struct sfp_msg *msg, struct sfd_reply *r)
{
	char err[200] = "";
	struct join_args a;
	enum sfd_assignor as;
	struct group *gr;
	struct gmember *m;
	int rc = parse_join(msg, &a, err, sizeof(err));

	if (!rc && sfd_assignor_parse(a.assignor, &as)) {
		snprintf(err, sizeof(err), "unknown assignor \"%.60s\"",
			 a.assignor);
		rc = -EINVAL;
	}
	if (!rc && !cl) {
		snprintf(err, sizeof(err), "joining needs a connection");
		rc = -EINVAL;
	}
	gr = rc ? NULL : group_get(g, a.group);
	if (!rc && !gr)
		rc = -ENOMEM;
	if (!rc && gr->nmembers && gr->assignor != as) {
		snprintf(err, sizeof(err),
			 "group %.100s uses the %s assignor, not %.40s",
			 gr->name, sfd_assignor_name(gr->assignor), a.assignor);
		rc = -EINVAL;
	}
	if (rc) {
		free_strv(a.subs, a.nsubs);
		return sfd_reply_error(r, rc, err);
	}
	gr->assignor = as;
	m = member_by_instance(gr, a.instance);
	if (m) {
		rejoin_static(g, gr, m, cl, &a, r);
		free_strv(a.subs, a.nsubs);
		return 0;
	}
	m = member_of(gr, cl);
	if (!m)
		m = member_new(g, gr, cl, &a);
	if (!m) {
		free_strv(a.subs, a.nsubs);
		return sfd_reply_error(r, -ENOMEM, "");
	}
	m->cl = cl;
	m->pid = sfd_client_pid(cl);
	m->seen_ns = sfd_now_ns();
	member_set_subs(m, &a);
	join_reply(r, gr, m); /* before any notification for it */
	rebalance(g, gr);
	return 0;
}

/* The request's group and the caller's member in it, or an error reply. */
static int find_member(struct sfd_groups *g, struct sfd_client *cl,
		       const struct sfp_msg *msg, struct sfd_reply *r,
		       struct group **gr, struct gmember **m)
{
	const char *name;

	if (sfp_get_str(&msg->t, SFA_GROUP, &name))
		return sfd_reply_error(r, -EINVAL, "no group id");
	*gr = group_find(g, name);
	*m = *gr ? member_of(*gr, cl) : NULL;
	if (!*m)
		return sfd_reply_error(r, -ESTALE,
				       "not a member of this group: join "
				       "again");
	return 0;
}

static int ok_reply(struct sfd_reply *r, const struct group *gr)
{
	sfd_reply_begin(r, 0);
	sfp_put_s32(&r->b, SFA_GENERATION, gr->generation);
	sfp_put_str(&r->b, SFA_STATE, state_names[gr->state]);
	sfd_reply_flush(r, false);
	return 0;
}

static int do_revoked(struct sfd_groups *g, struct sfd_client *cl,
		      const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct group *gr;
	struct gmember *m;
	int32_t gen = 0;
	int rc = find_member(g, cl, msg, r, &gr, &m);

	if (rc)
		return rc;
	sfp_get_s32(&msg->t, SFA_GENERATION, &gen);
	m->seen_ns = sfd_now_ns();
	ok_reply(r, gr);
	if (gr->state == G_REBALANCING && gen == gr->generation + 1 &&
	    m->revoking) {
		m->revoking = false;
		/* Keeps @tp: the sticky assignor's previous assignment. */
		m->released = true;
		maybe_complete(g, gr);
	}
	return 0;
}

static int do_heartbeat(struct sfd_groups *g, struct sfd_client *cl,
			const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct group *gr;
	struct gmember *m;
	int rc = find_member(g, cl, msg, r, &gr, &m);

	if (rc)
		return rc;
	m->seen_ns = sfd_now_ns();
	return ok_reply(r, gr);
}

static void remove_member(struct sfd_groups *g, struct group *gr,
			  struct gmember *m, const char *why)
{
	sfd_info("group", "%s: member %s %s", gr->name, m->id, why);
	member_unlink(gr, m);
	rebalance(g, gr);
}

static int do_leave(struct sfd_groups *g, struct sfd_client *cl,
		    const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct group *gr;
	struct gmember *m;
	int rc = find_member(g, cl, msg, r, &gr, &m);

	if (rc)
		return rc;
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	remove_member(g, gr, m, "left");
	return 0;
}

void sfd_groups_client_gone(struct sfd_groups *g, struct sfd_client *cl)
{
	for (struct group *gr = g ? g->groups : NULL; gr; gr = gr->next) {
		struct gmember *m;

		while ((m = member_of(gr, cl))) {
			if (!m->instance[0]) {
				remove_member(g, gr, m, "disconnected");
				continue;
			}
			/* Static: keeps its partitions for its grace period. */
			m->cl = NULL;
			m->away_ns = sfd_now_ns();
			m->revoking = false;
			maybe_complete(g, gr);
		}
	}
}

void sfd_groups_topic_changed(struct sfd_groups *g, const char *topic)
{
	for (struct group *gr = g ? g->groups : NULL; gr; gr = gr->next)
		if (gr->nmembers && group_wants(gr, topic))
			rebalance(g, gr);
}

/* Members silent past max poll, static members away past their grace. */
static bool expire_one(struct sfd_groups *g, struct group *gr, uint64_t now)
{
	for (struct gmember *m = gr->members; m; m = m->next) {
		uint64_t poll = (uint64_t)m->max_poll_ms * 1000000ull;
		uint64_t grace = (uint64_t)m->session_ms * 1000000ull;

		if (m->cl && now - m->seen_ns > poll) {
			notify(g, gr, m, SFP_EVENT_FENCED, gr->generation);
			remove_member(g, gr, m,
				      "removed: no poll within max.poll");
			return true;
		}
		if (!m->cl && now - m->away_ns > grace) {
			remove_member(g, gr, m, "removed: grace period over");
			return true;
		}
	}
	return false;
}

static void expire_revokes(struct sfd_groups *g, struct group *gr, uint64_t now)
{
	struct gmember *m;

	if (gr->state != G_REBALANCING || now < gr->deadline_ns)
		return;
	for (m = gr->members; m; m = m->next) {
		if (!m->revoking)
			continue;
		notify(g, gr, m, SFP_EVENT_FENCED, gr->generation);
		sfd_info("group", "%s: member %s did not revoke in time",
			 gr->name, m->id);
		member_unlink(gr, m);
		expire_revokes(g, gr, now);
		return;
	}
	maybe_complete(g, gr);
}

int sfd_groups_tick(struct sfd_groups *g)
{
	uint64_t now = sfd_now_ns();
	bool any = false;

	/* Called before every wait of the control loop: walk at most once
	 * per tick. */
	if (now < g->next_tick_ns)
		return (int)((g->next_tick_ns - now + 999999) / 1000000);
	g->next_tick_ns = now + TICK_MS * 1000000ull;

	for (struct group *gr = g->groups; gr; gr = gr->next) {
		while (expire_one(g, gr, now))
			;
		expire_revokes(g, gr, now);
		any |= gr->nmembers > 0;
	}
	/* Rare (the log holds 4x the live table): rewrite it here. */
	if (sfd_offsets_compact_needed(g->off) &&
	    sfd_offsets_compact(g->off) < 0)
		sfd_warn("group", 0, "cannot compact the offsets log");
	return any ? TICK_MS : -1;
}

/* ---- offsets ---------------------------------------------------------------------- */

static bool owns(const struct group *gr, const struct gmember *m,
		 const char *topic, uint32_t partition)
{
	for (uint32_t i = 0; !m->released && i < m->ntp; i++)
		if (m->tp[i].partition == partition &&
		    !strcmp(gr->topics[m->tp[i].topic], topic))
			return true;
	return false;
}

/* One SFA_TP of a commit or reset, checked against the registry. */
static int parse_tp(struct sfd_groups *g, const struct sfp_attr *at,
		    struct sfd_offset_commit *c, char *err, size_t len)
{
	struct sfp_table t;
	struct sfd_topic *topic;
	int rc = sfp_parse_nested(at, &t);

	if (!rc && (sfp_get_str(&t, SFA_TOPIC, &c->topic) ||
		    sfp_get_u32(&t, SFA_PARTITION, &c->partition) ||
		    sfp_get_s64(&t, SFA_OFFSET, &c->offset)))
		rc = -EINVAL;
	if (rc) {
		snprintf(err, len, "each entry needs topic, partition, offset");
		return rc;
	}
	c->metadata = "";
	sfp_get_str(&t, SFA_METADATA, &c->metadata);
	pthread_mutex_lock(&g->reg->lock);
	topic = sfd_topic_find(g->reg, c->topic);
	rc = topic && c->partition < topic->cfg.partitions ? 0 : -ENOENT;
	pthread_mutex_unlock(&g->reg->lock);
	if (rc)
		snprintf(err, len, "unknown topic or partition %.100s-%u",
			 c->topic, c->partition);
	else if (c->offset < 0)
		rc = -EINVAL, snprintf(err, len, "negative offset");
	return rc;
}

static int parse_tps(struct sfd_groups *g, const struct sfp_msg *msg,
		     struct sfd_offset_commit **out, unsigned *n, char *err,
		     size_t len)
{
	struct sfp_iter it;
	struct sfp_attr at;
	unsigned cap = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	sfp_iter_init(&it, msg->attrs, msg->attrs_len);
	while (!rc && sfp_iter_next(&it, &at)) {
		if (at.type != SFA_TP)
			continue;
		if (*n == cap) {
			struct sfd_offset_commit *c;

			cap = cap ? cap * 2 : 16;
			c = realloc(*out, cap * sizeof(*c));
			if (!c)
				return -ENOMEM;
			*out = c;
		}
		rc = parse_tp(g, &at, &(*out)[*n], err, len);
		(*n)++;
	}
	return rc;
}

/*
 * May the caller commit these?  A group with members takes commits only
 * from a member, in its generation, for partitions it owns; a group
 * without members (standalone consumers, tools) from anyone.
 */
static int commit_allowed(struct group *gr, struct sfd_client *cl, int32_t gen,
			  const struct sfd_offset_commit *c, unsigned n,
			  char *err, size_t len)
{
	struct gmember *m = gr ? member_of(gr, cl) : NULL;

	if (!gr || !gr->nmembers)
		return 0;
	if (!m) {
		snprintf(err, len, "group %.100s has members; not one of them",
			 gr->name);
		return -ESTALE;
	}
	if (gen != gr->generation) {
		snprintf(err, len, "stale generation %d (now %d)", gen,
			 gr->generation);
		return -ESTALE;
	}
	for (unsigned i = 0; i < n; i++) {
		if (owns(gr, m, c[i].topic, c[i].partition))
			continue;
		snprintf(err, len, "%.100s-%u is not assigned to this member",
			 c[i].topic, c[i].partition);
		return -EPERM;
	}
	m->seen_ns = sfd_now_ns();
	return 0;
}

static int do_commit(struct sfd_groups *g, struct sfd_client *cl,
		     const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct sfd_offset_commit *c = NULL;
	const char *name;
	char err[256] = "";
	int32_t gen = -1;
	unsigned n = 0;
	int rc = sfp_get_str(&msg->t, SFA_GROUP, &name) ? -EINVAL : 0;

	if (!rc)
		rc = group_name_check(name, err, sizeof(err));
	sfp_get_s32(&msg->t, SFA_GENERATION, &gen);
	if (!rc)
		rc = parse_tps(g, msg, &c, &n, err, sizeof(err));
	if (!rc)
		rc = commit_allowed(group_find(g, name), cl, gen, c, n, err,
				    sizeof(err));
	if (!rc && n)
		rc = sfd_offsets_commit(g->off, name, c, n);
	free(c);
	if (rc)
		return sfd_reply_error(r, rc, err);
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	return 0;
}

static void put_tp(struct sfp_buf *b, const char *topic, uint32_t partition,
		   int64_t offset, const char *meta)
{
	sfp_nest_begin(b, SFA_TP);
	sfp_put_str(b, SFA_TOPIC, topic);
	sfp_put_u32(b, SFA_PARTITION, partition);
	sfp_put_s64(b, SFA_OFFSET, offset);
	if (meta && *meta)
		sfp_put_str(b, SFA_METADATA, meta);
	sfp_nest_end(b);
}

static int do_fetch(struct sfd_groups *g, const struct sfp_msg *msg,
		    struct sfd_reply *r)
{
	struct sfp_iter it;
	struct sfp_attr at;
	const char *name;

	if (sfp_get_str(&msg->t, SFA_GROUP, &name))
		return sfd_reply_error(r, -EINVAL, "no group id");
	sfd_reply_begin(r, 0);
	sfp_iter_init(&it, msg->attrs, msg->attrs_len);
	while (sfp_iter_next(&it, &at)) {
		struct sfp_table t;
		const char *topic, *meta = NULL;
		uint32_t part;
		int64_t off = -1;

		if (at.type != SFA_TP || sfp_parse_nested(&at, &t) ||
		    sfp_get_str(&t, SFA_TOPIC, &topic) ||
		    sfp_get_u32(&t, SFA_PARTITION, &part))
			continue;
		if (sfd_offsets_get(g->off, name, topic, part, &off, &meta))
			off = -1;
		sfd_reply_room(r);
		put_tp(&r->b, topic, part, off, meta);
	}
	sfd_reply_flush(r, false);
	return 0;
}

/* ---- admin: list, describe, delete, reset ------------------------------------- */

struct names {
	char **v;
	uint32_t n, cap;
};

static int names_add(struct names *ns, const char *s)
{
	for (uint32_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 0;
	if (ns->n == ns->cap) {
		char **v = realloc(ns->v,
				   (ns->cap ? ns->cap * 2 : 16) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = ns->cap ? ns->cap * 2 : 16;
	}
	ns->v[ns->n] = strdup(s);
	return ns->v[ns->n++] ? 0 : -ENOMEM;
}

static int add_group_name(void *arg, const char *group, uint32_t count)
{
	(void)count;
	return names_add(arg, group);
}

static void put_group_info(struct sfp_buf *b, const char *name,
			   const struct group *gr)
{
	sfp_nest_begin(b, SFA_GROUP_INFO);
	sfp_put_str(b, SFA_GROUP, name);
	sfp_put_str(b, SFA_STATE, state_names[gr ? gr->state : G_EMPTY]);
	sfp_put_s32(b, SFA_GENERATION, gr ? gr->generation : 0);
	sfp_put_u32(b, SFA_MEMBERS, gr ? gr->nmembers : 0);
	if (gr && gr->nmembers)
		sfp_put_str(b, SFA_ASSIGNOR, sfd_assignor_name(gr->assignor));
	sfp_nest_end(b);
}

/* Every group: with members now, or with committed offsets. */
static int all_groups(struct sfd_groups *g, struct names *ns)
{
	int err = 0;

	for (struct group *gr = g->groups; gr && !err; gr = gr->next)
		if (gr->nmembers)
			err = names_add(ns, gr->name);
	return err ? err : sfd_offsets_groups(g->off, add_group_name, ns);
}

static int do_list(struct sfd_groups *g, struct sfd_reply *r)
{
	struct names ns = { 0 };
	int err = all_groups(g, &ns);

	if (err) {
		free_strv(ns.v, ns.n);
		return sfd_reply_error(r, err, "");
	}
	sfd_reply_begin(r, 0);
	for (uint32_t i = 0; i < ns.n; i++) {
		sfd_reply_room(r);
		put_group_info(&r->b, ns.v[i], group_find(g, ns.v[i]));
	}
	sfd_reply_flush(r, false);
	free_strv(ns.v, ns.n);
	return 0;
}

static void put_member(struct sfd_reply *r, const struct group *gr,
		       const struct gmember *m)
{
	sfd_reply_room(r);
	sfp_nest_begin(&r->b, SFA_MEMBER);
	sfp_put_str(&r->b, SFA_MEMBER_ID, m->id);
	sfp_put_str(&r->b, SFA_INSTANCE_ID, m->instance);
	sfp_put_str(&r->b, SFA_CLIENT_ID, m->client_id);
	sfp_put_u32(&r->b, SFA_PID, (uint32_t)m->pid);
	sfp_put_str(&r->b, SFA_STATE, m->cl ? "connected" : "away");
	for (uint32_t i = 0;
	     !m->released && i < m->ntp && sfp_room(&r->b) > 512; i++)
		put_tp(&r->b, gr->topics[m->tp[i].topic], m->tp[i].partition,
		       -1, NULL);
	sfp_nest_end(&r->b);
}

struct describe_ctx {
	struct sfd_groups *g;
	struct sfd_reply *r;
	uint32_t n;
};

static int64_t log_end(struct sfd_groups *g, const char *topic, uint32_t p)
{
	struct sfd_topic *t;
	int64_t end = -1;

	pthread_mutex_lock(&g->reg->lock);
	t = sfd_topic_find(g->reg, topic);
	if (t && p < t->cfg.partitions)
		end = sfd_log_end_offset(t->parts[p].log);
	pthread_mutex_unlock(&g->reg->lock);
	return end;
}

static int put_committed(void *arg, const char *group, const char *topic,
			 uint32_t partition, int64_t offset, const char *meta)
{
	struct describe_ctx *d = arg;

	(void)group;
	(void)meta;
	sfd_reply_room(d->r);
	sfp_nest_begin(&d->r->b, SFA_TP);
	sfp_put_str(&d->r->b, SFA_TOPIC, topic);
	sfp_put_u32(&d->r->b, SFA_PARTITION, partition);
	sfp_put_s64(&d->r->b, SFA_OFFSET, offset);
	sfp_put_s64(&d->r->b, SFA_LOG_END, log_end(d->g, topic, partition));
	sfp_nest_end(&d->r->b);
	d->n++;
	return 0;
}

static int do_describe(struct sfd_groups *g, const struct sfp_msg *msg,
		       struct sfd_reply *r)
{
	struct describe_ctx d = { g, r, 0 };
	const char *name;
	struct group *gr;

	if (sfp_get_str(&msg->t, SFA_GROUP, &name))
		return sfd_reply_error(r, -EINVAL, "no group id");
	gr = group_find(g, name);
	sfd_reply_begin(r, 0);
	put_group_info(&r->b, name, gr);
	for (struct gmember *m = gr ? gr->members : NULL; m; m = m->next)
		put_member(r, gr, m);
	sfd_offsets_foreach(g->off, name, put_committed, &d);
	if (!d.n && !(gr && gr->nmembers)) {
		char err[300];

		snprintf(err, sizeof(err), "unknown group \"%.200s\"", name);
		return sfd_reply_error(r, -ENOENT, err);
	}
	sfd_reply_flush(r, false);
	return 0;
}

/* Admin requests on a group: it must exist and have no live members. */
static int idle_group(struct sfd_groups *g, struct sfd_client *cl,
		      const struct sfp_msg *msg, struct sfd_reply *r,
		      const char **name)
{
	struct group *gr;

	if (!sfd_client_admin(cl))
		return sfd_reply_error(r, -EACCES,
				       "needs root or the daemon's user");
	char err[120];

	if (sfp_get_str(&msg->t, SFA_GROUP, name))
		return sfd_reply_error(r, -EINVAL, "no group id");
	if (group_name_check(*name, err, sizeof(err)))
		return sfd_reply_error(r, -EINVAL, err);
	gr = group_find(g, *name);
	if (gr && gr->nmembers)
		return sfd_reply_error(r, -EBUSY,
				       "the group has active members; stop "
				       "them first");
	return 0;
}

static int do_delete(struct sfd_groups *g, struct sfd_client *cl,
		     const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct group **pp = &g->groups;
	const char *name;
	int rc = idle_group(g, cl, msg, r, &name);

	if (rc)
		return rc;
	rc = sfd_offsets_delete_group(g->off, name);
	if (rc)
		return sfd_reply_error(r, rc,
				       rc == -ENOENT ? "unknown group" : "");
	while (*pp && strcmp((*pp)->name, name))
		pp = &(*pp)->next;
	if (*pp) {
		struct group *gr = *pp;

		*pp = gr->next;
		table_free(gr);
		free(gr);
	}
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	return 0;
}

static int do_reset(struct sfd_groups *g, struct sfd_client *cl,
		    const struct sfp_msg *msg, struct sfd_reply *r)
{
	struct sfd_offset_commit *c = NULL;
	char err[256] = "";
	const char *name;
	unsigned n = 0;
	int rc = idle_group(g, cl, msg, r, &name);

	if (rc)
		return rc;
	rc = parse_tps(g, msg, &c, &n, err, sizeof(err));
	if (!rc && n)
		rc = sfd_offsets_commit(g->off, name, c, n);
	free(c);
	if (rc)
		return sfd_reply_error(r, rc, err);
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	return 0;
}

/* ---- entry points ----------------------------------------------------------------- */

bool sfd_group_request(uint16_t type)
{
	return type >= SFP_GROUP_JOIN && type < SFP_TYPE_MAX &&
	       type != SFP_GROUP_NOTIFY;
}

int sfd_group_handle(struct sfd_groups *g, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r)
{
	switch (m->type) {
	case SFP_GROUP_JOIN:
		return do_join(g, cl, m, r);
	case SFP_GROUP_REVOKED:
		return do_revoked(g, cl, m, r);
	case SFP_GROUP_HEARTBEAT:
		return do_heartbeat(g, cl, m, r);
	case SFP_GROUP_LEAVE:
		return do_leave(g, cl, m, r);
	case SFP_OFFSET_COMMIT:
		return do_commit(g, cl, m, r);
	case SFP_OFFSET_FETCH:
		return do_fetch(g, m, r);
	case SFP_GROUP_LIST:
		return do_list(g, r);
	case SFP_GROUP_DESCRIBE:
		return do_describe(g, m, r);
	case SFP_GROUP_DELETE:
		return do_delete(g, cl, m, r);
	case SFP_GROUP_RESET:
		return do_reset(g, cl, m, r);
	default:
		return sfd_reply_error(r, -EOPNOTSUPP, "unknown request type");
	}
}

int sfd_groups_open(struct sfd_registry *reg, struct sfd_server *srv,
		    struct sfd_groups **out)
{
	struct sfd_groups *g = calloc(1, sizeof(*g));
	char dir[PATH_MAX];
	int err;

	if (!g)
		return -ENOMEM;
	g->reg = reg;
	g->srv = srv;
	snprintf(dir, sizeof(dir), "%s/__consumer_offsets-0",
		 reg->cfg->data_dir);
	err = sfd_offsets_open(dir, &g->off);
	if (err) {
		sfd_error("group", err, "%s: cannot open the offsets store",
			  dir);
		free(g);
		return err;
	}
	*out = g;
	return 0;
}

void sfd_groups_close(struct sfd_groups *g)
{
	if (!g)
		return;
	while (g->groups) {
		struct group *gr = g->groups;

		g->groups = gr->next;
		while (gr->members) {
			struct gmember *m = gr->members;

			gr->members = m->next;
			member_free(m);
		}
		table_free(gr);
		free(gr);
	}
	sfd_offsets_close(g->off);
	free(g);
}
