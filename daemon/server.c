// SPDX-License-Identifier: MIT
/*
 * server.c - the control socket: one SOCK_SEQPACKET UNIX socket, one
 * message per request (libsfshm/proto.h), an epoll loop on the main
 * thread.  A client is a connection: its peer credentials (SO_PEERCRED)
 * decide what it may do, and its attachments to topics are counted so
 * that `sfctl topic describe` shows them.  When the connection closes the
 * persister is woken: if the client died inside a claim, the persister
 * finds no live holder for the stuck frame and pads it over at once.
 *
 * Permissions: creating and deleting topics needs root or the daemon's
 * uid; producing and consuming need write / read permission on the
 * topic's ring file, which the kernel checks when the client opens it.
 *
 * Replies never block the loop: a client that does not read them (its
 * socket's queue is full) gets them queued, and no further request of
 * its own is read until they are gone (EPOLLOUT), so one slow or hostile
 * client costs the others nothing and holds at most one reply in memory.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proto.h"
#include "ctl.h"
#include "group.h"
#include "metrics.h"
#include "server.h"

#define MAX_ATTACH 256u /* attachments per client */
#define SPLIT_ROOM 1024u /* start a new reply message below this room */
#define OUT_MAX (32u << 20) /* reply bytes a client may leave unread */

struct attach {
	char topic[SFSHM_TOPIC_MAX + 1];
	uint32_t role;
	bool stale; /* to a topic since deleted: counts nowhere */
};

/* A reply message the client's socket had no room for yet. */
struct outmsg {
	struct outmsg *next;
	size_t len;
	uint8_t data[];
};

struct sfd_client {
	int fd;
	int pidfd; /* readable when the peer process exits; -1 if none */
	struct ucred cred;
	char id[64];
	bool hello;
	struct attach *att;
	uint32_t natt;
	struct outmsg *out; /* queued replies, oldest first */
	struct outmsg **out_tail;
	size_t out_bytes;
	struct sfd_client *next;
};

struct sfd_server {
	struct sfd_registry *reg;
	int lfd, epfd, sigfd;
	char path[PATH_MAX];
	struct sfd_client *clients;
	uint32_t nclients;
	uint64_t start_ns;
	struct sfd_groups *groups;
	uint8_t rx[SFP_MAX_MSG];
};

void sfd_reply_begin(struct sfd_reply *r, int status)
{
	sfp_begin(&r->b, r->buf, sizeof(r->buf), r->type, r->seq, status);
}

void sfd_reply_flush(struct sfd_reply *r, bool more)
{
	int n;

	sfp_set_flags(&r->b, more ? SFP_F_MORE : 0);
	n = sfp_end(&r->b);
	if (n < 0) {
		sfd_assert(false, "reply %u does not fit: %d", r->type, n);
		return;
	}
	if (!r->err)
		r->err = r->send(r->arg, r->buf, (size_t)n);
}

/* Before adding an element: start a new message if little room is left. */
void sfd_reply_room(struct sfd_reply *r)
{
	if (sfp_room(&r->b) >= SPLIT_ROOM)
		return;
	sfd_reply_flush(r, true);
	sfd_reply_begin(r, 0);
}

int sfd_reply_error(struct sfd_reply *r, int err, const char *msg)
{
	sfd_reply_begin(r, err);
	if (msg && *msg)
		sfp_put_str(&r->b, SFA_ERRMSG, msg);
	sfd_reply_flush(r, false);
	return err;
}

/* ---- request handlers -------------------------------------------------- */

static bool is_admin(const struct sfd_client *cl)
{
	return !cl || cl->cred.uid == 0 || cl->cred.uid == geteuid();
}

bool sfd_client_admin(const struct sfd_client *cl)
{
	return is_admin(cl);
}

pid_t sfd_client_pid(const struct sfd_client *cl)
{
	return cl ? cl->cred.pid : getpid();
}

const char *sfd_client_id(const struct sfd_client *cl)
{
	return cl ? cl->id : "sfshmd";
}

static void put_broker(struct sfd_server *s, struct sfp_buf *b)
{
	sfp_put_s32(b, SFA_BROKER_ID, s->reg->cfg->broker_id);
	sfp_put_u32(b, SFA_PID, (uint32_t)getpid());
	sfp_put_str(b, SFA_SOFTWARE, SFD_VERSION_STRING);
	sfp_put_str(b, SFA_RUN_DIR, s->reg->cfg->run_dir);
	sfp_put_str(b, SFA_DATA_DIR, s->reg->cfg->data_dir);
}

