// SPDX-License-Identifier: MIT
/*
 * member.c - a consumer as a member of a consumer group.
 *
 * The daemon's coordinator decides; the member follows its notices,
 * which arrive unsolicited on the client's control socket and are read
 * from inside sfshm_consumer_poll() (which wakes every few milliseconds
 * for them while it waits):
 *
 *   REVOKE  the member gives up every partition: the on_revoked callback
 *           runs (commit there), auto-commit commits, the partitions are
 *           dropped, and only then is REVOKED answered.  So a partition
 *           is never delivered by two members: the new owner gets it
 *           only after every old owner said it let go.
 *   ASSIGN  the member's partitions for a generation: each starts at
 *           the group's committed offset, or by the reset policy; then
 *           the on_assigned callback runs.
 *   FENCED  removed (it did not poll within max.poll.interval.ms): the
 *           partitions are lost (callback on_revoked), the member joins
 *           again.
 *
 * Heartbeats go from poll every quarter of the max-poll interval (at
 * most every 30 s; a dead member is seen by its connection closing, so
 * they only need to catch one that stopped polling).  Auto-commit sends
 * the positions of owned partitions asynchronously every auto_commit_ms
 * when records were delivered since the last one, and synchronously on
 * revoke.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer_int.h"
#include "sfshm_int.h"

#define MAX_HB_NS (30000ull * 1000000ull)
#define MIN_HB_NS (20ull * 1000000ull)
#define DEFAULT_AUTO_COMMIT_MS 5000

struct sf_member {
	char *group, *instance, *assignor;
	char **subs;
	unsigned nsubs;
	char member_id[128];
	int32_t generation; /* of the current assignment, -1 if none */
	bool assign_more; /* an assignment in several notices: more to come */
	int max_poll_ms, session_ms, auto_commit_ms;
	uint64_t hb_every_ns, next_hb_ns, next_commit_ns;
	uint64_t committed_at; /* sf_cons_delivered() at the last auto-commit */
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void member_free(struct sf_member *m)
{
	if (!m)
		return;
	for (unsigned i = 0; i < m->nsubs; i++)
		free(m->subs[i]);
	free(m->subs);
	free(m->group);
	free(m->instance);
	free(m->assignor);
	free(m);
}

static int member_new(const struct sfshm_consumer_opts *o,
		      const char *const *topics, unsigned n,
		      struct sf_member **out)
{
	struct sf_member *m = calloc(1, sizeof(*m));
	bool ok = m != NULL;

	if (ok) {
		m->group = strdup(o->group_id);
		m->instance = dup_or_null(o->instance_id);
		m->assignor = dup_or_null(o->assignor);
		m->subs = calloc(n, sizeof(*m->subs));
		ok = m->group && m->subs && (!o->instance_id || m->instance) &&
		     (!o->assignor || m->assignor);
	}
	for (unsigned i = 0; ok && i < n; i++) {
		m->subs[i] = strdup(topics[i]);
		ok = m->subs[i] != NULL;
		m->nsubs = i + 1;
	}
	if (!ok) {
		member_free(m);
		return -ENOMEM;
	}
	m->generation = -1;
	m->max_poll_ms = o->max_poll_ms > 0 ? o->max_poll_ms : 300000;
	m->session_ms = o->session_ms > 0 ? o->session_ms : 45000;
	m->auto_commit_ms = o->auto_commit_ms ? o->auto_commit_ms :
						DEFAULT_AUTO_COMMIT_MS;
	m->hb_every_ns = (uint64_t)m->max_poll_ms * 1000000ull / 4;
	if (m->hb_every_ns > MAX_HB_NS)
		m->hb_every_ns = MAX_HB_NS;
	if (m->hb_every_ns < MIN_HB_NS)
		m->hb_every_ns = MIN_HB_NS;
	*out = m;
	return 0;
}

/* ---- requests ------------------------------------------------------------ */

