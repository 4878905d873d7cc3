/* SPDX-License-Identifier: MIT */
/*
 * client_int.h - what client.c gives producer.c and consumer.c: the
 * control connection, requests with multi-message replies, attaching to
 * a topic and mapping its partition rings.
 */
#ifndef SF_CLIENT_INT_H
#define SF_CLIENT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sfshm/sfshm.h>

#include "proto.h"

#define SF_ERRMSG_MAX 256
#define SF_DEFAULT_REQ_TIMEOUT_MS 5000

/* An unsolicited message from the daemon (SFP_GROUP_NOTIFY), queued. */
struct sf_notice {
	struct sf_notice *next;
	uint8_t *buf;
	struct sfp_msg m;
};

struct sfshm_client {
	int fd;
	struct sf_notice *notices; /* oldest first */
	struct sf_notice **notices_tail;
	int async_err; /* first failure of an asynchronous request */
	int timeout_ms; /* per control request */
	uint32_t seq; /* of the last request sent */
	int32_t broker_id;
	char errmsg[SF_ERRMSG_MAX]; /* sfshm_last_error() */
	char run_dir[256];
	uint8_t tx[SFP_MAX_MSG]; /* request being built */
	uint8_t rx[SFP_MAX_MSG]; /* message being received */
};

/* One message of a reply, parsed; @m points into @buf. */
struct sf_reply_msg {
	uint8_t *buf;
	struct sfp_msg m;
};

/* A whole reply: every message of it, in order. */
struct sf_reply {
	unsigned n;
	struct sf_reply_msg *msg;
};

/* Where an attached partition's files are (from an SFP_ATTACH reply). */
struct sf_part_files {
	char *ring_path;
	char *ctl_path;
	char *log_dir;
};

/* A topic attached to: its description and the files of each partition. */
struct sf_attach {
	struct sfshm_topic_info *info;
	struct sf_part_files *files; /* info->partition_count entries */
};

/* Start a request of @type in @c->tx; add attributes to @b, then sf_call. */
void sf_req_begin(struct sfshm_client *c, struct sfp_buf *b, uint16_t type);

/*
 * sf_call() - send the request in @b and gather its reply.
 * @rep: the reply on success (free with sf_reply_free()); may be NULL
 *       when only the status matters.
 * Return: 0; the daemon's -errno status (its SFA_ERRMSG kept for
 * sfshm_last_error()); -ETIMEDOUT; -EPROTO; -ECONNRESET if the daemon
 * closed the connection; -ENOMEM.
 */
int sf_call(struct sfshm_client *c, struct sfp_buf *b, struct sf_reply *rep);

/* What to make of a successful reply (@arg: where the result goes). */
typedef int (*sf_reply_fn)(struct sfshm_client *c, const struct sf_reply *rep,
			   void *arg);

/*
 * sf_call_parse() - sf_call() the request in @b, hand its reply to
 * @parse, free it.  Return: sf_call()'s error, else what @parse returns.
 */
int sf_call_parse(struct sfshm_client *c, struct sfp_buf *b, sf_reply_fn parse,
		  void *arg);

void sf_reply_free(struct sf_reply *rep);

/*
 * sf_send_async() - send the request in @b without waiting for its reply;
 * a failure it gets is kept in c->async_err (see sf_take_async_err()).
 * Return: 0 or -errno of sending.
 */
int sf_send_async(struct sfshm_client *c, struct sfp_buf *b);

/* The first error of an asynchronous request since the last call, or 0. */
int sf_take_async_err(struct sfshm_client *c);

/*
 * sf_notice_next() - the next unsolicited message, without waiting:
 * queued ones first, then what the socket holds (replies to
 * asynchronous requests met on the way are consumed).
 * @out: the message; free(out->buf) when done.
 * Return: 1 with a message, 0 if none, -errno (connection lost).
 */
int sf_notice_next(struct sfshm_client *c, struct sf_reply_msg *out);

/* Set sfshm_last_error() to a message of our own. */
void sf_set_error(struct sfshm_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * sf_attach() - SFP_ATTACH @topic as @role (SFSHM_ROLE_PRODUCER or
 * SFSHM_ROLE_READER).  Return: 0 or -errno; @a is set on success only.
 */
int sf_attach(struct sfshm_client *c, const char *topic, enum sfshm_role role,
	      struct sf_attach *a);
void sf_attach_free(struct sf_attach *a);

/* SFP_DETACH.  Return: 0 or -errno. */
int sf_detach(struct sfshm_client *c, const char *topic, enum sfshm_role role);

/*
 * sf_map_partition() - open a partition's ring and ctl files and map the
 * ring in @role (read-only ring file for readers).
 * Return: 0; -EACCES; -errno of open/mmap; -EPROTO/-EBADMSG of the ring.
 */
int sf_map_partition(struct sfshm_client *c, const struct sf_part_files *f,
		     enum sfshm_role role, struct sfshm_ring **out);

/*
 * sf_list_offsets() - SFP_LIST_OFFSETS: the first offset of @partition
 * whose timestamp is >= @ts_ms (-1: the log end, -2: the log start).
 */
int sf_list_offsets(struct sfshm_client *c, const char *topic,
		    uint32_t partition, int64_t ts_ms, int64_t *offset);

/*
 * sf_opts_copy() - copy a caller's options struct (which starts with its
 * u32 size) into our zeroed @dst of @dst_size bytes.  A smaller struct
 * (an older caller) leaves our newer fields zero; a larger one (a newer
 * caller) is accepted only if the fields we do not know are zero.
 * Return: 0, or -EINVAL (size 0, or unknown fields set).
 */
int sf_opts_copy(void *dst, size_t dst_size, const void *src);

/* A deadline for @timeout_ms from now (-1: none); CLOCK_MONOTONIC ns. */
uint64_t sf_deadline(int timeout_ms);

/* What is left of @deadline in ms, for poll() and slices (-1: for ever). */
int sf_remaining_ms(uint64_t deadline);

/* The ring state as an error: 0 live, -ENOENT deleted, -ESHUTDOWN stopped. */
int sf_ring_state_err(const struct sfshm_ring *r);

#endif /* SF_CLIENT_INT_H */
