/* SPDX-License-Identifier: MIT */
/*
 * server.h - sfshmd's control socket.
 */
#ifndef SFD_SERVER_H
#define SFD_SERVER_H

#include "topic.h"

struct sfd_server;

/*
 * sfd_server_open() - bind <run-dir>/sfshmd.sock (mode 0666: permissions
 * are checked per request) and prepare the event loop.
 * Return: 0 or -errno.
 */
int sfd_server_open(struct sfd_registry *reg, struct sfd_server **out);

/*
 * sfd_server_run() - serve clients until SIGTERM or SIGINT (which the
 * caller has blocked).  Return: 0 on a stop signal, -errno on failure.
 */
int sfd_server_run(struct sfd_server *s);

/* Close every client and remove the socket; accepts NULL. */
void sfd_server_close(struct sfd_server *s);

/*
 * sfd_handle() - answer one request from a client (the protocol's
 * decoder entry point; also what the fuzzer drives).
 * @s:     the server.
 * @cl:    the client, NULL for a fuzzing stand-in.
 * @buf, @len: the received message.
 * @out:   called for each reply message.
 */
struct sfd_client;
typedef int (*sfd_send_fn)(void *arg, const void *msg, size_t len);
int sfd_handle(struct sfd_server *s, struct sfd_client *cl, const void *buf,
	       size_t len, sfd_send_fn send, void *arg);

#endif