static void begin_group(struct sfshm_client *c, struct sfp_buf *b,
			uint16_t type, const struct sf_member *m)
{
	sf_req_begin(c, b, type);
	sfp_put_str(b, SFA_GROUP, m->group);
}

static int join(struct sfshm_client *c, struct sf_member *m)
{
	struct sf_reply rep = { 0 };
	struct sfp_buf b;
	const char *id;
	int err;

	begin_group(c, &b, SFP_GROUP_JOIN, m);
	if (m->instance)
		sfp_put_str(&b, SFA_INSTANCE_ID, m->instance);
	if (m->assignor)
		sfp_put_str(&b, SFA_ASSIGNOR, m->assignor);
	sfp_put_s64(&b, SFA_MAX_POLL_MS, m->max_poll_ms);
	sfp_put_s64(&b, SFA_SESSION_MS, m->session_ms);
	for (unsigned i = 0; i < m->nsubs; i++)
		sfp_put_str(&b, SFA_SUBSCRIBE, m->subs[i]);
	err = sf_call(c, &b, &rep);
	if (!err && (sfp_get_str(&rep.msg[0].m.t, SFA_MEMBER_ID, &id) ||
		     strlen(id) >= sizeof(m->member_id)))
		err = -EPROTO;
	if (!err)
		snprintf(m->member_id, sizeof(m->member_id), "%s", id);
	sf_reply_free(&rep);
	m->next_hb_ns = sf_now_ns() + m->hb_every_ns;
	return err;
}

static int simple_call(struct sfshm_client *c, struct sf_member *m,
		       uint16_t type, int32_t gen)
{
	struct sfp_buf b;

	begin_group(c, &b, type, m);
	if (gen >= 0)
		sfp_put_s32(&b, SFA_GENERATION, gen);
	return sf_call(c, &b, NULL);
}

static void put_offsets(struct sfp_buf *b, const struct sfshm_tp_offset *o,
			unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		sfp_nest_begin(b, SFA_TP);
		sfp_put_str(b, SFA_TOPIC, o[i].topic);
		sfp_put_u32(b, SFA_PARTITION, (uint32_t)o[i].partition);
		sfp_put_s64(b, SFA_OFFSET, o[i].offset);
		if (o[i].metadata)
			sfp_put_str(b, SFA_METADATA, o[i].metadata);
		sfp_nest_end(b);
	}
}

static int commit_with(struct sfshm_client *c, const char *group, int32_t gen,
		       const struct sfshm_tp_offset *o, unsigned n, bool async)
{
	struct sfp_buf b;
	int err;

	sf_req_begin(c, &b, SFP_OFFSET_COMMIT);
	sfp_put_str(&b, SFA_GROUP, group);
	sfp_put_s32(&b, SFA_GENERATION, gen);
	put_offsets(&b, o, n);
	if (async)
		return sf_send_async(c, &b);
	err = sf_take_async_err(c);
	return sf_call(c, &b, NULL) ?: err;
}

/* The positions of the owned partitions, as commit entries. */
static int positions(struct sfshm_consumer *cons, struct sfshm_tp **tps,
		     struct sfshm_tp_offset **o, unsigned *n)
{
	int err = sf_cons_list(cons, tps, n);
	unsigned k = 0;

	if (err)
		return err;
	*o = calloc(*n ? *n : 1, sizeof(**o));
	if (!*o) {
		free(*tps);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < *n; i++) {
		int64_t off;

		if (sfshm_consumer_position(cons, (*tps)[i].topic,
					    (*tps)[i].partition, &off))
			continue; /* not resolved (out of range): skip */
		(*o)[k].topic = (*tps)[i].topic;
		(*o)[k].partition = (*tps)[i].partition;
		(*o)[k++].offset = off;
	}
	*n = k;
	return 0;
}

/* ---- notices ------------------------------------------------------------ */

