// SPDX-License-Identifier: MIT
/*
 * client.c - the control connection to sfshmd: connecting, requests and
 * their (possibly multi-message) replies, topic administration, broker
 * information, and the attach / map helpers that producer.c and
 * consumer.c build on.
 *
 * The connection is a SOCK_SEQPACKET UNIX socket: one message per request
 * or reply part, so no framing of our own.  Requests carry a sequence
 * number we choose; a reply echoes it, and a reply that does not match the
 * request in flight (left over from a request that timed out) is dropped.
 * Everything the daemon sends is validated (sfp_parse() and the getters);
 * a malformed reply is -EPROTO, never an assertion.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client_int.h"
#include "sfshm_int.h"

#define SOCK_NAME "sfshmd.sock"

/* ---- small helpers ------------------------------------------------------ */

uint64_t sf_deadline(int timeout_ms)
{
	if (timeout_ms < 0)
		return UINT64_MAX;
	return sf_now_ns() + (uint64_t)timeout_ms * 1000000ull;
}

int sf_remaining_ms(uint64_t deadline)
{
	uint64_t now = sf_now_ns(), ms;

	if (deadline == UINT64_MAX)
		return -1;
	if (now >= deadline)
		return 0;
	ms = (deadline - now + 999999ull) / 1000000ull;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

int sf_ring_state_err(const struct sfshm_ring *r)
{
	switch (sfshm_ring_state(r)) {
	case SFSHM_STATE_LIVE:
		return 0;
	case SFSHM_STATE_DELETED:
		return -ENOENT;
	default:
		return -ESHUTDOWN;
	}
}

int sf_opts_copy(void *dst, size_t dst_size, const void *src)
{
	const uint8_t *s = src;
	uint32_t size;

	memset(dst, 0, dst_size);
	memcpy(&size, src, sizeof(size));
	if (size < sizeof(size))
		return -EINVAL;
	for (size_t i = dst_size; i < size; i++)
		if (s[i])
			return -EINVAL;
	memcpy(dst, src, size < dst_size ? size : dst_size);
	memcpy(dst, &(uint32_t){ (uint32_t)dst_size }, sizeof(uint32_t));
	return 0;
}

void sf_set_error(struct sfshm_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
}

/* Copy a string attribute into a fixed buffer; absent leaves it alone. */
static int get_str_into(const struct sfp_table *t, int type, char *dst,
			size_t cap)
{
	const char *s;
	int err = sfp_get_str(t, type, &s);

	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	if (strlen(s) >= cap)
		return -EPROTO;
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/*
 * Numeric fields of a struct read from (or written to) attributes: the
 * attribute type, the size of the value (4 or 8) and where it goes.
 */
struct sf_field {
	uint16_t attr;
	uint16_t size;
	uint32_t off;
};

#define FIELD(attr, type, member)                                         \
	{                                                                 \
		attr, sizeof(((type *)0)->member), offsetof(type, member) \
	}

/* Fill the fields present in @t; absent ones are left alone. */
static int get_fields(const struct sfp_table *t, const struct sf_field *f,
		      size_t n, void *base)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *dst = (uint8_t *)base + f[i].off;
		int err;

		if (f[i].size == 4)
			err = sfp_get_u32(t, f[i].attr, (uint32_t *)dst);
		else
			err = sfp_get_u64(t, f[i].attr, (uint64_t *)dst);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}

/* Put the non-zero fields of @base. */
static void put_fields(struct sfp_buf *b, const struct sf_field *f, size_t n,
		       const void *base)
{
	for (size_t i = 0; i < n; i++) {
		const uint8_t *src = (const uint8_t *)base + f[i].off;
		uint64_t v64;
		uint32_t v32;

		if (f[i].size == 4) {
			memcpy(&v32, src, sizeof(v32));
			if (v32)
				sfp_put_u32(b, f[i].attr, v32);
		} else {
			memcpy(&v64, src, sizeof(v64));
			if (v64)
				sfp_put_u64(b, f[i].attr, v64);
		}
	}
}

#define NFIELDS(a) (sizeof(a) / sizeof((a)[0]))

static const struct sf_field config_fields[] = {
	FIELD(SFA_PARTITIONS, struct sfshm_topic_config, partitions),
	FIELD(SFA_RING_BYTES, struct sfshm_topic_config, ring_bytes),
	FIELD(SFA_SEGMENT_BYTES, struct sfshm_topic_config, segment_bytes),
	FIELD(SFA_SEGMENT_MS, struct sfshm_topic_config, segment_ms),
	FIELD(SFA_RETENTION_BYTES, struct sfshm_topic_config, retention_bytes),
	FIELD(SFA_RETENTION_MS, struct sfshm_topic_config, retention_ms),
	FIELD(SFA_FLUSH_MESSAGES, struct sfshm_topic_config, flush_messages),
	FIELD(SFA_FLUSH_MS, struct sfshm_topic_config, flush_ms),
	FIELD(SFA_MODE, struct sfshm_topic_config, mode),
};

static const struct sf_field part_fields[] = {
	FIELD(SFA_LOG_START, struct sfshm_partition_info, log_start),
	FIELD(SFA_LOG_END, struct sfshm_partition_info, log_end),
	FIELD(SFA_WRITTEN_OFFSET, struct sfshm_partition_info, written_offset),
	FIELD(SFA_DURABLE_OFFSET, struct sfshm_partition_info, durable_offset),
	FIELD(SFA_RING_BYTES, struct sfshm_partition_info, ring_size),
	FIELD(SFA_RING_TAIL, struct sfshm_partition_info, ring_tail),
	FIELD(SFA_RING_CLEAN, struct sfshm_partition_info, ring_clean),
	FIELD(SFA_RING_WRITTEN, struct sfshm_partition_info, ring_written),
	FIELD(SFA_RING_DURABLE, struct sfshm_partition_info, ring_durable),
	FIELD(SFA_LOG_BYTES, struct sfshm_partition_info, log_bytes),
	FIELD(SFA_SEGMENTS, struct sfshm_partition_info, segments),
	FIELD(SFA_PRODUCERS, struct sfshm_partition_info, producers),
	FIELD(SFA_CONSUMERS, struct sfshm_partition_info, consumers),
};

static const struct sf_field broker_fields[] = {
	FIELD(SFA_BROKER_ID, struct sfshm_broker_info, broker_id),
	FIELD(SFA_PID, struct sfshm_broker_info, pid),
	FIELD(SFA_TOPICS, struct sfshm_broker_info, topics),
	FIELD(SFA_CLIENTS, struct sfshm_broker_info, clients),
	FIELD(SFA_UPTIME_MS, struct sfshm_broker_info, uptime_ms),
};

/* ---- requests and replies ----------------------------------------------- */

void sf_req_begin(struct sfshm_client *c, struct sfp_buf *b, uint16_t type)
{
	c->seq++;
	sfp_begin(b, c->tx, sizeof(c->tx), type, c->seq, 0);
}

void sf_reply_free(struct sf_reply *rep)
{
	if (!rep)
		return;
	for (unsigned i = 0; i < rep->n; i++)
		free(rep->msg[i].buf);
	free(rep->msg);
	rep->msg = NULL;
	rep->n = 0;
}

static int send_msg(struct sfshm_client *c, uint32_t len)
{
	ssize_t n;

	do
		n = send(c->fd, c->tx, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EPIPE ? -ECONNRESET : -errno;
	return (size_t)n == len ? 0 : -EPROTO;
}

/* Wait for the socket to be readable before @deadline. */
static int wait_readable(int fd, uint64_t deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	for (;;) {
		int n = poll(&pfd, 1, sf_remaining_ms(deadline));

		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Receive one message into a buffer of its own and parse it. */
static int recv_msg(struct sfshm_client *c, uint64_t deadline,
		    struct sf_reply_msg *out)
{
	uint8_t *rx = c->rx;
	ssize_t n;
	int err = wait_readable(c->fd, deadline);

	if (err)
		return err;
	do
		n = recv(c->fd, rx, sizeof(c->rx), MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -errno;
	if (n == 0)
		return -ECONNRESET;
	if ((size_t)n > sizeof(c->rx))
		return -EPROTO;
	out->buf = malloc((size_t)n);
	if (!out->buf)
		return -ENOMEM;
	memcpy(out->buf, rx, (size_t)n);
	err = sfp_parse(out->buf, (size_t)n, &out->m);
	if (err) {
		free(out->buf);
		out->buf = NULL;
	}
	return err;
}

static int queue_notice(struct sfshm_client *c, struct sf_reply_msg *one)
{
	struct sf_notice *n = malloc(sizeof(*n));

	if (!n) {
		free(one->buf);
		return -ENOMEM;
	}
	n->next = NULL;
	n->buf = one->buf;
	n->m = one->m;
	if (!c->notices)
		c->notices_tail = &c->notices;
	*c->notices_tail = n;
	c->notices_tail = &n->next;
	return 0;
}

/*
 * A message that is not the reply being waited for: an unsolicited
 * notice (queued), or the reply to an asynchronous or timed-out request
 * (its error kept, the message dropped).
 */
static int aside(struct sfshm_client *c, struct sf_reply_msg *one)
{
	if (one->m.type == SFP_GROUP_NOTIFY && one->m.seq == 0)
		return queue_notice(c, one);
	if (one->m.status < 0 && !c->async_err)
		c->async_err = one->m.status;
	free(one->buf);
	return 0;
}

int sf_take_async_err(struct sfshm_client *c)
{
	int err = c->async_err;

	c->async_err = 0;
	return err;
}

int sf_notice_next(struct sfshm_client *c, struct sf_reply_msg *out)
{
	for (;;) {
		struct sf_notice *n = c->notices;
		int err;

		if (n) {
			c->notices = n->next;
			out->buf = n->buf;
			out->m = n->m;
			free(n);
			return 1;
		}
		err = recv_msg(c, 0, out);
		if (err == -ETIMEDOUT)
			return 0;
		if (err)
			return err;
		if (out->m.type == SFP_GROUP_NOTIFY && out->m.seq == 0)
			return 1;
		aside(c, out);
	}
}

static int reply_append(struct sf_reply *rep, struct sf_reply_msg *one)
{
	struct sf_reply_msg *msg;

	msg = realloc(rep->msg, (rep->n + 1) * sizeof(*msg));
	if (!msg) {
		free(one->buf);
		return -ENOMEM;
	}
	rep->msg = msg;
	rep->msg[rep->n++] = *one;
	return 0;
}

/* Keep the daemon's explanation of a failure. */
static void keep_errmsg(struct sfshm_client *c, const struct sfp_msg *m)
{
	const char *s;

	if (!sfp_get_str(&m->t, SFA_ERRMSG, &s))
		snprintf(c->errmsg, sizeof(c->errmsg), "%s", s);
	else if (!c->errmsg[0])
		snprintf(c->errmsg, sizeof(c->errmsg), "%s",
			 sfshm_strerror(m->status));
}

/*
 * Gather the messages of the reply to request (@type, c->seq) into @rep.
 * Return: 0, or the first non-zero status of the reply, or -errno.
 */
static int gather(struct sfshm_client *c, uint16_t type, uint64_t deadline,
		  struct sf_reply *rep)
{
	int status = 0;

	for (;;) {
		struct sf_reply_msg one;
		bool more;
		int err = recv_msg(c, deadline, &one);

		if (err)
			return err;
		if (one.m.seq != c->seq || one.m.type != type) {
			err = aside(c, &one);
			if (err)
				return err;
			continue;
		}
		more = one.m.flags & SFP_F_MORE;
		if (one.m.status > 0 || one.m.status < -4095) {
			free(one.buf);
			return -EPROTO;
		}
		if (one.m.status && !status) {
			status = one.m.status;
			keep_errmsg(c, &one.m);
		}
		err = reply_append(rep, &one);
		if (err)
			return err;
		if (!more)
			return status;
	}
}

int sf_call(struct sfshm_client *c, struct sfp_buf *b, struct sf_reply *rep)
{
	struct sf_reply local = { 0 };
	uint16_t type;
	int len = sfp_end(b);
	int err;

	c->errmsg[0] = '\0';
	if (len < 0)
		return len;
	memcpy(&type, c->tx + 4, sizeof(type));
	err = send_msg(c, (uint32_t)len);
	if (!err)
		err = gather(c, type, sf_deadline(c->timeout_ms), &local);
	if (err || !rep)
		sf_reply_free(&local);
	else
		*rep = local;
	return err;
}

int sf_send_async(struct sfshm_client *c, struct sfp_buf *b)
{
	int len = sfp_end(b);

	c->errmsg[0] = '\0';
	return len < 0 ? len : send_msg(c, (uint32_t)len);
}

int sf_call_parse(struct sfshm_client *c, struct sfp_buf *b, sf_reply_fn parse,
		  void *arg)
{
	struct sf_reply rep;
	int err = sf_call(c, b, &rep);

	if (err)
		return err;
	err = parse(c, &rep, arg);
	sf_reply_free(&rep);
	return err;
}

/* ---- connecting --------------------------------------------------------- */

static const char *pick_run_dir(const struct sfshm_client_opts *o)
{
	const char *env;

	if (o->run_dir && o->run_dir[0])
		return o->run_dir;
	env = getenv(SFSHM_RUN_DIR_ENV);
	if (env && env[0])
		return env;
	return SFSHM_DEFAULT_RUN_DIR;
}

static int open_socket(const char *run_dir, int *out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, n;

	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", run_dir,
		     SOCK_NAME);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		if (err == -EINTR)
			continue;
		close(fd);
		return err;
	}
	*out = fd;
	return 0;
}

static int parse_hello(struct sfshm_client *c, const struct sf_reply *rep,
		       void *arg)
{
	int err = sfp_get_s32(&rep->msg[0].m.t, SFA_BROKER_ID, &c->broker_id);

	(void)arg;
	return err == -ENOENT ? 0 : err;
}

static int hello(struct sfshm_client *c, const char *client_id)
{
	struct sfp_buf b;

	sf_req_begin(c, &b, SFP_HELLO);
	sfp_put_u32(&b, SFA_VERSION, SFP_VERSION);
	sfp_put_str(&b, SFA_CLIENT_ID, client_id);
	return sf_call_parse(c, &b, parse_hello, NULL);
}

int sfshm_connect(const struct sfshm_client_opts *opts,
		  struct sfshm_client **out)
{
	struct sfshm_client_opts o = { .size = sizeof(o) };
	struct sfshm_client *c;
	const char *dir;
	int err;

	if (opts && (err = sf_opts_copy(&o, sizeof(o), opts)))
		return err;
	dir = pick_run_dir(&o);
	if (strlen(dir) >= sizeof(c->run_dir))
		return -ENAMETOOLONG;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = o.timeout_ms > 0 ? o.timeout_ms :
					   SF_DEFAULT_REQ_TIMEOUT_MS;
	snprintf(c->run_dir, sizeof(c->run_dir), "%s", dir);
	err = open_socket(dir, &c->fd);
	if (err) {
		free(c);
		return err;
	}
	err = hello(c,
		    o.client_id ? o.client_id : program_invocation_short_name);
	if (err) {
		sfshm_disconnect(c);
		return err;
	}
	*out = c;
	return 0;
}

void sfshm_disconnect(struct sfshm_client *c)
{
	if (!c)
		return;
	while (c->notices) {
		struct sf_notice *n = c->notices;

		c->notices = n->next;
		free(n->buf);
		free(n);
	}
	close(c->fd);
	free(c);
}

const char *sfshm_last_error(const struct sfshm_client *c)
{
	return c ? c->errmsg : "";
}

/* ---- topics ------------------------------------------------------------- */

void sfshm_topic_config_init(struct sfshm_topic_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = sizeof(*cfg);
}

static bool name_char_ok(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
}

int sfshm_topic_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return -EINVAL;
	n = strnlen(name, SFSHM_TOPIC_MAX + 1);
	if (n == 0 || n > SFSHM_TOPIC_MAX || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!name_char_ok(name[i]))
			return -EINVAL;
	return 0;
}

/* Check a topic name before it goes into a request. */
static int check_name(struct sfshm_client *c, const char *name)
{
	if (sfshm_topic_name_valid(name)) {
		sf_set_error(c,
			     "invalid topic name: 1 to %d characters of "
			     "[a-zA-Z0-9._-], not \".\" or \"..\"",
			     SFSHM_TOPIC_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Start a request of @type about the topic @name, checked first. */
static int begin_topic(struct sfshm_client *c, struct sfp_buf *b, uint16_t type,
		       const char *name)
{
	int err;

	c->errmsg[0] = '\0';
	err = check_name(c, name);
	if (err)
		return err;
	sf_req_begin(c, b, type);
	sfp_put_str(b, SFA_TOPIC, name);
	return 0;
}

int sfshm_topic_create(struct sfshm_client *c, const char *name,
		       const struct sfshm_topic_config *cfg)
{
	struct sfshm_topic_config conf;
	struct sfp_buf b;
	int err = begin_topic(c, &b, SFP_TOPIC_CREATE, name);

	if (err)
		return err;
	sfshm_topic_config_init(&conf);
	if (cfg && sf_opts_copy(&conf, sizeof(conf), cfg)) {
		sf_set_error(c, "bad struct sfshm_topic_config size");
		return -EINVAL;
	}
	put_fields(&b, config_fields, NFIELDS(config_fields), &conf);
	return sf_call(c, &b, NULL);
}

int sfshm_topic_delete(struct sfshm_client *c, const char *name)
{
	struct sfp_buf b;
	int err = begin_topic(c, &b, SFP_TOPIC_DELETE, name);

	return err ? err : sf_call(c, &b, NULL);
}

void sfshm_free_list(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

/* Add a copy of @s to the NULL-terminated array @*v of @*n names. */
static int list_add(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strdup(s);
	if (!nv[*n])
		return -ENOMEM;
	nv[++*n] = NULL;
	return 0;
}

/* The topic name nested in an SFA_TOPIC_INFO attribute. */
static int topic_info_name(const struct sfp_attr *a, const char **name)
{
	struct sfp_table t;
	int err = sfp_parse_nested(a, &t);

	return err ? err : sfp_get_str(&t, SFA_TOPIC, name);
}

static int list_names(const struct sf_reply *rep, char ***v, size_t *n)
{
	for (unsigned i = 0; i < rep->n; i++) {
		const struct sfp_msg *m = &rep->msg[i].m;
		struct sfp_iter it;
		struct sfp_attr a;

		sfp_iter_init(&it, m->attrs, m->attrs_len);
		while (sfp_iter_next(&it, &a)) {
			const char *name;
			int err;

			if (a.type != SFA_TOPIC_INFO)
				continue;
			err = topic_info_name(&a, &name);
			if (!err)
				err = list_add(v, n, name);
			if (err)
				return err == -ENOENT ? -EPROTO : err;
		}
	}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of a TOPIC_LIST reply into *(char ***)@arg. */
static int parse_list(struct sfshm_client *c, const struct sf_reply *rep,
		      void *arg)
{
	char **v = calloc(1, sizeof(*v));
	size_t n = 0;
	int err = v ? list_names(rep, &v, &n) : -ENOMEM;

	(void)c;
	if (err) {
		sfshm_free_list(v);
		return err;
	}
	qsort(v, n, sizeof(*v), cmp_names);
	*(char ***)arg = v;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int sfshm_topic_list(struct sfshm_client *c, char ***names)
{
	struct sfp_buf b;

	sf_req_begin(c, &b, SFP_TOPIC_LIST);
	return sf_call_parse(c, &b, parse_list, names);
}

void sfshm_topic_info_free(struct sfshm_topic_info *info)
{
	if (!info)
		return;
	free(info->partitions);
	free(info);
}

/* Name, config and partition count from the reply's SFA_TOPIC_INFO. */
static int parse_topic(const struct sf_reply *rep, struct sfshm_topic_info *ti)
{
	const struct sfp_table *top = &rep->msg[0].m.t;
	struct sfp_table t;
	int err;

	if (!top->present[SFA_TOPIC_INFO])
		return -EPROTO;
	err = sfp_parse_nested(&top->a[SFA_TOPIC_INFO], &t);
	if (!err)
		err = get_str_into(&t, SFA_TOPIC, ti->name, sizeof(ti->name));
	if (!err)
		err = get_fields(&t, config_fields, NFIELDS(config_fields),
				 &ti->config);
	if (err)
		return err;
	ti->config.size = sizeof(ti->config);
	ti->partition_count = ti->config.partitions;
	if (ti->partition_count == 0 ||
	    ti->partition_count > SFSHM_PARTITIONS_MAX)
		return -EPROTO;
	return 0;
}

/* Duplicate an optional string attribute (NULL if absent). */
static int dup_str(const struct sfp_table *t, int type, char **out)
{
	const char *s;
	int err = sfp_get_str(t, type, &s);

	if (err)
		return err;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

static int parse_files(const struct sfp_table *t, struct sf_part_files *f)
{
	int err = dup_str(t, SFA_RING_PATH, &f->ring_path);

	if (!err)
		err = dup_str(t, SFA_CTL_PATH, &f->ctl_path);
	if (!err)
		err = dup_str(t, SFA_LOG_DIR, &f->log_dir);
	return err == -ENOENT ? -EPROTO : err;
}

/* One SFA_PART_INFO into @ti (and @files when attaching). */
static int parse_part(const struct sfp_attr *a, struct sfshm_topic_info *ti,
		      struct sf_part_files *files, uint8_t *seen)
{
	struct sfshm_partition_info *pi;
	struct sfp_table t;
	uint32_t idx;
	int err = sfp_parse_nested(a, &t);

	if (!err)
		err = sfp_get_u32(&t, SFA_PARTITION, &idx);
	if (err)
		return -EPROTO;
	if (idx >= ti->partition_count || seen[idx])
		return -EPROTO;
	seen[idx] = 1;
	pi = &ti->partitions[idx];
	pi->partition = idx;
	err = get_fields(&t, part_fields, NFIELDS(part_fields), pi);
	if (!err && files)
		err = parse_files(&t, &files[idx]);
	return err;
}

static int parse_parts(const struct sf_reply *rep, struct sfshm_topic_info *ti,
		       struct sf_part_files *files, uint8_t *seen)
{
	for (unsigned i = 0; i < rep->n; i++) {
		const struct sfp_msg *m = &rep->msg[i].m;
		struct sfp_iter it;
		struct sfp_attr a;

		sfp_iter_init(&it, m->attrs, m->attrs_len);
		while (sfp_iter_next(&it, &a)) {
			int err = a.type == SFA_PART_INFO ?
					  parse_part(&a, ti, files, seen) :
					  0;

			if (err)
				return err;
		}
	}
	for (uint32_t i = 0; i < ti->partition_count; i++)
		if (!seen[i])
			return -EPROTO;
	return 0;
}

static void free_files(struct sf_part_files *f, uint32_t n)
{
	if (!f)
		return;
	for (uint32_t i = 0; i < n; i++) {
		free(f[i].ring_path);
		free(f[i].ctl_path);
		free(f[i].log_dir);
	}
	free(f);
}

/*
 * Build a topic description (and, for an attach, the partitions' files)
 * from a DESCRIBE or ATTACH reply.
 */
static int parse_description(const struct sf_reply *rep,
			     struct sfshm_topic_info **out,
			     struct sf_part_files **files_out)
{
	struct sfshm_topic_info *ti = calloc(1, sizeof(*ti));
	struct sf_part_files *files = NULL;
	uint8_t *seen = NULL;
	int err = ti ? parse_topic(rep, ti) : -ENOMEM;

	if (!err) {
		uint32_t n = ti->partition_count;

		ti->partitions = calloc(n, sizeof(*ti->partitions));
		seen = calloc(n, 1);
		if (files_out)
			files = calloc(n, sizeof(*files));
		if (!ti->partitions || !seen || (files_out && !files))
			err = -ENOMEM;
	}
	if (!err)
		err = parse_parts(rep, ti, files, seen);
	free(seen);
	if (err) {
		free_files(files, ti ? ti->partition_count : 0);
		sfshm_topic_info_free(ti);
		return err;
	}
	*out = ti;
	if (files_out)
		*files_out = files;
	return 0;
}

static int parse_describe(struct sfshm_client *c, const struct sf_reply *rep,
			  void *arg)
{
	int err = parse_description(rep, arg, NULL);

	if (err)
		sf_set_error(c, "malformed describe reply");
	return err;
}

int sfshm_topic_describe(struct sfshm_client *c, const char *name,
			 struct sfshm_topic_info **out)
{
	struct sfp_buf b;
	int err = begin_topic(c, &b, SFP_TOPIC_DESCRIBE, name);

	return err ? err : sf_call_parse(c, &b, parse_describe, out);
}

/* A BROKER_INFO reply into the struct sfshm_broker_info at @arg. */
static int parse_broker(struct sfshm_client *c, const struct sf_reply *rep,
			void *arg)
{
	struct sfshm_broker_info bi = { 0 };
	const struct sfp_table *t = &rep->msg[0].m.t;
	int err = get_fields(t, broker_fields, NFIELDS(broker_fields), &bi);

	(void)c;
	if (!err)
		err = get_str_into(t, SFA_SOFTWARE, bi.software,
				   sizeof(bi.software));
	if (!err)
		err = get_str_into(t, SFA_DATA_DIR, bi.data_dir,
				   sizeof(bi.data_dir));
	if (!err)
		err = get_str_into(t, SFA_RUN_DIR, bi.run_dir,
				   sizeof(bi.run_dir));
	if (!err)
		*(struct sfshm_broker_info *)arg = bi;
	return err;
}

int sfshm_broker_info(struct sfshm_client *c, struct sfshm_broker_info *out)
{
	struct sfp_buf b;

	sf_req_begin(c, &b, SFP_BROKER_INFO);
	return sf_call_parse(c, &b, parse_broker, out);
}

/* ---- attaching ---------------------------------------------------------- */

/* An attach in flight: what parse_attach() fills, or detaches from. */
struct attach_req {
	const char *topic;
	enum sfshm_role role;
	struct sf_attach *a;
};

static int parse_attach(struct sfshm_client *c, const struct sf_reply *rep,
			void *arg)
{
	struct attach_req *r = arg;
	int err = parse_description(rep, &r->a->info, &r->a->files);

	if (err) {
		sf_set_error(c, "malformed attach reply");
		sf_detach(c, r->topic, r->role);
	}
	return err;
}

int sf_attach(struct sfshm_client *c, const char *topic, enum sfshm_role role,
	      struct sf_attach *a)
{
	struct attach_req r = { topic, role, a };
	struct sfp_buf b;
	int err = begin_topic(c, &b, SFP_ATTACH, topic);

	if (err)
		return err;
	sfp_put_u32(&b, SFA_ROLE, (uint32_t)role);
	return sf_call_parse(c, &b, parse_attach, &r);
}

void sf_attach_free(struct sf_attach *a)
{
	if (!a || !a->info)
		return;
	free_files(a->files, a->info->partition_count);
	sfshm_topic_info_free(a->info);
	a->files = NULL;
	a->info = NULL;
}

int sf_detach(struct sfshm_client *c, const char *topic, enum sfshm_role role)
{
	struct sfp_buf b;

	sf_req_begin(c, &b, SFP_DETACH);
	sfp_put_str(&b, SFA_TOPIC, topic);
	sfp_put_u32(&b, SFA_ROLE, (uint32_t)role);
	return sf_call(c, &b, NULL);
}

static int open_file(struct sfshm_client *c, const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0) {
		int err = -errno;

		sf_set_error(c, "open %s: %s", path, strerror(-err));
		return err;
	}
	return fd;
}

int sf_map_partition(struct sfshm_client *c, const struct sf_part_files *f,
		     enum sfshm_role role, struct sfshm_ring **out)
{
	int rflags = role == SFSHM_ROLE_READER ? O_RDONLY : O_RDWR;
	int rfd, cfd, err;

	rfd = open_file(c, f->ring_path, rflags);
	if (rfd < 0)
		return rfd;
	cfd = open_file(c, f->ctl_path, O_RDWR);
	if (cfd < 0) {
		close(rfd);
		return cfd;
	}
	err = sfshm_ring_map(rfd, cfd, role, out);
	if (err)
		sf_set_error(c, "map %s: %s", f->ring_path,
			     sfshm_strerror(err));
	close(rfd);
	close(cfd);
	return err;
}

static int parse_offset(struct sfshm_client *c, const struct sf_reply *rep,
			void *arg)
{
	int err = sfp_get_s64(&rep->msg[0].m.t, SFA_OFFSET, arg);

	(void)c;
	return err == -ENOENT ? -EPROTO : err;
}

int sf_list_offsets(struct sfshm_client *c, const char *topic,
		    uint32_t partition, int64_t ts_ms, int64_t *offset)
{
	struct sfp_buf b;

	sf_req_begin(c, &b, SFP_LIST_OFFSETS);
	sfp_put_str(&b, SFA_TOPIC, topic);
	sfp_put_u32(&b, SFA_PARTITION, partition);
	sfp_put_s64(&b, SFA_TIMESTAMP, ts_ms);
	return sf_call_parse(c, &b, parse_offset, offset);
}