static int do_hello(struct sfd_server *s, struct sfd_client *cl,
		    const struct sfp_msg *m, struct sfd_reply *r)
{
	const char *id;
	uint32_t v;

	if (sfp_get_u32(&m->t, SFA_VERSION, &v) || v != SFP_VERSION)
		return sfd_reply_error(r, -EPROTONOSUPPORT,
				       "protocol version not supported");
	if (cl) {
		if (!sfp_get_str(&m->t, SFA_CLIENT_ID, &id))
			snprintf(cl->id, sizeof(cl->id), "%s", id);
		cl->hello = true;
	}
	sfd_reply_begin(r, 0);
	put_broker(s, &r->b);
	sfd_reply_flush(r, false);
	return 0;
}

static int do_broker_info(struct sfd_server *s, struct sfd_reply *r)
{
	sfd_reply_begin(r, 0);
	put_broker(s, &r->b);
	pthread_mutex_lock(&s->reg->lock);
	sfp_put_u32(&r->b, SFA_TOPICS, s->reg->ntopics);
	pthread_mutex_unlock(&s->reg->lock);
	sfp_put_u32(&r->b, SFA_CLIENTS, s->nclients);
	sfp_put_u64(&r->b, SFA_UPTIME_MS,
		    (sfd_now_ns() - s->start_ns) / 1000000ull);
	sfd_reply_flush(r, false);
	return 0;
}

/* The settings a TOPIC_CREATE may carry: attribute, size, field. */
static const struct {
	uint16_t type;
	uint16_t size;
	uint32_t off;
} config_attrs[] = {
#define CFG(type, field)                                               \
	{                                                              \
		type, sizeof(((struct sfshm_topic_config *)0)->field), \
			offsetof(struct sfshm_topic_config, field)     \
	}
	CFG(SFA_PARTITIONS, partitions),
	CFG(SFA_RING_BYTES, ring_bytes),
	CFG(SFA_SEGMENT_BYTES, segment_bytes),
	CFG(SFA_SEGMENT_MS, segment_ms),
	CFG(SFA_RETENTION_BYTES, retention_bytes),
	CFG(SFA_RETENTION_MS, retention_ms),
	CFG(SFA_FLUSH_MESSAGES, flush_messages),
	CFG(SFA_FLUSH_MS, flush_ms),
	CFG(SFA_MODE, mode),
#undef CFG
};

/*
 * The settings of a TOPIC_CREATE; an absent one is 0 (the default).  One
 * of the wrong size is refused, not taken for "default": the client
 * meant something.  Return: 0, or -EINVAL with @err set.
 */
static int parse_topic_config(const struct sfp_table *t,
			      struct sfshm_topic_config *c, char *err,
			      size_t errlen)
{
	sfshm_topic_config_init(c);
	for (size_t i = 0; i < sizeof(config_attrs) / sizeof(config_attrs[0]);
	     i++) {
		void *v = (uint8_t *)c + config_attrs[i].off;
		int rc = config_attrs[i].size == 4 ?
				 sfp_get_u32(t, config_attrs[i].type, v) :
				 sfp_get_u64(t, config_attrs[i].type, v);

		if (rc && rc != -ENOENT) {
			snprintf(err, errlen,
				 "topic setting (attribute %u) is not a "
				 "%u-byte number",
				 config_attrs[i].type, config_attrs[i].size);
			return -EINVAL;
		}
	}
	return 0;
}

/* The request's topic name, or an error reply. */
static int topic_arg(const struct sfp_msg *m, struct sfd_reply *r,
		     const char **name)
{
	char err[160];
	int rc = sfp_get_str(&m->t, SFA_TOPIC, name);

	if (rc)
		return sfd_reply_error(r, -EINVAL,
				       "no topic name in the request");
	rc = sfd_topic_name_check(*name, err, sizeof(err));
	return rc ? sfd_reply_error(r, rc, err) : 0;
}