static void callback(struct sfshm_consumer *cons, sfshm_rebalance_cb cb)
{
	struct sfshm_tp *tps;
	unsigned n;

	if (!cb || sf_cons_list(cons, &tps, &n))
		return;
	cb(sf_cons_opts(cons)->cb_arg, cons, tps, n);
	free(tps);
}

static void drop_all(struct sfshm_consumer *cons, struct sf_member *m,
		     bool commit)
{
	callback(cons, sf_cons_opts(cons)->on_revoked);
	if (commit && m->auto_commit_ms > 0 && m->generation >= 0)
		sfshm_consumer_commit(cons, false);
	sf_cons_clear(cons);
	m->generation = -1;
}

static int on_revoke(struct sfshm_consumer *cons, struct sf_member *m,
		     int32_t gen)
{
	int err;

	drop_all(cons, m, true);
	err = simple_call(sf_cons_client(cons), m, SFP_GROUP_REVOKED, gen);
	if (err != -ESTALE)
		return err;
	/*
	 * Removed while the revoke waited for us (max poll interval): not
	 * an error of poll.  The FENCED notice that follows makes us join
	 * again; the heartbeat, due at once, does it should none come.
	 */
	m->next_hb_ns = 0;
	return 0;
}

/* Where a newly assigned partition starts: committed, or by the policy. */
static int64_t start_offset(struct sfshm_consumer *cons, const char *topic,
			    uint32_t partition)
{
	int64_t off;

	enum sfshm_offset_reset reset = sf_cons_opts(cons)->reset;

	if (!sfshm_consumer_committed(cons, topic, (int32_t)partition, &off))
		return off;
	if (reset == SFSHM_RESET_NONE)
		return INT64_MAX; /* out of range: poll says -ERANGE (Kafka:
				   * NoOffsetForPartition) until a seek */
	return reset == SFSHM_RESET_LATEST ? SFSHM_OFFSET_END :
					     SFSHM_OFFSET_BEGINNING;
}

static int add_tp(struct sfshm_consumer *cons, const struct sfp_attr *a)
{
	struct sfp_table t;
	const char *topic;
	uint32_t p;

	if (sfp_parse_nested(a, &t) || sfp_get_str(&t, SFA_TOPIC, &topic) ||
	    sfp_get_u32(&t, SFA_PARTITION, &p))
		return -EPROTO;
	return sf_cons_add(cons, topic, p, start_offset(cons, topic, p));
}

static int on_assign(struct sfshm_consumer *cons, struct sf_member *m,
		     const struct sfp_msg *msg, int32_t gen)
{
	struct sfp_iter it;
	struct sfp_attr a;
	int err = 0;

	/* The first notice of an assignment replaces what we had. */
	if (!m->assign_more)
		sf_cons_clear(cons);
	m->assign_more = msg->flags & SFP_F_MORE;
	m->generation = gen;
	sfp_iter_init(&it, msg->attrs, msg->attrs_len);
	while (!err && sfp_iter_next(&it, &a))
		if (a.type == SFA_TP)
			err = add_tp(cons, &a);
	if (err) {
		/* Cannot read what the group gave us: leave, and say why. */
		m->assign_more = false;
		sf_cons_clear(cons);
		simple_call(sf_cons_client(cons), m, SFP_GROUP_LEAVE, -1);
		return err;
	}
	if (m->assign_more)
		return 0;
	m->next_commit_ns =
		sf_now_ns() + (uint64_t)m->auto_commit_ms * 1000000ull;
	callback(cons, sf_cons_opts(cons)->on_assigned);
	return 0;
}

static int on_notice(struct sfshm_consumer *cons, struct sf_member *m,
		     const struct sfp_msg *msg)
{
	const char *group;
	uint32_t ev;
	int32_t gen;

	if (sfp_get_str(&msg->t, SFA_GROUP, &group) ||
	    sfp_get_u32(&msg->t, SFA_GROUP_EVENT, &ev) ||
	    sfp_get_s32(&msg->t, SFA_GENERATION, &gen))
		return -EPROTO;
	if (ev == SFP_EVENT_REVOKE)
		return on_revoke(cons, m, gen);
	if (ev == SFP_EVENT_ASSIGN)
		return on_assign(cons, m, msg, gen);
	if (ev == SFP_EVENT_FENCED) {
		drop_all(cons, m, false);
		return join(sf_cons_client(cons), m);
	}
	return 0;
}

