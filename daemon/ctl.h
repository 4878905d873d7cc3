/* SPDX-License-Identifier: MIT */
/*
 * ctl.h - what the control socket's request handlers share (server.c and
 * group.c): the reply builder and the view of a connected client.
 */
#ifndef SFD_CTL_H
#define SFD_CTL_H

#include <stdbool.h>
#include <sys/types.h>

#include "proto.h"
#include "server.h"

/* A reply being built; split into several messages when it is long. */
struct sfd_reply {
	struct sfp_buf b;
	uint8_t buf[SFP_MAX_MSG];
	uint16_t type;
	uint32_t seq;
	sfd_send_fn send;
	void *arg;
	int err; /* of sending */
};

void sfd_reply_begin(struct sfd_reply *r, int status);
/* Send the message built so far; @more: another message follows. */
void sfd_reply_flush(struct sfd_reply *r, bool more);
/* Before adding an element: start a new message if little room is left. */
void sfd_reply_room(struct sfd_reply *r);
/* A whole error reply.  Return: @err. */
int sfd_reply_error(struct sfd_reply *r, int err, const char *msg);

/* A connected client, as request handlers see it (NULL: an in-process
 * administrator, e.g. the fuzzer). */
bool sfd_client_admin(const struct sfd_client *cl);
pid_t sfd_client_pid(const struct sfd_client *cl);
const char *sfd_client_id(const struct sfd_client *cl);

/*
 * sfd_client_notify() - send an unsolicited message to a client (queued
 * behind its unread replies).  Failures are left to the connection's own
 * hang-up handling.
 */
void sfd_client_notify(struct sfd_server *s, struct sfd_client *cl,
		       const void *msg, size_t len);

#endif
