// SPDX-License-Identifier: MIT
/*
 * groupadmin.c - consumer-group administration, what `sfctl group` (and
 * Kafka's kafka-consumer-groups.sh) is made of: list the groups, describe
 * one (members, assignment, committed offsets and the log end of each),
 * delete a group's offsets, set them (reset-offsets), and Kafka's
 * ListOffsets to compute where a reset should go.
 *
 * The replies come from daemon/group.c (do_list, do_describe, ...):
 *
 *   GROUP_LIST      SFA_GROUP_INFO...            (may span messages)
 *   GROUP_DESCRIBE  SFA_GROUP_INFO, then SFA_MEMBER... and SFA_TP...
 *                   SFA_GROUP_INFO  group, state, generation, members
 *                                   [, assignor when it has members]
 *                   SFA_MEMBER      member id, instance id, client id,
 *                                   pid, state, SFA_TP (topic, partition)
 *                                   for each partition it owns
 *                   SFA_TP          topic, partition, offset (committed),
 *                                   log end (-1: the topic is gone)
 *
 * Everything in a reply is checked before it is believed: a missing or
 * ill-sized attribute, a string too long for its field, a bad topic name
 * or partition, a member count that disagrees with the members sent make
 * the call fail with -EPROTO ("malformed ... reply" in sfshm_last_error()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "client_int.h"

#define GROUP_ID_MAX 249 /* the daemon's rule for new groups (group.c) */
#define GROUP_ID_STORED 255 /* what its offsets store holds (offsets.h) */

/* ---- checking what goes out --------------------------------------------- */

/*
 * A group id the daemon takes for a new group: 1..249 bytes, no '/', tab
 * or newline.  Describe and delete (@strict false) take any id the store
 * may hold, up to 255 bytes (a raw client may have made one), so that
 * such a group can still be looked at and removed.
 */
static int check_group(struct sfshm_client *c, const char *group, bool strict)
{
	size_t n = group ? strnlen(group, GROUP_ID_STORED + 1) : 0;

	c->errmsg[0] = '\0';
	if (n && n <= GROUP_ID_MAX && !strpbrk(group, "/\t\n"))
		return 0;
	if (!strict && n && n <= GROUP_ID_STORED)
		return 0;
	sf_set_error(c, "invalid group id: 1 to %d characters, no '/'",
		     GROUP_ID_MAX);
	return -EINVAL;
}

/* Start a request of @type about @group, checked first. */
static int begin_group(struct sfshm_client *c, struct sfp_buf *b, uint16_t type,
		       const char *group)
{
	int err = check_group(c, group, type == SFP_GROUP_RESET);

	if (err)
		return err;
	sf_req_begin(c, b, type);
	sfp_put_str(b, SFA_GROUP, group);
	return 0;
}

/* ---- checking what comes back ------------------------------------------- */