static int do_create(struct sfd_server *s, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r)
{
	struct sfshm_topic_config c;
	const char *name;
	char err[256] = "";
	int rc = topic_arg(m, r, &name);

	if (rc)
		return rc;
	if (!is_admin(cl))
		return sfd_reply_error(r, -EACCES,
				       "creating topics needs root or the "
				       "daemon's user");
	if (parse_topic_config(&m->t, &c, err, sizeof(err)))
		return sfd_reply_error(r, -EINVAL, err);
	pthread_mutex_lock(&s->reg->lock);
	rc = sfd_topic_create(s->reg, name, &c, err, sizeof(err));
	pthread_mutex_unlock(&s->reg->lock);
	if (rc)
		return sfd_reply_error(r, rc, err);
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	sfd_groups_topic_changed(s->groups, name);
	return 0;
}

/*
 * A topic is gone: every client's attachments to it become stale.  A
 * DETACH names the topic, not the attachment, and a new topic of the same
 * name must not lose its counts to the handles of the old one: a DETACH
 * takes a stale attachment first (the old handles, which fail with
 * -ENOENT, are usually closed first).
 */
static void forget_topic(struct sfd_server *s, const char *name)
{
	sfd_metrics_forget_topic(name);
	for (struct sfd_client *cl = s->clients; cl; cl = cl->next)
		for (uint32_t i = 0; i < cl->natt; i++)
			if (!strcmp(cl->att[i].topic, name))
				cl->att[i].stale = true;
}

static int do_delete(struct sfd_server *s, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r)
{
	const char *name;
	char err[300];
	int rc = topic_arg(m, r, &name);

	if (rc)
		return rc;
	if (!is_admin(cl))
		return sfd_reply_error(r, -EACCES,
				       "deleting topics needs root or the "
				       "daemon's user");
	pthread_mutex_lock(&s->reg->lock);
	rc = sfd_topic_delete(s->reg, name);
	pthread_mutex_unlock(&s->reg->lock);
	if (!rc)
		forget_topic(s, name);
	if (rc) {
		snprintf(err, sizeof(err), "cannot delete topic \"%s\": %s",
			 name, rc == -ENOENT ? "no such topic" : strerror(-rc));
		return sfd_reply_error(r, rc, err);
	}
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	sfd_groups_topic_changed(s->groups, name);
	return 0;
}

static int do_list(struct sfd_server *s, struct sfd_reply *r)
{
	sfd_reply_begin(r, 0);
	pthread_mutex_lock(&s->reg->lock);
	for (struct sfd_topic *t = s->reg->topics; t; t = t->next) {
		sfd_reply_room(r);
		sfp_nest_begin(&r->b, SFA_TOPIC_INFO);
		sfp_put_str(&r->b, SFA_TOPIC, t->name);
		sfp_put_u32(&r->b, SFA_PARTITIONS, t->cfg.partitions);
		sfp_nest_end(&r->b);
	}
	pthread_mutex_unlock(&s->reg->lock);
	sfd_reply_flush(r, false);
	return 0;
}

static void put_topic(struct sfp_buf *b, const struct sfd_topic *t)
{
	const struct sfshm_topic_config *c = &t->cfg;

	sfp_nest_begin(b, SFA_TOPIC_INFO);
	sfp_put_str(b, SFA_TOPIC, t->name);
	sfp_put_u32(b, SFA_PARTITIONS, c->partitions);
	sfp_put_u64(b, SFA_RING_BYTES, c->ring_bytes);
	sfp_put_s64(b, SFA_SEGMENT_BYTES, c->segment_bytes);
	sfp_put_s64(b, SFA_SEGMENT_MS, c->segment_ms);
	sfp_put_s64(b, SFA_RETENTION_BYTES, c->retention_bytes);
	sfp_put_s64(b, SFA_RETENTION_MS, c->retention_ms);
	sfp_put_s64(b, SFA_FLUSH_MESSAGES, c->flush_messages);
	sfp_put_s64(b, SFA_FLUSH_MS, c->flush_ms);
	sfp_put_u32(b, SFA_MODE, c->mode);
	sfp_nest_end(b);
}