/* Is @msg a notice for another group (another consumer of the client)? */
static bool not_mine(const struct sf_member *m, const struct sfp_msg *msg)
{
	const char *group;

	return !sfp_get_str(&msg->t, SFA_GROUP, &group) &&
	       strcmp(group, m->group);
}

/* Keep a notice of another consumer's group aside, on @tail's list. */
static int keep_aside(struct sf_notice ***tail, struct sf_reply_msg *one)
{
	struct sf_notice *n = malloc(sizeof(*n));

	if (!n) {
		free(one->buf);
		return -ENOMEM;
	}
	n->next = NULL;
	n->buf = one->buf;
	n->m = one->m;
	**tail = n;
	*tail = &n->next;
	return 0;
}

/* Put the notices kept aside back in front of the client's queue (they
 * came before whatever was queued since), for their consumers' polls. */
static void put_back(struct sfshm_client *c, struct sf_notice *list,
		     struct sf_notice **tail)
{
	if (!list)
		return;
	*tail = c->notices;
	if (!c->notices)
		c->notices_tail = tail;
	c->notices = list;
}

static int take_notices(struct sfshm_consumer *cons, struct sf_member *m)
{
	struct sfshm_client *c = sf_cons_client(cons);
	struct sf_notice *others = NULL, **tail = &others;
	struct sf_reply_msg one;
	int n, err = 0;

	while (!err && (n = sf_notice_next(c, &one)) == 1) {
		if (not_mine(m, &one.m)) {
			err = keep_aside(&tail, &one);
			continue;
		}
		err = on_notice(cons, m, &one.m);
		free(one.buf);
	}
	put_back(c, others, tail);
	return err ? err : (n < 0 ? n : 0);
}

/* After leaving: drop the group's notices still queued (none follow). */
static void drop_notices(struct sfshm_client *c, const struct sf_member *m)
{
	struct sf_notice **pp = &c->notices, *last = NULL;

	while (*pp) {
		struct sf_notice *n = *pp;

		if (not_mine(m, &n->m)) {
			last = n;
			pp = &n->next;
			continue;
		}
		*pp = n->next;
		free(n->buf);
		free(n);
	}
	c->notices_tail = last ? &last->next : &c->notices;
}

static int heartbeat(struct sfshm_consumer *cons, struct sf_member *m)
{
	int err = simple_call(sf_cons_client(cons), m, SFP_GROUP_HEARTBEAT, -1);

	m->next_hb_ns = sf_now_ns() + m->hb_every_ns;
	if (err == -ESTALE) {
		/* The coordinator dropped us: partitions lost; join again. */
		drop_all(cons, m, false);
		err = join(sf_cons_client(cons), m);
	}
	return err;
}

int sf_member_service(struct sfshm_consumer *cons)
{
	struct sf_member *m = *sf_cons_member(cons);
	uint64_t now = sf_now_ns();
	int err = take_notices(cons, m);

	if (!err && now >= m->next_hb_ns)
		err = heartbeat(cons, m);
	if (!err && m->auto_commit_ms > 0 && m->generation >= 0 &&
	    now >= m->next_commit_ns) {
		uint64_t delivered = sf_cons_delivered(cons);

		m->next_commit_ns =
			now + (uint64_t)m->auto_commit_ms * 1000000ull;
		/* Nothing delivered since: the positions are committed. */
		if (delivered != m->committed_at)
			err = sfshm_consumer_commit(cons, true);
		m->committed_at = delivered;
	}
	return err;
}

/* ---- the API ------------------------------------------------------------ */