/* A string attribute into @dst (@cap bytes); absent: -EPROTO if @needed. */
static int get_str(const struct sfp_table *t, int type, char *dst, size_t cap,
		   bool needed)
{
	const char *s;
	int err = sfp_get_str(t, type, &s);

	if (err == -ENOENT && !needed)
		return 0;
	if (err || strlen(s) >= cap)
		return -EPROTO;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* A partition number: present, and one an int32_t holds. */
static int get_partition(const struct sfp_table *t, int32_t *out)
{
	uint32_t p;

	if (sfp_get_u32(t, SFA_PARTITION, &p) || p > INT32_MAX)
		return -EPROTO;
	*out = (int32_t)p;
	return 0;
}

/* A topic name that follows the rules, and where it is in the value. */
static int get_topic(const struct sfp_table *t, const char **out)
{
	if (sfp_get_str(t, SFA_TOPIC, out) || sfshm_topic_name_valid(*out))
		return -EPROTO;
	return 0;
}

/* Apply @fn to every top-level attribute of @type in every message. */
static int each_attr(const struct sf_reply *rep, uint16_t type,
		     int (*fn)(const struct sfp_attr *a, void *arg), void *arg)
{
	for (unsigned i = 0; i < rep->n; i++) {
		const struct sfp_msg *m = &rep->msg[i].m;
		struct sfp_iter it;
		struct sfp_attr a;

		sfp_iter_init(&it, m->attrs, m->attrs_len);
		while (sfp_iter_next(&it, &a)) {
			int err = a.type == type ? fn(&a, arg) : 0;

			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * Room for element @n (of @size bytes) in the array @v of *@cap.
 * Return: the array, moved perhaps; NULL with *@err set (@v unchanged).
 */
static void *grow(void *v, unsigned n, unsigned *cap, size_t size, int *err)
{
	unsigned ncap = *cap ? *cap * 2 : 8;
	void *nv;

	if (n < *cap)
		return v;
	if (*cap >= (1u << 24)) {
		*err = -EPROTO; /* more than any real reply holds */
		return NULL;
	}
	nv = realloc(v, ncap * size);
	if (!nv) {
		*err = -ENOMEM;
		return NULL;
	}
	*cap = ncap;
	return nv;
}

/* ---- group info --------------------------------------------------------- */

/* One SFA_GROUP_INFO. */
static int parse_info(const struct sfp_attr *a, struct sfshm_group_info *gi)
{
	struct sfp_table t;
	int err = sfp_parse_nested(a, &t);

	memset(gi, 0, sizeof(*gi));
	if (!err)
		err = get_str(&t, SFA_GROUP, gi->group, sizeof(gi->group),
			      true);
	if (!err)
		err = get_str(&t, SFA_STATE, gi->state, sizeof(gi->state),
			      true);
	if (!err)
		err = get_str(&t, SFA_ASSIGNOR, gi->assignor,
			      sizeof(gi->assignor), false);
	if (!err && (sfp_get_s32(&t, SFA_GENERATION, &gi->generation) ||
		     sfp_get_u32(&t, SFA_MEMBERS, &gi->members)))
		err = -EPROTO;
	if (!err && (!gi->group[0] || gi->generation < 0))
		err = -EPROTO;
	return err ? -EPROTO : 0;
}

struct info_list {
	struct sfshm_group_info *v;
	unsigned n, cap;
};

static int add_info(const struct sfp_attr *a, void *arg)
{
	struct info_list *l = arg;
	int err = 0;
	void *v = grow(l->v, l->n, &l->cap, sizeof(*l->v), &err);

	if (!v)
		return err;
	l->v = v;
	err = parse_info(a, &l->v[l->n]);
	if (!err)
		l->n++;
	return err;
}

static int cmp_info(const void *a, const void *b)
{
	return strcmp(((const struct sfshm_group_info *)a)->group,
		      ((const struct sfshm_group_info *)b)->group);
}

static int parse_list(struct sfshm_client *c, const struct sf_reply *rep,
		      void *arg)
{
	struct info_list l = { 0 };
	int err = each_attr(rep, SFA_GROUP_INFO, add_info, &l);

	if (!err && !l.v)
		l.v = calloc(1, sizeof(*l.v));
	if (!err && !l.v)
		err = -ENOMEM;
	if (err) {
		if (err == -EPROTO)
			sf_set_error(c, "malformed group list reply");
		free(l.v);
		return err;
	}
	qsort(l.v, l.n, sizeof(*l.v), cmp_info);
	for (unsigned i = 1; i < l.n; i++) {
		if (strcmp(l.v[i - 1].group, l.v[i].group))
			continue;
		sf_set_error(c, "malformed group list reply: %s twice",
			     l.v[i].group);
		free(l.v);
		return -EPROTO;
	}
	*(struct sfshm_group_info **)arg = l.v;
	return l.n > INT32_MAX ? INT32_MAX : (int)l.n;
}

int sfshm_group_list(struct sfshm_client *c, struct sfshm_group_info **out)
{
	struct sfp_buf b;

	c->errmsg[0] = '\0';
	sf_req_begin(c, &b, SFP_GROUP_LIST);
	return sf_call_parse(c, &b, parse_list, out);
}

/* ---- describing a group ------------------------------------------------- */

/* Count the SFA_TP nested in a member and the bytes of their topics. */
static int member_tps_size(const struct sfp_attr *m, unsigned *n, size_t *bytes)
{
	struct sfp_iter it;
	struct sfp_attr a;

	*n = 0;
	*bytes = 0;
	sfp_iter_nested(&it, m);
	while (sfp_iter_next(&it, &a)) {
		struct sfp_table t;
		const char *topic;
		int32_t p;

		if (a.type != SFA_TP)
			continue;
		if (sfp_parse_nested(&a, &t) || get_topic(&t, &topic) ||
		    get_partition(&t, &p) || *n >= SFSHM_PARTITIONS_MAX * 64u)
			return -EPROTO;
		(*n)++;
		*bytes += strlen(topic) + 1;
	}
	return 0;
}

/* The partitions a member owns: one allocation, the names after the
 * array (checked by member_tps_size() already). */
static int member_tps(const struct sfp_attr *m, struct sfshm_group_member *gm)
{
	struct sfp_iter it;
	struct sfp_attr a;
	size_t bytes;
	unsigned n;
	char *names;
	int err = member_tps_size(m, &n, &bytes);

	if (err)
		return err;
	gm->tps = malloc(n * sizeof(*gm->tps) + bytes + 1);
	if (!gm->tps)
		return -ENOMEM;
	names = (char *)(gm->tps + n);
	sfp_iter_nested(&it, m);
	while (sfp_iter_next(&it, &a)) {
		struct sfp_table t;
		const char *topic;
		struct sfshm_tp *tp = &gm->tps[gm->ntps];

		if (a.type != SFA_TP)
			continue;
		sfp_parse_nested(&a, &t);
		get_topic(&t, &topic);
		get_partition(&t, &tp->partition);
		memcpy(names, topic, strlen(topic) + 1);
		tp->topic = names;
		names += strlen(topic) + 1;
		gm->ntps++;
	}
	return 0;
}

/* One SFA_MEMBER. */
static int parse_member(const struct sfp_attr *a, struct sfshm_group_member *gm)
{
	struct sfp_table t;
	int err = sfp_parse_nested(a, &t);

	memset(gm, 0, sizeof(*gm));
	if (!err)
		err = get_str(&t, SFA_MEMBER_ID, gm->member_id,
			      sizeof(gm->member_id), true);
	if (!err)
		err = get_str(&t, SFA_INSTANCE_ID, gm->instance_id,
			      sizeof(gm->instance_id), false);
	if (!err)
		err = get_str(&t, SFA_CLIENT_ID, gm->client_id,
			      sizeof(gm->client_id), false);
	if (!err)
		err = get_str(&t, SFA_STATE, gm->state, sizeof(gm->state),
			      true);
	if (!err && (sfp_get_u32(&t, SFA_PID, &gm->pid) || !gm->member_id[0]))
		err = -EPROTO;
	if (err)
		return -EPROTO;
	return member_tps(a, gm);
}

struct describe_ctx {
	struct sfshm_group_description *d;
	unsigned mcap, ocap;
};

static int add_member(const struct sfp_attr *a, void *arg)
{
	struct describe_ctx *x = arg;
	struct sfshm_group_description *d = x->d;
	int err = 0;
	void *v = grow(d->members, d->nmembers, &x->mcap, sizeof(*d->members),
		       &err);

	if (!v)
		return err;
	d->members = v;
	/* parse_member() allocates nothing unless it succeeds */
	err = parse_member(a, &d->members[d->nmembers]);
	if (!err)
		d->nmembers++;
	return err;
}

/* One top-level SFA_TP: a committed offset and its partition's log end. */
static int parse_offset(const struct sfp_attr *a, struct sfshm_group_offset *o)
{
	struct sfp_table t;
	const char *topic;

	memset(o, 0, sizeof(*o));
	if (sfp_parse_nested(a, &t) || get_topic(&t, &topic) ||
	    get_partition(&t, &o->partition) ||
	    sfp_get_s64(&t, SFA_OFFSET, &o->committed) ||
	    sfp_get_s64(&t, SFA_LOG_END, &o->log_end))
		return -EPROTO;
	if (o->committed < 0 || o->log_end < -1)
		return -EPROTO;
	memcpy(o->topic, topic, strlen(topic) + 1);
	return 0;
}

static int add_offset(const struct sfp_attr *a, void *arg)
{
	struct describe_ctx *x = arg;
	struct sfshm_group_description *d = x->d;
	int err = 0;
	void *v = grow(d->offsets, d->noffsets, &x->ocap, sizeof(*d->offsets),
		       &err);

	if (!v)
		return err;
	d->offsets = v;
	err = parse_offset(a, &d->offsets[d->noffsets]);
	if (!err)
		d->noffsets++;
	return err;
}

/* The group's info: in the first message, about the group asked for. */
static int describe_info(const struct sf_reply *rep, const char *group,
			 struct sfshm_group_info *gi)
{
	const struct sfp_table *top = &rep->msg[0].m.t;

	if (!top->present[SFA_GROUP_INFO] ||
	    parse_info(&top->a[SFA_GROUP_INFO], gi) || strcmp(gi->group, group))
		return -EPROTO;
	return 0;
}

struct describe_req {
	const char *group;
	struct sfshm_group_description **out;
};

static int parse_describe(struct sfshm_client *c, const struct sf_reply *rep,
			  void *arg)
{
	struct describe_req *r = arg;
	struct describe_ctx x = { calloc(1, sizeof(*x.d)), 0, 0 };
	int err = x.d ? describe_info(rep, r->group, &x.d->info) : -ENOMEM;

	if (!err)
		err = each_attr(rep, SFA_MEMBER, add_member, &x);
	if (!err)
		err = each_attr(rep, SFA_TP, add_offset, &x);
	if (!err && x.d->nmembers != x.d->info.members)
		err = -EPROTO;
	if (err) {
		if (err == -EPROTO)
			sf_set_error(c, "malformed group describe reply");
		sfshm_group_description_free(x.d);
		return err;
	}
	*r->out = x.d;
	return 0;
}

int sfshm_group_describe(struct sfshm_client *c, const char *group,
			 struct sfshm_group_description **out)
{
	struct describe_req r = { group, out };
	struct sfp_buf b;
	int err = begin_group(c, &b, SFP_GROUP_DESCRIBE, group);

	return err ? err : sf_call_parse(c, &b, parse_describe, &r);
}

void sfshm_group_description_free(struct sfshm_group_description *d)
{
	if (!d)
		return;
	for (unsigned i = 0; i < d->nmembers; i++)
		free(d->members[i].tps);
	free(d->members);
	free(d->offsets);
	free(d);
}

/* ---- deleting, resetting ------------------------------------------------ */

int sfshm_group_delete(struct sfshm_client *c, const char *group)
{
	struct sfp_buf b;
	int err = begin_group(c, &b, SFP_GROUP_DELETE, group);

	return err ? err : sf_call(c, &b, NULL);
}

static uint32_t str_bytes(const char *s)
{
	return (SFP_ATTR_HDR + (uint32_t)strlen(s) + 1 + 3) & ~3u;
}

/* Bytes one entry takes in a request (see put_entry()). */
static uint32_t entry_bytes(const struct sfshm_tp_offset *o)
{
	uint32_t n = SFP_ATTR_HDR + str_bytes(o->topic) + SFP_ATTR_HDR + 4 +
		     SFP_ATTR_HDR + 8;

	if (o->metadata && o->metadata[0])
		n += str_bytes(o->metadata);
	return n;
}

static void put_entry(struct sfp_buf *b, const struct sfshm_tp_offset *o)
{
	sfp_nest_begin(b, SFA_TP);
	sfp_put_str(b, SFA_TOPIC, o->topic);
	sfp_put_u32(b, SFA_PARTITION, (uint32_t)o->partition);
	sfp_put_s64(b, SFA_OFFSET, o->offset);
	if (o->metadata && o->metadata[0])
		sfp_put_str(b, SFA_METADATA, o->metadata);
	sfp_nest_end(b);
}

static int check_entries(struct sfshm_client *c,
			 const struct sfshm_tp_offset *o, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (sfshm_topic_name_valid(o[i].topic)) {
			sf_set_error(c, "entry %u: invalid topic name", i);
			return -EINVAL;
		}
		if (o[i].partition < 0 || o[i].offset < 0) {
			sf_set_error(c, "%s-%d: negative partition or offset",
				     o[i].topic, (int)o[i].partition);
			return -EINVAL;
		}
		if (o[i].metadata && strlen(o[i].metadata) > UINT16_MAX / 2) {
			sf_set_error(c, "%s-%d: metadata too long", o[i].topic,
				     (int)o[i].partition);
			return -EMSGSIZE;
		}
	}
	return 0;
}

/*
 * The entries go in as few requests as hold them (one, unless there are
 * thousands): each request is all or nothing, and the first failure stops
 * the rest.
 */
int sfshm_group_reset_offsets(struct sfshm_client *c, const char *group,
			      const struct sfshm_tp_offset *o, unsigned n)
{
	struct sfp_buf b;
	unsigned in_req = 0;
	int err = check_group(c, group, true);

	if (!err && (err = check_entries(c, o, n)))
		return err;
	if (!err)
		err = begin_group(c, &b, SFP_GROUP_RESET, group);
	for (unsigned i = 0; !err && i < n; i++) {
		if (entry_bytes(&o[i]) > sfp_room(&b) && in_req) {
			err = sf_call(c, &b, NULL);
			if (!err)
				err = begin_group(c, &b, SFP_GROUP_RESET,
						  group);
			in_req = 0;
		}
		if (!err && entry_bytes(&o[i]) > sfp_room(&b)) {
			sf_set_error(c, "%s-%d: entry too large for a request",
				     o[i].topic, (int)o[i].partition);
			err = -EMSGSIZE;
		}
		if (!err) {
			put_entry(&b, &o[i]);
			in_req++;
		}
	}
	return err ? err : sf_call(c, &b, NULL);
}

/* ---- ListOffsets -------------------------------------------------------- */

int sfshm_list_offset(struct sfshm_client *c, const char *topic,
		      int32_t partition, int64_t ts_ms, int64_t *offset)
{
	int64_t off = -1;
	int err;

	c->errmsg[0] = '\0';
	if (sfshm_topic_name_valid(topic) || partition < 0 || ts_ms < -2) {
		sf_set_error(c, "invalid topic name, partition or timestamp");
		return -EINVAL;
	}
	err = sf_list_offsets(c, topic, (uint32_t)partition, ts_ms, &off);
	if (!err && off < 0) {
		sf_set_error(c, "malformed list offsets reply");
		err = -EPROTO;
	}
	if (!err)
		*offset = off;
	return err;
}