static void put_part(struct sfp_buf *b, struct sfd_part *p, bool paths)
{
	struct sfshm_partition_info i;

	sfd_part_info(p, &i);
	sfp_nest_begin(b, SFA_PART_INFO);
	sfp_put_u32(b, SFA_PARTITION, i.partition);
	sfp_put_s64(b, SFA_LOG_START, i.log_start);
	sfp_put_s64(b, SFA_LOG_END, i.log_end);
	sfp_put_s64(b, SFA_WRITTEN_OFFSET, i.written_offset);
	sfp_put_s64(b, SFA_DURABLE_OFFSET, i.durable_offset);
	sfp_put_u64(b, SFA_RING_BYTES, i.ring_size);
	sfp_put_u64(b, SFA_RING_TAIL, i.ring_tail);
	sfp_put_u64(b, SFA_RING_CLEAN, i.ring_clean);
	sfp_put_u64(b, SFA_RING_WRITTEN, i.ring_written);
	sfp_put_u64(b, SFA_RING_DURABLE, i.ring_durable);
	sfp_put_u64(b, SFA_LOG_BYTES, i.log_bytes);
	sfp_put_u32(b, SFA_SEGMENTS, i.segments);
	sfp_put_u32(b, SFA_PRODUCERS, i.producers);
	sfp_put_u32(b, SFA_CONSUMERS, i.consumers);
	if (paths) {
		sfp_put_str(b, SFA_RING_PATH, p->ring_path);
		sfp_put_str(b, SFA_CTL_PATH, p->ctl_path);
		sfp_put_str(b, SFA_LOG_DIR, p->log_dir);
	}
	sfp_nest_end(b);
}

/* Describe (and with @paths attach): topic, then each partition. */
static void put_describe(struct sfd_reply *r, struct sfd_topic *t, bool paths)
{
	sfd_reply_begin(r, 0);
	put_topic(&r->b, t);
	for (uint32_t i = 0; i < t->cfg.partitions; i++) {
		sfd_reply_room(r);
		put_part(&r->b, &t->parts[i], paths);
	}
	sfd_reply_flush(r, false);
}

static int no_topic(struct sfd_reply *r, const char *name)
{
	char err[300];

	snprintf(err, sizeof(err), "unknown topic \"%s\"", name);
	return sfd_reply_error(r, -ENOENT, err);
}

static int do_describe(struct sfd_server *s, const struct sfp_msg *m,
		       struct sfd_reply *r)
{
	struct sfd_topic *t;
	const char *name;
	int rc = topic_arg(m, r, &name);

	if (rc)
		return rc;
	pthread_mutex_lock(&s->reg->lock);
	t = sfd_topic_find(s->reg, name);
	if (t)
		put_describe(r, t, false);
	pthread_mutex_unlock(&s->reg->lock);
	return t ? 0 : no_topic(r, name);
}

static void count_attach(struct sfd_topic *t, uint32_t role, int delta)
{
	for (uint32_t i = 0; i < t->cfg.partitions; i++) {
		uint32_t *n = role == SFSHM_ROLE_PRODUCER ?
				      &t->parts[i].producers :
				      &t->parts[i].consumers;

		*n = (uint32_t)((int)*n + delta);
	}
}

static int role_arg(const struct sfp_msg *m, struct sfd_reply *r,
		    uint32_t *role)
{
	if (!sfp_get_u32(&m->t, SFA_ROLE, role) &&
	    (*role == SFSHM_ROLE_PRODUCER || *role == SFSHM_ROLE_READER))
		return 0;
	return sfd_reply_error(r, -EINVAL, "role must be producer or reader");
}

static int do_attach(struct sfd_server *s, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r)
{
	struct sfd_topic *t;
	const char *name;
	uint32_t role;
	int rc = topic_arg(m, r, &name);

	if (rc || (rc = role_arg(m, r, &role)))
		return rc;
	if (cl && cl->natt >= MAX_ATTACH)
		return sfd_reply_error(r, -EMFILE, "too many attachments");
	pthread_mutex_lock(&s->reg->lock);
	t = sfd_topic_find(s->reg, name);
	if (t) {
		put_describe(r, t, true);
		count_attach(t, role, 1);
		if (cl) {
			snprintf(cl->att[cl->natt].topic,
				 sizeof(cl->att[0].topic), "%s", name);
			cl->att[cl->natt].stale = false;
			cl->att[cl->natt++].role = role;
		}
	}
	pthread_mutex_unlock(&s->reg->lock);
	return t ? 0 : no_topic(r, name);
}

/* Drop attachment @i of @cl (registry locked). */
static void detach(struct sfd_server *s, struct sfd_client *cl, uint32_t i)
{
	struct sfd_topic *t = cl->att[i].stale ?
				      NULL :
				      sfd_topic_find(s->reg, cl->att[i].topic);

	if (t)
		count_attach(t, cl->att[i].role, -1);
	cl->att[i] = cl->att[--cl->natt];
}

