/* SPDX-License-Identifier: MIT */
/*
 * group.h - the consumer-group coordinator (runs on the control thread).
 */
#ifndef SFD_GROUP_H
#define SFD_GROUP_H

#include <stdint.h>

#include "ctl.h"
#include "topic.h"

struct sfd_groups;

/* Open the coordinator and its committed-offsets store.  Return: 0/-errno. */
int sfd_groups_open(struct sfd_registry *reg, struct sfd_server *srv,
		    struct sfd_groups **out);
void sfd_groups_close(struct sfd_groups *g);

/* Is @type a request the coordinator answers? */
bool sfd_group_request(uint16_t type);

/* Answer a group or offset request. */
int sfd_group_handle(struct sfd_groups *g, struct sfd_client *cl,
		     const struct sfp_msg *m, struct sfd_reply *r);

/* A client's connection closed: its members leave (or go away, static). */
void sfd_groups_client_gone(struct sfd_groups *g, struct sfd_client *cl);

/* A topic was created or deleted: groups subscribed to it rebalance. */
void sfd_groups_topic_changed(struct sfd_groups *g, const char *topic);

/*
 * Run timers (max poll interval, static members' grace, rebalance
 * deadlines).  Return: ms until the next timer is due (-1: none).
 */
int sfd_groups_tick(struct sfd_groups *g);

#endif