int sfshm_consumer_subscribe(struct sfshm_consumer *cons,
			     const char *const *topics, unsigned n)
{
	const struct sfshm_consumer_opts *o = sf_cons_opts(cons);
	struct sf_member **mp = sf_cons_member(cons);
	struct sf_member *m = NULL;
	int err;

	if (*mp)
		return -EEXIST;
	if (!o->group_id || !n || sf_cons_manual(cons))
		return -EINVAL;
	err = member_new(o, topics, n, &m);
	if (!err)
		err = join(sf_cons_client(cons), m);
	if (err) {
		member_free(m);
		return err;
	}
	*mp = m;
	return 0;
}

int sfshm_consumer_unsubscribe(struct sfshm_consumer *cons)
{
	struct sf_member **mp = sf_cons_member(cons);
	int err;

	if (!*mp)
		return -ENOENT;
	drop_all(cons, *mp, true);
	err = simple_call(sf_cons_client(cons), *mp, SFP_GROUP_LEAVE, -1);
	drop_notices(sf_cons_client(cons), *mp);
	member_free(*mp);
	*mp = NULL;
	return err;
}

void sf_member_close(struct sfshm_consumer *cons)
{
	if (*sf_cons_member(cons))
		sfshm_consumer_unsubscribe(cons);
}

int32_t sfshm_consumer_generation(const struct sfshm_consumer *cons)
{
	struct sf_member *m = *sf_cons_member((struct sfshm_consumer *)cons);

	return m ? m->generation : -1;
}

int sfshm_consumer_commit_offsets(struct sfshm_consumer *cons,
				  const struct sfshm_tp_offset *o, unsigned n,
				  bool async)
{
	const struct sfshm_consumer_opts *opts = sf_cons_opts(cons);
	struct sf_member *m = *sf_cons_member(cons);

	if (!opts->group_id)
		return -EINVAL;
	if (!n)
		return 0;
	return commit_with(sf_cons_client(cons), opts->group_id,
			   m ? m->generation : -1, o, n, async);
}

int sfshm_consumer_commit(struct sfshm_consumer *cons, bool async)
{
	struct sfshm_tp_offset *o;
	struct sfshm_tp *tps;
	unsigned n;
	int err;

	if (!sf_cons_opts(cons)->group_id)
		return -EINVAL;
	err = positions(cons, &tps, &o, &n);
	if (err)
		return err;
	err = sfshm_consumer_commit_offsets(cons, o, n, async);
	free(o);
	free(tps);
	return err;
}

static int parse_committed(const struct sf_reply *rep, int64_t *offset)
{
	struct sfp_table t;

	if (!rep->n || !rep->msg[0].m.t.present[SFA_TP] ||
	    sfp_parse_nested(&rep->msg[0].m.t.a[SFA_TP], &t) ||
	    sfp_get_s64(&t, SFA_OFFSET, offset))
		return -EPROTO;
	return *offset < 0 ? -ENOENT : 0;
}

int sfshm_consumer_committed(struct sfshm_consumer *cons, const char *topic,
			     int32_t partition, int64_t *offset)
{
	const struct sfshm_consumer_opts *o = sf_cons_opts(cons);
	struct sfshm_client *c = sf_cons_client(cons);
	struct sf_reply rep = { 0 };
	struct sfp_buf b;
	int err;

	if (!o->group_id)
		return -EINVAL;
	sf_req_begin(c, &b, SFP_OFFSET_FETCH);
	sfp_put_str(&b, SFA_GROUP, o->group_id);
	sfp_nest_begin(&b, SFA_TP);
	sfp_put_str(&b, SFA_TOPIC, topic);
	sfp_put_u32(&b, SFA_PARTITION, (uint32_t)partition);
	sfp_nest_end(&b);
	err = sf_call(c, &b, &rep);
	if (!err)
		err = parse_committed(&rep, offset);
	sf_reply_free(&rep);
	return err;
}