/* The attachment a DETACH of @name as @role drops: a stale one first. */
static int find_attach(const struct sfd_client *cl, const char *name,
		       uint32_t role)
{
	int live = -1;

	for (uint32_t i = 0; cl && i < cl->natt; i++) {
		if (strcmp(cl->att[i].topic, name) || cl->att[i].role != role)
			continue;
		if (cl->att[i].stale)
			return (int)i;
		if (live < 0)
			live = (int)i;
	}
	return live;
}

static int do_detach(struct sfd_server *s, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r)
{
	const char *name;
	uint32_t role;
	int rc = topic_arg(m, r, &name);

	if (rc || (rc = role_arg(m, r, &role)))
		return rc;
	pthread_mutex_lock(&s->reg->lock);
	rc = find_attach(cl, name, role);
	if (rc >= 0)
		detach(s, cl, (uint32_t)rc);
	pthread_mutex_unlock(&s->reg->lock);
	sfd_reply_begin(r, 0);
	sfd_reply_flush(r, false);
	return 0;
}

static int do_list_offsets(struct sfd_server *s, const struct sfp_msg *m,
			   struct sfd_reply *r)
{
	struct sfd_topic *t;
	const char *name;
	uint32_t part;
	int64_t ts, off = 0;
	int rc = topic_arg(m, r, &name);

	if (rc)
		return rc;
	if (sfp_get_u32(&m->t, SFA_PARTITION, &part) ||
	    sfp_get_s64(&m->t, SFA_TIMESTAMP, &ts))
		return sfd_reply_error(r, -EINVAL,
				       "partition and timestamp needed");
	pthread_mutex_lock(&s->reg->lock);
	t = sfd_topic_find(s->reg, name);
	if (!t)
		rc = -ENOENT;
	else if (part >= t->cfg.partitions)
		rc = -ERANGE;
	else
		rc = sfd_part_list_offset(&t->parts[part], ts, &off);
	pthread_mutex_unlock(&s->reg->lock);
	if (rc == -ENOENT)
		return no_topic(r, name);
	if (rc)
		return sfd_reply_error(r, rc == -ERANGE ? -ENOENT : rc,
				       rc == -ERANGE ? "no such partition" :
						       "");
	sfd_reply_begin(r, 0);
	sfp_put_s64(&r->b, SFA_OFFSET, off);
	sfd_reply_flush(r, false);
	return 0;
}

static int dispatch(struct sfd_server *s, struct sfd_client *cl,
		    const struct sfp_msg *m, struct sfd_reply *r)
{
	if (m->type == SFP_HELLO)
		return do_hello(s, cl, m, r);
	if (cl && !cl->hello)
		return sfd_reply_error(r, -EPROTO, "HELLO must come first");
	switch (m->type) {
	case SFP_BROKER_INFO:
		return do_broker_info(s, r);
	case SFP_TOPIC_CREATE:
		return do_create(s, cl, m, r);
	case SFP_TOPIC_DELETE:
		return do_delete(s, cl, m, r);
	case SFP_TOPIC_LIST:
		return do_list(s, r);
	case SFP_TOPIC_DESCRIBE:
		return do_describe(s, m, r);
	case SFP_ATTACH:
		return do_attach(s, cl, m, r);
	case SFP_DETACH:
		return do_detach(s, cl, m, r);
	case SFP_LIST_OFFSETS:
		return do_list_offsets(s, m, r);
	default:
		if (sfd_group_request(m->type) && s->groups)
			return sfd_group_handle(s->groups, cl, m, r);
		return sfd_reply_error(r, -EOPNOTSUPP, "unknown request type");
	}
}

int sfd_handle(struct sfd_server *s, struct sfd_client *cl, const void *buf,
	       size_t len, sfd_send_fn send, void *arg)
{
	struct sfd_reply *r = malloc(sizeof(*r));
	struct sfp_msg m;
	int rc;

	if (!r)
		return -ENOMEM;
	rc = sfp_parse(buf, len, &m);
	r->type = m.type;
	r->seq = m.seq;
	r->send = send;
	r->arg = arg;
	r->err = 0;
	if (rc)
		sfd_reply_error(r, rc, "malformed request");
	else
		dispatch(s, cl, &m, r);
	rc = r->err;
	free(r);
	return rc;
}

/* ---- connections ------------------------------------------------------------- */

/*
 * Send one message without waiting.  A SOCK_SEQPACKET message goes whole
 * or not at all.  Return: 0 sent; -EAGAIN no room now; -errno.
 */
static int send_now(int fd, const void *msg, size_t len)
{
	ssize_t n = send(fd, msg, len, MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n == (ssize_t)len)
		return 0;
	if (n >= 0)
		return -EPROTO;
	return errno == EWOULDBLOCK || errno == EINTR ? -EAGAIN : -errno;
}

static int queue_msg(struct sfd_client *cl, const void *msg, size_t len)
{
	struct outmsg *o;

	if (cl->out_bytes + len > OUT_MAX)
		return -ENOBUFS;
	o = malloc(sizeof(*o) + len);
	if (!o)
		return -ENOMEM;
	o->next = NULL;
	o->len = len;
	memcpy(o->data, msg, len);
	if (!cl->out)
		cl->out_tail = &cl->out;
	*cl->out_tail = o;
	cl->out_tail = &o->next;
	cl->out_bytes += len;
	return 0;
}

/* sfd_send_fn of a connection: send, or queue behind what waits. */
static int send_msg(void *arg, const void *msg, size_t len)
{
	struct sfd_client *cl = arg;
	int err = cl->out ? -EAGAIN : send_now(cl->fd, msg, len);

	return err == -EAGAIN ? queue_msg(cl, msg, len) : err;
}

/* Send what is queued.  Return: 0 (some may remain), or -errno. */
static int flush_out(struct sfd_client *cl)
{
	while (cl->out) {
		struct outmsg *o = cl->out;
		int err = send_now(cl->fd, o->data, o->len);

		if (err)
			return err == -EAGAIN ? 0 : err;
		cl->out = o->next;
		cl->out_bytes -= o->len;
		free(o);
	}
	return 0;
}

static void free_out(struct sfd_client *cl)
{
	while (cl->out) {
		struct outmsg *o = cl->out;

		cl->out = o->next;
		free(o);
	}
	cl->out_bytes = 0;
}

/* Wait for @events (EPOLLIN: requests, EPOLLOUT: room for replies). */
static int watch(struct sfd_server *s, struct sfd_client *cl, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = cl };

	return epoll_ctl(s->epfd, EPOLL_CTL_MOD, cl->fd, &ev) < 0 ? -errno : 0;
}

static void client_close(struct sfd_server *s, struct sfd_client *cl)
{
	struct sfd_client **pp = &s->clients;

	while (*pp != cl)
		pp = &(*pp)->next;
	*pp = cl->next;
	s->nclients--;
	sfd_metrics_client_gone(cl->cred.pid);
	if (s->groups)
		sfd_groups_client_gone(s->groups, cl);
	pthread_mutex_lock(&s->reg->lock);
	while (cl->natt)
		detach(s, cl, 0);
	pthread_mutex_unlock(&s->reg->lock);
	/* A dead client may hold a claim: let the persister look now. */
	sfd_registry_ring_bell(s->reg);
	sfd_debug("ctl", "client %s (pid %d) gone", cl->id, cl->cred.pid);
	if (cl->pidfd >= 0)
		close(cl->pidfd);
	close(cl->fd);
	free_out(cl);
	free(cl->att);
	free(cl);
}

/*
 * The peer process's exit, seen at once (a pidfd polls readable when it
 * becomes a zombie): the persister then finds a claim it left open
 * without a live holder and pads it over.  Its socket closes earlier, on
 * the way out, when its claims may still look alive.  The event's data
 * is the client pointer with its low bit set.
 */
static int watch_pid(struct sfd_server *s, struct sfd_client *cl)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = (int)syscall(SYS_pidfd_open, cl->cred.pid, 0);

	if (fd < 0)
		return -1;
	ev.data.u64 = (uint64_t)(uintptr_t)cl | 1;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void client_exited(struct sfd_server *s, struct sfd_client *cl)
{
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, cl->pidfd, NULL);
	close(cl->pidfd);
	cl->pidfd = -1;
	sfd_registry_ring_bell(s->reg);
}

static void client_accept(struct sfd_server *s)
{
	socklen_t sl = sizeof(struct ucred);
	struct epoll_event ev = { .events = EPOLLIN };
	struct sfd_client *cl;
	int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->att = calloc(MAX_ATTACH, sizeof(*cl->att));
	if (!cl || !cl->att ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cl->cred, &sl) < 0) {
		if (cl)
			free(cl->att);
		free(cl);
		close(fd);
		return;
	}
	cl->fd = fd;
	snprintf(cl->id, sizeof(cl->id), "pid-%d", cl->cred.pid);
	ev.data.ptr = cl;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		free(cl->att);
		free(cl);
		close(fd);
		return;
	}
	cl->pidfd = watch_pid(s, cl);
	/* Its probes are live before its first request is answered. */
	sfd_metrics_client(cl->cred.pid);
	cl->next = s->clients;
	s->clients = cl;
	s->nclients++;
}

static void client_input(struct sfd_server *s, struct sfd_client *cl)
{
	ssize_t n =
		recv(cl->fd, s->rx, sizeof(s->rx), MSG_DONTWAIT | MSG_TRUNC);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(s, cl);
		return;
	}
	if ((size_t)n > sizeof(s->rx))
		n = sizeof(s->rx) + 1; /* truncated: sfp_parse refuses it */
	if (sfd_handle(s, cl, s->rx, (size_t)n, send_msg, cl) ||
	    (cl->out && watch(s, cl, EPOLLOUT)))
		client_close(s, cl);
}

void sfd_client_notify(struct sfd_server *s, struct sfd_client *cl,
		       const void *msg, size_t len)
{
	if (!cl)
		return;
	/* A failure shows up as a hang-up of the connection soon after. */
	if (!send_msg(cl, msg, len) && cl->out)
		watch(s, cl, EPOLLOUT);
}

/* Room for queued replies (or a hangup): send them, then read again. */
static void client_output(struct sfd_server *s, struct sfd_client *cl)
{
	if (flush_out(cl) || (!cl->out && watch(s, cl, EPOLLIN)))
		client_close(s, cl);
}

static int listen_on(struct sfd_server *s)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(s->path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, s->path);
	s->lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK,
			0);
	if (s->lfd < 0)
		return -errno;
	/* The caller holds the run dir's lock: a socket here is stale. */
	unlink(s->path);
	if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    chmod(s->path, 0666) < 0 || listen(s->lfd, 128) < 0)
		return -errno;
	return 0;
}

static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int sfd_server_open(struct sfd_registry *reg, struct sfd_server **out)
{
	struct sfd_server *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = EPOLLIN };
	int err;

	if (!s)
		return -ENOMEM;
	s->reg = reg;
	s->lfd = s->epfd = s->sigfd = -1;
	s->start_ns = sfd_now_ns();
	snprintf(s->path, sizeof(s->path), "%s/sfshmd.sock", reg->cfg->run_dir);
	err = listen_on(s);
	if (!err) {
		s->epfd = epoll_create1(EPOLL_CLOEXEC);
		s->sigfd = signals_fd();
		if (s->epfd < 0 || s->sigfd < 0)
			err = -errno;
	}
	ev.data.ptr = &s->lfd;
	if (!err && epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) < 0)
		err = -errno;
	ev.data.ptr = &s->sigfd;
	if (!err && epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->sigfd, &ev) < 0)
		err = -errno;
	if (!err)
		err = sfd_groups_open(reg, s, &s->groups);
	if (err) {
		sfd_server_close(s);
		return err;
	}
	*out = s;
	return 0;
}

int sfd_server_run(struct sfd_server *s)
{
	struct epoll_event ev[32];

	for (;;) {
		int tmo = s->groups ? sfd_groups_tick(s->groups) : -1;
		int n = epoll_wait(s->epfd, ev, 32, tmo);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		/* Exits first: a connection event below may free a client. */
		for (int i = 0; i < n; i++)
			if (ev[i].data.u64 & 1)
				client_exited(
					s, (void *)(uintptr_t)(ev[i].data.u64 &
							       ~1ull));
		for (int i = 0; i < n; i++) {
			if (ev[i].data.ptr == &s->sigfd)
				return 0;
			if (ev[i].data.u64 & 1)
				continue;
			if (ev[i].data.ptr == &s->lfd)
				client_accept(s);
			else if (((struct sfd_client *)ev[i].data.ptr)->out)
				client_output(s, ev[i].data.ptr);
			else
				client_input(s, ev[i].data.ptr);
		}
	}
}

void sfd_server_close(struct sfd_server *s)
{
	if (!s)
		return;
	if (s->lfd >= 0) {
		close(s->lfd);
		unlink(s->path);
	}
	while (s->clients)
		client_close(s, s->clients);
	sfd_groups_close(s->groups);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->sigfd >= 0)
		close(s->sigfd);
	free(s);
}
